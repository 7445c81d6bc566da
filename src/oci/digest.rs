//! OCI digests as descriptors carry them: any algorithm the grammar
//! allows, checked strictly for the algorithms custodia computes.

use std::fmt;
use std::str::FromStr;

use crate::digest::{Digest, DigestAlgorithm, is_oci_algorithm, shorten};
use crate::error::Error;

use super::error::{DigestProblem, OciError};

/// A digest string from an OCI descriptor: `algorithm:encoded`.
///
/// Parsing follows the image spec's grammar (`descriptor.md`): algorithm
/// components of `[a-z0-9]` joined by one of `+._-`, an encoded part of
/// `[a-zA-Z0-9=_-]`. For the registered algorithms (sha256, sha384,
/// sha512) the encoded part must also be lowercase hex of the right
/// length. Other algorithms (`sha256+b64`, `multihash+base58`) are valid
/// in a descriptor but cannot be verified: [`OciDigest::to_digest`] says
/// so with [`DigestProblem::Unsupported`].
///
/// ```
/// use custodia::oci::OciDigest;
/// let d: OciDigest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a".parse()?;
/// assert_eq!(d.algorithm(), "sha256");
/// assert!(d.to_digest().is_ok());
/// let other: OciDigest = "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8".parse()?;
/// assert!(other.to_digest().is_err());
/// assert!("sha256:E3B0".parse::<OciDigest>().is_err());
/// # Ok::<(), custodia::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OciDigest {
    text: String,
    split: usize,
}

impl OciDigest {
    /// The algorithm part.
    pub fn algorithm(&self) -> &str {
        self.text.get(..self.split).unwrap_or_default()
    }

    /// The encoded part (lowercase hex for registered algorithms).
    pub fn encoded(&self) -> &str {
        self.text.get(self.split + 1..).unwrap_or_default()
    }

    /// The whole string.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The computed digest, for the algorithms custodia can verify.
    pub fn to_digest(&self) -> Result<Digest, Error> {
        let algorithm: DigestAlgorithm =
            self.algorithm().parse().map_err(|_| OciError::Digest {
                input: shorten(&self.text),
                problem: DigestProblem::Unsupported,
            })?;
        Digest::from_hex(algorithm, self.encoded())
    }

    /// Parses like go-digest's `Parse` followed by `Validate`: grammar
    /// first, then, for a registered algorithm, the encoded part's length
    /// and alphabet; an algorithm that is not registered is
    /// [`DigestProblem::Unsupported`]. [`OciDigest::from_str`] accepts
    /// those (the image spec allows them in descriptors).
    pub fn parse_registered(s: &str) -> Result<Digest, Error> {
        let d: OciDigest = s.parse()?;
        d.to_digest()
    }
}

impl From<&Digest> for OciDigest {
    fn from(d: &Digest) -> Self {
        let text = d.to_string();
        let split = d.algorithm().name().len();
        Self { text, split }
    }
}

impl From<Digest> for OciDigest {
    fn from(d: Digest) -> Self {
        Self::from(&d)
    }
}

impl PartialEq<Digest> for OciDigest {
    fn eq(&self, other: &Digest) -> bool {
        self.algorithm() == other.algorithm().name() && self.encoded() == other.hex()
    }
}

impl fmt::Display for OciDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for OciDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OciDigest({})", self.text)
    }
}

fn registered_hex_len(algorithm: &str) -> Option<usize> {
    match algorithm {
        "sha256" => Some(64),
        "sha384" => Some(96),
        "sha512" => Some(128),
        _ => None,
    }
}

impl FromStr for OciDigest {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let fail = |problem| {
            Error::Oci(OciError::Digest {
                input: shorten(s),
                problem,
            })
        };
        let Some((algorithm, encoded)) = s.split_once(':') else {
            return Err(fail(DigestProblem::InvalidFormat));
        };
        let encoded_ok = !encoded.is_empty()
            && encoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'=' | b'_' | b'-'));
        if !is_oci_algorithm(algorithm) || !encoded_ok {
            return Err(fail(DigestProblem::InvalidFormat));
        }
        if let Some(len) = registered_hex_len(algorithm) {
            if encoded.len() != len {
                return Err(fail(DigestProblem::InvalidLength));
            }
            if !encoded
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                return Err(fail(DigestProblem::InvalidFormat));
            }
        }
        Ok(Self {
            text: s.to_owned(),
            split: algorithm.len(),
        })
    }
}

impl serde::Serialize for OciDigest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for OciDigest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(s: &str) -> Option<DigestProblem> {
        match OciDigest::parse_registered(s) {
            Ok(_) => None,
            Err(Error::Oci(OciError::Digest { problem, .. })) => Some(problem),
            Err(e) => panic!("{s}: unexpected {e}"),
        }
    }

    #[test]
    fn grammar_then_registered_rules() {
        let hex = "e58fcf7418d4390dec8e8fb69d88c06ec07039d651fedd3aa72af9972e7d046b";
        assert_eq!(problem(&format!("sha256:{hex}")), None);
        assert_eq!(problem("sha256:abc"), Some(DigestProblem::InvalidLength));
        assert_eq!(
            problem(&format!("sha256:{}", hex.to_uppercase())),
            Some(DigestProblem::InvalidFormat)
        );
        assert_eq!(problem("a__b:ab"), Some(DigestProblem::InvalidFormat));
        assert_eq!(
            problem("sha256+b64:LCa0a2j_xo"),
            Some(DigestProblem::Unsupported)
        );
        assert_eq!(problem(":"), Some(DigestProblem::InvalidFormat));
        let d: OciDigest = format!("sha256:{hex}").parse().unwrap();
        assert_eq!(d.algorithm(), "sha256");
        assert_eq!(d.encoded(), hex);
        assert_eq!(OciDigest::from(d.to_digest().unwrap()), d);
    }
}
