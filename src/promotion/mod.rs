//! Promotion chains: one immutable digest promoted from environment to
//! environment through policy gates, every promotion a signed record
//! hash-linked to the one before it.
//!
//! The store is untrusted: decisions read only a [`VerifiedHistory`], which
//! only [`validate`] (or a [`refresh`](VerifiedHistory::refresh) of one)
//! produces.
//!
//! * [`Store`]: content-addressed envelopes and fork-proof links
//!   ([`DirStore`] on disk, [`MemoryStore`] in memory);
//! * [`validate`]: environments' histories and, transitively, where their
//!   records came from: every signature, link, time, gate and source path
//!   re-checked; [`validate_chain`] for one environment's report;
//! * [`promote`], [`promote_with`], [`rollback`], [`rollback_target`],
//!   [`record_incident`];
//! * [`admit`]: may this digest run in this environment now?
//! * [`Checkpoint`], [`SignedCheckpoint`], [`TrustedState`]: truncation and
//!   rollback of history, against a verifier's kept state or a witness;
//! * [`check_store`], [`Accounting`]: every stored envelope intact, and
//!   loose files (artifact, SBOM, keys) accounted for by verified chains;
//! * [`dora`]: deployment frequency, lead time, change failure rate and
//!   time to restore, from verified records.

mod accounting;
mod admit;
mod audit;
mod chain;
mod checkpoint;
mod dora;
#[doc(hidden)]
pub mod fuzzing;
mod refresh;
mod store;
mod verified;

pub use accounting::{Accounting, check_policy, check_store};
pub use admit::{Admission, AdmissionRequest, admit, admit_from_store};
#[cfg(feature = "schema")]
pub use audit::schema as audit_schema;
pub use audit::{
    ArtifactLocations, Audit, AuditRequest, ChainGraph, EdgeKind, Failure as AuditFailure,
    GraphEdge, GraphEnvironment, GraphNode, Location, NodeKind, audit,
};
pub use chain::{
    HistoryEntry, INCIDENT_ROLES, IncidentEntry, PROMOTER_ROLE, Promoted, PromotionError,
    PromotionRequest, RollbackTarget, evidence_about, head, history, promote, record_incident,
    rollback, rollback_target,
};
pub use checkpoint::{
    Checkpoint, MAX_CHECKPOINT_BYTES, SignedCheckpoint, TrustedState, WITNESS_ROLE,
    check_checkpoints, witness,
};
pub use dora::{DoraMetrics, DoraOutcome, DoraTargets, dora, dora_from_store};
pub use refresh::promote_with;
#[cfg(feature = "oci-registry")]
pub(crate) use store::check_environment;
#[doc(hidden)]
pub use store::fuzz_store_dir;
pub use store::{DirStore, MemoryStore, Store};
pub use verified::{
    DEFAULT_MAX_CLOCK_SKEW_SECONDS, EnvironmentHistory, Records, Validation, ValidationOptions,
    VerifiedHistory, VerifiedRecord, validate, validate_chain,
};
