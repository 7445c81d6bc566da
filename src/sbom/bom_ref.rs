//! Component identifiers (CycloneDX `bom-ref`), parsed once and carried as
//! a type.
//!
//! CycloneDX 1.5 to 1.7 define a bom-ref (`refType`) as a string of at
//! least one character, unique within the BOM. custodia also refuses
//! control characters (they cannot be told apart when shown, and no tool
//! writes them) and bounds the length, so every [`BomRef`] in a model can
//! be written by every writer and read back by every reader. The text is
//! kept exactly as given.

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;

use crate::digest::DigestAlgorithm;
use crate::sbom::Purl;

/// The longest bom-ref accepted, in bytes (the longest purl, which is the
/// bom-ref of a component that has one).
const MAX_LEN: usize = 4096;

/// Why a bom-ref was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BomRefError {
    /// The text is empty.
    #[error("a bom-ref cannot be empty")]
    Empty,
    /// Longer than 4096 bytes.
    #[error("longer than {MAX_LEN} bytes")]
    TooLong,
    /// A control character, at a byte offset.
    #[error("a control character at byte {0}")]
    Control(usize),
}

/// An identifier of a component, unique within one SBOM: non-empty, at
/// most 4096 bytes, no control characters.
///
/// Maps keyed by `BomRef` can be looked up by `&str` (it implements
/// `Borrow<str>`).
///
/// ```
/// use std::collections::BTreeMap;
/// use custodia::sbom::{BomRef, BomRefError, Purl};
/// let r = BomRef::parse("pkg:cargo/serde@1.0.200")?;
/// assert_eq!(r.as_str(), "pkg:cargo/serde@1.0.200");
/// assert_eq!(r, BomRef::from(&Purl::parse("pkg:cargo/serde@1.0.200").unwrap()));
///
/// let edges = BTreeMap::from([(r, 1)]);
/// assert_eq!(edges.get("pkg:cargo/serde@1.0.200"), Some(&1));
///
/// assert_eq!(BomRef::parse(""), Err(BomRefError::Empty));
/// assert_eq!(BomRef::parse("a\nb"), Err(BomRefError::Control(1)));
/// # Ok::<(), BomRefError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BomRef(String);

impl BomRef {
    /// Parses a bom-ref.
    pub fn parse(text: &str) -> Result<Self, BomRefError> {
        check(text)?;
        Ok(Self(text.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `text` as a bom-ref when it is one, else `sha256:HEX` of it (for
    /// identifiers made from names and versions, which may be anything).
    pub(crate) fn derive(text: String) -> Self {
        match check(&text) {
            Ok(()) => Self(text),
            Err(_) => Self(format!(
                "sha256:{}",
                DigestAlgorithm::Sha256.hash(text.as_bytes()).hex()
            )),
        }
    }
}

fn check(text: &str) -> Result<(), BomRefError> {
    if text.is_empty() {
        return Err(BomRefError::Empty);
    }
    if text.len() > MAX_LEN {
        return Err(BomRefError::TooLong);
    }
    match text.char_indices().find(|(_, c)| c.is_control()) {
        Some((at, _)) => Err(BomRefError::Control(at)),
        None => Ok(()),
    }
}

impl From<&Purl> for BomRef {
    /// A purl's text (never empty, at most 4096 bytes, no control
    /// characters) is a bom-ref.
    fn from(purl: &Purl) -> Self {
        Self::derive(purl.as_str().to_owned())
    }
}

impl fmt::Display for BomRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for BomRef {
    type Err = BomRefError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for BomRef {
    type Error = BomRefError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl TryFrom<String> for BomRef {
    type Error = BomRefError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        check(&s)?;
        Ok(Self(s))
    }
}

impl AsRef<str> for BomRef {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for BomRef {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for BomRef {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for BomRef {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl serde::Serialize for BomRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for BomRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::try_from(s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_typed() {
        assert_eq!(BomRef::parse(""), Err(BomRefError::Empty));
        assert_eq!(BomRef::parse("ab\u{7f}"), Err(BomRefError::Control(2)));
        assert_eq!(BomRef::parse("é\u{85}"), Err(BomRefError::Control(2)));
        assert_eq!(
            BomRef::parse(&"a".repeat(MAX_LEN + 1)),
            Err(BomRefError::TooLong)
        );
        assert!(BomRef::parse(&"a".repeat(MAX_LEN)).is_ok());
        assert!(BomRef::parse("my component @ 1.0 #2").is_ok());
    }

    #[test]
    fn derived_refs_are_valid() {
        assert_eq!(BomRef::derive("a@1".to_owned()).as_str(), "a@1");
        for bad in ["", "a\n@1", &"x".repeat(MAX_LEN + 1)] {
            let r = BomRef::derive(bad.to_owned());
            assert!(r.as_str().starts_with("sha256:"));
            assert_eq!(BomRef::parse(r.as_str()), Ok(r));
        }
        let p = Purl::parse(&format!("pkg:cargo/{}", "a".repeat(MAX_LEN - 10))).unwrap();
        assert_eq!(BomRef::from(&p).as_str(), p.as_str());
    }
}
