//! The crate's error type: one [`Error`] built from one sub-enum per concern.
//!
//! Every message says what was wrong and where: a JSON field path
//! (`subject[0].digest.sha256`), a line and column, or a file path.

use std::path::PathBuf;

/// Everything that can go wrong in custodia.
///
/// Match on the concern first, then on the sub-enum when a caller needs to
/// react to one specific cause.
///
/// ```
/// use custodia::{Error, digest::DigestSet};
/// let err = serde_json::from_str::<DigestSet>(r#"{"sha256":"abc"}"#).unwrap_err();
/// assert!(err.to_string().contains("sha256"));
/// let err: Error = "sha256:xyz".parse::<custodia::digest::Digest>().unwrap_err();
/// assert!(matches!(err, Error::Digest(_)));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A digest, digest set or digest string was malformed or did not match.
    #[error(transparent)]
    Digest(#[from] DigestError),
    /// A JSON document could not be read.
    #[error(transparent)]
    Json(#[from] JsonError),
    /// An in-toto Statement or ResourceDescriptor broke a rule of the spec.
    #[error(transparent)]
    Statement(#[from] StatementError),
    /// A key could not be read, written, or used.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A DSSE envelope was malformed or could not be signed.
    #[error(transparent)]
    Dsse(#[from] DsseError),
    /// A predicate (SLSA provenance, VSA, ...) broke a rule of its spec.
    #[error(transparent)]
    Predicate(#[from] PredicateError),
    /// A promotion policy is inconsistent.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// An envelope store is corrupt, incomplete, or refused a write.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A signed checkpoint note is malformed.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// An SBOM or its inputs (Cargo.lock, CycloneDX, SPDX) are invalid.
    #[error(transparent)]
    Sbom(#[from] SbomError),
    /// A Sigstore bundle, trusted root or identity policy is invalid.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// A CI tool's output (JUnit, scanner report, SARIF, VEX) could not be read.
    #[error(transparent)]
    Evidence(#[from] EvidenceError),
    /// OCI content (a manifest, an image layout, a registry) is invalid,
    /// corrupt or unavailable (feature `oci`).
    #[cfg(feature = "oci")]
    #[error(transparent)]
    Oci(#[from] crate::oci::OciError),
    /// A PKCS#11 key (a `pkcs11:` URI) could not be used.
    #[error(transparent)]
    Pkcs11(#[from] crate::pkcs11::Pkcs11Error),
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A file that should hold data is not a regular file (a FIFO, device,
    /// socket, directory or symbolic link); it was not read (module
    /// [`crate::fsread`]).
    #[error("{}: not read: it is {kind}, not a regular file", path.display())]
    UnsafeFile {
        /// The file.
        path: PathBuf,
        /// What it is instead.
        kind: FileKind,
    },
    /// A file is larger than custodia reads for its kind; refused before
    /// it was read (or as soon as it grew past the limit while read).
    #[error("{}: {what} larger than the {limit}-byte limit", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The kind of file (`DSSE envelope`, `store link`, ...).
        what: &'static str,
        /// The limit for this kind of file, in bytes.
        limit: u64,
    },
    /// A directory has more entries than custodia lists.
    #[error("{}: more than {limit} entries", path.display())]
    TooManyEntries {
        /// The directory.
        path: PathBuf,
        /// The limit.
        limit: usize,
    },
}

/// What a file is when it is not a regular file ([`Error::UnsafeFile`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FileKind {
    /// A symbolic link (never followed), or a loop of them.
    Symlink,
    /// A named pipe: reading it could block forever.
    Fifo,
    /// A character device (`/dev/zero`, a terminal): endless or live input.
    CharDevice,
    /// A block device.
    BlockDevice,
    /// A Unix domain socket.
    Socket,
    /// A directory.
    Directory,
    /// Anything else the platform has.
    Other,
}

impl std::fmt::Display for FileKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Symlink => "a symbolic link",
            Self::Fifo => "a FIFO",
            Self::CharDevice => "a character device",
            Self::BlockDevice => "a block device",
            Self::Socket => "a socket",
            Self::Directory => "a directory",
            Self::Other => "a special file",
        })
    }
}

/// Convenience alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What was wrong with a digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DigestError {
    /// The algorithm name is not one custodia computes (sha256, sha384, sha512).
    #[error("unsupported digest algorithm `{0}` (expected sha256, sha384 or sha512)")]
    UnsupportedAlgorithm(String),
    /// The value is not lowercase hexadecimal.
    #[error("{algorithm}: digest is not lowercase hex (bad character at offset {offset})")]
    InvalidHex {
        /// Algorithm name the value was given for.
        algorithm: String,
        /// Byte offset of the first bad character.
        offset: usize,
    },
    /// The value has the wrong length for its algorithm.
    #[error("{algorithm}: digest has {found} hex characters, expected {expected}")]
    WrongLength {
        /// Algorithm name the value was given for.
        algorithm: String,
        /// Accepted length(s) in hex characters, e.g. `64` or `40 or 64`.
        expected: String,
        /// Length found.
        found: usize,
    },
    /// An algorithm name in a digest set is empty or has characters the
    /// in-toto digest set does not allow.
    #[error("invalid digest algorithm name `{0}`")]
    InvalidAlgorithmName(String),
    /// A digest set had no entries.
    #[error("digest set is empty")]
    EmptySet,
    /// An OCI digest string (`algorithm:encoded`) was malformed.
    #[error("invalid OCI digest `{input}`: {reason}")]
    InvalidOci {
        /// The input, shortened to 80 characters.
        input: String,
        /// What rule of the OCI image spec it broke.
        reason: &'static str,
    },
    /// A directory tree could not be hashed deterministically.
    #[error("cannot hash tree entry {}: {reason}", path.display())]
    UnhashableTreeEntry {
        /// The offending entry.
        path: PathBuf,
        /// Why (symlink, non-UTF-8 name, newline in name, ...).
        reason: &'static str,
    },
}

/// A JSON document could not be parsed into the expected shape (or,
/// should a value refuse to serialize, written).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {message}{}", location(path, *line, *column))]
pub struct JsonError {
    /// What was being parsed (`DSSE envelope`, `in-toto statement`, ...).
    pub what: &'static str,
    /// Field path, like `signatures[1].sig`; empty at the top level.
    pub path: String,
    /// 1-based line, 0 if unknown.
    pub line: usize,
    /// 1-based column, 0 if unknown.
    pub column: usize,
    /// The parser's description.
    pub message: String,
}

fn location(path: &str, line: usize, column: usize) -> String {
    let mut out = String::new();
    if !path.is_empty() && path != "." {
        out.push_str(" at `");
        out.push_str(path);
        out.push('`');
    }
    if line > 0 {
        out.push_str(&format!(" (line {line}, column {column})"));
    }
    out
}

/// A rule of the in-toto Statement v1 / ResourceDescriptor spec was broken.
///
/// The variants mirror the reference implementation's sentinel errors
/// (in-toto/attestation `go/v1`), so results can be compared case by case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatementError {
    /// `_type` is not `https://in-toto.io/Statement/v1` (or the legacy v0.1).
    #[error("`_type`: `{0}` is not an in-toto Statement type")]
    InvalidType(String),
    /// `subject` is missing or empty.
    #[error("`subject`: at least one subject is required")]
    SubjectRequired,
    /// A subject has no digest.
    #[error("`subject[{index}].digest`: every subject needs a digest")]
    DigestRequired {
        /// Index of the subject.
        index: usize,
    },
    /// A resource descriptor has none of `uri`, `digest`, `content`.
    #[error("`{path}`: a resource descriptor needs at least one of uri, digest or content")]
    ResourceRequiredField {
        /// Field path of the descriptor.
        path: String,
    },
    /// A digest in a resource descriptor is malformed.
    #[error("`{path}`: {source}")]
    InvalidDigest {
        /// Field path of the digest set.
        path: String,
        /// What was wrong.
        #[source]
        source: DigestError,
    },
    /// `predicateType` is missing or empty.
    #[error("`predicateType`: a predicate type is required")]
    PredicateTypeRequired,
    /// `predicate` is missing or not an object.
    #[error("`predicate`: a predicate object is required")]
    PredicateRequired,
    /// The predicate does not have the type the caller asked for.
    #[error("`predicateType`: expected `{expected}`, found `{found}`")]
    PredicateTypeMismatch {
        /// The type the caller expected.
        expected: String,
        /// The type in the statement.
        found: String,
    },
    /// The predicate does not parse as the typed predicate asked for.
    #[error("`predicate`: {0}")]
    InvalidPredicate(String),
}

/// A key could not be parsed, written, or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The input is not PEM, or its label is not the one expected.
    #[error("PEM: {0}")]
    Pem(String),
    /// The DER inside is not a valid SubjectPublicKeyInfo / PKCS#8 structure.
    #[error("{what}: {reason}")]
    Der {
        /// `SubjectPublicKeyInfo` or `PKCS#8 private key`.
        what: &'static str,
        /// The decoder's description, with byte offset where known.
        reason: String,
    },
    /// The key's algorithm or curve is not supported.
    #[error("unsupported key algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// The key bytes were rejected by the cryptographic library.
    #[error("{algorithm} key rejected: {reason}")]
    Rejected {
        /// Key algorithm.
        algorithm: &'static str,
        /// What was wrong (size, encoding, inconsistent key pair).
        reason: String,
    },
    /// Signing failed.
    #[error("signing with {0} key failed")]
    SigningFailed(&'static str),
    /// Key generation failed.
    #[error("key generation failed: {0}")]
    Generation(String),
    /// One key was given to two trust anchors: a signature by it would
    /// not say who signed.
    #[error("key {key_id} is trusted twice, as `{held_by}` and as `{asked_by}`")]
    TrustedTwice {
        /// The key's id.
        key_id: String,
        /// The identity that holds it.
        held_by: String,
        /// The identity that asked for it again.
        asked_by: String,
    },
    /// The key parses but must not be trusted.
    #[error("{algorithm} key refused: {reason}")]
    Weak {
        /// Key algorithm.
        algorithm: &'static str,
        /// What makes it weak.
        reason: WeakKey,
    },
}

/// Why a well-formed public key is refused (see [`crate::keys`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WeakKey {
    /// An Ed25519 point of small order: one fixed signature would verify
    /// every message under it.
    #[error("point of small order (a signature that verifies every message exists)")]
    SmallOrder,
    /// An Ed25519 `y` coordinate not below the field prime.
    #[error("non-canonical point encoding")]
    NonCanonicalEncoding,
    /// An EC point that is not on the key's curve.
    #[error("point is not on the curve")]
    NotOnCurve,
    /// An EC point neither uncompressed nor compressed, or of the wrong size.
    #[error("point encoding is not an uncompressed or compressed point of the curve's size")]
    PointEncoding,
    /// An RSA modulus outside 2048 to 8192 bits.
    #[error("RSA modulus is {bits} bits, expected 2048 to 8192")]
    ModulusSize {
        /// The modulus size found.
        bits: usize,
    },
    /// An even RSA modulus.
    #[error("RSA modulus is even")]
    EvenModulus,
    /// An RSA public exponent that is even, below 3 or above 2^32-1.
    #[error("RSA public exponent must be odd, at least 3 and below 2^32")]
    Exponent,
}

/// A DSSE envelope was malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DsseError {
    /// A base64 field could not be decoded.
    #[error("`{field}`: invalid base64 ({reason})")]
    Base64 {
        /// Field path (`payload`, `signatures[0].sig`).
        field: String,
        /// Decoder's description.
        reason: String,
    },
    /// The envelope is larger than the configured limit.
    #[error("envelope is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// Input size.
        size: usize,
        /// Limit.
        limit: usize,
    },
    /// The envelope has more signatures than the configured limit.
    #[error("envelope has {count} signatures, over the limit of {limit}")]
    TooManySignatures {
        /// Signatures found.
        count: usize,
        /// Limit.
        limit: usize,
    },
    /// A threshold of zero would accept an unsigned envelope.
    #[error("threshold must be at least 1")]
    ZeroThreshold,
    /// The threshold is higher than the number of trusted keys.
    #[error("threshold {threshold} can never be met with {keys} trusted key(s)")]
    UnreachableThreshold {
        /// Threshold asked for.
        threshold: usize,
        /// Distinct trusted keys given.
        keys: usize,
    },
    /// The envelope already has a signature by this key.
    #[error("the envelope is already signed by key {0}")]
    AlreadySigned(String),
}

/// A predicate broke a rule of its specification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PredicateError {
    /// A field the spec requires is missing or empty.
    #[error("{predicate}: `{field}` is required")]
    MissingField {
        /// Which predicate (`SLSA provenance v1`, ...).
        predicate: &'static str,
        /// Field path, like `runDetails.builder.id`.
        field: &'static str,
    },
    /// A field has a value the spec does not allow.
    #[error("`{path}`: {reason}")]
    Invalid {
        /// Field path.
        path: String,
        /// What was wrong.
        reason: String,
    },
}

/// A promotion policy is inconsistent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// What is wrong, and where in the policy.
    #[error("policy: {0}")]
    Invalid(String),
}

/// An envelope store problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A stored file's bytes do not hash to its name.
    #[error("store: `{name}` is corrupt: its bytes hash to {actual}")]
    Corrupt {
        /// The file's name (the digest it should have).
        name: String,
        /// The digest of its bytes.
        actual: String,
    },
    /// No envelope with this digest is stored.
    #[error("store: no envelope {0}")]
    Missing(String),
    /// Another record already follows `previous` in this environment: two
    /// promotions raced, and this one lost (the history never forks).
    #[error("store: conflict in `{environment}`: {previous} is already followed by {existing}")]
    Conflict {
        /// The environment.
        environment: String,
        /// The record both promotions linked to (`genesis` for the first).
        previous: String,
        /// The record that won.
        existing: String,
    },
    /// A link or name in the store is malformed.
    #[error("store: {0}")]
    Invalid(String),
}

/// A signed checkpoint note (an environment's length and head, C2SP
/// signed-note style) could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// Larger than [`crate::promotion::MAX_CHECKPOINT_BYTES`].
    #[error("checkpoint: {0} bytes, more than a checkpoint note may have")]
    TooLarge(usize),
    /// Not UTF-8, or holds a character a note may not (a control
    /// character other than newline).
    #[error("checkpoint: not a text note (line {line})")]
    NotText {
        /// 1-based line.
        line: usize,
    },
    /// A line of the body or a signature line is not what it must be.
    #[error("checkpoint: line {line}: {what}")]
    Malformed {
        /// 1-based line.
        line: usize,
        /// What was expected there.
        what: &'static str,
    },
    /// Two signature lines by the same key.
    #[error("checkpoint: two signatures by the key of `{0}`")]
    DuplicateSignature(String),
}

/// An SBOM document or a producer's input is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SbomError {
    /// What is wrong, in which document, and where.
    #[error("{document}: {}{reason}", if path.is_empty() { String::new() } else { format!("`{path}`: ") })]
    Invalid {
        /// `Cargo.lock`, `CycloneDX`, `SPDX`, ...
        document: &'static str,
        /// Where in the document.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A binary has no `cargo auditable` dependency data (`.dep-v0`).
    #[error(
        "the binary has no cargo-auditable data (.dep-v0 section): build it with `cargo auditable build`"
    )]
    NoAuditData,
    /// A binary or its embedded data is over a size limit.
    #[error("{what} is over the limit of {limit} bytes")]
    TooLarge {
        /// What is too large: `binary`, `compressed audit data`, `audit data`.
        what: &'static str,
        /// The limit, in bytes.
        limit: usize,
    },
    /// The file is not a well-formed ELF, PE, Mach-O or WebAssembly binary.
    #[error("not a well-formed ELF, PE, Mach-O or WebAssembly binary")]
    MalformedBinary,
    /// The `.dep-v0` section is not zlib-compressed UTF-8 text.
    #[error("the cargo-auditable data is not zlib-compressed UTF-8")]
    CorruptAuditData,
    /// A writer could not serialize the document.
    #[error("{document}: could not serialize: {reason}")]
    Serialize {
        /// `CycloneDX`, `SPDX`, `SPDX 3`.
        document: &'static str,
        /// What serde_json reported.
        reason: String,
    },
}

/// A Sigstore bundle or trusted root is invalid (module `bundle`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// What is wrong, in which document, and where.
    #[error("{document}: {}{reason}", if path.is_empty() { String::new() } else { format!("`{path}`: ") })]
    Invalid {
        /// `Sigstore bundle`, `trusted root`, `identity policy`.
        document: &'static str,
        /// Where in the document.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// A CI tool's output (JUnit XML, a scanner report, SARIF, a VEX document)
/// could not be read (module `evidence`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EvidenceError {
    /// Not well-formed XML (or not UTF-8), at a byte offset.
    #[error("{format}: not well-formed XML at byte {position}: {reason}")]
    Xml {
        /// `JUnit XML`.
        format: &'static str,
        /// Byte offset of the problem.
        position: u64,
        /// What the XML parser found.
        reason: String,
    },
    /// Well-formed, but not the structure the format requires.
    #[error("{format}: {}{reason}", if path.is_empty() { String::new() } else { format!("`{path}`: ") })]
    Invalid {
        /// `JUnit XML`, `Trivy JSON`, `SARIF`, `OpenVEX`, ...
        format: &'static str,
        /// Where in the document (element or field path).
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// Over a size, depth or count limit.
    #[error("{format}: {what} over the limit of {limit}")]
    Limit {
        /// The format being read.
        format: &'static str,
        /// What was counted.
        what: &'static str,
        /// The limit.
        limit: u64,
    },
    /// The report is none of the formats asked for or detected.
    #[error("report format not recognised: {0}")]
    UnknownFormat(String),
    /// Reading the input failed.
    #[error("{format}: reading failed: {reason}")]
    Io {
        /// The format being read.
        format: &'static str,
        /// The I/O error.
        reason: String,
    },
}
