//! The caller's pinned trust: `trusted_root.json` (Sigstore protobuf-specs
//! `TrustedRoot`). Nothing is fetched; the caller passes the file.

use serde::Deserialize;

use crate::error::{BundleError, Error};

const DOC: &str = "trusted root";

/// Trusted roots larger than this are refused.
pub const MAX_TRUSTED_ROOT_BYTES: usize = 4 * 1024 * 1024;

fn invalid(path: impl Into<String>, reason: impl Into<String>) -> Error {
    BundleError::Invalid {
        document: DOC,
        path: path.into(),
        reason: reason.into(),
    }
    .into()
}

/// The media type of a Sigstore `ClientTrustConfig` (protobuf-specs 0.5).
pub const CLIENT_TRUST_CONFIG_V0_1: &str =
    "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MediaTypeWire {
    media_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigWire {
    trusted_root: serde_json::Value,
}

// Only what custodia reports on is typed here; the verifier reads the rest.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RootWire {
    media_type: String,
    #[serde(default)]
    tlogs: Vec<serde_json::Value>,
    #[serde(default)]
    certificate_authorities: Vec<serde_json::Value>,
    #[serde(default)]
    ctlogs: Vec<serde_json::Value>,
    #[serde(default)]
    timestamp_authorities: Vec<serde_json::Value>,
}

/// A Sigstore trusted root: Fulcio certificate authorities, Rekor logs, CT
/// logs and timestamp authorities, each with its validity window.
///
/// Cloning is cheap (the prepared verifier is shared).
///
/// Parsing also prepares everything a verification needs (keys decoded, CA
/// certificates turned into trust anchors), once: verify many bundles
/// against one `TrustedRoot` so each pays only for what is new in it.
///
/// ```
/// # #[cfg(feature = "sigstore")] {
/// use custodia::bundle::TrustedRoot;
/// assert!(TrustedRoot::from_json(b"{}").is_err());
/// assert!(TrustedRoot::from_json(br#"{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[],"tlogs":[]}"#).is_err());
/// # }
/// ```
#[derive(Clone)]
pub struct TrustedRoot {
    client_trust_config: bool,
    media_type: String,
    counts: [usize; 4],
    /// Shared: clones (one per [`super::TrustAnchors`]) cost a reference.
    pub(crate) verifier: std::sync::Arc<sigstore_verify::Verifier>,
}

impl std::fmt::Debug for TrustedRoot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedRoot")
            .field("media_type", &self.media_type)
            .field("client_trust_config", &self.client_trust_config)
            .field("certificate_authorities", &self.counts[0])
            .field("tlogs", &self.counts[1])
            .field("ctlogs", &self.counts[2])
            .field("timestamp_authorities", &self.counts[3])
            .finish()
    }
}

impl TrustedRoot {
    /// Parses `trusted_root.json`. Errors: more than
    /// [`MAX_TRUSTED_ROOT_BYTES`], not strict JSON (duplicate members), an
    /// unknown media type, or material the verifier refuses (a key or
    /// certificate that does not parse, a validity window without a start,
    /// duplicate log ids).
    ///
    /// A Sigstore `ClientTrustConfig` (protobuf-specs 0.5, media type
    /// [`CLIENT_TRUST_CONFIG_V0_1`], what sigstore clients now ship as
    /// `trust_config.json`) is accepted too: its `trustedRoot` is the root
    /// (its `signingConfig` is for signers and is not read).
    ///
    /// ```
    /// # #[cfg(feature = "sigstore")] {
    /// use custodia::bundle::TrustedRoot;
    /// let root = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"),
    ///     "/tests/data/sigstore/trusted_roots/production.trusted_root.json")).unwrap();
    /// let root: serde_json::Value = serde_json::from_slice(&root).unwrap();
    /// let config = serde_json::json!({
    ///     "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
    ///     "trustedRoot": root,
    ///     "signingConfig": {},
    /// });
    /// let parsed = TrustedRoot::from_json(&serde_json::to_vec(&config).unwrap()).unwrap();
    /// assert!(parsed.from_client_trust_config());
    /// assert!(parsed.certificate_authorities() > 0);
    /// # }
    /// ```
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_TRUSTED_ROOT_BYTES {
            return Err(invalid(
                "",
                format!(
                    "{} bytes is more than the limit of {MAX_TRUSTED_ROOT_BYTES}",
                    bytes.len()
                ),
            ));
        }
        let peek: MediaTypeWire = crate::json::from_slice(bytes, DOC)?;
        if peek.media_type != CLIENT_TRUST_CONFIG_V0_1 {
            return Self::from_root_json(bytes);
        }
        let config: ConfigWire = crate::json::from_slice(bytes, "client trust config")?;
        let root = serde_json::to_vec(&config.trusted_root)
            .map_err(|e| invalid("trustedRoot", e.to_string()))?;
        let mut parsed = Self::from_root_json(&root).map_err(|e| match e {
            Error::Bundle(BundleError::Invalid { path, reason, .. }) => invalid(
                if path.is_empty() {
                    "trustedRoot".to_owned()
                } else {
                    format!("trustedRoot.{path}")
                },
                reason,
            ),
            other => other,
        })?;
        parsed.client_trust_config = true;
        Ok(parsed)
    }

    /// Whether it was read from a `ClientTrustConfig`'s `trustedRoot`.
    pub fn from_client_trust_config(&self) -> bool {
        self.client_trust_config
    }

    fn from_root_json(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_TRUSTED_ROOT_BYTES {
            return Err(invalid(
                "",
                format!(
                    "{} bytes is more than the limit of {MAX_TRUSTED_ROOT_BYTES}",
                    bytes.len()
                ),
            ));
        }
        let text =
            std::str::from_utf8(bytes).map_err(|e| invalid("", format!("not UTF-8: {e}")))?;
        let wire: RootWire = crate::json::from_slice(bytes, DOC)?;
        if !matches!(
            wire.media_type.as_str(),
            "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
                | "application/vnd.dev.sigstore.trustedroot.v0.2+json"
        ) {
            return Err(invalid(
                "mediaType",
                format!(
                    "unknown trusted root media type `{}`",
                    crate::digest::shorten(&wire.media_type)
                ),
            ));
        }
        let root = sigstore_verify::trust_root::TrustedRoot::from_json(text)
            .map_err(|e| invalid("", e.to_string()))?;
        let verifier =
            sigstore_verify::Verifier::new(&root).map_err(|e| invalid("", e.to_string()))?;
        Ok(Self {
            client_trust_config: false,
            media_type: wire.media_type,
            counts: [
                wire.certificate_authorities.len(),
                wire.tlogs.len(),
                wire.ctlogs.len(),
                wire.timestamp_authorities.len(),
            ],
            verifier: std::sync::Arc::new(verifier),
        })
    }

    /// The media type as written.
    pub fn media_type(&self) -> &str {
        &self.media_type
    }

    /// How many Fulcio certificate authorities it trusts.
    pub fn certificate_authorities(&self) -> usize {
        self.counts[0]
    }

    /// How many transparency logs (Rekor) it trusts.
    pub fn transparency_logs(&self) -> usize {
        self.counts[1]
    }

    /// How many certificate transparency logs it trusts.
    pub fn ct_logs(&self) -> usize {
        self.counts[2]
    }

    /// How many RFC 3161 timestamp authorities it trusts.
    pub fn timestamp_authorities(&self) -> usize {
        self.counts[3]
    }
}
