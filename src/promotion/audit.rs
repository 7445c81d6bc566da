//! The whole audit of a promotion store as one call: every environment's
//! history validated (with the source paths its records came from), the
//! policy file the records were gated by, every stored envelope intact,
//! loose files accounted for, checkpoints kept, where an artifact is, and
//! the chain as a graph a renderer can draw.
//!
//! [`audit`] is what `verifier chain` prints; a CI plugin calls it and
//! reads the typed [`Audit`], or renders it ([`crate::render::Render`]) as
//! text, Markdown (with a Mermaid diagram) or JSON. The JSON has a
//! published JSON Schema ([`schema`], `audit.schema.json`).

mod graph;
mod render;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::Error;
use crate::digest::{DigestSet, hash_path};
use crate::fsread;
use crate::policy::ActivePolicy;
use crate::report::{Check, Report};

use super::accounting::{Accounting, check_policy, check_store};
use super::checkpoint::{SignedCheckpoint, TrustedState, check_checkpoints};
use super::store::Store;
use super::verified::{Validation, ValidationOptions, VerifiedHistory, validate};

pub use graph::{ChainGraph, EdgeKind, GraphEdge, GraphEnvironment, GraphNode, NodeKind};

/// Files larger than this are hashed, not read: only a PEM public key
/// (far smaller) is compared byte for byte.
const MAX_SMALL_FILE: fsread::Limit = fsread::KEY;

/// What to audit, beyond the store and the policy.
///
/// ```
/// use custodia::digest::DigestSet;
/// use custodia::promotion::AuditRequest;
/// let request = AuditRequest::new("policy.json")
///     .environment("prod")
///     .artifact(DigestSet::of_bytes(b"app"))
///     .file("app.tar.gz");
/// assert_eq!(request.environments, ["prod"]);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AuditRequest {
    /// How the caller names the policy (a file name), to say which policy
    /// the records were not gated by.
    pub policy_name: String,
    /// The environments to audit, in this order (empty: every environment
    /// of the policy, in policy order).
    pub environments: Vec<String>,
    /// Say where this artifact is in each environment.
    pub artifact: Option<DigestSet>,
    /// Files (a directory: every regular file under it) the verified
    /// chains must account for.
    pub files: Vec<PathBuf>,
    /// Witnessed checkpoints the histories must extend.
    pub checkpoints: Vec<SignedCheckpoint>,
    /// The checkpoints this verifier accepted last time; `None` with no
    /// `checkpoints`: no checkpoint section.
    pub kept: Option<TrustedState>,
    /// The verifier's clock.
    pub options: ValidationOptions,
}

impl AuditRequest {
    /// Every environment of the policy, nothing else.
    pub fn new(policy_name: impl Into<String>) -> Self {
        Self {
            policy_name: policy_name.into(),
            environments: Vec::new(),
            artifact: None,
            files: Vec::new(),
            checkpoints: Vec::new(),
            kept: None,
            options: ValidationOptions::default(),
        }
    }

    /// Audit `name` (repeat for several; none: every environment).
    pub fn environment(mut self, name: impl Into<String>) -> Self {
        self.environments.push(name.into());
        self
    }

    /// Also say where `artifact` is.
    pub fn artifact(mut self, artifact: DigestSet) -> Self {
        self.artifact = Some(artifact);
        self
    }

    /// A file (or directory) the chains must account for.
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.files.push(path.into());
        self
    }

    /// A witnessed checkpoint the histories must extend.
    pub fn checkpoint(mut self, checkpoint: SignedCheckpoint) -> Self {
        self.checkpoints.push(checkpoint);
        self
    }

    /// The checkpoints this verifier kept from its last run.
    pub fn kept(mut self, state: TrustedState) -> Self {
        self.kept = Some(state);
        self
    }

    /// Validate as of `options.now`.
    pub fn options(mut self, options: ValidationOptions) -> Self {
        self.options = options;
        self
    }
}

/// Where an artifact is in one environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Location {
    /// The environment's current head.
    Current,
    /// In its history, not the head.
    Earlier,
    /// Never promoted there.
    Never,
    /// The history does not validate, so it says nothing.
    Unverified,
}

impl Location {
    /// As a person reads it.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Current => "the current head",
            Self::Earlier => "in its history, not the current head",
            Self::Never => "never promoted there",
            Self::Unverified => "unknown: the history does not validate",
        }
    }
}

/// Where the asked-for artifact is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct ArtifactLocations {
    /// Its strongest digest, `alg:hex`.
    pub digest: String,
    /// Where it is, per audited environment.
    pub environments: BTreeMap<String, Location>,
}

/// The first failing check of an audit, and the section it is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Failure {
    /// `policy`, an environment's name, `store`, `files` or `checkpoints`.
    pub section: String,
    /// The check.
    pub check: Check,
}

/// Everything an audit found. Verified only when every section verified.
///
/// Environments are audited in order; the JSON form names them in a map
/// (`{"environments": {"dev": {"verified", "checks"}}}`).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Audit {
    /// Whether every section verified (and there was an environment).
    pub verified: bool,
    /// How the caller named the policy (a file name).
    #[serde(rename = "policyName")]
    pub policy_name: String,
    /// The policy's canonical digest.
    #[serde(rename = "policyDigest")]
    pub policy_digest: String,
    /// The first failing check: a policy the records were not gated by
    /// first (it explains everything else), then the environments, the
    /// store, the files and the checkpoints.
    #[serde(rename = "firstFailure", skip_serializing_if = "Option::is_none")]
    pub first_failure: Option<Failure>,
    /// One validated history per audited environment.
    #[serde(serialize_with = "environments_as_map")]
    #[cfg_attr(feature = "schema", schemars(with = "BTreeMap<String, Report>"))]
    pub environments: Vec<(String, Report)>,
    /// The policy is the one every record was gated by.
    pub policy: Report,
    /// Every stored envelope hashes to its name.
    pub store: Report,
    /// Each asked-for file, accounted for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<Report>,
    /// The histories extend every checkpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoints: Option<Report>,
    /// Where the asked-for artifact is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifact: Option<ArtifactLocations>,
    /// The chains as a graph (what the Markdown's Mermaid diagram draws).
    pub graph: ChainGraph,
    #[serde(skip)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    validation: Validation,
}

fn environments_as_map<S: serde::Serializer>(
    environments: &[(String, Report)],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_map(environments.iter().map(|(k, v)| (k, v)))
}

impl Audit {
    /// The validation the audit rests on (its [`VerifiedHistory`] feeds
    /// admission, rollback targets and DORA metrics).
    pub fn validation(&self) -> &Validation {
        &self.validation
    }

    /// The verified history.
    pub fn history(&self) -> &VerifiedHistory {
        self.validation.history()
    }

    /// Keeps this audit's checkpoints in `state` for the next run, when
    /// everything verified; returns whether it did.
    pub fn advance(&self, state: &mut TrustedState) -> bool {
        if self.verified {
            state.advance(self.history());
        }
        self.verified
    }

    /// Every section with its name: `policy`, the environments, `store`,
    /// then `files` and `checkpoints` when asked for.
    pub fn sections(&self) -> impl Iterator<Item = (&str, &Report)> {
        std::iter::once(("policy", &self.policy))
            .chain(self.environments.iter().map(|(e, r)| (e.as_str(), r)))
            .chain(self.store_sections())
    }

    /// The sections after the environments: `store`, and `files` and
    /// `checkpoints` when asked for.
    fn store_sections(&self) -> impl Iterator<Item = (&str, &Report)> {
        std::iter::once(("store", &self.store))
            .chain(self.files.iter().map(|r| ("files", r)))
            .chain(self.checkpoints.iter().map(|r| ("checkpoints", r)))
    }

    /// The environments, then every other section (`policy` first): the
    /// order a report shows them in.
    pub(crate) fn shown_sections(&self) -> impl Iterator<Item = (&str, &Report)> {
        self.environments
            .iter()
            .map(|(e, r)| (e.as_str(), r))
            .chain(std::iter::once(("policy", &self.policy)))
            .chain(self.store_sections())
    }
}

/// Audits `store` against `policy`: every environment validated with its
/// source paths, the policy the records were gated by, every stored
/// envelope, the files, the checkpoints, where the artifact is, and the
/// chain graph.
///
/// `Err` only for the caller's own inputs: an environment the policy does
/// not have, or a `files` path that cannot be read or is not a regular
/// file or directory. Everything about the store is a check.
///
/// ```
/// use custodia::policy::Policy;
/// use custodia::promotion::{AuditRequest, MemoryStore, audit};
/// use custodia::render::{Format, Render};
/// # let policy_json = br#"{"version":1,"keys":[],"environments":[{"name":"dev"}],"promotions":[]}"#;
/// let policy = Policy::from_json(policy_json)?.activate()?;
/// let audit = audit(&MemoryStore::new(), &policy, &AuditRequest::new("policy.json"))?;
/// assert!(audit.verified, "{}", audit.to_text());
/// assert!(audit.to_markdown().contains("```mermaid\nflowchart LR\n"));
/// let json: serde_json::Value = serde_json::from_str(&audit.render(Format::Json)?)?;
/// assert_eq!(json["environments"]["dev"]["verified"], true);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn audit(
    store: &dyn Store,
    policy: &ActivePolicy,
    request: &AuditRequest,
) -> Result<Audit, Error> {
    let environments = environments(policy, &request.environments)?;
    let names: Vec<&str> = environments.iter().map(String::as_str).collect();
    let validation = validate(store, policy, &names, &request.options);
    // The environments their records came from were validated as far as
    // the source paths need; the audit reports those asked for.
    // Listed record by record: an audit is read by a person.
    let reports: Vec<(String, Report)> = validation
        .reports()
        .iter()
        .filter(|(env, _)| environments.contains(env))
        .filter_map(|(env, _)| Some((env.clone(), validation.itemized_report(env)?)))
        .collect();
    let artifact = request
        .artifact
        .as_ref()
        .map(|a| locate(validation.history(), &reports, a));
    let files = if request.files.is_empty() {
        None
    } else {
        let verified: Vec<&str> = reports
            .iter()
            .filter(|(_, r)| r.verified())
            .map(|(env, _)| env.as_str())
            .collect();
        let accounting = Accounting::from_chains(store, policy, &verified);
        Some(account_for_files(&accounting, &request.files)?)
    };
    let names: Vec<&str> = reports.iter().map(|(env, _)| env.as_str()).collect();
    let mut policy_report = Report::new();
    policy_report.push(check_policy(store, policy, &names, &request.policy_name));
    let checkpoints = (request.kept.is_some() || !request.checkpoints.is_empty()).then(|| {
        let kept = request.kept.clone().unwrap_or_default();
        let mut report =
            check_checkpoints(validation.history(), policy, &kept, &request.checkpoints);
        if report.checks().is_empty() {
            report.push(Check::pass(
                "checkpoint",
                "no earlier checkpoint of these environments yet",
            ));
        }
        report
    });
    let graph = ChainGraph::walk(store, &reports, request.artifact.as_ref());
    let mut audit = Audit {
        verified: false,
        policy_name: request.policy_name.clone(),
        policy_digest: policy.digest().to_string(),
        first_failure: None,
        environments: reports,
        policy: policy_report,
        store: check_store(store),
        files,
        checkpoints,
        artifact,
        graph,
        validation,
    };
    let first_failure = audit.sections().find_map(|(section, r)| {
        r.first_failure().map(|c| Failure {
            section: section.to_owned(),
            check: c.clone(),
        })
    });
    audit.first_failure = first_failure;
    audit.verified = !audit.environments.is_empty() && audit.sections().all(|(_, r)| r.verified());
    Ok(audit)
}

/// The JSON Schema of [`Audit`]'s JSON form, as published in
/// `audit.schema.json`.
#[cfg(feature = "schema")]
pub fn schema() -> serde_json::Value {
    let mut schema = schemars::schema_for!(Audit);
    schema.insert("title".into(), "custodia promotion audit".into());
    serde_json::to_value(schema).unwrap_or_else(|e| {
        // Serializing a schema (plain maps of strings) cannot fail; if it
        // ever did, say so in the schema rather than publish `null`.
        serde_json::json!({ "description": format!("schema unavailable: {e}") })
    })
}

/// The asked-for environments, checked against the policy; all of the
/// policy's when none were asked for.
fn environments(policy: &ActivePolicy, asked: &[String]) -> Result<Vec<String>, Error> {
    let policy = policy.policy();
    if asked.is_empty() {
        return Ok(policy.environments.iter().map(|e| e.name.clone()).collect());
    }
    let mut out: Vec<String> = Vec::new();
    for name in asked {
        let known = &policy.known_environment(name)?.name;
        if !out.contains(known) {
            out.push(known.clone());
        }
    }
    Ok(out)
}

/// Where `artifact` is, per environment.
fn locate(
    history: &VerifiedHistory,
    reports: &[(String, Report)],
    artifact: &DigestSet,
) -> ArtifactLocations {
    let environments = reports
        .iter()
        .map(|(env, _)| {
            let location = match history
                .environment(env)
                .and_then(|e| e.verified().then_some(e))
            {
                Some(e) => match history.latest_with_artifact(env, artifact) {
                    Some(r) if e.head().is_some_and(|h| h == r) => Location::Current,
                    Some(_) => Location::Earlier,
                    None => Location::Never,
                },
                None => Location::Unverified,
            };
            (env.clone(), location)
        })
        .collect();
    ArtifactLocations {
        digest: artifact
            .strongest()
            .map(|d| d.to_string())
            .unwrap_or_default(),
        environments,
    }
}

/// One `file:<name>` check per file (directories expanded, sorted).
fn account_for_files(accounting: &Accounting, paths: &[PathBuf]) -> Result<Report, Error> {
    let mut report = Report::new();
    for path in paths {
        for file in files_under(path)? {
            let name = file.display().to_string();
            let (_, size) = fsread::open(&file)?;
            report.push(if size <= MAX_SMALL_FILE.bytes() {
                accounting.check_file(&name, &fsread::read(&file, MAX_SMALL_FILE)?)
            } else {
                accounting.check_digest(&name, &hash_path(&file)?.to_set())
            });
        }
    }
    Ok(report)
}

/// `path` itself, or every regular file under the directory `path`,
/// sorted; anything else (a FIFO, a device, a symbolic link) refused.
fn files_under(path: &Path) -> Result<Vec<PathBuf>, Error> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| Error::Io { path: p, source }
    };
    let meta = std::fs::metadata(path).map_err(io(path))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut found = Vec::new();
    let mut pending = vec![path.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fsread::read_dir(&dir, fsread::MAX_DIR_ENTRIES)? {
            let entry = entry?;
            let entry_path = entry.path();
            let kind = entry.file_type().map_err(io(&entry_path))?;
            if kind.is_dir() {
                pending.push(entry_path);
            } else if kind.is_file() {
                found.push(entry_path);
                if found.len() > fsread::MAX_DIR_ENTRIES {
                    return Err(Error::TooManyEntries {
                        path: path.to_path_buf(),
                        limit: fsread::MAX_DIR_ENTRIES,
                    });
                }
            } else {
                // Opening it says what it is instead.
                fsread::open(&entry_path)?;
            }
        }
    }
    found.sort();
    Ok(found)
}
