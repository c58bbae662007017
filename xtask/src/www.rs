//! The web UI wizard's browser tests (www/): their dependencies and run.
//!
//! * Debian's `chromium` comes with the other apt packages
//!   ([`crate::APT_PACKAGES`]); Node.js and npm are on the machine (Debian's
//!   `nodejs npm` are installed when `npm` is missing).
//! * `npm ci --omit=optional` in www/ installs playwright-core at the
//!   version pinned in package.json and package-lock.json.
//! * Ext JS 6.2 (`extjs-gpl`, a 120 MB package of which the tests load
//!   three files and a theme) is fetched once with `npm pack`, checked
//!   against the integrity package-lock.json records for it, and only the
//!   files the harness serves are kept, in [`EXTJS_CACHE`] (like the other
//!   caches under /var/cache/pve-smbgateway-tests).
//! * The test is `node --test test/wizard.test.mjs` with
//!   `SMBGW_REQUIRE_REAL=1`: a missing browser or Ext JS fails it.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context as _, Result};

use crate::{have_command, root, run, tempdir_path};

/// The Ext JS version the tests use (the only GPL build on npm).
const EXTJS_VERSION: &str = "6.2.0";

/// Where the unpacked Ext JS files are kept between runs.
pub(crate) const EXTJS_CACHE: &str = "/var/cache/pve-smbgateway-tests/extjs-gpl-6.2.0";

/// What the harness loads from the package (paths inside its `package/`).
const EXTJS_FILES: &[&str] = &[
    "build/ext-all.js",
    "build/classic/theme-crisp/resources",
    "build/packages/font-awesome/resources",
];

fn www() -> PathBuf {
    root().join("www")
}

/// Node.js, playwright-core and Ext JS for the browser tests.
pub(crate) fn install_deps() -> Result<()> {
    if !have_command("npm") {
        run(Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["-o", "DPkg::Lock::Timeout=600", "install", "-y", "-qq"])
            .args(["--no-install-recommends", "nodejs", "npm"]))?;
    }
    run(Command::new("npm").current_dir(www()).args([
        "ci",
        "--omit=optional",
        "--no-audit",
        "--no-fund",
    ]))?;
    install_extjs()
}

/// A value of www/package-lock.json, read with node.
fn lock_value(expr: &str) -> Result<String> {
    let out = Command::new("node")
        .current_dir(www())
        .arg("-p")
        .arg(format!("require('./package-lock.json').{expr}"))
        .output()
        .context("cannot run node")?;
    let value = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() || value.is_empty() || value == "undefined" {
        bail!("www/package-lock.json has no {expr}");
    }
    Ok(value)
}

/// The `sha512-<base64>` integrity of a file, as npm writes it.
fn integrity(file: &Path) -> Result<String> {
    let out = Command::new("node")
        .arg("-e")
        .arg("const c = require('crypto'); process.stdout.write('sha512-' + c.createHash('sha512').update(require('fs').readFileSync(process.argv[1])).digest('base64'))")
        .arg(file)
        .output()
        .context("cannot run node")?;
    if !out.status.success() {
        bail!("cannot hash {}", file.display());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn install_extjs() -> Result<()> {
    let cache = Path::new(EXTJS_CACHE);
    if cache.join("build/ext-all.js").is_file() {
        return Ok(());
    }
    let locked = lock_value("packages['node_modules/extjs-gpl'].version")?;
    if locked != EXTJS_VERSION {
        bail!("www/package-lock.json pins extjs-gpl {locked}, the tests expect {EXTJS_VERSION}");
    }
    let want = lock_value("packages['node_modules/extjs-gpl'].integrity")?;
    let dir = tempdir_path("extjs")?;
    eprintln!("xtask: fetching extjs-gpl@{EXTJS_VERSION} (120 MB, once)");
    run(Command::new("npm").current_dir(&dir).args([
        "pack",
        "--silent",
        &format!("extjs-gpl@{EXTJS_VERSION}"),
    ]))?;
    let tgz = dir.join(format!("extjs-gpl-{EXTJS_VERSION}.tgz"));
    let have = integrity(&tgz)?;
    if have != want {
        let _ = std::fs::remove_dir_all(&dir);
        bail!("extjs-gpl-{EXTJS_VERSION}.tgz has integrity {have}, package-lock.json says {want}");
    }
    run(Command::new("tar")
        .current_dir(&dir)
        .arg("-xzf")
        .arg(&tgz)
        .args(EXTJS_FILES.iter().map(|f| format!("package/{f}"))))?;
    let parent = cache.parent().context("Ext JS cache path")?;
    std::fs::create_dir_all(parent)?;
    let tmp = parent.join(format!(".extjs-gpl-{EXTJS_VERSION}.tmp"));
    let _ = std::fs::remove_dir_all(&tmp);
    // /tmp and /var/cache may be different file systems.
    if std::fs::rename(dir.join("package"), &tmp).is_err() {
        run(Command::new("cp")
            .arg("-a")
            .arg(dir.join("package"))
            .arg(&tmp))?;
    }
    std::fs::rename(&tmp, cache)?;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// Runs the browser tests; screenshots go to target/gui-screenshots/.
///
/// Once: a failure fails the build. The test's user waits before each
/// step for what the page shows (the field has the focus, the list is
/// open, Ext JS has no deferred focus or field check left; see
/// www/test/lib.mjs), not for a fixed time, so a run does not depend on
/// the machine's speed. When a step does not take,
/// `SMBGW_TRACE_FILE=<path>` writes a timeline of the page's focus and
/// input events and the user's steps, and `SMBGW_STRETCH_EXT=1` slows
/// Ext's deferred work down to make a timing assumption fail every run.
pub(crate) fn test() -> Result<()> {
    run(Command::new("node")
        .current_dir(www())
        .env("SMBGW_REQUIRE_REAL", "1")
        .env("SMBGW_EXTJS_DIR", EXTJS_CACHE)
        .args(["--test", "test/wizard.test.mjs"]))
}
