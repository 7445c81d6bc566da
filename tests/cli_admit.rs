//! `verifier admit` and `verifier chain --state` on the demo's real output:
//! exit codes, flags and output formats (the decisions themselves are
//! tested in the library: tests/untrusted_store.rs).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::fs;
use std::path::{Path, PathBuf};

mod cli_support;
use cli_support::{Out, WorkDir, bins, run_env};

struct Demo {
    dir: tempfile::TempDir,
}

impl WorkDir for Demo {
    fn root(&self) -> &Path {
        self.dir.path()
    }
}

impl Demo {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let out = run_env(&bins().demo, dir.path(), ["--out", "demo"], &[]);
        out.ok();
        Self { dir }
    }

    fn admit(&self, extra: &[&str]) -> Out {
        let mut args = vec![
            "admit",
            "--policy",
            "demo/policy.json",
            "--dir",
            "demo/store",
            "--environment",
            "prod",
        ];
        args.extend_from_slice(extra);
        self.verifier(args)
    }

    fn chain(&self, extra: &[&str]) -> Out {
        let mut args = vec![
            "chain",
            "--policy",
            "demo/policy.json",
            "--dir",
            "demo/store",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        self.verifier(args)
    }

    fn store(&self) -> PathBuf {
        self.path("demo/store")
    }
}

#[test]
fn admit_allows_only_the_current_head_and_says_why_not() {
    let d = Demo::new();
    // Where the demo's artifact stands in prod, as `verifier chain` sees it.
    let located = d.chain(&["--artifact", "demo/artifact"]);
    located.ok();
    let place = located.json()["artifact"]["environments"]["prod"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = d.admit(&["--artifact", "demo/artifact", "--format", "json"]);
    let json = out.json();
    assert_eq!(json["verified"], place == "current", "{out:#?}");
    assert_eq!(out.code, if place == "current" { 0 } else { 1 }, "{out:#?}");
    if place == "current" {
        assert!(json["path"].as_array().unwrap().len() >= 3, "{out:#?}");
    }

    // A digest never promoted: refused on `promoted`, exit 1, one line.
    let never = format!("sha256:{}", "ab".repeat(32));
    let out = d.admit(&["--digest", &never, "--format", "json"]);
    out.fails_one_line(1, "promoted");
    let failed: Vec<String> = out.json()["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(failed, ["promoted"]);
    // Markdown: a verdict heading and a table.
    let out = d.admit(&["--digest", &never, "--format", "markdown"]);
    assert!(out.stdout.starts_with("## "), "{out:#?}");
    assert!(
        out.stdout.contains("| promoted |") || out.stdout.contains("promoted"),
        "{out:#?}"
    );
    // Bad usage: no subject, an unknown environment, an unreadable store.
    assert_eq!(d.admit(&[]).code, 2);
    let out = d.verifier([
        "admit",
        "--policy",
        "demo/policy.json",
        "--dir",
        "demo/store",
        "--environment",
        "qa",
        "--digest",
        &never,
    ]);
    assert_eq!(out.code, 2, "{out:#?}");
    let out = d.verifier([
        "admit",
        "--policy",
        "demo/policy.json",
        "--dir",
        "nowhere",
        "--environment",
        "prod",
        "--digest",
        &never,
    ]);
    assert_eq!(out.code, 2, "{out:#?}");
}

#[test]
fn an_unsigned_record_dropped_into_the_store_refuses_admission_naming_the_record() {
    let d = Demo::new();
    let head = fs::read_to_string(d.store().join("heads/prod")).unwrap();
    // No private key: an envelope with no signatures, linked after the head.
    let forged =
        br#"{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}"#;
    let digest = {
        use std::fmt::Write as _;
        let hash = custodia::digest::DigestSet::of_bytes(forged);
        let sha = hash.strongest().unwrap().to_string();
        let mut hex = String::new();
        write!(hex, "{}", sha.trim_start_matches("sha256:")).unwrap();
        hex
    };
    fs::write(d.store().join("envelopes").join(&digest), forged).unwrap();
    fs::write(d.store().join("links/prod").join(head.trim()), &digest).unwrap();
    let out = d.admit(&["--artifact", "demo/artifact", "--format", "json"]);
    out.fails_one_line(1, "history");
    assert!(out.stderr.contains(&digest), "{out:#?}");
}

#[test]
fn state_keeps_checkpoints_so_a_truncated_history_is_found() {
    let d = Demo::new();
    d.chain(&["--state", "state.json"]).ok();
    let state: serde_json::Value = serde_json::from_slice(&d.read("state.json")).unwrap();
    assert!(
        state["checkpoints"].as_array().unwrap().len() >= 3,
        "{state}"
    );

    // Remove prod's newest record: envelope, link and head.
    let store = d.store();
    let head = fs::read_to_string(store.join("heads/prod")).unwrap();
    let link = fs::read_dir(store.join("links/prod"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| fs::read_to_string(p).unwrap().trim() == head.trim())
        .unwrap();
    let previous = link.file_name().unwrap().to_str().unwrap().to_owned();
    fs::remove_file(&link).unwrap();
    fs::remove_file(store.join("envelopes").join(head.trim())).unwrap();
    fs::write(store.join("heads/prod"), &previous).unwrap();

    // Alone, the shorter chain validates: that is what a hash chain cannot see.
    d.chain(&[]).ok();
    // Against the kept state it is found, exit 1, in the `checkpoints` section.
    let out = d.chain(&["--state", "state.json"]);
    out.fails_one_line(1, "checkpoints");
    assert_eq!(out.json()["checkpoints"]["verified"], false);
    // A broken state file is bad input.
    d.write("bad.json", b"{\"checkpoints\": [], \"checkpoints\": []}");
    assert_eq!(d.chain(&["--state", "bad.json"]).code, 2);
}
