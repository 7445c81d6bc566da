//! Promotion chains: one immutable digest promoted from environment to
//! environment through policy gates, every promotion a signed record
//! hash-linked to the one before it.
//!
//! * [`Store`]: content-addressed envelopes and fork-proof links
//!   ([`DirStore`] on disk, [`MemoryStore`] in memory);
//! * [`promote`], [`rollback`], [`rollback_target`], [`record_incident`];
//! * [`validate_chain`]: an environment's whole history, every link and
//!   gate re-checked;
//! * [`check_store`], [`Accounting`]: every stored envelope intact, and
//!   loose files (artifact, SBOM, keys) accounted for by verified chains;
//! * [`dora`]: deployment frequency, lead time, change failure rate and
//!   time to restore, from the records.

mod audit;
mod chain;
mod dora;
mod store;

pub use audit::{Accounting, check_policy, check_store};
pub use chain::{
    HistoryEntry, INCIDENT_ROLES, IncidentEntry, PROMOTER_ROLE, Promoted, PromotionError,
    PromotionRequest, RollbackTarget, evidence_about, head, history, incidents, promote,
    record_incident, rollback, rollback_target, validate_chain,
};
pub use dora::{DoraMetrics, DoraTargets, dora};
#[cfg(feature = "oci-registry")]
pub(crate) use store::check_environment;
pub use store::{DirStore, MemoryStore, Store};
