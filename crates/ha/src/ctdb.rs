//! A CTDB cluster for clustered Samba: the cluster spec (nodes, floating
//! addresses, cluster lock, failure-detection tuning), the files every
//! node needs (`ctdb.conf`, `nodes`, `public_addresses`, `ctdb.tunables`),
//! the clustered Samba globals, and parsers for `ctdb -X` output.
//!
//! Rendering is pure; the files are produced with `smbconf::ctdb` and
//! checked with its validator, so they are what CTDB 4.17 accepts.
//!
//! Failure detection: CTDB's defaults (`KeepaliveInterval` 5 s ×
//! `KeepaliveLimit` 5, `leader timeout` 5 s, `RerecoveryTimeout` 10 s)
//! took about 27 s to move an address away from a node whose link went
//! down. [`Tuning::fast`] (1 s × 3, leader timeout 2 s, re-recovery 3 s)
//! moves it in well under 10 s. The leader broadcasts every second
//! (`RecoverInterval`), so a 2 s leader timeout survives one lost
//! broadcast; CTDB 4.17 waits for that timeout before electing a new
//! leader even when it has seen the leader's ctdbd die, which makes the
//! leader's crash the slowest crash to recover from. The price is that a node that stalls for
//! more than ~3 s (swap storm, a long `fsync` on a loaded host) is treated
//! as dead and its clients are moved, that a flapping node causes a
//! recovery every 3 s instead of every 10 s, and that the cluster exchanges
//! a keepalive per node pair every second. [`Tuning::ctdb_defaults`] keeps
//! CTDB's own values.
//!
//! [`ANNOUNCE_SCRIPT`] is a CTDB event script that re-announces (gratuitous
//! ARP) the addresses a node holds after every reallocation: after a
//! partition heals, the node that was cut off still answers ARP for the
//! address until it releases it, and clients that asked in that moment
//! keep going to it; observed as 7 s of failed connections after a heal.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use runner::{Cmd, Runner};
use smbconf::ctdb::{
    ClusterLock, CtdbConfBuilder, LogLevel, LogLocation, NodeEntry, NodesFile, PublicAddress,
    PublicAddressesFile, TunablesFile,
};

/// Where CTDB's own helpers live on Debian.
pub const CTDB_HELPER_DIR: &str = "/usr/libexec/ctdb";

/// CTDB's TCP port between nodes.
pub const CTDB_PORT: u16 = 4379;

/// Why a cluster spec or one of its parts is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CtdbSpecError {
    /// A floating address is not `ADDR/BITS[@IFACE]`.
    #[error("floating address `{text}`: {reason}")]
    Vip {
        /// What was given.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A cluster lock is not one of the known forms.
    #[error("cluster lock `{text}`: {reason}")]
    Lock {
        /// What was given.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The node list is unusable.
    #[error("cluster nodes: {0}")]
    Nodes(String),
    /// The cluster as a whole is inconsistent.
    #[error("ctdb cluster: {0}")]
    Cluster(String),
    /// smbconf refused a generated file (a bug: the spec was validated).
    #[error("generated {file} is not accepted by ctdb: {reason}")]
    Generated {
        /// Which file.
        file: &'static str,
        /// The finding.
        reason: String,
    },
}

/// A Linux interface name: 1 to 15 bytes, no `/`, `:`, whitespace, and not
/// `.` or `..` (the kernel's `dev_valid_name`, plus `:`, which CTDB and
/// `ip` read as an alias separator, and `,`, which separates interfaces in
/// `public_addresses`).
pub fn check_interface(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 15 {
        return Err(format!(
            "interface name `{name}` must be 1 to 15 characters"
        ));
    }
    if name.starts_with('-') {
        return Err(format!("interface name `{name}` must not start with `-`"));
    }
    if name == "." || name == ".." {
        return Err(format!("`{name}` is not an interface name"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| *c == '/' || *c == ':' || *c == ',' || c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "interface name `{name}` contains {c:?}, which interface names cannot contain"
        ));
    }
    Ok(())
}

/// A floating (public) address: `ADDR/BITS[@IFACE]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Vip {
    /// The address clients connect to.
    pub address: IpAddr,
    /// Its prefix length on the interface.
    pub prefix_len: u8,
    /// The interface that carries it; `None` means the cluster default.
    pub interface: Option<String>,
}

impl FromStr for Vip {
    type Err = CtdbSpecError;

    fn from_str(text: &str) -> Result<Vip, CtdbSpecError> {
        let err = |reason: String| CtdbSpecError::Vip {
            text: text.to_string(),
            reason,
        };
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err(
                "it contains white space or a control character; write ADDR/BITS or ADDR/BITS@IFACE".into(),
            ));
        }
        let (addr_bits, interface) = match text.split_once('@') {
            Some((a, i)) => {
                check_interface(i).map_err(err)?;
                (a, Some(i.to_string()))
            }
            None => (text, None),
        };
        let Some((addr, bits)) = addr_bits.split_once('/') else {
            return Err(err(
                "give the prefix length too, as in 192.168.1.50/24 or 192.168.1.50/24@vmbr0".into(),
            ));
        };
        let address: IpAddr = addr
            .parse()
            .map_err(|_| err(format!("`{addr}` is not an IPv4 or IPv6 address")))?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix_len: u8 = Some(bits)
            .filter(|b| !b.is_empty() && b.bytes().all(|c| c.is_ascii_digit()))
            .and_then(|b| b.parse().ok())
            .filter(|b| (1..=max).contains(b))
            .ok_or_else(|| err(format!("prefix length `{bits}` must be 1 to {max}")))?;
        if address.is_unspecified() || address.is_loopback() || address.is_multicast() {
            return Err(err(
                "an unspecified, loopback or multicast address cannot float between nodes".into(),
            ));
        }
        if let IpAddr::V4(v4) = address {
            if v4.is_broadcast() {
                return Err(err(
                    "the broadcast address cannot float between nodes".into()
                ));
            }
            if prefix_len < 31 {
                let host_bits = 32 - u32::from(prefix_len);
                let mask = (1u32 << host_bits) - 1;
                let host = u32::from(v4) & mask;
                if host == 0 {
                    return Err(err(format!(
                        "{address} is the network address of its /{prefix_len}"
                    )));
                }
                if host == mask {
                    return Err(err(format!(
                        "{address} is the broadcast address of its /{prefix_len}"
                    )));
                }
            }
        }
        Ok(Vip {
            address,
            prefix_len,
            interface,
        })
    }
}

impl fmt::Display for Vip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix_len)?;
        if let Some(i) = &self.interface {
            write!(f, "@{i}")?;
        }
        Ok(())
    }
}

/// How the cluster decides which node may run recovery (CTDB's "cluster
/// lock", its protection against split brain).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LockMethod {
    /// `pve-smbgateway ctdb lock-helper FILE`: an fcntl lock on FILE (on
    /// storage every node reaches) that is only taken, and only kept, while
    /// the local ctdbd sees a majority of the nodes connected. A node cut
    /// off from the others gives the lock up, so the majority can recover
    /// even when the shared file system still lets the cut-off node hold
    /// locks. Needs at least three nodes.
    Quorum(PathBuf),
    /// CTDB's own fcntl helper on FILE. Safe against host death only when
    /// the shared file system releases a dead client's locks quickly; a
    /// partitioned leader keeps the lock and blocks failover.
    Fcntl(PathBuf),
    /// CTDB's RADOS helper (Ceph): the lock expires `duration` seconds
    /// after its holder stops renewing it.
    Rados {
        /// Ceph cluster name (`ceph`).
        cluster: String,
        /// Ceph user (`client.admin`).
        user: String,
        /// RADOS pool.
        pool: String,
        /// RADOS object.
        object: String,
        /// Lock duration in seconds.
        duration: u32,
    },
    /// No cluster lock (explicit opt-out): nothing prevents split brain.
    None,
}

fn check_lock_word(text: &str, what: &str, word: &str) -> Result<(), CtdbSpecError> {
    if word.is_empty() || word.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(CtdbSpecError::Lock {
            text: text.to_string(),
            reason: format!(
                "the {what} must be non-empty and without spaces (ctdb splits the lock command on white space)"
            ),
        });
    }
    Ok(())
}

impl FromStr for LockMethod {
    type Err = CtdbSpecError;

    /// `quorum:FILE`, `fcntl:FILE`, `rados:POOL/OBJECT[@USER][:SECONDS]`
    /// (cluster `ceph`) or `none`.
    fn from_str(text: &str) -> Result<LockMethod, CtdbSpecError> {
        let err = |reason: &str| CtdbSpecError::Lock {
            text: text.to_string(),
            reason: reason.to_string(),
        };
        if text == "none" {
            return Ok(LockMethod::None);
        }
        let Some((kind, rest)) = text.split_once(':') else {
            return Err(err(
                "use quorum:FILE, fcntl:FILE, rados:POOL/OBJECT[@USER][:SECONDS] or none",
            ));
        };
        let file = |rest: &str| -> Result<PathBuf, CtdbSpecError> {
            check_lock_word(text, "lock file path", rest)?;
            if !rest.starts_with('/') {
                return Err(err("the lock file path must be absolute"));
            }
            Ok(PathBuf::from(rest))
        };
        match kind {
            "quorum" => Ok(LockMethod::Quorum(file(rest)?)),
            "fcntl" => Ok(LockMethod::Fcntl(file(rest)?)),
            "rados" => {
                let (spec, duration) = match rest.rsplit_once(':') {
                    Some((s, d)) => (
                        s,
                        d.parse::<u32>()
                            .ok()
                            .filter(|d| (1..=600).contains(d))
                            .ok_or_else(|| err("the lock duration must be 1 to 600 seconds"))?,
                    ),
                    None => (rest, 10),
                };
                let (obj, user) = match spec.split_once('@') {
                    Some((o, u)) => (o, u.to_string()),
                    None => (spec, "client.admin".to_string()),
                };
                let Some((pool, object)) = obj.split_once('/') else {
                    return Err(err("give the RADOS pool and object as POOL/OBJECT"));
                };
                for (what, w) in [("pool", pool), ("object", object), ("user", &user)] {
                    check_lock_word(text, what, w)?;
                }
                Ok(LockMethod::Rados {
                    cluster: "ceph".into(),
                    user,
                    pool: pool.into(),
                    object: object.into(),
                    duration,
                })
            }
            _ => Err(err(
                "use quorum:FILE, fcntl:FILE, rados:POOL/OBJECT[@USER][:SECONDS] or none",
            )),
        }
    }
}

impl fmt::Display for LockMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockMethod::Quorum(p) => write!(f, "quorum:{}", p.display()),
            LockMethod::Fcntl(p) => write!(f, "fcntl:{}", p.display()),
            LockMethod::Rados {
                user,
                pool,
                object,
                duration,
                ..
            } => write!(f, "rados:{pool}/{object}@{user}:{duration}"),
            LockMethod::None => f.write_str("none"),
        }
    }
}

/// Failure-detection timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tuning {
    /// Seconds between keepalives (`KeepaliveInterval`).
    pub keepalive_interval: u32,
    /// Missed keepalives before a node is disconnected (`KeepaliveLimit`).
    pub keepalive_limit: u32,
    /// Seconds without a leader broadcast before an election
    /// (`[cluster] leader timeout`).
    pub leader_timeout: u32,
    /// Seconds after a recovery during which no new recovery starts
    /// (`RerecoveryTimeout`): a failure right after a node joined waits
    /// this long.
    pub rerecovery_timeout: u32,
}

impl Tuning {
    /// Fast failover (the default): a dead or cut-off node is noticed in
    /// about 3 s, a dead leader replaced after 2 s.
    pub fn fast() -> Tuning {
        Tuning {
            keepalive_interval: 1,
            keepalive_limit: 3,
            leader_timeout: 2,
            rerecovery_timeout: 3,
        }
    }

    /// CTDB's own defaults (about 27 s to fail over after a link loss).
    pub fn ctdb_defaults() -> Tuning {
        Tuning {
            keepalive_interval: 5,
            keepalive_limit: 5,
            leader_timeout: 5,
            rerecovery_timeout: 10,
        }
    }
}

impl Default for Tuning {
    fn default() -> Tuning {
        Tuning::fast()
    }
}

/// A whole CTDB cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSpec {
    /// Node addresses (the private cluster network), in PNN order.
    pub nodes: Vec<IpAddr>,
    /// Floating addresses clients use.
    pub vips: Vec<Vip>,
    /// Interface for floating addresses that do not name one.
    pub default_interface: Option<String>,
    /// The cluster lock.
    pub lock: LockMethod,
    /// Failure-detection timing.
    pub tuning: Tuning,
}

/// The files of one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtdbFiles {
    /// `/etc/ctdb/ctdb.conf`.
    pub ctdb_conf: String,
    /// `/etc/ctdb/nodes`.
    pub nodes: String,
    /// `/etc/ctdb/public_addresses`.
    pub public_addresses: String,
    /// `/etc/ctdb/ctdb.tunables`.
    pub tunables: String,
    /// What the administrator should know (e.g. no cluster lock).
    pub warnings: Vec<String>,
}

impl ClusterSpec {
    /// Checks the cluster as a whole; returns the warnings it deserves.
    pub fn validate(&self) -> Result<Vec<String>, CtdbSpecError> {
        let mut warnings = Vec::new();
        if self.nodes.len() < 2 {
            return Err(CtdbSpecError::Nodes(
                "a cluster needs at least two nodes (give each node's cluster-network address)"
                    .into(),
            ));
        }
        for (i, a) in self.nodes.iter().enumerate() {
            if self.nodes[..i].contains(a) {
                return Err(CtdbSpecError::Nodes(format!("{a} is listed twice")));
            }
            if a.is_unspecified() || a.is_multicast() {
                return Err(CtdbSpecError::Nodes(format!(
                    "{a} cannot be a node address"
                )));
            }
        }
        if self.vips.is_empty() {
            return Err(CtdbSpecError::Cluster(
                "give at least one floating address (--vip ADDR/BITS[@IFACE])".into(),
            ));
        }
        for (i, v) in self.vips.iter().enumerate() {
            if self.vips[..i].iter().any(|w| w.address == v.address) {
                return Err(CtdbSpecError::Cluster(format!(
                    "floating address {} is given twice",
                    v.address
                )));
            }
            if self.nodes.contains(&v.address) {
                return Err(CtdbSpecError::Cluster(format!(
                    "floating address {} is also a node address; it must be an address no node owns",
                    v.address
                )));
            }
            if v.interface.is_none() && self.default_interface.is_none() {
                return Err(CtdbSpecError::Cluster(format!(
                    "say which interface carries {} (ADDR/BITS@IFACE)",
                    v.address
                )));
            }
        }
        if let Some(i) = &self.default_interface {
            check_interface(i).map_err(CtdbSpecError::Cluster)?;
        }
        let t = self.tuning;
        if t.keepalive_interval == 0 || t.keepalive_limit == 0 || t.leader_timeout == 0 {
            return Err(CtdbSpecError::Cluster(
                "keepalive interval, keepalive limit and leader timeout must be at least 1".into(),
            ));
        }
        match &self.lock {
            LockMethod::Quorum(_) if self.nodes.len() < 3 => {
                return Err(CtdbSpecError::Cluster(format!(
                    "the quorum lock needs at least three nodes (with {} nodes no node would keep a majority after a failure); use fcntl:FILE or rados:POOL/OBJECT",
                    self.nodes.len()
                )));
            }
            LockMethod::None => warnings.push(
                "no cluster lock: CTDB cannot prevent split brain; two nodes may both serve the floating address and corrupt locking state".into(),
            ),
            LockMethod::Fcntl(_) => warnings.push(
                "fcntl cluster lock: a leader cut off from the network keeps the lock while the shared file system lets it, which blocks failover; prefer quorum:FILE (three or more nodes) or rados on Ceph".into(),
            ),
            _ => {}
        }
        Ok(warnings)
    }

    /// The `cluster lock` value; `helper` is the `pve-smbgateway` binary.
    pub fn cluster_lock(&self, helper: &Path) -> Option<ClusterLock> {
        match &self.lock {
            LockMethod::Quorum(file) => Some(ClusterLock::Helper(format!(
                "{} ctdb lock-helper {}",
                helper.display(),
                file.display()
            ))),
            LockMethod::Fcntl(file) => Some(ClusterLock::Helper(format!(
                "{CTDB_HELPER_DIR}/ctdb_mutex_fcntl_helper {}",
                file.display()
            ))),
            LockMethod::Rados {
                cluster,
                user,
                pool,
                object,
                duration,
            } => Some(ClusterLock::Helper(format!(
                "{CTDB_HELPER_DIR}/ctdb_mutex_ceph_rados_helper {cluster} {user} {pool} {object} {duration}"
            ))),
            LockMethod::None => None,
        }
    }

    /// The files of the node whose cluster address is `node`. `helper` is
    /// the absolute path of the `pve-smbgateway` binary (quorum lock);
    /// `log` where ctdbd logs.
    pub fn render(
        &self,
        node: IpAddr,
        helper: &Path,
        log: LogLocation,
    ) -> Result<CtdbFiles, CtdbSpecError> {
        let warnings = self.validate()?;
        if !self.nodes.contains(&node) {
            return Err(CtdbSpecError::Nodes(format!(
                "{node} is not one of the cluster's nodes ({})",
                self.nodes
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        if !helper.is_absolute() || helper.to_string_lossy().contains(char::is_whitespace) {
            return Err(CtdbSpecError::Cluster(format!(
                "the helper path `{}` must be absolute and without spaces",
                helper.display()
            )));
        }
        let gen = |file: &'static str| {
            move |e: smbconf::ctdb::CtdbError| CtdbSpecError::Generated {
                file,
                reason: e.to_string(),
            }
        };
        let mut b = CtdbConfBuilder::new()
            .header("Managed by pve-smbgateway: changes are overwritten.")
            .log_location(log)
            .log_level(LogLevel::Notice)
            .node_address(node)
            .leader_timeout(self.tuning.leader_timeout);
        if let Some(lock) = self.cluster_lock(helper) {
            b = b.cluster_lock(lock);
        }
        let conf = b.build().map_err(gen("ctdb.conf"))?;
        let v = conf.validate();
        if !v.ctdb_accepts() {
            return Err(CtdbSpecError::Generated {
                file: "ctdb.conf",
                reason: format!("{v:?}"),
            });
        }
        let entries: Vec<NodeEntry> = self.nodes.iter().map(|a| NodeEntry::Node(*a)).collect();
        let nodes = NodesFile::from_entries(&entries).map_err(gen("nodes"))?;
        let vips: Vec<PublicAddress> = self
            .vips
            .iter()
            .map(|v| PublicAddress {
                address: v.address,
                prefix_len: v.prefix_len,
                interfaces: vec![v
                    .interface
                    .clone()
                    .or_else(|| self.default_interface.clone())
                    .unwrap_or_default()],
            })
            .collect();
        let public = PublicAddressesFile::from_entries(&vips).map_err(gen("public_addresses"))?;
        let tunables = TunablesFile::from_values(&[
            ("KeepaliveInterval", self.tuning.keepalive_interval),
            ("KeepaliveLimit", self.tuning.keepalive_limit),
            ("RerecoveryTimeout", self.tuning.rerecovery_timeout),
        ])
        .map_err(gen("ctdb.tunables"))?;
        Ok(CtdbFiles {
            ctdb_conf: conf.to_string(),
            nodes: nodes.to_string(),
            public_addresses: public.to_string(),
            tunables: tunables.to_string(),
            warnings,
        })
    }
}

/// Where [`ANNOUNCE_SCRIPT`] goes, below the CTDB configuration directory
/// (legacy event scripts run when executable).
pub const ANNOUNCE_SCRIPT_PATH: &str = "events/legacy/95.pve-smbgw.script";

/// The event script: on `ipreallocated` (after every reallocation, on every
/// node), send a gratuitous ARP for each floating address this node holds;
/// on `takeip`/`releaseip`, log a `failover` event (tag `pve-smbgw`).
pub const ANNOUNCE_SCRIPT: &str = r#"#!/bin/sh
# Managed by pve-smbgateway: changes are overwritten.
# After every reallocation of the floating addresses, announce the ones
# this node holds again (gratuitous ARP), so that clients that resolved an
# address to a node that has just released it (a healed partition) move
# on at once instead of after their ARP entry expires.
case "$1" in
takeip|releaseip)
	# Failover events for the administrator: $2 interface, $3 address.
	# To the journal with fields where journald runs, else to syslog.
	msg="event=failover action=$1 address=$3 interface=$2"
	printf 'MESSAGE=%s\nSYSLOG_IDENTIFIER=pve-smbgw\nPRIORITY=5\nSMBGW_EVENT=failover\nSMBGW_ACTION=%s\nSMBGW_ADDRESS=%s\nSMBGW_INTERFACE=%s\n' \
		"$msg" "$1" "$3" "$2" | logger --journald 2>/dev/null ||
		logger -t pve-smbgw -p daemon.notice "$msg" 2>/dev/null || true
	exit 0 ;;
ipreallocated) ;;
*) exit 0 ;;
esac
pnn=$(ctdb pnn) || exit 0
ctdb -X ip -v | while IFS='|' read -r _ ip node active _; do
	[ "$node" = "$pnn" ] && [ -n "$active" ] || continue
	ctdb gratarp "$ip" "$active" >/dev/null 2>&1 || true
done
exit 0
"#;

/// The `[global]` parameters clustered Samba needs on every node:
/// `clustering = yes` (smbd keeps its databases in CTDB, reached through
/// the default `ctdbd socket`) and one `netbios name` for all nodes, since
/// clients see one server behind the floating addresses.
pub fn samba_globals(netbios_name: &str) -> Vec<(&'static str, String)> {
    vec![
        ("clustering", "yes".into()),
        ("netbios name", netbios_name.to_string()),
    ]
}

/// Waits until this node's ctdbd has finished its first recovery, that is
/// until `ctdb runstate startup running` succeeds, asking every `pause`.
///
/// A clustered smbd (`clustering = yes`) exits when it cannot reach its
/// node's ctdbd (observed: "clustering=yes but ctdbd connect failed") and,
/// by Samba's `ctdbd_conn.c`, when its node is not active; at boot,
/// smbd.service and ctdb.service start side by side. CTDB's own 50.samba
/// script starts smbd from this same point (the `startup` event).
/// Returns how long it waited; after `within`, what ctdb last said.
pub fn wait_ready<R: Runner + ?Sized>(
    r: &R,
    within: Duration,
    pause: Duration,
) -> Result<Duration, CtdbSpecError> {
    let t0 = Instant::now();
    let cmd = Cmd::new("ctdb").args(["runstate", "startup", "running"]);
    loop {
        let last = match r.run(&cmd) {
            Ok(_) => return Ok(t0.elapsed()),
            Err(runner::RunError::Failed { stdout, stderr, .. }) => {
                let text = format!("{} {}", stdout.trim(), stderr.trim());
                text.trim().to_string()
            }
            Err(e) => e.to_string(),
        };
        if t0.elapsed() + pause > within {
            return Err(CtdbSpecError::Cluster(format!(
                "this node's ctdbd has not finished its first recovery after {within:?} (ctdb runstate: {last}); \
                 check `ctdb status` and that ctdb.service runs"
            )));
        }
        std::thread::sleep(pause);
    }
}

/// One node as `ctdb -X status` reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NodeState {
    /// The node's number.
    pub pnn: u32,
    /// Its cluster address.
    pub address: IpAddr,
    /// Flags that are set (`disconnected`, `banned`, `unhealthy`, …).
    pub flags: Vec<String>,
    /// Whether this is the node that answered.
    pub this_node: bool,
}

impl NodeState {
    /// Healthy and serving: no flag set.
    pub fn ok(&self) -> bool {
        self.flags.is_empty()
    }
}

/// Reads `ctdb -X status` (4.17: `|Node|IP|Disconnected|Unknown|Banned|
/// Disabled|Unhealthy|Stopped|Inactive|PartiallyOnline|ThisNode|`).
pub fn parse_status(text: &str) -> Result<Vec<NodeState>, CtdbSpecError> {
    let bad = |line: &str, why: &str| {
        CtdbSpecError::Cluster(format!("cannot read `ctdb -X status` line `{line}`: {why}"))
    };
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next().ok_or_else(|| bad("", "the output is empty"))?;
    let cols: Vec<&str> = header.trim().trim_matches('|').split('|').collect();
    if cols.first() != Some(&"Node")
        || cols.get(1) != Some(&"IP")
        || cols.last() != Some(&"ThisNode")
    {
        return Err(bad(header, "unexpected header"));
    }
    let mut out = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.trim().trim_matches('|').split('|').collect();
        if f.len() != cols.len() {
            return Err(bad(line, "wrong number of fields"));
        }
        let pnn = f[0].parse().map_err(|_| bad(line, "node number"))?;
        let address = f[1].parse().map_err(|_| bad(line, "address"))?;
        let mut flags = Vec::new();
        for (name, v) in cols[2..cols.len() - 1].iter().zip(&f[2..f.len() - 1]) {
            match *v {
                "0" => {}
                "1" => flags.push(name.to_ascii_lowercase()),
                _ => return Err(bad(line, "flag is not 0 or 1")),
            }
        }
        let this_node = match f[f.len() - 1] {
            "Y" => true,
            "N" => false,
            _ => return Err(bad(line, "ThisNode is not Y or N")),
        };
        out.push(NodeState {
            pnn,
            address,
            flags,
            this_node,
        });
    }
    Ok(out)
}

/// Which node holds each floating address, from `ctdb -X ip all`
/// (`|Public IP|Node|`; node -1 means nobody).
pub fn parse_ips(text: &str) -> Result<Vec<(IpAddr, Option<u32>)>, CtdbSpecError> {
    let bad =
        |line: &str| CtdbSpecError::Cluster(format!("cannot read `ctdb -X ip` line `{line}`"));
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    match lines.next() {
        Some(h) if h.trim().starts_with("|Public IP|Node|") => {}
        Some(h) => return Err(bad(h)),
        None => return Ok(Vec::new()),
    }
    lines
        .map(|line| {
            let f: Vec<&str> = line.trim().trim_matches('|').split('|').collect();
            if f.len() < 2 {
                return Err(bad(line));
            }
            let ip = f[0].parse().map_err(|_| bad(line))?;
            let node = match f[1] {
                "-1" => None,
                n => Some(n.parse().map_err(|_| bad(line))?),
            };
            Ok((ip, node))
        })
        .collect()
}

/// How many nodes `ctdb -X status` shows connected, and how many there
/// are (deleted nodes are not listed by ctdb).
pub fn connected(nodes: &[NodeState]) -> (usize, usize) {
    let up = nodes
        .iter()
        .filter(|n| !n.flags.iter().any(|f| f == "disconnected"))
        .count();
    (up, nodes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(lock: &str) -> ClusterSpec {
        ClusterSpec {
            nodes: vec![
                "10.99.0.1".parse().unwrap(),
                "10.99.0.2".parse().unwrap(),
                "10.99.0.3".parse().unwrap(),
            ],
            vips: vec!["10.99.0.100/24@eth0".parse().unwrap()],
            default_interface: None,
            lock: lock.parse().unwrap(),
            tuning: Tuning::fast(),
        }
    }

    #[test]
    fn vip_forms() {
        let v: Vip = "192.168.1.50/24@vmbr0".parse().unwrap();
        assert_eq!(v.to_string(), "192.168.1.50/24@vmbr0");
        assert_eq!("fd00::5/64".parse::<Vip>().unwrap().interface, None);
        for (bad, needle) in [
            ("192.168.1.50", "prefix length too"),
            ("192.168.1.50/33", "1 to 32"),
            ("192.168.1.50/0", "1 to 32"),
            ("192.168.1.50/+24", "1 to 32"),
            ("10.0.0.5/24@-x", "must not start"),
            ("fd00::5/129", "1 to 128"),
            ("192.168.1.0/24", "network address"),
            ("192.168.1.255/24", "broadcast address"),
            ("127.0.0.5/8", "loopback"),
            ("300.1.1.1/24", "not an IPv4"),
            ("10.0.0.5/24@", "1 to 15"),
            ("10.0.0.5/24@a b", "white space"),
            ("10.0.0.5/24\n", "control character"),
            ("10.0.0.5/24@eth0:1", "contains ':'"),
            ("10.0.0.5/24@averyverylongname0", "1 to 15"),
        ] {
            let e = bad.parse::<Vip>().unwrap_err().to_string();
            assert!(e.contains(needle), "{bad}: {e}");
        }
        // /31 and /32 have no network or broadcast address.
        assert!("10.0.0.0/31@eth0".parse::<Vip>().is_ok());
        assert!("10.0.0.7/32@eth0".parse::<Vip>().is_ok());
    }

    #[test]
    fn lock_forms() {
        for text in [
            "quorum:/mnt/pve/cephfs/.ctdb.lock",
            "fcntl:/srv/shared/.lock",
            "rados:ctdb/reclock@client.smbgw:8",
            "none",
        ] {
            let l: LockMethod = text.parse().unwrap();
            assert_eq!(l.to_string(), text);
        }
        assert_eq!(
            "rados:pool/obj".parse::<LockMethod>().unwrap().to_string(),
            "rados:pool/obj@client.admin:10"
        );
        for (bad, needle) in [
            ("quorum:relative", "absolute"),
            ("fcntl:/a b", "without spaces"),
            ("rados:pool", "POOL/OBJECT"),
            ("rados:p/o:0", "1 to 600"),
            ("etcd:/x", "use quorum:FILE"),
            ("", "use quorum:FILE"),
        ] {
            let e = bad.parse::<LockMethod>().unwrap_err().to_string();
            assert!(e.contains(needle), "{bad}: {e}");
        }
    }

    #[test]
    fn cluster_rules() {
        let mut s = spec("quorum:/srv/lock");
        assert!(s.validate().unwrap().is_empty());
        s.nodes.truncate(2);
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("at least three"));
        s.lock = "fcntl:/srv/lock".parse().unwrap();
        assert!(s.validate().unwrap()[0].contains("fcntl cluster lock"));
        s.lock = LockMethod::None;
        assert!(s.validate().unwrap()[0].contains("split brain"));
        s.nodes.truncate(1);
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("at least two"));

        let mut s = spec("none");
        s.nodes.push("10.99.0.1".parse().unwrap());
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("listed twice"));
        let mut s = spec("none");
        s.vips.push("10.99.0.2/24@eth0".parse().unwrap());
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("also a node address"));
        let mut s = spec("none");
        s.vips = vec!["10.99.0.100/24".parse().unwrap()];
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("which interface"));
        s.default_interface = Some("eth1".into());
        assert!(s.validate().is_ok());
        let mut s = spec("none");
        s.vips.clear();
        assert!(s.validate().unwrap_err().to_string().contains("--vip"));
    }

    #[test]
    fn renders_every_file() {
        let s = spec("quorum:/srv/shared/.ctdb.lock");
        let f = s
            .render(
                "10.99.0.2".parse().unwrap(),
                Path::new("/usr/bin/pve-smbgateway"),
                LogLocation::Syslog(None),
            )
            .unwrap();
        assert!(
            f.ctdb_conf.contains("node address = 10.99.0.2"),
            "{}",
            f.ctdb_conf
        );
        assert!(
            f.ctdb_conf.contains(
                "cluster lock = !/usr/bin/pve-smbgateway ctdb lock-helper /srv/shared/.ctdb.lock"
            ),
            "{}",
            f.ctdb_conf
        );
        assert!(
            f.ctdb_conf.contains("leader timeout = 2"),
            "{}",
            f.ctdb_conf
        );
        assert_eq!(f.nodes, "10.99.0.1\n10.99.0.2\n10.99.0.3\n");
        assert_eq!(f.public_addresses, "10.99.0.100/24 eth0\n");
        assert!(f.tunables.contains("KeepaliveInterval=1"), "{}", f.tunables);
        assert!(f.tunables.contains("KeepaliveLimit=3"), "{}", f.tunables);
        assert!(f.tunables.contains("RerecoveryTimeout=3"), "{}", f.tunables);
        // Round trip through the parsers.
        let (c, d) = smbconf::ctdb::CtdbConf::parse(&f.ctdb_conf);
        assert!(d.is_empty(), "{d:?}");
        let v = c.validate();
        assert!(v.ctdb_accepts());
        assert_eq!(v.node_address(), Some("10.99.0.2".parse().unwrap()));

        let e = s
            .render(
                "10.99.0.9".parse().unwrap(),
                Path::new("/usr/bin/pve-smbgateway"),
                LogLocation::Syslog(None),
            )
            .unwrap_err();
        assert!(
            e.to_string().contains("not one of the cluster's nodes"),
            "{e}"
        );
        let e = s
            .render(
                "10.99.0.1".parse().unwrap(),
                Path::new("pve-smbgateway"),
                LogLocation::Syslog(None),
            )
            .unwrap_err();
        assert!(e.to_string().contains("absolute"), "{e}");

        let r = spec("rados:rbd/ctdb-lock");
        let lock = r.cluster_lock(Path::new("/x")).unwrap().to_string();
        assert_eq!(
            lock,
            "!/usr/libexec/ctdb/ctdb_mutex_ceph_rados_helper ceph client.admin rbd ctdb-lock 10"
        );
        assert!(spec("none").cluster_lock(Path::new("/x")).is_none());
    }

    // Captured from ctdb 4.17.12 (three nodes in network namespaces).
    const STATUS: &str = "|Node|IP|Disconnected|Unknown|Banned|Disabled|Unhealthy|Stopped|Inactive|PartiallyOnline|ThisNode|
|0|10.99.0.1|1|0|0|0|1|0|1|0|N|
|1|10.99.0.2|0|0|0|0|0|0|0|0|N|
|2|10.99.0.3|0|0|0|0|0|0|0|0|Y|
";

    #[test]
    fn reads_status_and_ips() {
        let n = parse_status(STATUS).unwrap();
        assert_eq!(n.len(), 3);
        assert_eq!(n[0].flags, ["disconnected", "unhealthy", "inactive"]);
        assert!(!n[0].ok() && n[1].ok() && n[2].this_node);
        assert_eq!(connected(&n), (2, 3));
        assert!(parse_status("").is_err());
        assert!(parse_status("|Node|IP|ThisNode|\n|x|10.0.0.1|Y|\n").is_err());
        assert!(parse_status(&STATUS.replace("|Y|", "|Q|")).is_err());

        let ips = parse_ips("|Public IP|Node|\n|10.99.0.100|1|\n|10.99.0.101|-1|\n").unwrap();
        assert_eq!(
            ips,
            vec![
                ("10.99.0.100".parse().unwrap(), Some(1)),
                ("10.99.0.101".parse().unwrap(), None)
            ]
        );
        assert!(parse_ips("|Public IP|Node|\n|nope|1|\n").is_err());
    }

    #[test]
    fn wait_ready_asks_runstate_until_the_first_recovery_is_done() {
        use runner::{RecordingRunner, Reply};
        let r = RecordingRunner::new();
        r.push_reply(Reply::fail(1, "connect() failed, errno=2"));
        r.push_reply(Reply::fail(
            1,
            "CTDB not in required run state (got FIRST_RECOVERY)",
        ));
        r.push_reply(Reply::ok("STARTUP\n"));
        let p = Duration::from_millis(1);
        wait_ready(&r, Duration::from_secs(5), p).unwrap();
        let cmds = r.commands();
        assert_eq!(cmds.len(), 3);
        assert_eq!(cmds[0].to_string(), "ctdb runstate startup running");
        assert!(r.unused_replies().is_empty());

        // Never ready: the error says how long and what ctdb last said.
        let r = RecordingRunner::new();
        for _ in 0..100 {
            r.push_reply(Reply::fail(
                1,
                "CTDB not in required run state (got FIRST_RECOVERY)",
            ));
        }
        let e = wait_ready(&r, Duration::from_millis(30), Duration::from_millis(10))
            .unwrap_err()
            .to_string();
        assert!(e.contains("after 30ms"), "{e}");
        assert!(e.contains("got FIRST_RECOVERY"), "{e}");
        assert!(e.contains("ctdb status"), "{e}");
        // Asked at 0, 10, 20 and 30 ms at most (once, when the machine
        // stalls the first ask past 20 ms).
        let asked = r.commands().len();
        assert!((1..=4).contains(&asked), "{asked}");
    }
}
