//! cosign v2's attachments found beside OCI 1.1 referrers (features `oci`
//! and `sigstore`), on real cosign data: the image layout `cosign save` wrote
//! for slsa-verifier's test data (tests/conformance/oci/
//! image-layout-slsa-verifier, see SOURCES.md there): an image index and
//! its `.att` manifest, one keyless DSSE attestation (SLSA provenance v0.2
//! by slsa-github-generator v2.1.0, Fulcio certificate and chain, Rekor
//! SET) in cosign's annotations.
//!
//! Shown here: the attestation is found under its legacy tag and verifies
//! offline against Sigstore's production trusted root (as the bundle v0.1
//! it is equivalent to); an image with both kinds finds both and says where
//! each was; the same `.att` manifest under the tag of another image is
//! refused (its statement is about another image); a tampered Rekor entry
//! is refused; and with `docker-registry` installed, the same in a real
//! registry under the tag `sha256-<hex>.att`.
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

use custodia::bundle::{IdentityPolicy, TrustedRoot};
use custodia::digest::DigestSet;
use custodia::dsse::Envelope;
use custodia::keys::{KeyAlgorithm, PrivateKey};
use custodia::oci::cosign::{LegacyKind, legacy_bundle};
use custodia::oci::spec::ANNOTATION_REF_NAME;
use custodia::oci::{
    Attachment, Descriptor, ImageBuilder, Layout, Location, OciDigest, ReferrerFilter, discover,
    verify_attached, verify_attached_bundles,
};
use custodia::resource::ResourceDescriptor;
use custodia::statement::{PAYLOAD_TYPE, Statement};
use custodia::trust::{Anchor, TrustAnchors};

const SLSA_V02: &str = "https://slsa.dev/provenance/v0.2";
const IMAGE: &str = "sha256:234e2c830c2fb31ac5671789d22adfe44d30c3ee831d01beae5e237841a13122";
const ATTS: &str = "sha256:21454caf3a160dfbe6359f0501aa8401c6c0f2c7a8b71380ea21f8c4b48b64fe";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn source_layout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/oci/image-layout-slsa-verifier")
}

/// A writable copy of the `cosign save` layout.
fn saved(dir: &Path) -> Layout {
    copy_dir(&source_layout(), dir);
    Layout::open(dir).unwrap()
}

/// slsa-github-generator's container workflow, any release.
fn generator() -> IdentityPolicy {
    IdentityPolicy::keyless_regex(
        r"^https://github\.com/slsa-framework/slsa-github-generator/\.github/workflows/generator_container_slsa3\.yml@refs/tags/v",
        &format!("^{}$", regex_escape(ISSUER)),
    )
    .unwrap()
}

fn regex_escape(s: &str) -> String {
    s.replace('.', r"\.")
}

fn digest(s: &str) -> OciDigest {
    s.parse().unwrap()
}

fn names(report: &custodia::report::Report) -> Vec<&str> {
    report.checks().iter().map(|c| c.name.as_str()).collect()
}

#[test]
fn a_cosign_v2_attestation_is_found_under_its_legacy_tag_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let layout = saved(dir.path());
    // The image is the layout's one image (cosign's `kind` annotations).
    let identity = layout.identity(None).unwrap();
    assert_eq!(identity.descriptor.digest, digest(IMAGE));

    let found = discover(&layout, &digest(IMAGE), &ReferrerFilter::any()).unwrap();
    assert_eq!(found.len(), 1);
    let tag = LegacyKind::Attestations.tag(&digest(IMAGE));
    assert_eq!(
        found[0].location,
        Location::LegacyTag {
            tag: tag.clone(),
            manifest: digest(ATTS),
            layer: 0,
        }
    );
    assert_eq!(found[0].predicate_type.as_deref(), Some(SLSA_V02));
    assert_eq!(
        found[0].referrer.descriptor.annotation(ANNOTATION_REF_NAME),
        Some(tag.as_str())
    );

    // Keyless: verified offline, every check named, `location` first.
    let verified = verify_attached_bundles(
        &layout,
        &digest(IMAGE),
        &anchors(&production_root(), &generator()),
        SLSA_V02,
    )
    .unwrap();
    assert_eq!(verified.len(), 1);
    let v = &verified[0];
    assert!(v.verified(), "{}", v.report);
    assert!(v.location.is_legacy());
    assert_eq!(
        names(&v.report),
        [
            "location",
            "bundle-blob",
            "bundle",
            "certificate-chain",
            "transparency-log",
            "signing-time",
            "identity",
            "issuer",
            "signature",
            "tlog-body",
            "payload-type",
            "statement",
            "predicate-type",
            "subject",
        ]
    );
    assert_eq!(v.statement.as_ref().unwrap().predicate_type(), SLSA_V02);

    // Another signer identity: found, refused at `identity`.
    let stranger = IdentityPolicy::keyless(
        "https://github.com/acme/app/.github/workflows/x.yml@refs/heads/main",
        ISSUER,
    );
    let refused = verify_attached_bundles(
        &layout,
        &digest(IMAGE),
        &anchors(&production_root(), &stranger),
        SLSA_V02,
    )
    .unwrap();
    assert_eq!(refused[0].report.first_failure().unwrap().name, "identity");

    // With keys: the keyless envelope is found and its signature refused.
    let key = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let keys: TrustAnchors = [key.public_key().clone()].into_iter().collect();
    let by_key = verify_attached(&layout, &digest(IMAGE), &keys, SLSA_V02).unwrap();
    assert_eq!(by_key.len(), 1);
    assert!(!by_key[0].verified());
    assert!(by_key[0].location.is_legacy());
}

#[test]
fn an_image_with_both_kinds_finds_both_and_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let layout = saved(dir.path());
    let image = layout.identity(None).unwrap();
    // An OCI 1.1 referrer beside the cosign v2 tag: a key-signed statement
    // about the same image, attached as custodia (and cosign v3) attach.
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let statement = Statement::new_untyped(
        vec![ResourceDescriptor::new(
            "image",
            image.digest_set().unwrap(),
        )],
        SLSA_V02,
        serde_json::json!({"builder": {"id": "https://ci.example/builder"}}),
    )
    .unwrap();
    let envelope = Envelope::sign(PAYLOAD_TYPE, statement.to_json().unwrap(), &key).unwrap();
    let referrer = layout
        .attach(&image.descriptor, &Attachment::dsse(&envelope).unwrap())
        .unwrap();

    let found = discover(&layout, &image.descriptor.digest, &ReferrerFilter::any()).unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(
        found[0].location,
        Location::Referrer {
            manifest: referrer.descriptor.digest.clone()
        }
    );
    assert!(found[1].location.is_legacy());
    assert_eq!(found[1].location.manifest(), &digest(ATTS));

    // Keys: both verified as DSSE attestations, the referrer passes, the
    // keyless legacy one fails its signature; each says where it was.
    let keys: TrustAnchors = [key.public_key().clone()].into_iter().collect();
    let by_key = verify_attached(&layout, &image.descriptor.digest, &keys, SLSA_V02).unwrap();
    assert_eq!(by_key.len(), 2);
    assert!(by_key[0].verified(), "{}", by_key[0].report);
    assert!(!by_key[0].location.is_legacy());
    assert!(!by_key[1].verified());
    for v in &by_key {
        assert_eq!(v.report.checks()[0].name, "location");
        assert_eq!(v.report.checks()[0].reason, v.location.to_string());
    }
    // Keyless: the legacy attestation verifies (the DSSE referrer is not a
    // bundle, so it is not a candidate).
    let keyless = verify_attached_bundles(
        &layout,
        &image.descriptor.digest,
        &anchors(&production_root(), &generator()),
        SLSA_V02,
    )
    .unwrap();
    assert_eq!(keyless.len(), 1);
    assert!(keyless[0].verified(), "{}", keyless[0].report);
}

/// Writes the real `.att` manifest (and the blobs it names that exist)
/// into `layout`, listed under `ref_name`.
fn put_real_atts(layout: &Layout, ref_name: &str, manifest: &[u8]) -> Descriptor {
    let blobs = source_layout().join("blobs/sha256");
    for hex in [
        "994025264a85542118ab73a59d30e51516ea596238c1fb4adeb674294519de57",
        "e163b472f2e5d66e5a2a45e26e020c51a0d2da7dc8b567b31fc2ebfd33dbc33a",
    ] {
        layout
            .write_blob(&fs::read(blobs.join(hex)).unwrap())
            .unwrap();
    }
    layout
        .put_manifest(
            "application/vnd.oci.image.manifest.v1+json",
            manifest,
            Some(ref_name),
        )
        .unwrap()
}

fn real_atts_manifest() -> Vec<u8> {
    fs::read(source_layout().join(format!("blobs/sha256/{}", &ATTS[7..]))).unwrap()
}

#[test]
fn a_legacy_tag_attestation_about_another_image_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::create(dir.path()).unwrap();
    ImageBuilder::new()
        .file("app", b"another image")
        .write_to(&layout, "v1")
        .unwrap();
    let image = layout.identity(Some("v1")).unwrap();
    let tag = LegacyKind::Attestations.tag(&image.descriptor.digest);
    put_real_atts(&layout, &tag, &real_atts_manifest());
    // The legacy tag is an attachment, not a second image: the layout
    // still names one image.
    assert_eq!(
        layout.identity(None).unwrap().descriptor.digest,
        image.descriptor.digest
    );

    let found = discover(&layout, &image.descriptor.digest, &ReferrerFilter::any()).unwrap();
    assert_eq!(found.len(), 1);
    assert!(found[0].location.is_legacy());
    let verified = verify_attached_bundles(
        &layout,
        &image.descriptor.digest,
        &anchors(&production_root(), &generator()),
        SLSA_V02,
    )
    .unwrap();
    assert_eq!(verified.len(), 1);
    // Genuinely signed by the generator, but about 234e2c...: refused.
    let v = &verified[0];
    assert!(!v.verified());
    assert_eq!(v.report.first_failure().unwrap().name, "subject");
    assert!(v.statement.is_none());
    // Not found for the image it is about in this layout (no such tag).
    assert!(
        discover(&layout, &digest(IMAGE), &ReferrerFilter::any())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_tampered_rekor_entry_or_certificate_is_refused() {
    let manifest: serde_json::Value = serde_json::from_slice(&real_atts_manifest()).unwrap();
    let annotations = &manifest["layers"][0]["annotations"];
    let rekor: serde_json::Value =
        serde_json::from_str(annotations["dev.sigstore.cosign/bundle"].as_str().unwrap()).unwrap();
    let with_rekor = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut r = rekor.clone();
        edit(&mut r);
        let mut m = manifest.clone();
        m["layers"][0]["annotations"]["dev.sigstore.cosign/bundle"] = r.to_string().into();
        m
    };
    let moved = with_rekor(&|r| {
        r["Payload"]["integratedTime"] =
            (r["Payload"]["integratedTime"].as_i64().unwrap() + 60).into();
    });
    let other_index = with_rekor(&|r| {
        r["Payload"]["logIndex"] = (r["Payload"]["logIndex"].as_i64().unwrap() + 1).into();
    });
    let mut no_certificate = manifest.clone();
    no_certificate["layers"][0]["annotations"]
        .as_object_mut()
        .unwrap()
        .remove("dev.sigstore.cosign/certificate");
    for (case, tampered, check) in [
        (
            "integrated time moved under the SET",
            moved,
            "transparency-log",
        ),
        (
            "log index moved under the SET",
            other_index,
            "transparency-log",
        ),
        ("certificate removed", no_certificate, "legacy-layer"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let layout = saved(dir.path());
        let tag = LegacyKind::Attestations.tag(&digest(IMAGE));
        put_real_atts(&layout, &tag, &serde_json::to_vec(&tampered).unwrap());
        let verified = verify_attached_bundles(
            &layout,
            &digest(IMAGE),
            &anchors(&production_root(), &generator()),
            SLSA_V02,
        )
        .unwrap();
        // The tag (this manifest) wins over the `cosign save` entry.
        assert_eq!(verified.len(), 1, "{case}");
        let report = &verified[0].report;
        assert!(!report.verified(), "{case}: {report}");
        assert_eq!(
            report.first_failure().unwrap().name,
            check,
            "{case}: {report}"
        );
    }
}

#[test]
fn a_layer_becomes_the_bundle_it_is_equivalent_to_and_bad_annotations_are_typed_errors() {
    let manifest: serde_json::Value = serde_json::from_slice(&real_atts_manifest()).unwrap();
    let layer: Descriptor = serde_json::from_value(manifest["layers"][0].clone()).unwrap();
    let blob =
        fs::read(source_layout().join(format!("blobs/sha256/{}", layer.digest.encoded()))).unwrap();
    let bundle = legacy_bundle(&layer, &blob).unwrap().unwrap();
    let bundle = custodia::bundle::Bundle::from_json(&bundle).unwrap();
    assert_eq!(bundle.tlog_entries().len(), 1);
    assert!(bundle.envelope().is_some());
    // Verified as a bare bundle: the same outcome.
    let expect = custodia::verify::Expectation::new(SLSA_V02, {
        let mut set = DigestSet::new();
        set.insert_raw("sha256", &IMAGE[7..]).unwrap();
        set
    });
    let result = custodia::bundle::verify_attestation(
        &bundle,
        &anchors(&production_root(), &generator()),
        &expect,
    );
    assert!(result.report().verified(), "{}", result.report());

    for (key, value) in [
        ("dev.sigstore.cosign/certificate", "not PEM"),
        ("dev.sigstore.cosign/bundle", "{\"SignedEntryTimestamp\":1}"),
        ("dev.sigstore.cosign/bundle", "{}"),
    ] {
        let mut bad = layer.clone();
        bad.annotations.insert(key.to_owned(), value.to_owned());
        let err = legacy_bundle(&bad, &blob).err();
        assert!(
            matches!(
                err,
                Some(custodia::Error::Oci(_) | custodia::Error::Json(_))
            ),
            "{key}={value}: {err:?}"
        );
    }
}

#[cfg(feature = "oci-registry")]
#[test]
fn in_a_registry_the_legacy_tag_is_found_and_an_attestation_about_another_image_refused() {
    use custodia::oci::registry::{Registry, RegistryOptions};
    let Some(server) = oci_common::RegistryServer::start(None) else {
        return;
    };
    let registry = Registry::new(
        &server.host(),
        "legacy/app",
        RegistryOptions::new().plain_http(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::create(dir.path()).unwrap();
    ImageBuilder::new()
        .file("app", b"registry image")
        .write_to(&layout, "v1")
        .unwrap();
    let image = layout.identity(Some("v1")).unwrap();
    registry
        .push_from_layout(&layout, &image.descriptor, "v1")
        .unwrap();
    assert!(
        discover(&registry, &image.descriptor.digest, &ReferrerFilter::any())
            .unwrap()
            .is_empty()
    );
    // cosign v2 would push its `.att` under this tag.
    let blobs = source_layout().join("blobs/sha256");
    for hex in [
        "994025264a85542118ab73a59d30e51516ea596238c1fb4adeb674294519de57",
        "e163b472f2e5d66e5a2a45e26e020c51a0d2da7dc8b567b31fc2ebfd33dbc33a",
    ] {
        registry
            .push_blob(&fs::read(blobs.join(hex)).unwrap())
            .unwrap();
    }
    let tag = LegacyKind::Attestations.tag(&image.descriptor.digest);
    registry
        .put_manifest(
            &tag,
            "application/vnd.oci.image.manifest.v1+json",
            &real_atts_manifest(),
        )
        .unwrap();
    let found = discover(&registry, &image.descriptor.digest, &ReferrerFilter::any()).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].location,
        Location::LegacyTag {
            tag,
            manifest: digest(ATTS),
            layer: 0
        }
    );
    let verified = verify_attached_bundles(
        &registry,
        &image.descriptor.digest,
        &anchors(&production_root(), &generator()),
        SLSA_V02,
    )
    .unwrap();
    assert_eq!(verified.len(), 1);
    assert_eq!(verified[0].report.first_failure().unwrap().name, "subject");
    // The signer checks passed before the subject refused it.
    assert!(names(&verified[0].report).contains(&"tlog-body"));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever cosign's annotations hold, reading a layer as a bundle
        /// is a value or a typed error, never a panic; what it builds is a
        /// bundle the parser reads, or refuses with a typed error.
        #[test]
        fn annotations_never_panic(
            certificate in ".{0,200}",
            rekor in ".{0,200}",
            chain in proptest::option::of(".{0,100}"),
            blob in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            let mut layer = Descriptor::of_bytes("application/vnd.dsse.envelope.v1+json", &blob).unwrap();
            layer.annotations.insert("dev.sigstore.cosign/certificate".into(), certificate);
            layer.annotations.insert("dev.sigstore.cosign/bundle".into(), rekor);
            if let Some(chain) = chain {
                layer.annotations.insert("dev.sigstore.cosign/chain".into(), chain);
            }
            if let Ok(Some(bytes)) = legacy_bundle(&layer, &blob) {
                let _ = custodia::bundle::Bundle::from_json(&bytes);
            }
        }

        /// The legacy tag of any sha256 digest is a valid tag that names it.
        #[test]
        fn legacy_tags_name_the_digest(hex in "[0-9a-f]{64}") {
            let d: OciDigest = format!("sha256:{hex}").parse().unwrap();
            for kind in LegacyKind::ALL {
                let tag = kind.tag(&d);
                prop_assert!(tag.len() <= 128);
                prop_assert_eq!(tag.strip_prefix("sha256-").and_then(|t| t.split_once('.')).map(|(h, _)| h), Some(hex.as_str()));
            }
        }
    }
}

mod cli {
    use super::*;

    #[test]
    fn verifier_oci_finds_the_cosign_v2_attestation_and_says_where() {
        let dir = tempfile::tempdir().unwrap();
        let layout_dir = dir.path().join("image");
        saved(&layout_dir);
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/sigstore/trusted_roots/production.trusted_root.json");
        let out = cli_support::run_env(
            &cli_support::bins().verifier,
            dir.path(),
            [
                "oci",
                "--oci-layout",
                layout_dir.to_str().unwrap(),
                "--trusted-root",
                root.to_str().unwrap(),
                "--certificate-identity-regexp",
                "^https://github.com/slsa-framework/slsa-github-generator/",
                "--certificate-oidc-issuer",
                ISSUER,
                "--predicate-type",
                SLSA_V02,
                "--format",
                "json",
            ],
            &[],
        );
        out.ok();
        let location = out.check("location");
        assert_eq!(location["passed"], true);
        assert!(
            location["reason"]
                .as_str()
                .unwrap()
                .starts_with("cosign tag sha256-234e2c83"),
            "{location}"
        );
        assert_eq!(out.check("subject")["passed"], true);
    }
}

mod signatures {
    use super::*;
    use base64::Engine as _;
    use custodia::keys::Signer as _;
    use custodia::oci::verify_attached_signatures;

    /// A cosign v2 `.sig` manifest as cosign writes one (a config whose
    /// rootfs lists the payload, one simple signing layer with the base64
    /// signature annotation), put under the image's `.sig` tag.
    fn put_sig(layout: &Layout, image: &OciDigest, payloads: &[(Vec<u8>, Vec<u8>)]) {
        let mut layers = Vec::new();
        let mut diff_ids = Vec::new();
        for (payload, signature) in payloads {
            let d = layout.write_blob(payload).unwrap();
            diff_ids.push(d.to_string());
            layers.push(json!({
                "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
                "size": payload.len(),
                "digest": d.to_string(),
                "annotations": {"dev.cosignproject.cosign/signature":
                    base64::engine::general_purpose::STANDARD.encode(signature)},
            }));
        }
        let config = serde_json::to_vec(
            &json!({"architecture": "", "created": "0001-01-01T00:00:00Z",
            "history": [{"created": "0001-01-01T00:00:00Z"}], "os": "",
            "rootfs": {"type": "layers", "diff_ids": diff_ids}, "config": {}}),
        )
        .unwrap();
        let config_digest = layout.write_blob(&config).unwrap();
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                "size": config.len(), "digest": config_digest.to_string()},
            "layers": layers,
        }))
        .unwrap();
        layout
            .put_manifest(
                "application/vnd.oci.image.manifest.v1+json",
                &manifest,
                Some(&LegacyKind::Signatures.tag(image)),
            )
            .unwrap();
    }

    fn payload(image: &OciDigest) -> Vec<u8> {
        serde_json::to_vec(&json!({"critical": {
            "identity": {"docker-reference": "registry.example/team/app"},
            "image": {"docker-manifest-digest": image.to_string()},
            "type": "cosign container image signature"}, "optional": null}))
        .unwrap()
    }

    use serde_json::json;

    #[test]
    fn cosign_v2_signatures_are_found_and_verified_with_keys() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::create(dir.path()).unwrap();
        ImageBuilder::new()
            .file("app", b"signed image")
            .write_to(&layout, "v1")
            .unwrap();
        let image = layout.identity(Some("v1")).unwrap().descriptor.digest;
        // cosign's default key type: ECDSA P-256.
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let other = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let good = payload(&image);
        let elsewhere = payload(&digest(IMAGE));
        put_sig(
            &layout,
            &image,
            &[
                (good.clone(), key.sign(&good).unwrap()),
                (good.clone(), other.sign(&good).unwrap()),
                (elsewhere.clone(), key.sign(&elsewhere).unwrap()),
            ],
        );
        let keys: TrustAnchors = [key.public_key().clone()].into_iter().collect();
        let verified = verify_attached_signatures(&layout, &image, &keys).unwrap();
        assert_eq!(verified.len(), 3);
        assert!(verified[0].verified(), "{}", verified[0].report);
        assert_eq!(verified[0].payload.as_ref().unwrap().manifest_digest, image);
        assert_eq!(
            verified[0].location,
            Location::LegacyTag {
                tag: LegacyKind::Signatures.tag(&image),
                manifest: verified[0].location.manifest().clone(),
                layer: 0
            }
        );
        // Another key: refused at `signature`; a signature of another
        // image under this image's tag: refused at `image`.
        assert_eq!(
            verified[1].report.first_failure().unwrap().name,
            "signature"
        );
        assert_eq!(verified[2].report.first_failure().unwrap().name, "image");
        assert!(verified[1].payload.is_none() && verified[2].payload.is_none());

        // Discovery lists them beside an attestation referrer: every kind,
        // each with where it was found.
        let statement = Statement::new_untyped(
            vec![ResourceDescriptor::new("app", DigestSet::of_bytes(b"x"))],
            SLSA_V02,
            json!({}),
        )
        .unwrap();
        let envelope = Envelope::sign(PAYLOAD_TYPE, statement.to_json().unwrap(), &key).unwrap();
        let identity = layout.identity(Some("v1")).unwrap();
        layout
            .attach(&identity.descriptor, &Attachment::dsse(&envelope).unwrap())
            .unwrap();
        let found = discover(&layout, &image, &ReferrerFilter::any()).unwrap();
        assert_eq!(found.len(), 4);
        assert!(!found[0].location.is_legacy());
        assert!(found[1..].iter().all(|f| f.location.is_legacy()));
        // An attestation query does not return signatures.
        assert_eq!(
            verify_attached(&layout, &image, &keys, SLSA_V02)
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn simple_signing_payloads_are_read_strictly() {
        use custodia::oci::cosign::SimpleSigning;
        let image = digest(IMAGE);
        assert_eq!(
            SimpleSigning::from_json(&payload(&image))
                .unwrap()
                .manifest_digest,
            image
        );
        for bad in [
            json!({"critical": {"identity": {"docker-reference": "r"}, "image": {"docker-manifest-digest": IMAGE}, "type": "something else"}}),
            json!({"critical": {"identity": {"docker-reference": "r"}, "image": {"docker-manifest-digest": "sha256:zz"}, "type": "cosign container image signature"}}),
            json!({"critical": {"image": {"docker-manifest-digest": IMAGE}, "type": "cosign container image signature"}}),
        ] {
            let err = SimpleSigning::from_json(&serde_json::to_vec(&bad).unwrap()).unwrap_err();
            assert!(
                matches!(err, custodia::Error::Oci(_) | custodia::Error::Json(_)),
                "{bad}: {err:?}"
            );
        }
        let duplicate = br#"{"critical":{"identity":{"docker-reference":"r"},"identity":{"docker-reference":"s"},"image":{"docker-manifest-digest":"sha256:234e2c830c2fb31ac5671789d22adfe44d30c3ee831d01beae5e237841a13122"},"type":"cosign container image signature"}}"#;
        assert!(SimpleSigning::from_json(duplicate).is_err());
    }
}

/// One trusted signer (a keyless identity or a key) under `root`.
fn anchors<A: Clone + Into<Anchor>>(root: &TrustedRoot, signer: &A) -> TrustAnchors {
    let mut anchors = TrustAnchors::new().with_sigstore_root(root.clone());
    anchors.push(signer.clone().into()).unwrap();
    anchors
}
