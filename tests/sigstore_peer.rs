//! custodia's verdict on every Sigstore bundle of tests/data/sigstore equals
//! sigstore-python 4.5.1's, verifying offline against the same trusted root
//! with the same identity policy (the script is ../shared/conformance/PEERS.md
//! section (e), run once over all cases). Skipped locally without the peer;
//! required under CI (`.ci/run` installs it).
//!
//! The cases sigstore-python cannot judge are left out and listed in
//! [`PEER_GAPS`] (bare-key bundles; intoto v0.0.2 log entries); where the two
//! disagree for a reason both sides know, [`DISAGREE`] says who is right.
#![cfg(feature = "sigstore")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod peers;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use custodia::bundle::{Bundle, IdentityPolicy, TrustedRoot, verify_artifact};
use custodia::digest::DigestSet;
use custodia::trust::{Anchor, TrustAnchors};
use serde_json::{Value, json};

/// Cases sigstore-python cannot verify at all.
const PEER_GAPS: &[&str] = &[
    // No bare public-key verification in sigstore-python.
    "managed-key-and-trusted-root",
    "managed-key-happy-path",
    "managed-key-wrong-key_fail",
    // Not copied: the CPython tarball the bundle signs.
    "Python-3.12.5.tgz.sigstore",
];

/// Cases where the verdicts differ, and why; custodia's is the one asserted
/// by tests/sigstore_conformance.rs.
const DISAGREE: &[(&str, &str)] = &[
    (
        "intoto-with-custom-trust-root",
        "sigstore-python rejects intoto v0.0.2 log entries (xfail in its own CI); the suite says pass, custodia passes",
    ),
    (
        "trust-root-tsa-validity-end-inclusive",
        "sigstore-python 4.5.1 treats a TSA's validity end as exclusive; the suite says it is inclusive, custodia passes",
    ),
    (
        "tsa/bundle.txt.sigstore",
        "the bundle's RFC 3161 timestamps are from a TSA the root does not trust: sigstore-python ignores them (the log gives a time), custodia refuses them",
    ),
];

/// PEERS.md (e), reading cases from stdin (JSON) and printing one verdict
/// line per case.
const SCRIPT: &str = r#"
import sys, json, hashlib, warnings, logging
logging.disable(logging.CRITICAL)
warnings.filterwarnings("ignore")
from sigstore.models import Bundle, TrustedRoot
from sigstore.verify import Verifier, policy
from sigstore.hashes import Hashed
from sigstore._utils import HashAlgorithm
out = []
for c in json.load(sys.stdin):
    try:
        pol = policy.Identity(identity=c["identity"], issuer=c["issuer"]) if c["identity"] else policy.UnsafeNoOp()
        verifier = Verifier(trusted_root=TrustedRoot.from_file(c["root"]))
        bundle = Bundle.from_json(open(c["bundle"], "rb").read())
        want = c["sha256"]
        if bundle._dsse_envelope is not None:
            _, payload = verifier.verify_dsse(bundle, pol)
            stmt = json.loads(payload)
            if not any(s.get("digest", {}).get("sha256") == want for s in stmt.get("subject", [])):
                raise ValueError("artifact digest is not a subject of the in-toto statement")
        else:
            verifier.verify_artifact(Hashed(algorithm=HashAlgorithm.SHA2_256, digest=bytes.fromhex(want)), bundle, pol)
        out.append("PASS")
    except Exception as e:
        out.append("FAIL " + type(e).__name__ + " " + str(e)[:120].replace("\n", " "))
print(json.dumps(out))
"#;

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sigstore")
        .join(rel)
}

struct Case {
    label: String,
    bundle: PathBuf,
    root: PathBuf,
    sha256: String,
    identity: Option<(String, String)>,
}

fn cases(tmp: &Path) -> Vec<Case> {
    let expected: Value =
        serde_json::from_slice(&fs::read(data("expected.json")).unwrap()).unwrap();
    let mut out = Vec::new();
    for c in expected["cases"].as_array().unwrap() {
        let s = |k: &str| c[k].as_str().map(str::to_owned);
        let (label, bundle) = match s("dir") {
            Some(dir) => (dir.clone(), format!("{dir}/bundle.sigstore.json")),
            None => (s("bundle").unwrap(), s("bundle").unwrap()),
        };
        if PEER_GAPS.iter().any(|g| label.ends_with(g)) {
            continue;
        }
        let root_rel = s("trusted_root").unwrap();
        let root = match root_rel.strip_suffix(" trustedRoot") {
            Some(config) => {
                let v: Value = serde_json::from_slice(
                    &fs::read(data(&format!("sigstore-python/{config}"))).unwrap(),
                )
                .unwrap();
                let path = tmp.join("tsa-trusted-root.json");
                fs::write(&path, serde_json::to_vec(&v["trustedRoot"]).unwrap()).unwrap();
                path
            }
            None => data(&root_rel),
        };
        let artifact = s("artifact").unwrap();
        let sha256 = match artifact.strip_prefix("sha256:") {
            Some(hex) => hex.to_owned(),
            None => DigestSet::of_bytes(&fs::read(data(&artifact)).unwrap())
                .get("sha256")
                .unwrap()
                .to_owned(),
        };
        out.push(Case {
            label,
            bundle: data(&bundle),
            root,
            sha256,
            identity: s("identity").zip(s("issuer")),
        });
    }
    // slsa-verifier's keyless bundles that sigstore-python can read (not the
    // intoto v0.0.2 ones): the first JSON document of each file.
    let slsa = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/slsa");
    for (rel, sha256) in SLSA_BUNDLES {
        let text = fs::read(slsa.join(rel)).unwrap();
        let doc: Value = serde_json::Deserializer::from_slice(&text)
            .into_iter::<Value>()
            .next()
            .unwrap()
            .unwrap();
        let path = tmp.join(rel.replace('/', "_"));
        fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
        out.push(Case {
            label: format!("slsa/{rel}"),
            bundle: path,
            root: data("trusted_roots/production.trusted_root.json"),
            sha256: (*sha256).to_owned(),
            identity: None,
        });
    }
    out
}

/// slsa-verifier's bundles sigstore-python reads, with a subject's sha256.
const SLSA_BUNDLES: &[(&str, &str)] = &[
    (
        "gha/gha_generic/v2.1.0/binary-linux-amd64-workflow_dispatch.intoto.jsonl",
        "376e7e01348585b6e6643bc6663146b9d525d9b41228bf180eaeb4d4a3706caa",
    ),
    (
        "gha/gha_generic/v2.1.0/binary-linux-amd64-push-v13.0.30.intoto.jsonl",
        "376e7e01348585b6e6643bc6663146b9d525d9b41228bf180eaeb4d4a3706caa",
    ),
    (
        "gha/gha_go/v2.1.0/binary-linux-amd64-workflow_dispatch.intoto.jsonl",
        "f6ab7ad0c7549b5a4942c3b0690519d791c28c4c0f8b286208cb40da3322a066",
    ),
    (
        "bcr/MODULE.bazel.intoto.jsonl",
        "06ce330900a7d6403bc8d88e5dfad6aeeb8ae40179f66bb89e69c8bf6f6b1a0b",
    ),
    (
        "bcr/MODULE-wrong-signer.bazel.intoto.jsonl",
        "06ce330900a7d6403bc8d88e5dfad6aeeb8ae40179f66bb89e69c8bf6f6b1a0b",
    ),
    (
        "gha-bundles/valid-v0.3.intoto.sigstore",
        "2892146b063a94cb4a4318c0e98d38af12dcf2b1e29237486b58463b59607bbd",
    ),
];

fn custodia_passes(case: &Case) -> bool {
    let Ok(root) = TrustedRoot::from_json(&fs::read(&case.root).unwrap()) else {
        return false;
    };
    let Ok(bundle) = Bundle::from_json(&fs::read(&case.bundle).unwrap()) else {
        return false;
    };
    let policy = match &case.identity {
        Some((id, issuer)) => IdentityPolicy::keyless(id, issuer),
        None => IdentityPolicy::keyless_regex(".*", ".*").unwrap(),
    };
    let mut artifact = DigestSet::new();
    artifact.insert_raw("sha256", &case.sha256).unwrap();
    verify_artifact(&bundle, &anchors(&root, &policy), &artifact)
        .report()
        .verified()
}

#[test]
fn verdicts_match_sigstore_python() {
    let Some(python) = peers::python_with("sigstore.verify", "sigstore-python 4.5.1") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let cases = cases(tmp.path());
    let input = json!(
        cases
            .iter()
            .map(|c| json!({
                "bundle": c.bundle,
                "root": c.root,
                "sha256": c.sha256,
                "identity": c.identity.as_ref().map(|i| &i.0),
                "issuer": c.identity.as_ref().map(|i| &i.1),
            }))
            .collect::<Vec<_>>()
    );
    let input_path = tmp.path().join("cases.json");
    fs::write(&input_path, serde_json::to_vec(&input).unwrap()).unwrap();
    let output = Command::new(&python)
        .args(["-c", SCRIPT])
        .stdin(fs::File::open(&input_path).unwrap())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let verdicts: Vec<String> = serde_json::from_slice(
        output
            .stdout
            .split(|b| *b == b'\n')
            .rfind(|l| l.starts_with(b"["))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(verdicts.len(), cases.len());

    let mut agree = 0;
    let mut problems = Vec::new();
    for (case, peer) in cases.iter().zip(&verdicts) {
        // A failing script would "agree" with every failing case.
        for broken in ["AttributeError", "NameError", "TypeError", "ImportError"] {
            assert!(
                !peer.starts_with(&format!("FAIL {broken}")),
                "the peer script is broken: {}: {peer}",
                case.label
            );
        }
        let ours = custodia_passes(case);
        let theirs = peer == "PASS";
        let known = DISAGREE.iter().find(|(l, _)| case.label.ends_with(l));
        match (ours == theirs, known) {
            (true, None) => agree += 1,
            (true, Some((_, why))) => problems.push(format!(
                "{}: now agrees ({peer}); drop it from DISAGREE ({why})",
                case.label
            )),
            (false, Some(_)) => {}
            (false, None) => problems.push(format!(
                "{}: custodia {}, sigstore-python {peer}",
                case.label,
                if ours { "PASS" } else { "FAIL" }
            )),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(agree + DISAGREE.len(), cases.len());
    eprintln!(
        "{agree} of {} bundles: same verdict as sigstore-python; {} known disagreements",
        cases.len(),
        DISAGREE.len()
    );
}

/// One trusted signer (a keyless identity or a key) under `root`.
fn anchors<A: Clone + Into<Anchor>>(root: &TrustedRoot, signer: &A) -> TrustAnchors {
    let mut anchors = TrustAnchors::new().with_sigstore_root(root.clone());
    anchors.push(signer.clone().into()).unwrap();
    anchors
}
