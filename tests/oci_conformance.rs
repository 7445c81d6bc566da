//! OCI conformance (tests/conformance/oci, copied from
//! ../shared/conformance/oci; see SOURCES.md there): the image spec's
//! examples and validation cases, go-digest's parsing cases and real
//! Docker-era documents give their upstream results, and the real image
//! layout from slsa-verifier resolves to the digest recorded with it.
#![cfg(feature = "oci")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod files;

use files::copy_dir;
use std::fs;
use std::path::{Path, PathBuf};

use custodia::Error;
use custodia::digest::DigestAlgorithm;
use custodia::oci::spec::{ImageConfig, LayoutHeader};
use custodia::oci::{
    BlobProblem, Descriptor, DigestProblem, ImageIndex, ImageManifest, Layout, Manifest, MediaType,
    OciDigest, OciError,
};
use serde_json::Value;

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance/oci")
        .join(rel)
}

fn read(rel: &str) -> Vec<u8> {
    fs::read(data(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn json(rel: &str) -> Value {
    serde_json::from_slice(&read(rel)).unwrap()
}

/// Parses `bytes` as the document `media_type` names.
fn parse(media_type: &str, bytes: &[u8]) -> Result<(), Error> {
    match media_type {
        "application/vnd.oci.descriptor.v1+json" => Descriptor::from_json(bytes).map(|_| ()),
        "application/vnd.oci.image.manifest.v1+json" => ImageManifest::from_json(bytes).map(|_| ()),
        "application/vnd.oci.image.index.v1+json" => ImageIndex::from_json(bytes).map(|_| ()),
        "application/vnd.oci.image.config.v1+json" => ImageConfig::from_json(bytes).map(|_| ()),
        "application/vnd.oci.layout.header.v1+json" => LayoutHeader::from_json(bytes).map(|_| ()),
        other => panic!("no parser for {other}"),
    }
}

#[test]
fn go_digest_parse_cases() {
    let cases = json("digest-parse-cases.json");
    let cases = cases["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 17);
    for case in cases {
        let input = case["input"].as_str().unwrap();
        let expected = case["error"].as_str();
        let got = OciDigest::parse_registered(input);
        match expected {
            None => {
                let digest = got.unwrap_or_else(|e| panic!("{input:?}: {e}"));
                assert_eq!(
                    digest.algorithm().name(),
                    case["algorithm"].as_str().unwrap()
                );
                assert_eq!(digest.hex(), case["encoded"].as_str().unwrap());
            }
            Some(error) => {
                let want = match error {
                    "ErrDigestInvalidFormat" => DigestProblem::InvalidFormat,
                    "ErrDigestInvalidLength" => DigestProblem::InvalidLength,
                    "ErrDigestUnsupported" => DigestProblem::Unsupported,
                    other => panic!("unknown upstream error {other}"),
                };
                match got {
                    Err(Error::Oci(OciError::Digest { problem, .. })) => {
                        assert_eq!(problem, want, "{input:?}")
                    }
                    other => panic!("{input:?}: expected {error}, got {other:?}"),
                }
                // Well-formed but unsupported digests still parse as
                // descriptor digests, keeping their parts.
                if let Some(algorithm) = case["algorithm"].as_str() {
                    let d: OciDigest = input.parse().unwrap();
                    assert_eq!(d.algorithm(), algorithm);
                    assert_eq!(d.encoded(), case["encoded"].as_str().unwrap());
                }
            }
        }
    }
}

#[test]
fn image_spec_validation_cases() {
    let cases = json("validation-cases.json");
    let cases = cases["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 65);
    let mut valid = 0;
    let mut zero_layer_warned = 0;
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let media_type = case["mediaType"].as_str().unwrap();
        let text = case["text"].as_str().unwrap();
        let result = parse(media_type, text.as_bytes());
        match case["expect"].as_str().unwrap() {
            "valid" => {
                valid += 1;
                result.unwrap_or_else(|e| panic!("{id} ({}): {e}", case["comment"]));
            }
            // The schema's `minItems: 1` on layers is stricter than the
            // prose ("layers SHOULD have at least one entry"): custodia
            // accepts a zero-layer manifest with a `layers` warning check
            // (tests/oci_zero_layer.rs), so this one case parses.
            "invalid" if id == "manifest-05" => {
                let manifest = custodia::oci::ImageManifest::from_json(text.as_bytes())
                    .unwrap_or_else(|e| panic!("{id}: {e}"));
                let check = manifest.layers_check();
                assert!(manifest.has_no_layers() && check.reason.starts_with("warning:"));
                zero_layer_warned += 1;
            }
            "invalid" => {
                let err = result
                    .err()
                    .unwrap_or_else(|| panic!("{id} ({}) was accepted", case["comment"]));
                // Every refusal is a typed error that says where.
                let message = err.to_string();
                assert!(!message.is_empty(), "{id}");
                assert!(
                    matches!(err, Error::Json(_) | Error::Oci(_)),
                    "{id}: {err:?}"
                );
            }
            other => panic!("{id}: expect {other}"),
        }
    }
    assert_eq!(valid, 25);
    assert_eq!(zero_layer_warned, 1);
}

#[test]
fn validation_errors_name_the_field() {
    let cases = json("validation-cases.json");
    let find = |id: &str| {
        cases["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()["text"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let expect_path = |id: &str, media_type: &str, path: &str| {
        let err = parse(media_type, find(id).as_bytes()).unwrap_err();
        let Error::Json(e) = &err else {
            panic!("{id}: {err:?}")
        };
        assert_eq!(e.path, path, "{id}: {err}");
    };
    expect_path(
        "manifest-02",
        "application/vnd.oci.image.manifest.v1+json",
        "layers[0].size",
    );
    expect_path(
        "imageindex-02",
        "application/vnd.oci.image.index.v1+json",
        "manifests[0]",
    );
    expect_path(
        "config-02",
        "application/vnd.oci.image.config.v1+json",
        "config.User",
    );
    expect_path(
        "descriptor-15",
        "application/vnd.oci.descriptor.v1+json",
        "digest",
    );
    expect_path(
        "descriptor-28",
        "application/vnd.oci.descriptor.v1+json",
        "data",
    );
}

#[test]
fn image_spec_examples_are_valid() {
    let index = json("spec-examples/index.json");
    let files = index["files"].as_array().unwrap();
    assert_eq!(files.len(), 13);
    for f in files {
        let name = f["file"].as_str().unwrap();
        let bytes = read(&format!("spec-examples/{name}"));
        assert_eq!(
            DigestAlgorithm::Sha256.hash(&bytes).hex(),
            f["sha256_of_file"].as_str().unwrap(),
            "{name}"
        );
        assert_eq!(f["expect"], "valid");
        parse(f["mediaType"].as_str().unwrap(), &bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    // The empty descriptor example embeds `{}` and its digest matches ours.
    let empty = Descriptor::from_json(&read("spec-examples/manifest-2.json")).unwrap();
    assert_eq!(empty.data.as_ref().unwrap().bytes(), b"{}");
    assert_eq!(empty.digest, Descriptor::empty().digest);
    assert_eq!(empty.size, Descriptor::empty().size);
}

#[test]
fn docker_era_documents_hash_to_their_recorded_digests() {
    let index = json("digest-bytes/index.json");
    for f in index["files"].as_array().unwrap() {
        let name = f["file"].as_str().unwrap();
        let bytes = read(&format!("digest-bytes/{name}"));
        let digest: OciDigest = f["expected_digest"].as_str().unwrap().parse().unwrap();
        let descriptor_type = if name.starts_with("imageindex") {
            "application/vnd.docker.distribution.manifest.list.v2+json"
        } else if name.starts_with("manifest") {
            "application/vnd.docker.distribution.manifest.v2+json"
        } else {
            "application/vnd.docker.container.image.v1+json"
        };
        let mut descriptor = Descriptor::of_bytes(descriptor_type, &bytes).unwrap();
        assert_eq!(descriptor.digest, digest, "{name}");
        assert_eq!(descriptor.size, f["size"].as_u64().unwrap(), "{name}");
        descriptor.digest = digest;
        if name.starts_with("config") {
            ImageConfig::from_json(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        } else {
            let media_type: MediaType = descriptor_type.parse().unwrap();
            Manifest::from_json(&media_type, &bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}

const REAL_LAYOUT: &str = "image-layout-slsa-verifier";

fn image_digest() -> OciDigest {
    String::from_utf8(read(&format!("{REAL_LAYOUT}/image.digest")))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn real_layout_resolves_to_its_recorded_digest() {
    let layout = Layout::open(data(REAL_LAYOUT)).unwrap();
    let expected = image_digest();
    // No ref names: the one entry that is an image (cosign's `imageIndex`)
    // and not its attestations.
    let identity = layout.identity(None).unwrap();
    assert_eq!(identity.descriptor.digest, expected);
    assert!(identity.is_index());
    assert_eq!(identity.digest().unwrap().to_string(), expected.to_string());
    // By digest too, with or without '@'.
    for reference in [expected.to_string(), format!("@{expected}")] {
        assert_eq!(
            layout.identity(Some(&reference)).unwrap().descriptor.digest,
            expected
        );
    }
    // The index lists the linux/amd64 image and BuildKit's attestation
    // manifest; only the first is a platform manifest.
    assert_eq!(identity.manifests.len(), 2);
    let platforms: Vec<String> = identity
        .platform_manifests()
        .map(|d| format!("{} {}", d.platform.as_ref().unwrap(), d.digest))
        .collect();
    assert_eq!(
        platforms,
        ["linux/amd64 sha256:d1fc0de9c6a33e502c488221644de1736c53d8ddb59b0e41b4946fb26af50e69"]
    );
    assert!(matches!(
        layout.identity(Some("latest")),
        Err(Error::Oci(OciError::NotFound(_)))
    ));
}

#[test]
fn real_layout_verification_names_exactly_the_missing_layers() {
    let expected = json("image-layout-slsa-verifier.json");
    let layout = Layout::open(data(REAL_LAYOUT)).unwrap();
    let verification = layout.verify(None).unwrap();
    let mut want_missing: Vec<String> = expected["descriptors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["present"] == false)
        .map(|d| d["digest"].as_str().unwrap().to_owned())
        .collect();
    want_missing.sort();
    assert_eq!(want_missing.len(), 12);
    let mut missing: Vec<String> = verification
        .problems()
        .map(|b| {
            assert_eq!(
                b.problem,
                Some(BlobProblem::Missing),
                "{}",
                b.path.display()
            );
            assert_eq!(
                b.path,
                Path::new("blobs/sha256").join(b.descriptor.digest.encoded())
            );
            b.descriptor.digest.to_string()
        })
        .collect();
    missing.sort();
    assert_eq!(missing, want_missing);
    // Every present blob the collector listed was checked and is intact.
    let present = expected["descriptors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["present"] == true)
        .count();
    assert_eq!(verification.blobs.len() - missing.len(), present);
    assert!(!verification.is_ok());
    let report = verification.report();
    assert!(!report.verified());
    assert!(report.first_failure().unwrap().reason.contains("missing"));
}

fn real_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&data(REAL_LAYOUT), dir.path());
    dir
}

fn root_cause(e: &Error) -> &OciError {
    match e {
        Error::Oci(o) => o.root_cause(),
        other => panic!("not an OCI error: {other:?}"),
    }
}

#[test]
fn corruption_is_reported_by_path() {
    let dir = real_copy();
    let config = "blobs/sha256/533ae3a04dfa4bc6818f734589a6d80816ab8f6f24f5dabce5a05f1df10ebb92";
    let mut bytes = fs::read(dir.path().join(config)).unwrap();
    bytes[10] ^= 1;
    fs::write(dir.path().join(config), &bytes).unwrap();
    let manifest = "blobs/sha256/a79645dc6fd76a0db9c9c04f5ba722ecb7d1fa8cdfc1d848d931d884cbab02ea";
    let mut bytes = fs::read(dir.path().join(manifest)).unwrap();
    bytes.truncate(100);
    fs::write(dir.path().join(manifest), &bytes).unwrap();

    let layout = Layout::open(dir.path()).unwrap();
    let verification = layout.verify(None).unwrap();
    let problem = |path: &str| {
        verification
            .blobs
            .iter()
            .find(|b| b.path == Path::new(path))
            .unwrap_or_else(|| panic!("{path} not checked"))
            .problem
            .clone()
    };
    assert!(matches!(
        problem(config),
        Some(BlobProblem::DigestMismatch { .. })
    ));
    assert_eq!(
        problem(manifest),
        Some(BlobProblem::SizeMismatch { actual: 100 })
    );
    let text = verification.report().to_string();
    assert!(text.contains(config) && text.contains(manifest), "{text}");

    // The identity reads the index's manifests: the truncated one is named.
    let err = layout.identity(None).unwrap_err();
    assert!(err.to_string().starts_with(manifest), "{err}");
    assert!(matches!(root_cause(&err), OciError::SizeMismatch { .. }));
}

#[test]
fn layout_files_are_checked() {
    let dir = real_copy();
    fs::write(
        dir.path().join("oci-layout"),
        br#"{"imageLayoutVersion":"2.0.0"}"#,
    )
    .unwrap();
    let err = Layout::open(dir.path()).unwrap_err();
    assert!(err.to_string().starts_with("oci-layout: "), "{err}");

    let dir = real_copy();
    fs::write(
        dir.path().join("index.json"),
        br#"{"schemaVersion":2,"schemaVersion":2,"manifests":[]}"#,
    )
    .unwrap();
    let err = Layout::open(dir.path()).unwrap_err();
    assert!(
        err.to_string().starts_with("index.json: ") && err.to_string().contains("duplicate"),
        "{err}"
    );

    let dir = real_copy();
    fs::remove_file(dir.path().join("oci-layout")).unwrap();
    assert!(Layout::open(dir.path()).is_err());
}

#[test]
fn blobs_never_resolve_outside_the_layout() {
    // A digest that tries to climb out of blobs/ does not even parse.
    let dir = real_copy();
    let index = r#"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":2,"digest":"sha256:../../../etc/passwd"}]}"#;
    fs::write(dir.path().join("index.json"), index).unwrap();
    let err = Layout::open(dir.path()).unwrap_err();
    assert!(err.to_string().starts_with("index.json: "), "{err}");

    // A digest of an algorithm custodia does not compute has no path.
    let dir = real_copy();
    let index = r#"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":2,"digest":"sha256+b64:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564","annotations":{"org.opencontainers.image.ref.name":"x"}}]}"#;
    fs::write(dir.path().join("index.json"), index).unwrap();
    let layout = Layout::open(dir.path()).unwrap();
    let verification = layout.verify(None).unwrap();
    assert_eq!(
        verification.blobs[0].problem,
        Some(BlobProblem::Unsupported)
    );
    assert!(matches!(
        root_cause(&layout.identity(Some("x")).unwrap_err()),
        OciError::Digest {
            problem: DigestProblem::Unsupported,
            ..
        }
    ));

    // A blob that is a symbolic link (here to a file outside) is refused.
    #[cfg(unix)]
    {
        let dir = real_copy();
        let outside = tempfile::NamedTempFile::new().unwrap();
        let blob = dir
            .path()
            .join("blobs/sha256/234e2c830c2fb31ac5671789d22adfe44d30c3ee831d01beae5e237841a13122");
        fs::copy(&blob, outside.path()).unwrap();
        fs::remove_file(&blob).unwrap();
        std::os::unix::fs::symlink(outside.path(), &blob).unwrap();
        let layout = Layout::open(dir.path()).unwrap();
        let err = layout.identity(None).unwrap_err();
        assert!(err.to_string().contains("symbolic links"), "{err}");
    }
}

#[test]
fn manifests_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::create(dir.path()).unwrap();
    let huge = vec![b' '; (custodia::oci::MAX_MANIFEST_BYTES + 1) as usize];
    let digest = layout.write_blob(&huge).unwrap();
    let descriptor = Descriptor {
        digest,
        size: huge.len() as u64,
        ..Descriptor::of_bytes("application/vnd.oci.image.manifest.v1+json", b"").unwrap()
    };
    let err = layout.read_manifest(&descriptor).unwrap_err();
    assert!(
        matches!(root_cause(&err), OciError::TooLarge { .. }),
        "{err}"
    );
    // A descriptor that lies about the size is read only up to its size + 1.
    let small = Descriptor {
        size: 10,
        ..descriptor
    };
    let err = layout.read_manifest(&small).unwrap_err();
    assert!(
        matches!(root_cause(&err), OciError::SizeMismatch { actual: 11, .. }),
        "{err}"
    );
}

/// Cross-check with another implementation: oci-spec (the Rust crate the
/// container runtimes use) reads every spec example custodia accepts.
#[test]
fn oci_spec_crate_agrees_on_the_examples() {
    let index = json("spec-examples/index.json");
    for f in index["files"].as_array().unwrap() {
        let name = f["file"].as_str().unwrap();
        let bytes = read(&format!("spec-examples/{name}"));
        let text = String::from_utf8(bytes).unwrap();
        let ok = match f["mediaType"].as_str().unwrap() {
            "application/vnd.oci.image.manifest.v1+json" => {
                oci_spec::image::ImageManifest::from_reader(text.as_bytes()).is_ok()
            }
            "application/vnd.oci.image.index.v1+json" => {
                oci_spec::image::ImageIndex::from_reader(text.as_bytes()).is_ok()
            }
            "application/vnd.oci.descriptor.v1+json" => {
                serde_json::from_str::<oci_spec::image::Descriptor>(&text).is_ok()
            }
            _ => true,
        };
        assert!(ok, "oci-spec refuses {name}");
    }
}
