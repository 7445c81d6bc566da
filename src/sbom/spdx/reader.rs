//! The SPDX 2.2 / 2.3 JSON reader.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::{DOCUMENT_ID, SpdxId, is_idstring_plus, read_source, read_supplier};
use crate::digest::{Digest, DigestAlgorithm};
use crate::error::{Error, SbomError};
use crate::sbom::{BomRef, Component, LicenseExpression, Purl, Sbom, Scope};
use crate::time::Timestamp;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DocumentIn {
    spdx_version: String,
    data_license: String,
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: String,
    document_namespace: String,
    creation_info: CreationInfoIn,
    #[serde(default)]
    external_document_refs: Option<Vec<ExternalDocumentRefIn>>,
    #[serde(default)]
    document_describes: Option<Vec<String>>,
    #[serde(default)]
    packages: Option<Vec<PackageIn>>,
    #[serde(default)]
    files: Option<Vec<ElementIn>>,
    #[serde(default)]
    snippets: Option<Vec<ElementIn>>,
    #[serde(default)]
    relationships: Option<Vec<RelationshipIn>>,
}

#[derive(Deserialize)]
struct CreationInfoIn {
    created: String,
    creators: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExternalDocumentRefIn {
    external_document_id: String,
}

#[derive(Deserialize)]
struct ElementIn {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    #[serde(default)]
    checksums: Option<Vec<ChecksumIn>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PackageIn {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: String,
    #[serde(default)]
    version_info: Option<String>,
    download_location: String,
    #[serde(default)]
    files_analyzed: Option<bool>,
    #[serde(default)]
    package_verification_code: Option<serde_json::Value>,
    #[serde(default)]
    checksums: Option<Vec<ChecksumIn>>,
    #[serde(default)]
    license_concluded: Option<String>,
    #[serde(default)]
    license_declared: Option<String>,
    #[serde(default)]
    supplier: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    source_info: Option<String>,
    #[serde(default)]
    external_refs: Option<Vec<ExternalRefIn>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChecksumIn {
    algorithm: String,
    checksum_value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRefIn {
    reference_category: String,
    reference_type: String,
    reference_locator: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RelationshipIn {
    spdx_element_id: String,
    relationship_type: String,
    related_spdx_element: String,
}

/// Relationship types of SPDX 2.3 (JSON schema); `true` when 2.2 has it too.
const RELATIONSHIP_TYPES: &[(&str, bool)] = &[
    ("AMENDS", false),
    ("ANCESTOR_OF", true),
    ("BUILD_DEPENDENCY_OF", true),
    ("BUILD_TOOL_OF", true),
    ("CONTAINED_BY", true),
    ("CONTAINS", true),
    ("COPY_OF", true),
    ("DATA_FILE_OF", true),
    ("DEPENDENCY_MANIFEST_OF", true),
    ("DEPENDENCY_OF", true),
    ("DEPENDS_ON", true),
    ("DESCENDANT_OF", true),
    ("DESCRIBED_BY", true),
    ("DESCRIBES", true),
    ("DEV_DEPENDENCY_OF", true),
    ("DEV_TOOL_OF", true),
    ("DISTRIBUTION_ARTIFACT", true),
    ("DOCUMENTATION_OF", true),
    ("DYNAMIC_LINK", true),
    ("EXAMPLE_OF", true),
    ("EXPANDED_FROM_ARCHIVE", true),
    ("FILE_ADDED", true),
    ("FILE_DELETED", true),
    ("FILE_MODIFIED", true),
    ("GENERATED_FROM", true),
    ("GENERATES", true),
    ("HAS_PREREQUISITE", true),
    ("METAFILE_OF", true),
    ("OPTIONAL_COMPONENT_OF", true),
    ("OPTIONAL_DEPENDENCY_OF", true),
    ("OTHER", true),
    ("PACKAGE_OF", true),
    ("PATCH_APPLIED", true),
    ("PATCH_FOR", true),
    ("PREREQUISITE_FOR", true),
    ("PROVIDED_DEPENDENCY_OF", true),
    ("REQUIREMENT_DESCRIPTION_FOR", false),
    ("RUNTIME_DEPENDENCY_OF", true),
    ("SPECIFICATION_FOR", false),
    ("STATIC_LINK", true),
    ("TEST_CASE_OF", true),
    ("TEST_DEPENDENCY_OF", true),
    ("TEST_OF", true),
    ("TEST_TOOL_OF", true),
    ("VARIANT_OF", true),
];

/// Checksum algorithms and their lengths in hex digits (min, max), as the
/// SPDX spec and spdx-tools define them.
const CHECKSUM_LENGTHS: &[(&str, usize, usize)] = &[
    ("ADLER32", 8, 8),
    ("BLAKE2b-256", 64, 64),
    ("BLAKE2b-384", 96, 96),
    ("BLAKE2b-512", 128, 128),
    ("BLAKE3", 64, usize::MAX),
    ("MD2", 32, 32),
    ("MD4", 32, 32),
    ("MD5", 32, 32),
    ("MD6", 0, 128),
    ("SHA1", 40, 40),
    ("SHA224", 56, 56),
    ("SHA256", 64, 64),
    ("SHA3-256", 64, 64),
    ("SHA3-384", 96, 96),
    ("SHA3-512", 128, 128),
    ("SHA384", 96, 96),
    ("SHA512", 128, 128),
];

const REFERENCE_CATEGORIES: &[&str] = &[
    "OTHER",
    "PERSISTENT-ID",
    "PERSISTENT_ID",
    "SECURITY",
    "PACKAGE-MANAGER",
    "PACKAGE_MANAGER",
];

fn invalid(path: impl Into<String>, reason: impl Into<String>) -> Error {
    SbomError::Invalid {
        document: "SPDX",
        path: path.into(),
        reason: reason.into(),
    }
    .into()
}

/// Decodes UTF-16 (with a byte order mark) to UTF-8 and drops a UTF-8 byte
/// order mark; other input is returned as is.
fn decode(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, Error> {
    let utf16 = |rest: &[u8], big_endian: bool| -> Result<Vec<u8>, Error> {
        if rest.len() % 2 != 0 {
            return Err(invalid("", "UTF-16 input has an odd number of bytes"));
        }
        let units = rest.chunks_exact(2).map(|p| match p {
            [a, b] if big_endian => u16::from_be_bytes([*a, *b]),
            [a, b] => u16::from_le_bytes([*a, *b]),
            _ => 0,
        });
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .map(String::into_bytes)
            .map_err(|e| invalid("", format!("invalid UTF-16: {e}")))
    };
    match bytes {
        [0xff, 0xfe, rest @ ..] => Ok(utf16(rest, false)?.into()),
        [0xfe, 0xff, rest @ ..] => Ok(utf16(rest, true)?.into()),
        [0xef, 0xbb, 0xbf, rest @ ..] => Ok(rest.into()),
        _ => Ok(bytes.into()),
    }
}

fn check_element_id(id: &str, path: &str) -> Result<SpdxId, Error> {
    SpdxId::parse(id).map_err(|e| {
        invalid(
            path,
            format!("`{}` is not an SPDX id: {e}", crate::digest::shorten(id)),
        )
    })
}

fn check_checksums(checksums: &[ChecksumIn], path: &str) -> Result<Vec<Digest>, Error> {
    let mut digests = Vec::new();
    for (i, c) in checksums.iter().enumerate() {
        let path = format!("{path}[{i}]");
        let Some((_, min, max)) = CHECKSUM_LENGTHS
            .iter()
            .find(|(name, _, _)| *name == c.algorithm)
        else {
            return Err(invalid(
                format!("{path}.algorithm"),
                format!(
                    "`{}` is not an SPDX checksum algorithm",
                    crate::digest::shorten(&c.algorithm)
                ),
            ));
        };
        let v = &c.checksum_value;
        if v.len() < *min
            || v.len() > *max
            || !v.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            let length = if min == max {
                min.to_string()
            } else if *max == usize::MAX {
                format!("at least {min}")
            } else {
                format!("{min} to {max}")
            };
            return Err(invalid(
                format!("{path}.checksumValue"),
                format!(
                    "{} needs {length} lowercase hex digits, found `{}` ({} characters)",
                    c.algorithm,
                    crate::digest::shorten(v),
                    v.len()
                ),
            ));
        }
        let algorithm = match c.algorithm.as_str() {
            "SHA256" => DigestAlgorithm::Sha256,
            "SHA384" => DigestAlgorithm::Sha384,
            "SHA512" => DigestAlgorithm::Sha512,
            _ => continue,
        };
        digests.push(
            Digest::from_hex(algorithm, v)
                .map_err(|e| invalid(format!("{path}.checksumValue"), e.to_string()))?,
        );
    }
    Ok(digests)
}

fn read_license(value: Option<&str>, path: &str) -> Result<Option<LicenseExpression>, Error> {
    match value {
        None | Some("NOASSERTION" | "NONE") => Ok(None),
        Some(expr) => LicenseExpression::parse(expr).map(Some).map_err(|reason| {
            invalid(
                path,
                format!(
                    "`{}` is not an SPDX license expression: {reason}",
                    crate::digest::shorten(expr)
                ),
            )
        }),
    }
}

/// Which way an edge goes and what it says about the target's scope.
#[derive(Clone, Copy, PartialEq, Eq)]
enum EdgeKind {
    Required,
    Optional,
    Excluded,
}

/// For a relationship type: (edge from the element to the related one?,
/// kind), or `None` when it is not a dependency.
fn edge_kind(relationship_type: &str) -> Option<(bool, EdgeKind)> {
    Some(match relationship_type {
        "DEPENDS_ON" | "CONTAINS" | "DYNAMIC_LINK" | "STATIC_LINK" => (true, EdgeKind::Required),
        "DEPENDENCY_OF" | "CONTAINED_BY" | "RUNTIME_DEPENDENCY_OF" | "PROVIDED_DEPENDENCY_OF" => {
            (false, EdgeKind::Required)
        }
        "OPTIONAL_DEPENDENCY_OF" => (false, EdgeKind::Optional),
        "DEV_DEPENDENCY_OF" | "BUILD_DEPENDENCY_OF" | "TEST_DEPENDENCY_OF" => {
            (false, EdgeKind::Excluded)
        }
        _ => return None,
    })
}

/// Reads an SPDX 2.2 or 2.3 JSON document into the model.
///
/// ```
/// use custodia::sbom::spdx;
/// let doc = br#"{
///   "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
///   "name": "app", "documentNamespace": "https://example.com/app-1",
///   "creationInfo": {"created": "2024-01-01T00:00:00Z", "creators": ["Tool: x"]},
///   "packages": [
///     {"SPDXID": "SPDXRef-app", "name": "app", "versionInfo": "1.0", "downloadLocation": "NOASSERTION"},
///     {"SPDXID": "SPDXRef-log", "name": "log", "versionInfo": "0.4.21",
///      "downloadLocation": "https://crates.io/api/v1/crates/log/0.4.21/download",
///      "licenseDeclared": "MIT OR Apache-2.0",
///      "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
///                        "referenceLocator": "pkg:cargo/log@0.4.21"}]}
///   ],
///   "relationships": [
///     {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-app"},
///     {"spdxElementId": "SPDXRef-app", "relationshipType": "DEPENDS_ON", "relatedSpdxElement": "SPDXRef-log"}
///   ]
/// }"#;
/// let sbom = spdx::from_json(doc)?;
/// assert_eq!(sbom.root.name, "app");
/// let log = sbom.component("pkg:cargo/log@0.4.21").unwrap();
/// assert_eq!(log.license.as_ref().map(ToString::to_string).as_deref(), Some("MIT OR Apache-2.0"));
/// assert!(sbom.dependencies["app@1.0"].contains("pkg:cargo/log@0.4.21"));
///
/// let bad = String::from_utf8_lossy(doc).replace("SPDXRef-log", "SPDXRef-log_1");
/// let err = spdx::from_json(bad.as_bytes()).unwrap_err().to_string();
/// assert!(err.contains("packages[1].SPDXID"), "{err}");
/// # Ok::<(), custodia::Error>(())
/// ```
pub fn from_json(bytes: &[u8]) -> Result<Sbom, Error> {
    let bytes = decode(bytes)?;
    let doc: DocumentIn = crate::json::from_slice(&bytes, "SPDX document")?;

    let is_22 = match doc.spdx_version.as_str() {
        "SPDX-2.3" => false,
        "SPDX-2.2" => true,
        other => {
            return Err(invalid(
                "spdxVersion",
                format!(
                    "`{}` is not SPDX-2.2 or SPDX-2.3",
                    crate::digest::shorten(other)
                ),
            ));
        }
    };
    if doc.data_license != "CC0-1.0" {
        return Err(invalid("dataLicense", "must be `CC0-1.0`"));
    }
    if doc.spdx_id != DOCUMENT_ID {
        return Err(invalid(
            "SPDXID",
            "the document's id must be `SPDXRef-DOCUMENT`",
        ));
    }
    if doc.name.is_empty() {
        return Err(invalid("name", "the document needs a name"));
    }
    if doc.document_namespace.is_empty() || doc.document_namespace.contains('#') {
        return Err(invalid(
            "documentNamespace",
            "must be a URI without a fragment (`#`)",
        ));
    }
    let timestamp = read_created(&doc.creation_info.created)?;
    if doc.creation_info.creators.is_empty() {
        return Err(invalid(
            "creationInfo.creators",
            "at least one creator is required",
        ));
    }

    // External documents, then element ids: charset and uniqueness.
    let mut external_docs = BTreeSet::new();
    for (i, r) in doc.external_document_refs.iter().flatten().enumerate() {
        let ok = r
            .external_document_id
            .strip_prefix("DocumentRef-")
            .is_some_and(is_idstring_plus);
        if !ok || !external_docs.insert(r.external_document_id.as_str()) {
            return Err(invalid(
                format!("externalDocumentRefs[{i}].externalDocumentId"),
                format!(
                    "`{}` is not a unique DocumentRef- id",
                    crate::digest::shorten(&r.external_document_id)
                ),
            ));
        }
    }
    let mut elements: BTreeSet<&str> = BTreeSet::from([DOCUMENT_ID]);
    let packages = doc.packages.as_deref().unwrap_or_default();
    let mut element_ids: Vec<(String, &str)> = packages
        .iter()
        .enumerate()
        .map(|(i, p)| (format!("packages[{i}].SPDXID"), p.spdx_id.as_str()))
        .collect();
    for (field, list) in [("files", &doc.files), ("snippets", &doc.snippets)] {
        for (i, e) in list.iter().flatten().enumerate() {
            element_ids.push((format!("{field}[{i}].SPDXID"), e.spdx_id.as_str()));
            if let Some(c) = &e.checksums {
                check_checksums(c, &format!("{field}[{i}].checksums"))?;
            }
        }
    }
    for (path, id) in &element_ids {
        check_element_id(id, path)?;
        if !elements.insert(id) {
            return Err(invalid(
                path.as_str(),
                format!("`{}` is used twice", crate::digest::shorten(id)),
            ));
        }
    }
    let element_exists = |id: &str| -> bool {
        match id.split_once(':') {
            Some((d, e)) => external_docs.contains(d) && check_element_id(e, "").is_ok(),
            None => elements.contains(id),
        }
    };

    // Packages -> components.
    let mut components = Vec::with_capacity(packages.len());
    for (i, p) in packages.iter().enumerate() {
        components.push(read_package(p, &format!("packages[{i}]"))?);
    }
    // bom-refs: purl or name@version, the SPDX id where those clash.
    let mut counts: BTreeMap<BomRef, usize> = BTreeMap::new();
    for c in &components {
        *counts.entry(c.bom_ref.clone()).or_default() += 1;
    }
    for (i, (c, p)) in components.iter_mut().zip(packages).enumerate() {
        if counts.get(&c.bom_ref).copied().unwrap_or(0) > 1 || c.bom_ref == DOCUMENT_ID {
            let id = check_element_id(&p.spdx_id, &format!("packages[{i}].SPDXID"))?;
            c.bom_ref = BomRef::from(&id);
        }
    }
    let ref_of: BTreeMap<&str, BomRef> = packages
        .iter()
        .zip(&components)
        .map(|(p, c)| (p.spdx_id.as_str(), c.bom_ref.clone()))
        .collect();
    if ref_of.len() != components.len()
        || ref_of.values().collect::<BTreeSet<_>>().len() != components.len()
    {
        return Err(invalid("packages", "package identifiers clash"));
    }

    // Relationships.
    let mut described: Vec<&str> = Vec::new();
    for (i, d) in doc.document_describes.iter().flatten().enumerate() {
        if !elements.contains(d.as_str()) || d == DOCUMENT_ID {
            return Err(invalid(
                format!("documentDescribes[{i}]"),
                format!("`{}` names no element", crate::digest::shorten(d)),
            ));
        }
        described.push(d);
    }
    let mut edges: Vec<(BomRef, BomRef, EdgeKind)> = Vec::new();
    for (i, r) in doc.relationships.iter().flatten().enumerate() {
        let path = format!("relationships[{i}]");
        let known = RELATIONSHIP_TYPES
            .iter()
            .find(|(t, _)| *t == r.relationship_type);
        match known {
            None => {
                return Err(invalid(
                    format!("{path}.relationshipType"),
                    format!(
                        "`{}` is not an SPDX relationship type",
                        crate::digest::shorten(&r.relationship_type)
                    ),
                ));
            }
            Some((_, false)) if is_22 => {
                return Err(invalid(
                    format!("{path}.relationshipType"),
                    format!("`{}` is not in SPDX 2.2", r.relationship_type),
                ));
            }
            Some(_) => {}
        }
        if !element_exists(&r.spdx_element_id) {
            return Err(invalid(
                format!("{path}.spdxElementId"),
                format!(
                    "`{}` names no element of this document",
                    crate::digest::shorten(&r.spdx_element_id)
                ),
            ));
        }
        let related = r.related_spdx_element.as_str();
        if !matches!(related, "NONE" | "NOASSERTION") && !element_exists(related) {
            return Err(invalid(
                format!("{path}.relatedSpdxElement"),
                format!(
                    "`{}` names no element of this document",
                    crate::digest::shorten(related)
                ),
            ));
        }
        let (a, b) = (r.spdx_element_id.as_str(), related);
        match r.relationship_type.as_str() {
            "DESCRIBES" if a == DOCUMENT_ID => described.push(b),
            "DESCRIBED_BY" if b == DOCUMENT_ID => described.push(a),
            t => {
                if let (Some((forward, kind)), Some(ra), Some(rb)) =
                    (edge_kind(t), ref_of.get(a), ref_of.get(b))
                {
                    let (from, to) = if forward { (ra, rb) } else { (rb, ra) };
                    edges.push((from.clone(), to.clone(), kind));
                }
            }
        }
    }

    // The root.
    let mut described_packages: Vec<&str> = described
        .iter()
        .copied()
        .filter(|d| ref_of.contains_key(d))
        .collect();
    described_packages.sort_unstable();
    described_packages.dedup();
    let root_index = match described_packages.as_slice() {
        [one] => packages.iter().position(|p| p.spdx_id == *one),
        [] if packages.len() == 1 => Some(0),
        _ => None,
    };
    let (root, rest, synthetic) = match root_index {
        Some(i) => {
            let mut rest = components;
            let root = rest.remove(i.min(rest.len().saturating_sub(1)));
            (root, rest, false)
        }
        None => {
            let mut root = Component::new(doc.name.clone(), "");
            root.bom_ref = BomRef::from(&SpdxId::document());
            (root, components, true)
        }
    };
    let mut sbom = Sbom::new(root, timestamp);
    sbom.components = rest;
    let root_ref = sbom.root.bom_ref.clone();
    if synthetic {
        for d in &described_packages {
            if let Some(r) = ref_of.get(d) {
                sbom.depends(&root_ref, r);
            }
        }
    }
    let mut incoming: BTreeMap<BomRef, BTreeSet<u8>> = BTreeMap::new();
    for (from, to, kind) in &edges {
        sbom.depends(from, to);
        let k = match kind {
            EdgeKind::Required => 0,
            EdgeKind::Optional => 1,
            EdgeKind::Excluded => 2,
        };
        incoming.entry(to.clone()).or_default().insert(k);
    }
    for c in &mut sbom.components {
        let kinds = incoming.get(&c.bom_ref);
        c.scope = match kinds.map(|k| k.iter().copied().collect::<Vec<u8>>()) {
            Some(k) if k == [1] => Scope::Optional,
            Some(k) if k == [2] => Scope::Excluded,
            _ => Scope::Required,
        };
    }
    sbom.validate()?;
    Ok(sbom)
}

fn read_created(created: &str) -> Result<Timestamp, Error> {
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
            "creationInfo.created",
            format!(
                "`{}` is not YYYY-MM-DDThh:mm:ssZ (UTC, no fractional seconds)",
                crate::digest::shorten(created)
            ),
        ));
    }
    created
        .parse()
        .map_err(|e: Error| invalid("creationInfo.created", e.to_string()))
}

fn read_package(p: &PackageIn, path: &str) -> Result<Component, Error> {
    if p.name.is_empty() {
        return Err(invalid(format!("{path}.name"), "a package needs a name"));
    }
    if p.download_location.is_empty() {
        return Err(invalid(
            format!("{path}.downloadLocation"),
            "must be a location, NONE or NOASSERTION",
        ));
    }
    if p.package_verification_code.is_some() && p.files_analyzed == Some(false) {
        return Err(invalid(
            format!("{path}.packageVerificationCode"),
            "must be absent when filesAnalyzed is false",
        ));
    }
    let hashes = match &p.checksums {
        Some(c) => check_checksums(c, &format!("{path}.checksums"))?,
        None => Vec::new(),
    };
    let declared = read_license(
        p.license_declared.as_deref(),
        &format!("{path}.licenseDeclared"),
    )?;
    let concluded = read_license(
        p.license_concluded.as_deref(),
        &format!("{path}.licenseConcluded"),
    )?;
    let mut purl = None;
    for (j, r) in p.external_refs.iter().flatten().enumerate() {
        let rpath = format!("{path}.externalRefs[{j}]");
        if !REFERENCE_CATEGORIES.contains(&r.reference_category.as_str()) {
            return Err(invalid(
                format!("{rpath}.referenceCategory"),
                format!(
                    "`{}` is not an SPDX reference category",
                    crate::digest::shorten(&r.reference_category)
                ),
            ));
        }
        if r.reference_locator.is_empty() || r.reference_locator.contains(char::is_whitespace) {
            return Err(invalid(
                format!("{rpath}.referenceLocator"),
                "must be non-empty and without spaces",
            ));
        }
        if r.reference_type == "purl" && purl.is_none() {
            purl = Some(Purl::parse(&r.reference_locator).map_err(|e| {
                invalid(
                    format!("{rpath}.referenceLocator"),
                    format!(
                        "`{}` is not a purl: {e}",
                        crate::digest::shorten(&r.reference_locator)
                    ),
                )
            })?);
        }
    }
    let version = p.version_info.clone().unwrap_or_default();
    let mut c = Component::new(p.name.clone(), version);
    if let Some(purl) = purl {
        c = c.with_purl(purl);
    }
    c.supplier = p.supplier.as_deref().and_then(read_supplier);
    c.license = declared.or(concluded);
    c.hashes = hashes;
    c.source = read_source(p.source_info.as_deref(), &p.download_location);
    c.description = p.description.clone();
    Ok(c)
}
