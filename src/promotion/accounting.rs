//! Auditing what lies around a chain: the store's own integrity, and loose
//! files (the artifact, its SBOM, key files) that the verified chains must
//! account for.
//!
//! [`validate_chain`](super::validate_chain) reads only what an
//! environment's history links to. An auditor handed a directory wants
//! more: that *every* stored envelope is intact (an incident record or a
//! refused attempt that nothing links to is still evidence), and that the
//! files beside the store are the ones the signed records talk about.

use std::collections::{BTreeMap, BTreeSet};

use crate::digest::{DigestAlgorithm, DigestSet};
use crate::keys::PublicKey;
use crate::policy::{ActivePolicy, EvidenceEnvelope};
use crate::predicate::slsa_provenance::{PROVENANCE_V1 as SLSA_V1, Provenance};
use crate::report::{Check, Report};
use crate::statement::Statement;

use super::chain::history;
use super::store::{Store, check_content};

/// At most this many corrupt envelopes are named one by one.
const MAX_NAMED: usize = 20;

/// Checks that every envelope in `store` hashes to the digest it is stored
/// under: one `integrity` check naming each corrupt envelope (by the store's own
/// description of where it lives), or passing with the count.
///
/// ```
/// use custodia::promotion::{MemoryStore, Store, check_store};
/// let store = MemoryStore::new();
/// store.put(b"{}")?;
/// assert!(check_store(&store).verified());
/// # Ok::<(), custodia::Error>(())
/// ```
pub fn check_store(store: &dyn Store) -> Report {
    let mut report = Report::new();
    let digests = match store.list() {
        Ok(d) => d,
        Err(e) => {
            report.push(Check::fail("integrity", e.to_string()));
            return report;
        }
    };
    let mut corrupt = Vec::new();
    for digest in &digests {
        if let Err(e) = store
            .get(digest)
            .and_then(|bytes| check_content(digest, &bytes))
        {
            corrupt.push(e.to_string());
        }
    }
    if corrupt.is_empty() {
        report.push(Check::pass(
            "integrity",
            format!(
                "all {} stored envelope(s) hash to their names",
                digests.len()
            ),
        ));
    } else {
        let more = corrupt.len().saturating_sub(MAX_NAMED);
        for reason in corrupt.into_iter().take(MAX_NAMED) {
            report.push(Check::fail("integrity", reason));
        }
        if more > 0 {
            report.push(Check::fail(
                "integrity",
                format!("and {more} more corrupt envelope(s)"),
            ));
        }
    }
    report
}

/// One `policy` check: every record in the histories of `environments`
/// was gated by `policy` (its canonical digest). `name` is how the caller
/// calls the policy (a file name), so an altered policy file is named.
///
/// ```
/// use custodia::promotion::{MemoryStore, check_policy};
/// use custodia::policy::Policy;
/// # let policy_json = br#"{"version":1,"keys":[],"environments":[{"name":"dev","requires":[]}],"promotions":[]}"#;
/// let policy = Policy::from_json(policy_json)?.activate()?;
/// let check = check_policy(&MemoryStore::new(), &policy, &["dev"], "policy.json");
/// assert!(check.passed);
/// # Ok::<(), custodia::Error>(())
/// ```
pub fn check_policy(
    store: &dyn Store,
    policy: &ActivePolicy,
    environments: &[&str],
    name: &str,
) -> Check {
    let mut records = 0usize;
    let mut others = BTreeSet::new();
    for environment in environments {
        let Ok(entries) = history(store, environment) else {
            continue;
        };
        for entry in entries {
            records += 1;
            if &entry.record.policy != policy.digest() {
                others.insert(entry.record.policy.to_string());
            }
        }
    }
    if others.is_empty() {
        Check::pass(
            "policy",
            format!(
                "`{name}` ({}) gated all {records} record(s)",
                policy.digest()
            ),
        )
    } else {
        Check::fail(
            "policy",
            format!(
                "`{name}` ({}) is not the policy the records were gated by ({}): altered, or another policy",
                policy.digest(),
                others.into_iter().collect::<Vec<_>>().join(", ")
            ),
        )
    }
}

/// What verified chains vouch for: the artifacts their records promoted,
/// the subjects and SLSA byproducts of the evidence those records cite
/// (re-verified against the policy's keys), and the policy's keys. Loose
/// files are checked against it with [`Accounting::check_file`].
///
/// Build it only from environments whose [`validate_chain`](super::validate_chain)
/// report verified: [`Accounting::from_chains`] reads their histories
/// without re-validating the links.
///
/// ```
/// use custodia::promotion::{Accounting, MemoryStore};
/// use custodia::policy::Policy;
/// # let policy_json = br#"{"version":1,"keys":[],"environments":[{"name":"dev","requires":[]}],"promotions":[]}"#;
/// let policy = Policy::from_json(policy_json)?.activate()?;
/// let store = MemoryStore::new();
/// let accounting = Accounting::from_chains(&store, &policy, &["dev"]);
/// // Nothing promoted yet: no file is accounted for.
/// assert!(!accounting.check_file("artifact", b"bytes").passed);
/// # Ok::<(), custodia::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Accounting {
    /// Digest sets vouched for, with what vouches for each.
    named: Vec<(DigestSet, String)>,
    /// Identity and PEM text of the policy's keys, by key id.
    keys: BTreeMap<String, (String, String)>,
}

impl Accounting {
    /// Collects what the histories of `environments` vouch for.
    /// Evidence that no longer verifies is skipped (the chain's own
    /// report says why).
    pub fn from_chains(store: &dyn Store, policy: &ActivePolicy, environments: &[&str]) -> Self {
        let mut named = Vec::new();
        let mut seen_evidence = BTreeSet::new();
        for environment in environments {
            let Ok(entries) = history(store, environment) else {
                continue;
            };
            for entry in entries {
                named.push((
                    entry.artifact.clone(),
                    format!("the artifact of `{environment}` record {}", entry.digest),
                ));
                for evidence in &entry.record.evidence {
                    if !seen_evidence.insert(evidence.digest.clone()) {
                        continue;
                    }
                    let Some(statement) =
                        verified_statement(store, policy, &evidence.digest, &entry.artifact)
                    else {
                        continue;
                    };
                    let what = format!(
                        "{} evidence {}",
                        statement.predicate_type(),
                        evidence.digest
                    );
                    for subject in statement.subject() {
                        named.push((subject.digest.clone(), format!("a subject of {what}")));
                    }
                    if statement.predicate_type() == SLSA_V1 {
                        if let Ok(p) = statement.predicate_as::<Provenance>() {
                            for b in p.run_details.byproducts {
                                named.push((b.digest, format!("a byproduct in {what}")));
                            }
                        }
                    }
                }
            }
        }
        let keys = policy
            .policy()
            .keys
            .iter()
            .filter_map(|k| {
                let key = PublicKey::from_pem(&k.public_key).ok()?;
                Some((
                    key.key_id().as_str().to_owned(),
                    (k.identity.clone(), k.public_key.clone()),
                ))
            })
            .collect();
        Self { named, keys }
    }

    /// One `file:<name>` check for a loose file: a PEM public key must be
    /// one of the policy's keys, byte for byte (its PEM text in the policy,
    /// or the canonical PEM of the same key: a file is accounted for
    /// exactly, not up to whitespace); anything else must hash to a digest
    /// the chains vouch for.
    pub fn check_file(&self, name: &str, bytes: &[u8]) -> Check {
        let check = format!("file:{name}");
        if let Some(text) = std::str::from_utf8(bytes)
            .ok()
            .filter(|t| t.trim_start().starts_with("-----BEGIN PUBLIC KEY-----"))
        {
            return match PublicKey::from_pem(text) {
                Ok(key) => match self.keys.get(key.key_id().as_str()) {
                    Some((identity, pem)) if text == pem || text == key.to_pem() => Check::pass(
                        check,
                        format!(
                            "`{name}` is the policy's key of {identity} ({})",
                            key.key_id()
                        ),
                    ),
                    Some((identity, _)) => Check::fail(
                        check,
                        format!(
                            "`{name}` holds the policy's key of {identity} ({}), but its bytes \
                             differ from the policy's PEM and the canonical PEM (altered)",
                            key.key_id()
                        ),
                    ),
                    None => Check::fail(
                        check,
                        format!(
                            "`{name}` is a public key the policy does not list ({})",
                            key.key_id()
                        ),
                    ),
                },
                Err(e) => Check::fail(check, format!("`{name}`: {e}")),
            };
        }
        self.check_digest(name, &DigestAlgorithm::Sha256.hash(bytes).to_set())
    }

    /// One `file:<name>` check for a file already hashed (large artifacts
    /// are hashed streaming): `digest` must be one the chains vouch for.
    pub fn check_digest(&self, name: &str, digest: &DigestSet) -> Check {
        let check = format!("file:{name}");
        match self
            .named
            .iter()
            .find(|(set, _)| set.matches(digest).is_ok())
        {
            Some((_, what)) => Check::pass(check, format!("`{name}` is {what}")),
            None => Check::fail(
                check,
                format!(
                    "`{name}` ({}) is not named by any verified record or evidence: \
                     altered, or not what the chains are about",
                    digest.shown()
                ),
            ),
        }
    }
}

/// The statement of stored evidence signed by a signer of the policy (a
/// key, or a keyless signer for a Sigstore bundle about `artifact`).
fn verified_statement(
    store: &dyn Store,
    policy: &ActivePolicy,
    digest: &crate::digest::Digest,
    artifact: &DigestSet,
) -> Option<Statement> {
    let bytes = store.get(digest).ok()?;
    check_content(digest, &bytes).ok()?;
    EvidenceEnvelope::from_bytes(&bytes)
        .ok()?
        .statement_signed_by_policy(policy, artifact)
        .cloned()
}
