//! A release promoted dev -> staging -> prod where the builder's and the
//! promoter's keys live on a SoftHSM2 token (feature `pkcs11`): the gates
//! pass, `validate_chain` verifies every environment, each record is signed
//! by the token's promoter key, and a software key claiming the promoter's
//! place is refused.
#![cfg(feature = "pkcs11")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
mod pkcs11_support;

use common::{BUILDER_ID, HOUR, SOURCE, T0, artifact};
use custodia::digest::{Digest, DigestSet};
use custodia::dsse::Envelope;
use custodia::keys::{KeyAlgorithm, KeySet, PrivateKey, PublicKey, Signer};
use custodia::pkcs11::generate_key_pair;
use custodia::policy::{ActivePolicy, GateRequest, Policy};
use custodia::predicate::approval::Approval;
use custodia::predicate::test_result::{TestOutcome, TestResult};
use custodia::predicate::vulns::VulnerabilityReport;
use custodia::promotion::{
    DirStore, PromotionError, PromotionRequest, Store, history, promote, validate_chain,
};
use custodia::provenance::{BuildContext, SourceRef};
use custodia::resource::ResourceDescriptor;
use custodia::statement::{PAYLOAD_TYPE, Predicate, Statement};
use custodia::time::Timestamp;
use pkcs11_support::{hsm, shared, unique};

fn policy(keys: &[(&str, &[&str], &PublicKey)]) -> ActivePolicy {
    let keys: Vec<serde_json::Value> = keys
        .iter()
        .map(|(identity, roles, key)| {
            serde_json::json!({"identity": identity, "roles": roles, "publicKey": key.to_pem()})
        })
        .collect();
    let json = serde_json::json!({
        "version": 1,
        "keys": keys,
        "environments": [
            {"name": "dev", "requires": [
                {"predicateType": "https://slsa.dev/provenance/v1", "signerRole": "builder",
                 "conditions": {"builderIds": [BUILDER_ID], "sourceRepository": "github.com/acme/app"}}]},
            {"name": "staging", "requires": [
                {"predicateType": "https://slsa.dev/provenance/v1", "signerRole": "builder",
                 "conditions": {"builderIds": [BUILDER_ID]}},
                {"predicateType": "https://in-toto.io/attestation/test-result/v0.1", "signerRole": "tester",
                 "conditions": {"testResult": "PASSED"}}]},
            {"name": "prod", "requires": [
                {"predicateType": "https://slsa.dev/provenance/v1", "signerRole": "builder",
                 "conditions": {"builderIds": [BUILDER_ID]}},
                {"predicateType": "https://in-toto.io/attestation/test-result/v0.1", "signerRole": "tester",
                 "conditions": {"testResult": "PASSED"}},
                {"predicateType": "https://in-toto.io/attestation/vulns/v0.2", "signerRole": "scanner",
                 "conditions": {"maxSeverity": "medium"}}],
             "approvals": {"count": 2, "role": "approver"}}
        ],
        "promotions": [{"from": "dev", "to": "staging"}, {"from": "staging", "to": "prod"}]
    });
    Policy::from_json(json.to_string().as_bytes())
        .unwrap()
        .activate()
        .unwrap()
}

fn put<P: Predicate>(
    store: &dyn Store,
    artifact: &DigestSet,
    predicate: &P,
    key: &dyn Signer,
) -> Digest {
    let st = Statement::new(
        vec![ResourceDescriptor::new("app.tar.gz", artifact.clone())],
        predicate,
    )
    .unwrap();
    store
        .put(
            &Envelope::sign(PAYLOAD_TYPE, st.to_json().unwrap(), key)
                .unwrap()
                .to_json()
                .unwrap(),
        )
        .unwrap()
}

fn request(
    artifact: &DigestSet,
    from: Option<&str>,
    to: &str,
    at: i64,
    evidence: Vec<Digest>,
) -> PromotionRequest {
    let mut gate = GateRequest::new(artifact.clone(), from, to, Timestamp::from_unix(at));
    gate.author = Some("carol".into());
    let mut req = PromotionRequest::new(gate, evidence);
    req.commit_time = Some(Timestamp::from_unix(T0 - HOUR));
    req
}

#[test]
fn a_release_promoted_with_builder_and_promoter_keys_on_the_token_validates() {
    let Some(hsm) = hsm() else { return };
    let _shared = shared();
    let builder = generate_key_pair(
        &hsm.uri(&unique("builder")).parse().unwrap(),
        KeyAlgorithm::EcdsaP256,
    )
    .unwrap();
    let promoter = generate_key_pair(
        &hsm.uri(&unique("promoter")).parse().unwrap(),
        KeyAlgorithm::Ed25519,
    )
    .unwrap();
    let soft = |a| PrivateKey::generate(a).unwrap();
    let (tester, scanner, alice, bob) = (
        soft(KeyAlgorithm::Ed25519),
        soft(KeyAlgorithm::Ed25519),
        soft(KeyAlgorithm::EcdsaP256),
        soft(KeyAlgorithm::Ed25519),
    );
    let policy = policy(&[
        ("ci", &["builder"], builder.public_key()),
        ("test-runner", &["tester"], tester.public_key()),
        ("scanner", &["scanner"], scanner.public_key()),
        ("alice", &["approver"], alice.public_key()),
        ("bob", &["approver"], bob.public_key()),
        ("deployer", &["promoter"], promoter.public_key()),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::open(dir.path()).unwrap();
    let a = artifact(16);

    // Build: provenance signed on the token.
    let provenance = BuildContext::new(format!("{BUILDER_ID}@v1"))
        .with_source(SourceRef::new(SOURCE).with_git_ref("refs/heads/main"))
        .with_subject("app.tar.gz", a.clone())
        .with_times(Timestamp::from_unix(T0), Timestamp::from_unix(T0 + 60))
        .to_statement()
        .unwrap();
    let prov = store
        .put(
            &Envelope::sign(PAYLOAD_TYPE, provenance.to_json().unwrap(), &builder)
                .unwrap()
                .to_json()
                .unwrap(),
        )
        .unwrap();

    // A software key cannot stand in for the token's promoter.
    let impostor = soft(KeyAlgorithm::Ed25519);
    assert!(matches!(
        promote(
            &store,
            &policy,
            &request(&a, None, "dev", T0 + HOUR, vec![prov.clone()]),
            &impostor
        ),
        Err(PromotionError::Refused(_))
    ));

    let dev = promote(
        &store,
        &policy,
        &request(&a, None, "dev", T0 + HOUR, vec![prov.clone()]),
        &promoter,
    )
    .unwrap();
    let tests = put(&store, &a, &TestResult::new(TestOutcome::Passed), &tester);
    let staging = promote(
        &store,
        &policy,
        &request(
            &a,
            Some("dev"),
            "staging",
            T0 + 2 * HOUR,
            vec![prov.clone(), tests.clone()],
        ),
        &promoter,
    )
    .unwrap();
    let scan = put(
        &store,
        &a,
        &VulnerabilityReport::new("pkg:github/aquasecurity/trivy", &[("CVE-2024-0001", "low")]),
        &scanner,
    );
    let approvals = [&alice, &bob].map(|k| {
        put(
            &store,
            &a,
            &Approval::new("prod", Timestamp::from_unix(T0 + 2 * HOUR)),
            k,
        )
    });
    let mut evidence = vec![prov, tests, scan];
    evidence.extend(approvals);
    let prod = promote(
        &store,
        &policy,
        &request(&a, Some("staging"), "prod", T0 + 3 * HOUR, evidence),
        &promoter,
    )
    .unwrap();

    let promoter_only: KeySet = [promoter.public_key().clone()].into_iter().collect();
    for (env, promoted) in [("dev", &dev), ("staging", &staging), ("prod", &prod)] {
        let report = validate_chain(&store, &policy, env);
        assert!(report.verified(), "{env}:\n{report}");
        let h = history(&store, env).unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].digest, promoted.record);
        assert_eq!(h[0].artifact, a);
        // The record is signed by the key on the token.
        let bytes = store.get(&promoted.record).unwrap();
        let verified = Envelope::from_json(&bytes)
            .unwrap()
            .verify(&promoter_only, 1)
            .unwrap();
        assert!(verified.verified(), "{env}: {}", verified.report());
    }
    assert_eq!(
        history(&store, "prod").unwrap()[0].record.source.as_ref(),
        Some(&staging.record)
    );
}
