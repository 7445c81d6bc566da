//! Admission: may this digest run in this environment now?
//!
//! The question a deploy step or an admission webhook asks. It is answered
//! from a [`VerifiedHistory`] only, so an attacker who can write to the
//! store cannot change the answer: at worst the history stops validating
//! and every digest is refused.

use crate::digest::{Digest, DigestSet};
use crate::policy::ActivePolicy;
use crate::predicate::promotion::PromotionKind;
use crate::render::{Render, Titled};
use crate::report::{Check, Report};
use crate::time::Timestamp;

use super::Store;
use super::verified::{
    EnvironmentHistory, ValidationOptions, VerifiedHistory, VerifiedRecord, validate,
};

/// What to decide: may `artifact` run in `environment` at `time`?
///
/// ```
/// use custodia::digest::DigestSet;
/// use custodia::promotion::AdmissionRequest;
/// use custodia::time::Timestamp;
/// let request = AdmissionRequest::new("prod", DigestSet::of_bytes(b"app"), Timestamp::now())
///     .allowing_history();
/// assert!(request.allow_history);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AdmissionRequest {
    /// The environment it would run in.
    pub environment: String,
    /// The artifact's digests (a file's, or an OCI image's manifest digest).
    pub artifact: DigestSet,
    /// When it would run (open incidents are judged at this time).
    pub time: Timestamp,
    /// Allow any digest promoted there whose records validate, that was
    /// not rolled back away from and that no incident names after its
    /// promotion (rolling deployments run the previous release for a while).
    /// Off: only the environment's current head is allowed.
    pub allow_history: bool,
}

impl AdmissionRequest {
    /// Only the current head will be allowed.
    pub fn new(environment: impl Into<String>, artifact: DigestSet, time: Timestamp) -> Self {
        Self {
            environment: environment.into(),
            artifact,
            time,
            allow_history: false,
        }
    }

    /// Also allow earlier releases that are still good.
    pub fn allowing_history(mut self) -> Self {
        self.allow_history = true;
        self
    }
}

/// The decision, with the checks it rests on.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Admission {
    /// The environment it would run in.
    pub environment: String,
    /// The artifact's strongest digest, `alg:hex`.
    pub artifact: String,
    /// Whether the artifact may run.
    pub allowed: bool,
    /// The checks, in order: `history`, `promoted`, `current`, `incident`,
    /// `path` (checks after the first failing one may be absent).
    pub report: Report,
    /// The record that put the artifact there, when there is one.
    pub record: Option<Digest>,
    /// Its source path back to the build (record digests, newest first).
    pub path: Vec<Digest>,
}

/// Decides admission from a verified history (cheap: no store access, no
/// signature check, so a webhook validates once and answers many requests).
///
/// ```
/// use custodia::digest::DigestSet;
/// use custodia::policy::Policy;
/// use custodia::promotion::{AdmissionRequest, MemoryStore, ValidationOptions, admit, validate};
/// use custodia::time::Timestamp;
/// # let policy_json = br#"{"version":1,"keys":[],"environments":[{"name":"prod"}],"promotions":[]}"#;
/// let policy = Policy::from_json(policy_json)?.activate()?;
/// let validation = validate(&MemoryStore::new(), &policy, &["prod"], &ValidationOptions::default());
/// let request = AdmissionRequest::new("prod", DigestSet::of_bytes(b"never promoted"), Timestamp::now());
/// let decision = admit(validation.history(), &request);
/// assert!(!decision.allowed);
/// assert_eq!(decision.report.first_failure().unwrap().name, "promoted");
/// # Ok::<(), custodia::Error>(())
/// ```
pub fn admit(history: &VerifiedHistory, request: &AdmissionRequest) -> Admission {
    let mut decision = Admission {
        environment: request.environment.clone(),
        artifact: request
            .artifact
            .strongest()
            .map(|d| d.to_string())
            .unwrap_or_default(),
        allowed: false,
        report: Report::new(),
        record: None,
        path: Vec::new(),
    };
    let env = request.environment.as_str();
    let report = &mut decision.report;
    let Some(records) = history.environment(env).filter(|e| e.verified()) else {
        report.push(Check::fail(
            "history",
            format!("`{env}` has no verified history: its records do not validate"),
        ));
        return decision;
    };
    report.push(Check::pass(
        "history",
        format!("`{env}`: {} verified record(s)", records.len()),
    ));
    let artifact = &request.artifact;
    let Some(found) = history.latest_with_artifact(env, artifact) else {
        report.push(Check::fail(
            "promoted",
            format!(
                "{} was never promoted to `{env}` (a rebuilt artifact has a new digest)",
                artifact.shown()
            ),
        ));
        return decision;
    };
    let found_digest = found.digest();
    report.push(Check::pass(
        "promoted",
        format!(
            "promoted to `{env}` at {} by record {found_digest}",
            found.time(),
        ),
    ));
    let head = records.last();
    let is_head = head.is_some_and(|h| h.index() == found.index());
    let rolled_back = rolled_back_away(records, found);
    report.push(match (is_head, rolled_back, request.allow_history) {
        (true, _, _) => Check::pass("current", format!("the current head of `{env}`")),
        (false, Some(r), _) => Check::fail(
            "current",
            format!(
                "`{env}` was rolled back away from it at {} (record {})",
                r.time(),
                r.digest()
            ),
        ),
        (false, None, true) => Check::pass(
            "current",
            format!(
                "not the current head of `{env}`, but in its verified history (history allowed)"
            ),
        ),
        (false, None, false) => Check::fail(
            "current",
            format!(
                "not the current head of `{env}` (that is {})",
                head.map_or_else(
                    || "no record".to_owned(),
                    |h| format!("{}, record {}", h.artifact().shown(), h.digest())
                )
            ),
        ),
    });
    let incident = history.incidents(env).find(|i| {
        if i.artifact.matches(artifact).is_err() || i.incident.opened > request.time {
            return false;
        }
        if request.allow_history && !is_head {
            // Any incident since its promotion.
            i.incident.opened >= found.time()
        } else {
            i.incident.resolved.is_none_or(|r| r > request.time)
        }
    });
    report.push(match incident {
        Some(i) => Check::fail(
            "incident",
            format!(
                "incident {} (opened {}{}) names it: {}",
                i.digest,
                i.incident.opened,
                i.incident
                    .resolved
                    .map(|r| format!(", resolved {r}"))
                    .unwrap_or_default(),
                crate::digest::elide_middle(&i.incident.summary, 200)
            ),
        ),
        None => Check::pass("incident", "no open incident names it"),
    });
    let path = history.path(&found_digest);
    decision.record = Some(found_digest);
    let entry = path.last().filter(|r| r.from().is_none());
    report.push(match entry {
        Some(_) => Check::pass(
            "path",
            path.iter()
                .map(|r| {
                    format!(
                        "{}{}",
                        r.environment(),
                        if r.kind() == PromotionKind::Rollback {
                            " (rollback)"
                        } else {
                            ""
                        }
                    )
                })
                .chain(std::iter::once("build".to_owned()))
                .collect::<Vec<_>>()
                .join(" <- "),
        ),
        None => Check::fail(
            "path",
            "its source path does not lead back to a verified entry record",
        ),
    });
    decision.path = path.iter().map(VerifiedRecord::digest).collect();
    decision.allowed = decision.report.verified();
    decision
}

/// Validates what the decision needs (the environment and, transitively,
/// where its records came from) and decides.
pub fn admit_from_store(
    store: &dyn Store,
    policy: &ActivePolicy,
    request: &AdmissionRequest,
    options: &ValidationOptions,
) -> Admission {
    let validation = validate(store, policy, &[request.environment.as_str()], options);
    let mut decision = admit(validation.history(), request);
    if let Some(report) = validation.report(&request.environment) {
        if let (false, Some(c)) = (decision.allowed, report.first_failure()) {
            if let Some(first) = decision.report.first_failure() {
                if first.name == "history" {
                    let mut detailed = Report::new();
                    detailed.push(Check::fail(
                        "history",
                        format!(
                            "`{}` does not validate: {}: {}",
                            request.environment, c.name, c.reason
                        ),
                    ));
                    decision.report = detailed;
                }
            }
        }
    }
    decision
}

/// The first rollback after `found` that left its artifact.
fn rolled_back_away<'a>(
    records: &'a EnvironmentHistory,
    found: VerifiedRecord<'_>,
) -> Option<VerifiedRecord<'a>> {
    let artifact = found.artifact();
    // Whether the artifact running before each later record is `found`'s.
    let mut running_found = true;
    for r in records.records().skip(found.index().checked_add(1)?) {
        let same = r.artifact_matches(&artifact);
        if r.kind() == PromotionKind::Rollback && running_found && !same {
            return Some(r);
        }
        running_found = same;
    }
    None
}

impl Render for Admission {
    /// The checks, then `VERIFIED` and who may run where, or `NOT VERIFIED`.
    fn to_text(&self) -> String {
        Titled::new("", &self.report, &self.summary()).to_text()
    }

    /// A verdict heading and the checks' table.
    fn to_markdown(&self) -> String {
        let title = format!("admission of {} to {}", self.artifact, self.environment);
        Titled::new(&title, &self.report, &self.summary()).to_markdown()
    }

    /// `{"verified", "checks", "environment", "artifact", "record", "path"}`.
    fn to_json(&self) -> Result<String, serde_json::Error> {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            verified: bool,
            checks: &'a [Check],
            environment: &'a str,
            artifact: &'a str,
            record: Option<String>,
            path: Vec<String>,
        }
        serde_json::to_string_pretty(&Out {
            verified: self.allowed,
            checks: self.report.checks(),
            environment: &self.environment,
            artifact: &self.artifact,
            record: self.record.as_ref().map(ToString::to_string),
            path: self.path.iter().map(ToString::to_string).collect(),
        })
    }
}

impl Admission {
    fn summary(&self) -> String {
        format!("{} may run in `{}`", self.artifact, self.environment)
    }
}
