//! Digest-based artifact identity.
//!
//! * [`DigestAlgorithm`] and [`Digest`]: the algorithms custodia computes and
//!   one computed value, printed and parsed in the OCI form `sha256:<hex>`
//!   (validated as the OCI image spec's descriptor grammar says).
//! * [`DigestSet`]: the in-toto digest set, `{"sha256": "<hex>", ...}`.
//!   Known algorithms are checked (lowercase hex of the right length);
//!   algorithms the spec does not define are carried but never trusted.
//! * Streaming hashing of any [`Read`], of a file ([`hash_file`]) and of a
//!   directory tree ([`hash_tree`]).
//!
//! Weak algorithms (md5, sha1, and git's object ids) may appear in a digest
//! set but never count as identity on their own: [`DigestSet::matches`]
//! needs at least one shared strong algorithm.

use std::fmt::{self, Write as _};
use std::fs;
use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::mpsc;

use sha2::Digest as _;

use crate::encoding::{decode_lower_hex_into, first_non_lower_hex, hex_lower};
use crate::error::{DigestError, Error};

/// Size of the read buffer used for streaming hashing.
const READ_BUFFER: usize = 256 * 1024;

/// A hash algorithm custodia computes.
///
/// ```
/// use custodia::digest::DigestAlgorithm;
/// let alg: DigestAlgorithm = "sha384".parse()?;
/// assert_eq!(alg.name(), "sha384");
/// assert_eq!(alg.output_len(), 48);
/// # Ok::<(), custodia::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum DigestAlgorithm {
    /// SHA-256 (FIPS 180-4).
    Sha256,
    /// SHA-384 (FIPS 180-4).
    Sha384,
    /// SHA-512 (FIPS 180-4).
    Sha512,
}

impl DigestAlgorithm {
    /// All algorithms, strongest last.
    pub const ALL: [DigestAlgorithm; 3] = [Self::Sha256, Self::Sha384, Self::Sha512];

    /// The name used in in-toto digest sets and OCI digests.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    /// Length of the digest in bytes.
    pub const fn output_len(self) -> usize {
        // Keep MAX_OUTPUT_LEN the largest of these.
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// Hashes `bytes` in one call.
    pub fn hash(self, bytes: &[u8]) -> Digest {
        let mut hasher = Hasher::new(self);
        hasher.update(bytes);
        hasher.finish()
    }
}

impl fmt::Display for DigestAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DigestAlgorithm {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| DigestError::UnsupportedAlgorithm(shorten(s)).into())
    }
}

/// The longest output of any [`DigestAlgorithm`] (SHA-512's).
const MAX_OUTPUT_LEN: usize = 64;

/// One digest value: an algorithm and its output bytes.
///
/// Its text form is the OCI digest form `algorithm:hex`; parsing follows
/// the OCI image spec grammar and rejects uppercase or wrong-length hex.
///
/// ```
/// use custodia::digest::{Digest, DigestAlgorithm};
/// let d = DigestAlgorithm::Sha256.hash(b"hello world");
/// assert_eq!(
///     d.to_string(),
///     "sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
/// );
/// let parsed: Digest = d.to_string().parse()?;
/// assert_eq!(parsed, d);
/// assert!("sha256:B94D".parse::<Digest>().is_err());
/// # Ok::<(), custodia::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest {
    algorithm: DigestAlgorithm,
    bytes: DigestBytes,
}

/// A digest's output bytes: SHA-256's 32 inline (how stores name every
/// envelope, so a long history allocates nothing per digest), longer ones
/// boxed. The variant follows from the length, so two digests of one
/// algorithm compare and order by their bytes alone.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum DigestBytes {
    Inline([u8; 32]),
    Boxed(Box<[u8]>),
}

impl DigestBytes {
    fn new(bytes: &[u8]) -> Self {
        match <[u8; 32]>::try_from(bytes) {
            Ok(inline) => Self::Inline(inline),
            Err(_) => Self::Boxed(bytes.into()),
        }
    }

    fn as_slice(&self) -> &[u8] {
        match self {
            Self::Inline(bytes) => bytes,
            Self::Boxed(bytes) => bytes,
        }
    }
}

impl Digest {
    /// Builds a digest from raw output bytes, checking the length.
    pub fn from_bytes(algorithm: DigestAlgorithm, bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() != algorithm.output_len() {
            return Err(DigestError::WrongLength {
                algorithm: algorithm.name().to_owned(),
                expected: (algorithm.output_len() * 2).to_string(),
                found: bytes.len() * 2,
            }
            .into());
        }
        Ok(Self {
            algorithm,
            bytes: DigestBytes::new(bytes),
        })
    }

    /// A SHA-256 digest from its 32 output bytes (infallible: the length
    /// is the type's).
    pub(crate) fn from_sha256(bytes: [u8; 32]) -> Self {
        Self {
            algorithm: DigestAlgorithm::Sha256,
            bytes: DigestBytes::Inline(bytes),
        }
    }

    /// Parses lowercase hex for `algorithm`.
    pub fn from_hex(algorithm: DigestAlgorithm, hex: &str) -> Result<Self, Error> {
        check_hex(algorithm.name(), hex, &[algorithm.output_len() * 2])?;
        Self::from_lower_hex(algorithm, hex).ok_or_else(|| {
            DigestError::InvalidHex {
                algorithm: algorithm.name().to_owned(),
                offset: 0,
            }
            .into()
        })
    }

    /// `hex` decoded as `algorithm`'s output (in a stack buffer), or None
    /// if it is not exactly that many bytes of lowercase hex.
    fn from_lower_hex(algorithm: DigestAlgorithm, hex: &str) -> Option<Self> {
        let mut buffer = [0u8; MAX_OUTPUT_LEN];
        let bytes = buffer.get_mut(..algorithm.output_len())?;
        decode_lower_hex_into(hex, bytes)?;
        Some(Self {
            algorithm,
            bytes: DigestBytes::new(bytes),
        })
    }

    /// The algorithm.
    pub fn algorithm(&self) -> DigestAlgorithm {
        self.algorithm
    }

    /// The raw digest bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.as_slice()
    }

    /// Lowercase hex of the digest bytes.
    pub fn hex(&self) -> String {
        hex_lower(self.bytes.as_slice())
    }

    /// A digest set holding just this digest.
    pub fn to_set(&self) -> DigestSet {
        let mut set = DigestSet::new();
        set.insert(self);
        set
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.algorithm)?;
        // The hex is written in one call, from a stack buffer.
        let mut hex = [0u8; MAX_OUTPUT_LEN * 2];
        for (&b, out) in self.bytes.as_slice().iter().zip(hex.chunks_exact_mut(2)) {
            out.copy_from_slice(&crate::encoding::hex_pair(b));
        }
        let len = self.bytes.as_slice().len() * 2;
        f.write_str(std::str::from_utf8(hex.get(..len).unwrap_or_default()).unwrap_or_default())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl FromStr for Digest {
    type Err = Error;

    /// Parses the OCI form `algorithm:encoded`.
    fn from_str(s: &str) -> Result<Self, Error> {
        // The common case, a known algorithm and lowercase hex of its
        // length, in one pass over the hex; anything else is checked below
        // for the error that says what is wrong.
        if let Some((name, hex)) = s.split_once(':') {
            let known = name.parse::<DigestAlgorithm>().ok();
            if let Some(digest) = known.and_then(|a| Self::from_lower_hex(a, hex)) {
                return Ok(digest);
            }
        }
        let invalid = |reason| DigestError::InvalidOci {
            input: shorten(s),
            reason,
        };
        let (algorithm, encoded) = s
            .split_once(':')
            .ok_or_else(|| invalid("expected `algorithm:encoded`"))?;
        if !is_oci_algorithm(algorithm) {
            return Err(invalid(
                "algorithm must be lowercase [a-z0-9] components joined by one of + . _ -",
            )
            .into());
        }
        if encoded.is_empty()
            || !encoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'=' || b == b'_' || b == b'-')
        {
            return Err(invalid("encoded part must be one or more of [a-zA-Z0-9=_-]").into());
        }
        let algorithm: DigestAlgorithm = algorithm.parse()?;
        let expected = algorithm.output_len() * 2;
        if encoded.len() != expected {
            return Err(DigestError::WrongLength {
                algorithm: algorithm.name().to_owned(),
                expected: expected.to_string(),
                found: encoded.len(),
            }
            .into());
        }
        Self::from_lower_hex(algorithm, encoded)
            .ok_or_else(|| invalid("encoded part must be lowercase hex").into())
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = crate::json::Text::deserialize(d)?.0;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// `algorithm-component (algorithm-separator algorithm-component)*`
pub(crate) fn is_oci_algorithm(s: &str) -> bool {
    let mut previous_was_separator = true; // no leading separator
    for b in s.bytes() {
        let separator = matches!(b, b'+' | b'.' | b'_' | b'-');
        if separator {
            if previous_was_separator {
                return false;
            }
        } else if !(b.is_ascii_lowercase() || b.is_ascii_digit()) {
            return false;
        }
        previous_was_separator = separator;
    }
    !previous_was_separator
}

/// How an in-toto digest set algorithm name is checked.
struct KnownAlgorithm {
    name: &'static str,
    /// Accepted lengths in hex characters.
    hex_lengths: &'static [usize],
    /// Counts as artifact identity on its own.
    strong: bool,
}

/// The algorithms the in-toto digest set spec names (digest_set.md), with
/// the lengths the reference implementation enforces.
const KNOWN_ALGORITHMS: &[KnownAlgorithm] = &[
    known("sha256", &[64], true),
    known("sha224", &[56], false),
    known("sha384", &[96], true),
    known("sha512", &[128], true),
    known("sha512_224", &[56], false),
    known("sha512_256", &[64], true),
    known("sha3_224", &[56], false),
    known("sha3_256", &[64], true),
    known("sha3_384", &[96], true),
    known("sha3_512", &[128], true),
    known("md5", &[32], false),
    known("sha1", &[40], false),
    known("dirHash", &[64], false),
    known("gitBlob", &[40, 64], false),
    known("gitCommit", &[40, 64], false),
    known("gitTag", &[40, 64], false),
    known("gitTree", &[40, 64], false),
];

const fn known(name: &'static str, hex_lengths: &'static [usize], strong: bool) -> KnownAlgorithm {
    KnownAlgorithm {
        name,
        hex_lengths,
        strong,
    }
}

fn known_algorithm(name: &str) -> Option<&'static KnownAlgorithm> {
    KNOWN_ALGORITHMS.iter().find(|k| k.name == name)
}

/// Whether `algorithm` is strong enough to identify an artifact on its own.
///
/// ```
/// use custodia::digest::is_strong_algorithm;
/// assert!(is_strong_algorithm("sha256"));
/// assert!(!is_strong_algorithm("sha1"));
/// assert!(!is_strong_algorithm("custom"));
/// ```
pub fn is_strong_algorithm(algorithm: &str) -> bool {
    known_algorithm(algorithm).is_some_and(|k| k.strong)
}

fn check_hex(algorithm: &str, value: &str, hex_lengths: &[usize]) -> Result<(), DigestError> {
    if let Some(offset) = first_non_lower_hex(value) {
        return Err(DigestError::InvalidHex {
            algorithm: algorithm.to_owned(),
            offset,
        });
    }
    if !hex_lengths.contains(&value.len()) {
        let expected = hex_lengths
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" or ");
        return Err(DigestError::WrongLength {
            algorithm: algorithm.to_owned(),
            expected,
            found: value.len(),
        });
    }
    Ok(())
}

/// Checks one digest set entry.
fn check_entry(algorithm: &str, value: &str) -> Result<(), DigestError> {
    if algorithm.is_empty()
        || !algorithm
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(DigestError::InvalidAlgorithmName(shorten(algorithm)));
    }
    match known_algorithm(algorithm) {
        Some(k) => check_hex(algorithm, value, k.hex_lengths),
        // Unknown algorithms are carried as opaque strings (the spec allows
        // custom ones); they never count as identity.
        None if value.is_empty() => Err(DigestError::WrongLength {
            algorithm: algorithm.to_owned(),
            expected: "at least 1".to_owned(),
            found: 0,
        }),
        None => Ok(()),
    }
}

/// An in-toto digest set: algorithm name to lowercase hex value.
///
/// Serializes as a JSON object with keys in sorted order. Deserializing
/// checks every entry; duplicate keys are rejected by custodia's strict
/// JSON readers.
///
/// ```
/// use custodia::digest::{DigestAlgorithm, DigestSet};
/// let artifact = b"release bytes";
/// let expected: DigestSet = serde_json::from_str(&format!(
///     r#"{{"sha256":"{}"}}"#,
///     DigestAlgorithm::Sha256.hash(artifact).hex()
/// ))?;
/// let actual = DigestSet::of_bytes(artifact);
/// assert!(expected.matches(&actual).is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct DigestSet {
    entries: Entries,
    /// Computed from the artifact's bytes for every algorithm of
    /// [`DigestAlgorithm::ALL`] ([`DigestSet::of_artifact`],
    /// [`hash_path_complete`]): then a claimed strong digest this set lacks
    /// is one custodia cannot check, and [`DigestSet::matches`] fails on it.
    /// Not part of equality, ordering or hashing.
    complete: bool,
}

/// `algorithm -> value`, sorted by algorithm, packed into one string (a
/// set holds one to three entries, and long verified histories keep one
/// per record: one allocation of about 80 bytes for a SHA-256 set, not a
/// vector of string pairs at three). Each entry is the algorithm, `:`, the
/// value's length in bytes in decimal, `:`, and the value. Algorithm names
/// hold only ASCII letters, digits and `_` ([`check_entry`] runs before
/// every insert), so the first `:` ends a name and the length says where
/// its value ends, whatever the value holds.
#[derive(Debug, Clone, Default)]
struct Entries(Box<str>);

impl Entries {
    fn from_sorted<'a>(entries: impl IntoIterator<Item = (&'a str, &'a str)> + Clone) -> Self {
        // Measured first, so the text is allocated once, exactly.
        let size = entries
            .clone()
            .into_iter()
            .map(|(algorithm, value)| packed_len(algorithm, value))
            .sum();
        let mut packed = String::with_capacity(size);
        for (algorithm, value) in entries {
            packed.push_str(algorithm);
            packed.push(':');
            // Writing to a String cannot fail.
            let _ = write!(packed, "{}", value.len());
            packed.push(':');
            packed.push_str(value);
        }
        Self(packed.into_boxed_str())
    }

    fn insert(&mut self, algorithm: &str, value: &str) {
        let others = self.iter().filter(|(k, _)| *k != algorithm);
        let before = others.clone().filter(|(k, _)| *k < algorithm);
        let after = others.filter(|(k, _)| *k > algorithm);
        *self = Self::from_sorted(before.chain([(algorithm, value)]).chain(after));
    }

    fn get(&self, algorithm: &str) -> Option<&str> {
        self.iter().find(|(k, _)| *k == algorithm).map(|(_, v)| v)
    }

    fn iter(&self) -> EntryIter<'_> {
        EntryIter(&self.0)
    }

    fn keys(&self) -> impl Iterator<Item = &str> {
        self.iter().map(|(k, _)| k)
    }

    fn len(&self) -> usize {
        self.iter().count()
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The length of one packed entry: `algorithm:len:value`.
fn packed_len(algorithm: &str, value: &str) -> usize {
    let digits = value.len().checked_ilog10().unwrap_or(0) as usize + 1;
    algorithm.len() + digits + value.len() + 2
}

/// The entries of a packed [`Entries`], in order.
#[derive(Clone)]
struct EntryIter<'a>(&'a str);

impl<'a> Iterator for EntryIter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let (algorithm, rest) = self.0.split_once(':')?;
        let (length, rest) = rest.split_once(':')?;
        let length: usize = length.parse().ok()?;
        let value = rest.get(..length)?;
        self.0 = rest.get(length..)?;
        Some((algorithm, value))
    }
}

impl PartialEq for Entries {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for Entries {}

impl PartialOrd for Entries {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entries {
    /// By entries, as a sorted list of `(algorithm, value)` pairs.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.iter().cmp(other.iter())
    }
}

impl std::hash::Hash for Entries {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl PartialEq for DigestSet {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

impl Eq for DigestSet {}

impl PartialOrd for DigestSet {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for DigestSet {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.entries.cmp(&other.entries)
    }
}

impl std::hash::Hash for DigestSet {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.entries.hash(state);
    }
}

/// Why two digest sets do not identify the same artifact.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DigestMismatch {
    /// Both sets have `algorithm` but with different values.
    #[error("{algorithm} differs: claimed {expected}, actual {found}")]
    Differs {
        /// The algorithm.
        algorithm: String,
        /// Value in the expected set.
        expected: String,
        /// Value in the other set.
        found: String,
    },
    /// The claimed set lists a strong algorithm that the artifact's
    /// digests, computed from its bytes, do not include: custodia cannot
    /// compute it, so it cannot say that claim is true.
    #[error("claimed {algorithm} cannot be checked: custodia computes sha256, sha384 and sha512")]
    NotComputed {
        /// The algorithm.
        algorithm: String,
    },
    /// The sets share no strong algorithm, so they cannot identify the same bytes.
    #[error("no strong digest algorithm in common (claimed {expected:?}, actual {found:?})")]
    NoCommonStrongAlgorithm {
        /// Algorithms in the expected set.
        expected: Vec<String>,
        /// Algorithms in the other set.
        found: Vec<String>,
    },
}

impl DigestSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The SHA-256 digest set of `bytes`.
    pub fn of_bytes(bytes: &[u8]) -> Self {
        DigestAlgorithm::Sha256.hash(bytes).to_set()
    }

    /// The artifact's digests for every algorithm custodia computes
    /// (sha256, sha384, sha512), marked complete: matched against a
    /// subject, every strong algorithm the subject lists must be among them
    /// and agree (a subject `{sha256: right, sha512: wrong}` does not
    /// match, nor does one whose only other strong digest is sha3_256).
    /// Use it whenever the artifact is at hand; a digest given alone (a
    /// `--digest`) establishes only its own algorithm.
    ///
    /// ```
    /// use custodia::digest::{DigestAlgorithm, DigestSet};
    /// let bytes = b"release";
    /// let mut claimed = DigestSet::of_bytes(bytes);
    /// claimed.insert(&DigestAlgorithm::Sha512.hash(b"another artifact"));
    /// assert!(claimed.matches(&DigestSet::of_bytes(bytes)).is_ok()); // sha256 only: blind to sha512
    /// assert!(claimed.matches(&DigestSet::of_artifact(bytes)).is_err());
    /// ```
    pub fn of_artifact(bytes: &[u8]) -> Self {
        let mut set = Self::new();
        for algorithm in DigestAlgorithm::ALL {
            set.insert(&algorithm.hash(bytes));
        }
        set.complete = true;
        set
    }

    /// Whether the set was computed from the artifact for every algorithm
    /// custodia computes (see [`DigestSet::of_artifact`]).
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// Adds (or replaces) the value for a computed digest.
    pub fn insert(&mut self, digest: &Digest) {
        self.entries.insert(digest.algorithm.name(), &digest.hex());
    }

    /// Adds (or replaces) an entry by name, checking it as deserializing does.
    pub fn insert_raw(&mut self, algorithm: &str, value: &str) -> Result<(), Error> {
        check_entry(algorithm, value)?;
        self.entries.insert(algorithm, value);
        Ok(())
    }

    /// The value for `algorithm`, if present.
    pub fn get(&self, algorithm: &str) -> Option<&str> {
        self.entries.get(algorithm)
    }

    /// The computed digest for `algorithm`, if present.
    pub fn digest(&self, algorithm: DigestAlgorithm) -> Option<Digest> {
        let hex = self.get(algorithm.name())?;
        Digest::from_hex(algorithm, hex).ok()
    }

    /// The strongest digest as `alg:hex`, or `(no strong digest)`: how
    /// messages name the artifact a set is about.
    ///
    /// ```
    /// use custodia::digest::{DigestAlgorithm, DigestSet};
    /// let set = DigestSet::of_bytes(b"app");
    /// assert_eq!(set.shown(), set.strongest().unwrap().to_string());
    /// assert_eq!(DigestSet::new().shown(), "(no strong digest)");
    /// # let _ = DigestAlgorithm::Sha256;
    /// ```
    pub fn shown(&self) -> String {
        self.strongest()
            .map_or_else(|| "(no strong digest)".to_owned(), |d| d.to_string())
    }

    /// The strongest digest custodia can compute that this set carries.
    pub fn strongest(&self) -> Option<Digest> {
        DigestAlgorithm::ALL
            .into_iter()
            .rev()
            .find_map(|a| self.digest(a))
    }

    /// Iterates over `(algorithm, hex)` in sorted order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether the set holds at least one strong algorithm.
    pub fn has_strong_algorithm(&self) -> bool {
        self.entries.keys().any(is_strong_algorithm)
    }

    /// Checks that `other` (the actual artifact's digests) identifies the
    /// same artifact as `self` (the claimed digests): every
    /// algorithm both sets carry must agree, and at least one of them must
    /// be strong. Returns the strong algorithms that matched.
    pub fn matches(&self, other: &DigestSet) -> Result<Vec<String>, DigestMismatch> {
        let mut strong = Vec::new();
        for (algorithm, expected) in self.entries.iter() {
            let Some(found) = other.entries.get(algorithm) else {
                if other.complete && is_strong_algorithm(algorithm) {
                    return Err(DigestMismatch::NotComputed {
                        algorithm: algorithm.to_owned(),
                    });
                }
                continue;
            };
            if found != expected {
                return Err(DigestMismatch::Differs {
                    algorithm: algorithm.to_owned(),
                    expected: expected.to_owned(),
                    found: found.to_owned(),
                });
            }
            if is_strong_algorithm(algorithm) {
                strong.push(algorithm.to_owned());
            }
        }
        if strong.is_empty() {
            return Err(DigestMismatch::NoCommonStrongAlgorithm {
                expected: self.entries.keys().map(str::to_owned).collect(),
                found: other.entries.keys().map(str::to_owned).collect(),
            });
        }
        Ok(strong)
    }
}

impl From<&Digest> for DigestSet {
    fn from(d: &Digest) -> Self {
        d.to_set()
    }
}

impl serde::Serialize for DigestSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.entries.iter())
    }
}

impl<'de> serde::Deserialize<'de> for DigestSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use crate::json::Text;
        struct EntriesVisitor;
        impl<'de> serde::de::Visitor<'de> for EntriesVisitor {
            type Value = Vec<(Text<'de>, Text<'de>)>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of algorithm names to digest values")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<Text<'de>, Text<'de>>()? {
                    check_entry(&entry.0.0, &entry.1.0).map_err(serde::de::Error::custom)?;
                    entries.push(entry);
                }
                Ok(entries)
            }
        }
        // Entries borrow from the document; the set is one allocation.
        let mut entries = d.deserialize_map(EntriesVisitor)?;
        entries.sort_by(|a, b| a.0.0.cmp(&b.0.0));
        if let Some(pair) = entries
            .windows(2)
            .find(|w| matches!(w, [a, b] if a.0.0 == b.0.0))
        {
            let name = pair.first().map_or("", |e| &*e.0.0);
            return Err(serde::de::Error::custom(format_args!(
                "algorithm `{}` is listed twice",
                shorten(name)
            )));
        }
        Ok(Self {
            entries: Entries::from_sorted(entries.iter().map(|(k, v)| (&*k.0, &*v.0))),
            complete: false,
        })
    }
}

/// An incremental hasher for one algorithm.
///
/// ```
/// use custodia::digest::{DigestAlgorithm, Hasher};
/// let mut h = Hasher::new(DigestAlgorithm::Sha256);
/// h.update(b"hello ");
/// h.update(b"world");
/// assert_eq!(h.finish(), DigestAlgorithm::Sha256.hash(b"hello world"));
/// ```
#[derive(Clone)]
pub struct Hasher {
    state: HasherState,
}

#[derive(Clone)]
enum HasherState {
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

impl Hasher {
    /// A fresh hasher.
    pub fn new(algorithm: DigestAlgorithm) -> Self {
        let state = match algorithm {
            DigestAlgorithm::Sha256 => HasherState::Sha256(sha2::Sha256::new()),
            DigestAlgorithm::Sha384 => HasherState::Sha384(sha2::Sha384::new()),
            DigestAlgorithm::Sha512 => HasherState::Sha512(sha2::Sha512::new()),
        };
        Self { state }
    }

    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        match &mut self.state {
            HasherState::Sha256(h) => h.update(bytes),
            HasherState::Sha384(h) => h.update(bytes),
            HasherState::Sha512(h) => h.update(bytes),
        }
    }

    /// Finishes and returns the digest.
    pub fn finish(self) -> Digest {
        let (algorithm, bytes) = match self.state {
            HasherState::Sha256(h) => (DigestAlgorithm::Sha256, DigestBytes::new(&h.finalize())),
            HasherState::Sha384(h) => (DigestAlgorithm::Sha384, DigestBytes::new(&h.finalize())),
            HasherState::Sha512(h) => (DigestAlgorithm::Sha512, DigestBytes::new(&h.finalize())),
        };
        Digest { algorithm, bytes }
    }
}

impl io::Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Hashes everything `reader` yields, streaming through a fixed buffer.
///
/// ```
/// use custodia::digest::{hash_reader, DigestAlgorithm};
/// let d = hash_reader(DigestAlgorithm::Sha512, &b"abc"[..])?;
/// assert!(d.hex().starts_with("ddaf35a193617aba"));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn hash_reader<R: Read>(algorithm: DigestAlgorithm, mut reader: R) -> io::Result<Digest> {
    let mut hasher = Hasher::new(algorithm);
    let mut buffer = vec![0u8; READ_BUFFER];
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(buffer.get(..n).unwrap_or_default());
    }
    Ok(hasher.finish())
}

/// Hashes everything a buffered reader yields, in place: no copy out of
/// the reader's buffer, so hashing a `&[u8]` or a `BufReader` runs at the
/// speed of the hash primitive.
///
/// ```
/// use custodia::digest::{hash_buf_reader, DigestAlgorithm};
/// let data = vec![7u8; 1 << 20];
/// assert_eq!(
///     hash_buf_reader(DigestAlgorithm::Sha256, &data[..])?,
///     DigestAlgorithm::Sha256.hash(&data)
/// );
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn hash_buf_reader<R: BufRead>(
    algorithm: DigestAlgorithm,
    mut reader: R,
) -> io::Result<Digest> {
    let mut hasher = Hasher::new(algorithm);
    loop {
        let n = match reader.fill_buf() {
            Ok([]) => break,
            Ok(chunk) => {
                hasher.update(chunk);
                chunk.len()
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        reader.consume(n);
    }
    Ok(hasher.finish())
}

/// Hashes one file. A second thread reads ahead into 1 MiB buffers while
/// this one hashes, so the kernel's copy overlaps the hash and large files
/// hash at the primitive's speed.
///
/// Only a regular file is read ([`crate::fsread::open`]): a FIFO, a device
/// or a symbolic link is [`Error::UnsafeFile`], so hashing never blocks on
/// a pipe or reads an endless device. There is no size cap: hashing streams.
pub fn hash_file(algorithm: DigestAlgorithm, path: impl AsRef<Path>) -> Result<Digest, Error> {
    hash_file_counting(algorithm, path.as_ref(), &mut |_| {})
}

/// [`hash_file`], calling `hashed(n)` after each chunk of `n` bytes.
fn hash_file_counting(
    algorithm: DigestAlgorithm,
    path: &Path,
    hashed: &mut dyn FnMut(u64),
) -> Result<Digest, Error> {
    let io_err = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    // A regular file only: a FIFO or device would never end (or block).
    let (file, _) = crate::fsread::open(path)?;
    hash_read_ahead(algorithm, file, hashed).map_err(io_err)
}

/// Size of one read-ahead buffer, and how many are in flight.
const READ_AHEAD_CHUNK: usize = 1024 * 1024;
const READ_AHEAD_BUFFERS: usize = 3;

fn hash_read_ahead<R: Read + Send>(
    algorithm: DigestAlgorithm,
    reader: R,
    hashed: &mut dyn FnMut(u64),
) -> io::Result<Digest> {
    let digests = hash_read_ahead_all(&[algorithm], reader, hashed)?;
    digests
        .into_iter()
        .next()
        .ok_or_else(|| io::Error::other("no digest computed"))
}

/// Reads once, hashes with every algorithm of `algorithms`.
fn hash_read_ahead_all<R: Read + Send>(
    algorithms: &[DigestAlgorithm],
    mut reader: R,
    hashed: &mut dyn FnMut(u64),
) -> io::Result<Vec<Digest>> {
    let (full_tx, full_rx) = mpsc::sync_channel::<io::Result<(Vec<u8>, usize)>>(READ_AHEAD_BUFFERS);
    let (empty_tx, empty_rx) = mpsc::channel::<Vec<u8>>();
    for _ in 0..READ_AHEAD_BUFFERS {
        // The receiver is alive here, so this cannot fail.
        let _ = empty_tx.send(vec![0u8; READ_AHEAD_CHUNK]);
    }
    std::thread::scope(move |scope| {
        scope.spawn(move || {
            // Ends when the hasher stops taking buffers (channel closed),
            // at end of file, or after reporting an error.
            while let Ok(mut buffer) = empty_rx.recv() {
                let mut filled = 0;
                let result = loop {
                    let Some(rest) = buffer.get_mut(filled..).filter(|r| !r.is_empty()) else {
                        break Ok(());
                    };
                    match reader.read(rest) {
                        Ok(0) => break Ok(()),
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                let last = result.is_err() || filled < READ_AHEAD_CHUNK;
                if full_tx.send(result.map(|()| (buffer, filled))).is_err() || last {
                    return;
                }
            }
        });
        // `full_rx` and `empty_tx` are owned here: returning early (on an
        // error) drops them, which stops the reader before the scope joins.
        let mut hashers: Vec<Hasher> = algorithms.iter().map(|a| Hasher::new(*a)).collect();
        while let Ok(message) = full_rx.recv() {
            let (buffer, filled) = message?;
            for hasher in &mut hashers {
                hasher.update(buffer.get(..filled).unwrap_or_default());
            }
            hashed(filled as u64);
            let _ = empty_tx.send(buffer);
        }
        Ok(hashers.into_iter().map(Hasher::finish).collect())
    })
}

/// The digests to match a subject against when the artifact is at hand:
/// for a file, [`DigestSet::of_artifact`]'s sha256, sha384 and sha512 in
/// one read (marked complete); for a directory, its [`hash_tree`] digest
/// (sha256 only: a tree digest is custodia's own, not marked complete).
/// `progress` is called as for [`hash_path_with_progress`].
///
/// ```
/// use custodia::digest::{hash_path_complete, DigestSet};
/// let dir = tempfile::tempdir()?;
/// let file = dir.path().join("app");
/// std::fs::write(&file, b"app")?;
/// let set = hash_path_complete(&file, &mut |_| {})?;
/// assert_eq!(set, DigestSet::of_artifact(b"app"));
/// assert!(set.is_complete());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn hash_path_complete(
    path: impl AsRef<Path>,
    progress: &mut dyn FnMut(HashProgress),
) -> Result<DigestSet, Error> {
    let path = path.as_ref();
    let io_err = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let meta = fs::metadata(path).map_err(io_err)?;
    if meta.is_dir() {
        return Ok(hash_tree_counting(path, progress)?.to_set());
    }
    let total = meta.len();
    let mut done = 0u64;
    let file = fs::File::open(path).map_err(io_err)?;
    let digests = hash_read_ahead_all(&DigestAlgorithm::ALL, file, &mut |n| {
        done = done.saturating_add(n);
        progress(HashProgress { done, total });
    })
    .map_err(io_err)?;
    let mut set = DigestSet::new();
    for digest in &digests {
        set.insert(digest);
    }
    set.complete = true;
    Ok(set)
}

/// The SHA-256 identity of a path: [`hash_tree`] for a directory,
/// [`hash_file`] otherwise (a symbolic link is not followed: refused).
pub fn hash_path(path: impl AsRef<Path>) -> Result<Digest, Error> {
    hash_path_with_progress(path, &mut |_| {})
}

/// How far hashing has got: bytes hashed so far of the bytes to hash
/// (a file's size, or the sum of a tree's file sizes when listed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct HashProgress {
    /// Bytes hashed so far.
    pub done: u64,
    /// Bytes to hash in all (from the file system's sizes; a file that
    /// grows while hashed can make `done` pass it).
    pub total: u64,
}

/// [`hash_path`], calling `progress` as it goes (after each 1 MiB chunk):
/// for progress bars on large files and trees. The digest is the same.
///
/// ```
/// use custodia::digest::{hash_path, hash_path_with_progress};
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("a"), vec![7u8; 3 << 20])?;
/// let mut last = None;
/// let digest = hash_path_with_progress(dir.path(), &mut |p| last = Some(p))?;
/// assert_eq!(digest, hash_path(dir.path())?);
/// let last = last.unwrap();
/// assert_eq!((last.done, last.total), (3 << 20, 3 << 20));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn hash_path_with_progress(
    path: impl AsRef<Path>,
    progress: &mut dyn FnMut(HashProgress),
) -> Result<Digest, Error> {
    let path = path.as_ref();
    // Not following a symbolic link: `hash_file` refuses one, as a tree does.
    let meta = fs::symlink_metadata(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    if meta.is_dir() {
        hash_tree_counting(path, progress)
    } else {
        let total = meta.len();
        let mut done = 0u64;
        hash_file_counting(DigestAlgorithm::Sha256, path, &mut |n| {
            done = done.saturating_add(n);
            progress(HashProgress { done, total });
        })
    }
}

/// The deterministic SHA-256 digest of a directory tree.
///
/// The tree digest is the `h1` directory hash of Go modules
/// (`golang.org/x/mod/sumdb/dirhash.Hash1`), without the `h1:`/base64
/// wrapping:
///
/// 1. every regular file below `root` is listed by its path relative to
///    `root`, with `/` separators (directories themselves contribute
///    nothing, so empty directories are ignored);
/// 2. the paths are sorted by their UTF-8 bytes;
/// 3. for each file, the line `<sha256 hex of its bytes>  <path>\n` is
///    formed (two spaces, as `sha256sum` prints);
/// 4. the tree digest is the SHA-256 of the concatenated lines.
///
/// So `find . -type f -printf '%P\n' | LC_ALL=C sort | xargs -d '\n'
/// sha256sum | sha256sum` computes the same value. Symbolic links, other
/// special files, non-UTF-8 names and names containing a newline are
/// rejected (an error names the entry), so the digest never depends on what
/// a link points to.
pub fn hash_tree(root: impl AsRef<Path>) -> Result<Digest, Error> {
    hash_tree_counting(root.as_ref(), &mut |_| {})
}

fn hash_tree_counting(
    root: &Path,
    progress: &mut dyn FnMut(HashProgress),
) -> Result<Digest, Error> {
    let mut files = Vec::new();
    collect_files(root, root, &mut files)?;
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let total = files
        .iter()
        .filter_map(|(_, path)| fs::metadata(path).ok())
        .fold(0u64, |sum, meta| sum.saturating_add(meta.len()));
    let mut done = 0u64;
    let mut summary = Hasher::new(DigestAlgorithm::Sha256);
    for (relative, path) in &files {
        let digest = hash_file_counting(DigestAlgorithm::Sha256, path, &mut |n| {
            done = done.saturating_add(n);
            progress(HashProgress { done, total });
        })?;
        summary.update(digest.hex().as_bytes());
        summary.update(b"  ");
        summary.update(relative.as_bytes());
        summary.update(b"\n");
    }
    Ok(summary.finish())
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<(), Error> {
    let io_err = |path: &Path, source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let unhashable = |path: PathBuf, reason| DigestError::UnhashableTreeEntry { path, reason };
    // Iterative walk: no recursion depth to exhaust on deep trees.
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in crate::fsread::read_dir(&dir, crate::fsread::MAX_DIR_ENTRIES)? {
            let entry = entry?;
            let path = entry.path();
            let file_type = entry.file_type().map_err(|e| io_err(&path, e))?;
            if file_type.is_dir() {
                pending.push(path);
            } else if file_type.is_file() {
                let relative = path
                    .strip_prefix(root)
                    .ok()
                    .and_then(|r| {
                        r.components()
                            .map(|c| c.as_os_str().to_str())
                            .collect::<Option<Vec<_>>>()
                    })
                    .ok_or_else(|| unhashable(path.clone(), "file name is not UTF-8"))?
                    .join("/");
                if relative.contains('\n') {
                    return Err(unhashable(path, "file name contains a newline").into());
                }
                out.push((relative, path));
            } else if file_type.is_symlink() {
                return Err(unhashable(path, "symbolic links are not followed").into());
            } else {
                return Err(unhashable(path, "not a regular file or directory").into());
            }
        }
    }
    Ok(())
}

/// Bounds untrusted text for a report while keeping both ends visible
/// (identifiers differ at their tails: workflow file names, `@ref`s).
pub(crate) fn elide_middle(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut head = max / 2;
    while !s.is_char_boundary(head) {
        head -= 1;
    }
    let mut tail = s.len() - max / 2;
    while !s.is_char_boundary(tail) {
        tail += 1;
    }
    format!(
        "{}...{}",
        s.get(..head).unwrap_or_default(),
        s.get(tail..).unwrap_or_default()
    )
}

/// Shortens untrusted input for error messages.
pub(crate) fn shorten(s: &str) -> String {
    shorten_to(s, 80)
}

/// The first `max` bytes of `s` (on a character boundary) and `...`, or
/// all of `s` when it is no longer.
pub(crate) fn shorten_to(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", s.get(..end).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_sets_keep_any_value_and_order_as_sorted_pairs() {
        // Opaque values of unknown algorithms may hold the packing's `:`
        // and digits; every value comes back whole.
        let values = ["12:ab", ":", "0:", "3:x:y", "\u{0}\n:9"];
        let mut sets = Vec::new();
        for (i, value) in values.iter().enumerate() {
            let mut set = DigestSet::of_bytes(value.as_bytes());
            set.insert_raw("vendorRef", value).unwrap();
            set.insert_raw(&format!("custom_{i}"), value).unwrap();
            assert_eq!(set.get("vendorRef"), Some(*value));
            assert_eq!(set.len(), 3);
            let json = serde_json::to_string(&set).unwrap();
            let back: DigestSet = serde_json::from_str(&json).unwrap();
            assert_eq!(back, set);
            assert_eq!(
                back.iter().collect::<Vec<_>>(),
                set.iter().collect::<Vec<_>>()
            );
            sets.push(set);
        }
        // Replacing keeps one entry per algorithm, in order.
        let mut set = DigestSet::new();
        set.insert_raw("zz", "1").unwrap();
        set.insert_raw("aa", "2").unwrap();
        set.insert_raw("zz", "3").unwrap();
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            vec![("aa", "2"), ("zz", "3")]
        );
        sets.push(set);
        sets.push(DigestSet::new());
        for a in &sets {
            for b in &sets {
                let pairs = a.iter().cmp(b.iter());
                assert_eq!(a.cmp(b), pairs);
                assert_eq!(a == b, pairs.is_eq());
            }
        }
    }

    #[test]
    fn digests_order_by_algorithm_then_bytes_and_sha256_is_inline() {
        assert!(std::mem::size_of::<Digest>() <= 48);
        let mut all: Vec<Digest> = Vec::new();
        for algorithm in DigestAlgorithm::ALL {
            for input in [&b""[..], b"a", b"b", b"release"] {
                all.push(algorithm.hash(input));
            }
        }
        for a in &all {
            for b in &all {
                let by_parts = (a.algorithm(), a.as_bytes()).cmp(&(b.algorithm(), b.as_bytes()));
                assert_eq!(a.cmp(b), by_parts, "{a} {b}");
                assert_eq!(a == b, by_parts.is_eq());
            }
            let again = Digest::from_bytes(a.algorithm(), a.as_bytes()).unwrap();
            assert_eq!(&again, a);
            assert_eq!(again.to_string().parse::<Digest>().unwrap(), again);
        }
    }

    #[test]
    fn fips_180_vectors() {
        // FIPS 180-2 appendix examples for "abc".
        assert_eq!(
            DigestAlgorithm::Sha256.hash(b"abc").hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            DigestAlgorithm::Sha384.hash(b"abc").hex(),
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed\
             8086072ba1e7cc2358baeca134c825a7"
        );
    }

    #[test]
    fn oci_algorithm_grammar() {
        assert!(is_oci_algorithm("sha256"));
        assert!(is_oci_algorithm("sha384.foo+bar"));
        assert!(!is_oci_algorithm("sha384__foo"));
        assert!(!is_oci_algorithm(""));
        assert!(!is_oci_algorithm("-sha"));
        assert!(!is_oci_algorithm("sha-"));
        assert!(!is_oci_algorithm("SHA256"));
    }

    #[test]
    fn matching_needs_a_strong_shared_algorithm() {
        let mut weak = DigestSet::new();
        weak.insert_raw("sha1", &"a".repeat(40)).unwrap();
        let mut other = weak.clone();
        assert!(matches!(
            weak.matches(&other),
            Err(DigestMismatch::NoCommonStrongAlgorithm { .. })
        ));
        weak.insert_raw("sha256", &"b".repeat(64)).unwrap();
        other.insert_raw("sha256", &"b".repeat(64)).unwrap();
        assert_eq!(weak.matches(&other).unwrap(), vec!["sha256".to_owned()]);
        other.insert_raw("sha1", &"c".repeat(40)).unwrap();
        assert!(matches!(
            weak.matches(&other),
            Err(DigestMismatch::Differs { .. })
        ));
    }

    #[test]
    fn entry_rules() {
        assert!(check_entry("sha256", &"A".repeat(64)).is_err());
        assert!(check_entry("sha256", &"a".repeat(63)).is_err());
        assert!(check_entry("gitCommit", &"a".repeat(40)).is_ok());
        assert!(check_entry("gitCommit", &"a".repeat(64)).is_ok());
        assert!(check_entry("custom", "anything").is_ok());
        assert!(check_entry("custom", "").is_err());
        assert!(check_entry("", "ab").is_err());
        assert!(check_entry("sha-256", "ab").is_err());
    }

    /// Yields `len` bytes in odd-sized reads, then fails if `fail` is set.
    struct Source {
        left: usize,
        fail: bool,
    }

    impl Read for Source {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.left == 0 {
                return if self.fail {
                    Err(io::Error::other("disk on fire"))
                } else {
                    Ok(0)
                };
            }
            let n = buf.len().min(self.left).min(70_001);
            buf[..n].fill(0xa5);
            self.left -= n;
            Ok(n)
        }
    }

    #[test]
    fn read_ahead_matches_one_shot_hashing_at_chunk_boundaries() {
        for len in [
            0,
            1,
            READ_AHEAD_CHUNK - 1,
            READ_AHEAD_CHUNK,
            READ_AHEAD_CHUNK + 1,
            READ_AHEAD_CHUNK * READ_AHEAD_BUFFERS * 2,
        ] {
            let got = hash_read_ahead(
                DigestAlgorithm::Sha256,
                Source {
                    left: len,
                    fail: false,
                },
                &mut |_| {},
            )
            .unwrap();
            assert_eq!(got, DigestAlgorithm::Sha256.hash(&vec![0xa5; len]), "{len}");
        }
    }

    #[test]
    fn read_ahead_reports_errors_without_hanging() {
        for len in [0, 10, READ_AHEAD_CHUNK * 5 + 3] {
            let err = hash_read_ahead(
                DigestAlgorithm::Sha256,
                Source {
                    left: len,
                    fail: true,
                },
                &mut |_| {},
            )
            .unwrap_err();
            assert_eq!(err.to_string(), "disk on fire");
        }
    }

    #[test]
    fn shorten_respects_char_boundaries() {
        let s = "é".repeat(100);
        assert!(shorten(&s).ends_with("..."));
        assert_eq!(shorten("short"), "short");
    }
}
