//! `verifier`: the auditor's side of custodia on the command line.
//!
//! ```text
//! verifier envelope --in envelope.json --key builder.pub
//! verifier envelope --in envelope.json --key builder.pub \
//!     --artifact app.tar.gz --predicate-type https://custodia.dev/attestation/demo/v1
//! verifier provenance --in provenance.intoto.json --key builder.pub \
//!     --artifact app.tar.gz --builder-id https://ci.acme.dev/builders/linux \
//!     --source-uri github.com/acme/app --source-versioned-tag v1.4
//! ```
//!
//! Exit codes: 0 verified, 1 verification failed, 2 bad usage or
//! unreadable / malformed input (one `error: ...` line on stderr). Every
//! decision is the library's: this file reads files, calls
//! [`Envelope::verify`], [`verify_attestation`] or [`verify_provenance`]
//! and prints the report.

use std::fs;
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::builder::NonEmptyStringValueParser;
use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use custodia::digest::{Digest, DigestAlgorithm, hash_file, hash_tree};
use custodia::dsse::{Envelope, MAX_ENVELOPE_BYTES};
use custodia::keys::{KeySet, PublicKey};
use custodia::provenance::{ProvenanceExpectation, RefExpectation, verify_provenance};
use custodia::report::Report;
use custodia::statement::Statement;
use custodia::verify::{Expectation, verify_attestation};

/// Key files are small; anything much larger is not a key.
const MAX_KEY_FILE_BYTES: u64 = 1024 * 1024;

/// Verify signed attestations (DSSE envelopes) against trusted public keys.
#[derive(Parser)]
#[command(name = "verifier", version, about, long_about = None)]
#[command(after_help = "\
Exit codes: 0 verified, 1 verification failed, 2 bad usage or unreadable /
malformed input.

Examples:
  verifier envelope --in envelope.json --key builder.pub \\
      --artifact app.tar.gz --predicate-type https://custodia.dev/attestation/demo/v1
  verifier provenance --in provenance.intoto.json --key builder.pub \\
      --artifact app.tar.gz --builder-id https://ci.acme.dev/builders/linux \\
      --source-uri github.com/acme/app --source-branch main")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a DSSE envelope's signatures, and with --artifact/--digest what it says about an artifact.
    #[command(after_help = "\
Examples:
  # signatures only (the payload is not interpreted):
  verifier envelope --in envelope.json --key builder.pub
  # two of three trusted keys must have signed:
  verifier envelope --in envelope.json --key a.pub b.pub c.pub --threshold 2
  # signature, payload type, predicate type and subject, as a JSON report:
  verifier envelope --in envelope.json --key builder.pub --format json \\
      --artifact app.tar.gz --predicate-type https://custodia.dev/attestation/demo/v1
  verifier envelope --in envelope.json --key builder.pub \\
      --digest sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03 \\
      --predicate-type https://custodia.dev/attestation/demo/v1

Exit codes: 0 verified, 1 verification failed, 2 bad usage or unreadable /
malformed input.")]
    Envelope(EnvelopeArgs),
    /// Verify signed SLSA provenance (v1, v0.2, v0.1) for an artifact: signer,
    /// subject, builder, source repository, and optionally ref, build type and inputs.
    #[command(after_help = "\
Examples:
  # the artifact, built by a trusted builder (any version) from the repository:
  verifier provenance --in provenance.intoto.json --key builder.pub \\
      --artifact app.tar.gz --builder-id https://ci.acme.dev/builders/linux \\
      --source-uri github.com/acme/app
  # from a release tag v1.4.x, by one of two builders, with a workflow input, as JSON:
  verifier provenance --in provenance.intoto.json --key builder.pub --format json \\
      --digest sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03 \\
      --builder-id https://ci.acme.dev/builders/linux@v2 https://github.com/actions/runner/github-hosted \\
      --source-uri https://github.com/acme/app --source-versioned-tag v1.4 \\
      --build-input environment=production

A --builder-id with `@` must match exactly; one without matches that builder
at any version. --source-uri is compared without scheme, `git+` and a
trailing `.git`. --source-versioned-tag v1.4 accepts tags v1.4.0, v1.4.7, ...
but not v1.5.0. Checks run in order: signature[i], threshold, payload-type,
statement, predicate-type, predicate, subject, builder-id, source-repository,
then source-ref, build-type and input:NAME when asked for.

Exit codes: 0 verified, 1 verification failed (the first failing check on
stderr), 2 bad usage or unreadable / malformed input.")]
    Provenance(ProvenanceArgs),
}

/// What every subcommand reads: the envelope, the trusted keys, how many
/// must have signed, and how to print the report.
#[derive(Args)]
struct CommonArgs {
    /// The DSSE envelope (JSON).
    #[arg(long = "in", value_name = "FILE")]
    input: PathBuf,
    /// Trusted public key(s), SPKI PEM as `attest keygen` writes; repeat or list several.
    #[arg(long, required = true, num_args = 1.., value_name = "PUB")]
    key: Vec<PathBuf>,
    /// How many distinct trusted keys must have signed.
    #[arg(long, default_value = "1", value_parser = parse_threshold, value_name = "N")]
    threshold: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Args)]
#[command(group(ArgGroup::new("subject").args(["artifact", "digest"]).multiple(false)))]
struct EnvelopeArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// The artifact the statement must be about (a directory: its tree digest).
    #[arg(long, value_name = "PATH", requires = "predicate_type")]
    artifact: Option<PathBuf>,
    /// The artifact's digest instead of the artifact, as ALG:HEX (sha256, sha384, sha512).
    #[arg(long, value_name = "ALG:HEX", value_parser = parse_digest, requires = "predicate_type")]
    digest: Option<Digest>,
    /// The predicate type the statement must have.
    #[arg(long, value_name = "URI", requires = "subject")]
    predicate_type: Option<String>,
}

#[derive(Args)]
#[command(group(ArgGroup::new("subject").args(["artifact", "digest"]).required(true).multiple(false)))]
#[command(group(ArgGroup::new("source_ref").args(["source_branch", "source_tag", "source_versioned_tag"]).multiple(false)))]
struct ProvenanceArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// The artifact the provenance must be about (a directory: its tree digest).
    #[arg(long, value_name = "PATH")]
    artifact: Option<PathBuf>,
    /// The artifact's digest instead of the artifact, as ALG:HEX (sha256, sha384, sha512).
    #[arg(long, value_name = "ALG:HEX", value_parser = parse_digest)]
    digest: Option<Digest>,
    /// Trusted builder id(s); without `@` any version of that builder; repeat or list several.
    #[arg(long, required = true, num_args = 1.., value_name = "URI", value_parser = NonEmptyStringValueParser::new())]
    builder_id: Vec<String>,
    /// The source repository the build must come from, e.g. github.com/acme/app.
    #[arg(long, value_name = "URI", value_parser = NonEmptyStringValueParser::new())]
    source_uri: String,
    /// The build must come from this branch (refs/heads/B).
    #[arg(long, value_name = "B", value_parser = NonEmptyStringValueParser::new())]
    source_branch: Option<String>,
    /// The build must come from exactly this tag (refs/tags/T).
    #[arg(long, value_name = "T", value_parser = NonEmptyStringValueParser::new())]
    source_tag: Option<String>,
    /// The build must come from a semantic-version tag within T (v1, v1.4 or v1.4.2).
    #[arg(long, value_name = "T", value_parser = NonEmptyStringValueParser::new())]
    source_versioned_tag: Option<String>,
    /// The build type the provenance must have.
    #[arg(long, value_name = "URI", value_parser = NonEmptyStringValueParser::new())]
    build_type: Option<String>,
    /// A workflow input the build must have had (compared as text); repeat or list several.
    #[arg(long, num_args = 1.., value_name = "NAME=VALUE", value_parser = parse_build_input)]
    build_input: Vec<(String, String)>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Human-readable lines.
    Text,
    /// The report as JSON: {"verified": bool, "checks": [{name, passed, reason}]}.
    Json,
}

/// Why the run did not end with "verified".
enum Failure {
    /// Exit 2: bad usage or unreadable / malformed input.
    Input(String),
    /// Exit 1: the input was read, and it does not verify.
    NotVerified(String),
}

impl From<String> for Failure {
    fn from(reason: String) -> Self {
        Self::Input(reason)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Envelope(args) => envelope(&args),
        Command::Provenance(args) => provenance(&args),
    };
    let (code, reason) = match result {
        Ok(()) => return ExitCode::SUCCESS,
        Err(Failure::NotVerified(reason)) => (1, format!("verification failed: {reason}")),
        Err(Failure::Input(reason)) => (2, reason),
    };
    let _ = writeln!(io::stderr(), "error: {}", one_line(&reason));
    ExitCode::from(code)
}

fn envelope(args: &EnvelopeArgs) -> Result<(), Failure> {
    let common = &args.common;
    let (envelope, keys) = read_inputs(common)?;
    let file = common.input.display();

    let (report, summary) = match &args.predicate_type {
        Some(predicate_type) => {
            let artifact = subject_digest(
                args.artifact.as_deref(),
                args.digest.as_ref(),
                "--predicate-type",
            )?;
            let expect = Expectation::new(predicate_type.clone(), artifact.to_set())
                .with_threshold(common.threshold);
            let report = verify_attestation(&envelope, &keys, &expect)
                .report()
                .clone();
            let summary = format!(
                "{file}: a `{predicate_type}` statement about {artifact}, signed by at least {} trusted key(s)",
                common.threshold
            );
            (report, summary)
        }
        None => {
            let verification = envelope
                .verify(&keys, common.threshold)
                .map_err(|e| format!("{file}: {e}"))?;
            let summary = format!(
                "{file}: signatures only ({} trusted key(s) signed); the payload ({}) was not \
                 checked: add --artifact or --digest with --predicate-type to bind it to an artifact",
                verification.accepted_keys().len(),
                envelope.payload_type()
            );
            (verification.report(), summary)
        }
    };
    conclude(common, &report, &summary)
}

fn provenance(args: &ProvenanceArgs) -> Result<(), Failure> {
    let common = &args.common;
    let (envelope, keys) = read_inputs(common)?;
    let file = common.input.display();
    let artifact = subject_digest(args.artifact.as_deref(), args.digest.as_ref(), "provenance")?;

    let mut expect = ProvenanceExpectation::new(
        artifact.to_set(),
        args.builder_id.iter().cloned(),
        &args.source_uri,
    )
    .with_threshold(common.threshold);
    let git_ref = match (
        &args.source_branch,
        &args.source_tag,
        &args.source_versioned_tag,
    ) {
        (Some(branch), _, _) => Some(RefExpectation::Branch(branch.clone())),
        (None, Some(tag), _) => Some(RefExpectation::Tag(tag.clone())),
        (None, None, Some(tag)) => Some(RefExpectation::VersionedTag(tag.clone())),
        (None, None, None) => None,
    };
    if let Some(git_ref) = git_ref {
        expect = expect.with_ref(git_ref);
    }
    if let Some(build_type) = &args.build_type {
        expect = expect.with_build_type(build_type.clone());
    }
    for (name, value) in &args.build_input {
        expect = expect.with_input(name.clone(), value.clone());
    }

    let verified = verify_provenance(&envelope, &keys, &expect);
    let summary = match verified.claims() {
        Some(claims) => {
            let source = claims.source.as_ref();
            format!(
                "{file}: {artifact} was built by `{}` from `{}`{}, says a `{}` statement signed by at least {} trusted key(s)",
                claims.builder_id,
                source.map_or(args.source_uri.as_str(), |s| s.uri.as_str()),
                source
                    .and_then(|s| s.digest.get("gitCommit"))
                    .map(|c| format!(" at commit {c}"))
                    .unwrap_or_default(),
                claims.version.predicate_type(),
                common.threshold
            )
        }
        None => String::new(),
    };
    conclude(common, verified.report(), &summary)
}

/// The trusted keys and the envelope of `--in`.
fn read_inputs(common: &CommonArgs) -> Result<(Envelope, KeySet), Failure> {
    let keys = common
        .key
        .iter()
        .map(|path| read_public_key(path))
        .collect::<Result<KeySet, Failure>>()?;
    let file = common.input.display();
    let bytes = read_file(&common.input, MAX_ENVELOPE_BYTES as u64)?;
    let envelope = Envelope::from_json(&bytes).map_err(|e| {
        if Statement::from_json(&bytes).is_ok() {
            format!(
                "{file}: an unsigned in-toto statement, not a DSSE envelope; \
                 sign it first (`attest sign --key KEY --in {file}`)"
            )
        } else {
            format!("{file}: {e}")
        }
    })?;
    Ok((envelope, keys))
}

/// The artifact's digest from --artifact or --digest.
fn subject_digest(
    artifact: Option<&Path>,
    digest: Option<&Digest>,
    needed_by: &str,
) -> Result<Digest, Failure> {
    match (artifact, digest) {
        (Some(path), _) => artifact_digest(path),
        (None, Some(digest)) => Ok(digest.clone()),
        // clap's argument groups make this unreachable; still no panic.
        (None, None) => Err(Failure::Input(format!(
            "{needed_by} needs --artifact or --digest"
        ))),
    }
}

/// Prints the report in the chosen format; exit 1 with the first failing
/// check unless it verified.
fn conclude(common: &CommonArgs, report: &Report, summary: &str) -> Result<(), Failure> {
    let file = common.input.display();
    let out = match common.format {
        Format::Json => serde_json::to_string_pretty(report)
            .map_err(|e| format!("serializing the report: {e}"))?,
        Format::Text => render(report, summary),
    };
    print_stdout(format!("{out}\n").as_bytes())?;
    if report.verified() {
        return Ok(());
    }
    Err(Failure::NotVerified(match report.first_failure() {
        Some(check) => format!("{file}: {}: {}", check.name, check.reason),
        None => format!("{file}: no checks ran"),
    }))
}

/// The report as `PASS  name: reason` lines and the verdict (the format of
/// `Report`'s `Display`, with control characters escaped because reasons
/// can quote the envelope), then a summary line when verified.
fn render(report: &Report, summary: &str) -> String {
    let mut out = String::new();
    for check in report.checks() {
        let mark = if check.passed { "PASS" } else { "FAIL" };
        out.push_str(&format!(
            "{mark}  {}: {}\n",
            one_line(&check.name),
            one_line(&check.reason)
        ));
    }
    if report.verified() {
        out.push_str("VERIFIED\n");
        out.push_str(&one_line(summary));
    } else {
        out.push_str("NOT VERIFIED");
    }
    out
}

/// A directory's tree digest, a file's sha256.
fn artifact_digest(path: &Path) -> Result<Digest, Failure> {
    let meta = fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let digest = if meta.is_dir() {
        hash_tree(path)
    } else {
        hash_file(DigestAlgorithm::Sha256, path)
    };
    digest.map_err(|e| Failure::Input(e.to_string()))
}

fn read_public_key(path: &Path) -> Result<PublicKey, Failure> {
    let bytes = read_file(path, MAX_KEY_FILE_BYTES)?;
    let pem = String::from_utf8(bytes)
        .map_err(|_| format!("{}: not a PEM public key (not text)", path.display()))?;
    PublicKey::from_pem(&pem).map_err(|e| Failure::Input(format!("{}: {e}", path.display())))
}

/// Reads at most `limit` bytes; a longer file (or an endless stream) is refused.
fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>, Failure> {
    let fail = |e: io::Error| format!("{}: {e}", path.display());
    let file = fs::File::open(path).map_err(fail)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(fail)?;
    if bytes.len() as u64 > limit {
        return Err(format!("{}: larger than the {limit}-byte limit", path.display()).into());
    }
    Ok(bytes)
}

/// Writes to stdout without panicking on a closed pipe.
fn print_stdout(bytes: &[u8]) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| Failure::Input(format!("writing to stdout: {e}")))
}

/// Escapes control characters so text from an envelope stays on its line
/// and cannot drive the terminal.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn parse_threshold(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("the threshold must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

fn parse_digest(s: &str) -> Result<Digest, String> {
    s.parse().map_err(|e: custodia::Error| e.to_string())
}

fn parse_build_input(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err("expected NAME=VALUE".to_owned()),
    }
}
