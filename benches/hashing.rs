//! SHA-256 over 256 MiB: custodia's streaming hashers against the raw
//! `sha2` primitive, in one run so the numbers are comparable.
//!
//! ```text
//! cargo bench --bench hashing
//! ```
//!
//! * `sha2_digest`: `sha2::Sha256::digest(&buf)`, the primitive.
//! * `custodia_hash`: `DigestAlgorithm::Sha256.hash(&buf)`, the one-shot API.
//! * `hash_reader`: `hash_reader(Sha256, &buf[..])`, the streaming API over
//!   an in-memory reader (copies into its read buffer).
//! * `hash_buf_reader`: `hash_buf_reader(Sha256, &buf[..])`, hashing a
//!   `BufRead`'s buffer in place.
//! * `hash_file`: `hash_file(Sha256, path)` on a 256 MiB temporary file
//!   (page cache warm after the first pass).
//!
//! Group `artifact_64MiB` (issue #14), on a 64 MiB file: `sha256_only`
//! (`hash_file(Sha256)`, the baseline) against `complete`
//! (`hash_path_complete`: sha256, sha384 and sha512 in one read, what
//! `verifier --artifact` now computes so every digest a subject lists is
//! checked).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::hint::black_box;
use std::io::Write as _;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use custodia::digest::{
    DigestAlgorithm, DigestSet, hash_buf_reader, hash_file, hash_path_complete, hash_reader,
};
use sha2::Digest as _;

const SIZE: usize = 256 * 1024 * 1024;

/// Deterministic, incompressible-looking bytes (xorshift64).
fn buffer() -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut buf = Vec::with_capacity(SIZE);
    while buf.len() < SIZE {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        buf.extend_from_slice(&state.to_le_bytes());
    }
    buf
}

fn hashing(c: &mut Criterion) {
    let buf = buffer();
    let expected = sha2::Sha256::digest(&buf);

    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(&buf).expect("write temp file");
    file.flush().expect("flush temp file");
    let path = file.path().to_owned();
    assert_eq!(
        hash_file(DigestAlgorithm::Sha256, &path)
            .unwrap()
            .as_bytes(),
        expected.as_slice()
    );
    assert_eq!(
        hash_reader(DigestAlgorithm::Sha256, &buf[..])
            .unwrap()
            .as_bytes(),
        expected.as_slice()
    );

    let mut group = c.benchmark_group("sha256_256MiB");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .throughput(Throughput::Bytes(SIZE as u64));

    group.bench_function("sha2_digest", |b| {
        b.iter(|| sha2::Sha256::digest(black_box(&buf[..])))
    });
    group.bench_function("custodia_hash", |b| {
        b.iter(|| DigestAlgorithm::Sha256.hash(black_box(&buf[..])))
    });
    group.bench_function("hash_reader", |b| {
        b.iter(|| hash_reader(DigestAlgorithm::Sha256, black_box(&buf[..])).unwrap())
    });
    group.bench_function("hash_buf_reader", |b| {
        b.iter(|| hash_buf_reader(DigestAlgorithm::Sha256, black_box(&buf[..])).unwrap())
    });
    group.bench_function("hash_file", |b| {
        b.iter(|| hash_file(DigestAlgorithm::Sha256, black_box(&path)).unwrap())
    });
    group.finish();

    const ARTIFACT: usize = 64 * 1024 * 1024;
    let mut small = tempfile::NamedTempFile::new().expect("temp file");
    small.write_all(&buf[..ARTIFACT]).expect("write temp file");
    small.flush().expect("flush temp file");
    let small_path = small.path().to_owned();
    assert_eq!(
        hash_path_complete(&small_path, &mut |_| {}).unwrap(),
        DigestSet::of_artifact(&buf[..ARTIFACT])
    );
    let mut group = c.benchmark_group("artifact_64MiB");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .throughput(Throughput::Bytes(ARTIFACT as u64));
    group.bench_function("sha256_only", |b| {
        b.iter(|| hash_file(DigestAlgorithm::Sha256, black_box(&small_path)).unwrap())
    });
    group.bench_function("complete", |b| {
        b.iter(|| hash_path_complete(black_box(&small_path), &mut |_| {}).unwrap())
    });
    group.finish();
}

criterion_group!(benches, hashing);
criterion_main!(benches);
