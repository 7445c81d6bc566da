//! From tool outputs to predicates: JUnit to in-toto test-result v0.1,
//! scanner reports to in-toto vulns v0.2, VEX to OpenVEX 0.2.0.
//!
//! Each predicate names its inputs by digest: a test result lists every
//! JUnit file in `configuration` (name, sha256, media type, and in
//! `annotations` the counts and `finishedOn`, the time freshness is judged
//! by); a vulns predicate names its report in `metadata.report`.

use serde_json::{Map, Value, json};

use super::junit::{CaseOutcome, JunitReport};
use super::scan::{ScanFormat, ScanReport};
use super::vex::{OpenVexDocument, VexDocument};
use crate::predicate::test_result::{TestOutcome, TestResult};
use crate::predicate::vulns::{
    Finding, ScanMetadata, Scanner, SeverityScore, VulnDatabase, VulnerabilityReport,
};
use crate::time::Timestamp;

/// The annotation holding when a JUnit file was converted (RFC 3339).
pub const FINISHED_ON: &str = "finishedOn";

/// The `format` annotation on a JUnit file's configuration entry.
pub const JUNIT_FORMAT: &str = "junit";

/// The annotation counting a JUnit file's cases that are counted but not
/// named in the predicate's lists (present only when some are not: the
/// file was read with [`KeepCases::NotPassed`](super::junit::KeepCases)).
pub const UNLISTED: &str = "unlisted";

/// The count annotations each JUnit file's configuration entry carries
/// (exact, whatever the lists name).
pub const COUNT_ANNOTATIONS: [&str; 6] =
    ["tests", "passed", "failures", "errors", "skipped", "flaky"];

/// A test-result predicate from JUnit reports, each given with its file
/// name. `FAILED` if any case failed or errored; else `WARNED` if any was
/// skipped; else `PASSED` (from the counts, which cover every case). The
/// cases each report kept go to the lists as `<classname>::<name>`: passed
/// (including flaky) to `passedTests`, skipped to `warnedTests`, failed and
/// errored to `failedTests`; a report read with
/// [`KeepCases::NotPassed`](super::junit::KeepCases) names no plain pass
/// and its file's [`UNLISTED`] annotation says how many cases are counted
/// but not named. Each file's configuration entry carries the exact counts
/// ([`COUNT_ANNOTATIONS`]) and `finished_on` (when the tests ran; the CLI
/// uses the time it converts).
///
/// ```
/// use custodia::evidence::{convert, junit::JunitReport};
/// use custodia::predicate::test_result::TestOutcome;
/// let run = JunitReport::from_slice(br#"<testsuite><testcase classname="a" name="b"/></testsuite>"#)?;
/// let result = convert::test_result(&[("junit.xml", &run)], None);
/// assert_eq!(result.result, TestOutcome::Passed);
/// assert_eq!(result.passed_tests, vec!["a::b".to_owned()]);
/// assert_eq!(result.configuration[0].annotations["tests"], 1);
/// # Ok::<(), custodia::Error>(())
/// ```
pub fn test_result(files: &[(&str, &JunitReport)], finished_on: Option<Timestamp>) -> TestResult {
    let mut result = TestResult::new(TestOutcome::Passed);
    for (name, run) in files {
        describe(&mut result, name, run, finished_on);
        for case in run.cases() {
            list(&mut result, case.outcome, case.id.clone());
        }
    }
    result.result = outcome(&result);
    result
}

/// [`test_result`] from reports it may take apart: the case ids move into
/// the predicate instead of being copied (half the memory and allocations
/// for a large report).
///
/// ```
/// use custodia::evidence::{convert, junit::JunitReport};
/// let run = JunitReport::from_slice(br#"<testsuite><testcase classname="a" name="b"/></testsuite>"#)?;
/// let copied = convert::test_result(&[("junit.xml", &run)], None);
/// assert_eq!(convert::into_test_result(vec![("junit.xml", run)], None), copied);
/// # Ok::<(), custodia::Error>(())
/// ```
pub fn into_test_result(
    files: Vec<(&str, JunitReport)>,
    finished_on: Option<Timestamp>,
) -> TestResult {
    let mut result = TestResult::new(TestOutcome::Passed);
    for (name, run) in files {
        describe(&mut result, name, &run, finished_on);
        for case in run.into_cases() {
            list(&mut result, case.outcome, case.id);
        }
    }
    result.result = outcome(&result);
    result
}

/// The JUnit file's configuration entry: digest, counts, time.
fn describe(
    result: &mut TestResult,
    name: &str,
    run: &JunitReport,
    finished_on: Option<Timestamp>,
) {
    let c = run.counts();
    let mut rd = run.source().descriptor(name, "application/xml");
    rd.annotations
        .insert("format".to_owned(), json!(JUNIT_FORMAT));
    let values = [c.tests, c.passed, c.failures, c.errors, c.skipped, c.flaky];
    for (key, value) in COUNT_ANNOTATIONS.iter().zip(values) {
        rd.annotations.insert((*key).to_owned(), json!(value));
    }
    if run.cases_not_kept() > 0 {
        rd.annotations
            .insert(UNLISTED.to_owned(), json!(run.cases_not_kept()));
    }
    if let Some(t) = finished_on {
        rd.annotations
            .insert(FINISHED_ON.to_owned(), json!(t.to_string()));
    }
    result.configuration.push(rd);
}

fn list(result: &mut TestResult, outcome: CaseOutcome, id: String) {
    match outcome {
        CaseOutcome::Passed => result.passed_tests.push(id),
        CaseOutcome::Skipped => result.warned_tests.push(id),
        CaseOutcome::Failed | CaseOutcome::Error => result.failed_tests.push(id),
    }
}

/// `FAILED` if any file counts a failure or error, else `WARNED` if any
/// counts a skip, else `PASSED` (the lists agree with the counts, which
/// also cover the cases not listed).
fn outcome(result: &TestResult) -> TestOutcome {
    let count = |key: &str| {
        result
            .configuration
            .iter()
            .filter_map(|rd| rd.annotations.get(key).and_then(Value::as_u64))
            .fold(0u64, u64::saturating_add)
    };
    if count("failures") > 0 || count("errors") > 0 || !result.failed_tests.is_empty() {
        TestOutcome::Failed
    } else if count("skipped") > 0 || !result.warned_tests.is_empty() {
        TestOutcome::Warned
    } else {
        TestOutcome::Passed
    }
}

fn scanner_uri(scan: &ScanReport) -> String {
    let base = match scan.format() {
        ScanFormat::Trivy => "pkg:github/aquasecurity/trivy".to_owned(),
        ScanFormat::Grype => "pkg:github/anchore/grype".to_owned(),
        ScanFormat::Osv => "pkg:github/google/osv-scanner".to_owned(),
        ScanFormat::CargoAudit => "pkg:cargo/cargo-audit".to_owned(),
        _ => {
            let name: String = scan
                .scanner()
                .name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                        c.to_ascii_lowercase()
                    } else {
                        '-'
                    }
                })
                .collect();
            format!("pkg:generic/{name}")
        }
    };
    match &scan.scanner().version {
        Some(v) if !v.is_empty() => format!("{base}@{v}"),
        _ => base,
    }
}

/// A vulns v0.2 predicate from a scanner report read from file `name`.
/// Each finding carries the tool's severity (method: the tool's name) when
/// it states one, else the CVSS vectors or scores it gives (cargo-audit,
/// OSV), else none (unknown: a gate counts it as its policy says);
/// package, version, purl, aliases, fixed version, status and location go
/// in its annotations. Scan times are the report's own where it has one
/// (Trivy `CreatedAt`, Grype `descriptor.timestamp`), else `scanned_on`.
///
/// ```
/// use custodia::evidence::{convert, scan::ScanReport};
/// use custodia::predicate::vulns::Severity;
/// let scan = ScanReport::from_slice(br#"{"database":null,"lockfile":{"dependency-count":1},
///   "vulnerabilities":{"found":true,"count":1,"list":[{"advisory":{"id":"RUSTSEC-2024-1",
///   "cvss":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},"package":{"name":"x","version":"1.0.0"}}]}}"#, None)?;
/// let p = convert::vulns(&scan, "audit.json", None)?;
/// assert_eq!(p.findings()[0].1, Some(Severity::Critical)); // CVSS 9.8, from the vector
/// # Ok::<(), custodia::Error>(())
/// ```
pub fn vulns(
    scan: &ScanReport,
    name: &str,
    scanned_on: Option<Timestamp>,
) -> Result<VulnerabilityReport, crate::Error> {
    let tool = scan.scanner().name.clone();
    let result = scan
        .findings()
        .iter()
        .map(|f| {
            let mut severity = Vec::new();
            if let Some(s) = &f.tool_severity {
                if f.severity.is_some() {
                    severity.push(SeverityScore::new(tool.clone(), s.clone()));
                }
            }
            if severity.is_empty() {
                for (method, score) in &f.scores {
                    if crate::predicate::vulns::Severity::from_score(score).is_some() {
                        severity.push(SeverityScore::new(method.clone(), score.clone()));
                    }
                }
            }
            let mut a = Map::new();
            let mut put = |k: &str, v: &Option<String>| {
                if let Some(v) = v {
                    a.insert(k.to_owned(), Value::String(v.clone()));
                }
            };
            put("package", &f.package);
            put("version", &f.version);
            put("purl", &f.purl);
            put("fixedVersion", &f.fixed_version);
            put("status", &f.status);
            put("location", &f.location);
            put("toolSeverity", &f.tool_severity);
            if !f.aliases.is_empty() {
                a.insert("aliases".to_owned(), json!(f.aliases));
            }
            if !f.scores.is_empty() {
                a.insert(
                    "scores".to_owned(),
                    Value::Array(
                        f.scores
                            .iter()
                            .map(|(m, s)| json!({"method": m, "score": s}))
                            .collect(),
                    ),
                );
            }
            let mut finding = Finding::new(f.id.clone(), severity);
            if !a.is_empty() {
                finding.annotations.push(a);
            }
            finding
        })
        .collect();
    let db = scan.scanner();
    let db = (db.database_version.is_some() || db.database_updated.is_some()).then(|| {
        let mut d = VulnDatabase::default();
        d.version.clone_from(&db.database_version);
        d.last_update.clone_from(&db.database_updated);
        d
    });
    let created = match scan.created() {
        Some(t) => {
            Some(
                t.parse::<Timestamp>()
                    .map_err(|e| crate::error::EvidenceError::Invalid {
                        format: "scanner report",
                        path: "scan time".to_owned(),
                        reason: e.to_string(),
                    })?,
            )
        }
        None => scanned_on,
    };
    let media_type = if scan.format() == ScanFormat::Sarif {
        "application/sarif+json"
    } else {
        "application/json"
    };
    let metadata = ScanMetadata {
        scan_started_on: created,
        scan_finished_on: created,
        report: Some(scan.source().descriptor(name, media_type)),
    };
    Ok(VulnerabilityReport::from_parts(
        Scanner::new(
            scanner_uri(scan),
            scan.scanner().version.clone(),
            db,
            result,
        ),
        Some(metadata),
    ))
}

/// A VEX document as the OpenVEX 0.2.0 predicate `attest vex` writes.
pub fn openvex(doc: &VexDocument) -> OpenVexDocument {
    doc.to_openvex()
}
