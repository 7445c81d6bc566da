//! `verifier admit`: may this digest run in this environment now? Parse
//! the arguments, ask `custodia::promotion::admit_from_store`, render.

use std::path::PathBuf;

use clap::builder::NonEmptyStringValueParser;
use clap::{ArgGroup, Args};
use custodia::digest::{Digest, DigestSet};
use custodia::promotion::{AdmissionRequest, ValidationOptions, admit_from_store};
use custodia::time::Timestamp;

use custodia::render::Render as _;

use super::{
    Failure, Format, artifact_digest, known_environment, load_policy, open_store, parse_digest,
    parse_time, print_stdout,
};

/// `verifier admit`: the store, the environment and the artifact.
#[derive(Args)]
#[command(group(ArgGroup::new("subject").args(["artifact", "digest", "oci_layout"]).required(true)))]
pub(crate) struct AdmitArgs {
    /// The promotion policy (JSON).
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
    /// The store directory.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// The environment it would run in.
    #[arg(long, value_name = "NAME", value_parser = NonEmptyStringValueParser::new())]
    environment: String,
    /// The artifact (a directory: its tree digest).
    #[arg(long, value_name = "PATH")]
    artifact: Option<PathBuf>,
    /// The artifact's digest, as ALG:HEX.
    #[arg(long, value_name = "ALG:HEX", value_parser = parse_digest)]
    digest: Option<Digest>,
    /// An image in an OCI image layout (DIR:REF, DIR@sha256:HEX, or DIR
    /// holding one image): its manifest digest is the identity.
    #[arg(long, value_name = "DIR[:REF]")]
    oci_layout: Option<String>,
    /// Also allow earlier releases still good (not rolled back away from,
    /// no incident since their promotion), for rolling deployments.
    #[arg(long)]
    allow_history: bool,
    /// Decide as of this time instead of now (RFC 3339).
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    at: Option<Timestamp>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

pub(crate) fn admit(args: &AdmitArgs) -> Result<(), Failure> {
    let policy = load_policy(&args.policy)?;
    let store = open_store(&args.dir)?;
    let environment = known_environment(&policy, &args.policy, &args.environment)?;
    let artifact = subject(args)?;
    let now = args.at.unwrap_or_else(Timestamp::now);
    let mut request = AdmissionRequest::new(environment.clone(), artifact, now);
    if args.allow_history {
        request = request.allowing_history();
    }
    let decision = admit_from_store(&store, &policy, &request, &ValidationOptions::at(now));
    let out = decision
        .render(args.format.into())
        .map_err(|e| format!("serializing the report: {e}"))?;
    print_stdout(format!("{out}\n").as_bytes())?;
    if decision.allowed {
        return Ok(());
    }
    Err(Failure::NotVerified(
        match decision.report.first_failure() {
            Some(c) => format!("`{environment}`: {}: {}", c.name, c.reason),
            None => format!("`{environment}`: no checks ran"),
        },
    ))
}

fn subject(args: &AdmitArgs) -> Result<DigestSet, Failure> {
    if let Some(path) = &args.artifact {
        return Ok(artifact_digest(path)?.to_set());
    }
    if let Some(digest) = &args.digest {
        return Ok(digest.to_set());
    }
    match &args.oci_layout {
        Some(spec) => oci_identity(spec),
        None => Err(Failure::Input(
            "one of --artifact, --digest or --oci-layout is required".into(),
        )),
    }
}

#[cfg(feature = "oci")]
fn oci_identity(spec: &str) -> Result<DigestSet, Failure> {
    use custodia::oci::{Layout, split_reference};
    let (dir, reference) = split_reference(spec);
    let layout = Layout::open(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let identity = layout
        .identity(reference.as_deref())
        .map_err(|e| format!("{spec}: {e}"))?;
    Ok(identity.digest_set().map_err(|e| format!("{spec}: {e}"))?)
}

#[cfg(not(feature = "oci"))]
fn oci_identity(_: &str) -> Result<DigestSet, Failure> {
    Err(Failure::Input(
        "--oci-layout needs the `oci` feature".into(),
    ))
}
