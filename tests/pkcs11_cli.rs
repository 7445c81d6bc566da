//! `attest` with keys on a SoftHSM2 token (feature `pkcs11`): `keygen
//! --pkcs11`, `pubkey`, `sign --key pkcs11:...`, and every failure an exit 2
//! with a one-line reason that never shows the PIN.
#![cfg(feature = "pkcs11")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod cli_support;
mod pkcs11_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use cli_support::{Out, run_env};
use pkcs11_support::{PIN, PIN_TOKEN, TOKEN, exclusive, hsm, unique};

/// `attest` and `verifier` built with the `pkcs11` feature.
fn bins() -> &'static (PathBuf, PathBuf) {
    static BINS: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    BINS.get_or_init(|| {
        let output = Command::new(env!("CARGO"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["build", "--features", "pkcs11", "--example", "attest"])
            .args([
                "--example",
                "verifier",
                "--message-format=json-render-diagnostics",
            ])
            .stderr(Stdio::inherit())
            .output()
            .unwrap();
        assert!(output.status.success(), "cargo build --example failed");
        let (mut attest, mut verifier) = (None, None);
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let Some(exe) = msg["executable"].as_str() else {
                continue;
            };
            match msg["target"]["name"].as_str() {
                Some("attest") => attest = Some(PathBuf::from(exe)),
                Some("verifier") => verifier = Some(PathBuf::from(exe)),
                _ => {}
            }
        }
        (attest.unwrap(), verifier.unwrap())
    })
}

fn attest(dir: &Path, args: &[&str]) -> Out {
    run_env(&bins().0, dir, args, &[])
}

fn verifier(dir: &Path, args: &[&str]) -> Out {
    run_env(&bins().1, dir, args, &[])
}

fn no_pin(out: &Out, pin: &str) {
    assert!(
        !out.stderr.contains(pin) && !out.stdout.contains(pin),
        "the PIN shows: {out:#?}"
    );
}

#[test]
fn keygen_on_the_token_then_pubkey_sign_and_verify() {
    let Some(hsm) = hsm() else { return };
    let _exclusive = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for algorithm in ["ed25519", "ecdsa-p256", "ecdsa-p384", "rsa-3072"] {
        let uri = hsm.uri(&unique(algorithm));
        let out = attest(
            d,
            &[
                "keygen",
                "--algorithm",
                algorithm,
                "--out",
                algorithm,
                "--pkcs11",
                &uri,
            ],
        );
        out.ok();
        no_pin(&out, PIN);
        assert!(
            !d.join(format!("{algorithm}.key")).exists(),
            "no private key file"
        );
        let public = std::fs::read_to_string(d.join(format!("{algorithm}.pub"))).unwrap();
        let key_id = out.stdout.trim().to_owned();
        assert_eq!(key_id.len(), 64);

        let exported = attest(d, &["pubkey", "--key", &uri]);
        exported.ok_quiet();
        assert_eq!(exported.stdout, public);

        std::fs::write(d.join("notes.txt"), format!("signed by {algorithm}\n")).unwrap();
        let envelope = format!("{algorithm}.dsse.json");
        attest(
            d,
            &[
                "sign",
                "--key",
                &uri,
                "--in",
                "notes.txt",
                "--payload-type",
                "text/plain",
                "-o",
                &envelope,
            ],
        )
        .ok_quiet();
        let pub_file = format!("{algorithm}.pub");
        let verified = verifier(
            d,
            &[
                "envelope", "--in", &envelope, "--key", &pub_file, "--format", "json",
            ],
        );
        verified.ok();
        assert_eq!(verified.json()["verified"], true);

        // Appending the same token key again is refused (exit 2), like a file key.
        attest(d, &["sign", "--key", &uri, "--in", &envelope, "--append"])
            .fails_one_line(2, "already signed");
    }
}

#[test]
fn failures_exit_2_with_a_reason_that_names_the_uri_but_not_the_pin() {
    let Some(hsm) = hsm() else { return };
    let _exclusive = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("notes.txt"), "x").unwrap();
    let sign = |uri: &str| {
        attest(
            d,
            &[
                "sign",
                "--key",
                uri,
                "--in",
                "notes.txt",
                "--payload-type",
                "text/plain",
            ],
        )
    };

    let wrong = "9999-not-the-pin";
    let out = sign(&hsm.uri_on(PIN_TOKEN, "any", wrong));
    out.fails_one_line(2, "CKR_PIN_INCORRECT")
        .fails(2, PIN_TOKEN);
    no_pin(&out, wrong);

    let missing = unique("missing");
    let out = sign(&hsm.uri(&missing));
    out.fails_one_line(2, &missing);
    no_pin(&out, PIN);

    std::fs::write(d.join("libfake.so"), "not a module").unwrap();
    let fake = d.join("libfake.so");
    let out = sign(&format!(
        "pkcs11:token={TOKEN};object=k?module-path={}&pin-value={PIN}",
        fake.display()
    ));
    out.fails_one_line(2, "libfake.so");
    no_pin(&out, PIN);

    let out = sign(&format!(
        "pkcs11:token={TOKEN};object=k;object=again?pin-value={PIN}"
    ));
    out.fails_one_line(2, "twice");
    no_pin(&out, PIN);

    // keygen without object= is refused before anything is written.
    let out = attest(
        d,
        &[
            "keygen",
            "--algorithm",
            "ed25519",
            "--out",
            "k",
            "--pkcs11",
            &format!(
                "pkcs11:token={TOKEN}?module-path={}&pin-value={PIN}",
                hsm.module.display()
            ),
        ],
    );
    out.fails_one_line(2, "object=");
    no_pin(&out, PIN);
    assert!(!d.join("k.pub").exists());
}
