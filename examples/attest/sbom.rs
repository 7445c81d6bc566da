//! `attest sbom`: the SBOM of a Cargo project (from its lock file) or of a
//! compiled binary (from its `cargo auditable` data), as CycloneDX or SPDX,
//! optionally wrapped in an unsigned in-toto statement.

use std::path::{Path, PathBuf};

use clap::{ArgGroup, Args, ValueEnum};
use custodia::digest::hash_path;
use custodia::predicate::sbom::{SbomFormat, sbom_statement};
use custodia::resource::ResourceDescriptor;
use custodia::sbom::cargo::{CargoInput, from_cargo};
use custodia::sbom::cyclonedx::{self, CycloneDxVersion};
use custodia::sbom::{Sbom, spdx, spdx3};
use custodia::time::Timestamp;

use super::{Failure, MAX_POLICY_BYTES, read_file, write_output};

/// `attest sbom`'s arguments.
#[derive(Args)]
#[command(group(ArgGroup::new("input").args(["lockfile", "binary"]).required(true).multiple(true)))]
pub(crate) struct SbomArgs {
    /// The Cargo.lock to read (with --binary: the lock file to compare the
    /// binary's dependencies with; the difference goes to stderr).
    #[arg(long, value_name = "FILE")]
    lockfile: Option<PathBuf>,
    /// A binary built with `cargo auditable build`: its SBOM comes from the
    /// dependency list embedded in it, with the binary's digest on the root.
    #[arg(long, value_name = "FILE")]
    binary: Option<PathBuf>,
    /// The root Cargo.toml (the root component's name, version, license).
    #[arg(long, value_name = "FILE")]
    manifest: Option<PathBuf>,
    /// `cargo metadata --format-version 1` output to enrich components.
    #[arg(long, value_name = "FILE")]
    metadata: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum)]
    format: SbomOutput,
    /// Wrap the SBOM in an unsigned in-toto statement about these artifacts.
    #[arg(long, value_name = "PATH")]
    subject: Vec<PathBuf>,
    /// Write here instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum SbomOutput {
    /// CycloneDX 1.6 JSON (the default CycloneDX version).
    #[value(name = "cyclonedx-json")]
    CycloneDx16,
    /// CycloneDX 1.7 JSON.
    #[value(name = "cyclonedx-1.7-json")]
    CycloneDx17,
    /// CycloneDX 1.6 JSON.
    #[value(name = "cyclonedx-1.6-json")]
    CycloneDx16Named,
    /// CycloneDX 1.5 JSON.
    #[value(name = "cyclonedx-1.5-json")]
    CycloneDx15,
    /// SPDX 2.3 JSON.
    #[value(name = "spdx-json")]
    Spdx23,
    /// SPDX 3.0.1 JSON-LD.
    #[value(name = "spdx-3-json")]
    Spdx3,
}

fn lock_sbom(args: &SbomArgs, lockfile: &Path, time: Timestamp) -> Result<Sbom, Failure> {
    let read_text = |path: &Path| -> Result<String, Failure> {
        String::from_utf8(read_file(path, MAX_POLICY_BYTES)?)
            .map_err(|_| format!("{}: not UTF-8", path.display()).into())
    };
    let lock = read_text(lockfile)?;
    let manifest = args.manifest.as_deref().map(read_text).transpose()?;
    let metadata = args.metadata.as_deref().map(read_text).transpose()?;
    let mut input = CargoInput::new(&lock);
    if let Some(m) = &manifest {
        input = input.with_manifest(m);
    }
    if let Some(m) = &metadata {
        input = input.with_metadata(m);
    }
    Ok(from_cargo(&input, time).map_err(|e| e.to_string())?)
}

#[cfg(feature = "auditable")]
fn binary_sbom(path: &Path, time: Timestamp) -> Result<Sbom, Failure> {
    use custodia::sbom::binary::{Limits, from_binary};
    let limits = Limits::default();
    let bytes = read_file(path, limits.binary_bytes as u64)?;
    Ok(from_binary(&bytes, limits, time).map_err(|e| format!("{}: {e}", path.display()))?)
}

#[cfg(not(feature = "auditable"))]
fn binary_sbom(_: &Path, _: Timestamp) -> Result<Sbom, Failure> {
    Err("--binary needs custodia's `auditable` feature"
        .to_owned()
        .into())
}

/// The difference between a binary's SBOM and the lock file's, on stderr.
#[cfg(feature = "auditable")]
fn report_difference(binary: &Sbom, lock: &Sbom) {
    let d = custodia::sbom::binary::compare(binary, lock);
    eprintln!(
        "binary vs lock file: {} (only in the binary: {}; in the lock file's graph of {}, not in the binary: {}; locked outside that graph: {}; edges only in the binary: {}, only in the lock file: {})",
        if d.is_same_graph() {
            "same packages and edges"
        } else {
            "different"
        },
        d.only_in_binary.len(),
        binary.root.name,
        d.only_in_lock_graph.len(),
        d.outside_root_graph.len(),
        d.edges_only_in_binary.len(),
        d.edges_only_in_lock.len(),
    );
    for k in &d.only_in_binary {
        eprintln!("  only in the binary: {k}");
    }
    for k in &d.only_in_lock_graph {
        eprintln!("  not in the binary: {k}");
    }
    for (a, b) in &d.edges_only_in_binary {
        eprintln!("  edge only in the binary: {a} -> {b}");
    }
    for (a, b) in &d.edges_only_in_lock {
        eprintln!("  edge only in the lock file: {a} -> {b}");
    }
}

#[cfg(not(feature = "auditable"))]
fn report_difference(_: &Sbom, _: &Sbom) {}

pub(crate) fn sbom(args: &SbomArgs) -> Result<(), Failure> {
    let time = Timestamp::source_date_epoch()
        .map_err(|e| e.to_string())?
        .unwrap_or_else(Timestamp::now);
    let model = match (&args.binary, &args.lockfile) {
        (Some(binary), lock) => {
            let model = binary_sbom(binary, time)?;
            if let Some(lock) = lock {
                report_difference(&model, &lock_sbom(args, lock, time)?);
            }
            model
        }
        (None, Some(lock)) => lock_sbom(args, lock, time)?,
        (None, None) => return Err("--lockfile or --binary is required".to_owned().into()),
    };
    let (format, document) = match args.format {
        SbomOutput::CycloneDx16 | SbomOutput::CycloneDx16Named => (
            SbomFormat::CycloneDx,
            cyclonedx::to_json(&model, CycloneDxVersion::V1_6).map_err(|e| e.to_string())?,
        ),
        SbomOutput::CycloneDx17 => (
            SbomFormat::CycloneDx,
            cyclonedx::to_json(&model, CycloneDxVersion::V1_7).map_err(|e| e.to_string())?,
        ),
        SbomOutput::CycloneDx15 => (
            SbomFormat::CycloneDx,
            cyclonedx::to_json(&model, CycloneDxVersion::V1_5).map_err(|e| e.to_string())?,
        ),
        SbomOutput::Spdx23 => (
            SbomFormat::Spdx,
            spdx::to_json(&model).map_err(|e| e.to_string())?,
        ),
        SbomOutput::Spdx3 => (
            SbomFormat::Spdx3,
            spdx3::to_json(&model).map_err(|e| e.to_string())?,
        ),
    };
    if args.subject.is_empty() {
        return write_output(args.output.as_deref(), &document);
    }
    let mut subjects = Vec::new();
    for path in &args.subject {
        let digest = hash_path(path).map_err(|e| e.to_string())?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        subjects.push(ResourceDescriptor::new(name, digest.to_set()));
    }
    let statement = sbom_statement(subjects, format, &document).map_err(|e| e.to_string())?;
    write_output(args.output.as_deref(), &statement.to_json()?)
}
