//! Validation of environments' histories: links, records, gates, source paths, reports.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::digest::{Digest, elide_middle};
use crate::policy::ActivePolicy;
use crate::predicate::promotion::PromotionKind;
use crate::report::{Check, CheckSubject, Report};
use crate::time::Timestamp;

use super::super::Store;
use super::super::chain::PROMOTER_ROLE;
use super::index::RecordIndex;
use super::records::{Links, check_gate, check_order, follow_links, map_records, open_record};
use super::scan::{Known, check_incident, scan_store, unlinked_check};
use super::sources::{find_candidate, resolve_sources};
use super::{
    EnvironmentHistory, RECORDS_CHECK, STORE_HYGIENE, Validation, ValidationOptions,
    VerifiedHistory, VerifiedRecord,
};

/// How many records are opened (read, verified, parsed) at once before
/// they are checked in order and kept compact: enough to keep two cores
/// busy, few enough that whole records never fill memory.
const OPEN_BATCH: usize = 1024;

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
    let mut history = VerifiedHistory {
        policy: Some(policy.digest().clone()),
        ..VerifiedHistory::default()
    };

    // Environments in scope: those asked for and, transitively, where
    // their records came from; opened sources first (by the policy's
    // promotion edges), so that when a record is opened its source path
    // is already known and its gate runs at once.
    let mut queue = sources_first(policy, environments);
    queue.reverse();
    let mut order: Vec<String> = Vec::new();
    let mut links: BTreeMap<String, Links> = BTreeMap::new();
    // Each environment's records that passed their own checks (in chain
    // order, compact), and their gates' outcomes.
    let mut candidates: BTreeMap<String, Vec<VerifiedRecord>> = BTreeMap::new();
    let mut outcomes: BTreeMap<String, Vec<Result<(), String>>> = BTreeMap::new();
    // Records whose source was not opened yet when they were (a source
    // outside the policy's edges, a loop), with their evidence lists:
    // gated once every environment is open.
    let mut deferred = Deferred::default();
    // Where each environment's chain stopped before the source checks:
    // position, the linked record's digest when there is one, why.
    let mut stopped: BTreeMap<String, (usize, Option<Digest>, String)> = BTreeMap::new();
    while let Some(environment) = queue.pop() {
        if links.contains_key(&environment) {
            continue;
        }
        let name = history.name(&environment);
        let found = follow_links(store, &environment);
        history.index.reserve(found.chain.len());
        let mut accepted: Vec<VerifiedRecord> = Vec::with_capacity(found.chain.len());
        let mut gated: Vec<Result<(), String>> = Vec::with_capacity(found.chain.len());
        // Opened a batch at a time (in parallel with feature `rayon`): only
        // a batch of whole records, and of evidence lists, is alive at once.
        for (batch, digests) in found.chain.chunks(OPEN_BATCH).enumerate() {
            let opened = map_records(digests, |d| open_record(store, promoters, d));
            let mut ready: Vec<(usize, Box<[Digest]>)> = Vec::new();
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
                let (artifact, record) = match checked {
                    Ok(x) => x,
                    Err(reason) => {
                        stopped.insert(
                            environment.clone(),
                            (index, Some(digest.clone()), format!("{digest}: {reason}")),
                        );
                        continue;
                    }
                };
                if let Some(from) = &record.from {
                    if record.kind != PromotionKind::Rollback
                        && !links.contains_key(from)
                        && super::super::store::check_environment(from).is_ok()
                    {
                        queue.push(from.clone());
                    }
                }
                let evidence: Box<[Digest]> =
                    record.evidence.iter().map(|e| e.digest.clone()).collect();
                let mut record = VerifiedRecord::new(
                    digest.clone(),
                    artifact,
                    *record,
                    index,
                    &mut history.names,
                );
                history.index.insert_digest(digest, &name, index);
                match entered_if_known(&record, &history.index, &candidates, &accepted, &deferred) {
                    Some(time) => {
                        record.entered = time;
                        ready.push((index, evidence));
                    }
                    None => deferred.push(&environment, index, digest, evidence),
                }
                accepted.push(record);
                gated.push(Err("its gate was not evaluated".to_owned()));
            }
            // The batch's gates, each record on its own.
            let checked = map_records(&ready, |(at, evidence)| {
                gate_one(store, policy, accepted.get(*at), evidence)
            });
            for ((at, _), (outcome, settled)) in ready.iter().zip(checked) {
                for d in &settled {
                    known.settled.insert(d);
                }
                if let Some(slot) = gated.get_mut(*at) {
                    *slot = outcome;
                }
            }
        }
        if let (Some(broken), None) = (&found.broken, stopped.get(&environment)) {
            stopped.insert(environment.clone(), (accepted.len(), None, broken.clone()));
        }
        order.push(environment.clone());
        links.insert(environment.clone(), found);
        outcomes.insert(environment.clone(), gated);
        candidates.insert(environment, accepted);
    }
    // The caller's order first, then where they came from (nearest first).
    order.reverse();
    order.sort_by_key(|e| {
        environments
            .iter()
            .position(|x| x == e)
            .unwrap_or(usize::MAX)
    });

    // Records opened before their source: entry times and gates now that
    // every environment is open.
    let positions: Vec<(String, usize)> = deferred
        .records
        .iter()
        .map(|(env, at, _)| (env.clone(), *at))
        .collect();
    for (env, at) in positions {
        let time = entered_by_walk(&env, at, &history.index, &candidates, &deferred);
        if let Some(c) = candidates.get_mut(&env).and_then(|l| l.get_mut(at)) {
            c.entered = time;
        }
        deferred.settle(&env, at, &candidates);
    }
    let checked = map_records(&deferred.records, |(env, at, evidence)| {
        gate_one(
            store,
            policy,
            candidates.get(env).and_then(|l| l.get(*at)),
            evidence,
        )
    });
    for ((env, at, _), (outcome, settled)) in deferred.records.iter().zip(checked) {
        for d in &settled {
            known.settled.insert(d);
        }
        if let Some(slot) = outcomes.get_mut(env).and_then(|l| l.get_mut(*at)) {
            *slot = outcome;
        }
    }
    drop(deferred);

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

/// The environments `asked` and, transitively, those the policy promotes
/// into them, each after the ones it is promoted from (a loop in the
/// policy's edges is cut where it closes).
fn sources_first(policy: &ActivePolicy, asked: &[&str]) -> Vec<String> {
    let edges = &policy.policy().promotions;
    let mut out: Vec<String> = Vec::new();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for start in asked {
        // (environment, whether its sources are already out)
        let mut stack: Vec<(&str, bool)> = vec![(start, false)];
        while let Some((env, sources_done)) = stack.pop() {
            if sources_done {
                out.push(env.to_owned());
                continue;
            }
            if !seen.insert(env) {
                continue;
            }
            stack.push((env, true));
            for edge in edges.iter().filter(|e| e.to == env) {
                if !seen.contains(edge.from.as_str())
                    && super::super::store::check_environment(&edge.from).is_ok()
                {
                    stack.push((&edge.from, false));
                }
            }
        }
    }
    out
}

/// Records opened before their source, with their evidence lists (kept
/// for their gates); `pending` holds those whose entry time is not known
/// yet.
#[derive(Default)]
struct Deferred {
    records: Vec<(String, usize, Box<[Digest]>)>,
    pending: HashSet<Digest>,
}

impl Deferred {
    fn push(&mut self, environment: &str, at: usize, digest: &Digest, evidence: Box<[Digest]>) {
        self.records.push((environment.to_owned(), at, evidence));
        self.pending.insert(digest.clone());
    }

    /// The record at `at` of `environment` has its entry time now.
    fn settle(
        &mut self,
        environment: &str,
        at: usize,
        candidates: &BTreeMap<String, Vec<VerifiedRecord>>,
    ) {
        if let Some(c) = candidates.get(environment).and_then(|l| l.get(at)) {
            self.pending.remove(&c.digest);
        }
    }
}

/// A record's entry time when its source is opened and settled: its own
/// time for an entry promotion, else its source's (`accepted` are the
/// records of its own environment before it).
fn entered_if_known(
    record: &VerifiedRecord,
    index: &RecordIndex,
    candidates: &BTreeMap<String, Vec<VerifiedRecord>>,
    accepted: &[VerifiedRecord],
    deferred: &Deferred,
) -> Option<Timestamp> {
    let Some(source) = record.source() else {
        return Some(record.time());
    };
    let (env, at) = index.find_digest(source)?;
    let found = if **env == *record.environment() {
        accepted.get(at)
    } else {
        candidates.get(&**env).and_then(|l| l.get(at))
    }?;
    (found.digest == *source && !deferred.pending.contains(source)).then_some(found.entered)
}

/// A deferred record's entry time, following source pointers (their
/// validity is checked later: a record whose path does not validate is
/// rejected whatever this says) to a settled record, a record without a
/// known source, or a loop.
fn entered_by_walk(
    environment: &str,
    at: usize,
    index: &RecordIndex,
    candidates: &BTreeMap<String, Vec<VerifiedRecord>>,
    deferred: &Deferred,
) -> Timestamp {
    let Some(start) = candidates.get(environment).and_then(|l| l.get(at)) else {
        return Timestamp::from_unix(0);
    };
    let mut seen = BTreeSet::new();
    let mut current = start;
    let mut time = start.time();
    while let Some(source) = current.source() {
        let Some((_, next)) = find_candidate(index, candidates, source) else {
            break;
        };
        if !deferred.pending.contains(source) {
            return next.entered;
        }
        if !seen.insert(source) {
            break;
        }
        time = next.time();
        current = next;
    }
    time
}

/// One record's gate (see [`check_gate`]), with the evidence it settled.
fn gate_one(
    store: &dyn Store,
    policy: &ActivePolicy,
    record: Option<&VerifiedRecord>,
    evidence: &[Digest],
) -> (Result<(), String>, Vec<Digest>) {
    let mut settled = Vec::new();
    let outcome = match record {
        Some(r) => check_gate(store, policy, r, evidence, &mut settled),
        None => Err("its record was not kept".to_owned()),
    };
    (outcome, settled)
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
