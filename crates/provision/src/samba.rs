//! Native mode: Samba on the host (or a private smbd instance).
//!
//! The main smb.conf belongs to the administrator. The gateway owns one
//! clearly marked include file holding the sections of the shares it
//! manages, and adds a single `include =` line at the very end of the main
//! file (a section header inside an included file changes the section of
//! every line that follows the include, so the line must be last). Every
//! change is validated with `testparm` before `smbcontrol smbd
//! reload-config`; when validation or the reload fails, both files are
//! restored byte for byte.

use std::fs;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use runner::{Cmd, RunError, Runner};
use smbconf::{Config, Document, GatewayConf, GatewayShare, NoIncludes};

use crate::error::{io, Error, Result};
use crate::fsutil::{read_optional, write_atomic, FileLock};

/// The first line of the managed include file.
pub const INCLUDE_HEADER: &str = "# Managed by pve-smbgateway: every share section in this file is generated.\n# Do not edit it; change shares with `pve-smbgateway` (manual edits are undone by `pve-smbgateway apply`).\n";

/// The comment placed above the `include =` line in the main smb.conf.
pub const INCLUDE_MARKER: &str =
    "# pve-smbgateway: shares managed by pve-smbgateway (keep this line last)";

/// glibc malloc settings for smbd, applied wherever the gateway decides how
/// smbd starts: the private instance (its environment) and the host's
/// `smbd.service` (the packaged drop-in `debian/smbd.service.d/
/// 10-pve-smbgateway.conf`, effective from smbd's next start). Not in LXC
/// mode: see below.
///
/// An SMB2 read or write moves up to 8 MiB, and smbd allocates a buffer of
/// that size for each request. With glibc's defaults those buffers come
/// from the heap and go back to the kernel as soon as the free top of the
/// heap exceeds twice the (self-adjusting) mmap threshold, which two freed
/// 8 MiB buffers do: every buffer is faulted in and zeroed again (measured:
/// 150,000–200,000 minor faults in the connection's smbd per GiB read) and every
/// trim is a TLB shootdown across the process's threads. A fixed mmap
/// threshold of 16 MiB (above the 8 MiB SMB2 maximum) keeps the buffers
/// on the heap, where a freed one is reused by the next request, and a
/// trim threshold of 32 MiB (a fixed mmap threshold would otherwise leave
/// it at glibc's 128 KiB) keeps the ones freed at the heap's top, as every
/// received write buffer is: up to three at a time (two in flight, one
/// being received) with their headers. Measured with smbclient, which
/// keeps two requests in flight, in the connection's smbd: 5,000–7,100
/// faults for 256 MiB read or written (its first buffers; the count does
/// not grow with the size), against 49,720 for 256 MiB read with glibc's
/// defaults and 9,500–42,000 for 256 MiB written with the mmap threshold
/// alone (a 17 or 24 MiB trim threshold still gave 11,100 now and then);
/// cold reads from a zfs-fuse dataset 2–8 % faster in interleaved A/Bs
/// (BENCHMARKS.md). The cost: a connection (smbd runs one process per TCP
/// connection) that moved large files keeps typically about 16 MiB of
/// freed buffers until it closes, and the trim threshold lets up to 32 MiB
/// stay at the heap's top (glibc's defaults: about 1.5 MiB; the mmap
/// threshold alone: the same 16 MiB in 7 of 9 tries).
/// A share container has 128 MB and may hold many idle connections, so
/// LXC mode keeps glibc's defaults.
pub const SMBD_MALLOC_TUNABLES: &str =
    "glibc.malloc.mmap_threshold=16777216:glibc.malloc.trim_threshold=33554432";

/// `GLIBC_TUNABLES` for an smbd the gateway starts: [`SMBD_MALLOC_TUNABLES`]
/// followed by the caller's own `GLIBC_TUNABLES`, if any (glibc applies the
/// last setting of a tunable, so an administrator's choice wins).
pub fn smbd_glibc_tunables(inherited: Option<&str>) -> String {
    match inherited.map(str::trim) {
        Some(t) if !t.is_empty() => format!("{SMBD_MALLOC_TUNABLES}:{t}"),
        _ => SMBD_MALLOC_TUNABLES.to_owned(),
    }
}

/// Where the package installs the `smbd.service` drop-in with
/// [`SMBD_MALLOC_TUNABLES`], and where an administrator masks it.
pub const SMBD_DROP_IN: &str = "/usr/lib/systemd/system/smbd.service.d/10-pve-smbgateway.conf";
/// See [`SMBD_DROP_IN`].
pub const SMBD_DROP_IN_MASK: &str = "/etc/systemd/system/smbd.service.d/10-pve-smbgateway.conf";

/// The host's running smbd that started before the package's drop-in
/// ([`SMBD_DROP_IN`]), in its current version, could apply: its pid, when
/// the drop-in is installed and not masked, `pid_dir/smbd.pid` names a
/// live smbd (under `proc`, normally `/proc`; not a zombie), and that smbd
/// either has no `GLIBC_TUNABLES` at all or has a value an older version of
/// the drop-in set (`OLDER_SMBD_MALLOC_TUNABLES`). An smbd with any other
/// `GLIBC_TUNABLES`, an administrator's own, is left alone. `None` when
/// anything cannot be read.
pub fn smbd_without_drop_in(
    pid_dir: &Path,
    drop_in: &Path,
    mask: &Path,
    proc: &Path,
) -> Option<u32> {
    if !drop_in.is_file() || mask.symlink_metadata().is_ok() {
        return None;
    }
    let pid = live_pid(&pid_dir.join("smbd.pid"), proc, "smbd")?;
    let environ = fs::read(proc.join(pid.to_string()).join("environ")).ok()?;
    let Some(tunables) = running_tunables(&environ) else {
        return Some(pid);
    };
    OLDER_SMBD_MALLOC_TUNABLES
        .contains(&tunables.as_str())
        .then_some(pid)
}

/// The `GLIBC_TUNABLES` earlier versions of the packaged drop-in set (the
/// mmap threshold alone, before the trim threshold was added).
const OLDER_SMBD_MALLOC_TUNABLES: &[&str] = &["glibc.malloc.mmap_threshold=16777216"];

/// The `GLIBC_TUNABLES` a process started with, from its environment block
/// (`/proc/PID/environ`). glibc parses the value in place and ends each
/// tunable with a NUL (seen with Debian 12's glibc 2.36; later versions
/// leave it whole), so the block holds `GLIBC_TUNABLES=first` followed by
/// one entry per further tunable; those are joined again with `:`.
fn running_tunables(environ: &[u8]) -> Option<String> {
    let mut entries = environ.split(|b| *b == 0);
    let first = entries.find_map(|e| e.strip_prefix(b"GLIBC_TUNABLES="))?;
    let mut out = String::from_utf8_lossy(first).into_owned();
    for e in entries.take_while(|e| e.starts_with(b"glibc.") && e.contains(&b'=')) {
        out.push(':');
        out.push_str(&String::from_utf8_lossy(e));
    }
    Some(out)
}

/// A private smbd instance: all its state in one directory, listening on
/// one loopback port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrivateInstance {
    /// Its directory (smb.conf, state, logs, pid file).
    pub dir: PathBuf,
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
}

/// Where Samba's configuration lives and how to reach smbd.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NativeSamba {
    conf: PathBuf,
    include: PathBuf,
    lock_dir: PathBuf,
    private: Option<PrivateInstance>,
}

impl NativeSamba {
    /// The host's Samba: `/etc/samba/smb.conf` with the managed include
    /// `/etc/samba/pve-smbgateway.conf`.
    pub fn host() -> NativeSamba {
        let mut s =
            NativeSamba::with_paths("/etc/samba/smb.conf", "/etc/samba/pve-smbgateway.conf");
        // Keep lock files out of the administrator's /etc/samba.
        s.lock_dir = PathBuf::from("/run/lock/pve-smbgateway");
        s
    }

    /// A host Samba configured elsewhere.
    /// Lock files go beside the include file.
    pub fn with_paths(conf: impl Into<PathBuf>, include: impl Into<PathBuf>) -> NativeSamba {
        let include: PathBuf = include.into();
        NativeSamba {
            conf: conf.into(),
            lock_dir: include.parent().map(Path::to_owned).unwrap_or_default(),
            include,
            private: None,
        }
    }

    /// A private instance in `dir`. Its port is the one recorded in
    /// `dir/smb.conf` when that file exists, otherwise `port`.
    pub fn private(dir: impl Into<PathBuf>, port: u16) -> NativeSamba {
        let dir = dir.into();
        let conf = dir.join("smb.conf");
        let port = fs::read_to_string(&conf)
            .ok()
            .and_then(|text| {
                let cfg = Config::load(&text, None, &NoIncludes);
                cfg.global("smb ports")?
                    .split_whitespace()
                    .next()?
                    .parse()
                    .ok()
            })
            .unwrap_or(port);
        NativeSamba {
            include: dir.join("pve-smbgateway.conf"),
            lock_dir: dir.clone(),
            conf,
            private: Some(PrivateInstance { dir, port }),
        }
    }

    /// The main smb.conf.
    pub fn conf(&self) -> &Path {
        &self.conf
    }

    /// The managed include file.
    pub fn include(&self) -> &Path {
        &self.include
    }

    /// The private instance, if this is one.
    pub fn private_instance(&self) -> Option<&PrivateInstance> {
        self.private.as_ref()
    }

    /// For humans: `host smbd (/etc/samba/smb.conf)`.
    pub fn describe(&self) -> String {
        match &self.private {
            Some(p) => format!(
                "private smbd on 127.0.0.1:{} ({})",
                p.port,
                self.conf.display()
            ),
            None => format!("host smbd ({})", self.conf.display()),
        }
    }

    /// Serializes changes to system accounts and groups made for this
    /// Samba (`useradd`/`groupadd` racing each other can both succeed and
    /// leave two different ids for one name).
    pub fn lock_accounts(&self) -> Result<FileLock> {
        FileLock::acquire(&self.lock_dir.join("accounts.lock"))
    }

    /// Serializes edits of the Samba files.
    fn lock(&self) -> Result<FileLock> {
        FileLock::acquire(&self.lock_dir.join("smbconf.lock"))
    }

    /// Makes sure smbd can take shares: a private instance gets its
    /// directories, main smb.conf (written once, then the administrator's)
    /// and a running smbd; on the host, smbd must be running.
    pub fn prepare(&self, runner: &dyn Runner) -> Result<()> {
        let Some(p) = &self.private else {
            if !self.conf.exists() {
                return Err(Error::MainConf {
                    path: self.conf.clone(),
                    problem: "does not exist; install samba (`apt install samba`)".into(),
                });
            }
            return if self.ping(runner)? {
                Ok(())
            } else {
                Err(Error::SmbdNotRunning)
            };
        };
        let _guard = self.lock()?;
        for sub in [
            "lock", "state", "cache", "private", "pid", "ncalrpc", "binddns", "log",
        ] {
            let d = p.dir.join(sub);
            fs::create_dir_all(&d).map_err(io("create directory", &d))?;
        }
        // Samba refuses a private dir others can read.
        set_mode(&p.dir.join("private"), 0o700)?;
        if !self.conf.exists() {
            let dir = p.dir.to_str().ok_or_else(|| Error::MainConf {
                path: p.dir.clone(),
                problem: "the directory path is not valid UTF-8".into(),
            })?;
            let conf = GatewayConf {
                ports: Some(vec![p.port]),
                interfaces: vec!["lo".into()],
                state_dir: Some(dir.to_owned()),
                // Counts and bytes for `metrics` (no timing: cheap).
                extra_globals: vec![("smbd profiling level".into(), "count".into())],
                ..GatewayConf::default()
            };
            let text = conf.render().map_err(|source| Error::Emit {
                share: "[global]".into(),
                source,
            })?;
            write_atomic(&self.conf, text.as_bytes(), 0o644)?;
        }
        if !self.private_running() {
            self.start_private(runner, p)?;
        }
        Ok(())
    }

    /// Is smbd up? (A private instance: its pid file names a live smbd; the
    /// host: `smbcontrol smbd ping` answers.)
    pub fn running(&self, runner: &dyn Runner) -> Result<bool> {
        match &self.private {
            Some(_) => Ok(self.private_running()),
            None => self.ping(runner),
        }
    }

    fn ping(&self, runner: &dyn Runner) -> Result<bool> {
        let cmd = Cmd::new("smbcontrol")
            .arg("-s")
            .arg(self.conf.display().to_string())
            .args(["smbd", "ping"]);
        match runner.run(&cmd) {
            Ok(_) => Ok(true),
            Err(RunError::Failed { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The pid of the private smbd, when it is alive.
    pub fn private_pid(&self) -> Option<u32> {
        live_daemon(&self.private.as_ref()?.dir, "smbd")
    }

    fn private_running(&self) -> bool {
        self.private_pid().is_some()
    }

    fn start_private(&self, runner: &dyn Runner, p: &PrivateInstance) -> Result<()> {
        // -D: smbd daemonizes and writes pid/smbd.pid; its whole state is in
        // the instance directory (see `prepare`).
        runner.run(
            &Cmd::new("smbd")
                .args(["-D", "-s"])
                .arg(self.conf.display().to_string())
                .env(
                    "GLIBC_TUNABLES",
                    smbd_glibc_tunables(std::env::var("GLIBC_TUNABLES").ok().as_deref()),
                ),
        )?;
        let deadline = Instant::now() + Duration::from_secs(10);
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, p.port));
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
                && self.private_running()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Error::SmbdStart {
                    port: p.port,
                    seconds: 10,
                    log: p.dir.join("log/log.smbd"),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the private smbd (SIGTERM to the whole tree, then waits up to
    /// 10 s, then SIGKILL). Does nothing for the host's smbd.
    pub fn stop_private(&self) -> Result<()> {
        let Some(pid) = self.private_pid() else {
            return Ok(());
        };
        let Some(p) = rustix::process::Pid::from_raw(pid as i32) else {
            return Ok(());
        };
        let _ = rustix::process::kill_process(p, rustix::process::Signal::TERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.private_running() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if self.private_running() {
            let _ = rustix::process::kill_process(p, rustix::process::Signal::KILL);
        }
        Ok(())
    }

    /// The main file with the include line appended, or `None` when it is
    /// already there.
    fn with_include_line(&self) -> Result<Option<String>> {
        let text = match read_optional(&self.conf)? {
            Some(b) => String::from_utf8(b).map_err(|_| Error::MainConf {
                path: self.conf.clone(),
                problem: "is not valid UTF-8; the gateway edits only UTF-8 files".into(),
            })?,
            None => {
                return Err(Error::MainConf {
                    path: self.conf.clone(),
                    problem: "does not exist".into(),
                })
            }
        };
        let include = self.include.display().to_string();
        let (doc, _) = Document::parse(&text);
        let present = doc.lines().iter().any(|l| {
            l.param().is_some_and(|(k, v)| {
                k.split_whitespace()
                    .collect::<String>()
                    .eq_ignore_ascii_case("include")
                    && v.trim() == include
            })
        });
        if present {
            return Ok(None);
        }
        let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
        let mut out = text;
        if !out.is_empty() && !out.ends_with('\n') {
            out.push_str(eol);
        }
        out.push_str(eol);
        out.push_str(INCLUDE_MARKER);
        out.push_str(eol);
        out.push_str(&format!("include = {include}{eol}"));
        Ok(Some(out))
    }

    /// The managed include file as a document (a fresh one when missing).
    fn include_doc(&self) -> Result<(Document, Option<Vec<u8>>)> {
        let old = read_optional(&self.include)?;
        let text = match &old {
            Some(b) => String::from_utf8_lossy(b).into_owned(),
            None => INCLUDE_HEADER.to_owned(),
        };
        Ok((Document::parse(&text).0, old))
    }

    /// Names of the shares in the managed include file.
    pub fn managed_shares(&self) -> Result<Vec<String>> {
        let (doc, _) = self.include_doc()?;
        Ok(doc
            .section_names()
            .into_iter()
            .filter(|n| !smbconf::is_global_name(n))
            .map(str::to_owned)
            .collect())
    }

    /// The text of a managed share's section as it is now, if present.
    pub fn managed_section(&self, name: &str) -> Result<Option<String>> {
        let (doc, _) = self.include_doc()?;
        Ok(section_text(&doc, name))
    }

    /// The section text `share` would get (to compare with
    /// [`Self::managed_section`]).
    pub fn render_section(share: &GatewayShare) -> Result<String> {
        let mut doc = Document::parse("").0;
        share.write_into(&mut doc).map_err(|source| Error::Emit {
            share: share.name.clone(),
            source,
        })?;
        Ok(doc.to_string())
    }

    /// Adds or replaces the share's section, validates, reloads. On
    /// failure both files are restored (and smbd reloaded again).
    pub fn serve(&self, runner: &dyn Runner, share: &GatewayShare) -> Result<()> {
        let _guard = self.lock()?;
        let (mut doc, old_include) = self.include_doc()?;
        let current = section_text(&doc, &share.name);
        if current.as_deref().map(str::trim_end) == Some(Self::render_section(share)?.trim_end())
            && self.with_include_line()?.is_none()
        {
            // Already served exactly like this (a re-run): still make sure
            // smbd has loaded it.
            return self.reload(runner);
        }
        doc.remove_section(&share.name);
        share.write_into(&mut doc).map_err(|source| Error::Emit {
            share: share.name.clone(),
            source,
        })?;
        self.commit(runner, doc.to_string(), old_include)
    }

    /// Removes the share's section (if present), validates, reloads and
    /// disconnects the share's clients. Returns whether it was present.
    pub fn unserve(&self, runner: &dyn Runner, name: &str) -> Result<bool> {
        let present = {
            let _guard = self.lock()?;
            let (mut doc, old_include) = self.include_doc()?;
            let present = doc.remove_section(name);
            if present {
                // The blank line that separated the section stays behind;
                // the file is ours, so keep its end tidy.
                let mut text = doc.to_string();
                let trimmed = text.trim_end_matches('\n').len();
                text.truncate(trimmed);
                text.push('\n');
                self.commit(runner, text, old_include)?;
            }
            present
        };
        if self.running(runner)? {
            // Removing the section does not disconnect connected clients.
            runner.run(
                &Cmd::new("smbcontrol")
                    .arg("-s")
                    .arg(self.conf.display().to_string())
                    .args(["smbd", "close-share", name]),
            )?;
        }
        Ok(present)
    }

    /// Writes the include file and (if needed) the include line, validates,
    /// reloads; restores both on failure. Caller holds the lock.
    fn commit(
        &self,
        runner: &dyn Runner,
        include: String,
        old_include: Option<Vec<u8>>,
    ) -> Result<()> {
        let old_conf = read_optional(&self.conf)?;
        // Neither a share nor the domain membership left: take the include
        // line and file away again, so that the main smb.conf is what it
        // was before.
        let empty = Document::parse(&include).0.section_names().is_empty();
        let new_conf = if empty {
            self.without_include_line()?
        } else {
            self.with_include_line()?
        };
        if empty {
            if let Err(e) = fs::remove_file(&self.include) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    return Err(io("remove", &self.include)(e));
                }
            }
        } else {
            write_atomic(&self.include, include.as_bytes(), 0o644)?;
        }
        if let Some(c) = &new_conf {
            if let Err(e) = write_atomic(&self.conf, c.as_bytes(), mode_of(&self.conf)) {
                self.restore(&old_include, None);
                return Err(e);
            }
        }
        let restore_conf = new_conf.as_ref().map(|_| old_conf);
        if let Err(e) = self.validate(runner) {
            self.restore(&old_include, restore_conf.as_ref());
            return Err(e);
        }
        if let Err(e) = self.reload(runner) {
            self.restore(&old_include, restore_conf.as_ref());
            let _ = self.reload(runner);
            return Err(match e {
                Error::Run(source) => Error::Reload { source },
                other => other,
            });
        }
        Ok(())
    }

    /// The main file without the block [`Self::with_include_line`]
    /// appended (marker comment, include line, and the blank line before
    /// them), or `None` when that exact block is not there (never added,
    /// or edited by the administrator: then it is left alone).
    fn without_include_line(&self) -> Result<Option<String>> {
        let Some(bytes) = read_optional(&self.conf)? else {
            return Ok(None);
        };
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let include = self.include.display().to_string();
        for eol in ["\r\n", "\n"] {
            let block = format!("{eol}{INCLUDE_MARKER}{eol}include = {include}{eol}");
            if let Some(at) = text.rfind(&block) {
                let mut out = text[..at].to_owned();
                out.push_str(&text[at + block.len()..]);
                return Ok(Some(out));
            }
        }
        Ok(None)
    }

    fn restore(&self, include: &Option<Vec<u8>>, conf: Option<&Option<Vec<u8>>>) {
        let put = |path: &Path, old: &Option<Vec<u8>>| match old {
            Some(b) => {
                let _ = write_atomic(path, b, mode_of(path));
            }
            None => {
                let _ = fs::remove_file(path);
            }
        };
        put(&self.include, include);
        if let Some(c) = conf {
            put(&self.conf, c);
        }
    }

    /// Runs `testparm -s` on the main smb.conf; a load failure is an error
    /// carrying testparm's message.
    pub fn validate(&self, runner: &dyn Runner) -> Result<()> {
        let cmd = Cmd::new("testparm")
            .args(["-s", "--suppress-prompt"])
            .arg(self.conf.display().to_string());
        match runner.run(&cmd) {
            Ok(_) => Ok(()),
            Err(RunError::Failed { stderr, .. }) => Err(Error::Validation {
                conf: self.conf.clone(),
                stderr: stderr
                    .lines()
                    .filter(|l| !l.starts_with("Load smb config") && !l.contains("Weak crypto"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Tells smbd to reload its configuration (no-op when a private
    /// instance is not running: it reads the files when it starts).
    pub fn reload(&self, runner: &dyn Runner) -> Result<()> {
        if self.private.is_some() && !self.private_running() {
            return Ok(());
        }
        runner.run(
            &Cmd::new("smbcontrol")
                .arg("-s")
                .arg(self.conf.display().to_string())
                .args(["smbd", "reload-config"]),
        )?;
        Ok(())
    }

    /// Whether a domain member keeps its service keys in the system's
    /// keytab too (the host's Samba; a private instance must not).
    pub fn system_keytab(&self) -> bool {
        self.private.is_none()
    }

    /// The domain globals in the managed include file (its `[global]`
    /// section), if any.
    pub fn domain_globals(&self) -> Result<Option<Vec<(String, String)>>> {
        let (doc, _) = self.include_doc()?;
        let Some(name) = doc
            .section_names()
            .into_iter()
            .find(|n| smbconf::is_global_name(n))
            .map(str::to_owned)
        else {
            return Ok(None);
        };
        let mut current: Option<&str> = None;
        let mut out = Vec::new();
        for l in doc.lines() {
            if let Some(n) = l.section_name() {
                current = Some(n);
            } else if let (Some(c), Some((k, v))) = (current, l.param()) {
                if c == name {
                    out.push((k.to_owned(), v.to_owned()));
                }
            }
        }
        Ok(Some(out))
    }

    /// Puts `globals` (a domain membership) into the managed include
    /// file's `[global]` section, or removes that section (`None`);
    /// validates and reloads like every change, restoring on failure.
    pub fn set_domain(
        &self,
        runner: &dyn Runner,
        globals: Option<&[(String, String)]>,
    ) -> Result<()> {
        let _guard = self.lock()?;
        let (mut doc, old_include) = self.include_doc()?;
        let names: Vec<String> = doc
            .section_names()
            .into_iter()
            .filter(|n| smbconf::is_global_name(n))
            .map(str::to_owned)
            .collect();
        let mut changed = false;
        for n in &names {
            changed |= doc.remove_section(n);
        }
        if let Some(g) = globals {
            // An explicit `[global]` header: the included file comes after
            // the administrator's shares.
            let mut fresh = Document::parse(&format!("{INCLUDE_HEADER}[global]\n")).0;
            for (k, v) in g {
                fresh.set("global", k, v).map_err(|e| Error::Emit {
                    share: "[global]".into(),
                    source: e.into(),
                })?;
            }
            // The membership first, then the shares as they were.
            let rest = doc.to_string();
            let rest = rest
                .strip_prefix(INCLUDE_HEADER)
                .unwrap_or(&rest)
                .trim_start_matches('\n');
            let f = fresh.to_string();
            let text = if rest.trim().is_empty() {
                f
            } else {
                format!("{}\n\n{rest}", f.trim_end())
            };
            if old_include.as_deref() == Some(text.as_bytes()) {
                return self.reload(runner);
            }
            return self.commit(runner, text, old_include);
        }
        if !changed {
            return Ok(());
        }
        let mut text = doc.to_string();
        let trimmed = text.trim_end_matches('\n').len();
        text.truncate(trimmed);
        text.push('\n');
        self.commit(runner, text, old_include)
    }

    /// Makes sure winbindd runs for this Samba: a private instance starts
    /// its own (`winbindd -D` with its smb.conf); on the host the
    /// `winbind` service is enabled and started. NSS must know winbind
    /// (`/etc/nsswitch.conf`), or smbd cannot map domain users to ids.
    ///
    /// `restart`: the membership just changed (winbindd reads it when it
    /// starts), so a running winbindd is restarted.
    pub fn ensure_winbindd(&self, runner: &dyn Runner, restart: bool) -> Result<()> {
        crate::domain::check_nss()?;
        match &self.private {
            Some(p) => {
                if self.private_winbindd_pid().is_some() {
                    if !restart {
                        return Ok(());
                    }
                    self.stop_winbindd(runner);
                }
                runner.run(
                    &Cmd::new("winbindd")
                        .args(["-D", "-s"])
                        .arg(self.conf.display().to_string()),
                )?;
                self.wait_winbindd(runner, &p.dir.join("log"))
            }
            None => {
                // winbindd reads its domain at startup: restart it after a
                // change of membership, then wait until it reaches a DC.
                runner.run(&Cmd::new("systemctl").args(["enable", "winbind"]))?;
                let verb = if restart { "restart" } else { "start" };
                runner.run(&Cmd::new("systemctl").args([verb, "winbind"]))?;
                self.wait_winbindd(runner, Path::new("/var/log/samba"))
            }
        }
    }

    /// Waits (10 s) until winbindd answers and reaches a DC.
    fn wait_winbindd(&self, runner: &dyn Runner, logs: &Path) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let ping = runner.run(
                &Cmd::new("wbinfo")
                    .arg("--ping-dc")
                    .timeout(Duration::from_secs(10)),
            );
            if ping.is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Error::Unsupported(format!(
                    "winbindd did not reach the domain controller within 10 s; see {}",
                    logs.display()
                )));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The pid of the private instance's winbindd, when it is alive.
    fn private_winbindd_pid(&self) -> Option<u32> {
        live_daemon(&self.private.as_ref()?.dir, "winbindd")
    }

    /// Stops a private instance's winbindd; the host's `winbind` service
    /// is restarted instead (other software may use it; it forgets the
    /// domain the gateway left).
    pub fn stop_winbindd(&self, runner: &dyn Runner) {
        if self.private.is_none() {
            let _ = runner.run(&Cmd::new("systemctl").args(["try-restart", "winbind"]));
            return;
        }
        let Some(pid) = self.private_winbindd_pid() else {
            return;
        };
        if let Some(p) = rustix::process::Pid::from_raw(pid as i32) {
            let _ = rustix::process::kill_process(p, rustix::process::Signal::TERM);
            let deadline = Instant::now() + Duration::from_secs(10);
            while self.private_winbindd_pid().is_some() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// Removes every managed section for which `keep` is false, in one
    /// validated change. Returns the removed names.
    pub fn prune(&self, runner: &dyn Runner, keep: impl Fn(&str) -> bool) -> Result<Vec<String>> {
        let removed: Vec<String> = self
            .managed_shares()?
            .into_iter()
            .filter(|n| !keep(n))
            .collect();
        for name in &removed {
            self.unserve(runner, name)?;
        }
        Ok(removed)
    }
}

/// The pid in a private instance's `pid/NAME.pid` when that process is
/// alive and is `name` (a zombie still has a comm; its state tells).
fn live_daemon(dir: &Path, name: &str) -> Option<u32> {
    live_pid(
        &dir.join(format!("pid/{name}.pid")),
        Path::new("/proc"),
        name,
    )
}

/// The pid in `pid_file` when it names a live process called `name` (not a
/// zombie), looked up under `proc` (normally `/proc`).
fn live_pid(pid_file: &Path, proc: &Path, name: &str) -> Option<u32> {
    let pid: u32 = fs::read_to_string(pid_file).ok()?.trim().parse().ok()?;
    let dir = proc.join(pid.to_string());
    let comm = fs::read_to_string(dir.join("comm")).ok()?;
    let stat = fs::read_to_string(dir.join("stat")).ok()?;
    let state = stat.rsplit(')').next()?.split_whitespace().next()?;
    (comm.trim() == name && state != "Z").then_some(pid)
}

fn section_text(doc: &Document, name: &str) -> Option<String> {
    let key = smbconf::section_key(name);
    let mut out = String::new();
    let mut inside = false;
    let mut found = false;
    for line in doc.lines() {
        if let Some(n) = line.section_name() {
            inside = smbconf::section_key(n) == key;
            found |= inside;
        }
        if inside {
            out.push_str(line.raw());
        }
    }
    found.then_some(out)
}

fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o7777)
        .unwrap_or(0o644)
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(io("set permissions of", path))
}
