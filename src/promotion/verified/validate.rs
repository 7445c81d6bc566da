//! Validation of environments' histories: links, records, gates, source paths, reports.

use std::collections::{BTreeMap, HashSet};

use crate::digest::{Digest, elide_middle};
use crate::policy::ActivePolicy;
use crate::predicate::promotion::PromotionKind;
use crate::report::{Check, CheckSubject, Report};

use super::super::Store;
use super::index::RecordIndex;
use super::open::{Opened, open_environments};
use super::scan::{StoreScan, check_incident, scan_store, unlinked_check};
use super::sources::resolve_sources;
use super::{
    EnvironmentHistory, RECORDS_CHECK, STORE_HYGIENE, Validation, ValidationOptions,
    VerifiedHistory,
};

/// Validates `environments` and every environment their records came from,
/// and returns the accepted history with one report per environment.
///
/// Each environment's report has one passing `records` check for the
/// records it accepted (their lines are
/// [`VerifiedRecord::summary`](super::VerifiedRecord::summary)), one
/// failing `record[i]` check for the first record it rejected (later links
/// cannot be trusted to mean anything), then `head` (when the store keeps
/// a head hint), `unlinked-records`, `incidents`, and `emergencies` when
/// there were any.
pub fn validate(
    store: &dyn Store,
    policy: &ActivePolicy,
    environments: &[&str],
    options: &ValidationOptions,
) -> Validation {
    let Opened {
        mut history,
        known,
        order,
        links,
        mut candidates,
        outcomes,
        stopped,
    } = open_environments(store, policy, environments, options);

    // Every other stored envelope: unlinked records and incidents.
    let mut scan = scan_store(store, policy, known);

    let mut incident_failures: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut incidents = Vec::new();
    for entry in std::mem::take(&mut scan.incidents) {
        match check_incident(&entry, options) {
            Ok(()) => incidents.push(entry),
            Err(reason) => incident_failures
                .entry(entry.incident.environment.clone())
                .or_default()
                .push(reason),
        }
    }

    // Source paths and rollback targets, each record once.
    let statuses = resolve_sources(&candidates, &outcomes, &history.index, &incidents);
    history.incidents = incidents;
    history.scanned = std::mem::take(&mut scan.scanned);
    let mut reports = Vec::new();
    for environment in order {
        let mut list = candidates
            .remove(&environment)
            .unwrap_or_else(|| EnvironmentHistory::named(&environment));
        // Read before rejected candidates are dropped: the chain's first
        // digests are theirs.
        let tail = links.get(&environment).map_or(&[][..], Vec::as_slice);
        let (head, unlinked) = hygiene(store, &scan, &list, tail, &history.index);
        let mut report = Report::new();
        let mut emergencies = Vec::new();
        let mut rejected: Option<Check> = None;
        let mut accepted = list.len();
        for (at, c) in list.records().enumerate() {
            // A status of Ok includes the record's own checks.
            let status = statuses.get(environment.as_str()).and_then(|l| l.get(at));
            let why = match status {
                Some(Ok(())) => None,
                Some(Err(reason)) => Some(format!(
                    "{}: {reason} (the record linked after {} in `{environment}`)",
                    c.digest(),
                    at.checked_sub(1)
                        .and_then(|p| list.get(p))
                        .map_or("genesis".to_owned(), |p| p.digest().hex())
                )),
                None => Some(format!("{}: not checked", c.digest())),
            };
            if let Some(why) = why {
                rejected = Some(Check::fail(format!("record[{}]", c.index()), why).about(
                    CheckSubject::record(&environment, c.index(), Some(&c.digest())),
                ));
                accepted = at;
                break;
            }
            if c.kind() == PromotionKind::Emergency {
                emergencies.push(format!(
                    "record[{}] {}: {}",
                    c.index(),
                    c.digest(),
                    elide_middle(c.reason().unwrap_or(""), 200)
                ));
            }
        }
        list.truncate(accepted);
        let last = list.last().map(|c| c.digest());
        history.adopt(&environment, list);
        // One check for all accepted records: a million records are data
        // in the history ([`VerifiedRecord::summary`]), not a million
        // lines held in the report.
        if let Some(head) = &last {
            report.push(records_check(&environment, accepted, head));
        }
        if let Some(check) = rejected {
            report.push(check);
        }
        if report.verified() || report.checks().is_empty() {
            if let Some((i, digest, reason)) = stopped.get(&environment) {
                report.push(
                    Check::fail(
                        format!("record[{i}]"),
                        format!(
                            "{reason} (the record linked after {} in `{environment}`)",
                            last.as_ref().map_or("genesis".to_owned(), Digest::hex)
                        ),
                    )
                    .about(CheckSubject::record(
                        &environment,
                        *i,
                        digest.as_ref(),
                    )),
                );
            }
        }
        if report.checks().is_empty() {
            report.push(Check::pass(
                "history",
                format!("`{environment}` has no promotions yet"),
            ));
        }
        if let Some(head) = head {
            report.push(head);
        }
        report.push(unlinked);
        match incident_failures.get(&environment) {
            Some(reasons) => report.push(Check::fail("incidents", reasons.join("; "))),
            None => {
                let n = history.incidents(&environment).count();
                if n > 0 {
                    report.push(Check::pass(
                        "incidents",
                        format!("{n} signed incident(s) with possible times"),
                    ));
                }
            }
        }
        if !emergencies.is_empty() {
            report.push(Check::pass(
                "emergencies",
                format!(
                    "FLAGGED: {} emergency promotion(s): {}",
                    emergencies.len(),
                    emergencies.join("; ")
                ),
            ));
        }
        // The head hint and records outside the chain are the store's
        // hygiene, reported to auditors; decisions read only linked,
        // verified records, so those two do not make the history unusable
        // (a crash between storing and linking, a torn hint).
        let complete = report
            .checks()
            .iter()
            .all(|c| c.passed || STORE_HYGIENE.contains(&c.name.as_str()));
        history
            .environments
            .entry(environment.clone())
            .or_insert_with(|| EnvironmentHistory::named(&environment))
            .complete = complete;
        reports.push((environment, report));
    }
    history.prune();
    Validation { reports, history }
}

/// The store's upkeep for one environment: its head hint, and the
/// promotion records into it outside its chain. `candidates` are the
/// records its chain opened to (the chain's first digests), `tail` the
/// linked digests after them.
fn hygiene(
    store: &dyn Store,
    scan: &StoreScan,
    candidates: &EnvironmentHistory,
    tail: &[Digest],
    index: &RecordIndex,
) -> (Option<Check>, Check) {
    let environment = candidates.name();
    let is_candidate = |d: &Digest| index.record_in(d, candidates).is_some();
    let last = tail
        .last()
        .cloned()
        .or_else(|| candidates.last().map(|r| r.digest()));
    let head = match store.head_hint(environment) {
        Ok(None) => None,
        Ok(Some(hint)) if Some(&hint) == last.as_ref() => Some(Check::pass(
            "head",
            format!("the store's head of `{environment}` is {hint}"),
        )),
        // A promotion that stopped between linking and updating the
        // hint leaves it behind: harmless, the links are the truth.
        Ok(Some(hint)) if tail.contains(&hint) || is_candidate(&hint) => Some(Check::pass(
            "head",
            format!(
                "the store's head hint of `{environment}` ({hint}) is behind its linked history (an interrupted promotion)"
            ),
        )),
        Ok(Some(hint)) => Some(Check::fail(
            "head",
            format!(
                "the store says the head of `{environment}` is {hint}, but its linked history ends at {}",
                last.map_or("(nothing)".to_owned(), |d| d.to_string())
            ),
        )),
        Err(e) => Some(Check::fail("head", e.to_string())),
    };
    let tail: HashSet<&Digest> = tail.iter().collect();
    let unlinked = unlinked_check(scan, environment, |d| tail.contains(d) || is_candidate(d));
    (head, unlinked)
}

/// The one passing check for an environment's `accepted` records (those
/// before the first rejected one, if any), ending at `head`.
fn records_check(environment: &str, accepted: usize, head: &Digest) -> Check {
    Check::pass(
        RECORDS_CHECK,
        format!(
            "{accepted} record(s) verified, record[0] to record[{}], the last {head}",
            accepted.saturating_sub(1)
        ),
    )
    .about(CheckSubject::environment(environment))
}

/// Validates one environment (and, transitively, where its records came
/// from) as of the system clock, returning its report. For decisions use
/// [`validate`] and the [`VerifiedHistory`] it returns.
pub fn validate_chain(store: &dyn Store, policy: &ActivePolicy, environment: &str) -> Report {
    let validation = validate(store, policy, &[environment], &ValidationOptions::default());
    validation.report(environment).cloned().unwrap_or_default()
}

/// Convenience for callers that need a verified history or a reason.
pub(crate) fn verified_history(
    store: &dyn Store,
    policy: &ActivePolicy,
    environments: &[&str],
    options: &ValidationOptions,
) -> Result<VerifiedHistory, Report> {
    let validation = validate(store, policy, environments, options);
    let mut failures = Report::new();
    for (env, report) in validation.reports() {
        let usable = validation
            .history()
            .environment(env)
            .is_some_and(EnvironmentHistory::verified);
        if environments.contains(&env.as_str()) && !usable {
            if let Some(c) = report
                .checks()
                .iter()
                .find(|c| !c.passed && !STORE_HYGIENE.contains(&c.name.as_str()))
            {
                failures.push(Check::fail(
                    "history",
                    format!("`{env}` does not validate: {}: {}", c.name, c.reason),
                ));
            }
        }
    }
    if failures.checks().is_empty() {
        Ok(validation.into_history())
    } else {
        Err(failures)
    }
}
