//! The in-toto ResourceDescriptor (Attestation Framework v1).
//!
//! A descriptor names an artifact or other resource by any of `name`, `uri`,
//! `digest`, `content`, plus optional `downloadLocation`, `mediaType` and
//! `annotations`. The spec requires at least one of `uri`, `digest` or
//! `content`; a Statement's subjects additionally require a digest (checked
//! in [`crate::statement`]). Unrecognized fields are ignored, as the
//! framework's parsing rules say.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::{DigestMismatch, DigestSet};
use crate::encoding::{base64_decode, base64_encode};
use crate::error::{Error, StatementError};

/// An in-toto ResourceDescriptor.
///
/// ```
/// use custodia::resource::ResourceDescriptor;
/// use custodia::digest::DigestSet;
/// let rd = ResourceDescriptor::new("app.tar", DigestSet::of_bytes(b"app"));
/// let json = serde_json::to_string(&rd)?;
/// assert!(json.starts_with(r#"{"name":"app.tar","digest":{"sha256":""#));
/// let back: ResourceDescriptor = serde_json::from_str(&json)?;
/// assert_eq!(back, rd);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ResourceDescriptor {
    /// Machine-readable identifier, e.g. a file name.
    pub name: Option<String>,
    /// A URI identifying the resource (RFC 3986).
    pub uri: Option<String>,
    /// The resource's digests; empty means "no digest".
    pub digest: DigestSet,
    /// The resource's content, for small resources.
    pub content: Option<Vec<u8>>,
    /// Where the resource can be downloaded.
    pub download_location: Option<String>,
    /// The resource's media type.
    pub media_type: Option<String>,
    /// Free-form annotations; never trusted by custodia.
    pub annotations: BTreeMap<String, serde_json::Value>,
}

impl ResourceDescriptor {
    /// A descriptor with a name and a digest set, the usual subject form.
    pub fn new(name: impl Into<String>, digest: DigestSet) -> Self {
        Self {
            name: Some(name.into()),
            digest,
            ..Self::default()
        }
    }

    /// A descriptor identified only by a URI (and optionally a digest).
    pub fn from_uri(uri: impl Into<String>, digest: DigestSet) -> Self {
        Self {
            uri: Some(uri.into()),
            digest,
            ..Self::default()
        }
    }

    /// Parses and checks one descriptor from JSON (duplicate members
    /// rejected), with typed errors.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        let wire: ResourceDescriptorWire = crate::json::from_slice(bytes, "resource descriptor")?;
        let rd = Self::from_wire(wire, "")?;
        rd.validate("")?;
        Ok(rd)
    }

    /// Checks the spec's rule: at least one of `uri`, `digest`, `content`.
    /// `path` names the descriptor in errors (`subject[0]`).
    pub fn validate(&self, path: &str) -> Result<(), StatementError> {
        if self.uri.is_none() && self.digest.is_empty() && self.content.is_none() {
            return Err(StatementError::ResourceRequiredField {
                path: if path.is_empty() {
                    "(descriptor)".to_owned()
                } else {
                    path.to_owned()
                },
            });
        }
        Ok(())
    }

    /// Whether this descriptor's digests identify the same bytes as
    /// `actual` (see [`DigestSet::matches`]).
    pub fn matches(&self, actual: &DigestSet) -> Result<Vec<String>, DigestMismatch> {
        self.digest.matches(actual)
    }

    /// Converts from the lenient wire form, checking digests and content.
    pub(crate) fn from_wire(wire: ResourceDescriptorWire, path: &str) -> Result<Self, Error> {
        let mut digest = DigestSet::new();
        for (algorithm, value) in wire.digest.unwrap_or_default() {
            digest.insert_raw(&algorithm, &value).map_err(|e| match e {
                Error::Digest(source) => Error::Statement(StatementError::InvalidDigest {
                    path: field_path(path, &format!("digest.{algorithm}")),
                    source,
                }),
                other => other,
            })?;
        }
        let content = match wire.content {
            Some(b64) => Some(base64_decode(&b64).map_err(|reason| {
                Error::Json(crate::error::JsonError {
                    what: "resource descriptor",
                    path: field_path(path, "content"),
                    line: 0,
                    column: 0,
                    message: format!("invalid base64: {reason}"),
                })
            })?),
            None => None,
        };
        Ok(Self {
            name: wire.name,
            uri: wire.uri,
            digest,
            content,
            download_location: wire.download_location,
            media_type: wire.media_type,
            annotations: wire.annotations.unwrap_or_default(),
        })
    }

    fn to_wire(&self) -> ResourceDescriptorWire {
        ResourceDescriptorWire {
            name: self.name.clone(),
            uri: self.uri.clone(),
            digest: (!self.digest.is_empty()).then(|| {
                self.digest
                    .iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect()
            }),
            content: self.content.as_deref().map(base64_encode),
            download_location: self.download_location.clone(),
            media_type: self.media_type.clone(),
            annotations: (!self.annotations.is_empty()).then(|| self.annotations.clone()),
        }
    }
}

fn field_path(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_owned()
    } else {
        format!("{prefix}.{field}")
    }
}

/// The JSON shape, field for field, before any semantic check.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ResourceDescriptorWire {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, serde_json::Value>>,
}

impl Serialize for ResourceDescriptor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_wire().serialize(s)
    }
}

impl<'de> Deserialize<'de> for ResourceDescriptor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Digests are checked; the "one of uri/digest/content" rule is not,
        // because real predicates carry empty descriptors (Cloud Build's
        // `byproducts: [{}]`). `from_json` and statement subjects enforce it.
        let wire = ResourceDescriptorWire::deserialize(d)?;
        Self::from_wire(wire, "").map_err(serde::de::Error::custom)
    }
}
