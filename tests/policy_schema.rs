//! The published policy JSON Schema (`policy.schema.json`) is exactly what
//! the policy types generate, and the example policy
//! (`examples/policy.example.json`) is valid both by that schema and by
//! [`Policy::from_json`]; invalid policies are refused by both.
//!
//! After changing the policy types, regenerate the schema with
//!
//! ```sh
//! CUSTODIA_BLESS=1 cargo test --test policy_schema
//! ```
//!
//! The schema checks use the Python `jsonschema` package from the peers'
//! python: `CUSTODIA_PEERS_PYTHON`, or the venv `target/peers-venv` that
//! `.ci/run` creates. Without it the schema checks say so and pass on a
//! developer machine; under CI (`CI` set) a missing `jsonschema` is a
//! failure, so CI can never pass without having run them.
#![cfg(feature = "schema")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod peers;

use std::path::{Path, PathBuf};

use custodia::policy::{Policy, schema};
use serde_json::{Value, json};

fn crate_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

/// The schema as it is published: pretty-printed, one trailing newline.
fn generated_schema() -> String {
    let mut text = serde_json::to_string_pretty(&schema()).unwrap();
    text.push('\n');
    text
}

fn example() -> Value {
    let bytes = std::fs::read(crate_file("examples/policy.example.json")).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn published_schema_is_generated_from_the_types() {
    let path = crate_file("policy.schema.json");
    let generated = generated_schema();
    if std::env::var_os("CUSTODIA_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).unwrap();
        eprintln!("BLESSED: wrote {}", path.display());
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is not what custodia::policy::schema() generates from the policy types \
         (they changed, or the file was edited by hand).\n\
         Regenerate it and commit the result:\n\n    \
         CUSTODIA_BLESS=1 cargo test --test policy_schema\n\n\
         committed: {} bytes, generated: {} bytes; first difference at line {}",
        path.display(),
        committed.len(),
        generated.len(),
        committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || committed.lines().count().min(generated.lines().count()) + 1,
                |i| i + 1
            ),
    );
}

#[test]
fn schema_describes_the_policy_format() {
    let s = schema();
    assert_eq!(s["title"], "custodia promotion policy");
    assert_eq!(
        s["additionalProperties"], false,
        "unknown fields are errors"
    );
    let required: Vec<&str> = s["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for field in ["version", "keys", "environments", "promotions"] {
        assert!(
            required.contains(&field),
            "{field} is required: {required:?}"
        );
    }
    // Every object in the schema refuses unknown fields.
    let defs = s["$defs"].as_object().unwrap();
    for (name, def) in defs {
        if def["type"] == "object" {
            assert_eq!(def["additionalProperties"], false, "$defs/{name}");
        }
    }
}

/// The example is a realistic dev -> staging -> prod policy using every
/// feature of the format.
#[test]
fn example_policy_loads_and_activates() {
    let bytes = std::fs::read(crate_file("examples/policy.example.json")).unwrap();
    let policy = Policy::from_json(&bytes).unwrap();
    assert_eq!(policy.entry_environments(), vec!["dev"]);
    assert!(policy.edge_allowed("dev", "staging"));
    assert!(policy.edge_allowed("staging", "prod"));
    assert!(!policy.edge_allowed("dev", "prod"));

    let prod = policy.environment("prod").unwrap();
    let c: Vec<_> = prod.requires.iter().map(|r| &r.conditions).collect();
    assert!(c.iter().any(|c| !c.builder_ids.is_empty()));
    assert!(c.iter().any(|c| c.source_repository.is_some()));
    assert!(c.iter().any(|c| c.test_result.is_some()));
    assert!(c.iter().any(|c| c.max_severity.is_some()));
    let approvals = prod.approvals.as_ref().unwrap();
    assert_eq!((approvals.count, approvals.role.as_str()), (2, "approver"));
    assert!(approvals.distinct_from_author && approvals.distinct_from_builder);
    assert_eq!(prod.freeze_windows.len(), 1);
    assert!(prod.freeze_windows[0].start < prod.freeze_windows[0].end);
    let emergency = prod.emergency.as_ref().unwrap();
    assert_eq!(emergency.approvals, 1);
    assert!(emergency.allow_during_freeze);

    // Canonical JSON reads back to the same policy.
    assert_eq!(
        Policy::from_json(&policy.to_json().unwrap()).unwrap(),
        policy
    );

    let active = policy.activate().unwrap();
    for role in [
        "builder", "tester", "scanner", "approver", "promoter", "operator",
    ] {
        assert!(!active.keys_with_role(role).is_empty(), "no {role} key");
    }
    assert_eq!(active.keys_with_role("approver").len(), 3);
}

/// Invalid variants of the example, each refused by the schema and by
/// [`Policy::from_json`]: (name, policy, what the library's error says).
fn invalid_policies() -> Vec<(&'static str, Value, &'static str)> {
    let mut unknown_top = example();
    unknown_top["owner"] = json!("platform-team");

    let mut typo = example();
    let dev = &mut typo["environments"][0];
    let requires = dev.as_object_mut().unwrap().remove("requires").unwrap();
    dev["require"] = requires;

    let mut no_promotions = example();
    no_promotions.as_object_mut().unwrap().remove("promotions");

    let mut no_signer_role = example();
    no_signer_role["environments"][2]["requires"][0]
        .as_object_mut()
        .unwrap()
        .remove("signerRole");

    let mut bad_severity = example();
    bad_severity["environments"][2]["requires"][2]["conditions"]["maxSeverity"] = json!("severe");

    vec![
        (
            "unknown top-level field",
            unknown_top,
            "unknown field `owner`",
        ),
        ("misspelled `requires`", typo, "unknown field `require`"),
        (
            "missing `promotions`",
            no_promotions,
            "missing field `promotions`",
        ),
        (
            "missing `signerRole`",
            no_signer_role,
            "missing field `signerRole`",
        ),
        ("unknown severity", bad_severity, "unknown variant `severe`"),
    ]
}

#[test]
fn from_json_refuses_what_the_schema_refuses() {
    for (name, policy, expected) in invalid_policies() {
        let err = Policy::from_json(&serde_json::to_vec(&policy).unwrap())
            .expect_err(name)
            .to_string();
        assert!(
            err.contains(expected),
            "{name}: expected `{expected}` in: {err}"
        );
    }
}

/// The peers' python, if it has `jsonschema`.
fn jsonschema_python() -> Option<PathBuf> {
    peers::python_with("jsonschema", "python `jsonschema` (jsonschema==4.26.0)")
}

fn validate_with_python(python: &Path, instances: &Value) -> Value {
    peers::jsonschema_errors(python, &crate_file("policy.schema.json"), instances)
}

#[test]
fn python_jsonschema_accepts_the_example_and_refuses_invalid_policies() {
    let Some(python) = jsonschema_python() else {
        return;
    };
    // Validate against the committed file, but only if it is current (the
    // drift test reports a stale one).
    let committed = std::fs::read_to_string(crate_file("policy.schema.json")).unwrap_or_default();
    if committed != generated_schema() {
        eprintln!(
            "SKIPPED: policy.schema.json is stale; see published_schema_is_generated_from_the_types"
        );
        return;
    }
    let mut instances = serde_json::Map::new();
    instances.insert("example".into(), example());
    let invalid = invalid_policies();
    for (name, policy, _) in &invalid {
        instances.insert((*name).into(), policy.clone());
    }
    let result = validate_with_python(&python, &Value::Object(instances));
    assert_eq!(
        result["validator"], "Draft202012Validator",
        "the schema's dialect: {result}"
    );
    let errors = &result["errors"];
    assert_eq!(
        errors["example"],
        json!([]),
        "the example policy is invalid by the schema"
    );
    for (name, _, _) in &invalid {
        let errs = errors[*name].as_array().unwrap();
        assert!(!errs.is_empty(), "the schema accepts the {name} policy");
    }
    let text = |name: &str| errors[name].to_string();
    assert!(text("unknown top-level field").contains("'owner' was unexpected"));
    assert!(text("misspelled `requires`").contains("'require' was unexpected"));
    assert!(text("missing `promotions`").contains("'promotions' is a required property"));
    assert!(text("missing `signerRole`").contains("'signerRole' is a required property"));
    assert!(text("unknown severity").contains("'severe'"));
}
