//! End to end against a real registry started on loopback by the test
//! (Debian package docker-registry: CNCF distribution 2.8, which has no
//! referrers API, so the referrers tag schema is exercised): push an image
//! with skopeo, attach provenance and SBOM attestations, fetch and verify
//! them, promote the image through a chain stored in the registry, and
//! keep that chain fork-free under racing writers. Skipped with a note when
//! the tools are missing, except in CI (`CI=true`).
#![cfg(feature = "oci-registry")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
mod oci_common;

use std::process::Command;

use custodia::Error;
use custodia::digest::{Digest, DigestAlgorithm};
use custodia::dsse::Envelope;
use custodia::error::StoreError;
use custodia::trust::TrustAnchors;

use custodia::oci::referrers::ARTIFACT_TYPE_DSSE;
use custodia::oci::registry::{ReferrersMode, Registry, RegistryOptions, RegistryStore};
use custodia::oci::{Attachment, ImageBuilder, Layout, ReferrerFilter, verify_attached};
use custodia::predicate::promotion::PROMOTION_V1;
use custodia::promotion::{Store, history, validate_chain};
use custodia::resource::ResourceDescriptor;
use custodia::statement::{PAYLOAD_TYPE, Statement};
use oci_common::{RegistryServer, tool};

const PROVENANCE: &str = "https://slsa.dev/provenance/v1";
const SBOM: &str = "https://cyclonedx.org/bom";

fn client(server: &RegistryServer, repository: &str) -> Registry {
    Registry::new(
        &server.host(),
        repository,
        RegistryOptions::new().plain_http(),
    )
    .unwrap()
}

/// An image built by custodia into a layout, pushed to the registry with
/// skopeo (or custodia's own push when skopeo is missing outside CI).
fn push_image(server: &RegistryServer, repository: &str, content: &[u8]) -> Layout {
    let dir = tempfile::tempdir().unwrap().keep();
    let layout = Layout::create(&dir).unwrap();
    let descriptor = ImageBuilder::new()
        .file("app", content)
        .write_to(&layout, "v1")
        .unwrap();
    if tool("skopeo", "--version") {
        let out = Command::new("skopeo")
            .args([
                "copy",
                "--quiet",
                "--preserve-digests",
                "--dest-tls-verify=false",
                &format!("oci:{}:v1", dir.display()),
                &format!("docker://{}/{repository}:v1", server.host()),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "skopeo copy: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    } else {
        client(server, repository)
            .push_from_layout(&layout, &descriptor, "v1")
            .unwrap();
    }
    layout
}

fn sign(
    key: &custodia::keys::PrivateKey,
    image: &custodia::oci::ArtifactIdentity,
    predicate_type: &str,
) -> Envelope {
    let statement = Statement::new_untyped(
        vec![ResourceDescriptor::new(
            "127.0.0.1/app",
            image.digest_set().unwrap(),
        )],
        predicate_type,
        serde_json::json!({"about": predicate_type}),
    )
    .unwrap();
    Envelope::sign(PAYLOAD_TYPE, statement.to_json().unwrap(), key).unwrap()
}

#[test]
fn push_attach_fetch_verify_in_a_real_registry() {
    let Some(server) = RegistryServer::start(None) else {
        return;
    };
    let layout = push_image(&server, "team/app", b"#!/bin/sh\necho v1\n");
    let registry = client(&server, "team/app");
    registry.ping().unwrap();

    // The identity in the registry is the one in the layout.
    let image = registry.identity("v1").unwrap();
    assert_eq!(
        image.descriptor.digest,
        layout.identity(Some("v1")).unwrap().descriptor.digest
    );
    assert_eq!(
        registry.identity(image.descriptor.digest.as_str()).unwrap(),
        image
    );

    let key =
        custodia::keys::PrivateKey::generate(custodia::keys::KeyAlgorithm::EcdsaP256).unwrap();
    let provenance = registry
        .attach(
            &image.descriptor,
            &Attachment::dsse(&sign(&key, &image, PROVENANCE)).unwrap(),
        )
        .unwrap();
    let sbom = sign(&key, &image, SBOM);
    registry
        .attach(&image.descriptor, &Attachment::dsse(&sbom).unwrap())
        .unwrap();
    // Attaching again is a no-op.
    registry
        .attach(&image.descriptor, &Attachment::dsse(&sbom).unwrap())
        .unwrap();

    // distribution 2.8 has no referrers API: the tag schema is used.
    assert_eq!(
        registry.referrers_mode(&image.descriptor.digest).unwrap(),
        ReferrersMode::TagSchema
    );
    let tag = Registry::referrers_tag(&image.descriptor.digest);
    assert_eq!(tag, format!("sha256-{}", image.descriptor.digest.encoded()));
    let (index, _) = registry
        .referrers_index(&image.descriptor.digest, None)
        .unwrap();
    assert_eq!(index.manifests.len(), 2);
    assert!(
        index
            .manifests
            .iter()
            .all(|d| d.artifact_type.as_ref().unwrap() == ARTIFACT_TYPE_DSSE)
    );
    assert!(registry.tags().unwrap().contains(&tag));

    // List by predicate type, fetch, verify against the image digest.
    let keys: TrustAnchors = [key.public_key().clone()].into_iter().collect();
    for predicate_type in [PROVENANCE, SBOM] {
        let verified =
            verify_attached(&registry, &image.descriptor.digest, &keys, predicate_type).unwrap();
        assert_eq!(verified.len(), 1, "{predicate_type}");
        assert!(verified[0].verified(), "{}", verified[0].report);
    }
    let found = registry
        .referrers(
            &image.descriptor.digest,
            &ReferrerFilter::any().predicate_type(PROVENANCE),
        )
        .unwrap();
    assert_eq!(found[0].descriptor.digest, provenance.descriptor.digest);
    assert_eq!(found[0].manifest, provenance.manifest);

    // A fresh client (no cached mode) finds the same, and skopeo sees the
    // referrers tag as an image index.
    let fresh = client(&server, "team/app");
    assert_eq!(
        fresh
            .referrers(&image.descriptor.digest, &ReferrerFilter::any())
            .unwrap()
            .len(),
        2
    );
    if tool("skopeo", "--version") {
        let out = Command::new("skopeo")
            .args([
                "inspect",
                "--raw",
                "--tls-verify=false",
                &format!("docker://{}/team/app:{tag}", server.host()),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let raw: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(raw["manifests"].as_array().unwrap().len(), 2);
    }

    // Another repository knows nothing about this image.
    assert!(
        client(&server, "other")
            .referrers(&image.descriptor.digest, &ReferrerFilter::any())
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        client(&server, "other").identity("v1"),
        Err(Error::Oci(_))
    ));
}

#[test]
fn a_chain_lives_next_to_the_image() {
    let Some(server) = RegistryServer::start(None) else {
        return;
    };
    push_image(&server, "app", b"release 1");
    let registry = client(&server, "app");
    let image = registry.identity("v1").unwrap();
    let artifact = image.digest_set().unwrap();
    let store = RegistryStore::new(registry);
    let p = common::Pipeline::new();
    let [dev, staging, prod] = p.ship(&store, &artifact, common::T0);

    for env in ["dev", "staging", "prod"] {
        let report = validate_chain(&store, &p.policy, env);
        assert!(report.verified(), "{env}: {report}");
    }
    let prod_history = history(&store, "prod").unwrap();
    assert_eq!(prod_history.len(), 1);
    assert_eq!(prod_history[0].digest, prod);
    assert_eq!(store.successor("dev", None).unwrap(), Some(dev.clone()));
    assert_eq!(store.successor("staging", None).unwrap(), Some(staging));
    assert_eq!(store.head_hint("prod").unwrap(), Some(prod.clone()));

    // Every envelope is listed; the records and the evidence are referrers
    // of the image itself.
    let listed = store.list().unwrap();
    assert!(listed.contains(&prod) && listed.contains(&dev));
    let records = store
        .registry()
        .referrers(
            &image.descriptor.digest,
            &ReferrerFilter::any().predicate_type(PROMOTION_V1),
        )
        .unwrap();
    assert_eq!(records.len(), 3);
    let all = store
        .registry()
        .referrers(&image.descriptor.digest, &ReferrerFilter::any())
        .unwrap();
    assert_eq!(all.len(), listed.len());

    // No fork: prod's genesis already has a successor.
    let other = store.put(b"{\"not\":\"a record\"}").unwrap();
    let err = store.link("prod", None, &other).unwrap_err();
    assert!(
        matches!(err, Error::Store(StoreError::Conflict { ref existing, .. }) if *existing == prod.to_string()),
        "{err}"
    );
    store.link("prod", None, &prod).unwrap(); // idempotent

    // A second release promoted on top validates too.
    push_image(&server, "app", b"release 2");
    let second = store.registry().identity("v1").unwrap();
    p.ship(
        &store,
        &second.digest_set().unwrap(),
        common::T0 + 24 * common::HOUR,
    );
    assert_eq!(history(&store, "prod").unwrap().len(), 2);
    assert!(validate_chain(&store, &p.policy, "prod").verified());
}

#[test]
fn racing_links_never_fork() {
    let Some(server) = RegistryServer::start(None) else {
        return;
    };
    let store = RegistryStore::new(client(&server, "race"));
    let base = store.put(b"base record").unwrap();
    let candidates: Vec<Digest> = (0..6)
        .map(|i| store.put(format!("candidate {i}").as_bytes()).unwrap())
        .collect();
    for round in 0..3 {
        let env = format!("env{round}");
        store.link(&env, None, &base).unwrap();
        let results: Vec<(Digest, Result<(), Error>)> = std::thread::scope(|s| {
            let handles: Vec<_> = candidates
                .iter()
                .map(|c| {
                    let store = RegistryStore::new(client(&server, "race"));
                    let env = env.clone();
                    let base = base.clone();
                    let c = c.clone();
                    s.spawn(move || {
                        let r = store.link(&env, Some(&base), &c);
                        (c, r)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let winners: Vec<&Digest> = results
            .iter()
            .filter(|(_, r)| r.is_ok())
            .map(|(c, _)| c)
            .collect();
        assert!(winners.len() <= 1, "round {round}: {winners:?} all won");
        for (_, r) in &results {
            if let Err(e) = r {
                assert!(
                    matches!(e, Error::Store(StoreError::Conflict { .. })),
                    "{e}"
                );
            }
        }
        let successor = store.successor(&env, Some(&base)).unwrap();
        assert_eq!(
            successor.as_ref(),
            winners.first().copied(),
            "round {round}"
        );
        // Whoever lost can retry alone and then only the winner stands.
        if let Some(w) = winners.first() {
            for c in &candidates {
                let again = store.link(&env, Some(&base), c);
                assert_eq!(again.is_ok(), c == *w);
            }
        }
    }
}

#[test]
fn tampering_in_registry_storage_is_caught() {
    let Some(server) = RegistryServer::start(None) else {
        return;
    };
    let store = RegistryStore::new(client(&server, "tamper"));
    let bytes = b"an envelope, as far as the store cares";
    let digest = store.put(bytes).unwrap();
    assert_eq!(store.get(&digest).unwrap(), bytes);
    // Flip a byte of the blob where distribution keeps it on disk.
    let hex = digest.hex();
    let data = server
        .dir
        .path()
        .join("data/docker/registry/v2/blobs/sha256")
        .join(&hex[..2])
        .join(&hex)
        .join("data");
    let mut stored = std::fs::read(&data).unwrap();
    stored[0] ^= 1;
    std::fs::write(&data, &stored).unwrap();
    let err = store.get(&digest).unwrap_err();
    assert!(
        matches!(err, Error::Store(StoreError::Corrupt { .. })),
        "{err}"
    );
    let missing = DigestAlgorithm::Sha256.hash(b"never stored");
    assert!(matches!(
        store.get(&missing),
        Err(Error::Store(StoreError::Missing(_)))
    ));
}

#[test]
fn tls_is_on_by_default_and_verified() {
    if !tool("openssl", "version") {
        return;
    }
    // A private CA and a certificate for 127.0.0.1 signed by it.
    let certs = tempfile::tempdir().unwrap();
    let p = |name: &str| certs.path().join(name);
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(certs.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-days",
                "1",
                "-subj",
                "/CN=custodia test CA",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
            ],
        ]
        .concat(),
    );
    openssl(
        &[
            &["req"][..],
            &ec,
            &[
                "-subj",
                "/CN=127.0.0.1",
                "-keyout",
                "key.pem",
                "-out",
                "req.pem",
            ],
        ]
        .concat(),
    );
    std::fs::write(
        p("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "req.pem",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "ext.cnf",
        "-out",
        "cert.pem",
    ]);
    let (cert, key) = (p("cert.pem"), p("key.pem"));
    let Some(server) = RegistryServer::start(Some((cert.as_path(), key.as_path()))) else {
        return;
    };
    // Default options: HTTPS with the platform's roots, which do not
    // include this self-signed certificate.
    let default = Registry::new(&server.host(), "app", RegistryOptions::new()).unwrap();
    let err = default.ping().unwrap_err();
    assert!(
        err.to_string().to_lowercase().contains("certificate")
            || err.to_string().contains("UnknownIssuer"),
        "{err}"
    );
    // Trusting the certificate: works over TLS.
    let pem = std::fs::read(p("ca.pem")).unwrap();
    let trusted = Registry::new(&server.host(), "app", RegistryOptions::new().ca_pem(pem)).unwrap();
    trusted.ping().unwrap();
    let store = RegistryStore::new(trusted);
    let d = store.put(b"over tls").unwrap();
    assert_eq!(store.get(&d).unwrap(), b"over tls");
    // Plain HTTP to a TLS port fails rather than falling back.
    let plain = Registry::new(&server.host(), "app", RegistryOptions::new().plain_http()).unwrap();
    assert!(plain.ping().is_err());
}
