//! cosign v2's attachments: most images in registries still carry their
//! signatures and attestations under the tags `sha256-<hex>.sig` and
//! `sha256-<hex>.att` (cosign v3 attaches OCI 1.1 referrers, as custodia
//! does). A `.att` manifest has one layer per attestation, each a DSSE
//! envelope (`application/vnd.dsse.envelope.v1+json`) with cosign's
//! annotations: the predicate type (`predicateType`), and for a keyless
//! signature the Fulcio certificate and chain (PEM) and the Rekor entry
//! (`dev.sigstore.cosign/bundle`: signed entry timestamp, body, integrated
//! time, log index and id). A `.sig` manifest has one layer per signature:
//! a "simple signing" payload naming the image's manifest digest, with the
//! base64 signature in `dev.cosignproject.cosign/signature` and the same
//! keyless annotations.
//!
//! In an image layout the same manifests appear under those tags as ref
//! names (a `skopeo copy` of the tags), or, as `cosign save` writes them,
//! as entries with a `kind` annotation (`dev.cosignproject.cosign/sigs`,
//! `.../atts`) beside the one image the layout holds.
//!
//! custodia reads them (never writes them: attaching stays OCI 1.1), says
//! where each was found ([`Location`]), and turns a keyless layer into the
//! Sigstore bundle v0.1 it is equivalent to ([`legacy_bundle`], feature
//! `sigstore`), so it verifies like any bundle: chain, SET, identity,
//! signature, log body, then for an attestation its statement and subject
//! ([`super::verify_attached_bundles`]), for a signature the image its
//! payload names ([`verify_attached_keyless_signatures`]). Nothing in the
//! annotations or the payload is trusted before that verification.

use std::fmt;

use base64::Engine as _;
use serde::Deserialize;

use crate::error::Error;
use crate::report::{Check, Report};

use super::OciDigest;
use super::error::invalid;
#[cfg(feature = "sigstore")]
use super::referrers::VerifiedSignature;
use super::referrers::{Found, ReferrerFilter, ReferrerSource, discover_legacy};
use super::spec::Descriptor;

/// The media type of a cosign "simple signing" payload (a `.sig` layer).
pub const MEDIA_TYPE_SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// cosign's signature annotation (base64; empty on DSSE layers).
pub const ANNOTATION_SIGNATURE: &str = "dev.cosignproject.cosign/signature";
/// cosign's Rekor entry annotation (JSON: `SignedEntryTimestamp`, `Payload`).
pub const ANNOTATION_BUNDLE: &str = "dev.sigstore.cosign/bundle";
/// cosign's signing certificate annotation (PEM).
pub const ANNOTATION_CERTIFICATE: &str = "dev.sigstore.cosign/certificate";
/// cosign's certificate chain annotation (PEM, intermediates then root).
pub const ANNOTATION_CHAIN: &str = "dev.sigstore.cosign/chain";
/// cosign's predicate type annotation on `.att` layers.
pub const ANNOTATION_PREDICATE_TYPE: &str = "predicateType";
/// The `kind` annotation values `cosign save` gives a layout's entries.
const KIND_SIGNATURES: &str = "dev.cosignproject.cosign/sigs";
const KIND_ATTESTATIONS: &str = "dev.cosignproject.cosign/atts";

/// Which of cosign v2's tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LegacyKind {
    /// `sha256-<hex>.sig`: simple signing signatures.
    Signatures,
    /// `sha256-<hex>.att`: DSSE attestations.
    Attestations,
}

impl LegacyKind {
    /// Both, signatures first.
    pub const ALL: [Self; 2] = [Self::Signatures, Self::Attestations];

    /// The tag suffix: `sig` or `att`.
    pub fn suffix(self) -> &'static str {
        match self {
            Self::Signatures => "sig",
            Self::Attestations => "att",
        }
    }

    /// The tag cosign v2 uses for `subject`'s attachments of this kind.
    ///
    /// ```
    /// use custodia::oci::OciDigest;
    /// use custodia::oci::cosign::LegacyKind;
    /// let d: OciDigest = "sha256:234e2c830c2fb31ac5671789d22adfe44d30c3ee831d01beae5e237841a13122".parse()?;
    /// assert_eq!(
    ///     LegacyKind::Attestations.tag(&d),
    ///     "sha256-234e2c830c2fb31ac5671789d22adfe44d30c3ee831d01beae5e237841a13122.att"
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tag(self, subject: &OciDigest) -> String {
        format!(
            "{}-{}.{}",
            subject.algorithm(),
            subject.encoded(),
            self.suffix()
        )
    }

    /// The `kind` annotation `cosign save` gives this kind's manifest.
    pub(crate) fn save_kind(self) -> &'static str {
        match self {
            Self::Signatures => KIND_SIGNATURES,
            Self::Attestations => KIND_ATTESTATIONS,
        }
    }
}

/// Where an attachment was found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Location {
    /// An OCI 1.1 referrer manifest whose `subject` is the image (the
    /// referrers API, the referrers tag schema, or a layout entry).
    Referrer {
        /// The referrer manifest's digest.
        manifest: OciDigest,
    },
    /// A layer of cosign v2's `sha256-<hex>.sig` / `.att` manifest.
    LegacyTag {
        /// The tag (in a layout: the ref name, or the tag cosign would use
        /// for a `cosign save` entry).
        tag: String,
        /// The manifest's digest.
        manifest: OciDigest,
        /// The layer's index in it.
        layer: usize,
    },
}

impl Location {
    /// The manifest the attachment is in.
    pub fn manifest(&self) -> &OciDigest {
        match self {
            Self::Referrer { manifest } | Self::LegacyTag { manifest, .. } => manifest,
        }
    }

    /// Whether it was found under a cosign v2 tag.
    pub fn is_legacy(&self) -> bool {
        matches!(self, Self::LegacyTag { .. })
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Referrer { manifest } => write!(f, "OCI 1.1 referrer {manifest}"),
            Self::LegacyTag {
                tag,
                manifest,
                layer,
            } => write!(f, "cosign tag {tag} (manifest {manifest}, layers[{layer}])"),
        }
    }
}

/// cosign's `dev.sigstore.cosign/bundle` annotation (its "RekorBundle").
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RekorBundle {
    signed_entry_timestamp: String,
    payload: RekorPayload,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RekorPayload {
    body: String,
    integrated_time: i64,
    log_index: i64,
    #[serde(rename = "logID")]
    log_id: String,
}

/// The `kind` and `apiVersion` of a Rekor entry body.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EntryKind {
    kind: String,
    api_version: String,
}

const DOC: &str = "cosign layer";

/// The certificates of a PEM bundle, as base64 DER (what a Sigstore
/// bundle's `rawBytes` hold).
fn pem_certificates(pem: &str, field: &str) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    let mut rest = pem;
    while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
        let after = rest.get(start..).unwrap_or_default();
        let end = after
            .find("-----END CERTIFICATE-----")
            .ok_or_else(|| invalid(DOC, field, "a certificate without an END line"))?;
        let block_len = end + "-----END CERTIFICATE-----".len();
        let block = after.get(..block_len).unwrap_or_default();
        let (label, der) = pem_rfc7468::decode_vec(block.as_bytes())
            .map_err(|e| invalid(DOC, field, format!("not a PEM certificate: {e}")))?;
        if label != "CERTIFICATE" {
            return Err(invalid(DOC, field, format!("PEM label `{label}`")));
        }
        out.push(base64::engine::general_purpose::STANDARD.encode(der));
        if out.len() > 10 {
            return Err(invalid(DOC, field, "more than 10 certificates"));
        }
        rest = after.get(block_len..).unwrap_or_default();
    }
    Ok(out)
}

/// The Sigstore bundle v0.1 a keyless cosign v2 layer is equivalent to:
/// the certificate and chain from its annotations, its Rekor entry (SET,
/// body, integrated time, log index and id) as a transparency log entry,
/// and as content the layer itself: a DSSE envelope (`.att`), or for a
/// simple signing payload (`.sig`) a message signature over its SHA-256
/// with the signature annotation. `Ok(None)` for a layer without a
/// certificate (signed with a key: verify it with keys instead).
///
/// The result is only a different spelling of what the layer says; it
/// proves nothing until [`crate::bundle`] verifies it.
pub fn legacy_bundle(layer: &Descriptor, blob: &[u8]) -> Result<Option<Vec<u8>>, Error> {
    let Some(certificate) = layer.annotation(ANNOTATION_CERTIFICATE) else {
        return Ok(None);
    };
    let mut certificates = pem_certificates(certificate, ANNOTATION_CERTIFICATE)?;
    if certificates.is_empty() {
        return Err(invalid(DOC, ANNOTATION_CERTIFICATE, "no certificate"));
    }
    if let Some(chain) = layer.annotation(ANNOTATION_CHAIN) {
        certificates.extend(pem_certificates(chain, ANNOTATION_CHAIN)?);
    }
    let rekor = layer.annotation(ANNOTATION_BUNDLE).ok_or_else(|| {
        invalid(
            DOC,
            ANNOTATION_BUNDLE,
            "a keyless layer needs its Rekor entry",
        )
    })?;
    let rekor: RekorBundle = crate::json::from_slice(rekor.as_bytes(), DOC)?;
    let body = base64::engine::general_purpose::STANDARD
        .decode(rekor.payload.body.as_bytes())
        .map_err(|e| invalid(DOC, "Payload.body", format!("not base64: {e}")))?;
    let kind: EntryKind = serde_json::from_slice(&body)
        .map_err(|e| invalid(DOC, "Payload.body", format!("not a Rekor entry: {e}")))?;
    let log_id = decode_hex(&rekor.payload.log_id)
        .ok_or_else(|| invalid(DOC, "Payload.logID", "not hex"))?;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut bundle = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.1",
        "verificationMaterial": {
            "x509CertificateChain": {
                "certificates": certificates
                    .iter()
                    .map(|c| serde_json::json!({"rawBytes": c}))
                    .collect::<Vec<_>>(),
            },
            "tlogEntries": [{
                "logIndex": rekor.payload.log_index.to_string(),
                "logId": {"keyId": b64(&log_id)},
                "kindVersion": {"kind": kind.kind, "version": kind.api_version},
                "integratedTime": rekor.payload.integrated_time.to_string(),
                "inclusionPromise": {"signedEntryTimestamp": rekor.signed_entry_timestamp},
                "canonicalizedBody": rekor.payload.body,
            }],
        },
    });
    let content = if layer.media_type == MEDIA_TYPE_SIMPLE_SIGNING {
        let signature = layer
            .annotation(ANNOTATION_SIGNATURE)
            .ok_or_else(|| invalid(DOC, ANNOTATION_SIGNATURE, "a signature layer needs it"))?;
        let digest = crate::digest::DigestAlgorithm::Sha256.hash(blob);
        (
            "messageSignature",
            serde_json::json!({
                "messageDigest": {"algorithm": "SHA2_256", "digest": b64(digest.as_bytes())},
                "signature": signature,
            }),
        )
    } else {
        let envelope: serde_json::Value = crate::json::from_slice(blob, "DSSE envelope")?;
        ("dsseEnvelope", envelope)
    };
    if let Some(object) = bundle.as_object_mut() {
        object.insert(content.0.to_owned(), content.1);
    }
    serde_json::to_vec(&bundle)
        .map(Some)
        .map_err(|e| invalid(DOC, "", e.to_string()))
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() % 2 != 0 || hex.len() > 256 {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A cosign "simple signing" payload: what a `.sig` layer signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleSigning {
    /// `critical.image.docker-manifest-digest`: the image signed.
    pub manifest_digest: OciDigest,
    /// `critical.identity.docker-reference`: the repository named.
    pub reference: String,
}

#[derive(Deserialize)]
struct SimpleWire {
    critical: CriticalWire,
}

#[derive(Deserialize)]
struct CriticalWire {
    identity: IdentityWire,
    image: ImageWire,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct IdentityWire {
    #[serde(rename = "docker-reference")]
    docker_reference: String,
}

#[derive(Deserialize)]
struct ImageWire {
    #[serde(rename = "docker-manifest-digest")]
    docker_manifest_digest: String,
}

impl SimpleSigning {
    /// Parses a payload (strict JSON); `critical.type` must be
    /// `cosign container image signature`.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        const WHAT: &str = "cosign simple signing payload";
        let wire: SimpleWire = crate::json::from_slice(bytes, WHAT)?;
        if wire.critical.kind != "cosign container image signature" {
            return Err(invalid(
                WHAT,
                "critical.type",
                format!("`{}`", crate::digest::shorten(&wire.critical.kind)),
            ));
        }
        let manifest_digest = wire
            .critical
            .image
            .docker_manifest_digest
            .parse()
            .map_err(|e| {
                invalid(
                    WHAT,
                    "critical.image.docker-manifest-digest",
                    format!("{e}"),
                )
            })?;
        Ok(Self {
            manifest_digest,
            reference: wire.critical.identity.docker_reference,
        })
    }
}

/// The `image` check of a `.sig` layer whose signature verified: the
/// payload parses as simple signing and names `subject`'s manifest digest.
/// Run only after the signature verified: nothing in the payload is read
/// before.
pub(crate) fn bind_image(
    report: &mut Report,
    payload: &[u8],
    subject: &OciDigest,
) -> Option<SimpleSigning> {
    let parsed = match SimpleSigning::from_json(payload) {
        Ok(p) => p,
        Err(e) => {
            report.push(Check::fail("image", e.to_string()));
            return None;
        }
    };
    if &parsed.manifest_digest == subject {
        report.push(Check::pass(
            "image",
            format!(
                "{} ({})",
                parsed.manifest_digest,
                crate::digest::shorten(&parsed.reference)
            ),
        ));
        Some(parsed)
    } else {
        report.push(Check::fail(
            "image",
            format!(
                "the signature is for {}, not {subject}",
                parsed.manifest_digest
            ),
        ));
        None
    }
}

/// The cosign v2 `.sig` layers of `subject`, each with its payload and a
/// report that starts with `location` and `payload`: what both signature
/// verifications (by key and keyless) begin with.
pub(crate) fn signature_layers(
    source: &dyn ReferrerSource,
    subject: &OciDigest,
) -> Result<Vec<(Found, Report, Vec<u8>)>, Error> {
    let filter = ReferrerFilter::any().artifact_type(MEDIA_TYPE_SIMPLE_SIGNING);
    let mut out = Vec::new();
    for f in discover_legacy(source, subject, &filter)? {
        let mut report = Report::new();
        report.push(Check::pass("location", f.location.to_string()));
        let payload = source.fetch_layer(&f.blob)?;
        report.push(Check::pass(
            "payload",
            format!("{} bytes ({})", payload.len(), f.blob.media_type),
        ));
        out.push((f, report, payload));
    }
    Ok(out)
}

/// Finds cosign v2's keyless signatures of the image `subject` (the simple
/// signing layers of its `sha256-<hex>.sig` tag that carry a Fulcio
/// certificate) and verifies each offline against `root` and `policy`:
/// the layer is read as the message-signature bundle v0.1 it is
/// equivalent to ([`legacy_bundle`]) and verified with
/// [`crate::bundle::verify_artifact`] over the payload's exact bytes
/// (`certificate-chain` to a Fulcio CA of the root, `transparency-log`:
/// the Rekor SET, `signing-time`, `identity` / `issuer`, `signature`,
/// `tlog-body`: the logged hashedrekord is this payload, signature and
/// certificate, `artifact`), then `image`: the payload names this image's
/// manifest digest. Each report starts with `location` and `payload`; a
/// layer that is not keyless (no certificate: verify it with
/// [`super::verify_attached_signatures`]) or whose annotations do not read
/// fails at `legacy-layer`. The caller decides how many must verify.
///
/// ```no_run
/// use custodia::bundle::{IdentityPolicy, TrustedRoot};
/// use custodia::oci::{Layout, OciDigest};
/// use custodia::oci::cosign::verify_attached_keyless_signatures;
/// use custodia::trust::TrustAnchors;
///
/// let layout = Layout::open("image-layout")?;
/// let image: OciDigest = layout.resolve(None)?.digest;
/// let root = TrustedRoot::from_json(&std::fs::read("trusted_root.json")?)?;
/// let policy = IdentityPolicy::keyless("mitr@redhat.com", "https://github.com/login/oauth");
/// let anchors = TrustAnchors::keyless(root, policy);
/// let signatures = verify_attached_keyless_signatures(&layout, &image, &anchors)?;
/// assert!(signatures.iter().any(|s| s.verified()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "sigstore")]
pub fn verify_attached_keyless_signatures(
    source: &dyn ReferrerSource,
    subject: &OciDigest,
    anchors: &crate::trust::TrustAnchors,
) -> Result<Vec<VerifiedSignature>, Error> {
    let mut out = Vec::new();
    for (f, mut report, payload) in signature_layers(source, subject)? {
        let bundle = legacy_bundle(&f.blob, &payload).and_then(|b| {
            let bytes = b.ok_or_else(|| {
                invalid(
                    DOC,
                    ANNOTATION_CERTIFICATE,
                    "no certificate: signed with a key, verify it with keys",
                )
            })?;
            crate::bundle::Bundle::from_json(&bytes)
        });
        let bundle = match bundle {
            Ok(bundle) => bundle,
            Err(e) => {
                report.push(Check::fail("legacy-layer", e.to_string()));
                out.push(VerifiedSignature {
                    location: f.location,
                    report,
                    payload: None,
                    signed_by: None,
                });
                continue;
            }
        };
        let artifact = crate::digest::DigestSet::of_bytes(&payload);
        let verified = crate::bundle::verify_artifact(&bundle, anchors, &artifact);
        report.extend(verified.report().clone());
        let parsed = if verified.report().verified() {
            bind_image(&mut report, &payload, subject)
        } else {
            None
        };
        let signed_by = parsed
            .as_ref()
            .and_then(|_| verified.signed_by().first().cloned());
        out.push(VerifiedSignature {
            location: f.location,
            report,
            payload: parsed,
            signed_by,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_kinds() {
        let d: OciDigest = format!("sha256:{}", "ab".repeat(32)).parse().unwrap();
        assert_eq!(
            LegacyKind::Signatures.tag(&d),
            format!("sha256-{}.sig", "ab".repeat(32))
        );
        assert_eq!(LegacyKind::Attestations.save_kind(), KIND_ATTESTATIONS);
        assert_eq!(decode_hex("0aFF"), Some(vec![10, 255]));
        assert_eq!(decode_hex("0"), None);
        assert_eq!(decode_hex("zz"), None);
    }

    #[test]
    fn a_layer_without_a_certificate_is_not_keyless() {
        let layer = Descriptor::of_bytes(MEDIA_TYPE_SIMPLE_SIGNING, b"{}").unwrap();
        assert_eq!(legacy_bundle(&layer, b"{}").unwrap(), None);
    }
}
