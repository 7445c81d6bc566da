//! SLSA 1.2 Source track in a promotion gate: prod requires build
//! provenance whose source commit has a Source VSA from a trusted source
//! verifier at SLSA_SOURCE_LEVEL_3 or higher. The gate passes with a
//! matching Source VSA and refuses a lower level, another commit, an
//! untrusted verifier, a VSA signed by a key without the source-verifier
//! role, and a missing VSA; a property (two-party review) can be required
//! instead of, or besides, a level. The Source VSA has the shape of the
//! SLSA 1.2 Source track's example (subject `gitCommit`,
//! `annotations.sourceRefs`, `resourceUri` `git+https://...`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use custodia::digest::{Digest, DigestAlgorithm, DigestSet};
use custodia::dsse::Envelope;
use custodia::keys::{KeyAlgorithm, PrivateKey};
use custodia::policy::source_track::{SourceCommit, SourceVsaRule, check_source_vsa};
use custodia::policy::{EvidenceEnvelope, GateRequest, Policy, evaluate_gate};
use custodia::resource::ResourceDescriptor;
use custodia::statement::{PAYLOAD_TYPE, Statement};
use custodia::time::Timestamp;
use serde_json::json;

const COMMIT: &str = "c27d339ee6075c1f744c5d4b200f7901aad2c3b4";
const OTHER_COMMIT: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c";
const VERIFIER: &str = "https://source.acme.dev/verifier";
const PROVENANCE: &str = "https://slsa.dev/provenance/v1";
const VSA: &str = "https://slsa.dev/verification_summary/v1";

struct Keys {
    builder: PrivateKey,
    source: PrivateKey,
    stranger: PrivateKey,
}

fn keys() -> Keys {
    Keys {
        builder: PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap(),
        source: PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap(),
        stranger: PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap(),
    }
}

fn policy(keys: &Keys, levels: &[&str]) -> custodia::policy::ActivePolicy {
    let doc = json!({
        "version": 1,
        "keys": [
            {"identity": "ci", "roles": ["builder"], "publicKey": keys.builder.public_key().to_pem()},
            {"identity": "source-verifier", "roles": ["source-verifier"], "publicKey": keys.source.public_key().to_pem()},
            {"identity": "stranger", "roles": ["tester"], "publicKey": keys.stranger.public_key().to_pem()},
        ],
        "environments": [{"name": "prod", "requires": [{
            "predicateType": PROVENANCE,
            "signerRole": "builder",
            "conditions": {"sourceVsa": {
                "signerRole": "source-verifier",
                "verifiers": [VERIFIER],
                "levels": levels,
            }},
        }]}],
        "promotions": [],
    });
    Policy::from_json(&serde_json::to_vec(&doc).unwrap())
        .unwrap()
        .activate()
        .unwrap()
}

fn artifact() -> DigestSet {
    DigestSet::of_bytes(b"app-1.4.2.tar.gz")
}

fn evidence(envelope: &Envelope) -> EvidenceEnvelope {
    let bytes = envelope.to_json().unwrap();
    EvidenceEnvelope::new(DigestAlgorithm::Sha256.hash(&bytes), envelope.clone())
}

fn provenance(keys: &Keys, commit: &str) -> EvidenceEnvelope {
    let statement = Statement::new_untyped(
        vec![ResourceDescriptor::new("app-1.4.2.tar.gz", artifact())],
        PROVENANCE,
        json!({
            "buildDefinition": {
                "buildType": "https://actions.github.io/buildtypes/workflow/v1",
                "externalParameters": {"workflow": {"ref": "refs/heads/main", "repository": "https://github.com/acme/app", "path": ".github/workflows/release.yml"}},
                "resolvedDependencies": [{"uri": "git+https://github.com/acme/app@refs/heads/main", "digest": {"gitCommit": commit}}],
            },
            "runDetails": {"builder": {"id": "https://github.com/actions/runner/github-hosted"}},
        }),
    )
    .unwrap();
    evidence(&Envelope::sign(PAYLOAD_TYPE, statement.to_json().unwrap(), &keys.builder).unwrap())
}

fn source_vsa_statement(commit: &str, verifier: &str, levels: &[&str]) -> Statement {
    let mut digest = DigestSet::new();
    digest.insert_raw("gitCommit", commit).unwrap();
    let mut subject = ResourceDescriptor::new(
        format!("https://github.com/acme/app/commit/{commit}"),
        digest,
    );
    subject
        .annotations
        .insert("sourceRefs".into(), json!(["refs/heads/main"]));
    Statement::new_untyped(
        vec![subject],
        VSA,
        json!({
            "verifier": {"id": verifier, "version": {"source-tool": "0.9"}},
            "timeVerified": "2026-03-01T12:00:00Z",
            "resourceUri": "git+https://github.com/acme/app",
            "policy": {"uri": "https://source.acme.dev/policy/main"},
            "verificationResult": "PASSED",
            "verifiedLevels": levels,
            "slsaVersion": "1.2",
        }),
    )
    .unwrap()
}

fn source_vsa(
    signer: &PrivateKey,
    commit: &str,
    verifier: &str,
    levels: &[&str],
) -> EvidenceEnvelope {
    let statement = source_vsa_statement(commit, verifier, levels);
    // in-toto 1.2's predicate-specific payload type works here too.
    evidence(
        &Envelope::sign(
            "application/vnd.in-toto.vsa+json",
            statement.to_json().unwrap(),
            signer,
        )
        .unwrap(),
    )
}

fn request() -> GateRequest {
    GateRequest::new(
        artifact(),
        None,
        "prod",
        Timestamp::from_unix(1_780_000_000),
    )
}

fn gate(
    policy: &custodia::policy::ActivePolicy,
    evidence: &[EvidenceEnvelope],
) -> custodia::policy::GateOutcome {
    evaluate_gate(policy, &request(), evidence)
}

fn digest_of(e: &EvidenceEnvelope) -> Digest {
    e.digest().clone()
}

#[test]
fn a_prod_gate_requiring_source_level_3_passes_with_a_matching_source_vsa() {
    let keys = keys();
    let policy = policy(&keys, &["SLSA_SOURCE_LEVEL_3"]);
    let prov = provenance(&keys, COMMIT);
    for level in ["SLSA_SOURCE_LEVEL_3", "SLSA_SOURCE_LEVEL_4"] {
        let vsa = source_vsa(&keys.source, COMMIT, VERIFIER, &[level]);
        let outcome = gate(&policy, &[prov.clone(), vsa.clone()]);
        assert!(outcome.report.verified(), "{level}: {}", outcome.report);
        // Both the provenance and the Source VSA are the record's evidence
        // (so re-validating the record finds the VSA again).
        let used: Vec<Digest> = outcome.evidence.iter().map(|e| e.digest.clone()).collect();
        assert_eq!(used, [digest_of(&prov), digest_of(&vsa)]);
        assert_eq!(outcome.evidence[1].predicate_type, VSA);
    }
}

fn refused_at_requires(policy: &custodia::policy::ActivePolicy, evidence: &[EvidenceEnvelope]) {
    let outcome = gate(policy, evidence);
    assert!(!outcome.report.verified());
    assert_eq!(outcome.report.first_failure().unwrap().name, "requires[0]");
}

#[test]
fn the_gate_refuses_a_lower_level_another_commit_an_untrusted_verifier() {
    let keys = keys();
    let policy = policy(&keys, &["SLSA_SOURCE_LEVEL_3"]);
    let prov = provenance(&keys, COMMIT);
    // Lower level.
    refused_at_requires(
        &policy,
        &[
            prov.clone(),
            source_vsa(&keys.source, COMMIT, VERIFIER, &["SLSA_SOURCE_LEVEL_2"]),
        ],
    );
    // Another commit.
    refused_at_requires(
        &policy,
        &[
            prov.clone(),
            source_vsa(
                &keys.source,
                OTHER_COMMIT,
                VERIFIER,
                &["SLSA_SOURCE_LEVEL_3"],
            ),
        ],
    );
    // An untrusted verifier id (signed by the trusted key all the same).
    refused_at_requires(
        &policy,
        &[
            prov.clone(),
            source_vsa(
                &keys.source,
                COMMIT,
                "https://evil.example/verifier",
                &["SLSA_SOURCE_LEVEL_4"],
            ),
        ],
    );
    // Signed by a key without the source-verifier role.
    refused_at_requires(
        &policy,
        &[
            prov.clone(),
            source_vsa(&keys.stranger, COMMIT, VERIFIER, &["SLSA_SOURCE_LEVEL_4"]),
        ],
    );
    // No Source VSA at all.
    refused_at_requires(&policy, std::slice::from_ref(&prov));
    // A build from another commit, with a VSA for that other commit's
    // neighbour: the provenance's commit is what the VSA must name.
    refused_at_requires(
        &policy,
        &[
            provenance(&keys, OTHER_COMMIT),
            source_vsa(&keys.source, COMMIT, VERIFIER, &["SLSA_SOURCE_LEVEL_3"]),
        ],
    );
}

#[test]
fn each_refusal_has_its_named_check() {
    let build = SourceCommit {
        repository: "github.com/acme/app".into(),
        commit: COMMIT.into(),
    };
    let rule = SourceVsaRule::new("source-verifier", [VERIFIER], ["SLSA_SOURCE_LEVEL_3"]);
    let first_failure = |st: &Statement, build: &SourceCommit| {
        check_source_vsa(build, st, &rule)
            .first_failure()
            .map(|c| c.name.clone())
    };
    assert_eq!(
        first_failure(
            &source_vsa_statement(COMMIT, VERIFIER, &["SLSA_SOURCE_LEVEL_3"]),
            &build
        ),
        None
    );
    assert_eq!(
        first_failure(
            &source_vsa_statement(COMMIT, VERIFIER, &["SLSA_SOURCE_LEVEL_2"]),
            &build
        )
        .as_deref(),
        Some("source-levels")
    );
    assert_eq!(
        first_failure(
            &source_vsa_statement(OTHER_COMMIT, VERIFIER, &["SLSA_SOURCE_LEVEL_3"]),
            &build
        )
        .as_deref(),
        Some("source-commit")
    );
    assert_eq!(
        first_failure(
            &source_vsa_statement(COMMIT, "https://evil.example/v", &["SLSA_SOURCE_LEVEL_3"]),
            &build
        )
        .as_deref(),
        Some("verifier-id")
    );
    let fork = SourceCommit {
        repository: "github.com/someone/app".into(),
        commit: COMMIT.into(),
    };
    assert_eq!(
        first_failure(
            &source_vsa_statement(COMMIT, VERIFIER, &["SLSA_SOURCE_LEVEL_3"]),
            &fork
        )
        .as_deref(),
        Some("source-repository")
    );
    // A build-track level does not satisfy a source-track one.
    assert_eq!(
        first_failure(
            &source_vsa_statement(COMMIT, VERIFIER, &["SLSA_BUILD_LEVEL_3"]),
            &build
        )
        .as_deref(),
        Some("source-levels")
    );
    // The commit is read from the provenance as the gate reads it.
    let keys = keys();
    let prov = provenance(&keys, COMMIT);
    let statement = Statement::from_json(prov.envelope().payload()).unwrap();
    assert_eq!(SourceCommit::from_provenance(&statement).unwrap(), build);
}

#[test]
fn a_property_such_as_two_party_review_can_be_required() {
    let keys = keys();
    let policy = policy(
        &keys,
        &["SLSA_SOURCE_LEVEL_3", "ORG_SOURCE_TWO_PARTY_REVIEW"],
    );
    let prov = provenance(&keys, COMMIT);
    let with = source_vsa(
        &keys.source,
        COMMIT,
        VERIFIER,
        &["SLSA_SOURCE_LEVEL_3", "ORG_SOURCE_TWO_PARTY_REVIEW"],
    );
    assert!(gate(&policy, &[prov.clone(), with]).report.verified());
    let without = source_vsa(&keys.source, COMMIT, VERIFIER, &["SLSA_SOURCE_LEVEL_4"]);
    refused_at_requires(&policy, &[prov, without]);
}

#[test]
fn source_levels_above_4_are_refused_when_read() {
    let statement = source_vsa_statement(COMMIT, VERIFIER, &["SLSA_SOURCE_LEVEL_5"]);
    assert!(
        statement
            .predicate_as::<custodia::predicate::vsa::VerificationSummary>()
            .is_err()
    );
    let ok = source_vsa_statement(COMMIT, VERIFIER, &["SLSA_SOURCE_LEVEL_4"]);
    let summary: custodia::predicate::vsa::VerificationSummary = ok.predicate_as().unwrap();
    assert_eq!(custodia::predicate::vsa::source_level(&summary), Some(4));
}

/// A Source VSA carried in a Sigstore bundle is refused, fail closed: the
/// bundle verifier binds a DSSE bundle only to a sha256/sha512 subject and
/// a Source VSA names a `gitCommit`. The bundle is cosign's real keyless
/// v0.3 bundle (tests/data/cosign) with the Source VSA as its payload, the
/// policy trusts its signer as the source verifier: refused all the same.
#[cfg(feature = "sigstore")]
#[test]
fn a_source_vsa_in_a_sigstore_bundle_is_refused() {
    use base64::Engine as _;
    let keys = keys();
    let root: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data/sigstore/trusted_roots/production.trusted_root.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let doc = json!({
        "version": 1,
        "keys": [
            {"identity": "ci", "roles": ["builder"], "publicKey": keys.builder.public_key().to_pem()},
        ],
        "keylessSigners": [{"identity": "source-verifier", "roles": ["source-verifier"],
            "certificateIdentity": "cody@soyland.com",
            "certificateOidcIssuer": "https://github.com/login/oauth"}],
        "sigstoreTrustedRoot": root,
        "environments": [{"name": "prod", "requires": [{
            "predicateType": PROVENANCE,
            "signerRole": "builder",
            "conditions": {"sourceVsa": {
                "signerRole": "source-verifier",
                "verifiers": [VERIFIER],
                "levels": ["SLSA_SOURCE_LEVEL_3"],
            }},
        }]}],
        "promotions": [],
    });
    let policy = Policy::from_json(&serde_json::to_vec(&doc).unwrap())
        .unwrap()
        .activate()
        .unwrap();
    let mut bundle: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data/cosign/upstream/cosign.oci-attestation.sigstore.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let statement = source_vsa_statement(COMMIT, VERIFIER, &["SLSA_SOURCE_LEVEL_4"]);
    bundle["dsseEnvelope"]["payload"] =
        json!(base64::engine::general_purpose::STANDARD.encode(statement.to_json().unwrap()));
    let vsa = EvidenceEnvelope::from_bytes(&serde_json::to_vec(&bundle).unwrap()).unwrap();
    refused_at_requires(&policy, &[provenance(&keys, COMMIT), vsa]);
}
