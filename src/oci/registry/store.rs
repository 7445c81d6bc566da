//! A promotion [`Store`] in a registry repository, next to the image.

use std::collections::BTreeMap;

use crate::digest::{Digest, DigestAlgorithm};
use crate::dsse::Envelope;
use crate::error::{Error, StoreError};
use crate::promotion::{Store, check_environment};
use crate::statement::Statement;

use super::super::OciDigest;
use super::super::error::OciError;
use super::super::referrers::{Attachment, referrer_manifest};
use super::super::spec::{
    Descriptor, EMPTY_JSON, ImageManifest, MEDIA_TYPE_IMAGE_MANIFEST, Manifest,
};
use super::Registry;

/// Artifact type of custodia's link and head manifests.
pub const ARTIFACT_TYPE_LINK: &str = "application/vnd.dev.custodia.link.v1+json";
/// Artifact type of stored bytes that are not DSSE envelopes.
pub const ARTIFACT_TYPE_BLOB: &str = "application/vnd.dev.custodia.blob.v1";
const ENVELOPE_TAG: &str = "custodia-env-";
const LINK_TAG: &str = "custodia-link-";
const CLAIM_TAG: &str = "custodia-claim-";
const HEAD_TAG: &str = "custodia-head-";
const GENESIS: &str = "genesis";

/// A promotion [`Store`] kept in one registry repository, beside the
/// images it is about. Everything is an OCI manifest, so it is copied,
/// replicated and access-controlled like the images.
///
/// * **Envelopes**: `put` uploads the bytes as a blob and a manifest that
///   wraps them, tagged `custodia-env-<sha256 hex>`. When the envelope's
///   statement is about a manifest in this repository, the manifest is an
///   OCI 1.1 referrer of it (attached with [`Registry::attach`]), so
///   `referrers` of the image find its attestations and promotion records.
///   `get` fetches the blob by digest and checks it; `list` reads the tags.
/// * **Links** (`previous -> next` in an environment): a manifest tagged
///   `custodia-link-<h>`, `h` = SHA-256 of the environment and `previous`
///   (first 40 hex digits). Its annotations repeat environment, previous
///   and next, and are checked on every read.
///
/// **No fork without transactions.** The distribution API has no
/// conditional write: `PUT` of a tag replaces it. `link` therefore writes a
/// *claim* first, a tag unique to this (environment, previous, next)
/// `custodia-claim-<h>-<next>`, then lists the repository's tags. Only a
/// writer that finds its claim alone for `h` writes the link tag; a writer
/// that finds another claim gets [`StoreError::Conflict`] and deletes its
/// own claim. Of two writers A and B, A wins only if its listing preceded
/// B's claim, and B only if its listing preceded A's; each lists after
/// claiming, so both cannot win: at most one link is ever written for a
/// `previous`, and it is never replaced. Limits: this relies on the
/// registry's tag writes and tag listing being linearizable (true for a
/// single distribution instance on a filesystem or strongly consistent
/// object store, not for asynchronously replicated registries); two racing
/// writers may both lose and must retry; a writer that dies between its
/// claim and its link (or whose claim cannot be deleted because the
/// registry refuses deletes) blocks that `previous` until an operator
/// deletes the stale `custodia-claim-` tag.
#[derive(Debug)]
pub struct RegistryStore {
    registry: Registry,
}

fn short_hash(parts: &[&str]) -> String {
    let mut bytes = Vec::new();
    for p in parts {
        bytes.extend_from_slice(p.as_bytes());
        bytes.push(0);
    }
    let hex = DigestAlgorithm::Sha256.hash(&bytes).hex();
    hex.get(..40).unwrap_or(&hex).to_owned()
}

fn label(previous: Option<&Digest>) -> String {
    previous.map_or_else(|| GENESIS.to_owned(), ToString::to_string)
}

fn sha256_of(text: &str) -> Option<Digest> {
    let d: OciDigest = text.parse().ok()?;
    let d = d.to_digest().ok()?;
    (d.algorithm() == DigestAlgorithm::Sha256).then_some(d)
}

impl RegistryStore {
    /// A store in the repository `registry` points at.
    pub fn new(registry: Registry) -> Self {
        Self { registry }
    }

    /// The registry client.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// A link (or head) manifest: an artifact whose one layer and
    /// annotations hold environment, previous and next.
    fn link_manifest(
        &self,
        kind: &str,
        environment: &str,
        previous: &str,
        next: &Digest,
    ) -> Result<(Descriptor, Vec<u8>), Error> {
        let mut fields = BTreeMap::new();
        fields.insert("dev.custodia.kind", kind.to_owned());
        fields.insert("dev.custodia.environment", environment.to_owned());
        fields.insert("dev.custodia.previous", previous.to_owned());
        fields.insert("dev.custodia.next", next.to_string());
        let body = serde_json::to_vec(&fields).map_err(|e| {
            crate::oci::error::invalid("store link", "", format!("not serializable: {e}"))
        })?;
        let attachment = Attachment::new(ARTIFACT_TYPE_LINK, ARTIFACT_TYPE_LINK, body.clone())?;
        let mut attachment = attachment;
        for (k, v) in &fields {
            attachment = attachment.with_annotation(*k, v.clone());
        }
        let mut referrer = referrer_manifest(&Descriptor::empty(), &attachment)?;
        // A link refers to no image.
        referrer.manifest.subject = None;
        let bytes = referrer.manifest.to_json()?;
        self.registry.push_blob(EMPTY_JSON)?;
        self.registry.push_blob(&body)?;
        let descriptor = Descriptor::of_bytes(MEDIA_TYPE_IMAGE_MANIFEST, &bytes)?;
        Ok((descriptor, bytes))
    }

    /// Reads a link or head manifest by tag: its annotations, checked.
    fn read_link(
        &self,
        tag: &str,
        kind: &str,
        environment: &str,
        previous: Option<&str>,
    ) -> Result<Option<(Digest, OciDigest)>, Error> {
        let Some((descriptor, bytes)) = self.registry.manifest(tag)? else {
            return Ok(None);
        };
        let bad = |why: &str| -> Error {
            StoreError::Invalid(format!("{} tag {tag}: {why}", self.registry.name())).into()
        };
        let Manifest::Image(m) = Manifest::from_json(&descriptor.media_type, &bytes)? else {
            return Err(bad("not an image manifest"));
        };
        let a = &m.annotations;
        let field = |k: &str| a.get(k).map(String::as_str);
        if field("dev.custodia.kind") != Some(kind)
            || field("dev.custodia.environment") != Some(environment)
            || previous.is_some_and(|p| field("dev.custodia.previous") != Some(p))
        {
            return Err(bad("its annotations name another link"));
        }
        let next = field("dev.custodia.next")
            .and_then(sha256_of)
            .ok_or_else(|| bad("no SHA-256 `dev.custodia.next`"))?;
        Ok(Some((next, descriptor.digest)))
    }

    fn envelope_manifest(&self, digest: &Digest) -> Result<Option<Descriptor>, Error> {
        self.registry
            .manifest_descriptor(&format!("{ENVELOPE_TAG}{}", digest.hex()))
    }

    /// Claims of `(environment, previous)` other than `own`: their tags.
    fn other_claims(&self, prefix: &str, own: &str) -> Result<Vec<String>, Error> {
        Ok(self
            .registry
            .tags()?
            .into_iter()
            .filter(|t| t.starts_with(prefix) && t != own)
            .collect())
    }
}

impl Store for RegistryStore {
    fn put(&self, bytes: &[u8]) -> Result<Digest, Error> {
        let digest = DigestAlgorithm::Sha256.hash(bytes);
        let tag = format!("{ENVELOPE_TAG}{}", digest.hex());
        if self.envelope_manifest(&digest)?.is_some() {
            return Ok(digest);
        }
        let (attachment, subject) = match Envelope::from_json(bytes) {
            Ok(envelope) => {
                let attachment = Attachment::dsse_bytes(bytes)?;
                // The statement's first SHA-256 subject, if it is a
                // manifest in this repository, becomes the OCI subject.
                let subject = if crate::statement::is_payload_type(envelope.payload_type()) {
                    Statement::from_json(envelope.payload())
                        .ok()
                        .and_then(|st| {
                            st.subject()
                                .iter()
                                .find_map(|s| s.digest.digest(DigestAlgorithm::Sha256))
                        })
                } else {
                    None
                };
                let subject = match subject {
                    Some(d) => self.registry.manifest_descriptor(&d.to_string())?,
                    None => None,
                };
                (attachment, subject)
            }
            Err(_) => (
                Attachment::new(
                    ARTIFACT_TYPE_BLOB,
                    "application/octet-stream",
                    bytes.to_vec(),
                )?,
                None,
            ),
        };
        let referrer = match &subject {
            Some(subject) => self.registry.attach(subject, &attachment)?,
            None => {
                let mut r = referrer_manifest(&Descriptor::empty(), &attachment)?;
                r.manifest.subject = None;
                r.bytes = r.manifest.to_json()?;
                self.registry.push_blob(EMPTY_JSON)?;
                self.registry.push_blob(attachment.bytes())?;
                r
            }
        };
        self.registry
            .put_manifest(&tag, MEDIA_TYPE_IMAGE_MANIFEST, &referrer.bytes)?;
        Ok(digest)
    }

    fn get(&self, digest: &Digest) -> Result<Vec<u8>, Error> {
        let tag = format!("{ENVELOPE_TAG}{}", digest.hex());
        let Some((_, bytes)) = self.registry.manifest(&tag)? else {
            return Err(StoreError::Missing(digest.to_string()).into());
        };
        let manifest = ImageManifest::from_json(&bytes)?;
        let layer = manifest
            .layers
            .first()
            .filter(|l| l.digest == *digest)
            .ok_or_else(|| {
                StoreError::Invalid(format!(
                    "{ENVELOPE_TAG}{} does not wrap {digest}",
                    digest.hex()
                ))
            })?;
        match self
            .registry
            .fetch_blob(layer, super::super::MAX_ATTACHMENT_BYTES)
        {
            Ok(bytes) => Ok(bytes),
            Err(Error::Oci(OciError::DigestMismatch { actual, .. })) => Err(StoreError::Corrupt {
                name: format!("{}/blobs/{digest}", self.registry.name()),
                actual,
            }
            .into()),
            Err(Error::Oci(OciError::Missing { .. })) => {
                Err(StoreError::Missing(digest.to_string()).into())
            }
            Err(e) => Err(e),
        }
    }

    fn list(&self) -> Result<Vec<Digest>, Error> {
        let mut out: Vec<Digest> = self
            .registry
            .tags()?
            .iter()
            .filter_map(|t| t.strip_prefix(ENVELOPE_TAG))
            .filter_map(|hex| Digest::from_hex(DigestAlgorithm::Sha256, hex).ok())
            .collect();
        out.sort();
        Ok(out)
    }

    fn link(
        &self,
        environment: &str,
        previous: Option<&Digest>,
        next: &Digest,
    ) -> Result<(), Error> {
        check_environment(environment)?;
        let conflict = |existing: String| -> Error {
            StoreError::Conflict {
                environment: environment.to_owned(),
                previous: label(previous),
                existing,
            }
            .into()
        };
        if let Some(existing) = self.successor(environment, previous)? {
            return if existing == *next {
                Ok(())
            } else {
                Err(conflict(existing.to_string()))
            };
        }
        let previous_label = label(previous);
        let h = short_hash(&[environment, &previous_label]);
        let claim_prefix = format!("{CLAIM_TAG}{h}-");
        let own = format!("{claim_prefix}{}", next.hex().get(..40).unwrap_or_default());
        let (descriptor, bytes) = self.link_manifest("link", environment, &previous_label, next)?;
        self.registry
            .put_manifest(&own, MEDIA_TYPE_IMAGE_MANIFEST, &bytes)?;
        let others = self.other_claims(&claim_prefix, &own)?;
        if others.is_empty() {
            self.registry.put_manifest(
                &format!("{LINK_TAG}{h}"),
                MEDIA_TYPE_IMAGE_MANIFEST,
                &bytes,
            )?;
            return Ok(());
        }
        // Lost (or both lost): withdraw the claim, report who else claimed.
        let _ = self.registry.delete_manifest(&descriptor.digest);
        if let Some(existing) = self.successor(environment, previous)? {
            if existing == *next {
                return Ok(());
            }
            return Err(conflict(existing.to_string()));
        }
        let mut rivals = Vec::new();
        for tag in &others {
            if let Ok(Some((rival, _))) =
                self.read_link(tag, "link", environment, Some(&previous_label))
            {
                rivals.push(rival.to_string());
            }
        }
        Err(conflict(if rivals.is_empty() {
            "a concurrent claim".to_owned()
        } else {
            rivals.join(", ")
        }))
    }

    fn successor(
        &self,
        environment: &str,
        previous: Option<&Digest>,
    ) -> Result<Option<Digest>, Error> {
        check_environment(environment)?;
        let previous_label = label(previous);
        let h = short_hash(&[environment, &previous_label]);
        Ok(self
            .read_link(
                &format!("{LINK_TAG}{h}"),
                "link",
                environment,
                Some(&previous_label),
            )?
            .map(|(next, _)| next))
    }

    fn remove(&self, digest: &Digest) -> Result<(), Error> {
        match self.envelope_manifest(digest)? {
            Some(d) => self.registry.delete_manifest(&d.digest),
            None => Ok(()),
        }
    }

    fn head_hint(&self, environment: &str) -> Result<Option<Digest>, Error> {
        check_environment(environment)?;
        let tag = format!("{HEAD_TAG}{}", short_hash(&[environment]));
        Ok(self
            .read_link(&tag, "head", environment, None)?
            .map(|(next, _)| next))
    }

    fn set_head_hint(&self, environment: &str, head: &Digest) -> Result<(), Error> {
        check_environment(environment)?;
        let tag = format!("{HEAD_TAG}{}", short_hash(&[environment]));
        let (_, bytes) = self.link_manifest("head", environment, "", head)?;
        self.registry
            .put_manifest(&tag, MEDIA_TYPE_IMAGE_MANIFEST, &bytes)?;
        Ok(())
    }
}
