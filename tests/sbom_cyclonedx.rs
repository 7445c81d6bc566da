//! CycloneDX writer and reader against the official schemas, the upstream
//! valid/invalid examples, syft's output, and round trips through the model.
//!
//! Schema validation runs in the Python peer (../shared/conformance/PEERS.md
//! (c)): plain `jsonschema` (draft-07, format assertions on) with the
//! schema files copied under `tests/conformance/cyclonedx/schema` (every
//! `$ref` resolved locally), and cyclonedx-python-lib's
//! `JsonStrictValidator`. The peer's python comes from
//! `CUSTODIA_PEERS_PYTHON`, or from `target/peers-venv`; without either the
//! peer tests say so and pass on a developer machine, and fail under CI
//! (`CI` set).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod peers;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use custodia::digest::{Digest, DigestAlgorithm};
use custodia::error::SbomError;
use custodia::sbom::cargo::{CargoInput, from_cargo};
use custodia::sbom::cyclonedx::{CycloneDxVersion, from_json};

/// The CycloneDX writer; it fails only if serialization fails.
fn to_json(sbom: &Sbom, version: CycloneDxVersion) -> Vec<u8> {
    custodia::sbom::cyclonedx::to_json(sbom, version).unwrap()
}
use custodia::sbom::{BomRef, Component, Sbom, Scope, SourceKind};
use custodia::time::Timestamp;

/// A bom-ref from a literal.
fn r(s: &str) -> BomRef {
    BomRef::parse(s).unwrap()
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn conformance() -> PathBuf {
    manifest_dir().join("tests/conformance/cyclonedx")
}

/// This repository's own SBOM (Cargo.lock + Cargo.toml).
fn own_sbom(timestamp: Timestamp) -> Sbom {
    let lock = std::fs::read_to_string(manifest_dir().join("Cargo.lock")).unwrap();
    let manifest = std::fs::read_to_string(manifest_dir().join("Cargo.toml")).unwrap();
    from_cargo(&CargoInput::new(&lock).with_manifest(&manifest), timestamp).unwrap()
}

// ---------------------------------------------------------------------------
// The Python peer
// ---------------------------------------------------------------------------

fn peer_python() -> Option<PathBuf> {
    peers::python_with(
        "jsonschema, referencing, cyclonedx.validation.json",
        "jsonschema + cyclonedx-python-lib",
    )
}

/// Validates each FILE against the copied schema of VERSION (draft-07,
/// local refs, format checker on) and with cyclonedx-python-lib's strict
/// validator; prints one line per file and validator, exits 1 on any
/// error.
const PY_VALIDATE: &str = r#"
import json, sys, glob, os
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
schema_dir, ver, files = sys.argv[1], sys.argv[2], sys.argv[3:]
schemas = {os.path.basename(p): json.load(open(p)) for p in glob.glob(os.path.join(schema_dir, "*.json"))}
reg = Registry().with_resources([(s["$id"], Resource.from_contents(s)) for s in schemas.values() if "$id" in s])
v = Draft7Validator(schemas[f"bom-{ver}.schema.json"], registry=reg, format_checker=Draft7Validator.FORMAT_CHECKER)
strict = JsonStrictValidator({"1.5": SchemaVersion.V1_5, "1.6": SchemaVersion.V1_6, "1.7": SchemaVersion.V1_7}[ver])
bad = 0
for path in files:
    text = open(path, encoding="utf-8").read()
    errs = list(v.iter_errors(json.loads(text)))
    for e in errs[:5]:
        print("jsonschema INVALID", path, "/".join(map(str, e.absolute_path)), e.message[:200])
    if not errs:
        print("jsonschema VALID", path)
    s = strict.validate_str(text)
    if s is None:
        print("JsonStrictValidator VALID", path)
    else:
        print("JsonStrictValidator INVALID", path, str(s.data.message)[:200])
    bad += bool(errs) + (s is not None)
sys.exit(1 if bad else 0)
"#;

fn validate_with_peer(python: &Path, version: &str, files: &[PathBuf]) -> (bool, String) {
    let out = Command::new(python)
        .arg("-c")
        .arg(PY_VALIDATE)
        .arg(conformance().join("schema"))
        .arg(version)
        .args(files)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

// ---------------------------------------------------------------------------
// Writer: our output against the official schemas
// ---------------------------------------------------------------------------

/// A small model that uses every field the writer carries, git source,
/// optional and excluded scope, several hash algorithms, an unknown license
/// id and a license that is not on the SPDX list.
fn rich_sbom() -> Sbom {
    let mut root = Component::new("app", "1.0.0").with_purl("pkg:cargo/app@1.0.0".parse().unwrap());
    root.source = SourceKind::Path;
    root.license = Some("Apache-2.0".parse().unwrap());
    root.description = Some("The application".to_owned());
    root.supplier = Some("Acme Inc <dev@acme.example>".to_owned());
    let mut sbom = Sbom::new(root, Timestamp::from_unix(1_714_564_800));

    let mut a =
        Component::new("serde", "1.0.200").with_purl("pkg:cargo/serde@1.0.200".parse().unwrap());
    a.source =
        SourceKind::Registry("registry+https://github.com/rust-lang/crates.io-index".to_owned());
    a.license = Some("MIT OR Apache-2.0".parse().unwrap());
    a.hashes.push(DigestAlgorithm::Sha256.hash(b"serde"));
    a.hashes.push(DigestAlgorithm::Sha512.hash(b"serde"));
    a.description = Some("A serialization framework".to_owned());
    a.supplier = Some("David Tolnay".to_owned());
    sbom.add(a);

    let mut b = Component::new("forked", "0.2.0").with_purl(
        "pkg:cargo/forked@0.2.0?vcs_url=git%2Bhttps://github.com/acme/forked%40abc"
            .parse()
            .unwrap(),
    );
    b.source = SourceKind::Git {
        url: "https://github.com/acme/forked".to_owned(),
        revision: Some("0123456789abcdef0123456789abcdef01234567".to_owned()),
    };
    b.scope = Scope::Optional;
    b.license = Some("Apache-2".parse().unwrap()); // not an SPDX id: must still validate
    b.hashes.push(DigestAlgorithm::Sha384.hash(b"forked"));
    sbom.add(b);

    let mut c = Component::new("local-tool", "0.0.1");
    c.source = SourceKind::Path;
    c.scope = Scope::Excluded;
    c.license = Some("LicenseRef-Proprietary".parse().unwrap());
    sbom.add(c);

    let mut d = Component::new("mystery", "");
    d.bom_ref = r("mystery");
    sbom.add(d);

    sbom.depends(&r("pkg:cargo/app@1.0.0"), &r("pkg:cargo/serde@1.0.200"));
    sbom.depends(
        &r("pkg:cargo/app@1.0.0"),
        &r("pkg:cargo/forked@0.2.0?vcs_url=git%2Bhttps://github.com/acme/forked%40abc"),
    );
    sbom.depends(&r("pkg:cargo/app@1.0.0"), &r("local-tool@0.0.1"));
    sbom.depends(&r("local-tool@0.0.1"), &r("pkg:cargo/serde@1.0.200"));
    sbom.depends(&r("local-tool@0.0.1"), &r("mystery"));
    sbom.validate().unwrap();
    sbom
}

#[test]
fn our_output_validates_against_the_official_1_7_1_6_and_1_5_schemas() {
    let Some(python) = peer_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    for (version, v) in [
        (CycloneDxVersion::V1_7, "1.7"),
        (CycloneDxVersion::V1_6, "1.6"),
        (CycloneDxVersion::V1_5, "1.5"),
    ] {
        let mut files = Vec::new();
        for (name, sbom) in [
            ("own", own_sbom(Timestamp::from_unix(1_714_564_800))),
            ("rich", rich_sbom()),
        ] {
            let path = dir.path().join(format!("{name}-{v}.cdx.json"));
            std::fs::write(&path, to_json(&sbom, version)).unwrap();
            files.push(path);
        }
        let (ok, text) = validate_with_peer(&python, v, &files);
        assert!(ok, "CycloneDX {v} output is not schema-valid:\n{text}");
        assert_eq!(
            text.matches(" VALID ").count(),
            2 * files.len(),
            "both validators, every file:\n{text}"
        );
    }
}

#[test]
fn the_peer_agrees_with_the_upstream_examples() {
    // A check of the check: the peer validation used above rejects every
    // upstream invalid example and accepts every valid one.
    let Some(python) = peer_python() else { return };
    for v in ["1.5", "1.6", "1.7"] {
        let mut valid = Vec::new();
        let mut invalid = Vec::new();
        for entry in std::fs::read_dir(conformance().join(v)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("valid-") {
                valid.push(path);
            } else {
                invalid.push(path);
            }
        }
        let (ok, text) = validate_with_peer(&python, v, &valid);
        assert!(ok, "{text}");
        // One run for all invalid files: each must fail both validators.
        let (ok, text) = validate_with_peer(&python, v, &invalid);
        assert!(!ok, "{text}");
        for path in &invalid {
            for validator in ["jsonschema", "JsonStrictValidator"] {
                let line = format!("{validator} INVALID {}", path.display());
                assert!(
                    text.lines().any(|l| l.starts_with(&line)),
                    "{} passed {validator}:\n{text}",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn our_output_has_the_expected_shape() {
    let sbom = rich_sbom();
    let json: serde_json::Value =
        serde_json::from_slice(&to_json(&sbom, CycloneDxVersion::default())).unwrap();
    assert_eq!(json["bomFormat"], "CycloneDX");
    assert_eq!(json["specVersion"], "1.6");
    assert_eq!(json["version"], 1);
    assert_eq!(
        json["serialNumber"],
        format!("urn:uuid:{}", sbom.content_uuid())
    );
    assert_eq!(json["metadata"]["timestamp"], "2024-05-01T12:00:00Z");
    let tool = &json["metadata"]["tools"]["components"][0];
    assert_eq!(tool["name"], "custodia");
    assert_eq!(tool["version"], env!("CARGO_PKG_VERSION"));
    let root = &json["metadata"]["component"];
    assert_eq!(root["type"], "application");
    assert_eq!(root["supplier"]["name"], "Acme Inc <dev@acme.example>");
    assert_eq!(root["licenses"][0]["expression"], "Apache-2.0");
    assert!(root.get("scope").is_none());

    let components = json["components"].as_array().unwrap();
    let refs: Vec<&str> = components
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    let mut sorted = refs.clone();
    sorted.sort_unstable();
    assert_eq!(refs, sorted, "components sorted by bom-ref");
    let serde = components.iter().find(|c| c["name"] == "serde").unwrap();
    assert_eq!(serde["type"], "library");
    assert_eq!(serde["scope"], "required");
    assert_eq!(serde["hashes"][0]["alg"], "SHA-256");
    assert_eq!(
        serde["hashes"][0]["content"],
        DigestAlgorithm::Sha256.hash(b"serde").hex()
    );
    assert_eq!(serde["hashes"][1]["alg"], "SHA-512");
    assert_eq!(serde["licenses"][0]["expression"], "MIT OR Apache-2.0");
    let forked = components.iter().find(|c| c["name"] == "forked").unwrap();
    assert_eq!(forked["scope"], "optional");
    assert_eq!(forked["externalReferences"][0]["type"], "vcs");
    assert_eq!(
        forked["externalReferences"][0]["url"],
        "https://github.com/acme/forked#0123456789abcdef0123456789abcdef01234567"
    );
    let mystery = components.iter().find(|c| c["name"] == "mystery").unwrap();
    assert!(mystery.get("version").is_none());

    let deps = json["dependencies"].as_array().unwrap();
    assert_eq!(deps.len(), components.len() + 1, "one entry per component");
    let dep_refs: Vec<&str> = deps.iter().map(|d| d["ref"].as_str().unwrap()).collect();
    let mut sorted = dep_refs.clone();
    sorted.sort_unstable();
    assert_eq!(dep_refs, sorted, "dependencies sorted by ref");
    for d in deps {
        let on: Vec<&str> = d["dependsOn"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let mut sorted = on.clone();
        sorted.sort_unstable();
        assert_eq!(on, sorted);
    }
}

// ---------------------------------------------------------------------------
// Determinism and round trips
// ---------------------------------------------------------------------------

#[test]
fn output_is_deterministic_and_only_the_timestamp_follows_the_clock() {
    for version in [CycloneDxVersion::V1_6, CycloneDxVersion::V1_5] {
        let a = to_json(&own_sbom(Timestamp::from_unix(0)), version);
        assert_eq!(a, to_json(&own_sbom(Timestamp::from_unix(0)), version));

        // Component order in the model does not matter.
        let mut shuffled = own_sbom(Timestamp::from_unix(0));
        shuffled.components.reverse();
        assert_eq!(a, to_json(&shuffled, version));

        let b = to_json(&own_sbom(Timestamp::from_unix(1_714_564_800)), version);
        let (a, b) = (String::from_utf8(a).unwrap(), String::from_utf8(b).unwrap());
        let differing: Vec<(&str, &str)> =
            a.lines().zip(b.lines()).filter(|(x, y)| x != y).collect();
        assert_eq!(a.lines().count(), b.lines().count());
        assert_eq!(
            differing,
            vec![(
                r#"    "timestamp": "1970-01-01T00:00:00Z","#,
                r#"    "timestamp": "2024-05-01T12:00:00Z","#
            )]
        );
    }
}

fn sorted(mut sbom: Sbom) -> Sbom {
    sbom.components.sort_by(|a, b| a.bom_ref.cmp(&b.bom_ref));
    sbom
}

#[test]
fn model_to_cyclonedx_to_model_keeps_every_field() {
    for sbom in [
        rich_sbom(),
        own_sbom(Timestamp::from_unix(1_714_564_800)),
        own_sbom(Timestamp::from_unix(0)),
    ] {
        for version in [CycloneDxVersion::V1_6, CycloneDxVersion::V1_5] {
            let bytes = to_json(&sbom, version);
            let back = from_json(&bytes).unwrap();
            assert_eq!(sorted(back.clone()), sorted(sbom.clone()));
            // And the bytes are a fixed point.
            assert_eq!(to_json(&back, version), bytes);
        }
    }
}

#[test]
fn our_own_sbom_reads_back_with_every_package() {
    let sbom = own_sbom(Timestamp::from_unix(0));
    let back = from_json(&to_json(&sbom, CycloneDxVersion::V1_6)).unwrap();
    assert_eq!(back.components.len(), sbom.components.len());
    assert_eq!(back.root.name, "custodia");
    let serde = back.components.iter().find(|c| c.name == "serde").unwrap();
    assert_eq!(serde.hashes.len(), 1);
    assert_eq!(serde.hashes[0].algorithm(), DigestAlgorithm::Sha256);
    back.validate().unwrap();
}

// ---------------------------------------------------------------------------
// Reader: upstream examples
// ---------------------------------------------------------------------------

/// Upstream invalid examples our reader accepts, and why: each is invalid
/// only for a rule about something the reader does not model.
const KNOWN_ACCEPTED: &[(&str, &str)] = &[(
    "1.7/invalid-metadata-distribution-1.7.json",
    "its only fault is a field the schema does not define (`metadata.distribution`); the \
     reader ignores fields the model does not use, in every version, and leaves schema \
     validation to the schema",
)];

#[derive(serde::Deserialize)]
struct Expected {
    files: BTreeMap<String, ExpectedFile>,
}

#[derive(serde::Deserialize)]
struct ExpectedFile {
    expect: String,
}

fn invalid_path(err: &custodia::Error) -> String {
    match err {
        custodia::Error::Sbom(SbomError::Invalid { document, path, .. }) => {
            assert_eq!(*document, "CycloneDX");
            path.clone()
        }
        other => panic!("not a typed SBOM error: {other:?}"),
    }
}

#[test]
fn upstream_examples_read_with_the_outcome_upstream_expects() {
    let expected: Expected =
        serde_json::from_slice(&std::fs::read(conformance().join("expected.json")).unwrap())
            .unwrap();
    let (mut valid, mut rejected, mut accepted) = (0, 0, 0);
    let mut report = String::new();
    for (file, e) in &expected.files {
        let bytes = std::fs::read(conformance().join(file)).unwrap();
        let result = from_json(&bytes);
        let known = KNOWN_ACCEPTED.iter().find(|(f, _)| f == file);
        match (e.expect.as_str(), &result, known) {
            ("valid", Ok(sbom), _) => {
                valid += 1;
                // Every edge names a component of the model.
                sbom.validate()
                    .unwrap_or_else(|err| panic!("{file}: model does not validate: {err}"));
            }
            ("valid", Err(err), _) => panic!("{file}: valid upstream, rejected: {err}"),
            ("invalid", Err(err), None) => {
                rejected += 1;
                let path = invalid_path(err);
                report.push_str(&format!("{file}: `{path}`: {err}\n"));
            }
            ("invalid", Ok(_), Some(_)) => accepted += 1,
            ("invalid", Ok(_), None) => panic!("{file}: invalid upstream, but accepted"),
            ("invalid", Err(err), Some((_, why))) => {
                panic!("{file} is in KNOWN_ACCEPTED ({why}) but is now rejected: {err}")
            }
            (other, ..) => panic!("{file}: unknown expectation {other}"),
        }
    }
    eprintln!("{report}");
    assert_eq!(valid, 36 + 40 + 61, "every valid example");
    assert_eq!(rejected + accepted, 22 + 22 + 29, "every invalid example");
    assert_eq!(accepted, KNOWN_ACCEPTED.len());
    assert_eq!(rejected, 44 + 29 - KNOWN_ACCEPTED.len());
}

#[test]
fn rejections_name_the_broken_rule_and_its_path() {
    let cases = [
        ("1.6/invalid-bomformat-1.6.json", "bomFormat"),
        ("1.6/invalid-serialnumber-1.6.json", "serialNumber"),
        ("1.6/invalid-component-type-1.6.json", "components[0].type"),
        (
            "1.6/invalid-missing-component-type-1.6.json",
            "components[0]",
        ),
        ("1.6/invalid-empty-component-1.6.json", "components[0]"),
        (
            "1.6/invalid-component-ref-1.6.json",
            "components[1].bom-ref",
        ),
        ("1.6/invalid-dependency-1.6.json", "dependencies[0]"),
        ("1.6/invalid-scope-1.6.json", "components[0].scope"),
        (
            "1.6/invalid-hash-alg-1.6.json",
            "components[0].hashes[0].alg",
        ),
        (
            "1.6/invalid-hash-sha256-1.6.json",
            "components[0].hashes[2].content",
        ),
        (
            "1.5/invalid-hash-md5-1.5.json",
            "components[0].hashes[0].content",
        ),
        (
            "1.5/invalid-hash-sha1-1.5.json",
            "components[0].hashes[1].content",
        ),
        (
            "1.5/invalid-hash-sha512-1.5.json",
            "components[0].hashes[3].content",
        ),
        (
            "1.6/invalid-license-choice-1.6.json",
            "components[0].licenses[0]",
        ),
        (
            "1.6/invalid-license-missing-id-and-name-1.6.json",
            "components[0].licenses[0].license",
        ),
        (
            "1.6/invalid-license-encoding-1.6.json",
            "components[0].licenses[0].license.text.encoding",
        ),
        (
            "1.6/invalid-metadata-timestamp-1.6.json",
            "metadata.timestamp",
        ),
        ("1.6/invalid-properties-1.6.json", "metadata.properties[0]"),
        ("1.6/invalid-component-swid-1.6.json", "components[0].swid"),
        (
            "1.6/invalid-patch-type-1.6.json",
            "components[0].pedigree.patches[0].type",
        ),
        (
            "1.6/invalid-issue-type-1.6.json",
            "components[0].pedigree.patches[0].resolves[0].type",
        ),
        (
            "1.6/invalid-service-data-1.6.json",
            "services[0].data[0].flow",
        ),
    ];
    for (file, want) in cases {
        let err = from_json(&std::fs::read(conformance().join(file)).unwrap()).unwrap_err();
        assert_eq!(invalid_path(&err), want, "{file}: {err}");
    }
}

#[test]
fn upstream_valid_examples_read_into_the_model() {
    let read = |f: &str| from_json(&std::fs::read(conformance().join(f)).unwrap()).unwrap();

    let hashes = read("1.6/valid-component-hashes-1.6.json");
    let c = &hashes.components[0];
    let algs: Vec<DigestAlgorithm> = c.hashes.iter().map(Digest::algorithm).collect();
    assert_eq!(
        algs,
        [
            DigestAlgorithm::Sha256,
            DigestAlgorithm::Sha384,
            DigestAlgorithm::Sha512
        ],
        "only SHA-2 hashes are kept"
    );

    let expr = read("1.6/valid-license-expression-1.6.json");
    assert_eq!(
        expr.components[0]
            .license
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("EPL-2.0 OR GPL-2.0 WITH Classpath-exception-2.0")
    );
    let id = read("1.6/valid-license-id-1.6.json");
    assert_eq!(
        id.components[0]
            .license
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("Apache-2.0")
    );
    let name = read("1.6/valid-license-name-1.6.json");
    assert_eq!(
        name.components[0]
            .license
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("LicenseRef-Apache-License-2.0")
    );

    let deps = read("1.6/valid-dependency-1.6.json");
    assert!(!deps.dependencies.is_empty());
    deps.validate().unwrap();

    let assembly = read("1.6/valid-assembly-1.6.json");
    assert!(
        assembly.components.len() > 1,
        "nested components are flattened"
    );
    let ts = read("1.5/valid-metadata-timestamp-1.5.json");
    assert_ne!(ts.timestamp, Timestamp::from_unix(0));
    let scope = read("1.6/valid-bom-1.6.json");
    scope.validate().unwrap();
}

#[test]
fn syft_output_reads() {
    for (file, version_root) in [
        ("identify_1.5.json", "go.mod"),
        ("identify_1.6.json", "go.mod"),
    ] {
        let sbom =
            from_json(&std::fs::read(conformance().join("syft").join(file)).unwrap()).unwrap();
        assert_eq!(sbom.root.name, version_root, "{file}");
        assert!(!sbom.components.is_empty(), "{file}");
        assert!(
            sbom.components
                .iter()
                .all(|c| c.purl.as_ref().is_some_and(|p| p.purl_type() == "golang")),
            "{file}"
        );
        sbom.validate().unwrap();
    }
}

// ---------------------------------------------------------------------------
// Reader: targeted rules
// ---------------------------------------------------------------------------

fn doc(spec: &str, components: &str, extra: &str) -> Vec<u8> {
    format!(
        r#"{{"bomFormat": "CycloneDX", "specVersion": "{spec}", "version": 1,
            "components": {components}{extra}}}"#
    )
    .into_bytes()
}

fn reject(bytes: &[u8]) -> (String, String) {
    let err = from_json(bytes).unwrap_err();
    (invalid_path(&err), err.to_string())
}

#[test]
fn bom_refs_are_parsed_with_their_path() {
    for bad in ["", "a\\u0001b", &"r".repeat(4097)] {
        let components = format!(r#"[{{"type": "library", "name": "a", "bom-ref": "{bad}"}}]"#);
        assert_eq!(
            reject(&doc("1.6", &components, "")).0,
            "components[0].bom-ref"
        );
    }
    let nested = r#"[{"type": "library", "name": "a", "bom-ref": "a",
        "components": [{"type": "library", "name": "b", "bom-ref": "b\u007f"}]}]"#;
    assert_eq!(
        reject(&doc("1.6", nested, "")).0,
        "components[0].components[0].bom-ref"
    );
    let service = r#", "services": [{"name": "s", "bom-ref": "\u0000"}]"#;
    assert_eq!(reject(&doc("1.6", "[]", service)).0, "services[0].bom-ref");
    let ok = r#"[{"type": "library", "name": "a", "bom-ref": "my lib ☃ #1"}]"#;
    let sbom = from_json(&doc("1.6", ok, "")).unwrap();
    assert_eq!(sbom.components[0].bom_ref, "my lib ☃ #1");
}

#[test]
fn spec_version_and_component_types_are_checked_per_version() {
    let (path, _) = reject(&doc("1.3", "[]", ""));
    assert_eq!(path, "specVersion");
    let ml = r#"[{"type": "machine-learning-model", "name": "m"}]"#;
    assert!(from_json(&doc("1.5", ml, "")).is_ok());
    assert_eq!(reject(&doc("1.4", ml, "")).0, "components[0].type");
    let crypto = r#"[{"type": "cryptographic-asset", "name": "aes"}]"#;
    assert!(from_json(&doc("1.6", crypto, "")).is_ok());
    assert_eq!(reject(&doc("1.5", crypto, "")).0, "components[0].type");
}

#[test]
fn timestamps_are_json_schema_date_times() {
    let at = |t: &str| {
        doc(
            "1.6",
            "[]",
            &format!(r#", "metadata": {{"timestamp": "{t}"}}"#),
        )
    };
    let ok = from_json(&at("2024-05-01T14:00:00+02:00")).unwrap();
    assert_eq!(ok.timestamp.to_string(), "2024-05-01T12:00:00Z");
    assert!(from_json(&at("2024-05-01t12:00:00.5z")).is_ok());
    for bad in [
        "2024-05-01 12:00:00Z",
        "2024-05-01",
        "2024-05-01T12:00:00",
        "yesterday",
    ] {
        assert_eq!(reject(&at(bad)).0, "metadata.timestamp", "{bad}");
    }
}

#[test]
fn licenses_follow_the_version_rules() {
    // 1.4: several expressions are allowed and joined.
    let two = r#"[{"type": "library", "name": "x", "licenses": [
        {"expression": "MIT OR Apache-2.0"}, {"license": {"id": "BSD-3-Clause"}}]}]"#;
    let sbom = from_json(&doc("1.4", two, "")).unwrap();
    assert_eq!(
        sbom.components[0]
            .license
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("(MIT OR Apache-2.0) AND BSD-3-Clause")
    );
    // 1.5 and later: an expression must be alone.
    assert_eq!(reject(&doc("1.5", two, "")).0, "components[0].licenses[0]");
    let neither = r#"[{"type": "library", "name": "x", "licenses": [{}]}]"#;
    assert_eq!(
        reject(&doc("1.6", neither, "")).0,
        "components[0].licenses[0]"
    );
    let both = r#"[{"type": "library", "name": "x", "licenses": [{"license": {"id": "MIT", "name": "MIT"}}]}]"#;
    assert_eq!(
        reject(&doc("1.6", both, "")).0,
        "components[0].licenses[0].license"
    );
}

#[test]
fn hashes_must_fit_their_algorithm() {
    let h = |alg: &str, content: &str| {
        doc(
            "1.6",
            &format!(
                r#"[{{"type": "library", "name": "x", "hashes": [{{"alg": "{alg}", "content": "{content}"}}]}}]"#
            ),
            "",
        )
    };
    let sha1 = "e6b1000b94e835ffd37f4c6dcbdad43f4b48a02a";
    let sha256 = "f498a8ff2dd007e29c2074f5e4b01a9a01775c3ff3aeaf6906ea503bc5791b7b";
    assert!(
        from_json(&h("SHA-1", sha1)).unwrap().components[0]
            .hashes
            .is_empty()
    );
    // A SHA-1-length value under SHA-256 matches the schema's pattern, but
    // not the algorithm.
    assert_eq!(
        reject(&h("SHA-256", sha1)).0,
        "components[0].hashes[0].content"
    );
    // Upper-case hex is allowed and normalized.
    let upper = from_json(&h("SHA-256", &sha256.to_uppercase())).unwrap();
    assert_eq!(upper.components[0].hashes[0].hex(), sha256);
    assert!(from_json(&h("BLAKE3", sha1)).is_ok());
    assert_eq!(
        reject(&h("SHA-256", "xyz")).0,
        "components[0].hashes[0].content"
    );
    assert_eq!(reject(&h("SHA-2", sha256)).0, "components[0].hashes[0].alg");
}

#[test]
fn bom_refs_and_dependencies_are_checked() {
    let comps = r#"[{"type": "library", "name": "a", "bom-ref": "a"},
                    {"type": "library", "name": "b", "bom-ref": "b",
                     "components": [{"type": "library", "name": "c", "bom-ref": "c"}]}]"#;
    let ok = from_json(&doc(
        "1.6",
        comps,
        r#", "services": [{"name": "s", "bom-ref": "s"}],
            "dependencies": [{"ref": "a", "dependsOn": ["c", "s"]}, {"ref": "a", "dependsOn": ["b"]},
                             {"ref": "s", "dependsOn": ["a"]}]"#,
    ))
    .unwrap();
    assert_eq!(ok.components.len(), 3, "nested components are flattened");
    assert_eq!(
        ok.dependencies["a"].iter().collect::<Vec<_>>(),
        ["b", "c"],
        "entries merged, service edges dropped"
    );
    assert!(!ok.dependencies.contains_key("s"));

    let (path, msg) = reject(&doc(
        "1.6",
        comps,
        r#", "dependencies": [{"ref": "a", "dependsOn": ["nope"]}]"#,
    ));
    assert_eq!(path, "dependencies[0].dependsOn[0]", "{msg}");
    let (path, _) = reject(&doc(
        "1.6",
        comps,
        r#", "dependencies": [{"ref": "a", "dependsOn": ["b", "b"]}]"#,
    ));
    assert_eq!(path, "dependencies[0].dependsOn[1]");
    let dup = r#"[{"type": "library", "name": "a", "bom-ref": "a"},
                  {"type": "library", "name": "b", "components": [{"type": "library", "name": "c", "bom-ref": "a"}]}]"#;
    assert_eq!(
        reject(&doc("1.6", dup, "")).0,
        "components[1].components[0].bom-ref"
    );
    // Duplicate members are refused by the strict JSON layer.
    let (_, msg) = reject(&doc("1.6", "[]", r#", "version": 2"#));
    assert!(msg.contains("duplicate member `version`"), "{msg}");
}

#[test]
fn missing_bom_refs_root_and_timestamp_get_documented_defaults() {
    let comps = r#"[{"type": "library", "name": "a", "version": "1", "purl": "pkg:cargo/a@1"},
                    {"type": "library", "name": "b", "version": "2"},
                    {"type": "library", "name": "b", "version": "2"},
                    {"type": "library", "name": "c"}]"#;
    let sbom = from_json(&doc("1.4", comps, "")).unwrap();
    let refs: Vec<&str> = sbom.components.iter().map(|c| c.bom_ref.as_str()).collect();
    assert_eq!(refs, ["pkg:cargo/a@1", "b@2", "b@2#2", "c"]);
    assert_eq!(sbom.root.name, "unknown");
    assert_eq!(sbom.root.bom_ref, "urn:custodia:no-root");
    assert_eq!(sbom.timestamp, Timestamp::from_unix(0));
    sbom.validate().unwrap();
}

#[test]
fn supplier_falls_back_to_author_and_authors() {
    let comps = r#"[{"type": "library", "name": "a", "author": "Ann"},
                    {"type": "library", "name": "b", "authors": [{"name": "Bo"}, {"name": "Cy"}]},
                    {"type": "library", "name": "c", "supplier": {"name": "Acme"}, "author": "Di"}]"#;
    let sbom = from_json(&doc("1.6", comps, "")).unwrap();
    let suppliers: Vec<Option<&str>> = sbom
        .components
        .iter()
        .map(|c| c.supplier.as_deref())
        .collect();
    assert_eq!(suppliers, [Some("Ann"), Some("Bo, Cy"), Some("Acme")]);
}

// ---------------------------------------------------------------------------
// Property test: any valid model survives model -> CycloneDX -> model
// ---------------------------------------------------------------------------

mod roundtrip {
    use proptest::prelude::*;

    use super::*;

    fn text() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9 ._+()<>@/:-]{0,16}"
    }

    fn source() -> impl Strategy<Value = SourceKind> {
        prop_oneof![
            Just(SourceKind::Unknown),
            Just(SourceKind::Path),
            "(registry|sparse)\\+https://[a-z.]{1,10}/[a-z-]{0,8}".prop_map(SourceKind::Registry),
            (
                "https://[a-z.]{1,10}/[a-z/-]{0,12}",
                proptest::option::of("[0-9a-f]{40}")
            )
                .prop_map(|(url, revision)| SourceKind::Git { url, revision }),
        ]
    }

    fn scope() -> impl Strategy<Value = Scope> {
        prop_oneof![
            Just(Scope::Required),
            Just(Scope::Optional),
            Just(Scope::Excluded)
        ]
    }

    fn hashes() -> impl Strategy<Value = Vec<Digest>> {
        proptest::collection::vec(
            (
                prop_oneof![
                    Just(DigestAlgorithm::Sha256),
                    Just(DigestAlgorithm::Sha384),
                    Just(DigestAlgorithm::Sha512)
                ],
                any::<Vec<u8>>(),
            )
                .prop_map(|(alg, bytes)| alg.hash(&bytes)),
            0..3,
        )
    }

    prop_compose! {
        fn component()(
            name in "[a-z][a-z0-9_-]{0,10}",
            version in "([0-9]{1,2}\\.[0-9]{1,2}\\.[0-9]{1,2}(-[a-z0-9.]{1,5})?)?",
            purl in any::<bool>(),
            supplier in proptest::option::of(text()),
            license in proptest::option::of(text()),
            hashes in hashes(),
            source in source(),
            scope in scope(),
            description in proptest::option::of(text()),
        ) -> Component {
            let mut c = Component::new(name.clone(), version.clone());
            if purl {
                c = c.with_purl(format!("pkg:cargo/{name}@{version}").parse().unwrap());
            }
            c.supplier = supplier;
            // Only what parses as an SPDX expression is a model license.
            c.license = license.and_then(|l| l.parse().ok());
            c.hashes = hashes;
            c.source = source;
            c.scope = scope;
            c.description = description;
            c
        }
    }

    prop_compose! {
        fn sbom()(
            root in component(),
            components in proptest::collection::vec(component(), 0..8),
            edges in proptest::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 0..16),
            seconds in 0i64..4_000_000_000,
            nanos in prop_oneof![Just(0u32), 0u32..1_000_000_000],
        ) -> Sbom {
            let timestamp: Timestamp = Timestamp::from_unix(seconds)
                .to_string()
                .replace('Z', &format!(".{nanos:09}Z"))
                .parse()
                .unwrap();
            let mut sbom = Sbom::new(root, timestamp);
            let mut seen = std::collections::BTreeSet::from([sbom.root.bom_ref.clone()]);
            for c in components {
                if seen.insert(c.bom_ref.clone()) {
                    sbom.add(c);
                }
            }
            let refs: Vec<BomRef> = std::iter::once(&sbom.root)
                .chain(&sbom.components)
                .map(|c| c.bom_ref.clone())
                .collect();
            for (a, b) in edges {
                let (from, to) = (a.get(&refs).clone(), b.get(&refs).clone());
                sbom.depends(&from, &to);
            }
            sbom
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn model_to_cyclonedx_to_model(sbom in sbom()) {
            sbom.validate().unwrap();
            for version in [CycloneDxVersion::V1_6, CycloneDxVersion::V1_5] {
                let bytes = to_json(&sbom, version);
                let back = from_json(&bytes).unwrap();
                prop_assert_eq!(sorted(back.clone()), sorted(sbom.clone()));
                prop_assert_eq!(to_json(&back, version), bytes);
            }
        }
    }
}

#[test]
fn cyclonedx_1_7_rules_and_license_acknowledgements() {
    let read = |f: &str| from_json(&std::fs::read(conformance().join(f)).unwrap());
    // Declared licenses are the model's license; a concluded expression
    // next to them is not mixed in.
    let mix = read("1.7/valid-license-declared-concluded-mix-1.7.json").unwrap();
    let license = |name: &str| {
        mix.components
            .iter()
            .find(|c| c.name == name)
            .unwrap()
            .license
            .clone()
    };
    assert_eq!(
        license("situation-A").map(|l| l.to_string()).as_deref(),
        Some("MIT AND PostgreSQL AND LicenseRef-Apache-Software-License")
    );
    assert_eq!(
        license("situation-B").map(|l| l.to_string()).as_deref(),
        Some("MIT OR (GPL-3.0 OR GPL-2.0)")
    );
    for (file, want) in [
        ("1.7/invalid-citations-1.7.json", "citations[0]"),
        (
            "1.7/invalid-component-external-version-and-range.json",
            "components[0]",
        ),
        (
            "1.7/invalid-component-versionRange-non-external-implicit.json",
            "components[0].versionRange",
        ),
        (
            "1.7/invalid-hash-sha512-1.7.json",
            "components[0].hashes[3].content",
        ),
    ] {
        let err = read(file).unwrap_err();
        assert_eq!(invalid_path(&err), want, "{file}: {err}");
    }
    // 1.6 keeps its rule: an expression is the only entry.
    let two = br#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "components": [{"type": "library", "name": "a", "licenses": [
            {"expression": "MIT"}, {"license": {"id": "Apache-2.0"}}]}]}"#;
    assert_eq!(
        invalid_path(&from_json(two).unwrap_err()),
        "components[0].licenses[0]"
    );
    let seven = String::from_utf8(two.to_vec())
        .unwrap()
        .replace("1.6", "1.7");
    let sbom = from_json(seven.as_bytes()).unwrap();
    assert_eq!(
        sbom.components[0]
            .license
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("MIT AND Apache-2.0")
    );
}
