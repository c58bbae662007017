//! ZFS datasets as share volumes, through the `zfs` CLI.
//!
//! # Choices
//!
//! * **`refquota`, not `quota`.** `refquota` limits the data the dataset
//!   itself references; `quota` also counts its snapshots and children. With
//!   snapshots published as Windows "Previous Versions", `quota` would make a
//!   share fill up as snapshots age, and deleting files would not free space
//!   (the snapshots keep it). `refquota` is what users see in `df` and in
//!   Explorer, and what they can free by deleting.
//! * **SMB properties at creation:** on OpenZFS, `xattr=sa` (DOS attributes
//!   and ACLs in the dnode, not hidden directories) and `acltype=posixacl`
//!   (so Samba can map Windows ACLs). zfs-fuse knows neither `xattr=sa` nor
//!   `acltype`; there `xattr=on` is set. Which applies is probed once per
//!   create with `zfs get acltype <parent>` (an unknown property on
//!   zfs-fuse), so OpenZFS hosts never lose the better settings.
//!   `casesensitivity` is only set when asked, and only at creation (ZFS
//!   cannot change it later); adopt never changes properties.
//! * **Portable commands:** `zfs get -Hp -o name,property,value,source`
//!   (zfs-fuse has no `zfs list -p`), `zfs list -H -o name -t …`,
//!   `zfs get -d 1` for snapshots; no `-j`, `create -u` or `destroy -n`.
//! * **Destroy:** unmount first (zfs-fuse fails `zfs destroy` of a mounted
//!   dataset with "dataset is busy" even when nothing uses it), retry a
//!   busy destroy once, and report real use (processes, an unmount that
//!   fails "target is busy") as [`Error::InUse`].

mod parse;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use runner::{Cmd, Output, RunError, Runner};

pub use parse::{
    classify_zfs_error, parse_zfs_get, parse_zfs_list_names, parse_zfs_number, ZfsFailure, ZfsProp,
};

use crate::fsinfo::{is_mount_point, statvfs_usage, users_of};
use crate::{
    Backend, BackendKind, CreateOptions, Error, Purge, Quota, QuotaPolicy, Result, Snapshot,
    Snapshots, Usage, UsageScope, Volume, VolumeName,
};

/// The snapshot directory of a ZFS filesystem, relative to its mountpoint.
pub const SNAPDIR: &str = ".zfs/snapshot";

/// The smallest quota a dataset is created with: below about 1 MiB ZFS
/// cannot even write the new dataset's metadata ("out of space").
pub const MIN_QUOTA: u64 = 1 << 20;

/// Datasets `<parent>/<name>` managed with the `zfs` command.
#[derive(Debug)]
pub struct ZfsBackend<R> {
    runner: R,
    parent: String,
}

/// The properties of one dataset from one `zfs get`.
#[derive(Debug, Default)]
struct Props(BTreeMap<String, ZfsProp>);

impl Props {
    fn str(&self, prop: &str) -> Result<&str> {
        self.0
            .get(prop)
            .map(|p| p.value.as_str())
            .ok_or_else(|| Error::UnexpectedOutput {
                tool: "zfs get",
                line: String::new(),
                problem: "a requested property is missing from the output",
            })
    }

    fn num(&self, prop: &str) -> Result<u64> {
        match self.0.get(prop) {
            Some(p) => parse_zfs_number(p),
            None => self.str(prop).map(|_| 0),
        }
    }
}

fn zfs(args: &[&str]) -> Cmd {
    Cmd::new("zfs").args(args.iter().copied())
}

fn failure(e: &RunError) -> ZfsFailure {
    match e {
        RunError::Failed { stderr, .. } => classify_zfs_error(stderr),
        _ => ZfsFailure::Other,
    }
}

impl<R: Runner> ZfsBackend<R> {
    /// Datasets are created under `parent` (e.g. `rpool/smb`), which must
    /// exist when [`Backend::create`] runs.
    pub fn new(runner: R, parent: &str) -> Result<Self> {
        let bad = |reason| {
            Err(Error::InvalidParent {
                parent: parent.to_owned(),
                reason,
            })
        };
        if parent.is_empty() {
            return bad("it is empty");
        }
        if parent.starts_with('/') || parent.ends_with('/') || parent.contains("//") {
            return bad("a dataset name has no leading, trailing or double `/`");
        }
        if !parent
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.:/".contains(c))
        {
            return bad("a dataset name has only letters, digits, `_`, `-`, `.`, `:` and `/`");
        }
        if !parent.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return bad("a pool name starts with a letter");
        }
        Ok(ZfsBackend {
            runner,
            parent: parent.to_owned(),
        })
    }

    /// The parent dataset.
    pub fn parent(&self) -> &str {
        &self.parent
    }

    fn pool(&self) -> &str {
        self.parent.split('/').next().unwrap_or(&self.parent)
    }

    fn dataset(&self, name: &VolumeName) -> String {
        format!("{}/{}", self.parent, name)
    }

    fn run(&self, cmd: &Cmd) -> std::result::Result<Output, RunError> {
        self.runner.run(cmd)
    }

    /// `zfs get -Hp -o name,property,value,source <props> <dataset>`.
    /// A missing dataset becomes `missing` (NotFound / PoolNotFound).
    fn get(&self, dataset: &str, props: &[&str]) -> Result<Props> {
        let list = props.join(",");
        let out = self
            .run(&zfs(&[
                "get",
                "-Hp",
                "-o",
                "name,property,value,source",
                &list,
                dataset,
            ]))
            .map_err(|e| match failure(&e) {
                ZfsFailure::DoesNotExist | ZfsFailure::NoSuchPool => self.missing(dataset, e),
                _ => Error::Run(e),
            })?;
        let rows = parse_zfs_get(&out.stdout_str())?;
        Ok(Props(
            rows.into_iter().map(|r| (r.property.clone(), r)).collect(),
        ))
    }

    /// The error for a dataset that does not exist: [`Error::PoolNotFound`]
    /// if its pool is missing, else [`Error::NotFound`].
    fn missing(&self, dataset: &str, original: RunError) -> Error {
        let pool = dataset.split('/').next().unwrap_or(dataset);
        match self.run(&Cmd::new("zpool").args(["list", "-H", "-o", "name", pool])) {
            Err(e) if matches!(failure(&e), ZfsFailure::NoSuchPool) => Error::PoolNotFound {
                pool: pool.to_owned(),
            },
            Err(e) if e.is_tool_missing() => Error::Run(original),
            _ => Error::NotFound {
                id: dataset.to_owned(),
            },
        }
    }

    /// The SMB-friendly properties this zfs supports (see module docs).
    fn smb_properties(&self) -> Result<Vec<&'static str>> {
        match self.run(&zfs(&["get", "-H", "-o", "value", "acltype", &self.parent])) {
            Ok(_) => Ok(vec!["xattr=sa", "acltype=posixacl"]),
            Err(e) if failure(&e) == ZfsFailure::InvalidProperty("acltype".into()) => {
                Ok(vec!["xattr=on"])
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Mounts `dataset` if needed and returns its mountpoint.
    fn ensure_mounted(&self, dataset: &str) -> Result<PathBuf> {
        let p = self.get(dataset, &["mountpoint", "mounted"])?;
        let mountpoint = p.str("mountpoint")?;
        if !mountpoint.starts_with('/') {
            return Err(Error::NotMounted {
                id: dataset.to_owned(),
                mountpoint: mountpoint.to_owned(),
            });
        }
        if p.str("mounted")? != "yes" {
            self.run(&zfs(&["mount", dataset]))?;
        }
        Ok(PathBuf::from(mountpoint))
    }

    fn volume(&self, dataset: String, path: PathBuf, refquota: u64) -> Volume {
        Volume {
            kind: BackendKind::Zfs,
            id: dataset,
            path,
            quota: Quota::from_bytes(refquota),
            quota_enforced: true,
        }
    }

    /// Destroys `dataset` and its snapshots: unmount, destroy, and retry a
    /// busy destroy once (zfs-fuse).
    /// Run `cmd`, retrying while zfs reports the dataset busy. zfs-fuse
    /// reports busy for a while after an unmount or the last write even when
    /// nothing uses the dataset (seen in about one in three destroys right
    /// after a write); callers have already checked for real users. Waits
    /// 0.1, 0.2, ... 6.4 s: about 13 s in all before giving up (3 s were
    /// not always enough on a loaded 2-core machine).
    fn run_retrying_busy(&self, cmd: &Cmd) -> std::result::Result<Output, RunError> {
        let mut pause = std::time::Duration::from_millis(100);
        let mut result = self.run(cmd);
        for _ in 0..7 {
            if !result
                .as_ref()
                .is_err_and(|e| failure(e) == ZfsFailure::Busy)
            {
                break;
            }
            std::thread::sleep(pause);
            pause *= 2;
            result = self.run(cmd);
        }
        result
    }

    fn destroy_dataset(&self, dataset: &str) -> Result<()> {
        let busy_or_run = |e: RunError| match failure(&e) {
            ZfsFailure::Busy => Error::InUse {
                id: dataset.to_owned(),
                users: vec![e.stderr().unwrap_or_default().trim().replace('\n', "; ")],
            },
            _ => Error::Run(e),
        };
        if self.get(dataset, &["mounted"])?.str("mounted")? == "yes" {
            self.run_retrying_busy(&zfs(&["unmount", dataset]))
                .map_err(busy_or_run)?;
        }
        self.run_retrying_busy(&zfs(&["destroy", "-r", dataset]))
            .map(drop)
            .map_err(busy_or_run)
    }

    fn create_inner(&self, dataset: &str, opts: &CreateOptions) -> Result<Volume> {
        let props = self.smb_properties()?;
        let mut args: Vec<String> = vec!["create".into()];
        if let Some(q) = opts.quota {
            args.extend(["-o".into(), format!("refquota={}", q.bytes())]);
        }
        for p in props {
            args.extend(["-o".into(), p.to_owned()]);
        }
        if let Some(cs) = opts.case_sensitivity {
            args.extend(["-o".into(), format!("casesensitivity={}", cs.zfs_value())]);
        }
        args.push(dataset.to_owned());
        self.run(&Cmd::new("zfs").args(args))
            .map_err(|e| match failure(&e) {
                ZfsFailure::AlreadyExists => Error::AlreadyExists {
                    id: dataset.to_owned(),
                },
                ZfsFailure::ParentDoesNotExist => Error::ParentNotFound {
                    parent: self.parent.clone(),
                },
                ZfsFailure::NoSuchPool => Error::PoolNotFound {
                    pool: self.pool().to_owned(),
                },
                _ => Error::Run(e),
            })?;
        // From here on the dataset exists: undo it if anything fails.
        let finish = || -> Result<Volume> {
            let path = self.ensure_mounted(dataset)?;
            let refquota = self.get(dataset, &["refquota"])?.num("refquota")?;
            Ok(self.volume(dataset.to_owned(), path, refquota))
        };
        finish().map_err(|error| match self.destroy_dataset(dataset) {
            Ok(()) => error,
            Err(cleanup) => Error::CleanupFailed {
                error: Box::new(error),
                cleanup: Box::new(cleanup),
            },
        })
    }

    fn mountpoint_of(&self, vol: &Volume) -> Result<PathBuf> {
        let p = self.get(&vol.id, &["mountpoint", "mounted"])?;
        let mountpoint = p.str("mountpoint")?;
        if p.str("mounted")? != "yes" || !mountpoint.starts_with('/') {
            return Err(Error::NotMounted {
                id: vol.id.clone(),
                mountpoint: mountpoint.to_owned(),
            });
        }
        Ok(PathBuf::from(mountpoint))
    }
}

impl<R: Runner> Backend for ZfsBackend<R> {
    fn kind(&self) -> BackendKind {
        BackendKind::Zfs
    }

    fn create(&self, name: &VolumeName, opts: &CreateOptions) -> Result<Volume> {
        if let Some(q) = opts.quota {
            if q.bytes() < MIN_QUOTA {
                return Err(Error::QuotaTooSmall {
                    quota: q,
                    minimum: Quota::from_bytes(MIN_QUOTA).unwrap_or(q),
                    backend: "zfs",
                });
            }
        }
        // Check before changing anything, so errors are specific.
        let parent = self.get(&self.parent, &["type"]).map_err(|e| match e {
            Error::NotFound { .. } => Error::ParentNotFound {
                parent: self.parent.clone(),
            },
            other => other,
        })?;
        let kind = parent.str("type")?;
        if kind != "filesystem" {
            return Err(Error::WrongType {
                id: self.parent.clone(),
                found: kind.to_owned(),
                expected: "filesystem",
            });
        }
        let dataset = self.dataset(name);
        match self.get(&dataset, &["type"]) {
            Ok(_) => return Err(Error::AlreadyExists { id: dataset }),
            Err(Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        self.create_inner(&dataset, opts)
    }

    fn adopt(&self, name: &VolumeName) -> Result<Volume> {
        let dataset = self.dataset(name);
        let p = self.get(&dataset, &["type", "refquota"])?;
        let kind = p.str("type")?;
        if kind != "filesystem" {
            return Err(Error::WrongType {
                id: dataset,
                found: kind.to_owned(),
                expected: "filesystem",
            });
        }
        let refquota = p.num("refquota")?;
        let path = self.ensure_mounted(&dataset)?;
        Ok(self.volume(dataset, path, refquota))
    }

    /// Sets `refquota`; ZFS always enforces it, so `policy` does not matter.
    fn resize(&self, vol: &Volume, quota: Quota, _policy: QuotaPolicy) -> Result<()> {
        if quota.bytes() < MIN_QUOTA {
            return Err(Error::QuotaTooSmall {
                quota,
                minimum: Quota::from_bytes(MIN_QUOTA).unwrap_or(quota),
                backend: "zfs",
            });
        }
        let used = self.get(&vol.id, &["referenced"])?.num("referenced")?;
        if quota.bytes() < used {
            return Err(Error::QuotaBelowUsage {
                id: vol.id.clone(),
                requested: quota,
                used,
            });
        }
        let set = format!("refquota={}", quota.bytes());
        self.run(&zfs(&["set", &set, &vol.id]))
            .map_err(|e| match failure(&e) {
                ZfsFailure::BelowUsage => Error::QuotaBelowUsage {
                    id: vol.id.clone(),
                    requested: quota,
                    used,
                },
                _ => Error::Run(e),
            })?;
        Ok(())
    }

    /// `statvfs` on the mountpoint: a ZFS mount reports the dataset's own
    /// referenced bytes and its refquota, so the figures are the volume's.
    fn usage(&self, vol: &Volume) -> Result<Usage> {
        if !is_mount_point(&vol.path) {
            return Err(Error::NotMounted {
                id: vol.id.clone(),
                mountpoint: vol.path.display().to_string(),
            });
        }
        statvfs_usage(&vol.path, UsageScope::Volume)
    }

    fn exact_usage(&self, vol: &Volume) -> Result<Usage> {
        let p = self.get(&vol.id, &["referenced", "available", "refquota"])?;
        let refquota = p.num("refquota")?;
        let used = p.num("referenced")?;
        let available = p.num("available")?;
        Ok(Usage {
            used,
            available,
            total: Some(if refquota == 0 {
                used.saturating_add(available)
            } else {
                refquota
            }),
            scope: UsageScope::Volume,
        })
    }

    fn host_path(&self, vol: &Volume) -> Result<PathBuf> {
        self.mountpoint_of(vol)
    }

    fn snapshots(&self, vol: &Volume) -> Result<Snapshots> {
        let path = self.mountpoint_of(vol)?;
        let out = self.run(&zfs(&[
            "get",
            "-Hp",
            "-d",
            "1",
            "-o",
            "name,property,value,source",
            "creation",
            &vol.id,
        ]))?;
        let prefix = format!("{}@", vol.id);
        let mut snapshots = Vec::new();
        for row in parse_zfs_get(&out.stdout_str())? {
            if let Some(name) = row.name.strip_prefix(&prefix) {
                snapshots.push(Snapshot {
                    name: name.to_owned(),
                    created: parse_zfs_number(&row)?,
                    path: path.join(SNAPDIR).join(name),
                });
            }
        }
        snapshots.sort_by(|a, b| (a.created, &a.name).cmp(&(b.created, &b.name)));
        Ok(Snapshots {
            snapdir: Some(PathBuf::from(SNAPDIR)),
            browsable: Path::new(&path).join(SNAPDIR).is_dir(),
            snapshots,
        })
    }

    /// Keeps the dataset, its data, properties and mount as they are; only
    /// checks it still exists.
    fn release(&self, vol: &Volume) -> Result<()> {
        self.get(&vol.id, &["type"]).map(drop)
    }

    fn destroy(&self, vol: &Volume, purge: &Purge) -> Result<()> {
        purge.check(vol)?;
        let p = self.get(&vol.id, &["mountpoint", "mounted"])?;
        let out = self.run(&zfs(&[
            "list",
            "-H",
            "-o",
            "name",
            "-t",
            "filesystem,volume",
            "-r",
            &vol.id,
        ]))?;
        let children: Vec<String> = parse_zfs_list_names(&out.stdout_str())
            .into_iter()
            .filter(|n| n != &vol.id)
            .collect();
        if !children.is_empty() {
            return Err(Error::HasChildren {
                id: vol.id.clone(),
                children,
            });
        }
        if p.str("mounted")? == "yes" {
            let users = users_of(Path::new(p.str("mountpoint")?));
            if !users.is_empty() {
                return Err(Error::InUse {
                    id: vol.id.clone(),
                    users,
                });
            }
        }
        self.destroy_dataset(&vol.id)
    }
}
