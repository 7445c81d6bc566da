//! SLSA provenance for CI: make it from a [`BuildContext`] and verify it
//! against a [`ProvenanceExpectation`].

mod context;
mod verify;

pub use context::{
    BuildContext, GENERIC_BUILD_TYPE, GITHUB_ACTIONS_BUILD_TYPE, GITLAB_CI_BUILD_TYPE, SourceRef,
};
pub use verify::{
    ProvenanceExpectation, RefExpectation, VerifiedProvenance, builder_id_matches,
    verify_provenance, verify_provenance_statement, versioned_tag_matches,
};

#[cfg(feature = "rayon")]
pub use verify::verify_provenance_batch;
