//! Which Debian package provides which program, for "tool missing" errors.

/// The Debian/Proxmox package that provides `program`, if it is one the
/// gateway uses. `program` may be a bare name or a path.
pub fn package_for(program: &str) -> Option<&'static str> {
    let name = program.rsplit('/').next().unwrap_or(program);
    Some(match name {
        "zfs" | "zpool" => "zfsutils-linux (or zfs-fuse where OpenZFS is unavailable)",
        "zfs-fuse" => "zfs-fuse",
        "ceph" | "rbd" => "ceph-common",
        "ceph-fuse" => "ceph-fuse",
        "rbd-fuse" => "rbd-fuse",
        "pct" => "pve-container",
        "qm" => "qemu-server",
        "ha-manager" => "pve-ha-manager",
        "pvesh" | "pvesm" => "pve-manager",
        "lxc-start" | "lxc-stop" | "lxc-attach" | "lxc-ls" | "lxc-info" | "lxc-create"
        | "lxc-destroy" => "lxc",
        "smbd" => "samba",
        "smbcontrol" | "testparm" | "net" | "pdbedit" | "smbpasswd" => "samba-common-bin",
        "smbstatus" => "samba",
        "smbclient" => "smbclient",
        "ctdb" | "ctdbd" => "ctdb",
        "mkfs.xfs" | "xfs_growfs" => "xfsprogs",
        "mkfs.ext4" | "resize2fs" | "e2fsck" => "e2fsprogs",
        "mount" | "umount" | "losetup" => "mount",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_programs() {
        assert_eq!(package_for("/usr/sbin/pct"), Some("pve-container"));
        assert_eq!(package_for("testparm"), Some("samba-common-bin"));
        assert_eq!(package_for("frobnicate"), None);
    }
}
