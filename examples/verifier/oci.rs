//! `verifier oci`: find an image's attestations where they live (OCI 1.1
//! referrers, and cosign v2's `sha256-<hex>.att` tag, in an image layout or
//! a registry) and verify them against the image's own digest; with
//! `--signatures`, cosign v2's image signatures (`sha256-<hex>.sig`).

use std::path::PathBuf;

use clap::{ArgGroup, Args};
use custodia::oci::{
    ArtifactIdentity, Layout, Location, OciDigest, ReferrerSource, split_reference,
    verify_attached, verify_attached_signatures,
};
use custodia::report::{Check, Report};
use custodia::trust::TrustAnchors;

use super::{Failure, Format, print_verdict, read_public_key};

/// `verifier oci`: where the image is, who must have signed, and what.
#[derive(Args)]
#[command(group(ArgGroup::new("place").args(["oci_layout", "registry"]).required(true)))]
#[command(group(ArgGroup::new("keyless").args(["certificate_identity", "certificate_identity_regexp"]).multiple(false).requires("trusted_root")))]
pub(crate) struct OciArgs {
    /// An OCI image layout and the image in it: DIR:REF (a ref name),
    /// DIR@sha256:HEX, or DIR when it holds one image.
    #[arg(long, value_name = "DIR[:REF]")]
    oci_layout: Option<String>,
    /// A registry repository and the image: HOST/REPO:TAG or
    /// HOST/REPO@sha256:HEX (needs the `oci-registry` feature;
    /// credentials from CUSTODIA_REGISTRY_USERNAME / _PASSWORD).
    #[arg(long, value_name = "HOST/REPO:REF")]
    registry: Option<String>,
    /// Speak plain HTTP to the registry (loopback tests only).
    #[arg(long, requires = "registry")]
    plain_http: bool,
    /// Trusted public key(s), SPKI PEM as `attest keygen` writes; repeat or
    /// list several. Verifies attached DSSE envelopes.
    #[arg(long, num_args = 1.., value_name = "PUB", required_unless_present = "trusted_root")]
    key: Vec<PathBuf>,
    /// Verify attached Sigstore bundles instead, offline against this
    /// trusted_root.json, signed by the certificate identity below.
    #[cfg(feature = "sigstore")]
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "key",
        requires = "keyless"
    )]
    trusted_root: Option<PathBuf>,
    /// With --trusted-root: who the signing certificate must name.
    #[cfg(feature = "sigstore")]
    #[command(flatten)]
    certificate: super::bundle::CertificateArgs,
    /// The predicate type an attached attestation must have.
    #[arg(long, value_name = "URI", required_unless_present = "signatures")]
    predicate_type: Option<String>,
    /// Verify cosign v2 image signatures instead: the simple signing
    /// layers of the image's `sha256-<hex>.sig` tag, signed by a trusted
    /// key or (keyless, with --trusted-root) by the certificate identity,
    /// and naming this image's digest.
    #[arg(long, conflicts_with = "predicate_type")]
    signatures: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Verifies: at least one attached attestation of the predicate type,
/// signed by a trusted key, about this image.
pub(crate) fn oci(args: &OciArgs) -> Result<(), Failure> {
    let signers = Signers::from_args(args)?;
    let (place, identity, found) = match &args.oci_layout {
        Some(spec) => {
            let (dir, reference) = split_reference(spec);
            let layout = Layout::open(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let identity = layout
                .identity(reference.as_deref())
                .map_err(|e| format!("{}: {e}", dir.display()))?;
            let found = signers
                .verify(&layout, &identity.descriptor.digest, args.wanted())
                .map_err(|e| format!("{}: {e}", dir.display()))?;
            (spec.clone(), identity, found)
        }
        None => {
            let spec = args.registry.clone().unwrap_or_default();
            let (identity, found) = from_registry(args, &spec, &signers)?;
            (spec, identity, found)
        }
    };
    let (report, summary) = conclude(&identity, &found, args.wanted(), &signers);
    print_verdict(
        args.format,
        &format!("Image {place}"),
        &report,
        &summary,
        &place,
    )
}

/// What must be attached: an attestation of a predicate type, or an image
/// signature.
#[derive(Clone, Copy)]
enum Wanted<'a> {
    Attestation(&'a str),
    Signature,
}

impl OciArgs {
    fn wanted(&self) -> Wanted<'_> {
        match &self.predicate_type {
            Some(t) if !self.signatures => Wanted::Attestation(t),
            _ => Wanted::Signature,
        }
    }
}

/// One attachment found and verified: where, and its checks.
struct Verified {
    location: Location,
    report: Report,
}

#[cfg(feature = "oci-registry")]
fn from_registry(
    args: &OciArgs,
    spec: &str,
    signers: &Signers,
) -> Result<(ArtifactIdentity, Vec<Verified>), Failure> {
    use custodia::oci::registry::{Credentials, Registry, RegistryOptions};
    let mut options = RegistryOptions::new();
    if args.plain_http {
        options = options.plain_http();
    }
    if let (Ok(username), Ok(password)) = (
        std::env::var("CUSTODIA_REGISTRY_USERNAME"),
        std::env::var("CUSTODIA_REGISTRY_PASSWORD"),
    ) {
        options = options.credentials(Credentials::Basic { username, password });
    }
    let (registry, reference) =
        Registry::from_reference(spec, options).map_err(|e| e.to_string())?;
    let reference =
        reference.ok_or_else(|| format!("{spec}: name the image: HOST/REPO:TAG or @sha256:HEX"))?;
    let identity = registry
        .identity(&reference)
        .map_err(|e| format!("{spec}: {e}"))?;
    let found = signers
        .verify(&registry, &identity.descriptor.digest, args.wanted())
        .map_err(|e| format!("{spec}: {e}"))?;
    Ok((identity, found))
}

#[cfg(not(feature = "oci-registry"))]
fn from_registry(
    _: &OciArgs,
    _: &str,
    _: &Signers,
) -> Result<(ArtifactIdentity, Vec<Verified>), Failure> {
    Err("--registry needs the oci-registry feature \
         (cargo run --features oci-registry --example verifier -- oci ...)"
        .to_owned()
        .into())
}

/// Who must have signed: trusted keys (DSSE envelopes), or a certificate
/// identity under a trusted root (Sigstore bundles).
enum Signers {
    Keys(TrustAnchors),
    #[cfg(feature = "sigstore")]
    Keyless {
        anchors: TrustAnchors,
        who: String,
    },
}

impl Signers {
    fn from_args(args: &OciArgs) -> Result<Self, Failure> {
        #[cfg(feature = "sigstore")]
        if let Some(path) = &args.trusted_root {
            return Ok(Self::Keyless {
                anchors: TrustAnchors::keyless(
                    super::bundle::load_trusted_root(path)?,
                    args.certificate.policy()?,
                ),
                who: args.certificate.describe(),
            });
        }
        let keys = args
            .key
            .iter()
            .map(|path| read_public_key(path))
            .collect::<Result<TrustAnchors, Failure>>()?;
        Ok(Self::Keys(keys))
    }

    fn verify(
        &self,
        source: &dyn ReferrerSource,
        image: &OciDigest,
        wanted: Wanted<'_>,
    ) -> Result<Vec<Verified>, custodia::Error> {
        let attestations = |found: Vec<custodia::oci::VerifiedReferrer>| {
            found
                .into_iter()
                .map(|v| Verified {
                    location: v.location,
                    report: v.report,
                })
                .collect()
        };
        let signatures = |found: Vec<custodia::oci::VerifiedSignature>| {
            found
                .into_iter()
                .map(|v| Verified {
                    location: v.location,
                    report: v.report,
                })
                .collect()
        };
        Ok(match (self, wanted) {
            (Self::Keys(keys), Wanted::Attestation(t)) => {
                attestations(verify_attached(source, image, keys, t)?)
            }
            (Self::Keys(keys), Wanted::Signature) => {
                signatures(verify_attached_signatures(source, image, keys)?)
            }
            #[cfg(feature = "sigstore")]
            (Self::Keyless { anchors, .. }, Wanted::Attestation(t)) => attestations(
                custodia::oci::verify_attached_bundles(source, image, anchors, t)?,
            ),
            #[cfg(feature = "sigstore")]
            (Self::Keyless { anchors, .. }, Wanted::Signature) => signatures(
                custodia::oci::cosign::verify_attached_keyless_signatures(source, image, anchors)?,
            ),
        })
    }

    fn describe(&self) -> String {
        match self {
            Self::Keys(_) => "a trusted key".to_owned(),
            #[cfg(feature = "sigstore")]
            Self::Keyless { who, .. } => format!("{who} (Sigstore bundle)"),
        }
    }

    fn describe_signature(&self) -> String {
        match self {
            Self::Keys(_) => "a trusted key".to_owned(),
            #[cfg(feature = "sigstore")]
            Self::Keyless { who, .. } => format!("{who} (Fulcio certificate, Rekor entry)"),
        }
    }
}

/// The image check, then the first attestation that verified (all its
/// checks), or a failed `attestation` check saying what was found.
fn conclude(
    identity: &ArtifactIdentity,
    found: &[Verified],
    wanted: Wanted<'_>,
    signers: &Signers,
) -> (Report, String) {
    let mut report = Report::new();
    report.push(Check::pass(
        "image",
        format!(
            "{} ({})",
            identity.descriptor.digest, identity.descriptor.media_type
        ),
    ));
    let (what, summary) = match wanted {
        Wanted::Attestation(predicate_type) => (
            format!("`{predicate_type}` attestation"),
            format!(
                "a `{predicate_type}` attestation about {}, attached as an OCI 1.1 referrer or \
                 under cosign's legacy .att tag, and signed by {}",
                identity.descriptor.digest,
                signers.describe()
            ),
        ),
        Wanted::Signature => (
            "image signature".to_owned(),
            format!(
                "a cosign image signature of {} under its .sig tag, signed by {}",
                identity.descriptor.digest,
                signers.describe_signature()
            ),
        ),
    };
    if let Some(ok) = found.iter().find(|f| f.report.verified()) {
        report.push(Check::pass(
            "referrer",
            format!("{} ({} found)", ok.location, found.len()),
        ));
        report.extend(ok.report.clone());
        return (report, summary);
    }
    let reason = match found.first() {
        None => format!("no attached {what}"),
        Some(first) => {
            let why = first
                .report
                .first_failure()
                .map(|c| format!("{}: {}", c.name, c.reason))
                .unwrap_or_default();
            format!(
                "{} attached {what}(s), none verified; {}: {why}",
                found.len(),
                first.location
            )
        }
    };
    report.push(Check::fail("attestation", reason));
    (report, summary)
}
