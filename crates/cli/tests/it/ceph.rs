//! CephFS and RBD shares end to end, against one private single-node Ceph
//! cluster (`testkit::ceph::Cluster`, ~10 s to bring up) shared by every
//! scenario, each with its own sandboxed gateway and smbd:
//!
//! * for each backend: create with a quota, put/get over SMB, writing past
//!   the quota fails with `NT_STATUS_DISK_FULL`, delete keeps the data,
//!   `create --existing` serves it again, `delete --purge` destroys it;
//! * for each backend: the whole fault matrix of `faults.rs` (every create
//!   and delete step failed and aborted, before and after it runs, then
//!   converged by a re-run or `apply`).
//!
//! The CephFS and the RBD chains run in parallel (a Ceph round trip costs
//! about a second where a directory costs milliseconds): about 10 s for the
//! cluster, 5 s for each end-to-end scenario, 110 s for the CephFS matrix
//! and 55 s for the RBD one, so about 125 s in all.
//!
//! CephFS is mounted the way Proxmox mounts a CephFS storage (the whole
//! filesystem with ceph-fuse, as `client.admin`), at a shared mount point so
//! that the gateway's mount namespaces see it. RBD images are mapped with
//! `--rbd-map fuse` (rbd-fuse + loop device; there is no krbd here) and
//! mounted under another shared directory, so that the private smbd (started
//! in one namespace) sees the XFS mounts the gateway makes in another.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use testkit::ceph::{loops_under, mounts_under, pids_mentioning, Cluster, FS, POOL};
use testkit::sandbox::GatewaySandbox;

use crate::faults::{check_matrix, Matrix, PW};
use crate::{ok, sandbox, text, tree};

/// What the scenarios share.
struct Env {
    cluster: Cluster,
    /// The CephFS root, mounted like Proxmox's /mnt/pve/<storage>.
    cephfs: PathBuf,
    /// The RBD mount base.
    rbd: PathBuf,
}

impl Env {
    fn conf(&self) -> String {
        self.cluster.conf().display().to_string()
    }

    /// `create ID --backend cephfs ...` plus `extra`.
    fn cephfs_create(&self, id: &str, extra: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = [
            "create",
            id,
            "--mode",
            "native",
            "--backend",
            "cephfs",
            "--cephfs-fs",
            FS,
            "--cephfs-mount",
            self.cephfs.to_str().unwrap(),
            "--ceph-conf",
            &self.conf(),
        ]
        .map(str::to_owned)
        .to_vec();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    }

    /// `create ID --backend rbd --rbd-map fuse ...` plus `extra`.
    fn rbd_create(&self, id: &str, extra: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = [
            "create",
            id,
            "--mode",
            "native",
            "--backend",
            "rbd",
            "--rbd-pool",
            POOL,
            "--rbd-map",
            "fuse",
            "--rbd-mount-base",
            self.rbd.to_str().unwrap(),
            "--ceph-conf",
            &self.conf(),
        ]
        .map(str::to_owned)
        .to_vec();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    }

    /// Whether subvolume `name` exists.
    fn subvolume_exists(&self, name: &str) -> bool {
        Command::new("ceph")
            .args([
                "--conf",
                &self.conf(),
                "fs",
                "subvolume",
                "getpath",
                FS,
                name,
            ])
            .output()
            .unwrap()
            .status
            .success()
    }

    /// Whether image `name` exists.
    fn image_exists(&self, name: &str) -> bool {
        Command::new("rbd")
            .args(["--conf", &self.conf(), "info", &format!("{POOL}/{name}")])
            .output()
            .unwrap()
            .status
            .success()
    }

    /// The subvolumes (their directories and files, as the CephFS mount
    /// shows them).
    fn cephfs_state(&self) -> String {
        tree(&self.cephfs.join("volumes/_nogroup"))
    }

    /// The images, what is mounted under the mount base (XFS and rbd-fuse)
    /// with loop devices on it, and the files on the mounted images.
    fn rbd_state(&self) -> String {
        let images = Command::new("rbd")
            .args(["--conf", &self.conf(), "ls", POOL])
            .output()
            .unwrap();
        assert!(images.status.success(), "{}", text(&images.stderr));
        let mut mounts: Vec<String> = mounts_under(&self.rbd)
            .into_iter()
            .filter(|m| m != &self.rbd)
            .map(|m| m.display().to_string())
            .collect();
        mounts.sort();
        format!(
            "images:\n{}mounts: {mounts:?}\nloops: {}\n{}",
            text(&images.stdout),
            loops_under(&self.rbd).len(),
            tree(&self.rbd)
        )
    }
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn client_dir(sb: &GatewaySandbox) -> PathBuf {
    let d = sb.base().join("client");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// put + get of `bytes` through the share.
fn put_get(sb: &GatewaySandbox, share: &str, name: &str, bytes: &[u8]) {
    let c = client_dir(sb);
    std::fs::write(c.join(name), bytes).unwrap();
    let cmds = format!("put {name} remote-{name}; get remote-{name} back-{name}");
    ok(&sb.smbclient(share, "alice", PW, &cmds, &[], &c));
    assert_eq!(
        std::fs::read(c.join(format!("back-{name}"))).unwrap(),
        bytes
    );
}

/// Puts a file of `size` bytes (real data) and expects the server to
/// refuse it with `NT_STATUS_DISK_FULL`.
fn put_past_quota(sb: &GatewaySandbox, share: &str, size: usize) {
    use std::io::Write;
    let c = client_dir(sb);
    let chunk = vec![0x6bu8; 1 << 20];
    let mut f = std::fs::File::create(c.join("big.bin")).unwrap();
    for _ in 0..size >> 20 {
        f.write_all(&chunk).unwrap();
    }
    drop(f);
    let out = sb.smbclient(share, "alice", PW, "put big.bin big.bin", &[], &c);
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(all.contains("NT_STATUS_DISK_FULL"), "{all}");
    std::fs::remove_file(c.join("big.bin")).unwrap();
}

fn status_json(sb: &GatewaySandbox, share: &str) -> serde_json::Value {
    let out = sb.run(&["status", share, "--output-format", "json"]);
    serde_json::from_str(&ok(&out)).unwrap()
}

fn share_path(sb: &GatewaySandbox, share: &str) -> PathBuf {
    let out = ok(&sb.run(&["show", share, "--output-format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    PathBuf::from(v["path"].as_str().unwrap())
}

fn new_sandbox(test: &str) -> GatewaySandbox {
    let sb = sandbox(test).expect("samba is required once ceph is there");
    sb.add_user("alice", PW);
    sb
}

fn cephfs_end_to_end(env: &Env) {
    let sb = new_sandbox("ceph_cephfs_share");
    let out = sb.run(&args(
        &env.cephfs_create("cq", &["--quota", "32M", "--users", "alice"]),
    ));
    ok(&out);
    let path = share_path(&sb, "cq");
    let sub = env
        .cluster
        .sh("ceph", &["fs", "subvolume", "getpath", FS, "cq"]);
    assert_eq!(
        path,
        env.cephfs.join(sub.trim().trim_start_matches('/')),
        "served from the host's CephFS mount"
    );
    let shown = ok(&sb.run(&["show", "cq", "--output-format", "json"]));
    assert!(
        shown.contains("\"volume_id\":\"testfs/_nogroup/cq\""),
        "{shown}"
    );

    let payload: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    put_get(&sb, "cq", "a.bin", &payload);
    assert_eq!(std::fs::read(path.join("remote-a.bin")).unwrap(), payload);
    // ceph-fuse enforces the quota at about 100.75 %.
    put_past_quota(&sb, "cq", 64 << 20);
    let st = status_json(&sb, "cq");
    assert_eq!(st["served"], true, "{st}");
    assert_eq!(st["usage"]["scope"], "volume", "{st}");
    assert_eq!(st["usage"]["total"], 32u64 << 20, "{st}");

    // delete keeps the subvolume and its files.
    ok(&sb.run(&["delete", "cq"]));
    assert!(env.subvolume_exists("cq"), "delete must keep the subvolume");
    assert_eq!(std::fs::read(path.join("remote-a.bin")).unwrap(), payload);
    let c = client_dir(&sb);
    let gone = sb.smbclient("cq", "alice", PW, "ls", &[], &c);
    assert!(
        text(&gone.stdout).contains("NT_STATUS_BAD_NETWORK_NAME"),
        "{}",
        text(&gone.stdout)
    );

    // Served again as it is, then purged.
    ok(&sb.run(&args(&env.cephfs_create(
        "cq2",
        &["--volume", "cq", "--existing", "--users", "alice"],
    ))));
    ok(&sb.smbclient("cq2", "alice", PW, "get remote-a.bin again.bin", &[], &c));
    assert_eq!(std::fs::read(c.join("again.bin")).unwrap(), payload);
    let purge = sb.run(&["delete", "cq2", "--purge"]);
    ok(&purge);
    assert!(text(&purge.stderr).contains("ALL its data will be destroyed"));
    assert!(
        !env.subvolume_exists("cq"),
        "purge must remove the subvolume"
    );
    assert!(!path.exists());
    assert_eq!(
        ok(&sb.run(&["list", "--output-format", "json"])).trim(),
        "[]"
    );
}

fn rbd_end_to_end(env: &Env) {
    let sb = new_sandbox("ceph_rbd_share");
    ok(&sb.run(&args(
        &env.rbd_create("rq", &["--quota", "320M", "--users", "alice"]),
    )));
    let path = share_path(&sb, "rq");
    assert_eq!(path, env.rbd.join("rq"));
    assert!(mounts_under(&env.rbd).contains(&path), "the XFS is mounted");
    let shown = ok(&sb.run(&["show", "rq", "--output-format", "json"]));
    assert!(shown.contains("\"volume_id\":\"rbd/rq\""), "{shown}");

    let payload: Vec<u8> = (0..300_000u32).map(|i| (i % 241) as u8).collect();
    put_get(&sb, "rq", "a.bin", &payload);
    assert_eq!(std::fs::read(path.join("remote-a.bin")).unwrap(), payload);
    // XFS on the 320 MiB image runs out of space: ENOSPC.
    put_past_quota(&sb, "rq", 400 << 20);
    let st = status_json(&sb, "rq");
    assert_eq!(st["served"], true, "{st}");
    assert_eq!(st["usage"]["scope"], "volume", "{st}");
    assert!(st["usage"]["total"].as_u64().unwrap() <= 320 << 20, "{st}");

    // delete keeps the image (unmounted and unmapped).
    ok(&sb.run(&["delete", "rq"]));
    assert!(env.image_exists("rq"), "delete must keep the image");
    assert!(!mounts_under(&env.rbd).contains(&path), "still mounted");
    assert!(loops_under(&env.rbd).is_empty(), "loop device left");

    // Served again as it is (mapped and mounted, never formatted), then
    // purged.
    ok(&sb.run(&args(&env.rbd_create(
        "rq2",
        &["--volume", "rq", "--existing", "--users", "alice"],
    ))));
    let c = client_dir(&sb);
    ok(&sb.smbclient("rq2", "alice", PW, "get remote-a.bin again.bin", &[], &c));
    assert_eq!(std::fs::read(c.join("again.bin")).unwrap(), payload);
    ok(&sb.run(&["delete", "rq2", "--purge"]));
    assert!(!env.image_exists("rq"), "purge must remove the image");
    assert!(!path.exists());
    assert_eq!(
        mounts_under(&env.rbd),
        vec![env.rbd.clone()],
        "only the shared base is left mounted"
    );
}

fn cephfs_faults(env: &Env) {
    let sb = new_sandbox("ceph_cephfs_faults");
    let create = env.cephfs_create("fc", &["--quota", "64M", "--users", "alice"]);
    check_matrix(&Matrix {
        sb: &sb,
        create: &args(&create),
        volumes: &|| env.cephfs_state(),
        lxc: false,
    });
}

fn rbd_faults(env: &Env) {
    let sb = new_sandbox("ceph_rbd_faults");
    let create = env.rbd_create("fr", &["--quota", "300M", "--users", "alice"]);
    check_matrix(&Matrix {
        sb: &sb,
        create: &args(&create),
        volumes: &|| env.rbd_state(),
        lxc: false,
    });
}

/// A labelled scenario.
type Scenario = (&'static str, fn(&Env));

#[test]
fn ceph_shares_end_to_end_and_after_any_fault() {
    let test = "ceph_shares_end_to_end_and_after_any_fault";
    let Some(cluster) = Cluster::new(test) else {
        return;
    };
    if !testkit::require(
        test,
        testkit::sandbox::SAMBA_TOOLS,
        "apt-get install -y samba smbclient",
    ) {
        return;
    }
    let env = Env {
        cephfs: cluster.mount_root("cephfs"),
        rbd: cluster.shared_dir("rbd"),
        cluster,
    };
    // The two backends in parallel (each scenario has its own gateway);
    // within a backend, in sequence.
    let chains: [&[Scenario]; 2] = [
        &[
            ("cephfs end to end", cephfs_end_to_end),
            ("cephfs faults", cephfs_faults),
        ],
        &[
            ("rbd end to end", rbd_end_to_end),
            ("rbd faults", rbd_faults),
        ],
    ];
    let failures: Vec<&str> = std::thread::scope(|s| {
        let handles: Vec<_> = chains
            .iter()
            .map(|chain| {
                let env = &env;
                s.spawn(move || {
                    let mut failed = Vec::new();
                    for &(label, scenario) in *chain {
                        let start = Instant::now();
                        let r = catch_unwind(AssertUnwindSafe(|| scenario(env)));
                        println!("{label}: {:?}", start.elapsed());
                        if r.is_err() {
                            failed.push(label);
                        }
                    }
                    failed
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let start = Instant::now();
    let d: PathBuf = env.cluster.dir().to_owned();
    drop(env);
    println!("ceph tear-down: {:?}", start.elapsed());
    assert!(mounts_under(&d).is_empty(), "{:?}", mounts_under(&d));
    assert!(pids_mentioning(&d).is_empty(), "{:?}", pids_mentioning(&d));
    assert!(!Path::new(&d).exists());
    assert!(failures.is_empty(), "failed scenarios: {failures:?}");
}
