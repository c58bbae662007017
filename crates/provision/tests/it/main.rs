//! Tests of the provision crate: plans (snapshots), the executor's journal
//! and rollback (fault injection at every step, property-tested), the
//! native Samba edits (against recorded tool runs) and tool-output parsers.

// Helpers outside #[test] functions panic on failure too.
#![allow(clippy::unwrap_used)]

mod exec;
mod lxc;
mod pct;
mod plan;
mod samba;

/// The container of share `team` (128 MiB, one core, volume at
/// /srv/smb/team) with `id`, privilege and network.
pub fn team_container(
    id: &str,
    unprivileged: bool,
    network: provision::Network,
) -> provision::ContainerConfig {
    provision::ContainerConfig {
        id: id.into(),
        hostname: "smbgw-team".into(),
        memory_mb: 128,
        swap_mb: 0,
        cores: 1,
        unprivileged,
        network,
        mount_point: "/srv/smb/team".into(),
        shared: false,
        rootfs_storage: None,
        rootfs_gib: 2,
        domain_member: false,
        audit: false,
    }
}
