//! Attestations as OCI 1.1 referrers in an image layout: attach, list by
//! artifact type and predicate type, fetch, verify; deterministic bytes;
//! tampering named by path; another implementation (oci-spec) reads what
//! custodia writes.
#![cfg(feature = "oci")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::fs;
use std::path::Path;

use custodia::digest::DigestSet;
use custodia::dsse::Envelope;
use custodia::keys::PrivateKey;
use custodia::oci::referrers::{ANNOTATION_PREDICATE_TYPE, ARTIFACT_TYPE_DSSE};
use custodia::oci::spec::{MEDIA_TYPE_EMPTY, MEDIA_TYPE_IMAGE_MANIFEST};
use custodia::oci::{
    Attachment, ImageBuilder, ImageManifest, Layout, OciDigest, ReferrerFilter, verify_attached,
};
use custodia::resource::ResourceDescriptor;
use custodia::statement::{PAYLOAD_TYPE, Statement};
use custodia::trust::TrustAnchors;
use custodia::verify::{Expectation, verify_attestation};

const PROVENANCE: &str = "https://slsa.dev/provenance/v1";
const SBOM: &str = "https://cyclonedx.org/bom";

fn key() -> PrivateKey {
    let pem = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/openssl/ed25519.key"),
    )
    .unwrap();
    PrivateKey::from_pem(&pem).unwrap()
}

fn keys(key: &PrivateKey) -> TrustAnchors {
    [key.public_key().clone()].into_iter().collect()
}

fn envelope(key: &PrivateKey, subject: DigestSet, predicate_type: &str) -> Envelope {
    let statement = Statement::new_untyped(
        vec![ResourceDescriptor::new("registry.example/app", subject)],
        predicate_type,
        serde_json::json!({"about": predicate_type}),
    )
    .unwrap();
    Envelope::sign(PAYLOAD_TYPE, statement.to_json().unwrap(), key).unwrap()
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
fn attach_list_fetch_verify() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, image) = image(dir.path());
    let key = key();
    let subject = image.digest_set().unwrap();
    let provenance = envelope(&key, subject.clone(), PROVENANCE);
    let sbom = envelope(&key, subject.clone(), SBOM);
    let attached = layout
        .attach(&image.descriptor, &Attachment::dsse(&provenance).unwrap())
        .unwrap();
    layout
        .attach(&image.descriptor, &Attachment::dsse(&sbom).unwrap())
        .unwrap();
    layout
        .attach(
            &image.descriptor,
            &Attachment::new("application/vnd.example.note", "text/plain", b"hi".to_vec()).unwrap(),
        )
        .unwrap();

    // The manifest is an OCI 1.1 artifact: empty config, one layer, subject.
    let m = &attached.manifest;
    assert_eq!(m.artifact_type.as_ref().unwrap(), ARTIFACT_TYPE_DSSE);
    assert_eq!(m.config.media_type, MEDIA_TYPE_EMPTY);
    assert_eq!(m.layers.len(), 1);
    assert_eq!(m.layers[0].media_type, ARTIFACT_TYPE_DSSE);
    assert_eq!(m.subject.as_ref().unwrap().digest, image.descriptor.digest);
    assert_eq!(
        m.subject.as_ref().unwrap().media_type,
        MEDIA_TYPE_IMAGE_MANIFEST
    );
    assert_eq!(m.annotations[ANNOTATION_PREDICATE_TYPE], PROVENANCE);

    let subject_digest = &image.descriptor.digest;
    let all = layout
        .referrers(subject_digest, &ReferrerFilter::any())
        .unwrap();
    assert_eq!(all.len(), 3);
    let dsse = ReferrerFilter::any().artifact_type(ARTIFACT_TYPE_DSSE);
    assert_eq!(layout.referrers(subject_digest, &dsse).unwrap().len(), 2);
    let only_sbom = ReferrerFilter::any().predicate_type(SBOM);
    let found = layout.referrers(subject_digest, &only_sbom).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].predicate_type(), Some(SBOM));
    let none = ReferrerFilter::any().predicate_type("https://example.com/none");
    assert!(layout.referrers(subject_digest, &none).unwrap().is_empty());

    // Fetch and verify against the image digest.
    let bytes = layout.fetch_attachment(&found[0]).unwrap();
    let fetched = Envelope::from_json(&bytes).unwrap();
    let expect = Expectation::new(SBOM, subject.clone());
    assert!(
        verify_attestation(&fetched, &keys(&key), &expect)
            .report()
            .verified()
    );
    // The same through the one-call helper.
    let verified = verify_attached(&layout, subject_digest, &keys(&key), PROVENANCE).unwrap();
    assert_eq!(verified.len(), 1);
    assert!(verified[0].verified(), "{}", verified[0].report);
    assert_eq!(
        verified[0].statement.as_ref().unwrap().predicate_type(),
        PROVENANCE
    );
    // Another image's referrers are not this image's.
    let other = Layout::create(dir.path()).unwrap();
    let other_image = ImageBuilder::new()
        .file("app", b"other")
        .write_to(&other, "v2")
        .unwrap();
    assert!(
        layout
            .referrers(&other_image.digest, &ReferrerFilter::any())
            .unwrap()
            .is_empty()
    );
    // The layout as a whole is intact.
    assert!(layout.verify(None).unwrap().is_ok());
}

#[test]
fn an_attestation_about_another_image_does_not_verify() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, image) = image(dir.path());
    let key = key();
    let wrong = envelope(&key, DigestSet::of_bytes(b"another image"), PROVENANCE);
    layout
        .attach(&image.descriptor, &Attachment::dsse(&wrong).unwrap())
        .unwrap();
    let verified =
        verify_attached(&layout, &image.descriptor.digest, &keys(&key), PROVENANCE).unwrap();
    assert_eq!(verified.len(), 1);
    assert!(!verified[0].verified());
    assert_eq!(verified[0].report.first_failure().unwrap().name, "subject");
    // An untrusted key fails on the signature.
    let stranger = PrivateKey::generate(custodia::keys::KeyAlgorithm::Ed25519).unwrap();
    let verified = verify_attached(
        &layout,
        &image.descriptor.digest,
        &keys(&stranger),
        PROVENANCE,
    )
    .unwrap();
    let failure = verified[0].report.first_failure().unwrap();
    assert!(failure.name.starts_with("signature"), "{failure:?}");
}

#[test]
fn same_input_same_bytes_same_digest() {
    let key = key();
    let mut digests = Vec::new();
    let mut indexes = Vec::new();
    for _ in 0..2 {
        let dir = tempfile::tempdir().unwrap();
        let (layout, image) = image(dir.path());
        let env = envelope(&key, image.digest_set().unwrap(), PROVENANCE);
        let first = layout
            .attach(&image.descriptor, &Attachment::dsse(&env).unwrap())
            .unwrap();
        // Attaching again changes nothing: same manifest, listed once.
        let again = layout
            .attach(&image.descriptor, &Attachment::dsse(&env).unwrap())
            .unwrap();
        assert_eq!(first, again);
        assert_eq!(
            layout
                .referrers(&image.descriptor.digest, &ReferrerFilter::any())
                .unwrap()
                .len(),
            1
        );
        digests.push((
            image.descriptor.digest.clone(),
            first.descriptor.digest.clone(),
        ));
        indexes.push(fs::read(dir.path().join("index.json")).unwrap());
    }
    assert_eq!(digests[0], digests[1]);
    assert_eq!(indexes[0], indexes[1]);
}

#[test]
fn envelope_bytes_are_attached_as_given() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, image) = image(dir.path());
    let env = envelope(&key(), image.digest_set().unwrap(), PROVENANCE);
    // Pretty-printed: not custodia's canonical form, kept byte for byte.
    let value: serde_json::Value = serde_json::from_slice(&env.to_json().unwrap()).unwrap();
    let pretty = serde_json::to_vec_pretty(&value).unwrap();
    let attachment = Attachment::dsse_bytes(&pretty).unwrap();
    assert_eq!(attachment.predicate_type(), Some(PROVENANCE));
    let referrer = layout.attach(&image.descriptor, &attachment).unwrap();
    let found = layout
        .referrers(&image.descriptor.digest, &ReferrerFilter::any())
        .unwrap();
    assert_eq!(layout.fetch_attachment(&found[0]).unwrap(), pretty);
    assert_eq!(referrer.layer.size, pretty.len() as u64);
    // Not an envelope: refused before anything is written.
    assert!(Attachment::dsse_bytes(b"{\"payload\":1}").is_err());
}

#[test]
fn tampered_referrers_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, image) = image(dir.path());
    let env = envelope(&key(), image.digest_set().unwrap(), PROVENANCE);
    let referrer = layout
        .attach(&image.descriptor, &Attachment::dsse(&env).unwrap())
        .unwrap();
    // The envelope blob is altered: fetching names its path.
    let blob = Layout::blob_path(&referrer.layer.digest).unwrap();
    let mut bytes = fs::read(dir.path().join(&blob)).unwrap();
    let last = bytes.len() - 2;
    bytes[last] ^= 0x20;
    fs::write(dir.path().join(&blob), &bytes).unwrap();
    let found = layout
        .referrers(&image.descriptor.digest, &ReferrerFilter::any())
        .unwrap();
    let err = layout.fetch_attachment(&found[0]).unwrap_err();
    assert!(
        err.to_string().starts_with(&blob.display().to_string()),
        "{err}"
    );
    // The manifest blob is removed: listing names it.
    let manifest = Layout::blob_path(&referrer.descriptor.digest).unwrap();
    fs::remove_file(dir.path().join(&manifest)).unwrap();
    let err = layout
        .referrers(&image.descriptor.digest, &ReferrerFilter::any())
        .unwrap_err();
    assert!(
        err.to_string().starts_with(&manifest.display().to_string()),
        "{err}"
    );
    assert!(err.to_string().contains("missing"), "{err}");
}

#[test]
fn oci_spec_reads_what_custodia_writes() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, image) = image(dir.path());
    let env = envelope(&key(), image.digest_set().unwrap(), PROVENANCE);
    let referrer = layout
        .attach(&image.descriptor, &Attachment::dsse(&env).unwrap())
        .unwrap();
    let theirs = oci_spec::image::ImageManifest::from_reader(referrer.bytes.as_slice()).unwrap();
    assert_eq!(
        theirs.subject().as_ref().unwrap().digest().to_string(),
        image.descriptor.digest.to_string()
    );
    assert_eq!(
        theirs.artifact_type().as_ref().unwrap().to_string(),
        ARTIFACT_TYPE_DSSE
    );
    let index = fs::read(dir.path().join("index.json")).unwrap();
    let theirs = oci_spec::image::ImageIndex::from_reader(index.as_slice()).unwrap();
    assert_eq!(theirs.manifests().len(), 2);
    let image_manifest = fs::read(
        dir.path()
            .join(Layout::blob_path(&image.descriptor.digest).unwrap()),
    )
    .unwrap();
    oci_spec::image::ImageManifest::from_reader(image_manifest.as_slice()).unwrap();
    // And custodia reads it back to the same value.
    assert_eq!(
        ImageManifest::from_json(&referrer.bytes).unwrap(),
        referrer.manifest
    );
}

#[test]
fn index_json_keeps_what_custodia_does_not_model() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, image) = image(dir.path());
    let path = dir.path().join("index.json");
    let mut value: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    value["annotations"] = serde_json::json!({"com.example.revision": "7"});
    value["manifests"][0]["com.example.extra"] = serde_json::json!(true);
    fs::write(&path, serde_json::to_vec(&value).unwrap()).unwrap();
    let env = envelope(&key(), image.digest_set().unwrap(), PROVENANCE);
    layout
        .attach(&image.descriptor, &Attachment::dsse(&env).unwrap())
        .unwrap();
    let after: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    assert_eq!(after["annotations"]["com.example.revision"], "7");
    assert_eq!(after["manifests"][0]["com.example.extra"], true);
    assert_eq!(after["manifests"].as_array().unwrap().len(), 2);
    // The image is still found by name, the referrer is not mistaken for it.
    assert_eq!(
        layout.resolve(None).unwrap().digest,
        image.descriptor.digest
    );
    assert!(!dir.path().join("index.json.lock").exists());
}

#[test]
fn concurrent_attaches_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, image) = image(dir.path());
    let key = key();
    std::thread::scope(|s| {
        for t in 0..4 {
            let layout = layout.clone();
            let image = image.clone();
            let key = &key;
            s.spawn(move || {
                for i in 0..10 {
                    let env = envelope(
                        key,
                        image.digest_set().unwrap(),
                        &format!("https://example.com/p/{t}/{i}"),
                    );
                    layout
                        .attach(&image.descriptor, &Attachment::dsse(&env).unwrap())
                        .unwrap();
                }
            });
        }
    });
    let all = layout
        .referrers(&image.descriptor.digest, &ReferrerFilter::any())
        .unwrap();
    assert_eq!(all.len(), 40);
    let distinct: std::collections::BTreeSet<&OciDigest> =
        all.iter().map(|r| &r.descriptor.digest).collect();
    assert_eq!(distinct.len(), 40);
}

#[test]
fn attach_many_is_one_index_update_with_the_same_result() {
    let key = key();
    let one_by_one = tempfile::tempdir().unwrap();
    let batch = tempfile::tempdir().unwrap();
    let (b, _) = image(batch.path());
    let (a, image) = image(one_by_one.path());
    let attachments: Vec<Attachment> = (0..5)
        .map(|i| {
            Attachment::dsse(&envelope(
                &key,
                image.digest_set().unwrap(),
                &format!("https://example.com/p/{i}"),
            ))
            .unwrap()
        })
        .collect();
    for x in &attachments {
        a.attach(&image.descriptor, x).unwrap();
    }
    let many = b.attach_many(&image.descriptor, &attachments).unwrap();
    assert_eq!(many.len(), 5);
    assert_eq!(
        fs::read(one_by_one.path().join("index.json")).unwrap(),
        fs::read(batch.path().join("index.json")).unwrap()
    );
    assert_eq!(
        b.referrers(&image.descriptor.digest, &ReferrerFilter::any())
            .unwrap()
            .len(),
        5
    );
}
