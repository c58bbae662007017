//! The crate's error type.

use std::path::PathBuf;

use runner::RunError;

use crate::quota::{Quota, QuotaProblem};

/// Everything that can go wrong in a backend. Each variant names the volume,
/// path or command concerned and, where there is something to do, says it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A quota string did not parse.
    #[error("invalid quota `{input}`: {problem}")]
    InvalidQuota {
        /// What was given.
        input: String,
        /// Why it was rejected.
        problem: QuotaProblem,
    },
    /// The backend cannot honour a quota that small.
    #[error("quota {quota} is too small for a {backend} volume; use at least {minimum}")]
    QuotaTooSmall {
        /// Requested quota.
        quota: Quota,
        /// Smallest accepted quota.
        minimum: Quota,
        /// Backend name.
        backend: &'static str,
    },
    /// The backend needs a size and none was given.
    #[error("a {backend} volume needs a size; give a quota")]
    QuotaRequired {
        /// Backend name.
        backend: &'static str,
    },
    /// A volume name is not acceptable.
    #[error("invalid volume name `{name}`: {reason}")]
    InvalidName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The configured parent (dataset or directory) is not acceptable.
    #[error("invalid parent `{parent}`: {reason}")]
    InvalidParent {
        /// The parent given.
        parent: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The filesystem under a directory volume cannot enforce a quota.
    #[error(
        "a quota cannot be enforced on {path} (a plain directory on {fs_type}); use a zfs or cephfs backend for an enforced quota, or explicitly accept an unenforced quota"
    )]
    QuotaUnenforceable {
        /// The directory.
        path: PathBuf,
        /// The filesystem type it lives on.
        fs_type: String,
    },
    /// The ZFS pool does not exist.
    #[error("zfs pool `{pool}` does not exist; check `zpool list` and the storage configuration")]
    PoolNotFound {
        /// The pool.
        pool: String,
    },
    /// The Ceph pool does not exist.
    #[error(
        "ceph pool `{pool}` does not exist; check `ceph osd pool ls` and the storage configuration"
    )]
    CephPoolNotFound {
        /// The pool.
        pool: String,
    },
    /// The parent dataset or directory does not exist.
    #[error("parent `{parent}` does not exist; create it first or fix the storage configuration")]
    ParentNotFound {
        /// The parent dataset or directory.
        parent: String,
    },
    /// The volume to create already exists.
    #[error(
        "`{id}` already exists; choose another name, or adopt the existing volume to keep its data"
    )]
    AlreadyExists {
        /// Dataset name or path.
        id: String,
    },
    /// The volume to adopt or use does not exist.
    #[error("`{id}` does not exist; check the name, or create it")]
    NotFound {
        /// Dataset name or path.
        id: String,
    },
    /// The thing found is not the kind of volume a share can use.
    #[error("`{id}` is a {found}, not a {expected}; a share needs a {expected}")]
    WrongType {
        /// Dataset name or path.
        id: String,
        /// What it is.
        found: String,
        /// What it should be.
        expected: &'static str,
    },
    /// A shrink below current usage was refused.
    #[error(
        "cannot set the quota of `{id}` to {requested}: it already uses {used} bytes; delete data first or choose a quota of at least {used} bytes"
    )]
    QuotaBelowUsage {
        /// Dataset name or path.
        id: String,
        /// The refused quota.
        requested: Quota,
        /// Bytes in use.
        used: u64,
    },
    /// The filesystem on the volume cannot shrink.
    #[error("cannot shrink `{id}` to {requested}: {fs} cannot shrink; keep the current size or copy the data to a new, smaller volume")]
    ShrinkUnsupported {
        /// Image name.
        id: String,
        /// The refused size.
        requested: Quota,
        /// The filesystem.
        fs: &'static str,
    },
    /// The volume is not mounted, so it has no path to serve.
    #[error("`{id}` is not mounted (mountpoint {mountpoint}); mount it (`zfs mount {id}`) or give it a mountpoint")]
    NotMounted {
        /// Dataset name.
        id: String,
        /// Its `mountpoint` property.
        mountpoint: String,
    },
    /// Destroy was refused because something uses the volume.
    #[error("`{id}` is in use ({}); stop the share and whatever uses it, then retry", users.join(", "))]
    InUse {
        /// Dataset name or path.
        id: String,
        /// Who uses it (processes, mounts, or the tool's message).
        users: Vec<String>,
    },
    /// Destroy was refused because the volume has child volumes.
    #[error("`{id}` has child datasets ({}); destroy or move them first", children.join(", "))]
    HasChildren {
        /// Dataset name.
        id: String,
        /// The children.
        children: Vec<String>,
    },
    /// The purge confirmation names another volume.
    #[error("refusing to destroy `{id}`: the confirmation names `{confirmed}`")]
    PurgeMismatch {
        /// The volume to destroy.
        id: String,
        /// The volume the confirmation was made for.
        confirmed: String,
    },
    /// A filesystem operation failed.
    #[error("cannot {op} {path}")]
    Io {
        /// What was attempted, e.g. "create directory".
        op: &'static str,
        /// On which path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// An external tool failed (or is missing).
    #[error(transparent)]
    Run(#[from] RunError),
    /// A tool printed something the parser does not understand.
    #[error("unexpected output from `{tool}`: {problem} in {line:?}; please report this with the tool's version")]
    UnexpectedOutput {
        /// The tool, e.g. `zfs get`.
        tool: &'static str,
        /// The offending line.
        line: String,
        /// What was wrong.
        problem: &'static str,
    },
    /// An operation failed and undoing its partial work failed too.
    #[error("{error}; undoing the partial change also failed: {cleanup}")]
    CleanupFailed {
        /// The original failure.
        error: Box<Error>,
        /// The failure of the cleanup.
        cleanup: Box<Error>,
    },
}

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
