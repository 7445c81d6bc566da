//! Public and private keys, on ring.
//!
//! | algorithm | verify | sign |
//! | --- | --- | --- |
//! | Ed25519 | yes | yes |
//! | ECDSA P-256 + SHA-256 | DER or fixed-width `r‖s`, low or high S | DER, low S |
//! | ECDSA P-384 + SHA-384 | DER or fixed-width `r‖s`, low or high S | DER, low S |
//! | RSA 2048-8192 | RSASSA-PSS (any salt length) and PKCS#1 v1.5, SHA-256 | PSS, SHA-256, salt 32 |
//!
//! Public keys are read and written as PEM `PUBLIC KEY` (SubjectPublicKeyInfo),
//! private keys as PEM `PRIVATE KEY` (PKCS#8 v1 or v2).
//!
//! **One key, one id.** A key's id is the lowercase hex SHA-256 of its
//! *canonical* SubjectPublicKeyInfo DER ([`KeyId`]): RSA parameters NULL
//! (absent is read the same), EC points uncompressed (compressed points are
//! read too), integers minimal. Two encodings of one key get one id, so a
//! [`KeySet`], a threshold and a policy count it once. Weak keys (Ed25519
//! small-order points, EC points off the curve, small or even RSA moduli,
//! bad RSA exponents) are refused when read, with a
//! [`crate::error::WeakKey`] reason.
//!
//! **ECDSA malleability.** `(r, s)` and `(r, n−s)` are both valid
//! signatures of one message. custodia *normalises*: its signers emit only
//! low-S signatures, and its verifiers accept either form, because Go,
//! OpenSSL, Python `cryptography` and cosign emit high-S signatures half of
//! the time. A malleated copy of a signature gains nothing: signatures
//! count per canonical key, and a second signature by a key that already
//! counted fails verification ([`crate::dsse`]).
//!
//! **RSA-PSS salt.** RFC 8017 lets the signer pick the salt length; Go's
//! `rsa.SignPSS` uses the longest salt by default, Python `cryptography`
//! asks for one. custodia verifies any salt length (read from the encoded
//! message, as Go's `PSSSaltLengthAuto` does) and signs with 32 bytes.
//!
//! [`Signer`] and [`Verifier`] are traits, so a key held in a KMS or HSM can
//! sign envelopes and take part in verification like a local key.

use std::fmt;
use std::sync::Arc;

use der::asn1::{AnyRef, BitStringRef, ObjectIdentifier};
use der::{Decode, Encode};
use ring::rand::SystemRandom;
use ring::signature::{self, KeyPair as _};
use zeroize::Zeroizing;

use crate::digest::DigestAlgorithm;
use crate::error::{Error, KeyError, WeakKey};

mod canonical;
#[cfg(feature = "pkcs11")]
pub(crate) use canonical::RsaPublicKeyDer;

const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// A key algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyAlgorithm {
    /// Ed25519 (RFC 8032).
    Ed25519,
    /// ECDSA on NIST P-256 with SHA-256.
    EcdsaP256,
    /// ECDSA on NIST P-384 with SHA-384.
    EcdsaP384,
    /// RSA, 2048 to 8192 bits, SHA-256.
    Rsa,
}

impl KeyAlgorithm {
    /// Short name: `ed25519`, `ecdsa-p256`, `ecdsa-p384`, `rsa`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Ed25519 => "ed25519",
            Self::EcdsaP256 => "ecdsa-p256",
            Self::EcdsaP384 => "ecdsa-p384",
            Self::Rsa => "rsa",
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A key id: lowercase hex SHA-256 of the canonical SubjectPublicKeyInfo
/// DER (see the [module docs](self)).
///
/// Cloning shares the text (verification reports name the key of every
/// signature they check).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(std::sync::Arc<str>);

impl serde::Serialize for KeyId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl KeyId {
    /// The SHA-256 of exactly these SubjectPublicKeyInfo bytes. For a
    /// key's id use [`PublicKey::key_id`], which hashes the canonical
    /// encoding whatever encoding the key was read from.
    pub fn of_spki_der(spki_der: &[u8]) -> Self {
        Self(DigestAlgorithm::Sha256.hash(spki_der).hex().into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 16 hex digits, for people.
    pub fn short(&self) -> &str {
        self.0.get(..16).unwrap_or(&self.0)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.0)
    }
}

/// Why a signature was not accepted by a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Rejected(pub String);

/// Something that checks signatures for one key.
///
/// [`PublicKey`] implements it; implement it for keys that live elsewhere.
pub trait Verifier: Send + Sync {
    /// The key's id.
    fn key_id(&self) -> &KeyId;
    /// The key's algorithm name, for reports.
    fn algorithm_name(&self) -> &str;
    /// Checks `signature` over `message`. On success, returns the signature
    /// scheme that matched (e.g. `rsassa-pss-sha256`).
    fn verify(&self, message: &[u8], signature: &[u8]) -> Result<&'static str, Rejected>;
}

/// Something that signs with one key: a [`PrivateKey`], or an HSM/KMS.
pub trait Signer: Send + Sync {
    /// The signing key's public half.
    fn public_key(&self) -> &PublicKey;
    /// The id of the signing key's public half.
    fn key_id(&self) -> &KeyId {
        self.public_key().key_id()
    }
    /// Signs `message`.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error>;
}

/// A public key.
///
/// ```
/// use custodia::keys::{PrivateKey, PublicKey, KeyAlgorithm, Verifier as _, Signer as _};
/// let private = PrivateKey::generate(KeyAlgorithm::EcdsaP256)?;
/// let public = PublicKey::from_pem(&private.public_key().to_pem())?;
/// assert_eq!(public.key_id(), private.key_id());
/// let sig = private.sign(b"message")?;
/// assert_eq!(public.verify(b"message", &sig), Ok("ecdsa-p256-sha256-der"));
/// assert!(public.verify(b"other", &sig).is_err());
/// # Ok::<(), custodia::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    algorithm: KeyAlgorithm,
    spki_der: Vec<u8>,
    /// The key in the form ring takes: raw Ed25519 key, uncompressed EC
    /// point, or PKCS#1 RSAPublicKey DER.
    raw: Vec<u8>,
    id: KeyId,
}

impl PublicKey {
    /// Reads a PEM `PUBLIC KEY` (SubjectPublicKeyInfo).
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        let (label, der) = pem_rfc7468::decode_vec(pem.trim().as_bytes())
            .map_err(|e| KeyError::Pem(e.to_string()))?;
        if label != "PUBLIC KEY" {
            return Err(KeyError::Pem(format!(
                "expected a `PUBLIC KEY` (SubjectPublicKeyInfo) block, found `{}`",
                crate::digest::shorten(label)
            ))
            .into());
        }
        Self::from_spki_der(&der)
    }

    /// Reads a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, Error> {
        let spki = spki::SubjectPublicKeyInfoRef::from_der(der).map_err(|e| KeyError::Der {
            what: "SubjectPublicKeyInfo",
            reason: e.to_string(),
        })?;
        let raw = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| KeyError::Der {
                what: "SubjectPublicKeyInfo",
                reason: "public key bit string has unused bits".to_owned(),
            })?;
        let algorithm = identify(spki.algorithm.oid, spki.algorithm.parameters)?;
        let raw = canonical_public_key(algorithm, raw)?;
        let spki_der = encode_spki(algorithm, &raw)?;
        Ok(Self {
            algorithm,
            id: KeyId::of_spki_der(&spki_der),
            spki_der,
            raw,
        })
    }

    pub(crate) fn from_raw(algorithm: KeyAlgorithm, raw: &[u8]) -> Result<Self, Error> {
        let spki_der = encode_spki(algorithm, raw)?;
        Self::from_spki_der(&spki_der)
    }

    /// The algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// The key id.
    pub fn key_id(&self) -> &KeyId {
        &self.id
    }

    /// The canonical SubjectPublicKeyInfo DER (the bytes the key id hashes).
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// PEM `PUBLIC KEY`.
    pub fn to_pem(&self) -> String {
        // Encoding into a growable buffer cannot fail for a valid label.
        pem_rfc7468::encode_string("PUBLIC KEY", pem_rfc7468::LineEnding::LF, &self.spki_der)
            .unwrap_or_default()
    }

    /// Wraps the key for a [`KeySet`].
    pub fn into_verifier(self) -> Arc<dyn Verifier> {
        Arc::new(self)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({} {})", self.algorithm, self.id)
    }
}

impl Verifier for PublicKey {
    fn key_id(&self) -> &KeyId {
        &self.id
    }

    fn algorithm_name(&self) -> &str {
        self.algorithm.name()
    }

    fn verify(&self, message: &[u8], sig: &[u8]) -> Result<&'static str, Rejected> {
        let schemes: &[(&'static str, &'static dyn signature::VerificationAlgorithm)] =
            match self.algorithm {
                KeyAlgorithm::Ed25519 => &[("ed25519", &signature::ED25519)],
                KeyAlgorithm::EcdsaP256 => &[
                    ("ecdsa-p256-sha256-der", &signature::ECDSA_P256_SHA256_ASN1),
                    (
                        "ecdsa-p256-sha256-fixed",
                        &signature::ECDSA_P256_SHA256_FIXED,
                    ),
                ],
                KeyAlgorithm::EcdsaP384 => &[
                    ("ecdsa-p384-sha384-der", &signature::ECDSA_P384_SHA384_ASN1),
                    (
                        "ecdsa-p384-sha384-fixed",
                        &signature::ECDSA_P384_SHA384_FIXED,
                    ),
                ],
                KeyAlgorithm::Rsa => &[
                    ("rsassa-pss-sha256", &signature::RSA_PSS_2048_8192_SHA256),
                    (
                        "rsa-pkcs1v15-sha256",
                        &signature::RSA_PKCS1_2048_8192_SHA256,
                    ),
                ],
            };
        for (name, algorithm) in schemes {
            if signature::UnparsedPublicKey::new(*algorithm, &self.raw)
                .verify(message, sig)
                .is_ok()
            {
                return Ok(name);
            }
        }
        // ring's PSS takes a salt as long as the hash only.
        if self.algorithm == KeyAlgorithm::Rsa
            && canonical::verify_pss_sha256_any_salt(&self.raw, message, sig)
        {
            return Ok("rsassa-pss-sha256");
        }
        Err(Rejected(format!(
            "signature does not verify with {} key {}",
            self.algorithm,
            self.id.short()
        )))
    }
}

/// A private key that signs with ring.
///
/// Its `Debug` output shows the algorithm and key id, never key material;
/// the PKCS#8 bytes are zeroed when it is dropped.
///
/// ```
/// use custodia::keys::{PrivateKey, KeyAlgorithm};
/// let key = PrivateKey::generate(KeyAlgorithm::Ed25519)?;
/// let pem = key.to_pem();
/// let again = PrivateKey::from_pem(&pem)?;
/// assert_eq!(again.key_id(), key.key_id());
/// assert!(!format!("{key:?}").contains(&pem[40..80]));
/// # Ok::<(), custodia::Error>(())
/// ```
pub struct PrivateKey {
    pair: KeyPair,
    pkcs8: Zeroizing<Vec<u8>>,
    public: PublicKey,
    rng: SystemRandom,
}

enum KeyPair {
    Ed25519(signature::Ed25519KeyPair),
    Ecdsa(signature::EcdsaKeyPair),
    Rsa(signature::RsaKeyPair),
}

impl PrivateKey {
    /// Generates a new key. RSA keys are 3072 bits and need the
    /// `rsa-keygen` feature (ring cannot generate RSA keys).
    pub fn generate(algorithm: KeyAlgorithm) -> Result<Self, Error> {
        let rng = SystemRandom::new();
        let gen_err = |_| KeyError::Generation(format!("{algorithm}: random source failed"));
        let pkcs8 = match algorithm {
            KeyAlgorithm::Ed25519 => signature::Ed25519KeyPair::generate_pkcs8(&rng)
                .map_err(gen_err)?
                .as_ref()
                .to_vec(),
            KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384 => {
                signature::EcdsaKeyPair::generate_pkcs8(ecdsa_signing(algorithm), &rng)
                    .map_err(gen_err)?
                    .as_ref()
                    .to_vec()
            }
            KeyAlgorithm::Rsa => generate_rsa_pkcs8()?,
        };
        Self::from_pkcs8_der(&pkcs8)
    }

    /// Reads a PEM `PRIVATE KEY` (PKCS#8). Encrypted keys are not supported.
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        let (label, der) = pem_rfc7468::decode_vec(pem.trim().as_bytes())
            .map_err(|e| KeyError::Pem(e.to_string()))?;
        let der = Zeroizing::new(der);
        if label != "PRIVATE KEY" {
            return Err(KeyError::Pem(format!(
                "expected a `PRIVATE KEY` (PKCS#8) block, found `{}`",
                crate::digest::shorten(label)
            ))
            .into());
        }
        Self::from_pkcs8_der(&der)
    }

    /// Reads a DER PKCS#8 private key (v1 or v2).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, Error> {
        let info = pkcs8::PrivateKeyInfo::from_der(der).map_err(|e| KeyError::Der {
            what: "PKCS#8 private key",
            reason: e.to_string(),
        })?;
        let algorithm = identify(info.algorithm.oid, info.algorithm.parameters)?;
        let rejected = |e: ring::error::KeyRejected| KeyError::Rejected {
            algorithm: algorithm.name(),
            reason: e.to_string(),
        };
        let rng = SystemRandom::new();
        let pair = match algorithm {
            KeyAlgorithm::Ed25519 => KeyPair::Ed25519(
                signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(rejected)?,
            ),
            KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384 => KeyPair::Ecdsa(
                signature::EcdsaKeyPair::from_pkcs8(ecdsa_signing(algorithm), der, &rng)
                    .map_err(rejected)?,
            ),
            KeyAlgorithm::Rsa => {
                KeyPair::Rsa(signature::RsaKeyPair::from_pkcs8(der).map_err(rejected)?)
            }
        };
        let raw = match &pair {
            KeyPair::Ed25519(k) => k.public_key().as_ref().to_vec(),
            KeyPair::Ecdsa(k) => k.public_key().as_ref().to_vec(),
            KeyPair::Rsa(k) => k.public_key().as_ref().to_vec(),
        };
        let public = PublicKey::from_raw(algorithm, &raw)?;
        Ok(Self {
            pair,
            pkcs8: Zeroizing::new(der.to_vec()),
            public,
            rng,
        })
    }

    /// PEM `PRIVATE KEY` (PKCS#8), zeroed on drop.
    pub fn to_pem(&self) -> Zeroizing<String> {
        Zeroizing::new(
            pem_rfc7468::encode_string("PRIVATE KEY", pem_rfc7468::LineEnding::LF, &self.pkcs8)
                .unwrap_or_default(),
        )
    }

    /// The public half.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The key id of the public half.
    pub fn key_id(&self) -> &KeyId {
        &self.public.id
    }

    /// The algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.public.algorithm
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PrivateKey({} {}, material redacted)",
            self.public.algorithm, self.public.id
        )
    }
}

impl Signer for PrivateKey {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let failed = |_| KeyError::SigningFailed(self.public.algorithm.name());
        match &self.pair {
            KeyPair::Ed25519(k) => Ok(k.sign(message).as_ref().to_vec()),
            KeyPair::Ecdsa(k) => {
                let sig = k.sign(&self.rng, message).map_err(failed)?;
                let curve = if self.public.algorithm == KeyAlgorithm::EcdsaP384 {
                    &canonical::P384
                } else {
                    &canonical::P256
                };
                canonical::ecdsa_low_s(curve, sig.as_ref())
                    .map_err(|_| KeyError::SigningFailed(self.public.algorithm.name()).into())
            }
            KeyPair::Rsa(k) => {
                let mut sig = vec![0u8; k.public().modulus_len()];
                k.sign(&signature::RSA_PSS_SHA256, &self.rng, message, &mut sig)
                    .map_err(failed)?;
                Ok(sig)
            }
        }
    }
}

/// A set of trusted verifiers, unique by key id.
///
/// ```
/// use custodia::keys::{KeySet, PrivateKey, KeyAlgorithm};
/// let a = PrivateKey::generate(KeyAlgorithm::Ed25519)?;
/// let mut keys = KeySet::new();
/// keys.insert(a.public_key().clone());
/// keys.insert(a.public_key().clone());
/// assert_eq!(keys.len(), 1);
/// # Ok::<(), custodia::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct KeySet {
    verifiers: Vec<Arc<dyn Verifier>>,
}

impl KeySet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a public key; a key already present is not added twice.
    pub fn insert(&mut self, key: PublicKey) {
        self.insert_verifier(Arc::new(key));
    }

    /// Adds any verifier; one whose key id is already present is ignored.
    pub fn insert_verifier(&mut self, verifier: Arc<dyn Verifier>) {
        if self.get(verifier.key_id()).is_none() {
            self.verifiers.push(verifier);
        }
    }

    /// The verifier with this id.
    pub fn get(&self, id: &KeyId) -> Option<&Arc<dyn Verifier>> {
        self.verifiers.iter().find(|v| v.key_id() == id)
    }

    /// Iterates in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Verifier>> {
        self.verifiers.iter()
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.verifiers.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.verifiers.is_empty()
    }
}

impl FromIterator<PublicKey> for KeySet {
    fn from_iter<I: IntoIterator<Item = PublicKey>>(iter: I) -> Self {
        let mut set = Self::new();
        for key in iter {
            set.insert(key);
        }
        set
    }
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.verifiers.iter().map(|v| v.key_id()))
            .finish()
    }
}

fn identify(oid: ObjectIdentifier, params: Option<AnyRef<'_>>) -> Result<KeyAlgorithm, KeyError> {
    let unsupported = |what: String| KeyError::UnsupportedAlgorithm(what);
    match oid {
        OID_ED25519 if params.is_none() => Ok(KeyAlgorithm::Ed25519),
        OID_ED25519 => Err(unsupported("Ed25519 with parameters".to_owned())),
        OID_EC_PUBLIC_KEY => {
            let curve = params
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
                .ok_or_else(|| unsupported("EC key without a named curve".to_owned()))?;
            match curve {
                OID_P256 => Ok(KeyAlgorithm::EcdsaP256),
                OID_P384 => Ok(KeyAlgorithm::EcdsaP384),
                other => Err(unsupported(format!("EC curve {other}"))),
            }
        }
        // RFC 3279: NULL parameters; absent ones are common and mean the same.
        OID_RSA if params.is_none_or(|p| p.decode_as::<der::asn1::Null>().is_ok()) => {
            Ok(KeyAlgorithm::Rsa)
        }
        OID_RSA => Err(unsupported(
            "RSA with parameters other than NULL".to_owned(),
        )),
        other => Err(unsupported(format!("algorithm OID {other}"))),
    }
}

/// Checks a public key and returns its canonical raw form.
fn canonical_public_key(algorithm: KeyAlgorithm, raw: &[u8]) -> Result<Vec<u8>, KeyError> {
    let weak = |reason: WeakKey| KeyError::Weak {
        algorithm: algorithm.name(),
        reason,
    };
    match algorithm {
        KeyAlgorithm::Ed25519 if raw.len() != 32 => Err(KeyError::Rejected {
            algorithm: algorithm.name(),
            reason: format!("key is {} bytes, expected 32", raw.len()),
        }),
        KeyAlgorithm::Ed25519 => {
            canonical::ed25519(raw).map_err(weak)?;
            Ok(raw.to_vec())
        }
        KeyAlgorithm::EcdsaP256 => canonical::ec_point(&canonical::P256, raw).map_err(weak),
        KeyAlgorithm::EcdsaP384 => canonical::ec_point(&canonical::P384, raw).map_err(weak),
        KeyAlgorithm::Rsa => canonical::rsa(raw)
            .map_err(|e| KeyError::Rejected {
                algorithm: algorithm.name(),
                reason: e.to_string(),
            })?
            .map_err(weak),
    }
}

fn encode_spki(algorithm: KeyAlgorithm, raw: &[u8]) -> Result<Vec<u8>, Error> {
    let null = AnyRef::from(der::asn1::Null);
    let curve = match algorithm {
        KeyAlgorithm::EcdsaP256 => Some(OID_P256),
        KeyAlgorithm::EcdsaP384 => Some(OID_P384),
        _ => None,
    };
    let curve_der = curve.map(|c| c.to_der()).transpose().map_err(der_error)?;
    let curve_any = curve_der
        .as_deref()
        .map(AnyRef::from_der)
        .transpose()
        .map_err(der_error)?;
    let (oid, parameters) = match algorithm {
        KeyAlgorithm::Ed25519 => (OID_ED25519, None),
        KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384 => (OID_EC_PUBLIC_KEY, curve_any),
        KeyAlgorithm::Rsa => (OID_RSA, Some(null)),
    };
    let spki = spki::SubjectPublicKeyInfoRef {
        algorithm: spki::AlgorithmIdentifierRef { oid, parameters },
        subject_public_key: BitStringRef::from_bytes(raw).map_err(der_error)?,
    };
    spki.to_der().map_err(der_error)
}

fn der_error(e: der::Error) -> Error {
    KeyError::Der {
        what: "SubjectPublicKeyInfo",
        reason: e.to_string(),
    }
    .into()
}

fn ecdsa_signing(algorithm: KeyAlgorithm) -> &'static signature::EcdsaSigningAlgorithm {
    if algorithm == KeyAlgorithm::EcdsaP384 {
        &signature::ECDSA_P384_SHA384_ASN1_SIGNING
    } else {
        &signature::ECDSA_P256_SHA256_ASN1_SIGNING
    }
}

#[cfg(feature = "rsa-keygen")]
fn generate_rsa_pkcs8() -> Result<Vec<u8>, Error> {
    use rsa::pkcs8::EncodePrivateKey as _;
    let mut rng = rsa::rand_core::OsRng;
    let key = rsa::RsaPrivateKey::new(&mut rng, 3072)
        .map_err(|e| KeyError::Generation(format!("rsa: {e}")))?;
    let doc = key
        .to_pkcs8_der()
        .map_err(|e| KeyError::Generation(format!("rsa: {e}")))?;
    Ok(doc.as_bytes().to_vec())
}

#[cfg(not(feature = "rsa-keygen"))]
fn generate_rsa_pkcs8() -> Result<Vec<u8>, Error> {
    Err(KeyError::Generation("RSA key generation needs the `rsa-keygen` feature".to_owned()).into())
}

/// A signing key as [`load_signer`] found it: a private key file, or a key
/// on a PKCS#11 token. Either way it signs and tells its public key.
///
/// ```
/// use custodia::keys::{load_signer, KeyAlgorithm, PrivateKey, Signer as _};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("builder.key");
/// let key = PrivateKey::generate(KeyAlgorithm::Ed25519)?;
/// std::fs::write(&path, key.to_pem().as_bytes())?;
/// let loaded = load_signer(&path)?;
/// assert_eq!(loaded.public_key(), key.public_key());
/// assert_eq!(loaded.key_id(), key.key_id());
/// // Without the `pkcs11` feature a URI is refused with a typed error.
/// # #[cfg(not(feature = "pkcs11"))]
/// assert!(matches!(
///     load_signer("pkcs11:token=ci;object=builder"),
///     Err(custodia::Error::Pkcs11(custodia::pkcs11::Pkcs11Error::FeatureDisabled { .. }))
/// ));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[non_exhaustive]
pub enum SigningKey {
    /// A PKCS#8 PEM private key read from a file (boxed: ring's key pairs
    /// are large).
    File(Box<PrivateKey>),
    /// A key on a PKCS#11 token (feature `pkcs11`).
    #[cfg(feature = "pkcs11")]
    Pkcs11(crate::pkcs11::Pkcs11Signer),
}

impl SigningKey {
    /// The public half.
    pub fn public_key(&self) -> &PublicKey {
        match self {
            Self::File(key) => key.public_key(),
            #[cfg(feature = "pkcs11")]
            Self::Pkcs11(key) => key.public_key(),
        }
    }

    /// The public half's key id.
    pub fn key_id(&self) -> &KeyId {
        self.public_key().key_id()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(key) => key.fmt(f),
            #[cfg(feature = "pkcs11")]
            Self::Pkcs11(key) => key.fmt(f),
        }
    }
}

impl Signer for SigningKey {
    fn key_id(&self) -> &KeyId {
        SigningKey::public_key(self).key_id()
    }

    fn public_key(&self) -> &PublicKey {
        SigningKey::public_key(self)
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        match self {
            Self::File(key) => key.sign(message),
            #[cfg(feature = "pkcs11")]
            Self::Pkcs11(key) => key.sign(message),
        }
    }
}

/// Loads a signing key from `key`: an RFC 7512 `pkcs11:` URI (feature
/// `pkcs11`; see [`crate::pkcs11`]) or the path of a PKCS#8 PEM private key
/// file. Everything that takes a private key file takes a URI this way.
pub fn load_signer(key: impl AsRef<std::ffi::OsStr>) -> Result<SigningKey, Error> {
    let key = key.as_ref();
    if let Some(uri) = key
        .to_str()
        .filter(|k| crate::pkcs11::Pkcs11Uri::is_pkcs11_uri(k))
    {
        let uri = crate::pkcs11::Pkcs11Uri::parse(uri)?;
        #[cfg(feature = "pkcs11")]
        return Ok(SigningKey::Pkcs11(crate::pkcs11::Pkcs11Signer::open(&uri)?));
        #[cfg(not(feature = "pkcs11"))]
        return Err(crate::pkcs11::Pkcs11Error::FeatureDisabled {
            uri: uri.to_string(),
        }
        .into());
    }
    // A regular file within the key limit: never a FIFO, device or symlink.
    let path = std::path::Path::new(key);
    let bytes = Zeroizing::new(crate::fsread::read(path, crate::fsread::KEY)?);
    let pem = std::str::from_utf8(&bytes)
        .map_err(|_| KeyError::Pem("not a PEM private key (not text)".to_owned()))?;
    Ok(SigningKey::File(Box::new(PrivateKey::from_pem(pem)?)))
}
