//! SBOMs written by other tools (tests/data/sbom/third-party, SOURCES.md):
//! our readers read them without losing a component.
//!
//! * cyclonedx-python-lib's CycloneDX 1.7 JSON snapshots (the documents
//!   its serializer writes in its own test suite): every component, nested
//!   ones and those under `metadata.component` included, is in the model,
//!   with its bom-ref, name, version and purl.
//! * Microsoft sbom-tool's SPDX 3.0 sample (`samples/spdx_3.0`): not valid
//!   SPDX 3.0.1 (its context is `spdx-context.json`, relationship types are
//!   SPDX 2 spellings such as `HAS_DECLARED_LICENSE`, hashes are typed
//!   `PackageVerificationCode`), so the strict reader refuses it, at the
//!   context, with a typed error.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use custodia::Error;
use custodia::error::SbomError;
use custodia::sbom::{Purl, cyclonedx, spdx3};
use serde_json::Value;

fn third_party() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sbom/third-party")
}

/// (bom-ref, name, version, purl) of every component the model keeps:
/// top-level and nested `components`, and `metadata.component`'s nested
/// ones (pedigree components are not part of the BOM's inventory).
fn expected_components(doc: &Value) -> Vec<(Option<String>, String, String, Option<String>)> {
    fn walk(list: &Value, out: &mut Vec<(Option<String>, String, String, Option<String>)>) {
        for c in list.as_array().into_iter().flatten() {
            let s = |k: &str| c.get(k).and_then(Value::as_str).map(str::to_owned);
            out.push((
                s("bom-ref"),
                s("name").unwrap_or_default(),
                s("version").unwrap_or_default(),
                s("purl"),
            ));
            walk(&c["components"], out);
        }
    }
    let mut out = Vec::new();
    walk(&doc["metadata"]["component"]["components"], &mut out);
    walk(&doc["components"], &mut out);
    out
}

#[test]
fn cyclonedx_python_lib_1_7_documents_read_without_loss() {
    let dir = third_party().join("cyclonedx-python-lib");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 41, "the 41 snapshots of SOURCES.md");
    let (mut documents, mut components) = (0, 0);
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(file).unwrap();
        let doc: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(doc["specVersion"], "1.7", "{name}");
        let sbom = cyclonedx::from_json(&bytes).unwrap_or_else(|e| panic!("{name}: refused: {e}"));
        let want = expected_components(&doc);
        assert_eq!(sbom.components.len(), want.len(), "{name}: component count");
        let have_refs: BTreeSet<&str> =
            sbom.components.iter().map(|c| c.bom_ref.as_str()).collect();
        for (bom_ref, cname, version, purl) in &want {
            let found = sbom.components.iter().find(|c| {
                c.name == *cname
                    && c.version == *version
                    && c.purl.as_ref().map(Purl::as_str) == purl.as_deref()
            });
            assert!(found.is_some(), "{name}: `{cname}` {version} is missing");
            if let Some(r) = bom_ref {
                assert!(
                    have_refs.contains(r.as_str()),
                    "{name}: bom-ref `{r}` is missing"
                );
            }
        }
        documents += 1;
        components += want.len();
    }
    assert_eq!(documents, 41);
    assert_eq!(components, 46, "the components the snapshots hold");
}

#[test]
fn microsoft_sbom_tool_spdx_3_sample_is_refused_at_its_context() {
    let bytes =
        std::fs::read(third_party().join("microsoft-sbom-tool/manifest.spdx.json")).unwrap();
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    let packages = doc["@graph"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["type"] == "software_Package")
        .count();
    assert!(
        packages > 100,
        "a real, large document ({packages} packages)"
    );
    match spdx3::from_json(&bytes) {
        Err(Error::Sbom(SbomError::Invalid { path, .. })) => assert_eq!(path, "@context"),
        other => panic!("expected a refusal at @context, got {other:?}"),
    }
}
