//! Who a keyless signer's certificate must name.

use crate::error::{BundleError, Error};

/// How one certificate field (the SAN identity, the OIDC issuer) must read.
#[derive(Debug, Clone)]
enum Matcher {
    Exact(String),
    /// cosign's `--certificate-identity-regexp` semantics: Go's
    /// `regexp.MatchString`, i.e. a match anywhere unless anchored.
    Regex(regex::Regex),
}

impl Matcher {
    fn regex(pattern: &str, what: &str) -> Result<Self, Error> {
        regex::RegexBuilder::new(pattern)
            .size_limit(1 << 20)
            .build()
            .map(Self::Regex)
            .map_err(|e| {
                BundleError::Invalid {
                    document: "identity policy",
                    path: what.to_owned(),
                    reason: format!("invalid regular expression: {e}"),
                }
                .into()
            })
    }

    fn matches(&self, value: &str) -> bool {
        match self {
            Self::Exact(s) => s == value,
            Self::Regex(r) => r.is_match(value),
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::Exact(s) => format!("`{}`", clip(s)),
            Self::Regex(r) => format!("/{}/", clip(r.as_str())),
        }
    }
}

/// How one certificate field must read: exactly, or matching a regular
/// expression (anywhere in the value unless anchored, as cosign's
/// `-regexp` flags).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateMatch {
    /// The whole value, exactly.
    Exact(String),
    /// A regular expression (Rust `regex` syntax, which for these values is
    /// Go's RE2 syntax).
    Regex(String),
}

/// Identities and issuers are shown whole up to 256 bytes (workflow URIs
/// with their ref are longer than `digest::shorten`'s 80).
pub(crate) fn clip(s: &str) -> String {
    crate::digest::shorten_to(s, 256)
}

/// A keyless signer's identity: a Fulcio certificate whose identity (SAN)
/// and OIDC issuer (extension 1.3.6.1.4.1.57264.1.8, or the legacy .1.1)
/// match, exactly or by pattern. Trusted as an [`super::Anchor`]; a
/// public-key bundle is verified with a key anchor instead.
///
/// ```
/// # #[cfg(feature = "sigstore")] {
/// use custodia::bundle::IdentityPolicy;
/// let exact = IdentityPolicy::keyless(
///     "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.0.0",
///     "https://token.actions.githubusercontent.com",
/// );
/// let pattern = IdentityPolicy::keyless_regex(
///     r"^https://github\.com/acme/app/\.github/workflows/release\.yml@refs/tags/v",
///     r"^https://token\.actions\.githubusercontent\.com$",
/// ).unwrap();
/// assert!(IdentityPolicy::keyless_regex("(", ".*").is_err());
/// # let _ = (exact, pattern);
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct IdentityPolicy {
    identity: Matcher,
    issuer: Matcher,
}

impl IdentityPolicy {
    /// A keyless signer with exactly this identity (the certificate's SAN:
    /// an email or URI) and this OIDC issuer.
    pub fn keyless(identity: impl Into<String>, issuer: impl Into<String>) -> Self {
        Self {
            identity: Matcher::Exact(identity.into()),
            issuer: Matcher::Exact(issuer.into()),
        }
    }

    /// A keyless signer whose identity and issuer match these regular
    /// expressions. As cosign's `--certificate-identity-regexp`, a pattern
    /// matches anywhere in the value unless anchored with `^...$`.
    pub fn keyless_regex(identity: &str, issuer: &str) -> Result<Self, Error> {
        Ok(Self {
            identity: Matcher::regex(identity, "certificate identity")?,
            issuer: Matcher::regex(issuer, "certificate OIDC issuer")?,
        })
    }

    /// A keyless signer whose identity and issuer each match exactly or by
    /// pattern (cosign lets `--certificate-identity` go with
    /// `--certificate-oidc-issuer-regexp`, and the reverse).
    ///
    /// ```
    /// # #[cfg(feature = "sigstore")] {
    /// use custodia::bundle::{CertificateMatch, IdentityPolicy};
    /// let policy = IdentityPolicy::keyless_matching(
    ///     CertificateMatch::Regex(r"^https://github\.com/acme/".into()),
    ///     CertificateMatch::Exact("https://token.actions.githubusercontent.com".into()),
    /// );
    /// assert!(policy.is_ok());
    /// # }
    /// ```
    pub fn keyless_matching(
        identity: CertificateMatch,
        issuer: CertificateMatch,
    ) -> Result<Self, Error> {
        let m = |c: CertificateMatch, what| match c {
            CertificateMatch::Exact(s) => Ok(Matcher::Exact(s)),
            CertificateMatch::Regex(re) => Matcher::regex(&re, what),
        };
        Ok(Self {
            identity: m(identity, "certificate identity")?,
            issuer: m(issuer, "certificate OIDC issuer")?,
        })
    }

    /// Whether a certificate naming `identity` (its SAN) and `issuer`
    /// matches.
    pub fn matches(&self, identity: &str, issuer: &str) -> bool {
        self.identity.matches(identity) && self.issuer.matches(issuer)
    }

    /// `(matches, expected)` for the certificate's identity.
    pub(crate) fn check_identity(&self, found: &str) -> (bool, String) {
        (self.identity.matches(found), self.identity.describe())
    }

    /// `(matches, expected)` for the certificate's issuer.
    pub(crate) fn check_issuer(&self, found: &str) -> (bool, String) {
        (self.issuer.matches(found), self.issuer.describe())
    }

    /// The identity and issuer it expects, for people.
    pub fn describe(&self) -> String {
        format!(
            "{} from {}",
            self.identity.describe(),
            self.issuer.describe()
        )
    }
}
