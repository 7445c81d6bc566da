//! The SPDX 2.3 JSON writer.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{
    DOCUMENT_ID, NOASSERTION, SpdxId, assign_ids, download_location, spdx_algorithm, uri_encode,
    write_license, write_source, write_supplier,
};
use crate::error::{Error, SbomError};
use crate::sbom::{Component, Sbom, Scope};
use crate::time::Timestamp;

// ---------------------------------------------------------------- writer

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DocumentOut {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    creation_info: CreationInfoOut,
    packages: Vec<PackageOut>,
    relationships: Vec<RelationshipOut>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    has_extracted_licensing_infos: Vec<ExtractedOut>,
}

#[derive(Serialize)]
struct CreationInfoOut {
    created: String,
    creators: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PackageOut {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    supplier: String,
    download_location: String,
    files_analyzed: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    checksums: Vec<ChecksumOut>,
    license_concluded: &'static str,
    license_declared: String,
    copyright_text: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_info: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRefOut>,
    primary_package_purpose: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChecksumOut {
    algorithm: &'static str,
    checksum_value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRefOut {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RelationshipOut {
    spdx_element_id: String,
    relationship_type: &'static str,
    related_spdx_element: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExtractedOut {
    license_id: String,
    extracted_text: String,
    name: String,
}

/// Writes `sbom` as an SPDX 2.3 JSON document (pretty-printed, ending in a
/// newline). The same model gives the same bytes, whatever the order of
/// its components. Fails only if serialization fails
/// ([`SbomError::Serialize`]).
///
/// ```
/// use custodia::sbom::{Component, Purl, Sbom, spdx};
/// use custodia::time::Timestamp;
/// let root = Component::new("app", "1.0.0").with_purl(Purl::parse("pkg:cargo/app@1.0.0")?);
/// let mut sbom = Sbom::new(root, Timestamp::from_unix(1_700_000_000));
/// let mut log = Component::new("log", "0.4.21").with_purl(Purl::parse("pkg:cargo/log@0.4.21")?);
/// log.license = Some("MIT OR Apache-2.0".parse()?);
/// sbom.add(log);
/// sbom.depends(&"pkg:cargo/app@1.0.0".parse()?, &"pkg:cargo/log@0.4.21".parse()?);
///
/// let json = spdx::to_json(&sbom)?;
/// let text = String::from_utf8(json.clone()).unwrap();
/// assert!(text.contains(r#""spdxVersion": "SPDX-2.3""#));
/// assert!(text.contains(r#""created": "2023-11-14T22:13:20Z""#));
/// assert_eq!(spdx::from_json(&json)?, sbom);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn to_json(sbom: &Sbom) -> Result<Vec<u8>, Error> {
    let all: Vec<&Component> = std::iter::once(&sbom.root)
        .chain(sbom.sorted_components())
        .collect();
    let ids = assign_ids(&all)?;
    let id_of: BTreeMap<&str, &str> = all
        .iter()
        .zip(&ids)
        .map(|(c, id)| (c.bom_ref.as_str(), id.as_str()))
        .collect();
    let scope_of: BTreeMap<&str, Scope> =
        all.iter().map(|c| (c.bom_ref.as_str(), c.scope)).collect();

    let mut license_refs = BTreeSet::new();
    let packages = all
        .iter()
        .zip(&ids)
        .enumerate()
        .map(|(i, (c, id))| package_out(c, id.as_str(), i == 0, &mut license_refs))
        .collect();

    let root_id = ids.first().map(SpdxId::to_string).unwrap_or_default();
    let mut relationships = vec![RelationshipOut {
        spdx_element_id: DOCUMENT_ID.to_owned(),
        relationship_type: "DESCRIBES",
        related_spdx_element: root_id,
    }];
    for (from, tos) in &sbom.dependencies {
        let Some(from_id) = id_of.get(from.as_str()) else {
            continue;
        };
        for to in tos {
            let (Some(to_id), Some(scope)) = (id_of.get(to.as_str()), scope_of.get(to.as_str()))
            else {
                continue;
            };
            let (a, kind, b) = match scope {
                Scope::Required => (from_id, "DEPENDS_ON", to_id),
                Scope::Optional => (to_id, "OPTIONAL_DEPENDENCY_OF", from_id),
                Scope::Excluded => (to_id, "DEV_DEPENDENCY_OF", from_id),
            };
            relationships.push(RelationshipOut {
                spdx_element_id: (*a).to_owned(),
                relationship_type: kind,
                related_spdx_element: (*b).to_owned(),
            });
        }
    }

    let doc = DocumentOut {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: DOCUMENT_ID,
        name: sbom.root.name.clone(),
        document_namespace: format!(
            "https://spdx.custodia.dev/{}-{}-{}",
            uri_encode(&sbom.root.name),
            uri_encode(&sbom.root.version),
            sbom.content_uuid()
        ),
        creation_info: CreationInfoOut {
            // Whole seconds: SPDX's format has no fractional part.
            created: Timestamp::from_unix(sbom.timestamp.unix()).to_string(),
            creators: vec![format!("Tool: custodia-{}", env!("CARGO_PKG_VERSION"))],
        },
        packages,
        relationships,
        has_extracted_licensing_infos: license_refs
            .into_iter()
            .map(|id: String| {
                let name = id.strip_prefix("LicenseRef-").unwrap_or(&id).to_owned();
                ExtractedOut {
                    extracted_text: format!(
                        "The license `{name}`, as named in the package metadata. It is not on \
                         the SPDX license list and its text is not known to custodia."
                    ),
                    license_id: id,
                    name,
                }
            })
            .collect(),
    };
    let mut out = serde_json::to_vec_pretty(&doc).map_err(|e| SbomError::Serialize {
        document: "SPDX",
        reason: e.to_string(),
    })?;
    out.push(b'\n');
    Ok(out)
}

fn package_out(
    c: &Component,
    id: &str,
    is_root: bool,
    license_refs: &mut BTreeSet<String>,
) -> PackageOut {
    let checksums = c
        .hashes
        .iter()
        .map(|d| ChecksumOut {
            algorithm: spdx_algorithm(d.algorithm()),
            checksum_value: d.hex(),
        })
        .collect();
    let license_declared = c
        .license
        .as_ref()
        .and_then(|l| write_license(l, license_refs))
        .unwrap_or_else(|| NOASSERTION.to_owned());
    PackageOut {
        spdx_id: id.to_owned(),
        name: c.name.clone(),
        version_info: (!c.version.is_empty()).then(|| c.version.clone()),
        supplier: c
            .supplier
            .as_deref()
            .map_or_else(|| NOASSERTION.to_owned(), write_supplier),
        download_location: download_location(c),
        files_analyzed: false,
        checksums,
        license_concluded: NOASSERTION,
        license_declared,
        copyright_text: NOASSERTION,
        description: c.description.clone(),
        source_info: write_source(&c.source),
        external_refs: c
            .purl
            .iter()
            .map(|p| ExternalRefOut {
                reference_category: "PACKAGE-MANAGER",
                reference_type: "purl",
                reference_locator: p.as_str().to_owned(),
            })
            .collect(),
        primary_package_purpose: if is_root { "APPLICATION" } else { "LIBRARY" },
    }
}
