//! Opening the environments in scope: each chain's records read, checked
//! on their own and in order, kept compact, and gated (sources first, a
//! batch at a time).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::digest::Digest;
use crate::policy::ActivePolicy;
use crate::predicate::promotion::PromotionKind;
use crate::time::Timestamp;

use super::super::Store;
use super::super::chain::PROMOTER_ROLE;
use super::index::RecordIndex;
use super::records::{LinkWalker, check_gate, check_order, map_records, open_record};
use super::scan::Known;
use super::verdicts::Verdicts;
use super::{EnvironmentHistory, ValidationOptions, VerifiedHistory, VerifiedRecord};

/// How many records are opened (read, verified, parsed) at once before
/// they are checked in order and kept compact: enough to keep two cores
/// busy, few enough that whole records never fill memory.
const OPEN_BATCH: usize = 1024;

/// What opening produced, for the store scan, the source checks and the
/// reports.
pub(super) struct Opened {
    /// The history so far: names, and every candidate indexed by digest.
    pub(super) history: VerifiedHistory,
    /// What the records and gates read.
    pub(super) known: Known,
    /// The environments in scope, reports' order.
    pub(super) order: Vec<String>,
    /// Each environment's linked digests after its candidates (those
    /// hold the chain's first digests).
    pub(super) links: BTreeMap<String, Vec<Digest>>,
    /// Each environment's records that passed their own checks (in chain
    /// order, compact).
    pub(super) candidates: BTreeMap<String, EnvironmentHistory>,
    /// Their gates' outcomes, by position.
    pub(super) outcomes: BTreeMap<String, Verdicts>,
    /// Where each environment's chain stopped before the source checks:
    /// position, the linked record's digest when there is one, why.
    pub(super) stopped: BTreeMap<String, (usize, Option<Digest>, String)>,
}

/// Opens `environments` and, transitively, those their records came from.
pub(super) fn open_environments(
    store: &dyn Store,
    policy: &ActivePolicy,
    environments: &[&str],
    options: &ValidationOptions,
) -> Opened {
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
    let mut links: BTreeMap<String, Vec<Digest>> = BTreeMap::new();
    // Each environment's records that passed their own checks (in chain
    // order, compact), and their gates' outcomes.
    let mut candidates: BTreeMap<String, EnvironmentHistory> = BTreeMap::new();
    let mut outcomes: BTreeMap<String, Verdicts> = BTreeMap::new();
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
        let mut walker = LinkWalker::new(store, &environment);
        let mut accepted = EnvironmentHistory::named(&environment);
        let mut gated = Verdicts::default();
        // The linked digests after the candidates (where the chain
        // stopped), and the same as a set.
        let mut tail: Vec<Digest> = Vec::new();
        let mut in_tail: HashSet<Digest> = HashSet::new();
        // Followed and opened a batch at a time (opened in parallel with
        // feature `rayon`): only a batch of digests, of whole records and
        // of evidence lists is alive at once.
        let mut first = 0usize;
        loop {
            let digests = walker.next_batch(OPEN_BATCH, |d| {
                in_tail.contains(d) || history.index.record_in(d, &accepted).is_some()
            });
            if digests.is_empty() {
                break;
            }
            let opened = map_records(&digests, |d| open_record(store, promoters, d));
            let mut ready: Vec<(usize, Box<[Digest]>)> = Vec::new();
            for (offset, (digest, opened)) in digests.iter().zip(opened).enumerate() {
                let index = first + offset;
                if let Ok((_, record)) = &opened {
                    known.settled.push(digest);
                    if record.environment != environment {
                        known
                            .records
                            .push((record.environment.clone(), digest.clone()));
                    }
                }
                // Whether the record joins the candidates; if not, its
                // digest is the tail's.
                let kept = 'keep: {
                    if stopped.contains_key(&environment) {
                        break 'keep false;
                    }
                    let last = accepted.last().map(|c| (c.digest(), c.time()));
                    let checked = opened.and_then(|(artifact, record)| {
                        let previous = last.as_ref().map(|(d, t)| (d, *t));
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
                            break 'keep false;
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
                    if !accepted.push(digest, artifact, *record) {
                        stopped.insert(
                            environment.clone(),
                            (index, Some(digest.clone()), "too many records".to_owned()),
                        );
                        break 'keep false;
                    }
                    history.index.insert_digest(digest, &environment, index);
                    let entered = accepted.last().and_then(|record| {
                        entered_if_known(record, &history.index, &candidates, &accepted, &deferred)
                    });
                    match entered {
                        Some(time) => {
                            accepted.set_entered(index, time);
                            ready.push((index, evidence));
                        }
                        None => deferred.push(&environment, index, digest, evidence),
                    }
                    gated.push_unset();
                    true
                };
                if !kept {
                    tail.push(digest.clone());
                    in_tail.insert(digest.clone());
                }
            }
            // The batch's gates, each record on its own.
            let checked = map_records(&ready, |(at, evidence)| {
                gate_one(store, policy, accepted.get(*at), evidence)
            });
            for ((at, _), gate) in ready.iter().zip(checked) {
                keep_gate(&mut known, &mut gated, *at, gate);
            }
            first += digests.len();
        }
        if let (Some(broken), None) = (&walker.broken, stopped.get(&environment)) {
            stopped.insert(environment.clone(), (accepted.len(), None, broken.clone()));
        }
        order.push(environment.clone());
        tail.shrink_to_fit();
        links.insert(environment.clone(), tail);
        outcomes.insert(environment.clone(), gated);
        candidates.insert(environment, accepted);
    }
    // In scope: the environments asked for and, transitively, those their
    // accepted records came from. The policy's edges only chose the order:
    // an environment opened because the policy could promote from it, that
    // no record came from, is dropped unreported.
    let scope = records_scope(environments, &candidates);
    order.retain(|e| scope.contains(e.as_str()));
    candidates.retain(|e, _| scope.contains(e.as_str()));
    outcomes.retain(|e, _| scope.contains(e.as_str()));
    links.retain(|e, _| scope.contains(e.as_str()));
    deferred
        .records
        .retain(|(e, _, _)| scope.contains(e.as_str()));
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
        if let (Some(time), Some(c)) = (time, candidates.get_mut(&env)) {
            c.set_entered(at, time);
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
    for ((env, at, _), gate) in deferred.records.iter().zip(checked) {
        if let Some(verdicts) = outcomes.get_mut(env) {
            keep_gate(&mut known, verdicts, *at, gate);
        }
    }
    Opened {
        history,
        known,
        order,
        links,
        candidates,
        outcomes,
        stopped,
    }
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

/// The environments `asked` and, transitively, those the accepted
/// records of environments in scope came from (a rollback comes from its
/// own environment).
fn records_scope(
    asked: &[&str],
    candidates: &BTreeMap<String, EnvironmentHistory>,
) -> BTreeSet<String> {
    let mut scope: BTreeSet<String> = BTreeSet::new();
    let mut queue: Vec<&str> = asked.to_vec();
    while let Some(env) = queue.pop() {
        if !scope.insert(env.to_owned()) {
            continue;
        }
        for c in candidates
            .get(env)
            .into_iter()
            .flat_map(EnvironmentHistory::records)
        {
            if let Some(from) = c.from() {
                if c.kind() != PromotionKind::Rollback && !scope.contains(from) {
                    queue.push(from);
                }
            }
        }
    }
    scope
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
        candidates: &BTreeMap<String, EnvironmentHistory>,
    ) {
        if let Some(c) = candidates.get(environment).and_then(|l| l.get(at)) {
            self.pending.remove(&c.digest());
        }
    }
}

/// A record's entry time when its source is opened and settled: its own
/// time for an entry promotion, else its source's (`accepted` are the
/// records of its own environment before it).
fn entered_if_known(
    record: VerifiedRecord<'_>,
    index: &RecordIndex,
    candidates: &BTreeMap<String, EnvironmentHistory>,
    accepted: &EnvironmentHistory,
    deferred: &Deferred,
) -> Option<Timestamp> {
    let Some(source) = record.source() else {
        return Some(record.time());
    };
    let found = index
        .record_in(&source, accepted)
        .or_else(|| Some(index.record_among(&source, candidates)?.1))?;
    (!deferred.pending.contains(&source)).then_some(found.entered())
}

/// A deferred record's entry time, following source pointers (their
/// validity is checked later: a record whose path does not validate is
/// rejected whatever this says) to a settled record, a record without a
/// known source, or a loop.
fn entered_by_walk(
    environment: &str,
    at: usize,
    index: &RecordIndex,
    candidates: &BTreeMap<String, EnvironmentHistory>,
    deferred: &Deferred,
) -> Option<Timestamp> {
    let start = candidates.get(environment)?.get(at)?;
    let mut seen = BTreeSet::new();
    let mut current = start;
    let mut time = start.time();
    while let Some(source) = current.source() {
        let Some((_, next)) = index.record_among(&source, candidates) else {
            break;
        };
        if !deferred.pending.contains(&source) {
            return Some(next.entered());
        }
        if !seen.insert(source) {
            break;
        }
        time = next.time();
        current = next;
    }
    Some(time)
}

/// Keeps a [`gate_one`] result: its outcome at `at` of `outcomes`, the
/// evidence it settled in `known`.
fn keep_gate(
    known: &mut Known,
    outcomes: &mut Verdicts,
    at: usize,
    (outcome, settled): (Result<(), String>, Vec<Digest>),
) {
    for d in &settled {
        known.settled.push(d);
    }
    outcomes.set(at, outcome);
}

/// One record's gate (see [`check_gate`]), with the evidence it settled.
fn gate_one(
    store: &dyn Store,
    policy: &ActivePolicy,
    record: Option<VerifiedRecord<'_>>,
    evidence: &[Digest],
) -> (Result<(), String>, Vec<Digest>) {
    let mut settled = Vec::new();
    let outcome = match record {
        Some(r) => check_gate(store, policy, r, evidence, &mut settled),
        None => Err("its record was not kept".to_owned()),
    };
    (outcome, settled)
}
