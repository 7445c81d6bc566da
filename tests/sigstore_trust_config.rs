//! Trust material as Sigstore clients ship it now (feature `sigstore`):
//! a `ClientTrustConfig` (protobuf-specs 0.5; sigstore-python's test data)
//! is accepted wherever a trusted root is, its `trustedRoot` being the
//! root; TrustedRoot media types v0.1 and v0.2 are read; unknown media
//! types are refused, in the config and in the root it holds. The rekor v2
//! and timestamp cases of sigstore-conformance run with a config in place
//! of the root in `tests/sigstore_conformance.rs`.
#![cfg(feature = "sigstore")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::fs;
use std::path::{Path, PathBuf};

use custodia::Error;
use custodia::bundle::{Bundle, IdentityPolicy, TrustedRoot, verify_artifact};
use custodia::digest::DigestSet;
use custodia::trust::{Anchor, TrustAnchors};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sigstore")
        .join(rel)
}

fn read(rel: &str) -> Vec<u8> {
    fs::read(data(rel)).unwrap()
}

fn config_around(root: &[u8], media_type: &str) -> Vec<u8> {
    let root: serde_json::Value = serde_json::from_slice(root).unwrap();
    serde_json::to_vec(&serde_json::json!({
        "mediaType": media_type,
        "trustedRoot": root,
        "signingConfig": {"mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json"},
    }))
    .unwrap()
}

#[test]
fn sigstore_pythons_client_trust_config_is_a_trusted_root() {
    let config =
        TrustedRoot::from_json(&read("sigstore-python/trust_config/config.v1.json")).unwrap();
    assert!(config.from_client_trust_config());
    let inner: serde_json::Value =
        serde_json::from_slice(&read("sigstore-python/trust_config/config.v1.json")).unwrap();
    let root = TrustedRoot::from_json(&serde_json::to_vec(&inner["trustedRoot"]).unwrap()).unwrap();
    assert!(!root.from_client_trust_config());
    assert_eq!(config.media_type(), root.media_type());
    assert_eq!(
        config.certificate_authorities(),
        root.certificate_authorities()
    );
    assert_eq!(config.transparency_logs(), root.transparency_logs());
    assert_eq!(config.ct_logs(), root.ct_logs());
    assert_eq!(config.timestamp_authorities(), root.timestamp_authorities());
}

#[test]
fn unknown_media_types_are_refused_in_the_config_and_the_root() {
    for rel in [
        "sigstore-python/trust_config/config.badtype.json",
        "sigstore-python/trusted_root/trustedroot.badtype.json",
    ] {
        let err = TrustedRoot::from_json(&read(rel)).unwrap_err();
        assert!(matches!(err, Error::Bundle(_)), "{rel}: {err:?}");
    }
    // A config whose root has an unknown media type: refused, at trustedRoot.
    let bad_root = read("sigstore-python/trusted_root/trustedroot.badtype.json");
    let err = TrustedRoot::from_json(&config_around(
        &bad_root,
        "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
    ))
    .unwrap_err();
    match err {
        Error::Bundle(custodia::error::BundleError::Invalid { path, .. }) => {
            assert_eq!(path, "trustedRoot.mediaType");
        }
        other => panic!("{other:?}"),
    }
    // A config without a root, or nested in itself: refused.
    for bad in [
        serde_json::json!({"mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"}),
        serde_json::json!({"mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
            "trustedRoot": {"mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json", "trustedRoot": {}}}),
    ] {
        assert!(
            TrustedRoot::from_json(&serde_json::to_vec(&bad).unwrap()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn trusted_root_v0_1_and_v0_2_media_types_are_read() {
    let v01 = read("trusted_roots/production.trusted_root.json");
    let root = TrustedRoot::from_json(&v01).unwrap();
    assert_eq!(
        root.media_type(),
        "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
    );
    let text = String::from_utf8(v01).unwrap().replacen(
        "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "application/vnd.dev.sigstore.trustedroot.v0.2+json",
        1,
    );
    let v02 = TrustedRoot::from_json(text.as_bytes()).unwrap();
    assert_eq!(
        v02.media_type(),
        "application/vnd.dev.sigstore.trustedroot.v0.2+json"
    );
    assert_eq!(
        v02.certificate_authorities(),
        root.certificate_authorities()
    );
}

/// A rekor v2 bundle (hashedrekord v0.0.2, checkpoint only, RFC 3161
/// timestamp) verifies against its trusted root given bare or inside a
/// client trust config, and the same decision is reached both ways.
#[test]
fn a_rekor_v2_bundle_verifies_the_same_under_a_config() {
    let dir = "sigstore-conformance/bundle-verify/rekor2-happy-path";
    let bundle = Bundle::from_json(&read(&format!("{dir}/bundle.sigstore.json"))).unwrap();
    let root_bytes = read(&format!("{dir}/trusted_root.json"));
    let artifact = DigestSet::of_bytes(&read("sigstore-conformance/a.txt"));
    let policy = IdentityPolicy::keyless_regex(".*", ".*").unwrap();
    let bare = TrustedRoot::from_json(&root_bytes).unwrap();
    let wrapped = TrustedRoot::from_json(&config_around(
        &root_bytes,
        "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
    ))
    .unwrap();
    let a = verify_artifact(&bundle, &anchors(&bare, &policy), &artifact);
    let b = verify_artifact(&bundle, &anchors(&wrapped, &policy), &artifact);
    assert!(a.report().verified(), "{}", a.report());
    assert_eq!(a.report(), b.report());
}

/// One trusted signer (a keyless identity or a key) under `root`.
fn anchors<A: Clone + Into<Anchor>>(root: &TrustedRoot, signer: &A) -> TrustAnchors {
    let mut anchors = TrustAnchors::new().with_sigstore_root(root.clone());
    anchors.push(signer.clone().into()).unwrap();
    anchors
}
