//! The in-toto Vulnerabilities predicate
//! (`https://in-toto.io/attestation/vulns/v0.2`; v0.1 is read too), and
//! severities: words, CVSS scores and CVSS v3.x vectors.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Error;
use crate::resource::ResourceDescriptor;
use crate::statement::{Predicate, Statement};
use crate::time::Timestamp;

/// Predicate type of in-toto vulnerability reports v0.1 (read only).
pub const VULNS_V0_1: &str = "https://in-toto.io/attestation/vulns/v0.1";

/// Predicate type of in-toto vulnerability reports v0.2, what custodia writes.
pub const VULNS_V0_2: &str = "https://in-toto.io/attestation/vulns/v0.2";

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
    /// Reads a score: a word (`low`, `MODERATE`, `critical`, ...), a CVSS
    /// number, or a CVSS v3.0/v3.1 vector (its base score is computed).
    /// `None` when it is none of these (a CVSS 4.0 vector, `unknown`).
    ///
    /// ```
    /// use custodia::predicate::vulns::Severity;
    /// assert_eq!(Severity::from_score("MODERATE"), Some(Severity::Medium));
    /// assert_eq!(Severity::from_score("9.8"), Some(Severity::Critical));
    /// // CVE-2021-44228 (log4shell): base score 10.0.
    /// assert_eq!(Severity::from_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"), Some(Severity::Critical));
    /// assert_eq!(Severity::from_score("unknown"), None);
    /// ```
    pub fn from_score(score: &str) -> Option<Self> {
        let word = score.trim().to_ascii_lowercase();
        match word.as_str() {
            "none" | "negligible" | "info" | "informational" => Some(Self::None),
            "low" => Some(Self::Low),
            "medium" | "moderate" => Some(Self::Medium),
            "high" | "important" => Some(Self::High),
            "critical" => Some(Self::Critical),
            _ => {
                let cvss: f64 = match word.parse() {
                    Ok(v) => v,
                    Err(_) => cvss3_base_score(score.trim())?,
                };
                Self::from_cvss(cvss)
            }
        }
    }

    /// The qualitative rating of a CVSS score (0.0-10.0).
    pub fn from_cvss(score: f64) -> Option<Self> {
        if !(0.0..=10.0).contains(&score) {
            return None;
        }
        Some(match score {
            v if v >= 9.0 => Self::Critical,
            v if v >= 7.0 => Self::High,
            v if v >= 4.0 => Self::Medium,
            v if v > 0.0 => Self::Low,
            _ => Self::None,
        })
    }
}

impl std::str::FromStr for Severity {
    type Err = Error;
    /// `none`, `low`, `medium`, `high` or `critical` (any case).
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(Self::None),
            "low" => Ok(Self::Low),
            "medium" => Ok(Self::Medium),
            "high" => Ok(Self::High),
            "critical" => Ok(Self::Critical),
            _ => Err(crate::error::PredicateError::Invalid {
                path: "severity".to_owned(),
                reason: format!(
                    "`{}` is not none, low, medium, high or critical",
                    crate::digest::shorten(s)
                ),
            }
            .into()),
        }
    }
}

/// The CVSS v3.0/v3.1 base score of a vector (`CVSS:3.1/AV:N/...`), per
/// the specification's equations (section 7.1 and Appendix A's Roundup).
/// `None` if the vector is not a complete, well-formed v3 base vector.
pub fn cvss3_base_score(vector: &str) -> Option<f64> {
    let rest = vector
        .strip_prefix("CVSS:3.1/")
        .or_else(|| vector.strip_prefix("CVSS:3.0/"))?;
    let mut m: BTreeMap<&str, &str> = BTreeMap::new();
    for part in rest.split('/') {
        let (k, v) = part.split_once(':')?;
        if m.insert(k, v).is_some() {
            return None;
        }
    }
    let get = |k: &str| m.get(k).copied();
    let changed = match get("S")? {
        "U" => false,
        "C" => true,
        _ => return None,
    };
    let av = match get("AV")? {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        "P" => 0.2,
        _ => return None,
    };
    let ac = match get("AC")? {
        "L" => 0.77,
        "H" => 0.44,
        _ => return None,
    };
    let pr = match (get("PR")?, changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        ("H", false) => 0.27,
        ("H", true) => 0.5,
        _ => return None,
    };
    let ui = match get("UI")? {
        "N" => 0.85,
        "R" => 0.62,
        _ => return None,
    };
    let cia = |k: &str| match get(k)? {
        "H" => Some(0.56),
        "L" => Some(0.22),
        "N" => Some(0.0),
        _ => None,
    };
    let iss = 1.0 - (1.0 - cia("C")?) * (1.0 - cia("I")?) * (1.0 - cia("A")?);
    let impact = if changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02_f64).powi(15)
    } else {
        6.42 * iss
    };
    let exploitability = 8.22 * av * ac * pr * ui;
    if impact <= 0.0 {
        return Some(0.0);
    }
    let raw = if changed {
        (1.08 * (impact + exploitability)).min(10.0)
    } else {
        (impact + exploitability).min(10.0)
    };
    Some(roundup(raw))
}

/// CVSS v3.1 Appendix A: the smallest number, to one decimal place, equal
/// to or higher than its input, computed without floating-point surprises.
fn roundup(x: f64) -> f64 {
    let int_input = (x * 100_000.0).round() as i64;
    if int_input % 10_000 == 0 {
        int_input as f64 / 100_000.0
    } else {
        ((int_input / 10_000) + 1) as f64 / 10.0
    }
}

/// A vulnerability report (v0.2; v0.1 documents read the same way).
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
    /// Scan times, and (custodia's addition) the report it was converted from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<ScanMetadata>,
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
    /// The vulnerability database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db: Option<VulnDatabase>,
    /// The findings; empty means none found.
    #[serde(default)]
    pub result: Vec<Finding>,
}

/// `scanner.db`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct VulnDatabase {
    /// The database's identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Its version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// When it was last updated, as the scanner states it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update: Option<String>,
}

/// `metadata`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ScanMetadata {
    /// When the scan started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_started_on: Option<Timestamp>,
    /// When the scan finished: what evidence freshness is judged by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_finished_on: Option<Timestamp>,
    /// The scanner's report this predicate was converted from, by digest
    /// (a custodia addition; other readers ignore it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<ResourceDescriptor>,
}

/// One finding. The spec's example puts `id` and `severity` on the entry;
/// v0.1's field list nests them under `vulnerability`: both are read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Finding {
    /// The vulnerability id (CVE, GHSA, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Severity scores.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<SeverityScore>,
    /// Key/value pairs the scanner adds (custodia: package, version, purl,
    /// aliases, fixedVersion, status, location).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub annotations: Vec<serde_json::Map<String, Value>>,
    /// The nested form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vulnerability: Option<Box<Finding>>,
}

impl Finding {
    /// A finding with an id and scores.
    pub fn new(id: impl Into<String>, severity: Vec<SeverityScore>) -> Self {
        Self {
            id: Some(id.into()),
            severity,
            annotations: Vec::new(),
            vulnerability: None,
        }
    }

    /// The id (or the nested form's).
    pub fn id(&self) -> Option<&str> {
        self.id
            .as_deref()
            .or_else(|| self.vulnerability.as_deref().and_then(|v| v.id.as_deref()))
    }

    /// The highest severity readable from the scores (`None`: unknown).
    pub fn max_severity(&self) -> Option<Severity> {
        self.severity
            .iter()
            .chain(self.vulnerability.iter().flat_map(|v| v.severity.iter()))
            .filter_map(|s| Severity::from_score(&s.score))
            .max()
    }

    /// A string annotation (`package`, `purl`, ...).
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations
            .iter()
            .find_map(|a| a.get(key))
            .and_then(Value::as_str)
    }

    /// The `aliases` annotation (other ids of the same vulnerability).
    pub fn aliases(&self) -> Vec<&str> {
        self.annotations
            .iter()
            .filter_map(|a| a.get("aliases"))
            .filter_map(Value::as_array)
            .flatten()
            .filter_map(Value::as_str)
            .collect()
    }
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

impl SeverityScore {
    /// A score.
    pub fn new(method: impl Into<String>, score: impl Into<String>) -> Self {
        Self {
            method: method.into(),
            score: score.into(),
        }
    }
}

impl VulnerabilityReport {
    /// A report with these findings `(id, severity word)`.
    pub fn new(scanner_uri: impl Into<String>, findings: &[(&str, &str)]) -> Self {
        Self {
            scanner: Scanner {
                uri: scanner_uri.into(),
                version: None,
                db: None,
                result: findings
                    .iter()
                    .map(|(id, score)| {
                        Finding::new(*id, vec![SeverityScore::new("custodia", *score)])
                    })
                    .collect(),
            },
            metadata: None,
        }
    }

    /// A report from its parts.
    pub fn from_parts(scanner: Scanner, metadata: Option<ScanMetadata>) -> Self {
        Self { scanner, metadata }
    }

    /// The predicate of a v0.2 or v0.1 statement.
    pub fn from_statement(statement: &Statement) -> Result<Self, Error> {
        match statement.predicate_type() {
            VULNS_V0_1 | VULNS_V0_2 => statement.predicate_json("vulns predicate"),
            other => Err(crate::error::StatementError::PredicateTypeMismatch {
                expected: VULNS_V0_2.to_owned(),
                found: other.to_owned(),
            }
            .into()),
        }
    }

    /// Each finding's id and its highest readable severity (`None` when no
    /// score could be read: treat it as unknown, never as harmless).
    pub fn findings(&self) -> Vec<(String, Option<Severity>)> {
        self.scanner
            .result
            .iter()
            .map(|f| (f.id().unwrap_or("(no id)").to_owned(), f.max_severity()))
            .collect()
    }
}

impl Scanner {
    /// A scanner with its findings.
    pub fn new(
        uri: impl Into<String>,
        version: Option<String>,
        db: Option<VulnDatabase>,
        result: Vec<Finding>,
    ) -> Self {
        Self {
            uri: uri.into(),
            version,
            db,
            result,
        }
    }
}

impl Predicate for VulnerabilityReport {
    const PREDICATE_TYPE: &'static str = VULNS_V0_2;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Base scores from NVD for well-known CVEs.
    #[test]
    fn cvss3_base_scores_match_nvd() {
        for (vector, score) in [
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0), // CVE-2021-44228
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5), // CVE-2017-20165
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N", 7.5),
            ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L", 5.3),
            ("CVSS:3.1/AV:N/AC:H/PR:H/UI:R/S:U/C:L/I:L/A:L", 3.9),
            ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8),
            ("CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N", 5.4),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
        ] {
            assert_eq!(cvss3_base_score(vector), Some(score), "{vector}");
        }
        for bad in [
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
            "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        ] {
            assert_eq!(cvss3_base_score(bad), None, "{bad}");
        }
    }
}
