//! The share and user commands: flags -> `smbgw_core` -> text or JSON.

use std::io::{IsTerminal, Read, Write as _};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::anyhow;
use clap::{Args, Subcommand};
use runner::RealRunner;
use serde::Serialize;
use smbgw_core::{
    Access, AdSpec, ApplyAction, BackendSpec, CephClientSpec, ErrorKind, Gateway, HaSpec, Identity,
    Mode, Paths, Security, ShareId, ShareRecord, ShareSpec, VolumeRef,
};

use crate::exit;
use crate::{GlobalOpts, OutputFormat};

/// An error with the exit code it maps to.
pub struct Failure {
    pub code: u8,
    pub error: anyhow::Error,
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Failure {
            code: exit::ERROR,
            error,
        }
    }
}

impl From<smbgw_core::Error> for Failure {
    fn from(e: smbgw_core::Error) -> Self {
        let code = match e.kind() {
            ErrorKind::Input => exit::INVALID,
            ErrorKind::NotFound | ErrorKind::Exists => exit::NOT_FOUND,
            ErrorKind::Busy => exit::BUSY,
            ErrorKind::RolledBack => exit::ROLLED_BACK,
            ErrorKind::NeedsApply => exit::NEEDS_APPLY,
            _ => exit::ERROR,
        };
        Failure {
            code,
            error: anyhow::Error::from(e),
        }
    }
}

pub(crate) type Outcome = Result<ExitCode, Failure>;

fn invalid(msg: String) -> Failure {
    Failure {
        code: exit::INVALID,
        error: anyhow!(msg),
    }
}

/// Arguments of `create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Share name; also its Proxmox storage id (lowercase letters, digits,
    /// `-`, `_`, `.`).
    pub id: String,
    /// Where the volume lives: a directory, a ZFS dataset, a CephFS
    /// subvolume or an RBD image (with XFS).
    #[arg(long, value_parser = ["dir", "zfs", "cephfs", "rbd"], default_value = "dir")]
    pub backend: String,
    /// Directory backend: volumes are directories under this path
    /// (default /srv/pve-smbgateway, or DIR/volumes with --sandbox).
    #[arg(long, value_name = "PATH")]
    pub dir_root: Option<PathBuf>,
    /// ZFS backend: the parent dataset (e.g. rpool/shares).
    #[arg(long, value_name = "DATASET", required_if_eq("backend", "zfs"))]
    pub zfs_parent: Option<String>,
    /// CephFS backend: the filesystem (the `fs-name` of a Proxmox CephFS
    /// storage, `cephfs` when created with `pveceph fs create`); the
    /// volume is a subvolume of it.
    #[arg(long, value_name = "FS", required_if_eq("backend", "cephfs"))]
    pub cephfs_fs: Option<String>,
    /// CephFS backend: the subvolume group (must exist; default: none).
    #[arg(long, value_name = "GROUP")]
    pub cephfs_group: Option<String>,
    /// CephFS backend: where the filesystem's root is mounted on this
    /// host (default /mnt/pve/<FS>, where Proxmox mounts a CephFS storage
    /// named like the filesystem; give /mnt/pve/<storage> if the storage
    /// id differs). The storage must mount the whole filesystem (no
    /// `subdir`).
    #[arg(long, value_name = "PATH")]
    pub cephfs_mount: Option<PathBuf>,
    /// RBD backend: the pool (the `pool` of a Proxmox RBD storage); the
    /// volume is an image in it, formatted XFS. Needs --quota, the image
    /// size (at least 300M) when the image is new.
    #[arg(long, value_name = "POOL", required_if_eq("backend", "rbd"))]
    pub rbd_pool: Option<String>,
    /// RBD backend: images are mounted at PATH/<volume> (default
    /// /var/lib/pve-smbgateway/rbd, or DIR/rbd with --sandbox).
    #[arg(long, value_name = "PATH")]
    pub rbd_mount_base: Option<PathBuf>,
    /// RBD backend: how an image becomes a block device: `krbd` (the
    /// default), the kernel client Proxmox uses (`rbd map`), or `fuse`
    /// (rbd-fuse and a loop device) on hosts without the kernel module.
    #[arg(long, value_name = "HOW", value_parser = ["krbd", "fuse"])]
    pub rbd_map: Option<String>,
    /// CephFS and RBD backends: the cluster's ceph.conf (default
    /// /etc/ceph/ceph.conf, which on a Proxmox Ceph node links to
    /// /etc/pve/ceph.conf).
    #[arg(long, value_name = "FILE")]
    pub ceph_conf: Option<PathBuf>,
    /// CephFS and RBD backends: the cephx user, without `client.`
    /// (default admin; its keyring must be where ceph.conf says, on
    /// Proxmox /etc/pve/priv/ceph.client.admin.keyring).
    #[arg(long, value_name = "ID")]
    pub ceph_id: Option<String>,
    /// The volume's name under the backend (default: the share id).
    #[arg(long)]
    pub volume: Option<String>,
    /// Serve an existing volume as it is instead of creating one.
    #[arg(long)]
    pub existing: bool,
    /// Size limit, binary units: 500M, 10G, 2T (= GiB/TiB).
    #[arg(long)]
    pub quota: Option<String>,
    /// Accept a quota the backend cannot enforce (directory backend).
    #[arg(long)]
    pub quota_unenforced: bool,
    /// Where Samba runs: lxc (a small container of the share's own),
    /// native (the host's smbd) or vm (not implemented yet).
    #[arg(long, env = "SMBGW_MODE", default_value = "lxc")]
    pub mode: String,
    /// LXC mode: who runs the container: auto (pct on a Proxmox node, else
    /// plain LXC), pct or lxc.
    #[arg(long, default_value = "auto", help_heading = "LXC mode")]
    pub ct_driver: String,
    /// LXC mode: the container's VMID (pct; default: the cluster's next
    /// free one) or name (lxc; default smbgw-SHARE).
    #[arg(long, help_heading = "LXC mode")]
    pub ct_id: Option<String>,
    /// LXC mode: memory limit in MiB.
    #[arg(long, default_value_t = smbgw_core::container::DEFAULT_MEMORY_MB, help_heading = "LXC mode")]
    pub memory: u32,
    /// LXC mode: swap in MiB.
    #[arg(long, default_value_t = smbgw_core::container::DEFAULT_SWAP_MB, help_heading = "LXC mode")]
    pub swap: u32,
    /// LXC mode: CPU cores.
    #[arg(long, default_value_t = 1, help_heading = "LXC mode")]
    pub cores: u32,
    /// LXC mode: a privileged container (default: unprivileged).
    #[arg(long, help_heading = "LXC mode")]
    pub privileged: bool,
    /// LXC mode: the host bridge for the container's eth0 (e.g. vmbr0);
    /// without it the container has loopback only (plain LXC).
    #[arg(long, help_heading = "LXC mode")]
    pub bridge: Option<String>,
    /// LXC mode: VLAN tag on the bridge.
    #[arg(long, help_heading = "LXC mode")]
    pub vlan: Option<u16>,
    /// LXC mode: the container's address, ADDR/BITS or dhcp (default).
    #[arg(long, help_heading = "LXC mode")]
    pub ip: Option<String>,
    /// LXC mode: default gateway (with a static --ip).
    #[arg(long, help_heading = "LXC mode")]
    pub gw: Option<String>,
    /// LXC mode, Proxmox: storage for the container's root disk (default
    /// local).
    #[arg(long, help_heading = "LXC mode")]
    pub ct_storage: Option<String>,
    /// Workgroup.
    #[arg(long, default_value = "WORKGROUP", conflicts_with = "ad_domain")]
    pub workgroup: String,
    /// Join this Active Directory domain (its DNS name, corp.example.com);
    /// --users and --groups are then domain accounts.
    #[arg(long, value_name = "DOMAIN", help_heading = "Active Directory")]
    pub ad_domain: Option<String>,
    /// The account that joins the domain; its password comes from
    /// --ad-password-file or stdin, never the command line.
    #[arg(
        long,
        value_name = "USER",
        default_value = "Administrator",
        help_heading = "Active Directory"
    )]
    pub ad_user: String,
    /// File holding the join password (first line; must not be readable
    /// by group or others). Without it the password is read from stdin.
    #[arg(long, value_name = "FILE", help_heading = "Active Directory")]
    pub ad_password_file: Option<PathBuf>,
    /// OU for the computer account, relative to the domain
    /// (OU=Servers,OU=IT); default CN=Computers.
    #[arg(long, value_name = "OU", help_heading = "Active Directory")]
    pub ad_ou: Option<String>,
    /// Users allowed to connect (comma-separated; add them with `user add`).
    #[arg(long, value_delimiter = ',')]
    pub users: Vec<String>,
    /// Unix groups allowed to connect (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub groups: Vec<String>,
    /// Log every file operation on the share (connect, open/create,
    /// write, rename, delete, mkdir) to syslog (Samba's full_audit, facility
    /// LOCAL5, lines prefixed `pve-smbgw|user|client|share`).
    #[arg(long)]
    pub audit: bool,
    /// Serve read-only.
    #[arg(long)]
    pub read_only: bool,
    /// SMB signing: off, auto or required.
    #[arg(long, default_value = "auto")]
    pub signing: String,
    /// SMB3 encryption: auto (when the client asks; Samba's default), off,
    /// desired (whenever the client can; costs CPU) or required.
    #[arg(long, default_value = "auto")]
    pub encryption: String,
    /// Comment shown to clients.
    #[arg(long)]
    pub comment: Option<String>,
    /// LXC mode on Proxmox: put the share's container under Proxmox HA,
    /// placed on the node with the fewest gateways that reaches
    /// --ct-storage (shared storage) and has the memory; the other such
    /// nodes are its failover targets.
    #[arg(long)]
    pub ha: bool,
    /// Native mode on a CTDB cluster: serve the share through the
    /// cluster's clustered smbd; clients use the floating address --vip
    /// (set up with `pve-smbgateway ctdb render` on every node).
    #[arg(long, requires = "vip")]
    pub ctdb: bool,
    /// The CTDB floating address clients use: ADDR/BITS[@IFACE].
    #[arg(long, value_name = "ADDR/BITS[@IFACE]", requires = "ctdb")]
    pub vip: Option<String>,
    /// Print the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Arguments of `delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The share.
    pub id: String,
    /// Also DESTROY the volume and all its data.
    #[arg(long)]
    pub purge: bool,
    /// Print the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// When this was the last share of an Active Directory domain: the
    /// file holding the password of the account that joined, to delete
    /// the computer account from the directory. Without it the gateway
    /// leaves with its own machine account, which the domain may refuse
    /// (then the computer account stays there, and the delete says so).
    #[arg(long, value_name = "FILE")]
    pub ad_password_file: Option<PathBuf>,
}

/// `user` subcommands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add an SMB user (system account without home or shell + Samba
    /// password). The password is read from --password-file or stdin.
    Add {
        /// User name.
        name: String,
        /// File holding the password (first line; must not be readable by
        /// group or others).
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
    /// Change an SMB user's password (from --password-file or stdin).
    Passwd {
        /// User name.
        name: String,
        /// File holding the password.
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
    /// Remove an SMB user (refused while a share names it).
    Del {
        /// User name.
        name: String,
    },
    /// List SMB users.
    List,
}

pub(crate) fn gateway(g: &GlobalOpts) -> Result<Gateway, Failure> {
    let mut paths = match &g.sandbox {
        Some(dir) => {
            let dir = absolute(dir)?;
            std::fs::create_dir_all(&dir)
                .map_err(|e| anyhow!("cannot create {}: {e}", dir.display()))?;
            Paths::sandbox(&dir, g.port)
        }
        None => Paths::system(),
    };
    if let Some(r) = &g.registry {
        paths.registry = absolute(r)?;
    }
    if let Some(s) = &g.state_dir {
        paths.state_dir = absolute(s)?;
    }
    if let Some(c) = &g.samba_conf {
        let c = absolute(c)?;
        let include = c.with_file_name("pve-smbgateway.conf");
        paths.samba = provision::NativeSamba::with_paths(c, include);
    }
    if let Some(d) = &g.lxcpath {
        paths.lxc.lxcpath = absolute(d)?;
    }
    if let Some(d) = &g.lxc_template {
        paths.lxc.template = absolute(d)?;
    }
    let fault = match std::env::var("SMBGW_FAULT") {
        Ok(f) => Some(f.parse().map_err(|e: String| invalid(e))?),
        Err(_) => None,
    };
    Ok(Gateway::new(paths, Arc::new(RealRunner::new())).with_fault(fault))
}

fn absolute(p: &Path) -> Result<PathBuf, Failure> {
    std::path::absolute(p).map_err(|e| anyhow!("bad path {}: {e}", p.display()).into())
}

pub(crate) fn print_json<T: Serialize>(g: &GlobalOpts, value: &T) -> Result<(), Failure> {
    let text = match g.output_format {
        OutputFormat::JsonPretty => serde_json::to_string_pretty(value),
        _ => serde_json::to_string(value),
    }
    .map_err(anyhow::Error::from)?;
    println!("{text}");
    Ok(())
}

fn progress(g: &GlobalOpts) -> impl Fn(usize, usize, &str) + '_ {
    move |i, n, what| {
        if !g.quiet {
            eprintln!("[{i}/{n}] {what}");
        }
    }
}

pub(crate) fn parse_id(id: &str) -> Result<ShareId, Failure> {
    Ok(ShareId::new(id)?)
}

/// Refuses backend flags given for another backend.
fn check_backend_flags(a: &CreateArgs) -> Result<(), Failure> {
    let given = |set: bool, flag: &'static str| set.then_some(flag);
    let flags = [
        (given(a.dir_root.is_some(), "--dir-root"), &["dir"][..]),
        (given(a.zfs_parent.is_some(), "--zfs-parent"), &["zfs"]),
        (given(a.cephfs_fs.is_some(), "--cephfs-fs"), &["cephfs"]),
        (
            given(a.cephfs_group.is_some(), "--cephfs-group"),
            &["cephfs"],
        ),
        (
            given(a.cephfs_mount.is_some(), "--cephfs-mount"),
            &["cephfs"],
        ),
        (given(a.rbd_pool.is_some(), "--rbd-pool"), &["rbd"]),
        (
            given(a.rbd_mount_base.is_some(), "--rbd-mount-base"),
            &["rbd"],
        ),
        (given(a.rbd_map.is_some(), "--rbd-map"), &["rbd"]),
        (
            given(a.ceph_conf.is_some(), "--ceph-conf"),
            &["cephfs", "rbd"],
        ),
        (given(a.ceph_id.is_some(), "--ceph-id"), &["cephfs", "rbd"]),
    ];
    for (flag, backends) in flags {
        if let Some(flag) = flag {
            if !backends.contains(&a.backend.as_str()) {
                return Err(invalid(format!(
                    "{flag} applies to --backend {}, not to --backend {}; remove it or change the backend",
                    backends.join(" or "),
                    a.backend
                )));
            }
        }
    }
    Ok(())
}

fn spec_from(g: &GlobalOpts, a: &CreateArgs) -> Result<ShareSpec, Failure> {
    let id = parse_id(&a.id)?;
    check_backend_flags(a)?;
    let ceph = || -> Result<CephClientSpec, Failure> {
        Ok(CephClientSpec {
            conf: a.ceph_conf.as_deref().map(absolute).transpose()?,
            id: a.ceph_id.clone(),
        })
    };
    let backend = match a.backend.as_str() {
        "zfs" => BackendSpec::zfs(a.zfs_parent.as_deref().unwrap_or_default())?,
        "cephfs" => BackendSpec::CephFs {
            fs: a.cephfs_fs.clone().unwrap_or_default(),
            group: a.cephfs_group.clone(),
            mount: a.cephfs_mount.as_deref().map(absolute).transpose()?,
            ceph: ceph()?,
        },
        "rbd" => BackendSpec::Rbd {
            pool: a.rbd_pool.clone().unwrap_or_default(),
            mount_base: match (&a.rbd_mount_base, &g.sandbox) {
                (Some(b), _) => Some(absolute(b)?),
                (None, Some(s)) => Some(absolute(s)?.join("rbd")),
                (None, None) => None,
            },
            map: a.rbd_map.as_deref().unwrap_or("krbd").parse()?,
            ceph: ceph()?,
        },
        _ => {
            let root = match (&a.dir_root, &g.sandbox) {
                (Some(r), _) => absolute(r)?,
                (None, Some(s)) => absolute(s)?.join("volumes"),
                (None, None) => PathBuf::from("/srv/pve-smbgateway"),
            };
            if a.dir_root.is_none() {
                std::fs::create_dir_all(&root)
                    .map_err(|e| anyhow!("cannot create {}: {e}", root.display()))?;
            }
            BackendSpec::dir(root)?
        }
    };
    let mut volume = VolumeRef::new(a.volume.as_deref().unwrap_or(&a.id))?;
    volume.existing = a.existing;
    let mut spec = ShareSpec::new(id, backend, volume);
    spec.quota = a
        .quota
        .as_deref()
        .map(smbgw_core::parse_quota)
        .transpose()?;
    spec.quota_unenforced_ok = a.quota_unenforced;
    spec.mode = a.mode.parse::<Mode>()?;
    match &a.ad_domain {
        Some(domain) => {
            spec.identity = Identity::Ad(AdSpec::new(domain, &a.ad_user, a.ad_ou.as_deref())?);
            spec.access = Access {
                users: a.users.clone(),
                groups: a.groups.clone(),
                read_only: a.read_only,
            };
        }
        None => {
            spec.identity = Identity::workgroup(&a.workgroup)?;
            spec.access = Access::new(a.users.clone(), a.groups.clone(), a.read_only)?;
        }
    }
    spec.security = Security {
        audit: a.audit,
        signing: a.signing.parse()?,
        encryption: a.encryption.parse()?,
    };
    spec.comment = a.comment.clone();
    if spec.mode == Mode::Lxc {
        spec.container = Some(container_from(a)?);
    }
    if a.ha || a.vip.is_some() {
        spec.ha = Some(HaSpec::new(a.ha, a.vip.as_deref())?);
    }
    spec.validate()?;
    Ok(spec)
}

fn container_from(a: &CreateArgs) -> Result<smbgw_core::container::ContainerSpec, Failure> {
    use provision::{IpConfig, Network};
    let network = match &a.bridge {
        None => {
            if a.vlan.is_some() || a.ip.is_some() || a.gw.is_some() {
                return Err(invalid("--vlan, --ip and --gw need --bridge".into()));
            }
            Network::None
        }
        Some(bridge) => Network::Bridge {
            bridge: bridge.clone(),
            vlan: a.vlan,
            ip: match a.ip.as_deref() {
                None | Some("dhcp") => {
                    if a.gw.is_some() {
                        return Err(invalid("--gw needs a static --ip ADDR/BITS".into()));
                    }
                    IpConfig::Dhcp
                }
                Some(cidr) => IpConfig::Static {
                    cidr: cidr.to_owned(),
                    gateway: a.gw.clone(),
                },
            },
        },
    };
    let c = smbgw_core::container::ContainerSpec {
        driver: a.ct_driver.parse()?,
        id: a.ct_id.clone(),
        memory_mb: a.memory,
        swap_mb: a.swap,
        cores: a.cores,
        unprivileged: !a.privileged,
        network,
        storage: a.ct_storage.clone(),
    };
    c.validate()?;
    Ok(c)
}

/// `create`.
pub fn create(g: &GlobalOpts, a: CreateArgs) -> Outcome {
    let gw = gateway(g)?;
    let spec = spec_from(g, &a)?;
    if a.dry_run {
        let plan = gw.plan_create(&spec)?;
        return print_plan(g, &plan);
    }
    // The join password: asked before anything changes, held in memory
    // for this run only.
    let gw = match &a.ad_domain {
        Some(_) => gw.with_domain_password(Some(runner::Secret::new(read_password(
            a.ad_password_file.as_deref(),
        )?))),
        None => gw,
    };
    tracing::info!(
        event = "create-started",
        share = spec.id.as_str(),
        mode = spec.mode.as_str(),
        "create started"
    );
    match gw.create(&spec, &progress(g)) {
        Ok(rec) => {
            tracing::info!(event = "create", share = spec.id.as_str(), path = %rec.state.path.display(), "share created and served");
            print_record(g, &gw, &rec)?;
            for w in gw.samba_warnings() {
                eprintln!("pve-smbgateway: warning: {w}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let f = Failure::from(e);
            if f.code == exit::ROLLED_BACK || f.code == exit::NEEDS_APPLY {
                let event = if f.code == exit::ROLLED_BACK {
                    "rollback"
                } else {
                    "needs-apply"
                };
                tracing::error!(event, share = spec.id.as_str(), error = %f.error, "create failed");
            }
            Err(f)
        }
    }
}

fn print_plan(g: &GlobalOpts, plan: &provision::Plan) -> Outcome {
    match g.output_format {
        OutputFormat::Text => print!("{plan}"),
        _ => {
            #[derive(Serialize)]
            struct P<'a> {
                op: String,
                share: &'a str,
                steps: Vec<String>,
            }
            print_json(
                g,
                &P {
                    op: plan.op.to_string(),
                    share: &plan.share,
                    steps: plan.steps.iter().map(|s| plan.describe(s)).collect(),
                },
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct RecordOut<'a> {
    #[serde(flatten)]
    spec: &'a ShareSpec,
    volume_id: &'a str,
    path: &'a Path,
    created_volume: bool,
    created_at: u64,
    connect: String,
}

fn connect_hint(gw: &Gateway, rec: &ShareRecord) -> String {
    if let Some(c) = rec
        .spec
        .container
        .as_ref()
        .filter(|_| rec.spec.mode == Mode::Lxc)
    {
        let id = rec.spec.id.as_str();
        return match &c.network {
            provision::Network::Bridge {
                ip: provision::IpConfig::Static { cidr, .. },
                ..
            } => format!(
                "smbclient //{}/{id} -U <user>",
                cidr.split('/').next().unwrap_or(cidr)
            ),
            provision::Network::Bridge { .. } => format!(
                "smbclient //{}/{id} -U <user> (the container's address from DHCP)",
                smbgw_core::container::ContainerSpec::hostname(&rec.spec.id)
            ),
            provision::Network::None => format!(
                "the container has loopback only: connect from its network namespace (nsenter --net=/proc/<container init pid>/ns/net smbclient //127.0.0.1/{id} -U <user>)"
            ),
        };
    }
    match gw.paths().samba.private_instance() {
        Some(p) => format!(
            "smbclient -p {} //127.0.0.1/{} -U <user>",
            p.port,
            rec.spec.id.as_str()
        ),
        None => format!("smbclient //<host>/{} -U <user>", rec.spec.id.as_str()),
    }
}

fn record_out<'a>(gw: &Gateway, rec: &'a ShareRecord) -> RecordOut<'a> {
    RecordOut {
        spec: &rec.spec,
        volume_id: &rec.state.volume_id,
        path: &rec.state.path,
        created_volume: rec.state.created_volume,
        created_at: rec.state.created_at,
        connect: connect_hint(gw, rec),
    }
}

fn print_record(g: &GlobalOpts, gw: &Gateway, rec: &ShareRecord) -> Result<(), Failure> {
    match g.output_format {
        OutputFormat::Text => {
            let s = &rec.spec;
            println!("share:      {}", s.id.as_str());
            println!("mode:       {}", s.mode.as_str());
            println!("backend:    {}", s.backend.kind());
            println!(
                "volume:     {} ({})",
                rec.state.volume_id,
                if rec.state.created_volume {
                    "created"
                } else {
                    "adopted"
                }
            );
            println!("path:       {}", rec.state.path.display());
            match s.quota {
                Some(q) if s.quota_unenforced_ok => {
                    println!("quota:      {q} (advisory, not enforced)")
                }
                Some(q) => println!("quota:      {q}"),
                None => println!("quota:      none"),
            }
            let mut who: Vec<String> = s.access.users.clone();
            who.extend(s.access.groups.iter().map(|g| format!("@{g}")));
            println!(
                "access:     {}{}",
                if who.is_empty() {
                    "any authenticated user".to_owned()
                } else {
                    who.join(", ")
                },
                if s.access.read_only {
                    " (read-only)"
                } else {
                    ""
                }
            );
            println!(
                "security:   signing {}, encryption {}",
                s.security.signing.as_str(),
                s.security.encryption.as_str()
            );
            println!("connect:    {}", connect_hint(gw, rec));
        }
        _ => print_json(g, &record_out(gw, rec))?,
    }
    Ok(())
}

/// `delete`.
pub fn delete(g: &GlobalOpts, a: DeleteArgs) -> Outcome {
    let gw = gateway(g)?;
    let gw = match &a.ad_password_file {
        Some(f) => gw.with_domain_password(Some(runner::Secret::new(read_password(Some(f))?))),
        None => gw,
    };
    let id = parse_id(&a.id)?;
    if a.dry_run {
        return print_plan(g, &gw.plan_delete(&id, a.purge)?);
    }
    if a.purge {
        if let Ok(rec) = gw.show(&id) {
            eprintln!(
                "purge: the volume {} at {} and ALL its data will be destroyed",
                rec.state.volume_id,
                rec.state.path.display()
            );
        }
    }
    tracing::info!(
        event = "delete-started",
        share = id.as_str(),
        purge = a.purge,
        "delete started"
    );
    match gw.delete(&id, a.purge, &progress(g)) {
        Ok(plan) => {
            tracing::info!(
                event = "delete",
                share = id.as_str(),
                purge = a.purge,
                "share deleted"
            );
            match g.output_format {
                OutputFormat::Text => println!(
                    "deleted share `{}`{}",
                    id.as_str(),
                    if a.purge {
                        "; its volume was destroyed"
                    } else {
                        "; its data was kept"
                    }
                ),
                _ => print_json(
                    g,
                    &serde_json::json!({"deleted": id.as_str(), "purged": a.purge, "steps": plan.steps.len()}),
                )?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let f = Failure::from(e);
            if f.code == exit::ROLLED_BACK || f.code == exit::NEEDS_APPLY {
                let event = if f.code == exit::ROLLED_BACK {
                    "rollback"
                } else {
                    "needs-apply"
                };
                tracing::error!(event, share = id.as_str(), error = %f.error, "delete failed");
            }
            Err(f)
        }
    }
}

/// `list`.
pub fn list(g: &GlobalOpts) -> Outcome {
    let gw = gateway(g)?;
    let recs = gw.list()?;
    match g.output_format {
        OutputFormat::Text => {
            println!(
                "{:<24} {:<7} {:<5} {:<10} PATH",
                "SHARE", "MODE", "BACKEND", "QUOTA"
            );
            for r in &recs {
                println!(
                    "{:<24} {:<7} {:<7} {:<10} {}",
                    r.spec.id.as_str(),
                    r.spec.mode.as_str(),
                    r.spec.backend.kind(),
                    r.spec.quota.map_or("-".to_owned(), |q| q.to_string()),
                    r.state.path.display()
                );
            }
        }
        _ => {
            let out: Vec<_> = recs.iter().map(|r| record_out(&gw, r)).collect();
            print_json(g, &out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `show`.
pub fn show(g: &GlobalOpts, id: &str) -> Outcome {
    let gw = gateway(g)?;
    let rec = gw.show(&parse_id(id)?)?;
    print_record(g, &gw, &rec)?;
    Ok(ExitCode::SUCCESS)
}

/// `status`.
pub fn status(g: &GlobalOpts, id: Option<&str>) -> Outcome {
    let gw = gateway(g)?;
    let ids: Vec<ShareId> = match id {
        Some(i) => vec![parse_id(i)?],
        None => gw.list()?.into_iter().map(|r| r.spec.id).collect(),
    };
    let mut all = Vec::new();
    for i in &ids {
        all.push(gw.status(i)?);
    }
    match g.output_format {
        OutputFormat::Text => {
            for s in &all {
                let usage = s.usage.as_ref().map_or("-".to_owned(), |u| {
                    format!(
                        "{} used, {} available{}",
                        human(u.used),
                        human(u.available),
                        if u.scope == "filesystem" {
                            " (whole filesystem)"
                        } else {
                            ""
                        }
                    )
                });
                println!(
                    "{}: {} | {} | connections: {}",
                    s.id,
                    if s.served { "served" } else { "NOT SERVED" },
                    usage,
                    s.connections.map_or("-".to_owned(), |c| c.to_string())
                );
                for p in &s.problems {
                    println!("  problem: {p}");
                }
                for w in &s.warnings {
                    println!("  warning: {w}");
                }
            }
        }
        _ => {
            if id.is_some() {
                print_json(g, &all[0])?;
            } else {
                print_json(g, &all)?;
            }
        }
    }
    Ok(if all.iter().all(|s| s.served) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(exit::NOT_SERVED)
    })
}

fn human(b: u64) -> String {
    const U: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1024.0 && i < U.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", U[i])
    }
}

/// `apply`.
pub fn apply(g: &GlobalOpts, id: Option<&str>) -> Outcome {
    let gw = gateway(g)?;
    let only = id.map(parse_id).transpose()?;
    let actions: Vec<ApplyAction> = gw.apply(only.as_ref(), &progress(g))?;
    for a in &actions {
        if a.action != "ok" {
            tracing::warn!(share = a.share.as_str(), "apply: {}", a.action);
        }
    }
    match g.output_format {
        OutputFormat::Text => {
            for a in &actions {
                println!("{}: {}", a.share, a.action);
            }
        }
        _ => print_json(g, &actions)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads a password: the first line of a file that only its owner can
/// read, or of stdin (without echo on a terminal).
fn read_password(file: Option<&Path>) -> Result<Vec<u8>, Failure> {
    let raw = match file {
        Some(f) => {
            let md =
                std::fs::metadata(f).map_err(|e| anyhow!("cannot read {}: {e}", f.display()))?;
            if md.permissions().mode() & 0o077 != 0 {
                return Err(invalid(format!(
                    "{} is readable by group or others (mode {:04o}); run `chmod 600 {}` first",
                    f.display(),
                    md.permissions().mode() & 0o7777,
                    f.display()
                )));
            }
            std::fs::read(f).map_err(|e| anyhow!("cannot read {}: {e}", f.display()))?
        }
        None => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                eprint!("password: ");
                let _ = std::io::stderr().flush();
                let old = rustix::termios::tcgetattr(&stdin).ok();
                if let Some(old) = &old {
                    let mut t = old.clone();
                    t.local_modes.remove(rustix::termios::LocalModes::ECHO);
                    let _ = rustix::termios::tcsetattr(
                        &stdin,
                        rustix::termios::OptionalActions::Now,
                        &t,
                    );
                }
                let mut line = String::new();
                let r = stdin.read_line(&mut line);
                if let Some(old) = &old {
                    let _ = rustix::termios::tcsetattr(
                        &stdin,
                        rustix::termios::OptionalActions::Now,
                        old,
                    );
                }
                eprintln!();
                r.map_err(|e| anyhow!("cannot read the password: {e}"))?;
                line.into_bytes()
            } else {
                let mut buf = Vec::new();
                stdin
                    .lock()
                    .read_to_end(&mut buf)
                    .map_err(|e| anyhow!("cannot read the password from stdin: {e}"))?;
                buf
            }
        }
    };
    let line = raw.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line).to_vec();
    provision::check_password(&line).map_err(|e| invalid(e.to_string()))?;
    Ok(line)
}

/// `user ...`.
pub fn user(g: &GlobalOpts, cmd: UserCommand) -> Outcome {
    let gw = gateway(g)?;
    let prov = |e: provision::Error| Failure::from(smbgw_core::Error::from(e));
    match cmd {
        UserCommand::Add {
            name,
            password_file,
        } => {
            provision::check_user_name(&name).map_err(|e| invalid(e.to_string()))?;
            let pw = read_password(password_file.as_deref())?;
            gw.prepare_samba()?;
            let created = gw.users().add(&name, &pw).map_err(prov)?;
            tracing::info!(user = name.as_str(), "smb user added");
            match g.output_format {
                OutputFormat::Text => println!(
                    "added smb user `{name}`{}",
                    if created {
                        " (new system account without home or shell)"
                    } else {
                        ""
                    }
                ),
                _ => print_json(
                    g,
                    &serde_json::json!({"user": name, "created_account": created}),
                )?,
            }
        }
        UserCommand::Passwd {
            name,
            password_file,
        } => {
            provision::check_user_name(&name).map_err(|e| invalid(e.to_string()))?;
            let pw = read_password(password_file.as_deref())?;
            gw.users().passwd(&name, &pw).map_err(prov)?;
            tracing::info!(user = name.as_str(), "smb password changed");
            // LXC-mode shares keep a copy of the password in their
            // container.
            let containers = gw.sync_user_to_containers(&name)?;
            if g.output_format == OutputFormat::Text {
                println!("changed the password of `{name}`");
                if !containers.is_empty() {
                    println!("  also in the containers of: {}", containers.join(", "));
                }
            } else {
                print_json(
                    g,
                    &serde_json::json!({"user": name, "containers": containers}),
                )?;
            }
        }
        UserCommand::Del { name } => {
            provision::check_user_name(&name).map_err(|e| invalid(e.to_string()))?;
            let shares = gw.shares_of_user(&name)?;
            if !shares.is_empty() {
                return Err(invalid(format!(
                    "user `{name}` is still allowed on share(s) {}; delete those shares or recreate them without the user first",
                    shares.join(", ")
                )));
            }
            let removed_account = gw.users().remove(&name).map_err(prov)?;
            tracing::info!(user = name.as_str(), "smb user removed");
            if g.output_format == OutputFormat::Text {
                println!(
                    "removed smb user `{name}`{}",
                    if removed_account {
                        " and its system account"
                    } else {
                        ""
                    }
                );
            } else {
                print_json(
                    g,
                    &serde_json::json!({"user": name, "removed_account": removed_account}),
                )?;
            }
        }
        UserCommand::List => {
            gw.prepare_samba()?;
            let users = gw.users().list().map_err(prov)?;
            if g.output_format == OutputFormat::Text {
                for u in &users {
                    println!("{u}");
                }
            } else {
                print_json(g, &users)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
