//! `attest`: the producer side of custodia on the command line.
//!
//! ```text
//! attest keygen --algorithm ed25519 --out builder
//! attest demo-statement --subject app.tar.gz -o statement.json
//! attest sign --key builder.key --in statement.json -o envelope.json
//! attest digest app.tar.gz dist/
//! attest provenance --subject app.tar.gz --builder-id https://ci.acme.dev/builders/linux@v2 \
//!     --from-env -o provenance.json
//! attest store-put --dir store provenance.intoto.json tests.intoto.json
//! attest approve --key alice.key --environment prod --artifact app.tar.gz --dir store
//! attest promote --policy policy.json --dir store --key promoter.key \
//!     --artifact app.tar.gz --from staging --to prod
//! attest rollback --policy policy.json --dir store --key promoter.key \
//!     --environment prod --reason "INC-42: error rate"
//! ```
//!
//! Exit codes: 0 done, 1 refused (a promotion gate said no, or another
//! promotion won the race), 2 bad usage or unreadable / malformed input
//! (one `error: ...` line on stderr). Every decision (formats, validation,
//! gates, limits) is the library's; this file only reads files, calls
//! custodia and writes the result.

mod evidence;
#[cfg(feature = "oci")]
mod oci;
#[path = "../common/progress.rs"]
mod progress;
mod sbom;

use std::ffi::OsString;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::builder::NonEmptyStringValueParser;
use clap::{Args, Parser, Subcommand, ValueEnum};
use custodia::digest::{Digest, DigestAlgorithm, DigestSet, hash_file};
use custodia::dsse::{Envelope, MAX_ENVELOPE_BYTES};
use custodia::error::StoreError;
use custodia::keys::{KeyAlgorithm, PrivateKey, SigningKey};
use custodia::policy::{ActivePolicy, GateRequest, Policy};
use custodia::predicate::approval::Approval;
use custodia::predicate::promotion::{Incident, PromotionKind};
use custodia::predicate::slsa_provenance::normalize_repository;
use custodia::promotion::{
    DirStore, Promoted, PromotionError, PromotionRequest, Store, evidence_about, promote,
    record_incident, rollback,
};
use custodia::provenance::{BuildContext, SourceRef};
use custodia::render::{checks_text, one_line};
use custodia::resource::ResourceDescriptor;
use custodia::statement::{PAYLOAD_TYPE, Statement};
use custodia::time::Timestamp;

/// Policies are small; a larger file is refused before it is read whole.
const MAX_POLICY_BYTES: u64 = custodia::fsread::POLICY.bytes();

/// The predicate type of `demo-statement`.
const DEMO_PREDICATE_TYPE: &str = "https://custodia.dev/attestation/demo/v1";

/// Make keys, digests and signed in-toto attestations (DSSE envelopes).
#[derive(Parser)]
#[command(name = "attest", version, about, long_about = None)]
#[command(after_help = "\
Exit codes: 0 done, 1 refused (promote, rollback: the gate said no, or another
promotion won the race), 2 bad usage or unreadable / malformed input.

Quick start:
  attest keygen --algorithm ed25519 --out builder
  attest demo-statement --subject app.tar.gz -o statement.json
  attest sign --key builder.key --in statement.json -o envelope.json
  verifier envelope --in envelope.json --key builder.pub \\
      --artifact app.tar.gz --predicate-type https://custodia.dev/attestation/demo/v1

Provenance in CI:
  attest provenance --subject app.tar.gz --builder-id https://ci.acme.dev/builders/linux@v2 \\
      --from-env -o provenance.json
  attest sign --key builder.key --in provenance.json -o provenance.intoto.json
  verifier provenance --in provenance.intoto.json --key builder.pub --artifact app.tar.gz \\
      --builder-id https://ci.acme.dev/builders/linux --source-uri github.com/acme/app

Promotion (the store is a directory of content-addressed envelopes):
  attest store-put --dir store provenance.intoto.json tests.intoto.json
  attest approve --key alice.key --environment prod --artifact app.tar.gz --dir store
  attest promote --policy policy.json --dir store --key promoter.key \\
      --artifact app.tar.gz --from staging --to prod
  verifier chain --policy policy.json --dir store --artifact app.tar.gz")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a key pair: PREFIX.key (PKCS#8 PEM, mode 0600) and PREFIX.pub (SPKI PEM).
    #[command(after_help = "\
Example:
  attest keygen --algorithm ecdsa-p256 --out ci-builder
  # writes ci-builder.key and ci-builder.pub, prints the key id
  attest keygen --algorithm ecdsa-p256 --out ci-builder \\
    --pkcs11 'pkcs11:token=ci;object=builder?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=/run/pin'
  # generates a non-extractable key pair on the token; writes only ci-builder.pub")]
    Keygen(KeygenArgs),
    /// Print a signing key's public key (SPKI PEM): from a private key file or a `pkcs11:` URI.
    #[command(after_help = "\
Example:
  attest pubkey --key builder.key > builder.pub
  attest pubkey --key 'pkcs11:token=ci;object=builder?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=/run/pin'")]
    Pubkey(PubkeyArgs),
    /// Print the digest of files (`sha256:<hex>  PATH`) or directory trees.
    #[command(after_help = "\
Example:
  attest digest app.tar.gz dist/
  attest digest --algorithm sha512 app.tar.gz
  attest digest --oci-layout image:v1.4.2

A directory gets the deterministic tree digest (sha256 only): the sha256 of
the `sha256sum`-style listing of every regular file below it, sorted by path.
A container image (--oci-layout DIR[:REF], an OCI image layout) is identified
by its manifest digest; a multi-platform image by its index digest, printed
first, then each platform manifest's.")]
    Digest(DigestArgs),
    /// Attach DSSE envelopes or Sigstore bundles to a container image as OCI 1.1 referrers.
    #[command(after_help = "\
Examples:
  attest attach --oci-layout image:v1.4.2 --envelope provenance.intoto.json sbom.intoto.json
  attest attach --registry registry.example/team/app:v1.4.2 --envelope provenance.intoto.json
  attest attach --oci-layout image:v1.4.2 --bundle provenance.sigstore.json

A Sigstore bundle is stored as cosign v3 stores it (artifactType
application/vnd.dev.sigstore.bundle.v0.3+json, the predicate type in
dev.sigstore.bundle.predicateType).

Each envelope becomes an artifact manifest (artifactType
application/vnd.dsse.envelope.v1+json, the predicate type in the
in-toto.io/predicate-type annotation) whose subject is the image; a registry
without the referrers API gets the referrers tag schema (sha256-<hex>).
An envelope whose statement is not about the image is refused. --registry
needs the oci-registry feature; credentials come from
CUSTODIA_REGISTRY_USERNAME and CUSTODIA_REGISTRY_PASSWORD.")]
    #[cfg(feature = "oci")]
    Attach(oci::AttachArgs),
    /// Sign a payload (by default an in-toto statement) into a DSSE envelope.
    #[command(after_help = "\
Examples:
  attest sign --key builder.key --in statement.json -o envelope.json
  attest sign --key reviewer.key --in envelope.json --append -o envelope.json
  attest sign --key builder.key --in notes.txt --payload-type text/plain

With the in-toto payload type (the default) the input must be a valid
in-toto Statement; anything else is refused before signing.")]
    Sign(SignArgs),
    /// Write a small in-toto statement about files, to try signing and verifying.
    #[command(after_help = "\
Example:
  attest demo-statement --subject app.tar.gz -o statement.json

The statement names each subject by its file name with its sha256 digest
(a directory gets its tree digest), predicate type
https://custodia.dev/attestation/demo/v1 unless --predicate-type says otherwise.")]
    DemoStatement(DemoArgs),
    /// Write an unsigned in-toto statement with SLSA Provenance v1 about build outputs.
    #[command(after_help = "\
Examples:
  # on a CI runner (GitHub Actions, GitLab CI, or CUSTODIA_* variables):
  attest provenance --subject app.tar.gz --from-env \\
      --builder-id https://ci.acme.dev/builders/linux@v2 -o provenance.json
  # anywhere, everything given explicitly:
  SOURCE_DATE_EPOCH=1700000000 attest provenance --subject app.tar.gz --subject dist/ \\
      --builder-id https://ci.acme.dev/builders/linux@v2 \\
      --source-uri https://github.com/acme/app --source-ref refs/tags/v1.4.2 \\
      --source-commit 4d329c75e7ec1725f7c9ce917a8799d408d06be3 -o provenance.json
  attest sign --key builder.key --in provenance.json -o provenance.intoto.json

Each subject is named by its file name with its sha256 digest (a directory:
its tree digest). Without --from-env the build starts empty (generic build
type, no source); with --from-env it is read from the environment:
  GitHub Actions (GITHUB_ACTIONS=true): GITHUB_SERVER_URL, GITHUB_REPOSITORY,
    GITHUB_REF, GITHUB_SHA, GITHUB_WORKFLOW_REF, GITHUB_EVENT_NAME,
    GITHUB_REPOSITORY_ID, GITHUB_REPOSITORY_OWNER_ID, RUNNER_ENVIRONMENT,
    GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT (GitHub's workflow build type);
  GitLab CI (GITLAB_CI=true): CI_PROJECT_URL, CI_COMMIT_SHA, CI_COMMIT_TAG or
    CI_COMMIT_BRANCH, CI_CONFIG_PATH, CI_PIPELINE_SOURCE, CI_PROJECT_ID,
    CI_JOB_URL;
  elsewhere: CUSTODIA_SOURCE_URI, CUSTODIA_SOURCE_REF, CUSTODIA_SOURCE_COMMIT,
    CUSTODIA_INVOCATION_ID.
The flags given override what the environment says; the builder id is always
--builder-id.

Times: startedOn and finishedOn are SOURCE_DATE_EPOCH when it is set (it must
be a non-negative Unix time), else the current time. With SOURCE_DATE_EPOCH
and the same inputs the output is identical byte for byte: it is the
statement's compact JSON, written as is (no trailing newline), so the bytes
signed are the bytes written.")]
    Provenance(ProvenanceArgs),
    /// Write an SBOM of a Cargo project (from Cargo.lock, no network) or of a
    /// binary built with `cargo auditable` as CycloneDX or SPDX JSON, or as
    /// an unsigned in-toto statement about artifacts.
    #[command(after_help = "\
Examples:
  attest sbom --lockfile Cargo.lock --manifest Cargo.toml --format cyclonedx-json -o bom.cdx.json
  attest sbom --lockfile Cargo.lock --format spdx-json -o bom.spdx.json
  attest sbom --lockfile Cargo.lock --format spdx-3-json -o bom.spdx3.json
  # what was actually built: the dependency list cargo auditable embedded,
  # compared with the lock file (the difference goes to stderr):
  attest sbom --binary target/release/app --lockfile Cargo.lock --format cyclonedx-1.7-json
  # an in-toto statement about the artifact, with the SBOM as predicate:
  attest sbom --lockfile Cargo.lock --manifest Cargo.toml --format cyclonedx-json \\
      --subject target/release/app -o sbom.statement.json
  attest sign --key builder.key --in sbom.statement.json -o sbom.intoto.json

Every locked package is listed (all targets). With --metadata (the output of
`cargo metadata --format-version 1`) licenses, descriptions and authors are
added and dev/build-only packages are marked excluded. The timestamp is
SOURCE_DATE_EPOCH when set, else now; the serial number / document namespace
is derived from the content, so the same inputs give the same bytes.")]
    Sbom(sbom::SbomArgs),
    /// Put envelope files into a promotion store (prints `sha256:<hex>  FILE` each).
    #[command(after_help = "\
Example:
  attest store-put --dir store provenance.intoto.json tests.intoto.json scan.intoto.json
  # sha256:5891b5b5...  provenance.intoto.json   (one line per file)

The store (created if missing) keeps each envelope under the SHA-256 of its
bytes; the printed digests are what `attest promote --evidence` takes. Every
file is tried; any that is not a DSSE envelope is refused (exit 2).")]
    StorePut(StorePutArgs),
    /// Sign an approval of one artifact digest for one environment.
    #[command(after_help = "\
Examples:
  attest approve --key alice.key --environment prod --artifact app.tar.gz -o alice.intoto.json
  attest approve --key bob.key --environment prod --comment CAB-1234 --dir store \\
      --digest sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03

Who approved is the signing key's identity in the policy, never a field.
With --dir the envelope goes into the store and its digest is printed;
with -o it is written to FILE; with neither, to stdout.")]
    Approve(ApproveArgs),
    /// Promote an artifact into an environment through its policy gate; the
    /// signed promotion record goes into the store.
    #[command(after_help = "\
Examples:
  # the build enters the first environment:
  attest promote --policy policy.json --dir store --key promoter.key \\
      --artifact app.tar.gz --to dev --author carol --commit-time 2024-05-01T09:00:00Z
  # the same digest moves on; evidence: every envelope in the store about it:
  attest promote --policy policy.json --dir store --key promoter.key \\
      --artifact app.tar.gz --from staging --to prod --format json
  # the emergency path (flagged in every report):
  attest promote --policy policy.json --dir store --key promoter.key \\
      --artifact app.tar.gz --from staging --to prod --emergency --reason \"INC-42 hotfix\"

Checks, in order: promoter, evidence, artifact-in-source (the digest is the one
in --from: a rebuild is refused), then the gate of --to: environment, edge,
requires[i], approvals, freeze, emergency. Without --evidence, every envelope in
the store whose statement is about the artifact is offered (promotion and
incident records excepted). --commit-time counts for the entry promotion; later
promotions inherit it. --time defaults to now.

Exit codes: 0 promoted, 1 refused (the report shows which check) or another
promotion into --to won the race, 2 bad usage or unreadable / malformed input.")]
    Promote(PromoteArgs),
    /// Roll an environment back to its last known-good artifact (a signed
    /// rollback record; never a rebuild).
    #[command(after_help = "\
Example:
  attest rollback --policy policy.json --dir store --key promoter.key \\
      --environment prod --reason \"INC-42: error rate above 5 %\"

The target is the newest earlier artifact of the environment with no incident
there whose recorded evidence still passes the gate.

Exit codes: 0 rolled back, 1 no known-good target or refused, 2 bad usage or
unreadable / malformed input.")]
    Rollback(RollbackArgs),
    /// Record a signed incident about an artifact in an environment (for
    /// rollback targets and DORA change failure rate / time to restore).
    #[command(after_help = "\
Example:
  attest incident --dir store --key promoter.key --environment prod --artifact app.tar.gz \\
      --summary \"INC-42: error rate\" --opened 2024-05-01T10:30:00Z --resolved 2024-05-01T11:05:00Z

Prints the incident envelope's digest. Only incidents signed by a key with the
`operator` or `promoter` role in the policy count.")]
    Incident(IncidentArgs),
    /// As a witness: validate an environment's history and cosign its
    /// checkpoint (length and head), for verifiers to require with
    /// `verifier chain --checkpoint`: records removed from its end are then
    /// found. The key needs the `witness` role in the policy.
    #[command(after_help = "\
Example:
  attest witness --policy policy.json --dir store --key witness.key --environment prod \\
      --out prod.checkpoint

Exit codes: 0 cosigned, 1 the history does not validate or the key is no
witness, 2 bad usage or unreadable / malformed input.")]
    Witness(WitnessArgs),
    /// Write an unsigned in-toto test-result v0.1 statement from JUnit XML.
    #[command(after_help = "\
Example:
  cargo nextest run --profile ci   # writes target/nextest/ci/junit.xml
  attest test-result --junit target/nextest/ci/junit.xml --subject app.tar.gz -o tests.json
  attest sign --key tester.key --in tests.json -o tests.intoto.json

Every <testcase> is one test (nested suites counted once); <failure> and
<error> fail it, <skipped> skips it; nextest's and Surefire's retry elements
add no tests (a case that passed on a retry is passed, flaky). Each JUnit
file is named in `configuration` by its sha256, with its counts and the time
of conversion (SOURCE_DATE_EPOCH, else now) as `finishedOn`. Every test is
named unless --counts-only: then only failed, errored, skipped and flaky ones
are, and each file's `unlisted` annotation counts the others.")]
    TestResult(evidence::TestResultArgs),
    /// Write an unsigned in-toto vulns v0.2 statement from a scanner's report.
    #[command(after_help = "\
Examples:
  trivy image --format json -o trivy.json registry.example/app:1.4
  attest vulns --report trivy.json --digest sha256:... -o scan.json
  attest vulns --report audit.json --report-format cargo-audit --subject app -o scan.json

Formats: Trivy JSON, Grype JSON, OSV-Scanner JSON, cargo-audit JSON, SARIF
2.1.0 (detected from the content when --report-format is omitted). Findings
whose tool states no severity keep none: a gate counts them as its policy
says (by default: too high). The report is named by its sha256 in
metadata.report.")]
    Vulns(evidence::VulnsArgs),
    /// Write an unsigned in-toto OpenVEX 0.2.0 statement from a VEX document.
    #[command(after_help = "\
Examples:
  attest vex --openvex app.openvex.json --digest sha256:... -o vex.json
  attest vex --cyclonedx bom.vex.json --subject app.tar.gz -o vex.json
  attest sign --key security.key --in vex.json -o vex.intoto.json

CycloneDX and CSAF statuses are mapped to OpenVEX's (exploitable -> affected,
in_triage -> under_investigation, resolved -> fixed, known_not_affected ->
not_affected, ...); products keep their purls.")]
    Vex(evidence::VexArgs),
}

#[derive(Args)]
struct WitnessArgs {
    /// The promotion policy (JSON).
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
    /// The store directory (must exist).
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// The witness's private key.
    #[arg(long, value_name = "WITNESS_KEY")]
    key: PathBuf,
    /// The environment.
    #[arg(long, value_name = "ENV", value_parser = NonEmptyStringValueParser::new())]
    environment: String,
    /// Where to write the checkpoint note.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

#[derive(Args)]
struct KeygenArgs {
    /// Key algorithm.
    #[arg(long, value_enum)]
    algorithm: KeygenAlgorithm,
    /// Path prefix of the files to write (PREFIX.key, PREFIX.pub); existing files are not overwritten.
    #[arg(long, value_name = "PREFIX")]
    out: PathBuf,
    /// Generate the key pair on this PKCS#11 token (an RFC 7512 URI with
    /// object= and module-path=); the private key never leaves it, only
    /// PREFIX.pub is written.
    #[arg(long, value_name = "URI")]
    pkcs11: Option<String>,
}

#[derive(Args)]
struct PubkeyArgs {
    /// Private key: a PKCS#8 PEM file or a `pkcs11:` URI.
    #[arg(long, value_name = "KEY")]
    key: PathBuf,
}

#[derive(Clone, Copy, ValueEnum)]
enum KeygenAlgorithm {
    /// Ed25519.
    Ed25519,
    /// ECDSA on NIST P-256 with SHA-256.
    EcdsaP256,
    /// ECDSA on NIST P-384 with SHA-384.
    EcdsaP384,
    /// RSA 3072 bits, RSASSA-PSS with SHA-256.
    #[value(name = "rsa-3072")]
    Rsa3072,
}

impl KeygenAlgorithm {
    fn key_algorithm(self) -> KeyAlgorithm {
        match self {
            Self::Ed25519 => KeyAlgorithm::Ed25519,
            Self::EcdsaP256 => KeyAlgorithm::EcdsaP256,
            Self::EcdsaP384 => KeyAlgorithm::EcdsaP384,
            Self::Rsa3072 => KeyAlgorithm::Rsa,
        }
    }
}

#[derive(Args)]
struct DigestArgs {
    /// Hash algorithm for files: sha256, sha384 or sha512 (directories: sha256 only).
    #[arg(long, default_value = "sha256", value_parser = parse_digest_algorithm)]
    algorithm: DigestAlgorithm,
    /// Files or directories.
    #[arg(required_unless_present = "oci_layout", value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// A container image in an OCI image layout: DIR:REF (a ref name),
    /// DIR@sha256:HEX, or DIR when it holds one image.
    #[arg(long, value_name = "DIR[:REF]", conflicts_with_all = ["paths", "algorithm"])]
    oci_layout: Option<String>,
}

#[derive(Args)]
struct SignArgs {
    /// Private key: a PKCS#8 PEM file (as `attest keygen` writes) or a `pkcs11:` URI.
    #[arg(long, value_name = "KEY")]
    key: PathBuf,
    /// The payload to sign, or with --append the envelope to add a signature to.
    #[arg(long = "in", value_name = "FILE")]
    input: PathBuf,
    /// DSSE payload type.
    #[arg(long, value_name = "TYPE", default_value = PAYLOAD_TYPE, conflicts_with = "append")]
    payload_type: String,
    /// --in is an existing DSSE envelope: add this key's signature to it.
    #[arg(long)]
    append: bool,
    /// Write the envelope here instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Args)]
struct DemoArgs {
    /// File (or directory) the statement is about; repeat for several subjects.
    #[arg(long, required = true, value_name = "PATH")]
    subject: Vec<PathBuf>,
    /// Predicate type URI.
    #[arg(long, value_name = "URI", default_value = DEMO_PREDICATE_TYPE)]
    predicate_type: String,
    /// Write the statement here instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Args)]
struct ProvenanceArgs {
    /// A build output (file or directory) the provenance is about; repeat for several.
    #[arg(long, required = true, value_name = "PATH")]
    subject: Vec<PathBuf>,
    /// The id of the build platform that ran the build (runDetails.builder.id).
    #[arg(long, value_name = "URI", value_parser = NonEmptyStringValueParser::new())]
    builder_id: String,
    /// Build type URI [default: custodia's generic build type, or the CI's with --from-env].
    #[arg(long, value_name = "URI", value_parser = NonEmptyStringValueParser::new())]
    build_type: Option<String>,
    /// Read the build (source, ref, commit, run id, build type) from the CI
    /// environment: GitHub Actions, GitLab CI or CUSTODIA_* variables.
    #[arg(long)]
    from_env: bool,
    /// Source repository URL, e.g. https://github.com/acme/app.
    #[arg(long, value_name = "URI", value_parser = NonEmptyStringValueParser::new())]
    source_uri: Option<String>,
    /// Git ref of the source, e.g. refs/heads/main or refs/tags/v1.4.2.
    #[arg(long, value_name = "REF", value_parser = NonEmptyStringValueParser::new())]
    source_ref: Option<String>,
    /// Commit id of the source (40 or 64 hex digits).
    #[arg(long, value_name = "HEX", value_parser = NonEmptyStringValueParser::new())]
    source_commit: Option<String>,
    /// The CI run's id or URL (runDetails.metadata.invocationId).
    #[arg(long, value_name = "ID", value_parser = NonEmptyStringValueParser::new())]
    invocation_id: Option<String>,
    /// Write the statement here instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
}

/// The artifact a subcommand is about.
#[derive(Args)]
#[group(required = true, multiple = false)]
struct SubjectArgs {
    /// The artifact (a directory: its tree digest).
    #[arg(long, value_name = "PATH")]
    artifact: Option<PathBuf>,
    /// The artifact's digest instead of the artifact, as ALG:HEX (sha256, sha384, sha512).
    #[arg(long, value_name = "ALG:HEX", value_parser = parse_digest)]
    digest: Option<Digest>,
}

#[derive(Args)]
struct StorePutArgs {
    /// The store directory (created if missing).
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// DSSE envelope files.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

#[derive(Args)]
struct ApproveArgs {
    /// The approver's private key (PKCS#8 PEM file or `pkcs11:` URI).
    #[arg(long, value_name = "KEY")]
    key: PathBuf,
    /// The environment the artifact is approved for.
    #[arg(long, value_name = "ENV", value_parser = NonEmptyStringValueParser::new())]
    environment: String,
    #[command(flatten)]
    subject: SubjectArgs,
    /// A comment (a change ticket, a review link).
    #[arg(long, value_name = "TEXT")]
    comment: Option<String>,
    /// When it was approved, RFC 3339 [default: now].
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    time: Option<Timestamp>,
    /// Write the envelope here.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Put the envelope into this store and print its digest.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

#[derive(Args)]
struct PromoteArgs {
    /// The promotion policy (JSON).
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
    /// The store directory (must exist).
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// The promoter's private key, a file or a `pkcs11:` URI (its public key needs the `promoter` role in the policy).
    #[arg(long, value_name = "PROMOTER_KEY")]
    key: PathBuf,
    #[command(flatten)]
    subject: SubjectArgs,
    /// The environment the artifact comes from (omit when it enters the first one).
    #[arg(long, value_name = "ENV", value_parser = NonEmptyStringValueParser::new())]
    from: Option<String>,
    /// The environment to promote into.
    #[arg(long, value_name = "ENV", value_parser = NonEmptyStringValueParser::new())]
    to: String,
    /// Stored evidence envelopes, as sha256:HEX [default: every envelope in the store about the artifact].
    #[arg(long, num_args = 1.., value_name = "sha256:HEX", value_parser = parse_store_digest)]
    evidence: Vec<Digest>,
    /// The change's author (separation of duties: may not approve it).
    #[arg(long, value_name = "ID", value_parser = NonEmptyStringValueParser::new())]
    author: Option<String>,
    /// When the change was committed, RFC 3339 (entry promotions; for lead time).
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    commit_time: Option<Timestamp>,
    /// When the promotion happens, RFC 3339 [default: now].
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    time: Option<Timestamp>,
    /// Take the environment's emergency path (needs --reason; flagged in every report).
    #[arg(long, requires = "reason")]
    emergency: bool,
    /// Why (required with --emergency).
    #[arg(long, value_name = "TEXT", value_parser = NonEmptyStringValueParser::new())]
    reason: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Args)]
struct RollbackArgs {
    /// The promotion policy (JSON).
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
    /// The store directory (must exist).
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// The promoter's private key (file or `pkcs11:` URI).
    #[arg(long, value_name = "PROMOTER_KEY")]
    key: PathBuf,
    /// The environment to roll back.
    #[arg(long, value_name = "ENV", value_parser = NonEmptyStringValueParser::new())]
    environment: String,
    /// Why (recorded).
    #[arg(long, value_name = "TEXT", value_parser = NonEmptyStringValueParser::new())]
    reason: String,
    /// When, RFC 3339 [default: now].
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    time: Option<Timestamp>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Args)]
struct IncidentArgs {
    /// The store directory (must exist).
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// The signer's private key, a file or a `pkcs11:` URI (an `operator` or `promoter` key in the policy).
    #[arg(long, value_name = "KEY")]
    key: PathBuf,
    /// The environment the incident happened in.
    #[arg(long, value_name = "ENV", value_parser = NonEmptyStringValueParser::new())]
    environment: String,
    #[command(flatten)]
    subject: SubjectArgs,
    /// What happened.
    #[arg(long, value_name = "TEXT", value_parser = NonEmptyStringValueParser::new())]
    summary: String,
    /// When it was opened, RFC 3339 [default: now].
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    opened: Option<Timestamp>,
    /// When service was restored, RFC 3339.
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    resolved: Option<Timestamp>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Human-readable lines.
    Text,
    /// JSON: {"verified": bool, "checks": [{name, passed, reason}], "record": ...}.
    Json,
}

/// Why the run did not end with "done".
enum Failure {
    /// Exit 2: bad usage or unreadable / malformed input.
    Input(String),
    /// Exit 1: read fine, and refused (a gate, a lost race).
    Refused(String),
}

impl From<String> for Failure {
    fn from(reason: String) -> Self {
        Self::Input(reason)
    }
}

impl From<custodia::Error> for Failure {
    fn from(e: custodia::Error) -> Self {
        Self::Input(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Keygen(args) => keygen(&args),
        Command::Pubkey(args) => pubkey(&args),
        Command::Digest(args) => digest(&args),
        #[cfg(feature = "oci")]
        Command::Attach(args) => oci::attach(&args),
        Command::Sign(args) => sign(&args),
        Command::DemoStatement(args) => demo_statement(&args),
        Command::Provenance(args) => provenance(&args),
        Command::Sbom(args) => sbom::sbom(&args),
        Command::StorePut(args) => store_put(&args),
        Command::Approve(args) => approve(&args),
        Command::Promote(args) => promote_cmd(&args),
        Command::Rollback(args) => rollback_cmd(&args),
        Command::Incident(args) => incident(&args),
        Command::Witness(args) => witness_cmd(&args),
        Command::TestResult(args) => evidence::test_result(&args),
        Command::Vulns(args) => evidence::vulns(&args),
        Command::Vex(args) => evidence::vex(&args),
    };
    let (code, reason) = match result {
        Ok(()) => return ExitCode::SUCCESS,
        Err(Failure::Refused(reason)) => (1, reason),
        Err(Failure::Input(reason)) => (2, reason),
    };
    let _ = writeln!(io::stderr(), "error: {}", one_line(&reason));
    ExitCode::from(code)
}

fn keygen(args: &KeygenArgs) -> Result<(), Failure> {
    let key_path = with_suffix(&args.out, ".key");
    let pub_path = with_suffix(&args.out, ".pub");
    if let Some(uri) = &args.pkcs11 {
        if pub_path.exists() {
            return Err(format!(
                "{}: already exists; not overwriting a key",
                pub_path.display()
            )
            .into());
        }
        let key = custodia::pkcs11::generate_on_token(uri, args.algorithm.key_algorithm())
            .map_err(|e| e.to_string())?;
        write_new_file(&pub_path, key.public_key().to_pem().as_bytes(), false)?;
        return print_stdout(format!("{}\n", key.public_key().key_id()).as_bytes());
    }
    for path in [&key_path, &pub_path] {
        if path.exists() {
            return Err(
                format!("{}: already exists; not overwriting a key", path.display()).into(),
            );
        }
    }
    let key = PrivateKey::generate(args.algorithm.key_algorithm()).map_err(|e| e.to_string())?;
    write_new_file(&key_path, key.to_pem().as_bytes(), true)?;
    if let Err(e) = write_new_file(&pub_path, key.public_key().to_pem().as_bytes(), false) {
        let _ = fs::remove_file(&key_path);
        return Err(e);
    }
    print_stdout(format!("{}\n", key.key_id()).as_bytes())
}

fn pubkey(args: &PubkeyArgs) -> Result<(), Failure> {
    let key = read_private_key(&args.key)?;
    print_stdout(key.public_key().to_pem().as_bytes())
}

fn digest(args: &DigestArgs) -> Result<(), Failure> {
    if let Some(spec) = &args.oci_layout {
        #[cfg(feature = "oci")]
        return oci::digest(spec);
        #[cfg(not(feature = "oci"))]
        return Err(format!("--oci-layout {spec}: needs custodia's `oci` feature").into());
    }
    let mut failures = Vec::new();
    for path in &args.paths {
        match digest_path(path, args.algorithm) {
            Ok(d) => print_stdout(checksum_line(&d, path).as_bytes())?,
            Err(Failure::Input(reason) | Failure::Refused(reason)) => failures.push(reason),
        }
    }
    // Every path is tried; each failure gets its own line, the last one
    // through the common exit path.
    let last = failures.pop();
    for reason in &failures {
        let _ = writeln!(io::stderr(), "error: {}", one_line(reason));
    }
    last.map_or(Ok(()), |reason| Err(reason.into()))
}

fn sign(args: &SignArgs) -> Result<(), Failure> {
    let key = read_private_key(&args.key)?;
    let input = read_file(&args.input, MAX_ENVELOPE_BYTES as u64)?;
    let mut envelope = if args.append {
        Envelope::from_json(&input).map_err(|e| format!("{}: {e}", args.input.display()))?
    } else {
        Envelope::unsigned(args.payload_type.clone(), input)
    };
    if envelope.payload_type() == PAYLOAD_TYPE {
        Statement::from_json(envelope.payload()).map_err(|e| {
            format!(
                "{}: not a valid in-toto statement, refusing to sign it: {e}",
                args.input.display()
            )
        })?;
    }
    // The library refuses a second signature by a key already in the
    // envelope (verification would reject it), however the first was hinted.
    envelope.add_signature(&key).map_err(|e| match e {
        custodia::Error::Dsse(custodia::error::DsseError::AlreadySigned(_)) => {
            format!("{}: {e}", args.input.display())
        }
        other => other.to_string(),
    })?;
    let mut json = envelope.to_json()?;
    if json.len() > MAX_ENVELOPE_BYTES {
        return Err(format!(
            "the envelope would be {} bytes, over the {MAX_ENVELOPE_BYTES}-byte limit verifiers accept",
            json.len()
        )
        .into());
    }
    json.push(b'\n');
    write_output(args.output.as_deref(), &json)
}

fn demo_statement(args: &DemoArgs) -> Result<(), Failure> {
    let subjects = args
        .subject
        .iter()
        .map(|path| {
            let digest = digest_path(path, DigestAlgorithm::Sha256)?;
            let name = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            Ok(ResourceDescriptor::new(name, digest.to_set()))
        })
        .collect::<Result<Vec<_>, Failure>>()?;
    let statement = Statement::new_untyped(
        subjects,
        args.predicate_type.clone(),
        serde_json::json!({
            "note": "demo statement written by `attest demo-statement`; it asserts nothing",
        }),
    )
    .map_err(|e| e.to_string())?;
    let mut json = statement.to_json()?;
    json.push(b'\n');
    write_output(args.output.as_deref(), &json)
}

fn provenance(args: &ProvenanceArgs) -> Result<(), Failure> {
    let ctx = if args.from_env {
        BuildContext::from_env()
    } else {
        BuildContext::new(args.builder_id.clone())
    };
    let mut ctx = ctx.with_builder_id(args.builder_id.clone());
    if let Some(build_type) = &args.build_type {
        ctx = ctx.with_build_type(build_type.clone());
    }
    if let Some(uri) = &args.source_uri {
        // The environment's ref and commit stay only if it names the same
        // repository; another repository's commit would be a false claim.
        let same = |s: &SourceRef| normalize_repository(&s.repository) == normalize_repository(uri);
        let mut source = match ctx.source.take().filter(same) {
            Some(source) => source,
            None => SourceRef::new(String::new()),
        };
        source.repository = uri.clone();
        ctx.source = Some(source);
    }
    if args.source_ref.is_some() || args.source_commit.is_some() {
        let Some(source) = ctx.source.as_mut() else {
            return Err(format!(
                "{} needs --source-uri{}",
                if args.source_ref.is_some() {
                    "--source-ref"
                } else {
                    "--source-commit"
                },
                if args.from_env {
                    " (the environment names no source repository)"
                } else {
                    ""
                }
            )
            .into());
        };
        if let Some(git_ref) = &args.source_ref {
            source.git_ref = Some(git_ref.clone());
        }
        if let Some(commit) = &args.source_commit {
            // The library's check, here so that the error names the flag.
            DigestSet::new()
                .insert_raw("gitCommit", commit)
                .map_err(|e| format!("--source-commit: {e}"))?;
            source.commit = Some(commit.clone());
        }
    }
    if let Some(id) = &args.invocation_id {
        ctx.invocation_id = Some(id.clone());
    }
    for path in &args.subject {
        // The library's errors name the path.
        ctx = ctx.with_subject_path(path).map_err(|e| e.to_string())?;
    }
    let statement = ctx.to_statement().map_err(|e| e.to_string())?;
    // The library's bytes as they are: reproducible, and exactly what
    // `attest sign` will sign.
    write_output(args.output.as_deref(), &statement.to_json()?)
}

fn store_put(args: &StorePutArgs) -> Result<(), Failure> {
    let store = DirStore::open(&args.dir).map_err(|e| e.to_string())?;
    let mut failures = Vec::new();
    for path in &args.files {
        match put_envelope(&store, path) {
            Ok(d) => print_stdout(checksum_line(&d, path).as_bytes())?,
            Err(Failure::Input(reason) | Failure::Refused(reason)) => failures.push(reason),
        }
    }
    let last = failures.pop();
    for reason in &failures {
        let _ = writeln!(io::stderr(), "error: {}", one_line(reason));
    }
    last.map_or(Ok(()), |reason| Err(reason.into()))
}

/// Stores one evidence file's bytes as they are (so its digest is the
/// file's sha256): a DSSE envelope, or a Sigstore bundle holding one.
fn put_envelope(store: &DirStore, path: &Path) -> Result<Digest, Failure> {
    let bytes = read_file(path, MAX_ENVELOPE_BYTES as u64)?;
    custodia::policy::EvidenceEnvelope::from_bytes(&bytes).map_err(|e| {
        format!(
            "{}: not a DSSE envelope (or a Sigstore bundle holding one): {e}",
            path.display()
        )
    })?;
    store.put(&bytes).map_err(|e| e.to_string().into())
}

fn approve(args: &ApproveArgs) -> Result<(), Failure> {
    let key = read_private_key(&args.key)?;
    let (name, artifact) = subject_of(&args.subject)?;
    let mut approval = Approval::new(
        args.environment.clone(),
        args.time.unwrap_or_else(Timestamp::now),
    );
    approval.comment = args.comment.clone();
    let statement = Statement::new(vec![ResourceDescriptor::new(name, artifact)], &approval)
        .map_err(|e| e.to_string())?;
    let mut json = Envelope::sign(PAYLOAD_TYPE, statement.to_json()?, &key)
        .map_err(|e| e.to_string())?
        .to_json()?;
    json.push(b'\n');
    if let Some(path) = &args.output {
        write_output(Some(path), &json)?;
    }
    match (&args.dir, &args.output) {
        (Some(dir), output) => {
            let digest = DirStore::open(dir)
                .and_then(|store| store.put(&json))
                .map_err(|e| e.to_string())?;
            let line = match output {
                Some(path) => format!("{digest}  {}\n", path.display()),
                None => format!("{digest}\n"),
            };
            print_stdout(line.as_bytes())
        }
        (None, Some(_)) => Ok(()),
        (None, None) => print_stdout(&json),
    }
}

fn promote_cmd(args: &PromoteArgs) -> Result<(), Failure> {
    let policy = load_policy(&args.policy)?;
    let store = open_store(&args.dir)?;
    let key = read_private_key(&args.key)?;
    let (_, artifact) = subject_of(&args.subject)?;
    let time = args.time.unwrap_or_else(Timestamp::now);
    let mut gate = GateRequest::new(artifact.clone(), args.from.as_deref(), &args.to, time);
    gate.author = args.author.clone();
    gate.reason = args.reason.clone();
    if args.emergency {
        gate.kind = PromotionKind::Emergency;
    }
    let mut lines = vec![format!(
        "promote {} {} -> {} at {time}{}",
        show_artifact(&artifact),
        args.from.as_deref().unwrap_or("(build)"),
        args.to,
        if args.emergency { " (EMERGENCY)" } else { "" }
    )];
    let evidence = if args.evidence.is_empty() {
        let found = evidence_about(&store, &artifact).map_err(|e| e.to_string())?;
        lines.push(format!(
            "evidence: the {} envelope(s) in the store about this artifact",
            found.len()
        ));
        found
    } else {
        args.evidence.clone()
    };
    let mut request = PromotionRequest::new(gate, evidence.clone());
    request.commit_time = args.commit_time;
    let result = promote(&store, &policy, &request, &key);
    let mut fields = serde_json::Map::new();
    fields.insert("environment".into(), args.to.clone().into());
    fields.insert("artifact".into(), show_artifact(&artifact).into());
    fields.insert(
        "evidence".into(),
        evidence.iter().map(ToString::to_string).collect(),
    );
    conclude_promotion(result, args.format, &lines, fields, |p| {
        format!("PROMOTED: record {}", p.record)
    })
}

fn rollback_cmd(args: &RollbackArgs) -> Result<(), Failure> {
    let policy = load_policy(&args.policy)?;
    let store = open_store(&args.dir)?;
    let key = read_private_key(&args.key)?;
    let time = args.time.unwrap_or_else(Timestamp::now);
    let result = rollback(&store, &policy, &args.environment, time, &args.reason, &key);
    // The library's `Promoted` does not carry the artifact: read it back.
    let artifact = result
        .as_ref()
        .ok()
        .and_then(|p| record_artifact(&store, &p.record));
    let mut fields = serde_json::Map::new();
    fields.insert("environment".into(), args.environment.clone().into());
    fields.insert(
        "artifact".into(),
        artifact.as_ref().map(show_artifact).into(),
    );
    let lines = [format!("rollback `{}` at {time}", args.environment)];
    conclude_promotion(result, args.format, &lines, fields, |p| {
        format!(
            "ROLLED BACK `{}` to {}: record {}",
            args.environment,
            artifact.as_ref().map_or_else(String::new, show_artifact),
            p.record
        )
    })
}

fn incident(args: &IncidentArgs) -> Result<(), Failure> {
    let store = open_store(&args.dir)?;
    let key = read_private_key(&args.key)?;
    let (_, artifact) = subject_of(&args.subject)?;
    let opened = args.opened.unwrap_or_else(Timestamp::now);
    if let Some(resolved) = args.resolved {
        if resolved < opened {
            return Err(format!("--resolved {resolved} is before --opened {opened}").into());
        }
    }
    let mut incident = Incident::new(args.environment.clone(), opened, args.summary.clone());
    incident.resolved = args.resolved;
    let digest = record_incident(&store, &artifact, &incident, &key).map_err(|e| e.to_string())?;
    print_stdout(format!("{digest}\n").as_bytes())
}

fn witness_cmd(args: &WitnessArgs) -> Result<(), Failure> {
    let policy = load_policy(&args.policy)?;
    let store = open_store(&args.dir)?;
    let key = read_private_key(&args.key)?;
    let options = custodia::promotion::ValidationOptions::default();
    match custodia::promotion::witness(&store, &policy, &args.environment, &key, &options) {
        Ok(note) => {
            fs::write(&args.out, note.to_note())
                .map_err(|e| format!("{}: {e}", args.out.display()))?;
            print_stdout(
                format!(
                    "cosigned `{}` at {} record(s)\n",
                    args.environment,
                    note.checkpoint().length
                )
                .as_bytes(),
            )
        }
        Err(report) => Err(Failure::Refused(match report.first_failure() {
            Some(c) => format!("{}: {}", c.name, c.reason),
            None => "not cosigned".to_owned(),
        })),
    }
}

/// Prints a promotion's (or rollback's) report; exit 1 when the gate
/// refused or another promotion won the race, 2 for unreadable input.
fn conclude_promotion(
    result: Result<Promoted, PromotionError>,
    format: Format,
    lines: &[String],
    mut fields: serde_json::Map<String, serde_json::Value>,
    done: impl Fn(&Promoted) -> String,
) -> Result<(), Failure> {
    let (report, record, verdict) = match &result {
        Ok(p) => (&p.report, Some(p.record.to_string()), done(p)),
        Err(PromotionError::Refused(report)) => (report, None, "REFUSED".to_owned()),
        Err(e @ PromotionError::Store(custodia::Error::Store(StoreError::Conflict { .. }))) => {
            return Err(Failure::Refused(e.to_string()));
        }
        Err(e) => return Err(Failure::Input(e.to_string())),
    };
    let out = match format {
        Format::Json => {
            let mut json = match serde_json::to_value(report) {
                Ok(serde_json::Value::Object(map)) => map,
                _ => serde_json::Map::new(),
            };
            json.insert("record".into(), record.into());
            json.append(&mut fields);
            serde_json::to_string_pretty(&json)
                .map_err(|e| format!("serializing the report: {e}"))?
        }
        Format::Text => {
            let mut out = String::new();
            for line in lines {
                out.push_str(&one_line(line));
                out.push('\n');
            }
            out.push_str(&checks_text(report));
            out.push_str(&one_line(&verdict));
            out
        }
    };
    print_stdout(format!("{out}\n").as_bytes())?;
    match result {
        Ok(_) => Ok(()),
        Err(e) => Err(Failure::Refused(e.to_string())),
    }
}

/// The artifact a stored record is about.
fn record_artifact(store: &DirStore, record: &Digest) -> Option<DigestSet> {
    let bytes = store.get(record).ok()?;
    let envelope = Envelope::from_json(&bytes).ok()?;
    let statement = Statement::from_json(envelope.payload()).ok()?;
    statement.subject().first().map(|s| s.digest.clone())
}

fn show_artifact(artifact: &DigestSet) -> String {
    artifact
        .strongest()
        .map_or_else(|| "(no digest)".to_owned(), |d| d.to_string())
}

/// The subject's name and digests from --artifact or --digest.
fn subject_of(args: &SubjectArgs) -> Result<(String, DigestSet), Failure> {
    match (&args.artifact, &args.digest) {
        (Some(path), _) => {
            let digest = digest_path(path, DigestAlgorithm::Sha256)?;
            let name = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            Ok((name, digest.to_set()))
        }
        (None, Some(digest)) => Ok(("artifact".to_owned(), digest.to_set())),
        // clap's argument group makes this unreachable; still no panic.
        (None, None) => Err("needs --artifact or --digest".to_owned().into()),
    }
}

fn load_policy(path: &Path) -> Result<ActivePolicy, Failure> {
    let bytes = read_file(path, MAX_POLICY_BYTES)?;
    Policy::from_json(&bytes)
        .and_then(Policy::activate)
        .map_err(|e| format!("{}: {e}", path.display()).into())
}

/// An existing store directory (promotions need the evidence already in it).
fn open_store(dir: &Path) -> Result<DirStore, Failure> {
    if !dir.is_dir() {
        return Err(format!(
            "{}: no store there (not a directory; `attest store-put` creates one)",
            dir.display()
        )
        .into());
    }
    DirStore::open(dir).map_err(|e| e.to_string().into())
}

/// A directory's tree digest or a file's digest.
fn digest_path(path: &Path, algorithm: DigestAlgorithm) -> Result<Digest, Failure> {
    let meta = fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.is_dir() && algorithm != DigestAlgorithm::Sha256 {
        return Err(format!(
            "{}: is a directory; tree digests are sha256 only",
            path.display()
        )
        .into());
    }
    // SHA-256 (tree or file) with a progress bar on a terminal.
    let digest = if algorithm == DigestAlgorithm::Sha256 {
        progress::hash_path(path)
    } else {
        hash_file(algorithm, path)
    };
    digest.map_err(|e| e.to_string().into())
}

/// A private key file or a `pkcs11:` URI (the library tells them apart).
fn read_private_key(path: &Path) -> Result<SigningKey, Failure> {
    custodia::keys::load_signer(path).map_err(|e| match e {
        // A key file's content: say which file.
        custodia::Error::Key(_) => format!("{}: {e}", path.display()).into(),
        // Reading errors name the file; PKCS#11 errors name the URI
        // without its PIN (the argument itself may hold one).
        e => e.to_string().into(),
    })
}

/// Reads a regular file of at most `limit` bytes (`custodia::fsread`): a
/// longer file, a FIFO, a device or a symbolic link is refused (exit 2).
fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>, Failure> {
    custodia::fsread::read(path, custodia::fsread::Limit::new("file", limit))
        .map_err(|e| e.to_string().into())
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(prefix.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

/// Creates `path` (never overwriting); private files get mode 0600 on unix.
fn write_new_file(path: &Path, bytes: &[u8], private: bool) -> Result<(), Failure> {
    let fail = |e: io::Error| format!("{}: {e}", path.display());
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path).map_err(fail)?;
    file.write_all(bytes).map_err(fail)?;
    file.sync_all().map_err(fail)?;
    Ok(())
}

fn write_output(output: Option<&Path>, bytes: &[u8]) -> Result<(), Failure> {
    match output {
        Some(path) => fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()).into()),
        None => print_stdout(bytes),
    }
}

/// Writes to stdout without panicking on a closed pipe.
fn print_stdout(bytes: &[u8]) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| format!("writing to stdout: {e}").into())
}

/// `DIGEST  NAME\n` as sha256sum prints it: a name with a backslash, a
/// newline or a carriage return (or another control character, line
/// separator or bidi override) is escaped (`\\`, `\n`, `\r`, `\u{1b}`)
/// and the line starts with `\`, so a file name can never forge a line.
fn checksum_line(digest: &Digest, path: &Path) -> String {
    let name = path.display().to_string();
    let special = |c: char| {
        c == '\\'
            || c.is_control()
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !name.chars().any(special) {
        return format!("{digest}  {name}\n");
    }
    let escaped: String = name
        .chars()
        .map(|c| match c {
            '\\' => "\\\\".to_owned(),
            '\n' => "\\n".to_owned(),
            '\r' => "\\r".to_owned(),
            c if special(c) => c.escape_unicode().to_string(),
            c => c.to_string(),
        })
        .collect();
    format!("\\{digest}  {escaped}\n")
}

fn parse_digest_algorithm(s: &str) -> Result<DigestAlgorithm, String> {
    s.parse().map_err(|e: custodia::Error| e.to_string())
}

fn parse_digest(s: &str) -> Result<Digest, String> {
    s.parse().map_err(|e: custodia::Error| e.to_string())
}

/// A store key: envelopes are stored under their SHA-256.
fn parse_store_digest(s: &str) -> Result<Digest, String> {
    let digest = parse_digest(s)?;
    if digest.algorithm() != DigestAlgorithm::Sha256 {
        return Err("stored envelopes are named by sha256:HEX".to_owned());
    }
    Ok(digest)
}

fn parse_time(s: &str) -> Result<Timestamp, String> {
    s.parse().map_err(|e: custodia::Error| e.to_string())
}
