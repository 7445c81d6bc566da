//! One record on its own: read, signature, type, order against the record before it, gate.

use std::collections::HashSet;

use crate::digest::{Digest, DigestSet, elide_middle};
use crate::dsse::Envelope;
use crate::keys::KeySet;
use crate::policy::{ActivePolicy, EvidenceEnvelope, GateRequest, evaluate_gate};
use crate::predicate::promotion::{INCIDENT_V1, PROMOTION_V1, PromotionKind, PromotionRecord};
use crate::report::{Report, has_visible_text};
use crate::time::Timestamp;
use crate::verify::open_envelope_quietly;

use super::super::Store;
use super::super::chain::{PROMOTER_ROLE, artifact_of, read_checked};
use super::{ValidationOptions, VerifiedRecord};

/// Follows one environment's links a batch at a time, so that a long
/// chain's digests are never all held at once (the records opened from
/// them are).
pub(super) struct LinkWalker<'s> {
    store: &'s dyn Store,
    environment: &'s str,
    /// The last digest followed.
    cursor: Option<Digest>,
    /// Why the links ended early; `Some` also once they ended.
    pub(super) broken: Option<String>,
    done: bool,
}

impl<'s> LinkWalker<'s> {
    /// A walk from the start of `environment`'s links.
    pub(super) fn new(store: &'s dyn Store, environment: &'s str) -> Self {
        Self {
            store,
            environment,
            cursor: None,
            broken: None,
            done: false,
        }
    }

    /// The next (at most) `max` linked digests; empty at the end. A digest
    /// already followed (`followed` says so for earlier batches) means the
    /// links loop: the walk ends there, broken.
    pub(super) fn next_batch(
        &mut self,
        max: usize,
        followed: impl Fn(&Digest) -> bool,
    ) -> Vec<Digest> {
        let mut batch: Vec<Digest> = Vec::new();
        let mut in_batch: HashSet<Digest> = HashSet::new();
        while !self.done && batch.len() < max {
            match self.store.successor(self.environment, self.cursor.as_ref()) {
                Ok(Some(next)) => {
                    if in_batch.contains(&next) || followed(&next) {
                        self.broken = Some(format!(
                            "the links of `{}` loop at {next}",
                            self.environment
                        ));
                        self.done = true;
                    } else {
                        in_batch.insert(next.clone());
                        batch.push(next.clone());
                        self.cursor = Some(next);
                    }
                }
                Ok(None) => self.done = true,
                Err(e) => {
                    self.broken = Some(e.to_string());
                    self.done = true;
                }
            }
        }
        batch
    }
}

/// Reads a record and checks its promoter signature and predicate type.
pub(in crate::promotion) fn open_record(
    store: &dyn Store,
    promoters: &KeySet,
    digest: &Digest,
) -> Result<(DigestSet, Box<PromotionRecord>), String> {
    let envelope = read_checked(store, digest, Envelope::from_json)
        .and_then(|parsed| parsed)
        .map_err(|e| e.to_string())?;
    let opened = if promoters.is_empty() {
        Err(Report::new())
    } else {
        open_envelope_quietly(&envelope, promoters, 1)
    };
    let statement = opened.map_err(|report| {
        let why = report.first_failure().map_or_else(
            || "no promoter keys".to_owned(),
            |c| format!("{}: {}", c.name, c.reason),
        );
        format!("not signed by a `{PROMOTER_ROLE}` key ({why})")
    })?;
    if statement.predicate_type() != PROMOTION_V1 {
        return Err(format!(
            "not a promotion record (`{}`)",
            elide_middle(statement.predicate_type(), 200)
        ));
    }
    let record: PromotionRecord = statement.predicate_as().map_err(|e| e.to_string())?;
    if statement.subject().len() != 1 {
        return Err(format!(
            "a promotion record names exactly one artifact, this one {}",
            statement.subject().len()
        ));
    }
    Ok((artifact_of(&statement), Box::new(record)))
}

/// `f` over every item, in parallel with feature `rayon`, results in order.
#[cfg(feature = "rayon")]
pub(super) fn map_records<I: Sync, T: Send>(
    items: &[I],
    f: impl Fn(&I) -> T + Sync + Send,
) -> Vec<T> {
    use rayon::prelude::*;
    items.par_iter().map(f).collect()
}

/// `f` over every item, results in order.
#[cfg(not(feature = "rayon"))]
pub(super) fn map_records<I: Sync, T: Send>(
    items: &[I],
    f: impl Fn(&I) -> T + Sync + Send,
) -> Vec<T> {
    items.iter().map(f).collect()
}

/// The order checks of one record against the one before it and the clock.
pub(in crate::promotion) fn check_order(
    record: &PromotionRecord,
    environment: &str,
    previous: Option<(&Digest, Timestamp)>,
    policy: &ActivePolicy,
    options: &ValidationOptions,
) -> Result<(), String> {
    if record.environment != environment {
        return Err(format!(
            "record is for `{}`, linked into `{environment}`",
            elide_middle(&record.environment, 80)
        ));
    }
    if record.previous.as_ref() != previous.map(|p| p.0) {
        return Err(format!(
            "its `previous` is {}, but the record linked before it is {} (reordered or altered links)",
            record
                .previous
                .as_ref()
                .map_or("none".into(), ToString::to_string),
            previous.map_or("none".into(), |p| p.0.to_string()),
        ));
    }
    if let Some((_, before)) = previous {
        if record.time < before {
            return Err(format!(
                "time {} is before the previous record's {before}",
                record.time
            ));
        }
    }
    let latest = options.latest_allowed();
    if record.time > latest {
        return Err(format!(
            "time {} is in the future (the verifier's clock says {}, skew {} s)",
            record.time, options.now, options.max_clock_skew_seconds
        ));
    }
    if let Some(commit) = record.commit_time {
        if commit > record.time {
            return Err(format!(
                "commit time {commit} is after the promotion ({})",
                record.time
            ));
        }
    }
    if &record.policy != policy.digest() {
        return Err(format!(
            "gated by policy {}, validating with {}",
            record.policy,
            policy.digest()
        ));
    }
    if record.kind == PromotionKind::Emergency
        && !record.reason.as_deref().is_some_and(has_visible_text)
    {
        return Err("an emergency promotion must say why in visible text".to_owned());
    }
    Ok(())
}

/// Parses stored evidence (a DSSE envelope or, feature `sigstore`, a
/// Sigstore bundle) read under `digest`: the read checked the bytes
/// against it, so they are not hashed again.
pub(in crate::promotion) fn parse_evidence(
    digest: &Digest,
    bytes: &[u8],
) -> Result<EvidenceEnvelope, crate::Error> {
    match Envelope::from_json(bytes) {
        Ok(envelope) => Ok(EvidenceEnvelope::new(digest.clone(), envelope)),
        // Not a DSSE envelope: a bundle, or nothing (the same parse as
        // for any stored evidence).
        Err(_) => EvidenceEnvelope::from_bytes(bytes),
    }
}

/// Re-evaluates a record's gate with the evidence it recorded (the
/// digests of its evidence list). The
/// digests of the evidence the gate used that claims a type other than a
/// promotion record or an incident (which a store scan would only read to
/// skip) are added to `settled`.
pub(in crate::promotion) fn check_gate(
    store: &dyn Store,
    policy: &ActivePolicy,
    record: VerifiedRecord<'_>,
    recorded: &[Digest],
    settled: &mut Vec<Digest>,
) -> Result<(), String> {
    let mut evidence = Vec::with_capacity(recorded.len());
    for digest in recorded {
        let parsed = read_checked(store, digest, |bytes| parse_evidence(digest, bytes))
            .map_err(|e| format!("evidence: {e}"))?;
        evidence.push(parsed.map_err(|e| format!("evidence {digest}: {e}"))?);
    }
    let mut gate = GateRequest::new(
        record.artifact(),
        record.from(),
        record.environment(),
        record.time(),
    );
    gate.kind = record.kind();
    gate.author = record.author().map(str::to_owned);
    gate.reason = record.reason().map(str::to_owned);
    // Approvals of an entry promotion come before it; later ones must not
    // predate the artifact's entry.
    gate.entered = record.source().map(|_| record.entered());
    let outcome = evaluate_gate(policy, &gate, &evidence);
    for used in &outcome.evidence {
        let t = used.predicate_type.as_str();
        if t != PROMOTION_V1
            && t != INCIDENT_V1
            && evidence
                .iter()
                .any(|e| e.digest() == &used.digest && e.claims(t))
        {
            settled.push(used.digest.clone());
        }
    }
    match outcome.report.first_failure() {
        Some(c) => Err(format!(
            "gate no longer satisfied: {}: {}",
            c.name, c.reason
        )),
        None => Ok(()),
    }
}

/// One line about a record: its envelope, artifact, route, time and kind.
pub(in crate::promotion) fn summary(record: &VerifiedRecord<'_>) -> String {
    format!(
        "{}: {} {} -> {} at {}{}",
        record.digest(),
        record.artifact().shown(),
        record.from().unwrap_or("(build)"),
        record.environment(),
        record.time(),
        match record.kind() {
            PromotionKind::Promotion => String::new(),
            PromotionKind::Rollback => " (rollback)".into(),
            PromotionKind::Emergency => format!(
                " (EMERGENCY: {})",
                elide_middle(record.reason().unwrap_or(""), 200)
            ),
        }
    )
}
