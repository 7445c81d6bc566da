//! `verifier bundle`: a Sigstore bundle, verified offline against a pinned
//! trusted_root.json, with cosign's flag names. Every decision is
//! `custodia::bundle`'s.

use std::path::{Path, PathBuf};

use clap::builder::NonEmptyStringValueParser;
use clap::{ArgGroup, Args};
use custodia::bundle::{
    Bundle, CertificateMatch, IdentityPolicy, MAX_BUNDLE_BYTES, MAX_TRUSTED_ROOT_BYTES,
    TrustedRoot, verify_artifact, verify_attestation,
};
use custodia::digest::{Digest, DigestAlgorithm, DigestSet};
use custodia::trust::{Anchor, TrustAnchors};
use custodia::verify::Expectation;

use super::{
    Failure, Format, artifact_digest, parse_digest, print_verdict, read_file, read_public_key,
};

/// `verifier bundle`: the bundle, the trust, the artifact, who must have
/// signed, and how to print the report.
#[derive(Args)]
#[command(group(ArgGroup::new("subject").args(["artifact", "digest"]).required(true).multiple(false)))]
#[command(group(ArgGroup::new("signer").args(["key", "certificate_identity", "certificate_identity_regexp"]).required(true).multiple(false)))]
pub(crate) struct BundleArgs {
    /// The Sigstore bundle (JSON; v0.1, v0.2 or v0.3).
    #[arg(long = "in", value_name = "FILE")]
    input: PathBuf,
    /// The trusted root to verify against (trusted_root.json: Fulcio CAs,
    /// Rekor and CT log keys, timestamp authorities). Nothing is fetched.
    #[arg(long, value_name = "FILE")]
    trusted_root: PathBuf,
    /// The artifact the bundle must be about (a message signature over it,
    /// or an in-toto statement naming it as a subject).
    #[arg(long, value_name = "PATH")]
    artifact: Option<PathBuf>,
    /// The artifact's digest instead of the artifact, as ALG:HEX (sha256, sha384, sha512).
    #[arg(long, value_name = "ALG:HEX", value_parser = parse_digest)]
    digest: Option<Digest>,
    /// A public-key bundle's signer: the key (SPKI PEM). The bundle's key
    /// hint is never used to choose it.
    #[arg(long, value_name = "PUB", conflicts_with_all = ["certificate_oidc_issuer", "certificate_oidc_issuer_regexp"])]
    key: Option<PathBuf>,
    /// Keyless signer: who the certificate must name.
    #[command(flatten)]
    certificate: CertificateArgs,
    /// For an attestation (DSSE) bundle: the predicate type its statement
    /// must have (cosign verify-blob-attestation's --type).
    #[arg(long = "type", visible_alias = "predicate-type", value_name = "URI", value_parser = NonEmptyStringValueParser::new())]
    predicate_type: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// cosign's keyless signer flags: the certificate's identity (SAN) and
/// OIDC issuer, each exact or as a regular expression. Shared by `bundle`
/// and `oci`.
#[derive(Args)]
#[command(group(ArgGroup::new("issuer").args(["certificate_oidc_issuer", "certificate_oidc_issuer_regexp"]).multiple(false)))]
pub(crate) struct CertificateArgs {
    /// The signing certificate's identity (SAN: an email or URI), exactly.
    #[arg(long, value_name = "ID", value_parser = NonEmptyStringValueParser::new(), requires = "issuer")]
    pub(crate) certificate_identity: Option<String>,
    /// The signing certificate's identity as a regular expression (matches
    /// anywhere unless anchored with ^...$, as cosign's).
    #[arg(long, value_name = "RE", value_parser = NonEmptyStringValueParser::new(), requires = "issuer")]
    pub(crate) certificate_identity_regexp: Option<String>,
    /// The OIDC issuer in the certificate (Fulcio extension), exactly.
    #[arg(long, value_name = "URL", value_parser = NonEmptyStringValueParser::new())]
    certificate_oidc_issuer: Option<String>,
    /// The OIDC issuer as a regular expression.
    #[arg(long, value_name = "RE", value_parser = NonEmptyStringValueParser::new())]
    certificate_oidc_issuer_regexp: Option<String>,
}

impl CertificateArgs {
    /// Who signed, for a summary line.
    pub(crate) fn describe(&self) -> String {
        match (
            &self.certificate_identity,
            &self.certificate_identity_regexp,
        ) {
            (Some(id), _) => format!("`{id}`"),
            (None, Some(re)) => format!("an identity matching /{re}/"),
            (None, None) => String::new(),
        }
    }

    /// The keyless identity policy.
    pub(crate) fn policy(&self) -> Result<IdentityPolicy, Failure> {
        let identity = match (
            &self.certificate_identity,
            &self.certificate_identity_regexp,
        ) {
            (Some(id), _) => CertificateMatch::Exact(id.clone()),
            (None, Some(re)) => CertificateMatch::Regex(re.clone()),
            (None, None) => {
                return Err(Failure::Input(
                    "give --key, or --certificate-identity[-regexp] with --certificate-oidc-issuer[-regexp]".to_owned(),
                ));
            }
        };
        let issuer = match (
            &self.certificate_oidc_issuer,
            &self.certificate_oidc_issuer_regexp,
        ) {
            (Some(url), _) => CertificateMatch::Exact(url.clone()),
            (None, Some(re)) => CertificateMatch::Regex(re.clone()),
            (None, None) => {
                return Err(Failure::Input(
                    "a certificate identity needs --certificate-oidc-issuer or --certificate-oidc-issuer-regexp".to_owned(),
                ));
            }
        };
        IdentityPolicy::keyless_matching(identity, issuer)
            .map_err(|e| Failure::Input(e.to_string()))
    }
}

/// Reads and parses a trusted_root.json.
pub(crate) fn load_trusted_root(path: &Path) -> Result<TrustedRoot, Failure> {
    let bytes = read_json(path, MAX_TRUSTED_ROOT_BYTES)?;
    TrustedRoot::from_json(&bytes).map_err(|e| Failure::Input(format!("{}: {e}", path.display())))
}

/// The artifact's digests: sha256 (what message signatures sign) and, for
/// a file, sha512 (what npm's subjects carry).
fn artifact_digests(args: &BundleArgs) -> Result<DigestSet, Failure> {
    let mut set = DigestSet::new();
    match (&args.artifact, &args.digest) {
        (Some(path), _) => {
            set.insert(&artifact_digest(path)?);
            if path.is_file() {
                let sha512 = custodia::digest::hash_file(DigestAlgorithm::Sha512, path)
                    .map_err(|e| Failure::Input(e.to_string()))?;
                set.insert(&sha512);
            }
        }
        (None, Some(digest)) => set.insert(digest),
        (None, None) => {
            return Err(Failure::Input(
                "bundle needs --artifact or --digest".to_owned(),
            ));
        }
    }
    Ok(set)
}

/// The one signer the flags trust (a key, or a certificate identity and
/// issuer), with the trusted root.
fn anchors(args: &BundleArgs, root: TrustedRoot) -> Result<TrustAnchors, Failure> {
    let anchor = match &args.key {
        Some(path) => Anchor::from(read_public_key(path)?),
        None => {
            let certificate = args.certificate.policy()?;
            Anchor::keyless(certificate.describe(), certificate)
        }
    };
    let mut anchors = TrustAnchors::new().with_sigstore_root(root);
    anchors
        .push(anchor)
        .map_err(|e| Failure::Input(e.to_string()))?;
    Ok(anchors)
}

fn read_json(path: &Path, limit: usize) -> Result<Vec<u8>, Failure> {
    read_file(path, u64::try_from(limit).unwrap_or(u64::MAX))
}

/// Verifies: the bundle chains to the trusted root's CAs, its log entries
/// and times verify, the signer is who the flags say, and it is about the
/// artifact (and of the predicate type, with --type).
pub(crate) fn bundle(args: &BundleArgs) -> Result<(), Failure> {
    let anchors = anchors(args, load_trusted_root(&args.trusted_root)?)?;
    let bundle_bytes = read_json(&args.input, MAX_BUNDLE_BYTES)?;
    let file = args.input.display().to_string();
    let bundle =
        Bundle::from_json(&bundle_bytes).map_err(|e| Failure::Input(format!("{file}: {e}")))?;
    let artifact = artifact_digests(args)?;
    let shown = artifact
        .digest(DigestAlgorithm::Sha256)
        .or_else(|| artifact.strongest())
        .map(|d| d.to_string())
        .unwrap_or_default();

    let signer = match &args.key {
        Some(key) => format!("the key {}", key.display()),
        None => args.certificate.describe(),
    };
    let (report, summary) = match &args.predicate_type {
        Some(predicate_type) => {
            let expect = Expectation::new(predicate_type.clone(), artifact);
            let verified = verify_attestation(&bundle, &anchors, &expect);
            let summary =
                format!("{file}: a `{predicate_type}` statement about {shown}, signed by {signer}");
            (verified.report().clone(), summary)
        }
        None => {
            let verified = verify_artifact(&bundle, &anchors, &artifact);
            let what = match verified.statement() {
                Some(st) => format!("a `{}` statement about", st.predicate_type()),
                None => "a signature over".to_owned(),
            };
            (
                verified.report().clone(),
                format!("{file}: {what} {shown}, signed by {signer}"),
            )
        }
    };
    print_verdict(
        args.format,
        &format!("Sigstore bundle {file}"),
        &report,
        &summary,
        &file,
    )
}
