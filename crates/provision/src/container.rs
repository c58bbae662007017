//! LXC mode: one small container per share, running its own smbd on a
//! bind-mounted volume.
//!
//! [`ContainerConfig`] says what the container is (pure data, journalled
//! in plans); a [`ContainerDriver`] makes it real: [`PctDriver`] on
//! Proxmox (`pct`, `pveam`), [`LxcDriver`] with plain LXC on Debian
//! (`lxc-*`, a debootstrap template). Both drive the same steps, so the
//! executor and the plans do not care which one runs.
//!
//! Ownership: files written through the share must belong on the host to
//! the same uid/gid as the SMB user, also in an unprivileged container.
//! The bind mount is therefore an *idmapped* mount with identity mapping
//! (Proxmox: `idmap=passthrough` on the `mpN`; LXC: `idmap=container` on
//! the mount entry), and the container gets the share's users and group
//! with their host ids ([`Account`]).

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use runner::{Cmd, Output, RunError, Runner, Secret, Stdin};
use serde::{Deserialize, Serialize};

use crate::error::{io, Error, Result};
use crate::fsutil::{write_atomic, FileLock};

pub mod pct_schema;

/// Where the share is mounted inside its container.
pub fn share_mount_point(share: &str) -> String {
    format!("/srv/{share}")
}

/// How the container reaches the network.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Network {
    /// Loopback only (plain LXC; for tests and for a gateway reached
    /// through the host).
    None,
    /// One interface `eth0` on a host bridge.
    Bridge {
        /// The host bridge (`vmbr0` on Proxmox; never assumed).
        bridge: String,
        /// VLAN tag.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        vlan: Option<u16>,
        /// Addressing.
        ip: IpConfig,
    },
}

/// IPv4 addressing of the container's interface.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "kebab-case")]
pub enum IpConfig {
    /// DHCP.
    Dhcp,
    /// A static address.
    Static {
        /// `ADDR/BITS`.
        cidr: String,
        /// Default gateway.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gateway: Option<String>,
    },
}

/// The container of one share.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ContainerConfig {
    /// The container's id: a VMID on Proxmox, a name with plain LXC.
    pub id: String,
    /// Host name.
    pub hostname: String,
    /// Memory limit, MiB.
    pub memory_mb: u32,
    /// Swap, MiB.
    pub swap_mb: u32,
    /// CPU cores.
    pub cores: u32,
    /// Unprivileged (user namespace; the default).
    pub unprivileged: bool,
    /// Network.
    pub network: Network,
    /// Where the volume appears inside ([`share_mount_point`]).
    pub mount_point: String,
    /// The volume is reachable from every cluster node (CephFS): Proxmox
    /// may then migrate the container.
    pub shared: bool,
    /// Proxmox: the storage for the container's root disk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rootfs_storage: Option<String>,
    /// Proxmox: root disk size, GiB.
    #[serde(default = "default_rootfs_gib")]
    pub rootfs_gib: u32,
    /// The container joins an Active Directory domain: an unprivileged
    /// one also maps winbind's id ranges through unchanged, and the
    /// container resolves names with the host's resolver configuration.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub domain_member: bool,
    /// The share is audited: the host's syslog socket (`/dev/log`) is
    /// bind-mounted in, so that `full_audit` reaches the host's journal.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub audit: bool,
}

fn default_rootfs_gib() -> u32 {
    2
}

/// A user or group the container needs with its host id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Name.
    pub name: String,
    /// Host uid (users) or gid (groups).
    pub id: u32,
    /// A group (else a user).
    pub group: bool,
    /// Users: primary group's gid; groups: member names.
    #[serde(default)]
    pub gid: Option<u32>,
    /// Groups: members.
    #[serde(default)]
    pub members: Vec<String>,
}

/// What a driver reports about a container.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CtState {
    /// It does not exist.
    Absent,
    /// It exists and is stopped.
    Stopped,
    /// It runs.
    Running,
}

/// Creates, runs and removes share containers.
pub trait ContainerDriver: Send + Sync {
    /// `pct` or `lxc`.
    fn kind(&self) -> &'static str;
    /// For plans: `Proxmox containers (pct)`.
    fn describe(&self) -> String;
    /// Makes sure the prepared gateway template (Samba installed) exists;
    /// builds it the first time (slow, once).
    fn prepare_template(&self, runner: &dyn Runner) -> Result<()>;
    /// The container's state.
    fn state(&self, runner: &dyn Runner, id: &str) -> Result<CtState>;
    /// Creates the container from the prepared template (stopped), with
    /// `volume` (a host path) bind-mounted. Must not be called when it
    /// exists.
    fn create(&self, runner: &dyn Runner, ct: &ContainerConfig, volume: &Path) -> Result<()>;
    /// Starts it and waits until it runs.
    fn start(&self, runner: &dyn Runner, id: &str) -> Result<()>;
    /// Stops it (no error when stopped).
    fn stop(&self, runner: &dyn Runner, id: &str) -> Result<()>;
    /// Destroys a stopped container; never touches the bind-mounted volume.
    fn destroy(&self, runner: &dyn Runner, id: &str) -> Result<()>;
    /// Runs `argv` inside the running container.
    fn exec(
        &self,
        runner: &dyn Runner,
        id: &str,
        argv: &[&str],
        stdin: Option<Stdin>,
    ) -> Result<Output>;
}

/// A [`Runner`] whose commands run inside a container (through its
/// driver's `exec`); for the tools that take a runner, such as
/// [`crate::domain`].
pub struct InContainer<'a> {
    /// The container's driver.
    pub driver: &'a dyn ContainerDriver,
    /// Runs the driver's own tools.
    pub runner: &'a dyn Runner,
    /// The container.
    pub id: &'a str,
}

impl Runner for InContainer<'_> {
    fn run(&self, cmd: &Cmd) -> std::result::Result<Output, RunError> {
        let mut argv = vec![cmd.program()];
        argv.extend(cmd.get_args().iter().map(String::as_str));
        match self
            .driver
            .exec(self.runner, self.id, &argv, cmd.get_stdin().cloned())
        {
            Ok(o) => Ok(o),
            Err(Error::Run(e)) => Err(e),
            Err(other) => Err(RunError::Io {
                argv: argv.iter().map(|a| (*a).to_owned()).collect(),
                source: std::io::Error::other(other.to_string()),
            }),
        }
    }
}

/// Makes sure winbindd runs in the (joined) container and answers, then
/// has smbd reload: under smbd as init it is started directly (the init
/// script starts it at the next boot), under systemd its unit is enabled.
pub fn start_winbindd(driver: &dyn ContainerDriver, runner: &dyn Runner, id: &str) -> Result<()> {
    let script = "set -e
if [ \"$(cat /proc/1/comm)\" = smbd ]; then
  pgrep -x winbindd >/dev/null || /usr/sbin/winbindd -D
else
  systemctl enable --now winbind >/dev/null 2>&1
fi
i=0
until wbinfo -P >/dev/null 2>&1; do
  i=$((i+1)); [ $i -lt 150 ] || { echo 'winbindd does not reach the domain controller after 30 s' >&2; tail -n 20 /var/log/samba/log.winbindd >&2 || true; exit 1; }
  sleep 0.2
done
smbcontrol smbd reload-config";
    driver.exec(runner, id, &["sh", "-c", script], None)?;
    Ok(())
}

/// `cmd` reading `stdin` (a secret stays a secret).
fn with_stdin(cmd: Cmd, stdin: Option<Stdin>) -> Cmd {
    match stdin {
        Some(Stdin::Bytes(b)) => cmd.stdin_bytes(b),
        Some(Stdin::Secret(s)) => cmd.stdin_secret(s),
        None => cmd,
    }
}

/// Writes `contents` to `path` inside the running container (mode `mode`,
/// owned by root), atomically; the data goes through stdin.
pub fn write_in(
    driver: &dyn ContainerDriver,
    runner: &dyn Runner,
    id: &str,
    path: &str,
    contents: Stdin,
    mode: u32,
) -> Result<()> {
    let script = format!(
        "set -e; umask 077; t=\"$1.smbgw-tmp\"; cat > \"$t\"; chmod {mode:o} \"$t\"; mv -f \"$t\" \"$1\""
    );
    driver.exec(
        runner,
        id,
        &["sh", "-c", &script, "sh", path],
        Some(contents),
    )?;
    Ok(())
}

/// The Samba version inside the container, as `(major, minor)`.
pub fn samba_version(
    driver: &dyn ContainerDriver,
    runner: &dyn Runner,
    id: &str,
) -> Result<(u32, u32)> {
    let out = driver.exec(runner, id, &["smbd", "--version"], None)?;
    parse_samba_version(&out.stdout_str()).ok_or_else(|| Error::Container {
        id: id.to_owned(),
        problem: format!(
            "cannot read the Samba version from `smbd --version`: {:?}",
            out.stdout_str().trim()
        ),
    })
}

/// `Version 4.17.12-Debian` → `(4, 17)`.
pub fn parse_samba_version(s: &str) -> Option<(u32, u32)> {
    let v = s.trim().strip_prefix("Version ")?;
    let mut it = v.split(|c: char| !c.is_ascii_digit());
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

fn getent(runner: &dyn Runner, db: &str, key: &str) -> Result<Option<Vec<String>>> {
    match runner.run(&Cmd::new("getent").args([db, key])) {
        Ok(out) => Ok(Some(
            out.stdout_str()
                .lines()
                .next()
                .unwrap_or_default()
                .split(':')
                .map(str::to_owned)
                .collect(),
        )),
        // getent exits 2 for "not found".
        Err(RunError::Failed { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The host accounts of `users` (and their primary groups) and `groups`
/// (with their members), as a container needs them.
pub fn host_accounts(
    runner: &dyn Runner,
    users: &[String],
    groups: &[String],
) -> Result<Vec<Account>> {
    let mut out: Vec<Account> = Vec::new();
    let missing = |what: &str, name: &str| Error::Container {
        id: String::new(),
        problem: format!("{what} `{name}` does not exist on the host"),
    };
    let add_group = |out: &mut Vec<Account>, f: &[String]| {
        let id = f.get(2).and_then(|g| g.parse().ok());
        if let (Some(name), Some(id)) = (f.first(), id) {
            if !out.iter().any(|a| a.group && a.name == *name) {
                let members = f
                    .get(3)
                    .map(|m| {
                        m.split(',')
                            .filter(|m| !m.is_empty())
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                out.push(Account {
                    name: name.clone(),
                    id,
                    group: true,
                    gid: None,
                    members,
                });
            }
        }
    };
    for g in groups {
        let f = getent(runner, "group", g)?.ok_or_else(|| missing("group", g))?;
        add_group(&mut out, &f);
    }
    for u in users {
        let f = getent(runner, "passwd", u)?.ok_or_else(|| missing("user", u))?;
        let uid = f.get(2).and_then(|v| v.parse::<u32>().ok());
        let gid = f.get(3).and_then(|v| v.parse::<u32>().ok());
        let (Some(uid), Some(gid)) = (uid, gid) else {
            return Err(missing("user (with numeric ids)", u));
        };
        if let Some(gf) = getent(runner, "group", &gid.to_string())? {
            add_group(&mut out, &gf);
        }
        out.push(Account {
            name: u.clone(),
            id: uid,
            group: false,
            gid: Some(gid),
            members: Vec::new(),
        });
    }
    Ok(out)
}

/// Copies `users` (with their primary groups and SMB password hashes,
/// read from `samba`'s password database) and `groups` into the running
/// container, with their host ids.
pub fn copy_accounts(
    driver: &dyn ContainerDriver,
    runner: &dyn Runner,
    samba: &crate::NativeSamba,
    id: &str,
    users: &[String],
    groups: &[String],
) -> Result<()> {
    let accounts = host_accounts(runner, users, groups)?;
    let passdb = if users.is_empty() {
        None
    } else {
        Some(crate::SmbUsers::new(samba, runner).export(users)?)
    };
    sync_accounts(driver, runner, id, &accounts, passdb)
}

/// Creates the share's users and groups inside the container with their
/// host ids, and imports their SMB password hashes (`smbpasswd` lines,
/// secret: sent through stdin into a root-only file that is removed).
pub fn sync_accounts(
    driver: &dyn ContainerDriver,
    runner: &dyn Runner,
    id: &str,
    accounts: &[Account],
    passdb: Option<Secret>,
) -> Result<()> {
    let mut script = String::from("set -e\n");
    for a in accounts.iter().filter(|a| a.group) {
        // Host system ids may coincide with the template's own system
        // accounts: ids need not be unique inside (`-o`), names must match.
        script.push_str(&format!(
            "if getent group {n} >/dev/null; then groupmod -o -g {id} {n}; else groupadd -o -g {id} {n}; fi\n",
            n = a.name,
            id = a.id
        ));
    }
    for a in accounts.iter().filter(|a| !a.group) {
        let gid = a.gid.map(|g| format!("-g {g} ")).unwrap_or_default();
        script.push_str(&format!(
            "if getent passwd {n} >/dev/null; then usermod -o -u {id} {gid}{n}; else useradd -M -N -s /usr/sbin/nologin -o -u {id} {gid}-c 'pve-smbgateway SMB user' {n}; fi\n",
            n = a.name,
            id = a.id,
        ));
    }
    for a in accounts.iter().filter(|a| a.group) {
        for m in &a.members {
            if accounts.iter().any(|u| !u.group && &u.name == m) {
                script.push_str(&format!("usermod -a -G {} {m}\n", a.name));
            }
        }
    }
    // Names were checked by the caller (account rules: no shell
    // metacharacters).
    driver.exec(runner, id, &["sh", "-c", &script], None)?;
    if let Some(lines) = passdb {
        write_in(
            driver,
            runner,
            id,
            "/run/smbgw-passdb",
            Stdin::Secret(lines),
            0o600,
        )?;
        let r = driver.exec(
            runner,
            id,
            &[
                "sh",
                "-c",
                "pdbedit -i smbpasswd:/run/smbgw-passdb -e tdbsam >/dev/null; rc=$?; rm -f /run/smbgw-passdb; exit $rc",
            ],
            None,
        );
        r?;
    }
    Ok(())
}

/// Writes the container's smb.conf (after `testparm` accepted it inside
/// the container), enables smbd and (re)starts it, and waits until it
/// listens on port 445.
pub fn configure_smbd(
    driver: &dyn ContainerDriver,
    runner: &dyn Runner,
    id: &str,
    smb_conf: &str,
) -> Result<()> {
    write_in(
        driver,
        runner,
        id,
        "/etc/samba/smb.conf.smbgw-new",
        Stdin::Bytes(smb_conf.as_bytes().to_vec()),
        0o644,
    )?;
    if let Err(e) = driver.exec(
        runner,
        id,
        &["testparm", "-s", "/etc/samba/smb.conf.smbgw-new"],
        None,
    ) {
        return Err(Error::Validation {
            conf: PathBuf::from(format!("{id}:/etc/samba/smb.conf")),
            stderr: match &e {
                Error::Run(r) => r.stderr().unwrap_or_default().to_owned(),
                other => other.to_string(),
            },
        });
    }
    // smbd as the container's init reloads; under systemd it is enabled
    // and restarted.
    let script = "set -e
mv -f /etc/samba/smb.conf.smbgw-new /etc/samba/smb.conf
if [ \"$(cat /proc/1/comm)\" = smbd ]; then
  smbcontrol smbd reload-config
else
  systemctl enable smbd >/dev/null 2>&1
  systemctl restart smbd
fi";
    driver.exec(runner, id, &["bash", "-c", script], None)?;
    wait_smbd(driver, runner, id)
}

/// Waits (up to 30 s) until smbd listens on port 445 inside the running
/// container, as after a start (systemd starts the enabled smbd).
pub fn wait_smbd(driver: &dyn ContainerDriver, runner: &dyn Runner, id: &str) -> Result<()> {
    let script = "i=0
while ! (exec 3<>/dev/tcp/127.0.0.1/445) 2>/dev/null; do
  i=$((i+1)); [ $i -lt 300 ] || { echo 'smbd does not listen on port 445 after 30 s' >&2; tail -n 20 /var/log/samba/log.smbd >&2 || true; exit 1; }
  sleep 0.1
done";
    driver.exec(runner, id, &["bash", "-c", script], None)?;
    Ok(())
}

/// Whether smbd listens on port 445 inside the running container.
pub fn smbd_listening(driver: &dyn ContainerDriver, runner: &dyn Runner, id: &str) -> bool {
    driver
        .exec(
            runner,
            id,
            &["bash", "-c", "(exec 3<>/dev/tcp/127.0.0.1/445) 2>/dev/null"],
            None,
        )
        .is_ok()
}

// ---------------------------------------------------------------------------
// Plain LXC

/// Where plain LXC keeps things.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LxcDriver {
    /// LXC's `lxcpath` (`-P`): one directory per container.
    pub lxcpath: PathBuf,
    /// The prepared template: `<dir>/rootfs` plus a `ready` marker.
    pub template: PathBuf,
    /// Debian suite and mirror for debootstrap.
    pub suite: String,
    /// Debian mirror.
    pub mirror: String,
}

/// The packages of the prepared template (debootstrap `--include`).
/// (`samba-vfs-modules` has `acl_xattr`, for NT ACLs.)
pub const TEMPLATE_PACKAGES: &[&str] = &[
    "samba",
    "samba-vfs-modules",
    // Active Directory members: winbindd and its NSS module.
    "winbind",
    "libnss-winbind",
    "systemd-sysv",
    "iproute2",
    "procps",
];

impl LxcDriver {
    /// The system locations: `/var/lib/lxc`, and the template under
    /// `/var/lib/pve-smbgateway/lxc-template`.
    pub fn system() -> LxcDriver {
        LxcDriver::new("/var/lib/lxc", "/var/lib/pve-smbgateway/lxc-template")
    }

    /// Containers under `lxcpath`, template in `template`; Debian 12 from
    /// deb.debian.org.
    pub fn new(lxcpath: impl Into<PathBuf>, template: impl Into<PathBuf>) -> LxcDriver {
        LxcDriver {
            lxcpath: lxcpath.into(),
            template: template.into(),
            suite: "bookworm".into(),
            mirror: "http://deb.debian.org/debian".into(),
        }
    }

    fn dir(&self, id: &str) -> PathBuf {
        self.lxcpath.join(id)
    }

    /// The container's root filesystem on the host.
    pub fn rootfs(&self, id: &str) -> PathBuf {
        self.dir(id).join("rootfs")
    }

    fn p(&self) -> String {
        self.lxcpath.display().to_string()
    }

    /// The PID of the container's init, seen from the host.
    pub fn init_pid(&self, runner: &dyn Runner, id: &str) -> Result<Option<u32>> {
        let out =
            runner.run(&Cmd::new("lxc-info").args(["-P", &self.p(), "-n", id, "-p", "-H"]))?;
        Ok(out.stdout_str().trim().parse().ok())
    }

    /// The LXC configuration of `ct`.
    pub fn render_config(&self, ct: &ContainerConfig, volume: &Path) -> Result<String> {
        let volume = volume.display().to_string();
        let rootfs = self.rootfs(&ct.id);
        let mut c = String::new();
        let mut line = |k: &str, v: &str| {
            c.push_str(k);
            c.push_str(" = ");
            c.push_str(v);
            c.push('\n');
        };
        line("lxc.uts.name", &ct.hostname);
        line("lxc.arch", "linux64");
        line("lxc.include", "/usr/share/lxc/config/common.conf");
        if ct.unprivileged {
            line("lxc.include", "/usr/share/lxc/config/userns.conf");
            line("lxc.idmap", &format!("u 0 {ID_BASE} {ID_RANGE}"));
            line("lxc.idmap", &format!("g 0 {ID_BASE} {ID_RANGE}"));
            if ct.domain_member {
                // Domain accounts keep their ids on the host (and so on
                // the volume and on every other gateway).
                let (lo, n) = domain_id_range();
                line("lxc.idmap", &format!("u {lo} {lo} {n}"));
                line("lxc.idmap", &format!("g {lo} {lo} {n}"));
            }
            // The template stays owned by host root: the root filesystem
            // is an idmapped mount, no shifted copy needed.
            line("lxc.rootfs.options", "idmap=container");
        }
        line("lxc.rootfs.path", &format!("dir:{}", rootfs.display()));
        let dhcp = matches!(
            &ct.network,
            Network::Bridge {
                ip: IpConfig::Dhcp,
                ..
            }
        );
        if dhcp {
            // The template's systemd runs systemd-networkd for DHCP.
            line("lxc.init.cmd", "/sbin/init");
        } else {
            // smbd is the container's init: no systemd (about 8 MB of PSS
            // per container). The container runs exactly as long as smbd
            // does; smbd handles SIGTERM (LXC's default, SIGPWR, is
            // ignored by an init without a handler), and /run is a fresh
            // tmpfs at each start so that no stale pid file stops smbd.
            line("lxc.init.cmd", SMBD_INIT);
            line("lxc.signal.halt", "SIGTERM");
            line(
                "lxc.mount.entry",
                "tmpfs run tmpfs rw,nosuid,nodev,mode=0755,create=dir 0 0",
            );
        }
        line("lxc.cgroup2.memory.max", &format!("{}M", ct.memory_mb));
        line("lxc.cgroup2.memory.swap.max", &format!("{}M", ct.swap_mb));
        line(
            "lxc.cgroup2.cpu.max",
            &format!("{} 100000", u64::from(ct.cores) * 100_000),
        );
        match &ct.network {
            Network::None => line("lxc.net.0.type", "empty"),
            Network::Bridge { bridge, vlan, ip } => {
                line("lxc.net.0.type", "veth");
                line("lxc.net.0.link", bridge);
                line("lxc.net.0.name", "eth0");
                line("lxc.net.0.flags", "up");
                if let Some(v) = vlan {
                    line("lxc.net.0.veth.vlan.id", &v.to_string());
                }
                if let IpConfig::Static { cidr, gateway } = ip {
                    line("lxc.net.0.ipv4.address", cidr);
                    if let Some(g) = gateway {
                        line("lxc.net.0.ipv4.gateway", g);
                    }
                }
            }
        }
        let mut opts = String::from("bind,create=dir");
        if ct.unprivileged {
            // Identity mapping on the volume: host uid N is uid N inside.
            opts.push_str(",idmap=container");
        }
        let target = ct.mount_point.trim_start_matches('/');
        if volume.contains(char::is_whitespace) || target.contains(char::is_whitespace) {
            return Err(Error::Container {
                id: ct.id.clone(),
                problem: format!(
                    "the volume path {volume:?} contains white space, which an LXC mount entry cannot hold"
                ),
            });
        }
        line(
            "lxc.mount.entry",
            &format!("{volume} {target} none {opts} 0 0"),
        );
        if ct.audit {
            line(
                "lxc.mount.entry",
                "/dev/log dev/log none bind,create=file,optional 0 0",
            );
        }
        line("lxc.apparmor.profile", "unconfined");
        line("lxc.start.auto", "1");
        Ok(c)
    }

    fn template_rootfs(&self) -> PathBuf {
        self.template.join("rootfs")
    }

    /// The template exists and has the current package list (a template
    /// from an older release of the gateway is rebuilt).
    fn template_ready(&self) -> bool {
        std::fs::read_to_string(self.template.join("ready")).is_ok_and(|t| {
            t.lines()
                .any(|l| l == format!("packages {}", TEMPLATE_PACKAGES.join(",")))
                && t.lines()
                    .any(|l| l == format!("version {TEMPLATE_VERSION}"))
        })
    }

    fn build_template(&self, runner: &dyn Runner) -> Result<()> {
        let tmp = self.template.with_extension("building");
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).map_err(io("create", &tmp))?;
        let rootfs = tmp.join("rootfs");
        let r = rootfs.display().to_string();
        runner.run(
            &Cmd::new("debootstrap")
                .args([
                    "--variant=minbase",
                    &format!("--include={}", TEMPLATE_PACKAGES.join(",")),
                    &self.suite,
                    &r,
                    &self.mirror,
                ])
                .timeout(Duration::from_secs(1800)),
        )?;
        // Services: smbd is enabled when the share's configuration is in
        // place; nmbd and the AD DC never run.
        let script = "set -e
systemctl disable smbd >/dev/null 2>&1 || true
systemctl mask nmbd samba-ad-dc >/dev/null 2>&1
# winbindd runs only in a domain member (started by the join).
systemctl disable winbind >/dev/null 2>&1 || true
# A share container needs no login prompt and no journal (Samba logs to
# /var/log/samba): about 8 MB less memory per container.
systemctl mask console-getty.service container-getty@.service getty@.service getty.target >/dev/null 2>&1
systemctl mask systemd-journald.service systemd-journald.socket systemd-journald-dev-log.socket systemd-journald-audit.socket systemd-journal-flush.service >/dev/null 2>&1
apt-get clean
rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* /usr/share/info/*
printf 'pve-smbgateway\\n' > /etc/hostname
: > /etc/machine-id";
        runner.run(&Cmd::new("chroot").args([&r, "sh", "-c", script]))?;
        write_atomic(
            &rootfs.join("etc/samba/smb.conf"),
            template_smb_conf()?.as_bytes(),
            0o644,
        )?;
        write_atomic(
            &rootfs.join(SMBD_INIT.trim_start_matches('/')),
            SMBD_INIT_SCRIPT.as_bytes(),
            0o755,
        )?;
        let version = runner.run(&Cmd::new("chroot").args([&r, "smbd", "--version"]))?;
        write_atomic(
            &tmp.join("ready"),
            format!(
                "version {TEMPLATE_VERSION}\nsuite {}\npackages {}\nsamba {}\n",
                self.suite,
                TEMPLATE_PACKAGES.join(","),
                version.stdout_str().trim()
            )
            .as_bytes(),
            0o644,
        )?;
        let _ = std::fs::remove_dir_all(&self.template);
        std::fs::rename(&tmp, &self.template).map_err(io("rename", &tmp))?;
        Ok(())
    }
}

/// The version of the template recipe: a template built by another
/// recipe is rebuilt.
pub const TEMPLATE_VERSION: u32 = 7;

/// The init of a plain-LXC share container (unless it needs systemd for
/// DHCP), a script of the template ([`SMBD_INIT_SCRIPT`]).
pub const SMBD_INIT: &str = "/usr/local/sbin/smbgw-init";

/// [`SMBD_INIT`]: brings loopback up (systemd did that) and becomes smbd,
/// in the foreground and in the process group LXC gave it. (`lxc.init.cmd`
/// splits at spaces and knows no quoting, hence a script.)
pub const SMBD_INIT_SCRIPT: &str = "#!/bin/sh\nip link set lo up\n# A domain member's winbindd (the join configured `security = ads`).\nif grep -qiE '^[[:space:]]*security[[:space:]]*=[[:space:]]*ads' /etc/samba/smb.conf; then /usr/sbin/winbindd -D; fi\nexec /usr/sbin/smbd --foreground --no-process-group\n";

/// The global every share container's smb.conf has: counts and bytes for
/// `metrics` (the container's smbd serves only its share, so its counters
/// are the share's).
pub fn container_profiling() -> (String, String) {
    ("smbd profiling level".into(), "count".into())
}

/// The template's smb.conf: what smbd serves in the moment between the
/// container's first start and the share's configuration (no shares, no
/// printing, no NetBIOS, SMB2 at least). smbd reads `smbd profiling
/// level` only when it starts, so it is here already.
fn template_smb_conf() -> Result<String> {
    smbconf::GatewayConf {
        extra_globals: vec![container_profiling()],
        ..smbconf::GatewayConf::default()
    }
    .render()
    .map_err(|source| Error::Emit {
        share: "[global]".into(),
        source,
    })
}

/// The first host id of an unprivileged container's mapping.
pub const ID_BASE: u32 = 100_000;
/// How many ids it maps.
pub const ID_RANGE: u32 = 65_536;

/// Whether `file` (`/etc/subuid` or `/etc/subgid`) gives root the ids
/// `first .. first + count`.
fn has_subid_range(file: &str, first: u32, count: u32) -> bool {
    std::fs::read_to_string(file).is_ok_and(|t| {
        t.lines().any(|l| {
            let f: Vec<&str> = l.trim().split(':').collect();
            matches!(f.as_slice(), [user, start, n]
                if (*user == "root" || *user == "0")
                    && start.parse::<u64>().is_ok_and(|s| s <= u64::from(first))
                    && n.parse::<u64>().ok().zip(start.parse::<u64>().ok())
                        .is_some_and(|(c, s)| s + c >= u64::from(first) + u64::from(count)))
        })
    })
}

/// The ids winbind gives domain accounts (both of its ranges), as
/// `(first, count)`: a domain member's container maps them through
/// unchanged.
pub fn domain_id_range() -> (u32, u32) {
    let lo = crate::domain::IDMAP_DEFAULT_RANGE.0;
    (lo, crate::domain::IDMAP_DOMAIN_RANGE.1 - lo + 1)
}

impl ContainerDriver for LxcDriver {
    fn kind(&self) -> &'static str {
        "lxc"
    }

    fn describe(&self) -> String {
        format!("LXC containers under {}", self.lxcpath.display())
    }

    fn prepare_template(&self, runner: &dyn Runner) -> Result<()> {
        if self.template_ready() {
            return Ok(());
        }
        if let Some(parent) = self.template.parent() {
            std::fs::create_dir_all(parent).map_err(io("create", parent))?;
        }
        let _lock = FileLock::acquire(&self.template.with_extension("lock"))?;
        if self.template_ready() {
            return Ok(());
        }
        self.build_template(runner)
    }

    fn state(&self, runner: &dyn Runner, id: &str) -> Result<CtState> {
        if !self.dir(id).join("config").exists() {
            return Ok(CtState::Absent);
        }
        let out =
            runner.run(&Cmd::new("lxc-info").args(["-P", &self.p(), "-n", id, "-s", "-H"]))?;
        Ok(match out.stdout_str().trim() {
            "RUNNING" | "STARTING" => CtState::Running,
            _ => CtState::Stopped,
        })
    }

    fn create(&self, runner: &dyn Runner, ct: &ContainerConfig, volume: &Path) -> Result<()> {
        if ct.unprivileged && ct.domain_member {
            let (lo, n) = domain_id_range();
            if !(has_subid_range("/etc/subuid", lo, n) && has_subid_range("/etc/subgid", lo, n)) {
                return Err(Error::Container {
                    id: ct.id.clone(),
                    problem: format!(
                        "an unprivileged domain member maps the domain's ids ({lo}-{}) through unchanged, which needs root:{lo}:{n} in /etc/subuid and /etc/subgid; add the line to both files, or create the share with --privileged",
                        lo + n - 1
                    ),
                });
            }
        }
        if ct.unprivileged
            && !(has_subid_range("/etc/subuid", ID_BASE, ID_RANGE)
                && has_subid_range("/etc/subgid", ID_BASE, ID_RANGE))
        {
            return Err(Error::Container {
                id: ct.id.clone(),
                problem: format!(
                    "an unprivileged container needs root:{ID_BASE}:{ID_RANGE} in /etc/subuid and /etc/subgid (LXC maps its ids through them); add the line to both files, or create the share with --privileged"
                ),
            });
        }
        let config = self.render_config(ct, volume)?;
        let dir = self.dir(&ct.id);
        // A half-created directory from an interrupted run is replaced
        // (never while something is mounted below it).
        if dir.exists() {
            refuse_if_mounted(&dir)?;
            std::fs::remove_dir_all(&dir).map_err(io("remove", &dir))?;
        }
        std::fs::create_dir_all(&dir).map_err(io("create", &dir))?;
        let rootfs = self.rootfs(&ct.id);
        runner.run(
            &Cmd::new("cp")
                .args(["-a", "--reflink=auto"])
                .arg(self.template_rootfs().display().to_string())
                .arg(rootfs.display().to_string())
                .timeout(Duration::from_secs(600)),
        )?;
        std::fs::write(rootfs.join("etc/hostname"), format!("{}\n", ct.hostname))
            .map_err(io("write", &rootfs))?;
        if ct.domain_member {
            // The domain's DNS: the host's resolver configuration (the
            // host reached the domain before the create began).
            let resolv = rootfs.join("etc/resolv.conf");
            let _ = std::fs::remove_file(&resolv);
            std::fs::copy("/etc/resolv.conf", &resolv).map_err(io("copy", &resolv))?;
        }
        if let Network::Bridge {
            ip: IpConfig::Dhcp, ..
        } = &ct.network
        {
            let netdir = rootfs.join("etc/systemd/network");
            std::fs::create_dir_all(&netdir).map_err(io("create", &netdir))?;
            std::fs::write(
                netdir.join("eth0.network"),
                "[Match]\nName=eth0\n\n[Network]\nDHCP=ipv4\n",
            )
            .map_err(io("write", &netdir))?;
            let wants = rootfs.join("etc/systemd/system/multi-user.target.wants");
            std::fs::create_dir_all(&wants).map_err(io("create", &wants))?;
            let _ = std::os::unix::fs::symlink(
                "/lib/systemd/system/systemd-networkd.service",
                wants.join("systemd-networkd.service"),
            );
        }
        // The config last: its presence means "created".
        write_atomic(&dir.join("config"), config.as_bytes(), 0o640)?;
        Ok(())
    }

    fn start(&self, runner: &dyn Runner, id: &str) -> Result<()> {
        if self.state(runner, id)? == CtState::Running {
            return Ok(());
        }
        let log = self.dir(id).join("lxc.log");
        // LXC appends: start from an empty log so that an error names this
        // start's problem, not an old one.
        let _ = std::fs::write(&log, b"");
        if let Err(e) = runner.run(&Cmd::new("lxc-start").args([
            "-P",
            &self.p(),
            "-n",
            id,
            "-l",
            "INFO",
            "-o",
            &log.display().to_string(),
        ])) {
            // lxc-start says only that it failed; its log says why.
            let why: Vec<String> = std::fs::read_to_string(&log)
                .unwrap_or_default()
                .lines()
                .filter(|l| l.contains(" ERROR "))
                .map(|l| l.split_once(" - ").map_or(l, |(_, m)| m).to_owned())
                .collect();
            if why.is_empty() {
                return Err(e.into());
            }
            return Err(Error::Container {
                id: id.to_owned(),
                problem: format!(
                    "lxc-start failed: {} (log: {})",
                    why[..why.len().min(3)].join("; "),
                    log.display()
                ),
            });
        }
        runner.run(&Cmd::new("lxc-wait").args([
            "-P",
            &self.p(),
            "-n",
            id,
            "-s",
            "RUNNING",
            "-t",
            "30",
        ]))?;
        // Wait until the container can run commands (systemd up far
        // enough to have a shell environment).
        let t0 = Instant::now();
        loop {
            if self.exec(runner, id, &["true"], None).is_ok() {
                return Ok(());
            }
            if t0.elapsed() > Duration::from_secs(30) {
                return Err(Error::Container {
                    id: id.to_owned(),
                    problem: format!(
                        "started, but commands do not run in it; see {}",
                        log.display()
                    ),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn stop(&self, runner: &dyn Runner, id: &str) -> Result<()> {
        if self.state(runner, id)? != CtState::Running {
            return Ok(());
        }
        runner.run(
            &Cmd::new("lxc-stop")
                .args(["-P", &self.p(), "-n", id, "-t", "30"])
                .timeout(Duration::from_secs(60)),
        )?;
        Ok(())
    }

    fn destroy(&self, runner: &dyn Runner, id: &str) -> Result<()> {
        match self.state(runner, id)? {
            CtState::Absent => {
                // A directory without config: an interrupted create.
                let dir = self.dir(id);
                if dir.exists() {
                    refuse_if_mounted(&dir)?;
                    std::fs::remove_dir_all(&dir).map_err(io("remove", &dir))?;
                }
                return Ok(());
            }
            CtState::Running => {
                return Err(Error::Container {
                    id: id.to_owned(),
                    problem: "it still runs; stop it first".into(),
                })
            }
            CtState::Stopped => {}
        }
        // The volume is bind-mounted only while the container runs; make
        // sure nothing is mounted under its directory before removing it.
        refuse_if_mounted(&self.dir(id))?;
        runner.run(&Cmd::new("lxc-destroy").args(["-P", &self.p(), "-n", id]))?;
        Ok(())
    }

    fn exec(
        &self,
        runner: &dyn Runner,
        id: &str,
        argv: &[&str],
        stdin: Option<Stdin>,
    ) -> Result<Output> {
        let mut cmd = Cmd::new("lxc-attach")
            .args(["-P", &self.p(), "-n", id, "--clear-env"])
            .args(["-v", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "--"])
            .args(argv.iter().copied());
        cmd = with_stdin(cmd, stdin);
        // lxc-attach first re-executes itself from a sealed memfd
        // (CVE-2019-5736); on a loaded machine sealing can fail with EBUSY
        // while the kernel still holds the pages it just copied ("Failed to
        // rexec as memfd"). Nothing ran in the container then: retry.
        let mut attempt = 0;
        loop {
            match runner.run(&cmd) {
                Err(e)
                    if attempt < 5 && e.stderr().is_some_and(|s| s.contains("rexec as memfd")) =>
                {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(50 << attempt));
                }
                r => return Ok(r?),
            }
        }
    }
}

fn refuse_if_mounted(dir: &Path) -> Result<()> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let prefix = dir.display().to_string();
    for l in info.lines() {
        if let Some(mp) = l.split(' ').nth(4) {
            if mp == prefix || mp.starts_with(&format!("{prefix}/")) {
                return Err(Error::Container {
                    id: dir.display().to_string(),
                    problem: format!(
                        "{mp} is still mounted; refusing to remove the container's directory (the share's data could be behind it)"
                    ),
                });
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Proxmox (pct)

/// Proxmox VE: `pct` and `pveam`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PctDriver {
    /// The storage holding container templates (`vztmpl` content).
    pub template_storage: String,
    /// The storage for root disks (the template's, and the clones').
    pub rootfs_storage: String,
    /// The network the template uses once, to install Samba.
    pub template_network: Network,
}

/// The host name of the prepared gateway template (a CT template with
/// Samba installed, created on first use and found again by this name).
pub const PCT_TEMPLATE_NAME: &str = "smbgw-template";

impl PctDriver {
    /// Chooses the newest Debian standard system template in
    /// `pveam available --section system` output.
    pub fn newest_debian(available: &str) -> Option<String> {
        available
            .lines()
            .filter_map(|l| l.split_whitespace().nth(1))
            .filter(|t| {
                (t.starts_with("debian-12-standard_") || t.starts_with("debian-13-standard_"))
                    && t.contains("_amd64")
            })
            .max_by_key(|t| version_key(t))
            .map(str::to_owned)
    }

    /// The VMID of the prepared template in `pct list` output.
    pub fn find_template(list: &str) -> Option<String> {
        list.lines().skip(1).find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 3 && f.last() == Some(&PCT_TEMPLATE_NAME)).then(|| f[0].to_owned())
        })
    }

    /// The `pct create`/`pct set` options of a share container (also used
    /// to check them against the schema).
    pub fn create_options(ct: &ContainerConfig, volume: &Path) -> Vec<(String, String)> {
        let mut o: Vec<(String, String)> = vec![
            ("hostname".into(), ct.hostname.clone()),
            ("memory".into(), ct.memory_mb.to_string()),
            ("swap".into(), ct.swap_mb.to_string()),
            ("cores".into(), ct.cores.to_string()),
            ("onboot".into(), "1".into()),
            ("tags".into(), "smbgateway".into()),
        ];
        if let Network::Bridge { bridge, vlan, ip } = &ct.network {
            o.push(("net0".into(), net0(bridge, *vlan, ip)));
        }
        let mut mp = format!("{},mp={},backup=0", volume.display(), ct.mount_point);
        if ct.shared {
            mp.push_str(",shared=1");
        }
        if ct.unprivileged {
            mp.push_str(",idmap=passthrough");
        }
        o.push(("mp0".into(), mp));
        o
    }

    fn template_create_options(&self) -> Vec<(String, String)> {
        let mut o: Vec<(String, String)> = vec![
            ("hostname".into(), PCT_TEMPLATE_NAME.into()),
            ("memory".into(), "512".into()),
            ("swap".into(), "512".into()),
            ("cores".into(), "1".into()),
            ("unprivileged".into(), "1".into()),
            (
                "rootfs".into(),
                format!("{}:{}", self.rootfs_storage, default_rootfs_gib()),
            ),
        ];
        if let Network::Bridge { bridge, vlan, ip } = &self.template_network {
            o.push(("net0".into(), net0(bridge, *vlan, ip)));
        }
        o
    }

    fn template(&self, runner: &dyn Runner) -> Result<Option<String>> {
        let out = runner.run(&Cmd::new("pct").arg("list"))?;
        Ok(PctDriver::find_template(&out.stdout_str()))
    }
}

/// The first free VMID from 9000 (where Proxmox users keep templates), for
/// the gateway template: not the cluster's next free id, which a share's
/// container may have been promised already (its id is chosen when the
/// plan is made, the template is built when the plan runs).
pub fn template_vmid(runner: &dyn Runner) -> Result<String> {
    for n in 9000..9100 {
        let id = n.to_string();
        match runner.run(&Cmd::new("pvesh").args([
            "get",
            "/cluster/nextid",
            "--vmid",
            &id,
            "--output-format",
            "json",
        ])) {
            Ok(_) => return Ok(id),
            // "VM 9000 already exists"
            Err(RunError::Failed { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Container {
        id: PCT_TEMPLATE_NAME.into(),
        problem: "no free VMID from 9000 to 9099 for the gateway template".into(),
    })
}

/// The next free VMID of the cluster (`pvesh get /cluster/nextid`).
pub fn next_vmid(runner: &dyn Runner) -> Result<String> {
    let out = runner.run(&Cmd::new("pvesh").args([
        "get",
        "/cluster/nextid",
        "--output-format",
        "json",
    ]))?;
    let id = out.stdout_str().trim().trim_matches('"').to_owned();
    pct_schema::check_vmid(&id).map_err(|problem| Error::Container {
        id: id.clone(),
        problem: format!("`pvesh get /cluster/nextid` answered: {problem}"),
    })?;
    Ok(id)
}

fn net0(bridge: &str, vlan: Option<u16>, ip: &IpConfig) -> String {
    let mut s = format!("name=eth0,bridge={bridge}");
    if let Some(v) = vlan {
        s.push_str(&format!(",tag={v}"));
    }
    match ip {
        IpConfig::Dhcp => s.push_str(",ip=dhcp"),
        IpConfig::Static { cidr, gateway } => {
            s.push_str(&format!(",ip={cidr}"));
            if let Some(g) = gateway {
                s.push_str(&format!(",gw={g}"));
            }
        }
    }
    s
}

/// `debian-12-standard_12.7-1_amd64.tar.zst` → `[12, 12, 7, 1]`.
fn version_key(t: &str) -> Vec<u32> {
    t.split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn pct_args(cmd: Cmd, opts: &[(String, String)]) -> Cmd {
    opts.iter()
        .fold(cmd, |c, (k, v)| c.arg(format!("--{k}")).arg(v.clone()))
}

impl ContainerDriver for PctDriver {
    fn kind(&self) -> &'static str {
        "pct"
    }

    fn describe(&self) -> String {
        "Proxmox containers (pct)".into()
    }

    fn prepare_template(&self, runner: &dyn Runner) -> Result<()> {
        if self.template(runner)?.is_some() {
            return Ok(());
        }
        if matches!(self.template_network, Network::None) {
            return Err(Error::Container {
                id: PCT_TEMPLATE_NAME.into(),
                problem: "building the gateway template installs Samba from the Debian mirrors and needs a network; give the share a bridge".into(),
            });
        }
        let vmid = template_vmid(runner)?;
        check_pct_options(&vmid, &self.template_create_options())?;
        let list = runner.run(&Cmd::new("pveam").args(["list", &self.template_storage]))?;
        let mut available =
            runner.run(&Cmd::new("pveam").args(["available", "--section", "system"]))?;
        if PctDriver::newest_debian(&available.stdout_str()).is_none() {
            runner.run(
                &Cmd::new("pveam")
                    .arg("update")
                    .timeout(Duration::from_secs(600)),
            )?;
            available =
                runner.run(&Cmd::new("pveam").args(["available", "--section", "system"]))?;
        }
        let tmpl = PctDriver::newest_debian(&available.stdout_str()).ok_or_else(|| {
            Error::Container {
                id: vmid.clone(),
                problem: "`pveam available --section system` lists no Debian standard template; check the node's access to the template server".into(),
            }
        })?;
        if !list.stdout_str().contains(&tmpl) {
            runner.run(
                &Cmd::new("pveam")
                    .args(["download", &self.template_storage, &tmpl])
                    .timeout(Duration::from_secs(1800)),
            )?;
        }
        let ostemplate = format!("{}:vztmpl/{tmpl}", self.template_storage);
        runner.run(&pct_args(
            Cmd::new("pct").args(["create", &vmid, &ostemplate]),
            &self.template_create_options(),
        ))?;
        runner.run(&Cmd::new("pct").args(["start", &vmid]))?;
        let install = "set -e
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends samba samba-vfs-modules
systemctl disable smbd
systemctl mask nmbd samba-ad-dc
systemctl mask console-getty.service container-getty@.service getty@.service getty.target
systemctl mask systemd-journald.service systemd-journald.socket systemd-journald-dev-log.socket systemd-journald-audit.socket systemd-journal-flush.service
apt-get clean";
        let r = runner.run(
            &Cmd::new("pct")
                .args(["exec", &vmid, "--", "sh", "-c", install])
                .timeout(Duration::from_secs(1800)),
        );
        runner.run(&Cmd::new("pct").args(["stop", &vmid]))?;
        r?;
        runner.run(&Cmd::new("pct").args(["template", &vmid]))?;
        Ok(())
    }

    fn state(&self, runner: &dyn Runner, id: &str) -> Result<CtState> {
        match runner.run(&Cmd::new("pct").args(["status", id])) {
            Ok(out) => Ok(if out.stdout_str().contains("running") {
                CtState::Running
            } else {
                CtState::Stopped
            }),
            Err(RunError::Failed { stderr, .. }) if stderr.contains("does not exist") => {
                Ok(CtState::Absent)
            }
            Err(e) => Err(e.into()),
        }
    }

    fn create(&self, runner: &dyn Runner, ct: &ContainerConfig, volume: &Path) -> Result<()> {
        let opts = PctDriver::create_options(ct, volume);
        check_pct_options(&ct.id, &opts)?;
        if !ct.unprivileged {
            return Err(Error::Container {
                id: ct.id.clone(),
                problem: "the prepared template is unprivileged and a clone keeps that; privileged share containers are available with the lxc driver only".into(),
            });
        }
        let tv = self.template(runner)?.ok_or_else(|| Error::Container {
            id: ct.id.clone(),
            problem: format!(
                "the gateway template `{PCT_TEMPLATE_NAME}` is missing; re-run to build it"
            ),
        })?;
        let clone = Cmd::new("pct")
            .args(["clone", &tv, &ct.id, "--full", "1"])
            .args(["--hostname", &ct.hostname])
            .args([
                "--storage",
                ct.rootfs_storage.as_deref().unwrap_or(&self.rootfs_storage),
            ]);
        runner.run(&clone.timeout(Duration::from_secs(1800)))?;
        // The hostname came with the clone.
        let set: Vec<(String, String)> =
            opts.into_iter().filter(|(k, _)| k != "hostname").collect();
        runner.run(&pct_args(Cmd::new("pct").args(["set", &ct.id]), &set))?;
        Ok(())
    }

    fn start(&self, runner: &dyn Runner, id: &str) -> Result<()> {
        if self.state(runner, id)? == CtState::Running {
            return Ok(());
        }
        runner.run(&Cmd::new("pct").args(["start", id]))?;
        Ok(())
    }

    fn stop(&self, runner: &dyn Runner, id: &str) -> Result<()> {
        if self.state(runner, id)? != CtState::Running {
            return Ok(());
        }
        runner.run(&Cmd::new("pct").args([
            "shutdown",
            id,
            "--timeout",
            "30",
            "--forceStop",
            "1",
        ]))?;
        Ok(())
    }

    fn destroy(&self, runner: &dyn Runner, id: &str) -> Result<()> {
        if self.state(runner, id)? == CtState::Absent {
            return Ok(());
        }
        // Bind mounts are never destroyed by pct; `--purge` removes the
        // VMID from backup jobs and HA.
        runner.run(&Cmd::new("pct").args(["destroy", id, "--purge", "1"]))?;
        Ok(())
    }

    fn exec(
        &self,
        runner: &dyn Runner,
        id: &str,
        argv: &[&str],
        stdin: Option<Stdin>,
    ) -> Result<Output> {
        let mut cmd = Cmd::new("pct")
            .args(["exec", id, "--"])
            .args(argv.iter().copied());
        cmd = with_stdin(cmd, stdin);
        Ok(runner.run(&cmd)?)
    }
}

/// Checks generated `pct` options against Proxmox's container schema
/// ([`pct_schema`]) before anything runs.
pub fn check_pct_options(id: &str, opts: &[(String, String)]) -> Result<()> {
    pct_schema::check_vmid(id).map_err(|problem| Error::Container {
        id: id.to_owned(),
        problem,
    })?;
    for (k, v) in opts {
        pct_schema::check(k, v).map_err(|problem| Error::Container {
            id: id.to_owned(),
            problem: format!("pct option --{k} {v:?}: {problem}"),
        })?;
    }
    Ok(())
}

impl fmt::Display for CtState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CtState::Absent => "absent",
            CtState::Stopped => "stopped",
            CtState::Running => "running",
        })
    }
}
