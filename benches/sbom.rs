//! SBOMs from Cargo lock files: the producer (`from_cargo`) and the
//! CycloneDX 1.7 / 1.6 and SPDX 2.3 / 3.0.1 writers and readers, on a
//! synthetic 2,000-package lock file and on this repository's own
//! `Cargo.lock`; the SBOM of a binary carrying the same 2,000 packages'
//! `cargo auditable` data (`sbom_binary_2000`), against auditable-info
//! reading the same bytes in the same run.
//!
//! ```text
//! cargo bench --bench sbom
//! ```
//!
//! * `sbom_2000/from_cargo`: a version-4 lock file with 2,000 packages
//!   (the root, 3 workspace members, 1,980 crates.io packages with
//!   checksums of which 40 in a second version, 16 git packages; about 5
//!   dependencies each) and its root manifest, parsed into the model.
//! * `sbom_2000/cyclonedx_1_6`, `sbom_2000/cyclonedx_1_5`, `sbom_2000/spdx_2_3`:
//!   writing that model.
//! * `sbom_2000/lock_to_cyclonedx_1_6`: both steps, as `attest sbom` does.
//! * `sbom_2000/read_cyclonedx_1_6`, `sbom_2000/read_spdx_2_3`: reading the
//!   written documents back.
//! * `sbom_2000/cyclonedx_1_7`, `sbom_2000/spdx_3_0_1` and their `read_`
//!   rows: the same for CycloneDX 1.7 and SPDX 3.0.1 JSON-LD.
//! * `sbom_binary_2000/custodia_from_binary` against
//!   `sbom_binary_2000/auditable_info_audit_info_from_slice`: one
//!   WebAssembly module with the 2,000 packages' `.dep-v0` data, read by
//!   both in the same run; `.../custodia_from_binary_to_cyclonedx_1_7` adds
//!   the write.
//! * `sbom_this_repo/from_cargo`, `.../lock_to_cyclonedx_1_6`: this
//!   repository's `Cargo.lock` and `Cargo.toml` read from disk each time
//!   (what cargo-cyclonedx takes ~0.2-0.4 s for, running `cargo metadata`;
//!   see tests/sbom_peer.rs).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use custodia::sbom::cargo::{CargoInput, from_cargo};
use custodia::sbom::cyclonedx::{self, CycloneDxVersion};
use custodia::sbom::{spdx, spdx3};
use custodia::time::Timestamp;

const PACKAGES: usize = 2_000;
const MEMBERS: usize = 3;
const GIT: usize = 16;
const SECOND_VERSIONS: usize = 40;
const CRATES_IO: &str = "registry+https://github.com/rust-lang/crates.io-index";

/// A deterministic xorshift64 generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn hex(&mut self, bytes: usize) -> String {
        let mut s = String::with_capacity(bytes * 2);
        for _ in 0..bytes {
            write!(s, "{:02x}", self.next() as u8).unwrap();
        }
        s
    }
}

struct Package {
    name: String,
    version: String,
    source: Option<String>,
    checksum: Option<String>,
    deps: Vec<usize>,
}

/// A version-4 `Cargo.lock` with `PACKAGES` packages and its manifest.
fn synthetic_lock() -> (String, String) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let words = [
        "serde", "tokio", "async", "core", "derive", "macros", "sys", "util", "io", "net", "http",
        "proto", "codec", "hash", "crypto", "log", "trace", "sync", "time", "fs",
    ];
    let mut packages: Vec<Package> = Vec::with_capacity(PACKAGES);
    packages.push(Package {
        name: "app".into(),
        version: "1.0.0".into(),
        source: None,
        checksum: None,
        deps: Vec::new(),
    });
    for m in 0..MEMBERS {
        packages.push(Package {
            name: format!("app-member-{m}"),
            version: "1.0.0".into(),
            source: None,
            checksum: None,
            deps: Vec::new(),
        });
    }
    let third_party = PACKAGES - packages.len() - SECOND_VERSIONS;
    for i in 0..third_party {
        let name = format!(
            "{}-{}-{i}",
            words[rng.below(words.len())],
            words[rng.below(words.len())]
        );
        let version = format!("{}.{}.{}", 1 + rng.below(3), rng.below(40), rng.below(20));
        let (source, checksum) = if i % (third_party / GIT) == 7 {
            (
                Some(format!(
                    "git+https://github.com/acme/{name}?branch=main#{}",
                    rng.hex(20)
                )),
                None,
            )
        } else {
            (Some(CRATES_IO.to_owned()), Some(rng.hex(32)))
        };
        packages.push(Package {
            name,
            version,
            source,
            checksum,
            deps: Vec::new(),
        });
    }
    // A second, older version of some crates.io packages.
    let firsts = packages.len();
    for k in 0..SECOND_VERSIONS {
        let i = MEMBERS + 1 + k * 37 % (firsts - MEMBERS - 1);
        let Some(orig) = packages.get(i) else { break };
        if orig.checksum.is_none() {
            continue;
        }
        let name = orig.name.clone();
        packages.push(Package {
            name,
            version: "0.1.0".into(),
            source: Some(CRATES_IO.to_owned()),
            checksum: Some(rng.hex(32)),
            deps: Vec::new(),
        });
    }
    // About 5 dependencies each, always on later packages (a DAG); the
    // root depends on the members and the members on the first crates.
    let n = packages.len();
    for (i, p) in packages.iter_mut().enumerate() {
        p.deps = if i == 0 {
            (1..=MEMBERS).collect()
        } else if i <= MEMBERS {
            (0..8).map(|k| MEMBERS + 1 + i * 8 + k).collect()
        } else if i + 1 < n {
            let count = 3 + rng.below(5);
            let mut d: Vec<usize> = (0..count).map(|_| i + 1 + rng.below(n - i - 1)).collect();
            d.sort_unstable();
            d.dedup();
            d
        } else {
            Vec::new()
        };
    }

    let mut versions_of = std::collections::BTreeMap::<&str, usize>::new();
    for p in &packages {
        *versions_of.entry(&p.name).or_default() += 1;
    }
    let mut lock = String::from(
        "# This file is automatically @generated by Cargo.\n\
         # It is not intended for manual editing.\nversion = 4\n",
    );
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        (&packages[a].name, &packages[a].version).cmp(&(&packages[b].name, &packages[b].version))
    });
    for &i in &order {
        let p = &packages[i];
        write!(
            lock,
            "\n[[package]]\nname = \"{}\"\nversion = \"{}\"\n",
            p.name, p.version
        )
        .unwrap();
        if let Some(s) = &p.source {
            writeln!(lock, "source = \"{s}\"").unwrap();
        }
        if let Some(c) = &p.checksum {
            writeln!(lock, "checksum = \"{c}\"").unwrap();
        }
        if !p.deps.is_empty() {
            lock.push_str("dependencies = [\n");
            for &d in &p.deps {
                let dep = &packages[d];
                if versions_of[dep.name.as_str()] > 1 {
                    writeln!(lock, " \"{} {}\",", dep.name, dep.version).unwrap();
                } else {
                    writeln!(lock, " \"{}\",", dep.name).unwrap();
                }
            }
            lock.push_str("]\n");
        }
    }
    let manifest = "[package]\nname = \"app\"\nversion = \"1.0.0\"\nedition = \"2024\"\n\
                    license = \"MIT OR Apache-2.0\"\ndescription = \"A synthetic app\"\n\
                    authors = [\"Ana <ana@acme.example>\"]\n\n\
                    [workspace]\nmembers = [\"member-0\", \"member-1\", \"member-2\"]\n"
        .to_owned();
    (lock, manifest)
}

fn group<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    g
}

fn sbom_2000(c: &mut Criterion) {
    let (lock, manifest) = synthetic_lock();
    let time = Timestamp::from_unix(1_700_000_000);
    let input = CargoInput::new(&lock).with_manifest(&manifest);
    let sbom = from_cargo(&input, time).unwrap();
    assert_eq!(sbom.components.len() + 1, PACKAGES, "2,000 packages");
    let edges: usize = sbom.dependencies.values().map(|d| d.len()).sum();
    let cdx = cyclonedx::to_json(&sbom, CycloneDxVersion::V1_6).unwrap();
    let spdx = spdx::to_json(&sbom).unwrap();
    eprintln!(
        "sbom_2000: lock {} KiB, {} components, {edges} edges, {} git; CycloneDX 1.6 {} KiB, SPDX 2.3 {} KiB",
        lock.len() / 1024,
        sbom.components.len() + 1,
        lock.matches("source = \"git+").count(),
        cdx.len() / 1024,
        spdx.len() / 1024
    );

    let mut g = group(c, "sbom_2000");
    g.bench_function("from_cargo", |b| {
        b.iter(|| from_cargo(black_box(&input), time).unwrap())
    });
    g.bench_function("cyclonedx_1_6", |b| {
        b.iter(|| cyclonedx::to_json(black_box(&sbom), CycloneDxVersion::V1_6).unwrap())
    });
    g.bench_function("cyclonedx_1_5", |b| {
        b.iter(|| cyclonedx::to_json(black_box(&sbom), CycloneDxVersion::V1_5).unwrap())
    });
    g.bench_function("spdx_2_3", |b| {
        b.iter(|| spdx::to_json(black_box(&sbom)).unwrap())
    });
    g.bench_function("lock_to_cyclonedx_1_6", |b| {
        b.iter(|| {
            let sbom = from_cargo(black_box(&input), time).unwrap();
            cyclonedx::to_json(&sbom, CycloneDxVersion::V1_6).unwrap()
        })
    });
    g.bench_function("read_cyclonedx_1_6", |b| {
        b.iter(|| cyclonedx::from_json(black_box(&cdx)).unwrap())
    });
    g.bench_function("read_spdx_2_3", |b| {
        b.iter(|| spdx::from_json(black_box(&spdx)).unwrap())
    });
    let cdx17 = cyclonedx::to_json(&sbom, CycloneDxVersion::V1_7).unwrap();
    let spdx3 = spdx3::to_json(&sbom).unwrap();
    eprintln!(
        "sbom_2000: CycloneDX 1.7 {} KiB, SPDX 3.0.1 {} KiB",
        cdx17.len() / 1024,
        spdx3.len() / 1024
    );
    g.bench_function("cyclonedx_1_7", |b| {
        b.iter(|| cyclonedx::to_json(black_box(&sbom), CycloneDxVersion::V1_7).unwrap())
    });
    g.bench_function("spdx_3_0_1", |b| {
        b.iter(|| spdx3::to_json(black_box(&sbom)).unwrap())
    });
    g.bench_function("read_cyclonedx_1_7", |b| {
        b.iter(|| cyclonedx::from_json(black_box(&cdx17)).unwrap())
    });
    g.bench_function("read_spdx_3_0_1", |b| {
        b.iter(|| spdx3::from_json(black_box(&spdx3)).unwrap())
    });
    g.finish();
    #[cfg(feature = "auditable")]
    sbom_binary(c, &sbom);
}

/// The audit data `cargo auditable` would embed for `sbom` (every
/// component, its dependencies by index), zlib-compressed in the `.dep-v0`
/// custom section of a WebAssembly module.
#[cfg(feature = "auditable")]
fn auditable_module(sbom: &custodia::sbom::Sbom) -> Vec<u8> {
    let all: Vec<&custodia::sbom::Component> = std::iter::once(&sbom.root)
        .chain(&sbom.components)
        .collect();
    let index: std::collections::BTreeMap<&str, usize> = all
        .iter()
        .enumerate()
        .map(|(i, c)| (c.bom_ref.as_str(), i))
        .collect();
    let packages: Vec<serde_json::Value> = all
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let deps: Vec<usize> = sbom
                .dependencies
                .get(&c.bom_ref)
                .into_iter()
                .flatten()
                .filter_map(|d| index.get(d.as_str()).copied())
                .collect();
            let source = match &c.source {
                custodia::sbom::SourceKind::Registry(_) => "crates.io",
                custodia::sbom::SourceKind::Git { .. } => "git",
                _ => "local",
            };
            serde_json::json!({"name": c.name, "version": c.version, "source": source,
                "dependencies": deps, "root": i == 0})
        })
        .collect();
    let json = serde_json::to_vec(&serde_json::json!({ "packages": packages })).unwrap();
    let payload = miniz_oxide::deflate::compress_to_vec_zlib(&json, 7);
    let leb = |mut n: usize, out: &mut Vec<u8>| loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    };
    let mut body = Vec::new();
    leb(7, &mut body);
    body.extend_from_slice(b".dep-v0");
    body.extend_from_slice(&payload);
    let mut module = b"\0asm\x01\0\0\0\0".to_vec();
    leb(body.len(), &mut module);
    module.extend(body);
    module
}

/// The SBOM of a binary carrying the 2,000 packages' audit data, against
/// auditable-info (the reference reader) reading the same bytes.
#[cfg(feature = "auditable")]
fn sbom_binary(c: &mut Criterion, sbom: &custodia::sbom::Sbom) {
    use custodia::sbom::binary::{Limits, from_binary};
    let module = auditable_module(sbom);
    let time = Timestamp::from_unix(1_700_000_000);
    let ours = from_binary(&module, Limits::default(), time).unwrap();
    let theirs = auditable_info::audit_info_from_slice(&module, 8 << 20).unwrap();
    assert_eq!(ours.components.len() + 1, theirs.packages.len());
    eprintln!(
        "sbom_binary: module {} KiB, {} packages",
        module.len() / 1024,
        theirs.packages.len()
    );
    let mut g = group(c, "sbom_binary_2000");
    g.bench_function("custodia_from_binary", |b| {
        b.iter(|| from_binary(black_box(&module), Limits::default(), time).unwrap())
    });
    g.bench_function("auditable_info_audit_info_from_slice", |b| {
        b.iter(|| auditable_info::audit_info_from_slice(black_box(&module), 8 << 20).unwrap())
    });
    g.bench_function("custodia_from_binary_to_cyclonedx_1_7", |b| {
        b.iter(|| {
            let sbom = from_binary(black_box(&module), Limits::default(), time).unwrap();
            cyclonedx::to_json(&sbom, CycloneDxVersion::V1_7).unwrap()
        })
    });
    g.finish();
}

fn sbom_this_repo(c: &mut Criterion) {
    let root = env!("CARGO_MANIFEST_DIR");
    let (lock_path, manifest_path) = (format!("{root}/Cargo.lock"), format!("{root}/Cargo.toml"));
    let time = Timestamp::from_unix(1_700_000_000);
    let read = || {
        let lock = std::fs::read_to_string(&lock_path).unwrap();
        let manifest = std::fs::read_to_string(&manifest_path).unwrap();
        from_cargo(&CargoInput::new(&lock).with_manifest(&manifest), time).unwrap()
    };
    eprintln!(
        "sbom_this_repo: {} locked packages",
        read().components.len() + 1
    );
    let mut g = group(c, "sbom_this_repo");
    g.bench_function("from_cargo", |b| b.iter(read));
    g.bench_function("lock_to_cyclonedx_1_6", |b| {
        b.iter(|| cyclonedx::to_json(&read(), CycloneDxVersion::V1_6).unwrap())
    });
    g.finish();
}

criterion_group!(benches, sbom_2000, sbom_this_repo);
criterion_main!(benches);
