//! Strict JSON reading shared by every wire format.
//!
//! serde_json keeps the last of two members with the same name, which lets
//! two parsers of one document see different values. Every custodia reader
//! therefore reads through [`strict::Strict`], which refuses a repeated
//! member name at any depth (in ignored members too) in the same pass that
//! deserializes the document, and reports the field path and position of
//! the first problem. Nesting depth is bounded by serde_json's recursion
//! limit (128), so hostile input cannot exhaust the stack.

mod strict;
mod unique;

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, IgnoredAny, Visitor};

use crate::error::JsonError;
use strict::Strict;

/// Parses `bytes` as `T` in one pass, rejecting duplicate members and
/// trailing data.
///
/// The pass runs without path tracking; only a document that fails is
/// parsed again with [`serde_path_to_error`] for the path to report (the
/// same parse, so the same first error), which keeps the tracking's cost
/// off every well-formed document.
pub(crate) fn from_slice<'a, T: Deserialize<'a>>(
    bytes: &'a [u8],
    what: &'static str,
) -> Result<T, JsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match T::deserialize(Strict(&mut de)).and_then(|value| de.end().map(|()| value)) {
        Ok(value) => Ok(value),
        Err(plain) => Err(with_path::<T>(bytes, what, &plain)),
    }
}

/// The error of parsing `bytes` as `T` with its field path: `plain` is the
/// error serde_json gave without tracking, kept if tracking finds none.
fn with_path<'a, T: Deserialize<'a>>(
    bytes: &'a [u8],
    what: &'static str,
    plain: &serde_json::Error,
) -> JsonError {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut track = serde_path_to_error::Track::new();
    // The path is tracked inside the strict reading, so a repeated member's
    // name is in the path when the repeat is refused.
    let tracked = serde_path_to_error::Deserializer::new(&mut de, &mut track);
    match T::deserialize(Strict(tracked)) {
        Err(e) => to_json_error(what, track.path().to_string(), &e),
        Ok(_) => match de.end() {
            Err(e) => to_json_error(what, String::new(), &e),
            Ok(()) => to_json_error(what, String::new(), plain),
        },
    }
}

/// Converts an already-parsed value into `T`, with the field path on error.
pub(crate) fn from_value<T: DeserializeOwned>(
    value: &serde_json::Value,
    what: &'static str,
) -> Result<T, JsonError> {
    match T::deserialize(value) {
        Ok(v) => Ok(v),
        Err(plain) => Err(serde_path_to_error::deserialize::<_, T>(value).map_or_else(
            |e| {
                let path = e.path().to_string();
                to_json_error(what, path, &e.into_inner())
            },
            |_| to_json_error(what, String::new(), &plain),
        )),
    }
}

/// Fails on the first object that has two members with the same name (or
/// on text that is not one JSON value).
pub(crate) fn reject_duplicates(bytes: &[u8], what: &'static str) -> Result<(), JsonError> {
    from_slice::<IgnoredAny>(bytes, what).map(|_| ())
}

/// [`reject_duplicates`] for text serde_json has already read as one JSON
/// value: most such text is plainly free of repeats (see [`unique`]) and
/// is not read again.
pub(crate) fn reject_duplicates_in(
    value: &serde_json::value::RawValue,
    what: &'static str,
) -> Result<(), JsonError> {
    let text = value.get().as_bytes();
    if unique::plainly_unique(text) {
        return Ok(());
    }
    reject_duplicates(text, what)
}

/// A string read from a document, borrowed from it when it holds no
/// escapes (serde's own `Cow<str>` always copies).
pub(crate) struct Text<'de>(pub(crate) Cow<'de, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(TextVisitor)
    }
}

/// Serializes `value` as compact JSON. Custodia's documents hold strings,
/// numbers and string-keyed maps, which serde_json always writes; should a
/// value ever fail (a hand-written `Serialize` refusing), that is an error
/// for the caller, never an empty document signed, stored or hashed.
pub(crate) fn to_vec<T: serde::Serialize + ?Sized>(
    value: &T,
    what: &'static str,
) -> Result<Vec<u8>, JsonError> {
    serde_json::to_vec(value).map_err(|e| to_json_error(what, String::new(), &e))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_found_at_any_depth_with_a_path() {
        let err = reject_duplicates(br#"{"a":[{"b":1,"b":2}]}"#, "test").unwrap_err();
        assert!(err.message.contains("duplicate member `b`"), "{err}");
        assert_eq!(err.path, "a[0].b");
        assert!(reject_duplicates(br#"{"a":{"b":1},"c":{"b":2}}"#, "test").is_ok());
        // An escaped name is the same name.
        assert!(reject_duplicates(br#"{"ab":1,"a\u0062":2}"#, "test").is_err());
    }

    #[test]
    fn typed_reading_refuses_repeats_in_read_and_in_ignored_members() {
        use std::collections::BTreeMap;
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Inner {
            n: Option<u8>,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        enum Shape {
            Point(Inner),
            Box { inner: Inner },
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Outer {
            list: Option<Vec<Inner>>,
            map: Option<BTreeMap<String, u8>>,
            shape: Option<Shape>,
        }
        let read = |text: &str| from_slice::<Outer>(text.as_bytes(), "test");
        for ok in [
            r#"{"list":[{"n":1},{"n":2}],"map":{"a":1,"b":2}}"#,
            r#"{"unknown":{"n":1,"m":{"n":2}},"shape":{"Point":{"n":1}}}"#,
        ] {
            assert!(read(ok).is_ok(), "{ok}");
        }
        // A known field, an element, a map key, an ignored member's inside,
        // an enum's content, an escaped spelling: each repeat is refused,
        // where serde_json alone keeps the last.
        for (bad, path) in [
            (r#"{"list":[],"list":[{"n":1}]}"#, "list"),
            (r#"{"list":[{"n":1},{"n":1,"n":2}]}"#, "list[1].n"),
            (r#"{"map":{"a":1,"a":2}}"#, "map.a"),
            (r#"{"unknown":[{"x":{"y":1,"y":2}}]}"#, "unknown"),
            (r#"{"shape":{"Box":{"inner":{"n":1,"n":2}}}}"#, "shape"),
            (r#"{"map":{"ab":1,"a\u0062":2}}"#, "map.ab"),
        ] {
            if path.starts_with("map") || path == "unknown" {
                assert!(serde_json::from_str::<Outer>(bad).is_ok(), "{bad}");
            }
            let err = read(bad).unwrap_err();
            assert!(err.message.contains("duplicate member"), "{bad}: {err}");
            assert!(err.path.starts_with(path), "{bad}: {}", err.path);
        }
    }

    #[test]
    fn strings_borrow_from_the_document_where_they_can() {
        #[derive(serde::Deserialize)]
        struct Text<'a> {
            #[serde(borrow)]
            plain: Cow<'a, str>,
            #[serde(borrow)]
            escaped: Cow<'a, str>,
        }
        let text: Text<'_> = from_slice(br#"{"plain":"abc","escaped":"a\nb"}"#, "test").unwrap();
        assert!(matches!(text.plain, Cow::Borrowed("abc")));
        assert!(matches!(text.escaped, Cow::Owned(ref s) if s == "a\nb"));
    }

    #[test]
    fn duplicates_are_found_in_large_objects() {
        for n in [15, 16, 17, 40] {
            let members: Vec<String> = (0..n).map(|i| format!("\"m{i}\":{i}")).collect();
            let unique = format!("{{{}}}", members.join(","));
            assert!(reject_duplicates(unique.as_bytes(), "test").is_ok(), "{n}");
            for again in [0, n / 2, n - 1] {
                let doubled = format!("{{{},\"m{again}\":0}}", members.join(","));
                assert!(
                    reject_duplicates(doubled.as_bytes(), "test").is_err(),
                    "{n} {again}"
                );
            }
        }
    }

    #[test]
    fn a_failed_parse_reports_the_path() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Inner {
            n: u8,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Outer {
            list: Vec<Inner>,
        }
        let err = from_slice::<Outer>(br#"{"list":[{"n":1},{"n":300}]}"#, "test").unwrap_err();
        assert_eq!(err.path, "list[1].n");
        let value: serde_json::Value = serde_json::from_str(r#"{"list":[{"n":"x"}]}"#).unwrap();
        assert_eq!(
            from_value::<Outer>(&value, "test").unwrap_err().path,
            "list[0].n"
        );
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

    /// JSON text for a value whose objects have up to 40 distinct member
    /// names (so both the small and the large object paths run), some
    /// repeating one of them at a random later position, with names written
    /// plainly or escaped; and whether any object in it repeats a name.
    fn document() -> impl proptest::strategy::Strategy<Value = (String, bool)> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(("1".to_owned(), false)),
            Just(("\"s\"".to_owned(), false)),
            Just(("null".to_owned(), false)),
        ];
        leaf.prop_recursive(3, 64, 4, |inner| {
            let names = proptest::sample::subsequence((0u8..60).collect::<Vec<_>>(), 0..40);
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(|items| {
                    let dup = items.iter().any(|i| i.1);
                    let text: Vec<String> = items.into_iter().map(|i| i.0).collect();
                    (format!("[{}]", text.join(",")), dup)
                }),
                (
                    names,
                    any::<Option<(proptest::sample::Index, proptest::sample::Index)>>(),
                    any::<u64>(),
                    inner,
                )
                    .prop_map(
                        |(mut names, repeat, escapes, (value, inner_dup))| {
                            // With no member, the value (and any repeat inside it) is not written.
                            let mut dup = inner_dup && !names.is_empty();
                            if let (Some((which, at)), false) = (repeat, names.is_empty()) {
                                let name = names[which.index(names.len())];
                                let at = at.index(names.len() + 1);
                                let first = names.iter().position(|n| *n == name).unwrap_or(0);
                                names.insert(at.max(first + 1).min(names.len()), name);
                                dup = true;
                            }
                            let text: Vec<String> = names
                                .iter()
                                .enumerate()
                                .map(|(i, name)| {
                                    let written = if escapes >> (i % 64) & 1 == 1 {
                                        format!("\\u00{:02x}{name}", b'm')
                                    } else {
                                        format!("m{name}")
                                    };
                                    format!("\"{written}\":{value}")
                                })
                                .collect();
                            (format!("{{{}}}", text.join(",")), dup)
                        }
                    ),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn a_duplicate_member_is_found_whatever_the_object_size_or_escaping(
            (text, dup) in document()
        ) {
            let found = reject_duplicates(text.as_bytes(), "test");
            proptest::prop_assert_eq!(found.is_err(), dup, "{}", text);
            // The quick look first, as written and with every name plain
            // (`\u006d` is `m`), so both of its outcomes are reached.
            for text in [text.clone(), text.replace("\\u006d", "m")] {
                let raw: &serde_json::value::RawValue =
                    serde_json::from_str(&text).map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
                proptest::prop_assert_eq!(reject_duplicates_in(raw, "test").is_err(), dup, "{}", text);
            }
            let parsed = from_slice::<serde_json::Value>(text.as_bytes(), "test");
            proptest::prop_assert_eq!(parsed.is_err(), dup);
            // Read as a map of skipped values (serde_json skips those
            // unlooked): a repeat inside is found all the same.
            if text.starts_with('{') {
                let skipped = from_slice::<std::collections::BTreeMap<String, IgnoredAny>>(
                    text.as_bytes(),
                    "test",
                );
                proptest::prop_assert_eq!(skipped.is_err(), dup, "{}", text);
            }
        }
    }
}
