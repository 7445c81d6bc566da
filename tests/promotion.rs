//! Promotion scenarios, one per rule, each asserting the exact failing check.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::*;
use custodia::digest::DigestSet;
use custodia::dsse::Envelope;
use custodia::keys::{KeyAlgorithm, PrivateKey};
use custodia::predicate::promotion::{Incident, PromotionKind};
use custodia::promotion::{
    DirStore, DoraTargets, MemoryStore, PromotionError, Store, ValidationOptions, dora, history,
    record_incident, rollback, rollback_target, validate, validate_chain,
};
use custodia::report::Report;
use custodia::statement::PAYLOAD_TYPE;
use custodia::time::Timestamp;

fn refused(result: Result<custodia::promotion::Promoted, PromotionError>) -> Report {
    match result {
        Err(PromotionError::Refused(report)) => report,
        Err(e) => panic!("expected a refusal, got {e}"),
        Ok(p) => panic!(
            "expected a refusal, promoted {} with {}",
            p.record, p.report
        ),
    }
}

fn assert_check(report: &Report, name: &str, mentions: &[&str]) {
    let failure = report
        .first_failure()
        .unwrap_or_else(|| panic!("no failure in\n{report}"));
    assert_eq!(failure.name, name, "{report}");
    for m in mentions {
        assert!(
            failure.reason.contains(m),
            "{:?} lacks {m:?}",
            failure.reason
        );
    }
}

#[test]
fn build_once_promote_everywhere_validates() {
    let p = Pipeline::new();
    let store = MemoryStore::new();
    let a = artifact(1);
    let [dev, staging, prod] = p.ship(&store, &a, T0);
    for env in ["dev", "staging", "prod"] {
        let report = validate_chain(&store, &p.policy, env);
        assert!(report.verified(), "{env}:\n{report}");
    }
    let h = history(&store, "prod").unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].digest, prod);
    assert_eq!(h[0].record.source.as_ref(), Some(&staging));
    let staging_history = history(&store, "staging").unwrap();
    assert_eq!(staging_history[0].record.source.as_ref(), Some(&dev));
    assert_eq!(
        h[0].record.commit_time,
        Some(Timestamp::from_unix(T0 - HOUR))
    );
}

#[test]
fn a_rebuilt_artifact_is_refused() {
    let p = Pipeline::new();
    let store = MemoryStore::new();
    let built = artifact(1);
    p.ship(&store, &built, T0);
    // Same source, rebuilt: new bytes, new digest, fully attested itself.
    let rebuilt = artifact(2);
    let prov = p.provenance(&store, &rebuilt);
    let tests = p.tests_passed(&store, &rebuilt);
    let report = refused(p.promote(
        &store,
        &p.request(
            &rebuilt,
            Some("dev"),
            "staging",
            T0 + 5 * HOUR,
            vec![prov, tests],
        ),
    ));
    assert_check(
        &report,
        "artifact-in-source",
        &["never entered `dev`", "rebuild"],
    );
}

#[test]
fn unsigned_or_wrongly_signed_attestations_are_refused() {
    let p = Pipeline::new();
    let store = MemoryStore::new();
    let a = artifact(1);
    // Provenance signed by the tester's key (wrong role).
    let st = custodia::provenance::BuildContext::new(format!("{BUILDER_ID}@v1"))
        .with_source(custodia::provenance::SourceRef::new(SOURCE))
        .with_subject("app", a.clone())
        .with_times(Timestamp::from_unix(T0), Timestamp::from_unix(T0))
        .to_statement()
        .unwrap();
    let wrong = store
        .put(
            &Envelope::sign(PAYLOAD_TYPE, st.to_json().unwrap(), &p.tester)
                .unwrap()
                .to_json()
                .unwrap(),
        )
        .unwrap();
    let report = refused(p.promote(&store, &p.request(&a, None, "dev", T0, vec![wrong])));
    assert_check(
        &report,
        "requires[0]",
        &["not signed by 1 key(s) with role `builder`"],
    );
    // Unsigned.
    let unsigned = store
        .put(
            &Envelope::unsigned(PAYLOAD_TYPE, st.to_json().unwrap())
                .to_json()
                .unwrap(),
        )
        .unwrap();
    let report = refused(p.promote(&store, &p.request(&a, None, "dev", T0, vec![unsigned])));
    assert_check(&report, "requires[0]", &["role `builder`"]);
    // No provenance at all.
    let report = refused(p.promote(&store, &p.request(&a, None, "dev", T0, vec![])));
    assert_check(
        &report,
        "requires[0]",
        &["no https://slsa.dev/provenance/v1 attestation"],
    );
    // A promoter key the policy does not know.
    let stranger = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let prov = p.provenance(&store, &a);
    let report = refused(custodia::promotion::promote(
        &store,
        &p.policy,
        &p.request(&a, None, "dev", T0, vec![prov]),
        &stranger,
    ));
    assert_check(&report, "promoter", &["no `promoter` role"]);
}

#[test]
fn a_skipped_environment_is_refused() {
    let p = Pipeline::new();
    let store = MemoryStore::new();
    let a = artifact(1);
    let prov = p.provenance(&store, &a);
    p.promote(&store, &p.request(&a, None, "dev", T0, vec![prov.clone()]))
        .unwrap();
    let tests = p.tests_passed(&store, &a);
    let scan = p.scan(&store, &a, &[]);
    let x = p.approve(&store, &a, "prod", &p.alice);
    let y = p.approve(&store, &a, "prod", &p.bob);
    let report = refused(p.promote(
        &store,
        &p.request(
            &a,
            Some("dev"),
            "prod",
            T0 + HOUR,
            vec![prov.clone(), tests, scan, x, y],
        ),
    ));
    assert_check(
        &report,
        "edge",
        &["dev -> prod is not an allowed promotion", "staging -> prod"],
    );
    // Entering prod directly from a build is refused too.
    let report = refused(p.promote(&store, &p.request(&a, None, "prod", T0 + HOUR, vec![prov])));
    assert_check(&report, "edge", &["not an entry environment"]);
}

#[test]
fn the_author_cannot_approve_their_own_change() {
    let p = Pipeline::new();
    let store = MemoryStore::new();
    let a = artifact(1);
    let [_, _, _] = p.ship(&store, &a, T0);
    let b = artifact(2);
    let prov = p.provenance(&store, &b);
    p.promote(
        &store,
        &p.request(&b, None, "dev", T0 + 10 * HOUR, vec![prov.clone()]),
    )
    .unwrap();
    let tests = p.tests_passed(&store, &b);
    p.promote(
        &store,
        &p.request(
            &b,
            Some("dev"),
            "staging",
            T0 + 11 * HOUR,
            vec![prov.clone(), tests.clone()],
        ),
    )
    .unwrap();
    let scan = p.scan(&store, &b, &[]);
    let by_carol = p.approve_at(&store, &b, "prod", &p.carol, T0 + 11 * HOUR); // carol is the author
    let by_alice = p.approve_at(&store, &b, "prod", &p.alice, T0 + 11 * HOUR);
    let report = refused(p.promote(
        &store,
        &p.request(
            &b,
            Some("staging"),
            "prod",
            T0 + 12 * HOUR,
            vec![prov, tests, scan, by_carol, by_alice],
        ),
    ));
    assert_check(
        &report,
        "approvals",
        &["1 of 2", "carol is the change's author"],
    );
}

#[test]
fn the_builder_cannot_approve_what_it_built() {
    let mut keys_builder_approves = Pipeline::new();
    // Re-make the policy so the builder's identity also holds the approver role.
    let json = policy_json(
        &[
            (
                "ci",
                &["builder", "approver"],
                &keys_builder_approves.builder,
            ),
            ("test-runner", &["tester"], &keys_builder_approves.tester),
            ("scanner", &["scanner"], &keys_builder_approves.scanner),
            ("alice", &["approver"], &keys_builder_approves.alice),
            ("deployer", &["promoter"], &keys_builder_approves.promoter),
        ],
        None,
    );
    keys_builder_approves.policy = custodia::policy::Policy::from_json(json.as_bytes())
        .unwrap()
        .activate()
        .unwrap();
    let p = keys_builder_approves;
    let store = MemoryStore::new();
    let a = artifact(1);
    let prov = p.provenance(&store, &a);
    p.promote(&store, &p.request(&a, None, "dev", T0, vec![prov.clone()]))
        .unwrap();
    let tests = p.tests_passed(&store, &a);
    p.promote(
        &store,
        &p.request(
            &a,
            Some("dev"),
            "staging",
            T0 + HOUR,
            vec![prov.clone(), tests.clone()],
        ),
    )
    .unwrap();
    let scan = p.scan(&store, &a, &[]);
    let by_ci = p.approve(&store, &a, "prod", &p.builder);
    let by_alice = p.approve(&store, &a, "prod", &p.alice);
    let report = refused(p.promote(
        &store,
        &p.request(
            &a,
            Some("staging"),
            "prod",
            T0 + 2 * HOUR,
            vec![prov, tests, scan, by_ci, by_alice],
        ),
    ));
    assert_check(&report, "approvals", &["1 of 2", "ci signed the build"]);
}

#[test]
fn whoever_signed_any_provenance_for_the_artifact_cannot_approve_it() {
    // Issue #14: alice (an approver, not a builder) also signs provenance
    // for the artifact. The gate's provenance requirement is met by the
    // builder's envelope, but alice is in the builder set all the same.
    let p = Pipeline::new();
    let store = MemoryStore::new();
    let a = artifact(1);
    let prov = p.provenance(&store, &a);
    let alice_prov = p.provenance_signed_by(&store, &a, &p.alice);
    p.promote(&store, &p.request(&a, None, "dev", T0, vec![prov.clone()]))
        .unwrap();
    let tests = p.tests_passed(&store, &a);
    p.promote(
        &store,
        &p.request(
            &a,
            Some("dev"),
            "staging",
            T0 + HOUR,
            vec![prov.clone(), tests.clone()],
        ),
    )
    .unwrap();
    let scan = p.scan(&store, &a, &[]);
    let by_alice = p.approve(&store, &a, "prod", &p.alice);
    for evidence in [
        vec![
            prov.clone(),
            alice_prov.clone(),
            tests.clone(),
            scan.clone(),
            by_alice.clone(),
        ],
        vec![
            alice_prov.clone(),
            prov.clone(),
            tests.clone(),
            scan.clone(),
            by_alice.clone(),
        ],
    ] {
        let report = refused(p.promote(
            &store,
            &p.request(&a, Some("staging"), "prod", T0 + 2 * HOUR, evidence),
        ));
        assert_check(&report, "approvals", &["alice signed the build"]);
    }
}

#[test]
fn a_missing_or_failed_test_attestation_is_refused() {
    let p = Pipeline::new();
    let store = MemoryStore::new();
    let a = artifact(1);
    let prov = p.provenance(&store, &a);
    p.promote(&store, &p.request(&a, None, "dev", T0, vec![prov.clone()]))
        .unwrap();
    let report = refused(p.promote(
        &store,
        &p.request(&a, Some("dev"), "staging", T0 + HOUR, vec![prov.clone()]),
    ));
    assert_check(
        &report,
        "requires[1]",
        &["no https://in-toto.io/attestation/test-result/v0.1 attestation"],
    );
    let mut failed = custodia::predicate::test_result::TestResult::new(
        custodia::predicate::test_result::TestOutcome::Failed,
    );
    failed.failed_tests = vec!["integration::login".into()];
    let bad = p.attest(&store, &a, &failed, &p.tester);
    let report = refused(p.promote(
        &store,
        &p.request(&a, Some("dev"), "staging", T0 + HOUR, vec![prov, bad]),
    ));
    assert_check(
        &report,
        "requires[1]",
        &["test result is Failed", "integration::login"],
    );
}

#[test]
fn vulnerabilities_above_the_threshold_are_refused() {
    let p = Pipeline::new();
    let store = MemoryStore::new();
    let a = artifact(1);
    let prov = p.provenance(&store, &a);
    p.promote(&store, &p.request(&a, None, "dev", T0, vec![prov.clone()]))
        .unwrap();
    let tests = p.tests_passed(&store, &a);
    p.promote(
        &store,
        &p.request(
            &a,
            Some("dev"),
            "staging",
            T0 + HOUR,
            vec![prov.clone(), tests.clone()],
        ),
    )
    .unwrap();
    let scan = p.scan(
        &store,
        &a,
        &[
            ("CVE-2024-1", "low"),
            ("CVE-2024-2", "9.8"),
            ("CVE-2024-3", "unrated"),
        ],
    );
    let x = p.approve(&store, &a, "prod", &p.alice);
    let y = p.approve(&store, &a, "prod", &p.bob);
    let report = refused(p.promote(
        &store,
        &p.request(
            &a,
            Some("staging"),
            "prod",
            T0 + 2 * HOUR,
            vec![prov, tests, scan, x, y],
        ),
    ));
    assert_check(
        &report,
        "requires[2]",
        &[
            "2 finding(s) above Medium",
            "CVE-2024-2 (Critical)",
            "CVE-2024-3 (unknown severity)",
        ],
    );
}

#[test]
fn a_freeze_refuses_all_but_flagged_emergencies() {
    let p = Pipeline::with_freeze(Some((T0 + HOUR, T0 + 48 * HOUR)));
    let store = MemoryStore::new();
    let a = artifact(1);
    let prov = p.provenance(&store, &a);
    p.promote(&store, &p.request(&a, None, "dev", T0, vec![prov.clone()]))
        .unwrap();
    let tests = p.tests_passed(&store, &a);
    p.promote(
        &store,
        &p.request(
            &a,
            Some("dev"),
            "staging",
            T0 + HOUR,
            vec![prov.clone(), tests.clone()],
        ),
    )
    .unwrap();
    let scan = p.scan(&store, &a, &[]);
    let x = p.approve(&store, &a, "prod", &p.alice);
    let y = p.approve(&store, &a, "prod", &p.bob);
    let evidence = vec![prov, tests, scan, x.clone()];
    let mut req = p.request(
        &a,
        Some("staging"),
        "prod",
        T0 + 2 * HOUR,
        [evidence.clone(), vec![y]].concat(),
    );
    let report = refused(p.promote(&store, &req));
    assert_check(&report, "freeze", &["year-end freeze", "only emergency"]);
    // Emergency without a reason: refused.
    req.gate.kind = PromotionKind::Emergency;
    let report = refused(p.promote(&store, &req));
    assert_check(&report, "emergency", &["needs a reason"]);
    // Emergency with a reason and one approval (the policy's emergency count).
    let mut req = p.request(&a, Some("staging"), "prod", T0 + 2 * HOUR, evidence);
    emergency(&mut req, "payment outage hotfix");
    let done = p.promote(&store, &req).unwrap();
    let flag = done
        .report
        .checks()
        .iter()
        .find(|c| c.name == "emergency")
        .unwrap();
    assert!(flag.reason.contains("EMERGENCY") && flag.reason.contains("payment outage hotfix"));
    // ...and flagged again whenever the chain is validated.
    let report = validate_chain(&store, &p.policy, "prod");
    assert!(report.verified(), "{report}");
    let flagged = report
        .checks()
        .iter()
        .find(|c| c.name == "emergencies")
        .unwrap();
    assert!(flagged.reason.contains("FLAGGED") && flagged.reason.contains("payment outage hotfix"));
}

/// The report holds one `records` check for the accepted records; the
/// itemized form lists each of them with its subject, then the rejected
/// one, as data.
#[test]
fn accepted_records_are_one_check_and_itemized_on_demand() {
    let p = Pipeline::new();
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::open(dir.path()).unwrap();
    let shipped: Vec<_> = (0..3)
        .map(|i| p.ship(&store, &artifact(i), T0 + i64::from(i) * 24 * HOUR)[2].clone())
        .collect();
    // Delete the third prod record: the first two are accepted, it is not.
    std::fs::remove_file(store.envelope_path(&shipped[2])).unwrap();
    let validation = validate(&store, &p.policy, &["prod"], &ValidationOptions::default());
    let report = validation.report("prod").unwrap();
    let names: Vec<&str> = report.checks().iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names.first(), Some(&"records"), "{report}");
    assert_eq!(
        report
            .checks()
            .iter()
            .filter(|c| c.name.starts_with("record["))
            .count(),
        1,
        "{report}"
    );
    let itemized = validation.itemized_report("prod").unwrap();
    let records: Vec<_> = itemized
        .checks()
        .iter()
        .filter(|c| c.name.starts_with("record["))
        .collect();
    assert_eq!(records.len(), 3, "{itemized}");
    for (i, check) in records.iter().enumerate() {
        let subject = check.subject.as_ref().unwrap();
        assert_eq!(subject.environment.as_deref(), Some("prod"));
        assert_eq!(subject.record, Some(i));
        assert_eq!(
            subject.digest.as_deref(),
            Some(shipped[i].to_string().as_str())
        );
        assert_eq!(check.passed, i < 2, "{itemized}");
    }
    // Everything else is the same report.
    let rest = |r: &Report| -> Vec<_> {
        r.checks()
            .iter()
            .filter(|c| !c.name.starts_with("record"))
            .cloned()
            .collect()
    };
    assert_eq!(rest(report), rest(&itemized));
    assert!(validation.itemized_report("staging").is_some());
    assert!(validation.itemized_report("nowhere").is_none());
}

#[test]
fn tampering_with_the_store_is_detected_and_named() {
    let p = Pipeline::new();
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::open(dir.path()).unwrap();
    let [_, _, first] = p.ship(&store, &artifact(1), T0);
    let [_, _, second] = p.ship(&store, &artifact(2), T0 + 24 * HOUR);
    let [_, _, third] = p.ship(&store, &artifact(3), T0 + 48 * HOUR);
    assert!(validate_chain(&store, &p.policy, "prod").verified());

    // Altered: flip a byte of the second prod record.
    let path = store.envelope_path(&second);
    let original = std::fs::read(&path).unwrap();
    let mut altered = original.clone();
    let i = altered.len() / 2;
    altered[i] ^= 1;
    std::fs::write(&path, &altered).unwrap();
    let report = validate_chain(&store, &p.policy, "prod");
    assert_check(&report, "record[1]", &[&second.hex(), "corrupt"]);
    std::fs::write(&path, &original).unwrap();

    // Deleted.
    std::fs::remove_file(&path).unwrap();
    let report = validate_chain(&store, &p.policy, "prod");
    assert_check(&report, "record[1]", &["no envelope"]);
    std::fs::write(&path, &original).unwrap();
    assert!(validate_chain(&store, &p.policy, "prod").verified());

    // Reordered: swap which record follows genesis and which follows the first.
    let links = dir.path().join("links/prod");
    let genesis = std::fs::read(links.join("genesis")).unwrap();
    let after_first = std::fs::read(links.join(first.hex())).unwrap();
    std::fs::write(links.join("genesis"), &after_first).unwrap();
    std::fs::write(links.join(first.hex()), &genesis).unwrap();
    let report = validate_chain(&store, &p.policy, "prod");
    assert_check(&report, "record[0]", &["reordered or altered links"]);
    std::fs::write(links.join("genesis"), &genesis).unwrap();
    std::fs::write(links.join(first.hex()), &after_first).unwrap();
    assert!(validate_chain(&store, &p.policy, "prod").verified());

    // Forked: a validly signed record that also claims to follow `first`,
    // stored but (as the store refuses the link) outside the chain.
    let h = history(&store, "prod").unwrap();
    let mut forged = h[1].record.clone();
    forged.time = Timestamp::from_unix(T0 + 30 * HOUR);
    let st = custodia::statement::Statement::new(
        vec![custodia::resource::ResourceDescriptor::new(
            "artifact",
            h[1].artifact.clone(),
        )],
        &forged,
    )
    .unwrap();
    let fork = store
        .put(
            &Envelope::sign(PAYLOAD_TYPE, st.to_json().unwrap(), &p.promoter)
                .unwrap()
                .to_json()
                .unwrap(),
        )
        .unwrap();
    let err = store.link("prod", Some(&first), &fork).unwrap_err();
    assert!(err.to_string().contains("conflict"), "{err}");
    let report = validate_chain(&store, &p.policy, "prod");
    assert_check(&report, "unlinked-records", &[&fork.to_string()]);
    let _ = third;
}

#[test]
fn rollback_after_an_incident_picks_the_last_known_good() {
    let p = Pipeline::new();
    let store = MemoryStore::new();
    let (a1, a2, a3) = (artifact(1), artifact(2), artifact(3));
    let [_, _, r1] = p.ship(&store, &a1, T0);
    let [_, _, _r2] = p.ship(&store, &a2, T0 + 24 * HOUR);
    let [_, _, r3] = p.ship(&store, &a3, T0 + 48 * HOUR);
    // a2 had an incident in prod earlier; a3 (current) fails now.
    let mut old = Incident::new(
        "prod",
        Timestamp::from_unix(T0 + 30 * HOUR),
        "latency regression",
    );
    old.resolved = Some(Timestamp::from_unix(T0 + 30 * HOUR + 1200));
    record_incident(&store, &a2, &old, &p.promoter).unwrap();
    let mut now = Incident::new("prod", Timestamp::from_unix(T0 + 51 * HOUR), "5xx spike");
    now.promotion = Some(r3);
    record_incident(&store, &a3, &now, &p.promoter).unwrap();

    let target = rollback_target(
        &store,
        &verified(&store, &p.policy, "prod"),
        &p.policy,
        "prod",
        Timestamp::from_unix(T0 + 51 * HOUR),
    )
    .unwrap();
    assert_eq!(target.record, r1);
    assert_eq!(target.artifact, a1);
    let back = rollback(
        &store,
        &p.policy,
        "prod",
        Timestamp::from_unix(T0 + 51 * HOUR + 600),
        "5xx spike",
        &p.promoter,
    )
    .unwrap();
    assert_eq!(back.predicate.kind, PromotionKind::Rollback);
    assert_eq!(back.predicate.source.as_ref(), Some(&r1));
    let h = history(&store, "prod").unwrap();
    assert_eq!(
        h.last().unwrap().artifact,
        a1,
        "prod runs the known-good digest again"
    );
    let report = validate_chain(&store, &p.policy, "prod");
    assert!(report.verified(), "{report}");
    // An incident signed by an untrusted key does not count.
    let stranger = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
    record_incident(
        &store,
        &a1,
        &Incident::new("prod", Timestamp::from_unix(T0 + 52 * HOUR), "fake"),
        &stranger,
    )
    .unwrap();
    assert_eq!(
        verified(&store, &p.policy, "prod")
            .incidents("prod")
            .count(),
        2
    );
}

#[test]
fn rolling_back_to_an_artifact_never_in_the_environment_is_refused() {
    let p = Pipeline::new();
    let store = MemoryStore::new();
    p.ship(&store, &artifact(1), T0);
    let err = rollback_target(
        &store,
        &verified(&store, &p.policy, "prod"),
        &p.policy,
        "prod",
        Timestamp::from_unix(T0 + 5 * HOUR),
    )
    .unwrap_err();
    match err {
        PromotionError::Refused(r) => assert_check(&r, "rollback-target", &["no earlier artifact"]),
        other => panic!("{other}"),
    }
}

/// DORA figures for a fixed history, computed by hand:
///
/// | artifact | commit | prod deploy | incident (opened -> resolved) |
/// | a1 | T0-1h | T0+2h   | - |
/// | a2 | T0-1h | T0+26h  | T0+27h -> T0+27h30m |
/// | a3 | T0-1h | T0+50h  | - |
/// | a4 | T0-1h | T0+74h  | T0+75h -> T0+76h |
///
/// Window [T0, T0+4d): 4 deployments in 4 days = 1.0/day. Lead times
/// 3h, 27h, 51h, 75h: median (27+51)/2 = 39h. Failure rate 2/4 = 50 %.
/// Restore times 30 min and 60 min: median 45 min.
#[test]
fn dora_metrics_equal_the_hand_computed_values() {
    let p = Pipeline::new();
    let store = MemoryStore::new();
    let mut prod = Vec::new();
    for n in 0..4u32 {
        let [_, _, r] = p.ship(&store, &artifact(n + 1), T0 + i64::from(n) * 24 * HOUR);
        prod.push(r);
    }
    let mut i2 = Incident::new("prod", Timestamp::from_unix(T0 + 27 * HOUR), "errors");
    i2.resolved = Some(Timestamp::from_unix(T0 + 27 * HOUR + 1800));
    record_incident(&store, &artifact(2), &i2, &p.promoter).unwrap();
    let mut i4 = Incident::new("prod", Timestamp::from_unix(T0 + 75 * HOUR), "outage");
    i4.resolved = Some(Timestamp::from_unix(T0 + 76 * HOUR));
    record_incident(&store, &artifact(4), &i4, &p.promoter).unwrap();

    let mut targets = DoraTargets::default();
    targets.min_deployments_per_day = Some(1.0);
    targets.max_lead_time_seconds = Some(24 * HOUR);
    targets.max_change_failure_rate = Some(0.10);
    targets.max_time_to_restore_seconds = Some(30 * 60);
    let m = dora(
        &verified(&store, &p.policy, "prod"),
        "prod",
        Timestamp::from_unix(T0),
        Timestamp::from_unix(T0 + 96 * HOUR),
        &targets,
    )
    .unwrap();
    assert_eq!(m.deployments, 4);
    assert!((m.deployments_per_day - 1.0).abs() < 1e-9);
    assert_eq!(m.lead_time_median_seconds, Some(39 * HOUR));
    assert_eq!(m.change_failure_rate, Some(0.5));
    assert_eq!(m.time_to_restore_median_seconds, Some(45 * 60));
    let names: Vec<(&str, bool)> = m
        .report
        .checks()
        .iter()
        .map(|c| (c.name.as_str(), c.passed))
        .collect();
    assert_eq!(
        names,
        [
            ("deployment-frequency", true),
            ("lead-time", false),
            ("change-failure-rate", false),
            ("time-to-restore", false)
        ]
    );
}

#[test]
fn policy_changes_are_visible_in_validation() {
    let p = Pipeline::new();
    let store = MemoryStore::new();
    p.ship(&store, &artifact(1), T0);
    // Validate with a different policy (one approval instead of two).
    let json = policy_json(&[("deployer", &["promoter"], &p.promoter)], None)
        .replace("\"count\":2", "\"count\":1");
    let other = custodia::policy::Policy::from_json(json.as_bytes())
        .unwrap()
        .activate()
        .unwrap();
    let report = validate_chain(&store, &other, "dev");
    assert_check(&report, "record[0]", &["gated by policy"]);
    let _ = DigestSet::new();
}

#[test]
fn stale_or_bogus_head_hints_never_misplace_a_record() {
    let p = Pipeline::new();
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::open(dir.path()).unwrap();
    let [_, _, first] = p.ship(&store, &artifact(1), T0);
    let [_, _, second] = p.ship(&store, &artifact(2), T0 + 24 * HOUR);
    let hint = dir.path().join("heads/prod");
    // Stale: the hint names the first record; the real head is the second.
    std::fs::write(&hint, first.hex()).unwrap();
    assert_eq!(
        custodia::promotion::head(&store, "prod").unwrap(),
        Some(second.clone())
    );
    // Bogus: the hint names an evidence envelope, or garbage.
    let evidence = history(&store, "prod").unwrap()[0].record.evidence[0]
        .digest
        .clone();
    std::fs::write(&hint, evidence.hex()).unwrap();
    assert_eq!(
        custodia::promotion::head(&store, "prod").unwrap(),
        Some(second.clone())
    );
    // Garbage is not a hint either: validation names it (`head`), and
    // promotions, which follow links only, go on.
    std::fs::write(&hint, "not a digest").unwrap();
    let report = validate_chain(&store, &p.policy, "prod");
    assert_eq!(report.first_failure().unwrap().name, "head", "{report}");
    let a3 = artifact(3);
    let [_, _, third] = p.ship(&store, &a3, T0 + 48 * HOUR);
    assert!(validate_chain(&store, &p.policy, "prod").verified());
    let h = history(&store, "prod").unwrap();
    assert_eq!(
        h.iter().map(|e| e.digest.clone()).collect::<Vec<_>>(),
        vec![first, second, third]
    );
    assert!(validate_chain(&store, &p.policy, "prod").verified());
}

#[test]
fn a_promotion_back_in_time_is_refused() {
    let p = Pipeline::new();
    let store = MemoryStore::new();
    p.ship(&store, &artifact(1), T0 + 10 * HOUR);
    let a = artifact(2);
    let prov = p.provenance(&store, &a);
    let report = refused(p.promote(&store, &p.request(&a, None, "dev", T0, vec![prov])));
    assert_check(
        &report,
        "time-order",
        &["before the latest record in `dev`"],
    );
}

#[test]
fn evidence_about_an_artifact_is_found_in_the_store() {
    let p = Pipeline::new();
    let store = MemoryStore::new();
    let a = artifact(1);
    let prov = p.provenance(&store, &a);
    let tests = p.tests_passed(&store, &a);
    let _other = p.provenance(&store, &artifact(2));
    let record = p
        .promote(&store, &p.request(&a, None, "dev", T0, vec![prov.clone()]))
        .unwrap();
    let mut found = custodia::promotion::evidence_about(&store, &a).unwrap();
    found.sort();
    let mut want = vec![prov, tests];
    want.sort();
    assert_eq!(found, want, "promotion records are not evidence");
    assert_eq!(record.artifact, a);
}

#[test]
fn a_lost_race_leaves_no_unlinked_record() {
    let p = Pipeline::new();
    let store = MemoryStore::new();
    let (a, b) = (artifact(1), artifact(2));
    let pa = p.provenance(&store, &a);
    let pb = p.provenance(&store, &b);
    p.promote(&store, &p.request(&a, None, "dev", T0, vec![pa]))
        .unwrap();
    // Simulate the loser: it read the head before the winner linked.
    let winner_head = custodia::promotion::head(&store, "dev").unwrap();
    let stale = StaleHead {
        inner: &store,
        head: None,
    };
    let err = custodia::promotion::promote(
        &stale,
        &p.policy,
        &p.request(&b, None, "dev", T0 + 60, vec![pb]),
        &p.promoter,
    );
    assert!(matches!(err, Err(PromotionError::Store(_))), "{err:?}");
    assert!(err.unwrap_err().to_string().contains("conflict"));
    assert_eq!(
        custodia::promotion::head(&store, "dev").unwrap(),
        winner_head
    );
    assert!(validate_chain(&store, &p.policy, "dev").verified());
}

/// A store view whose links pretend nothing was promoted yet (as a racing
/// promoter saw it), while writes go to the real store.
struct StaleHead<'a> {
    inner: &'a MemoryStore,
    head: Option<custodia::digest::Digest>,
}

impl Store for StaleHead<'_> {
    fn put(&self, bytes: &[u8]) -> Result<custodia::digest::Digest, custodia::Error> {
        self.inner.put(bytes)
    }
    fn get(&self, d: &custodia::digest::Digest) -> Result<Vec<u8>, custodia::Error> {
        self.inner.get(d)
    }
    fn list(&self) -> Result<Vec<custodia::digest::Digest>, custodia::Error> {
        // The racing promoter listed the store before the winner wrote.
        let winner = self.inner.successor("dev", None)?;
        Ok(self
            .inner
            .list()?
            .into_iter()
            .filter(|d| Some(d) != winner.as_ref())
            .collect())
    }
    fn link(
        &self,
        env: &str,
        prev: Option<&custodia::digest::Digest>,
        next: &custodia::digest::Digest,
    ) -> Result<(), custodia::Error> {
        self.inner.link(env, prev, next)
    }
    fn successor(
        &self,
        _: &str,
        _: Option<&custodia::digest::Digest>,
    ) -> Result<Option<custodia::digest::Digest>, custodia::Error> {
        Ok(self.head.clone())
    }
    fn remove(&self, d: &custodia::digest::Digest) -> Result<(), custodia::Error> {
        self.inner.remove(d)
    }
}

/// Flipping one byte in any file of a store (an envelope, a link, a head
/// hint) makes validation fail with a reason that names that file.
#[test]
fn one_flipped_byte_anywhere_in_the_store_is_named() {
    let p = Pipeline::new();
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::open(dir.path()).unwrap();
    p.ship(&store, &artifact(1), T0);
    p.ship(&store, &artifact(2), T0 + 24 * HOUR);
    let mut files = Vec::new();
    for sub in [
        "envelopes",
        "links/dev",
        "links/staging",
        "links/prod",
        "heads",
    ] {
        for entry in std::fs::read_dir(dir.path().join(sub)).unwrap() {
            files.push(entry.unwrap().path());
        }
    }
    // Envelopes only referenced by nothing (none here) would be exempt.
    assert!(files.len() > 20, "{}", files.len());
    for file in files {
        let original = std::fs::read(&file).unwrap();
        let mut flipped = original.clone();
        let i = flipped.len() / 2;
        flipped[i] = if flipped[i] == b'0' { b'1' } else { b'0' };
        std::fs::write(&file, &flipped).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let reasons: Vec<String> = ["dev", "staging", "prod"]
            .iter()
            .flat_map(|env| {
                validate_chain(&store, &p.policy, env)
                    .checks()
                    .iter()
                    .filter(|c| !c.passed)
                    .map(|c| format!("{}: {}", c.name, c.reason))
                    .collect::<Vec<_>>()
            })
            .collect();
        assert!(
            !reasons.is_empty(),
            "flipping a byte of {} went unnoticed",
            file.display()
        );
        assert!(
            reasons.iter().any(|r| r.contains(&name)),
            "{}: no reason names it: {reasons:#?}",
            file.display()
        );
        std::fs::write(&file, &original).unwrap();
    }
    for env in ["dev", "staging", "prod"] {
        assert!(validate_chain(&store, &p.policy, env).verified());
    }
}

#[test]
fn a_store_lists_only_the_digests_asked_for_sorted() {
    let dir = tempfile::tempdir().unwrap();
    let on_disk = DirStore::open(dir.path()).unwrap();
    let in_memory = MemoryStore::new();
    for store in [&on_disk as &dyn Store, &in_memory] {
        let mut stored: Vec<_> = (0..20)
            .map(|i| store.put(format!("envelope {i}").as_bytes()).unwrap())
            .collect();
        stored.sort();
        assert_eq!(store.list().unwrap(), stored);
        // Keep every third, asked in listing order or not.
        let wanted: Vec<_> = stored.iter().step_by(3).cloned().collect();
        let kept = store.list_where(&mut |d| wanted.contains(d)).unwrap();
        assert_eq!(kept, wanted);
        assert!(store.list_where(&mut |_| false).unwrap().is_empty());
    }
    // A stray file in `envelopes/` is never listed, kept or not.
    std::fs::write(dir.path().join("envelopes").join("notes.txt"), b"x").unwrap();
    let mut asked = 0;
    let all = on_disk
        .list_where(&mut |_| {
            asked += 1;
            true
        })
        .unwrap();
    assert_eq!((all.len(), asked), (20, 20));
}

/// A policy with no gates: `environments`, the `(from, to)` edges, and
/// the pipeline's promoter.
fn ungated_policy(
    p: &Pipeline,
    environments: &[&str],
    edges: &[(&str, &str)],
) -> custodia::policy::ActivePolicy {
    let json = serde_json::json!({
        "version": 1,
        "keys": [{"identity": "deployer", "roles": ["promoter"],
                  "publicKey": p.promoter.public_key().to_pem()}],
        "environments": environments.iter().map(|e| serde_json::json!({"name": e})).collect::<Vec<_>>(),
        "promotions": edges.iter().map(|(f, t)| serde_json::json!({"from": f, "to": t})).collect::<Vec<_>>(),
    })
    .to_string();
    custodia::policy::Policy::from_json(json.as_bytes())
        .unwrap()
        .activate()
        .unwrap()
}

/// Promotes `artifact` under an [`ungated_policy`]: no evidence; the
/// record's digest.
fn promote_ungated(
    store: &MemoryStore,
    policy: &custodia::policy::ActivePolicy,
    p: &Pipeline,
    artifact: &DigestSet,
    from: Option<&str>,
    to: &str,
    at: i64,
) -> custodia::digest::Digest {
    custodia::promotion::promote(
        store,
        policy,
        &p.request(artifact, from, to, at, Vec::new()),
        &p.promoter,
    )
    .unwrap()
    .record
}

/// A policy whose edges loop (`prod -> dev` besides `qa -> dev -> prod`):
/// validation opens one environment of the loop before its source, so its
/// records wait for every environment to be open before their entry times
/// and gates; the history validates all the same, every record entered at
/// the `qa` promotion.
#[test]
fn records_opened_before_their_source_validate_once_it_is_open() {
    let p = Pipeline::new();
    let policy = ungated_policy(
        &p,
        &["qa", "dev", "prod"],
        &[("qa", "dev"), ("dev", "prod"), ("prod", "dev")],
    );
    let store = MemoryStore::new();
    let a = artifact(1);
    let step = |from: Option<&str>, to: &str, at: i64| {
        promote_ungated(&store, &policy, &p, &a, from, to, at)
    };
    step(None, "qa", T0);
    step(Some("qa"), "dev", T0 + HOUR);
    let in_prod = step(Some("dev"), "prod", T0 + 2 * HOUR);
    let back_in_dev = step(Some("prod"), "dev", T0 + 3 * HOUR);

    let validation = validate(&store, &policy, &["dev"], &ValidationOptions::default());
    assert!(validation.verified(), "{validation}");
    let history = validation.history();
    assert_eq!(history.environment("dev").unwrap().len(), 2);
    for digest in [&in_prod, &back_in_dev] {
        let record = history.record(digest).unwrap();
        assert_eq!(record.entered(), Timestamp::from_unix(T0), "{digest}");
    }
    assert_eq!(
        history.record(&back_in_dev).unwrap().source(),
        Some(in_prod.clone())
    );

    // Deleting the record the waiting ones depend on still fails them.
    store.remove(&in_prod).unwrap();
    let validation = validate(&store, &policy, &["dev"], &ValidationOptions::default());
    assert!(!validation.verified());
    let dev = validation.history().environment("dev").unwrap();
    assert_eq!(dev.len(), 1, "{validation}");
}

/// Scope comes from the records, not the policy: an environment the
/// policy could promote from, that no record of the validated ones came
/// from, is neither reported nor able to fail the validation.
#[test]
fn an_environment_no_record_came_from_is_out_of_scope() {
    let p = Pipeline::new();
    let policy = ungated_policy(
        &p,
        &["dev", "hotfix", "prod"],
        &[("dev", "prod"), ("hotfix", "prod")],
    );
    let store = MemoryStore::new();
    let step = |a: &DigestSet, from: Option<&str>, to: &str, at: i64| {
        promote_ungated(&store, &policy, &p, a, from, to, at)
    };
    step(&artifact(1), None, "dev", T0);
    step(&artifact(1), Some("dev"), "prod", T0 + HOUR);
    // A hotfix that never reached prod, its record then lost.
    let lost = step(&artifact(2), None, "hotfix", T0 + 2 * HOUR);
    store.remove(&lost).unwrap();
    assert!(!validate_chain(&store, &policy, "hotfix").verified());

    let validation = validate(&store, &policy, &["prod"], &ValidationOptions::default());
    assert!(validation.verified(), "{validation}");
    let reported: Vec<&str> = validation
        .reports()
        .iter()
        .map(|(e, _)| e.as_str())
        .collect();
    assert_eq!(reported, vec!["prod", "dev"]);
    assert!(validation.history().environment("hotfix").is_none());
}
