//! Plans: what an operation will do, as data.
//!
//! A [`Plan`] is built by a pure function from the requested share and
//! its backend; it can be printed (`--dry-run`), snapshot-tested, and
//! journalled step by step by the executor ([`crate::Executor`]).

use std::fmt;

use serde::{Deserialize, Serialize};
use smbconf::{Encryption, GatewayShare};

use runner::Runner;

use crate::container::ContainerConfig;
use crate::Result;

/// Which operation a plan performs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Op {
    /// Create and serve a share.
    Create,
    /// Stop serving a share (keeping or destroying its data).
    Delete,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Create => "create",
            Op::Delete => "delete",
        })
    }
}

/// `full_audit`'s settings for an audited share: syslog (ident
/// `smbd_audit`, which Samba fixes) at LOCAL5.NOTICE, each line starting
/// with `pve-smbgw|user|client address|share|`, successful changes and
/// opens, failed connects and opens.
pub const AUDIT_PARAMS: &[(&str, &str)] = &[
    ("full_audit:prefix", "pve-smbgw|%u|%I|%S"),
    (
        "full_audit:success",
        "connect disconnect openat create_file renameat unlinkat mkdirat pwrite pwrite_send",
    ),
    ("full_audit:failure", "connect openat create_file"),
    ("full_audit:facility", "LOCAL5"),
    ("full_audit:priority", "NOTICE"),
    ("full_audit:syslog", "yes"),
];

/// What Samba serves for one share, independent of where its volume lives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareConf {
    /// The share name (already validated by the caller).
    pub name: String,
    /// Comment shown to clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Read-only share.
    pub read_only: bool,
    /// `valid users`: user names and `@group`s; empty for every
    /// authenticated user.
    #[serde(default)]
    pub valid_users: Vec<String>,
    /// Per-share encryption: `off`, `auto` (when the client asks),
    /// `desired` or `required`.
    pub encryption: String,
    /// `force group` for files created through the share (the gateway's
    /// group on volumes it created, so that every allowed user can write).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_group: Option<String>,
    /// Store Windows ACLs as Samba's NT ACL xattr (`acl_xattr`) instead of
    /// mapping them onto POSIX ACLs (domain shares in native mode;
    /// containers decide for themselves, see
    /// [`crate::container_smb_conf`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nt_acls: bool,
    /// Log file operations to syslog (Samba's `full_audit`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub audit: bool,
}

impl ShareConf {
    /// The Samba section for this share served from `path`.
    pub fn to_gateway_share(&self, path: &str) -> GatewayShare {
        let mut s = GatewayShare::new(&self.name, path);
        s.comment = self.comment.clone();
        s.read_only = self.read_only;
        s.valid_users = self.valid_users.clone();
        s.security.encryption = Some(match self.encryption.as_str() {
            "off" => Encryption::Off,
            "desired" => Encryption::Desired,
            "required" => Encryption::Required,
            _ => Encryption::IfRequired,
        });
        if let Some(g) = &self.force_group {
            s.create_mask = 0o660;
            s.directory_mask = 0o2770;
            s.extra.push(("force group".into(), g.clone()));
        }
        if self.nt_acls {
            s.vfs_objects.push("acl_xattr".into());
            s.extra.push(("map acl inherit".into(), "yes".into()));
        }
        if self.audit {
            // First, so that it sees every operation as the client asked.
            s.vfs_objects.insert(0, "full_audit".into());
            s.extra.extend(
                AUDIT_PARAMS
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
            );
        }
        // Files created over SMB keep their DOS attributes in xattrs; no
        // printing on a file share.
        s.extra.push(("printable".into(), "no".into()));
        s
    }
}

/// One step of a plan. Steps are idempotent when re-run after an
/// interruption (the executor tells them so), and each knows its undo.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Step {
    /// Make sure Samba can take the share: for a private instance, write its
    /// main smb.conf (once) and start smbd; on the host, check smbd runs.
    PrepareSamba,
    /// Make sure the system group exists (never removed: shared).
    EnsureGroup {
        /// The group.
        group: String,
    },
    /// Create a new volume. Undo: destroy it (it is new and was never
    /// registered).
    CreateVolume {
        /// Volume name under the backend's parent.
        volume: String,
        /// Quota (`Quota` syntax).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        quota: Option<String>,
        /// Accept a quota the backend cannot enforce.
        #[serde(default)]
        quota_unenforced: bool,
    },
    /// Take over an existing volume as it is. Undo: release it.
    AdoptVolume {
        /// Volume name.
        volume: String,
    },
    /// Give a new volume's root to `root:group`, mode 2770.
    PrepareVolume {
        /// Volume name.
        volume: String,
        /// Owning group.
        group: String,
    },
    /// Add (or replace) the share's section in the managed include file,
    /// validate with testparm, reload smbd. Undo: remove it again.
    ServeShare {
        /// The section.
        share: ShareConf,
        /// The volume served.
        volume: String,
    },
    /// Record the share in the registry (the commit point of a create).
    /// Undo: remove the record.
    Register,
    /// Remove the share's section, validate, reload, disconnect its
    /// clients. Undo: serve it again.
    UnserveShare {
        /// The section (to restore it on undo).
        share: ShareConf,
        /// The volume served.
        volume: String,
    },
    /// Stop managing the volume, keeping its data.
    ReleaseVolume {
        /// Volume name.
        volume: String,
    },
    /// Destroy the volume and all its data (only with an explicit purge).
    /// Cannot be undone, so plans put it after every step that can fail
    /// for ordinary reasons.
    DestroyVolume {
        /// Volume name.
        volume: String,
    },
    /// Remove the share from the registry. Undo: record it again.
    Unregister {
        /// The volume (to record it again on undo).
        volume: String,
    },
    /// LXC mode: make sure the prepared gateway template (Samba installed)
    /// exists; built once, kept.
    PrepareTemplate,
    /// LXC mode: create the share's container (stopped) from the template
    /// with the volume bind-mounted. Undo: destroy the container (never
    /// the volume).
    CreateContainer {
        /// The container.
        ct: ContainerConfig,
        /// The volume mounted into it.
        volume: String,
    },
    /// LXC mode: start the container. Undo: stop it.
    StartContainer {
        /// VMID or name.
        id: String,
    },
    /// LXC mode: create the share's users and groups inside the container
    /// with their host ids (looked up when the step runs, as are the SMB
    /// password hashes, which are never journalled).
    SyncAccounts {
        /// VMID or name.
        id: String,
        /// Users (with their primary groups).
        users: Vec<String>,
        /// Further groups (with their members among `users`).
        groups: Vec<String>,
    },
    /// LXC mode: write the container's whole smb.conf (validated by
    /// testparm inside), enable and restart smbd, wait for port 445.
    ConfigureSmbd {
        /// VMID or name.
        id: String,
        /// The share.
        share: ShareConf,
        /// Workgroup.
        workgroup: String,
        /// Require signing on every connection.
        signing_required: bool,
        /// The container is unprivileged (NT ACLs go to `user.NTACL`).
        unprivileged: bool,
        /// The domain the container's Samba is a member of.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        membership: Option<crate::domain::Membership>,
    },
    /// LXC mode: join the container's Samba to its domain (`net ads join`
    /// inside, the password on stdin), start winbindd, reload smbd.
    /// Undo: leave again.
    JoinContainer {
        /// VMID or name.
        id: String,
        /// The domain.
        membership: crate::domain::Membership,
    },
    /// LXC mode: the container leaves its domain before it is destroyed
    /// (its computer account is its own); a refusal is reported, never
    /// fatal.
    LeaveContainer {
        /// VMID or name.
        id: String,
        /// The domain.
        membership: crate::domain::Membership,
    },
    /// LXC mode: stop the container. Undo: start it again.
    StopContainer {
        /// VMID or name.
        id: String,
    },
    /// LXC mode: destroy the (stopped) container; the bind-mounted volume
    /// is not touched. Cannot be undone, so a failure after it finishes
    /// the operation forward.
    DestroyContainer {
        /// VMID or name.
        id: String,
    },
    /// Native mode: make the gateway's Samba a member of an Active
    /// Directory domain: the membership globals in the managed include
    /// file, `net ads join` (the password from the caller, never
    /// journalled) unless already joined, winbindd running. Undo (only
    /// when `first`: no other share needed the membership before): leave
    /// again and take the globals out.
    JoinDomain {
        /// The domain.
        membership: crate::domain::Membership,
        /// No registered share used the domain before this one.
        first: bool,
    },
    /// Native mode: the last share of the domain is gone: leave it
    /// (`net ads leave`; a refusal is reported, never fatal), stop a
    /// private winbindd and take the membership globals out.
    LeaveDomain {
        /// The domain.
        membership: crate::domain::Membership,
    },
    /// Proxmox: put the share's container under HA with a node
    /// preference (most preferred first). Undo: take it out again.
    EnsureHa {
        /// VMID.
        id: String,
        /// The share (names the HA rule or group).
        share: String,
        /// Nodes and their priorities, the placement's order.
        nodes: Vec<HaNode>,
    },
    /// Proxmox: take the share's container out of HA (before it is
    /// stopped: HA would start it again). Undo: put it back with `nodes`.
    RemoveHa {
        /// VMID.
        id: String,
        /// The share.
        share: String,
        /// The node preference to restore on undo (the placement computed
        /// when the delete was planned).
        nodes: Vec<HaNode>,
    },
}

/// A node of an HA node preference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HaNode {
    /// Node name.
    pub node: String,
    /// Priority (higher is preferred).
    pub priority: u32,
}

/// Puts share containers under the cluster's HA manager (Proxmox VE's
/// `ha-manager`), implemented by the orchestration layer.
pub trait HaManager: Send + Sync {
    /// Makes `id` an HA resource preferring `nodes`; converges when re-run.
    fn ensure(&self, runner: &dyn Runner, id: &str, share: &str, nodes: &[HaNode]) -> Result<()>;
    /// Takes `id` out of HA (absent is fine).
    fn remove(&self, runner: &dyn Runner, id: &str, share: &str) -> Result<()>;
}

impl Step {
    /// Whether the step cannot be undone (it destroys data): a failure
    /// after it is finished forward, never rolled back.
    pub fn is_irreversible(&self) -> bool {
        matches!(
            self,
            Step::DestroyVolume { .. } | Step::DestroyContainer { .. }
        )
    }

    /// Whether the step destroys the share's data (`--purge`).
    pub fn destroys_data(&self) -> bool {
        matches!(self, Step::DestroyVolume { .. })
    }
}

/// An operation on one share, as an ordered list of steps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The operation.
    pub op: Op,
    /// The share.
    pub share: String,
    /// Where the volume lives, for humans: `directory /srv/smb`,
    /// `zfs dataset under tank/smb`.
    pub backend: String,
    /// The Samba target, for humans: `host smbd (/etc/samba/smb.conf)`.
    pub samba: String,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// Whatever the caller needs to rebuild its context when it resumes or
    /// rolls back this plan from the journal (core stores the share spec).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub context: serde_json::Value,
}

impl Plan {
    /// A one-line description of step `i`.
    pub fn describe(&self, step: &Step) -> String {
        let b = &self.backend;
        match step {
            Step::PrepareSamba => format!("make sure {} is ready to serve shares", self.samba),
            Step::EnsureGroup { group } => format!("make sure system group `{group}` exists"),
            Step::CreateVolume {
                volume,
                quota,
                quota_unenforced,
            } => {
                let q = match quota {
                    Some(q) if *quota_unenforced => {
                        format!(" with advisory quota {q} (not enforced)")
                    }
                    Some(q) => format!(" with quota {q}"),
                    None => " without quota".into(),
                };
                format!("create volume `{volume}` ({b}){q}")
            }
            Step::AdoptVolume { volume } => {
                format!("use existing volume `{volume}` ({b}) as it is")
            }
            Step::PrepareVolume { volume, group } => {
                format!("give the root of `{volume}` to root:{group}, mode 2770")
            }
            Step::ServeShare { share, volume } => format!(
                "serve `{}` from `{volume}` via {} (validate with testparm, reload smbd)",
                share.name, self.samba
            ),
            Step::Register => format!("record share `{}` in the registry", self.share),
            Step::JoinDomain { membership: m, first } => format!(
                "{} Active Directory domain {} ({}) as {}{}",
                if *first { "join" } else { "stay a member of" },
                m.realm,
                m.workgroup,
                m.join_user,
                m.ou.as_deref().map(|o| format!(", computer account in {o}")).unwrap_or_default()
            ),
            Step::LeaveDomain { membership: m } => format!(
                "leave Active Directory domain {} (no other share needs it)",
                m.realm
            ),
            Step::UnserveShare { share, .. } => format!(
                "stop serving `{}` and disconnect its clients ({})",
                share.name, self.samba
            ),
            Step::ReleaseVolume { volume } => {
                format!("keep volume `{volume}` ({b}) and its data")
            }
            Step::DestroyVolume { volume } => {
                format!("DESTROY volume `{volume}` ({b}) and ALL its data")
            }
            Step::Unregister { .. } => format!("remove share `{}` from the registry", self.share),
            Step::PrepareTemplate => format!(
                "make sure the gateway's container template (Samba installed) exists ({})",
                self.samba
            ),
            Step::CreateContainer { ct, volume } => format!(
                "create {} container {} (hostname {}, {} MiB memory, {} MiB swap, {} core{}) with `{volume}` mounted at {}",
                if ct.unprivileged { "unprivileged" } else { "privileged" },
                ct.id,
                ct.hostname,
                ct.memory_mb,
                ct.swap_mb,
                ct.cores,
                if ct.cores == 1 { "" } else { "s" },
                ct.mount_point
            ),
            Step::StartContainer { id } => format!("start container {id}"),
            Step::SyncAccounts { id, users, groups } => {
                let names: Vec<String> = users
                    .iter()
                    .map(|u| format!("user {u}"))
                    .chain(groups.iter().map(|g| format!("group {g}")))
                    .collect();
                if names.is_empty() {
                    format!("no accounts to copy into container {id}")
                } else {
                    format!(
                        "copy {} into container {id} with their host ids (and the users' SMB passwords)",
                        names.join(", ")
                    )
                }
            }
            Step::ConfigureSmbd { id, share, .. } => format!(
                "write container {id}'s smb.conf serving `{}` (validate with testparm), start smbd",
                share.name
            ),
            Step::JoinContainer { id, membership: m } => format!(
                "join container {id} to Active Directory domain {} ({}) as {}{}, start winbindd",
                m.realm,
                m.workgroup,
                m.join_user,
                m.ou.as_deref().map(|o| format!(", computer account in {o}")).unwrap_or_default()
            ),
            Step::LeaveContainer { id, membership: m } => format!(
                "container {id} leaves Active Directory domain {} (its computer account is deleted)",
                m.realm
            ),
            Step::StopContainer { id } => format!("stop container {id}"),
            Step::DestroyContainer { id } => {
                format!("destroy container {id} (the volume is not touched)")
            }
            Step::EnsureHa { id, nodes, .. } => format!(
                "put container {id} under Proxmox HA, preferring {}",
                nodes
                    .iter()
                    .map(|n| format!("{} ({})", n.node, n.priority))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Step::RemoveHa { id, .. } => format!("take container {id} out of Proxmox HA"),
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "plan: {} share `{}`", self.op, self.share)?;
        for (i, step) in self.steps.iter().enumerate() {
            writeln!(f, "  {}. {}", i + 1, self.describe(step))?;
        }
        Ok(())
    }
}

/// What the caller asks for when creating a share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateRequest {
    /// The Samba section.
    pub share: ShareConf,
    /// Volume name.
    pub volume: String,
    /// Adopt an existing volume instead of creating one.
    pub existing: bool,
    /// Quota (`Quota` syntax).
    pub quota: Option<String>,
    /// Accept a quota the backend cannot enforce.
    pub quota_unenforced: bool,
    /// The group owning new volumes.
    pub group: String,
}

/// The volume steps of a create: adopt an existing volume, or make sure
/// the group exists, create the volume and give its root to the group.
fn volume_steps(req: &CreateRequest) -> Vec<Step> {
    let mut steps = Vec::new();
    if req.existing {
        steps.push(Step::AdoptVolume {
            volume: req.volume.clone(),
        });
    } else {
        steps.push(Step::EnsureGroup {
            group: req.group.clone(),
        });
        steps.push(Step::CreateVolume {
            volume: req.volume.clone(),
            quota: req.quota.clone(),
            quota_unenforced: req.quota_unenforced,
        });
        steps.push(Step::PrepareVolume {
            volume: req.volume.clone(),
            group: req.group.clone(),
        });
    }
    steps
}

/// The plan for creating a share in native mode (pure).
pub fn plan_create(req: &CreateRequest, backend: &str, samba: &str) -> Plan {
    let mut steps = vec![Step::PrepareSamba];
    steps.extend(volume_steps(req));
    steps.push(Step::ServeShare {
        share: req.share.clone(),
        volume: req.volume.clone(),
    });
    steps.push(Step::Register);
    Plan {
        op: Op::Create,
        share: req.share.name.clone(),
        backend: backend.to_owned(),
        samba: samba.to_owned(),
        steps,
        context: serde_json::Value::Null,
    }
}

/// The last volume step of a delete: keep the volume, or destroy it with
/// `purge`.
fn keep_or_destroy(volume: &str, purge: bool) -> Step {
    let volume = volume.to_owned();
    if purge {
        Step::DestroyVolume { volume }
    } else {
        Step::ReleaseVolume { volume }
    }
}

/// The plan for deleting a share in native mode (pure). The volume is
/// kept unless `purge`.
pub fn plan_delete(
    share: &ShareConf,
    volume: &str,
    purge: bool,
    backend: &str,
    samba: &str,
) -> Plan {
    let last = keep_or_destroy(volume, purge);
    Plan {
        op: Op::Delete,
        share: share.name.clone(),
        backend: backend.to_owned(),
        samba: samba.to_owned(),
        steps: vec![
            Step::UnserveShare {
                share: share.clone(),
                volume: volume.to_owned(),
            },
            last,
            Step::Unregister {
                volume: volume.to_owned(),
            },
        ],
        context: serde_json::Value::Null,
    }
}

/// What LXC mode adds to a create request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerRequest {
    /// The container.
    pub ct: ContainerConfig,
    /// Users to copy into it.
    pub users: Vec<String>,
    /// Groups to copy into it.
    pub groups: Vec<String>,
    /// Workgroup.
    pub workgroup: String,
    /// Require signing.
    pub signing_required: bool,
    /// The domain the container joins.
    pub membership: Option<crate::domain::Membership>,
}

/// The plan for creating a share in LXC mode (pure): the volume as in
/// native mode, then a container of its own serving it.
pub fn plan_create_lxc(
    req: &CreateRequest,
    lxc: &ContainerRequest,
    backend: &str,
    driver: &str,
) -> Plan {
    let mut steps = vec![Step::PrepareTemplate];
    steps.extend(volume_steps(req));
    let id = lxc.ct.id.clone();
    steps.extend([
        Step::CreateContainer {
            ct: lxc.ct.clone(),
            volume: req.volume.clone(),
        },
        Step::StartContainer { id: id.clone() },
        Step::SyncAccounts {
            id: id.clone(),
            users: lxc.users.clone(),
            groups: lxc.groups.clone(),
        },
        Step::ConfigureSmbd {
            id: id.clone(),
            share: req.share.clone(),
            workgroup: lxc.workgroup.clone(),
            signing_required: lxc.signing_required,
            unprivileged: lxc.ct.unprivileged,
            membership: lxc.membership.clone(),
        },
    ]);
    if let Some(m) = &lxc.membership {
        steps.push(Step::JoinContainer {
            id,
            membership: m.clone(),
        });
    }
    steps.push(Step::Register);
    Plan {
        op: Op::Create,
        share: req.share.name.clone(),
        backend: backend.to_owned(),
        samba: driver.to_owned(),
        steps,
        context: serde_json::Value::Null,
    }
}

/// The plan for deleting an LXC-mode share (pure): stop and destroy its
/// container, then keep (or with `purge` destroy) the volume.
pub fn plan_delete_lxc(
    share: &str,
    ct_id: &str,
    volume: &str,
    purge: bool,
    backend: &str,
    driver: &str,
    membership: Option<&crate::domain::Membership>,
) -> Plan {
    let last = keep_or_destroy(volume, purge);
    let leave = membership.map(|m| Step::LeaveContainer {
        id: ct_id.to_owned(),
        membership: m.clone(),
    });
    Plan {
        op: Op::Delete,
        share: share.to_owned(),
        backend: backend.to_owned(),
        samba: driver.to_owned(),
        steps: leave
            .into_iter()
            .chain([
                Step::StopContainer {
                    id: ct_id.to_owned(),
                },
                Step::DestroyContainer {
                    id: ct_id.to_owned(),
                },
                last,
                Step::Unregister {
                    volume: volume.to_owned(),
                },
            ])
            .collect(),
        context: serde_json::Value::Null,
    }
}
