//! SLSA provenance: generation from CI environments, reproducibility, and
//! one test per verification failure kind, each asserting the named check.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::HashMap;

use custodia::digest::DigestSet;
use custodia::dsse::Envelope;
use custodia::keys::{KeyAlgorithm, PrivateKey};
use custodia::predicate::slsa_provenance::{
    PROVENANCE_V0_2, PROVENANCE_V1, Provenance, ProvenanceClaims, ProvenanceVersion,
};
use custodia::provenance::{
    BuildContext, GITHUB_ACTIONS_BUILD_TYPE, GITLAB_CI_BUILD_TYPE, ProvenanceExpectation,
    RefExpectation, SourceRef, verify_provenance, verify_provenance_statement,
};
use custodia::report::Report;
use custodia::resource::ResourceDescriptor;
use custodia::statement::{PAYLOAD_TYPE, Statement};
use custodia::time::Timestamp;
use custodia::trust::TrustAnchors;

const BUILDER: &str = "https://github.com/acme/builders/.github/workflows/build.yml";
const COMMIT: &str = "4d329c75e7ec1725f7c9ce917a8799d408d06be3";

fn artifact() -> DigestSet {
    DigestSet::of_bytes(b"app-1.4.2.tar.gz")
}

fn github_vars() -> HashMap<&'static str, &'static str> {
    HashMap::from([
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_REPOSITORY", "acme/app"),
        ("GITHUB_REF", "refs/tags/v1.4.2"),
        ("GITHUB_SHA", COMMIT),
        (
            "GITHUB_WORKFLOW_REF",
            "acme/app/.github/workflows/release.yml@refs/tags/v1.4.2",
        ),
        ("GITHUB_EVENT_NAME", "push"),
        ("GITHUB_REPOSITORY_ID", "42"),
        ("GITHUB_REPOSITORY_OWNER_ID", "7"),
        ("RUNNER_ENVIRONMENT", "github-hosted"),
        ("GITHUB_RUN_ID", "1001"),
        ("GITHUB_RUN_ATTEMPT", "2"),
        (
            "CUSTODIA_BUILDER_ID",
            "https://github.com/acme/builders/.github/workflows/build.yml@refs/tags/v3.0.0",
        ),
    ])
}

fn context(vars: &HashMap<&'static str, &'static str>) -> BuildContext {
    BuildContext::from_vars(|k| vars.get(k).map(|v| (*v).to_owned()))
        .with_subject("app-1.4.2.tar.gz", artifact())
        .with_times(
            Timestamp::from_unix(1_700_000_000),
            Timestamp::from_unix(1_700_000_090),
        )
}

struct Fixture {
    builder_key: PrivateKey,
    keys: TrustAnchors,
}

fn fixture() -> Fixture {
    let builder_key = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let keys = [builder_key.public_key().clone()].into_iter().collect();
    Fixture { builder_key, keys }
}

fn sign(f: &Fixture, statement: &Statement) -> Envelope {
    Envelope::sign(PAYLOAD_TYPE, statement.to_json().unwrap(), &f.builder_key).unwrap()
}

fn expectation() -> ProvenanceExpectation {
    ProvenanceExpectation::new(artifact(), [BUILDER], "https://github.com/acme/app.git")
}

/// Asserts the first failing check's name and that its reason mentions
/// each of `mentions`.
fn assert_fails(report: &Report, check: &str, mentions: &[&str]) {
    assert!(!report.verified(), "{report}");
    let failure = report.first_failure().unwrap();
    assert_eq!(failure.name, check, "{report}");
    for m in mentions {
        assert!(
            failure.reason.contains(m),
            "reason {:?} lacks {m:?}",
            failure.reason
        );
    }
}

#[test]
fn github_actions_environment_gives_githubs_workflow_shape() {
    let statement = context(&github_vars()).to_statement().unwrap();
    let predicate: serde_json::Value = statement.predicate_value().unwrap();
    assert_eq!(
        predicate["buildDefinition"]["buildType"],
        GITHUB_ACTIONS_BUILD_TYPE
    );
    let workflow = &predicate["buildDefinition"]["externalParameters"]["workflow"];
    assert_eq!(workflow["repository"], "https://github.com/acme/app");
    assert_eq!(workflow["ref"], "refs/tags/v1.4.2");
    assert_eq!(workflow["path"], ".github/workflows/release.yml");
    let dep = &predicate["buildDefinition"]["resolvedDependencies"][0];
    assert_eq!(
        dep["uri"],
        "git+https://github.com/acme/app@refs/tags/v1.4.2"
    );
    assert_eq!(dep["digest"]["gitCommit"], COMMIT);
    assert_eq!(
        predicate["buildDefinition"]["internalParameters"]["github"]["event_name"],
        "push"
    );
    assert_eq!(
        predicate["runDetails"]["metadata"]["invocationId"],
        "https://github.com/acme/app/actions/runs/1001/attempts/2"
    );
    assert_eq!(
        predicate["runDetails"]["metadata"]["startedOn"],
        "2023-11-14T22:13:20Z"
    );

    let claims = ProvenanceClaims::from_statement(&statement).unwrap();
    let source = claims.source.unwrap();
    assert_eq!(source.repository, "github.com/acme/app");
    assert_eq!(source.git_ref.as_deref(), Some("refs/tags/v1.4.2"));
    assert_eq!(source.digest.get("gitCommit"), Some(COMMIT));
}

#[test]
fn gitlab_and_generic_environments() {
    let gitlab = HashMap::from([
        ("GITLAB_CI", "true"),
        ("CI_SERVER_URL", "https://gitlab.example.com"),
        ("CI_RUNNER_ID", "12"),
        ("CI_PROJECT_URL", "https://gitlab.example.com/acme/app"),
        ("CI_COMMIT_BRANCH", "main"),
        ("CI_COMMIT_SHA", COMMIT),
        ("CI_JOB_URL", "https://gitlab.example.com/acme/app/-/jobs/9"),
        ("CI_CONFIG_PATH", ".gitlab-ci.yml"),
    ]);
    let ctx = context(&gitlab);
    assert_eq!(ctx.builder_id, "https://gitlab.example.com/-/runners/12");
    assert_eq!(ctx.build_type, GITLAB_CI_BUILD_TYPE);
    let claims = ProvenanceClaims::from_statement(&ctx.to_statement().unwrap()).unwrap();
    let source = claims.source.unwrap();
    assert_eq!(source.repository, "gitlab.example.com/acme/app");
    assert_eq!(source.git_ref.as_deref(), Some("refs/heads/main"));
    assert_eq!(
        claims.invocation_id.as_deref(),
        Some("https://gitlab.example.com/acme/app/-/jobs/9")
    );

    let generic = HashMap::from([
        ("CUSTODIA_BUILDER_ID", "https://ci.acme.dev/builder@v1"),
        ("CUSTODIA_SOURCE_URI", "https://git.acme.dev/app"),
        ("CUSTODIA_SOURCE_REF", "refs/heads/release"),
    ]);
    let claims =
        ProvenanceClaims::from_statement(&context(&generic).to_statement().unwrap()).unwrap();
    assert_eq!(claims.builder_id, "https://ci.acme.dev/builder@v1");
    assert_eq!(
        claims.source.unwrap().git_ref.as_deref(),
        Some("refs/heads/release")
    );

    // No builder id anywhere: a clear error, not an invalid provenance.
    let err = context(&HashMap::new()).to_statement().unwrap_err();
    assert!(err.to_string().contains("runDetails.builder.id"), "{err}");
}

#[test]
fn output_is_reproducible_and_round_trips_byte_for_byte() {
    let a = context(&github_vars())
        .to_statement()
        .unwrap()
        .to_json()
        .unwrap();
    let b = context(&github_vars())
        .to_statement()
        .unwrap()
        .to_json()
        .unwrap();
    assert_eq!(a, b);
    let parsed = Statement::from_json(&a).unwrap();
    assert_eq!(parsed.to_json().unwrap(), a);
    let typed: Provenance = parsed.predicate_as().unwrap();
    let rebuilt = Statement::new(parsed.subject().to_vec(), &typed).unwrap();
    assert_eq!(rebuilt.to_json().unwrap(), a);
}

#[test]
fn source_date_epoch_fixes_missing_times() {
    // Setting an environment variable in a multi-threaded test process is
    // unsound (and `unsafe` in edition 2024): run this test again in a
    // child process that has the variable from the start.
    let exe = std::env::current_exe().unwrap();
    if std::env::var_os("CUSTODIA_SDE_CHILD").is_some() {
        let ctx = BuildContext::new("https://ci.acme.dev/b").with_subject("a", artifact());
        let p = ctx.to_provenance().unwrap();
        let meta = p.run_details.metadata.unwrap();
        assert_eq!(meta.started_on.unwrap().to_string(), "2001-09-09T01:46:40Z");
        assert_eq!(meta.finished_on, meta.started_on);
        return;
    }
    let status = std::process::Command::new(exe)
        .args([
            "--exact",
            "source_date_epoch_fixes_missing_times",
            "--nocapture",
        ])
        .env("CUSTODIA_SDE_CHILD", "1")
        .env("SOURCE_DATE_EPOCH", "1000000000")
        .status()
        .unwrap();
    assert!(status.success());
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "source_date_epoch_fixes_missing_times"])
        .env("CUSTODIA_SDE_CHILD", "1")
        .env("SOURCE_DATE_EPOCH", "not-a-number")
        .output()
        .unwrap();
    assert!(
        !status.status.success(),
        "an invalid SOURCE_DATE_EPOCH must be an error"
    );
}

#[test]
fn good_provenance_verifies_with_every_check_named() {
    let f = fixture();
    let env = sign(&f, &context(&github_vars()).to_statement().unwrap());
    let expect = expectation()
        .with_ref(RefExpectation::VersionedTag("v1.4".into()))
        .with_build_type(GITHUB_ACTIONS_BUILD_TYPE);
    let verified = verify_provenance(&env, &f.keys, &expect);
    let report = verified.report();
    assert!(report.verified(), "{report}");
    let names: Vec<&str> = report.checks().iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "signature[0]",
            "threshold",
            "payload-type",
            "statement",
            "predicate-type",
            "predicate",
            "subject",
            "builder-id",
            "source-repository",
            "source-ref",
            "build-type"
        ]
    );
    assert_eq!(verified.claims().unwrap().version, ProvenanceVersion::V1);
}

#[test]
fn wrong_builder_is_named() {
    let f = fixture();
    let env = sign(&f, &context(&github_vars()).to_statement().unwrap());
    let expect = ProvenanceExpectation::new(
        artifact(),
        ["https://github.com/acme/other.yml"],
        "github.com/acme/app",
    );
    let report = verify_provenance(&env, &f.keys, &expect).report().clone();
    assert_fails(
        &report,
        "builder-id",
        &["build.yml@refs/tags/v3.0.0", "acme/other.yml"],
    );
    // A pinned version must match exactly.
    let pinned = ProvenanceExpectation::new(
        artifact(),
        [format!("{BUILDER}@refs/tags/v2.0.0")],
        "github.com/acme/app",
    );
    assert_fails(
        verify_provenance(&env, &f.keys, &pinned).report(),
        "builder-id",
        &["v2.0.0"],
    );
    // A prefix that is not a version separator is not a match.
    let prefix = ProvenanceExpectation::new(
        artifact(),
        ["https://github.com/acme/builders/.github/workflows/build"],
        "github.com/acme/app",
    );
    assert_fails(
        verify_provenance(&env, &f.keys, &prefix).report(),
        "builder-id",
        &[],
    );
}

#[test]
fn wrong_source_is_named() {
    let f = fixture();
    let env = sign(&f, &context(&github_vars()).to_statement().unwrap());
    let expect = ProvenanceExpectation::new(artifact(), [BUILDER], "github.com/acme/app-fork");
    assert_fails(
        verify_provenance(&env, &f.keys, &expect).report(),
        "source-repository",
        &[
            "github.com/acme/app-fork",
            "git+https://github.com/acme/app@refs/tags/v1.4.2",
        ],
    );
}

#[test]
fn wrong_ref_is_named() {
    let f = fixture();
    let env = sign(&f, &context(&github_vars()).to_statement().unwrap());
    let cases = [
        (RefExpectation::Branch("main".into()), "branch `main`"),
        (RefExpectation::Tag("v1.4".into()), "tag `v1.4`"),
        (RefExpectation::VersionedTag("v1.5".into()), "within `v1.5`"),
        (
            RefExpectation::VersionedTag("v1.4.3".into()),
            "within `v1.4.3`",
        ),
        (
            RefExpectation::Exact("refs/heads/main".into()),
            "ref `refs/heads/main`",
        ),
    ];
    for (expected, mention) in cases {
        let report = verify_provenance(&env, &f.keys, &expectation().with_ref(expected))
            .report()
            .clone();
        assert_fails(&report, "source-ref", &[mention, "refs/tags/v1.4.2"]);
    }
    for ok in [
        RefExpectation::Tag("v1.4.2".into()),
        RefExpectation::VersionedTag("v1".into()),
        RefExpectation::VersionedTag("v1.4.2".into()),
    ] {
        assert!(
            verify_provenance(&env, &f.keys, &expectation().with_ref(ok))
                .report()
                .verified()
        );
    }
}

#[test]
fn digest_mismatch_is_named() {
    let f = fixture();
    let env = sign(&f, &context(&github_vars()).to_statement().unwrap());
    let rebuilt = DigestSet::of_bytes(b"app-1.4.2.tar.gz rebuilt");
    let expect = ProvenanceExpectation::new(rebuilt.clone(), [BUILDER], "github.com/acme/app");
    assert_fails(
        verify_provenance(&env, &f.keys, &expect).report(),
        "subject",
        &[
            rebuilt.get("sha256").unwrap(),
            artifact().get("sha256").unwrap(),
        ],
    );
}

#[test]
fn wrong_predicate_type_is_named() {
    let f = fixture();
    let st = Statement::new_untyped(
        vec![ResourceDescriptor::new("app", artifact())],
        "https://example.com/test-result/v1",
        serde_json::json!({"passed": true}),
    )
    .unwrap();
    assert_fails(
        verify_provenance(&sign(&f, &st), &f.keys, &expectation()).report(),
        "predicate-type",
        &["https://slsa.dev/provenance/v1", "test-result"],
    );
}

#[test]
fn untrusted_signer_is_named() {
    let f = fixture();
    let stranger = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let st = context(&github_vars()).to_statement().unwrap();
    let env = Envelope::sign(PAYLOAD_TYPE, st.to_json().unwrap(), &stranger).unwrap();
    let verified = verify_provenance(&env, &f.keys, &expectation());
    assert_fails(verified.report(), "signature[0]", &["does not verify"]);
    assert!(verified.claims().is_none());
    // The payload of an unverified envelope is not even parsed.
    assert!(
        !verified
            .report()
            .checks()
            .iter()
            .any(|c| c.name == "statement")
    );
}

#[test]
fn v0_2_and_v1_mix_ups_are_named() {
    let f = fixture();
    let v1 = context(&github_vars()).to_statement().unwrap();
    // A v1 predicate labelled v0.2: v0.2 needs `builder` at the top.
    let mislabelled = Statement::new_untyped(
        v1.subject().to_vec(),
        PROVENANCE_V0_2,
        v1.predicate_value().unwrap(),
    )
    .unwrap();
    assert_fails(
        verify_provenance(&sign(&f, &mislabelled), &f.keys, &expectation()).report(),
        "predicate",
        &["builder"],
    );
    // A v0.2 predicate labelled v1: v1 needs `buildDefinition`.
    let v02 = serde_json::json!({
        "builder": {"id": format!("{BUILDER}@refs/tags/v3.0.0")},
        "buildType": "https://github.com/slsa-framework/slsa-github-generator/generic@v1",
        "invocation": {"configSource": {"uri": "git+https://github.com/acme/app@refs/tags/v1.4.2",
                                         "digest": {"sha1": COMMIT}, "entryPoint": "release.yml"}}
    });
    let as_v1 = Statement::new_untyped(v1.subject().to_vec(), PROVENANCE_V1, v02.clone()).unwrap();
    assert_fails(
        verify_provenance(&sign(&f, &as_v1), &f.keys, &expectation()).report(),
        "predicate",
        &["buildDefinition"],
    );
    // Labelled correctly, the same v0.2 claims verify and map to one view.
    let as_v02 = Statement::new_untyped(v1.subject().to_vec(), PROVENANCE_V0_2, v02).unwrap();
    let verified = verify_provenance(
        &sign(&f, &as_v02),
        &f.keys,
        &expectation().with_ref(RefExpectation::Tag("v1.4.2".into())),
    );
    assert!(verified.report().verified(), "{}", verified.report());
    assert_eq!(verified.claims().unwrap().version, ProvenanceVersion::V0_2);
}

#[test]
fn workflow_inputs_are_compared_typed() {
    let mut ctx = context(&github_vars());
    ctx.external_parameters.insert(
        "inputs".into(),
        serde_json::json!({"release": "1.4.2", "dry_run": false, "shards": 3, "sign": "true"}),
    );
    let st = ctx.to_statement().unwrap();
    let ok = expectation()
        .with_input("release", "1.4.2")
        .with_input("sign", "true")
        .with_input_value("dry_run", serde_json::json!(false))
        .with_input_value("shards", serde_json::json!(3));
    assert!(verify_provenance_statement(&st, &ok).report().verified());
    // Text is not a boolean or a number, and a boolean is not text (#14).
    for (name, expect) in [
        ("dry_run", expectation().with_input("dry_run", "false")),
        ("shards", expectation().with_input("shards", "3")),
        (
            "sign",
            expectation().with_input_value("sign", serde_json::json!(true)),
        ),
        (
            "shards",
            expectation().with_input_value("shards", serde_json::json!(4)),
        ),
    ] {
        let report = verify_provenance_statement(&st, &expect).report().clone();
        assert_eq!(
            report.first_failure().map(|c| c.name.clone()),
            Some(format!("input:{name}")),
            "{report}"
        );
    }
    assert_fails(
        verify_provenance_statement(&st, &expectation().with_input("missing", "x")).report(),
        "input:missing",
        &["no such input"],
    );
}

#[test]
fn statement_only_verification_says_nothing_about_signers() {
    let st = context(&github_vars()).to_statement().unwrap();
    let report = verify_provenance_statement(&st, &expectation())
        .report()
        .clone();
    assert!(report.verified(), "{report}");
    assert!(
        report
            .checks()
            .iter()
            .all(|c| !c.name.starts_with("signature"))
    );
}

#[test]
fn source_ref_uri_and_explicit_source() {
    let mut source = SourceRef::new("https://git.acme.dev/app.git");
    source.git_ref = Some("refs/heads/main".into());
    assert_eq!(
        source.uri(),
        "git+https://git.acme.dev/app.git@refs/heads/main"
    );
    let st = BuildContext::new("https://ci.acme.dev/builder")
        .with_source(source)
        .with_subject("a", artifact())
        .with_times(Timestamp::from_unix(0), Timestamp::from_unix(1))
        .to_statement()
        .unwrap();
    let expect = ProvenanceExpectation::new(
        artifact(),
        ["https://ci.acme.dev/builder"],
        "git.acme.dev/app",
    )
    .with_ref(RefExpectation::Branch("main".into()));
    assert!(
        verify_provenance_statement(&st, &expect)
            .report()
            .verified()
    );
}
