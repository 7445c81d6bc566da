//! The in-toto Vulnerabilities predicate (`https://in-toto.io/attestation/vulns/v0.1`),
//! read for its findings' severities.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::statement::Predicate;

/// Predicate type of in-toto vulnerability reports v0.1.
pub const VULNS_V0_1: &str = "https://in-toto.io/attestation/vulns/v0.1";

/// A qualitative severity, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// No risk (CVSS 0.0).
    None,
    /// Low (CVSS 0.1-3.9).
    Low,
    /// Medium (CVSS 4.0-6.9).
    Medium,
    /// High (CVSS 7.0-8.9).
    High,
    /// Critical (CVSS 9.0-10.0).
    Critical,
}

impl Severity {
    /// Reads a score: a word (`low`, `MODERATE`, `critical`, ...) or a CVSS
    /// number. `None` when it is neither.
    pub fn from_score(score: &str) -> Option<Self> {
        let word = score.trim().to_ascii_lowercase();
        match word.as_str() {
            "none" | "negligible" | "info" | "informational" => Some(Self::None),
            "low" => Some(Self::Low),
            "medium" | "moderate" => Some(Self::Medium),
            "high" | "important" => Some(Self::High),
            "critical" => Some(Self::Critical),
            _ => {
                let cvss: f64 = word
                    .parse()
                    .ok()
                    .filter(|v: &f64| (0.0..=10.0).contains(v))?;
                Some(match cvss {
                    v if v >= 9.0 => Self::Critical,
                    v if v >= 7.0 => Self::High,
                    v if v >= 4.0 => Self::Medium,
                    v if v > 0.0 => Self::Low,
                    _ => Self::None,
                })
            }
        }
    }
}

/// A vulnerability report.
///
/// ```
/// use custodia::predicate::vulns::{Severity, VulnerabilityReport};
/// let r: VulnerabilityReport = serde_json::from_str(r#"{"scanner":{"uri":"pkg:github/aquasecurity/trivy","result":[
///   {"id":"CVE-1","severity":[{"method":"nvd","score":"medium"},{"method":"cvss_score","score":"7.5"}]}]}}"#)?;
/// assert_eq!(r.findings()[0].1, Some(Severity::High));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VulnerabilityReport {
    /// The scanner and its results.
    pub scanner: Scanner,
    /// Scan times and other metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

/// `scanner`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Scanner {
    /// The scanner's identity.
    pub uri: String,
    /// The scanner's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The findings; empty means none found.
    #[serde(default)]
    pub result: Vec<Finding>,
}

/// One finding. The spec's example puts `id` and `severity` on the entry;
/// its field list nests them under `vulnerability`: both are read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Finding {
    /// The vulnerability id (CVE, GHSA, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Severity scores.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<SeverityScore>,
    /// The nested form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vulnerability: Option<Box<Finding>>,
}

/// A score by one method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SeverityScore {
    /// The scoring method (`nvd`, `cvss_score`, ...).
    #[serde(default)]
    pub method: String,
    /// The score.
    #[serde(default)]
    pub score: String,
}

impl VulnerabilityReport {
    /// A report with these findings `(id, severity word)`.
    pub fn new(scanner_uri: impl Into<String>, findings: &[(&str, &str)]) -> Self {
        Self {
            scanner: Scanner {
                uri: scanner_uri.into(),
                version: None,
                result: findings
                    .iter()
                    .map(|(id, score)| Finding {
                        id: Some((*id).to_owned()),
                        severity: vec![SeverityScore {
                            method: "custodia".to_owned(),
                            score: (*score).to_owned(),
                        }],
                        vulnerability: None,
                    })
                    .collect(),
            },
            metadata: None,
        }
    }

    /// Each finding's id and its highest readable severity (`None` when no
    /// score could be read: treat it as unknown, never as harmless).
    pub fn findings(&self) -> Vec<(String, Option<Severity>)> {
        self.scanner
            .result
            .iter()
            .map(|f| {
                let inner = f.vulnerability.as_deref();
                let id =
                    f.id.clone()
                        .or_else(|| inner.and_then(|v| v.id.clone()))
                        .unwrap_or_else(|| "(no id)".to_owned());
                let scores = f
                    .severity
                    .iter()
                    .chain(inner.into_iter().flat_map(|v| v.severity.iter()));
                (
                    id,
                    scores.filter_map(|s| Severity::from_score(&s.score)).max(),
                )
            })
            .collect()
    }
}

impl Predicate for VulnerabilityReport {
    const PREDICATE_TYPE: &'static str = VULNS_V0_1;
}
