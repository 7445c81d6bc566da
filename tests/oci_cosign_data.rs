//! Real cosign signatures in both places cosign puts them (features `oci`
//! and `sigstore`), from public repositories' test data (tests/data/cosign,
//! SOURCES.md there gives each file's repository, path, commit and
//! license):
//!
//! - cosign v3's format: a Sigstore bundle v0.3 (keyless, DSSE, Rekor
//!   entry with SET and inclusion proof) that cosign's own tests attach as
//!   an OCI 1.1 referrer (`pkg/cosign/testdata/oci-attestation.sigstore.json`),
//!   about go-containerregistry's empty image, in a layout beside that image
//!   with the referrer manifest cosign v3 writes for it;
//! - cosign v2's keyless `.sig`: a simple signing payload signed with a
//!   Fulcio certificate and logged in Rekor, with cosign's four layer
//!   annotations (containers/image's
//!   `signature/fixtures/dir-img-cosign-fulcio-rekor-valid`), under the tag
//!   `sha256-<hex>.sig` beside the image it signs.
//!
//! Both verify offline against Sigstore's production trusted root. Shown
//! here: each is discovered and verified and says where it was; a wrong
//! identity, a signature about another image, and tampered signatures or
//! log entries are refused with the failing check named; an image with a
//! v3 referrer and a v2 tag finds and verifies both.
#![cfg(all(feature = "oci", feature = "sigstore"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod cli_support;
mod files;
#[cfg(feature = "oci-registry")]
mod oci_common;

use files::{copy_dir, production_root};
use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use custodia::bundle::IdentityPolicy;
use custodia::keys::{KeyAlgorithm, PrivateKey};
use custodia::oci::cosign::{LegacyKind, verify_attached_keyless_signatures};
use custodia::oci::{
    Attachment, Descriptor, ImageBuilder, Layout, Location, OciDigest, ReferrerFilter, discover,
    verify_attached_bundles, verify_attached_signatures,
};
use custodia::report::Report;
use custodia::trust::TrustAnchors;
use serde_json::{Value, json};

/// go-containerregistry's `empty.Image`, the subject of cosign's bundle.
const EMPTY_IMAGE: &str = "sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4";
/// The referrer manifest cosign v3 writes for the bundle.
const REFERRER: &str = "sha256:33fb607c1282b93f97b6f164528e46a735ee58196efdce63654dabb28132abea";
/// The predicate type of the bundle's statement (and its annotation).
const COSIGN_ATTESTATION: &str = "https://cosign.sigstore.dev/attestation/v1";
/// The image containers/image's keyless `.sig` signs.
const SIGNED_IMAGE: &str =
    "sha256:0489474da8ea22426ece86ace6c1c0026ab2fd3cdfbbd62b7e94650266c37d9a";
/// Its `.sig` manifest.
const SIG_MANIFEST: &str =
    "sha256:1edc720502eb1f82fdfc972c9c943185fb3b99c29208af238e0df8feeb62a2e1";
const GITHUB_OAUTH: &str = "https://github.com/login/oauth";

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/cosign")
        .join(name)
}

/// A writable copy of one of the layouts.
fn layout(name: &str, dir: &Path) -> Layout {
    copy_dir(&data(name), dir);
    Layout::open(dir).unwrap()
}

/// Who signed cosign's bundle (the certificate's SAN and issuer).
/// Anchors trusting one keyless identity under the production root.
fn keyless(policy: &IdentityPolicy) -> TrustAnchors {
    TrustAnchors::keyless(production_root(), policy.clone())
}

fn bundle_signer() -> IdentityPolicy {
    IdentityPolicy::keyless("cody@soyland.com", GITHUB_OAUTH)
}

/// Who signed containers/image's `.sig`.
fn sig_signer() -> IdentityPolicy {
    IdentityPolicy::keyless("mitr@redhat.com", GITHUB_OAUTH)
}

fn digest(s: &str) -> OciDigest {
    s.parse().unwrap()
}

fn names(report: &Report) -> Vec<&str> {
    report.checks().iter().map(|c| c.name.as_str()).collect()
}

fn failure(report: &Report) -> &str {
    report.first_failure().unwrap().name.as_str()
}

#[test]
fn a_cosign_v3_referrer_is_discovered_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let layout = layout("v3-referrer", dir.path());
    // The subject is the image cosign's test signed, byte for byte: its
    // identity is the statement's subject digest (a zero-layer image).
    let image = layout.identity(Some("empty")).unwrap();
    assert_eq!(image.descriptor.digest, digest(EMPTY_IMAGE));
    assert_eq!(image.warnings().count(), 1);

    let found = discover(&layout, &digest(EMPTY_IMAGE), &ReferrerFilter::any()).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].location,
        Location::Referrer {
            manifest: digest(REFERRER)
        }
    );
    assert_eq!(found[0].predicate_type.as_deref(), Some(COSIGN_ATTESTATION));

    let verified = verify_attached_bundles(
        &layout,
        &digest(EMPTY_IMAGE),
        &keyless(&bundle_signer()),
        COSIGN_ATTESTATION,
    )
    .unwrap();
    assert_eq!(verified.len(), 1);
    let v = &verified[0];
    assert!(v.verified(), "{}", v.report);
    assert_eq!(
        v.report.checks()[0].reason,
        format!("OCI 1.1 referrer {REFERRER}")
    );
    for check in [
        "location",
        "bundle-blob",
        "certificate-chain",
        "transparency-log",
        "signing-time",
        "identity",
        "issuer",
        "signature",
        "tlog-body",
        "predicate-type",
        "subject",
    ] {
        assert!(names(&v.report).contains(&check), "{check}: {}", v.report);
    }
    assert_eq!(
        v.statement.as_ref().unwrap().predicate_type(),
        COSIGN_ATTESTATION
    );
}

#[test]
fn a_cosign_v3_referrer_is_refused_for_another_signer_predicate_or_image() {
    let dir = tempfile::tempdir().unwrap();
    let layout = layout("v3-referrer", dir.path());
    let image = digest(EMPTY_IMAGE);

    let other = IdentityPolicy::keyless("someone@else.example", GITHUB_OAUTH);
    let v = verify_attached_bundles(&layout, &image, &keyless(&other), COSIGN_ATTESTATION).unwrap();
    assert_eq!(v.len(), 1);
    assert!(!v[0].verified());
    assert_eq!(failure(&v[0].report), "identity");
    assert!(v[0].statement.is_none());

    // Another predicate type: not a candidate at all (the annotation).
    let none = verify_attached_bundles(
        &layout,
        &image,
        &keyless(&bundle_signer()),
        "https://slsa.dev/provenance/v1",
    )
    .unwrap();
    assert!(none.is_empty());

    // The same real bundle attached to another image: genuinely signed,
    // but about go-containerregistry's empty image, so refused.
    ImageBuilder::new()
        .file("app", b"another image")
        .write_to(&layout, "app")
        .unwrap();
    let app = layout.identity(Some("app")).unwrap();
    let bundle = fs::read(data("upstream/cosign.oci-attestation.sigstore.json")).unwrap();
    layout
        .attach(
            &app.descriptor,
            &Attachment::sigstore_bundle(&bundle).unwrap(),
        )
        .unwrap();
    let v = verify_attached_bundles(
        &layout,
        &app.descriptor.digest,
        &keyless(&bundle_signer()),
        COSIGN_ATTESTATION,
    )
    .unwrap();
    assert_eq!(v.len(), 1);
    assert!(!v[0].verified());
    assert_eq!(failure(&v[0].report), "subject");
}

fn pem(der_b64: &str) -> String {
    let der = base64::engine::general_purpose::STANDARD
        .decode(der_b64)
        .unwrap();
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

/// cosign's v3 bundle spelled as a cosign v2 `.att` layer, put under the
/// image's `sha256-<hex>.att` tag: the DSSE envelope as the layer, the
/// certificate and the Rekor entry (SET, body, integrated time, log index
/// and id) in cosign's annotations. The same signature and log entry, in
/// the other place.
fn put_as_legacy_att(layout: &Layout, image: &OciDigest) -> Descriptor {
    let bundle: Value = serde_json::from_slice(
        &fs::read(data("upstream/cosign.oci-attestation.sigstore.json")).unwrap(),
    )
    .unwrap();
    let material = &bundle["verificationMaterial"];
    let entry = &material["tlogEntries"][0];
    let log_id = base64::engine::general_purpose::STANDARD
        .decode(entry["logId"]["keyId"].as_str().unwrap())
        .unwrap();
    let log_id: String = log_id.iter().map(|b| format!("{b:02x}")).collect();
    let rekor = json!({
        "SignedEntryTimestamp": entry["inclusionPromise"]["signedEntryTimestamp"],
        "Payload": {
            "body": entry["canonicalizedBody"],
            "integratedTime": entry["integratedTime"].as_str().unwrap().parse::<i64>().unwrap(),
            "logIndex": entry["logIndex"].as_str().unwrap().parse::<i64>().unwrap(),
            "logID": log_id,
        },
    });
    let envelope = serde_json::to_vec(&bundle["dsseEnvelope"]).unwrap();
    let layer = layout.write_blob(&envelope).unwrap();
    let config = serde_json::to_vec(&json!({"architecture": "", "os": "",
        "rootfs": {"type": "layers", "diff_ids": [layer.to_string()]}, "config": {}}))
    .unwrap();
    let config_digest = layout.write_blob(&config).unwrap();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
            "size": config.len(), "digest": config_digest.to_string()},
        "layers": [{
            "mediaType": "application/vnd.dsse.envelope.v1+json",
            "size": envelope.len(),
            "digest": layer.to_string(),
            "annotations": {
                "dev.cosignproject.cosign/signature": "",
                "dev.sigstore.cosign/bundle": rekor.to_string(),
                "dev.sigstore.cosign/certificate":
                    pem(material["certificate"]["rawBytes"].as_str().unwrap()),
                "predicateType": COSIGN_ATTESTATION,
            },
        }],
    }))
    .unwrap();
    layout
        .put_manifest(
            "application/vnd.oci.image.manifest.v1+json",
            &manifest,
            Some(&LegacyKind::Attestations.tag(image)),
        )
        .unwrap()
}

#[test]
fn an_image_with_a_v3_referrer_and_a_v2_tag_finds_and_verifies_both() {
    let dir = tempfile::tempdir().unwrap();
    let layout = layout("v3-referrer", dir.path());
    let image = digest(EMPTY_IMAGE);
    let att = put_as_legacy_att(&layout, &image).digest;

    let found = discover(&layout, &image, &ReferrerFilter::any()).unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(
        found[0].location,
        Location::Referrer {
            manifest: digest(REFERRER)
        }
    );
    assert_eq!(
        found[1].location,
        Location::LegacyTag {
            tag: LegacyKind::Attestations.tag(&image),
            manifest: att,
            layer: 0,
        }
    );

    let verified = verify_attached_bundles(
        &layout,
        &image,
        &keyless(&bundle_signer()),
        COSIGN_ATTESTATION,
    )
    .unwrap();
    assert_eq!(verified.len(), 2);
    for v in &verified {
        assert!(v.verified(), "{}: {}", v.location, v.report);
        assert_eq!(v.report.checks()[0].reason, v.location.to_string());
    }
    assert!(!verified[0].location.is_legacy());
    assert!(verified[1].location.is_legacy());
}

#[test]
fn a_cosign_v2_keyless_signature_is_discovered_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let layout = layout("v2-keyless-sig", dir.path());
    let image = digest(SIGNED_IMAGE);
    let found = discover(&layout, &image, &ReferrerFilter::any()).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].location,
        Location::LegacyTag {
            tag: LegacyKind::Signatures.tag(&image),
            manifest: digest(SIG_MANIFEST),
            layer: 0,
        }
    );

    let verified =
        verify_attached_keyless_signatures(&layout, &image, &keyless(&sig_signer())).unwrap();
    assert_eq!(verified.len(), 1);
    let v = &verified[0];
    assert!(v.verified(), "{}", v.report);
    assert_eq!(
        names(&v.report),
        [
            "location",
            "payload",
            "bundle",
            "certificate-chain",
            "transparency-log",
            "signing-time",
            "identity",
            "issuer",
            "signature",
            "tlog-body",
            "artifact",
            "image",
        ]
    );
    let payload = v.payload.as_ref().unwrap();
    assert_eq!(payload.manifest_digest, image);
    assert_eq!(
        payload.reference,
        "192.168.64.2:5000/cosign-signed/fulcio-rekor-1"
    );

    // With keys instead: no key signed it.
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let keys: TrustAnchors = [key.public_key().clone()].into_iter().collect();
    let by_key = verify_attached_signatures(&layout, &image, &keys).unwrap();
    assert_eq!(by_key.len(), 1);
    assert_eq!(failure(&by_key[0].report), "signature");
}

#[test]
fn a_keyless_signature_by_someone_else_is_refused_at_identity() {
    let dir = tempfile::tempdir().unwrap();
    let layout = layout("v2-keyless-sig", dir.path());
    for policy in [
        IdentityPolicy::keyless("someone@else.example", GITHUB_OAUTH),
        IdentityPolicy::keyless("mitr@redhat.com", "https://accounts.google.com"),
    ] {
        let v =
            verify_attached_keyless_signatures(&layout, &digest(SIGNED_IMAGE), &keyless(&policy))
                .unwrap();
        assert_eq!(v.len(), 1);
        assert!(!v[0].verified());
        assert!(
            ["identity", "issuer"].contains(&failure(&v[0].report)),
            "{}",
            v[0].report
        );
        assert!(v[0].payload.is_none());
    }
}

/// The real `.sig` manifest (and its blobs) listed under `tag` too.
fn put_real_sig(layout: &Layout, tag: &str) {
    let manifest = fs::read(data(&format!(
        "v2-keyless-sig/blobs/sha256/{}",
        &SIG_MANIFEST[7..]
    )))
    .unwrap();
    layout
        .put_manifest(
            "application/vnd.oci.image.manifest.v1+json",
            &manifest,
            Some(tag),
        )
        .unwrap();
}

#[test]
fn a_keyless_signature_under_another_images_tag_is_refused_at_image() {
    let dir = tempfile::tempdir().unwrap();
    let layout = layout("v2-keyless-sig", dir.path());
    ImageBuilder::new()
        .file("app", b"another image")
        .write_to(&layout, "app")
        .unwrap();
    let app = layout.identity(Some("app")).unwrap().descriptor.digest;
    put_real_sig(&layout, &LegacyKind::Signatures.tag(&app));

    let v = verify_attached_keyless_signatures(&layout, &app, &keyless(&sig_signer())).unwrap();
    assert_eq!(v.len(), 1);
    // Every signature and log check passes: it is a real signature, of
    // another image.
    assert!(!v[0].verified());
    assert_eq!(failure(&v[0].report), "image");
    assert!(v[0].report.checks().iter().rev().skip(1).all(|c| c.passed));
    assert!(v[0].payload.is_none());
}

type Annotations = serde_json::Map<String, Value>;
type Edit = Box<dyn Fn(&mut Annotations)>;

/// Rewrites the `.sig` manifest's layer annotations with `edit` and lists
/// it under the image's tag in place of the real one.
fn tamper(layout: &Layout, edit: impl Fn(&mut Annotations)) {
    let bytes = fs::read(data(&format!(
        "v2-keyless-sig/blobs/sha256/{}",
        &SIG_MANIFEST[7..]
    )))
    .unwrap();
    let mut manifest: Value = serde_json::from_slice(&bytes).unwrap();
    edit(
        manifest["layers"][0]["annotations"]
            .as_object_mut()
            .unwrap(),
    );
    layout
        .put_manifest(
            "application/vnd.oci.image.manifest.v1+json",
            &serde_json::to_vec(&manifest).unwrap(),
            Some(&LegacyKind::Signatures.tag(&digest(SIGNED_IMAGE))),
        )
        .unwrap();
}

#[test]
fn a_tampered_keyless_signature_is_refused_with_the_check_named() {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let cases: Vec<(&str, Edit)> = vec![
        // Another signature (a valid DER ECDSA shape, wrong value).
        (
            "signature",
            Box::new(move |a| {
                let sig = base64::engine::general_purpose::STANDARD
                    .decode(a["dev.cosignproject.cosign/signature"].as_str().unwrap())
                    .unwrap();
                let mut sig = sig.clone();
                let last = sig.len() - 1;
                sig[last] ^= 1;
                a.insert(
                    "dev.cosignproject.cosign/signature".into(),
                    Value::String(b64(&sig)),
                );
            }),
        ),
        // The log entry claims another time: its SET no longer verifies.
        (
            "transparency-log",
            Box::new(|a| {
                let s = a["dev.sigstore.cosign/bundle"].as_str().unwrap();
                let s = s.replace(
                    "\"integratedTime\":1674247893",
                    "\"integratedTime\":1674247894",
                );
                a.insert("dev.sigstore.cosign/bundle".into(), Value::String(s));
            }),
        ),
        // No certificate: not keyless.
        (
            "legacy-layer",
            Box::new(|a| {
                a.remove("dev.sigstore.cosign/certificate");
            }),
        ),
        // No Rekor entry: nothing proves when it was signed.
        (
            "legacy-layer",
            Box::new(|a| {
                a.remove("dev.sigstore.cosign/bundle");
            }),
        ),
    ];
    for (expected, edit) in cases {
        let dir = tempfile::tempdir().unwrap();
        let layout = layout("v2-keyless-sig", dir.path());
        tamper(&layout, edit);
        let v = verify_attached_keyless_signatures(
            &layout,
            &digest(SIGNED_IMAGE),
            &keyless(&sig_signer()),
        )
        .unwrap();
        assert_eq!(v.len(), 1);
        assert!(!v[0].verified());
        assert_eq!(failure(&v[0].report), expected, "{}", v[0].report);
        assert!(v[0].payload.is_none());
    }
}

/// In a real registry (`docker-registry`, no referrers API): the v3
/// referrer under the referrers tag schema (as cosign v3 falls back to on
/// such registries), a v2 `.att` tag beside it, and the keyless `.sig`
/// under its tag in another repository; each found and verified.
#[cfg(feature = "oci-registry")]
#[test]
fn in_a_registry_both_places_are_found_and_verified() {
    use custodia::oci::referrers_index;
    use custodia::oci::registry::{Registry, RegistryOptions};
    let Some(server) = oci_common::RegistryServer::start(None) else {
        return;
    };
    let open = |repository: &str| {
        Registry::new(
            &server.host(),
            repository,
            RegistryOptions::new().plain_http(),
        )
        .unwrap()
    };

    let dir = tempfile::tempdir().unwrap();
    let layout = layout("v3-referrer", dir.path());
    let image = digest(EMPTY_IMAGE);
    let att = put_as_legacy_att(&layout, &image);
    let registry = open("cosign/empty");
    registry
        .push_from_layout(&layout, &layout.resolve(Some("empty")).unwrap(), "empty")
        .unwrap();
    let referrer = layout
        .index()
        .unwrap()
        .manifests
        .into_iter()
        .find(|d| d.digest == digest(REFERRER))
        .unwrap();
    registry
        .push_from_layout(&layout, &referrer, REFERRER)
        .unwrap();
    let index = referrers_index(std::slice::from_ref(&referrer));
    registry
        .put_manifest(
            &Registry::referrers_tag(&image),
            "application/vnd.oci.image.index.v1+json",
            &index.to_json().unwrap(),
        )
        .unwrap();
    registry
        .push_from_layout(&layout, &att, &LegacyKind::Attestations.tag(&image))
        .unwrap();

    let found = discover(&registry, &image, &ReferrerFilter::any()).unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(
        found[0].location,
        Location::Referrer {
            manifest: digest(REFERRER)
        }
    );
    assert!(found[1].location.is_legacy());
    let verified = verify_attached_bundles(
        &registry,
        &image,
        &keyless(&bundle_signer()),
        COSIGN_ATTESTATION,
    )
    .unwrap();
    assert_eq!(verified.len(), 2);
    for v in &verified {
        assert!(v.verified(), "{}: {}", v.location, v.report);
    }

    // The keyless `.sig`, pushed under its tag (the image itself is not
    // needed to find or verify its signatures).
    let dir = tempfile::tempdir().unwrap();
    let sigs = self::layout("v2-keyless-sig", dir.path());
    let tag = LegacyKind::Signatures.tag(&digest(SIGNED_IMAGE));
    let registry = open("cosign/signed");
    registry
        .push_from_layout(&sigs, &sigs.resolve(Some(&tag)).unwrap(), &tag)
        .unwrap();
    let v = verify_attached_keyless_signatures(
        &registry,
        &digest(SIGNED_IMAGE),
        &keyless(&sig_signer()),
    )
    .unwrap();
    assert_eq!(v.len(), 1);
    assert!(v[0].verified(), "{}", v[0].report);
    // Under another image's tag: refused at `image`.
    let other = digest(EMPTY_IMAGE);
    let sig = sigs.resolve(Some(&tag)).unwrap();
    registry
        .push_from_layout(&sigs, &sig, &LegacyKind::Signatures.tag(&other))
        .unwrap();
    let v = verify_attached_keyless_signatures(&registry, &other, &keyless(&sig_signer())).unwrap();
    assert_eq!(failure(&v[0].report), "image");
}

/// The `oci_cosign` fuzz target's function on its seeds (the keyless
/// `.sig` layer above is one), and that layer read as the
/// message-signature bundle it amounts to.
#[test]
fn the_fuzz_seeds_run_and_the_sig_layer_is_a_message_signature_bundle() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/oci_cosign");
    let mut count = 0;
    for entry in fs::read_dir(seeds).unwrap() {
        custodia::oci::fuzzing::cosign(&fs::read(entry.unwrap().path()).unwrap());
        count += 1;
    }
    assert!(count >= 4, "seeds missing");

    let manifest: Value = serde_json::from_slice(
        &fs::read(data(&format!(
            "v2-keyless-sig/blobs/sha256/{}",
            &SIG_MANIFEST[7..]
        )))
        .unwrap(),
    )
    .unwrap();
    let layer: Descriptor = serde_json::from_value(manifest["layers"][0].clone()).unwrap();
    let payload = fs::read(data(&format!(
        "v2-keyless-sig/blobs/sha256/{}",
        layer.digest.encoded()
    )))
    .unwrap();
    let bundle = custodia::oci::cosign::legacy_bundle(&layer, &payload)
        .unwrap()
        .unwrap();
    let bundle = custodia::bundle::Bundle::from_json(&bundle).unwrap();
    assert!(bundle.envelope().is_none());
    assert_eq!(bundle.tlog_entries().len(), 1);
}

/// `verifier oci` on both layouts: the v3 referrer as an attestation, the
/// keyless `.sig` with `--signatures`; each says where it was found, and
/// another signer is refused (exit 1) at `identity`.
mod cli {
    use super::*;

    fn verifier_oci(dir: &Path, args: &[&str]) -> cli_support::Out {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/sigstore/trusted_roots/production.trusted_root.json");
        let mut all = vec!["oci", "--trusted-root", root.to_str().unwrap()];
        all.extend_from_slice(args);
        all.extend_from_slice(&[
            "--certificate-oidc-issuer",
            GITHUB_OAUTH,
            "--format",
            "json",
        ]);
        cli_support::run_env(&cli_support::bins().verifier, dir, all, &[])
    }

    #[test]
    fn verifier_oci_verifies_the_v3_referrer_and_the_keyless_sig() {
        let dir = tempfile::tempdir().unwrap();
        let v3 = dir.path().join("v3");
        copy_dir(&data("v3-referrer"), &v3);
        let image = format!("{}:empty", v3.display());
        let out = verifier_oci(
            dir.path(),
            &[
                "--oci-layout",
                &image,
                "--certificate-identity",
                "cody@soyland.com",
                "--predicate-type",
                COSIGN_ATTESTATION,
            ],
        );
        out.ok();
        assert_eq!(
            out.check("location")["reason"],
            format!("OCI 1.1 referrer {REFERRER}")
        );
        assert_eq!(out.check("subject")["passed"], true);

        let v2 = dir.path().join("v2");
        copy_dir(&data("v2-keyless-sig"), &v2);
        let image = format!("{}:fulcio-rekor-1", v2.display());
        let out = verifier_oci(
            dir.path(),
            &[
                "--oci-layout",
                &image,
                "--signatures",
                "--certificate-identity",
                "mitr@redhat.com",
            ],
        );
        out.ok();
        assert!(
            out.check("location")["reason"]
                .as_str()
                .unwrap()
                .starts_with("cosign tag sha256-0489474d"),
        );
        assert_eq!(out.check("image")["passed"], true);
        assert_eq!(out.check("transparency-log")["passed"], true);

        let out = verifier_oci(
            dir.path(),
            &[
                "--oci-layout",
                &image,
                "--signatures",
                "--certificate-identity",
                "someone@else.example",
            ],
        );
        out.fails(1, "identity");
    }
}
