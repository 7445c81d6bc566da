//! Shared by the OCI registry tests and benchmarks: a real registry
//! (Debian package `docker-registry`, CNCF distribution 2.8) started on a
//! free loopback port with its storage in a temporary directory, and the
//! rule for external tools (skipped with a note locally, required in CI).
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether `tool` runs; if not, panics in CI (`CI=true`) and prints a
/// note otherwise.
pub fn tool(tool: &str, version_arg: &str) -> bool {
    let found = Command::new(tool)
        .arg(version_arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{tool} is required in CI (.ci/run installs it)");
        }
        eprintln!("note: {tool} not found; skipping (apt-get install {tool})");
    }
    found
}

/// A registry process on 127.0.0.1, killed when dropped.
pub struct RegistryServer {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl RegistryServer {
    /// Starts `docker-registry` if it is installed (see [`tool`]).
    /// `tls`: (certificate PEM path, key PEM path).
    pub fn start(tls: Option<(&Path, &Path)>) -> Option<Self> {
        if !tool("docker-registry", "--version") {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let tls = tls
            .map(|(cert, key)| {
                format!(
                    "  tls:\n    certificate: {}\n    key: {}\n",
                    cert.display(),
                    key.display()
                )
            })
            .unwrap_or_default();
        let config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
             http:\n  addr: 127.0.0.1:{port}\n{tls}",
            dir.path().join("data").display()
        );
        let config_path = dir.path().join("config.yml");
        std::fs::File::create(&config_path)
            .unwrap()
            .write_all(config.as_bytes())
            .unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Self { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "registry did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(server)
    }

    /// `127.0.0.1:PORT`
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for RegistryServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
