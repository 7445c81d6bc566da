//! `verifier bundle`: verified (exit 0), not verified (exit 1, the failing
//! check on stderr), bad usage and unreadable or malformed input (exit 2,
//! one `error:` line): truncated JSON, binary garbage, an empty file, a
//! missing file, a file over the size limit; never a panic.
#![cfg(feature = "sigstore")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};

mod cli_support;
use cli_support::{Out, bins, run_env};
use tempfile::TempDir;

const ID: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sigstore")
        .join(rel)
}

fn case(name: &str) -> PathBuf {
    data(&format!(
        "sigstore-conformance/bundle-verify/{name}/bundle.sigstore.json"
    ))
}

fn production() -> PathBuf {
    data("trusted_roots/production.trusted_root.json")
}

fn a_txt() -> PathBuf {
    data("sigstore-conformance/a.txt")
}

fn verifier(args: &[&str]) -> Out {
    let dir = TempDir::new().unwrap();
    let mut all = vec!["bundle"];
    all.extend_from_slice(args);
    run_env(&bins().verifier, dir.path(), all, &[])
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `--in BUNDLE --trusted-root production --artifact a.txt` plus the
/// beacon's identity, then `extra`.
fn keyless(bundle: &Path, extra: &[&str]) -> Out {
    let root = production();
    let artifact = a_txt();
    let mut args = vec![
        "--in",
        s(bundle),
        "--trusted-root",
        s(&root),
        "--artifact",
        s(&artifact),
        "--certificate-identity",
        ID,
        "--certificate-oidc-issuer",
        ISSUER,
    ];
    args.extend_from_slice(extra);
    verifier(&args)
}

#[test]
fn a_keyless_signature_verifies() {
    let out = keyless(&case("happy-path-v0.3"), &[]);
    out.ok_quiet();
    assert!(out.stdout.contains("VERIFIED"), "{out:#?}");
    assert!(out.stdout.contains("PASS  certificate-chain"), "{out:#?}");
}

#[test]
fn an_attestation_verifies_with_its_predicate_type_as_json() {
    let out = keyless(
        &case("happy-path-intoto-in-dsse-v3"),
        &[
            "--type",
            "https://slsa.dev/provenance/v1",
            "--format",
            "json",
        ],
    );
    out.ok_quiet();
    assert_eq!(out.json()["verified"], true);
    assert_eq!(out.check("predicate-type")["passed"], true);
    assert_eq!(out.check("identity")["passed"], true);

    let out = keyless(
        &case("happy-path-intoto-in-dsse-v3"),
        &["--type", "https://example.com/other/v1", "--format", "json"],
    );
    out.fails(1, "predicate-type");
    assert_eq!(out.json()["verified"], false);
}

#[test]
fn patterns_and_markdown() {
    let root = production();
    let artifact = a_txt();
    let bundle = case("happy-path-v0.3");
    let out = verifier(&[
        "--in",
        s(&bundle),
        "--trusted-root",
        s(&root),
        "--artifact",
        s(&artifact),
        "--certificate-identity-regexp",
        r"^https://github\.com/sigstore-conformance/",
        "--certificate-oidc-issuer-regexp",
        r"^https://token\.actions\.githubusercontent\.com$",
        "--format",
        "markdown",
    ]);
    out.ok_quiet();
    assert!(
        out.stdout.contains("| identity |") || out.stdout.contains("identity"),
        "{out:#?}"
    );
}

#[test]
fn a_digest_works_in_place_of_the_artifact() {
    let digest = "sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf";
    let root = production();
    let bundle = case("happy-path-v0.3");
    let args = [
        "--in",
        s(&bundle),
        "--trusted-root",
        s(&root),
        "--digest",
        digest,
        "--certificate-identity",
        ID,
        "--certificate-oidc-issuer",
        ISSUER,
    ];
    verifier(&args).ok_quiet();
}

#[test]
fn a_key_bundle_verifies_with_its_key_and_fails_with_another() {
    let dir = "sigstore-conformance/bundle-verify/managed-key-happy-path";
    let bundle = data(&format!("{dir}/bundle.sigstore.json"));
    let key = data(&format!("{dir}/key.pub"));
    let root = production();
    let artifact = a_txt();
    let mut args = vec![
        "--in",
        s(&bundle),
        "--trusted-root",
        s(&root),
        "--artifact",
        s(&artifact),
        "--key",
        s(&key),
    ];
    verifier(&args).ok_quiet();

    // Another P-256 key (tests/data/openssl).
    let other = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/openssl/p256.pub");
    args[7] = s(&other);
    verifier(&args).fails_one_line(1, "signature");
}

#[test]
fn failures_exit_1_and_name_the_check() {
    keyless(&case("happy-path-v0.3"), &[]).ok_quiet();
    // Wrong identity, wrong issuer.
    let root = production();
    let artifact = a_txt();
    let bundle = case("happy-path-v0.3");
    let base = [
        "--in",
        s(&bundle),
        "--trusted-root",
        s(&root),
        "--artifact",
        s(&artifact),
    ];
    let mut args = base.to_vec();
    args.extend([
        "--certificate-identity",
        "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main",
        "--certificate-oidc-issuer",
        ISSUER,
    ]);
    verifier(&args).fails_one_line(1, "identity");
    let mut args = base.to_vec();
    args.extend([
        "--certificate-identity",
        ID,
        "--certificate-oidc-issuer",
        "https://accounts.google.com",
    ]);
    verifier(&args).fails_one_line(1, "issuer");
    // Another artifact; a bad signature; a tampered log entry; untrusted.
    let mut args = base.to_vec();
    let other = data("sigstore-conformance/statement.json");
    args[5] = s(&other);
    args.extend([
        "--certificate-identity",
        ID,
        "--certificate-oidc-issuer",
        ISSUER,
    ]);
    verifier(&args).fails_one_line(1, "artifact");
    keyless(&case("signature-mismatch_fail"), &[]).fails_one_line(1, "signature");
    keyless(&case("set-invalid-signature_fail"), &[]).fails_one_line(1, "transparency-log");
    keyless(&case("bundle-from-wrong-instance_fail"), &[]).fails_one_line(1, "verification failed");
}

#[test]
fn malformed_inputs_exit_2_without_a_panic() {
    let dir = TempDir::new().unwrap();
    let good = std::fs::read(case("happy-path-v0.3")).unwrap();
    let files = [
        ("truncated.json", good[..good.len() / 2].to_vec()),
        ("garbage.bin", (0..=255u8).cycle().take(4096).collect()),
        ("empty.json", Vec::new()),
        ("null.json", b"null".to_vec()),
        (
            "unknown-version.json",
            br#"{"mediaType":"application/vnd.dev.sigstore.bundle+json;version=99.9"}"#.to_vec(),
        ),
        ("duplicate.json", {
            let text = String::from_utf8(good.clone()).unwrap();
            text.replacen("{", "{\"mediaType\":\"x\",", 1).into_bytes()
        }),
    ];
    for (name, bytes) in &files {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        keyless(&path, &[]).fails_one_line(2, name);
        // The same garbage as the trusted root.
        let artifact = a_txt();
        let bundle = case("happy-path-v0.3");
        verifier(&[
            "--in",
            s(&bundle),
            "--trusted-root",
            s(&path),
            "--artifact",
            s(&artifact),
            "--certificate-identity",
            ID,
            "--certificate-oidc-issuer",
            ISSUER,
        ])
        .fails_one_line(2, name);
    }
    // Missing files: bundle, trusted root, artifact, key.
    let missing = dir.path().join("missing.json");
    keyless(&missing, &[]).fails_one_line(2, "missing.json");
    let bundle = case("happy-path-v0.3");
    let artifact = a_txt();
    verifier(&[
        "--in",
        s(&bundle),
        "--trusted-root",
        s(&missing),
        "--artifact",
        s(&artifact),
        "--certificate-identity",
        ID,
        "--certificate-oidc-issuer",
        ISSUER,
    ])
    .fails_one_line(2, "missing.json");
    let root = production();
    verifier(&[
        "--in",
        s(&bundle),
        "--trusted-root",
        s(&root),
        "--artifact",
        s(&missing),
        "--certificate-identity",
        ID,
        "--certificate-oidc-issuer",
        ISSUER,
    ])
    .fails(2, "missing.json");
    verifier(&[
        "--in",
        s(&bundle),
        "--trusted-root",
        s(&root),
        "--artifact",
        s(&artifact),
        "--key",
        s(&missing),
    ])
    .fails_one_line(2, "missing.json");
}

#[test]
fn a_huge_file_is_refused_before_it_is_read_whole() {
    let dir = TempDir::new().unwrap();
    // Sparse: over the 96 MiB bundle limit and the 4 MiB trusted root limit
    // without writing them.
    let huge = dir.path().join("huge.json");
    let file = std::fs::File::create(&huge).unwrap();
    file.set_len(100 * 1024 * 1024).unwrap();
    keyless(&huge, &[]).fails_one_line(2, "limit");
    let bundle = case("happy-path-v0.3");
    let artifact = a_txt();
    verifier(&[
        "--in",
        s(&bundle),
        "--trusted-root",
        s(&huge),
        "--artifact",
        s(&artifact),
        "--certificate-identity",
        ID,
        "--certificate-oidc-issuer",
        ISSUER,
    ])
    .fails_one_line(2, "limit");
}

#[test]
fn usage_errors_exit_2() {
    let bundle = case("happy-path-v0.3");
    let root = production();
    let artifact = a_txt();
    let base = [
        "--in",
        s(&bundle),
        "--trusted-root",
        s(&root),
        "--artifact",
        s(&artifact),
    ];
    // No signer; an identity without an issuer; a key with an identity;
    // a bad pattern; no artifact.
    verifier(&base).fails(2, "");
    let mut args = base.to_vec();
    args.extend(["--certificate-identity", ID]);
    verifier(&args).fails(2, "");
    let mut args = base.to_vec();
    args.extend(["--key", s(&root), "--certificate-identity", ID]);
    verifier(&args).fails(2, "");
    let mut args = base.to_vec();
    args.extend([
        "--certificate-identity-regexp",
        "(",
        "--certificate-oidc-issuer",
        ISSUER,
    ]);
    verifier(&args).fails_one_line(2, "regular expression");
    let args = [
        "--in",
        s(&bundle),
        "--trusted-root",
        s(&root),
        "--certificate-identity",
        ID,
        "--certificate-oidc-issuer",
        ISSUER,
    ];
    verifier(&args).fails(2, "");
}
