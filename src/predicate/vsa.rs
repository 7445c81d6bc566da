//! SLSA Verification Summary Attestation v1
//! (`https://slsa.dev/verification_summary/v1`), to write and to check.
//!
//! A VSA says that a verifier checked an artifact against a policy and
//! what came out: `PASSED` or `FAILED`, and the SLSA levels it verified.
//! Someone who trusts the verifier can then accept the artifact without
//! seeing the attestations the verifier read.
//!
//! * Write one from a custodia [`Report`] with
//!   [`VerificationSummary::from_report`] and [`VsaInputs`].
//! * Check one with [`check_vsa`] (a statement whose signature was checked
//!   elsewhere) or [`verify_vsa`] (a DSSE envelope, signature included)
//!   against a [`VsaExpectation`].
//!
//! Parsing follows the spec (SLSA v1.0, v1.1, which added
//! `verifier.version` and made `timeVerified` optional, and v1.2, whose
//! Source track VSAs are about a git commit): `verifier.id`,
//! `resourceUri`, `policy` (with a `uri` or a `digest`),
//! `verificationResult` and `verifiedLevels` are required, missing ones are
//! reported by name as [`PredicateError::MissingField`]. Unknown fields are
//! ignored. A Source VSA (subject digest `gitCommit`, levels
//! `SLSA_SOURCE_LEVEL_1` to `_4`) is checked against a build's provenance
//! by [`crate::policy::source_track`].
//!
//! Level names (`verifiedLevels`, the keys of `dependencyLevels`) are
//! checked loosely: non-empty and made of `A-Z`, `0-9`, `_`, `-`, `.`.
//! Names starting with `SLSA_` are reserved by the spec and must be
//! `SLSA_<TRACK>_LEVEL_<n>` with a single-digit `n`, `0` to `3` for the
//! build track and `1` to `4` for the source track (`SLSA_BUILD_LEVEL_3`,
//! `SLSA_SOURCE_LEVEL_2`); there may be
//! at most one level per SLSA track. A `FAILED` summary may list no level
//! other than `SLSA_BUILD_LEVEL_0` or `FAILED`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::digest::DigestSet;
use crate::dsse::Envelope;
use crate::error::PredicateError;
use crate::report::{Check, Report};
use crate::statement::{Predicate, Statement};
use crate::time::Timestamp;
use crate::trust::{Anchor, TrustAnchors};
use crate::verify::{check_predicate_type, check_subject, open_anchored};

/// Predicate type of SLSA Verification Summary Attestation v1.
pub const VSA_V1: &str = "https://slsa.dev/verification_summary/v1";

/// The SLSA version [`VsaInputs`] writes into `slsaVersion` unless told
/// otherwise.
pub const DEFAULT_SLSA_VERSION: &str = "1.1";

/// `SLSA_BUILD_LEVEL_0`: no build guarantees. The only level a `FAILED`
/// summary may list (besides `FAILED` itself).
pub const SLSA_BUILD_LEVEL_0: &str = "SLSA_BUILD_LEVEL_0";

/// The `verifiedLevels` value the spec reserves for a failed verification.
pub const FAILED_LEVEL: &str = "FAILED";

const NAME: &str = "SLSA VSA v1";

/// A SLSA Verification Summary Attestation v1 predicate.
///
/// Fields serialize in the spec's order with the spec's names; empty
/// optional fields (`inputAttestations`, `dependencyLevels`,
/// `verifier.version`, `policy.digest`) are left out.
///
/// ```
/// use custodia::digest::DigestSet;
/// use custodia::predicate::vsa::{
///     check_vsa, Policy, VerificationResult, VerificationSummary, VsaExpectation, VsaInputs,
/// };
/// use custodia::report::{Check, Report};
/// use custodia::resource::ResourceDescriptor;
/// use custodia::statement::Statement;
/// use custodia::time::Timestamp;
///
/// // Verifier side: turn a verification report into a summary.
/// let artifact = DigestSet::of_bytes(b"app-1.0.tar.gz bytes");
/// let mut report = Report::new();
/// report.push(Check::pass("signature", "1 of 1 trusted keys"));
/// let inputs = VsaInputs::new(
///     "https://verifier.acme.dev/release-gate",
///     "https://downloads.acme.dev/app-1.0.tar.gz",
///     Policy::new("https://policies.acme.dev/release.json"),
/// )
/// .with_verified_levels(["SLSA_BUILD_LEVEL_3"])
/// .with_time(Timestamp::from_unix(1_700_000_000));
/// let vsa = VerificationSummary::from_report(&report, &inputs)?;
/// assert_eq!(vsa.verification_result, VerificationResult::Passed);
/// let statement = Statement::new(
///     vec![ResourceDescriptor::new("app-1.0.tar.gz", artifact.clone())],
///     &vsa,
/// )?;
///
/// // Consumer side: trust that verifier, for that artifact, at build level 2 or more.
/// let expect = VsaExpectation::new(
///     artifact,
///     ["https://verifier.acme.dev/release-gate"],
///     "https://downloads.acme.dev/app-1.0.tar.gz",
/// )
/// .with_levels(["SLSA_BUILD_LEVEL_2"]);
/// let checked = check_vsa(&Statement::from_json(&statement.to_json()?)?, &expect);
/// assert!(checked.verified(), "{checked}");
///
/// // A failed report gives a FAILED summary, which no expectation accepts.
/// let vsa = VerificationSummary::from_report(&Report::new(), &inputs)?;
/// assert_eq!(vsa.verification_result, VerificationResult::Failed);
/// assert!(vsa.verified_levels.is_empty());
/// # Ok::<(), custodia::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct VerificationSummary {
    /// Who verified.
    pub verifier: Verifier,
    /// When the verification happened (optional since SLSA 1.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_verified: Option<Timestamp>,
    /// The URI of the resource the artifact was verified as (the
    /// consumer's name for it, e.g. a download URL or package URL).
    pub resource_uri: String,
    /// The policy the artifact was verified against.
    pub policy: Policy,
    /// The attestations the verifier read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub input_attestations: Vec<InputAttestation>,
    /// `PASSED` or `FAILED`.
    pub verification_result: VerificationResult,
    /// The highest level verified on each track (`SLSA_BUILD_LEVEL_3`,
    /// custom levels); each SLSA level implies the ones below it.
    pub verified_levels: Vec<String>,
    /// How many transitive dependencies were verified at each level.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub dependency_levels: BTreeMap<String, u64>,
    /// The SLSA version the verifier used, `<MAJOR>.<MINOR>` (`1.0`, `1.1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slsa_version: Option<String>,
}

impl Predicate for VerificationSummary {
    const PREDICATE_TYPE: &'static str = VSA_V1;
}

/// `verifier`: the entity that performed the verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Verifier {
    /// URI identifying the verifier.
    #[serde(default)]
    pub id: String,
    /// Versions of the verifier's components (SLSA v1.1).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub version: BTreeMap<String, String>,
}

impl Verifier {
    /// A verifier with just an id.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            version: BTreeMap::new(),
        }
    }
}

/// `policy`: the policy the subject was verified against.
///
/// The spec says writers MUST give a `uri` ([`Policy::new`] always does);
/// readers accept a policy that has a `uri` or a `digest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Policy {
    /// Where the policy is, or which one it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// The policy's digests.
    #[serde(default, skip_serializing_if = "DigestSet::is_empty")]
    pub digest: DigestSet,
}

impl Policy {
    /// A policy identified by a URI.
    pub fn new(uri: impl Into<String>) -> Self {
        Self {
            uri: Some(uri.into()),
            digest: DigestSet::new(),
        }
    }

    /// Adds the policy's digests.
    pub fn with_digest(mut self, digest: DigestSet) -> Self {
        self.digest = digest;
        self
    }

    fn is_empty(&self) -> bool {
        self.uri.as_deref().is_none_or(str::is_empty) && self.digest.is_empty()
    }
}

/// One entry of `inputAttestations`: an attestation the verifier read,
/// by digest (required) and where to fetch it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InputAttestation {
    /// Where the attestation can be fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// The attestation's digests.
    #[serde(default)]
    pub digest: DigestSet,
}

impl InputAttestation {
    /// An attestation at `uri` with these digests.
    pub fn new(uri: impl Into<String>, digest: DigestSet) -> Self {
        Self {
            uri: Some(uri.into()),
            digest,
        }
    }

    /// An attestation known only by its digests.
    pub fn from_digest(digest: DigestSet) -> Self {
        Self { uri: None, digest }
    }
}

/// `verificationResult`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum VerificationResult {
    /// `PASSED`: the artifact met the policy.
    #[serde(rename = "PASSED")]
    Passed,
    /// `FAILED`: it did not.
    #[serde(rename = "FAILED")]
    Failed,
}

impl VerificationResult {
    /// `PASSED` or `FAILED`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "PASSED",
            Self::Failed => "FAILED",
        }
    }
}

impl fmt::Display for VerificationResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What goes into a [`VerificationSummary`] besides the verdict, which
/// comes from a [`Report`] ([`VerificationSummary::from_report`]).
///
/// `verified_levels` are the levels the verification establishes when it
/// passes; a failed verification establishes none. The time is the clock's
/// unless [`VsaInputs::with_time`] fixes it; `slsaVersion` is
/// [`DEFAULT_SLSA_VERSION`] unless [`VsaInputs::with_slsa_version`] says
/// otherwise.
///
/// ```
/// use custodia::predicate::vsa::{InputAttestation, Policy, VsaInputs};
/// use custodia::digest::DigestSet;
/// use custodia::time::Timestamp;
///
/// let inputs = VsaInputs::new(
///     "https://verifier.acme.dev/gate",
///     "pkg:npm/acme-app@1.0.0",
///     Policy::new("https://policies.acme.dev/npm.json")
///         .with_digest(DigestSet::of_bytes(b"policy text")),
/// )
/// .with_verifier_version("acme-gate", "2.4.1")
/// .with_input_attestation(InputAttestation::new(
///     "https://attestations.acme.dev/app-1.0.0.intoto.jsonl",
///     DigestSet::of_bytes(b"the provenance envelope"),
/// ))
/// .with_verified_levels(["SLSA_BUILD_LEVEL_3"])
/// .with_dependency_level("SLSA_BUILD_LEVEL_2", 4)
/// .with_time(Timestamp::from_unix(1_700_000_000));
/// # let _ = inputs;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct VsaInputs {
    verifier: Verifier,
    resource_uri: String,
    policy: Policy,
    input_attestations: Vec<InputAttestation>,
    verified_levels: Vec<String>,
    dependency_levels: BTreeMap<String, u64>,
    slsa_version: Option<String>,
    time_verified: Option<Timestamp>,
}

impl VsaInputs {
    /// The required inputs: the verifier's id, the resource URI the
    /// artifact was verified as, and the policy.
    pub fn new(
        verifier_id: impl Into<String>,
        resource_uri: impl Into<String>,
        policy: Policy,
    ) -> Self {
        Self {
            verifier: Verifier::new(verifier_id),
            resource_uri: resource_uri.into(),
            policy,
            input_attestations: Vec::new(),
            verified_levels: Vec::new(),
            dependency_levels: BTreeMap::new(),
            slsa_version: Some(DEFAULT_SLSA_VERSION.to_owned()),
            time_verified: None,
        }
    }

    /// Records the version of one of the verifier's components.
    pub fn with_verifier_version(
        mut self,
        component: impl Into<String>,
        version: impl Into<String>,
    ) -> Self {
        self.verifier
            .version
            .insert(component.into(), version.into());
        self
    }

    /// Adds an attestation the verifier read.
    pub fn with_input_attestation(mut self, attestation: InputAttestation) -> Self {
        self.input_attestations.push(attestation);
        self
    }

    /// The levels a passing verification establishes (replacing any set
    /// before).
    pub fn with_verified_levels<I, S>(mut self, levels: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.verified_levels = levels.into_iter().map(Into::into).collect();
        self
    }

    /// How many transitive dependencies were verified at `level`.
    pub fn with_dependency_level(mut self, level: impl Into<String>, count: u64) -> Self {
        self.dependency_levels.insert(level.into(), count);
        self
    }

    /// The SLSA version to record (`1.0`, `1.1`).
    pub fn with_slsa_version(mut self, version: impl Into<String>) -> Self {
        self.slsa_version = Some(version.into());
        self
    }

    /// Fixes the verification time (for reproducible output).
    pub fn with_time(mut self, time_verified: Timestamp) -> Self {
        self.time_verified = Some(time_verified);
        self
    }
}

impl VerificationSummary {
    /// The summary of a verification: `PASSED` exactly when
    /// `report.verified()` (so an empty report gives `FAILED`).
    ///
    /// A `FAILED` summary claims no level: of the inputs' verified levels
    /// only `SLSA_BUILD_LEVEL_0` is kept. Errors when the inputs break a
    /// rule of the spec (see [`VerificationSummary::validate`]).
    pub fn from_report(report: &Report, inputs: &VsaInputs) -> Result<Self, PredicateError> {
        let verification_result = if report.verified() {
            VerificationResult::Passed
        } else {
            VerificationResult::Failed
        };
        let verified_levels = match verification_result {
            VerificationResult::Passed => inputs.verified_levels.clone(),
            VerificationResult::Failed => inputs
                .verified_levels
                .iter()
                .filter(|l| l.as_str() == SLSA_BUILD_LEVEL_0)
                .cloned()
                .collect(),
        };
        let summary = Self {
            verifier: inputs.verifier.clone(),
            time_verified: Some(inputs.time_verified.unwrap_or_else(Timestamp::now)),
            resource_uri: inputs.resource_uri.clone(),
            policy: inputs.policy.clone(),
            input_attestations: inputs.input_attestations.clone(),
            verification_result,
            verified_levels,
            dependency_levels: inputs.dependency_levels.clone(),
            slsa_version: inputs.slsa_version.clone(),
        };
        summary.validate()?;
        Ok(summary)
    }

    /// Checks the spec's rules: the required fields, a digest on every
    /// input attestation, level names, one level per SLSA track, no level
    /// claimed by a `FAILED` summary, and the `slsaVersion` form.
    pub fn validate(&self) -> Result<(), PredicateError> {
        let missing = |field| PredicateError::MissingField {
            predicate: NAME,
            field,
        };
        if self.verifier.id.is_empty() {
            return Err(missing("verifier.id"));
        }
        if self.resource_uri.is_empty() {
            return Err(missing("resourceUri"));
        }
        if self.policy.is_empty() {
            return Err(missing("policy"));
        }
        for (i, attestation) in self.input_attestations.iter().enumerate() {
            if attestation.digest.is_empty() {
                return Err(invalid(
                    format!("inputAttestations[{i}].digest"),
                    "every input attestation needs the attestation's digest",
                ));
            }
        }
        let mut tracks: BTreeMap<&str, &str> = BTreeMap::new();
        for (i, level) in self.verified_levels.iter().enumerate() {
            check_level_name(level).map_err(|r| invalid(format!("verifiedLevels[{i}]"), r))?;
            if let Some((track, _)) = slsa_level(level) {
                if let Some(other) = tracks.insert(track, level) {
                    return Err(invalid(
                        format!("verifiedLevels[{i}]"),
                        format!(
                            "`{level}` and `{other}` are on the same SLSA track; list only the highest"
                        ),
                    ));
                }
            }
            let allowed = match self.verification_result {
                VerificationResult::Passed => level != FAILED_LEVEL,
                VerificationResult::Failed => level == SLSA_BUILD_LEVEL_0 || level == FAILED_LEVEL,
            };
            if !allowed {
                return Err(invalid(
                    format!("verifiedLevels[{i}]"),
                    format!(
                        "a {} summary cannot list `{level}`",
                        self.verification_result
                    ),
                ));
            }
        }
        for level in self.dependency_levels.keys() {
            check_level_name(level).map_err(|r| {
                invalid(
                    format!("dependencyLevels.{}", crate::digest::shorten(level)),
                    r,
                )
            })?;
        }
        if let Some(version) = &self.slsa_version {
            let valid = version.split_once('.').is_some_and(|(major, minor)| {
                major == "1" && !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit())
            });
            if !valid {
                return Err(invalid(
                    "slsaVersion".to_owned(),
                    format!(
                        "`{}` is not a SLSA 1.x version like `1.0` or `1.1`",
                        crate::digest::shorten(version)
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Whether the summary lists `required`, or a higher level of the same
    /// SLSA track (`SLSA_BUILD_LEVEL_3` satisfies `SLSA_BUILD_LEVEL_2`).
    /// Custom levels must be listed as they are. A `FAILED` summary
    /// satisfies nothing.
    pub fn has_level(&self, required: &str) -> bool {
        self.verification_result == VerificationResult::Passed
            && self
                .verified_levels
                .iter()
                .any(|have| level_satisfies(have, required))
    }
}

fn invalid(path: String, reason: impl Into<String>) -> PredicateError {
    PredicateError::Invalid {
        path,
        reason: reason.into(),
    }
}

/// The loose check of a level name; see the module documentation.
fn check_level_name(level: &str) -> Result<(), String> {
    if level.is_empty() {
        return Err("a level name cannot be empty".to_owned());
    }
    let allowed =
        |b: u8| b.is_ascii_uppercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.');
    if !level.bytes().all(allowed) {
        return Err(format!(
            "`{}` is not a level name (uppercase A-Z, 0-9, `_`, `-`, `.`)",
            crate::digest::shorten(level)
        ));
    }
    if level.starts_with("SLSA_") {
        match slsa_level(level) {
            Some(("BUILD", n)) if n > 3 => {
                return Err(format!("`{level}`: SLSA build levels go from 0 to 3"));
            }
            Some(("SOURCE", n)) if n > 4 => {
                return Err(format!("`{level}`: SLSA source levels go from 1 to 4"));
            }
            Some(_) => {}
            None => {
                return Err(format!(
                    "`{}`: names starting with `SLSA_` are reserved for `SLSA_<TRACK>_LEVEL_<n>`",
                    crate::digest::shorten(level)
                ));
            }
        }
    }
    Ok(())
}

/// The source level a summary verified: `n` of `SLSA_SOURCE_LEVEL_<n>`,
/// `None` when it lists none (or is `FAILED`).
pub fn source_level(summary: &VerificationSummary) -> Option<u8> {
    if summary.verification_result != VerificationResult::Passed {
        return None;
    }
    summary
        .verified_levels
        .iter()
        .filter_map(|l| match slsa_level(l) {
            Some(("SOURCE", n)) => Some(n),
            _ => None,
        })
        .max()
}

/// `SLSA_BUILD_LEVEL_2` -> `("BUILD", 2)`.
fn slsa_level(level: &str) -> Option<(&str, u8)> {
    let (track, n) = level.strip_prefix("SLSA_")?.rsplit_once("_LEVEL_")?;
    if track.is_empty() || !track.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
        return None;
    }
    match n.as_bytes() {
        [d] if d.is_ascii_digit() => Some((track, d - b'0')),
        _ => None,
    }
}

/// Whether the level `have` satisfies `required`: the same name, or a
/// higher level of the same SLSA track (`SLSA_SOURCE_LEVEL_4` satisfies
/// `SLSA_SOURCE_LEVEL_3`). Other names (a verifier's properties) only
/// satisfy themselves.
///
/// ```
/// use custodia::predicate::vsa::level_satisfies;
/// assert!(level_satisfies("SLSA_SOURCE_LEVEL_4", "SLSA_SOURCE_LEVEL_3"));
/// assert!(!level_satisfies("SLSA_SOURCE_LEVEL_2", "SLSA_SOURCE_LEVEL_3"));
/// assert!(!level_satisfies("SLSA_BUILD_LEVEL_3", "SLSA_SOURCE_LEVEL_3"));
/// assert!(level_satisfies("ORG_TWO_PARTY_REVIEW", "ORG_TWO_PARTY_REVIEW"));
/// ```
pub fn level_satisfies(have: &str, required: &str) -> bool {
    have == required
        || matches!(
            (slsa_level(have), slsa_level(required)),
            (Some((t1, n1)), Some((t2, n2))) if t1 == t2 && n1 >= n2
        )
}

/// The lenient wire form: required fields optional, so that a missing one
/// is reported by name.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SummaryWire {
    #[serde(default)]
    verifier: Option<Verifier>,
    #[serde(default)]
    time_verified: Option<Timestamp>,
    #[serde(default)]
    resource_uri: Option<String>,
    #[serde(default)]
    policy: Option<Policy>,
    #[serde(default)]
    input_attestations: Option<Vec<InputAttestation>>,
    #[serde(default)]
    verification_result: Option<VerificationResult>,
    #[serde(default)]
    verified_levels: Option<Vec<String>>,
    #[serde(default)]
    dependency_levels: Option<BTreeMap<String, u64>>,
    #[serde(default)]
    slsa_version: Option<String>,
}

impl<'de> Deserialize<'de> for VerificationSummary {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let wire = SummaryWire::deserialize(d)?;
        let missing = |field| {
            D::Error::custom(PredicateError::MissingField {
                predicate: NAME,
                field,
            })
        };
        let summary = Self {
            verifier: wire.verifier.ok_or_else(|| missing("verifier"))?,
            time_verified: wire.time_verified,
            resource_uri: wire.resource_uri.ok_or_else(|| missing("resourceUri"))?,
            policy: wire.policy.ok_or_else(|| missing("policy"))?,
            input_attestations: wire.input_attestations.unwrap_or_default(),
            verification_result: wire
                .verification_result
                .ok_or_else(|| missing("verificationResult"))?,
            verified_levels: wire
                .verified_levels
                .ok_or_else(|| missing("verifiedLevels"))?,
            dependency_levels: wire.dependency_levels.unwrap_or_default(),
            slsa_version: wire.slsa_version,
        };
        summary.validate().map_err(D::Error::custom)?;
        Ok(summary)
    }
}

/// What a VSA must say for an artifact to be accepted.
///
/// The verifier ids are trusted exactly (the spec: consumers accept only
/// specific signer and verifier pairs, so trust the verifier id together
/// with the keys passed to [`verify_vsa`]). The resource URI must be the
/// one the VSA names, exactly.
///
/// The artifact is matched against the statement's subjects by digest
/// ([`DigestSet::matches`]: every shared algorithm agrees, at least one is
/// strong). Subjects may use custom digest algorithms (Google's VSAs name
/// GCE images by `gce_image_id`); custom algorithms never identify an
/// artifact in custodia, so a VSA whose subjects carry only custom digests
/// cannot be matched by digest. Use [`VsaExpectation::by_resource_uri`]
/// for those: the `resource-uri` check is then what binds the VSA to the
/// artifact.
///
/// ```
/// use custodia::digest::DigestSet;
/// use custodia::predicate::vsa::VsaExpectation;
///
/// // Artifact bytes at hand: match by digest and by resource URI.
/// let by_digest = VsaExpectation::new(
///     DigestSet::of_bytes(b"app"),
///     ["https://verifier.acme.dev/gate"],
///     "https://downloads.acme.dev/app.tgz",
/// )
/// .with_levels(["SLSA_BUILD_LEVEL_3"]);
///
/// // Only a resource name (a GCE image): the resource URI binds.
/// let by_uri = VsaExpectation::by_resource_uri(
///     ["https://bcid.corp.google.com/verifier/bcid_package_enforcer/v0.1"],
///     "gce_image://gke-node-images:some-image",
/// );
/// # let _ = (by_digest, by_uri);
/// ```
#[derive(Debug, Clone)]
pub struct VsaExpectation {
    artifact: Option<DigestSet>,
    trusted_verifiers: Vec<String>,
    resource_uri: String,
    levels: Vec<String>,
    threshold: usize,
}

impl VsaExpectation {
    /// A VSA about the artifact with these digests, by one of the trusted
    /// verifiers, for `resource_uri`.
    pub fn new<I, S>(
        artifact: DigestSet,
        trusted_verifiers: I,
        resource_uri: impl Into<String>,
    ) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            artifact: Some(artifact),
            ..Self::by_resource_uri(trusted_verifiers, resource_uri)
        }
    }

    /// A VSA by one of the trusted verifiers for `resource_uri`, without
    /// matching subjects by digest (for artifacts known only by a resource
    /// URI and custom digests). The `subject` check then passes with a note
    /// saying that it did not match digests.
    pub fn by_resource_uri<I, S>(trusted_verifiers: I, resource_uri: impl Into<String>) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            artifact: None,
            trusted_verifiers: trusted_verifiers.into_iter().map(Into::into).collect(),
            resource_uri: resource_uri.into(),
            levels: Vec::new(),
            threshold: 1,
        }
    }

    /// Requires these levels (adding to any required before); a higher
    /// level of the same SLSA track satisfies a lower one.
    pub fn with_levels<I, S>(mut self, levels: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.levels.extend(levels.into_iter().map(Into::into));
        self
    }

    /// Requires `threshold` distinct trusted signers in [`verify_vsa`] (at
    /// least 1).
    pub fn with_threshold(mut self, threshold: usize) -> Self {
        self.threshold = threshold.max(1);
        self
    }
}

/// The outcome of [`verify_vsa`]: the report, and the summary only when
/// every check passed.
#[derive(Debug, Clone)]
pub struct VerifiedVsa {
    report: Report,
    summary: Option<VerificationSummary>,
    signed_by: Vec<Anchor>,
}

impl VerifiedVsa {
    /// The trust anchors (verifiers) whose signatures counted; empty
    /// unless verified.
    pub fn signed_by(&self) -> &[Anchor] {
        &self.signed_by
    }

    /// All checks, in order.
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The verified summary.
    pub fn summary(&self) -> Option<&VerificationSummary> {
        self.summary.as_ref()
    }
}

/// Checks a VSA statement whose signature was checked elsewhere (the
/// report has no signature checks, so it says nothing about who signed).
///
/// Checks, in order: `predicate-type` (the VSA v1 type), `predicate`
/// (parses and follows the spec), `subject` (a subject identifies the
/// artifact, see [`VsaExpectation`]), `verifier-id` (a trusted verifier),
/// `resource-uri` (the expected one), `verification-result` (`PASSED`),
/// `verified-levels` (every required level, or a higher one of the same
/// SLSA track, is listed). Stops after `predicate-type` or `predicate`
/// fails.
pub fn check_vsa(statement: &Statement, expected: &VsaExpectation) -> Report {
    let mut report = Report::new();
    check_summary(statement, expected, &mut report);
    report
}

/// Verifies a signed VSA envelope: `signature[i]` and `threshold`,
/// `payload-type`, `statement`, then the checks of [`check_vsa`]. The
/// payload of an envelope that no trusted key signed is never parsed.
pub fn verify_vsa(
    envelope: &Envelope,
    anchors: &TrustAnchors,
    expected: &VsaExpectation,
) -> VerifiedVsa {
    let mut report = Report::new();
    let (summary, signed_by) =
        match open_anchored(envelope, anchors, expected.threshold, &mut report) {
            Some((statement, signed_by)) => {
                (check_summary(&statement, expected, &mut report), signed_by)
            }
            None => (None, Vec::new()),
        };
    let verified = report.verified();
    VerifiedVsa {
        report,
        summary: summary.filter(|_| verified),
        signed_by: if verified { signed_by } else { Vec::new() },
    }
}

fn check_summary(
    statement: &Statement,
    expected: &VsaExpectation,
    report: &mut Report,
) -> Option<VerificationSummary> {
    if !check_predicate_type(statement, &[VSA_V1], report) {
        return None;
    }
    let summary = match statement.predicate_as::<VerificationSummary>() {
        Ok(s) => {
            report.push(Check::pass(
                "predicate",
                match &s.time_verified {
                    Some(t) => format!("{NAME} parsed, verified at {t}"),
                    None => format!("{NAME} parsed (no timeVerified)"),
                },
            ));
            s
        }
        Err(e) => {
            report.push(Check::fail("predicate", e.to_string()));
            return None;
        }
    };
    match &expected.artifact {
        Some(artifact) => check_subject(statement, artifact, report),
        None => report.push(Check::pass(
            "subject",
            format!(
                "not matched by digest (subject digests: {}); the artifact is identified by resource-uri",
                subject_algorithms(statement)
            ),
        )),
    }
    check_verifier(&summary, &expected.trusted_verifiers, report);
    report.push(if summary.resource_uri == expected.resource_uri {
        Check::pass("resource-uri", clip(&summary.resource_uri))
    } else {
        Check::fail(
            "resource-uri",
            format!(
                "expected `{}`, VSA is for `{}`",
                clip(&expected.resource_uri),
                clip(&summary.resource_uri)
            ),
        )
    });
    report.push(match summary.verification_result {
        VerificationResult::Passed => Check::pass("verification-result", "PASSED"),
        VerificationResult::Failed => Check::fail(
            "verification-result",
            "the verifier reported FAILED: the artifact did not meet its policy",
        ),
    });
    check_levels(&summary, &expected.levels, report);
    Some(summary)
}

fn check_verifier(summary: &VerificationSummary, trusted: &[String], report: &mut Report) {
    let id = &summary.verifier.id;
    report.push(if trusted.is_empty() {
        Check::fail("verifier-id", "no trusted verifier ids were given")
    } else if trusted.iter().any(|t| t == id) {
        Check::pass("verifier-id", format!("`{}` is trusted", clip(id)))
    } else {
        Check::fail(
            "verifier-id",
            format!(
                "`{}` is not a trusted verifier (trusted: `{}`)",
                clip(id),
                trusted.join("`, `")
            ),
        )
    });
}

fn check_levels(summary: &VerificationSummary, required: &[String], report: &mut Report) {
    let listed = if summary.verified_levels.is_empty() {
        "none".to_owned()
    } else {
        clip(&summary.verified_levels.join(", "))
    };
    let missing: Vec<&str> = required
        .iter()
        .filter(|r| {
            !summary
                .verified_levels
                .iter()
                .any(|have| level_satisfies(have, r))
        })
        .map(String::as_str)
        .collect();
    report.push(if required.is_empty() {
        Check::pass(
            "verified-levels",
            format!("none required (VSA lists {listed})"),
        )
    } else if missing.is_empty() {
        Check::pass(
            "verified-levels",
            format!("{} required, VSA lists {listed}", required.join(", ")),
        )
    } else {
        Check::fail(
            "verified-levels",
            format!("{} not verified (VSA lists {listed})", missing.join(", ")),
        )
    });
}

fn subject_algorithms(statement: &Statement) -> String {
    let mut algorithms: Vec<&str> = statement
        .subject()
        .iter()
        .flat_map(|s| s.digest.iter().map(|(a, _)| a))
        .collect();
    algorithms.sort_unstable();
    algorithms.dedup();
    clip(&algorithms.join(", "))
}

/// Shortens text from a document for a report line (longer than
/// [`crate::digest::shorten`]'s limit: URIs differ late).
fn clip(text: &str) -> String {
    const MAX: usize = 256;
    if text.len() <= MAX {
        return text.to_owned();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", text.get(..end).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_names() {
        for ok in [
            "SLSA_BUILD_LEVEL_0",
            "SLSA_BUILD_LEVEL_3",
            "SLSA_SOURCE_LEVEL_4",
            "BCID_L1",
            "FAILED",
            "ACME-GOLD.2",
        ] {
            assert!(check_level_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "slsa_build_level_1",
            "SLSA_BUILD_LEVEL_4",
            "SLSA_BUILD_LEVEL_",
            "SLSA_BUILD_LEVEL_10",
            "SLSA_L3",
            "BCID L1",
        ] {
            assert!(check_level_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn higher_levels_of_a_track_satisfy_lower_ones() {
        assert!(level_satisfies("SLSA_BUILD_LEVEL_3", "SLSA_BUILD_LEVEL_2"));
        assert!(level_satisfies("SLSA_BUILD_LEVEL_2", "SLSA_BUILD_LEVEL_2"));
        assert!(!level_satisfies("SLSA_BUILD_LEVEL_1", "SLSA_BUILD_LEVEL_2"));
        assert!(!level_satisfies(
            "SLSA_SOURCE_LEVEL_3",
            "SLSA_BUILD_LEVEL_2"
        ));
        assert!(level_satisfies("BCID_L1", "BCID_L1"));
        assert!(!level_satisfies("BCID_L2", "BCID_L1"));
    }

    #[test]
    fn clip_respects_char_boundaries() {
        assert!(clip(&"é".repeat(200)).ends_with("..."));
        assert_eq!(clip("short"), "short");
    }
}
