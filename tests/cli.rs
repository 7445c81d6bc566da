//! Command-line tests for the `attest` and `verifier` examples.
//!
//! Examples are not `[[bin]]` targets, so cargo gives tests no
//! `CARGO_BIN_EXE_*` for them: the first test builds both once with
//! `cargo build --example attest --example verifier` and takes the paths of
//! the executables from cargo's JSON messages (so any target directory
//! works). Every run checks that the process exited normally and that
//! nothing mentions "panicked".
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::ffi::OsStr;
use std::fs;
use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use custodia::digest::{DigestAlgorithm, hash_file, hash_tree};
use custodia::dsse::Envelope;
use custodia::keys::PublicKey;
use custodia::statement::{PAYLOAD_TYPE, Statement};
use tempfile::TempDir;

const DEMO_TYPE: &str = "https://custodia.dev/attestation/demo/v1";

mod cli_support;
use cli_support::{Out, WorkDir, bins, run_env};

fn run<I, S>(bin: &Path, dir: &Path, args: I) -> Out
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run_env(bin, dir, args, &[])
}

/// A temp dir with a builder key, another key, an artifact, a statement
/// about it, and an envelope signed by the builder.
struct Fixture {
    dir: TempDir,
}

impl WorkDir for Fixture {
    fn root(&self) -> &Path {
        self.dir.path()
    }
}

impl Fixture {
    fn new() -> Self {
        let f = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        f.attest(["keygen", "--algorithm", "ed25519", "--out", "builder"])
            .ok();
        f.attest(["keygen", "--algorithm", "ecdsa-p256", "--out", "other"])
            .ok();
        f.write("app.tar.gz", b"the release tarball\n");
        f.attest([
            "demo-statement",
            "--subject",
            "app.tar.gz",
            "-o",
            "statement.json",
        ])
        .ok();
        f.attest([
            "sign",
            "--key",
            "builder.key",
            "--in",
            "statement.json",
            "-o",
            "envelope.json",
        ])
        .ok();
        f
    }

    /// `verifier envelope --in FILE --key builder.pub` plus `extra`.
    fn verify_envelope(&self, file: &str, extra: &[&str]) -> Out {
        let mut args = vec!["envelope", "--in", file, "--key", "builder.pub"];
        args.extend_from_slice(extra);
        self.verifier(args)
    }

    /// The full check against the artifact.
    fn verify_artifact(&self, file: &str, extra: &[&str]) -> Out {
        let mut args = vec!["--artifact", "app.tar.gz", "--predicate-type", DEMO_TYPE];
        args.extend_from_slice(extra);
        self.verify_envelope(file, &args)
    }
}

/// Inputs that are not what any subcommand expects.
fn malformed_inputs() -> Vec<(&'static str, Vec<u8>)> {
    let mut garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    garbage.extend_from_slice(&[0xff, 0xfe, 0x00]);
    vec![
        (
            "truncated.json",
            br#"{"payloadType":"application/vnd.in-toto+json","payl"#.to_vec(),
        ),
        ("garbage.bin", garbage),
        ("empty.json", Vec::new()),
        ("brackets.json", vec![b'['; 3 * 1024 * 1024]),
        ("object.json", b"{}".to_vec()),
        ("array.json", b"[1,2,3]".to_vec()),
        ("nul.json", b"\0\0\0\0".to_vec()),
    ]
}

// ---------------------------------------------------------------- keygen

#[test]
fn keygen_writes_a_key_pair_per_algorithm_that_signs_and_verifies() {
    let f = Fixture::new();
    for algorithm in ["ed25519", "ecdsa-p256", "ecdsa-p384", "rsa-3072"] {
        let out = f.attest(["keygen", "--algorithm", algorithm, "--out", algorithm]);
        out.ok();
        let key_id = out.stdout.trim();
        assert_eq!(key_id.len(), 64, "{out:#?}");
        assert!(key_id.bytes().all(|b| b.is_ascii_hexdigit()));

        let private = String::from_utf8(f.read(&format!("{algorithm}.key"))).unwrap();
        let public = String::from_utf8(f.read(&format!("{algorithm}.pub"))).unwrap();
        assert!(
            private.starts_with("-----BEGIN PRIVATE KEY-----"),
            "{private}"
        );
        assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"), "{public}");
        assert_eq!(
            PublicKey::from_pem(&public).unwrap().key_id().as_str(),
            key_id
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(f.path(&format!("{algorithm}.key")))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{algorithm}.key mode {mode:o}");
        }

        let envelope = format!("{algorithm}.envelope.json");
        f.attest([
            "sign",
            "--key",
            &format!("{algorithm}.key"),
            "--in",
            "statement.json",
            "-o",
            &envelope,
        ])
        .ok();
        f.verifier([
            "envelope",
            "--in",
            &envelope,
            "--key",
            &format!("{algorithm}.pub"),
            "--artifact",
            "app.tar.gz",
            "--predicate-type",
            DEMO_TYPE,
        ])
        .ok();
    }
}

#[test]
fn keygen_never_overwrites_a_key() {
    let f = Fixture::new();
    let before = f.read("builder.key");
    f.attest(["keygen", "--algorithm", "ed25519", "--out", "builder"])
        .fails_one_line(2, "already exists");
    assert_eq!(f.read("builder.key"), before);
    // Only the .pub exists: still refused, and no .key appears.
    f.write("lonely.pub", b"x");
    f.attest(["keygen", "--algorithm", "ed25519", "--out", "lonely"])
        .fails_one_line(2, "lonely.pub: already exists");
    assert!(!f.path("lonely.key").exists());
}

#[test]
fn keygen_usage_and_io_errors_exit_2() {
    let f = Fixture::new();
    f.attest(["keygen", "--algorithm", "dsa", "--out", "k"])
        .fails(2, "invalid value 'dsa'");
    f.attest(["keygen", "--out", "k"]).fails(2, "--algorithm");
    f.attest(["keygen", "--algorithm", "ed25519", "--out", "missing-dir/k"])
        .fails_one_line(2, "missing-dir/k.key");
    f.attest(["keygen"]).fails(2, "required");
    assert_eq!(f.attest(Vec::<&str>::new()).code, 2);
}

// ---------------------------------------------------------------- digest

#[test]
fn digest_prints_file_and_tree_digests() {
    let f = Fixture::new();
    fs::create_dir_all(f.path("tree/sub")).unwrap();
    f.write("tree/a.txt", b"a");
    f.write("tree/sub/b.txt", b"b");
    let out = f.attest(["digest", "app.tar.gz", "tree"]);
    out.ok();
    let file = hash_file(DigestAlgorithm::Sha256, f.path("app.tar.gz")).unwrap();
    let tree = hash_tree(f.path("tree")).unwrap();
    assert_eq!(out.stdout, format!("{file}  app.tar.gz\n{tree}  tree\n"));
    assert!(out.stdout.starts_with("sha256:"));
    assert!(out.stderr.is_empty(), "{out:#?}");

    let out = f.attest(["digest", "--algorithm", "sha512", "app.tar.gz"]);
    out.ok();
    let sha512 = hash_file(DigestAlgorithm::Sha512, f.path("app.tar.gz")).unwrap();
    assert_eq!(out.stdout, format!("{sha512}  app.tar.gz\n"));
    f.attest(["digest", "--algorithm", "sha384", "app.tar.gz"])
        .ok();
}

#[test]
fn digest_errors_exit_2_after_trying_every_path() {
    let f = Fixture::new();
    let out = f.attest(["digest", "missing.bin", "app.tar.gz"]);
    out.fails_one_line(2, "missing.bin");
    assert!(
        out.stdout.contains("  app.tar.gz"),
        "other paths still hashed: {out:#?}"
    );

    let out = f.attest(["digest", "missing1", "missing2"]);
    out.fails(2, "missing1");
    assert!(out.stderr.contains("missing2"), "{out:#?}");
    assert_eq!(out.stderr.lines().count(), 2);

    fs::create_dir(f.path("tree")).unwrap();
    f.attest(["digest", "--algorithm", "sha384", "tree"])
        .fails_one_line(2, "sha256 only");
    f.attest(["digest", "--algorithm", "md5", "app.tar.gz"])
        .fails(2, "md5");
    f.attest(["digest"]).fails(2, "required");
}

#[cfg(unix)]
#[test]
fn digest_refuses_a_tree_with_a_symlink() {
    let f = Fixture::new();
    fs::create_dir(f.path("tree")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", f.path("tree/link")).unwrap();
    f.attest(["digest", "tree"])
        .fails_one_line(2, "symbolic link");
}

// ---------------------------------------------------------------- sign

#[test]
fn sign_writes_an_envelope_over_the_exact_statement_bytes() {
    let f = Fixture::new();
    let statement = f.read("statement.json");
    let parsed = Statement::from_json(&statement).unwrap();
    assert_eq!(parsed.predicate_type(), DEMO_TYPE);
    assert_eq!(parsed.subject()[0].name.as_deref(), Some("app.tar.gz"));

    let from_file = Envelope::from_json(&f.read("envelope.json")).unwrap();
    assert_eq!(from_file.payload_type(), PAYLOAD_TYPE);
    assert_eq!(from_file.payload(), statement.as_slice());

    let out = f.attest(["sign", "--key", "builder.key", "--in", "statement.json"]);
    out.ok();
    let from_stdout = Envelope::from_json(out.stdout.as_bytes()).unwrap();
    assert_eq!(from_stdout.payload(), statement.as_slice());
    assert_eq!(from_stdout.signatures().len(), 1);
}

#[test]
fn sign_refuses_what_is_not_an_in_toto_statement() {
    let f = Fixture::new();
    let mut inputs = malformed_inputs();
    inputs.push((
        "no-subject.json",
        br#"{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"x","predicate":{}}"#.to_vec(),
    ));
    inputs.push(("envelope-as-statement.json", f.read("envelope.json")));
    for (name, bytes) in inputs {
        f.write(name, &bytes);
        let out = f.attest([
            "sign",
            "--key",
            "builder.key",
            "--in",
            name,
            "-o",
            "out.json",
        ]);
        out.fails_one_line(2, "not a valid in-toto statement");
        assert!(out.stderr.contains(name), "{out:#?}");
        assert!(out.stdout.is_empty());
        assert!(!f.path("out.json").exists(), "{name}: nothing written");
    }
    f.attest(["sign", "--key", "builder.key", "--in", "missing.json"])
        .fails_one_line(2, "missing.json");
}

#[test]
fn sign_other_payload_types_take_any_bytes() {
    let f = Fixture::new();
    let garbage = malformed_inputs().remove(1).1;
    f.write("blob.bin", &garbage);
    f.attest([
        "sign",
        "--key",
        "builder.key",
        "--in",
        "blob.bin",
        "--payload-type",
        "application/octet-stream",
        "-o",
        "blob.envelope.json",
    ])
    .ok();
    let env = Envelope::from_json(&f.read("blob.envelope.json")).unwrap();
    assert_eq!(env.payload(), garbage.as_slice());
    let out = f.verify_envelope("blob.envelope.json", &[]);
    out.ok();
    assert!(out.stdout.contains("signatures only"), "{out:#?}");
    assert!(out.stdout.contains("application/octet-stream"), "{out:#?}");
    // ... but it is not an attestation about the artifact.
    f.verify_artifact("blob.envelope.json", &[])
        .fails_one_line(1, "payload-type");
}

#[test]
fn sign_key_errors_exit_2() {
    let f = Fixture::new();
    let sign = |key: &str| f.attest(["sign", "--key", key, "--in", "statement.json"]);
    sign("builder.pub").fails_one_line(2, "PRIVATE KEY");
    sign("missing.key").fails_one_line(2, "missing.key");
    for (name, bytes) in malformed_inputs() {
        f.write(name, &bytes);
        sign(name).fails_one_line(2, name);
    }
    f.write("huge.key", &vec![b'A'; 2 * 1024 * 1024]);
    sign("huge.key").fails_one_line(2, "limit");
    f.attest(["sign", "--in", "statement.json"])
        .fails(2, "--key");
}

#[test]
fn sign_append_adds_a_second_signature() {
    let f = Fixture::new();
    f.attest([
        "sign",
        "--key",
        "other.key",
        "--in",
        "envelope.json",
        "--append",
        "-o",
        "both.json",
    ])
    .ok();
    let env = Envelope::from_json(&f.read("both.json")).unwrap();
    assert_eq!(env.signatures().len(), 2);
    assert_eq!(env.payload(), f.read("statement.json").as_slice());

    let both = ["--key", "other.pub", "--threshold", "2"];
    f.verify_envelope("both.json", &both).ok();
    f.verify_artifact("both.json", &both).ok();
    // The single-signature envelope does not meet a threshold of 2.
    f.verify_envelope("envelope.json", &both)
        .fails_one_line(1, "threshold");

    // Appending in place works too (-o may be the input).
    f.attest([
        "sign",
        "--key",
        "other.key",
        "--in",
        "envelope.json",
        "--append",
        "-o",
        "envelope.json",
    ])
    .ok();
    f.verify_envelope("envelope.json", &both).ok();
}

#[test]
fn sign_append_refusals() {
    let f = Fixture::new();
    f.attest([
        "sign",
        "--key",
        "builder.key",
        "--in",
        "envelope.json",
        "--append",
    ])
    .fails_one_line(2, "already signed by key");
    f.attest([
        "sign",
        "--key",
        "other.key",
        "--in",
        "statement.json",
        "--append",
    ])
    .fails_one_line(2, "DSSE envelope");
    f.attest([
        "sign",
        "--key",
        "other.key",
        "--in",
        "envelope.json",
        "--append",
        "--payload-type",
        "text/plain",
    ])
    .fails(2, "cannot be used with");
    for (name, bytes) in malformed_inputs() {
        f.write(name, &bytes);
        f.attest(["sign", "--key", "other.key", "--in", name, "--append"])
            .fails_one_line(2, name);
    }
    // An envelope whose in-toto payload is not a statement is not signed either.
    let bogus = Envelope::unsigned(PAYLOAD_TYPE, b"{}".to_vec());
    f.write("bogus.json", &bogus.to_json().unwrap());
    f.attest([
        "sign",
        "--key",
        "other.key",
        "--in",
        "bogus.json",
        "--append",
    ])
    .fails_one_line(2, "not a valid in-toto statement");
}

// ---------------------------------------------------------------- demo-statement

#[test]
fn demo_statement_errors_exit_2() {
    let f = Fixture::new();
    f.attest(["demo-statement", "--subject", "missing.bin"])
        .fails_one_line(2, "missing.bin");
    f.attest(["demo-statement"]).fails(2, "--subject");
    f.attest([
        "demo-statement",
        "--subject",
        "app.tar.gz",
        "--predicate-type",
        "",
    ])
    .fails_one_line(2, "predicateType");
    let out = f.attest([
        "demo-statement",
        "--subject",
        "app.tar.gz",
        "--subject",
        "statement.json",
    ]);
    out.ok();
    let st = Statement::from_json(out.stdout.as_bytes()).unwrap();
    assert_eq!(st.subject().len(), 2);
}

// ---------------------------------------------------------------- verifier

#[test]
fn verifier_checks_signatures_only_with_just_keys() {
    let f = Fixture::new();
    let out = f.verify_envelope("envelope.json", &[]);
    out.ok();
    assert!(out.stdout.contains("PASS  signature[0]"), "{out:#?}");
    assert!(out.stdout.contains("\nVERIFIED\n"), "{out:#?}");
    assert!(out.stdout.contains("signatures only"), "{out:#?}");
    assert!(out.stderr.is_empty(), "{out:#?}");
}

#[test]
fn verifier_binds_signature_predicate_type_and_subject() {
    let f = Fixture::new();
    let out = f.verify_artifact("envelope.json", &[]);
    out.ok();
    for check in ["payload-type", "statement", "predicate-type", "subject"] {
        assert!(
            out.stdout.contains(&format!("PASS  {check}: ")),
            "{check}: {out:#?}"
        );
    }

    let digest = hash_file(DigestAlgorithm::Sha256, f.path("app.tar.gz"))
        .unwrap()
        .to_string();
    f.verify_envelope(
        "envelope.json",
        &["--digest", &digest, "--predicate-type", DEMO_TYPE],
    )
    .ok();

    let out = f.verify_artifact("envelope.json", &["--format", "json"]);
    out.ok();
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["verified"], true);
    let names: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "signature[0]",
            "threshold",
            "payload-type",
            "statement",
            "predicate-type",
            "subject"
        ]
    );
    assert!(
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["passed"] == true && c["reason"].is_string())
    );
}

#[test]
fn verifier_accepts_a_directory_artifact() {
    let f = Fixture::new();
    fs::create_dir(f.path("dist")).unwrap();
    f.write("dist/app", b"binary");
    f.attest([
        "demo-statement",
        "--subject",
        "dist",
        "-o",
        "dist.statement.json",
    ])
    .ok();
    f.attest([
        "sign",
        "--key",
        "builder.key",
        "--in",
        "dist.statement.json",
        "-o",
        "dist.json",
    ])
    .ok();
    f.verify_envelope(
        "dist.json",
        &["--artifact", "dist", "--predicate-type", DEMO_TYPE],
    )
    .ok();
    f.write("dist/extra", b"added later");
    f.verify_envelope(
        "dist.json",
        &["--artifact", "dist", "--predicate-type", DEMO_TYPE],
    )
    .fails_one_line(1, "subject");
}

#[test]
fn verifier_wrong_key_fails_with_1() {
    let f = Fixture::new();
    let wrong = |extra: &[&str]| {
        let mut args = vec!["envelope", "--in", "envelope.json", "--key", "other.pub"];
        args.extend_from_slice(extra);
        f.verifier(args)
    };
    let out = wrong(&[]);
    out.fails_one_line(1, "verification failed");
    assert!(out.stderr.contains("signature[0]"), "{out:#?}");
    assert!(out.stdout.contains("NOT VERIFIED"), "{out:#?}");

    let out = wrong(&[
        "--artifact",
        "app.tar.gz",
        "--predicate-type",
        DEMO_TYPE,
        "--format",
        "json",
    ]);
    out.fails_one_line(1, "verification failed");
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["verified"], false);
    assert!(
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["name"] != "subject"),
        "no payload checks before a trusted signature: {report}"
    );
}

#[test]
fn verifier_tampered_payload_fails_with_1() {
    let f = Fixture::new();
    let mut wire: serde_json::Value = serde_json::from_slice(&f.read("envelope.json")).unwrap();
    let statement = String::from_utf8(f.read("statement.json")).unwrap();
    let tampered = statement.replace("asserts nothing", "asserts everything");
    assert_ne!(tampered, statement);
    wire["payload"] = base64::engine::general_purpose::STANDARD
        .encode(tampered)
        .into();
    f.write("tampered.json", wire.to_string().as_bytes());
    f.verify_envelope("tampered.json", &[])
        .fails_one_line(1, "signature[0]");
    f.verify_artifact("tampered.json", &[])
        .fails_one_line(1, "signature[0]");

    // A flipped signature byte.
    let env = Envelope::from_json(&f.read("envelope.json")).unwrap();
    let mut sig = env.signatures()[0].sig.clone();
    sig[0] ^= 1;
    wire["payload"] = base64::engine::general_purpose::STANDARD
        .encode(env.payload())
        .into();
    wire["signatures"][0]["sig"] = base64::engine::general_purpose::STANDARD.encode(sig).into();
    f.write("bad-sig.json", wire.to_string().as_bytes());
    f.verify_envelope("bad-sig.json", &[])
        .fails_one_line(1, "signature[0]");

    // A changed payload type breaks the signature too.
    let mut wire: serde_json::Value = serde_json::from_slice(&f.read("envelope.json")).unwrap();
    wire["payloadType"] = "application/json".into();
    f.write("retyped.json", wire.to_string().as_bytes());
    f.verify_envelope("retyped.json", &[])
        .fails_one_line(1, "signature[0]");
}

#[test]
fn verifier_wrong_artifact_or_predicate_type_fails_with_1() {
    let f = Fixture::new();
    f.write("rebuilt.tar.gz", b"the rebuilt tarball\n");
    let out = f.verify_envelope(
        "envelope.json",
        &[
            "--artifact",
            "rebuilt.tar.gz",
            "--predicate-type",
            DEMO_TYPE,
        ],
    );
    out.fails_one_line(1, "subject");
    assert!(out.stdout.contains("FAIL  subject"), "{out:#?}");

    let other = DigestAlgorithm::Sha256.hash(b"something else").to_string();
    f.verify_envelope(
        "envelope.json",
        &["--digest", &other, "--predicate-type", DEMO_TYPE],
    )
    .fails_one_line(1, "subject");

    let out = f.verify_artifact("envelope.json", &[]);
    out.ok();
    f.verify_envelope(
        "envelope.json",
        &[
            "--artifact",
            "app.tar.gz",
            "--predicate-type",
            "https://slsa.dev/provenance/v1",
        ],
    )
    .fails_one_line(1, "predicate-type");
}

#[test]
fn verifier_malformed_envelopes_exit_2() {
    let f = Fixture::new();
    let mut inputs = malformed_inputs();
    inputs.push((
        "bad-base64.json",
        br#"{"payloadType":"x","payload":"!!!","signatures":[]}"#.to_vec(),
    ));
    inputs.push((
        "dup.json",
        br#"{"payloadType":"x","payloadType":"y","payload":"","signatures":[]}"#.to_vec(),
    ));
    for (name, bytes) in inputs {
        f.write(name, &bytes);
        let out = f.verify_envelope(name, &[]);
        out.fails_one_line(2, name);
        assert!(out.stdout.is_empty(), "{out:#?}");
        f.verify_artifact(name, &["--format", "json"])
            .fails_one_line(2, name);
    }
    f.verify_envelope("missing.json", &[])
        .fails_one_line(2, "missing.json");
    // A directory is not an envelope.
    fs::create_dir(f.path("a-dir")).unwrap();
    f.verify_envelope("a-dir", &[]).fails_one_line(2, "a-dir");
}

#[test]
fn verifier_key_errors_exit_2() {
    let f = Fixture::new();
    let with_key = |key: &str| f.verifier(["envelope", "--in", "envelope.json", "--key", key]);
    with_key("builder.key").fails_one_line(2, "PUBLIC KEY");
    with_key("missing.pub").fails_one_line(2, "missing.pub");
    with_key("envelope.json").fails_one_line(2, "envelope.json");
    for (name, bytes) in malformed_inputs() {
        f.write(name, &bytes);
        with_key(name).fails_one_line(2, name);
    }
    // One bad key among good ones is still bad input.
    f.verifier([
        "envelope",
        "--in",
        "envelope.json",
        "--key",
        "builder.pub",
        "builder.key",
    ])
    .fails_one_line(2, "builder.key");
}

#[test]
fn verifier_missing_artifact_exits_2() {
    let f = Fixture::new();
    f.verify_envelope(
        "envelope.json",
        &[
            "--artifact",
            "missing.tar.gz",
            "--predicate-type",
            DEMO_TYPE,
        ],
    )
    .fails_one_line(2, "missing.tar.gz");
}

#[test]
fn verifier_usage_errors_exit_2() {
    let f = Fixture::new();
    f.verify_envelope("envelope.json", &["--artifact", "app.tar.gz"])
        .fails(2, "--predicate-type");
    f.verify_envelope("envelope.json", &["--predicate-type", DEMO_TYPE])
        .fails(2, "--artifact");
    let digest = hash_file(DigestAlgorithm::Sha256, f.path("app.tar.gz"))
        .unwrap()
        .to_string();
    f.verify_envelope(
        "envelope.json",
        &[
            "--artifact",
            "app.tar.gz",
            "--digest",
            &digest,
            "--predicate-type",
            DEMO_TYPE,
        ],
    )
    .fails(2, "cannot be used with");
    for bad in [
        "sha256:abc",
        "md5:d41d8cd98f00b204e9800998ecf8427e",
        "nocolon",
        &digest.to_uppercase(),
    ] {
        f.verify_envelope(
            "envelope.json",
            &["--digest", bad, "--predicate-type", DEMO_TYPE],
        )
        .fails(2, "--digest");
    }
    f.verify_envelope("envelope.json", &["--threshold", "0"])
        .fails(2, "at least 1");
    f.verify_envelope("envelope.json", &["--threshold=-1"])
        .fails(2, "--threshold");
    f.verify_envelope("envelope.json", &["--format", "xml"])
        .fails(2, "--format");
    f.verifier(["envelope", "--in", "envelope.json"])
        .fails(2, "--key");
    f.verifier(["envelope", "--key", "builder.pub"])
        .fails(2, "--in");
    f.verifier(["frobnicate"]).fails(2, "frobnicate");
    assert_eq!(f.verifier(Vec::<&str>::new()).code, 2);
}

#[test]
fn verifier_escapes_control_characters_from_the_envelope() {
    let f = Fixture::new();
    // A trusted signer, but a payload type with a newline and a terminal escape.
    let evil_type = "text/plain\nPASS  subject: forged\u{1b}[2J";
    f.attest([
        "sign",
        "--key",
        "builder.key",
        "--in",
        "statement.json",
        "--payload-type",
        evil_type,
        "-o",
        "evil.json",
    ])
    .ok();
    let out = f.verify_artifact("evil.json", &[]);
    out.fails_one_line(1, "payload-type");
    assert!(
        !out.stdout.contains('\u{1b}') && !out.stderr.contains('\u{1b}'),
        "{out:#?}"
    );
    assert!(!out.stdout.contains("\nPASS  subject"), "{out:#?}");
    let out = f.verify_artifact("evil.json", &["--format", "json"]);
    out.fails_one_line(1, "payload-type");
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["verified"], false);
}

// ---------------------------------------------------------------- help

#[test]
fn every_subcommand_help_shows_an_example() {
    let f = Fixture::new();
    for sub in ["keygen", "digest", "sign", "demo-statement"] {
        let out = f.attest([sub, "--help"]);
        out.ok();
        assert!(
            out.stdout.contains("Example"),
            "attest {sub} --help: {out:#?}"
        );
        assert!(
            out.stdout.contains(&format!("attest {sub}")),
            "attest {sub} --help: {out:#?}"
        );
    }
    let out = f.verifier(["envelope", "--help"]);
    out.ok();
    assert!(out.stdout.contains("Example"), "{out:#?}");
    assert!(out.stdout.contains("verifier envelope --in"), "{out:#?}");
    for bin in [&bins().attest, &bins().verifier] {
        let out = run(bin, f.dir.path(), ["--help"]);
        out.ok();
        assert!(out.stdout.contains("Exit codes"), "{out:#?}");
        run(bin, f.dir.path(), ["--version"]).ok();
    }
}

// ---------------------------------------------------------------- provenance

const BUILDER: &str = "https://ci.acme.dev/builders/linux@v2";
const BUILDER_ANY_VERSION: &str = "https://ci.acme.dev/builders/linux";
const REPO: &str = "https://github.com/acme/app";
const COMMIT: &str = "4d329c75e7ec1725f7c9ce917a8799d408d06be3";
const EPOCH: &str = "1700000000";
const EPOCH_RFC3339: &str = "2023-11-14T22:13:20Z";
const SLSA_V1: &str = "https://slsa.dev/provenance/v1";

/// A GitHub Actions job building acme/app at tag v1.4.2.
const GITHUB_ENV: &[(&str, &str)] = &[
    ("GITHUB_ACTIONS", "true"),
    ("GITHUB_SERVER_URL", "https://github.com"),
    ("GITHUB_REPOSITORY", "acme/app"),
    ("GITHUB_REF", "refs/tags/v1.4.2"),
    ("GITHUB_SHA", COMMIT),
    (
        "GITHUB_WORKFLOW_REF",
        "acme/app/.github/workflows/release.yml@refs/tags/v1.4.2",
    ),
    ("GITHUB_EVENT_NAME", "push"),
    ("GITHUB_REPOSITORY_ID", "42"),
    ("GITHUB_REPOSITORY_OWNER_ID", "7"),
    ("RUNNER_ENVIRONMENT", "github-hosted"),
    ("GITHUB_RUN_ID", "1001"),
    ("GITHUB_RUN_ATTEMPT", "2"),
    ("SOURCE_DATE_EPOCH", EPOCH),
];

impl Fixture {
    /// `attest` with exactly `envs` from the CI environment.
    fn attest_env<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(
        &self,
        args: I,
        envs: &[(&str, &str)],
    ) -> Out {
        run_env(&bins().attest, self.dir.path(), args, envs)
    }

    /// The fixture plus `tag.json` (provenance of app.tar.gz built by
    /// BUILDER from REPO at tag v1.4.2) and `main.json` (the same from
    /// branch main), both signed by the builder key.
    fn with_provenance() -> Self {
        let f = Self::new();
        for (name, git_ref) in [("tag", "refs/tags/v1.4.2"), ("main", "refs/heads/main")] {
            f.attest_env(
                [
                    "provenance",
                    "--subject",
                    "app.tar.gz",
                    "--builder-id",
                    BUILDER,
                    "--source-uri",
                    REPO,
                    "--source-ref",
                    git_ref,
                    "--source-commit",
                    COMMIT,
                    "-o",
                    &format!("{name}.statement.json"),
                ],
                &[("SOURCE_DATE_EPOCH", EPOCH)],
            )
            .ok();
            f.attest([
                "sign",
                "--key",
                "builder.key",
                "--in",
                &format!("{name}.statement.json"),
                "-o",
                &format!("{name}.json"),
            ])
            .ok();
        }
        f
    }

    /// `verifier provenance --in FILE` with default expectations (the
    /// builder key, app.tar.gz, any version of the builder, the repository),
    /// each replaced by a flag of `set` with the same name (an empty value
    /// drops the flag; `--digest` replaces `--artifact`), then `extra`.
    fn verify_prov(&self, file: &str, set: &[(&str, &str)], extra: &[&str]) -> Out {
        let mut flags: Vec<(&str, &str)> = vec![
            ("--key", "builder.pub"),
            ("--artifact", "app.tar.gz"),
            ("--builder-id", BUILDER_ANY_VERSION),
            ("--source-uri", "github.com/acme/app"),
        ];
        for &(flag, value) in set {
            if flag == "--digest" {
                flags.retain(|(f, _)| *f != "--artifact");
            }
            flags.retain(|(f, _)| *f != flag);
            if !value.is_empty() {
                flags.push((flag, value));
            }
        }
        let mut args = vec!["provenance", "--in", file];
        for (flag, value) in flags {
            args.push(flag);
            // Several values in one flag, as `--key a.pub b.pub`.
            args.extend(value.split(' '));
        }
        args.extend_from_slice(extra);
        self.verifier(args)
    }
}

/// Exit 1, one `error:` line naming `check`, and a JSON report (stdout)
/// whose first failed check is `check`.
fn fails_check(out: &Out, check: &str) -> serde_json::Value {
    out.fails_one_line(1, "verification failed");
    assert!(out.stderr.contains(&format!(": {check}: ")), "{out:#?}");
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["verified"], false, "{report}");
    let checks = report["checks"].as_array().unwrap();
    let first_failed = checks.iter().find(|c| c["passed"] == false).unwrap();
    assert_eq!(first_failed["name"], check, "{report}");
    assert!(
        first_failed["reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty())
    );
    report
}

fn check_names(report: &serde_json::Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn attest_provenance_is_reproducible_byte_for_byte() {
    let f = Fixture::new();
    fs::create_dir_all(f.path("dist/sub")).unwrap();
    f.write("dist/app", b"binary");
    f.write("dist/sub/lib.so", b"library");
    let args = [
        "provenance",
        "--subject",
        "app.tar.gz",
        "--subject",
        "dist",
        "--builder-id",
        BUILDER,
        "--source-uri",
        REPO,
        "--source-ref",
        "refs/heads/main",
        "--source-commit",
        COMMIT,
        "--invocation-id",
        "https://ci.acme.dev/runs/17",
    ];
    let epoch = [("SOURCE_DATE_EPOCH", EPOCH)];
    let first = f.attest_env(args, &epoch);
    first.ok();
    assert!(first.stderr.is_empty(), "{first:#?}");
    let second = f.attest_env(args, &epoch);
    second.ok();
    assert_eq!(first.stdout.as_bytes(), second.stdout.as_bytes());
    // -o writes the same bytes.
    let mut to_file = args.to_vec();
    to_file.extend(["-o", "provenance.json"]);
    f.attest_env(&to_file, &epoch).ok();
    assert_eq!(f.read("provenance.json"), first.stdout.as_bytes());

    // The library's compact JSON, unchanged (no trailing newline).
    let st = Statement::from_json(first.stdout.as_bytes()).unwrap();
    assert_eq!(st.to_json().unwrap(), first.stdout.as_bytes());
    assert_eq!(st.predicate_type(), SLSA_V1);
    let subjects: Vec<(Option<&str>, Option<&str>)> = st
        .subject()
        .iter()
        .map(|s| (s.name.as_deref(), s.digest.get("sha256")))
        .collect();
    let file = hash_file(DigestAlgorithm::Sha256, f.path("app.tar.gz")).unwrap();
    let tree = hash_tree(f.path("dist")).unwrap();
    assert_eq!(
        subjects,
        [
            (Some("app.tar.gz"), Some(file.hex().as_str())),
            (Some("dist"), Some(tree.hex().as_str())),
        ]
    );
    let p = st.predicate_value().unwrap();
    let metadata = &p["runDetails"]["metadata"];
    assert_eq!(metadata["startedOn"], EPOCH_RFC3339);
    assert_eq!(metadata["finishedOn"], EPOCH_RFC3339);
    assert_eq!(metadata["invocationId"], "https://ci.acme.dev/runs/17");
    assert_eq!(p["runDetails"]["builder"]["id"], BUILDER);
    assert_eq!(
        p["buildDefinition"]["buildType"],
        custodia::provenance::GENERIC_BUILD_TYPE
    );
    let dep = &p["buildDefinition"]["resolvedDependencies"][0];
    assert_eq!(dep["uri"], format!("git+{REPO}@refs/heads/main"));
    assert_eq!(dep["digest"]["gitCommit"], COMMIT);

    // Another time, other bytes; no SOURCE_DATE_EPOCH: the clock.
    let later = f.attest_env(args, &[("SOURCE_DATE_EPOCH", "1700000060")]);
    later.ok();
    assert_ne!(later.stdout, first.stdout);
    let now = f.attest_env(args, &[]);
    now.ok();
    let now = Statement::from_json(now.stdout.as_bytes()).unwrap();
    assert_ne!(
        now.predicate_value().unwrap()["runDetails"]["metadata"]["startedOn"],
        EPOCH_RFC3339
    );

    // The bytes written are the bytes signed, and they verify.
    f.attest([
        "sign",
        "--key",
        "builder.key",
        "--in",
        "provenance.json",
        "-o",
        "provenance.intoto.json",
    ])
    .ok();
    let env = Envelope::from_json(&f.read("provenance.intoto.json")).unwrap();
    assert_eq!(env.payload(), f.read("provenance.json").as_slice());
    f.verify_prov("provenance.intoto.json", &[], &["--source-branch", "main"])
        .ok();
    f.verify_prov(
        "provenance.intoto.json",
        &[("--artifact", "dist")],
        &["--source-branch", "main"],
    )
    .ok();
}

#[test]
fn attest_provenance_from_env_reads_github_actions() {
    let f = Fixture::new();
    let args = [
        "provenance",
        "--subject",
        "app.tar.gz",
        "--builder-id",
        BUILDER,
        "--from-env",
    ];
    let out = f.attest_env(args, GITHUB_ENV);
    out.ok();
    // Reproducible from the environment too.
    assert_eq!(f.attest_env(args, GITHUB_ENV).stdout, out.stdout);
    let st = Statement::from_json(out.stdout.as_bytes()).unwrap();
    let p = st.predicate_value().unwrap();
    // The builder id is --builder-id's, not the runner's.
    assert_eq!(p["runDetails"]["builder"]["id"], BUILDER);
    let def = &p["buildDefinition"];
    assert_eq!(
        def["buildType"],
        custodia::provenance::GITHUB_ACTIONS_BUILD_TYPE
    );
    let workflow = &def["externalParameters"]["workflow"];
    assert_eq!(workflow["repository"], REPO);
    assert_eq!(workflow["ref"], "refs/tags/v1.4.2");
    assert_eq!(workflow["path"], ".github/workflows/release.yml");
    let dep = &def["resolvedDependencies"][0];
    assert_eq!(dep["uri"], format!("git+{REPO}@refs/tags/v1.4.2"));
    assert_eq!(dep["digest"]["gitCommit"], COMMIT);
    let github = &def["internalParameters"]["github"];
    assert_eq!(github["event_name"], "push");
    assert_eq!(github["repository_id"], "42");
    assert_eq!(github["runner_environment"], "github-hosted");
    let metadata = &p["runDetails"]["metadata"];
    assert_eq!(
        metadata["invocationId"],
        format!("{REPO}/actions/runs/1001/attempts/2")
    );
    assert_eq!(metadata["startedOn"], EPOCH_RFC3339);

    // Signed, it verifies against what the job was.
    f.write("gh.statement.json", out.stdout.as_bytes());
    f.attest([
        "sign",
        "--key",
        "builder.key",
        "--in",
        "gh.statement.json",
        "-o",
        "gh.json",
    ])
    .ok();
    f.verify_prov(
        "gh.json",
        &[("--builder-id", BUILDER)],
        &[
            "--source-versioned-tag",
            "v1.4",
            "--build-type",
            custodia::provenance::GITHUB_ACTIONS_BUILD_TYPE,
        ],
    )
    .ok();

    // Without --from-env the same variables are ignored.
    let out = f.attest_env(
        [
            "provenance",
            "--subject",
            "app.tar.gz",
            "--builder-id",
            BUILDER,
        ],
        GITHUB_ENV,
    );
    out.ok();
    let p = Statement::from_json(out.stdout.as_bytes())
        .unwrap()
        .predicate_value()
        .unwrap()
        .clone();
    assert_eq!(
        p["buildDefinition"]["buildType"],
        custodia::provenance::GENERIC_BUILD_TYPE
    );
    assert_eq!(
        p["buildDefinition"]["externalParameters"],
        serde_json::json!({})
    );
    assert!(p["runDetails"]["metadata"]["invocationId"].is_null());
}

#[test]
fn attest_provenance_flags_override_the_environment() {
    let f = Fixture::new();
    let base = [
        "provenance",
        "--subject",
        "app.tar.gz",
        "--builder-id",
        BUILDER,
        "--from-env",
    ];
    let with = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        let out = f.attest_env(args, GITHUB_ENV);
        out.ok();
        Statement::from_json(out.stdout.as_bytes())
            .unwrap()
            .predicate_value()
            .unwrap()
            .clone()
    };
    let other_commit = "0123456789abcdef0123456789abcdef01234567";
    let p = with(&[
        "--source-ref",
        "refs/heads/hotfix",
        "--source-commit",
        other_commit,
        "--build-type",
        "https://ci.acme.dev/buildtypes/release/v1",
        "--invocation-id",
        "run-9",
    ]);
    let def = &p["buildDefinition"];
    assert_eq!(
        def["buildType"],
        "https://ci.acme.dev/buildtypes/release/v1"
    );
    let dep = &def["resolvedDependencies"][0];
    assert_eq!(dep["uri"], format!("git+{REPO}@refs/heads/hotfix"));
    assert_eq!(dep["digest"]["gitCommit"], other_commit);
    assert_eq!(p["runDetails"]["metadata"]["invocationId"], "run-9");

    // The same repository (spelled differently) keeps the job's ref and commit ...
    let p = with(&["--source-uri", "https://github.com/acme/app.git"]);
    let dep = &p["buildDefinition"]["resolvedDependencies"][0];
    assert_eq!(
        dep["uri"],
        "git+https://github.com/acme/app.git@refs/tags/v1.4.2"
    );
    assert_eq!(dep["digest"]["gitCommit"], COMMIT);
    // ... another repository does not get them.
    let p = with(&["--source-uri", "https://github.com/acme/other"]);
    let dep = &p["buildDefinition"]["resolvedDependencies"][0];
    assert_eq!(dep["uri"], "git+https://github.com/acme/other");
    assert!(dep["digest"]["gitCommit"].is_null(), "{dep}");
}

#[test]
fn attest_provenance_from_env_reads_gitlab_and_custodia_variables() {
    let f = Fixture::new();
    let args = [
        "provenance",
        "--subject",
        "app.tar.gz",
        "--builder-id",
        BUILDER,
        "--from-env",
    ];
    let out = f.attest_env(
        args,
        &[
            ("GITLAB_CI", "true"),
            ("CI_PROJECT_URL", "https://gitlab.com/acme/app"),
            ("CI_COMMIT_SHA", COMMIT),
            ("CI_COMMIT_BRANCH", "main"),
            ("CI_JOB_URL", "https://gitlab.com/acme/app/-/jobs/5"),
            ("SOURCE_DATE_EPOCH", EPOCH),
        ],
    );
    out.ok();
    let p = Statement::from_json(out.stdout.as_bytes())
        .unwrap()
        .predicate_value()
        .unwrap()
        .clone();
    assert_eq!(p["runDetails"]["builder"]["id"], BUILDER);
    assert_eq!(
        p["buildDefinition"]["buildType"],
        custodia::provenance::GITLAB_CI_BUILD_TYPE
    );
    assert_eq!(
        p["buildDefinition"]["resolvedDependencies"][0]["uri"],
        "git+https://gitlab.com/acme/app@refs/heads/main"
    );
    assert_eq!(
        p["runDetails"]["metadata"]["invocationId"],
        "https://gitlab.com/acme/app/-/jobs/5"
    );

    let out = f.attest_env(
        args,
        &[
            ("CUSTODIA_SOURCE_URI", REPO),
            ("CUSTODIA_SOURCE_REF", "refs/tags/v2.0.0"),
            ("CUSTODIA_SOURCE_COMMIT", COMMIT),
            ("CUSTODIA_INVOCATION_ID", "local-1"),
            ("CUSTODIA_BUILDER_ID", "https://ignored.example/builder"),
        ],
    );
    out.ok();
    let p = Statement::from_json(out.stdout.as_bytes())
        .unwrap()
        .predicate_value()
        .unwrap()
        .clone();
    assert_eq!(p["runDetails"]["builder"]["id"], BUILDER);
    let dep = &p["buildDefinition"]["resolvedDependencies"][0];
    assert_eq!(dep["uri"], format!("git+{REPO}@refs/tags/v2.0.0"));
    assert_eq!(dep["digest"]["gitCommit"], COMMIT);
    assert_eq!(p["runDetails"]["metadata"]["invocationId"], "local-1");
}

#[test]
fn attest_provenance_errors_exit_2() {
    let f = Fixture::new();
    let prov = |extra: &[&str], envs: &[(&str, &str)]| {
        let mut args = vec!["provenance", "--builder-id", BUILDER];
        args.extend_from_slice(extra);
        f.attest_env(args, envs)
    };
    prov(&["--subject", "missing.bin"], &[]).fails_one_line(2, "missing.bin");
    prov(
        &["--subject", "app.tar.gz", "--subject", "missing.bin"],
        &[],
    )
    .fails_one_line(2, "missing.bin");
    prov(
        &["--subject", "app.tar.gz"],
        &[("SOURCE_DATE_EPOCH", "yesterday")],
    )
    .fails_one_line(2, "SOURCE_DATE_EPOCH");
    prov(&["--subject", "app.tar.gz"], &[("SOURCE_DATE_EPOCH", "-5")])
        .fails_one_line(2, "SOURCE_DATE_EPOCH");
    prov(
        &["--subject", "app.tar.gz", "--source-ref", "refs/heads/main"],
        &[],
    )
    .fails_one_line(2, "--source-ref needs --source-uri");
    prov(
        &[
            "--subject",
            "app.tar.gz",
            "--source-commit",
            COMMIT,
            "--from-env",
        ],
        &[],
    )
    .fails_one_line(2, "--source-commit needs --source-uri");
    for bad in ["xyz", &COMMIT.to_uppercase(), &COMMIT[..39]] {
        prov(
            &[
                "--subject",
                "app.tar.gz",
                "--source-uri",
                REPO,
                "--source-commit",
                bad,
            ],
            &[],
        )
        .fails_one_line(2, "--source-commit");
    }
    let out = prov(
        &["--subject", "app.tar.gz", "-o", "missing-dir/p.json"],
        &[],
    );
    out.fails_one_line(2, "missing-dir/p.json");
    #[cfg(unix)]
    {
        fs::create_dir(f.path("tree")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", f.path("tree/link")).unwrap();
        prov(&["--subject", "tree"], &[]).fails_one_line(2, "symbolic link");
    }
    // Usage errors.
    prov(&[], &[]).fails(2, "--subject");
    f.attest(["provenance", "--subject", "app.tar.gz"])
        .fails(2, "--builder-id");
    for flag in [
        "--builder-id",
        "--source-uri",
        "--source-ref",
        "--build-type",
        "--invocation-id",
    ] {
        prov(&["--subject", "app.tar.gz", flag, ""], &[]).fails(2, flag);
    }
    assert!(!f.path("p.json").exists());
}

#[test]
fn verifier_provenance_verifies_builder_source_and_ref() {
    let f = Fixture::with_provenance();
    let out = f.verify_prov("tag.json", &[], &[]);
    out.ok();
    for check in [
        "signature[0]",
        "threshold",
        "payload-type",
        "statement",
        "predicate-type",
        "predicate",
        "subject",
        "builder-id",
        "source-repository",
    ] {
        assert!(
            out.stdout.contains(&format!("PASS  {check}: ")),
            "{check}: {out:#?}"
        );
    }
    assert!(out.stdout.contains("\nVERIFIED\n"), "{out:#?}");
    assert!(out.stdout.contains(BUILDER), "{out:#?}");
    assert!(out.stdout.contains(COMMIT), "{out:#?}");
    assert!(out.stderr.is_empty(), "{out:#?}");

    let out = f.verify_prov(
        "tag.json",
        &[],
        &[
            "--source-versioned-tag",
            "v1.4",
            "--build-type",
            custodia::provenance::GENERIC_BUILD_TYPE,
            "--format",
            "json",
        ],
    );
    out.ok();
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["verified"], true);
    assert_eq!(
        check_names(&report),
        [
            "signature[0]",
            "threshold",
            "payload-type",
            "statement",
            "predicate-type",
            "predicate",
            "subject",
            "builder-id",
            "source-repository",
            "source-ref",
            "build-type",
        ]
    );
    assert!(
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["passed"] == true && c["reason"].is_string())
    );

    // Other spellings of the same expectations.
    let digest = hash_file(DigestAlgorithm::Sha256, f.path("app.tar.gz"))
        .unwrap()
        .to_string();
    let sha512 = hash_file(DigestAlgorithm::Sha512, f.path("app.tar.gz"))
        .unwrap()
        .to_string();
    for (set, extra) in [
        (vec![("--digest", digest.as_str())], vec![]),
        (vec![("--builder-id", BUILDER)], vec![]),
        (
            vec![(
                "--builder-id",
                "https://other.example/builder https://ci.acme.dev/builders/linux@v2",
            )],
            vec![],
        ),
        (
            vec![("--source-uri", "https://github.com/acme/app.git")],
            vec![],
        ),
        (
            vec![("--source-uri", "git+https://github.com/acme/app")],
            vec![],
        ),
        (vec![], vec!["--source-tag", "v1.4.2"]),
        (vec![], vec!["--source-versioned-tag", "v1"]),
        (vec![], vec!["--source-versioned-tag", "v1.4.2"]),
        (vec![("--key", "other.pub builder.pub")], vec![]),
    ] {
        f.verify_prov("tag.json", &set, &extra).ok();
    }
    f.verify_prov("main.json", &[], &["--source-branch", "main"])
        .ok();
    // A digest the subject does not record is not a match.
    fails_check(
        &f.verify_prov(
            "tag.json",
            &[("--digest", sha512.as_str())],
            &["--format", "json"],
        ),
        "subject",
    );

    // Two signers, threshold 2.
    f.attest([
        "sign",
        "--key",
        "other.key",
        "--in",
        "tag.json",
        "--append",
        "-o",
        "tag2.json",
    ])
    .ok();
    f.verify_prov(
        "tag2.json",
        &[("--key", "builder.pub other.pub")],
        &["--threshold", "2"],
    )
    .ok();
    fails_check(
        &f.verify_prov(
            "tag.json",
            &[("--key", "builder.pub other.pub")],
            &["--threshold", "2", "--format", "json"],
        ),
        "threshold",
    );
}

#[test]
fn verifier_provenance_each_failure_kind_exits_1() {
    let f = Fixture::with_provenance();
    f.write("rebuilt.tar.gz", b"the rebuilt tarball\n");
    let other = DigestAlgorithm::Sha256.hash(b"something else").to_string();
    // (envelope, flags replacing the defaults, extra flags, the failing check)
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<&'a str>, &'a str);
    let cases: Vec<Case> = vec![
        (
            "tag.json",
            vec![("--builder-id", "https://evil.example/builders/linux")],
            vec![],
            "builder-id",
        ),
        // Another version of the trusted builder, when a version is pinned.
        (
            "tag.json",
            vec![("--builder-id", "https://ci.acme.dev/builders/linux@v3")],
            vec![],
            "builder-id",
        ),
        // A prefix is not the builder.
        (
            "tag.json",
            vec![("--builder-id", "https://ci.acme.dev/builders/lin")],
            vec![],
            "builder-id",
        ),
        (
            "tag.json",
            vec![("--source-uri", "github.com/evil/app")],
            vec![],
            "source-repository",
        ),
        (
            "tag.json",
            vec![("--source-uri", "github.com/acme/app-fork")],
            vec![],
            "source-repository",
        ),
        (
            "tag.json",
            vec![],
            vec!["--source-branch", "main"],
            "source-ref",
        ),
        (
            "main.json",
            vec![],
            vec!["--source-branch", "dev"],
            "source-ref",
        ),
        (
            "main.json",
            vec![],
            vec!["--source-tag", "main"],
            "source-ref",
        ),
        (
            "tag.json",
            vec![],
            vec!["--source-tag", "v1.4.3"],
            "source-ref",
        ),
        (
            "tag.json",
            vec![],
            vec!["--source-versioned-tag", "v1.5"],
            "source-ref",
        ),
        (
            "main.json",
            vec![],
            vec!["--source-versioned-tag", "v1"],
            "source-ref",
        ),
        (
            "tag.json",
            vec![("--artifact", "rebuilt.tar.gz")],
            vec![],
            "subject",
        ),
        (
            "tag.json",
            vec![("--digest", other.as_str())],
            vec![],
            "subject",
        ),
        (
            "tag.json",
            vec![("--key", "other.pub")],
            vec![],
            "signature[0]",
        ),
        (
            "tag.json",
            vec![],
            vec![
                "--build-type",
                custodia::provenance::GITHUB_ACTIONS_BUILD_TYPE,
            ],
            "build-type",
        ),
        (
            "tag.json",
            vec![],
            vec!["--build-input", "environment=production"],
            "input:environment",
        ),
    ];
    for (file, set, mut extra, check) in cases {
        extra.extend(["--format", "json"]);
        let out = f.verify_prov(file, &set, &extra);
        let report = fails_check(&out, check);
        if check == "signature[0]" {
            // Nothing the statement says is looked at before a trusted signature.
            assert!(
                !check_names(&report).iter().any(|n| n == "builder-id"),
                "{report}"
            );
        }
        // The text report says the same.
        let extra: Vec<&str> = extra
            .into_iter()
            .filter(|a| *a != "--format" && *a != "json")
            .collect();
        let text = f.verify_prov(file, &set, &extra);
        text.fails_one_line(1, check);
        assert!(
            text.stdout.contains(&format!("FAIL  {check}: ")),
            "{text:#?}"
        );
        assert!(text.stdout.ends_with("NOT VERIFIED\n"), "{text:#?}");
    }
}

#[test]
fn verifier_provenance_malformed_input() {
    let f = Fixture::with_provenance();
    // Not a DSSE envelope at all: exit 2, nothing on stdout.
    let mut inputs = malformed_inputs();
    inputs.push(("truncated-envelope.json", {
        let whole = f.read("tag.json");
        whole[..whole.len() / 2].to_vec()
    }));
    for (name, bytes) in inputs {
        f.write(name, &bytes);
        for format in ["text", "json"] {
            let out = f.verify_prov(name, &[], &["--format", format]);
            out.fails_one_line(2, name);
            assert!(out.stdout.is_empty(), "{out:#?}");
        }
    }
    f.verify_prov("missing.json", &[], &[])
        .fails_one_line(2, "missing.json");
    fs::create_dir(f.path("a-dir")).unwrap();
    f.verify_prov("a-dir", &[], &[]).fails_one_line(2, "a-dir");
    f.verify_prov("tag.json", &[("--artifact", "missing.tar.gz")], &[])
        .fails_one_line(2, "missing.tar.gz");
    f.verify_prov("tag.json", &[("--key", "builder.key")], &[])
        .fails_one_line(2, "builder.key");
    // The unsigned statement: exit 2, with a hint.
    f.verify_prov("tag.statement.json", &[], &[])
        .fails_one_line(2, "unsigned in-toto statement");

    // Signed by a trusted key, but not provenance: exit 1, named checks.
    let json = ["--format", "json"];
    fails_check(
        &f.verify_prov("envelope.json", &[], &json),
        "predicate-type",
    );
    f.attest([
        "demo-statement",
        "--subject",
        "app.tar.gz",
        "--predicate-type",
        SLSA_V1,
        "-o",
        "fake-slsa.statement.json",
    ])
    .ok();
    f.attest([
        "sign",
        "--key",
        "builder.key",
        "--in",
        "fake-slsa.statement.json",
        "-o",
        "fake-slsa.json",
    ])
    .ok();
    fails_check(&f.verify_prov("fake-slsa.json", &[], &json), "predicate");
    f.attest([
        "sign",
        "--key",
        "builder.key",
        "--in",
        "tag.statement.json",
        "--payload-type",
        "application/json",
        "-o",
        "retyped.json",
    ])
    .ok();
    fails_check(&f.verify_prov("retyped.json", &[], &json), "payload-type");
    let key =
        custodia::keys::PrivateKey::from_pem(&String::from_utf8(f.read("builder.key")).unwrap())
            .unwrap();
    for (name, payload) in [
        ("not-a-statement.json", b"{}".to_vec()),
        ("garbage-payload.json", b"\xff\xfe{{{".to_vec()),
        ("truncated-payload.json", {
            let whole = f.read("tag.statement.json");
            whole[..whole.len() - 1].to_vec()
        }),
    ] {
        let env = Envelope::sign(PAYLOAD_TYPE, payload, &key).unwrap();
        f.write(name, &env.to_json().unwrap());
        fails_check(&f.verify_prov(name, &[], &json), "statement");
    }
    // A tampered statement fails its signature.
    let mut wire: serde_json::Value = serde_json::from_slice(&f.read("tag.json")).unwrap();
    let tampered = String::from_utf8(f.read("tag.statement.json"))
        .unwrap()
        .replace("acme/app", "evil/app");
    wire["payload"] = base64::engine::general_purpose::STANDARD
        .encode(tampered)
        .into();
    f.write("tampered.json", wire.to_string().as_bytes());
    fails_check(&f.verify_prov("tampered.json", &[], &json), "signature[0]");
}

#[test]
fn verifier_provenance_usage_errors_exit_2() {
    let f = Fixture::with_provenance();
    f.verify_prov("tag.json", &[("--source-uri", "")], &[])
        .fails(2, "--source-uri");
    f.verify_prov("tag.json", &[("--builder-id", "")], &[])
        .fails(2, "--builder-id");
    f.verify_prov("tag.json", &[("--key", "")], &[])
        .fails(2, "--key");
    f.verify_prov("tag.json", &[("--artifact", "")], &[])
        .fails(2, "--artifact");
    let digest = hash_file(DigestAlgorithm::Sha256, f.path("app.tar.gz"))
        .unwrap()
        .to_string();
    f.verify_prov("tag.json", &[], &["--digest", &digest])
        .fails(2, "cannot be used with");
    f.verify_prov(
        "tag.json",
        &[],
        &["--source-branch", "main", "--source-tag", "v1.4.2"],
    )
    .fails(2, "cannot be used with");
    f.verify_prov(
        "tag.json",
        &[],
        &["--source-tag", "v1.4.2", "--source-versioned-tag", "v1"],
    )
    .fails(2, "cannot be used with");
    for bad in ["noequals", "=value"] {
        f.verify_prov("tag.json", &[], &["--build-input", bad])
            .fails(2, "NAME=VALUE");
    }
    f.verify_prov("tag.json", &[("--digest", "sha256:abc")], &[])
        .fails(2, "--digest");
    f.verify_prov("tag.json", &[], &["--threshold", "0"])
        .fails(2, "at least 1");
    f.verify_prov("tag.json", &[], &["--format", "xml"])
        .fails(2, "--format");
    f.verify_prov("tag.json", &[], &["--source-uri", "again"])
        .fails(2, "--source-uri");
    f.verify_prov("tag.json", &[], &["--source-branch", ""])
        .fails(2, "--source-branch");
    f.verifier(["provenance", "--key", "builder.pub"])
        .fails(2, "--in");
}

#[test]
fn verifier_provenance_escapes_control_characters() {
    let f = Fixture::new();
    // A trusted signer whose provenance carries a newline and a terminal
    // escape in the builder id and the source.
    let evil = "https://ci.acme.dev/b\nPASS  builder-id: forged\u{1b}[2J";
    f.attest_env(
        [
            "provenance",
            "--subject",
            "app.tar.gz",
            "--builder-id",
            evil,
            "--source-uri",
            "https://github.com/acme/app\u{1b}[31m",
            "-o",
            "evil.statement.json",
        ],
        &[("SOURCE_DATE_EPOCH", EPOCH)],
    )
    .ok();
    f.attest([
        "sign",
        "--key",
        "builder.key",
        "--in",
        "evil.statement.json",
        "-o",
        "evil.json",
    ])
    .ok();
    let out = f.verify_prov("evil.json", &[], &[]);
    out.fails_one_line(1, "builder-id");
    assert!(
        !out.stdout.contains('\u{1b}') && !out.stderr.contains('\u{1b}'),
        "{out:#?}"
    );
    assert!(
        !out.stdout.contains("\nPASS  builder-id: forged"),
        "{out:#?}"
    );
    // Trusted exactly, it is still refused (#14): a builder id or source
    // with control characters is not a URI, and the refusal is escaped too.
    let out = f.verify_prov(
        "evil.json",
        &[
            ("--builder-id", ""),
            ("--source-uri", "https://github.com/acme/app\u{1b}[31m"),
        ],
        &["--builder-id", evil],
    );
    out.fails_one_line(1, "builder-id");
    assert!(
        !out.stdout.contains('\u{1b}') && !out.stderr.contains('\u{1b}'),
        "{out:#?}"
    );
    assert!(
        !out.stdout.contains("\nPASS  builder-id: forged"),
        "{out:#?}"
    );
}

#[test]
fn provenance_help_shows_examples() {
    let f = Fixture::new();
    let out = f.attest(["provenance", "--help"]);
    out.ok();
    for needle in [
        "Example",
        "attest provenance --subject",
        "SOURCE_DATE_EPOCH",
        "--from-env",
        "GITHUB_REPOSITORY",
        "CI_PROJECT_URL",
        "CUSTODIA_SOURCE_URI",
    ] {
        assert!(out.stdout.contains(needle), "{needle}: {out:#?}");
    }
    let out = f.verifier(["provenance", "--help"]);
    out.ok();
    for needle in [
        "Example",
        "verifier provenance --in",
        "--source-versioned-tag",
        "Exit codes",
    ] {
        assert!(out.stdout.contains(needle), "{needle}: {out:#?}");
    }
}

#[test]
fn sbom_writes_reproducible_documents_and_statements() {
    let b = bins();
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lock = root.join("Cargo.lock");
    let manifest = root.join("Cargo.toml");
    let epoch = [("SOURCE_DATE_EPOCH", "1700000000")];
    for format in ["cyclonedx-json", "cyclonedx-1.5-json", "spdx-json"] {
        let args = |out: &str| {
            vec![
                "sbom".to_owned(),
                "--lockfile".into(),
                lock.display().to_string(),
                "--manifest".into(),
                manifest.display().to_string(),
                "--format".into(),
                format.into(),
                "-o".into(),
                out.into(),
            ]
        };
        run_env(&b.attest, dir.path(), args("a.json"), &epoch).ok();
        run_env(&b.attest, dir.path(), args("b.json"), &epoch).ok();
        let a = std::fs::read(dir.path().join("a.json")).unwrap();
        assert_eq!(
            a,
            std::fs::read(dir.path().join("b.json")).unwrap(),
            "{format}: same inputs, same bytes"
        );
        let doc: serde_json::Value = serde_json::from_slice(&a).unwrap();
        let packages = if format.starts_with("cyclonedx") {
            &doc["components"]
        } else {
            &doc["packages"]
        };
        assert!(
            packages.as_array().unwrap().len() > 50,
            "{format}: every locked package"
        );
    }
    // As a statement about an artifact, then signed and verified as an SBOM attestation.
    std::fs::write(dir.path().join("app"), b"the app").unwrap();
    run(
        &b.attest,
        dir.path(),
        ["keygen", "--algorithm", "ed25519", "--out", "k"],
    )
    .ok();
    let lock_s = lock.display().to_string();
    run_env(
        &b.attest,
        dir.path(),
        [
            "sbom",
            "--lockfile",
            &lock_s,
            "--format",
            "cyclonedx-json",
            "--subject",
            "app",
            "-o",
            "st.json",
        ],
        &epoch,
    )
    .ok();
    run(
        &b.attest,
        dir.path(),
        [
            "sign", "--key", "k.key", "--in", "st.json", "-o", "env.json",
        ],
    )
    .ok();
    let out = run(
        &b.verifier,
        dir.path(),
        [
            "envelope",
            "--in",
            "env.json",
            "--key",
            "k.pub",
            "--artifact",
            "app",
            "--predicate-type",
            "https://cyclonedx.org/bom",
        ],
    );
    out.ok();
    // Bad inputs: exit 2 with a reason, never a panic.
    std::fs::write(dir.path().join("bad.lock"), "not = [toml").unwrap();
    for args in [
        vec!["sbom", "--lockfile", "bad.lock", "--format", "spdx-json"],
        vec![
            "sbom",
            "--lockfile",
            "missing.lock",
            "--format",
            "spdx-json",
        ],
        vec!["sbom", "--lockfile", "bad.lock", "--format", "xml"],
    ] {
        let out = run(&b.attest, dir.path(), args.clone());
        assert_eq!(out.code, 2, "{args:?}: {out:#?}");
    }
}

// ---------------------------------------------------------------- markdown

/// The Markdown table rows (`| mark | name | reason |`) of a report.
fn markdown_rows(markdown: &str) -> Vec<&str> {
    markdown
        .lines()
        .filter(|l| l.starts_with("| ✅") || l.starts_with("| ❌"))
        .collect()
}

#[test]
fn verifier_envelope_markdown_is_a_step_summary() {
    let f = Fixture::new();
    let out = f.verify_artifact("envelope.json", &["--format", "markdown"]);
    out.ok();
    assert!(
        out.stdout
            .starts_with("## ✅ DSSE envelope envelope.json verified"),
        "{out:#?}"
    );
    assert!(out.stdout.contains("| | Check | Reason |"), "{out:#?}");
    // One row per check, the same checks as the JSON report.
    let rows = markdown_rows(&out.stdout);
    assert_eq!(rows.len(), 6, "{out:#?}");
    assert!(rows.iter().any(|r| r.contains("| predicate-type |")));

    // Failing: a heading that says so, a red row, exit 1 with the reason.
    let out = f.verify_envelope(
        "envelope.json",
        &[
            "--artifact",
            "app.tar.gz",
            "--predicate-type",
            "https://example.com/other/v1",
            "--format",
            "markdown",
        ],
    );
    out.fails_one_line(1, "predicate-type");
    assert!(out.stdout.starts_with("## ❌ DSSE envelope"), "{out:#?}");
    assert!(
        markdown_rows(&out.stdout)
            .iter()
            .any(|r| r.starts_with("| ❌ | predicate-type |")),
        "{out:#?}"
    );
}

#[test]
fn verifier_markdown_cannot_be_forged_by_the_envelope() {
    let f = Fixture::new();
    // A payload type that tries to close the table and add a passing row.
    let evil_type = "text/plain |\n| ✅ | subject | forged |\n## ✅ verified";
    f.attest([
        "sign",
        "--key",
        "builder.key",
        "--in",
        "statement.json",
        "--payload-type",
        evil_type,
        "-o",
        "evil.json",
    ])
    .ok();
    let out = f.verify_artifact("evil.json", &["--format", "markdown"]);
    out.fails_one_line(1, "payload-type");
    // Every line is either the heading, blank, the table head or one row
    // per check: the newline and pipes from the envelope stay inside a cell.
    let rows = markdown_rows(&out.stdout);
    assert!(
        rows.iter().all(|r| r.matches(" | ").count() == 2),
        "{out:#?}"
    );
    assert!(!out.stdout.contains("| ✅ | subject |"), "{out:#?}");
    assert_eq!(out.stdout.matches("\n## ").count(), 0, "{out:#?}");
}

#[test]
fn verifier_provenance_markdown_is_a_step_summary() {
    let f = Fixture::with_provenance();
    let out = f.verify_prov("tag.json", &[], &["--format", "markdown"]);
    out.ok();
    assert!(
        out.stdout
            .starts_with("## ✅ SLSA provenance tag.json verified"),
        "{out:#?}"
    );
    assert!(
        markdown_rows(&out.stdout)
            .iter()
            .all(|r| r.starts_with("| ✅")),
        "{out:#?}"
    );
    let out = f.verify_prov(
        "tag.json",
        &[("--builder-id", "https://evil.example/builder")],
        &["--format", "markdown"],
    );
    assert_eq!(out.code, 1, "{out:#?}");
    assert!(out.stdout.starts_with("## ❌ SLSA provenance"), "{out:#?}");
}

// ---------------------------------------------------------------- progress

#[test]
fn progress_bar_only_when_stderr_is_a_terminal() {
    let f = Fixture::new();
    // Large enough for a bar (64 MiB and up); sparse, so cheap to make.
    let big = f.path("big.bin");
    fs::File::create(&big).unwrap().set_len(80 << 20).unwrap();
    // Not a terminal (a pipe, as in CI): nothing but the digest.
    let out = f.attest(["digest", "big.bin"]);
    out.ok();
    assert!(out.stdout.starts_with("sha256:"), "{out:#?}");
    // A terminal: `script` gives the command a pseudo-terminal.
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("SKIPPED: util-linux `script` is not installed");
        return;
    }
    let command = format!("{} digest big.bin", bins().attest.display());
    let tty = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(f.dir.path())
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&tty.stdout);
    assert!(tty.status.success(), "{shown}");
    assert!(shown.contains("hashing big.bin"), "{shown}");
    assert!(shown.contains("80.00 MiB"), "{shown}");
    // The digest is the same with or without the bar.
    assert!(shown.contains(out.stdout.trim()), "{shown}");
}
