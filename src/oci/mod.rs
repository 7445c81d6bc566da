//! Container images as artifacts (feature `oci`).
//!
//! For an image, the identity that "build once, promote everywhere" holds
//! constant is its manifest digest (for a multi-platform image, its index
//! digest and each platform manifest's). Attestations travel with the image
//! as OCI 1.1 referrers: artifact manifests whose `subject` is the image.
//!
//! * [`spec`]: descriptors, image manifests, image indexes, the layout
//!   header and image configurations, read strictly and written
//!   deterministically;
//! * [`OciDigest`]: digests as descriptors carry them;
//! * [`Layout`]: an OCI image layout directory: resolve an image by its
//!   `org.opencontainers.image.ref.name` (or digest), compute its
//!   [`ArtifactIdentity`], verify every blob against its descriptor, and
//!   attach, list and fetch referrers;
//! * [`referrers`]: how an envelope (or any blob) becomes a referrer
//!   manifest ([`referrer_manifest`]), and how referrers are filtered by
//!   artifact type or predicate type;
//! * [`ImageBuilder`]: a minimal one-layer image, for tests and examples;
//! * `registry` (feature `oci-registry`): the same over the OCI
//!   distribution API, and a promotion store kept in a registry.
//!
//! ```
//! use custodia::dsse::Envelope;
//! use custodia::keys::{KeyAlgorithm, PrivateKey};
//! use custodia::oci::{Attachment, ImageBuilder, Layout, ReferrerFilter};
//! use custodia::resource::ResourceDescriptor;
//! use custodia::statement::{PAYLOAD_TYPE, Statement};
//! use custodia::trust::TrustAnchors;
//! use custodia::verify::{Expectation, verify_attestation};
//!
//! let dir = tempfile::tempdir()?;
//! let layout = Layout::create(dir.path())?;
//! ImageBuilder::new().file("app", b"binary").write_to(&layout, "v1")?;
//!
//! // The image's identity is its manifest digest.
//! let image = layout.identity(Some("v1"))?;
//! let key = PrivateKey::generate(KeyAlgorithm::Ed25519)?;
//! let statement = Statement::new_untyped(
//!     vec![ResourceDescriptor::new("app", image.digest_set()?)],
//!     "https://slsa.dev/provenance/v1",
//!     serde_json::json!({"buildDefinition": {}}),
//! )?;
//! let envelope = Envelope::sign(PAYLOAD_TYPE, statement.to_json()?, &key)?;
//! layout.attach(&image.descriptor, &Attachment::dsse(&envelope)?)?;
//!
//! // A consumer finds it next to the image and verifies it.
//! let filter = ReferrerFilter::any().predicate_type("https://slsa.dev/provenance/v1");
//! let found = layout.referrers(&image.descriptor.digest, &filter)?;
//! assert_eq!(found.len(), 1);
//! let bytes = layout.fetch_attachment(&found[0])?;
//! let keys: TrustAnchors = [key.public_key().clone()].into_iter().collect();
//! let expect = Expectation::new("https://slsa.dev/provenance/v1", image.digest_set()?);
//! let result = verify_attestation(&Envelope::from_json(&bytes)?, &keys, &expect);
//! assert!(result.report().verified(), "{}", result.report());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod cosign;
mod digest;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod image;
mod layout;
pub mod referrers;
#[cfg(feature = "oci-registry")]
pub mod registry;
pub mod spec;

pub use cosign::{LegacyKind, Location};
pub use digest::OciDigest;
pub use error::{DigestProblem, OciError};
pub use image::{BuiltImage, ImageBuilder};
pub use layout::{
    ArtifactIdentity, BlobCheck, BlobProblem, Layout, LayoutVerification, MAX_ATTACHMENT_BYTES,
    MAX_INDEX_JSON_BYTES, MAX_MANIFEST_BYTES, split_reference,
};
#[cfg(feature = "sigstore")]
pub use referrers::verify_attached_bundles;
pub use referrers::{
    Attachment, Found, LegacyManifest, Referrer, ReferrerFilter, ReferrerManifest, ReferrerSource,
    VerifiedReferrer, VerifiedSignature, discover, predicate_type_of, referrer_manifest,
    referrers_index, verify_attached, verify_attached_signatures,
};
pub use spec::{Descriptor, ImageIndex, ImageManifest, Manifest, MediaType, Platform};
