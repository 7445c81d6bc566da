//! A minimal image writer: one uncompressed tar layer of regular files.
//!
//! Enough to put a real, runnable-by-tools image into a layout for tests,
//! examples and benchmarks without a container runtime. Deterministic:
//! file order as given, mode 0644, owner 0, time 0.

use crate::error::Error;

use super::error::invalid;
use super::layout::Layout;
use super::spec::{
    Annotations, Descriptor, ImageManifest, MEDIA_TYPE_IMAGE_CONFIG, MEDIA_TYPE_IMAGE_MANIFEST,
    MEDIA_TYPE_LAYER_TAR, MediaType,
};

/// Builds a one-layer image.
#[derive(Debug, Clone)]
pub struct ImageBuilder {
    files: Vec<(String, Vec<u8>)>,
    os: String,
    architecture: String,
    annotations: Annotations,
}

impl Default for ImageBuilder {
    fn default() -> Self {
        Self::new()
    }
}

/// The blobs and manifest of a built image.
#[derive(Debug, Clone)]
pub struct BuiltImage {
    /// The layer (a tar archive).
    pub layer: Vec<u8>,
    /// The image configuration.
    pub config: Vec<u8>,
    /// The manifest.
    pub manifest: ImageManifest,
    /// The manifest's bytes.
    pub manifest_bytes: Vec<u8>,
}

impl ImageBuilder {
    /// An empty linux/amd64 image.
    pub fn new() -> Self {
        Self {
            files: Vec::new(),
            os: "linux".to_owned(),
            architecture: "amd64".to_owned(),
            annotations: Annotations::new(),
        }
    }

    /// Adds a regular file (name: relative, ASCII, at most 100 bytes).
    pub fn file(mut self, name: &str, bytes: &[u8]) -> Self {
        self.files.push((name.to_owned(), bytes.to_vec()));
        self
    }

    /// Sets the platform.
    pub fn platform(mut self, os: &str, architecture: &str) -> Self {
        self.os = os.to_owned();
        self.architecture = architecture.to_owned();
        self
    }

    /// Adds a manifest annotation.
    pub fn annotation(mut self, key: &str, value: &str) -> Self {
        self.annotations.insert(key.to_owned(), value.to_owned());
        self
    }

    /// Builds the layer, config and manifest.
    pub fn build(&self) -> Result<BuiltImage, Error> {
        let layer = tar(&self.files)?;
        let layer_descriptor = Descriptor::of_bytes(MEDIA_TYPE_LAYER_TAR, &layer)?;
        let config = serde_json::to_vec(&serde_json::json!({
            "architecture": self.architecture,
            "os": self.os,
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [layer_descriptor.digest.as_str()]},
        }))
        .unwrap_or_default();
        let manifest = ImageManifest {
            schema_version: 2,
            media_type: Some(MediaType::internal(MEDIA_TYPE_IMAGE_MANIFEST)),
            artifact_type: None,
            config: Descriptor::of_bytes(MEDIA_TYPE_IMAGE_CONFIG, &config)?,
            layers: vec![layer_descriptor],
            subject: None,
            annotations: self.annotations.clone(),
        };
        let manifest_bytes = manifest.to_json()?;
        Ok(BuiltImage {
            layer,
            config,
            manifest,
            manifest_bytes,
        })
    }

    /// Builds the image and writes it into `layout` under `ref_name`.
    pub fn write_to(&self, layout: &Layout, ref_name: &str) -> Result<Descriptor, Error> {
        let built = self.build()?;
        layout.write_blob(&built.layer)?;
        layout.write_blob(&built.config)?;
        layout.put_manifest(
            MEDIA_TYPE_IMAGE_MANIFEST,
            &built.manifest_bytes,
            Some(ref_name),
        )
    }
}

/// A POSIX ustar archive of regular files.
fn tar(files: &[(String, Vec<u8>)]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    for (name, bytes) in files {
        let ok = !name.is_empty()
            && name.len() <= 100
            && name.is_ascii()
            && !name.starts_with('/')
            && !name.split('/').any(|c| c.is_empty() || c == "..")
            && !name.bytes().any(|b| b.is_ascii_control());
        if !ok {
            return Err(invalid(
                "image layer",
                name.clone(),
                "file names must be relative ASCII paths of at most 100 bytes",
            ));
        }
        let mut header = [0u8; 512];
        put(&mut header, 0, name.as_bytes());
        put(&mut header, 100, b"0000644\0");
        put(&mut header, 108, b"0000000\0");
        put(&mut header, 116, b"0000000\0");
        put(
            &mut header,
            124,
            format!("{:011o}\0", bytes.len()).as_bytes(),
        );
        put(&mut header, 136, b"00000000000\0");
        put(&mut header, 148, b"        ");
        put(&mut header, 156, b"0");
        put(&mut header, 257, b"ustar\0");
        put(&mut header, 263, b"00");
        let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
        put(&mut header, 148, format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(bytes);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    Ok(out)
}

fn put(block: &mut [u8; 512], at: usize, bytes: &[u8]) {
    if let Some(slot) = block.get_mut(at..at + bytes.len()) {
        slot.copy_from_slice(bytes);
    }
}
