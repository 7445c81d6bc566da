//! One environment's verified chain, a record a row: the facts decisions
//! read, packed (digests as 32 bytes, names as ids), so that a verified
//! history of a million records fits in a couple of hundred megabytes.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use crate::digest::{Digest, DigestAlgorithm, DigestSet};
use crate::predicate::promotion::{PromotionKind, PromotionRecord};
use crate::time::Timestamp;

/// No name (an entry promotion's `from`, a record without an author).
const NO_NAME: u32 = u32::MAX;

/// `Row::flags`: the record has a source.
const HAS_SOURCE: u8 = 1;
/// `Row::flags`: the record has a commit time.
const HAS_COMMIT_TIME: u8 = 2;

/// One accepted record. A digest that is not a single SHA-256 (rare: the
/// stores name envelopes by SHA-256, and artifacts nearly always carry
/// one) is kept in its environment's side table instead, and its bytes
/// here are zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Row {
    digest: [u8; 32],
    artifact: [u8; 32],
    source: [u8; 32],
    time: Timestamp,
    entered: Timestamp,
    commit_time: Timestamp,
    from: u32,
    author: u32,
    kind: PromotionKind,
    flags: u8,
}

/// One environment's verified chain: its accepted records, oldest first,
/// read as [`VerifiedRecord`] views.
///
/// ```
/// use custodia::promotion::{MemoryStore, ValidationOptions, validate};
/// use custodia::policy::Policy;
/// # let policy_json = br#"{"version":1,"keys":[],"environments":[{"name":"dev"}],"promotions":[]}"#;
/// let policy = Policy::from_json(policy_json)?.activate()?;
/// let validation = validate(&MemoryStore::new(), &policy, &["dev"], &ValidationOptions::default());
/// let dev = validation.history().environment("dev").unwrap();
/// assert_eq!((dev.name(), dev.len(), dev.verified()), ("dev", 0, true));
/// // Newest first, without copying a record.
/// assert!(dev.records().rev().next().is_none() && dev.head().is_none());
/// # Ok::<(), custodia::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvironmentHistory {
    name: Arc<str>,
    rows: Vec<Row>,
    /// By row: envelope digests, artifacts and sources that are not a
    /// single SHA-256, and reasons (emergencies and rollbacks).
    digests: BTreeMap<u32, Digest>,
    artifacts: BTreeMap<u32, DigestSet>,
    sources: BTreeMap<u32, Digest>,
    reasons: BTreeMap<u32, Box<str>>,
    /// Names (environments records came from, authors) by id.
    names: Vec<Arc<str>>,
    ids: HashMap<Arc<str>, u32>,
    pub(in crate::promotion) complete: bool,
}

/// `digest`'s bytes when it is SHA-256.
fn sha256_bytes(digest: &Digest) -> Option<[u8; 32]> {
    if digest.algorithm() != DigestAlgorithm::Sha256 {
        return None;
    }
    digest.as_bytes().try_into().ok()
}

/// `artifact`'s SHA-256 bytes when that is all it holds (and it reads
/// back exactly from them).
fn single_sha256(artifact: &DigestSet) -> Option<[u8; 32]> {
    if artifact.len() != 1 || artifact.is_complete() {
        return None;
    }
    let digest = artifact.digest(DigestAlgorithm::Sha256)?;
    if digest.to_set() != *artifact {
        return None;
    }
    sha256_bytes(&digest)
}

/// Lowercase hex of 32 bytes, on the stack.
fn hex64(bytes: &[u8; 32]) -> [u8; 64] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = [0u8; 64];
    for (pair, b) in hex.chunks_exact_mut(2).zip(bytes) {
        for (out, nibble) in pair.iter_mut().zip([b >> 4, b & 15]) {
            *out = DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0');
        }
    }
    hex
}

fn sha256(bytes: &[u8; 32]) -> Digest {
    Digest::from_sha256(*bytes)
}

impl EnvironmentHistory {
    /// An empty chain of `name`.
    pub(super) fn named(name: &str) -> Self {
        Self {
            name: Arc::from(name),
            ..Self::default()
        }
    }

    fn intern(&mut self, name: Option<&str>) -> u32 {
        let Some(name) = name else { return NO_NAME };
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let Ok(id) = u32::try_from(self.names.len()) else {
            return NO_NAME;
        };
        let name: Arc<str> = Arc::from(name);
        self.names.push(name.clone());
        self.ids.insert(name, id);
        id
    }

    fn name_of(&self, id: u32) -> Option<&str> {
        self.names.get(usize::try_from(id).ok()?).map(|n| &**n)
    }

    /// Appends what decisions read of `record` (envelope digest `digest`,
    /// artifact `artifact`); its entry time is its own time until
    /// [`set_entered`](Self::set_entered). False (nothing kept) past
    /// 2^32 - 1 records.
    pub(in crate::promotion) fn push(
        &mut self,
        digest: &Digest,
        artifact: DigestSet,
        record: PromotionRecord,
    ) -> bool {
        let Ok(at) = u32::try_from(self.rows.len()) else {
            return false;
        };
        if at == u32::MAX {
            return false;
        }
        let mut row = Row {
            digest: [0; 32],
            artifact: [0; 32],
            source: [0; 32],
            time: record.time,
            entered: record.time,
            commit_time: record.commit_time.unwrap_or(record.time),
            from: self.intern(record.from.as_deref()),
            author: self.intern(record.author.as_deref()),
            kind: record.kind,
            flags: 0,
        };
        match sha256_bytes(digest) {
            Some(bytes) => row.digest = bytes,
            None => {
                self.digests.insert(at, digest.clone());
            }
        }
        match single_sha256(&artifact) {
            Some(bytes) => row.artifact = bytes,
            None => {
                self.artifacts.insert(at, artifact);
            }
        }
        if let Some(source) = record.source {
            row.flags |= HAS_SOURCE;
            match sha256_bytes(&source) {
                Some(bytes) => row.source = bytes,
                None => {
                    self.sources.insert(at, source);
                }
            }
        }
        if record.commit_time.is_some() {
            row.flags |= HAS_COMMIT_TIME;
        }
        if let Some(reason) = record.reason {
            self.reasons.insert(at, reason.into_boxed_str());
        }
        self.rows.push(row);
        true
    }

    /// Sets the entry time of the record at `at`.
    pub(in crate::promotion) fn set_entered(&mut self, at: usize, time: Timestamp) {
        if let Some(row) = self.rows.get_mut(at) {
            row.entered = time;
        }
    }

    /// Keeps the first `len` records.
    pub(in crate::promotion) fn truncate(&mut self, len: usize) {
        self.rows.truncate(len);
        self.rows.shrink_to_fit();
        let keep = u32::try_from(len).unwrap_or(u32::MAX);
        self.digests.retain(|at, _| *at < keep);
        self.artifacts.retain(|at, _| *at < keep);
        self.sources.retain(|at, _| *at < keep);
        self.reasons.retain(|at, _| *at < keep);
    }

    /// The environment's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The accepted records, oldest first. When the environment did not
    /// validate ([`verified`](Self::verified) is false) these are the
    /// records before the first rejected one: still signed and linked, but
    /// not the whole history.
    pub fn records(&self) -> Records<'_> {
        Records {
            environment: self,
            front: 0,
            back: self.rows.len(),
        }
    }

    /// The accepted record at position `index` (0: the first).
    pub fn get(&self, index: usize) -> Option<VerifiedRecord<'_>> {
        Some(VerifiedRecord {
            environment: self,
            row: self.rows.get(index)?,
            index,
        })
    }

    /// The newest accepted record, whether or not the environment
    /// validated (see [`head`](Self::head)).
    pub fn last(&self) -> Option<VerifiedRecord<'_>> {
        self.get(self.rows.len().checked_sub(1)?)
    }

    /// Whether the whole environment validated.
    pub fn verified(&self) -> bool {
        self.complete
    }

    /// The current record, if the environment validated and has one.
    pub fn head(&self) -> Option<VerifiedRecord<'_>> {
        if self.complete { self.last() } else { None }
    }

    /// Number of accepted records.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether no record was accepted.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// The accepted records of an [`EnvironmentHistory`], oldest first (from
/// [`EnvironmentHistory::records`]). Skipping (`nth`, `skip`, `rev`,
/// `take`) costs nothing per record skipped.
///
/// ```
/// # use custodia::promotion::{MemoryStore, ValidationOptions, validate};
/// # use custodia::policy::Policy;
/// # let policy_json = br#"{"version":1,"keys":[],"environments":[{"name":"dev"}],"promotions":[]}"#;
/// # let policy = Policy::from_json(policy_json)?.activate()?;
/// # let validation = validate(&MemoryStore::new(), &policy, &["dev"], &ValidationOptions::default());
/// let dev = validation.history().environment("dev").unwrap();
/// // The last ten records, oldest of them first.
/// let recent: Vec<_> = dev.records().skip(dev.len().saturating_sub(10)).collect();
/// assert_eq!(recent.len(), dev.len().min(10));
/// # Ok::<(), custodia::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Records<'a> {
    environment: &'a EnvironmentHistory,
    /// The next position from the front, and one past the next from the
    /// back.
    front: usize,
    back: usize,
}

impl<'a> Iterator for Records<'a> {
    type Item = VerifiedRecord<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.front >= self.back {
            return None;
        }
        let record = self.environment.get(self.front)?;
        self.front += 1;
        Some(record)
    }

    fn nth(&mut self, n: usize) -> Option<Self::Item> {
        self.front = self.front.saturating_add(n).min(self.back);
        self.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back.saturating_sub(self.front);
        (n, Some(n))
    }
}

impl DoubleEndedIterator for Records<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.front >= self.back {
            return None;
        }
        self.back -= 1;
        self.environment.get(self.back)
    }

    fn nth_back(&mut self, n: usize) -> Option<Self::Item> {
        self.back = self.back.saturating_sub(n).max(self.front);
        self.next_back()
    }
}

impl ExactSizeIterator for Records<'_> {}

impl std::iter::FusedIterator for Records<'_> {}

/// A promotion record that validation accepted: the facts decisions read
/// (a verified history of a million records holds these, packed, not the
/// records with their evidence lists), and [`open`](Self::open) for the
/// whole record. A view into its [`EnvironmentHistory`].
///
/// ```
/// use custodia::promotion::{MemoryStore, ValidationOptions, validate};
/// use custodia::policy::Policy;
/// # let policy_json = br#"{"version":1,"keys":[],"environments":[{"name":"dev"}],"promotions":[]}"#;
/// let policy = Policy::from_json(policy_json)?.activate()?;
/// let validation = validate(&MemoryStore::new(), &policy, &["dev"], &ValidationOptions::default());
/// for record in validation.history().environment("dev").unwrap().records() {
///     println!("{} at {} ({:?})", record.digest(), record.time(), record.kind());
/// }
/// # Ok::<(), custodia::Error>(())
/// ```
#[derive(Clone, Copy)]
pub struct VerifiedRecord<'a> {
    environment: &'a EnvironmentHistory,
    row: &'a Row,
    index: usize,
}

impl<'a> VerifiedRecord<'a> {
    fn at(&self) -> u32 {
        u32::try_from(self.index).unwrap_or(u32::MAX)
    }

    /// The record's envelope digest.
    pub fn digest(&self) -> Digest {
        match self.environment.digests.get(&self.at()) {
            Some(d) => d.clone(),
            None => sha256(&self.row.digest),
        }
    }

    /// Whether the record's envelope digest is `digest` (no copy).
    pub fn has_digest(&self, digest: &Digest) -> bool {
        match self.environment.digests.get(&self.at()) {
            Some(d) => d == digest,
            None => sha256_bytes(digest) == Some(self.row.digest),
        }
    }

    /// Whether its artifact [`matches`](DigestSet::matches) `other` (no
    /// copy for a SHA-256 artifact).
    pub fn artifact_matches(&self, other: &DigestSet) -> bool {
        match self.environment.artifacts.get(&self.at()) {
            Some(a) => a.matches(other).is_ok(),
            None => other.get("sha256").map(str::as_bytes) == Some(&hex64(&self.row.artifact)[..]),
        }
    }

    /// Calls `f` with each `(algorithm, value)` of its artifact (no
    /// [`DigestSet`] built for a SHA-256 artifact).
    pub(super) fn artifact_digests(&self, mut f: impl FnMut(&str, &str)) {
        match self.environment.artifacts.get(&self.at()) {
            Some(a) => a.iter().for_each(|(algorithm, value)| f(algorithm, value)),
            None => {
                let hex = hex64(&self.row.artifact);
                if let Ok(hex) = std::str::from_utf8(&hex) {
                    f(DigestAlgorithm::Sha256.name(), hex);
                }
            }
        }
    }

    /// The artifact it promoted.
    pub fn artifact(&self) -> DigestSet {
        match self.environment.artifacts.get(&self.at()) {
            Some(a) => a.clone(),
            None => sha256(&self.row.artifact).to_set(),
        }
    }

    /// The chain it is in.
    pub(super) fn chain(&self) -> &'a EnvironmentHistory {
        self.environment
    }

    /// Its position in its environment's chain (0: the first).
    pub fn index(&self) -> usize {
        self.index
    }

    /// When the artifact entered its first environment (the time of the
    /// entry record at the end of its source path).
    pub fn entered(&self) -> Timestamp {
        self.row.entered
    }

    /// The environment the artifact entered.
    pub fn environment(&self) -> &'a str {
        &self.environment.name
    }

    /// The environment it came from (`None` for an entry promotion).
    pub fn from(&self) -> Option<&'a str> {
        self.environment.name_of(self.row.from)
    }

    /// Promotion, rollback or emergency.
    pub fn kind(&self) -> PromotionKind {
        self.row.kind
    }

    /// When it happened.
    pub fn time(&self) -> Timestamp {
        self.row.time
    }

    /// The verified record it came from: in `from` for a promotion, in
    /// this environment for a rollback.
    pub fn source(&self) -> Option<Digest> {
        if self.row.flags & HAS_SOURCE == 0 {
            return None;
        }
        Some(match self.environment.sources.get(&self.at()) {
            Some(d) => d.clone(),
            None => sha256(&self.row.source),
        })
    }

    /// The change's author.
    pub fn author(&self) -> Option<&'a str> {
        self.environment.name_of(self.row.author)
    }

    /// When the change was committed.
    pub fn commit_time(&self) -> Option<Timestamp> {
        (self.row.flags & HAS_COMMIT_TIME != 0).then_some(self.row.commit_time)
    }

    /// Why (emergencies and rollbacks).
    pub fn reason(&self) -> Option<&'a str> {
        self.environment.reasons.get(&self.at()).map(|r| &**r)
    }

    /// The whole record (its evidence list, policy and links), read back
    /// from `store` and checked against [`digest`](Self::digest): the
    /// bytes validation verified, or an error (a store that lost or
    /// changed them).
    pub fn open(&self, store: &dyn super::super::Store) -> Result<PromotionRecord, crate::Error> {
        super::super::chain::read_record(store, &self.digest()).map(|(_, _, record)| record)
    }

    /// One line about the record, as an audit lists it: envelope digest,
    /// artifact, where it came from, where to, when, and its kind.
    pub fn summary(&self) -> String {
        super::records::summary(self)
    }
}

impl PartialEq for VerifiedRecord<'_> {
    /// The same record: same environment, position and envelope digest.
    fn eq(&self, other: &Self) -> bool {
        self.index == other.index
            && self.environment.name == other.environment.name
            && self.row.digest == other.row.digest
            && self.digest() == other.digest()
    }
}

impl Eq for VerifiedRecord<'_> {}

impl fmt::Debug for VerifiedRecord<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedRecord")
            .field("environment", &self.environment())
            .field("index", &self.index)
            .field("digest", &self.digest())
            .field("artifact", &self.artifact())
            .field("kind", &self.kind())
            .field("time", &self.time())
            .field("entered", &self.entered())
            .field("from", &self.from())
            .field("source", &self.source())
            .field("author", &self.author())
            .field("commit_time", &self.commit_time())
            .field("reason", &self.reason())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(time: i64) -> PromotionRecord {
        let mut r = PromotionRecord::new(
            "prod",
            Some("staging".into()),
            PromotionKind::Emergency,
            Timestamp::from_unix(time),
            DigestAlgorithm::Sha256.hash(b"policy"),
        );
        r.author = Some("alice".into());
        r.reason = Some("outage".into());
        r
    }

    #[test]
    fn a_row_reads_back_what_was_pushed_whatever_its_digests() {
        let mut env = EnvironmentHistory::named("prod");
        let sha = DigestAlgorithm::Sha256.hash(b"one");
        let long = DigestAlgorithm::Sha512.hash(b"two");
        let mut multi = DigestSet::of_bytes(b"artifact");
        multi.insert(&DigestAlgorithm::Sha512.hash(b"artifact"));
        let mut first = record(10);
        first.source = Some(long.clone());
        first.commit_time = Some(Timestamp::from_unix(5));
        assert!(env.push(&sha, DigestSet::of_bytes(b"artifact"), first));
        let mut second = record(20);
        second.source = Some(sha.clone());
        second.author = None;
        second.reason = None;
        assert!(env.push(&long, multi.clone(), second));
        env.set_entered(1, Timestamp::from_unix(1));

        let a = env.get(0).unwrap();
        assert_eq!(a.digest(), sha);
        assert!(a.has_digest(&sha) && !a.has_digest(&long));
        assert_eq!(a.artifact(), DigestSet::of_bytes(b"artifact"));
        assert_eq!(a.source(), Some(long.clone()));
        assert_eq!(a.commit_time(), Some(Timestamp::from_unix(5)));
        assert_eq!(
            (a.from(), a.author(), a.reason()),
            (Some("staging"), Some("alice"), Some("outage"))
        );
        assert_eq!(
            (a.environment(), a.index(), a.entered()),
            ("prod", 0, Timestamp::from_unix(10))
        );

        let b = env.get(1).unwrap();
        assert_eq!(b.digest(), long);
        assert!(b.has_digest(&long) && !b.has_digest(&sha));
        assert_eq!(b.artifact(), multi);
        assert_eq!(b.source(), Some(sha.clone()));
        assert_eq!(
            (b.commit_time(), b.author(), b.reason()),
            (None, None, None)
        );
        assert_eq!(b.entered(), Timestamp::from_unix(1));
        assert_eq!(env.head(), None, "not verified");
        env.complete = true;
        assert_eq!(env.head().map(|h| h.digest()), Some(long));

        let all: Vec<usize> = env.records().map(|r| r.index()).collect();
        assert_eq!(all, [0, 1]);
        assert_eq!(
            env.records().rev().map(|r| r.index()).collect::<Vec<_>>(),
            [1, 0]
        );
        assert_eq!(env.records().nth(1).map(|r| r.index()), Some(1));
        assert!(env.records().nth(2).is_none() && env.records().nth_back(2).is_none());
        let mut two = env.records();
        assert_eq!(
            (two.len(), two.next_back().map(|r| r.index())),
            (2, Some(1))
        );
        assert_eq!(
            (two.len(), two.next().map(|r| r.index()), two.next()),
            (1, Some(0), None)
        );

        env.truncate(1);
        assert_eq!(env.len(), 1);
        assert!(env.digests.is_empty() && env.artifacts.is_empty());
    }
}
