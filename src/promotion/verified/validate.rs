//! Validation of environments' histories: links, records, gates, source paths, reports.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::digest::{Digest, elide_middle};
use crate::policy::ActivePolicy;
use crate::predicate::promotion::PromotionKind;
use crate::report::{Check, CheckSubject, Report};
use crate::time::Timestamp;

use super::super::Store;
use super::super::chain::PROMOTER_ROLE;
use super::records::{
    Links, check_gate, check_order, follow_links, map_positions, map_records, open_record,
};
use super::scan::{Known, check_incident, scan_store, unlinked_check};
use super::sources::{find_candidate, resolve_sources};
use super::{
    EnvironmentHistory, Names, RECORDS_CHECK, STORE_HYGIENE, Validation, ValidationOptions,
    VerifiedHistory, VerifiedRecord,
};

/// How many records are opened (read, verified, parsed) at once before
/// they are checked in order and kept compact: enough to keep two cores
/// busy, few enough that whole records never fill memory.
const OPEN_BATCH: usize = 4096;

/// Validates `environments` and every environment their records came from,
/// and returns the accepted history with one report per environment.
///
/// Each environment's report has one passing `records` check for the
/// records it accepted (their lines are [`VerifiedRecord::summary`]), one
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
    let promoters = policy.keys_with_role(PROMOTER_ROLE);
    // What the records and gates read, the store scan need not read again.
    let mut known = Known::default();

    // Environments in scope: those asked for, then where their records
    // came from, transitively.
    let mut order: Vec<String> = Vec::new();
    let mut queue: Vec<String> = environments.iter().map(|e| (*e).to_owned()).collect();
    let mut links: BTreeMap<String, Links> = BTreeMap::new();
    // Each environment's records that passed their own checks, in chain
    // order, compact; what their gates need beyond that (their evidence
    // lists) is kept beside them until the gates ran, then dropped.
    let mut candidates: BTreeMap<String, Vec<VerifiedRecord>> = BTreeMap::new();
    let mut recorded: BTreeMap<String, Vec<Box<[Digest]>>> = BTreeMap::new();
    let mut names = Names::default();
    // Where each environment's chain stopped before the source checks:
    // position, the linked record's digest when there is one, why.
    let mut stopped: BTreeMap<String, (usize, Option<Digest>, String)> = BTreeMap::new();
    while let Some(environment) = queue.pop() {
        if links.contains_key(&environment) {
            continue;
        }
        let found = follow_links(store, &environment);
        let mut accepted: Vec<VerifiedRecord> = Vec::with_capacity(found.chain.len());
        let mut evidence: Vec<Box<[Digest]>> = Vec::with_capacity(found.chain.len());
        // Opened a batch at a time (in parallel with feature `rayon`): only
        // a batch of whole records is alive at once.
        for (batch, digests) in found.chain.chunks(OPEN_BATCH).enumerate() {
            let opened = map_records(digests, |d| open_record(store, promoters, d));
            for (offset, (digest, opened)) in digests.iter().zip(opened).enumerate() {
                let index = batch * OPEN_BATCH + offset;
                if let Ok((_, record)) = &opened {
                    known.settled.insert(digest);
                    if record.environment != environment {
                        known
                            .records
                            .push((record.environment.clone(), digest.clone()));
                    }
                }
                if stopped.contains_key(&environment) {
                    continue;
                }
                let checked = opened.and_then(|(artifact, record)| {
                    let previous = accepted.last().map(|c| (&c.digest, c.time()));
                    check_order(&record, &environment, previous, policy, options)
                        .map(|()| (artifact, record))
                });
                match checked {
                    Ok((artifact, record)) => {
                        if let Some(from) = &record.from {
                            if record.kind != PromotionKind::Rollback
                                && !links.contains_key(from)
                                && super::super::store::check_environment(from).is_ok()
                            {
                                queue.push(from.clone());
                            }
                        }
                        let record = *record;
                        evidence.push(record.evidence.iter().map(|e| e.digest.clone()).collect());
                        accepted.push(VerifiedRecord::new(
                            digest.clone(),
                            artifact,
                            record,
                            index,
                            &mut names,
                        ));
                    }
                    Err(reason) => {
                        stopped.insert(
                            environment.clone(),
                            (index, Some(digest.clone()), format!("{digest}: {reason}")),
                        );
                    }
                }
            }
        }
        if let (Some(broken), None) = (&found.broken, stopped.get(&environment)) {
            stopped.insert(environment.clone(), (accepted.len(), None, broken.clone()));
        }
        order.push(environment.clone());
        links.insert(environment.clone(), found);
        recorded.insert(environment.clone(), evidence);
        candidates.insert(environment, accepted);
    }
    // Keep the caller's order first.
    order.sort_by_key(|e| {
        environments
            .iter()
            .position(|x| x == e)
            .unwrap_or(usize::MAX)
    });

    // Every candidate by digest: the source checks' index, and then (once
    // pruned to the accepted records) the history's.
    let mut history = VerifiedHistory {
        policy: Some(policy.digest().clone()),
        names,
        ..VerifiedHistory::default()
    };
    history
        .index
        .reserve(candidates.values().map(Vec::len).sum());
    for (env, list) in &candidates {
        let env = history.name(env);
        for (i, c) in list.iter().enumerate() {
            history.index.insert_digest(&c.digest, &env, i);
        }
    }
    let index = &history.index;

    // Entry times follow source pointers (their validity is checked below;
    // a record whose path does not validate is rejected whatever this says).
    let entered: Vec<Vec<Timestamp>> = {
        let mut known_times: HashMap<&Digest, Timestamp> = HashMap::new();
        let mut out = Vec::with_capacity(candidates.len());
        for list in candidates.values() {
            let mut times = Vec::with_capacity(list.len());
            for c in list {
                let mut seen = BTreeSet::new();
                let mut current = c;
                let mut time = c.time();
                while let Some(source) = current.source() {
                    if let Some(t) = known_times.get(source) {
                        time = *t;
                        break;
                    }
                    if !seen.insert(source) {
                        break;
                    }
                    let Some((_, next)) = find_candidate(index, &candidates, source) else {
                        break;
                    };
                    time = next.time();
                    current = next;
                }
                known_times.insert(&c.digest, time);
                times.push(time);
            }
            out.push(times);
        }
        out
    };
    for (list, times) in candidates.values_mut().zip(entered) {
        for (c, t) in list.iter_mut().zip(times) {
            c.entered = t;
        }
    }

    // Gates, each record on its own (a batch at a time, in parallel with
    // feature `rayon`); then the evidence lists are dropped.
    let mut outcomes: BTreeMap<String, Vec<Result<(), String>>> = BTreeMap::new();
    for (env, list) in &candidates {
        let evidence = recorded.remove(env).unwrap_or_default();
        let mut results = Vec::with_capacity(list.len());
        for start in (0..list.len()).step_by(OPEN_BATCH) {
            let batch = start..list.len().min(start.saturating_add(OPEN_BATCH));
            let checked = map_positions(batch, |i| {
                let mut settled = Vec::new();
                let outcome = match (list.get(i), evidence.get(i)) {
                    (Some(c), Some(ev)) => check_gate(store, policy, c, ev, &mut settled),
                    _ => Err("its evidence list was not kept".to_owned()),
                };
                (outcome, settled)
            });
            for (outcome, settled) in checked {
                for d in &settled {
                    known.settled.insert(d);
                }
                results.push(outcome);
            }
        }
        outcomes.insert(env.clone(), results);
    }

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
        let mut list = candidates.remove(&environment).unwrap_or_default();
        let mut report = Report::new();
        let mut emergencies = Vec::new();
        let mut rejected: Option<Check> = None;
        let mut accepted = list.len();
        for (at, c) in list.iter().enumerate() {
            // A status of Ok includes the record's own checks.
            let status = statuses.get(environment.as_str()).and_then(|l| l.get(at));
            let why = match status.and_then(Option::as_ref) {
                Some(Ok(())) => None,
                Some(Err(reason)) => Some(format!(
                    "{}: {reason} (the record linked after {} in `{environment}`)",
                    c.digest,
                    at.checked_sub(1)
                        .and_then(|p| list.get(p))
                        .map_or("genesis".to_owned(), |p| p.digest.hex())
                )),
                None => Some(format!("{}: not checked", c.digest)),
            };
            if let Some(why) = why {
                rejected =
                    Some(
                        Check::fail(format!("record[{}]", c.index), why)
                            .about(CheckSubject::record(&environment, c.index, Some(&c.digest))),
                    );
                accepted = at;
                break;
            }
            if c.kind() == PromotionKind::Emergency {
                emergencies.push(format!(
                    "record[{}] {}: {}",
                    c.index,
                    c.digest,
                    elide_middle(c.reason().unwrap_or(""), 200)
                ));
            }
        }
        list.truncate(accepted);
        let last = list.last().map(|c| c.digest.clone());
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
        let last = links
            .get(&environment)
            .and_then(|l| l.chain.last())
            .cloned();
        let chain = links
            .get(&environment)
            .map(|l| l.chain.as_slice())
            .unwrap_or(&[]);
        match store.head_hint(&environment) {
            Ok(None) => {}
            Ok(Some(hint)) if Some(&hint) == last.as_ref() => report.push(Check::pass(
                "head",
                format!("the store's head of `{environment}` is {hint}"),
            )),
            // A promotion that stopped between linking and updating the
            // hint leaves it behind: harmless, the links are the truth.
            Ok(Some(hint)) if chain.contains(&hint) => report.push(Check::pass(
                "head",
                format!(
                    "the store's head hint of `{environment}` ({hint}) is behind its linked history (an interrupted promotion)"
                ),
            )),
            Ok(Some(hint)) => report.push(Check::fail(
                "head",
                format!(
                    "the store says the head of `{environment}` is {hint}, but its linked history ends at {}",
                    last.map_or("(nothing)".to_owned(), |d| d.to_string())
                ),
            )),
            Err(e) => report.push(Check::fail("head", e.to_string())),
        }
        report.push(unlinked_check(&scan, &environment, links.get(&environment)));
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
            .or_default()
            .complete = complete;
        reports.push((environment, report));
    }
    history.prune();
    Validation { reports, history }
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
