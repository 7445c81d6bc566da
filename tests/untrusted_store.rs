//! The store is untrusted (#12): an attacker with write access to the store
//! and the public keys, but no private key, can change no decision. One test
//! per attack, each asserting the check that catches it; then what signed
//! records with impossible times or targets do, then truncation against
//! checkpoints.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::*;
use custodia::digest::{Digest, DigestSet};
use custodia::dsse::Envelope;
use custodia::policy::GateRequest;
use custodia::predicate::promotion::{Incident, PromotionKind, PromotionRecord};
use custodia::promotion::{
    AdmissionRequest, Checkpoint, DirStore, MemoryStore, PromotionError, PromotionRequest,
    SignedCheckpoint, Store, TrustedState, Validation, ValidationOptions, admit, check_checkpoints,
    dora, promote_with, record_incident, rollback, validate,
};
use custodia::report::Report;
use custodia::resource::ResourceDescriptor;
use custodia::statement::{PAYLOAD_TYPE, Statement};
use custodia::time::Timestamp;

fn refused(result: Result<custodia::promotion::Promoted, PromotionError>) -> Report {
    match result {
        Err(PromotionError::Refused(report)) => report,
        Err(e) => panic!("expected a refusal, got {e}"),
        Ok(p) => panic!("expected a refusal, promoted {}", p.record),
    }
}

fn first_failure(report: &Report) -> String {
    report
        .first_failure()
        .unwrap_or_else(|| panic!("no failure in\n{report}"))
        .name
        .clone()
}

fn now() -> ValidationOptions {
    ValidationOptions::default()
}

fn check(store: &dyn Store, p: &Pipeline, env: &str) -> Validation {
    validate(store, &p.policy, &[env], &now())
}

/// The failing check of `env`'s report.
fn failing(store: &dyn Store, p: &Pipeline, env: &str) -> String {
    let v = check(store, p, env);
    first_failure(v.report(env).unwrap())
}

/// A statement-wrapped promotion record, signed by `key` (or unsigned).
fn record_envelope(
    artifact: &DigestSet,
    record: &PromotionRecord,
    key: Option<&custodia::keys::PrivateKey>,
) -> Vec<u8> {
    let st = Statement::new(
        vec![ResourceDescriptor::new("artifact", artifact.clone())],
        record,
    )
    .unwrap();
    match key {
        Some(k) => Envelope::sign(PAYLOAD_TYPE, st.to_json().unwrap(), k)
            .unwrap()
            .to_json()
            .unwrap(),
        None => serde_json::to_vec(&serde_json::json!({
            "payloadType": PAYLOAD_TYPE,
            "payload": base64_std(&st.to_json().unwrap()),
            "signatures": []
        }))
        .unwrap(),
    }
}

fn base64_std(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn head_of(store: &dyn Store, p: &Pipeline, env: &str) -> Option<Digest> {
    check(store, p, env)
        .history()
        .environment(env)
        .and_then(|e| e.head())
        .map(|h| h.digest())
}

/// The record `p` would write for a promotion, with the fields an insider
/// (or a buggy old writer) could set; signed by the promoter.
/// Where a forged record goes: its environment, source environment and
/// kind.
struct Into<'a>(&'a str, Option<&'a str>, PromotionKind);

fn forged(
    p: &Pipeline,
    store: &dyn Store,
    artifact: &DigestSet,
    Into(env, from, kind): Into<'_>,
    time: i64,
    source: Option<Digest>,
) -> Digest {
    let mut record = PromotionRecord::new(
        env,
        from.map(str::to_owned),
        kind,
        Timestamp::from_unix(time),
        p.policy.digest().clone(),
    );
    record.previous = head_of(store, p, env);
    record.source = source;
    record.author = Some("carol".into());
    record.commit_time = Some(Timestamp::from_unix(T0 - HOUR));
    record.reason = Some("forged".into());
    let digest = store
        .put(&record_envelope(artifact, &record, Some(&p.promoter)))
        .unwrap();
    store.link(env, record.previous.as_ref(), &digest).unwrap();
    store.set_head_hint(env, &digest).unwrap();
    digest
}

// ------------------------------------------------------------ no private key

#[test]
fn an_unsigned_record_linked_after_dev_never_lets_its_artifact_move_on() {
    let p = Pipeline::new();
    let store = MemoryStore::new();
    p.ship(&store, &artifact(1), T0);
    let never = artifact(99);
    let dev_head = head_of(&store, &p, "dev");
    let mut record = PromotionRecord::new(
        "dev",
        None,
        PromotionKind::Promotion,
        Timestamp::from_unix(T0 + 5 * HOUR),
        p.policy.digest().clone(),
    );
    record.previous = dev_head.clone();
    let fake = store.put(&record_envelope(&never, &record, None)).unwrap();
    store.link("dev", dev_head.as_ref(), &fake).unwrap();

    // The store's dev history no longer validates: the record is named.
    assert_eq!(failing(&store, &p, "dev"), "record[1]");
    // Promoting the never-built artifact out of dev is refused on `history`:
    // nothing unverified is read for the decision.
    let prov = p.provenance(&store, &never);
    let tests = p.tests_passed(&store, &never);
    let report = refused(p.promote(
        &store,
        &p.request(
            &never,
            Some("dev"),
            "staging",
            T0 + 6 * HOUR,
            vec![prov, tests],
        ),
    ));
    assert_eq!(first_failure(&report), "history");
    // And admission of it anywhere is refused.
    let v = validate(&store, &p.policy, &["dev", "prod"], &now());
    let d = admit(
        v.history(),
        &AdmissionRequest::new("dev", never.clone(), Timestamp::from_unix(T0 + 7 * HOUR)),
    );
    assert!(!d.allowed);
    assert_eq!(first_failure(&d.report), "history");
}

#[test]
fn a_repointed_link_cannot_choose_an_older_rollback_target() {
    let p = Pipeline::new();
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::open(dir.path()).unwrap();
    let [_, _, r1] = p.ship(&store, &artifact(1), T0);
    let [_, _, r2] = p.ship(&store, &artifact(2), T0 + 24 * HOUR);
    let [_, _, _r3] = p.ship(&store, &artifact(3), T0 + 48 * HOUR);
    // Re-point prod's link after r1 to r3: the chain now skips r2.
    let link = dir.path().join("links/prod").join(r1.hex());
    let original = std::fs::read(&link).unwrap();
    let r3_hex = std::fs::read_to_string(dir.path().join("links/prod").join(r2.hex())).unwrap();
    std::fs::write(&link, r3_hex).unwrap();
    let err = rollback(
        &store,
        &p.policy,
        "prod",
        Timestamp::from_unix(T0 + 51 * HOUR),
        "5xx",
        &p.promoter,
    );
    assert_eq!(first_failure(&refused(err)), "history");
    // Restored: the rollback goes to r2's artifact, the last known-good.
    std::fs::write(&link, original).unwrap();
    let back = rollback(
        &store,
        &p.policy,
        "prod",
        Timestamp::from_unix(T0 + 51 * HOUR),
        "5xx",
        &p.promoter,
    )
    .unwrap();
    assert_eq!(back.artifact, artifact(2));
    assert_eq!(back.predicate.source.as_ref(), Some(&r2));
}

#[test]
fn deleting_a_record_on_a_release_path_refuses_it_everywhere_downstream() {
    let p = Pipeline::new();
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::open(dir.path()).unwrap();
    let a = artifact(1);
    let [dev, _, _] = p.ship(&store, &a, T0);
    let t = Timestamp::from_unix(T0 + 3 * HOUR);
    let v = check(&store, &p, "prod");
    assert!(admit(v.history(), &AdmissionRequest::new("prod", a.clone(), t)).allowed);
    std::fs::remove_file(store.envelope_path(&dev)).unwrap();
    // Only prod is asked for; its path back to the build is broken in dev.
    assert_eq!(failing(&store, &p, "prod"), "record[0]");
    let d = admit(
        check(&store, &p, "prod").history(),
        &AdmissionRequest::new("prod", a, t),
    );
    assert!(!d.allowed);
    assert_eq!(first_failure(&d.report), "history");
}

/// `n` releases promoted into dev one after another; their records.
fn dev_records(store: &dyn Store, p: &Pipeline, n: u32) -> Vec<Digest> {
    let mut history = validate(store, &p.policy, &["dev"], &now()).into_history();
    (0..n)
        .map(|i| {
            let a = artifact(i);
            let prov = p.provenance(store, &a);
            let req = p.request(&a, None, "dev", T0 + i64::from(i), vec![prov]);
            promote_with(store, &mut history, &p.policy, &req, &p.promoter)
                .unwrap()
                .record
        })
        .collect()
}

#[test]
fn links_that_loop_back_end_the_chain_where_they_loop() {
    // Links are followed a batch (1,024) at a time: a loop back into the
    // same batch, and one back across batches to an opened record.
    let p = Pipeline::new();
    for (n, back_to) in [(3u32, 0usize), (1_030, 5)] {
        let store = MemoryStore::new();
        let records = dev_records(&store, &p, n);
        let last = records.last().unwrap();
        assert!(check(&store, &p, "dev").verified());
        store.link("dev", Some(last), &records[back_to]).unwrap();
        let v = check(&store, &p, "dev");
        assert!(!v.verified(), "{n} records, loop back to {back_to}");
        assert_eq!(failing(&store, &p, "dev"), format!("record[{n}]"));
        let dev = v.history().environment("dev").unwrap();
        assert_eq!(dev.len(), records.len());
        assert!(dev.head().is_none() && dev.last().unwrap().has_digest(last));
    }
}

// ----------------------------------------- signed records, impossible facts

#[test]
fn a_rollback_to_an_artifact_with_an_incident_does_not_validate() {
    let p = Pipeline::new();
    let store = MemoryStore::new();
    let [_, _, r1] = p.ship(&store, &artifact(1), T0);
    p.ship(&store, &artifact(2), T0 + 24 * HOUR);
    let incident = Incident::new("prod", Timestamp::from_unix(T0 + 10 * HOUR), "data loss");
    record_incident(&store, &artifact(1), &incident, &p.promoter).unwrap();
    // The honest path refuses: no known-good target.
    let err = rollback(
        &store,
        &p.policy,
        "prod",
        Timestamp::from_unix(T0 + 27 * HOUR),
        "x",
        &p.promoter,
    );
    assert_eq!(first_failure(&refused(err)), "rollback-target");
    // A signed rollback record to artifact 1 anyway does not validate.
    forged(
        &p,
        &store,
        &artifact(1),
        Into("prod", Some("prod"), PromotionKind::Rollback),
        T0 + 27 * HOUR,
        Some(r1),
    );
    let v = check(&store, &p, "prod");
    let f = v.report("prod").unwrap().first_failure().unwrap().clone();
    assert_eq!(f.name, "record[2]", "{v}");
}

#[test]
fn a_rollback_past_the_last_known_good_does_not_validate() {
    let p = Pipeline::new();
    let store = MemoryStore::new();
    let [_, _, r1] = p.ship(&store, &artifact(1), T0);
    p.ship(&store, &artifact(2), T0 + 24 * HOUR);
    p.ship(&store, &artifact(3), T0 + 48 * HOUR);
    // Artifact 2 is the last known-good; a rollback to 1 skips it.
    forged(
        &p,
        &store,
        &artifact(1),
        Into("prod", Some("prod"), PromotionKind::Rollback),
        T0 + 51 * HOUR,
        Some(r1),
    );
    assert_eq!(failing(&store, &p, "prod"), "record[3]");
}

#[test]
fn records_dated_in_the_future_are_refused() {
    let p = Pipeline::new();
    let store = MemoryStore::new();
    let a = artifact(1);
    let prov = p.provenance(&store, &a);
    let year_2099 = 4_070_908_800;
    let report = refused(p.promote(&store, &p.request(&a, None, "dev", year_2099, vec![prov])));
    assert_eq!(first_failure(&report), "time");
    forged(
        &p,
        &store,
        &a,
        Into("dev", None, PromotionKind::Promotion),
        year_2099,
        None,
    );
    assert_eq!(failing(&store, &p, "dev"), "record[0]");
}

#[test]
fn a_promotion_earlier_than_its_source_is_refused() {
    let p = Pipeline::new();
    let store = MemoryStore::new();
    let a = artifact(1);
    let prov = p.provenance(&store, &a);
    let dev = p
        .promote(
            &store,
            &p.request(&a, None, "dev", T0 + 10 * HOUR, vec![prov.clone()]),
        )
        .unwrap();
    let tests = p.tests_passed(&store, &a);
    let report = refused(p.promote(
        &store,
        &p.request(&a, Some("dev"), "staging", T0, vec![prov, tests]),
    ));
    assert_eq!(first_failure(&report), "source-time");
    // Signed anyway: validation refuses it.
    forged(
        &p,
        &store,
        &a,
        Into("staging", Some("dev"), PromotionKind::Promotion),
        T0,
        Some(dev.record),
    );
    assert_eq!(failing(&store, &p, "staging"), "record[0]");
}

#[test]
fn approvals_dated_outside_their_window_do_not_count() {
    let p = Pipeline::new();
    let store = MemoryStore::new();
    let a = artifact(1);
    let prov = p.provenance(&store, &a);
    p.promote(
        &store,
        &p.request(&a, None, "dev", T0 + 100 * HOUR, vec![prov.clone()]),
    )
    .unwrap();
    let tests = p.tests_passed(&store, &a);
    p.promote(
        &store,
        &p.request(
            &a,
            Some("dev"),
            "staging",
            T0 + 101 * HOUR,
            vec![prov.clone(), tests.clone()],
        ),
    )
    .unwrap();
    let scan = p.scan(&store, &a, &[]);
    for (when, what) in [
        (T0 - 365 * 24 * HOUR, "years before the build"),
        (T0 + 200 * HOUR, "after the promotion"),
    ] {
        let x = p.approve_at(&store, &a, "prod", &p.alice, when);
        let y = p.approve_at(&store, &a, "prod", &p.bob, when);
        let report = refused(p.promote(
            &store,
            &p.request(
                &a,
                Some("staging"),
                "prod",
                T0 + 102 * HOUR,
                vec![prov.clone(), tests.clone(), scan.clone(), x, y],
            ),
        ));
        assert_eq!(first_failure(&report), "approvals", "{what}");
    }
}

#[test]
fn an_incident_resolved_before_it_opened_fails_validation_and_dora() {
    let p = Pipeline::new();
    let store = MemoryStore::new();
    p.ship(&store, &artifact(1), T0);
    let mut i = Incident::new("prod", Timestamp::from_unix(T0 + 5 * HOUR), "outage");
    i.resolved = Some(Timestamp::from_unix(T0 + 4 * HOUR));
    record_incident(&store, &artifact(1), &i, &p.promoter).unwrap();
    let v = check(&store, &p, "prod");
    assert_eq!(first_failure(v.report("prod").unwrap()), "incidents");
    // No metric from a history that does not validate.
    assert!(
        dora(
            v.history(),
            "prod",
            Timestamp::from_unix(T0),
            Timestamp::from_unix(T0 + 48 * HOUR),
            &Default::default()
        )
        .is_none()
    );
}

#[test]
fn an_emergency_whose_reason_is_blank_is_refused() {
    let p = Pipeline::new();
    let store = MemoryStore::new();
    let a = artifact(1);
    let prov = p.provenance(&store, &a);
    for blank in ["", "   ", "\u{200b}\u{200b}", "\t\n"] {
        let mut req = p.request(&a, None, "dev", T0, vec![prov.clone()]);
        emergency(&mut req, blank);
        let report = refused(p.promote(&store, &req));
        let failed: Vec<&str> = report
            .checks()
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.name.as_str())
            .collect();
        assert!(failed.contains(&"emergency"), "{blank:?}: {report}");
    }
}

// -------------------------------------------------------------- truncation

fn truncate_newest(dir: &std::path::Path, store: &DirStore, p: &Pipeline, env: &str) {
    let v = check(store, p, env);
    let records = v.history().environment(env).unwrap();
    let last = records.last().unwrap();
    let prev = records
        .len()
        .checked_sub(2)
        .map(|i| records.get(i).unwrap().digest());
    std::fs::remove_file(store.envelope_path(&last.digest())).unwrap();
    let link = dir
        .join("links")
        .join(env)
        .join(prev.as_ref().map_or("genesis".to_owned(), Digest::hex));
    std::fs::remove_file(link).unwrap();
    match prev {
        Some(d) => std::fs::write(dir.join("heads").join(env), d.hex()).unwrap(),
        None => std::fs::remove_file(dir.join("heads").join(env)).unwrap(),
    }
}

#[test]
fn truncation_validates_alone_but_not_against_a_kept_or_witnessed_checkpoint() {
    let p = Pipeline::new();
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::open(dir.path()).unwrap();
    p.ship(&store, &artifact(1), T0);
    p.ship(&store, &artifact(2), T0 + 24 * HOUR);
    let before = check(&store, &p, "prod");
    assert!(before.verified());
    let mut state = TrustedState::default();
    state.advance(before.history());
    let mut note = SignedCheckpoint::new(Checkpoint::of(before.history(), "prod").unwrap());
    note.sign("witness-a", &p.witness).unwrap();
    let note = SignedCheckpoint::from_note(note.to_note().as_bytes()).unwrap();
    assert!(
        check_checkpoints(
            before.history(),
            &p.policy,
            &state,
            std::slice::from_ref(&note)
        )
        .verified()
    );

    truncate_newest(dir.path(), &store, &p, "prod");
    let after = check(&store, &p, "prod");
    // What a hash chain alone cannot see: the shorter history validates.
    assert!(after.verified(), "{after}");
    // Against the verifier's kept checkpoint, or a witness's: detected.
    let kept = check_checkpoints(after.history(), &p.policy, &state, &[]);
    assert_eq!(first_failure(&kept), "checkpoint");
    let witnessed = check_checkpoints(
        after.history(),
        &p.policy,
        &TrustedState::default(),
        &[note],
    );
    assert_eq!(first_failure(&witnessed), "checkpoint");
}

#[test]
fn a_checkpoint_signed_by_a_non_witness_or_twice_by_one_key_is_refused() {
    let p = Pipeline::new();
    let store = MemoryStore::new();
    p.ship(&store, &artifact(1), T0);
    let v = check(&store, &p, "prod");
    let cp = Checkpoint::of(v.history(), "prod").unwrap();
    // The promoter is no witness.
    let mut by_promoter = SignedCheckpoint::new(cp.clone());
    by_promoter.sign("deployer", &p.promoter).unwrap();
    let r = check_checkpoints(
        v.history(),
        &p.policy,
        &TrustedState::default(),
        &[by_promoter],
    );
    assert_eq!(first_failure(&r), "checkpoint-signature");
    // One key, two lines: refused when read.
    let mut once = SignedCheckpoint::new(cp);
    once.sign("witness-a", &p.witness).unwrap();
    let text = once.to_note();
    let line = text.lines().last().unwrap();
    let twice = format!("{text}{line}\n");
    assert!(matches!(
        SignedCheckpoint::from_note(twice.as_bytes()),
        Err(custodia::Error::Checkpoint(
            custodia::error::CheckpointError::DuplicateSignature(_)
        ))
    ));
}

// --------------------------------------------------------------- admission

#[test]
fn admission_scenarios() {
    let p = Pipeline::new();
    let store = MemoryStore::new();
    let (a1, a2, a3) = (artifact(1), artifact(2), artifact(3));
    p.ship(&store, &a1, T0);
    p.ship(&store, &a2, T0 + 24 * HOUR);
    let t = |h: i64| Timestamp::from_unix(T0 + h * HOUR);
    let decide = |a: &DigestSet, at: Timestamp, history: bool| {
        let v = check(&store, &p, "prod");
        let mut req = AdmissionRequest::new("prod", a.clone(), at);
        if history {
            req = req.allowing_history();
        }
        admit(v.history(), &req)
    };
    // Current head allowed; the earlier release only with history allowed.
    assert!(decide(&a2, t(27), false).allowed);
    assert_eq!(first_failure(&decide(&a1, t(27), false).report), "current");
    assert!(decide(&a1, t(27), true).allowed);
    // Never promoted (or rebuilt: a new digest) refused.
    assert_eq!(first_failure(&decide(&a3, t(27), true).report), "promoted");
    // An open incident on the current head refuses it.
    let incident = Incident::new("prod", t(28), "errors");
    record_incident(&store, &a2, &incident, &p.promoter).unwrap();
    assert_eq!(first_failure(&decide(&a2, t(29), false).report), "incident");
    // After the rollback, a1 runs again; a2 was rolled back away from.
    rollback(&store, &p.policy, "prod", t(29), "errors", &p.promoter).unwrap();
    assert!(decide(&a1, t(30), false).allowed);
    assert_eq!(first_failure(&decide(&a2, t(30), true).report), "current");
    // The admission decision names the path back to the build.
    let d = decide(&a1, t(30), false);
    assert_eq!(d.path.len(), 4, "{:?}", d.report); // rollback, prod, staging, dev
}

#[test]
fn a_gate_request_with_another_author_than_the_entry_is_refused() {
    let p = Pipeline::new();
    let store = MemoryStore::new();
    let a = artifact(1);
    let prov = p.provenance(&store, &a);
    p.promote(&store, &p.request(&a, None, "dev", T0, vec![prov.clone()]))
        .unwrap();
    let tests = p.tests_passed(&store, &a);
    let mut gate = GateRequest::new(
        a.clone(),
        Some("dev"),
        "staging",
        Timestamp::from_unix(T0 + HOUR),
    );
    gate.author = Some("mallory".into());
    let report = refused(p.promote(&store, &PromotionRequest::new(gate, vec![prov, tests])));
    assert_eq!(first_failure(&report), "author");
}

/// The `store` fuzz target's harness on its seeds and some fixed edits (so
/// `cargo test` runs it even where cargo-fuzz is absent).
#[test]
fn the_store_fuzz_harness_holds_on_its_seeds() {
    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/store");
    for entry in std::fs::read_dir(seeds).unwrap() {
        custodia::promotion::fuzzing::store(&std::fs::read(entry.unwrap().path()).unwrap());
    }
    for op in 0u8..7 {
        for pick in 0u8..6 {
            custodia::promotion::fuzzing::store(&[op, pick % 2, pick, 3, b'a', b'b', b'c']);
        }
    }
}

/// How a store lends its bytes to readers (`Store::read_with`).
#[derive(Clone, Copy)]
enum Lending {
    /// As stored.
    Honest,
    /// Never calls the reader.
    Nothing,
    /// Another envelope's bytes for one digest.
    Substitute,
    /// The stored bytes, then garbage.
    Twice,
}

/// A store that keeps its envelopes honestly but lends them as `lending`
/// says; not custodia's own, so readers hash what it lends.
struct Lender {
    inner: MemoryStore,
    lending: Lending,
    /// The digest whose bytes are substituted, and what by.
    swap: Option<(Digest, Vec<u8>)>,
}

impl Store for Lender {
    fn put(&self, bytes: &[u8]) -> Result<Digest, custodia::Error> {
        self.inner.put(bytes)
    }
    fn get(&self, digest: &Digest) -> Result<Vec<u8>, custodia::Error> {
        self.inner.get(digest)
    }
    fn read_with(
        &self,
        digest: &Digest,
        read: &mut dyn FnMut(&[u8]),
    ) -> Result<(), custodia::Error> {
        let bytes = self.inner.get(digest)?;
        match (self.lending, &self.swap) {
            (Lending::Honest, _) => read(&bytes),
            (Lending::Nothing, _) => {}
            (Lending::Substitute, Some((target, other))) if target == digest => read(other),
            (Lending::Substitute, _) => read(&bytes),
            (Lending::Twice, _) => {
                read(&bytes);
                read(b"{}");
            }
        }
        Ok(())
    }
    fn list(&self) -> Result<Vec<Digest>, custodia::Error> {
        self.inner.list()
    }
    fn link(
        &self,
        environment: &str,
        previous: Option<&Digest>,
        next: &Digest,
    ) -> Result<(), custodia::Error> {
        self.inner.link(environment, previous, next)
    }
    fn successor(
        &self,
        environment: &str,
        previous: Option<&Digest>,
    ) -> Result<Option<Digest>, custodia::Error> {
        self.inner.successor(environment, previous)
    }
}

#[test]
fn a_store_that_lends_wrong_bytes_or_none_changes_no_decision() {
    let p = Pipeline::new();
    let mut store = Lender {
        inner: MemoryStore::new(),
        lending: Lending::Honest,
        swap: None,
    };
    let [dev, staging, _] = p.ship(&store, &artifact(1), T0);
    assert!(check(&store, &p, "prod").verified());
    // Read once: a second lending is not read.
    store.lending = Lending::Twice;
    assert!(check(&store, &p, "prod").verified());
    // Nothing lent: the records cannot be read.
    store.lending = Lending::Nothing;
    assert_eq!(failing(&store, &p, "dev"), "record[0]");
    // The dev record's bytes lent for staging's (signed, but another
    // record): they do not hash to the name staging links.
    store.lending = Lending::Substitute;
    store.swap = Some((staging, store.inner.get(&dev).unwrap()));
    assert!(check(&store, &p, "dev").verified());
    assert_eq!(failing(&store, &p, "staging"), "record[0]");
}
