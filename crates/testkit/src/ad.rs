//! A real Samba Active Directory domain controller in a network namespace
//! of the test's own, for the AD tests.
//!
//! `samba-tool domain provision --targetdir` puts the whole domain under
//! a temp dir (5 s); `samba -i` runs in the namespace `smbgw-ad-PID-N`,
//! whose bridge `br0` holds the DC's address, with a private `/run`
//! (Samba's client library finds winbindd at a compiled-in
//! `/run/samba/winbindd`, so every daemon of a test gets its own) and a
//! `resolv.conf` naming itself. Nothing on the host changes; on drop
//! every process in the namespace is killed, the namespace deleted and
//! the directory removed.
//!
//! The gateway under test runs in the same namespace through
//! [`crate::sandbox::GatewaySandbox::in_domain`]: a private `/etc` whose
//! `resolv.conf`, `krb5.conf`, `nsswitch.conf` (winbind) and `hosts` point
//! at this domain.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use rustix::process::{kill_process, Pid, Signal};

use crate::ctdb::ip;
use crate::require;

/// The programs a DC needs.
pub const AD_TOOLS: &[&str] = &[
    "samba",
    "samba-tool",
    "net",
    "kinit",
    "wbinfo",
    "winbindd",
    "ip",
    "nsenter",
    "faketime",
];

/// The domain every test DC serves.
pub const REALM: &str = "CORP.SMBGW.TEST";
/// Its DNS name.
pub const DNS_DOMAIN: &str = "corp.smbgw.test";
/// Its NetBIOS name.
pub const WORKGROUP: &str = "CORP";

static SEQ: AtomicU32 = AtomicU32::new(0);

/// One domain controller.
pub struct AdDc {
    /// The network namespace (`/run/netns/NAME`).
    pub netns: String,
    /// The DC's address on `br0`.
    pub ip: String,
    /// Everything of the domain.
    pub dir: PathBuf,
    /// The Administrator's password: each DC has its own, so that a
    /// test watching for its password never sees another test's DC being
    /// provisioned (`samba-tool` takes it on the command line).
    pub admin_password: String,
    samba: Option<Child>,
    _tmp: tempfile::TempDir,
}

/// `bash -c SCRIPT` in network namespace `netns` and a private mount
/// namespace (whatever the script mounts stays there).
pub fn in_netns(netns: &str, script: &str) -> Command {
    let mut c = Command::new("nsenter");
    c.arg(format!("--net=/run/netns/{netns}"))
        .args([
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "--",
            "bash",
            "-c",
        ])
        .arg(script);
    c
}

impl AdDc {
    /// Provisions and starts a DC, or `None` after printing why (Samba's
    /// AD parts missing outside the project's test command).
    pub fn start(test: &str) -> Option<AdDc> {
        if !require(
            test,
            AD_TOOLS,
            "apt-get install -y samba winbind libnss-winbind krb5-user faketime",
        ) {
            return None;
        }
        let tmp = tempfile::Builder::new()
            .prefix("smbgw-ad-")
            .tempdir()
            .expect("temp dir");
        let dir = tmp.path().to_owned();
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let netns = format!("smbgw-ad-{}-{n}", std::process::id());
        let addr = format!("10.{}.{}.1", 90 + (std::process::id() % 8), n % 250);
        ip(&["netns", "add", &netns]);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let admin_password = format!("Adm1n-{:x}-{n}-{nanos:x}!", std::process::id());
        let mut dc = AdDc {
            netns: netns.clone(),
            ip: addr.clone(),
            dir: dir.clone(),
            admin_password: admin_password.clone(),
            samba: None,
            _tmp: tmp,
        };
        ip(&["-n", &netns, "link", "set", "lo", "up"]);
        ip(&["-n", &netns, "link", "add", "br0", "type", "bridge"]);
        ip(&[
            "-n",
            &netns,
            "addr",
            "add",
            &format!("{addr}/24"),
            "dev",
            "br0",
        ]);
        ip(&["-n", &netns, "link", "set", "br0", "up"]);
        let d = dir.display().to_string();
        let out = Command::new("samba-tool")
            .args(["domain", "provision"])
            .arg(format!("--realm={REALM}"))
            .arg(format!("--domain={WORKGROUP}"))
            .args([
                "--server-role=dc",
                "--dns-backend=SAMBA_INTERNAL",
                "--host-name=dc1",
                "--use-rfc2307",
            ])
            .arg(format!("--host-ip={addr}"))
            .arg(format!("--targetdir={d}/dc"))
            .arg(format!("--option=interfaces={addr}"))
            .arg("--option=bind interfaces only=yes")
            .arg(format!("--option=log file={d}/dc/log.%m"))
            .arg(format!("--option=pid directory={d}/dc/pid"))
            .arg(format!("--option=ncalrpc dir={d}/dc/ncalrpc"))
            .arg(format!(
                "--option=ntp signd socket directory={d}/dc/ntp_signd"
            ))
            .arg("--option=load printers=no")
            .arg("--option=printcap name=/dev/null")
            .arg("--option=disable spoolss=yes")
            .arg(format!("--adminpass={admin_password}"))
            .stdin(Stdio::null())
            .output()
            .expect("samba-tool");
        assert!(
            out.status.success(),
            "samba-tool domain provision: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        fs::create_dir_all(dir.join("dc/pid")).unwrap();
        fs::write(dir.join("resolv.conf"), format!("nameserver {addr}\n")).unwrap();
        dc.run_samba();
        dc.wait_ready();
        Some(dc)
    }

    fn conf(&self) -> PathBuf {
        self.dir.join("dc/etc/smb.conf")
    }

    fn run_samba(&mut self) {
        let script = format!(
            "mount -t tmpfs tmpfs /run && mkdir -p /run/samba && mount --bind {}/resolv.conf /etc/resolv.conf && exec samba -i -s {}",
            self.dir.display(),
            self.conf().display()
        );
        let log = fs::File::create(self.dir.join("samba.out")).unwrap();
        let child = in_netns(&self.netns, &script)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start samba");
        self.samba = Some(child);
    }

    /// Waits until the DC answers LDAP and DNS (up to 60 s).
    fn wait_ready(&self) {
        let t = Instant::now();
        loop {
            let ok = in_netns(
                &self.netns,
                &format!(
                    "mount --bind {}/resolv.conf /etc/resolv.conf && (exec 3<>/dev/tcp/{ip}/389) 2>/dev/null && (exec 3<>/dev/tcp/{ip}/88) 2>/dev/null && getent hosts dc1.{DNS_DOMAIN} >/dev/null",
                    self.dir.display(),
                    ip = self.ip
                ),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
            if ok {
                return;
            }
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "the DC did not come up in 60 s: {}",
                fs::read_to_string(self.dir.join("samba.out")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The DC's `krb5.conf` (as `samba-tool` wrote it).
    pub fn krb5_conf(&self) -> PathBuf {
        self.dir.join("dc/private/krb5.conf")
    }

    /// The domain's `resolv.conf`.
    pub fn resolv_conf(&self) -> PathBuf {
        self.dir.join("resolv.conf")
    }

    /// Adds domain user `name` with `password`.
    pub fn add_user(&self, name: &str, password: &str) {
        self.tool(&["user", "add", name, password]);
    }

    /// Adds domain group `name` with `members`.
    pub fn add_group(&self, name: &str, members: &[&str]) {
        self.tool(&["group", "add", name]);
        if !members.is_empty() {
            self.tool(&["group", "addmembers", name, &members.join(",")]);
        }
    }

    /// Adds an OU (`OU=Servers`).
    pub fn add_ou(&self, ou: &str) {
        self.tool(&["ou", "add", ou]);
    }

    /// Whether computer `name` has an account.
    pub fn has_computer(&self, name: &str) -> bool {
        let out = self.samba_tool(&["computer", "list"]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .any(|l| l.trim().eq_ignore_ascii_case(&format!("{name}$")))
    }

    fn samba_tool(&self, args: &[&str]) -> std::process::Output {
        Command::new("samba-tool")
            .args(args)
            .arg("-H")
            .arg(self.dir.join("dc/private/sam.ldb"))
            .arg("-s")
            .arg(self.conf())
            .stdin(Stdio::null())
            .output()
            .expect("samba-tool")
    }

    fn tool(&self, args: &[&str]) {
        let out = self.samba_tool(args);
        assert!(
            out.status.success(),
            "samba-tool {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Makes the DC unreachable for LDAP, Kerberos and SMB while DNS
    /// still answers (iptables in the namespace); `false` undoes it.
    pub fn block(&self, on: bool) {
        let op = if on { "-A" } else { "-D" };
        for (proto, ports) in [
            ("tcp", "88,135,389,445,464,636,3268,3269"),
            ("udp", "88,389,464"),
        ] {
            let out = Command::new("ip")
                .args([
                    "netns",
                    "exec",
                    &self.netns,
                    "iptables",
                    op,
                    "INPUT",
                    "-d",
                    &self.ip,
                    "-p",
                    proto,
                    "-m",
                    "multiport",
                    "--dports",
                    ports,
                    "-j",
                    "REJECT",
                ])
                .output()
                .expect("iptables");
            assert!(
                out.status.success(),
                "iptables: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    /// The pids in the namespace.
    pub fn pids(&self) -> Vec<i32> {
        netns_pids(&self.netns)
    }
}

/// The pids of the processes in network namespace `netns`.
pub fn netns_pids(netns: &str) -> Vec<i32> {
    let out = Command::new("ip")
        .args(["netns", "pids", netns])
        .output()
        .expect("ip netns pids");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// SIGKILLs every process in `netns` until none is left (10 s).
pub fn kill_netns(netns: &str) {
    let t = Instant::now();
    loop {
        let pids = netns_pids(netns);
        if pids.is_empty() || t.elapsed() > Duration::from_secs(10) {
            return;
        }
        for p in pids {
            if let Some(p) = Pid::from_raw(p) {
                let _ = kill_process(p, Signal::KILL);
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Drop for AdDc {
    fn drop(&mut self) {
        kill_netns(&self.netns);
        if let Some(mut c) = self.samba.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.netns])
            .status();
    }
}

/// The files of a private `/etc` for a member of `dc`'s domain:
/// resolver, Kerberos, NSS with winbind, and `hosts` naming this host in
/// the domain at 127.0.0.1 (the private smbd listens there).
pub fn member_etc(dc: &AdDc, etc: &Path, hostname: &str) {
    fs::copy(dc.resolv_conf(), etc.join("resolv.conf")).unwrap();
    fs::copy(dc.krb5_conf(), etc.join("krb5.conf")).unwrap();
    let nss = fs::read_to_string(etc.join("nsswitch.conf")).unwrap_or_default();
    let nss: String = nss
        .lines()
        .map(|l| match l.split_once(':') {
            Some((k, v))
                if (k.trim() == "passwd" || k.trim() == "group") && !v.contains("winbind") =>
            {
                format!("{k}:{v} winbind\n")
            }
            _ => format!("{l}\n"),
        })
        .collect();
    fs::write(etc.join("nsswitch.conf"), nss).unwrap();
    let lower = hostname.to_ascii_lowercase();
    fs::write(
        etc.join("hosts"),
        format!("127.0.0.1 localhost\n127.0.0.1 {lower}.{DNS_DOMAIN} {lower}\n"),
    )
    .unwrap();
}
