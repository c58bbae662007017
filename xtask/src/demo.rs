//! `cargo xtask demo`: the main job on a fresh machine — create and serve a
//! real SMB share (directory backend, native mode, a private smbd on a
//! loopback port), check it with smbclient, and say how to connect.
//!
//! Everything lives under one directory (default
//! `/var/tmp/pve-smbgateway-demo`, or `SMBGW_DEMO_DIR`), except the SMB
//! user's system account (`smbgw-demo`, no home, no shell), which is what
//! `pve-smbgateway user add` creates on a real gateway too.
//! `cargo xtask demo clean` removes all of it.

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use anyhow::{bail, Context as _, Result};

use crate::{dpkg_installed, root, run};

const SHARE: &str = "demo";
const USER: &str = "smbgw-demo";

fn dir() -> PathBuf {
    std::env::var_os("SMBGW_DEMO_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/pve-smbgateway-demo"))
}

fn port() -> String {
    std::env::var("SMBGW_DEMO_PORT").unwrap_or_else(|_| "4450".into())
}

fn bin() -> PathBuf {
    root().join("target/release/pve-smbgateway")
}

fn gw(args: &[&str], stdin: Option<&[u8]>) -> Result<Output> {
    let mut cmd = Command::new(bin());
    cmd.arg("--sandbox")
        .arg(dir().join("gw"))
        .arg("--port")
        .arg(port())
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().context("cannot start pve-smbgateway")?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input)?;
    }
    Ok(child.wait_with_output()?)
}

fn check(out: Output, what: &str) -> Result<String> {
    if !out.status.success() {
        bail!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A random password, saved 0600 (never shown on a command line).
fn password(path: &Path) -> Result<String> {
    if let Ok(pw) = std::fs::read_to_string(path) {
        return Ok(pw.trim().to_owned());
    }
    let mut bytes = [0u8; 12];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut bytes)?;
    let pw: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    writeln!(f, "{pw}")?;
    Ok(pw)
}

pub(crate) fn demo() -> Result<()> {
    let missing: Vec<&str> = ["samba", "smbclient"]
        .into_iter()
        .filter(|p| !dpkg_installed(p))
        .collect();
    if !missing.is_empty() {
        run(Command::new("apt-get").args(["-o", "DPkg::Lock::Timeout=600", "update", "-qq"]))?;
        run(Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["-o", "DPkg::Lock::Timeout=600", "install", "-y", "-qq"])
            .args(&missing))?;
    }
    run(Command::new("cargo").current_dir(root()).args([
        "build",
        "--release",
        "-q",
        "-p",
        "pve-smbgateway",
    ]))?;
    let dir = dir();
    std::fs::create_dir_all(&dir)?;
    // smbd serves as the connected user, who must reach the volume.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))?;
    let pw_file = dir.join("password");
    let pw = password(&pw_file)?;
    let pw_line = format!("{pw}\n");
    check(
        gw(&["user", "add", USER], Some(pw_line.as_bytes()))?,
        "user add",
    )?;
    let exists = gw(&["show", SHARE], None)?.status.success();
    if exists {
        // Re-run: make sure it is served (smbd restarted, config intact).
        check(gw(&["apply", SHARE], None)?, "apply")?;
    } else {
        let out = gw(
            &[
                "create",
                SHARE,
                "--mode",
                "native",
                "--users",
                USER,
                "--comment",
                "pve-smbgateway demo share",
            ],
            None,
        )?;
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        check(out, "create")?;
    }
    // Prove it: write and read a file over SMB.
    let work = dir.join("client");
    std::fs::create_dir_all(&work)?;
    std::fs::write(work.join("hello.txt"), "hello from pve-smbgateway\n")?;
    let out = Command::new("smbclient")
        .arg("-p")
        .arg(port())
        .arg(format!("//127.0.0.1/{SHARE}"))
        .args([
            "-U",
            USER,
            "-c",
            "put hello.txt hello.txt; get hello.txt back.txt; ls",
        ])
        .env("PASSWD", &pw)
        .current_dir(&work)
        .output()
        .context("cannot run smbclient")?;
    let listing = check(out, "smbclient")?;
    let back = std::fs::read_to_string(work.join("back.txt"))?;
    if back != "hello from pve-smbgateway\n" {
        bail!("the file read back over SMB differs: {back:?}");
    }
    print!("{}", check(gw(&["status", SHARE], None)?, "status")?);
    println!("{listing}");
    println!("The share is served. Connect with:");
    println!(
        "  smbclient -p {} //127.0.0.1/{SHARE} -U {USER}    (password in {}, mode 0600)",
        port(),
        pw_file.display()
    );
    println!(
        "Manage it with:\n  {} --sandbox {} --port {} list|status|delete ...",
        bin().display(),
        dir.join("gw").display(),
        port()
    );
    println!("Remove everything (share, data, user, smbd): cargo xtask demo clean");
    Ok(())
}

pub(crate) fn clean() -> Result<()> {
    let dir = dir();
    if !dir.exists() {
        return Ok(());
    }
    if bin().exists() {
        let _ = gw(&["delete", SHARE, "--purge"], None);
        let _ = gw(&["user", "del", USER], None);
    }
    let pid_file = dir.join("gw/samba/pid/smbd.pid");
    if let Ok(pid) = std::fs::read_to_string(&pid_file) {
        let _ = Command::new("kill").arg(pid.trim()).status();
        std::thread::sleep(std::time::Duration::from_millis(1500));
    }
    std::fs::remove_dir_all(&dir).with_context(|| format!("cannot remove {}", dir.display()))?;
    // The gateway's shared group, unless a real gateway on this host uses it.
    let real_registry = ["/etc/pve/smbgateway.cfg", "/etc/pve-smbgateway/shares.cfg"]
        .iter()
        .any(|p| Path::new(p).exists());
    if !real_registry {
        let _ = Command::new("groupdel")
            .arg("smbgw")
            .stderr(Stdio::null())
            .status();
    }
    println!("removed {}", dir.display());
    Ok(())
}
