//! `verifier vulns`: a signed vulns v0.2 statement about an artifact,
//! judged against a maximum severity after signed OpenVEX statements.
//! Every decision is `custodia::evidence::judge::verify_vulns`'s.

use std::path::{Path, PathBuf};

use clap::{ArgGroup, Args};
use custodia::digest::Digest;
use custodia::dsse::{Envelope, MAX_ENVELOPE_BYTES};
use custodia::evidence::judge::{SeverityRule, verify_vulns};
use custodia::predicate::vulns::Severity;
use custodia::trust::TrustAnchors;

use super::{
    Failure, Format, parse_digest, print_verdict, read_file, read_public_key, subject_digest,
};

/// `verifier vulns`.
#[derive(Args)]
#[command(group(ArgGroup::new("subject").args(["artifact", "digest"]).required(true).multiple(false)))]
pub(crate) struct VulnsArgs {
    /// The vulns envelope (DSSE; from `attest vulns` then `attest sign`).
    #[arg(long = "in", value_name = "FILE")]
    input: PathBuf,
    /// The scanner's public key(s) (SPKI PEM).
    #[arg(long, required = true, value_name = "PUB")]
    key: Vec<PathBuf>,
    /// A VEX envelope (OpenVEX predicate, from `attest vex`); repeat.
    #[arg(long, value_name = "FILE")]
    vex: Vec<PathBuf>,
    /// The key that must have signed the VEX envelope at the same position
    /// (one --vex-key applies to every --vex).
    #[arg(long, value_name = "PUB", requires = "vex")]
    vex_key: Vec<PathBuf>,
    /// The highest severity allowed: none, low, medium, high, critical.
    #[arg(long, value_name = "LEVEL", value_parser = parse_severity)]
    max_severity: Severity,
    /// What a finding with no severity stated counts as (default: too high).
    #[arg(long, value_name = "LEVEL", value_parser = parse_severity)]
    unknown_severity: Option<Severity>,
    /// A vulnerability id refused whatever its severity or VEX; repeat.
    #[arg(long, value_name = "ID")]
    deny: Vec<String>,
    /// The artifact the report must be about.
    #[arg(long, value_name = "PATH")]
    artifact: Option<PathBuf>,
    /// The artifact's digest instead, as ALG:HEX.
    #[arg(long, value_name = "ALG:HEX", value_parser = parse_digest)]
    digest: Option<Digest>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse().map_err(|e: custodia::Error| e.to_string())
}

fn read_envelope(path: &Path) -> Result<Envelope, Failure> {
    let bytes = read_file(path, MAX_ENVELOPE_BYTES as u64)?;
    Envelope::from_json(&bytes).map_err(|e| Failure::Input(format!("{}: {e}", path.display())))
}

fn keys(paths: &[PathBuf]) -> Result<TrustAnchors, Failure> {
    paths.iter().map(|p| read_public_key(p)).collect()
}

pub(crate) fn vulns(args: &VulnsArgs) -> Result<(), Failure> {
    let envelope = read_envelope(&args.input)?;
    let scanner_keys = keys(&args.key)?;
    if args.vex_key.len() > 1 && args.vex_key.len() != args.vex.len() {
        return Err(Failure::Input(format!(
            "{} --vex and {} --vex-key: give one key for all, or one per VEX envelope",
            args.vex.len(),
            args.vex_key.len()
        )));
    }
    if !args.vex.is_empty() && args.vex_key.is_empty() {
        return Err(Failure::Input("--vex needs --vex-key".to_owned()));
    }
    let mut vex = Vec::new();
    for (i, path) in args.vex.iter().enumerate() {
        let key = args.vex_key.get(i).or(args.vex_key.first());
        let key_set = keys(key.map(std::slice::from_ref).unwrap_or_default())?;
        vex.push((read_envelope(path)?, key_set));
    }
    let (artifact, computed) =
        subject_digest(args.artifact.as_deref(), args.digest.as_ref(), "vulns")?;
    let mut rule = SeverityRule::new(args.max_severity);
    rule.unknown_as = args.unknown_severity;
    rule.deny.clone_from(&args.deny);
    let report = verify_vulns(&envelope, &scanner_keys, &vex, &computed, &rule);
    let file = args.input.display().to_string();
    let summary = format!(
        "{file}: no open finding above {:?} for {artifact}",
        args.max_severity
    );
    print_verdict(
        args.format,
        &format!("Vulnerabilities {file}"),
        &report,
        &summary,
        &file,
    )
}
