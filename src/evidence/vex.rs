//! VEX: OpenVEX 0.2.0 (also as the in-toto predicate
//! `https://openvex.dev/ns/v0.2.0`), CycloneDX VEX
//! (`vulnerabilities[].analysis`) and CSAF 2.0 VEX (`product_status`), read
//! into one model of statements: a vulnerability, the products it is about,
//! a status and its justification.
//!
//! Statuses map onto OpenVEX's four: CycloneDX `exploitable` is
//! `affected`, `in_triage` is `under_investigation`, `resolved` and
//! `resolved_with_pedigree` are `fixed`, `not_affected` and
//! `false_positive` are `not_affected` (the mapping Trivy and Grype use);
//! CSAF `known_not_affected` is `not_affected`, `fixed`/`first_fixed` are
//! `fixed`, `known_affected`/`first_affected`/`last_affected` are
//! `affected`, `under_investigation` is itself. The status and
//! justification as written are kept.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Source;
use crate::error::{Error, EvidenceError};
use crate::statement::{Predicate, Statement};
use crate::time::Timestamp;

/// The OpenVEX 0.2.0 context, also its in-toto predicate type.
pub const OPENVEX_V0_2_0: &str = "https://openvex.dev/ns/v0.2.0";

/// Which format a VEX document came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VexFormat {
    /// OpenVEX (JSON-LD, `@context` `https://openvex.dev/ns/...`).
    OpenVex,
    /// CycloneDX with `vulnerabilities[].analysis`.
    CycloneDx,
    /// CSAF 2.0 with category `csaf_vex`.
    Csaf,
}

impl VexFormat {
    fn what(self) -> &'static str {
        match self {
            Self::OpenVex => "OpenVEX",
            Self::CycloneDx => "CycloneDX VEX",
            Self::Csaf => "CSAF VEX",
        }
    }
}

/// OpenVEX's statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum VexStatus {
    /// The product is not affected (needs a justification to suppress).
    NotAffected,
    /// The product is affected.
    Affected,
    /// The product contains a fix.
    Fixed,
    /// Not known yet: suppresses nothing.
    UnderInvestigation,
}

impl VexStatus {
    /// The OpenVEX word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotAffected => "not_affected",
            Self::Affected => "affected",
            Self::Fixed => "fixed",
            Self::UnderInvestigation => "under_investigation",
        }
    }
}

/// A product a statement is about.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct VexProduct {
    /// Its identifier: a purl, a BOM-Link or bom-ref, a CSAF product id.
    pub id: String,
    /// Other identifiers (`purl`, `cpe22`, `cpe23`).
    pub identifiers: BTreeMap<String, String>,
    /// Digests (`sha-256` -> hex, as OpenVEX writes them).
    pub hashes: BTreeMap<String, String>,
    /// The components inside the product the statement is about; empty
    /// means the whole product.
    pub subcomponents: Vec<String>,
}

impl VexProduct {
    /// The product's purl: `identifiers.purl`, else its id if it is one,
    /// else a BOM-Link's purl fragment.
    pub fn purl(&self) -> Option<&str> {
        if let Some(p) = self.identifiers.get("purl") {
            return Some(p);
        }
        if self.id.starts_with("pkg:") {
            return Some(&self.id);
        }
        self.id
            .strip_prefix("urn:cdx:")
            .and_then(|rest| rest.split_once('#'))
            .map(|(_, fragment)| fragment)
            .filter(|f| f.starts_with("pkg:"))
    }
}

/// One VEX statement.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VexStatement {
    /// The vulnerability's name (`CVE-...`, `GHSA-...`, `GO-...`).
    pub vulnerability: String,
    /// Its IRI (`vulnerability.@id`).
    pub vulnerability_iri: Option<String>,
    /// Other names of the vulnerability.
    pub aliases: Vec<String>,
    /// The products.
    pub products: Vec<VexProduct>,
    /// The status, mapped to OpenVEX's.
    pub status: VexStatus,
    /// The status as written (`known_not_affected`, `exploitable`, ...).
    pub status_as_written: String,
    /// The justification as written (OpenVEX justification, CycloneDX
    /// `analysis.justification`, CSAF flag label).
    pub justification: Option<String>,
    /// OpenVEX `impact_statement` / CycloneDX `analysis.detail`.
    pub impact_statement: Option<String>,
    /// CycloneDX `analysis.response`.
    pub responses: Vec<String>,
    /// When the statement was made: its own timestamp, else the
    /// document's.
    pub timestamp: Option<Timestamp>,
}

impl VexStatement {
    /// Whether `id` names this statement's vulnerability (name or alias).
    pub fn names(&self, id: &str) -> bool {
        self.vulnerability == id || self.aliases.iter().any(|a| a == id)
    }

    /// Whether the statement suppresses a finding: `fixed`, or
    /// `not_affected` with a justification.
    pub fn suppresses(&self) -> bool {
        match self.status {
            VexStatus::Fixed => true,
            VexStatus::NotAffected => self.justification.as_deref().is_some_and(|j| !j.is_empty()),
            VexStatus::Affected | VexStatus::UnderInvestigation => false,
        }
    }
}

/// A VEX document, read.
///
/// ```
/// use custodia::evidence::vex::{VexDocument, VexFormat, VexStatus};
/// let doc = VexDocument::from_slice(br#"{"@context":"https://openvex.dev/ns/v0.2.0",
///   "@id":"https://example.com/vex-1","author":"sec","timestamp":"2024-01-01T00:00:00Z","version":1,
///   "statements":[{"vulnerability":{"name":"CVE-2024-1"},"products":[{"@id":"pkg:oci/app@sha256%3Aab"}],
///   "status":"not_affected","justification":"vulnerable_code_not_present"}]}"#, None)?;
/// assert_eq!(doc.format(), VexFormat::OpenVex);
/// assert_eq!(doc.statements()[0].status, VexStatus::NotAffected);
/// assert!(doc.statements()[0].suppresses());
/// # Ok::<(), custodia::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VexDocument {
    format: VexFormat,
    source: Source,
    id: Option<String>,
    author: Option<String>,
    timestamp: Option<Timestamp>,
    statements: Vec<VexStatement>,
}

impl VexDocument {
    /// Reads a document in `format`, or detects it when `None`.
    pub fn from_slice(bytes: &[u8], format: Option<VexFormat>) -> Result<Self, Error> {
        let format = match format {
            Some(f) => f,
            None => detect(bytes)?,
        };
        let mut doc = match format {
            VexFormat::OpenVex => {
                let wire: OpenVexDocument = crate::json::from_slice(bytes, "OpenVEX")?;
                Self::from_openvex(&wire)?
            }
            VexFormat::CycloneDx => read_cyclonedx(bytes)?,
            VexFormat::Csaf => read_csaf(bytes)?,
        };
        doc.source = Source::of_bytes(bytes);
        Ok(doc)
    }

    /// The OpenVEX predicate of an in-toto statement.
    pub fn from_statement(statement: &Statement) -> Result<Self, Error> {
        let wire: OpenVexDocument = statement.predicate_as()?;
        let mut doc = Self::from_openvex(&wire)?;
        doc.source = Source::of_bytes(statement.predicate().get().as_bytes());
        Ok(doc)
    }

    /// Which format it came in.
    pub fn format(&self) -> VexFormat {
        self.format
    }

    /// The input's digest and size.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The document's id (OpenVEX `@id`, CycloneDX serial number, CSAF
    /// tracking id).
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// Who wrote it (OpenVEX author, CSAF publisher).
    pub fn author(&self) -> Option<&str> {
        self.author.as_deref()
    }

    /// When it was issued.
    pub fn timestamp(&self) -> Option<Timestamp> {
        self.timestamp
    }

    /// The statements.
    pub fn statements(&self) -> &[VexStatement] {
        &self.statements
    }

    fn from_openvex(wire: &OpenVexDocument) -> Result<Self, Error> {
        let bad = |path: String, reason: String| -> Error {
            EvidenceError::Invalid {
                format: "OpenVEX",
                path,
                reason,
            }
            .into()
        };
        if !wire.context.starts_with("https://openvex.dev/ns") {
            return Err(bad(
                "@context".to_owned(),
                format!(
                    "`{}` is not an OpenVEX context",
                    crate::digest::shorten(&wire.context)
                ),
            ));
        }
        let doc_time = parse_time(wire.timestamp.as_deref(), "timestamp", VexFormat::OpenVex)?;
        let mut statements = Vec::new();
        for (i, s) in wire.statements.iter().enumerate() {
            let path = format!("statements[{i}]");
            let status = parse_status(&s.status).ok_or_else(|| {
                bad(
                    format!("{path}.status"),
                    format!(
                        "`{}` is not an OpenVEX status",
                        crate::digest::shorten(&s.status)
                    ),
                )
            })?;
            if s.products.is_empty() {
                return Err(bad(
                    format!("{path}.products"),
                    "a statement needs a product".to_owned(),
                ));
            }
            let time = parse_time(
                s.timestamp.as_deref(),
                "statements[].timestamp",
                VexFormat::OpenVex,
            )?;
            let (name, iri, aliases) = match &s.vulnerability {
                OpenVexVulnerability::Name(n) => (n.clone(), None, Vec::new()),
                OpenVexVulnerability::Object(v) => {
                    (v.name.clone(), v.id.clone(), v.aliases.clone())
                }
            };
            if name.is_empty() {
                return Err(bad(
                    format!("{path}.vulnerability"),
                    "a vulnerability needs a name".to_owned(),
                ));
            }
            statements.push(VexStatement {
                vulnerability: name,
                vulnerability_iri: iri,
                aliases,
                products: s
                    .products
                    .iter()
                    .map(|p| VexProduct {
                        id: p.id.clone(),
                        identifiers: p.identifiers.clone(),
                        hashes: p.hashes.clone(),
                        subcomponents: p.subcomponents.iter().map(|c| c.id.clone()).collect(),
                    })
                    .collect(),
                status,
                status_as_written: s.status.clone(),
                justification: s.justification.clone(),
                impact_statement: s.impact_statement.clone(),
                responses: Vec::new(),
                timestamp: time.or(doc_time),
            });
        }
        Ok(Self {
            format: VexFormat::OpenVex,
            source: Source::of_bytes(b""),
            id: Some(wire.id.clone()),
            author: Some(wire.author.clone()),
            timestamp: doc_time,
            statements,
        })
    }

    /// The document as OpenVEX 0.2.0 (the predicate `attest vex` writes):
    /// statuses mapped, CycloneDX justifications mapped to OpenVEX's where
    /// one corresponds (else kept as the impact statement), each
    /// statement's timestamp explicit.
    pub fn to_openvex(&self) -> OpenVexDocument {
        OpenVexDocument {
            context: OPENVEX_V0_2_0.to_owned(),
            id: self
                .id
                .clone()
                .unwrap_or_else(|| format!("urn:custodia:vex:{}", self.source.digest().hex())),
            author: self.author.clone().unwrap_or_else(|| "unknown".to_owned()),
            timestamp: self.timestamp.map(|t| t.to_string()),
            version: Some(1),
            statements: self
                .statements
                .iter()
                .map(|s| {
                    let (justification, impact) = openvex_justification(self.format, s);
                    OpenVexStatement {
                        vulnerability: OpenVexVulnerability::Object(OpenVexVulnerabilityObject {
                            id: s.vulnerability_iri.clone(),
                            name: s.vulnerability.clone(),
                            aliases: s.aliases.clone(),
                        }),
                        timestamp: s.timestamp.map(|t| t.to_string()),
                        products: s
                            .products
                            .iter()
                            .map(|p| OpenVexProduct {
                                id: p.purl().map_or_else(|| p.id.clone(), str::to_owned),
                                identifiers: p.identifiers.clone(),
                                hashes: p.hashes.clone(),
                                subcomponents: p
                                    .subcomponents
                                    .iter()
                                    .map(|c| OpenVexComponent { id: c.clone() })
                                    .collect(),
                            })
                            .collect(),
                        status: s.status.as_str().to_owned(),
                        justification,
                        impact_statement: impact,
                        action_statement: None,
                    }
                })
                .collect(),
        }
    }
}

/// OpenVEX justification labels.
const OPENVEX_JUSTIFICATIONS: [&str; 5] = [
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
];

fn openvex_justification(format: VexFormat, s: &VexStatement) -> (Option<String>, Option<String>) {
    let Some(j) = s.justification.as_deref() else {
        return (None, s.impact_statement.clone());
    };
    let mapped = match (format, j) {
        (_, j) if OPENVEX_JUSTIFICATIONS.contains(&j) => Some(j),
        (VexFormat::CycloneDx, "code_not_present") => Some("vulnerable_code_not_present"),
        (VexFormat::CycloneDx, "code_not_reachable") => Some("vulnerable_code_not_in_execute_path"),
        (VexFormat::CycloneDx, "requires_dependency") => Some("component_not_present"),
        (
            VexFormat::CycloneDx,
            "protected_by_compiler"
            | "protected_at_runtime"
            | "protected_at_perimeter"
            | "protected_by_mitigating_control",
        ) => Some("inline_mitigations_already_exist"),
        (VexFormat::CycloneDx, "requires_configuration" | "requires_environment") => {
            Some("vulnerable_code_cannot_be_controlled_by_adversary")
        }
        _ => None,
    };
    match mapped {
        Some(m) => (
            Some(m.to_owned()),
            s.impact_statement
                .clone()
                .or_else(|| (m != j).then(|| format!("{} justification: {j}", format.what()))),
        ),
        None => (
            None,
            Some(s.impact_statement.clone().unwrap_or_else(|| j.to_owned())),
        ),
    }
}

fn parse_status(s: &str) -> Option<VexStatus> {
    Some(match s {
        "not_affected" => VexStatus::NotAffected,
        "affected" => VexStatus::Affected,
        "fixed" => VexStatus::Fixed,
        "under_investigation" => VexStatus::UnderInvestigation,
        _ => return None,
    })
}

fn parse_time(s: Option<&str>, path: &str, format: VexFormat) -> Result<Option<Timestamp>, Error> {
    match s {
        None => Ok(None),
        Some(t) => t.parse().map(Some).map_err(|e: Error| {
            EvidenceError::Invalid {
                format: format.what(),
                path: path.to_owned(),
                reason: e.to_string(),
            }
            .into()
        }),
    }
}

/// Recognises OpenVEX, CycloneDX and CSAF by their top-level members.
pub fn detect(bytes: &[u8]) -> Result<VexFormat, Error> {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(rename = "@context")]
        context: Option<serde::de::IgnoredAny>,
        #[serde(rename = "bomFormat")]
        bom_format: Option<serde::de::IgnoredAny>,
        document: Option<serde::de::IgnoredAny>,
    }
    let p: Probe = crate::json::from_slice(bytes, "VEX document")?;
    Ok(if p.context.is_some() {
        VexFormat::OpenVex
    } else if p.bom_format.is_some() {
        VexFormat::CycloneDx
    } else if p.document.is_some() {
        VexFormat::Csaf
    } else {
        return Err(
            EvidenceError::UnknownFormat("not OpenVEX, CycloneDX or CSAF JSON".to_owned()).into(),
        );
    })
}

// ---- OpenVEX wire (read and written) ----

/// An OpenVEX 0.2.0 document: the wire form, and the in-toto predicate
/// `https://openvex.dev/ns/v0.2.0`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OpenVexDocument {
    /// `@context`.
    #[serde(rename = "@context")]
    pub context: String,
    /// `@id`.
    #[serde(rename = "@id")]
    pub id: String,
    /// The author.
    pub author: String,
    /// When issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// Document version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// The statements.
    pub statements: Vec<OpenVexStatement>,
}

impl Predicate for OpenVexDocument {
    const PREDICATE_TYPE: &'static str = OPENVEX_V0_2_0;
}

/// An OpenVEX statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OpenVexStatement {
    /// The vulnerability.
    pub vulnerability: OpenVexVulnerability,
    /// When the statement was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// The products.
    #[serde(default)]
    pub products: Vec<OpenVexProduct>,
    /// `not_affected`, `affected`, `fixed`, `under_investigation`.
    pub status: String,
    /// Why not affected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    /// Free-text impact statement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact_statement: Option<String>,
    /// What to do (for `affected`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_statement: Option<String>,
}

/// `vulnerability`: an object in 0.2.0, a bare name in earlier drafts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum OpenVexVulnerability {
    /// `"CVE-..."`.
    Name(String),
    /// `{"@id", "name", "aliases"}`.
    Object(OpenVexVulnerabilityObject),
}

/// `vulnerability` as an object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OpenVexVulnerabilityObject {
    /// IRI.
    #[serde(rename = "@id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Name.
    pub name: String,
    /// Aliases.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

/// A product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OpenVexProduct {
    /// `@id`.
    #[serde(rename = "@id")]
    pub id: String,
    /// Identifiers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub identifiers: BTreeMap<String, String>,
    /// Hashes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hashes: BTreeMap<String, String>,
    /// Subcomponents.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subcomponents: Vec<OpenVexComponent>,
}

/// A subcomponent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OpenVexComponent {
    /// `@id`.
    #[serde(rename = "@id")]
    pub id: String,
}

// ---- CycloneDX VEX ----

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CdxBom {
    bom_format: String,
    serial_number: Option<String>,
    metadata: Option<CdxMetadata>,
    components: Option<Vec<CdxComponent>>,
    vulnerabilities: Option<Vec<CdxVulnerability>>,
}

#[derive(Deserialize)]
struct CdxMetadata {
    timestamp: Option<String>,
    component: Option<CdxComponent>,
}

#[derive(Deserialize)]
struct CdxComponent {
    #[serde(rename = "bom-ref")]
    bom_ref: Option<String>,
    purl: Option<String>,
    components: Option<Vec<CdxComponent>>,
}

#[derive(Deserialize)]
struct CdxVulnerability {
    id: String,
    analysis: Option<CdxAnalysis>,
    affects: Option<Vec<CdxAffects>>,
    updated: Option<String>,
    references: Option<Vec<CdxReference>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CdxAnalysis {
    state: Option<String>,
    justification: Option<String>,
    response: Option<Vec<String>>,
    detail: Option<String>,
    last_updated: Option<String>,
}

#[derive(Deserialize)]
struct CdxAffects {
    #[serde(rename = "ref")]
    reference: String,
}

#[derive(Deserialize)]
struct CdxReference {
    id: String,
}

fn collect_purls(components: &[CdxComponent], out: &mut BTreeMap<String, String>) {
    let mut stack: Vec<&CdxComponent> = components.iter().collect();
    while let Some(c) = stack.pop() {
        if let (Some(r), Some(p)) = (&c.bom_ref, &c.purl) {
            out.insert(r.clone(), p.clone());
        }
        stack.extend(c.components.iter().flatten());
    }
}

fn read_cyclonedx(bytes: &[u8]) -> Result<VexDocument, Error> {
    let bom: CdxBom = crate::json::from_slice(bytes, "CycloneDX VEX")?;
    let bad = |path: String, reason: String| -> Error {
        EvidenceError::Invalid {
            format: "CycloneDX VEX",
            path,
            reason,
        }
        .into()
    };
    if bom.bom_format != "CycloneDX" {
        return Err(bad(
            "bomFormat".to_owned(),
            "must be `CycloneDX`".to_owned(),
        ));
    }
    let mut purls = BTreeMap::new();
    collect_purls(bom.components.as_deref().unwrap_or_default(), &mut purls);
    if let Some(c) = bom.metadata.as_ref().and_then(|m| m.component.as_ref()) {
        collect_purls(std::slice::from_ref(c), &mut purls);
    }
    let doc_time = parse_time(
        bom.metadata.as_ref().and_then(|m| m.timestamp.as_deref()),
        "metadata.timestamp",
        VexFormat::CycloneDx,
    )?;
    let mut statements = Vec::new();
    for (i, v) in bom
        .vulnerabilities
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        let path = format!("vulnerabilities[{i}]");
        let analysis = v.analysis;
        let state = analysis
            .as_ref()
            .and_then(|a| a.state.clone())
            .unwrap_or_else(|| "in_triage".to_owned());
        let status = match state.as_str() {
            "exploitable" => VexStatus::Affected,
            "in_triage" => VexStatus::UnderInvestigation,
            "resolved" | "resolved_with_pedigree" => VexStatus::Fixed,
            "not_affected" | "false_positive" => VexStatus::NotAffected,
            other => {
                return Err(bad(
                    format!("{path}.analysis.state"),
                    format!(
                        "`{}` is not a CycloneDX analysis state",
                        crate::digest::shorten(other)
                    ),
                ));
            }
        };
        let affects = v.affects.unwrap_or_default();
        if affects.is_empty() {
            return Err(bad(
                format!("{path}.affects"),
                "a VEX statement needs affects[]".to_owned(),
            ));
        }
        let time = parse_time(
            analysis
                .as_ref()
                .and_then(|a| a.last_updated.as_deref())
                .or(v.updated.as_deref()),
            "vulnerabilities[].analysis.lastUpdated",
            VexFormat::CycloneDx,
        )?;
        statements.push(VexStatement {
            aliases: v
                .references
                .unwrap_or_default()
                .into_iter()
                .map(|r| r.id)
                .filter(|r| *r != v.id)
                .collect(),
            vulnerability: v.id,
            vulnerability_iri: None,
            products: affects
                .into_iter()
                .map(|a| {
                    let mut identifiers = BTreeMap::new();
                    if let Some(p) = purls.get(&a.reference) {
                        identifiers.insert("purl".to_owned(), p.clone());
                    }
                    VexProduct {
                        id: a.reference,
                        identifiers,
                        ..VexProduct::default()
                    }
                })
                .collect(),
            status,
            status_as_written: state,
            justification: analysis.as_ref().and_then(|a| a.justification.clone()),
            impact_statement: analysis.as_ref().and_then(|a| a.detail.clone()),
            responses: analysis.and_then(|a| a.response).unwrap_or_default(),
            timestamp: time.or(doc_time),
        });
    }
    Ok(VexDocument {
        format: VexFormat::CycloneDx,
        source: Source::of_bytes(b""),
        id: bom.serial_number,
        author: None,
        timestamp: doc_time,
        statements,
    })
}

// ---- CSAF 2.0 VEX ----

#[derive(Deserialize)]
struct CsafDocument {
    document: CsafMeta,
    product_tree: Option<CsafProductTree>,
    vulnerabilities: Option<Vec<CsafVulnerability>>,
}

#[derive(Deserialize)]
struct CsafMeta {
    category: String,
    csaf_version: String,
    publisher: CsafPublisher,
    tracking: CsafTracking,
}

#[derive(Deserialize)]
struct CsafPublisher {
    name: String,
}

#[derive(Deserialize)]
struct CsafTracking {
    id: String,
    current_release_date: Option<String>,
}

#[derive(Deserialize)]
struct CsafProductTree {
    branches: Option<Vec<CsafBranch>>,
    full_product_names: Option<Vec<CsafProduct>>,
    relationships: Option<Vec<CsafRelationship>>,
}

#[derive(Deserialize)]
struct CsafBranch {
    branches: Option<Vec<CsafBranch>>,
    product: Option<CsafProduct>,
}

#[derive(Deserialize, Clone)]
struct CsafProduct {
    product_id: String,
    product_identification_helper: Option<CsafHelper>,
}

#[derive(Deserialize, Clone)]
struct CsafHelper {
    purl: Option<String>,
    cpe: Option<String>,
}

#[derive(Deserialize)]
struct CsafRelationship {
    product_reference: String,
    relates_to_product_reference: String,
    full_product_name: CsafProduct,
}

#[derive(Deserialize)]
struct CsafVulnerability {
    cve: Option<String>,
    ids: Option<Vec<CsafId>>,
    product_status: Option<BTreeMap<String, Vec<String>>>,
    flags: Option<Vec<CsafFlag>>,
}

#[derive(Deserialize)]
struct CsafId {
    text: String,
}

#[derive(Deserialize)]
struct CsafFlag {
    label: String,
    product_ids: Option<Vec<String>>,
}

fn csaf_product(p: &CsafProduct) -> (String, BTreeMap<String, String>) {
    let mut identifiers = BTreeMap::new();
    let helper = p.product_identification_helper.as_ref();
    if let Some(purl) = helper.and_then(|h| h.purl.clone()) {
        identifiers.insert("purl".to_owned(), purl);
    }
    if let Some(cpe) = helper.and_then(|h| h.cpe.clone()) {
        identifiers.insert("cpe23".to_owned(), cpe);
    }
    (p.product_id.clone(), identifiers)
}

fn read_csaf(bytes: &[u8]) -> Result<VexDocument, Error> {
    let doc: CsafDocument = crate::json::from_slice(bytes, "CSAF VEX")?;
    let bad = |path: String, reason: String| -> Error {
        EvidenceError::Invalid {
            format: "CSAF VEX",
            path,
            reason,
        }
        .into()
    };
    if doc.document.csaf_version != "2.0" {
        return Err(bad(
            "document.csaf_version".to_owned(),
            "must be `2.0`".to_owned(),
        ));
    }
    if doc.document.category != "csaf_vex" {
        return Err(bad(
            "document.category".to_owned(),
            format!(
                "`{}` is not `csaf_vex`",
                crate::digest::shorten(&doc.document.category)
            ),
        ));
    }
    // Every product the tree names, by product id.
    let mut products: BTreeMap<String, CsafProduct> = BTreeMap::new();
    let mut relationships: BTreeMap<String, (String, String)> = BTreeMap::new();
    if let Some(tree) = &doc.product_tree {
        let mut stack: Vec<&CsafBranch> = tree.branches.iter().flatten().collect();
        while let Some(b) = stack.pop() {
            if let Some(p) = &b.product {
                products.insert(p.product_id.clone(), p.clone());
            }
            stack.extend(b.branches.iter().flatten());
        }
        for p in tree.full_product_names.iter().flatten() {
            products.insert(p.product_id.clone(), p.clone());
        }
        for r in tree.relationships.iter().flatten() {
            relationships.insert(
                r.full_product_name.product_id.clone(),
                (
                    r.product_reference.clone(),
                    r.relates_to_product_reference.clone(),
                ),
            );
        }
    }
    let resolve = |id: &str, path: &str| -> Result<VexProduct, Error> {
        let named = |id: &str| -> Result<(String, BTreeMap<String, String>), Error> {
            products.get(id).map(csaf_product).ok_or_else(|| {
                bad(
                    path.to_owned(),
                    format!(
                        "product id `{}` is not in the product tree",
                        crate::digest::shorten(id)
                    ),
                )
            })
        };
        if let Some((component, parent)) = relationships.get(id) {
            let (_, parent_ids) = named(parent)?;
            let (component_id, component_ids) = named(component)?;
            return Ok(VexProduct {
                id: parent_ids
                    .get("purl")
                    .cloned()
                    .unwrap_or_else(|| parent.clone()),
                identifiers: parent_ids,
                hashes: BTreeMap::new(),
                subcomponents: vec![component_ids.get("purl").cloned().unwrap_or(component_id)],
            });
        }
        let (pid, identifiers) = named(id)?;
        Ok(VexProduct {
            id: identifiers.get("purl").cloned().unwrap_or(pid),
            identifiers,
            ..VexProduct::default()
        })
    };
    let time = parse_time(
        doc.document.tracking.current_release_date.as_deref(),
        "document.tracking.current_release_date",
        VexFormat::Csaf,
    )?;
    let mut statements = Vec::new();
    for (i, v) in doc
        .vulnerabilities
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        let ids: Vec<String> = v
            .ids
            .unwrap_or_default()
            .into_iter()
            .map(|x| x.text)
            .collect();
        let Some(name) = v.cve.clone().or_else(|| ids.first().cloned()) else {
            return Err(bad(
                format!("vulnerabilities[{i}]"),
                "needs a cve or ids".to_owned(),
            ));
        };
        let flags = v.flags.unwrap_or_default();
        for (bucket, ids_in_bucket) in v.product_status.unwrap_or_default() {
            let status = match bucket.as_str() {
                "known_not_affected" => VexStatus::NotAffected,
                "fixed" | "first_fixed" => VexStatus::Fixed,
                "known_affected" | "first_affected" | "last_affected" => VexStatus::Affected,
                "under_investigation" => VexStatus::UnderInvestigation,
                "recommended" => continue,
                other => {
                    return Err(bad(
                        format!("vulnerabilities[{i}].product_status"),
                        format!(
                            "`{}` is not a CSAF product status",
                            crate::digest::shorten(other)
                        ),
                    ));
                }
            };
            for pid in ids_in_bucket {
                let path = format!("vulnerabilities[{i}].product_status.{bucket}");
                statements.push(VexStatement {
                    vulnerability: name.clone(),
                    vulnerability_iri: None,
                    aliases: ids.iter().filter(|x| **x != name).cloned().collect(),
                    products: vec![resolve(&pid, &path)?],
                    status,
                    status_as_written: bucket.clone(),
                    justification: flags
                        .iter()
                        .find(|f| f.product_ids.iter().flatten().any(|p| *p == pid))
                        .map(|f| f.label.clone()),
                    impact_statement: None,
                    responses: Vec::new(),
                    timestamp: time,
                });
            }
        }
    }
    Ok(VexDocument {
        format: VexFormat::Csaf,
        source: Source::of_bytes(b""),
        id: Some(doc.document.tracking.id),
        author: Some(doc.document.publisher.name),
        timestamp: time,
        statements,
    })
}
