//! Real tools read what custodia writes: skopeo (Debian package `skopeo`)
//! inspects and copies an image layout holding an image and its attached
//! attestations. Skipped with a note when skopeo is missing, except in CI
//! (`CI=true`), where `.ci/run` installs it and a missing tool fails.
#![cfg(feature = "oci")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::Path;
use std::process::Command;

use custodia::digest::DigestSet;
use custodia::dsse::Envelope;
use custodia::keys::{KeyAlgorithm, PrivateKey};
use custodia::oci::{Attachment, ImageBuilder, Layout, ReferrerFilter, verify_attached};
use custodia::resource::ResourceDescriptor;
use custodia::statement::{PAYLOAD_TYPE, Statement};
use custodia::trust::TrustAnchors;

fn skopeo() -> Option<&'static str> {
    let found = Command::new("skopeo")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some("skopeo");
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("skopeo is required in CI (.ci/run installs the Debian package)");
    }
    eprintln!("note: skopeo not found; skipping (apt-get install skopeo)");
    None
}

fn run(args: &[&str]) -> String {
    let out = Command::new("skopeo").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "skopeo {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn attest(key: &PrivateKey, subject: DigestSet, predicate_type: &str) -> Envelope {
    let statement = Statement::new_untyped(
        vec![ResourceDescriptor::new("app", subject)],
        predicate_type,
        serde_json::json!({"by": "custodia tests"}),
    )
    .unwrap();
    Envelope::sign(PAYLOAD_TYPE, statement.to_json().unwrap(), key).unwrap()
}

fn oci(dir: &Path, reference: &str) -> String {
    format!("oci:{}:{reference}", dir.display())
}

#[test]
fn skopeo_inspects_and_copies_a_layout_custodia_wrote() {
    if skopeo().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::create(dir.path()).unwrap();
    ImageBuilder::new()
        .file("app", b"#!/bin/sh\necho hello\n")
        .file("etc/app.conf", b"level=info\n")
        .annotation("org.opencontainers.image.version", "1.0.0")
        .write_to(&layout, "v1")
        .unwrap();
    let image = layout.identity(Some("v1")).unwrap();
    let key = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
    for predicate_type in [
        "https://slsa.dev/provenance/v1",
        "https://cyclonedx.org/bom",
    ] {
        let env = attest(&key, image.digest_set().unwrap(), predicate_type);
        layout
            .attach(&image.descriptor, &Attachment::dsse(&env).unwrap())
            .unwrap();
    }

    // skopeo reads the image by its ref name; the digest it reports is
    // custodia's identity.
    let inspect: serde_json::Value =
        serde_json::from_str(&run(&["inspect", &oci(dir.path(), "v1")])).unwrap();
    assert_eq!(inspect["Digest"], image.descriptor.digest.to_string());
    assert_eq!(inspect["Os"], "linux");
    assert_eq!(inspect["Architecture"], "amd64");
    assert_eq!(inspect["Layers"].as_array().unwrap().len(), 1);
    let raw = run(&["inspect", "--raw", &oci(dir.path(), "v1")]);
    assert_eq!(
        custodia::digest::DigestAlgorithm::Sha256
            .hash(raw.as_bytes())
            .to_string(),
        image.descriptor.digest.to_string()
    );
    let config = run(&["inspect", "--config", &oci(dir.path(), "v1")]);
    custodia::oci::spec::ImageConfig::from_json(config.as_bytes()).unwrap();

    // skopeo copies it to another layout; with --preserve-digests not a
    // byte changes, and custodia reads the copy: same identity, every blob
    // intact.
    let copy = tempfile::tempdir().unwrap();
    let target = copy.path().join("copy");
    run(&[
        "copy",
        "--quiet",
        "--preserve-digests",
        &oci(dir.path(), "v1"),
        &oci(&target, "release"),
    ]);
    let copied = Layout::open(&target).unwrap();
    let identity = copied.identity(Some("release")).unwrap();
    assert_eq!(identity.descriptor.digest, image.descriptor.digest);
    assert!(copied.verify(None).unwrap().is_ok());

    // The attestations stay with the original and verify there; custodia
    // can attach them to the copy too, and skopeo still reads it.
    let keys: TrustAnchors = [key.public_key().clone()].into_iter().collect();
    for predicate_type in [
        "https://slsa.dev/provenance/v1",
        "https://cyclonedx.org/bom",
    ] {
        let verified =
            verify_attached(&layout, &image.descriptor.digest, &keys, predicate_type).unwrap();
        assert_eq!(verified.len(), 1);
        assert!(verified[0].verified(), "{}", verified[0].report);
    }
    for r in layout
        .referrers(&image.descriptor.digest, &ReferrerFilter::any())
        .unwrap()
    {
        let bytes = layout.fetch_attachment(&r).unwrap();
        copied
            .attach(
                &identity.descriptor,
                &Attachment::dsse_bytes(&bytes).unwrap(),
            )
            .unwrap();
    }
    let again: serde_json::Value =
        serde_json::from_str(&run(&["inspect", &oci(&target, "release")])).unwrap();
    assert_eq!(again["Digest"], image.descriptor.digest.to_string());
    run(&[
        "copy",
        "--quiet",
        "--preserve-digests",
        &oci(&target, "release"),
        &oci(&copy.path().join("second"), "v1"),
    ]);

    // A plain copy recompresses the layer: a different manifest, so a new
    // identity, and the original's attestations do not vouch for it.
    let recompressed = copy.path().join("recompressed");
    run(&[
        "copy",
        "--quiet",
        &oci(dir.path(), "v1"),
        &oci(&recompressed, "v1"),
    ]);
    let other = Layout::open(&recompressed)
        .unwrap()
        .identity(Some("v1"))
        .unwrap();
    assert_ne!(other.descriptor.digest, image.descriptor.digest);
    let env = Envelope::from_json(
        &layout
            .fetch_attachment(
                &layout
                    .referrers(&image.descriptor.digest, &ReferrerFilter::any())
                    .unwrap()[0],
            )
            .unwrap(),
    )
    .unwrap();
    let statement = Statement::from_json(env.payload()).unwrap();
    assert!(
        statement
            .subject_matching(&other.digest_set().unwrap())
            .is_err()
    );
}
