//! CycloneDX JSON: a writer for specification 1.7, 1.6 (default) and 1.5,
//! and a reader for 1.4 to 1.7.
//!
//! # Which version by default
//!
//! 1.6. Everything the writer puts in a document means the same in 1.6
//! and 1.7 (1.7 adds citations, Streebog hashes, license acknowledgement
//! mixes and more, none of which a Cargo SBOM carries), and both validate
//! under cyclonedx-python-lib 11.12's strict validator; but a consumer that
//! checks `specVersion` against the versions it knows rejects a version it
//! has not caught up with (the `cyclonedx-bom` crate 0.8 stops at 1.5), and
//! 1.6 is the newer one more consumers know. Ask for 1.7 with
//! [`CycloneDxVersion::V1_7`] (`attest sbom --format cyclonedx-1.7-json`).
//!
//! The wire format is written and read with serde types of our own, one
//! set per direction, kept apart from the neutral [`Sbom`] model. The
//! `cyclonedx-bom` crate is not used: version 0.8.1 cannot write
//! specification 1.6 (and costs 51 crates).
//!
//! # Writing
//!
//! [`to_json`] gives the same bytes for the same model: components and
//! dependencies are sorted by bom-ref, the serial number is
//! `urn:uuid:` + [`Sbom::content_uuid`] (derived from the content, not the
//! clock), and the only time in the document is the model's timestamp.
//!
//! * the root is `metadata.component` (type `application`), every other
//!   component is a `library` in `components`;
//! * `supplier` is written as `{"name": ...}`;
//! * a license is always written as a one-entry SPDX expression,
//!   `[{"expression": "MIT OR Apache-2.0"}]`, even for a single id: one
//!   rule for every value, and unknown or misspelled ids stay valid
//!   against the schema (an `expression` is any string there, a
//!   `license.id` must be on the SPDX list);
//! * hashes are `{"alg": "SHA-256", "content": HEX}` (SHA-384, SHA-512);
//! * `scope` is written for every component (`required`, `optional`,
//!   `excluded`), and for the root only when it is not `required`;
//! * a git source adds a `vcs` external reference (`URL` or `URL#REV`);
//!   every known source is also kept as the property `custodia:source`
//!   (`registry:INDEX`, `git:URL[#REV]`, `path`) so that it reads back;
//! * `dependencies` has one entry per component (root included), with an
//!   empty `dependsOn` for leaves, as the specification asks.
//!
//! # Reading
//!
//! [`from_json`] reads CycloneDX 1.4, 1.5, 1.6 and 1.7 JSON into the model and
//! is strict where the schema is strict for what it reads; every error is
//! an [`SbomError::Invalid`] with the JSON path of the problem.
//!
//! * `bomFormat` must be `CycloneDX`, `specVersion` 1.4, 1.5, 1.6 or 1.7,
//!   `serialNumber` `urn:uuid:` + a lowercase UUID, `version` at least 1,
//!   `metadata.timestamp` an RFC 3339 date-time (with `T`, as JSON Schema
//!   asks);
//! * components need `type` (from the version's enumeration) and `name`;
//!   `bom-ref`s must be non-empty and unique across components and
//!   services; `scope` must be `required`, `optional` or `excluded`;
//!   `swid` needs `tagId` and `name`; pedigree patch and issue types must
//!   be from their enumerations;
//! * hashes: `alg` from the enumeration, `content` hex of the algorithm's
//!   length (MD5 32, SHA-1 40, `*-256` 64, `*-384` 96, `*-512` 128, BLAKE3
//!   any length the schema allows). Only SHA-256, SHA-384 and SHA-512 are
//!   kept (as [`Digest`]s); the others are checked and dropped;
//! * licenses: each entry holds exactly one of `license` and `expression`,
//!   a `license` exactly one of `id` and `name`, a license text's
//!   `encoding` can only be `base64`; in 1.5 and 1.6 an expression must be
//!   the only entry (1.7 lets expressions and licenses mix). The model's
//!   license is the declared one: entries acknowledged as `concluded`
//!   count only when no other entry is there. It is an SPDX expression: an
//!   `expression` as it is, an `id` as it is, a `name` as
//!   `LicenseRef-NAME` (characters other than letters, digits, `.` and `-`
//!   become `-`); several entries are joined with ` AND ` (a compound
//!   expression in parentheses), duplicates dropped. Each must parse as
//!   an SPDX expression ([`LicenseExpression`]; refused with its path
//!   otherwise); a `license.id` must be on the SPDX license or exception
//!   list (the `spdx` crate's, [`crate::sbom::license_list_version`]);
//! * a `purl` must parse ([`Purl`]), refused with its path otherwise;
//! * properties (1.6): each needs a `name` and nothing but `name` and
//!   `value`; service data flows must be from their enumeration;
//! * nested `components` (also under `metadata.component`) are flattened
//!   into the model; pedigree components are checked but not kept;
//! * the supplier is `supplier.name`, else `author`, else the names in
//!   `authors`, joined with `, `;
//! * dependencies: `ref` is required and, like every `dependsOn` entry,
//!   must name a component or service of the BOM; `dependsOn` must not
//!   repeat itself. Edges to or from services are not kept (the model has
//!   no services); several entries for one `ref` are merged;
//! * a component without `bom-ref` gets its purl, else `NAME@VERSION`
//!   (made unique with `#2`, `#3`, ...); a BOM without
//!   `metadata.component` gets the root `unknown` with bom-ref
//!   `urn:custodia:no-root`, and one without `metadata.timestamp` the
//!   Unix epoch;
//! * 1.7: a component has `version` or `versionRange`, not both, and a
//!   version range only when `isExternal` is true; a citation's bom-ref
//!   counts among the BOM's bom-refs, and it has exactly one of
//!   `pointers` and `expressions` and at least one of `attributedTo` and
//!   `process`;
//! * everything the model has no place for (services, vulnerabilities,
//!   formulation, citations, ...) is skipped beyond the checks above.
//!
//! ```
//! use custodia::sbom::cyclonedx::{CycloneDxVersion, from_json, to_json};
//! use custodia::sbom::{Component, Sbom};
//! use custodia::time::Timestamp;
//!
//! let mut sbom = Sbom::new(
//!     Component::new("app", "1.0.0").with_purl("pkg:cargo/app@1.0.0".parse()?),
//!     Timestamp::from_unix(1_700_000_000),
//! );
//! let mut log = Component::new("log", "0.4.21").with_purl("pkg:cargo/log@0.4.21".parse()?);
//! log.license = Some("MIT OR Apache-2.0".parse()?);
//! sbom.add(log);
//! sbom.depends(&"pkg:cargo/app@1.0.0".parse()?, &"pkg:cargo/log@0.4.21".parse()?);
//!
//! let json = to_json(&sbom, CycloneDxVersion::V1_6)?;
//! assert_eq!(json, to_json(&sbom, CycloneDxVersion::default())?);
//! let back = from_json(&json)?;
//! assert_eq!(back, sbom);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};

use super::{BomRef, Component, LicenseExpression, Purl, Sbom, Scope, SourceKind};
use crate::digest::{Digest, DigestAlgorithm};
use crate::error::{Error, SbomError};
use crate::time::Timestamp;

/// The document name in errors.
const DOCUMENT: &str = "CycloneDX";
/// The property that keeps a component's [`SourceKind`].
const SOURCE_PROPERTY: &str = "custodia:source";
/// The bom-ref of the placeholder root of a BOM without `metadata.component`.
const NO_ROOT: &str = "urn:custodia:no-root";

/// A CycloneDX specification version custodia writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[non_exhaustive]
pub enum CycloneDxVersion {
    /// CycloneDX 1.5.
    V1_5,
    /// CycloneDX 1.6 (the default: see the module documentation for why).
    #[default]
    V1_6,
    /// CycloneDX 1.7 (ECMA-424 2nd edition).
    V1_7,
}

impl CycloneDxVersion {
    /// The `specVersion` value (`1.6`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::V1_5 => "1.5",
            Self::V1_6 => "1.6",
            Self::V1_7 => "1.7",
        }
    }

    /// The URL of the version's JSON schema (the document's `$schema`).
    pub const fn schema_url(self) -> &'static str {
        match self {
            Self::V1_5 => "http://cyclonedx.org/schema/bom-1.5.schema.json",
            Self::V1_6 => "http://cyclonedx.org/schema/bom-1.6.schema.json",
            Self::V1_7 => "http://cyclonedx.org/schema/bom-1.7.schema.json",
        }
    }
}

// ---------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------

mod out {
    use serde::Serialize;

    #[derive(Serialize)]
    pub(super) struct Bom<'a> {
        #[serde(rename = "$schema")]
        pub schema: &'static str,
        #[serde(rename = "bomFormat")]
        pub bom_format: &'static str,
        #[serde(rename = "specVersion")]
        pub spec_version: &'static str,
        #[serde(rename = "serialNumber")]
        pub serial_number: String,
        pub version: u32,
        pub metadata: Metadata<'a>,
        pub components: Vec<Component<'a>>,
        pub dependencies: Vec<Dependency<'a>>,
    }

    #[derive(Serialize)]
    pub(super) struct Metadata<'a> {
        pub timestamp: String,
        pub tools: Tools,
        pub component: Component<'a>,
    }

    #[derive(Serialize)]
    pub(super) struct Tools {
        pub components: Vec<Tool>,
    }

    #[derive(Serialize)]
    pub(super) struct Tool {
        #[serde(rename = "type")]
        pub kind: &'static str,
        pub name: &'static str,
        pub version: &'static str,
    }

    #[derive(Serialize)]
    pub(super) struct Component<'a> {
        #[serde(rename = "type")]
        pub kind: &'static str,
        #[serde(rename = "bom-ref")]
        pub bom_ref: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub supplier: Option<Organization<'a>>,
        pub name: &'a str,
        #[serde(skip_serializing_if = "str::is_empty")]
        pub version: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub description: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub scope: Option<&'static str>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub hashes: Vec<Hash>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub licenses: Vec<Expression>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub purl: Option<&'a str>,
        #[serde(rename = "externalReferences", skip_serializing_if = "Vec::is_empty")]
        pub external_references: Vec<ExternalReference>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub properties: Vec<Property>,
    }

    #[derive(Serialize)]
    pub(super) struct Organization<'a> {
        pub name: &'a str,
    }

    #[derive(Serialize)]
    pub(super) struct Hash {
        pub alg: &'static str,
        pub content: String,
    }

    #[derive(Serialize)]
    pub(super) struct Expression {
        pub expression: String,
    }

    #[derive(Serialize)]
    pub(super) struct ExternalReference {
        #[serde(rename = "type")]
        pub kind: &'static str,
        pub url: String,
    }

    #[derive(Serialize)]
    pub(super) struct Property {
        pub name: &'static str,
        pub value: String,
    }

    #[derive(Serialize)]
    pub(super) struct Dependency<'a> {
        #[serde(rename = "ref")]
        pub reference: &'a str,
        #[serde(rename = "dependsOn")]
        pub depends_on: Vec<&'a str>,
    }
}

/// Writes `sbom` as CycloneDX JSON of `version` (pretty-printed, with a
/// final newline). The same model gives the same bytes.
///
/// The model is written as it is: call [`Sbom::validate`] first to be sure
/// that bom-refs are unique and every dependency names a component.
///
/// ```
/// use custodia::sbom::cyclonedx::{CycloneDxVersion, to_json};
/// use custodia::sbom::{Component, Sbom};
/// use custodia::time::Timestamp;
///
/// let sbom = Sbom::new(Component::new("app", "1.0.0"), Timestamp::from_unix(0));
/// let json: serde_json::Value = serde_json::from_slice(&to_json(&sbom, CycloneDxVersion::V1_5)?)?;
/// assert_eq!(json["specVersion"], "1.5");
/// assert_eq!(json["metadata"]["timestamp"], "1970-01-01T00:00:00Z");
/// assert_eq!(json["metadata"]["component"]["name"], "app");
/// assert!(json["serialNumber"].as_str().unwrap().starts_with("urn:uuid:"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn to_json(sbom: &Sbom, version: CycloneDxVersion) -> Result<Vec<u8>, Error> {
    let components = sbom.sorted_components();
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for c in std::iter::once(&sbom.root).chain(components.iter().copied()) {
        graph.entry(c.bom_ref.as_str()).or_default();
    }
    for (from, tos) in &sbom.dependencies {
        graph
            .entry(from.as_str())
            .or_default()
            .extend(tos.iter().map(BomRef::as_str));
    }
    let bom = out::Bom {
        schema: version.schema_url(),
        bom_format: "CycloneDX",
        spec_version: version.as_str(),
        serial_number: format!("urn:uuid:{}", sbom.content_uuid()),
        version: 1,
        metadata: out::Metadata {
            timestamp: sbom.timestamp.to_string(),
            tools: out::Tools {
                components: vec![out::Tool {
                    kind: "application",
                    name: "custodia",
                    version: env!("CARGO_PKG_VERSION"),
                }],
            },
            component: write_component(&sbom.root, true),
        },
        components: components
            .iter()
            .map(|c| write_component(c, false))
            .collect(),
        dependencies: graph
            .into_iter()
            .map(|(reference, tos)| out::Dependency {
                reference,
                depends_on: tos.into_iter().collect(),
            })
            .collect(),
    };
    let mut bytes = serde_json::to_vec_pretty(&bom).map_err(|e| SbomError::Serialize {
        document: "CycloneDX",
        reason: e.to_string(),
    })?;
    bytes.push(b'\n');
    Ok(bytes)
}

fn write_component(c: &Component, root: bool) -> out::Component<'_> {
    let scope = match (c.scope, root) {
        (Scope::Required, true) => None,
        (Scope::Required, false) => Some("required"),
        (Scope::Optional, _) => Some("optional"),
        (Scope::Excluded, _) => Some("excluded"),
    };
    let mut external_references = Vec::new();
    if let SourceKind::Git { url, revision } = &c.source {
        external_references.push(out::ExternalReference {
            kind: "vcs",
            url: match revision {
                Some(rev) => format!("{url}#{rev}"),
                None => url.clone(),
            },
        });
    }
    let source = match &c.source {
        SourceKind::Registry(index) => Some(format!("registry:{index}")),
        SourceKind::Git { url, revision } => Some(match revision {
            Some(rev) => format!("git:{url}#{rev}"),
            None => format!("git:{url}"),
        }),
        SourceKind::Path => Some("path".to_owned()),
        SourceKind::Unknown => None,
    };
    out::Component {
        kind: if root { "application" } else { "library" },
        bom_ref: c.bom_ref.as_str(),
        supplier: c.supplier.as_deref().map(|name| out::Organization { name }),
        name: &c.name,
        version: &c.version,
        description: c.description.as_deref(),
        scope,
        hashes: c
            .hashes
            .iter()
            .map(|d| out::Hash {
                alg: match d.algorithm() {
                    DigestAlgorithm::Sha256 => "SHA-256",
                    DigestAlgorithm::Sha384 => "SHA-384",
                    DigestAlgorithm::Sha512 => "SHA-512",
                },
                content: d.hex(),
            })
            .collect(),
        licenses: c
            .license
            .as_ref()
            .map(|l| {
                vec![out::Expression {
                    expression: l.to_string(),
                }]
            })
            .unwrap_or_default(),
        purl: c.purl.as_ref().map(Purl::as_str),
        external_references,
        properties: source
            .map(|value| {
                vec![out::Property {
                    name: SOURCE_PROPERTY,
                    value,
                }]
            })
            .unwrap_or_default(),
    }
}

// ---------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------

mod input {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    #[derive(Deserialize)]
    pub(super) enum BomFormat {
        CycloneDX,
    }

    #[derive(Deserialize, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    pub(super) enum SpecVersion {
        #[serde(rename = "1.4")]
        V1_4,
        #[serde(rename = "1.5")]
        V1_5,
        #[serde(rename = "1.6")]
        V1_6,
        #[serde(rename = "1.7")]
        V1_7,
    }

    #[derive(Deserialize)]
    pub(super) struct Bom {
        #[serde(rename = "bomFormat")]
        pub _bom_format: BomFormat,
        #[serde(rename = "specVersion")]
        pub spec_version: SpecVersion,
        #[serde(rename = "serialNumber", default)]
        pub serial_number: Option<String>,
        #[serde(default)]
        pub version: Option<u64>,
        #[serde(default)]
        pub metadata: Option<Metadata>,
        #[serde(default)]
        pub components: Vec<Component>,
        #[serde(default)]
        pub services: Vec<Service>,
        #[serde(default)]
        pub dependencies: Vec<Dependency>,
        /// 1.7: who or what contributed which data.
        #[serde(default)]
        pub citations: Vec<Citation>,
    }

    /// A 1.7 citation: only its bom-ref and the schema's shape rules are
    /// read.
    #[derive(Deserialize)]
    pub(super) struct Citation {
        #[serde(rename = "bom-ref", default)]
        pub bom_ref: Option<String>,
        #[serde(default)]
        pub pointers: Option<serde_json::Value>,
        #[serde(default)]
        pub expressions: Option<serde_json::Value>,
        #[serde(rename = "attributedTo", default)]
        pub attributed_to: Option<serde_json::Value>,
        #[serde(default)]
        pub process: Option<serde_json::Value>,
    }

    #[derive(Deserialize)]
    pub(super) struct Metadata {
        #[serde(default)]
        pub timestamp: Option<String>,
        #[serde(default)]
        pub component: Option<Component>,
        #[serde(default)]
        pub licenses: Vec<LicenseChoice>,
        #[serde(default)]
        pub properties: Vec<Property>,
    }

    #[derive(Deserialize)]
    pub(super) struct Component {
        #[serde(rename = "type")]
        pub kind: String,
        #[serde(rename = "bom-ref", default)]
        pub bom_ref: Option<String>,
        pub name: String,
        #[serde(default)]
        pub version: Option<String>,
        /// 1.7: a version range, only on external components.
        #[serde(rename = "versionRange", default)]
        pub version_range: Option<String>,
        /// 1.7: the component is not part of the BOM's subject.
        #[serde(rename = "isExternal", default)]
        pub is_external: bool,
        #[serde(default)]
        pub supplier: Option<Organization>,
        #[serde(default)]
        pub author: Option<String>,
        #[serde(default)]
        pub authors: Vec<Organization>,
        #[serde(default)]
        pub description: Option<String>,
        #[serde(default)]
        pub scope: Option<Scope>,
        #[serde(default)]
        pub hashes: Vec<Hash>,
        #[serde(default)]
        pub licenses: Vec<LicenseChoice>,
        #[serde(default)]
        pub purl: Option<String>,
        #[serde(rename = "swid", default)]
        pub _swid: Option<Swid>,
        #[serde(default)]
        pub pedigree: Option<Pedigree>,
        #[serde(default)]
        pub components: Vec<Component>,
        #[serde(default)]
        pub properties: Vec<Property>,
    }

    /// An organization or contact: only the name is read.
    #[derive(Deserialize)]
    pub(super) struct Organization {
        #[serde(default)]
        pub name: Option<String>,
    }

    #[derive(Deserialize, Clone, Copy)]
    #[serde(rename_all = "lowercase")]
    pub(super) enum Scope {
        Required,
        Optional,
        Excluded,
    }

    #[derive(Deserialize)]
    pub(super) struct Hash {
        pub alg: HashAlg,
        pub content: String,
    }

    #[derive(Deserialize, Clone, Copy)]
    pub(super) enum HashAlg {
        #[serde(rename = "MD5")]
        Md5,
        #[serde(rename = "SHA-1")]
        Sha1,
        #[serde(rename = "SHA-256")]
        Sha256,
        #[serde(rename = "SHA-384")]
        Sha384,
        #[serde(rename = "SHA-512")]
        Sha512,
        #[serde(rename = "SHA3-256")]
        Sha3_256,
        #[serde(rename = "SHA3-384")]
        Sha3_384,
        #[serde(rename = "SHA3-512")]
        Sha3_512,
        #[serde(rename = "BLAKE2b-256")]
        Blake2b256,
        #[serde(rename = "BLAKE2b-384")]
        Blake2b384,
        #[serde(rename = "BLAKE2b-512")]
        Blake2b512,
        #[serde(rename = "BLAKE3")]
        Blake3,
        #[serde(rename = "Streebog-256")]
        Streebog256,
        #[serde(rename = "Streebog-512")]
        Streebog512,
    }

    #[derive(Deserialize)]
    pub(super) struct LicenseChoice {
        #[serde(default)]
        pub license: Option<License>,
        #[serde(default)]
        pub expression: Option<String>,
        /// 1.6 on: `declared` or `concluded` (on an expression entry).
        #[serde(default)]
        pub acknowledgement: Option<Acknowledgement>,
    }

    #[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
    #[serde(rename_all = "lowercase")]
    pub(super) enum Acknowledgement {
        Declared,
        Concluded,
    }

    #[derive(Deserialize)]
    pub(super) struct License {
        #[serde(default)]
        pub id: Option<String>,
        /// 1.6 on: `declared` or `concluded` (on a license entry).
        #[serde(default)]
        pub acknowledgement: Option<Acknowledgement>,
        #[serde(default)]
        pub name: Option<String>,
        #[serde(rename = "text", default)]
        pub _text: Option<Attachment>,
        #[serde(default)]
        pub properties: Vec<Property>,
    }

    #[derive(Deserialize)]
    pub(super) struct Attachment {
        #[serde(rename = "content")]
        pub _content: String,
        #[serde(rename = "encoding", default)]
        pub _encoding: Option<Encoding>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub(super) enum Encoding {
        Base64,
    }

    #[derive(Deserialize)]
    pub(super) struct Property {
        #[serde(default)]
        pub name: Option<String>,
        #[serde(default)]
        pub value: Option<String>,
        #[serde(flatten)]
        pub other: BTreeMap<String, serde_json::Value>,
    }

    #[derive(Deserialize)]
    pub(super) struct Swid {
        #[serde(rename = "tagId")]
        pub _tag_id: String,
        #[serde(rename = "name")]
        pub _name: String,
    }

    #[derive(Deserialize)]
    pub(super) struct Pedigree {
        #[serde(default)]
        pub ancestors: Vec<Component>,
        #[serde(default)]
        pub descendants: Vec<Component>,
        #[serde(default)]
        pub variants: Vec<Component>,
        #[serde(rename = "patches", default)]
        pub _patches: Vec<Patch>,
    }

    #[derive(Deserialize)]
    pub(super) struct Patch {
        #[serde(rename = "type")]
        pub _kind: PatchType,
        #[serde(rename = "resolves", default)]
        pub _resolves: Vec<Issue>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "kebab-case")]
    pub(super) enum PatchType {
        Unofficial,
        Monkey,
        Backport,
        CherryPick,
    }

    #[derive(Deserialize)]
    pub(super) struct Issue {
        #[serde(rename = "type")]
        pub _kind: IssueType,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub(super) enum IssueType {
        Defect,
        Enhancement,
        Security,
    }

    #[derive(Deserialize)]
    pub(super) struct Service {
        #[serde(rename = "bom-ref", default)]
        pub bom_ref: Option<String>,
        #[serde(default)]
        pub services: Vec<Service>,
        #[serde(rename = "data", default)]
        pub _data: Vec<ServiceData>,
        #[serde(default)]
        pub properties: Vec<Property>,
    }

    #[derive(Deserialize)]
    pub(super) struct ServiceData {
        #[serde(rename = "flow")]
        pub _flow: DataFlow,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "kebab-case")]
    pub(super) enum DataFlow {
        Inbound,
        Outbound,
        BiDirectional,
        Unknown,
    }

    #[derive(Deserialize)]
    pub(super) struct Dependency {
        #[serde(rename = "ref")]
        pub reference: String,
        #[serde(rename = "dependsOn", default)]
        pub depends_on: Vec<String>,
    }
}

use input::SpecVersion;

fn invalid(path: impl Into<String>, reason: impl Into<String>) -> Error {
    SbomError::Invalid {
        document: DOCUMENT,
        path: path.into(),
        reason: reason.into(),
    }
    .into()
}

/// Component types per version (the schema's `component.type` enumeration).
fn component_type_allowed(version: SpecVersion, kind: &str) -> bool {
    const V1_4: [&str; 8] = [
        "application",
        "framework",
        "library",
        "container",
        "operating-system",
        "device",
        "firmware",
        "file",
    ];
    const V1_5: [&str; 4] = [
        "platform",
        "device-driver",
        "machine-learning-model",
        "data",
    ];
    V1_4.contains(&kind)
        || (version >= SpecVersion::V1_5 && V1_5.contains(&kind))
        || (version >= SpecVersion::V1_6 && kind == "cryptographic-asset")
}

/// `^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`
fn is_serial_number(s: &str) -> bool {
    let Some(uuid) = s.strip_prefix("urn:uuid:") else {
        return false;
    };
    let groups: Vec<&str> = uuid.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| {
            g.len() == n
                && g.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// A model component being read, with its bom-ref if the document gave one.
struct Read {
    component: Component,
    explicit_ref: bool,
}

struct Reader {
    version: SpecVersion,
    /// Every explicit bom-ref (components, pedigree components, services,
    /// citations).
    refs: BTreeSet<BomRef>,
    /// Components kept in the model, in document order (pre-order).
    components: Vec<Read>,
}

impl Reader {
    /// Parses and records an explicit bom-ref; it must be unique.
    fn register_ref(&mut self, bom_ref: Option<&str>, path: &str) -> Result<Option<BomRef>, Error> {
        let Some(r) = bom_ref else {
            return Ok(None);
        };
        let r = BomRef::parse(r).map_err(|e| {
            invalid(
                format!("{path}.bom-ref"),
                format!("`{}` is not a bom-ref: {e}", crate::digest::shorten(r)),
            )
        })?;
        if !self.refs.insert(r.clone()) {
            return Err(invalid(
                format!("{path}.bom-ref"),
                format!(
                    "bom-ref `{}` is used twice",
                    crate::digest::shorten(r.as_str())
                ),
            ));
        }
        Ok(Some(r))
    }

    fn check_properties(&self, properties: &[input::Property], path: &str) -> Result<(), Error> {
        if self.version < SpecVersion::V1_6 {
            return Ok(());
        }
        for (i, p) in properties.iter().enumerate() {
            if p.name.is_none() {
                return Err(invalid(
                    format!("{path}.properties[{i}]"),
                    "a property needs a `name`",
                ));
            }
            if let Some(key) = p.other.keys().next() {
                return Err(invalid(
                    format!("{path}.properties[{i}]"),
                    format!(
                        "unknown member `{}` (only `name` and `value`)",
                        crate::digest::shorten(key)
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Visits a component: checks it, keeps it (and its nested components)
    /// in the model when `keep`, checks its pedigree components.
    fn visit(&mut self, c: &input::Component, path: &str, keep: bool) -> Result<(), Error> {
        let component = self.convert(c, path)?;
        if keep {
            self.components.push(component);
        }
        self.visit_children(c, path, keep)
    }

    fn visit_children(
        &mut self,
        c: &input::Component,
        path: &str,
        keep: bool,
    ) -> Result<(), Error> {
        for (i, child) in c.components.iter().enumerate() {
            self.visit(child, &format!("{path}.components[{i}]"), keep)?;
        }
        if let Some(p) = &c.pedigree {
            for (field, list) in [
                ("ancestors", &p.ancestors),
                ("descendants", &p.descendants),
                ("variants", &p.variants),
            ] {
                for (i, child) in list.iter().enumerate() {
                    self.visit(child, &format!("{path}.pedigree.{field}[{i}]"), false)?;
                }
            }
        }
        Ok(())
    }

    /// Checks one component and converts it, without its children.
    fn convert(&mut self, c: &input::Component, path: &str) -> Result<Read, Error> {
        if !component_type_allowed(self.version, &c.kind) {
            return Err(invalid(
                format!("{path}.type"),
                format!(
                    "`{}` is not a component type of CycloneDX {}",
                    crate::digest::shorten(&c.kind),
                    spec_str(self.version)
                ),
            ));
        }
        let explicit_ref = self.register_ref(c.bom_ref.as_deref(), path)?;
        self.check_properties(&c.properties, path)?;
        if c.version_range.is_some() {
            if c.version.is_some() {
                return Err(invalid(
                    path,
                    "a component has `version` or `versionRange`, not both",
                ));
            }
            if !c.is_external {
                return Err(invalid(
                    format!("{path}.versionRange"),
                    "only an external component (`isExternal`: true) has a version range",
                ));
            }
        }
        let mut hashes = Vec::new();
        for (i, h) in c.hashes.iter().enumerate() {
            if let Some(d) = read_hash(h, &format!("{path}.hashes[{i}]"))? {
                hashes.push(d);
            }
        }
        let license = self.read_licenses(&c.licenses, &format!("{path}.licenses"))?;
        let supplier = c
            .supplier
            .as_ref()
            .and_then(|s| s.name.clone())
            .or_else(|| c.author.clone())
            .or_else(|| {
                let names: Vec<&str> = c.authors.iter().filter_map(|a| a.name.as_deref()).collect();
                (!names.is_empty()).then(|| names.join(", "))
            });
        let source = c
            .properties
            .iter()
            .find(|p| p.name.as_deref() == Some(SOURCE_PROPERTY))
            .and_then(|p| p.value.as_deref())
            .map_or(SourceKind::Unknown, parse_source);
        let mut component = Component::new(c.name.clone(), c.version.clone().unwrap_or_default());
        let explicit = explicit_ref.is_some();
        if let Some(r) = explicit_ref {
            component.bom_ref = r;
        }
        component.purl = c
            .purl
            .as_deref()
            .map(|p| {
                Purl::parse(p).map_err(|e| {
                    invalid(
                        format!("{path}.purl"),
                        format!("`{}` is not a purl: {e}", crate::digest::shorten(p)),
                    )
                })
            })
            .transpose()?;
        component.supplier = supplier;
        component.license = license;
        component.hashes = hashes;
        component.source = source;
        component.scope = match c.scope {
            None | Some(input::Scope::Required) => Scope::Required,
            Some(input::Scope::Optional) => Scope::Optional,
            Some(input::Scope::Excluded) => Scope::Excluded,
        };
        component.description = c.description.clone();
        Ok(Read {
            component,
            explicit_ref: explicit,
        })
    }

    fn read_licenses(
        &self,
        licenses: &[input::LicenseChoice],
        path: &str,
    ) -> Result<Option<LicenseExpression>, Error> {
        let mut parts: Vec<LicenseExpression> = Vec::new();
        let mut concluded: Vec<LicenseExpression> = Vec::new();
        for (i, choice) in licenses.iter().enumerate() {
            let at = format!("{path}[{i}]");
            let acknowledgement = choice
                .acknowledgement
                .or_else(|| choice.license.as_ref().and_then(|l| l.acknowledgement));
            let part = match (&choice.license, &choice.expression) {
                (Some(_), Some(_)) => {
                    return Err(invalid(
                        at,
                        "a license entry holds either `license` or `expression`, not both",
                    ));
                }
                (None, None) => {
                    return Err(invalid(
                        at,
                        "a license entry needs `license` or `expression`",
                    ));
                }
                (None, Some(expression)) => {
                    if (SpecVersion::V1_5..=SpecVersion::V1_6).contains(&self.version)
                        && licenses.len() != 1
                    {
                        return Err(invalid(
                            at,
                            "an SPDX license expression must be the only entry of `licenses`",
                        ));
                    }
                    LicenseExpression::parse(expression).map_err(|e| {
                        invalid(
                            format!("{at}.expression"),
                            format!(
                                "`{}` is not an SPDX license expression: {e}",
                                crate::digest::shorten(expression)
                            ),
                        )
                    })?
                }
                (Some(license), None) => {
                    let at = format!("{at}.license");
                    self.check_properties(&license.properties, &at)?;
                    let id = match (&license.id, &license.name) {
                        (Some(id), None) => {
                            if !super::license::is_listed_id(id) {
                                return Err(invalid(
                                    format!("{at}.id"),
                                    format!(
                                        "`{}` is not an SPDX license id (use `name` or an expression for others)",
                                        crate::digest::shorten(id)
                                    ),
                                ));
                            }
                            id.clone()
                        }
                        (None, Some(name)) => license_ref(name),
                        _ => {
                            return Err(invalid(
                                at,
                                "a license needs exactly one of `id` and `name`",
                            ));
                        }
                    };
                    LicenseExpression::parse(&id).map_err(|e| {
                        invalid(at, format!("no SPDX license id can be made of it: {e}"))
                    })?
                }
            };
            let list = if acknowledgement == Some(input::Acknowledgement::Concluded) {
                &mut concluded
            } else {
                &mut parts
            };
            if !list.contains(&part) {
                list.push(part);
            }
        }
        // The model's license is the declared one (as SPDX's
        // `licenseDeclared`); concluded entries count only without it.
        let parts = if parts.is_empty() { concluded } else { parts };
        Ok(LicenseExpression::all_of(parts))
    }

    fn visit_service(&mut self, s: &input::Service, path: &str) -> Result<(), Error> {
        self.register_ref(s.bom_ref.as_deref(), path)?;
        self.check_properties(&s.properties, path)?;
        for (i, child) in s.services.iter().enumerate() {
            self.visit_service(child, &format!("{path}.services[{i}]"))?;
        }
        Ok(())
    }
}

fn spec_str(v: SpecVersion) -> &'static str {
    match v {
        SpecVersion::V1_4 => "1.4",
        SpecVersion::V1_5 => "1.5",
        SpecVersion::V1_6 => "1.6",
        SpecVersion::V1_7 => "1.7",
    }
}

/// `LicenseRef-` + the name with characters SPDX ids cannot hold as `-`.
fn license_ref(name: &str) -> String {
    let id: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("LicenseRef-{id}")
}

fn parse_source(value: &str) -> SourceKind {
    if value == "path" {
        SourceKind::Path
    } else if let Some(index) = value.strip_prefix("registry:") {
        SourceKind::Registry(index.to_owned())
    } else if let Some(git) = value.strip_prefix("git:") {
        match git.rsplit_once('#') {
            Some((url, rev)) => SourceKind::Git {
                url: url.to_owned(),
                revision: Some(rev.to_owned()),
            },
            None => SourceKind::Git {
                url: git.to_owned(),
                revision: None,
            },
        }
    } else {
        SourceKind::Unknown
    }
}

/// Checks a hash's content against its algorithm; SHA-2 hashes become
/// digests, the others are dropped.
fn read_hash(h: &input::Hash, path: &str) -> Result<Option<Digest>, Error> {
    use input::HashAlg as A;
    let (lengths, keep): (&[usize], Option<DigestAlgorithm>) = match h.alg {
        A::Md5 => (&[32], None),
        A::Sha1 => (&[40], None),
        A::Sha256 => (&[64], Some(DigestAlgorithm::Sha256)),
        A::Sha384 => (&[96], Some(DigestAlgorithm::Sha384)),
        A::Sha512 => (&[128], Some(DigestAlgorithm::Sha512)),
        A::Sha3_256 | A::Blake2b256 => (&[64], None),
        A::Sha3_384 | A::Blake2b384 => (&[96], None),
        A::Sha3_512 | A::Blake2b512 => (&[128], None),
        A::Blake3 => (&[32, 40, 64, 96, 128], None),
        A::Streebog256 => (&[64], None),
        A::Streebog512 => (&[128], None),
    };
    let content = &h.content;
    if !content.bytes().all(|b| b.is_ascii_hexdigit()) || !lengths.contains(&content.len()) {
        let expected: Vec<String> = lengths.iter().map(ToString::to_string).collect();
        return Err(invalid(
            format!("{path}.content"),
            format!(
                "`{}` is not {} hex characters",
                crate::digest::shorten(content),
                expected.join(" or ")
            ),
        ));
    }
    match keep {
        Some(alg) => Digest::from_hex(alg, &content.to_ascii_lowercase())
            .map(Some)
            .map_err(|e| invalid(format!("{path}.content"), e.to_string())),
        None => Ok(None),
    }
}

/// Reads a CycloneDX 1.4, 1.5, 1.6 or 1.7 JSON document into the model (see
/// the [module documentation](self) for what is checked and how fields
/// map).
///
/// ```
/// use custodia::sbom::cyclonedx::from_json;
/// let bom = br#"{
///   "bomFormat": "CycloneDX", "specVersion": "1.4", "version": 1,
///   "metadata": {"timestamp": "2024-05-01T12:00:00Z",
///                "component": {"type": "application", "name": "app", "bom-ref": "app"}},
///   "components": [{"type": "library", "name": "log", "version": "0.4.21",
///                   "purl": "pkg:cargo/log@0.4.21",
///                   "licenses": [{"license": {"id": "MIT"}}, {"license": {"id": "Apache-2.0"}}]}],
///   "dependencies": [{"ref": "app", "dependsOn": []}]
/// }"#;
/// let sbom = from_json(bom)?;
/// assert_eq!(sbom.root.name, "app");
/// assert_eq!(sbom.components[0].bom_ref, "pkg:cargo/log@0.4.21");
/// assert_eq!(sbom.components[0].license.as_ref().map(ToString::to_string).as_deref(), Some("MIT AND Apache-2.0"));
///
/// let err = from_json(br#"{"bomFormat": "CycloneDX", "specVersion": "1.6",
///   "components": [{"type": "library", "name": "x", "scope": "sometimes"}]}"#).unwrap_err();
/// assert!(err.to_string().contains("components[0].scope"), "{err}");
/// # Ok::<(), custodia::Error>(())
/// ```
pub fn from_json(bytes: &[u8]) -> Result<Sbom, Error> {
    let bom: input::Bom = crate::json::from_slice(bytes, DOCUMENT).map_err(|e| {
        let position = if e.line > 0 {
            format!(" (line {}, column {})", e.line, e.column)
        } else {
            String::new()
        };
        invalid(e.path.clone(), format!("{}{position}", e.message))
    })?;
    if let Some(serial) = &bom.serial_number {
        if !is_serial_number(serial) {
            return Err(invalid(
                "serialNumber",
                format!(
                    "`{}` is not `urn:uuid:` and a lowercase RFC 4122 UUID",
                    crate::digest::shorten(serial)
                ),
            ));
        }
    }
    if bom.version == Some(0) {
        return Err(invalid("version", "the BOM version is at least 1"));
    }

    let mut reader = Reader {
        version: bom.spec_version,
        refs: BTreeSet::new(),
        components: Vec::new(),
    };
    let mut timestamp = Timestamp::from_unix(0);
    let mut root: Option<Read> = None;
    if let Some(metadata) = &bom.metadata {
        if let Some(t) = &metadata.timestamp {
            // chrono also takes a space for the `T`; JSON Schema's
            // date-time does not.
            let separator = t.as_bytes().get(10).copied();
            let parsed = if matches!(separator, Some(b'T' | b't')) {
                t.parse().ok()
            } else {
                None
            };
            timestamp = parsed.ok_or_else(|| {
                invalid(
                    "metadata.timestamp",
                    format!(
                        "`{}` is not an RFC 3339 date-time",
                        crate::digest::shorten(t)
                    ),
                )
            })?;
        }
        reader.read_licenses(&metadata.licenses, "metadata.licenses")?;
        reader.check_properties(&metadata.properties, "metadata")?;
        if let Some(c) = &metadata.component {
            root = Some(reader.convert(c, "metadata.component")?);
            reader.visit_children(c, "metadata.component", true)?;
        }
    }
    for (i, c) in bom.components.iter().enumerate() {
        reader.visit(c, &format!("components[{i}]"), true)?;
    }
    for (i, s) in bom.services.iter().enumerate() {
        reader.visit_service(s, &format!("services[{i}]"))?;
    }
    for (i, c) in bom.citations.iter().enumerate() {
        let path = format!("citations[{i}]");
        reader.register_ref(c.bom_ref.as_deref(), &path)?;
        if c.pointers.is_some() == c.expressions.is_some() {
            return Err(invalid(
                path,
                "a citation has exactly one of `pointers` and `expressions`",
            ));
        }
        if c.attributed_to.is_none() && c.process.is_none() {
            return Err(invalid(
                path,
                "a citation needs `attributedTo` or `process`",
            ));
        }
    }

    // bom-refs for components that have none: purl, else NAME@VERSION,
    // made unique.
    let mut used = reader.refs.clone();
    let mut root = match root {
        Some(read) => read,
        None => {
            let mut component = Component::new("unknown", "");
            component.bom_ref = unused(NO_ROOT, &mut used);
            Read {
                component,
                explicit_ref: true,
            }
        }
    };
    assign_ref(&mut root, &mut used);
    for read in &mut reader.components {
        assign_ref(read, &mut used);
    }

    let model_refs: BTreeSet<BomRef> = std::iter::once(&root)
        .chain(&reader.components)
        .filter(|r| r.explicit_ref)
        .map(|r| r.component.bom_ref.clone())
        .collect();
    let mut sbom = Sbom::new(root.component, timestamp);
    sbom.components = reader.components.into_iter().map(|r| r.component).collect();
    for (i, d) in bom.dependencies.iter().enumerate() {
        let path = format!("dependencies[{i}]");
        let from = check_ref(&reader.refs, &d.reference, &format!("{path}.ref"))?;
        let mut seen = BTreeSet::new();
        for (j, to) in d.depends_on.iter().enumerate() {
            let at = format!("{path}.dependsOn[{j}]");
            let to = check_ref(&reader.refs, to, &at)?;
            if !seen.insert(to.as_str()) {
                return Err(invalid(
                    at,
                    format!("`{}` is listed twice", crate::digest::shorten(to.as_str())),
                ));
            }
            if model_refs.contains(from) && model_refs.contains(to) {
                sbom.depends(from, to);
            }
        }
    }
    Ok(sbom)
}

/// Gives a component without bom-ref its purl, else `NAME@VERSION` (or
/// `NAME`), made unique with `#2`, `#3`, ...
fn assign_ref(read: &mut Read, used: &mut BTreeSet<BomRef>) {
    if read.explicit_ref {
        return;
    }
    let c = &mut read.component;
    let base = match (&c.purl, c.version.is_empty()) {
        (Some(purl), _) => purl.as_str().to_owned(),
        (None, true) => c.name.clone(),
        (None, false) => format!("{}@{}", c.name, c.version),
    };
    c.bom_ref = unused(&base, used);
}

/// `base`, else `base#2`, `base#3`, ... : the first not in `used` (as a
/// [`BomRef`], derived when the text is not one), which is then used.
fn unused(base: &str, used: &mut BTreeSet<BomRef>) -> BomRef {
    let mut candidate = BomRef::derive(base.to_owned());
    let mut n = 1u64;
    while used.contains(&candidate) {
        n += 1;
        candidate = BomRef::derive(format!("{base}#{n}"));
    }
    used.insert(candidate.clone());
    candidate
}

/// The known bom-ref `r` names.
fn check_ref<'a>(refs: &'a BTreeSet<BomRef>, r: &str, path: &str) -> Result<&'a BomRef, Error> {
    if r.is_empty() {
        return Err(invalid(path, "a reference cannot be empty"));
    }
    refs.get(r).ok_or_else(|| {
        invalid(
            path,
            format!(
                "`{}` is not the bom-ref of a component or service",
                crate::digest::shorten(r)
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_numbers() {
        assert!(is_serial_number(
            "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79"
        ));
        assert!(!is_serial_number("urn:uuid:3e671687-395b-41f5-a30f"));
        assert!(!is_serial_number(
            "urn:uuid:3E671687-395b-41f5-a30f-a58921a69b79"
        ));
        assert!(!is_serial_number("3e671687-395b-41f5-a30f-a58921a69b79"));
    }

    #[test]
    fn license_names_become_license_refs() {
        assert_eq!(
            license_ref("Apache Software License"),
            "LicenseRef-Apache-Software-License"
        );
    }

    #[test]
    fn sources_read_back() {
        for s in [
            SourceKind::Path,
            SourceKind::Registry("sparse+https://index.crates.io/".to_owned()),
            SourceKind::Git {
                url: "https://github.com/a/b".to_owned(),
                revision: Some("0123".to_owned()),
            },
            SourceKind::Git {
                url: "https://github.com/a/b".to_owned(),
                revision: None,
            },
        ] {
            let mut c = Component::new("x", "1");
            c.source = s.clone();
            let w = write_component(&c, false);
            let value = w.properties.first().map(|p| p.value.clone()).unwrap();
            assert_eq!(parse_source(&value), s);
        }
    }
}
