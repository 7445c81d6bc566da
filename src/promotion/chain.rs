//! Promoting, validating histories, and choosing rollback targets.

use std::collections::BTreeSet;
use std::fmt;

use super::Store;
use super::verified::{
    EnvironmentHistory, ValidationOptions, VerifiedHistory, VerifiedRecord, known_good,
    verified_history,
};
use crate::digest::{Digest, DigestSet, elide_middle};
use crate::dsse::Envelope;
use crate::error::{Error, StoreError};
use crate::keys::Signer;
use crate::policy::{ActivePolicy, EvidenceEnvelope, GateRequest, evaluate_gate};
use crate::predicate::promotion::{
    INCIDENT_V1, Incident, PROMOTION_V1, PromotionKind, PromotionRecord,
};
use crate::report::{Check, Report};
use crate::resource::ResourceDescriptor;
use crate::statement::{PAYLOAD_TYPE, Statement};
use crate::time::Timestamp;

/// The role a key needs to sign promotion records.
pub const PROMOTER_ROLE: &str = "promoter";
/// Roles whose keys may sign incident records.
pub const INCIDENT_ROLES: [&str; 2] = ["operator", PROMOTER_ROLE];

/// Why a promotion did not happen.
#[derive(Debug)]
#[non_exhaustive]
pub enum PromotionError {
    /// The gate refused it: the report says which checks failed and why.
    Refused(Report),
    /// The store failed, or another promotion into the same environment
    /// won the race ([`StoreError::Conflict`]).
    Store(Error),
}

impl fmt::Display for PromotionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused(report) => match report.first_failure() {
                Some(c) => write!(f, "promotion refused: {}: {}", c.name, c.reason),
                None => f.write_str("promotion refused"),
            },
            Self::Store(e) => write!(f, "promotion not recorded: {e}"),
        }
    }
}

impl std::error::Error for PromotionError {}

impl From<Error> for PromotionError {
    fn from(e: Error) -> Self {
        Self::Store(e)
    }
}

/// A recorded promotion.
#[derive(Debug, Clone)]
pub struct Promoted {
    /// The artifact promoted.
    pub artifact: DigestSet,
    /// SHA-256 of the signed record's envelope, as stored.
    pub record: Digest,
    /// The record.
    pub predicate: PromotionRecord,
    /// The gate's report.
    pub report: Report,
}

/// One record of an environment's history, as read from the store (not yet
/// verified: [`validate`](super::validate) verifies).
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    /// The record's envelope digest.
    pub digest: Digest,
    /// The artifact it promoted.
    pub artifact: DigestSet,
    /// The record.
    pub record: PromotionRecord,
}

/// Reads stored bytes and checks they hash to `digest`, whatever the
/// store implementation does.
pub(crate) fn get_checked(store: &dyn Store, digest: &Digest) -> Result<Vec<u8>, Error> {
    read_checked(store, digest, <[u8]>::to_vec)
}

/// [`get_checked`] for a reader that needs the bytes only while `read`
/// runs: a store that holds them in memory lends them, uncopied. The one
/// place a read is checked against its name.
pub(crate) fn read_checked<T>(
    store: &dyn Store,
    digest: &Digest,
    read: impl FnOnce(&[u8]) -> T,
) -> Result<T, Error> {
    let checks = store.checks_content();
    let mut read = Some(read);
    let mut out: Option<Result<T, Error>> = None;
    store.read_with(digest, &mut |bytes| {
        // A store that lends twice is read once.
        let Some(read) = read.take() else { return };
        out = Some(if checks {
            Ok(read(bytes))
        } else {
            super::store::check_content(digest, bytes).map(|()| read(bytes))
        });
    })?;
    out.unwrap_or_else(|| {
        Err(StoreError::Invalid(format!("the store lent no bytes for {digest}")).into())
    })
}

/// Reads a stored promotion record without verifying its signature.
pub(super) fn read_record(
    store: &dyn Store,
    digest: &Digest,
) -> Result<(Envelope, Statement, PromotionRecord), Error> {
    let envelope = read_checked(store, digest, Envelope::from_json)??;
    let statement = Statement::from_json(envelope.payload())?;
    let record: PromotionRecord = statement.predicate_as()?;
    Ok((envelope, statement, record))
}

pub(crate) fn artifact_of(statement: &Statement) -> DigestSet {
    statement
        .subject()
        .first()
        .map(|s| s.digest.clone())
        .unwrap_or_default()
}

/// An environment's linked history, oldest first. Unverified: for
/// decisions use [`validate`](super::validate) and the [`VerifiedHistory`] it returns.
pub fn history(store: &dyn Store, environment: &str) -> Result<Vec<HistoryEntry>, Error> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let mut previous: Option<Digest> = None;
    while let Some(digest) = store.successor(environment, previous.as_ref())? {
        if !seen.insert(digest.clone()) {
            return Err(StoreError::Invalid(format!(
                "the links of `{environment}` loop at {digest}"
            ))
            .into());
        }
        let (_, statement, record) = read_record(store, &digest)?;
        out.push(HistoryEntry {
            digest: digest.clone(),
            artifact: artifact_of(&statement),
            record,
        });
        previous = Some(digest);
    }
    Ok(out)
}

/// Digests of stored envelopes whose statement is about `artifact`, other
/// than promotion and incident records: the evidence a promotion can offer
/// when the caller does not list it. Unverified (the gate verifies).
pub fn evidence_about(store: &dyn Store, artifact: &DigestSet) -> Result<Vec<Digest>, Error> {
    let mut out = Vec::new();
    for digest in store.list()? {
        let Ok(bytes) = get_checked(store, &digest) else {
            continue;
        };
        // DSSE envelopes and (feature `sigstore`) Sigstore bundles.
        let Ok(evidence) = EvidenceEnvelope::from_bytes(&bytes) else {
            continue;
        };
        let Ok(statement) = Statement::from_json(evidence.envelope().payload()) else {
            continue;
        };
        if matches!(statement.predicate_type(), PROMOTION_V1 | INCIDENT_V1) {
            continue;
        }
        if statement.subject_matching(artifact).is_ok() {
            out.push(digest);
        }
    }
    Ok(out)
}

/// The latest record of `environment`: from the store's head hint when it
/// is linked, else from genesis, following links to the end.
pub fn head(store: &dyn Store, environment: &str) -> Result<Option<Digest>, Error> {
    let mut current = None;
    // An unreadable hint is only a missed shortcut here; validate_chain
    // reports it.
    if let Ok(Some(hint)) = store.head_hint(environment) {
        if let Ok((_, _, record)) = read_record(store, &hint) {
            let linked = record.environment == environment
                && store
                    .successor(environment, record.previous.as_ref())?
                    .as_ref()
                    == Some(&hint);
            if linked {
                current = Some(hint);
            }
        }
    }
    let mut seen = BTreeSet::new();
    while let Some(next) = store.successor(environment, current.as_ref())? {
        if !seen.insert(next.clone()) {
            return Err(StoreError::Invalid(format!(
                "the links of `{environment}` loop at {next}"
            ))
            .into());
        }
        current = Some(next);
    }
    Ok(current)
}

/// What to promote: the gate request, the stored evidence envelopes
/// (by digest) and, for an artifact entering its first environment, when
/// its change was committed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PromotionRequest {
    /// Artifact, environments, kind, time, author, reason.
    pub gate: GateRequest,
    /// Digests of stored evidence envelopes.
    pub evidence: Vec<Digest>,
    /// Commit time (entry promotions; later ones inherit it).
    pub commit_time: Option<Timestamp>,
}

impl PromotionRequest {
    /// A request with its evidence.
    pub fn new(gate: GateRequest, evidence: Vec<Digest>) -> Self {
        Self {
            gate,
            evidence,
            commit_time: None,
        }
    }
}

/// Promotes an artifact: validates the histories it relies on (the target
/// environment and the source environment, transitively), checks the
/// promoter's role, that the artifact is the one in the source environment
/// (no rebuild) and the target's gate; then signs the record, stores it and
/// links it after the target's verified head.
///
/// Checks, before the gate's own: `history` (only when a history it relies
/// on does not validate: nothing unverified is read for the decision),
/// `promoter`, `evidence`, `time` (not in the future), `time-order`,
/// `artifact-in-source`, `author` (the author travels with the artifact
/// from the record it entered with; a request naming another fails).
pub fn promote(
    store: &dyn Store,
    policy: &ActivePolicy,
    request: &PromotionRequest,
    promoter: &dyn Signer,
) -> Result<Promoted, PromotionError> {
    let gate = &request.gate;
    super::store::check_environment(&gate.to)?;
    if let Some(from) = gate.from.as_deref() {
        super::store::check_environment(from)?;
    }
    let options = ValidationOptions::default();
    let mut scope = vec![gate.to.as_str()];
    if let Some(from) = gate.from.as_deref() {
        if from != gate.to {
            scope.push(from);
        }
    }
    let history =
        verified_history(store, policy, &scope, &options).map_err(PromotionError::Refused)?;
    promote_verified(store, &history, policy, request, promoter, &options)
}

pub(super) fn promote_verified(
    store: &dyn Store,
    history: &VerifiedHistory,
    policy: &ActivePolicy,
    request: &PromotionRequest,
    promoter: &dyn Signer,
    options: &ValidationOptions,
) -> Result<Promoted, PromotionError> {
    let gate = &request.gate;
    let mut report = Report::new();
    let promoter_identity = policy
        .keys_with_role(PROMOTER_ROLE)
        .get(promoter.key_id())
        .and_then(|_| policy.identity_of(promoter.key_id()));
    report.push(match promoter_identity {
        Some(who) => Check::pass("promoter", format!("{who} may sign promotion records")),
        None => Check::fail(
            "promoter",
            format!(
                "key {} has no `{PROMOTER_ROLE}` role in the policy",
                promoter.key_id().short()
            ),
        ),
    });

    let mut evidence = Vec::new();
    let mut missing = Vec::new();
    for digest in &request.evidence {
        match get_checked(store, digest).and_then(|b| EvidenceEnvelope::from_bytes(&b)) {
            Ok(ev) => evidence.push(ev),
            Err(e) => missing.push(e.to_string()),
        }
    }
    report.push(if missing.is_empty() {
        Check::pass(
            "evidence",
            format!("{} envelope(s) read from the store", evidence.len()),
        )
    } else {
        Check::fail("evidence", missing.join("; "))
    });

    let latest = Timestamp::from_unix(
        options
            .now
            .unix()
            .saturating_add(options.max_clock_skew_seconds),
    );
    if gate.time > latest {
        report.push(Check::fail(
            "time",
            format!(
                "{} is in the future (the clock says {})",
                gate.time, options.now
            ),
        ));
    }
    let target_head = history.environment(&gate.to).and_then(|e| e.head());
    if let Some(h) = target_head {
        let latest = h.time();
        report.push(if gate.time >= latest {
            Check::pass("time-order", format!("{} is not before the latest record ({latest})", gate.time))
        } else {
            Check::fail(
                "time-order",
                format!(
                    "{} is before the latest record in `{}` ({latest}): histories never go back in time",
                    gate.time, gate.to
                ),
            )
        });
    }
    let source = find_source(history, gate, &mut report);
    if let Some(s) = source {
        report.push(if s.time() <= gate.time {
            Check::pass(
                "source-time",
                format!("the source record is from {}", s.time()),
            )
        } else {
            Check::fail(
                "source-time",
                format!(
                    "{} is before the source record {} ({})",
                    gate.time,
                    s.digest(),
                    s.time()
                ),
            )
        });
    }
    // The author travels with the artifact from its entry record.
    let mut gated = gate.clone();
    if let Some(s) = source {
        match (gate.author.as_deref(), s.author()) {
            (Some(asked), Some(entered)) if asked != entered => report.push(Check::fail(
                "author",
                format!(
                    "the request names `{}` as author, but the artifact entered with `{}`",
                    elide_middle(asked, 80),
                    elide_middle(entered, 80)
                ),
            )),
            (Some(_), None) => report.push(Check::fail(
                "author",
                "the artifact entered with no author; a later record cannot add one",
            )),
            _ => {}
        }
        gated.author = s.author().map(str::to_owned);
        gated.entered = Some(s.entered());
    } else {
        // An entry promotion: its approvals come before it, after the build.
        gated.entered = None;
    }

    let outcome = evaluate_gate(policy, &gated, &evidence);
    report.extend(outcome.report);
    if !report.verified() {
        return Err(PromotionError::Refused(report));
    }

    let mut record = PromotionRecord::new(
        gate.to.clone(),
        gate.from.clone(),
        gate.kind,
        gate.time,
        policy.digest().clone(),
    );
    record.evidence = outcome.evidence;
    record.previous = target_head.map(|h| h.digest());
    record.author = gated.author.clone();
    record.reason = gate.reason.clone();
    record.commit_time = match source {
        Some(s) => s.commit_time(),
        None => request.commit_time,
    };
    record.source = source.map(|s| s.digest());
    let statement = Statement::new(
        vec![ResourceDescriptor::new("artifact", gate.artifact.clone())],
        &record,
    )?;
    let envelope = Envelope::sign(PAYLOAD_TYPE, statement.to_json()?, promoter)?;
    let digest = store.put(&envelope.to_json()?)?;
    if let Err(lost) = store.link(&gate.to, record.previous.as_ref(), &digest) {
        // On a conflict nothing links to the record: remove it, so a lost
        // race leaves no unlinked record behind. On any other error the
        // link's state is unknown, so the record stays.
        if matches!(lost, Error::Store(StoreError::Conflict { .. })) {
            let _ = store.remove(&digest);
        }
        return Err(PromotionError::Store(lost));
    }
    let _ = store.set_head_hint(&gate.to, &digest);
    Ok(Promoted {
        artifact: gate.artifact.clone(),
        record: digest,
        predicate: record,
        report,
    })
}

/// The verified record the artifact comes from: the latest record into
/// `from` with this artifact; for a rollback, the target's last known-good
/// record, which must be this artifact.
fn find_source<'h>(
    history: &'h VerifiedHistory,
    gate: &GateRequest,
    report: &mut Report,
) -> Option<VerifiedRecord<'h>> {
    let artifact = &gate.artifact;
    let from = gate.from.as_deref()?;
    let empty = EnvironmentHistory::default();
    let records = history.environment(from).unwrap_or(&empty);
    let found = if gate.kind == PromotionKind::Rollback {
        let target = known_good(records, records.len(), |a| {
            history.incidents_about(from, a, gate.time).next().is_some()
        });
        match target {
            Some(t) if t.artifact_matches(artifact) => history.record(&t.digest()),
            Some(t) => {
                report.push(Check::fail(
                    "artifact-in-source",
                    format!(
                        "a rollback returns to the last known-good artifact of `{from}` ({}, record {}), not to this one",
                        t.artifact().shown(),
                        t.digest()
                    ),
                ));
                return None;
            }
            None => None,
        }
    } else {
        let found = records
            .records()
            .rev()
            .find(|r| r.artifact_matches(artifact));
        found.and_then(|r| history.record(&r.digest()))
    };
    report.push(match found {
        Some(e) => Check::pass(
            "artifact-in-source",
            format!("the same digest entered `{from}` with record {}", e.digest()),
        ),
        None if gate.kind == PromotionKind::Rollback => Check::fail(
            "artifact-in-source",
            format!("a rollback returns to the last known-good artifact `{from}` ran before; there is none without an incident"),
        ),
        None => Check::fail(
            "artifact-in-source",
            format!(
                "this artifact ({}) never entered `{from}`: only the digest built once and promoted there may move on (a rebuild has a new digest)",
                artifact.shown()
            ),
        ),
    });
    found
}

/// A verified incident: the artifact and the record.
#[derive(Debug, Clone)]
pub struct IncidentEntry {
    /// The incident envelope's digest.
    pub digest: Digest,
    /// The artifact that failed.
    pub artifact: DigestSet,
    /// The incident.
    pub incident: Incident,
}

/// Signs and stores an incident record about `artifact`.
pub fn record_incident(
    store: &dyn Store,
    artifact: &DigestSet,
    incident: &Incident,
    signer: &dyn Signer,
) -> Result<Digest, Error> {
    let statement = Statement::new(
        vec![ResourceDescriptor::new("artifact", artifact.clone())],
        incident,
    )?;
    let envelope = Envelope::sign(PAYLOAD_TYPE, statement.to_json()?, signer)?;
    store.put(&envelope.to_json()?)
}

/// The last known-good artifact of an environment and why.
#[derive(Debug, Clone)]
pub struct RollbackTarget {
    /// The record that last brought it into the environment.
    pub record: Digest,
    /// The artifact.
    pub artifact: DigestSet,
    /// Its evidence re-checked against the policy (for a rollback now).
    pub report: Report,
}

/// The last known-good artifact of a verified environment: the newest
/// earlier artifact (not the current one) that no incident opened by
/// `time` names, whose recorded evidence still passes the policy as a
/// rollback at `time`. `Err` carries the reason. Validation holds every
/// rollback record to the same rule.
pub fn rollback_target(
    store: &dyn Store,
    history: &VerifiedHistory,
    policy: &ActivePolicy,
    environment: &str,
    time: Timestamp,
) -> Result<RollbackTarget, PromotionError> {
    let refuse = |reason: String| {
        let mut report = Report::new();
        report.push(Check::fail("rollback-target", reason));
        PromotionError::Refused(report)
    };
    let env = history
        .environment(environment)
        .filter(|e| e.verified())
        .ok_or_else(|| refuse(format!("`{environment}` has no verified history")))?;
    let target = known_good(env, env.len(), |a| {
        history
            .incidents_about(environment, a, time)
            .next()
            .is_some()
    })
    .ok_or_else(|| {
        refuse(format!(
            "`{environment}` has no earlier artifact without an incident to return to"
        ))
    })?;
    let mut evidence = Vec::new();
    for ev in &target.open(store)?.evidence {
        let bytes = get_checked(store, &ev.digest)?;
        evidence.push(EvidenceEnvelope::from_bytes(&bytes)?);
    }
    let mut gate = GateRequest::new(target.artifact(), Some(environment), environment, time);
    gate.kind = PromotionKind::Rollback;
    gate.author = target.author().map(str::to_owned);
    gate.entered = target.source().map(|_| target.entered());
    let outcome = evaluate_gate(policy, &gate, &evidence);
    if outcome.report.verified() {
        return Ok(RollbackTarget {
            record: target.digest(),
            artifact: target.artifact(),
            report: outcome.report,
        });
    }
    let why = outcome
        .report
        .first_failure()
        .map(|c| format!("{}: {}", c.name, c.reason))
        .unwrap_or_default();
    Err(refuse(format!(
        "the last known-good artifact of `{environment}` (record {}) no longer passes its gate: {why}",
        target.digest()
    )))
}

/// Rolls `environment` back to its [`rollback_target`]: a promotion of that
/// already-attested digest with kind `rollback`, never a rebuild.
pub fn rollback(
    store: &dyn Store,
    policy: &ActivePolicy,
    environment: &str,
    time: Timestamp,
    reason: &str,
    promoter: &dyn Signer,
) -> Result<Promoted, PromotionError> {
    let options = ValidationOptions::default();
    let history = verified_history(store, policy, &[environment], &options)
        .map_err(PromotionError::Refused)?;
    let target = rollback_target(store, &history, policy, environment, time)?;
    let original = history.record(&target.record);
    let mut gate = GateRequest::new(
        target.artifact.clone(),
        Some(environment),
        environment,
        time,
    );
    gate.kind = PromotionKind::Rollback;
    gate.reason = Some(reason.to_owned());
    gate.author = original.and_then(|e| e.author().map(str::to_owned));
    let evidence = original
        .map(|e| e.open(store))
        .transpose()?
        .map(|r| r.evidence.into_iter().map(|ev| ev.digest).collect())
        .unwrap_or_default();
    promote_verified(
        store,
        &history,
        policy,
        &PromotionRequest::new(gate, evidence),
        promoter,
        &options,
    )
}
