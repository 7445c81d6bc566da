//! What can go wrong reading, writing or fetching OCI content.

use std::fmt;
use std::path::PathBuf;

use crate::error::Error;

/// Why an OCI digest string was refused, in the terms of the reference
/// implementation (`opencontainers/go-digest`), so results can be compared
/// case by case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DigestProblem {
    /// Not `algorithm:encoded` as the image spec's grammar says, or the
    /// encoded part of a registered algorithm is not lowercase hex
    /// (`ErrDigestInvalidFormat`).
    InvalidFormat,
    /// The encoded part of a registered algorithm has the wrong length
    /// (`ErrDigestInvalidLength`).
    InvalidLength,
    /// Well-formed, but not an algorithm custodia computes (sha256,
    /// sha384, sha512) (`ErrDigestUnsupported`).
    Unsupported,
}

impl fmt::Display for DigestProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidFormat => {
                "malformed: not `algorithm:encoded` as the image spec says (lowercase hex for sha256/384/512)"
            }
            Self::InvalidLength => "encoded part has the wrong length for its algorithm",
            Self::Unsupported => "algorithm not supported (sha256, sha384, sha512)",
        })
    }
}

/// An OCI problem: a document broke a rule of the image or distribution
/// spec, a blob in a layout is missing or corrupt, or a registry refused.
///
/// Problems found inside an image layout are wrapped in [`OciError::At`],
/// which names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OciError {
    /// A digest string is malformed or uses an algorithm custodia cannot
    /// compute.
    #[error("invalid OCI digest `{input}`: {problem}")]
    Digest {
        /// The input, shortened to 80 characters.
        input: String,
        /// Which rule it broke.
        problem: DigestProblem,
    },
    /// A document parsed as JSON but broke a rule of its spec.
    #[error("{what}{}: {reason}", at(path))]
    Invalid {
        /// Which document (`OCI image manifest`, `OCI image layout`, ...).
        what: &'static str,
        /// Field path (`layers[0].data`); empty for the whole document.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// A document or blob is larger than custodia reads for its kind.
    #[error("{what} is larger than the {limit}-byte limit")]
    TooLarge {
        /// What was being read.
        what: String,
        /// The limit.
        limit: u64,
    },
    /// A blob named by a descriptor is not in the layout.
    #[error("blob {digest} is missing")]
    Missing {
        /// The descriptor's digest.
        digest: String,
    },
    /// A blob's bytes do not hash to its descriptor's digest.
    #[error("blob {digest} is corrupt: its bytes hash to {actual}")]
    DigestMismatch {
        /// The descriptor's digest.
        digest: String,
        /// What the bytes hash to.
        actual: String,
    },
    /// A blob's length is not its descriptor's size.
    #[error("blob {digest} is {actual} bytes, its descriptor says {expected}")]
    SizeMismatch {
        /// The descriptor's digest.
        digest: String,
        /// The descriptor's size.
        expected: u64,
        /// The blob's length (or a lower bound when it is longer than
        /// expected: reading stops there).
        actual: u64,
    },
    /// No image in the layout has this reference.
    #[error("no image `{0}` in the layout")]
    NotFound(String),
    /// More than one image fits the reference.
    #[error("`{reference}` is ambiguous: {candidates}")]
    Ambiguous {
        /// The reference given (empty: none).
        reference: String,
        /// The candidates, comma-separated.
        candidates: String,
    },
    /// A problem in one file of an image layout.
    #[error("{}: {source}", path.display())]
    At {
        /// The file (`index.json`, `blobs/sha256/<hex>`, ...).
        path: PathBuf,
        /// The problem.
        #[source]
        source: Box<Error>,
    },
    /// A registry refused a request or answered something unusable.
    #[error("registry {registry}: {reason}")]
    Registry {
        /// The registry host and repository.
        registry: String,
        /// The HTTP status, if there was one.
        status: Option<u16>,
        /// What went wrong.
        reason: String,
    },
}

fn at(path: &str) -> String {
    if path.is_empty() || path == "." {
        String::new()
    } else {
        format!(" at `{path}`")
    }
}

impl OciError {
    /// Wraps `error` with the layout file it concerns (not twice).
    pub(crate) fn at(path: impl Into<PathBuf>, error: Error) -> Error {
        match error {
            Error::Oci(OciError::At { .. }) => error,
            other => Error::Oci(OciError::At {
                path: path.into(),
                source: Box::new(other),
            }),
        }
    }

    /// The innermost error, past any [`OciError::At`] wrappers.
    pub fn root_cause(&self) -> &OciError {
        match self {
            Self::At { source, .. } => match source.as_ref() {
                Error::Oci(inner) => inner.root_cause(),
                _ => self,
            },
            other => other,
        }
    }
}

pub(crate) fn invalid(
    what: &'static str,
    path: impl Into<String>,
    reason: impl Into<String>,
) -> Error {
    Error::Oci(OciError::Invalid {
        what,
        path: path.into(),
        reason: reason.into(),
    })
}
