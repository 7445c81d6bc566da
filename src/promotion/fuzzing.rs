//! Entry point for the `store` fuzz target; not part of the stable API.
//!
//! A real history (keys made once per process: two artifacts built,
//! promoted dev -> prod, an incident, a rollback) is written to a
//! directory store. Each input is decoded into edits an attacker without a
//! private key can make to that directory (delete, overwrite or add
//! envelope, link and head files with arbitrary bytes). Whatever the edits:
//! no panic, and every decision (head, admission, rollback target, DORA)
//! either equals the one before or refuses, given the verifier's kept
//! state.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::Error;
use crate::digest::{DigestAlgorithm, DigestSet};
use crate::dsse::Envelope;
use crate::keys::{KeyAlgorithm, PrivateKey};
use crate::policy::{ActivePolicy, GateRequest, Policy};
use crate::predicate::promotion::Incident;
use crate::provenance::BuildContext;
use crate::statement::PAYLOAD_TYPE;
use crate::time::Timestamp;

use super::{
    AdmissionRequest, DirStore, DoraTargets, PromotionRequest, Store, TrustedState,
    ValidationOptions, admit, check_checkpoints, dora, promote, record_incident, rollback,
    rollback_target, validate,
};

const T0: i64 = 1_700_000_000;
const ENVIRONMENTS: [&str; 2] = ["dev", "prod"];

struct Base {
    dir: PathBuf,
    policy: ActivePolicy,
    kept: TrustedState,
    decisions: Vec<Option<String>>,
}

fn artifact(n: u8) -> DigestSet {
    DigestSet::of_bytes(&[b'a', n])
}

fn options() -> ValidationOptions {
    ValidationOptions::at(Timestamp::from_unix(T0 + 100 * 3600))
}

/// Every decision about each environment, as text; `None` where it refuses.
fn decisions(store: &DirStore, policy: &ActivePolicy, kept: &TrustedState) -> Vec<Option<String>> {
    let validation = validate(store, policy, &ENVIRONMENTS, &options());
    let history = validation.history();
    let checks = check_checkpoints(history, policy, kept, &[]);
    let incidents_kept = checks
        .checks()
        .iter()
        .filter(|c| c.name == "incidents-kept")
        .all(|c| c.passed);
    let at = Timestamp::from_unix(T0 + 90 * 3600);
    ENVIRONMENTS
        .iter()
        .map(|env| {
            let verified = validation.report(env).is_some_and(|r| r.verified());
            let extends = kept
                .checkpoints()
                .iter()
                .filter(|c| c.environment == *env)
                .all(|c| c.check(history).passed);
            if !(verified && extends && incidents_kept) {
                return None;
            }
            let mut out = String::new();
            for n in 1..=3 {
                let request = AdmissionRequest::new(*env, artifact(n), at);
                out.push_str(&format!(
                    "{}{} ",
                    admit(history, &request).allowed,
                    admit(history, &request.allowing_history()).allowed
                ));
            }
            let target = rollback_target(store, history, policy, env, at)
                .ok()
                .map(|t| t.artifact);
            let m = dora(
                history,
                env,
                Timestamp::from_unix(T0),
                at,
                &DoraTargets::default(),
            )
            .map(|m| m.deployments);
            Some(format!("{out}{target:?} {m:?}"))
        })
        .collect()
}

/// The base store, built once; `Err` (a broken fixture, never input)
/// makes every run a no-op, and the unit test below fails on it.
fn base() -> Result<&'static Base, &'static str> {
    static BASE: OnceLock<Result<Base, String>> = OnceLock::new();
    BASE.get_or_init(|| build_base().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(String::as_str)
}

fn build_base() -> Result<Base, Error> {
    let builder = PrivateKey::generate(KeyAlgorithm::Ed25519)?;
    let promoter = PrivateKey::generate(KeyAlgorithm::Ed25519)?;
    let policy = serde_json::json!({
        "version": 1,
        "keys": [
            {"identity": "ci", "roles": ["builder"], "publicKey": builder.public_key().to_pem()},
            {"identity": "deployer", "roles": ["promoter", "operator"], "publicKey": promoter.public_key().to_pem()}
        ],
        "environments": [
            {"name": "dev", "requires": [{"predicateType": "https://slsa.dev/provenance/v1", "signerRole": "builder"}]},
            {"name": "prod"}
        ],
        "promotions": [{"from": "dev", "to": "prod"}]
    });
    let policy = Policy::from_json(policy.to_string().as_bytes())?.activate()?;
    let dir = std::env::temp_dir().join(format!("custodia-fuzz-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = DirStore::open(&dir)?;
    let refused =
        |e: super::PromotionError| Error::from(crate::error::StoreError::Invalid(e.to_string()));
    for n in 1..=2u8 {
        let a = artifact(n);
        let t = T0 + i64::from(n) * 10 * 3600;
        let st = BuildContext::new("https://ci.example/builder")
            .with_subject("app", a.clone())
            .with_times(Timestamp::from_unix(t - 60), Timestamp::from_unix(t - 30))
            .to_statement()?;
        let prov = store.put(&Envelope::sign(PAYLOAD_TYPE, st.to_json()?, &builder)?.to_json()?)?;
        let gate = GateRequest::new(a.clone(), None, "dev", Timestamp::from_unix(t));
        promote(
            &store,
            &policy,
            &PromotionRequest::new(gate, vec![prov]),
            &promoter,
        )
        .map_err(refused)?;
        let gate = GateRequest::new(a, Some("dev"), "prod", Timestamp::from_unix(t + 3600));
        promote(
            &store,
            &policy,
            &PromotionRequest::new(gate, vec![]),
            &promoter,
        )
        .map_err(refused)?;
    }
    let incident = Incident::new("prod", Timestamp::from_unix(T0 + 22 * 3600), "errors");
    record_incident(&store, &artifact(2), &incident, &promoter)?;
    rollback(
        &store,
        &policy,
        "prod",
        Timestamp::from_unix(T0 + 23 * 3600),
        "errors",
        &promoter,
    )
    .map_err(refused)?;
    let validation = validate(&store, &policy, &ENVIRONMENTS, &options());
    if !validation.verified() {
        return Err(crate::error::StoreError::Invalid(format!("fixture: {validation}")).into());
    }
    let mut kept = TrustedState::default();
    kept.advance(validation.history());
    let decisions = decisions(&store, &policy, &kept);
    if decisions.iter().any(Option::is_none) {
        return Err(crate::error::StoreError::Invalid("fixture: a decision failed".into()).into());
    }
    Ok(Base {
        dir,
        policy,
        kept,
        decisions,
    })
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    out.sort();
    out
}

/// Decodes `data` into edits of a copy of the base store, then checks
/// every decision.
pub fn store(data: &[u8]) {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let Ok(base) = base() else {
        return;
    };
    let dir = base
        .dir
        .with_extension(COUNTER.fetch_add(1, Ordering::Relaxed).to_string());
    let _ = std::fs::remove_dir_all(&dir);
    if copy_dir(&base.dir, &dir).is_err() {
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    let mut bytes = data.iter().copied();
    let mut next = || bytes.next();
    while let Some(op) = next() {
        let env = ENVIRONMENTS[usize::from(next().unwrap_or(0)) % ENVIRONMENTS.len()];
        let pick = usize::from(next().unwrap_or(0));
        let len = usize::from(next().unwrap_or(0));
        let payload: Vec<u8> = (0..len).map_while(|_| next()).collect();
        let envelopes = files(&dir.join("envelopes"));
        let links = files(&dir.join("links").join(env));
        let choose = |list: &[PathBuf]| list.get(pick % list.len().max(1)).cloned();
        match op % 7 {
            0 => {
                if let Some(f) = choose(&envelopes) {
                    let _ = std::fs::remove_file(f);
                }
            }
            1 => {
                if let Some(f) = choose(&links) {
                    let _ = std::fs::remove_file(f);
                }
            }
            2 => {
                // A link file with arbitrary content, at an existing or new name.
                let name = match choose(&links) {
                    Some(f) if pick % 2 == 0 => f,
                    _ => dir.join("links").join(env).join(
                        choose(&envelopes)
                            .and_then(|p| p.file_name().map(|n| n.to_owned()))
                            .unwrap_or_else(|| "genesis".into()),
                    ),
                };
                let _ = std::fs::create_dir_all(dir.join("links").join(env));
                let _ = std::fs::write(name, &payload);
            }
            3 => {
                let _ = std::fs::write(dir.join("heads").join(env), &payload);
            }
            4 => {
                // A new, correctly named envelope (unsigned or garbage).
                let name = DigestAlgorithm::Sha256.hash(&payload).hex();
                let _ = std::fs::write(dir.join("envelopes").join(name), &payload);
            }
            5 => {
                if let Some(f) = choose(&envelopes) {
                    let _ = std::fs::write(f, &payload);
                }
            }
            _ => {
                // Link an existing envelope (a record of the other
                // environment, evidence) after a record of this one.
                if let (Some(after), Some(target)) = (choose(&links), choose(&envelopes)) {
                    if let Some(name) = target.file_name() {
                        let _ = std::fs::write(after, name.as_encoded_bytes());
                    }
                }
            }
        }
    }
    if let Ok(store) = DirStore::open_existing(&dir) {
        let after = decisions(&store, &base.policy, &base.kept);
        for (before, after) in base.decisions.iter().zip(&after) {
            assert!(
                after.is_none() || after == before,
                "a keyless edit changed a decision: {before:?} -> {after:?}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_fixture_builds() {
        assert!(super::base().is_ok(), "{:?}", super::base().err());
    }
}
