//! # custodia
//!
//! Supply-chain attestation for "build once, promote everywhere": know
//! exactly which bytes an artifact is ([`digest`]), say something about
//! those bytes ([`statement`], [`resource`]), prove who said it ([`dsse`],
//! [`keys`]), and check all of it in one call ([`verify`]) that returns a
//! [`report::Report`] of named checks.
//!
//! ```
//! use custodia::digest::DigestSet;
//! use custodia::dsse::Envelope;
//! use custodia::keys::{KeyAlgorithm, PrivateKey};
//! use custodia::resource::ResourceDescriptor;
//! use custodia::statement::{Statement, PAYLOAD_TYPE};
//! use custodia::trust::TrustAnchors;
//! use custodia::verify::{verify_attestation, Expectation};
//!
//! let artifact = b"app-1.0.tar.gz bytes";
//! let builder = PrivateKey::generate(KeyAlgorithm::Ed25519)?;
//!
//! // Producer: a statement about the artifact's digest, signed in DSSE.
//! let statement = Statement::new_untyped(
//!     vec![ResourceDescriptor::new("app-1.0.tar.gz", DigestSet::of_bytes(artifact))],
//!     "https://example.com/built/v1",
//!     serde_json::json!({"by": "ci"}),
//! )?;
//! let envelope = Envelope::sign(PAYLOAD_TYPE, statement.to_json()?, &builder)?;
//! let wire = envelope.to_json()?;
//!
//! // Consumer: signature, payload type, predicate type and subject in one call.
//! let trusted: TrustAnchors = [builder.public_key().clone()].into_iter().collect();
//! let expect = Expectation::new("https://example.com/built/v1", DigestSet::of_bytes(artifact));
//! let result = verify_attestation(&Envelope::from_json(&wire)?, &trusted, &expect);
//! assert!(result.report().verified(), "{}", result.report());
//! # Ok::<(), custodia::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

#[cfg(feature = "sigstore")]
pub mod bundle;
pub mod digest;
pub mod dsse;
mod encoding;
pub mod error;
pub mod evidence;
pub mod fsread;
mod json;
pub mod keys;
#[cfg(feature = "oci")]
pub mod oci;
pub mod pkcs11;
pub mod policy;
pub mod predicate;
pub mod promotion;
pub mod provenance;
pub mod render;
pub mod report;
pub mod resource;
pub mod sbom;
pub mod statement;
pub mod time;
pub mod trust;
pub mod verify;

pub use error::{Error, Result};

/// Entry points for fuzz targets; not part of the stable API.
#[doc(hidden)]
pub mod fuzzing {
    // Test keys (tests/data/openssl), inlined so packaging never depends on tests/.
    const FUZZ_ED25519_PUB: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA41RK9KyUCbjgYcdV56sfwXKfYl3jJnZQLhOmOqPo32U=\n-----END PUBLIC KEY-----\n";
    const FUZZ_P256_PUB: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEbiydJhAPwZMzKvJ1J5Sx0arI9al1\ncNnyt/ExzJ/Gd3g2+kB1dW5PxQxltdWpaJG+E8l09cEXWbnwTre4ldiXwQ==\n-----END PUBLIC KEY-----\n";

    fn fuzz_keys() -> &'static crate::trust::TrustAnchors {
        static KEYS: std::sync::OnceLock<crate::trust::TrustAnchors> = std::sync::OnceLock::new();
        KEYS.get_or_init(|| {
            [FUZZ_ED25519_PUB, FUZZ_P256_PUB]
                .into_iter()
                .filter_map(|pem| crate::keys::PublicKey::from_pem(pem).ok())
                .collect()
        })
    }

    /// Parses a DSSE envelope and, if it parses, verifies it against two
    /// fixed keys and as an attestation.
    pub fn envelope(data: &[u8]) {
        if let Ok(env) = crate::dsse::Envelope::from_json(data) {
            let _ = env.verify(fuzz_keys().keys(), 1);
            let expect = crate::verify::Expectation::new(
                "https://slsa.dev/provenance/v1",
                crate::digest::DigestSet::of_bytes(data),
            );
            let _ = crate::verify::verify_attestation(&env, fuzz_keys(), &expect);
            let again = env
                .to_json()
                .and_then(|j| crate::dsse::Envelope::from_json(&j));
            assert_eq!(again.ok().as_ref(), Some(&env), "envelope round trip");
        }
    }

    /// Parses an in-toto statement and round-trips it.
    pub fn statement(data: &[u8]) {
        if let Ok(st) = crate::statement::Statement::from_json(data) {
            let again = st
                .to_json()
                .and_then(|j| crate::statement::Statement::from_json(&j));
            assert_eq!(again.ok().as_ref(), Some(&st), "statement round trip");
        }
    }

    /// Reads JSON strictly (one pass, repeats refused) three ways and
    /// checks them against serde_json alone: strict reading accepts
    /// exactly what serde_json accepts without a repeated member, and
    /// then reads the same value; and the quick look for repeats in a
    /// value serde_json read never passes one that has a repeat.
    pub fn json(data: &[u8]) {
        use serde::de::IgnoredAny;
        let skipped = crate::json::from_slice::<IgnoredAny>(data, "fuzz").is_ok();
        if let Ok(raw) = serde_json::from_slice::<&serde_json::value::RawValue>(data) {
            assert_eq!(
                crate::json::reject_duplicates_in(raw, "fuzz").is_ok(),
                crate::json::reject_duplicates(raw.get().as_bytes(), "fuzz").is_ok(),
                "the quick look agrees with the strict reading"
            );
        }
        let value = crate::json::from_slice::<serde_json::Value>(data, "fuzz");
        assert_eq!(skipped, value.is_ok(), "skipped and value reads agree");
        if let Ok(value) = &value {
            let plain = serde_json::from_slice::<serde_json::Value>(data);
            assert_eq!(
                plain.ok().as_ref(),
                Some(value),
                "strict reads what serde_json reads"
            );
        }
        if let Ok(serde_json::Value::Object(_)) = serde_json::from_slice(data) {
            let members = crate::json::from_slice::<std::collections::BTreeMap<String, IgnoredAny>>(
                data, "fuzz",
            );
            assert_eq!(members.is_ok(), skipped, "member and skipped reads agree");
        }
    }

    /// Parses digest strings and digest sets.
    pub fn digest(data: &[u8]) {
        if let Ok(s) = std::str::from_utf8(data) {
            if let Ok(d) = s.parse::<crate::digest::Digest>() {
                assert_eq!(d.to_string(), s, "digest round trip");
            }
        }
        if let Ok(set) = crate::json::from_slice::<crate::digest::DigestSet>(data, "digest set") {
            // A set that cannot be written fails the round trip; it is never
            // read back from empty bytes.
            let again = serde_json::to_vec(&set).ok().and_then(|json| {
                crate::json::from_slice::<crate::digest::DigestSet>(&json, "digest set").ok()
            });
            assert_eq!(again.as_ref(), Some(&set), "digest set round trip");
        }
    }

    /// Parses a statement as SLSA provenance and as a VSA, and checks the
    /// claims against fixed expectations.
    pub fn provenance(data: &[u8]) {
        if let Ok(st) = crate::statement::Statement::from_json(data) {
            let _ = crate::predicate::slsa_provenance::ProvenanceClaims::from_statement(&st);
            let expect = crate::provenance::ProvenanceExpectation::new(
                crate::digest::DigestSet::of_bytes(data),
                ["https://github.com/actions/runner"],
                "github.com/acme/app",
            )
            .with_ref(crate::provenance::RefExpectation::VersionedTag(
                "v1.2".into(),
            ));
            let _ = crate::provenance::verify_provenance_statement(&st, &expect);
            let vsa = crate::predicate::vsa::VsaExpectation::new(
                crate::digest::DigestSet::of_bytes(data),
                ["https://verifier.example"],
                "https://example.com/app",
            );
            let _ = crate::predicate::vsa::check_vsa(&st, &vsa);
        }
        let _ = serde_json::from_slice::<crate::predicate::slsa_provenance::Provenance>(data);
        let _ = serde_json::from_slice::<crate::predicate::vsa::VerificationSummary>(data);
    }

    /// Parses PEM public and private keys.
    pub fn pem(data: &[u8]) {
        if let Ok(s) = std::str::from_utf8(data) {
            if let Ok(k) = crate::keys::PublicKey::from_pem(s) {
                let again = crate::keys::PublicKey::from_pem(&k.to_pem());
                assert_eq!(again.ok().as_ref(), Some(&k), "public key round trip");
            }
            let _ = crate::keys::PrivateKey::from_pem(s);
        }
        if let Ok(k) = crate::keys::PublicKey::from_spki_der(data) {
            // One key, one id: the canonical encoding reads back as itself.
            let again = crate::keys::PublicKey::from_spki_der(k.spki_der());
            assert_eq!(again.ok().as_ref(), Some(&k), "canonical key round trip");
        }
        let _ = crate::keys::PrivateKey::from_pkcs8_der(data);
    }

    /// Source URIs, builder ids and version tags (issue #14): `data` is
    /// `pattern NUL id`. A parsed URI never keeps user info or a `.`/`..`
    /// segment, and a builder id is trusted only by a pattern naming the
    /// same scheme, host and path.
    pub fn provenance_match(data: &[u8]) {
        use crate::provenance::{builder_id_matches, parse_uri, versioned_tag_matches};
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        let (pattern, id) = text.split_once('\0').unwrap_or((text, text));
        for s in [pattern, id] {
            if let Ok(u) = parse_uri(s) {
                assert!(!u.host.contains('@'), "user info kept");
                assert!(
                    u.path
                        .split('/')
                        .all(|seg| !seg.is_empty() && seg != "." && seg != ".."),
                    "path walk kept"
                );
            }
        }
        if builder_id_matches(pattern, id) {
            let (p, i) = (parse_uri(pattern), parse_uri(id));
            assert!(
                matches!((&p, &i), (Ok(p), Ok(i)) if p.location() == i.location() && p.scheme == i.scheme),
                "trusted another builder"
            );
        }
        let _ = versioned_tag_matches(pattern, id);
    }

    /// Parses a promotion policy and, if it parses, activates it, evaluates
    /// an empty gate into each environment and round-trips its canonical
    /// JSON; parses `data` as a statement and reads its predicate as a
    /// promotion record, an approval and an incident, round-tripping each
    /// that parses through a new statement.
    pub fn policy(data: &[u8]) {
        use crate::policy::{GateRequest, Policy, evaluate_gate};
        use crate::predicate::approval::Approval;
        use crate::predicate::promotion::{Incident, PromotionKind, PromotionRecord};
        use crate::statement::Statement;

        if let Ok(policy) = Policy::from_json(data) {
            let json = policy.to_json();
            assert!(json.is_ok(), "a parsed policy serializes");
            let Ok(json) = json else { return };
            let again = Policy::from_json(&json);
            assert_eq!(again.ok().as_ref(), Some(&policy), "policy round trip");
            let digest = policy.digest().ok();
            let active = policy.clone().activate();
            assert!(active.is_ok(), "a parsed policy activates");
            if let Ok(active) = active {
                assert_eq!(Some(active.digest()), digest.as_ref(), "policy digest");
                let artifact = crate::digest::DigestSet::of_bytes(data);
                let time = crate::time::Timestamp::from_unix(1_700_000_000);
                for env in &policy.environments {
                    let from = policy
                        .promotions
                        .iter()
                        .find(|e| e.to == env.name)
                        .map(|e| e.from.as_str());
                    for kind in [PromotionKind::Promotion, PromotionKind::Emergency] {
                        let mut request = GateRequest::new(artifact.clone(), from, &env.name, time);
                        request.kind = kind;
                        request.reason = Some("fuzz".into());
                        let _ = evaluate_gate(&active, &request, &[]);
                    }
                }
            }
        }
        if let Ok(st) = Statement::from_json(data) {
            fn round_trip<P>(st: &Statement, what: &str)
            where
                P: crate::statement::Predicate + PartialEq + std::fmt::Debug,
            {
                if let Ok(p) = st.predicate_as::<P>() {
                    let rebuilt = Statement::new(st.subject().to_vec(), &p);
                    assert!(rebuilt.is_ok(), "{what}: statement rebuilt");
                    if let Ok(rebuilt) = rebuilt {
                        let again = rebuilt
                            .to_json()
                            .and_then(|j| Statement::from_json(&j))
                            .and_then(|s| s.predicate_as::<P>());
                        assert_eq!(again.ok().as_ref(), Some(&p), "{what} round trip");
                    }
                }
            }
            round_trip::<PromotionRecord>(&st, "promotion record");
            round_trip::<Approval>(&st, "approval");
            round_trip::<Incident>(&st, "incident");
        }
    }

    /// The first difference between two models, briefly.
    fn sbom_difference(a: &crate::sbom::Sbom, b: &crate::sbom::Sbom) -> String {
        if a.root != b.root {
            return format!("root {:?} != {:?}", a.root, b.root);
        }
        if a.timestamp != b.timestamp {
            return format!("timestamp {} != {}", a.timestamp, b.timestamp);
        }
        if a.components.len() != b.components.len() {
            return format!(
                "{} != {} components",
                a.components.len(),
                b.components.len()
            );
        }
        if let Some((x, y)) = a.components.iter().zip(&b.components).find(|(x, y)| x != y) {
            return format!("component {x:?} != {y:?}");
        }
        format!("dependencies {:?} != {:?}", a.dependencies, b.dependencies)
    }

    /// A small lock file for `cargo metadata` input (`sbom`).
    const FUZZ_LOCK: &str = "version = 4\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n\
        dependencies = [\"dep\"]\n[[package]]\nname = \"dep\"\nversion = \"1.0.0\"\n\
        source = \"registry+https://github.com/rust-lang/crates.io-index\"\n";

    /// Parses `data` as a `Cargo.lock` (alone, with `data` also as the
    /// root manifest, and as `cargo metadata` output for a fixed lock
    /// file), as CycloneDX JSON and as SPDX JSON. Every model that comes
    /// out is written as CycloneDX 1.6, CycloneDX 1.5 and SPDX 2.3 and read
    /// back (`sbom_round_trip`).
    pub fn sbom(data: &[u8]) {
        use crate::sbom::cargo::{CargoInput, from_cargo};
        use crate::sbom::{cyclonedx, spdx};
        let time = crate::time::Timestamp::from_unix(1_700_000_000);
        if let Ok(text) = std::str::from_utf8(data) {
            let inputs = [
                CargoInput::new(text),
                CargoInput::new(text).with_manifest(text),
                CargoInput::new(FUZZ_LOCK).with_metadata(text),
            ];
            for input in inputs {
                if let Ok(sbom) = from_cargo(&input, time) {
                    assert!(sbom.validate().is_ok(), "Cargo: a valid model");
                    sbom_round_trip(&sbom, "Cargo");
                }
            }
        }
        if let Ok(sbom) = cyclonedx::from_json(data) {
            assert!(sbom.validate().is_ok(), "CycloneDX: a valid model");
            sbom_round_trip(&sbom, "CycloneDX");
        }
        if let Ok(sbom) = spdx::from_json(data) {
            assert!(sbom.validate().is_ok(), "SPDX: a valid model");
            sbom_round_trip(&sbom, "SPDX");
        }
        if let Ok(sbom) = crate::sbom::spdx3::from_json(data) {
            assert!(sbom.validate().is_ok(), "SPDX 3: a valid model");
            sbom_round_trip(&sbom, "SPDX 3");
        }
    }

    /// Parses `data` as an SPDX license expression (and as a Cargo
    /// `license` field): what parses displays as text that parses to the
    /// same expression, and its listed form parses back to itself.
    pub fn license_expression(data: &[u8]) {
        use crate::sbom::LicenseExpression;
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        for parsed in [
            LicenseExpression::parse(text),
            LicenseExpression::parse_cargo(text),
        ] {
            let Ok(e) = parsed else { continue };
            let shown = e.to_string();
            assert_eq!(
                LicenseExpression::parse(&shown).as_ref(),
                Ok(&e),
                "display does not parse back: {shown}"
            );
            if let Ok((listed, _)) = e.to_listed() {
                let again = LicenseExpression::parse(&listed.to_string());
                assert_eq!(
                    again.as_ref(),
                    Ok(&listed),
                    "listed form does not parse back"
                );
                assert_eq!(listed.to_listed().map(|(l, _)| l).as_ref(), Ok(&listed));
            }
        }
    }

    /// Parses `data` as a package URL: what parses keeps its text, and
    /// parsing that text again gives the same parts.
    pub fn purl(data: &[u8]) {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        if let Ok(p) = crate::sbom::Purl::parse(text) {
            assert_eq!(p.as_str(), text);
            assert!(!p.name().is_empty());
            assert_eq!(crate::sbom::Purl::parse(p.as_str()).as_ref(), Ok(&p));
        }
    }

    /// Parses `data` as a bom-ref and as an SPDX element id: what parses
    /// keeps its text and survives JSON; every SPDX id is a bom-ref; a
    /// component's derived bom-ref is always valid.
    pub fn bom_ref(data: &[u8]) {
        use crate::sbom::spdx::SpdxId;
        use crate::sbom::{BomRef, Component};
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        if let Ok(r) = BomRef::parse(text) {
            assert_eq!(r.as_str(), text);
            let again = serde_json::to_string(&r)
                .ok()
                .and_then(|json| serde_json::from_str::<BomRef>(&json).ok());
            assert_eq!(again.as_ref(), Some(&r), "bom-ref round trip");
        }
        if let Ok(id) = SpdxId::parse(text) {
            assert_eq!(id.as_str(), text);
            assert_eq!(BomRef::parse(text).as_ref(), Ok(&BomRef::from(&id)));
        }
        let (name, version) = text.split_once('@').unwrap_or((text, ""));
        let c = Component::new(name, version);
        assert_eq!(BomRef::parse(c.bom_ref.as_str()).as_ref(), Ok(&c.bom_ref));
    }

    /// Reads `data` as a binary with `cargo auditable` data (small limits)
    /// and as the decompressed audit JSON; every model that comes out must
    /// be valid and survive the writers' round trips.
    #[cfg(feature = "auditable")]
    pub fn sbom_binary(data: &[u8]) {
        use crate::sbom::binary::{Limits, from_audit_json, from_binary};
        let time = crate::time::Timestamp::from_unix(1_700_000_000);
        let limits = Limits::new(1 << 20, 1 << 16, 1_000);
        for sbom in [
            from_binary(data, limits, time),
            from_audit_json(data, limits, time),
        ]
        .into_iter()
        .flatten()
        {
            assert!(sbom.validate().is_ok(), "binary: a valid model");
            sbom_round_trip(&sbom, "binary");
        }
    }

    /// Writes `sbom` in each format and reads it back: our output must
    /// read; CycloneDX keeps the model as it is; SPDX keeps every
    /// component's name, version, purl, hashes,
    /// description and source and
    /// the number of edges (what it can lose is listed in
    /// [`crate::sbom::spdx`]); and a second write and read changes nothing
    /// (bytes and model).
    fn sbom_round_trip(sbom: &crate::sbom::Sbom, from: &str) {
        use crate::sbom::cyclonedx::{self, CycloneDxVersion};
        use crate::sbom::{Component, Sbom, spdx};
        type Writer = fn(&Sbom) -> Result<Vec<u8>, crate::Error>;
        type Reader = fn(&[u8]) -> Result<Sbom, crate::Error>;
        let formats: [(&str, Writer, Reader); 5] = [
            (
                "CycloneDX 1.6",
                |s| cyclonedx::to_json(s, CycloneDxVersion::V1_6),
                cyclonedx::from_json,
            ),
            (
                "CycloneDX 1.5",
                |s| cyclonedx::to_json(s, CycloneDxVersion::V1_5),
                cyclonedx::from_json,
            ),
            ("SPDX 2.3", spdx::to_json, spdx::from_json),
            (
                "CycloneDX 1.7",
                |s| cyclonedx::to_json(s, CycloneDxVersion::V1_7),
                cyclonedx::from_json,
            ),
            (
                "SPDX 3",
                crate::sbom::spdx3::to_json,
                crate::sbom::spdx3::from_json,
            ),
        ];
        fn spdx_purl(c: &Component) -> Option<String> {
            c.purl.as_ref().map(|p| p.as_str().to_owned())
        }
        // What SPDX always keeps, per component, whatever the bom-refs:
        // name, version, purl (as above), hashes, description, source.
        type Kept = (
            String,
            String,
            Option<String>,
            Vec<String>,
            Option<String>,
            crate::sbom::SourceKind,
        );
        fn kept(c: &Component) -> Kept {
            let mut hashes: Vec<String> = c.hashes.iter().map(|d| d.to_string()).collect();
            hashes.sort();
            (
                c.name.clone(),
                c.version.clone(),
                spdx_purl(c),
                hashes,
                c.description.clone(),
                c.source.clone(),
            )
        }
        fn all_kept(s: &Sbom) -> Vec<Kept> {
            let mut all: Vec<Kept> = std::iter::once(&s.root)
                .chain(&s.components)
                .map(kept)
                .collect();
            all.sort();
            all
        }
        // Writers sort components by bom-ref: compare in that order.
        fn sorted(s: &Sbom) -> Sbom {
            let mut s = s.clone();
            s.components.sort_by(|a, b| a.bom_ref.cmp(&b.bom_ref));
            s
        }
        let edges = |s: &Sbom| s.dependencies.values().map(|d| d.len()).sum::<usize>();
        for (format, write, read) in formats {
            let json = write(sbom);
            assert!(json.is_ok(), "{from} -> {format}: the writer fails");
            let Ok(json) = json else { return };
            let first = read(&json);
            if let Err(e) = &first {
                let json = String::from_utf8_lossy(&json);
                assert!(
                    first.is_ok(),
                    "{from} -> {format}: our output does not read back: {e}\n{json}"
                );
            }
            let Ok(first) = first else { return };
            if format.starts_with("CycloneDX") {
                let (a, b) = (sorted(&first), sorted(sbom));
                assert!(
                    a == b,
                    "{from} -> {format} -> model: {}",
                    sbom_difference(&a, &b)
                );
            } else {
                assert_eq!(
                    all_kept(&first),
                    all_kept(sbom),
                    "{from} -> {format} -> model: components"
                );
                assert_eq!(edges(&first), edges(sbom), "{from} -> {format}: edges");
            }
            let again = write(&first);
            assert!(again.is_ok(), "{from} -> {format}: the second write fails");
            let Ok(again) = again else { return };
            let second = read(&again);
            assert!(
                second.as_ref().ok().map(sorted) == Some(sorted(&first)),
                "{from} -> {format}: a second round trip changes the model: {}",
                match &second {
                    Ok(second) => sbom_difference(&sorted(second), &sorted(&first)),
                    Err(e) => e.to_string(),
                }
            );
            if let Ok(second) = second {
                assert!(
                    write(&second).ok() == Some(again),
                    "{from} -> {format}: bytes change"
                );
            }
        }
    }
    /// The Sigstore public-good production trusted root (a copy of
    /// tests/data/sigstore/trusted_roots/production.trusted_root.json), for
    /// the bundle target only.
    #[cfg(feature = "sigstore")]
    fn fuzz_trusted_root() -> Option<&'static crate::bundle::TrustedRoot> {
        static ROOT: std::sync::OnceLock<Option<crate::bundle::TrustedRoot>> =
            std::sync::OnceLock::new();
        ROOT.get_or_init(|| {
            crate::bundle::TrustedRoot::from_json(include_bytes!("bundle/fuzz_trusted_root.json"))
                .ok()
        })
        .as_ref()
    }

    /// Parses a Sigstore bundle and, if it parses, verifies it against the
    /// production trusted root with a keyless pattern anchor, a key anchor
    /// and both, and as an attestation; a verified report must name a
    /// signature check and a signer.
    #[cfg(feature = "sigstore")]
    pub fn bundle(data: &[u8]) {
        let Ok(bundle) = crate::bundle::Bundle::from_json(data) else {
            return;
        };
        let _ = bundle.summary();
        let Some(root) = fuzz_trusted_root() else {
            return;
        };
        let artifact = crate::digest::DigestSet::of_bytes(data);
        let keyless = crate::trust::IdentityPolicy::keyless_regex(".*", ".*")
            .ok()
            .map(|c| crate::trust::Anchor::keyless("any", c));
        let key = crate::keys::PublicKey::from_pem(FUZZ_P256_PUB)
            .ok()
            .map(crate::trust::Anchor::from);
        let sets = [vec![keyless.clone()], vec![key.clone()], vec![keyless, key]];
        for set in sets {
            let mut anchors = crate::trust::TrustAnchors::new().with_sigstore_root(root.clone());
            for anchor in set.into_iter().flatten() {
                let _ = anchors.push(anchor);
            }
            let verified = crate::bundle::verify_artifact(&bundle, &anchors, &artifact);
            let report = verified.report();
            if report.verified() {
                assert!(
                    report.checks().iter().any(|c| c.name == "signature"),
                    "verified without a signature check"
                );
                assert!(
                    !verified.signed_by().is_empty(),
                    "verified without a signer"
                );
            }
            let expect =
                crate::verify::Expectation::new("https://slsa.dev/provenance/v1", artifact.clone());
            let _ = crate::bundle::verify_attestation(&bundle, &anchors, &expect);
        }
    }

    /// Parses a trusted root.
    #[cfg(feature = "sigstore")]
    pub fn trusted_root(data: &[u8]) {
        if let Ok(root) = crate::bundle::TrustedRoot::from_json(data) {
            let _ = format!("{root:?}");
        }
    }

    /// Parses DER certificates: the whole input, and the input split in two
    /// as a chain (its order checked as a bundle's is).
    #[cfg(feature = "sigstore")]
    pub fn x509(data: &[u8]) {
        let _ = crate::bundle::fuzz_x509(data);
    }

    /// Builds a store directory from `data` (envelopes, links, heads, raw
    /// files, directories, symbolic links to /dev/zero or themselves) and
    /// reads it as a verifier does.
    pub fn store_dir(data: &[u8]) {
        crate::promotion::fuzz_store_dir(data);
    }
}

/// The README's Rust snippets are compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
