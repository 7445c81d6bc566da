//! Package URLs (`pkg:cargo/serde@1.0.200`), parsed once and carried as a
//! type.
//!
//! The parser follows the purl specification's parsing rules
//! (package-url/purl-spec, `PURL-SPECIFICATION.rst`, "How to parse a purl
//! string in its components"): `pkg:TYPE/NAMESPACE/NAME@VERSION?QUALIFIERS#SUBPATH`,
//! the scheme `pkg`, a type of `[A-Za-z.+-][A-Za-z0-9.+-]*`, a non-empty
//! name, qualifier keys of `[A-Za-z0-9.-_]` (unique), `%XX` escapes that
//! decode to UTF-8. A purl holds no whitespace or control characters
//! (they must be percent-encoded). The text is kept as it was given
//! ([`Purl::as_str`]), so a purl read from a document is written back
//! unchanged and keeps naming the same bom-ref; the decoded parts are
//! there to compare packages.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// The longest purl accepted, in bytes.
const MAX_LEN: usize = 4096;

/// Why a package URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PurlError {
    /// It does not start with `pkg:`.
    #[error("a purl starts with `pkg:`")]
    Scheme,
    /// The type is missing or holds characters a type cannot.
    #[error("the purl type is missing or not `[A-Za-z.+-][A-Za-z0-9.+-]*`")]
    Type,
    /// The name is missing.
    #[error("the purl has no name")]
    Name,
    /// Whitespace or a control character that is not percent-encoded, at a
    /// byte offset.
    #[error("unencoded whitespace or control character at byte {0}")]
    Unencoded(usize),
    /// A `%` not followed by two hex digits, or escapes that do not decode
    /// to UTF-8.
    #[error("bad percent-encoding")]
    Encoding,
    /// A qualifier without `=`, with an invalid key, or a key twice.
    #[error("bad qualifier `{0}`")]
    Qualifier(String),
    /// Longer than 4096 bytes.
    #[error("longer than {MAX_LEN} bytes")]
    TooLong,
}

/// A parsed package URL.
///
/// ```
/// use custodia::sbom::Purl;
/// let p: Purl = "pkg:cargo/serde@1.0.200?repository_url=https://example.com/index".parse()?;
/// assert_eq!(p.purl_type(), "cargo");
/// assert_eq!(p.name(), "serde");
/// assert_eq!(p.version(), Some("1.0.200"));
/// assert_eq!(p.qualifier("repository_url"), Some("https://example.com/index"));
/// assert_eq!(p.as_str(), "pkg:cargo/serde@1.0.200?repository_url=https://example.com/index");
///
/// let npm = Purl::parse("pkg:npm/%40angular/core@16.0.0")?;
/// assert_eq!(npm.namespace(), Some("@angular"));
/// assert!(Purl::parse("cargo/serde").is_err());
/// assert!(Purl::parse("pkg:cargo/").is_err());
/// # Ok::<(), custodia::sbom::PurlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Purl {
    text: String,
    purl_type: String,
    namespace: Option<String>,
    name: String,
    version: Option<String>,
    qualifiers: BTreeMap<String, String>,
    subpath: Option<String>,
}

impl Purl {
    /// Parses a package URL.
    pub fn parse(text: &str) -> Result<Self, PurlError> {
        if text.len() > MAX_LEN {
            return Err(PurlError::TooLong);
        }
        if let Some(at) = text
            .char_indices()
            .find(|(_, c)| c.is_whitespace() || c.is_control())
            .map(|(i, _)| i)
        {
            return Err(PurlError::Unencoded(at));
        }
        let (scheme, rest) = text.split_once(':').ok_or(PurlError::Scheme)?;
        if !scheme.eq_ignore_ascii_case("pkg") {
            return Err(PurlError::Scheme);
        }
        let (rest, subpath) = match rest.rsplit_once('#') {
            Some((r, s)) => (r, Some(s)),
            None => (rest, None),
        };
        let subpath = match subpath {
            Some(s) => {
                let segments: Vec<String> = s
                    .split('/')
                    .filter(|seg| !seg.is_empty() && *seg != "." && *seg != "..")
                    .map(decode)
                    .collect::<Result<_, _>>()?;
                (!segments.is_empty()).then(|| segments.join("/"))
            }
            None => None,
        };
        let (rest, qualifiers) = match rest.rsplit_once('?') {
            Some((r, q)) => (r, parse_qualifiers(q)?),
            None => (rest, BTreeMap::new()),
        };
        let rest = rest.trim_matches('/');
        let (ty, rest) = rest.split_once('/').ok_or(PurlError::Type)?;
        let type_ok = ty
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'.' || b == b'+' || b == b'-')
            && ty
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-'));
        if !type_ok {
            return Err(PurlError::Type);
        }
        let rest = rest.trim_end_matches('/');
        let (rest, version) = match rest.rsplit_once('@') {
            Some((r, v)) => (r, Some(decode(v)?).filter(|v| !v.is_empty())),
            None => (rest, None),
        };
        let (namespace, name) = match rest.rsplit_once('/') {
            Some((ns, n)) => {
                let segments: Vec<String> = ns
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(decode)
                    .collect::<Result<_, _>>()?;
                ((!segments.is_empty()).then(|| segments.join("/")), n)
            }
            None => (None, rest),
        };
        let name = decode(name)?;
        if name.is_empty() {
            return Err(PurlError::Name);
        }
        Ok(Self {
            text: text.to_owned(),
            purl_type: ty.to_ascii_lowercase(),
            namespace,
            name,
            version,
            qualifiers,
            subpath,
        })
    }

    /// The text as it was given.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The package type, lower case (`cargo`, `npm`, `pypi`).
    pub fn purl_type(&self) -> &str {
        &self.purl_type
    }

    /// The namespace (decoded), if any.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// The name (decoded).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The version (decoded), if any.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// A qualifier's value (decoded), by key (lower case).
    pub fn qualifier(&self, key: &str) -> Option<&str> {
        self.qualifiers.get(key).map(String::as_str)
    }

    /// The subpath (decoded), if any.
    pub fn subpath(&self) -> Option<&str> {
        self.subpath.as_deref()
    }

    /// Whether both name the same package: type, namespace and name equal
    /// (type and, for types the specification lists as case-insensitive,
    /// names compared without case), and the versions equal when `self`
    /// has one.
    pub fn names_package(&self, other: &Purl) -> bool {
        let fold = matches!(
            self.purl_type.as_str(),
            "bitbucket" | "composer" | "github" | "golang" | "npm" | "pypi"
        );
        let eq = |a: &str, b: &str| {
            if fold {
                a.eq_ignore_ascii_case(b)
            } else {
                a == b
            }
        };
        self.purl_type == other.purl_type
            && match (&self.namespace, &other.namespace) {
                (Some(a), Some(b)) => eq(a, b),
                (None, None) => true,
                _ => false,
            }
            && eq(&self.name, &other.name)
            && self
                .version
                .as_ref()
                .is_none_or(|v| other.version.as_ref() == Some(v))
    }
}

fn parse_qualifiers(q: &str) -> Result<BTreeMap<String, String>, PurlError> {
    let mut out = BTreeMap::new();
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let bad = || PurlError::Qualifier(crate::digest::shorten(pair));
        let (key, value) = pair.split_once('=').ok_or_else(bad)?;
        let key_ok = key.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
        if !key_ok {
            return Err(bad());
        }
        let value = decode(value)?;
        if value.is_empty() {
            continue;
        }
        if out.insert(key.to_ascii_lowercase(), value).is_some() {
            return Err(bad());
        }
    }
    Ok(out)
}

/// Percent-decodes `s`; the result must be UTF-8.
fn decode(s: &str) -> Result<String, PurlError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(PurlError::Encoding)?;
            let hex = std::str::from_utf8(hex).map_err(|_| PurlError::Encoding)?;
            let v = u8::from_str_radix(hex, 16).map_err(|_| PurlError::Encoding)?;
            if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                return Err(PurlError::Encoding);
            }
            out.push(v);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| PurlError::Encoding)
}

impl fmt::Display for Purl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for Purl {
    type Err = PurlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for Purl {
    type Error = PurlError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl AsRef<str> for Purl {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_follow_the_spec() {
        let p =
            Purl::parse("pkg:maven/org.apache.commons/io@1.3.4?b=2&A=1#sub/./dir/../x").unwrap();
        assert_eq!(p.purl_type(), "maven");
        assert_eq!(p.namespace(), Some("org.apache.commons"));
        assert_eq!(p.name(), "io");
        assert_eq!(p.version(), Some("1.3.4"));
        assert_eq!(p.qualifier("a"), Some("1"));
        assert_eq!(p.subpath(), Some("sub/dir/x"));
        let g = Purl::parse("PKG:golang/google.golang.org/genproto#googleapis/api").unwrap();
        assert_eq!(g.namespace(), Some("google.golang.org"));
        assert_eq!(g.version(), None);
        let c = Purl::parse("pkg:cargo/a%20b@1.0.0%2Bbuild").unwrap();
        assert_eq!((c.name(), c.version()), ("a b", Some("1.0.0+build")));
        let d = Purl::parse("pkg:oci/img@sha256%3Aabc").unwrap();
        assert_eq!(d.version(), Some("sha256:abc"));
    }

    #[test]
    fn refusals_are_typed() {
        let err = |s: &str| Purl::parse(s).unwrap_err();
        assert_eq!(err("cargo/serde@1"), PurlError::Scheme);
        assert_eq!(err("http:cargo/serde"), PurlError::Scheme);
        assert_eq!(err("pkg:serde"), PurlError::Type);
        assert_eq!(err("pkg:1x/serde"), PurlError::Type);
        assert_eq!(err("pkg:cargo/@1.0"), PurlError::Name);
        assert_eq!(err("pkg:cargo/a b"), PurlError::Unencoded(11));
        assert_eq!(err("pkg:cargo/a%2"), PurlError::Encoding);
        assert_eq!(err("pkg:cargo/a%zz"), PurlError::Encoding);
        assert_eq!(err("pkg:cargo/a%ff"), PurlError::Encoding);
        assert!(matches!(
            err("pkg:cargo/a?x=1&x=2"),
            PurlError::Qualifier(_)
        ));
        assert!(matches!(
            err("pkg:cargo/a?novalue"),
            PurlError::Qualifier(_)
        ));
        assert_eq!(
            err(&format!("pkg:cargo/{}", "a".repeat(5000))),
            PurlError::TooLong
        );
    }

    #[test]
    fn same_package() {
        let p = |s: &str| Purl::parse(s).unwrap();
        assert!(p("pkg:npm/Foo").names_package(&p("pkg:npm/foo@1.0.0")));
        assert!(p("pkg:cargo/foo@1").names_package(&p("pkg:cargo/foo@1?x=y")));
        assert!(!p("pkg:cargo/foo@1").names_package(&p("pkg:cargo/foo@2")));
        assert!(!p("pkg:cargo/Foo").names_package(&p("pkg:cargo/foo")));
    }
}
