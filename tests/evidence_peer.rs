//! The evidence statements parse with the in-toto attestation framework's
//! own Python bindings (PyPI `in-toto-attestation==0.9.3`, as in
//! tests/peer_bindings.rs): every statement through `ParseDict` into
//! `Statement` and `validate()`; the test-result predicate through
//! `ParseDict` into its `TestResult` message (unknown or misspelled fields
//! are errors there).
//!
//! The vulns v0.2 predicate has no binding in that release; the framework
//! repository's later `vulns/v0.2/vulns.proto` names its fields `database`
//! and `scanMetadata` where the published spec (spec/predicates/vulns_02.md,
//! what custodia follows) says `db` and `metadata`, so it cannot serve as
//! the reference. Its statement layer is still checked here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod peers;

use std::path::{Path, PathBuf};
use std::process::Command;

use custodia::digest::DigestSet;
use custodia::evidence::convert;
use custodia::evidence::junit::JunitReport;
use custodia::evidence::scan::ScanReport;
use custodia::evidence::vex::VexDocument;
use custodia::resource::ResourceDescriptor;
use custodia::statement::Statement;
use custodia::time::Timestamp;
use serde_json::Value;

const CHECK: &str = r#"
import json, sys
from google.protobuf import json_format
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement
from in_toto_attestation.predicates.test_result.v0 import test_result_pb2
out = {}
for path in sys.argv[1:]:
    doc = json.load(open(path))
    r = {}
    try:
        Statement.copy_from_pb(json_format.ParseDict(doc, statement_pb2.Statement())).validate()
        r["statement"] = "ok"
    except Exception as e:
        r["statement"] = f"{type(e).__name__}: {e}"
    if doc["predicateType"] == "https://in-toto.io/attestation/test-result/v0.1":
        try:
            json_format.ParseDict(doc["predicate"], test_result_pb2.TestResult())
            r["predicate"] = "ok"
        except Exception as e:
            r["predicate"] = f"{type(e).__name__}: {e}"
    out[path] = r
print(json.dumps(out))
"#;

fn data(rel: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/conformance/evidence")
            .join(rel),
    )
    .unwrap()
}

#[test]
fn evidence_statements_parse_with_in_toto_attestation() {
    let Some(python) = peers::python_with("in_toto_attestation", "in-toto-attestation") else {
        return;
    };
    let subject = vec![ResourceDescriptor::new("app", DigestSet::of_bytes(b"app"))];
    let t = Some(Timestamp::from_unix(1_700_000_000));
    let mut statements = Vec::new();
    for junit in [
        "junit/nextest/fixture-project-junit.xml",
        "junit/pytest/junit.gloo.elastic.xml",
        "junit/phpunit/phpunit.xml",
    ] {
        let run = JunitReport::from_slice(&data(junit)).unwrap();
        let p = convert::test_result(&[(junit, &run)], t);
        statements.push(Statement::new(subject.clone(), &p).unwrap());
    }
    for report in [
        "vuln-scan/trivy/alpine-310.json.golden",
        "vuln-scan/grype/keycloak-test.json",
        "vuln-scan/osv-scanner/filter-none/want.json",
        "vuln-scan/cargo-audit/many_findings_cvss.json",
        "sarif/codeql/valid-sarif.sarif",
    ] {
        let scan = ScanReport::from_slice(&data(report), None).unwrap();
        let p = convert::vulns(&scan, report, t).unwrap();
        statements.push(Statement::new(subject.clone(), &p).unwrap());
    }
    for vex in [
        "vex/openvex/v0.2.0.json",
        "vex/csaf/csaf-relationships.json",
    ] {
        let doc = VexDocument::from_slice(&data(vex), None).unwrap();
        statements.push(Statement::new(subject.clone(), &convert::openvex(&doc)).unwrap());
    }
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<PathBuf> = statements
        .iter()
        .enumerate()
        .map(|(i, st)| {
            let p = dir.path().join(format!("{i}.json"));
            std::fs::write(&p, st.to_json().unwrap()).unwrap();
            p
        })
        .collect();
    let out = Command::new(python)
        .arg("-c")
        .arg(CHECK)
        .args(&paths)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verdict: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut predicates = 0;
    for p in &paths {
        let r = &verdict[p.to_str().unwrap()];
        assert_eq!(r["statement"], "ok", "{}: {r}", p.display());
        if let Some(pred) = r.get("predicate") {
            assert_eq!(pred, "ok", "{}", p.display());
            predicates += 1;
        }
    }
    assert_eq!(predicates, 3, "every test result was checked by the peer");

    // The peer is strict: a misspelled field is refused (the check can fail).
    let mut bad: Value = serde_json::from_slice(&statements[0].to_json().unwrap()).unwrap();
    bad["predicate"]["passedTest"] = bad["predicate"]["passedTests"].take();
    std::fs::write(&paths[0], serde_json::to_vec(&bad).unwrap()).unwrap();
    let python = peers::python_with("in_toto_attestation", "in-toto-attestation").unwrap();
    let out = Command::new(python)
        .arg("-c")
        .arg(CHECK)
        .arg(&paths[0])
        .output()
        .unwrap();
    let verdict: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_ne!(verdict[paths[0].to_str().unwrap()]["predicate"], "ok");
}
