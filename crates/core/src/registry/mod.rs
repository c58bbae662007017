//! The share registry: one file in Proxmox's SectionConfig format.
//!
//! # File format
//!
//! The format is the one `PVE::SectionConfig` (pve-common) reads and writes,
//! so the file sits naturally next to `storage.cfg` under `/etc/pve` (property
//! lines are indented with one tab, shown here as spaces):
//!
//! ```text
//! # shares served by pve-smbgateway
//! share: team
//!     comment Team files
//!     backend zfs
//!     zfs-parent rpool/shares
//!     volume team
//!     existing 0
//!     quota 10GiB
//!     quota-unenforced 0
//!     mode native
//!     workgroup WORKGROUP
//!     users alice,bob
//!     groups staff
//!     read-only 0
//!     signing auto
//!     encryption desired
//!     volume-id rpool/shares/team
//!     path /rpool/shares/team
//!     created-volume 1
//!     created-users alice
//!     created-at 1700000000
//!
//! ```
//!
//! * A section starts with a header line `type: id` at the start of a line
//!   and runs until the next empty (or whitespace-only) line; [`Shares`]
//!   writes an empty line after each section, as Proxmox does.
//! * Property lines start with whitespace (a tab when written): `key value`,
//!   the value running to the end of the line with surrounding whitespace
//!   removed. Booleans are `0`/`1` (a boolean key without a value means
//!   `1`, as in Proxmox); lists (`users`, `groups`, `created-users`) are
//!   comma-separated on one line, like Proxmox's `-list` formats.
//! * Lines whose first non-blank character is `#` are comments.
//! * The keys of a `share` section: `backend` (`dir`, `zfs`, `cephfs`,
//!   `rbd`) with `dir-root`; or `zfs-parent`; or `cephfs-fs` and optional
//!   `cephfs-group` and `cephfs-mount` (default `/mnt/pve/<fs>`); or
//!   `rbd-pool`, `rbd-map` (`krbd` or `fuse`, default `krbd`) and optional
//!   `rbd-mount-base` (default `/var/lib/pve-smbgateway/rbd`); the two Ceph
//!   backends also take optional `ceph-conf` and `ceph-id` (defaults: the
//!   tools' `/etc/ceph/ceph.conf` and `admin`); `volume`, `existing`, `quota` (written
//!   in the largest exact binary unit, e.g. `10GiB`), `quota-unenforced`,
//!   `mode`, `workgroup`, `users`, `groups`, `read-only`, `signing`,
//!   `encryption`, `ha` and `vip` (present only when HA is configured),
//!   `comment`; and the state: `volume-id`, `path`, `created-volume`,
//!   `created-users`, `created-at` (unix seconds). Required: `backend` and
//!   its keys, `volume`, `mode`, `workgroup`, `volume-id`, `path`,
//!   `created-at`; the others default to `0`, empty or the spec default.
//!
//! Where we differ from Proxmox's parser on purpose: Proxmox warns about a
//! line it cannot parse and skips it (or the whole section); we refuse the
//! file with the file name, line number and key, because a registry that
//! silently drops a share would make the gateway forget what it created.
//! Nothing is lost on rewrite: sections of other types are kept verbatim,
//! and so are unknown keys and comment lines inside a share section; a
//! share section that was not changed is written back byte for byte, and a
//! changed one is written in the canonical order above followed by its
//! unknown keys and comments. Every parsed share is re-validated, so a
//! hand-edited bad value is reported instead of acted upon.
//!
//! # Concurrency and durability
//!
//! [`Registry::update`] takes an exclusive `flock` on a sibling lock file
//! (`<file>.lock`), reads the file, runs the caller's closure and, if the
//! closure succeeds and changed something, writes the new text to a temp
//! file in the same directory (created 0600, then set to 0640: the registry
//! holds no secrets but is root's), fsyncs it, renames it over the file and
//! fsyncs the directory. Readers ([`Registry::load`]) need no lock: they
//! see the old or the new file, never a mix.
//!
//! Limitation: `flock` is node-local. On a Proxmox cluster the file lives
//! on pmxcfs (`/etc/pve`), which replicates it but does not make the lock
//! cluster-wide; two nodes updating at the same moment could still lose
//! one update. Cluster-wide locking needs pmxcfs's lock directory
//! (`/etc/pve/priv/lock`) and is left to the HA work. pmxcfs also limits a
//! file to 1 MiB, roughly 2,000 shares.

mod atomic;
mod shares;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use shares::{Shares, SHARE_TYPE};

use crate::error::{Error, Result};
use crate::spec::{self, ShareId, ShareSpec};

/// What the gateway did for a share, needed to report on and undo it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ShareState {
    /// The backend's id of the volume (dataset, directory, subvolume, image).
    pub volume_id: String,
    /// The host path Samba serves.
    pub path: PathBuf,
    /// Whether the gateway created the volume (rather than adopting it).
    pub created_volume: bool,
    /// Users the gateway created, to remove on delete.
    pub created_users: Vec<String>,
    /// When the share was created, in seconds since the Unix epoch.
    pub created_at: u64,
}

impl ShareState {
    /// Checks the fields: a one-line volume id, an absolute normalized path,
    /// valid and distinct user names.
    pub fn validate(&self) -> Result<()> {
        check_volume_id(&self.volume_id)?;
        spec::check_state_path(&self.path)?;
        spec::check_name_list("created users", &self.created_users, false)
    }
}

fn check_volume_id(id: &str) -> Result<()> {
    let bad = |reason: &str| {
        Err(Error::Invalid {
            field: "volume id",
            value: id.to_owned(),
            reason: reason.to_owned(),
        })
    };
    if id.is_empty() {
        return bad("it is empty");
    }
    if id.chars().any(char::is_control) {
        return bad("it contains a control character or line break");
    }
    if id.starts_with(char::is_whitespace) || id.ends_with(char::is_whitespace) {
        return bad("it starts or ends with whitespace");
    }
    Ok(())
}

/// One registered share: the spec it was created from and what was done.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ShareRecord {
    /// What was asked for.
    pub spec: ShareSpec,
    /// What was done.
    pub state: ShareState,
}

impl ShareRecord {
    /// Validates the spec and the state.
    pub fn validate(&self) -> Result<()> {
        self.spec.validate()?;
        self.state.validate()
    }

    /// The share's id.
    pub fn id(&self) -> &ShareId {
        &self.spec.id
    }
}

/// The registry file of one node (or, under `/etc/pve`, of the cluster).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registry {
    path: PathBuf,
}

impl Registry {
    /// The registry on a Proxmox VE node: in the cluster filesystem, which
    /// pmxcfs replicates to every node.
    pub const PVE_PATH: &'static str = "/etc/pve/smbgateway.cfg";

    /// The registry elsewhere (plain Debian with LXC, tests).
    pub const STANDALONE_PATH: &'static str = "/etc/pve-smbgateway/shares.cfg";

    /// A registry kept in `path`.
    pub fn new(path: impl Into<PathBuf>) -> Registry {
        Registry { path: path.into() }
    }

    /// [`Registry::PVE_PATH`] when `/etc/pve` exists (a Proxmox VE node),
    /// else [`Registry::STANDALONE_PATH`].
    pub fn default_path() -> PathBuf {
        if Path::new("/etc/pve").is_dir() {
            PathBuf::from(Self::PVE_PATH)
        } else {
            PathBuf::from(Self::STANDALONE_PATH)
        }
    }

    /// The registry file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The lock file, `<file>.lock` beside the registry.
    pub fn lock_path(&self) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(".lock");
        PathBuf::from(p)
    }

    /// Every share, in file order. A missing file is an empty registry.
    /// Takes no lock: writes replace the file atomically.
    pub fn load(&self) -> Result<Vec<ShareRecord>> {
        Ok(self.read()?.into_records())
    }

    /// The share `id`, if registered.
    pub fn get(&self, id: &ShareId) -> Result<Option<ShareRecord>> {
        Ok(self
            .read()?
            .into_records()
            .into_iter()
            .find(|r| r.spec.id == *id))
    }

    /// Reads the file into a [`Shares`] document without locking.
    pub fn read(&self) -> Result<Shares> {
        match read_text(&self.path)? {
            Some(text) => Shares::parse(&text, &self.path),
            None => Ok(Shares::default()),
        }
    }

    /// Read-modify-write under the registry's exclusive lock.
    ///
    /// Runs `f` on the current shares; if it returns `Ok` and the text
    /// changed, the file is replaced atomically (see the module docs). If
    /// `f` returns `Err`, or a changed record does not validate, nothing is
    /// written. The parent directory is created if missing.
    pub fn update<T>(&self, f: impl FnOnce(&mut Shares) -> Result<T>) -> Result<T> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.is_dir() {
                atomic::create_dir(dir)?;
            }
        }
        let _lock = atomic::lock(&self.lock_path())?;
        let before = read_text(&self.path)?;
        let mut shares = match &before {
            Some(text) => Shares::parse(text, &self.path)?,
            None => Shares::default(),
        };
        let out = f(&mut shares)?;
        let after = shares.to_text()?;
        if before.as_deref() != Some(after.as_str()) {
            atomic::write(&self.path, after.as_bytes())?;
        }
        Ok(out)
    }
}

/// The file's text; `None` if it does not exist.
fn read_text(path: &Path) -> Result<Option<String>> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(Error::Io {
                action: "read",
                path: path.to_owned(),
                source,
            })
        }
    };
    String::from_utf8(bytes).map(Some).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let line = 1 + e.as_bytes()[..valid]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        Error::Syntax {
            path: path.to_owned(),
            line,
            reason: "the line is not valid UTF-8; save the file as UTF-8".to_owned(),
        }
    })
}
