//! Zero-layer images: what `umoci new` (Debian package `umoci`) or a
//! `FROM scratch` build without files makes. The image spec says layers
//! SHOULD have at least one entry "for portability", so custodia accepts
//! such an image as an artifact, with a `layers` warning check, and still
//! refuses a manifest that breaks a MUST. The image made by umoci gets an
//! identity, takes attachments, and skopeo still reads and copies it.
//! Skipped with a note when umoci or skopeo is missing, except in CI
//! (`CI=true`), where `.ci/run` installs them.
#![cfg(feature = "oci")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod cli_support;
mod oci_common;

use std::path::Path;
use std::process::Command;

use custodia::dsse::Envelope;
use custodia::keys::{KeyAlgorithm, PrivateKey};
use custodia::oci::spec::ImageConfig;
use custodia::oci::{Attachment, ImageManifest, Layout, Manifest, verify_attached};
use custodia::resource::ResourceDescriptor;
use custodia::statement::{PAYLOAD_TYPE, Statement};
use custodia::trust::TrustAnchors;

const PROVENANCE: &str = "https://slsa.dev/provenance/v1";

fn run(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{tool} {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn oci(dir: &Path, reference: &str) -> String {
    format!("oci:{}:{reference}", dir.display())
}

/// `umoci init` + `umoci new`: an image with an empty `layers` list and a
/// config whose `rootfs.diff_ids` is empty.
fn umoci_image(dir: &Path) -> Option<Layout> {
    if !oci_common::tool("umoci", "--version") {
        return None;
    }
    let path = dir.join("scratch");
    run("umoci", &["init", "--layout", path.to_str().unwrap()]);
    run(
        "umoci",
        &["new", "--image", &format!("{}:v1", path.display())],
    );
    Some(Layout::open(&path).unwrap())
}

#[test]
fn a_zero_layer_image_from_umoci_has_an_identity_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = umoci_image(dir.path()) else {
        return;
    };
    let identity = layout.identity(Some("v1")).unwrap();
    let manifest = layout.read_image_manifest(&identity.descriptor).unwrap();
    assert!(manifest.has_no_layers());
    // The config umoci wrote parses; its rootfs lists no layer either.
    let config = layout.read_blob(&manifest.config, 1 << 20).unwrap();
    assert!(
        ImageConfig::from_json(&config)
            .unwrap()
            .rootfs
            .diff_ids
            .is_empty()
    );
    // One `layers` check, passing, worded as a warning.
    let checks = identity.checks.checks();
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].name, "layers");
    assert!(checks[0].passed);
    assert_eq!(identity.warnings().count(), 1);
    assert!(identity.checks.verified());
    // Every blob it reaches is intact.
    assert!(layout.verify(Some("v1")).unwrap().is_ok());
}

#[test]
fn a_zero_layer_image_takes_attachments_that_verify_and_skopeo_still_reads() {
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = umoci_image(dir.path()) else {
        return;
    };
    if !oci_common::tool("skopeo", "--version") {
        return;
    }
    let image = layout.identity(Some("v1")).unwrap();
    let key = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let statement = Statement::new_untyped(
        vec![ResourceDescriptor::new(
            "scratch",
            image.digest_set().unwrap(),
        )],
        PROVENANCE,
        serde_json::json!({"buildDefinition": {"buildType": "umoci new"}}),
    )
    .unwrap();
    let envelope = Envelope::sign(PAYLOAD_TYPE, statement.to_json().unwrap(), &key).unwrap();
    layout
        .attach(&image.descriptor, &Attachment::dsse(&envelope).unwrap())
        .unwrap();

    // custodia finds and verifies the attestation against the image.
    let keys: TrustAnchors = [key.public_key().clone()].into_iter().collect();
    let verified = verify_attached(&layout, &image.descriptor.digest, &keys, PROVENANCE).unwrap();
    assert_eq!(verified.len(), 1);
    assert!(verified[0].verified(), "{}", verified[0].report);

    // skopeo reads the image, with its referrer beside it in index.json:
    // the digest it reports is custodia's identity, and it lists no layer.
    let inspect: serde_json::Value =
        serde_json::from_str(&run("skopeo", &["inspect", &oci(layout.root(), "v1")])).unwrap();
    assert_eq!(inspect["Digest"], image.descriptor.digest.to_string());
    assert_eq!(inspect["Layers"].as_array().unwrap().len(), 0);
    let raw = run("skopeo", &["inspect", "--raw", &oci(layout.root(), "v1")]);
    assert_eq!(
        custodia::digest::DigestAlgorithm::Sha256
            .hash(raw.as_bytes())
            .to_string(),
        image.descriptor.digest.to_string()
    );
    // skopeo copies it byte for byte; custodia gives the copy the same
    // identity, and the attestation verifies for it.
    let target = dir.path().join("copy");
    run(
        "skopeo",
        &[
            "copy",
            "--quiet",
            "--preserve-digests",
            &oci(layout.root(), "v1"),
            &oci(&target, "release"),
        ],
    );
    let copied = Layout::open(&target).unwrap();
    let identity = copied.identity(Some("release")).unwrap();
    assert_eq!(identity.descriptor.digest, image.descriptor.digest);
    copied
        .attach(&identity.descriptor, &Attachment::dsse(&envelope).unwrap())
        .unwrap();
    let verified =
        verify_attached(&copied, &identity.descriptor.digest, &keys, PROVENANCE).unwrap();
    assert_eq!(verified.len(), 1);
    assert!(verified[0].verified(), "{}", verified[0].report);
    // And skopeo still reads the copy with the attachment in it.
    let again: serde_json::Value =
        serde_json::from_str(&run("skopeo", &["inspect", &oci(&target, "release")])).unwrap();
    assert_eq!(again["Digest"], image.descriptor.digest.to_string());
}

#[test]
fn the_command_line_names_a_zero_layer_image_and_warns() {
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = umoci_image(dir.path()) else {
        return;
    };
    let digest = layout.identity(Some("v1")).unwrap().descriptor.digest;
    let spec = format!("{}:v1", layout.root().display());
    let out = cli_support::run_env(
        &cli_support::bins().attest,
        dir.path(),
        ["digest", "--oci-layout", spec.as_str()],
        &[],
    );
    out.ok();
    assert!(out.stdout.starts_with(&digest.to_string()), "{out:?}");
    assert!(out.stderr.contains("warning:"), "{out:?}");
}

const CONFIG: &str = r#"{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}"#;

#[test]
fn zero_layers_are_accepted_but_the_musts_still_hold() {
    // Accepted: `layers` present and empty.
    let ok = format!(r#"{{"schemaVersion":2,"config":{CONFIG},"layers":[]}}"#);
    let m = ImageManifest::from_json(ok.as_bytes()).unwrap();
    assert!(m.has_no_layers());
    let check = m.layers_check();
    assert_eq!(check.name, "layers");
    assert!(check.passed && check.reason.starts_with("warning:"));
    // With layers: no warning.
    let one = format!(r#"{{"schemaVersion":2,"config":{CONFIG},"layers":[{CONFIG}]}}"#);
    let check = ImageManifest::from_json(one.as_bytes())
        .unwrap()
        .layers_check();
    assert!(check.passed && !check.reason.starts_with("warning:"));

    // Refused: `layers` is REQUIRED, an array, of descriptors; `config`
    // is REQUIRED; schemaVersion MUST be 2.
    for bad in [
        format!(r#"{{"schemaVersion":2,"config":{CONFIG}}}"#),
        format!(r#"{{"schemaVersion":2,"config":{CONFIG},"layers":null}}"#),
        format!(r#"{{"schemaVersion":2,"config":{CONFIG},"layers":{{}}}}"#),
        format!(r#"{{"schemaVersion":2,"config":{CONFIG},"layers":[{{}}]}}"#),
        r#"{"schemaVersion":2,"layers":[]}"#.to_owned(),
        format!(r#"{{"schemaVersion":1,"config":{CONFIG},"layers":[]}}"#),
    ] {
        let err = Manifest::from_json(
            &"application/vnd.oci.image.manifest.v1+json"
                .parse()
                .unwrap(),
            bad.as_bytes(),
        )
        .err()
        .unwrap_or_else(|| panic!("accepted: {bad}"));
        assert!(
            matches!(err, custodia::Error::Json(_) | custodia::Error::Oci(_)),
            "{bad}: {err:?}"
        );
    }
}
