//! Signatures per second through SoftHSM2 (feature `pkcs11`): custodia's
//! `Pkcs11Signer` against the token driven directly and against OpenSC's
//! pkcs11-tool, the same key and the same digest, in the same run.
//!
//! ```text
//! SOFTHSM2_CONF=/path/softhsm2.conf cargo bench --features pkcs11 --bench pkcs11
//! ```
//!
//! Per key (`pkcs11_sign/<alg>/...`):
//!
//! * `custodia`: `Signer::sign` on a 1 KiB message: hashing (ECDSA), a
//!   pooled session, `C_Sign`, and `r‖s` to DER.
//! * `cryptoki_direct`: `C_Sign` on one open session over the digest
//!   computed once (ECDSA) or the message (Ed25519), nothing else: the
//!   token's own cost, the floor (goal: custodia within 1.2x of it).
//! * `pkcs11_tool` (P-256 only): one `pkcs11-tool --sign` of the same
//!   digest with the same key, as a CI script without custodia would sign
//!   (a process, module load and login per signature).
//!
//! Without `SOFTHSM2_CONF` it says so and measures nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

#[path = "../tests/pkcs11_support/mod.rs"]
mod pkcs11_support;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::object::{Attribute, AttributeType, ObjectClass};
use custodia::digest::DigestAlgorithm;
use custodia::keys::{KeyAlgorithm, Signer as _, Verifier as _};
use custodia::pkcs11::generate_key_pair;
use pkcs11_support::{PIN, TOKEN, hsm, unique};

fn bench(c: &mut Criterion) {
    let Some(hsm) = hsm() else {
        eprintln!("pkcs11 bench: no SoftHSM2 token (set SOFTHSM2_CONF); nothing measured");
        return;
    };
    let message = vec![0x5a_u8; 1024];
    let digest = DigestAlgorithm::Sha256.hash(&message);

    // The same module, driven without custodia (C_Initialize was done by
    // custodia's signer in this process; the token is already logged in).
    let mut signers = Vec::new();
    for algorithm in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::Ed25519] {
        let label = unique(&format!("bench-{}", algorithm.name()));
        let signer = generate_key_pair(&hsm.uri(&label).parse().unwrap(), algorithm).unwrap();
        signers.push((algorithm, label, signer));
    }
    let ctx = Pkcs11::new(&hsm.module).unwrap();
    let _ = ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK));
    let slot = ctx
        .get_slots_with_token()
        .unwrap()
        .into_iter()
        .find(|s| ctx.get_token_info(*s).unwrap().label() == TOKEN)
        .unwrap();
    let session = ctx.open_ro_session(slot).unwrap();

    let mut group = c.benchmark_group("pkcs11_sign");
    group.measurement_time(Duration::from_secs(3));
    for (algorithm, label, signer) in &signers {
        let key = session
            .find_objects(&[
                Attribute::Class(ObjectClass::PRIVATE_KEY),
                Attribute::Label(label.as_bytes().to_vec()),
            ])
            .unwrap()[0];
        let (mechanism, data) = if *algorithm == KeyAlgorithm::Ed25519 {
            (
                Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure)),
                message.as_slice(),
            )
        } else {
            (Mechanism::Ecdsa, digest.as_bytes())
        };
        // Both paths make signatures the public key accepts.
        let sig = signer.sign(&message).unwrap();
        assert!(signer.public_key().verify(&message, &sig).is_ok());
        let raw = session.sign(&mechanism, key, data).unwrap();
        assert!(signer.public_key().verify(&message, &raw).is_ok());

        group.bench_function(format!("{}/custodia", algorithm.name()), |b| {
            b.iter(|| signer.sign(black_box(&message)).unwrap())
        });
        group.bench_function(format!("{}/cryptoki_direct", algorithm.name()), |b| {
            b.iter(|| session.sign(&mechanism, key, black_box(data)).unwrap())
        });
    }
    group.finish();

    // pkcs11-tool, a process per signature, over the same digest and key
    // (named by its CKA_ID: pkcs11-tool's --sign --label can pick another key).
    let (_, label, signer) = &signers[0];
    let key = session
        .find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Label(label.as_bytes().to_vec()),
        ])
        .unwrap()[0];
    let id = match session
        .get_attributes(key, &[AttributeType::Id])
        .unwrap()
        .as_slice()
    {
        [Attribute::Id(id)] => id.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        other => panic!("no CKA_ID: {other:?}"),
    };
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("digest.bin");
    let output = dir.path().join("sig.bin");
    std::fs::write(&input, digest.as_bytes()).unwrap();
    let input = input.display().to_string();
    let output_arg = output.display().to_string();
    let tool = || {
        let (ok, out) = hsm.pkcs11_tool(&[
            "--token-label",
            TOKEN,
            "--login",
            "--pin",
            PIN,
            "--sign",
            "--mechanism",
            "ECDSA",
            "--id",
            &id,
            "--input-file",
            &input,
            "--output-file",
            &output_arg,
        ]);
        assert!(ok, "{out}");
    };
    tool();
    let raw = std::fs::read(&output).unwrap();
    assert_eq!(
        signer.public_key().verify(&message, &raw),
        Ok("ecdsa-p256-sha256-fixed"),
        "pkcs11-tool signed the same digest with the same key"
    );
    let mut group = c.benchmark_group("pkcs11_sign");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("ecdsa-p256/pkcs11_tool", |b| b.iter(tool));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
