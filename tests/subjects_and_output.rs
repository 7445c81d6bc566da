//! Issue #14: every digest a subject lists is checked when the artifact is
//! at hand (library and CLI); `attest digest` escapes file names as
//! sha256sum does (checked against coreutils' sha256sum); workflow inputs
//! are compared with their type through the CLI.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod cli_support;

use std::path::Path;
use std::process::Command;

use cli_support::WorkDir;
use custodia::digest::{DigestAlgorithm, DigestMismatch, DigestSet, hash_path_complete};
use custodia::dsse::Envelope;
use custodia::keys::{KeyAlgorithm, PrivateKey};
use custodia::resource::ResourceDescriptor;
use custodia::statement::{PAYLOAD_TYPE, Statement};
use custodia::trust::TrustAnchors;
use custodia::verify::{Expectation, verify_attestation};

const PREDICATE: &str = "https://example.com/tested/v1";

struct Dir(tempfile::TempDir);
impl WorkDir for Dir {
    fn root(&self) -> &Path {
        self.0.path()
    }
}

/// A subject naming `bytes` by sha256 and something else by sha512.
fn two_faced_subject(bytes: &[u8]) -> DigestSet {
    let mut set = DigestSet::of_bytes(bytes);
    set.insert(&DigestAlgorithm::Sha512.hash(b"another artifact"));
    set
}

#[test]
fn a_subject_with_one_wrong_strong_digest_does_not_match_the_artifact() {
    let bytes = b"release bytes";
    let key = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let st = Statement::new_untyped(
        vec![ResourceDescriptor::new("app", two_faced_subject(bytes))],
        PREDICATE,
        serde_json::json!({}),
    )
    .unwrap();
    let env = Envelope::sign(PAYLOAD_TYPE, st.to_json().unwrap(), &key).unwrap();
    let keys: TrustAnchors = [key.public_key().clone()].into_iter().collect();

    // With the artifact: every strong digest computed, sha512 disagrees.
    let at_hand = verify_attestation(
        &env,
        &keys,
        &Expectation::new(PREDICATE, DigestSet::of_artifact(bytes)),
    );
    assert_eq!(at_hand.report().first_failure().unwrap().name, "subject");
    assert!(matches!(
        two_faced_subject(bytes).matches(&DigestSet::of_artifact(bytes)),
        Err(DigestMismatch::Differs { algorithm, .. }) if algorithm == "sha512"
    ));
    // A sha256 alone establishes only the sha256 (documented).
    let digest_only = verify_attestation(
        &env,
        &keys,
        &Expectation::new(PREDICATE, DigestSet::of_bytes(bytes)),
    );
    assert!(digest_only.report().verified());

    // A strong digest custodia cannot compute is not silently skipped.
    let mut sha3 = DigestSet::of_bytes(bytes);
    sha3.insert_raw("sha3_256", &"a".repeat(64)).unwrap();
    assert!(matches!(
        sha3.matches(&DigestSet::of_artifact(bytes)),
        Err(DigestMismatch::NotComputed { algorithm }) if algorithm == "sha3_256"
    ));
    // Weak digests never count, so they are neither computed nor needed.
    let mut weak = DigestSet::of_bytes(bytes);
    weak.insert_raw("sha1", &"a".repeat(40)).unwrap();
    assert!(weak.matches(&DigestSet::of_artifact(bytes)).is_ok());
    let mut only_weak = DigestSet::new();
    only_weak.insert_raw("md5", &"a".repeat(32)).unwrap();
    assert!(only_weak.matches(&DigestSet::of_artifact(bytes)).is_err());
}

#[test]
fn the_cli_checks_every_digest_with_artifact_and_says_what_digest_cannot() {
    let d = Dir(tempfile::tempdir().unwrap());
    d.attest(["keygen", "--algorithm", "ed25519", "--out", "k"])
        .ok();
    let bytes = b"release bytes";
    let app = d.write("app", bytes);
    assert_eq!(
        hash_path_complete(&app, &mut |_| {}).unwrap(),
        DigestSet::of_artifact(bytes)
    );
    let st = Statement::new_untyped(
        vec![ResourceDescriptor::new("app", two_faced_subject(bytes))],
        PREDICATE,
        serde_json::json!({}),
    )
    .unwrap();
    d.write("st.json", &st.to_json().unwrap());
    d.attest([
        "sign", "--key", "k.key", "--in", "st.json", "-o", "env.json",
    ])
    .ok();
    let base = [
        "envelope",
        "--in",
        "env.json",
        "--key",
        "k.pub",
        "--predicate-type",
        PREDICATE,
        "--format",
        "json",
    ];
    let out = d.verifier(base.iter().copied().chain(["--artifact", "app"]));
    assert_eq!(out.code, 1, "{out:#?}");
    assert_eq!(out.check("subject")["passed"], false);
    let sha256 = DigestAlgorithm::Sha256.hash(bytes);
    let digest_arg = sha256.to_string();
    d.verifier(
        base.iter()
            .copied()
            .chain(["--digest", digest_arg.as_str()]),
    )
    .ok();
}

#[test]
fn attest_digest_escapes_names_as_sha256sum_does() {
    let d = Dir(tempfile::tempdir().unwrap());
    for name in [
        "plain",
        "new\nline",
        "back\\slash",
        "cr\rname",
        "esc\u{1b}[2J",
    ] {
        d.write(name, b"x");
        let out = d.attest(["digest", name]);
        out.ok();
        assert_eq!(out.stdout.lines().count(), 1, "{out:#?}");
        assert!(!out.stdout.contains('\u{1b}'), "{out:#?}");
        // coreutils' sha256sum, where it escapes the same way.
        if name.contains('\u{1b}') {
            assert!(out.stdout.starts_with("\\sha256:"), "{out:#?}");
            continue;
        }
        let Ok(peer) = Command::new("sha256sum")
            .arg(name)
            .current_dir(d.root())
            .output()
        else {
            assert!(std::env::var_os("CI").is_none(), "CI must have sha256sum");
            eprintln!("SKIPPED: sha256sum not found");
            continue;
        };
        let peer = String::from_utf8(peer.stdout).unwrap();
        assert_eq!(out.stdout.replacen("sha256:", "", 1), peer, "{name:?}");
    }
}

#[test]
fn build_inputs_compare_with_their_type_through_the_cli() {
    use custodia::provenance::{BuildContext, SourceRef};
    use custodia::time::Timestamp;
    let d = Dir(tempfile::tempdir().unwrap());
    d.attest(["keygen", "--algorithm", "ed25519", "--out", "k"])
        .ok();
    d.write("app", b"app");
    let mut ctx = BuildContext::new("https://ci.acme.dev/b@v1")
        .with_source(SourceRef::new("https://github.com/acme/app"))
        .with_subject("app", DigestSet::of_bytes(b"app"))
        .with_times(Timestamp::from_unix(0), Timestamp::from_unix(1));
    ctx.external_parameters
        .insert("inputs".into(), serde_json::json!({"x": true, "y": "true"}));
    d.write("st.json", &ctx.to_statement().unwrap().to_json().unwrap());
    d.attest([
        "sign",
        "--key",
        "k.key",
        "--in",
        "st.json",
        "-o",
        "prov.json",
    ])
    .ok();
    let run = |extra: &[&str]| {
        let args = [
            "provenance",
            "--in",
            "prov.json",
            "--key",
            "k.pub",
            "--artifact",
            "app",
            "--builder-id",
            "https://ci.acme.dev/b",
            "--source-uri",
            "github.com/acme/app",
            "--format",
            "json",
        ];
        d.verifier(args.iter().chain(extra))
    };
    run(&["--build-input", "y=true"]).ok();
    run(&["--build-input-json", "x=true"]).ok();
    for (flag, value, check) in [
        ("--build-input", "x=true", "input:x"),
        ("--build-input-json", "y=true", "input:y"),
    ] {
        let out = run(&[flag, value]);
        assert_eq!(out.code, 1, "{out:#?}");
        assert_eq!(out.check(check)["passed"], false, "{out:#?}");
    }
}
