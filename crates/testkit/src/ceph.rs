//! A private single-node Ceph Pacific cluster for real-component tests.
//!
//! [`Cluster`] brings up mon, mgr, a memstore OSD and an MDS entirely under
//! a temp dir, bound to 127.0.0.1 on ports picked free for this run, with
//! CephFS [`FS`] and the RBD pool [`POOL`]; no global pid file or admin
//! socket (so nothing collides with another cluster or ceph-fuse). It takes
//! about 10 s.
//!
//! Everything a test mounts should live under [`Cluster::dir`]: on drop
//! (also after a panic) everything mounted there is unmounted while the
//! cluster is still up (deepest first, loop devices detached between the
//! XFS and the rbd-fuse mounts), leftover fuse helpers and then the daemons
//! are killed by pid, and the dir is removed.
//!
//! For tests of the gateway binary, which runs in its own mount namespaces
//! ([`crate::sandbox`]): [`Cluster::shared_dir`] gives a directory whose
//! mounts propagate between the host and every namespace created later,
//! both ways, and [`Cluster::mount_root`] mounts the whole CephFS there with
//! ceph-fuse, as Proxmox mounts a CephFS storage at `/mnt/pve/<storage>`.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use rustix::process::{kill_process, Pid, Signal};

use crate::{on_path, quiet};

/// The CephFS filesystem every cluster has.
pub const FS: &str = "testfs";

/// The RBD pool every cluster has.
pub const POOL: &str = "rbd";

/// The programs a cluster needs (and the RBD tests' XFS and loop tools).
pub const CEPH_TOOLS: &[&str] = &[
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
];

static MOUNT_COUNTER: AtomicU32 = AtomicU32::new(0);

/// A running single-node cluster, torn down on drop.
pub struct Cluster {
    dir: Option<tempfile::TempDir>,
    d: PathBuf,
    mgr: Option<Child>,
}

impl Cluster {
    /// A running cluster with CephFS [`FS`] and pool [`POOL`], or `None`
    /// (after printing why) when Ceph is not installed and
    /// `SMBGW_REQUIRE_REAL` is not `1`.
    pub fn new(test: &str) -> Option<Cluster> {
        let missing: Vec<_> = CEPH_TOOLS.iter().copied().filter(|p| !on_path(p)).collect();
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
        // smbd serves as the connected user, who must reach the mounts.
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        }
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

    /// The directory holding the cluster's state (and the tests' mounts).
    pub fn dir(&self) -> &Path {
        &self.d
    }

    /// The cluster's `ceph.conf` (its `client.admin` keyring is beside it).
    pub fn conf(&self) -> PathBuf {
        self.d.join("ceph.conf")
    }

    /// Runs a command with `CEPH_CONF` set; panics with its stderr on
    /// failure. Returns stdout.
    pub fn sh(&self, program: &str, args: &[&str]) -> String {
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
        let (p2, p1) = (crate::sandbox::free_port(), crate::sandbox::free_port());
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
        let key = |name: &str, caps: &[(&str, &str)], create: bool| {
            let mut args: Vec<&str> = Vec::new();
            if create {
                args.push("--create-keyring");
            }
            args.extend([k.as_str(), "--gen-key", "-n", name]);
            for (what, cap) in caps {
                args.extend(["--cap", what, cap]);
            }
            self.sh("ceph-authtool", &args);
        };
        key("mon.", &[("mon", "allow *")], true);
        key(
            "client.admin",
            &[
                ("mon", "allow *"),
                ("osd", "allow *"),
                ("mds", "allow *"),
                ("mgr", "allow *"),
            ],
            false,
        );
        key(
            "mgr.x",
            &[
                ("mon", "allow profile mgr"),
                ("osd", "allow *"),
                ("mds", "allow *"),
            ],
            false,
        );
        key(
            "osd.0",
            &[
                ("mon", "allow profile osd"),
                ("osd", "allow *"),
                ("mgr", "allow profile osd"),
            ],
            false,
        );
        key(
            "mds.a",
            &[
                ("mon", "allow profile mds"),
                ("osd", "allow *"),
                ("mds", "allow"),
                ("mgr", "allow profile mds"),
            ],
            false,
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
        self.sh("ceph", &["osd", "pool", "create", POOL, "8"]);
        self.sh("rbd", &["pool", "init", POOL]);
        self.poll("mds active", 60, || {
            self.sh("ceph", &["fs", "status", FS, "-f", "json"])
                .contains("\"state\": \"active\"")
        });
    }

    /// Mounts a subvolume with ceph-fuse at `mnt`, with a key from
    /// `fs subvolume authorize` (which cannot mount `/`).
    pub fn mount_subvolume(&self, name: &str, sub_path: &str, mnt: &Path) {
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
        self.fuse_mount(&["--id", &user, "--keyring", &keyring, "-r", sub_path], mnt);
    }

    /// `ceph-fuse` of [`FS`] at `mnt` with extra arguments.
    fn fuse_mount(&self, args: &[&str], mnt: &Path) {
        let ds = self.d.display().to_string();
        let n = MOUNT_COUNTER.fetch_add(1, Ordering::Relaxed);
        // Pitfall 2: explicit pid file and admin socket per mount.
        let pid = format!("--pid-file={ds}/run/fuse-{n}.pid");
        let asok = format!("--admin-socket={ds}/run/fuse-{n}.asok");
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--client_fs", FS, &pid, &asok, mnt.to_str().unwrap()]);
        self.sh("ceph-fuse", &all);
        // Pitfall 3: a failed mount leaves a plain directory.
        assert!(
            mounts_under(mnt).iter().any(|m| m == mnt),
            "ceph-fuse did not mount {}",
            mnt.display()
        );
    }

    /// `<dir>/<name>`, created and made a shared bind mount: whatever is
    /// mounted below it later, on the host or in a mount namespace created
    /// after this call (`unshare --propagation unchanged`), appears on the
    /// other side too. Unmounted on drop like everything under the dir.
    pub fn shared_dir(&self, name: &str) -> PathBuf {
        let p = self.d.join(name);
        fs::create_dir_all(&p).unwrap();
        let s = p.to_str().unwrap();
        assert!(quiet("mount", &["--bind", s, s]), "mount --bind {s} failed");
        assert!(
            quiet("mount", &["--make-shared", s]),
            "mount --make-shared {s} failed"
        );
        p
    }

    /// Mounts the root of [`FS`] with ceph-fuse as `client.admin` at a
    /// [shared](Self::shared_dir) `<dir>/<name>`, like Proxmox mounts a
    /// CephFS storage at `/mnt/pve/<storage>`; returns the mount point.
    /// Files there are accessible to every user (ceph-fuse's `allow_other`).
    pub fn mount_root(&self, name: &str) -> PathBuf {
        let mnt = self.shared_dir(name);
        self.fuse_mount(&[], &mnt);
        mnt
    }
}

/// Mount points at or under `dir`, from /proc/mounts (one entry per mount,
/// so a directory mounted over twice appears twice).
pub fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    fs::read_to_string("/proc/mounts")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(1))
        .map(|p| PathBuf::from(p.replace("\\040", " ")))
        .filter(|p| p.starts_with(dir))
        .collect()
}

/// Loop devices whose backing file is under `dir`.
pub fn loops_under(dir: &Path) -> Vec<String> {
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

/// Processes (other than this one) whose command line mentions `dir`.
pub fn pids_mentioning(dir: &Path) -> Vec<i32> {
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
            if mounts_under(&d).is_empty() {
                break;
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
