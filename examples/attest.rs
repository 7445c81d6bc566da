//! `attest`: the producer side of custodia on the command line.
//!
//! ```text
//! attest keygen --algorithm ed25519 --out builder
//! attest demo-statement --subject app.tar.gz -o statement.json
//! attest sign --key builder.key --in statement.json -o envelope.json
//! attest digest app.tar.gz dist/
//! attest provenance --subject app.tar.gz --builder-id https://ci.acme.dev/builders/linux@v2 \
//!     --from-env -o provenance.json
//! ```
//!
//! Exit codes: 0 done, 2 bad usage or unreadable / malformed input (one
//! `error: ...` line on stderr). Every decision (formats, validation,
//! limits) is the library's; this file only reads files, calls custodia and
//! writes the result.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::builder::NonEmptyStringValueParser;
use clap::{Args, Parser, Subcommand, ValueEnum};
use custodia::digest::{Digest, DigestAlgorithm, DigestSet, hash_file, hash_tree};
use custodia::dsse::{Envelope, MAX_ENVELOPE_BYTES};
use custodia::keys::{KeyAlgorithm, KeySet, PrivateKey};
use custodia::predicate::slsa_provenance::normalize_repository;
use custodia::provenance::{BuildContext, SourceRef};
use custodia::resource::ResourceDescriptor;
use custodia::statement::{PAYLOAD_TYPE, Statement};

/// Key files are small (an RSA-8192 PKCS#8 PEM is under 7 KiB); anything
/// much larger is not a key and is refused before it is read whole.
const MAX_KEY_FILE_BYTES: u64 = 1024 * 1024;

/// The predicate type of `demo-statement`.
const DEMO_PREDICATE_TYPE: &str = "https://custodia.dev/attestation/demo/v1";

/// Make keys, digests and signed in-toto attestations (DSSE envelopes).
#[derive(Parser)]
#[command(name = "attest", version, about, long_about = None)]
#[command(after_help = "\
Exit codes: 0 done, 2 bad usage or unreadable / malformed input.

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
      --builder-id https://ci.acme.dev/builders/linux --source-uri github.com/acme/app")]
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
  # writes ci-builder.key and ci-builder.pub, prints the key id")]
    Keygen(KeygenArgs),
    /// Print the digest of files (`sha256:<hex>  PATH`) or directory trees.
    #[command(after_help = "\
Example:
  attest digest app.tar.gz dist/
  attest digest --algorithm sha512 app.tar.gz

A directory gets the deterministic tree digest (sha256 only): the sha256 of
the `sha256sum`-style listing of every regular file below it, sorted by path.")]
    Digest(DigestArgs),
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
}

#[derive(Args)]
struct KeygenArgs {
    /// Key algorithm.
    #[arg(long, value_enum)]
    algorithm: KeygenAlgorithm,
    /// Path prefix of the files to write (PREFIX.key, PREFIX.pub); existing files are not overwritten.
    #[arg(long, value_name = "PREFIX")]
    out: PathBuf,
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
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
}

#[derive(Args)]
struct SignArgs {
    /// Private key (PKCS#8 PEM, as `attest keygen` writes).
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

/// A one-line reason for exit code 2.
struct Failure(String);

impl From<String> for Failure {
    fn from(reason: String) -> Self {
        Self(reason)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Keygen(args) => keygen(&args),
        Command::Digest(args) => digest(&args),
        Command::Sign(args) => sign(&args),
        Command::DemoStatement(args) => demo_statement(&args),
        Command::Provenance(args) => provenance(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(reason)) => {
            let _ = writeln!(io::stderr(), "error: {}", one_line(&reason));
            ExitCode::from(2)
        }
    }
}

fn keygen(args: &KeygenArgs) -> Result<(), Failure> {
    let key_path = with_suffix(&args.out, ".key");
    let pub_path = with_suffix(&args.out, ".pub");
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

fn digest(args: &DigestArgs) -> Result<(), Failure> {
    let mut failures = Vec::new();
    for path in &args.paths {
        match digest_path(path, args.algorithm) {
            Ok(d) => print_stdout(format!("{d}  {}\n", path.display()).as_bytes())?,
            Err(Failure(reason)) => failures.push(reason),
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
    if args.append {
        // Appending the same key twice would make verification fail (a key
        // that signs twice is rejected), so refuse it here.
        let mine: KeySet = [key.public_key().clone()].into_iter().collect();
        let already = envelope
            .verify(&mine, 1)
            .is_ok_and(|v| !v.accepted_keys().is_empty());
        if already {
            return Err(format!(
                "{}: already signed by key {}",
                args.input.display(),
                key.key_id()
            )
            .into());
        }
    }
    envelope.add_signature(&key).map_err(|e| e.to_string())?;
    let mut json = envelope.to_json();
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
    let mut json = statement.to_json();
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
    write_output(args.output.as_deref(), &statement.to_json())
}

/// A directory's tree digest or a file's digest.
fn digest_path(path: &Path, algorithm: DigestAlgorithm) -> Result<Digest, Failure> {
    let meta = fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let digest = if meta.is_dir() {
        if algorithm != DigestAlgorithm::Sha256 {
            return Err(format!(
                "{}: is a directory; tree digests are sha256 only",
                path.display()
            )
            .into());
        }
        hash_tree(path)
    } else {
        hash_file(algorithm, path)
    };
    digest.map_err(|e| e.to_string().into())
}

fn read_private_key(path: &Path) -> Result<PrivateKey, Failure> {
    let bytes = read_file(path, MAX_KEY_FILE_BYTES)?;
    let pem = String::from_utf8(bytes)
        .map_err(|_| format!("{}: not a PEM private key (not text)", path.display()))?;
    PrivateKey::from_pem(&pem).map_err(|e| format!("{}: {e}", path.display()).into())
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

/// Escapes control characters so a reason stays on one line and cannot
/// drive the terminal.
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

fn parse_digest_algorithm(s: &str) -> Result<DigestAlgorithm, String> {
    s.parse().map_err(|e: custodia::Error| e.to_string())
}
