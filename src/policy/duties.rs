//! Separation of duties: who counts as having built an artifact.
//!
//! The builder set is every identity the policy knows that signed SLSA
//! provenance (any version) about the artifact among *all* the evidence
//! offered to a gate, not only the envelope that happened to satisfy a
//! requirement: with `distinctFromBuilder`, none of them may approve. (An
//! attacker who offers a second provenance envelope, or grinds envelope
//! digests to change which one a gate picks first, changes nothing.)

use std::collections::BTreeSet;

use crate::digest::DigestSet;
use crate::predicate::slsa_provenance::{PROVENANCE_V0_1, PROVENANCE_V0_2, PROVENANCE_V1};

use super::gate::{ActivePolicy, EvidenceEnvelope};

/// Every identity that signed provenance for `artifact` among `evidence`.
pub(super) fn builder_identities(
    policy: &ActivePolicy,
    artifact: &DigestSet,
    evidence: &[EvidenceEnvelope],
) -> BTreeSet<String> {
    let mut builders = BTreeSet::new();
    for ev in evidence {
        if ![PROVENANCE_V1, PROVENANCE_V0_2, PROVENANCE_V0_1]
            .iter()
            .any(|t| ev.claims(t))
        {
            continue;
        }
        let Some((statement, identities)) = ev.signed_by_any(policy, artifact) else {
            continue;
        };
        let is_provenance =
            [PROVENANCE_V1, PROVENANCE_V0_2, PROVENANCE_V0_1].contains(&statement.predicate_type());
        if is_provenance && statement.subject_matching(artifact).is_ok() {
            builders.extend(identities);
        }
    }
    builders
}
