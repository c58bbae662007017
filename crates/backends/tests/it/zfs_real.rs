//! End to end against zfs-fuse: a pool on a sparse file in a temp dir
//! (`testkit::ZfsPool`: serialized, destroyed on drop, also on panic).

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;
use std::process::Command;

use backends::{
    Backend, CaseSensitivity, CreateOptions, Error, Purge, QuotaPolicy, UsageScope, VolumeName,
    ZfsBackend,
};
use runner::{Cmd, RealRunner, Runner};
use testkit::ZfsPool;

fn zfs_cli(args: &[&str]) -> String {
    let out = RealRunner::new()
        .run(&Cmd::new("zfs").args(args.iter().copied()))
        .unwrap();
    out.stdout_str().into_owned()
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
            "wrote {written} bytes without hitting the quota"
        );
    }
}

#[test]
fn zfs_quota_is_enforced_resized_and_measured() {
    let Some(pool) = ZfsPool::new("zfs_quota_is_enforced_resized_and_measured") else {
        return;
    };
    let zfs = ZfsBackend::new(RealRunner::new(), &pool.pool).unwrap();
    let opts = CreateOptions {
        quota: Some("20M".parse().unwrap()),
        ..Default::default()
    };
    let vol = zfs.create(&name("q1"), &opts).unwrap();
    assert_eq!(vol.path, pool.mnt().join("q1"));
    assert_eq!(zfs.host_path(&vol).unwrap(), vol.path);
    assert_eq!(
        zfs_cli(&["get", "-H", "-o", "value", "refquota,quota,xattr", &vol.id]),
        "20M\nnone\non\n"
    );

    let err = write_until_full(&vol.path.join("big"), 64 << 20);
    assert_eq!(
        err.raw_os_error(),
        Some(rustix::io::Errno::DQUOT.raw_os_error()),
        "{err}"
    );

    let exact = zfs.exact_usage(&vol).unwrap();
    assert_eq!(exact.total, Some(20 << 20));
    assert!(exact.used >= 19 << 20, "{exact:?}");
    assert!(exact.available < 1 << 20, "{exact:?}");
    let cheap = zfs.usage(&vol).unwrap();
    assert_eq!(cheap.scope, UsageScope::Volume);
    assert!(
        cheap.used >= 19 << 20 && cheap.total.unwrap() <= 21 << 20,
        "{cheap:?}"
    );

    let err = zfs
        .resize(&vol, "10M".parse().unwrap(), QuotaPolicy::Enforced)
        .unwrap_err();
    assert!(matches!(err, Error::QuotaBelowUsage { .. }), "{err:?}");
    zfs.resize(&vol, "64M".parse().unwrap(), QuotaPolicy::Enforced)
        .unwrap();
    assert_eq!(zfs.exact_usage(&vol).unwrap().total, Some(64 << 20));
    let cheap = zfs.usage(&vol).unwrap();
    assert!(cheap.total.unwrap() > 60 << 20, "{cheap:?}");
    // Room again after growing.
    fs::write(vol.path.join("more"), vec![1u8; 4 << 20]).unwrap();

    // Collision, adopt keeps the data and quota.
    let err = zfs.create(&name("q1"), &opts).unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");
    let adopted = zfs.adopt(&name("q1")).unwrap();
    assert_eq!(adopted.quota, Some("64M".parse().unwrap()));
    assert!(adopted.path.join("more").exists());

    zfs.release(&adopted).unwrap();
    assert!(adopted.path.join("more").exists());
    if let Err(e) = zfs.destroy(&adopted, &Purge::confirm("q1")) {
        panic!("destroy failed: {e} ({e:?})");
    }
    let err = zfs.adopt(&name("q1")).unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
}

#[test]
fn zfs_bad_input_and_in_use() {
    let Some(pool) = ZfsPool::new("zfs_bad_input_and_in_use") else {
        return;
    };
    let opts = CreateOptions {
        quota: Some("8M".parse().unwrap()),
        ..Default::default()
    };

    let missing_parent =
        ZfsBackend::new(RealRunner::new(), &format!("{}/nope", pool.pool)).unwrap();
    let err = missing_parent.create(&name("x"), &opts).unwrap_err();
    assert!(matches!(err, Error::ParentNotFound { .. }), "{err:?}");
    let missing_pool = ZfsBackend::new(RealRunner::new(), "smbgwnosuchpool/smb").unwrap();
    let err = missing_pool.create(&name("x"), &opts).unwrap_err();
    assert_eq!(err.to_string(), "zfs pool `smbgwnosuchpool` does not exist; check `zpool list` and the storage configuration");

    let zfs = ZfsBackend::new(RealRunner::new(), &pool.pool).unwrap();
    let o = CreateOptions {
        case_sensitivity: Some(CaseSensitivity::Insensitive),
        ..opts.clone()
    };
    let vol = zfs.create(&name("busy"), &o).unwrap();
    assert_eq!(
        zfs_cli(&["get", "-H", "-o", "value", "casesensitivity", &vol.id]),
        "insensitive\n"
    );
    // A quota too small for ZFS is refused before anything is created.
    let tiny = CreateOptions {
        quota: Some("4K".parse().unwrap()),
        ..Default::default()
    };
    assert!(matches!(
        zfs.create(&name("tiny"), &tiny),
        Err(Error::QuotaTooSmall { .. })
    ));
    assert_eq!(
        zfs_cli(&["list", "-H", "-o", "name", "-r", &pool.pool]),
        format!("{0}\n{0}/busy\n", pool.pool)
    );

    // Snapshots.
    fs::write(vol.path.join("v1.txt"), "one").unwrap();
    zfs_cli(&["snapshot", &format!("{}@GMT-2024.01.02-03.04.05", vol.id)]);
    let snaps = zfs.snapshots(&vol).unwrap();
    assert_eq!(snaps.snapshots.len(), 1);
    assert_eq!(snaps.snapshots[0].name, "GMT-2024.01.02-03.04.05");
    assert_eq!(
        snaps.snapshots[0].path,
        vol.path.join(".zfs/snapshot/GMT-2024.01.02-03.04.05")
    );
    println!("zfs-fuse .zfs/snapshot browsable: {}", snaps.browsable);

    // In use: a process with its working directory inside.
    let mut child = Command::new("sleep")
        .arg("30")
        .current_dir(&vol.path)
        .spawn()
        .unwrap();
    let err = zfs.destroy(&vol, &Purge::confirm("busy")).unwrap_err();
    let _ = child.kill();
    let _ = child.wait();
    match &err {
        Error::InUse { users, .. } => assert_eq!(users, &[format!("pid {} (sleep)", child.id())]),
        other => panic!("{other:?}"),
    }
    assert!(vol.path.join("v1.txt").exists());

    // Destroy takes the snapshot with it.
    zfs.destroy(&vol, &Purge::confirm("busy")).unwrap();
    assert_eq!(
        zfs_cli(&["list", "-H", "-o", "name", "-r", &pool.pool]),
        format!("{}\n", pool.pool)
    );
}
