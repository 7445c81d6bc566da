//! A compact map for the history's indexes: a sorted vector sized to its
//! entries, plus a small hash map of recent insertions.
//!
//! A hash table of a million entries rounds up to a power of two buckets
//! (2,097,152 at a million: half of them empty), and while it grows it
//! holds the old table and the new one at once. A sorted vector holds
//! exactly its entries. Insertions go to `recent` (a refresh appends a
//! few records to a validated history at hash-map cost) and are merged
//! into the vector when `recent` outgrows a thirty-second of it, so a long run
//! of insertions moves each entry a bounded number of times (amortised
//! O(1) per insertion), and lookups are a hash probe plus a search.
//!
//! The keys are fingerprints (hash outputs), spread evenly over their
//! range, so a directory finds a key's neighbourhood at once: for each
//! value of the leading bits (about one value per four entries), where
//! the entries with those bits start. A lookup reads the directory, then
//! searches the few entries between two of its marks, where a binary
//! search of a vector too big for the caches takes a cache miss for most
//! of its log n halvings. Keys bunched under one mark (not hash outputs)
//! are found by the same binary search, over more entries.

use std::collections::HashMap;
use std::hash::Hash;

/// Insertions below this many stay in `recent` whatever the vector's size.
const MIN_RECENT: usize = 4096;

/// A key whose order its leading 64 bits follow: `a < b` implies
/// `a.spread() <= b.spread()`.
pub(super) trait Spread {
    /// The key's leading 64 bits.
    fn spread(&self) -> u64;
}

impl Spread for u64 {
    fn spread(&self) -> u64 {
        *self
    }
}

impl Spread for u128 {
    fn spread(&self) -> u64 {
        (*self >> 64) as u64
    }
}

impl Spread for [u64; 2] {
    fn spread(&self) -> u64 {
        self[0]
    }
}

#[cfg(test)]
impl Spread for u32 {
    fn spread(&self) -> u64 {
        u64::from(*self) << 32
    }
}

/// Keys to values; the first value inserted under a key stays.
#[derive(Debug, Clone)]
pub(super) struct SortedTable<K, V> {
    /// Sorted by key, one entry per key.
    sorted: Vec<(K, V)>,
    /// Keys not in `sorted`.
    recent: HashMap<K, V>,
    /// `directory[b]`: where the entries of `sorted` whose leading `bits`
    /// bits are `b` start; one more mark at the end. Empty (with `bits`
    /// 0) for a small table: the search covers it all.
    directory: Vec<u32>,
    bits: u32,
}

impl<K, V> Default for SortedTable<K, V> {
    fn default() -> Self {
        Self {
            sorted: Vec::new(),
            recent: HashMap::new(),
            directory: Vec::new(),
            bits: 0,
        }
    }
}

/// Below this many sorted entries the table has no directory.
const MIN_DIRECTORY: usize = 256;
/// At most 2^24 directory marks (64 MiB at a billion entries).
const MAX_DIRECTORY_BITS: u32 = 24;

impl<K: Ord + Hash + Copy + Spread, V: Copy> SortedTable<K, V> {
    /// The value under `key`.
    pub(super) fn get(&self, key: &K) -> Option<V> {
        if let Some(v) = self.recent.get(key) {
            return Some(*v);
        }
        let at = self.position(key)?;
        self.sorted.get(at).map(|(_, v)| *v)
    }

    /// Where `key` is in `sorted`: a binary search between the two
    /// directory marks of its leading bits.
    fn position(&self, key: &K) -> Option<usize> {
        let (lo, hi) = match self.bits {
            0 => (0, self.sorted.len()),
            bits => {
                let b = usize::try_from(key.spread() >> (64 - bits)).ok()?;
                let mark = |b: usize| usize::try_from(*self.directory.get(b)?).ok();
                (mark(b)?, mark(b.checked_add(1)?)?)
            }
        };
        let at = self
            .sorted
            .get(lo..hi)?
            .binary_search_by(|(k, _)| k.cmp(key));
        at.ok().map(|at| lo + at)
    }

    /// Rebuilds the directory after `sorted` changed: about one mark per
    /// four entries.
    fn rebuild_directory(&mut self) {
        self.directory.clear();
        let n = self.sorted.len();
        self.bits = match u32::try_from(n) {
            Ok(_) if n >= MIN_DIRECTORY => (n / 4).ilog2().min(MAX_DIRECTORY_BITS),
            _ => 0,
        };
        if self.bits == 0 {
            self.directory.shrink_to_fit();
            return;
        }
        let shift = 64 - self.bits;
        let marks = (1usize << self.bits) + 1;
        self.directory.reserve_exact(marks);
        // `n` fits in a u32 (checked above), so every position does.
        let mark = |at: usize| u32::try_from(at).unwrap_or(u32::MAX);
        for (at, (key, _)) in self.sorted.iter().enumerate() {
            // The marks up to this entry's bucket not set yet point here.
            let bucket = key.spread() >> shift;
            while (self.directory.len() as u64) <= bucket {
                self.directory.push(mark(at));
            }
        }
        self.directory.resize(marks, mark(n));
    }

    /// A table of `entries`, sorted by key with no key twice.
    pub(super) fn from_sorted(entries: Vec<(K, V)>) -> Self {
        debug_assert!(entries.windows(2).all(|w| matches!(w, [a, b] if a.0 < b.0)));
        let mut table = Self {
            sorted: entries,
            ..Self::default()
        };
        table.rebuild_directory();
        table
    }

    /// Adds `value` under `key` unless the key is already there; whether
    /// it was added.
    pub(super) fn insert(&mut self, key: K, value: V) -> bool {
        if self.get(&key).is_some() {
            return false;
        }
        self.recent.insert(key, value);
        if self.recent.len() > MIN_RECENT.max(self.sorted.len() / 32) {
            self.merge();
        }
        true
    }

    /// Moves `recent` into the sorted vector (growing it by exactly that
    /// many entries), merging from the back in place.
    fn merge(&mut self) {
        let mut add: Vec<(K, V)> = self.recent.drain().collect();
        add.sort_unstable_by_key(|a| a.0);
        self.recent.shrink_to_fit();
        let old = self.sorted.len();
        self.sorted.reserve_exact(add.len());
        // Make room at the end (filled with copies, overwritten below).
        let Some(&filler) = add.first() else { return };
        self.sorted.resize(old + add.len(), filler);
        let (mut i, mut j, mut out) = (old, add.len(), old + add.len());
        while j > 0 {
            out -= 1;
            let take_old = i > 0
                && matches!(
                    (self.sorted.get(i - 1), add.get(j - 1)),
                    (Some(a), Some(b)) if a.0 > b.0
                );
            let next = if take_old {
                i -= 1;
                self.sorted.get(i).copied()
            } else {
                j -= 1;
                add.get(j).copied()
            };
            if let (Some(next), Some(slot)) = (next, self.sorted.get_mut(out)) {
                *slot = next;
            }
        }
        self.rebuild_directory();
    }

    /// Keeps only the entries for which `keep(value)`.
    pub(super) fn retain(&mut self, mut keep: impl FnMut(V) -> bool) {
        self.sorted.retain(|(_, v)| keep(*v));
        self.sorted.shrink_to_fit();
        self.rebuild_directory();
        self.recent.retain(|_, v| keep(*v));
    }

    /// Adds every entry of `other` whose key is not here yet.
    pub(super) fn absorb(&mut self, other: Self) {
        let (mut big, small) = if self.len() >= other.len() {
            (std::mem::take(self), other)
        } else {
            (other, std::mem::take(self))
        };
        for (k, v) in small.sorted.into_iter().chain(small.recent) {
            big.insert(k, v);
        }
        *self = big;
    }

    /// How many entries.
    pub(super) fn len(&self) -> usize {
        self.sorted.len() + self.recent.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_first_value_and_finds_every_key_across_merges() {
        let mut table: SortedTable<u64, u32> = SortedTable::default();
        // A multiplicative walk: keys arrive out of order, merges happen
        // many times (MIN_RECENT is 4096).
        let key = |i: u64| i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        for i in 0..20_000u64 {
            assert!(table.insert(key(i), i as u32));
        }
        for i in 0..20_000u64 {
            assert!(!table.insert(key(i), u32::MAX));
        }
        assert_eq!(table.len(), 20_000);
        for i in 0..20_000u64 {
            assert_eq!(table.get(&key(i)), Some(i as u32), "key {i}");
        }
        assert_eq!(table.get(&key(20_000)), None);
        assert!(table.sorted.windows(2).all(|w| w[0].0 < w[1].0));
        // Each directory mark is where its bucket starts.
        assert!(table.bits > 0);
        let shift = 64 - table.bits;
        for (b, mark) in (0u64..).zip(&table.directory) {
            let starts = table
                .sorted
                .partition_point(|(k, _)| k.spread() >> shift < b);
            assert_eq!(*mark as usize, starts, "mark {b}");
        }
        assert_eq!(table.directory.len(), (1 << table.bits) + 1);
        // Keys bunched at both ends of the range (two marks hold them
        // all: the worst case for a directory) are found all the same.
        let mut bunched: SortedTable<u64, u32> = SortedTable::default();
        for i in 0..20_000u64 {
            let k = if i % 2 == 0 { i } else { u64::MAX - i };
            bunched.insert(k, i as u32);
        }
        for i in 0..20_000u64 {
            let k = if i % 2 == 0 { i } else { u64::MAX - i };
            assert_eq!(bunched.get(&k), Some(i as u32), "bunched key {i}");
            assert_eq!(bunched.get(&(k ^ 1)), None, "absent neighbour of {i}");
        }
        assert_eq!(bunched.get(&(1u64 << 40)), None);
        assert!(table.recent.len() <= MIN_RECENT.max(table.sorted.len() / 32));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Any keys (clustered or spread), any lookups: the table answers
        /// as an ordered map does.
        #[test]
        fn finds_what_an_ordered_map_finds(
            keys in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::num::u64::ANY,
                    0u64..64,
                    (u64::MAX - 64)..=u64::MAX,
                ],
                0..6000,
            ),
            probes in proptest::collection::vec(proptest::num::u64::ANY, 0..64),
        ) {
            let mut table: SortedTable<u64, usize> = SortedTable::default();
            let mut model = std::collections::BTreeMap::new();
            for (i, k) in keys.iter().enumerate() {
                table.insert(*k, i);
                model.entry(*k).or_insert(i);
            }
            for k in keys.iter().chain(&probes) {
                proptest::prop_assert_eq!(table.get(k), model.get(k).copied());
            }
        }
    }

    #[test]
    fn retaining_and_absorbing() {
        let mut a: SortedTable<u32, u32> = SortedTable::default();
        let mut b: SortedTable<u32, u32> = SortedTable::default();
        for i in 0..10_000 {
            a.insert(i * 2, i);
            b.insert(i * 3, i + 100_000);
        }
        a.retain(|v| v % 2 == 0);
        assert_eq!(a.get(&4), Some(2));
        assert_eq!(a.get(&2), None);
        a.absorb(b);
        assert_eq!(a.get(&4), Some(2));
        assert_eq!(a.get(&3), Some(100_001));
        assert_eq!(a.get(&6), Some(100_002), "b's 6 fills the dropped key");
        assert_eq!(a.get(&8), Some(4), "a's own 8 stays");
    }
}
