//! A sandboxed gateway for end-to-end tests of the `pve-smbgateway`
//! binary: every run happens in a private mount namespace whose `/etc` is
//! a copy (so `useradd` and NSS lookups by smbd never touch the host's
//! accounts), with `--sandbox DIR` (registry, state, a private smbd on a
//! free loopback port, directory volumes under DIR). On drop — also when
//! the test panics — the private smbd is stopped and everything removed.

use std::fs;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{kill_process, Pid, Signal};

use crate::require;

/// The programs the sandbox needs.
pub const SAMBA_TOOLS: &[&str] = &[
    "smbd",
    "smbclient",
    "testparm",
    "smbcontrol",
    "smbpasswd",
    "pdbedit",
    "smbstatus",
    "unshare",
    "useradd",
];

/// The prepared LXC template of the tests: built by the first LXC test
/// (debootstrap, about a minute) and kept between runs.
pub const LXC_TEMPLATE: &str = "/var/cache/pve-smbgateway-tests/lxc-template";

/// A free TCP port on 127.0.0.1 (bound and released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port on 127.0.0.1")
}

/// One sandboxed gateway.
pub struct GatewaySandbox {
    dir: Option<tempfile::TempDir>,
    /// The `--sandbox` directory.
    pub root: PathBuf,
    /// The private copy of /etc.
    pub etc: PathBuf,
    /// The private smbd's port.
    pub port: u16,
    bin: PathBuf,
    /// The network namespace every command runs in (AD tests).
    pub netns: Option<String>,
    /// Bind-mounted over `/run/samba` in every command (AD tests: the
    /// private winbindd's socket is found there).
    run_samba: Option<PathBuf>,
    /// A datagram socket that is `/dev/log` in every command (syslog
    /// tests), see [`GatewaySandbox::capture_syslog`].
    devlog: Option<PathBuf>,
}

impl GatewaySandbox {
    /// A sandbox for `bin` (the `pve-smbgateway` binary), or `None` after
    /// printing why (Samba missing outside the project's test command).
    pub fn new(test: &str, bin: &Path) -> Option<GatewaySandbox> {
        if !require(test, SAMBA_TOOLS, "apt-get install -y samba smbclient") {
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("smbgw-e2e-")
            .tempdir()
            .expect("temp dir");
        // smbd serves as the connected user, who must be able to reach the
        // volumes below (tempdir creates 0700).
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        let etc = dir.path().join("etc");
        let st = Command::new("cp")
            .args(["-a", "/etc"])
            .arg(&etc)
            .status()
            .expect("cp");
        assert!(st.success(), "cannot copy /etc");
        // Unprivileged LXC containers map their ids through /etc/subuid
        // and /etc/subgid (also as root); the private copy has the range.
        for f in ["subuid", "subgid"] {
            fs::write(etc.join(f), "root:100000:65536\n").expect("write subuid");
        }
        let root = dir.path().join("gw");
        fs::create_dir_all(&root).expect("sandbox dir");
        Some(GatewaySandbox {
            root,
            etc,
            port: free_port(),
            bin: bin.to_owned(),
            dir: Some(dir),
            netns: None,
            run_samba: None,
            devlog: None,
        })
    }

    /// A sandbox in `dc`'s network namespace whose private `/etc` makes
    /// the host a would-be member of the domain (see
    /// [`crate::ad::member_etc`]), with a private `/run/samba`.
    pub fn in_domain(test: &str, bin: &Path, dc: &crate::ad::AdDc) -> Option<GatewaySandbox> {
        let mut sb = GatewaySandbox::new(test, bin)?;
        let host = rustix::system::uname()
            .nodename()
            .to_string_lossy()
            .into_owned();
        crate::ad::member_etc(dc, &sb.etc, host.split('.').next().unwrap_or("gw"));
        let run = sb.base().join("run-samba");
        fs::create_dir_all(&run).expect("run dir");
        fs::create_dir_all(sb.base().join("cgroup-move")).expect("cgroup dir");
        // Samba's packages create /run/samba; the bind needs it to exist.
        fs::create_dir_all("/run/samba").expect("/run/samba");
        // Unprivileged domain-member containers also map winbind's ranges.
        let (lo, n) = provision::container::domain_id_range();
        for f in ["subuid", "subgid"] {
            fs::write(
                sb.etc.join(f),
                format!("root:100000:65536\nroot:{lo}:{n}\n"),
            )
            .expect("write subuid");
        }
        sb.run_samba = Some(run);
        sb.netns = Some(dc.netns.clone());
        // The namespace is the test's own: the private smbd takes SMB's
        // port there (smbcacls cannot be told another).
        sb.port = 445;
        Some(sb)
    }

    /// From now on `/dev/log` in every command of the sandbox is the
    /// returned socket (the rest of `/dev` is the host's devices on a
    /// private tmpfs), so that what the gateway's smbd sends to syslog
    /// reaches the test; the host's /dev is not touched.
    pub fn capture_syslog(&mut self) -> std::os::unix::net::UnixDatagram {
        let path = self.base().join("devlog.sock");
        let sock = std::os::unix::net::UnixDatagram::bind(&path).expect("bind the syslog socket");
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).expect("chmod");
        }
        self.devlog = Some(path);
        sock
    }

    /// The temp directory holding everything.
    pub fn base(&self) -> &Path {
        self.dir
            .as_ref()
            .map(|d| d.path())
            .unwrap_or(Path::new("/"))
    }

    /// `program args...` inside the sandbox's mount namespace (private
    /// /etc). Mounts below shared mount points stay shared both ways (the
    /// zfs CLI unmounts from the calling process).
    pub fn ns_command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = match &self.netns {
            Some(ns) => {
                let mut c = Command::new("nsenter");
                c.arg(format!("--net=/run/netns/{ns}")).arg("unshare");
                c
            }
            None => Command::new("unshare"),
        };
        // The namespace tricks of the AD and syslog tests (a fresh /sys,
        // a tmpfs /dev, binds over /run/samba) must never reach the host,
        // also where / is a shared mount: those sandboxes are private.
        let propagation =
            if self.netns.is_some() || self.devlog.is_some() || self.run_samba.is_some() {
                "private"
            } else {
                "unchanged"
            };
        c.args(["--mount", "--propagation", propagation, "--", "sh", "-c"])
            // In another network namespace /sys must show its devices
            // (LXC looks for the bridge there), as `ip netns exec` does;
            // the cgroup mounts move over to the fresh sysfs.
            .arg(
                r#"mount --bind "$0" /etc && { [ -z "$SMBGW_TEST_RUN_SAMBA" ] || mount --bind "$SMBGW_TEST_RUN_SAMBA" /run/samba; } && { [ -z "$SMBGW_TEST_CG" ] || { mount --rbind /sys/fs/cgroup "$SMBGW_TEST_CG" && umount -l /sys && mount -t sysfs sysfs /sys && mount --move "$SMBGW_TEST_CG" /sys/fs/cgroup; }; } && { [ -z "$SMBGW_TEST_DEVLOG" ] || { d="$SMBGW_TEST_DEVLOG.dev" && mkdir -p "$d" && mount --rbind /dev "$d" && mount -t tmpfs -o mode=755 tmpfs /dev && for n in null zero full random urandom tty ptmx; do touch "/dev/$n" && mount --bind "$d/$n" "/dev/$n" || exit 1; done && mkdir /dev/pts /dev/shm && mount --rbind "$d/pts" /dev/pts && mount --rbind "$d/shm" /dev/shm && ln -s /proc/self/fd /dev/fd && touch /dev/log && mount --bind "$SMBGW_TEST_DEVLOG" /dev/log; }; } && exec "$@""#,
            )
            .arg(&self.etc)
            .arg(program);
        match &self.run_samba {
            Some(r) => c.env("SMBGW_TEST_RUN_SAMBA", r),
            None => c.env_remove("SMBGW_TEST_RUN_SAMBA"),
        };
        match &self.netns {
            Some(_) => c.env("SMBGW_TEST_CG", self.base().join("cgroup-move")),
            None => c.env_remove("SMBGW_TEST_CG"),
        };
        match &self.devlog {
            Some(p) => c.env("SMBGW_TEST_DEVLOG", p),
            None => c.env_remove("SMBGW_TEST_DEVLOG"),
        };
        c
    }

    /// `pve-smbgateway --sandbox ROOT --port PORT args...` in the namespace.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = self.ns_command(&self.bin);
        c.arg("--sandbox")
            .arg(&self.root)
            .arg("--port")
            .arg(self.port.to_string())
            .args(args)
            .env_remove("SMBGW_FAULT")
            // Most end-to-end tests are about native mode; LXC tests say
            // `--mode lxc`.
            .env("SMBGW_MODE", "native")
            .env("SMBGW_LXC_TEMPLATE", LXC_TEMPLATE)
            .env_remove("SMBGW_LXCPATH")
            .env_remove("SMBGW_SANDBOX")
            .env_remove("SMBGW_REGISTRY")
            .env_remove("SMBGW_STATE_DIR")
            .env_remove("SMBGW_SAMBA_CONF");
        c
    }

    /// Runs the gateway with `args` and no stdin.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args)
            .stdin(Stdio::null())
            .output()
            .expect("run pve-smbgateway")
    }

    /// Runs the gateway with `args`, feeding `input` on stdin.
    pub fn run_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        feed(self.cmd(args), input)
    }

    /// Adds SMB user `name` with `password` (through a 0600 file).
    pub fn add_user(&self, name: &str, password: &str) {
        let out = self.run_stdin(&["user", "add", name], format!("{password}\n").as_bytes());
        assert!(
            out.status.success(),
            "user add {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `smbclient //127.0.0.1/SHARE -U user -c commands` (password through
    /// the environment, not argv), run in `cwd`, plus `extra` options.
    pub fn smbclient(
        &self,
        share: &str,
        user: &str,
        password: &str,
        commands: &str,
        extra: &[&str],
        cwd: &Path,
    ) -> Output {
        Command::new("smbclient")
            .arg("-p")
            .arg(self.port.to_string())
            .arg(format!("//127.0.0.1/{share}"))
            .args(["-U", user, "-c", commands])
            .args(extra)
            .env("PASSWD", password)
            .current_dir(cwd)
            .stdin(Stdio::null())
            .output()
            .expect("run smbclient")
    }

    /// The private smbd's directory.
    pub fn samba_dir(&self) -> PathBuf {
        self.root.join("samba")
    }

    /// The private smbd's pid, when running.
    pub fn smbd_pid(&self) -> Option<i32> {
        // The gateway's own liveness check (pid file, comm, not a zombie).
        let pid = provision::NativeSamba::private(self.samba_dir(), self.port).private_pid()?;
        i32::try_from(pid).ok()
    }

    /// Stops the private smbd (and waits for its whole tree).
    pub fn stop_smbd(&self) {
        let Some(pid) = self.smbd_pid() else {
            return;
        };
        let Some(p) = Pid::from_raw(pid) else {
            return;
        };
        let _ = kill_process(p, Signal::TERM);
        let start = Instant::now();
        while self.smbd_pid().is_some() && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = kill_process(p, Signal::KILL);
        // Children (smbd-notifyd, cleanupd, client smbds) name the config in
        // their command line.
        kill_matching(&self.root.to_string_lossy());
    }
}

/// Runs `cmd` with `input` on stdin.
pub fn feed(mut cmd: Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input);
    }
    child.wait_with_output().expect("wait")
}

/// SIGKILLs every process whose command line mentions `needle`.
pub fn kill_matching(needle: &str) {
    let Ok(entries) = fs::read_dir("/proc") else {
        return;
    };
    let me = std::process::id() as i32;
    for e in entries.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        if String::from_utf8_lossy(&cmdline).contains(needle) {
            if let Some(p) = Pid::from_raw(pid) {
                let _ = kill_process(p, Signal::KILL);
            }
        }
    }
}

impl GatewaySandbox {
    /// Stops and destroys every container under the sandbox's lxcpath
    /// (a test that failed half-way may leave one running).
    pub fn destroy_containers(&self) {
        let lxcpath = self.root.join("lxc");
        let Ok(entries) = fs::read_dir(&lxcpath) else {
            return;
        };
        // LXC's command socket is abstract, so per network namespace: a
        // container started in the sandbox's namespace is stopped there.
        let lxc = |tool: &str| match &self.netns {
            Some(_) => self.ns_command(tool),
            None => Command::new(tool),
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let _ = lxc("lxc-stop")
                .arg("-P")
                .arg(&lxcpath)
                .arg("-n")
                .arg(&name)
                .arg("-k")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            if e.path().join("config").exists() {
                let _ = lxc("lxc-destroy")
                    .arg("-P")
                    .arg(&lxcpath)
                    .arg("-n")
                    .arg(&name)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
        }
    }
}

impl Drop for GatewaySandbox {
    fn drop(&mut self) {
        if std::env::var_os("SMBGW_KEEP_SANDBOX").is_none() {
            self.destroy_containers();
        }
        self.stop_smbd();
        kill_matching(&self.base().to_string_lossy());
        if std::env::var_os("SMBGW_KEEP_SANDBOX").is_some() {
            // For debugging a failure: keep the files, say where.
            if let Some(d) = self.dir.take() {
                eprintln!("sandbox kept at {}", d.keep().display());
            }
        }
        self.dir.take();
    }
}
