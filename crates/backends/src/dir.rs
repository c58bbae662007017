//! A plain directory as a share's volume.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::fsinfo::{allocated_bytes, fs_type, statvfs_usage, users_of};
use crate::{
    Backend, BackendKind, CreateOptions, Error, Purge, Quota, QuotaPolicy, Result, Snapshots,
    Usage, UsageScope, Volume, VolumeName,
};

/// Volumes are directories `<root>/<name>`.
///
/// A directory cannot enforce a quota (no project quotas are set up), so a
/// quota is refused with [`Error::QuotaUnenforceable`] unless the caller
/// passes [`QuotaPolicy::AcceptUnenforced`]; the resulting [`Volume`] then
/// has `quota_enforced == false`. Cheap usage is the whole filesystem's
/// ([`UsageScope::Filesystem`]); exact usage walks the directory. There are
/// no snapshots.
#[derive(Clone, Debug)]
pub struct DirBackend {
    root: PathBuf,
}

impl DirBackend {
    /// Volumes live directly under `root`, which must exist when used.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirBackend { root: root.into() }
    }

    fn path_of(&self, name: &VolumeName) -> PathBuf {
        self.root.join(name.as_str())
    }

    fn check_root(&self) -> Result<()> {
        match fs::metadata(&self.root) {
            Ok(md) if md.is_dir() => Ok(()),
            Ok(_) => Err(Error::WrongType {
                id: self.root.display().to_string(),
                found: "file".into(),
                expected: "directory",
            }),
            Err(e) if e.kind() == ErrorKind::NotFound => Err(Error::ParentNotFound {
                parent: self.root.display().to_string(),
            }),
            Err(source) => Err(Error::Io {
                op: "read",
                path: self.root.clone(),
                source,
            }),
        }
    }

    fn check_quota(&self, path: &Path, policy: QuotaPolicy) -> Result<()> {
        match policy {
            QuotaPolicy::AcceptUnenforced => Ok(()),
            QuotaPolicy::Enforced => Err(Error::QuotaUnenforceable {
                path: path.to_owned(),
                fs_type: fs_type(if path.exists() { path } else { &self.root }),
            }),
        }
    }

    fn existing_dir(&self, vol: &Volume) -> Result<()> {
        match fs::symlink_metadata(&vol.path) {
            Ok(md) if md.is_dir() => Ok(()),
            Ok(md) => Err(Error::WrongType {
                id: vol.id.clone(),
                found: if md.is_symlink() {
                    "symlink".into()
                } else {
                    "file".into()
                },
                expected: "directory",
            }),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                Err(Error::NotFound { id: vol.id.clone() })
            }
            Err(source) => Err(Error::Io {
                op: "read",
                path: vol.path.clone(),
                source,
            }),
        }
    }
}

impl Backend for DirBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Dir
    }

    fn create(&self, name: &VolumeName, opts: &CreateOptions) -> Result<Volume> {
        self.check_root()?;
        let path = self.path_of(name);
        if opts.quota.is_some() {
            self.check_quota(&path, opts.quota_policy)?;
        }
        let id = path.display().to_string();
        match fs::create_dir(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                return Err(Error::AlreadyExists { id })
            }
            Err(source) => {
                return Err(Error::Io {
                    op: "create directory",
                    path,
                    source,
                })
            }
        }
        Ok(Volume {
            kind: BackendKind::Dir,
            id,
            path,
            quota: opts.quota,
            quota_enforced: false,
        })
    }

    fn adopt(&self, name: &VolumeName) -> Result<Volume> {
        self.check_root()?;
        let path = self.path_of(name);
        let vol = Volume {
            kind: BackendKind::Dir,
            id: path.display().to_string(),
            path,
            quota: None,
            quota_enforced: false,
        };
        self.existing_dir(&vol)?;
        Ok(vol)
    }

    fn resize(&self, vol: &Volume, quota: Quota, policy: QuotaPolicy) -> Result<()> {
        self.existing_dir(vol)?;
        self.check_quota(&vol.path, policy)?;
        let used = allocated_bytes(&vol.path)?;
        if quota.bytes() < used {
            return Err(Error::QuotaBelowUsage {
                id: vol.id.clone(),
                requested: quota,
                used,
            });
        }
        Ok(())
    }

    fn usage(&self, vol: &Volume) -> Result<Usage> {
        statvfs_usage(&vol.path, UsageScope::Filesystem)
    }

    fn exact_usage(&self, vol: &Volume) -> Result<Usage> {
        self.existing_dir(vol)?;
        let used = allocated_bytes(&vol.path)?;
        let fs = statvfs_usage(&vol.path, UsageScope::Filesystem)?;
        let (available, total) = match vol.quota {
            // An advisory quota: report against it, capped by real free space.
            Some(q) => (
                q.bytes().saturating_sub(used).min(fs.available),
                Some(q.bytes()),
            ),
            None => (fs.available, fs.total),
        };
        Ok(Usage {
            used,
            available,
            total,
            scope: UsageScope::Volume,
        })
    }

    fn host_path(&self, vol: &Volume) -> Result<PathBuf> {
        self.existing_dir(vol)?;
        Ok(vol.path.clone())
    }

    fn snapshots(&self, vol: &Volume) -> Result<Snapshots> {
        self.existing_dir(vol)?;
        Ok(Snapshots::default())
    }

    /// A directory needs no detaching: this only checks it still exists.
    fn release(&self, vol: &Volume) -> Result<()> {
        self.existing_dir(vol)
    }

    fn destroy(&self, vol: &Volume, purge: &Purge) -> Result<()> {
        purge.check(vol)?;
        self.existing_dir(vol)?;
        let users = users_of(&vol.path);
        if !users.is_empty() {
            return Err(Error::InUse {
                id: vol.id.clone(),
                users,
            });
        }
        fs::remove_dir_all(&vol.path).map_err(|source| Error::Io {
            op: "remove directory",
            path: vol.path.clone(),
            source,
        })
    }
}
