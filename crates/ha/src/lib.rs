//! High availability for pve-smbgateway: where a gateway's container runs,
//! and the Proxmox VE HA configuration that keeps it running.
//!
//! * [`placement`] (pure, no I/O): [`place`] picks the nodes that can run a
//!   gateway — online, reaching the share's storage, with enough free
//!   memory — and orders them (fewest gateways, most free memory, lowest
//!   CPU load, name) into a [`Placement`]: the first node gets the
//!   container, the others are the HA failover targets, each with a
//!   distinct `ha-manager` priority.
//!   [`facts_from_cluster_resources`] reads the node facts from
//!   `pvesh get /cluster/resources --output-format json`.
//! * [`pve`]: the HA resource `ct:VMID` and its node preference through
//!   `ha-manager`, as a node-affinity rule on Proxmox VE 9 or an HA group on
//!   Proxmox VE 8 (detected with `pveversion`). [`ensure_ha`] and
//!   [`remove_ha`] read the current configuration, plan only what is
//!   missing or different (pure, [`pve::plan_ensure`], [`pve::plan_remove`])
//!   and run the plan through a [`runner::Runner`]. Every generated command
//!   is checked against the `ha-manager` schema facts in [`pve::schema`].
//! * [`ctdb`]: a CTDB cluster (nodes, floating addresses, cluster lock,
//!   failure-detection tuning) rendered into each node's files, the
//!   clustered Samba globals, and readers of `ctdb -X` output.
//! * [`lock`]: the quorum cluster lock helper CTDB runs
//!   (`pve-smbgateway ctdb lock-helper FILE`): an fcntl lock held only
//!   while the node sees a majority, so a cut-off leader cannot block
//!   failover.
//!
//! ```
//! use std::collections::BTreeMap;
//! use ha::{ensure_ha, facts_from_cluster_resources, place, Request, MIB};
//! use runner::{RecordingRunner, Reply};
//!
//! let resources = r#"[
//!   {"type":"node","node":"pve1","status":"online","maxmem":17179869184,"mem":4294967296,"cpu":0.1,"maxcpu":8},
//!   {"type":"node","node":"pve2","status":"online","maxmem":17179869184,"mem":2147483648,"cpu":0.1,"maxcpu":8},
//!   {"type":"storage","storage":"cephfs","node":"pve1","status":"available","shared":1},
//!   {"type":"storage","storage":"cephfs","node":"pve2","status":"available","shared":1}
//! ]"#;
//! let gateways = BTreeMap::from([("pve2".to_string(), 1)]);
//! let nodes = facts_from_cluster_resources(resources, &gateways)?;
//! let placement = place(&nodes, &Request { storage: "cephfs".into(), memory: 512 * MIB })?;
//! assert_eq!(placement.primary().node, "pve1"); // pve2 already runs a gateway
//!
//! let fake = RecordingRunner::new();
//! fake.on(["pveversion"], Reply::ok("pve-manager/9.0.10/deb1ca707ec72a89 (running kernel: 6.14.11-2-pve)\n"));
//! fake.on(["ha-manager", "rules", "config"], Reply::ok("[]\n"));
//! let ran = ensure_ha(&fake, 105, "office", &placement)?;
//! assert_eq!(ran.len(), 2);
//! assert!(fake.transcript().ends_with(
//!     "$ ha-manager add ct:105 --state started --max_restart 1 --max_relocate 1\n\
//!      $ ha-manager rules add node-affinity smbgw-office --resources ct:105 --nodes pve1:2,pve2:1 --strict 0\n"
//! ));
//! # Ok::<(), ha::Error>(())
//! ```
//!
//! Limitations:
//! * Only Proxmox VE 8 and 9 are supported; other versions are refused.
//! * The node preference is not strict (`--strict 0`, an unrestricted
//!   group): when none of the placement's nodes is available, Proxmox may
//!   start the container on another node, which may not reach the storage.
//! * Placement knows whether a node reaches a storage, not whether the
//!   data is the same there: a storage that is not shared (local ZFS) has
//!   different data on each node, and failover needs replication.
//! * The placement is a snapshot of the cluster's load when it is made;
//!   HA does not re-run it.
//! * Applying a plan stops at the first failed command and does not undo
//!   the ones before; running again converges, and [`remove_ha`] undoes it.

#![forbid(unsafe_code)]

pub mod ctdb;
pub mod lock;
pub mod placement;
pub mod pve;

use runner::RunError;

pub use placement::{
    facts_from_cluster_resources, place, NodeFacts, NodePriority, Placement, PlacementError,
    Rejected, Rejection, Request, MIB,
};
pub use pve::{ensure_ha, remove_ha, HaFlavor, HaOptions};

/// Errors of placement and of configuring Proxmox VE HA.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A CTDB cluster spec was refused.
    #[error(transparent)]
    Ctdb(#[from] ctdb::CtdbSpecError),
    /// No node can run the gateway.
    #[error(transparent)]
    Placement(#[from] PlacementError),
    /// A tool's output did not have the expected shape.
    #[error("cannot parse {what}: {detail}")]
    Parse {
        /// Which output (e.g. "`ha-manager config` output").
        what: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// The Proxmox VE version is neither 8 nor 9.
    #[error(
        "Proxmox VE {version} is not supported for HA: the gateway configures HA on Proxmox VE 8 (groups) and 9 (rules); upgrade the cluster"
    )]
    UnsupportedVersion {
        /// The `pve-manager` version.
        version: String,
    },
    /// A share id cannot name an HA rule or group.
    #[error("share id `{share}` cannot name an HA rule or group: {reason}")]
    InvalidShareId {
        /// The share id.
        share: String,
        /// Why.
        reason: String,
    },
    /// A container id is not a Proxmox VMID.
    #[error("container id {vmid} is not a VMID (100 to 999999999)")]
    InvalidVmid {
        /// The id.
        vmid: u32,
    },
    /// A generated command does not satisfy `ha-manager`'s schema.
    #[error("`{command}` would be refused by ha-manager: {problem}")]
    Schema {
        /// The command.
        command: String,
        /// What is wrong.
        problem: String,
    },
    /// The container is already in a node-affinity rule the gateway does
    /// not own; Proxmox ignores both rules when a resource is in two.
    #[error(
        "HA resource {resource} is already in node-affinity rule `{rule}`; remove it from that rule (`ha-manager rules set node-affinity {rule} --resources ...` or `ha-manager rules remove {rule}`) and retry"
    )]
    ForeignRule {
        /// The resource, `ct:VMID`.
        resource: String,
        /// The other rule.
        rule: String,
    },
    /// The share's rule id is used by a rule of another type.
    #[error(
        "HA rule `{rule}` exists as a {kind} rule, not the gateway's node-affinity rule; remove it (`ha-manager rules remove {rule}`) and retry"
    )]
    RuleIdTaken {
        /// The rule id.
        rule: String,
        /// Its type.
        kind: String,
    },
    /// PVE 9 refuses rules while HA groups are not migrated to rules.
    #[error(
        "HA groups have not been migrated to rules on this cluster yet (Proxmox VE 9 does it once every node runs version 9); finish upgrading all nodes, then retry"
    )]
    GroupsNotMigrated {
        /// The failed command.
        #[source]
        source: RunError,
    },
    /// A command failed (the error keeps its argv, status and stderr).
    #[error(transparent)]
    Run(#[from] RunError),
}
