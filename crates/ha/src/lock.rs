//! The quorum cluster lock: a CTDB cluster mutex helper
//! (`cluster lock = !/usr/bin/pve-smbgateway ctdb lock-helper FILE`).
//!
//! CTDB runs the helper when a node wants to become leader, reads one
//! byte from its stdout (`0` taken, `1` contention, `3` error) and keeps it
//! running while it holds the lock; it kills the helper to release it, and
//! holds an election when the helper exits by itself.
//!
//! CTDB's own fcntl helper keeps the lock as long as the process lives.
//! When the leader is cut off from the other nodes but still reaches the
//! shared file system (or the file system does not break a partitioned
//! client's locks quickly), the remaining nodes can never take the lock,
//! so they never recover and the floating addresses never move: observed
//! with three nodes in network namespaces, the majority logged "Unable to
//! take cluster lock - contention" for as long as the test waited.
//!
//! This helper takes the same POSIX write lock on FILE, but only while the
//! local ctdbd sees a majority of the nodes connected, and gives it up
//! (exits) once it has seen no majority at `grace` consecutive polls. The
//! cut-off node thus releases the lock a few seconds after CTDB notices the
//! partition, and the majority takes it at its next election.
//!
//! Limitations: membership is CTDB's own view (`ctdb -X nodestatus all`);
//! on a Proxmox cluster corosync's quorum would be a second, independent
//! source. The lock file must be on storage every node reaches.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::time::Duration;

use runner::{Cmd, Runner};

use crate::ctdb::{connected, parse_status};

/// How the helper learns cluster membership.
pub trait Membership {
    /// `(connected nodes, all nodes)`, this node included.
    fn connected(&self) -> Result<(usize, usize), String>;
}

/// Membership as the local ctdbd sees it (`ctdb -X nodestatus all`).
pub struct CtdbMembership<R> {
    runner: R,
    timeout: Duration,
}

impl<R: Runner> CtdbMembership<R> {
    /// Asks ctdb through `runner`, giving up on each query after `timeout`.
    pub fn new(runner: R, timeout: Duration) -> Self {
        CtdbMembership { runner, timeout }
    }
}

impl<R: Runner> Membership for CtdbMembership<R> {
    fn connected(&self) -> Result<(usize, usize), String> {
        let cmd = Cmd::new("ctdb")
            .args(["-X", "nodestatus", "all"])
            .timeout(self.timeout);
        // `nodestatus` exits non-zero when some node is not OK, and still
        // prints the table.
        let text = match self.runner.run(&cmd) {
            Ok(out) => out.stdout_str().into_owned(),
            Err(runner::RunError::Failed { stdout, .. }) if !stdout.trim().is_empty() => stdout,
            Err(e) => return Err(e.to_string()),
        };
        let nodes = parse_status(&text).map_err(|e| e.to_string())?;
        Ok(connected(&nodes))
    }
}

/// A strict majority.
pub fn has_majority(up: usize, total: usize) -> bool {
    total > 0 && up * 2 > total
}

/// How the helper ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelperEnd {
    /// Another process holds the lock (reported `1`).
    Contended,
    /// No majority, so the lock was not taken (reported `1`).
    NoQuorum {
        /// Connected nodes.
        up: usize,
        /// All nodes.
        total: usize,
    },
    /// The lock file or membership could not be read (reported `3`).
    Error(String),
    /// Held, then given up after the majority was lost.
    QuorumLost {
        /// Connected nodes at the last poll.
        up: usize,
        /// All nodes.
        total: usize,
    },
    /// Held until the process that started the helper went away.
    ParentGone,
    /// Held until the lock file was removed or replaced (someone else
    /// could lock the new file: give up, as CTDB's own helper does).
    LockFileChanged,
}

impl HelperEnd {
    /// The helper's exit status.
    pub fn exit_code(&self) -> i32 {
        match self {
            HelperEnd::Contended | HelperEnd::NoQuorum { .. } => 1,
            HelperEnd::Error(_) => 3,
            HelperEnd::QuorumLost { .. } => 4,
            HelperEnd::LockFileChanged => 5,
            HelperEnd::ParentGone => 0,
        }
    }
}

/// Options of one helper run.
#[derive(Debug, Clone, Copy)]
pub struct HelperOptions {
    /// Time between membership polls while holding the lock.
    pub poll: Duration,
    /// Consecutive polls without a majority before giving the lock up.
    pub grace: u32,
}

impl Default for HelperOptions {
    fn default() -> Self {
        HelperOptions {
            poll: Duration::from_millis(500),
            grace: 2,
        }
    }
}

/// Tries the POSIX write lock on `path` (created 0600 if missing):
/// `Ok(Some(file))` holds it while `file` lives, `Ok(None)` is contention.
pub fn try_lock(path: &Path) -> io::Result<Option<File>> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)?;
    match rustix::fs::fcntl_lock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(Some(file)),
        Err(e) if e == rustix::io::Errno::AGAIN || e == rustix::io::Errno::ACCESS => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Runs the helper protocol: reports on `out`, then holds the lock until
/// the majority is lost or `parent_alive` says the parent went away.
pub fn run_helper(
    path: &Path,
    membership: &dyn Membership,
    out: &mut dyn Write,
    opts: HelperOptions,
    parent_alive: &dyn Fn() -> bool,
) -> HelperEnd {
    let report = |out: &mut dyn Write, byte: &[u8]| {
        // If ctdbd stopped listening there is nobody to tell.
        let _ = out.write_all(byte).and_then(|()| out.flush());
    };
    let end = match membership.connected() {
        Err(e) => HelperEnd::Error(format!("cannot read cluster membership: {e}")),
        Ok((up, total)) if !has_majority(up, total) => HelperEnd::NoQuorum { up, total },
        Ok(_) => match try_lock(path) {
            Err(e) => HelperEnd::Error(format!("lock file {}: {e}", path.display())),
            Ok(None) => HelperEnd::Contended,
            Ok(Some(file)) => {
                report(out, b"0");
                return hold(file, path, membership, opts, parent_alive);
            }
        },
    };
    report(out, if end.exit_code() == 3 { b"3" } else { b"1" });
    end
}

/// Whether `path` still names the file `file` has open.
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

fn hold(
    file: File,
    path: &Path,
    membership: &dyn Membership,
    opts: HelperOptions,
    parent_alive: &dyn Fn() -> bool,
) -> HelperEnd {
    let mut misses = 0u32;
    loop {
        std::thread::sleep(opts.poll);
        if !parent_alive() {
            drop(file);
            return HelperEnd::ParentGone;
        }
        if !same_file(&file, path) {
            drop(file);
            return HelperEnd::LockFileChanged;
        }
        match membership.connected() {
            Ok((up, total)) if has_majority(up, total) => misses = 0,
            Ok((up, total)) => {
                misses += 1;
                if misses >= opts.grace {
                    drop(file);
                    return HelperEnd::QuorumLost { up, total };
                }
            }
            // An unanswered query counts as a miss: a node whose ctdbd
            // cannot answer should not keep the cluster's lock either.
            Err(_) => {
                misses += 1;
                if misses >= opts.grace {
                    drop(file);
                    return HelperEnd::QuorumLost { up: 0, total: 0 };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::VecDeque;

    struct Script(RefCell<VecDeque<Result<(usize, usize), String>>>);
    impl Membership for Script {
        fn connected(&self) -> Result<(usize, usize), String> {
            self.0.borrow_mut().pop_front().unwrap_or(Ok((3, 3)))
        }
    }
    fn script(v: Vec<Result<(usize, usize), String>>) -> Script {
        Script(RefCell::new(v.into()))
    }
    fn fast() -> HelperOptions {
        HelperOptions {
            poll: Duration::from_millis(1),
            grace: 2,
        }
    }

    #[test]
    fn majority() {
        assert!(has_majority(2, 3) && has_majority(3, 5) && has_majority(1, 1));
        assert!(!has_majority(1, 3) && !has_majority(2, 4) && !has_majority(0, 0));
    }

    #[test]
    fn takes_holds_and_gives_up_on_lost_majority() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("lock");
        let m = script(vec![
            Ok((3, 3)),
            Ok((3, 3)),
            Ok((1, 3)),
            Ok((3, 3)),
            Ok((1, 3)),
            Ok((1, 3)),
        ]);
        let mut out = Vec::new();
        let end = run_helper(&f, &m, &mut out, fast(), &|| true);
        assert_eq!(out, b"0");
        // One miss is forgiven; two in a row release.
        assert_eq!(end, HelperEnd::QuorumLost { up: 1, total: 3 });
        assert_eq!(end.exit_code(), 4);
        // Released: it can be taken again.
        assert!(try_lock(&f).unwrap().is_some());
    }

    #[test]
    fn refuses_without_majority_and_on_errors() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("lock");
        let mut out = Vec::new();
        let end = run_helper(&f, &script(vec![Ok((1, 3))]), &mut out, fast(), &|| true);
        assert_eq!(
            (out.as_slice(), end),
            (&b"1"[..], HelperEnd::NoQuorum { up: 1, total: 3 })
        );
        let mut out = Vec::new();
        let end = run_helper(
            &f,
            &script(vec![Err("no ctdbd".into())]),
            &mut out,
            fast(),
            &|| true,
        );
        assert_eq!(out, b"3");
        assert!(matches!(end, HelperEnd::Error(ref e) if e.contains("no ctdbd")));
        let mut out = Vec::new();
        let bad = dir.path().join("missing-dir/lock");
        let end = run_helper(&bad, &script(vec![]), &mut out, fast(), &|| true);
        assert_eq!(out, b"3");
        assert!(matches!(end, HelperEnd::Error(ref e) if e.contains("missing-dir")));
        // Membership errors while holding count as misses.
        let mut out = Vec::new();
        let end = run_helper(
            &f,
            &script(vec![
                Ok((3, 3)),
                Err("timeout".into()),
                Err("timeout".into()),
            ]),
            &mut out,
            fast(),
            &|| true,
        );
        assert_eq!(end, HelperEnd::QuorumLost { up: 0, total: 0 });
    }

    #[test]
    fn contention_with_another_process() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("lock");
        // POSIX locks are per process (a second open in this process
        // would succeed): hold it from a child, this test binary running
        // the ignored test below.
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "lock::tests::hold_for_contention_test",
                "--ignored",
                "--nocapture",
            ])
            .env("SMBGW_LOCK_TEST_FILE", &f)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let so = std::io::BufReader::new(child.stdout.take().unwrap());
        use std::io::BufRead;
        for line in so.lines() {
            if line.unwrap().contains("LOCKED") {
                break;
            }
        }
        let mut out = Vec::new();
        let end = run_helper(&f, &script(vec![Ok((3, 3))]), &mut out, fast(), &|| true);
        assert_eq!((out.as_slice(), end), (&b"1"[..], HelperEnd::Contended));
        child.kill().unwrap();
        child.wait().unwrap();
        // The holder died: the lock is free.
        assert!(try_lock(&f).unwrap().is_some());
    }

    /// Run by `contention_with_another_process` in a child process.
    #[test]
    #[ignore = "helper process of contention_with_another_process"]
    fn hold_for_contention_test() {
        let Some(f) = std::env::var_os("SMBGW_LOCK_TEST_FILE") else {
            return;
        };
        let _held = try_lock(Path::new(&f)).unwrap().unwrap();
        let mut o = io::stdout();
        o.write_all(b"LOCKED\n").unwrap();
        o.flush().unwrap();
        std::thread::sleep(Duration::from_secs(60));
    }

    /// Removes the lock file at its second call.
    struct Remover(std::path::PathBuf, RefCell<u32>);
    impl Membership for Remover {
        fn connected(&self) -> Result<(usize, usize), String> {
            *self.1.borrow_mut() += 1;
            if *self.1.borrow() == 2 {
                std::fs::remove_file(&self.0).unwrap();
            }
            Ok((3, 3))
        }
    }

    #[test]
    fn a_removed_lock_file_releases() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("lock");
        let m = Remover(f.clone(), RefCell::new(0));
        let mut out = Vec::new();
        let end = run_helper(&f, &m, &mut out, fast(), &|| true);
        assert_eq!(
            (out.as_slice(), end),
            (&b"0"[..], HelperEnd::LockFileChanged)
        );
    }

    #[test]
    fn parent_gone_releases() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("lock");
        let mut out = Vec::new();
        let end = run_helper(&f, &script(vec![]), &mut out, fast(), &|| false);
        assert_eq!((out.as_slice(), end), (&b"0"[..], HelperEnd::ParentGone));
    }
}
