//! in-toto attestation 1.2 payload types: an envelope whose payloadType is
//! `application/vnd.in-toto.<predicate>+json` carries an in-toto Statement
//! and is accepted wherever `application/vnd.in-toto+json` is; the
//! `<predicate>` part is never trusted for the predicate type (the spec:
//! consumers rely only on the signed Statement's `predicateType`). One
//! envelope is signed by the Python peer (securesystemslib 1.6.0).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod peers;

use std::path::Path;
use std::process::Command;

use custodia::digest::DigestSet;
use custodia::dsse::Envelope;
use custodia::keys::{KeyAlgorithm, PrivateKey, PublicKey};
use custodia::resource::ResourceDescriptor;
use custodia::statement::{Statement, is_payload_type};
use custodia::trust::TrustAnchors;
use custodia::verify::{Expectation, verify_attestation};

const PROVENANCE: &str = "https://slsa.dev/provenance/v1";
const VSA: &str = "https://slsa.dev/verification_summary/v1";

fn statement(artifact: &DigestSet, predicate_type: &str) -> Vec<u8> {
    Statement::new_untyped(
        vec![ResourceDescriptor::new("app", artifact.clone())],
        predicate_type,
        serde_json::json!({"buildDefinition": {"buildType": "https://example.com/t"}}),
    )
    .unwrap()
    .to_json()
    .unwrap()
}

fn check<'a>(report: &'a custodia::report::Report, name: &str) -> &'a custodia::report::Check {
    report
        .checks()
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no `{name}` check in {report}"))
}

#[test]
fn a_predicate_specific_payload_type_verifies_like_the_generic_one() {
    let key = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let keys: TrustAnchors = [key.public_key().clone()].into_iter().collect();
    let artifact = DigestSet::of_bytes(b"app");
    for payload_type in [
        "application/vnd.in-toto+json",
        "application/vnd.in-toto.provenance+json",
    ] {
        let envelope =
            Envelope::sign(payload_type, statement(&artifact, PROVENANCE), &key).unwrap();
        let result = verify_attestation(
            &envelope,
            &keys,
            &Expectation::new(PROVENANCE, artifact.clone()),
        );
        assert!(
            result.report().verified(),
            "{payload_type}: {}",
            result.report()
        );
        assert_eq!(check(result.report(), "payload-type").reason, payload_type);
    }
}

#[test]
fn the_payload_type_is_never_trusted_for_the_predicate_type() {
    let key = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let keys: TrustAnchors = [key.public_key().clone()].into_iter().collect();
    let artifact = DigestSet::of_bytes(b"app");
    // The media type says VSA; the signed statement is provenance.
    let envelope = Envelope::sign(
        "application/vnd.in-toto.vsa+json",
        statement(&artifact, PROVENANCE),
        &key,
    )
    .unwrap();
    let as_vsa = verify_attestation(&envelope, &keys, &Expectation::new(VSA, artifact.clone()));
    assert!(!as_vsa.report().verified());
    assert_eq!(
        as_vsa.report().first_failure().unwrap().name,
        "predicate-type"
    );
    assert!(as_vsa.statement().is_none());
    let as_provenance =
        verify_attestation(&envelope, &keys, &Expectation::new(PROVENANCE, artifact));
    assert!(
        as_provenance.report().verified(),
        "{}",
        as_provenance.report()
    );
}

#[test]
fn other_payload_types_are_refused() {
    let key = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let keys: TrustAnchors = [key.public_key().clone()].into_iter().collect();
    let artifact = DigestSet::of_bytes(b"app");
    for payload_type in [
        "application/vnd.in-toto.+json",
        "application/vnd.in-toto.provenance+dsse",
        "application/vnd.in-toto.Provenance+json",
        "application/vnd.in-toto./x+json",
        "application/vnd.in-totoprovenance+json",
        "application/json",
    ] {
        assert!(!is_payload_type(payload_type), "{payload_type}");
        let envelope =
            Envelope::sign(payload_type, statement(&artifact, PROVENANCE), &key).unwrap();
        let result = verify_attestation(
            &envelope,
            &keys,
            &Expectation::new(PROVENANCE, artifact.clone()),
        );
        assert_eq!(
            result.report().first_failure().unwrap().name,
            "payload-type",
            "{payload_type}"
        );
    }
    let long = format!("application/vnd.in-toto.{}+json", "a".repeat(65));
    assert!(!is_payload_type(&long));
    let longest = format!("application/vnd.in-toto.{}+json", "a".repeat(64));
    assert!(is_payload_type(&longest));
}

/// securesystemslib signs a statement under the in-toto 1.2 payload type
/// (the PAE covers it); custodia verifies it, and a flipped payload type
/// breaks the signature.
const PY_SIGN: &str = r#"
import json, sys, pathlib
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from securesystemslib.dsse import Envelope
from securesystemslib.signer import CryptoSigner
key, body, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
signer = CryptoSigner(load_pem_private_key(key.read_bytes(), None))
env = Envelope(payload=body.read_bytes(), payload_type="application/vnd.in-toto.provenance+json", signatures={})
env.sign(signer)
out.write_text(json.dumps(env.to_dict()))
"#;

#[test]
fn the_python_peer_signs_a_predicate_specific_payload_type_custodia_verifies() {
    let Some(python) = peers::python_with("securesystemslib.dsse", "securesystemslib") else {
        return;
    };
    let keys_dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/dsse/securesystemslib/keys");
    let dir = tempfile::tempdir().unwrap();
    let artifact = DigestSet::of_bytes(b"app");
    let body = dir.path().join("statement.json");
    std::fs::write(&body, statement(&artifact, PROVENANCE)).unwrap();
    let out_path = dir.path().join("peer.dsse.json");
    let out = Command::new(&python)
        .arg("-c")
        .arg(PY_SIGN)
        .arg(keys_dir.join("ed25519_private.pem"))
        .arg(&body)
        .arg(&out_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&out_path).unwrap();
    let public = std::fs::read_to_string(keys_dir.join("ed25519_public.pem")).unwrap();
    let keys: TrustAnchors = [PublicKey::from_pem(&public).unwrap()]
        .into_iter()
        .collect();
    let envelope = Envelope::from_json(&bytes).unwrap();
    assert_eq!(
        envelope.payload_type(),
        "application/vnd.in-toto.provenance+json"
    );
    let result = verify_attestation(
        &envelope,
        &keys,
        &Expectation::new(PROVENANCE, artifact.clone()),
    );
    assert!(result.report().verified(), "{}", result.report());

    // The payload type is signed: the generic one in its place fails.
    let mut value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    value["payloadType"] = "application/vnd.in-toto+json".into();
    let swapped = Envelope::from_json(&serde_json::to_vec(&value).unwrap()).unwrap();
    let result = verify_attestation(&swapped, &keys, &Expectation::new(PROVENANCE, artifact));
    assert!(!result.report().verified());
    assert!(result.statement().is_none());
}
