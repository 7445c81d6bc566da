//! Promotions racing into one environment: threads and processes sharing
//! one [`DirStore`], and writes interrupted half-way. The history must stay
//! one linear, valid chain; every loser must learn which record won.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
mod files;

use files::copy_dir;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;
use custodia::Error;
use custodia::digest::{Digest, DigestAlgorithm, DigestSet};
use custodia::error::StoreError;
use custodia::keys::PrivateKey;
use custodia::policy::{ActivePolicy, Policy};
use custodia::predicate::promotion::PROMOTION_V1;
use custodia::promotion::{
    DirStore, Promoted, PromotionError, Store, ValidationOptions, head, history, promote, validate,
    validate_chain,
};
use custodia::report::Report;
use custodia::statement::Statement;

const RACERS: usize = 8;
/// When every racer enters prod: one instant, so the chain's times never
/// go backwards whichever order the racers are linked in.
const PROD_AT: i64 = T0 + 100 * HOUR;

/// Promotes `a` into dev and staging (starting at `start`) and stores the
/// evidence prod's gate needs; returns that evidence.
fn staged(p: &Pipeline, store: &dyn Store, a: &DigestSet, start: i64) -> Vec<Digest> {
    let prov = p.provenance(store, a);
    p.promote(store, &p.request(a, None, "dev", start, vec![prov.clone()]))
        .unwrap();
    let tests = p.tests_passed(store, a);
    p.promote(
        store,
        &p.request(
            a,
            Some("dev"),
            "staging",
            start + HOUR,
            vec![prov.clone(), tests.clone()],
        ),
    )
    .unwrap();
    let scan = p.scan(store, a, &[("CVE-2024-0001", "low")]);
    let x = p.approve_at(store, a, "prod", &p.alice, start + HOUR);
    let y = p.approve_at(store, a, "prod", &p.bob, start + HOUR);
    vec![prov, tests, scan, x, y]
}

/// `RACERS` artifacts, each promoted into staging with its prod evidence.
fn staged_racers(p: &Pipeline, store: &dyn Store) -> Vec<(DigestSet, Vec<Digest>)> {
    (0..RACERS)
        .map(|i| {
            let a = artifact(u32::try_from(i).unwrap() + 1);
            let ev = staged(p, store, &a, T0 + i64::try_from(i).unwrap() * 2 * HOUR);
            (a, ev)
        })
        .collect()
}

/// A lost race: `(previous, existing)` of the conflict, or a panic.
fn conflict(e: &PromotionError) -> (String, String) {
    match e {
        PromotionError::Store(Error::Store(StoreError::Conflict {
            environment,
            previous,
            existing,
        })) => {
            assert_eq!(environment, "prod");
            (previous.clone(), existing.clone())
        }
        other => panic!("expected a conflict, got {other}"),
    }
}

/// The slot a record is linked in, as a conflict names it: its
/// predecessor's digest, or `genesis`.
fn slot(chain: &[Digest], at: usize) -> String {
    match at.checked_sub(1) {
        Some(before) => chain[before].to_string(),
        None => "genesis".to_owned(),
    }
}

/// The prod history as digests, checking it is one linear chain (each
/// record's `previous` is the record before it).
fn linear_chain(store: &dyn Store) -> Vec<Digest> {
    let h = history(store, "prod").unwrap();
    for (i, entry) in h.iter().enumerate() {
        let expected = i.checked_sub(1).map(|b| h[b].digest.clone());
        assert_eq!(entry.record.previous, expected, "record {i} of prod");
    }
    h.into_iter().map(|e| e.digest).collect()
}

/// Promotion records into prod that are stored but not in its chain.
fn unlinked_prod_records(store: &dyn Store, chain: &[Digest]) -> BTreeSet<Digest> {
    store
        .list()
        .unwrap()
        .into_iter()
        .filter(|d| !chain.contains(d))
        .filter(|d| {
            let bytes = store.get(d).unwrap();
            let envelope = custodia::dsse::Envelope::from_json(&bytes).unwrap();
            let st = Statement::from_json(envelope.payload()).unwrap();
            st.predicate_type() == PROMOTION_V1
                && st.predicate_value().unwrap()["environment"] == serde_json::json!("prod")
        })
        .collect()
}

/// `prod` validates with exactly `records` accepted records, and nothing
/// fails (in particular `unlinked-records`: losers leave no record behind).
fn assert_chain_valid(store: &dyn Store, policy: &ActivePolicy, records: usize) {
    let validation = validate(store, policy, &["prod"], &ValidationOptions::default());
    assert!(validation.verified(), "{validation}");
    let prod = validation.history().environment("prod").unwrap();
    assert_eq!(prod.len(), records, "{validation}");
}

/// Checks a round of racing promotions: the winners are exactly the new
/// records of the linear chain, and each loser's conflict names the record
/// that took the slot it wanted.
fn check_round(
    store: &dyn Store,
    before: &[Digest],
    results: &[Result<Promoted, PromotionError>],
) -> Vec<Digest> {
    let chain = linear_chain(store);
    assert!(chain.starts_with(before), "the chain only grows");
    assert_eq!(head(store, "prod").unwrap().as_ref(), chain.last());
    let winners: Vec<Digest> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().map(|p| p.record.clone()))
        .collect();
    let new: BTreeSet<&Digest> = chain.iter().skip(before.len()).collect();
    assert_eq!(
        new,
        winners.iter().collect::<BTreeSet<_>>(),
        "exactly the winners' records were linked"
    );
    assert_eq!(new.len(), winners.len());
    for r in results {
        if let Err(e) = r {
            let (previous, existing) = conflict(e);
            let at = chain
                .iter()
                .position(|d| d.to_string() == existing)
                .unwrap_or_else(|| panic!("conflict names {existing}, not in the chain"));
            assert_eq!(previous, slot(&chain, at), "{e}");
            assert!(e.to_string().contains(&existing), "{e}");
        }
    }
    chain
}

#[test]
fn threads_racing_into_prod_leave_one_linear_chain_and_retries_converge() {
    let p = Pipeline::new();
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::open(dir.path()).unwrap();
    let racers = staged_racers(&p, &store);

    // Round one: everyone starts at once.
    let barrier = Barrier::new(RACERS);
    let results: Vec<Result<Promoted, PromotionError>> = std::thread::scope(|s| {
        let handles: Vec<_> = racers
            .iter()
            .map(|(a, ev)| {
                let (p, store, barrier) = (&p, &store, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    p.promote(
                        store,
                        &p.request(a, Some("staging"), "prod", PROD_AT, ev.clone()),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let chain = check_round(&store, &[], &results);
    assert!(!chain.is_empty(), "someone wins");
    let losers = results.iter().filter(|r| r.is_err()).count();
    assert_eq!(chain.len() + losers, RACERS);
    assert_chain_valid(&store, &p.policy, chain.len());

    // Losers retry, still all at once: each attempt re-reads the head
    // (inside `promote`); every failure is a conflict naming the winner.
    let attempts = AtomicUsize::new(0);
    let retrying: Vec<&(DigestSet, Vec<Digest>)> = racers
        .iter()
        .zip(&results)
        .filter(|(_, r)| r.is_err())
        .map(|(racer, _)| racer)
        .collect();
    let barrier = Barrier::new(retrying.len());
    let retried: Vec<Promoted> = std::thread::scope(|s| {
        let handles: Vec<_> = retrying
            .iter()
            .map(|(a, ev)| {
                let (p, store, barrier, attempts) = (&p, &store, &barrier, &attempts);
                s.spawn(move || {
                    barrier.wait();
                    for _ in 0..10 * RACERS {
                        attempts.fetch_add(1, Ordering::Relaxed);
                        let req = p.request(a, Some("staging"), "prod", PROD_AT, ev.clone());
                        match p.promote(store, &req) {
                            Ok(done) => return done,
                            Err(e) => {
                                let (_, existing) = conflict(&e);
                                let chain = linear_chain(store);
                                assert!(chain.iter().any(|d| d.to_string() == existing), "{e}");
                            }
                        }
                    }
                    panic!("no progress after {} attempts", 10 * RACERS)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let chain = linear_chain(&store);
    assert_eq!(chain.len(), RACERS, "the retry loop converges");
    assert_eq!(head(&store, "prod").unwrap().as_ref(), chain.last());
    for done in &retried {
        assert!(chain.contains(&done.record));
    }
    let artifacts: BTreeSet<String> = history(&store, "prod")
        .unwrap()
        .iter()
        .map(|e| e.artifact.strongest().unwrap().to_string())
        .collect();
    assert_eq!(artifacts.len(), RACERS, "every artifact entered prod once");
    assert!(attempts.load(Ordering::Relaxed) >= retrying.len());
    assert_chain_valid(&store, &p.policy, RACERS);
    for env in ["dev", "staging"] {
        let report = validate_chain(&store, &p.policy, env);
        assert!(report.verified(), "{env}:\n{report}");
    }
}

/// Delegates to a [`DirStore`], but holds every `link` at a barrier, so all
/// racers have read the same head before any of them links.
struct HoldAtLink<'a> {
    inner: &'a DirStore,
    barrier: Barrier,
}

impl Store for HoldAtLink<'_> {
    fn put(&self, bytes: &[u8]) -> Result<Digest, Error> {
        self.inner.put(bytes)
    }
    fn get(&self, digest: &Digest) -> Result<Vec<u8>, Error> {
        self.inner.get(digest)
    }
    fn list(&self) -> Result<Vec<Digest>, Error> {
        self.inner.list()
    }
    fn remove(&self, digest: &Digest) -> Result<(), Error> {
        self.inner.remove(digest)
    }
    fn link(&self, env: &str, previous: Option<&Digest>, next: &Digest) -> Result<(), Error> {
        self.barrier.wait();
        self.inner.link(env, previous, next)
    }
    fn successor(&self, env: &str, previous: Option<&Digest>) -> Result<Option<Digest>, Error> {
        self.inner.successor(env, previous)
    }
    fn head_hint(&self, env: &str) -> Result<Option<Digest>, Error> {
        self.inner.head_hint(env)
    }
    fn set_head_hint(&self, env: &str, head: &Digest) -> Result<(), Error> {
        self.inner.set_head_hint(env, head)
    }
}

#[test]
fn racers_on_one_link_have_exactly_one_winner() {
    let p = Pipeline::new();
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::open(dir.path()).unwrap();
    let racers = staged_racers(&p, &store);
    // One record in prod already: the race is for the slot after it.
    let first = p
        .promote(
            &store,
            &p.request(
                &racers[0].0,
                Some("staging"),
                "prod",
                PROD_AT,
                racers[0].1.clone(),
            ),
        )
        .unwrap();
    let held = HoldAtLink {
        inner: &store,
        barrier: Barrier::new(RACERS - 1),
    };
    let results: Vec<Result<Promoted, PromotionError>> = std::thread::scope(|s| {
        let handles: Vec<_> = racers
            .iter()
            .skip(1)
            .map(|(a, ev)| {
                let (p, held) = (&p, &held);
                s.spawn(move || {
                    p.promote(
                        held,
                        &p.request(a, Some("staging"), "prod", PROD_AT, ev.clone()),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let chain = check_round(&store, std::slice::from_ref(&first.record), &results);
    assert_eq!(chain.len(), 2, "exactly one racer wins the slot");
    for r in &results {
        if let Err(e) = r {
            assert_eq!(
                conflict(e),
                (first.record.to_string(), chain[1].to_string()),
                "{e}"
            );
        }
    }
    assert_eq!(results.iter().filter(|r| r.is_err()).count(), RACERS - 2);
    assert_chain_valid(&store, &p.policy, 2);
}

/// A promotion that loses a race has already stored its signed record
/// (`promote` puts, then links). Left there, `validate_chain` would report
/// it as `unlinked-records` (a fork) forever; the loser removes it.
#[test]
fn a_lost_race_leaves_the_chain_valid() {
    let p = Pipeline::new();
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::open(dir.path()).unwrap();
    let (a, ev_a) = (artifact(1), staged(&p, &store, &artifact(1), T0));
    let (b, ev_b) = (artifact(2), staged(&p, &store, &artifact(2), T0 + 2 * HOUR));
    let held = HoldAtLink {
        inner: &store,
        barrier: Barrier::new(2),
    };
    let results: Vec<Result<Promoted, PromotionError>> = std::thread::scope(|s| {
        let handles: Vec<_> = [(&a, &ev_a), (&b, &ev_b)]
            .into_iter()
            .map(|(x, ev)| {
                let (p, held) = (&p, &held);
                s.spawn(move || {
                    p.promote(
                        held,
                        &p.request(x, Some("staging"), "prod", PROD_AT, ev.clone()),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let chain = check_round(&store, &[], &results);
    assert_eq!(chain.len(), 1);
    assert_eq!(results.iter().filter(|r| r.is_err()).count(), 1);
    assert!(unlinked_prod_records(&store, &chain).is_empty());
    let report = validate_chain(&store, &p.policy, "prod");
    assert!(report.verified(), "{report}");
}

// ---------------------------------------------------------------------------
// Two processes.

const CHILD_DIR: &str = "CUSTODIA_RACE_DIR";
const CHILD_ARTIFACT: &str = "CUSTODIA_RACE_ARTIFACT";
const KEY_NAMES: [&str; 8] = [
    "builder", "tester", "scanner", "alice", "bob", "carol", "promoter", "witness",
];
const PROCESS_TEST: &str = "two_processes_race_on_one_link";

fn pipeline_keys(p: &Pipeline) -> [&PrivateKey; 8] {
    [
        &p.builder,
        &p.tester,
        &p.scanner,
        &p.alice,
        &p.bob,
        &p.carol,
        &p.promoter,
        &p.witness,
    ]
}

/// The fixture as the parent wrote it: keys (PKCS#8 PEM) and policy JSON.
fn load_pipeline(dir: &Path) -> Pipeline {
    let key = |name: &str| {
        let pem = std::fs::read_to_string(dir.join("keys").join(format!("{name}.pem"))).unwrap();
        PrivateKey::from_pem(&pem).unwrap()
    };
    let json = std::fs::read(dir.join("policy.json")).unwrap();
    let policy = Policy::from_json(&json).unwrap().activate().unwrap();
    let digest = std::fs::read_to_string(dir.join("policy.digest")).unwrap();
    assert_eq!(policy.digest().to_string(), digest, "the same policy");
    Pipeline {
        builder: key("builder"),
        tester: key("tester"),
        scanner: key("scanner"),
        alice: key("alice"),
        bob: key("bob"),
        carol: key("carol"),
        promoter: key("promoter"),
        witness: key("witness"),
        policy,
    }
}

/// Delegates to a [`DirStore`], but before linking marks itself ready in
/// `dir` and waits until every peer process is ready too: both promotions
/// have read the same head before either links.
struct HoldAcrossProcesses<'a> {
    inner: &'a DirStore,
    dir: PathBuf,
    me: String,
    peers: [&'static str; 2],
}

impl Store for HoldAcrossProcesses<'_> {
    fn put(&self, bytes: &[u8]) -> Result<Digest, Error> {
        self.inner.put(bytes)
    }
    fn get(&self, digest: &Digest) -> Result<Vec<u8>, Error> {
        self.inner.get(digest)
    }
    fn list(&self) -> Result<Vec<Digest>, Error> {
        self.inner.list()
    }
    fn remove(&self, digest: &Digest) -> Result<(), Error> {
        self.inner.remove(digest)
    }
    fn link(&self, env: &str, previous: Option<&Digest>, next: &Digest) -> Result<(), Error> {
        std::fs::write(self.dir.join(format!("ready-{}", self.me)), b"").unwrap();
        let deadline = Instant::now() + Duration::from_secs(120);
        while !self
            .peers
            .iter()
            .all(|n| self.dir.join(format!("ready-{n}")).exists())
        {
            assert!(Instant::now() < deadline, "the other process never came");
            std::thread::sleep(Duration::from_millis(1));
        }
        self.inner.link(env, previous, next)
    }
    fn successor(&self, env: &str, previous: Option<&Digest>) -> Result<Option<Digest>, Error> {
        self.inner.successor(env, previous)
    }
    fn head_hint(&self, env: &str) -> Result<Option<Digest>, Error> {
        self.inner.head_hint(env)
    }
    fn set_head_hint(&self, env: &str, head: &Digest) -> Result<(), Error> {
        self.inner.set_head_hint(env, head)
    }
}

/// The child's side: promote one artifact into prod, write the outcome.
fn race_child(dir: &Path, n: &str) {
    let p = load_pipeline(dir);
    let store = DirStore::open(dir.join("store")).unwrap();
    let evidence: Vec<Digest> = std::fs::read_to_string(dir.join(format!("evidence-{n}")))
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    let held = HoldAcrossProcesses {
        inner: &store,
        dir: dir.to_owned(),
        me: n.to_owned(),
        peers: ["1", "2"],
    };
    let a = artifact(n.parse().unwrap());
    let outcome = match promote(
        &held,
        &p.policy,
        &p.request(&a, Some("staging"), "prod", PROD_AT, evidence),
        &p.promoter,
    ) {
        Ok(done) => format!("won {}", done.record),
        Err(e) => {
            let (previous, existing) = conflict(&e);
            format!("conflict {previous} {existing}")
        }
    };
    std::fs::write(dir.join(format!("outcome-{n}")), outcome).unwrap();
}

#[test]
fn two_processes_race_on_one_link() {
    if let (Some(dir), Some(n)) = (
        std::env::var_os(CHILD_DIR),
        std::env::var_os(CHILD_ARTIFACT),
    ) {
        race_child(Path::new(&dir), n.to_str().unwrap());
        return;
    }
    let p = Pipeline::new();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir(dir.join("keys")).unwrap();
    for (name, key) in KEY_NAMES.iter().zip(pipeline_keys(&p)) {
        std::fs::write(
            dir.join("keys").join(format!("{name}.pem")),
            key.to_pem().as_bytes(),
        )
        .unwrap();
    }
    std::fs::write(
        dir.join("policy.json"),
        p.policy.policy().to_json().unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("policy.digest"), p.policy.digest().to_string()).unwrap();
    let store = DirStore::open(dir.join("store")).unwrap();
    for n in 1..=2u32 {
        let ev = staged(&p, &store, &artifact(n), T0 + i64::from(n) * 2 * HOUR);
        let lines: Vec<String> = ev.iter().map(ToString::to_string).collect();
        std::fs::write(dir.join(format!("evidence-{n}")), lines.join("\n")).unwrap();
    }

    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = ["1", "2"]
        .into_iter()
        .map(|n| {
            std::process::Command::new(&exe)
                .args(["--exact", PROCESS_TEST, "--nocapture"])
                .env(CHILD_DIR, dir)
                .env(CHILD_ARTIFACT, n)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "child failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let outcomes: Vec<String> = ["1", "2"]
        .iter()
        .map(|n| std::fs::read_to_string(dir.join(format!("outcome-{n}"))).unwrap())
        .collect();
    let won: Vec<&String> = outcomes.iter().filter(|o| o.starts_with("won ")).collect();
    assert_eq!(won.len(), 1, "exactly one process wins: {outcomes:?}");
    let winner = won[0].strip_prefix("won ").unwrap();
    let lost: Vec<&String> = outcomes
        .iter()
        .filter(|o| o.starts_with("conflict "))
        .collect();
    assert_eq!(
        lost,
        [&format!("conflict genesis {winner}")],
        "the loser names the winner"
    );
    let chain = linear_chain(&store);
    assert_eq!(
        chain.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [winner]
    );
    assert_chain_valid(&store, &p.policy, 1);
    assert!(
        unlinked_prod_records(&store, &chain).is_empty(),
        "the losing process removed its record"
    );
}

// ---------------------------------------------------------------------------
// Interrupted writes.

fn histories(store: &dyn Store) -> Vec<Vec<Digest>> {
    ["dev", "staging", "prod"]
        .iter()
        .map(|env| {
            history(store, env)
                .unwrap()
                .into_iter()
                .map(|e| e.digest)
                .collect()
        })
        .collect()
}

#[test]
fn an_interrupted_write_leaves_no_partial_record() {
    let p = Pipeline::new();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("store");
    let store = DirStore::open(&root).unwrap();
    p.ship(&store, &artifact(1), T0);
    p.ship(&store, &artifact(2), T0 + 24 * HOUR);
    let a = artifact(3);
    let ev = staged(&p, &store, &a, T0 + 48 * HOUR);
    let req = p.request(&a, Some("staging"), "prod", T0 + 50 * HOUR, ev);
    let before = histories(&store);

    // The record this promotion writes, learnt from a copy of the store.
    copy_dir(&root, &tmp.path().join("copy"));
    let copy = DirStore::open(tmp.path().join("copy")).unwrap();
    let record = p.promote(&copy, &req).unwrap().record;
    let bytes = copy.get(&record).unwrap();

    // A crash mid-write: half the record in a temp file, and (as a
    // non-atomic writer would leave it) a truncated file under its name.
    std::fs::write(root.join("tmp").join("4242-0-0"), &bytes[..bytes.len() / 2]).unwrap();
    let path = store.envelope_path(&record);
    std::fs::write(&path, &bytes[..bytes.len() / 3]).unwrap();

    assert_eq!(histories(&store), before, "history is unchanged");
    match store.get(&record) {
        Err(Error::Store(StoreError::Corrupt { name, .. })) => {
            assert_eq!(name, format!("envelopes/{}", record.hex()));
        }
        other => panic!("a truncated envelope must read as corrupt: {other:?}"),
    }
    for env in ["dev", "staging", "prod"] {
        let report = validate_chain(&store, &p.policy, env);
        // The temp file is never looked at; the truncated envelope is not
        // in any chain: it is skipped or, if reported, named.
        if !report.verified() {
            let failure = report.first_failure().unwrap();
            assert!(
                failure.reason.contains(&record.hex()),
                "{env}: a failure must name the corrupt file\n{report}"
            );
        }
    }

    // Retrying the interrupted promotion writes the same record again
    // (Ed25519 signatures are deterministic), replacing the corrupt file.
    let done = p.promote(&store, &req).unwrap();
    assert_eq!(done.record, record);
    assert_eq!(store.get(&record).unwrap(), bytes);
    let after = histories(&store);
    assert_eq!(after[..2], before[..2]);
    assert_eq!(after[2][..before[2].len()], before[2][..]);
    assert_eq!(after[2].last(), Some(&record));
    for env in ["dev", "staging", "prod"] {
        let report = validate_chain(&store, &p.policy, env);
        assert!(report.verified(), "{env}:\n{report}");
    }
    // ...and promotions go on.
    p.ship(&store, &artifact(4), T0 + 72 * HOUR);
    assert_eq!(linear_chain(&store).len(), 4);
    assert!(validate_chain(&store, &p.policy, "prod").verified());
}

/// A crash after the record was stored but before it was linked leaves a
/// whole, signed record outside the chain. `validate_chain` cannot tell it
/// from a fork and names it; retrying the same promotion writes the same
/// bytes and links them, which heals the chain.
#[test]
fn a_crash_between_storing_and_linking_is_named_then_healed_by_a_retry() {
    let p = Pipeline::new();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("store");
    let store = DirStore::open(&root).unwrap();
    p.ship(&store, &artifact(1), T0);
    let ev = staged(&p, &store, &artifact(2), T0 + 24 * HOUR);
    let req = p.request(&artifact(2), Some("staging"), "prod", T0 + 26 * HOUR, ev);
    let before = histories(&store);
    copy_dir(&root, &tmp.path().join("copy"));
    let copy = DirStore::open(tmp.path().join("copy")).unwrap();
    let record = p.promote(&copy, &req).unwrap().record;

    // Stored, never linked.
    assert_eq!(store.put(&copy.get(&record).unwrap()).unwrap(), record);
    assert_eq!(histories(&store), before);
    let report = validate_chain(&store, &p.policy, "prod");
    let failure = report.first_failure().unwrap();
    assert_eq!(failure.name, "unlinked-records", "{report}");
    assert!(failure.reason.contains(&record.to_string()), "{report}");

    let done = p.promote(&store, &req).unwrap();
    assert_eq!(done.record, record, "the retry writes the same record");
    assert_chain_valid(&store, &p.policy, 2);
}

/// A reader never sees a partial link: every `successor` is either absent
/// or a whole digest, while one writer extends a chain and racing writers
/// fight over slots. Links are hard links of complete, synced temp files,
/// so afterwards each is 64 hex bytes with one name, and no temp file is
/// left behind.
#[test]
fn links_are_never_partial() {
    use std::os::unix::fs::MetadataExt as _;

    const LENGTH: usize = 300;
    const SLOTS: usize = 40;
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::open(dir.path()).unwrap();
    let d = |tag: &str, i: usize| DigestAlgorithm::Sha256.hash(format!("{tag}{i}").as_bytes());
    let chain: Vec<Digest> = (0..LENGTH).map(|i| d("chain", i)).collect();
    let done = AtomicBool::new(false);
    let reads = AtomicUsize::new(0);
    let barrier = Barrier::new(4);
    let wins = AtomicUsize::new(0);
    std::thread::scope(|s| {
        // One writer extends the chain link by link.
        s.spawn(|| {
            for (i, next) in chain.iter().enumerate() {
                let previous = i.checked_sub(1).map(|b| &chain[b]);
                store.link("seq", previous, next).unwrap();
            }
            done.store(true, Ordering::Release);
        });
        // Two readers walk it while it grows: always a prefix, never junk.
        for _ in 0..2 {
            s.spawn(|| {
                while !done.load(Ordering::Acquire) {
                    let mut previous: Option<Digest> = None;
                    let mut i = 0;
                    while let Some(next) = store.successor("seq", previous.as_ref()).unwrap() {
                        assert_eq!(next, chain[i], "link {i}");
                        reads.fetch_add(1, Ordering::Relaxed);
                        previous = Some(next);
                        i += 1;
                    }
                }
            });
        }
        // Four writers race for each of SLOTS slots: one wins each.
        for w in 0..4 {
            let (store, barrier, wins) = (&store, &barrier, &wins);
            s.spawn(move || {
                for slot in 0..SLOTS {
                    let previous = d("slot", slot);
                    barrier.wait();
                    let mine = d(&format!("writer{w}-"), slot);
                    match store.link("race", Some(&previous), &mine) {
                        Ok(()) => {
                            wins.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(Error::Store(StoreError::Conflict { existing, .. })) => {
                            let winner = store.successor("race", Some(&previous)).unwrap();
                            assert_eq!(winner.map(|x| x.to_string()), Some(existing));
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
            });
        }
    });
    assert_eq!(wins.load(Ordering::Relaxed), SLOTS, "one winner per slot");
    assert!(reads.load(Ordering::Relaxed) > 0);
    for env in ["seq", "race"] {
        for entry in std::fs::read_dir(dir.path().join("links").join(env)).unwrap() {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            assert_eq!(meta.len(), 64, "{:?} is a whole digest", entry.path());
            assert_eq!(meta.nlink(), 1, "{:?}: its temp name is gone", entry.path());
        }
    }
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0,
        "no temp files left"
    );
    // A crash after the temp file was written but before it was linked
    // leaves no link at all.
    std::fs::write(
        dir.path().join("tmp").join("4242-0-0"),
        chain[0].hex().as_bytes(),
    )
    .unwrap();
    assert_eq!(store.successor("seq", chain.last()).unwrap(), None);
    let again = d("chain", LENGTH);
    store.link("seq", chain.last(), &again).unwrap();
    assert_eq!(store.successor("seq", chain.last()).unwrap(), Some(again));
}

/// Racing promoters whose clocks differ a little: the loser retries with
/// the time it started at, earlier than the winner's record. Linked, the
/// record would fail `validate_chain` (times never go back) forever; it is
/// refused, and a retry at the current time goes through.
#[test]
fn a_promotion_older_than_the_head_is_refused() {
    let p = Pipeline::new();
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::open(dir.path()).unwrap();
    let ev_a = staged(&p, &store, &artifact(1), T0);
    let ev_b = staged(&p, &store, &artifact(2), T0 + 2 * HOUR);
    // The winner's clock says 10:00:05, the loser's 10:00:00.
    p.promote(
        &store,
        &p.request(&artifact(1), Some("staging"), "prod", PROD_AT + 5, ev_a),
    )
    .unwrap();
    let late = |at| p.request(&artifact(2), Some("staging"), "prod", at, ev_b.clone());
    match p.promote(&store, &late(PROD_AT)) {
        Err(PromotionError::Refused(report)) => {
            let failure = report.first_failure().unwrap();
            assert_eq!(failure.name, "time-order", "{report}");
            assert!(failure.reason.contains("never go back in time"), "{report}");
        }
        Err(e) => panic!("{e}"),
        Ok(done) => panic!("recorded {} before its predecessor", done.record),
    }
    assert!(unlinked_prod_records(&store, &linear_chain(&store)).is_empty());
    p.promote(&store, &late(PROD_AT + 5)).unwrap();
    assert_chain_valid(&store, &p.policy, 2);
}

/// Head hints are written after the link, so racing promoters can leave a
/// stale one (or a crash, a torn one); a hint is only a place to start:
/// `head` and `promote` never stop at a stale hint nor follow a hint to a
/// record outside the chain.
#[test]
fn stale_torn_or_forked_head_hints_are_not_followed() {
    let p = Pipeline::new();
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::open(dir.path()).unwrap();
    let [_, staging, first] = p.ship(&store, &artifact(1), T0);
    let [_, _, second] = p.ship(&store, &artifact(2), T0 + 24 * HOUR);
    let ev = staged(&p, &store, &artifact(3), T0 + 48 * HOUR);

    // A fork of `second`: validly signed, stored, never linked.
    let h = history(&store, "prod").unwrap();
    let mut forged = h[1].record.clone();
    forged.reason = Some("fork".into());
    let st = Statement::new(
        vec![custodia::resource::ResourceDescriptor::new(
            "artifact",
            h[1].artifact.clone(),
        )],
        &forged,
    )
    .unwrap();
    let fork = store
        .put(
            &custodia::dsse::Envelope::sign(
                custodia::statement::PAYLOAD_TYPE,
                st.to_json().unwrap(),
                &p.promoter,
            )
            .unwrap()
            .to_json()
            .unwrap(),
        )
        .unwrap();

    // What `set_head_hint` writes (a hex digest), or a torn write.
    let hint = dir.path().join("heads").join("prod");
    let cases = [
        ("stale", first.hex()),
        ("forked", fork.hex()),
        ("another environment's", staging.hex()),
        ("torn", second.hex()[..20].to_owned()),
    ];
    for (what, text) in cases {
        std::fs::write(&hint, text).unwrap();
        assert_eq!(
            head(&store, "prod").unwrap(),
            Some(second.clone()),
            "{what}"
        );
    }
    // A promotion starting from a spoilt hint still links after the head.
    let done = p
        .promote(
            &store,
            &p.request(&artifact(3), Some("staging"), "prod", T0 + 50 * HOUR, ev),
        )
        .unwrap();
    assert_eq!(done.predicate.previous, Some(second));
    assert_eq!(head(&store, "prod").unwrap(), Some(done.record));
    assert_eq!(linear_chain(&store).len(), 3);
    assert_check_names(
        &validate_chain(&store, &p.policy, "prod"),
        &["records", "head"],
        "unlinked-records",
        &fork,
    );
}

/// The passing checks are `passing`, in order; the only failure is `failing`,
/// naming `names`.
fn assert_check_names(report: &Report, passing: &[&str], failing: &str, names: &Digest) {
    let passed: Vec<&str> = report
        .checks()
        .iter()
        .filter(|c| c.passed)
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(passed, passing, "{report}");
    let failure = report.first_failure().unwrap();
    assert_eq!(failure.name, failing, "{report}");
    assert!(failure.reason.contains(&names.to_string()), "{report}");
}
