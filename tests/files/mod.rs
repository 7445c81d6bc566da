//! Test-data helpers shared by the integration tests: a writable copy of a
//! checked-in directory, and the Sigstore production trusted root.
#![allow(dead_code, clippy::unwrap_used)]

use std::fs;
use std::path::Path;

use custodia::bundle::TrustedRoot;

/// Copies the directory `from` (recursively) to `to`, creating it.
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The Sigstore public-good instance's trusted root, as checked in under
/// `tests/data/sigstore/trusted_roots/`.
pub fn production_root() -> TrustedRoot {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sigstore/trusted_roots/production.trusted_root.json");
    TrustedRoot::from_json(&fs::read(path).unwrap()).unwrap()
}
