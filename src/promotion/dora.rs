//! DORA metrics computed from the promotion records and incidents.

use std::fmt;

use serde::Serialize;

use crate::render::{Render, Titled, one_line, one_line_each};

use crate::predicate::promotion::PromotionKind;
use crate::report::{Check, Report};
use crate::time::Timestamp;

use super::{Store, ValidationOptions, VerifiedHistory, validate};
use crate::policy::ActivePolicy;

/// Targets to compare the metrics with (each optional).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct DoraTargets {
    /// At least this many deployments per day.
    pub min_deployments_per_day: Option<f64>,
    /// Median lead time (commit to deployment) at most this many seconds.
    pub max_lead_time_seconds: Option<i64>,
    /// Change failure rate at most this fraction (0.10 = 10 %).
    pub max_change_failure_rate: Option<f64>,
    /// Median time to restore at most this many seconds.
    pub max_time_to_restore_seconds: Option<i64>,
}

/// The four DORA metrics for one environment over a window.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct DoraMetrics {
    /// Deployments (promotions and emergencies; rollbacks excluded) in the window.
    pub deployments: usize,
    /// Window length in days.
    pub days: f64,
    /// Deployments per day.
    pub deployments_per_day: f64,
    /// Median seconds from commit to deployment (deployments that record a commit time).
    pub lead_time_median_seconds: Option<i64>,
    /// Fraction of deployments whose artifact then had an incident in the environment.
    pub change_failure_rate: Option<f64>,
    /// Median seconds from an incident's opening to its resolution
    /// (incidents opened in the window and resolved).
    pub time_to_restore_median_seconds: Option<i64>,
    /// The metrics against the targets, one named check each.
    #[serde(skip)]
    pub report: Report,
}

fn median(mut values: Vec<i64>) -> Option<i64> {
    values.sort_unstable();
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mid = n / 2;
    if n % 2 == 1 {
        values.get(mid).copied()
    } else {
        Some((values.get(mid - 1)? + values.get(mid)?) / 2)
    }
}

/// Computes the metrics for `environment` over `[start, end)`.
///
/// * deployment frequency: records of kind promotion or emergency in the
///   window, per day;
/// * lead time: each such deployment's time minus its artifact's commit
///   time (carried from the entry promotion), median;
/// * change failure rate: the share of those deployments whose artifact
///   later had an incident in the environment (opened at or after the
///   deployment and before the next one);
/// * time to restore: incidents opened in the window and resolved,
///   resolution minus opening, median.
///
/// Only verified records and incidents count: the history comes from
/// [`validate`](super::validate). `None` when `environment` is not a
/// verified environment of `history`.
pub fn dora(
    history: &VerifiedHistory,
    environment: &str,
    start: Timestamp,
    end: Timestamp,
    targets: &DoraTargets,
) -> Option<DoraMetrics> {
    let entries = history.environment(environment).filter(|e| e.verified())?;
    let found: Vec<_> = history.incidents(environment).collect();
    let in_window = |t: &Timestamp| *t >= start && *t < end;

    let mut deployments = 0usize;
    let mut failed = 0usize;
    let mut lead_times = Vec::new();
    for (i, entry) in entries.records().enumerate() {
        if entry.kind() == PromotionKind::Rollback || !in_window(&entry.time()) {
            continue;
        }
        deployments += 1;
        if let Some(commit) = entry.commit_time() {
            lead_times.push(commit.seconds_until(&entry.time()));
        }
        let until = entries.get(i + 1).map(|n| n.time());
        let artifact = entry.artifact();
        let caused_incident = found.iter().any(|inc| {
            inc.artifact.matches(&artifact).is_ok()
                && inc.incident.opened >= entry.time()
                && until.is_none_or(|u| inc.incident.opened < u)
        });
        if caused_incident {
            failed += 1;
        }
    }
    let restores: Vec<i64> = found
        .iter()
        .filter(|i| in_window(&i.incident.opened))
        .filter_map(|i| {
            i.incident
                .resolved
                .map(|r| i.incident.opened.seconds_until(&r))
        })
        .collect();

    let days = (start.seconds_until(&end) as f64 / 86_400.0).max(f64::MIN_POSITIVE);
    let mut metrics = DoraMetrics {
        deployments,
        days,
        deployments_per_day: deployments as f64 / days,
        lead_time_median_seconds: median(lead_times),
        change_failure_rate: (deployments > 0).then(|| failed as f64 / deployments as f64),
        time_to_restore_median_seconds: median(restores),
        report: Report::new(),
    };
    metrics.report = compare(&metrics, targets);
    Some(metrics)
}

/// DORA metrics with the validation they rest on: a `chain` check (the
/// environment's history validates, or why not), then the metrics' own
/// checks against the targets.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DoraOutcome {
    /// The environment.
    pub environment: String,
    /// The window's start (inclusive).
    pub since: Timestamp,
    /// The window's end (exclusive).
    pub until: Timestamp,
    /// `chain`, then one check per target.
    pub report: Report,
    /// The metrics, when the history validated.
    pub metrics: Option<DoraMetrics>,
}

impl Render for DoraOutcome {
    /// A heading line, the metrics, the checks and the verdict.
    fn to_text(&self) -> String {
        let mut out = format!(
            "DORA metrics for `{}`, {} to {}\n",
            one_line(&self.environment),
            self.since,
            self.until
        );
        if let Some(m) = &self.metrics {
            out.push_str(&m.to_string());
        }
        out.push_str(&Titled::new("", &self.report, "").to_text());
        out
    }

    /// The checks' table under a verdict heading, then the metrics in a
    /// code block.
    fn to_markdown(&self) -> String {
        let title = format!(
            "DORA metrics for {}, {} to {}",
            self.environment, self.since, self.until
        );
        let mut out = Titled::new(&title, &self.report, "").to_markdown();
        if let Some(m) = &self.metrics {
            out.push_str(&format!("\n```text\n{}```", one_line_each(&m.to_string())));
        }
        out
    }

    /// `{"verified", "checks", "environment", "since", "until", "metrics"}`.
    fn to_json(&self) -> Result<String, serde_json::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            verified: bool,
            checks: &'a [Check],
            environment: &'a str,
            since: String,
            until: String,
            metrics: &'a Option<DoraMetrics>,
        }
        serde_json::to_string_pretty(&Out {
            verified: self.report.verified(),
            checks: self.report.checks(),
            environment: &self.environment,
            since: self.since.to_string(),
            until: self.until.to_string(),
            metrics: &self.metrics,
        })
    }
}

impl fmt::Display for DoraMetrics {
    /// One line per metric.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hours = |s: i64| format!("{:.1} h", s as f64 / 3600.0);
        let minutes = |s: i64| format!("{:.1} min", s as f64 / 60.0);
        writeln!(
            f,
            "deployment frequency: {} deployment(s) in {:.1} day(s), {:.2} per day",
            self.deployments, self.days, self.deployments_per_day
        )?;
        writeln!(
            f,
            "lead time: {}",
            self.lead_time_median_seconds.map_or_else(
                || "n/a (no deployment in the window records a commit time)".to_owned(),
                |s| format!("median {}", hours(s))
            )
        )?;
        writeln!(
            f,
            "change failure rate: {}",
            self.change_failure_rate.map_or_else(
                || "n/a (no deployments in the window)".to_owned(),
                |r| format!("{:.1} %", r * 100.0)
            )
        )?;
        writeln!(
            f,
            "time to restore: {}",
            self.time_to_restore_median_seconds.map_or_else(
                || "n/a (no resolved incidents opened in the window)".to_owned(),
                |s| format!("median {}", minutes(s))
            )
        )
    }
}

/// Validates `environment` (transitively) and computes its metrics over
/// `[start, end)`: what `verifier dora` reports.
pub fn dora_from_store(
    store: &dyn Store,
    policy: &ActivePolicy,
    environment: &str,
    start: Timestamp,
    end: Timestamp,
    targets: &DoraTargets,
    options: &ValidationOptions,
) -> DoraOutcome {
    let validation = validate(store, policy, &[environment], options);
    let mut report = Report::new();
    let failure = validation
        .report(environment)
        .and_then(Report::first_failure);
    let records = validation
        .history()
        .environment(environment)
        .map_or(0, |e| e.len());
    report.push(match failure {
        None => Check::pass(
            "chain",
            format!("the history of `{environment}` validates ({records} record(s))"),
        ),
        Some(c) => Check::fail(
            "chain",
            format!(
                "the history of `{environment}` does not validate, so its metrics prove nothing: {}: {}",
                c.name, c.reason
            ),
        ),
    });
    let metrics = dora(validation.history(), environment, start, end, targets);
    if let Some(m) = &metrics {
        report.extend(m.report.clone());
    }
    DoraOutcome {
        environment: environment.to_owned(),
        since: start,
        until: end,
        report,
        metrics,
    }
}

fn compare(m: &DoraMetrics, t: &DoraTargets) -> Report {
    let mut report = Report::new();
    let hours = |s: i64| format!("{:.1} h", s as f64 / 3600.0);
    if let Some(min) = t.min_deployments_per_day {
        let text = format!(
            "{:.2} per day ({} in {:.1} days), target at least {min}",
            m.deployments_per_day, m.deployments, m.days
        );
        report.push(if m.deployments_per_day >= min {
            Check::pass("deployment-frequency", text)
        } else {
            Check::fail("deployment-frequency", text)
        });
    }
    if let Some(max) = t.max_lead_time_seconds {
        report.push(match m.lead_time_median_seconds {
            Some(v) if v <= max => Check::pass(
                "lead-time",
                format!("median {}, target at most {}", hours(v), hours(max)),
            ),
            Some(v) => Check::fail(
                "lead-time",
                format!("median {}, target at most {}", hours(v), hours(max)),
            ),
            None => Check::fail(
                "lead-time",
                "no deployment in the window records a commit time",
            ),
        });
    }
    if let Some(max) = t.max_change_failure_rate {
        report.push(match m.change_failure_rate {
            Some(v) if v <= max => Check::pass(
                "change-failure-rate",
                format!("{:.1} %, target at most {:.1} %", v * 100.0, max * 100.0),
            ),
            Some(v) => Check::fail(
                "change-failure-rate",
                format!("{:.1} %, target at most {:.1} %", v * 100.0, max * 100.0),
            ),
            None => Check::fail("change-failure-rate", "no deployments in the window"),
        });
    }
    if let Some(max) = t.max_time_to_restore_seconds {
        let minutes = |s: i64| format!("{:.1} min", s as f64 / 60.0);
        report.push(match m.time_to_restore_median_seconds {
            Some(v) if v <= max => Check::pass(
                "time-to-restore",
                format!("median {}, target at most {}", minutes(v), minutes(max)),
            ),
            Some(v) => Check::fail(
                "time-to-restore",
                format!("median {}, target at most {}", minutes(v), minutes(max)),
            ),
            None => Check::pass("time-to-restore", "no resolved incidents in the window"),
        });
    }
    report
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(vec![3, 1, 2]), Some(2));
        assert_eq!(median(vec![4, 1, 2, 3]), Some(2));
        assert_eq!(median(vec![]), None);
    }
}
