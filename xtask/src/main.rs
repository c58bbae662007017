//! Project automation: `cargo xtask <command>`.
//!
//! * `demo [clean]`: the main job — create and serve a real SMB share
//!   (directory, native mode, private smbd on 127.0.0.1:4450) and check it
//!   with smbclient; `clean` removes it.
//! * `install-deps`: install everything the tests need (Debian packages,
//!   cargo tools); idempotent.
//! * `test`: install-deps, then fmt, clippy, every test with real components
//!   required (`SMBGW_REQUIRE_REAL=1`) under coverage instrumentation with
//!   the coverage floors enforced, the browser tests, the package checks,
//!   and a short fuzz smoke per target.
//! * `coverage [report]`: the tests under coverage and the per-crate table
//!   (`report`: the table of the last run only).
//! * `gen-params`: regenerate the smb.conf parameter table from the
//!   installed Samba.
//! * `fuzz [SECONDS]`: run every fuzz target for SECONDS (default 60) each.
//! * `bench [gateway|plugin]`: run the benchmarks (or only the gateway's,
//!   or only the storage plugin's) and rewrite BENCHMARKS.md.
//! * `deb`: build the Debian package, check it with lintian and
//!   install-test it in a debootstrap chroot (also part of `test`).
//! * `gui-test`: the web UI wizard's browser tests alone (also part of
//!   `test`; screenshots in target/gui-screenshots/).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context as _, Result};

mod bench;
mod coverage;
mod deb;
mod demo;
mod www;

/// Debian packages the tests use.
const APT_PACKAGES: &[&str] = &[
    "samba",
    // Recommends of samba, which --no-install-recommends leaves out: the
    // VFS modules (full_audit for audited shares) and the AD DC's ldb
    // modules (samba-tool domain provision).
    "samba-vfs-modules",
    "samba-dsdb-modules",
    "smbclient",
    "winbind",
    // Active Directory tests: a Samba AD DC (samba, samba-ad-provision,
    // pulled in by samba), domain accounts through NSS, kinit, and a
    // skewed clock for the gateway under test.
    "samba-ad-provision",
    "libnss-winbind",
    "krb5-user",
    "faketime",
    "ctdb",
    "zfs-fuse",
    // zfs-fuse runs under it in the tests (`testkit::ZfsPool`): its flushes
    // of a throwaway pool file never wait for the disk.
    "eatmydata",
    "ceph-mon",
    "ceph-mgr",
    "ceph-osd",
    "ceph-mds",
    "ceph-fuse",
    "rbd-fuse",
    "ceph-common",
    "xfsprogs",
    "procps",
    "iproute2",
    // CTDB's 10.interface event script (the failover test): iptables, and
    // ethtool for the link check (only a Recommends of ctdb; without it
    // every node stays unhealthy).
    "iptables",
    "ethtool",
    // The storage plugin's tests, the package and its install test.
    "perl",
    "libffi-platypus-perl",
    "g++",
    "dpkg-dev",
    "lintian",
    "debootstrap",
    // LXC mode's real tests (plain LXC driver; nsenter from util-linux).
    "lxc",
    "util-linux",
    // The web UI wizard's browser tests (www/, driven by playwright-core).
    "chromium",
];

/// Fuzz targets (fuzz/fuzz_targets/*.rs) with the number of inputs their
/// smoke run tries (about 20 s each on a CI machine).
pub(crate) const FUZZ_TARGETS: &[(&str, u64)] = &[
    ("smbconf_document", 4_000),
    ("smbconf_config", 5_000),
    ("ctdb_files", 80_000),
    ("ha_inputs", 1_500_000),
    ("registry", 330_000),
    ("tool_output", 400_000),
    ("ffi_request", 250_000),
];

/// How long each fuzz target runs.
#[derive(Clone, Copy)]
pub(crate) enum FuzzBudget {
    /// Explore for this many seconds per target (random seed).
    Seconds(u64),
    /// The test command's smoke: a fixed seed and a fixed number of inputs,
    /// so a green run stays green (exploration is `cargo xtask fuzz`).
    Smoke,
}

pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

pub(crate) fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("xtask: running {cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

/// Runs `cmd` and returns its stdout; a failure names the command, its
/// status and its stderr.
pub(crate) fn output(cmd: &mut Command) -> Result<Vec<u8>> {
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(out.stdout)
}

fn have_command(name: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name} >/dev/null 2>&1"))
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

pub(crate) fn dpkg_installed(pkg: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", pkg])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

fn install_deps() -> Result<()> {
    let missing: Vec<&str> = APT_PACKAGES
        .iter()
        .copied()
        .filter(|p| !dpkg_installed(p))
        .collect();
    if !missing.is_empty() {
        run(Command::new("apt-get").args(["-o", "DPkg::Lock::Timeout=600", "update", "-qq"]))?;
        run(Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args([
                "-o",
                "DPkg::Lock::Timeout=600",
                "install",
                "-y",
                "-qq",
                "--no-install-recommends",
            ])
            .args(&missing))?;
    }
    if !have_command("cargo-fuzz") {
        run(Command::new("cargo").args([
            "install",
            "--locked",
            "cargo-fuzz",
            "--version",
            "0.13.2",
        ]))?;
    }
    if !have_command("cargo-deb") {
        run(Command::new("cargo").args([
            "install",
            "--locked",
            "cargo-deb",
            "--version",
            "3.8.0",
        ]))?;
    }
    install_promtool()?;
    www::install_deps()?;
    Ok(())
}

/// Where the tests find `promtool` (the Prometheus format checker).
pub(crate) const PROMTOOL: &str = "/var/cache/pve-smbgateway-tests/promtool/promtool";

/// `promtool` alone, taken out of Debian's prometheus package without
/// installing it (the package brings a daemon and 96 MB; the checker is
/// one static binary).
fn install_promtool() -> Result<()> {
    let target = std::path::Path::new(PROMTOOL);
    if target.is_file() {
        return Ok(());
    }
    let dir = tempdir_path("promtool")?;
    run(Command::new("apt-get").current_dir(&dir).args([
        "-o",
        "DPkg::Lock::Timeout=600",
        "download",
        "-qq",
        "prometheus",
    ]))?;
    let deb = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .context("apt-get download prometheus left no .deb")?;
    run(Command::new("sh").current_dir(&dir).arg("-c").arg(format!(
        "dpkg-deb --fsys-tarfile '{}' | tar -x ./usr/bin/promtool",
        deb.display()
    )))?;
    let parent = target.parent().context("promtool path")?;
    std::fs::create_dir_all(parent)?;
    std::fs::rename(dir.join("usr/bin/promtool"), target)
        .or_else(|_| std::fs::copy(dir.join("usr/bin/promtool"), target).map(drop))?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// `cargo fuzz` needs nightly flags; the stable toolchain accepts them with
/// RUSTC_BOOTSTRAP=1, so no second toolchain is needed.
pub(crate) fn fuzz(budget: FuzzBudget) -> Result<()> {
    let dir = root().join("fuzz");
    for &(target, smoke_runs) in FUZZ_TARGETS {
        let corpus = dir.join("corpus").join(target);
        std::fs::create_dir_all(&corpus)?;
        // New inputs go to a scratch directory so a run does not grow the
        // committed corpus.
        let scratch = tempdir_path(&format!("fuzz-{target}"))?;
        let limits = match budget {
            FuzzBudget::Seconds(s) => vec![format!("-max_total_time={s}")],
            FuzzBudget::Smoke => vec!["-seed=1".to_string(), format!("-runs={smoke_runs}")],
        };
        let result = run(Command::new("cargo")
            .current_dir(&dir)
            .env("RUSTC_BOOTSTRAP", "1")
            .args(["fuzz", "run", target])
            .arg(&scratch)
            .arg(&corpus)
            .arg("--")
            .args(&limits)
            .arg("-print_final_stats=1"));
        let _ = std::fs::remove_dir_all(&scratch);
        result?;
    }
    Ok(())
}

pub(crate) fn tempdir_path(prefix: &str) -> Result<PathBuf> {
    let base = std::env::temp_dir().join(format!("smbgw-{prefix}-{}", std::process::id()));
    std::fs::create_dir_all(&base)?;
    Ok(base)
}

fn test() -> Result<()> {
    install_deps()?;
    coverage::install_deps()?;
    let root = root();
    run(Command::new("cargo")
        .current_dir(&root)
        .args(["fmt", "--all", "--check"]))?;
    run(Command::new("cargo").current_dir(&root).args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    coverage::test_with_coverage()?;
    www::test()?;
    deb::deb()?;
    fuzz(FuzzBudget::Smoke)?;
    Ok(())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("demo") => match args.get(1).map(String::as_str) {
            Some("clean") => demo::clean(),
            None => demo::demo(),
            Some(other) => bail!("usage: cargo xtask demo [clean] (got {other:?})"),
        },
        Some("install-deps") => install_deps(),
        Some("coverage") => match args.get(1).map(String::as_str) {
            Some("report") => coverage::report(),
            None => {
                install_deps()?;
                coverage::install_deps()?;
                coverage::test_with_coverage()
            }
            Some(other) => bail!("usage: cargo xtask coverage [report] (got {other:?})"),
        },
        Some("test") => test(),
        Some("deb") => {
            install_deps()?;
            deb::deb().map(|_| ())
        }
        Some("gui-test") => {
            install_deps()?;
            www::test()
        }
        Some("gen-params") => {
            install_deps()?;
            run(Command::new("cargo")
                .current_dir(root())
                .env("SMBGW_WRITE_TABLE", "1")
                .env("SMBGW_REQUIRE_REAL", "1")
                .args([
                    "test",
                    "-p",
                    "smbconf",
                    "--test",
                    "it",
                    "params::table_matches_installed_samba",
                ]))
        }
        Some("fuzz") => {
            let secs = args
                .get(1)
                .map(|s| s.parse())
                .transpose()
                .context("SECONDS must be a number")?;
            fuzz(FuzzBudget::Seconds(secs.unwrap_or(60)))
        }
        Some("bench") => {
            install_deps()?;
            bench::run_all()
        }
        _ => bail!(
            "usage: cargo xtask demo [clean]|install-deps|test|coverage [report]|gen-params|fuzz [SECONDS]|bench [gateway|plugin]|deb|gui-test"
        ),
    }
}
