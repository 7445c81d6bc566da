//! DSSE verification of a 1 KiB payload against ring's raw signature check,
//! for Ed25519 and ECDSA P-256.
//!
//! ```text
//! cargo bench --bench dsse_verify
//! ```
//!
//! Per algorithm (`dsse_verify_1KiB/<alg>/...`):
//!
//! * `ring_raw`: `UnparsedPublicKey::verify` over PAE bytes computed once,
//!   the floor.
//! * `ring_raw_with_pae`: the same plus building the PAE bytes, which any
//!   DSSE verifier must do.
//! * `envelope_verify`: `Envelope::verify(&keyset, 1)` on a parsed envelope.
//! * `from_json_verify`: `Envelope::from_json(wire)` then verify, the full
//!   path from wire bytes.
//! * `from_json`: parsing alone, to attribute the difference.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use custodia::dsse::{Envelope, pae};
use custodia::keys::{KeySet, PrivateKey};
use custodia::statement::PAYLOAD_TYPE;
use ring::rand::SystemRandom;
use ring::signature::{self, KeyPair as _};

const PAYLOAD_LEN: usize = 1024;

struct Case {
    name: &'static str,
    algorithm: &'static dyn signature::VerificationAlgorithm,
    /// The raw public key in the form ring takes.
    raw_public_key: Vec<u8>,
    /// The same key pair, loaded into custodia.
    private: PrivateKey,
}

fn cases() -> Vec<Case> {
    let rng = SystemRandom::new();

    let ed_pkcs8 = signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let ed_pair = signature::Ed25519KeyPair::from_pkcs8(ed_pkcs8.as_ref()).unwrap();

    let ec_pkcs8 =
        signature::EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .unwrap();
    let ec_pair = signature::EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        ec_pkcs8.as_ref(),
        &rng,
    )
    .unwrap();

    vec![
        Case {
            name: "ed25519",
            algorithm: &signature::ED25519,
            raw_public_key: ed_pair.public_key().as_ref().to_vec(),
            private: PrivateKey::from_pkcs8_der(ed_pkcs8.as_ref()).unwrap(),
        },
        Case {
            name: "ecdsa_p256",
            algorithm: &signature::ECDSA_P256_SHA256_ASN1,
            raw_public_key: ec_pair.public_key().as_ref().to_vec(),
            private: PrivateKey::from_pkcs8_der(ec_pkcs8.as_ref()).unwrap(),
        },
    ]
}

fn dsse_verify(c: &mut Criterion) {
    let payload: Vec<u8> = (0..PAYLOAD_LEN)
        .map(|i| b"{\"_type\":\"x\"} "[i % 14])
        .collect();

    let mut group = c.benchmark_group("dsse_verify_1KiB");
    group
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));

    for case in cases() {
        let envelope = Envelope::sign(PAYLOAD_TYPE, payload.clone(), &case.private).unwrap();
        let wire = envelope.to_json().unwrap();
        let sig = envelope.signatures()[0].sig.clone();
        let message = pae(PAYLOAD_TYPE, &payload);
        let keys: KeySet = [case.private.public_key().clone()].into_iter().collect();

        // Everything below verifies; a benchmark of a failing path would lie.
        let raw = signature::UnparsedPublicKey::new(case.algorithm, &case.raw_public_key);
        raw.verify(&message, &sig).unwrap();
        assert!(envelope.verify(&keys, 1).unwrap().verified());
        assert!(
            Envelope::from_json(&wire)
                .unwrap()
                .verify(&keys, 1)
                .unwrap()
                .verified()
        );

        let name = case.name;
        group.bench_function(format!("{name}/ring_raw"), |b| {
            b.iter(|| {
                signature::UnparsedPublicKey::new(case.algorithm, black_box(&case.raw_public_key))
                    .verify(black_box(&message), black_box(&sig))
                    .unwrap();
            })
        });
        group.bench_function(format!("{name}/ring_raw_with_pae"), |b| {
            b.iter(|| {
                let message = pae(black_box(PAYLOAD_TYPE), black_box(&payload));
                signature::UnparsedPublicKey::new(case.algorithm, black_box(&case.raw_public_key))
                    .verify(&message, black_box(&sig))
                    .unwrap();
            })
        });
        group.bench_function(format!("{name}/envelope_verify"), |b| {
            b.iter(|| black_box(&envelope).verify(black_box(&keys), 1).unwrap())
        });
        group.bench_function(format!("{name}/from_json_verify"), |b| {
            b.iter(|| {
                Envelope::from_json(black_box(&wire))
                    .unwrap()
                    .verify(black_box(&keys), 1)
                    .unwrap()
            })
        });
        group.bench_function(format!("{name}/from_json"), |b| {
            b.iter(|| Envelope::from_json(black_box(&wire)).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, dsse_verify);
criterion_main!(benches);
