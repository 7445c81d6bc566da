//! Gate scenarios on real tool outputs: a critical finding refuses prod;
//! the same finding with a justified not_affected VEX from the security
//! role passes, from another role or for another product does not; the
//! newest VEX statement wins; a stale scan is refused; a JUnit file with
//! zero tests (or a failed one) is refused by "at least N tests run".
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;

use custodia::digest::{DigestAlgorithm, DigestSet};
use custodia::dsse::Envelope;
use custodia::evidence::convert;
use custodia::evidence::junit::{JunitReport, KeepCases};
use custodia::evidence::scan::ScanReport;
use custodia::keys::{KeyAlgorithm, PrivateKey};
use custodia::policy::{ActivePolicy, EvidenceEnvelope, GateRequest, Policy, evaluate_gate};
use custodia::predicate::test_result::{TestOutcome, TestResult};
use custodia::report::Report;
use custodia::resource::ResourceDescriptor;
use custodia::statement::{PAYLOAD_TYPE, Statement};
use custodia::time::Timestamp;
use serde_json::{Value, json};

fn data(path: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/conformance/evidence")
            .join(path),
    )
    .unwrap()
}

struct World {
    scanner: PrivateKey,
    security: PrivateKey,
    developer: PrivateKey,
    tester: PrivateKey,
    policy: ActivePolicy,
    artifact: DigestSet,
}

/// Trivy's alpine-310 report as Trivy wrote it, with CVE-2019-1549 rated
/// CRITICAL (the only change).
fn critical_trivy() -> Vec<u8> {
    let mut v: Value =
        serde_json::from_slice(&data("vuln-scan/trivy/alpine-310.json.golden")).unwrap();
    for vuln in v["Results"][0]["Vulnerabilities"].as_array_mut().unwrap() {
        if vuln["VulnerabilityID"] == "CVE-2019-1549" {
            vuln["Severity"] = json!("CRITICAL");
        }
    }
    serde_json::to_vec_pretty(&v).unwrap()
}

/// When Trivy says the scan ran.
fn scan_time() -> Timestamp {
    "2021-08-25T12:20:30.000000005Z".parse().unwrap()
}

fn hours_after(t: Timestamp, hours: i64) -> Timestamp {
    Timestamp::from_unix(t.unix() + hours * 3600)
}

fn world(conditions_vulns: Value, conditions_tests: Value) -> World {
    let key = || PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let (scanner, security, developer, tester) = (key(), key(), key(), key());
    let entry = |identity: &str, role: &str, k: &PrivateKey| json!({"identity": identity, "roles": [role], "publicKey": k.public_key().to_pem()});
    let policy = json!({
        "version": 1,
        "keys": [entry("trivy-ci", "scanner", &scanner), entry("secteam", "security", &security),
                 entry("dev", "developer", &developer), entry("ci-tests", "tester", &tester)],
        "environments": [{"name": "dev"}, {"name": "prod", "requires": [
            {"predicateType": "https://in-toto.io/attestation/vulns/v0.2", "signerRole": "scanner",
             "conditions": conditions_vulns},
            {"predicateType": "https://in-toto.io/attestation/test-result/v0.1", "signerRole": "tester",
             "conditions": conditions_tests}]}],
        "promotions": [{"from": "dev", "to": "prod"}]
    });
    World {
        scanner,
        security,
        developer,
        tester,
        policy: Policy::from_json(&serde_json::to_vec(&policy).unwrap())
            .unwrap()
            .activate()
            .unwrap(),
        artifact: DigestSet::of_bytes(b"app-1.0 image"),
    }
}

fn sign(statement: &Statement, key: &PrivateKey) -> EvidenceEnvelope {
    let env = Envelope::sign(PAYLOAD_TYPE, statement.to_json().unwrap(), key).unwrap();
    let bytes = env.to_json().unwrap();
    EvidenceEnvelope::new(DigestAlgorithm::Sha256.hash(&bytes), env)
}

impl World {
    fn subject(&self) -> Vec<ResourceDescriptor> {
        vec![ResourceDescriptor::new("app", self.artifact.clone())]
    }

    fn scan(&self, report: &[u8]) -> EvidenceEnvelope {
        let scan = ScanReport::from_slice(report, None).unwrap();
        let predicate = convert::vulns(&scan, "trivy.json", None).unwrap();
        sign(
            &Statement::new(self.subject(), &predicate).unwrap(),
            &self.scanner,
        )
    }

    fn tests(&self, junit: &[u8], finished: Timestamp) -> EvidenceEnvelope {
        self.tests_edited(junit, KeepCases::All, finished, |_| {})
    }

    /// A test result read keeping `keep`, then edited (as a forger would).
    fn tests_edited(
        &self,
        junit: &[u8],
        keep: KeepCases,
        finished: Timestamp,
        edit: impl FnOnce(&mut TestResult),
    ) -> EvidenceEnvelope {
        let run = JunitReport::from_reader_keeping(junit, keep).unwrap();
        let mut predicate = convert::test_result(&[("junit.xml", &run)], Some(finished));
        edit(&mut predicate);
        sign(
            &Statement::new(self.subject(), &predicate).unwrap(),
            &self.tester,
        )
    }

    /// An OpenVEX statement about `product_digest` (the artifact's unless
    /// another is given), through the same path `attest vex` takes.
    fn vex(&self, key: &PrivateKey, product_hex: &str, statements: Value) -> EvidenceEnvelope {
        let doc = json!({"@context": "https://openvex.dev/ns/v0.2.0",
            "@id": "https://example.com/vex/app-1", "author": "Security Team",
            "timestamp": "2021-08-25T13:00:00Z", "version": 1,
            "statements": statements.as_array().unwrap().iter().map(|s| {
                let mut s = s.clone();
                s["products"] = json!([{"@id": format!("pkg:oci/app@sha256%3A{product_hex}"),
                    "subcomponents": [{"@id": "pkg:apk/alpine/libcrypto1.1@1.1.1c-r0"},
                                      {"@id": "pkg:apk/alpine/libssl1.1"}]}]);
                s
            }).collect::<Vec<_>>()});
        let parsed = custodia::evidence::vex::VexDocument::from_slice(
            &serde_json::to_vec(&doc).unwrap(),
            None,
        )
        .unwrap();
        let predicate = convert::openvex(&parsed);
        sign(&Statement::new(self.subject(), &predicate).unwrap(), key)
    }

    fn hex(&self) -> String {
        self.artifact.get("sha256").unwrap().to_owned()
    }

    fn gate(&self, time: Timestamp, evidence: &[EvidenceEnvelope]) -> Report {
        let request = GateRequest::new(self.artifact.clone(), Some("dev"), "prod", time);
        evaluate_gate(&self.policy, &request, evidence).report
    }
}

fn check<'a>(report: &'a Report, name: &str) -> &'a custodia::report::Check {
    report
        .checks()
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check {name} in\n{report}"))
}

fn passing_tests(w: &World, t: Timestamp) -> EvidenceEnvelope {
    w.tests(&data("junit/pytest/junit.gloo.elastic.xml"), t)
}

const NOT_AFFECTED: &str = "vulnerable_code_not_in_execute_path";

fn vulns_world() -> World {
    world(
        json!({"maxSeverity": "high", "vexSignerRole": "security", "maxAgeSeconds": 86400}),
        json!({"minTestsRun": 3}),
    )
}

#[test]
fn a_critical_finding_refuses_prod() {
    let w = vulns_world();
    let t = hours_after(scan_time(), 1);
    let report = w.gate(t, &[w.scan(&critical_trivy()), passing_tests(&w, t)]);
    assert!(!report.verified(), "{report}");
    let severity = check(&report, "requires[0].severity");
    assert!(!severity.passed);
    assert!(
        severity.reason.contains("CVE-2019-1549"),
        "{}",
        severity.reason
    );
    assert!(
        !severity.reason.contains("CVE-2019-1551"),
        "MEDIUM is allowed: {}",
        severity.reason
    );
    assert!(!check(&report, "requires[0]").passed);
    assert!(check(&report, "requires[1]").passed, "{report}");
    // The unchanged report (MEDIUM only) passes the same gate.
    let ok = w.gate(
        t,
        &[
            w.scan(&data("vuln-scan/trivy/alpine-310.json.golden")),
            passing_tests(&w, t),
        ],
    );
    assert!(ok.verified(), "{ok}");
}

#[test]
fn not_affected_from_the_security_role_for_this_artifact_passes() {
    let w = vulns_world();
    let t = hours_after(scan_time(), 1);
    let vex = w.vex(
        &w.security,
        &w.hex(),
        json!([{"vulnerability": {"name": "CVE-2019-1549"},
        "status": "not_affected", "justification": NOT_AFFECTED}]),
    );
    let report = w.gate(t, &[w.scan(&critical_trivy()), vex, passing_tests(&w, t)]);
    assert!(report.verified(), "{report}");
    let severity = check(&report, "requires[0].severity");
    assert!(
        severity.reason.contains("suppressed by VEX: CVE-2019-1549"),
        "{}",
        severity.reason
    );
    assert!(
        severity.reason.contains("secteam"),
        "who said so: {}",
        severity.reason
    );
}

#[test]
fn vex_from_another_role_or_for_another_product_does_not() {
    let w = vulns_world();
    let t = hours_after(scan_time(), 1);
    let statement = json!([{"vulnerability": {"name": "CVE-2019-1549"},
        "status": "not_affected", "justification": NOT_AFFECTED}]);
    let from_developer = w.vex(&w.developer, &w.hex(), statement.clone());
    let report = w.gate(
        t,
        &[
            w.scan(&critical_trivy()),
            from_developer,
            passing_tests(&w, t),
        ],
    );
    assert!(!report.verified());
    assert!(!check(&report, "requires[0].severity").passed);
    assert!(
        check(&report, "requires[0].severity")
            .reason
            .contains("not signed by role `security`")
    );

    let other = DigestSet::of_bytes(b"another image")
        .get("sha256")
        .unwrap()
        .to_owned();
    let other_product = w.vex(&w.security, &other, statement);
    let report = w.gate(
        t,
        &[
            w.scan(&critical_trivy()),
            other_product,
            passing_tests(&w, t),
        ],
    );
    assert!(!check(&report, "requires[0].severity").passed, "{report}");
}

#[test]
fn vex_status_and_justification_rules() {
    let w = vulns_world();
    let t = hours_after(scan_time(), 1);
    let run = |statements: Value| {
        let vex = w.vex(&w.security, &w.hex(), statements);
        check(
            &w.gate(t, &[w.scan(&critical_trivy()), vex, passing_tests(&w, t)]),
            "requires[0].severity",
        )
        .passed
    };
    let cve = json!({"name": "CVE-2019-1549"});
    assert!(!run(
        json!([{"vulnerability": cve, "status": "under_investigation"}])
    ));
    assert!(
        !run(
            json!([{"vulnerability": cve, "status": "not_affected", "impact_statement": "trust us"}])
        ),
        "not_affected needs a justification"
    );
    assert!(run(json!([{"vulnerability": cve, "status": "fixed"}])));
    // By alias: the statement names the vulnerability under another id.
    assert!(run(
        json!([{"vulnerability": {"name": "GO-0000-0001", "aliases": ["CVE-2019-1549"]},
        "status": "fixed"}])
    ));
    // The newest statement per vulnerability wins.
    let older = |status: &str, t: &str| {
        let mut s = json!({"vulnerability": cve, "status": status, "timestamp": t});
        if status == "not_affected" {
            s["justification"] = json!(NOT_AFFECTED);
        }
        s
    };
    assert!(!run(json!([
        older("not_affected", "2021-08-25T13:00:00Z"),
        older("affected", "2021-08-25T14:00:00Z")
    ])));
    assert!(run(json!([
        older("affected", "2021-08-25T13:00:00Z"),
        older("not_affected", "2021-08-25T14:00:00Z")
    ])));
}

#[test]
fn a_stale_scan_is_refused() {
    let w = vulns_world();
    let t = hours_after(scan_time(), 25);
    let report = w.gate(
        t,
        &[
            w.scan(&data("vuln-scan/trivy/alpine-310.json.golden")),
            passing_tests(&w, t),
        ],
    );
    let fresh = check(&report, "requires[0].freshness");
    assert!(!fresh.passed, "{report}");
    assert!(fresh.reason.contains("86400"), "{}", fresh.reason);
    let report = w.gate(
        hours_after(scan_time(), 23),
        &[
            w.scan(&data("vuln-scan/trivy/alpine-310.json.golden")),
            passing_tests(&w, t),
        ],
    );
    assert!(check(&report, "requires[0].freshness").passed, "{report}");
    // A stale test result too.
    let w = world(
        json!({"maxSeverity": "critical"}),
        json!({"minTestsRun": 1, "maxAgeSeconds": 3600}),
    );
    let now = Timestamp::from_unix(1_800_000_000);
    let report = w.gate(
        now,
        &[
            w.scan(&data("vuln-scan/trivy/alpine-310.json.golden")),
            passing_tests(&w, hours_after(now, -2)),
        ],
    );
    assert!(!check(&report, "requires[1].freshness").passed, "{report}");
}

#[test]
fn at_least_n_tests_run_and_none_failed() {
    let w = vulns_world();
    let t = hours_after(scan_time(), 1);
    let scan = || w.scan(&data("vuln-scan/trivy/alpine-310.json.golden"));
    let empty = w.tests(br#"<?xml version="1.0"?><testsuites tests="0"><testsuite name="none" tests="0"/></testsuites>"#, t);
    let report = w.gate(t, &[scan(), empty]);
    let tests = check(&report, "requires[1].tests");
    assert!(
        !tests.passed && tests.reason.starts_with("0 run"),
        "{report}"
    );

    let failing = w.tests(&data("junit/go-junit-report/001-report.xml"), t);
    let report = w.gate(t, &[scan(), failing]);
    let tests = check(&report, "requires[1].tests");
    assert!(
        !tests.passed && tests.reason.contains("package/fail::TestOne"),
        "{report}"
    );

    // pytest: 14 cases, 4 skipped: 10 ran.
    let report = w.gate(t, &[scan(), passing_tests(&w, t)]);
    let tests = check(&report, "requires[1].tests");
    assert!(
        tests.passed && tests.reason.starts_with("10 run"),
        "{report}"
    );
}

#[test]
fn counts_gate_tests_the_lists_do_not_name() {
    let w = vulns_world();
    let t = hours_after(scan_time(), 1);
    let scan = || w.scan(&data("vuln-scan/trivy/alpine-310.json.golden"));
    let pytest = data("junit/pytest/junit.gloo.elastic.xml");
    let counted = |keep, edit: fn(&mut TestResult)| w.tests_edited(&pytest, keep, t, edit);

    // Passes counted, not named: still 10 run.
    let report = w.gate(
        t,
        &[
            scan(),
            counted(KeepCases::not_passed(), |p| {
                assert!(p.passed_tests.is_empty());
            }),
        ],
    );
    let tests = check(&report, "requires[1].tests");
    assert!(
        tests.passed && tests.reason.starts_with("10 run"),
        "{report}"
    );

    // A failure counted but not named (limit 0) is still a failure.
    let failing = data("junit/go-junit-report/001-report.xml");
    let unnamed = w.tests_edited(&failing, KeepCases::NotPassed { limit: 0 }, t, |p| {
        assert!(p.failed_tests.is_empty());
    });
    let report = w.gate(t, &[scan(), unnamed]);
    let tests = check(&report, "requires[1].tests");
    assert!(
        !tests.passed && tests.reason.contains("1 failed"),
        "{report}"
    );

    // Counts that do not add up, lists naming more than the counts, a
    // missing count, or a FAILED result with nothing failed: refused.
    let forged: [fn(&mut TestResult); 4] = [
        |p| {
            p.configuration[0]
                .annotations
                .insert("passed".into(), json!(500));
        },
        |p| p.failed_tests.push("extra::test".into()),
        |p| {
            p.configuration[0].annotations.remove("skipped");
        },
        |p| p.result = TestOutcome::Failed,
    ];
    for edit in forged {
        let report = w.gate(t, &[scan(), counted(KeepCases::All, edit)]);
        assert!(!check(&report, "requires[1].tests").passed, "{report}");
    }
}

#[test]
fn deny_listed_ids_are_refused_whatever_their_severity() {
    let w = world(
        json!({"maxSeverity": "critical", "denyVulnerabilities": ["CVE-2019-1551"]}),
        json!({}),
    );
    let t = hours_after(scan_time(), 1);
    let report = w.gate(
        t,
        &[
            w.scan(&data("vuln-scan/trivy/alpine-310.json.golden")),
            passing_tests(&w, t),
        ],
    );
    let deny = check(&report, "requires[0].deny-list");
    assert!(
        !deny.passed && deny.reason.contains("CVE-2019-1551"),
        "{report}"
    );
}

#[test]
fn findings_without_severity_count_as_the_policy_says() {
    // cargo-audit states no severity; 5 of its 10 advisories have no CVSS
    // vector (and one is CVSS 4.0): unknown, so too high by default.
    let audit = data("vuln-scan/cargo-audit/many_findings_cvss.json");
    let w = world(json!({"maxSeverity": "critical"}), json!({}));
    let t = Timestamp::from_unix(1_800_000_000);
    let scan = |w: &World| {
        let s = ScanReport::from_slice(&audit, None).unwrap();
        let p = convert::vulns(&s, "audit.json", Some(t)).unwrap();
        sign(&Statement::new(w.subject(), &p).unwrap(), &w.scanner)
    };
    let report = w.gate(t, &[scan(&w), passing_tests(&w, t)]);
    let severity = check(&report, "requires[0].severity");
    assert!(!severity.passed);
    assert!(
        severity
            .reason
            .contains("RUSTSEC-2026-0044 (unknown severity)"),
        "{}",
        severity.reason
    );
    assert!(
        severity.reason.contains("RUSTSEC-2026-0141"),
        "CVSS 4.0 is not computed: {}",
        severity.reason
    );
    let w = world(
        json!({"maxSeverity": "high", "unknownSeverity": "medium"}),
        json!({}),
    );
    let report = w.gate(t, &[scan(&w), passing_tests(&w, t)]);
    assert!(check(&report, "requires[0].severity").passed, "{report}");
}
