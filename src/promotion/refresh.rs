//! Incremental validation: a [`VerifiedHistory`] extended by the records
//! linked after its heads since it was validated, at the cost of those
//! records only; and promotion on top of a kept history.
//!
//! Safe against a store changed underneath: each environment's verified
//! head must still be linked where it was (a rewritten or rolled-back
//! store fails the refresh), new records name that head as `previous` and
//! are checked exactly as [`validate`] checks them, and the records already
//! verified are kept in memory, never re-read.

use crate::policy::ActivePolicy;
use crate::report::{Check, CheckSubject, Report};

use super::Store;
use super::chain::{PROMOTER_ROLE, Promoted, PromotionError, PromotionRequest};
use super::verified::{
    ValidationOptions, VerifiedHistory, check_gate, check_incident, check_order, open_record,
    source_status, summary, validate,
};
use crate::digest::Digest;
use crate::keys::Signer;

impl VerifiedHistory {
    /// Extends every verified environment with the records linked after
    /// its head since validation (links followed from the head, each new
    /// record verified as [`validate`] would: signature, order, clock,
    /// policy, gate, source path, rollback target). Costs the new records
    /// only. Does not look for new incidents or unlinked records: see
    /// [`refresh`](Self::refresh).
    ///
    /// Returns one check per new record (`record[i]`), and a failing
    /// `head` check for an environment whose verified head is no longer
    /// linked where it was; an environment that fails stops being
    /// [`verified`](super::EnvironmentHistory::verified).
    pub fn refresh_records(
        &mut self,
        store: &dyn Store,
        policy: &ActivePolicy,
        options: &ValidationOptions,
    ) -> Report {
        let mut report = Report::new();
        if self.policy_digest() != Some(policy.digest()) {
            report.push(Check::fail(
                "policy",
                "the history was validated with another policy",
            ));
            return report;
        }
        // Environments may draw on each other's new records: repeat while
        // one makes progress (at most once per environment).
        let names: Vec<String> = self
            .environments()
            .filter(|(_, e)| e.verified())
            .map(|(n, _)| n.to_owned())
            .collect();
        let mut pending: Vec<String> = names.clone();
        for _ in 0..=names.len() {
            let mut progress = false;
            let mut still = Vec::new();
            for env in pending {
                match self.extend(store, policy, options, &env, &mut report, false) {
                    Extended::Done => {}
                    Extended::Waiting(n) => {
                        progress |= n > 0;
                        still.push(env);
                    }
                }
            }
            pending = still;
            if pending.is_empty() || !progress {
                break;
            }
        }
        // What still waits names a source no environment verified.
        for env in pending {
            let _ = self.extend(store, policy, options, &env, &mut report, true);
        }
        report
    }

    /// [`refresh_records`](Self::refresh_records), then the envelopes
    /// stored since (listing the store's names, reading only new ones):
    /// new incidents join the history after their checks; a new promotion
    /// record outside every chain fails `unlinked-records`.
    pub fn refresh(
        &mut self,
        store: &dyn Store,
        policy: &ActivePolicy,
        options: &ValidationOptions,
    ) -> Report {
        let mut report = self.refresh_records(store, policy, options);
        let fresh = match store.list_where(&mut |d| !self.scanned.contains(d)) {
            Ok(fresh) => fresh,
            Err(e) => {
                report.push(Check::fail("unlinked-records", e.to_string()));
                return report;
            }
        };
        let scan = super::verified::scan_digests(store, policy, &fresh);
        self.scanned.extend(&fresh);
        for entry in scan.incidents {
            match check_incident(&entry, options) {
                Ok(()) => {
                    self.incidents.push(entry);
                }
                Err(reason) => {
                    let env = entry.incident.environment.clone();
                    report.push(Check::fail("incidents", reason));
                    if let Some(e) = self.environments.get_mut(&env) {
                        e.complete = false;
                    }
                }
            }
        }
        self.incidents.sort_by_key(|i| i.incident.opened);
        for (env, records) in scan.promotion_records {
            let outside: Vec<_> = records
                .iter()
                .filter(|d| self.record(d).is_none())
                .collect();
            if outside.is_empty() {
                continue;
            }
            report.push(Check::fail(
                "unlinked-records",
                format!(
                    "{} new record(s) into `{env}` are outside its linked history: {}",
                    outside.len(),
                    outside
                        .iter()
                        .take(5)
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
            if let Some(e) = self.environments.get_mut(&env) {
                e.complete = false;
            }
        }
        report
    }

    /// Verifies the records after `environment`'s head, one at a time.
    /// Unless `last_pass`, a record whose source is not (yet) verified
    /// waits for another environment's refresh instead of failing.
    fn extend(
        &mut self,
        store: &dyn Store,
        policy: &ActivePolicy,
        options: &ValidationOptions,
        environment: &str,
        report: &mut Report,
        last_pass: bool,
    ) -> Extended {
        let Some(env) = self.environment(environment) else {
            return Extended::Done;
        };
        let head = env.last().map(|h| h.digest());
        // The verified head must still be linked where it was: after the
        // record before it (its `previous`, which validation checked).
        let before_head = env
            .len()
            .checked_sub(2)
            .and_then(|i| env.get(i))
            .map(|r| r.digest());
        if let Some(h) = &head {
            match store.successor(environment, before_head.as_ref()) {
                Ok(Some(d)) if d == *h => {}
                found => {
                    let now = match found {
                        Ok(Some(d)) => d.to_string(),
                        Ok(None) => "nothing".to_owned(),
                        Err(e) => e.to_string(),
                    };
                    report.push(Check::fail(
                        "head",
                        format!(
                            "`{environment}`: the verified head {h} is no longer linked where it was (the store links {now}): the history was rewritten or rolled back"
                        ),
                    ));
                    self.fail(environment);
                    return Extended::Done;
                }
            }
        }
        let promoters = policy.keys_with_role(PROMOTER_ROLE);
        let mut added = 0usize;
        loop {
            let last = self
                .environment(environment)
                .and_then(|e| e.last())
                .map(|l| (l.digest(), l.time()));
            let index = self.environment(environment).map_or(0, |e| e.len());
            let next = match store.successor(environment, last.as_ref().map(|l| &l.0)) {
                Ok(Some(d)) => d,
                Ok(None) => return Extended::Done,
                Err(e) => {
                    report.push(Check::fail(format!("record[{index}]"), e.to_string()));
                    self.fail(environment);
                    return Extended::Done;
                }
            };
            let previous = last.as_ref().map(|(d, t)| (d, *t));
            let opened = open_record(store, promoters, &next).and_then(|(artifact, record)| {
                check_order(&record, environment, previous, policy, options)
                    .map(|()| (artifact, record))
            });
            let (artifact, record) = match opened {
                Ok(x) => x,
                Err(reason) => {
                    report.push(Check::fail(
                        format!("record[{index}]"),
                        format!("{next}: {reason}"),
                    ));
                    self.fail(environment);
                    return Extended::Done;
                }
            };
            let source = record.source.as_ref().and_then(|s| self.record(s));
            if record.source.is_some() && source.is_none() && !last_pass {
                return Extended::Waiting(added);
            }
            let entered = source.map_or(record.time, |s| s.entered());
            let evidence: Vec<Digest> = record.evidence.iter().map(|e| e.digest.clone()).collect();
            // The candidate joins its environment's rows (so that checks
            // read it as they read every record), and is indexed only once
            // it passed; a failed one is dropped again.
            let Some(env) = self.environments.get_mut(environment) else {
                return Extended::Done;
            };
            if !env.push(&next, artifact, *record) {
                report.push(Check::fail(format!("record[{index}]"), "too many records"));
                self.fail(environment);
                return Extended::Done;
            }
            env.set_entered(index, entered);
            let mut settled = Vec::new();
            let pushed = self.environment(environment).and_then(|env| env.get(index));
            let checked = match pushed {
                Some(candidate) => {
                    let outcome = check_gate(store, policy, candidate, &evidence, &mut settled);
                    let status_of = |d: &Digest| self.record(d).map(|_| Ok(()));
                    let get = |d: &Digest| self.record(d).map(|r| (r.environment(), r));
                    source_status(candidate, environment, &status_of, &get, &self.incidents)
                        .and(outcome)
                        .map(|()| summary(&candidate))
                }
                None => Err("its record was not kept".to_owned()),
            };
            match checked {
                Ok(summary) => {
                    report.push(
                        Check::pass(format!("record[{index}]"), summary)
                            .about(CheckSubject::record(environment, index, Some(&next))),
                    );
                    self.index_record(environment, index);
                    self.scanned.insert(&next);
                    // Evidence a refresh's store scan would only skip.
                    self.scanned.extend(&settled);
                    added += 1;
                }
                Err(reason) => {
                    if let Some(env) = self.environments.get_mut(environment) {
                        env.truncate(index);
                    }
                    report.push(Check::fail(
                        format!("record[{index}]"),
                        format!("{next}: {reason}"),
                    ));
                    self.fail(environment);
                    return Extended::Done;
                }
            }
        }
    }

    fn fail(&mut self, environment: &str) {
        if let Some(e) = self.environments.get_mut(environment) {
            e.complete = false;
        }
    }
}

enum Extended {
    Done,
    /// Stopped at a record whose source is not verified yet, after adding
    /// this many.
    Waiting(usize),
}

/// Promotes on top of a kept verified history: refreshes it (the new
/// records only), promotes as [`promote`](super::promote) does, and appends
/// the new record. A history that lacks an environment the promotion needs
/// is validated afresh for it. For CI services that promote many times
/// (and for building long histories): each promotion costs its own
/// checks, not the history's length.
pub fn promote_with(
    store: &dyn Store,
    history: &mut VerifiedHistory,
    policy: &ActivePolicy,
    request: &PromotionRequest,
    promoter: &dyn Signer,
) -> Result<Promoted, PromotionError> {
    let gate = &request.gate;
    super::store::check_environment(&gate.to)?;
    let mut scope = vec![gate.to.clone()];
    if let Some(from) = gate.from.as_deref() {
        super::store::check_environment(from)?;
        if from != gate.to {
            scope.push(from.to_owned());
        }
    }
    let options = ValidationOptions::default();
    let missing = scope.iter().any(|e| history.environment(e).is_none())
        || history.policy_digest() != Some(policy.digest());
    if missing {
        let mut all: Vec<String> = history.environments().map(|(n, _)| n.to_owned()).collect();
        all.extend(scope.iter().cloned());
        all.sort();
        all.dedup();
        let names: Vec<&str> = all.iter().map(String::as_str).collect();
        *history = validate(store, policy, &names, &options).into_history();
    } else {
        let refreshed = history.refresh_records(store, policy, &options);
        if let Some(c) = refreshed.first_failure() {
            let mut report = Report::new();
            report.push(Check::fail(
                "history",
                format!("the history does not extend: {}: {}", c.name, c.reason),
            ));
            return Err(PromotionError::Refused(report));
        }
    }
    for env in &scope {
        if !history.environment(env).is_some_and(|e| e.verified()) {
            let mut report = Report::new();
            report.push(Check::fail("history", format!("`{env}` does not validate")));
            return Err(PromotionError::Refused(report));
        }
    }
    let promoted =
        super::chain::promote_verified(store, history, policy, request, promoter, &options)?;
    let source = promoted
        .predicate
        .source
        .as_ref()
        .and_then(|s| history.record(s));
    let entered = source.map_or(promoted.predicate.time, |s| s.entered());
    history.push(
        &gate.to,
        &promoted.record,
        promoted.artifact.clone(),
        promoted.predicate.clone(),
        entered,
    );
    history.scanned.insert(&promoted.record);
    Ok(promoted)
}
