//! SLSA Verification Summary Attestation v1: the real Google BCID VSA from
//! slsa-verifier's test data (tests/conformance/slsa-vsa, see its
//! expected.json), round trips of VSAs custodia writes, and one test per
//! failure kind of `check_vsa`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};

use custodia::digest::DigestSet;
use custodia::dsse::Envelope;
use custodia::error::{Error, PredicateError};
use custodia::keys::{KeyAlgorithm, PrivateKey, PublicKey};
use custodia::predicate::vsa::{
    InputAttestation, Policy, VSA_V1, VerificationResult, VerificationSummary, VsaExpectation,
    VsaInputs, check_vsa, verify_vsa,
};
use custodia::report::{Check, Report};
use custodia::resource::ResourceDescriptor;
use custodia::statement::{PAYLOAD_TYPE, Statement};
use custodia::time::Timestamp;
use custodia::trust::TrustAnchors;
use serde_json::{Value, json};

fn conformance(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance")
        .join(path)
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(conformance(path)).unwrap()
}

// ---------------------------------------------------------------------
// The real VSA (Google BCID, GCE image), with slsa-verifier's outcomes.
// ---------------------------------------------------------------------

/// The `verify-vsa` arguments of the upstream passing case.
struct Upstream {
    verifier_id: String,
    resource_uri: String,
    levels: Vec<String>,
    subject_digest: String,
    public_key_id: String,
}

fn upstream_case() -> (Value, Upstream) {
    let case: Value = serde_json::from_slice(&read("slsa-vsa/expected.json")).unwrap();
    let runs = case["slsa_verifier"].as_array().unwrap();
    let pass = &runs[0];
    assert_eq!(pass["cmd"], "verify-vsa");
    assert_eq!(pass["expect"], "pass");
    let args = &pass["args"];
    let text = |k: &str| args[k].as_str().unwrap().to_owned();
    let upstream = Upstream {
        verifier_id: text("verifier-id"),
        resource_uri: text("resource-uri"),
        levels: args["verified-level"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap().to_owned())
            .collect(),
        subject_digest: text("subject-digest"),
        public_key_id: text("public-key-id"),
    };
    (case, upstream)
}

fn google_envelope() -> Envelope {
    Envelope::from_json(&read("slsa-vsa/gke-gce-pre.bcid-vsa.jsonl")).unwrap()
}

fn google_key() -> TrustAnchors {
    let pem = String::from_utf8(read("slsa-vsa/vsa_signing_public_key.pem")).unwrap();
    [PublicKey::from_pem(&pem).unwrap()].into_iter().collect()
}

fn upstream_expectation(up: &Upstream) -> VsaExpectation {
    VsaExpectation::by_resource_uri([up.verifier_id.clone()], up.resource_uri.clone())
        .with_levels(up.levels.clone())
}

fn names(report: &Report) -> Vec<&str> {
    report.checks().iter().map(|c| c.name.as_str()).collect()
}

fn failed<'a>(report: &'a Report, name: &str) -> &'a Check {
    let check = report
        .checks()
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no `{name}` check in\n{report}"));
    assert!(!check.passed, "`{name}` passed:\n{report}");
    check
}

#[test]
fn google_vsa_passes_as_upstream_does() {
    let (_, up) = upstream_case();
    let envelope = google_envelope();
    // The signature: ECDSA P-256 over PAE, raw r||s.
    let signatures = envelope.verify(google_key().keys(), 1).unwrap();
    assert!(signatures.verified(), "{}", signatures.report());
    assert_eq!(
        envelope.signatures()[0].keyid.as_deref(),
        Some(up.public_key_id.as_str())
    );

    let statement = Statement::from_json(envelope.payload()).unwrap();
    let report = check_vsa(&statement, &upstream_expectation(&up));
    assert!(report.verified(), "{report}");
    assert_eq!(
        names(&report),
        [
            "predicate-type",
            "predicate",
            "subject",
            "verifier-id",
            "resource-uri",
            "verification-result",
            "verified-levels"
        ]
    );

    // The same in one call, signature included.
    let verified = verify_vsa(&envelope, &google_key(), &upstream_expectation(&up));
    assert!(verified.report().verified(), "{}", verified.report());
    let summary = verified.summary().unwrap();
    assert_eq!(summary.verifier.id, up.verifier_id);
    assert_eq!(summary.resource_uri, up.resource_uri);
    assert_eq!(summary.verified_levels, up.levels);
    assert_eq!(summary.verification_result, VerificationResult::Passed);
    assert_eq!(
        summary.time_verified,
        Some("2024-06-12T07:24:34.351608Z".parse().unwrap())
    );
    assert!(
        summary
            .policy
            .uri
            .as_deref()
            .unwrap()
            .starts_with("googlefile:/")
    );
}

#[test]
fn google_vsa_subject_uses_a_custom_digest_that_never_identifies_an_artifact() {
    // slsa-verifier compares `gce_image_id:8970095005306000053` as a string;
    // custodia never lets a custom algorithm identify an artifact, so the
    // digest route fails and resource-uri is what binds (previous test).
    let (_, up) = upstream_case();
    let (algorithm, value) = up.subject_digest.split_once(':').unwrap();
    let statement = Statement::from_json(google_envelope().payload()).unwrap();
    assert_eq!(statement.subject()[0].digest.get(algorithm), Some(value));

    let mut artifact = DigestSet::new();
    artifact.insert_raw(algorithm, value).unwrap();
    let expect = VsaExpectation::new(artifact, [up.verifier_id.clone()], up.resource_uri.clone());
    let report = check_vsa(&statement, &expect);
    let subject = failed(&report, "subject");
    assert!(
        subject.reason.contains("no strong digest algorithm"),
        "{report}"
    );
    // Everything else about the VSA is fine.
    assert_eq!(report.checks().iter().filter(|c| !c.passed).count(), 1);
}

#[test]
fn google_vsa_fails_as_upstream_does_when_the_key_is_not_the_signer() {
    // Upstream's two failing runs name a key id (`""`, `my_key_id`) that is
    // not the one the signature was made with: ErrorNoValidSignature.
    // custodia names keys by the key itself (the DSSE keyid is an
    // unauthenticated hint), so the same situation is trusting a key that
    // did not sign; it fails the same way, before the payload is read.
    let (case, up) = upstream_case();
    let runs = case["slsa_verifier"].as_array().unwrap();
    let failing: Vec<&Value> = runs.iter().filter(|r| r["expect"] == "fail").collect();
    assert_eq!(failing.len(), 2);
    for run in failing {
        assert!(
            run["error"]
                .as_str()
                .unwrap()
                .contains("ErrorNoValidSignature")
        );
        assert_ne!(run["args"]["public-key-id"], up.public_key_id.as_str());
        let other = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let keys: TrustAnchors = [other.public_key().clone()].into_iter().collect();
        let verified = verify_vsa(&google_envelope(), &keys, &upstream_expectation(&up));
        assert!(!verified.report().verified());
        assert!(verified.summary().is_none());
        failed(verified.report(), "threshold");
        assert!(!names(verified.report()).contains(&"predicate"));
    }
}

#[test]
fn google_vsa_keyid_hint_does_not_decide_which_key_verifies() {
    // Where custodia differs from slsa-verifier on purpose: rewriting the
    // unauthenticated keyid changes nothing; the signature still verifies
    // under the trusted key, and only under it.
    let (_, up) = upstream_case();
    for hint in [Some(""), Some("my_key_id"), None] {
        let mut doc: Value =
            serde_json::from_slice(&read("slsa-vsa/gke-gce-pre.bcid-vsa.jsonl")).unwrap();
        match hint {
            Some(h) => doc["signatures"][0]["keyid"] = json!(h),
            None => {
                doc["signatures"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("keyid");
            }
        }
        let envelope = Envelope::from_json(&serde_json::to_vec(&doc).unwrap()).unwrap();
        let verified = verify_vsa(&envelope, &google_key(), &upstream_expectation(&up));
        assert!(
            verified.report().verified(),
            "{hint:?}: {}",
            verified.report()
        );
    }
}

#[test]
fn google_vsa_tampered_payload_fails_signature() {
    let (_, up) = upstream_case();
    let envelope = google_envelope();
    let payload = String::from_utf8(envelope.payload().to_vec())
        .unwrap()
        .replace("SLSA_BUILD_LEVEL_2", "SLSA_BUILD_LEVEL_3");
    let unsigned: Value = serde_json::from_slice(
        &Envelope::unsigned(PAYLOAD_TYPE, payload.into_bytes())
            .to_json()
            .unwrap(),
    )
    .unwrap();
    let mut doc: Value =
        serde_json::from_slice(&read("slsa-vsa/gke-gce-pre.bcid-vsa.jsonl")).unwrap();
    doc["payload"] = unsigned["payload"].clone();
    let tampered = Envelope::from_json(&serde_json::to_vec(&doc).unwrap()).unwrap();
    let verified = verify_vsa(&tampered, &google_key(), &upstream_expectation(&up));
    failed(verified.report(), "threshold");
}

#[test]
fn google_vsa_statement_from_the_in_toto_corpus_reads_the_same() {
    // The DSSE payload, decoded by the collector.
    let bytes = read("in-toto/predicates/vsa-v1.google-bcid.statement.json");
    let statement = Statement::from_json(&bytes).unwrap();
    assert_eq!(statement.predicate_type(), VSA_V1);
    let from_envelope = Statement::from_json(google_envelope().payload()).unwrap();
    assert_eq!(statement, from_envelope);
    let summary: VerificationSummary = statement.predicate_as().unwrap();
    assert_eq!(summary.verified_levels, ["BCID_L1", "SLSA_BUILD_LEVEL_2"]);
    assert!(summary.has_level("SLSA_BUILD_LEVEL_1"));
    assert!(summary.has_level("BCID_L1"));
    assert!(!summary.has_level("SLSA_BUILD_LEVEL_3"));
    assert!(summary.input_attestations.is_empty());
    assert!(summary.slsa_version.is_none());

    let (_, up) = upstream_case();
    let report = check_vsa(&statement, &upstream_expectation(&up));
    assert!(report.verified(), "{report}");
    // Asking for more than the verifier vouched for fails.
    let more = upstream_expectation(&up).with_levels(["SLSA_BUILD_LEVEL_3"]);
    let report = check_vsa(&statement, &more);
    assert!(
        failed(&report, "verified-levels")
            .reason
            .contains("SLSA_BUILD_LEVEL_3")
    );
}

// ---------------------------------------------------------------------
// VSAs custodia writes.
// ---------------------------------------------------------------------

const VERIFIER: &str = "https://verifier.acme.dev/release-gate";
const RESOURCE: &str = "https://downloads.acme.dev/app-1.0.tar.gz";

fn artifact() -> DigestSet {
    DigestSet::of_bytes(b"app-1.0.tar.gz bytes")
}

fn passing_report() -> Report {
    let mut report = Report::new();
    report.push(Check::pass("signature[0]", "trusted key"));
    report.push(Check::pass("builder-id", "trusted"));
    report
}

fn full_inputs() -> VsaInputs {
    VsaInputs::new(
        VERIFIER,
        RESOURCE,
        Policy::new("https://policies.acme.dev/release.json")
            .with_digest(DigestSet::of_bytes(b"policy")),
    )
    .with_verifier_version("acme-gate", "2.4.1")
    .with_input_attestation(InputAttestation::new(
        "https://attestations.acme.dev/app-1.0.intoto.jsonl",
        DigestSet::of_bytes(b"provenance envelope"),
    ))
    .with_input_attestation(InputAttestation::from_digest(DigestSet::of_bytes(
        b"sbom envelope",
    )))
    .with_verified_levels(["SLSA_BUILD_LEVEL_3", "ACME_GOLD"])
    .with_dependency_level("SLSA_BUILD_LEVEL_3", 5)
    .with_dependency_level("SLSA_BUILD_LEVEL_1", 2)
    .with_time("2024-05-01T12:00:00.123456789Z".parse().unwrap())
}

fn statement_of(summary: &VerificationSummary) -> Statement {
    Statement::new(
        vec![ResourceDescriptor::new("app-1.0.tar.gz", artifact())],
        summary,
    )
    .unwrap()
}

fn expectation() -> VsaExpectation {
    VsaExpectation::new(artifact(), [VERIFIER], RESOURCE).with_levels(["SLSA_BUILD_LEVEL_2"])
}

#[test]
fn generated_vsa_round_trips_byte_for_byte() {
    let summary = VerificationSummary::from_report(&passing_report(), &full_inputs()).unwrap();
    let json = serde_json::to_vec(&summary).unwrap();
    let back: VerificationSummary = serde_json::from_slice(&json).unwrap();
    assert_eq!(back, summary);
    assert_eq!(serde_json::to_vec(&back).unwrap(), json);

    // And inside a statement.
    let statement = statement_of(&summary);
    let wire = statement.to_json().unwrap();
    let parsed = Statement::from_json(&wire).unwrap();
    assert_eq!(parsed, statement);
    assert_eq!(parsed.to_json().unwrap(), wire);
    assert_eq!(
        parsed.predicate_as::<VerificationSummary>().unwrap(),
        summary
    );
}

#[test]
fn generated_vsa_has_the_spec_field_names_in_order() {
    let summary = VerificationSummary::from_report(&passing_report(), &full_inputs()).unwrap();
    let json = String::from_utf8(serde_json::to_vec(&summary).unwrap()).unwrap();
    let keys = [
        "\"verifier\":{\"id\":",
        "\"version\":{\"acme-gate\":\"2.4.1\"}",
        "\"timeVerified\":\"2024-05-01T12:00:00.123456789Z\"",
        "\"resourceUri\":",
        "\"policy\":{\"uri\":",
        "\"inputAttestations\":[{\"uri\":",
        "\"verificationResult\":\"PASSED\"",
        "\"verifiedLevels\":[\"SLSA_BUILD_LEVEL_3\",\"ACME_GOLD\"]",
        "\"dependencyLevels\":{\"SLSA_BUILD_LEVEL_1\":2,\"SLSA_BUILD_LEVEL_3\":5}",
        "\"slsaVersion\":\"1.1\"",
    ];
    let mut at = 0;
    for key in keys {
        let found = json[at..]
            .find(key)
            .unwrap_or_else(|| panic!("{key} after {at} in {json}"));
        at += found + key.len();
    }
    // Empty optional fields are left out.
    let minimal = VsaInputs::new(VERIFIER, RESOURCE, Policy::new("https://p"))
        .with_time(Timestamp::from_unix(0));
    let summary = VerificationSummary::from_report(&passing_report(), &minimal).unwrap();
    assert_eq!(
        serde_json::to_value(&summary).unwrap(),
        json!({
            "verifier": {"id": VERIFIER},
            "timeVerified": "1970-01-01T00:00:00Z",
            "resourceUri": RESOURCE,
            "policy": {"uri": "https://p"},
            "verificationResult": "PASSED",
            "verifiedLevels": [],
            "slsaVersion": "1.1"
        })
    );
}

#[test]
fn generated_vsa_signed_verifies() {
    let summary = VerificationSummary::from_report(&passing_report(), &full_inputs()).unwrap();
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let envelope = Envelope::sign(
        PAYLOAD_TYPE,
        statement_of(&summary).to_json().unwrap(),
        &key,
    )
    .unwrap();
    let keys: TrustAnchors = [key.public_key().clone()].into_iter().collect();
    let verified = verify_vsa(
        &Envelope::from_json(&envelope.to_json().unwrap()).unwrap(),
        &keys,
        &expectation(),
    );
    assert!(verified.report().verified(), "{}", verified.report());
    assert_eq!(verified.summary(), Some(&summary));
}

#[test]
fn from_report_failed_claims_no_level() {
    let mut report = passing_report();
    report.push(Check::fail("source-ref", "refs/heads/dev"));
    let inputs = full_inputs().with_verified_levels(["SLSA_BUILD_LEVEL_0", "SLSA_BUILD_LEVEL_3"]);
    let summary = VerificationSummary::from_report(&report, &inputs).unwrap();
    assert_eq!(summary.verification_result, VerificationResult::Failed);
    assert_eq!(summary.verified_levels, ["SLSA_BUILD_LEVEL_0"]);
    assert!(!summary.has_level("SLSA_BUILD_LEVEL_0"));
    // An empty report never passes.
    let summary = VerificationSummary::from_report(&Report::new(), &full_inputs()).unwrap();
    assert_eq!(summary.verification_result, VerificationResult::Failed);
    assert!(summary.verified_levels.is_empty());
    assert_eq!(
        serde_json::to_value(&summary).unwrap()["verificationResult"],
        "FAILED"
    );
}

#[test]
fn from_report_rejects_inputs_that_break_the_spec() {
    let cases: Vec<(VsaInputs, &str)> = vec![
        (
            VsaInputs::new("", RESOURCE, Policy::new("https://p")),
            "verifier.id",
        ),
        (
            VsaInputs::new(VERIFIER, "", Policy::new("https://p")),
            "resourceUri",
        ),
        (
            VsaInputs::new(VERIFIER, RESOURCE, Policy::new("")),
            "policy",
        ),
        (
            full_inputs().with_verified_levels(["slsa_build_level_3"]),
            "verifiedLevels[0]",
        ),
        (
            full_inputs().with_verified_levels(["SLSA_BUILD_LEVEL_4"]),
            "verifiedLevels[0]",
        ),
        (
            full_inputs().with_verified_levels(["SLSA_BUILD_LEVEL_2", "SLSA_BUILD_LEVEL_3"]),
            "verifiedLevels[1]",
        ),
        (
            full_inputs().with_verified_levels(["FAILED"]),
            "verifiedLevels[0]",
        ),
        (
            full_inputs()
                .with_input_attestation(InputAttestation::new("https://a", DigestSet::new())),
            "inputAttestations[2].digest",
        ),
        (
            full_inputs().with_dependency_level("", 1),
            "dependencyLevels.",
        ),
        (full_inputs().with_slsa_version("2.0"), "slsaVersion"),
        (full_inputs().with_slsa_version("1"), "slsaVersion"),
    ];
    for (inputs, field) in cases {
        let err = VerificationSummary::from_report(&passing_report(), &inputs).unwrap_err();
        let at = match &err {
            PredicateError::MissingField { field, .. } => (*field).to_owned(),
            PredicateError::Invalid { path, .. } => path.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(at, field, "{err}");
    }
}

// ---------------------------------------------------------------------
// Parsing: required fields, unknown fields.
// ---------------------------------------------------------------------

fn valid_predicate() -> Value {
    json!({
        "verifier": {"id": VERIFIER},
        "timeVerified": "2024-05-01T12:00:00Z",
        "resourceUri": RESOURCE,
        "policy": {"uri": "https://policies.acme.dev/release.json"},
        "verificationResult": "PASSED",
        "verifiedLevels": ["SLSA_BUILD_LEVEL_3"]
    })
}

fn parse(predicate: &Value) -> Result<VerificationSummary, serde_json::Error> {
    serde_json::from_value(predicate.clone())
}

#[test]
fn parsing_requires_the_spec_fields_by_name() {
    for (pointer, field) in [
        ("/verifier", "`verifier`"),
        ("/verifier/id", "`verifier.id`"),
        ("/resourceUri", "`resourceUri`"),
        ("/policy", "`policy`"),
        ("/policy/uri", "`policy`"),
        ("/verificationResult", "`verificationResult`"),
        ("/verifiedLevels", "`verifiedLevels`"),
    ] {
        let mut doc = valid_predicate();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        doc_parent(&mut doc, parent).remove(key);
        let err = parse(&doc).unwrap_err().to_string();
        assert!(
            err.contains(&format!("{field} is required")),
            "{pointer}: {err}"
        );
    }
    // SLSA 1.1: `timeVerified` is optional.
    let mut doc = valid_predicate();
    doc.as_object_mut().unwrap().remove("timeVerified");
    assert_eq!(parse(&doc).unwrap().time_verified, None);
    // A policy known only by digest is accepted.
    let mut doc = valid_predicate();
    doc["policy"] = json!({"digest": {"sha256": DigestSet::of_bytes(b"p").get("sha256").unwrap()}});
    assert!(parse(&doc).is_ok());
}

#[test]
fn parsing_rejects_values_the_spec_does_not_allow() {
    for (pointer, value, needle) in [
        ("/verificationResult", json!("passed"), "unknown variant"),
        ("/verificationResult", json!("MAYBE"), "unknown variant"),
        ("/timeVerified", json!("yesterday"), "RFC 3339"),
        ("/verifiedLevels", json!("SLSA_BUILD_LEVEL_3"), "sequence"),
        ("/verifiedLevels", json!([""]), "verifiedLevels[0]"),
        ("/verifiedLevels", json!(["SLSA_L3"]), "reserved"),
        (
            "/dependencyLevels",
            json!({"SLSA_BUILD_LEVEL_1": -1}),
            "invalid value",
        ),
        (
            "/inputAttestations",
            json!([{"uri": "https://a"}]),
            "inputAttestations[0].digest",
        ),
        ("/policy/digest", json!({"sha256": "abc"}), "sha256"),
        ("/slsaVersion", json!("v1"), "slsaVersion"),
    ] {
        let mut doc = valid_predicate();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        doc_parent(&mut doc, parent).insert(key.to_owned(), value);
        let err = parse(&doc).unwrap_err().to_string();
        assert!(err.contains(needle), "{pointer}: {err}");
    }
    // A FAILED summary claiming a level is contradictory; FAILED itself
    // (the spec's SlsaResult for a failed verification) and level 0 are not.
    let mut doc = valid_predicate();
    doc["verificationResult"] = json!("FAILED");
    assert!(
        parse(&doc)
            .unwrap_err()
            .to_string()
            .contains("a FAILED summary cannot list")
    );
    doc["verifiedLevels"] = json!(["FAILED"]);
    assert!(parse(&doc).is_ok());
    doc["verifiedLevels"] = json!(["SLSA_BUILD_LEVEL_0"]);
    assert!(parse(&doc).is_ok());
    doc["verifiedLevels"] = json!([]);
    assert!(parse(&doc).is_ok());
}

fn doc_parent<'a>(doc: &'a mut Value, parent: &str) -> &'a mut serde_json::Map<String, Value> {
    doc.pointer_mut(parent).unwrap().as_object_mut().unwrap()
}

#[test]
fn parsing_ignores_unknown_fields() {
    let mut doc = valid_predicate();
    doc["https://example.com/extension"] = json!({"any": "thing"});
    doc["verifier"]["builderOf"] = json!(1);
    doc["policy"]["name"] = json!("release");
    let summary = parse(&doc).unwrap();
    assert_eq!(summary.verifier.id, VERIFIER);
    assert!(
        !serde_json::to_string(&summary)
            .unwrap()
            .contains("extension")
    );
}

#[test]
fn statement_with_duplicate_members_is_rejected() {
    let json = format!(
        r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"a","digest":{{"sha256":"{}"}}}}],"predicateType":"{VSA_V1}","predicate":{{"verifier":{{"id":"a"}},"verifier":{{"id":"b"}}}}}}"#,
        artifact().get("sha256").unwrap()
    );
    assert!(Statement::from_json(json.as_bytes()).is_err());
}

// ---------------------------------------------------------------------
// check_vsa: one test per failure kind.
// ---------------------------------------------------------------------

fn passing_statement() -> Statement {
    statement_of(&VerificationSummary::from_report(&passing_report(), &full_inputs()).unwrap())
}

fn with_predicate(edit: impl FnOnce(&mut Value)) -> Statement {
    let statement = passing_statement();
    let mut predicate = statement.predicate_value().unwrap();
    edit(&mut predicate);
    Statement::new_untyped(statement.subject().to_vec(), VSA_V1, predicate).unwrap()
}

#[test]
fn check_vsa_passes_the_generated_vsa() {
    let report = check_vsa(&passing_statement(), &expectation());
    assert!(report.verified(), "{report}");
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["verified"], true);
}

#[test]
fn check_vsa_fails_predicate_type() {
    let statement = passing_statement();
    let other = Statement::new_untyped(
        statement.subject().to_vec(),
        "https://slsa.dev/verification_summary/v0.2",
        statement.predicate_value().unwrap(),
    )
    .unwrap();
    let report = check_vsa(&other, &expectation());
    assert!(failed(&report, "predicate-type").reason.contains(VSA_V1));
    assert_eq!(names(&report), ["predicate-type"]);
}

#[test]
fn check_vsa_fails_predicate() {
    let statement = with_predicate(|p| {
        p.as_object_mut().unwrap().remove("resourceUri");
    });
    let report = check_vsa(&statement, &expectation());
    assert!(
        failed(&report, "predicate")
            .reason
            .contains("`resourceUri` is required"),
        "{report}"
    );
    assert_eq!(names(&report), ["predicate-type", "predicate"]);
}

#[test]
fn check_vsa_fails_subject() {
    let expect = VsaExpectation::new(DigestSet::of_bytes(b"rebuilt"), [VERIFIER], RESOURCE);
    let report = check_vsa(&passing_statement(), &expect);
    assert!(
        failed(&report, "subject").reason.contains("sha256 differs"),
        "{report}"
    );
    assert_eq!(report.first_failure().unwrap().name, "subject");
}

#[test]
fn check_vsa_fails_verifier_id() {
    let expect = VsaExpectation::new(artifact(), ["https://verifier.other.dev"], RESOURCE);
    let report = check_vsa(&passing_statement(), &expect);
    assert!(
        failed(&report, "verifier-id")
            .reason
            .contains("not a trusted verifier")
    );
    assert_eq!(report.first_failure().unwrap().name, "verifier-id");
    // Exact match only: a prefix is not the verifier.
    let prefix = VsaExpectation::new(artifact(), ["https://verifier.acme.dev"], RESOURCE);
    failed(&check_vsa(&passing_statement(), &prefix), "verifier-id");
    // No trusted verifier at all.
    let none = VsaExpectation::new(artifact(), Vec::<String>::new(), RESOURCE);
    let report = check_vsa(&passing_statement(), &none);
    assert!(
        failed(&report, "verifier-id")
            .reason
            .contains("no trusted verifier")
    );
}

#[test]
fn check_vsa_fails_resource_uri() {
    let expect = VsaExpectation::new(
        artifact(),
        [VERIFIER],
        "https://downloads.acme.dev/app-1.1.tar.gz",
    );
    let report = check_vsa(&passing_statement(), &expect);
    let check = failed(&report, "resource-uri");
    assert!(
        check.reason.contains("app-1.1") && check.reason.contains("app-1.0"),
        "{report}"
    );
    assert_eq!(report.first_failure().unwrap().name, "resource-uri");
}

#[test]
fn check_vsa_fails_verification_result() {
    let summary = VerificationSummary::from_report(&Report::new(), &full_inputs()).unwrap();
    let report = check_vsa(&statement_of(&summary), &expectation());
    assert!(
        failed(&report, "verification-result")
            .reason
            .contains("FAILED")
    );
    assert_eq!(report.first_failure().unwrap().name, "verification-result");
}

#[test]
fn check_vsa_fails_verified_levels() {
    let report = check_vsa(
        &passing_statement(),
        &expectation().with_levels(["BCID_L1"]),
    );
    let check = failed(&report, "verified-levels");
    assert!(check.reason.contains("BCID_L1 not verified"), "{report}");
    assert_eq!(report.first_failure().unwrap().name, "verified-levels");

    // A lower SLSA level does not satisfy a higher one of the same track,
    // and another track does not count.
    let level_1 = with_predicate(|p| p["verifiedLevels"] = json!(["SLSA_BUILD_LEVEL_1"]));
    failed(&check_vsa(&level_1, &expectation()), "verified-levels");
    let source = with_predicate(|p| p["verifiedLevels"] = json!(["SLSA_SOURCE_LEVEL_3"]));
    failed(&check_vsa(&source, &expectation()), "verified-levels");
    // No level required: passes whatever is listed.
    let none = VsaExpectation::new(artifact(), [VERIFIER], RESOURCE);
    assert!(check_vsa(&level_1, &none).verified());
}

#[test]
fn verify_vsa_fails_payload_type_and_statement() {
    let key = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let keys: TrustAnchors = [key.public_key().clone()].into_iter().collect();
    let envelope = Envelope::sign(
        "application/json",
        passing_statement().to_json().unwrap(),
        &key,
    )
    .unwrap();
    let verified = verify_vsa(&envelope, &keys, &expectation());
    failed(verified.report(), "payload-type");
    let envelope = Envelope::sign(PAYLOAD_TYPE, b"{}".to_vec(), &key).unwrap();
    let verified = verify_vsa(&envelope, &keys, &expectation());
    failed(verified.report(), "statement");
    assert!(verified.summary().is_none());
}

#[test]
fn predicate_error_is_a_custodia_error() {
    let err: Error = VerificationSummary::from_report(
        &passing_report(),
        &VsaInputs::new(VERIFIER, RESOURCE, Policy::new("")),
    )
    .unwrap_err()
    .into();
    assert_eq!(err.to_string(), "SLSA VSA v1: `policy` is required");
}
