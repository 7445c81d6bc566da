//! Side by side with cargo-cyclonedx 0.5.9 (`cargo cyclonedx -f json
//! --spec-version 1.5 --all --target all`): the same set of components
//! (name, version, purl) as custodia's lock-file producer, up to the
//! differences listed in [`DIFFERENCES`] — each applied by
//! [`peer_view`] and nothing else.
//!
//! Two projects: a copy of this repository (Cargo.toml, Cargo.lock, src;
//! all crates.io) and a fixture made in a temp dir with a workspace member,
//! a git dependency (a local repository, `branch = "main"`) and a package
//! from a second registry (a local git index with `file://` downloads), so
//! the git / registry / path purl spellings are compared too.
//!
//! cargo-cyclonedx is `cargo install --locked cargo-cyclonedx --version
//! 0.5.9` (`.ci/run` installs it). Without it the tests are SKIPPED with a
//! note locally and FAIL when `CI` is set; the same goes for `git` and `tar`
//! (the fixture needs them).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod files;

use files::copy_dir;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use custodia::sbom::cargo::{CargoInput, from_cargo};
use custodia::sbom::{Sbom, Scope, SourceKind};
use custodia::time::Timestamp;
use serde_json::Value;

/// Every way cargo-cyclonedx's component list differs from custodia's on
/// the same lock file, and why. `peer_view` turns custodia's SBOM into what
/// cargo-cyclonedx lists by applying exactly the rows marked as differences;
/// the rows saying "same" are asserted as they are.
const DIFFERENCES: &[(&str, &str, &str)] = &[
    (
        "root placement",
        "difference",
        "cargo-cyclonedx puts the root package in metadata.component and not in components; \
         custodia keeps it as Sbom::root (also outside Sbom::components)",
    ),
    (
        "purl of packages without a source (root, workspace members, path dependencies)",
        "difference",
        "cargo-cyclonedx adds `?download_url=file://DIR`, DIR relative to the root package \
         (`.` for the root itself); custodia writes the bare `pkg:cargo/NAME@VERSION`: a local \
         directory is nothing a consumer can fetch, and it would make the purl depend on the \
         checkout",
    ),
    (
        "which packages are listed",
        "difference",
        "cargo-cyclonedx lists what `cargo metadata` resolves as normal or build dependencies \
         of the root package, transitively (default features; --target all); custodia lists \
         every locked package, dev-only ones too (issue 4: a lock-file SBOM lists every locked \
         package); given `cargo metadata` output (CargoInput::with_metadata) custodia marks \
         those Excluded instead of dropping them",
    ),
    (
        "`+` in versions (semver build metadata, e.g. wasi 0.11.1+wasi-snapshot-preview1)",
        "difference",
        "cargo-cyclonedx (the purl crate) leaves `+` as it is; custodia percent-encodes it as \
         `%2B`, so that no form-style decoder reads it as a space; both decode to the same \
         version",
    ),
    (
        "purl of git packages",
        "same",
        "both write `vcs_url=git%2BURL%40COMMIT`: the lock file's `?branch=`/`?rev=` query \
         dropped, `#COMMIT` as `@COMMIT`, `+` and `@` percent-encoded, `:` and `/` not",
    ),
    (
        "purl of packages from registries other than crates.io",
        "same",
        "both write `repository_url=INDEX-URL` without the `registry+`/`sparse+` prefix",
    ),
    (
        "purl of crates.io packages",
        "same",
        "both write `pkg:cargo/NAME@VERSION` without qualifiers",
    ),
    (
        "hashes",
        "same",
        "both give the lock file's checksum as the one SHA-256 hash; none for git and path \
         packages",
    ),
    (
        "scope",
        "difference",
        "cargo-cyclonedx marks build-only packages `excluded`; custodia with cargo metadata \
         marks every package not reached through normal dependencies Excluded (build-only and \
         dev-only); without metadata everything is Required",
    ),
];

// ---------------------------------------------------------------- tools

/// The cargo that runs this test (cargo sets `CARGO`), or `cargo`.
fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// `PATH` with `$CARGO_HOME/bin` (or `~/.cargo/bin`) in front, where
/// `cargo install` puts cargo-cyclonedx.
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

/// Whether `program args` runs and succeeds.
fn runs(program: &OsString, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .env("PATH", path_with_cargo_bin())
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether the tools the test needs are there; panics under CI when not.
fn have(tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|tool| match *tool {
            "cargo-cyclonedx" => !runs(&cargo(), &["cyclonedx", "--version"]),
            other => !runs(&other.into(), &["--version"]),
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must run the cargo-cyclonedx comparison: missing {missing:?} \
         (.ci/run installs cargo-cyclonedx 0.5.9)"
    );
    eprintln!(
        "SKIPPED: {missing:?} not found (cargo install --locked cargo-cyclonedx --version 0.5.9)"
    );
    false
}

fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd
        .env("PATH", path_with_cargo_bin())
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs `cargo cyclonedx -f json --spec-version 1.5 --all --target all` in
/// `dir` (with `envs`), returns the root package's BOM and the wall time.
fn cargo_cyclonedx(dir: &Path, root: &str, envs: &[(&str, &OsString)]) -> (Value, Duration) {
    let mut cmd = Command::new(cargo());
    cmd.args([
        "cyclonedx",
        "-f",
        "json",
        "--spec-version",
        "1.5",
        "--all",
        "--target",
        "all",
    ])
    .current_dir(dir)
    .env("SOURCE_DATE_EPOCH", "1700000000");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let start = Instant::now();
    run(&mut cmd);
    let took = start.elapsed();
    let bom = std::fs::read(dir.join(format!("{root}.cdx.json"))).unwrap();
    (serde_json::from_slice(&bom).unwrap(), took)
}

/// `cargo metadata --format-version 1` in `dir` (what cargo-cyclonedx runs).
fn cargo_metadata(dir: &Path, envs: &[(&str, &OsString)]) -> String {
    let mut cmd = Command::new(cargo());
    cmd.args(["metadata", "--format-version", "1"])
        .current_dir(dir);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    String::from_utf8(run(&mut cmd).stdout).unwrap()
}

// ---------------------------------------------------------------- the two views

/// One component as a tool lists it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Listed {
    name: String,
    version: String,
    purl: String,
}

/// cargo-cyclonedx's BOM: the root and the components, with their SHA-256
/// hashes and scopes.
struct PeerBom {
    root: Listed,
    components: BTreeSet<Listed>,
    sha256: BTreeMap<(String, String), Vec<String>>,
    excluded: BTreeSet<(String, String)>,
}

fn listed(c: &Value) -> Listed {
    let s = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
    Listed {
        name: s("name"),
        version: s("version"),
        purl: s("purl"),
    }
}

fn peer_bom(bom: &Value) -> PeerBom {
    assert_eq!(bom["bomFormat"], "CycloneDX");
    assert_eq!(bom["specVersion"], "1.5");
    let mut out = PeerBom {
        root: listed(&bom["metadata"]["component"]),
        components: BTreeSet::new(),
        sha256: BTreeMap::new(),
        excluded: BTreeSet::new(),
    };
    for c in bom["components"].as_array().unwrap() {
        let l = listed(c);
        let key = (l.name.clone(), l.version.clone());
        let hashes = c["hashes"]
            .as_array()
            .map(|hs| {
                hs.iter()
                    .map(|h| {
                        assert_eq!(h["alg"], "SHA-256");
                        h["content"].as_str().unwrap().to_owned()
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.sha256.insert(key.clone(), hashes);
        if c["scope"] == "excluded" {
            out.excluded.insert(key);
        }
        assert!(out.components.insert(l), "listed twice: {c}");
    }
    out
}

/// What `cargo metadata` resolves: per (name, version), the package's
/// directory when it has no source; which packages the root reaches by
/// normal and build dependencies, and by dev dependencies too.
struct Resolve {
    root_dir: PathBuf,
    path_dirs: BTreeMap<(String, String), PathBuf>,
    normal_or_build: BTreeSet<(String, String)>,
    with_dev: BTreeSet<(String, String)>,
    in_resolve: BTreeSet<(String, String)>,
}

fn resolve(metadata: &str) -> Resolve {
    let m: Value = serde_json::from_str(metadata).unwrap();
    let mut key_of = BTreeMap::new();
    let mut dirs = BTreeMap::new();
    for p in m["packages"].as_array().unwrap() {
        let key = (
            p["name"].as_str().unwrap().to_owned(),
            p["version"].as_str().unwrap().to_owned(),
        );
        let id = p["id"].as_str().unwrap().to_owned();
        if p["source"].is_null() {
            let manifest = PathBuf::from(p["manifest_path"].as_str().unwrap());
            dirs.insert(id.clone(), manifest.parent().unwrap().to_owned());
        }
        key_of.insert(id, key);
    }
    let root = m["resolve"]["root"].as_str().unwrap().to_owned();
    // id -> [(dependency id, its dependency kinds: None for normal)]
    type Edges = BTreeMap<String, Vec<(String, Vec<Option<String>>)>>;
    let mut edges: Edges = BTreeMap::new();
    for node in m["resolve"]["nodes"].as_array().unwrap() {
        let deps = node["deps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                let kinds = d["dep_kinds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|k| k["kind"].as_str().map(str::to_owned))
                    .collect();
                (d["pkg"].as_str().unwrap().to_owned(), kinds)
            })
            .collect();
        edges.insert(node["id"].as_str().unwrap().to_owned(), deps);
    }
    let reach = |follow: &dyn Fn(&Option<String>) -> bool| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![root.clone()];
        while let Some(id) = stack.pop() {
            if seen.insert(id.clone()) {
                for (to, kinds) in edges.get(&id).into_iter().flatten() {
                    if kinds.iter().any(follow) {
                        stack.push(to.clone());
                    }
                }
            }
        }
        seen.iter()
            .map(|id| key_of[id].clone())
            .collect::<BTreeSet<_>>()
    };
    Resolve {
        root_dir: dirs[&root].clone(),
        path_dirs: dirs
            .iter()
            .map(|(id, dir)| (key_of[id].clone(), dir.clone()))
            .collect(),
        normal_or_build: reach(&|k| k.as_deref().is_none_or(|k| k == "build")),
        with_dev: reach(&|_| true),
        in_resolve: edges.keys().map(|id| key_of[id].clone()).collect(),
    }
}

/// custodia's root and components, as cargo-cyclonedx would list them:
/// the DIFFERENCES rows on purls and on which packages are listed applied
/// (root apart, `download_url` on packages without a source, `+` left
/// unencoded in versions, only what the root reaches by normal and build
/// dependencies), nothing else.
fn peer_view(sbom: &Sbom, resolve: &Resolve) -> (Listed, BTreeSet<Listed>) {
    let view = |c: &custodia::sbom::Component| {
        let ours = c.purl.as_ref().unwrap().as_str();
        // Row "`+` in versions": the peer leaves `+` unencoded (the name
        // and version part only; qualifiers are compared as they are).
        let mut purl = match ours.split_once('?') {
            Some((base, qualifiers)) => format!("{}?{qualifiers}", base.replace("%2B", "+")),
            None => ours.replace("%2B", "+"),
        };
        if c.source == SourceKind::Path {
            let dir = &resolve.path_dirs[&(c.name.clone(), c.version.clone())];
            let rel = dir
                .strip_prefix(&resolve.root_dir)
                .unwrap_or_else(|_| panic!("{} is outside the root package", dir.display()));
            let rel = if rel.as_os_str().is_empty() {
                ".".to_owned()
            } else {
                rel.to_str().unwrap().to_owned()
            };
            assert!(!purl.contains('?'), "a path purl has no qualifiers: {purl}");
            purl = format!("{purl}?download_url=file://{rel}");
        }
        Listed {
            name: c.name.clone(),
            version: c.version.clone(),
            purl,
        }
    };
    let root_key = (sbom.root.name.clone(), sbom.root.version.clone());
    let components = sbom
        .components
        .iter()
        .filter(|c| {
            let key = (c.name.clone(), c.version.clone());
            key != root_key && resolve.normal_or_build.contains(&key)
        })
        .map(view)
        .collect();
    (view(&sbom.root), components)
}

/// The whole comparison for one project; returns custodia's wall time
/// (reading both files and producing the model) next to the peer's.
fn compare(dir: &Path, project: &str, envs: &[(&str, &OsString)]) -> (Duration, Duration) {
    let original_lock = std::fs::read_to_string(dir.join("Cargo.lock")).unwrap();
    let (bom, peer_took) = cargo_cyclonedx(dir, project, envs);
    let metadata = cargo_metadata(dir, envs);

    let start = Instant::now();
    let lock = std::fs::read_to_string(dir.join("Cargo.lock")).unwrap();
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    let sbom = from_cargo(
        &CargoInput::new(&lock).with_manifest(&manifest),
        Timestamp::from_unix(1_700_000_000),
    )
    .unwrap();
    let custodia_took = start.elapsed();
    assert_eq!(
        lock, original_lock,
        "cargo metadata rewrote Cargo.lock: the lock file is out of date with Cargo.toml"
    );

    let peer = peer_bom(&bom);
    let resolve = resolve(&metadata);
    let (root, expected) = peer_view(&sbom, &resolve);

    // Rows "root placement" and "purl of packages without a source".
    assert_eq!(peer.root, root, "the root, as cargo-cyclonedx lists it");
    assert!(
        peer.root.purl.ends_with("?download_url=file://."),
        "{}",
        peer.root.purl
    );
    // Every other row: after applying the documented differences the sets
    // are equal, purls included.
    let missing: Vec<_> = expected.difference(&peer.components).collect();
    let extra: Vec<_> = peer.components.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "undocumented differences from cargo-cyclonedx:\n  only custodia: {missing:#?}\n  \
         only cargo-cyclonedx: {extra:#?}\n(see DIFFERENCES: {DIFFERENCES:#?})"
    );

    // Row "which packages are listed": what custodia lists beyond
    // cargo-cyclonedx is exactly the locked packages the root does not
    // reach by normal or build dependencies.
    let all: BTreeSet<(String, String)> = std::iter::once(&sbom.root)
        .chain(&sbom.components)
        .map(|c| (c.name.clone(), c.version.clone()))
        .collect();
    assert_eq!(
        all.len(),
        lock.matches("[[package]]").count(),
        "custodia lists every locked package"
    );
    let dropped: BTreeSet<_> = all.difference(&resolve.normal_or_build).cloned().collect();
    let dev_only = dropped.intersection(&resolve.with_dev).count();
    let unresolved = dropped.difference(&resolve.in_resolve).count();
    assert_eq!(
        expected.len() + 1 + dropped.len(),
        all.len(),
        "custodia = cargo-cyclonedx + the root + the unreached packages"
    );

    // Row "hashes": equal wherever both list the package.
    for c in &sbom.components {
        let key = (c.name.clone(), c.version.clone());
        if let Some(peer_hashes) = peer.sha256.get(&key) {
            let ours: Vec<String> = c.hashes.iter().map(|d| d.hex()).collect();
            assert_eq!(&ours, peer_hashes, "hashes of {key:?}");
        }
    }

    // Row "scope": with the same cargo metadata, custodia's Excluded is
    // cargo-cyclonedx's `excluded` (build-only) plus the dev-only packages.
    let enriched = from_cargo(
        &CargoInput::new(&lock)
            .with_manifest(&manifest)
            .with_metadata(&metadata),
        Timestamp::from_unix(1_700_000_000),
    )
    .unwrap();
    for c in &enriched.components {
        let key = (c.name.clone(), c.version.clone());
        let peer_excluded = peer.excluded.contains(&key);
        let listed_by_peer = resolve.normal_or_build.contains(&key);
        assert_eq!(
            c.scope == Scope::Excluded,
            peer_excluded || (!listed_by_peer && resolve.in_resolve.contains(&key)),
            "scope of {key:?}: ours {:?}, cargo-cyclonedx excluded: {peer_excluded}",
            c.scope
        );
    }
    assert!(sbom.components.iter().all(|c| c.scope == Scope::Required));

    println!(
        "{project}: custodia {} components + root, cargo-cyclonedx {} + root; \
         custodia only: {} ({dev_only} dev-only, {unresolved} not in cargo metadata's resolve); \
         build-only (excluded in both): {}",
        sbom.components.len(),
        peer.components.len(),
        dropped.len(),
        peer.excluded.len()
    );
    (custodia_took, peer_took)
}

fn write(path: impl AsRef<Path>, text: &str) {
    let path = path.as_ref();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn git(dir: &Path, args: &[&str]) {
    run(Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir));
}

// ---------------------------------------------------------------- tests

#[test]
fn this_repository_same_components_as_cargo_cyclonedx() {
    if !have(&["cargo-cyclonedx"]) {
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("custodia");
    std::fs::create_dir_all(&dir).unwrap();
    for file in ["Cargo.toml", "Cargo.lock"] {
        std::fs::copy(repo.join(file), dir.join(file)).unwrap();
    }
    copy_dir(&repo.join("src"), &dir.join("src"));

    let (custodia, peer) = compare(&dir, "custodia", &[]);
    println!(
        "this workspace: custodia from_cargo (debug build, files read) {custodia:?}, \
         cargo cyclonedx {peer:?} (x{:.0}; release numbers: benches/sbom.rs)",
        peer.as_secs_f64() / custodia.as_secs_f64().max(1e-9)
    );
}

#[test]
fn git_registry_and_path_sources_side_by_side() {
    if !have(&["cargo-cyclonedx", "git", "tar"]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().canonicalize().unwrap();
    let url = |p: &Path| format!("file://{}", p.display());

    // A git dependency: a local repository, depended on by branch.
    let gitdep = base.join("gitdep");
    write(
        gitdep.join("Cargo.toml"),
        "[package]\nname = \"gitdep\"\nversion = \"0.3.0\"\nedition = \"2021\"\n",
    );
    write(gitdep.join("src/lib.rs"), "");
    git(&gitdep, &["init", "-q"]);
    git(&gitdep, &["add", "."]);
    git(&gitdep, &["commit", "-q", "-m", "init"]);

    // A second registry: a git index and `.crate` files served from disk.
    let reg = base.join("registry");
    let src = reg.join("src");
    write(
        src.join("altdep-0.1.0/Cargo.toml"),
        "[package]\nname = \"altdep\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write(src.join("altdep-0.1.0/src/lib.rs"), "");
    std::fs::create_dir_all(reg.join("dl")).unwrap();
    run(Command::new("tar")
        .args(["czf", "../dl/altdep-0.1.0.crate", "altdep-0.1.0"])
        .current_dir(&src));
    let crate_bytes = std::fs::read(reg.join("dl/altdep-0.1.0.crate")).unwrap();
    let cksum = custodia::digest::DigestAlgorithm::Sha256
        .hash(&crate_bytes)
        .hex();
    let index = reg.join("index");
    write(
        index.join("al/td/altdep"),
        &format!(
            "{{\"name\":\"altdep\",\"vers\":\"0.1.0\",\"deps\":[],\"cksum\":\"{cksum}\",\
             \"features\":{{}},\"yanked\":false}}\n"
        ),
    );
    write(
        index.join("config.json"),
        &format!(
            "{{\"dl\":\"{}/{{crate}}-{{version}}.crate\"}}\n",
            url(&reg.join("dl"))
        ),
    );
    git(&index, &["init", "-q"]);
    git(&index, &["add", "."]);
    git(&index, &["commit", "-q", "-m", "index"]);

    // The project: a root package, a workspace member, both dependencies.
    let app = base.join("app");
    write(
        app.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"app\"\nversion = \"1.0.0\"\nedition = \"2021\"\nlicense = \"MIT\"\n\n\
             [workspace]\nmembers = [\"member\"]\n\n\
             [dependencies]\n\
             gitdep = {{ git = \"{}\", branch = \"main\" }}\n\
             member = {{ path = \"member\" }}\n\
             altdep = {{ version = \"0.1\", registry = \"alt\" }}\n",
            url(&gitdep)
        ),
    );
    write(app.join("src/lib.rs"), "");
    write(
        app.join("member/Cargo.toml"),
        "[package]\nname = \"member\"\nversion = \"0.2.0\"\nedition = \"2021\"\n",
    );
    write(app.join("member/src/lib.rs"), "");
    write(
        app.join(".cargo/config.toml"),
        &format!("[registries.alt]\nindex = \"{}\"\n", url(&index)),
    );
    // Its own CARGO_HOME, so the fixture's git checkout and registry stay
    // in the temp dir.
    let cargo_home: OsString = base.join("cargo-home").into();
    let envs = [("CARGO_HOME", &cargo_home)];
    let mut lock = Command::new(cargo());
    lock.arg("generate-lockfile").current_dir(&app);
    for (k, v) in envs {
        lock.env(k, v);
    }
    run(&mut lock);

    compare(&app, "app", &envs);

    // The purls the "same" rows speak of, spelled out.
    let lock = std::fs::read_to_string(app.join("Cargo.lock")).unwrap();
    let sbom = from_cargo(&CargoInput::new(&lock), Timestamp::from_unix(0)).unwrap();
    let purl = |name: &str| {
        sbom.components
            .iter()
            .find(|c| c.name == name)
            .and_then(|c| c.purl.as_ref())
            .map(|p| p.as_str().to_owned())
            .unwrap()
    };
    let rev = lock
        .split("?branch=main#")
        .nth(1)
        .and_then(|s| s.get(..40))
        .unwrap();
    assert_eq!(
        purl("gitdep"),
        format!(
            "pkg:cargo/gitdep@0.3.0?vcs_url=git%2Bfile://{}%40{rev}",
            gitdep.display()
        )
    );
    assert_eq!(
        purl("altdep"),
        format!(
            "pkg:cargo/altdep@0.1.0?repository_url=file://{}",
            index.display()
        )
    );
    assert_eq!(purl("member"), "pkg:cargo/member@0.2.0");
}

#[test]
fn the_difference_table_is_complete() {
    // Each row names its subject once and says whether it is a difference.
    let subjects: BTreeSet<&str> = DIFFERENCES.iter().map(|(s, _, _)| *s).collect();
    assert_eq!(subjects.len(), DIFFERENCES.len());
    assert!(
        DIFFERENCES
            .iter()
            .all(|(_, kind, why)| matches!(*kind, "same" | "difference") && !why.is_empty())
    );
}
