//! Trust anchors: who may sign, and in which roles.
//!
//! One type, [`TrustAnchors`], says whom every verification in custodia
//! trusts: a DSSE envelope ([`crate::verify::verify_attestation`],
//! [`crate::provenance::verify_provenance`]), a Sigstore bundle
//! (`crate::bundle`), an attestation attached to an OCI image
//! (`crate::oci::verify_attached`) and a policy's gate
//! ([`crate::policy::Policy::trust_anchors`]). Each [`Anchor`] is an
//! identity (a person, a CI system), its roles (`builder`, `approver`, ...),
//! and either a public key or, with the `sigstore` feature, a keyless
//! identity: the certificate identity (SAN) and OIDC issuer a Fulcio
//! certificate must name. Keyless anchors verify against the Sigstore
//! trusted root the set carries ([`TrustAnchors::with_sigstore_root`]).
//!
//! Verification looks anchors up by what it proved, never by a hint: a
//! DSSE signature by the canonical key id of the key it verified under
//! ([`TrustAnchors::by_key`]), a bundle by the identity and issuer in its
//! verified certificate (`TrustAnchors::by_certificate`); a gate first
//! narrows the set to one role ([`TrustAnchors::with_role`]). Results say
//! which anchors signed ([`crate::verify::VerifiedAttestation::signed_by`]).
//!
//! Simple callers stay simple: public keys collect into anchors named by
//! their key ids, with no roles.
//!
//! ```
//! use custodia::keys::{KeyAlgorithm, PrivateKey};
//! use custodia::trust::{Anchor, TrustAnchors};
//!
//! let ci = PrivateKey::generate(KeyAlgorithm::Ed25519)?;
//! let alice = PrivateKey::generate(KeyAlgorithm::EcdsaP256)?;
//!
//! // Plain keys: each anchor is named by its key id.
//! let plain: TrustAnchors = [ci.public_key().clone()].into_iter().collect();
//! assert_eq!(plain.by_key(ci.key_id()).unwrap().identity(), ci.key_id().as_str());
//!
//! // With identities and roles, as a policy lists them.
//! let mut anchors = TrustAnchors::new();
//! anchors.push(Anchor::key("ci", ci.public_key().clone()).with_roles(["builder"]))?;
//! anchors.push(Anchor::key("alice", alice.public_key().clone()).with_roles(["approver"]))?;
//! assert_eq!(anchors.by_key(alice.key_id()).unwrap().identity(), "alice");
//! let builders = anchors.with_role("builder");
//! assert_eq!(builders.len(), 1);
//! assert!(builders.by_key(alice.key_id()).is_none());
//!
//! // One key, one anchor: the same key under a second identity is refused.
//! assert!(anchors.push(Anchor::key("mallory", ci.public_key().clone())).is_err());
//! # Ok::<(), custodia::Error>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;

use crate::dsse::SignatureVerification;
use crate::error::{Error, KeyError};
use crate::keys::{KeyId, KeySet, PublicKey};

#[cfg(feature = "sigstore")]
mod keyless;
#[cfg(feature = "sigstore")]
mod sigstore_root;

#[cfg(feature = "sigstore")]
pub(crate) use keyless::clip;
#[cfg(feature = "sigstore")]
pub use keyless::{CertificateMatch, IdentityPolicy};
#[cfg(feature = "sigstore")]
pub use sigstore_root::{CLIENT_TRUST_CONFIG_V0_1, MAX_TRUSTED_ROOT_BYTES, TrustedRoot};

/// What an anchor trusts: a public key, or a keyless identity.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AnchorKind {
    /// Signatures that verify under this key.
    Key(PublicKey),
    /// Sigstore bundles whose Fulcio certificate names this identity and
    /// issuer (verified against the set's trusted root).
    #[cfg(feature = "sigstore")]
    Keyless(IdentityPolicy),
}

/// One trusted signer: an identity, its roles, and its key or keyless
/// identity.
///
/// ```
/// use custodia::keys::{KeyAlgorithm, PrivateKey};
/// use custodia::trust::Anchor;
/// let key = PrivateKey::generate(KeyAlgorithm::Ed25519)?;
/// let anchor = Anchor::key("ci", key.public_key().clone()).with_roles(["builder", "tester"]);
/// assert!(anchor.has_role("tester"));
/// assert_eq!(anchor.key_id(), Some(key.key_id()));
/// assert_eq!(anchor.to_string(), "ci (builder, tester)");
/// # Ok::<(), custodia::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Anchor {
    identity: String,
    roles: Vec<String>,
    kind: AnchorKind,
}

impl Anchor {
    /// `identity` signs with `key`; no roles yet.
    pub fn key(identity: impl Into<String>, key: PublicKey) -> Self {
        Self {
            identity: identity.into(),
            roles: Vec::new(),
            kind: AnchorKind::Key(key),
        }
    }

    /// `identity` signs keyless, with a Fulcio certificate `certificate`
    /// matches; no roles yet.
    #[cfg(feature = "sigstore")]
    pub fn keyless(identity: impl Into<String>, certificate: IdentityPolicy) -> Self {
        Self {
            identity: identity.into(),
            roles: Vec::new(),
            kind: AnchorKind::Keyless(certificate),
        }
    }

    /// The same anchor with these roles (added to any it has).
    pub fn with_roles<R: Into<String>>(mut self, roles: impl IntoIterator<Item = R>) -> Self {
        for role in roles {
            let role = role.into();
            if !self.roles.contains(&role) {
                self.roles.push(role);
            }
        }
        self
    }

    /// Who signs (a person, a CI system). Separation of duties compares
    /// identities, so one identity's two keys count once.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// The roles, in the order given.
    pub fn roles(&self) -> &[String] {
        &self.roles
    }

    /// Whether the anchor has `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// Its key or keyless identity.
    pub fn kind(&self) -> &AnchorKind {
        &self.kind
    }

    /// The public key, for a key anchor.
    pub fn public_key(&self) -> Option<&PublicKey> {
        match &self.kind {
            AnchorKind::Key(k) => Some(k),
            #[cfg(feature = "sigstore")]
            AnchorKind::Keyless(_) => None,
        }
    }

    /// The canonical key id, for a key anchor.
    pub fn key_id(&self) -> Option<&KeyId> {
        self.public_key().map(PublicKey::key_id)
    }

    /// The certificate identity and issuer, for a keyless anchor.
    #[cfg(feature = "sigstore")]
    pub fn certificate(&self) -> Option<&IdentityPolicy> {
        match &self.kind {
            AnchorKind::Keyless(c) => Some(c),
            AnchorKind::Key(_) => None,
        }
    }
}

impl From<PublicKey> for Anchor {
    /// An anchor named by the key's id, with no roles.
    fn from(key: PublicKey) -> Self {
        let identity = key.key_id().to_string();
        Self::key(identity, key)
    }
}

#[cfg(feature = "sigstore")]
impl From<IdentityPolicy> for Anchor {
    /// A keyless anchor named by the identity and issuer it expects, with
    /// no roles.
    fn from(certificate: IdentityPolicy) -> Self {
        Self::keyless(certificate.describe(), certificate)
    }
}

impl fmt::Display for Anchor {
    /// `identity (role, role)`, or the identity alone without roles.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.identity)?;
        if !self.roles.is_empty() {
            write!(f, " ({})", self.roles.join(", "))?;
        }
        Ok(())
    }
}

/// The anchors a verification trusts, indexed by key id and role, with the
/// Sigstore trusted root keyless anchors verify against (see the
/// [module docs](self)).
#[derive(Debug, Clone, Default)]
pub struct TrustAnchors {
    anchors: Vec<Anchor>,
    keys: KeySet,
    by_key: BTreeMap<KeyId, usize>,
    keys_by_role: BTreeMap<String, KeySet>,
    empty: KeySet,
    #[cfg(feature = "sigstore")]
    sigstore_root: Option<TrustedRoot>,
}

impl TrustAnchors {
    /// No anchors: nothing verifies.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an anchor. A key that another anchor already holds is refused
    /// with [`KeyError::TrustedTwice`]: one key, one identity.
    pub fn push(&mut self, anchor: Anchor) -> Result<(), Error> {
        if let Some(key) = anchor.public_key() {
            if let Some(other) = self.by_key(key.key_id()) {
                return Err(KeyError::TrustedTwice {
                    key_id: key.key_id().to_string(),
                    held_by: other.identity().to_owned(),
                    asked_by: anchor.identity.clone(),
                }
                .into());
            }
            self.keys.insert(key.clone());
            self.by_key.insert(key.key_id().clone(), self.anchors.len());
            for role in &anchor.roles {
                self.keys_by_role
                    .entry(role.clone())
                    .or_default()
                    .insert(key.clone());
            }
        }
        self.anchors.push(anchor);
        Ok(())
    }

    /// The Sigstore trusted root keyless anchors (and public-key bundles'
    /// transparency log entries) verify against.
    #[cfg(feature = "sigstore")]
    pub fn with_sigstore_root(mut self, root: TrustedRoot) -> Self {
        self.sigstore_root = Some(root);
        self
    }

    /// One keyless signer, named by the identity and issuer it expects,
    /// verified against `root`: what cosign's `--certificate-identity` and
    /// `--certificate-oidc-issuer` say.
    ///
    /// ```no_run
    /// use custodia::bundle::{IdentityPolicy, TrustedRoot};
    /// use custodia::trust::TrustAnchors;
    /// let root = TrustedRoot::from_json(&std::fs::read("trusted_root.json")?)?;
    /// let anchors = TrustAnchors::keyless(root, IdentityPolicy::keyless(
    ///     "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.0.0",
    ///     "https://token.actions.githubusercontent.com",
    /// ));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "sigstore")]
    pub fn keyless(root: TrustedRoot, certificate: IdentityPolicy) -> Self {
        let mut anchors = Self::new().with_sigstore_root(root);
        anchors.anchors.push(Anchor::from(certificate));
        anchors
    }

    /// The Sigstore trusted root, if the set has one.
    #[cfg(feature = "sigstore")]
    pub fn sigstore_root(&self) -> Option<&TrustedRoot> {
        self.sigstore_root.as_ref()
    }

    /// The anchors, in the order added.
    pub fn iter(&self) -> std::slice::Iter<'_, Anchor> {
        self.anchors.iter()
    }

    /// How many anchors.
    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// Every key anchor's key, for [`crate::dsse::Envelope::verify`].
    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    /// The keys of anchors with `role` (empty if none).
    pub fn keys_with_role(&self, role: &str) -> &KeySet {
        self.keys_by_role.get(role).unwrap_or(&self.empty)
    }

    /// The anchor holding the key with this canonical id.
    pub fn by_key(&self, id: &KeyId) -> Option<&Anchor> {
        self.by_key.get(id).and_then(|&i| self.anchors.get(i))
    }

    /// The keyless anchors a certificate naming `identity` (its SAN) and
    /// `issuer` matches, in the order added.
    #[cfg(feature = "sigstore")]
    pub fn by_certificate<'a>(
        &'a self,
        identity: &'a str,
        issuer: &'a str,
    ) -> impl Iterator<Item = &'a Anchor> + 'a {
        self.keyless_anchors()
            .filter(move |(_, c)| c.matches(identity, issuer))
            .map(|(a, _)| a)
    }

    /// The keyless anchors with their certificate identities.
    #[cfg(feature = "sigstore")]
    pub(crate) fn keyless_anchors(&self) -> impl Iterator<Item = (&Anchor, &IdentityPolicy)> {
        self.anchors
            .iter()
            .filter_map(|a| a.certificate().map(|c| (a, c)))
    }

    /// The anchors with `role` (and the same trusted root).
    pub fn with_role(&self, role: &str) -> Self {
        let mut out = Self::new();
        for anchor in self.anchors.iter().filter(|a| a.has_role(role)) {
            // Keys are unique here already.
            let _ = out.push(anchor.clone());
        }
        #[cfg(feature = "sigstore")]
        {
            out.sigstore_root = self.sigstore_root.clone();
        }
        out
    }

    /// How many anchors have `role`.
    pub fn count_with_role(&self, role: &str) -> usize {
        self.anchors.iter().filter(|a| a.has_role(role)).count()
    }

    /// The anchors whose keys verified signatures in `verification`
    /// (each once, in signature order; a key that signed twice too).
    pub(crate) fn signers(&self, verification: &SignatureVerification) -> Vec<Anchor> {
        let mut out: Vec<Anchor> = Vec::new();
        for id in verification
            .accepted_keys()
            .into_iter()
            .chain(verification.duplicates())
        {
            if let Some(anchor) = self.by_key(id) {
                if !out.iter().any(|a| a.key_id() == Some(id)) {
                    out.push(anchor.clone());
                }
            }
        }
        out
    }
}

impl FromIterator<PublicKey> for TrustAnchors {
    /// Each key an anchor named by its key id, with no roles; a key given
    /// twice (in any encoding) is one anchor.
    fn from_iter<I: IntoIterator<Item = PublicKey>>(iter: I) -> Self {
        let mut anchors = Self::new();
        for key in iter {
            if anchors.by_key(key.key_id()).is_none() {
                let _ = anchors.push(Anchor::from(key));
            }
        }
        anchors
    }
}

impl From<PublicKey> for TrustAnchors {
    /// One key, named by its id.
    fn from(key: PublicKey) -> Self {
        std::iter::once(key).collect()
    }
}

impl<'a> IntoIterator for &'a TrustAnchors {
    type Item = &'a Anchor;
    type IntoIter = std::slice::Iter<'a, Anchor>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsse::Envelope;
    use crate::keys::{KeyAlgorithm, PrivateKey};

    fn key() -> PrivateKey {
        PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap()
    }

    #[test]
    fn a_key_trusted_under_two_identities_is_refused() {
        let k = key();
        let mut anchors = TrustAnchors::new();
        anchors
            .push(Anchor::key("ci", k.public_key().clone()))
            .unwrap();
        let err = anchors
            .push(Anchor::key("mallory", k.public_key().clone()).with_roles(["approver"]))
            .unwrap_err();
        assert!(matches!(
            err,
            Error::Key(KeyError::TrustedTwice { ref held_by, ref asked_by, .. }) if held_by == "ci" && asked_by == "mallory"
        ));
        assert!(anchors.keys_with_role("approver").is_empty());
        assert_eq!(anchors.len(), 1);
    }

    #[test]
    fn roles_filter_keys_and_anchors() {
        let (a, b) = (key(), key());
        let mut anchors = TrustAnchors::new();
        anchors
            .push(Anchor::key("a", a.public_key().clone()).with_roles(["builder", "tester"]))
            .unwrap();
        anchors
            .push(Anchor::key("b", b.public_key().clone()).with_roles(["tester"]))
            .unwrap();
        assert_eq!(anchors.keys_with_role("tester").len(), 2);
        assert_eq!(anchors.keys_with_role("builder").len(), 1);
        assert!(anchors.keys_with_role("approver").is_empty());
        assert_eq!(anchors.count_with_role("tester"), 2);
        let builders = anchors.with_role("builder");
        assert_eq!(builders.len(), 1);
        assert_eq!(builders.by_key(a.key_id()).unwrap().identity(), "a");
        assert!(builders.by_key(b.key_id()).is_none());
        assert!(anchors.with_role("nobody").is_empty());
    }

    #[test]
    fn signers_are_found_by_the_key_that_verified_not_the_hint() {
        let (a, b) = (key(), key());
        let mut anchors = TrustAnchors::new();
        anchors
            .push(Anchor::key("a", a.public_key().clone()))
            .unwrap();
        anchors
            .push(Anchor::key("b", b.public_key().clone()))
            .unwrap();
        let mut env = Envelope::sign("text/plain", b"x".to_vec(), &a).unwrap();
        let json = String::from_utf8(env.to_json().unwrap())
            .unwrap()
            .replace(a.key_id().as_str(), b.key_id().as_str());
        env = Envelope::from_json(json.as_bytes()).unwrap();
        let verification = env.verify(anchors.keys(), 1).unwrap();
        let signers = anchors.signers(&verification);
        assert_eq!(
            signers.iter().map(Anchor::identity).collect::<Vec<_>>(),
            ["a"]
        );
    }

    #[test]
    fn collected_keys_are_anchors_named_by_key_id_once() {
        let k = key();
        let anchors: TrustAnchors = [k.public_key().clone(), k.public_key().clone()]
            .into_iter()
            .collect();
        assert_eq!(anchors.len(), 1);
        assert_eq!(anchors.keys().len(), 1);
        let anchor = anchors.by_key(k.key_id()).unwrap();
        assert_eq!(anchor.identity(), k.key_id().as_str());
        assert!(anchor.roles().is_empty());
        assert_eq!(anchor.to_string(), k.key_id().as_str());
    }

    #[cfg(feature = "sigstore")]
    #[test]
    fn certificates_find_keyless_anchors_by_identity_and_issuer() {
        const ISSUER: &str = "https://token.actions.githubusercontent.com";
        let mut anchors = TrustAnchors::new();
        anchors
            .push(
                Anchor::keyless(
                    "release",
                    IdentityPolicy::keyless("https://x/release", ISSUER),
                )
                .with_roles(["builder"]),
            )
            .unwrap();
        anchors
            .push(Anchor::keyless(
                "any-x",
                IdentityPolicy::keyless_regex("^https://x/", "^https://token\\.").unwrap(),
            ))
            .unwrap();
        let found = |id: &str, issuer: &str| {
            anchors
                .by_certificate(id, issuer)
                .map(|a| a.identity().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(found("https://x/release", ISSUER), ["release", "any-x"]);
        assert_eq!(found("https://x/other", ISSUER), ["any-x"]);
        assert!(found("https://x/release", "https://accounts.google.com").is_empty());
        assert!(anchors.keys().is_empty());
        assert_eq!(anchors.with_role("builder").len(), 1);
    }
}
