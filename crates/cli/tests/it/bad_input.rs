//! Every rejected input gets a clear, specific error and changes nothing.

use std::os::unix::fs::PermissionsExt;

use crate::{ok, sandbox, snapshot, text};

#[test]
fn bad_input_is_refused_before_anything_changes() {
    let Some(sb) = sandbox("bad_input_is_refused_before_anything_changes") else {
        return;
    };
    sb.add_user("alice", "Bad-pw-1");
    ok(&sb.run(&["create", "taken", "--mode", "native"]));
    let world = sb.base().join("pw-world");
    std::fs::write(&world, "secret\n").unwrap();
    std::fs::set_permissions(&world, std::fs::Permissions::from_mode(0o644)).unwrap();
    let world = world.to_str().unwrap().to_owned();

    // (arguments, exit code, what the message must say)
    let n = "--mode=native";
    let long = "a".repeat(65);
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (vec!["create", "bad]name", n], 3, "share id"),
        (vec!["create", "bad[name", n], 3, "share id"),
        (vec!["create", "a%b", n], 3, "%"),
        (vec!["create", "line\nbreak", n], 3, "share id"),
        (vec!["create", "tab\there", n], 3, "share id"),
        (vec!["create", "Team", n], 3, "lowercase"),
        (vec!["create", "global", n], 3, "reserved"),
        (vec!["create", "homes", n], 3, "reserved"),
        (vec!["create", "ipc$", n], 3, "share id"),
        (vec!["create", "x", n], 3, "share id"),
        (vec!["create", &long, n], 3, "share id"),
        (vec!["create", "q1", n, "--quota", "10GB"], 3, "10G"),
        (vec!["create", "q2", n, "--quota", "0"], 3, "quota"),
        (vec!["create", "q3", n, "--quota", "1.5G"], 3, "quota"),
        (vec!["create", "q4", n, "--quota", "99999999E"], 3, "quota"),
        (
            vec!["create", "q5", n, "--quota", "5G"],
            3,
            "--quota-unenforced",
        ),
        (vec!["create", "u1", n, "--users", "Bad User"], 3, "user"),
        (
            vec!["create", "u2", n, "--users", "alice,alice"],
            3,
            "twice",
        ),
        (
            vec!["create", "u3", n, "--users", "carol"],
            3,
            "user add carol",
        ),
        (
            vec!["create", "g1", n, "--groups", "nosuchgroup"],
            3,
            "nosuchgroup",
        ),
        (
            vec!["create", "w1", n, "--workgroup", "MUCH-TOO-LONG-WORKGROUP"],
            3,
            "workgroup",
        ),
        (
            vec!["create", "d1", n, "--dir-root", "/proc/x"],
            3,
            "directory root",
        ),
        (
            vec!["create", "d2", n, "--dir-root", "/srv/a/../b"],
            3,
            "directory root",
        ),
        (
            vec!["create", "s1", n, "--signing", "required"],
            3,
            "signing",
        ),
        (
            vec!["create", "s2", n, "--encryption", "maybe"],
            3,
            "encryption",
        ),
        (vec!["create", "m1", "--mode", "vm"], 3, "vm"),
        (
            vec!["create", "m2", "--mode", "lxc", "--memory", "8"],
            3,
            "16",
        ),
        (
            vec!["create", "m3", "--mode", "lxc", "--ip", "10.0.0.5/24"],
            3,
            "--bridge",
        ),
        (
            vec![
                "create",
                "m4",
                "--mode",
                "lxc",
                "--bridge",
                "vmbr0",
                "--ip",
                "10.0.0.5/33",
            ],
            3,
            "prefix",
        ),
        (
            vec!["create", "m5", "--mode", "lxc", "--ct-driver", "docker"],
            3,
            "driver",
        ),
        (
            vec![
                "create",
                "z1",
                n,
                "--backend",
                "zfs",
                "--zfs-parent",
                "bad@name",
            ],
            3,
            "dataset",
        ),
        (
            vec!["create", "c1", n, "--comment", "100% sure"],
            3,
            "comment",
        ),
        // Ceph backends: refused before any Ceph tool runs.
        (
            vec!["create", "r1", n, "--backend", "rbd", "--rbd-pool", "rbd"],
            3,
            "needs a size",
        ),
        (
            vec![
                "create",
                "r2",
                n,
                "--backend",
                "rbd",
                "--rbd-pool",
                "rbd",
                "--quota",
                "100M",
            ],
            3,
            "at least 300MiB",
        ),
        (
            vec![
                "create",
                "r3",
                n,
                "--backend",
                "rbd",
                "--rbd-pool",
                "rb/d",
                "--quota",
                "1G",
            ],
            3,
            "rbd pool",
        ),
        (
            vec![
                "create",
                "r4",
                n,
                "--backend",
                "cephfs",
                "--cephfs-fs",
                "cephfs",
                "--ceph-id",
                "client.admin",
            ],
            3,
            "without `client.`",
        ),
        (
            vec![
                "create",
                "r5",
                n,
                "--backend",
                "cephfs",
                "--cephfs-fs",
                "cephfs",
                "--cephfs-mount",
                "/proc/ceph",
            ],
            3,
            "cephfs mount",
        ),
        (
            vec!["create", "r6", n, "--rbd-pool", "rbd"],
            3,
            "--rbd-pool applies to --backend rbd",
        ),
        (vec!["create", "taken", n], 4, "already exists"),
        (vec!["delete", "nosuchshare"], 4, "nosuchshare"),
        (vec!["user", "add", "Bad"], 3, "invalid user name"),
        (
            vec!["user", "add", "bob", "--password-file", &world],
            3,
            "chmod 600",
        ),
        (vec!["user", "del", "nosuchuser"], 3, "does not exist"),
    ];
    let before = snapshot(&sb, &[]);
    for (args, code, needle) in &cases {
        let out = sb.run(args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(*code), "{args:?}: {err}");
        assert!(
            err.contains(needle),
            "{args:?}: message {err:?} does not mention {needle:?}"
        );
        assert!(
            err.starts_with("pve-smbgateway: error: "),
            "{args:?}: {err}"
        );
        assert_eq!(snapshot(&sb, &[]), before, "{args:?} changed something");
    }
    // An empty password on stdin.
    let out = sb.run_stdin(&["user", "add", "dave"], b"\n");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("password is empty"));
}
