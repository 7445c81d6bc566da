//! Bounded, safe reads of files an attacker may control.
//!
//! A store directory, an OCI image layout, a policy or an `--in` file is
//! input: whoever can write to it (with no key at all) can put a FIFO, a
//! device, a symbolic link or a 64 GiB sparse file where a record should be.
//! Every read of such a file goes through this module, which
//!
//! * never follows a symbolic link in the last component of the path
//!   (`O_NOFOLLOW`), and refuses one seen before opening;
//! * never blocks in `open` (`O_NONBLOCK`: a FIFO with no writer opens at
//!   once, and is then refused);
//! * reads regular files only, judged first from the path (`lstat`, so a
//!   device is not even opened) and then from the opened handle (`fstat`),
//!   so the file read is the file checked;
//! * checks the size against a limit for the kind of file before reading,
//!   then reads at most limit + 1 bytes, so a file that grows meanwhile is
//!   still bounded and never allocates past its limit;
//! * lists at most a bounded number of names in a directory.
//!
//! Problems are typed: [`Error::UnsafeFile`] (with a [`FileKind`]),
//! [`Error::TooLarge`], [`Error::TooManyEntries`], each naming the path.
//!
//! ```
//! use custodia::fsread::{self, Limit};
//! use custodia::Error;
//! let dir = tempfile::tempdir()?;
//! let link = dir.path().join("link");
//! std::fs::write(&link, "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae\n")?;
//! assert_eq!(fsread::read(&link, fsread::STORE_LINK)?.len(), 65);
//!
//! // A file larger than its kind's limit is refused before it is read.
//! let big = dir.path().join("big");
//! std::fs::File::create(&big)?.set_len(64 << 30)?; // 64 GiB, sparse
//! let err = fsread::read(&big, fsread::ENVELOPE).unwrap_err();
//! assert!(matches!(err, Error::TooLarge { limit, .. } if limit == fsread::ENVELOPE.bytes()));
//! # #[cfg(unix)] {
//! // A symbolic link is never followed, even to a regular file.
//! std::os::unix::fs::symlink(&link, dir.path().join("alias"))?;
//! let err = fsread::read(&dir.path().join("alias"), fsread::STORE_LINK).unwrap_err();
//! assert!(matches!(err, Error::UnsafeFile { kind: custodia::error::FileKind::Symlink, .. }));
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fs;
use std::io::{self, Read as _};
use std::path::{Path, PathBuf};

use crate::error::Error;
pub use crate::error::FileKind;

/// How many bytes custodia reads of one kind of file, and what to call that
/// kind in an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    what: &'static str,
    bytes: u64,
}

impl Limit {
    /// A limit of `bytes` for files called `what` in errors.
    pub const fn new(what: &'static str, bytes: u64) -> Self {
        Self { what, bytes }
    }

    /// The largest size read, in bytes.
    pub const fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The kind of file, as errors name it.
    pub const fn what(&self) -> &'static str {
        self.what
    }
}

/// A DSSE envelope (a stored record, an `--in` file): 128 MiB, the same
/// as [`crate::dsse::MAX_ENVELOPE_BYTES`], so a store holds every envelope
/// a verifier accepts.
pub const ENVELOPE: Limit = Limit::new("DSSE envelope", 128 * 1024 * 1024);

/// A store link (`links/<env>/<previous>`): one SHA-256 hex digest (64
/// bytes) and a line end, with room for stray whitespace.
pub const STORE_LINK: Limit = Limit::new("store link", 128);

/// A store head hint (`heads/<env>`): one SHA-256 hex digest, as a link.
pub const STORE_HEAD: Limit = Limit::new("store head", 128);

/// A promotion policy file: 16 MiB (the largest real policies are a few
/// KiB; the bound is for the reader, not for policy authors).
pub const POLICY: Limit = Limit::new("policy", 16 * 1024 * 1024);

/// A PEM key file: 1 MiB (an RSA-8192 PKCS#8 PEM is under 7 KiB).
pub const KEY: Limit = Limit::new("key file", 1024 * 1024);

/// A Sigstore `trusted_root.json`: 4 MiB, as the bundle module's parser
/// (`bundle::MAX_TRUSTED_ROOT_BYTES`).
pub const TRUSTED_ROOT: Limit = Limit::new("trusted root", 4 * 1024 * 1024);

/// The most names custodia lists in one directory (a tree being hashed, a
/// store's links; a store's `envelopes/` has [`MAX_STORE_ENVELOPES`]): 2^20. A directory with 10 million names fails
/// with [`Error::TooManyEntries`] instead of filling memory.
pub const MAX_DIR_ENTRIES: usize = 1 << 20;

/// The most envelopes a `DirStore` lists: 2^24 (16.7 million, a store of
/// more than five million promotions with two pieces of evidence each).
/// Validation streams the listing and keeps only the names it has not
/// already read, so the bound is on time, not on the names held.
pub const MAX_STORE_ENVELOPES: usize = 1 << 24;

fn io_error(path: &Path) -> impl Fn(io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

fn unsafe_file(path: &Path, kind: FileKind) -> Error {
    Error::UnsafeFile {
        path: path.to_owned(),
        kind,
    }
}

/// What `file_type` is, or `None` for a regular file.
fn special_kind(file_type: fs::FileType) -> Option<FileKind> {
    if file_type.is_file() {
        return None;
    }
    if file_type.is_symlink() {
        return Some(FileKind::Symlink);
    }
    if file_type.is_dir() {
        return Some(FileKind::Directory);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if file_type.is_fifo() {
            return Some(FileKind::Fifo);
        }
        if file_type.is_char_device() {
            return Some(FileKind::CharDevice);
        }
        if file_type.is_block_device() {
            return Some(FileKind::BlockDevice);
        }
        if file_type.is_socket() {
            return Some(FileKind::Socket);
        }
    }
    Some(FileKind::Other)
}

/// `ELOOP`: `O_NOFOLLOW` met a symbolic link, or a path has a loop of them.
fn is_symlink_loop(error: &io::Error) -> bool {
    #[cfg(unix)]
    {
        error.raw_os_error() == Some(libc::ELOOP)
    }
    #[cfg(not(unix))]
    {
        let _ = error;
        false
    }
}

fn open_error(path: &Path, source: io::Error) -> Error {
    if is_symlink_loop(&source) {
        unsafe_file(path, FileKind::Symlink)
    } else {
        Error::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// Opens a regular file for reading, without following a symbolic link in
/// its last component and without blocking; returns it with its size.
///
/// For streaming (hashing): the caller bounds what it reads. A missing file
/// is [`Error::Io`] with [`io::ErrorKind::NotFound`]; see [`is_not_found`].
pub fn open(path: &Path) -> Result<(fs::File, u64), Error> {
    // Judge the path before opening it: opening some devices has effects.
    let before = fs::symlink_metadata(path).map_err(|e| open_error(path, e))?;
    if let Some(kind) = special_kind(before.file_type()) {
        return Err(unsafe_file(path, kind));
    }
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| open_error(path, e))?;
    // Judge the handle: the path may have been swapped in between.
    let meta = file.metadata().map_err(io_error(path))?;
    if let Some(kind) = special_kind(meta.file_type()) {
        return Err(unsafe_file(path, kind));
    }
    Ok((file, meta.len()))
}

/// Reads a regular file of at most `limit` bytes (see the module docs).
pub fn read(path: &Path, limit: Limit) -> Result<Vec<u8>, Error> {
    let too_large = || Error::TooLarge {
        path: path.to_owned(),
        what: limit.what,
        limit: limit.bytes,
    };
    let (file, size) = open(path)?;
    if size > limit.bytes {
        return Err(too_large());
    }
    // `size` is at most the limit, so this allocation is bounded by it;
    // reading stops at limit + 1 bytes even if the file grew since `fstat`
    // (or its size is not its length, as in /proc).
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(limit.bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io_error(path))?;
    if bytes.len() as u64 > limit.bytes {
        return Err(too_large());
    }
    Ok(bytes)
}

/// [`read`], with `None` when nothing exists at `path`.
pub fn read_optional(path: &Path, limit: Limit) -> Result<Option<Vec<u8>>, Error> {
    match read(path, limit) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// True for an [`Error::Io`] saying that nothing exists at the path.
pub fn is_not_found(error: &Error) -> bool {
    matches!(error, Error::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
}

/// The entries of directory `path`, failing with [`Error::TooManyEntries`]
/// once more than `limit` have been listed (lazily: nothing is collected
/// here, so memory stays with the caller).
pub fn read_dir(path: &Path, limit: usize) -> Result<Entries, Error> {
    let inner = fs::read_dir(path).map_err(io_error(path))?;
    Ok(Entries {
        inner: Some(inner),
        path: path.to_owned(),
        seen: 0,
        limit,
    })
}

/// The bounded listing of one directory ([`read_dir`]).
#[derive(Debug)]
pub struct Entries {
    inner: Option<fs::ReadDir>,
    path: PathBuf,
    seen: usize,
    limit: usize,
}

impl Iterator for Entries {
    type Item = Result<fs::DirEntry, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let entry = self.inner.as_mut()?.next()?;
        self.seen = self.seen.saturating_add(1);
        if self.seen > self.limit {
            // Stop for good after reporting it.
            self.inner = None;
            return Some(Err(Error::TooManyEntries {
                path: self.path.clone(),
                limit: self.limit,
            }));
        }
        Some(entry.map_err(io_error(&self.path)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_limit_is_the_dsse_limit() {
        assert_eq!(ENVELOPE.bytes(), crate::dsse::MAX_ENVELOPE_BYTES as u64);
    }

    #[cfg(feature = "sigstore")]
    #[test]
    fn trusted_root_limit_is_the_parser_limit() {
        assert_eq!(
            TRUSTED_ROOT.bytes(),
            crate::bundle::MAX_TRUSTED_ROOT_BYTES as u64
        );
    }

    #[test]
    fn reads_exactly_up_to_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs::write(&path, [7u8; 10]).unwrap();
        assert_eq!(read(&path, Limit::new("t", 10)).unwrap(), [7u8; 10]);
        let err = read(&path, Limit::new("t", 9)).unwrap_err();
        assert!(matches!(
            err,
            Error::TooLarge {
                limit: 9,
                what: "t",
                ..
            }
        ));
    }

    #[test]
    fn missing_is_none_and_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            read_optional(&dir.path().join("nothing"), STORE_LINK)
                .unwrap()
                .is_none()
        );
        let err = read(dir.path(), STORE_LINK).unwrap_err();
        assert!(matches!(
            err,
            Error::UnsafeFile {
                kind: FileKind::Directory,
                ..
            }
        ));
    }

    #[cfg(unix)]
    #[test]
    fn devices_sockets_and_symlink_loops_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = read(Path::new("/dev/null"), STORE_LINK).unwrap_err();
        assert!(matches!(
            err,
            Error::UnsafeFile {
                kind: FileKind::CharDevice,
                ..
            }
        ));
        let socket = dir.path().join("sock");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        let err = read(&socket, STORE_LINK).unwrap_err();
        assert!(matches!(
            err,
            Error::UnsafeFile {
                kind: FileKind::Socket,
                ..
            }
        ));
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::os::unix::fs::symlink(&b, &a).unwrap();
        std::os::unix::fs::symlink(&a, &b).unwrap();
        let err = read(&a, STORE_LINK).unwrap_err();
        assert!(matches!(
            err,
            Error::UnsafeFile {
                kind: FileKind::Symlink,
                ..
            }
        ));
        // A loop in a directory component: ELOOP from the kernel.
        let err = read(&a.join("x"), STORE_LINK).unwrap_err();
        assert!(matches!(
            err,
            Error::UnsafeFile {
                kind: FileKind::Symlink,
                ..
            }
        ));
    }

    /// /proc files say they are empty and are not: the read goes on past
    /// the size `fstat` gave, still bounded by the limit (the path a file
    /// growing while read takes).
    #[cfg(target_os = "linux")]
    #[test]
    fn a_file_longer_than_its_size_is_still_bounded() {
        let path = Path::new("/proc/self/status");
        let whole = read(path, Limit::new("t", 1 << 20)).unwrap();
        assert!(whole.starts_with(b"Name:"), "{whole:?}");
        let err = read(path, Limit::new("t", 10)).unwrap_err();
        assert!(matches!(err, Error::TooLarge { limit: 10, .. }));
    }

    #[test]
    fn listing_stops_after_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..5 {
            fs::write(dir.path().join(i.to_string()), b"").unwrap();
        }
        assert_eq!(read_dir(dir.path(), 5).unwrap().count(), 5);
        let listed: Vec<_> = read_dir(dir.path(), 3).unwrap().collect();
        assert_eq!(listed.len(), 4);
        assert!(listed.iter().take(3).all(Result::is_ok));
        assert!(matches!(
            listed.last(),
            Some(Err(Error::TooManyEntries { limit: 3, .. }))
        ));
    }
}
