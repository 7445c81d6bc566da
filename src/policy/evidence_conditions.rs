//! Conditions on CI evidence: tests actually run, findings after VEX,
//! deny-listed vulnerabilities, and evidence freshness at promotion time.
//! Each condition set on a requirement becomes a named check
//! (`requires[i].tests`, `.severity`, `.deny-list`, `.freshness`) with the
//! counts or vulnerability ids in its reason.

use crate::digest::elide_middle;
use crate::evidence::convert::{COUNT_ANNOTATIONS, FINISHED_ON, JUNIT_FORMAT};
use crate::evidence::judge::{SeverityRule, judge};
use crate::evidence::vex::{OPENVEX_V0_2_0, VexDocument};
use crate::predicate::test_result::{TEST_RESULT_V0_1, TestOutcome, TestResult};
use crate::predicate::vulns::VulnerabilityReport;
use crate::report::Check;
use crate::statement::Statement;
use crate::time::Timestamp;

use super::gate::{ActivePolicy, EvidenceEnvelope, GateRequest};
use super::{Conditions, Requirement};

/// Clock skew tolerated for evidence dated after the promotion (seconds).
const FUTURE_SKEW_SECONDS: i64 = 300;

impl Conditions {
    /// Whether any evidence condition is set (the others are checked by
    /// the gate itself).
    pub(super) fn has_evidence_conditions(&self) -> bool {
        self.min_tests_run.is_some()
            || self.max_severity.is_some()
            || !self.deny_vulnerabilities.is_empty()
            || self.max_age_seconds.is_some()
    }
}

/// The evidence checks for one candidate statement (names without the
/// `requires[i].` prefix).
pub(super) fn evaluate(
    policy: &ActivePolicy,
    requirement: &Requirement,
    request: &GateRequest,
    evidence: &[EvidenceEnvelope],
    statement: &Statement,
) -> Vec<Check> {
    let c = &requirement.conditions;
    let mut checks = Vec::new();
    if let Some(min) = c.min_tests_run {
        checks.push(tests_check(statement, min));
    }
    if c.max_severity.is_some() || !c.deny_vulnerabilities.is_empty() {
        checks.extend(vulns_checks(policy, c, request, evidence, statement));
    }
    if let Some(max_age) = c.max_age_seconds {
        checks.push(freshness_check(statement, max_age, request.time));
    }
    checks
}

/// Tests passed, failed or errored, and skipped.
#[derive(Default)]
struct RunCounts {
    passed: u64,
    failed: u64,
    skipped: u64,
}

/// A test result's counts: the sums of its JUnit files' count annotations
/// when it names any (exact even where the lists name only some cases),
/// else the lengths of its lists. Counts that do not add up, or lists
/// naming more tests than the counts, are refused.
fn run_counts(result: &TestResult) -> Result<RunCounts, String> {
    let listed = RunCounts {
        passed: result.passed_tests.len() as u64,
        failed: result.failed_tests.len() as u64,
        skipped: result.warned_tests.len() as u64,
    };
    let mut files = result
        .configuration
        .iter()
        .filter(|rd| rd.annotations.get("format").and_then(|v| v.as_str()) == Some(JUNIT_FORMAT))
        .peekable();
    if files.peek().is_none() {
        return Ok(listed);
    }
    let mut sum = RunCounts::default();
    for rd in files {
        let name = elide_middle(rd.name.as_deref().unwrap_or("(unnamed)"), 80);
        let mut counts = [0u64; 6];
        for (slot, key) in counts.iter_mut().zip(COUNT_ANNOTATIONS) {
            *slot = rd
                .annotations
                .get(key)
                .and_then(|v| v.as_u64())
                .ok_or_else(|| format!("JUnit file `{name}` has no `{key}` count"))?;
        }
        let [tests, passed, failures, errors, skipped, _flaky] = counts;
        let failed = failures.checked_add(errors);
        let total = failed
            .and_then(|f| f.checked_add(passed))
            .and_then(|t| t.checked_add(skipped));
        let (Some(failed), Some(total)) = (failed, total) else {
            return Err(format!("the counts of JUnit file `{name}` overflow"));
        };
        if total != tests {
            return Err(format!(
                "the counts of JUnit file `{name}` do not add up to its {tests} tests"
            ));
        }
        sum.passed = sum.passed.saturating_add(passed);
        sum.failed = sum.failed.saturating_add(failed);
        sum.skipped = sum.skipped.saturating_add(skipped);
    }
    if listed.passed > sum.passed || listed.failed > sum.failed || listed.skipped > sum.skipped {
        return Err("the lists name more tests than the JUnit files count".to_owned());
    }
    Ok(sum)
}

fn tests_check(statement: &Statement, min: u64) -> Check {
    let result: TestResult = match statement.predicate_as() {
        Ok(r) => r,
        Err(e) => return Check::fail("tests", format!("not a test result: {e}")),
    };
    let RunCounts {
        passed,
        failed,
        skipped,
    } = match run_counts(&result) {
        Ok(c) => c,
        Err(why) => return Check::fail("tests", why),
    };
    let run = passed.saturating_add(failed);
    let counts =
        format!("{run} run ({passed} passed, {failed} failed or errored, {skipped} skipped)");
    if failed > 0 {
        let names: Vec<String> = result
            .failed_tests
            .iter()
            .take(5)
            .map(|t| elide_middle(t, 120))
            .collect();
        Check::fail("tests", format!("{counts}; failed: {}", names.join(", ")))
    } else if result.result == TestOutcome::Failed {
        Check::fail("tests", format!("{counts}; the result is FAILED"))
    } else if run < min {
        Check::fail("tests", format!("{counts}; at least {min} must run"))
    } else {
        Check::pass("tests", format!("{counts}; at least {min} required"))
    }
}

fn vulns_checks(
    policy: &ActivePolicy,
    c: &Conditions,
    request: &GateRequest,
    evidence: &[EvidenceEnvelope],
    statement: &Statement,
) -> Vec<Check> {
    let report = match VulnerabilityReport::from_statement(statement) {
        Ok(r) => r,
        Err(e) => {
            return vec![Check::fail(
                "severity",
                format!("not a vulnerability report: {e}"),
            )];
        }
    };
    let mut vex = Vec::new();
    let mut vex_notes = Vec::new();
    if let Some(role) = &c.vex_signer_role {
        for ev in evidence.iter().filter(|ev| ev.claims(OPENVEX_V0_2_0)) {
            let opened = ev.open(policy, role, 1, &request.artifact);
            let (st, identities) = match opened {
                Ok(o) => o,
                Err(why) => {
                    vex_notes.push(format!(
                        "VEX {} not signed by role `{role}` ({why})",
                        ev.digest()
                    ));
                    continue;
                }
            };
            if st.subject_matching(&request.artifact).is_err() {
                vex_notes.push(format!("VEX {} is about another artifact", ev.digest()));
                continue;
            }
            match VexDocument::from_statement(st) {
                Ok(doc) => {
                    vex_notes.push(format!(
                        "VEX {} by {}",
                        ev.digest(),
                        identities.into_iter().collect::<Vec<_>>().join(", ")
                    ));
                    vex.push(doc);
                }
                Err(e) => vex_notes.push(format!("VEX {}: {e}", ev.digest())),
            }
        }
    }
    let rule = SeverityRule {
        // Only a deny list: every severity is allowed.
        max: c
            .max_severity
            .unwrap_or(crate::predicate::vulns::Severity::Critical),
        unknown_as: c.unknown_severity.or(c
            .max_severity
            .is_none()
            .then_some(crate::predicate::vulns::Severity::None)),
        deny: c.deny_vulnerabilities.clone(),
    };
    let mut checks = judge(&report, &vex, &request.artifact, &rule);
    if c.max_severity.is_none() {
        checks.retain(|ch| ch.name != "severity");
    }
    if !vex_notes.is_empty() {
        for ch in checks.iter_mut().filter(|ch| ch.name == "severity") {
            ch.reason = format!("{} [{}]", ch.reason, vex_notes.join("; "));
        }
    }
    checks
}

/// When the evidence was produced: a vulns report's `scanFinishedOn`, the
/// oldest `finishedOn` among a test result's JUnit files.
fn produced_at(statement: &Statement) -> Result<Timestamp, String> {
    if statement.predicate_type() == TEST_RESULT_V0_1 {
        let result: TestResult = statement.predicate_as().map_err(|e| e.to_string())?;
        let mut oldest: Option<Timestamp> = None;
        for rd in &result.configuration {
            let Some(t) = rd.annotations.get(FINISHED_ON).and_then(|v| v.as_str()) else {
                return Err(format!(
                    "configuration `{}` has no `{FINISHED_ON}` annotation",
                    elide_middle(rd.name.as_deref().unwrap_or("(unnamed)"), 80)
                ));
            };
            let t: Timestamp = t.parse().map_err(|e: crate::Error| e.to_string())?;
            oldest = Some(oldest.map_or(t, |o| o.min(t)));
        }
        return oldest.ok_or_else(|| "the test result names no JUnit file with a time".to_owned());
    }
    let report = VulnerabilityReport::from_statement(statement).map_err(|e| e.to_string())?;
    report
        .metadata
        .and_then(|m| m.scan_finished_on)
        .ok_or_else(|| "the report has no metadata.scanFinishedOn".to_owned())
}

fn freshness_check(statement: &Statement, max_age: u64, now: Timestamp) -> Check {
    let at = match produced_at(statement) {
        Ok(t) => t,
        Err(why) => return Check::fail("freshness", format!("age unknown: {why}")),
    };
    let age = at.seconds_until(&now);
    if age < -FUTURE_SKEW_SECONDS {
        return Check::fail(
            "freshness",
            format!("produced at {at}, after the promotion time {now}"),
        );
    }
    let limit = i64::try_from(max_age).unwrap_or(i64::MAX);
    if age > limit {
        Check::fail(
            "freshness",
            format!("produced at {at}: {age} s old at {now}, over the {max_age} s allowed"),
        )
    } else {
        Check::pass(
            "freshness",
            format!(
                "produced at {at}: {} s old, {max_age} s allowed",
                age.max(0)
            ),
        )
    }
}
