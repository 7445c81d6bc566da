//! SPDX 3.0.1 JSON-LD writer and reader for the [`Sbom`] model (Core,
//! Software and SimpleLicensing profiles).
//!
//! The in-toto predicate type of these documents is
//! `https://spdx.dev/Document/v3`
//! ([`SPDX_DOCUMENT_V3`](crate::predicate::sbom::SPDX_DOCUMENT_V3)).
//!
//! # Writing ([`to_json`])
//!
//! One JSON-LD document, `@context`
//! `https://spdx.org/rdf/3.0.1/spdx-context.jsonld`, whose `@graph` holds,
//! in this order:
//!
//! * the `CreationInfo` (blank node `_:creationinfo`, `specVersion`
//!   `3.0.1`, `created` the SBOM's timestamp in whole seconds, created by
//!   the `SoftwareAgent` custodia using the `Tool` `custodia-VERSION`);
//! * that agent and that tool;
//! * the `SpdxDocument` (profile conformance `core`, `software`,
//!   `simpleLicensing`) whose root element is the `software_Sbom` (type
//!   `build`), whose root element is the root package; both list every
//!   other element;
//! * one `software_Package` per component, the root first (primary
//!   purpose `application`, the others `library`), then the rest by
//!   bom-ref: `name`, `software_packageVersion`, `software_packageUrl`
//!   (the purl), `software_downloadLocation` (as in SPDX 2.3, left out
//!   where SPDX 2.3 says `NOASSERTION`), `software_sourceInfo` (the model's
//!   source, as in SPDX 2.3), `description`, `suppliedBy` (an `Agent`
//!   named by the supplier text), `verifiedUsing` (`Hash`es `sha256`,
//!   `sha384`, `sha512`) and, when the bom-ref is neither the purl nor
//!   `NAME@VERSION`, an `externalIdentifier` of type `other` issued by
//!   `https://custodia.dev/bom-ref` that keeps it;
//! * one `Agent` per distinct supplier and one
//!   `simplelicensing_LicenseExpression` per distinct license expression
//!   (ids in the SPDX list's spelling, others as `LicenseRef-`, as in SPDX
//!   2.3; an expression that does not parse is left out), each package
//!   linked to its expression by a `hasDeclaredLicense` relationship;
//! * per component with dependencies, up to three relationships:
//!   `dependsOn` (required targets), `hasOptionalDependency` (optional
//!   targets) and a `LifecycleScopedRelationship` `dependsOn` with scope
//!   `development` (excluded targets: build- or dev-only).
//!
//! Element ids are IRIs under the document's namespace
//! `https://spdx.custodia.dev/NAME-VERSION-UUID` (the UUID is
//! [`Sbom::content_uuid`]), each derived from content: packages by the
//! SPDX 2.3 ids of the same components, agents and license expressions by
//! a hash of their text, relationships by their source and type. The same
//! model gives the same bytes.
//!
//! # Reading ([`from_json`])
//!
//! SPDX 3.0.1 JSON-LD documents (`@context` the 3.0.1 context, alone or
//! first in a list; `@graph`, or one top-level object). Checked, with the
//! JSON path in the error: the context, every graph node's `type`, unique
//! `spdxId`s, the `CreationInfo`'s `specVersion` (3.0.x) and `created`
//! (`YYYY-MM-DDThh:mm:ssZ`), that every reference a package, an SBOM or a
//! relationship makes is an IRI or blank node id naming a node of the
//! document (inline element objects are refused: references are how the
//! spec's examples and serializers write them), relationship types from
//! the 3.0.1 vocabulary, hash values (lowercase hex of the algorithm's
//! length), license expressions (SPDX syntax). Other classes (files,
//! snippets, vulnerabilities, annotations, ...) and properties the model
//! does not use are skipped.
//!
//! Components are the `software_Package`s. The root is the one package
//! the `software_Sbom` (else the `SpdxDocument`) names as root element;
//! otherwise a root named after the document, with the document's id as
//! bom-ref, depends on each root package. A component's bom-ref is the
//! custodia external identifier, else the purl, else `NAME@VERSION`; when
//! two packages would share one, their `spdxId`s are used. Edges come from
//! `dependsOn`, `hasOptionalDependency` (the target is optional),
//! `hasProvidedDependency`, `contains`, `hasStaticLink` and
//! `hasDynamicLink` between packages; a `LifecycleScopedRelationship`
//! whose scope is not `runtime` makes its targets excluded. The license
//! is the `hasDeclaredLicense` expression, else the `hasConcludedLicense`
//! one (`NoAssertionLicense` and `NoneLicense` mean none); the supplier is
//! the `suppliedBy` agent's name.
//!
//! What a round trip loses: the scope of a component no edge points to
//! (and of the root), license ids not on the SPDX list (read back as
//! `LicenseRef-ID`), unparsable license expressions, and sub-second
//! timestamps.
//!
//! ```
//! use custodia::sbom::{Component, Sbom, spdx3};
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
//! let json = spdx3::to_json(&sbom)?;
//! assert_eq!(json, spdx3::to_json(&sbom)?);
//! let text = String::from_utf8(json.clone()).unwrap();
//! assert!(text.contains(r#""specVersion": "3.0.1""#));
//! assert_eq!(spdx3::from_json(&json)?, sbom);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::spdx::{
    NOASSERTION, assign_ids, download_location, read_source, uri_encode, write_license,
    write_source,
};
use super::{BomRef, Component, LicenseExpression, Purl, Sbom, Scope};
use crate::digest::{Digest, DigestAlgorithm};
use crate::error::{Error, SbomError};
use crate::time::Timestamp;

/// The JSON-LD context of SPDX 3.0.1.
pub const CONTEXT: &str = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld";
/// The issuing authority of the external identifier that keeps a bom-ref.
pub const BOM_REF_AUTHORITY: &str = "https://custodia.dev/bom-ref";
const CREATION_INFO: &str = "_:creationinfo";
const DOCUMENT: &str = "SPDX 3";

// ---------------------------------------------------------------- writer

#[derive(Serialize)]
struct DocumentOut {
    #[serde(rename = "@context")]
    context: &'static str,
    #[serde(rename = "@graph")]
    graph: Vec<NodeOut>,
}

/// One node of the graph; absent fields are not written.
#[derive(Serialize, Default)]
struct NodeOut {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "@id", skip_serializing_if = "Option::is_none")]
    blank_id: Option<&'static str>,
    #[serde(rename = "spdxId", skip_serializing_if = "Option::is_none")]
    spdx_id: Option<String>,
    #[serde(rename = "creationInfo", skip_serializing_if = "Option::is_none")]
    creation_info: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    // CreationInfo
    #[serde(rename = "specVersion", skip_serializing_if = "Option::is_none")]
    spec_version: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created: Option<String>,
    #[serde(rename = "createdBy", skip_serializing_if = "Vec::is_empty")]
    created_by: Vec<String>,
    #[serde(rename = "createdUsing", skip_serializing_if = "Vec::is_empty")]
    created_using: Vec<String>,
    // SpdxDocument, software_Sbom
    #[serde(rename = "profileConformance", skip_serializing_if = "Vec::is_empty")]
    profile_conformance: Vec<&'static str>,
    #[serde(rename = "software_sbomType", skip_serializing_if = "Vec::is_empty")]
    sbom_type: Vec<&'static str>,
    #[serde(rename = "rootElement", skip_serializing_if = "Vec::is_empty")]
    root_element: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    element: Vec<String>,
    // software_Package
    #[serde(
        rename = "software_packageVersion",
        skip_serializing_if = "Option::is_none"
    )]
    package_version: Option<String>,
    #[serde(
        rename = "software_packageUrl",
        skip_serializing_if = "Option::is_none"
    )]
    package_url: Option<String>,
    #[serde(
        rename = "software_downloadLocation",
        skip_serializing_if = "Option::is_none"
    )]
    download_location: Option<String>,
    #[serde(
        rename = "software_sourceInfo",
        skip_serializing_if = "Option::is_none"
    )]
    source_info: Option<String>,
    #[serde(
        rename = "software_primaryPurpose",
        skip_serializing_if = "Option::is_none"
    )]
    primary_purpose: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(rename = "suppliedBy", skip_serializing_if = "Option::is_none")]
    supplied_by: Option<String>,
    #[serde(rename = "verifiedUsing", skip_serializing_if = "Vec::is_empty")]
    verified_using: Vec<HashOut>,
    #[serde(rename = "externalIdentifier", skip_serializing_if = "Vec::is_empty")]
    external_identifier: Vec<ExternalIdentifierOut>,
    // simplelicensing_LicenseExpression
    #[serde(
        rename = "simplelicensing_licenseExpression",
        skip_serializing_if = "Option::is_none"
    )]
    license_expression: Option<String>,
    // Relationship
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<String>,
    #[serde(rename = "relationshipType", skip_serializing_if = "Option::is_none")]
    relationship_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    to: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'static str>,
}

#[derive(Serialize)]
struct HashOut {
    #[serde(rename = "type")]
    kind: &'static str,
    algorithm: &'static str,
    #[serde(rename = "hashValue")]
    hash_value: String,
}

#[derive(Serialize)]
struct ExternalIdentifierOut {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "externalIdentifierType")]
    identifier_type: &'static str,
    identifier: String,
    #[serde(rename = "issuingAuthority")]
    issuing_authority: &'static str,
}

/// The first 16 hex digits of the SHA-256 of `text` (content-derived ids).
fn short_hash(text: &str) -> String {
    let hex = DigestAlgorithm::Sha256.hash(text.as_bytes()).hex();
    hex.get(..16).unwrap_or(&hex).to_owned()
}

fn hash_algorithm(a: DigestAlgorithm) -> &'static str {
    match a {
        DigestAlgorithm::Sha256 => "sha256",
        DigestAlgorithm::Sha384 => "sha384",
        DigestAlgorithm::Sha512 => "sha512",
    }
}

/// Writes `sbom` as an SPDX 3.0.1 JSON-LD document (pretty-printed, with
/// a final newline). The same model gives the same bytes.
///
/// The model is written as it is: call [`Sbom::validate`] first to be sure
/// that bom-refs are unique and every dependency names a component (edges
/// naming unknown bom-refs are skipped).
///
/// ```
/// use custodia::sbom::{Component, Sbom, spdx3};
/// use custodia::time::Timestamp;
/// let sbom = Sbom::new(Component::new("app", "1.0.0"), Timestamp::from_unix(0));
/// let json: serde_json::Value = serde_json::from_slice(&spdx3::to_json(&sbom)?).unwrap();
/// assert_eq!(json["@context"], spdx3::CONTEXT);
/// assert_eq!(json["@graph"][0]["created"], "1970-01-01T00:00:00Z");
/// # Ok::<(), custodia::Error>(())
/// ```
pub fn to_json(sbom: &Sbom) -> Result<Vec<u8>, Error> {
    let all: Vec<&Component> = std::iter::once(&sbom.root)
        .chain(sbom.sorted_components())
        .collect();
    // The name and version only make the namespace readable (the UUID
    // makes it unique): capped, so that every id below stays short enough
    // to read back as a bom-ref.
    let base = format!(
        "https://spdx.custodia.dev/{}-{}-{}",
        uri_encode_capped(&sbom.root.name, NAMESPACE_PART),
        uri_encode_capped(&sbom.root.version, NAMESPACE_PART),
        sbom.content_uuid()
    );
    let ids = package_ids(&base, &all)?;
    let id_of: BTreeMap<&str, &str> = all
        .iter()
        .zip(&ids)
        .map(|(c, id)| (c.bom_ref.as_str(), id.as_str()))
        .collect();
    let scope_of: BTreeMap<&str, Scope> =
        all.iter().map(|c| (c.bom_ref.as_str(), c.scope)).collect();

    let document_id = format!("{base}#SPDXRef-DOCUMENT");
    let sbom_id = format!("{base}#SPDXRef-Sbom");
    let agent_id = format!("{base}#SPDXRef-Agent-custodia");
    let tool_id = format!("{base}#SPDXRef-Tool-custodia");

    let mut packages = Vec::with_capacity(all.len());
    let mut suppliers: BTreeMap<String, String> = BTreeMap::new();
    let mut licenses: BTreeMap<String, String> = BTreeMap::new();
    let mut license_edges: Vec<NodeOut> = Vec::new();
    for (i, (c, id)) in all.iter().zip(&ids).enumerate() {
        let supplied_by = c.supplier.as_ref().map(|s| {
            suppliers
                .entry(format!("{base}#SPDXRef-Agent-{}", short_hash(s)))
                .or_insert_with(|| s.clone());
            format!("{base}#SPDXRef-Agent-{}", short_hash(s))
        });
        if let Some(expr) = c
            .license
            .as_ref()
            .and_then(|l| write_license(l, &mut BTreeSet::new()))
        {
            let license_id = format!("{base}#SPDXRef-License-{}", short_hash(&expr));
            licenses.insert(license_id.clone(), expr);
            license_edges.push(NodeOut {
                kind: "Relationship",
                spdx_id: Some(format!("{id}-hasDeclaredLicense")),
                creation_info: Some(CREATION_INFO),
                from: Some(id.clone()),
                relationship_type: Some("hasDeclaredLicense"),
                to: vec![license_id],
                ..NodeOut::default()
            });
        }
        let default_ref = c
            .purl
            .as_ref()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| format!("{}@{}", c.name, c.version));
        let download = download_location(c);
        packages.push(NodeOut {
            kind: "software_Package",
            spdx_id: Some(id.clone()),
            creation_info: Some(CREATION_INFO),
            name: Some(c.name.clone()),
            package_version: (!c.version.is_empty()).then(|| c.version.clone()),
            package_url: c.purl.as_ref().map(|p| p.as_str().to_owned()),
            download_location: (download != NOASSERTION).then_some(download),
            source_info: write_source(&c.source),
            primary_purpose: Some(if i == 0 { "application" } else { "library" }),
            description: c.description.clone(),
            supplied_by,
            verified_using: c
                .hashes
                .iter()
                .map(|d| HashOut {
                    kind: "Hash",
                    algorithm: hash_algorithm(d.algorithm()),
                    hash_value: d.hex(),
                })
                .collect(),
            external_identifier: if c.bom_ref.as_str() == default_ref {
                Vec::new()
            } else {
                vec![ExternalIdentifierOut {
                    kind: "ExternalIdentifier",
                    identifier_type: "other",
                    identifier: c.bom_ref.to_string(),
                    issuing_authority: BOM_REF_AUTHORITY,
                }]
            },
            ..NodeOut::default()
        });
    }

    let mut relationships = Vec::new();
    for (from, tos) in &sbom.dependencies {
        let Some(from_id) = id_of.get(from.as_str()) else {
            continue;
        };
        let mut by_scope: BTreeMap<Scope, Vec<String>> = BTreeMap::new();
        for to in tos {
            if let (Some(to_id), Some(scope)) = (id_of.get(to.as_str()), scope_of.get(to.as_str()))
            {
                by_scope
                    .entry(*scope)
                    .or_default()
                    .push((*to_id).to_owned());
            }
        }
        for (scope, mut to) in by_scope {
            to.sort();
            let (kind, relationship_type, lifecycle, suffix) = match scope {
                Scope::Required => ("Relationship", "dependsOn", None, "dependsOn"),
                Scope::Optional => (
                    "Relationship",
                    "hasOptionalDependency",
                    None,
                    "hasOptionalDependency",
                ),
                Scope::Excluded => (
                    "LifecycleScopedRelationship",
                    "dependsOn",
                    Some("development"),
                    "dependsOn-development",
                ),
            };
            relationships.push(NodeOut {
                kind,
                spdx_id: Some(format!("{from_id}-{suffix}")),
                creation_info: Some(CREATION_INFO),
                from: Some((*from_id).to_owned()),
                relationship_type: Some(relationship_type),
                to,
                scope: lifecycle,
                ..NodeOut::default()
            });
        }
    }

    let agents: Vec<NodeOut> = suppliers
        .into_iter()
        .map(|(id, name)| NodeOut {
            kind: "Agent",
            spdx_id: Some(id),
            creation_info: Some(CREATION_INFO),
            name: Some(name),
            ..NodeOut::default()
        })
        .collect();
    let expressions: Vec<NodeOut> = licenses
        .into_iter()
        .map(|(id, expr)| NodeOut {
            kind: "simplelicensing_LicenseExpression",
            spdx_id: Some(id),
            creation_info: Some(CREATION_INFO),
            license_expression: Some(expr),
            ..NodeOut::default()
        })
        .collect();

    let root_id = ids.first().cloned().unwrap_or_default();
    let elements: Vec<String> = [agent_id.clone(), tool_id.clone()]
        .into_iter()
        .chain(
            packages
                .iter()
                .chain(&agents)
                .chain(&expressions)
                .chain(&license_edges)
                .chain(&relationships)
                .filter_map(|n| n.spdx_id.clone()),
        )
        .collect();
    let mut graph = vec![
        NodeOut {
            kind: "CreationInfo",
            blank_id: Some(CREATION_INFO),
            spec_version: Some("3.0.1"),
            // Whole seconds: the schema's pattern has no fractional part.
            created: Some(Timestamp::from_unix(sbom.timestamp.unix()).to_string()),
            created_by: vec![agent_id.clone()],
            created_using: vec![tool_id.clone()],
            ..NodeOut::default()
        },
        NodeOut {
            kind: "SoftwareAgent",
            spdx_id: Some(agent_id),
            creation_info: Some(CREATION_INFO),
            name: Some("custodia".to_owned()),
            ..NodeOut::default()
        },
        NodeOut {
            kind: "Tool",
            spdx_id: Some(tool_id),
            creation_info: Some(CREATION_INFO),
            name: Some(format!("custodia-{}", env!("CARGO_PKG_VERSION"))),
            ..NodeOut::default()
        },
        NodeOut {
            kind: "SpdxDocument",
            spdx_id: Some(document_id),
            creation_info: Some(CREATION_INFO),
            name: Some(sbom.root.name.clone()),
            profile_conformance: vec!["core", "software", "simpleLicensing"],
            root_element: vec![sbom_id.clone()],
            element: std::iter::once(sbom_id.clone())
                .chain(elements.iter().cloned())
                .collect(),
            ..NodeOut::default()
        },
        NodeOut {
            kind: "software_Sbom",
            spdx_id: Some(sbom_id),
            creation_info: Some(CREATION_INFO),
            sbom_type: vec!["build"],
            root_element: vec![root_id],
            element: elements,
            ..NodeOut::default()
        },
    ];
    graph.extend(packages);
    graph.extend(agents);
    graph.extend(expressions);
    graph.extend(license_edges);
    graph.extend(relationships);
    let doc = DocumentOut {
        context: CONTEXT,
        graph,
    };
    let mut out = serde_json::to_vec_pretty(&doc).map_err(|e| invalid("", e.to_string()))?;
    out.push(b'\n');
    Ok(out)
}

/// The most bytes of the root's name, and of its version, in the
/// document's namespace.
const NAMESPACE_PART: usize = 64;

/// `s` URI-encoded (as [`uri_encode`]), cut before the first character
/// whose encoding would pass `max` bytes.
fn uri_encode_capped(s: &str, max: usize) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let piece = uri_encode(c.encode_utf8(&mut [0; 4]));
        if out.len() + piece.len() > max {
            break;
        }
        out.push_str(&piece);
    }
    out
}

/// Each component's element id: `base#` its SPDX 2.3 id, or, when that
/// would be too long to read back as a bom-ref (the reader takes package
/// ids as bom-refs), `base#` a fragment from the SHA-256 of its bom-ref.
fn package_ids(base: &str, all: &[&Component]) -> Result<Vec<String>, Error> {
    let fragments = assign_ids(all)?;
    let mut used: BTreeSet<String> = fragments.iter().map(ToString::to_string).collect();
    let mut ids = Vec::with_capacity(fragments.len());
    for (fragment, c) in fragments.iter().zip(all) {
        let id = format!("{base}#{fragment}");
        if BomRef::parse(&id).is_ok() {
            ids.push(id);
            continue;
        }
        let hash = DigestAlgorithm::Sha256
            .hash(c.bom_ref.as_str().as_bytes())
            .hex();
        let mut short = format!("SPDXRef-Package-{hash}");
        let mut n = 2u64;
        while used.contains(&short) {
            short = format!("SPDXRef-Package-{hash}-{n}");
            n += 1;
        }
        used.insert(short.clone());
        ids.push(format!("{base}#{short}"));
    }
    Ok(ids)
}

// ---------------------------------------------------------------- reader

/// An id used as a bom-ref (a package's spdxId, a kept bom-ref).
fn parse_ref(id: &str, path: &str) -> Result<BomRef, Error> {
    BomRef::parse(id).map_err(|e| {
        invalid(
            path,
            format!("`{}` is not a bom-ref: {e}", crate::digest::shorten(id)),
        )
    })
}

fn invalid(path: impl Into<String>, reason: impl Into<String>) -> Error {
    SbomError::Invalid {
        document: DOCUMENT,
        path: path.into(),
        reason: reason.into(),
    }
    .into()
}

#[derive(Deserialize)]
struct DocumentIn {
    #[serde(rename = "@context")]
    context: serde_json::Value,
    #[serde(rename = "@graph", default)]
    graph: Option<Vec<serde_json::Value>>,
}

/// A reference: an IRI or a blank node id (inline objects are refused).
#[derive(Deserialize)]
#[serde(untagged)]
enum RefIn {
    Id(String),
    Inline(serde::de::IgnoredAny),
}

/// The fields of any graph node the reader uses.
#[derive(Deserialize)]
struct NodeIn {
    #[serde(rename = "type")]
    kind: String,
    #[serde(rename = "spdxId", default)]
    spdx_id: Option<String>,
    #[serde(rename = "@id", default)]
    blank_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(rename = "specVersion", default)]
    spec_version: Option<String>,
    #[serde(default)]
    created: Option<String>,
    #[serde(rename = "rootElement", default)]
    root_element: Vec<RefIn>,
    #[serde(rename = "software_packageVersion", default)]
    package_version: Option<String>,
    #[serde(rename = "software_packageUrl", default)]
    package_url: Option<String>,
    #[serde(rename = "software_downloadLocation", default)]
    download_location: Option<String>,
    #[serde(rename = "software_sourceInfo", default)]
    source_info: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(rename = "suppliedBy", default)]
    supplied_by: Option<RefIn>,
    #[serde(rename = "verifiedUsing", default)]
    verified_using: Vec<IntegrityIn>,
    #[serde(rename = "externalIdentifier", default)]
    external_identifier: Vec<ExternalIdentifierIn>,
    #[serde(rename = "simplelicensing_licenseExpression", default)]
    license_expression: Option<String>,
    #[serde(default)]
    from: Option<RefIn>,
    #[serde(rename = "relationshipType", default)]
    relationship_type: Option<String>,
    #[serde(default)]
    to: Vec<RefIn>,
    #[serde(default)]
    scope: Option<String>,
}

#[derive(Deserialize)]
struct IntegrityIn {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    algorithm: Option<String>,
    #[serde(rename = "hashValue", default)]
    hash_value: Option<String>,
}

#[derive(Deserialize)]
struct ExternalIdentifierIn {
    #[serde(rename = "externalIdentifierType")]
    identifier_type: String,
    identifier: String,
    #[serde(rename = "issuingAuthority", default)]
    issuing_authority: Option<String>,
}

/// The relationship types of SPDX 3.0.1 (`RelationshipType`).
const RELATIONSHIP_TYPES: &[&str] = &[
    "affects",
    "amendedBy",
    "ancestorOf",
    "availableFrom",
    "configures",
    "contains",
    "coordinatedBy",
    "copiedTo",
    "delegatedTo",
    "dependsOn",
    "descendantOf",
    "describes",
    "doesNotAffect",
    "expandsTo",
    "exploitCreatedBy",
    "fixedBy",
    "fixedIn",
    "foundBy",
    "generates",
    "hasAddedFile",
    "hasAssessmentFor",
    "hasAssociatedVulnerability",
    "hasConcludedLicense",
    "hasDataFile",
    "hasDeclaredLicense",
    "hasDeletedFile",
    "hasDependencyManifest",
    "hasDistributionArtifact",
    "hasDocumentation",
    "hasDynamicLink",
    "hasEvidence",
    "hasExample",
    "hasHost",
    "hasInput",
    "hasMetadata",
    "hasOptionalComponent",
    "hasOptionalDependency",
    "hasOutput",
    "hasPrerequisite",
    "hasProvidedDependency",
    "hasRequirement",
    "hasSpecification",
    "hasStaticLink",
    "hasTest",
    "hasTestCase",
    "hasVariant",
    "invokedBy",
    "modifiedBy",
    "other",
    "packagedBy",
    "patchedBy",
    "publishedBy",
    "reportedBy",
    "republishedBy",
    "serializedInArtifact",
    "testedOn",
    "trainedOn",
    "underInvestigationFor",
    "usesTool",
];

/// Hash algorithms of SPDX 3.0.1 with the hex lengths their values have
/// (`None`: any non-empty length).
const HASH_LENGTHS: &[(&str, Option<usize>)] = &[
    ("adler32", Some(8)),
    ("blake2b256", Some(64)),
    ("blake2b384", Some(96)),
    ("blake2b512", Some(128)),
    ("blake3", None),
    ("crystalsDilithium", None),
    ("crystalsKyber", None),
    ("falcon", None),
    ("md2", Some(32)),
    ("md4", Some(32)),
    ("md5", Some(32)),
    ("md6", None),
    ("other", None),
    ("sha1", Some(40)),
    ("sha224", Some(56)),
    ("sha256", Some(64)),
    ("sha384", Some(96)),
    ("sha3_224", Some(56)),
    ("sha3_256", Some(64)),
    ("sha3_384", Some(96)),
    ("sha3_512", Some(128)),
    ("sha512", Some(128)),
];

/// The id a reference names; inline objects are refused.
fn ref_id<'a>(r: &'a RefIn, path: &str) -> Result<&'a str, Error> {
    match r {
        RefIn::Id(id) if !id.is_empty() => Ok(id),
        RefIn::Id(_) => Err(invalid(path, "an empty reference")),
        RefIn::Inline(_) => Err(invalid(
            path,
            "inline element objects are not read: reference the element by its spdxId",
        )),
    }
}

fn read_created(created: &str, path: &str) -> Result<Timestamp, Error> {
    let shape_ok = created.len() == 20
        && created.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            10 => b == b'T',
            13 | 16 => b == b':',
            19 => b == b'Z',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return Err(invalid(
            path,
            format!(
                "`{}` is not YYYY-MM-DDThh:mm:ssZ",
                crate::digest::shorten(created)
            ),
        ));
    }
    created
        .parse()
        .map_err(|e: Error| invalid(path, e.to_string()))
}

fn read_hashes(list: &[IntegrityIn], path: &str) -> Result<Vec<Digest>, Error> {
    let mut out = Vec::new();
    for (i, h) in list.iter().enumerate() {
        let at = format!("{path}[{i}]");
        if h.kind != "Hash" {
            continue; // package verification codes and others
        }
        let (Some(algorithm), Some(value)) = (&h.algorithm, &h.hash_value) else {
            return Err(invalid(at, "a Hash needs `algorithm` and `hashValue`"));
        };
        let Some((_, length)) = HASH_LENGTHS.iter().find(|(a, _)| a == algorithm) else {
            return Err(invalid(
                format!("{at}.algorithm"),
                format!(
                    "`{}` is not an SPDX 3 hash algorithm",
                    crate::digest::shorten(algorithm)
                ),
            ));
        };
        let hex_ok = !value.is_empty()
            && value
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            && length.is_none_or(|n| value.len() == n);
        if !hex_ok {
            return Err(invalid(
                format!("{at}.hashValue"),
                format!(
                    "`{}` is not lowercase hex of the length {algorithm} gives",
                    crate::digest::shorten(value)
                ),
            ));
        }
        let alg = match algorithm.as_str() {
            "sha256" => DigestAlgorithm::Sha256,
            "sha384" => DigestAlgorithm::Sha384,
            "sha512" => DigestAlgorithm::Sha512,
            _ => continue,
        };
        out.push(
            Digest::from_hex(alg, value)
                .map_err(|e| invalid(format!("{at}.hashValue"), e.to_string()))?,
        );
    }
    Ok(out)
}

/// An edge kind a relationship type gives between packages.
#[derive(Clone, Copy, PartialEq, Eq)]
enum EdgeKind {
    Required,
    Optional,
    Excluded,
}

/// Reads an SPDX 3.0.1 JSON-LD document into the model (see the
/// [module documentation](self) for what is checked and how fields map).
///
/// ```
/// use custodia::sbom::spdx3::from_json;
/// let err = from_json(br#"{"@context": "https://spdx.org/rdf/3.0.0/spdx-context.jsonld",
///   "@graph": []}"#).unwrap_err();
/// assert!(matches!(err, custodia::Error::Sbom(_)));
/// ```
pub fn from_json(bytes: &[u8]) -> Result<Sbom, Error> {
    let doc: DocumentIn = crate::json::from_slice(bytes, "SPDX 3 document")?;
    let context_ok = match &doc.context {
        serde_json::Value::String(s) => s == CONTEXT,
        serde_json::Value::Array(list) => list.first().and_then(|v| v.as_str()) == Some(CONTEXT),
        _ => false,
    };
    if !context_ok {
        return Err(invalid(
            "@context",
            format!("must be `{CONTEXT}` (SPDX 3.0.1)"),
        ));
    }
    let values = match doc.graph {
        Some(graph) => graph,
        None => {
            let whole: serde_json::Value = crate::json::from_slice(bytes, "SPDX 3 document")?;
            let mut single = whole;
            if let Some(map) = single.as_object_mut() {
                map.remove("@context");
            }
            vec![single]
        }
    };
    let mut nodes = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        let node: NodeIn = crate::json::from_value(v, "SPDX 3 graph node")
            .map_err(|e| invalid(format!("@graph[{i}]"), e.to_string()))?;
        nodes.push(node);
    }

    // Ids: unique; CreationInfo checked; spdxId index.
    let mut by_id: BTreeMap<&str, usize> = BTreeMap::new();
    let mut timestamp = None;
    for (i, n) in nodes.iter().enumerate() {
        let path = format!("@graph[{i}]");
        for id in [n.spdx_id.as_deref(), n.blank_id.as_deref()]
            .into_iter()
            .flatten()
        {
            if id.is_empty() || by_id.insert(id, i).is_some() {
                return Err(invalid(
                    path.clone(),
                    format!("`{}` is empty or not unique", crate::digest::shorten(id)),
                ));
            }
        }
        if n.kind == "CreationInfo" {
            match n.spec_version.as_deref() {
                Some(v) if v.starts_with("3.0.") => {}
                _ => {
                    return Err(invalid(
                        format!("{path}.specVersion"),
                        "a CreationInfo of SPDX 3.0.x needs specVersion 3.0.x",
                    ));
                }
            }
            let created = n
                .created
                .as_deref()
                .ok_or_else(|| invalid(format!("{path}.created"), "missing"))?;
            let t = read_created(created, &format!("{path}.created"))?;
            // The earliest creation time is the document's.
            timestamp = Some(timestamp.map_or(t, |old: Timestamp| old.min(t)));
        }
    }
    let timestamp = timestamp.ok_or_else(|| invalid("@graph", "no CreationInfo"))?;
    let known = |id: &str, path: &str| -> Result<usize, Error> {
        by_id.get(id).copied().ok_or_else(|| {
            invalid(
                path,
                format!(
                    "`{}` names no element of the document",
                    crate::digest::shorten(id)
                ),
            )
        })
    };

    // Packages.
    let mut package_at: BTreeMap<usize, usize> = BTreeMap::new(); // node -> component index
    let mut components: Vec<(Component, Option<BomRef>, BomRef)> = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        if n.kind != "software_Package" {
            continue;
        }
        let path = format!("@graph[{i}]");
        let spdx_id = n
            .spdx_id
            .clone()
            .ok_or_else(|| invalid(path.clone(), "a package needs a spdxId"))?;
        let spdx_id = parse_ref(&spdx_id, &format!("{path}.spdxId"))?;
        let name = n.name.clone().unwrap_or_default();
        let version = n.package_version.clone().unwrap_or_default();
        let mut c = Component::new(name, version);
        c.purl = n
            .package_url
            .as_deref()
            .map(|p| {
                Purl::parse(p).map_err(|e| {
                    invalid(
                        format!("{path}.software_packageUrl"),
                        format!("`{}` is not a purl: {e}", crate::digest::shorten(p)),
                    )
                })
            })
            .transpose()?;
        c.description = n.description.clone();
        c.hashes = read_hashes(&n.verified_using, &format!("{path}.verifiedUsing"))?;
        c.source = read_source(
            n.source_info.as_deref(),
            n.download_location.as_deref().unwrap_or(NOASSERTION),
        );
        if let Some(r) = &n.supplied_by {
            let at = format!("{path}.suppliedBy");
            let agent = nodes.get(known(ref_id(r, &at)?, &at)?);
            c.supplier = agent.and_then(|a| a.name.clone());
        }
        let explicit = n
            .external_identifier
            .iter()
            .enumerate()
            .find(|(_, e)| {
                e.identifier_type == "other"
                    && e.issuing_authority.as_deref() == Some(BOM_REF_AUTHORITY)
            })
            .map(|(k, e)| {
                parse_ref(
                    &e.identifier,
                    &format!("{path}.externalIdentifier[{k}].identifier"),
                )
            })
            .transpose()?;
        package_at.insert(i, components.len());
        components.push((c, explicit, spdx_id));
    }

    // bom-refs: the kept one, else the purl, else NAME@VERSION; clashes
    // fall back to the spdxId.
    let candidate = |c: &Component, explicit: &Option<BomRef>| {
        explicit
            .clone()
            .or_else(|| c.purl.as_ref().map(BomRef::from))
            .unwrap_or_else(|| BomRef::derive(format!("{}@{}", c.name, c.version)))
    };
    let mut counts: BTreeMap<BomRef, usize> = BTreeMap::new();
    for (c, explicit, _) in &components {
        *counts.entry(candidate(c, explicit)).or_default() += 1;
    }
    for (c, explicit, spdx_id) in &mut components {
        let r = candidate(c, explicit);
        c.bom_ref = if counts.get(&r).copied().unwrap_or(0) > 1 {
            spdx_id.clone()
        } else {
            r
        };
    }

    // Relationships: edges, licenses.
    let mut edges: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    let mut incoming: BTreeMap<usize, Vec<EdgeKind>> = BTreeMap::new();
    let mut declared: BTreeMap<usize, LicenseExpression> = BTreeMap::new();
    let mut concluded: BTreeMap<usize, LicenseExpression> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        if n.kind != "Relationship" && n.kind != "LifecycleScopedRelationship" {
            continue;
        }
        let path = format!("@graph[{i}]");
        let relationship_type = n.relationship_type.as_deref().unwrap_or_default();
        if !RELATIONSHIP_TYPES.contains(&relationship_type) {
            return Err(invalid(
                format!("{path}.relationshipType"),
                format!(
                    "`{}` is not an SPDX 3.0.1 relationship type",
                    crate::digest::shorten(relationship_type)
                ),
            ));
        }
        let from_ref = n
            .from
            .as_ref()
            .ok_or_else(|| invalid(format!("{path}.from"), "missing"))?;
        let from = known(
            ref_id(from_ref, &format!("{path}.from"))?,
            &format!("{path}.from"),
        )?;
        let mut targets = Vec::with_capacity(n.to.len());
        for (j, t) in n.to.iter().enumerate() {
            let at = format!("{path}.to[{j}]");
            let id = ref_id(t, &at)?;
            // Individuals such as NoAssertionLicense and listed licenses
            // are IRIs of the SPDX vocabulary, not nodes of the document.
            if id.starts_with("https://spdx.org/") || id.starts_with("spdx:") {
                continue;
            }
            targets.push(known(id, &at)?);
        }
        match relationship_type {
            "hasDeclaredLicense" | "hasConcludedLicense" => {
                let Some(&component) = package_at.get(&from) else {
                    continue;
                };
                for t in targets {
                    let Some(expr) = nodes.get(t).and_then(|x| x.license_expression.as_deref())
                    else {
                        continue;
                    };
                    let at = format!("@graph[{t}].simplelicensing_licenseExpression");
                    let map = if relationship_type == "hasDeclaredLicense" {
                        &mut declared
                    } else {
                        &mut concluded
                    };
                    let license = match map.remove(&component) {
                        Some(old) => read_license(&format!("({old}) AND ({expr})"), &at)?,
                        None => read_license(expr, &at)?,
                    };
                    map.insert(component, license);
                }
            }
            "dependsOn"
            | "hasOptionalDependency"
            | "hasProvidedDependency"
            | "contains"
            | "hasStaticLink"
            | "hasDynamicLink" => {
                let Some(&a) = package_at.get(&from) else {
                    continue;
                };
                let kind = if relationship_type == "hasOptionalDependency" {
                    EdgeKind::Optional
                } else if n.kind == "LifecycleScopedRelationship"
                    && n.scope.as_deref().is_some_and(|s| s != "runtime")
                {
                    EdgeKind::Excluded
                } else {
                    EdgeKind::Required
                };
                for t in targets {
                    if let Some(&b) = package_at.get(&t) {
                        edges.entry(a).or_default().insert(b);
                        incoming.entry(b).or_default().push(kind);
                    }
                }
            }
            _ => {}
        }
    }
    for (index, (c, _, _)) in components.iter_mut().enumerate() {
        c.license = declared.remove(&index).or_else(|| concluded.remove(&index));
        if let Some(kinds) = incoming.get(&index) {
            c.scope = if kinds.iter().all(|k| *k == EdgeKind::Optional) {
                Scope::Optional
            } else if kinds.iter().all(|k| *k == EdgeKind::Excluded) {
                Scope::Excluded
            } else {
                Scope::Required
            };
        }
    }

    // The root: the Sbom's (else the document's) root package.
    let root_of = |kind: &str| -> Result<Option<Vec<usize>>, Error> {
        let Some((i, n)) = nodes.iter().enumerate().find(|(_, n)| n.kind == kind) else {
            return Ok(None);
        };
        let mut roots = Vec::new();
        for (j, r) in n.root_element.iter().enumerate() {
            let at = format!("@graph[{i}].rootElement[{j}]");
            roots.push(known(ref_id(r, &at)?, &at)?);
        }
        Ok(Some(roots))
    };
    let mut roots = root_of("software_Sbom")?.unwrap_or_default();
    if !roots.iter().any(|r| package_at.contains_key(r)) {
        // The document's root may be the Sbom: follow it once.
        let doc_roots = root_of("SpdxDocument")?.unwrap_or_default();
        roots = doc_roots;
    }
    let root_packages: Vec<usize> = roots
        .iter()
        .filter_map(|r| package_at.get(r).copied())
        .collect();
    let bom_refs: Vec<BomRef> = components
        .iter()
        .map(|(c, _, _)| c.bom_ref.clone())
        .collect();
    let mut all: Vec<Option<Component>> = components.into_iter().map(|(c, _, _)| Some(c)).collect();
    let (root, extra_root_edges) = match root_packages.as_slice() {
        [one] => (
            all.get_mut(*one)
                .and_then(Option::take)
                .unwrap_or_else(|| Component::new("", "")),
            Vec::new(),
        ),
        several => {
            let (name, id) = match nodes
                .iter()
                .enumerate()
                .find(|(_, n)| n.kind == "SpdxDocument")
            {
                Some((i, n)) => (
                    n.name.clone().unwrap_or_else(|| "SpdxDocument".to_owned()),
                    match n.spdx_id.as_deref() {
                        Some(id) if !id.is_empty() => {
                            parse_ref(id, &format!("@graph[{i}].spdxId"))?
                        }
                        _ => BomRef::derive("SpdxDocument".to_owned()),
                    },
                ),
                None => (
                    "SpdxDocument".to_owned(),
                    BomRef::derive("SpdxDocument".to_owned()),
                ),
            };
            let mut root = Component::new(name, "");
            root.bom_ref = id;
            (root, several.to_vec())
        }
    };
    let mut root = root;
    // The root's scope is not carried (an edge to it, e.g. a self-edge,
    // says nothing about how the root is used).
    root.scope = Scope::Required;
    let mut sbom = Sbom::new(root, timestamp);
    for c in all.into_iter().flatten() {
        sbom.add(c);
    }
    let root_ref = sbom.root.bom_ref.clone();
    for t in extra_root_edges {
        if let Some(to) = bom_refs.get(t) {
            sbom.depends(&root_ref, to);
        }
    }
    for (a, bs) in edges {
        let Some(from) = bom_refs.get(a) else {
            continue;
        };
        for b in bs {
            if let Some(to) = bom_refs.get(b) {
                sbom.depends(from, to);
            }
        }
    }
    sbom.validate()
        .map_err(|e| invalid("@graph", e.to_string()))?;
    Ok(sbom)
}

fn read_license(expr: &str, path: &str) -> Result<LicenseExpression, Error> {
    LicenseExpression::parse(expr).map_err(|reason| {
        invalid(
            path,
            format!(
                "`{}` is not an SPDX license expression: {reason}",
                crate::digest::shorten(expr)
            ),
        )
    })
}
