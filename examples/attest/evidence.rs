//! `attest test-result`, `attest vulns`, `attest vex`: real CI tool outputs
//! (JUnit XML, scanner reports, VEX documents) as unsigned in-toto
//! statements about an artifact, ready for `attest sign`. Reading and
//! converting is `custodia::evidence`'s.

use std::fs;
use std::path::{Path, PathBuf};

use clap::{ArgGroup, Args};
use custodia::digest::{Digest, DigestAlgorithm};
use custodia::evidence::convert;
use custodia::evidence::junit::{JunitReport, KeepCases};
use custodia::evidence::scan::{ScanFormat, ScanReport};
use custodia::evidence::vex::{VexDocument, VexFormat};
use custodia::resource::ResourceDescriptor;
use custodia::statement::Statement;
use custodia::time::Timestamp;

use super::{Failure, digest_path, parse_digest, read_file, write_output};

/// Scanner reports and VEX documents are read whole; larger ones are refused.
const MAX_REPORT_BYTES: u64 = 1024 * 1024 * 1024;

/// The artifact the statement is about.
#[derive(Args)]
#[command(group(ArgGroup::new("about").args(["subject", "digest"]).required(true).multiple(false)))]
pub(crate) struct About {
    /// The artifact (a directory: its tree digest).
    #[arg(long, visible_alias = "artifact", value_name = "PATH")]
    subject: Option<PathBuf>,
    /// The artifact's digest instead, as ALG:HEX.
    #[arg(long, value_name = "ALG:HEX", value_parser = parse_digest)]
    digest: Option<Digest>,
}

impl About {
    fn descriptor(&self) -> Result<ResourceDescriptor, Failure> {
        match (&self.subject, &self.digest) {
            (Some(path), _) => {
                let digest = digest_path(path, DigestAlgorithm::Sha256)?;
                Ok(ResourceDescriptor::new(file_name(path), digest.to_set()))
            }
            (None, Some(d)) => Ok(ResourceDescriptor::new("artifact", d.to_set())),
            (None, None) => Err("needs --subject or --digest".to_owned().into()),
        }
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn now() -> Result<Timestamp, Failure> {
    Ok(Timestamp::source_date_epoch()
        .map_err(|e| e.to_string())?
        .unwrap_or_else(Timestamp::now))
}

/// `attest test-result`.
#[derive(Args)]
pub(crate) struct TestResultArgs {
    /// JUnit XML report(s) (cargo-nextest, pytest, Surefire, Jest,
    /// go-junit-report, PHPUnit); repeat or list several.
    #[arg(long, required = true, num_args = 1.., value_name = "FILE")]
    junit: Vec<PathBuf>,
    #[command(flatten)]
    about: About,
    /// Where the run can be seen (the predicate's `url`).
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// Name only the failed, errored, skipped and flaky tests (the first
    /// 10,000); plain passes are counted, not listed. For large suites.
    #[arg(long)]
    counts_only: bool,
    /// Write the statement here instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
}

pub(crate) fn test_result(args: &TestResultArgs) -> Result<(), Failure> {
    let names: Vec<String> = args.junit.iter().map(|p| file_name(p)).collect();
    let mut runs = Vec::new();
    for (path, name) in args.junit.iter().zip(&names) {
        let file = fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let keep = if args.counts_only {
            KeepCases::not_passed()
        } else {
            KeepCases::All
        };
        let run = JunitReport::from_reader_keeping(file, keep)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        runs.push((name.as_str(), run));
    }
    let mut predicate = convert::into_test_result(runs, Some(now()?));
    predicate.url.clone_from(&args.url);
    let statement =
        Statement::new(vec![args.about.descriptor()?], &predicate).map_err(|e| e.to_string())?;
    write_output(args.output.as_deref(), &statement.to_json()?)
}

/// `attest vulns`.
#[derive(Args)]
pub(crate) struct VulnsArgs {
    /// The scanner's report (Trivy/Grype/OSV-Scanner/cargo-audit JSON, or SARIF 2.1.0).
    #[arg(long, value_name = "FILE")]
    report: PathBuf,
    /// The report's format; detected from its content when omitted.
    #[arg(long, value_name = "trivy|grype|osv|cargo-audit|sarif", value_parser = parse_scan_format)]
    report_format: Option<ScanFormat>,
    #[command(flatten)]
    about: About,
    /// Write the statement here instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
}

fn parse_scan_format(s: &str) -> Result<ScanFormat, String> {
    s.parse().map_err(|e: custodia::Error| e.to_string())
}

pub(crate) fn vulns(args: &VulnsArgs) -> Result<(), Failure> {
    let path = &args.report;
    let bytes = read_file(path, MAX_REPORT_BYTES)?;
    let scan = ScanReport::from_slice(&bytes, args.report_format)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let predicate = convert::vulns(&scan, &file_name(path), Some(now()?))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let statement =
        Statement::new(vec![args.about.descriptor()?], &predicate).map_err(|e| e.to_string())?;
    write_output(args.output.as_deref(), &statement.to_json()?)
}

/// `attest vex`.
#[derive(Args)]
#[command(group(ArgGroup::new("document").args(["openvex", "cyclonedx", "csaf"]).required(true).multiple(false)))]
pub(crate) struct VexArgs {
    /// An OpenVEX document.
    #[arg(long, value_name = "FILE")]
    openvex: Option<PathBuf>,
    /// A CycloneDX VEX document (`vulnerabilities[].analysis`).
    #[arg(long, value_name = "FILE")]
    cyclonedx: Option<PathBuf>,
    /// A CSAF 2.0 VEX document.
    #[arg(long, value_name = "FILE")]
    csaf: Option<PathBuf>,
    #[command(flatten)]
    about: About,
    /// Write the statement here instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
}

pub(crate) fn vex(args: &VexArgs) -> Result<(), Failure> {
    let (path, format) = match (&args.openvex, &args.cyclonedx, &args.csaf) {
        (Some(p), _, _) => (p, VexFormat::OpenVex),
        (_, Some(p), _) => (p, VexFormat::CycloneDx),
        (_, _, Some(p)) => (p, VexFormat::Csaf),
        _ => return Err("needs --openvex, --cyclonedx or --csaf".to_owned().into()),
    };
    let bytes = read_file(path, MAX_REPORT_BYTES)?;
    let doc = VexDocument::from_slice(&bytes, Some(format))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let predicate = convert::openvex(&doc);
    let statement =
        Statement::new(vec![args.about.descriptor()?], &predicate).map_err(|e| e.to_string())?;
    write_output(args.output.as_deref(), &statement.to_json()?)
}
