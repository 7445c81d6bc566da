//! SLSA provenance for CI: make it from a [`BuildContext`] and verify it
//! against a [`ProvenanceExpectation`].

mod context;
pub(crate) mod matching;
mod verify;

pub use context::{
    BuildContext, GENERIC_BUILD_TYPE, GITHUB_ACTIONS_BUILD_TYPE, GITLAB_CI_BUILD_TYPE, SourceRef,
};
pub use matching::{
    ParsedUri, UriError, builder_id_matches, normalize_git_uri, parse_uri, versioned_tag_matches,
};
pub use verify::{
    ProvenanceExpectation, RefExpectation, VerifiedProvenance, verify_provenance,
    verify_provenance_statement,
};

#[cfg(feature = "rayon")]
pub use verify::verify_provenance_batch;
