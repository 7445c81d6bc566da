//! Incremental validation (#13): a kept `VerifiedHistory` extended by the
//! records linked since, at their cost only, and safe against a store
//! changed underneath.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::*;
use custodia::digest::Digest;
use custodia::predicate::promotion::Incident;
use custodia::promotion::{
    AdmissionRequest, DirStore, MemoryStore, Store, ValidationOptions, VerifiedHistory, admit,
    promote_with, record_incident, validate,
};
use custodia::time::Timestamp;

fn digests(h: &VerifiedHistory, env: &str) -> Vec<Digest> {
    h.environment(env)
        .unwrap()
        .records()
        .map(|r| r.digest())
        .collect()
}

fn fresh(store: &dyn Store, p: &Pipeline) -> VerifiedHistory {
    let v = validate(
        store,
        &p.policy,
        &["dev", "staging", "prod"],
        &ValidationOptions::default(),
    );
    assert!(v.verified(), "{v}");
    v.into_history()
}

#[test]
fn a_refreshed_history_equals_a_fresh_validation() {
    let p = Pipeline::new();
    let store = MemoryStore::new();
    p.ship(&store, &artifact(1), T0);
    let mut kept = fresh(&store, &p);
    p.ship(&store, &artifact(2), T0 + 24 * HOUR);
    p.ship(&store, &artifact(3), T0 + 48 * HOUR);
    let report = kept.refresh(&store, &p.policy, &ValidationOptions::default());
    assert!(report.verified(), "{report}");
    // Three environments, two new records each.
    assert_eq!(report.checks().len(), 6, "{report}");
    let again = fresh(&store, &p);
    for env in ["dev", "staging", "prod"] {
        assert_eq!(digests(&kept, env), digests(&again, env), "{env}");
        assert!(kept.environment(env).unwrap().verified());
    }
}

#[test]
fn promoting_on_a_kept_history_matches_promote() {
    let p = Pipeline::new();
    let store = MemoryStore::new();
    let mut kept = VerifiedHistory::default();
    for n in 1..=3u32 {
        let a = artifact(n);
        let t = T0 + i64::from(n) * 24 * HOUR;
        let prov = p.provenance(&store, &a);
        promote_with(
            &store,
            &mut kept,
            &p.policy,
            &p.request(&a, None, "dev", t, vec![prov.clone()]),
            &p.promoter,
        )
        .unwrap();
        let tests = p.tests_passed(&store, &a);
        promote_with(
            &store,
            &mut kept,
            &p.policy,
            &p.request(&a, Some("dev"), "staging", t + HOUR, vec![prov, tests]),
            &p.promoter,
        )
        .unwrap();
    }
    let again = fresh(&store, &p);
    for env in ["dev", "staging"] {
        assert_eq!(digests(&kept, env), digests(&again, env), "{env}");
    }
    // And a rebuild is still refused on the kept history.
    let rebuilt = artifact(9);
    let prov = p.provenance(&store, &rebuilt);
    let tests = p.tests_passed(&store, &rebuilt);
    let err = promote_with(
        &store,
        &mut kept,
        &p.policy,
        &p.request(
            &rebuilt,
            Some("dev"),
            "staging",
            T0 + 100 * HOUR,
            vec![prov, tests],
        ),
        &p.promoter,
    )
    .unwrap_err();
    match err {
        custodia::promotion::PromotionError::Refused(r) => {
            assert_eq!(r.first_failure().unwrap().name, "artifact-in-source")
        }
        e => panic!("{e}"),
    }
}

#[test]
fn a_store_rewritten_under_a_kept_history_fails_the_refresh() {
    let p = Pipeline::new();
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::open(dir.path()).unwrap();
    p.ship(&store, &artifact(1), T0);
    let [_, _, r2] = p.ship(&store, &artifact(2), T0 + 24 * HOUR);
    let mut kept = fresh(&store, &p);
    // Truncate prod under it: the verified head is no longer linked.
    let previous = kept
        .record(&r2)
        .unwrap()
        .open(&store)
        .unwrap()
        .previous
        .unwrap();
    std::fs::remove_file(dir.path().join("links/prod").join(previous.hex())).unwrap();
    let report = kept.refresh_records(&store, &p.policy, &ValidationOptions::default());
    assert_eq!(report.first_failure().unwrap().name, "head", "{report}");
    assert!(!kept.environment("prod").unwrap().verified());
    // Admission on it now refuses.
    let d = admit(
        &kept,
        &AdmissionRequest::new("prod", artifact(2), Timestamp::from_unix(T0 + 30 * HOUR)),
    );
    assert_eq!(d.report.first_failure().unwrap().name, "history");
}

#[test]
fn an_unsigned_record_after_the_head_fails_the_refresh() {
    let p = Pipeline::new();
    let store = MemoryStore::new();
    p.ship(&store, &artifact(1), T0);
    let mut kept = fresh(&store, &p);
    let head = kept.environment("prod").unwrap().head().unwrap().digest();
    let junk = store
        .put(br#"{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}"#)
        .unwrap();
    store.link("prod", Some(&head), &junk).unwrap();
    let report = kept.refresh_records(&store, &p.policy, &ValidationOptions::default());
    assert_eq!(
        report.first_failure().unwrap().name,
        "record[1]",
        "{report}"
    );
    assert!(!kept.environment("prod").unwrap().verified());
}

#[test]
fn a_refresh_finds_a_new_incident_and_admission_refuses() {
    let p = Pipeline::new();
    let store = MemoryStore::new();
    p.ship(&store, &artifact(1), T0);
    let mut kept = fresh(&store, &p);
    let at = Timestamp::from_unix(T0 + 5 * HOUR);
    assert!(admit(&kept, &AdmissionRequest::new("prod", artifact(1), at)).allowed);
    record_incident(
        &store,
        &artifact(1),
        &Incident::new("prod", Timestamp::from_unix(T0 + 4 * HOUR), "5xx"),
        &p.promoter,
    )
    .unwrap();
    // Records only: the incident is not seen yet.
    kept.refresh_records(&store, &p.policy, &ValidationOptions::default());
    assert!(admit(&kept, &AdmissionRequest::new("prod", artifact(1), at)).allowed);
    // A full refresh reads the new envelope.
    let report = kept.refresh(&store, &p.policy, &ValidationOptions::default());
    assert!(report.first_failure().is_none(), "{report}");
    let d = admit(&kept, &AdmissionRequest::new("prod", artifact(1), at));
    assert_eq!(d.report.first_failure().unwrap().name, "incident");
}
