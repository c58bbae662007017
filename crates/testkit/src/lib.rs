//! Harnesses for the real-component tests of pve-smbgateway.
//!
//! * [`ZfsPool`]: a zfs-fuse pool on a sparse file, serialized across the
//!   tests of one binary (zfs-fuse is one daemon per machine).
//! * [`ceph::Cluster`]: a private single-node Ceph cluster (CephFS and an
//!   RBD pool) under a temp dir, torn down on drop.
//! * [`ctdb::CtdbCluster`]: CTDB + clustered smbd nodes in network
//!   namespaces, with a client namespace, for failover tests.
//! * [`ad::AdDc`]: a Samba AD domain controller in a network namespace.
//! * [`require`]: the skip-or-fail rule: a missing component fails the test
//!   under the project's test command (`SMBGW_REQUIRE_REAL=1`) and skips it
//!   with a printed reason in a plain `cargo test`.
//!
//! Limitations: needs root for everything real (pools, mounts).

// Test harness code: a failed setup step is a failed test.
#![allow(clippy::unwrap_used)]

use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use runner::{Cmd, RealRunner, Runner};
use rustix::process::{kill_process, Pid, Signal};

pub mod ad;
pub mod ceph;
pub mod ctdb;
pub mod sandbox;

/// Whether `program` is installed (PATH plus the sbin directories).
pub fn on_path(program: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .any(|d| d.join(program).is_file())
}

/// Runs a command quietly; true when it succeeded.
pub fn quiet(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `true` when every program is installed. Otherwise panics under
/// `SMBGW_REQUIRE_REAL=1`, or prints why the test is skipped and returns
/// `false`.
pub fn require(test: &str, programs: &[&str], package_hint: &str) -> bool {
    let missing: Vec<_> = programs.iter().filter(|p| !on_path(p)).collect();
    if missing.is_empty() {
        return true;
    }
    let why = format!(
        "{} not installed ({package_hint})",
        missing
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    if std::env::var("SMBGW_REQUIRE_REAL").as_deref() == Ok("1") {
        panic!("{test}: {why}, and SMBGW_REQUIRE_REAL=1 requires the real components");
    }
    println!("SKIP: {test}: {why}");
    false
}

static ZFS_LOCK: Mutex<()> = Mutex::new(());
static POOL_COUNTER: AtomicU32 = AtomicU32::new(0);

/// The size of a pool file unless a test asks for another.
const DEFAULT_POOL_BYTES: u64 = 512 << 20;

/// A zfs-fuse pool on a sparse file in a temp dir, destroyed on drop.
pub struct ZfsPool {
    /// The pool name.
    pub pool: String,
    dir: Option<tempfile::TempDir>,
    daemon: Option<Child>,
    shared: Option<PathBuf>,
    _guard: MutexGuard<'static, ()>,
    // Declared last: released after the pool and daemon are gone.
    _machine_lock: File,
}

impl ZfsPool {
    /// A fresh pool, or `None` (after printing why) when zfs-fuse is not
    /// installed and `SMBGW_REQUIRE_REAL` is not `1`.
    pub fn new(test: &str) -> Option<ZfsPool> {
        Self::create(test, false, DEFAULT_POOL_BYTES)
    }

    /// Like [`ZfsPool::new`], but the pool's mount directory is first made
    /// a shared bind mount, so that datasets mounted later also appear in
    /// mount namespaces created before, and back (`unshare --propagation
    /// unchanged`).
    pub fn new_shared(test: &str) -> Option<ZfsPool> {
        Self::create(test, true, DEFAULT_POOL_BYTES)
    }

    /// Like [`ZfsPool::new_shared`] (the mount directory is shared), with a
    /// pool file of `bytes` (sparse) instead of 512 MiB, for tests that
    /// write large files (benchmarks).
    pub fn with_size(test: &str, bytes: u64) -> Option<ZfsPool> {
        Self::create(test, true, bytes)
    }

    fn create(test: &str, shared: bool, bytes: u64) -> Option<ZfsPool> {
        let guard = ZFS_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
        // zfs-fuse is one daemon per machine: serialize with other test
        // processes too (a harness stops the daemon it started).
        let machine_lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open("/tmp/smbgw-zfs-fuse-tests.lock")
            .unwrap();
        rustix::fs::flock(&machine_lock, rustix::fs::FlockOperation::LockExclusive).unwrap();
        if !require(
            test,
            &["zfs-fuse", "zfs", "zpool"],
            "apt-get install -y zfs-fuse",
        ) {
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("smbgw-zfs-")
            .tempdir()
            .unwrap();
        let mut pool = ZfsPool {
            pool: String::new(),
            dir: None,
            daemon: None,
            shared: None,
            _guard: guard,
            _machine_lock: machine_lock,
        };
        if !quiet("zpool", &["list", "-H", "-o", "name"]) {
            let log = File::create(dir.path().join("zfs-fuse.log")).unwrap();
            use std::os::unix::process::CommandExt;
            // Under eatmydata when it is installed: zfs-fuse flushes the
            // pool file at every transaction group, and on a virtual disk
            // those fsyncs made single 1 GiB writes take 330 to 730 MB/s
            // in the same benchmark run. The pools are throw-away, and a
            // test never depends on what reached the disk.
            let mut cmd = if quiet("eatmydata", &["true"]) {
                let mut c = Command::new("eatmydata");
                c.arg("zfs-fuse");
                c
            } else {
                Command::new("zfs-fuse")
            };
            let child = cmd
                .args(["-n", "--no-kstat-mount"])
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .process_group(0)
                .spawn()
                .unwrap();
            pool.daemon = Some(child);
            let start = Instant::now();
            while !quiet("zpool", &["list", "-H", "-o", "name"]) {
                assert!(
                    start.elapsed() < Duration::from_secs(10),
                    "zfs-fuse did not become ready in 10 s"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let name = format!(
            "smbgwt{}x{}",
            std::process::id(),
            POOL_COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let img = dir.path().join("pool.img");
        File::create(&img).unwrap().set_len(bytes).unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let mnt = dir.path().join("mnt");
        if shared {
            std::fs::create_dir_all(&mnt).unwrap();
            let m = mnt.to_str().unwrap();
            assert!(quiet("mount", &["--bind", m, m]), "mount --bind {m} failed");
            pool.shared = Some(mnt.clone());
            assert!(
                quiet("mount", &["--make-shared", m]),
                "mount --make-shared {m} failed"
            );
        }
        let (mnt_s, img_s) = (mnt.to_str().unwrap(), img.to_str().unwrap());
        RealRunner::new()
            .run(&Cmd::new("zpool").args(["create", "-m", mnt_s, &name, img_s]))
            .unwrap();
        pool.pool = name;
        pool.dir = Some(dir);
        Some(pool)
    }

    /// Where the pool is mounted.
    pub fn mnt(&self) -> PathBuf {
        self.dir
            .as_ref()
            .map(|d| d.path().join("mnt"))
            .unwrap_or_default()
    }
}

impl Drop for ZfsPool {
    fn drop(&mut self) {
        if !self.pool.is_empty() {
            for attempt in 0..5 {
                if quiet("zpool", &["destroy", "-f", &self.pool]) {
                    break;
                }
                eprintln!(
                    "zpool destroy {} failed (attempt {attempt}); retrying",
                    self.pool
                );
                std::thread::sleep(Duration::from_millis(500));
            }
        }
        if let Some(m) = self.shared.take() {
            let m = m.to_str().unwrap_or_default().to_owned();
            if !quiet("umount", &[&m]) {
                let _ = quiet("umount", &["-l", &m]);
            }
        }
        if let Some(mut child) = self.daemon.take() {
            let pid = Pid::from_child(&child);
            let _ = kill_process(pid, Signal::TERM);
            let start = Instant::now();
            while child.try_wait().ok().flatten().is_none() {
                if start.elapsed() > Duration::from_secs(7) {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        // TempDir removes itself after the pool and its mounts are gone.
        self.dir.take();
    }
}
