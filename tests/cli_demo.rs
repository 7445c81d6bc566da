//! The main job, end to end: `demo --out DIR` must leave a directory that
//! the command it prints (`verifier chain ... --file ...`) verifies, and a
//! single flipped byte in ANY file there (first, middle or last byte) must
//! make that command fail with a reason naming the file.
//!
//! The examples are built by the shared CLI harness (tests/cli_support).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod cli_support;
use cli_support::bins;

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The `verifier chain` arguments the demo printed, continuation lines joined.
fn printed_chain_args(stdout: &str) -> Vec<String> {
    let joined = stdout.replace("\\\n", " ");
    let line = joined
        .lines()
        .find(|l| l.contains("--example verifier -- chain"))
        .unwrap_or_else(|| panic!("the demo prints no verifier command:\n{stdout}"));
    let (_, args) = line.split_once("-- chain").unwrap();
    std::iter::once("chain".to_owned())
        .chain(args.split_whitespace().map(str::to_owned))
        .collect()
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in fs::read_dir(d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn every_byte_flip_in_the_demo_output_is_caught_and_named() {
    let bins = bins();
    let out = tempfile::tempdir().unwrap();
    let demo = Command::new(&bins.demo)
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(demo.status.success(), "{}", text(&demo));
    let stdout = String::from_utf8(demo.stdout.clone()).unwrap();
    assert!(stdout.contains("demo: all rules held"), "{}", text(&demo));
    let args = printed_chain_args(&stdout);
    for needed in ["--policy", "--dir", "--file"] {
        assert!(args.iter().any(|a| a == needed), "{args:?}");
    }
    let verify = || Command::new(&bins.verifier).args(&args).output().unwrap();

    let clean = verify();
    assert!(clean.status.success(), "{}", text(&clean));
    // The JSON report carries the same sections for machines.
    let json_run = Command::new(&bins.verifier)
        .args(&args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(json_run.status.success(), "{}", text(&json_run));
    let json: serde_json::Value = serde_json::from_slice(&json_run.stdout).unwrap();
    assert_eq!(json["verified"], true);
    for section in ["policy", "store", "files"] {
        assert_eq!(json[section]["verified"], true, "{section}: {json:#}");
    }
    let file_checks = json["files"]["checks"].as_array().unwrap();
    assert!(file_checks.len() >= 4 + 3, "{json:#}");
    // A file the chains say nothing about is refused, by name.
    let stranger = out.path().join("stranger.bin");
    fs::write(&stranger, b"not built by this pipeline").unwrap();
    let refused = Command::new(&bins.verifier)
        .args(&args)
        .arg("--file")
        .arg(&stranger)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("stranger.bin"));
    fs::remove_file(&stranger).unwrap();

    let files = files_under(out.path());
    // The policy, the store (envelopes, links, heads), the artifact, both
    // SBOMs and every key: all must be covered.
    for expected in ["policy.json", "artifact", "sbom.cdx.json", "sbom.spdx.json"] {
        assert!(files.iter().any(|f| f.ends_with(expected)), "{files:?}");
    }
    assert!(files.iter().any(|f| f.to_string_lossy().contains("/keys/")));
    assert!(
        files
            .iter()
            .any(|f| f.to_string_lossy().contains("/envelopes/"))
    );
    assert!(
        files
            .iter()
            .any(|f| f.to_string_lossy().contains("/links/"))
    );
    assert!(
        files
            .iter()
            .any(|f| f.to_string_lossy().contains("/heads/"))
    );

    let mut runs = 0;
    for file in &files {
        let original = fs::read(file).unwrap();
        assert!(!original.is_empty(), "{}", file.display());
        let positions = [0, original.len() / 2, original.len() - 1];
        for at in positions {
            let mut flipped = original.clone();
            flipped[at] ^= 0x01;
            fs::write(file, &flipped).unwrap();
            let run = verify();
            fs::write(file, &original).unwrap();
            runs += 1;
            let code = run.status.code();
            assert!(
                matches!(code, Some(1 | 2)),
                "flipping byte {at} of {} went unnoticed: {}",
                file.display(),
                text(&run)
            );
            let stderr = String::from_utf8_lossy(&run.stderr);
            assert!(!stderr.contains("panicked"), "{}", text(&run));
            let name = file.file_name().unwrap().to_string_lossy();
            assert!(
                stderr.contains(name.as_ref()),
                "flipping byte {at} of {}: the reason does not name the file: {}",
                file.display(),
                text(&run)
            );
        }
    }
    assert!(runs >= 3 * 40, "only {runs} flips");
    // Restored: verifies again.
    let again = verify();
    assert!(again.status.success(), "{}", text(&again));
}
