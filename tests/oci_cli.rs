//! The command line for container images: `attest digest --oci-layout`,
//! `attest attach`, `verifier oci`, on image layouts (and, with the
//! `oci-registry` feature, a real registry on loopback): success, refusal
//! and malformed input, each with its exit code and a one-line reason.
#![cfg(feature = "oci")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod cli_support;
#[cfg(feature = "oci-registry")]
mod oci_common;

use std::fs;
use std::path::{Path, PathBuf};

use cli_support::{Out, bins, run_env};
use custodia::digest::DigestSet;
use custodia::oci::{ImageBuilder, Layout};
use custodia::resource::ResourceDescriptor;
use custodia::statement::Statement;

const PROVENANCE: &str = "https://slsa.dev/provenance/v1";

fn attest(dir: &Path, args: &[&str]) -> Out {
    run_env(&bins().attest, dir, args, &[])
}

fn verifier(dir: &Path, args: &[&str]) -> Out {
    run_env(&bins().verifier, dir, args, &[])
}

/// A work directory with a key pair and an image layout `image` holding
/// `v1`; returns the image digest.
fn setup(dir: &Path) -> String {
    attest(
        dir,
        &["keygen", "--algorithm", "ed25519", "--out", "builder"],
    )
    .ok();
    let layout = Layout::create(dir.join("image")).unwrap();
    ImageBuilder::new()
        .file("app", b"#!/bin/sh\necho hi\n")
        .write_to(&layout, "v1")
        .unwrap();
    layout
        .identity(Some("v1"))
        .unwrap()
        .descriptor
        .digest
        .to_string()
}

/// A signed statement about `digest` (sha256:<hex>), written to `name`.
fn envelope(dir: &Path, digest: &str, predicate_type: &str, name: &str) -> PathBuf {
    let hex = digest.strip_prefix("sha256:").unwrap();
    let mut set = DigestSet::new();
    set.insert_raw("sha256", hex).unwrap();
    let statement = Statement::new_untyped(
        vec![ResourceDescriptor::new("registry.example/app", set)],
        predicate_type,
        serde_json::json!({"builder": "ci"}),
    )
    .unwrap();
    let unsigned = dir.join(format!("{name}.statement.json"));
    fs::write(&unsigned, statement.to_json().unwrap()).unwrap();
    attest(
        dir,
        &[
            "sign",
            "--key",
            "builder.key",
            "--in",
            unsigned.to_str().unwrap(),
            "-o",
            name,
        ],
    )
    .ok();
    dir.join(name)
}

#[test]
fn digest_of_an_image_in_a_layout() {
    let dir = tempfile::tempdir().unwrap();
    let digest = setup(dir.path());
    let out = attest(dir.path(), &["digest", "--oci-layout", "image:v1"]);
    out.ok_quiet();
    assert_eq!(out.stdout, format!("{digest}  image:v1\n"));
    // The only image in the layout needs no name; by digest works too.
    let out = attest(dir.path(), &["digest", "--oci-layout", "image"]);
    assert_eq!(out.stdout, format!("{digest}  image\n"));
    let by_digest = format!("image@{digest}");
    let out = attest(dir.path(), &["digest", "--oci-layout", &by_digest]);
    assert!(out.stdout.starts_with(&digest), "{out:#?}");

    // A real multi-platform layout: the index digest, then the platform's.
    let real = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance/oci/image-layout-slsa-verifier");
    let expected = fs::read_to_string(real.join("image.digest")).unwrap();
    let out = attest(
        dir.path(),
        &["digest", "--oci-layout", real.to_str().unwrap()],
    );
    out.ok_quiet();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{out:#?}");
    assert!(lines[0].starts_with(expected.trim()), "{out:#?}");
    assert!(
        lines[1]
            .starts_with("sha256:d1fc0de9c6a33e502c488221644de1736c53d8ddb59b0e41b4946fb26af50e69")
            && lines[1].ends_with("(linux/amd64)"),
        "{out:#?}"
    );
}

#[test]
fn digest_refuses_bad_layouts_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    attest(dir.path(), &["digest", "--oci-layout", "image:v2"]).fails_one_line(2, "no image `v2`");
    attest(dir.path(), &["digest", "--oci-layout", "missing:v1"]).fails_one_line(2, "missing");
    fs::write(
        dir.path().join("image/index.json"),
        b"{\"schemaVersion\":2,",
    )
    .unwrap();
    attest(dir.path(), &["digest", "--oci-layout", "image:v1"]).fails_one_line(2, "index.json");
    // Paths and the layout are exclusive.
    let out = attest(dir.path(), &["digest", "--oci-layout", "image:v1", "file"]);
    assert_eq!(out.code, 2, "{out:#?}");
}

#[test]
fn attach_then_verify_in_a_layout() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let digest = setup(d);
    envelope(d, &digest, PROVENANCE, "provenance.intoto.json");
    envelope(d, &digest, "https://cyclonedx.org/bom", "sbom.intoto.json");

    let out = attest(
        d,
        &[
            "attach",
            "--oci-layout",
            "image:v1",
            "--envelope",
            "provenance.intoto.json",
            "sbom.intoto.json",
        ],
    );
    out.ok_quiet();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{out:#?}");
    assert!(
        lines[0].contains(&format!("attached to {digest} ({PROVENANCE})")),
        "{out:#?}"
    );

    let out = verifier(
        d,
        &[
            "oci",
            "--oci-layout",
            "image:v1",
            "--key",
            "builder.pub",
            "--predicate-type",
            PROVENANCE,
        ],
    );
    out.ok_quiet();
    assert!(out.stdout.contains("VERIFIED"), "{out:#?}");
    let out = verifier(
        d,
        &[
            "oci",
            "--oci-layout",
            "image:v1",
            "--key",
            "builder.pub",
            "--predicate-type",
            "https://cyclonedx.org/bom",
            "--format",
            "json",
        ],
    );
    out.ok();
    assert_eq!(out.json()["verified"], true);
    assert_eq!(out.check("subject")["passed"], true);
    assert!(
        out.check("image")["reason"]
            .as_str()
            .unwrap()
            .contains(&digest)
    );
}

#[test]
fn verify_refuses_what_does_not_hold() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let digest = setup(d);
    envelope(d, &digest, PROVENANCE, "provenance.intoto.json");
    attest(
        d,
        &[
            "attach",
            "--oci-layout",
            "image:v1",
            "--envelope",
            "provenance.intoto.json",
        ],
    )
    .ok();
    // Nothing of that predicate type is attached.
    verifier(
        d,
        &[
            "oci",
            "--oci-layout",
            "image:v1",
            "--key",
            "builder.pub",
            "--predicate-type",
            "https://example.com/other",
        ],
    )
    .fails_one_line(1, "no attached `https://example.com/other` attestation");
    // Signed by a key that is not trusted.
    attest(
        d,
        &["keygen", "--algorithm", "ed25519", "--out", "stranger"],
    )
    .ok();
    verifier(
        d,
        &[
            "oci",
            "--oci-layout",
            "image:v1",
            "--key",
            "stranger.pub",
            "--predicate-type",
            PROVENANCE,
        ],
    )
    .fails_one_line(1, "none verified");
    // Another image in the same layout has no attestations.
    let layout = Layout::open(d.join("image")).unwrap();
    ImageBuilder::new()
        .file("app", b"rebuilt")
        .write_to(&layout, "v2")
        .unwrap();
    verifier(
        d,
        &[
            "oci",
            "--oci-layout",
            "image:v2",
            "--key",
            "builder.pub",
            "--predicate-type",
            PROVENANCE,
        ],
    )
    .fails_one_line(1, "no attached");
    // Missing source, malformed key.
    let out = verifier(
        d,
        &[
            "oci",
            "--key",
            "builder.pub",
            "--predicate-type",
            PROVENANCE,
        ],
    );
    assert_eq!(out.code, 2, "{out:#?}");
    fs::write(d.join("bad.pub"), b"not a key").unwrap();
    verifier(
        d,
        &[
            "oci",
            "--oci-layout",
            "image:v1",
            "--key",
            "bad.pub",
            "--predicate-type",
            PROVENANCE,
        ],
    )
    .fails_one_line(2, "bad.pub");
}

#[test]
fn attach_refuses_envelopes_about_something_else_and_malformed_ones() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d);
    let other = format!(
        "sha256:{}",
        custodia::digest::DigestAlgorithm::Sha256
            .hash(b"other")
            .hex()
    );
    envelope(d, &other, PROVENANCE, "other.intoto.json");
    attest(
        d,
        &[
            "attach",
            "--oci-layout",
            "image:v1",
            "--envelope",
            "other.intoto.json",
        ],
    )
    .fails_one_line(2, "not about this image");
    fs::write(d.join("broken.json"), b"{\"payload\":").unwrap();
    attest(
        d,
        &[
            "attach",
            "--oci-layout",
            "image:v1",
            "--envelope",
            "broken.json",
        ],
    )
    .fails_one_line(2, "broken.json");
    // Nothing was attached.
    let layout = Layout::open(d.join("image")).unwrap();
    let image = layout.identity(Some("v1")).unwrap();
    assert!(
        layout
            .referrers(
                &image.descriptor.digest,
                &custodia::oci::ReferrerFilter::any()
            )
            .unwrap()
            .is_empty()
    );
}

#[cfg(not(feature = "oci-registry"))]
#[test]
fn registry_needs_the_feature() {
    let dir = tempfile::tempdir().unwrap();
    verifier(
        dir.path(),
        &[
            "oci",
            "--registry",
            "127.0.0.1:1/app:v1",
            "--key",
            "k.pub",
            "--predicate-type",
            PROVENANCE,
        ],
    )
    .fails(2, "");
}

/// With the registry client: the same commands against a real registry.
#[cfg(feature = "oci-registry")]
mod registry {
    use super::*;

    use super::oci_common;

    /// Builds attest and verifier with `oci-registry` into `target_dir`
    /// (the default one when `None`) and copies them into `keep`.
    fn build_into(target_dir: Option<&Path>, keep: &Path) -> (PathBuf, PathBuf) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut command = std::process::Command::new(env!("CARGO"));
        command.current_dir(root).args([
            "build",
            "--features",
            "oci-registry",
            "--example",
            "attest",
            "--example",
            "verifier",
            "--message-format=json-render-diagnostics",
        ]);
        if let Some(dir) = target_dir {
            command.arg("--target-dir").arg(dir);
        }
        let output = command
            .stderr(std::process::Stdio::inherit())
            .output()
            .unwrap();
        assert!(output.status.success());
        let mut found = (None, None);
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let Some(exe) = msg["executable"].as_str() else {
                continue;
            };
            let name = msg["target"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let copy = keep.join(&name);
            fs::copy(exe, &copy).unwrap();
            match name.as_str() {
                "attest" => found.0 = Some(copy),
                "verifier" => found.1 = Some(copy),
                _ => {}
            }
        }
        (found.0.unwrap(), found.1.unwrap())
    }

    /// attest and verifier built with `oci-registry`, copied out of the
    /// target directory (the default-feature build of the other tests
    /// shares its file names). If a copy turns out to be a default-feature
    /// binary (another cargo process re-linked the default build in
    /// between), they are built again in a target directory of their own.
    fn registry_bins() -> &'static (PathBuf, PathBuf) {
        static BINS: std::sync::OnceLock<(PathBuf, PathBuf)> = std::sync::OnceLock::new();
        BINS.get_or_init(|| {
            let _ = bins();
            let keep = tempfile::tempdir().unwrap().keep();
            let built = build_into(None, &keep);
            let probe = run_env(
                &built.0,
                &keep,
                [
                    "attach",
                    "--registry",
                    "127.0.0.1:9/a:v1",
                    "--envelope",
                    "none",
                ],
                &[],
            );
            run_env(
                &built.0,
                &keep,
                ["keygen", "--algorithm", "ed25519", "--out", "probe"],
                &[],
            )
            .ok();
            let probe_verifier = run_env(
                &built.1,
                &keep,
                [
                    "oci",
                    "--registry",
                    "127.0.0.1:9/a:v1",
                    "--key",
                    "probe.pub",
                    "--predicate-type",
                    "x",
                ],
                &[],
            );
            let default_build = |out: &Out| out.stderr.contains("needs the oci-registry feature");
            if !default_build(&probe) && !default_build(&probe_verifier) {
                return built;
            }
            let own = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/oci-registry-examples");
            build_into(Some(&own), &keep)
        })
    }

    #[test]
    fn attach_then_verify_in_a_registry() {
        let Some(server) = oci_common::RegistryServer::start(None) else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let digest = setup(d);
        let layout = Layout::open(d.join("image")).unwrap();
        let registry = custodia::oci::registry::Registry::new(
            &server.host(),
            "team/app",
            custodia::oci::registry::RegistryOptions::new().plain_http(),
        )
        .unwrap();
        registry
            .push_from_layout(&layout, &layout.resolve(Some("v1")).unwrap(), "v1")
            .unwrap();
        envelope(d, &digest, PROVENANCE, "provenance.intoto.json");
        let (attest_bin, verifier_bin) = registry_bins();
        let place = format!("{}/team/app:v1", server.host());
        let out = run_env(
            attest_bin,
            d,
            [
                "attach",
                "--registry",
                &place,
                "--plain-http",
                "--envelope",
                "provenance.intoto.json",
            ],
            &[],
        );
        out.ok_quiet();
        assert!(out.stdout.contains(&format!("attached to {digest}")));
        let verify = |key: &str| {
            run_env(
                verifier_bin,
                d,
                [
                    "oci",
                    "--registry",
                    &place,
                    "--plain-http",
                    "--key",
                    key,
                    "--predicate-type",
                    PROVENANCE,
                ],
                &[],
            )
        };
        verify("builder.pub").ok_quiet();
        attest(
            d,
            &["keygen", "--algorithm", "ed25519", "--out", "stranger"],
        )
        .ok();
        verify("stranger.pub").fails_one_line(1, "none verified");
        // TLS is the default: without --plain-http the loopback registry
        // (plain HTTP) is not reached.
        let out = run_env(
            verifier_bin,
            d,
            [
                "oci",
                "--registry",
                &place,
                "--key",
                "builder.pub",
                "--predicate-type",
                PROVENANCE,
            ],
            &[],
        );
        out.fails_one_line(2, &server.host());
        // A tag that does not exist.
        let missing = format!("{}/team/app:v9", server.host());
        run_env(
            verifier_bin,
            d,
            [
                "oci",
                "--registry",
                &missing,
                "--plain-http",
                "--key",
                "builder.pub",
                "--predicate-type",
                PROVENANCE,
            ],
            &[],
        )
        .fails_one_line(2, "no image");
    }
}

/// Sigstore bundles on the command line: `attest attach --bundle` refuses a
/// bundle about something else (as it does an envelope), and `verifier oci
/// --trusted-root ... --certificate-identity ...` verifies attached bundles
/// offline: a real keyless bundle attached to the image passes every
/// signer check and is refused on `subject`, since it is not about the
/// image.
#[cfg(feature = "sigstore")]
#[test]
fn sigstore_bundles_attach_and_verify_keyless() {
    use custodia::oci::Attachment;
    const ID: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
    const ISSUER: &str = "https://token.actions.githubusercontent.com";
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sigstore");
    let bundle_path = data.join(
        "sigstore-conformance/bundle-verify/happy-path-intoto-in-dsse-v3/bundle.sigstore.json",
    );
    let root = data.join("trusted_roots/production.trusted_root.json");
    let (bundle_arg, root_arg) = (bundle_path.to_str().unwrap(), root.to_str().unwrap());

    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    setup(dir);
    attest(
        dir,
        &["attach", "--oci-layout", "image:v1", "--bundle", bundle_arg],
    )
    .fails_one_line(2, "not about this image");

    // Attached anyway (through the library), the verifier finds it and
    // says exactly why it does not count.
    let layout = Layout::open(dir.join("image")).unwrap();
    let image = layout.identity(Some("v1")).unwrap();
    layout
        .attach(
            &image.descriptor,
            &Attachment::sigstore_bundle(&fs::read(&bundle_path).unwrap()).unwrap(),
        )
        .unwrap();
    let keyless = [
        "oci",
        "--oci-layout",
        "image:v1",
        "--trusted-root",
        root_arg,
        "--certificate-identity",
        ID,
        "--certificate-oidc-issuer",
        ISSUER,
        "--predicate-type",
        PROVENANCE,
    ];
    let out = verifier(dir, &keyless);
    out.fails_one_line(1, "subject");
    let mut json_args = keyless.to_vec();
    json_args.extend(["--format", "json"]);
    let out = verifier(dir, &json_args);
    let report = out.json();
    let failed = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["passed"] == false)
        .unwrap()
        .clone();
    assert_eq!(failed["name"], "attestation", "{report:#}");
    assert!(
        failed["reason"].as_str().unwrap().contains("subject"),
        "{report:#}"
    );

    // The keys path does not see bundles; flags that don't go together fail as usage.
    verifier(
        dir,
        &[
            "oci",
            "--oci-layout",
            "image:v1",
            "--trusted-root",
            root_arg,
            "--predicate-type",
            PROVENANCE,
        ],
    )
    .fails(2, "certificate-identity");
    verifier(
        dir,
        &[
            "oci",
            "--oci-layout",
            "image:v1",
            "--certificate-identity",
            ID,
            "--certificate-oidc-issuer",
            ISSUER,
            "--predicate-type",
            PROVENANCE,
        ],
    )
    .fails(2, "--trusted-root");
    // A malformed trusted root is an input error naming the file.
    fs::write(dir.join("root.json"), b"{\"mediaType\":").unwrap();
    let mut bad_root = keyless.to_vec();
    bad_root[4] = "root.json";
    verifier(dir, &bad_root).fails_one_line(2, "root.json");
}
