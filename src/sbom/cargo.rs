//! The Cargo producer: an [`Sbom`] from `Cargo.lock` (versions 1 to 4) and
//! the root `Cargo.toml`, without running cargo or touching the network.
//!
//! * every locked package becomes a component (all targets: filtering to
//!   one target triple needs `cargo metadata`, see [`CargoInput::metadata`]);
//! * purls are `pkg:cargo/NAME@VERSION`; git sources add a `vcs_url`
//!   qualifier (`git+URL@COMMIT`), registries other than crates.io a
//!   `repository_url` qualifier;
//! * the registry checksum is the component's SHA-256 hash;
//! * dependency edges come from the lock file;
//! * the root's license and description come from `Cargo.toml`; with
//!   `cargo metadata --format-version 1` output, every package's license,
//!   description and authors, and the scope (dev/build-only packages are
//!   `Excluded`).

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::{Component, LicenseExpression, Purl, PurlError, Sbom, Scope, SourceKind};
use crate::digest::{Digest, DigestAlgorithm};
use crate::error::{Error, SbomError};
use crate::time::Timestamp;

/// The crates.io index, as Cargo.lock writes it (git and sparse forms).
const CRATES_IO: [&str; 2] = [
    "registry+https://github.com/rust-lang/crates.io-index",
    "sparse+https://index.crates.io/",
];

/// Inputs of the Cargo producer.
///
/// ```
/// use custodia::sbom::cargo::{CargoInput, from_cargo};
/// use custodia::time::Timestamp;
/// let lock = r#"
/// version = 4
/// [[package]]
/// name = "app"
/// version = "0.1.0"
/// dependencies = ["itoa"]
/// [[package]]
/// name = "itoa"
/// version = "1.0.11"
/// source = "registry+https://github.com/rust-lang/crates.io-index"
/// checksum = "49f1f14873335454500d59611f1cf4a4b0f786f9ac11f4312a78e4cf2566695b"
/// "#;
/// let manifest = "[package]\nname = \"app\"\nversion = \"0.1.0\"\nlicense = \"MIT\"\n";
/// let sbom = from_cargo(&CargoInput::new(lock).with_manifest(manifest), Timestamp::from_unix(0))?;
/// assert_eq!(sbom.root.purl.as_ref().map(|p| p.as_str()), Some("pkg:cargo/app@0.1.0"));
/// assert_eq!(sbom.root.license.as_ref().map(ToString::to_string).as_deref(), Some("MIT"));
/// assert_eq!(sbom.components[0].purl.as_ref().map(|p| p.as_str()), Some("pkg:cargo/itoa@1.0.11"));
/// assert!(sbom.dependencies["pkg:cargo/app@0.1.0"].contains("pkg:cargo/itoa@1.0.11"));
/// # Ok::<(), custodia::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct CargoInput<'a> {
    /// `Cargo.lock` text.
    pub lock: &'a str,
    /// The root `Cargo.toml` text.
    pub manifest: Option<&'a str>,
    /// `cargo metadata --format-version 1` output, to enrich components.
    pub metadata: Option<&'a str>,
}

impl<'a> CargoInput<'a> {
    /// Just the lock file.
    pub fn new(lock: &'a str) -> Self {
        Self {
            lock,
            manifest: None,
            metadata: None,
        }
    }

    /// With the root manifest.
    pub fn with_manifest(mut self, manifest: &'a str) -> Self {
        self.manifest = Some(manifest);
        self
    }

    /// With `cargo metadata` output.
    pub fn with_metadata(mut self, metadata: &'a str) -> Self {
        self.metadata = Some(metadata);
        self
    }
}

#[derive(Deserialize)]
struct LockFile {
    #[serde(default)]
    version: Option<u32>,
    #[serde(default)]
    package: Vec<LockPackage>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct LockPackage {
    name: String,
    version: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    checksum: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

#[derive(Deserialize, Default)]
struct Manifest {
    #[serde(default)]
    package: Option<ManifestPackage>,
    #[serde(default)]
    workspace: Option<ManifestWorkspace>,
}

#[derive(Deserialize, Default)]
struct ManifestWorkspace {
    #[serde(default)]
    package: Option<ManifestPackage>,
}

#[derive(Deserialize, Default, Clone)]
struct ManifestPackage {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version: Option<toml::Value>,
    #[serde(default)]
    license: Option<toml::Value>,
    #[serde(default)]
    description: Option<toml::Value>,
    #[serde(default)]
    authors: Option<toml::Value>,
}

fn invalid(document: &'static str, path: impl Into<String>, reason: impl Into<String>) -> Error {
    SbomError::Invalid {
        document,
        path: path.into(),
        reason: reason.into(),
    }
    .into()
}

/// Parses a `Cargo.lock` and (optionally) the root manifest and `cargo
/// metadata` output into an SBOM timestamped `timestamp`.
pub fn from_cargo(input: &CargoInput<'_>, timestamp: Timestamp) -> Result<Sbom, Error> {
    let lock: LockFile = toml::from_str(input.lock)
        .map_err(|e| invalid("Cargo.lock", "", e.to_string().replace('\n', " ")))?;
    if let Some(v) = lock.version {
        if !(1..=4).contains(&v) {
            return Err(invalid(
                "Cargo.lock",
                "version",
                format!("lock file version {v} is not 1 to 4"),
            ));
        }
    }
    let manifest: Manifest = match input.manifest {
        Some(text) => toml::from_str(text)
            .map_err(|e| invalid("Cargo.toml", "", e.to_string().replace('\n', " ")))?,
        None => Manifest::default(),
    };
    let workspace_package = manifest
        .workspace
        .as_ref()
        .and_then(|w| w.package.clone())
        .unwrap_or_default();

    // Components, keyed by (name, version, source) for edge resolution.
    let mut components: Vec<Component> = Vec::with_capacity(lock.package.len());
    for (i, p) in lock.package.iter().enumerate() {
        components.push(component(p, &lock.metadata).map_err(|reason| {
            invalid("Cargo.lock", format!("package[{i}] ({})", p.name), reason)
        })?);
    }
    let mut bom_refs = BTreeSet::new();
    for (i, c) in components.iter().enumerate() {
        if !bom_refs.insert(c.bom_ref.clone()) {
            return Err(invalid(
                "Cargo.lock",
                format!("package[{i}]"),
                format!("{} is locked twice", c.bom_ref),
            ));
        }
    }

    // The root: the manifest's package when there is one, else a virtual
    // workspace root.
    let root_name = manifest.package.as_ref().and_then(|p| p.name.clone());
    let root_index = root_name.as_ref().and_then(|name| {
        lock.package
            .iter()
            .position(|p| &p.name == name && p.source.is_none())
    });
    let mut root = match root_index {
        Some(i) => components
            .get(i)
            .cloned()
            .ok_or_else(|| invalid("Cargo.lock", "", "root vanished"))?,
        None => {
            let name = root_name.clone().unwrap_or_else(|| "workspace".to_owned());
            let version = manifest
                .package
                .as_ref()
                .and_then(|p| text(p.version.as_ref()))
                .or_else(|| text(workspace_package.version.as_ref()))
                .unwrap_or_else(|| "0.0.0".to_owned());
            let root_purl = purl(&name, &version, &SourceKind::Path)
                .map_err(|e| invalid("Cargo.toml", "package", format!("no purl: {e}")))?;
            let mut c = Component::new(name.clone(), version.clone()).with_purl(root_purl);
            c.source = SourceKind::Path;
            c
        }
    };
    if let Some(pkg) = &manifest.package {
        root.license = text(pkg.license.as_ref())
            .or_else(|| text(workspace_package.license.as_ref()))
            .and_then(|l| LicenseExpression::parse_cargo(&l).ok());
        root.description = text(pkg.description.as_ref());
        root.supplier = first_author(pkg.authors.as_ref());
    }

    let mut sbom = Sbom::new(root.clone(), timestamp);
    // Edges, resolved through an index by name (lock files list
    // thousands of packages).
    let mut by_name: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, p) in lock.package.iter().enumerate() {
        by_name.entry(p.name.as_str()).or_default().push(i);
    }
    for (i, p) in lock.package.iter().enumerate() {
        let Some(from) = components.get(i).map(|c| c.bom_ref.clone()) else {
            continue;
        };
        for dep in &p.dependencies {
            let j = resolve(&lock.package, &by_name, dep).map_err(|reason| {
                invalid(
                    "Cargo.lock",
                    format!("package[{i}] ({}).dependencies", p.name),
                    reason,
                )
            })?;
            if let Some(to) = components.get(j) {
                sbom.depends(&from, &to.bom_ref);
            }
        }
    }
    // A virtual workspace root depends on every workspace member.
    if root_index.is_none() {
        for c in components.iter().filter(|c| c.source == SourceKind::Path) {
            sbom.depends(&root.bom_ref, &c.bom_ref);
        }
    }
    for (i, c) in components.into_iter().enumerate() {
        if Some(i) != root_index {
            sbom.add(c);
        }
    }
    if let Some(metadata) = input.metadata {
        enrich(&mut sbom, metadata)?;
    }
    sbom.validate()?;
    Ok(sbom)
}

fn text(v: Option<&toml::Value>) -> Option<String> {
    // `{ workspace = true }` and other tables carry no value of their own.
    v.and_then(toml::Value::as_str).map(str::to_owned)
}

fn first_author(v: Option<&toml::Value>) -> Option<String> {
    v.and_then(toml::Value::as_array)
        .and_then(|a| a.first())
        .and_then(toml::Value::as_str)
        .map(str::to_owned)
}

fn source_kind(source: Option<&str>) -> SourceKind {
    match source {
        None => SourceKind::Path,
        Some(s) if s.starts_with("git+") => {
            let rest = s.strip_prefix("git+").unwrap_or(s);
            // The revision follows the last `#` (as the SBOM readers split it).
            let (url_part, revision) = match rest.rsplit_once('#') {
                Some((u, rev)) => (u, Some(rev.to_owned())),
                None => (rest, None),
            };
            let url = url_part.split('?').next().unwrap_or(url_part).to_owned();
            SourceKind::Git { url, revision }
        }
        Some(s) => SourceKind::Registry(s.to_owned()),
    }
}

fn component(p: &LockPackage, metadata: &BTreeMap<String, String>) -> Result<Component, String> {
    if p.name.is_empty() || p.version.is_empty() {
        return Err("name and version are required".to_owned());
    }
    let source = source_kind(p.source.as_deref());
    let mut c = Component::new(p.name.clone(), p.version.clone())
        .with_purl(purl(&p.name, &p.version, &source).map_err(|e| format!("no purl: {e}"))?);
    // v1 lock files keep checksums in [metadata]: "checksum NAME VERSION (SOURCE)".
    let checksum = p.checksum.clone().or_else(|| {
        let source = p.source.as_deref()?;
        metadata
            .get(&format!("checksum {} {} ({source})", p.name, p.version))
            .cloned()
    });
    if let Some(hex) = checksum.filter(|h| h != "<none>") {
        let digest = Digest::from_hex(DigestAlgorithm::Sha256, &hex)
            .map_err(|e| format!("checksum: {e}"))?;
        c.hashes.push(digest);
    }
    c.source = source;
    Ok(c)
}

/// `pkg:cargo/NAME@VERSION`, with `vcs_url` for git and `repository_url`
/// for registries other than crates.io (purl spec, cargo type).
///
/// ```
/// use custodia::sbom::{SourceKind, cargo::purl};
/// let p = purl("serde", "1.0.200", &SourceKind::Path)?;
/// assert_eq!(p.as_str(), "pkg:cargo/serde@1.0.200");
/// assert!(purl("", "1.0.0", &SourceKind::Path).is_err());
/// # Ok::<(), custodia::sbom::PurlError>(())
/// ```
pub fn purl(name: &str, version: &str, source: &SourceKind) -> Result<Purl, PurlError> {
    let base = format!("pkg:cargo/{}@{}", encode(name), encode(version));
    let text = match source {
        SourceKind::Git { url, revision } => {
            let vcs = match revision {
                Some(r) => format!("git+{url}@{r}"),
                None => format!("git+{url}"),
            };
            format!("{base}?vcs_url={}", encode(&vcs))
        }
        SourceKind::Registry(r) if !CRATES_IO.contains(&r.as_str()) => {
            let url = r.split_once('+').map_or(r.as_str(), |(_, u)| u);
            format!("{base}?repository_url={}", encode(url))
        }
        _ => base,
    };
    Purl::parse(&text)
}

/// Percent-encodes everything but unreserved characters and `:` `/`.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Resolves a lock-file dependency (`name`, `name version` or
/// `name version (source)`) to a package index.
fn resolve(
    packages: &[LockPackage],
    by_name: &BTreeMap<&str, Vec<usize>>,
    dep: &str,
) -> Result<usize, String> {
    let mut parts = dep.splitn(3, ' ');
    let name = parts.next().unwrap_or_default();
    let version = parts.next();
    let source = parts
        .next()
        .map(|s| s.trim_start_matches('(').trim_end_matches(')'));
    let candidates: Vec<usize> = by_name
        .get(name)
        .into_iter()
        .flatten()
        .copied()
        .filter(|i| {
            packages.get(*i).is_some_and(|p| {
                version.is_none_or(|v| p.version == v)
                    && source.is_none_or(|s| p.source.as_deref() == Some(s))
            })
        })
        .collect();
    match candidates.as_slice() {
        [one] => Ok(*one),
        [] => Err(format!(
            "`{}` names no locked package",
            crate::digest::shorten(dep)
        )),
        _ => Err(format!("`{}` is ambiguous", crate::digest::shorten(dep))),
    }
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    packages: Vec<MetadataPackage>,
    #[serde(default)]
    resolve: Option<MetadataResolve>,
}

#[derive(Deserialize)]
struct MetadataPackage {
    name: String,
    version: String,
    id: String,
    #[serde(default)]
    license: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    authors: Vec<String>,
}

#[derive(Deserialize)]
struct MetadataResolve {
    #[serde(default)]
    nodes: Vec<MetadataNode>,
    #[serde(default)]
    root: Option<String>,
}

#[derive(Deserialize)]
struct MetadataNode {
    id: String,
    #[serde(default)]
    deps: Vec<MetadataDep>,
}

#[derive(Deserialize)]
struct MetadataDep {
    pkg: String,
    #[serde(default)]
    dep_kinds: Vec<MetadataDepKind>,
}

#[derive(Deserialize)]
struct MetadataDepKind {
    #[serde(default)]
    kind: Option<String>,
}

/// Adds licenses, descriptions and authors from `cargo metadata`, and
/// marks packages that only dev or build dependencies reach as `Excluded`.
fn enrich(sbom: &mut Sbom, metadata: &str) -> Result<(), Error> {
    let meta: Metadata = crate::json::from_slice(metadata.as_bytes(), "cargo metadata")?;
    let by_id: BTreeMap<&str, &MetadataPackage> =
        meta.packages.iter().map(|p| (p.id.as_str(), p)).collect();
    // Normal (run-time) reachability from the workspace members / root.
    let mut normal_edges: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut roots: Vec<&str> = Vec::new();
    if let Some(resolve) = &meta.resolve {
        for node in &resolve.nodes {
            let normal: Vec<&str> = node
                .deps
                .iter()
                .filter(|d| d.dep_kinds.is_empty() || d.dep_kinds.iter().any(|k| k.kind.is_none()))
                .map(|d| d.pkg.as_str())
                .collect();
            normal_edges.insert(node.id.as_str(), normal);
        }
        roots.extend(resolve.root.as_deref());
    }
    if roots.is_empty() {
        roots.extend(
            meta.packages
                .iter()
                .filter(|p| p.id.starts_with("path+"))
                .map(|p| p.id.as_str()),
        );
    }
    let mut reachable: BTreeSet<&str> = BTreeSet::new();
    let mut stack = roots.clone();
    while let Some(id) = stack.pop() {
        if reachable.insert(id) {
            stack.extend(normal_edges.get(id).into_iter().flatten().copied());
        }
    }
    let have_resolve = meta.resolve.is_some();
    for c in std::iter::once(&mut sbom.root).chain(sbom.components.iter_mut()) {
        let Some((id, p)) = by_id
            .iter()
            .find(|(_, p)| p.name == c.name && p.version == c.version)
        else {
            continue;
        };
        if c.license.is_none() {
            c.license = p
                .license
                .as_deref()
                .and_then(|l| LicenseExpression::parse_cargo(l).ok());
        }
        if c.description.is_none() {
            c.description = p
                .description
                .as_ref()
                .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "));
        }
        if c.supplier.is_none() {
            c.supplier = p.authors.first().cloned();
        }
        if have_resolve && !reachable.contains(id) {
            c.scope = Scope::Excluded;
        }
    }
    Ok(())
}
