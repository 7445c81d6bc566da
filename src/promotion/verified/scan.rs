//! The store scan: promotion records by the environment they claim (to find unlinked ones), and verified incidents.

use std::collections::BTreeMap;

use crate::digest::Digest;
use crate::keys::KeySet;
use crate::policy::ActivePolicy;
use crate::predicate::promotion::{INCIDENT_V1, Incident, PROMOTION_V1, PromotionRecord};
use crate::report::{Check, has_visible_text};
use crate::statement::Statement;
use crate::verify::open_statement;

use super::super::Store;
use super::super::chain::{INCIDENT_ROLES, IncidentEntry, artifact_of, read_checked};
use super::records::{map_records, parse_evidence};
use super::seen::SeenList;
use super::{Seen, ValidationOptions};

/// One pass over every stored envelope: the promotion records each
/// environment has (signed or not, to find unlinked ones) and the verified
/// incidents.
pub(in crate::promotion) struct StoreScan {
    pub(in crate::promotion) scanned: Seen,
    /// Promotion records by the environment they claim, that may lie
    /// outside its chain: every one the scan read, and records opened in
    /// another environment's chain than the one they claim.
    pub(in crate::promotion) promotion_records: BTreeMap<String, Vec<Digest>>,
    pub(in crate::promotion) incidents: Vec<IncidentEntry>,
    pub(in crate::promotion) listing: Result<(), String>,
}

/// What validation learned about stored envelopes before the scan, so the
/// scan reads each of them no more than once.
#[derive(Default)]
pub(super) struct Known {
    /// Envelopes whose classification is final: records that opened (and
    /// are listed in `records` unless linked into the environment they
    /// claim), evidence a gate used of a type that is neither a promotion
    /// record nor an incident.
    pub(super) settled: SeenList,
    /// Records that opened in one environment's chain but claim another
    /// (which they are outside of): (claimed environment, digest).
    pub(super) records: Vec<(String, Digest)>,
}

/// Lists the store and classifies every envelope not already `known`.
pub(super) fn scan_store(store: &dyn Store, policy: &ActivePolicy, known: Known) -> StoreScan {
    let settled = known.settled.into_seen();
    let mut scan = match store.list_where(&mut |d| !settled.contains(d)) {
        Ok(fresh) => scan_digests(store, policy, &fresh),
        Err(e) => StoreScan {
            scanned: Seen::default(),
            promotion_records: BTreeMap::new(),
            incidents: Vec::new(),
            listing: Err(e.to_string()),
        },
    };
    scan.scanned.absorb(settled);
    for (environment, digest) in known.records {
        scan.promotion_records
            .entry(environment)
            .or_default()
            .push(digest);
    }
    for list in scan.promotion_records.values_mut() {
        list.sort();
        list.dedup();
    }
    scan
}

/// What one stored envelope is, for the scan.
enum Found {
    Unreadable,
    Other,
    Record(String),
    Incident(IncidentEntry),
}

/// Classifies the given stored envelopes (in parallel with feature
/// `rayon`): promotion records by the environment they claim
/// (unverified), incidents verified against the incident roles.
pub(in crate::promotion) fn scan_digests(
    store: &dyn Store,
    policy: &ActivePolicy,
    digests: &[Digest],
) -> StoreScan {
    let mut scan = StoreScan {
        scanned: Seen::default(),
        promotion_records: BTreeMap::new(),
        incidents: Vec::new(),
        listing: Ok(()),
    };
    let mut incident_keys = KeySet::new();
    for role in INCIDENT_ROLES {
        for k in policy.keys_with_role(role).iter() {
            incident_keys.insert_verifier(k.clone());
        }
    }
    let found = map_records(digests, |d| classify(store, &incident_keys, d));
    for (digest, found) in digests.iter().zip(found) {
        match found {
            Found::Unreadable => continue,
            Found::Other => {}
            Found::Record(environment) => scan
                .promotion_records
                .entry(environment)
                .or_default()
                .push(digest.clone()),
            Found::Incident(entry) => scan.incidents.push(entry),
        }
        scan.scanned.insert(digest);
    }
    scan.incidents.sort_by_key(|i| i.incident.opened);
    scan
}

fn classify(store: &dyn Store, incident_keys: &KeySet, digest: &Digest) -> Found {
    let Ok(parsed) = read_checked(store, digest, |bytes| parse_evidence(digest, bytes)) else {
        return Found::Unreadable;
    };
    let Ok(evidence) = parsed else {
        return Found::Other;
    };
    if evidence.claims(INCIDENT_V1) {
        if incident_keys.is_empty() {
            return Found::Other;
        }
        let Some(statement) = open_statement(evidence.envelope(), incident_keys, 1) else {
            return Found::Other;
        };
        if statement.predicate_type() != INCIDENT_V1 {
            return Found::Other;
        }
        return match statement.predicate_as::<Incident>() {
            Ok(incident) => Found::Incident(IncidentEntry {
                digest: digest.clone(),
                artifact: artifact_of(&statement),
                incident,
            }),
            Err(_) => Found::Other,
        };
    }
    let Ok(statement) = Statement::from_json(evidence.envelope().payload()) else {
        return Found::Other;
    };
    if statement.predicate_type() != PROMOTION_V1 {
        return Found::Other;
    }
    match statement.predicate_as::<PromotionRecord>() {
        Ok(record) => Found::Record(record.environment),
        Err(_) => Found::Other,
    }
}

/// Checks an incident's times: resolved after it opened, neither in the
/// future.
pub(in crate::promotion) fn check_incident(
    entry: &IncidentEntry,
    options: &ValidationOptions,
) -> Result<(), String> {
    let latest = options.latest_allowed();
    let i = &entry.incident;
    if i.opened > latest {
        return Err(format!(
            "incident {} opened at {}, in the future (clock {})",
            entry.digest, i.opened, options.now
        ));
    }
    if let Some(resolved) = i.resolved {
        if resolved < i.opened {
            return Err(format!(
                "incident {} was resolved ({resolved}) before it opened ({})",
                entry.digest, i.opened
            ));
        }
        if resolved > latest {
            return Err(format!(
                "incident {} resolved at {resolved}, in the future (clock {})",
                entry.digest, options.now
            ));
        }
    }
    if !has_visible_text(&i.summary) {
        return Err(format!("incident {} has no visible summary", entry.digest));
    }
    Ok(())
}

pub(super) fn unlinked_check(
    scan: &StoreScan,
    environment: &str,
    linked: impl Fn(&Digest) -> bool,
) -> Check {
    if let Err(e) = &scan.listing {
        return Check::fail("unlinked-records", e.clone());
    }
    let all = scan
        .promotion_records
        .get(environment)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let extra: Vec<&Digest> = all.iter().filter(|d| !linked(d)).collect();
    if extra.is_empty() {
        Check::pass(
            "unlinked-records",
            format!("every record into `{environment}` is in its linked history"),
        )
    } else {
        Check::fail(
            "unlinked-records",
            format!(
                "{} record(s) into `{environment}` are outside its linked history (forked, reordered or unlinked): {}",
                extra.len(),
                extra
                    .iter()
                    .take(5)
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    }
}
