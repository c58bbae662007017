//! RBD images as share volumes: `rbd create/resize/info/du/rm`, a block
//! device from a [`RbdMapping`], XFS on it, mounted at `<mount base>/<name>`.
//!
//! * Mapping is a strategy: [`KernelMap`] (`rbd map`, Proxmox hosts) or
//!   [`FuseLoopMap`] (`rbd-fuse` exposes the image as a file, `losetup`
//!   turns it into a block device; for hosts without krbd).
//! * The quota is the image size. XFS needs at least [`MIN_QUOTA`]
//!   (xfsprogs 5.19+ refuses smaller filesystems). Grow is online:
//!   `rbd resize`, the mapping's refresh (`losetup -c` for a loop), then
//!   `xfs_growfs`. XFS cannot shrink, so a shrink is refused: with
//!   [`Error::QuotaBelowUsage`] when the data does not fit, else with
//!   [`Error::ShrinkUnsupported`].
//! * Adopt never formats: an image without a filesystem is refused.
//! * Release unmounts and unmaps (the data stays in the image); destroy
//!   also removes the image (`rbd rm`), refusing while it is in use.
//! * No snapshots are exposed as files.

use std::path::{Path, PathBuf};

use runner::{Cmd, Runner};

use crate::ceph::{failure, parse_rbd_du, parse_rbd_info, CephClient, CephFailure};
use crate::fsinfo::{is_mount_point, statvfs_usage, users_of};
use crate::{
    Backend, BackendKind, CreateOptions, Error, Purge, Quota, QuotaPolicy, Result, Snapshots,
    Usage, UsageScope, Volume, VolumeName,
};

/// The smallest image: mkfs.xfs refuses filesystems below 300 MiB.
pub const MIN_QUOTA: u64 = 300 << 20;

/// Turns an image into a block device and back.
pub trait RbdMapping: std::fmt::Debug {
    /// Maps `pool/image`; returns the block device.
    fn map(
        &self,
        runner: &dyn Runner,
        client: &CephClient,
        pool: &str,
        image: &str,
    ) -> Result<PathBuf>;
    /// The block device `pool/image` is mapped to, if it is.
    fn mapped(&self, runner: &dyn Runner, pool: &str, image: &str) -> Result<Option<PathBuf>>;
    /// Makes the device of `pool/image` see the image's new size.
    fn refresh(&self, runner: &dyn Runner, pool: &str, image: &str) -> Result<()>;
    /// Undoes [`RbdMapping::map`] for `pool/image`; `device` is its block
    /// device if still attached.
    fn unmap(
        &self,
        runner: &dyn Runner,
        pool: &str,
        image: &str,
        device: Option<&Path>,
    ) -> Result<()>;
}

/// Kernel RBD: `rbd map` / `rbd unmap`; the kernel sees resizes itself.
#[derive(Debug, Default)]
pub struct KernelMap;

impl RbdMapping for KernelMap {
    fn map(
        &self,
        runner: &dyn Runner,
        client: &CephClient,
        pool: &str,
        image: &str,
    ) -> Result<PathBuf> {
        let spec = format!("{pool}/{image}");
        let out = runner.run(&client.cmd("rbd", &["map", &spec]))?;
        Ok(PathBuf::from(out.stdout_str().trim()))
    }

    fn mapped(&self, _runner: &dyn Runner, pool: &str, image: &str) -> Result<Option<PathBuf>> {
        // udev's stable name; present only while mapped.
        let link = Path::new("/dev/rbd").join(pool).join(image);
        Ok(std::fs::canonicalize(link).ok())
    }

    fn refresh(&self, _runner: &dyn Runner, _pool: &str, _image: &str) -> Result<()> {
        Ok(())
    }

    fn unmap(
        &self,
        runner: &dyn Runner,
        _pool: &str,
        _image: &str,
        device: Option<&Path>,
    ) -> Result<()> {
        let Some(device) = device else {
            return Ok(());
        };
        runner.run(&Cmd::new("rbd").args(["unmap".to_owned(), device.display().to_string()]))?;
        Ok(())
    }
}

/// `rbd-fuse -p <pool> -r <image>` mounted at `<dir>/<pool>.<image>`, whose
/// file `<image>` is attached to a loop device.
#[derive(Debug)]
pub struct FuseLoopMap {
    dir: PathBuf,
}

impl FuseLoopMap {
    /// rbd-fuse mounts go under `dir` (created as needed).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FuseLoopMap { dir: dir.into() }
    }

    fn fuse_dir(&self, pool: &str, image: &str) -> PathBuf {
        self.dir.join(format!("{pool}.{image}"))
    }

    fn file(&self, pool: &str, image: &str) -> PathBuf {
        self.fuse_dir(pool, image).join(image)
    }
}

fn io(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_owned();
    move |source| Error::Io { op, path, source }
}

impl RbdMapping for FuseLoopMap {
    fn map(
        &self,
        runner: &dyn Runner,
        client: &CephClient,
        pool: &str,
        image: &str,
    ) -> Result<PathBuf> {
        let dir = self.fuse_dir(pool, image);
        std::fs::create_dir_all(&dir).map_err(io("create directory", &dir))?;
        let d = dir.display().to_string();
        if !is_mount_point(&dir) {
            let mut cmd = Cmd::new("rbd-fuse");
            if let Some(conf) = &client.conf {
                cmd = cmd.args(["-c".to_owned(), conf.display().to_string()]);
            }
            runner.run(&cmd.args(["-p", pool, "-r", image, &d]))?;
        }
        let file = self.file(pool, image).display().to_string();
        let out = runner.run(&Cmd::new("losetup").args(["--find", "--show", &file]))?;
        Ok(PathBuf::from(out.stdout_str().trim()))
    }

    fn mapped(&self, runner: &dyn Runner, pool: &str, image: &str) -> Result<Option<PathBuf>> {
        let file = self.file(pool, image);
        if !is_mount_point(&self.fuse_dir(pool, image)) {
            return Ok(None);
        }
        let f = file.display().to_string();
        let out = runner.run(&Cmd::new("losetup").args(["-n", "-O", "NAME", "-j", &f]))?;
        Ok(out
            .stdout_str()
            .lines()
            .next()
            .map(|l| PathBuf::from(l.trim())))
    }

    fn refresh(&self, runner: &dyn Runner, pool: &str, image: &str) -> Result<()> {
        let Some(device) = self.mapped(runner, pool, image)? else {
            return Ok(());
        };
        runner.run(&Cmd::new("losetup").args(["-c".to_owned(), device.display().to_string()]))?;
        Ok(())
    }

    fn unmap(
        &self,
        runner: &dyn Runner,
        pool: &str,
        image: &str,
        device: Option<&Path>,
    ) -> Result<()> {
        if let Some(device) = device {
            runner
                .run(&Cmd::new("losetup").args(["-d".to_owned(), device.display().to_string()]))?;
        }
        let dir = self.fuse_dir(pool, image);
        if is_mount_point(&dir) {
            // Unmounting ends rbd-fuse.
            runner.run(&Cmd::new("umount").arg(dir.display().to_string()))?;
        }
        let _ = std::fs::remove_dir(&dir);
        Ok(())
    }
}

/// Images in one pool, formatted XFS and mounted under a base directory.
#[derive(Debug)]
pub struct RbdBackend<R, M> {
    runner: R,
    client: CephClient,
    pool: String,
    mount_base: PathBuf,
    mapping: M,
}

impl<R: Runner, M: RbdMapping> RbdBackend<R, M> {
    /// Images in `pool`, each mounted at `<mount_base>/<name>`.
    pub fn new(
        runner: R,
        client: CephClient,
        pool: &str,
        mount_base: impl Into<PathBuf>,
        mapping: M,
    ) -> Result<Self> {
        let ok = !pool.is_empty()
            && !pool.starts_with(['-', '.'])
            && pool
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
        if !ok {
            return Err(Error::InvalidParent {
                parent: pool.to_owned(),
                reason: "a pool name has only letters, digits, `_`, `-` and `.`",
            });
        }
        Ok(RbdBackend {
            runner,
            client,
            pool: pool.to_owned(),
            mount_base: mount_base.into(),
            mapping,
        })
    }

    fn spec(&self, name: &str) -> String {
        format!("{}/{}", self.pool, name)
    }

    fn name_of<'a>(&self, vol: &'a Volume) -> &'a str {
        vol.id.rsplit('/').next().unwrap_or(&vol.id)
    }

    fn rbd(&self, args: &[&str]) -> Result<runner::Output, runner::RunError> {
        self.runner.run(&self.client.cmd("rbd", args))
    }

    fn not_found(&self, name: &str, e: runner::RunError) -> Error {
        match failure(&e) {
            CephFailure::NotFound("pool") => Error::CephPoolNotFound {
                pool: self.pool.clone(),
            },
            CephFailure::NotFound(_) => Error::NotFound {
                id: self.spec(name),
            },
            _ => Error::Run(e),
        }
    }

    fn info(&self, name: &str) -> Result<u64> {
        let out = self
            .rbd(&["info", "--format", "json", &self.spec(name)])
            .map_err(|e| self.not_found(name, e))?;
        Ok(parse_rbd_info(&out.stdout_str())?.size)
    }

    fn mountpoint(&self, name: &str) -> PathBuf {
        self.mount_base.join(name)
    }

    fn device(&self, name: &str) -> Result<PathBuf> {
        match self.mapping.mapped(&self.runner, &self.pool, name)? {
            Some(dev) => Ok(dev),
            None => self
                .mapping
                .map(&self.runner, &self.client, &self.pool, name),
        }
    }

    /// Maps and mounts; formats only when `format` (a new image).
    fn attach(&self, name: &str, format: bool) -> Result<PathBuf> {
        let mnt = self.mountpoint(name);
        if is_mount_point(&mnt) {
            return Ok(mnt);
        }
        let dev = self.device(name)?;
        let d = dev.display().to_string();
        if format {
            self.runner.run(&Cmd::new("mkfs.xfs").args(["-q", &d]))?;
        } else {
            let fs = self
                .runner
                .run(&Cmd::new("blkid").args(["-o", "value", "-s", "TYPE", &d]))
                .map(|o| o.stdout_str().trim().to_owned())
                .unwrap_or_default();
            if fs.is_empty() {
                return Err(Error::WrongType {
                    id: self.spec(name),
                    found: "image without a filesystem".to_owned(),
                    expected: "image with a filesystem (adopt never formats)",
                });
            }
        }
        std::fs::create_dir_all(&mnt).map_err(io("create directory", &mnt))?;
        self.runner
            .run(&Cmd::new("mount").args([d, mnt.display().to_string()]))?;
        Ok(mnt)
    }

    /// Unmounts and unmaps whatever is attached.
    fn detach(&self, name: &str) -> Result<()> {
        let mnt = self.mountpoint(name);
        if is_mount_point(&mnt) {
            self.runner
                .run(&Cmd::new("umount").arg(mnt.display().to_string()))
                .map_err(|e| Error::InUse {
                    id: self.spec(name),
                    users: vec![e.stderr().unwrap_or_default().trim().to_owned()],
                })?;
        }
        let _ = std::fs::remove_dir(&mnt);
        let dev = self.mapping.mapped(&self.runner, &self.pool, name)?;
        self.mapping
            .unmap(&self.runner, &self.pool, name, dev.as_deref())?;
        Ok(())
    }

    fn volume(&self, name: &str, size: u64, path: PathBuf) -> Volume {
        Volume {
            kind: BackendKind::Rbd,
            id: self.spec(name),
            path,
            quota: Quota::from_bytes(size),
            quota_enforced: true,
        }
    }

    fn remove(&self, name: &str) -> Result<()> {
        self.rbd(&["rm", "--no-progress", &self.spec(name)])
            .map(drop)
            .map_err(|e| match failure(&e) {
                CephFailure::Busy => Error::InUse {
                    id: self.spec(name),
                    users: vec!["the image has watchers (open or mapped elsewhere)".to_owned()],
                },
                _ => self.not_found(name, e),
            })
    }
}

impl<R: Runner, M: RbdMapping> Backend for RbdBackend<R, M> {
    fn kind(&self) -> BackendKind {
        BackendKind::Rbd
    }

    /// The quota is the image size and is required.
    fn create(&self, name: &VolumeName, opts: &CreateOptions) -> Result<Volume> {
        let name = name.as_str();
        let quota = opts.quota.ok_or(Error::QuotaRequired { backend: "rbd" })?;
        if quota.bytes() < MIN_QUOTA {
            return Err(Error::QuotaTooSmall {
                quota,
                minimum: Quota::from_bytes(MIN_QUOTA).unwrap_or(quota),
                backend: "rbd",
            });
        }
        match self.info(name) {
            Ok(_) => {
                return Err(Error::AlreadyExists {
                    id: self.spec(name),
                })
            }
            Err(Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        let size = format!("{}B", quota.bytes());
        self.rbd(&["create", &self.spec(name), "--size", &size])
            .map_err(|e| match failure(&e) {
                CephFailure::Exists => Error::AlreadyExists {
                    id: self.spec(name),
                },
                _ => self.not_found(name, e),
            })?;
        let finish = || -> Result<Volume> {
            let path = self.attach(name, true)?;
            Ok(self.volume(name, quota.bytes(), path))
        };
        finish().map_err(|error| {
            let cleanup = self.detach(name).and_then(|()| self.remove(name));
            match cleanup {
                Ok(()) => error,
                Err(cleanup) => Error::CleanupFailed {
                    error: Box::new(error),
                    cleanup: Box::new(cleanup),
                },
            }
        })
    }

    fn adopt(&self, name: &VolumeName) -> Result<Volume> {
        let size = self.info(name.as_str())?;
        let path = self.attach(name.as_str(), false)?;
        Ok(self.volume(name.as_str(), size, path))
    }

    fn resize(&self, vol: &Volume, quota: Quota, _policy: QuotaPolicy) -> Result<()> {
        let name = self.name_of(vol);
        let size = self.info(name)?;
        if quota.bytes() < size {
            let used = statvfs_usage(&vol.path, UsageScope::Volume)
                .map(|u| u.used)
                .unwrap_or(size);
            if quota.bytes() < used {
                return Err(Error::QuotaBelowUsage {
                    id: vol.id.clone(),
                    requested: quota,
                    used,
                });
            }
            return Err(Error::ShrinkUnsupported {
                id: vol.id.clone(),
                requested: quota,
                fs: "xfs",
            });
        }
        if quota.bytes() == size {
            return Ok(());
        }
        let s = format!("{}B", quota.bytes());
        self.rbd(&["resize", "--no-progress", "--size", &s, &vol.id])
            .map_err(|e| self.not_found(name, e))?;
        self.mapping.refresh(&self.runner, &self.pool, name)?;
        self.runner
            .run(&Cmd::new("xfs_growfs").arg(vol.path.display().to_string()))?;
        Ok(())
    }

    fn usage(&self, vol: &Volume) -> Result<Usage> {
        if !is_mount_point(&vol.path) {
            return Err(Error::NotMounted {
                id: vol.id.clone(),
                mountpoint: vol.path.display().to_string(),
            });
        }
        statvfs_usage(&vol.path, UsageScope::Volume)
    }

    /// `rbd du`: bytes allocated in the image (what the cluster stores),
    /// against its size.
    fn exact_usage(&self, vol: &Volume) -> Result<Usage> {
        let name = self.name_of(vol);
        let out = self
            .rbd(&["du", "--format", "json", &vol.id])
            .map_err(|e| self.not_found(name, e))?;
        let (size, used) = parse_rbd_du(&out.stdout_str())?;
        Ok(Usage {
            used,
            available: size.saturating_sub(used),
            total: Some(size),
            scope: UsageScope::Volume,
        })
    }

    fn host_path(&self, vol: &Volume) -> Result<PathBuf> {
        self.info(self.name_of(vol))?;
        if !is_mount_point(&vol.path) {
            return Err(Error::NotMounted {
                id: vol.id.clone(),
                mountpoint: vol.path.display().to_string(),
            });
        }
        Ok(vol.path.clone())
    }

    fn snapshots(&self, vol: &Volume) -> Result<Snapshots> {
        self.info(self.name_of(vol))?;
        Ok(Snapshots::default())
    }

    /// Unmounts and unmaps; the image and its data stay.
    fn release(&self, vol: &Volume) -> Result<()> {
        let name = self.name_of(vol);
        self.info(name)?;
        let users = users_of(&vol.path);
        if !users.is_empty() {
            return Err(Error::InUse {
                id: vol.id.clone(),
                users,
            });
        }
        self.detach(name)
    }

    fn destroy(&self, vol: &Volume, purge: &Purge) -> Result<()> {
        purge.check(vol)?;
        self.release(vol)?;
        self.remove(self.name_of(vol))
    }
}
