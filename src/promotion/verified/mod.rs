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

mod environment;
mod index;
mod open;
mod records;
mod scan;
mod seen;
mod sources;
mod table;
mod validate;
mod verdicts;

pub use environment::{EnvironmentHistory, Records, VerifiedRecord};
use index::RecordIndex;
pub(super) use records::{check_gate, check_order, open_record, summary};
pub(super) use scan::{check_incident, scan_digests};
pub(in crate::promotion) use seen::Seen;

pub(crate) use sources::known_good;
pub(super) use sources::source_status;
pub(crate) use validate::verified_history;
pub use validate::{validate, validate_chain};

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::digest::{Digest, DigestSet};
use crate::predicate::promotion::PromotionRecord;
use crate::report::{Check, CheckSubject, Report};
use crate::time::Timestamp;

use super::chain::IncidentEntry;

/// How far in the future (by the verifier's clock) a record may be dated:
/// five minutes, for clocks that drift.
pub const DEFAULT_MAX_CLOCK_SKEW_SECONDS: i64 = 300;

/// The name of the one check that stands for all of an environment's
/// accepted records.
const RECORDS_CHECK: &str = "records";

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
    /// Records by envelope digest and by artifact.
    index: RecordIndex,
    /// Every envelope digest classified so far (records, evidence,
    /// incidents): a refresh reads only envelopes not in it.
    pub(super) scanned: Seen,
}

impl VerifiedHistory {
    /// Appends an accepted record to its environment, with its indexes
    /// (nothing past 2^32 - 1 records of an environment).
    pub(in crate::promotion) fn push(
        &mut self,
        environment: &str,
        digest: &Digest,
        artifact: DigestSet,
        record: PromotionRecord,
        entered: Timestamp,
    ) {
        let env = self
            .environments
            .entry(environment.to_owned())
            .or_insert_with(|| EnvironmentHistory::named(environment));
        let at = env.len();
        if env.push(digest, artifact, record) {
            env.set_entered(at, entered);
            self.index_record(environment, at);
        }
    }

    /// Indexes the record at `at` of `environment` (pushed to its
    /// environment, not indexed yet) by digest and by artifact.
    pub(in crate::promotion) fn index_record(&mut self, environment: &str, at: usize) {
        let Some(r) = self.environments.get(environment).and_then(|e| e.get(at)) else {
            return;
        };
        let index = &mut self.index;
        index.insert_digest(&r.digest(), environment, at);
        r.artifact_digests(|algorithm, hex| {
            index.insert_artifact_digest(environment, at, algorithm, hex);
        });
    }

    /// Sets `environment`'s accepted records, already indexed by digest
    /// (validation indexes every candidate by digest before it knows which
    /// are accepted, then [`prune`](Self::prune)s), and indexes them by
    /// artifact.
    pub(super) fn adopt(&mut self, environment: &str, records: EnvironmentHistory) {
        for r in records.records() {
            r.artifact_digests(|algorithm, hex| {
                self.index
                    .insert_artifact_digest(environment, r.index(), algorithm, hex);
            });
        }
        self.environments.insert(environment.to_owned(), records);
    }

    /// Drops from the digest index every entry that is not an accepted
    /// record.
    pub(super) fn prune(&mut self) {
        let environments = &self.environments;
        self.index
            .retain_digests(|env, at| environments.get(env).is_some_and(|e| at < e.len()));
    }

    /// The newest verified record of `environment` about `artifact`.
    pub fn latest_with_artifact(
        &self,
        environment: &str,
        artifact: &DigestSet,
    ) -> Option<VerifiedRecord<'_>> {
        let records = self.environments.get(environment)?;
        let mut best: Option<VerifiedRecord<'_>> = None;
        for (algorithm, hex) in artifact.iter() {
            for i in self.index.find_artifact(environment, algorithm, hex) {
                let Some(r) = records.get(i) else { continue };
                if r.artifact_matches(artifact) && best.is_none_or(|b| b.index() < r.index()) {
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
    pub fn record(&self, digest: &Digest) -> Option<VerifiedRecord<'_>> {
        let (_, record) = self.index.record_among(digest, &self.environments)?;
        Some(record)
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
    pub fn path(&self, digest: &Digest) -> Vec<VerifiedRecord<'_>> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        let mut current = self.record(digest);
        while let Some(record) = current {
            if !seen.insert((record.environment(), record.index())) {
                break;
            }
            out.push(record);
            current = record.source().and_then(|s| self.record(&s));
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

    /// The report of one environment with its `records` check (all its
    /// accepted records in one) expanded into one passing `record[i]` check
    /// per accepted record, each with its [`VerifiedRecord::summary`] and
    /// its subject: the form a person reads (the audit shows it), built on
    /// demand from the history rather than held for every record.
    ///
    /// ```
    /// use custodia::promotion::{MemoryStore, ValidationOptions, validate};
    /// use custodia::policy::Policy;
    /// # let policy_json = br#"{"version":1,"keys":[],"environments":[{"name":"dev"}],"promotions":[]}"#;
    /// let policy = Policy::from_json(policy_json)?.activate()?;
    /// let validation = validate(&MemoryStore::new(), &policy, &["dev"], &ValidationOptions::default());
    /// let report = validation.itemized_report("dev").unwrap();
    /// assert!(report.checks().iter().all(|c| !c.name.starts_with("record[")));
    /// # Ok::<(), custodia::Error>(())
    /// ```
    pub fn itemized_report(&self, environment: &str) -> Option<Report> {
        let report = self.report(environment)?;
        let records = self.history.environment(environment);
        let mut out = Report::new();
        for check in report.checks() {
            if check.passed && check.name == RECORDS_CHECK {
                for r in records.into_iter().flat_map(EnvironmentHistory::records) {
                    out.push(
                        Check::pass(format!("record[{}]", r.index()), r.summary()).about(
                            CheckSubject::record(environment, r.index(), Some(&r.digest())),
                        ),
                    );
                }
            } else {
                out.push(check.clone());
            }
        }
        Some(out)
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

impl fmt::Display for Validation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (env, report) in &self.reports {
            writeln!(f, "== {env}")?;
            writeln!(f, "{report}")?;
        }
        Ok(())
    }
}
