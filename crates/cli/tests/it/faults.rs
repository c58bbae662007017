//! Fault injection: fail or kill the process at every step of create and
//! delete; check that nothing is orphaned and no data is lost.
//!
//! * fail: the step errors, the executor rolls back: the state is exactly
//!   the state before the command (exit code 5).
//! * abort: the process dies like `kill -9` (journal left behind). Then
//!   either the same command is re-run (it must finish the job) or
//!   `apply` runs (an uncommitted create is rolled back, a delete is
//!   finished).

use std::path::Path;

use testkit::sandbox::GatewaySandbox;
use testkit::ZfsPool;

use crate::{ok, sandbox, snapshot, text};

const PW: &str = "Fault-pw-1";

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

fn check_matrix(sb: &GatewaySandbox, create: &[&str], delete_extra: &Path, data_file: &Path) {
    let share = create[1];
    let steps = {
        let out = ok(&sb.run(&[create, &["--dry-run"]].concat()));
        out.lines()
            .filter(|l| l.trim_start().starts_with(char::is_numeric))
            .count()
    };
    assert_eq!(steps, 6, "create plan has 6 steps for a new volume");
    let before = snapshot(sb, &[delete_extra]);
    let mut round = 0;
    for step in 1..=steps {
        for when in ["before", "after"] {
            // fail: rolled back to exactly the state before.
            let fault = format!("{step}:{when}:fail");
            let out = with_fault(sb, &fault, create);
            assert_eq!(out.status.code(), Some(5), "{fault}: {}", text(&out.stderr));
            assert!(
                text(&out.stderr).contains("injected fault"),
                "{fault}: {}",
                text(&out.stderr)
            );
            assert_eq!(snapshot(sb, &[delete_extra]), before, "state after {fault}");

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
                        served(sb, share),
                        "{fault} + apply: committed share not served"
                    );
                    ok(&sb.run(&["delete", share, "--purge"]));
                } else {
                    assert!(
                        report.contains("rolled back an interrupted create"),
                        "{report}"
                    );
                    assert!(!served(sb, share));
                }
                assert_eq!(
                    snapshot(sb, &[delete_extra]),
                    before,
                    "state after {fault} + apply"
                );
            } else {
                let out = sb.run(create);
                ok(&out);
                assert!(
                    served(sb, share),
                    "re-run after {fault} must serve the share"
                );
                ok(&sb.run(&["delete", share, "--purge"]));
                assert_eq!(
                    snapshot(sb, &[delete_extra]),
                    before,
                    "state after {fault} + re-run + purge"
                );
            }
        }
    }

    // Delete: 3 steps, with and without purge.
    for purge in [false, true] {
        for step in 1..=3 {
            for when in ["before", "after"] {
                ok(&sb.run(create));
                std::fs::write(data_file, b"precious").unwrap();
                let mut del = vec!["delete", share];
                if purge {
                    del.push("--purge");
                }
                let served_state = snapshot(sb, &[delete_extra]);
                let fault = format!("{step}:{when}:fail");
                let out = with_fault(sb, &fault, &del);
                let past_destroy = purge && (step == 3 || (step == 2 && when == "after"));
                if past_destroy {
                    // The volume is gone: finished forward, not rolled back.
                    assert_eq!(
                        out.status.code(),
                        Some(6),
                        "delete {fault}: {}",
                        text(&out.stderr)
                    );
                    assert!(
                        text(&out.stderr).contains("already destroyed"),
                        "{}",
                        text(&out.stderr)
                    );
                    ok(&sb.run(&["apply"]));
                    assert!(!served(sb, share));
                    assert!(!data_file.exists());
                    assert_eq!(
                        snapshot(sb, &[delete_extra]),
                        before,
                        "after delete {fault} + apply"
                    );
                    ok(&sb.run(create));
                    std::fs::write(data_file, b"precious").unwrap();
                } else {
                    assert_eq!(
                        out.status.code(),
                        Some(5),
                        "delete {fault}: {}",
                        text(&out.stderr)
                    );
                    assert_eq!(
                        snapshot(sb, &[delete_extra]),
                        served_state,
                        "state after delete {fault}"
                    );
                    assert!(
                        served(sb, share),
                        "after a failed delete the share is served again"
                    );
                    assert_eq!(std::fs::read(data_file).unwrap(), b"precious");
                }

                let fault = format!("{step}:{when}:abort");
                let out = with_fault(sb, &fault, &del);
                assert!(out.status.code().is_none(), "delete {fault}: not killed");
                if step % 2 == 0 {
                    ok(&sb.run(&del));
                } else {
                    ok(&sb.run(&["apply"]));
                }
                assert!(!served(sb, share), "delete {fault}: still served");
                assert_eq!(sb.run(&["show", share]).status.code(), Some(4));
                if purge {
                    assert!(!data_file.exists(), "delete --purge {fault}: data kept");
                    assert_eq!(snapshot(sb, &[delete_extra]), before);
                } else {
                    assert_eq!(
                        std::fs::read(data_file).unwrap(),
                        b"precious",
                        "delete {fault}: data lost"
                    );
                    // Clean up for the next round.
                    ok(&sb.run(&[create, &["--existing"]].concat()));
                    ok(&sb.run(&["delete", share, "--purge"]));
                }
            }
        }
    }
}

#[test]
fn dir_create_and_delete_converge_after_any_fault() {
    let Some(sb) = sandbox("dir_create_and_delete_converge_after_any_fault") else {
        return;
    };
    sb.add_user("alice", PW);
    let data = sb.root.join("volumes/ft/data.txt");
    check_matrix(
        &sb,
        &["create", "ft", "--mode", "native", "--users", "alice"],
        &sb.root.join("volumes"),
        &data,
    );
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
    let data = pool.mnt().join("fz/data.txt");
    check_matrix(
        &sb,
        &[
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
        &pool.mnt(),
        &data,
    );
    drop(sb);
    drop(pool);
}
