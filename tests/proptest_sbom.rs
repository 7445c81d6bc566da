//! Random SBOM models (1 to 20 components, random names, versions, purls,
//! SPDX license expressions, SHA-256 hashes, scopes, suppliers,
//! descriptions, sources, bom-refs and dependency edges) written as
//! CycloneDX (1.7, 1.6 and 1.5), SPDX 2.3 and SPDX 3.0.1 and read back:
//! every field a
//! format carries comes back, asserted field by field.
//!
//! What each format cannot carry (asserted as such, not skipped):
//!
//! | field | CycloneDX 1.6 / 1.5 | SPDX 2.3 |
//! |---|---|---|
//! | bom-ref | kept | not kept: the reader makes it the purl, else `NAME@VERSION` |
//! | name, version, purl, hashes, description, source | kept | kept |
//! | license | kept as written | kept for expressions of SPDX-list ids in list spelling (`mit` would read back `MIT`, unknown ids as `LicenseRef-ID`) |
//! | supplier | kept | kept for `NAME` and `NAME <EMAIL>` (the generator's shapes; `(...)` reads back as `<...>`) |
//! | scope | kept, root included | kept for a component some edge points to (the edge's relationship type says it); Required otherwise and for the root |
//! | dependency edges | kept | kept (between the bom-refs SPDX gives) |
//! | timestamp | kept to the nanosecond | whole seconds |
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::{BTreeMap, BTreeSet};

use custodia::digest::{Digest, DigestAlgorithm};
use custodia::sbom::cargo::purl;
use custodia::sbom::cyclonedx::{self, CycloneDxVersion};
use custodia::sbom::{
    BomRef, BomRefError, Component, LicenseExpression, Purl, Sbom, Scope, SourceKind, spdx, spdx3,
};
use custodia::time::Timestamp;
use proptest::prelude::*;
use proptest::sample::Index;

const LICENSE_IDS: &[&str] = &[
    "MIT",
    "Apache-2.0",
    "BSD-3-Clause",
    "BSD-2-Clause",
    "ISC",
    "Unlicense",
    "MPL-2.0",
    "Zlib",
    "0BSD",
    "GPL-2.0-or-later",
    "LGPL-2.1-only",
    "CC0-1.0",
];

/// SPDX license expressions: one id, `A OR B`, `A AND B`, `(A OR B) AND
/// C`, `A WITH LLVM-exception`.
fn license() -> impl Strategy<Value = String> {
    let id = || proptest::sample::select(LICENSE_IDS);
    prop_oneof![
        id().prop_map(str::to_owned),
        (id(), id()).prop_map(|(a, b)| format!("{a} OR {b}")),
        (id(), id()).prop_map(|(a, b)| format!("{a} AND {b}")),
        (id(), id(), id()).prop_map(|(a, b, c)| format!("({a} OR {b}) AND {c}")),
        Just("Apache-2.0 WITH LLVM-exception".to_owned()),
    ]
}

fn supplier() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Z][a-z]{1,8}( [A-Z][a-z]{1,8})?",
        "[A-Z][a-z]{1,8} <[a-z]{1,6}@[a-z]{1,6}\\.example>",
    ]
}

fn source() -> impl Strategy<Value = SourceKind> {
    prop_oneof![
        3 => Just(SourceKind::Registry(
            "registry+https://github.com/rust-lang/crates.io-index".to_owned()
        )),
        1 => Just(SourceKind::Registry("sparse+https://index.crates.io/".to_owned())),
        1 => "sparse\\+https://[a-z]{1,8}\\.example/index/"
            .prop_map(SourceKind::Registry),
        1 => ("https://github\\.com/[a-z]{1,8}/[a-z]{1,8}", proptest::option::of("[0-9a-f]{40}"))
            .prop_map(|(url, revision)| SourceKind::Git { url, revision }),
        1 => Just(SourceKind::Path),
        1 => Just(SourceKind::Unknown),
    ]
}

fn scope() -> impl Strategy<Value = Scope> {
    prop_oneof![
        Just(Scope::Required),
        Just(Scope::Optional),
        Just(Scope::Excluded)
    ]
}

/// How a component's bom-ref is chosen.
#[derive(Debug, Clone, Copy)]
enum RefKind {
    /// Its purl (none: `NAME@VERSION`), as the producer does.
    Purl,
    /// Something else entirely (another tool's SBOM).
    Custom,
}

prop_compose! {
    fn component()(
        name in "[a-z][a-z0-9_-]{0,12}",
        version in "[0-9]{1,2}\\.[0-9]{1,2}\\.[0-9]{1,2}(-[a-z0-9.]{1,5})?(\\+[a-z0-9]{1,4})?",
        with_purl in proptest::bool::weighted(0.8),
        ref_kind in prop_oneof![4 => Just(RefKind::Purl), 1 => Just(RefKind::Custom)],
        custom_ref in prop_oneof!["urn:ref:[a-z0-9]{8}", "[^\\p{Cc}]{1,24}"],
        supplier in proptest::option::of(supplier()),
        license in proptest::option::of(license()),
        hashes in proptest::collection::vec(any::<[u8; 8]>(), 0..3),
        source in source(),
        scope in scope(),
        description in proptest::option::of("[A-Za-z0-9][A-Za-z0-9 .,;:()'-]{0,60}"),
    ) -> Component {
        let mut c = Component::new(name.clone(), version.clone());
        if with_purl {
            c = c.with_purl(purl(&name, &version, &source).unwrap());
        }
        if let RefKind::Custom = ref_kind {
            c.bom_ref = BomRef::parse(&custom_ref).unwrap();
        }
        c.supplier = supplier;
        c.license = license.map(|l| l.parse().unwrap());
        c.hashes = hashes.iter().map(|b| DigestAlgorithm::Sha256.hash(b)).collect();
        c.source = source;
        c.scope = scope;
        c.description = description;
        c
    }
}

/// The bom-ref the SPDX reader gives a component: its purl, else
/// `NAME@VERSION`.
fn spdx_ref(c: &Component) -> BomRef {
    c.purl
        .as_ref()
        .map(BomRef::from)
        .unwrap_or_else(|| BomRef::parse(&format!("{}@{}", c.name, c.version)).unwrap())
}

prop_compose! {
    fn model()(
        root in component(),
        components in proptest::collection::vec(component(), 1..20),
        edges in proptest::collection::vec((any::<Index>(), any::<Index>()), 0..40),
        seconds in 0i64..4_000_000_000,
        nanos in prop_oneof![Just(0u32), 0u32..1_000_000_000],
    ) -> Sbom {
        let timestamp: Timestamp = Timestamp::from_unix(seconds)
            .to_string()
            .replace('Z', &format!(".{nanos:09}Z"))
            .parse()
            .unwrap();
        let mut sbom = Sbom::new(root, timestamp);
        // bom-refs unique, and so are the ones SPDX will give.
        let mut refs = BTreeSet::from([sbom.root.bom_ref.clone()]);
        let mut spdx_refs = BTreeSet::from([spdx_ref(&sbom.root)]);
        for c in components {
            if !refs.contains(&c.bom_ref) && !spdx_refs.contains(&spdx_ref(&c)) {
                refs.insert(c.bom_ref.clone());
                spdx_refs.insert(spdx_ref(&c));
                sbom.add(c);
            }
        }
        let all: Vec<BomRef> = std::iter::once(&sbom.root)
            .chain(&sbom.components)
            .map(|c| c.bom_ref.clone())
            .collect();
        for (a, b) in edges {
            let (from, to) = (a.get(&all).clone(), b.get(&all).clone());
            sbom.depends(&from, &to);
        }
        sbom
    }
}

fn hashes(c: &Component) -> Vec<Digest> {
    c.hashes.clone()
}

/// Field by field: `back` has `want`'s fields, under `bom_ref`.
fn assert_component(
    format: &str,
    want: &Component,
    back: &Sbom,
    bom_ref: &str,
    scope: Scope,
) -> Result<(), TestCaseError> {
    let got = back.component(bom_ref);
    prop_assert!(got.is_some(), "{format}: {bom_ref} is missing");
    let got = got.unwrap();
    let what = |field: &str| format!("{format}: {bom_ref}: {field}");
    prop_assert_eq!(&got.bom_ref, bom_ref, "{}", what("bom-ref"));
    prop_assert_eq!(&got.name, &want.name, "{}", what("name"));
    prop_assert_eq!(&got.version, &want.version, "{}", what("version"));
    prop_assert_eq!(&got.purl, &want.purl, "{}", what("purl"));
    prop_assert_eq!(&got.supplier, &want.supplier, "{}", what("supplier"));
    prop_assert_eq!(&got.license, &want.license, "{}", what("license"));
    prop_assert_eq!(hashes(got), hashes(want), "{}", what("hashes"));
    prop_assert_eq!(&got.source, &want.source, "{}", what("source"));
    prop_assert_eq!(got.scope, scope, "{}", what("scope"));
    prop_assert_eq!(
        &got.description,
        &want.description,
        "{}",
        what("description")
    );
    Ok(())
}

fn check_cyclonedx(sbom: &Sbom, version: CycloneDxVersion) -> Result<(), TestCaseError> {
    let format = format!("CycloneDX {}", version.as_str());
    let json = cyclonedx::to_json(sbom, version).unwrap();
    let back = cyclonedx::from_json(&json);
    prop_assert!(back.is_ok(), "{format}: {:?}", back.err());
    let back = back.unwrap();
    prop_assert_eq!(back.timestamp, sbom.timestamp, "{}: timestamp", format);
    prop_assert_eq!(
        back.components.len(),
        sbom.components.len(),
        "{}: components",
        format
    );
    for c in std::iter::once(&sbom.root).chain(&sbom.components) {
        assert_component(&format, c, &back, c.bom_ref.as_str(), c.scope)?;
    }
    prop_assert_eq!(&back.root.bom_ref, &sbom.root.bom_ref, "{}: root", format);
    prop_assert_eq!(
        &back.dependencies,
        &sbom.dependencies,
        "{}: dependencies",
        format
    );
    prop_assert_eq!(
        cyclonedx::to_json(&back, version).unwrap(),
        json,
        "{}: bytes",
        format
    );
    Ok(())
}

fn check_spdx(sbom: &Sbom) -> Result<(), TestCaseError> {
    let format = "SPDX 2.3";
    let json = spdx::to_json(sbom).unwrap();
    let back = spdx::from_json(&json);
    prop_assert!(back.is_ok(), "{format}: {:?}", back.err());
    let back = back.unwrap();
    prop_assert_eq!(
        back.timestamp,
        Timestamp::from_unix(sbom.timestamp.unix()),
        "{}: timestamp, whole seconds",
        format
    );
    prop_assert_eq!(
        back.components.len(),
        sbom.components.len(),
        "{}: components",
        format
    );
    // bom-refs become purls / NAME@VERSION; edges follow.
    let renamed: BTreeMap<&str, BomRef> = std::iter::once(&sbom.root)
        .chain(&sbom.components)
        .map(|c| (c.bom_ref.as_str(), spdx_ref(c)))
        .collect();
    let mut dependencies: BTreeMap<BomRef, BTreeSet<BomRef>> = BTreeMap::new();
    for (from, tos) in &sbom.dependencies {
        for to in tos {
            dependencies
                .entry(renamed[from.as_str()].clone())
                .or_default()
                .insert(renamed[to.as_str()].clone());
        }
    }
    let pointed_to: BTreeSet<&str> = sbom
        .dependencies
        .values()
        .flatten()
        .map(BomRef::as_str)
        .collect();
    // The root's scope is not carried; a component's only through an
    // edge that points to it.
    assert_component(
        format,
        &sbom.root,
        &back,
        spdx_ref(&sbom.root).as_str(),
        Scope::Required,
    )?;
    prop_assert_eq!(
        &back.root.bom_ref,
        &spdx_ref(&sbom.root),
        "{}: root",
        format
    );
    for c in &sbom.components {
        let scope = if pointed_to.contains(c.bom_ref.as_str()) {
            c.scope
        } else {
            Scope::Required
        };
        assert_component(format, c, &back, spdx_ref(c).as_str(), scope)?;
    }
    prop_assert_eq!(
        &back.dependencies,
        &dependencies,
        "{}: dependencies",
        format
    );
    // What came back is a fixed point.
    prop_assert_eq!(
        spdx::to_json(&back).unwrap(),
        spdx::to_json(&spdx::from_json(&spdx::to_json(&back).unwrap()).unwrap()).unwrap(),
        "{}: bytes",
        format
    );
    Ok(())
}

/// SPDX 3.0.1: bom-refs are kept (the custodia external identifier when
/// they are not the purl or `NAME@VERSION`); the root's scope and the scope
/// of a component no edge points to are not carried; whole seconds.
fn check_spdx3(sbom: &Sbom) -> Result<(), TestCaseError> {
    let format = "SPDX 3.0.1";
    let json = spdx3::to_json(sbom).unwrap();
    let back = spdx3::from_json(&json);
    prop_assert!(back.is_ok(), "{format}: {:?}", back.err());
    let back = back.unwrap();
    prop_assert_eq!(
        back.timestamp,
        Timestamp::from_unix(sbom.timestamp.unix()),
        "{}: timestamp, whole seconds",
        format
    );
    prop_assert_eq!(
        back.components.len(),
        sbom.components.len(),
        "{}: components",
        format
    );
    let pointed_to: BTreeSet<&str> = sbom
        .dependencies
        .values()
        .flatten()
        .map(BomRef::as_str)
        .collect();
    assert_component(
        format,
        &sbom.root,
        &back,
        sbom.root.bom_ref.as_str(),
        Scope::Required,
    )?;
    prop_assert_eq!(&back.root.bom_ref, &sbom.root.bom_ref, "{}: root", format);
    for c in &sbom.components {
        let scope = if pointed_to.contains(c.bom_ref.as_str()) {
            c.scope
        } else {
            Scope::Required
        };
        assert_component(format, c, &back, c.bom_ref.as_str(), scope)?;
    }
    prop_assert_eq!(
        &back.dependencies,
        &sbom.dependencies,
        "{}: dependencies",
        format
    );
    prop_assert_eq!(
        spdx3::to_json(&back).unwrap(),
        spdx3::to_json(&spdx3::from_json(&spdx3::to_json(&back).unwrap()).unwrap()).unwrap(),
        "{}: bytes",
        format
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn model_to_spdx3_to_model(sbom in model()) {
        sbom.validate().unwrap();
        check_spdx3(&sbom)?;
    }

    #[test]
    fn model_to_cyclonedx_to_model(sbom in model()) {
        sbom.validate().unwrap();
        check_cyclonedx(&sbom, CycloneDxVersion::V1_7)?;
        check_cyclonedx(&sbom, CycloneDxVersion::V1_6)?;
        check_cyclonedx(&sbom, CycloneDxVersion::V1_5)?;
    }

    #[test]
    fn model_to_spdx_to_model(sbom in model()) {
        sbom.validate().unwrap();
        check_spdx(&sbom)?;
    }
}

// ------------------------------------------ the parsers: licenses and purls

/// A license term: a listed id (any case), an unlisted id, `+`, a
/// `LicenseRef-`, with or without an exception.
fn license_term() -> impl Strategy<Value = String> {
    let simple = prop_oneof![
        proptest::sample::select(LICENSE_IDS).prop_map(str::to_owned),
        proptest::sample::select(LICENSE_IDS).prop_map(|s| s.to_ascii_lowercase()),
        "[A-Za-z][A-Za-z0-9.-]{0,12}".prop_filter("not an operator or a reference", |s| {
            !["and", "or", "with"].contains(&s.to_ascii_lowercase().as_str())
                && !s.starts_with("AdditionRef-")
                && !s.starts_with("DocumentRef-")
        }),
        "[A-Za-z0-9.-]{1,8}".prop_map(|s| format!("LicenseRef-{s}")),
        Just("GPL-2.0+".to_owned()),
    ];
    (
        simple,
        proptest::option::of(prop_oneof![
            Just("LLVM-exception"),
            Just("Classpath-exception-2.0"),
            Just("llvm-exception"),
            Just("AdditionRef-x")
        ]),
    )
        .prop_map(|(s, e)| match e {
            Some(e) => format!("{s} WITH {e}"),
            None => s,
        })
}

/// Expressions of up to four levels of nesting, with random spacing and
/// operator case.
fn license_expression() -> impl Strategy<Value = String> {
    let op = prop_oneof![Just("AND"), Just("OR"), Just("and"), Just("or")];
    let space = prop_oneof![Just(" "), Just("  "), Just("\t"), Just(" \n ")];
    license_term().prop_recursive(4, 24, 4, move |inner| {
        prop_oneof![
            (inner.clone(), op.clone(), space.clone(), inner.clone())
                .prop_map(|(a, op, sp, b)| format!("{a}{sp}{op}{sp}{b}")),
            inner.prop_map(|e| format!("({e})")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    /// Every generated expression parses; it displays as text that parses
    /// to the same expression; its listed form is a fixed point and
    /// holds only listed ids or declared `LicenseRef-`s.
    #[test]
    fn license_expressions_parse_and_display_back(text in license_expression()) {
        let e = LicenseExpression::parse(&text).unwrap();
        let shown = e.to_string();
        prop_assert_eq!(LicenseExpression::parse(&shown).unwrap(), e.clone());
        prop_assert!(!shown.contains("  ") && !shown.contains("( ") && !shown.contains(" )"));
        if let Ok((listed, refs)) = e.to_listed() {
            prop_assert_eq!(listed.to_listed().unwrap(), (listed.clone(), refs.clone()));
            for word in listed.to_string().split([' ', '(', ')']).filter(|w| !w.is_empty()) {
                let id = word.trim_end_matches('+');
                let listed_id = ::spdx::license_id(id).is_some_and(|l| l.name == id)
                    || ::spdx::exception_id(id).is_some();
                prop_assert!(
                    ["AND", "OR", "WITH"].contains(&id) || refs.contains(id) || listed_id,
                    "`{}` in `{}`", id, listed
                );
            }
        }
    }

    /// Arbitrary text never panics the parsers; what parses displays back.
    #[test]
    fn license_parser_takes_any_text(text in "[ -~\\t]{0,40}") {
        for e in [LicenseExpression::parse(&text), LicenseExpression::parse_cargo(&text)]
            .into_iter()
            .flatten()
        {
            prop_assert_eq!(LicenseExpression::parse(&e.to_string()).unwrap(), e);
        }
    }

    /// A purl built from parts (percent-encoded where the spec asks)
    /// parses back to the same decoded parts and keeps its text.
    #[test]
    fn purls_parse_to_their_parts(
        ty in "[a-z][a-z0-9.+-]{0,8}",
        namespace in proptest::option::of("[a-zA-Z0-9 @._-]{1,10}"),
        name in "[a-zA-Z0-9 @#?/._-]{1,12}",
        version in proptest::option::of("[a-zA-Z0-9 +:._-]{1,10}"),
        qualifiers in proptest::collection::btree_map("[a-z][a-z0-9._-]{0,6}", "[a-zA-Z0-9 &=/:._-]{1,10}", 0..3),
    ) {
        let enc = |s: &str| {
            s.bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b".-_~".contains(&b) {
                        char::from(b).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect::<String>()
        };
        let mut text = format!("pkg:{ty}/");
        if let Some(ns) = &namespace {
            text.push_str(&enc(ns));
            text.push('/');
        }
        text.push_str(&enc(&name));
        if let Some(v) = &version {
            text.push('@');
            text.push_str(&enc(v));
        }
        if !qualifiers.is_empty() {
            let q: Vec<String> = qualifiers.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect();
            text.push('?');
            text.push_str(&q.join("&"));
        }
        let p = Purl::parse(&text).unwrap();
        prop_assert_eq!(p.as_str(), text.as_str());
        prop_assert_eq!(p.purl_type(), ty.as_str());
        prop_assert_eq!(p.namespace(), namespace.as_deref());
        prop_assert_eq!(p.name(), name.as_str());
        prop_assert_eq!(p.version(), version.as_deref());
        for (k, v) in &qualifiers {
            prop_assert_eq!(p.qualifier(k), Some(v.as_str()));
        }
        prop_assert!(p.names_package(&Purl::parse(&text).unwrap()));
    }

    /// Arbitrary text never panics the purl parser; what parses keeps its
    /// text and a non-empty name.
    #[test]
    fn purl_parser_takes_any_text(text in "(pkg:)?[ -~]{0,40}") {
        if let Ok(p) = Purl::parse(&text) {
            prop_assert_eq!(p.as_str(), text.as_str());
            prop_assert!(!p.name().is_empty());
        }
    }

    /// Any non-empty text without control characters, up to the bound, is
    /// a bom-ref that keeps its text, serializes as a JSON string and can
    /// be looked up by `&str` in a map keyed by it.
    #[test]
    fn bom_refs_keep_their_text(text in "[^\\p{Cc}]{1,64}") {
        let r = BomRef::parse(&text).unwrap();
        prop_assert_eq!(r.as_str(), text.as_str());
        prop_assert_eq!(r.to_string(), text.clone());
        prop_assert_eq!(BomRef::try_from(text.clone()), Ok(r.clone()));
        let json = serde_json::to_string(&r).unwrap();
        prop_assert_eq!(&json, &serde_json::to_string(&text).unwrap());
        prop_assert_eq!(serde_json::from_str::<BomRef>(&json).unwrap(), r.clone());
        let map = BTreeMap::from([(r.clone(), ())]);
        prop_assert!(map.contains_key(text.as_str()));
    }

    /// A control character anywhere is refused at its byte offset; so is
    /// the empty text, and text over 4096 bytes.
    #[test]
    fn bom_refs_refuse_control_characters(
        before in "[^\\p{Cc}]{0,20}",
        control in "\\p{Cc}",
        after in "\\PC{0,20}",
        long in 4097usize..5000,
    ) {
        let text = format!("{before}{control}{after}");
        prop_assert_eq!(BomRef::parse(&text), Err(BomRefError::Control(before.len())));
        prop_assert!(serde_json::from_str::<BomRef>(&serde_json::to_string(&text).unwrap()).is_err());
        prop_assert_eq!(BomRef::parse(""), Err(BomRefError::Empty));
        prop_assert_eq!(BomRef::parse(&"r".repeat(long)), Err(BomRefError::TooLong));
    }

    /// Every purl is a bom-ref with the same text.
    #[test]
    fn purls_are_bom_refs(text in "pkg:[a-z]{1,8}/[!-~]{1,40}") {
        if let Ok(p) = Purl::parse(&text) {
            let r = BomRef::from(&p);
            prop_assert_eq!(r.as_str(), p.as_str());
        }
    }

    /// A component's derived bom-ref is always valid: `NAME@VERSION` when
    /// that is a bom-ref, else a digest.
    #[test]
    fn component_bom_refs_are_valid(name in "\\PC{0,12}|[\\x00-\\x7f]{0,12}", version in "[\\x00-\\x7f]{0,8}") {
        let c = Component::new(name.clone(), version.clone());
        let text = format!("{name}@{version}");
        prop_assert_eq!(BomRef::parse(c.bom_ref.as_str()), Ok(c.bom_ref.clone()));
        if BomRef::parse(&text).is_ok() {
            prop_assert_eq!(c.bom_ref.as_str(), text.as_str());
        } else {
            prop_assert!(c.bom_ref.as_str().starts_with("sha256:"));
        }
    }
}
