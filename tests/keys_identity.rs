//! One key is one key, and no weak keys (issue #14): keys and signatures
//! crafted by a peer, Python `cryptography` (../shared/conformance/PEERS.md),
//! read by the library and by the CLI.
//!
//! - the Ed25519 small-order key `01 00..00` and its universal signature;
//! - one RSA key with and without the NULL algorithm parameter, and one EC
//!   key as an uncompressed and a compressed point: one key id each;
//! - a high-S ECDSA signature and its low-S twin (both verify; together they
//!   are one key signing twice);
//! - RSA-PSS signatures with salt lengths 0, 20, 32, 64 and the maximum.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod cli_support;
mod peers;

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;

use cli_support::WorkDir;
use custodia::Error;
use custodia::dsse::{Envelope, SignatureStatus, pae};
use custodia::error::{DsseError, KeyError, WeakKey};
use custodia::keys::{KeyAlgorithm, KeySet, PrivateKey, PublicKey, Signer as _, Verifier as _};

/// Writes the fixtures into `dir` (one file per item, named below).
const PY_FIXTURES: &str = r#"
import sys, os, json
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

out = sys.argv[1]
def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)

def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b
def tlv(tag, body):
    return bytes([tag]) + der_len(len(body)) + body
def pem(der):
    import base64
    b = base64.encodebytes(der).decode().replace("\n", "")
    lines = [b[i:i+64] for i in range(0, len(b), 64)]
    return ("-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n").encode()

PAYLOAD_TYPE = "text/plain"
PAYLOAD = b"one key is one key"
PAE = b"DSSEv1 %d %s %d %s" % (len(PAYLOAD_TYPE), PAYLOAD_TYPE.encode(), len(PAYLOAD), PAYLOAD)

# Ed25519 small-order point 01 00..00 (the identity), as the peer encodes it.
small = ed25519.Ed25519PublicKey.from_public_bytes(b"\x01" + b"\x00" * 31)
write("ed25519-small-order.pub", small.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
write("ed25519-universal.sig", b"\x01" + b"\x00" * 63)

# RSA: one key, two encodings of its SubjectPublicKeyInfo.
rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
rsa_pub = rsa_key.public_key()
with_null = rsa_pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
pkcs1 = rsa_pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
rsa_oid = bytes.fromhex("06092a864886f70d010101")
without_null = tlv(0x30, tlv(0x30, rsa_oid) + tlv(0x03, b"\x00" + pkcs1))
assert with_null == tlv(0x30, tlv(0x30, rsa_oid + b"\x05\x00") + tlv(0x03, b"\x00" + pkcs1))
write("rsa-null.pub", pem(with_null))
write("rsa-no-null.pub", pem(without_null))
write("rsa.key", rsa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
# RSA-PSS with several salt lengths, and PKCS#1 v1.5.
max_salt = padding.PSS.MAX_LENGTH
for name, salt in [("0", 0), ("20", 20), ("32", 32), ("64", 64), ("max", max_salt)]:
    sig = rsa_key.sign(PAE, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=salt), hashes.SHA256())
    write("rsa-pss-salt-%s.sig" % name, sig)
# RSA with exponent 3 and 1024 bits: weak.
small_rsa = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
write("rsa-1024.pub", small_rsa.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))

# ECDSA P-256: uncompressed and compressed point, high-S and low-S signatures.
ec_key = ec.generate_private_key(ec.SECP256R1())
ec_pub = ec_key.public_key()
write("ec.pub", ec_pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
point = ec_pub.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
alg = tlv(0x30, bytes.fromhex("06072a8648ce3d0201") + bytes.fromhex("06082a8648ce3d030107"))
write("ec-compressed.pub", pem(tlv(0x30, alg + tlv(0x03, b"\x00" + point))))
n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551
r, s = utils.decode_dss_signature(ec_key.sign(PAE, ec.ECDSA(hashes.SHA256())))
low, high = min(s, n - s), max(s, n - s)
write("ecdsa-high-s.sig", utils.encode_dss_signature(r, high))
write("ecdsa-low-s.sig", utils.encode_dss_signature(r, low))
# An EC point off the curve: the uncompressed point with y + 1.
raw = ec_pub.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
y = (int.from_bytes(raw[33:], "big") + 1).to_bytes(32, "big")
write("ec-off-curve.pub", pem(tlv(0x30, alg + tlv(0x03, b"\x00" + raw[:33] + y))))
print("ok")
"#;

const PAYLOAD_TYPE: &str = "text/plain";
const PAYLOAD: &[u8] = b"one key is one key";

struct Fixtures {
    dir: tempfile::TempDir,
}

impl WorkDir for Fixtures {
    fn root(&self) -> &Path {
        self.dir.path()
    }
}

impl Fixtures {
    fn key(&self, name: &str) -> Result<PublicKey, Error> {
        PublicKey::from_pem(&String::from_utf8(self.read(name)).unwrap())
    }

    fn envelope(&self, sigs: &[&str]) -> PathBuf {
        let signatures: Vec<_> = sigs
            .iter()
            .map(|s| serde_json::json!({"sig": STANDARD.encode(self.read(s))}))
            .collect();
        let json = serde_json::json!({
            "payloadType": PAYLOAD_TYPE,
            "payload": STANDARD.encode(PAYLOAD),
            "signatures": signatures,
        });
        self.write(
            &format!("env-{}.json", sigs.join("+")),
            json.to_string().as_bytes(),
        )
    }
}

/// The peer's fixtures, or None (SKIPPED) without the peer.
fn fixtures() -> Option<Fixtures> {
    let python = peers::python_with("cryptography", "Python cryptography")?;
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(python)
        .args(["-c", PY_FIXTURES])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(Fixtures { dir })
}

fn weak(result: Result<PublicKey, Error>) -> Option<WeakKey> {
    match result {
        Err(Error::Key(KeyError::Weak { reason, .. })) => Some(reason),
        _ => None,
    }
}

#[test]
fn ed25519_small_order_key_is_refused_library_and_cli() {
    let Some(f) = fixtures() else { return };
    assert_eq!(
        weak(f.key("ed25519-small-order.pub")),
        Some(WeakKey::SmallOrder)
    );
    // The universal signature really is one: ring accepts it for any message
    // under that key, which is why the key must never load.
    let universal = f.read("ed25519-universal.sig");
    let raw = [&[1u8][..], &[0u8; 31][..]].concat();
    for message in [&b"a"[..], b"approve release", &pae(PAYLOAD_TYPE, PAYLOAD)] {
        assert!(
            ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &raw)
                .verify(message, &universal)
                .is_ok()
        );
    }
    let env = f.envelope(&["ed25519-universal.sig"]);
    f.verifier([
        "envelope".as_ref(),
        "--in".as_ref(),
        env.as_os_str(),
        "--key".as_ref(),
        f.path("ed25519-small-order.pub").as_os_str(),
    ])
    .fails_one_line(2, "small order");
}

#[test]
fn one_rsa_key_in_two_encodings_has_one_id_and_counts_once() {
    let Some(f) = fixtures() else { return };
    let a = f.key("rsa-null.pub").unwrap();
    let b = f.key("rsa-no-null.pub").unwrap();
    assert_eq!(a.key_id(), b.key_id());
    assert_eq!(a, b);
    let keys: KeySet = [a.clone(), b.clone()].into_iter().collect();
    assert_eq!(keys.len(), 1);

    // One signature copied twice is one key signing twice.
    let key = PrivateKey::from_pem(&String::from_utf8(f.read("rsa.key")).unwrap()).unwrap();
    assert_eq!(key.key_id(), a.key_id());
    let sig = key.sign(&pae(PAYLOAD_TYPE, PAYLOAD)).unwrap();
    f.write("rsa-own.sig", &sig);
    let env_path = f.envelope(&["rsa-own.sig", "rsa-own.sig"]);
    let env =
        Envelope::from_json(&f.read(env_path.file_name().unwrap().to_str().unwrap())).unwrap();
    assert!(matches!(
        env.verify(&keys, 2),
        Err(Error::Dsse(DsseError::UnreachableThreshold { keys: 1, .. }))
    ));
    let result = env.verify(&keys, 1).unwrap();
    assert!(!result.verified());
    assert!(matches!(
        result.outcomes()[1].status,
        SignatureStatus::Duplicate { .. }
    ));
    let out = f.verifier([
        "envelope".as_ref(),
        "--in".as_ref(),
        env_path.as_os_str(),
        "--key".as_ref(),
        f.path("rsa-null.pub").as_os_str(),
        f.path("rsa-no-null.pub").as_os_str(),
        "--threshold".as_ref(),
        "2".as_ref(),
    ]);
    assert_ne!(out.code, 0, "{out:#?}");
    assert!(out.stderr.contains("threshold"), "{out:#?}");

    // A policy cannot list the key as two people (#14).
    let pem = |name: &str| String::from_utf8(f.read(name)).unwrap();
    let policy = serde_json::json!({
        "version": 1,
        "keys": [
            {"identity": "alice", "roles": ["approver"], "publicKey": pem("rsa-null.pub")},
            {"identity": "bob", "roles": ["approver"], "publicKey": pem("rsa-no-null.pub")},
        ],
        "environments": [{"name": "dev"}],
        "promotions": [],
    });
    // (The policy's "same key listed twice" rule compares key ids, which
    // are canonical now.)
    assert!(matches!(
        custodia::policy::Policy::from_json(policy.to_string().as_bytes()),
        Err(Error::Policy(custodia::error::PolicyError::Invalid(_)))
    ));

    // Appending a second signature by the key is refused by the library,
    // whatever the first signature's hint (here: none).
    let mut env = Envelope::from_json(
        &f.read(
            f.envelope(&["rsa-own.sig"])
                .file_name()
                .unwrap()
                .to_str()
                .unwrap(),
        ),
    )
    .unwrap();
    assert!(matches!(
        env.add_signature(&key),
        Err(Error::Dsse(DsseError::AlreadySigned(_)))
    ));
    // ... and by `attest sign --append`.
    let single = f.envelope(&["rsa-own.sig"]);
    f.attest([
        "sign".as_ref(),
        "--key".as_ref(),
        f.path("rsa.key").as_os_str(),
        "--in".as_ref(),
        single.as_os_str(),
        "--append".as_ref(),
    ])
    .fails_one_line(2, "already signed");
}

#[test]
fn one_ec_key_compressed_or_not_has_one_id() {
    let Some(f) = fixtures() else { return };
    let a = f.key("ec.pub").unwrap();
    let b = f.key("ec-compressed.pub").unwrap();
    assert_eq!(a.key_id(), b.key_id());
    assert_eq!(a.spki_der(), b.spki_der());
    assert_eq!(weak(f.key("ec-off-curve.pub")), Some(WeakKey::NotOnCurve));
    assert!(matches!(
        weak(f.key("rsa-1024.pub")),
        Some(WeakKey::ModulusSize { bits: 1024 })
    ));
    f.verifier([
        "envelope".as_ref(),
        "--in".as_ref(),
        f.envelope(&["ecdsa-low-s.sig"]).as_os_str(),
        "--key".as_ref(),
        f.path("ec-off-curve.pub").as_os_str(),
    ])
    .fails_one_line(2, "not on the curve");
}

#[test]
fn high_s_ecdsa_verifies_and_its_twin_does_not_count_twice() {
    let Some(f) = fixtures() else { return };
    let key = f.key("ec.pub").unwrap();
    let message = pae(PAYLOAD_TYPE, PAYLOAD);
    let high = f.read("ecdsa-high-s.sig");
    let low = f.read("ecdsa-low-s.sig");
    assert_ne!(high, low);
    // Normalised, not refused: peers emit either form.
    assert!(key.verify(&message, &high).is_ok());
    assert!(key.verify(&message, &low).is_ok());
    let keys: KeySet = [key].into_iter().collect();
    let env = Envelope::from_json(
        &f.read(
            f.envelope(&["ecdsa-high-s.sig", "ecdsa-low-s.sig"])
                .file_name()
                .unwrap()
                .to_str()
                .unwrap(),
        ),
    )
    .unwrap();
    let result = env.verify(&keys, 1).unwrap();
    assert!(!result.verified());
    assert_eq!(
        result.report().first_failure().unwrap().name,
        "signature[1]"
    );
    let out = f.verifier([
        "envelope".as_ref(),
        "--in".as_ref(),
        f.envelope(&["ecdsa-high-s.sig", "ecdsa-low-s.sig"])
            .as_os_str(),
        "--key".as_ref(),
        f.path("ec.pub").as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(out.code, 1, "{out:#?}");
    assert_eq!(out.check("signature[1]")["passed"], false);
    f.verifier([
        "envelope".as_ref(),
        "--in".as_ref(),
        f.envelope(&["ecdsa-high-s.sig"]).as_os_str(),
        "--key".as_ref(),
        f.path("ec.pub").as_os_str(),
    ])
    .ok();
}

#[test]
fn rsa_pss_verifies_with_every_salt_length_the_peer_uses() {
    let Some(f) = fixtures() else { return };
    let key = f.key("rsa-null.pub").unwrap();
    let message = pae(PAYLOAD_TYPE, PAYLOAD);
    for salt in ["0", "20", "32", "64", "max"] {
        let sig = f.read(&format!("rsa-pss-salt-{salt}.sig"));
        assert_eq!(
            key.verify(&message, &sig),
            Ok("rsassa-pss-sha256"),
            "salt {salt}"
        );
        assert!(key.verify(b"another message", &sig).is_err(), "salt {salt}");
        let mut flipped = sig.clone();
        flipped[10] ^= 1;
        assert!(key.verify(&message, &flipped).is_err(), "salt {salt}");
        f.verifier([
            "envelope".as_ref(),
            "--in".as_ref(),
            f.envelope(&[&format!("rsa-pss-salt-{salt}.sig")])
                .as_os_str(),
            "--key".as_ref(),
            f.path("rsa-no-null.pub").as_os_str(),
        ])
        .ok();
    }
}

/// SubjectPublicKeyInfo DER with `params` (already DER) after the OID.
fn spki(oid: &str, params: Option<&[u8]>, key: &[u8]) -> Vec<u8> {
    use der::Encode as _;
    let oid = der::asn1::ObjectIdentifier::new_unwrap(oid);
    let mut alg = oid.to_der().unwrap();
    alg.extend_from_slice(params.unwrap_or_default());
    let mut body = der::Header::new(
        der::Tag::Sequence,
        der::Length::try_from(alg.len()).unwrap(),
    )
    .unwrap()
    .to_der()
    .unwrap();
    body.extend(alg);
    let bits = der::asn1::BitStringRef::from_bytes(key)
        .unwrap()
        .to_der()
        .unwrap();
    body.extend(bits);
    let mut out = der::Header::new(
        der::Tag::Sequence,
        der::Length::try_from(body.len()).unwrap(),
    )
    .unwrap()
    .to_der()
    .unwrap();
    out.extend(body);
    out
}

/// Every encoding custodia reads of `key`'s public half.
fn encodings(key: &PublicKey) -> Vec<Vec<u8>> {
    let der = key.spki_der().to_vec();
    let info = spki::SubjectPublicKeyInfoRef::try_from(der.as_slice()).unwrap();
    let raw = info.subject_public_key.raw_bytes().to_vec();
    let mut out = vec![der.clone()];
    match key.algorithm() {
        KeyAlgorithm::Rsa => out.push(spki("1.2.840.113549.1.1.1", None, &raw)),
        KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384 => {
            let curve = if key.algorithm() == KeyAlgorithm::EcdsaP256 {
                &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07][..]
            } else {
                &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22][..]
            };
            let len = (raw.len() - 1) / 2;
            let y_odd = raw.last().unwrap() & 1 == 1;
            let mut compressed = vec![if y_odd { 3 } else { 2 }];
            compressed.extend_from_slice(&raw[1..=len]);
            out.push(spki("1.2.840.10045.2.1", Some(curve), &compressed));
        }
        _ => {}
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// The key id is the same for every encoding of a key, as DER and as PEM.
    #[test]
    fn key_id_is_stable_across_every_encoding(
        algorithm in prop::sample::select(vec![KeyAlgorithm::Ed25519, KeyAlgorithm::EcdsaP256, KeyAlgorithm::EcdsaP384]),
        _case in 0u8..4,
    ) {
        let private = PrivateKey::generate(algorithm).unwrap();
        let id = private.key_id().clone();
        for der in encodings(private.public_key()) {
            let key = PublicKey::from_spki_der(&der).unwrap();
            prop_assert_eq!(key.key_id(), &id);
            // ... and as PEM.
            let b64 = STANDARD.encode(&der);
            let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
            let pem = format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", lines.join("\n"));
            prop_assert_eq!(PublicKey::from_pem(&pem).unwrap().key_id().clone(), id.clone());
        }
    }
}

#[test]
fn rsa_key_id_is_stable_across_encodings() {
    // RSA generation is slow in debug builds: one key, both encodings.
    let Ok(private) = PrivateKey::generate(KeyAlgorithm::Rsa) else {
        return;
    };
    let ids: Vec<_> = encodings(private.public_key())
        .iter()
        .map(|der| PublicKey::from_spki_der(der).unwrap().key_id().clone())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.iter().all(|id| id == private.key_id()));
}
