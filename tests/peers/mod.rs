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

/// Checks the JSON Schema at `schema` against its metaschema, then
/// validates each of `instances` (`{"name": document}`) with the Python
/// `jsonschema` package at `python`: `{"validator": class name, "errors":
/// {"name": [message, ...]}}`.
#[allow(dead_code)]
pub fn jsonschema_errors(
    python: &Path,
    schema: &Path,
    instances: &serde_json::Value,
) -> serde_json::Value {
    use std::io::Write as _;
    use std::process::Stdio;
    const PY_VALIDATE: &str = r#"
import json, sys
from jsonschema.validators import validator_for
job = json.load(sys.stdin)
schema = json.loads(open(job["schema"], encoding="utf-8").read())
cls = validator_for(schema)
cls.check_schema(schema)
validator = cls(schema)
out = {name: sorted(e.message for e in validator.iter_errors(doc))
       for name, doc in job["instances"].items()}
print(json.dumps({"validator": cls.__name__, "errors": out}))
"#;
    let job = serde_json::json!({ "schema": schema, "instances": instances });
    let mut child = Command::new(python)
        .args(["-c", PY_VALIDATE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python starts");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(&serde_json::to_vec(&job).expect("a JSON job"))
        .expect("python reads the job");
    let out = child.wait_with_output().expect("python runs");
    assert!(
        out.status.success(),
        "python jsonschema failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("python prints JSON")
}
