//! A quick look for repeated member names in text that serde_json has
//! already read as one JSON value (a [`RawValue`](serde_json::value::RawValue)).
//!
//! Most documents answer at once: no string holds an escape, so two names
//! are the same string exactly when their bytes are equal, and objects are
//! small, so comparing each name with those before it is cheap. The look
//! must pass only what the strict reading accepts, and serde_json's syntax
//! check (which made the value) does not decode escapes (a lone surrogate
//! passes it) or numbers (`1e400` passes it): so a string with an escape, a
//! number with an exponent or of more than 20 characters, a large object,
//! deep nesting or a repeat is not plain, and is left to the strict
//! reading, which decides and says where the problem is.

/// Members of one object compared pairwise; a larger object is left to the
/// strict reading (which keeps a hash set).
const MAX_MEMBERS: usize = 32;

/// Nesting followed; deeper text is left to the strict reading (which
/// refuses nesting beyond serde_json's 128 levels).
const MAX_DEPTH: usize = 128;

/// Longer numbers are left to the strict reading (an integer beyond 64
/// bits is read as a float, which may be out of range).
const MAX_NUMBER_LEN: usize = 20;

/// Whether `text`, one JSON value, plainly has no object with two members
/// of one name. `false` means only "not plainly": the strict reading
/// decides.
pub(super) fn plainly_unique(text: &[u8]) -> bool {
    scan(text).is_some()
}

/// `None` as soon as the text is not plainly free of repeats.
fn scan(text: &[u8]) -> Option<()> {
    // Each open object's first name in `names`; `None` for an array.
    // Room for a typical predicate's nesting and names, so neither grows.
    let mut open: Vec<Option<usize>> = Vec::with_capacity(16);
    let mut names: Vec<&[u8]> = Vec::with_capacity(64);
    // Whether the next string is a member name.
    let mut expect_name = false;
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        match b {
            b'"' => {
                let start = i + 1;
                let end = string_end(text, start)?;
                if expect_name {
                    let first = (*open.last()?)?;
                    let siblings = names.get(first..)?;
                    let name = text.get(start..end)?;
                    if siblings.len() >= MAX_MEMBERS || siblings.contains(&name) {
                        return None;
                    }
                    names.push(name);
                    expect_name = false;
                }
                i = end;
            }
            b'{' | b'[' => {
                if open.len() >= MAX_DEPTH {
                    return None;
                }
                expect_name = b == b'{';
                open.push(expect_name.then_some(names.len()));
            }
            b'}' | b']' => {
                if let Some(first) = open.pop()? {
                    names.truncate(first);
                }
                expect_name = false;
            }
            b',' => expect_name = matches!(open.last(), Some(Some(_))),
            b'-' | b'0'..=b'9' => {
                let len = text
                    .get(i..)?
                    .iter()
                    .take_while(|b| matches!(b, b'-' | b'+' | b'.' | b'0'..=b'9' | b'e' | b'E'))
                    .count();
                let number = text.get(i..i + len)?;
                if len > MAX_NUMBER_LEN || number.iter().any(|b| matches!(b, b'e' | b'E')) {
                    return None;
                }
                i += len;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    open.is_empty().then_some(())
}

/// The position of the quote that closes the string whose text starts at
/// `start`; `None` if the string holds an escape (or does not end).
fn string_end(text: &[u8], start: usize) -> Option<usize> {
    let end = start + memchr::memchr2(b'"', b'\\', text.get(start..)?)?;
    (text.get(end) == Some(&b'"')).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_documents_pass_and_anything_doubtful_is_left_to_the_strict_reading() {
        for plain in [
            r#"{}"#,
            r#"[]"#,
            r#""a""#,
            r#"{"a":1,"b":{"a":2,"b":[{"a":3},{"a":4}]},"c":"a"}"#,
            r#"{"a":"xy","b":["a","a"],"c":{"d":{},"e":[-1.5,0,12345678901234567890]}}"#,
            r#"{"k":{"a":1},"l":{"a":1}}"#,
        ] {
            assert!(plainly_unique(plain.as_bytes()), "{plain}");
        }
        let large = format!(
            "{{{}}}",
            (0..40)
                .map(|i| format!("\"m{i}\":{i}"))
                .collect::<Vec<_>>()
                .join(",")
        );
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        for doubtful in [
            r#"{"a":1,"a":2}"#,
            r#"{"a":{"b":1,"b":2}}"#,
            r#"[{"x":1},{"y":[{"z":0,"z":0}]}]"#,
            r#"{"\u0061":1,"b":2}"#,
            r#"{"a\"":1}"#,
            r#"{"a":"x\"y"}"#,
            r#"{"y":"\ud83d%ude00"}"#,
            r#"{"n":1e400}"#,
            r#"{"n":-2E3}"#,
            r#"{"n":123456789012345678901}"#,
            large.as_str(),
            deep.as_str(),
        ] {
            assert!(!plainly_unique(doubtful.as_bytes()), "{doubtful}");
        }
    }
}
