//! `cargo xtask deb`: the Debian package. Builds the release binaries and
//! the generated assets (man page, bash completion), runs cargo-deb
//! (metadata in crates/cli/Cargo.toml), checks the package with lintian
//! (errors and warnings fail, except `initial-upload-closes-no-bugs`), and
//! installs it in a debootstrap chroot: `dpkg -i` (postinst adds the web
//! UI's script tag to a pve-manager page-template fixture), `pve-smbgateway
//! --version`, the Perl plugin loads and reaches its library, and `dpkg
//! --purge` leaves the file system as it was (the template byte for byte).
//!
//! The chroot (Debian bookworm, minbase, with the package's dependencies)
//! is built once under [`CHROOT_CACHE`] and copied for every run, so a run
//! needs no network and never changes the cached tree.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context as _, Result};

use crate::{output, root, run};

/// Where the pristine chroot is kept between runs.
pub(crate) const CHROOT_CACHE: &str = "/var/cache/pve-smbgateway-tests";

/// The cached chroot: bump the name when its contents change.
const CHROOT_NAME: &str = "bookworm-v1";

/// Installed into the chroot up front: the package's dependencies (the
/// install test must not need the network).
const CHROOT_INCLUDE: &str = "samba,smbclient,winbind,libffi-platypus-perl";

/// Written into the chroot when debootstrap finished.
const READY_MARK: &str = ".smbgw-ready";

/// Builds, checks and install-tests the package; returns its path.
pub(crate) fn deb() -> Result<PathBuf> {
    let root = root();
    let target = root.join("target");
    run(Command::new("cargo").current_dir(&root).args([
        "build",
        "--release",
        "--quiet",
        "-p",
        "pve-smbgateway",
        "-p",
        "smbgw-plugin-ffi",
    ]))?;
    let bin = target.join("release/pve-smbgateway");
    let assets = target.join("release/deb-assets");
    std::fs::create_dir_all(&assets)?;
    let man = output(Command::new(&bin).arg("man"))?;
    std::fs::write(assets.join("pve-smbgateway.1.gz"), gzip(&man)?)?;
    let completion = output(Command::new(&bin).args(["completions", "bash"]))?;
    std::fs::write(assets.join("pve-smbgateway.bash"), completion)?;
    let out = output(Command::new("cargo").current_dir(&root).args([
        "deb",
        "-p",
        "pve-smbgateway",
        "--no-build",
        "--strip",
    ]))?;
    let deb = String::from_utf8_lossy(&out)
        .lines()
        .rev()
        .find(|l| l.ends_with(".deb"))
        .map(|l| PathBuf::from(l.trim()))
        .context("cargo deb printed no package path")?;
    eprintln!("xtask: built {}", deb.display());
    run(Command::new("lintian")
        .args([
            "--fail-on",
            "error,warning",
            "--suppress-tags",
            "initial-upload-closes-no-bugs",
        ])
        .arg(&deb))?;
    install_test(&deb)?;
    Ok(deb)
}

/// `gzip -9n` (no name or time stamp: reproducible, as lintian wants).
fn gzip(data: &[u8]) -> Result<Vec<u8>> {
    use std::io::Write as _;
    let mut child = Command::new("gzip")
        .arg("-9n")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("cannot run gzip")?;
    child.stdin.take().context("gzip stdin")?.write_all(data)?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!("gzip failed with {}", out.status);
    }
    Ok(out.stdout)
}

/// The pristine chroot, built on first use.
fn cached_chroot() -> Result<PathBuf> {
    let dir = Path::new(CHROOT_CACHE).join(CHROOT_NAME);
    if dir.join(READY_MARK).is_file() {
        return Ok(dir);
    }
    let tmp = Path::new(CHROOT_CACHE).join(format!("{CHROOT_NAME}.tmp"));
    let _ = std::fs::remove_dir_all(&tmp);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(CHROOT_CACHE)?;
    eprintln!("xtask: building the install-test chroot (once, about a minute)");
    run(Command::new("debootstrap")
        .args(["--variant=minbase", "--include", CHROOT_INCLUDE, "bookworm"])
        .arg(&tmp)
        .arg("http://deb.debian.org/debian"))?;
    std::fs::write(tmp.join(READY_MARK), format!("{CHROOT_INCLUDE}\n"))?;
    std::fs::rename(&tmp, &dir)?;
    Ok(dir)
}

/// A throw-away copy of the cached chroot, removed on drop.
struct ChrootCopy(PathBuf);

impl Drop for ChrootCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl ChrootCopy {
    fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new("chroot");
        c.arg(&self.0)
            .arg(program)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("LC_ALL", "C");
        c
    }

    /// Every path in the tree, except dpkg's own database and logs, caches
    /// and temporary files.
    fn files(&self) -> Result<BTreeSet<String>> {
        let skip = [
            "/tmp",
            "/var/tmp",
            "/var/log",
            "/var/cache",
            "/var/lib/dpkg",
            "/proc",
            "/dev",
        ];
        let mut out = BTreeSet::new();
        let mut stack = vec![self.0.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir)? {
                let entry = entry?;
                let path = entry.path();
                let rel = format!("/{}", path.strip_prefix(&self.0)?.display());
                if skip.contains(&rel.as_str()) {
                    continue;
                }
                if entry.file_type()?.is_dir() {
                    stack.push(path);
                }
                out.insert(rel);
            }
        }
        Ok(out)
    }
}

fn install_test(deb: &Path) -> Result<()> {
    let pristine = cached_chroot()?;
    let copy = ChrootCopy(Path::new(CHROOT_CACHE).join(format!("run-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&copy.0);
    run(Command::new("cp")
        .args(["-a", "--reflink=auto"])
        .arg(&pristine)
        .arg(&copy.0))?;
    // A page template shaped like pve-manager's: postinst adds the web
    // UI's script tag, and purge must give back the same bytes.
    let tpl = copy.0.join("usr/share/pve-manager/index.html.tpl");
    let tpl_text = std::fs::read_to_string(
        root().join("crates/cli/tests/fixtures/pve-manager/index.html.tpl"),
    )?;
    std::fs::create_dir_all(tpl.parent().context("template path")?)?;
    std::fs::write(&tpl, &tpl_text)?;
    let before = copy.files()?;
    let name = deb.file_name().context("package file name")?;
    std::fs::copy(deb, copy.0.join("tmp").join(name))?;
    let in_chroot = format!("/tmp/{}", name.to_string_lossy());
    run(copy.cmd("dpkg").args(["-i", &in_chroot]))?;
    let tagged = std::fs::read_to_string(&tpl)?;
    let js = copy.0.join("usr/share/pve-manager/js/pve-smbgateway.js");
    if tagged.matches("/pve2/js/pve-smbgateway.js").count() != 1 || !js.is_file() {
        bail!("postinst did not load the web UI: index.html.tpl is now {tagged:?}");
    }
    let version = output(copy.cmd("pve-smbgateway").arg("--version"))?;
    let version = String::from_utf8_lossy(&version);
    if !version.starts_with(&format!("pve-smbgateway {}", env!("CARGO_PKG_VERSION"))) {
        bail!("pve-smbgateway --version in the chroot printed {version:?}");
    }
    // The plugin loads (Proxmox's base classes are the test stand-ins, as
    // the chroot is plain Debian) and reaches its installed library.
    let standin = root().join("perl/t/lib");
    run(Command::new("cp")
        .arg("-a")
        .arg(&standin)
        .arg(copy.0.join("tmp/standin")))?;
    let probe = output(copy.cmd("perl").args([
        "-I/tmp/standin",
        "-e",
        "use PVE::Storage::Plugin; use PVE::Storage::Custom::SMBGatewayPlugin; \
         my $p = 'PVE::Storage::Custom::SMBGatewayPlugin'; \
         print $p->type, ' ', $p->library_path, ' ', $p->request('version')->{version}, qq(\\n)",
    ]))?;
    let probe = String::from_utf8_lossy(&probe);
    let want = format!(
        "smbgateway /usr/lib/pve-smbgateway/libsmbgw_plugin.so {}",
        env!("CARGO_PKG_VERSION")
    );
    if probe.trim() != want {
        bail!("the plugin in the chroot printed {probe:?}, not {want:?}");
    }
    std::fs::remove_dir_all(copy.0.join("tmp/standin"))?;
    let listed = output(copy.cmd("dpkg").args(["-L", "pve-smbgateway"]))?;
    for f in String::from_utf8_lossy(&listed).lines() {
        if !copy.0.join(f.trim_start_matches('/')).exists() {
            bail!("dpkg -L lists {f}, which is not installed");
        }
    }
    run(copy.cmd("dpkg").args(["--purge", "pve-smbgateway"]))?;
    if std::fs::read_to_string(&tpl)? != tpl_text {
        bail!("dpkg --purge did not restore index.html.tpl byte for byte");
    }
    let after = copy.files()?;
    let added: Vec<_> = after.difference(&before).collect();
    let removed: Vec<_> = before.difference(&after).collect();
    if !added.is_empty() || !removed.is_empty() {
        bail!("dpkg --purge left the chroot changed: new {added:?}, missing {removed:?}");
    }
    eprintln!(
        "xtask: install test passed (dpkg -i adds the web UI script tag, --version, plugin load, purge leaves no files and restores the template)"
    );
    Ok(())
}
