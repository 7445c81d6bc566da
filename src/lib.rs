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
//! use custodia::keys::{KeyAlgorithm, KeySet, PrivateKey};
//! use custodia::resource::ResourceDescriptor;
//! use custodia::statement::{Statement, PAYLOAD_TYPE};
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
//! let envelope = Envelope::sign(PAYLOAD_TYPE, statement.to_json(), &builder)?;
//! let wire = envelope.to_json();
//!
//! // Consumer: signature, payload type, predicate type and subject in one call.
//! let trusted: KeySet = [builder.public_key().clone()].into_iter().collect();
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

pub mod digest;
pub mod dsse;
mod encoding;
pub mod error;
mod json;
pub mod keys;
pub mod policy;
pub mod predicate;
pub mod promotion;
pub mod provenance;
pub mod report;
pub mod resource;
pub mod sbom;
pub mod statement;
pub mod time;
pub mod verify;

pub use error::{Error, Result};

/// Entry points for fuzz targets; not part of the stable API.
#[doc(hidden)]
pub mod fuzzing {
    // Test keys (tests/data/openssl), inlined so packaging never depends on tests/.
    const FUZZ_ED25519_PUB: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA41RK9KyUCbjgYcdV56sfwXKfYl3jJnZQLhOmOqPo32U=\n-----END PUBLIC KEY-----\n";
    const FUZZ_P256_PUB: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEbiydJhAPwZMzKvJ1J5Sx0arI9al1\ncNnyt/ExzJ/Gd3g2+kB1dW5PxQxltdWpaJG+E8l09cEXWbnwTre4ldiXwQ==\n-----END PUBLIC KEY-----\n";

    fn fuzz_keys() -> &'static crate::keys::KeySet {
        static KEYS: std::sync::OnceLock<crate::keys::KeySet> = std::sync::OnceLock::new();
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
            let _ = env.verify(fuzz_keys(), 1);
            let expect = crate::verify::Expectation::new(
                "https://slsa.dev/provenance/v1",
                crate::digest::DigestSet::of_bytes(data),
            );
            let _ = crate::verify::verify_attestation(&env, fuzz_keys(), &expect);
            let again = crate::dsse::Envelope::from_json(&env.to_json());
            assert_eq!(again.ok().as_ref(), Some(&env), "envelope round trip");
        }
    }

    /// Parses an in-toto statement and round-trips it.
    pub fn statement(data: &[u8]) {
        if let Ok(st) = crate::statement::Statement::from_json(data) {
            let again = crate::statement::Statement::from_json(&st.to_json());
            assert_eq!(again.ok().as_ref(), Some(&st), "statement round trip");
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
            let json = serde_json::to_vec(&set).unwrap_or_default();
            let again = crate::json::from_slice::<crate::digest::DigestSet>(&json, "digest set");
            assert_eq!(again.ok().as_ref(), Some(&set), "digest set round trip");
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
        let _ = crate::keys::PublicKey::from_spki_der(data);
        let _ = crate::keys::PrivateKey::from_pkcs8_der(data);
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
            let again = Policy::from_json(&json);
            assert_eq!(again.ok().as_ref(), Some(&policy), "policy round trip");
            let digest = policy.digest();
            let active = policy.clone().activate();
            assert!(active.is_ok(), "a parsed policy activates");
            if let Ok(active) = active {
                assert_eq!(active.digest(), &digest, "policy digest");
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
                        let again = Statement::from_json(&rebuilt.to_json())
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
}

/// The README's Rust snippets are compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
