//! `promotion::audit`, the whole audit as one library call (#13): what
//! `verifier chain` prints, as a typed report a CI plugin reads without
//! parsing text; its renderers; and its published JSON Schema
//! (`audit.schema.json`, with `report.schema.json` for the other
//! subcommands' reports), kept in sync with the types and checked against
//! real audits by the Python `jsonschema` package.
//!
//! After changing the report types, regenerate the schemas with
//!
//! ```sh
//! CUSTODIA_BLESS=1 cargo test --test audit
//! ```
#![cfg(feature = "schema")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
mod peers;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use custodia::promotion::{
    Audit, AuditRequest, EdgeKind, Location, MemoryStore, NodeKind, Store, TrustedState,
    ValidationOptions, audit, audit_schema,
};
use custodia::render::{Format, Render};
use serde_json::{Value, json};

fn crate_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

/// A store where one artifact went dev -> staging -> prod.
fn shipped() -> (
    Pipeline,
    MemoryStore,
    custodia::digest::DigestSet,
    [custodia::digest::Digest; 3],
) {
    let p = Pipeline::new();
    let store = MemoryStore::new();
    let a = artifact(1);
    let records = p.ship(&store, &a, 1_700_000_000);
    (p, store, a, records)
}

fn run(store: &dyn Store, p: &Pipeline, request: &AuditRequest) -> Audit {
    audit(store, &p.policy, request).unwrap()
}

#[test]
fn a_shipped_release_audits_clean_and_is_located() {
    let (p, store, a, [dev, staging, prod]) = shipped();
    let report = run(&store, &p, &AuditRequest::new("policy.json").artifact(a));
    assert!(report.verified, "{}", report.to_text());
    assert!(report.first_failure.is_none());
    let names: Vec<&str> = report
        .environments
        .iter()
        .map(|(e, _)| e.as_str())
        .collect();
    assert_eq!(names, ["dev", "staging", "prod"]);
    let places = &report.artifact.as_ref().unwrap().environments;
    assert!(
        places.values().all(|l| *l == Location::Current),
        "{places:?}"
    );

    // The graph: one node per record, `next` nowhere (one record each),
    // and the source links dev -> staging -> prod.
    let g = &report.graph;
    assert_eq!(g.environments.len(), 3);
    for env in &g.environments {
        assert_eq!(env.nodes.len(), 1, "{}", env.name);
        assert_eq!(env.nodes[0].kind, NodeKind::Promotion);
        assert!(env.nodes[0].target && !env.nodes[0].failed);
    }
    let promoted: Vec<(String, String)> = g
        .edges
        .iter()
        .filter(|e| e.kind == EdgeKind::Promoted)
        .map(|e| (e.from.clone(), e.to.clone()))
        .collect();
    assert!(promoted.contains(&(dev.to_string(), staging.to_string())));
    assert!(promoted.contains(&(staging.to_string(), prod.to_string())));
    assert!(g.outside.is_empty());
}

#[test]
fn a_scoped_audit_follows_the_source_path_and_names_the_break() {
    let (p, store, a, [dev, _, _]) = shipped();
    store.remove(&dev).unwrap();
    let report = run(
        &store,
        &p,
        &AuditRequest::new("policy.json")
            .environment("prod")
            .artifact(a),
    );
    assert!(!report.verified);
    // Only prod is reported, and prod fails: its record's path back to
    // the build is broken, although prod's own chain is intact.
    assert_eq!(report.environments.len(), 1);
    let failure = report.first_failure.as_ref().unwrap();
    assert_eq!(failure.section, "prod");
    let subject = failure
        .check
        .subject
        .as_ref()
        .expect("the check names its record");
    assert_eq!(subject.environment.as_deref(), Some("prod"));
    assert_eq!(subject.record, Some(0));
    assert_eq!(
        report.artifact.unwrap().environments["prod"],
        Location::Unverified
    );
    // The failed record is marked in the graph, from the check's subject.
    assert!(report.graph.environments[0].nodes[0].failed);
}

#[test]
fn another_policy_is_the_first_failure() {
    let (p, store, _, _) = shipped();
    let other = Pipeline::new();
    let report = audit(&store, &other.policy, &AuditRequest::new("other.json")).unwrap();
    assert!(!report.verified);
    assert_eq!(report.first_failure.unwrap().section, "policy");
    drop(p);
}

#[test]
fn files_are_accounted_for_and_odd_files_are_input_errors() {
    let (p, store, _, _) = shipped();
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("app");
    std::fs::write(&good, "app build 1").unwrap();
    let stray = dir.path().join("stray");
    std::fs::write(&stray, "not in any record").unwrap();
    let report = run(&store, &p, &AuditRequest::new("p").file(dir.path()));
    let files = report.files.as_ref().unwrap();
    let by_name: Vec<(bool, &str)> = files
        .checks()
        .iter()
        .map(|c| (c.passed, c.name.as_str()))
        .collect();
    assert_eq!(
        by_name,
        [
            (true, format!("file:{}", good.display()).as_str()),
            (false, format!("file:{}", stray.display()).as_str())
        ]
    );
    assert_eq!(report.first_failure.unwrap().section, "files");

    #[cfg(unix)]
    {
        let fifo = dir.path().join("fifo");
        let status = Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(status.success());
        let err = audit(&store, &p.policy, &AuditRequest::new("p").file(&fifo)).unwrap_err();
        assert!(matches!(err, custodia::Error::UnsafeFile { .. }), "{err}");
    }
    let missing = audit(
        &store,
        &p.policy,
        &AuditRequest::new("p").file(dir.path().join("missing")),
    )
    .unwrap_err();
    assert!(matches!(missing, custodia::Error::Io { .. }), "{missing}");
}

#[test]
fn an_unknown_environment_is_an_input_error() {
    let (p, store, _, _) = shipped();
    let err = audit(&store, &p.policy, &AuditRequest::new("p").environment("qa")).unwrap_err();
    assert!(matches!(err, custodia::Error::Policy(_)), "{err}");
}

#[test]
fn checkpoints_kept_last_time_must_be_extended() {
    let (p, store, _, [_, _, prod]) = shipped();
    let first = run(
        &store,
        &p,
        &AuditRequest::new("p").kept(TrustedState::default()),
    );
    let mut state = TrustedState::default();
    assert!(first.advance(&mut state));
    assert!(first.checkpoints.as_ref().unwrap().verified());
    // prod's only record removed: the kept checkpoint catches it.
    store.remove(&prod).unwrap();
    let second = run(&store, &p, &AuditRequest::new("p").kept(state.clone()));
    assert!(!second.verified);
    assert!(!second.checkpoints.as_ref().unwrap().verified());
    let mut unchanged = state.clone();
    assert!(!second.advance(&mut unchanged));
    assert_eq!(unchanged, state);
}

#[test]
fn the_renderers_say_the_same_thing() {
    let (p, store, a, _) = shipped();
    let report = run(&store, &p, &AuditRequest::new("policy.json").artifact(a));
    let text = report.to_text();
    assert!(text.starts_with("== dev: VERIFIED =="), "{text}");
    assert!(text.ends_with("the promotion histories of dev, staging, prod validate"));
    let md = report.render(Format::Markdown).unwrap();
    assert!(md.starts_with("## ✅ Promotion chain verified"), "{md}");
    let mermaid = md.split("```mermaid\n").nth(1).unwrap();
    assert!(mermaid.contains("==>|promoted|"), "{mermaid}");
    let json: Value = serde_json::from_str(&report.render(Format::Json).unwrap()).unwrap();
    assert_eq!(json["verified"], true);
    assert_eq!(json["environments"]["prod"]["verified"], true);
    assert_eq!(json["artifact"]["environments"]["prod"], "current");
    assert_eq!(json["graph"]["environments"][2]["name"], "prod");
}

// --- The published schemas ---------------------------------------------

/// (file, generated schema)
fn schemas() -> [(&'static str, Value); 2] {
    [
        ("audit.schema.json", audit_schema()),
        ("report.schema.json", custodia::report::schema()),
    ]
}

fn pretty(schema: &Value) -> String {
    let mut text = serde_json::to_string_pretty(schema).unwrap();
    text.push('\n');
    text
}

#[test]
fn published_schemas_are_generated_from_the_types() {
    for (file, schema) in schemas() {
        let path = crate_file(file);
        let generated = pretty(&schema);
        if std::env::var_os("CUSTODIA_BLESS").is_some_and(|v| v == "1") {
            std::fs::write(&path, &generated).unwrap();
            eprintln!("BLESSED: wrote {}", path.display());
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{file} is not what the report types generate (they changed, or the file \
             was edited by hand). Regenerate it and commit the result:\n\n    \
             CUSTODIA_BLESS=1 cargo test --test audit\n"
        );
    }
}

/// Audits of every shape: verified with everything asked for, and failing
/// in each section.
fn sample_audits() -> Value {
    let (p, store, a, [dev, _, _]) = shipped();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stray"), "stray").unwrap();
    let full = run(
        &store,
        &p,
        &AuditRequest::new("policy.json")
            .artifact(a.clone())
            .file(dir.path())
            .kept(TrustedState::default()),
    );
    store.remove(&dev).unwrap();
    let broken = run(&store, &p, &AuditRequest::new("policy.json").artifact(a));
    let other = audit(&store, &Pipeline::new().policy, &AuditRequest::new("x")).unwrap();
    let empty = audit(
        &MemoryStore::new(),
        &p.policy,
        &AuditRequest::new("p").options(ValidationOptions::default()),
    )
    .unwrap();
    let json = |a: &Audit| serde_json::from_str::<Value>(&a.to_json().unwrap()).unwrap();
    json!({
        "full": json(&full),
        "broken": json(&broken),
        "other-policy": json(&other),
        "empty": json(&empty),
    })
}

fn validate_with_python(python: &Path, schema: &str, instances: &Value) -> Value {
    peers::jsonschema_errors(python, &crate_file(schema), instances)["errors"].clone()
}

#[test]
fn real_audits_and_reports_are_valid_by_the_published_schemas() {
    let Some(python) = peers::python_with("jsonschema", "python `jsonschema` (jsonschema==4.26.0)")
    else {
        return;
    };
    let audits = sample_audits();
    let errors = validate_with_python(&python, "audit.schema.json", &audits);
    for (name, errs) in errors.as_object().unwrap() {
        assert_eq!(errs, &json!([]), "{name}: {errs}");
    }
    // Every environment's report, and each section, is a report.
    let mut reports = serde_json::Map::new();
    for (name, a) in audits.as_object().unwrap() {
        for (env, r) in a["environments"].as_object().unwrap() {
            reports.insert(format!("{name}/{env}"), r.clone());
        }
        reports.insert(format!("{name}/store"), a["store"].clone());
    }
    let errors = validate_with_python(&python, "report.schema.json", &Value::Object(reports));
    for (name, errs) in errors.as_object().unwrap() {
        assert_eq!(errs, &json!([]), "{name}: {errs}");
    }
    // And the schema is not vacuous: a report without `checks`, a location
    // that does not exist, and a graph node without a digest are refused.
    let mut bad = audits["full"].clone();
    bad["artifact"]["environments"]["prod"] = json!("somewhere");
    let mut no_digest = audits["full"].clone();
    no_digest["graph"]["environments"][0]["nodes"][0]
        .as_object_mut()
        .unwrap()
        .remove("digest");
    let mut no_checks = audits["full"].clone();
    no_checks["store"].as_object_mut().unwrap().remove("checks");
    let errors = validate_with_python(
        &python,
        "audit.schema.json",
        &json!({"location": bad, "node": no_digest, "store": no_checks}),
    );
    for (name, errs) in errors.as_object().unwrap() {
        assert_ne!(errs, &json!([]), "{name} was accepted");
    }
}
