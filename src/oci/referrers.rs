//! OCI 1.1 referrers: attestations stored as artifact manifests whose
//! `subject` is the image they describe.
//!
//! A DSSE envelope becomes an image manifest with
//!
//! * `artifactType` `application/vnd.dsse.envelope.v1+json` (the media
//!   type cosign and the in-toto tooling give DSSE envelopes);
//! * `config` the empty descriptor (`application/vnd.oci.empty.v1+json`,
//!   the two bytes `{}`), as the image spec's artifact guidance says;
//! * one layer, the envelope, with the same media type and an
//!   `org.opencontainers.image.title` of `sha256-<hex>.dsse.json`;
//! * `subject` the image manifest (or index) descriptor;
//! * the statement's predicate type in the `in-toto.io/predicate-type`
//!   annotation (BuildKit's convention for in-toto layers), on the
//!   manifest and on the layer.
//!
//! Any other blob with a media type can be attached the same way
//! ([`Attachment::new`]). A Sigstore bundle (feature `sigstore`,
//! `Attachment::sigstore_bundle`) is stored as cosign v3 stores it:
//! `artifactType` and layer media type [`ARTIFACT_TYPE_SIGSTORE_BUNDLE`],
//! the predicate type in cosign's `dev.sigstore.bundle.predicateType`
//! annotation and in `in-toto.io/predicate-type` (both read by
//! [`predicate_type_of`]); `verify_attached_bundles` verifies such
//! referrers offline against the keyless anchors of a [`TrustAnchors`]
//! and its trusted root.
//!
//! The manifest is serialized deterministically: attaching the same bytes
//! to the same subject always gives the same manifest digest, so a repeated
//! attach is a no-op rather than a duplicate.

use base64::Engine as _;

use crate::dsse::Envelope;
use crate::error::Error;
use crate::report::{Check, Report};
use crate::statement::Statement;
use crate::trust::{Anchor, TrustAnchors};
use crate::verify::{Expectation, VerifiedAttestation, verify_attestation};

use super::OciDigest;
use super::cosign::{LegacyKind, Location, SimpleSigning};

use super::error::invalid;
use super::spec::{
    ANNOTATION_TITLE, Annotations, Descriptor, ImageIndex, ImageManifest, MEDIA_TYPE_IMAGE_INDEX,
    MEDIA_TYPE_IMAGE_MANIFEST, MediaType,
};

/// The media type (and artifact type) of a DSSE envelope.
pub const ARTIFACT_TYPE_DSSE: &str = "application/vnd.dsse.envelope.v1+json";
/// The media type (and artifact type) of a Sigstore bundle v0.3, as cosign
/// v3 attaches them.
pub const ARTIFACT_TYPE_SIGSTORE_BUNDLE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The in-toto predicate type annotation (BuildKit's attestation layers).
pub const ANNOTATION_PREDICATE_TYPE: &str = "in-toto.io/predicate-type";
/// cosign's predicate type annotation on Sigstore bundle referrers.
pub const ANNOTATION_SIGSTORE_PREDICATE_TYPE: &str = "dev.sigstore.bundle.predicateType";
/// cosign's annotation for what a bundle holds: `dsse-envelope` or
/// `message-signature`.
pub const ANNOTATION_SIGSTORE_CONTENT: &str = "dev.sigstore.bundle.content";

/// The predicate type a referrer's annotations name, from
/// `in-toto.io/predicate-type` or cosign's
/// `dev.sigstore.bundle.predicateType`.
pub fn predicate_type_of(annotations: &Annotations) -> Option<&str> {
    annotations
        .get(ANNOTATION_PREDICATE_TYPE)
        .or_else(|| annotations.get(ANNOTATION_SIGSTORE_PREDICATE_TYPE))
        .map(String::as_str)
}

/// A blob to attach to an image as a referrer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    artifact_type: MediaType,
    media_type: MediaType,
    bytes: Vec<u8>,
    annotations: Annotations,
}

fn media_type(s: &str, field: &'static str) -> Result<MediaType, Error> {
    s.parse()
        .map_err(|reason: String| invalid("OCI attachment", field, reason))
}

impl Attachment {
    /// Any blob: its artifact type, its own media type and its bytes.
    pub fn new(artifact_type: &str, media_type_: &str, bytes: Vec<u8>) -> Result<Self, Error> {
        Ok(Self {
            artifact_type: media_type(artifact_type, "artifactType")?,
            media_type: media_type(media_type_, "mediaType")?,
            bytes,
            annotations: Annotations::new(),
        })
    }

    /// A DSSE envelope, as its canonical JSON. When it carries an in-toto
    /// statement the predicate type is recorded in an annotation.
    pub fn dsse(envelope: &Envelope) -> Result<Self, Error> {
        Ok(Self::dsse_parsed(envelope, envelope.to_json()?))
    }

    /// A DSSE envelope given as bytes, attached byte for byte (after
    /// checking that it is an envelope).
    pub fn dsse_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let envelope = Envelope::from_json(bytes)?;
        Ok(Self::dsse_parsed(&envelope, bytes.to_vec()))
    }

    /// A Sigstore bundle given as bytes, attached byte for byte (after
    /// checking that it is a bundle). For a DSSE bundle carrying an in-toto
    /// statement the predicate type is recorded in cosign's annotation and
    /// in-toto's, and `dev.sigstore.bundle.content` says `dsse-envelope`.
    ///
    /// ```
    /// # let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"),
    /// #     "/tests/data/sigstore/sigstore-conformance/bundle-verify/happy-path-intoto-in-dsse-v3/bundle.sigstore.json"))?;
    /// use custodia::oci::Attachment;
    /// use custodia::oci::referrers::ARTIFACT_TYPE_SIGSTORE_BUNDLE;
    /// let attachment = Attachment::sigstore_bundle(&bytes)?;
    /// assert_eq!(attachment.artifact_type().as_str(), ARTIFACT_TYPE_SIGSTORE_BUNDLE);
    /// assert_eq!(attachment.predicate_type(), Some("https://slsa.dev/provenance/v1"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "sigstore")]
    pub fn sigstore_bundle(bytes: &[u8]) -> Result<Self, Error> {
        let bundle = crate::bundle::Bundle::from_json(bytes)?;
        let mut annotations = Annotations::new();
        if let Some(envelope) = bundle.envelope() {
            annotations.insert(
                ANNOTATION_SIGSTORE_CONTENT.to_owned(),
                "dsse-envelope".to_owned(),
            );
            if crate::statement::is_payload_type(envelope.payload_type()) {
                if let Ok(statement) = Statement::from_json(envelope.payload()) {
                    for key in [
                        ANNOTATION_SIGSTORE_PREDICATE_TYPE,
                        ANNOTATION_PREDICATE_TYPE,
                    ] {
                        annotations.insert(key.to_owned(), statement.predicate_type().to_owned());
                    }
                }
            }
        } else {
            annotations.insert(
                ANNOTATION_SIGSTORE_CONTENT.to_owned(),
                "message-signature".to_owned(),
            );
        }
        let media_type = MediaType::internal(ARTIFACT_TYPE_SIGSTORE_BUNDLE);
        Ok(Self {
            artifact_type: media_type.clone(),
            media_type,
            bytes: bytes.to_vec(),
            annotations,
        })
    }

    fn dsse_parsed(envelope: &Envelope, bytes: Vec<u8>) -> Self {
        let mut annotations = Annotations::new();
        if crate::statement::is_payload_type(envelope.payload_type()) {
            if let Ok(statement) = Statement::from_json(envelope.payload()) {
                annotations.insert(
                    ANNOTATION_PREDICATE_TYPE.to_owned(),
                    statement.predicate_type().to_owned(),
                );
            }
        }
        Self {
            artifact_type: MediaType::dsse(),
            media_type: MediaType::dsse(),
            bytes,
            annotations,
        }
    }

    /// Adds an annotation to the manifest (and to its index entry).
    pub fn with_annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.annotations.insert(key.into(), value.into());
        self
    }

    /// The artifact type.
    pub fn artifact_type(&self) -> &MediaType {
        &self.artifact_type
    }

    /// The blob's media type.
    pub fn media_type(&self) -> &MediaType {
        &self.media_type
    }

    /// The blob.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The manifest annotations.
    pub fn annotations(&self) -> &Annotations {
        &self.annotations
    }

    /// The predicate type, if the annotations name one.
    pub fn predicate_type(&self) -> Option<&str> {
        predicate_type_of(&self.annotations)
    }
}

impl MediaType {
    fn dsse() -> Self {
        Self::internal(ARTIFACT_TYPE_DSSE)
    }
}

/// A referrer manifest, ready to store: the manifest, its exact bytes, the
/// descriptor to list it under (with `artifactType` and the manifest's
/// annotations, as the referrers API reports them), and the blobs it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferrerManifest {
    /// The manifest.
    pub manifest: ImageManifest,
    /// Its serialized bytes (deterministic).
    pub bytes: Vec<u8>,
    /// Its descriptor as a referrers index lists it.
    pub descriptor: Descriptor,
    /// The attached blob's descriptor (the manifest's only layer).
    pub layer: Descriptor,
}

/// Builds the referrer manifest that attaches `attachment` to `subject`.
///
/// ```
/// use custodia::oci::{Attachment, Descriptor, referrer_manifest};
/// let image = Descriptor::of_bytes("application/vnd.oci.image.manifest.v1+json", b"{}")?;
/// let blob = Attachment::new("application/vnd.example.sbom", "application/json", b"{}".to_vec())?;
/// let a = referrer_manifest(&image, &blob)?;
/// let b = referrer_manifest(&image, &blob)?;
/// assert_eq!(a.bytes, b.bytes); // deterministic: same input, same digest
/// assert_eq!(a.manifest.subject.as_ref().map(|s| &s.digest), Some(&image.digest));
/// # Ok::<(), custodia::Error>(())
/// ```
pub fn referrer_manifest(
    subject: &Descriptor,
    attachment: &Attachment,
) -> Result<ReferrerManifest, Error> {
    let mut layer = Descriptor::of_bytes(attachment.media_type.as_str(), &attachment.bytes)?;
    layer.media_type = attachment.media_type.clone();
    let extension = if attachment.media_type == ARTIFACT_TYPE_DSSE {
        ".dsse.json"
    } else if attachment.media_type == ARTIFACT_TYPE_SIGSTORE_BUNDLE {
        ".sigstore.json"
    } else {
        ""
    };
    layer.annotations.insert(
        ANNOTATION_TITLE.to_owned(),
        format!(
            "{}-{}{extension}",
            layer.digest.algorithm(),
            layer.digest.encoded()
        ),
    );
    if let Some(p) = attachment.annotations.get(ANNOTATION_PREDICATE_TYPE) {
        layer
            .annotations
            .insert(ANNOTATION_PREDICATE_TYPE.to_owned(), p.clone());
    }
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: Some(MediaType::internal(MEDIA_TYPE_IMAGE_MANIFEST)),
        artifact_type: Some(attachment.artifact_type.clone()),
        config: Descriptor::empty(),
        layers: vec![layer.clone()],
        subject: Some(subject.bare()),
        annotations: attachment.annotations.clone(),
    };
    let bytes = manifest.to_json()?;
    let mut descriptor = Descriptor::of_bytes(MEDIA_TYPE_IMAGE_MANIFEST, &bytes)?;
    descriptor.artifact_type = Some(attachment.artifact_type.clone());
    descriptor.annotations = attachment.annotations.clone();
    Ok(ReferrerManifest {
        manifest,
        bytes,
        descriptor,
        layer,
    })
}

/// Which referrers to list: all, or those of one artifact type and/or one
/// predicate type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReferrerFilter {
    /// Only this `artifactType` (the config media type when absent).
    pub artifact_type: Option<String>,
    /// Only this predicate type (from the annotations).
    pub predicate_type: Option<String>,
}

impl ReferrerFilter {
    /// Every referrer.
    pub fn any() -> Self {
        Self::default()
    }

    /// Only referrers of `artifact_type`.
    pub fn artifact_type(mut self, artifact_type: impl Into<String>) -> Self {
        self.artifact_type = Some(artifact_type.into());
        self
    }

    /// Only referrers whose annotations name `predicate_type`.
    pub fn predicate_type(mut self, predicate_type: impl Into<String>) -> Self {
        self.predicate_type = Some(predicate_type.into());
        self
    }

    /// Whether a referrers index entry passes. An entry without an
    /// `artifactType` passes the artifact type test (the manifest decides).
    pub fn matches_descriptor(&self, d: &Descriptor) -> bool {
        let artifact_ok = match (&self.artifact_type, &d.artifact_type) {
            (Some(want), Some(have)) => have == want.as_str(),
            _ => true,
        };
        let predicate_ok = match &self.predicate_type {
            Some(want) => predicate_type_of(&d.annotations).is_none_or(|p| p == want),
            None => true,
        };
        artifact_ok && predicate_ok
    }

    /// Whether a referrer manifest passes.
    pub fn matches_manifest(&self, m: &ImageManifest) -> bool {
        let artifact_ok = self
            .artifact_type
            .as_ref()
            .is_none_or(|want| m.effective_artifact_type() == want.as_str());
        let predicate_ok = self.predicate_type.as_ref().is_none_or(|want| {
            predicate_type_of(&m.annotations).or_else(|| {
                m.layers
                    .iter()
                    .find_map(|l| predicate_type_of(&l.annotations))
            }) == Some(want.as_str())
        });
        artifact_ok && predicate_ok
    }
}

/// A referrer found for a subject: its descriptor (as listed) and its
/// manifest (read and checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrer {
    /// The manifest's descriptor, with `artifactType` and annotations.
    pub descriptor: Descriptor,
    /// The manifest.
    pub manifest: ImageManifest,
}

impl Referrer {
    /// `manifest`, listed as `descriptor`, as a referrer of `subject` if it
    /// names `subject` and passes `filter` (what every referrer source
    /// checks after reading a listed manifest).
    pub(crate) fn of(
        descriptor: Descriptor,
        manifest: ImageManifest,
        subject: &OciDigest,
        filter: &ReferrerFilter,
    ) -> Option<Self> {
        let about = manifest
            .subject
            .as_ref()
            .is_some_and(|s| &s.digest == subject);
        (about && filter.matches_manifest(&manifest)).then_some(Self {
            descriptor,
            manifest,
        })
    }

    /// The predicate type its annotations name, if any.
    pub fn predicate_type(&self) -> Option<&str> {
        predicate_type_of(&self.manifest.annotations)
            .or_else(|| predicate_type_of(&self.descriptor.annotations))
    }

    /// The attached blob's descriptor: the first layer.
    pub fn blob(&self) -> Option<&Descriptor> {
        self.manifest.layers.first()
    }
}

/// A referrers index (the referrers API's answer and the referrers tag
/// schema's content): an image index listing `referrers`, sorted by digest
/// so that the same set always has the same bytes.
pub fn referrers_index(referrers: &[Descriptor]) -> ImageIndex {
    let mut manifests = referrers.to_vec();
    manifests.sort_by(|a, b| a.digest.cmp(&b.digest));
    manifests.dedup_by(|a, b| a.digest == b.digest);
    let mut index = ImageIndex::new();
    index.media_type = Some(MediaType::internal(MEDIA_TYPE_IMAGE_INDEX));
    index.manifests = manifests;
    index
}

/// Where referrers can be listed and fetched: an image layout or a
/// registry.
pub trait ReferrerSource {
    /// The referrers of `subject` that pass `filter`, each manifest read
    /// and checked against its digest.
    fn referrers(
        &self,
        subject: &OciDigest,
        filter: &ReferrerFilter,
    ) -> Result<Vec<Referrer>, Error>;
    /// A referrer's attached blob (its first layer), checked against its
    /// digest and size.
    fn fetch_attachment(&self, referrer: &Referrer) -> Result<Vec<u8>, Error>;
    /// cosign v2's manifest of `kind` for `subject` (the tag
    /// `sha256-<hex>.sig` / `.att`; in a layout also a `cosign save`
    /// entry), with its descriptor and the tag it was found under; `None`
    /// when there is none.
    fn legacy_manifest(
        &self,
        subject: &OciDigest,
        kind: LegacyKind,
    ) -> Result<Option<LegacyManifest>, Error>;
    /// Any layer blob (at most [`super::MAX_ATTACHMENT_BYTES`]), checked
    /// against its digest and size.
    fn fetch_layer(&self, layer: &Descriptor) -> Result<Vec<u8>, Error>;
}

/// A cosign v2 `.sig` / `.att` manifest found for a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyManifest {
    /// Which kind.
    pub kind: LegacyKind,
    /// The tag it was found under.
    pub tag: String,
    /// Its descriptor.
    pub descriptor: Descriptor,
    /// The manifest.
    pub manifest: ImageManifest,
}

/// One attachment of an image, found in either place: an OCI 1.1
/// referrer's blob, or a layer of a cosign v2 `.sig` / `.att` manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Where.
    pub location: Location,
    /// The blob's descriptor (the referrer's first layer, or the layer).
    pub blob: Descriptor,
    /// The manifest it is in, as a referrer (for a legacy tag: that
    /// manifest, listed under its tag).
    pub referrer: Referrer,
    /// The predicate type the annotations claim (unauthenticated).
    pub predicate_type: Option<String>,
}

/// Every attachment of `subject` in both places: the OCI 1.1 referrers
/// passing `filter`, then the layers of cosign v2's `.sig` and `.att`
/// manifests (those whose media type and claimed predicate type pass
/// `filter`: an `.att` layer is a DSSE envelope, a `.sig` layer a simple
/// signing payload).
pub fn discover(
    source: &dyn ReferrerSource,
    subject: &OciDigest,
    filter: &ReferrerFilter,
) -> Result<Vec<Found>, Error> {
    let mut out = discover_referrers(source, subject, filter)?;
    out.extend(discover_legacy(source, subject, filter)?);
    Ok(out)
}

fn discover_referrers(
    source: &dyn ReferrerSource,
    subject: &OciDigest,
    filter: &ReferrerFilter,
) -> Result<Vec<Found>, Error> {
    let mut out = Vec::new();
    for referrer in source.referrers(subject, filter)? {
        let Some(blob) = referrer.blob().cloned() else {
            continue;
        };
        out.push(Found {
            location: Location::Referrer {
                manifest: referrer.descriptor.digest.clone(),
            },
            predicate_type: referrer.predicate_type().map(str::to_owned),
            blob,
            referrer,
        });
    }
    Ok(out)
}

/// The layers of cosign v2's manifests for `subject` that pass `filter`
/// (its artifact type tested against the layer's media type).
pub(crate) fn discover_legacy(
    source: &dyn ReferrerSource,
    subject: &OciDigest,
    filter: &ReferrerFilter,
) -> Result<Vec<Found>, Error> {
    let mut out = Vec::new();
    for kind in LegacyKind::ALL {
        let Some(legacy) = source.legacy_manifest(subject, kind)? else {
            continue;
        };
        for (i, layer) in legacy.manifest.layers.iter().enumerate() {
            let claimed = layer
                .annotation(super::cosign::ANNOTATION_PREDICATE_TYPE)
                .or_else(|| predicate_type_of(&layer.annotations));
            let type_ok = filter
                .artifact_type
                .as_ref()
                .is_none_or(|want| layer.media_type == want.as_str());
            let predicate_ok = filter
                .predicate_type
                .as_ref()
                .is_none_or(|want| claimed.is_none_or(|c| c == want));
            if !(type_ok && predicate_ok) {
                continue;
            }
            let mut descriptor = legacy.descriptor.clone();
            descriptor.annotations.insert(
                super::spec::ANNOTATION_REF_NAME.to_owned(),
                legacy.tag.clone(),
            );
            out.push(Found {
                location: Location::LegacyTag {
                    tag: legacy.tag.clone(),
                    manifest: legacy.descriptor.digest.clone(),
                    layer: i,
                },
                blob: layer.clone(),
                referrer: Referrer {
                    descriptor,
                    manifest: legacy.manifest.clone(),
                },
                predicate_type: claimed.map(str::to_owned),
            });
        }
    }
    Ok(out)
}

/// One attestation found for an image (an OCI 1.1 referrer, or a layer of
/// a cosign v2 `.att` tag) and the result of verifying it.
#[derive(Debug, Clone)]
pub struct VerifiedReferrer {
    /// Where it was found; also the report's first check, `location`.
    pub location: Location,
    /// The referrer (for a legacy tag: its manifest, listed under the tag).
    pub referrer: Referrer,
    /// The checks: `location` (where it was found), `envelope` (parses),
    /// then those of
    /// [`verify_attestation`] (signature, payload type, statement,
    /// predicate type, subject = the image digest).
    pub report: Report,
    /// The statement, only when every check passed.
    pub statement: Option<Statement>,
    /// The trust anchors that signed (identity, roles), only when every
    /// check passed.
    pub signed_by: Vec<Anchor>,
}

impl VerifiedReferrer {
    /// Whether every check passed.
    pub fn verified(&self) -> bool {
        self.report.verified()
    }
}

/// Finds the DSSE attestations of the image `subject` whose annotations
/// name `predicate_type`, in both places (OCI 1.1 referrers, and the layers
/// of cosign v2's `sha256-<hex>.att` tag), fetches each and verifies it with
/// [`verify_attestation`] against the image's own digest: an attestation
/// counts only if its statement's subject is this image. The caller decides
/// how many must verify (usually: at least one), and which roles it wants
/// ([`TrustAnchors::with_role`]).
pub fn verify_attached(
    source: &dyn ReferrerSource,
    subject: &OciDigest,
    anchors: &TrustAnchors,
    predicate_type: &str,
) -> Result<Vec<VerifiedReferrer>, Error> {
    verify_referrers(
        source,
        subject,
        ARTIFACT_TYPE_DSSE,
        predicate_type,
        |_, bytes| Ok(bytes),
        |bytes, expectation| match Envelope::from_json(bytes) {
            Ok(envelope) => (
                Check::pass("envelope", format!("{} bytes", bytes.len())),
                Some(verify_attestation(&envelope, anchors, expectation)),
            ),
            Err(e) => (Check::fail("envelope", e.to_string()), None),
        },
    )
}

/// One cosign v2 image signature (a layer of the `sha256-<hex>.sig` tag)
/// and the result of verifying it.
#[derive(Debug, Clone)]
pub struct VerifiedSignature {
    /// Where it was found.
    pub location: Location,
    /// The checks: `location`, `payload` (a simple signing payload),
    /// `signature` (a trusted key signed the payload bytes), `image` (the
    /// payload names this image's manifest digest).
    pub report: Report,
    /// The payload, only when every check passed.
    pub payload: Option<SimpleSigning>,
    /// The trust anchor whose key signed, only when every check passed.
    pub signed_by: Option<Anchor>,
}

impl VerifiedSignature {
    /// Whether every check passed.
    pub fn verified(&self) -> bool {
        self.report.verified()
    }
}

/// Finds cosign v2's signatures of the image `subject` (the simple signing
/// layers of its `sha256-<hex>.sig` tag) and verifies each with the key
/// anchors of `anchors`: the base64 signature in
/// `dev.cosignproject.cosign/signature` over the payload's exact bytes, by
/// a trusted key, and the payload's
/// `docker-manifest-digest` equal to `subject`. The payload is parsed only
/// after its signature verified.
pub fn verify_attached_signatures(
    source: &dyn ReferrerSource,
    subject: &OciDigest,
    anchors: &TrustAnchors,
) -> Result<Vec<VerifiedSignature>, Error> {
    let mut out = Vec::new();
    for (f, mut report, payload) in super::cosign::signature_layers(source, subject)? {
        let signature = f
            .blob
            .annotation(super::cosign::ANNOTATION_SIGNATURE)
            .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok());
        let signed_by = signature.as_ref().and_then(|sig| {
            anchors.keys().iter().find_map(|k| {
                k.verify(&payload, sig)
                    .ok()
                    .and_then(|_| anchors.by_key(k.key_id()))
            })
        });
        let parsed = match (&signature, signed_by) {
            (None, _) => {
                report.push(Check::fail(
                    "signature",
                    "no base64 signature in dev.cosignproject.cosign/signature",
                ));
                None
            }
            (Some(_), None) => {
                report.push(Check::fail(
                    "signature",
                    format!(
                        "no trusted key ({}) signed the payload",
                        anchors.keys().len()
                    ),
                ));
                None
            }
            (Some(_), Some(anchor)) => {
                report.push(Check::pass(
                    "signature",
                    format!(
                        "signed by key {} ({anchor})",
                        anchor.key_id().map(ToString::to_string).unwrap_or_default()
                    ),
                ));
                super::cosign::bind_image(&mut report, &payload, subject)
            }
        };
        let signed_by = signed_by.filter(|_| parsed.is_some()).cloned();
        out.push(VerifiedSignature {
            location: f.location,
            report,
            payload: parsed,
            signed_by,
        });
    }
    Ok(out)
}

/// [`verify_attached`] for Sigstore bundles: finds the bundle referrers of
/// `subject` whose annotations name `predicate_type` (as cosign v3 attaches
/// them), and the keyless DSSE layers of cosign v2's `.att` tag (each read
/// as the bundle v0.1 it is equivalent to, [`super::cosign::legacy_bundle`]),
/// and verifies each
/// offline with [`crate::bundle::verify_attestation`] against `anchors`
/// (certificate chain to their trusted root, transparency log, signing
/// time, a keyless anchor's identity, signature), then payload type,
/// predicate type, and subject = the image's own digest.
#[cfg(feature = "sigstore")]
pub fn verify_attached_bundles(
    source: &dyn ReferrerSource,
    subject: &OciDigest,
    anchors: &TrustAnchors,
    predicate_type: &str,
) -> Result<Vec<VerifiedReferrer>, Error> {
    verify_referrers(
        source,
        subject,
        ARTIFACT_TYPE_SIGSTORE_BUNDLE,
        predicate_type,
        |layer, bytes| {
            super::cosign::legacy_bundle(layer, &bytes)?.ok_or_else(|| {
                invalid(
                    "cosign layer",
                    "annotations",
                    "no certificate: signed with a key, verify it with keys",
                )
            })
        },
        |bytes, expectation| match crate::bundle::Bundle::from_json(bytes) {
            Ok(bundle) => (
                Check::pass("bundle-blob", format!("{} bytes", bytes.len())),
                Some(crate::bundle::verify_attestation(
                    &bundle,
                    anchors,
                    expectation,
                )),
            ),
            Err(e) => (Check::fail("bundle-blob", e.to_string()), None),
        },
    )
}

/// The referrers of `subject` of one artifact and predicate type, each
/// fetched and verified by `verify` (which parses the blob: a check, and
/// the attestation's result when it parsed).
///
/// cosign v2 `.att` layers (DSSE envelopes) are verified too, after
/// `legacy` turns a layer's bytes into what `verify` reads (an error there
/// is a failed check, not a refusal of the others).
fn verify_referrers(
    source: &dyn ReferrerSource,
    subject: &OciDigest,
    artifact_type: &str,
    predicate_type: &str,
    legacy: impl Fn(&Descriptor, Vec<u8>) -> Result<Vec<u8>, Error>,
    verify: impl Fn(&[u8], &Expectation) -> (Check, Option<VerifiedAttestation>),
) -> Result<Vec<VerifiedReferrer>, Error> {
    let filter = ReferrerFilter::any()
        .artifact_type(artifact_type)
        .predicate_type(predicate_type);
    let expectation = Expectation::new(predicate_type, subject.to_digest()?.to_set());
    let mut found = discover_referrers(source, subject, &filter)?;
    found.extend(discover_legacy(
        source,
        subject,
        &ReferrerFilter::any()
            .artifact_type(ARTIFACT_TYPE_DSSE)
            .predicate_type(predicate_type),
    )?);
    let mut out = Vec::new();
    for f in found {
        let mut report = Report::new();
        report.push(Check::pass("location", f.location.to_string()));
        let bytes = if f.location.is_legacy() {
            source
                .fetch_layer(&f.blob)
                .and_then(|bytes| legacy(&f.blob, bytes))
        } else {
            source.fetch_attachment(&f.referrer)
        };
        let (statement, signed_by) = match bytes {
            Ok(bytes) => {
                let (parsed, result) = verify(&bytes, &expectation);
                report.push(parsed);
                result.map_or((None, Vec::new()), |result| {
                    report.extend(result.report().clone());
                    (result.statement().cloned(), result.signed_by().to_vec())
                })
            }
            Err(e) if f.location.is_legacy() => {
                report.push(Check::fail("legacy-layer", e.to_string()));
                (None, Vec::new())
            }
            Err(e) => return Err(e),
        };
        let verified = report.verified();
        out.push(VerifiedReferrer {
            location: f.location,
            referrer: f.referrer,
            report,
            statement: statement.filter(|_| verified),
            signed_by: if verified { signed_by } else { Vec::new() },
        });
    }
    Ok(out)
}
