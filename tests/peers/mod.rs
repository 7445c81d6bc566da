//! Finding the Python reference implementations the peer tests drive.
//!
//! The python is `CUSTODIA_PEERS_PYTHON`, or the venv `target/peers-venv`
//! that `.ci/run` creates (`../shared/tools/peers-venv` does the same
//! locally). Without it a test prints SKIPPED and passes on a developer
//! machine; under CI (`CI` set) a missing peer is a failure, so CI can
//! never pass without having run the peers.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The peers' python if it can `import` every module of `imports`
/// (a Python import list, e.g. `"jsonschema, spdx_tools"`); `what` names
/// the peer in the SKIPPED / CI failure message.
pub fn python_with(imports: &str, what: &str) -> Option<PathBuf> {
    let candidate = std::env::var_os("CUSTODIA_PEERS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/peers-venv/bin/python")
        });
    let works = Command::new(&candidate)
        .args(["-c", &format!("import {imports}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if works {
        return Some(candidate);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must run the peer tests: no {what} at {}",
        candidate.display()
    );
    eprintln!(
        "SKIPPED: {what} not found at {} (run .ci/run or ../shared/tools/peers-venv, or set CUSTODIA_PEERS_PYTHON)",
        candidate.display()
    );
    None
}
