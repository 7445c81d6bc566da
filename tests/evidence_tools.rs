//! Real tools run here, and their output read: cargo-nextest's and
//! pytest's JUnit from a small suite with a passing, a failing and a
//! skipped test (nextest: an ignored test, reported as skipped with its
//! `junit.report-skipped` setting, and a flaky test retried, too), and Semgrep's SARIF
//! from a local rule over a small tree.
//!
//! The tools: `cargo nextest` (crates.io `cargo-nextest`), and pytest and
//! Semgrep (PyPI) from the venv named by `CUSTODIA_EVIDENCE_TOOLS` (its
//! `bin` directory) or `target/tools-venv/bin`, which `.ci/run` creates.
//! Without them a test prints SKIPPED and passes on a developer machine;
//! under CI (`CI` set) a missing tool is a failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use custodia::evidence::convert;
use custodia::evidence::junit::{CaseOutcome, JunitReport};
use custodia::evidence::scan::{SarifLog, ScanReport};
use custodia::predicate::test_result::TestOutcome;
use tempfile::TempDir;

fn tool(name: &str, probe: &mut Command) -> bool {
    let works = probe.output().is_ok_and(|o| o.status.success());
    if !works {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the real-tool tests: {name} not found (run .ci/run)"
        );
        eprintln!("SKIPPED: {name} not found (run .ci/run, or set CUSTODIA_EVIDENCE_TOOLS)");
    }
    works
}

fn venv_bin(program: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("CUSTODIA_EVIDENCE_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tools-venv/bin"));
    let path = dir.join(program);
    tool(program, Command::new(&path).arg("--version")).then_some(path)
}

fn ids(run: &JunitReport, outcome: CaseOutcome) -> Vec<&str> {
    run.cases()
        .iter()
        .filter(|c| c.outcome == outcome)
        .map(|c| c.id.as_str())
        .collect()
}

#[test]
fn pytest_junit() {
    let Some(pytest) = venv_bin("pytest") else {
        return;
    };
    let dir = TempDir::new().unwrap();
    std::fs::write(
        dir.path().join("test_small.py"),
        "import pytest\n\ndef test_pass():\n    assert 1 + 1 == 2\n\n\
         def test_fail():\n    assert 1 + 1 == 3\n\n\
         @pytest.mark.skip(reason=\"not today\")\ndef test_skip():\n    pass\n\n\
         def test_error(missing_fixture):\n    pass\n",
    )
    .unwrap();
    let status = Command::new(&pytest)
        .current_dir(dir.path())
        .args([
            "-q",
            "-p",
            "no:cacheprovider",
            "--junitxml=junit.xml",
            "test_small.py",
        ])
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(1), "pytest reports the failure");
    let bytes = std::fs::read(dir.path().join("junit.xml")).unwrap();
    let run = JunitReport::from_slice(&bytes).unwrap();
    let c = run.counts();
    assert_eq!(
        (c.tests, c.passed, c.failures, c.errors, c.skipped),
        (4, 1, 1, 1, 1)
    );
    assert_eq!(ids(&run, CaseOutcome::Passed), ["test_small::test_pass"]);
    assert_eq!(ids(&run, CaseOutcome::Failed), ["test_small::test_fail"]);
    assert_eq!(ids(&run, CaseOutcome::Error), ["test_small::test_error"]);
    assert_eq!(ids(&run, CaseOutcome::Skipped), ["test_small::test_skip"]);
    // pytest's own root attributes agree.
    assert_eq!(
        run.declared().tests,
        None,
        "pytest puts counts on <testsuite>"
    );
    let p = convert::test_result(&[("junit.xml", &run)], None);
    assert_eq!(p.result, TestOutcome::Failed);
    assert_eq!(
        p.failed_tests,
        ["test_small::test_fail", "test_small::test_error"]
    );
    assert_eq!(p.warned_tests, ["test_small::test_skip"]);
}

#[test]
fn nextest_junit_with_retries() {
    let cargo = env!("CARGO");
    if !tool(
        "cargo-nextest",
        Command::new(cargo).args(["nextest", "--version"]),
    ) {
        return;
    }
    let dir = TempDir::new().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::create_dir_all(root.join(".config")).unwrap();
    std::fs::write(
        root.join("Cargo.toml"),
        "[package]\nname = \"small\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    // `flaky` fails on its first attempt and passes on the retry.
    std::fs::write(
        root.join("src/lib.rs"),
        "#[cfg(test)]\nmod tests {\n\
         #[test]\n    fn passes() { assert_eq!(2, 1 + 1); }\n\
         #[test]\n    fn fails() { assert_eq!(3, 1 + 1, \"arithmetic\"); }\n\
         #[test]\n    #[ignore]\n    fn skipped() {}\n\
         #[test]\n    fn flaky() {\n        let marker = std::path::Path::new(env!(\"CARGO_MANIFEST_DIR\")).join(\"attempted\");\n\
                 if !marker.exists() {\n            std::fs::write(&marker, b\"1\").unwrap();\n            panic!(\"first attempt\");\n        }\n    }\n}\n",
    )
    .unwrap();
    std::fs::write(
        root.join(".config/nextest.toml"),
        "[profile.ci]\nretries = 1\n\n[profile.ci.junit]\npath = \"junit.xml\"\nreport-skipped = \"ignored\"\n",
    )
    .unwrap();
    let out = Command::new(cargo)
        .current_dir(root)
        .env("CARGO_TARGET_DIR", root.join("target"))
        .args([
            "nextest",
            "run",
            "--profile",
            "ci",
            "--offline",
            "--no-fail-fast",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(100),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(root.join("target/nextest/ci/junit.xml")).unwrap();
    let run = JunitReport::from_slice(&bytes).unwrap();
    let c = run.counts();
    // nextest 0.9.143's `junit.report-skipped = "ignored"` writes the
    // #[ignore]d test as a case with <skipped> (by default it is left out).
    assert_eq!(
        (c.tests, c.passed, c.failures, c.errors, c.skipped, c.flaky),
        (4, 2, 1, 0, 1, 1)
    );
    assert_eq!(ids(&run, CaseOutcome::Failed), ["small::tests::fails"]);
    assert_eq!(ids(&run, CaseOutcome::Skipped), ["small::tests::skipped"]);
    let flaky: Vec<&str> = run
        .cases()
        .iter()
        .filter(|c| c.is_flaky())
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(flaky, ["small::tests::flaky"]);
    let failed = run
        .cases()
        .iter()
        .find(|c| c.id == "small::tests::fails")
        .unwrap();
    assert_eq!(
        failed.retries, 1,
        "the failing test was retried once: one failed test"
    );
    assert_eq!(run.declared().tests, Some(4));
    assert_eq!(run.declared().failures, Some(1));
}

#[test]
fn semgrep_sarif() {
    let Some(semgrep) = venv_bin("semgrep") else {
        return;
    };
    let dir = TempDir::new().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(
        root.join("rule.yaml"),
        "rules:\n  - id: no-eval\n    languages: [python]\n    severity: ERROR\n    message: eval of untrusted input\n    pattern: eval(...)\n\
         \x20 - id: print-debug\n    languages: [python]\n    severity: INFO\n    message: debug print left in\n    pattern: print(\"debug\", ...)\n",
    )
    .unwrap();
    std::fs::write(
        root.join("src/app.py"),
        "def f(x):\n    return eval(x)\n\nprint(\"debug\", 1)\nprint(\"ok\")\n\ndef g(y):\n    return eval(y)\n",
    )
    .unwrap();
    let out = Command::new(&semgrep)
        .current_dir(root)
        .env("SEMGREP_ENABLE_VERSION_CHECK", "0")
        .env("SEMGREP_SEND_METRICS", "off")
        .args([
            "scan",
            "--config",
            "rule.yaml",
            "--sarif",
            "--output",
            "out.sarif",
        ])
        .args(["--metrics=off", "--disable-version-check", "src"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(root.join("out.sarif")).unwrap();
    let log = SarifLog::from_slice(&bytes).unwrap();
    let run = &log.runs()[0];
    assert!(run.tool.starts_with("Semgrep"), "{}", run.tool);
    assert_eq!(run.rule_count, 2);
    let mut got: Vec<(String, String, Option<u64>)> = run
        .results
        .iter()
        .map(|r| {
            (
                r.rule_id.clone(),
                r.effective_level.clone(),
                r.locations[0].1,
            )
        })
        .collect();
    got.sort();
    let want = [
        ("no-eval", "error", Some(2)),
        ("no-eval", "error", Some(8)),
        ("print-debug", "note", Some(4)),
    ];
    let want: Vec<(String, String, Option<u64>)> = want
        .iter()
        .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), *c))
        .collect();
    assert_eq!(got, want);
    // As a scan: three findings, none with a severity stated (local rules
    // have no security-severity): a gate counts them as its policy says.
    let scan = ScanReport::from_slice(&bytes, None).unwrap();
    assert_eq!(scan.findings().len(), 3);
    assert!(scan.findings().iter().all(|f| f.severity.is_none()));
    assert_eq!(
        scan.findings()[0]
            .location
            .as_deref()
            .map(|l| l.starts_with("src/app.py:")),
        Some(true)
    );
}
