//! Declarative promotion policy, loaded from JSON.
//!
//! A policy names the trusted keys and their roles, the environments and
//! the promotion edges between them, and per environment the attestations,
//! approvals and freeze windows that gate a promotion. Unknown fields are
//! errors (a misspelled requirement must never silently weaken a gate).
//! Its JSON Schema, generated from these types, is `policy.schema.json`
//! at the crate root ([`schema`] with the `schema` feature).
//!
//! ```json
//! {"version": 1,
//!  "keys": [{"identity": "ci", "roles": ["builder"], "publicKey": "-----BEGIN PUBLIC KEY-----..."}],
//!  "environments": [
//!    {"name": "dev", "requires": [{"predicateType": "https://slsa.dev/provenance/v1",
//!      "signerRole": "builder", "conditions": {"builderIds": ["https://ci.acme.dev/b"]}}]},
//!    {"name": "prod", "approvals": {"count": 2, "role": "approver"}}],
//!  "promotions": [{"from": "dev", "to": "prod"}]}
//! ```

mod duties;
mod evidence_conditions;
mod gate;
pub mod source_track;

use serde::{Deserialize, Serialize};

use crate::digest::{Digest, DigestAlgorithm};
use crate::error::{Error, PolicyError};
use crate::keys::PublicKey;
use crate::predicate::test_result::TestOutcome;
use crate::predicate::vulns::Severity;
use crate::time::Timestamp;

pub use gate::{ActivePolicy, EvidenceEnvelope, GateOutcome, GateRequest, evaluate_gate};
pub use source_track::SourceVsaRule;

/// The policy format version custodia reads.
pub const POLICY_VERSION: u32 = 1;

/// A promotion policy.
///
/// ```
/// use custodia::policy::Policy;
/// let policy = Policy::from_json(br#"{"version":1,"keys":[],
///   "environments":[{"name":"dev"},{"name":"prod"}],
///   "promotions":[{"from":"dev","to":"prod"}]}"#)?;
/// assert_eq!(policy.entry_environments(), vec!["dev"]);
/// assert!(policy.edge_allowed("dev", "prod"));
/// assert!(!policy.edge_allowed("prod", "dev"));
/// let typo = Policy::from_json(br#"{"version":1,"keys":[],"environments":[{"name":"dev","require":[]}],"promotions":[]}"#);
/// assert!(typo.unwrap_err().to_string().contains("unknown field `require`"));
/// # Ok::<(), custodia::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(
    feature = "schema",
    schemars(
        title = "custodia promotion policy",
        description = "Trusted keys and their roles, environments and allowed promotion edges, and per environment the attestations, approvals, freeze windows and emergency path that gate a promotion. Unknown fields are errors."
    )
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct Policy {
    /// Format version; must be 1.
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 1)))]
    pub version: u32,
    /// Trusted keys and their roles.
    pub keys: Vec<TrustedKey>,
    /// Keyless signers: identities proven by short-lived Sigstore (Fulcio)
    /// certificates, whose evidence comes as Sigstore bundles verified
    /// offline against `sigstoreTrustedRoot` (feature `sigstore`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keyless_signers: Vec<KeylessSigner>,
    /// The Sigstore trusted root (the content of a `trusted_root.json`:
    /// Fulcio CAs, Rekor and CT log keys, timestamp authorities) that
    /// keyless signers' bundles are verified against. Pinned here, with the
    /// rest of the policy, so its digest is in every record; nothing is
    /// fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")
    )]
    pub sigstore_trusted_root: Option<serde_json::Value>,
    /// The environments, in promotion order by convention.
    pub environments: Vec<Environment>,
    /// Allowed promotion edges; anything else (skipping an environment,
    /// going backwards) is refused.
    pub promotions: Vec<Edge>,
}

/// A trusted key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct TrustedKey {
    /// Who holds the key (a person, a CI system). Separation of duties
    /// compares identities, so one person's two keys count once.
    pub identity: String,
    /// Roles: `builder`, `tester`, `scanner`, `approver`, `promoter`, ...
    pub roles: Vec<String>,
    /// The public key, PEM `PUBLIC KEY` (SubjectPublicKeyInfo).
    pub public_key: String,
}

/// A keyless signer: who a Sigstore signing certificate must name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct KeylessSigner {
    /// Who signs (a CI workflow, a person): separation of duties compares
    /// identities, across keys and keyless signers alike.
    pub identity: String,
    /// Roles, as for keys.
    pub roles: Vec<String>,
    /// The certificate's identity (its SAN: a workflow URI with its ref, an
    /// email), compared exactly.
    pub certificate_identity: String,
    /// The OIDC issuer in the certificate (Fulcio extension), compared exactly.
    pub certificate_oidc_issuer: String,
}

/// An environment and its gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct Environment {
    /// Name: lowercase letters, digits, `-` and `_`.
    #[cfg_attr(feature = "schema", schemars(regex(pattern = r"^[a-z0-9_-]{1,64}$")))]
    pub name: String,
    /// Attestations that must be present, signed and satisfied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<Requirement>,
    /// Approvals needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvals: Option<ApprovalRule>,
    /// Periods in which only emergency promotions may enter.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub freeze_windows: Vec<FreezeWindow>,
    /// The emergency path; absent means none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emergency: Option<EmergencyRule>,
}

/// An allowed promotion from one environment to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Edge {
    /// Source environment.
    pub from: String,
    /// Target environment.
    pub to: String,
}

/// One attestation the gate requires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct Requirement {
    /// The statement's predicate type.
    pub predicate_type: String,
    /// The role the signing keys must have.
    pub signer_role: String,
    /// Distinct keys of that role that must have signed (default 1).
    #[serde(default = "one")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1)))]
    pub threshold: usize,
    /// Typed conditions on the predicate.
    #[serde(default)]
    pub conditions: Conditions,
}

fn one() -> usize {
    1
}

/// Typed conditions on a required attestation's predicate. Each set field
/// must hold; a condition that does not apply to the predicate type fails.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct Conditions {
    /// SLSA provenance: trusted builder ids (see
    /// [`crate::provenance::builder_id_matches`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub builder_ids: Vec<String>,
    /// SLSA provenance: the source repository (`github.com/org/repo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_repository: Option<String>,
    /// Test result: the outcome required (`PASSED`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_result: Option<TestOutcome>,
    /// Vulnerability report: no open finding above this severity (after
    /// VEX, see `vexSignerRole`), and none of unknown severity unless
    /// `unknownSeverity` says what it counts as. Check `requires[i].severity`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_severity: Option<Severity>,
    /// Test result: at least this many tests ran (passed, failed or
    /// errored; skipped ones did not run) and none failed or errored.
    /// Check `requires[i].tests`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_tests_run: Option<u64>,
    /// Vulnerability report: OpenVEX statements (predicate
    /// `https://openvex.dev/ns/v0.2.0`) about this artifact, signed by a key
    /// with this role, suppress findings they say are `fixed` or
    /// `not_affected` with a justification; the newest statement per
    /// vulnerability wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vex_signer_role: Option<String>,
    /// Vulnerability report: the severity a finding counts as when the
    /// scanner states none (default: above any maximum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown_severity: Option<Severity>,
    /// Vulnerability report: ids (or aliases) refused whatever their
    /// severity or VEX. Check `requires[i].deny-list`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny_vulnerabilities: Vec<String>,
    /// Test result or vulnerability report: refused when produced more than
    /// this many seconds before the promotion (a scan's `scanFinishedOn`, a
    /// test result's JUnit `finishedOn`). Check `requires[i].freshness`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_seconds: Option<u64>,
    /// SLSA provenance: the build's source commit must have a Source VSA
    /// (SLSA 1.2 Source track) from a trusted verifier with these levels
    /// ([`source_track`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_vsa: Option<SourceVsaRule>,
}

/// Approvals an environment needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct ApprovalRule {
    /// Distinct approver identities needed.
    pub count: usize,
    /// The role approvers' keys must have.
    pub role: String,
    /// The change's author may not approve it (default true).
    #[serde(default = "yes")]
    pub distinct_from_author: bool,
    /// Whoever signed the build may not approve it (default true). The
    /// builders are every identity whose key (or keyless certificate) the
    /// policy lists and that signed SLSA provenance about the artifact in
    /// any of the evidence offered for this promotion, not only the
    /// provenance a requirement used.
    #[serde(default = "yes")]
    pub distinct_from_builder: bool,
    /// An approval older than this many seconds at promotion time does not
    /// count. Approvals dated after the promotion, or before the artifact
    /// entered the pipeline, never count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_seconds: Option<i64>,
}

fn yes() -> bool {
    true
}

/// A deployment freeze.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct FreezeWindow {
    /// Start (inclusive), RFC 3339.
    #[cfg_attr(feature = "schema", schemars(with = "String", extend("format" = "date-time")))]
    pub start: Timestamp,
    /// End (exclusive), RFC 3339.
    #[cfg_attr(feature = "schema", schemars(with = "String", extend("format" = "date-time")))]
    pub end: Timestamp,
    /// Why.
    pub reason: String,
}

/// The emergency path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct EmergencyRule {
    /// Approvals needed on the emergency path (may be fewer, even 0).
    pub approvals: usize,
    /// Whether an emergency may enter during a freeze (default true).
    #[serde(default = "yes")]
    pub allow_during_freeze: bool,
}

impl Policy {
    /// Parses and validates a policy (duplicate members and unknown fields
    /// rejected).
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        let policy: Policy = crate::json::from_slice(bytes, "policy")?;
        policy.validate()?;
        Ok(policy)
    }

    /// Canonical JSON (field order of the types, compact).
    pub fn to_json(&self) -> Result<Vec<u8>, Error> {
        Ok(crate::json::to_vec(self, "policy")?)
    }

    /// SHA-256 of the canonical JSON: what promotion records name.
    pub fn digest(&self) -> Result<Digest, Error> {
        Ok(DigestAlgorithm::Sha256.hash(&self.to_json()?))
    }

    /// Checks internal consistency: version, names, edges, keys, numbers.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let invalid = |reason: String| PolicyError::Invalid(reason);
        if self.version != POLICY_VERSION {
            return Err(invalid(format!(
                "version {} is not supported (expected {POLICY_VERSION})",
                self.version
            )));
        }
        let mut names = std::collections::BTreeSet::new();
        for env in &self.environments {
            let ok = !env.name.is_empty()
                && env.name.len() <= 64
                && env.name.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                });
            if !ok {
                return Err(invalid(format!(
                    "environment name `{}` must be 1-64 of [a-z0-9_-]",
                    crate::digest::shorten(&env.name)
                )));
            }
            if !names.insert(env.name.as_str()) {
                return Err(invalid(format!(
                    "environment `{}` is defined twice",
                    env.name
                )));
            }
            for (i, r) in env.requires.iter().enumerate() {
                if r.threshold == 0 || r.predicate_type.is_empty() || r.signer_role.is_empty() {
                    return Err(invalid(format!(
                        "environments[{}].requires[{i}]: needs a predicate type, a signer role and a threshold of at least 1",
                        env.name
                    )));
                }
            }
            for w in &env.freeze_windows {
                if w.end <= w.start {
                    return Err(invalid(format!(
                        "environment `{}`: freeze window `{}` ends before it starts",
                        env.name, w.reason
                    )));
                }
            }
        }
        for (i, k) in self.keyless_signers.iter().enumerate() {
            if k.identity.is_empty()
                || k.roles.is_empty()
                || k.certificate_identity.is_empty()
                || k.certificate_oidc_issuer.is_empty()
            {
                return Err(invalid(format!(
                    "keylessSigners[{i}]: needs an identity, roles, a certificate identity and an OIDC issuer"
                )));
            }
        }
        if !self.keyless_signers.is_empty() && self.sigstore_trusted_root.is_none() {
            return Err(invalid(
                "keyless signers need a sigstoreTrustedRoot to verify their bundles against"
                    .to_owned(),
            ));
        }
        if let Some(root) = &self.sigstore_trusted_root {
            check_trusted_root(root).map_err(|e| invalid(format!("sigstoreTrustedRoot: {e}")))?;
        }
        for edge in &self.promotions {
            for end in [&edge.from, &edge.to] {
                if !names.contains(end.as_str()) {
                    return Err(invalid(format!(
                        "promotion edge {} -> {} names unknown environment `{end}`",
                        edge.from, edge.to
                    )));
                }
            }
            if edge.from == edge.to {
                return Err(invalid(format!(
                    "promotion edge {0} -> {0} is a loop",
                    edge.from
                )));
            }
        }
        if !self.environments.is_empty() && self.entry_environments().is_empty() {
            return Err(invalid(
                "every environment has an incoming edge: there is no first environment".to_owned(),
            ));
        }
        let mut ids = std::collections::BTreeSet::new();
        for (i, key) in self.keys.iter().enumerate() {
            let public = PublicKey::from_pem(&key.public_key)
                .map_err(|e| invalid(format!("keys[{i}] ({}): {e}", key.identity)))?;
            if key.identity.is_empty() || key.roles.is_empty() {
                return Err(invalid(format!(
                    "keys[{i}]: needs an identity and at least one role"
                )));
            }
            if !ids.insert(public.key_id().clone()) {
                return Err(invalid(format!(
                    "keys[{i}] ({}): the same key is listed twice",
                    key.identity
                )));
            }
        }
        Ok(())
    }

    /// The environment called `name`.
    pub fn environment(&self, name: &str) -> Option<&Environment> {
        self.environments.iter().find(|e| e.name == name)
    }

    /// The environment `name`, or an error naming the ones the policy has.
    ///
    /// ```
    /// # use custodia::policy::Policy;
    /// # let json = br#"{"version":1,"keys":[],"environments":[{"name":"dev"}],"promotions":[]}"#;
    /// let policy = Policy::from_json(json)?;
    /// assert!(policy.known_environment("dev").is_ok());
    /// assert!(matches!(policy.known_environment("qa"), Err(custodia::Error::Policy(_))));
    /// # Ok::<(), custodia::Error>(())
    /// ```
    pub fn known_environment(&self, name: &str) -> Result<&Environment, Error> {
        self.environment(name).ok_or_else(|| {
            let names: Vec<&str> = self.environments.iter().map(|e| e.name.as_str()).collect();
            PolicyError::Invalid(format!(
                "the policy has no environment `{}` (it has: {})",
                crate::render::one_line(name),
                names.join(", ")
            ))
            .into()
        })
    }

    /// Environments with no incoming edge: where built artifacts enter.
    pub fn entry_environments(&self) -> Vec<&str> {
        self.environments
            .iter()
            .map(|e| e.name.as_str())
            .filter(|n| !self.promotions.iter().any(|edge| edge.to == *n))
            .collect()
    }

    /// Whether `from -> to` is an allowed edge.
    pub fn edge_allowed(&self, from: &str, to: &str) -> bool {
        self.promotions.iter().any(|e| e.from == from && e.to == to)
    }
}

/// The policy's JSON Schema, generated from the types.
#[cfg(feature = "schema")]
pub fn schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Policy)).unwrap_or_default()
}

/// A pinned trusted root must parse (feature `sigstore`); without the
/// feature nothing could verify against it, so it is refused.
#[cfg(feature = "sigstore")]
fn check_trusted_root(root: &serde_json::Value) -> Result<(), String> {
    let bytes = serde_json::to_vec(root).map_err(|e| e.to_string())?;
    crate::bundle::TrustedRoot::from_json(&bytes)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(not(feature = "sigstore"))]
fn check_trusted_root(_: &serde_json::Value) -> Result<(), String> {
    Err("Sigstore trust needs custodia's `sigstore` feature".to_owned())
}
