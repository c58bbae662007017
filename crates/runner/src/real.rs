//! The runner that spawns real processes.

use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use rustix::process::{kill_process_group, Pid, Signal};

use crate::cmd::{EnvValue, Stdin};
use crate::error::ExitStatus;
use crate::packages::package_for;
use crate::{Cmd, Output, RunError, Runner};

/// Runs commands with `std::process`.
///
/// * Each command runs in its own process group; on timeout the whole group
///   is killed with `SIGKILL`, so helpers the tool forked die with it.
/// * `LC_ALL=C` is set (a [`Cmd::env`] may override it) so tool messages are
///   untranslated and parsable.
/// * Stdin is written from a separate thread, stdout and stderr are drained
///   concurrently, so a chatty tool cannot deadlock on a full pipe.
#[derive(Clone, Debug)]
pub struct RealRunner {
    default_timeout: Duration,
}

impl RealRunner {
    /// The timeout used when a [`Cmd`] sets none: 2 minutes.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

    /// A runner with [`RealRunner::DEFAULT_TIMEOUT`].
    pub fn new() -> Self {
        RealRunner {
            default_timeout: Self::DEFAULT_TIMEOUT,
        }
    }

    /// A runner whose commands time out after `timeout` unless they set
    /// their own.
    pub fn with_timeout(timeout: Duration) -> Self {
        RealRunner {
            default_timeout: timeout,
        }
    }
}

impl Default for RealRunner {
    fn default() -> Self {
        Self::new()
    }
}

enum Pipe {
    Stdout(std::io::Result<Vec<u8>>),
    Stderr(std::io::Result<Vec<u8>>),
}

fn drain<R: Read + Send + 'static>(
    mut r: R,
    tx: mpsc::Sender<Pipe>,
    wrap: fn(std::io::Result<Vec<u8>>) -> Pipe,
) {
    thread::spawn(move || {
        let mut buf = Vec::new();
        let res = r.read_to_end(&mut buf).map(|_| buf);
        // The receiver is gone only if `run` already returned; nothing to do.
        let _ = tx.send(wrap(res));
    });
}

impl Runner for RealRunner {
    fn run(&self, cmd: &Cmd) -> Result<Output, RunError> {
        let argv = cmd.argv();
        let io_err = |source| RunError::Io {
            argv: argv.clone(),
            source,
        };
        let timeout = cmd.get_timeout().unwrap_or(self.default_timeout);

        let mut command = Command::new(cmd.program());
        command
            .args(cmd.get_args())
            .env("LC_ALL", "C")
            // Samba's tools take a password from these before they read the
            // one the gateway gives on stdin: never inherit them (a command
            // that needs one sets it with `Cmd::env_secret`).
            .env_remove("PASSWD")
            .env_remove("PASSWD_FD")
            .env_remove("PASSWD_FILE")
            .stdin(if cmd.get_stdin().is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        for (k, v) in cmd.get_env() {
            match v {
                EnvValue::Plain(v) => command.env(k, v),
                EnvValue::Secret(s) => command.env(k, std::ffi::OsStr::from_bytes(s.expose())),
            };
        }

        let start = Instant::now();
        let mut child = match command.spawn() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(RunError::ToolMissing {
                    program: cmd.program().to_owned(),
                    package: package_for(cmd.program()),
                })
            }
            Err(e) => return Err(io_err(e)),
        };
        let pgid = Pid::from_child(&child);

        let writer = match (cmd.get_stdin(), child.stdin.take()) {
            (Some(input), Some(mut pipe)) => {
                let bytes = match input {
                    Stdin::Bytes(b) => b.clone(),
                    Stdin::Secret(s) => s.expose().to_vec(),
                };
                Some(thread::spawn(move || match pipe.write_all(&bytes) {
                    // The tool may exit without reading all its input.
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                    other => other,
                }))
            }
            _ => None,
        };

        let (tx, rx) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            drain(out, tx.clone(), Pipe::Stdout);
        }
        if let Some(err) = child.stderr.take() {
            drain(err, tx, Pipe::Stderr);
        }

        // Wait for exit, polling with a growing interval (1 ms .. 20 ms).
        let deadline = start + timeout;
        let mut interval = Duration::from_millis(1);
        let mut timed_out = false;
        let status = loop {
            match child.try_wait().map_err(io_err)? {
                Some(status) => break status,
                None if Instant::now() >= deadline => {
                    timed_out = true;
                    // The group may already be gone; `wait` below reaps the child.
                    let _ = kill_process_group(pgid, Signal::KILL);
                    break child.wait().map_err(io_err)?;
                }
                None => {
                    thread::sleep(interval.min(deadline.saturating_duration_since(Instant::now())));
                    interval = (interval * 2).min(Duration::from_millis(20));
                }
            }
        };

        // Collect both pipes. A grandchild may keep them open after the child
        // exited; give it until the deadline, then kill the group.
        let (mut stdout, mut stderr) = (None, None);
        while stdout.is_none() || stderr.is_none() {
            let wait = deadline.saturating_duration_since(Instant::now());
            let msg = match rx.recv_timeout(wait) {
                Ok(m) => m,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    timed_out = true;
                    let _ = kill_process_group(pgid, Signal::KILL);
                    match rx.recv() {
                        Ok(m) => m,
                        Err(_) => break,
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            match msg {
                Pipe::Stdout(r) => stdout = Some(r.map_err(io_err)?),
                Pipe::Stderr(r) => stderr = Some(r.map_err(io_err)?),
            }
        }
        if let Some(w) = writer {
            match w.join() {
                Ok(res) => res.map_err(io_err)?,
                Err(_) => {
                    return Err(io_err(std::io::Error::other(
                        "stdin writer thread panicked",
                    )))
                }
            }
        }
        let stdout = stdout.unwrap_or_default();
        let stderr = stderr.unwrap_or_default();

        if timed_out {
            return Err(RunError::TimedOut {
                argv,
                timeout,
                stderr: String::from_utf8_lossy(&stderr).into_owned(),
            });
        }
        let status = ExitStatus::from_std(status);
        if !status.success() {
            return Err(RunError::Failed {
                argv,
                status,
                stdout: String::from_utf8_lossy(&stdout).into_owned(),
                stderr: String::from_utf8_lossy(&stderr).into_owned(),
            });
        }
        Ok(Output { stdout, stderr })
    }
}
