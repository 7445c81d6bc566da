//! Vulnerability scanner reports: Trivy JSON (SchemaVersion 2), Grype
//! JSON, OSV-Scanner JSON, cargo-audit JSON and SARIF 2.1.0, read into one
//! model ([`ScanReport`]) of findings, one per (vulnerability, package) as
//! the tool lists them.
//!
//! Each finding keeps the tool's own severity word verbatim
//! (`tool_severity`) and a normalized [`Severity`] only where the tool
//! states one: Trivy's and Grype's severity, OSV's `database_specific`
//! severity, a CVSS v3 base score computed from cargo-audit's vector, SARIF's
//! `security-severity`. Where the tool states none the severity is `None`,
//! and a gate counts it as its policy says (by default: too high), never
//! as low.

use serde::Deserialize;
use serde_json::Value;

use super::Source;
use crate::error::{Error, EvidenceError};
use crate::predicate::vulns::Severity;

/// Which tool wrote a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ScanFormat {
    /// `trivy --format json`.
    Trivy,
    /// `grype -o json`.
    Grype,
    /// `osv-scanner --format json`.
    Osv,
    /// `cargo audit --json`.
    CargoAudit,
    /// SARIF 2.1.0 (CodeQL, Semgrep, Trivy, govulncheck, ...).
    Sarif,
}

impl ScanFormat {
    /// The CLI name: `trivy`, `grype`, `osv`, `cargo-audit`, `sarif`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Trivy => "trivy",
            Self::Grype => "grype",
            Self::Osv => "osv",
            Self::CargoAudit => "cargo-audit",
            Self::Sarif => "sarif",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Self::Trivy => "Trivy JSON",
            Self::Grype => "Grype JSON",
            Self::Osv => "OSV-Scanner JSON",
            Self::CargoAudit => "cargo-audit JSON",
            Self::Sarif => "SARIF",
        }
    }
}

impl std::str::FromStr for ScanFormat {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Ok(match s {
            "trivy" => Self::Trivy,
            "grype" => Self::Grype,
            "osv" | "osv-scanner" => Self::Osv,
            "cargo-audit" => Self::CargoAudit,
            "sarif" => Self::Sarif,
            other => {
                return Err(EvidenceError::UnknownFormat(format!(
                    "`{}` (expected trivy, grype, osv, cargo-audit or sarif)",
                    crate::digest::shorten(other)
                ))
                .into());
            }
        })
    }
}

/// The scanner, as the report names it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScannerInfo {
    /// Tool name (`trivy`, `grype`, `osv-scanner`, `cargo-audit`, or the
    /// SARIF driver's name).
    pub name: String,
    /// Its version, where the report states it.
    pub version: Option<String>,
    /// The vulnerability database's version (a commit, a schema, a build).
    pub database_version: Option<String>,
    /// When the database was last updated, verbatim.
    pub database_updated: Option<String>,
}

/// One finding: a vulnerability in a package, as the tool lists it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Finding {
    /// The vulnerability id (CVE, GHSA, RUSTSEC, GO-, OSV id, SARIF rule id).
    pub id: String,
    /// Other ids of the same vulnerability, where the tool lists them.
    pub aliases: Vec<String>,
    /// The tool's own severity wording, verbatim (`None`: it states none).
    pub tool_severity: Option<String>,
    /// Normalized severity; `None` when the tool states none.
    pub severity: Option<Severity>,
    /// CVSS vectors or scores as `(method, value)`.
    pub scores: Vec<(String, String)>,
    /// Package name.
    pub package: Option<String>,
    /// Installed version.
    pub version: Option<String>,
    /// Package URL.
    pub purl: Option<String>,
    /// Fixed version(s), verbatim.
    pub fixed_version: Option<String>,
    /// The tool's fix status (`fixed`, `wont-fix`, ...), verbatim.
    pub status: Option<String>,
    /// Where: a Trivy target, an OSV source path, a SARIF `uri:line`.
    pub location: Option<String>,
    /// The package's ecosystem or type (OSV `ecosystem`, Grype artifact `type`).
    pub ecosystem: Option<String>,
    /// The database namespace that matched (Grype).
    pub namespace: Option<String>,
}

impl Finding {
    /// Whether `id` names this finding (its id or an alias).
    pub fn is_named(&self, id: &str) -> bool {
        self.id == id || self.aliases.iter().any(|a| a == id)
    }
}

/// A finding the tool itself reports as suppressed (Trivy's
/// `ExperimentalModifiedFindings`): kept for the record, never counted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SuppressedFinding {
    /// The finding.
    pub finding: Finding,
    /// The status that suppressed it (`not_affected`, ...).
    pub status: String,
    /// The statement or justification given.
    pub statement: Option<String>,
    /// Where the suppression came from (a VEX file, an ignore file).
    pub source: Option<String>,
}

/// A scanner report, read.
///
/// ```
/// use custodia::evidence::scan::{ScanReport, ScanFormat};
/// use custodia::predicate::vulns::Severity;
/// let json = br#"{"SchemaVersion":2,"ArtifactName":"app","ArtifactType":"filesystem","Results":[
///   {"Target":"Cargo.lock","Vulnerabilities":[{"VulnerabilityID":"CVE-2024-1","PkgName":"openssl",
///    "InstalledVersion":"0.10.1","Severity":"CRITICAL"}]}]}"#;
/// let scan = ScanReport::from_slice(json, None)?; // detected as Trivy
/// assert_eq!(scan.format(), ScanFormat::Trivy);
/// assert_eq!(scan.findings()[0].severity, Some(Severity::Critical));
/// assert!(ScanReport::from_slice(br#"{"hello":1}"#, None).is_err());
/// # Ok::<(), custodia::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanReport {
    format: ScanFormat,
    source: Source,
    scanner: ScannerInfo,
    created: Option<String>,
    artifact: Option<String>,
    artifact_type: Option<String>,
    findings: Vec<Finding>,
    suppressed: Vec<SuppressedFinding>,
}

impl ScanReport {
    /// Reads a report in `format`, or detects the format when `None`.
    pub fn from_slice(bytes: &[u8], format: Option<ScanFormat>) -> Result<Self, Error> {
        let format = match format {
            Some(f) => f,
            None => detect(bytes)?,
        };
        let source = Source::of_bytes(bytes);
        let (scanner, created, (artifact, artifact_type), findings, suppressed) = match format {
            ScanFormat::Trivy => read_trivy(bytes)?,
            ScanFormat::Grype => read_grype(bytes)?,
            ScanFormat::Osv => read_osv(bytes)?,
            ScanFormat::CargoAudit => read_cargo_audit(bytes)?,
            ScanFormat::Sarif => {
                let log = SarifLog::from_slice(bytes)?;
                let (scanner, findings) = log.to_findings();
                (scanner, None, (None, None), findings, Vec::new())
            }
        };
        Ok(Self {
            format,
            source,
            scanner,
            created,
            artifact,
            artifact_type,
            findings,
            suppressed,
        })
    }

    /// Which tool wrote it.
    pub fn format(&self) -> ScanFormat {
        self.format
    }

    /// The input's digest and size.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The scanner and its database.
    pub fn scanner(&self) -> &ScannerInfo {
        &self.scanner
    }

    /// When the report says the scan ran (Trivy `CreatedAt`, Grype
    /// `descriptor.timestamp`), verbatim.
    pub fn created(&self) -> Option<&str> {
        self.created.as_deref()
    }

    /// What was scanned, as the report names it.
    pub fn artifact(&self) -> Option<&str> {
        self.artifact.as_deref()
    }

    /// What kind of thing was scanned (Trivy `ArtifactType`, Grype
    /// `source.type`).
    pub fn artifact_type(&self) -> Option<&str> {
        self.artifact_type.as_deref()
    }

    /// Open findings.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// Findings the tool reports as suppressed (not counted).
    pub fn suppressed(&self) -> &[SuppressedFinding] {
        &self.suppressed
    }
}

type Parts = (
    ScannerInfo,
    Option<String>,
    (Option<String>, Option<String>),
    Vec<Finding>,
    Vec<SuppressedFinding>,
);

/// Recognises a report by its top-level members.
pub fn detect(bytes: &[u8]) -> Result<ScanFormat, Error> {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(rename = "SchemaVersion")]
        schema_version: Option<Value>,
        matches: Option<serde::de::IgnoredAny>,
        descriptor: Option<serde::de::IgnoredAny>,
        results: Option<serde::de::IgnoredAny>,
        vulnerabilities: Option<serde::de::IgnoredAny>,
        lockfile: Option<serde::de::IgnoredAny>,
        runs: Option<serde::de::IgnoredAny>,
        version: Option<Value>,
    }
    let p: Probe = crate::json::from_slice(bytes, "scanner report")?;
    Ok(if p.schema_version.is_some() {
        ScanFormat::Trivy
    } else if p.matches.is_some() && p.descriptor.is_some() {
        ScanFormat::Grype
    } else if p.runs.is_some() && p.version.is_some() {
        ScanFormat::Sarif
    } else if p.vulnerabilities.is_some() && p.lockfile.is_some() {
        ScanFormat::CargoAudit
    } else if p.results.is_some() {
        ScanFormat::Osv
    } else {
        return Err(EvidenceError::UnknownFormat(
            "not Trivy, Grype, OSV-Scanner, cargo-audit or SARIF JSON".to_owned(),
        )
        .into());
    })
}

fn invalid(format: ScanFormat, path: String, reason: impl Into<String>) -> Error {
    EvidenceError::Invalid {
        format: format.what(),
        path,
        reason: reason.into(),
    }
    .into()
}

fn severity_of(word: Option<&str>) -> Option<Severity> {
    word.and_then(Severity::from_score)
        .filter(|_| !word.is_some_and(|w| w.eq_ignore_ascii_case("unknown")))
}

// ---- Trivy ----

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TrivyReport {
    schema_version: u32,
    created_at: Option<String>,
    artifact_name: Option<String>,
    artifact_type: Option<String>,
    trivy: Option<TrivyTool>,
    results: Option<Vec<TrivyResult>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TrivyTool {
    version: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TrivyResult {
    target: String,
    vulnerabilities: Option<Vec<TrivyVulnerability>>,
    experimental_modified_findings: Option<Vec<TrivyModified>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TrivyVulnerability {
    #[serde(rename = "VulnerabilityID")]
    vulnerability_id: String,
    pkg_name: Option<String>,
    pkg_identifier: Option<TrivyIdentifier>,
    installed_version: Option<String>,
    fixed_version: Option<String>,
    status: Option<String>,
    severity: Option<String>,
    #[serde(rename = "CVSS")]
    cvss: Option<std::collections::BTreeMap<String, TrivyCvss>>,
}

#[derive(Deserialize)]
struct TrivyIdentifier {
    #[serde(rename = "PURL")]
    purl: Option<String>,
}

#[derive(Deserialize)]
struct TrivyCvss {
    #[serde(rename = "V3Vector")]
    v3_vector: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TrivyModified {
    status: String,
    statement: Option<String>,
    source: Option<String>,
    finding: Option<TrivyVulnerability>,
}

impl TrivyVulnerability {
    fn into_finding(self, target: &str) -> Finding {
        let scores = self
            .cvss
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(source, c)| c.v3_vector.map(|v| (source, v)))
            .collect();
        Finding {
            severity: severity_of(self.severity.as_deref()),
            id: self.vulnerability_id,
            aliases: Vec::new(),
            tool_severity: self.severity,
            scores,
            package: self.pkg_name,
            version: self.installed_version,
            purl: self.pkg_identifier.and_then(|p| p.purl),
            fixed_version: self.fixed_version,
            status: self.status,
            location: Some(target.to_owned()),
            ecosystem: None,
            namespace: None,
        }
    }
}

fn read_trivy(bytes: &[u8]) -> Result<Parts, Error> {
    let r: TrivyReport = crate::json::from_slice(bytes, "Trivy JSON")?;
    if r.schema_version != 2 {
        return Err(invalid(
            ScanFormat::Trivy,
            "SchemaVersion".to_owned(),
            format!("version {} is not supported (expected 2)", r.schema_version),
        ));
    }
    let mut findings = Vec::new();
    let mut suppressed = Vec::new();
    for (i, result) in r.results.unwrap_or_default().into_iter().enumerate() {
        for v in result.vulnerabilities.unwrap_or_default() {
            findings.push(v.into_finding(&result.target));
        }
        for (j, m) in result
            .experimental_modified_findings
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            let Some(v) = m.finding else {
                return Err(invalid(
                    ScanFormat::Trivy,
                    format!("Results[{i}].ExperimentalModifiedFindings[{j}]"),
                    "a modified finding needs its Finding",
                ));
            };
            suppressed.push(SuppressedFinding {
                finding: v.into_finding(&result.target),
                status: m.status,
                statement: m.statement,
                source: m.source,
            });
        }
    }
    let scanner = ScannerInfo {
        name: "trivy".to_owned(),
        version: r.trivy.and_then(|t| t.version),
        database_version: None,
        database_updated: None,
    };
    Ok((
        scanner,
        r.created_at,
        (r.artifact_name, r.artifact_type),
        findings,
        suppressed,
    ))
}

// ---- Grype ----

#[derive(Deserialize)]
struct GrypeReport {
    matches: Vec<GrypeMatch>,
    descriptor: GrypeDescriptor,
    source: Option<GrypeSource>,
}

#[derive(Deserialize)]
struct GrypeSource {
    #[serde(rename = "type")]
    kind: Option<String>,
    target: Option<Value>,
}

#[derive(Deserialize)]
struct GrypeDescriptor {
    name: String,
    version: Option<String>,
    timestamp: Option<String>,
    db: Option<GrypeDb>,
}

#[derive(Deserialize)]
struct GrypeDb {
    built: Option<String>,
    #[serde(rename = "schemaVersion")]
    schema_version: Option<Value>,
    status: Option<GrypeDbStatus>,
}

#[derive(Deserialize)]
struct GrypeDbStatus {
    built: Option<String>,
    #[serde(rename = "schemaVersion")]
    schema_version: Option<Value>,
}

#[derive(Deserialize)]
struct GrypeMatch {
    vulnerability: GrypeVulnerability,
    #[serde(rename = "relatedVulnerabilities")]
    related: Option<Vec<GrypeRelated>>,
    artifact: GrypeArtifact,
}

#[derive(Deserialize)]
struct GrypeVulnerability {
    id: String,
    namespace: Option<String>,
    severity: Option<String>,
    cvss: Option<Vec<GrypeCvss>>,
    fix: Option<GrypeFix>,
}

#[derive(Deserialize)]
struct GrypeCvss {
    vector: Option<String>,
    version: Option<String>,
}

#[derive(Deserialize)]
struct GrypeFix {
    versions: Option<Vec<String>>,
    state: Option<String>,
}

#[derive(Deserialize)]
struct GrypeRelated {
    id: String,
}

#[derive(Deserialize)]
struct GrypeArtifact {
    name: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    version: Option<String>,
    purl: Option<String>,
}

fn read_grype(bytes: &[u8]) -> Result<Parts, Error> {
    let r: GrypeReport = crate::json::from_slice(bytes, "Grype JSON")?;
    let findings = r
        .matches
        .into_iter()
        .map(|m| {
            let v = m.vulnerability;
            let fix = v.fix.unwrap_or(GrypeFix {
                versions: None,
                state: None,
            });
            Finding {
                severity: severity_of(v.severity.as_deref()),
                aliases: m
                    .related
                    .unwrap_or_default()
                    .into_iter()
                    .map(|r| r.id)
                    .collect(),
                id: v.id,
                namespace: v.namespace,
                ecosystem: m.artifact.kind,
                tool_severity: v.severity,
                scores: v
                    .cvss
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|c| {
                        c.vector
                            .map(|vec| (format!("cvss{}", c.version.unwrap_or_default()), vec))
                    })
                    .collect(),
                package: Some(m.artifact.name),
                version: m.artifact.version,
                purl: m.artifact.purl.filter(|p| !p.is_empty()),
                fixed_version: fix.versions.filter(|v| !v.is_empty()).map(|v| v.join(", ")),
                status: fix.state,
                location: None,
            }
        })
        .collect();
    let db = r.descriptor.db;
    let (built, schema) = match db {
        Some(db) => {
            let status = db.status;
            let built = db
                .built
                .or_else(|| status.as_ref().and_then(|s| s.built.clone()));
            let schema = db
                .schema_version
                .or_else(|| status.and_then(|s| s.schema_version));
            (
                built,
                schema.map(|v| v.to_string().trim_matches('"').to_owned()),
            )
        }
        None => (None, None),
    };
    let (kind, target) = r.source.map_or((None, None), |s| (s.kind, s.target));
    let artifact = target.and_then(|t| match t {
        Value::String(s) => Some(s),
        Value::Object(o) => o
            .get("userInput")
            .and_then(Value::as_str)
            .map(str::to_owned),
        _ => None,
    });
    let scanner = ScannerInfo {
        name: r.descriptor.name,
        version: r.descriptor.version,
        database_version: schema,
        database_updated: built,
    };
    Ok((
        scanner,
        r.descriptor.timestamp,
        (artifact, kind),
        findings,
        Vec::new(),
    ))
}

// ---- OSV-Scanner ----

#[derive(Deserialize)]
struct OsvReport {
    results: Vec<OsvResult>,
}

#[derive(Deserialize)]
struct OsvResult {
    source: OsvSource,
    packages: Option<Vec<OsvPackage>>,
}

#[derive(Deserialize)]
struct OsvSource {
    path: String,
}

#[derive(Deserialize)]
struct OsvPackage {
    package: OsvPackageInfo,
    vulnerabilities: Option<Vec<OsvVulnerability>>,
}

#[derive(Deserialize)]
struct OsvPackageInfo {
    name: String,
    version: Option<String>,
    ecosystem: Option<String>,
}

#[derive(Deserialize)]
struct OsvVulnerability {
    id: String,
    aliases: Option<Vec<String>>,
    severity: Option<Vec<OsvSeverity>>,
    database_specific: Option<OsvDatabaseSpecific>,
}

#[derive(Deserialize)]
struct OsvSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Deserialize)]
struct OsvDatabaseSpecific {
    severity: Option<Value>,
}

fn read_osv(bytes: &[u8]) -> Result<Parts, Error> {
    let r: OsvReport = crate::json::from_slice(bytes, "OSV-Scanner JSON")?;
    let mut findings = Vec::new();
    for result in r.results {
        for p in result.packages.unwrap_or_default() {
            for v in p.vulnerabilities.unwrap_or_default() {
                let scores: Vec<(String, String)> = v
                    .severity
                    .unwrap_or_default()
                    .into_iter()
                    .map(|s| (s.kind, s.score))
                    .collect();
                let db_severity = v
                    .database_specific
                    .and_then(|d| d.severity)
                    .and_then(|s| s.as_str().map(str::to_owned));
                let computed = scores
                    .iter()
                    .filter_map(|(_, vector)| Severity::from_score(vector))
                    .max();
                findings.push(Finding {
                    id: v.id,
                    aliases: v.aliases.unwrap_or_default(),
                    severity: computed.or_else(|| severity_of(db_severity.as_deref())),
                    tool_severity: db_severity,
                    scores,
                    package: Some(p.package.name.clone()),
                    version: p.package.version.clone(),
                    purl: osv_purl(&p.package),
                    fixed_version: None,
                    status: None,
                    location: Some(result.source.path.clone()),
                    ecosystem: p.package.ecosystem.clone(),
                    namespace: None,
                });
            }
        }
    }
    let scanner = ScannerInfo {
        name: "osv-scanner".to_owned(),
        version: None,
        database_version: None,
        database_updated: None,
    };
    Ok((scanner, None, (None, None), findings, Vec::new()))
}

/// The purl of an OSV package in the ecosystems whose purl type is known.
fn osv_purl(p: &OsvPackageInfo) -> Option<String> {
    let kind = match p.ecosystem.as_deref()? {
        "crates.io" => "cargo",
        "Go" => "golang",
        "npm" => "npm",
        "PyPI" => "pypi",
        "Maven" => "maven",
        "RubyGems" => "gem",
        "NuGet" => "nuget",
        _ => return None,
    };
    let name = if kind == "maven" {
        p.name.replacen(':', "/", 1)
    } else {
        p.name.clone()
    };
    Some(match &p.version {
        Some(v) => format!("pkg:{kind}/{name}@{v}"),
        None => format!("pkg:{kind}/{name}"),
    })
}

// ---- cargo-audit ----

#[derive(Deserialize)]
struct AuditReport {
    database: Option<AuditDatabase>,
    vulnerabilities: AuditVulnerabilities,
}

#[derive(Deserialize)]
struct AuditDatabase {
    #[serde(rename = "last-commit")]
    last_commit: Option<String>,
    #[serde(rename = "last-updated")]
    last_updated: Option<String>,
}

#[derive(Deserialize)]
struct AuditVulnerabilities {
    found: bool,
    count: u64,
    list: Vec<AuditVulnerability>,
}

#[derive(Deserialize)]
struct AuditVulnerability {
    advisory: AuditAdvisory,
    package: AuditPackage,
    versions: Option<AuditVersions>,
}

#[derive(Deserialize)]
struct AuditAdvisory {
    id: String,
    aliases: Option<Vec<String>>,
    cvss: Option<String>,
}

#[derive(Deserialize)]
struct AuditVersions {
    patched: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct AuditPackage {
    name: String,
    version: String,
}

fn read_cargo_audit(bytes: &[u8]) -> Result<Parts, Error> {
    let r: AuditReport = crate::json::from_slice(bytes, "cargo-audit JSON")?;
    let v = r.vulnerabilities;
    if v.count != v.list.len() as u64 || v.found == v.list.is_empty() {
        return Err(invalid(
            ScanFormat::CargoAudit,
            "vulnerabilities".to_owned(),
            format!(
                "count {} and found {} disagree with the {} listed",
                v.count,
                v.found,
                v.list.len()
            ),
        ));
    }
    let findings = v
        .list
        .into_iter()
        .map(|item| {
            let cvss = item.advisory.cvss;
            Finding {
                severity: cvss.as_deref().and_then(Severity::from_score),
                id: item.advisory.id,
                aliases: item.advisory.aliases.unwrap_or_default(),
                tool_severity: None,
                scores: cvss.into_iter().map(|c| ("CVSS".to_owned(), c)).collect(),
                purl: Some(format!(
                    "pkg:cargo/{}@{}",
                    item.package.name, item.package.version
                )),
                package: Some(item.package.name),
                version: Some(item.package.version),
                fixed_version: item
                    .versions
                    .and_then(|v| v.patched)
                    .filter(|p| !p.is_empty())
                    .map(|p| p.join(", ")),
                status: None,
                location: None,
                ecosystem: Some("crates.io".to_owned()),
                namespace: None,
            }
        })
        .collect();
    let db = r.database;
    let scanner = ScannerInfo {
        name: "cargo-audit".to_owned(),
        version: None,
        database_version: db.as_ref().and_then(|d| d.last_commit.clone()),
        database_updated: db.and_then(|d| d.last_updated),
    };
    Ok((scanner, None, (None, None), findings, Vec::new()))
}

// ---- SARIF 2.1.0 ----

/// A SARIF 2.1.0 log: runs and their results, with each result's
/// effective level per SARIF §3.27.10.
///
/// ```
/// use custodia::evidence::scan::SarifLog;
/// let log = SarifLog::from_slice(br#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"semgrep",
///   "rules":[{"id":"r1","defaultConfiguration":{"level":"note"}}]}},
///   "results":[{"ruleId":"r1","message":{"text":"m"}}]}]}"#)?;
/// assert_eq!(log.runs()[0].results[0].effective_level, "note");
/// # Ok::<(), custodia::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SarifLog {
    runs: Vec<SarifRun>,
}

/// One run of one tool.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SarifRun {
    /// `tool.driver.name`.
    pub tool: String,
    /// `tool.driver.version` (or `semanticVersion`).
    pub tool_version: Option<String>,
    /// Number of rules the driver declares.
    pub rule_count: usize,
    /// The results.
    pub results: Vec<SarifResult>,
}

/// One result.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SarifResult {
    /// `ruleId` (or the rule's id through `rule.index`/`ruleIndex`).
    pub rule_id: String,
    /// `level` as written.
    pub level: Option<String>,
    /// `level`, else the rule's `defaultConfiguration.level`, else
    /// `warning`; `none` when `kind` is not `fail`.
    pub effective_level: String,
    /// `(uri, startLine)` of each physical location.
    pub locations: Vec<(String, Option<u64>)>,
    /// The rule's `properties["security-severity"]`, verbatim.
    pub security_severity: Option<String>,
    /// The rule's `properties["problem.severity"]` (CodeQL), verbatim.
    pub problem_severity: Option<String>,
    /// The tool's own severity wording: the rule's
    /// `properties["problem.severity"]`, else its last tag when that is a
    /// severity word (Trivy).
    pub tool_severity: Option<String>,
    /// The rule's tags that are vulnerability ids (CVE-, GHSA-).
    pub aliases: Vec<String>,
}

#[derive(Deserialize)]
struct WireSarif {
    version: String,
    runs: Vec<WireRun>,
}

#[derive(Deserialize)]
struct WireRun {
    tool: WireTool,
    results: Option<Vec<WireResult>>,
}

#[derive(Deserialize)]
struct WireTool {
    driver: WireDriver,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireDriver {
    name: String,
    version: Option<String>,
    semantic_version: Option<String>,
    rules: Option<Vec<WireRule>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireRule {
    id: String,
    default_configuration: Option<WireConfiguration>,
    properties: Option<serde_json::Map<String, Value>>,
}

#[derive(Deserialize)]
struct WireConfiguration {
    level: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireResult {
    rule_id: Option<String>,
    rule_index: Option<usize>,
    rule: Option<WireRuleRef>,
    level: Option<String>,
    kind: Option<String>,
    locations: Option<Vec<WireLocation>>,
}

#[derive(Deserialize)]
struct WireRuleRef {
    id: Option<String>,
    index: Option<usize>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireLocation {
    physical_location: Option<WirePhysical>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePhysical {
    artifact_location: Option<WireArtifactLocation>,
    region: Option<WireRegion>,
}

#[derive(Deserialize)]
struct WireArtifactLocation {
    uri: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireRegion {
    start_line: Option<u64>,
}

const LEVELS: [&str; 4] = ["none", "note", "warning", "error"];

impl SarifLog {
    /// Reads a SARIF 2.1.0 log.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, Error> {
        let wire: WireSarif = crate::json::from_slice(bytes, "SARIF")?;
        if wire.version != "2.1.0" {
            return Err(invalid(
                ScanFormat::Sarif,
                "version".to_owned(),
                format!(
                    "`{}` is not supported (expected 2.1.0)",
                    crate::digest::shorten(&wire.version)
                ),
            ));
        }
        let mut runs = Vec::new();
        for (r, run) in wire.runs.into_iter().enumerate() {
            let rules = run.tool.driver.rules.unwrap_or_default();
            let mut results = Vec::new();
            for (i, res) in run.results.unwrap_or_default().into_iter().enumerate() {
                let path = format!("runs[{r}].results[{i}]");
                let index = res.rule_index.or(res.rule.as_ref().and_then(|x| x.index));
                let by_index = match index {
                    Some(ix) => Some(rules.get(ix).ok_or_else(|| {
                        invalid(
                            ScanFormat::Sarif,
                            path.clone(),
                            format!("ruleIndex {ix} is not one of the {} rules", rules.len()),
                        )
                    })?),
                    None => None,
                };
                let rule_id = res
                    .rule_id
                    .or_else(|| res.rule.and_then(|x| x.id))
                    .or_else(|| by_index.map(|r| r.id.clone()))
                    .ok_or_else(|| {
                        invalid(ScanFormat::Sarif, path.clone(), "a result needs a ruleId")
                    })?;
                let rule = by_index.or_else(|| rules.iter().find(|r| r.id == rule_id));
                for level in [&res.level].into_iter().flatten() {
                    if !LEVELS.contains(&level.as_str()) {
                        return Err(invalid(
                            ScanFormat::Sarif,
                            format!("{path}.level"),
                            format!("`{}` is not a SARIF level", crate::digest::shorten(level)),
                        ));
                    }
                }
                let fails = res.kind.as_deref().is_none_or(|k| k == "fail");
                let effective_level = if !fails {
                    "none".to_owned()
                } else {
                    res.level
                        .clone()
                        .or_else(|| {
                            rule.and_then(|r| r.default_configuration.as_ref())
                                .and_then(|c| c.level.clone())
                        })
                        .unwrap_or_else(|| "warning".to_owned())
                };
                let props = rule.and_then(|r| r.properties.as_ref());
                let prop_str = |key: &str| {
                    props.and_then(|p| p.get(key)).and_then(|v| match v {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
                };
                let tags: Vec<String> = props
                    .and_then(|p| p.get("tags"))
                    .and_then(Value::as_array)
                    .map(|t| {
                        t.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                let severity_tag = tags.last().filter(|t| {
                    matches!(
                        t.as_str(),
                        "CRITICAL" | "HIGH" | "MEDIUM" | "LOW" | "UNKNOWN"
                    )
                });
                let tool_severity = prop_str("problem.severity").or_else(|| severity_tag.cloned());
                results.push(SarifResult {
                    rule_id,
                    level: res.level,
                    effective_level,
                    locations: res
                        .locations
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|l| l.physical_location)
                        .filter_map(|p| {
                            let uri = p.artifact_location.and_then(|a| a.uri)?;
                            Some((uri, p.region.and_then(|r| r.start_line)))
                        })
                        .collect(),
                    security_severity: prop_str("security-severity"),
                    problem_severity: prop_str("problem.severity"),
                    tool_severity,
                    aliases: tags
                        .iter()
                        .filter(|t| t.starts_with("CVE-") || t.starts_with("GHSA-"))
                        .cloned()
                        .collect(),
                });
            }
            runs.push(SarifRun {
                tool: run.tool.driver.name,
                tool_version: run.tool.driver.version.or(run.tool.driver.semantic_version),
                rule_count: rules.len(),
                results,
            });
        }
        Ok(Self { runs })
    }

    /// The runs.
    pub fn runs(&self) -> &[SarifRun] {
        &self.runs
    }

    /// Findings: one per result with `kind` `fail`, severity from
    /// `security-severity` (a CVSS score) where the rule gives one.
    fn to_findings(&self) -> (ScannerInfo, Vec<Finding>) {
        let mut findings = Vec::new();
        for run in &self.runs {
            for r in &run.results {
                if r.effective_level == "none" {
                    continue;
                }
                findings.push(Finding {
                    id: r.rule_id.clone(),
                    aliases: r.aliases.clone(),
                    tool_severity: r.tool_severity.clone(),
                    severity: r
                        .security_severity
                        .as_deref()
                        .and_then(Severity::from_score),
                    scores: r
                        .security_severity
                        .iter()
                        .map(|s| ("security-severity".to_owned(), s.clone()))
                        .chain(std::iter::once((
                            "sarif-level".to_owned(),
                            r.effective_level.clone(),
                        )))
                        .collect(),
                    location: r.locations.first().map(|(uri, line)| match line {
                        Some(l) => format!("{uri}:{l}"),
                        None => uri.clone(),
                    }),
                    ..Finding::default()
                });
            }
        }
        let first = self.runs.first();
        let scanner = ScannerInfo {
            name: first.map_or_else(|| "sarif".to_owned(), |r| r.tool.clone()),
            version: first.and_then(|r| r.tool_version.clone()),
            database_version: None,
            database_updated: None,
        };
        (scanner, findings)
    }
}
