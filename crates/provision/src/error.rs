//! The crate's error type.

use std::path::PathBuf;

use runner::RunError;

/// Everything that can go wrong while planning or applying a plan.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A backend operation failed.
    #[error(transparent)]
    Backend(#[from] backends::Error),
    /// An external tool failed.
    #[error(transparent)]
    Run(#[from] RunError),
    /// A file could not be read or written.
    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// `testparm` rejected the configuration; the previous files were
    /// restored.
    #[error("samba rejected the new configuration (testparm -s {}), previous configuration restored:\n{stderr}", conf.display())]
    Validation {
        /// The main smb.conf.
        conf: PathBuf,
        /// What testparm said.
        stderr: String,
    },
    /// The configuration was valid but smbd did not reload it; the previous
    /// files were restored.
    #[error("smbd did not reload its configuration, previous configuration restored: {source}")]
    Reload {
        /// The failed `smbcontrol` call.
        source: RunError,
    },
    /// A domain operation cannot go on; `detail` says what to fix.
    #[error("Active Directory {realm}: {detail}")]
    Domain {
        /// The realm.
        realm: String,
        /// What kind of problem.
        problem: crate::domain::DomainProblem,
        /// What happened and what to do.
        detail: String,
    },
    /// A tool's output was not what the gateway reads.
    #[error("cannot read the output of `{tool}`: {problem}")]
    ToolOutput {
        /// The tool.
        tool: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// smbd is not running (native mode on the host).
    #[error("smbd is not running; start it with `systemctl start smbd` (install it with `apt install samba`), then re-run")]
    SmbdNotRunning,
    /// The private smbd instance did not come up.
    #[error("the private smbd did not start listening on 127.0.0.1:{port} within {seconds} s; see {}", log.display())]
    SmbdStart {
        /// Its port.
        port: u16,
        /// How long we waited.
        seconds: u64,
        /// Its log file.
        log: PathBuf,
    },
    /// The main smb.conf cannot be edited safely.
    #[error("{}: {problem}", path.display())]
    MainConf {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// A share's Samba section could not be generated.
    #[error("cannot write share `{share}`: {source}")]
    Emit {
        /// The share.
        share: String,
        /// The cause.
        source: smbconf::EmitError,
    },
    /// A server-wide setting was asked for that native mode cannot set per
    /// share.
    #[error("{0}")]
    Unsupported(String),
    /// Another gateway operation holds the share.
    #[error("share `{share}` is being changed by another pve-smbgateway process (pid {pid}); wait for it, or run `pve-smbgateway apply` if that process died")]
    Busy {
        /// The share.
        share: String,
        /// The holder.
        pid: u32,
    },
    /// Another interrupted operation on the share is pending.
    #[error("an interrupted {op} of share `{share}` with different parameters is pending; re-run that command to finish it, or run `pve-smbgateway apply` to settle it")]
    Pending {
        /// The share.
        share: String,
        /// The pending operation.
        op: String,
    },
    /// The journal of an interrupted operation is unreadable.
    #[error("journal {} is unreadable ({reason}); inspect it, then remove it and run `pve-smbgateway apply`", path.display())]
    Journal {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The registry callback failed.
    #[error("registry: {0}")]
    Registry(String),
    /// An injected fault (testing hook, `SMBGW_FAULT`).
    #[error("injected fault at step {step} ({when})")]
    Injected {
        /// 1-based step number.
        step: usize,
        /// `before` or `after`.
        when: &'static str,
    },
    /// A step failed and the rollback failed too: both are reported, and the
    /// journal is kept so that `apply` can finish the job.
    #[error("{original}\nrollback also failed at step {step}: {rollback}\nthe journal {} is kept; fix the cause and run `pve-smbgateway apply`", journal.display())]
    RollbackFailed {
        /// The error that started the rollback.
        original: Box<Error>,
        /// The step whose undo failed.
        step: usize,
        /// Why the undo failed.
        rollback: Box<Error>,
        /// Where the journal is.
        journal: PathBuf,
    },
    /// A step failed after an irreversible one (the volume was destroyed):
    /// nothing can be rolled back, the operation must be finished.
    #[error("{original}\na step that cannot be undone (destroying the volume or the share's container) already ran, so this cannot be rolled back; run `pve-smbgateway apply` (or the same command again) to finish the job (journal {})", journal.display())]
    Incomplete {
        /// The error.
        original: Box<Error>,
        /// Where the journal is.
        journal: PathBuf,
    },
    /// A user name given to the user commands is not acceptable.
    #[error("invalid user name `{0}`: use 1-32 characters from a-z, 0-9, `_` and `-`, starting with a letter or `_`")]
    InvalidUser(String),
    /// The SMB user does not exist.
    #[error("smb user `{0}` does not exist; add it with `pve-smbgateway user add {0}`")]
    NoSuchUser(String),
    /// A password is not acceptable.
    #[error("{0}")]
    Password(String),
    /// A share container cannot be created, run or removed as asked.
    #[error("container {id}: {problem}")]
    Container {
        /// The container (VMID or name).
        id: String,
        /// What is wrong, and what to do.
        problem: String,
    },
    /// A step needs a container driver and none was given (an LXC-mode
    /// plan run without one).
    #[error("this plan runs share containers, but no container driver is available (LXC mode needs `pct` on Proxmox or `lxc-start` from package lxc)")]
    NoContainerDriver,
    /// A step needs the cluster's HA manager and none was given.
    #[error("this plan configures Proxmox VE HA, but no HA manager is available (HA needs a Proxmox VE node with ha-manager)")]
    NoHaManager,
    /// Configuring HA failed.
    #[error("proxmox ha for container {id}: {problem}")]
    Ha {
        /// The container.
        id: String,
        /// What failed.
        problem: String,
    },
}

/// Short for `Result<T, Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn io(
    op: &'static str,
    path: impl Into<PathBuf>,
) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { op, path, source }
}
