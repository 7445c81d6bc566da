//! Each way a Sigstore bundle must fail, on a real bundle edited one way at
//! a time, and the check that names it: expired certificate, wrong identity,
//! wrong issuer, tampered log entry, bad inclusion proof, wrong checkpoint
//! signature, untrusted CA; a key bundle with the wrong key; predicate type
//! and subject binding; and hostile input that must never panic.
#![cfg(feature = "sigstore")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::fs;
use std::path::Path;

use base64::Engine as _;
use custodia::bundle::{
    Bundle, IdentityPolicy, TrustedRoot, VerificationMaterial, verify_artifact, verify_attestation,
};
use custodia::digest::DigestSet;
use custodia::keys::{KeyAlgorithm, PrivateKey, PublicKey};
use custodia::report::Report;
use custodia::trust::{Anchor, TrustAnchors};
use custodia::verify::Expectation;
use serde_json::Value;

const ID: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";
const CASES: &str = "sigstore-conformance/bundle-verify";

fn read(rel: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sigstore")
        .join(rel);
    fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json(rel: &str) -> Value {
    serde_json::from_slice(&read(rel)).unwrap()
}

fn production() -> TrustedRoot {
    TrustedRoot::from_json(&read("trusted_roots/production.trusted_root.json")).unwrap()
}

fn a_txt() -> DigestSet {
    DigestSet::of_bytes(&read("sigstore-conformance/a.txt"))
}

fn happy(case: &str) -> Value {
    json(&format!("{CASES}/{case}/bundle.sigstore.json"))
}

fn b64d(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn b64e(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// Verifies an edited bundle for a.txt with the beacon's identity.
fn check(bundle: &Value, root: &TrustedRoot, policy: &IdentityPolicy) -> Report {
    let bundle = Bundle::from_json(&serde_json::to_vec(bundle).unwrap()).unwrap();
    verify_artifact(&bundle, &anchors(root, policy), &a_txt())
        .report()
        .clone()
}

fn beacon() -> IdentityPolicy {
    IdentityPolicy::keyless(ID, ISSUER)
}

/// The first failure is `name` and its reason contains `text`.
fn fails_on(report: &Report, name: &str, text: &str) {
    let failure = report
        .first_failure()
        .unwrap_or_else(|| panic!("verified, expected `{name}` to fail:\n{report}"));
    assert_eq!(failure.name, name, "{report}");
    assert!(
        failure.reason.to_lowercase().contains(&text.to_lowercase()),
        "`{name}` reason lacks `{text}`:\n{report}"
    );
    // Nothing is said after the failed check.
    assert_eq!(report.checks().last(), Some(failure), "{report}");
}

#[test]
fn the_unedited_bundle_verifies() {
    let report = check(&happy("happy-path-v0.3"), &production(), &beacon());
    assert!(report.verified(), "{report}");
}

#[test]
fn expired_certificate() {
    // The log integrated the entry after the Fulcio certificate expired
    // (its SET is valid: the time is authentic).
    let report = check(
        &happy("integrated-time-in-future_fail"),
        &production(),
        &IdentityPolicy::keyless_regex(".*", ".*").unwrap(),
    );
    fails_on(&report, "certificate-chain", "expired");

    // The in-toto bundle's signed entry timestamp is after the leaf's notAfter.
    let dir = format!("{CASES}/intoto-set-outside-signing-cert-validity_fail");
    let root = TrustedRoot::from_json(&read(&format!("{dir}/trusted_root.json"))).unwrap();
    let bundle = Bundle::from_json(&read(&format!("{dir}/bundle.sigstore.json"))).unwrap();
    let report = verify_artifact(
        &bundle,
        &anchors(&root, &beacon()),
        &DigestSet::of_bytes(&read(&format!("{dir}/artifact"))),
    )
    .report()
    .clone();
    fails_on(&report, "certificate-chain", "expired");
}

#[test]
fn wrong_identity() {
    let root = production();
    let bundle = happy("happy-path-v0.3");
    let other = IdentityPolicy::keyless(
        "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main",
        ISSUER,
    );
    fails_on(&check(&bundle, &root, &other), "identity", "acme/app");
    // A pattern must match: an unanchored one matches anywhere (cosign's
    // semantics), an anchored one must match all of it.
    let re = IdentityPolicy::keyless_regex(
        "extremely-dangerous-oidc-beacon",
        "^https://token\\.actions\\.githubusercontent\\.com$",
    )
    .unwrap();
    assert!(check(&bundle, &root, &re).verified());
    let anchored =
        IdentityPolicy::keyless_regex("^extremely-dangerous-oidc-beacon$", ".*").unwrap();
    fails_on(
        &check(&bundle, &root, &anchored),
        "identity",
        "extremely-dangerous",
    );
    // The identity is checked only once the chain verified: the report
    // names every earlier check as passed.
    let report = check(&bundle, &root, &other);
    let names: Vec<_> = report.checks().iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "bundle",
            "certificate-chain",
            "transparency-log",
            "signing-time",
            "identity"
        ]
    );
}

#[test]
fn wrong_issuer() {
    let policy = IdentityPolicy::keyless(ID, "https://accounts.google.com");
    let report = check(&happy("happy-path-v0.3"), &production(), &policy);
    fails_on(&report, "issuer", "accounts.google.com");
    let policy = IdentityPolicy::keyless_regex(".*", "^https://gitlab\\.com$").unwrap();
    let report = check(&happy("happy-path-v0.3"), &production(), &policy);
    fails_on(&report, "issuer", "gitlab");
}

#[test]
fn tampered_log_entry() {
    // The logged body names another artifact hash: its leaf hash no longer
    // proves inclusion, and its SET no longer verifies.
    let mut bundle = happy("happy-path-v0.3");
    let entry = &mut bundle["verificationMaterial"]["tlogEntries"][0];
    let mut body: Value =
        serde_json::from_slice(&b64d(entry["canonicalizedBody"].as_str().unwrap())).unwrap();
    body["spec"]["data"]["hash"]["value"] = Value::String("00".repeat(32));
    entry["canonicalizedBody"] = Value::String(b64e(&serde_json::to_vec(&body).unwrap()));
    fails_on(
        &check(&bundle, &production(), &beacon()),
        "transparency-log",
        "",
    );

    // The log index is covered too.
    let mut bundle = happy("happy-path-v0.3");
    bundle["verificationMaterial"]["tlogEntries"][0]["integratedTime"] =
        Value::String("1710869187".into());
    fails_on(
        &check(&bundle, &production(), &beacon()),
        "transparency-log",
        "",
    );
}

#[test]
fn bad_inclusion_proof() {
    let mut bundle = happy("happy-path-v0.3");
    let hashes = &mut bundle["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["hashes"];
    let mut first = b64d(hashes[0].as_str().unwrap());
    first[0] ^= 1;
    hashes[0] = Value::String(b64e(&first));
    fails_on(
        &check(&bundle, &production(), &beacon()),
        "transparency-log",
        "inclusion proof",
    );

    // A proof for another tree size.
    let mut bundle = happy("happy-path-v0.3");
    let proof = &mut bundle["verificationMaterial"]["tlogEntries"][0]["inclusionProof"];
    let size: u64 = proof["treeSize"].as_str().unwrap().parse().unwrap();
    proof["treeSize"] = Value::String((size + 1).to_string());
    fails_on(
        &check(&bundle, &production(), &beacon()),
        "transparency-log",
        "",
    );
}

#[test]
fn wrong_checkpoint_signature() {
    let mut bundle = happy("happy-path-v0.3");
    let cp = &mut bundle["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]
        ["envelope"];
    let text = cp.as_str().unwrap().to_owned();
    // The last line is "— <origin> <base64(key hint || signature)>".
    let (head, sig_line) = text.trim_end().rsplit_once('\n').unwrap();
    let (prefix, sig) = sig_line.rsplit_once(' ').unwrap();
    let mut raw = b64d(sig);
    let last = raw.len() - 1;
    raw[last] ^= 1;
    *cp = Value::String(format!("{head}\n{prefix} {}\n", b64e(&raw)));
    fails_on(
        &check(&bundle, &production(), &beacon()),
        "transparency-log",
        "checkpoint",
    );
}

#[test]
fn untrusted_ca() {
    // Production's logs, staging's Fulcio CAs: the certificate chains to
    // nothing the root trusts.
    let mut root = json("trusted_roots/production.trusted_root.json");
    root["certificateAuthorities"] =
        json("trusted_roots/staging.trusted_root.json")["certificateAuthorities"].clone();
    let root = TrustedRoot::from_json(&serde_json::to_vec(&root).unwrap()).unwrap();
    fails_on(
        &check(&happy("happy-path-v0.3"), &root, &beacon()),
        "certificate-chain",
        "",
    );

    // A trusted CA whose validity window ended before the signing time.
    let mut root = json("trusted_roots/production.trusted_root.json");
    for ca in root["certificateAuthorities"].as_array_mut().unwrap() {
        if ca["validFor"].get("end").is_none() {
            // The current CA (since 2022-04-13); the bundle was signed in 2024.
            ca["validFor"]["end"] = Value::String("2024-01-01T00:00:00Z".into());
        }
    }
    let root = TrustedRoot::from_json(&serde_json::to_vec(&root).unwrap()).unwrap();
    fails_on(
        &check(&happy("happy-path-v0.3"), &root, &beacon()),
        "certificate-chain",
        "",
    );

    // A root in the middle of the bundle's chain is refused (a chain is
    // leaf first, each certificate issued by the next; a root may only end
    // it, and is never an anchor).
    let report = check(
        &happy("bundle-with-root-cert_fail"),
        &production(),
        &beacon(),
    );
    fails_on(&report, "certificate-chain", "out of order");
}

#[test]
fn public_key_bundles_need_the_signers_key() {
    let dir = format!("{CASES}/managed-key-happy-path");
    let bundle = Bundle::from_json(&read(&format!("{dir}/bundle.sigstore.json"))).unwrap();
    assert!(matches!(
        bundle.material(),
        VerificationMaterial::PublicKey { .. }
    ));
    let key =
        PublicKey::from_pem(&String::from_utf8(read(&format!("{dir}/key.pub"))).unwrap()).unwrap();
    let ok = verify_artifact(&bundle, &anchors(&production(), &key), &a_txt());
    assert!(ok.report().verified(), "{}", ok.report());

    let other = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let policy = other.public_key().clone();
    let report = verify_artifact(&bundle, &anchors(&production(), &policy), &a_txt())
        .report()
        .clone();
    fails_on(&report, "signature", "");

    // Among several trusted keys (and a keyless signer), the one that
    // signed is found and named; the bundle's key hint picks nothing.
    let mut several = TrustAnchors::new().with_sigstore_root(production());
    several
        .push(Anchor::key("other", policy.clone()).with_roles(["builder"]))
        .unwrap();
    several.push(Anchor::from(beacon())).unwrap();
    several
        .push(Anchor::key("managed", key.clone()).with_roles(["builder"]))
        .unwrap();
    let ok = verify_artifact(&bundle, &several, &a_txt());
    assert!(ok.report().verified(), "{}", ok.report());
    let names: Vec<_> = ok.signed_by().iter().map(Anchor::identity).collect();
    assert_eq!(names, ["managed"]);
    // Without it, the failure says how many keys were tried.
    let mut without = TrustAnchors::new().with_sigstore_root(production());
    without.push(Anchor::key("other", policy.clone())).unwrap();
    without
        .push(Anchor::from(
            PrivateKey::generate(KeyAlgorithm::Ed25519)
                .unwrap()
                .public_key()
                .clone(),
        ))
        .unwrap();
    let report = verify_artifact(&bundle, &without, &a_txt())
        .report()
        .clone();
    fails_on(&report, "signature", "other 1 trusted keys");

    // A keyless policy for a key bundle, and a key for a keyless bundle.
    let report = verify_artifact(&bundle, &anchors(&production(), &beacon()), &a_txt())
        .report()
        .clone();
    fails_on(&report, "certificate-chain", "public-key bundle");
    let keyless =
        Bundle::from_json(&serde_json::to_vec(&happy("happy-path-v0.3")).unwrap()).unwrap();
    let report = verify_artifact(&keyless, &anchors(&production(), &policy), &a_txt())
        .report()
        .clone();
    fails_on(&report, "signature", "keyless bundle");
}

#[test]
fn one_call_binds_predicate_type_and_subject() {
    let bundle =
        Bundle::from_json(&serde_json::to_vec(&happy("happy-path-intoto-in-dsse-v3")).unwrap())
            .unwrap();
    let statement = json("sigstore-conformance/statement.json");
    let predicate_type = statement["predicateType"].as_str().unwrap().to_owned();

    let ok = verify_attestation(
        &bundle,
        &anchors(&production(), &beacon()),
        &Expectation::new(&predicate_type, a_txt()),
    );
    assert!(ok.report().verified(), "{}", ok.report());
    assert_eq!(ok.statement().unwrap().predicate_type(), predicate_type);

    let wrong_type = verify_attestation(
        &bundle,
        &anchors(&production(), &beacon()),
        &Expectation::new("https://example.com/other/v1", a_txt()),
    );
    fails_on(wrong_type.report(), "predicate-type", "example.com/other");
    assert!(wrong_type.statement().is_none());

    let rebuilt = verify_attestation(
        &bundle,
        &anchors(&production(), &beacon()),
        &Expectation::new(&predicate_type, DigestSet::of_bytes(b"rebuilt")),
    );
    fails_on(rebuilt.report(), "subject", "");
    assert!(rebuilt.into_result().is_err());

    // A message-signature bundle carries no statement.
    let message =
        Bundle::from_json(&serde_json::to_vec(&happy("happy-path-v0.3")).unwrap()).unwrap();
    let report = verify_attestation(
        &message,
        &anchors(&production(), &beacon()),
        &Expectation::new(&predicate_type, a_txt()),
    );
    fails_on(report.report(), "payload-type", "message-signature");

    // A message signature over another artifact.
    let report = verify_artifact(
        &message,
        &anchors(&production(), &beacon()),
        &DigestSet::of_bytes(b"other"),
    )
    .report()
    .clone();
    fails_on(&report, "artifact", "message digest");
}

#[test]
fn strict_parsing() {
    let base = happy("happy-path-v0.3");
    let text = serde_json::to_string(&base).unwrap();
    // A duplicate member: two parsers could read two different bundles.
    let dup = text.replacen("{\"mediaType\"", "{\"mediaType\":\"x\",\"mediaType\"", 1);
    let err = Bundle::from_json(dup.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("duplicate member"), "{err}");
    // Unknown members, both contents, no content.
    let mut extra = base.clone();
    extra["verificationMaterial"]["surprise"] = Value::Bool(true);
    assert!(Bundle::from_json(&serde_json::to_vec(&extra).unwrap()).is_err());
    let mut both = base.clone();
    both["dsseEnvelope"] = happy("happy-path-intoto-in-dsse-v3")["dsseEnvelope"].clone();
    assert!(Bundle::from_json(&serde_json::to_vec(&both).unwrap()).is_err());
    let mut none = base.clone();
    none.as_object_mut().unwrap().remove("messageSignature");
    assert!(Bundle::from_json(&serde_json::to_vec(&none).unwrap()).is_err());
    // int64 fields as protobuf JSON strings or numbers; not as "+1" or "1.0".
    let mut number = base.clone();
    number["verificationMaterial"]["tlogEntries"][0]["logIndex"] = Value::from(79571823u64);
    assert!(Bundle::from_json(&serde_json::to_vec(&number).unwrap()).is_ok());
    for bad in ["+79571823", "79571823.0", " 79571823", ""] {
        let mut b = base.clone();
        b["verificationMaterial"]["tlogEntries"][0]["logIndex"] = Value::String(bad.into());
        assert!(
            Bundle::from_json(&serde_json::to_vec(&b).unwrap()).is_err(),
            "{bad:?}"
        );
    }
    // The trusted root must be strict JSON too.
    let root = String::from_utf8(read("trusted_roots/production.trusted_root.json")).unwrap();
    let dup = root.replacen("\"tlogs\"", "\"ctlogs\": [], \"tlogs\"", 1);
    assert!(TrustedRoot::from_json(dup.as_bytes()).is_err());
}

#[test]
fn hostile_input_never_panics() {
    let root = production();
    let policy = beacon();
    let mut inputs: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"null".to_vec(),
        b"[]".to_vec(),
        vec![0xff, 0xfe, 0x00],
        b"{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\"}".to_vec(),
        "[".repeat(100_000).into_bytes(),
    ];
    for case in [
        "happy-path-v0.3",
        "happy-path-intoto-in-dsse-v3",
        "rekor2-happy-path",
        "managed-key-happy-path",
    ] {
        let bytes = read(&format!("{CASES}/{case}/bundle.sigstore.json"));
        let step = (bytes.len() / 97).max(1);
        for cut in (0..bytes.len()).step_by(step) {
            inputs.push(bytes[..cut].to_vec());
        }
        for i in (0..bytes.len()).step_by(step) {
            let mut flipped = bytes.clone();
            flipped[i] ^= 0x04;
            inputs.push(flipped);
        }
    }
    for input in &inputs {
        if let Ok(bundle) = Bundle::from_json(input) {
            let _ = verify_artifact(&bundle, &anchors(&root, &policy), &a_txt());
        }
        let _ = TrustedRoot::from_json(input);
    }
}

/// One trusted signer (a keyless identity or a key) under `root`.
fn anchors<A: Clone + Into<Anchor>>(root: &TrustedRoot, signer: &A) -> TrustAnchors {
    let mut anchors = TrustAnchors::new().with_sigstore_root(root.clone());
    anchors.push(signer.clone().into()).unwrap();
    anchors
}
