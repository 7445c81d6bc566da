//! RFC 7512 `pkcs11:` URIs, the way cosign and p11-kit write them.
//!
//! ```text
//! pkcs11:token=ci;object=builder?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=/run/secrets/pin
//! ```
//!
//! Path attributes (separated by `;`) pick the token and the object; query
//! attributes (separated by `&`) say which module to load and where the PIN
//! comes from. Values are percent-encoded where they hold anything but
//! unreserved characters. An attribute given twice, an attribute this
//! parser does not know (a `x-` vendor attribute included) and a malformed
//! escape are refused: ignoring part of a URI could select another key.

use std::fmt;
use std::path::PathBuf;

use zeroize::Zeroizing;

use super::Pkcs11Error;

/// The longest URI accepted, in bytes.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// The kind of object a URI's `type` attribute names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ObjectType {
    /// `public`: a public key.
    Public,
    /// `private`: a private key.
    Private,
    /// `cert`: a certificate.
    Cert,
    /// `secret-key`: a secret (symmetric) key.
    SecretKey,
    /// `data`: a data object.
    Data,
}

impl ObjectType {
    /// The name RFC 7512 gives the type.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
            Self::Cert => "cert",
            Self::SecretKey => "secret-key",
            Self::Data => "data",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [
            Self::Public,
            Self::Private,
            Self::Cert,
            Self::SecretKey,
            Self::Data,
        ]
        .into_iter()
        .find(|t| t.name() == name)
    }
}

/// A user PIN. Its `Debug` never shows it; the bytes are zeroed on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(Zeroizing<String>);

impl Pin {
    /// Wraps a PIN.
    pub fn new(pin: impl Into<String>) -> Self {
        Self(Zeroizing::new(pin.into()))
    }

    /// The PIN, for the one call that logs in.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(redacted)")
    }
}

/// Where the PIN comes from.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum PinSource {
    /// `pin-value`: the PIN itself, in the URI.
    Value(Pin),
    /// `pin-source`: a file holding the PIN (a path, or a `file:` URI);
    /// one trailing newline is not part of the PIN.
    File(PathBuf),
}

/// A parsed RFC 7512 `pkcs11:` URI.
///
/// Its `Display` is the URI in a canonical form **without** `pin-value`,
/// so it can go into errors and logs; its `Debug` redacts the PIN too.
///
/// ```
/// use custodia::pkcs11::Pkcs11Uri;
/// let uri: Pkcs11Uri = "pkcs11:token=ci;object=build%20key;id=%01%02\
///     ?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234".parse()?;
/// assert_eq!(uri.token.as_deref(), Some("ci"));
/// assert_eq!(uri.object.as_deref(), Some("build key"));
/// assert_eq!(uri.id.as_deref(), Some(&[1u8, 2][..]));
/// let shown = uri.to_string();
/// assert!(!shown.contains("1234") && !format!("{uri:?}").contains("1234"));
/// assert_eq!(shown.parse::<Pkcs11Uri>()?.object, uri.object);
/// # Ok::<(), custodia::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Pkcs11Uri {
    /// `token`: the token's label.
    pub token: Option<String>,
    /// `manufacturer`: the token's manufacturer.
    pub manufacturer: Option<String>,
    /// `serial`: the token's serial number.
    pub serial: Option<String>,
    /// `model`: the token's model.
    pub model: Option<String>,
    /// `library-manufacturer`: the module's manufacturer.
    pub library_manufacturer: Option<String>,
    /// `library-description`: the module's description.
    pub library_description: Option<String>,
    /// `library-version`: the module's version, `major[.minor]`.
    pub library_version: Option<(u8, u8)>,
    /// `object`: the object's label (CKA_LABEL).
    pub object: Option<String>,
    /// `type`: the object's kind.
    pub object_type: Option<ObjectType>,
    /// `id`: the object's CKA_ID bytes.
    pub id: Option<Vec<u8>>,
    /// `slot-description`: the slot's description.
    pub slot_description: Option<String>,
    /// `slot-manufacturer`: the slot's manufacturer.
    pub slot_manufacturer: Option<String>,
    /// `slot-id`: the slot's CK_SLOT_ID.
    pub slot_id: Option<u64>,
    /// `module-name`: the module's name (informational; custodia loads
    /// only `module-path`).
    pub module_name: Option<String>,
    /// `module-path`: the PKCS#11 module (shared library) to load.
    pub module_path: Option<PathBuf>,
    /// `pin-value` or `pin-source`.
    pub pin: Option<PinSource>,
}

impl Pkcs11Uri {
    /// Parses a `pkcs11:` URI.
    pub fn parse(input: &str) -> Result<Self, Pkcs11Error> {
        let bad = |reason: UriProblem| Pkcs11Error::InvalidUri { reason };
        if input.len() > MAX_URI_BYTES {
            return Err(bad(UriProblem::TooLong));
        }
        let rest = match input.split_at_checked(7) {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("pkcs11:") => rest,
            _ => return Err(bad(UriProblem::NotPkcs11)),
        };
        if let Some(c) = rest.chars().find(|c| !is_uri_char(*c)) {
            return Err(bad(UriProblem::BadCharacter(c)));
        }
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let mut uri = Self::default();
        if !path.is_empty() {
            for attribute in path.split(';') {
                let (name, value) = split_attribute(attribute)?;
                uri.set_path_attribute(name, value)?;
            }
        }
        if let Some(query) = query {
            if !query.is_empty() {
                for attribute in query.split('&') {
                    let (name, value) = split_attribute(attribute)?;
                    uri.set_query_attribute(name, value)?;
                }
            }
        }
        Ok(uri)
    }

    /// Whether `key` names a `pkcs11:` URI rather than a file (its scheme,
    /// case-insensitively).
    pub fn is_pkcs11_uri(key: &str) -> bool {
        key.get(..7)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("pkcs11:"))
    }

    fn set_path_attribute(&mut self, name: &str, raw: &str) -> Result<(), Pkcs11Error> {
        let text = |slot: &mut Option<String>| set_once(slot, name, || decode_text(name, raw));
        match name {
            "token" => text(&mut self.token),
            "manufacturer" => text(&mut self.manufacturer),
            "serial" => text(&mut self.serial),
            "model" => text(&mut self.model),
            "library-manufacturer" => text(&mut self.library_manufacturer),
            "library-description" => text(&mut self.library_description),
            "object" => text(&mut self.object),
            "slot-description" => text(&mut self.slot_description),
            "slot-manufacturer" => text(&mut self.slot_manufacturer),
            "library-version" => set_once(&mut self.library_version, name, || {
                parse_version(&decode_text(name, raw)?)
            }),
            "type" => set_once(&mut self.object_type, name, || {
                let value = decode_text(name, raw)?;
                ObjectType::from_name(&value).ok_or(Pkcs11Error::InvalidUri {
                    reason: UriProblem::BadValue("type"),
                })
            }),
            "id" => set_once(&mut self.id, name, || decode(name, raw)),
            "slot-id" => set_once(&mut self.slot_id, name, || {
                let value = decode_text(name, raw)?;
                parse_decimal(&value).ok_or(Pkcs11Error::InvalidUri {
                    reason: UriProblem::BadValue("slot-id"),
                })
            }),
            _ => Err(Pkcs11Error::InvalidUri {
                reason: UriProblem::UnknownAttribute(short(name)),
            }),
        }
    }

    fn set_query_attribute(&mut self, name: &str, raw: &str) -> Result<(), Pkcs11Error> {
        match name {
            "module-name" => set_once(&mut self.module_name, name, || decode_text(name, raw)),
            "module-path" => set_once(&mut self.module_path, name, || {
                decode_text(name, raw).map(PathBuf::from)
            }),
            "pin-value" | "pin-source" => {
                if self.pin.is_some() {
                    return Err(Pkcs11Error::InvalidUri {
                        reason: UriProblem::Repeated(if name == "pin-value" {
                            "pin-value"
                        } else {
                            "pin-source"
                        }),
                    });
                }
                let value = Zeroizing::new(decode_text(name, raw)?);
                self.pin = Some(if name == "pin-value" {
                    PinSource::Value(Pin::new(value.as_str()))
                } else {
                    let path = value.strip_prefix("file:").unwrap_or(&value);
                    if path.is_empty() {
                        return Err(Pkcs11Error::InvalidUri {
                            reason: UriProblem::BadValue("pin-source"),
                        });
                    }
                    PinSource::File(PathBuf::from(path))
                });
                Ok(())
            }
            _ => Err(Pkcs11Error::InvalidUri {
                reason: UriProblem::UnknownAttribute(short(name)),
            }),
        }
    }

    /// The URI with `pin-value` in it (when it has one), for a caller that
    /// must hand the whole URI to another program; zeroed on drop.
    pub fn to_string_with_pin(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(self.to_string());
        if let Some(PinSource::Value(pin)) = &self.pin {
            out.push(if self.has_query() { '&' } else { '?' });
            out.push_str("pin-value=");
            out.push_str(&encode(pin.expose().as_bytes(), true));
        }
        out
    }

    fn has_query(&self) -> bool {
        self.module_name.is_some()
            || self.module_path.is_some()
            || matches!(self.pin, Some(PinSource::File(_)))
    }
}

impl std::str::FromStr for Pkcs11Uri {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::parse(s)?)
    }
}

impl fmt::Display for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let version = self
            .library_version
            .map(|(major, minor)| format!("{major}.{minor}"));
        let slot_id = self.slot_id.map(|id| id.to_string());
        let text: [(&str, Option<&[u8]>); 13] = [
            ("token", self.token.as_deref().map(str::as_bytes)),
            (
                "manufacturer",
                self.manufacturer.as_deref().map(str::as_bytes),
            ),
            ("serial", self.serial.as_deref().map(str::as_bytes)),
            ("model", self.model.as_deref().map(str::as_bytes)),
            (
                "library-manufacturer",
                self.library_manufacturer.as_deref().map(str::as_bytes),
            ),
            (
                "library-description",
                self.library_description.as_deref().map(str::as_bytes),
            ),
            ("library-version", version.as_deref().map(str::as_bytes)),
            ("object", self.object.as_deref().map(str::as_bytes)),
            ("type", self.object_type.map(|t| t.name().as_bytes())),
            ("id", self.id.as_deref()),
            (
                "slot-description",
                self.slot_description.as_deref().map(str::as_bytes),
            ),
            (
                "slot-manufacturer",
                self.slot_manufacturer.as_deref().map(str::as_bytes),
            ),
            ("slot-id", slot_id.as_deref().map(str::as_bytes)),
        ];
        f.write_str("pkcs11:")?;
        let mut first = true;
        for (name, value) in text {
            if let Some(value) = value {
                if !first {
                    f.write_str(";")?;
                }
                first = false;
                // `id` is bytes: every byte escaped, as RFC 7512 writes it.
                let value = if name == "id" {
                    value.iter().map(|b| format!("%{b:02X}")).collect()
                } else {
                    encode(value, false)
                };
                write!(f, "{name}={value}")?;
            }
        }
        let module_path = self
            .module_path
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned());
        let pin_source = match &self.pin {
            Some(PinSource::File(path)) => Some(path.to_string_lossy().into_owned()),
            _ => None,
        };
        let query = [
            ("module-name", self.module_name.clone()),
            ("module-path", module_path),
            ("pin-source", pin_source),
        ];
        let mut separator = '?';
        for (name, value) in query {
            if let Some(value) = value {
                write!(f, "{separator}{name}={}", encode(value.as_bytes(), true))?;
                separator = '&';
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pin = match &self.pin {
            Some(PinSource::Value(_)) => " (pin-value redacted)",
            _ => "",
        };
        write!(f, "Pkcs11Uri({self}{pin})")
    }
}

/// What was wrong with a `pkcs11:` URI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UriProblem {
    /// It does not start with `pkcs11:`.
    #[error("not a `pkcs11:` URI")]
    NotPkcs11,
    /// It is longer than [`MAX_URI_BYTES`].
    #[error("longer than {MAX_URI_BYTES} bytes")]
    TooLong,
    /// A character a URI cannot hold unescaped.
    #[error("character {0:?} must be percent-encoded")]
    BadCharacter(char),
    /// An attribute without `=`, or with an empty name.
    #[error("an attribute must be `name=value`")]
    NotAnAttribute,
    /// An attribute this parser does not know (shortened to 40 characters).
    #[error("unknown attribute `{0}`")]
    UnknownAttribute(String),
    /// An attribute given twice (`pin-value` and `pin-source` count as one).
    #[error("attribute `{0}` given twice")]
    Repeated(&'static str),
    /// A `%` not followed by two hex digits.
    #[error("`{0}`: bad percent-encoding")]
    BadEscape(&'static str),
    /// A value that must be text is not UTF-8, or a value out of its range.
    #[error("`{0}`: invalid value")]
    BadValue(&'static str),
}

/// The attribute names, as `'static` strings for errors.
const NAMES: [&str; 17] = [
    "token",
    "manufacturer",
    "serial",
    "model",
    "library-manufacturer",
    "library-description",
    "library-version",
    "object",
    "type",
    "id",
    "slot-description",
    "slot-manufacturer",
    "slot-id",
    "module-name",
    "module-path",
    "pin-value",
    "pin-source",
];

fn static_name(name: &str) -> &'static str {
    NAMES
        .into_iter()
        .find(|n| *n == name)
        .unwrap_or("attribute")
}

fn short(name: &str) -> String {
    name.chars().take(40).collect()
}

fn split_attribute(attribute: &str) -> Result<(&str, &str), Pkcs11Error> {
    match attribute.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name, value)),
        _ => Err(Pkcs11Error::InvalidUri {
            reason: UriProblem::NotAnAttribute,
        }),
    }
}

fn set_once<T>(
    slot: &mut Option<T>,
    name: &str,
    value: impl FnOnce() -> Result<T, Pkcs11Error>,
) -> Result<(), Pkcs11Error> {
    if slot.is_some() {
        return Err(Pkcs11Error::InvalidUri {
            reason: UriProblem::Repeated(static_name(name)),
        });
    }
    *slot = Some(value()?);
    Ok(())
}

/// Printable ASCII other than the characters RFC 3986 never allows
/// unescaped (space, `"`, `<`, `>`, `\`, `^`, `` ` ``, `{`, `|`, `}`, `#`).
fn is_uri_char(c: char) -> bool {
    c.is_ascii_graphic() && !matches!(c, '"' | '<' | '>' | '\\' | '^' | '`' | '{' | '}' | '#')
}

fn decode(name: &str, raw: &str) -> Result<Vec<u8>, Pkcs11Error> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()))
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or(Pkcs11Error::InvalidUri {
                    reason: UriProblem::BadEscape(static_name(name)),
                })?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    Ok(out)
}

fn decode_text(name: &str, raw: &str) -> Result<String, Pkcs11Error> {
    String::from_utf8(decode(name, raw)?).map_err(|_| Pkcs11Error::InvalidUri {
        reason: UriProblem::BadValue(static_name(name)),
    })
}

/// Percent-encodes all but RFC 3986 unreserved characters (and `/` in
/// query values, where paths live).
fn encode(value: &[u8], query: bool) -> String {
    let mut out = String::with_capacity(value.len());
    for &b in value {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') || query && b == b'/'
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_version(s: &str) -> Result<(u8, u8), Pkcs11Error> {
    let bad = Pkcs11Error::InvalidUri {
        reason: UriProblem::BadValue("library-version"),
    };
    let (major, minor) = match s.split_once('.') {
        Some((major, minor)) => (major, Some(minor)),
        None => (s, None),
    };
    let part = |p: &str| parse_decimal(p).and_then(|v| u8::try_from(v).ok());
    let major = part(major).ok_or_else(|| bad.clone())?;
    let minor = match minor {
        Some(minor) => part(minor).ok_or(bad)?,
        None => 0,
    };
    Ok((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(input: &str) -> UriProblem {
        match Pkcs11Uri::parse(input) {
            Err(Pkcs11Error::InvalidUri { reason }) => reason,
            other => panic!("{input}: expected InvalidUri, got {other:?}"),
        }
    }

    #[test]
    fn rfc7512_examples_parse() {
        // Section 3.3 of RFC 7512.
        let uri = Pkcs11Uri::parse("pkcs11:").unwrap();
        assert_eq!(uri, Pkcs11Uri::default());
        let uri = Pkcs11Uri::parse("pkcs11:object=my-pubkey;type=public").unwrap();
        assert_eq!(uri.object.as_deref(), Some("my-pubkey"));
        assert_eq!(uri.object_type, Some(ObjectType::Public));
        let uri = Pkcs11Uri::parse(
            "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;\
             manufacturer=Snake%20Oil,%20Inc.;model=1.0;object=my-certificate;\
             type=cert;id=%69%95%3E%5C%F4%BD%EC%91;serial=\
             ?pin-source=file:/etc/token_pin",
        )
        .unwrap();
        assert_eq!(uri.token.as_deref(), Some("The Software PKCS#11 Softtoken"));
        assert_eq!(uri.manufacturer.as_deref(), Some("Snake Oil, Inc."));
        assert_eq!(uri.serial.as_deref(), Some(""));
        assert_eq!(
            uri.id.as_deref(),
            Some(&[0x69, 0x95, 0x3e, 0x5c, 0xf4, 0xbd, 0xec, 0x91][..])
        );
        assert_eq!(
            uri.pin,
            Some(PinSource::File(PathBuf::from("/etc/token_pin")))
        );
        let uri = Pkcs11Uri::parse("pkcs11:object=my-sign-key;type=private?module-name=mypkcs11")
            .unwrap();
        assert_eq!(uri.module_name.as_deref(), Some("mypkcs11"));
        let uri = Pkcs11Uri::parse(
            "pkcs11:object=my-sign-key;type=private?module-path=/mnt/libmypkcs11.so.1",
        )
        .unwrap();
        assert_eq!(
            uri.module_path,
            Some(PathBuf::from("/mnt/libmypkcs11.so.1"))
        );
        let uri = Pkcs11Uri::parse(
            "pkcs11:library-manufacturer=Snake%20Oil,%20Inc.;library-description=Soft;library-version=1",
        )
        .unwrap();
        assert_eq!(uri.library_version, Some((1, 0)));
        let uri = Pkcs11Uri::parse("pkcs11:slot-description=Sun%20Metaslot;slot-id=42").unwrap();
        assert_eq!(uri.slot_id, Some(42));
    }

    #[test]
    fn cosign_form_parses_and_the_pin_stays_hidden() {
        let uri = Pkcs11Uri::parse(
            "pkcs11:token=custodia;slot-id=0;object=builder?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=s3cr%45t",
        )
        .unwrap();
        assert_eq!(uri.pin, Some(PinSource::Value(Pin::new("s3crEt"))));
        let shown = format!("{uri} {uri:?} {:?}", uri.pin);
        assert!(!shown.contains("s3cr"), "{shown}");
        assert!(uri.to_string_with_pin().contains("pin-value=s3crEt"));
        assert_eq!(Pkcs11Uri::parse(&uri.to_string_with_pin()).unwrap(), uri);
    }

    #[test]
    fn refusals_are_typed() {
        assert_eq!(problem("file:/x"), UriProblem::NotPkcs11);
        assert_eq!(problem("pkcs11"), UriProblem::NotPkcs11);
        assert_eq!(problem("pkcs11:token=a b"), UriProblem::BadCharacter(' '));
        assert_eq!(problem("pkcs11:token=é"), UriProblem::BadCharacter('é'));
        assert_eq!(problem("pkcs11:token"), UriProblem::NotAnAttribute);
        assert_eq!(problem("pkcs11:=x"), UriProblem::NotAnAttribute);
        assert_eq!(problem("pkcs11:token=a;"), UriProblem::NotAnAttribute);
        assert_eq!(
            problem("pkcs11:x-vendor=1"),
            UriProblem::UnknownAttribute("x-vendor".into())
        );
        assert_eq!(
            problem("pkcs11:?pin=1"),
            UriProblem::UnknownAttribute("pin".into())
        );
        assert_eq!(
            problem("pkcs11:token=a;token=b"),
            UriProblem::Repeated("token")
        );
        assert_eq!(
            problem("pkcs11:?pin-value=1&pin-source=/p"),
            UriProblem::Repeated("pin-source")
        );
        assert_eq!(problem("pkcs11:id=%0"), UriProblem::BadEscape("id"));
        assert_eq!(problem("pkcs11:id=%zz"), UriProblem::BadEscape("id"));
        assert_eq!(problem("pkcs11:object=%FF"), UriProblem::BadValue("object"));
        assert_eq!(problem("pkcs11:type=key"), UriProblem::BadValue("type"));
        assert_eq!(
            problem("pkcs11:slot-id=-1"),
            UriProblem::BadValue("slot-id")
        );
        assert_eq!(
            problem("pkcs11:slot-id=99999999999999999999"),
            UriProblem::BadValue("slot-id")
        );
        assert_eq!(
            problem("pkcs11:library-version=1.256"),
            UriProblem::BadValue("library-version")
        );
        assert_eq!(
            problem("pkcs11:?pin-source=file:"),
            UriProblem::BadValue("pin-source")
        );
        assert_eq!(
            problem(&format!("pkcs11:object={}", "a".repeat(MAX_URI_BYTES))),
            UriProblem::TooLong
        );
    }

    #[test]
    fn scheme_is_case_insensitive() {
        assert!(Pkcs11Uri::is_pkcs11_uri("PKCS11:token=a"));
        assert!(!Pkcs11Uri::is_pkcs11_uri("keys/pkcs11.pem"));
        assert_eq!(
            Pkcs11Uri::parse("PKCS11:token=a").unwrap().token.as_deref(),
            Some("a")
        );
    }
}
