//! Validating one environment's promotion history of 10,000 and 100,000
//! promotions, each with its evidence (a provenance attestation and an
//! approval; Ed25519 keys), against ring's raw Ed25519 verification of
//! exactly the signatures the validation checks (each record's and its
//! evidence's), in the same run:
//!
//! * `validate` on 2 cores (rayon) and on 1 (a one-thread pool);
//! * `refresh_records` after one record was appended to a validated
//!   history, against the raw cost of that record's three signatures;
//! * `admit` on the validated history (no store access);
//! * peak memory (`VmHWM`) during validation.
//!
//! `cargo bench --bench promotion_chain`
//!
//! * 10k: criterion (`sample_size(10)`);
//! * 100k: three rounds of a one-core run, the raw verification and a
//!   two-core run (criterion would take too long), printed as `RESULT`
//!   lines with the medians of their times and ratios, and peak memory.
//!
//! Every record is made by the library's [`promote_with`] into a
//! `MemoryStore` (the gate evaluated, the record signed, stored and
//! linked, on a kept verified history), so building is O(N).
//!
//! Set `CUSTODIA_BENCH_SKIP_100K=1` to run only the criterion part. Under
//! `cargo bench -- --test` the sizes shrink to 100 and 1,000.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group};
use custodia::digest::{Digest, DigestSet};
use custodia::dsse::{Envelope, pae};
use custodia::keys::PrivateKey;
use custodia::policy::{ActivePolicy, GateRequest, Policy};
use custodia::predicate::approval::Approval;
use custodia::promotion::{
    AdmissionRequest, MemoryStore, PromotionRequest, Store, ValidationOptions, VerifiedHistory,
    admit, history, promote_with, validate,
};
use custodia::provenance::{BuildContext, SourceRef};
use custodia::resource::ResourceDescriptor;
use custodia::statement::{PAYLOAD_TYPE, Statement};
use custodia::time::Timestamp;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};

const ENV: &str = "prod";
const BUILDER_ID: &str = "https://ci.acme.example/builders/release";
const T0: i64 = 1_700_000_000;

fn test_mode() -> bool {
    std::env::args().any(|a| a == "--test")
}

fn sizes() -> (usize, usize) {
    if test_mode() {
        (100, 1_000)
    } else {
        (10_000, 100_000)
    }
}

/// Keys (with their raw Ed25519 public keys for the baseline) and a policy
/// with a single entry environment `prod` whose gate needs a provenance
/// attestation (role `builder`) and one approval (role `approver`).
struct Fixture {
    builder: PrivateKey,
    approver: PrivateKey,
    promoter: PrivateKey,
    /// Key id -> raw Ed25519 public key.
    raw_keys: BTreeMap<String, Vec<u8>>,
    policy: ActivePolicy,
    /// The policy's JSON (written next to a DirStore fixture).
    policy_json: String,
}

impl Fixture {
    fn new() -> Self {
        let rng = ring::rand::SystemRandom::new();
        let mut raw_keys = BTreeMap::new();
        let mut key = || {
            let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
            let raw = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
                .unwrap()
                .public_key()
                .as_ref()
                .to_vec();
            let key = PrivateKey::from_pkcs8_der(pkcs8.as_ref()).unwrap();
            raw_keys.insert(key.key_id().to_string(), raw);
            key
        };
        let (builder, approver, promoter) = (key(), key(), key());
        let policy = serde_json::json!({
            "version": 1,
            "keys": [
                {"identity": "ci", "roles": ["builder"], "publicKey": builder.public_key().to_pem()},
                {"identity": "alice", "roles": ["approver"], "publicKey": approver.public_key().to_pem()},
                {"identity": "deployer", "roles": ["promoter"], "publicKey": promoter.public_key().to_pem()},
            ],
            "environments": [{
                "name": ENV,
                "requires": [{"predicateType": "https://slsa.dev/provenance/v1", "signerRole": "builder",
                              "conditions": {"builderIds": [BUILDER_ID]}}],
                "approvals": {"count": 1, "role": "approver"},
            }],
            "promotions": [],
        });
        let policy_json = policy.to_string();
        let policy = Policy::from_json(policy_json.as_bytes())
            .unwrap()
            .activate()
            .unwrap();
        Self {
            builder,
            approver,
            promoter,
            raw_keys,
            policy,
            policy_json,
        }
    }

    /// Stores record `i`'s evidence (provenance by `ci`, approval by
    /// `alice`) and returns the promotion request.
    fn request(&self, store: &dyn Store, i: usize) -> PromotionRequest {
        let artifact = DigestSet::of_bytes(format!("app build {i}").as_bytes());
        let provenance = BuildContext::new(format!("{BUILDER_ID}@v1"))
            .with_source(
                SourceRef::new("https://github.com/acme/app").with_git_ref("refs/heads/main"),
            )
            .with_subject("app.tar.gz", artifact.clone())
            .with_times(Timestamp::from_unix(T0), Timestamp::from_unix(T0 + 60))
            .to_statement()
            .unwrap();
        let approval = Statement::new(
            vec![ResourceDescriptor::new("app.tar.gz", artifact.clone())],
            &Approval::new(ENV, Timestamp::from_unix(T0)),
        )
        .unwrap();
        let put = |st: &Statement, key: &PrivateKey| {
            store
                .put(
                    &Envelope::sign(PAYLOAD_TYPE, st.to_json().unwrap(), key)
                        .unwrap()
                        .to_json()
                        .unwrap(),
                )
                .unwrap()
        };
        let evidence = vec![
            put(&provenance, &self.builder),
            put(&approval, &self.approver),
        ];
        let time = Timestamp::from_unix(T0 + 120 + i64::try_from(i).unwrap());
        let mut gate = GateRequest::new(artifact, None, ENV, time);
        gate.author = Some("carol".into());
        let mut request = PromotionRequest::new(gate, evidence);
        request.commit_time = Some(Timestamp::from_unix(T0 - 3600));
        request
    }
}

/// Builds `n` promotions into `prod`; returns the store and the seconds
/// taken, and prints what one `promote` call (without making its
/// evidence) costs over the first and the last 1% of the history.
fn build(fx: &Fixture, n: usize) -> (MemoryStore, f64) {
    let (store, _, setup) = build_kept(fx, n);
    (store, setup)
}

/// Like [`build`], also returning the kept verified history.
fn build_kept(fx: &Fixture, n: usize) -> (MemoryStore, VerifiedHistory, f64) {
    let store = MemoryStore::new();
    let mut kept = VerifiedHistory::default();
    let window = (n / 100).max(1);
    let (mut first, mut last) = (Duration::ZERO, Duration::ZERO);
    let start = Instant::now();
    for i in 0..n {
        let request = fx.request(&store, i);
        let before = Instant::now();
        if let Err(e) = promote_with(&store, &mut kept, &fx.policy, &request, &fx.promoter) {
            panic!("promotion {i}: {e}");
        }
        let took = before.elapsed();
        if i < window {
            first += took;
        } else if i >= n - window {
            last += took;
        }
    }
    let setup = start.elapsed().as_secs_f64();
    let per = |d: Duration| d.as_secs_f64() / window as f64 * 1e6;
    println!(
        "RESULT promote-cost {n}: {:.0} us per promote at depth 0-{window}, {:.0} us at depth {}-{n}",
        per(first),
        per(last),
        n - window,
    );
    (store, kept, setup)
}

/// `(raw public key, PAE, signature)` of every signature validation checks:
/// each record's and each of its evidence envelopes'.
fn raw_signatures<'a>(fx: &'a Fixture, store: &MemoryStore) -> Vec<(&'a [u8], Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    let mut push = |digest: &Digest| {
        let envelope = Envelope::from_json(&store.get(digest).unwrap()).unwrap();
        assert_eq!(envelope.signatures().len(), 1);
        let sig = &envelope.signatures()[0];
        let key = fx.raw_keys[sig.keyid.as_deref().unwrap()].as_slice();
        out.push((
            key,
            pae(envelope.payload_type(), envelope.payload()),
            sig.sig.clone(),
        ));
    };
    for entry in history(store, ENV).unwrap() {
        push(&entry.digest);
        for ev in &entry.record.evidence {
            push(&ev.digest);
        }
    }
    out
}

fn raw_verify(triples: &[(&[u8], Vec<u8>, Vec<u8>)]) {
    for (key, message, sig) in triples {
        UnparsedPublicKey::new(&ED25519, key)
            .verify(message, sig)
            .unwrap();
    }
}

fn options() -> ValidationOptions {
    ValidationOptions::default()
}

/// Validates `prod` (on the current rayon pool); checks it verified all `n`.
fn validate_all(fx: &Fixture, store: &MemoryStore, n: usize) -> VerifiedHistory {
    let validation = validate(store, &fx.policy, &[ENV], &options());
    assert!(validation.verified(), "{}", first_failures(&validation));
    let history = validation.into_history();
    assert_eq!(history.environment(ENV).unwrap().len(), n);
    history
}

/// Each environment's first failed check: a failed validation of a
/// million records is named in a few lines, not printed whole.
fn first_failures(validation: &custodia::promotion::Validation) -> String {
    validation
        .reports()
        .iter()
        .filter_map(|(env, report)| {
            let c = report.first_failure()?;
            Some(format!("{env}: {}: {}", c.name, c.reason))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn one_thread() -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
}

/// The raw signatures of the newest record and its evidence.
fn last_record_signatures<'a>(
    fx: &'a Fixture,
    store: &MemoryStore,
) -> Vec<(&'a [u8], Vec<u8>, Vec<u8>)> {
    let head = custodia::promotion::head(store, ENV).unwrap().unwrap();
    let envelope = Envelope::from_json(&store.get(&head).unwrap()).unwrap();
    let record: custodia::predicate::promotion::PromotionRecord =
        Statement::from_json(envelope.payload())
            .unwrap()
            .predicate_as()
            .unwrap();
    let mut out = Vec::new();
    for digest in std::iter::once(&head).chain(record.evidence.iter().map(|e| &e.digest)) {
        let envelope = Envelope::from_json(&store.get(digest).unwrap()).unwrap();
        let sig = &envelope.signatures()[0];
        let key = fx.raw_keys[sig.keyid.as_deref().unwrap()].as_slice();
        out.push((
            key,
            pae(envelope.payload_type(), envelope.payload()),
            sig.sig.clone(),
        ));
    }
    assert_eq!(out.len(), 3);
    out
}

/// `VmHWM` / `VmRSS` of this process, in MiB.
fn memory(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Resets `VmHWM` to the current RSS (Linux >= 4.0); false if it cannot.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Seconds this thread has run on a CPU (`/proc/thread-self/schedstat`):
/// unlike wall time, it does not count waiting for a CPU while other
/// processes use them, so it is the steadier measure on a busy machine.
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |ns| ns / 1e9)
}

/// Seconds all of this process's threads have run on a CPU.
fn process_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    // utime and stime: fields 14 and 15, the 12th and 13th after the name.
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<f64>().ok())
        .sum();
    ticks / 100.0
}

/// Runs `f`; returns its (wall, CPU) seconds.
fn timed(f: impl FnOnce()) -> (f64, f64) {
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    f();
    (wall.elapsed().as_secs_f64(), cpu_seconds() - cpu)
}

/// (name, wall, CPU) seconds per iteration of the criterion runs, to print
/// the ratios at the end.
static SMALL_RUNS: Mutex<Vec<(&str, f64, f64)>> = Mutex::new(Vec::new());

fn small(c: &mut Criterion) {
    let (n, _) = sizes();
    let fx = Fixture::new();
    let (store, setup) = build(&fx, n);
    println!(
        "RESULT setup {n}: {setup:.1} s ({:.0} us per promotion incl. signing its evidence); {} envelopes",
        setup / n as f64 * 1e6,
        store.list().unwrap().len()
    );
    let triples = raw_signatures(&fx, &store);
    assert_eq!(triples.len(), 3 * n);
    let single = one_thread();

    let mut group = c.benchmark_group(format!("promotion_chain_{n}"));
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(n as u64));
    // Criterion measures wall time; the CPU time of each run is kept too.
    let run = |name: &'static str, iters: u64, f: &dyn Fn()| {
        let (wall, cpu) = timed(|| (0..iters).for_each(|_| f()));
        let per = iters as f64;
        SMALL_RUNS
            .lock()
            .unwrap()
            .push((name, wall / per, cpu / per));
        Duration::from_secs_f64(wall)
    };
    group.bench_function("validate_2_cores", |b| {
        b.iter_custom(|iters| {
            run("validate", iters, &|| {
                validate_all(&fx, &store, n);
            })
        })
    });
    group.bench_function("validate_1_core", |b| {
        b.iter_custom(|iters| {
            run("validate-1", iters, &|| {
                single.install(|| validate_all(&fx, &store, n));
            })
        })
    });
    group.bench_function("ring_raw_verify_3_per_record", |b| {
        b.iter_custom(|iters| run("raw", iters, &|| raw_verify(&triples)))
    });
    group.finish();

    // A watcher keeps a validated history and refreshes it after each
    // record a promoter (with its own kept history) appends: the cost of
    // the new record, against the raw cost of its signatures.
    let (store, mut promoting, _) = build_kept(&fx, n);
    let mut watcher = validate_all(&fx, &store, n);
    let mut next = n;
    let mut append = |promoting: &mut VerifiedHistory| {
        let request = fx.request(&store, next);
        next += 1;
        promote_with(&store, promoting, &fx.policy, &request, &fx.promoter).unwrap();
    };
    append(&mut promoting);
    assert_eq!(
        watcher
            .refresh_records(&store, &fx.policy, &options())
            .checks()
            .len(),
        1
    );
    let last = last_record_signatures(&fx, &store);
    let mut group = c.benchmark_group(format!("promotion_refresh_{n}"));
    group.bench_function("refresh_records_after_1_append", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                append(&mut promoting);
                let t = Instant::now();
                let report = watcher.refresh_records(&store, &fx.policy, &options());
                total += t.elapsed();
                assert!(report.verified() && report.checks().len() == 1, "{report}");
            }
            total
        })
    });
    group.bench_function("ring_raw_verify_1_record", |b| b.iter(|| raw_verify(&last)));
    // Admission on the validated history: no store access.
    let history = watcher;
    let head = history
        .environment(ENV)
        .unwrap()
        .head()
        .unwrap()
        .artifact()
        .clone();
    let request = AdmissionRequest::new(ENV, head, Timestamp::from_unix(T0 + 10 * 86_400));
    group.bench_function("admit_head", |b| {
        b.iter(|| assert!(admit(&history, &request).allowed))
    });
    group.finish();
}

fn large(_: &mut Criterion) {
    let (small_n, n) = sizes();
    if std::env::var_os("CUSTODIA_BENCH_SKIP_100K").is_some() {
        println!("RESULT {n}: skipped (CUSTODIA_BENCH_SKIP_100K)");
        return;
    }
    // The medians of criterion's samples (the last 10 runs of each: the
    // first ones are its warm-up), wall and CPU.
    let runs = SMALL_RUNS.lock().unwrap().clone();
    let small_median = |name: &str| {
        let v: Vec<_> = runs.iter().filter(|r| r.0 == name).collect();
        let v = v.get(v.len().saturating_sub(10)..).unwrap_or_default();
        (
            median(v.iter().map(|r| r.1).collect()),
            median(v.iter().map(|r| r.2).collect()),
        )
    };
    let (sv2, sv1, sr) = (
        small_median("validate"),
        small_median("validate-1"),
        small_median("raw"),
    );
    println!(
        "RESULT {small_n} (criterion medians, wall): 1 core validate/raw {:.2}; 2 cores speed-up over 1 core x{:.2}",
        sv1.0 / sr.0,
        sv1.0 / sv2.0
    );

    let fx = Fixture::new();
    let before = memory("VmRSS");
    let (store, mut kept, setup) = build_kept(&fx, n);
    let built = memory("VmRSS");
    println!(
        "RESULT setup {n}: {setup:.1} s ({:.0} us per promotion); store RSS {:.0} MiB ({:.1} KiB per promotion with its evidence)",
        setup / n as f64 * 1e6,
        built - before,
        (built - before) * 1024.0 / n as f64
    );
    let reset = reset_peak();
    let cpu = process_cpu_seconds();
    timed(|| {
        validate_all(&fx, &store, n);
    });
    let parallel_cpu = process_cpu_seconds() - cpu;
    let peak = memory("VmHWM");
    let single = one_thread();
    let triples = raw_signatures(&fx, &store);
    assert_eq!(triples.len(), 3 * n);
    // Three rounds, each validating on one core, verifying the raw
    // signatures and validating on two cores in turn; the medians of the
    // rounds' times and ratios (a single run is at the mercy of whatever
    // else the machine runs at that moment).
    let (mut sequential, mut parallel, mut raw) = (Vec::new(), Vec::new(), Vec::new());
    let (mut vs_raw, mut speed_up) = (Vec::new(), Vec::new());
    let mut sequential_cpu = f64::NAN;
    for _ in 0..3 {
        let cpu = process_cpu_seconds();
        let s = timed(|| {
            single.install(|| validate_all(&fx, &store, n));
        })
        .0;
        sequential_cpu = process_cpu_seconds() - cpu;
        let r = timed(|| raw_verify(&triples)).0;
        let p = timed(|| {
            validate_all(&fx, &store, n);
        })
        .0;
        vs_raw.push(s / r);
        speed_up.push(s / p);
        sequential.push(s);
        parallel.push(p);
        raw.push(r);
    }
    println!(
        "RESULT validate {n} process CPU: 1 core {sequential_cpu:.2} s, 2 cores {parallel_cpu:.2} s (the 2-core run's wall speed-up is bounded by other load on the machine)"
    );
    println!(
        "RESULT validate {n} (medians of 3 rounds): 1 core {:.2} s wall, 2 cores {:.2} s wall (x{:.2}); raw Ed25519 {n}x3 {:.2} s; \
         1 core validate/raw {:.2}; peak RSS during validation {peak:.0} MiB, {:.0} MiB above the store{}",
        median(sequential),
        median(parallel),
        median(speed_up),
        median(raw),
        median(vs_raw),
        peak - built,
        if reset {
            ""
        } else {
            " (VmHWM not resettable: peak since start)"
        }
    );
    drop(triples);
    // A watcher's copy of the validated history, refreshed after each
    // record the promoter appends: 201 times, the median of the last 200
    // (the first refresh also grows the copy's exactly-sized vectors).
    let mut watcher = kept.clone();
    let mut refresh = Vec::new();
    let mut raw_one = Vec::new();
    for i in 0..201 {
        let request = fx.request(&store, n + i);
        promote_with(&store, &mut kept, &fx.policy, &request, &fx.promoter).unwrap();
        let last = last_record_signatures(&fx, &store);
        let t = Instant::now();
        let report = watcher.refresh_records(&store, &fx.policy, &options());
        refresh.push(t.elapsed().as_secs_f64());
        assert!(report.verified() && report.checks().len() == 1, "{report}");
        let t = Instant::now();
        raw_verify(&last);
        raw_one.push(t.elapsed().as_secs_f64());
    }
    let (refresh, raw_one) = (median(refresh.split_off(1)), median(raw_one.split_off(1)));
    let h = watcher;
    let head = h.environment(ENV).unwrap().head().unwrap().artifact();
    let request = AdmissionRequest::new(ENV, head, Timestamp::from_unix(T0 + 10 * 86_400));
    let mut decide = Vec::new();
    for _ in 0..1001 {
        let t = Instant::now();
        assert!(admit(&h, &request).allowed);
        decide.push(t.elapsed().as_secs_f64());
    }
    println!(
        "RESULT refresh after 1 append to {n}: median {:.0} us, raw verify of that record {:.0} us (x{:.2}); \
         admit on the {} -record history: median {:.1} us",
        refresh * 1e6,
        raw_one * 1e6,
        refresh / raw_one,
        n + 1,
        median(decide) * 1e6
    );
}

/// `CUSTODIA_BENCH_REFRESH=N`: builds `N` promotions with a kept history,
/// prints `READY` (attach a profiler then), and refreshes a copy of it
/// after each of 2,000 more appends, printing the median refresh of each
/// 200.
fn refresh_runs(n: usize) {
    let fx = Fixture::new();
    let (store, mut kept, _) = build_kept(&fx, n);
    let mut watcher = kept.clone();
    println!("READY");
    let mut times = Vec::new();
    for i in 0..2000 {
        let request = fx.request(&store, n + i);
        promote_with(&store, &mut kept, &fx.policy, &request, &fx.promoter).unwrap();
        let t = Instant::now();
        let report = watcher.refresh_records(&store, &fx.policy, &options());
        times.push(t.elapsed().as_secs_f64());
        assert!(report.verified(), "{report}");
        if i == 20 {
            let first: Vec<String> = times.iter().map(|t| format!("{:.0}", t * 1e6)).collect();
            println!("RESULT first 21 refreshes (us): {}", first.join(" "));
        }
        if times.len() == 200 {
            println!(
                "RESULT refresh median {:.0} us",
                median(std::mem::take(&mut times)) * 1e6
            );
        }
    }
}

/// `CUSTODIA_BENCH_PROFILE=N`: builds `N` promotions, prints `READY`
/// (attach a profiler then), then validates them on one thread and
/// verifies their raw signatures, in functions named for
/// `callgrind_annotate --inclusive=yes`, and exits. With
/// `CUSTODIA_BENCH_PROFILE_LOOPS=K` it does both `K` times, printing each
/// pair's wall and CPU times and ratios, and the median ratios.
fn profile(n: usize) {
    let fx = Fixture::new();
    let (store, _) = build(&fx, n);
    let triples = raw_signatures(&fx, &store);
    let single = one_thread();
    let loops = std::env::var("CUSTODIA_BENCH_PROFILE_LOOPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    println!("READY");
    let (mut walls, mut cpus) = (Vec::new(), Vec::new());
    for _ in 0..loops {
        // Timed on the pool's thread: its CPU time is that thread's.
        let validate = single.install(|| timed(|| profile_validate(&fx, &store, n)));
        let raw = timed(|| profile_raw(&triples));
        walls.push(validate.0 / raw.0);
        cpus.push(validate.1 / raw.1);
        println!(
            "RESULT profile {n}: validate {:.0} ms (CPU {:.0}), raw {:.0} ms (CPU {:.0}): {:.3}x wall, {:.3}x CPU",
            validate.0 * 1e3,
            validate.1 * 1e3,
            raw.0 * 1e3,
            raw.1 * 1e3,
            validate.0 / raw.0,
            validate.1 / raw.1
        );
    }
    println!(
        "RESULT profile {n}: median {:.3}x wall, {:.3}x CPU",
        median(walls),
        median(cpus)
    );
}

#[inline(never)]
fn profile_validate(fx: &Fixture, store: &MemoryStore, n: usize) {
    validate_all(fx, store, n);
}

#[inline(never)]
fn profile_raw(triples: &[(&[u8], Vec<u8>, Vec<u8>)]) {
    raw_verify(triples);
}

/// A `DirStore` of `n` promotions (with the policy that gates them) under
/// `target/promotion-fixtures/<n>`, made once and kept: built in memory by
/// [`promote_with`], then written out file by file (no fsync: a fixture,
/// not a store that must survive a crash) in `DirStore`'s layout.
fn dir_fixture(n: usize) -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/promotion-fixtures")
        .join(n.to_string());
    if root.join("complete").exists() {
        return root;
    }
    let _ = std::fs::remove_dir_all(&root);
    let fx = Fixture::new();
    let (store, setup) = build(&fx, n);
    println!("RESULT fixture {n}: built in {setup:.1} s");
    let dir = custodia::promotion::DirStore::open(&root).unwrap();
    for digest in store.list().unwrap() {
        std::fs::write(dir.envelope_path(&digest), store.get(&digest).unwrap()).unwrap();
    }
    let links = root.join("links").join(ENV);
    std::fs::create_dir_all(&links).unwrap();
    let mut previous: Option<Digest> = None;
    while let Some(next) = store.successor(ENV, previous.as_ref()).unwrap() {
        let name = previous.as_ref().map_or("genesis".to_owned(), Digest::hex);
        std::fs::write(links.join(name), next.hex()).unwrap();
        previous = Some(next);
    }
    std::fs::write(root.join("heads").join(ENV), previous.unwrap().hex()).unwrap();
    std::fs::write(root.join("policy.json"), &fx.policy_json).unwrap();
    std::fs::write(root.join("complete"), b"").unwrap();
    root
}

/// `CUSTODIA_BENCH_MEMORY=N[,N...]`: for each size, validates `prod` of a
/// `DirStore` fixture of that many promotions in a fresh process and
/// prints its peak RSS (`VmHWM`) above the RSS before validation.
fn memory_runs(sizes: &str) {
    if let Ok(root) = std::env::var("CUSTODIA_BENCH_MEMORY_CHILD") {
        let policy = Policy::from_json(&std::fs::read(format!("{root}/policy.json")).unwrap())
            .unwrap()
            .activate()
            .unwrap();
        let store = custodia::promotion::DirStore::open_existing(&root).unwrap();
        let before = memory("VmRSS");
        let (wall, _) = timed(|| {
            let validation = validate(&store, &policy, &[ENV], &options());
            assert!(validation.verified(), "{}", first_failures(&validation));
            let history = validation.into_history();
            println!(
                "records {}, peak {:.0} MiB",
                history.environment(ENV).unwrap().len(),
                memory("VmHWM")
            );
        });
        println!(
            "RESULT memory: RSS before {before:.0} MiB, peak {:.0} MiB, validation {wall:.1} s",
            memory("VmHWM")
        );
        return;
    }
    for n in sizes
        .split(',')
        .filter_map(|s| s.trim().parse::<usize>().ok())
    {
        let root = dir_fixture(n);
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .env("CUSTODIA_BENCH_MEMORY_CHILD", &root)
            .env("CUSTODIA_BENCH_MEMORY", sizes)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        for line in text.lines().filter(|l| l.starts_with("RESULT")) {
            println!("{} (DirStore, {n} promotions)", line);
        }
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

criterion_group!(benches, small, large);

fn main() {
    if let Some(n) = std::env::var("CUSTODIA_BENCH_PROFILE")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        profile(n);
        return;
    }
    if let Some(n) = std::env::var("CUSTODIA_BENCH_REFRESH")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        refresh_runs(n);
        return;
    }
    if let Ok(sizes) = std::env::var("CUSTODIA_BENCH_MEMORY") {
        memory_runs(&sizes);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
