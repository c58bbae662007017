//! The one seam through which pve-smbgateway runs external tools.
//!
//! Every `zfs`, `ceph`, `pct`, `testparm`, … invocation is described by a
//! [`Cmd`] and executed by a [`Runner`]:
//!
//! * [`RealRunner`] spawns the program with `std::process`, feeds stdin,
//!   collects stdout/stderr and kills the process group after a timeout.
//! * [`RecordingRunner`] is the fake for tests: it records every command and
//!   replays scripted [`Reply`]s, and renders a [`transcript`] for snapshot
//!   tests of command sequences.
//!
//! A command that exits non-zero is an error ([`RunError::Failed`]) that keeps
//! the argv, the exit status and the child's stderr, so callers can both show
//! it and match on the tool's message. A program missing from `PATH` is
//! [`RunError::ToolMissing`], which names the package to install.
//!
//! Secrets ([`Secret`]) can only travel through stdin or the environment,
//! never through argv, and are redacted in `Debug` output and transcripts.
//!
//! ```
//! use runner::{Cmd, RecordingRunner, Reply, Runner, Secret};
//!
//! let fake = RecordingRunner::new();
//! fake.push_reply(Reply::ok("tank\n"));
//! let out = fake.run(&Cmd::new("zpool").args(["list", "-H", "-o", "name"])).unwrap();
//! assert_eq!(out.stdout_str(), "tank\n");
//!
//! let join = Cmd::new("net")
//!     .args(["ads", "join", "-U", "admin"])
//!     .stdin_secret(Secret::new("hunter2"));
//! assert!(!format!("{join:?}").contains("hunter2"));
//! fake.run(&join).unwrap();
//! assert_eq!(
//!     fake.transcript(),
//!     "$ zpool list -H -o name\n$ net ads join -U admin <stdin: secret>\n"
//! );
//! ```
//!
//! [`transcript`]: RecordingRunner::transcript
//!
//! Limitations: the runner is synchronous (one blocking call per command);
//! arguments and output are treated as UTF-8 text where they are displayed
//! (output bytes are kept as they are). [`RealRunner`] sets `LC_ALL=C` so
//! that the tools' messages, which callers match on, are not translated.

mod cmd;
mod error;
mod packages;
mod real;
mod recording;

pub use cmd::{Cmd, EnvValue, Secret, Stdin};
pub use error::{ExitStatus, RunError};
pub use packages::package_for;
pub use real::RealRunner;
pub use recording::{RecordingRunner, Reply};

/// What a finished command produced. Only successful commands produce an
/// `Output`; a non-zero exit is [`RunError::Failed`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output {
    /// Everything the command wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything the command wrote to stderr (some tools warn on success).
    pub stderr: Vec<u8>,
}

impl Output {
    /// Stdout as text (invalid UTF-8 replaced by U+FFFD).
    pub fn stdout_str(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.stdout)
    }

    /// Stderr as text (invalid UTF-8 replaced by U+FFFD).
    pub fn stderr_str(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.stderr)
    }
}

/// Runs external commands. Implementations must be usable from several
/// threads; the real one and the recording fake both are.
pub trait Runner: Send + Sync {
    /// Runs `cmd` to completion. Succeeds only when the command exits with
    /// status 0.
    fn run(&self, cmd: &Cmd) -> Result<Output, RunError>;
}

impl<R: Runner + ?Sized> Runner for &R {
    fn run(&self, cmd: &Cmd) -> Result<Output, RunError> {
        (**self).run(cmd)
    }
}

impl<R: Runner + ?Sized> Runner for Box<R> {
    fn run(&self, cmd: &Cmd) -> Result<Output, RunError> {
        (**self).run(cmd)
    }
}

impl<R: Runner + ?Sized> Runner for std::sync::Arc<R> {
    fn run(&self, cmd: &Cmd) -> Result<Output, RunError> {
        (**self).run(cmd)
    }
}
