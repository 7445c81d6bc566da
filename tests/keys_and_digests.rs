//! Keys made by OpenSSL (tests/data/openssl) and digests checked against
//! coreutils: independent producers, not our own output read back.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use custodia::Error;
use custodia::digest::{DigestAlgorithm, hash_file, hash_reader, hash_tree};
use custodia::error::{DigestError, KeyError};
use custodia::keys::{KeyAlgorithm, PrivateKey, PublicKey, Signer, Verifier};

fn openssl(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/openssl")
        .join(name)
}

fn text(name: &str) -> String {
    std::fs::read_to_string(openssl(name)).unwrap()
}

#[test]
fn openssl_signatures_verify_with_the_matching_scheme() {
    let message = std::fs::read(openssl("message.txt")).unwrap();
    let cases = [
        (
            "ed25519.pub",
            "ed25519.sig",
            KeyAlgorithm::Ed25519,
            "ed25519",
        ),
        (
            "p256.pub",
            "p256.sig",
            KeyAlgorithm::EcdsaP256,
            "ecdsa-p256-sha256-der",
        ),
        (
            "p384.pub",
            "p384.sig",
            KeyAlgorithm::EcdsaP384,
            "ecdsa-p384-sha384-der",
        ),
        (
            "rsa2048.pub",
            "rsa2048-pss.sig",
            KeyAlgorithm::Rsa,
            "rsassa-pss-sha256",
        ),
        (
            "rsa2048.pub",
            "rsa2048-pkcs1.sig",
            KeyAlgorithm::Rsa,
            "rsa-pkcs1v15-sha256",
        ),
    ];
    for (public, sig, algorithm, scheme) in cases {
        let key = PublicKey::from_pem(&text(public)).unwrap();
        assert_eq!(key.algorithm(), algorithm);
        let sig = std::fs::read(openssl(sig)).unwrap();
        assert_eq!(key.verify(&message, &sig), Ok(scheme), "{public}");
        assert!(key.verify(b"another message", &sig).is_err(), "{public}");
    }
}

#[test]
fn openssl_private_keys_load_and_match_their_public_keys() {
    // OpenSSL writes PKCS#8 v1 (no embedded public key) for Ed25519, which
    // ring's strict loader refuses; custodia accepts it.
    for (private, public) in [
        ("ed25519.key", "ed25519.pub"),
        ("p256.key", "p256.pub"),
        ("p384.key", "p384.pub"),
        ("rsa2048.key", "rsa2048.pub"),
    ] {
        let key = PrivateKey::from_pem(&text(private)).unwrap_or_else(|e| panic!("{private}: {e}"));
        let public = PublicKey::from_pem(&text(public)).unwrap();
        assert_eq!(key.key_id(), public.key_id(), "{private}");
        let sig = key.sign(b"round trip").unwrap();
        assert!(public.verify(b"round trip", &sig).is_ok(), "{private}");
    }
}

#[test]
fn key_ids_are_the_sha256_of_the_spki_der() {
    let pem = text("p256.pub");
    let key = PublicKey::from_pem(&pem).unwrap();
    // Independently: the DER inside the PEM, hashed.
    let out = Command::new("openssl")
        .args(["pkey", "-pubin", "-outform", "DER", "-in"])
        .arg(openssl("p256.pub"))
        .output();
    if let Some(out) = out.ok().filter(|o| o.status.success()) {
        assert_eq!(
            key.key_id().as_str(),
            DigestAlgorithm::Sha256.hash(&out.stdout).hex()
        );
    }
    assert_eq!(
        key.key_id().as_str(),
        DigestAlgorithm::Sha256.hash(key.spki_der()).hex()
    );
    assert_eq!(PublicKey::from_pem(&key.to_pem()).unwrap(), key);
}

#[test]
fn unsupported_and_malformed_keys_are_typed_errors() {
    let err = |r: Result<_, Error>| match r {
        Err(Error::Key(k)) => k,
        other => panic!("expected a key error, got {other:?}"),
    };
    assert!(matches!(
        err(PrivateKey::from_pem(&text("p256-sec1.key")).map(|_| ())),
        KeyError::Pem(m) if m.contains("EC PRIVATE KEY")
    ));
    assert!(matches!(
        err(PublicKey::from_pem(&text("rsa1024.pub")).map(|_| ())),
        KeyError::Weak {
            reason: custodia::error::WeakKey::ModulusSize { bits: 1024 },
            ..
        }
    ));
    // A compressed point is read, as the same key (one key, one id).
    assert_eq!(
        PublicKey::from_pem(&text("p256-compressed.pub"))
            .unwrap()
            .key_id(),
        PublicKey::from_pem(&text("p256.pub")).unwrap().key_id()
    );
    // A private key where a public key is expected, and the reverse.
    assert!(matches!(
        err(PublicKey::from_pem(&text("p256.key")).map(|_| ())),
        KeyError::Pem(_)
    ));
    assert!(matches!(
        err(PrivateKey::from_pem(&text("p256.pub")).map(|_| ())),
        KeyError::Pem(_)
    ));
    // Truncated PEM and garbage DER.
    let pem = text("ed25519.pub");
    assert!(PublicKey::from_pem(&pem[..pem.len() / 2]).is_err());
    assert!(matches!(
        err(PublicKey::from_spki_der(&[0x30, 0x03, 0x02, 0x01]).map(|_| ())),
        KeyError::Der { .. }
    ));
    assert!(PrivateKey::from_pkcs8_der(&[]).is_err());
}

#[test]
fn generated_keys_round_trip_through_pem() {
    for algorithm in [
        KeyAlgorithm::Ed25519,
        KeyAlgorithm::EcdsaP256,
        KeyAlgorithm::EcdsaP384,
    ] {
        let key = PrivateKey::generate(algorithm).unwrap();
        let again = PrivateKey::from_pem(&key.to_pem()).unwrap();
        assert_eq!(again.key_id(), key.key_id());
        let debug = format!("{key:?}");
        assert!(debug.contains("redacted") && !debug.contains("BEGIN"));
    }
}

fn coreutils_tree_digest(dir: &Path) -> Option<String> {
    let out = Command::new("sh")
        .arg("-c")
        .arg(
            "find . -type f -printf '%P\\n' | LC_ALL=C sort | xargs -d '\\n' sha256sum | sha256sum",
        )
        .current_dir(dir)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    Some(text.split_whitespace().next()?.to_owned())
}

#[test]
fn tree_digest_equals_the_sha256sum_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("b/nested/deeper")).unwrap();
    std::fs::create_dir_all(root.join("empty")).unwrap();
    std::fs::write(root.join("a.txt"), b"alpha\n").unwrap();
    std::fs::write(root.join("B.txt"), b"upper sorts first").unwrap();
    std::fs::write(root.join("b/nested/deeper/z.bin"), vec![0u8; 100_000]).unwrap();
    std::fs::write(root.join("b/nested/x y.txt"), b"space in name").unwrap();
    std::fs::write(root.join("b-c"), b"dash sorts before slash").unwrap();
    let ours = hash_tree(root).unwrap();
    assert_eq!(ours.algorithm(), DigestAlgorithm::Sha256);
    match coreutils_tree_digest(root) {
        Some(theirs) => assert_eq!(ours.hex(), theirs),
        None => panic!("sh/find/sha256sum are needed for this test"),
    }
    // Content changes change the digest; so does a rename.
    std::fs::write(root.join("a.txt"), b"alpha!\n").unwrap();
    let changed = hash_tree(root).unwrap();
    assert_ne!(changed, ours);
    std::fs::rename(root.join("a.txt"), root.join("a2.txt")).unwrap();
    assert_ne!(hash_tree(root).unwrap(), changed);
}

#[cfg(unix)]
#[test]
fn tree_digest_refuses_symlinks() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f"), b"x").unwrap();
    std::os::unix::fs::symlink("f", dir.path().join("link")).unwrap();
    match hash_tree(dir.path()) {
        Err(Error::Digest(DigestError::UnhashableTreeEntry { path, reason })) => {
            assert!(path.ends_with("link"));
            assert!(reason.contains("symbolic link"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn file_and_reader_digests_agree_with_sha256sum() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.bin");
    // Larger than the read buffer, not a multiple of it.
    let data: Vec<u8> = (0..1_000_003u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &data).unwrap();
    let ours = hash_file(DigestAlgorithm::Sha256, &path).unwrap();
    assert_eq!(
        ours,
        hash_reader(DigestAlgorithm::Sha256, &data[..]).unwrap()
    );
    let out = Command::new("sha256sum").arg(&path).output().unwrap();
    let theirs = String::from_utf8(out.stdout).unwrap();
    assert_eq!(ours.hex(), theirs.split_whitespace().next().unwrap());
    let missing = hash_file(DigestAlgorithm::Sha256, dir.path().join("nope"));
    assert!(matches!(missing, Err(Error::Io { .. })));
    assert!(missing.unwrap_err().to_string().contains("nope"));
}
