//! A promotion pipeline fixture shared by the promotion tests and benches:
//! keys for each role, a dev -> staging -> prod policy, and helpers that
//! make signed evidence about an artifact.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use custodia::digest::{Digest, DigestSet};
use custodia::dsse::Envelope;
use custodia::keys::{KeyAlgorithm, PrivateKey};
use custodia::policy::{ActivePolicy, GateRequest, Policy};
use custodia::predicate::approval::Approval;
use custodia::predicate::promotion::PromotionKind;
use custodia::predicate::test_result::{TestOutcome, TestResult};
use custodia::predicate::vulns::VulnerabilityReport;
use custodia::promotion::{Promoted, PromotionError, PromotionRequest, Store, promote};
use custodia::provenance::{BuildContext, SourceRef};
use custodia::resource::ResourceDescriptor;
use custodia::statement::{PAYLOAD_TYPE, Predicate, Statement};
use custodia::time::Timestamp;

pub const BUILDER_ID: &str = "https://ci.acme.example/builders/release";
pub const SOURCE: &str = "https://github.com/acme/app";
pub const T0: i64 = 1_700_000_000;
pub const HOUR: i64 = 3600;

/// One key per identity; the identity names the person or system.
pub struct Pipeline {
    pub builder: PrivateKey,  // identity "ci", role builder
    pub tester: PrivateKey,   // identity "test-runner", role tester
    pub scanner: PrivateKey,  // identity "scanner", role scanner
    pub alice: PrivateKey,    // approver
    pub bob: PrivateKey,      // approver
    pub carol: PrivateKey,    // approver and change author in some tests
    pub promoter: PrivateKey, // identity "deployer", roles promoter + operator
    pub witness: PrivateKey,  // identity "witness-a", role witness
    pub policy: ActivePolicy,
}

pub fn policy_json(keys: &[(&str, &[&str], &PrivateKey)], freeze: Option<(i64, i64)>) -> String {
    let keys: Vec<serde_json::Value> = keys
        .iter()
        .map(|(identity, roles, key)| {
            serde_json::json!({"identity": identity, "roles": roles, "publicKey": key.public_key().to_pem()})
        })
        .collect();
    let freeze = freeze
        .map(|(s, e)| {
            serde_json::json!([{"start": Timestamp::from_unix(s).to_string(),
                                "end": Timestamp::from_unix(e).to_string(), "reason": "year-end freeze"}])
        })
        .unwrap_or(serde_json::json!([]));
    serde_json::json!({
        "version": 1,
        "keys": keys,
        "environments": [
            {"name": "dev", "requires": [
                {"predicateType": "https://slsa.dev/provenance/v1", "signerRole": "builder",
                 "conditions": {"builderIds": [BUILDER_ID], "sourceRepository": "github.com/acme/app"}}]},
            {"name": "staging", "requires": [
                {"predicateType": "https://slsa.dev/provenance/v1", "signerRole": "builder",
                 "conditions": {"builderIds": [BUILDER_ID]}},
                {"predicateType": "https://in-toto.io/attestation/test-result/v0.1", "signerRole": "tester",
                 "conditions": {"testResult": "PASSED"}}]},
            {"name": "prod", "requires": [
                {"predicateType": "https://slsa.dev/provenance/v1", "signerRole": "builder",
                 "conditions": {"builderIds": [BUILDER_ID]}},
                {"predicateType": "https://in-toto.io/attestation/test-result/v0.1", "signerRole": "tester",
                 "conditions": {"testResult": "PASSED"}},
                {"predicateType": "https://in-toto.io/attestation/vulns/v0.2", "signerRole": "scanner",
                 "conditions": {"maxSeverity": "medium"}}],
             "approvals": {"count": 2, "role": "approver"},
             "freezeWindows": freeze,
             "emergency": {"approvals": 1}}
        ],
        "promotions": [{"from": "dev", "to": "staging"}, {"from": "staging", "to": "prod"}]
    })
    .to_string()
}

impl Pipeline {
    pub fn new() -> Self {
        Self::with_freeze(None)
    }

    pub fn with_freeze(freeze: Option<(i64, i64)>) -> Self {
        let k = |a| PrivateKey::generate(a).unwrap();
        let (builder, tester, scanner) = (
            k(KeyAlgorithm::Ed25519),
            k(KeyAlgorithm::Ed25519),
            k(KeyAlgorithm::Ed25519),
        );
        let (alice, bob, carol) = (
            k(KeyAlgorithm::Ed25519),
            k(KeyAlgorithm::EcdsaP256),
            k(KeyAlgorithm::Ed25519),
        );
        let promoter = k(KeyAlgorithm::Ed25519);
        let witness = k(KeyAlgorithm::EcdsaP256);
        let json = policy_json(
            &[
                ("ci", &["builder"], &builder),
                ("test-runner", &["tester"], &tester),
                ("scanner", &["scanner"], &scanner),
                ("alice", &["approver"], &alice),
                ("bob", &["approver"], &bob),
                ("carol", &["approver"], &carol),
                ("deployer", &["promoter", "operator"], &promoter),
                ("witness-a", &["witness"], &witness),
            ],
            freeze,
        );
        let policy = Policy::from_json(json.as_bytes())
            .unwrap()
            .activate()
            .unwrap();
        Self {
            builder,
            tester,
            scanner,
            alice,
            bob,
            carol,
            promoter,
            witness,
            policy,
        }
    }

    /// Signs a statement about `artifact` and stores it; returns its digest.
    pub fn attest<P: Predicate>(
        &self,
        store: &dyn Store,
        artifact: &DigestSet,
        predicate: &P,
        key: &PrivateKey,
    ) -> Digest {
        let st = Statement::new(
            vec![ResourceDescriptor::new("app.tar.gz", artifact.clone())],
            predicate,
        )
        .unwrap();
        store
            .put(
                &Envelope::sign(PAYLOAD_TYPE, st.to_json().unwrap(), key)
                    .unwrap()
                    .to_json()
                    .unwrap(),
            )
            .unwrap()
    }

    pub fn provenance(&self, store: &dyn Store, artifact: &DigestSet) -> Digest {
        self.provenance_signed_by(store, artifact, &self.builder)
    }

    /// Provenance for `artifact` signed by `key` (whoever holds it).
    #[allow(dead_code)] // not every test crate uses it
    pub fn provenance_signed_by(
        &self,
        store: &dyn Store,
        artifact: &DigestSet,
        key: &PrivateKey,
    ) -> Digest {
        let st = BuildContext::new(format!("{BUILDER_ID}@v1"))
            .with_source(SourceRef::new(SOURCE).with_git_ref("refs/heads/main"))
            .with_subject("app.tar.gz", artifact.clone())
            .with_times(Timestamp::from_unix(T0), Timestamp::from_unix(T0 + 60))
            .to_statement()
            .unwrap();
        store
            .put(
                &Envelope::sign(PAYLOAD_TYPE, st.to_json().unwrap(), key)
                    .unwrap()
                    .to_json()
                    .unwrap(),
            )
            .unwrap()
    }

    pub fn tests_passed(&self, store: &dyn Store, artifact: &DigestSet) -> Digest {
        self.attest(
            store,
            artifact,
            &TestResult::new(TestOutcome::Passed),
            &self.tester,
        )
    }

    pub fn scan(
        &self,
        store: &dyn Store,
        artifact: &DigestSet,
        findings: &[(&str, &str)],
    ) -> Digest {
        self.attest(
            store,
            artifact,
            &VulnerabilityReport::new("pkg:github/aquasecurity/trivy", findings),
            &self.scanner,
        )
    }

    /// An approval dated at T0 (before any promotion in these tests).
    pub fn approve(
        &self,
        store: &dyn Store,
        artifact: &DigestSet,
        env: &str,
        key: &PrivateKey,
    ) -> Digest {
        self.approve_at(store, artifact, env, key, T0)
    }

    /// An approval dated `at`.
    pub fn approve_at(
        &self,
        store: &dyn Store,
        artifact: &DigestSet,
        env: &str,
        key: &PrivateKey,
        at: i64,
    ) -> Digest {
        self.attest(
            store,
            artifact,
            &Approval::new(env, Timestamp::from_unix(at)),
            key,
        )
    }

    pub fn request(
        &self,
        artifact: &DigestSet,
        from: Option<&str>,
        to: &str,
        at: i64,
        evidence: Vec<Digest>,
    ) -> PromotionRequest {
        let mut gate = GateRequest::new(artifact.clone(), from, to, Timestamp::from_unix(at));
        gate.author = Some("carol".into());
        let mut req = PromotionRequest::new(gate, evidence);
        req.commit_time = Some(Timestamp::from_unix(T0 - HOUR));
        req
    }

    pub fn promote(
        &self,
        store: &dyn Store,
        req: &PromotionRequest,
    ) -> Result<Promoted, PromotionError> {
        promote(store, &self.policy, req, &self.promoter)
    }

    /// Builds once and promotes dev -> staging -> prod, hours apart from
    /// `start`; returns the three records.
    pub fn ship(&self, store: &dyn Store, artifact: &DigestSet, start: i64) -> [Digest; 3] {
        let prov = self.provenance(store, artifact);
        let dev = self
            .promote(
                store,
                &self.request(artifact, None, "dev", start, vec![prov.clone()]),
            )
            .unwrap();
        let tests = self.tests_passed(store, artifact);
        let staging = self
            .promote(
                store,
                &self.request(
                    artifact,
                    Some("dev"),
                    "staging",
                    start + HOUR,
                    vec![prov.clone(), tests.clone()],
                ),
            )
            .unwrap();
        let scan = self.scan(store, artifact, &[("CVE-2024-0001", "low")]);
        let a = self.approve_at(store, artifact, "prod", &self.alice, start + HOUR);
        let b = self.approve_at(store, artifact, "prod", &self.bob, start + HOUR);
        let prod = self
            .promote(
                store,
                &self.request(
                    artifact,
                    Some("staging"),
                    "prod",
                    start + 2 * HOUR,
                    vec![prov, tests, scan, a, b],
                ),
            )
            .unwrap();
        [dev.record, staging.record, prod.record]
    }
}

pub fn artifact(n: u32) -> DigestSet {
    DigestSet::of_bytes(format!("app build {n}").as_bytes())
}

pub fn emergency(req: &mut PromotionRequest, reason: &str) {
    req.gate.kind = PromotionKind::Emergency;
    req.gate.reason = Some(reason.into());
}

/// The verified history of `environment` (and where its records came
/// from), as of the system clock; panics if it does not validate.
#[allow(dead_code)]
pub fn verified(
    store: &dyn custodia::promotion::Store,
    policy: &custodia::policy::ActivePolicy,
    environment: &str,
) -> custodia::promotion::VerifiedHistory {
    let validation = custodia::promotion::validate(
        store,
        policy,
        &[environment],
        &custodia::promotion::ValidationOptions::default(),
    );
    assert!(validation.verified(), "{validation}");
    validation.into_history()
}
