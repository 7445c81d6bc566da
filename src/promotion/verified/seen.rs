//! The set of envelopes a validation has read, as 128-bit fingerprints.

use crate::digest::{Digest, DigestAlgorithm};

use super::table::SortedTable;

/// A digest as 128 bits: a SHA-256 digest's first 16 bytes, any other
/// digest's first 16 bytes of the SHA-256 of its algorithm and bytes.
pub(super) fn fingerprint(digest: &Digest) -> u128 {
    let first16 = |bytes: &[u8]| {
        let mut out = [0u8; 16];
        for (o, b) in out.iter_mut().zip(bytes) {
            *o = *b;
        }
        u128::from_le_bytes(out)
    };
    if digest.algorithm() == DigestAlgorithm::Sha256 {
        first16(digest.as_bytes())
    } else {
        let mut tagged = digest.algorithm().name().as_bytes().to_vec();
        tagged.push(b':');
        tagged.extend_from_slice(digest.as_bytes());
        first16(DigestAlgorithm::Sha256.hash(&tagged).as_bytes())
    }
}

/// Digests gathered to become a [`Seen`] once all are known: each one
/// appended (no lookup per digest, in a set whose lookups miss the caches
/// once it is large), then sorted once. It grows by an eighth at a time,
/// not by doubling, so at most an eighth of it is unused room.
#[derive(Debug, Default)]
pub(in crate::promotion) struct SeenList(Vec<u128>);

impl SeenList {
    /// Adds `digest` (again, if it was there).
    pub(in crate::promotion) fn push(&mut self, digest: &Digest) {
        if self.0.len() == self.0.capacity() {
            self.0.reserve_exact((self.0.len() / 8).max(1024));
        }
        self.0.push(fingerprint(digest));
    }

    /// The set of the digests added.
    pub(in crate::promotion) fn into_seen(self) -> Seen {
        let mut fingerprints = self.0;
        fingerprints.sort_unstable();
        fingerprints.dedup();
        Seen(SortedTable::from_sorted(
            fingerprints.into_iter().map(|f| (f, ())).collect(),
        ))
    }
}

/// Envelope digests already read and classified (records, evidence,
/// incidents), so a store scan or a refresh reads each envelope once.
///
/// Each digest is kept as 128 bits (16 bytes, a third of a [`Digest`]): a
/// SHA-256 digest's first 16 bytes, any other digest's first 16 bytes of
/// the SHA-256 of its algorithm and bytes. A false "seen" would make a scan
/// skip an envelope; making one means finding a stored envelope whose
/// fingerprint equals that of an envelope already there, a second preimage
/// on 128 bits of SHA-256 (about 2^128 work, whatever the attacker can
/// write). They are kept sorted (16 bytes each, no power-of-two table;
/// see [`SortedTable`]); the few recent ones sit in a hash set keyed per
/// process (`RandomState`), so ground digests cannot crowd its buckets.
#[derive(Debug, Clone, Default)]
pub(in crate::promotion) struct Seen(SortedTable<u128, ()>);

impl Seen {
    /// Adds `digest`; whether it was new.
    pub(in crate::promotion) fn insert(&mut self, digest: &Digest) -> bool {
        self.0.insert(fingerprint(digest), ())
    }

    /// Whether `digest` was added.
    pub(in crate::promotion) fn contains(&self, digest: &Digest) -> bool {
        self.0.get(&fingerprint(digest)).is_some()
    }

    /// Adds every digest of `digests`.
    pub(in crate::promotion) fn extend<'a>(
        &mut self,
        digests: impl IntoIterator<Item = &'a Digest>,
    ) {
        for d in digests {
            self.0.insert(fingerprint(d), ());
        }
    }

    /// Adds every digest of `other`.
    pub(in crate::promotion) fn absorb(&mut self, other: Seen) {
        self.0.absorb(other.0);
    }

    /// How many digests were added.
    #[cfg(test)]
    pub(in crate::promotion) fn len(&self) -> usize {
        self.0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_of_every_algorithm_are_told_apart() {
        let mut seen = Seen::default();
        let mut all = Vec::new();
        for algorithm in DigestAlgorithm::ALL {
            for input in [&b"a"[..], b"b", b""] {
                all.push(algorithm.hash(input));
            }
        }
        for (i, d) in all.iter().enumerate() {
            assert!(!seen.contains(d), "{d} before it was added");
            assert!(seen.insert(d));
            assert!(!seen.insert(d));
            assert_eq!(seen.len(), i + 1);
        }
    }

    #[test]
    fn a_list_becomes_the_set_of_its_digests() {
        let d = |i: u32| DigestAlgorithm::Sha256.hash(&i.to_le_bytes());
        let mut list = SeenList::default();
        for i in (0..5000).chain(0..100) {
            list.push(&d(i));
        }
        list.push(&DigestAlgorithm::Sha512.hash(b"x"));
        let seen = list.into_seen();
        assert_eq!(seen.len(), 5001);
        assert!((0..5000).all(|i| seen.contains(&d(i))));
        assert!(seen.contains(&DigestAlgorithm::Sha512.hash(b"x")));
        assert!(!seen.contains(&d(5000)));
    }

    #[test]
    fn absorbing_keeps_both_sides() {
        let d = |s: &[u8]| DigestAlgorithm::Sha256.hash(s);
        let (mut small, mut large) = (Seen::default(), Seen::default());
        small.insert(&d(b"1"));
        large.extend([&d(b"2"), &d(b"3")]);
        small.absorb(large);
        for s in [b"1", b"2", b"3"] {
            assert!(small.contains(&d(s)));
        }
        assert!(!small.contains(&d(b"4")));
    }
}
