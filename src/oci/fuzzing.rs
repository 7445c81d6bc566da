//! Entry points for the `oci_*` fuzz targets; not part of the stable API.
//!
//! Whatever the input: no panic, and everything that parses serializes to
//! bytes that parse back to the same value.

use std::path::PathBuf;
use std::sync::OnceLock;

use super::spec::{ImageConfig, MEDIA_TYPE_IMAGE_INDEX, MEDIA_TYPE_IMAGE_MANIFEST, MediaType};
use super::{
    Attachment, Descriptor, ImageBuilder, ImageIndex, ImageManifest, Layout, Manifest,
    ReferrerFilter, referrer_manifest, referrers_index,
};

/// Parses `data` as a descriptor, an image manifest (OCI and Docker media
/// types) and an image configuration; round-trips what parses, and wraps
/// it as a referrer.
pub fn manifest(data: &[u8]) {
    if let Ok(d) = Descriptor::from_json(data) {
        let again = serde_json::to_vec(&d)
            .ok()
            .and_then(|json| Descriptor::from_json(&json).ok());
        assert_eq!(again.as_ref(), Some(&d), "descriptor round trip");
    }
    if let Ok(m) = ImageManifest::from_json(data) {
        let json = m.to_json();
        assert!(json.is_ok(), "a parsed manifest serializes");
        let Ok(json) = json else { return };
        assert_eq!(
            ImageManifest::from_json(&json).ok().as_ref(),
            Some(&m),
            "manifest round trip"
        );
        if let Ok(blob) = Attachment::new("application/vnd.example", "application/json", json) {
            let Ok(r) = referrer_manifest(&m.config, &blob) else {
                return;
            };
            assert_eq!(
                ImageManifest::from_json(&r.bytes).ok(),
                Some(r.manifest),
                "referrer"
            );
        }
    }
    for media_type in [
        MEDIA_TYPE_IMAGE_MANIFEST,
        super::spec::MEDIA_TYPE_DOCKER_MANIFEST,
    ] {
        let _ = Manifest::from_json(&MediaType::internal(media_type), data);
    }
    let _ = ImageConfig::from_json(data);
}

/// Parses `data` as an image index; round-trips it and its referrers
/// index form.
pub fn index(data: &[u8]) {
    if let Ok(i) = ImageIndex::from_json(data) {
        let json = i.to_json();
        assert!(json.is_ok(), "a parsed index serializes");
        let Ok(json) = json else { return };
        assert_eq!(
            ImageIndex::from_json(&json).ok().as_ref(),
            Some(&i),
            "index round trip"
        );
        let r = referrers_index(&i.manifests);
        assert_eq!(
            r.to_json()
                .ok()
                .and_then(|j| ImageIndex::from_json(&j).ok()),
            Some(r),
            "referrers index"
        );
        let _ = Manifest::from_json(&MediaType::internal(MEDIA_TYPE_IMAGE_INDEX), data);
    }
}

/// A layout in a temporary directory with one image (`v1`) and one
/// attached referrer, made once per process.
fn fixture() -> Option<&'static (PathBuf, Vec<u8>)> {
    static FIXTURE: OnceLock<Option<(PathBuf, Vec<u8>)>> = OnceLock::new();
    FIXTURE
        .get_or_init(|| {
            let dir =
                std::env::temp_dir().join(format!("custodia-fuzz-oci-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let layout = Layout::create(&dir).ok()?;
            let image = ImageBuilder::new()
                .file("app", b"fuzz")
                .write_to(&layout, "v1")
                .ok()?;
            let blob =
                Attachment::new("application/vnd.example", "text/plain", b"x".to_vec()).ok()?;
            layout.attach(&image, &blob).ok()?;
            let index = std::fs::read(dir.join("index.json")).ok()?;
            Some((dir, index))
        })
        .as_ref()
}

/// Uses `data` as a layout's `index.json`, then as a blob its index lists
/// as the `v1` manifest: open, resolve, identity, verification and
/// referrers must fail cleanly or succeed, never panic.
pub fn layout(data: &[u8]) {
    let Some((dir, original)) = fixture() else {
        return;
    };
    let exercise = |layout: &Layout| {
        for reference in [
            None,
            Some("v1"),
            Some("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"),
        ] {
            if let Ok(d) = layout.resolve(reference) {
                let _ = layout.identity(reference);
                let _ = layout.referrers(&d.digest, &ReferrerFilter::any());
            }
        }
        let _ = layout.verify(None);
    };
    // 1. `data` is index.json.
    if std::fs::write(dir.join("index.json"), data).is_ok() {
        if let Ok(layout) = Layout::open(dir) {
            exercise(&layout);
        }
    }
    // 2. `data` is the manifest blob `v1` names (size and digest right).
    let Ok(layout) = Layout::open(dir).or_else(|_| {
        std::fs::write(dir.join("index.json"), original).ok();
        Layout::open(dir)
    }) else {
        return;
    };
    let own = super::OciDigest::from(crate::digest::DigestAlgorithm::Sha256.hash(data));
    let existed = Layout::blob_path(&own).is_ok_and(|p| dir.join(p).exists());
    if let (Ok(digest), Ok(mut descriptor)) = (
        layout.write_blob(data),
        Descriptor::of_bytes(MEDIA_TYPE_IMAGE_MANIFEST, data),
    ) {
        descriptor.digest = digest;
        descriptor.annotations.insert(
            super::spec::ANNOTATION_REF_NAME.to_owned(),
            "fuzz".to_owned(),
        );
        let index = ImageIndex {
            manifests: vec![descriptor],
            ..ImageIndex::new()
        };
        if index
            .to_json()
            .is_ok_and(|json| std::fs::write(dir.join("index.json"), json).is_ok())
        {
            exercise(&layout);
            let _ = layout.identity(Some("fuzz"));
        }
        if !existed {
            if let Ok(path) = Layout::blob_path(&own) {
                let _ = std::fs::remove_file(dir.join(path));
            }
        }
    }
    let _ = std::fs::write(dir.join("index.json"), original);
}

/// The `oci_cosign` target: `data` split at its first NUL into a layer
/// descriptor (JSON, with cosign's annotations) and the layer's blob. The
/// cosign v2 readers ([`super::cosign::legacy_bundle`],
/// [`super::cosign::SimpleSigning`]) never panic, and a bundle built from
/// a layer is JSON (and, with `sigstore`, is read by the bundle parser
/// without a panic).
pub fn cosign(data: &[u8]) {
    let _ = super::cosign::SimpleSigning::from_json(data);
    let (head, blob) = match data.iter().position(|b| *b == 0) {
        Some(i) => (
            data.get(..i).unwrap_or_default(),
            data.get(i + 1..).unwrap_or_default(),
        ),
        None => (data, &[][..]),
    };
    let Ok(layer) = Descriptor::from_json(head) else {
        return;
    };
    if let Ok(Some(bundle)) = super::cosign::legacy_bundle(&layer, blob) {
        assert!(
            serde_json::from_slice::<serde_json::Value>(&bundle).is_ok(),
            "legacy bundle is JSON"
        );
        #[cfg(feature = "sigstore")]
        let _ = crate::bundle::Bundle::from_json(&bundle);
    }
}
