//! Helpers for tests that run the real Samba/CTDB tools.

use std::process::Command;

/// Is `tool` runnable? When it is not: with `SMBGW_REQUIRE_REAL=1` (set by
/// `cargo xtask test`) the test fails; otherwise it prints why it skips.
pub fn require(tool: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool} >/dev/null 2>&1"))
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !found {
        if std::env::var("SMBGW_REQUIRE_REAL").as_deref() == Ok("1") {
            panic!("{tool} is not installed; run `cargo xtask install-deps`");
        }
        eprintln!(
            "SKIP: {tool} is not installed (run `cargo xtask test` to install and run everything)"
        );
    }
    found
}

/// Run testparm with `args` on `conf` (written to a temporary file) and
/// return (exit code, stdout, stderr).
pub fn testparm(conf: &str, args: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("smb.conf");
    std::fs::write(&path, conf).expect("write conf");
    testparm_file(&path, args)
}

/// Run testparm on an existing file.
pub fn testparm_file(path: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new("testparm")
        .args(args)
        .arg(path)
        .current_dir(path.parent().unwrap_or(std::path::Path::new("/")))
        .output()
        .expect("run testparm");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
