//! Strict JSON reading shared by every wire format.
//!
//! serde_json keeps the last of two members with the same name, which lets
//! two parsers of one document see different values. Every custodia reader
//! therefore first checks the whole document for duplicate members (at any
//! depth), then deserializes it, reporting the field path and position of
//! the first problem. Nesting depth is bounded by serde_json's recursion
//! limit (128), so hostile input cannot exhaust the stack.

use std::collections::BTreeSet;
use std::fmt;

use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::error::JsonError;

/// Parses `bytes` as `T`, rejecting duplicate members and trailing data.
pub(crate) fn from_slice<T: DeserializeOwned>(
    bytes: &[u8],
    what: &'static str,
) -> Result<T, JsonError> {
    reject_duplicates(bytes, what)?;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        to_json_error(what, path, &e.into_inner())
    })?;
    de.end()
        .map_err(|e| to_json_error(what, String::new(), &e))?;
    Ok(value)
}

/// Converts an already-parsed value into `T`, with the field path on error.
pub(crate) fn from_value<T: DeserializeOwned>(
    value: &serde_json::Value,
    what: &'static str,
) -> Result<T, JsonError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        to_json_error(what, path, &e.into_inner())
    })
}

/// Fails on the first object that has two members with the same name.
pub(crate) fn reject_duplicates(bytes: &[u8], what: &'static str) -> Result<(), JsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize::<_, NoDuplicates>(&mut de).map_err(|e| {
        let path = e.path().to_string();
        to_json_error(what, path, &e.into_inner())
    })?;
    de.end().map_err(|e| to_json_error(what, String::new(), &e))
}

fn to_json_error(what: &'static str, path: String, e: &serde_json::Error) -> JsonError {
    let full = e.to_string();
    // serde_json appends " at line L column C"; keep the position as fields.
    let message = match full.rfind(" at line ") {
        Some(i) if e.line() > 0 => full.get(..i).unwrap_or(&full).to_owned(),
        _ => full,
    };
    JsonError {
        what,
        path: crate::digest::shorten(&path),
        line: e.line(),
        column: e.column(),
        message,
    }
}

/// Deserializes any JSON value, failing on duplicate object members.
struct NoDuplicates;

impl<'de> de::Deserialize<'de> for NoDuplicates {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NoDuplicatesVisitor)
    }
}

struct NoDuplicatesVisitor;

impl<'de> Visitor<'de> for NoDuplicatesVisitor {
    type Value = NoDuplicates;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_i64<E>(self, _: i64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_u64<E>(self, _: u64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_f64<E>(self, _: f64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_str<E>(self, _: &str) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_unit<E>(self) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NoDuplicates, A::Error> {
        while seq.next_element::<NoDuplicates>()?.is_some() {}
        Ok(NoDuplicates)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NoDuplicates, A::Error> {
        let mut seen = BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if seen.contains(&key) {
                return Err(de::Error::custom(format_args!(
                    "duplicate member `{}`",
                    crate::digest::shorten(&key)
                )));
            }
            map.next_value::<NoDuplicates>()?;
            seen.insert(key);
        }
        Ok(NoDuplicates)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_found_at_any_depth_with_a_path() {
        let err = reject_duplicates(br#"{"a":[{"b":1,"b":2}]}"#, "test").unwrap_err();
        assert!(err.message.contains("duplicate member `b`"), "{err}");
        assert_eq!(err.path, "a[0]");
        assert!(reject_duplicates(br#"{"a":{"b":1},"c":{"b":2}}"#, "test").is_ok());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = "[".repeat(100_000);
        assert!(reject_duplicates(deep.as_bytes(), "test").is_err());
    }

    #[test]
    fn trailing_data_is_rejected() {
        assert!(reject_duplicates(b"{} {}", "test").is_err());
        assert!(from_slice::<serde_json::Value>(b"{}x", "test").is_err());
    }
}
