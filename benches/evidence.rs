//! Evidence readers on large inputs, each against a plain parse of the same
//! bytes in the same run:
//!
//! ```text
//! cargo bench --bench evidence
//! ```
//!
//! * `trivy_50mb/custodia_read_and_convert`: a 50 MB Trivy JSON report
//!   (generated here: one image, ~33,000 findings with Trivy's fields)
//!   read by `ScanReport::from_slice` (strict: duplicate members checked)
//!   and converted to the vulns v0.2 predicate; baseline
//!   `trivy_50mb/serde_json_value`: `serde_json::from_slice::<Value>`.
//! * `junit_100k/custodia_from_reader`: a JUnit file of 100,000 test cases
//!   (1% failed with a message and output, 2% skipped) streamed from disk by
//!   `JunitReport::from_reader`; baseline `junit_100k/quick_xml_events`: a
//!   plain quick-xml event loop over the same file counting `<testcase>`.
//!
//! Peak memory (the rise in the process's peak resident set, reset through
//! `/proc/self/clear_refs` before each run; Linux only) is printed once per
//! input, beside the file size.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::fmt::Write as _;
use std::hint::black_box;
use std::io::BufReader;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use custodia::evidence::convert;
use custodia::evidence::junit::JunitReport;
use custodia::evidence::scan::ScanReport;

const TRIVY_BYTES: usize = 50 * 1024 * 1024;
const JUNIT_CASES: usize = 100_000;

fn trivy_report() -> Vec<u8> {
    let description = "A flaw was found in the parser: a crafted input can cause excessive memory \
        use or a crash of the process reading it. Fixed upstream; see the references for details. "
        .repeat(3);
    let mut vulns = String::new();
    let mut i = 0usize;
    while vulns.len() < TRIVY_BYTES - 4096 {
        if i > 0 {
            vulns.push(',');
        }
        let (pkg, sev) = (
            i % 700,
            ["LOW", "MEDIUM", "HIGH", "CRITICAL", "UNKNOWN"][i % 5],
        );
        write!(
            vulns,
            r#"{{"VulnerabilityID":"CVE-{}-{:05}","PkgID":"lib{pkg}@1.{pkg}.0-r0","PkgName":"lib{pkg}",
"PkgIdentifier":{{"PURL":"pkg:apk/alpine/lib{pkg}@1.{pkg}.0-r0?arch=x86_64&distro=3.19.1","UID":"{i:016x}"}},
"InstalledVersion":"1.{pkg}.0-r0","FixedVersion":"1.{pkg}.1-r0","Status":"fixed",
"Layer":{{"Digest":"sha256:9d48c3bd43c520dc2784e868a780e976b207cbf493eaff8c6596eb871cbd9609","DiffID":"sha256:03901b4a2ea88eeaad62dbe59b072b28b6efa00491962b8741081c5df50c65e0"}},
"SeveritySource":"nvd","PrimaryURL":"https://avd.aquasec.com/nvd/cve-{}-{:05}","DataSource":{{"ID":"alpine","Name":"Alpine Secdb","URL":"https://secdb.alpinelinux.org/"}},
"Title":"lib{pkg}: parser flaw","Description":"{description}","Severity":"{sev}","CweIDs":["CWE-400"],
"VendorSeverity":{{"nvd":2,"redhat":2}},"CVSS":{{"nvd":{{"V3Vector":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H","V3Score":7.5}}}},
"References":["https://nvd.nist.gov/vuln/detail/CVE-{}-{:05}","https://security.alpinelinux.org/vuln/CVE-{}-{:05}"],
"PublishedDate":"2023-01-09T10:15:10.447Z","LastModifiedDate":"2024-05-17T01:17:24.28Z"}}"#,
            2000 + i % 25,
            i,
            2000 + i % 25,
            i,
            2000 + i % 25,
            i,
            2000 + i % 25,
            i,
        )
        .unwrap();
        i += 1;
    }
    format!(
        r#"{{"SchemaVersion":2,"CreatedAt":"2024-05-01T12:00:00Z","ArtifactName":"registry.example/app:1.4","ArtifactType":"container_image",
"Metadata":{{"OS":{{"Family":"alpine","Name":"3.19.1"}}}},
"Results":[{{"Target":"registry.example/app:1.4 (alpine 3.19.1)","Class":"os-pkgs","Type":"alpine","Vulnerabilities":[{vulns}]}}]}}"#
    )
    .into_bytes()
}

fn junit_report() -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"nextest-run\" tests=\"100000\">\n",
    );
    for suite in 0..100 {
        writeln!(out, "  <testsuite name=\"crate_{suite}\" tests=\"1000\">").unwrap();
        for case in 0..JUNIT_CASES / 100 {
            let n = suite * 1000 + case;
            if n % 100 == 7 {
                write!(
                    out,
                    "    <testcase classname=\"crate_{suite}::module_{}\" name=\"test_{n:06}\" time=\"0.012\">\
<failure message=\"assertion `left == right` failed\" type=\"test failure\">thread 'test_{n:06}' panicked at src/lib.rs:{}:5:\n\
assertion `left == right` failed\n  left: 3\n right: 2</failure><system-out>running 1 test\ntest test_{n:06} ... FAILED\n</system-out></testcase>\n",
                    case % 17,
                    n % 900
                )
                .unwrap();
            } else if n % 50 == 3 {
                writeln!(
                    out,
                    "    <testcase classname=\"crate_{suite}::module_{}\" name=\"test_{n:06}\" time=\"0.000\"><skipped/></testcase>",
                    case % 17
                )
                .unwrap();
            } else {
                writeln!(
                    out,
                    "    <testcase classname=\"crate_{suite}::module_{}\" name=\"test_{n:06}\" time=\"0.004\"/>",
                    case % 17
                )
                .unwrap();
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn proc_status(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The rise of the peak resident set (KiB) while `f` runs, if measurable.
fn peak_rise_kib(f: impl FnOnce()) -> Option<u64> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    let before = proc_status("VmRSS:")?;
    f();
    let peak = proc_status("VmHWM:")?;
    Some(peak.saturating_sub(before))
}

fn plain_junit(path: &Path) -> usize {
    let file = std::fs::File::open(path).unwrap();
    let mut reader = quick_xml::Reader::from_reader(BufReader::with_capacity(64 * 1024, file));
    let mut buf = Vec::new();
    let mut cases = 0;
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf).unwrap() {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)
                if e.name().as_ref() == "testcase" =>
            {
                cases += 1;
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    cases
}

fn custodia_junit(path: &Path) -> JunitReport {
    let file = std::fs::File::open(path).unwrap();
    JunitReport::from_reader(BufReader::new(file)).unwrap()
}

fn report_memory(what: &str, size: usize, ours: Option<u64>, plain: Option<u64>) {
    match (ours, plain) {
        (Some(o), Some(p)) => eprintln!(
            "{what}: file {:.1} MiB; peak memory rise: custodia {:.1} MiB, plain parse {:.1} MiB",
            size as f64 / 1048576.0,
            o as f64 / 1024.0,
            p as f64 / 1024.0
        ),
        _ => {
            eprintln!("{what}: peak memory not measurable here (needs Linux /proc/self/clear_refs)")
        }
    }
}

fn bench(c: &mut Criterion) {
    // JUnit first: its memory is measured before the Trivy phase has grown the heap.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junit.xml");
    let xml = junit_report();
    std::fs::write(&path, &xml).unwrap();
    let size = xml.len();
    drop(xml);
    report_memory(
        "junit_100k",
        size,
        peak_rise_kib(|| {
            black_box(custodia_junit(&path));
        }),
        peak_rise_kib(|| {
            black_box(plain_junit(&path));
        }),
    );
    let run = custodia_junit(&path);
    assert_eq!(run.counts().tests, JUNIT_CASES as u64);
    assert_eq!(run.counts().failures, 1000);
    assert_eq!(plain_junit(&path), JUNIT_CASES);
    drop(run);
    let mut group = c.benchmark_group("junit_100k");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Bytes(size as u64));
    group.bench_function("custodia_from_reader", |b| {
        b.iter(|| custodia_junit(black_box(&path)));
    });
    group.bench_function("quick_xml_events", |b| {
        b.iter(|| plain_junit(black_box(&path)));
    });
    group.finish();

    let trivy = trivy_report();
    let mut group = c.benchmark_group("trivy_50mb");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Bytes(trivy.len() as u64));
    let findings = {
        let scan = ScanReport::from_slice(&trivy, None).unwrap();
        scan.findings().len()
    };
    assert!(findings > 30_000, "{findings}");
    report_memory(
        "trivy_50mb",
        trivy.len(),
        peak_rise_kib(|| {
            let scan = ScanReport::from_slice(&trivy, None).unwrap();
            black_box(convert::vulns(&scan, "trivy.json", None).unwrap());
        }),
        peak_rise_kib(|| {
            black_box(serde_json::from_slice::<serde_json::Value>(&trivy).unwrap());
        }),
    );
    group.bench_function("custodia_read_and_convert", |b| {
        b.iter(|| {
            let scan = ScanReport::from_slice(black_box(&trivy), None).unwrap();
            convert::vulns(&scan, "trivy.json", None).unwrap()
        });
    });
    group.bench_function("serde_json_value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&trivy)).unwrap());
    });
    group.finish();
    drop(trivy);
}

criterion_group!(benches, bench);
criterion_main!(benches);
