//! `attest digest --oci-layout` and `attest attach`: container images as
//! artifacts (custodia::oci). The identity of an image is its manifest
//! digest (for a multi-platform image, its index digest); attestations are
//! attached to it as OCI 1.1 referrers, in an image layout or a registry.

use std::path::PathBuf;

use clap::{ArgGroup, Args};
use custodia::dsse::{Envelope, MAX_ENVELOPE_BYTES};
use custodia::oci::{ArtifactIdentity, Attachment, Layout, split_reference};
use custodia::statement::{PAYLOAD_TYPE, Statement};

use super::{Failure, one_line, print_stdout, read_file};

/// `attest attach`: where the image is and what to attach.
#[derive(Args)]
#[command(group(ArgGroup::new("place").args(["oci_layout", "registry"]).required(true)))]
#[command(group(ArgGroup::new("what").args(["envelope", "bundle"]).required(true).multiple(true)))]
pub(crate) struct AttachArgs {
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
    /// DSSE envelope(s) to attach; each statement must be about the image.
    #[arg(long, num_args = 1.., value_name = "FILE")]
    envelope: Vec<PathBuf>,
    /// Sigstore bundle(s) to attach, as cosign v3 stores them; a DSSE
    /// bundle's statement must be about the image.
    #[cfg(feature = "sigstore")]
    #[arg(long, num_args = 1.., value_name = "FILE")]
    bundle: Vec<PathBuf>,
}

/// Prints the identity of an image in a layout: its manifest (or index)
/// digest, then for an index each platform manifest's.
pub(crate) fn digest(spec: &str) -> Result<(), Failure> {
    let (dir, reference) = split_reference(spec);
    let layout = Layout::open(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let identity = layout
        .identity(reference.as_deref())
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    for warning in identity.warnings() {
        eprintln!("{}: {}", one_line(spec), one_line(&warning.reason));
    }
    print_stdout(render_identity(spec, &identity).as_bytes())
}

fn render_identity(spec: &str, identity: &ArtifactIdentity) -> String {
    let mut out = format!("{}  {}\n", identity.descriptor.digest, one_line(spec));
    for m in identity.platform_manifests() {
        let platform = m
            .platform
            .as_ref()
            .map_or_else(|| "no platform".to_owned(), ToString::to_string);
        out.push_str(&format!(
            "{}  {} ({})\n",
            m.digest,
            one_line(spec),
            one_line(&platform)
        ));
    }
    out
}

/// Reads each envelope and refuses one whose statement is not about the
/// image (it would never verify for it).
fn attachments(
    args: &AttachArgs,
    identity: &ArtifactIdentity,
) -> Result<Vec<(PathBuf, Attachment)>, Failure> {
    let image = identity
        .digest_set()
        .map_err(|e| format!("the image's digest: {e}"))?;
    let mut out = Vec::new();
    for path in &args.envelope {
        let file = path.display();
        let bytes = read_file(path, MAX_ENVELOPE_BYTES as u64)?;
        let envelope = Envelope::from_json(&bytes).map_err(|e| format!("{file}: {e}"))?;
        check_about_image(&file.to_string(), &envelope, identity, &image)?;
        let attachment = Attachment::dsse_bytes(&bytes).map_err(|e| format!("{file}: {e}"))?;
        out.push((path.clone(), attachment));
    }
    #[cfg(feature = "sigstore")]
    for path in &args.bundle {
        let file = path.display();
        let bytes = read_file(path, custodia::bundle::MAX_BUNDLE_BYTES as u64)?;
        let bundle =
            custodia::bundle::Bundle::from_json(&bytes).map_err(|e| format!("{file}: {e}"))?;
        if let Some(envelope) = bundle.envelope() {
            check_about_image(&file.to_string(), envelope, identity, &image)?;
        }
        let attachment = Attachment::sigstore_bundle(&bytes).map_err(|e| format!("{file}: {e}"))?;
        out.push((path.clone(), attachment));
    }
    Ok(out)
}

/// Refuses an envelope whose in-toto statement is not about the image (it
/// would never verify for it).
fn check_about_image(
    file: &str,
    envelope: &Envelope,
    identity: &ArtifactIdentity,
    image: &custodia::digest::DigestSet,
) -> Result<(), Failure> {
    if envelope.payload_type() != PAYLOAD_TYPE {
        return Ok(());
    }
    let statement = Statement::from_json(envelope.payload()).map_err(|e| format!("{file}: {e}"))?;
    if statement.subject_matching(image).is_err() {
        return Err(format!(
            "{file}: its statement is not about this image ({}); \
             attest the image's digest (`attest digest --oci-layout ...`)",
            identity.descriptor.digest
        )
        .into());
    }
    Ok(())
}

fn report_attached(
    path: &std::path::Path,
    manifest: &custodia::oci::OciDigest,
    identity: &ArtifactIdentity,
    attachment: &Attachment,
) -> Result<(), Failure> {
    print_stdout(
        format!(
            "{manifest}  {}: attached to {}{}\n",
            one_line(&path.display().to_string()),
            identity.descriptor.digest,
            attachment
                .predicate_type()
                .map(|p| format!(" ({})", one_line(p)))
                .unwrap_or_default()
        )
        .as_bytes(),
    )
}

/// Attaches each envelope to the image as an OCI 1.1 referrer.
pub(crate) fn attach(args: &AttachArgs) -> Result<(), Failure> {
    if let Some(spec) = &args.oci_layout {
        let (dir, reference) = split_reference(spec);
        let layout = Layout::open(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let identity = layout
            .identity(reference.as_deref())
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        for (path, attachment) in attachments(args, &identity)? {
            let referrer = layout
                .attach(&identity.descriptor, &attachment)
                .map_err(|e| format!("{}: {e}", dir.display()))?;
            report_attached(&path, &referrer.descriptor.digest, &identity, &attachment)?;
        }
        return Ok(());
    }
    let spec = args.registry.as_deref().unwrap_or_default();
    attach_registry(args, spec)
}

#[cfg(feature = "oci-registry")]
fn attach_registry(args: &AttachArgs, spec: &str) -> Result<(), Failure> {
    let (registry, reference) = registry_client(spec, args.plain_http)?;
    let identity = registry
        .identity(&reference)
        .map_err(|e| format!("{spec}: {e}"))?;
    for (path, attachment) in attachments(args, &identity)? {
        let referrer = registry
            .attach(&identity.descriptor, &attachment)
            .map_err(|e| format!("{spec}: {e}"))?;
        report_attached(&path, &referrer.descriptor.digest, &identity, &attachment)?;
    }
    Ok(())
}

#[cfg(not(feature = "oci-registry"))]
fn attach_registry(_: &AttachArgs, _: &str) -> Result<(), Failure> {
    Err("--registry needs the oci-registry feature \
         (cargo run --features oci-registry --example attest -- attach ...)"
        .to_owned()
        .into())
}

/// A client for `HOST/REPO:REF` with credentials from the environment.
#[cfg(feature = "oci-registry")]
pub(crate) fn registry_client(
    spec: &str,
    plain_http: bool,
) -> Result<(custodia::oci::registry::Registry, String), Failure> {
    use custodia::oci::registry::{Credentials, Registry, RegistryOptions};
    let mut options = RegistryOptions::new();
    if plain_http {
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
    Ok((registry, reference))
}
