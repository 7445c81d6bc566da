//! What the bounded, safe read costs: `custodia::fsread::read` (lstat,
//! open with O_NOFOLLOW | O_NONBLOCK, fstat, bounded read) against
//! `std::fs::read` of the same file, in one run so the numbers compare.
//!
//! ```text
//! cargo bench --bench fsread
//! ```
//!
//! * a 65-byte store link (`fsread::STORE_LINK`);
//! * a 4 KiB envelope (`fsread::ENVELOPE`);
//! * a 1 MiB envelope;
//! * `DirStore::get` of the 4 KiB envelope (read + SHA-256 of the bytes),
//!   for scale.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use custodia::fsread::{self, Limit};
use custodia::promotion::{DirStore, Store};

fn reads(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, usize, Limit); 3] = [
        ("link_65B", 65, fsread::STORE_LINK),
        ("envelope_4KiB", 4096, fsread::ENVELOPE),
        ("envelope_1MiB", 1 << 20, fsread::ENVELOPE),
    ];
    let mut group = c.benchmark_group("fsread");
    for (name, size, limit) in cases {
        let path = dir.path().join(name);
        let bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(fsread::read(&path, limit).unwrap(), bytes);
        group.bench_function(format!("std_fs_read/{name}"), |b| {
            b.iter(|| black_box(std::fs::read(black_box(&path)).unwrap()))
        });
        group.bench_function(format!("fsread_read/{name}"), |b| {
            b.iter(|| black_box(fsread::read(black_box(&path), limit).unwrap()))
        });
    }
    let store = DirStore::open(dir.path().join("store")).unwrap();
    let envelope: Vec<u8> = (0..4096).map(|i| (i % 251) as u8).collect();
    let digest = store.put(&envelope).unwrap();
    group.bench_function("dirstore_get/envelope_4KiB", |b| {
        b.iter(|| black_box(store.get(black_box(&digest)).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, reads);
criterion_main!(benches);
