//! Real CI-tool outputs (tests/conformance/evidence, copied byte for byte
//! from the tools' repositories; see SOURCES.md there): every fact in
//! expected.json is extracted exactly: JUnit counts and case ids per file;
//! scanner finding ids, severities, packages; SARIF results with their
//! effective levels; VEX statements with their statuses per product.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;

use custodia::evidence::junit::{CaseOutcome, JunitReport, KeepCases, TestCase};
use custodia::evidence::scan::{Finding, SarifLog, ScanFormat, ScanReport};
use custodia::evidence::vex::{VexDocument, VexFormat, VexStatement};
use serde_json::{Value, json};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/evidence")
}

fn expected() -> serde_json::Map<String, Value> {
    let v: Value =
        serde_json::from_slice(&std::fs::read(dir().join("expected.json")).unwrap()).unwrap();
    v["files"].as_object().unwrap().clone()
}

fn files(format: &str) -> Vec<(String, Value, Vec<u8>)> {
    let out: Vec<_> = expected()
        .into_iter()
        .filter(|(_, v)| v["format"] == format)
        .map(|(k, v)| {
            let bytes = std::fs::read(dir().join(&k)).unwrap();
            (k, v, bytes)
        })
        .collect();
    assert!(!out.is_empty(), "no {format} files");
    out
}

fn opt(s: Option<&str>) -> Value {
    s.map_or(Value::Null, |s| json!(s))
}

fn ids(run: &JunitReport, f: impl Fn(&custodia::evidence::junit::TestCase) -> bool) -> Value {
    json!(
        run.cases()
            .iter()
            .filter(|c| f(c))
            .map(|c| c.id.clone())
            .collect::<Vec<_>>()
    )
}

#[test]
fn junit_counts_and_cases_are_exact() {
    for (name, want, bytes) in files("junit-xml") {
        let run = JunitReport::from_slice(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(run.source().digest().hex(), want["sha256"], "{name}");
        let c = run.counts();
        let got = json!({
            "root_element": run.root_element(),
            "tests": c.tests, "failures": c.failures, "errors": c.errors,
            "skipped": c.skipped, "passed": c.passed,
            "testsuite_elements": run.suites(),
            "nested_testsuites": run.has_nested_suites(),
            "failed_cases": ids(&run, |c| c.outcome == CaseOutcome::Failed),
            "error_cases": ids(&run, |c| c.outcome == CaseOutcome::Error),
            "skipped_cases": ids(&run, |c| c.outcome == CaseOutcome::Skipped),
        });
        for (k, v) in got.as_object().unwrap() {
            assert_eq!(&want[k], v, "{name}: {k}");
        }
        if want.get("flaky_passed_cases").is_some() {
            assert_eq!(
                want["flaky_passed_cases"],
                ids(&run, |c| c.is_flaky()),
                "{name}"
            );
            assert_eq!(
                want["failed_after_reruns_cases"],
                ids(&run, |c| c.outcome == CaseOutcome::Failed && c.retries > 0),
                "{name}"
            );
        }
        let d = run.declared();
        let mut declared = serde_json::Map::new();
        for (k, v) in [
            ("tests", d.tests),
            ("failures", d.failures),
            ("errors", d.errors),
            ("skipped", d.skipped),
        ] {
            if let Some(v) = v {
                declared.insert(k.to_owned(), json!(v));
            }
        }
        assert_eq!(want["declared_on_root"], Value::Object(declared), "{name}");
        // The streaming reader sees the same thing a byte at a time.
        let streamed = JunitReport::from_reader(OneByte(&bytes)).unwrap();
        assert_eq!(streamed, run, "{name}");
        // Counting plain passes without naming them: the same counts and
        // digest, and exactly the other cases named.
        let counted =
            JunitReport::from_reader_keeping(OneByte(&bytes), KeepCases::not_passed()).unwrap();
        assert_eq!(counted.counts(), run.counts(), "{name}");
        assert_eq!(counted.source(), run.source(), "{name}");
        let named: Vec<&TestCase> = run
            .cases()
            .iter()
            .filter(|c| c.outcome != CaseOutcome::Passed || c.is_flaky())
            .collect();
        assert_eq!(counted.cases().iter().collect::<Vec<_>>(), named, "{name}");
    }
}

/// A reader that returns one byte per read: the worst case for a streaming parser.
struct OneByte<'a>(&'a [u8]);

impl std::io::Read for OneByte<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match (self.0.split_first(), buf.first_mut()) {
            (Some((b, rest)), Some(slot)) => {
                *slot = *b;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

fn finding_json(f: &Finding, format: ScanFormat) -> Value {
    let mut v = json!({
        "id": f.id, "severity": opt(f.tool_severity.as_deref()),
        "package": opt(f.package.as_deref()), "version": opt(f.version.as_deref()),
    });
    let m = v.as_object_mut().unwrap();
    match format {
        ScanFormat::Trivy => {
            m.insert("purl".into(), opt(f.purl.as_deref()));
            m.insert("fixed_version".into(), opt(f.fixed_version.as_deref()));
            m.insert("status".into(), opt(f.status.as_deref()));
            m.insert("target".into(), opt(f.location.as_deref()));
        }
        ScanFormat::Grype => {
            m.insert("purl".into(), opt(f.purl.as_deref()));
            m.insert("type".into(), opt(f.ecosystem.as_deref()));
            m.insert("namespace".into(), opt(f.namespace.as_deref()));
            m.insert("fix_state".into(), opt(f.status.as_deref()));
            m.insert("related".into(), json!(f.aliases));
        }
        ScanFormat::Osv => {
            // OSV-Scanner states no severity; its database's is kept apart.
            m.insert("severity".into(), Value::Null);
            m.insert(
                "database_specific_severity".into(),
                opt(f.tool_severity.as_deref()),
            );
            m.insert(
                "aliases".into(),
                if f.aliases.is_empty() {
                    Value::Null
                } else {
                    json!(f.aliases)
                },
            );
            m.insert("ecosystem".into(), opt(f.ecosystem.as_deref()));
            m.insert("source".into(), opt(f.location.as_deref()));
        }
        ScanFormat::CargoAudit => {
            m.insert("aliases".into(), json!(f.aliases));
            m.insert(
                "cvss".into(),
                opt(f.scores.first().map(|(_, v)| v.as_str())),
            );
        }
        _ => {}
    }
    v
}

#[test]
fn scanner_findings_are_exact() {
    for format in [
        "trivy-json",
        "grype-json",
        "osv-scanner-json",
        "cargo-audit-json",
    ] {
        for (name, want, bytes) in files(format) {
            let scan =
                ScanReport::from_slice(&bytes, None).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(scan.source().digest().hex(), want["sha256"], "{name}");
            assert_eq!(scan.findings().len() as u64, want["count"], "{name}");
            for (i, (f, w)) in scan
                .findings()
                .iter()
                .zip(want["findings"].as_array().unwrap())
                .enumerate()
            {
                let got = finding_json(f, scan.format());
                for (k, v) in got.as_object().unwrap() {
                    assert_eq!(&w[k], v, "{name}: findings[{i}].{k}");
                }
            }
            let mut distinct: Vec<&str> = scan.findings().iter().map(|f| f.id.as_str()).collect();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(want["distinct_ids"], json!(distinct), "{name}");
            match scan.format() {
                ScanFormat::Trivy => {
                    assert_eq!(want["artifact_name"], opt(scan.artifact()), "{name}");
                    assert_eq!(want["artifact_type"], opt(scan.artifact_type()), "{name}");
                    let suppressed = want["suppressed"].as_array().cloned().unwrap_or_default();
                    assert_eq!(scan.suppressed().len(), suppressed.len(), "{name}");
                    for (s, w) in scan.suppressed().iter().zip(&suppressed) {
                        assert_eq!(w["id"], s.finding.id, "{name}");
                        assert_eq!(w["severity"], opt(s.finding.tool_severity.as_deref()));
                        assert_eq!(w["purl"], opt(s.finding.purl.as_deref()));
                        assert_eq!(w["modified_status"], s.status);
                        assert_eq!(w["justification"], opt(s.statement.as_deref()));
                        assert_eq!(w["source"], opt(s.source.as_deref()));
                    }
                    // Suppressed findings never count as open.
                    for s in scan.suppressed() {
                        assert!(!scan.findings().iter().any(|f| f.id == s.finding.id));
                    }
                }
                ScanFormat::Grype => {
                    assert_eq!(
                        want["grype_version"],
                        opt(scan.scanner().version.as_deref())
                    );
                    assert_eq!(want["source_type"], opt(scan.artifact_type()), "{name}");
                }
                _ => {}
            }
        }
    }
}

#[test]
fn sarif_results_are_exact() {
    for (name, want, bytes) in files("sarif") {
        let log = SarifLog::from_slice(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let runs = want["runs"].as_array().unwrap();
        assert_eq!(log.runs().len(), runs.len(), "{name}");
        let mut count = 0;
        for (run, w) in log.runs().iter().zip(runs) {
            assert_eq!(w["tool"], run.tool, "{name}");
            assert_eq!(
                w["tool_version"],
                opt(run.tool_version.as_deref()),
                "{name}"
            );
            assert_eq!(w["rule_count"], run.rule_count, "{name}");
            assert_eq!(w["result_count"], run.results.len(), "{name}");
            count += run.results.len();
            for (i, (r, wr)) in run
                .results
                .iter()
                .zip(w["results"].as_array().unwrap())
                .enumerate()
            {
                let at = format!("{name}: results[{i}]");
                assert_eq!(wr["ruleId"], r.rule_id, "{at}");
                assert_eq!(wr["level"], opt(r.level.as_deref()), "{at}");
                assert_eq!(wr["effective_level"], r.effective_level, "{at}");
                assert_eq!(wr["tool_severity"], opt(r.tool_severity.as_deref()), "{at}");
                let locations: Vec<Value> = r
                    .locations
                    .iter()
                    .map(|(uri, line)| json!({"uri": uri, "startLine": line}))
                    .collect();
                assert_eq!(wr["locations"], json!(locations), "{at}");
                if wr.get("security_severity").is_some() {
                    assert_eq!(
                        wr["security_severity"],
                        opt(r.security_severity.as_deref()),
                        "{at}"
                    );
                }
                if wr.get("problem_severity").is_some() {
                    assert_eq!(
                        wr["problem_severity"],
                        opt(r.problem_severity.as_deref()),
                        "{at}"
                    );
                }
                if wr.get("cve_alias").is_some() {
                    assert_eq!(wr["cve_alias"], json!(r.aliases), "{at}");
                }
            }
        }
        assert_eq!(want["count"], count, "{name}");
        // As a scan: one finding per failing result, the report's digest kept.
        let scan = ScanReport::from_slice(&bytes, None).unwrap();
        assert_eq!(scan.format(), ScanFormat::Sarif);
        assert_eq!(scan.source().digest().hex(), want["sha256"]);
    }
}

fn openvex_statement_json(s: &VexStatement, w: &Value) -> Value {
    let mut v = json!({
        "vulnerability": s.vulnerability,
        "status": s.status_as_written,
        "products": s.products.iter().map(|p| {
            let mut pj = json!({"@id": p.id, "subcomponents": p.subcomponents});
            if !p.identifiers.is_empty() {
                pj["identifiers"] = json!(p.identifiers);
            }
            pj
        }).collect::<Vec<_>>(),
    });
    let m = v.as_object_mut().unwrap();
    if let Some(j) = &s.justification {
        m.insert("justification".into(), json!(j));
    }
    if let Some(i) = &s.impact_statement {
        m.insert("impact_statement".into(), json!(i));
    }
    if let Some(iri) = &s.vulnerability_iri {
        m.insert("vulnerability_@id".into(), json!(iri));
    }
    if !s.aliases.is_empty() {
        m.insert("aliases".into(), json!(s.aliases));
    }
    if let Some(t) = w.get("timestamp") {
        let parsed: custodia::time::Timestamp = t.as_str().unwrap().parse().unwrap();
        assert_eq!(s.timestamp, Some(parsed));
        m.insert("timestamp".into(), t.clone());
    }
    v
}

#[test]
fn openvex_statements_are_exact() {
    for (name, want, bytes) in files("openvex") {
        let doc = VexDocument::from_slice(&bytes, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(doc.format(), VexFormat::OpenVex);
        assert_eq!(doc.source().digest().hex(), want["sha256"], "{name}");
        assert_eq!(want["id"], opt(doc.id()), "{name}");
        assert_eq!(want["author"], opt(doc.author()), "{name}");
        let t: custodia::time::Timestamp = want["timestamp"].as_str().unwrap().parse().unwrap();
        assert_eq!(doc.timestamp(), Some(t), "{name}");
        assert_eq!(want["statement_count"], doc.statements().len(), "{name}");
        for (s, w) in doc
            .statements()
            .iter()
            .zip(want["statements"].as_array().unwrap())
        {
            let mut w = w.clone();
            // Products without subcomponents are written with an empty list.
            for p in w["products"].as_array_mut().unwrap() {
                if p.get("subcomponents").is_none() {
                    p["subcomponents"] = json!([]);
                }
            }
            assert_eq!(openvex_statement_json(s, &w), w, "{name}");
        }
    }
}

#[test]
fn cyclonedx_vex_statements_are_exact() {
    for (name, want, bytes) in files("cyclonedx-vex") {
        let doc = VexDocument::from_slice(&bytes, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(doc.format(), VexFormat::CycloneDx);
        assert_eq!(doc.source().digest().hex(), want["sha256"], "{name}");
        assert_eq!(want["statement_count"], doc.statements().len(), "{name}");
        for (s, w) in doc
            .statements()
            .iter()
            .zip(want["statements"].as_array().unwrap())
        {
            assert_eq!(w["vulnerability"], s.vulnerability, "{name}");
            assert_eq!(w["analysis_state"], s.status_as_written, "{name}");
            assert_eq!(
                w["justification"],
                opt(s.justification.as_deref()),
                "{name}"
            );
            let responses = if s.responses.is_empty() {
                Value::Null
            } else {
                json!(s.responses)
            };
            assert_eq!(w["response"], responses, "{name}");
            assert_eq!(
                w["openvex_status_by_convention"],
                s.status.as_str(),
                "{name}"
            );
            let refs: Vec<&str> = s.products.iter().map(|p| p.id.as_str()).collect();
            let want_refs: Vec<&str> = w["affects"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["ref"].as_str().unwrap())
                .collect();
            assert_eq!(refs, want_refs, "{name}");
        }
    }
}

#[test]
fn csaf_vex_statements_are_exact() {
    for (name, want, bytes) in files("csaf-vex") {
        let doc = VexDocument::from_slice(&bytes, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(doc.format(), VexFormat::Csaf);
        assert_eq!(doc.source().digest().hex(), want["sha256"], "{name}");
        assert_eq!(want["tracking_id"], opt(doc.id()), "{name}");
        assert_eq!(want["publisher"], opt(doc.author()), "{name}");
        assert_eq!(want["statement_count"], doc.statements().len(), "{name}");
        for (s, w) in doc
            .statements()
            .iter()
            .zip(want["statements"].as_array().unwrap())
        {
            assert_eq!(w["vulnerability"], s.vulnerability, "{name}");
            assert_eq!(w["csaf_status"], s.status_as_written, "{name}");
            assert_eq!(
                w.get("justification_flag").cloned().unwrap_or(Value::Null),
                opt(s.justification.as_deref()),
                "{name}"
            );
            let p = &w["product"];
            let product = &s.products[0];
            if p.get("relationship").is_some() {
                // component `relationship` relates_to: the product is the
                // parent, the component its subcomponent.
                assert_eq!(p["relates_to"]["purl"], product.id, "{name}");
                assert_eq!(
                    json!([p["component"]["purl"]]),
                    json!(product.subcomponents)
                );
            } else {
                assert_eq!(p["purl"], product.id, "{name}");
                assert_eq!(
                    p["purl"],
                    opt(product.identifiers.get("purl").map(String::as_str))
                );
            }
        }
    }
}
