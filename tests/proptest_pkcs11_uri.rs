//! Property tests for RFC 7512 `pkcs11:` URIs (no feature needed): any URI
//! custodia writes reads back to the same value, `Display` never shows a
//! `pin-value`, and arbitrary text never panics the parser.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;

use custodia::pkcs11::{ObjectType, PinSource, Pkcs11Uri};
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    // Any Unicode, including the characters that must be escaped.
    prop_oneof![
        "[a-zA-Z0-9 ;?&=%/:#éü\u{0}-\u{1f}]{0,24}",
        any::<String>().prop_map(|s| s.chars().take(24).collect()),
    ]
}

fn opt<T: std::fmt::Debug + Clone>(
    s: impl Strategy<Value = T>,
) -> impl Strategy<Value = Option<T>> {
    proptest::option::of(s)
}

fn object_type() -> impl Strategy<Value = ObjectType> {
    prop_oneof![
        Just(ObjectType::Public),
        Just(ObjectType::Private),
        Just(ObjectType::Cert),
        Just(ObjectType::SecretKey),
        Just(ObjectType::Data),
    ]
}

fn uri() -> impl Strategy<Value = Pkcs11Uri> {
    (
        (
            opt(text()),
            opt(text()),
            opt(text()),
            opt(text()),
            opt(text()),
            opt(text()),
        ),
        (
            opt((any::<u8>(), any::<u8>())),
            opt(text()),
            opt(object_type()),
            opt(proptest::collection::vec(any::<u8>(), 0..20)),
        ),
        (
            opt(text()),
            opt(text()),
            opt(any::<u64>()),
            opt(text()),
            opt("/[a-z0-9/._-]{1,30}"),
        ),
        opt(prop_oneof![
            text().prop_map(|p| PinSource::Value(custodia::pkcs11::Pin::new(p))),
            "/[a-z0-9/._-]{1,30}".prop_map(|p| PinSource::File(PathBuf::from(p))),
        ]),
    )
        .prop_map(|(a, b, c, pin)| {
            let mut uri = Pkcs11Uri::default();
            (
                uri.token,
                uri.manufacturer,
                uri.serial,
                uri.model,
                uri.library_manufacturer,
                uri.library_description,
            ) = a;
            (uri.library_version, uri.object, uri.object_type, uri.id) = b;
            (
                uri.slot_description,
                uri.slot_manufacturer,
                uri.slot_id,
                uri.module_name,
                uri.module_path,
            ) = (c.0, c.1, c.2, c.3, c.4.map(PathBuf::from));
            uri.pin = pin;
            uri
        })
}

proptest! {
    #[test]
    fn written_uris_read_back(uri in uri()) {
        let full = uri.to_string_with_pin();
        prop_assert_eq!(Pkcs11Uri::parse(&full).unwrap(), uri.clone());
        let shown = uri.to_string();
        let redacted = Pkcs11Uri::parse(&shown).unwrap();
        if let Some(PinSource::Value(_)) = &uri.pin {
            prop_assert!(redacted.pin.is_none(), "Display kept the pin-value: {}", shown);
            prop_assert!(!shown.contains("pin-value"));
        } else {
            prop_assert_eq!(redacted, uri.clone());
        }
        custodia::pkcs11::fuzz_uri(full.as_bytes());
    }

    #[test]
    fn arbitrary_text_never_panics(s in "pkcs11:[ -~]{0,80}", bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
        custodia::pkcs11::fuzz_uri(s.as_bytes());
        custodia::pkcs11::fuzz_uri(&bytes);
    }
}

#[test]
fn fuzz_seeds_parse() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/pkcs11_uri");
    let mut parsed = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        custodia::pkcs11::fuzz_uri(&bytes);
        parsed += usize::from(Pkcs11Uri::parse(std::str::from_utf8(&bytes).unwrap()).is_ok());
    }
    assert_eq!(parsed, 6, "every seed is a valid URI");
}

/// Found by the fuzz smoke: a URI within the length limit that writes
/// back longer than it (percent-encoding what it had bare). Reading the
/// written form must refuse it for its length, never misparse it.
#[test]
fn a_uri_that_writes_longer_than_the_limit_is_refused_for_its_length() {
    let seed = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds/pkcs11_uri/written-over-limit");
    let text = String::from_utf8(std::fs::read(seed).unwrap()).unwrap();
    let uri = Pkcs11Uri::parse(&text).unwrap();
    let written = uri.to_string_with_pin();
    assert!(written.len() > custodia::pkcs11::MAX_URI_BYTES);
    assert!(matches!(
        Pkcs11Uri::parse(&written),
        Err(custodia::pkcs11::Pkcs11Error::InvalidUri {
            reason: custodia::pkcs11::UriProblem::TooLong
        })
    ));
    // And the fuzz harness's properties hold for it.
    custodia::pkcs11::fuzz_uri(text.as_bytes());
}
