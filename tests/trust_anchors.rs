//! One set of trust anchors, read from a policy (a key with its identity and
//! roles, a keyless signer, the pinned Sigstore trusted root), verifies
//! every kind of evidence custodia reads: a key-signed DSSE envelope, a real
//! Sigstore bundle from sigstore-conformance, and attestations attached to
//! an OCI image; each result names the anchor that signed, and narrowing
//! the anchors to a role refuses signers without it.
#![cfg(all(feature = "oci", feature = "sigstore"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::fs;
use std::path::{Path, PathBuf};

use custodia::bundle::Bundle;
use custodia::digest::DigestSet;
use custodia::dsse::Envelope;
use custodia::keys::{KeyAlgorithm, PrivateKey};
use custodia::oci::{Attachment, ImageBuilder, Layout, verify_attached, verify_attached_bundles};
use custodia::policy::Policy;
use custodia::resource::ResourceDescriptor;
use custodia::statement::{PAYLOAD_TYPE, Statement};
use custodia::trust::{AnchorKind, TrustAnchors};
use custodia::verify::{Expectation, verify_attestation};

const BEACON: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";
const SLSA_V1: &str = "https://slsa.dev/provenance/v1";

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sigstore")
        .join(rel)
}

/// A real keyless DSSE bundle (SLSA v1 statement) signed by the beacon.
fn conformance_bundle() -> Vec<u8> {
    fs::read(data(
        "sigstore-conformance/bundle-verify/happy-path-intoto-in-dsse-v3/bundle.sigstore.json",
    ))
    .unwrap()
}

/// The policy's anchors: `ci` (a key, builder), `beacon` (keyless, tester)
/// and the Sigstore production trusted root.
fn policy(ci: &PrivateKey) -> Policy {
    let root: serde_json::Value = serde_json::from_slice(
        &fs::read(data("trusted_roots/production.trusted_root.json")).unwrap(),
    )
    .unwrap();
    let json = serde_json::json!({
        "version": 1,
        "keys": [{"identity": "ci", "roles": ["builder"], "publicKey": ci.public_key().to_pem()}],
        "keylessSigners": [{"identity": "beacon", "roles": ["tester"],
            "certificateIdentity": BEACON, "certificateOidcIssuer": ISSUER}],
        "sigstoreTrustedRoot": root,
        "environments": [{"name": "dev"}],
        "promotions": []
    });
    Policy::from_json(json.to_string().as_bytes()).unwrap()
}

fn provenance_about(artifact: &DigestSet, ci: &PrivateKey) -> Envelope {
    let statement = Statement::new_untyped(
        vec![ResourceDescriptor::new("app", artifact.clone())],
        SLSA_V1,
        serde_json::json!({"buildDefinition": {}, "runDetails": {}}),
    )
    .unwrap();
    Envelope::sign(PAYLOAD_TYPE, statement.to_json().unwrap(), ci).unwrap()
}

fn identities(signed_by: &[custodia::trust::Anchor]) -> Vec<&str> {
    signed_by.iter().map(|a| a.identity()).collect()
}

#[test]
fn the_policy_lists_keys_and_keyless_signers_as_anchors() {
    let ci = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let policy = policy(&ci);
    let anchors = policy.trust_anchors().unwrap();
    assert_eq!(anchors.len(), 2);
    assert!(anchors.sigstore_root().is_some());
    let key = anchors.by_key(ci.key_id()).unwrap();
    assert_eq!(
        (key.identity(), key.roles()),
        ("ci", &["builder".to_owned()][..])
    );
    assert!(matches!(key.kind(), AnchorKind::Key(k) if k.key_id() == ci.key_id()));
    let keyless: Vec<_> = anchors.by_certificate(BEACON, ISSUER).collect();
    assert_eq!(
        identities(&keyless.into_iter().cloned().collect::<Vec<_>>()),
        ["beacon"]
    );
    assert!(
        anchors
            .by_certificate(BEACON, "https://accounts.google.com")
            .next()
            .is_none()
    );
    // The gate holds the same anchors.
    let active = policy.clone().activate().unwrap();
    assert_eq!(active.trust_anchors().len(), 2);
    assert_eq!(active.identity_of(ci.key_id()), Some("ci"));
    assert_eq!(active.keys_with_role("builder").len(), 1);
    assert!(active.keys_with_role("tester").is_empty());
}

#[test]
fn one_set_of_anchors_verifies_an_envelope_a_bundle_and_an_oci_attestation() {
    let ci = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let anchors = policy(&ci).trust_anchors().unwrap();

    // 1. A key-signed DSSE envelope.
    let artifact = DigestSet::of_bytes(b"app-1.0.tar.gz");
    let envelope = provenance_about(&artifact, &ci);
    let verified = verify_attestation(&envelope, &anchors, &Expectation::new(SLSA_V1, artifact));
    assert!(verified.report().verified(), "{}", verified.report());
    assert_eq!(identities(verified.signed_by()), ["ci"]);
    assert_eq!(verified.signed_by()[0].roles(), ["builder"]);

    // 2. A Sigstore bundle (keyless) about the artifact its statement names.
    let bundle = Bundle::from_json(&conformance_bundle()).unwrap();
    let statement = Statement::from_json(bundle.envelope().unwrap().payload()).unwrap();
    let subject = statement.subject()[0].digest.clone();
    let verified = custodia::bundle::verify_attestation(
        &bundle,
        &anchors,
        &Expectation::new(SLSA_V1, subject.clone()),
    );
    assert!(verified.report().verified(), "{}", verified.report());
    assert_eq!(identities(verified.signed_by()), ["beacon"]);
    assert_eq!(verified.signed_by()[0].roles(), ["tester"]);

    // 3. Attestations attached to an image: a key-signed envelope about the
    // image verifies; the bundle (about something else) passes every signer
    // check and is refused on its subject.
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::create(dir.path()).unwrap();
    ImageBuilder::new()
        .file("app", b"#!/bin/sh\necho hello\n")
        .write_to(&layout, "v1")
        .unwrap();
    let image = layout.identity(Some("v1")).unwrap();
    let on_image = provenance_about(&image.digest_set().unwrap(), &ci);
    layout
        .attach(&image.descriptor, &Attachment::dsse(&on_image).unwrap())
        .unwrap();
    layout
        .attach(
            &image.descriptor,
            &Attachment::sigstore_bundle(&conformance_bundle()).unwrap(),
        )
        .unwrap();
    let digest = &image.descriptor.digest;
    let found = verify_attached(&layout, digest, &anchors, SLSA_V1).unwrap();
    assert_eq!(found.len(), 1);
    assert!(found[0].verified(), "{}", found[0].report);
    assert_eq!(identities(&found[0].signed_by), ["ci"]);
    let bundles = verify_attached_bundles(&layout, digest, &anchors, SLSA_V1).unwrap();
    assert_eq!(bundles.len(), 1);
    let report = &bundles[0].report;
    assert_eq!(report.first_failure().unwrap().name, "subject", "{report}");
    assert!(
        report
            .checks()
            .iter()
            .any(|c| c.name == "identity" && c.passed)
    );
    assert!(bundles[0].signed_by.is_empty() && bundles[0].statement.is_none());
}

#[test]
fn narrowing_to_a_role_refuses_signers_without_it() {
    let ci = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let anchors = policy(&ci).trust_anchors().unwrap();
    let artifact = DigestSet::of_bytes(b"app");
    let envelope = provenance_about(&artifact, &ci);
    let expect = Expectation::new(SLSA_V1, artifact);

    // `ci` is a builder, not a tester: its envelope verifies as a builder's
    // only. With no tester key at all, the threshold cannot be met.
    let builders = anchors.with_role("builder");
    assert!(
        verify_attestation(&envelope, &builders, &expect)
            .report()
            .verified()
    );
    let testers = anchors.with_role("tester");
    let refused = verify_attestation(&envelope, &testers, &expect);
    assert_eq!(refused.report().first_failure().unwrap().name, "threshold");
    assert!(refused.signed_by().is_empty());

    // The beacon is a tester: as a builder its bundle has no keyless signer
    // to match, and no anchor at all refuses on the missing root.
    let bundle = Bundle::from_json(&conformance_bundle()).unwrap();
    let statement = Statement::from_json(bundle.envelope().unwrap().payload()).unwrap();
    let expect = Expectation::new(SLSA_V1, statement.subject()[0].digest.clone());
    let as_tester = custodia::bundle::verify_attestation(&bundle, &testers, &expect);
    assert!(as_tester.report().verified(), "{}", as_tester.report());
    let as_builder = custodia::bundle::verify_attestation(&bundle, &builders, &expect);
    assert_eq!(
        as_builder.report().first_failure().unwrap().name,
        "signature"
    );
    let rootless: TrustAnchors = TrustAnchors::new();
    let nothing = custodia::bundle::verify_attestation(&bundle, &rootless, &expect);
    assert!(!nothing.report().verified());
}

#[test]
fn a_keyless_anchor_with_another_identity_refuses_the_bundle_by_name() {
    let ci = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let mut json: serde_json::Value =
        serde_json::from_slice(&policy(&ci).to_json().unwrap()).unwrap();
    json["keylessSigners"][0]["certificateOidcIssuer"] = "https://accounts.google.com".into();
    let anchors = Policy::from_json(json.to_string().as_bytes())
        .unwrap()
        .trust_anchors()
        .unwrap();
    let bundle = Bundle::from_json(&conformance_bundle()).unwrap();
    let statement = Statement::from_json(bundle.envelope().unwrap().payload()).unwrap();
    let expect = Expectation::new(SLSA_V1, statement.subject()[0].digest.clone());
    let refused = custodia::bundle::verify_attestation(&bundle, &anchors, &expect);
    let report = refused.report();
    // The identity matches the anchor; its issuer does not.
    assert!(
        report
            .checks()
            .iter()
            .any(|c| c.name == "identity" && c.passed),
        "{report}"
    );
    assert_eq!(report.first_failure().unwrap().name, "issuer", "{report}");
    assert!(refused.signed_by().is_empty());
}
