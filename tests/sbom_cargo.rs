//! The Cargo producer on real lock files: this repository's own and
//! hand-written v1-v4 forms.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use custodia::sbom::cargo::{CargoInput, from_cargo, purl};
use custodia::sbom::{Scope, SourceKind};
use custodia::time::Timestamp;

fn own() -> (String, String) {
    let root = env!("CARGO_MANIFEST_DIR");
    (
        std::fs::read_to_string(format!("{root}/Cargo.lock")).unwrap(),
        std::fs::read_to_string(format!("{root}/Cargo.toml")).unwrap(),
    )
}

#[test]
fn this_repositorys_lock_file_gives_every_package() {
    let (lock, manifest) = own();
    let sbom = from_cargo(
        &CargoInput::new(&lock).with_manifest(&manifest),
        Timestamp::from_unix(0),
    )
    .unwrap();
    let locked = lock.matches("[[package]]").count();
    assert_eq!(
        sbom.components.len() + 1,
        locked,
        "every locked package, root included"
    );
    assert_eq!(sbom.root.name, "custodia");
    assert_eq!(
        sbom.root
            .license
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("Apache-2.0")
    );
    let serde = sbom.components.iter().find(|c| c.name == "serde").unwrap();
    assert!(
        serde
            .purl
            .as_ref()
            .map(|p| p.as_str())
            .unwrap()
            .starts_with("pkg:cargo/serde@1.")
    );
    assert_eq!(serde.hashes.len(), 1, "crates.io checksum as SHA-256");
    assert!(sbom.dependencies[&sbom.root.bom_ref].contains(&serde.bom_ref));
    sbom.validate().unwrap();
}

const V1: &str = r#"
[[package]]
name = "app"
version = "0.1.0"
dependencies = [
 "dep 1.0.0 (registry+https://github.com/rust-lang/crates.io-index)",
 "forked 0.2.0 (git+https://github.com/acme/forked?branch=main#0123456789abcdef0123456789abcdef01234567)",
]

[[package]]
name = "dep"
version = "1.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "forked"
version = "0.2.0"
source = "git+https://github.com/acme/forked?branch=main#0123456789abcdef0123456789abcdef01234567"

[metadata]
"checksum dep 1.0.0 (registry+https://github.com/rust-lang/crates.io-index)" = "4d329c75e7ec1725f7c9ce917a8799d408d06be34d329c75e7ec1725f7c9ce91"
"#;

#[test]
fn version_1_lock_files_with_metadata_checksums_and_git_sources() {
    let manifest = "[package]\nname = \"app\"\nversion = \"0.1.0\"\n";
    let sbom = from_cargo(
        &CargoInput::new(V1).with_manifest(manifest),
        Timestamp::from_unix(0),
    )
    .unwrap();
    let dep = sbom.component("pkg:cargo/dep@1.0.0").unwrap();
    assert_eq!(
        dep.hashes[0].hex(),
        "4d329c75e7ec1725f7c9ce917a8799d408d06be34d329c75e7ec1725f7c9ce91"
    );
    let forked = sbom.components.iter().find(|c| c.name == "forked").unwrap();
    assert_eq!(
        forked.purl.as_ref().map(|p| p.as_str()),
        Some(
            "pkg:cargo/forked@0.2.0?vcs_url=git%2Bhttps://github.com/acme/forked%400123456789abcdef0123456789abcdef01234567"
        )
    );
    assert!(
        matches!(&forked.source, SourceKind::Git { revision: Some(r), .. } if r.starts_with("0123"))
    );
    assert_eq!(sbom.dependencies["pkg:cargo/app@0.1.0"].len(), 2);
}

#[test]
fn virtual_workspaces_and_other_registries() {
    let lock = r#"
version = 3
[[package]]
name = "member-a"
version = "0.1.0"
dependencies = ["internal"]
[[package]]
name = "member-b"
version = "0.2.0"
[[package]]
name = "internal"
version = "2.0.0"
source = "sparse+https://crates.acme.example/index/"
checksum = "4d329c75e7ec1725f7c9ce917a8799d408d06be34d329c75e7ec1725f7c9ce91"
"#;
    let manifest = "[workspace]\nmembers = [\"a\", \"b\"]\n[workspace.package]\nversion = \"3.1.0\"\nlicense = \"MIT\"\n";
    let sbom = from_cargo(
        &CargoInput::new(lock).with_manifest(manifest),
        Timestamp::from_unix(0),
    )
    .unwrap();
    assert_eq!(sbom.root.name, "workspace");
    assert_eq!(sbom.root.version, "3.1.0");
    assert_eq!(
        sbom.dependencies[&sbom.root.bom_ref].len(),
        2,
        "the root depends on both members"
    );
    let internal = sbom
        .components
        .iter()
        .find(|c| c.name == "internal")
        .unwrap();
    assert_eq!(
        internal.purl.as_ref().map(|p| p.as_str()),
        Some("pkg:cargo/internal@2.0.0?repository_url=https://crates.acme.example/index/")
    );
    assert_eq!(
        purl("a b", "1.0.0+build", &SourceKind::Path)
            .unwrap()
            .as_str(),
        "pkg:cargo/a%20b@1.0.0%2Bbuild"
    );
}

#[test]
fn cargo_metadata_adds_licenses_and_marks_dev_only_packages() {
    let lock = r#"
version = 4
[[package]]
name = "app"
version = "0.1.0"
dependencies = ["dep", "devonly"]
[[package]]
name = "dep"
version = "1.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
[[package]]
name = "devonly"
version = "1.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#;
    let metadata = r#"{"packages":[
      {"name":"app","version":"0.1.0","id":"path+file:///app#0.1.0","license":"MIT","authors":["Ana <ana@acme.example>"]},
      {"name":"dep","version":"1.0.0","id":"registry+https://github.com/rust-lang/crates.io-index#dep@1.0.0","license":"MIT OR Apache-2.0","description":"A dep"},
      {"name":"devonly","version":"1.0.0","id":"registry+https://github.com/rust-lang/crates.io-index#devonly@1.0.0","license":"Apache-2.0"}],
      "resolve":{"root":"path+file:///app#0.1.0","nodes":[
        {"id":"path+file:///app#0.1.0","deps":[
          {"pkg":"registry+https://github.com/rust-lang/crates.io-index#dep@1.0.0","dep_kinds":[{"kind":null}]},
          {"pkg":"registry+https://github.com/rust-lang/crates.io-index#devonly@1.0.0","dep_kinds":[{"kind":"dev"}]}]},
        {"id":"registry+https://github.com/rust-lang/crates.io-index#dep@1.0.0","deps":[]},
        {"id":"registry+https://github.com/rust-lang/crates.io-index#devonly@1.0.0","deps":[]}]}}"#;
    let manifest = "[package]\nname = \"app\"\nversion = \"0.1.0\"\n";
    let sbom = from_cargo(
        &CargoInput::new(lock)
            .with_manifest(manifest)
            .with_metadata(metadata),
        Timestamp::from_unix(0),
    )
    .unwrap();
    let dep = sbom.component("pkg:cargo/dep@1.0.0").unwrap();
    assert_eq!(
        dep.license.as_ref().map(ToString::to_string).as_deref(),
        Some("MIT OR Apache-2.0")
    );
    assert_eq!(dep.scope, Scope::Required);
    assert_eq!(
        sbom.component("pkg:cargo/devonly@1.0.0").unwrap().scope,
        Scope::Excluded
    );
    assert_eq!(
        sbom.root.supplier.as_deref(),
        Some("Ana <ana@acme.example>")
    );
}

#[test]
fn malformed_lock_files_are_typed_errors() {
    for (lock, mention) in [
        ("[[package]]\nname = \"a\"\n", "version"),
        ("version = 9\n", "version 9"),
        (
            "[[package]]\nname = \"a\"\nversion = \"1\"\ndependencies = [\"missing\"]\n",
            "names no locked package",
        ),
        (
            "[[package]]\nname = \"a\"\nversion = \"1\"\nsource = \"registry+x\"\nchecksum = \"zz\"\n",
            "checksum",
        ),
        ("not toml ===", "Cargo.lock"),
    ] {
        let err = from_cargo(&CargoInput::new(lock), Timestamp::from_unix(0)).unwrap_err();
        assert!(err.to_string().contains(mention), "{lock:?}: {err}");
    }
}
