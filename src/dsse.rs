//! DSSE v1 envelopes (Dead Simple Signing Envelope).
//!
//! ```json
//! {"payloadType": "application/vnd.in-toto+json",
//!  "payload": "<base64>",
//!  "signatures": [{"keyid": "<optional hint>", "sig": "<base64>"}]}
//! ```
//!
//! Signatures cover [`pae`]`(payloadType, payload)`, never the JSON. Readers
//! accept standard and URL-safe base64 (padded or not); writers emit
//! standard, padded base64.
//!
//! `keyid` is an unauthenticated hint: custodia tries the key it names first,
//! then every other trusted key, and a signature counts for the key it
//! verifies under, whatever the hint says (the report notes a misleading
//! hint). A threshold counts distinct keys; a second signature by a key that
//! already counted fails verification rather than being silently ignored.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::encoding::{base64_decode, base64_decode_bytes, base64_encode};
use crate::error::{DsseError, Error};
use std::sync::{Mutex, PoisonError};

use crate::keys::{KeyId, KeySet, Signer, Verifier};
use crate::report::{Check, Report};

/// Envelopes larger than this are refused before parsing (128 MiB).
pub const MAX_ENVELOPE_BYTES: usize = 128 * 1024 * 1024;

/// Envelopes with more signatures than this are refused.
pub const MAX_SIGNATURES: usize = 64;

/// The DSSE pre-authentication encoding:
/// `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in ASCII
/// decimal bytes.
///
/// ```
/// // The DSSE spec's test vector.
/// assert_eq!(
///     custodia::dsse::pae("http://example.com/HelloWorld", b"hello world"),
///     b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
/// );
/// ```
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = pae_head(payload_type, payload.len(), payload.len());
    out.extend_from_slice(payload);
    out
}

/// The PAE up to the body, with room for `capacity` more bytes (one
/// allocation: the two lengths take at most 20 digits each).
fn pae_head(payload_type: &str, body_len: usize, capacity: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        payload_type
            .len()
            .saturating_add(capacity)
            .saturating_add(50),
    );
    // Writing to a Vec cannot fail.
    let _ = std::io::Write::write_fmt(
        &mut out,
        format_args!(
            "DSSEv1 {} {} {} ",
            payload_type.len(),
            payload_type,
            body_len
        ),
    );
    out
}

/// One signature in an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// Unauthenticated hint naming the key; never decides trust.
    pub keyid: Option<String>,
    /// The signature bytes.
    pub sig: Vec<u8>,
}

/// A DSSE envelope.
///
/// ```
/// use custodia::dsse::Envelope;
/// use custodia::keys::{KeySet, PrivateKey, KeyAlgorithm};
/// let key = PrivateKey::generate(KeyAlgorithm::Ed25519)?;
/// let env = Envelope::sign("text/plain", b"hello".to_vec(), &key)?;
/// let parsed = Envelope::from_json(&env.to_json()?)?;
/// let keys: KeySet = [key.public_key().clone()].into_iter().collect();
/// let result = parsed.verify(&keys, 1)?;
/// assert!(result.verified());
/// assert_eq!(result.accepted_keys().len(), 1);
/// # Ok::<(), custodia::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Envelope {
    payload_type: String,
    /// What the signatures sign, [`pae`]`(payload_type, payload)`, held
    /// whole so that verifying copies nothing: the payload is its tail.
    message: Vec<u8>,
    /// Where the payload starts in `message`.
    payload_start: usize,
    signatures: Vec<Signature>,
}

impl std::fmt::Debug for Envelope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Envelope")
            .field("payload_type", &self.payload_type)
            .field("payload", &self.payload())
            .field("signatures", &self.signatures)
            .finish()
    }
}

impl Envelope {
    /// An envelope with no signatures yet.
    pub fn unsigned(payload_type: impl Into<String>, payload: Vec<u8>) -> Self {
        let payload_type = payload_type.into();
        let message = pae(&payload_type, &payload);
        Self {
            payload_start: message.len() - payload.len(),
            payload_type,
            message,
            signatures: Vec::new(),
        }
    }

    /// An unsigned envelope of `payload_type` whose payload is the base64
    /// text `payload`, decoded straight into the signed message.
    fn decoding(payload_type: &str, payload: &[u8]) -> Result<Self, DsseError> {
        let len = crate::encoding::base64_decoded_len(payload);
        let mut message = pae_head(payload_type, len, len);
        let payload_start = message.len();
        if crate::encoding::base64_decode_standard_onto(payload, len, &mut message).is_some() {
            return Ok(Self {
                payload_type: payload_type.to_owned(),
                message,
                payload_start,
                signatures: Vec::new(),
            });
        }
        let payload = base64_decode_bytes(payload).map_err(|reason| DsseError::Base64 {
            field: "payload".to_owned(),
            reason,
        })?;
        Ok(Self::unsigned(payload_type, payload))
    }

    /// Signs `payload` with one signer.
    pub fn sign(
        payload_type: impl Into<String>,
        payload: Vec<u8>,
        signer: &dyn Signer,
    ) -> Result<Self, Error> {
        let mut env = Self::unsigned(payload_type, payload);
        env.add_signature(signer)?;
        Ok(env)
    }

    /// Appends a signature by `signer` over the same payload. The signature
    /// carries the signer's key id as its hint. Signing twice with one key is
    /// refused with [`DsseError::AlreadySigned`] (verification would reject
    /// the envelope): "one key" means a signature already there verifies
    /// under the signer's public key, whatever its `keyid` hint says.
    pub fn add_signature(&mut self, signer: &dyn Signer) -> Result<(), Error> {
        if self.signatures.len() >= MAX_SIGNATURES {
            return Err(DsseError::TooManySignatures {
                count: self.signatures.len() + 1,
                limit: MAX_SIGNATURES,
            }
            .into());
        }
        let public = signer.public_key();
        if self
            .signatures
            .iter()
            .any(|s| public.verify(&self.message, &s.sig).is_ok())
        {
            return Err(DsseError::AlreadySigned(signer.key_id().to_string()).into());
        }
        let sig = signer.sign(&self.message)?;
        self.signatures.push(Signature {
            keyid: Some(signer.key_id().to_string()),
            sig,
        });
        Ok(())
    }

    /// Parses an envelope from JSON: duplicate members, bad base64, more
    /// than [`MAX_SIGNATURES`] signatures or more than
    /// [`MAX_ENVELOPE_BYTES`] bytes are errors. Unknown fields are ignored.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_ENVELOPE_BYTES {
            return Err(DsseError::TooLarge {
                size: bytes.len(),
                limit: MAX_ENVELOPE_BYTES,
            }
            .into());
        }
        let wire: EnvelopeWire = crate::json::from_slice(bytes, "DSSE envelope")?;
        if wire.signatures.len() > MAX_SIGNATURES {
            return Err(DsseError::TooManySignatures {
                count: wire.signatures.len(),
                limit: MAX_SIGNATURES,
            }
            .into());
        }
        let b64 = |value: &str, field: &dyn Fn() -> String| {
            base64_decode(value).map_err(|reason| DsseError::Base64 {
                field: field(),
                reason,
            })
        };
        let mut envelope = Self::decoding(&wire.payload_type, &wire.payload.0)?;
        envelope.signatures = wire
            .signatures
            .iter()
            .enumerate()
            .map(|(i, s)| {
                Ok(Signature {
                    keyid: s
                        .keyid
                        .as_deref()
                        .filter(|k| !k.is_empty())
                        .map(str::to_owned),
                    sig: b64(&s.sig, &|| format!("signatures[{i}].sig"))?,
                })
            })
            .collect::<Result<Vec<_>, DsseError>>()?;
        Ok(envelope)
    }

    /// Serializes as compact JSON with standard base64.
    pub fn to_json(&self) -> Result<Vec<u8>, Error> {
        let wire = EnvelopeWire {
            payload_type: Cow::Borrowed(&self.payload_type),
            payload: Base64Text(Cow::Owned(base64_encode(self.payload()).into_bytes())),
            signatures: self
                .signatures
                .iter()
                .map(|s| SignatureWire {
                    keyid: s.keyid.as_deref().map(Cow::Borrowed),
                    sig: Cow::Owned(base64_encode(&s.sig)),
                })
                .collect(),
        };
        Ok(crate::json::to_vec(&wire, "DSSE envelope")?)
    }

    /// The payload type.
    pub fn payload_type(&self) -> &str {
        &self.payload_type
    }

    /// The payload bytes. Unauthenticated until [`Envelope::verify`] says so.
    pub fn payload(&self) -> &[u8] {
        self.message.get(self.payload_start..).unwrap_or_default()
    }

    /// The signatures.
    pub fn signatures(&self) -> &[Signature] {
        &self.signatures
    }

    /// Verifies the signatures against trusted `keys`: verified when at
    /// least `threshold` distinct trusted keys signed and no key signed
    /// twice. A threshold of 0, or above the number of trusted keys, is an
    /// error: no envelope could ever meet it.
    pub fn verify(&self, keys: &KeySet, threshold: usize) -> Result<SignatureVerification, Error> {
        self.verify_checked(keys, threshold, None)
    }

    /// [`verify`](Self::verify), remembering in `checks` each (signature,
    /// key) pair tried, so that verifying this envelope again against
    /// other keys (a role's, then every policy key) repeats no public-key
    /// operation. `checks` must belong to this envelope alone.
    pub(crate) fn verify_remembering(
        &self,
        keys: &KeySet,
        threshold: usize,
        checks: &SignatureChecks,
    ) -> Result<SignatureVerification, Error> {
        self.verify_checked(keys, threshold, Some(checks))
    }

    fn verify_checked(
        &self,
        keys: &KeySet,
        threshold: usize,
        checks: Option<&SignatureChecks>,
    ) -> Result<SignatureVerification, Error> {
        if threshold == 0 {
            return Err(DsseError::ZeroThreshold.into());
        }
        if threshold > keys.len() {
            return Err(DsseError::UnreachableThreshold {
                threshold,
                keys: keys.len(),
            }
            .into());
        }
        let message = self.message.as_slice();
        let mut outcomes: Vec<SignatureOutcome> = Vec::with_capacity(self.signatures.len());
        for (index, signature) in self.signatures.iter().enumerate() {
            let verifies = |key: &dyn Verifier| {
                let check = || key.verify(message, &signature.sig).ok();
                match checks {
                    Some(checks) => checks.remembered(index, key.key_id(), check),
                    None => check(),
                }
            };
            // A key that an earlier signature counted for counts once.
            let counted = |key: &KeyId| {
                outcomes.iter().any(|o| {
                    matches!(&o.status, SignatureStatus::Accepted { key_id, .. } if key_id == key)
                })
            };
            let outcome = verify_one(keys, signature, counted, verifies);
            outcomes.push(SignatureOutcome { index, ..outcome });
        }
        Ok(SignatureVerification {
            threshold,
            outcomes,
            trusted_keys: keys.len(),
        })
    }
}

/// The signature checks already made on one envelope: which (signature
/// index, key) pairs verified, with the scheme, and which did not.
#[derive(Debug, Default)]
pub(crate) struct SignatureChecks(Mutex<Vec<(usize, KeyId, Option<&'static str>)>>);

impl SignatureChecks {
    /// The remembered outcome of signature `index` under `key`, or
    /// `check()`'s, remembered.
    fn remembered(
        &self,
        index: usize,
        key: &KeyId,
        check: impl FnOnce() -> Option<&'static str>,
    ) -> Option<&'static str> {
        let known = self
            .lock()
            .iter()
            .find(|(i, k, _)| *i == index && k == key)
            .map(|(_, _, scheme)| *scheme);
        if let Some(scheme) = known {
            return scheme;
        }
        let scheme = check();
        self.lock().push((index, key.clone(), scheme));
        scheme
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(usize, KeyId, Option<&'static str>)>> {
        // A panic elsewhere cannot leave a half-written entry: each is one push.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Clone for SignatureChecks {
    fn clone(&self) -> Self {
        Self(Mutex::new(self.lock().clone()))
    }
}

fn verify_one(
    keys: &KeySet,
    signature: &Signature,
    counted: impl Fn(&KeyId) -> bool,
    verifies: impl Fn(&dyn Verifier) -> Option<&'static str>,
) -> SignatureOutcome {
    let hinted = signature
        .keyid
        .as_ref()
        .and_then(|hint| keys.iter().find(|k| k.key_id().as_str() == hint));
    // The hinted key first (the common case costs one verification), then
    // every other key: the hint never decides which key is trusted.
    let order = hinted.into_iter().chain(
        keys.iter()
            .filter(|k| hinted.is_none_or(|h| h.key_id() != k.key_id())),
    );
    let mut status = None;
    for key in order {
        if let Some(scheme) = verifies(key.as_ref()) {
            let key_id = key.key_id().clone();
            status = Some(if counted(&key_id) {
                SignatureStatus::Duplicate { key_id }
            } else {
                SignatureStatus::Accepted {
                    misleading_hint: signature
                        .keyid
                        .as_ref()
                        .filter(|hint| hinted.is_some() && *hint != key_id.as_str())
                        .cloned(),
                    key_id,
                    scheme,
                }
            });
            break;
        }
    }
    let status = status.unwrap_or_else(|| SignatureStatus::Rejected {
        reason: if keys.is_empty() {
            "no trusted keys were given".to_owned()
        } else {
            format!(
                "does not verify with any of the {} trusted keys",
                keys.len()
            )
        },
    });
    SignatureOutcome {
        index: 0,
        keyid_hint: signature.keyid.clone(),
        status,
    }
}

/// What happened to one signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureOutcome {
    /// Position in the envelope's `signatures`.
    pub index: usize,
    /// The signature's `keyid` hint, if any.
    pub keyid_hint: Option<String>,
    /// The result.
    pub status: SignatureStatus,
}

/// The result for one signature.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureStatus {
    /// Verified with a trusted key.
    Accepted {
        /// The key that verified it.
        key_id: KeyId,
        /// The signature scheme that matched.
        scheme: &'static str,
        /// Set when the hint named a different trusted key.
        misleading_hint: Option<String>,
    },
    /// Verified with a key that an earlier signature already counted for.
    Duplicate {
        /// The key that signed twice.
        key_id: KeyId,
    },
    /// Did not verify with any trusted key.
    Rejected {
        /// Why.
        reason: String,
    },
}

/// The structured result of [`Envelope::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureVerification {
    threshold: usize,
    trusted_keys: usize,
    outcomes: Vec<SignatureOutcome>,
}

impl SignatureVerification {
    /// At least `threshold` distinct trusted keys signed, and none twice.
    pub fn verified(&self) -> bool {
        // Counted in place: each accepted key is distinct (a key's second
        // signature is a duplicate).
        let mut accepted = 0;
        for outcome in &self.outcomes {
            match outcome.status {
                SignatureStatus::Accepted { .. } => accepted += 1,
                SignatureStatus::Duplicate { .. } => return false,
                SignatureStatus::Rejected { .. } => {}
            }
        }
        accepted >= self.threshold
    }

    /// The distinct keys that verified, in signature order.
    pub fn accepted_keys(&self) -> Vec<&KeyId> {
        self.outcomes
            .iter()
            .filter_map(|o| match &o.status {
                SignatureStatus::Accepted { key_id, .. } => Some(key_id),
                _ => None,
            })
            .collect()
    }

    /// Keys that signed more than once.
    pub fn duplicates(&self) -> Vec<&KeyId> {
        self.outcomes
            .iter()
            .filter_map(|o| match &o.status {
                SignatureStatus::Duplicate { key_id } => Some(key_id),
                _ => None,
            })
            .collect()
    }

    /// Per-signature outcomes.
    pub fn outcomes(&self) -> &[SignatureOutcome] {
        &self.outcomes
    }

    /// The threshold asked for.
    pub fn threshold(&self) -> usize {
        self.threshold
    }

    /// The report: one `signature[i]` check per signature, then `threshold`.
    /// Signatures by keys that are not trusted are shown as failed checks
    /// only when the threshold is not met (extra signatures by others are
    /// normal in multi-party envelopes).
    pub fn report(&self) -> Report {
        let mut report = Report::new();
        let met = self.verified();
        for o in &self.outcomes {
            let name = format!("signature[{}]", o.index);
            match &o.status {
                SignatureStatus::Accepted {
                    key_id,
                    scheme,
                    misleading_hint,
                } => {
                    let mut reason = format!("verified with trusted key {key_id} ({scheme})");
                    if let Some(hint) = misleading_hint {
                        let _ = write!(reason, "; its keyid hint named another key, {hint}");
                    }
                    report.push(Check::pass(name, reason));
                }
                SignatureStatus::Duplicate { key_id } => report.push(Check::fail(
                    name,
                    format!("second signature by key {key_id}, which already counted"),
                )),
                SignatureStatus::Rejected { reason } if !met => {
                    report.push(Check::fail(name, reason.clone()));
                }
                SignatureStatus::Rejected { .. } => {}
            }
        }
        let count = self.accepted_keys().len();
        let summary = format!(
            "{count} distinct trusted key(s) signed, {} required ({} signature(s), {} trusted key(s))",
            self.threshold,
            self.outcomes.len(),
            self.trusted_keys
        );
        report.push(if count >= self.threshold {
            Check::pass("threshold", summary)
        } else {
            Check::fail("threshold", summary)
        });
        report
    }
}

/// A JSON string of base64, read as bytes: decoding checks every byte
/// against the alphabet, so the payload (most of an envelope) is not also
/// checked as UTF-8 while it is read.
struct Base64Text<'a>(Cow<'a, [u8]>);

impl Serialize for Base64Text<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = std::str::from_utf8(&self.0).map_err(serde::ser::Error::custom)?;
        s.serialize_str(text)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Base64Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> serde::de::Visitor<'de> for TextVisitor {
            type Value = Base64Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a base64 string")
            }
            fn visit_borrowed_bytes<E>(self, v: &'de [u8]) -> Result<Self::Value, E> {
                Ok(Base64Text(Cow::Borrowed(v)))
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<Self::Value, E> {
                Ok(Base64Text(Cow::Owned(v.to_vec())))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Base64Text(Cow::Borrowed(v.as_bytes())))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Base64Text(Cow::Owned(v.as_bytes().to_vec())))
            }
        }
        d.deserialize_bytes(TextVisitor)
    }
}

/// An envelope as JSON has it; its text borrows from the document where
/// it holds no escapes (base64 never does).
#[derive(Serialize, Deserialize)]
struct EnvelopeWire<'a> {
    #[serde(rename = "payloadType", borrow)]
    payload_type: Cow<'a, str>,
    #[serde(borrow)]
    payload: Base64Text<'a>,
    #[serde(borrow)]
    signatures: Vec<SignatureWire<'a>>,
}

#[derive(Serialize, Deserialize)]
struct SignatureWire<'a> {
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    keyid: Option<Cow<'a, str>>,
    #[serde(borrow)]
    sig: Cow<'a, str>,
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::keys::{KeyAlgorithm, PrivateKey, PublicKey, Rejected};

    /// A public key that counts its verifications.
    struct Counting(PublicKey, AtomicUsize);

    impl Verifier for Counting {
        fn key_id(&self) -> &KeyId {
            self.0.key_id()
        }
        fn algorithm_name(&self) -> &str {
            self.0.algorithm_name()
        }
        fn verify(&self, message: &[u8], signature: &[u8]) -> Result<&'static str, Rejected> {
            self.1.fetch_add(1, Ordering::Relaxed);
            self.0.verify(message, signature)
        }
    }

    #[test]
    fn remembered_checks_give_the_same_verification_with_each_key_tried_once() {
        let private: Vec<PrivateKey> = (0..3)
            .map(|_| PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap())
            .collect();
        let counting: Vec<Arc<Counting>> = private
            .iter()
            .map(|k| Arc::new(Counting(k.public_key().clone(), AtomicUsize::new(0))))
            .collect();
        let set = |which: &[usize]| {
            let mut keys = KeySet::new();
            for &i in which {
                keys.insert_verifier(counting[i].clone());
            }
            keys
        };
        // Signed by keys 0 and 1, then key 0 again under a hint naming key 2.
        let mut envelope = Envelope::sign("t", b"payload".to_vec(), &private[0]).unwrap();
        envelope.add_signature(&private[1]).unwrap();
        let mut again = envelope.signatures()[0].clone();
        again.keyid = Some(private[2].key_id().to_string());
        envelope.signatures.push(again);

        let checks = SignatureChecks::default();
        for which in [&[0][..], &[1, 2], &[0, 1, 2], &[2], &[1, 0]] {
            let keys = set(which);
            let remembered = envelope.verify_remembering(&keys, 1, &checks).unwrap();
            assert_eq!(remembered, envelope.verify(&keys, 1).unwrap(), "{which:?}");
        }
        assert!(!envelope.verify(&set(&[0, 1]), 2).unwrap().verified());
        for error in [
            envelope
                .verify_remembering(&set(&[0]), 2, &checks)
                .unwrap_err(),
            envelope.verify(&set(&[0]), 2).unwrap_err(),
        ] {
            assert!(matches!(
                error,
                Error::Dsse(DsseError::UnreachableThreshold {
                    threshold: 2,
                    keys: 1
                })
            ));
        }
        // Count only the remembering calls: a fresh set of counters.
        let checks = SignatureChecks::default();
        for c in &counting {
            c.1.store(0, Ordering::Relaxed);
        }
        for which in [&[0][..], &[0, 1, 2], &[1, 2], &[2, 1, 0]] {
            envelope
                .verify_remembering(&set(which), 1, &checks)
                .unwrap();
        }
        // Each key tried at most once per signature (3 signatures).
        for c in &counting {
            assert!(c.1.load(Ordering::Relaxed) <= 3);
        }
    }
}
