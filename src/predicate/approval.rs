//! custodia's approval predicate (`https://custodia.dev/attestation/approval/v1`):
//! a person (or system) with the approver role signs off one artifact
//! digest for one environment.
//!
//! ```json
//! {"environment": "prod", "approvedAt": "2024-05-01T10:00:00Z", "comment": "CAB-1234"}
//! ```
//!
//! Who approved is decided by the signing key (its identity in the
//! policy), never by a field of the predicate.

use serde::{Deserialize, Serialize};

use crate::statement::Predicate;
use crate::time::Timestamp;

/// Predicate type of custodia approvals.
pub const APPROVAL_V1: &str = "https://custodia.dev/attestation/approval/v1";

/// An approval of the statement's subject for one environment.
///
/// ```
/// use custodia::predicate::approval::Approval;
/// use custodia::time::Timestamp;
/// let a = Approval::new("prod", Timestamp::from_unix(0));
/// let json = serde_json::to_string(&a)?;
/// assert_eq!(json, r#"{"environment":"prod","approvedAt":"1970-01-01T00:00:00Z"}"#);
/// assert_eq!(serde_json::from_str::<Approval>(&json)?, a);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Approval {
    /// The environment the subject may be promoted into.
    pub environment: String,
    /// When the approval was given.
    pub approved_at: Timestamp,
    /// A ticket, change number or note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl Approval {
    /// An approval for `environment` at `approved_at`.
    pub fn new(environment: impl Into<String>, approved_at: Timestamp) -> Self {
        Self {
            environment: environment.into(),
            approved_at,
            comment: None,
        }
    }
}

impl Predicate for Approval {
    const PREDICATE_TYPE: &'static str = APPROVAL_V1;
}
