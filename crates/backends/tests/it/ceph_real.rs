//! End to end against a private single-node Ceph Pacific cluster.
//!
//! [`Cluster`] brings up mon, mgr, a memstore OSD and an MDS entirely under
//! a temp dir, bound to 127.0.0.1 on ports picked free for this run; no
//! global pid file or admin socket (so nothing collides with another
//! cluster or ceph-fuse). One cluster serves both scenarios, run in
//! sequence by one test function that owns it, so it is torn down at the
//! end whatever happens: on drop (also after a panic) everything mounted
//! under the dir is unmounted while the cluster is still up (deepest first,
//! loop devices detached between the XFS and the rbd-fuse mounts), leftover
//! fuse helpers and then the daemons are killed by pid, and the dir is
//! removed.

use std::fs::{self, File};
use std::io::Write;
use std::net::TcpListener;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use backends::{
    Backend, CephClient, CephFsBackend, CreateOptions, Error, FuseLoopMap, Purge, QuotaPolicy,
    RbdBackend, UsageScope, VolumeName,
};
use runner::RealRunner;
use rustix::io::Errno;
use rustix::process::{kill_process, Pid, Signal};

pub(crate) const FS: &str = "testfs";

fn on_path(program: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .any(|d| d.join(program).is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) struct Cluster {
    dir: Option<tempfile::TempDir>,
    pub(crate) d: PathBuf,
    mgr: Option<Child>,
}

impl Cluster {
    /// A running cluster with CephFS `testfs` and pool `rbd`, or `None`
    /// (after printing why) when Ceph is not installed and
    /// `SMBGW_REQUIRE_REAL` is not `1`.
    pub(crate) fn new(test: &str) -> Option<Cluster> {
        let missing: Vec<_> = [
            "ceph-mon",
            "ceph-mgr",
            "ceph-osd",
            "ceph-mds",
            "ceph",
            "ceph-authtool",
            "monmaptool",
            "ceph-fuse",
            "rbd",
            "rbd-fuse",
            "mkfs.xfs",
            "xfs_growfs",
            "losetup",
        ]
        .into_iter()
        .filter(|p| !on_path(p))
        .collect();
        if !missing.is_empty() || !Path::new("/dev/fuse").exists() {
            let why = format!(
                "{} not installed or no /dev/fuse (apt-get install -y ceph-mon ceph-mgr ceph-osd ceph-mds ceph-fuse rbd-fuse ceph-common xfsprogs)",
                missing.join(", ")
            );
            if std::env::var("SMBGW_REQUIRE_REAL").as_deref() == Ok("1") {
                panic!("{test}: {why}, and SMBGW_REQUIRE_REAL=1 requires the real ceph");
            }
            println!("SKIP: {test}: {why}");
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("smbgw-ceph-")
            .tempdir()
            .unwrap();
        let d = dir.path().to_owned();
        let mut c = Cluster {
            dir: Some(dir),
            d,
            mgr: None,
        };
        let start = Instant::now();
        c.bring_up();
        println!("ceph cluster up in {:?}", start.elapsed());
        Some(c)
    }

    fn conf(&self) -> PathBuf {
        self.d.join("ceph.conf")
    }

    pub(crate) fn client(&self) -> CephClient {
        CephClient::with_conf(self.conf())
    }

    /// Runs a command with `CEPH_CONF` set; panics with its stderr on failure.
    pub(crate) fn sh(&self, program: &str, args: &[&str]) -> String {
        let out = Command::new(program)
            .args(args)
            .env("CEPH_CONF", self.conf())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn poll(&self, what: &str, secs: u64, mut ok: impl FnMut() -> bool) {
        let start = Instant::now();
        while !ok() {
            assert!(
                start.elapsed() < Duration::from_secs(secs),
                "ceph: {what} not reached in {secs} s"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn bring_up(&mut self) {
        let d = self.d.clone();
        let ds = d.display().to_string();
        for sub in ["log", "run", "crash", "mon.a", "mgr.x", "osd.0", "mds.a"] {
            fs::create_dir_all(d.join(sub)).unwrap();
        }
        let fsid = fs::read_to_string("/proc/sys/kernel/random/uuid").unwrap();
        let fsid = fsid.trim();
        let (p2, p1) = (free_port(), free_port());
        let addr = format!("[v2:127.0.0.1:{p2},v1:127.0.0.1:{p1}]");
        let daemon = |t: &str| {
            format!(
                "[{t}]\nadmin socket = {ds}/run/$name.asok\npid file = {ds}/run/$name.pid\n{t} data = {ds}/{t}.$id\n"
            )
        };
        let conf = format!(
            "[global]\nfsid = {fsid}\nmon host = {addr}\npublic addr = 127.0.0.1\n\
             public network = 127.0.0.1/32\ncluster network = 127.0.0.1/32\nms bind ipv6 = false\n\
             keyring = {ds}/keyring\nrun dir = {ds}/run\ncrash dir = {ds}/crash\n\
             log file = {ds}/log/$name.log\nlog to stderr = false\nerr to stderr = true\n\
             auth cluster required = cephx\nauth service required = cephx\nauth client required = cephx\n\
             auth allow insecure global id reclaim = false\n\
             osd pool default size = 1\nosd pool default min size = 1\nosd pool default pg num = 8\n\
             osd pool default pgp num = 8\nosd pool default pg autoscale mode = off\n\
             osd crush chooseleaf type = 0\nmon allow pool size one = true\nmon allow pool delete = true\n\
             mon warn on pool no redundancy = false\nmon data avail warn = 2\nmon data avail crit = 1\n\
             mon max pg per osd = 1000\nmon pg warn min per osd = 0\nmgr initial modules = volumes\n\
             {}{}{}osd objectstore = memstore\nmemstore device bytes = 2147483648\n\
             osd memory target = 939524096\n{}",
            daemon("mon"),
            daemon("mgr"),
            daemon("osd"),
            daemon("mds"),
        );
        fs::write(self.conf(), conf).unwrap();
        let k = format!("{ds}/keyring");
        self.sh(
            "ceph-authtool",
            &[
                "--create-keyring",
                &k,
                "--gen-key",
                "-n",
                "mon.",
                "--cap",
                "mon",
                "allow *",
            ],
        );
        self.sh(
            "ceph-authtool",
            &[
                &k,
                "--gen-key",
                "-n",
                "client.admin",
                "--cap",
                "mon",
                "allow *",
                "--cap",
                "osd",
                "allow *",
                "--cap",
                "mds",
                "allow *",
                "--cap",
                "mgr",
                "allow *",
            ],
        );
        self.sh(
            "ceph-authtool",
            &[
                &k,
                "--gen-key",
                "-n",
                "mgr.x",
                "--cap",
                "mon",
                "allow profile mgr",
                "--cap",
                "osd",
                "allow *",
                "--cap",
                "mds",
                "allow *",
            ],
        );
        self.sh(
            "ceph-authtool",
            &[
                &k,
                "--gen-key",
                "-n",
                "osd.0",
                "--cap",
                "mon",
                "allow profile osd",
                "--cap",
                "osd",
                "allow *",
                "--cap",
                "mgr",
                "allow profile osd",
            ],
        );
        self.sh(
            "ceph-authtool",
            &[
                &k,
                "--gen-key",
                "-n",
                "mds.a",
                "--cap",
                "mon",
                "allow profile mds",
                "--cap",
                "osd",
                "allow *",
                "--cap",
                "mds",
                "allow",
                "--cap",
                "mgr",
                "allow profile mds",
            ],
        );
        let monmap = format!("{ds}/monmap");
        self.sh(
            "monmaptool",
            &["--create", "--fsid", fsid, "--addv", "a", &addr, &monmap],
        );
        self.sh(
            "ceph-mon",
            &["--mkfs", "-i", "a", "--monmap", &monmap, "--keyring", &k],
        );
        self.sh("ceph-mon", &["-i", "a"]);
        self.sh("timeout", &["60", "ceph", "-s"]);
        self.sh(
            "ceph",
            &["config", "set", "mon", "mon_allow_pool_delete", "true"],
        );
        // Pitfall 1: a daemonized mgr has no stderr and `fs subvolume
        // authorize` fails with EBADF. Foreground, stderr to a file.
        let log = File::create(d.join("log/mgr.out")).unwrap();
        use std::os::unix::process::CommandExt;
        self.mgr = Some(
            Command::new("ceph-mgr")
                .args(["-i", "x", "-f"])
                .env("CEPH_CONF", self.conf())
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .process_group(0)
                .spawn()
                .unwrap(),
        );
        let uuid = fs::read_to_string("/proc/sys/kernel/random/uuid").unwrap();
        self.sh("ceph", &["osd", "new", uuid.trim(), "0"]);
        self.sh(
            "ceph-osd",
            &["-i", "0", "--mkfs", "--osd-uuid", uuid.trim()],
        );
        self.sh("ceph-osd", &["-i", "0"]);
        self.sh("ceph-mds", &["-i", "a"]);
        self.poll("osd up and mgr available", 60, || {
            self.sh("ceph", &["osd", "stat", "-f", "json"])
                .contains("\"num_up_osds\":1")
                && self
                    .sh("ceph", &["mgr", "stat", "-f", "json"])
                    .contains("\"available\":true")
        });
        self.sh("ceph", &["fs", "volume", "create", FS]);
        self.sh("ceph", &["osd", "pool", "create", "rbd", "8"]);
        self.sh("rbd", &["pool", "init", "rbd"]);
        self.poll("mds active", 60, || {
            self.sh("ceph", &["fs", "status", FS, "-f", "json"])
                .contains("\"state\": \"active\"")
        });
    }

    /// Mounts a subvolume with ceph-fuse at `mnt`, with a key from
    /// `fs subvolume authorize` (which cannot mount `/`).
    pub(crate) fn mount_subvolume(&self, name: &str, sub_path: &str, mnt: &Path) {
        let ds = self.d.display().to_string();
        let user = format!("smb{name}");
        self.sh(
            "ceph",
            &[
                "fs",
                "subvolume",
                "authorize",
                FS,
                name,
                &user,
                "--access_level=rw",
            ],
        );
        let keyring = format!("{ds}/{user}.keyring");
        self.sh(
            "ceph",
            &["auth", "get", &format!("client.{user}"), "-o", &keyring],
        );
        fs::create_dir_all(mnt).unwrap();
        // Pitfall 2: explicit pid file and admin socket per mount.
        self.sh(
            "ceph-fuse",
            &[
                "--id",
                &user,
                "--keyring",
                &keyring,
                "--client_fs",
                FS,
                "-r",
                sub_path,
                &format!("--pid-file={ds}/run/fuse-{name}.pid"),
                &format!("--admin-socket={ds}/run/fuse-{name}.asok"),
                mnt.to_str().unwrap(),
            ],
        );
        // Pitfall 3: a failed mount leaves a plain directory.
        assert!(
            mounts_under(mnt).iter().any(|m| m == mnt),
            "ceph-fuse did not mount {}",
            mnt.display()
        );
    }
}

/// Mount points at or under `dir`, from /proc/mounts.
fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    fs::read_to_string("/proc/mounts")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(1))
        .map(|p| PathBuf::from(p.replace("\\040", " ")))
        .filter(|p| p.starts_with(dir))
        .collect()
}

fn loops_under(dir: &Path) -> Vec<String> {
    let out = Command::new("losetup")
        .args(["-n", "-O", "NAME,BACK-FILE", "-l"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    out.lines()
        .filter(|l| l.contains(&*dir.to_string_lossy()))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

fn pids_mentioning(dir: &Path) -> Vec<i32> {
    let needle = dir.to_string_lossy().into_owned();
    let me = std::process::id() as i32;
    fs::read_dir("/proc")
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
                .filter(|&pid| pid != me)
                .filter(|pid| {
                    fs::read(format!("/proc/{pid}/cmdline"))
                        .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&needle))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn kill_and_wait(pids: &[i32]) {
    for &p in pids {
        if let Some(pid) = Pid::from_raw(p) {
            let _ = kill_process(pid, Signal::KILL);
        }
    }
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10)
        && pids.iter().any(|p| {
            fs::read_to_string(format!("/proc/{p}/stat"))
                .is_ok_and(|s| !s.split(") ").nth(1).unwrap_or("").starts_with('Z'))
        })
    {
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let d = self.d.clone();
        let quiet = |p: &str, a: &[&str]| {
            Command::new(p)
                .args(a)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        // 1. Unmount while the cluster is still up, deepest first; detach
        //    loop devices between passes (their files live on rbd-fuse).
        for _pass in 0..3 {
            let mut ms = mounts_under(&d);
            ms.sort_by_key(|m| std::cmp::Reverse(m.as_os_str().len()));
            for m in &ms {
                let m = m.to_string_lossy();
                if !quiet("umount", &[&m]) {
                    eprintln!("umount {m} failed; will retry");
                }
            }
            for l in loops_under(&d) {
                quiet("losetup", &["-d", &l]);
            }
        }
        for m in mounts_under(&d) {
            quiet("umount", &["-l", &m.to_string_lossy()]);
        }
        // 2. Fuse helpers still around (they name the dir in argv), then the
        //    daemons by pid file.
        let mut pids = pids_mentioning(&d);
        for f in fs::read_dir(d.join("run")).into_iter().flatten().flatten() {
            if f.path().extension().is_some_and(|e| e == "pid") {
                if let Ok(p) = fs::read_to_string(f.path())
                    .unwrap_or_default()
                    .trim()
                    .parse()
                {
                    pids.push(p);
                }
            }
        }
        if let Some(mgr) = &self.mgr {
            pids.push(mgr.id() as i32);
        }
        pids.sort_unstable();
        pids.dedup();
        kill_and_wait(&pids);
        if let Some(mut mgr) = self.mgr.take() {
            let _ = mgr.wait();
        }
        self.dir.take();
    }
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
    let mnt = c.d.join("mnt");
    let fs = CephFsBackend::new(RealRunner::new(), c.client(), FS, &mnt).unwrap();
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

    let nofs = CephFsBackend::new(RealRunner::new(), c.client(), "nofs", &mnt).unwrap();
    let err = nofs.create(&name("x"), &opts).unwrap_err();
    assert!(matches!(err, Error::ParentNotFound { .. }), "{err:?}");
    let nog = CephFsBackend::new(RealRunner::new(), c.client(), FS, &mnt)
        .unwrap()
        .with_group("nog")
        .unwrap();
    let err = nog.create(&name("x"), &opts).unwrap_err();
    assert!(matches!(err, Error::ParentNotFound { .. }), "{err:?}");
}

fn rbd_scenario(c: &Cluster) {
    let rbd = RbdBackend::new(
        RealRunner::new(),
        c.client(),
        "rbd",
        c.d.join("rbdmnt"),
        FuseLoopMap::new(c.d.join("rbdfuse")),
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
    assert_eq!(rbd.host_path(&vol).unwrap(), c.d.join("rbdmnt/img1"));
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
    assert!(loops_under(&c.d).is_empty());
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
    assert!(loops_under(&c.d).is_empty());
    assert!(mounts_under(&c.d).is_empty(), "{:?}", mounts_under(&c.d));
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
    let d = cluster.d.clone();
    drop(cluster);
    println!("ceph tear-down: {:?}", start.elapsed());
    assert!(mounts_under(&d).is_empty());
    assert!(pids_mentioning(&d).is_empty());
    assert!(!d.exists());
    assert!(failures.is_empty(), "failed scenarios: {failures:?}");
}
