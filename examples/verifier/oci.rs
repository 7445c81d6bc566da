//! `verifier oci`: find an image's attestations where they live (OCI 1.1
//! referrers, and cosign v2's `sha256-<hex>.att` tag, in an image layout or
//! a registry) and verify them against the image's own digest.

use std::path::PathBuf;

use clap::{ArgGroup, Args};
use custodia::oci::{
    ArtifactIdentity, Layout, OciDigest, ReferrerSource, VerifiedReferrer, split_reference,
    verify_attached,
};
use custodia::report::{Check, Report};
use custodia::trust::TrustAnchors;

use super::{
    Failure, Format, md, one_line, print_stdout, read_public_key, render, render_markdown,
};

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
    #[arg(long, value_name = "URI")]
    predicate_type: String,
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
                .verify(&layout, &identity.descriptor.digest, &args.predicate_type)
                .map_err(|e| format!("{}: {e}", dir.display()))?;
            (spec.clone(), identity, found)
        }
        None => {
            let spec = args.registry.clone().unwrap_or_default();
            let (identity, found) = from_registry(args, &spec, &signers)?;
            (spec, identity, found)
        }
    };
    let (report, summary) = conclude(&identity, &found, &args.predicate_type, &signers);
    let out = match args.format {
        Format::Json => serde_json::to_string_pretty(&report)
            .map_err(|e| format!("serializing the report: {e}"))?,
        Format::Text => render(&report, &summary),
        Format::Markdown => render_markdown(&format!("Image {}", md(&place)), &report, &summary),
    };
    print_stdout(format!("{out}\n").as_bytes())?;
    if report.verified() {
        return Ok(());
    }
    Err(Failure::NotVerified(match report.first_failure() {
        Some(check) => format!("{}: {}: {}", one_line(&place), check.name, check.reason),
        None => format!("{}: no checks ran", one_line(&place)),
    }))
}

#[cfg(feature = "oci-registry")]
fn from_registry(
    args: &OciArgs,
    spec: &str,
    signers: &Signers,
) -> Result<(ArtifactIdentity, Vec<VerifiedReferrer>), Failure> {
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
        .verify(&registry, &identity.descriptor.digest, &args.predicate_type)
        .map_err(|e| format!("{spec}: {e}"))?;
    Ok((identity, found))
}

#[cfg(not(feature = "oci-registry"))]
fn from_registry(
    _: &OciArgs,
    _: &str,
    _: &Signers,
) -> Result<(ArtifactIdentity, Vec<VerifiedReferrer>), Failure> {
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
        predicate_type: &str,
    ) -> Result<Vec<VerifiedReferrer>, custodia::Error> {
        match self {
            Self::Keys(keys) => verify_attached(source, image, keys, predicate_type),
            #[cfg(feature = "sigstore")]
            Self::Keyless { anchors, .. } => {
                custodia::oci::verify_attached_bundles(source, image, anchors, predicate_type)
            }
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::Keys(_) => "a trusted key".to_owned(),
            #[cfg(feature = "sigstore")]
            Self::Keyless { who, .. } => format!("{who} (Sigstore bundle)"),
        }
    }
}

/// The image check, then the first attestation that verified (all its
/// checks), or a failed `attestation` check saying what was found.
fn conclude(
    identity: &ArtifactIdentity,
    found: &[VerifiedReferrer],
    predicate_type: &str,
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
    let summary = format!(
        "a `{predicate_type}` attestation about {}, attached as an OCI 1.1 referrer or under \
         cosign's legacy .att tag, and signed by {}",
        identity.descriptor.digest,
        signers.describe()
    );
    if let Some(ok) = found.iter().find(|f| f.verified()) {
        report.push(Check::pass(
            "referrer",
            format!("{} ({} found)", ok.location, found.len()),
        ));
        report.extend(ok.report.clone());
        return (report, summary);
    }
    let reason = match found.first() {
        None => format!("no attached `{predicate_type}` attestation"),
        Some(first) => {
            let why = first
                .report
                .first_failure()
                .map(|c| format!("{}: {}", c.name, c.reason))
                .unwrap_or_default();
            format!(
                "{} attached `{predicate_type}` attestation(s), none verified; {}: {why}",
                found.len(),
                first.location
            )
        }
    };
    report.push(Check::fail("attestation", reason));
    (report, summary)
}
