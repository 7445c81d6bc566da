//! Content-addressed envelope stores with fork-proof environment links.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use crate::digest::{Digest, DigestAlgorithm};
use crate::error::{Error, StoreError};
use crate::fsread;

/// Where envelopes and promotion links live.
///
/// Envelopes are content-addressed: stored under the SHA-256 of their
/// bytes, and a read whose bytes do not hash to the name is corruption.
/// Each environment's history is a chain of links `previous -> next`; a
/// link, once written, is never replaced, so two promotions that raced for
/// the same `previous` cannot both win: the second gets
/// [`StoreError::Conflict`].
pub trait Store: Send + Sync {
    /// Stores envelope bytes; returns their SHA-256. Idempotent.
    fn put(&self, bytes: &[u8]) -> Result<Digest, Error>;
    /// The bytes stored under `digest`, checked against it.
    fn get(&self, digest: &Digest) -> Result<Vec<u8>, Error>;
    /// Lends the bytes stored under `digest` to `read`, once, without
    /// copying them where the store holds them in memory. The default
    /// reads them with [`get`](Self::get). `read` must not use the store
    /// (a store may hold a lock while it lends).
    fn read_with(&self, digest: &Digest, read: &mut dyn FnMut(&[u8])) -> Result<(), Error> {
        read(&self.get(digest)?);
        Ok(())
    }
    /// Every stored digest.
    fn list(&self) -> Result<Vec<Digest>, Error>;
    /// The stored digests that `keep` accepts, sorted. A store that can
    /// list lazily overrides it, so that only the names kept are held at
    /// once (validation keeps those it has not already read: in a store of
    /// millions of envelopes, a handful).
    fn list_where(&self, keep: &mut dyn FnMut(&Digest) -> bool) -> Result<Vec<Digest>, Error> {
        let mut digests = self.list()?;
        digests.retain(|d| keep(d));
        digests.sort();
        Ok(digests)
    }
    /// Records that `next` follows `previous` (`None`: the environment's
    /// first record). Fails with a conflict if another record already
    /// follows `previous`; succeeds if `next` itself already does.
    fn link(
        &self,
        environment: &str,
        previous: Option<&Digest>,
        next: &Digest,
    ) -> Result<(), Error>;
    /// The record that follows `previous` in `environment`.
    fn successor(
        &self,
        environment: &str,
        previous: Option<&Digest>,
    ) -> Result<Option<Digest>, Error>;
    /// Deletes a stored envelope that nothing links to: a promotion that
    /// lost a race removes its record, so no unlinked record is left behind.
    /// Stores that cannot delete return an error.
    fn remove(&self, digest: &Digest) -> Result<(), Error> {
        Err(StoreError::Invalid(format!("this store cannot remove {digest}")).into())
    }
    /// A recent head of `environment`, to start from instead of genesis.
    /// Only a hint: callers check it is linked and follow links past it.
    fn head_hint(&self, environment: &str) -> Result<Option<Digest>, Error> {
        let _ = environment;
        Ok(None)
    }
    /// Records a head hint (best effort).
    fn set_head_hint(&self, environment: &str, head: &Digest) -> Result<(), Error> {
        let _ = (environment, head);
        Ok(())
    }
    /// Whether the store is custodia's own, whose reads hold only bytes
    /// that hash to their name: [`DirStore`] hashes what it read and
    /// compares; [`MemoryStore`] holds only what its `put` hashed. For any
    /// other implementation the readers hash the bytes again, so a store
    /// that skips the check cannot substitute content. Not for implementors
    /// to override.
    #[doc(hidden)]
    fn checks_content(&self) -> bool {
        false
    }
}

const GENESIS: &str = "genesis";

fn link_name(previous: Option<&Digest>) -> String {
    previous.map_or_else(|| GENESIS.to_owned(), Digest::hex)
}

/// Fails unless `bytes` hash to `digest`: every read goes through this.
pub(crate) fn check_content(digest: &Digest, bytes: &[u8]) -> Result<(), Error> {
    let actual = DigestAlgorithm::Sha256.hash(bytes);
    if actual == *digest {
        Ok(())
    } else {
        Err(StoreError::Corrupt {
            name: format!("envelopes/{}", digest.hex()),
            actual: actual.to_string(),
        }
        .into())
    }
}

fn link_label(previous: Option<&Digest>) -> String {
    previous.map_or_else(|| GENESIS.to_owned(), ToString::to_string)
}

fn sha256(hex: &str) -> Result<Digest, Error> {
    Digest::from_hex(DigestAlgorithm::Sha256, hex.trim()).map_err(|_| {
        StoreError::Invalid(format!(
            "`{}` is not a SHA-256 digest",
            crate::digest::shorten(hex)
        ))
        .into()
    })
}

/// Environment names: 1-64 of `[a-z0-9_-]` (they become file and tag names).
pub(crate) fn check_environment(environment: &str) -> Result<(), Error> {
    let ok = !environment.is_empty()
        && environment.len() <= 64
        && environment
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "environment name `{}` must be 1-64 of [a-z0-9_-]",
            crate::digest::shorten(environment)
        ))
        .into())
    }
}

/// A store in a directory:
///
/// * `envelopes/<sha256 hex>`: one file per envelope, named by the SHA-256
///   of its bytes, written to a temporary file and renamed into place;
/// * `links/<environment>/<previous hex | genesis>`: the hex digest of the
///   record that follows. A link is created with `link(2)` from a complete
///   temporary file, which fails if the name exists: atomic, never partial,
///   and a race between two processes has exactly one winner.
///
/// The directory is untrusted: every file is read through
/// [`crate::fsread`], so a FIFO, device, symbolic link or oversized file in
/// place of an envelope ([`fsread::ENVELOPE`]), a link
/// ([`fsread::STORE_LINK`]) or a head ([`fsread::STORE_HEAD`]) is a typed
/// error naming the path ([`Error::UnsafeFile`], [`Error::TooLarge`]),
/// never a hang or an unbounded allocation; `list` and `list_where` stop
/// at [`fsread::MAX_STORE_ENVELOPES`] names.
///
/// ```
/// use custodia::promotion::{DirStore, Store};
/// let dir = tempfile::tempdir()?;
/// let store = DirStore::open(dir.path())?;
/// let a = store.put(b"{\"envelope\":1}")?;
/// assert_eq!(store.get(&a)?, b"{\"envelope\":1}");
/// let b = store.put(b"{\"envelope\":2}")?;
/// store.link("prod", None, &a)?;
/// store.link("prod", Some(&a), &b)?;
/// assert!(store.link("prod", Some(&a), &a).is_err()); // no fork
/// assert_eq!(store.successor("prod", Some(&a))?, Some(b));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct DirStore {
    root: PathBuf,
    counter: AtomicU64,
}

impl DirStore {
    /// Opens (creating if needed) a store in `root`.
    pub fn open(root: impl AsRef<Path>) -> Result<Self, Error> {
        let root = root.as_ref().to_owned();
        for sub in ["envelopes", "links", "heads", "tmp"] {
            let dir = root.join(sub);
            fs::create_dir_all(&dir).map_err(|source| Error::Io { path: dir, source })?;
        }
        Ok(Self {
            root,
            counter: AtomicU64::new(0),
        })
    }

    /// Opens an existing store without creating anything (for verifiers):
    /// fails if `root` has no `envelopes/` directory.
    pub fn open_existing(root: impl AsRef<Path>) -> Result<Self, Error> {
        let root = root.as_ref().to_owned();
        let envelopes = root.join("envelopes");
        if !envelopes.is_dir() {
            return Err(StoreError::Invalid(format!(
                "{} is not a custodia store (no envelopes/ directory)",
                root.display()
            ))
            .into());
        }
        Ok(Self {
            root,
            counter: AtomicU64::new(0),
        })
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The path of an envelope's file.
    pub fn envelope_path(&self, digest: &Digest) -> PathBuf {
        self.root.join("envelopes").join(digest.hex())
    }

    fn io(path: &Path) -> impl Fn(io::Error) -> Error + '_ {
        move |source| Error::Io {
            path: path.to_owned(),
            source,
        }
    }

    /// Writes `bytes` to a new, synced temporary file.
    fn temp_file(&self, bytes: &[u8]) -> Result<PathBuf, Error> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let dir = self.root.join("tmp");
        fs::create_dir_all(&dir).map_err(Self::io(&dir))?;
        let path = dir.join(format!("{}-{n}-{nanos}", std::process::id()));
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(Self::io(&path))?;
        file.write_all(bytes).map_err(Self::io(&path))?;
        file.sync_all().map_err(Self::io(&path))?;
        Ok(path)
    }
}

impl Store for DirStore {
    fn checks_content(&self) -> bool {
        true
    }

    fn put(&self, bytes: &[u8]) -> Result<Digest, Error> {
        let digest = DigestAlgorithm::Sha256.hash(bytes);
        let path = self.envelope_path(&digest);
        if fsread::read(&path, fsread::ENVELOPE).is_ok_and(|existing| existing == bytes) {
            return Ok(digest);
        }
        let temp = self.temp_file(bytes)?;
        let renamed = fs::rename(&temp, &path).map_err(Self::io(&path));
        if renamed.is_err() {
            let _ = fs::remove_file(&temp);
        }
        renamed?;
        Ok(digest)
    }

    fn get(&self, digest: &Digest) -> Result<Vec<u8>, Error> {
        let path = self.envelope_path(digest);
        let bytes = fsread::read_optional(&path, fsread::ENVELOPE)?
            .ok_or_else(|| StoreError::Missing(digest.to_string()))?;
        check_content(digest, &bytes)?;
        Ok(bytes)
    }

    fn list(&self) -> Result<Vec<Digest>, Error> {
        self.list_where(&mut |_| true)
    }

    fn list_where(&self, keep: &mut dyn FnMut(&Digest) -> bool) -> Result<Vec<Digest>, Error> {
        let dir = self.root.join("envelopes");
        let mut out = Vec::new();
        for entry in fsread::read_dir(&dir, fsread::MAX_STORE_ENVELOPES)? {
            let entry = entry?;
            let name = entry.file_name();
            let name = name.to_str().ok_or_else(|| {
                StoreError::Invalid(format!("non-UTF-8 file name in {}", dir.display()))
            })?;
            // Only digest-named files can be envelopes; anything else
            // (an editor's backup, a stray file) is never read.
            if let Ok(digest) = sha256(name) {
                if keep(&digest) {
                    out.push(digest);
                }
            }
        }
        out.sort();
        Ok(out)
    }

    fn link(
        &self,
        environment: &str,
        previous: Option<&Digest>,
        next: &Digest,
    ) -> Result<(), Error> {
        check_environment(environment)?;
        let dir = self.root.join("links").join(environment);
        fs::create_dir_all(&dir).map_err(Self::io(&dir))?;
        let path = dir.join(link_name(previous));
        let temp = self.temp_file(next.hex().as_bytes())?;
        let linked = fs::hard_link(&temp, &path);
        let _ = fs::remove_file(&temp);
        match linked {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let existing = self.successor(environment, previous)?;
                match existing {
                    Some(d) if d == *next => Ok(()),
                    Some(d) => Err(StoreError::Conflict {
                        environment: environment.to_owned(),
                        previous: link_label(previous),
                        existing: d.to_string(),
                    }
                    .into()),
                    None => {
                        Err(StoreError::Invalid(format!("link {} vanished", path.display())).into())
                    }
                }
            }
            Err(source) => Err(Error::Io { path, source }),
        }
    }

    fn successor(
        &self,
        environment: &str,
        previous: Option<&Digest>,
    ) -> Result<Option<Digest>, Error> {
        check_environment(environment)?;
        let path = self
            .root
            .join("links")
            .join(environment)
            .join(link_name(previous));
        read_digest_file(&path, fsread::STORE_LINK, "link file")
    }

    fn remove(&self, digest: &Digest) -> Result<(), Error> {
        let path = self.envelope_path(digest);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(Error::Io { path, source }),
        }
    }

    fn head_hint(&self, environment: &str) -> Result<Option<Digest>, Error> {
        let path = self.head_path(environment)?;
        read_digest_file(&path, fsread::STORE_HEAD, "head file")
    }

    fn set_head_hint(&self, environment: &str, head: &Digest) -> Result<(), Error> {
        let path = self.head_path(environment)?;
        let temp = self.temp_file(head.hex().as_bytes())?;
        let renamed = fs::rename(&temp, &path).map_err(Self::io(&path));
        if renamed.is_err() {
            let _ = fs::remove_file(&temp);
        }
        renamed
    }
}

/// A link or head file: one SHA-256 hex digest, read bounded by `limit`
/// (never a FIFO, device or symbolic link); `None` if there is none.
fn read_digest_file(
    path: &Path,
    limit: fsread::Limit,
    what: &str,
) -> Result<Option<Digest>, Error> {
    let Some(bytes) = fsread::read_optional(path, limit)? else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&bytes);
    sha256(&text)
        .map(Some)
        .map_err(|e| StoreError::Invalid(format!("{what} {}: {e}", path.display())).into())
}

impl DirStore {
    fn head_path(&self, environment: &str) -> Result<PathBuf, Error> {
        check_environment(environment)?;
        Ok(self.root.join("heads").join(environment))
    }
}

/// An in-memory store, for tests and benchmarks.
///
/// Its envelopes enter only through [`put`](Store::put), which names them
/// by the hash of their bytes, so a read need not hash them again; and
/// [`read_with`](Store::read_with) lends them without a copy.
#[derive(Debug, Default)]
pub struct MemoryStore {
    /// Hashed, not ordered: a lookup among millions of envelopes is one
    /// probe, not a walk down a tree; `list` sorts. Read-locked while a
    /// reader holds lent bytes, so readers on several threads do not wait
    /// for each other.
    envelopes: RwLock<HashMap<Digest, Vec<u8>>>,
    /// environment -> previous (`None` at genesis) -> next: hashed too
    /// (following a chain is one probe per link, with no text made).
    links: Mutex<HashMap<String, HashMap<Option<Digest>, Digest>>>,
    heads: Mutex<BTreeMap<String, Digest>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

fn poisoned<T>(_: T) -> Error {
    StoreError::Invalid("store lock poisoned by a panic".to_owned()).into()
}

impl Store for MemoryStore {
    fn checks_content(&self) -> bool {
        true
    }

    fn put(&self, bytes: &[u8]) -> Result<Digest, Error> {
        let digest = DigestAlgorithm::Sha256.hash(bytes);
        self.envelopes
            .write()
            .map_err(poisoned)?
            .insert(digest.clone(), bytes.to_vec());
        Ok(digest)
    }

    fn get(&self, digest: &Digest) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        self.read_with(digest, &mut |bytes| out = bytes.to_vec())?;
        Ok(out)
    }

    fn read_with(&self, digest: &Digest, read: &mut dyn FnMut(&[u8])) -> Result<(), Error> {
        let envelopes = self.envelopes.read().map_err(poisoned)?;
        let bytes = envelopes
            .get(digest)
            .ok_or_else(|| StoreError::Missing(digest.to_string()))?;
        read(bytes);
        Ok(())
    }

    fn list(&self) -> Result<Vec<Digest>, Error> {
        self.list_where(&mut |_| true)
    }

    fn list_where(&self, keep: &mut dyn FnMut(&Digest) -> bool) -> Result<Vec<Digest>, Error> {
        let mut digests: Vec<Digest> = self
            .envelopes
            .read()
            .map_err(poisoned)?
            .keys()
            .filter(|d| keep(d))
            .cloned()
            .collect();
        digests.sort();
        Ok(digests)
    }

    fn link(
        &self,
        environment: &str,
        previous: Option<&Digest>,
        next: &Digest,
    ) -> Result<(), Error> {
        check_environment(environment)?;
        let mut links = self.links.lock().map_err(poisoned)?;
        let links = links.entry(environment.to_owned()).or_default();
        let key = previous.cloned();
        match links.get(&key) {
            Some(existing) if existing == next => Ok(()),
            Some(existing) => Err(StoreError::Conflict {
                environment: environment.to_owned(),
                previous: link_label(previous),
                existing: existing.to_string(),
            }
            .into()),
            None => {
                links.insert(key, next.clone());
                Ok(())
            }
        }
    }

    fn successor(
        &self,
        environment: &str,
        previous: Option<&Digest>,
    ) -> Result<Option<Digest>, Error> {
        let links = self.links.lock().map_err(poisoned)?;
        Ok(links
            .get(environment)
            .and_then(|links| links.get(&previous.cloned()))
            .cloned())
    }

    fn remove(&self, digest: &Digest) -> Result<(), Error> {
        self.envelopes.write().map_err(poisoned)?.remove(digest);
        Ok(())
    }

    fn head_hint(&self, environment: &str) -> Result<Option<Digest>, Error> {
        Ok(self
            .heads
            .lock()
            .map_err(poisoned)?
            .get(environment)
            .cloned())
    }

    fn set_head_hint(&self, environment: &str, head: &Digest) -> Result<(), Error> {
        self.heads
            .lock()
            .map_err(poisoned)?
            .insert(environment.to_owned(), head.clone());
        Ok(())
    }
}

/// Fuzzing: builds a store directory from `data` (a small program of
/// envelope, link, head, raw-file, directory and symbolic-link entries,
/// some pointing at /dev/zero or at themselves), then reads it the way a
/// verifier does: list, get every envelope, every head, and each
/// environment's links from genesis. Every read must end (no hang), fail
/// with an error or hold what it promises (an envelope's bytes hash to its
/// name), never panic.
#[doc(hidden)]
pub fn fuzz_store_dir(data: &[u8]) {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    const ENVIRONMENTS: [&str; 2] = ["dev", "prod"];
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let root =
        std::env::temp_dir().join(format!("custodia-fuzz-store-{}-{}", std::process::id(), n));
    let _ = fs::remove_dir_all(&root);
    if DirStore::open(&root).is_err() {
        return;
    }
    let mut bytes = data.iter().copied();
    let mut names: Vec<String> = Vec::new();
    // `genesis` for 0 (or no envelopes yet), else one of the names so far.
    let pick = |names: &[String], b: Option<u8>| -> String {
        match b {
            Some(b) if b > 0 && !names.is_empty() => names
                .get(usize::from(b - 1) % names.len())
                .cloned()
                .unwrap_or_else(|| GENESIS.to_owned()),
            _ => GENESIS.to_owned(),
        }
    };
    while let Some(op) = bytes.next() {
        let env = ENVIRONMENTS
            .get(usize::from(op >> 7))
            .copied()
            .unwrap_or("dev");
        let entry = |names: &[String], kind: u8, b: Option<u8>| -> PathBuf {
            match kind % 3 {
                0 => root.join("envelopes").join(pick(names, b)),
                1 => root.join("links").join(env).join(pick(names, b)),
                _ => root.join("heads").join(env),
            }
        };
        let _ = fs::create_dir_all(root.join("links").join(env));
        match (op >> 4) & 7 {
            0 => {
                let len = usize::from(bytes.next().unwrap_or(0));
                let content: Vec<u8> = bytes.by_ref().take(len).collect();
                let mut hex = DigestAlgorithm::Sha256.hash(&content).hex();
                if op & 1 == 1 {
                    // Misnamed: the hash of other bytes.
                    hex = DigestAlgorithm::Sha256.hash(hex.as_bytes()).hex();
                }
                let _ = fs::write(root.join("envelopes").join(&hex), &content);
                names.push(hex);
            }
            1 | 2 => {
                let path = entry(&names, 1 + (op >> 4 & 1), bytes.next());
                let mut text = pick(&names, bytes.next());
                if op & 1 == 1 {
                    text.push('\n');
                }
                let _ = fs::write(path, text);
            }
            3 => {
                let path = entry(&names, op, bytes.next());
                let len = usize::from(bytes.next().unwrap_or(0));
                let content: Vec<u8> = bytes.by_ref().take(len).collect();
                let _ = fs::write(path, content);
            }
            4 => {
                let path = entry(&names, op, bytes.next());
                let _ = fs::remove_file(&path);
                let _ = fs::create_dir_all(path);
            }
            _ => {
                let path = entry(&names, op, bytes.next());
                let target = match op & 3 {
                    0 => PathBuf::from("/dev/zero"),
                    1 => path.clone(),
                    _ => entry(&names, op >> 2, bytes.next()),
                };
                let _ = fs::remove_file(&path);
                #[cfg(unix)]
                let _ = std::os::unix::fs::symlink(target, &path);
                #[cfg(not(unix))]
                let _ = target;
            }
        }
    }
    if let Ok(store) = DirStore::open_existing(&root) {
        let listed = store.list().unwrap_or_default();
        for digest in &listed {
            if let Ok(bytes) = store.get(digest) {
                assert!(
                    check_content(digest, &bytes).is_ok(),
                    "get returned bytes that do not hash to their name"
                );
                let _ = crate::dsse::Envelope::from_json(&bytes);
            }
        }
        for env in ENVIRONMENTS {
            let _ = store.head_hint(env);
            // Links may loop; a history is never longer than the store.
            let mut previous: Option<Digest> = None;
            for _ in 0..=listed.len() {
                match store.successor(env, previous.as_ref()) {
                    Ok(Some(next)) => {
                        let _ = store.get(&next);
                        previous = Some(next);
                    }
                    _ => break,
                }
            }
        }
    }
    let _ = fs::remove_dir_all(&root);
}
