//! Promoting, validating histories, and choosing rollback targets.

use std::collections::BTreeSet;
use std::fmt;

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
use crate::verify::open_envelope;

use super::Store;

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
/// verified: [`validate_chain`] verifies).
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
fn get_checked(store: &dyn Store, digest: &Digest) -> Result<Vec<u8>, Error> {
    let bytes = store.get(digest)?;
    super::store::check_content(digest, &bytes)?;
    Ok(bytes)
}

/// Reads a stored promotion record without verifying its signature.
fn read_record(
    store: &dyn Store,
    digest: &Digest,
) -> Result<(Envelope, Statement, PromotionRecord), Error> {
    let bytes = get_checked(store, digest)?;
    let envelope = Envelope::from_json(&bytes)?;
    let statement = Statement::from_json(envelope.payload())?;
    let record: PromotionRecord = statement.predicate_as()?;
    Ok((envelope, statement, record))
}

fn artifact_of(statement: &Statement) -> DigestSet {
    statement
        .subject()
        .first()
        .map(|s| s.digest.clone())
        .unwrap_or_default()
}

/// An environment's linked history, oldest first. Unverified: for
/// decisions use [`validate_chain`].
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

/// Walks back from `start` through the records' `previous` links, newest
/// first, until `found` accepts an entry.
fn find_back(
    store: &dyn Store,
    start: Option<Digest>,
    mut found: impl FnMut(&HistoryEntry) -> bool,
) -> Result<Option<HistoryEntry>, Error> {
    let mut seen = BTreeSet::new();
    let mut current = start;
    while let Some(digest) = current {
        if !seen.insert(digest.clone()) {
            return Err(StoreError::Invalid(format!("records loop back to {digest}")).into());
        }
        let (_, statement, record) = read_record(store, &digest)?;
        let entry = HistoryEntry {
            digest,
            artifact: artifact_of(&statement),
            record,
        };
        if found(&entry) {
            return Ok(Some(entry));
        }
        current = entry.record.previous.clone();
    }
    Ok(None)
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

/// Promotes an artifact: checks the promoter's role, that the artifact is
/// the one in the source environment (no rebuild), and the target's gate;
/// then signs the record, stores it and links it after the environment's
/// current head. Checks, before the gate's own: `promoter`, `evidence`,
/// `artifact-in-source`.
pub fn promote(
    store: &dyn Store,
    policy: &ActivePolicy,
    request: &PromotionRequest,
    promoter: &dyn Signer,
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

    let target_head = head(store, &gate.to)?;
    if let Some(h) = &target_head {
        let latest = read_record(store, h)?.2.time;
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
    let source = find_source(store, gate, target_head.as_ref(), &mut report)?;

    let outcome = evaluate_gate(policy, gate, &evidence);
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
    record.previous = target_head;
    record.author = gate.author.clone();
    record.reason = gate.reason.clone();
    record.commit_time = match &source {
        Some(s) => s.record.commit_time,
        None => request.commit_time,
    };
    record.source = source.map(|s| s.digest);
    let statement = Statement::new(
        vec![ResourceDescriptor::new("artifact", gate.artifact.clone())],
        &record,
    )?;
    let envelope = Envelope::sign(PAYLOAD_TYPE, statement.to_json(), promoter)?;
    let digest = store.put(&envelope.to_json())?;
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

/// The record that put the artifact where it comes from: the latest record
/// into `from` with this artifact (for a rollback, into the target itself,
/// excluding its current head).
fn find_source(
    store: &dyn Store,
    gate: &GateRequest,
    target_head: Option<&Digest>,
    report: &mut Report,
) -> Result<Option<HistoryEntry>, Error> {
    let artifact = &gate.artifact;
    let matches = |e: &HistoryEntry| e.artifact.matches(artifact).is_ok();
    let (env, found) = match (gate.kind, gate.from.as_deref()) {
        (_, None) => return Ok(None),
        (PromotionKind::Rollback, Some(_)) => {
            // Earlier records of the target itself, not its current head.
            let before_head = match target_head {
                Some(h) => read_record(store, h)?.2.previous,
                None => None,
            };
            (gate.to.as_str(), find_back(store, before_head, matches)?)
        }
        (_, Some(from)) => (from, find_back(store, head(store, from)?, matches)?),
    };
    report.push(match &found {
        Some(e) => Check::pass(
            "artifact-in-source",
            format!("the same digest entered `{env}` with record {}", e.digest),
        ),
        None if gate.kind == PromotionKind::Rollback => Check::fail(
            "artifact-in-source",
            format!("a rollback returns to an artifact `{env}` ran before; this one never entered it"),
        ),
        None => Check::fail(
            "artifact-in-source",
            format!(
                "this artifact ({}) never entered `{env}`: only the digest built once and promoted there may move on (a rebuild has a new digest)",
                artifact.strongest().map(|d| d.to_string()).unwrap_or_default()
            ),
        ),
    });
    Ok(found)
}

/// Validates one environment's whole history: each record's envelope
/// (content hash, promoter signature), its links (`previous` is the record
/// before it, nothing else follows the same record: no fork), times that
/// never go backwards, the source link (same digest in the source
/// environment: no rebuild), the policy digest, and the gate re-evaluated
/// with the recorded evidence. One `record[i]` check per record, then
/// `unlinked-records` (records for this environment outside the chain:
/// forked, reordered or orphaned) and `emergencies`.
pub fn validate_chain(store: &dyn Store, policy: &ActivePolicy, environment: &str) -> Report {
    let mut report = Report::new();
    let mut previous: Option<(Digest, Timestamp)> = None;
    let mut linked = BTreeSet::new();
    let mut linked_order: Vec<Digest> = Vec::new();
    // Envelopes the chain uses as evidence: no need to re-read them when
    // looking for unlinked promotion records.
    let mut evidence = BTreeSet::new();
    let mut emergencies = Vec::new();
    let mut index = 0usize;
    loop {
        let next = match store.successor(environment, previous.as_ref().map(|p| &p.0)) {
            Ok(Some(d)) => d,
            Ok(None) => break,
            Err(e) => {
                report.push(Check::fail(format!("record[{index}]"), e.to_string()));
                break;
            }
        };
        linked_order.push(next.clone());
        if !linked.insert(next.clone()) {
            report.push(Check::fail(
                format!("record[{index}]"),
                format!("links loop back to {next}"),
            ));
            break;
        }
        let name = format!("record[{index}]");
        match check_record(store, policy, environment, &next, previous.as_ref()) {
            Ok((summary, record)) => {
                evidence.extend(record.evidence.iter().map(|e| e.digest.clone()));
                if record.kind == PromotionKind::Emergency {
                    emergencies.push(format!(
                        "{name} {next}: {}",
                        record.reason.as_deref().unwrap_or("")
                    ));
                }
                report.push(Check::pass(name, summary));
                previous = Some((next, record.time));
            }
            Err(reason) => {
                let link = previous
                    .as_ref()
                    .map_or("genesis".to_owned(), |p| p.0.hex());
                report.push(Check::fail(
                    name,
                    format!("{next}: {reason} (the record linked after {link} in `{environment}`)"),
                ));
                // Later links cannot be trusted to mean anything; stop.
                previous = None;
                break;
            }
        }
        index += 1;
    }
    if report.checks().is_empty() {
        report.push(Check::pass(
            "history",
            format!("`{environment}` has no promotions yet"),
        ));
    }
    let _ = previous;
    let last = linked_order.last().cloned();
    match store.head_hint(environment) {
        Ok(None) => {}
        Ok(Some(hint)) if Some(&hint) == last.as_ref() => {
            report.push(Check::pass("head", format!("the store's head of `{environment}` is {hint}")));
        }
        Ok(Some(hint)) => report.push(Check::fail(
            "head",
            format!(
                "the store says the head of `{environment}` is {hint}, but its linked history ends at {}",
                last.map_or("(nothing)".to_owned(), |d| d.to_string())
            ),
        )),
        Err(e) => report.push(Check::fail("head", e.to_string())),
    }
    report.push(match unlinked_records(store, environment, &linked, &evidence) {
        Ok(extra) if extra.is_empty() => Check::pass(
            "unlinked-records",
            format!("every record into `{environment}` is in its linked history"),
        ),
        Ok(extra) => Check::fail(
            "unlinked-records",
            format!(
                "{} record(s) into `{environment}` are outside its linked history (forked, reordered or unlinked): {}",
                extra.len(),
                extra.iter().take(5).map(ToString::to_string).collect::<Vec<_>>().join(", ")
            ),
        ),
        Err(e) => Check::fail("unlinked-records", e.to_string()),
    });
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
    report
}

fn check_record(
    store: &dyn Store,
    policy: &ActivePolicy,
    environment: &str,
    digest: &Digest,
    previous: Option<&(Digest, Timestamp)>,
) -> Result<(String, PromotionRecord), String> {
    let bytes = get_checked(store, digest).map_err(|e| e.to_string())?;
    let envelope = Envelope::from_json(&bytes).map_err(|e| e.to_string())?;
    let mut r = Report::new();
    let promoters = policy.keys_with_role(PROMOTER_ROLE);
    let statement = if promoters.is_empty() {
        None
    } else {
        open_envelope(&envelope, promoters, 1, &mut r)
    }
    .ok_or_else(|| {
        let why = r
            .first_failure()
            .map(|c| format!("{}: {}", c.name, c.reason));
        format!(
            "not signed by a `{PROMOTER_ROLE}` key ({})",
            why.unwrap_or_else(|| "no promoter keys".into())
        )
    })?;
    if statement.predicate_type() != PROMOTION_V1 {
        return Err(format!(
            "not a promotion record (`{}`)",
            elide_middle(statement.predicate_type(), 200)
        ));
    }
    let record: PromotionRecord = statement.predicate_as().map_err(|e| e.to_string())?;
    let artifact = artifact_of(&statement);
    if record.environment != environment {
        return Err(format!(
            "record is for `{}`, linked into `{environment}`",
            record.environment
        ));
    }
    if record.previous.as_ref() != previous.map(|p| &p.0) {
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
        if record.time < *before {
            return Err(format!(
                "time {} is before the previous record's {before}",
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
    check_source_link(store, &record, &artifact, environment)?;
    let mut evidence = Vec::new();
    for ev in &record.evidence {
        let bytes = get_checked(store, &ev.digest).map_err(|e| format!("evidence: {e}"))?;
        evidence.push(
            EvidenceEnvelope::from_bytes(&bytes)
                .map_err(|e| format!("evidence {}: {e}", ev.digest))?,
        );
    }
    let mut gate = GateRequest::new(
        artifact.clone(),
        record.from.as_deref(),
        environment,
        record.time,
    );
    gate.kind = record.kind;
    gate.author = record.author.clone();
    gate.reason = record.reason.clone();
    let outcome = evaluate_gate(policy, &gate, &evidence);
    if let Some(c) = outcome.report.first_failure() {
        return Err(format!(
            "gate no longer satisfied: {}: {}",
            c.name, c.reason
        ));
    }
    let summary = format!(
        "{digest}: {} {} -> {environment} at {}{}",
        artifact
            .strongest()
            .map(|d| d.to_string())
            .unwrap_or_default(),
        record.from.as_deref().unwrap_or("(build)"),
        record.time,
        match record.kind {
            PromotionKind::Promotion => String::new(),
            PromotionKind::Rollback => " (rollback)".into(),
            PromotionKind::Emergency =>
                format!(" (EMERGENCY: {})", record.reason.as_deref().unwrap_or("")),
        }
    );
    Ok((summary, record))
}

fn check_source_link(
    store: &dyn Store,
    record: &PromotionRecord,
    artifact: &DigestSet,
    environment: &str,
) -> Result<(), String> {
    let expected_env = match (record.kind, record.from.as_deref()) {
        (_, None) => {
            return match &record.source {
                None => Ok(()),
                Some(_) => Err("an entry promotion has no source record".into()),
            };
        }
        (PromotionKind::Rollback, Some(_)) => environment,
        (_, Some(from)) => from,
    };
    let source = record
        .source
        .as_ref()
        .ok_or("no source record: where did the artifact come from?")?;
    let (_, statement, source_record) =
        read_record(store, source).map_err(|e| format!("source record: {e}"))?;
    if source_record.environment != expected_env {
        return Err(format!(
            "source record {source} put the artifact into `{}`, not `{expected_env}`",
            source_record.environment
        ));
    }
    artifact_of(&statement).matches(artifact).map_err(|e| {
        format!(
            "source record {source} is about another artifact ({e}): a rebuild, not a promotion"
        )
    })?;
    Ok(())
}

fn unlinked_records(
    store: &dyn Store,
    environment: &str,
    linked: &BTreeSet<Digest>,
    evidence: &BTreeSet<Digest>,
) -> Result<Vec<Digest>, Error> {
    let mut extra = Vec::new();
    for digest in store.list()? {
        if linked.contains(&digest) || evidence.contains(&digest) {
            continue;
        }
        // Only promotion records into this environment matter here.
        if let Ok((_, statement, record)) = read_record(store, &digest) {
            if statement.predicate_type() == PROMOTION_V1 && record.environment == environment {
                extra.push(digest);
            }
        }
    }
    Ok(extra)
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
    let envelope = Envelope::sign(PAYLOAD_TYPE, statement.to_json(), signer)?;
    store.put(&envelope.to_json())
}

/// Incidents in `environment` signed by a key with an incident role
/// (`operator` or `promoter`); unsigned or untrusted ones are ignored.
pub fn incidents(
    store: &dyn Store,
    policy: &ActivePolicy,
    environment: &str,
) -> Result<Vec<IncidentEntry>, Error> {
    let mut keys = crate::keys::KeySet::new();
    for role in INCIDENT_ROLES {
        for k in policy.keys_with_role(role).iter() {
            keys.insert_verifier(k.clone());
        }
    }
    let mut out = Vec::new();
    if keys.is_empty() {
        return Ok(out);
    }
    for digest in store.list()? {
        let Ok(bytes) = get_checked(store, &digest) else {
            continue;
        };
        // Only envelopes that claim to be incidents are verified: evidence
        // and promotion records are most of the store.
        let Ok(evidence) = EvidenceEnvelope::from_bytes(&bytes) else {
            continue;
        };
        if !evidence.claims(INCIDENT_V1) {
            continue;
        }
        let mut r = Report::new();
        let Some(statement) = open_envelope(evidence.envelope(), &keys, 1, &mut r) else {
            continue;
        };
        if statement.predicate_type() != INCIDENT_V1 {
            continue;
        }
        let Ok(incident) = statement.predicate_as::<Incident>() else {
            continue;
        };
        if incident.environment == environment {
            out.push(IncidentEntry {
                digest,
                artifact: artifact_of(&statement),
                incident,
            });
        }
    }
    out.sort_by_key(|i| i.incident.opened);
    Ok(out)
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

/// The newest artifact in `environment`'s history other than the current
/// one, with no incident there, whose recorded evidence still passes the
/// policy (as a rollback at `time`). `Err` carries the reason.
pub fn rollback_target(
    store: &dyn Store,
    policy: &ActivePolicy,
    environment: &str,
    time: Timestamp,
) -> Result<RollbackTarget, PromotionError> {
    let entries = history(store, environment)?;
    let failed = incidents(store, policy, environment)?;
    let current = entries.last().map(|e| e.artifact.clone());
    let mut reasons = Vec::new();
    for entry in entries.iter().rev() {
        let is_current = current
            .as_ref()
            .is_some_and(|c| c.matches(&entry.artifact).is_ok());
        if is_current {
            continue;
        }
        if let Some(i) = failed
            .iter()
            .find(|i| i.artifact.matches(&entry.artifact).is_ok())
        {
            reasons.push(format!(
                "{}: incident {} ({})",
                entry.digest,
                i.digest,
                elide_middle(&i.incident.summary, 120)
            ));
            continue;
        }
        let mut evidence = Vec::new();
        for ev in &entry.record.evidence {
            if let Ok(e) =
                get_checked(store, &ev.digest).and_then(|b| EvidenceEnvelope::from_bytes(&b))
            {
                evidence.push(e);
            }
        }
        let mut gate =
            GateRequest::new(entry.artifact.clone(), Some(environment), environment, time);
        gate.kind = PromotionKind::Rollback;
        gate.author = entry.record.author.clone();
        let outcome = evaluate_gate(policy, &gate, &evidence);
        if outcome.report.verified() {
            return Ok(RollbackTarget {
                record: entry.digest.clone(),
                artifact: entry.artifact.clone(),
                report: outcome.report,
            });
        }
        let why = outcome
            .report
            .first_failure()
            .map(|c| format!("{}: {}", c.name, c.reason))
            .unwrap_or_default();
        reasons.push(format!(
            "{}: evidence no longer passes ({why})",
            entry.digest
        ));
    }
    let mut report = Report::new();
    report.push(Check::fail(
        "rollback-target",
        if reasons.is_empty() {
            format!("`{environment}` has no earlier artifact to return to")
        } else {
            format!(
                "no known-good artifact in `{environment}`: {}",
                reasons.join("; ")
            )
        },
    ));
    Err(PromotionError::Refused(report))
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
    let target = rollback_target(store, policy, environment, time)?;
    let entries = history(store, environment)?;
    let original = entries.iter().find(|e| e.digest == target.record);
    let mut gate = GateRequest::new(
        target.artifact.clone(),
        Some(environment),
        environment,
        time,
    );
    gate.kind = PromotionKind::Rollback;
    gate.reason = Some(reason.to_owned());
    gate.author = original.and_then(|e| e.record.author.clone());
    let evidence = original
        .map(|e| {
            e.record
                .evidence
                .iter()
                .map(|ev| ev.digest.clone())
                .collect()
        })
        .unwrap_or_default();
    promote(
        store,
        policy,
        &PromotionRequest::new(gate, evidence),
        promoter,
    )
}
