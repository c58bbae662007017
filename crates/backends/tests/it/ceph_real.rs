//! End to end against a private single-node Ceph Pacific cluster
//! ([`testkit::ceph::Cluster`]). One cluster serves both scenarios, run in
//! sequence by one test function that owns it, so it is torn down at the
//! end whatever happens.

use std::fs::{self, File};
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use backends::{
    Backend, CephClient, CephFsBackend, CreateOptions, Error, FuseLoopMap, Purge, QuotaPolicy,
    RbdBackend, UsageScope, VolumeName,
};
use runner::RealRunner;
use rustix::io::Errno;
use testkit::ceph::{loops_under, mounts_under, pids_mentioning, Cluster, FS, POOL};

/// The cluster's `client.admin`.
pub(crate) fn client(c: &Cluster) -> CephClient {
    CephClient::with_conf(c.conf())
}

fn name(s: &str) -> VolumeName {
    VolumeName::new(s).unwrap()
}

/// Writes 1 MiB chunks until the filesystem refuses; returns the error.
fn write_until_full(path: &Path, limit: u64) -> std::io::Error {
    let mut f = File::create(path).unwrap();
    let chunk = vec![0x5a_u8; 1 << 20];
    let mut written = 0u64;
    loop {
        if let Err(e) = f.write_all(&chunk).and_then(|()| f.sync_all()) {
            return e;
        }
        written += chunk.len() as u64;
        assert!(
            written <= limit,
            "wrote {written} bytes without hitting the limit"
        );
    }
}

fn cephfs_scenario(c: &Cluster) {
    let mnt = c.dir().join("mnt");
    let fs = CephFsBackend::new(RealRunner::new(), client(c), FS, &mnt).unwrap();
    let opts = CreateOptions {
        quota: Some("64M".parse().unwrap()),
        ..Default::default()
    };
    let vol = fs.create(&name("q1"), &opts).unwrap();
    let sub_path = c.sh("ceph", &["fs", "subvolume", "getpath", FS, "q1"]);
    assert_eq!(vol.path, mnt.join(sub_path.trim().trim_start_matches('/')));
    assert_eq!(vol.id, "testfs/_nogroup/q1");
    assert_eq!(vol.quota, Some("64M".parse().unwrap()));
    let err = fs.create(&name("q1"), &opts).unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");

    c.mount_subvolume("q1", sub_path.trim(), &vol.path);
    assert_eq!(fs.host_path(&vol).unwrap(), vol.path);
    let cheap = fs.usage(&vol).unwrap();
    assert_eq!(
        (cheap.total, cheap.scope),
        (Some(64 << 20), UsageScope::Volume),
        "{cheap:?}"
    );

    let err = write_until_full(&vol.path.join("big"), 96 << 20);
    assert_eq!(
        err.raw_os_error(),
        Some(Errno::DQUOT.raw_os_error()),
        "{err}"
    );
    // The MDS propagates recursive stats lazily.
    let start = Instant::now();
    let exact = loop {
        let u = fs.exact_usage(&vol).unwrap();
        if u.used >= 63 << 20 || start.elapsed() > Duration::from_secs(15) {
            break u;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    assert!(
        exact.used >= 63 << 20 && exact.total == Some(64 << 20),
        "{exact:?}"
    );
    let cheap = fs.usage(&vol).unwrap();
    assert!(cheap.used >= 63 << 20, "{cheap:?}");

    let err = fs
        .resize(&vol, "10M".parse().unwrap(), QuotaPolicy::Enforced)
        .unwrap_err();
    assert!(matches!(err, Error::QuotaBelowUsage { .. }), "{err:?}");
    fs.resize(&vol, "128M".parse().unwrap(), QuotaPolicy::Enforced)
        .unwrap();
    assert_eq!(fs.exact_usage(&vol).unwrap().total, Some(128 << 20));
    assert_eq!(fs.usage(&vol).unwrap().total, Some(128 << 20));
    fs::write(vol.path.join("more"), vec![1u8; 4 << 20]).unwrap();

    c.sh(
        "ceph",
        &[
            "fs",
            "subvolume",
            "snapshot",
            "create",
            FS,
            "q1",
            "GMT-2024.01.02-03.04.05",
        ],
    );
    let snaps = fs.snapshots(&vol).unwrap();
    assert!(snaps.browsable);
    assert_eq!(snaps.snapshots.len(), 1, "{snaps:?}");
    assert_eq!(snaps.snapshots[0].name, "GMT-2024.01.02-03.04.05");
    assert!(snaps.snapshots[0].path.join("big").is_file(), "{snaps:?}");

    let adopted = fs.adopt(&name("q1")).unwrap();
    assert_eq!((&adopted.id, &adopted.path), (&vol.id, &vol.path));
    assert_eq!(adopted.quota, Some("128M".parse().unwrap()));
    fs.release(&adopted).unwrap();

    // In use while mounted; destroy after unmounting takes the snapshot too.
    let err = fs.destroy(&vol, &Purge::confirm("q1")).unwrap_err();
    assert!(matches!(err, Error::InUse { .. }), "{err:?}");
    c.sh("umount", &[vol.path.to_str().unwrap()]);
    fs.destroy(&vol, &Purge::confirm("q1")).unwrap();
    assert!(matches!(fs.adopt(&name("q1")), Err(Error::NotFound { .. })));

    let nofs = CephFsBackend::new(RealRunner::new(), client(c), "nofs", &mnt).unwrap();
    let err = nofs.create(&name("x"), &opts).unwrap_err();
    assert!(matches!(err, Error::ParentNotFound { .. }), "{err:?}");
    let nog = CephFsBackend::new(RealRunner::new(), client(c), FS, &mnt)
        .unwrap()
        .with_group("nog")
        .unwrap();
    let err = nog.create(&name("x"), &opts).unwrap_err();
    assert!(matches!(err, Error::ParentNotFound { .. }), "{err:?}");
}

fn rbd_scenario(c: &Cluster) {
    let rbd = RbdBackend::new(
        RealRunner::new(),
        client(c),
        POOL,
        c.dir().join("rbdmnt"),
        FuseLoopMap::new(c.dir().join("rbdfuse")),
    )
    .unwrap();
    let small = CreateOptions {
        quota: Some("100M".parse().unwrap()),
        ..Default::default()
    };
    let err = rbd.create(&name("img1"), &small).unwrap_err();
    assert!(matches!(err, Error::QuotaTooSmall { .. }), "{err:?}");
    let opts = CreateOptions {
        quota: Some("320M".parse().unwrap()),
        ..Default::default()
    };
    let vol = rbd.create(&name("img1"), &opts).unwrap();
    assert_eq!(vol.id, "rbd/img1");
    assert_eq!(rbd.host_path(&vol).unwrap(), c.dir().join("rbdmnt/img1"));
    let err = rbd.create(&name("img1"), &opts).unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");

    let err = write_until_full(&vol.path.join("big"), 400 << 20);
    assert_eq!(
        err.raw_os_error(),
        Some(Errno::NOSPC.raw_os_error()),
        "{err}"
    );
    let cheap = rbd.usage(&vol).unwrap();
    assert!(cheap.available < 4 << 20, "{cheap:?}");
    let exact = rbd.exact_usage(&vol).unwrap();
    assert_eq!(exact.total, Some(320 << 20));
    assert!(exact.used > 250 << 20, "{exact:?}");

    let err = rbd
        .resize(&vol, "200M".parse().unwrap(), QuotaPolicy::Enforced)
        .unwrap_err();
    assert!(matches!(err, Error::QuotaBelowUsage { .. }), "{err:?}");
    fs::remove_file(vol.path.join("big")).unwrap();
    let err = rbd
        .resize(&vol, "300M".parse().unwrap(), QuotaPolicy::Enforced)
        .unwrap_err();
    assert!(matches!(err, Error::ShrinkUnsupported { .. }), "{err:?}");
    let before = rbd.usage(&vol).unwrap().total.unwrap();
    rbd.resize(&vol, "400M".parse().unwrap(), QuotaPolicy::Enforced)
        .unwrap();
    let after = rbd.usage(&vol).unwrap().total.unwrap();
    assert!(after >= before + (70 << 20), "{before} -> {after}");
    fs::write(vol.path.join("keep"), "data").unwrap();

    // Release keeps the data; adopt mounts it again without formatting.
    rbd.release(&vol).unwrap();
    assert!(loops_under(c.dir()).is_empty());
    let vol = rbd.adopt(&name("img1")).unwrap();
    assert_eq!(fs::read_to_string(vol.path.join("keep")).unwrap(), "data");
    assert_eq!(vol.quota, Some("400M".parse().unwrap()));

    let mut child = Command::new("sleep")
        .arg("30")
        .current_dir(&vol.path)
        .spawn()
        .unwrap();
    let err = rbd.destroy(&vol, &Purge::confirm("img1")).unwrap_err();
    let _ = child.kill();
    let _ = child.wait();
    assert!(matches!(err, Error::InUse { .. }), "{err:?}");
    rbd.destroy(&vol, &Purge::confirm("img1")).unwrap();
    assert!(matches!(
        rbd.adopt(&name("img1")),
        Err(Error::NotFound { .. })
    ));
    assert!(loops_under(c.dir()).is_empty());
    assert!(
        mounts_under(c.dir()).is_empty(),
        "{:?}",
        mounts_under(c.dir())
    );
}

#[test]
fn ceph_cephfs_and_rbd_end_to_end() {
    let Some(cluster) = Cluster::new("ceph_cephfs_and_rbd_end_to_end") else {
        return;
    };
    let mut failures = Vec::new();
    for (label, scenario) in [
        ("cephfs", cephfs_scenario as fn(&Cluster)),
        ("rbd", rbd_scenario),
    ] {
        let start = Instant::now();
        let r = catch_unwind(AssertUnwindSafe(|| scenario(&cluster)));
        println!("{label} scenario: {:?}", start.elapsed());
        if r.is_err() {
            failures.push(label);
        }
    }
    let start = Instant::now();
    let d = cluster.dir().to_owned();
    drop(cluster);
    println!("ceph tear-down: {:?}", start.elapsed());
    assert!(mounts_under(&d).is_empty());
    assert!(pids_mentioning(&d).is_empty());
    assert!(!d.exists());
    assert!(failures.is_empty(), "failed scenarios: {failures:?}");
}
