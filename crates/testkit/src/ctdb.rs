//! A CTDB cluster of clustered smbd nodes in network namespaces, for
//! failover tests (recipe: ../shared/notes/real-components.md §4).
//!
//! Layout: a switch namespace with a bridge, one namespace per node
//! (`10.99.0.N`) and one client namespace (`10.99.0.99`), each joined to
//! the bridge by a veth pair whose switch end the test can take down (a
//! pulled cable the node cannot undo). Every node runs, inside the mount
//! namespace `ip netns exec` gives it, with a private `/etc` (a copy of the
//! host's plus the node's CTDB and Samba files), a private
//! `/var/lib/ctdb` and a tmpfs on `/run`:
//! `ctdbd -i`, followed when it exits by CTDB's `ctdb-crash-cleanup.sh`
//! (what the product's systemd drop-in for ctdb.service does with
//! `ExecStopPost=`), and `smbd -F` with `clustering = yes`, started once
//! the node's ctdbd is ready and again whenever it exits (what the
//! product's smbd.service drop-in does). Nothing on the host changes;
//! dropping the cluster kills every process in the namespaces, deletes
//! them and removes the directory.

use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Programs the cluster needs.
pub const CTDB_TOOLS: &[&str] = &[
    "ctdbd",
    "ctdb",
    "smbd",
    "smbclient",
    "smbpasswd",
    "ip",
    "nsenter",
    "iptables",
    "ethtool",
];

/// What a node's log says when its smbd exits (then its exit status).
const SMBD_EXITED: &str = "smbd exited (";

/// The floating address clients use.
pub const VIP: &str = "10.99.0.100";

/// One cluster.
pub struct CtdbCluster {
    dir: Option<tempfile::TempDir>,
    /// The scratch directory.
    pub base: PathBuf,
    /// Number of nodes.
    pub nodes: usize,
    prefix: String,
    /// The directory all nodes serve as share `data` (the clustered storage).
    pub shared: PathBuf,
    /// A shell command that succeeds once a node's ctdbd is ready for
    /// smbd; each node starts smbd after it, and again after it whenever
    /// smbd exits (what systemd does with the product's smbd.service
    /// drop-in). Default: `ctdb runstate startup running`.
    pub smbd_gate: String,
}

/// Runs `ip ARGS`, failing the test when it fails.
pub(crate) fn ip(args: &[&str]) {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl CtdbCluster {
    /// Builds the namespaces and the per-node directories; `render(i,
    /// dir, shared)` writes node `i`'s (1-based) CTDB files into `dir`
    /// (`shared` is the clustered storage, for the lock file).
    pub fn new(nodes: usize, render: &dyn Fn(usize, &Path, &Path)) -> CtdbCluster {
        let dir = tempfile::Builder::new()
            .prefix("smbgw-ctdb-")
            .tempdir()
            .expect("temp dir");
        let base = dir.path().to_owned();
        let shared = base.join("shared");
        fs::create_dir_all(shared.join("data")).expect("shared dir");
        {
            use std::os::unix::fs::PermissionsExt;
            for d in [&base, &shared] {
                fs::set_permissions(d, fs::Permissions::from_mode(0o755)).expect("chmod");
            }
            fs::set_permissions(shared.join("data"), fs::Permissions::from_mode(0o1777))
                .expect("chmod");
        }
        let prefix = format!("sgw{}", std::process::id() % 100_000);
        let c = CtdbCluster {
            dir: Some(dir),
            base,
            nodes,
            prefix,
            shared,
            smbd_gate: "ctdb runstate startup running".into(),
        };
        let sw = c.ns("sw");
        ip(&["netns", "add", &sw]);
        ip(&["-n", &sw, "link", "add", "br0", "type", "bridge"]);
        ip(&["-n", &sw, "link", "set", "br0", "up"]);
        ip(&["-n", &sw, "link", "set", "lo", "up"]);
        for i in (1..=nodes).chain([99]) {
            let ns = c.node_ns(i);
            let veth = c.veth(i);
            ip(&["netns", "add", &ns]);
            ip(&[
                "link", "add", &veth, "type", "veth", "peer", "name", "eth0", "netns", &ns,
            ]);
            ip(&["link", "set", &veth, "netns", &sw]);
            ip(&["-n", &sw, "link", "set", &veth, "master", "br0"]);
            ip(&["-n", &sw, "link", "set", &veth, "up"]);
            ip(&["-n", &ns, "link", "set", "lo", "up"]);
            ip(&[
                "-n",
                &ns,
                "addr",
                "add",
                &format!("10.99.0.{i}/24"),
                "dev",
                "eth0",
            ]);
            ip(&["-n", &ns, "link", "set", "eth0", "up"]);
        }
        for i in 1..=nodes {
            c.prepare_node(i, render);
        }
        fs::write(
            c.base.join("client.conf"),
            "[global]\n\tclient min protocol = SMB2_10\n",
        )
        .expect("client conf");
        c
    }

    fn ns(&self, name: &str) -> String {
        format!("{}-{name}", self.prefix)
    }

    /// Node `i`'s namespace (99 is the client).
    pub fn node_ns(&self, i: usize) -> String {
        self.ns(&format!("n{i}"))
    }

    /// The switch end of node `i`'s link.
    fn veth(&self, i: usize) -> String {
        format!("{}v{i}", self.prefix)
    }

    /// Node `i`'s cluster address.
    pub fn addr(i: usize) -> IpAddr {
        format!("10.99.0.{i}").parse().expect("addr")
    }

    fn node_dir(&self, i: usize) -> PathBuf {
        self.base.join(format!("n{i}"))
    }

    fn prepare_node(&self, i: usize, render: &dyn Fn(usize, &Path, &Path)) {
        let b = self.node_dir(i);
        for d in [
            "log",
            "var/persistent",
            "var/state",
            "var/volatile",
            "samba",
        ] {
            fs::create_dir_all(b.join(d)).expect("node dir");
        }
        let st = Command::new("cp")
            .args(["-a", "/etc"])
            .arg(b.join("etc"))
            .status()
            .expect("cp");
        assert!(st.success(), "cannot copy /etc");
        let etc = b.join("etc");
        // The share's user, the same uid on every node.
        append(
            &etc.join("passwd"),
            "alice:x:2001:2001::/nonexistent:/usr/sbin/nologin\n",
        );
        append(&etc.join("group"), "alice:x:2001:\n");
        render(i, &etc.join("ctdb"), &self.shared);
        let samba = b.join("samba");
        let conf = format!(
            "[global]\n\
             \tinclude = /etc/ctdb/smb-cluster.conf\n\
             \tworkgroup = WORKGROUP\n\
             \tserver min protocol = SMB2_10\n\
             \tmap to guest = never\n\
             \tpassdb backend = tdbsam\n\
             \tprivate dir = {s}/private\n\
             \tlock directory = {s}/lock\n\
             \tstate directory = {s}/state\n\
             \tcache directory = {s}/cache\n\
             \tpid directory = {s}/pid\n\
             \tncalrpc dir = {s}/ncalrpc\n\
             \tlog file = {l}/smbd.log\n\
             \tload printers = no\n\
             \tdisable spoolss = yes\n\
             [data]\n\
             \tpath = {d}\n\
             \tread only = no\n\
             \tvalid users = alice\n",
            s = samba.display(),
            l = b.join("log").display(),
            d = self.shared.join("data").display(),
        );
        fs::write(etc.join("samba/smb.conf"), conf).expect("smb.conf");
    }

    /// Starts node `i`: ctdbd (then the crash clean-up when it exits) and,
    /// each time [`smbd_gate`](Self::smbd_gate) passes, smbd, in the
    /// node's namespaces.
    pub fn start_node(&self, i: usize) {
        let b = self.node_dir(i);
        let script = format!(
            "mount --bind {b}/etc /etc && mount --bind {b}/var /var/lib/ctdb \
             && mount -t tmpfs -o mode=755 tmpfs /run && mkdir /run/ctdb || exit 1; \
             ( (/usr/sbin/ctdbd -i; echo \"ctdbd exited ($?), running ctdb-crash-cleanup.sh\"; \
                CTDB_BASE=/etc/ctdb /etc/ctdb/ctdb-crash-cleanup.sh; echo \"clean-up done ($?)\") 2>&1 \
               | perl -MTime::HiRes=time -ne '$|=1; printf \"%.3f %s\", time, $_' ) & \
             while :; do \
               until {gate} >/dev/null 2>&1; do sleep 0.2; done; \
               /usr/sbin/smbd -F --no-process-group; rc=$?; \
               echo \"$(date +%s.%3N) {SMBD_EXITED}$rc); starting it again once ctdbd is ready\"; \
               sleep 1; \
             done",
            b = b.display(),
            gate = self.smbd_gate,
        );
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(b.join("log/node.log"))
            .expect("node log");
        // `setsid -f` forks the node off and returns: nothing to reap.
        let st = Command::new("setsid")
            .args([
                "-f",
                "ip",
                "netns",
                "exec",
                &self.node_ns(i),
                "sh",
                "-c",
                &script,
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .status()
            .expect("start node");
        assert!(st.success(), "cannot start node {i}");
    }

    /// Pids of the processes in node `i`'s network namespace.
    pub fn pids(&self, i: usize) -> Vec<i32> {
        let out = Command::new("ip")
            .args(["netns", "pids", &self.node_ns(i)])
            .output()
            .expect("ip netns pids");
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect()
    }

    /// The main ctdbd of node `i` (its recovery daemon and event daemon
    /// are its children).
    pub fn ctdbd_pid(&self, i: usize) -> Option<i32> {
        let comm = |p: i32| fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default();
        let ppid = |p: i32| -> i32 {
            fs::read_to_string(format!("/proc/{p}/stat"))
                .ok()
                .and_then(|s| {
                    s.rsplit_once(')')
                        .and_then(|(_, r)| r.split_whitespace().nth(1).and_then(|x| x.parse().ok()))
                })
                .unwrap_or(0)
        };
        self.pids(i)
            .into_iter()
            .find(|p| comm(*p).trim() == "ctdbd" && comm(ppid(*p)).trim() != "ctdbd")
    }

    /// `program args` inside node `i`'s namespaces (those of its ctdbd).
    pub fn in_node(&self, i: usize, program: &str, args: &[&str]) -> Option<std::process::Output> {
        let pid = self.ctdbd_pid(i)?;
        Command::new("nsenter")
            .args(["-t", &pid.to_string(), "-m", "-n", "--", program])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .ok()
    }

    /// Like [`in_node`](Self::in_node), feeding `input` on stdin.
    pub fn in_node_stdin(&self, i: usize, program: &str, args: &[&str], input: &[u8]) -> bool {
        let Some(pid) = self.ctdbd_pid(i) else {
            return false;
        };
        let mut c = Command::new("nsenter");
        c.args(["-t", &pid.to_string(), "-m", "-n", "--", program])
            .args(args);
        crate::sandbox::feed(c, input).status.success()
    }

    /// Which nodes (1-based) have the floating address on their eth0.
    pub fn vip_holders(&self) -> Vec<usize> {
        (1..=self.nodes)
            .filter(|i| {
                Command::new("ip")
                    .args(["-n", &self.node_ns(*i), "-o", "addr", "show", "dev", "eth0"])
                    .output()
                    .map(|o| String::from_utf8_lossy(&o.stdout).contains(&format!(" {VIP}/")))
                    .unwrap_or(false)
            })
            .collect()
    }

    /// Waits until every node is OK and the same single node has held the
    /// floating address for 2 s; how long that took.
    ///
    /// The 2 s matter: while the leader runs a takeover run (one starts
    /// whenever a node becomes healthy or an address moves), the other
    /// nodes have takeover runs disabled "for 60 seconds" until the leader
    /// re-enables them; a leader that dies or is cut off in that moment
    /// leaves them disabled, and CTDB 4.17 then moves no address for up to
    /// a minute (observed). The test measures failover from a settled
    /// cluster; the race is noted in BENCHMARKS.md.
    pub fn wait_healthy(&self, within: Duration) -> Result<Duration, String> {
        let t0 = Instant::now();
        let mut since: Option<(Instant, Vec<usize>)> = None;
        while t0.elapsed() < within {
            match self.healthy_once() {
                Ok(holders) => match &since {
                    Some((t, h)) if *h == holders => {
                        if t.elapsed() >= Duration::from_secs(2) {
                            return Ok(t0.elapsed());
                        }
                    }
                    _ => since = Some((Instant::now(), holders)),
                },
                Err(_) => since = None,
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(format!(
            "cluster not healthy within {within:?}: {}\n{}",
            self.healthy_once().err().unwrap_or_default(),
            self.logs_tail()
        ))
    }

    /// Every node OK and exactly one holder: the holder; else what is wrong.
    fn healthy_once(&self) -> Result<Vec<usize>, String> {
        let status = (1..=self.nodes)
            .find_map(|i| {
                self.in_node(i, "ctdb", &["-X", "nodestatus", "all"])
                    .filter(|o| !o.stdout.is_empty())
            })
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        let ok = ha::ctdb::parse_status(&status)
            .map(|n| n.iter().filter(|n| n.ok()).count())
            .unwrap_or(0);
        let holders = self.vip_holders();
        // Every node's smbd runs too (it exits when its ctdbd goes away and
        // is started again once the gate passes).
        let smbd: Vec<usize> = (1..=self.nodes)
            .filter(|i| {
                self.pids(*i).iter().any(|p| {
                    fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == "smbd")
                })
            })
            .collect();
        if ok == self.nodes && holders.len() == 1 && smbd.len() == self.nodes {
            Ok(holders)
        } else {
            Err(format!(
                "last status:\n{status}\nholders: {holders:?}; smbd runs on {smbd:?}"
            ))
        }
    }

    /// The last lines of every node's log, for failure messages.
    pub fn logs_tail(&self) -> String {
        let mut s = String::new();
        for i in 1..=self.nodes {
            for (log, n) in [("node.log", 25), ("smbd.log", 12)] {
                let text =
                    fs::read_to_string(self.node_dir(i).join("log").join(log)).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                s.push_str(&format!("--- node {i}: {log} ---\n"));
                for l in &lines[lines.len().saturating_sub(n)..] {
                    s.push_str(l);
                    s.push('\n');
                }
            }
        }
        s
    }

    /// The lines in node `i`'s log that say its smbd exited.
    pub fn smbd_exits(&self, i: usize) -> Vec<String> {
        fs::read_to_string(self.node_dir(i).join("log/node.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(&format!(" {SMBD_EXITED}")))
            .map(str::to_string)
            .collect()
    }

    /// The current leader (1-based), as node `asking` sees it.
    pub fn leader(&self, asking: usize) -> Option<usize> {
        let out = self.in_node(asking, "ctdb", &["leader"])?;
        let pnn: usize = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
        Some(pnn + 1)
    }

    /// Moves the floating address to node `to` (`ctdb moveip`) and waits
    /// until only that node has it and the cluster has settled.
    ///
    /// `ctdb moveip` (4.17) disables takeover runs on every node for 20 s
    /// so that the address stays where it was put; a failure in that
    /// window is not failed over until it ends (observed: 17 s). After a
    /// move this waits the 20 s out.
    pub fn move_vip(&self, to: usize, within: Duration) -> Result<(), String> {
        if self.vip_holders() == [to] {
            return Ok(());
        }
        let t0 = Instant::now();
        let pnn = (to - 1).to_string();
        let mut last = String::new();
        while t0.elapsed() < within {
            if self.vip_holders() == [to] {
                std::thread::sleep(Duration::from_secs(21));
                return self.wait_healthy(within).map(|_| ());
            }
            if let Some(o) = self.in_node(to, "ctdb", &["moveip", VIP, &pnn]) {
                last = String::from_utf8_lossy(&o.stderr).into_owned();
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        Err(format!("floating address not moved to node {to}: {last}"))
    }

    /// Kills node `i`'s main ctdbd with SIGKILL (a crash).
    pub fn crash_ctdbd(&self, i: usize) {
        let pid = self.ctdbd_pid(i).expect("node's ctdbd is running");
        rustix::process::kill_process(
            rustix::process::Pid::from_raw(pid).expect("pid"),
            rustix::process::Signal::KILL,
        )
        .expect("kill ctdbd");
    }

    /// Kills every process of node `i` and waits until they are gone.
    pub fn stop_node(&self, i: usize) {
        for _ in 0..50 {
            let pids = self.pids(i);
            if pids.is_empty() {
                return;
            }
            for p in pids {
                if let Some(pid) = rustix::process::Pid::from_raw(p) {
                    let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Takes node `i`'s link down (or up) at the switch.
    pub fn set_link(&self, i: usize, up: bool) {
        ip(&[
            "-n",
            &self.ns("sw"),
            "link",
            "set",
            &self.veth(i),
            if up { "up" } else { "down" },
        ]);
    }

    /// `smbclient //VIP/data -c commands` from the client namespace, with
    /// the credentials in a 0600 file; `cwd` is the local directory.
    pub fn client(&self, auth: &Path, commands: &str, cwd: &Path) -> std::process::Output {
        // smbclient's own timeout covers SMB requests, not a connect that
        // waits for ARP; `timeout` bounds the whole attempt.
        Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.node_ns(99),
                "timeout",
                "5",
                "smbclient",
            ])
            .arg(format!("//{VIP}/data"))
            .arg("-s")
            .arg(self.base.join("client.conf"))
            .arg("-A")
            .arg(auth)
            .args(["-m", "SMB3", "-t", "2", "-c", commands])
            .current_dir(cwd)
            .stdin(Stdio::null())
            .output()
            .expect("run smbclient")
    }
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open for append");
    f.write_all(text.as_bytes()).expect("append");
}

impl Drop for CtdbCluster {
    fn drop(&mut self) {
        for i in (1..=self.nodes).chain([99]) {
            self.stop_node(i);
        }
        for i in (1..=self.nodes).chain([99]) {
            let _ = Command::new("ip")
                .args(["netns", "del", &self.node_ns(i)])
                .status();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.ns("sw")])
            .status();
        if std::env::var_os("SMBGW_KEEP_SANDBOX").is_some() {
            if let Some(d) = self.dir.take() {
                eprintln!("keeping {}", d.keep().display());
            }
        }
    }
}
