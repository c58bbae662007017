//! The orchestration core of pve-smbgateway, used by every frontend (CLI,
//! Proxmox plugin): the share spec and its validation, and the registry of
//! shares.
//!
//! * [`spec`]: [`ShareSpec`](spec::ShareSpec) — id, backend, volume, quota,
//!   mode, workgroup, access, security, HA, comment — with validating
//!   constructors and `FromStr` for every piece, so a frontend can build a
//!   spec from strings, and [`ShareSpec::validate`](spec::ShareSpec::validate)
//!   to check it all (including cross-field rules such as "a directory
//!   cannot enforce a quota") before anything changes. Values are checked
//!   against everything they will meet: smb.conf (no newline, `[`, `]`,
//!   `%` macros, reserved names), Proxmox (storage-id rule), the storage
//!   tools (dataset and pool names, no leading `-`) and the registry format.
//! * [`registry`]: [`Registry`](registry::Registry), the file that records
//!   every share, in Proxmox's SectionConfig format (on a Proxmox node in
//!   `/etc/pve`, which pmxcfs replicates), read without a lock and updated
//!   read-modify-write under an exclusive lock with an atomic replace; it
//!   keeps what it does not understand (other section types, unknown keys,
//!   comments) and refuses a malformed file with the line number.
//!
//! ```
//! use smbgw_core::registry::{Registry, ShareRecord, ShareState};
//! use smbgw_core::spec::{parse_quota, BackendSpec, Mode, ShareSpec, VolumeRef};
//!
//! let dir = tempfile::tempdir()?;
//! let registry = Registry::new(dir.path().join("shares.cfg"));
//!
//! // A spec from strings, as a frontend builds it; every piece is checked.
//! let mut spec = ShareSpec::new(
//!     "team".parse()?,
//!     BackendSpec::zfs("rpool/shares")?,
//!     VolumeRef::new("team")?,
//! );
//! spec.mode = Mode::Native;
//! spec.quota = Some(parse_quota("10G")?);
//! spec.validate()?;
//! assert!("team]\n[global".parse::<smbgw_core::spec::ShareId>().is_err());
//!
//! let state = ShareState {
//!     volume_id: "rpool/shares/team".into(),
//!     path: "/rpool/shares/team".into(),
//!     created_volume: true,
//!     created_users: vec![],
//!     created_at: 1_700_000_000,
//! };
//! registry.update(|shares| shares.insert(ShareRecord { spec, state }))?;
//!
//! let text = std::fs::read_to_string(registry.path())?;
//! assert!(text.starts_with("share: team\n\tbackend zfs\n\tzfs-parent rpool/shares\n"));
//! assert!(text.contains("\tquota 10GiB\n"));
//! assert_eq!(registry.load()?.len(), 1);
//!
//! // A second share with the same id is refused and nothing is written.
//! let again = registry.update(|shares| {
//!     let mut r = shares.iter().next().unwrap().clone();
//!     r.spec.comment = Some("copy".into());
//!     shares.insert(r)
//! });
//! assert!(again.unwrap_err().to_string().contains("already exists"));
//! assert_eq!(std::fs::read_to_string(registry.path())?, text);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Limitations
//!
//! * Only [`Mode::Native`](spec::Mode::Native) is implemented; specs of
//!   other modes validate and are stored, and the operations refuse them
//!   ([`Mode::is_implemented`](spec::Mode::is_implemented)).
//! * Identity is a workgroup only; Active Directory comes later.
//! * HA settings are stored and checked for syntax only.
//! * The registry lock is a node-local `flock`; on a Proxmox cluster two
//!   nodes updating at the same moment can lose an update until the HA work
//!   adds pmxcfs's cluster lock (see [`registry`]).
//! * Deserializing a spec checks ids and names of volumes and quotas only;
//!   call [`ShareSpec::validate`](spec::ShareSpec::validate) before use.

pub mod container;
pub mod error;
pub mod ha;
pub mod metrics;
pub mod ops;
pub mod registry;
pub mod spec;
pub mod usage;

pub use error::{Error, ErrorKind, Result};
pub use ops::{ApplyAction, Gateway, Paths, ShareStatus, UsageReport, SHARE_GROUP};
pub use registry::{Registry, ShareRecord, ShareState};
pub use spec::{
    parse_quota, Access, AdSpec, BackendSpec, CephClientSpec, Encryption, HaSpec, Identity, Mode,
    RbdMap, Security, ShareId, ShareSpec, Signing, VolumeRef,
};
