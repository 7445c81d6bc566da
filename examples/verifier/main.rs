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

use std::collections::BTreeSet;
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
use custodia::predicate::promotion::{PromotionKind, PromotionRecord};
use custodia::promotion::{
    Accounting, DirStore, DoraMetrics, DoraTargets, MAX_CHECKPOINT_BYTES, SignedCheckpoint, Store,
    TrustedState, ValidationOptions, VerifiedHistory, check_checkpoints, check_policy, check_store,
    dora_from_store, validate,
};
use custodia::provenance::{ProvenanceExpectation, RefExpectation, verify_provenance};
use custodia::report::{Check, Report};
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
    /// referrers and cosign v2 `.att` tags, in an image layout or a registry.
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
    #[arg(long, value_enum, default_value_t = ChainFormat::Text)]
    format: ChainFormat,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ChainFormat {
    /// Human-readable lines, one section per environment.
    Text,
    /// {"verified": bool, "environments": {"dev": {"verified", "checks"}, ...}}.
    Json,
    /// A GitHub step summary: check tables and a Mermaid chain diagram.
    Markdown,
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
    conclude("DSSE envelope", common, &report, &summary)
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
    conclude("SLSA provenance", common, verified.report(), &summary)
}

/// Where a digest is in one environment's history.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Location {
    /// The environment's current head.
    Current,
    /// In its history, not the head.
    Earlier,
    /// Never promoted there.
    Never,
    /// The history does not validate, so it says nothing.
    Unverified,
}

impl Location {
    fn as_str(self) -> &'static str {
        match self {
            Self::Current => "current",
            Self::Earlier => "earlier",
            Self::Never => "never",
            Self::Unverified => "unverified",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Current => "the current head",
            Self::Earlier => "in its history, not the current head",
            Self::Never => "never promoted there",
            Self::Unverified => "unknown: the history does not validate",
        }
    }
}

/// What `verifier chain` found.
struct ChainOutcome {
    /// One validated history per environment, in policy order.
    reports: Vec<(String, Report)>,
    /// With --artifact/--digest: the digest and where it is.
    artifact: Option<(Digest, Vec<(String, Location)>)>,
    /// The policy file is the one the records were gated by.
    policy: Report,
    /// Every stored envelope hashes to its name.
    store: Report,
    /// With --file: each file accounted for.
    files: Option<Report>,
    /// With --checkpoint / --state: the histories extend every checkpoint.
    checkpoints: Option<Report>,
}

impl ChainOutcome {
    fn verified(&self) -> bool {
        !self.reports.is_empty()
            && self.reports.iter().all(|(_, r)| r.verified())
            && self.policy.verified()
            && self.store.verified()
            && self.files.as_ref().is_none_or(Report::verified)
            && self.checkpoints.as_ref().is_none_or(Report::verified)
    }

    /// The sections that are not environments: the store and the files.
    fn extra_sections(&self) -> Vec<(&'static str, &Report)> {
        let mut sections = vec![("policy", &self.policy), ("store", &self.store)];
        if let Some(files) = &self.files {
            sections.push(("files", files));
        }
        if let Some(checkpoints) = &self.checkpoints {
            sections.push(("checkpoints", checkpoints));
        }
        sections
    }

    /// The first failing check and the section it is in.
    /// A policy file other than the one the records name explains every
    /// other failure, so it comes first; then the environments (a corrupt
    /// envelope they use is named there, with what it broke), then the
    /// store's other envelopes, then the files.
    fn first_failure(&self) -> Option<(&str, &Check)> {
        std::iter::once(("policy", &self.policy))
            .chain(self.reports.iter().map(|(env, r)| (env.as_str(), r)))
            .chain(std::iter::once(("store", &self.store)))
            .chain(self.files.iter().map(|r| ("files", r)))
            .chain(self.checkpoints.iter().map(|r| ("checkpoints", r)))
            .find_map(|(section, r)| r.first_failure().map(|c| (section, c)))
    }
}

fn chain(args: &ChainArgs) -> Result<(), Failure> {
    let policy = load_policy(&args.policy)?;
    let store = open_store(&args.dir)?;
    let environments = match &args.environment {
        Some(name) => vec![known_environment(&policy, &args.policy, name)?],
        None => policy
            .policy()
            .environments
            .iter()
            .map(|e| e.name.clone())
            .collect(),
    };
    let artifact = match (&args.artifact, &args.digest) {
        (Some(path), _) => Some(artifact_digest(path)?),
        (None, Some(digest)) => Some(digest.clone()),
        (None, None) => None,
    };
    let names: Vec<&str> = environments.iter().map(String::as_str).collect();
    let validation = progress::with_spinner("verifying promotion chains", || {
        validate(&store, &policy, &names, &ValidationOptions::default())
    });
    // Environments their records came from were validated as far as the
    // paths need; the report shows those asked for.
    let reports: Vec<(String, Report)> = validation
        .reports()
        .iter()
        .filter(|(env, _)| environments.contains(env))
        .cloned()
        .collect();
    let artifact = artifact.map(|digest| {
        let found = locate(validation.history(), &reports, &digest.to_set());
        (digest, found)
    });
    let files = if args.files.is_empty() {
        None
    } else {
        Some(account_for_files(&store, &policy, &reports, &args.files)?)
    };
    let names: Vec<&str> = reports.iter().map(|(env, _)| env.as_str()).collect();
    let mut policy_report = Report::new();
    policy_report.push(check_policy(
        &store,
        &policy,
        &names,
        &args.policy.display().to_string(),
    ));
    let checkpoints = check_kept_and_witnessed(args, &validation, &policy)?;
    let outcome = ChainOutcome {
        checkpoints,
        policy: policy_report,
        store: progress::with_spinner("checking every stored envelope", || check_store(&store)),
        reports,
        artifact,
        files,
    };
    let out = match args.format {
        ChainFormat::Text => render_chain_text(&outcome),
        ChainFormat::Json => chain_json(&outcome)?,
        ChainFormat::Markdown => render_chain_markdown(&outcome, &store, &policy, &args.dir),
    };
    print_stdout(format!("{out}\n").as_bytes())?;
    if outcome.verified() {
        if let Some(path) = &args.state {
            let mut state = read_state(path)?;
            state.advance(validation.history());
            let bytes = state.to_json().map_err(|e| e.to_string())?;
            fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        return Ok(());
    }
    Err(Failure::NotVerified(match outcome.first_failure() {
        Some((section, check)) => format!("`{section}`: {}: {}", check.name, check.reason),
        None => "the policy has no environments".to_owned(),
    }))
}

/// `--checkpoint` notes and the `--state` file against the validated
/// histories (`None` when neither was given).
fn check_kept_and_witnessed(
    args: &ChainArgs,
    validation: &custodia::promotion::Validation,
    policy: &ActivePolicy,
) -> Result<Option<Report>, Failure> {
    if args.checkpoints.is_empty() && args.state.is_none() {
        return Ok(None);
    }
    let kept = match &args.state {
        Some(path) => read_state(path)?,
        None => TrustedState::default(),
    };
    let mut notes = Vec::new();
    for path in &args.checkpoints {
        let bytes = read_file(path, MAX_CHECKPOINT_BYTES as u64)?;
        notes.push(
            SignedCheckpoint::from_note(&bytes).map_err(|e| format!("{}: {e}", path.display()))?,
        );
    }
    let mut report = check_checkpoints(validation.history(), policy, &kept, &notes);
    if report.checks().is_empty() {
        report.push(Check::pass(
            "checkpoint",
            "no earlier checkpoint of these environments yet",
        ));
    }
    Ok(Some(report))
}

/// The verifier's state file, or an empty state when it does not exist yet.
fn read_state(path: &Path) -> Result<TrustedState, Failure> {
    if !path.exists() {
        return Ok(TrustedState::default());
    }
    let bytes = read_file(path, 1024 * 1024)?;
    Ok(TrustedState::from_json(&bytes).map_err(|e| format!("{}: {e}", path.display()))?)
}

/// Checks each `--file` (directories expanded, sorted) against what the
/// verified environments' chains vouch for. Unreadable files are input
/// errors (exit 2).
fn account_for_files(
    store: &DirStore,
    policy: &ActivePolicy,
    reports: &[(String, Report)],
    paths: &[PathBuf],
) -> Result<Report, Failure> {
    let verified: Vec<&str> = reports
        .iter()
        .filter(|(_, r)| r.verified())
        .map(|(env, _)| env.as_str())
        .collect();
    let accounting = Accounting::from_chains(store, policy, &verified);
    let mut report = Report::new();
    for path in paths {
        for file in files_under(path)? {
            let name = file.display().to_string();
            let size = fs::metadata(&file)
                .map_err(|e| format!("{name}: {e}"))?
                .len();
            report.push(if size <= MAX_KEY_FILE_BYTES {
                accounting.check_file(&name, &read_file(&file, MAX_KEY_FILE_BYTES)?)
            } else {
                let digest = progress::hash_path(&file).map_err(|e| format!("{name}: {e}"))?;
                accounting.check_digest(&name, &digest.to_set())
            });
        }
    }
    Ok(report)
}

/// `path` itself, or every regular file under the directory `path`, sorted.
fn files_under(path: &Path) -> Result<Vec<PathBuf>, Failure> {
    let unreadable = |p: &Path, e: std::io::Error| Failure::Input(format!("{}: {e}", p.display()));
    let meta = std::fs::metadata(path).map_err(|e| unreadable(path, e))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut found = Vec::new();
    let mut pending = vec![path.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = custodia::fsread::read_dir(&dir, custodia::fsread::MAX_DIR_ENTRIES)
            .map_err(|e| Failure::Input(e.to_string()))?;
        for entry in entries {
            let entry = entry.map_err(|e| Failure::Input(e.to_string()))?;
            let kind = entry
                .file_type()
                .map_err(|e| unreadable(&entry.path(), e))?;
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() {
                found.push(entry.path());
            } else {
                return Err(Failure::Input(format!(
                    "{}: not a regular file or directory",
                    entry.path().display()
                )));
            }
        }
    }
    found.sort();
    Ok(found)
}

/// `name` if the policy has that environment.
fn known_environment(
    policy: &ActivePolicy,
    policy_path: &Path,
    name: &str,
) -> Result<String, Failure> {
    if policy.policy().environment(name).is_some() {
        return Ok(name.to_owned());
    }
    let names: Vec<&str> = policy
        .policy()
        .environments
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    Err(Failure::Input(format!(
        "{}: the policy has no environment `{name}` (it has: {})",
        policy_path.display(),
        names.join(", ")
    )))
}

/// Where `artifact` is, per environment whose history validated.
fn locate(
    history: &VerifiedHistory,
    reports: &[(String, Report)],
    artifact: &DigestSet,
) -> Vec<(String, Location)> {
    reports
        .iter()
        .map(|(env, _)| {
            let location = match history
                .environment(env)
                .and_then(|e| e.verified().then_some(e))
            {
                Some(e) => match history.latest_with_artifact(env, artifact) {
                    Some(r) if e.head().is_some_and(|h| h.digest == r.digest) => Location::Current,
                    Some(_) => Location::Earlier,
                    None => Location::Never,
                },
                None => Location::Unverified,
            };
            (env.clone(), location)
        })
        .collect()
}

fn render_chain_text(outcome: &ChainOutcome) -> String {
    let mut out = String::new();
    for (env, report) in &outcome.reports {
        out.push_str(&format!(
            "== {}: {} ==\n",
            one_line(env),
            if report.verified() {
                "VERIFIED"
            } else {
                "NOT VERIFIED"
            }
        ));
        out.push_str(&render_checks(report));
    }
    for (section, report) in outcome.extra_sections() {
        out.push_str(&format!(
            "== {section}: {} ==\n",
            if report.verified() {
                "VERIFIED"
            } else {
                "NOT VERIFIED"
            }
        ));
        out.push_str(&render_checks(report));
    }
    if let Some((digest, found)) = &outcome.artifact {
        out.push_str(&format!("== where {digest} is ==\n"));
        for (env, location) in found {
            out.push_str(&format!("{}: {}\n", one_line(env), location.describe()));
        }
    }
    let failed: Vec<&str> = outcome
        .reports
        .iter()
        .map(|(env, r)| (env.as_str(), r))
        .chain(outcome.extra_sections())
        .filter(|(_, r)| !r.verified())
        .map(|(section, _)| section)
        .collect();
    if outcome.verified() {
        out.push_str(&format!(
            "VERIFIED\nthe promotion histories of {} validate",
            one_line(&environment_list(outcome))
        ));
    } else if failed.is_empty() {
        out.push_str("NOT VERIFIED: the policy has no environments");
    } else {
        out.push_str(&format!("NOT VERIFIED: {}", one_line(&failed.join(", "))));
    }
    out
}

fn environment_list(outcome: &ChainOutcome) -> String {
    outcome
        .reports
        .iter()
        .map(|(env, _)| env.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn chain_json(outcome: &ChainOutcome) -> Result<String, Failure> {
    let serialize = |e: serde_json::Error| format!("serializing the report: {e}");
    let mut environments = serde_json::Map::new();
    for (env, report) in &outcome.reports {
        environments.insert(
            env.clone(),
            serde_json::to_value(report).map_err(serialize)?,
        );
    }
    let mut json = serde_json::Map::new();
    json.insert("verified".into(), outcome.verified().into());
    json.insert("environments".into(), environments.into());
    for (section, report) in outcome.extra_sections() {
        json.insert(
            section.into(),
            serde_json::to_value(report).map_err(serialize)?,
        );
    }
    if let Some((digest, found)) = &outcome.artifact {
        let places: serde_json::Map<String, serde_json::Value> = found
            .iter()
            .map(|(env, location)| (env.clone(), location.as_str().into()))
            .collect();
        let mut artifact = serde_json::Map::new();
        artifact.insert("digest".into(), digest.to_string().into());
        artifact.insert("environments".into(), places.into());
        json.insert("artifact".into(), artifact.into());
    }
    Ok(serde_json::to_string_pretty(&json).map_err(serialize)?)
}

fn mark(passed: bool) -> &'static str {
    if passed { "✅" } else { "❌" }
}

/// A GitHub-step-summary report: a heading, a table of checks per
/// environment, where the artifact is, and the chain as a Mermaid diagram.
/// Every text from the store is escaped for Markdown table cells.
fn render_chain_markdown(
    outcome: &ChainOutcome,
    store: &DirStore,
    policy: &ActivePolicy,
    dir: &Path,
) -> String {
    let verified = outcome.verified();
    let mut out = format!(
        "## {} Promotion chain {}\n\nStore {}, policy {}: {} environment(s).\n\n",
        mark(verified),
        if verified { "verified" } else { "NOT verified" },
        md(&dir.display().to_string()),
        md(&policy.digest().to_string()),
        outcome.reports.len()
    );
    let sections = outcome
        .reports
        .iter()
        .map(|(env, r)| (env.as_str(), r))
        .chain(outcome.extra_sections());
    for (env, report) in sections {
        out.push_str(&format!(
            "### {} {}\n\n{}\n",
            mark(report.verified()),
            md(env),
            markdown_checks(report)
        ));
    }
    if let Some((digest, found)) = &outcome.artifact {
        out.push_str(&format!(
            "### Where {} is\n\n| Environment | Where |\n| --- | --- |\n",
            md(&digest.to_string())
        ));
        for (env, location) in found {
            out.push_str(&format!("| {} | {} |\n", md(env), md(location.describe())));
        }
        out.push('\n');
    }
    let target = outcome.artifact.as_ref().map(|(d, _)| d.to_set());
    out.push_str("### Chain\n\n```mermaid\n");
    out.push_str(&mermaid(store, &outcome.reports, target.as_ref()));
    out.push_str("```");
    out
}

/// The histories as a Mermaid `flowchart LR`: one subgraph per
/// environment, one node per record (short digest, environment, kind),
/// `-->` from each record to the next in its environment, `==>` from the
/// record that brought the artifact into the source environment. Records
/// whose check failed are red; records of the --artifact digest are bold.
/// Labels hold only hex, environment names (the policy allows
/// `[a-z0-9_-]`) and kinds, so nothing needs escaping.
fn mermaid(store: &DirStore, reports: &[(String, Report)], target: Option<&DigestSet>) -> String {
    let mut out = String::from("flowchart LR\n");
    let mut drawn = BTreeSet::new();
    let mut edges = Vec::new();
    let mut sources = Vec::new();
    let mut failed_nodes = Vec::new();
    let mut target_nodes = Vec::new();
    for (i, (env, report)) in reports.iter().enumerate() {
        let failed: BTreeSet<usize> = report
            .checks()
            .iter()
            .filter(|c| !c.passed)
            .filter_map(|c| record_index(&c.name))
            .collect();
        let env_label = mermaid_text(env);
        out.push_str(&format!("  subgraph env{i}[\"{env_label}\"]\n"));
        let mut previous: Option<Digest> = None;
        let mut seen = BTreeSet::new();
        let mut index = 0usize;
        loop {
            let next = match store.successor(env, previous.as_ref()) {
                Ok(Some(next)) if seen.insert(next.clone()) => next,
                Ok(_) => break,
                Err(_) => {
                    out.push_str(&format!("    env{i}_links[\"links unreadable\"]\n"));
                    failed_nodes.push(format!("env{i}_links"));
                    break;
                }
            };
            let id = node_id(&next);
            let kind = match read_record(store, &next) {
                Some((record, artifact)) => {
                    if let Some(source) = &record.source {
                        sources.push((source.clone(), id.clone(), record.kind));
                    }
                    if target.is_some_and(|t| artifact.matches(t).is_ok()) {
                        target_nodes.push(id.clone());
                    }
                    kind_name(record.kind)
                }
                None => {
                    failed_nodes.push(id.clone());
                    "unreadable"
                }
            };
            out.push_str(&format!(
                "    {id}[\"{}<br/>{env_label}<br/>{kind}\"]\n",
                short(&next)
            ));
            drawn.insert(id.clone());
            if failed.contains(&index) {
                failed_nodes.push(id.clone());
            }
            if let Some(previous) = &previous {
                edges.push(format!("  {} --> {id}", node_id(previous)));
            }
            previous = Some(next);
            index += 1;
        }
        if index == 0 {
            out.push_str(&format!("    env{i}_empty[\"no promotions yet\"]\n"));
        }
        out.push_str("  end\n");
    }
    for (source, id, kind) in sources {
        let from = node_id(&source);
        if drawn.insert(from.clone()) {
            out.push_str(&format!("  {from}[\"{}<br/>not shown\"]\n", short(&source)));
        }
        let label = match kind {
            PromotionKind::Rollback => "rollback",
            PromotionKind::Emergency => "EMERGENCY",
            _ => "promoted",
        };
        edges.push(format!("  {from} ==>|{label}| {id}"));
    }
    for edge in edges {
        out.push_str(&edge);
        out.push('\n');
    }
    out.push_str("  classDef failed fill:#fdd,stroke:#c00,color:#600\n");
    out.push_str("  classDef target stroke:#06c,stroke-width:3px\n");
    if !failed_nodes.is_empty() {
        out.push_str(&format!("  class {} failed\n", failed_nodes.join(",")));
    }
    if !target_nodes.is_empty() {
        out.push_str(&format!("  class {} target\n", target_nodes.join(",")));
    }
    out
}

/// A stored promotion record and its artifact, unverified (for drawing only).
fn read_record(store: &DirStore, digest: &Digest) -> Option<(PromotionRecord, DigestSet)> {
    let bytes = store.get(digest).ok()?;
    let envelope = Envelope::from_json(&bytes).ok()?;
    let statement = Statement::from_json(envelope.payload()).ok()?;
    let record = statement.predicate_as::<PromotionRecord>().ok()?;
    let artifact = statement.subject().first()?.digest.clone();
    Some((record, artifact))
}

fn kind_name(kind: PromotionKind) -> &'static str {
    match kind {
        PromotionKind::Rollback => "rollback",
        PromotionKind::Emergency => "emergency",
        _ => "promotion",
    }
}

/// `record[3]` -> 3.
fn record_index(check: &str) -> Option<usize> {
    check
        .strip_prefix("record[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

fn node_id(digest: &Digest) -> String {
    format!("r{}", digest.hex())
}

fn short(digest: &Digest) -> String {
    let hex = digest.hex();
    format!("{}:{}", digest.algorithm(), hex.get(..12).unwrap_or(&hex))
}

/// Text for a quoted Mermaid label: only `[A-Za-z0-9_-]` pass; anything
/// else becomes `_` (environment names are already in that set).
fn mermaid_text(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Escapes text for a Markdown table cell: HTML specials as entities,
/// Markdown punctuation (including `|` and `$`) with a backslash, control
/// characters and bidi overrides as visible escapes.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '#' | '!' | '~' | '$' | '{'
            | '}' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() || is_bidi_or_separator(c) => {
                // `\u{1b}` -> `\\u\{1b\}`: shown as typed, never interpreted.
                for e in c.escape_default() {
                    if matches!(e, '\\' | '{' | '}') {
                        out.push('\\');
                    }
                    out.push(e);
                }
            }
            c => out.push(c),
        }
    }
    out
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
    let (report, metrics) = (outcome.report, outcome.metrics);
    let out = match args.format {
        Format::Json => {
            let serialize = |e: serde_json::Error| format!("serializing the report: {e}");
            let mut json = match serde_json::to_value(&report).map_err(serialize)? {
                serde_json::Value::Object(map) => map,
                _ => serde_json::Map::new(),
            };
            json.insert("environment".into(), env.clone().into());
            json.insert("since".into(), args.since.to_string().into());
            json.insert("until".into(), args.until.to_string().into());
            json.insert(
                "metrics".into(),
                serde_json::to_value(&metrics).map_err(serialize)?,
            );
            serde_json::to_string_pretty(&json).map_err(serialize)?
        }
        Format::Markdown => {
            let title = format!(
                "DORA metrics for {}, {} to {}",
                md(&env),
                md(&args.since.to_string()),
                md(&args.until.to_string())
            );
            let mut out = render_markdown(&title, &report, "");
            if let Some(m) = &metrics {
                out.push_str(&format!(
                    "\n```text\n{}```",
                    one_line_each(&render_metrics(m))
                ));
            }
            out
        }
        Format::Text => {
            let mut out = format!(
                "DORA metrics for `{}`, {} to {}\n",
                one_line(&env),
                args.since,
                args.until
            );
            if let Some(m) = &metrics {
                out.push_str(&render_metrics(m));
            }
            out.push_str(&render(&report, ""));
            out
        }
    };
    print_stdout(format!("{out}\n").as_bytes())?;
    if report.verified() {
        return Ok(());
    }
    Err(Failure::NotVerified(match report.first_failure() {
        Some(c) => format!("`{env}`: {}: {}", c.name, c.reason),
        None => format!("`{env}`: no checks ran"),
    }))
}

fn render_metrics(m: &DoraMetrics) -> String {
    let hours = |s: i64| format!("{:.1} h", s as f64 / 3600.0);
    let minutes = |s: i64| format!("{:.1} min", s as f64 / 60.0);
    format!(
        "deployment frequency: {} deployment(s) in {:.1} day(s), {:.2} per day\n\
         lead time: {}\n\
         change failure rate: {}\n\
         time to restore: {}\n",
        m.deployments,
        m.days,
        m.deployments_per_day,
        m.lead_time_median_seconds.map_or_else(
            || "n/a (no deployment in the window records a commit time)".to_owned(),
            |s| format!("median {}", hours(s))
        ),
        m.change_failure_rate.map_or_else(
            || "n/a (no deployments in the window)".to_owned(),
            |r| format!("{:.1} %", r * 100.0)
        ),
        m.time_to_restore_median_seconds.map_or_else(
            || "n/a (no resolved incidents opened in the window)".to_owned(),
            |s| format!("median {}", minutes(s))
        ),
    )
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

/// Prints the report in the chosen format; exit 1 with the first failing
/// check unless it verified.
fn conclude(
    what: &str,
    common: &CommonArgs,
    report: &Report,
    summary: &str,
) -> Result<(), Failure> {
    let file = common.input.display();
    let out = match common.format {
        Format::Json => serde_json::to_string_pretty(report)
            .map_err(|e| format!("serializing the report: {e}"))?,
        Format::Text => render(report, summary),
        Format::Markdown => render_markdown(
            &format!("{what} {}", md(&file.to_string())),
            report,
            summary,
        ),
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
    let mut out = render_checks(report);
    if report.verified() {
        out.push_str("VERIFIED\n");
        out.push_str(&one_line(summary));
    } else {
        out.push_str("NOT VERIFIED");
    }
    out
}

/// A GitHub-step-summary report: `## ✅ <title> verified` (or NOT
/// verified), the summary when verified, and a table of the checks. Every
/// text from the input is escaped for Markdown; `title` must be escaped
/// already.
fn render_markdown(title: &str, report: &Report, summary: &str) -> String {
    let verified = report.verified();
    let mut out = format!(
        "## {} {title} {}\n\n",
        mark(verified),
        if verified { "verified" } else { "NOT verified" }
    );
    if verified && !summary.is_empty() {
        out.push_str(&format!("{}\n\n", md(summary)));
    }
    out.push_str(&markdown_checks(report));
    out
}

/// The checks as a Markdown table, escaped.
fn markdown_checks(report: &Report) -> String {
    let mut out = String::from("| | Check | Reason |\n| --- | --- | --- |\n");
    for check in report.checks() {
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            mark(check.passed),
            md(&check.name),
            md(&check.reason)
        ));
    }
    out
}

/// Each line escaped with `one_line` (no control characters, no fence
/// breaking), newlines kept.
fn one_line_each(text: &str) -> String {
    text.lines()
        .map(|l| format!("{}\n", one_line(l).replace("```", "'''")))
        .collect()
}

/// `PASS  name: reason` per check, escaped.
fn render_checks(report: &Report) -> String {
    let mut out = String::new();
    for check in report.checks() {
        let mark = if check.passed { "PASS" } else { "FAIL" };
        out.push_str(&format!(
            "{mark}  {}: {}\n",
            one_line(&check.name),
            one_line(&check.reason)
        ));
    }
    out
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

/// Escapes control characters, line separators and bidi overrides so text
/// from an envelope stays on its line and can neither drive the terminal
/// nor reorder what it shows.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || is_bidi_or_separator(c) {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn is_bidi_or_separator(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
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
