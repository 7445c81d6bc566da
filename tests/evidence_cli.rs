//! `attest test-result`, `attest vulns`, `attest vex` and `verifier vulns`
//! on real tool outputs: statements that name their input by digest, the
//! verdict against a maximum severity with and without signed VEX (exit 0
//! / 1 naming the ids), and malformed or truncated inputs refused with exit
//! 2 and a one-line reason, never a panic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};

mod cli_support;
use cli_support::{Out, bins, run_env};
use serde_json::{Value, json};
use tempfile::TempDir;

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance/evidence")
        .join(rel)
}

struct Work {
    dir: TempDir,
}

impl Work {
    fn new() -> Self {
        let w = Self {
            dir: TempDir::new().unwrap(),
        };
        std::fs::write(w.path("app.tar"), b"app 1.0").unwrap();
        for who in ["scanner", "security", "developer"] {
            w.attest(&["keygen", "--algorithm", "ed25519", "--out", who])
                .ok();
        }
        w
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn attest(&self, args: &[&str]) -> Out {
        run_env(
            &bins().attest,
            self.dir.path(),
            args,
            &[("SOURCE_DATE_EPOCH", "1700000000")],
        )
    }

    fn verifier(&self, args: &[&str]) -> Out {
        run_env(&bins().verifier, self.dir.path(), args, &[])
    }

    fn sign(&self, key: &str, input: &str, output: &str) {
        self.attest(&[
            "sign",
            "--key",
            &format!("{key}.key"),
            "--in",
            input,
            "-o",
            output,
        ])
        .ok();
    }

    fn read_json(&self, name: &str) -> Value {
        serde_json::from_slice(&std::fs::read(self.path(name)).unwrap()).unwrap()
    }

    fn write(&self, name: &str, bytes: &[u8]) -> String {
        std::fs::write(self.path(name), bytes).unwrap();
        self.path(name).to_str().unwrap().to_owned()
    }
}

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

#[test]
fn vulns_statement_names_the_report_and_the_scanner() {
    let w = Work::new();
    let report = data("vuln-scan/grype/keycloak-test.json");
    w.attest(&[
        "vulns",
        "--report",
        &s(&report),
        "--subject",
        "app.tar",
        "-o",
        "scan.json",
    ])
    .ok_quiet();
    let st = w.read_json("scan.json");
    assert_eq!(
        st["predicateType"],
        "https://in-toto.io/attestation/vulns/v0.2"
    );
    assert_eq!(st["subject"][0]["name"], "app.tar");
    let p = &st["predicate"];
    assert_eq!(p["scanner"]["uri"], "pkg:github/anchore/grype@0.66.0");
    assert_eq!(p["scanner"]["version"], "0.66.0");
    assert_eq!(
        p["metadata"]["report"]["digest"]["sha256"],
        "d22b0b785ba6439a29dfc0b93de180dc010b84f5f03c25e08a65dffe33a49991"
    );
    assert_eq!(p["scanner"]["result"].as_array().unwrap().len(), 6);
    assert_eq!(
        p["scanner"]["result"][0]["severity"],
        json!([{"method": "grype", "score": "Low"}])
    );
    assert_eq!(
        p["scanner"]["result"][0]["annotations"][0]["package"],
        "nspr"
    );
    // Explicit format; the wrong explicit format is malformed input.
    w.attest(&[
        "vulns",
        "--report",
        &s(&report),
        "--report-format",
        "grype",
        "--digest",
        "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
        "-o",
        "scan2.json",
    ])
    .ok_quiet();
    w.attest(&[
        "vulns",
        "--report",
        &s(&report),
        "--report-format",
        "trivy",
        "--subject",
        "app.tar",
    ])
    .fails_one_line(2, "Trivy JSON");
}

#[test]
fn verifier_vulns_judges_severity_after_signed_vex() {
    let w = Work::new();
    let report = data("vuln-scan/trivy/alpine-310.json.golden");
    w.attest(&[
        "vulns",
        "--report",
        &s(&report),
        "--subject",
        "app.tar",
        "-o",
        "scan.json",
    ])
    .ok();
    w.sign("scanner", "scan.json", "scan.intoto.json");
    let base = [
        "vulns",
        "--in",
        "scan.intoto.json",
        "--key",
        "scanner.pub",
        "--artifact",
        "app.tar",
    ];
    let run = |extra: &[&str]| {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        w.verifier(&args)
    };
    // MEDIUM findings: allowed at medium, refused at low with the ids named.
    run(&["--max-severity", "medium"]).ok();
    let out = run(&["--max-severity", "low", "--format", "json"]);
    out.fails(1, "CVE-2019-1549");
    let check = out.check("severity");
    assert_eq!(check["passed"], false);
    assert!(check["reason"].as_str().unwrap().contains("CVE-2019-1551"));

    // A justified not_affected for both CVEs, from the security team.
    let artifact_hex = {
        let out = w.attest(&["digest", "app.tar"]);
        out.stdout
            .split_whitespace()
            .next()
            .unwrap()
            .trim_start_matches("sha256:")
            .to_owned()
    };
    let ids = ["CVE-2019-1549", "CVE-2019-1551"];
    let vex = json!({"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1",
        "author": "Security", "timestamp": "2024-01-01T00:00:00Z", "version": 1,
        "statements": ids.iter().map(|id| json!({
            "vulnerability": {"name": id},
            "products": [{"@id": format!("pkg:oci/app@sha256%3A{artifact_hex}"),
                          "subcomponents": [{"@id": "pkg:apk/alpine/libcrypto1.1"}, {"@id": "pkg:apk/alpine/libssl1.1"}]}],
            "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"})).collect::<Vec<_>>()});
    let vex_file = w.write("app.openvex.json", &serde_json::to_vec(&vex).unwrap());
    w.attest(&[
        "vex",
        "--openvex",
        &vex_file,
        "--subject",
        "app.tar",
        "-o",
        "vex.json",
    ])
    .ok_quiet();
    assert_eq!(
        w.read_json("vex.json")["predicateType"],
        "https://openvex.dev/ns/v0.2.0"
    );
    w.sign("security", "vex.json", "vex.security.intoto.json");
    w.sign("developer", "vex.json", "vex.developer.intoto.json");
    let out = run(&[
        "--max-severity",
        "low",
        "--vex",
        "vex.security.intoto.json",
        "--vex-key",
        "security.pub",
        "--format",
        "json",
    ]);
    out.ok();
    assert!(
        out.check("severity")["reason"]
            .as_str()
            .unwrap()
            .contains("suppressed by VEX")
    );
    // Signed by someone else, checked against the security key: not applied.
    let out = run(&[
        "--max-severity",
        "low",
        "--vex",
        "vex.developer.intoto.json",
        "--vex-key",
        "security.pub",
        "--format",
        "json",
    ]);
    out.fails(1, "vex[0]");
    assert_eq!(out.check("severity")["passed"], false);
    // Markdown for a CI step summary.
    let md = run(&["--max-severity", "medium", "--format", "markdown"]);
    md.ok();
    assert!(md.stdout.starts_with("## "), "{}", md.stdout);
}

#[test]
fn vex_documents_in_every_format_become_openvex_statements() {
    let w = Work::new();
    for (flag, file, count) in [
        ("--openvex", "vex/openvex/trivy.openvex.json", 21),
        ("--cyclonedx", "vex/cyclonedx/vex.json", 1),
        ("--csaf", "vex/csaf/csaf-relationships.json", 1),
    ] {
        w.attest(&[
            "vex",
            flag,
            &s(&data(file)),
            "--digest",
            "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
            "-o",
            "v.json",
        ])
        .ok_quiet();
        let st = w.read_json("v.json");
        let statements = st["predicate"]["statements"].as_array().unwrap();
        assert_eq!(statements.len(), count, "{file}");
        for s in statements {
            assert!(
                ["not_affected", "affected", "fixed", "under_investigation"]
                    .contains(&s["status"].as_str().unwrap())
            );
            if s["status"] == "not_affected" {
                assert!(
                    s.get("justification").is_some() || s.get("impact_statement").is_some(),
                    "{s}"
                );
            }
        }
        std::fs::remove_file(w.path("v.json")).unwrap();
    }
    // CycloneDX's justification mapped to OpenVEX's.
    w.attest(&[
        "vex",
        "--cyclonedx",
        &s(&data("vex/cyclonedx/vex.json")),
        "--subject",
        "app.tar",
        "-o",
        "v.json",
    ])
    .ok();
    let st = w.read_json("v.json");
    assert_eq!(
        st["predicate"]["statements"][0]["justification"],
        "vulnerable_code_not_in_execute_path"
    );
    assert_eq!(
        st["predicate"]["statements"][0]["products"][0]["@id"],
        "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.10.0?type=jar"
    );
}

#[test]
fn test_result_from_real_junit() {
    let w = Work::new();
    let nextest = data("junit/nextest/fixture-project-junit.xml");
    let surefire = data("junit/maven-surefire/TEST-com.shape.CircleTest.xml");
    w.attest(&[
        "test-result",
        "--junit",
        &s(&nextest),
        &s(&surefire),
        "--subject",
        "app.tar",
        "--url",
        "https://ci.example/run/1",
        "-o",
        "tests.json",
    ])
    .ok_quiet();
    let st = w.read_json("tests.json");
    assert_eq!(
        st["predicateType"],
        "https://in-toto.io/attestation/test-result/v0.1"
    );
    let p = &st["predicate"];
    assert_eq!(p["result"], "FAILED");
    assert_eq!(p["url"], "https://ci.example/run/1");
    assert_eq!(p["passedTests"].as_array().unwrap().len(), 2 + 6);
    assert_eq!(
        p["failedTests"],
        json!([
            "fixture-project::basic::test_failure_assert",
            "::testRadius",
            "::testProperties"
        ])
    );
    let config = p["configuration"].as_array().unwrap();
    assert_eq!(config[0]["name"], "fixture-project-junit.xml");
    assert_eq!(
        config[0]["digest"]["sha256"],
        "6ffab200678f720f0eb144e28cc3279bd5d8af4c80ca1544707932ba2e8dcfdf"
    );
    assert_eq!(config[0]["annotations"]["flaky"], 1);
    assert_eq!(
        config[0]["annotations"]["finishedOn"],
        "2023-11-14T22:13:20Z"
    );
}

#[test]
fn test_result_counts_only_names_what_did_not_simply_pass() {
    let w = Work::new();
    let nextest = s(&data("junit/nextest/fixture-project-junit.xml"));
    let digest = format!("sha256:{}", "0".repeat(64));
    let run = |counts_only: bool, out: &str| {
        let mut args = vec!["test-result", "--junit", &nextest, "--digest", &digest];
        if counts_only {
            args.push("--counts-only");
        }
        w.attest(&[args, vec!["-o", out]].concat()).ok_quiet();
        w.read_json(out)["predicate"].clone()
    };
    let all = run(false, "all.json");
    let counted = run(true, "counted.json");
    // The same counts, outcome and failures; passes named only when flaky.
    assert_eq!(counted["result"], all["result"]);
    assert_eq!(counted["failedTests"], all["failedTests"]);
    let (a, c) = (
        &all["configuration"][0]["annotations"],
        &counted["configuration"][0]["annotations"],
    );
    for key in ["tests", "passed", "failures", "errors", "skipped", "flaky"] {
        assert_eq!(a[key], c[key], "{key}");
    }
    assert_eq!(c["flaky"], 1);
    assert_eq!(counted["passedTests"].as_array().unwrap().len(), 1);
    assert_eq!(all["passedTests"].as_array().unwrap().len(), 2);
    assert_eq!(c["unlisted"], 1);
    assert!(a.get("unlisted").is_none());
}

#[test]
fn malformed_and_truncated_inputs_exit_2_with_a_reason() {
    let w = Work::new();
    let junit = std::fs::read(data("junit/jest-junit/jest-junit.xml")).unwrap();
    let trivy = std::fs::read(data("vuln-scan/trivy/alpine-310.json.golden")).unwrap();
    let vex = std::fs::read(data("vex/openvex/v0.2.0.json")).unwrap();
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        ("test-result", "--junit", junit[..junit.len() / 2].to_vec()),
        ("test-result", "--junit", b"".to_vec()),
        ("test-result", "--junit", b"\x00\xff\xfe garbage".to_vec()),
        ("test-result", "--junit", b"<html><body/></html>".to_vec()),
        ("vulns", "--report", trivy[..trivy.len() / 2].to_vec()),
        ("vulns", "--report", b"{}".to_vec()),
        ("vulns", "--report", b"[1,2,3]".to_vec()),
        ("vulns", "--report", br#"{"SchemaVersion":2,"SchemaVersion":2}"#.to_vec()),
        ("vex", "--openvex", vex[..vex.len() / 2].to_vec()),
        ("vex", "--csaf", vex.clone()),
        ("vex", "--cyclonedx", b"{\"bomFormat\":\"CycloneDX\",\"vulnerabilities\":[{\"id\":\"CVE-1\",\"analysis\":{\"state\":\"maybe\"},\"affects\":[{\"ref\":\"x\"}]}]}".to_vec()),
    ];
    // Every real format cut in half, with its format named and detected.
    let mut cases = cases;
    for (flag, rel) in [
        ("--report", "vuln-scan/grype/ghsa-test.json"),
        ("--report", "vuln-scan/cargo-audit/many_findings_cvss.json"),
        ("--report", "vuln-scan/osv-scanner/filter-none/want.json"),
        ("--report", "sarif/codeql/valid-sarif.sarif"),
        ("--cyclonedx", "vex/cyclonedx/vex.json"),
        ("--csaf", "vex/csaf/csaf-relationships.json"),
        ("--junit", "junit/nextest/fixture-project-junit.xml"),
    ] {
        let bytes = std::fs::read(data(rel)).unwrap();
        let cmd = match flag {
            "--report" => "vulns",
            "--junit" => "test-result",
            _ => "vex",
        };
        cases.push((cmd, flag, bytes[..bytes.len() / 2].to_vec()));
    }
    for (i, (cmd, flag, bytes)) in cases.iter().enumerate() {
        let file = w.write(&format!("bad{i}"), bytes);
        let out = w.attest(&[cmd, flag, &file, "--subject", "app.tar"]);
        out.fails_one_line(2, &format!("bad{i}"));
        assert!(!out.stderr.contains("panicked"), "{out:#?}");
        if *cmd == "test-result" {
            let out = w.attest(&[cmd, flag, &file, "--subject", "app.tar", "--counts-only"]);
            out.fails_one_line(2, &format!("bad{i}"));
        }
    }
    w.attest(&[
        "test-result",
        "--junit",
        "missing.xml",
        "--subject",
        "app.tar",
    ])
    .fails_one_line(2, "missing.xml");
    w.verifier(&[
        "vulns",
        "--in",
        &w.write("e", b"{"),
        "--key",
        "scanner.pub",
        "--artifact",
        "app.tar",
        "--max-severity",
        "high",
    ])
    .fails_one_line(2, "e");
    w.verifier(&[
        "vulns",
        "--in",
        "x",
        "--key",
        "scanner.pub",
        "--artifact",
        "app.tar",
        "--max-severity",
        "severe",
    ])
    .fails(2, "severe");
}
