//! Software bills of materials: a neutral model, a Cargo producer, and
//! CycloneDX / SPDX writers and readers.
//!
//! The [`Sbom`] model is format-free: components (name, version, purl,
//! supplier, licenses as an SPDX expression, hashes, where they came from,
//! scope), the root component, and the dependency graph. Producers fill it
//! (`cargo`: from `Cargo.lock` and `Cargo.toml`, no network, no cargo
//! process); writers serialize it deterministically (the same model and
//! clock give the same bytes); readers bring other tools' SBOMs into it.

#[cfg(feature = "auditable")]
pub mod binary;
mod bom_ref;
pub mod cargo;
pub mod cyclonedx;
mod license;
mod purl;
pub mod spdx;
pub mod spdx3;

pub use bom_ref::{BomRef, BomRefError};
pub use license::{LicenseError, LicenseExpression, license_list_version};
pub use purl::{Purl, PurlError};

use std::collections::{BTreeMap, BTreeSet};

use crate::digest::Digest;
use crate::time::Timestamp;

/// Where a component's source came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum SourceKind {
    /// A package registry, by index URL (crates.io is
    /// `registry+https://github.com/rust-lang/crates.io-index` or
    /// `sparse+https://index.crates.io/`).
    Registry(String),
    /// A git repository at a revision.
    Git {
        /// Repository URL (without the `git+` prefix and query).
        url: String,
        /// The commit the lock file pins, if any.
        revision: Option<String>,
    },
    /// A local path (workspace members, path dependencies).
    Path,
    /// Not known (e.g. read from another tool's SBOM).
    Unknown,
}

/// How a component is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[non_exhaustive]
pub enum Scope {
    /// Needed at run time (the default).
    #[default]
    Required,
    /// Optional (e.g. behind a feature).
    Optional,
    /// Not part of the delivered artifact (build or dev only).
    Excluded,
}

/// One component.
///
/// ```
/// use custodia::sbom::{Component, Purl};
/// let c = Component::new("serde", "1.0.200").with_purl(Purl::parse("pkg:cargo/serde@1.0.200")?);
/// assert_eq!(c.bom_ref, "pkg:cargo/serde@1.0.200");
/// # Ok::<(), custodia::sbom::PurlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Component {
    /// Identifier unique within the SBOM (the purl when there is one).
    pub bom_ref: BomRef,
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Package URL (`pkg:cargo/NAME@VERSION`, with qualifiers for git and
    /// non-default registries).
    pub purl: Option<Purl>,
    /// Supplier or author.
    pub supplier: Option<String>,
    /// Licenses as an SPDX license expression (`MIT OR Apache-2.0`).
    pub license: Option<LicenseExpression>,
    /// Hashes of the component's distribution (crates.io: the `.crate` file).
    pub hashes: Vec<Digest>,
    /// Where it came from.
    pub source: SourceKind,
    /// How it is used.
    pub scope: Scope,
    /// A one-line description.
    pub description: Option<String>,
}

impl Component {
    /// A component with a name and version; its bom-ref is `name@version`
    /// until a purl is set (`sha256:HEX` of `name@version` when that is
    /// not a valid [`BomRef`]: a control character, or too long).
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        let (name, version) = (name.into(), version.into());
        Self {
            bom_ref: BomRef::derive(format!("{name}@{version}")),
            name,
            version,
            purl: None,
            supplier: None,
            license: None,
            hashes: Vec::new(),
            source: SourceKind::Unknown,
            scope: Scope::Required,
            description: None,
        }
    }

    /// Sets the purl, which also becomes the bom-ref.
    pub fn with_purl(mut self, purl: Purl) -> Self {
        self.bom_ref = BomRef::from(&purl);
        self.purl = Some(purl);
        self
    }
}

/// A format-free SBOM: the root component, every other component, and who
/// depends on whom (by bom-ref).
///
/// ```
/// use custodia::sbom::{Component, Sbom};
/// use custodia::time::Timestamp;
/// let mut sbom = Sbom::new(Component::new("app", "1.0.0"), Timestamp::from_unix(0));
/// let log = Component::new("log", "0.4.21");
/// sbom.depends(&sbom.root.bom_ref.clone(), &log.bom_ref);
/// sbom.add(log);
/// assert!(sbom.dependencies["app@1.0.0"].contains("log@0.4.21"));
/// assert_eq!(sbom.components.len(), 1);
/// assert!(sbom.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Sbom {
    /// What the SBOM describes.
    pub root: Component,
    /// Every other component, sorted by bom-ref when written.
    pub components: Vec<Component>,
    /// bom-ref -> the bom-refs it depends on directly.
    pub dependencies: BTreeMap<BomRef, BTreeSet<BomRef>>,
    /// When the SBOM was made (fixed by the caller for reproducible output).
    pub timestamp: Timestamp,
}

impl Sbom {
    /// An SBOM of `root` with no components yet.
    pub fn new(root: Component, timestamp: Timestamp) -> Self {
        Self {
            root,
            components: Vec::new(),
            dependencies: BTreeMap::new(),
            timestamp,
        }
    }

    /// Adds a component.
    pub fn add(&mut self, component: Component) {
        self.components.push(component);
    }

    /// Records that `from` depends on `to`.
    pub fn depends(&mut self, from: &BomRef, to: &BomRef) {
        self.dependencies
            .entry(from.clone())
            .or_default()
            .insert(to.clone());
    }

    /// The component (or root) with this bom-ref.
    pub fn component(&self, bom_ref: &str) -> Option<&Component> {
        std::iter::once(&self.root)
            .chain(&self.components)
            .find(|c| c.bom_ref == bom_ref)
    }

    /// Components sorted by bom-ref (the order writers use).
    pub fn sorted_components(&self) -> Vec<&Component> {
        let mut all: Vec<&Component> = self.components.iter().collect();
        all.sort_by(|a, b| a.bom_ref.cmp(&b.bom_ref));
        all
    }

    /// Checks that bom-refs are unique and every dependency names a known
    /// component.
    pub fn validate(&self) -> Result<(), crate::Error> {
        let invalid = |reason: String| crate::error::PredicateError::Invalid {
            path: "sbom".to_owned(),
            reason,
        };
        let mut refs = BTreeSet::new();
        for c in std::iter::once(&self.root).chain(&self.components) {
            if c.name.is_empty() {
                return Err(invalid(format!("component `{}` has no name", c.bom_ref)).into());
            }
            if !refs.insert(&c.bom_ref) {
                return Err(invalid(format!("bom-ref `{}` is used twice", c.bom_ref)).into());
            }
        }
        for (from, tos) in &self.dependencies {
            for r in std::iter::once(from).chain(tos) {
                if !refs.contains(r) {
                    return Err(invalid(format!("dependency names unknown bom-ref `{r}`")).into());
                }
            }
        }
        Ok(())
    }

    /// A digest of the model's content (every component field and the
    /// edges; not the timestamp), for deterministic serial numbers
    /// and document namespaces.
    pub fn content_digest(&self) -> Digest {
        let mut h = crate::digest::Hasher::new(crate::digest::DigestAlgorithm::Sha256);
        let mut feed = |s: &str| {
            h.update(s.as_bytes());
            h.update(&[0]);
        };
        for c in std::iter::once(&self.root).chain(self.sorted_components()) {
            feed(c.bom_ref.as_str());
            feed(&c.name);
            feed(&c.version);
            feed(c.purl.as_ref().map_or("", Purl::as_str));
            feed(
                &c.license
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            );
            feed(c.supplier.as_deref().unwrap_or(""));
            feed(c.description.as_deref().unwrap_or(""));
            feed(&format!("{:?} {:?}", c.scope, c.source));
            for d in &c.hashes {
                feed(&d.to_string());
            }
        }
        for (from, tos) in &self.dependencies {
            feed(from.as_str());
            for t in tos {
                feed(t.as_str());
            }
        }
        h.finish()
    }

    /// A version-4-shaped UUID derived from [`Sbom::content_digest`]
    /// (deterministic, so the same inputs give the same serial number).
    pub fn content_uuid(&self) -> String {
        let d = self.content_digest();
        let b = d.as_bytes();
        let mut u = [0u8; 16];
        for (dst, src) in u.iter_mut().zip(b) {
            *dst = *src;
        }
        u[6] = (u[6] & 0x0f) | 0x40;
        u[8] = (u[8] & 0x3f) | 0x80;
        let hex = crate::encoding::hex_lower(&u);
        format!(
            "{}-{}-{}-{}-{}",
            hex.get(0..8).unwrap_or_default(),
            hex.get(8..12).unwrap_or_default(),
            hex.get(12..16).unwrap_or_default(),
            hex.get(16..20).unwrap_or_default(),
            hex.get(20..32).unwrap_or_default()
        )
    }
}
