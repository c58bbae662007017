//! Fault injection: fail or kill the process at every step of create and
//! delete; check that nothing is orphaned and no data is lost.
//!
//! * fail: the step errors, the executor rolls back: the state is exactly
//!   the state before the command (exit code 5).
//! * abort: the process dies like `kill -9` (journal left behind). Then
//!   either the same command is re-run (it must finish the job) or
//!   `apply` runs (an uncommitted create is rolled back, a delete is
//!   finished).
//!
//! [`check_matrix`] is the matrix for any backend; the dir and zfs tests
//! are here, the CephFS and RBD ones in `ceph.rs`.

use std::path::PathBuf;

use testkit::sandbox::GatewaySandbox;
use testkit::ZfsPool;

use crate::{ok, sandbox, snapshot, text, tree};

pub(crate) const PW: &str = "Fault-pw-1";

fn with_fault(sb: &GatewaySandbox, fault: &str, args: &[&str]) -> std::process::Output {
    sb.cmd(args).env("SMBGW_FAULT", fault).output().unwrap()
}

fn served(sb: &GatewaySandbox, share: &str) -> bool {
    let c = sb.base().join("client");
    std::fs::create_dir_all(&c).unwrap();
    sb.smbclient(share, "alice", PW, "ls", &[], &c)
        .status
        .success()
}

/// The host path a registered share serves.
fn share_path(sb: &GatewaySandbox, share: &str) -> PathBuf {
    let out = ok(&sb.run(&["show", share, "--output-format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    PathBuf::from(v["path"].as_str().unwrap())
}

/// One backend's fault matrix.
pub(crate) struct Matrix<'a> {
    /// The gateway (with user `alice`, password [`PW`]).
    pub sb: &'a GatewaySandbox,
    /// The create command; the share id is its second word. It must
    /// create a new volume, with `alice` among the users.
    pub create: &'a [&'a str],
    /// The state of the backend's volumes outside the sandbox (datasets,
    /// subvolumes, images, mounts, files), compared before and after
    /// every round together with the gateway's own files.
    pub volumes: &'a dyn Fn() -> String,
    /// LXC mode (plain LXC driver): the share is served by its container.
    pub lxc: bool,
}

impl Matrix<'_> {
    fn state(&self) -> String {
        format!("{}== volumes\n{}", snapshot(self.sb, &[]), (self.volumes)())
    }

    fn served(&self, share: &str) -> bool {
        if self.lxc {
            crate::lxc::lxc_served(self.sb, share)
        } else {
            served(self.sb, share)
        }
    }

    /// Whether a delete failing at `step` (`when`) is past a step that
    /// cannot be undone (then it is finished forward): the container's
    /// destruction (LXC, step 2), the volume's (purge: native step 2, LXC
    /// step 3).
    fn past_irreversible(&self, purge: bool, step: usize, when: &str) -> bool {
        let first = match (self.lxc, purge) {
            (true, _) => 2,
            (false, true) => 2,
            (false, false) => return false,
        };
        step > first || (step == first && when == "after")
    }
}

/// Fails or aborts every step of create and delete (with and without
/// purge), converges by re-running the command or by `apply`, and checks
/// the state before and after, that data survives unless purged, and that
/// the share is served exactly when it should be.
pub(crate) fn check_matrix(m: &Matrix<'_>) {
    let sb = m.sb;
    let create = m.create;
    let share = create[1];
    let whens = ["before", "after"];
    let steps = {
        let out = ok(&sb.run(&[create, &["--dry-run"]].concat()));
        out.lines()
            .filter(|l| l.trim_start().starts_with(char::is_numeric))
            .count()
    };
    let expected = if m.lxc { 9 } else { 6 };
    assert_eq!(steps, expected, "create plan steps for a new volume");
    let before = m.state();
    let mut round = 0;
    for step in 1..=steps {
        for when in whens {
            // fail: rolled back to exactly the state before.
            let fault = format!("{step}:{when}:fail");
            let out = with_fault(sb, &fault, create);
            assert_eq!(out.status.code(), Some(5), "{fault}: {}", text(&out.stderr));
            assert!(
                text(&out.stderr).contains("injected fault"),
                "{fault}: {}",
                text(&out.stderr)
            );
            assert_eq!(m.state(), before, "state after {fault}");

            // abort: killed; then converge.
            let fault = format!("{step}:{when}:abort");
            let out = with_fault(sb, &fault, create);
            assert!(
                out.status.code().is_none(),
                "{fault}: the process should have been killed"
            );
            round += 1;
            if round % 2 == 0 {
                let out = sb.run(&["apply"]);
                let report = ok(&out);
                if step == steps && when == "after" {
                    // Killed after the commit point: the registry says
                    // the share exists, so apply keeps it.
                    assert!(report.contains("create had committed"), "{report}");
                    assert!(
                        m.served(share),
                        "{fault} + apply: committed share not served"
                    );
                    ok(&sb.run(&["delete", share, "--purge"]));
                } else {
                    assert!(
                        report.contains("rolled back an interrupted create"),
                        "{report}"
                    );
                    assert!(!m.served(share));
                }
                assert_eq!(m.state(), before, "state after {fault} + apply");
            } else {
                let out = sb.run(create);
                ok(&out);
                assert!(m.served(share), "re-run after {fault} must serve the share");
                ok(&sb.run(&["delete", share, "--purge"]));
                assert_eq!(m.state(), before, "state after {fault} + re-run + purge");
            }
        }
    }

    // Delete: 3 steps (LXC: 4), with and without purge.
    let delete_steps = if m.lxc { 4 } else { 3 };
    for purge in [false, true] {
        for step in 1..=delete_steps {
            for when in whens {
                ok(&sb.run(create));
                let mut data_file = share_path(sb, share).join("data.txt");
                std::fs::write(&data_file, b"precious").unwrap();
                let mut del = vec!["delete", share];
                if purge {
                    del.push("--purge");
                }
                let served_state = m.state();
                let fault = format!("{step}:{when}:fail");
                let out = with_fault(sb, &fault, &del);
                if m.past_irreversible(purge, step, when) {
                    // The volume (or the container) is gone: finished
                    // forward, not rolled back.
                    assert_eq!(
                        out.status.code(),
                        Some(6),
                        "delete {fault}: {}",
                        text(&out.stderr)
                    );
                    assert!(
                        text(&out.stderr).contains("cannot be undone"),
                        "{}",
                        text(&out.stderr)
                    );
                    ok(&sb.run(&["apply"]));
                    assert!(!m.served(share));
                    assert_eq!(sb.run(&["show", share]).status.code(), Some(4));
                    if purge {
                        assert!(!data_file.exists());
                        assert_eq!(m.state(), before, "after delete {fault} + apply");
                        ok(&sb.run(create));
                    } else {
                        assert_eq!(std::fs::read(&data_file).unwrap(), b"precious");
                        ok(&sb.run(&[create, &["--existing"]].concat()));
                    }
                    data_file = share_path(sb, share).join("data.txt");
                    std::fs::write(&data_file, b"precious").unwrap();
                } else {
                    assert_eq!(
                        out.status.code(),
                        Some(5),
                        "delete {fault}: {}",
                        text(&out.stderr)
                    );
                    assert_eq!(m.state(), served_state, "state after delete {fault}");
                    assert!(
                        m.served(share),
                        "after a failed delete ({fault}) the share is served again"
                    );
                    assert_eq!(std::fs::read(&data_file).unwrap(), b"precious");
                }

                let fault = format!("{step}:{when}:abort");
                let out = with_fault(sb, &fault, &del);
                assert!(out.status.code().is_none(), "delete {fault}: not killed");
                if step % 2 == 0 {
                    ok(&sb.run(&del));
                } else {
                    ok(&sb.run(&["apply"]));
                }
                assert!(!m.served(share), "delete {fault}: still served");
                assert_eq!(sb.run(&["show", share]).status.code(), Some(4));
                if purge {
                    assert!(!data_file.exists(), "delete --purge {fault}: data kept");
                    assert_eq!(m.state(), before);
                } else {
                    // The kept volume is served again as it is (a volume
                    // that must be mounted, like an RBD image, only shows
                    // its files then), then purged for the next round.
                    ok(&sb.run(&[create, &["--existing"]].concat()));
                    assert_eq!(
                        std::fs::read(share_path(sb, share).join("data.txt")).unwrap(),
                        b"precious",
                        "delete {fault}: data lost"
                    );
                    ok(&sb.run(&["delete", share, "--purge"]));
                }
            }
        }
    }
    assert_eq!(m.state(), before, "state after the matrix");
}

#[test]
fn dir_create_and_delete_converge_after_any_fault() {
    let Some(sb) = sandbox("dir_create_and_delete_converge_after_any_fault") else {
        return;
    };
    sb.add_user("alice", PW);
    check_matrix(&Matrix {
        sb: &sb,
        create: &["create", "ft", "--mode", "native", "--users", "alice"],
        // The volumes are under the sandbox, in its snapshot already.
        volumes: &String::new,
        lxc: false,
    });
}

#[test]
fn zfs_create_and_delete_converge_after_any_fault() {
    let Some(pool) = ZfsPool::new_shared("zfs_create_and_delete_converge_after_any_fault") else {
        return;
    };
    let Some(sb) = sandbox("zfs_create_and_delete_converge_after_any_fault") else {
        return;
    };
    sb.add_user("alice", PW);
    let mnt = pool.mnt();
    check_matrix(&Matrix {
        sb: &sb,
        create: &[
            "create",
            "fz",
            "--mode",
            "native",
            "--backend",
            "zfs",
            "--zfs-parent",
            &pool.pool,
            "--quota",
            "64M",
            "--users",
            "alice",
        ],
        volumes: &|| tree(&mnt),
        lxc: false,
    });
    drop(sb);
    drop(pool);
}
