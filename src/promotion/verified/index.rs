//! A verified history's indexes: its records by envelope digest and by
//! artifact, as positions (eight bytes each), not copies of digests.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use crate::digest::{Digest, is_strong_algorithm};

use super::seen::fingerprint;
use super::table::SortedTable;
use super::{EnvironmentHistory, VerifiedRecord};

/// Where a record is: its environment (by id in the index's table of
/// names) and its position in that environment's chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Position {
    environment: u32,
    at: u32,
}

/// `digest`'s fingerprint as two words.
fn digest_key(digest: &Digest) -> [u64; 2] {
    let f = fingerprint(digest);
    [(f >> 64) as u64, f as u64]
}

/// Records by envelope digest and by artifact.
///
/// Keys are hashes, never trusted alone: the digest index maps a 128-bit
/// fingerprint of the envelope digest to a position, the artifact index a
/// keyed 64-bit hash of `(environment, algorithm, hex)` to positions, and
/// every lookup compares the record it finds with what was asked
/// ([`VerifiedHistory`](super::VerifiedHistory) does). A collision can
/// only hide a record (a lookup that then fails closed) or add a
/// candidate the comparison drops.
#[derive(Debug, Clone, Default)]
pub(super) struct RecordIndex {
    /// Environment names by id.
    environments: Vec<Box<str>>,
    /// Keyed by the fingerprint as two words (a `u128` would pad each
    /// entry to 32 bytes; this is 24).
    by_digest: SortedTable<[u64; 2], Position>,
    /// The first record under each artifact key, and (nearly always
    /// empty) the later ones: eight bytes a record, not a vector each.
    by_artifact: SortedTable<u64, Position>,
    more_by_artifact: HashMap<u64, Vec<Position>>,
    artifact_keys: RandomState,
}

impl RecordIndex {
    /// The id of `environment`, added if new.
    fn id(&mut self, environment: &str) -> Option<u32> {
        if let Some(i) = self.environments.iter().position(|e| **e == *environment) {
            return u32::try_from(i).ok();
        }
        let id = u32::try_from(self.environments.len()).ok()?;
        self.environments.push(environment.into());
        Some(id)
    }

    fn position(&mut self, environment: &str, at: usize) -> Option<Position> {
        Some(Position {
            environment: self.id(environment)?,
            at: u32::try_from(at).ok()?,
        })
    }

    /// Indexes the record at `at` of `environment` by its envelope digest
    /// (the first record indexed under a digest keeps it).
    pub(super) fn insert_digest(&mut self, digest: &Digest, environment: &str, at: usize) {
        if let Some(position) = self.position(environment, at) {
            self.by_digest.insert(digest_key(digest), position);
        }
    }

    /// Indexes the record at `at` of `environment` by one digest of its
    /// artifact, `algorithm:hex`, if the algorithm is strong.
    pub(super) fn insert_artifact_digest(
        &mut self,
        environment: &str,
        at: usize,
        algorithm: &str,
        hex: &str,
    ) {
        if !is_strong_algorithm(algorithm) {
            return;
        }
        let Some(position) = self.position(environment, at) else {
            return;
        };
        let key = self.artifact_key(environment, algorithm, hex);
        match self.by_artifact.get(&key) {
            Some(first) if first != position => {
                self.more_by_artifact.entry(key).or_default().push(position);
            }
            Some(_) => {}
            None => {
                self.by_artifact.insert(key, position);
            }
        }
    }

    fn artifact_key(&self, environment: &str, algorithm: &str, hex: &str) -> u64 {
        self.artifact_keys.hash_one((environment, algorithm, hex))
    }

    /// Where the record with envelope digest `digest` may be.
    pub(super) fn find_digest(&self, digest: &Digest) -> Option<(&str, usize)> {
        let p = self.by_digest.get(&digest_key(digest))?;
        self.resolve(p)
    }

    /// Where records of `environment` with artifact digest `algorithm:hex`
    /// may be, oldest first.
    pub(super) fn find_artifact<'a>(
        &'a self,
        environment: &'a str,
        algorithm: &str,
        hex: &str,
    ) -> impl Iterator<Item = usize> + 'a {
        let key = self.artifact_key(environment, algorithm, hex);
        let first = self.by_artifact.get(&key);
        let more = self.more_by_artifact.get(&key).map(Vec::as_slice);
        first
            .into_iter()
            .chain(more.unwrap_or(&[]).iter().copied())
            .filter_map(move |p| {
                let (env, at) = self.resolve(p)?;
                (env == environment).then_some(at)
            })
    }

    /// The record of `environment` whose envelope digest is `digest`.
    pub(super) fn record_in<'a>(
        &self,
        digest: &Digest,
        environment: &'a EnvironmentHistory,
    ) -> Option<VerifiedRecord<'a>> {
        let (env, at) = self.find_digest(digest)?;
        if env != environment.name() {
            return None;
        }
        environment.get(at).filter(|r| r.has_digest(digest))
    }

    /// The record among `environments` whose envelope digest is `digest`,
    /// with its environment's name.
    pub(super) fn record_among<'a>(
        &self,
        digest: &Digest,
        environments: &'a BTreeMap<String, EnvironmentHistory>,
    ) -> Option<(&'a String, VerifiedRecord<'a>)> {
        let (env, _) = self.find_digest(digest)?;
        let (name, environment) = environments.get_key_value(env)?;
        Some((name, self.record_in(digest, environment)?))
    }

    fn resolve(&self, p: Position) -> Option<(&str, usize)> {
        let env = self
            .environments
            .get(usize::try_from(p.environment).ok()?)?;
        Some((env, usize::try_from(p.at).ok()?))
    }

    /// Keeps only the digest entries for which `keep(environment, at)`.
    pub(super) fn retain_digests(&mut self, keep: impl Fn(&str, usize) -> bool) {
        let environments = &self.environments;
        self.by_digest.retain(|p| {
            let env = usize::try_from(p.environment)
                .ok()
                .and_then(|i| environments.get(i));
            let at = usize::try_from(p.at).ok();
            matches!((env, at), (Some(env), Some(at)) if keep(env, at))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::{DigestAlgorithm, DigestSet};

    #[test]
    fn finds_records_by_digest_and_by_artifact_per_environment() {
        let mut index = RecordIndex::default();
        let (dev, prod) = ("dev", "prod");
        let record = DigestAlgorithm::Sha256.hash(b"record");
        let other = DigestAlgorithm::Sha512.hash(b"other");
        index.insert_digest(&record, prod, 7);
        index.insert_digest(&other, dev, 1);
        let found = index
            .find_digest(&record)
            .map(|(e, at)| (e.to_string(), at));
        assert_eq!(found, Some(("prod".to_owned(), 7)));
        let found = index.find_digest(&other).map(|(e, at)| (e.to_string(), at));
        assert_eq!(found, Some(("dev".to_owned(), 1)));
        assert!(
            index
                .find_digest(&DigestAlgorithm::Sha256.hash(b"absent"))
                .is_none()
        );

        let artifact = DigestSet::of_bytes(b"artifact");
        let hex = artifact.get("sha256").unwrap_or_default().to_owned();
        for (env, at) in [(dev, 0), (prod, 3), (prod, 9)] {
            index.insert_artifact_digest(env, at, "sha256", &hex);
        }
        let in_prod: Vec<usize> = index.find_artifact("prod", "sha256", &hex).collect();
        assert_eq!(in_prod, vec![3, 9]);
        let in_dev: Vec<usize> = index.find_artifact("dev", "sha256", &hex).collect();
        assert_eq!(in_dev, vec![0]);
        assert_eq!(index.find_artifact("staging", "sha256", &hex).count(), 0);
    }

    #[test]
    fn retaining_drops_digest_entries() {
        let mut index = RecordIndex::default();
        let prod = "prod";
        let kept = DigestAlgorithm::Sha256.hash(b"kept");
        let dropped = DigestAlgorithm::Sha256.hash(b"dropped");
        index.insert_digest(&kept, prod, 0);
        index.insert_digest(&dropped, prod, 1);
        index.retain_digests(|_, at| at < 1);
        assert!(index.find_digest(&kept).is_some());
        assert!(index.find_digest(&dropped).is_none());
    }
}
