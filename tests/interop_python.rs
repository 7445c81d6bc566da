//! Interop both ways with the Python reference implementation of DSSE
//! (securesystemslib 1.6.0, see ../shared/conformance/PEERS.md).
//!
//! The peer's python comes from `CUSTODIA_PEERS_PYTHON`, or from the venv
//! `target/peers-venv` that `.ci/run` creates with
//! `../shared/tools/peers-venv`. Without either the tests say so and pass
//! on a developer machine; under CI (`CI` set) a missing peer is a failure,
//! so CI can never pass without having run them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod peers;

use std::path::{Path, PathBuf};
use std::process::Command;

use custodia::dsse::Envelope;
use custodia::keys::{KeyAlgorithm, KeySet, PrivateKey, PublicKey};

fn peer_python() -> Option<PathBuf> {
    peers::python_with("securesystemslib.dsse", "securesystemslib")
}

fn run_python(python: &Path, script: &str, args: &[&Path]) -> (bool, String) {
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn keys_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/dsse/securesystemslib/keys")
}

/// Signs a fresh statement with each securesystemslib test key (the peer's
/// default scheme per key type) and writes `<name>.dsse.json`.
const PY_SIGN: &str = r#"
import json, sys, pathlib
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from securesystemslib.dsse import Envelope
from securesystemslib.signer import CryptoSigner
keys, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
body = json.dumps({"_type": "https://in-toto.io/Statement/v1",
  "subject": [{"name": "a.txt", "digest": {"sha256": "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"}}],
  "predicateType": "https://example.com/interop/v1", "predicate": {"from": "securesystemslib"}}).encode()
for name in ["ed25519", "ecdsa", "ecdsa_secp384r1", "rsa"]:
    signer = CryptoSigner(load_pem_private_key((keys / f"{name}_private.pem").read_bytes(), None))
    env = Envelope(payload=body, payload_type="application/vnd.in-toto+json", signatures={})
    env.sign(signer)
    (out / f"{name}.dsse.json").write_text(json.dumps(env.to_dict()))
print("signed")
"#;

/// Verifies ENVELOPE with PUBLIC_PEM, using the keyid the envelope carries
/// (securesystemslib matches signatures to keys by keyid).
const PY_VERIFY: &str = r#"
import json, sys
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey
from securesystemslib.exceptions import VerificationError
env = Envelope.from_dict(json.load(open(sys.argv[1])))
pub = load_pem_public_key(open(sys.argv[2], "rb").read())
keyid = list(env.signatures.keys())[0]
key = SSlibKey.from_crypto(pub, keyid=keyid)
try:
    env.verify([key], 1)
    print("PASS")
except VerificationError as e:
    print("FAIL", e); sys.exit(1)
"#;

#[test]
fn envelopes_signed_by_securesystemslib_verify_with_custodia() {
    let Some(python) = peer_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = run_python(&python, PY_SIGN, &[&keys_dir(), dir.path()]);
    assert!(ok, "peer failed to sign: {out}");
    for name in ["ed25519", "ecdsa", "ecdsa_secp384r1", "rsa"] {
        let bytes = std::fs::read(dir.path().join(format!("{name}.dsse.json"))).unwrap();
        let public =
            std::fs::read_to_string(keys_dir().join(format!("{name}_public.pem"))).unwrap();
        let keys: KeySet = [PublicKey::from_pem(&public).unwrap()]
            .into_iter()
            .collect();
        let env = Envelope::from_json(&bytes).unwrap();
        let result = env.verify(&keys, 1).unwrap();
        assert!(result.verified(), "{name}: {}", result.report());

        // Tampered payload: the peer's signature must no longer verify.
        let mut value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        value["payload"] = serde_json::Value::String("eyJ0YW1wZXJlZCI6dHJ1ZX0=".into());
        let tampered = Envelope::from_json(&serde_json::to_vec(&value).unwrap()).unwrap();
        let result = tampered.verify(&keys, 1).unwrap();
        assert!(!result.verified(), "{name}: tampered envelope verified");
    }
}

#[test]
fn envelopes_signed_by_custodia_verify_with_securesystemslib() {
    let Some(python) = peer_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let algorithms = [
        KeyAlgorithm::Ed25519,
        KeyAlgorithm::EcdsaP256,
        KeyAlgorithm::EcdsaP384,
        KeyAlgorithm::Rsa,
    ];
    for algorithm in algorithms {
        let key = PrivateKey::generate(algorithm).unwrap();
        let payload = br#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"}}],"predicateType":"https://example.com/interop/v1","predicate":{}}"#;
        let env = Envelope::sign("application/vnd.in-toto+json", payload.to_vec(), &key).unwrap();
        let env_path = dir.path().join(format!("{algorithm}.dsse.json"));
        let pub_path = dir.path().join(format!("{algorithm}.pub"));
        std::fs::write(&env_path, env.to_json().unwrap()).unwrap();
        std::fs::write(&pub_path, key.public_key().to_pem()).unwrap();
        let (ok, out) = run_python(&python, PY_VERIFY, &[&env_path, &pub_path]);
        assert!(
            ok && out.contains("PASS"),
            "{algorithm}: peer rejected ours: {out}"
        );

        // The peer must reject a tampered payload type (PAE covers it).
        let tampered = String::from_utf8(env.to_json().unwrap()).unwrap().replace(
            "application/vnd.in-toto+json",
            "application/vnd.in-toto+jsox",
        );
        std::fs::write(&env_path, tampered).unwrap();
        let (ok, out) = run_python(&python, PY_VERIFY, &[&env_path, &pub_path]);
        assert!(
            !ok && out.contains("FAIL"),
            "{algorithm}: peer accepted tampered: {out}"
        );
    }
}
