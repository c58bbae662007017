//! CephFS subvolumes as share volumes, through `ceph fs subvolume`.
//!
//! * The quota is the subvolume's size (`--size` in integer bytes;
//!   `ceph.quota.max_bytes`). CephFS clients enforce it: writes past it fail
//!   with `EDQUOT`.
//! * The served path is where the filesystem is mounted on the host (on
//!   Proxmox `/mnt/pve/<storage>`), joined with the `getpath` result. The
//!   same holds when a subvolume is mounted on its own at
//!   `<base>/<getpath>` (ceph-fuse `-r <getpath>`, as the tests do).
//! * `ceph fs subvolume create` of an existing subvolume succeeds silently
//!   (and may change its size), so create checks with `getpath` first.
//! * Cheap usage: `statvfs` when the path is itself a ceph-fuse/kernel mount
//!   of the subvolume (the client reports the quota), otherwise the virtual
//!   xattrs `ceph.dir.rbytes` and `ceph.quota.max_bytes` (no process either).
//! * Snapshots live in the subvolume's `.snap` directory as
//!   `_<snapshot>_<inode>`.
//! * Destroy removes the subvolume's snapshots first (`rm` fails with
//!   `ENOTEMPTY` otherwise, unless `--retain-snapshots`, which would keep
//!   the data), and refuses while the path is mounted or used.

use std::path::{Path, PathBuf};

use runner::{Output, RunError, Runner};

use crate::ceph::{
    failure, parse_snapshot_created, parse_snapshot_ls, parse_subvolume_info, parse_subvolume_path,
    CephClient, CephFailure, SubvolumeInfo,
};
use crate::fsinfo::{is_mount_point, statvfs_usage, users_of};
use crate::{
    Backend, BackendKind, CreateOptions, Error, Purge, Quota, QuotaPolicy, Result, Snapshot,
    Snapshots, Usage, UsageScope, Volume, VolumeName,
};

/// The snapshot directory of a CephFS directory.
pub const SNAPDIR: &str = ".snap";

/// Subvolumes of one CephFS filesystem, optionally in a subvolume group.
#[derive(Debug)]
pub struct CephFsBackend<R> {
    runner: R,
    client: CephClient,
    fs: String,
    group: Option<String>,
    mount_base: PathBuf,
}

impl<R: Runner> CephFsBackend<R> {
    /// Subvolumes of filesystem `fs`, whose root is mounted on this host at
    /// `mount_base` (Proxmox: `/mnt/pve/<storage>`).
    pub fn new(
        runner: R,
        client: CephClient,
        fs: &str,
        mount_base: impl Into<PathBuf>,
    ) -> Result<Self> {
        check_ceph_name(fs, "filesystem")?;
        let mount_base = mount_base.into();
        if !mount_base.is_absolute() {
            return Err(Error::InvalidParent {
                parent: mount_base.display().to_string(),
                reason: "the mount base must be an absolute path",
            });
        }
        Ok(CephFsBackend {
            runner,
            client,
            fs: fs.to_owned(),
            group: None,
            mount_base,
        })
    }

    /// Puts the subvolumes in subvolume group `group` (which must exist).
    pub fn with_group(mut self, group: &str) -> Result<Self> {
        check_ceph_name(group, "subvolume group")?;
        self.group = Some(group.to_owned());
        Ok(self)
    }

    fn id(&self, name: &str) -> String {
        format!(
            "{}/{}/{}",
            self.fs,
            self.group.as_deref().unwrap_or("_nogroup"),
            name
        )
    }

    fn name_of<'a>(&self, vol: &'a Volume) -> &'a str {
        vol.id.rsplit('/').next().unwrap_or(&vol.id)
    }

    fn sv(
        &self,
        verb: &[&str],
        name: &str,
        extra: &[&str],
    ) -> std::result::Result<Output, RunError> {
        let mut args = vec!["fs", "subvolume"];
        args.extend_from_slice(verb);
        args.push(&self.fs);
        args.push(name);
        args.extend_from_slice(extra);
        if let Some(g) = &self.group {
            args.extend(["--group_name", g.as_str()]);
        }
        self.runner.run(&self.client.cmd("ceph", &args))
    }

    /// Maps a "does not exist" to the most specific error.
    fn not_found(&self, name: &str, e: RunError) -> Error {
        match failure(&e) {
            CephFailure::NotFound("fs") => Error::ParentNotFound {
                parent: format!("cephfs filesystem {}", self.fs),
            },
            CephFailure::NotFound("group") => Error::ParentNotFound {
                parent: format!(
                    "subvolume group {} of cephfs {}",
                    self.group.as_deref().unwrap_or("_nogroup"),
                    self.fs
                ),
            },
            CephFailure::NotFound(_) => Error::NotFound { id: self.id(name) },
            _ => Error::Run(e),
        }
    }

    fn getpath(&self, name: &str) -> Result<String> {
        let out = self
            .sv(&["getpath"], name, &[])
            .map_err(|e| self.not_found(name, e))?;
        parse_subvolume_path(&out.stdout_str())
    }

    fn info(&self, name: &str) -> Result<SubvolumeInfo> {
        let out = self
            .sv(&["info"], name, &[])
            .map_err(|e| self.not_found(name, e))?;
        parse_subvolume_info(&out.stdout_str())
    }

    /// `<mount base>/<subvolume path>`.
    fn served(&self, sub_path: &str) -> PathBuf {
        self.mount_base.join(sub_path.trim_start_matches('/'))
    }

    fn volume(&self, name: &str, info: &SubvolumeInfo) -> Volume {
        Volume {
            kind: BackendKind::CephFs,
            id: self.id(name),
            path: self.served(&info.path),
            quota: info.bytes_quota.and_then(Quota::from_bytes),
            quota_enforced: true,
        }
    }

    fn rm(&self, name: &str) -> Result<()> {
        self.sv(&["rm"], name, &[])
            .map(drop)
            .map_err(|e| match failure(&e) {
                CephFailure::HasSnapshots => Error::InUse {
                    id: self.id(name),
                    users: vec!["snapshots were taken while it was being destroyed".to_owned()],
                },
                _ => self.not_found(name, e),
            })
    }

    fn snapshot_names(&self, name: &str) -> Result<Vec<String>> {
        let out = self
            .sv(&["snapshot", "ls"], name, &[])
            .map_err(|e| self.not_found(name, e))?;
        parse_snapshot_ls(&out.stdout_str())
    }
}

fn check_ceph_name(s: &str, what: &'static str) -> Result<()> {
    let ok = !s.is_empty()
        && !s.starts_with(['-', '.', '_'])
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidParent {
            parent: s.to_owned(),
            reason: match what {
                "filesystem" => "a cephfs filesystem name has only letters, digits, `_`, `-` and `.`, and starts with a letter or digit",
                _ => "a subvolume group name has only letters, digits, `_`, `-` and `.`, and starts with a letter or digit",
            },
        })
    }
}

fn getxattr_u64(path: &Path, name: &str) -> Option<u64> {
    let mut buf = [0u8; 64];
    let n = rustix::fs::getxattr(path, name, &mut buf).ok()?;
    std::str::from_utf8(&buf[..n]).ok()?.trim().parse().ok()
}

impl<R: Runner> Backend for CephFsBackend<R> {
    fn kind(&self) -> BackendKind {
        BackendKind::CephFs
    }

    fn create(&self, name: &VolumeName, opts: &CreateOptions) -> Result<Volume> {
        let name = name.as_str();
        match self.getpath(name) {
            Ok(_) => return Err(Error::AlreadyExists { id: self.id(name) }),
            Err(Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        let size = opts.quota.map(|q| q.bytes().to_string());
        let mut extra = vec!["--mode", "0755"];
        if let Some(s) = &size {
            extra.extend(["--size", s.as_str()]);
        }
        self.sv(&["create"], name, &extra)
            .map_err(|e| self.not_found(name, e))?;
        let finish = || -> Result<Volume> {
            let info = self.info(name)?;
            Ok(self.volume(name, &info))
        };
        finish().map_err(|error| match self.rm(name) {
            Ok(()) => error,
            Err(cleanup) => Error::CleanupFailed {
                error: Box::new(error),
                cleanup: Box::new(cleanup),
            },
        })
    }

    fn adopt(&self, name: &VolumeName) -> Result<Volume> {
        let info = self.info(name.as_str())?;
        if info.state != "complete" {
            return Err(Error::WrongType {
                id: self.id(name.as_str()),
                found: format!("subvolume in state `{}`", info.state),
                expected: "complete subvolume",
            });
        }
        Ok(self.volume(name.as_str(), &info))
    }

    /// `ceph fs subvolume resize --no_shrink`: CephFS always enforces the
    /// quota, so `policy` does not matter.
    fn resize(&self, vol: &Volume, quota: Quota, _policy: QuotaPolicy) -> Result<()> {
        let name = self.name_of(vol);
        let used = self.info(name)?.bytes_used;
        let below = || Error::QuotaBelowUsage {
            id: vol.id.clone(),
            requested: quota,
            used,
        };
        if quota.bytes() < used {
            return Err(below());
        }
        let size = quota.bytes().to_string();
        self.sv(&["resize"], name, &[&size, "--no_shrink"])
            .map(drop)
            .map_err(|e| match failure(&e) {
                CephFailure::Invalid => below(),
                _ => self.not_found(name, e),
            })
    }

    fn usage(&self, vol: &Volume) -> Result<Usage> {
        if is_mount_point(&vol.path) {
            return statvfs_usage(&vol.path, UsageScope::Volume);
        }
        let used = getxattr_u64(&vol.path, "ceph.dir.rbytes");
        let quota = getxattr_u64(&vol.path, "ceph.quota.max_bytes").filter(|&q| q != 0);
        match (used, quota) {
            (Some(used), Some(q)) => Ok(Usage {
                used,
                available: q.saturating_sub(used),
                total: Some(q),
                scope: UsageScope::Volume,
            }),
            (Some(used), None) => {
                let fs = statvfs_usage(&vol.path, UsageScope::Filesystem)?;
                Ok(Usage {
                    used,
                    available: fs.available,
                    total: None,
                    scope: UsageScope::Volume,
                })
            }
            _ => Err(Error::NotMounted {
                id: vol.id.clone(),
                mountpoint: vol.path.display().to_string(),
            }),
        }
    }

    fn exact_usage(&self, vol: &Volume) -> Result<Usage> {
        let info = self.info(self.name_of(vol))?;
        Ok(match info.bytes_quota {
            Some(q) => Usage {
                used: info.bytes_used,
                available: q.saturating_sub(info.bytes_used),
                total: Some(q),
                scope: UsageScope::Volume,
            },
            None => Usage {
                used: info.bytes_used,
                available: statvfs_usage(&vol.path, UsageScope::Filesystem)
                    .map(|u| u.available)
                    .unwrap_or(0),
                total: None,
                scope: UsageScope::Volume,
            },
        })
    }

    fn host_path(&self, vol: &Volume) -> Result<PathBuf> {
        let path = self.served(&self.getpath(self.name_of(vol))?);
        if !path.is_dir() {
            return Err(Error::NotMounted {
                id: vol.id.clone(),
                mountpoint: path.display().to_string(),
            });
        }
        Ok(path)
    }

    fn snapshots(&self, vol: &Volume) -> Result<Snapshots> {
        let name = self.name_of(vol);
        let path = self.host_path(vol)?;
        let snapdir = path.join(SNAPDIR);
        let entries: Vec<String> = std::fs::read_dir(&snapdir)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let mut snapshots = Vec::new();
        for snap in self.snapshot_names(name)? {
            let out = self
                .sv(&["snapshot", "info"], name, &[&snap])
                .map_err(|e| self.not_found(name, e))?;
            let created = parse_snapshot_created(&out.stdout_str())?;
            // Inside the subvolume the snapshot shows as `_<snap>_<inode>`.
            let prefix = format!("_{snap}_");
            let dir = entries
                .iter()
                .find(|e| {
                    e.strip_prefix(&prefix).is_some_and(|ino| {
                        !ino.is_empty() && ino.bytes().all(|b| b.is_ascii_digit())
                    })
                })
                .cloned()
                .unwrap_or_else(|| snap.clone());
            snapshots.push(Snapshot {
                name: snap,
                created,
                path: snapdir.join(dir),
            });
        }
        snapshots.sort_by(|a, b| (a.created, &a.name).cmp(&(b.created, &b.name)));
        Ok(Snapshots {
            snapdir: Some(PathBuf::from(SNAPDIR)),
            browsable: snapdir.is_dir(),
            snapshots,
        })
    }

    /// Keeps the subvolume, its data and quota; only checks it exists.
    fn release(&self, vol: &Volume) -> Result<()> {
        self.getpath(self.name_of(vol)).map(drop)
    }

    fn destroy(&self, vol: &Volume, purge: &Purge) -> Result<()> {
        purge.check(vol)?;
        let name = self.name_of(vol);
        let path = self.served(&self.getpath(name)?);
        let mut users = users_of(&path);
        if is_mount_point(&path) {
            users.push(format!("mount {}", path.display()));
        }
        if !users.is_empty() {
            return Err(Error::InUse {
                id: vol.id.clone(),
                users,
            });
        }
        for snap in self.snapshot_names(name)? {
            self.sv(&["snapshot", "rm"], name, &[&snap])
                .map_err(|e| self.not_found(name, e))?;
        }
        self.rm(name)
    }
}
