//! SPDX 2 element ids (`SPDXRef-…`), parsed once and carried as a type.
//!
//! SPDX 2.3 clause 7.2 (and 3.2 for the document): an element id is
//! `"SPDXRef-"[idstring]` where `[idstring]` is one or more letters,
//! digits, `.` and `-`. custodia also bounds the length (4096 bytes, the
//! longest bom-ref), so every id is a [`BomRef`] too: the reader uses an
//! element's id as its bom-ref where purls or `NAME@VERSION` clash.

use std::fmt;
use std::str::FromStr;

use crate::sbom::BomRef;

/// The longest SPDX id accepted, in bytes.
const MAX_LEN: usize = 4096;

/// The prefix of every SPDX 2 element id.
const PREFIX: &str = "SPDXRef-";

/// Why an SPDX element id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpdxIdError {
    /// It does not start with `SPDXRef-`.
    #[error("an SPDX id starts with `SPDXRef-`")]
    Prefix,
    /// Nothing follows `SPDXRef-`.
    #[error("an SPDX id has an idstring after `SPDXRef-`")]
    Empty,
    /// A character other than a letter, digit, `.` or `-`, at a byte offset.
    #[error("the character at byte {0} is not a letter, digit, `.` or `-`")]
    Character(usize),
    /// Longer than 4096 bytes.
    #[error("longer than {MAX_LEN} bytes")]
    TooLong,
}

/// An SPDX 2 element id: `SPDXRef-` followed by letters, digits, `.` and
/// `-`.
///
/// ```
/// use custodia::sbom::BomRef;
/// use custodia::sbom::spdx::{SpdxId, SpdxIdError};
/// let id = SpdxId::parse("SPDXRef-Package-serde-1.0.200")?;
/// assert_eq!(id.idstring(), "Package-serde-1.0.200");
/// assert_eq!(BomRef::from(&id).as_str(), "SPDXRef-Package-serde-1.0.200");
/// assert_eq!(SpdxId::parse("Package-serde"), Err(SpdxIdError::Prefix));
/// assert_eq!(SpdxId::parse("SPDXRef-"), Err(SpdxIdError::Empty));
/// assert_eq!(SpdxId::parse("SPDXRef-a_b"), Err(SpdxIdError::Character(9)));
/// # Ok::<(), SpdxIdError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SpdxId(String);

impl SpdxId {
    /// Parses an element id.
    pub fn parse(text: &str) -> Result<Self, SpdxIdError> {
        if text.len() > MAX_LEN {
            return Err(SpdxIdError::TooLong);
        }
        let idstring = text.strip_prefix(PREFIX).ok_or(SpdxIdError::Prefix)?;
        if idstring.is_empty() {
            return Err(SpdxIdError::Empty);
        }
        match idstring
            .bytes()
            .position(|b| !(b.is_ascii_alphanumeric() || b == b'.' || b == b'-'))
        {
            Some(at) => Err(SpdxIdError::Character(PREFIX.len() + at)),
            None => Ok(Self(text.to_owned())),
        }
    }

    /// The document's own id, `SPDXRef-DOCUMENT`.
    pub fn document() -> Self {
        Self(super::DOCUMENT_ID.to_owned())
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after `SPDXRef-`.
    pub fn idstring(&self) -> &str {
        self.0.get(PREFIX.len()..).unwrap_or_default()
    }
}

impl From<&SpdxId> for BomRef {
    /// An SPDX id (at most 4096 bytes of ASCII letters, digits, `.` and
    /// `-`) is a bom-ref.
    fn from(id: &SpdxId) -> Self {
        BomRef::derive(id.0.clone())
    }
}

impl fmt::Display for SpdxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for SpdxId {
    type Err = SpdxIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for SpdxId {
    type Error = SpdxIdError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl AsRef<str> for SpdxId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for SpdxId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_typed() {
        let err = |s: &str| SpdxId::parse(s).unwrap_err();
        assert_eq!(err(""), SpdxIdError::Prefix);
        assert_eq!(err("spdxref-a"), SpdxIdError::Prefix);
        assert_eq!(err("SPDXRef-"), SpdxIdError::Empty);
        assert_eq!(err("SPDXRef-a b"), SpdxIdError::Character(9));
        assert_eq!(err("SPDXRef-é"), SpdxIdError::Character(8));
        assert_eq!(
            err(&format!("SPDXRef-{}", "a".repeat(MAX_LEN))),
            SpdxIdError::TooLong
        );
        let longest = format!("SPDXRef-{}", "a".repeat(MAX_LEN - PREFIX.len()));
        let id = SpdxId::parse(&longest).unwrap();
        assert_eq!(BomRef::from(&id).as_str(), longest);
        assert_eq!(SpdxId::document().idstring(), "DOCUMENT");
    }
}
