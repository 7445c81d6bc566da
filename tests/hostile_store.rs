//! Hostile store entries (issue #12, "bounded, safe store and layout
//! reads"): whoever can write to a store directory or an OCI image layout,
//! with no key at all, puts a FIFO, a symbolic link to /dev/zero, a 64 GiB
//! sparse file or a symbolic link loop where an envelope, a link, a head,
//! `index.json`, `oci-layout` or a manifest blob should be.
//!
//! Each must give a typed error (the variant is asserted, never message
//! text) promptly and in bounded memory: every operation runs on a thread
//! or as a child process that fails the test if it has not returned within
//! a deadline (a hang fails instead of blocking forever), and the CLI runs
//! under `/usr/bin/time` (Debian package `time`) for its peak RSS.
#![cfg(unix)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use files::copy_dir;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use custodia::Error;
use custodia::digest::{Digest, hash_path};
use custodia::error::{FileKind, StoreError};
use custodia::fsread::{self, Limit};
use custodia::promotion::{DirStore, Store};
use proptest::prelude::*;
use tempfile::TempDir;

mod cli_support;
mod files;
use cli_support::bins;

/// A library call that has not returned by then is a hang.
const LIBRARY_DEADLINE: Duration = Duration::from_secs(5);
/// What a library call may take (it takes microseconds when it does not
/// block; the margin is for a loaded CI machine).
const LIBRARY_PROMPT: Duration = Duration::from_secs(1);
/// A CLI run that has not exited by then is a hang.
const CLI_DEADLINE: Duration = Duration::from_secs(10);
/// Peak RSS a refusing CLI run may reach. A clean `verifier chain` of the
/// demo store peaks near 10 MiB; reading /dev/zero or a sparse file whole
/// reached 2-3 GiB before the reads were bounded.
const CLI_MAX_RSS_KIB: u64 = 128 * 1024;

/// What an attacker puts in place of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hostile {
    /// A named pipe nobody writes to: an open or read would block forever.
    Fifo,
    /// A symbolic link to /dev/zero: endless input.
    DevZero,
    /// A 64 GiB sparse file: costs no disk, would be read until memory ends.
    Sparse64G,
    /// Two symbolic links pointing at each other.
    SymlinkLoop,
}

const ALL: [Hostile; 4] = [
    Hostile::Fifo,
    Hostile::DevZero,
    Hostile::Sparse64G,
    Hostile::SymlinkLoop,
];

/// Replaces whatever is at `path` with `hostile`.
fn plant(path: &Path, hostile: Hostile) {
    let _ = fs::remove_file(path);
    match hostile {
        Hostile::Fifo => {
            let status = Command::new("mkfifo").arg(path).status().unwrap();
            assert!(status.success(), "mkfifo {}", path.display());
        }
        Hostile::DevZero => std::os::unix::fs::symlink("/dev/zero", path).unwrap(),
        Hostile::Sparse64G => fs::File::create(path).unwrap().set_len(64 << 30).unwrap(),
        Hostile::SymlinkLoop => {
            let mut other = path.as_os_str().to_owned();
            other.push(".loop");
            std::os::unix::fs::symlink(&other, path).unwrap();
            std::os::unix::fs::symlink(path, &other).unwrap();
        }
    }
}

/// Runs `f` on a thread; fails the test if it has not returned within
/// [`LIBRARY_DEADLINE`] (or took longer than [`LIBRARY_PROMPT`]).
fn promptly<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let start = Instant::now();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    let value = rx
        .recv_timeout(LIBRARY_DEADLINE)
        .unwrap_or_else(|_| panic!("{what}: no answer within {LIBRARY_DEADLINE:?} (a hang)"));
    let took = start.elapsed();
    assert!(took < LIBRARY_PROMPT, "{what}: took {took:?}");
    value
}

/// The error inside any `OciError::At` wrappers.
fn innermost(error: &Error) -> &Error {
    #[cfg(feature = "oci")]
    if let Error::Oci(custodia::oci::OciError::At { source, .. }) = error {
        return innermost(source);
    }
    error
}

/// The error `fsread` gives for `hostile` in place of a file of kind
/// `what`; `path` must be named.
fn assert_refused(error: &Error, hostile: Hostile, what: &str, path: &Path) {
    let inner = innermost(error);
    match (hostile, inner) {
        (Hostile::Fifo, Error::UnsafeFile { path: p, kind }) => {
            assert_eq!(*kind, FileKind::Fifo, "{error}");
            assert_eq!(p, path, "{error}");
        }
        (Hostile::DevZero | Hostile::SymlinkLoop, Error::UnsafeFile { path: p, kind }) => {
            assert_eq!(*kind, FileKind::Symlink, "{error}");
            assert_eq!(p, path, "{error}");
        }
        (
            Hostile::Sparse64G,
            Error::TooLarge {
                path: p, what: w, ..
            },
        ) => {
            assert_eq!(*w, what, "{error}");
            assert_eq!(p, path, "{error}");
        }
        _ => panic!("{hostile:?}: unexpected error {error:?}"),
    }
}

/// A directory store where `dev` is genesis -> a -> b, with a head hint.
fn store() -> (TempDir, DirStore, Digest, Digest) {
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::open(dir.path()).unwrap();
    let a = store.put(b"{\"record\":\"a\"}").unwrap();
    let b = store.put(b"{\"record\":\"b\"}").unwrap();
    store.link("dev", None, &a).unwrap();
    store.link("dev", Some(&a), &b).unwrap();
    store.set_head_hint("dev", &b).unwrap();
    (dir, store, a, b)
}

#[test]
fn a_hostile_envelope_is_refused_promptly() {
    for hostile in ALL {
        let (_dir, store, a, _) = store();
        let path = store.envelope_path(&a);
        plant(&path, hostile);
        let store = std::sync::Arc::new(store);
        let s = store.clone();
        let err = promptly("get", move || s.get(&a)).unwrap_err();
        assert_refused(&err, hostile, fsread::ENVELOPE.what(), &path);
        // Listing names only: the planted entry is never opened.
        let s = store.clone();
        assert_eq!(promptly("list", move || s.list()).unwrap().len(), 2);
    }
}

#[test]
fn a_hostile_link_or_head_is_refused_promptly() {
    for hostile in ALL {
        let (dir, store, a, _) = store();
        let store = std::sync::Arc::new(store);
        let link = dir.path().join("links/dev").join(a.hex());
        plant(&link, hostile);
        let s = store.clone();
        let err = promptly("successor", move || s.successor("dev", Some(&a))).unwrap_err();
        assert_refused(&err, hostile, fsread::STORE_LINK.what(), &link);
        let genesis = dir.path().join("links/dev/genesis");
        plant(&genesis, hostile);
        let s = store.clone();
        let err = promptly("successor", move || s.successor("dev", None)).unwrap_err();
        assert_refused(&err, hostile, fsread::STORE_LINK.what(), &genesis);

        let head = dir.path().join("heads/dev");
        plant(&head, hostile);
        let s = store.clone();
        let err = promptly("head_hint", move || s.head_hint("dev")).unwrap_err();
        assert_refused(&err, hostile, fsread::STORE_HEAD.what(), &head);
    }
}

#[test]
fn a_link_holding_more_than_a_digest_is_too_large_and_one_digest_is_read() {
    let (dir, store, a, b) = store();
    let link = dir.path().join("links/dev").join(a.hex());
    let mut text = b.hex().into_bytes();
    text.extend_from_slice(b"\n");
    fs::write(&link, &text).unwrap();
    assert_eq!(store.successor("dev", Some(&a)).unwrap(), Some(b.clone()));
    text.resize(fsread::STORE_LINK.bytes() as usize + 1, b' ');
    fs::write(&link, &text).unwrap();
    let err = store.successor("dev", Some(&a)).unwrap_err();
    assert!(
        matches!(&err, Error::TooLarge { limit, .. } if *limit == fsread::STORE_LINK.bytes()),
        "{err:?}"
    );
    // Non-UTF-8 bytes are a malformed link, not an I/O error.
    fs::write(&link, [0xff_u8; 64]).unwrap();
    let err = store.successor("dev", Some(&a)).unwrap_err();
    assert!(
        matches!(err, Error::Store(StoreError::Invalid(_))),
        "{err:?}"
    );
}

#[test]
fn put_replaces_a_hostile_entry_without_reading_it() {
    for hostile in ALL {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(DirStore::open(dir.path()).unwrap());
        let bytes = b"{\"record\":\"c\"}".to_vec();
        let digest = custodia::digest::DigestAlgorithm::Sha256.hash(&bytes);
        plant(&store.envelope_path(&digest), hostile);
        let s = store.clone();
        let put = bytes.clone();
        let stored = promptly("put", move || s.put(&put)).unwrap();
        assert_eq!(stored, digest);
        assert_eq!(store.get(&digest).unwrap(), bytes, "{hostile:?}");
    }
}

#[test]
fn hashing_a_special_file_is_refused_promptly() {
    let dir = tempfile::tempdir().unwrap();
    for hostile in [Hostile::Fifo, Hostile::DevZero, Hostile::SymlinkLoop] {
        let path = dir.path().join(format!("{hostile:?}"));
        plant(&path, hostile);
        let p = path.clone();
        let err = promptly("hash_path", move || hash_path(&p)).unwrap_err();
        assert_refused(&err, hostile, "", &path);
    }
    // Inside a tree, a FIFO is named as an entry that cannot be hashed.
    let tree = dir.path().join("tree");
    fs::create_dir(&tree).unwrap();
    fs::write(tree.join("a"), b"a").unwrap();
    plant(&tree.join("pipe"), Hostile::Fifo);
    let err = promptly("hash_path", move || hash_path(&tree)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Digest(custodia::error::DigestError::UnhashableTreeEntry { .. })
        ),
        "{err:?}"
    );
}

#[cfg(feature = "oci")]
mod oci {
    use super::*;
    use custodia::oci::{Descriptor, ImageBuilder, Layout, OciError};

    /// A layout with one image `v1`; its manifest's descriptor.
    fn layout() -> (TempDir, Descriptor) {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::create(dir.path()).unwrap();
        let manifest = ImageBuilder::new()
            .file("app", b"#!/bin/sh\necho hi\n")
            .write_to(&layout, "v1")
            .unwrap();
        (dir, manifest)
    }

    fn blob(root: &Path, descriptor: &Descriptor) -> PathBuf {
        root.join(Layout::blob_path(&descriptor.digest).unwrap())
    }

    /// What a layout read gives for `hostile`: symbolic links are refused
    /// by the layout before opening; a sparse blob is read only up to its
    /// descriptor's size + 1.
    fn assert_layout_refused(error: &Error, hostile: Hostile, path: &Path, whole_file: bool) {
        let inner = innermost(error);
        match hostile {
            Hostile::Fifo => assert_refused(error, hostile, "", path),
            Hostile::DevZero | Hostile::SymlinkLoop => assert!(
                matches!(inner, Error::Oci(OciError::Invalid { .. })),
                "{hostile:?}: {error:?}"
            ),
            Hostile::Sparse64G if whole_file => assert!(
                matches!(inner, Error::Oci(OciError::TooLarge { .. })),
                "{hostile:?}: {error:?}"
            ),
            Hostile::Sparse64G => assert!(
                matches!(inner, Error::Oci(OciError::SizeMismatch { .. })),
                "{hostile:?}: {error:?}"
            ),
        }
    }

    #[test]
    fn hostile_layout_files_are_refused_promptly() {
        for hostile in ALL {
            for file in ["index.json", "oci-layout"] {
                let (dir, _) = layout();
                let path = dir.path().join(file);
                plant(&path, hostile);
                let root = dir.path().to_owned();
                let err = promptly(file, move || Layout::open(&root)?.index()).unwrap_err();
                assert_layout_refused(&err, hostile, &path, true);
            }
        }
    }

    #[test]
    fn hostile_blobs_are_refused_promptly() {
        for hostile in ALL {
            let (dir, manifest) = layout();
            let layout = Layout::open(dir.path()).unwrap();
            let image = layout.read_image_manifest(&manifest).unwrap();
            let layer = image.layers[0].clone();

            let path = blob(dir.path(), &manifest);
            plant(&path, hostile);
            let (root, m) = (dir.path().to_owned(), manifest.clone());
            let err = promptly("manifest", move || {
                Layout::open(&root)?.read_manifest(&m).map(|_| ())
            })
            .unwrap_err();
            assert_layout_refused(&err, hostile, &path, false);

            let path = blob(dir.path(), &layer);
            plant(&path, hostile);
            let root = dir.path().to_owned();
            let err =
                promptly("layer", move || Layout::open(&root)?.verify_blob(&layer)).unwrap_err();
            assert_layout_refused(&err, hostile, &path, false);
        }
    }
}

// ---- the command line ----

/// The demo's output (policy.json, store/, artifact, ...), made once.
fn demo() -> &'static Path {
    static DEMO: OnceLock<TempDir> = OnceLock::new();
    DEMO.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(&bins().demo)
            .arg("--out")
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        dir
    })
    .path()
}

/// One CLI run: exit code, stderr, wall time and peak RSS.
#[derive(Debug)]
struct Run {
    code: i32,
    stderr: String,
    took: Duration,
    max_rss_kib: u64,
}

/// Runs `bin args` under `/usr/bin/time -f %M` with stdin closed; fails
/// the test if it has not exited within [`CLI_DEADLINE`].
fn run_bounded(bin: &Path, args: &[OsString]) -> Run {
    let scratch = tempfile::tempdir().unwrap();
    let (rss, out, err) = (
        scratch.path().join("rss"),
        scratch.path().join("out"),
        scratch.path().join("err"),
    );
    let time = Path::new("/usr/bin/time");
    assert!(
        time.exists(),
        "/usr/bin/time is needed (Debian package `time`; .ci/run installs it)"
    );
    let start = Instant::now();
    let mut child = Command::new(time)
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss)
        .arg(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out).unwrap())
        .stderr(fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > CLI_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?}: no exit within {CLI_DEADLINE:?} (a hang)");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let took = start.elapsed();
    let rss_text = fs::read_to_string(&rss).unwrap();
    let max_rss_kib = rss_text
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no RSS in {rss_text:?}"));
    let stderr = fs::read_to_string(&err).unwrap();
    let code = status.code().expect("exited normally");
    assert!(
        code != 101 && !stderr.contains("panicked"),
        "panic: {stderr}"
    );
    Run {
        code,
        stderr,
        took,
        max_rss_kib,
    }
}

fn args(parts: &[&dyn AsRef<std::ffi::OsStr>]) -> Vec<OsString> {
    parts.iter().map(|p| p.as_ref().to_owned()).collect()
}

/// Asserts a refusal: exit 1 (the record is refused) or 2 (unreadable
/// input), `named` on stderr, within the deadline, in bounded memory.
fn assert_cli_refused(run: &Run, named: &str, what: &str) {
    assert!(run.code == 1 || run.code == 2, "{what}: {run:#?}");
    assert!(run.stderr.starts_with("error: "), "{what}: {run:#?}");
    assert!(
        run.stderr.contains(named),
        "{what}: {named} not named: {run:#?}"
    );
    assert!(
        run.max_rss_kib < CLI_MAX_RSS_KIB,
        "{what}: peak RSS {} KiB: {run:#?}",
        run.max_rss_kib
    );
    eprintln!(
        "{what}: exit {} in {:?}, peak RSS {} KiB",
        run.code, run.took, run.max_rss_kib
    );
}

#[test]
fn verifier_chain_refuses_hostile_store_entries() {
    let clean = tempfile::tempdir().unwrap();
    copy_dir(demo(), clean.path());
    let chain = |root: &Path| {
        run_bounded(
            &bins().verifier,
            &args(&[
                &"chain",
                &"--policy",
                &root.join("policy.json"),
                &"--dir",
                &root.join("store"),
            ]),
        )
    };
    let baseline = chain(clean.path());
    assert_eq!(baseline.code, 0, "{baseline:#?}");
    eprintln!(
        "clean chain: {:?}, peak RSS {} KiB",
        baseline.took, baseline.max_rss_kib
    );
    // prod's first record, the link naming it, and prod's head.
    let first = fs::read_to_string(clean.path().join("store/links/prod/genesis")).unwrap();
    let targets = [
        format!("store/envelopes/{}", first.trim()),
        "store/links/prod/genesis".to_owned(),
        "store/heads/prod".to_owned(),
    ];
    for target in &targets {
        for hostile in ALL {
            let dir = tempfile::tempdir().unwrap();
            copy_dir(demo(), dir.path());
            plant(&dir.path().join(target), hostile);
            let run = chain(dir.path());
            let named = target.trim_start_matches("store/");
            assert_cli_refused(&run, named, &format!("{target} as {hostile:?}"));
        }
    }
}

#[test]
fn verifier_chain_refuses_a_special_file_argument() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(demo(), dir.path());
    for hostile in [Hostile::Fifo, Hostile::DevZero, Hostile::SymlinkLoop] {
        let file = dir.path().join(format!("input-{hostile:?}"));
        plant(&file, hostile);
        let run = run_bounded(
            &bins().verifier,
            &args(&[
                &"chain",
                &"--policy",
                &dir.path().join("policy.json"),
                &"--dir",
                &dir.path().join("store"),
                &"--file",
                &file,
            ]),
        );
        assert_eq!(run.code, 2, "{run:#?}");
        assert_cli_refused(
            &run,
            &format!("input-{hostile:?}"),
            &format!("--file {hostile:?}"),
        );
    }
}

#[cfg(feature = "oci")]
#[test]
fn verifier_oci_refuses_hostile_layout_entries() {
    use custodia::keys::{KeyAlgorithm, PrivateKey};
    use custodia::oci::{ImageBuilder, Layout};

    let make = || {
        let dir = tempfile::tempdir().unwrap();
        let key = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
        fs::write(dir.path().join("builder.pub"), key.public_key().to_pem()).unwrap();
        let layout = Layout::create(dir.path().join("image")).unwrap();
        let manifest = ImageBuilder::new()
            .file("app", b"#!/bin/sh\necho hi\n")
            .write_to(&layout, "v1")
            .unwrap();
        let blob = Layout::blob_path(&manifest.digest).unwrap();
        (dir, blob)
    };
    let oci = |root: &Path| {
        let mut layout = root.join("image").into_os_string();
        layout.push(":v1");
        run_bounded(
            &bins().verifier,
            &args(&[
                &"oci",
                &"--oci-layout",
                &layout,
                &"--key",
                &root.join("builder.pub"),
                &"--predicate-type",
                &"https://slsa.dev/provenance/v1",
            ]),
        )
    };
    // Nothing is attached: a clean layout is refused for that (exit 1).
    let (clean, blob) = make();
    let baseline = oci(clean.path());
    assert_eq!(baseline.code, 1, "{baseline:#?}");
    let blob = blob.to_string_lossy().into_owned();
    for target in ["index.json", "oci-layout", blob.as_str()] {
        for hostile in ALL {
            let (dir, _) = make();
            plant(&dir.path().join("image").join(target), hostile);
            let run = oci(dir.path());
            assert_eq!(run.code, 2, "{target} as {hostile:?}: {run:#?}");
            assert_cli_refused(&run, target, &format!("{target} as {hostile:?}"));
        }
    }
}

// ---- the bounded read itself ----

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// For any bytes and any limit, the read returns the bytes exactly
    /// when they fit, and `TooLarge` naming the limit otherwise.
    #[test]
    fn bounded_read_returns_the_bytes_exactly_when_they_fit(
        bytes in proptest::collection::vec(any::<u8>(), 0..4096),
        limit in 0u64..5000,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs::write(&path, &bytes).unwrap();
        let result = fsread::read(&path, Limit::new("test file", limit));
        if bytes.len() as u64 <= limit {
            prop_assert_eq!(result.unwrap(), bytes);
        } else {
            let err = result.unwrap_err();
            prop_assert!(
                matches!(&err, Error::TooLarge { limit: l, what: "test file", path: p }
                    if *l == limit && *p == path),
                "{:?}", err
            );
        }
    }
}

// ---- the store-directory fuzz target's function, on its seeds ----

#[test]
fn generated_store_directories_are_read_without_panic_or_hang() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/store_dir");
    let mut count = 0;
    for entry in fs::read_dir(seeds).unwrap() {
        let data = fs::read(entry.unwrap().path()).unwrap();
        promptly("store_dir seed", move || {
            custodia::fuzzing::store_dir(&data)
        });
        count += 1;
    }
    assert!(count >= 3, "seeds missing");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any generated store directory is read without a panic or a hang.
    #[test]
    fn any_generated_store_directory_is_read_promptly(
        data in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        promptly("store_dir", move || custodia::fuzzing::store_dir(&data));
    }
}
