//! `attest sbom` with the issue 17 formats and inputs: CycloneDX 1.7 and
//! SPDX 3.0.1 documents of this repository are reproducible and list every
//! locked package; an SPDX 3 statement signs and verifies with predicate
//! type `https://spdx.dev/Document/v3`; `--binary` reads `cargo auditable`
//! data (a WebAssembly module made here) and refuses files without it with
//! exit 2.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod cli_support;
use std::path::Path;

use cli_support::{bins, run_env};

const EPOCH: [(&str, &str); 1] = [("SOURCE_DATE_EPOCH", "1700000000")];

#[test]
fn new_formats_are_reproducible_and_complete() {
    let b = bins();
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lock = root.join("Cargo.lock").display().to_string();
    let manifest = root.join("Cargo.toml").display().to_string();
    let locked = std::fs::read_to_string(root.join("Cargo.lock"))
        .unwrap()
        .matches("[[package]]")
        .count();
    for format in ["cyclonedx-1.7-json", "spdx-3-json"] {
        let args = |out: &str| {
            [
                "sbom",
                "--lockfile",
                &lock,
                "--manifest",
                &manifest,
                "--format",
                format,
                "-o",
                out,
            ]
            .map(str::to_owned)
        };
        run_env(&b.attest, dir.path(), args("a.json"), &EPOCH).ok();
        run_env(&b.attest, dir.path(), args("b.json"), &EPOCH).ok();
        let a = std::fs::read(dir.path().join("a.json")).unwrap();
        assert_eq!(
            a,
            std::fs::read(dir.path().join("b.json")).unwrap(),
            "{format}"
        );
        let doc: serde_json::Value = serde_json::from_slice(&a).unwrap();
        let packages = if format.starts_with("cyclonedx") {
            assert_eq!(doc["specVersion"], "1.7");
            doc["components"].as_array().unwrap().len() + 1
        } else {
            doc["@graph"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|n| n["type"] == "software_Package")
                .count()
        };
        assert_eq!(packages, locked, "{format}: every locked package");
    }

    // An SPDX 3 statement, signed and verified as that predicate type.
    std::fs::write(dir.path().join("app"), b"the app").unwrap();
    run_env(
        &b.attest,
        dir.path(),
        ["keygen", "--algorithm", "ed25519", "--out", "k"],
        &[],
    )
    .ok();
    run_env(
        &b.attest,
        dir.path(),
        [
            "sbom",
            "--lockfile",
            &lock,
            "--format",
            "spdx-3-json",
            "--subject",
            "app",
            "-o",
            "st.json",
        ],
        &EPOCH,
    )
    .ok();
    run_env(
        &b.attest,
        dir.path(),
        [
            "sign", "--key", "k.key", "--in", "st.json", "-o", "env.json",
        ],
        &[],
    )
    .ok();
    run_env(
        &b.verifier,
        dir.path(),
        [
            "envelope",
            "--in",
            "env.json",
            "--key",
            "k.pub",
            "--artifact",
            "app",
            "--predicate-type",
            "https://spdx.dev/Document/v3",
        ],
        &[],
    )
    .ok();
}

#[cfg(feature = "auditable")]
#[test]
fn binary_input() {
    let b = bins();
    let dir = tempfile::tempdir().unwrap();
    // A WebAssembly module whose `.dep-v0` section holds audit data.
    let audit = br#"{"packages":[{"name":"app","version":"0.1.0","source":"local","dependencies":[1],"root":true},{"name":"itoa","version":"1.0.15","source":"crates.io"}]}"#;
    let payload = miniz_oxide::deflate::compress_to_vec_zlib(audit, 7);
    let mut body = vec![7u8];
    body.extend_from_slice(b".dep-v0");
    body.extend_from_slice(&payload);
    assert!(body.len() < 128);
    let mut module = b"\0asm\x01\0\0\0\0".to_vec();
    module.push(u8::try_from(body.len()).unwrap());
    module.extend(body);
    std::fs::write(dir.path().join("app.wasm"), &module).unwrap();
    run_env(
        &b.attest,
        dir.path(),
        [
            "sbom",
            "--binary",
            "app.wasm",
            "--format",
            "cyclonedx-1.7-json",
            "-o",
            "bom.json",
        ],
        &EPOCH,
    )
    .ok();
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("bom.json")).unwrap()).unwrap();
    assert_eq!(doc["metadata"]["component"]["name"], "app");
    assert_eq!(
        doc["metadata"]["component"]["hashes"][0]["content"],
        custodia::digest::DigestAlgorithm::Sha256
            .hash(&module)
            .hex()
    );
    assert_eq!(doc["components"][0]["purl"], "pkg:cargo/itoa@1.0.15");

    // No data, not a binary, missing file: exit 2 with a reason.
    std::fs::write(dir.path().join("script.sh"), "#!/bin/sh\n").unwrap();
    let plain = std::env::current_exe().unwrap().display().to_string();
    for input in [plain.as_str(), "script.sh", "missing"] {
        run_env(
            &b.attest,
            dir.path(),
            ["sbom", "--binary", input, "--format", "spdx-3-json"],
            &[],
        )
        .fails_one_line(2, "");
    }
}
