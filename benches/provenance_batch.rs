//! Verifying 10,000 signed SLSA provenance envelopes (Ed25519): custodia
//! single-threaded and with the rayon batch API, against ring's raw
//! signature verification of the same envelopes, in the same run.
//!
//! `cargo bench --bench provenance_batch`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use custodia::digest::DigestSet;
use custodia::dsse::{Envelope, pae};
use custodia::keys::PrivateKey;
use custodia::provenance::{
    BuildContext, ProvenanceExpectation, SourceRef, verify_provenance, verify_provenance_batch,
};
use custodia::statement::PAYLOAD_TYPE;
use custodia::time::Timestamp;
use custodia::trust::TrustAnchors;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};

const COUNT: usize = 10_000;
const BUILDER: &str = "https://github.com/acme/builders/.github/workflows/build.yml";

fn bench(c: &mut Criterion) {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let raw_public = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
        .unwrap()
        .public_key()
        .as_ref()
        .to_vec();
    let key = PrivateKey::from_pkcs8_der(pkcs8.as_ref()).unwrap();
    let keys: TrustAnchors = [key.public_key().clone()].into_iter().collect();

    let mut source = SourceRef::new("https://github.com/acme/app");
    source.git_ref = Some("refs/heads/main".into());
    source.commit = Some("4d329c75e7ec1725f7c9ce917a8799d408d06be3".into());
    let jobs: Vec<(Envelope, ProvenanceExpectation)> = (0..COUNT)
        .map(|i| {
            let artifact = DigestSet::of_bytes(format!("artifact {i}").as_bytes());
            let statement = BuildContext::new(format!("{BUILDER}@refs/tags/v1.0.0"))
                .with_source(source.clone())
                .with_subject(format!("app-{i}.tar.gz"), artifact.clone())
                .with_times(
                    Timestamp::from_unix(1_700_000_000),
                    Timestamp::from_unix(1_700_000_060),
                )
                .to_statement()
                .unwrap();
            let envelope =
                Envelope::sign(PAYLOAD_TYPE, statement.to_json().unwrap(), &key).unwrap();
            let expect = ProvenanceExpectation::new(artifact, [BUILDER], "github.com/acme/app");
            (envelope, expect)
        })
        .collect();
    let refs: Vec<(&Envelope, &ProvenanceExpectation)> = jobs.iter().map(|(e, x)| (e, x)).collect();
    // What the raw baseline checks: the same signature over the same PAE.
    let raw: Vec<(Vec<u8>, Vec<u8>)> = jobs
        .iter()
        .map(|(e, _)| {
            (
                pae(e.payload_type(), e.payload()),
                e.signatures()[0].sig.clone(),
            )
        })
        .collect();
    let size = jobs[0].0.payload().len();
    println!("{COUNT} envelopes, payload {size} bytes each");

    let mut group = c.benchmark_group("provenance_10k");
    group.sample_size(10);
    group.throughput(Throughput::Elements(COUNT as u64));
    let public = UnparsedPublicKey::new(&ED25519, raw_public.as_slice());
    group.bench_function("ring_raw_verify", |b| {
        b.iter(|| {
            for (msg, sig) in &raw {
                public.verify(msg, sig).unwrap();
            }
        })
    });
    group.bench_function("verify_provenance_sequential", |b| {
        b.iter(|| {
            for (env, expect) in &jobs {
                assert!(verify_provenance(env, &keys, expect).report().verified());
            }
        })
    });
    group.bench_function("verify_provenance_batch_rayon", |b| {
        b.iter(|| {
            let results = verify_provenance_batch(&refs, &keys);
            assert!(results.iter().all(|r| r.report().verified()));
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
