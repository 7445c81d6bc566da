//! SPDX 3.0.1 JSON-LD writer and reader (`custodia::sbom::spdx3`).
//!
//! * Our output for this repository, for helix's 337-package workspace
//!   (tests/data/sbom/helix) and for a hand-made SBOM that uses every
//!   field is valid against the SPDX 3.0.1 JSON Schema (draft 2020-12,
//!   `tests/conformance/spdx3/schema`) and loads in spdx-python-model 0.0.6
//!   (the SPDX project's generated bindings: load, link with no missing
//!   ids, serialize again, which checks every required property); every
//!   locked package is there by purl, as the peer reads it.
//! * Output is byte-for-byte reproducible; model -> SPDX 3 -> model keeps
//!   every component, license and edge.
//! * The SPDX 3.0.1 specification's example reads.
//!
//! The peer's python comes from `CUSTODIA_PEERS_PYTHON` or
//! `target/peers-venv`; without it the peer tests say SKIPPED locally and
//! fail under CI (`CI` set).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod peers;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use custodia::digest::DigestAlgorithm;
use custodia::error::SbomError;
use custodia::sbom::cargo::{CargoInput, from_cargo};
use custodia::sbom::spdx3::{from_json, to_json};
use custodia::sbom::{BomRef, Component, Sbom, Scope, SourceKind};
use custodia::time::Timestamp;

/// A bom-ref from a literal.
fn r(s: &str) -> BomRef {
    BomRef::parse(s).unwrap()
}

fn root_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn conformance() -> PathBuf {
    root_dir().join("tests/conformance/spdx3")
}

fn lock_sbom(lock: &Path, manifest: &Path) -> Sbom {
    let lock = std::fs::read_to_string(lock).unwrap();
    let manifest = std::fs::read_to_string(manifest).unwrap();
    from_cargo(
        &CargoInput::new(&lock).with_manifest(&manifest),
        Timestamp::from_unix(1_714_564_800),
    )
    .unwrap()
}

fn own_sbom() -> Sbom {
    lock_sbom(
        &root_dir().join("Cargo.lock"),
        &root_dir().join("Cargo.toml"),
    )
}

fn helix_sbom() -> Sbom {
    let dir = root_dir().join("tests/data/sbom/helix");
    lock_sbom(&dir.join("Cargo.lock"), &dir.join("Cargo.toml"))
}

/// A model that uses every field the format carries.
fn rich_sbom() -> Sbom {
    let mut root = Component::new("my app", "1.0.0+build.5")
        .with_purl("pkg:cargo/my%20app@1.0.0".parse().unwrap());
    root.source = SourceKind::Path;
    root.license = Some("(MIT OR Apache-2.0) AND Unicode-3.0".parse().unwrap());
    root.supplier = Some("Jane Doe <jane@example.com>".to_owned());
    root.description = Some("An app with \"quotes\",\nnewlines and ünïcödé".to_owned());
    let mut sbom = Sbom::new(root, Timestamp::from_unix(1_714_564_800));

    let mut serde =
        Component::new("serde", "1.0.200").with_purl("pkg:cargo/serde@1.0.200".parse().unwrap());
    serde.source =
        SourceKind::Registry("registry+https://github.com/rust-lang/crates.io-index".to_owned());
    serde.hashes = vec![DigestAlgorithm::Sha256.hash(b"serde")];
    serde.license = Some("MIT OR Apache-2.0".parse().unwrap());
    serde.supplier = Some("Erick Tryzelaar".to_owned());
    serde.description = Some("A serialization framework".to_owned());

    let mut itoa =
        Component::new("itoa", "1.0.11").with_purl("pkg:cargo/itoa@1.0.11".parse().unwrap());
    itoa.source = SourceKind::Registry("sparse+https://index.crates.io/".to_owned());
    itoa.hashes = vec![
        DigestAlgorithm::Sha256.hash(b"itoa"),
        DigestAlgorithm::Sha384.hash(b"itoa"),
        DigestAlgorithm::Sha512.hash(b"itoa"),
    ];
    itoa.license = Some("Apache-2.0 WITH LLVM-exception".parse().unwrap());
    itoa.scope = Scope::Optional;
    itoa.supplier = Some("Erick Tryzelaar".to_owned());

    let mut private = Component::new("internal_lib", "0.3.0").with_purl(
        "pkg:cargo/internal_lib@0.3.0?repository_url=https://my.registry/index"
            .parse()
            .unwrap(),
    );
    private.source = SourceKind::Registry("sparse+https://my.registry/index/".to_owned());
    private.license = Some("LicenseRef-Proprietary".parse().unwrap());
    private.scope = Scope::Excluded;

    let mut git = Component::new("gitdep", "0.1.0").with_purl(
        "pkg:cargo/gitdep@0.1.0?vcs_url=git%2Bhttps://github.com/o/gitdep%400123456789abcdef0123456789abcdef01234567"
            .parse()
            .unwrap(),
    );
    git.source = SourceKind::Git {
        url: "https://github.com/o/gitdep".to_owned(),
        revision: Some("0123456789abcdef0123456789abcdef01234567".to_owned()),
    };
    git.license = Some("GPL-2.0-or-later".parse().unwrap());

    let mut custom_ref = Component::new("local", "0.0.1");
    custom_ref.bom_ref = r("urn:example:local");
    custom_ref.source = SourceKind::Path;

    let unknown = Component::new("mystery", "");

    for c in [serde, itoa, private, git, custom_ref, unknown] {
        sbom.add(c);
    }
    let root = sbom.root.bom_ref.clone();
    sbom.depends(&root, &r("pkg:cargo/serde@1.0.200"));
    sbom.depends(&root, &r("pkg:cargo/itoa@1.0.11"));
    sbom.depends(
        &root,
        &r("pkg:cargo/internal_lib@0.3.0?repository_url=https://my.registry/index"),
    );
    sbom.depends(&root, &r("urn:example:local"));
    sbom.depends(&r("urn:example:local"), &r("mystery@"));
    sbom.depends(
        &r("pkg:cargo/serde@1.0.200"),
        &r("pkg:cargo/gitdep@0.1.0?vcs_url=git%2Bhttps://github.com/o/gitdep%400123456789abcdef0123456789abcdef01234567"),
    );
    sbom.validate().unwrap();
    sbom
}

fn sorted(mut sbom: Sbom) -> Sbom {
    sbom.components.sort_by(|a, b| a.bom_ref.cmp(&b.bom_ref));
    sbom
}

// ------------------------------------------------------------------ peer

fn peer_python() -> Option<PathBuf> {
    peers::python_with(
        "jsonschema_rs, spdx_python_model",
        "jsonschema-rs + spdx-python-model",
    )
}

/// Validates each file against the SPDX 3.0.1 JSON Schema (draft 2020-12,
/// with jsonschema-rs: the pure-Python `jsonschema` needs minutes per
/// document for this schema's `unevaluatedProperties` over ~100 classes)
/// and loads it in spdx-python-model (load, link with no missing ids,
/// serialize); prints `jsonschema VALID|INVALID FILE`,
/// `spdx-python-model VALID|INVALID FILE`, then one `package PURL` line per
/// software_Package. Exits 1 on any failure.
const PY_VALIDATE: &str = r#"
import json, sys, io
import jsonschema_rs
import spdx_python_model as spm
schema = json.load(open(sys.argv[1], encoding="utf-8"))
v = jsonschema_rs.Draft202012Validator(schema, validate_formats=True)
bad = 0
for path in sys.argv[2:]:
    data = json.load(open(path, encoding="utf-8"))
    errs = list(v.iter_errors(data))
    for e in errs[:3]:
        print("jsonschema INVALID", path, "/".join(map(str, e.instance_path)), e.message[:300])
    if not errs:
        print("jsonschema VALID", path)
    try:
        model, objset = spm.load_data(data)
        missing = objset.link()
        if missing:
            raise ValueError(f"unresolved ids: {sorted(missing)[:5]}")
        model.JSONLDSerializer().write(objset, io.BytesIO())
        print("spdx-python-model VALID", path)
        for p in objset.foreach_type(model.software_Package):
            print("package", p.software_packageUrl or "")
    except Exception as e:
        print("spdx-python-model INVALID", path, type(e).__name__, str(e)[:300])
        bad += 1
    bad += bool(errs)
sys.exit(1 if bad else 0)
"#;

/// Runs the peer on `files`; returns its output (asserting success).
fn peer_validate(python: &Path, files: &[&Path]) -> String {
    let out = Command::new(python)
        .arg("-c")
        .arg(PY_VALIDATE)
        .arg(conformance().join("schema/spdx-json-schema-3.0.1.json"))
        .args(files)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "peer rejects:\n{text}");
    assert_eq!(
        text.matches(" VALID ").count(),
        2 * files.len(),
        "both validators, every file:\n{text}"
    );
    text
}

#[test]
fn our_output_is_valid_for_the_schema_and_spdx_python_model() {
    let Some(python) = peer_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    for (name, sbom) in [
        ("own", own_sbom()),
        ("helix", helix_sbom()),
        ("rich", rich_sbom()),
    ] {
        let path = dir.path().join(format!("{name}.spdx3.json"));
        std::fs::write(&path, to_json(&sbom).unwrap()).unwrap();
        let text = peer_validate(&python, &[&path]);
        // Every locked package is there, by purl, as the peer reads it.
        let peer_purls: BTreeSet<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("package "))
            .collect();
        let ours: BTreeSet<&str> = std::iter::once(&sbom.root)
            .chain(&sbom.components)
            .filter_map(|c| c.purl.as_ref().map(|p| p.as_str()))
            .collect();
        if name != "rich" {
            assert_eq!(
                ours.len(),
                sbom.components.len() + usize::from(sbom.root.purl.is_some()),
                "{name}: every package has a purl"
            );
        }
        assert!(
            ours.is_subset(&peer_purls),
            "{name}: purls the peer does not see: {:?}",
            ours.difference(&peer_purls).collect::<Vec<_>>()
        );
    }
}

#[test]
fn helix_workspace_has_every_locked_package_by_purl() {
    // Independent of the model: count [[package]] entries in the lock file.
    let lock =
        std::fs::read_to_string(root_dir().join("tests/data/sbom/helix/Cargo.lock")).unwrap();
    let locked: BTreeSet<(String, String)> = lock
        .split("[[package]]")
        .skip(1)
        .map(|entry| {
            let field = |key: &str| {
                entry
                    .lines()
                    .find_map(|l| l.strip_prefix(&format!("{key} = \"")))
                    .unwrap()
                    .trim_end_matches('"')
                    .to_owned()
            };
            (field("name"), field("version"))
        })
        .collect();
    assert_eq!(locked.len(), 337);
    let back = from_json(&to_json(&helix_sbom()).unwrap()).unwrap();
    // The root is the virtual workspace root; the packages are components.
    assert_eq!(back.root.name, "workspace");
    let got: BTreeSet<(String, String)> = back
        .components
        .iter()
        .map(|c| (c.name.clone(), c.version.clone()))
        .collect();
    assert_eq!(got, locked);
    for c in &back.components {
        let purl = c.purl.as_ref().map(|p| p.as_str()).unwrap();
        assert!(
            purl.starts_with(&format!("pkg:cargo/{}@", c.name)),
            "{purl}"
        );
    }
}

#[test]
fn the_peer_accepts_the_spec_example_and_refuses_a_broken_document() {
    let Some(python) = peer_python() else { return };
    peer_validate(&python, &[&conformance().join("spec/package_sbom.json")]);
    // A check of the check: a package without creationInfo fails both.
    let mut doc: serde_json::Value =
        serde_json::from_slice(&to_json(&rich_sbom()).unwrap()).unwrap();
    let graph = doc["@graph"].as_array_mut().unwrap();
    let pkg = graph
        .iter_mut()
        .find(|n| n["type"] == "software_Package")
        .unwrap();
    pkg.as_object_mut().unwrap().remove("creationInfo");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.json");
    std::fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
    let out = Command::new(&python)
        .arg("-c")
        .arg(PY_VALIDATE)
        .arg(conformance().join("schema/spdx-json-schema-3.0.1.json"))
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("jsonschema INVALID"), "{text}");
    assert!(text.contains("spdx-python-model INVALID"), "{text}");
}

// ------------------------------------------------------- our own round trip

#[test]
fn output_is_reproducible_and_only_the_timestamp_follows_the_clock() {
    for sbom in [own_sbom(), helix_sbom(), rich_sbom()] {
        let a = to_json(&sbom).unwrap();
        // A model built again from the same inputs, components in another
        // order, gives the same bytes.
        let mut shuffled = sbom.clone();
        shuffled.components.reverse();
        assert_eq!(a, to_json(&shuffled).unwrap());
        let mut later = sbom.clone();
        later.timestamp = Timestamp::from_unix(sbom.timestamp.unix() + 1);
        let b = to_json(&later).unwrap();
        let diff: Vec<(&[u8], &[u8])> = a
            .split(|&x| x == b'\n')
            .zip(b.split(|&x| x == b'\n'))
            .filter(|(x, y)| x != y)
            .collect();
        assert_eq!(diff.len(), 1, "only `created` changes");
        assert!(String::from_utf8_lossy(diff[0].0).contains("\"created\""));
    }
}

#[test]
fn round_trip_keeps_every_component_license_and_edge() {
    for sbom in [own_sbom(), helix_sbom(), rich_sbom()] {
        let back = from_json(&to_json(&sbom).unwrap()).unwrap();
        let (want, got) = (sorted(sbom.clone()), sorted(back));
        assert_eq!(got.components.len(), want.components.len());
        assert_eq!(got.dependencies, want.dependencies, "edges");
        assert_eq!(got.root.bom_ref, want.root.bom_ref);
        for (g, w) in got.components.iter().zip(&want.components) {
            assert_eq!(g.bom_ref, w.bom_ref);
            assert_eq!(g.name, w.name);
            assert_eq!(g.version, w.version);
            assert_eq!(g.purl, w.purl);
            assert_eq!(g.license, w.license, "{}", w.bom_ref);
            assert_eq!(g.supplier, w.supplier);
            assert_eq!(g.hashes, w.hashes);
            assert_eq!(g.source, w.source);
            assert_eq!(g.description, w.description);
        }
        // Scopes come back for every component an edge points to.
        let targets: BTreeSet<&BomRef> = want.dependencies.values().flatten().collect();
        for (g, w) in got.components.iter().zip(&want.components) {
            if targets.contains(&w.bom_ref) {
                assert_eq!(g.scope, w.scope, "{}", w.bom_ref);
            }
        }
    }
    // The rich model comes back whole.
    let rich = rich_sbom();
    assert_eq!(
        sorted(from_json(&to_json(&rich).unwrap()).unwrap()),
        sorted(rich)
    );
}

// ------------------------------------------------------------ other tools

#[test]
fn the_spec_example_reads() {
    let sbom =
        from_json(&std::fs::read(conformance().join("spec/package_sbom.json")).unwrap()).unwrap();
    assert_eq!(sbom.root.name, "my-package");
    assert_eq!(sbom.root.version, "1.0");
    assert!(sbom.components.is_empty());
    assert_eq!(sbom.timestamp, "2024-03-06T00:00:00Z".parse().unwrap());
}

// --------------------------------------------------------------- rejects

fn invalid_path(err: &custodia::Error) -> String {
    match err {
        custodia::Error::Sbom(SbomError::Invalid { document, path, .. }) => {
            assert_eq!(*document, "SPDX 3");
            path.clone()
        }
        other => panic!("not a typed SBOM error: {other:?}"),
    }
}

#[test]
fn broken_documents_are_refused_with_a_path() {
    let good: serde_json::Value = serde_json::from_slice(&to_json(&rich_sbom()).unwrap()).unwrap();
    let index = |kind: &str| {
        good["@graph"]
            .as_array()
            .unwrap()
            .iter()
            .position(|n| n["type"] == kind)
            .unwrap()
    };
    let pkg = good["@graph"]
        .as_array()
        .unwrap()
        .iter()
        .position(|n| n["type"] == "software_Package" && n.get("verifiedUsing").is_some())
        .unwrap();
    let rel = index("Relationship");
    let kept_ref = good["@graph"]
        .as_array()
        .unwrap()
        .iter()
        .position(|n| n.get("externalIdentifier").is_some())
        .unwrap();
    type Change = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(Change, String)> = vec![
        (
            Box::new(|d| d["@context"] = "https://spdx.org/rdf/3.0.0/spdx-context.jsonld".into()),
            "@context".to_owned(),
        ),
        (
            Box::new(|d| d["@graph"][0]["specVersion"] = "2.3".into()),
            "@graph[0].specVersion".to_owned(),
        ),
        (
            Box::new(|d| d["@graph"][0]["created"] = "2024-05-01 12:00:00".into()),
            "@graph[0].created".to_owned(),
        ),
        (
            Box::new(move |d| {
                d["@graph"][pkg]["verifiedUsing"][0]["hashValue"] = "ABC".into();
            }),
            format!("@graph[{pkg}].verifiedUsing[0].hashValue"),
        ),
        (
            Box::new(move |d| d["@graph"][rel]["relationshipType"] = "dependsUpon".into()),
            format!("@graph[{rel}].relationshipType"),
        ),
        (
            Box::new(move |d| d["@graph"][rel]["to"][0] = "https://nowhere.example/x".into()),
            format!("@graph[{rel}].to[0]"),
        ),
        (
            Box::new(move |d| d["@graph"][rel]["from"] = serde_json::json!({"type": "Person"})),
            format!("@graph[{rel}].from"),
        ),
        (
            Box::new(move |d| {
                d["@graph"][kept_ref]["externalIdentifier"][0]["identifier"] = "a\nb".into();
            }),
            format!("@graph[{kept_ref}].externalIdentifier[0].identifier"),
        ),
        (
            Box::new(move |d| {
                let id = d["@graph"][pkg]["spdxId"].clone();
                d["@graph"][rel]["spdxId"] = id;
            }),
            format!("@graph[{rel}]"),
        ),
    ];
    for (change, want) in cases {
        let mut doc = good.clone();
        change(&mut doc);
        let err = from_json(&serde_json::to_vec(&doc).unwrap()).unwrap_err();
        assert_eq!(invalid_path(&err), want, "{err}");
    }
    // Malformed JSON and duplicate keys are JSON errors, not panics.
    for bytes in [&b"{"[..], br#"{"@context": 1, "@context": 2}"#, b""] {
        assert!(matches!(
            from_json(bytes).unwrap_err(),
            custodia::Error::Json(_)
        ));
    }
}

/// Every id the writer makes reads back as a bom-ref, however long the
/// root's name (URI-encoded into the namespace, three bytes a character)
/// and a component's SPDX 2.3 id: found by the `sbom_binary` fuzz target.
#[test]
fn long_names_still_give_ids_that_read_back() {
    let long_root = format!("https://example.test/{}", "/".repeat(1_300));
    let mut sbom = Sbom::new(Component::new(long_root, "1.0"), Timestamp::from_unix(0));
    let mut long = Component::new("p".repeat(3_000), "1.0");
    long.bom_ref = r(&"q".repeat(4_000));
    sbom.add(long);
    // A bom-ref that is an SPDX id already is kept as the id's fragment,
    // unless the namespace would make the id too long.
    let mut kept = Component::new("kept", "3.0");
    kept.bom_ref = r(&format!("SPDXRef-{}", "x".repeat(4_000)));
    sbom.add(kept);
    sbom.add(Component::new("short", "2.0"));
    let json = to_json(&sbom).unwrap();
    let back = from_json(&json).unwrap();
    assert_eq!(back.components.len(), 3);
    let doc: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let longest = doc["@graph"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|node| node["spdxId"].as_str())
        .map(str::len)
        .max()
        .unwrap();
    // The case the fix is for: without the caps, ids ran past 4096 bytes.
    assert!(longest > 1_000 && longest <= 4_096, "{longest}");
}
