//! Sigstore bundles as OCI 1.1 referrers (features `oci` + `sigstore`):
//! a real keyless bundle from sigstore-conformance attached to an image in
//! a layout the way cosign v3 stores bundles, listed by predicate type,
//! fetched and verified offline. The bundle is about another artifact, so
//! every signer check passes and the subject check (bound to the image's
//! own digest) is what refuses it: a bundle can't vouch for an image it
//! does not name.
#![cfg(all(feature = "oci", feature = "sigstore"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::fs;
use std::path::{Path, PathBuf};

use custodia::bundle::{IdentityPolicy, TrustedRoot};
use custodia::oci::referrers::{
    ANNOTATION_PREDICATE_TYPE, ANNOTATION_SIGSTORE_CONTENT, ANNOTATION_SIGSTORE_PREDICATE_TYPE,
    ARTIFACT_TYPE_SIGSTORE_BUNDLE,
};
use custodia::oci::{Attachment, ImageBuilder, Layout, ReferrerFilter, verify_attached_bundles};
use custodia::trust::{Anchor, TrustAnchors};

const ID: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";
const SLSA_V1: &str = "https://slsa.dev/provenance/v1";

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sigstore")
        .join(rel)
}

fn dsse_bundle() -> Vec<u8> {
    fs::read(data(
        "sigstore-conformance/bundle-verify/happy-path-intoto-in-dsse-v3/bundle.sigstore.json",
    ))
    .unwrap()
}

fn production() -> TrustedRoot {
    TrustedRoot::from_json(&fs::read(data("trusted_roots/production.trusted_root.json")).unwrap())
        .unwrap()
}

fn image(dir: &Path) -> (Layout, custodia::oci::ArtifactIdentity) {
    let layout = Layout::create(dir).unwrap();
    ImageBuilder::new()
        .file("app", b"#!/bin/sh\necho hello\n")
        .write_to(&layout, "v1")
        .unwrap();
    let identity = layout.identity(Some("v1")).unwrap();
    (layout, identity)
}

#[test]
fn a_bundle_is_attached_as_cosign_stores_it() {
    let attachment = Attachment::sigstore_bundle(&dsse_bundle()).unwrap();
    assert_eq!(
        attachment.artifact_type().as_str(),
        ARTIFACT_TYPE_SIGSTORE_BUNDLE
    );
    assert_eq!(
        attachment.media_type().as_str(),
        ARTIFACT_TYPE_SIGSTORE_BUNDLE
    );
    let annotations = attachment.annotations();
    assert_eq!(annotations[ANNOTATION_SIGSTORE_PREDICATE_TYPE], SLSA_V1);
    assert_eq!(annotations[ANNOTATION_PREDICATE_TYPE], SLSA_V1);
    assert_eq!(annotations[ANNOTATION_SIGSTORE_CONTENT], "dsse-envelope");
    assert_eq!(
        attachment.bytes(),
        dsse_bundle().as_slice(),
        "byte for byte"
    );

    // A message-signature bundle carries no predicate type.
    let message = fs::read(data(
        "sigstore-conformance/bundle-verify/happy-path-v0.3/bundle.sigstore.json",
    ))
    .unwrap();
    let attachment = Attachment::sigstore_bundle(&message).unwrap();
    assert_eq!(attachment.predicate_type(), None);
    assert_eq!(
        attachment.annotations()[ANNOTATION_SIGSTORE_CONTENT],
        "message-signature"
    );

    // Not a bundle: refused before anything is written.
    assert!(Attachment::sigstore_bundle(b"{\"mediaType\": 1}").is_err());
    assert!(Attachment::sigstore_bundle(&dsse_bundle()[..100]).is_err());
}

#[test]
fn attached_bundles_are_listed_fetched_and_verified_against_the_image() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, image) = image(dir.path());
    let attachment = Attachment::sigstore_bundle(&dsse_bundle()).unwrap();
    let first = layout.attach(&image.descriptor, &attachment).unwrap();
    // Deterministic: attaching again is the same manifest, not a second one.
    let again = layout.attach(&image.descriptor, &attachment).unwrap();
    assert_eq!(first.descriptor.digest, again.descriptor.digest);

    let digest = &image.descriptor.digest;
    let by_type = ReferrerFilter::any().predicate_type(SLSA_V1);
    let listed = layout.referrers(digest, &by_type).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0]
            .descriptor
            .artifact_type
            .as_ref()
            .unwrap()
            .as_str(),
        ARTIFACT_TYPE_SIGSTORE_BUNDLE
    );
    assert_eq!(layout.fetch_attachment(&listed[0]).unwrap(), dsse_bundle());
    let other_type = ReferrerFilter::any().predicate_type("https://cyclonedx.org/bom");
    assert!(layout.referrers(digest, &other_type).unwrap().is_empty());

    // Offline verification: the signer checks pass, and the subject check
    // (the image's digest) refuses a bundle about something else.
    let root = production();
    let policy = IdentityPolicy::keyless(ID, ISSUER);
    let found =
        verify_attached_bundles(&layout, digest, &anchors(&root, &policy), SLSA_V1).unwrap();
    assert_eq!(found.len(), 1);
    let report = &found[0].report;
    for passed in [
        "bundle-blob",
        "certificate-chain",
        "transparency-log",
        "identity",
        "issuer",
        "signature",
        "predicate-type",
    ] {
        let check = report
            .checks()
            .iter()
            .find(|c| c.name == passed)
            .unwrap_or_else(|| panic!("no {passed} check: {report}"));
        assert!(check.passed, "{passed}: {report}");
    }
    let failed = report.first_failure().unwrap();
    assert_eq!(failed.name, "subject", "{report}");
    assert!(
        failed.reason.contains(digest.encoded()),
        "the reason names the image digest: {}",
        failed.reason
    );
    assert!(!found[0].verified() && found[0].statement.is_none());

    // Someone else's identity: refused on the identity check.
    let stranger = IdentityPolicy::keyless(
        "https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main",
        ISSUER,
    );
    let found =
        verify_attached_bundles(&layout, digest, &anchors(&root, &stranger), SLSA_V1).unwrap();
    assert_eq!(found[0].report.first_failure().unwrap().name, "identity");

    // The DSSE path does not pick up bundles, nor the bundle path envelopes.
    let keys = TrustAnchors::new();
    assert!(
        custodia::oci::verify_attached(&layout, digest, &keys, SLSA_V1)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_tampered_bundle_blob_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, image) = image(dir.path());
    let referrer = layout
        .attach(
            &image.descriptor,
            &Attachment::sigstore_bundle(&dsse_bundle()).unwrap(),
        )
        .unwrap();
    let blob = &referrer.layer.digest;
    let path = dir
        .path()
        .join("blobs")
        .join(blob.algorithm())
        .join(blob.encoded());
    let mut bytes = fs::read(&path).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 1;
    fs::write(&path, &bytes).unwrap();
    let root = production();
    let policy = IdentityPolicy::keyless(ID, ISSUER);
    let err = verify_attached_bundles(
        &layout,
        &image.descriptor.digest,
        &anchors(&root, &policy),
        SLSA_V1,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains(blob.encoded()), "{err}");
}

/// One trusted signer (a keyless identity or a key) under `root`.
fn anchors<A: Clone + Into<Anchor>>(root: &TrustedRoot, signer: &A) -> TrustAnchors {
    let mut anchors = TrustAnchors::new().with_sigstore_root(root.clone());
    anchors.push(signer.clone().into()).unwrap();
    anchors
}
