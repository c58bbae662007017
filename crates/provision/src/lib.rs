//! Provisioning: turning a share request into a [`Plan`] of steps, and
//! applying it safely.
//!
//! * [`plan`]: pure planning ([`plan_create`], [`plan_delete`]); plans
//!   print for `--dry-run` and are snapshot-tested.
//! * [`Executor`]: applies a plan step by step, journals progress under a
//!   state directory, and on failure undoes completed steps in reverse. An
//!   operation interrupted at any point (process killed) converges when it
//!   is re-run (resume) or rolled back ([`Executor::roll_back_pending`]).
//! * [`NativeSamba`]: native mode — the host's smbd (the administrator's
//!   smb.conf edited losslessly, one managed include file, `testparm`
//!   before `smbcontrol reload-config`, files restored on failure) or a
//!   private smbd instance living in one directory on a loopback port.
//! * [`SmbUsers`]: SMB users of workgroup shares (passwords via stdin,
//!   never argv).
//!
//! ```
//! use provision::{plan_create, CreateRequest, ShareConf, Step};
//!
//! let req = CreateRequest {
//!     share: ShareConf {
//!         name: "team".into(),
//!         comment: None,
//!         read_only: false,
//!         valid_users: vec!["alice".into()],
//!         encryption: "desired".into(),
//!         force_group: Some("smbgw".into()),
//!         nt_acls: false,
//!         audit: false,
//!     },
//!     volume: "team".into(),
//!     existing: false,
//!     quota: Some("10G".into()),
//!     quota_unenforced: false,
//!     group: "smbgw".into(),
//! };
//! let plan = plan_create(&req, "zfs dataset under tank/smb", "host smbd");
//! assert_eq!(plan.steps.first(), Some(&Step::PrepareSamba));
//! assert_eq!(plan.steps.last(), Some(&Step::Register));
//! assert!(plan.to_string().contains("create volume `team`"));
//! ```
//!
//! * [`container`]: LXC mode — one small container per share
//!   ([`plan_create_lxc`]), driven by `pct` on Proxmox ([`PctDriver`]) or
//!   plain LXC ([`LxcDriver`]).
//!
//! Limitations: no VM mode yet; locks are node-local (`flock`).

pub mod container;
pub mod domain;
mod error;
mod exec;
mod fsutil;
pub mod plan;
mod samba;
pub mod status;
mod users;

pub use container::{
    Account, ContainerConfig, ContainerDriver, CtState, IpConfig, LxcDriver, Network, PctDriver,
};
pub use error::{Error, Result};
pub use exec::{
    container_smb_conf, group_gid, Context, Executor, Fault, FaultAction, FaultWhen, Journal,
    Progress, Registrar, RegistrarError,
};
pub use fsutil::{write_atomic, FileLock};
pub use plan::{
    plan_create, plan_create_lxc, plan_delete, plan_delete_lxc, ContainerRequest, CreateRequest,
    HaManager, HaNode, Op, Plan, ShareConf, Step,
};
pub use samba::{
    smbd_glibc_tunables, smbd_without_drop_in, NativeSamba, PrivateInstance, INCLUDE_HEADER,
    INCLUDE_MARKER, SMBD_DROP_IN, SMBD_DROP_IN_MASK, SMBD_MALLOC_TUNABLES,
};
pub use status::{parse_smbstatus, ShareSessions};
pub use users::{check_password, check_user_name, parse_pdbedit_list, SmbUsers, ACCOUNT_COMMENT};
