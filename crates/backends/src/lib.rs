//! Storage backends for pve-smbgateway shares: the volume behind a share.
//!
//! One trait, [`Backend`], and its implementations:
//!
//! * [`DirBackend`]: a plain directory under a root directory (the embedded
//!   default). It cannot enforce quotas and says so: a quota is refused
//!   unless the caller passes [`QuotaPolicy::AcceptUnenforced`].
//! * [`ZfsBackend`]: a dataset under a parent dataset, driven through the
//!   `zfs` CLI via a [`runner::Runner`]. Works with OpenZFS 2.x and with
//!   zfs-fuse 0.7 (see [`zfs`] for the differences it handles).
//! * [`CephFsBackend`]: a CephFS subvolume (`ceph fs subvolume`), served
//!   from where the filesystem is mounted on the host.
//! * [`RbdBackend`]: an RBD image with XFS, mapped by a [`RbdMapping`]
//!   strategy (kernel `rbd map`, or `rbd-fuse` + a loop device).
//!
//! Every backend can create a volume with a quota or adopt an existing one
//! (never reformatting or resetting it), resize the quota (shrinking below
//! usage is refused), report usage cheaply (one `statvfs`, no process) and
//! exactly (through the tool), give the host path to serve, list snapshots
//! for Samba's `shadow_copy2`, release a volume (keeping the data) and
//! destroy it — only with an explicit [`Purge`], and never while in use.
//!
//! ```
//! use backends::{Backend, CreateOptions, DirBackend, Purge, Quota, QuotaPolicy, VolumeName};
//!
//! let root = tempfile::tempdir().unwrap();
//! let dir = DirBackend::new(root.path());
//! let name = VolumeName::new("team").unwrap();
//!
//! // A directory cannot enforce a quota: refused unless accepted explicitly.
//! let opts = CreateOptions { quota: Some("10G".parse::<Quota>().unwrap()), ..Default::default() };
//! assert!(dir.create(&name, &opts).is_err());
//! let opts = CreateOptions { quota_policy: QuotaPolicy::AcceptUnenforced, ..opts };
//! let vol = dir.create(&name, &opts).unwrap();
//! assert!(!vol.quota_enforced);
//! assert_eq!(dir.host_path(&vol).unwrap(), root.path().join("team"));
//!
//! dir.destroy(&vol, &Purge::confirm("team")).unwrap();
//! ```
//!
//! Limitations: volume names are restricted to [`VolumeName`]'s portable character set, and
//! create/adopt only address volumes directly under the configured parent.

pub mod ceph;
pub mod cephfs;
mod dir;
mod error;
mod fsinfo;
mod name;
mod quota;
pub mod rbd;
pub mod zfs;

use std::path::PathBuf;

pub use ceph::CephClient;
pub use cephfs::CephFsBackend;
pub use dir::DirBackend;
pub use error::{Error, Result};
/// For the fuzz targets: the mount table parser.
#[doc(hidden)]
pub use fsinfo::{parse_mountinfo, Mount};
pub use fsinfo::{statvfs_usage, users_of};
pub use name::VolumeName;
pub use quota::{Quota, QuotaProblem};
pub use rbd::{FuseLoopMap, KernelMap, RbdBackend, RbdMapping};
pub use zfs::ZfsBackend;

/// Which backend a volume belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BackendKind {
    /// [`DirBackend`].
    Dir,
    /// [`ZfsBackend`].
    Zfs,
    /// [`CephFsBackend`].
    CephFs,
    /// [`RbdBackend`].
    Rbd,
}

/// What to do with a quota the backend cannot enforce.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum QuotaPolicy {
    /// Refuse it with [`Error::QuotaUnenforceable`] (the default).
    #[default]
    Enforced,
    /// Accept it as advisory: it is checked when shrinking and shown in
    /// usage reports, but writes beyond it are not stopped.
    AcceptUnenforced,
}

/// Case sensitivity of a new ZFS dataset (a create-time-only property).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaseSensitivity {
    /// POSIX semantics (ZFS default).
    Sensitive,
    /// Case-insensitive, like Windows; lets Samba skip case-folding scans.
    Insensitive,
    /// Both, per request (Solaris CIFS style).
    Mixed,
}

impl CaseSensitivity {
    fn zfs_value(self) -> &'static str {
        match self {
            CaseSensitivity::Sensitive => "sensitive",
            CaseSensitivity::Insensitive => "insensitive",
            CaseSensitivity::Mixed => "mixed",
        }
    }
}

/// Options for [`Backend::create`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreateOptions {
    /// Size limit; `None` for none.
    pub quota: Option<Quota>,
    /// What to do if the quota cannot be enforced.
    pub quota_policy: QuotaPolicy,
    /// Case sensitivity, where the backend supports choosing it at creation
    /// (ZFS); `None` inherits the parent's. Ignored by [`DirBackend`].
    pub case_sensitivity: Option<CaseSensitivity>,
}

/// A share's backing volume.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Volume {
    /// Which backend manages it.
    pub kind: BackendKind,
    /// Backend-specific identity: the dataset name (`tank/smb/team`) or the
    /// directory path.
    pub id: String,
    /// Where it is mounted on the host.
    pub path: PathBuf,
    /// Its quota, if any.
    pub quota: Option<Quota>,
    /// Whether the quota is enforced by the storage (false for a directory).
    pub quota_enforced: bool,
}

/// What a usage figure covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UsageScope {
    /// The volume alone (a ZFS dataset with its refquota).
    Volume,
    /// The whole filesystem the volume lives on (a plain directory's cheap
    /// usage: statvfs cannot tell one directory from its neighbours).
    Filesystem,
}

/// Space used and available.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    /// Bytes used.
    pub used: u64,
    /// Bytes still available to writers.
    pub available: u64,
    /// The limit: the quota, or the filesystem size; `None` when unlimited
    /// and unknown.
    pub total: Option<u64>,
    /// What the figures cover.
    pub scope: UsageScope,
}

/// One snapshot, as Samba's `shadow_copy2` will see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// The snapshot's name (after the `@` for ZFS).
    pub name: String,
    /// Creation time, seconds since the Unix epoch.
    pub created: u64,
    /// Where its files appear on the host.
    pub path: PathBuf,
}

/// The snapshots of a volume and where they live, for `shadow_copy2`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshots {
    /// The snapshot directory relative to the share root (`.zfs/snapshot`),
    /// i.e. `shadow:snapdir`; `None` if the backend has no snapshots.
    pub snapdir: Option<PathBuf>,
    /// Whether the snapshot directory can actually be opened on this host
    /// (zfs-fuse lists snapshots but does not expose `.zfs`).
    pub browsable: bool,
    /// Oldest first.
    pub snapshots: Vec<Snapshot>,
}

/// The explicit confirmation [`Backend::destroy`] requires: it must name
/// the volume being destroyed (its [`Volume::id`], or for names under the
/// backend's parent, just the [`VolumeName`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Purge {
    confirmed: String,
}

impl Purge {
    /// Confirms the destruction of the volume `id` and all its data.
    pub fn confirm(id: impl Into<String>) -> Purge {
        Purge {
            confirmed: id.into(),
        }
    }

    fn check(&self, vol: &Volume) -> Result<()> {
        let short = vol.id.rsplit('/').next().unwrap_or(&vol.id);
        if self.confirmed == vol.id || self.confirmed == short {
            Ok(())
        } else {
            Err(Error::PurgeMismatch {
                id: vol.id.clone(),
                confirmed: self.confirmed.clone(),
            })
        }
    }
}

/// A share's backing volume: create or adopt, resize, measure, serve,
/// snapshot, release, destroy.
pub trait Backend {
    /// Which backend this is.
    fn kind(&self) -> BackendKind;

    /// Creates a new, empty volume. Fails with [`Error::AlreadyExists`] if
    /// something of that name exists; a failed create leaves nothing behind.
    fn create(&self, name: &VolumeName, opts: &CreateOptions) -> Result<Volume>;

    /// Takes over an existing volume as it is: no formatting, no reset, no
    /// property changes (ZFS: it is mounted if it is not).
    fn adopt(&self, name: &VolumeName) -> Result<Volume>;

    /// Sets the quota. Growing always works; shrinking below current usage
    /// is refused with [`Error::QuotaBelowUsage`].
    fn resize(&self, vol: &Volume, quota: Quota, policy: QuotaPolicy) -> Result<()>;

    /// Cheap usage: one `statvfs` on the mounted path, no process spawned.
    /// Meant for a status daemon polling every few seconds.
    fn usage(&self, vol: &Volume) -> Result<Usage>;

    /// Exact usage, through the storage tool (or a directory walk).
    fn exact_usage(&self, vol: &Volume) -> Result<Usage>;

    /// The host path to serve, checked against the storage's current state.
    fn host_path(&self, vol: &Volume) -> Result<PathBuf>;

    /// Snapshots usable as Windows "Previous Versions".
    fn snapshots(&self, vol: &Volume) -> Result<Snapshots>;

    /// Stops managing the volume, keeping its data.
    fn release(&self, vol: &Volume) -> Result<()>;

    /// Destroys the volume and its data (and snapshots). Refused with
    /// [`Error::InUse`] if any process or mount uses it.
    fn destroy(&self, vol: &Volume, purge: &Purge) -> Result<()>;
}
