//! The crate's error type.

use std::io;
use std::path::PathBuf;

use backends::{Quota, QuotaProblem};

/// Everything that can go wrong in `smbgw-core`.
///
/// Input errors name the field and quote the rejected value; registry errors
/// name the file and, for a malformed file, the line and key. Every message
/// says what to do when there is something to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A value given for a spec or state field is not acceptable.
    #[error("invalid {field} {value:?}: {reason}")]
    Invalid {
        /// What the value is (`share id`, `user name`, `directory root`, ...).
        field: &'static str,
        /// The rejected value, as given.
        value: String,
        /// Why it was rejected and what is allowed.
        reason: String,
    },
    /// A share id that Samba reserves for a special section.
    #[error(
        "share id {value:?} is reserved: Samba reads [{reserved}] as {meaning}; choose another id"
    )]
    ReservedShareId {
        /// The id as given.
        value: String,
        /// The reserved name it matches (case and whitespace ignored).
        reserved: &'static str,
        /// What Samba uses that name for.
        meaning: &'static str,
    },
    /// A quota string did not parse.
    #[error("invalid quota {value:?}: {problem}")]
    InvalidQuota {
        /// The quota as given.
        value: String,
        /// Why it was rejected.
        problem: QuotaProblem,
    },
    /// A quota on a directory backend without the explicit opt-in.
    #[error(
        "a quota of {quota} cannot be enforced on the directory backend ({}): a plain directory has no size limit, so writes beyond the quota would not be stopped; use a zfs, cephfs or rbd backend for an enforced quota, or accept an advisory quota with `--quota-unenforced`",
        root.display()
    )]
    QuotaUnenforced {
        /// The requested quota.
        quota: Quota,
        /// The directory backend's root.
        root: PathBuf,
    },
    /// A backend that needs a size to create a volume got none.
    #[error(
        "a new {backend} volume needs a size: give a quota such as `100G`, or adopt an existing volume"
    )]
    QuotaRequired {
        /// The backend (`rbd`).
        backend: &'static str,
    },
    /// The same name was given twice in a list.
    #[error("{field} lists {name:?} twice; give each name once")]
    Duplicate {
        /// The list (`users`, `groups`, `created users`).
        field: &'static str,
        /// The repeated name.
        name: String,
    },
    /// A share with this id (compared case-insensitively) is already registered.
    #[error("share `{id}` already exists; choose another id, or delete the existing share first")]
    ShareExists {
        /// The id.
        id: String,
    },
    /// Reading or writing the registry (or its lock file) failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done (`read`, `lock`, `rename into place`, ...).
        action: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The system error.
        source: io::Error,
    },
    /// A line of the registry file is not in SectionConfig syntax.
    #[error("{}:{line}: {reason}", path.display())]
    Syntax {
        /// The registry file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with the line.
        reason: String,
    },
    /// A property of a registry share section has a bad value.
    #[error(
        "{}:{line}: bad `{key}` in share `{section}`: {error}",
        path.display()
    )]
    Value {
        /// The registry file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The section id.
        section: String,
        /// The property name.
        key: String,
        /// The value as written (empty when the line has none).
        value: String,
        /// What is wrong with it.
        error: Box<Error>,
    },
    /// A required property is missing from a share section.
    #[error(
        "{}:{line}: share `{section}` has no `{key}` property; add an indented line `{key} <value>` to the section",
        path.display()
    )]
    MissingKey {
        /// The registry file.
        path: PathBuf,
        /// The line of the section header.
        line: usize,
        /// The section id.
        section: String,
        /// The missing property.
        key: &'static str,
    },
    /// A property is given twice in one section.
    #[error(
        "{}:{line}: `{key}` is given twice in section `{section}` (first on line {first}); keep one",
        path.display()
    )]
    DuplicateKey {
        /// The registry file.
        path: PathBuf,
        /// The line of the repeated property.
        line: usize,
        /// The line where it was first given.
        first: usize,
        /// The section id.
        section: String,
        /// The property name.
        key: String,
    },
    /// Two sections have the same id.
    #[error(
        "{}:{line}: section id `{id}` is already used on line {first}; section ids must be unique (compared case-insensitively), so rename or remove one",
        path.display()
    )]
    DuplicateSection {
        /// The registry file.
        path: PathBuf,
        /// The line of the second header.
        line: usize,
        /// The line of the first header.
        first: usize,
        /// The id.
        id: String,
    },
    /// A share section is well-formed line by line but inconsistent as a whole.
    #[error(
        "{}:{line}: share `{section}`: {error}",
        path.display()
    )]
    Section {
        /// The registry file.
        path: PathBuf,
        /// The line of the section header.
        line: usize,
        /// The section id.
        section: String,
        /// What is wrong.
        error: Box<Error>,
    },
    /// A provisioning step failed (rolled back unless the error says
    /// otherwise), or Samba refused something.
    #[error(transparent)]
    Provision(#[from] provision::Error),
    /// A backend could not be set up.
    #[error(transparent)]
    Backend(#[from] backends::Error),
    /// No share with this id is registered.
    #[error("share `{id}` does not exist; `pve-smbgateway list` shows the registered shares")]
    NoSuchShare {
        /// The id.
        id: String,
    },
    /// The mode is not implemented yet.
    #[error("mode {mode} is not implemented yet; use `--mode lxc` or `--mode native`")]
    ModeNotImplemented {
        /// The mode asked for.
        mode: crate::spec::Mode,
    },
    /// Native mode cannot require signing for one share only.
    #[error("signing `required` is a server-wide setting in Samba, so native mode cannot set it for one share; set `server signing = mandatory` in the [global] section of smb.conf yourself, or use `--encryption required` (encryption implies signing) for this share")]
    NativeSigning,
    /// A group named in the access list does not exist.
    #[error("group `{group}` does not exist on this host; create it (`groupadd {group}`) or fix `--groups`")]
    NoSuchGroup {
        /// The group.
        group: String,
    },
    /// A tool printed something the gateway cannot read.
    #[error("cannot read the output of `{tool}`: {reason}")]
    ToolOutput {
        /// The command.
        tool: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The spec recorded in a journal cannot be read back.
    #[error("the journal of share `{id}` does not hold a usable share spec ({reason}); inspect the journal under the state directory, remove it, and run `pve-smbgateway apply`")]
    JournalSpec {
        /// The share.
        id: String,
        /// Why.
        reason: String,
    },
}

/// What kind of failure an [`Error`] is, for frontends mapping errors to
/// exit codes or API error codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Bad input, refused before anything changed.
    Input,
    /// The share (or user) does not exist.
    NotFound,
    /// The share already exists.
    Exists,
    /// Another process is changing the share.
    Busy,
    /// The operation failed half-way and was rolled back.
    RolledBack,
    /// The operation failed and so did its rollback: run `apply`.
    NeedsApply,
    /// The registry file is unreadable or malformed.
    Registry,
    /// Anything else (I/O, tools missing, ...).
    Other,
}

impl Error {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        use provision::Error as P;
        match self {
            Error::Invalid { .. }
            | Error::ReservedShareId { .. }
            | Error::InvalidQuota { .. }
            | Error::QuotaUnenforced { .. }
            | Error::QuotaRequired { .. }
            | Error::Duplicate { .. }
            | Error::ModeNotImplemented { .. }
            | Error::NativeSigning
            | Error::NoSuchGroup { .. } => ErrorKind::Input,
            Error::Backend(_) => ErrorKind::Input,
            Error::ShareExists { .. } => ErrorKind::Exists,
            Error::NoSuchShare { .. } => ErrorKind::NotFound,
            Error::Io { .. }
            | Error::Syntax { .. }
            | Error::Value { .. }
            | Error::MissingKey { .. }
            | Error::DuplicateKey { .. }
            | Error::DuplicateSection { .. }
            | Error::Section { .. } => ErrorKind::Registry,
            Error::JournalSpec { .. } => ErrorKind::NeedsApply,
            Error::ToolOutput { .. } => ErrorKind::Other,
            Error::Provision(p) => match p {
                P::InvalidUser(_) | P::NoSuchUser(_) | P::Password(_) | P::Domain { .. } => {
                    ErrorKind::Input
                }
                P::Busy { .. } => ErrorKind::Busy,
                P::RollbackFailed { .. }
                | P::Journal { .. }
                | P::Incomplete { .. }
                | P::Pending { .. } => ErrorKind::NeedsApply,
                P::SmbdNotRunning | P::Run(_) | P::Io { .. } | P::MainConf { .. } => {
                    ErrorKind::Other
                }
                _ => ErrorKind::RolledBack,
            },
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
