//! The store scan: promotion records by the environment they claim (to find unlinked ones), and verified incidents.

use std::collections::{BTreeMap, BTreeSet};

use crate::digest::Digest;
use crate::keys::KeySet;
use crate::policy::{ActivePolicy, EvidenceEnvelope};
use crate::predicate::promotion::{INCIDENT_V1, Incident, PROMOTION_V1, PromotionRecord};
use crate::report::{Check, Report, has_visible_text};
use crate::statement::Statement;
use crate::verify::open_envelope;

use super::super::Store;
use super::super::chain::{INCIDENT_ROLES, IncidentEntry, artifact_of, get_checked};
use super::ValidationOptions;
use super::records::Links;

/// One pass over every stored envelope: the promotion records each
/// environment has (signed or not, to find unlinked ones) and the verified
/// incidents.
pub(in crate::promotion) struct StoreScan {
    pub(in crate::promotion) scanned: std::collections::HashSet<Digest>,
    pub(in crate::promotion) promotion_records: BTreeMap<String, Vec<Digest>>,
    pub(in crate::promotion) incidents: Vec<IncidentEntry>,
    pub(in crate::promotion) listing: Result<(), String>,
}

pub(super) fn scan_store(store: &dyn Store, policy: &ActivePolicy) -> StoreScan {
    match store.list() {
        Ok(digests) => scan_digests(store, policy, &digests),
        Err(e) => StoreScan {
            scanned: std::collections::HashSet::new(),
            promotion_records: BTreeMap::new(),
            incidents: Vec::new(),
            listing: Err(e.to_string()),
        },
    }
}

/// Classifies the given stored envelopes: promotion records by the
/// environment they claim (unverified), incidents verified against the
/// incident roles.
pub(in crate::promotion) fn scan_digests(
    store: &dyn Store,
    policy: &ActivePolicy,
    digests: &[Digest],
) -> StoreScan {
    let mut scan = StoreScan {
        scanned: std::collections::HashSet::new(),
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
    for digest in digests {
        let digest = digest.clone();
        let Ok(bytes) = get_checked(store, &digest) else {
            continue;
        };
        scan.scanned.insert(digest.clone());
        let Ok(evidence) = EvidenceEnvelope::from_bytes(&bytes) else {
            continue;
        };
        if evidence.claims(INCIDENT_V1) {
            if incident_keys.is_empty() {
                continue;
            }
            let mut r = Report::new();
            let Some(statement) = open_envelope(evidence.envelope(), &incident_keys, 1, &mut r)
            else {
                continue;
            };
            if statement.predicate_type() != INCIDENT_V1 {
                continue;
            }
            if let Ok(incident) = statement.predicate_as::<Incident>() {
                scan.incidents.push(IncidentEntry {
                    digest,
                    artifact: artifact_of(&statement),
                    incident,
                });
            }
            continue;
        }
        let Ok(statement) = Statement::from_json(evidence.envelope().payload()) else {
            continue;
        };
        if statement.predicate_type() != PROMOTION_V1 {
            continue;
        }
        if let Ok(record) = statement.predicate_as::<PromotionRecord>() {
            scan.promotion_records
                .entry(record.environment)
                .or_default()
                .push(digest);
        }
    }
    scan.incidents.sort_by_key(|i| i.incident.opened);
    scan
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

pub(super) fn unlinked_check(scan: &StoreScan, environment: &str, links: Option<&Links>) -> Check {
    if let Err(e) = &scan.listing {
        return Check::fail("unlinked-records", e.clone());
    }
    let linked: BTreeSet<&Digest> = links.map(|l| l.chain.iter().collect()).unwrap_or_default();
    let extra: Vec<&Digest> = scan
        .promotion_records
        .get(environment)
        .map(|all| all.iter().filter(|d| !linked.contains(d)).collect())
        .unwrap_or_default();
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
