//! Errors of running a command.

use std::fmt;
use std::time::Duration;

use crate::cmd::display_argv;

/// How a process ended: with an exit code or killed by a signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// `exit(code)`.
    Code(i32),
    /// Killed by this signal.
    Signal(i32),
}

impl ExitStatus {
    /// Whether this is `exit(0)`.
    pub fn success(self) -> bool {
        self == ExitStatus::Code(0)
    }

    pub(crate) fn from_std(status: std::process::ExitStatus) -> Self {
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(code), _) => ExitStatus::Code(code),
            (None, Some(sig)) => ExitStatus::Signal(sig),
            // Neither code nor signal: report as a failure code.
            (None, None) => ExitStatus::Code(-1),
        }
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitStatus::Code(c) => write!(f, "exit status {c}"),
            ExitStatus::Signal(s) => write!(f, "signal {s}"),
        }
    }
}

/// Running a command failed. Every variant names the command (argv, which
/// never holds a secret).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The program is not on `PATH` (or not at the given path).
    #[error("`{program}` not found on PATH; install {package}", package = package_hint(.package))]
    ToolMissing {
        /// The program that was not found.
        program: String,
        /// The Debian package that provides it, when known.
        package: Option<&'static str>,
    },
    /// The command ran and exited non-zero (or was killed by a signal).
    #[error("`{}` failed with {status}{}", display_argv(.argv), stderr_suffix(.stderr))]
    Failed {
        /// Program and arguments.
        argv: Vec<String>,
        /// How it ended.
        status: ExitStatus,
        /// What it wrote to stdout (some tools put their error there).
        stdout: String,
        /// What it wrote to stderr.
        stderr: String,
    },
    /// The command did not finish in time and was killed.
    #[error("`{}` did not finish within {timeout:?} and was killed; check whether the tool hangs or raise the timeout{}", display_argv(.argv), stderr_suffix(.stderr))]
    TimedOut {
        /// Program and arguments.
        argv: Vec<String>,
        /// The timeout that expired.
        timeout: Duration,
        /// What it wrote to stderr before it was killed.
        stderr: String,
    },
    /// The command could not be started or its pipes failed.
    #[error("cannot run `{}`", display_argv(.argv))]
    Io {
        /// Program and arguments.
        argv: Vec<String>,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl RunError {
    /// The child's stderr, for the variants that have one.
    pub fn stderr(&self) -> Option<&str> {
        match self {
            RunError::Failed { stderr, .. } | RunError::TimedOut { stderr, .. } => Some(stderr),
            _ => None,
        }
    }

    /// The exit status, when the command ran and failed.
    pub fn status(&self) -> Option<ExitStatus> {
        match self {
            RunError::Failed { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether this error is about a program missing from `PATH`.
    pub fn is_tool_missing(&self) -> bool {
        matches!(self, RunError::ToolMissing { .. })
    }
}

fn package_hint(package: &Option<&'static str>) -> String {
    match package {
        Some(p) => format!("the package {p}"),
        None => "the package that provides it".to_owned(),
    }
}

fn stderr_suffix(stderr: &str) -> String {
    let trimmed = stderr.trim();
    if trimmed.is_empty() {
        String::new()
    } else {
        format!(": {trimmed}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_command_and_what_to_do() {
        let e = RunError::ToolMissing {
            program: "zfs".into(),
            package: Some("zfsutils-linux (or zfs-fuse)"),
        };
        assert_eq!(
            e.to_string(),
            "`zfs` not found on PATH; install the package zfsutils-linux (or zfs-fuse)"
        );
        let e = RunError::Failed {
            argv: vec!["zfs".into(), "get".into(), "tank/a b".into()],
            status: ExitStatus::Code(1),
            stdout: String::new(),
            stderr: "cannot open 'tank/a b': dataset does not exist\n".into(),
        };
        assert_eq!(
            e.to_string(),
            "`zfs get 'tank/a b'` failed with exit status 1: cannot open 'tank/a b': dataset does not exist"
        );
        assert_eq!(e.status(), Some(ExitStatus::Code(1)));
        let e = RunError::Failed {
            argv: vec!["false".into()],
            status: ExitStatus::Signal(9),
            stdout: String::new(),
            stderr: String::new(),
        };
        assert_eq!(e.to_string(), "`false` failed with signal 9");
    }
}
