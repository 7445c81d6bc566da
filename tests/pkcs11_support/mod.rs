//! A SoftHSM2 token for the PKCS#11 tests.
//!
//! `.ci/run` installs softhsm2 and opensc, writes a SoftHSM2 config in a
//! fresh temporary directory and exports `SOFTHSM2_CONF` (SoftHSM2 reads it
//! once per process, so the tests cannot set it themselves). The first test
//! in each test binary initialises the tokens it needs there. Without
//! `SOFTHSM2_CONF` a test prints SKIPPED and passes on a developer machine;
//! under CI (`CI` set) that is a failure.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{OnceLock, PoisonError, RwLock, RwLockReadGuard};

/// The token every test signs on, and its PINs.
pub const TOKEN: &str = "custodia-test";
pub const PIN: &str = "4711-custodia";
pub const SO_PIN: &str = "so-custodia-0815";
/// A token only the wrong-PIN tests use, so no correct login precedes them
/// in the process.
pub const PIN_TOKEN: &str = "custodia-pin";
/// A token where only pkcs11-tool (another process) creates keys: SoftHSM2
/// notices another process's new objects reliably only on a token this
/// process does not write to at the same time.
pub const TOOL_TOKEN: &str = "custodia-tool";

/// SoftHSM2 keeps tokens in files, and one process reading a token while
/// another rewrites it can fail (`CKR_GENERAL_ERROR` from C_GetTokenInfo, a
/// token missing for a moment). Tests in this process hold [`shared`]
/// while they use the token; running pkcs11-tool (or the CLI, another
/// process) takes it exclusively.
static TOKEN_FILES: RwLock<()> = RwLock::new(());

/// Held while this process uses the token.
pub fn shared() -> RwLockReadGuard<'static, ()> {
    TOKEN_FILES.read().unwrap_or_else(PoisonError::into_inner)
}

/// Held while another process uses the token.
pub fn exclusive() -> std::sync::RwLockWriteGuard<'static, ()> {
    TOKEN_FILES.write().unwrap_or_else(PoisonError::into_inner)
}

pub struct Hsm {
    pub module: PathBuf,
}

pub fn hsm() -> Option<&'static Hsm> {
    static HSM: OnceLock<Option<Hsm>> = OnceLock::new();
    HSM.get_or_init(setup).as_ref()
}

fn skip(why: &str) -> Option<Hsm> {
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must run the PKCS#11 tests: {why}"
    );
    eprintln!("SKIPPED: {why} (run .ci/run, or export SOFTHSM2_CONF for a softhsm2 config)");
    None
}

fn setup() -> Option<Hsm> {
    if std::env::var_os("SOFTHSM2_CONF").is_none() {
        return skip("SOFTHSM2_CONF is not set");
    }
    let module = std::env::var_os("CUSTODIA_PKCS11_MODULE")
        .map(PathBuf::from)
        .into_iter()
        .chain(
            [
                "/usr/lib/softhsm/libsofthsm2.so",
                "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
                "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
                "/usr/local/lib/softhsm/libsofthsm2.so",
            ]
            .map(PathBuf::from),
        )
        .find(|p| p.exists());
    let Some(module) = module else {
        return skip("no libsofthsm2.so found (apt-get install softhsm2)");
    };
    let slots = Command::new("softhsm2-util").arg("--show-slots").output();
    let Ok(slots) = slots else {
        return skip("softhsm2-util not found (apt-get install softhsm2)");
    };
    let slots = String::from_utf8_lossy(&slots.stdout).into_owned();
    for token in [TOKEN, PIN_TOKEN, TOOL_TOKEN] {
        let present = slots
            .lines()
            .any(|l| l.trim() == format!("Label:            {token}"));
        if !present {
            let out = Command::new("softhsm2-util")
                .args(["--init-token", "--free", "--label", token, "--pin", PIN])
                .args(["--so-pin", SO_PIN])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "softhsm2-util --init-token: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    Some(Hsm { module })
}

impl Hsm {
    /// A URI for `object` on `token` with `pin`.
    pub fn uri_on(&self, token: &str, object: &str, pin: &str) -> String {
        format!(
            "pkcs11:token={token};object={object}?module-path={}&pin-value={pin}",
            self.module.display()
        )
    }

    /// A URI for `object` on the test token.
    pub fn uri(&self, object: &str) -> String {
        self.uri_on(TOKEN, object, PIN)
    }

    /// Runs pkcs11-tool against the module; returns (success, stdout+stderr).
    /// SoftHSM2 keeps a token in files that another process (this one,
    /// generating keys in other tests) may be rewriting: pkcs11-tool can
    /// then miss the token for a moment, so that one failure is retried.
    pub fn pkcs11_tool(&self, args: &[&str]) -> (bool, String) {
        let _exclusive = exclusive();
        let mut attempt = 0;
        loop {
            let out = Command::new("pkcs11-tool")
                .arg("--module")
                .arg(&self.module)
                .args(args)
                .output()
                .expect("pkcs11-tool (apt-get install opensc)");
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            attempt += 1;
            if out.status.success() || !text.contains("No slot with token") || attempt == 5 {
                return (out.status.success(), text);
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }
}

/// A label no other test (or earlier run on the same token) uses.
pub fn unique(name: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{name}-{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}
