//! The in-toto Statement v1 (Attestation Framework v1).
//!
//! ```json
//! {"_type": "https://in-toto.io/Statement/v1",
//!  "subject": [{"name": "app", "digest": {"sha256": "..."}}],
//!  "predicateType": "https://slsa.dev/provenance/v1",
//!  "predicate": {...}}
//! ```
//!
//! Parsing is strict where the spec is: the type URI, a non-empty subject
//! list, a digest on every subject, a predicate type and a predicate object
//! are required (the same rules as the reference implementation's
//! `Validate()`). Statements of type `https://in-toto.io/Statement/v0.1`
//! are read too (their JSON shape is the same) and written back as they
//! were. Unrecognized fields are ignored.
//!
//! A predicate is carried as its JSON text: exactly as it was read (the
//! signed bytes, member order kept) or as it was written. Typed predicates
//! implement [`Predicate`] and are read straight from that text with
//! [`Statement::predicate_as`], which first checks the predicate type; no
//! JSON tree is built in between. [`Statement::predicate_value`] parses
//! the text into a `serde_json::Value` for code that walks it.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::digest::{DigestMismatch, DigestSet};
use crate::error::{Error, StatementError};
use crate::resource::{ResourceDescriptor, ResourceDescriptorWire};

/// The media type of an in-toto Statement, used as the DSSE payload type.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// Whether a DSSE payload type says "an in-toto Statement": the generic
/// [`PAYLOAD_TYPE`] or, per in-toto attestation 1.2's envelope layer, the
/// predicate-specific `application/vnd.in-toto.<predicate>+json`, where
/// `<predicate>` is a predicate specification's file name (`provenance`,
/// `vsa`, `spdx`, `test-result`, ...): lowercase letters, digits, `-`,
/// `_` and `.`, starting with a letter or digit, at most 64 characters.
///
/// The `<predicate>` part is never trusted: the spec says consumers rely
/// only on the signed Statement's `predicateType`, so verification checks
/// that, and a payload type naming another predicate changes nothing.
///
/// ```
/// use custodia::statement::is_payload_type;
/// assert!(is_payload_type("application/vnd.in-toto+json"));
/// assert!(is_payload_type("application/vnd.in-toto.provenance+json"));
/// assert!(is_payload_type("application/vnd.in-toto.test-result+json"));
/// assert!(!is_payload_type("application/vnd.in-toto.+json"));
/// assert!(!is_payload_type("application/vnd.in-toto.Provenance+json"));
/// assert!(!is_payload_type("application/vnd.in-toto.provenance+dsse"));
/// assert!(!is_payload_type("text/plain"));
/// ```
pub fn is_payload_type(payload_type: &str) -> bool {
    if payload_type == PAYLOAD_TYPE {
        return true;
    }
    let Some(predicate) = payload_type
        .strip_prefix("application/vnd.in-toto.")
        .and_then(|rest| rest.strip_suffix("+json"))
    else {
        return false;
    };
    let mut chars = predicate.chars();
    predicate.len() <= 64
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c))
}

/// A typed predicate: a serde type with its predicate type URI.
///
/// ```
/// use custodia::statement::{Predicate, Statement};
/// use custodia::resource::ResourceDescriptor;
/// use custodia::digest::DigestSet;
///
/// #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
/// struct Reviewed { reviewer: String }
/// impl Predicate for Reviewed {
///     const PREDICATE_TYPE: &'static str = "https://example.com/reviewed/v1";
/// }
///
/// let subject = ResourceDescriptor::new("app", DigestSet::of_bytes(b"app"));
/// let st = Statement::new(vec![subject], &Reviewed { reviewer: "ana".into() })?;
/// let back = Statement::from_json(&st.to_json()?)?;
/// assert_eq!(back.predicate_as::<Reviewed>()?.reviewer, "ana");
/// # Ok::<(), custodia::Error>(())
/// ```
pub trait Predicate: Serialize + DeserializeOwned {
    /// The predicate type URI.
    const PREDICATE_TYPE: &'static str;
}

/// Which Statement version a document declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatementType {
    /// `https://in-toto.io/Statement/v1`, the current version.
    V1,
    /// `https://in-toto.io/Statement/v0.1`, read for compatibility.
    V0_1,
}

impl StatementType {
    /// The `_type` URI.
    pub const fn uri(self) -> &'static str {
        match self {
            Self::V1 => "https://in-toto.io/Statement/v1",
            Self::V0_1 => "https://in-toto.io/Statement/v0.1",
        }
    }

    fn from_uri(uri: &str) -> Option<Self> {
        [Self::V1, Self::V0_1].into_iter().find(|t| t.uri() == uri)
    }
}

/// A validated in-toto Statement.
///
/// ```
/// use custodia::statement::Statement;
/// use custodia::resource::ResourceDescriptor;
/// use custodia::digest::DigestSet;
/// let st = Statement::new_untyped(
///     vec![ResourceDescriptor::new("app", DigestSet::of_bytes(b"app"))],
///     "https://example.com/note/v1",
///     serde_json::json!({"note": "hi"}),
/// )?;
/// assert_eq!(st.predicate_type(), "https://example.com/note/v1");
/// assert!(st.subject_matching(&DigestSet::of_bytes(b"app")).is_ok());
/// assert!(st.subject_matching(&DigestSet::of_bytes(b"rebuilt")).is_err());
/// # Ok::<(), custodia::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Statement {
    statement_type: StatementType,
    subject: Vec<ResourceDescriptor>,
    predicate_type: String,
    /// The predicate's JSON text: an object, without duplicate members
    /// (checked when read, or written from a value).
    predicate: Box<RawValue>,
}

/// Two statements are equal when their type, subjects and predicate type
/// are, and their predicates are the same JSON text.
impl PartialEq for Statement {
    fn eq(&self, other: &Self) -> bool {
        self.statement_type == other.statement_type
            && self.subject == other.subject
            && self.predicate_type == other.predicate_type
            && self.predicate.get() == other.predicate.get()
    }
}

impl Statement {
    /// A v1 statement with a typed predicate.
    pub fn new<P: Predicate>(
        subject: Vec<ResourceDescriptor>,
        predicate: &P,
    ) -> Result<Self, Error> {
        let value = serde_json::to_value(predicate)
            .map_err(|e| StatementError::InvalidPredicate(e.to_string()))?;
        Self::new_untyped(subject, P::PREDICATE_TYPE, value)
    }

    /// A v1 statement with a predicate given as JSON.
    pub fn new_untyped(
        subject: Vec<ResourceDescriptor>,
        predicate_type: impl Into<String>,
        predicate: serde_json::Value,
    ) -> Result<Self, Error> {
        let st = Self {
            statement_type: StatementType::V1,
            subject,
            predicate_type: predicate_type.into(),
            predicate: raw_of(&predicate)?,
        };
        st.validate()?;
        Ok(st)
    }

    /// Parses and validates a statement from JSON bytes (duplicate members
    /// rejected).
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        let wire: StatementWire<Box<RawValue>> =
            crate::json::from_slice(bytes, "in-toto statement")?;
        // The predicate's text is kept as read, so its members were not
        // looked at: they are checked here.
        if let Some(predicate) = &wire.predicate {
            crate::json::reject_duplicates_in(predicate, "predicate")?;
        }
        Self::from_wire(wire)
    }

    /// Serializes as compact JSON in the spec's field order.
    pub fn to_json(&self) -> Result<Vec<u8>, Error> {
        Ok(crate::json::to_vec(self, "in-toto statement")?)
    }

    /// The declared statement version.
    pub fn statement_type(&self) -> StatementType {
        self.statement_type
    }

    /// The subjects.
    pub fn subject(&self) -> &[ResourceDescriptor] {
        &self.subject
    }

    /// The predicate type URI.
    pub fn predicate_type(&self) -> &str {
        &self.predicate_type
    }

    /// The predicate's JSON text (an object): as read, or as written.
    pub fn predicate(&self) -> &RawValue {
        &self.predicate
    }

    /// The predicate parsed as a JSON value.
    pub fn predicate_value(&self) -> Result<serde_json::Value, Error> {
        self.predicate_json("predicate")
    }

    /// The predicate as `P`, after checking the predicate type.
    pub fn predicate_as<P: Predicate>(&self) -> Result<P, Error> {
        if self.predicate_type != P::PREDICATE_TYPE {
            return Err(StatementError::PredicateTypeMismatch {
                expected: P::PREDICATE_TYPE.to_owned(),
                found: self.predicate_type.clone(),
            }
            .into());
        }
        self.predicate_json("predicate")
    }

    /// The predicate read as `T` (any type, no predicate-type check);
    /// errors name `what`.
    pub(crate) fn predicate_json<T: DeserializeOwned>(
        &self,
        what: &'static str,
    ) -> Result<T, Error> {
        Ok(crate::json::from_slice(
            self.predicate.get().as_bytes(),
            what,
        )?)
    }

    /// The first subject whose digests identify `artifact` (all shared
    /// algorithms agree, at least one strong). On failure, the reason for
    /// each subject.
    pub fn subject_matching(
        &self,
        artifact: &DigestSet,
    ) -> Result<&ResourceDescriptor, Vec<DigestMismatch>> {
        let mut reasons = Vec::new();
        for subject in &self.subject {
            match subject.matches(artifact) {
                Ok(_) => return Ok(subject),
                Err(reason) => reasons.push(reason),
            }
        }
        Err(reasons)
    }

    /// Checks every rule of the spec.
    pub fn validate(&self) -> Result<(), StatementError> {
        if self.subject.is_empty() {
            return Err(StatementError::SubjectRequired);
        }
        for (index, subject) in self.subject.iter().enumerate() {
            validate_subject(subject, index)?;
        }
        if self.predicate_type.is_empty() {
            return Err(StatementError::PredicateTypeRequired);
        }
        if !self.predicate.get().starts_with('{') {
            return Err(StatementError::PredicateRequired);
        }
        Ok(())
    }

    fn from_wire(wire: StatementWire<Box<RawValue>>) -> Result<Self, Error> {
        let statement_type = StatementType::from_uri(&wire.type_)
            .ok_or_else(|| StatementError::InvalidType(crate::digest::shorten(&wire.type_)))?;
        let subject = wire
            .subject
            .into_iter()
            .enumerate()
            .map(|(i, rd)| ResourceDescriptor::from_wire(rd, &format!("subject[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let st = Self {
            statement_type,
            subject,
            predicate_type: wire.predicate_type,
            predicate: match wire.predicate {
                Some(raw) => raw,
                None => return Err(StatementError::PredicateRequired.into()),
            },
        };
        st.validate()?;
        Ok(st)
    }
}

/// A subject needs some identity (reported as a descriptor error, as the
/// reference implementation does) and, specifically, a digest.
fn validate_subject(subject: &ResourceDescriptor, index: usize) -> Result<(), StatementError> {
    if subject.name.is_none() && subject.digest.is_empty() {
        subject.validate(&format!("subject[{index}]"))?;
    }
    if subject.digest.is_empty() {
        return Err(StatementError::DigestRequired { index });
    }
    Ok(())
}

/// A statement as JSON has it; `P` holds the predicate: its text (read by
/// [`Statement::from_json`], which then checks it for repeated members) or
/// a value (read by any other deserializer).
#[derive(Deserialize)]
struct StatementWire<P> {
    #[serde(rename = "_type")]
    type_: String,
    #[serde(default)]
    subject: Vec<ResourceDescriptorWire>,
    #[serde(rename = "predicateType", default)]
    predicate_type: String,
    #[serde(default = "Option::default")]
    predicate: Option<P>,
}

/// A predicate value's compact JSON text.
fn raw_of(value: &serde_json::Value) -> Result<Box<RawValue>, StatementError> {
    serde_json::value::to_raw_value(value)
        .map_err(|e| StatementError::InvalidPredicate(e.to_string()))
}

#[derive(Serialize)]
struct StatementOut<'a> {
    #[serde(rename = "_type")]
    type_: &'static str,
    subject: &'a [ResourceDescriptor],
    #[serde(rename = "predicateType")]
    predicate_type: &'a str,
    predicate: &'a RawValue,
}

impl Serialize for Statement {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        StatementOut {
            type_: self.statement_type.uri(),
            subject: &self.subject,
            predicate_type: &self.predicate_type,
            predicate: &self.predicate,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Statement {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A deserializer of unknown origin may not have checked for
        // duplicate members: the predicate is read as a value (which keeps
        // one of each) and written back as text.
        let wire = StatementWire::<serde_json::Value>::deserialize(d)?;
        let predicate = match wire.predicate {
            Some(value) if !value.is_null() => {
                Some(raw_of(&value).map_err(serde::de::Error::custom)?)
            }
            _ => None,
        };
        let wire = StatementWire {
            type_: wire.type_,
            subject: wire.subject,
            predicate_type: wire.predicate_type,
            predicate,
        };
        Self::from_wire(wire).map_err(serde::de::Error::custom)
    }
}
