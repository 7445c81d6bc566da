//! Evidence readers on large inputs, each against a plain parse of the same
//! bytes in the same run:
//!
//! ```text
//! cargo bench --bench evidence
//! ```
//!
//! * `trivy_50mb/custodia_read_and_convert`: a 50 MB Trivy JSON report
//!   (generated here: one image, ~33,000 findings with Trivy's fields)
//!   read by `ScanReport::from_slice` (strict: duplicate members checked)
//!   and converted to the vulns v0.2 predicate; baseline
//!   `trivy_50mb/serde_json_value`: `serde_json::from_slice::<Value>`.
//! * `grype_50mb/...`: the same for a 50 MB Grype JSON report (the real
//!   Grype 0.66 report in tests/conformance, its matches repeated with
//!   distinct ids up to 50 MB).
//! * `junit_100k/custodia_all_read_and_convert`: a JUnit file of 100,000
//!   test cases (1% failed with a message and output, 2% skipped) streamed
//!   from disk by `JunitReport::from_reader` (every case kept) and
//!   converted to the test-result predicate (every case named) by
//!   `convert::into_test_result`, as `attest test-result` does;
//!   `junit_100k/custodia_counts_read_and_convert`: the same read with
//!   `KeepCases::not_passed()` (counts, and only the failed, errored,
//!   skipped and flaky cases named); baselines `junit_100k/quick_xml_events`:
//!   a bare quick-xml event loop over the same file counting `<testcase>`
//!   (attributes never read: quick-xml reads them lazily), and
//!   `junit_100k/quick_xml_events_and_attributes`: the same loop reading
//!   every attribute of every start tag; reference
//!   `junit_100k/sha256_of_file`: the digest every conversion records.
//!
//! Times are the benchmark thread's CPU time (`/proc/thread-self/schedstat`,
//! nanoseconds on a CPU), not wall time: on a shared, loaded machine a
//! process waits for a CPU for much of its wall time, and that wait is not
//! the reader's. `EVIDENCE_BENCH_CLOCK=wall` (or a system without the file)
//! measures wall time instead.
//!
//! Peak memory (the rise in the process's peak resident set, reset through
//! `/proc/self/clear_refs` before each run; Linux only) is printed once per
//! input, beside the file size. In test mode (`-- --test`) the inputs are
//! 1% of those sizes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::fmt::Write as _;
use std::hint::black_box;
use std::io::BufReader;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use custodia::evidence::convert;
use custodia::evidence::junit::{JunitReport, KeepCases};
use custodia::evidence::scan::ScanReport;
use custodia::predicate::test_result::TestResult;

const REPORT_BYTES: usize = 50 * 1024 * 1024;
const JUNIT_CASES: usize = 100_000;

/// Criterion's test mode runs each function once: small inputs then.
fn scale() -> usize {
    if std::env::args().any(|a| a == "--test") {
        100
    } else {
        1
    }
}

/// The thread's CPU time in nanoseconds, where Linux reports it.
fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// CPU time of the measuring thread (wall time where unavailable or asked for).
struct CpuTime {
    wall: bool,
}

impl CpuTime {
    fn new() -> Self {
        let wall = std::env::var("EVIDENCE_BENCH_CLOCK").is_ok_and(|v| v == "wall")
            || thread_cpu_ns().is_none();
        eprintln!(
            "evidence bench clock: {}",
            if wall { "wall time" } else { "thread CPU time" }
        );
        Self { wall }
    }
}

static WALL: WallTime = WallTime;

impl Measurement for CpuTime {
    type Intermediate = (Instant, u64);
    type Value = u64;

    fn start(&self) -> Self::Intermediate {
        (
            Instant::now(),
            if self.wall {
                0
            } else {
                thread_cpu_ns().unwrap()
            },
        )
    }
    fn end(&self, (wall, cpu): Self::Intermediate) -> u64 {
        if self.wall {
            wall.elapsed().as_nanos() as u64
        } else {
            thread_cpu_ns().unwrap() - cpu
        }
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        WALL.formatter()
    }
}

fn trivy_report() -> Vec<u8> {
    let description = "A flaw was found in the parser: a crafted input can cause excessive memory \
        use or a crash of the process reading it. Fixed upstream; see the references for details. "
        .repeat(3);
    let mut vulns = String::new();
    let mut i = 0usize;
    while vulns.len() < REPORT_BYTES / scale() - 4096 {
        if i > 0 {
            vulns.push(',');
        }
        let (pkg, sev) = (
            i % 700,
            ["LOW", "MEDIUM", "HIGH", "CRITICAL", "UNKNOWN"][i % 5],
        );
        write!(
            vulns,
            r#"{{"VulnerabilityID":"CVE-{}-{:05}","PkgID":"lib{pkg}@1.{pkg}.0-r0","PkgName":"lib{pkg}",
"PkgIdentifier":{{"PURL":"pkg:apk/alpine/lib{pkg}@1.{pkg}.0-r0?arch=x86_64&distro=3.19.1","UID":"{i:016x}"}},
"InstalledVersion":"1.{pkg}.0-r0","FixedVersion":"1.{pkg}.1-r0","Status":"fixed",
"Layer":{{"Digest":"sha256:9d48c3bd43c520dc2784e868a780e976b207cbf493eaff8c6596eb871cbd9609","DiffID":"sha256:03901b4a2ea88eeaad62dbe59b072b28b6efa00491962b8741081c5df50c65e0"}},
"SeveritySource":"nvd","PrimaryURL":"https://avd.aquasec.com/nvd/cve-{}-{:05}","DataSource":{{"ID":"alpine","Name":"Alpine Secdb","URL":"https://secdb.alpinelinux.org/"}},
"Title":"lib{pkg}: parser flaw","Description":"{description}","Severity":"{sev}","CweIDs":["CWE-400"],
"VendorSeverity":{{"nvd":2,"redhat":2}},"CVSS":{{"nvd":{{"V3Vector":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H","V3Score":7.5}}}},
"References":["https://nvd.nist.gov/vuln/detail/CVE-{}-{:05}","https://security.alpinelinux.org/vuln/CVE-{}-{:05}"],
"PublishedDate":"2023-01-09T10:15:10.447Z","LastModifiedDate":"2024-05-17T01:17:24.28Z"}}"#,
            2000 + i % 25,
            i,
            2000 + i % 25,
            i,
            2000 + i % 25,
            i,
            2000 + i % 25,
            i,
        )
        .unwrap();
        i += 1;
    }
    format!(
        r#"{{"SchemaVersion":2,"CreatedAt":"2024-05-01T12:00:00Z","ArtifactName":"registry.example/app:1.4","ArtifactType":"container_image",
"Metadata":{{"OS":{{"Family":"alpine","Name":"3.19.1"}}}},
"Results":[{{"Target":"registry.example/app:1.4 (alpine 3.19.1)","Class":"os-pkgs","Type":"alpine","Vulnerabilities":[{vulns}]}}]}}"#
    )
    .into_bytes()
}

/// The real Grype report's matches, repeated with distinct vulnerability
/// and artifact ids up to 50 MB.
fn grype_report() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance/evidence/vuln-scan/grype/keycloak-test.json");
    let mut doc: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let template = doc["matches"].as_array().unwrap().clone();
    let one: usize = template
        .iter()
        .map(|m| serde_json::to_vec(m).unwrap().len() + 1)
        .sum();
    let rounds = (REPORT_BYTES / scale()).div_ceil(one);
    let mut matches = Vec::with_capacity(rounds * template.len());
    for round in 0..rounds {
        for m in &template {
            let mut m = m.clone();
            let id = format!("CVE-{}-{round:05}", 2000 + round % 25);
            m["vulnerability"]["id"] = id.clone().into();
            m["matchDetails"][0]["found"]["vulnerabilityID"] = id.into();
            m["artifact"]["id"] = format!("{round:016x}").into();
            matches.push(m);
        }
    }
    doc["matches"] = matches.into();
    serde_json::to_vec(&doc).unwrap()
}

fn junit_report() -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"nextest-run\">\n",
    );
    for suite in 0..100 / scale() {
        writeln!(out, "  <testsuite name=\"crate_{suite}\" tests=\"1000\">").unwrap();
        for case in 0..JUNIT_CASES / 100 {
            let n = suite * 1000 + case;
            if n % 100 == 7 {
                write!(
                    out,
                    "    <testcase classname=\"crate_{suite}::module_{}\" name=\"test_{n:06}\" time=\"0.012\">\
<failure message=\"assertion `left == right` failed\" type=\"test failure\">thread 'test_{n:06}' panicked at src/lib.rs:{}:5:\n\
assertion `left == right` failed\n  left: 3\n right: 2</failure><system-out>running 1 test\ntest test_{n:06} ... FAILED\n</system-out></testcase>\n",
                    case % 17,
                    n % 900
                )
                .unwrap();
            } else if n % 50 == 3 {
                writeln!(
                    out,
                    "    <testcase classname=\"crate_{suite}::module_{}\" name=\"test_{n:06}\" time=\"0.000\"><skipped/></testcase>",
                    case % 17
                )
                .unwrap();
            } else {
                writeln!(
                    out,
                    "    <testcase classname=\"crate_{suite}::module_{}\" name=\"test_{n:06}\" time=\"0.004\"/>",
                    case % 17
                )
                .unwrap();
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn proc_status(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The rise of the peak resident set (KiB) while `f` runs, if measurable.
fn peak_rise_kib(f: impl FnOnce()) -> Option<u64> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    let before = proc_status("VmRSS:")?;
    f();
    let peak = proc_status("VmHWM:")?;
    Some(peak.saturating_sub(before))
}

/// A bare quick-xml event loop counting `<testcase>` (attributes not read).
fn plain_junit(path: &Path) -> usize {
    plain_junit_with(path, |_| {})
}

/// A quick-xml parse that also reads every attribute of every start tag
/// (duplicates checked, values unescaped), as any consumer of the data does.
fn plain_junit_attributes(path: &Path) -> usize {
    let mut values = 0usize;
    let cases = plain_junit_with(path, |e| {
        for attr in e.attributes() {
            let value = attr
                .unwrap()
                .normalized_value(quick_xml::XmlVersion::Implicit1_0);
            values += value.unwrap().len();
        }
    });
    black_box(values);
    cases
}

fn plain_junit_with(
    path: &Path,
    mut start: impl FnMut(&quick_xml::events::BytesStart<'_>),
) -> usize {
    let file = std::fs::File::open(path).unwrap();
    let mut reader = quick_xml::Reader::from_reader(BufReader::with_capacity(64 * 1024, file));
    let mut buf = Vec::new();
    let mut cases = 0;
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf).unwrap() {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                if e.name().as_ref() == "testcase" {
                    cases += 1;
                }
                start(&e);
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    cases
}

/// SHA-256 of the file, streamed (what the digest alone costs).
fn sha256_file(path: &Path) -> custodia::digest::Digest {
    let mut file = std::fs::File::open(path).unwrap();
    let mut hasher = custodia::digest::Hasher::new(custodia::digest::DigestAlgorithm::Sha256);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = std::io::Read::read(&mut file, &mut buf).unwrap();
        if n == 0 {
            break hasher.finish();
        }
        hasher.update(&buf[..n]);
    }
}

fn custodia_junit(path: &Path, keep: KeepCases) -> TestResult {
    let file = std::fs::File::open(path).unwrap();
    let run = JunitReport::from_reader_keeping(file, keep).unwrap();
    convert::into_test_result(vec![("junit.xml", run)], None)
}

fn report_memory(what: &str, size: usize, ours: Option<u64>, plain: Option<u64>) {
    match (ours, plain) {
        (Some(o), Some(p)) => eprintln!(
            "{what}: file {:.1} MiB; peak memory rise: custodia {:.1} MiB, plain parse {:.1} MiB",
            size as f64 / 1048576.0,
            o as f64 / 1024.0,
            p as f64 / 1024.0
        ),
        _ => {
            eprintln!("{what}: peak memory not measurable here (needs Linux /proc/self/clear_refs)")
        }
    }
}

fn bench_junit(c: &mut Criterion<CpuTime>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junit.xml");
    let xml = junit_report();
    std::fs::write(&path, &xml).unwrap();
    let size = xml.len();
    drop(xml);
    let cases = JUNIT_CASES / scale();
    let counts = KeepCases::not_passed();
    // Counts first: freed pages stay resident, so a smaller run after a
    // larger one would reuse its pages and show no rise.
    for (what, keep) in [
        ("junit_100k counts", counts),
        ("junit_100k all", KeepCases::All),
    ] {
        report_memory(
            what,
            size,
            peak_rise_kib(|| {
                black_box(custodia_junit(&path, keep));
            }),
            peak_rise_kib(|| {
                black_box(plain_junit(&path));
            }),
        );
    }
    let all = custodia_junit(&path, KeepCases::All);
    assert_eq!(all.passed_tests.len(), cases - cases / 100 - cases / 50);
    let summary = custodia_junit(&path, counts);
    assert!(summary.passed_tests.is_empty());
    assert_eq!(summary.failed_tests.len(), cases / 100);
    assert_eq!(summary.configuration[0].annotations["tests"], cases as u64);
    assert_eq!(plain_junit(&path), cases);
    assert_eq!(plain_junit_attributes(&path), cases);
    drop((all, summary));
    let mut group = c.benchmark_group("junit_100k");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(6));
    group.throughput(Throughput::Bytes(size as u64));
    group.bench_function("custodia_all_read_and_convert", |b| {
        b.iter(|| custodia_junit(black_box(&path), KeepCases::All));
    });
    group.bench_function("custodia_counts_read_and_convert", |b| {
        b.iter(|| custodia_junit(black_box(&path), counts));
    });
    group.bench_function("quick_xml_events", |b| {
        b.iter(|| plain_junit(black_box(&path)));
    });
    group.bench_function("quick_xml_events_and_attributes", |b| {
        b.iter(|| plain_junit_attributes(black_box(&path)));
    });
    group.bench_function("sha256_of_file", |b| {
        b.iter(|| sha256_file(black_box(&path)));
    });
    group.finish();
}

/// A scanner report read and converted against a `serde_json::Value`
/// parse of the same bytes.
fn bench_scan(c: &mut Criterion<CpuTime>, name: &str, report: &[u8], min_findings: usize) {
    let mut group = c.benchmark_group(name);
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Bytes(report.len() as u64));
    let findings = {
        let scan = ScanReport::from_slice(report, None).unwrap();
        scan.findings().len()
    };
    assert!(findings > min_findings / scale(), "{findings}");
    report_memory(
        name,
        report.len(),
        peak_rise_kib(|| {
            let scan = ScanReport::from_slice(report, None).unwrap();
            black_box(convert::vulns(&scan, "report.json", None).unwrap());
        }),
        peak_rise_kib(|| {
            black_box(serde_json::from_slice::<serde_json::Value>(report).unwrap());
        }),
    );
    group.bench_function("custodia_read_and_convert", |b| {
        b.iter(|| {
            let scan = ScanReport::from_slice(black_box(report), None).unwrap();
            convert::vulns(&scan, "report.json", None).unwrap()
        });
    });
    group.bench_function("serde_json_value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(report)).unwrap());
    });
    group.finish();
}

fn bench(c: &mut Criterion<CpuTime>) {
    // JUnit first: its memory is measured before the JSON phases have grown the heap.
    bench_junit(c);
    let trivy = trivy_report();
    bench_scan(c, "trivy_50mb", &trivy, 30_000);
    drop(trivy);
    let grype = grype_report();
    bench_scan(c, "grype_50mb", &grype, 5_000);
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(CpuTime::new());
    targets = bench
}
criterion_main!(benches);
