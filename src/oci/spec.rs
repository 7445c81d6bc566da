//! The image spec's documents: descriptors, image manifests, image
//! indexes, the layout header and image configurations.
//!
//! Reading is strict: duplicate JSON members are rejected, every rule of
//! the spec's JSON Schemas is checked (plus the few the reference
//! validator adds: lowercase hex for registered digest algorithms, padded
//! base64 in `data`, `KEY=VALUE` in `Env`), and the first problem is
//! reported with its field path. Members the spec does not define are
//! ignored, as the spec requires of readers.
//!
//! Writing is deterministic: fields in a fixed order, annotations sorted
//! (`BTreeMap`), no insignificant whitespace. The same value always
//! serializes to the same bytes and so has the same digest.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize};

use crate::digest::{DigestAlgorithm, shorten};
use crate::error::Error;

use super::OciDigest;
use super::error::invalid;

/// `application/vnd.oci.image.manifest.v1+json`
pub const MEDIA_TYPE_IMAGE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// `application/vnd.oci.image.index.v1+json`
pub const MEDIA_TYPE_IMAGE_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// `application/vnd.oci.image.config.v1+json`
pub const MEDIA_TYPE_IMAGE_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// `application/vnd.oci.image.layer.v1.tar`
pub const MEDIA_TYPE_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
/// `application/vnd.oci.image.layer.v1.tar+gzip`
pub const MEDIA_TYPE_LAYER_TAR_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// `application/vnd.oci.empty.v1+json`: the empty descriptor's media type.
pub const MEDIA_TYPE_EMPTY: &str = "application/vnd.oci.empty.v1+json";
/// `application/vnd.oci.layout.header.v1+json`
pub const MEDIA_TYPE_LAYOUT_HEADER: &str = "application/vnd.oci.layout.header.v1+json";
/// Docker's manifest list (read as an image index).
pub const MEDIA_TYPE_DOCKER_MANIFEST_LIST: &str =
    "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker's image manifest, schema 2 (read as an image manifest).
pub const MEDIA_TYPE_DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// The content of the empty descriptor: `{}`.
pub const EMPTY_JSON: &[u8] = b"{}";

/// `org.opencontainers.image.ref.name`: an image's name in a layout.
pub const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";
/// `org.opencontainers.image.created`
pub const ANNOTATION_CREATED: &str = "org.opencontainers.image.created";
/// `org.opencontainers.image.title`
pub const ANNOTATION_TITLE: &str = "org.opencontainers.image.title";

/// Annotations: string keys to string values, kept sorted.
pub type Annotations = BTreeMap<String, String>;

/// A media type, checked against the spec's pattern
/// (`type/subtype`, each 1-127 characters of the RFC 6838 set).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MediaType(String);

impl MediaType {
    /// The string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A media type from one of this module's constants (known to match
    /// the pattern).
    pub(crate) fn internal(s: &str) -> Self {
        Self(s.to_owned())
    }
}

fn is_restricted_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphanumeric());
    first_ok
        && s.len() <= 127
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
}

impl FromStr for MediaType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once('/') {
            Some((t, sub)) if is_restricted_name(t) && is_restricted_name(sub) => {
                Ok(Self(s.to_owned()))
            }
            _ => Err(format!(
                "`{}` is not a media type (type/subtype, each 1-127 of [A-Za-z0-9!#$&^_.+-], starting alphanumeric)",
                shorten(s)
            )),
        }
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for MediaType {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for MediaType {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl Serialize for MediaType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for MediaType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A URL in a descriptor's `urls`: an absolute URI (`scheme:...`) without
/// whitespace or control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Url(String);

impl Url {
    /// The string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Url {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let scheme_ok = s.split_once(':').is_some_and(|(scheme, rest)| {
            let mut b = scheme.bytes();
            b.next().is_some_and(|c| c.is_ascii_alphabetic())
                && b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
                && !rest.is_empty()
        });
        let chars_ok = !s.chars().any(|c| c.is_whitespace() || c.is_control());
        if scheme_ok && chars_ok {
            Ok(Self(s))
        } else {
            Err(serde::de::Error::custom(format!(
                "`{}` is not an absolute URI",
                shorten(&s)
            )))
        }
    }
}

/// Embedded content (`data`): standard base64 with padding, as the spec
/// requires (RFC 4648 section 4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Data(Vec<u8>);

impl Data {
    /// The decoded bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Serialize for Data {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Data {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(s.as_bytes())
            .map(Data)
            .map_err(|e| {
                serde::de::Error::custom(format!("`data` is not padded standard base64: {e}"))
            })
    }
}

/// A size: a non-negative int64.
fn size<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let n = u64::deserialize(d)?;
    if n > i64::MAX as u64 {
        return Err(serde::de::Error::custom("size is larger than int64"));
    }
    Ok(n)
}

/// `schemaVersion`: must be 2.
fn schema_version<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let n = u64::deserialize(d)?;
    if n != 2 {
        return Err(serde::de::Error::custom(format!(
            "schemaVersion must be 2, found {n}"
        )));
    }
    Ok(2)
}

fn is_empty_map(m: &Annotations) -> bool {
    m.is_empty()
}

/// A content descriptor: what a blob is, how big, and its digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// The referenced content's media type.
    pub media_type: MediaType,
    /// Its digest.
    pub digest: OciDigest,
    /// Its size in bytes.
    #[serde(deserialize_with = "size")]
    pub size: u64,
    /// Where else it can be fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urls: Option<Vec<Url>>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub annotations: Annotations,
    /// The content itself, embedded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Data>,
    /// For an artifact manifest: the artifact's type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<MediaType>,
    /// In an index: the platform the manifest is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
}

impl Descriptor {
    /// A descriptor of `bytes` (SHA-256) with `media_type`.
    pub fn of_bytes(media_type: &str, bytes: &[u8]) -> Result<Self, Error> {
        let media_type: MediaType = media_type
            .parse()
            .map_err(|reason: String| invalid("OCI descriptor", "mediaType", reason))?;
        Ok(Self {
            media_type,
            digest: DigestAlgorithm::Sha256.hash(bytes).into(),
            size: bytes.len() as u64,
            urls: None,
            annotations: Annotations::new(),
            data: None,
            artifact_type: None,
            platform: None,
        })
    }

    /// The empty descriptor (`application/vnd.oci.empty.v1+json`, `{}`).
    pub fn empty() -> Self {
        Self {
            media_type: MediaType(MEDIA_TYPE_EMPTY.to_owned()),
            digest: DigestAlgorithm::Sha256.hash(EMPTY_JSON).into(),
            size: EMPTY_JSON.len() as u64,
            urls: None,
            annotations: Annotations::new(),
            data: None,
            artifact_type: None,
            platform: None,
        }
    }

    /// The annotation `key`, if present.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.get(key).map(String::as_str)
    }

    /// Its `org.opencontainers.image.ref.name`.
    pub fn ref_name(&self) -> Option<&str> {
        self.annotation(ANNOTATION_REF_NAME)
    }

    /// Whether it points at an image manifest (OCI or Docker schema 2).
    pub fn is_manifest(&self) -> bool {
        self.media_type == MEDIA_TYPE_IMAGE_MANIFEST
            || self.media_type == MEDIA_TYPE_DOCKER_MANIFEST
    }

    /// Whether it points at an image index (OCI or Docker manifest list).
    pub fn is_index(&self) -> bool {
        self.media_type == MEDIA_TYPE_IMAGE_INDEX
            || self.media_type == MEDIA_TYPE_DOCKER_MANIFEST_LIST
    }

    /// The same descriptor without annotations, platform, data or URLs:
    /// what a `subject` field carries.
    pub fn bare(&self) -> Self {
        Self {
            media_type: self.media_type.clone(),
            digest: self.digest.clone(),
            size: self.size,
            urls: None,
            annotations: Annotations::new(),
            data: None,
            artifact_type: None,
            platform: None,
        }
    }

    /// Parses a descriptor (`application/vnd.oci.descriptor.v1+json`).
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        let d: Self = crate::json::from_slice(bytes, "OCI descriptor")?;
        d.check("OCI descriptor", "")?;
        Ok(d)
    }

    /// Checks what serde cannot: embedded data matches size and digest.
    fn check(&self, what: &'static str, path: &str) -> Result<(), Error> {
        if let Some(data) = &self.data {
            let here = if path.is_empty() {
                "data".to_owned()
            } else {
                format!("{path}.data")
            };
            if data.bytes().len() as u64 != self.size {
                return Err(invalid(
                    what,
                    here,
                    format!(
                        "embedded data is {} bytes, size says {}",
                        data.bytes().len(),
                        self.size
                    ),
                ));
            }
            if let Ok(expected) = self.digest.to_digest() {
                let actual = expected.algorithm().hash(data.bytes());
                if actual != expected {
                    return Err(invalid(
                        what,
                        here,
                        format!("embedded data hashes to {actual}, digest says {expected}"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The platform an image runs on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    /// CPU architecture (`amd64`, `arm64`, ...).
    pub architecture: String,
    /// Operating system (`linux`, `windows`, ...).
    pub os: String,
    /// Operating system version.
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// Required operating system features.
    #[serde(
        rename = "os.features",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_features: Option<Vec<String>>,
    /// CPU variant (`v8`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// An image manifest (also the shape of OCI 1.1 artifacts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// Always 2.
    #[serde(deserialize_with = "schema_version")]
    pub schema_version: u32,
    /// `application/vnd.oci.image.manifest.v1+json` when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<MediaType>,
    /// For an artifact: what it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<MediaType>,
    /// The configuration blob (the empty descriptor for most artifacts).
    pub config: Descriptor,
    /// The layers (for an artifact: its blobs). Required, and may be
    /// empty: the image spec's prose says only that layers SHOULD have at
    /// least one entry "for portability" (its JSON Schema's `minItems: 1`
    /// is stricter than the prose, and `umoci new`, `FROM scratch` builds
    /// and skopeo make and read zero-layer images). An empty list is
    /// reported by [`ImageManifest::layers_check`] as a warning.
    pub layers: Vec<Descriptor>,
    /// The manifest this one refers to (OCI 1.1 referrers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub annotations: Annotations,
}

impl ImageManifest {
    /// Parses and checks a manifest.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        const WHAT: &str = "OCI image manifest";
        let m: Self = crate::json::from_slice(bytes, WHAT)?;
        m.config.check(WHAT, "config")?;
        for (i, layer) in m.layers.iter().enumerate() {
            layer.check(WHAT, &format!("layers[{i}]"))?;
        }
        if let Some(s) = &m.subject {
            s.check(WHAT, "subject")?;
        }
        Ok(m)
    }

    /// The canonical bytes custodia writes (deterministic).
    pub fn to_json(&self) -> Result<Vec<u8>, Error> {
        Ok(crate::json::to_vec(self, "OCI document")?)
    }

    /// The `layers` check: passes always (the spec's MUSTs are checked when
    /// the manifest is read), and for a manifest without layers the reason
    /// is a warning: the image spec says layers SHOULD have at least one
    /// entry, for portability.
    ///
    /// ```
    /// use custodia::oci::ImageManifest;
    /// let m = ImageManifest::from_json(br#"{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#)?;
    /// let check = m.layers_check();
    /// assert!(check.passed && m.has_no_layers());
    /// // `layers` itself is still required.
    /// assert!(ImageManifest::from_json(br#"{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}}"#).is_err());
    /// # Ok::<(), custodia::Error>(())
    /// ```
    pub fn layers_check(&self) -> crate::report::Check {
        if self.has_no_layers() {
            crate::report::Check::pass(
                "layers",
                "warning: no layers (the image spec says layers SHOULD have at least one \
                 entry, for portability); accepted, the manifest digest is the identity",
            )
        } else {
            crate::report::Check::pass("layers", format!("{} layer(s)", self.layers.len()))
        }
    }

    /// Whether the manifest lists no layer (a zero-layer image, as
    /// `umoci new` or a `FROM scratch` build without files makes).
    pub fn has_no_layers(&self) -> bool {
        self.layers.is_empty()
    }

    /// The artifact type as the referrers API reports it: `artifactType`,
    /// else the config's media type.
    pub fn effective_artifact_type(&self) -> &MediaType {
        self.artifact_type
            .as_ref()
            .unwrap_or(&self.config.media_type)
    }
}

/// An image index: a list of manifests (one per platform, or anything
/// else, such as the referrers of a manifest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    /// Always 2.
    #[serde(deserialize_with = "schema_version")]
    pub schema_version: u32,
    /// `application/vnd.oci.image.index.v1+json` when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<MediaType>,
    /// For an artifact index: what it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<MediaType>,
    /// The manifests.
    pub manifests: Vec<Descriptor>,
    /// The manifest this index refers to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub annotations: Annotations,
}

impl ImageIndex {
    /// An empty OCI index.
    pub fn new() -> Self {
        Self {
            schema_version: 2,
            media_type: Some(MediaType(MEDIA_TYPE_IMAGE_INDEX.to_owned())),
            artifact_type: None,
            manifests: Vec::new(),
            subject: None,
            annotations: Annotations::new(),
        }
    }

    /// Parses and checks an index.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        Self::parse(bytes, "OCI image index")
    }

    pub(crate) fn parse(bytes: &[u8], what: &'static str) -> Result<Self, Error> {
        let m: Self = crate::json::from_slice(bytes, what)?;
        for (i, d) in m.manifests.iter().enumerate() {
            d.check(what, &format!("manifests[{i}]"))?;
        }
        if let Some(s) = &m.subject {
            s.check(what, "subject")?;
        }
        Ok(m)
    }

    /// The canonical bytes custodia writes (deterministic).
    pub fn to_json(&self) -> Result<Vec<u8>, Error> {
        Ok(crate::json::to_vec(self, "OCI document")?)
    }
}

impl Default for ImageIndex {
    fn default() -> Self {
        Self::new()
    }
}

/// The `oci-layout` file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LayoutHeader {
    /// `1.0.0`, the only version defined.
    pub image_layout_version: String,
}

impl LayoutHeader {
    /// The version custodia reads and writes.
    pub const VERSION: &'static str = "1.0.0";

    /// Parses and checks the header.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        const WHAT: &str = "OCI layout header";
        let h: Self = crate::json::from_slice(bytes, WHAT)?;
        if h.image_layout_version != Self::VERSION {
            return Err(invalid(
                WHAT,
                "imageLayoutVersion",
                format!(
                    "version `{}` is not supported (expected {})",
                    shorten(&h.image_layout_version),
                    Self::VERSION
                ),
            ));
        }
        Ok(h)
    }
}

/// A manifest of either kind.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum Manifest {
    /// An image manifest (or artifact).
    Image(ImageManifest),
    /// An image index.
    Index(ImageIndex),
}

impl Manifest {
    /// Parses `bytes` as the kind `media_type` names, checking that a
    /// `mediaType` inside agrees with it.
    pub fn from_json(media_type: &MediaType, bytes: &[u8]) -> Result<Self, Error> {
        let probe = |inner: &Option<MediaType>, what: &'static str| match inner {
            Some(inner) if inner != media_type => Err(invalid(
                what,
                "mediaType",
                format!("the content says `{inner}`, its descriptor `{media_type}`"),
            )),
            _ => Ok(()),
        };
        if media_type == MEDIA_TYPE_IMAGE_MANIFEST || media_type == MEDIA_TYPE_DOCKER_MANIFEST {
            let m = ImageManifest::from_json(bytes)?;
            probe(&m.media_type, "OCI image manifest")?;
            Ok(Self::Image(m))
        } else if media_type == MEDIA_TYPE_IMAGE_INDEX
            || media_type == MEDIA_TYPE_DOCKER_MANIFEST_LIST
        {
            let m = ImageIndex::from_json(bytes)?;
            probe(&m.media_type, "OCI image index")?;
            Ok(Self::Index(m))
        } else {
            Err(invalid(
                "OCI manifest",
                "mediaType",
                format!("`{media_type}` is neither an image manifest nor an image index"),
            ))
        }
    }

    /// The `subject`, if any.
    pub fn subject(&self) -> Option<&Descriptor> {
        match self {
            Self::Image(m) => m.subject.as_ref(),
            Self::Index(m) => m.subject.as_ref(),
        }
    }

    /// The annotations.
    pub fn annotations(&self) -> &Annotations {
        match self {
            Self::Image(m) => &m.annotations,
            Self::Index(m) => &m.annotations,
        }
    }
}

/// An environment variable in an image configuration: `KEY=VALUE`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvVar(String);

impl<'de> Deserialize<'de> for EnvVar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.split_once('=') {
            Some((k, _)) if !k.is_empty() => Ok(Self(s)),
            _ => Err(serde::de::Error::custom(format!(
                "`{}` is not KEY=VALUE",
                shorten(&s)
            ))),
        }
    }
}

/// The execution parameters in an image configuration (`config`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct ContainerConfig {
    #[serde(rename = "User", default)]
    pub user: Option<String>,
    #[serde(rename = "ExposedPorts", default)]
    pub exposed_ports: Option<BTreeMap<String, serde_json::Map<String, serde_json::Value>>>,
    #[serde(rename = "Env", default)]
    pub env: Option<Vec<EnvVar>>,
    #[serde(rename = "Entrypoint", default)]
    pub entrypoint: Option<Vec<String>>,
    #[serde(rename = "Cmd", default)]
    pub cmd: Option<Vec<String>>,
    #[serde(rename = "Volumes", default)]
    pub volumes: Option<BTreeMap<String, serde_json::Map<String, serde_json::Value>>>,
    #[serde(rename = "WorkingDir", default)]
    pub working_dir: Option<String>,
    #[serde(rename = "Labels", default)]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(rename = "StopSignal", default)]
    pub stop_signal: Option<String>,
    #[serde(rename = "ArgsEscaped", default)]
    pub args_escaped: Option<bool>,
}

/// The layer list of an image configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootFs {
    /// Always `layers`.
    #[serde(rename = "type")]
    pub kind: RootFsType,
    /// The digests of the uncompressed layers, in order.
    pub diff_ids: Vec<OciDigest>,
}

/// `rootfs.type`: only `layers` is defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RootFsType {
    /// `layers`
    Layers,
}

/// One step of an image's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct History {
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub empty_layer: Option<bool>,
}

/// An image configuration (`application/vnd.oci.image.config.v1+json`),
/// checked as the spec's schema says. Only what custodia needs is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct ImageConfig {
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub author: Option<String>,
    pub architecture: String,
    pub os: String,
    #[serde(rename = "os.version", default)]
    pub os_version: Option<String>,
    #[serde(rename = "os.features", default)]
    pub os_features: Option<Vec<String>>,
    #[serde(default)]
    pub variant: Option<String>,
    #[serde(default)]
    pub config: Option<ContainerConfig>,
    pub rootfs: RootFs,
    #[serde(default)]
    pub history: Option<Vec<History>>,
}

impl ImageConfig {
    /// Parses and checks an image configuration.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        Ok(crate::json::from_slice(bytes, "OCI image configuration")?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_type_pattern() {
        assert!(
            "application/vnd.oci.image.manifest.v1+json"
                .parse::<MediaType>()
                .is_ok()
        );
        for bad in [
            "application",
            ".foo/bar",
            "foo/.bar",
            "",
            "a/",
            "/b",
            "a b/c",
        ] {
            assert!(bad.parse::<MediaType>().is_err(), "{bad}");
        }
        let long = "a".repeat(127);
        assert!(format!("{long}/{long}").parse::<MediaType>().is_ok());
        assert!(format!("{long}a/b").parse::<MediaType>().is_err());
    }

    #[test]
    fn written_manifests_are_deterministic_and_read_back() {
        let mut m = ImageManifest {
            schema_version: 2,
            media_type: Some(MediaType(MEDIA_TYPE_IMAGE_MANIFEST.into())),
            artifact_type: Some("application/vnd.example+json".parse().unwrap()),
            config: Descriptor::empty(),
            layers: vec![Descriptor::of_bytes("text/plain", b"hi").unwrap()],
            subject: None,
            annotations: Annotations::new(),
        };
        m.annotations.insert("z".into(), "1".into());
        m.annotations.insert("a".into(), "2".into());
        let a = m.to_json().unwrap();
        assert_eq!(a, m.clone().to_json().unwrap());
        let text = String::from_utf8(a.clone()).unwrap();
        assert!(
            text.starts_with(r#"{"schemaVersion":2,"mediaType":"#),
            "{text}"
        );
        assert!(text.find("\"a\"").unwrap() < text.find("\"z\"").unwrap());
        assert_eq!(ImageManifest::from_json(&a).unwrap(), m);
    }
}
