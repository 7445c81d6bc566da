//! Signing through PKCS#11 on a real SoftHSM2 token (feature `pkcs11`):
//! keys generated on the token sign DSSE envelopes that custodia and the
//! Python reference (securesystemslib) verify; the private keys stay
//! sensitive and non-extractable; one signer serves many threads; every
//! failure is a typed error that names the URI without the PIN.
#![cfg(feature = "pkcs11")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod peers;
mod pkcs11_support;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use custodia::Error;
use custodia::dsse::Envelope;
use custodia::keys::{KeyAlgorithm, KeySet, Signer as _, SigningKey, Verifier as _, load_signer};
use custodia::pkcs11::{Pkcs11Error, Pkcs11Signer, Pkcs11Uri, RsaPadding, generate_key_pair};
use pkcs11_support::{PIN, PIN_TOKEN, TOKEN, TOOL_TOKEN, hsm, shared, unique, write};

const PAYLOAD: &[u8] = br#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"}}],"predicateType":"https://example.com/interop/v1","predicate":{}}"#;

const ALGORITHMS: [KeyAlgorithm; 4] = [
    KeyAlgorithm::Ed25519,
    KeyAlgorithm::EcdsaP256,
    KeyAlgorithm::EcdsaP384,
    KeyAlgorithm::Rsa,
];

/// Verifies ENVELOPE with PUBLIC_PEM in securesystemslib, with the scheme
/// given (or the peer's default for the key type).
const PY_VERIFY: &str = r#"
import json, sys
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey
from securesystemslib.exceptions import VerificationError
env = Envelope.from_dict(json.load(open(sys.argv[1])))
pub = load_pem_public_key(open(sys.argv[2], "rb").read())
keyid = list(env.signatures.keys())[0]
scheme = sys.argv[3] if len(sys.argv) > 3 else None
key = SSlibKey.from_crypto(pub, keyid=keyid, scheme=scheme) if scheme else SSlibKey.from_crypto(pub, keyid=keyid)
try:
    env.verify([key], 1)
    print("PASS")
except VerificationError as e:
    print("FAIL", e); sys.exit(1)
"#;

fn peer_verifies(env: &Envelope, signer: &dyn PublicPem, scheme: Option<&str>) -> Option<bool> {
    let python = peers::python_with("securesystemslib.dsse", "securesystemslib")?;
    let dir = tempfile::tempdir().unwrap();
    let env_path = dir.path().join("env.json");
    let pub_path = write(dir.path(), "key.pub", &signer.pem());
    std::fs::write(&env_path, env.to_json().unwrap()).unwrap();
    let out = Command::new(python)
        .arg("-c")
        .arg(PY_VERIFY)
        .arg(&env_path)
        .arg(&pub_path)
        .args(scheme)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("PASS") || text.contains("FAIL"),
        "peer did not run: {text}"
    );
    Some(out.status.success() && text.contains("PASS"))
}

trait PublicPem {
    fn pem(&self) -> String;
}

impl PublicPem for Pkcs11Signer {
    fn pem(&self) -> String {
        self.public_key().to_pem()
    }
}

fn keyset(signer: &Pkcs11Signer) -> KeySet {
    [signer.public_key().clone()].into_iter().collect()
}

fn pkcs11_error(result: Result<impl std::fmt::Debug, Error>) -> Pkcs11Error {
    match result {
        Err(Error::Pkcs11(e)) => e,
        other => panic!("expected a PKCS#11 error, got {other:?}"),
    }
}

#[test]
fn envelopes_signed_on_the_token_verify_with_custodia_and_securesystemslib() {
    let Some(hsm) = hsm() else { return };
    let _shared = shared();
    for algorithm in ALGORITHMS {
        let uri: Pkcs11Uri = hsm.uri(&unique(algorithm.name())).parse().unwrap();
        let signer = generate_key_pair(&uri, algorithm).unwrap();
        assert_eq!(signer.public_key().algorithm(), algorithm);

        let env =
            Envelope::sign("application/vnd.in-toto+json", PAYLOAD.to_vec(), &signer).unwrap();
        let again = Envelope::from_json(&env.to_json().unwrap()).unwrap();
        let verified = again.verify(&keyset(&signer), 1).unwrap();
        assert!(verified.verified(), "{algorithm}: {}", verified.report());

        // The same encoding custodia's own keys produce: ECDSA in DER.
        let sig = signer.sign(b"message").unwrap();
        let scheme = signer.public_key().verify(b"message", &sig).unwrap();
        let expected = match algorithm {
            KeyAlgorithm::Ed25519 => "ed25519",
            KeyAlgorithm::EcdsaP256 => "ecdsa-p256-sha256-der",
            KeyAlgorithm::EcdsaP384 => "ecdsa-p384-sha384-der",
            _ => "rsassa-pss-sha256",
        };
        assert_eq!(scheme, expected);
        assert!(signer.public_key().verify(b"messagE", &sig).is_err());

        if let Some(ok) = peer_verifies(&env, &signer, None) {
            assert!(
                ok,
                "{algorithm}: securesystemslib rejected the token's envelope"
            );
            // And the peer is not a rubber stamp: a tampered payload type fails.
            let tampered = String::from_utf8(env.to_json().unwrap()).unwrap().replace(
                "application/vnd.in-toto+json",
                "application/vnd.in-toto+jsox",
            );
            let tampered = Envelope::from_json(tampered.as_bytes()).unwrap();
            assert_eq!(peer_verifies(&tampered, &signer, None), Some(false));
        }
    }
}

#[test]
fn generated_private_keys_are_sensitive_and_never_extractable() {
    let Some(hsm) = hsm() else { return };
    for algorithm in ALGORITHMS {
        let label = unique(&format!("protect-{}", algorithm.name()));
        let protection = {
            let _shared = shared();
            let signer = generate_key_pair(&hsm.uri(&label).parse().unwrap(), algorithm).unwrap();
            signer.key_protection().unwrap()
        };
        assert!(protection.sensitive, "{algorithm}: {protection:?}");
        assert!(!protection.extractable, "{algorithm}: {protection:?}");
        assert!(protection.always_sensitive && protection.never_extractable && protection.local);

        // pkcs11-tool (OpenSC) reads the same attributes from the token.
        let (ok, out) = hsm.pkcs11_tool(&[
            "--token-label",
            TOKEN,
            "--login",
            "--pin",
            PIN,
            "--list-objects",
            "--type",
            "privkey",
            "--label",
            &label,
        ]);
        assert!(ok, "{out}");
        let access = out
            .lines()
            .find(|l| l.trim_start().starts_with("Access:"))
            .unwrap_or_else(|| panic!("no Access line: {out}"));
        assert!(access.contains("sensitive"), "{access}");
        assert!(access.contains("never extractable"), "{access}");
        assert!(!access.contains(" extractable,") || access.contains("never extractable"));
    }
}

#[test]
fn rsa_pkcs1_v15_when_asked_and_the_peer_agrees() {
    let Some(hsm) = hsm() else { return };
    let _shared = shared();
    let uri: Pkcs11Uri = hsm.uri(&unique("rsa-pkcs1")).parse().unwrap();
    generate_key_pair(&uri, KeyAlgorithm::Rsa).unwrap();
    let signer = Pkcs11Signer::open_with_padding(&uri, RsaPadding::Pkcs1v15).unwrap();
    let sig = signer.sign(b"message").unwrap();
    assert_eq!(
        signer.public_key().verify(b"message", &sig),
        Ok("rsa-pkcs1v15-sha256")
    );
    let env = Envelope::sign("application/vnd.in-toto+json", PAYLOAD.to_vec(), &signer).unwrap();
    if let Some(ok) = peer_verifies(&env, &signer, Some("rsa-pkcs1v15-sha256")) {
        assert!(ok, "securesystemslib rejected a PKCS#1 v1.5 envelope");
        assert_eq!(
            peer_verifies(&env, &signer, Some("rsassa-pss-sha256")),
            Some(false)
        );
    }
}

#[test]
fn a_keys_allowed_mechanisms_choose_the_padding_or_refuse() {
    let Some(hsm) = hsm() else { return };
    // pkcs11-tool makes RSA keys whose CKA_ALLOWED_MECHANISMS say what they may do.
    let make = |label: &str, mechanisms: &str| {
        let (ok, out) = hsm.pkcs11_tool(&[
            "--token-label",
            TOOL_TOKEN,
            "--login",
            "--pin",
            PIN,
            "--keypairgen",
            "--key-type",
            "rsa:2048",
            "--usage-sign",
            "--label",
            label,
            "--id",
            &format!(
                "{:08x}",
                std::process::id() ^ label.len() as u32 ^ mechanisms.len() as u32
            ),
            "--allowed-mechanisms",
            mechanisms,
        ]);
        assert!(ok, "{out}");
    };
    let pkcs1 = unique("allowed-pkcs1");
    make(&pkcs1, "SHA256-RSA-PKCS");
    let shared_guard = shared();
    let signer = Pkcs11Signer::open(&hsm.uri_on(TOOL_TOKEN, &pkcs1, PIN).parse().unwrap()).unwrap();
    let sig = signer.sign(b"m").unwrap();
    assert_eq!(
        signer.public_key().verify(b"m", &sig),
        Ok("rsa-pkcs1v15-sha256")
    );
    assert!(matches!(
        pkcs11_error(Pkcs11Signer::open_with_padding(
            &hsm.uri_on(TOOL_TOKEN, &pkcs1, PIN).parse().unwrap(),
            RsaPadding::Pss
        )),
        Pkcs11Error::UnsupportedMechanism { .. }
    ));

    // A key that may only sign with SHA-1: nothing custodia signs with.
    drop(shared_guard);
    let sha1 = unique("allowed-sha1");
    make(&sha1, "SHA1-RSA-PKCS");
    let _shared = shared();
    let err = pkcs11_error(Pkcs11Signer::open(
        &hsm.uri_on(TOOL_TOKEN, &sha1, PIN).parse().unwrap(),
    ));
    assert!(
        matches!(err, Pkcs11Error::UnsupportedMechanism { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains(&sha1) && !err.to_string().contains(PIN));
}

#[test]
fn eight_threads_sign_through_one_signer() {
    let Some(hsm) = hsm() else { return };
    let _shared = shared();
    for algorithm in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::Ed25519] {
        let uri: Pkcs11Uri = hsm.uri(&unique("threads")).parse().unwrap();
        let signer = Arc::new(generate_key_pair(&uri, algorithm).unwrap());
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let signer = Arc::clone(&signer);
                std::thread::spawn(move || {
                    let payload = format!("{{\"thread\":{i}}}").into_bytes();
                    (0..5)
                        .map(|_| {
                            Envelope::sign("application/json", payload.clone(), &*signer).unwrap()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let keys = keyset(&signer);
        let mut count = 0;
        for (i, handle) in handles.into_iter().enumerate() {
            for env in handle.join().unwrap() {
                assert_eq!(env.payload(), format!("{{\"thread\":{i}}}").as_bytes());
                assert!(env.verify(&keys, 1).unwrap().verified());
                count += 1;
            }
        }
        assert_eq!(count, 40);
    }
}

#[test]
fn load_signer_takes_a_uri_with_the_pin_in_a_file() {
    let Some(hsm) = hsm() else { return };
    let _shared = shared();
    let label = unique("load");
    let generated =
        generate_key_pair(&hsm.uri(&label).parse().unwrap(), KeyAlgorithm::EcdsaP384).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pin_file = write(dir.path(), "pin", &format!("{PIN}\n"));
    let uri = format!(
        "pkcs11:token={TOKEN};object={label}?module-path={}&pin-source=file:{}",
        hsm.module.display(),
        pin_file.display()
    );
    let loaded = load_signer(&uri).unwrap();
    assert!(matches!(loaded, SigningKey::Pkcs11(_)));
    assert_eq!(loaded.key_id(), generated.public_key().key_id());
    assert_eq!(loaded.public_key(), generated.public_key());
    let env = Envelope::sign("text/plain", b"hi".to_vec(), &loaded).unwrap();
    assert!(env.verify(&keyset(&generated), 1).unwrap().verified());
    // Debug output never shows the PIN.
    let with_pin = load_signer(hsm.uri(&label)).unwrap();
    assert!(!format!("{with_pin:?}").contains(PIN));
}

#[test]
fn keygen_refuses_to_overwrite_and_needs_a_label() {
    let Some(hsm) = hsm() else { return };
    let _shared = shared();
    let uri: Pkcs11Uri = hsm.uri(&unique("twice")).parse().unwrap();
    generate_key_pair(&uri, KeyAlgorithm::Ed25519).unwrap();
    assert!(matches!(
        pkcs11_error(generate_key_pair(&uri, KeyAlgorithm::Ed25519)),
        Pkcs11Error::KeyExists { .. }
    ));
    let no_label: Pkcs11Uri = format!(
        "pkcs11:token={TOKEN}?module-path={}&pin-value={PIN}",
        hsm.module.display()
    )
    .parse()
    .unwrap();
    assert!(matches!(
        pkcs11_error(generate_key_pair(&no_label, KeyAlgorithm::Ed25519)),
        Pkcs11Error::NoLabel { .. }
    ));
}

fn assert_names_uri_without_pin(err: &Pkcs11Error, needle: &str, pin: &str) {
    let text = err.to_string();
    assert!(text.contains(needle), "{text}");
    assert!(
        !text.contains(pin) && !format!("{err:?}").contains(pin),
        "{text}"
    );
}

#[test]
fn a_wrong_pin_is_a_typed_error_without_the_pin() {
    let Some(hsm) = hsm() else { return };
    let _shared = shared();
    let wrong = "0000-wrong-pin";
    let err = pkcs11_error(load_signer(hsm.uri_on(PIN_TOKEN, "any", wrong)));
    assert!(matches!(err, Pkcs11Error::PinIncorrect { .. }), "{err:?}");
    assert_names_uri_without_pin(&err, PIN_TOKEN, wrong);
}

#[test]
fn a_second_pin_for_a_logged_in_token_is_refused() {
    let Some(hsm) = hsm() else { return };
    let _shared = shared();
    let uri: Pkcs11Uri = hsm.uri(&unique("conflict")).parse().unwrap();
    generate_key_pair(&uri, KeyAlgorithm::Ed25519).unwrap();
    let err = pkcs11_error(load_signer(hsm.uri_on(TOKEN, "x", "another-pin")));
    assert!(matches!(err, Pkcs11Error::PinConflict { .. }), "{err:?}");
    assert_names_uri_without_pin(&err, TOKEN, "another-pin");
}

#[test]
fn unknown_objects_and_tokens_are_typed_errors() {
    let Some(hsm) = hsm() else { return };
    let _shared = shared();
    let missing = unique("no-such-key");
    let err = pkcs11_error(load_signer(hsm.uri(&missing)));
    assert!(
        matches!(
            err,
            Pkcs11Error::ObjectNotFound {
                class: "private key",
                logged_in: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert_names_uri_without_pin(&err, &missing, PIN);

    let err = pkcs11_error(load_signer(hsm.uri_on("no-such-token", "k", PIN)));
    assert!(matches!(err, Pkcs11Error::TokenNotFound { .. }), "{err:?}");
    assert_names_uri_without_pin(&err, "no-such-token", PIN);

    let err = pkcs11_error(load_signer(format!(
        "pkcs11:token={TOKEN};object=k;type=public?module-path={}&pin-value={PIN}",
        hsm.module.display()
    )));
    assert!(
        matches!(err, Pkcs11Error::WrongObjectType { .. }),
        "{err:?}"
    );

    let err = pkcs11_error(load_signer(format!(
        "pkcs11:token={TOKEN};object=k?pin-value={PIN}"
    )));
    assert!(matches!(err, Pkcs11Error::NoModule { .. }), "{err:?}");
    assert_names_uri_without_pin(&err, TOKEN, PIN);

    let err = pkcs11_error(load_signer("pkcs11:token=a;token=b"));
    assert!(matches!(err, Pkcs11Error::InvalidUri { .. }), "{err:?}");
}

#[test]
fn a_module_that_is_not_pkcs11_is_a_typed_error() {
    let Some(_) = hsm() else { return };
    let _shared = shared();
    let dir = tempfile::tempdir().unwrap();
    let garbage = write(
        dir.path(),
        "libnot-a-module.so",
        "this is not a shared object\n",
    );
    // A real shared library that is not a PKCS#11 module.
    let libz = [
        "/lib/x86_64-linux-gnu/libz.so.1",
        "/usr/lib/x86_64-linux-gnu/libz.so.1",
        "/lib/aarch64-linux-gnu/libz.so.1",
    ]
    .into_iter()
    .map(Path::new)
    .find(|p| p.exists());
    let missing = dir.path().join("missing.so");
    for module in [Some(garbage.as_path()), libz, Some(missing.as_path())]
        .into_iter()
        .flatten()
    {
        let uri = format!(
            "pkcs11:token={TOKEN};object=k?module-path={}&pin-value={PIN}",
            module.display()
        );
        let err = pkcs11_error(load_signer(&uri));
        assert!(
            matches!(err, Pkcs11Error::ModuleLoad { .. }),
            "{}: {err:?}",
            module.display()
        );
        assert_names_uri_without_pin(&err, TOKEN, PIN);
    }
}
