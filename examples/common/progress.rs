//! Progress on stderr for the example binaries: a bar while hashing large
//! files and trees, a spinner while verifying a store. Drawn only when
//! stderr is a terminal, so pipes, CI logs and `--format json` consumers
//! never see it (and stdout is never touched).

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use custodia::digest::{Digest, HashProgress, hash_path_with_progress};
use indicatif::{ProgressBar, ProgressStyle};

/// Below this many bytes hashing is too quick for a bar to help.
const BAR_FROM_BYTES: u64 = 64 * 1024 * 1024;

/// `hash_path`, with a byte-count bar on a terminal for large inputs.
pub fn hash_path(path: &Path) -> Result<Digest, custodia::Error> {
    with_bar(path, |progress| hash_path_with_progress(path, progress))
}

/// [`custodia::digest::hash_path_complete`] (every digest algorithm, to
/// check every digest a subject lists) with the same progress bar.
#[allow(dead_code)] // not every binary that includes this module checks subjects
pub fn hash_path_complete(path: &Path) -> Result<custodia::digest::DigestSet, custodia::Error> {
    with_bar(path, |progress| {
        custodia::digest::hash_path_complete(path, progress)
    })
}

/// Runs `hash` with a progress callback that draws a bar on a terminal.
fn with_bar<T>(path: &Path, hash: impl FnOnce(&mut dyn FnMut(HashProgress)) -> T) -> T {
    if !std::io::stderr().is_terminal() {
        return hash(&mut |_| {});
    }
    let mut bar: Option<ProgressBar> = None;
    let out = hash(&mut |p: HashProgress| {
        if p.total < BAR_FROM_BYTES {
            return;
        }
        let bar = bar.get_or_insert_with(|| {
            let bar = ProgressBar::new(p.total).with_message(format!("hashing {}", path.display()));
            if let Ok(style) = ProgressStyle::with_template(
                "{msg} {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            ) {
                bar.set_style(style);
            }
            bar
        });
        bar.set_position(p.done);
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    out
}

/// A spinner with `message` on a terminal while `work` runs.
#[allow(dead_code)] // not every binary that includes this module has slow verification
pub fn with_spinner<T>(message: &str, work: impl FnOnce() -> T) -> T {
    if !std::io::stderr().is_terminal() {
        return work();
    }
    let spinner = ProgressBar::new_spinner().with_message(message.to_owned());
    spinner.enable_steady_tick(Duration::from_millis(100));
    let out = work();
    spinner.finish_and_clear();
    out
}
