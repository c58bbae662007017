//! The operations every frontend uses: create, delete, list, show, status,
//! apply, and SMB users.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use backends::{
    Backend, CephClient, CephFsBackend, DirBackend, FuseLoopMap, KernelMap, Quota, RbdBackend,
    Usage, UsageScope, Volume, ZfsBackend,
};
use provision::{
    plan_create, plan_create_lxc, plan_delete, plan_delete_lxc, ContainerConfig, ContainerDriver,
    ContainerRequest, Context, CreateRequest, CtState, Executor, Fault, LxcDriver, NativeSamba,
    Network, Op, PctDriver, Plan, Progress, Registrar, RegistrarError, ShareConf, SmbUsers,
};
use runner::{Cmd, Runner};
use serde::Serialize;

use crate::container::{ContainerSpec, CtDriver};
use crate::error::{Error, Result};
use crate::registry::{Registry, ShareRecord, ShareState};
use crate::spec::{
    BackendSpec, CephClientSpec, Identity, Mode, RbdMap, ShareId, ShareSpec, Signing,
};

/// The system group owning the volumes the gateway creates; shares on
/// them use `force group` so that every allowed user can write.
pub const SHARE_GROUP: &str = "smbgw";

/// The directory under an RBD mount base where the `fuse` mapping mounts
/// rbd-fuse (`<base>/.rbd-fuse/<pool>.<image>`).
pub const RBD_FUSE_DIR: &str = ".rbd-fuse";

fn ceph_client(c: &CephClientSpec) -> CephClient {
    CephClient {
        conf: c.conf.clone(),
        id: c.id.clone(),
    }
}

/// Where the gateway keeps its files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paths {
    /// The share registry (SectionConfig).
    pub registry: PathBuf,
    /// Journals and locks.
    pub state_dir: PathBuf,
    /// Samba (native mode).
    pub samba: NativeSamba,
    /// Plain LXC's container directory and the gateway's template (LXC
    /// mode without Proxmox).
    pub lxc: LxcDriver,
    /// Proxmox: the storage holding container templates.
    pub pct_template_storage: String,
    /// CTDB's configuration directory (native shares with a floating
    /// address).
    pub ctdb_dir: PathBuf,
}

impl Paths {
    /// The defaults on a host: [`Registry::default_path`],
    /// `/var/lib/pve-smbgateway`, the host's Samba.
    pub fn system() -> Paths {
        Paths {
            registry: Registry::default_path(),
            state_dir: PathBuf::from("/var/lib/pve-smbgateway"),
            samba: NativeSamba::host(),
            lxc: LxcDriver::system(),
            pct_template_storage: "local".into(),
            ctdb_dir: PathBuf::from(smbconf::ctdb::CTDB_DEFAULT_ETC_DIR),
        }
    }

    /// Everything under one directory, with a private smbd on
    /// 127.0.0.1:`port`: `root/shares.cfg`, `root/state`, `root/samba`,
    /// plain LXC containers in `root/lxc` (the template stays the
    /// system's, built once). For trying the gateway out and for tests.
    pub fn sandbox(root: &Path, port: u16) -> Paths {
        Paths {
            registry: root.join("shares.cfg"),
            state_dir: root.join("state"),
            samba: NativeSamba::private(root.join("samba"), port),
            lxc: LxcDriver::new(root.join("lxc"), LxcDriver::system().template),
            pct_template_storage: "local".into(),
            ctdb_dir: root.join("ctdb"),
        }
    }
}

/// The gateway: registry + executor + Samba, with the tools run through
/// one [`Runner`].
pub struct Gateway {
    paths: Paths,
    registry: Registry,
    pub(crate) runner: Arc<dyn Runner>,
    fault: Option<Fault>,
    /// The gid of [`SHARE_GROUP`] once known (it never changes once the
    /// group exists; a missing group is asked again).
    share_gid: std::sync::OnceLock<u32>,
    /// The password for joining or leaving an AD domain, for this run.
    domain_password: Option<runner::Secret>,
}

/// A share's usage, as reported by `status`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UsageReport {
    /// Bytes used.
    pub used: u64,
    /// Bytes available to writers.
    pub available: u64,
    /// The limit (quota or filesystem size), if known.
    pub total: Option<u64>,
    /// `volume` or `filesystem` (a directory share's cheap usage covers its
    /// whole filesystem).
    pub scope: &'static str,
}

impl From<Usage> for UsageReport {
    fn from(u: Usage) -> Self {
        UsageReport {
            used: u.used,
            available: u.available,
            total: u.total,
            scope: match u.scope {
                UsageScope::Volume => "volume",
                UsageScope::Filesystem => "filesystem",
            },
        }
    }
}

/// What `status` reports for one share.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ShareStatus {
    /// The share.
    pub id: String,
    /// Where it runs.
    pub mode: &'static str,
    /// smbd runs, the share's section is in the managed include file, and
    /// its volume is where the registry says.
    pub served: bool,
    /// smbd is running.
    pub smbd_running: bool,
    /// The section is in the managed include file.
    pub configured: bool,
    /// The section matches the registry exactly.
    pub config_current: bool,
    /// The host path served.
    pub path: PathBuf,
    /// The volume exists at that path.
    pub volume_present: bool,
    /// Usage (cheap: one statvfs).
    pub usage: Option<UsageReport>,
    /// Tree connects to the share.
    pub connections: Option<usize>,
    /// Users connected.
    pub users: Vec<String>,
    /// Files open through the share.
    pub open_files: Option<usize>,
    /// An interrupted operation (`create` or `delete`) waiting for a
    /// re-run or `apply`.
    pub interrupted: Option<String>,
    /// What is wrong, and what to do.
    pub problems: Vec<String>,
    /// Settings of the host's Samba that weaken the share (native mode on
    /// the host; the gateway does not change the administrator's globals).
    pub warnings: Vec<String>,
}

/// One thing `apply` did (or found).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApplyAction {
    /// The share.
    pub share: String,
    /// What happened.
    pub action: String,
}

struct RegistryRecorder<'a> {
    registry: &'a Registry,
    spec: ShareSpec,
    created_volume: bool,
    /// The record to put back when a delete is undone (exactly as it was).
    original: Option<ShareRecord>,
}

impl Registrar for RegistryRecorder<'_> {
    fn register(&self, volume: &Volume) -> std::result::Result<(), RegistrarError> {
        let record = match &self.original {
            Some(rec) => rec.clone(),
            None => ShareRecord {
                spec: self.spec.clone(),
                state: ShareState {
                    volume_id: volume.id.clone(),
                    path: volume.path.clone(),
                    created_volume: self.created_volume,
                    created_users: Vec::new(),
                    created_at: SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs()),
                },
            },
        };
        self.registry.update(|shares| {
            shares.remove(&self.spec.id);
            shares.insert(record)
        })?;
        Ok(())
    }

    fn unregister(&self) -> std::result::Result<(), RegistrarError> {
        self.registry.update(|shares| {
            shares.remove(&self.spec.id);
            Ok(())
        })?;
        Ok(())
    }
}

impl Gateway {
    /// A gateway using `paths`, running tools through `runner`.
    pub fn new(paths: Paths, runner: Arc<dyn Runner>) -> Gateway {
        Gateway {
            registry: Registry::new(&paths.registry),
            paths,
            runner,
            fault: None,
            share_gid: std::sync::OnceLock::new(),
            domain_password: None,
        }
    }

    /// The password of the account that joins (create) or leaves
    /// (delete) an Active Directory domain in this run.
    pub fn with_domain_password(mut self, password: Option<runner::Secret>) -> Gateway {
        self.domain_password = password;
        self
    }

    /// Injects a fault into every plan run (testing hook).
    pub fn with_fault(mut self, fault: Option<Fault>) -> Gateway {
        self.fault = fault;
        self
    }

    /// The paths in use.
    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    /// The registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    fn executor(&self) -> Executor {
        Executor::new(&self.paths.state_dir).with_fault(self.fault)
    }

    /// The backend a spec names. Building it checks the names but runs
    /// nothing.
    pub fn backend(&self, spec: &BackendSpec) -> Result<Box<dyn Backend>> {
        let runner = self.runner.clone();
        let mount_dir = || spec.mount_dir().unwrap_or_default();
        match spec {
            BackendSpec::Dir { root } => Ok(Box::new(DirBackend::new(root))),
            BackendSpec::Zfs { parent } => Ok(Box::new(ZfsBackend::new(runner, parent)?)),
            BackendSpec::CephFs {
                fs, group, ceph, ..
            } => {
                let mut b = CephFsBackend::new(runner, ceph_client(ceph), fs, mount_dir())?;
                if let Some(g) = group {
                    b = b.with_group(g)?;
                }
                Ok(Box::new(b))
            }
            BackendSpec::Rbd {
                pool, map, ceph, ..
            } => {
                let base = mount_dir();
                let client = ceph_client(ceph);
                Ok(match map {
                    RbdMap::Krbd => {
                        Box::new(RbdBackend::new(runner, client, pool, base, KernelMap)?)
                    }
                    RbdMap::Fuse => {
                        // The rbd-fuse mounts live beside the images' mount
                        // points (a volume name never starts with `.`), so
                        // that they are visible wherever those are.
                        let fuse = FuseLoopMap::new(base.join(RBD_FUSE_DIR));
                        Box::new(RbdBackend::new(runner, client, pool, base, fuse)?)
                    }
                })
            }
        }
    }

    fn describe_backend(spec: &BackendSpec) -> String {
        let at = spec
            .mount_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default();
        match spec {
            BackendSpec::Dir { root } => format!("directory under {}", root.display()),
            BackendSpec::Zfs { parent } => format!("zfs dataset under {parent}"),
            BackendSpec::CephFs { fs, group, .. } => match group {
                Some(g) => format!("cephfs subvolume of {fs} in group {g}, mounted at {at}"),
                None => format!("cephfs subvolume of {fs}, mounted at {at}"),
            },
            BackendSpec::Rbd { pool, map, .. } => {
                format!("rbd image in pool {pool} with xfs, mapped by {map}, mounted under {at}")
            }
        }
    }

    fn share_conf(spec: &ShareSpec, created_volume: bool) -> ShareConf {
        let mut valid_users = Vec::new();
        match spec.identity.ad().and_then(|a| a.workgroup.as_deref()) {
            // Domain accounts: `DOMAIN\name`, `@DOMAIN\group`.
            Some(w) => {
                valid_users.extend(spec.access.users.iter().map(|u| format!("{w}\\{u}")));
                valid_users.extend(spec.access.groups.iter().map(|g| format!("@{w}\\{g}")));
            }
            None => {
                valid_users.extend(spec.access.users.iter().cloned());
                valid_users.extend(spec.access.groups.iter().map(|g| format!("@{g}")));
            }
        }
        ShareConf {
            name: spec.id.as_str().to_owned(),
            comment: spec.comment.clone(),
            read_only: spec.access.read_only,
            valid_users,
            encryption: spec.security.encryption.as_str().to_owned(),
            force_group: created_volume.then(|| SHARE_GROUP.to_owned()),
            nt_acls: spec.identity.ad().is_some() && spec.mode == Mode::Native,
            audit: spec.security.audit,
        }
    }

    /// Checks everything that can be checked before anything changes.
    fn check_create(&self, spec: &ShareSpec) -> Result<()> {
        spec.validate()?;
        if !spec.mode.is_implemented() {
            return Err(Error::ModeNotImplemented { mode: spec.mode });
        }
        if spec.mode == Mode::Native && spec.security.signing == Signing::Required {
            return Err(Error::NativeSigning);
        }
        if let Some(ha) = &spec.ha {
            if ha.enabled && spec.mode != Mode::Lxc {
                return Err(Error::Invalid {
                    field: "ha",
                    value: "1".into(),
                    reason: "Proxmox HA moves a share's container between nodes, so it applies to LXC-mode shares; a native share fails over with CTDB (--ctdb --vip)".into(),
                });
            }
            if ha.enabled && !matches!(spec.backend, BackendSpec::CephFs { .. }) {
                return Err(Error::Invalid {
                    field: "ha",
                    value: "1".into(),
                    reason: format!(
                        "the share's volume is bind-mounted into its container, and a {} volume is not at the same path on every node, so another node could not serve it after a failover; use the CephFS backend (mounted at /mnt/pve/<fs> on every node) for an HA share",
                        spec.backend.kind()
                    ),
                });
            }
            if let Some(vip) = &ha.vip {
                if spec.mode != Mode::Native {
                    return Err(Error::Invalid {
                        field: "vip",
                        value: vip.clone(),
                        reason: "a CTDB floating address is served by the clustered smbd of every node (native mode); an LXC-mode share fails over with Proxmox HA (--ha)".into(),
                    });
                }
                crate::ha::check_ctdb_node(&self.paths.ctdb_dir, self.paths.samba.conf(), vip)?;
            }
        }
        self.check_domain_neighbours(spec)?;
        // Builds (and so validates) the backend.
        self.backend(&spec.backend)?;
        // XFS refuses tiny filesystems; say so now rather than roll back.
        if let (BackendSpec::Rbd { .. }, Some(quota), false) =
            (&spec.backend, spec.quota, spec.volume.existing)
        {
            if let Some(minimum) = Quota::from_bytes(backends::rbd::MIN_QUOTA) {
                if quota < minimum {
                    return Err(backends::Error::QuotaTooSmall {
                        quota,
                        minimum,
                        backend: "rbd",
                    }
                    .into());
                }
            }
        }
        Ok(())
    }

    /// Native mode serves every share from one smbd, which is either a
    /// standalone server or a member of one domain: an AD share next to
    /// workgroup shares, or shares of two domains, are refused.
    fn check_domain_neighbours(&self, spec: &ShareSpec) -> Result<()> {
        if spec.mode != Mode::Native {
            return Ok(());
        }
        let realm = spec.identity.ad().map(|a| a.realm.as_str());
        for other in self.registry.load()? {
            if other.spec.mode != Mode::Native || other.spec.id == spec.id {
                continue;
            }
            let clash = match (other.spec.identity.ad(), realm) {
                (Some(o), Some(r)) if o.realm == r => None,
                (None, None) => None,
                (Some(o), _) => Some(format!("a member of {}", o.realm)),
                (None, Some(_)) => Some(format!(
                    "a standalone server (share `{}` uses local accounts)",
                    other.spec.id.as_str()
                )),
            };
            if let Some(now) = clash {
                return Err(Error::Invalid {
                    field: if realm.is_some() { "ad-domain" } else { "workgroup" },
                    value: realm.unwrap_or("(none)").to_owned(),
                    reason: format!(
                        "native mode serves every share from the host's one smbd, which is {now}; serve this share in LXC mode (its own container joins the domain), or delete the other native shares first"
                    ),
                });
            }
        }
        Ok(())
    }

    /// Checks the domain (DNS, a DC answering, the clocks) and learns
    /// its NetBIOS name; nothing changes. Native mode asks through the
    /// gateway's Samba configuration.
    fn resolve_domain(&self, spec: &ShareSpec) -> Result<ShareSpec> {
        let Some(ad) = spec.identity.ad() else {
            return Ok(spec.clone());
        };
        if self.paths.samba.private_instance().is_some() {
            self.paths.samba.prepare(self.runner.as_ref())?;
        }
        if spec.mode == Mode::Native {
            self.check_native_member(ad)?;
        }
        if spec.mode == Mode::Lxc {
            self.check_container_member(spec, ad)?;
        }
        let info =
            provision::domain::probe(self.runner.as_ref(), self.paths.samba.conf(), &ad.realm)?;
        let mut ad = ad.clone();
        ad.workgroup = Some(info.workgroup);
        if spec.mode == Mode::Lxc && ad.netbios_name.is_none() {
            let machine = std::fs::read_to_string("/etc/machine-id")
                .ok()
                .filter(|m| !m.trim().is_empty())
                .unwrap_or_else(|| {
                    rustix::system::uname()
                        .nodename()
                        .to_string_lossy()
                        .into_owned()
                });
            ad.netbios_name = Some(provision::domain::container_netbios_name(
                machine.trim(),
                spec.id.as_str(),
            ));
        }
        ad.validate()?;
        let mut spec = spec.clone();
        spec.identity = Identity::Ad(ad);
        Ok(spec)
    }

    /// Native mode joins the host's Samba: its NetBIOS name must fit a
    /// computer account, NSS must know winbind, and a membership the
    /// administrator set up (not the gateway's) is not taken over.
    fn check_native_member(&self, ad: &crate::spec::AdSpec) -> Result<()> {
        let runner = self.runner.as_ref();
        let samba = &self.paths.samba;
        provision::domain::check_nss()?;
        let param = |name: &str| -> Result<String> {
            let out = runner
                .run(
                    &runner::Cmd::new("testparm")
                        .args(["-s", "--suppress-prompt"])
                        .arg(format!("--parameter-name={name}"))
                        .arg(samba.conf().display().to_string()),
                )
                .map_err(provision::Error::from)?;
            Ok(out.stdout_str().trim().to_owned())
        };
        let nb = param("netbios name")?;
        if nb.len() > crate::spec::NETBIOS_NAME_MAX {
            return Err(Error::Invalid {
                field: "ad-domain",
                value: ad.realm.clone(),
                reason: format!(
                    "this host's NetBIOS name {nb:?} is longer than 15 characters, which a computer account cannot be; set `netbios name` (15 characters at most) in the [global] section of {}",
                    samba.conf().display()
                ),
            });
        }
        let ours = self
            .registry
            .load()?
            .iter()
            .any(|r| r.spec.mode == Mode::Native && r.spec.identity.ad().is_some());
        if !ours
            && samba.domain_globals()?.is_none()
            && param("security")?.eq_ignore_ascii_case("ads")
        {
            return Err(Error::Invalid {
                field: "ad-domain",
                value: ad.realm.clone(),
                reason: format!(
                    "this host's Samba is already a domain member (`security = ads` in {}), set up outside the gateway; the gateway does not take over a membership it did not make (its idmap would change your users' ids): serve this share in LXC mode, or remove that membership first",
                    samba.conf().display()
                ),
            });
        }
        Ok(())
    }

    /// An LXC domain member needs a network to reach the domain and a
    /// resolver it can use from inside.
    fn check_container_member(&self, spec: &ShareSpec, ad: &crate::spec::AdSpec) -> Result<()> {
        let c = spec.container.as_ref();
        if !c.is_some_and(|c| !matches!(c.network, provision::Network::None)) {
            return Err(Error::Invalid {
                field: "ad-domain",
                value: ad.realm.clone(),
                reason: "a share container joins the domain over its own network: give it one with --bridge (and --ip)".into(),
            });
        }
        if spec.ha.as_ref().is_some_and(|h| h.vip.is_some()) {
            return Err(Error::Invalid {
                field: "ad-domain",
                value: ad.realm.clone(),
                reason: "a clustered (CTDB) domain member is not implemented yet".into(),
            });
        }
        let resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        let servers: Vec<&str> = resolv
            .lines()
            .filter_map(|l| l.trim().strip_prefix("nameserver"))
            .map(str::trim)
            .collect();
        if servers.is_empty()
            || servers
                .iter()
                .all(|s| s.parse::<std::net::IpAddr>().is_ok_and(|a| a.is_loopback()))
        {
            return Err(Error::Invalid {
                field: "ad-domain",
                value: ad.realm.clone(),
                reason: "the share's container takes this host's /etc/resolv.conf, whose name servers are on loopback (a local stub resolver such as systemd-resolved) or missing, which the container cannot reach; list the domain's DNS servers in /etc/resolv.conf".into(),
            });
        }
        Ok(())
    }

    /// The membership a domain share needs, once its workgroup is known.
    fn membership(spec: &ShareSpec) -> Option<provision::domain::Membership> {
        let ad = spec.identity.ad()?;
        Some(provision::domain::Membership {
            realm: ad.realm.clone(),
            workgroup: ad.workgroup.clone()?,
            join_user: ad.join_user.clone(),
            ou: ad.ou.clone(),
            netbios_name: ad.netbios_name.clone(),
        })
    }

    /// Re-converges the native Samba's domain membership to the
    /// registry: the membership globals back in place (restored after a
    /// manual edit) and winbindd running. A lost join is reported: it
    /// needs the join password, so `create` (or `apply` cannot) redo it.
    fn apply_domain(&self) -> Result<Option<ApplyAction>> {
        let records = self.registry.load()?;
        let Some(rec) = records
            .iter()
            .find(|r| r.spec.mode == Mode::Native && r.spec.identity.ad().is_some())
        else {
            return Ok(None);
        };
        let Some(m) = Self::membership(&rec.spec) else {
            return Ok(None);
        };
        let runner = self.runner.as_ref();
        let samba = &self.paths.samba;
        let mut did = Vec::new();
        let want = m.globals(samba.system_keytab());
        if samba.domain_globals()?.as_deref() != Some(want.as_slice()) {
            samba.set_domain(runner, Some(&want))?;
            did.push("restored the domain settings");
        }
        if !provision::domain::joined(runner, samba.conf())? {
            return Ok(Some(ApplyAction {
                share: rec.spec.id.as_str().to_owned(),
                action: format!(
                    "this gateway is no longer joined to {}: join it again with `net ads join -U {}` (the gateway never stores the password)",
                    m.realm, m.join_user
                ),
            }));
        }
        samba.ensure_winbindd(runner, false)?;
        Ok((!did.is_empty()).then(|| ApplyAction {
            share: rec.spec.id.as_str().to_owned(),
            action: did.join(", "),
        }))
    }

    /// The host-wide lock of the native Samba's domain membership, for a
    /// native domain share (waits for another create or delete of one).
    fn domain_lock(&self, spec: &ShareSpec) -> Result<Option<provision::FileLock>> {
        if spec.mode != Mode::Native || spec.identity.ad().is_none() {
            return Ok(None);
        }
        let path = self.paths.state_dir.join("locks").join("domain.lock");
        Ok(Some(provision::FileLock::acquire(&path)?))
    }

    /// Whether another registered native share uses `realm`.
    fn realm_in_use(&self, realm: &str, except: &ShareId) -> Result<bool> {
        Ok(self.registry.load()?.iter().any(|r| {
            r.spec.id != *except
                && r.spec.mode == Mode::Native
                && r.spec.identity.ad().is_some_and(|a| a.realm == realm)
        }))
    }

    /// The plan `create` would run (validated; nothing changes).
    pub fn plan_create(&self, spec: &ShareSpec) -> Result<Plan> {
        Ok(self.plan_create_resolved(spec)?.0)
    }

    /// Fills in what `create` decides for an LXC-mode share: the driver
    /// (`pct` on a Proxmox node, else plain LXC) and the container id (the
    /// cluster's next free VMID, or `smbgw-<share>`).
    fn resolve_container(&self, spec: &ShareSpec) -> Result<ShareSpec> {
        if spec.mode != Mode::Lxc {
            return Ok(spec.clone());
        }
        let mut c = spec.container.clone().unwrap_or_default();
        if c.driver == CtDriver::Auto {
            c.driver = if on_path("pct") {
                CtDriver::Pct
            } else {
                CtDriver::Lxc
            };
        }
        let ha = spec.ha.as_ref().is_some_and(|h| h.enabled);
        if ha && c.driver != CtDriver::Pct {
            return Err(Error::Invalid {
                field: "ha",
                value: "1".into(),
                reason: "Proxmox HA needs a Proxmox VE node (the pct driver); plain LXC has no cluster manager to restart the container elsewhere".into(),
            });
        }
        if ha && c.storage.is_none() {
            return Err(Error::Invalid {
                field: "ct-storage",
                value: String::new(),
                reason: "an HA container's root filesystem must be on shared storage so that another node can start it; give --ct-storage (e.g. a Ceph RBD storage)".into(),
            });
        }
        match c.driver {
            CtDriver::Pct => {
                if matches!(c.network, Network::None) {
                    return Err(Error::Invalid {
                        field: "bridge",
                        value: String::new(),
                        reason: "a share container on Proxmox needs a network: give --bridge (the node's bridge, e.g. vmbr0) and --ip (ADDR/BITS or dhcp)".into(),
                    });
                }
                if !c.unprivileged {
                    return Err(Error::Invalid {
                        field: "privileged",
                        value: "1".into(),
                        reason: "on Proxmox, share containers are unprivileged (clones of the unprivileged gateway template); the volume's ownership is kept with an idmapped mount".into(),
                    });
                }
                if c.id.is_none() {
                    c.id = Some(provision::container::next_vmid(self.runner.as_ref())?);
                }
            }
            _ => {
                if !on_path("lxc-start") {
                    return Err(Error::Provision(provision::Error::Container {
                        id: String::new(),
                        problem: "LXC mode needs `pct` (Proxmox) or LXC: install package lxc (`apt install lxc debootstrap`), or create the share with --mode native".into(),
                    }));
                }
                c.id.get_or_insert_with(|| ContainerSpec::hostname(&spec.id));
            }
        }
        c.validate()?;
        let mut s = spec.clone();
        s.container = Some(c);
        Ok(s)
    }

    /// The container of a (resolved) LXC-mode spec.
    pub(crate) fn container_config(spec: &ShareSpec) -> Option<ContainerConfig> {
        let c = spec.container.as_ref()?;
        Some(ContainerConfig {
            id: c.id.clone()?,
            hostname: ContainerSpec::hostname(&spec.id),
            memory_mb: c.memory_mb,
            swap_mb: c.swap_mb,
            cores: c.cores,
            unprivileged: c.unprivileged,
            network: c.network.clone(),
            mount_point: provision::container::share_mount_point(spec.id.as_str()),
            shared: matches!(spec.backend, BackendSpec::CephFs { .. }),
            rootfs_storage: c.storage.clone(),
            rootfs_gib: 2,
            domain_member: spec.identity.ad().is_some(),
            audit: spec.security.audit,
        })
    }

    /// The driver running an LXC-mode share's container.
    pub(crate) fn container_driver(&self, spec: &ShareSpec) -> Option<Box<dyn ContainerDriver>> {
        let c = spec.container.as_ref().filter(|_| spec.mode == Mode::Lxc)?;
        Some(match c.driver {
            CtDriver::Pct => Box::new(PctDriver {
                template_storage: self.paths.pct_template_storage.clone(),
                rootfs_storage: c.storage.clone().unwrap_or_else(|| "local".into()),
                template_network: c.network.clone(),
            }),
            _ => Box::new(self.paths.lxc.clone()),
        })
    }

    fn plan_create_resolved(&self, spec: &ShareSpec) -> Result<(Plan, ShareSpec)> {
        self.check_create(spec)?;
        let spec = &self.resolve_container(spec)?;
        // A re-run of an interrupted create keeps what it journalled (the
        // domain's NetBIOS name among it).
        let journalled: Option<ShareSpec> = self
            .executor()
            .pending(spec.id.as_str())
            .ok()
            .flatten()
            .filter(|j| j.plan.op == provision::Op::Create)
            .and_then(|j| serde_json::from_value(j.plan.context).ok());
        let spec = &match journalled {
            Some(j) if j.identity.ad().is_some() && spec.identity.ad().is_some() => {
                let mut s = spec.clone();
                s.identity = j.identity;
                s
            }
            _ => self.resolve_domain(spec)?,
        };
        // An existing volume must exist now (refused before anything
        // changes otherwise); one the gateway prepared earlier (its root
        // owned by the gateway's group) is served like a new one.
        let gateway_owned = if spec.volume.existing {
            let backend = self.backend(&spec.backend)?;
            let vol = backend.adopt(&spec.volume.name)?;
            self.owned_by_gateway(&vol.path)
        } else {
            true
        };
        let req = CreateRequest {
            share: Self::share_conf(spec, gateway_owned),
            volume: spec.volume.name.as_str().to_owned(),
            existing: spec.volume.existing,
            quota: spec.quota.map(|q| q.to_string()),
            quota_unenforced: spec.quota_unenforced_ok,
            group: SHARE_GROUP.to_owned(),
        };
        let backend = Self::describe_backend(&spec.backend);
        let mut plan = match (Self::container_config(spec), self.container_driver(spec)) {
            (Some(ct), Some(driver)) => {
                let membership = Self::membership(spec);
                if spec.security.audit && driver.kind() == "pct" {
                    return Err(Error::Invalid {
                        field: "audit",
                        value: "1".into(),
                        reason: "the audit log goes to the host's syslog through its /dev/log, which a Proxmox container cannot mount; audit a share in native mode (or with --ct-driver lxc) for now".into(),
                    });
                }
                if membership.is_some() && driver.kind() == "pct" {
                    return Err(Error::Invalid {
                        field: "ad-domain",
                        value: spec.identity.ad().map(|a| a.realm.clone()).unwrap_or_default(),
                        reason: "a domain member's container maps winbind's id ranges (2000000-3099999) through unchanged, a custom lxc.idmap that `pct` cannot set; on Proxmox serve a domain share in native mode for now".into(),
                    });
                }
                // Domain accounts come from the domain (winbind), not
                // from the host: only the gateway's group is copied.
                let (users, mut groups) = if membership.is_some() {
                    (Vec::new(), Vec::new())
                } else {
                    (spec.access.users.clone(), spec.access.groups.clone())
                };
                if gateway_owned {
                    groups.push(SHARE_GROUP.to_owned());
                }
                let workgroup = spec.identity.workgroup_name().unwrap_or("WORKGROUP");
                let lxc = ContainerRequest {
                    ct,
                    users,
                    groups,
                    workgroup: workgroup.to_owned(),
                    signing_required: spec.security.signing == Signing::Required,
                    membership,
                };
                let mut plan = plan_create_lxc(&req, &lxc, &backend, &driver.describe());
                if spec.ha.as_ref().is_some_and(|h| h.enabled) {
                    // A re-run of an interrupted create keeps the placement
                    // it journalled (free memory has moved since), so that
                    // it resumes instead of being refused as another plan.
                    let journalled = self
                        .executor()
                        .pending(spec.id.as_str())
                        .ok()
                        .flatten()
                        .filter(|j| j.plan.op == provision::Op::Create)
                        .and_then(|j| {
                            j.plan.steps.into_iter().find_map(|s| match s {
                                provision::Step::EnsureHa { nodes, .. } => Some(nodes),
                                _ => None,
                            })
                        });
                    let nodes = match journalled {
                        Some(n) => n,
                        None => {
                            let c = spec.container.as_ref();
                            crate::ha::place_container(
                                self.runner.as_ref(),
                                c.and_then(|c| c.storage.as_deref()).unwrap_or_default(),
                                c.map_or(0, |c| c.memory_mb),
                                &crate::ha::local_node(),
                            )?
                        }
                    };
                    // Before the registry records the share: a failure
                    // rolls everything back.
                    let at = plan.steps.len() - 1;
                    plan.steps.insert(
                        at,
                        provision::Step::EnsureHa {
                            id: lxc.ct.id.clone(),
                            share: spec.id.as_str().to_owned(),
                            nodes,
                        },
                    );
                }
                plan
            }
            _ => {
                let mut plan = plan_create(&req, &backend, &self.paths.samba.describe());
                if let Some(m) = Self::membership(spec) {
                    // After PrepareSamba, before the share is served.
                    let first = !self.realm_in_use(&m.realm, &spec.id)?;
                    plan.steps.insert(
                        1,
                        provision::Step::JoinDomain {
                            membership: m,
                            first,
                        },
                    );
                }
                plan
            }
        };
        plan.context = serde_json::to_value(spec).map_err(|e| Error::JournalSpec {
            id: spec.id.as_str().to_owned(),
            reason: e.to_string(),
        })?;
        Ok((plan, spec.clone()))
    }

    /// Creates and serves a share. Bad input is refused before anything
    /// changes; a failure half-way is rolled back; re-running a create
    /// that was interrupted resumes it.
    pub fn create(&self, spec: &ShareSpec, progress: Progress<'_>) -> Result<ShareRecord> {
        // Whether this share joins or the domain is joined already is
        // decided from the registry: hold the domain lock from the plan to
        // the end, so that two native creates never both join, and a
        // delete never leaves under a new share.
        let _domain = self.domain_lock(spec)?;
        let (plan, spec) = self.plan_create_resolved(spec)?;
        let spec = &spec;
        let exec = self.executor();
        let _lock = exec.lock_share(spec.id.as_str())?;
        if self.registry.get(&spec.id)?.is_some() {
            return Err(Error::ShareExists {
                id: spec.id.as_str().to_owned(),
            });
        }
        self.check_accounts(spec)?;
        self.with_context(spec, !spec.volume.existing, None, |ctx| {
            Ok(exec.run(&plan, ctx, progress)?)
        })?;
        self.registry
            .get(&spec.id)?
            .ok_or_else(|| Error::NoSuchShare {
                id: spec.id.as_str().to_owned(),
            })
    }

    /// Whether the gateway prepared this volume (its root belongs to the
    /// gateway's group): then shares force that group, so that every
    /// allowed user can write.
    fn owned_by_gateway(&self, path: &Path) -> bool {
        let gid = match self.share_gid.get() {
            Some(&g) => g,
            None => match provision::group_gid(self.runner.as_ref(), SHARE_GROUP) {
                Ok(Some(g)) => *self.share_gid.get_or_init(|| g),
                _ => return false,
            },
        };
        std::fs::metadata(path).map(|m| m.gid()).ok() == Some(gid)
    }

    /// Runs `f` with a step context for `spec`: its backend, Samba, the
    /// runner, and a registrar recording `spec` (or putting `original`
    /// back when a delete is undone).
    fn with_context<T>(
        &self,
        spec: &ShareSpec,
        created_volume: bool,
        original: Option<&ShareRecord>,
        f: impl FnOnce(&Context<'_>) -> Result<T>,
    ) -> Result<T> {
        let backend = self.backend(&spec.backend)?;
        let recorder = RegistryRecorder {
            registry: &self.registry,
            spec: spec.clone(),
            created_volume,
            original: original.cloned(),
        };
        let driver = self.container_driver(spec);
        let ctx = Context {
            backend: backend.as_ref(),
            samba: &self.paths.samba,
            runner: self.runner.as_ref(),
            registrar: &recorder,
            containers: driver.as_deref(),
            ha: spec
                .ha
                .as_ref()
                .filter(|h| h.enabled)
                .map(|_| &crate::ha::PveHa as &dyn provision::HaManager),
            domain_password: self.domain_password.as_ref(),
        };
        f(&ctx)
    }

    /// Users must have an SMB password and groups must exist before a
    /// share names them.
    fn check_accounts(&self, spec: &ShareSpec) -> Result<()> {
        // Domain accounts are the domain's: winbind resolves them once
        // the gateway is joined.
        if spec.access.users.is_empty() && spec.access.groups.is_empty()
            || spec.identity.ad().is_some()
        {
            return Ok(());
        }
        let known = if spec.access.users.is_empty() {
            Vec::new()
        } else {
            // The private instance keeps its passdb under its directory,
            // which `prepare` creates.
            if self.paths.samba.private_instance().is_some() {
                self.paths.samba.prepare(self.runner.as_ref())?;
            }
            SmbUsers::new(&self.paths.samba, self.runner.as_ref()).list()?
        };
        for u in &spec.access.users {
            if !known.iter().any(|k| k == u) {
                return Err(Error::Provision(provision::Error::NoSuchUser(u.clone())));
            }
        }
        for g in &spec.access.groups {
            if provision::group_gid(self.runner.as_ref(), g)?.is_none() {
                return Err(Error::NoSuchGroup { group: g.clone() });
            }
        }
        Ok(())
    }

    /// The plan `delete` would run.
    pub fn plan_delete(&self, id: &ShareId, purge: bool) -> Result<Plan> {
        let rec = self.registry.get(id)?.ok_or_else(|| Error::NoSuchShare {
            id: id.as_str().to_owned(),
        })?;
        Ok(self.delete_plan(&rec, purge))
    }

    fn delete_plan(&self, rec: &ShareRecord, purge: bool) -> Plan {
        if let (Some(ct), Some(driver)) = (
            Self::container_config(&rec.spec),
            self.container_driver(&rec.spec),
        ) {
            let mut plan = plan_delete_lxc(
                rec.spec.id.as_str(),
                &ct.id,
                rec.spec.volume.name.as_str(),
                purge,
                &Self::describe_backend(&rec.spec.backend),
                &driver.describe(),
                Self::membership(&rec.spec).as_ref(),
            );
            if rec.spec.ha.as_ref().is_some_and(|h| h.enabled) {
                // HA first: it would start a stopped container again. An
                // undo restores the node preference HA has now; when the
                // cluster cannot be asked, an undo leaves HA off and says
                // so (the executor's error names the step).
                let nodes = crate::ha::current_nodes(self.runner.as_ref(), rec.spec.id.as_str());
                plan.steps.insert(
                    0,
                    provision::Step::RemoveHa {
                        id: ct.id.clone(),
                        share: rec.spec.id.as_str().to_owned(),
                        nodes,
                    },
                );
            }
            return plan;
        }
        let mut plan = plan_delete(
            &Self::share_conf(&rec.spec, self.owned_by_gateway(&rec.state.path)),
            rec.spec.volume.name.as_str(),
            purge,
            &Self::describe_backend(&rec.spec.backend),
            &self.paths.samba.describe(),
        );
        if let Some(m) = Self::membership(&rec.spec) {
            // The last share of the domain: leave it (after everything
            // else; a refusal is reported, never fatal).
            if !self.realm_in_use(&m.realm, &rec.spec.id).unwrap_or(true) {
                plan.steps
                    .push(provision::Step::LeaveDomain { membership: m });
            }
        }
        plan
    }

    /// Stops serving a share and removes it from the registry. The volume
    /// and its data are kept unless `purge`. A share whose create was
    /// interrupted (not registered yet) is rolled back. Returns the plan
    /// that ran.
    pub fn delete(&self, id: &ShareId, purge: bool, progress: Progress<'_>) -> Result<Plan> {
        let _domain = match self.registry.get(id)? {
            Some(rec) => self.domain_lock(&rec.spec)?,
            None => None,
        };
        let exec = self.executor();
        let _lock = exec.lock_share(id.as_str())?;
        let Some(rec) = self.registry.get(id)? else {
            if let Some(j) = exec.pending(id.as_str())? {
                if j.plan.op == Op::Create {
                    return self.roll_back_create(&exec, id, j.plan);
                }
                // An interrupted delete that had unregistered the share
                // (its last step): it was done.
                exec.discard_pending(id.as_str())?;
                return Ok(j.plan);
            }
            return Err(Error::NoSuchShare {
                id: id.as_str().to_owned(),
            });
        };
        if exec
            .pending(id.as_str())?
            .is_some_and(|j| j.plan.op == Op::Create)
        {
            // The create committed (the share is registered) and was killed
            // before it cleared its journal: nothing to undo.
            exec.discard_pending(id.as_str())?;
        }
        let mut plan = self.delete_plan(&rec, purge);
        if let Some(j) = exec.pending(id.as_str())? {
            let pending_purge = j.plan.steps.iter().any(|s| s.destroys_data());
            if j.plan.op == Op::Delete && pending_purge == purge {
                // Finish the interrupted delete exactly as it was planned
                // (the volume may be gone already, which changes a fresh
                // plan).
                plan = j.plan;
            }
        }
        self.with_context(&rec.spec, rec.state.created_volume, Some(&rec), |ctx| {
            Ok(exec.run(&plan, ctx, progress)?)
        })?;
        Ok(plan)
    }

    fn roll_back_create(&self, exec: &Executor, id: &ShareId, plan: Plan) -> Result<Plan> {
        // The interrupted create never registered the share; the spec is
        // in the plan's context.
        let spec = interrupted_spec(id, &plan)?;
        self.with_context(&spec, true, None, |ctx| {
            Ok(exec.roll_back_pending(id.as_str(), ctx)?)
        })?;
        Ok(plan)
    }

    /// Every registered share.
    pub fn list(&self) -> Result<Vec<ShareRecord>> {
        self.registry.load()
    }

    /// One share's record.
    pub fn show(&self, id: &ShareId) -> Result<ShareRecord> {
        self.registry.get(id)?.ok_or_else(|| Error::NoSuchShare {
            id: id.as_str().to_owned(),
        })
    }

    /// Whether the share is served, its usage and connected clients.
    pub fn status(&self, id: &ShareId) -> Result<ShareStatus> {
        let rec = self.show(id)?;
        if let (Some(ct), Some(driver)) = (
            Self::container_config(&rec.spec),
            self.container_driver(&rec.spec),
        ) {
            return self.status_lxc(&rec, &ct, driver.as_ref());
        }
        let samba = &self.paths.samba;
        let runner = self.runner.as_ref();
        let mut problems = Vec::new();
        let smbd_running = samba.running(runner)?;
        if !smbd_running {
            problems.push(match samba.private_instance() {
                Some(_) => {
                    "the private smbd is not running; run `pve-smbgateway apply` to start it"
                        .to_owned()
                }
                None => "smbd is not running; start it with `systemctl start smbd`".to_owned(),
            });
        }
        let section = samba.managed_section(id.as_str())?;
        let configured = section.is_some();
        let desired = NativeSamba::render_section(
            &Self::share_conf(&rec.spec, self.owned_by_gateway(&rec.state.path))
                .to_gateway_share(&rec.state.path.to_string_lossy()),
        )?;
        let config_current = section
            .as_deref()
            .is_some_and(|s| s.trim_end() == desired.trim_end());
        if !configured {
            problems.push("the share is missing from the managed Samba configuration; run `pve-smbgateway apply`".into());
        } else if !config_current {
            problems.push("the share's Samba section differs from the registry (edited by hand?); run `pve-smbgateway apply`".into());
        }
        let volume_present = rec.state.path.is_dir();
        if !volume_present {
            problems.push(format!(
                "the volume is not at {}; check the storage (mounted?)",
                rec.state.path.display()
            ));
        }
        let usage = self.usage_of(&rec)?;
        let sessions = if smbd_running {
            let out = runner.run(
                &Cmd::new("smbstatus")
                    .arg("-s")
                    .arg(samba.conf().display().to_string())
                    .arg("--json"),
            );
            out.ok().and_then(|o| {
                provision::parse_smbstatus(
                    &o.stdout_str(),
                    id.as_str(),
                    &rec.state.path.to_string_lossy(),
                )
                .ok()
            })
        } else {
            None
        };
        let interrupted = self.interrupted(id.as_str(), &mut problems)?;
        Ok(ShareStatus {
            id: id.as_str().to_owned(),
            mode: rec.spec.mode.as_str(),
            served: smbd_running && configured && volume_present,
            smbd_running,
            configured,
            config_current,
            path: rec.state.path.clone(),
            volume_present,
            usage,
            connections: sessions.as_ref().map(|s| s.connections),
            users: sessions
                .as_ref()
                .map(|s| s.users.clone())
                .unwrap_or_default(),
            open_files: sessions.as_ref().map(|s| s.open_files),
            interrupted,
            problems,
            warnings: self.samba_warnings(),
        })
    }

    /// The operation interrupted on share `id`, if any (and the problem
    /// it is for `status`).
    fn interrupted(&self, id: &str, problems: &mut Vec<String>) -> Result<Option<String>> {
        let op = self.executor().pending(id)?.map(|j| j.plan.op.to_string());
        if let Some(op) = &op {
            problems.push(format!(
                "an interrupted {op} is pending; re-run it or run `pve-smbgateway apply`"
            ));
        }
        Ok(op)
    }

    fn usage_of(&self, rec: &ShareRecord) -> Result<Option<UsageReport>> {
        if !rec.state.path.is_dir() {
            return Ok(None);
        }
        let (backend, vol) = crate::usage::volume_of(self, rec)?;
        Ok(backend.usage(&vol).ok().map(UsageReport::from))
    }

    /// The smb.conf an LXC-mode share's container should have (asks the
    /// container for its Samba version).
    fn desired_container_conf(
        &self,
        rec: &ShareRecord,
        ct: &ContainerConfig,
        driver: &dyn ContainerDriver,
    ) -> Result<String> {
        let runner = self.runner.as_ref();
        let version = provision::container::samba_version(driver, runner, &ct.id)?;
        let workgroup = rec.spec.identity.workgroup_name().unwrap_or("WORKGROUP");
        Ok(provision::container_smb_conf(
            &Self::share_conf(&rec.spec, self.owned_by_gateway(&rec.state.path)),
            workgroup,
            rec.spec.security.signing == Signing::Required,
            ct.unprivileged,
            version,
            Self::membership(&rec.spec).as_ref(),
        )?)
    }

    fn status_lxc(
        &self,
        rec: &ShareRecord,
        ct: &ContainerConfig,
        driver: &dyn ContainerDriver,
    ) -> Result<ShareStatus> {
        let runner = self.runner.as_ref();
        let id = rec.spec.id.as_str();
        let mut problems = Vec::new();
        let state = driver.state(runner, &ct.id)?;
        let running = state == CtState::Running;
        let smbd_running = running && provision::container::smbd_listening(driver, runner, &ct.id);
        let (configured, config_current) = if running {
            let current = driver
                .exec(runner, &ct.id, &["cat", "/etc/samba/smb.conf"], None)
                .ok()
                .map(|o| o.stdout_str().into_owned());
            let desired = self.desired_container_conf(rec, ct, driver).ok();
            (current.is_some(), current.is_some() && current == desired)
        } else {
            (state != CtState::Absent, false)
        };
        match state {
            CtState::Absent => problems.push(format!(
                "container {} does not exist; delete the share (the data is kept) and create it again",
                ct.id
            )),
            CtState::Stopped => problems.push(format!(
                "container {} is stopped; run `pve-smbgateway apply` to start it",
                ct.id
            )),
            CtState::Running if !smbd_running => problems.push(format!(
                "smbd does not listen in container {}; run `pve-smbgateway apply`",
                ct.id
            )),
            CtState::Running if !config_current => problems.push(format!(
                "container {}'s smb.conf differs from the registry; run `pve-smbgateway apply`",
                ct.id
            )),
            CtState::Running => {}
        }
        let volume_present = rec.state.path.is_dir();
        if !volume_present {
            problems.push(format!(
                "the volume is not at {}; check the storage (mounted?)",
                rec.state.path.display()
            ));
        }
        let usage = self.usage_of(rec)?;
        let sessions = if smbd_running {
            driver
                .exec(runner, &ct.id, &["smbstatus", "--json"], None)
                .ok()
                .and_then(|o| provision::parse_smbstatus(&o.stdout_str(), id, &ct.mount_point).ok())
        } else {
            None
        };
        let interrupted = self.interrupted(id, &mut problems)?;
        Ok(ShareStatus {
            id: id.to_owned(),
            mode: rec.spec.mode.as_str(),
            served: smbd_running && volume_present,
            smbd_running,
            configured,
            config_current,
            path: rec.state.path.clone(),
            volume_present,
            usage,
            connections: sessions.as_ref().map(|s| s.connections),
            users: sessions
                .as_ref()
                .map(|s| s.users.clone())
                .unwrap_or_default(),
            open_files: sessions.as_ref().map(|s| s.open_files),
            interrupted,
            problems,
            warnings: Vec::new(),
        })
    }

    /// Brings an LXC-mode share's container back to what the registry
    /// says: started, its users present, its smb.conf current, smbd up.
    fn apply_lxc(
        &self,
        rec: &ShareRecord,
        ct: &ContainerConfig,
        driver: &dyn ContainerDriver,
    ) -> Result<String> {
        let runner = self.runner.as_ref();
        let mut did = Vec::new();
        match driver.state(runner, &ct.id)? {
            CtState::Absent => {
                return Ok(format!(
                    "container {} is missing: not served; delete the share (the data is kept) and create it again",
                    ct.id
                ))
            }
            CtState::Stopped => {
                driver.start(runner, &ct.id)?;
                // Its smbd is enabled; when it does not come up, it is
                // configured again below.
                let _ = provision::container::wait_smbd(driver, runner, &ct.id);
                did.push("started its container");
            }
            CtState::Running => {}
        }
        let desired = self.desired_container_conf(rec, ct, driver)?;
        let current = driver
            .exec(runner, &ct.id, &["cat", "/etc/samba/smb.conf"], None)
            .ok()
            .map(|o| o.stdout_str().into_owned());
        let listening = provision::container::smbd_listening(driver, runner, &ct.id);
        if current.as_deref() != Some(desired.as_str()) || !listening {
            let mut groups = rec.spec.access.groups.clone();
            if self.owned_by_gateway(&rec.state.path) {
                groups.push(SHARE_GROUP.to_owned());
            }
            provision::container::copy_accounts(
                driver,
                runner,
                &self.paths.samba,
                &ct.id,
                &rec.spec.access.users,
                &groups,
            )?;
            provision::container::configure_smbd(driver, runner, &ct.id, &desired)?;
            did.push(if current.as_deref() != Some(desired.as_str()) {
                "restored its smb.conf and restarted smbd"
            } else {
                "restarted smbd"
            });
        }
        Ok(if did.is_empty() {
            "ok".into()
        } else {
            did.join("; ")
        })
    }

    /// Copies `user`'s SMB password into the containers of the LXC-mode
    /// shares naming it (after `user passwd`). Returns the shares updated.
    pub fn sync_user_to_containers(&self, user: &str) -> Result<Vec<String>> {
        let mut done = Vec::new();
        for rec in self.registry.load()? {
            if !rec.spec.access.users.iter().any(|u| u == user) {
                continue;
            }
            let (Some(ct), Some(driver)) = (
                Self::container_config(&rec.spec),
                self.container_driver(&rec.spec),
            ) else {
                continue;
            };
            let runner = self.runner.as_ref();
            if driver.state(runner, &ct.id)? != CtState::Running {
                continue;
            }
            provision::container::copy_accounts(
                driver.as_ref(),
                runner,
                &self.paths.samba,
                &ct.id,
                &[user.to_owned()],
                &[],
            )?;
            done.push(rec.spec.id.as_str().to_owned());
        }
        Ok(done)
    }

    /// Re-converges Samba to the registry: finishes or rolls back
    /// interrupted operations (an uncommitted create is rolled back, a
    /// delete is finished), starts a private smbd that is down, restores
    /// sections that are missing or were edited, and removes managed
    /// sections of shares that are not registered. With `only`, just that
    /// share.
    pub fn apply(
        &self,
        only: Option<&ShareId>,
        progress: Progress<'_>,
    ) -> Result<Vec<ApplyAction>> {
        let exec = self.executor();
        let mut actions = Vec::new();
        let act = |share: &str, action: String| ApplyAction {
            share: share.to_owned(),
            action,
        };
        let runner = self.runner.as_ref();
        // The native Samba only matters to native shares (LXC-mode shares
        // run their own smbd).
        if self
            .registry
            .load()?
            .iter()
            .any(|r| r.spec.mode == Mode::Native)
        {
            self.paths.samba.prepare(runner)?;
        }
        // 0. The native Samba's domain membership: its globals as the
        // registry says, winbindd running.
        if only.is_none() {
            if let Some(a) = self.apply_domain()? {
                actions.push(a);
            }
        }
        // 1. Interrupted operations.
        for share in exec.pending_shares()? {
            if only.is_some_and(|o| o.as_str() != share) {
                continue;
            }
            let Ok(id) = ShareId::new(&share) else {
                continue;
            };
            let _lock = exec.lock_share(&share)?;
            let Some(j) = exec.pending(&share)? else {
                continue;
            };
            match j.plan.op {
                Op::Create => {
                    if self.registry.get(&id)?.is_some() {
                        // Committed, killed before the journal was removed.
                        exec.discard_pending(&share)?;
                        actions.push(act(&share, "create had committed; journal cleared".into()));
                    } else {
                        self.roll_back_create(&exec, &id, j.plan)?;
                        actions.push(act(&share, "rolled back an interrupted create".into()));
                    }
                }
                Op::Delete => {
                    let rec = self.registry.get(&id)?;
                    match rec {
                        Some(rec) => {
                            self.with_context(
                                &rec.spec,
                                rec.state.created_volume,
                                Some(&rec),
                                |ctx| Ok(exec.run(&j.plan, ctx, progress)?),
                            )?;
                            actions.push(act(&share, "finished an interrupted delete".into()));
                        }
                        None => {
                            // Unregistered: only the journal was left.
                            exec.discard_pending(&share)?;
                            actions
                                .push(act(&share, "delete had finished; journal cleared".into()));
                        }
                    }
                }
            }
        }
        // 2. Registered shares.
        let records = self.registry.load()?;
        for rec in &records {
            if only.is_some_and(|o| o != &rec.spec.id) {
                continue;
            }
            let id = rec.spec.id.as_str();
            let _lock = exec.lock_share(id)?;
            if let (Some(ct), Some(driver)) = (
                Self::container_config(&rec.spec),
                self.container_driver(&rec.spec),
            ) {
                let what = self.apply_lxc(rec, &ct, driver.as_ref())?;
                actions.push(act(id, what));
                continue;
            }
            if !rec.state.path.is_dir() {
                actions.push(act(
                    id,
                    format!(
                        "volume missing at {}: not served; check the storage",
                        rec.state.path.display()
                    ),
                ));
                continue;
            }
            let share = Self::share_conf(&rec.spec, self.owned_by_gateway(&rec.state.path))
                .to_gateway_share(&rec.state.path.to_string_lossy());
            let desired = NativeSamba::render_section(&share)?;
            let current = self.paths.samba.managed_section(id)?;
            if current.as_deref().map(str::trim_end) == Some(desired.trim_end()) {
                actions.push(act(id, "ok".into()));
                continue;
            }
            self.paths.samba.serve(runner, &share)?;
            actions.push(act(
                id,
                if current.is_some() {
                    "restored its Samba section (it had been changed)".into()
                } else {
                    "served again (its Samba section was missing)".into()
                },
            ));
        }
        // 3. Managed sections nobody registered.
        if only.is_none() {
            let removed = self.paths.samba.prune(runner, |name| {
                records
                    .iter()
                    .any(|r| r.spec.id.as_str().eq_ignore_ascii_case(name))
            })?;
            for name in removed {
                actions.push(act(&name, "removed: not in the registry".into()));
            }
        }
        Ok(actions)
    }

    /// Settings of the host's smb.conf (native mode on the host) that fall
    /// below the gateway's security defaults. The administrator's globals
    /// are theirs, so these are reported, not changed.
    pub fn samba_warnings(&self) -> Vec<String> {
        let samba = &self.paths.samba;
        if samba.private_instance().is_some() || !samba.conf().is_file() {
            return Vec::new();
        }
        let cfg = load_samba_conf(samba.conf());
        let mut out = Vec::new();
        let weak = ["CORE", "COREPLUS", "LANMAN1", "LANMAN2", "NT1", "SMB2_02"];
        if let Some(p) = cfg.global("server min protocol") {
            if weak.contains(&p.to_ascii_uppercase().as_str()) {
                out.push(format!(
                    "{} accepts clients down to {p}; set `server min protocol = SMB2_10` in its [global] section (`pve-smbgateway conf set {} global \"server min protocol\" SMB2_10`)",
                    samba.conf().display(),
                    samba.conf().display()
                ));
            }
        }
        if cfg
            .global("map to guest")
            .is_some_and(|v| !v.eq_ignore_ascii_case("Never"))
        {
            out.push(format!(
                "{} maps failed logins to guest (`map to guest`); the gateway's shares refuse guests, but consider `map to guest = never`",
                samba.conf().display()
            ));
        }
        let pid_dir = cfg
            .global("pid directory")
            .unwrap_or_else(|| "/run/samba".into());
        if let Some(pid) = provision::smbd_without_drop_in(
            Path::new(&pid_dir),
            Path::new(provision::SMBD_DROP_IN),
            Path::new(provision::SMBD_DROP_IN_MASK),
            Path::new("/proc"),
        ) {
            out.push(format!(
                "smbd (pid {pid}) started before {} was installed or updated: large reads and writes are cheaper once smbd restarts (`systemctl restart smbd`, which disconnects its clients)",
                provision::SMBD_DROP_IN
            ));
        }
        out
    }

    /// SMB users of the native Samba.
    pub fn users(&self) -> SmbUsers<'_> {
        SmbUsers::new(&self.paths.samba, self.runner.as_ref())
    }

    /// Prepares Samba (a private instance: writes its config, starts smbd).
    pub fn prepare_samba(&self) -> Result<()> {
        Ok(self.paths.samba.prepare(self.runner.as_ref())?)
    }

    /// The registered shares naming `user`.
    pub fn shares_of_user(&self, user: &str) -> Result<Vec<String>> {
        Ok(self
            .registry
            .load()?
            .into_iter()
            .filter(|r| r.spec.access.users.iter().any(|u| u == user))
            .map(|r| r.spec.id.as_str().to_owned())
            .collect())
    }
}

/// The spec an interrupted create was running, from its plan's context.
fn interrupted_spec(id: &ShareId, plan: &Plan) -> Result<ShareSpec> {
    serde_json::from_value::<ShareSpec>(plan.context.clone()).map_err(|e| Error::JournalSpec {
        id: id.as_str().to_owned(),
        reason: e.to_string(),
    })
}

/// Whether `program` is an executable on `PATH`.
fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|d| {
            std::fs::metadata(d.join(program))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// An smb.conf as smbd reads it, includes followed (an unreadable file
/// reads as empty, as smbd skips it).
pub(crate) fn load_samba_conf(path: &Path) -> smbconf::Config {
    struct Files;
    impl smbconf::Loader for Files {
        fn load(&self, path: &str) -> Option<String> {
            std::fs::read_to_string(path).ok()
        }
    }
    let text = std::fs::read_to_string(path).unwrap_or_default();
    smbconf::Config::load(&text, path.to_str(), &Files)
}
