//! SLSA 1.2 Source track in promotion gates: "the artifact's source commit
//! has a Source VSA from a trusted verifier with level >= N (or property
//! P)".
//!
//! A Source VSA is a VSA v1 whose subject is a git commit (digest
//! `gitCommit`, and `annotations.sourceRefs` naming the branches it is on)
//! and whose `verifiedLevels` list `SLSA_SOURCE_LEVEL_<n>` and, if the
//! verifier defines them, properties such as two-party review. A build's
//! provenance names the commit it was built from (`resolvedDependencies`
//! in v1, `materials` in v0.2, as `gitCommit` or `sha1`). A gate requires
//! both to agree: the provenance requirement carries a
//! [`SourceVsaRule`] in its conditions (`"sourceVsa"`), and the evidence
//! must include a Source VSA signed by the rule's role, by one of its
//! trusted verifiers, about that very commit (and repository), `PASSED`,
//! with every required level (a higher source level satisfies a lower
//! one; properties must be listed as they are).
//!
//! ```json
//! {"predicateType": "https://slsa.dev/provenance/v1", "signerRole": "builder",
//!  "conditions": {"sourceVsa": {"signerRole": "source-verifier",
//!    "verifiers": ["https://source.acme.dev/verifier"],
//!    "levels": ["SLSA_SOURCE_LEVEL_3"]}}}
//! ```
//!
//! [`check_source_vsa`] is the decision for one VSA, as named checks; the
//! gate runs it over the evidence and records the VSA that satisfied it.
//!
//! The Source VSA must be a DSSE envelope signed by the rule's role's keys.
//! One carried in a Sigstore bundle is refused (fail closed, the reason
//! names the `statement` check): the bundle verifier (sigstore-verify
//! 0.15) binds a DSSE bundle only to a sha256 or sha512 subject, and a
//! Source VSA's only subject digest is the `gitCommit`.

use serde::{Deserialize, Serialize};

use crate::digest::elide_middle;
use crate::predicate::promotion::Evidence;
use crate::predicate::slsa_provenance::{ProvenanceClaims, normalize_repository};
use crate::predicate::vsa::{VSA_V1, VerificationResult, VerificationSummary, level_satisfies};
use crate::report::{Check, Report};
use crate::statement::Statement;
use crate::verify::check_predicate_type;

use super::gate::{ActivePolicy, EvidenceEnvelope};

/// The `sourceVsa` condition of a provenance requirement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct SourceVsaRule {
    /// The role whose keys sign Source VSAs (the source verifier's keys).
    pub signer_role: String,
    /// Trusted source verifiers: the VSA's `verifier.id`, exactly.
    pub verifiers: Vec<String>,
    /// Levels and properties the VSA must list: `SLSA_SOURCE_LEVEL_<n>`
    /// (a higher level satisfies it) or a verifier's property name (listed
    /// as is, e.g. `ORG_SOURCE_TWO_PARTY_REVIEW`). Empty: any `PASSED`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub levels: Vec<String>,
}

impl SourceVsaRule {
    /// A rule: Source VSAs signed by `signer_role`, from one of
    /// `verifiers`, listing every one of `levels`.
    pub fn new<V, L>(signer_role: impl Into<String>, verifiers: V, levels: L) -> Self
    where
        V: IntoIterator,
        V::Item: Into<String>,
        L: IntoIterator,
        L::Item: Into<String>,
    {
        Self {
            signer_role: signer_role.into(),
            verifiers: verifiers.into_iter().map(Into::into).collect(),
            levels: levels.into_iter().map(Into::into).collect(),
        }
    }
}

/// The source a build came from, as its provenance says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceCommit {
    /// The repository, normalized (`github.com/o/r`).
    pub repository: String,
    /// The commit (lowercase hex, 40 or 64 digits).
    pub commit: String,
}

impl SourceCommit {
    /// Reads the source commit from a SLSA provenance statement (v1, v0.2
    /// or v0.1): the source's `gitCommit` digest, or `sha1` as v0.2's
    /// `materials` write it. `Err` (a reason) when the provenance names no
    /// source or no commit.
    pub fn from_provenance(provenance: &Statement) -> Result<Self, String> {
        let claims = ProvenanceClaims::from_statement(provenance).map_err(|e| e.to_string())?;
        let source = claims
            .source
            .ok_or_else(|| "the provenance names no source".to_owned())?;
        let commit = source
            .digest
            .get("gitCommit")
            .or_else(|| source.digest.get("sha1"))
            .ok_or_else(|| {
                format!(
                    "the provenance's source `{}` has no gitCommit digest",
                    elide_middle(&source.uri, 200)
                )
            })?;
        Ok(Self {
            repository: source.repository,
            commit: commit.to_ascii_lowercase(),
        })
    }
}

/// The repository a Source VSA's `resourceUri` names
/// (`git+https://github.com/o/r` -> `github.com/o/r`).
fn repository_of(resource_uri: &str) -> String {
    let uri = resource_uri.strip_prefix("git+").unwrap_or(resource_uri);
    let uri = uri.split_once('@').map_or(uri, |(before, _)| before);
    normalize_repository(uri)
}

/// Checks a Source VSA statement (its signature checked elsewhere) against
/// the build's source commit and `rule`. Checks, in order:
/// `predicate-type` (VSA v1), `predicate` (parses), `source-commit` (a
/// subject's `gitCommit` is the commit), `source-repository` (the VSA's
/// `resourceUri` names the provenance's repository), `verifier-id` (one of
/// the rule's), `verification-result` (`PASSED`), `source-levels` (every
/// required level or property). Stops after `predicate-type` or
/// `predicate` fails.
///
/// ```
/// use custodia::digest::DigestSet;
/// use custodia::policy::source_track::{SourceCommit, SourceVsaRule, check_source_vsa};
/// use custodia::resource::ResourceDescriptor;
/// use custodia::statement::Statement;
/// let commit = "c27d339ee6075c1f744c5d4b200f7901aad2c3b4";
/// let mut digest = DigestSet::new();
/// digest.insert_raw("gitCommit", commit)?;
/// let vsa = Statement::new_untyped(
///     vec![ResourceDescriptor::new("commit", digest)],
///     "https://slsa.dev/verification_summary/v1",
///     serde_json::json!({
///         "verifier": {"id": "https://source.acme.dev/verifier"},
///         "timeVerified": "2026-01-01T00:00:00Z",
///         "resourceUri": "git+https://github.com/acme/app",
///         "policy": {"uri": "https://source.acme.dev/policy"},
///         "verificationResult": "PASSED",
///         "verifiedLevels": ["SLSA_SOURCE_LEVEL_4"]}),
/// )?;
/// let build = SourceCommit { repository: "github.com/acme/app".into(), commit: commit.into() };
/// let rule = SourceVsaRule::new("source-verifier", ["https://source.acme.dev/verifier"], ["SLSA_SOURCE_LEVEL_3"]);
/// assert!(check_source_vsa(&build, &vsa, &rule).verified());
/// let other = SourceCommit { commit: "0".repeat(40), ..build };
/// assert_eq!(check_source_vsa(&other, &vsa, &rule).first_failure().unwrap().name, "source-commit");
/// # Ok::<(), custodia::Error>(())
/// ```
pub fn check_source_vsa(build: &SourceCommit, vsa: &Statement, rule: &SourceVsaRule) -> Report {
    let mut report = Report::new();
    if !check_predicate_type(vsa, &[VSA_V1], &mut report) {
        return report;
    }
    let summary: VerificationSummary = match vsa.predicate_as() {
        Ok(s) => {
            report.push(Check::pass("predicate", "SLSA VSA v1 parsed"));
            s
        }
        Err(e) => {
            report.push(Check::fail("predicate", e.to_string()));
            return report;
        }
    };
    let about = vsa.subject().iter().find(|s| {
        s.digest
            .get("gitCommit")
            .is_some_and(|c| c.eq_ignore_ascii_case(&build.commit))
    });
    report.push(match about {
        Some(subject) => {
            let refs = subject
                .annotations
                .get("sourceRefs")
                .and_then(serde_json::Value::as_array)
                .map(|refs| {
                    refs.iter()
                        .filter_map(serde_json::Value::as_str)
                        .map(|r| elide_middle(r, 80))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            Check::pass(
                "source-commit",
                if refs.is_empty() {
                    format!("gitCommit {}", build.commit)
                } else {
                    format!("gitCommit {} (on {refs})", build.commit)
                },
            )
        }
        None => Check::fail(
            "source-commit",
            format!(
                "the Source VSA is not about commit {} (its subjects: {})",
                build.commit,
                vsa.subject()
                    .iter()
                    .take(3)
                    .map(|s| s.digest.get("gitCommit").unwrap_or("(no gitCommit)"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
    });
    let repository = repository_of(&summary.resource_uri);
    report.push(if repository == build.repository {
        Check::pass("source-repository", elide_middle(&repository, 200))
    } else {
        Check::fail(
            "source-repository",
            format!(
                "the Source VSA is for `{}`, the build's source is `{}`",
                elide_middle(&repository, 200),
                elide_middle(&build.repository, 200)
            ),
        )
    });
    report.push(
        if rule.verifiers.iter().any(|v| v == &summary.verifier.id) {
            Check::pass(
                "verifier-id",
                format!("`{}` is trusted", elide_middle(&summary.verifier.id, 200)),
            )
        } else {
            Check::fail(
                "verifier-id",
                format!(
                    "`{}` is not a trusted source verifier",
                    elide_middle(&summary.verifier.id, 200)
                ),
            )
        },
    );
    report.push(match summary.verification_result {
        VerificationResult::Passed => Check::pass("verification-result", "PASSED"),
        VerificationResult::Failed => Check::fail("verification-result", "FAILED"),
    });
    let listed = elide_middle(&summary.verified_levels.join(", "), 200);
    let missing: Vec<&str> = rule
        .levels
        .iter()
        .filter(|r| {
            !summary
                .verified_levels
                .iter()
                .any(|have| level_satisfies(have, r))
        })
        .map(String::as_str)
        .collect();
    report.push(if missing.is_empty() {
        Check::pass(
            "source-levels",
            format!("{} required, VSA lists {listed}", rule.levels.join(", ")),
        )
    } else {
        Check::fail(
            "source-levels",
            format!("{} not verified (VSA lists {listed})", missing.join(", ")),
        )
    });
    report
}

/// The gate's check: a Source VSA in `evidence`, signed by `rule`'s role,
/// that passes [`check_source_vsa`] for the commit `provenance` names. The
/// VSA's evidence record, or every reason none did.
pub(crate) fn satisfy(
    policy: &ActivePolicy,
    provenance: &Statement,
    rule: &SourceVsaRule,
    evidence: &[EvidenceEnvelope],
) -> Result<Evidence, String> {
    let build = SourceCommit::from_provenance(provenance).map_err(|e| format!("sourceVsa: {e}"))?;
    let mut commit_set = crate::digest::DigestSet::new();
    commit_set
        .insert_raw("gitCommit", &build.commit)
        .map_err(|e| format!("sourceVsa: {e}"))?;
    let mut reasons = Vec::new();
    for ev in evidence {
        if !ev.claims(VSA_V1) {
            continue;
        }
        let statement = match ev.open(policy, &rule.signer_role, 1, &commit_set) {
            Ok((statement, _)) => statement,
            Err(why) => {
                reasons.push(format!(
                    "{}: not signed by role `{}` ({why})",
                    ev.digest(),
                    rule.signer_role
                ));
                continue;
            }
        };
        let report = check_source_vsa(&build, statement, rule);
        match report.first_failure() {
            None => {
                return Ok(Evidence {
                    digest: ev.digest().clone(),
                    predicate_type: VSA_V1.to_owned(),
                });
            }
            Some(check) => {
                reasons.push(format!("{}: {}: {}", ev.digest(), check.name, check.reason))
            }
        }
    }
    Err(if reasons.is_empty() {
        format!(
            "sourceVsa: no Source VSA for commit {} signed by role `{}` was given",
            build.commit, rule.signer_role
        )
    } else {
        format!("sourceVsa: {}", reasons.join("; "))
    })
}
