//! The SBOM of a compiled binary, from the dependency list that
//! [`cargo auditable`](https://github.com/rust-secure-code/cargo-auditable)
//! embeds in it (feature `auditable`).
//!
//! A lock file says what could be in a build; `cargo auditable build`
//! records in the binary itself (section `.dep-v0`: zlib-compressed JSON)
//! which packages were compiled into it, how they depend on each other and
//! which were only needed at build time. [`from_binary`] turns that into an
//! [`Sbom`] whose root is the binary: the root package, with the binary's
//! SHA-256 as its hash (so the SBOM names the binary by digest), and
//! [`compare`] reports how it differs from the lock-file SBOM of the same
//! workspace.
//!
//! # Reading
//!
//! The binary is attacker-supplied when verifying someone else's, so every
//! step has a limit ([`Limits`]; defaults: 512 MiB of binary, 8 MiB of
//! audit data, 100,000 packages): the section is located by
//! `auditable-extract` (ELF, PE, Mach-O, WebAssembly: the parser
//! `auditable-info` and `cargo audit bin` use, fuzzed upstream), inflated
//! by `miniz_oxide` with the output limit (a zlib bomb stops there), and
//! the JSON is read by custodia's strict reader (duplicate keys refused,
//! errors with the JSON path). Then: exactly one root package; every
//! dependency index names a package; no package listed twice; names and
//! versions non-empty without whitespace.
//!
//! # Mapping
//!
//! * `name`, `version`; `source` `crates.io` gives the crates.io registry
//!   and `pkg:cargo/NAME@VERSION`, `local` a path package with the same
//!   purl (as the lock-file producer writes them), `git`, `registry` and
//!   other sources no purl (the data does not say which repository or
//!   registry, and a bare cargo purl would claim crates.io) and the
//!   bom-ref `NAME@VERSION`;
//! * `kind` `build` (proc-macros, build scripts and their dependencies)
//!   makes the component [`Scope::Excluded`]: it is not in the binary;
//! * `dependencies` become the model's edges.
//!
//! ```no_run
//! use custodia::sbom::binary::{Limits, from_binary};
//! use custodia::time::Timestamp;
//! let bytes = std::fs::read("target/release/app")?;
//! let sbom = from_binary(&bytes, Limits::default(), Timestamp::now())?;
//! println!("{} components", sbom.components.len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::cargo::purl;
use super::{BomRef, Component, Sbom, Scope, SourceKind};
use crate::digest::DigestAlgorithm;
use crate::error::{Error, SbomError};
use crate::time::Timestamp;

const DOCUMENT: &str = "cargo-auditable data";
const CRATES_IO: &str = "registry+https://github.com/rust-lang/crates.io-index";

/// Size limits for reading a binary's audit data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The largest binary read, in bytes.
    pub binary_bytes: usize,
    /// The largest decompressed audit data (and compressed section), in
    /// bytes.
    pub audit_bytes: usize,
    /// The most packages the audit data may list.
    pub packages: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            binary_bytes: 512 * 1024 * 1024,
            audit_bytes: 8 * 1024 * 1024,
            packages: 100_000,
        }
    }
}

impl Limits {
    /// Limits with these sizes.
    pub const fn new(binary_bytes: usize, audit_bytes: usize, packages: usize) -> Self {
        Self {
            binary_bytes,
            audit_bytes,
            packages,
        }
    }
}

#[derive(Deserialize)]
struct AuditData {
    packages: Vec<AuditPackage>,
    #[serde(default, rename = "format")]
    _format: u32,
}

#[derive(Deserialize)]
struct AuditPackage {
    name: String,
    version: String,
    source: String,
    #[serde(default)]
    kind: Option<Kind>,
    #[serde(default)]
    dependencies: Vec<usize>,
    #[serde(default)]
    root: bool,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Build,
    Runtime,
}

fn invalid(path: impl Into<String>, reason: impl Into<String>) -> Error {
    SbomError::Invalid {
        document: DOCUMENT,
        path: path.into(),
        reason: reason.into(),
    }
    .into()
}

/// The decompressed audit data (JSON text) of `binary`, within `limits`.
pub fn audit_json(binary: &[u8], limits: Limits) -> Result<String, Error> {
    if binary.len() > limits.binary_bytes {
        return Err(SbomError::TooLarge {
            what: "binary",
            limit: limits.binary_bytes,
        }
        .into());
    }
    let compressed = auditable_extract::raw_auditable_data(binary).map_err(|e| {
        use auditable_extract::Error as E;
        match e {
            E::NoAuditData | E::SectionIsMissing | E::SymbolsSectionIsMissing => {
                SbomError::NoAuditData
            }
            _ => SbomError::MalformedBinary,
        }
    })?;
    if compressed.len() > limits.audit_bytes {
        return Err(SbomError::TooLarge {
            what: "compressed audit data",
            limit: limits.audit_bytes,
        }
        .into());
    }
    let inflated =
        miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(compressed, limits.audit_bytes)
            .map_err(|e| match e.status {
                miniz_oxide::inflate::TINFLStatus::HasMoreOutput => SbomError::TooLarge {
                    what: "audit data",
                    limit: limits.audit_bytes,
                },
                _ => SbomError::CorruptAuditData,
            })?;
    String::from_utf8(inflated).map_err(|_| SbomError::CorruptAuditData.into())
}

/// The SBOM of `binary` from its `cargo auditable` data (see the
/// [module documentation](self)); `timestamp` is the SBOM's time.
pub fn from_binary(binary: &[u8], limits: Limits, timestamp: Timestamp) -> Result<Sbom, Error> {
    let json = audit_json(binary, limits)?;
    let mut sbom = from_audit_json(json.as_bytes(), limits, timestamp)?;
    sbom.root.hashes.push(DigestAlgorithm::Sha256.hash(binary));
    Ok(sbom)
}

fn check_word(value: &str, path: String) -> Result<(), Error> {
    if value.is_empty() || value.chars().any(char::is_whitespace) {
        return Err(invalid(path, "must be non-empty, without whitespace"));
    }
    Ok(())
}

/// The SBOM described by decompressed audit data (the JSON `cargo
/// auditable` embeds); the root gets no hash. Exposed for tests and fuzzing.
pub fn from_audit_json(json: &[u8], limits: Limits, timestamp: Timestamp) -> Result<Sbom, Error> {
    if json.len() > limits.audit_bytes {
        return Err(SbomError::TooLarge {
            what: "audit data",
            limit: limits.audit_bytes,
        }
        .into());
    }
    let data: AuditData = crate::json::from_slice(json, "cargo-auditable data")?;
    if data.packages.len() > limits.packages {
        return Err(invalid(
            "packages",
            format!("more than {} packages", limits.packages),
        ));
    }
    let count = data.packages.len();
    let mut root = None;
    let mut seen = BTreeSet::new();
    let mut components = Vec::with_capacity(count);
    for (i, p) in data.packages.iter().enumerate() {
        let path = format!("packages[{i}]");
        check_word(&p.name, format!("{path}.name"))?;
        check_word(&p.version, format!("{path}.version"))?;
        check_word(&p.source, format!("{path}.source"))?;
        if !seen.insert((&p.name, &p.version, &p.source)) {
            return Err(invalid(path, "the same package is listed twice"));
        }
        for (j, d) in p.dependencies.iter().enumerate() {
            if *d >= count || *d == i {
                return Err(invalid(
                    format!("{path}.dependencies[{j}]"),
                    format!("{d} is not the index of another package"),
                ));
            }
        }
        if p.root {
            if root.is_some() {
                return Err(invalid(format!("{path}.root"), "a second root package"));
            }
            root = Some(i);
        }
        let (source, has_purl) = match p.source.as_str() {
            "crates.io" => (SourceKind::Registry(CRATES_IO.to_owned()), true),
            "local" => (SourceKind::Path, true),
            _ => (SourceKind::Unknown, false),
        };
        let mut c = Component::new(p.name.clone(), p.version.clone());
        if has_purl {
            let p = purl(&p.name, &p.version, &source)
                .map_err(|e| invalid(format!("{path}.name"), format!("no purl: {e}")))?;
            c = c.with_purl(p);
        }
        c.source = source;
        if p.kind == Some(Kind::Build) {
            c.scope = Scope::Excluded;
        }
        components.push(Some(c));
    }
    let root = root.ok_or_else(|| invalid("packages", "no root package"))?;
    // Two packages of one name and version from sources without a purl
    // (git and registry) would share a bom-ref.
    let mut refs = BTreeSet::new();
    for (i, c) in components.iter().flatten().enumerate() {
        if !refs.insert(c.bom_ref.clone()) {
            return Err(invalid(
                format!("packages[{i}]"),
                format!("two packages are both `{}`", c.bom_ref),
            ));
        }
    }
    let bom_refs: Vec<BomRef> = components
        .iter()
        .flatten()
        .map(|c| c.bom_ref.clone())
        .collect();
    let root_component = components
        .get_mut(root)
        .and_then(Option::take)
        .ok_or_else(|| invalid("packages", "no root package"))?;
    let mut sbom = Sbom::new(root_component, timestamp);
    for c in components.into_iter().flatten() {
        sbom.add(c);
    }
    for (p, from) in data.packages.iter().zip(&bom_refs) {
        for d in &p.dependencies {
            if let Some(to) = bom_refs.get(*d) {
                sbom.depends(from, to);
            }
        }
    }
    Ok(sbom)
}

/// How a binary's SBOM differs from the lock-file SBOM of its workspace,
/// by `NAME@VERSION` (the binary's data does not carry git URLs or
/// registries, so purls are not compared).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Difference {
    /// Packages the binary's graph has and the lock file's graph of the
    /// same root does not (none, for data that matches its lock file).
    pub only_in_binary: BTreeSet<String>,
    /// Packages of the lock file's graph of the root that are not in the
    /// binary: dev-dependencies, dependencies of features or targets not
    /// built.
    pub only_in_lock_graph: BTreeSet<String>,
    /// Locked packages (the lock-file SBOM's components; its root is the
    /// workspace) outside the root's graph altogether: other workspace
    /// members and what only they use.
    pub outside_root_graph: BTreeSet<String>,
    /// Edges (`A -> B`) the binary has and the lock file does not.
    pub edges_only_in_binary: BTreeSet<(String, String)>,
    /// Edges between packages of the binary that the lock file has and
    /// the binary's data does not.
    pub edges_only_in_lock: BTreeSet<(String, String)>,
}

impl Difference {
    /// Whether the binary's packages and edges are exactly the lock
    /// file's graph of the root.
    pub fn is_same_graph(&self) -> bool {
        self.only_in_binary.is_empty()
            && self.only_in_lock_graph.is_empty()
            && self.edges_only_in_binary.is_empty()
            && self.edges_only_in_lock.is_empty()
    }
}

/// `NAME@VERSION` keyed graph of `sbom`: bom-ref -> key, and key edges.
fn keyed(sbom: &Sbom) -> (BTreeMap<&str, String>, BTreeSet<(String, String)>) {
    let key_of: BTreeMap<&str, String> = std::iter::once(&sbom.root)
        .chain(&sbom.components)
        .map(|c| (c.bom_ref.as_str(), format!("{}@{}", c.name, c.version)))
        .collect();
    let mut edges = BTreeSet::new();
    for (from, tos) in &sbom.dependencies {
        for to in tos {
            if let (Some(a), Some(b)) = (key_of.get(from.as_str()), key_of.get(to.as_str())) {
                edges.insert((a.clone(), b.clone()));
            }
        }
    }
    (key_of, edges)
}

/// Compares a binary's SBOM ([`from_binary`]) with the lock-file SBOM
/// ([`from_cargo`](super::cargo::from_cargo)) of the workspace it was built
/// from: the lock file's graph of the binary's root package (everything
/// reachable from it) against the binary's packages and edges.
pub fn compare(binary: &Sbom, lock: &Sbom) -> Difference {
    let (_, bin_edges) = keyed(binary);
    let (_, lock_edges) = keyed(lock);
    let bin_nodes: BTreeSet<String> = std::iter::once(&binary.root)
        .chain(&binary.components)
        .map(|c| format!("{}@{}", c.name, c.version))
        .collect();
    let root = format!("{}@{}", binary.root.name, binary.root.version);
    // Reachable from the root in the lock file's graph (iterative).
    let mut adjacency: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (a, b) in &lock_edges {
        adjacency.entry(a.as_str()).or_default().push(b.as_str());
    }
    let mut reachable: BTreeSet<&str> = BTreeSet::new();
    let mut stack = vec![root.as_str()];
    while let Some(n) = stack.pop() {
        if reachable.insert(n) {
            stack.extend(adjacency.get(n).into_iter().flatten().copied());
        }
    }
    // The lock-file SBOM's root is the workspace (virtual or a package
    // named by the manifest), not a locked package: only its components
    // count as locked.
    let all_locked: BTreeSet<String> = lock
        .components
        .iter()
        .map(|c| format!("{}@{}", c.name, c.version))
        .collect();
    let graph_edges: BTreeSet<(String, String)> = lock_edges
        .iter()
        .filter(|(a, b)| bin_nodes.contains(a) && bin_nodes.contains(b))
        .cloned()
        .collect();
    Difference {
        only_in_binary: bin_nodes
            .iter()
            .filter(|k| !reachable.contains(k.as_str()))
            .cloned()
            .collect(),
        only_in_lock_graph: reachable
            .iter()
            .filter(|k| !bin_nodes.contains(**k))
            .map(|k| (*k).to_owned())
            .collect(),
        outside_root_graph: all_locked
            .into_iter()
            .filter(|k| !reachable.contains(k.as_str()) && !bin_nodes.contains(k))
            .collect(),
        edges_only_in_binary: bin_edges.difference(&lock_edges).cloned().collect(),
        edges_only_in_lock: graph_edges.difference(&bin_edges).cloned().collect(),
    }
}
