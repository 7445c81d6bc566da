//! The Sigstore bundle wire format (protobuf-specs `Bundle`, JSON form) and
//! its parse into [`Bundle`].
//!
//! Wire types are private and strict: duplicate members anywhere, unknown
//! members, bad base64 (including non-zero padding bits), negative log
//! indexes and unknown media types are errors. The parsed [`Bundle`] keeps
//! the decoded bytes custodia reports on, plus the verifier's own parse of
//! the same text (so both read one document, and a bundle the verifier
//! cannot read is refused here, at parse time).

use serde::Deserialize;
use serde::de::{self, Deserializer};

use crate::digest::{Digest, DigestAlgorithm};
use crate::dsse::Envelope;
use crate::encoding::base64_decode;
use crate::error::{BundleError, Error};

/// Bundles larger than this are refused before parsing (a DSSE payload of
/// 64 MiB base64-encodes to about 85 MiB).
pub const MAX_BUNDLE_BYTES: usize = 96 * 1024 * 1024;

/// Transparency log entries per bundle above this are refused.
pub const MAX_TLOG_ENTRIES: usize = 16;

/// Certificates per chain, hashes per inclusion proof and RFC 3161
/// timestamps above this are refused.
pub const MAX_LIST: usize = 64;

const DOC: &str = "Sigstore bundle";

fn invalid(path: impl Into<String>, reason: impl Into<String>) -> Error {
    BundleError::Invalid {
        document: DOC,
        path: path.into(),
        reason: reason.into(),
    }
    .into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct BundleWire {
    /// Read (and checked) before the rest; here so it is not "unknown".
    #[allow(dead_code)]
    media_type: String,
    verification_material: MaterialWire,
    #[serde(default)]
    message_signature: Option<MessageSignatureWire>,
    #[serde(default)]
    dsse_envelope: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct MaterialWire {
    #[serde(default)]
    certificate: Option<RawBytes>,
    #[serde(default)]
    x509_certificate_chain: Option<ChainWire>,
    #[serde(default)]
    public_key: Option<PublicKeyWire>,
    #[serde(default)]
    tlog_entries: Vec<TlogEntryWire>,
    #[serde(default)]
    timestamp_verification_data: Option<TimestampDataWire>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawBytes {
    raw_bytes: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChainWire {
    #[serde(default)]
    certificates: Vec<RawBytes>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublicKeyWire {
    #[serde(default)]
    hint: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TimestampDataWire {
    #[serde(default)]
    rfc3161_timestamps: Vec<SignedTimestampWire>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SignedTimestampWire {
    signed_timestamp: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct MessageSignatureWire {
    #[serde(default)]
    message_digest: Option<MessageDigestWire>,
    signature: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageDigestWire {
    algorithm: String,
    digest: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TlogEntryWire {
    #[serde(deserialize_with = "int64")]
    log_index: i64,
    log_id: LogIdWire,
    kind_version: KindVersionWire,
    #[serde(default, deserialize_with = "opt_int64")]
    integrated_time: Option<i64>,
    #[serde(default)]
    inclusion_promise: Option<PromiseWire>,
    #[serde(default)]
    inclusion_proof: Option<ProofWire>,
    #[serde(default)]
    canonicalized_body: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct LogIdWire {
    key_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KindVersionWire {
    kind: String,
    version: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PromiseWire {
    signed_entry_timestamp: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ProofWire {
    #[serde(deserialize_with = "int64")]
    log_index: i64,
    root_hash: String,
    #[serde(deserialize_with = "int64")]
    tree_size: i64,
    #[serde(default)]
    hashes: Vec<String>,
    #[serde(default)]
    checkpoint: Option<CheckpointWire>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckpointWire {
    envelope: String,
}

/// Protobuf JSON writes int64 as a string; numbers are accepted too.
fn int64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Int {
        N(i64),
        S(String),
    }
    match Int::deserialize(d)? {
        Int::N(n) => Ok(n),
        Int::S(s) => {
            // Protobuf's canonical form: optional '-', digits, no '+', no spaces.
            let digits = s.strip_prefix('-').unwrap_or(&s);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(de::Error::custom(format_args!(
                    "`{}` is not an integer",
                    crate::digest::shorten(&s)
                )));
            }
            s.parse::<i64>().map_err(de::Error::custom)
        }
    }
}

fn opt_int64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    int64(d).map(Some)
}

/// The bundle format version, from the media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum BundleVersion {
    /// `application/vnd.dev.sigstore.bundle+json;version=0.1`
    V0_1,
    /// `application/vnd.dev.sigstore.bundle+json;version=0.2`
    V0_2,
    /// `application/vnd.dev.sigstore.bundle.v0.3+json` (or the older
    /// `...bundle+json;version=0.3` spelling)
    V0_3,
}

impl BundleVersion {
    /// The media type's version for a known media type.
    pub fn from_media_type(media_type: &str) -> Option<Self> {
        match media_type {
            "application/vnd.dev.sigstore.bundle+json;version=0.1" => Some(Self::V0_1),
            "application/vnd.dev.sigstore.bundle+json;version=0.2" => Some(Self::V0_2),
            "application/vnd.dev.sigstore.bundle+json;version=0.3"
            | "application/vnd.dev.sigstore.bundle.v0.3+json" => Some(Self::V0_3),
            _ => None,
        }
    }

    /// `0.1`, `0.2` or `0.3`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V0_1 => "0.1",
            Self::V0_2 => "0.2",
            Self::V0_3 => "0.3",
        }
    }
}

/// Who signed, as the bundle says: a certificate (keyless, Fulcio), or a
/// hint naming a key the verifier must already have.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerificationMaterial {
    /// The signing certificate (v0.3 `certificate`), or a chain whose first
    /// certificate is the signing one (`x509CertificateChain`), DER.
    Certificates(Vec<Vec<u8>>),
    /// A public-key bundle: the hint (unauthenticated) naming the key.
    PublicKey {
        /// The key hint, if any; never used to pick a trusted key.
        hint: Option<String>,
    },
}

/// What was signed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Content {
    /// A DSSE envelope (in-toto attestations).
    Dsse(Envelope),
    /// A signature over an artifact's digest (`cosign sign-blob`).
    MessageSignature {
        /// The artifact digest the bundle claims (unsigned: the signature is
        /// checked against the caller's artifact, not this value).
        digest: Option<Digest>,
        /// The signature bytes.
        signature: Vec<u8>,
    },
}

/// One transparency log entry of a bundle, as read (nothing verified).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlogEntry {
    /// The entry's index in its log.
    pub log_index: u64,
    /// The log's key id (SHA-256 of its public key), hex.
    pub log_id: String,
    /// Rekor entry kind (`hashedrekord`, `dsse`, `intoto`) and version.
    pub kind: String,
    /// The kind's version (`0.0.1`, `0.0.2`).
    pub kind_version: String,
    /// Seconds since the epoch when the log integrated the entry (Rekor v1;
    /// authenticated only by the inclusion promise).
    pub integrated_time: Option<i64>,
    /// Whether a signed entry timestamp (inclusion promise) is present.
    pub has_inclusion_promise: bool,
    /// The inclusion proof's tree size, if a proof is present.
    pub proof_tree_size: Option<u64>,
    /// Whether the inclusion proof carries a signed checkpoint.
    pub has_checkpoint: bool,
}

/// A parsed Sigstore bundle (v0.1, v0.2 or v0.3), not yet verified.
///
/// ```
/// # #[cfg(feature = "sigstore")] {
/// use custodia::bundle::Bundle;
/// assert!(Bundle::from_json(b"{}").is_err());
/// assert!(Bundle::from_json(br#"{"mediaType":"application/vnd.dev.sigstore.bundle+json;version=99.9"}"#).is_err());
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Bundle {
    version: BundleVersion,
    media_type: String,
    material: VerificationMaterial,
    content: Content,
    tlog_entries: Vec<TlogEntry>,
    rfc3161_timestamps: usize,
    pub(crate) inner: sigstore_verify::types::Bundle,
}

fn b64(path: impl Fn() -> String, value: &str) -> Result<Vec<u8>, Error> {
    base64_decode(value).map_err(|e| invalid(path(), format!("invalid base64: {e}")))
}

fn non_negative(path: &str, n: i64) -> Result<u64, Error> {
    u64::try_from(n).map_err(|_| invalid(path, format!("must not be negative, found {n}")))
}

fn digest_algorithm(name: &str) -> Option<DigestAlgorithm> {
    match name {
        "SHA2_256" => Some(DigestAlgorithm::Sha256),
        "SHA2_384" => Some(DigestAlgorithm::Sha384),
        "SHA2_512" => Some(DigestAlgorithm::Sha512),
        _ => None,
    }
}

impl Bundle {
    /// Parses a bundle's JSON.
    ///
    /// Errors: more than [`MAX_BUNDLE_BYTES`], not UTF-8, not strict JSON
    /// (duplicate members, trailing data), unknown members, an unknown
    /// media type, not exactly one of `messageSignature` / `dsseEnvelope`,
    /// not exactly one kind of verification material, an empty certificate
    /// chain, bad base64, a negative log index, or a bundle the verifier's
    /// own parser refuses.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_BUNDLE_BYTES {
            return Err(invalid(
                "",
                format!(
                    "{} bytes is more than the limit of {MAX_BUNDLE_BYTES}",
                    bytes.len()
                ),
            ));
        }
        let text =
            std::str::from_utf8(bytes).map_err(|e| invalid("", format!("not UTF-8: {e}")))?;
        // Media type first: an unknown version is named as such, not as the
        // unknown fields it may have.
        let head: serde_json::Value = crate::json::from_slice(bytes, DOC)?;
        let media_type = head
            .get("mediaType")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| invalid("mediaType", "a media type string is required"))?;
        let version = BundleVersion::from_media_type(media_type).ok_or_else(|| {
            invalid(
                "mediaType",
                format!(
                    "unknown bundle media type `{}` (v0.1, v0.2 and v0.3 are supported)",
                    crate::digest::shorten(media_type)
                ),
            )
        })?;
        let wire: BundleWire = crate::json::from_value(&head, DOC)?;

        let m = wire.verification_material;
        let material = match (m.certificate, m.x509_certificate_chain, m.public_key) {
            (Some(cert), None, None) => VerificationMaterial::Certificates(vec![b64(
                || "verificationMaterial.certificate.rawBytes".into(),
                &cert.raw_bytes,
            )?]),
            (None, Some(chain), None) => {
                if chain.certificates.is_empty() {
                    return Err(invalid(
                        "verificationMaterial.x509CertificateChain",
                        "the certificate chain is empty",
                    ));
                }
                if chain.certificates.len() > MAX_LIST {
                    return Err(invalid(
                        "verificationMaterial.x509CertificateChain",
                        format!("more than {MAX_LIST} certificates"),
                    ));
                }
                VerificationMaterial::Certificates(
                    chain
                        .certificates
                        .iter()
                        .enumerate()
                        .map(|(i, c)| {
                            b64(
                                || {
                                    format!(
                                        "verificationMaterial.x509CertificateChain.certificates[{i}].rawBytes"
                                    )
                                },
                                &c.raw_bytes,
                            )
                        })
                        .collect::<Result<_, _>>()?,
                )
            }
            (None, None, Some(key)) => VerificationMaterial::PublicKey { hint: key.hint },
            _ => {
                return Err(invalid(
                    "verificationMaterial",
                    "exactly one of certificate, x509CertificateChain or publicKey is required",
                ));
            }
        };
        if let VerificationMaterial::Certificates(certs) = &material {
            if certs.iter().any(Vec::is_empty) {
                return Err(invalid("verificationMaterial", "empty certificate"));
            }
        }

        if m.tlog_entries.len() > MAX_TLOG_ENTRIES {
            return Err(invalid(
                "verificationMaterial.tlogEntries",
                format!("more than {MAX_TLOG_ENTRIES} entries"),
            ));
        }
        let mut tlog_entries = Vec::with_capacity(m.tlog_entries.len());
        for (i, e) in m.tlog_entries.iter().enumerate() {
            let at = |field: &str| format!("verificationMaterial.tlogEntries[{i}].{field}");
            let log_index = non_negative(&at("logIndex"), e.log_index)?;
            let log_id = b64(|| at("logId.keyId"), &e.log_id.key_id)?;
            if let Some(t) = e.integrated_time {
                non_negative(&at("integratedTime"), t)?;
            }
            if let Some(p) = &e.inclusion_promise {
                b64(
                    || at("inclusionPromise.signedEntryTimestamp"),
                    &p.signed_entry_timestamp,
                )?;
            }
            if let Some(body) = &e.canonicalized_body {
                b64(|| at("canonicalizedBody"), body)?;
            }
            let mut proof_tree_size = None;
            let mut has_checkpoint = false;
            if let Some(p) = &e.inclusion_proof {
                non_negative(&at("inclusionProof.logIndex"), p.log_index)?;
                proof_tree_size = Some(non_negative(&at("inclusionProof.treeSize"), p.tree_size)?);
                b64(|| at("inclusionProof.rootHash"), &p.root_hash)?;
                if p.hashes.len() > MAX_LIST {
                    return Err(invalid(
                        at("inclusionProof.hashes"),
                        format!("more than {MAX_LIST} hashes"),
                    ));
                }
                for (j, h) in p.hashes.iter().enumerate() {
                    b64(|| at(&format!("inclusionProof.hashes[{j}]")), h)?;
                }
                has_checkpoint = p
                    .checkpoint
                    .as_ref()
                    .is_some_and(|c| !c.envelope.is_empty());
            }
            tlog_entries.push(TlogEntry {
                log_index,
                log_id: crate::encoding::hex_lower(&log_id),
                kind: e.kind_version.kind.clone(),
                kind_version: e.kind_version.version.clone(),
                integrated_time: e.integrated_time.filter(|t| *t > 0),
                has_inclusion_promise: e.inclusion_promise.is_some(),
                proof_tree_size,
                has_checkpoint,
            });
        }
        let timestamps = m
            .timestamp_verification_data
            .map(|t| t.rfc3161_timestamps)
            .unwrap_or_default();
        if timestamps.len() > MAX_LIST {
            return Err(invalid(
                "verificationMaterial.timestampVerificationData",
                format!("more than {MAX_LIST} timestamps"),
            ));
        }
        for (i, t) in timestamps.iter().enumerate() {
            b64(
                || {
                    format!(
                        "verificationMaterial.timestampVerificationData.rfc3161Timestamps[{i}].signedTimestamp"
                    )
                },
                &t.signed_timestamp,
            )?;
        }

        let content = match (wire.message_signature, wire.dsse_envelope) {
            (Some(ms), None) => {
                let signature = b64(|| "messageSignature.signature".into(), &ms.signature)?;
                let digest = match ms.message_digest {
                    None => None,
                    Some(d) => {
                        let algorithm = digest_algorithm(&d.algorithm).ok_or_else(|| {
                            invalid(
                                "messageSignature.messageDigest.algorithm",
                                format!(
                                    "unsupported algorithm `{}` (SHA2_256, SHA2_384, SHA2_512)",
                                    crate::digest::shorten(&d.algorithm)
                                ),
                            )
                        })?;
                        let bytes =
                            b64(|| "messageSignature.messageDigest.digest".into(), &d.digest)?;
                        Some(Digest::from_bytes(algorithm, &bytes).map_err(|e| {
                            invalid("messageSignature.messageDigest.digest", e.to_string())
                        })?)
                    }
                };
                Content::MessageSignature { digest, signature }
            }
            (None, Some(env)) => {
                let json =
                    serde_json::to_vec(&env).map_err(|e| invalid("dsseEnvelope", e.to_string()))?;
                let envelope = Envelope::from_json(&json)
                    .map_err(|e| invalid("dsseEnvelope", e.to_string()))?;
                if envelope.signatures().len() != 1 {
                    return Err(invalid(
                        "dsseEnvelope.signatures",
                        format!(
                            "a bundle's envelope has exactly one signature, found {}",
                            envelope.signatures().len()
                        ),
                    ));
                }
                Content::Dsse(envelope)
            }
            _ => {
                return Err(invalid(
                    "",
                    "exactly one of messageSignature or dsseEnvelope is required",
                ));
            }
        };

        let inner = sigstore_verify::types::Bundle::from_json(text)
            .map_err(|e| invalid("", format!("refused by the verifier's parser: {e}")))?;
        Ok(Self {
            version,
            media_type: media_type.to_owned(),
            material,
            content,
            tlog_entries,
            rfc3161_timestamps: timestamps.len(),
            inner,
        })
    }

    /// The format version.
    pub fn version(&self) -> BundleVersion {
        self.version
    }

    /// The media type as written.
    pub fn media_type(&self) -> &str {
        &self.media_type
    }

    /// The verification material (certificates or a key hint).
    pub fn material(&self) -> &VerificationMaterial {
        &self.material
    }

    /// What was signed.
    pub fn content(&self) -> &Content {
        &self.content
    }

    /// The DSSE envelope, for an attestation bundle.
    pub fn envelope(&self) -> Option<&Envelope> {
        match &self.content {
            Content::Dsse(e) => Some(e),
            Content::MessageSignature { .. } => None,
        }
    }

    /// The transparency log entries, as read.
    pub fn tlog_entries(&self) -> &[TlogEntry] {
        &self.tlog_entries
    }

    /// How many RFC 3161 timestamps the bundle carries.
    pub fn rfc3161_timestamps(&self) -> usize {
        self.rfc3161_timestamps
    }

    /// One line saying what the bundle holds (for the `bundle` check).
    pub(crate) fn summary(&self) -> String {
        let content = match &self.content {
            Content::Dsse(e) => format!(
                "DSSE envelope (`{}`)",
                crate::digest::shorten(e.payload_type())
            ),
            Content::MessageSignature { .. } => "message signature".to_owned(),
        };
        let material = match &self.material {
            VerificationMaterial::Certificates(c) if c.len() == 1 => "a certificate".to_owned(),
            VerificationMaterial::Certificates(c) => format!("a chain of {} certificates", c.len()),
            VerificationMaterial::PublicKey { .. } => "a public-key hint".to_owned(),
        };
        let entries = self
            .tlog_entries
            .iter()
            .map(|e| {
                format!(
                    "{} {}",
                    crate::digest::shorten(&e.kind),
                    crate::digest::shorten(&e.kind_version)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "v{}: {content}, {material}, {} tlog entr{} ({entries}), {} RFC 3161 timestamp(s)",
            self.version.as_str(),
            self.tlog_entries.len(),
            if self.tlog_entries.len() == 1 {
                "y"
            } else {
                "ies"
            },
            self.rfc3161_timestamps
        )
    }
}
