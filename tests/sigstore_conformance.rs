//! Sigstore bundle conformance: every bundle of tests/data/sigstore (the
//! sigstore-conformance suite's 70 `bundle-verify` cases and sigstore-python's
//! test bundles, copied from ../shared/conformance/sigstore) gives the outcome
//! its upstream expects, offline, against the trusted root given with it;
//! a failure fails on the check that names its reason ([`FAILS_ON`]).
#![cfg(feature = "sigstore")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::fs;
use std::path::{Path, PathBuf};

use custodia::bundle::{Bundle, IdentityPolicy, TrustedRoot, verify_artifact};
use custodia::digest::{DigestAlgorithm, DigestSet};
use custodia::keys::PublicKey;
use custodia::report::{Check, Report};
use custodia::trust::{Anchor, TrustAnchors};
use serde_json::Value;

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sigstore")
        .join(rel)
}

fn read(rel: &str) -> Vec<u8> {
    fs::read(data(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The check a failing case must fail on, by case name (the directory of a
/// sigstore-conformance case, the file name of a sigstore-python bundle).
/// Where the upstream reason could be caught by more than one check (the
/// verifier stops at the first), each acceptable one is listed.
const FAILS_ON: &[(&str, &[&str])] = &[
    ("bundle-empty-certificate-chain_fail", &["bundle"]),
    // A staging bundle: its log key and CA are not in the production root.
    (
        "bundle-from-wrong-instance_fail",
        &["transparency-log", "certificate-chain"],
    ),
    ("bundle-invalid-base64-signature_fail", &["bundle"]),
    ("bundle-malformed-json_fail", &["bundle"]),
    ("bundle-negative-log-index_fail", &["bundle"]),
    ("bundle-unknown-version_fail", &["bundle"]),
    ("bundle-with-root-cert_fail", &["certificate-chain"]),
    ("checkpoint-bad-keyhint_fail", &["transparency-log"]),
    ("checkpoint-wrong-roothash_fail", &["transparency-log"]),
    ("dsse-invalid-sig_fail", &["signature"]),
    ("dsse-mismatch-envelope_fail", &["tlog-body"]),
    ("dsse-mismatch-sig_fail", &["tlog-body"]),
    ("inclusion-proof-corrupted-hash_fail", &["transparency-log"]),
    // The edited body no longer matches its signed entry timestamp.
    (
        "incorrect-public-key_fail",
        &["transparency-log", "tlog-body"],
    ),
    (
        "integrated-time-in-future_fail",
        &["certificate-chain", "signing-time"],
    ),
    ("intoto-expired-certificate_fail", &["certificate-chain"]),
    ("intoto-log-entry-mismatch_fail", &["tlog-body"]),
    ("intoto-missing-inclusion-proof_fail", &["transparency-log"]),
    (
        "intoto-set-outside-signing-cert-validity_fail",
        &["certificate-chain", "signing-time"],
    ),
    (
        "intoto-tsa-timestamp-outside-cert-validity_fail",
        &["certificate-chain", "signing-time"],
    ),
    ("invalid-checkpoint-signature_fail", &["transparency-log"]),
    ("invalid-ct-key_fail", &["certificate-chain"]),
    ("invalid-inclusion-proof_fail", &["transparency-log"]),
    ("managed-key-no-key_fail", &["certificate-chain"]),
    // Its key.pub is not even valid PEM (the key is "wrong").
    ("managed-key-wrong-key_fail", &["key", "signature"]),
    ("message-digest-mismatch_fail", &["artifact"]),
    // The verifier's parser refuses a checkpoint note without these lines.
    (
        "rekor2-checkpoint-missing-log-signature_fail",
        &["bundle", "transparency-log"],
    ),
    (
        "rekor2-checkpoint-missing-origin_fail",
        &["bundle", "transparency-log"],
    ),
    (
        "rekor2-checkpoint-missing-root-hash_fail",
        &["bundle", "transparency-log"],
    ),
    (
        "rekor2-checkpoint-missing-size_fail",
        &["bundle", "transparency-log"],
    ),
    (
        "rekor2-checkpoint-no-matching-signature_fail",
        &["transparency-log"],
    ),
    ("rekor2-dsse-invalid-sig_fail", &["signature"]),
    ("rekor2-dsse-mismatch-envelope_fail", &["tlog-body"]),
    ("rekor2-dsse-mismatch-sig_fail", &["tlog-body"]),
    ("rekor2-no-inclusion-proof_fail", &["transparency-log"]),
    ("rekor2-no-timestamp_fail", &["signing-time"]),
    (
        "rekor2-timestamp-outside-trust-root-tsa-validity_fail",
        &["signing-time"],
    ),
    (
        "rekor2-timestamp-outside-tsa-cert-validity_fail",
        &["signing-time"],
    ),
    ("rekor2-timestamp-payload-mismatch_fail", &["signing-time"]),
    (
        "rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail",
        &["signing-time"],
    ),
    (
        "rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail",
        &["signing-time"],
    ),
    // The timestamp's base64 is broken: refused at parse time.
    (
        "rekor2-timestamp-with-incorrect-time_fail",
        &["bundle", "signing-time"],
    ),
    ("set-invalid-signature_fail", &["transparency-log"]),
    ("signature-mismatch_fail", &["signature"]),
    (
        "trust-root-tlog-missing-validity-start_fail",
        &["trusted-root"],
    ),
    ("wrong-hashedrekord-artifact_fail", &["tlog-body"]),
    ("wrong-hashedrekord-cert-and-sig_fail", &["tlog-body"]),
    ("wrong-hashedrekord-entry_fail", &["tlog-body"]),
    ("wrong-material_fail", &["artifact"]),
    // sigstore-python's assets
    ("bundle_cve_2022_36056.txt.sigstore", &["tlog-body"]),
    ("bundle_invalid_version.txt.sigstore", &["bundle"]),
    ("bundle_no_cert_v1.txt.sigstore", &["bundle"]),
    (
        "bundle_no_log_entry.txt.sigstore",
        &["transparency-log", "signing-time"],
    ),
    (
        "bundle_v3_no_signed_time.txt.sigstore.json",
        &["signing-time"],
    ),
    ("bundle.duplicate.sigstore", &["signing-time"]),
    (
        "bundle.txt.late_timestamp.sigstore",
        &["signing-time", "certificate-chain"],
    ),
    // v0.1 with a signed entry timestamp but no inclusion proof.
    ("Python-3.12.5.tgz.sigstore", &["transparency-log"]),
];

/// Cases where custodia's outcome differs from expected.json, and why. They
/// are asserted as custodia's outcome (so a change is noticed).
const DIFFERS: &[(&str, &str, &str)] = &[(
    "tsa/bundle.txt.sigstore",
    "signing-time",
    "the bundle's RFC 3161 timestamps are from a test TSA that no root here trusts; \
     sigstore-python ignores timestamps it cannot verify when the log gives a time, custodia \
     (sigstore-verify) refuses the bundle (see the test below)",
)];

/// One case of expected.json, resolved to files.
struct Case {
    name: String,
    label: String,
    bundle: Vec<u8>,
    root: Vec<u8>,
    artifact: DigestSet,
    policy: Result<Anchor, String>,
    pass: bool,
}

fn digest_arg(s: &str) -> DigestSet {
    let hex = s.strip_prefix("sha256:").unwrap();
    let mut set = DigestSet::new();
    set.insert_raw("sha256", hex).unwrap();
    set
}

/// The trusted root of a case: a file, or a client trust config, given
/// whole (`TrustedRoot::from_json` reads its `trustedRoot`).
fn root_bytes(rel: &str) -> Vec<u8> {
    match rel.strip_suffix(" trustedRoot") {
        Some(config) => read(&format!("sigstore-python/{config}")),
        None => read(rel),
    }
}

fn cases() -> Vec<Case> {
    let expected: Value = serde_json::from_slice(&read("expected.json")).unwrap();
    let mut out = Vec::new();
    for c in expected["cases"].as_array().unwrap() {
        let s = |k: &str| c[k].as_str().map(str::to_owned);
        let (label, bundle_rel) = match s("dir") {
            Some(dir) => {
                let b = format!("{dir}/bundle.sigstore.json");
                (dir, b)
            }
            None => {
                let b = s("bundle").unwrap();
                (b.clone(), b)
            }
        };
        let name = Path::new(&label)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let bundle = read(&bundle_rel);
        let artifact_arg = s("artifact").unwrap();
        let artifact = if artifact_arg.starts_with("sha256:") {
            digest_arg(&artifact_arg)
        } else if artifact_arg.starts_with('(') {
            // Not copied (a CPython tarball): the digest the bundle claims.
            let v: Value = serde_json::from_slice(&bundle).unwrap();
            let b64 = v["messageSignature"]["messageDigest"]["digest"]
                .as_str()
                .unwrap();
            use base64::Engine as _;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap();
            let mut set = DigestSet::new();
            set.insert(
                &custodia::digest::Digest::from_bytes(DigestAlgorithm::Sha256, &bytes).unwrap(),
            );
            set
        } else {
            DigestSet::of_bytes(&read(&artifact_arg))
        };
        let policy = if let Some(key) = s("verify_with_key") {
            PublicKey::from_pem(&String::from_utf8_lossy(&read(&key)))
                .map(Anchor::from)
                .map_err(|e| e.to_string())
        } else if let (Some(id), Some(issuer)) = (s("identity"), s("issuer")) {
            Ok(IdentityPolicy::keyless(id, issuer).into())
        } else {
            // Upstream verifies these with a no-op identity policy.
            Ok(IdentityPolicy::keyless_regex(".*", ".*").unwrap().into())
        };
        out.push(Case {
            name,
            label,
            bundle,
            root: root_bytes(&s("trusted_root").unwrap()),
            artifact,
            policy,
            pass: s("expect").unwrap() == "pass",
        });
    }
    out
}

/// Everything from bytes to report, as the CLI does it: a bundle or trusted
/// root that does not parse, or a key that does not load, is a failed
/// `bundle`, `trusted-root` or `key` check.
fn verify(case: &Case) -> Report {
    let fail = |name: &str, reason: String| {
        let mut r = Report::new();
        r.push(Check::fail(name, reason));
        r
    };
    let root = match TrustedRoot::from_json(&case.root) {
        Ok(r) => r,
        Err(e) => return fail("trusted-root", e.to_string()),
    };
    let bundle = match Bundle::from_json(&case.bundle) {
        Ok(b) => b,
        Err(e) => return fail("bundle", e.to_string()),
    };
    let policy = match &case.policy {
        Ok(p) => p,
        Err(e) => return fail("key", e.clone()),
    };
    verify_artifact(&bundle, &anchors(&root, policy), &case.artifact)
        .report()
        .clone()
}

#[test]
fn every_case_gives_its_upstream_outcome_on_the_right_check() {
    let cases = cases();
    assert!(cases.len() >= 85, "{} cases", cases.len());
    let mut passed = 0;
    let mut failed = 0;
    let mut problems = Vec::new();
    for case in &cases {
        let report = std::panic::catch_unwind(|| verify(case))
            .unwrap_or_else(|_| panic!("{}: panicked", case.label));
        if let Some((_, check, _)) = DIFFERS.iter().find(|(l, _, _)| case.label.ends_with(l)) {
            let first = report.first_failure().map(|c| c.name.as_str());
            if first != Some(*check) {
                problems.push(format!(
                    "{}: known difference changed, now:\n{report}",
                    case.label
                ));
            }
            continue;
        }
        if case.pass {
            if report.verified() {
                passed += 1;
            } else {
                problems.push(format!("{}: should pass:\n{report}", case.label));
            }
            continue;
        }
        let Some(first) = report.first_failure() else {
            problems.push(format!("{}: should fail:\n{report}", case.label));
            continue;
        };
        let allowed = FAILS_ON
            .iter()
            .find(|(n, _)| *n == case.name)
            .unwrap_or_else(|| panic!("{}: not in FAILS_ON", case.name))
            .1;
        if allowed.contains(&first.name.as_str()) {
            failed += 1;
        } else {
            problems.push(format!(
                "{}: fails on `{}`, expected one of {allowed:?}:\n{report}",
                case.label, first.name
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    eprintln!("{passed} passed and {failed} failed as upstream expects");
}

/// The TSA bundle's two RFC 3161 timestamps are ECDSA signatures by a
/// "Test TSA Timestamping" certificate that neither the staging root nor
/// tsa/trust_config.json (whose test TSA key is RSA) trusts. sigstore-python
/// passes it on the log's integrated time, ignoring timestamps it cannot
/// verify; custodia requires every timestamp a bundle carries to verify, so
/// it fails on `signing-time` against both roots.
#[test]
fn the_tsa_bundle_fails_on_its_untrusted_timestamps_against_both_roots() {
    let bundle = Bundle::from_json(&read("sigstore-python/tsa/bundle.txt.sigstore")).unwrap();
    let artifact = DigestSet::of_bytes(&read("sigstore-python/tsa/bundle.txt"));
    let policy = IdentityPolicy::keyless_regex(".*", ".*").unwrap();
    for root in [
        read("trusted_roots/staging.trusted_root.json"),
        root_bytes("tsa/trust_config.json trustedRoot"),
    ] {
        let root = TrustedRoot::from_json(&root).unwrap();
        let report = verify_artifact(&bundle, &anchors(&root, &policy), &artifact)
            .report()
            .clone();
        let failure = report.first_failure().unwrap();
        assert_eq!(failure.name, "signing-time", "{report}");
        assert!(failure.reason.contains("trusted TSA"), "{report}");
    }
}

#[test]
fn passing_reports_name_every_step() {
    let root = TrustedRoot::from_json(&read("trusted_roots/production.trusted_root.json")).unwrap();
    let dir = "sigstore-conformance/bundle-verify";
    let bundle = Bundle::from_json(&read(&format!(
        "{dir}/happy-path-intoto-in-dsse-v3/bundle.sigstore.json"
    )))
    .unwrap();
    let policy = IdentityPolicy::keyless(
        "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main",
        "https://token.actions.githubusercontent.com",
    );
    let artifact = DigestSet::of_bytes(&read("sigstore-conformance/a.txt"));
    let verified = verify_artifact(&bundle, &anchors(&root, &policy), &artifact);
    let names: Vec<&str> = verified
        .report()
        .checks()
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "bundle",
            "certificate-chain",
            "transparency-log",
            "signing-time",
            "identity",
            "issuer",
            "signature",
            "tlog-body",
            "payload-type",
            "statement",
            "subject"
        ],
        "{}",
        verified.report()
    );
    assert!(verified.statement().is_some());
}

/// One trusted signer (a keyless identity or a key) under `root`.
fn anchors<A: Clone + Into<Anchor>>(root: &TrustedRoot, signer: &A) -> TrustAnchors {
    let mut anchors = TrustAnchors::new().with_sigstore_root(root.clone());
    anchors.push(signer.clone().into()).unwrap();
    anchors
}
