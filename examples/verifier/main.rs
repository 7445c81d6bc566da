//! `verifier`: the auditor's side of custodia on the command line.
//!
//! ```text
//! verifier envelope --in envelope.json --key builder.pub
//! verifier envelope --in envelope.json --key builder.pub \
//!     --artifact app.tar.gz --predicate-type https://custodia.dev/attestation/demo/v1
//! verifier provenance --in provenance.intoto.json --key builder.pub \
//!     --artifact app.tar.gz --builder-id https://ci.acme.dev/builders/linux \
//!     --source-uri github.com/acme/app --source-versioned-tag v1.4
//! verifier chain --policy policy.json --dir store --artifact app.tar.gz --format markdown
//! verifier dora --policy policy.json --dir store --environment prod \
//!     --since 2024-04-01T00:00:00Z --until 2024-05-01T00:00:00Z --max-change-failure-rate 0.15
//! ```
//!
//! Exit codes: 0 verified, 1 verification failed, 2 bad usage or
//! unreadable / malformed input (one `error: ...` line on stderr). Every
//! decision is the library's: this file reads files, calls
//! [`Envelope::verify`], [`verify_attestation`], [`verify_provenance`],
//! [`validate_chain`] or [`dora`] and prints the report.

mod admit;
#[cfg(feature = "sigstore")]
mod bundle;
#[cfg(feature = "oci")]
mod oci;
#[path = "../common/progress.rs"]
mod progress;
mod vulns;

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::builder::NonEmptyStringValueParser;
use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use custodia::digest::{Digest, DigestAlgorithm, DigestSet};
use custodia::dsse::{Envelope, MAX_ENVELOPE_BYTES};
use custodia::keys::PublicKey;
use custodia::policy::{ActivePolicy, Policy};
use custodia::promotion::{
    AuditRequest, DirStore, DoraTargets, MAX_CHECKPOINT_BYTES, SignedCheckpoint, TrustedState,
    ValidationOptions, audit, dora_from_store,
};
use custodia::provenance::{ProvenanceExpectation, RefExpectation, verify_provenance};
use custodia::render::{Render as _, Titled, one_line};
use custodia::report::Report;
use custodia::statement::Statement;
use custodia::time::Timestamp;
use custodia::trust::TrustAnchors;
use custodia::verify::{Expectation, verify_attestation};

/// Key files are small; anything much larger is not a key.
const MAX_KEY_FILE_BYTES: u64 = custodia::fsread::KEY.bytes();

/// Policies are small; a larger file is refused before it is read whole.
const MAX_POLICY_BYTES: u64 = custodia::fsread::POLICY.bytes();

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
      --source-uri github.com/acme/app --source-branch main
  verifier chain --policy policy.json --dir store --artifact app.tar.gz
  verifier dora --policy policy.json --dir store --environment prod \\
      --since 2024-04-01T00:00:00Z --until 2024-05-01T00:00:00Z")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Verify a Sigstore bundle offline against a pinned trusted root:
    /// certificate chain, transparency log, signing time, signer, signature,
    /// and what it says about an artifact (cosign's flag names).
    #[command(after_help = "\
Examples:
  # a keyless signature over a file, by a GitHub Actions workflow:
  verifier bundle --in app.tar.gz.sigstore.json --trusted-root trusted_root.json \\
      --artifact app.tar.gz \\
      --certificate-identity https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.0.0 \\
      --certificate-oidc-issuer https://token.actions.githubusercontent.com
  # an SLSA provenance attestation, any release tag of the workflow, as JSON:
  verifier bundle --in app.intoto.sigstore.json --trusted-root trusted_root.json \\
      --digest sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03 \\
      --type https://slsa.dev/provenance/v1 --format json \\
      --certificate-identity-regexp '^https://github\\.com/acme/app/\\.github/workflows/release\\.yml@refs/tags/v' \\
      --certificate-oidc-issuer https://token.actions.githubusercontent.com
  # a public-key bundle:
  verifier bundle --in app.sigstore.json --trusted-root trusted_root.json \\
      --artifact app.tar.gz --key signer.pub

Checks run in order: bundle, certificate-chain (keyless), transparency-log,
signing-time, identity and issuer (keyless), signature, tlog-body, then
payload-type, statement, predicate-type (with --type) and subject for an
attestation (in-toto payload types as `verifier envelope --help` says), or
artifact for a message signature. A regular expression
matches anywhere unless anchored with ^...$. Nothing is fetched: the
trusted root (trusted_root.json, e.g. from sigstore's TUF repository) is
the only trust.

Exit codes: 0 verified, 1 verification failed (the first failing check on
stderr), 2 bad usage or unreadable / malformed input.")]
    #[cfg(feature = "sigstore")]
    Bundle(bundle::BundleArgs),
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

Payload types: an in-toto statement is `application/vnd.in-toto+json` or,
per in-toto attestation 1.2, `application/vnd.in-toto.<predicate>+json`
(e.g. application/vnd.in-toto.provenance+json); both are accepted here, by
`bundle`, `oci` and the promotion gates. The <predicate> part is never
trusted: --predicate-type is checked against the signed statement's
predicateType only.

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
    /// Validate promotion histories in a store: every record's signature,
    /// links, source (no rebuild), policy and gate, per environment.
    #[command(after_help = "\
Examples:
  verifier chain --policy policy.json --dir store
  # one environment, and where this artifact is, as JSON:
  verifier chain --policy policy.json --dir store --environment prod \\
      --artifact app.tar.gz --format json
  # a GitHub step summary: check tables and the chain as a Mermaid diagram:
  verifier chain --policy policy.json --dir store --format markdown >> \"$GITHUB_STEP_SUMMARY\"
  # an audit of a whole directory (what `demo --out DIR` leaves):
  verifier chain --policy DIR/policy.json --dir DIR/store \\
      --file DIR/artifact --file DIR/sbom.cdx.json --file DIR/keys

Every environment of the policy is validated (or only --environment): one
record[i] check per record (content hash, promoter signature, previous link,
time order, source record with the same digest, policy digest, the gate
re-evaluated with the recorded evidence), then unlinked-records (forks,
reordered or orphaned records) and emergencies (flagged). Then `policy` (the
--policy file is the policy every record was gated by) and `store` (every
stored envelope, linked or not, hashes to its name). Each --file must be
accounted for by the verified chains: a PEM public key must be one of the
policy's keys, byte for byte; any other file must hash to a promoted
artifact or to a subject or SLSA byproduct of the records' signed evidence.
With --artifact or --digest the output also says where that digest is: the
current head of an environment, earlier in its history, or never there
(informational; the exit code is the chains').

JSON: {\"verified\": bool, \"environments\": {\"dev\": {\"verified\", \"checks\"}, ...},
\"policy\": {\"verified\", \"checks\"}, \"store\": {...}, \"files\": {...} (with --file),
\"artifact\": {\"digest\", \"environments\": {\"dev\": \"current\" | \"earlier\" | \"never\" | \"unverified\"}}}.

Exit codes: 0 every chain verified, 1 a chain failed (the first failing check
on stderr), 2 bad usage or unreadable / malformed input.")]
    Chain(ChainArgs),
    /// DORA metrics of an environment from its promotion records and
    /// incidents: deployment frequency, lead time, change failure rate,
    /// time to restore; optionally checked against targets.
    #[command(after_help = "\
Example:
  verifier dora --policy policy.json --dir store --environment prod \\
      --since 2024-04-01T00:00:00Z --until 2024-05-01T00:00:00Z \\
      --max-lead-time-hours 24 --max-change-failure-rate 0.15 \\
      --max-time-to-restore-minutes 60 --min-deployments-per-day 1

The environment's chain is validated first (check `chain`): metrics from a
history that does not verify are not evidence. Deployments are promotions and
emergencies in [--since, --until) (rollbacks excluded); lead time is commit to
deployment (median); change failure rate is the share of deployments whose
artifact then had an incident there; time to restore is the median of
incidents opened in the window and resolved.

Exit codes: 0 chain verified and every target met, 1 otherwise, 2 bad usage
or unreadable / malformed input.")]
    Dora(DoraArgs),
    /// May this artifact run in this environment now? Allowed only when it
    /// is the environment's current head, the environment's history
    /// validates, its path back to its build validates in every
    /// environment, and no open incident names it.
    #[command(after_help = "\
Examples:
  verifier admit --policy policy.json --dir store --environment prod --artifact app.tar.gz
  verifier admit --policy policy.json --dir store --environment prod \\
      --oci-layout image:1.4.2 --format json
  # rolling deployments: the previous release may still run
  verifier admit --policy policy.json --dir store --environment prod \\
      --digest sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03 --allow-history

Checks run in order: history, promoted, current, incident, path.

Exit codes: 0 allowed, 1 refused (the first failing check on stderr), 2 bad
usage or unreadable / malformed input.")]
    Admit(admit::AdmitArgs),
    /// Judge a signed vulnerability report (in-toto vulns v0.2) against a
    /// maximum severity, after VEX statements signed by the given keys.
    #[command(after_help = "\
Examples:
  verifier vulns --in scan.intoto.json --key scanner.pub --digest sha256:... --max-severity high
  verifier vulns --in scan.intoto.json --key scanner.pub --artifact app.tar.gz \\
      --vex vex.intoto.json --vex-key security.pub --max-severity medium --format markdown

A VEX statement (OpenVEX, about this artifact) suppresses a finding when it
names the vulnerability (or an alias) for the artifact or the finding's
package and says fixed, or not_affected with a justification; the newest
statement per vulnerability wins; under_investigation suppresses nothing.
Findings the scanner gives no severity count as too high unless
--unknown-severity says otherwise.

Exit codes: 0 no open finding above LEVEL, 1 otherwise (the ids named) or a
signature did not verify, 2 bad usage or unreadable / malformed input.")]
    Vulns(vulns::VulnsArgs),
    /// Verify a container image's attestations where they live: OCI 1.1
    /// referrers and cosign v2 `.att` tags, in an image layout or a registry
    /// (or, with --signatures, its cosign v2 `.sig` image signatures).
    #[command(after_help = "\
Examples:
  verifier oci --oci-layout image:v1.4.2 --key builder.pub \\
      --predicate-type https://slsa.dev/provenance/v1
  verifier oci --registry registry.example/team/app:v1.4.2 --key builder.pub \\
      --predicate-type https://cyclonedx.org/bom
  # Sigstore bundles (cosign v3's layout), keyless, offline:
  verifier oci --oci-layout image:v1.4.2 --trusted-root trusted_root.json \\
      --certificate-identity https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.4.2 \\
      --certificate-oidc-issuer https://token.actions.githubusercontent.com \\
      --predicate-type https://slsa.dev/provenance/v1

The image's identity is its manifest (or index) digest. Verified when at
least one attached DSSE envelope with that predicate type is signed by a
trusted key (with --trusted-root: one attached Sigstore bundle verifies
offline for the certificate identity) and its statement is about that
digest. --registry needs the
oci-registry feature; credentials come from CUSTODIA_REGISTRY_USERNAME and
CUSTODIA_REGISTRY_PASSWORD.

Attestations are looked for in both places: OCI 1.1 referrers (cosign v3,
custodia, BuildKit) and cosign v2's tag sha256-<hex>.att (in a layout: that
ref name, or a `cosign save` entry); a keyless cosign v2 attestation is
verified with --trusted-root like a bundle. The report's `referrer` and
`location` checks say where the one that verified was found.

--signatures verifies cosign v2 image signatures instead (the simple signing
layers of the tag sha256-<hex>.sig): signed by a trusted key, or with
--trusted-root by the certificate identity (Fulcio chain, Rekor SET), and
naming this image's digest (check `image`):
  verifier oci --oci-layout image:v1.4.2 --signatures --trusted-root trusted_root.json \\
      --certificate-identity release@acme.example --certificate-oidc-issuer https://github.com/login/oauth

Exit codes: 0 verified, 1 not verified, 2 bad usage or unreadable / malformed
input.")]
    #[cfg(feature = "oci")]
    Oci(oci::OciArgs),
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
    /// It establishes that one digest only: other digests the subject lists are not
    /// checked (--artifact checks every one).
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
    /// It establishes that one digest only: other digests the subject lists are not
    /// checked (--artifact checks every one).
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
    /// A workflow input the build must have had, as a string (slsa-verifier's
    /// --build-workflow-input: `x=true` matches the string "true", not the boolean);
    /// repeat or list several.
    #[arg(long, num_args = 1.., value_name = "NAME=VALUE", value_parser = parse_build_input)]
    build_input: Vec<(String, String)>,
    /// A workflow input the build must have had, as a JSON value compared with its
    /// type (`dry_run=false` is the boolean, `shards=3` the number); repeat or list several.
    #[arg(long, num_args = 1.., value_name = "NAME=JSON", value_parser = parse_build_input_json)]
    build_input_json: Vec<(String, serde_json::Value)>,
}

#[derive(Args)]
#[command(group(ArgGroup::new("subject").args(["artifact", "digest"]).multiple(false)))]
struct ChainArgs {
    /// The promotion policy (JSON).
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
    /// The store directory.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// Only this environment [default: every environment of the policy].
    #[arg(long, value_name = "NAME", value_parser = NonEmptyStringValueParser::new())]
    environment: Option<String>,
    /// Also say where this artifact is (a directory: its tree digest).
    #[arg(long, value_name = "PATH")]
    artifact: Option<PathBuf>,
    /// Also say where this digest is, as ALG:HEX.
    #[arg(long, value_name = "ALG:HEX", value_parser = parse_digest)]
    digest: Option<Digest>,
    /// A file the verified chains must account for (repeatable; a directory
    /// means every file under it): a PEM public key must be one of the
    /// policy's keys; any other file must hash to an artifact the records
    /// promoted, or to a subject or SLSA byproduct of their signed evidence.
    #[arg(long = "file", value_name = "PATH")]
    files: Vec<PathBuf>,
    /// A checkpoint note cosigned by a `witness` key of the policy
    /// (`attest witness`; repeatable): the history must extend it, so
    /// records removed from its end are found.
    #[arg(long = "checkpoint", value_name = "FILE")]
    checkpoints: Vec<PathBuf>,
    /// This verifier's own state: the checkpoints it accepted last time
    /// (read if the file exists; every history must extend them) and, when
    /// everything verifies, written with the new ones.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Args)]
struct DoraArgs {
    /// The promotion policy (JSON).
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
    /// The store directory.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// The environment.
    #[arg(long, value_name = "ENV", value_parser = NonEmptyStringValueParser::new())]
    environment: String,
    /// Window start (inclusive), RFC 3339.
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    since: Timestamp,
    /// Window end (exclusive), RFC 3339.
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    until: Timestamp,
    /// Target: median lead time at most N hours.
    #[arg(long, value_name = "N", value_parser = parse_non_negative)]
    max_lead_time_hours: Option<f64>,
    /// Target: change failure rate at most F (a fraction: 0.15 = 15 %).
    #[arg(long, value_name = "F", value_parser = parse_fraction)]
    max_change_failure_rate: Option<f64>,
    /// Target: median time to restore at most N minutes.
    #[arg(long, value_name = "N", value_parser = parse_non_negative)]
    max_time_to_restore_minutes: Option<f64>,
    /// Target: at least F deployments per day.
    #[arg(long, value_name = "F", value_parser = parse_non_negative)]
    min_deployments_per_day: Option<f64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Human-readable lines.
    Text,
    /// The report as JSON: {"verified": bool, "checks": [{name, passed, reason}]}.
    Json,
    /// A GitHub step summary / pull-request comment: verdict heading and a
    /// table of checks.
    Markdown,
}

impl From<Format> for custodia::render::Format {
    fn from(format: Format) -> Self {
        match format {
            Format::Text => Self::Text,
            Format::Json => Self::Json,
            Format::Markdown => Self::Markdown,
        }
    }
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
        #[cfg(feature = "sigstore")]
        Command::Bundle(args) => bundle::bundle(&args),
        Command::Envelope(args) => envelope(&args),
        Command::Provenance(args) => provenance(&args),
        Command::Chain(args) => chain(&args),
        Command::Dora(args) => dora_cmd(&args),
        Command::Admit(args) => admit::admit(&args),
        Command::Vulns(args) => vulns::vulns(&args),
        #[cfg(feature = "oci")]
        Command::Oci(args) => oci::oci(&args),
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
            let (artifact, digests) = subject_digest(
                args.artifact.as_deref(),
                args.digest.as_ref(),
                "--predicate-type",
            )?;
            let expect =
                Expectation::new(predicate_type.clone(), digests).with_threshold(common.threshold);
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
                .verify(keys.keys(), common.threshold)
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
    let file = common.input.display().to_string();
    print_verdict(
        common.format,
        &format!("DSSE envelope {file}"),
        &report,
        &summary,
        &file,
    )
}

fn provenance(args: &ProvenanceArgs) -> Result<(), Failure> {
    let common = &args.common;
    let (envelope, keys) = read_inputs(common)?;
    let file = common.input.display();
    let (artifact, digests) =
        subject_digest(args.artifact.as_deref(), args.digest.as_ref(), "provenance")?;

    let mut expect =
        ProvenanceExpectation::new(digests, args.builder_id.iter().cloned(), &args.source_uri)
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
    for (name, value) in &args.build_input_json {
        expect = expect.with_input_value(name.clone(), value.clone());
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
    let file = common.input.display().to_string();
    print_verdict(
        common.format,
        &format!("SLSA provenance {file}"),
        verified.report(),
        &summary,
        &file,
    )
}

fn chain(args: &ChainArgs) -> Result<(), Failure> {
    let policy = load_policy(&args.policy)?;
    let store = open_store(&args.dir)?;
    let mut request = AuditRequest::new(args.policy.display().to_string());
    if let Some(name) = &args.environment {
        request
            .environments
            .push(known_environment(&policy, &args.policy, name)?);
    }
    request.artifact = match (&args.artifact, &args.digest) {
        (Some(path), _) => Some(artifact_digest(path)?.to_set()),
        (None, Some(digest)) => Some(digest.to_set()),
        (None, None) => None,
    };
    request.files.clone_from(&args.files);
    for path in &args.checkpoints {
        let bytes = read_file(path, MAX_CHECKPOINT_BYTES as u64)?;
        request.checkpoints.push(
            SignedCheckpoint::from_note(&bytes).map_err(|e| format!("{}: {e}", path.display()))?,
        );
    }
    if let Some(path) = &args.state {
        request.kept = Some(read_state(path)?);
    }
    let audit = progress::with_spinner("auditing the promotion store", || {
        audit(&store, &policy, &request)
    })
    .map_err(|e| format!("{}: {e}", args.dir.display()))?;
    let out = audit
        .render(args.format.into())
        .map_err(|e| format!("serializing the report: {e}"))?;
    print_stdout(format!("{out}\n").as_bytes())?;
    if let (Some(path), Some(mut state)) = (&args.state, request.kept) {
        if audit.advance(&mut state) {
            let bytes = state.to_json().map_err(|e| e.to_string())?;
            fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    if audit.verified {
        return Ok(());
    }
    Err(Failure::NotVerified(match &audit.first_failure {
        Some(f) => format!("`{}`: {}: {}", f.section, f.check.name, f.check.reason),
        None => "the policy has no environments".to_owned(),
    }))
}

/// The verifier's state file, or an empty state when it does not exist yet.
fn read_state(path: &Path) -> Result<TrustedState, Failure> {
    if !path.exists() {
        return Ok(TrustedState::default());
    }
    let bytes = read_file(path, 1024 * 1024)?;
    Ok(TrustedState::from_json(&bytes).map_err(|e| format!("{}: {e}", path.display()))?)
}

/// `name` if the policy has that environment.
fn known_environment(
    policy: &ActivePolicy,
    policy_path: &Path,
    name: &str,
) -> Result<String, Failure> {
    match policy.policy().known_environment(name) {
        Ok(environment) => Ok(environment.name.clone()),
        Err(e) => Err(Failure::Input(format!("{}: {e}", policy_path.display()))),
    }
}

fn dora_cmd(args: &DoraArgs) -> Result<(), Failure> {
    let policy = load_policy(&args.policy)?;
    let store = open_store(&args.dir)?;
    let env = known_environment(&policy, &args.policy, &args.environment)?;
    if args.until <= args.since {
        return Err(Failure::Input(format!(
            "--until {} is not after --since {}",
            args.until, args.since
        )));
    }
    let mut targets = DoraTargets::default();
    targets.max_lead_time_seconds = args
        .max_lead_time_hours
        .map(|h| (h * 3600.0).round() as i64);
    targets.max_change_failure_rate = args.max_change_failure_rate;
    targets.max_time_to_restore_seconds = args
        .max_time_to_restore_minutes
        .map(|m| (m * 60.0).round() as i64);
    targets.min_deployments_per_day = args.min_deployments_per_day;

    let outcome = dora_from_store(
        &store,
        &policy,
        &env,
        args.since,
        args.until,
        &targets,
        &ValidationOptions::default(),
    );
    let out = outcome
        .render(args.format.into())
        .map_err(|e| format!("serializing the report: {e}"))?;
    print_stdout(format!("{out}\n").as_bytes())?;
    if outcome.report.verified() {
        return Ok(());
    }
    Err(Failure::NotVerified(match outcome.report.first_failure() {
        Some(c) => format!("`{env}`: {}: {}", c.name, c.reason),
        None => format!("`{env}`: no checks ran"),
    }))
}

fn load_policy(path: &Path) -> Result<ActivePolicy, Failure> {
    let bytes = read_file(path, MAX_POLICY_BYTES)?;
    Policy::from_json(&bytes)
        .and_then(Policy::activate)
        .map_err(|e| Failure::Input(format!("{}: {e}", path.display())))
}

/// An existing store: a verifier never creates one.
fn open_store(dir: &Path) -> Result<DirStore, Failure> {
    if !dir.is_dir() {
        return Err(Failure::Input(format!(
            "{}: no store there (not a directory)",
            dir.display()
        )));
    }
    DirStore::open_existing(dir).map_err(|e| Failure::Input(e.to_string()))
}

/// The trusted keys and the envelope of `--in`.
fn read_inputs(common: &CommonArgs) -> Result<(Envelope, TrustAnchors), Failure> {
    let keys = common
        .key
        .iter()
        .map(|path| read_public_key(path))
        .collect::<Result<TrustAnchors, Failure>>()?;
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

/// The artifact's digest from --artifact or --digest (for people), and the
/// digests a subject must match: with --artifact every algorithm custodia
/// computes (so every strong digest a subject lists is checked), with
/// --digest that one digest only.
fn subject_digest(
    artifact: Option<&Path>,
    digest: Option<&Digest>,
    needed_by: &str,
) -> Result<(Digest, DigestSet), Failure> {
    match (artifact, digest) {
        (Some(path), _) => {
            let set =
                progress::hash_path_complete(path).map_err(|e| Failure::Input(e.to_string()))?;
            let shown = set
                .digest(DigestAlgorithm::Sha256)
                .ok_or_else(|| Failure::Input(format!("{}: no sha256 computed", path.display())))?;
            Ok((shown, set))
        }
        (None, Some(digest)) => Ok((digest.clone(), digest.to_set())),
        // clap's argument groups make this unreachable; still no panic.
        (None, None) => Err(Failure::Input(format!(
            "{needed_by} needs --artifact or --digest"
        ))),
    }
}

/// Prints the report in `format` (titled `title` in Markdown, with
/// `summary` when verified); exit 1 with the first failing check, said
/// about `context` (a file, an image), unless it verified.
fn print_verdict(
    format: Format,
    title: &str,
    report: &Report,
    summary: &str,
    context: &str,
) -> Result<(), Failure> {
    let out = Titled::new(title, report, summary)
        .render(format.into())
        .map_err(|e| format!("serializing the report: {e}"))?;
    print_stdout(format!("{out}\n").as_bytes())?;
    if report.verified() {
        return Ok(());
    }
    let context = one_line(context);
    Err(Failure::NotVerified(match report.first_failure() {
        Some(check) => format!("{context}: {}: {}", check.name, check.reason),
        None => format!("{context}: no checks ran"),
    }))
}

/// A directory's tree digest, a file's sha256 (a progress bar on a
/// terminal for large inputs).
fn artifact_digest(path: &Path) -> Result<Digest, Failure> {
    progress::hash_path(path).map_err(|e| Failure::Input(e.to_string()))
}

fn read_public_key(path: &Path) -> Result<PublicKey, Failure> {
    let bytes = read_file(path, MAX_KEY_FILE_BYTES)?;
    let pem = String::from_utf8(bytes)
        .map_err(|_| format!("{}: not a PEM public key (not text)", path.display()))?;
    PublicKey::from_pem(&pem).map_err(|e| Failure::Input(format!("{}: {e}", path.display())))
}

/// Reads a regular file of at most `limit` bytes (`custodia::fsread`): a
/// longer file, a FIFO, a device or a symbolic link is refused (exit 2).
fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>, Failure> {
    custodia::fsread::read(path, custodia::fsread::Limit::new("file", limit))
        .map_err(|e| e.to_string().into())
}

/// Writes to stdout without panicking on a closed pipe.
fn print_stdout(bytes: &[u8]) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| Failure::Input(format!("writing to stdout: {e}")))
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

fn parse_time(s: &str) -> Result<Timestamp, String> {
    s.parse().map_err(|e: custodia::Error| e.to_string())
}

fn parse_non_negative(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        Ok(_) => Err("must be a finite number of at least 0".to_owned()),
        Err(e) => Err(e.to_string()),
    }
}

fn parse_fraction(s: &str) -> Result<f64, String> {
    match parse_non_negative(s)? {
        v if v <= 1.0 => Ok(v),
        _ => Err("a fraction between 0 and 1 (0.15 = 15 %)".to_owned()),
    }
}

fn parse_build_input(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err("expected NAME=VALUE".to_owned()),
    }
}

fn parse_build_input_json(s: &str) -> Result<(String, serde_json::Value), String> {
    let (name, value) = parse_build_input(s).map_err(|_| "expected NAME=JSON".to_owned())?;
    let value =
        serde_json::from_str::<serde_json::Value>(&value).map_err(|e| format!("not JSON: {e}"))?;
    Ok((name, value))
}
