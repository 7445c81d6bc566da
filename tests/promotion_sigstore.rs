//! Keyless evidence in promotion gates (feature `sigstore`): a policy names
//! a keyless signer (a Sigstore certificate identity and OIDC issuer) and
//! pins the Sigstore trusted root; a real Sigstore bundle from GitHub
//! Actions (slsa-github-generator's SLSA provenance, from slsa-verifier's
//! test data) is stored as evidence, gates a promotion into `dev`, and
//! re-verifies in `validate_chain`, offline. Wrong identity, another
//! artifact, a threshold a bundle cannot meet and a tampered bundle are
//! each refused with a reason.
#![cfg(feature = "sigstore")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::fs;
use std::path::Path;

use custodia::digest::{Digest, DigestSet};
use custodia::keys::{KeyAlgorithm, PrivateKey};
use custodia::policy::{ActivePolicy, EvidenceEnvelope, GateRequest, Policy};
use custodia::promotion::{
    Accounting, MemoryStore, PromotionError, PromotionRequest, Store, promote, validate_chain,
};
use custodia::time::Timestamp;
use serde_json::{Value, json};

const GENERATOR: &str = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.1.0";
const GITHUB: &str = "https://token.actions.githubusercontent.com";
/// The binary the provenance is about (not copied; its digest is enough).
const ARTIFACT_SHA256: &str = "376e7e01348585b6e6643bc6663146b9d525d9b41228bf180eaeb4d4a3706caa";
/// After the bundle's certificate was issued (2024).
const T: i64 = 1_730_000_000;

fn bundle_bytes() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "tests/conformance/slsa/gha/gha_generic/v2.1.0/binary-linux-amd64-workflow_dispatch.intoto.jsonl",
    );
    let text = fs::read_to_string(path).unwrap();
    text.lines().next().unwrap().as_bytes().to_vec()
}

fn trusted_root() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sigstore/trusted_roots/production.trusted_root.json");
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

fn artifact() -> DigestSet {
    let mut set = DigestSet::new();
    set.insert(
        &format!("sha256:{ARTIFACT_SHA256}")
            .parse::<Digest>()
            .unwrap(),
    );
    set
}

fn policy(deployer: &PrivateKey, certificate_identity: &str, threshold: usize) -> ActivePolicy {
    let json = json!({
        "version": 1,
        "keys": [{"identity": "deployer", "roles": ["promoter"],
                  "publicKey": deployer.public_key().to_pem()}],
        "keylessSigners": [{"identity": "slsa-generator", "roles": ["builder"],
                            "certificateIdentity": certificate_identity,
                            "certificateOidcIssuer": GITHUB}],
        "sigstoreTrustedRoot": trusted_root(),
        "environments": [{"name": "dev", "requires": [{
            "predicateType": "https://slsa.dev/provenance/v0.2",
            "signerRole": "builder",
            "threshold": threshold,
            "conditions": {
                "builderIds": ["https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml"],
                "sourceRepository": "github.com/slsa-framework/example-package"
            }
        }]}],
        "promotions": []
    });
    Policy::from_json(&serde_json::to_vec(&json).unwrap())
        .unwrap()
        .activate()
        .unwrap()
}

fn request(artifact: DigestSet, evidence: Digest) -> PromotionRequest {
    PromotionRequest::new(
        GateRequest::new(artifact, None, "dev", Timestamp::from_unix(T)),
        vec![evidence],
    )
}

#[test]
fn a_keyless_bundle_gates_a_promotion_and_the_chain_reverifies() {
    let deployer = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let policy = policy(&deployer, GENERATOR, 1);
    let store = MemoryStore::new();
    let evidence = store.put(&bundle_bytes()).unwrap();
    assert!(EvidenceEnvelope::from_bytes(&bundle_bytes()).is_ok());

    let promoted = promote(
        &store,
        &policy,
        &request(artifact(), evidence.clone()),
        &deployer,
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    let requirement = promoted
        .report
        .checks()
        .iter()
        .find(|c| c.name == "requires[0]")
        .unwrap();
    assert!(requirement.passed, "{}", promoted.report);
    assert!(
        requirement.reason.contains("slsa-generator"),
        "the keyless signer's identity: {}",
        requirement.reason
    );

    let chain = validate_chain(&store, &policy, "dev");
    assert!(chain.verified(), "{chain}");

    // The chain vouches for the artifact and for the bundle's subject.
    let accounting = Accounting::from_chains(&store, &policy, &["dev"]);
    assert!(
        accounting.check_digest("binary", &artifact()).passed,
        "{:?}",
        accounting.check_digest("binary", &artifact())
    );
}

#[test]
fn the_gate_refuses_what_the_bundle_does_not_prove() {
    let deployer = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let store = MemoryStore::new();
    let evidence = store.put(&bundle_bytes()).unwrap();
    let refused = |policy: &ActivePolicy, artifact: DigestSet| -> String {
        match promote(
            &store,
            policy,
            &request(artifact, evidence.clone()),
            &deployer,
        ) {
            Err(PromotionError::Refused(report)) => {
                let c = report.first_failure().unwrap();
                format!("{}: {}", c.name, c.reason)
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    };

    // Another workflow's certificate identity: the bundle's signer is not it.
    let other = policy(
        &deployer,
        "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_go_slsa3.yml@refs/tags/v2.1.0",
        1,
    );
    let why = refused(&other, artifact());
    assert!(
        why.starts_with("requires[0]") && why.contains("identity"),
        "{why}"
    );

    // Another artifact: the statement is not about it.
    let why = refused(
        &policy(&deployer, GENERATOR, 1),
        DigestSet::of_bytes(b"a rebuild"),
    );
    assert!(
        why.starts_with("requires[0]") && why.contains("subject"),
        "{why}"
    );

    // Two signatures required: a bundle has one.
    let why = refused(&policy(&deployer, GENERATOR, 2), artifact());
    assert!(why.contains("requires[0]"), "{why}");
}

#[test]
fn a_tampered_bundle_is_refused() {
    let deployer = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let policy = policy(&deployer, GENERATOR, 1);
    // The DSSE signature inside the bundle altered, stored under its own
    // (new) digest: the gate re-verifies the bundle and refuses it.
    let mut bundle: Value = serde_json::from_slice(&bundle_bytes()).unwrap();
    let sig = bundle["dsseEnvelope"]["signatures"][0]["sig"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = if sig.starts_with('M') { "N" } else { "M" };
    bundle["dsseEnvelope"]["signatures"][0]["sig"] = Value::String(format!("{first}{}", &sig[1..]));
    let store = MemoryStore::new();
    let tampered = store.put(&serde_json::to_vec(&bundle).unwrap()).unwrap();
    match promote(&store, &policy, &request(artifact(), tampered), &deployer) {
        Err(PromotionError::Refused(report)) => {
            let c = report.first_failure().unwrap();
            assert_eq!(c.name, "requires[0]", "{report}");
            assert!(c.reason.contains("slsa-generator"), "{report}");
        }
        Err(e) => panic!("{e}"),
        Ok(p) => panic!("a tampered bundle was accepted: {}", p.report),
    }
}

#[test]
fn keyless_signers_need_a_trusted_root() {
    let json = json!({
        "version": 1, "keys": [],
        "keylessSigners": [{"identity": "ci", "roles": ["builder"],
                            "certificateIdentity": GENERATOR, "certificateOidcIssuer": GITHUB}],
        "environments": [{"name": "dev"}], "promotions": []
    });
    let err = Policy::from_json(&serde_json::to_vec(&json).unwrap())
        .and_then(Policy::activate)
        .unwrap_err()
        .to_string();
    assert!(err.contains("sigstoreTrustedRoot"), "{err}");

    // A pinned root that is not a trusted root is refused when the policy
    // is read, not later when a bundle is verified (the `policy` fuzz target
    // found a number there parsing and then failing to activate).
    for bad in [json!(2), json!({}), json!({"mediaType": "x"})] {
        let json = json!({
            "version": 1, "keys": [], "sigstoreTrustedRoot": bad,
            "environments": [{"name": "dev"}], "promotions": []
        });
        let err = Policy::from_json(&serde_json::to_vec(&json).unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("sigstoreTrustedRoot"), "{err}");
    }
}
