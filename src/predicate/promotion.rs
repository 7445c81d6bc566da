//! custodia's promotion record (`https://custodia.dev/attestation/promotion/v1`)
//! and incident record (`https://custodia.dev/attestation/incident/v1`).
//!
//! A promotion record's subject is the artifact digest. It names the
//! environments, the time and kind, the envelopes that satisfied the gate,
//! the policy, and two links: the previous promotion into the same
//! environment (so each environment's history is a hash-linked chain) and
//! the promotion that brought the artifact into the source environment (so
//! the same digest can be followed from its first environment to the last).
//!
//! ```json
//! {"environment": "prod", "from": "staging", "kind": "promotion",
//!  "time": "2024-05-01T10:00:00Z",
//!  "evidence": [{"digest": "sha256:…", "predicateType": "https://slsa.dev/provenance/v1"}],
//!  "policy": "sha256:…", "previous": "sha256:…", "source": "sha256:…",
//!  "author": "dev@acme.example"}
//! ```

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::statement::Predicate;
use crate::time::Timestamp;

/// Predicate type of custodia promotion records.
pub const PROMOTION_V1: &str = "https://custodia.dev/attestation/promotion/v1";
/// Predicate type of custodia incident records.
pub const INCIDENT_V1: &str = "https://custodia.dev/attestation/incident/v1";

/// Why an artifact entered an environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PromotionKind {
    /// A normal, fully gated promotion.
    Promotion,
    /// A return to an artifact that was already in this environment.
    Rollback,
    /// The policy's emergency path: fewer approvals, a reason, always flagged.
    Emergency,
}

/// One envelope that satisfied the gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// SHA-256 of the envelope's bytes, as stored.
    pub digest: Digest,
    /// The statement's predicate type.
    pub predicate_type: String,
}

/// A promotion record.
///
/// ```
/// use custodia::predicate::promotion::{PromotionRecord, PromotionKind};
/// use custodia::digest::DigestAlgorithm;
/// use custodia::time::Timestamp;
/// let policy = DigestAlgorithm::Sha256.hash(b"policy");
/// let r = PromotionRecord::new("dev", None, PromotionKind::Promotion, Timestamp::from_unix(0), policy);
/// let back: PromotionRecord = serde_json::from_str(&serde_json::to_string(&r)?)?;
/// assert_eq!(back, r);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PromotionRecord {
    /// The environment entered.
    pub environment: String,
    /// The environment the artifact came from (`None` for the first one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Promotion, rollback or emergency.
    pub kind: PromotionKind,
    /// When it happened.
    pub time: Timestamp,
    /// The envelopes that satisfied the gate.
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    /// SHA-256 of the policy (its canonical JSON) that gated it.
    pub policy: Digest,
    /// The previous promotion record into the same environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Digest>,
    /// The record that brought the artifact into `from` (or, for a
    /// rollback, the earlier record that brought it into this environment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Digest>,
    /// The identity of the change's author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// When the change was committed (lead time starts here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_time: Option<Timestamp>,
    /// Why (required for emergencies and rollbacks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl PromotionRecord {
    /// A record with no evidence or links yet.
    pub fn new(
        environment: impl Into<String>,
        from: Option<String>,
        kind: PromotionKind,
        time: Timestamp,
        policy: Digest,
    ) -> Self {
        Self {
            environment: environment.into(),
            from,
            kind,
            time,
            evidence: Vec::new(),
            policy,
            previous: None,
            source: None,
            author: None,
            commit_time: None,
            reason: None,
        }
    }
}

impl Predicate for PromotionRecord {
    const PREDICATE_TYPE: &'static str = PROMOTION_V1;
}

/// A deployment that failed in an environment.
///
/// ```
/// use custodia::predicate::promotion::Incident;
/// use custodia::time::Timestamp;
/// let i = Incident::new("prod", Timestamp::from_unix(100), "5xx spike after deploy");
/// assert!(serde_json::to_string(&i)?.contains(r#""opened":"1970-01-01T00:01:40Z""#));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Incident {
    /// Where it failed.
    pub environment: String,
    /// When the failure was detected.
    pub opened: Timestamp,
    /// When service was restored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved: Option<Timestamp>,
    /// The promotion record that deployed the failing artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion: Option<Digest>,
    /// What happened.
    pub summary: String,
}

impl Incident {
    /// An open incident.
    pub fn new(
        environment: impl Into<String>,
        opened: Timestamp,
        summary: impl Into<String>,
    ) -> Self {
        Self {
            environment: environment.into(),
            opened,
            resolved: None,
            promotion: None,
            summary: summary.into(),
        }
    }
}

impl Predicate for Incident {
    const PREDICATE_TYPE: &'static str = INCIDENT_V1;
}
