//! SBOMs of compiled binaries from their `cargo auditable` data
//! (`custodia::sbom::binary`, feature `auditable`).
//!
//! * A small workspace built here with `cargo auditable build` (cargo-auditable
//!   from crates.io; `.ci/run` installs it): the binary's SBOM has exactly
//!   the packages and edges of the lock file's graph of that binary, minus
//!   its dev-dependency, and the difference from the lock-file SBOM names
//!   the dev-dependency and the other binary's crates. Without
//!   cargo-auditable the test says SKIPPED locally and fails under CI.
//! * A binary without the data, a file that is no binary, truncated,
//!   oversized (zlib bomb) and corrupted sections are refused with typed
//!   errors, never a panic (WebAssembly modules made here carry the
//!   section; the fuzz target `sbom_binary` does the rest).
#![cfg(feature = "auditable")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use custodia::digest::DigestAlgorithm;
use custodia::error::SbomError;
use custodia::sbom::binary::{Limits, audit_json, compare, from_audit_json, from_binary};
use custodia::sbom::cargo::{CargoInput, from_cargo};
use custodia::sbom::{Scope, cyclonedx, spdx3};
use custodia::time::Timestamp;

fn time() -> Timestamp {
    Timestamp::from_unix(1_714_564_800)
}

fn sbom_error(err: custodia::Error) -> SbomError {
    match err {
        custodia::Error::Sbom(e) => e,
        other => panic!("not an SBOM error: {other:?}"),
    }
}

// ------------------------------------------------- a real auditable build

fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

fn path_with_cargo_bin() -> OsString {
    let bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|home| home.join("bin"));
    let rest = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = bin
        .into_iter()
        .chain(std::env::split_paths(&rest))
        .collect();
    std::env::join_paths(dirs).unwrap()
}

fn have_cargo_auditable() -> bool {
    let ok = Command::new(cargo())
        .args(["auditable", "--version"])
        .env("PATH", path_with_cargo_bin())
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the cargo-auditable test: cargo install --locked cargo-auditable"
        );
        eprintln!(
            "SKIPPED: cargo-auditable not installed (cargo install --locked cargo-auditable)"
        );
    }
    ok
}

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn member(dir: &Path, name: &str, kind: &str, deps: &str, extra: &str, code: &str) {
    write(
        dir,
        &format!("{name}/Cargo.toml"),
        &format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\nlicense = \"MIT\"\n\n[dependencies]\n{deps}\n{extra}"
        ),
    );
    let file = if kind == "bin" {
        "src/main.rs"
    } else {
        "src/lib.rs"
    };
    write(dir, &format!("{name}/{file}"), code);
}

/// A workspace: `app` (binary) -> `corelib` -> `helper`, `app` -> `itoa`
/// (crates.io), `app` builds with `buildhelper` (a build-dependency) and
/// tests with `devonly` (a dev-dependency); `othertool` (another binary)
/// -> `otherlib`.
fn workspace(dir: &Path) {
    write(
        dir,
        "Cargo.toml",
        "[workspace]\nresolver = \"2\"\nmembers = [\"app\", \"corelib\", \"helper\", \"buildhelper\", \"devonly\", \"othertool\", \"otherlib\"]\n",
    );
    member(
        dir,
        "app",
        "bin",
        "corelib = { path = \"../corelib\" }\nitoa = \"1\"",
        "[build-dependencies]\nbuildhelper = { path = \"../buildhelper\" }\n\n[dev-dependencies]\ndevonly = { path = \"../devonly\" }\n",
        "fn main() { let mut b = itoa::Buffer::new(); println!(\"{} {}\", corelib::answer(), b.format(7)); }\n",
    );
    write(dir, "app/build.rs", "fn main() { buildhelper::note(); }\n");
    member(
        dir,
        "corelib",
        "lib",
        "helper = { path = \"../helper\" }",
        "",
        "pub fn answer() -> u32 { helper::base() + 1 }\n",
    );
    member(
        dir,
        "helper",
        "lib",
        "",
        "",
        "pub fn base() -> u32 { 41 }\n",
    );
    member(dir, "buildhelper", "lib", "", "", "pub fn note() {}\n");
    member(dir, "devonly", "lib", "", "", "pub fn check() {}\n");
    member(
        dir,
        "othertool",
        "bin",
        "otherlib = { path = \"../otherlib\" }",
        "",
        "fn main() { otherlib::run(); }\n",
    );
    member(dir, "otherlib", "lib", "", "", "pub fn run() {}\n");
}

fn run(dir: &Path, args: &[&str]) {
    let out = Command::new(cargo())
        .args(args)
        .current_dir(dir)
        .env("PATH", path_with_cargo_bin())
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo {args:?}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_cargo_auditable_binary_has_the_lock_file_graph_of_that_binary() {
    if !have_cargo_auditable() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    workspace(dir);
    // Offline: itoa comes from the local registry cache (this crate's own
    // dependency tree has it); fall back to the network when it is not.
    if Command::new(cargo())
        .args(["generate-lockfile", "--offline"])
        .current_dir(dir)
        .status()
        .is_ok_and(|s| s.success())
    {
        run(
            dir,
            &[
                "auditable",
                "build",
                "--offline",
                "-p",
                "app",
                "-p",
                "othertool",
            ],
        );
    } else {
        run(dir, &["auditable", "build", "-p", "app", "-p", "othertool"]);
    }
    let exe = dir
        .join("target/debug")
        .join(format!("app{}", std::env::consts::EXE_SUFFIX));
    let bytes = std::fs::read(&exe).unwrap();

    let binary = from_binary(&bytes, Limits::default(), time()).unwrap();
    binary.validate().unwrap();
    assert_eq!(binary.root.name, "app");
    assert_eq!(
        binary.root.hashes,
        vec![DigestAlgorithm::Sha256.hash(&bytes)],
        "the root names the binary by digest"
    );
    let names: BTreeSet<&str> = binary.components.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        BTreeSet::from(["buildhelper", "corelib", "helper", "itoa"])
    );
    let build = binary
        .components
        .iter()
        .find(|c| c.name == "buildhelper")
        .unwrap();
    assert_eq!(
        build.scope,
        Scope::Excluded,
        "build-only: not in the binary"
    );
    let itoa = binary.components.iter().find(|c| c.name == "itoa").unwrap();
    assert_eq!(
        itoa.purl.as_ref().map(|p| p.as_str()),
        Some(format!("pkg:cargo/itoa@{}", itoa.version).as_str())
    );

    // Against the lock file: the same graph, up to what the lock file has
    // and the binary does not.
    let lock = std::fs::read_to_string(dir.join("Cargo.lock")).unwrap();
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    let lock_sbom = from_cargo(&CargoInput::new(&lock).with_manifest(&manifest), time()).unwrap();
    let d = compare(&binary, &lock_sbom);
    assert!(d.only_in_binary.is_empty(), "{d:?}");
    assert!(d.edges_only_in_binary.is_empty(), "{d:?}");
    assert!(d.edges_only_in_lock.is_empty(), "{d:?}");
    assert_eq!(
        d.only_in_lock_graph,
        BTreeSet::from(["devonly@0.1.0".to_owned()]),
        "the dev-dependency is locked but not built in"
    );
    assert_eq!(
        d.outside_root_graph,
        BTreeSet::from(["otherlib@0.1.0".to_owned(), "othertool@0.1.0".to_owned()]),
    );
    assert!(!d.is_same_graph());

    // The binary's SBOM writes and reads back in the new formats.
    let back = spdx3::from_json(&spdx3::to_json(&binary).unwrap()).unwrap();
    assert_eq!(back.components.len(), binary.components.len());
    let cdx = cyclonedx::to_json(&binary, cyclonedx::CycloneDxVersion::V1_7).unwrap();
    assert_eq!(
        cyclonedx::from_json(&cdx).unwrap().components.len(),
        binary.components.len()
    );

    // Truncated binaries are refused, never a panic.
    for keep in [16, 64, bytes.len() / 3, bytes.len() / 2, bytes.len() - 1] {
        if let Err(e) = from_binary(&bytes[..keep], Limits::default(), time()) {
            assert!(matches!(
                sbom_error(e),
                SbomError::MalformedBinary
                    | SbomError::NoAuditData
                    | SbomError::CorruptAuditData
                    | SbomError::Invalid { .. }
            ));
        }
    }
    // The binary over the size limit.
    let small = Limits::new(bytes.len() - 1, 8 << 20, 100);
    assert_eq!(
        sbom_error(from_binary(&bytes, small, time()).unwrap_err()),
        SbomError::TooLarge {
            what: "binary",
            limit: bytes.len() - 1
        }
    );
}

// -------------------------------------------- made-up WebAssembly modules

fn leb128(mut n: usize, out: &mut Vec<u8>) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// A WebAssembly module with one custom section `name` holding `payload`.
fn wasm(name: &str, payload: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    leb128(name.len(), &mut body);
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(payload);
    let mut out = b"\0asm\x01\0\0\0".to_vec();
    out.push(0); // custom section
    leb128(body.len(), &mut out);
    out.extend(body);
    out
}

fn zlib(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 7)
}

const AUDIT: &str = r#"{"packages":[
  {"name":"app","version":"0.1.0","source":"local","dependencies":[1,2],"root":true},
  {"name":"itoa","version":"1.0.15","source":"crates.io"},
  {"name":"forked","version":"0.2.0","source":"git","kind":"build"}
]}"#;

#[test]
fn audit_data_maps_to_the_model() {
    let module = wasm(".dep-v0", &zlib(AUDIT.as_bytes()));
    assert_eq!(audit_json(&module, Limits::default()).unwrap(), AUDIT);
    let sbom = from_binary(&module, Limits::default(), time()).unwrap();
    sbom.validate().unwrap();
    assert_eq!(
        sbom.root.purl.as_ref().map(|p| p.as_str()),
        Some("pkg:cargo/app@0.1.0")
    );
    assert_eq!(
        sbom.root.hashes,
        vec![DigestAlgorithm::Sha256.hash(&module)]
    );
    let itoa = sbom.component("pkg:cargo/itoa@1.0.15").unwrap();
    assert_eq!(itoa.scope, Scope::Required);
    // git: no purl (the data has no URL), build-only.
    let forked = sbom.component("forked@0.2.0").unwrap();
    assert_eq!(forked.purl, None);
    assert_eq!(forked.scope, Scope::Excluded);
    assert_eq!(sbom.dependencies["pkg:cargo/app@0.1.0"].len(), 2);
}

#[test]
fn bad_binaries_and_bad_data_are_refused_by_kind() {
    let limits = Limits::default();
    let err = |bytes: &[u8]| sbom_error(from_binary(bytes, limits, time()).unwrap_err());
    // Not a binary at all.
    assert_eq!(err(b"#!/bin/sh\necho hello\n"), SbomError::MalformedBinary);
    // A real executable without the data: this test binary.
    let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
    assert_eq!(err(&me), SbomError::NoAuditData);
    // A module without the section.
    assert_eq!(err(&wasm("other", b"x")), SbomError::NoAuditData);
    // Truncated: the section claims more bytes than the file has.
    let good = wasm(".dep-v0", &zlib(AUDIT.as_bytes()));
    for keep in 9..good.len() {
        let e = err(&good[..keep]);
        assert!(
            matches!(
                e,
                SbomError::MalformedBinary | SbomError::NoAuditData | SbomError::CorruptAuditData
            ),
            "{keep}: {e:?}"
        );
    }
    // Corrupted: not zlib, or zlib of something that is not UTF-8.
    assert_eq!(
        err(&wasm(".dep-v0", b"not zlib")),
        SbomError::CorruptAuditData
    );
    let mut flipped = zlib(AUDIT.as_bytes());
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0xff;
    assert!(matches!(
        err(&wasm(".dep-v0", &flipped)),
        SbomError::CorruptAuditData | SbomError::Invalid { .. }
    ));
    assert_eq!(
        err(&wasm(".dep-v0", &zlib(&[0xff, 0xfe, 0xfd]))),
        SbomError::CorruptAuditData
    );
    // Oversized: a zlib bomb (64 MiB of spaces in a few KiB) stops at the
    // limit.
    let bomb = zlib(&vec![b' '; 64 << 20]);
    assert!(bomb.len() < 128 << 10);
    assert_eq!(
        err(&wasm(".dep-v0", &bomb)),
        SbomError::TooLarge {
            what: "audit data",
            limit: limits.audit_bytes
        }
    );
    // A compressed section over the limit is refused before inflating.
    let tiny = Limits::new(1 << 30, 16, 10);
    assert_eq!(
        sbom_error(from_binary(&good, tiny, time()).unwrap_err()),
        SbomError::TooLarge {
            what: "compressed audit data",
            limit: 16
        }
    );
}

#[test]
fn audit_json_is_checked_with_paths() {
    let limits = Limits::default();
    let path_of = |json: &str| match sbom_error(
        from_audit_json(json.as_bytes(), limits, time()).unwrap_err(),
    ) {
        SbomError::Invalid { path, .. } => path,
        other => panic!("{other:?}"),
    };
    let root = r#"{"name":"app","version":"1.0.0","source":"local","root":true"#;
    assert_eq!(
        path_of(&format!(r#"{{"packages":[{root},"dependencies":[5]}}]}}"#)),
        "packages[0].dependencies[0]"
    );
    assert_eq!(
        path_of(&format!(r#"{{"packages":[{root},"dependencies":[0]}}]}}"#)),
        "packages[0].dependencies[0]"
    );
    assert_eq!(
        path_of(&format!(r#"{{"packages":[{root}}},{root}}}]}}"#)),
        "packages[1]"
    );
    assert_eq!(
        path_of(r#"{"packages":[{"name":"app","version":"1.0.0","source":"local"}]}"#),
        "packages"
    );
    assert_eq!(
        path_of(r#"{"packages":[{"name":"a b","version":"1","source":"local","root":true}]}"#),
        "packages[0].name"
    );
    assert_eq!(
        path_of(&format!(
            r#"{{"packages":[{root}}},{{"name":"x","version":"1.0.0","source":"local","root":true}}]}}"#
        )),
        "packages[1].root"
    );
    // Too many packages.
    let few = Limits::new(1 << 20, 1 << 20, 1);
    let two =
        format!(r#"{{"packages":[{root}}},{{"name":"x","version":"1.0.0","source":"local"}}]}}"#);
    assert!(matches!(
        sbom_error(from_audit_json(two.as_bytes(), few, time()).unwrap_err()),
        SbomError::Invalid { .. }
    ));
    // Duplicate keys are a JSON error.
    assert!(matches!(
        from_audit_json(br#"{"packages":[],"packages":[]}"#, limits, time()).unwrap_err(),
        custodia::Error::Json(_)
    ));
}
