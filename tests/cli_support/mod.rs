//! The harness the CLI tests share: the example binaries built once per
//! test crate (paths from cargo's JSON messages, so any target dir and
//! profile work), and `Out`, one run's exit code and output with the
//! assertions every CLI test makes (normal exit, never a panic, one-line
//! `error:` reasons).
#![allow(dead_code)] // each test crate uses part of it

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The example binaries.
pub struct Bins {
    pub attest: PathBuf,
    pub verifier: PathBuf,
    pub demo: PathBuf,
}

/// Builds `attest`, `verifier` and `demo` once (per test crate).
pub fn bins() -> &'static Bins {
    static BINS: OnceLock<Bins> = OnceLock::new();
    BINS.get_or_init(|| {
        let output = Command::new(env!("CARGO"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["build", "--example", "attest", "--example", "verifier"])
            .args([
                "--example",
                "demo",
                "--message-format=json-render-diagnostics",
            ])
            .stderr(Stdio::inherit())
            .output()
            .expect("run cargo build");
        assert!(output.status.success(), "cargo build --example failed");
        let (mut attest, mut verifier, mut demo) = (None, None, None);
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            if msg["reason"] != "compiler-artifact" {
                continue;
            }
            let Some(exe) = msg["executable"].as_str() else {
                continue;
            };
            let slot = match msg["target"]["name"].as_str() {
                Some("attest") => &mut attest,
                Some("verifier") => &mut verifier,
                Some("demo") => &mut demo,
                _ => continue,
            };
            *slot = Some(PathBuf::from(exe));
        }
        Bins {
            attest: attest.expect("cargo reported no attest executable"),
            verifier: verifier.expect("cargo reported no verifier executable"),
            demo: demo.expect("cargo reported no demo executable"),
        }
    })
}

/// The outcome of one run.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// Exit code `code`, and an `error: ...` on stderr containing `needle`.
    pub fn fails(&self, code: i32, needle: &str) -> &Self {
        assert_eq!(self.code, code, "exit code; {self:#?}");
        assert!(
            self.stderr.starts_with("error: "),
            "stderr should start with `error: `; {self:#?}"
        );
        assert!(
            self.stderr.contains(needle),
            "stderr should mention {needle:?}; {self:#?}"
        );
        self
    }

    /// Like `fails`, and the reason is exactly one line (our own errors;
    /// clap's usage errors add a usage block).
    pub fn fails_one_line(&self, code: i32, needle: &str) -> &Self {
        self.fails(code, needle);
        assert_eq!(
            self.stderr.trim_end().lines().count(),
            1,
            "one-line reason expected; {self:#?}"
        );
        self
    }

    /// Exit 0.
    pub fn ok(&self) -> &Self {
        assert_eq!(self.code, 0, "expected success; {self:#?}");
        self
    }

    /// Exit 0 and nothing on stderr.
    pub fn ok_quiet(&self) -> &Self {
        self.ok();
        assert!(self.stderr.is_empty(), "{self:#?}");
        self
    }

    /// Stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {self:#?}"))
    }

    /// The named check of a JSON report, which must exist.
    pub fn check(&self, name: &str) -> serde_json::Value {
        let json = self.json();
        json["checks"]
            .as_array()
            .expect("a report with checks")
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no check {name}: {self:#?}"))
    }
}

/// Runs `bin` in `dir` with exactly `envs` from the CI environment (the
/// caller's GitHub/GitLab/CI variables and SOURCE_DATE_EPOCH removed, so
/// tests behave the same on a laptop and in CI), stdin closed.
pub fn run_env<I, S>(bin: &Path, dir: &Path, args: I, envs: &[(&str, &str)]) -> Out
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = Command::new(bin);
    for (name, _) in std::env::vars_os() {
        let n = name.to_string_lossy();
        if ["GITHUB_", "GITLAB", "CI_", "CUSTODIA_", "RUNNER_"]
            .iter()
            .any(|p| n.starts_with(p))
            || n == "SOURCE_DATE_EPOCH"
            || n == "CI"
        {
            command.env_remove(&name);
        }
    }
    let output = command
        .current_dir(dir)
        .args(args)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("run example");
    let out = Out {
        code: output
            .status
            .code()
            .expect("exited normally, not by a signal"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        !out.stdout.contains("panicked") && !out.stderr.contains("panicked"),
        "panic: {out:#?}"
    );
    assert!(out.code != 101, "exit code 101 is a panic: {out:#?}");
    out
}

/// A test's work directory, where the example binaries run: the file
/// helpers and runners every CLI fixture needs.
pub trait WorkDir {
    /// The directory.
    fn root(&self) -> &Path;

    /// SOURCE_DATE_EPOCH for the runs, if the fixture fixes time.
    fn source_date_epoch(&self) -> Option<i64> {
        None
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root().join(name)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, bytes).expect("write a fixture file");
        path
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).expect("read a fixture file")
    }

    fn attest<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(&self, args: I) -> Out {
        self.run_in(&bins().attest, args)
    }

    fn verifier<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(&self, args: I) -> Out {
        self.run_in(&bins().verifier, args)
    }

    /// `bin` in the work directory, with the fixture's time if any.
    fn run_in<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(&self, bin: &Path, args: I) -> Out {
        match self.source_date_epoch() {
            Some(epoch) => run_env(
                bin,
                self.root(),
                args,
                &[("SOURCE_DATE_EPOCH", &epoch.to_string())],
            ),
            None => run_env(bin, self.root(), args, &[]),
        }
    }
}
