//! Evidence from real CI tools: test results from JUnit XML, vulnerability
//! findings from scanners (Trivy, Grype, OSV-Scanner, cargo-audit, SARIF
//! 2.1.0), and VEX statements (OpenVEX 0.2.0, CycloneDX VEX, CSAF 2.0 VEX).
//!
//! Each reader is strict about structure, returns a typed model carrying
//! the SHA-256 of the exact bytes it read ([`Source`]), and never panics on
//! bad input. JUnit is read as a stream (memory bounded by the largest
//! single element, not the file); the JSON formats go through custodia's
//! strict JSON reader into typed structs (no document tree is built).
//! [`convert`] turns the models into the in-toto test-result v0.1 and
//! vulns v0.2 predicates and VEX into an OpenVEX predicate; [`judge`]
//! applies VEX to findings and decides against a maximum severity.
//!
//! ```
//! use custodia::evidence::junit::JunitReport;
//! let xml = br#"<testsuites><testsuite name="s">
//!   <testcase classname="m" name="ok"/>
//!   <testcase classname="m" name="bad"><failure message="x"/></testcase>
//!   <testcase classname="m" name="later"><skipped/></testcase>
//! </testsuite></testsuites>"#;
//! let run = JunitReport::from_slice(xml)?;
//! assert_eq!((run.counts().tests, run.counts().failures, run.counts().skipped), (3, 1, 1));
//! assert_eq!(run.counts().run(), 2);
//! assert!(JunitReport::from_slice(b"<testsuites><testcase").is_err());
//! # Ok::<(), custodia::Error>(())
//! ```

pub mod convert;
pub mod judge;
pub mod junit;
pub mod scan;
pub mod vex;

use std::io::{self, Read};

use crate::digest::{Digest, DigestAlgorithm, DigestSet, Hasher};
use crate::resource::ResourceDescriptor;

/// The exact input a model was read from: its SHA-256 and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    digest: Digest,
    size: u64,
}

impl Source {
    /// The source of these bytes.
    pub fn of_bytes(bytes: &[u8]) -> Self {
        Self {
            digest: DigestAlgorithm::Sha256.hash(bytes),
            size: bytes.len() as u64,
        }
    }

    /// SHA-256 of the bytes read.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// Number of bytes read.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// A resource descriptor naming the input (`name`, usually its file
    /// name) by digest, with its media type.
    pub fn descriptor(&self, name: &str, media_type: &str) -> ResourceDescriptor {
        let mut set = DigestSet::new();
        set.insert(&self.digest);
        let mut rd = ResourceDescriptor::new(name, set);
        rd.media_type = Some(media_type.to_owned());
        rd
    }
}

/// A reader that hashes what passes through it (so a streamed input is
/// named by the digest of exactly the bytes parsed).
struct HashingReader<R> {
    inner: R,
    hasher: Hasher,
    size: u64,
}

impl<R: Read> HashingReader<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Hasher::new(DigestAlgorithm::Sha256),
            size: 0,
        }
    }

    /// Reads whatever is left (so the digest covers the whole input) and
    /// returns the source.
    fn finish(mut self) -> io::Result<Source> {
        io::copy(
            &mut self.inner,
            &mut HashSink(&mut self.hasher, &mut self.size),
        )?;
        Ok(Source {
            digest: self.hasher.finish(),
            size: self.size,
        })
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(read) = buf.get(..n) {
            self.hasher.update(read);
        }
        self.size = self.size.saturating_add(n as u64);
        Ok(n)
    }
}

struct HashSink<'a>(&'a mut Hasher, &'a mut u64);

impl io::Write for HashSink<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        *self.1 = self.1.saturating_add(buf.len() as u64);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Fuzzing entry points (one per reader); not part of the stable API.
#[doc(hidden)]
pub mod fuzzing {
    /// JUnit XML, every case kept and plain passes only counted: the same
    /// verdict and counts either way.
    pub fn junit(data: &[u8]) {
        use super::junit::{JunitReport, KeepCases};
        let all = JunitReport::from_slice(data);
        let counted = JunitReport::from_reader_keeping(data, KeepCases::not_passed());
        assert_eq!(all.is_ok(), counted.is_ok(), "same verdict in both modes");
        if let (Ok(all), Ok(counted)) = (all, counted) {
            let c = all.counts();
            assert_eq!(
                c.tests,
                c.passed + c.failures + c.errors + c.skipped,
                "counts add up"
            );
            assert_eq!(counted.counts(), c, "same counts in both modes");
            let copied = super::convert::test_result(&[("f", &all)], None);
            assert_eq!(
                super::convert::into_test_result(vec![("f", all)], None),
                copied
            );
            let _ = super::convert::into_test_result(vec![("f", counted)], None);
        }
    }

    /// Every scanner format, detected.
    pub fn scan(data: &[u8]) {
        if let Ok(scan) = super::scan::ScanReport::from_slice(data, None) {
            let _ = super::convert::vulns(&scan, "report.json", None);
        }
    }

    /// SARIF.
    pub fn sarif(data: &[u8]) {
        let _ = super::scan::SarifLog::from_slice(data);
    }

    /// Every VEX format, detected.
    pub fn vex(data: &[u8]) {
        if let Ok(doc) = super::vex::VexDocument::from_slice(data, None) {
            let _ = super::convert::openvex(&doc);
        }
    }
}
