//! Benchmarks of issue 3, run by `cargo xtask bench` (ignored in normal
//! test runs): cheap (statvfs) vs exact (tool) usage, and the create +
//! destroy cycle, per backend, against the same real components as the
//! end-to-end tests. Prints `key=value` lines.

use std::time::{Duration, Instant};

use backends::{
    Backend, CephFsBackend, CreateOptions, DirBackend, Purge, QuotaPolicy, RbdBackend, Volume,
    VolumeName, ZfsBackend,
};
use runner::RealRunner;

use crate::ceph_real::client;
use testkit::ceph::{Cluster, FS};
use testkit::ZfsPool;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time_n(n: usize, mut f: impl FnMut()) -> Duration {
    median(
        (0..n)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

fn name(s: &str) -> VolumeName {
    VolumeName::new(s).unwrap()
}

/// Cheap vs exact usage of `vol`, and the median create + destroy cycle.
fn measure(label: &str, b: &dyn Backend, vol: &Volume, cycle: &mut dyn FnMut(usize)) {
    let cheap = time_n(1000, || {
        b.usage(vol).unwrap();
    });
    let exact = time_n(10, || {
        b.exact_usage(vol).unwrap();
    });
    let mut i = 0;
    let cycle_t = time_n(10, || {
        cycle(i);
        i += 1;
    });
    println!(
        "backend={label} cheap_us={:.1} exact_us={:.1} ratio={:.0} cycle_ms={:.1}",
        cheap.as_secs_f64() * 1e6,
        exact.as_secs_f64() * 1e6,
        exact.as_secs_f64() / cheap.as_secs_f64(),
        cycle_t.as_secs_f64() * 1e3
    );
}

fn quota(q: &str) -> CreateOptions {
    CreateOptions {
        quota: Some(q.parse().unwrap()),
        ..Default::default()
    }
}

#[test]
#[ignore = "benchmark: run by `cargo xtask bench`"]
fn bench_backends() {
    // Dir: a directory with 2,000 small files (exact usage walks them).
    let root = tempfile::tempdir().unwrap();
    let dir = DirBackend::new(root.path());
    let opts = CreateOptions {
        quota_policy: QuotaPolicy::AcceptUnenforced,
        ..quota("1G")
    };
    let vol = dir.create(&name("bench"), &opts).unwrap();
    for i in 0..2000 {
        std::fs::write(vol.path.join(format!("f{i}")), [0u8; 512]).unwrap();
    }
    measure("dir", &dir, &vol, &mut |i| {
        let n = name(&format!("c{i}"));
        let v = dir.create(&n, &opts).unwrap();
        dir.destroy(&v, &Purge::confirm(&v.id)).unwrap();
    });

    let pool = ZfsPool::new("bench_backends").expect("zfs-fuse is needed for the benchmark");
    let zfs = ZfsBackend::new(RealRunner::new(), &pool.pool).unwrap();
    let vol = zfs.create(&name("bench"), &quota("64M")).unwrap();
    measure("zfs", &zfs, &vol, &mut |i| {
        let v = zfs.create(&name(&format!("c{i}")), &quota("64M")).unwrap();
        zfs.destroy(&v, &Purge::confirm(&v.id)).unwrap();
    });
    drop(pool);

    let c = Cluster::new("bench_backends").expect("Ceph is needed for the benchmark");
    let mnt = c.dir().join("mnt");
    let fs = CephFsBackend::new(RealRunner::new(), client(&c), FS, &mnt).unwrap();
    let vol = fs.create(&name("bench"), &quota("64M")).unwrap();
    let sub = c.sh("ceph", &["fs", "subvolume", "getpath", FS, "bench"]);
    c.mount_subvolume("bench", sub.trim(), &vol.path);
    measure("cephfs", &fs, &vol, &mut |i| {
        let v = fs.create(&name(&format!("c{i}")), &quota("64M")).unwrap();
        fs.destroy(&v, &Purge::confirm(&v.id)).unwrap();
    });
    // Unmount before the cluster goes away (the cluster's drop would too).
    let _ = std::process::Command::new("umount").arg(&vol.path).status();

    let rbd = RbdBackend::new(
        RealRunner::new(),
        client(&c),
        "rbd",
        c.dir().join("rbdmnt"),
        backends::rbd::FuseLoopMap::new(c.dir().join("rbdfuse")),
    )
    .unwrap();
    let vol = rbd.create(&name("bench"), &quota("320M")).unwrap();
    measure("rbd", &rbd, &vol, &mut |i| {
        let v = rbd.create(&name(&format!("c{i}")), &quota("320M")).unwrap();
        rbd.destroy(&v, &Purge::confirm(&v.id)).unwrap();
    });
    rbd.destroy(&vol, &Purge::confirm(&vol.id)).unwrap();
    drop(c);
}
