//! Keys that never leave hardware: signing through a PKCS#11 module.
//!
//! A key on an HSM, a smart card (OpenSC), a YubiKey/YubiHSM, a cloud KMS's
//! PKCS#11 library (Google's kmsp11, AWS CloudHSM) or SoftHSM2 is named by
//! an RFC 7512 [`Pkcs11Uri`], in the form cosign accepts:
//!
//! ```text
//! pkcs11:token=ci;object=builder?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=/run/secrets/pin
//! ```
//!
//! The URI parser is always built (so a key argument can be recognised and
//! refused with a typed error); the signer, `Pkcs11Signer`, and key
//! generation, `generate_key_pair`, need the `pkcs11` feature, which adds
//! the `cryptoki` crate. [`crate::keys::load_signer`] takes a key file path
//! or a `pkcs11:` URI, so every caller that signs accepts both.
//!
//! | key on the token | mechanism | signature custodia writes |
//! | --- | --- | --- |
//! | Ed25519 | `CKM_EDDSA` | 64 bytes, as RFC 8032 |
//! | ECDSA P-256 / P-384 | `CKM_ECDSA` over a SHA-256 / SHA-384 digest computed here (or `CKM_ECDSA_SHA256`/`_SHA384` when that is all the token has) | ASN.1 DER, from the token's `r‖s` |
//! | RSA | `CKM_SHA256_RSA_PKCS_PSS` (or `CKM_RSA_PKCS_PSS` over a local digest), salt 32; PKCS#1 v1.5 (`CKM_SHA256_RSA_PKCS` / `CKM_RSA_PKCS`) when asked or when the key's `CKA_ALLOWED_MECHANISMS` allow only that | the bytes the token returns |
//!
//! These are the encodings custodia's own [`crate::keys::PrivateKey`]
//! produces, so DSSE peers (securesystemslib, cosign) verify them alike.
//!
//! The module is process-wide state by the standard's design (`C_Initialize`
//! once per process), so a module is loaded once and kept; each token is
//! logged into once per process, and sessions are pooled and reused, so one
//! `Pkcs11Signer` can be shared by many threads. A PIN is never printed:
//! [`Pkcs11Uri`]'s `Display` and every error leave `pin-value` out.

mod uri;

#[cfg(feature = "pkcs11")]
mod signer;

use std::path::PathBuf;

pub use uri::{MAX_URI_BYTES, ObjectType, Pin, PinSource, Pkcs11Uri, UriProblem};

#[cfg(feature = "pkcs11")]
pub use signer::{KeyProtection, Pkcs11Signer, RsaPadding, generate_key_pair};

/// What went wrong with a PKCS#11 key. Each variant names the URI (as its
/// `Display` shows it: without the PIN).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Pkcs11Error {
    /// The `pkcs11:` URI is malformed.
    #[error("pkcs11 URI: {reason}")]
    InvalidUri {
        /// What was wrong.
        reason: UriProblem,
    },
    /// custodia was built without the `pkcs11` feature.
    #[error("{uri}: PKCS#11 keys need custodia's `pkcs11` feature")]
    FeatureDisabled {
        /// The URI.
        uri: String,
    },
    /// The URI has no `module-path`.
    #[error("{uri}: no `module-path` query attribute says which PKCS#11 module to load")]
    NoModule {
        /// The URI.
        uri: String,
    },
    /// The module could not be loaded or initialised as a PKCS#11 module.
    #[error("{uri}: cannot load {} as a PKCS#11 module: {reason}", module.display())]
    ModuleLoad {
        /// The URI.
        uri: String,
        /// The module path.
        module: PathBuf,
        /// The loader's description.
        reason: String,
    },
    /// The module's `library-*` attributes do not match the URI.
    #[error("{uri}: the module's {attribute} does not match")]
    LibraryMismatch {
        /// The URI.
        uri: String,
        /// `library-manufacturer`, `library-description` or `library-version`.
        attribute: &'static str,
    },
    /// The PIN file named by `pin-source` could not be read.
    #[error("{uri}: cannot read the PIN from {}: {reason}", path.display())]
    PinSource {
        /// The URI.
        uri: String,
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// No token matches the URI's token and slot attributes.
    #[error("{uri}: no token matches")]
    TokenNotFound {
        /// The URI.
        uri: String,
    },
    /// More than one token matches: the URI must say which.
    #[error("{uri}: {count} tokens match; name one with token= or slot-id=")]
    AmbiguousToken {
        /// The URI.
        uri: String,
        /// How many matched.
        count: usize,
    },
    /// The token refused the PIN.
    #[error("{uri}: the token refused the PIN (CKR_PIN_INCORRECT)")]
    PinIncorrect {
        /// The URI.
        uri: String,
    },
    /// The token's user PIN is locked.
    #[error("{uri}: the user PIN is locked (CKR_PIN_LOCKED)")]
    PinLocked {
        /// The URI.
        uri: String,
    },
    /// The token is already logged in by this process with another PIN;
    /// a second PIN cannot be checked without logging the first out.
    #[error("{uri}: the token is already logged in by this process with a different PIN")]
    PinConflict {
        /// The URI.
        uri: String,
    },
    /// A private key was used without logging in (the URI has no PIN).
    #[error("{uri}: not logged in: give a pin-value or pin-source")]
    NotLoggedIn {
        /// The URI.
        uri: String,
    },
    /// No object matches the URI.
    #[error("{uri}: no {class} matches{}", if *logged_in { "" } else { " (no PIN given: private objects are hidden before login)" })]
    ObjectNotFound {
        /// The URI.
        uri: String,
        /// `private key` or `public key`.
        class: &'static str,
        /// Whether the session was logged in.
        logged_in: bool,
    },
    /// More than one object matches: the URI must say which.
    #[error("{uri}: {count} {class}s match; name one with object= or id=")]
    AmbiguousObject {
        /// The URI.
        uri: String,
        /// `private key` or `public key`.
        class: &'static str,
        /// How many matched.
        count: usize,
    },
    /// The URI's `type` is not one this operation takes.
    #[error("{uri}: type={found}, but a {expected} key is needed")]
    WrongObjectType {
        /// The URI.
        uri: String,
        /// The `type` in the URI.
        found: &'static str,
        /// The type needed.
        expected: &'static str,
    },
    /// An object with the URI's label or id is already on the token.
    #[error(
        "{uri}: an object with this label or id is already on the token; not generating over it"
    )]
    KeyExists {
        /// The URI.
        uri: String,
    },
    /// Key generation needs an `object=` label.
    #[error("{uri}: key generation needs an object= label")]
    NoLabel {
        /// The URI.
        uri: String,
    },
    /// The key is not one custodia signs with (type, curve, size), or its
    /// public half could not be read.
    #[error("{uri}: unsupported key: {reason}")]
    UnsupportedKey {
        /// The URI.
        uri: String,
        /// What the key is.
        reason: String,
    },
    /// Neither the token nor the key's allowed mechanisms offer a mechanism
    /// custodia needs.
    #[error("{uri}: the token or key does not offer {mechanism}")]
    UnsupportedMechanism {
        /// The URI.
        uri: String,
        /// The mechanism(s) needed, e.g. `CKM_EDDSA`.
        mechanism: &'static str,
    },
    /// The private key's signature does not verify with the public key
    /// found for it (a mismatched pair, or a broken token).
    #[error(
        "{uri}: a test signature does not verify with the public key found for the private key"
    )]
    KeyMismatch {
        /// The URI.
        uri: String,
    },
    /// A PKCS#11 call failed.
    #[error("{uri}: {function} failed: {code}")]
    Call {
        /// The URI.
        uri: String,
        /// The function, e.g. `C_Sign`.
        function: &'static str,
        /// The module's return value, e.g. `CKR_DEVICE_ERROR`.
        code: String,
    },
}

/// Entry point for the `pkcs11_uri` fuzz target.
#[doc(hidden)]
pub fn fuzz_uri(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(uri) = Pkcs11Uri::parse(text) else {
        return;
    };
    let shown = uri.to_string();
    if let Some(PinSource::Value(pin)) = &uri.pin {
        assert!(
            pin.expose().is_empty()
                || !format!("{uri:?}").contains(&format!("pin-value={}", pin.expose())),
            "Debug shows the PIN"
        );
    }
    // Display leaves the PIN out; with it put back, the URI parses to the
    // same value. Writing percent-encodes what the input may have written
    // bare, so a URI near the limit can write longer than the limit: then
    // reading it back must refuse it for its length, and nothing else.
    let within = |text: &str| text.len() <= uri::MAX_URI_BYTES;
    let with_pin = uri.to_string_with_pin();
    let again = Pkcs11Uri::parse(&with_pin);
    if within(&with_pin) {
        assert_eq!(again.as_ref().ok(), Some(&uri), "round trip of {shown}");
    } else {
        assert!(
            matches!(
                again,
                Err(Pkcs11Error::InvalidUri {
                    reason: uri::UriProblem::TooLong
                })
            ),
            "a written URI over the limit is refused for its length"
        );
    }
    let redacted = Pkcs11Uri::parse(&shown);
    assert!(
        redacted.is_ok() || !within(&shown),
        "Display output parses: {shown}"
    );
}

/// Generates a key pair on the token `uri` names (see
/// `generate_key_pair`, feature `pkcs11`) and returns it as a
/// [`SigningKey`](crate::keys::SigningKey). Without the feature it parses the URI and returns
/// [`Pkcs11Error::FeatureDisabled`], so callers need no `cfg` of their own.
pub fn generate_on_token(
    uri: &str,
    algorithm: crate::keys::KeyAlgorithm,
) -> Result<crate::keys::SigningKey, crate::Error> {
    let uri = Pkcs11Uri::parse(uri)?;
    #[cfg(feature = "pkcs11")]
    return Ok(crate::keys::SigningKey::Pkcs11(generate_key_pair(
        &uri, algorithm,
    )?));
    #[cfg(not(feature = "pkcs11"))]
    {
        let _ = algorithm;
        Err(Pkcs11Error::FeatureDisabled {
            uri: uri.to_string(),
        }
        .into())
    }
}
