//! End-to-end promotion on the command line: `attest keygen`, `provenance`,
//! `sign`, `store-put`, `approve`, `promote`, `incident`, `rollback`, then
//! `verifier chain` and `verifier dora`, all in a temp dir, the way a CI
//! pipeline would run them.
//!
//! Like tests/cli.rs, the first test builds the examples once with
//! `cargo build --example attest --example verifier` and takes the
//! executables' paths from cargo's JSON messages. Every run checks that
//! the process exited normally and that nothing mentions "panicked".
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use files::copy_dir;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use custodia::time::Timestamp;
use tempfile::TempDir;

const BUILDER_ID: &str = "https://ci.acme.example/builders/release";
const SOURCE: &str = "https://github.com/acme/app";
const SLSA_V1: &str = "https://slsa.dev/provenance/v1";
const TEST_RESULT: &str = "https://in-toto.io/attestation/test-result/v0.1";
const VULNS: &str = "https://in-toto.io/attestation/vulns/v0.2";
const APPROVAL: &str = "https://custodia.dev/attestation/approval/v1";
const T0: i64 = 1_700_000_000;
const HOUR: i64 = 3600;

mod cli_support;
mod files;
use cli_support::{Out, WorkDir, bins};

/// RFC 3339 for `T0 + offset` seconds.
fn at(offset: i64) -> String {
    Timestamp::from_unix(T0 + offset).to_string()
}

/// A temp dir holding keys, a dev -> staging -> prod policy naming them,
/// two builds of the app, and the envelope store `store/`.
struct Pipeline {
    dir: TempDir,
}

impl WorkDir for Pipeline {
    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn source_date_epoch(&self) -> Option<i64> {
        Some(T0)
    }
}

impl Pipeline {
    fn new() -> Self {
        let p = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        for (name, algorithm) in [
            ("builder", "ed25519"),
            ("tester", "ed25519"),
            ("scanner", "ecdsa-p256"),
            ("alice", "ed25519"),
            ("bob", "ecdsa-p256"),
            ("promoter", "ed25519"),
        ] {
            p.attest(["keygen", "--algorithm", algorithm, "--out", name])
                .ok_quiet();
        }
        p.write("policy.json", p.policy_json().as_bytes());
        p.write("app-v1.tar.gz", b"app release 1\n");
        p.write("app-v2.tar.gz", b"app release 2\n");
        p
    }

    fn policy_json(&self) -> String {
        let key = |identity: &str, roles: &[&str], file: &str| {
            let pem = String::from_utf8(self.read(&format!("{file}.pub"))).unwrap();
            serde_json::json!({"identity": identity, "roles": roles, "publicKey": pem})
        };
        serde_json::json!({
            "version": 1,
            "keys": [
                key("ci", &["builder"], "builder"),
                key("test-runner", &["tester"], "tester"),
                key("scanner", &["scanner"], "scanner"),
                key("alice", &["approver"], "alice"),
                key("bob", &["approver"], "bob"),
                key("deployer", &["promoter", "operator"], "promoter"),
            ],
            "environments": [
                {"name": "dev", "requires": [
                    {"predicateType": SLSA_V1, "signerRole": "builder",
                     "conditions": {"builderIds": [BUILDER_ID], "sourceRepository": "github.com/acme/app"}}]},
                {"name": "staging", "requires": [
                    {"predicateType": SLSA_V1, "signerRole": "builder",
                     "conditions": {"builderIds": [BUILDER_ID]}},
                    {"predicateType": TEST_RESULT, "signerRole": "tester",
                     "conditions": {"testResult": "PASSED"}}]},
                {"name": "prod", "requires": [
                    {"predicateType": SLSA_V1, "signerRole": "builder",
                     "conditions": {"builderIds": [BUILDER_ID]}},
                    {"predicateType": TEST_RESULT, "signerRole": "tester",
                     "conditions": {"testResult": "PASSED"}},
                    {"predicateType": VULNS, "signerRole": "scanner",
                     "conditions": {"maxSeverity": "medium"}}],
                 "approvals": {"count": 2, "role": "approver"},
                 "emergency": {"approvals": 1}}
            ],
            "promotions": [{"from": "dev", "to": "staging"}, {"from": "staging", "to": "prod"}]
        })
        .to_string()
    }

    /// The sha256 of a file, as `attest digest` prints it.
    fn digest(&self, file: &str) -> String {
        let out = self.attest(["digest", file]);
        out.ok_quiet();
        out.stdout.split_whitespace().next().unwrap().to_owned()
    }

    /// Signs `statement` (a JSON file written here) with `key` and puts the
    /// envelope into the store; returns its store digest.
    fn sign_and_store(&self, statement: &str, key: &str) -> String {
        let envelope = format!("{statement}.intoto.json");
        self.attest([
            "sign",
            "--key",
            &format!("{key}.key"),
            "--in",
            statement,
            "-o",
            &envelope,
        ])
        .ok_quiet();
        let out = self.attest(["store-put", "--dir", "store", &envelope]);
        out.ok_quiet();
        let (digest, file) = out.stdout.trim().split_once("  ").unwrap();
        assert_eq!(file, envelope);
        digest.to_owned()
    }

    /// A hand-written in-toto statement about `artifact`.
    fn statement(
        &self,
        file: &str,
        artifact: &str,
        predicate_type: &str,
        predicate: serde_json::Value,
    ) {
        let digest = self.digest(artifact);
        let hex = digest.strip_prefix("sha256:").unwrap();
        let statement = serde_json::json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": artifact, "digest": {"sha256": hex}}],
            "predicateType": predicate_type,
            "predicate": predicate,
        });
        self.write(file, statement.to_string().as_bytes());
    }

    /// Provenance (`attest provenance` + `sign`), a passed test result and
    /// a scan with one low finding for `artifact`, all put into the store.
    fn build_evidence(&self, artifact: &str) {
        let stem = artifact.trim_end_matches(".tar.gz");
        let provenance = format!("{stem}.provenance.json");
        self.attest([
            "provenance",
            "--subject",
            artifact,
            "--builder-id",
            &format!("{BUILDER_ID}@v1"),
            "--source-uri",
            SOURCE,
            "--source-ref",
            "refs/heads/main",
            "-o",
            &provenance,
        ])
        .ok_quiet();
        self.sign_and_store(&provenance, "builder");

        let tests = format!("{stem}.tests.json");
        self.statement(
            &tests,
            artifact,
            TEST_RESULT,
            serde_json::json!({"result": "PASSED", "passedTests": ["unit", "integration"]}),
        );
        self.sign_and_store(&tests, "tester");

        let scan = format!("{stem}.scan.json");
        self.statement(
            &scan,
            artifact,
            VULNS,
            serde_json::json!({"scanner": {"uri": "pkg:github/aquasecurity/trivy",
                "result": [{"id": "CVE-2024-0001", "severity": [{"method": "nvd", "score": "low"}]}]}}),
        );
        self.sign_and_store(&scan, "scanner");
    }

    /// `attest approve ... --dir store`; returns the printed digest.
    fn approve(&self, who: &str, artifact: &str, env: &str, time: i64) -> String {
        let out = self.attest([
            "approve",
            "--key",
            &format!("{who}.key"),
            "--environment",
            env,
            "--artifact",
            artifact,
            "--comment",
            "CAB-1234",
            "--time",
            &at(time),
            "--dir",
            "store",
        ]);
        out.ok_quiet();
        let digest = out.stdout.trim().to_owned();
        assert!(
            digest.starts_with("sha256:") && digest.len() == 71,
            "{out:#?}"
        );
        digest
    }

    /// `attest promote` with the common flags, JSON output, plus `extra`.
    fn promote(
        &self,
        artifact: &str,
        from: Option<&str>,
        to: &str,
        time: i64,
        extra: &[&str],
    ) -> Out {
        let time = at(time);
        let mut args = vec![
            "promote",
            "--policy",
            "policy.json",
            "--dir",
            "store",
            "--key",
            "promoter.key",
            "--artifact",
            artifact,
            "--to",
            to,
            "--time",
            &time,
            "--author",
            "carol",
            "--format",
            "json",
        ];
        if let Some(from) = from {
            args.extend(["--from", from]);
        }
        args.extend_from_slice(extra);
        self.attest(args)
    }

    /// A successful promotion's record digest.
    fn promoted(
        &self,
        artifact: &str,
        from: Option<&str>,
        to: &str,
        time: i64,
        extra: &[&str],
    ) -> String {
        let out = self.promote(artifact, from, to, time, extra);
        out.ok_quiet();
        let json = out.json();
        assert_eq!(json["verified"], true, "{out:#?}");
        assert_eq!(json["environment"], to);
        json["record"].as_str().unwrap().to_owned()
    }

    /// Builds `artifact` once and promotes it dev -> staging -> prod, hours
    /// apart from `start`; returns the three record digests.
    fn ship(&self, artifact: &str, start: i64) -> [String; 3] {
        self.build_evidence(artifact);
        let commit = at(start - HOUR);
        let dev = self.promoted(artifact, None, "dev", start, &["--commit-time", &commit]);
        let staging = self.promoted(artifact, Some("dev"), "staging", start + HOUR, &[]);
        self.approve("alice", artifact, "prod", start + HOUR);
        self.approve("bob", artifact, "prod", start + HOUR);
        let prod = self.promoted(artifact, Some("staging"), "prod", start + 2 * HOUR, &[]);
        [dev, staging, prod]
    }

    /// `verifier chain` on `store` (or another dir) plus `extra`.
    fn chain(&self, dir: &str, extra: &[&str]) -> Out {
        let mut args = vec!["chain", "--policy", "policy.json", "--dir", dir];
        args.extend_from_slice(extra);
        self.verifier(args)
    }
}

fn hex(digest: &str) -> &str {
    digest.strip_prefix("sha256:").unwrap()
}

// ---------------------------------------------------------------- the happy path

#[test]
fn promotes_dev_staging_prod_and_the_chain_verifies() {
    let p = Pipeline::new();
    p.build_evidence("app-v1.tar.gz");
    let commit = at(-HOUR);
    // Text output: the gate's checks and the record.
    let out = p.attest([
        "promote",
        "--policy",
        "policy.json",
        "--dir",
        "store",
        "--key",
        "promoter.key",
        "--artifact",
        "app-v1.tar.gz",
        "--to",
        "dev",
        "--author",
        "carol",
        "--commit-time",
        &commit,
        "--time",
        &at(0),
    ]);
    out.ok_quiet();
    for needle in [
        "promote sha256:",
        "(build) -> dev",
        "evidence: the 3 envelope(s) in the store about this artifact",
        "PASS  promoter: deployer may sign promotion records",
        "PASS  edge: `dev` is where built artifacts enter",
        "PASS  requires[0]: https://slsa.dev/provenance/v1 signed by ci",
        "PROMOTED: record sha256:",
    ] {
        assert!(out.stdout.contains(needle), "{needle}: {out:#?}");
    }
    let dev = out
        .stdout
        .rsplit("record ")
        .next()
        .unwrap()
        .trim()
        .to_owned();
    assert!(p.path("store/envelopes").join(hex(&dev)).is_file());

    let staging = p.promoted("app-v1.tar.gz", Some("dev"), "staging", HOUR, &[]);

    // One approval is not enough for prod: refused, and the report says why.
    p.approve("alice", "app-v1.tar.gz", "prod", HOUR);
    let out = p.promote("app-v1.tar.gz", Some("staging"), "prod", 2 * HOUR, &[]);
    out.fails_one_line(1, "approvals");
    assert_eq!(out.json()["verified"], false);
    assert_eq!(out.json()["record"], serde_json::Value::Null);
    let approvals = out.check("approvals");
    assert_eq!(approvals["passed"], false);
    assert!(
        approvals["reason"].as_str().unwrap().contains("1 of 2"),
        "{out:#?}"
    );
    // In text, the refusal shows the failing check too.
    let out = p.attest([
        "promote",
        "--policy",
        "policy.json",
        "--dir",
        "store",
        "--key",
        "promoter.key",
        "--artifact",
        "app-v1.tar.gz",
        "--from",
        "staging",
        "--to",
        "prod",
        "--time",
        &at(2 * HOUR),
    ]);
    out.fails_one_line(1, "promotion refused: approvals");
    assert!(out.stdout.contains("FAIL  approvals: 1 of 2"), "{out:#?}");
    assert!(out.stdout.trim_end().ends_with("REFUSED"), "{out:#?}");

    let bob = p.approve("bob", "app-v1.tar.gz", "prod", HOUR);
    // Explicit evidence works too (the provenance, tests, scan and both approvals).
    let all: Vec<String> = fs::read_dir(p.path("store/envelopes"))
        .unwrap()
        .map(|e| format!("sha256:{}", e.unwrap().file_name().to_string_lossy()))
        .filter(|d| *d != dev && *d != staging)
        .collect();
    assert!(all.contains(&bob));
    let mut extra = vec!["--evidence"];
    extra.extend(all.iter().map(String::as_str));
    let prod = p.promoted("app-v1.tar.gz", Some("staging"), "prod", 2 * HOUR, &extra);

    // The whole chain, as text.
    let out = p.chain("store", &[]);
    out.ok_quiet();
    for needle in [
        "== dev: VERIFIED ==",
        "== staging: VERIFIED ==",
        "== prod: VERIFIED ==",
        "PASS  unlinked-records",
        "the promotion histories of dev, staging, prod validate",
    ] {
        assert!(out.stdout.contains(needle), "{needle}: {out:#?}");
    }
    for record in [&dev, &staging, &prod] {
        assert!(out.stdout.contains(record.as_str()), "{record}: {out:#?}");
    }

    // As JSON, with where the artifact is.
    let out = p.chain(
        "store",
        &["--artifact", "app-v1.tar.gz", "--format", "json"],
    );
    out.ok_quiet();
    let json = out.json();
    assert_eq!(json["verified"], true);
    for env in ["dev", "staging", "prod"] {
        assert_eq!(json["environments"][env]["verified"], true, "{env}");
        assert!(
            !json["environments"][env]["checks"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        assert_eq!(json["artifact"]["environments"][env], "current", "{env}");
    }
    assert_eq!(json["artifact"]["digest"], p.digest("app-v1.tar.gz"));

    // One environment only; an artifact that is nowhere.
    let out = p.chain(
        "store",
        &[
            "--environment",
            "prod",
            "--artifact",
            "app-v2.tar.gz",
            "--format",
            "json",
        ],
    );
    out.ok_quiet();
    let json = out.json();
    let envs = json["environments"].as_object().unwrap();
    assert_eq!(envs.keys().collect::<Vec<_>>(), ["prod"]);
    assert_eq!(json["artifact"]["environments"]["prod"], "never");

    // As Markdown: a heading, a check table per environment, the Mermaid chain.
    let out = p.chain(
        "store",
        &["--artifact", "app-v1.tar.gz", "--format", "markdown"],
    );
    out.ok_quiet();
    let md = &out.stdout;
    assert!(md.starts_with("## ✅ Promotion chain verified"), "{md}");
    for env in ["dev", "staging", "prod"] {
        assert!(
            md.contains(&format!(
                "### ✅ {env}\n\n| | Check | Reason |\n| --- | --- | --- |\n"
            )),
            "{env}: {md}"
        );
    }
    assert!(md.contains("| ✅ | record\\[0\\] | sha256:"), "{md}");
    assert!(md.contains("| ✅ | unlinked-records |"), "{md}");
    assert!(md.contains("| prod | the current head |"), "{md}");
    assert!(!md.contains('❌'), "{md}");
    let mermaid = md.split("```mermaid\n").nth(1).expect("a mermaid block");
    let mermaid = mermaid.split("```").next().unwrap();
    assert!(mermaid.starts_with("flowchart LR\n"), "{mermaid}");
    for (record, env) in [(&dev, "dev"), (&staging, "staging"), (&prod, "prod")] {
        let node = format!(
            "r{}[\"sha256:{}<br/>{env}<br/>promotion\"]",
            hex(record),
            &hex(record)[..12]
        );
        assert!(mermaid.contains(&node), "{node}: {mermaid}");
    }
    assert!(
        mermaid.contains(&format!("r{} ==>|promoted| r{}", hex(&dev), hex(&staging))),
        "{mermaid}"
    );
    assert!(
        mermaid.contains(&format!("r{} ==>|promoted| r{}", hex(&staging), hex(&prod))),
        "{mermaid}"
    );
    assert!(
        mermaid.contains(&format!(
            "class r{},r{},r{} target",
            hex(&dev),
            hex(&staging),
            hex(&prod)
        )),
        "{mermaid}"
    );
    assert!(!mermaid.contains(" failed\n"), "{mermaid}");
}

#[test]
fn approve_writes_a_signed_approval_the_verifier_accepts() {
    let p = Pipeline::new();
    p.attest([
        "approve",
        "--key",
        "alice.key",
        "--environment",
        "prod",
        "--digest",
        &p.digest("app-v1.tar.gz"),
        "--time",
        &at(0),
        "-o",
        "approval.json",
    ])
    .ok_quiet();
    p.verifier([
        "envelope",
        "--in",
        "approval.json",
        "--key",
        "alice.pub",
        "--artifact",
        "app-v1.tar.gz",
        "--predicate-type",
        APPROVAL,
    ])
    .ok_quiet();
    let envelope: serde_json::Value = serde_json::from_slice(&p.read("approval.json")).unwrap();
    use base64::Engine as _;
    let payload = base64::engine::general_purpose::STANDARD
        .decode(envelope["payload"].as_str().unwrap())
        .unwrap();
    let statement: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(statement["predicate"]["environment"], "prod");
    assert_eq!(statement["predicate"]["approvedAt"], at(0));
    // Without -o or --dir, the envelope goes to stdout; the same key and
    // time sign the same bytes, so the store digest is the file's.
    let out = p.attest([
        "approve",
        "--key",
        "alice.key",
        "--environment",
        "prod",
        "--artifact",
        "app-v1.tar.gz",
        "--time",
        &at(0),
    ]);
    out.ok_quiet();
    assert!(out.stdout.starts_with("{\"payloadType\""), "{out:#?}");
    let out = p.attest(["store-put", "--dir", "store", "approval.json"]);
    out.ok_quiet();
    assert_eq!(
        out.stdout.trim(),
        format!("{}  approval.json", p.digest("approval.json"))
    );
}

// ---------------------------------------------------------------- refusals

#[test]
fn a_rebuilt_artifact_is_refused() {
    let p = Pipeline::new();
    p.ship("app-v1.tar.gz", 0);
    // A rebuild of the "same" release: new bytes, its own provenance and
    // tests, but it never entered dev.
    p.write("app-rebuilt.tar.gz", b"app release 1, rebuilt\n");
    p.build_evidence("app-rebuilt.tar.gz");
    let out = p.promote("app-rebuilt.tar.gz", Some("dev"), "staging", 3 * HOUR, &[]);
    out.fails_one_line(1, "artifact-in-source");
    let check = out.check("artifact-in-source");
    assert_eq!(check["passed"], false);
    assert!(
        check["reason"]
            .as_str()
            .unwrap()
            .contains("never entered `dev`"),
        "{out:#?}"
    );
    // Nothing was recorded: the chain still verifies.
    p.chain("store", &[]).ok_quiet();
}

#[test]
fn a_skipped_environment_is_refused() {
    let p = Pipeline::new();
    p.build_evidence("app-v1.tar.gz");
    p.promoted("app-v1.tar.gz", None, "dev", 0, &[]);
    p.approve("alice", "app-v1.tar.gz", "prod", 0);
    p.approve("bob", "app-v1.tar.gz", "prod", 0);
    // dev -> prod skips staging.
    let out = p.promote("app-v1.tar.gz", Some("dev"), "prod", HOUR, &[]);
    out.fails_one_line(1, "edge");
    let edge = out.check("edge");
    assert_eq!(edge["passed"], false);
    assert!(
        edge["reason"]
            .as_str()
            .unwrap()
            .contains("dev -> prod is not an allowed promotion")
    );
    // A build cannot enter staging directly either.
    let out = p.promote("app-v1.tar.gz", None, "staging", HOUR, &[]);
    out.fails_one_line(1, "edge");
    assert!(
        out.check("edge")["reason"]
            .as_str()
            .unwrap()
            .contains("not an entry environment")
    );
    // An environment the policy does not have.
    let out = p.promote("app-v1.tar.gz", Some("dev"), "qa", HOUR, &[]);
    out.fails_one_line(1, "environment");
    // Evidence that is not in the store.
    let out = p.promote(
        "app-v1.tar.gz",
        Some("dev"),
        "staging",
        HOUR,
        &["--evidence", &format!("sha256:{}", "0".repeat(64))],
    );
    out.fails_one_line(1, "evidence");
    // A key without the promoter role.
    let out = p.attest([
        "promote",
        "--policy",
        "policy.json",
        "--dir",
        "store",
        "--key",
        "alice.key",
        "--artifact",
        "app-v1.tar.gz",
        "--from",
        "dev",
        "--to",
        "staging",
        "--time",
        &at(HOUR),
    ]);
    out.fails_one_line(1, "promoter");
    // Nothing to roll back to.
    let out = p.attest([
        "rollback",
        "--policy",
        "policy.json",
        "--dir",
        "store",
        "--key",
        "promoter.key",
        "--environment",
        "dev",
        "--reason",
        "why not",
        "--time",
        &at(HOUR),
    ]);
    out.fails_one_line(1, "rollback-target");
    assert!(out.stdout.contains("FAIL  rollback-target"), "{out:#?}");
    // After all that, dev holds one record and every chain verifies.
    p.chain("store", &[]).ok_quiet();
}

#[test]
fn the_emergency_path_is_taken_and_flagged() {
    let p = Pipeline::new();
    p.ship("app-v1.tar.gz", 0);
    p.build_evidence("app-v2.tar.gz");
    p.promoted("app-v2.tar.gz", None, "dev", 3 * HOUR, &[]);
    p.promoted("app-v2.tar.gz", Some("dev"), "staging", 4 * HOUR, &[]);
    p.approve("alice", "app-v2.tar.gz", "prod", 4 * HOUR);
    p.promote("app-v2.tar.gz", Some("staging"), "prod", 5 * HOUR, &[])
        .fails_one_line(1, "approvals");
    // --emergency needs a reason (a usage error).
    let out = p.promote(
        "app-v2.tar.gz",
        Some("staging"),
        "prod",
        5 * HOUR,
        &["--emergency"],
    );
    out.fails(2, "--reason");
    let out = p.promote(
        "app-v2.tar.gz",
        Some("staging"),
        "prod",
        5 * HOUR,
        &["--emergency", "--reason", EVIL_REASON],
    );
    out.ok_quiet();
    let emergency = out.check("emergency");
    assert_eq!(emergency["passed"], true);
    assert!(
        emergency["reason"].as_str().unwrap().contains("EMERGENCY"),
        "{out:#?}"
    );
    // The reason is recorded as given (JSON keeps it exactly) ...
    assert!(
        emergency["reason"].as_str().unwrap().contains(EVIL_REASON),
        "{out:#?}"
    );
    // ... and text output cannot be forged or drive the terminal.
    let out = p.chain("store", &["--environment", "prod"]);
    out.ok_quiet();
    assert!(
        out.stdout
            .contains("PASS  emergencies: FLAGGED: 1 emergency promotion(s)"),
        "{out:#?}"
    );
    assert!(
        out.stdout.contains("INC-7 | <b>hot</b>fix\\nPASS  forged"),
        "{out:#?}"
    );
    assert!(!out.stdout.contains("\nPASS  forged"), "{out:#?}");
    assert!(
        !out.stdout.contains('\u{1b}') && !out.stdout.contains('\u{202e}'),
        "{out:#?}"
    );
    // Markdown: the reason stays inside its table cell, inert.
    let out = p.chain("store", &["--format", "markdown"]);
    out.ok_quiet();
    let md = &out.stdout;
    assert!(md.contains("<br/>prod<br/>emergency\"]"), "{md}");
    assert!(md.contains("==>|EMERGENCY|"), "{md}");
    assert!(
        md.contains(
            "INC-7 \\| &lt;b&gt;hot&lt;/b&gt;fix\\\\nPASS  forged: \\`x\\` \\[l\\]\\(http://e\\) \\$x\\$\\\\u\\{1b\\}\\[2J\\\\u\\{202e\\}"
        ),
        "{md}"
    );
    assert!(!md.contains("<b>"), "{md}");
    assert!(!md.contains('\u{1b}') && !md.contains('\u{202e}'), "{md}");
    for line in md.lines().filter(|l| l.starts_with("| ")) {
        // Every table row has exactly its cells: no `|` leaked unescaped.
        let cells = line.replace("\\|", "").matches('|').count();
        assert!(cells == 4 || cells == 3, "{line}");
    }
}

/// An emergency reason that tries to break out of a report line, a table
/// cell and the terminal.
const EVIL_REASON: &str =
    "INC-7 | <b>hot</b>fix\nPASS  forged: `x` [l](http://e) $x$\u{1b}[2J\u{202e}";

// ---------------------------------------------------------------- tampering

#[test]
fn tampering_with_a_stored_envelope_fails_the_chain_naming_the_record() {
    let p = Pipeline::new();
    let [_, staging, _] = p.ship("app-v1.tar.gz", 0);
    copy_dir(&p.path("store"), &p.path("tampered"));
    let file = p.path("tampered/envelopes").join(hex(&staging));
    let mut bytes = fs::read(&file).unwrap();
    let at = bytes.iter().position(|b| *b == b'"').unwrap();
    bytes.insert(at, b' '); // still a valid envelope, but other bytes
    fs::write(&file, &bytes).unwrap();

    let out = p.chain("tampered", &[]);
    out.fails_one_line(1, "staging");
    assert!(out.stderr.contains(hex(&staging)), "{out:#?}");
    assert!(out.stderr.contains("corrupt"), "{out:#?}");
    assert!(out.stdout.contains("== dev: VERIFIED =="), "{out:#?}");
    assert!(
        out.stdout.contains("== staging: NOT VERIFIED =="),
        "{out:#?}"
    );
    assert!(
        out.stdout.contains(&format!("FAIL  record[0]: {staging}")),
        "{out:#?}"
    );
    // prod's record names the staging record as its source: that fails too.
    assert!(out.stdout.contains("== prod: NOT VERIFIED =="), "{out:#?}");
    assert!(
        out.stdout.contains("NOT VERIFIED: staging, prod, store"),
        "{out:#?}"
    );

    let out = p.chain(
        "tampered",
        &["--format", "json", "--artifact", "app-v1.tar.gz"],
    );
    out.fails_one_line(1, "corrupt");
    let json = out.json();
    assert_eq!(json["verified"], false);
    assert_eq!(json["environments"]["dev"]["verified"], true);
    assert_eq!(json["environments"]["staging"]["verified"], false);
    assert_eq!(json["artifact"]["environments"]["staging"], "unverified");
    assert_eq!(json["artifact"]["environments"]["dev"], "current");

    let out = p.chain("tampered", &["--format", "markdown"]);
    out.fails_one_line(1, "corrupt");
    assert!(
        out.stdout.starts_with("## ❌ Promotion chain NOT verified"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("### ❌ staging"), "{}", out.stdout);
    assert!(
        out.stdout.contains("| ❌ | record\\[0\\] |"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("<br/>staging<br/>unreadable"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!("class r{}", hex(&staging))),
        "{}",
        out.stdout
    );

    // Tampering with evidence breaks every gate that used it.
    copy_dir(&p.path("store"), &p.path("tampered-evidence"));
    let provenance = p.digest("app-v1.provenance.json.intoto.json");
    let file = p.path("tampered-evidence/envelopes").join(hex(&provenance));
    let mut bytes = fs::read(&file).unwrap();
    bytes.push(b'\n');
    fs::write(&file, &bytes).unwrap();
    let out = p.chain("tampered-evidence", &["--environment", "dev"]);
    out.fails_one_line(1, "evidence");
    assert!(out.stderr.contains(hex(&provenance)), "{out:#?}");

    // The original store is untouched and verifies.
    p.chain("store", &[]).ok_quiet();
}

// ---------------------------------------------------------------- incidents, rollback, DORA

#[test]
fn incident_rollback_and_dora_metrics() {
    let p = Pipeline::new();
    let [_, _, prod_v1] = p.ship("app-v1.tar.gz", 0);
    let [_, _, prod_v2] = p.ship("app-v2.tar.gz", 3 * HOUR);
    let out = p.attest([
        "incident",
        "--dir",
        "store",
        "--key",
        "promoter.key",
        "--environment",
        "prod",
        "--artifact",
        "app-v2.tar.gz",
        "--summary",
        "INC-42: error rate above 5 %",
        "--opened",
        &at(5 * HOUR + 1800),
        "--resolved",
        &at(6 * HOUR),
    ]);
    out.ok_quiet();
    let incident = out.stdout.trim().to_owned();
    assert!(p.path("store/envelopes").join(hex(&incident)).is_file());

    let out = p.attest([
        "rollback",
        "--policy",
        "policy.json",
        "--dir",
        "store",
        "--key",
        "promoter.key",
        "--environment",
        "prod",
        "--reason",
        "INC-42",
        "--time",
        &at(5 * HOUR + 2700),
    ]);
    out.ok_quiet();
    let v1 = p.digest("app-v1.tar.gz");
    assert!(
        out.stdout
            .contains(&format!("ROLLED BACK `prod` to {v1}: record sha256:")),
        "{out:#?}"
    );
    assert!(
        out.stdout.contains("PASS  edge: rollback within `prod`"),
        "{out:#?}"
    );
    assert!(
        out.stdout.contains(&prod_v1),
        "the source is v1's prod record: {out:#?}"
    );

    // The chain, with the rollback, still verifies; v1 is prod's head again.
    let out = p.chain(
        "store",
        &["--artifact", "app-v1.tar.gz", "--format", "json"],
    );
    out.ok_quiet();
    let json = out.json();
    assert_eq!(json["artifact"]["environments"]["prod"], "current");
    assert_eq!(json["artifact"]["environments"]["staging"], "earlier");
    let out = p.chain("store", &["--artifact", "app-v2.tar.gz"]);
    out.ok_quiet();
    assert!(
        out.stdout
            .contains("prod: in its history, not the current head"),
        "{out:#?}"
    );
    assert!(out.stdout.contains("staging: the current head"), "{out:#?}");
    let out = p.chain("store", &["--environment", "prod", "--format", "markdown"]);
    out.ok_quiet();
    assert!(
        out.stdout.contains("<br/>prod<br/>rollback\"]"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(&format!("r{} ==>|rollback| r", hex(&prod_v1))),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!("r{} --> r", hex(&prod_v2))),
        "{}",
        out.stdout
    );

    // DORA over a day: v1 and v2 deployed (the rollback does not count),
    // 3 h lead time each, v2 failed (50 %), restored in 30 min.
    let dora = |extra: &[&str]| {
        let (since, until) = (at(-HOUR), at(24 * HOUR));
        let mut args = vec![
            "dora",
            "--policy",
            "policy.json",
            "--dir",
            "store",
            "--environment",
            "prod",
            "--since",
            &since,
            "--until",
            &until,
        ];
        args.extend_from_slice(extra);
        p.verifier(args)
    };
    let out = dora(&[]);
    out.ok_quiet();
    for needle in [
        "DORA metrics for `prod`",
        "deployment frequency: 2 deployment(s) in 1.0 day(s), 1.92 per day",
        "lead time: median 3.0 h",
        "change failure rate: 50.0 %",
        "time to restore: median 30.0 min",
        "PASS  chain: the history of `prod` validates (3 record(s))",
        "VERIFIED",
    ] {
        assert!(out.stdout.contains(needle), "{needle}: {out:#?}");
    }
    let targets = [
        "--max-lead-time-hours",
        "4",
        "--max-change-failure-rate",
        "0.6",
        "--max-time-to-restore-minutes",
        "60",
        "--min-deployments-per-day",
        "1",
        "--format",
        "json",
    ];
    let out = dora(&targets);
    out.ok_quiet();
    let json = out.json();
    assert_eq!(json["verified"], true);
    assert_eq!(json["metrics"]["deployments"], 2);
    assert_eq!(json["metrics"]["lead_time_median_seconds"], 3 * HOUR);
    assert_eq!(json["metrics"]["change_failure_rate"], 0.5);
    assert_eq!(json["metrics"]["time_to_restore_median_seconds"], 1800);
    for check in [
        "chain",
        "lead-time",
        "change-failure-rate",
        "time-to-restore",
        "deployment-frequency",
    ] {
        assert_eq!(out.check(check)["passed"], true, "{check}");
    }
    // A missed target exits 1 and names it.
    let out = dora(&["--max-change-failure-rate", "0.25"]);
    out.fails_one_line(1, "change-failure-rate");
    assert!(
        out.stdout
            .contains("FAIL  change-failure-rate: 50.0 %, target at most 25.0 %"),
        "{out:#?}"
    );
    let out = dora(&["--max-lead-time-hours", "2", "--format", "json"]);
    out.fails_one_line(1, "lead-time");
    assert_eq!(out.check("lead-time")["passed"], false);

    // Metrics from a tampered store prove nothing: exit 1 on the chain.
    copy_dir(&p.path("store"), &p.path("tampered"));
    let file = p.path("tampered/envelopes").join(hex(&prod_v2));
    let mut bytes = fs::read(&file).unwrap();
    bytes.push(b' ');
    fs::write(&file, &bytes).unwrap();
    let (since, until) = (at(-HOUR), at(24 * HOUR));
    let out = p.verifier([
        "dora",
        "--policy",
        "policy.json",
        "--dir",
        "tampered",
        "--environment",
        "prod",
        "--since",
        &since,
        "--until",
        &until,
    ]);
    out.fails_one_line(1, "chain");
    assert!(out.stdout.contains("FAIL  chain"), "{out:#?}");
}

// ---------------------------------------------------------------- races

#[test]
fn concurrent_promotions_never_fork_the_history() {
    let p = Pipeline::new();
    p.build_evidence("app-v1.tar.gz");
    p.promoted("app-v1.tar.gz", None, "dev", 0, &[]);
    let time = at(HOUR);
    let children: Vec<_> = (0..4)
        .map(|i| {
            Command::new(&bins().attest)
                .current_dir(p.dir.path())
                .args([
                    "promote",
                    "--policy",
                    "policy.json",
                    "--dir",
                    "store",
                    "--key",
                    "promoter.key",
                    "--artifact",
                    "app-v1.tar.gz",
                    "--from",
                    "dev",
                    "--to",
                    "staging",
                    "--time",
                    &time,
                    "--reason",
                    &format!("run {i}"),
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut promoted = 0;
    for child in children {
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        match output.status.code() {
            Some(0) => promoted += 1,
            // The loser of a race is told so, and nothing forks.
            Some(1) => assert!(stderr.contains("conflict"), "{stderr}"),
            code => panic!("exit {code:?}: {stderr}"),
        }
    }
    assert!(promoted >= 1);
    // No fork: the linked history holds exactly the winners, each valid.
    // (A loser's signed record stays in the store, unlinked, and the
    // library's `unlinked-records` check cannot tell it from a fork
    // attempt, so that check is not asserted here.)
    let out = p.chain("store", &["--environment", "staging", "--format", "json"]);
    let checks = out.json()["environments"]["staging"]["checks"].clone();
    let records: Vec<&serde_json::Value> = checks
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"].as_str().unwrap().starts_with("record["))
        .collect();
    assert_eq!(records.len(), promoted, "{out:#?}");
    assert!(records.iter().all(|c| c["passed"] == true), "{out:#?}");
    if promoted == 4 {
        out.ok_quiet();
    }
}

// ---------------------------------------------------------------- malformed input

#[test]
fn malformed_inputs_exit_2_without_panicking() {
    let p = Pipeline::new();
    p.ship("app-v1.tar.gz", 0);
    p.write("garbage.json", &[0xff, 0x00, b'{', b'[', 0x80]);
    p.write(
        "unknown-field.json",
        br#"{"version":1,"keys":[],"environments":[{"name":"dev","require":[]}],"promotions":[]}"#,
    );
    p.write(
        "not-a-policy.json",
        br#"{"version":2,"keys":[],"environments":[],"promotions":[]}"#,
    );
    let (since, until) = (at(0), at(HOUR));
    let policies: [(&str, &str); 4] = [
        ("missing.json", "missing.json"),
        ("garbage.json", "garbage.json"),
        ("unknown-field.json", "unknown field `require`"),
        ("not-a-policy.json", "version 2"),
    ];
    for (policy, needle) in policies {
        p.verifier(["chain", "--policy", policy, "--dir", "store"])
            .fails_one_line(2, needle);
        p.verifier([
            "dora",
            "--policy",
            policy,
            "--dir",
            "store",
            "--environment",
            "prod",
            "--since",
            &since,
            "--until",
            &until,
        ])
        .fails_one_line(2, needle);
        p.attest([
            "promote",
            "--policy",
            policy,
            "--dir",
            "store",
            "--key",
            "promoter.key",
            "--artifact",
            "app-v1.tar.gz",
            "--from",
            "dev",
            "--to",
            "staging",
        ])
        .fails_one_line(2, needle);
        p.attest([
            "rollback",
            "--policy",
            policy,
            "--dir",
            "store",
            "--key",
            "promoter.key",
            "--environment",
            "prod",
            "--reason",
            "x",
        ])
        .fails_one_line(2, needle);
    }
    // A missing store, or a directory that is not one.
    fs::create_dir(p.path("empty")).unwrap();
    for dir in ["no-such-store", "empty"] {
        let needle = if dir == "empty" {
            "not a custodia store"
        } else {
            "no store there"
        };
        p.chain(dir, &[]).fails_one_line(2, needle);
        p.verifier([
            "dora",
            "--policy",
            "policy.json",
            "--dir",
            dir,
            "--environment",
            "prod",
            "--since",
            &since,
            "--until",
            &until,
        ])
        .fails_one_line(2, needle);
    }
    assert!(
        !p.path("no-such-store").exists(),
        "a verifier never creates a store"
    );
    assert!(
        !p.path("empty/envelopes").exists(),
        "a verifier never writes into a directory"
    );
    for args in [
        vec![
            "promote",
            "--policy",
            "policy.json",
            "--dir",
            "no-such-store",
            "--key",
            "promoter.key",
            "--artifact",
            "app-v1.tar.gz",
            "--to",
            "dev",
        ],
        vec![
            "rollback",
            "--policy",
            "policy.json",
            "--dir",
            "no-such-store",
            "--key",
            "promoter.key",
            "--environment",
            "prod",
            "--reason",
            "x",
        ],
        vec![
            "incident",
            "--dir",
            "no-such-store",
            "--key",
            "promoter.key",
            "--environment",
            "prod",
            "--artifact",
            "app-v1.tar.gz",
            "--summary",
            "x",
        ],
    ] {
        p.attest(args).fails_one_line(2, "no store there");
    }
    assert!(!p.path("no-such-store").exists());

    // Other bad input, each one line (ours) or a usage error (clap), exit 2.
    p.chain("store", &["--environment", "qa"])
        .fails_one_line(2, "no environment `qa`");
    p.verifier([
        "dora",
        "--policy",
        "policy.json",
        "--dir",
        "store",
        "--environment",
        "prod",
        "--since",
        &until,
        "--until",
        &since,
    ])
    .fails_one_line(2, "is not after");
    p.verifier([
        "dora",
        "--policy",
        "policy.json",
        "--dir",
        "store",
        "--environment",
        "prod",
        "--since",
        "yesterday",
        "--until",
        &until,
    ])
    .fails(2, "RFC 3339");
    p.verifier([
        "dora",
        "--policy",
        "policy.json",
        "--dir",
        "store",
        "--environment",
        "prod",
        "--since",
        &since,
        "--until",
        &until,
        "--max-change-failure-rate",
        "15",
    ])
    .fails(2, "fraction");
    p.chain("store", &["--artifact", "no-such-file"])
        .fails_one_line(2, "no-such-file");
    p.chain("store", &["--digest", "sha256:xyz"])
        .fails(2, "--digest");
    p.promote(
        "app-v1.tar.gz",
        Some("dev"),
        "staging",
        HOUR,
        &["--evidence", "sha512:00"],
    )
    .fails(2, "--evidence");
    p.promote("no-such-file", Some("dev"), "staging", HOUR, &[])
        .fails_one_line(2, "no-such-file");
    p.attest([
        "promote",
        "--policy",
        "policy.json",
        "--dir",
        "store",
        "--key",
        "missing.key",
        "--artifact",
        "app-v1.tar.gz",
        "--from",
        "dev",
        "--to",
        "staging",
    ])
    .fails_one_line(2, "missing.key");
    p.promote("app-v1.tar.gz", Some("dev"), "Bad Env", HOUR, &[])
        .fails_one_line(2, "environment name");
    p.attest([
        "promote",
        "--policy",
        "policy.json",
        "--dir",
        "store",
        "--key",
        "promoter.key",
        "--to",
        "dev",
    ])
    .fails(2, "--artifact");
    p.attest([
        "approve",
        "--key",
        "alice.key",
        "--environment",
        "prod",
        "--artifact",
        "app-v1.tar.gz",
        "--time",
        "noon",
    ])
    .fails(2, "RFC 3339");
    p.attest([
        "approve",
        "--key",
        "garbage.json",
        "--environment",
        "prod",
        "--artifact",
        "app-v1.tar.gz",
    ])
    .fails_one_line(2, "garbage.json");
    p.attest([
        "incident",
        "--dir",
        "store",
        "--key",
        "promoter.key",
        "--environment",
        "prod",
        "--artifact",
        "app-v1.tar.gz",
        "--summary",
        "x",
        "--opened",
        &until,
        "--resolved",
        &since,
    ])
    .fails_one_line(2, "is before --opened");
    // store-put tries every file and refuses what is not an envelope.
    let out = p.attest([
        "store-put",
        "--dir",
        "store",
        "garbage.json",
        "policy.json",
        "app-v1.tests.json.intoto.json",
        "missing.json",
    ]);
    assert_eq!(out.code, 2, "{out:#?}");
    assert_eq!(out.stderr.lines().count(), 3, "{out:#?}");
    assert!(
        out.stderr.contains("garbage.json: not a DSSE envelope"),
        "{out:#?}"
    );
    assert!(
        out.stderr.contains("policy.json: not a DSSE envelope"),
        "{out:#?}"
    );
    assert!(
        out.stdout.contains("  app-v1.tests.json.intoto.json"),
        "{out:#?}"
    );

    // Nothing above changed the store.
    p.chain("store", &[]).ok_quiet();
}

#[test]
fn promotion_subcommands_help_shows_examples() {
    let p = Pipeline::new();
    for sub in ["store-put", "approve", "promote", "rollback", "incident"] {
        let out = p.attest([sub, "--help"]);
        out.ok_quiet();
        assert!(out.stdout.contains("Example"), "attest {sub}: {out:#?}");
        assert!(
            out.stdout.contains(&format!("attest {sub} ")),
            "attest {sub}: {out:#?}"
        );
    }
    for sub in ["chain", "dora"] {
        let out = p.verifier([sub, "--help"]);
        out.ok_quiet();
        assert!(out.stdout.contains("Example"), "verifier {sub}: {out:#?}");
        assert!(
            out.stdout.contains(&format!("verifier {sub} --policy")),
            "{out:#?}"
        );
        assert!(out.stdout.contains("Exit codes"), "{out:#?}");
    }
}
