//! Source paths: each record against the record its artifact came from, transitively back to the build, and rollbacks against the last known-good artifact.

use std::collections::{BTreeMap, HashSet};

use crate::digest::{Digest, DigestSet, elide_middle};
use crate::predicate::promotion::PromotionKind;

use super::super::chain::IncidentEntry;
use super::index::RecordIndex;
use super::verdicts::Verdicts;
use super::{EnvironmentHistory, VerifiedRecord};

/// The last known-good artifact of an environment before position
/// `before`, at `time`: the newest earlier record whose artifact is not the
/// one running at `before - 1` and that no incident opened at or before
/// `time` names. Rollbacks go there and nowhere else.
pub(crate) fn known_good(
    records: &EnvironmentHistory,
    before: usize,
    has_incident: impl Fn(&DigestSet) -> bool,
) -> Option<VerifiedRecord<'_>> {
    let mut earlier = records.records().take(before);
    let current = earlier.next_back()?.artifact();
    earlier
        .rev()
        .filter(|r| !r.artifact_matches(&current))
        .find(|r| !has_incident(&r.artifact()))
}

/// Each candidate's status, by environment and position (`None`: not
/// resolved yet).
pub(super) type Statuses = BTreeMap<String, Verdicts>;

/// Resolves every candidate's status: its own checks, every record before
/// it in its environment, and its source path (iteratively, with an
/// explicit stack: no recursion however long the path).
pub(super) fn resolve_sources(
    candidates: &BTreeMap<String, EnvironmentHistory>,
    outcomes: &BTreeMap<String, Verdicts>,
    index: &RecordIndex,
    incidents: &[IncidentEntry],
) -> Statuses {
    let get = |d: &Digest| index.record_among(d, candidates);
    let previous_of = |environment: &str, c: VerifiedRecord<'_>| {
        c.index()
            .checked_sub(1)
            .and_then(|i| candidates.get(environment).and_then(|l| l.get(i)))
    };
    let mut status: Statuses = candidates
        .iter()
        .map(|(env, list)| (env.clone(), Verdicts::unset(list.len())))
        .collect();
    // Candidates of an environment are its chain's first records in
    // order, so a candidate's position is its index.
    let slot = |status: &Statuses,
                environment: &str,
                c: VerifiedRecord<'_>|
     -> Option<Result<(), String>> { status.get(environment)?.get(c.index()) };
    let is_set = |status: &Statuses, environment: &str, c: VerifiedRecord<'_>| {
        status.get(environment).is_some_and(|s| s.is_set(c.index()))
    };
    let mut on_stack: HashSet<(&str, usize)> = HashSet::new();
    for (env, list) in candidates {
        for start in list.records() {
            if is_set(&status, env, start) {
                continue;
            }
            let mut stack: Vec<(&str, VerifiedRecord<'_>)> = vec![(env.as_str(), start)];
            on_stack.insert((env.as_str(), start.index()));
            while let Some(&(environment, c)) = stack.last() {
                let previous = previous_of(environment, c);
                let source = c
                    .source()
                    .and_then(|s| get(&s))
                    .map(|(e, s)| (e.as_str(), s));
                let pending = [previous.map(|p| (environment, p)), source]
                    .into_iter()
                    .flatten()
                    .find(|(e, d)| !is_set(&status, e, *d));
                let result = match pending {
                    Some((e, dep)) if on_stack.contains(&(e, dep.index())) => {
                        Err("its source path loops".to_owned())
                    }
                    Some(dep) => {
                        on_stack.insert((dep.0, dep.1.index()));
                        stack.push(dep);
                        continue;
                    }
                    None => {
                        let status_of = |d: &Digest| {
                            let (e, c) = get(d)?;
                            slot(&status, e, c)
                        };
                        let outcome = outcomes
                            .get(environment)
                            .and_then(|l| l.get(c.index()))
                            .unwrap_or_else(|| Err("its gate was not evaluated".to_owned()));
                        own_status(c, environment, previous, &status_of, &get, incidents)
                            .and(outcome)
                    }
                };
                on_stack.remove(&(environment, c.index()));
                if let Some(s) = status.get_mut(environment) {
                    s.set(c.index(), result);
                }
                stack.pop();
            }
        }
    }
    status
}

fn own_status<'a>(
    c: VerifiedRecord<'_>,
    environment: &str,
    previous: Option<VerifiedRecord<'_>>,
    status_of: &dyn Fn(&Digest) -> Option<Result<(), String>>,
    get: &impl Fn(&Digest) -> Option<(&'a String, VerifiedRecord<'a>)>,
    incidents: &[IncidentEntry],
) -> Result<(), String> {
    if let Some(p) = previous {
        let digest = p.digest();
        if let Some(Err(_)) = status_of(&digest) {
            return Err(format!("the record before it ({digest}) was rejected"));
        }
    }
    let get_record = |d: &Digest| get(d).map(|(e, c)| (e.as_str(), c));
    // The gate ran with the entry time its source path gives, so its
    // verdict (the caller's `and`) counts only once that path is verified.
    source_status(c, environment, status_of, &get_record, incidents)
}

/// Looks a verified (or candidate) record up by digest: its environment
/// and the record.
pub(in crate::promotion) type LookUp<'f, 'a> =
    &'f dyn Fn(&Digest) -> Option<(&'a str, VerifiedRecord<'a>)>;

/// Checks a record against its source: the source is a record of the
/// right environment whose own status is `Ok`, about the same artifact,
/// not later, with the same author and commit time; a rollback goes to
/// the last known-good artifact among the records before it in its
/// environment.
pub(in crate::promotion) fn source_status<'a>(
    c: VerifiedRecord<'_>,
    environment: &str,
    status_of: &dyn Fn(&Digest) -> Option<Result<(), String>>,
    get: LookUp<'_, 'a>,
    incidents: &[IncidentEntry],
) -> Result<(), String> {
    let expected_env = match (c.kind(), c.from()) {
        (_, None) => {
            return match c.source() {
                None => Ok(()),
                Some(_) => Err("an entry promotion has no source record".into()),
            };
        }
        (PromotionKind::Rollback, Some(_)) => environment,
        (_, Some(from)) => from,
    };
    let source = c
        .source()
        .ok_or("no source record: where did the artifact come from?")?;
    let Some((source_env, s)) = get(&source) else {
        return Err(format!(
            "source record {source} is not a verified record of `{}`",
            elide_middle(expected_env, 80)
        ));
    };
    match status_of(&source) {
        Some(Ok(())) => {}
        Some(Err(why)) => {
            return Err(format!(
                "source record {source} in `{source_env}` was rejected ({})",
                elide_middle(&why, 300)
            ));
        }
        None => return Err(format!("source record {source} was not checked")),
    }
    if source_env != expected_env {
        return Err(format!(
            "source record {source} put the artifact into `{source_env}`, not `{expected_env}`"
        ));
    }
    if c.kind() == PromotionKind::Rollback && s.index() >= c.index() {
        return Err(format!(
            "a rollback returns to an earlier record; {source} is not before it"
        ));
    }
    let artifact = c.artifact();
    s.artifact().matches(&artifact).map_err(|e| {
        format!(
            "source record {source} is about another artifact ({e}): a rebuild, not a promotion"
        )
    })?;
    if s.time() > c.time() {
        return Err(format!(
            "it is dated {}, before its source record {source} ({})",
            c.time(),
            s.time()
        ));
    }
    if c.author() != s.author() {
        return Err(format!(
            "its author `{}` differs from the author `{}` its artifact entered with",
            elide_middle(c.author().unwrap_or("(none)"), 80),
            elide_middle(s.author().unwrap_or("(none)"), 80)
        ));
    }
    if c.commit_time() != s.commit_time() {
        return Err("its commit time differs from its source record's".to_owned());
    }
    if c.kind() == PromotionKind::Rollback {
        let target = known_good(c.chain(), c.index(), |artifact| {
            incidents.iter().any(|i| {
                i.incident.environment == environment
                    && i.incident.opened <= c.time()
                    && i.artifact.matches(artifact).is_ok()
            })
        });
        match target {
            Some(t) if t.artifact_matches(&artifact) => {}
            Some(t) => {
                return Err(format!(
                    "a rollback goes to the last known-good artifact ({}, record {}), not to {}",
                    t.artifact().shown(),
                    t.digest(),
                    artifact.shown()
                ));
            }
            None => {
                return Err(format!(
                    "`{environment}` had no known-good earlier artifact to roll back to (every one has an incident)"
                ));
            }
        }
    }
    Ok(())
}
