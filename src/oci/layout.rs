//! OCI image layout directories: read, verify, resolve, attach.

use std::fs;
use std::io::{self, Read, Write as _};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::digest::{Digest, DigestSet, Hasher, shorten};
use crate::error::Error;
use crate::report::{Check, Report};

use super::OciDigest;
use super::error::{OciError, invalid};
use super::referrers::{Attachment, Referrer, ReferrerFilter, ReferrerManifest, referrer_manifest};
use super::spec::{
    ANNOTATION_REF_NAME, Descriptor, EMPTY_JSON, ImageIndex, ImageManifest, LayoutHeader, Manifest,
};

/// The largest manifest or index custodia reads (the distribution spec's
/// registries commonly refuse larger ones).
pub const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;
/// The largest `index.json` custodia reads (it lists every referrer
/// attached in the layout, so it may be larger than one manifest).
pub const MAX_INDEX_JSON_BYTES: u64 = 64 * 1024 * 1024;
/// The largest attached blob (envelope, bundle) custodia reads whole.
pub const MAX_ATTACHMENT_BYTES: u64 = crate::dsse::MAX_ENVELOPE_BYTES as u64;
/// How long a writer waits for another writer's `index.json.lock`.
const LOCK_TIMEOUT: Duration = Duration::from_secs(30);

const INDEX_JSON: &str = "index.json";
const OCI_LAYOUT: &str = "oci-layout";
const BLOBS: &str = "blobs";

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The cosign `kind` annotation `cosign save` puts on a layout's entries.
const COSIGN_KIND: &str = "kind";

/// An OCI image layout directory (`oci-layout`, `index.json`,
/// `blobs/<alg>/<encoded>`).
///
/// Every blob read is checked against its descriptor's size and digest
/// before it is used; manifests are read only up to
/// [`MAX_MANIFEST_BYTES`]. A blob's path is built from a digest whose
/// algorithm is one custodia computes and whose encoded part is lowercase
/// hex, so it never leaves `blobs/`, and symbolic links inside the layout
/// are refused. Problems are reported as [`OciError::At`] with the file's
/// path relative to the layout.
///
/// ```
/// use custodia::oci::{ImageBuilder, Layout};
/// let dir = tempfile::tempdir()?;
/// let layout = Layout::create(dir.path())?;
/// let image = ImageBuilder::new().file("hello.txt", b"hello").write_to(&layout, "v1")?;
/// let identity = layout.identity(Some("v1"))?;
/// assert_eq!(identity.descriptor.digest, image.digest);
/// assert!(layout.verify(Some("v1"))?.report().verified());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
}

/// What a resolved reference identifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactIdentity {
    /// The resolved manifest or index, as `index.json` lists it.
    pub descriptor: Descriptor,
    /// For an index: the manifests it lists (each read and checked), in
    /// order. Empty for an image manifest.
    pub manifests: Vec<Descriptor>,
    /// What reading the manifests noticed that does not refuse the image:
    /// a `layers` check per image manifest, whose reason is a warning for
    /// a zero-layer image ([`ImageManifest::layers_check`]).
    pub checks: Report,
}

impl ArtifactIdentity {
    /// The manifest (or index) digest: the artifact's identity.
    pub fn digest(&self) -> Result<Digest, Error> {
        self.descriptor.digest.to_digest()
    }

    /// The identity as an in-toto digest set (for statements' subjects and
    /// [`crate::verify::Expectation`]).
    pub fn digest_set(&self) -> Result<DigestSet, Error> {
        Ok(self.digest()?.to_set())
    }

    /// The warnings among [`ArtifactIdentity::checks`] (reasons starting
    /// with `warning:`), for a command line to print.
    pub fn warnings(&self) -> impl Iterator<Item = &Check> {
        self.checks
            .checks()
            .iter()
            .filter(|c| c.reason.starts_with("warning:"))
    }

    /// Whether the identity is an index (a multi-platform image).
    pub fn is_index(&self) -> bool {
        self.descriptor.is_index()
    }

    /// The platform manifests of an index: those with a platform other
    /// than `unknown/unknown` and not marked as BuildKit attestation
    /// manifests.
    pub fn platform_manifests(&self) -> impl Iterator<Item = &Descriptor> {
        self.manifests.iter().filter(|d| {
            let attestation =
                d.annotation("vnd.docker.reference.type") == Some("attestation-manifest");
            let unknown = d
                .platform
                .as_ref()
                .is_some_and(|p| p.os == "unknown" && p.architecture == "unknown");
            !attestation && !unknown
        })
    }
}

/// One blob a verification looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobCheck {
    /// The blob's path relative to the layout (`blobs/sha256/<hex>`).
    pub path: PathBuf,
    /// Its descriptor.
    pub descriptor: Descriptor,
    /// The manifest or index that listed it (`None`: `index.json`).
    pub from: Option<OciDigest>,
    /// What was wrong, if anything.
    pub problem: Option<BlobProblem>,
}

/// What was wrong with a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BlobProblem {
    /// No file.
    Missing,
    /// Its bytes hash to another digest.
    DigestMismatch {
        /// What they hash to.
        actual: String,
    },
    /// Its length is not the descriptor's size.
    SizeMismatch {
        /// Its length (a lower bound if longer than expected).
        actual: u64,
    },
    /// The digest's algorithm is not one custodia computes.
    Unsupported,
    /// A manifest or index that does not parse, or another problem.
    Invalid(String),
}

/// Every blob reachable from a reference, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayoutVerification {
    /// The blobs, in the order they were reached.
    pub blobs: Vec<BlobCheck>,
}

impl LayoutVerification {
    /// Whether every blob is present and intact.
    pub fn is_ok(&self) -> bool {
        !self.blobs.is_empty() && self.blobs.iter().all(|b| b.problem.is_none())
    }

    /// The blobs with a problem.
    pub fn problems(&self) -> impl Iterator<Item = &BlobCheck> {
        self.blobs.iter().filter(|b| b.problem.is_some())
    }

    /// One `blob` check per blob, failed ones naming the path and problem.
    pub fn report(&self) -> Report {
        let mut report = Report::new();
        for b in &self.blobs {
            let what = format!(
                "{} ({}, {} bytes)",
                b.path.display(),
                b.descriptor.media_type,
                b.descriptor.size
            );
            report.push(match &b.problem {
                None => Check::pass("blob", what),
                Some(p) => Check::fail("blob", format!("{what}: {}", describe(p))),
            });
        }
        report
    }
}

fn describe(p: &BlobProblem) -> String {
    match p {
        BlobProblem::Missing => "missing".to_owned(),
        BlobProblem::DigestMismatch { actual } => format!("corrupt: its bytes hash to {actual}"),
        BlobProblem::SizeMismatch { actual } => format!("wrong size: {actual} bytes"),
        BlobProblem::Unsupported => "digest algorithm not supported".to_owned(),
        BlobProblem::Invalid(reason) => reason.clone(),
    }
}

fn problem_of(error: &Error) -> BlobProblem {
    match error {
        Error::Oci(e) => match e.root_cause() {
            OciError::Missing { .. } => BlobProblem::Missing,
            OciError::DigestMismatch { actual, .. } => BlobProblem::DigestMismatch {
                actual: actual.clone(),
            },
            OciError::SizeMismatch { actual, .. } => BlobProblem::SizeMismatch { actual: *actual },
            OciError::Digest { .. } => BlobProblem::Unsupported,
            other => BlobProblem::Invalid(other.to_string()),
        },
        other => BlobProblem::Invalid(other.to_string()),
    }
}

/// Whether a ref name is a tag for attachments, not an image: cosign v2's
/// `sha256-<hex>.sig` / `.att` / `.sbom`, or the referrers tag schema's
/// `sha256-<hex>`.
fn is_attachment_tag(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("sha256-") else {
        return false;
    };
    let hex = match rest.split_once('.') {
        Some((hex, "sig" | "att" | "sbom")) => hex,
        Some(_) => return false,
        None => rest,
    };
    hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Adds the `layers` check of an image manifest (of `child`, in an index)
/// to an identity's checks.
pub(crate) fn identity_check(checks: &mut Report, child: Option<&Descriptor>, manifest: &Manifest) {
    if let Manifest::Image(m) = manifest {
        let mut check = m.layers_check();
        if let Some(child) = child {
            check.reason = format!("{}: {}", shorten(child.digest.as_str()), check.reason);
        }
        checks.push(check);
    }
}

fn io_error(path: &Path) -> impl Fn(io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// Fails if `path` (or a directory between `root` and it) is a symbolic link.
fn refuse_symlinks(root: &Path, relative: &Path) -> Result<(), Error> {
    let mut current = root.to_owned();
    for component in relative.components() {
        let Component::Normal(name) = component else {
            return Err(invalid(
                "OCI image layout",
                relative.display().to_string(),
                "path leaves the layout",
            ));
        };
        current.push(name);
        match fs::symlink_metadata(&current) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(invalid(
                    "OCI image layout",
                    relative.display().to_string(),
                    "symbolic links are not followed",
                ));
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(source) => {
                return Err(Error::Io {
                    path: current,
                    source,
                });
            }
        }
    }
    Ok(())
}

/// Reads at most `limit` bytes of the regular file `path` (no FIFO, device
/// or symbolic link: [`crate::fsread`]); more is [`OciError::TooLarge`].
fn read_bounded(path: &Path, limit: u64, what: &'static str) -> Result<Vec<u8>, Error> {
    crate::fsread::read(path, crate::fsread::Limit::new(what, limit)).map_err(|e| match e {
        Error::TooLarge { what, limit, .. } => OciError::TooLarge {
            what: what.to_owned(),
            limit,
        }
        .into(),
        other => other,
    })
}

/// Opens the regular file `path` ([`crate::fsread::open`]); `None` if it
/// does not exist.
fn open_regular(path: &Path) -> Result<Option<fs::File>, Error> {
    match crate::fsread::open(path) {
        Ok((file, _)) => Ok(Some(file)),
        Err(e) if crate::fsread::is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Checks `bytes` against `descriptor`'s size and digest.
pub(crate) fn check_blob(descriptor: &Descriptor, bytes: &[u8]) -> Result<(), Error> {
    let expected = descriptor.digest.to_digest()?;
    if bytes.len() as u64 != descriptor.size {
        return Err(OciError::SizeMismatch {
            digest: descriptor.digest.to_string(),
            expected: descriptor.size,
            actual: bytes.len() as u64,
        }
        .into());
    }
    let actual = expected.algorithm().hash(bytes);
    if actual != expected {
        return Err(OciError::DigestMismatch {
            digest: descriptor.digest.to_string(),
            actual: actual.to_string(),
        }
        .into());
    }
    Ok(())
}

/// `DIR[:REF]` or `DIR@DIGEST`, as the command line gives a layout image.
///
/// An existing directory named by the whole string has no reference; else
/// the text after the last `@` (if it is a digest) or the last `:` is the
/// reference.
pub fn split_reference(spec: &str) -> (PathBuf, Option<String>) {
    if Path::new(spec).is_dir() {
        return (PathBuf::from(spec), None);
    }
    if let Some((dir, digest)) = spec.rsplit_once('@') {
        if digest.parse::<OciDigest>().is_ok() {
            return (PathBuf::from(dir), Some(digest.to_owned()));
        }
    }
    match spec.rsplit_once(':') {
        Some((dir, reference)) if !dir.is_empty() => {
            (PathBuf::from(dir), Some(reference.to_owned()))
        }
        _ => (PathBuf::from(spec), None),
    }
}

impl Layout {
    /// Opens an existing layout: `oci-layout` must say version 1.0.0 and
    /// `index.json` must parse.
    pub fn open(root: impl AsRef<Path>) -> Result<Self, Error> {
        let layout = Self {
            root: root.as_ref().to_owned(),
        };
        if !layout.root.is_dir() {
            return Err(invalid(
                "OCI image layout",
                "",
                format!("{} is not a directory", layout.root.display()),
            ));
        }
        let header = layout.read_file(Path::new(OCI_LAYOUT), 4096, "oci-layout")?;
        LayoutHeader::from_json(&header).map_err(|e| OciError::at(OCI_LAYOUT, e))?;
        layout.index()?;
        Ok(layout)
    }

    /// Creates a layout in `root` (the directory may exist, and may
    /// already be a layout, which is then opened).
    pub fn create(root: impl AsRef<Path>) -> Result<Self, Error> {
        let root = root.as_ref().to_owned();
        if root.join(OCI_LAYOUT).exists() {
            return Self::open(&root);
        }
        let blobs = root.join(BLOBS).join("sha256");
        fs::create_dir_all(&blobs).map_err(io_error(&blobs))?;
        let layout = Self { root };
        layout.write_atomic(
            Path::new(OCI_LAYOUT),
            format!("{{\"imageLayoutVersion\":\"{}\"}}", LayoutHeader::VERSION).as_bytes(),
        )?;
        if !layout.root.join(INDEX_JSON).exists() {
            layout.write_atomic(Path::new(INDEX_JSON), &ImageIndex::new().to_json()?)?;
        }
        Ok(layout)
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn read_file(&self, relative: &Path, limit: u64, what: &'static str) -> Result<Vec<u8>, Error> {
        refuse_symlinks(&self.root, relative).map_err(|e| OciError::at(relative, e))?;
        read_bounded(&self.root.join(relative), limit, what).map_err(|e| OciError::at(relative, e))
    }

    /// The parsed `index.json`.
    pub fn index(&self) -> Result<ImageIndex, Error> {
        let bytes = self.read_file(Path::new(INDEX_JSON), MAX_INDEX_JSON_BYTES, INDEX_JSON)?;
        ImageIndex::parse(&bytes, "OCI layout index.json").map_err(|e| OciError::at(INDEX_JSON, e))
    }

    /// The path of a blob relative to the layout: `blobs/<alg>/<hex>`.
    /// Only digests custodia can verify have a path.
    pub fn blob_path(digest: &OciDigest) -> Result<PathBuf, Error> {
        let d = digest.to_digest()?;
        Ok(Path::new(BLOBS).join(d.algorithm().name()).join(d.hex()))
    }

    /// Reads the blob `descriptor` names, checking size and digest, if it
    /// is at most `limit` bytes.
    pub fn read_blob(&self, descriptor: &Descriptor, limit: u64) -> Result<Vec<u8>, Error> {
        let relative = Self::blob_path(&descriptor.digest)?;
        let wrap = |e| OciError::at(&relative, e);
        if descriptor.size > limit {
            return Err(wrap(
                OciError::TooLarge {
                    what: format!("blob {}", descriptor.digest),
                    limit,
                }
                .into(),
            ));
        }
        refuse_symlinks(&self.root, &relative).map_err(wrap)?;
        let path = self.root.join(&relative);
        let file = match open_regular(&path) {
            Ok(Some(f)) => f,
            Ok(None) => {
                return Err(wrap(
                    OciError::Missing {
                        digest: descriptor.digest.to_string(),
                    }
                    .into(),
                ));
            }
            Err(e) => return Err(wrap(e)),
        };
        let mut bytes = Vec::new();
        file.take(descriptor.size.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|source| wrap(Error::Io { path, source }))?;
        check_blob(descriptor, &bytes).map_err(wrap)?;
        Ok(bytes)
    }

    /// Streams the blob through its hash without keeping it (layers).
    pub fn verify_blob(&self, descriptor: &Descriptor) -> Result<(), Error> {
        let relative = Self::blob_path(&descriptor.digest)?;
        let wrap = |e| OciError::at(&relative, e);
        let expected = descriptor.digest.to_digest().map_err(wrap)?;
        refuse_symlinks(&self.root, &relative).map_err(wrap)?;
        let path = self.root.join(&relative);
        let file = match open_regular(&path) {
            Ok(Some(f)) => f,
            Ok(None) => {
                return Err(wrap(
                    OciError::Missing {
                        digest: descriptor.digest.to_string(),
                    }
                    .into(),
                ));
            }
            Err(e) => return Err(wrap(e)),
        };
        let mut reader = file.take(descriptor.size.saturating_add(1));
        let mut hasher = Hasher::new(expected.algorithm());
        let mut buffer = vec![0u8; 256 * 1024];
        let mut total = 0u64;
        loop {
            let n = match reader.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => return Err(wrap(Error::Io { path, source })),
            };
            total += n as u64;
            hasher.update(buffer.get(..n).unwrap_or_default());
        }
        if total != descriptor.size {
            return Err(wrap(
                OciError::SizeMismatch {
                    digest: descriptor.digest.to_string(),
                    expected: descriptor.size,
                    actual: total,
                }
                .into(),
            ));
        }
        let actual = hasher.finish();
        if actual != expected {
            return Err(wrap(
                OciError::DigestMismatch {
                    digest: descriptor.digest.to_string(),
                    actual: actual.to_string(),
                }
                .into(),
            ));
        }
        Ok(())
    }

    /// Reads and parses the manifest or index `descriptor` names.
    pub fn read_manifest(&self, descriptor: &Descriptor) -> Result<Manifest, Error> {
        let bytes = self.read_blob(descriptor, MAX_MANIFEST_BYTES)?;
        Manifest::from_json(&descriptor.media_type, &bytes).map_err(|e| {
            let path = Self::blob_path(&descriptor.digest).unwrap_or_default();
            OciError::at(path, e)
        })
    }

    /// Finds the image `reference` names in `index.json`:
    ///
    /// * a digest (`sha256:<hex>`, optionally after `@`): the entry with
    ///   that digest;
    /// * a name: the entry whose `org.opencontainers.image.ref.name` it is;
    /// * none: the only named entry (names of attachment tags, cosign v2's
    ///   `sha256-<hex>.sig` / `.att` / `.sbom` and the referrers tag
    ///   schema's `sha256-<hex>`, do not count); or, when no entry is named, the only
    ///   image or index that is not an attachment (not a referrer, not a
    ///   cosign signature, attestation or SBOM).
    pub fn resolve(&self, reference: Option<&str>) -> Result<Descriptor, Error> {
        let index = self.index()?;
        let reference = reference.map(|r| r.strip_prefix('@').unwrap_or(r));
        let by_digest = reference.and_then(|r| r.parse::<OciDigest>().ok());
        let candidates: Vec<&Descriptor> = match (reference, &by_digest) {
            (_, Some(digest)) => index
                .manifests
                .iter()
                .filter(|d| &d.digest == digest)
                .collect(),
            (Some(name), None) => index
                .manifests
                .iter()
                .filter(|d| d.ref_name() == Some(name))
                .collect(),
            (None, None) => {
                let named: Vec<&Descriptor> = index
                    .manifests
                    .iter()
                    .filter(|d| d.ref_name().is_some_and(|n| !is_attachment_tag(n)))
                    .collect();
                if named.is_empty() {
                    let mut images = Vec::new();
                    for d in &index.manifests {
                        if self.is_image(d)? {
                            images.push(d);
                        }
                    }
                    images
                } else {
                    named
                }
            }
        };
        let mut distinct: Vec<&Descriptor> = Vec::new();
        for c in candidates {
            if !distinct.iter().any(|d| d.digest == c.digest) {
                distinct.push(c);
            }
        }
        match distinct.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(OciError::NotFound(reference.unwrap_or("").to_owned()).into()),
            many => Err(OciError::Ambiguous {
                reference: reference.unwrap_or("").to_owned(),
                candidates: many
                    .iter()
                    .map(|d| match d.ref_name() {
                        Some(n) => format!("{n} ({})", d.digest),
                        None => d.digest.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            }
            .into()),
        }
    }

    /// Whether an unnamed `index.json` entry is an image (not an attachment).
    fn is_image(&self, d: &Descriptor) -> Result<bool, Error> {
        if !(d.is_manifest() || d.is_index()) || d.artifact_type.is_some() {
            return Ok(false);
        }
        if let Some(kind) = d.annotation(COSIGN_KIND) {
            if let Some(kind) = kind.strip_prefix("dev.cosignproject.cosign/") {
                return Ok(matches!(kind, "image" | "imageIndex"));
            }
        }
        Ok(self.read_manifest(d)?.subject().is_none())
    }

    /// The identity of the image `reference` names: its manifest (or
    /// index) digest, and for an index every manifest it lists. Reads
    /// and checks those manifests, never a layer.
    pub fn identity(&self, reference: Option<&str>) -> Result<ArtifactIdentity, Error> {
        let descriptor = self.resolve(reference)?;
        let manifest = self.read_manifest(&descriptor)?;
        let mut manifests = Vec::new();
        let mut checks = Report::new();
        match manifest {
            Manifest::Index(index) => {
                for child in index.manifests {
                    if child.is_manifest() || child.is_index() {
                        let read = self.read_manifest(&child)?;
                        identity_check(&mut checks, Some(&child), &read);
                    }
                    manifests.push(child);
                }
            }
            image => identity_check(&mut checks, None, &image),
        }
        Ok(ArtifactIdentity {
            descriptor,
            manifests,
            checks,
        })
    }

    /// Checks every blob reachable from `reference` (every entry of
    /// `index.json` when `None`): manifests and indexes are read and
    /// parsed, configs and layers streamed through their hash. Problems
    /// are collected, not returned as the first error; the error is only
    /// for a reference that does not resolve or an unreadable `index.json`.
    pub fn verify(&self, reference: Option<&str>) -> Result<LayoutVerification, Error> {
        let roots = match reference {
            Some(_) => vec![self.resolve(reference)?],
            None => self.index()?.manifests,
        };
        let mut out = LayoutVerification::default();
        let mut seen = std::collections::BTreeSet::new();
        let mut queue: Vec<(Descriptor, Option<OciDigest>)> =
            roots.into_iter().rev().map(|d| (d, None)).collect();
        while let Some((descriptor, from)) = queue.pop() {
            if !seen.insert(descriptor.digest.clone()) {
                continue;
            }
            let path = Self::blob_path(&descriptor.digest)
                .unwrap_or_else(|_| Path::new(BLOBS).join(descriptor.digest.as_str()));
            let mut check = BlobCheck {
                path,
                descriptor: descriptor.clone(),
                from,
                problem: None,
            };
            if descriptor.is_manifest() || descriptor.is_index() {
                match self.read_manifest(&descriptor) {
                    Ok(Manifest::Image(m)) => {
                        let mut children = vec![m.config];
                        children.extend(m.layers);
                        for c in children.into_iter().rev() {
                            queue.push((c, Some(descriptor.digest.clone())));
                        }
                    }
                    Ok(Manifest::Index(i)) => {
                        for c in i.manifests.into_iter().rev() {
                            queue.push((c, Some(descriptor.digest.clone())));
                        }
                    }
                    Err(e) => check.problem = Some(problem_of(&e)),
                }
            } else if let Err(e) = self.verify_blob(&descriptor) {
                check.problem = Some(problem_of(&e));
            }
            out.blobs.push(check);
        }
        Ok(out)
    }

    /// Writes a blob (idempotent) and returns its SHA-256 digest.
    pub fn write_blob(&self, bytes: &[u8]) -> Result<OciDigest, Error> {
        let digest = crate::digest::DigestAlgorithm::Sha256.hash(bytes);
        let oci = OciDigest::from(&digest);
        let relative = Self::blob_path(&oci)?;
        let path = self.root.join(&relative);
        if path.is_file() {
            let same_size = crate::fsread::Limit::new("blob", bytes.len() as u64);
            if let Ok(existing) = crate::fsread::read(&path, same_size) {
                if existing == bytes {
                    return Ok(oci);
                }
            }
        }
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_error(parent))?;
        }
        self.write_atomic(&relative, bytes)?;
        Ok(oci)
    }

    /// Writes a file through a temporary file and a rename.
    fn write_atomic(&self, relative: &Path, bytes: &[u8]) -> Result<(), Error> {
        refuse_symlinks(&self.root, relative).map_err(|e| OciError::at(relative, e))?;
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp = self
            .root
            .join(format!(".custodia-tmp-{}-{n}", std::process::id()));
        let result = (|| {
            let mut file = fs::File::create(&temp).map_err(io_error(&temp))?;
            file.write_all(bytes).map_err(io_error(&temp))?;
            file.sync_all().map_err(io_error(&temp))?;
            let target = self.root.join(relative);
            fs::rename(&temp, &target).map_err(io_error(&target))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result
    }

    /// Runs `update` on `index.json` under `index.json.lock`, then writes
    /// the result atomically. Members custodia does not model are kept.
    fn update_index(
        &self,
        update: impl FnOnce(&mut Vec<serde_json::Value>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let _lock = IndexLock::acquire(&self.root)?;
        let bytes = self.read_file(Path::new(INDEX_JSON), MAX_INDEX_JSON_BYTES, INDEX_JSON)?;
        ImageIndex::parse(&bytes, "OCI layout index.json")
            .map_err(|e| OciError::at(INDEX_JSON, e))?;
        let mut value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
            OciError::at(
                INDEX_JSON,
                invalid("OCI layout index.json", "", e.to_string()),
            )
        })?;
        let manifests = value
            .get_mut("manifests")
            .and_then(serde_json::Value::as_array_mut)
            .ok_or_else(|| {
                OciError::at(
                    INDEX_JSON,
                    invalid("OCI layout index.json", "manifests", "not an array"),
                )
            })?;
        update(manifests)?;
        let out = serde_json::to_vec_pretty(&value).map_err(|e| {
            invalid(
                "OCI layout index.json",
                "",
                format!("not serializable: {e}"),
            )
        })?;
        self.write_atomic(Path::new(INDEX_JSON), &out)
    }

    /// Lists `descriptor` in `index.json`. With a `ref.name` annotation it
    /// replaces any entry of that name (the name moves, like a tag); an
    /// identical entry is not listed twice.
    pub fn add_to_index(&self, descriptor: &Descriptor) -> Result<(), Error> {
        let entry = descriptor_value(descriptor)?;
        let name = descriptor.ref_name().map(str::to_owned);
        self.update_index(|manifests| {
            if let Some(name) = &name {
                manifests.retain(|m| {
                    m.get("annotations")
                        .and_then(|a| a.get(ANNOTATION_REF_NAME))
                        .and_then(serde_json::Value::as_str)
                        != Some(name.as_str())
                });
            }
            if !manifests.contains(&entry) {
                manifests.push(entry);
            }
            Ok(())
        })
    }

    /// Writes a manifest (or index) blob and lists it in `index.json`
    /// under `ref_name` (or unnamed). Returns its descriptor.
    pub fn put_manifest(
        &self,
        media_type: &str,
        bytes: &[u8],
        ref_name: Option<&str>,
    ) -> Result<Descriptor, Error> {
        let mut descriptor = Descriptor::of_bytes(media_type, bytes)?;
        Manifest::from_json(&descriptor.media_type, bytes)?;
        self.write_blob(bytes)?;
        if let Some(name) = ref_name {
            descriptor
                .annotations
                .insert(ANNOTATION_REF_NAME.to_owned(), name.to_owned());
        }
        self.add_to_index(&descriptor)?;
        Ok(descriptor)
    }

    /// Attaches `attachment` to `subject` as an OCI 1.1 referrer: writes the
    /// empty config, the blob and the referrer manifest, and lists the
    /// manifest (with its `artifactType` and annotations) in `index.json`.
    /// Attaching the same bytes twice changes nothing.
    pub fn attach(
        &self,
        subject: &Descriptor,
        attachment: &Attachment,
    ) -> Result<ReferrerManifest, Error> {
        let referrer = referrer_manifest(subject, attachment)?;
        self.write_blob(EMPTY_JSON)?;
        self.write_blob(attachment.bytes())?;
        self.write_blob(&referrer.bytes)?;
        self.add_to_index(&referrer.descriptor)?;
        Ok(referrer)
    }

    /// Attaches several blobs to `subject` with one `index.json` update
    /// (attaching one by one rewrites `index.json` each time).
    pub fn attach_many(
        &self,
        subject: &Descriptor,
        attachments: &[Attachment],
    ) -> Result<Vec<ReferrerManifest>, Error> {
        self.write_blob(EMPTY_JSON)?;
        let mut out = Vec::with_capacity(attachments.len());
        for attachment in attachments {
            let referrer = referrer_manifest(subject, attachment)?;
            self.write_blob(attachment.bytes())?;
            self.write_blob(&referrer.bytes)?;
            out.push(referrer);
        }
        let entries = out
            .iter()
            .map(|r| descriptor_value(&r.descriptor))
            .collect::<Result<Vec<_>, _>>()?;
        self.update_index(|manifests| {
            for entry in entries {
                if !manifests.contains(&entry) {
                    manifests.push(entry);
                }
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The referrers of `subject` listed in `index.json` that pass
    /// `filter`. Each referrer manifest is read and checked, and must name
    /// `subject`; entries whose listing already fails the filter are not
    /// read.
    pub fn referrers(
        &self,
        subject: &OciDigest,
        filter: &ReferrerFilter,
    ) -> Result<Vec<Referrer>, Error> {
        let index = self.index()?;
        let mut out = Vec::new();
        for d in index.manifests {
            if !d.is_manifest() || !filter.matches_descriptor(&d) {
                continue;
            }
            let Manifest::Image(manifest) = self.read_manifest(&d)? else {
                continue;
            };
            out.extend(Referrer::of(d, manifest, subject, filter));
        }
        Ok(out)
    }

    /// cosign v2's `.sig` / `.att` manifest for `subject`: the `index.json`
    /// entry whose ref name is the tag cosign uses (`sha256-<hex>.att`, as
    /// a `skopeo copy` of the tag writes it); else, in a layout `cosign
    /// save` wrote, the entry of that `kind` when the layout's image entry
    /// (kind `dev.cosignproject.cosign/image` or `imageIndex`) is `subject`.
    pub fn legacy_manifest(
        &self,
        subject: &OciDigest,
        kind: super::LegacyKind,
    ) -> Result<Option<super::LegacyManifest>, Error> {
        let index = self.index()?;
        let tag = kind.tag(subject);
        let by_name = index
            .manifests
            .iter()
            .find(|d| d.is_manifest() && d.ref_name() == Some(tag.as_str()));
        let saved_image = index.manifests.iter().any(|d| {
            &d.digest == subject
                && matches!(
                    d.annotation(COSIGN_KIND),
                    Some("dev.cosignproject.cosign/image" | "dev.cosignproject.cosign/imageIndex")
                )
        });
        let by_kind = || {
            index
                .manifests
                .iter()
                .find(|d| d.is_manifest() && d.annotation(COSIGN_KIND) == Some(kind.save_kind()))
        };
        let Some(descriptor) = by_name.or_else(|| saved_image.then(by_kind).flatten()) else {
            return Ok(None);
        };
        let manifest = self.read_image_manifest(descriptor)?;
        Ok(Some(super::LegacyManifest {
            kind,
            tag,
            descriptor: descriptor.clone(),
            manifest,
        }))
    }

    /// The attached blob of a referrer (its first layer), checked.
    pub fn fetch_attachment(&self, referrer: &Referrer) -> Result<Vec<u8>, Error> {
        let blob = referrer
            .blob()
            .ok_or_else(|| invalid("OCI referrer", "layers", "the referrer has no layer"))?;
        self.read_blob(blob, MAX_ATTACHMENT_BYTES)
    }

    /// Reads an image manifest by descriptor (an error for an index).
    pub fn read_image_manifest(&self, descriptor: &Descriptor) -> Result<ImageManifest, Error> {
        match self.read_manifest(descriptor)? {
            Manifest::Image(m) => Ok(m),
            Manifest::Index(_) => Err(invalid(
                "OCI image manifest",
                "",
                format!("{} is an index", shorten(descriptor.digest.as_str())),
            )),
        }
    }
}

impl super::referrers::ReferrerSource for Layout {
    fn referrers(
        &self,
        subject: &OciDigest,
        filter: &ReferrerFilter,
    ) -> Result<Vec<Referrer>, Error> {
        Layout::referrers(self, subject, filter)
    }

    fn fetch_attachment(&self, referrer: &Referrer) -> Result<Vec<u8>, Error> {
        Layout::fetch_attachment(self, referrer)
    }

    fn legacy_manifest(
        &self,
        subject: &OciDigest,
        kind: super::LegacyKind,
    ) -> Result<Option<super::LegacyManifest>, Error> {
        Layout::legacy_manifest(self, subject, kind)
    }

    fn fetch_layer(&self, layer: &Descriptor) -> Result<Vec<u8>, Error> {
        self.read_blob(layer, MAX_ATTACHMENT_BYTES)
    }
}

/// `index.json.lock`, created exclusively, removed on drop.
struct IndexLock {
    path: PathBuf,
}

impl IndexLock {
    fn acquire(root: &Path) -> Result<Self, Error> {
        let path = root.join("index.json.lock");
        let start = Instant::now();
        loop {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(_) => return Ok(Self { path }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    if start.elapsed() > LOCK_TIMEOUT {
                        return Err(invalid(
                            "OCI image layout",
                            "index.json.lock",
                            "another writer holds the lock (if none is running, remove the file)",
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(source) => return Err(Error::Io { path, source }),
            }
        }
    }
}

impl Drop for IndexLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// A descriptor as an `index.json` entry.
fn descriptor_value(descriptor: &Descriptor) -> Result<serde_json::Value, Error> {
    serde_json::to_value(descriptor)
        .map_err(|e| invalid("OCI descriptor", "", format!("not serializable: {e}")))
}
