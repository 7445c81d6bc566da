//! Sigstore bundle verification against the raw signature checks it
//! contains, in the same run.
//!
//! ```text
//! cargo bench --bench bundle
//! ```
//!
//! Per bundle (`bundle_verify/<bundle>/...`), against one `TrustedRoot`
//! parsed once (its keys decoded and CA certificates made trust anchors once:
//! each bundle pays only for what is new in it):
//!
//! * `verify`: `bundle::verify_artifact` on a parsed bundle: chain, SCT,
//!   Rekor entry, times, identity policy, signature, body match, statement.
//! * `parse_verify`: `Bundle::from_json` then verify, from wire bytes.
//! * `parse`: parsing alone.
//! * `ring_raw` (Rekor v1 bundles): ring's raw checks of the signatures the
//!   bundle carries, with every message and key prepared beforehand: the
//!   leaf certificate's signature by the Fulcio intermediate (ECDSA P-384),
//!   the artifact or DSSE PAE signature, the signed entry timestamp and the
//!   checkpoint (ECDSA P-256 each). The SCT (one more P-256) is not
//!   included, so the floor is a little low.
//!
//! sigstore-python 4.5.1 on the same bundles, offline (README, "Sigstore
//! bundles"): about 1.0 ms (Rekor v1) to 2.5 ms (Rekor v2 with a timestamp)
//! per bundle.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use criterion::{Criterion, criterion_group, criterion_main};
use custodia::bundle::{Bundle, IdentityPolicy, TrustedRoot, verify_artifact};
use custodia::digest::DigestSet;
use custodia::dsse::pae;
use custodia::trust::{Anchor, TrustAnchors};
use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use serde_json::{Value, json};

const ID: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/sigstore")
            .join(rel),
    )
    .unwrap()
}

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

/// (tag, content, whole TLV, rest) of a DER element.
fn tlv(input: &[u8]) -> (u8, &[u8], &[u8], &[u8]) {
    let (len, header) = match input[1] {
        n if n < 0x80 => (usize::from(n), 2),
        n => {
            let k = usize::from(n & 0x7f);
            let len = input[2..2 + k]
                .iter()
                .fold(0, |acc, b| (acc << 8) | usize::from(*b));
            (len, 2 + k)
        }
    };
    let end = header + len;
    (input[0], &input[header..end], &input[..end], &input[end..])
}

/// The public key point of a DER SubjectPublicKeyInfo.
fn spki_point(spki: &[u8]) -> Vec<u8> {
    let (_, seq, _, _) = tlv(spki);
    let (_, _, _, rest) = tlv(seq); // algorithm
    let (_, bits, _, _) = tlv(rest);
    bits[1..].to_vec()
}

/// (TBS bytes, signature, subject public key point) of a DER certificate.
fn certificate(der: &[u8]) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let (_, cert, _, _) = tlv(der);
    let (_, tbs, tbs_whole, rest) = tlv(cert);
    let (_, _, _, rest) = tlv(rest); // signatureAlgorithm
    let (_, sig_bits, _, _) = tlv(rest);
    let mut fields = Vec::new();
    let mut r = tbs;
    while !r.is_empty() {
        let (tag, _, whole, next) = tlv(r);
        fields.push((tag, whole));
        r = next;
    }
    let version = usize::from(fields[0].0 == 0xa0);
    let spki = fields[version + 5].1;
    (tbs_whole.to_vec(), sig_bits[1..].to_vec(), spki_point(spki))
}

/// One raw signature check: algorithm, key, message, signature.
struct Raw {
    algorithm: &'static dyn VerificationAlgorithm,
    key: Vec<u8>,
    message: Vec<u8>,
    signature: Vec<u8>,
}

impl Raw {
    fn verify(&self) {
        UnparsedPublicKey::new(self.algorithm, black_box(&self.key))
            .verify(black_box(&self.message), black_box(&self.signature))
            .unwrap();
    }
}

/// The signatures a Rekor v1 keyless bundle carries, ready for ring.
fn raw_checks(bundle: &Value, root: &Value, artifact: &[u8]) -> Vec<Raw> {
    let vm = &bundle["verificationMaterial"];
    let leaf = b64(vm["certificate"]["rawBytes"].as_str().unwrap());
    let (tbs, cert_sig, leaf_key) = certificate(&leaf);
    let mut checks = Vec::new();

    // The leaf certificate, by whichever Fulcio CA certificate signed it.
    let issuer = root["certificateAuthorities"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|ca| ca["certChain"]["certificates"].as_array().unwrap())
        .map(|c| certificate(&b64(c["rawBytes"].as_str().unwrap())).2)
        .find(|key| {
            UnparsedPublicKey::new(&signature::ECDSA_P384_SHA384_ASN1, key)
                .verify(&tbs, &cert_sig)
                .is_ok()
        })
        .unwrap();
    checks.push(Raw {
        algorithm: &signature::ECDSA_P384_SHA384_ASN1,
        key: issuer,
        message: tbs,
        signature: cert_sig,
    });

    // The content signature, by the leaf.
    let (message, sig) = match bundle.get("dsseEnvelope") {
        Some(env) => (
            pae(
                env["payloadType"].as_str().unwrap(),
                &b64(env["payload"].as_str().unwrap()),
            ),
            b64(env["signatures"][0]["sig"].as_str().unwrap()),
        ),
        None => (
            artifact.to_vec(),
            b64(bundle["messageSignature"]["signature"].as_str().unwrap()),
        ),
    };
    checks.push(Raw {
        algorithm: &signature::ECDSA_P256_SHA256_ASN1,
        key: leaf_key,
        message,
        signature: sig,
    });

    // The log's signed entry timestamp and checkpoint.
    let entry = &vm["tlogEntries"][0];
    let log_id = b64(entry["logId"]["keyId"].as_str().unwrap());
    let log_key = root["tlogs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| b64(t["logId"]["keyId"].as_str().unwrap()) == log_id)
        .map(|t| spki_point(&b64(t["publicKey"]["rawBytes"].as_str().unwrap())))
        .unwrap();
    let hex: String = log_id.iter().map(|b| format!("{b:02x}")).collect();
    let set_message = serde_json::to_vec(&json!({
        "body": entry["canonicalizedBody"],
        "integratedTime": entry["integratedTime"].as_str().unwrap().parse::<i64>().unwrap(),
        "logID": hex,
        "logIndex": entry["logIndex"].as_str().unwrap().parse::<i64>().unwrap(),
    }))
    .unwrap();
    checks.push(Raw {
        algorithm: &signature::ECDSA_P256_SHA256_ASN1,
        key: log_key.clone(),
        message: set_message,
        signature: b64(entry["inclusionPromise"]["signedEntryTimestamp"]
            .as_str()
            .unwrap()),
    });
    let note = entry["inclusionProof"]["checkpoint"]["envelope"]
        .as_str()
        .unwrap();
    let (text, sigs) = note.split_once("\n\n").unwrap();
    let sig_line = sigs.lines().next().unwrap();
    let raw_sig = b64(sig_line.rsplit_once(' ').unwrap().1);
    checks.push(Raw {
        algorithm: &signature::ECDSA_P256_SHA256_ASN1,
        key: log_key,
        message: format!("{text}\n").into_bytes(),
        signature: raw_sig[4..].to_vec(),
    });
    checks
}

fn bundle_verify(c: &mut Criterion) {
    let mut group = c.benchmark_group("bundle_verify");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));

    let a_txt = read("sigstore-conformance/a.txt");
    let dir = "sigstore-conformance/bundle-verify";
    let production = "trusted_roots/production.trusted_root.json";
    let cases = [
        ("hashedrekord_v0.3", "happy-path-v0.3", production, true),
        (
            "dsse_v0.3",
            "happy-path-intoto-in-dsse-v3",
            production,
            true,
        ),
        (
            "rekor2_tsa",
            "rekor2-happy-path",
            "sigstore-conformance/bundle-verify/rekor2-happy-path/trusted_root.json",
            false,
        ),
    ];
    let policy = IdentityPolicy::keyless(ID, ISSUER);
    let artifact = DigestSet::of_bytes(&a_txt);
    for (name, case, root_rel, rekor_v1) in cases {
        let wire = read(&format!("{dir}/{case}/bundle.sigstore.json"));
        let root_bytes = read(root_rel);
        let root = TrustedRoot::from_json(&root_bytes).unwrap();
        let bundle = Bundle::from_json(&wire).unwrap();
        // Everything below verifies; a benchmark of a failing path would lie.
        let report = verify_artifact(&bundle, &anchors(&root, &policy), &artifact);
        assert!(report.report().verified(), "{}", report.report());

        group.bench_function(format!("{name}/verify"), |b| {
            b.iter(|| {
                verify_artifact(
                    black_box(&bundle),
                    &anchors(&root, &policy),
                    black_box(&artifact),
                )
                .report()
                .verified()
            })
        });
        group.bench_function(format!("{name}/parse_verify"), |b| {
            b.iter(|| {
                let bundle = Bundle::from_json(black_box(&wire)).unwrap();
                verify_artifact(&bundle, &anchors(&root, &policy), black_box(&artifact))
                    .report()
                    .verified()
            })
        });
        group.bench_function(format!("{name}/parse"), |b| {
            b.iter(|| Bundle::from_json(black_box(&wire)).unwrap())
        });
        if rekor_v1 {
            let raw = raw_checks(
                &serde_json::from_slice(&wire).unwrap(),
                &serde_json::from_slice(&root_bytes).unwrap(),
                &a_txt,
            );
            for check in &raw {
                check.verify();
            }
            group.bench_function(format!("{name}/ring_raw"), |b| {
                b.iter(|| raw.iter().for_each(Raw::verify))
            });
            group.bench_function(format!("{name}/ring_raw_p384_cert_only"), |b| {
                b.iter(|| raw[0].verify())
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bundle_verify);
criterion_main!(benches);

/// One trusted signer (a keyless identity or a key) under `root`.
fn anchors<A: Clone + Into<Anchor>>(root: &TrustedRoot, signer: &A) -> TrustAnchors {
    let mut anchors = TrustAnchors::new().with_sigstore_root(root.clone());
    anchors.push(signer.clone().into()).unwrap();
    anchors
}
