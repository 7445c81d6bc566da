//! Verified history: the one input that decisions (promotion, rollback,
//! admission, DORA) take, and that only validation can produce.
//!
//! The store is untrusted. Anyone who can write to it can add, remove or
//! re-point links and heads, drop in envelopes with no signatures, and
//! delete files; only the promoter's private key can make a record. So
//! nothing here reads a record for a decision before it has been checked:
//!
//! 1. each environment's chain is followed through its links;
//! 2. every record on it is opened: content hash, promoter signature,
//!    predicate type (in parallel with feature `rayon`);
//! 3. in order: the record is for this environment, names the record
//!    before it as `previous`, is not earlier than it, not later than the
//!    verifier's clock plus a skew, gated by this policy, and an emergency
//!    says why in visible text;
//! 4. its gate is re-evaluated with the evidence it recorded;
//! 5. its source record (where the same digest came from) is itself a
//!    verified record of the source environment, transitively back to the
//!    build: same artifact, not later, same author and commit time; a
//!    rollback returns to the environment's last known-good artifact (the
//!    newest earlier one with no incident opened before the rollback);
//! 6. incidents are signed by an incident role and have possible times.
//!
//! A record is accepted only when all of that holds for it and for every
//! record before it in its environment; an environment is verified when
//! every linked record is accepted, its head hint agrees and no promotion
//! record into it lies outside its chain.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use crate::digest::{Digest, DigestSet, elide_middle};
use crate::dsse::Envelope;
use crate::keys::KeySet;
use crate::policy::{ActivePolicy, EvidenceEnvelope, GateRequest, evaluate_gate};
use crate::predicate::promotion::{
    INCIDENT_V1, Incident, PROMOTION_V1, PromotionKind, PromotionRecord,
};
use crate::report::{Check, CheckSubject, Report, has_visible_text};
use crate::statement::Statement;
use crate::time::Timestamp;
use crate::verify::open_envelope;

use super::Store;
use super::chain::{INCIDENT_ROLES, IncidentEntry, PROMOTER_ROLE, artifact_of, get_checked};

/// How far in the future (by the verifier's clock) a record may be dated:
/// five minutes, for clocks that drift.
pub const DEFAULT_MAX_CLOCK_SKEW_SECONDS: i64 = 300;

/// Checks about the store's upkeep rather than its records.
const STORE_HYGIENE: [&str; 2] = ["head", "unlinked-records"];

/// The verifier's view of time for a validation.
///
/// ```
/// use custodia::promotion::ValidationOptions;
/// use custodia::time::Timestamp;
/// let options = ValidationOptions::at(Timestamp::from_unix(1_700_000_000));
/// assert_eq!(options.now.unix(), 1_700_000_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidationOptions {
    /// The verifier's clock: nothing may be dated later than this plus
    /// `max_clock_skew_seconds`.
    pub now: Timestamp,
    /// Allowed clock skew, in seconds.
    pub max_clock_skew_seconds: i64,
}

impl ValidationOptions {
    /// Validation as of `now`, with the default skew.
    pub fn at(now: Timestamp) -> Self {
        Self {
            now,
            max_clock_skew_seconds: DEFAULT_MAX_CLOCK_SKEW_SECONDS,
        }
    }

    fn latest_allowed(&self) -> Timestamp {
        Timestamp::from_unix(
            self.now
                .unix()
                .saturating_add(self.max_clock_skew_seconds.max(0)),
        )
    }
}

impl Default for ValidationOptions {
    /// Validation as of the system clock.
    fn default() -> Self {
        Self::at(Timestamp::now())
    }
}

/// A promotion record that validation accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedRecord {
    /// The record's envelope digest.
    pub digest: Digest,
    /// The artifact it promoted.
    pub artifact: DigestSet,
    /// The record.
    pub record: PromotionRecord,
    /// Its position in its environment's chain (0: the first).
    pub index: usize,
    /// When the artifact entered its first environment (the time of the
    /// entry record at the end of its source path).
    pub entered: Timestamp,
}

/// One environment's verified chain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvironmentHistory {
    pub(super) records: Vec<VerifiedRecord>,
    pub(super) complete: bool,
}

impl EnvironmentHistory {
    /// The accepted records, oldest first. When the environment did not
    /// validate ([`verified`](Self::verified) is false) these are the
    /// records before the first rejected one: still signed and linked, but
    /// not the whole history.
    pub fn records(&self) -> &[VerifiedRecord] {
        &self.records
    }

    /// Whether the whole environment validated.
    pub fn verified(&self) -> bool {
        self.complete
    }

    /// The current record, if the environment validated and has one.
    pub fn head(&self) -> Option<&VerifiedRecord> {
        if self.complete {
            self.records.last()
        } else {
            None
        }
    }

    /// Number of accepted records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether no record was accepted.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

/// Histories that validation accepted, with verified incidents: the only
/// thing [`admit`](super::admit), [`dora`](super::dora) and
/// [`rollback_target`](super::rollback_target) read. There is no public
/// constructor: a value exists only as the output of [`validate`].
///
/// ```
/// use custodia::promotion::{MemoryStore, ValidationOptions, validate};
/// use custodia::policy::Policy;
/// # let policy_json = br#"{"version":1,"keys":[],"environments":[{"name":"dev"}],"promotions":[]}"#;
/// let policy = Policy::from_json(policy_json)?.activate()?;
/// let validation = validate(&MemoryStore::new(), &policy, &["dev"], &ValidationOptions::default());
/// assert!(validation.verified());
/// let history = validation.history();
/// assert!(history.environment("dev").is_some_and(|e| e.is_empty() && e.verified()));
/// # Ok::<(), custodia::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct VerifiedHistory {
    pub(super) policy: Option<Digest>,
    pub(super) environments: BTreeMap<String, EnvironmentHistory>,
    pub(super) incidents: Vec<IncidentEntry>,
    pub(super) by_digest: HashMap<Digest, (String, usize)>,
    /// Every envelope digest classified so far (records, evidence,
    /// incidents): a refresh reads only envelopes not in it.
    pub(super) scanned: std::collections::HashSet<Digest>,
    /// Strong `algorithm:hex` of each record's artifact -> its records.
    pub(super) by_artifact: HashMap<String, Vec<(String, usize)>>,
}

impl VerifiedHistory {
    /// Appends an accepted record to its environment, with its indexes.
    pub(super) fn push(&mut self, environment: &str, record: VerifiedRecord) {
        let env = self.environments.entry(environment.to_owned()).or_default();
        let at = env.records.len();
        self.by_digest
            .insert(record.digest.clone(), (environment.to_owned(), at));
        for (algorithm, hex) in record.artifact.iter() {
            if crate::digest::is_strong_algorithm(algorithm) {
                self.by_artifact
                    .entry(format!("{algorithm}:{hex}"))
                    .or_default()
                    .push((environment.to_owned(), at));
            }
        }
        env.records.push(record);
    }

    /// The newest verified record of `environment` about `artifact`.
    pub fn latest_with_artifact(
        &self,
        environment: &str,
        artifact: &DigestSet,
    ) -> Option<&VerifiedRecord> {
        let records = &self.environments.get(environment)?.records;
        let mut best: Option<&VerifiedRecord> = None;
        for (algorithm, hex) in artifact.iter() {
            let Some(hits) = self.by_artifact.get(&format!("{algorithm}:{hex}")) else {
                continue;
            };
            for (env, i) in hits {
                if env != environment {
                    continue;
                }
                let Some(r) = records.get(*i) else { continue };
                if r.artifact.matches(artifact).is_ok() && best.is_none_or(|b| b.index < r.index) {
                    best = Some(r);
                }
            }
        }
        best
    }

    /// The digest of the policy every record was gated by.
    pub fn policy_digest(&self) -> Option<&Digest> {
        self.policy.as_ref()
    }

    /// An environment's verified chain, if it was in the validation's scope.
    pub fn environment(&self, name: &str) -> Option<&EnvironmentHistory> {
        self.environments.get(name)
    }

    /// The environments in scope, by name.
    pub fn environments(&self) -> impl Iterator<Item = (&str, &EnvironmentHistory)> {
        self.environments.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// An accepted record by its envelope digest.
    pub fn record(&self, digest: &Digest) -> Option<&VerifiedRecord> {
        let (env, index) = self.by_digest.get(digest)?;
        self.environments.get(env)?.records.get(*index)
    }

    /// Every verified incident, oldest first.
    pub fn all_incidents(&self) -> impl Iterator<Item = &IncidentEntry> {
        self.incidents.iter()
    }

    /// Verified incidents in `environment`, oldest first.
    pub fn incidents<'a>(
        &'a self,
        environment: &'a str,
    ) -> impl Iterator<Item = &'a IncidentEntry> {
        self.incidents
            .iter()
            .filter(move |i| i.incident.environment == environment)
    }

    /// The source path of a record: the record, the one it came from, and
    /// so on back to the record that brought the artifact in from its
    /// build (rollbacks followed to the promotion they returned to).
    pub fn path(&self, digest: &Digest) -> Vec<&VerifiedRecord> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        let mut current = self.record(digest);
        while let Some(record) = current {
            if !seen.insert(&record.digest) {
                break;
            }
            out.push(record);
            current = record.record.source.as_ref().and_then(|s| self.record(s));
        }
        out
    }

    /// Verified incidents in `environment` about `artifact` opened at or
    /// before `time`.
    pub(crate) fn incidents_about<'a>(
        &'a self,
        environment: &'a str,
        artifact: &'a DigestSet,
        time: Timestamp,
    ) -> impl Iterator<Item = &'a IncidentEntry> {
        self.incidents(environment)
            .filter(move |i| i.incident.opened <= time && i.artifact.matches(artifact).is_ok())
    }
}

/// The outcome of [`validate`]: one report per environment, and the
/// history that was accepted.
#[derive(Debug, Clone, Default)]
pub struct Validation {
    reports: Vec<(String, Report)>,
    history: VerifiedHistory,
}

impl Validation {
    /// One report per environment: those asked for first, then those their
    /// records came from.
    pub fn reports(&self) -> &[(String, Report)] {
        &self.reports
    }

    /// The report of one environment.
    pub fn report(&self, environment: &str) -> Option<&Report> {
        self.reports
            .iter()
            .find(|(name, _)| name == environment)
            .map(|(_, r)| r)
    }

    /// Whether every environment in scope validated.
    pub fn verified(&self) -> bool {
        self.reports.iter().all(|(_, r)| r.verified())
    }

    /// The accepted history (environments that did not validate keep only
    /// the records before their first rejected one, and are not
    /// [`verified`](EnvironmentHistory::verified)).
    pub fn history(&self) -> &VerifiedHistory {
        &self.history
    }

    /// The accepted history.
    pub fn into_history(self) -> VerifiedHistory {
        self.history
    }
}

/// A record opened and checked on its own (signature, type, order), not
/// yet against its source.
pub(super) struct Candidate {
    pub(super) digest: Digest,
    pub(super) artifact: DigestSet,
    pub(super) record: PromotionRecord,
    pub(super) index: usize,
    pub(super) entered: Timestamp,
    /// Own checks so far: `Ok(summary)` or why not.
    pub(super) outcome: Result<String, String>,
}

/// What one environment's links say, before any record is read.
struct Links {
    chain: Vec<Digest>,
    /// Why the links could not be followed to the end, if they could not.
    broken: Option<String>,
}

fn follow_links(store: &dyn Store, environment: &str) -> Links {
    let mut chain: Vec<Digest> = Vec::new();
    let mut seen = BTreeSet::new();
    loop {
        match store.successor(environment, chain.last()) {
            Ok(Some(next)) => {
                if !seen.insert(next.clone()) {
                    return Links {
                        chain,
                        broken: Some(format!("the links of `{environment}` loop at {next}")),
                    };
                }
                chain.push(next);
            }
            Ok(None) => {
                return Links {
                    chain,
                    broken: None,
                };
            }
            Err(e) => {
                return Links {
                    chain,
                    broken: Some(e.to_string()),
                };
            }
        }
    }
}

/// Reads a record and checks its promoter signature and predicate type.
pub(super) fn open_record(
    store: &dyn Store,
    promoters: &KeySet,
    digest: &Digest,
) -> Result<(DigestSet, PromotionRecord), String> {
    let bytes = get_checked(store, digest).map_err(|e| e.to_string())?;
    let envelope = Envelope::from_json(&bytes).map_err(|e| e.to_string())?;
    let mut r = Report::new();
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
    if statement.subject().len() != 1 {
        return Err(format!(
            "a promotion record names exactly one artifact, this one {}",
            statement.subject().len()
        ));
    }
    Ok((artifact_of(&statement), record))
}

#[cfg(feature = "rayon")]
fn map_records<T: Send>(digests: &[Digest], f: impl Fn(&Digest) -> T + Sync + Send) -> Vec<T> {
    use rayon::prelude::*;
    digests.par_iter().map(f).collect()
}

#[cfg(not(feature = "rayon"))]
fn map_records<T: Send>(digests: &[Digest], f: impl Fn(&Digest) -> T + Sync + Send) -> Vec<T> {
    digests.iter().map(f).collect()
}

/// The order checks of one record against the one before it and the clock.
pub(super) fn check_order(
    record: &PromotionRecord,
    environment: &str,
    previous: Option<(&Digest, &PromotionRecord)>,
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
        if record.time < before.time {
            return Err(format!(
                "time {} is before the previous record's {}",
                record.time, before.time
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

/// Re-evaluates a record's gate with the evidence it recorded.
pub(super) fn check_gate(
    store: &dyn Store,
    policy: &ActivePolicy,
    candidate: &Candidate,
    environment: &str,
) -> Result<(), String> {
    let record = &candidate.record;
    let mut evidence = Vec::new();
    for ev in &record.evidence {
        let bytes = get_checked(store, &ev.digest).map_err(|e| format!("evidence: {e}"))?;
        evidence.push(
            EvidenceEnvelope::from_bytes(&bytes)
                .map_err(|e| format!("evidence {}: {e}", ev.digest))?,
        );
    }
    let mut gate = GateRequest::new(
        candidate.artifact.clone(),
        record.from.as_deref(),
        environment,
        record.time,
    );
    gate.kind = record.kind;
    gate.author = record.author.clone();
    gate.reason = record.reason.clone();
    // Approvals of an entry promotion come before it; later ones must not
    // predate the artifact's entry.
    gate.entered = record.source.as_ref().map(|_| candidate.entered);
    let outcome = evaluate_gate(policy, &gate, &evidence);
    match outcome.report.first_failure() {
        Some(c) => Err(format!(
            "gate no longer satisfied: {}: {}",
            c.name, c.reason
        )),
        None => Ok(()),
    }
}

pub(super) fn summary(candidate: &Candidate, environment: &str) -> String {
    let record = &candidate.record;
    format!(
        "{}: {} {} -> {environment} at {}{}",
        candidate.digest,
        candidate
            .artifact
            .strongest()
            .map(|d| d.to_string())
            .unwrap_or_default(),
        record.from.as_deref().unwrap_or("(build)"),
        record.time,
        match record.kind {
            PromotionKind::Promotion => String::new(),
            PromotionKind::Rollback => " (rollback)".into(),
            PromotionKind::Emergency => format!(
                " (EMERGENCY: {})",
                elide_middle(record.reason.as_deref().unwrap_or(""), 200)
            ),
        }
    )
}

/// One pass over every stored envelope: the promotion records each
/// environment has (signed or not, to find unlinked ones) and the verified
/// incidents.
pub(super) struct StoreScan {
    pub(super) scanned: std::collections::HashSet<Digest>,
    pub(super) promotion_records: BTreeMap<String, Vec<Digest>>,
    pub(super) incidents: Vec<IncidentEntry>,
    pub(super) listing: Result<(), String>,
}

fn scan_store(store: &dyn Store, policy: &ActivePolicy) -> StoreScan {
    match store.list() {
        Ok(digests) => scan_digests(store, policy, &digests),
        Err(e) => StoreScan {
            scanned: std::collections::HashSet::new(),
            promotion_records: BTreeMap::new(),
            incidents: Vec::new(),
            listing: Err(e.to_string()),
        },
    }
}

/// Classifies the given stored envelopes: promotion records by the
/// environment they claim (unverified), incidents verified against the
/// incident roles.
pub(super) fn scan_digests(
    store: &dyn Store,
    policy: &ActivePolicy,
    digests: &[Digest],
) -> StoreScan {
    let mut scan = StoreScan {
        scanned: std::collections::HashSet::new(),
        promotion_records: BTreeMap::new(),
        incidents: Vec::new(),
        listing: Ok(()),
    };
    let mut incident_keys = KeySet::new();
    for role in INCIDENT_ROLES {
        for k in policy.keys_with_role(role).iter() {
            incident_keys.insert_verifier(k.clone());
        }
    }
    for digest in digests {
        let digest = digest.clone();
        let Ok(bytes) = get_checked(store, &digest) else {
            continue;
        };
        scan.scanned.insert(digest.clone());
        let Ok(evidence) = EvidenceEnvelope::from_bytes(&bytes) else {
            continue;
        };
        if evidence.claims(INCIDENT_V1) {
            if incident_keys.is_empty() {
                continue;
            }
            let mut r = Report::new();
            let Some(statement) = open_envelope(evidence.envelope(), &incident_keys, 1, &mut r)
            else {
                continue;
            };
            if statement.predicate_type() != INCIDENT_V1 {
                continue;
            }
            if let Ok(incident) = statement.predicate_as::<Incident>() {
                scan.incidents.push(IncidentEntry {
                    digest,
                    artifact: artifact_of(&statement),
                    incident,
                });
            }
            continue;
        }
        let Ok(statement) = Statement::from_json(evidence.envelope().payload()) else {
            continue;
        };
        if statement.predicate_type() != PROMOTION_V1 {
            continue;
        }
        if let Ok(record) = statement.predicate_as::<PromotionRecord>() {
            scan.promotion_records
                .entry(record.environment)
                .or_default()
                .push(digest);
        }
    }
    scan.incidents.sort_by_key(|i| i.incident.opened);
    scan
}

/// Checks an incident's times: resolved after it opened, neither in the
/// future.
pub(super) fn check_incident(
    entry: &IncidentEntry,
    options: &ValidationOptions,
) -> Result<(), String> {
    let latest = options.latest_allowed();
    let i = &entry.incident;
    if i.opened > latest {
        return Err(format!(
            "incident {} opened at {}, in the future (clock {})",
            entry.digest, i.opened, options.now
        ));
    }
    if let Some(resolved) = i.resolved {
        if resolved < i.opened {
            return Err(format!(
                "incident {} was resolved ({resolved}) before it opened ({})",
                entry.digest, i.opened
            ));
        }
        if resolved > latest {
            return Err(format!(
                "incident {} resolved at {resolved}, in the future (clock {})",
                entry.digest, options.now
            ));
        }
    }
    if !has_visible_text(&i.summary) {
        return Err(format!("incident {} has no visible summary", entry.digest));
    }
    Ok(())
}

/// The last known-good artifact of an environment before position
/// `before`, at `time`: the newest earlier record whose artifact is not the
/// one running at `before - 1` and that no incident opened at or before
/// `time` names. Rollbacks go there and nowhere else.
pub(crate) fn known_good<R>(
    records: &[R],
    artifact: impl Fn(&R) -> &DigestSet,
    before: usize,
    has_incident: impl Fn(&DigestSet) -> bool,
) -> Option<&R> {
    let earlier = records.get(..before)?;
    let (current, rest) = earlier.split_last()?;
    let current = artifact(current);
    rest.iter()
        .rev()
        .filter(|r| artifact(r).matches(current).is_err())
        .find(|r| !has_incident(artifact(r)))
}

/// Validates `environments` and every environment their records came from,
/// and returns the accepted history with one report per environment.
///
/// Each environment's report has one `record[i]` check per linked record
/// (stopping at the first rejected one: later links cannot be trusted to
/// mean anything), then `head` (when the store keeps a head hint),
/// `unlinked-records`, `incidents`, and `emergencies` when there were any.
pub fn validate(
    store: &dyn Store,
    policy: &ActivePolicy,
    environments: &[&str],
    options: &ValidationOptions,
) -> Validation {
    let promoters = policy.keys_with_role(PROMOTER_ROLE);
    let mut scan = scan_store(store, policy);

    // Environments in scope: those asked for, then where their records
    // came from, transitively.
    let mut order: Vec<String> = Vec::new();
    let mut queue: Vec<String> = environments.iter().map(|e| (*e).to_owned()).collect();
    let mut links: BTreeMap<String, Links> = BTreeMap::new();
    let mut candidates: BTreeMap<String, Vec<Candidate>> = BTreeMap::new();
    let mut stopped: BTreeMap<String, (usize, String)> = BTreeMap::new();
    while let Some(environment) = queue.pop() {
        if links.contains_key(&environment) {
            continue;
        }
        let found = follow_links(store, &environment);
        let opened = map_records(&found.chain, |d| open_record(store, promoters, d));
        let mut accepted: Vec<Candidate> = Vec::new();
        for (index, (digest, opened)) in found.chain.iter().zip(opened).enumerate() {
            let checked = opened.and_then(|(artifact, record)| {
                let previous = accepted.last().map(|c| (&c.digest, &c.record));
                check_order(&record, &environment, previous, policy, options)
                    .map(|()| (artifact, record))
            });
            match checked {
                Ok((artifact, record)) => {
                    if let Some(from) = &record.from {
                        if record.kind != PromotionKind::Rollback
                            && !links.contains_key(from)
                            && super::store::check_environment(from).is_ok()
                        {
                            queue.push(from.clone());
                        }
                    }
                    accepted.push(Candidate {
                        digest: digest.clone(),
                        artifact,
                        entered: record.time,
                        record,
                        index,
                        outcome: Ok(String::new()),
                    });
                }
                Err(reason) => {
                    stopped.insert(environment.clone(), (index, format!("{digest}: {reason}")));
                    break;
                }
            }
        }
        if let (Some(broken), None) = (&found.broken, stopped.get(&environment)) {
            stopped.insert(environment.clone(), (accepted.len(), broken.clone()));
        }
        order.push(environment.clone());
        links.insert(environment.clone(), found);
        candidates.insert(environment, accepted);
    }
    // Keep the caller's order first.
    order.sort_by_key(|e| {
        environments
            .iter()
            .position(|x| x == e)
            .unwrap_or(usize::MAX)
    });

    let mut index: HashMap<Digest, (String, usize)> = HashMap::new();
    for (env, list) in &candidates {
        for (i, c) in list.iter().enumerate() {
            index.entry(c.digest.clone()).or_insert((env.clone(), i));
        }
    }

    // Entry times follow source pointers (their validity is checked below;
    // a record whose path does not validate is rejected whatever this says).
    let entered: HashMap<Digest, Timestamp> = {
        let mut out: HashMap<Digest, Timestamp> = HashMap::new();
        for list in candidates.values() {
            for c in list {
                let mut seen = BTreeSet::new();
                let mut current = c;
                let mut time = c.record.time;
                while let Some(source) = &current.record.source {
                    if let Some(t) = out.get(source) {
                        time = *t;
                        break;
                    }
                    if !seen.insert(source.clone()) {
                        break;
                    }
                    let Some(next) = index
                        .get(source)
                        .and_then(|(e, i)| candidates.get(e).and_then(|l| l.get(*i)))
                    else {
                        break;
                    };
                    time = next.record.time;
                    current = next;
                }
                out.insert(c.digest.clone(), time);
            }
        }
        out
    };
    for list in candidates.values_mut() {
        for c in list.iter_mut() {
            if let Some(t) = entered.get(&c.digest) {
                c.entered = *t;
            }
        }
    }

    // Gates, each record on its own (in parallel with feature `rayon`).
    for (env, list) in candidates.iter_mut() {
        let outcomes = gate_all(store, policy, list, env);
        for (c, outcome) in list.iter_mut().zip(outcomes) {
            c.outcome = outcome.map(|()| summary(c, env));
        }
    }

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
    let statuses = resolve_sources(&candidates, &index, &incidents);

    let mut history = VerifiedHistory {
        policy: Some(policy.digest().clone()),
        environments: BTreeMap::new(),
        incidents,
        by_digest: HashMap::new(),
        by_artifact: HashMap::new(),
        scanned: std::mem::take(&mut scan.scanned),
    };
    let mut reports = Vec::new();
    for environment in order {
        let list = candidates.remove(&environment).unwrap_or_default();
        let mut report = Report::new();
        let mut emergencies = Vec::new();
        let mut last: Option<Digest> = None;
        for c in list {
            let name = format!("record[{}]", c.index);
            let subject = CheckSubject::record(&environment, c.index, Some(&c.digest));
            match statuses.get(&c.digest) {
                Some(Ok(())) => {}
                Some(Err(reason)) => {
                    let link = c
                        .record
                        .previous
                        .as_ref()
                        .map_or("genesis".to_owned(), Digest::hex);
                    report.push(
                        Check::fail(
                            name,
                            format!(
                                "{}: {reason} (the record linked after {link} in `{environment}`)",
                                c.digest
                            ),
                        )
                        .about(subject),
                    );
                    break;
                }
                None => {
                    report.push(
                        Check::fail(name, format!("{}: not checked", c.digest)).about(subject),
                    );
                    break;
                }
            }
            if c.record.kind == PromotionKind::Emergency {
                emergencies.push(format!(
                    "{name} {}: {}",
                    c.digest,
                    elide_middle(c.record.reason.as_deref().unwrap_or(""), 200)
                ));
            }
            report.push(Check::pass(name, c.outcome.clone().unwrap_or_default()).about(subject));
            last = Some(c.digest.clone());
            history.push(
                &environment,
                VerifiedRecord {
                    digest: c.digest,
                    artifact: c.artifact,
                    record: c.record,
                    index: c.index,
                    entered: c.entered,
                },
            );
        }
        if report.verified() || report.checks().is_empty() {
            if let Some((i, reason)) = stopped.get(&environment) {
                report.push(
                    Check::fail(
                        format!("record[{i}]"),
                        format!(
                            "{reason} (the record linked after {} in `{environment}`)",
                            last.as_ref().map_or("genesis".to_owned(), Digest::hex)
                        ),
                    )
                    .about(CheckSubject::record(&environment, *i, None)),
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
    Validation { reports, history }
}

#[cfg(feature = "rayon")]
fn gate_all(
    store: &dyn Store,
    policy: &ActivePolicy,
    list: &[Candidate],
    environment: &str,
) -> Vec<Result<(), String>> {
    use rayon::prelude::*;
    list.par_iter()
        .map(|c| check_gate(store, policy, c, environment))
        .collect()
}

#[cfg(not(feature = "rayon"))]
fn gate_all(
    store: &dyn Store,
    policy: &ActivePolicy,
    list: &[Candidate],
    environment: &str,
) -> Vec<Result<(), String>> {
    list.iter()
        .map(|c| check_gate(store, policy, c, environment))
        .collect()
}

fn unlinked_check(scan: &StoreScan, environment: &str, links: Option<&Links>) -> Check {
    if let Err(e) = &scan.listing {
        return Check::fail("unlinked-records", e.clone());
    }
    let linked: BTreeSet<&Digest> = links.map(|l| l.chain.iter().collect()).unwrap_or_default();
    let extra: Vec<&Digest> = scan
        .promotion_records
        .get(environment)
        .map(|all| all.iter().filter(|d| !linked.contains(d)).collect())
        .unwrap_or_default();
    if extra.is_empty() {
        Check::pass(
            "unlinked-records",
            format!("every record into `{environment}` is in its linked history"),
        )
    } else {
        Check::fail(
            "unlinked-records",
            format!(
                "{} record(s) into `{environment}` are outside its linked history (forked, reordered or unlinked): {}",
                extra.len(),
                extra
                    .iter()
                    .take(5)
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    }
}

/// Resolves every candidate's status: its own checks, every record before
/// it in its environment, and its source path (iteratively, with an
/// explicit stack: no recursion however long the path).
fn resolve_sources(
    candidates: &BTreeMap<String, Vec<Candidate>>,
    index: &HashMap<Digest, (String, usize)>,
    incidents: &[IncidentEntry],
) -> HashMap<Digest, Result<(), String>> {
    let get = |d: &Digest| {
        index
            .get(d)
            .and_then(|(e, i)| candidates.get(e).and_then(|l| l.get(*i)).map(|c| (e, c)))
    };
    let previous_of = |environment: &str, c: &Candidate| {
        c.index
            .checked_sub(1)
            .and_then(|i| candidates.get(environment).and_then(|l| l.get(i)))
    };
    let mut status: HashMap<Digest, Result<(), String>> = HashMap::new();
    let mut on_stack: BTreeSet<Digest> = BTreeSet::new();
    for (env, list) in candidates {
        for start in list {
            if status.contains_key(&start.digest) {
                continue;
            }
            let mut stack: Vec<(&str, &Candidate)> = vec![(env.as_str(), start)];
            on_stack.insert(start.digest.clone());
            while let Some(&(environment, c)) = stack.last() {
                let previous = previous_of(environment, c);
                let source = c
                    .record
                    .source
                    .as_ref()
                    .and_then(&get)
                    .map(|(e, s)| (e.as_str(), s));
                let pending = [previous.map(|p| (environment, p)), source]
                    .into_iter()
                    .flatten()
                    .find(|(_, d)| !status.contains_key(&d.digest));
                let result = match pending {
                    Some((_, dep)) if on_stack.contains(&dep.digest) => {
                        Err("its source path loops".to_owned())
                    }
                    Some(dep) => {
                        on_stack.insert(dep.1.digest.clone());
                        stack.push(dep);
                        continue;
                    }
                    None => own_status(
                        c,
                        environment,
                        previous,
                        &status,
                        &get,
                        candidates,
                        incidents,
                    ),
                };
                on_stack.remove(&c.digest);
                status.insert(c.digest.clone(), result);
                stack.pop();
            }
        }
    }
    status
}

fn own_status<'a>(
    c: &Candidate,
    environment: &str,
    previous: Option<&Candidate>,
    status: &HashMap<Digest, Result<(), String>>,
    get: &impl Fn(&Digest) -> Option<(&'a String, &'a Candidate)>,
    candidates: &BTreeMap<String, Vec<Candidate>>,
    incidents: &[IncidentEntry],
) -> Result<(), String> {
    if let Some(p) = previous {
        if let Some(Err(_)) = status.get(&p.digest) {
            return Err(format!("the record before it ({}) was rejected", p.digest));
        }
    }
    let status_of = |d: &Digest| status.get(d).cloned();
    let get_linked = |d: &Digest| get(d).map(|(e, c)| (e.as_str(), c as &dyn Linked));
    let earlier = candidates
        .get(environment)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    source_status(c, environment, &status_of, &get_linked, earlier, incidents)?;
    // The gate ran with the entry time its source path gives, so its
    // verdict counts only once that path is verified.
    c.outcome.as_ref().map(|_| ()).map_err(Clone::clone)
}

/// What the source checks read of a record, whether still a candidate of
/// a validation or already verified (incremental refresh).
/// Looks a record up by digest: its environment and the record.
pub(super) type LookUp<'f, 'a> = &'f dyn Fn(&Digest) -> Option<(&'a str, &'a dyn Linked)>;

pub(super) trait Linked {
    fn digest(&self) -> &Digest;
    fn artifact(&self) -> &DigestSet;
    fn record(&self) -> &PromotionRecord;
    fn index(&self) -> usize;
}

impl Linked for Candidate {
    fn digest(&self) -> &Digest {
        &self.digest
    }
    fn artifact(&self) -> &DigestSet {
        &self.artifact
    }
    fn record(&self) -> &PromotionRecord {
        &self.record
    }
    fn index(&self) -> usize {
        self.index
    }
}

impl Linked for VerifiedRecord {
    fn digest(&self) -> &Digest {
        &self.digest
    }
    fn artifact(&self) -> &DigestSet {
        &self.artifact
    }
    fn record(&self) -> &PromotionRecord {
        &self.record
    }
    fn index(&self) -> usize {
        self.index
    }
}

/// Checks a record against its source: the source is a record of the
/// right environment whose own status is `Ok`, about the same artifact,
/// not later, with the same author and commit time; a rollback goes to
/// the last known-good artifact among `earlier` (the environment's records
/// before it).
pub(super) fn source_status<'a, R: Linked>(
    c: &dyn Linked,
    environment: &str,
    status_of: &dyn Fn(&Digest) -> Option<Result<(), String>>,
    get: LookUp<'_, 'a>,
    earlier: &[R],
    incidents: &[IncidentEntry],
) -> Result<(), String> {
    let record = c.record();
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
    let Some((source_env, s)) = get(source) else {
        return Err(format!(
            "source record {source} is not a verified record of `{}`",
            elide_middle(expected_env, 80)
        ));
    };
    match status_of(source) {
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
    if record.kind == PromotionKind::Rollback && s.index() >= c.index() {
        return Err(format!(
            "a rollback returns to an earlier record; {source} is not before it"
        ));
    }
    s.artifact().matches(c.artifact()).map_err(|e| {
        format!(
            "source record {source} is about another artifact ({e}): a rebuild, not a promotion"
        )
    })?;
    let sr = s.record();
    if sr.time > record.time {
        return Err(format!(
            "it is dated {}, before its source record {source} ({})",
            record.time, sr.time
        ));
    }
    if record.author != sr.author {
        return Err(format!(
            "its author `{}` differs from the author `{}` its artifact entered with",
            elide_middle(record.author.as_deref().unwrap_or("(none)"), 80),
            elide_middle(sr.author.as_deref().unwrap_or("(none)"), 80)
        ));
    }
    if record.commit_time != sr.commit_time {
        return Err("its commit time differs from its source record's".to_owned());
    }
    if record.kind == PromotionKind::Rollback {
        let target = known_good(
            earlier,
            |r| r.artifact(),
            c.index(),
            |artifact| {
                incidents.iter().any(|i| {
                    i.incident.environment == environment
                        && i.incident.opened <= record.time
                        && i.artifact.matches(artifact).is_ok()
                })
            },
        );
        let shown = |a: &DigestSet| a.strongest().map(|d| d.to_string()).unwrap_or_default();
        match target {
            Some(t) if t.artifact().matches(c.artifact()).is_ok() => {}
            Some(t) => {
                return Err(format!(
                    "a rollback goes to the last known-good artifact ({}, record {}), not to {}",
                    shown(t.artifact()),
                    t.digest(),
                    shown(c.artifact())
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

impl fmt::Display for Validation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (env, report) in &self.reports {
            writeln!(f, "== {env}")?;
            writeln!(f, "{report}")?;
        }
        Ok(())
    }
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
