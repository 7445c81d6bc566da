//! Property tests: every wire type survives a JSON round trip unchanged,
//! the DSSE pre-authentication encoding has the length the spec says, and
//! the envelope reader never panics on hostile input.
//!
//! Case counts are kept small so the file runs in a few seconds in debug
//! builds; set `PROPTEST_CASES` to run more (it overrides every block).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use proptest::prelude::*;
use serde_json::{Value, json};

use custodia::digest::{Digest, DigestAlgorithm, DigestSet};
use custodia::dsse::{Envelope, pae};
use custodia::keys::{KeyAlgorithm, KeySet, PrivateKey, PublicKey, Signer};
use custodia::report::{Check, Report};
use custodia::resource::ResourceDescriptor;
use custodia::statement::{PAYLOAD_TYPE, Statement, StatementType};

/// `cases` unless `PROPTEST_CASES` says otherwise.
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------- strategies

/// The in-toto digest set algorithms and their accepted hex lengths.
const KNOWN: &[(&str, &[usize])] = &[
    ("sha256", &[64]),
    ("sha224", &[56]),
    ("sha384", &[96]),
    ("sha512", &[128]),
    ("sha512_224", &[56]),
    ("sha512_256", &[64]),
    ("sha3_224", &[56]),
    ("sha3_256", &[64]),
    ("sha3_384", &[96]),
    ("sha3_512", &[128]),
    ("md5", &[32]),
    ("sha1", &[40]),
    ("dirHash", &[64]),
    ("gitBlob", &[40, 64]),
    ("gitCommit", &[40, 64]),
    ("gitTag", &[40, 64]),
    ("gitTree", &[40, 64]),
];

fn lower_hex(len: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(0usize..16, len).prop_map(|nibbles| {
        nibbles
            .iter()
            .map(|&n| b"0123456789abcdef"[n] as char)
            .collect()
    })
}

/// A valid entry for an algorithm the spec names.
fn known_entry() -> impl Strategy<Value = (String, String)> {
    (0..KNOWN.len(), any::<prop::sample::Index>()).prop_flat_map(|(i, pick)| {
        let (name, lengths) = KNOWN[i];
        let len = *pick.get(lengths);
        lower_hex(len).prop_map(move |hex| (name.to_owned(), hex))
    })
}

/// An entry for an algorithm the spec does not name: carried opaquely, any
/// non-empty value.
fn unknown_entry() -> impl Strategy<Value = (String, String)> {
    (
        "[a-zA-Z0-9_]{1,16}".prop_filter("not a known algorithm", |name| {
            !KNOWN.iter().any(|(known, _)| known == name)
        }),
        "\\PC{1,40}",
    )
}

fn digest_set_entries() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::vec(prop_oneof![known_entry(), unknown_entry()], 0..6)
}

fn digest_set() -> impl Strategy<Value = DigestSet> {
    digest_set_entries().prop_map(|entries| {
        let mut set = DigestSet::new();
        for (algorithm, value) in &entries {
            set.insert_raw(algorithm, value).unwrap();
        }
        set
    })
}

fn algorithm() -> impl Strategy<Value = DigestAlgorithm> {
    prop::sample::select(DigestAlgorithm::ALL.to_vec())
}

fn digest() -> impl Strategy<Value = Digest> {
    algorithm().prop_flat_map(|alg| {
        proptest::collection::vec(any::<u8>(), alg.output_len())
            .prop_map(move |bytes| Digest::from_bytes(alg, &bytes).unwrap())
    })
}

/// A float that serde_json reads back exactly: a dyadic rational with few
/// enough decimal digits (at most 11 significant) for its exact fast path.
/// Longer ones can come back one ulp off, e.g. 900815.7490234375; see
/// `statement_round_trip_keeps_any_finite_float`.
fn exact_float() -> impl Strategy<Value = f64> {
    (any::<i16>(), 0u32..8).prop_map(|(m, k)| f64::from(m) / f64::from(1u32 << k))
}

/// Arbitrary JSON, with floats limited to `float`.
fn json_value(float: BoxedStrategy<f64>) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        float.prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(any::<String>(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn json_object(float: BoxedStrategy<f64>) -> impl Strategy<Value = Value> {
    proptest::collection::btree_map("\\PC{0,12}", json_value(float), 0..4)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

fn annotations() -> impl Strategy<Value = BTreeMap<String, Value>> {
    proptest::collection::btree_map("\\PC{0,12}", json_value(exact_float().boxed()), 0..3)
}

/// A descriptor that satisfies the spec (one of uri, digest, content).
fn resource_descriptor() -> impl Strategy<Value = ResourceDescriptor> {
    (
        proptest::option::of("\\PC{0,20}"),
        proptest::option::of("[a-z]{1,8}:[^ ]{0,30}"),
        digest_set(),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64)),
        proptest::option::of("\\PC{0,20}"),
        proptest::option::of("[a-z]{1,10}/[a-z0-9.+-]{1,20}"),
        annotations(),
    )
        .prop_map(
            |(name, uri, digest, content, download_location, media_type, annotations)| {
                let mut rd = ResourceDescriptor::default();
                rd.name = name;
                rd.uri = uri;
                rd.digest = digest;
                rd.content = content;
                rd.download_location = download_location;
                rd.media_type = media_type;
                rd.annotations = annotations;
                if rd.uri.is_none() && rd.digest.is_empty() && rd.content.is_none() {
                    rd.content = Some(Vec::new());
                }
                rd
            },
        )
}

/// A descriptor usable as a statement subject: it has a digest.
fn subject() -> impl Strategy<Value = ResourceDescriptor> {
    (resource_descriptor(), any::<[u8; 8]>()).prop_map(|(mut rd, artifact)| {
        if rd.digest.is_empty() {
            rd.digest = DigestSet::of_bytes(&artifact);
        }
        rd
    })
}

fn statement_with_floats(float: BoxedStrategy<f64>) -> impl Strategy<Value = Statement> {
    (
        proptest::collection::vec(subject(), 1..4),
        "\\PC{1,40}",
        json_object(float),
    )
        .prop_map(|(subjects, predicate_type, predicate)| {
            Statement::new_untyped(subjects, predicate_type, predicate).unwrap()
        })
}

fn statement() -> impl Strategy<Value = Statement> {
    statement_with_floats(exact_float().boxed())
}

/// A signer that returns canned bytes, to put arbitrary signatures in an
/// envelope (its key never made them, so they never verify).
struct CannedSigner {
    public: PublicKey,
    sig: Vec<u8>,
}

impl CannedSigner {
    /// Canned bytes under the `i`-th of a few fixed keys.
    fn new(i: usize, sig: &[u8]) -> Self {
        static KEYS: OnceLock<Vec<PublicKey>> = OnceLock::new();
        let keys = KEYS.get_or_init(|| {
            (0..8)
                .map(|_| {
                    PrivateKey::generate(KeyAlgorithm::Ed25519)
                        .unwrap()
                        .public_key()
                        .clone()
                })
                .collect()
        });
        Self {
            public: keys[i % keys.len()].clone(),
            sig: sig.to_vec(),
        }
    }
}

impl Signer for CannedSigner {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }
    fn sign(&self, _message: &[u8]) -> Result<Vec<u8>, custodia::Error> {
        Ok(self.sig.clone())
    }
}

fn payload() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..512)
}

/// `(keyid hint, signature bytes)`; hints are arbitrary text, including empty.
fn wire_signatures() -> impl Strategy<Value = Vec<(Option<String>, Vec<u8>)>> {
    proptest::collection::vec(
        (
            proptest::option::of(any::<String>()),
            proptest::collection::vec(any::<u8>(), 0..128),
        ),
        0..5,
    )
}

fn any_base64(bytes: &[u8], which: u8) -> String {
    match which % 4 {
        0 => STANDARD.encode(bytes),
        1 => STANDARD_NO_PAD.encode(bytes),
        2 => URL_SAFE.encode(bytes),
        _ => URL_SAFE_NO_PAD.encode(bytes),
    }
}

fn ed25519_key() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap())
}

/// What the fuzz target checks: a parse that succeeds survives a round trip.
fn parse_never_panics(bytes: &[u8]) {
    if let Ok(env) = Envelope::from_json(bytes) {
        let again = Envelope::from_json(&env.to_json().unwrap()).unwrap();
        assert_eq!(again, env);
        let keys: KeySet = [ed25519_key().public_key().clone()].into_iter().collect();
        let result = env.verify(&keys, 1).unwrap();
        // Nothing here was signed by that key.
        assert!(!result.verified());
    }
}

fn decimal_len(n: usize) -> usize {
    n.to_string().len()
}

// ---------------------------------------------------------------- digests

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn digest_set_json_round_trip(entries in digest_set_entries()) {
        let mut set = DigestSet::new();
        for (algorithm, value) in &entries {
            prop_assert!(set.insert_raw(algorithm, value).is_ok(), "{algorithm}: {value:?}");
        }
        let json = serde_json::to_string(&set).unwrap();
        let back: DigestSet = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&back, &set);

        // One member per distinct algorithm, in sorted order, last value wins.
        let expected: BTreeMap<&str, &str> =
            entries.iter().map(|(a, v)| (a.as_str(), v.as_str())).collect();
        let object: serde_json::Map<String, Value> = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(object.len(), expected.len());
        prop_assert_eq!(set.iter().collect::<BTreeMap<_, _>>(), expected);
        let keys: Vec<&str> = set.iter().map(|(k, _)| k).collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        prop_assert_eq!(keys, sorted);
    }

    #[test]
    fn digest_display_parse_round_trip(d in digest()) {
        let text = d.to_string();
        prop_assert_eq!(text.len(), d.algorithm().name().len() + 1 + 2 * d.algorithm().output_len());
        prop_assert_eq!(text.parse::<Digest>().unwrap(), d.clone());
        prop_assert_eq!(Digest::from_hex(d.algorithm(), &d.hex()).unwrap(), d.clone());

        let json = serde_json::to_string(&d).unwrap();
        prop_assert_eq!(&json, &format!("\"{text}\""));
        prop_assert_eq!(serde_json::from_str::<Digest>(&json).unwrap(), d.clone());

        // The set form carries the same value.
        prop_assert_eq!(d.to_set().digest(d.algorithm()), Some(d.clone()));
        // Uppercase hex is refused whenever there is a letter to uppercase.
        if d.hex().bytes().any(|b| b.is_ascii_alphabetic()) {
            let upper = format!("{}:{}", d.algorithm(), d.hex().to_ascii_uppercase());
            prop_assert!(upper.parse::<Digest>().is_err());
        }
    }

    #[test]
    fn hashing_in_pieces_equals_hashing_at_once(
        alg in algorithm(),
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        split in any::<prop::sample::Index>(),
    ) {
        let at = split.index(bytes.len() + 1);
        let mut hasher = custodia::digest::Hasher::new(alg);
        hasher.update(&bytes[..at]);
        hasher.update(&bytes[at..]);
        let once = alg.hash(&bytes);
        prop_assert_eq!(hasher.finish(), once.clone());
        prop_assert_eq!(custodia::digest::hash_reader(alg, &bytes[..]).unwrap(), once);
    }
}

// ---------------------------------------------------------------- in-toto

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn resource_descriptor_json_round_trip(rd in resource_descriptor()) {
        let json = serde_json::to_string(&rd).unwrap();
        let back: ResourceDescriptor = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&back, &rd);
        // Empty optional parts are omitted, not written as null or {}.
        let object: serde_json::Map<String, Value> = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(object.contains_key("digest"), !rd.digest.is_empty());
        prop_assert_eq!(object.contains_key("annotations"), !rd.annotations.is_empty());
        prop_assert!(object.values().all(|v| !v.is_null()));
    }

    #[test]
    fn statement_json_round_trip(st in statement()) {
        let json = st.to_json().unwrap();
        let back = Statement::from_json(&json).unwrap();
        prop_assert_eq!(&back, &st);
        // The serde impls agree with to_json/from_json.
        prop_assert_eq!(serde_json::to_vec(&st).unwrap(), json.clone());
        prop_assert_eq!(&serde_json::from_slice::<Statement>(&json).unwrap(), &st);
        prop_assert_eq!(back.to_json().unwrap(), json);
    }

    #[test]
    fn statement_v0_1_round_trips_as_v0_1(st in statement()) {
        let mut value: Value = serde_json::from_slice(&st.to_json().unwrap()).unwrap();
        value["_type"] = json!(StatementType::V0_1.uri());
        let old = Statement::from_json(&serde_json::to_vec(&value).unwrap()).unwrap();
        prop_assert_eq!(old.statement_type(), StatementType::V0_1);
        let back = Statement::from_json(&old.to_json().unwrap()).unwrap();
        prop_assert_eq!(&back, &old);
        prop_assert_eq!(back.statement_type(), StatementType::V0_1);
        prop_assert_eq!(back.subject(), st.subject());
    }
}

proptest! {
    #![proptest_config(config(64))]

    /// Any finite float in a predicate must survive to_json/from_json.
    ///
    /// Fails today: serde_json without its `float_roundtrip` feature parses
    /// some shortest-form floats one ulp off (e.g. 1.0715660391465826e-75),
    /// so a statement does not equal its own round trip. The fuzz target
    /// `statement` trips the same assertion.
    #[test]
    fn statement_round_trip_keeps_any_finite_float(
        st in statement_with_floats(
            any::<f64>().prop_filter("finite", |f| f.is_finite()).boxed()
        )
    ) {
        let back = Statement::from_json(&st.to_json().unwrap()).unwrap();
        prop_assert_eq!(&back, &st);
    }
}

// ---------------------------------------------------------------- DSSE

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn envelope_round_trip_from_struct(
        payload_type in any::<String>(),
        payload in payload(),
        signers in proptest::collection::vec(
            (0usize..8, proptest::collection::vec(any::<u8>(), 0..128)),
            0..5,
        ),
    ) {
        let mut env = Envelope::unsigned(payload_type.clone(), payload.clone());
        for (key, sig) in &signers {
            // Canned bytes never verify under the key, so nothing is "already
            // signed" by it (tests/keys_identity.rs covers real repeats).
            env.add_signature(&CannedSigner::new(*key, sig)).unwrap();
        }
        let json = env.to_json().unwrap();
        let back = Envelope::from_json(&json).unwrap();
        prop_assert_eq!(&back, &env);
        prop_assert_eq!(back.payload_type(), payload_type.as_str());
        prop_assert_eq!(back.payload(), &payload[..]);
        prop_assert_eq!(back.signatures().len(), signers.len());
        for (s, (key, sig)) in back.signatures().iter().zip(&signers) {
            let id = CannedSigner::new(*key, sig).key_id().clone();
            prop_assert_eq!(s.keyid.as_deref(), Some(id.as_str()));
            prop_assert_eq!(&s.sig, sig);
        }
        // Writers emit standard, padded base64.
        let wire: Value = serde_json::from_slice(&json).unwrap();
        let standard = STANDARD.encode(&payload);
        prop_assert_eq!(wire["payload"].as_str(), Some(standard.as_str()));
    }

    #[test]
    fn envelope_round_trip_from_wire(
        payload_type in any::<String>(),
        payload in payload(),
        signatures in wire_signatures(),
        encodings in any::<[u8; 8]>(),
    ) {
        let wire_sigs: Vec<Value> = signatures
            .iter()
            .enumerate()
            .map(|(i, (keyid, sig))| {
                let sig = any_base64(sig, encodings[(i + 1) % 8]);
                match keyid {
                    Some(k) => json!({"keyid": k, "sig": sig}),
                    None => json!({"sig": sig}),
                }
            })
            .collect();
        let wire = json!({
            "payloadType": payload_type,
            "payload": any_base64(&payload, encodings[0]),
            "signatures": wire_sigs,
        });
        let env = Envelope::from_json(&serde_json::to_vec(&wire).unwrap()).unwrap();
        prop_assert_eq!(env.payload_type(), payload_type.as_str());
        prop_assert_eq!(env.payload(), &payload[..]);
        prop_assert_eq!(env.signatures().len(), signatures.len());
        for (s, (keyid, sig)) in env.signatures().iter().zip(&signatures) {
            // An empty hint is no hint.
            let expected = keyid.as_deref().filter(|k| !k.is_empty());
            prop_assert_eq!(s.keyid.as_deref(), expected);
            prop_assert_eq!(&s.sig, sig);
        }
        let back = Envelope::from_json(&env.to_json().unwrap()).unwrap();
        prop_assert_eq!(&back, &env);
        prop_assert_eq!(back.to_json().unwrap(), env.to_json().unwrap());
    }

    #[test]
    fn pae_length_and_layout(payload_type in any::<String>(), payload in payload()) {
        let out = pae(&payload_type, &payload);
        let header = format!("DSSEv1 {} {} {} ", payload_type.len(), payload_type, payload.len());
        prop_assert_eq!(
            out.len(),
            "DSSEv1".len() + 1 + decimal_len(payload_type.len()) + 1 + payload_type.len()
                + 1 + decimal_len(payload.len()) + 1 + payload.len()
        );
        prop_assert_eq!(&out[..header.len()], header.as_bytes());
        prop_assert_eq!(&out[header.len()..], &payload[..]);
    }

    #[test]
    fn from_json_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        parse_never_panics(&bytes);
    }

    #[test]
    fn from_json_never_panics_on_json_ish_text(
        text in r#"[{}\[\]":, \\0-9a-zA-Z+/=_.-]{0,256}"#,
    ) {
        parse_never_panics(text.as_bytes());
    }

    #[test]
    fn from_json_never_panics_on_any_json_shape(
        payload_type in json_value(any::<f64>().boxed()),
        payload in json_value(any::<f64>().boxed()),
        signatures in json_value(any::<f64>().boxed()),
        sig_list in proptest::collection::vec(json_value(any::<f64>().boxed()), 0..3),
    ) {
        let doc = json!({"payloadType": payload_type, "payload": payload, "signatures": signatures});
        parse_never_panics(&serde_json::to_vec(&doc).unwrap());
        let doc = json!({"payloadType": "t", "payload": "", "signatures": sig_list});
        parse_never_panics(&serde_json::to_vec(&doc).unwrap());
    }

    #[test]
    fn from_json_never_panics_on_mutated_envelopes(
        payload in payload(),
        signatures in wire_signatures(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
    ) {
        let mut env = Envelope::unsigned("application/vnd.in-toto+json", payload);
        for (i, (_, sig)) in signatures.iter().enumerate() {
            env.add_signature(&CannedSigner::new(i, sig)).unwrap();
        }
        let mut bytes = env.to_json().unwrap();
        for (at, byte, op) in edits {
            match op {
                0 if !bytes.is_empty() => { let i = at.index(bytes.len()); bytes[i] = byte; }
                1 => { let i = at.index(bytes.len() + 1); bytes.insert(i, byte); }
                _ if !bytes.is_empty() => { let i = at.index(bytes.len()); bytes.remove(i); }
                _ => {}
            }
        }
        parse_never_panics(&bytes);
    }
}

proptest! {
    // Real signatures cost more in debug builds.
    #![proptest_config(config(32))]

    #[test]
    fn signed_envelope_survives_the_wire(payload_type in "\\PC{0,40}", payload in payload()) {
        let key = ed25519_key();
        let env = Envelope::sign(payload_type, payload, key).unwrap();
        let back = Envelope::from_json(&env.to_json().unwrap()).unwrap();
        prop_assert_eq!(&back, &env);
        let keys: KeySet = [key.public_key().clone()].into_iter().collect();
        let result = back.verify(&keys, 1).unwrap();
        prop_assert!(result.verified());
        prop_assert!(result.report().verified(), "{}", result.report());
    }
}

// ---------------------------------------------------------------- reports

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn report_json_says_verified_iff_all_checks_passed(
        checks in proptest::collection::vec((any::<String>(), any::<bool>(), any::<String>()), 0..8),
    ) {
        let mut report = Report::new();
        for (name, passed, reason) in &checks {
            report.push(if *passed {
                Check::pass(name.clone(), reason.clone())
            } else {
                Check::fail(name.clone(), reason.clone())
            });
        }
        let all_passed = !checks.is_empty() && checks.iter().all(|(_, passed, _)| *passed);
        prop_assert_eq!(report.verified(), all_passed);

        let value = serde_json::to_value(&report).unwrap();
        let expected_checks: Vec<Value> = checks
            .iter()
            .map(|(name, passed, reason)| json!({"name": name, "passed": passed, "reason": reason}))
            .collect();
        prop_assert_eq!(value, json!({"verified": all_passed, "checks": expected_checks}));

        let first_failure = checks.iter().find(|(_, passed, _)| !passed).map(|(n, _, _)| n.as_str());
        prop_assert_eq!(report.first_failure().map(|c| c.name.as_str()), first_failure);

        // Whatever the reasons say, the text form has one line per check
        // plus the verdict: document text cannot forge a line.
        let text = report.to_string();
        prop_assert_eq!(text.lines().count(), checks.len() + 1);
        prop_assert_eq!(text.ends_with("NOT VERIFIED"), !all_passed);
    }
}

// ---------------------------------------------------------------- examples

#[test]
fn too_many_signatures_is_an_error_not_a_panic() {
    let sigs: Vec<Value> = (0..=custodia::dsse::MAX_SIGNATURES)
        .map(|_| json!({"sig": "AA=="}))
        .collect();
    let doc = json!({"payloadType": PAYLOAD_TYPE, "payload": "", "signatures": sigs});
    assert!(Envelope::from_json(&serde_json::to_vec(&doc).unwrap()).is_err());
}
