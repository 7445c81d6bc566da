//! The PKCS#11 signer (feature `pkcs11`), on `cryptoki`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use der::Encode as _;
use der::asn1::UintRef;
use zeroize::Zeroizing;

use super::{Pin, PinSource, Pkcs11Error, Pkcs11Uri};
use crate::digest::DigestAlgorithm;
use crate::error::Error;
use crate::keys::{KeyAlgorithm, KeyId, PublicKey, Signer, Verifier as _};

/// DER of the named-curve OIDs in CKA_EC_PARAMS.
const EC_PARAMS_P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const EC_PARAMS_P384: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
const EC_PARAMS_ED25519_OID: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
/// PrintableString "edwards25519", the other form PKCS#11 3.0 allows.
const EC_PARAMS_ED25519_NAME: &[u8] = b"\x13\x0cedwards25519";
/// DigestInfo prefix of a SHA-256 digest (RFC 8017, section 9.2, note 1).
const SHA256_DIGEST_INFO: &[u8] = &[
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];
/// Idle sessions kept per token; more are closed when returned.
const MAX_IDLE_SESSIONS: usize = 32;
/// A PIN file is small.
const MAX_PIN_FILE_BYTES: u64 = 4096;
/// Signed once when a signer opens, to prove the pair belongs together.
const SELF_TEST_MESSAGE: &[u8] = b"custodia pkcs11 self-test";

/// RSA signature padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RsaPadding {
    /// RSASSA-PSS, SHA-256, MGF1-SHA-256, salt 32 (custodia's own RSA keys).
    Pss,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Pkcs1v15,
}

/// How a key is protected on the token, as the token reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyProtection {
    /// CKA_SENSITIVE: the private value can never be read in plaintext.
    pub sensitive: bool,
    /// CKA_EXTRACTABLE: the key can be wrapped out of the token.
    pub extractable: bool,
    /// CKA_ALWAYS_SENSITIVE: it has always been sensitive.
    pub always_sensitive: bool,
    /// CKA_NEVER_EXTRACTABLE: it has never been extractable.
    pub never_extractable: bool,
    /// CKA_LOCAL: generated on the token.
    pub local: bool,
}

/// A loaded module: loaded and `C_Initialize`d once per process.
struct Module {
    ctx: Pkcs11,
    path: PathBuf,
    tokens: Mutex<Vec<Arc<Token>>>,
}

/// One token (by slot): its login and its idle sessions.
struct Token {
    ctx: Pkcs11,
    slot: Slot,
    login: Mutex<Login>,
    idle: Mutex<Vec<Session>>,
    pin_key: ring::hmac::Key,
}

#[derive(Default)]
struct Login {
    /// Kept open: a token stays logged in while the application has a session.
    session: Option<Session>,
    /// HMAC-SHA-256 of the PIN that logged in, under a key made for this
    /// token in this process (never the PIN, nor a plain hash of it).
    pin_digest: Option<Vec<u8>>,
}

/// Every module this process loaded, by canonical path.
static MODULES: Mutex<Vec<Arc<Module>>> = Mutex::new(Vec::new());

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves plain data behind.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Turns a cryptoki error into a typed one naming the URI.
fn call_error(uri: &str, function: &'static str, e: CkError) -> Pkcs11Error {
    let uri = uri.to_owned();
    match e {
        CkError::Pkcs11(RvError::PinIncorrect, _) => Pkcs11Error::PinIncorrect { uri },
        CkError::Pkcs11(RvError::PinLocked, _) => Pkcs11Error::PinLocked { uri },
        CkError::Pkcs11(RvError::UserNotLoggedIn, _) => Pkcs11Error::NotLoggedIn { uri },
        CkError::Pkcs11(RvError::TokenNotPresent | RvError::DeviceRemoved, _) => {
            Pkcs11Error::TokenNotFound { uri }
        }
        CkError::Pkcs11(rv, _) => Pkcs11Error::Call {
            uri,
            function,
            code: format!("{rv}"),
        },
        other => Pkcs11Error::Call {
            uri,
            function,
            code: other.to_string(),
        },
    }
}

impl Module {
    fn load(uri: &Pkcs11Uri, shown: &str) -> Result<Arc<Self>, Pkcs11Error> {
        let requested = uri
            .module_path
            .as_ref()
            .ok_or_else(|| Pkcs11Error::NoModule {
                uri: shown.to_owned(),
            })?;
        let load_error = |reason: String| Pkcs11Error::ModuleLoad {
            uri: shown.to_owned(),
            module: requested.clone(),
            reason,
        };
        let path = std::fs::canonicalize(requested).map_err(|e| load_error(e.to_string()))?;
        let mut modules = lock(&MODULES);
        if let Some(module) = modules.iter().find(|m| m.path == path) {
            return Ok(Arc::clone(module));
        }
        let ctx = Pkcs11::new(&path).map_err(|e| load_error(e.to_string()))?;
        match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => return Err(load_error(format!("C_Initialize: {e}"))),
        }
        let module = Arc::new(Self {
            ctx,
            path,
            tokens: Mutex::new(Vec::new()),
        });
        modules.push(Arc::clone(&module));
        Ok(module)
    }

    fn check_library(&self, uri: &Pkcs11Uri, shown: &str) -> Result<(), Pkcs11Error> {
        if uri.library_manufacturer.is_none()
            && uri.library_description.is_none()
            && uri.library_version.is_none()
        {
            return Ok(());
        }
        let info = self
            .ctx
            .get_library_info()
            .map_err(|e| call_error(shown, "C_GetInfo", e))?;
        let mismatch = |attribute| Pkcs11Error::LibraryMismatch {
            uri: shown.to_owned(),
            attribute,
        };
        if let Some(m) = &uri.library_manufacturer {
            if info.manufacturer_id().trim_end() != m {
                return Err(mismatch("library-manufacturer"));
            }
        }
        if let Some(d) = &uri.library_description {
            if info.library_description().trim_end() != d {
                return Err(mismatch("library-description"));
            }
        }
        if let Some((major, minor)) = uri.library_version {
            let v = info.library_version();
            if (v.major(), v.minor()) != (major, minor) {
                return Err(mismatch("library-version"));
            }
        }
        Ok(())
    }

    /// The one token the URI names.
    fn token(self: &Arc<Self>, uri: &Pkcs11Uri, shown: &str) -> Result<Arc<Token>, Pkcs11Error> {
        let slots = self
            .ctx
            .get_slots_with_token()
            .map_err(|e| call_error(shown, "C_GetSlotList", e))?;
        let mut matches = Vec::new();
        for slot in slots {
            if uri.slot_id.is_some_and(|id| id != slot.id()) {
                continue;
            }
            if uri.slot_description.is_some() || uri.slot_manufacturer.is_some() {
                let info = self
                    .ctx
                    .get_slot_info(slot)
                    .map_err(|e| call_error(shown, "C_GetSlotInfo", e))?;
                if !same(&uri.slot_description, info.slot_description())
                    || !same(&uri.slot_manufacturer, info.manufacturer_id())
                {
                    continue;
                }
            }
            let info = match self.ctx.get_token_info(slot) {
                Ok(info) => info,
                // A token removed between the two calls does not match.
                Err(CkError::Pkcs11(RvError::TokenNotPresent, _)) => continue,
                Err(e) => return Err(call_error(shown, "C_GetTokenInfo", e)),
            };
            if same(&uri.token, info.label())
                && same(&uri.manufacturer, info.manufacturer_id())
                && same(&uri.serial, info.serial_number())
                && same(&uri.model, info.model())
            {
                matches.push(slot);
            }
        }
        let slot = match matches.as_slice() {
            [slot] => *slot,
            [] => {
                return Err(Pkcs11Error::TokenNotFound {
                    uri: shown.to_owned(),
                });
            }
            more => {
                return Err(Pkcs11Error::AmbiguousToken {
                    uri: shown.to_owned(),
                    count: more.len(),
                });
            }
        };
        let mut tokens = lock(&self.tokens);
        if let Some(token) = tokens.iter().find(|t| t.slot == slot) {
            return Ok(Arc::clone(token));
        }
        let pin_key =
            ring::hmac::Key::generate(ring::hmac::HMAC_SHA256, &ring::rand::SystemRandom::new())
                .map_err(|_| Pkcs11Error::Call {
                    uri: shown.to_owned(),
                    function: "(custodia) random key",
                    code: "the system random source failed".to_owned(),
                })?;
        let token = Arc::new(Token {
            ctx: self.ctx.clone(),
            slot,
            login: Mutex::new(Login::default()),
            idle: Mutex::new(Vec::new()),
            pin_key,
        });
        tokens.push(Arc::clone(&token));
        Ok(token)
    }
}

/// Token and slot fields are blank-padded; a URI value matches the trimmed text.
fn same(wanted: &Option<String>, actual: &str) -> bool {
    wanted
        .as_deref()
        .is_none_or(|w| w == actual.trim_end_matches([' ', '\0']))
}

/// A session taken from a token's pool; returned to it when dropped
/// unless a call on it failed.
struct PooledSession<'a> {
    token: &'a Token,
    session: Option<Session>,
}

impl PooledSession<'_> {
    fn get(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// Closes the session instead of pooling it (after an error).
    fn discard(mut self) {
        self.session = None;
    }
}

impl Drop for PooledSession<'_> {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            let mut idle = lock(&self.token.idle);
            if idle.len() < MAX_IDLE_SESSIONS {
                idle.push(session);
            }
        }
    }
}

impl Token {
    /// Logs in once per process; a second signer on the same token with
    /// the same PIN shares the login.
    fn login(&self, pin: Option<&Pin>, shown: &str) -> Result<bool, Pkcs11Error> {
        let Some(pin) = pin else {
            return Ok(lock(&self.login).pin_digest.is_some());
        };
        let digest = ring::hmac::sign(&self.pin_key, pin.expose().as_bytes())
            .as_ref()
            .to_vec();
        let mut login = lock(&self.login);
        if let Some(existing) = &login.pin_digest {
            return if ring::hmac::verify(&self.pin_key, pin.expose().as_bytes(), existing).is_ok() {
                Ok(true)
            } else {
                Err(Pkcs11Error::PinConflict {
                    uri: shown.to_owned(),
                })
            };
        }
        let session = self
            .ctx
            .open_ro_session(self.slot)
            .map_err(|e| call_error(shown, "C_OpenSession", e))?;
        let secret = AuthPin::from(pin.expose());
        match session.login(UserType::User, Some(&secret)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(e) => return Err(call_error(shown, "C_Login", e)),
        }
        login.session = Some(session);
        login.pin_digest = Some(digest);
        Ok(true)
    }

    fn session(&self, shown: &str) -> Result<PooledSession<'_>, Pkcs11Error> {
        let pooled = lock(&self.idle).pop();
        let session = match pooled {
            Some(session) => session,
            None => self
                .ctx
                .open_ro_session(self.slot)
                .map_err(|e| call_error(shown, "C_OpenSession", e))?,
        };
        Ok(PooledSession {
            token: self,
            session: Some(session),
        })
    }
}

/// How the signer drives the token for its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    /// `CKM_EDDSA`, pure Ed25519.
    Ed25519,
    /// ECDSA; `prehash` when the digest is computed here for `CKM_ECDSA`.
    Ecdsa {
        digest: DigestAlgorithm,
        width: usize,
        prehash: bool,
    },
    /// RSA; `prehash` when the digest is computed here.
    Rsa { padding: RsaPadding, prehash: bool },
}

/// A signer whose private key stays on a PKCS#11 token.
///
/// Opening it loads the module (once per process), finds the one token and
/// the one private key the URI names, logs in (once per token), reads the
/// public key as SubjectPublicKeyInfo, picks the mechanism and signs one
/// test message to prove the pair belongs together. It is `Send + Sync`:
/// threads sign through pooled sessions.
///
/// ```no_run
/// use custodia::dsse::Envelope;
/// use custodia::pkcs11::Pkcs11Signer;
/// let signer = Pkcs11Signer::open(&"pkcs11:token=ci;object=builder\
///     ?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=/run/secrets/pin".parse()?)?;
/// let envelope = Envelope::sign("text/plain", b"hello".to_vec(), &signer)?;
/// println!("{}", signer.public_key().to_pem());
/// # Ok::<(), custodia::Error>(())
/// ```
pub struct Pkcs11Signer {
    shown: String,
    token: Arc<Token>,
    key: ObjectHandle,
    public: PublicKey,
    scheme: Scheme,
}

impl fmt::Debug for Pkcs11Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Pkcs11Signer({} {} at {})",
            self.public.algorithm(),
            self.public.key_id(),
            self.shown
        )
    }
}

impl Pkcs11Signer {
    /// Opens the private key the URI names. RSA keys sign with PSS unless
    /// the key's `CKA_ALLOWED_MECHANISMS` allow only PKCS#1 v1.5.
    pub fn open(uri: &Pkcs11Uri) -> Result<Self, Error> {
        Ok(Self::open_inner(uri, None)?)
    }

    /// Like [`open`](Self::open), with the RSA padding fixed (an error if
    /// the token or the key does not offer it). Ignored for other keys.
    pub fn open_with_padding(uri: &Pkcs11Uri, padding: RsaPadding) -> Result<Self, Error> {
        Ok(Self::open_inner(uri, Some(padding))?)
    }

    fn open_inner(uri: &Pkcs11Uri, padding: Option<RsaPadding>) -> Result<Self, Pkcs11Error> {
        let shown = uri.to_string();
        if let Some(t) = uri.object_type {
            if t != super::ObjectType::Private {
                return Err(Pkcs11Error::WrongObjectType {
                    uri: shown,
                    found: t.name(),
                    expected: "private",
                });
            }
        }
        let (token, logged_in) = connect(uri, &shown)?;
        let pooled = token.session(&shown)?;
        let session = pooled
            .get()
            .ok_or_else(|| Pkcs11Error::TokenNotFound { uri: shown.clone() })?;
        let key = find_one(session, ObjectClass::PRIVATE_KEY, uri, &shown, logged_in)?;
        let attributes = session
            .get_attributes(
                key,
                &[
                    AttributeType::KeyType,
                    AttributeType::Id,
                    AttributeType::Label,
                    AttributeType::AllowedMechanisms,
                    AttributeType::PublicKeyInfo,
                    AttributeType::Modulus,
                    AttributeType::PublicExponent,
                ],
            )
            .map_err(|e| call_error(&shown, "C_GetAttributeValue", e))?;
        let public = public_key_for(session, &attributes, &shown)?;
        let mechanisms = token
            .ctx
            .get_mechanism_list(token.slot)
            .map_err(|e| call_error(&shown, "C_GetMechanismList", e))?;
        let allowed = attributes
            .iter()
            .find_map(|a| match a {
                Attribute::AllowedMechanisms(m) => Some(m.clone()),
                _ => None,
            })
            .unwrap_or_default();
        let usable = |m: MechanismType| {
            mechanisms.contains(&m) && (allowed.is_empty() || allowed.contains(&m))
        };
        let scheme = choose_scheme(public.algorithm(), padding, usable, &shown)?;
        drop(pooled);
        let signer = Self {
            shown,
            token,
            key,
            public,
            scheme,
        };
        let signature = signer.sign_raw(SELF_TEST_MESSAGE)?;
        if signer.public.verify(SELF_TEST_MESSAGE, &signature).is_err() {
            return Err(Pkcs11Error::KeyMismatch { uri: signer.shown });
        }
        Ok(signer)
    }

    /// The public key, read from the token as SubjectPublicKeyInfo.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The URI, as its `Display` shows it (without the PIN).
    pub fn uri(&self) -> &str {
        &self.shown
    }

    /// How the token protects the private key (CKA_SENSITIVE,
    /// CKA_EXTRACTABLE, ...), for an audit.
    pub fn key_protection(&self) -> Result<KeyProtection, Error> {
        let pooled = self.token.session(&self.shown)?;
        let session = pooled.get().ok_or_else(|| Pkcs11Error::TokenNotFound {
            uri: self.shown.clone(),
        })?;
        let attributes = session
            .get_attributes(
                self.key,
                &[
                    AttributeType::Sensitive,
                    AttributeType::Extractable,
                    AttributeType::AlwaysSensitive,
                    AttributeType::NeverExtractable,
                    AttributeType::Local,
                ],
            )
            .map_err(|e| call_error(&self.shown, "C_GetAttributeValue", e))?;
        let mut protection = KeyProtection {
            sensitive: false,
            // Unknown means "could be": fail closed.
            extractable: true,
            always_sensitive: false,
            never_extractable: false,
            local: false,
        };
        for attribute in attributes {
            match attribute {
                Attribute::Sensitive(v) => protection.sensitive = v,
                Attribute::Extractable(v) => protection.extractable = v,
                Attribute::AlwaysSensitive(v) => protection.always_sensitive = v,
                Attribute::NeverExtractable(v) => protection.never_extractable = v,
                Attribute::Local(v) => protection.local = v,
                _ => {}
            }
        }
        Ok(protection)
    }

    fn sign_raw(&self, message: &[u8]) -> Result<Vec<u8>, Pkcs11Error> {
        let pooled = self.token.session(&self.shown)?;
        let Some(session) = pooled.get() else {
            return Err(Pkcs11Error::TokenNotFound {
                uri: self.shown.clone(),
            });
        };
        let result = self.sign_in(session, message);
        if result.is_err() {
            pooled.discard();
        }
        result
    }

    fn sign_in(&self, session: &Session, message: &[u8]) -> Result<Vec<u8>, Pkcs11Error> {
        let sign = |mechanism: &Mechanism, data: &[u8]| {
            session
                .sign(mechanism, self.key, data)
                .map_err(|e| call_error(&self.shown, "C_Sign", e))
        };
        match self.scheme {
            Scheme::Ed25519 => sign(
                &Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure)),
                message,
            ),
            Scheme::Ecdsa {
                digest,
                width,
                prehash,
            } => {
                let raw = if prehash {
                    sign(&Mechanism::Ecdsa, digest.hash(message).as_bytes())?
                } else if digest == DigestAlgorithm::Sha384 {
                    sign(&Mechanism::EcdsaSha384, message)?
                } else {
                    sign(&Mechanism::EcdsaSha256, message)?
                };
                ecdsa_der(&raw, width).ok_or_else(|| Pkcs11Error::Call {
                    uri: self.shown.clone(),
                    function: "C_Sign",
                    code: format!(
                        "an ECDSA signature of {} bytes, expected {}",
                        raw.len(),
                        2 * width
                    ),
                })
            }
            Scheme::Rsa { padding, prehash } => {
                let params = PkcsPssParams {
                    hash_alg: MechanismType::SHA256,
                    mgf: PkcsMgfType::MGF1_SHA256,
                    s_len: 32.into(),
                };
                let digest = DigestAlgorithm::Sha256.hash(message);
                match (padding, prehash) {
                    (RsaPadding::Pss, false) => sign(&Mechanism::Sha256RsaPkcsPss(params), message),
                    (RsaPadding::Pss, true) => {
                        sign(&Mechanism::RsaPkcsPss(params), digest.as_bytes())
                    }
                    (RsaPadding::Pkcs1v15, false) => sign(&Mechanism::Sha256RsaPkcs, message),
                    (RsaPadding::Pkcs1v15, true) => {
                        let mut info = SHA256_DIGEST_INFO.to_vec();
                        info.extend_from_slice(digest.as_bytes());
                        sign(&Mechanism::RsaPkcs, &info)
                    }
                }
            }
        }
    }
}

impl Signer for Pkcs11Signer {
    fn key_id(&self) -> &KeyId {
        self.public.key_id()
    }

    fn public_key(&self) -> &PublicKey {
        &self.public
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        Ok(self.sign_raw(message)?)
    }
}

/// Loads the module, finds the token and logs in.
fn connect(uri: &Pkcs11Uri, shown: &str) -> Result<(Arc<Token>, bool), Pkcs11Error> {
    let pin = match &uri.pin {
        Some(PinSource::Value(pin)) => Some(pin.clone()),
        Some(PinSource::File(path)) => Some(read_pin(path, shown)?),
        None => None,
    };
    let module = Module::load(uri, shown)?;
    module.check_library(uri, shown)?;
    let token = module.token(uri, shown)?;
    let logged_in = token.login(pin.as_ref(), shown)?;
    Ok((token, logged_in))
}

fn read_pin(path: &Path, shown: &str) -> Result<Pin, Pkcs11Error> {
    use std::io::Read as _;
    let fail = |reason: String| Pkcs11Error::PinSource {
        uri: shown.to_owned(),
        path: path.to_owned(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|e| fail(e.kind().to_string()))?;
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(MAX_PIN_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(e.kind().to_string()))?;
    if bytes.len() as u64 > MAX_PIN_FILE_BYTES {
        return Err(fail(format!("larger than {MAX_PIN_FILE_BYTES} bytes")));
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| fail("not UTF-8".to_owned()))?;
    let text = text.strip_suffix('\n').unwrap_or(text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    Ok(Pin::new(text))
}

/// The one object of `class` the URI's label and id select.
fn find_one(
    session: &Session,
    class: ObjectClass,
    uri: &Pkcs11Uri,
    shown: &str,
    logged_in: bool,
) -> Result<ObjectHandle, Pkcs11Error> {
    let mut template = vec![Attribute::Class(class)];
    if let Some(label) = &uri.object {
        template.push(Attribute::Label(label.as_bytes().to_vec()));
    }
    if let Some(id) = &uri.id {
        template.push(Attribute::Id(id.clone()));
    }
    let what = if class == ObjectClass::PRIVATE_KEY {
        "private key"
    } else {
        "public key"
    };
    let found = session
        .find_objects(&template)
        .map_err(|e| call_error(shown, "C_FindObjects", e))?;
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(Pkcs11Error::ObjectNotFound {
            uri: shown.to_owned(),
            class: what,
            logged_in,
        }),
        more => Err(Pkcs11Error::AmbiguousObject {
            uri: shown.to_owned(),
            class: what,
            count: more.len(),
        }),
    }
}

/// The private key's public half: CKA_PUBLIC_KEY_INFO when the token has
/// it, else the public key object with the same id (or label), else (RSA)
/// the modulus and exponent on the private key.
fn public_key_for(
    session: &Session,
    private: &[Attribute],
    shown: &str,
) -> Result<PublicKey, Pkcs11Error> {
    let unsupported = |reason: String| Pkcs11Error::UnsupportedKey {
        uri: shown.to_owned(),
        reason,
    };
    if let Some(spki) = private.iter().find_map(|a| match a {
        Attribute::PublicKeyInfo(der) if !der.is_empty() => Some(der),
        _ => None,
    }) {
        return PublicKey::from_spki_der(spki).map_err(|e| unsupported(e.to_string()));
    }
    let key_type = private
        .iter()
        .find_map(|a| match a {
            Attribute::KeyType(t) => Some(*t),
            _ => None,
        })
        .ok_or_else(|| unsupported("no CKA_KEY_TYPE".to_owned()))?;
    // The public object that belongs to the private key: same CKA_ID when
    // the key has one, else the same label.
    let mut template = vec![Attribute::Class(ObjectClass::PUBLIC_KEY)];
    let id = private.iter().find_map(|a| match a {
        Attribute::Id(id) if !id.is_empty() => Some(id.clone()),
        _ => None,
    });
    let label = private.iter().find_map(|a| match a {
        Attribute::Label(l) if !l.is_empty() => Some(l.clone()),
        _ => None,
    });
    match (id, label) {
        (Some(id), _) => template.push(Attribute::Id(id)),
        (None, Some(label)) => template.push(Attribute::Label(label)),
        (None, None) => {}
    }
    template.push(Attribute::KeyType(key_type));
    let found = session
        .find_objects(&template)
        .map_err(|e| call_error(shown, "C_FindObjects", e))?;
    let public_object = match found.as_slice() {
        [one] => Some(*one),
        _ => None,
    };
    let attributes = match public_object {
        Some(object) => session
            .get_attributes(
                object,
                &[
                    AttributeType::EcParams,
                    AttributeType::EcPoint,
                    AttributeType::Modulus,
                    AttributeType::PublicExponent,
                ],
            )
            .map_err(|e| call_error(shown, "C_GetAttributeValue", e))?,
        None => private.to_vec(),
    };
    let get = |wanted: AttributeType| {
        attributes.iter().find_map(|a| match (a, wanted) {
            (Attribute::EcParams(v), AttributeType::EcParams)
            | (Attribute::EcPoint(v), AttributeType::EcPoint)
            | (Attribute::Modulus(v), AttributeType::Modulus)
            | (Attribute::PublicExponent(v), AttributeType::PublicExponent) => Some(v.as_slice()),
            _ => None,
        })
    };
    let no_public = || Pkcs11Error::ObjectNotFound {
        uri: shown.to_owned(),
        class: "public key",
        logged_in: true,
    };
    let raw_key = |algorithm: KeyAlgorithm, raw: &[u8]| {
        PublicKey::from_raw(algorithm, raw).map_err(|e| unsupported(e.to_string()))
    };
    if key_type == KeyType::RSA {
        let (Some(modulus), Some(exponent)) = (
            get(AttributeType::Modulus),
            get(AttributeType::PublicExponent),
        ) else {
            return Err(no_public());
        };
        let der = crate::keys::RsaPublicKeyDer {
            modulus: UintRef::new(modulus).map_err(|e| unsupported(e.to_string()))?,
            public_exponent: UintRef::new(exponent).map_err(|e| unsupported(e.to_string()))?,
        }
        .to_der()
        .map_err(|e| unsupported(e.to_string()))?;
        return raw_key(KeyAlgorithm::Rsa, &der);
    }
    if key_type == KeyType::EC || key_type == KeyType::EC_EDWARDS {
        let (Some(params), Some(point)) =
            (get(AttributeType::EcParams), get(AttributeType::EcPoint))
        else {
            return Err(no_public());
        };
        let algorithm = match params {
            EC_PARAMS_P256 if key_type == KeyType::EC => KeyAlgorithm::EcdsaP256,
            EC_PARAMS_P384 if key_type == KeyType::EC => KeyAlgorithm::EcdsaP384,
            EC_PARAMS_ED25519_OID | EC_PARAMS_ED25519_NAME if key_type == KeyType::EC_EDWARDS => {
                KeyAlgorithm::Ed25519
            }
            _ => {
                return Err(unsupported(format!(
                    "curve with CKA_EC_PARAMS {}",
                    crate::encoding::hex_lower(params.get(..32).unwrap_or(params))
                )));
            }
        };
        // CKA_EC_POINT is a DER OCTET STRING; some modules give the bare point.
        let bare = unwrap_octet_string(point).unwrap_or(point);
        return raw_key(algorithm, bare);
    }
    Err(unsupported(format!("key type {key_type}")))
}

/// The content of a DER OCTET STRING, if `der` is exactly one.
fn unwrap_octet_string(der: &[u8]) -> Option<&[u8]> {
    use der::Decode as _;
    der::asn1::OctetStringRef::from_der(der)
        .ok()
        .map(|s| s.as_bytes())
}

/// A token's fixed-width `r‖s` as the ASN.1 DER `Ecdsa-Sig-Value`.
fn ecdsa_der(raw: &[u8], width: usize) -> Option<Vec<u8>> {
    #[derive(der::Sequence)]
    struct EcdsaSig<'a> {
        r: UintRef<'a>,
        s: UintRef<'a>,
    }
    if raw.len() != 2 * width {
        return None;
    }
    let (r, s) = raw.split_at_checked(width)?;
    EcdsaSig {
        r: UintRef::new(r).ok()?,
        s: UintRef::new(s).ok()?,
    }
    .to_der()
    .ok()
}

fn choose_scheme(
    algorithm: KeyAlgorithm,
    padding: Option<RsaPadding>,
    usable: impl Fn(MechanismType) -> bool,
    shown: &str,
) -> Result<Scheme, Pkcs11Error> {
    let missing = |mechanism| Pkcs11Error::UnsupportedMechanism {
        uri: shown.to_owned(),
        mechanism,
    };
    match algorithm {
        KeyAlgorithm::Ed25519 if usable(MechanismType::EDDSA) => Ok(Scheme::Ed25519),
        KeyAlgorithm::Ed25519 => Err(missing("CKM_EDDSA")),
        KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384 => {
            let (digest, width, hashed, name) = if algorithm == KeyAlgorithm::EcdsaP256 {
                (
                    DigestAlgorithm::Sha256,
                    32,
                    MechanismType::ECDSA_SHA256,
                    "CKM_ECDSA or CKM_ECDSA_SHA256",
                )
            } else {
                (
                    DigestAlgorithm::Sha384,
                    48,
                    MechanismType::ECDSA_SHA384,
                    "CKM_ECDSA or CKM_ECDSA_SHA384",
                )
            };
            if usable(MechanismType::ECDSA) {
                Ok(Scheme::Ecdsa {
                    digest,
                    width,
                    prehash: true,
                })
            } else if usable(hashed) {
                Ok(Scheme::Ecdsa {
                    digest,
                    width,
                    prehash: false,
                })
            } else {
                Err(missing(name))
            }
        }
        KeyAlgorithm::Rsa => {
            let pss = [
                (MechanismType::SHA256_RSA_PKCS_PSS, false),
                (MechanismType::RSA_PKCS_PSS, true),
            ]
            .into_iter()
            .find(|(m, _)| usable(*m))
            .map(|(_, prehash)| Scheme::Rsa {
                padding: RsaPadding::Pss,
                prehash,
            });
            let pkcs1 = [
                (MechanismType::SHA256_RSA_PKCS, false),
                (MechanismType::RSA_PKCS, true),
            ]
            .into_iter()
            .find(|(m, _)| usable(*m))
            .map(|(_, prehash)| Scheme::Rsa {
                padding: RsaPadding::Pkcs1v15,
                prehash,
            });
            match padding {
                Some(RsaPadding::Pss) => {
                    pss.ok_or_else(|| missing("CKM_SHA256_RSA_PKCS_PSS or CKM_RSA_PKCS_PSS"))
                }
                Some(RsaPadding::Pkcs1v15) => {
                    pkcs1.ok_or_else(|| missing("CKM_SHA256_RSA_PKCS or CKM_RSA_PKCS"))
                }
                None => pss.or(pkcs1).ok_or_else(|| {
                    missing("an RSA signature mechanism (CKM_SHA256_RSA_PKCS_PSS, CKM_RSA_PKCS_PSS, CKM_SHA256_RSA_PKCS, CKM_RSA_PKCS)")
                }),
            }
        }
    }
}

/// Generates a key pair on the token the URI names, labelled with its
/// `object` (and `id`, if given; else 16 random bytes): the private key
/// sensitive, not extractable, private and for signing only; the public key
/// for verifying. RSA keys are 3072 bits. Refuses when an object with the
/// label or id is already there. Returns the signer for the new key.
pub fn generate_key_pair(uri: &Pkcs11Uri, algorithm: KeyAlgorithm) -> Result<Pkcs11Signer, Error> {
    let shown = uri.to_string();
    let label = uri
        .object
        .clone()
        .ok_or_else(|| Pkcs11Error::NoLabel { uri: shown.clone() })?;
    if let Some(t) = uri.object_type {
        if t != super::ObjectType::Private {
            return Err(Pkcs11Error::WrongObjectType {
                uri: shown,
                found: t.name(),
                expected: "private",
            }
            .into());
        }
    }
    let (token, _) = connect(uri, &shown)?;
    let session = token
        .ctx
        .open_rw_session(token.slot)
        .map_err(|e| call_error(&shown, "C_OpenSession", e))?;
    let id = match &uri.id {
        Some(id) => id.clone(),
        None => session
            .generate_random_vec(16)
            .map_err(|e| call_error(&shown, "C_GenerateRandom", e))?,
    };
    for attribute in [
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Id(id.clone()),
    ] {
        let existing = session
            .find_objects(&[attribute])
            .map_err(|e| call_error(&shown, "C_FindObjects", e))?;
        if !existing.is_empty() {
            return Err(Pkcs11Error::KeyExists { uri: shown }.into());
        }
    }
    let common = |public: bool| {
        vec![
            Attribute::Token(true),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(id.clone()),
            Attribute::Private(!public),
        ]
    };
    let mut public = common(true);
    public.push(Attribute::Verify(true));
    let mut private = common(false);
    private.extend([
        Attribute::Sign(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Decrypt(false),
        Attribute::Unwrap(false),
        Attribute::Derive(false),
    ]);
    let (mechanism, needed) = match algorithm {
        KeyAlgorithm::Ed25519 => {
            public.push(Attribute::EcParams(EC_PARAMS_ED25519_OID.to_vec()));
            (
                Mechanism::EccEdwardsKeyPairGen,
                "CKM_EC_EDWARDS_KEY_PAIR_GEN",
            )
        }
        KeyAlgorithm::EcdsaP256 => {
            public.push(Attribute::EcParams(EC_PARAMS_P256.to_vec()));
            (Mechanism::EccKeyPairGen, "CKM_EC_KEY_PAIR_GEN")
        }
        KeyAlgorithm::EcdsaP384 => {
            public.push(Attribute::EcParams(EC_PARAMS_P384.to_vec()));
            (Mechanism::EccKeyPairGen, "CKM_EC_KEY_PAIR_GEN")
        }
        KeyAlgorithm::Rsa => {
            public.push(Attribute::ModulusBits(3072.into()));
            public.push(Attribute::PublicExponent(vec![0x01, 0x00, 0x01]));
            (Mechanism::RsaPkcsKeyPairGen, "CKM_RSA_PKCS_KEY_PAIR_GEN")
        }
    };
    let mechanisms = token
        .ctx
        .get_mechanism_list(token.slot)
        .map_err(|e| call_error(&shown, "C_GetMechanismList", e))?;
    if !mechanisms.contains(&mechanism.mechanism_type()) {
        return Err(Pkcs11Error::UnsupportedMechanism {
            uri: shown,
            mechanism: needed,
        }
        .into());
    }
    session
        .generate_key_pair(&mechanism, &public, &private)
        .map_err(|e| call_error(&shown, "C_GenerateKeyPair", e))?;
    drop(session);
    let mut exact = uri.clone();
    exact.id = Some(id);
    Pkcs11Signer::open(&exact)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_ecdsa_becomes_der_that_ring_reads() {
        // r with its top bit set (needs a leading zero), s with leading zeros.
        let mut raw = vec![0u8; 64];
        raw[0] = 0x80;
        raw[63] = 0x01;
        let der = ecdsa_der(&raw, 32).unwrap();
        assert_eq!(der[..4], [0x30, 0x26, 0x02, 0x21]);
        assert_eq!(der[4], 0x00);
        assert_eq!(der[der.len() - 3..], [0x02, 0x01, 0x01]);
        assert!(ecdsa_der(&raw[..63], 32).is_none());
    }

    #[test]
    fn scheme_follows_the_tokens_mechanisms_and_the_keys_policy() {
        let only = |list: &'static [MechanismType]| move |m: MechanismType| list.contains(&m);
        assert_eq!(
            choose_scheme(
                KeyAlgorithm::Rsa,
                None,
                only(&[MechanismType::SHA256_RSA_PKCS]),
                "u"
            ),
            Ok(Scheme::Rsa {
                padding: RsaPadding::Pkcs1v15,
                prehash: false
            })
        );
        assert_eq!(
            choose_scheme(
                KeyAlgorithm::Rsa,
                None,
                only(&[MechanismType::RSA_PKCS_PSS, MechanismType::SHA256_RSA_PKCS]),
                "u"
            ),
            Ok(Scheme::Rsa {
                padding: RsaPadding::Pss,
                prehash: true
            })
        );
        assert!(matches!(
            choose_scheme(
                KeyAlgorithm::Rsa,
                Some(RsaPadding::Pss),
                only(&[MechanismType::SHA256_RSA_PKCS]),
                "u"
            ),
            Err(Pkcs11Error::UnsupportedMechanism { .. })
        ));
        assert_eq!(
            choose_scheme(
                KeyAlgorithm::EcdsaP384,
                None,
                only(&[MechanismType::ECDSA_SHA384]),
                "u"
            ),
            Ok(Scheme::Ecdsa {
                digest: DigestAlgorithm::Sha384,
                width: 48,
                prehash: false
            })
        );
        assert!(matches!(
            choose_scheme(
                KeyAlgorithm::Ed25519,
                None,
                only(&[MechanismType::ECDSA]),
                "u"
            ),
            Err(Pkcs11Error::UnsupportedMechanism {
                mechanism: "CKM_EDDSA",
                ..
            })
        ));
    }
}
