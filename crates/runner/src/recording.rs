//! The recording fake for tests.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::error::ExitStatus;
use crate::packages::package_for;
use crate::{Cmd, Output, RunError, Runner};

/// A scripted outcome of one command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Exit 0 with this stdout.
    Ok(String),
    /// Exit with this code and stderr.
    Fail {
        /// Exit code (non-zero).
        code: i32,
        /// Stderr.
        stderr: String,
    },
    /// The program is not on `PATH`.
    Missing,
    /// The command times out.
    TimedOut,
}

impl Reply {
    /// Exit 0 with `stdout`.
    pub fn ok(stdout: impl Into<String>) -> Self {
        Reply::Ok(stdout.into())
    }

    /// Exit `code` with `stderr`.
    pub fn fail(code: i32, stderr: impl Into<String>) -> Self {
        Reply::Fail {
            code,
            stderr: stderr.into(),
        }
    }
}

#[derive(Debug)]
struct Script {
    /// Only commands whose argv starts with this prefix consume the reply;
    /// empty = any command.
    prefix: Vec<String>,
    reply: Reply,
}

#[derive(Debug, Default)]
struct State {
    script: VecDeque<Script>,
    log: Vec<(Cmd, Reply)>,
}

/// A [`Runner`] that records commands and replays scripted replies.
///
/// Each command consumes the first scripted reply whose argv prefix matches
/// it (replies pushed with [`push_reply`] match any command). A command with
/// no matching reply succeeds with empty output, so a transcript snapshot
/// still shows it.
///
/// [`push_reply`]: RecordingRunner::push_reply
#[derive(Debug, Default)]
pub struct RecordingRunner {
    state: Mutex<State>,
}

impl RecordingRunner {
    /// An empty fake: every command succeeds with empty output.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panicking test thread cannot leave the state half-updated.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Scripts the reply of the next command, whatever it is.
    pub fn push_reply(&self, reply: Reply) -> &Self {
        self.state().script.push_back(Script {
            prefix: Vec::new(),
            reply,
        });
        self
    }

    /// Scripts the reply of the next command whose argv starts with
    /// `prefix` (program first).
    pub fn on<I, S>(&self, prefix: I, reply: Reply) -> &Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let prefix = prefix.into_iter().map(Into::into).collect();
        self.state().script.push_back(Script { prefix, reply });
        self
    }

    /// The commands run so far.
    pub fn commands(&self) -> Vec<Cmd> {
        self.state().log.iter().map(|(c, _)| c.clone()).collect()
    }

    /// Scripted replies no command consumed (a test usually asserts none).
    pub fn unused_replies(&self) -> Vec<Reply> {
        self.state()
            .script
            .iter()
            .map(|s| s.reply.clone())
            .collect()
    }

    /// One line per command, `$ ` + the command with secrets redacted (see
    /// [`Cmd`]'s `Display`); a failing command is followed by its scripted
    /// outcome, e.g. `  -> exit 1: cannot open 'x': dataset does not exist`.
    pub fn transcript(&self) -> String {
        let mut out = String::new();
        for (cmd, reply) in &self.state().log {
            let _ = writeln!(out, "$ {cmd}");
            match reply {
                Reply::Ok(_) => {}
                Reply::Fail { code, stderr } => {
                    let first = stderr.lines().next().unwrap_or("");
                    let _ = writeln!(out, "  -> exit {code}: {first}");
                }
                Reply::Missing => out.push_str("  -> not found on PATH\n"),
                Reply::TimedOut => out.push_str("  -> timed out\n"),
            }
        }
        out
    }
}

impl Runner for RecordingRunner {
    fn run(&self, cmd: &Cmd) -> Result<Output, RunError> {
        let argv = cmd.argv();
        let mut state = self.state();
        let pos = state
            .script
            .iter()
            .position(|s| s.prefix.len() <= argv.len() && s.prefix[..] == argv[..s.prefix.len()]);
        let reply = match pos.and_then(|p| state.script.remove(p)) {
            Some(s) => s.reply,
            None => Reply::Ok(String::new()),
        };
        state.log.push((cmd.clone(), reply.clone()));
        drop(state);
        match reply {
            Reply::Ok(stdout) => Ok(Output {
                stdout: stdout.into_bytes(),
                stderr: Vec::new(),
            }),
            Reply::Fail { code, stderr } => Err(RunError::Failed {
                argv,
                status: ExitStatus::Code(code),
                stdout: String::new(),
                stderr,
            }),
            Reply::Missing => Err(RunError::ToolMissing {
                program: cmd.program().to_owned(),
                package: package_for(cmd.program()),
            }),
            Reply::TimedOut => Err(RunError::TimedOut {
                argv,
                timeout: cmd.get_timeout().unwrap_or(Duration::ZERO),
                stderr: String::new(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_replies_match_out_of_order() {
        let r = RecordingRunner::new();
        r.on(["zfs", "get"], Reply::ok("1\n"));
        r.on(["zpool"], Reply::fail(1, "cannot open 'x': no such pool\n"));
        let e = r.run(&Cmd::new("zpool").arg("list")).unwrap_err();
        assert_eq!(e.stderr(), Some("cannot open 'x': no such pool\n"));
        assert_eq!(
            r.run(&Cmd::new("zfs").args(["get", "used"]))
                .unwrap()
                .stdout_str(),
            "1\n"
        );
        // Nothing scripted: success, empty output.
        assert!(r
            .run(&Cmd::new("zfs").arg("list"))
            .unwrap()
            .stdout
            .is_empty());
        assert!(r.unused_replies().is_empty());
        assert_eq!(
            r.transcript(),
            "$ zpool list\n  -> exit 1: cannot open 'x': no such pool\n$ zfs get used\n$ zfs list\n"
        );
    }

    #[test]
    fn missing_and_timeout_replies() {
        let r = RecordingRunner::new();
        r.push_reply(Reply::Missing).push_reply(Reply::TimedOut);
        let e = r.run(&Cmd::new("pct")).unwrap_err();
        assert!(e.is_tool_missing());
        assert!(e.to_string().contains("pve-container"), "{e}");
        assert!(matches!(
            r.run(&Cmd::new("x")),
            Err(RunError::TimedOut { .. })
        ));
        assert_eq!(r.commands().len(), 2);
    }
}
