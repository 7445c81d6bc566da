//! Container images: attaching and listing 1,000 referrers of one image in
//! an image layout and in a real registry (docker-registry on loopback,
//! referrers tag schema), and validating a promotion chain stored in the
//! registry against the same chain in a directory store.
//!
//! `cargo bench --bench oci --features oci-registry`
//!
//! * attach 1,000: one timed run each (a batch of 1,000 operations),
//!   printed as `RESULT` lines: the layout rewrites `index.json` once per
//!   attach (and once in all with `attach_many`), the registry rewrites the
//!   referrers tag index once per attach;
//! * list (all 1,000, and one predicate type among them) and chain
//!   validation: criterion (`sample_size(10)`).
//!
//! Without the `oci-registry` feature, or without `docker-registry`
//! installed, only the layout and directory-store parts run. Under
//! `cargo bench -- --test` the sizes shrink to 20 referrers and 3 releases.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

#[path = "../tests/common/mod.rs"]
mod common;
#[cfg(feature = "oci-registry")]
#[path = "../tests/oci_common/mod.rs"]
mod oci_common;

use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use custodia::dsse::Envelope;
use custodia::keys::{KeyAlgorithm, PrivateKey};
use custodia::oci::{
    ArtifactIdentity, Attachment, ImageBuilder, Layout, ReferrerFilter, ReferrerSource,
};
use custodia::promotion::{DirStore, Store, validate_chain};
use custodia::resource::ResourceDescriptor;
use custodia::statement::{PAYLOAD_TYPE, Statement};

fn test_mode() -> bool {
    std::env::args().any(|a| a == "--test")
}

fn referrer_count() -> usize {
    if test_mode() { 20 } else { 1_000 }
}

fn release_count() -> usize {
    if test_mode() { 3 } else { 20 }
}

/// `n` signed statements about the image, predicate types
/// `https://example.com/p/<i>` (distinct, so every attach is new).
fn envelopes(image: &ArtifactIdentity, n: usize) -> Vec<Envelope> {
    let key = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
    (0..n)
        .map(|i| {
            let st = Statement::new_untyped(
                vec![ResourceDescriptor::new("app", image.digest_set().unwrap())],
                format!("https://example.com/p/{i}"),
                serde_json::json!({"i": i}),
            )
            .unwrap();
            Envelope::sign(PAYLOAD_TYPE, st.to_json().unwrap(), &key).unwrap()
        })
        .collect()
}

fn attach_all(
    what: &str,
    attach: impl Fn(&Attachment) -> custodia::Result<()>,
    envelopes: &[Envelope],
) {
    let start = Instant::now();
    for e in envelopes {
        attach(&Attachment::dsse(e).unwrap()).unwrap();
    }
    let elapsed = start.elapsed();
    println!(
        "RESULT {what}: attach {} referrers: {:.2} s ({:.2} ms per attach)",
        envelopes.len(),
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 / envelopes.len() as f64
    );
}

fn bench_listing(
    c: &mut Criterion,
    what: &str,
    source: &dyn ReferrerSource,
    image: &ArtifactIdentity,
) {
    let n = referrer_count();
    let subject = &image.descriptor.digest;
    assert_eq!(
        source
            .referrers(subject, &ReferrerFilter::any())
            .unwrap()
            .len(),
        n
    );
    let mut group = c.benchmark_group(format!("oci_{what}"));
    group.sample_size(10);
    group.bench_function(format!("list_{n}_referrers"), |b| {
        b.iter(|| source.referrers(subject, &ReferrerFilter::any()).unwrap())
    });
    let one = ReferrerFilter::any().predicate_type("https://example.com/p/7");
    group.bench_function(format!("list_1_of_{n}_by_predicate_type"), |b| {
        b.iter(|| {
            let found = source.referrers(subject, &one).unwrap();
            assert_eq!(found.len(), 1);
            found
        })
    });
    group.finish();
}

fn layout(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::create(dir.path()).unwrap();
    ImageBuilder::new()
        .file("app", b"bench")
        .write_to(&layout, "v1")
        .unwrap();
    let image = layout.identity(Some("v1")).unwrap();
    let envelopes = envelopes(&image, referrer_count());
    attach_all(
        "layout",
        |a| layout.attach(&image.descriptor, a).map(|_| ()),
        &envelopes,
    );
    bench_listing(c, "layout", &layout, &image);

    // The same 1,000 in one call: one index.json update.
    let batch_dir = tempfile::tempdir().unwrap();
    let batch = Layout::create(batch_dir.path()).unwrap();
    ImageBuilder::new()
        .file("app", b"bench")
        .write_to(&batch, "v1")
        .unwrap();
    let attachments: Vec<Attachment> = envelopes
        .iter()
        .map(|e| Attachment::dsse(e).unwrap())
        .collect();
    let start = Instant::now();
    batch.attach_many(&image.descriptor, &attachments).unwrap();
    println!(
        "RESULT layout: attach_many {} referrers: {:.2} s",
        attachments.len(),
        start.elapsed().as_secs_f64()
    );
}

/// Ships `release_count()` releases through dev, staging and prod into
/// `store` (each image's digest as the artifact).
fn ship(store: &dyn Store, pipeline: &common::Pipeline, images: &[ArtifactIdentity]) {
    for (i, image) in images.iter().enumerate() {
        pipeline.ship(
            store,
            &image.digest_set().unwrap(),
            common::T0 + i as i64 * 24 * common::HOUR,
        );
    }
}

fn chain_in_dir_store(c: &mut Criterion, pipeline: &common::Pipeline, images: &[ArtifactIdentity]) {
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::open(dir.path()).unwrap();
    let start = Instant::now();
    ship(&store, pipeline, images);
    println!(
        "RESULT dir store: ship {} releases (3 promotions each): {:.2} s",
        images.len(),
        start.elapsed().as_secs_f64()
    );
    assert!(validate_chain(&store, &pipeline.policy, "prod").verified());
    let mut group = c.benchmark_group("oci_chain");
    group.sample_size(10);
    group.bench_function(
        format!("validate_prod_{}_releases_dir_store", images.len()),
        |b| b.iter(|| assert!(validate_chain(&store, &pipeline.policy, "prod").verified())),
    );
    group.finish();
}

#[cfg(feature = "oci-registry")]
fn registry(c: &mut Criterion) {
    use custodia::oci::registry::{Registry, RegistryOptions, RegistryStore};
    let Some(server) = oci_common::RegistryServer::start(None) else {
        println!("RESULT registry: skipped (docker-registry not installed)");
        return;
    };
    let client = || {
        Registry::new(
            &server.host(),
            "bench/app",
            RegistryOptions::new().plain_http(),
        )
        .unwrap()
    };
    // Referrers of one image.
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::create(dir.path()).unwrap();
    let descriptor = ImageBuilder::new()
        .file("app", b"bench")
        .write_to(&layout, "v1")
        .unwrap();
    let registry = client();
    registry
        .push_from_layout(&layout, &descriptor, "v1")
        .unwrap();
    let image = registry.identity("v1").unwrap();
    let envelopes = envelopes(&image, referrer_count());
    attach_all(
        "registry (tag schema)",
        |a| registry.attach(&image.descriptor, a).map(|_| ()),
        &envelopes,
    );
    bench_listing(c, "registry", &registry, &image);

    // The same chain in the registry and in a directory store.
    let pipeline = common::Pipeline::new();
    let images: Vec<ArtifactIdentity> = (0..release_count())
        .map(|i| {
            let d = ImageBuilder::new()
                .file("app", format!("release {i}").as_bytes())
                .write_to(&layout, &format!("r{i}"))
                .unwrap();
            registry
                .push_from_layout(&layout, &d, &format!("r{i}"))
                .unwrap();
            registry.identity(&format!("r{i}")).unwrap()
        })
        .collect();
    let store = RegistryStore::new(client());
    let start = Instant::now();
    ship(&store, &pipeline, &images);
    println!(
        "RESULT registry store: ship {} releases (3 promotions each): {:.2} s",
        images.len(),
        start.elapsed().as_secs_f64()
    );
    assert!(validate_chain(&store, &pipeline.policy, "prod").verified());
    let mut group = c.benchmark_group("oci_chain");
    group.sample_size(10);
    group.bench_function(
        format!("validate_prod_{}_releases_registry_store", images.len()),
        |b| b.iter(|| assert!(validate_chain(&store, &pipeline.policy, "prod").verified())),
    );
    group.finish();
    chain_in_dir_store(c, &pipeline, &images);
}

#[cfg(not(feature = "oci-registry"))]
fn registry(c: &mut Criterion) {
    println!("RESULT registry: skipped (build with --features oci-registry)");
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::create(dir.path()).unwrap();
    let images: Vec<ArtifactIdentity> = (0..release_count())
        .map(|i| {
            ImageBuilder::new()
                .file("app", format!("release {i}").as_bytes())
                .write_to(&layout, &format!("r{i}"))
                .unwrap();
            layout.identity(Some(&format!("r{i}"))).unwrap()
        })
        .collect();
    chain_in_dir_store(c, &common::Pipeline::new(), &images);
}

criterion_group!(benches, layout, registry);
criterion_main!(benches);
