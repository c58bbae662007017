//! `bench_gateway`: the benchmarks of the native gateway. Ignored in the
//! normal test run (it takes minutes and writes gigabytes); `cargo xtask
//! bench` runs it and turns the `key=value` lines it prints on stdout into
//! the "gateway" section of BENCHMARKS.md. Progress goes to stderr.
//!
//! Every figure has a baseline measured in the same run; the figures are
//! medians with the warm-up runs discarded. Only sanity is asserted
//! (commands succeed, data round-trips), never speed.
//!
//! 1. **create-to-served latency** (Dir backend, native mode): from starting
//!    `pve-smbgateway create sN --mode native --users alice` until an
//!    `smbclient ls` on the new share succeeds. smbd is already running and
//!    alice already added, so no package installation or smbd start is in
//!    it. Baselines: the same `ls` on a share that is already served, and
//!    `testparm -s` on the sandbox config (create runs testparm and
//!    `smbcontrol reload-config`); also the cost of entering the test's
//!    mount namespace, which every sandboxed `create` pays and a real one
//!    does not.
//! 2. **`list --output-format json` with 1,000 shares** (whole process):
//!    the registry is written through `smbgw_core::Registry::update` from a
//!    record the CLI created. Baseline: the same command on an empty
//!    registry (process start).
//! 3. **sequential SMB throughput, 1 GiB, on a zfs-fuse dataset**, over
//!    loopback: `smbclient put` of a 1 GiB file of random bytes from tmpfs,
//!    and `smbclient get` to /dev/null, through our private smbd; the same
//!    through a second smbd configured from Debian's default smb.conf
//!    (`/usr/share/samba/smb.conf`, [global] kept, only sandboxing added,
//!    [homes]/[printers]/[print$] dropped), serving the same dataset;
//!    through our smbd again, via a second share on the same dataset
//!    created with `--encryption desired` (shares default to `auto`,
//!    Samba's `if_required`; `desired` gives smbclient an AES-128-GCM
//!    encrypted tree connect: this measures what encryption costs); and
//!    local `dd` on the dataset. Besides the time, the CPU seconds of the
//!    processes on the data path are counted (our child smbclient or dd,
//!    the connection's smbd as reaped by the daemon, zfs-fuse; from
//!    `/proc/PID/stat`), which explains the ratios on a 2-core machine
//!    where client and server share the CPUs. What is fair:
//!    - smbd writes and reads in 8 MiB `pwrite`/`pread` calls (the SMB2
//!      max read/write size; seen with strace), so `dd` uses `bs=8M`.
//!    - `smbclient put` sends no FLUSH and smbd does not fsync (strace), so
//!      the put ends when smbd's last write returned; `dd` therefore writes
//!      without `conv=fsync`. The FUSE mount has no write-back cache, so
//!      "written" means handed to the zfs-fuse daemon on both sides
//!      (`conv=fsync` barely changes dd's time). A `sync` (not timed) follows every transfer, so that no run
//!      pays for the previous one's dirty data.
//!    - zfs-fuse keeps a file's pages in the kernel page cache across
//!      opens, so a plain re-read runs at memory speed (6–12 GB/s for
//!      `dd`). The read figures are therefore "cold file": before each
//!      timed read, the file's page cache is dropped with
//!      `posix_fadvise(DONTNEED)` (`dd iflag=nocache count=0`), on both
//!      sides; the reads alternate between two files so each read follows
//!      a read of the other one (zfs-fuse's own ARC is limited to 100 MB
//!      by Debian's /etc/zfs/zfsrc, which also disables prefetch).
//!      The pool's image file stays in the host's page cache and zfs-fuse
//!      runs under eatmydata (the benchmark refuses to run otherwise): the
//!      "disk" is RAM, which isolates the software stack; with zfs-fuse's
//!      per-transaction-group fsyncs reaching the virtual disk, write
//!      ratios ranged from 0.62 to 1.19 between runs. (A pool file on tmpfs
//!      was tried: it steadied the writes too, but it made cold
//!      reads through zfs-fuse faster locally but slower over SMB: 0.854
//!      of local against 0.898 with the file under /tmp, in an
//!      interleaved 9-round A/B; the issue asks for storage, not the
//!      network, to be the bottleneck.) Warm reads (the file in
//!      the page cache) are reported too, for information.
//!    - smbclient's time is its whole process (connect, session setup,
//!      tree connect: a few tens of ms, see the `ls` baseline), as is
//!      dd's; that is the figure held to the target. The transfer alone,
//!      by each tool's own timer (smbclient's average rate, dd's "copied"
//!      line), is reported beside it.
//!    - Single runs scatter widely here, so ratios are taken round by
//!      round (a round runs every method once, one after the other): the
//!      median of the rounds' ratios, with its distribution-free
//!      confidence interval ([`median_ci`]), is what the ≥ 0.85 targets
//!      and "ours no slower" than Debian's default are judged on (xtask
//!      renders the verdicts: "not shown" when the median is on the
//!      wrong side but the interval reaches equality).
//! 4. **idle memory**: RSS, PSS and USS (private pages) summed over each
//!    smbd's process tree (`/proc/PID/smaps_rollup` of the daemon and all
//!    its descendants), our generated config vs Debian's default, each
//!    serving the same one share. A pair of fresh starts differs by 1–2 %
//!    either way, so [`MEM_ROUNDS`] rounds each restart our smbd, the
//!    Debian-default one, a second Debian-default one (the A/A control)
//!    and a third one started with our malloc setting (what the setting
//!    alone costs an idle smbd), side by side in a balanced start order
//!    ([`START_ORDER`]), the Debian-default ones from a copy of our smbd's
//!    state files (smbd maps its tdbs, and the pages it touches depend on
//!    their history) except gencache.tdb (its creator's configuration sets
//!    its size), and take the median of 5 samples a second apart (PSS
//!    shares library pages among every process mapping them, so it moves
//!    when other smbds start or stop); judged like throughput, on the
//!    rounds' PSS differences, which are also split by part
//!    ([`MEM_PARTS`]). Then with one idle connected client each.
//!
//! Investigated when the throughput ratios came out below 0.85 (manual
//! A/B on the same zfs-fuse setup, interleaved, one smbd with one share
//! per variant): with glibc's default malloc settings, the connection's
//! smbd faults every 8 MiB read buffer in afresh (150,000–200,000 minor
//! faults per GiB read, counted as the daemon's `cminflt`); the gateway starts
//! smbd with `provision::SMBD_MALLOC_TUNABLES`, which keeps the buffers
//! on the heap for reuse (~5,000 faults per GiB): cold reads 2–6 % faster in three
//! interleaved A/Bs of 9 rounds and 8 % in one repeating this benchmark's
//! sequence; its first version (the mmap threshold alone) made writes
//! fault more than glibc's defaults (a write buffer is freed at the
//! heap's top and trimmed), and our smbd used more CPU per GiB written
//! than the Debian-default one and wrote at 0.92–0.98 of its speed, hence
//! the trim threshold; so our smbd and the Debian-default one differ in
//! that (the environment, not smb.conf);
//! `aio read size = 0` / `aio write size = 0` did not help;
//! `use sendfile = yes` is inert with Samba's default `aio read size = 1`:
//! every read goes through the aio thread pool (strace: `pread64`, no
//! `sendfile`), and with `aio read size = 0` sendfile is used but reads are
//! slower (it blocks smbd's main loop), so shares do not set it;
//! `min receivefile size = 16384` made writes slower
//! (splice into zfs-fuse); encryption (`desired`) cost 13–33 % of write and
//! 15–18 % of read throughput in the recorded runs, which is why shares
//! default to `auto`; the
//! rest is CPU: smbclient, smbd and zfs-fuse share the 2 cores, and SMB
//! over loopback copies every byte more often than `dd`.
//!
//! Knobs (for development only; the defaults are the benchmark):
//! `SMBGW_BENCH_TP_RUNS` (measured throughput runs, default 11),
//! `SMBGW_BENCH_TP_MIB` (file size, default 1024).

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use smbgw_core::registry::Registry;
use smbgw_core::spec::{ShareId, VolumeRef};
use testkit::sandbox::{feed, free_port, kill_matching, GatewaySandbox};
use testkit::ZfsPool;

use crate::{bin, ok, proc_stat, sandbox, smaps_field, text};

const PW: &str = "Alice-pw-1";
/// The share every smbd serves for the throughput and memory figures.
const TP: &str = "tp";
/// The same dataset, served by our smbd with `--encryption desired`.
const TP_PLAIN: &str = "tp-desired";
/// Warm-up runs (discarded) and measured runs of the short figures.
const WARMUP: usize = 2;
const RUNS: usize = 11;
/// Rounds of fresh starts for the idle-memory figures: a multiple of 4, so
/// that [`START_ORDER`] is used whole.
const MEM_ROUNDS: usize = 8;
/// The order the four smbds of a memory round start in (0: ours, 1-3: the
/// Debian-default ones), by round: a Williams square, in which every smbd
/// starts right before every other one exactly once, so that no pair
/// compared always starts in the same order.
const START_ORDER: [[usize; 4]; 4] = [[0, 1, 3, 2], [1, 2, 0, 3], [2, 3, 1, 0], [3, 0, 2, 1]];
/// Block size of the local `dd` = smbd's I/O size (SMB2 max read/write).
const DD_BS: &str = "8M";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> f64 {
    assert!(!v.is_empty());
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The median of `v` and a distribution-free confidence interval for it:
/// the k-th smallest and the k-th largest value, with the largest k for
/// which that interval holds the true median with probability ≥ 90 %
/// (the number of values below the median is Binomial(n, 1/2)), and that
/// probability. With 11 values: the 3rd and the 9th, 93.5 %; with 9: the
/// 2nd and the 8th, 96.1 %.
fn median_ci(v: &[f64]) -> (f64, f64, f64, f64) {
    let n = v.len();
    assert!(n > 0, "no values");
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    // P(B < k) for B ~ Binomial(n, 1/2).
    let below = |k: usize| {
        let mut c = 1.0f64;
        let mut sum = 0.0;
        for i in 0..k {
            sum += c;
            c = c * (n - i) as f64 / (i + 1) as f64;
        }
        sum / 2f64.powi(n as i32)
    };
    let mut k = 1;
    while k < n / 2 && 1.0 - 2.0 * below(k + 1) >= 0.90 {
        k += 1;
    }
    (median(s.clone()), s[k - 1], s[n - k], 1.0 - 2.0 * below(k))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Runs `cmd` (stdin closed); wall time in seconds and the output.
fn timed(cmd: &mut Command) -> (f64, Output) {
    let t = Instant::now();
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    (t.elapsed().as_secs_f64(), out)
}

/// Median wall time in ms of `RUNS` successful runs after `WARMUP`.
fn median_ms(mut make: impl FnMut() -> Command) -> f64 {
    let mut v = Vec::new();
    for i in 0..WARMUP + RUNS {
        let (secs, out) = timed(&mut make());
        ok(&out);
        if i >= WARMUP {
            v.push(secs * 1e3);
        }
    }
    median(v)
}

/// The share a throughput method uses.
fn share_of(method: &str) -> &'static str {
    if method == "ours_desired" {
        TP_PLAIN
    } else {
        TP
    }
}

fn smbclient(port: u16, share: &str, commands: &str, extra: &[&str], cwd: &Path) -> Command {
    let mut c = Command::new("smbclient");
    c.arg("-p")
        .arg(port.to_string())
        .arg(format!("//127.0.0.1/{share}"))
        .args(["-U", "alice", "-c", commands])
        .args(extra)
        .env("PASSWD", PW)
        .current_dir(cwd);
    c
}

fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    ok(&out);
    out
}

fn sync() {
    run_ok(&mut Command::new("sync"));
}

/// Drops `path`'s pages from the page cache (`posix_fadvise(DONTNEED)`).
fn drop_file_cache(path: &Path) {
    run_ok(
        Command::new("dd")
            .arg(format!("if={}", path.display()))
            .args(["iflag=nocache", "count=0", "status=none"]),
    );
}

/// `bytes` of xorshift output: incompressible, and not all zeros.
fn write_random(path: &Path, bytes: u64) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut chunk = vec![0u8; 1 << 20];
    let mut left = bytes;
    while left > 0 {
        for w in chunk.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            w.copy_from_slice(&x.to_le_bytes());
        }
        let n = left.min(chunk.len() as u64) as usize;
        f.write_all(&chunk[..n]).unwrap();
        left -= n as u64;
    }
    f.flush().unwrap();
}

fn same_content(a: &Path, b: &Path) -> bool {
    let (mut fa, mut fb) = (
        std::fs::File::open(a).unwrap(),
        std::fs::File::open(b).unwrap(),
    );
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let na = read_full(&mut fa, &mut ba);
        let nb = read_full(&mut fb, &mut bb);
        if na != nb || ba[..na] != bb[..nb] {
            return false;
        }
        if na == 0 {
            return true;
        }
    }
}

fn read_full(f: &mut std::fs::File, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]).unwrap() {
            0 => break,
            k => n += k,
        }
    }
    n
}

// ---------------------------------------------------------------------------
// Process trees and memory

/// Parent of every process.
fn parents() -> HashMap<i32, i32> {
    let mut map = HashMap::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...; comm may contain spaces and parens.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse().ok());
        if let Some(ppid) = ppid {
            map.insert(pid, ppid);
        }
    }
    map
}

/// `root` and all its descendants.
fn tree(root: i32) -> Vec<i32> {
    let parents = parents();
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        let mut kids: Vec<i32> = parents
            .iter()
            .filter(|&(_, &pp)| pp == p)
            .map(|(&c, _)| c)
            .collect();
        kids.sort_unstable();
        out.extend(kids);
        i += 1;
    }
    out
}

#[derive(Debug, Clone, Copy)]
struct Mem {
    rss_kb: u64,
    pss_kb: u64,
    /// Private_Clean + Private_Dirty: memory no other process shares
    /// (unlike PSS, it does not move when other processes map the same
    /// libraries).
    uss_kb: u64,
    procs: usize,
}

fn tree_mem(root: i32) -> Mem {
    let mut m = Mem {
        rss_kb: 0,
        pss_kb: 0,
        uss_kb: 0,
        procs: 0,
    };
    for pid in tree(root) {
        let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else {
            continue;
        };
        m.procs += 1;
        for l in s.lines() {
            let mut it = l.split_whitespace();
            let (Some(k), Some(v)) = (it.next(), it.next()) else {
                continue;
            };
            let v: u64 = v.parse().unwrap_or(0);
            match k {
                "Rss:" => m.rss_kb += v,
                "Pss:" => m.pss_kb += v,
                "Private_Clean:" | "Private_Dirty:" => m.uss_kb += v,
                _ => {}
            }
        }
    }
    m
}

/// Where an idle smbd's PSS is, by the parts two configurations can differ
/// in: the tdb files whose size or use the configuration sets
/// (gencache.tdb: `gencache:hash_size`; smbprofile.tdb: `smbd profiling
/// level`), the other tdb files, anonymous memory (heap, stacks) and
/// everything else (smbd's binary and libraries, locale files).
const MEM_PARTS: [&str; 5] = [
    "gencache.tdb",
    "smbprofile.tdb",
    "other tdb files",
    "anonymous",
    "binaries and libraries",
];

/// PSS (KiB) summed over `root`'s process tree, by [`MEM_PARTS`].
fn tree_pss_parts(root: i32) -> [u64; 5] {
    let mut parts = [0; 5];
    for pid in tree(root) {
        for (path, kb) in smaps_field(pid, "Pss") {
            let part = if path.ends_with("/gencache.tdb") {
                0
            } else if path.ends_with("/smbprofile.tdb") {
                1
            } else if path.ends_with(".tdb") {
                2
            } else if path.is_empty() || path.starts_with('[') {
                3
            } else {
                4
            };
            parts[part] += kb;
        }
    }
    parts
}

/// The median of each figure over `samples` (of one process tree).
fn median_mem(samples: &[Mem]) -> Mem {
    let med = |f: fn(&Mem) -> u64| median(samples.iter().map(|m| f(m) as f64).collect()) as u64;
    Mem {
        rss_kb: med(|m| m.rss_kb),
        pss_kb: med(|m| m.pss_kb),
        uss_kb: med(|m| m.uss_kb),
        procs: med(|m| m.procs as u64) as usize,
    }
}

/// CPU seconds (user + system) of `pid` itself, and of its children that
/// it has waited for (`/proc/PID/stat` utime + stime, cutime + cstime).
fn cpu_secs(pid: i32) -> (f64, f64) {
    let f = proc_stat(pid);
    // Fields 14..=17 of stat(5). Clock ticks are 1/100 s on Linux
    // (USER_HZ).
    let g = |field: usize| f.get(field - 3).copied().unwrap_or(0) as f64 / 100.0;
    (g(14) + g(15), g(16) + g(17))
}

/// The first process whose command name is `comm`.
fn pid_of(comm: &str) -> Option<i32> {
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: i32 = e.file_name().to_string_lossy().parse().ok()?;
        let c = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
        (c.trim() == comm).then_some(pid)
    })
}

fn wait_tree_size(root: i32, n: usize, what: &str) {
    let start = Instant::now();
    while tree(root).len() != n {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "{what}: smbd {root}'s tree has {} processes, expected {n}",
            tree(root).len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Copies the regular files under `from` to `to` (created), keeping their
/// permissions and the directory structure; sockets and the like are left
/// out.
fn copy_files(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    std::fs::set_permissions(to, std::fs::metadata(from).unwrap().permissions()).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let t = e.file_type().unwrap();
        if t.is_dir() {
            copy_files(&e.path(), &to.join(e.file_name()));
        } else if t.is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// The live smbd named by a pid file.
fn smbd_from_pidfile(pidfile: &Path) -> Option<i32> {
    let pid: i32 = std::fs::read_to_string(pidfile).ok()?.trim().parse().ok()?;
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let state = stat
        .rsplit_once(')')?
        .1
        .split_whitespace()
        .next()?
        .to_owned();
    (comm.trim() == "smbd" && state != "Z").then_some(pid)
}

// ---------------------------------------------------------------------------
// The second smbd, configured from Debian's default smb.conf

/// An smbd started from Debian's default smb.conf (sandboxed); stopped on
/// drop, also when the test panics.
struct DebianSmbd {
    conf: PathBuf,
    pidfile: PathBuf,
    port: u16,
    /// `GLIBC_TUNABLES` to start it with (none: glibc's defaults).
    tunables: Option<&'static str>,
}

impl DebianSmbd {
    /// Writes the config under `dir` (serving `share_path` as [`TP`] to
    /// alice) and adds alice to its passdb; [`DebianSmbd::launch`] starts
    /// smbd in the sandbox's mount namespace (which has alice in its
    /// private /etc).
    fn configure(
        sb: &GatewaySandbox,
        dir: &Path,
        share_path: &Path,
        tunables: Option<&'static str>,
    ) -> DebianSmbd {
        let debian = std::fs::read_to_string("/usr/share/samba/smb.conf")
            .expect("Debian's default /usr/share/samba/smb.conf (package samba)");
        let (mut doc, _) = smbconf::Document::parse(&debian);
        // Shares we do not want: home directories, printing.
        for s in ["homes", "printers", "print$"] {
            doc.remove_section(s);
        }
        for sub in [
            "lock", "state", "cache", "private", "pid", "ncalrpc", "binddns", "log",
        ] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.join("private"), std::fs::Permissions::from_mode(0o700))
                .unwrap();
        }
        let d = |s: &str| dir.join(s).display().to_string();
        let port = free_port();
        // Only what it takes to sandbox it: Debian's [global] settings
        // (logging, PAM, `map to guest = bad user`, ...) stay as they are.
        let sandboxing = [
            ("smb ports", port.to_string()),
            ("interfaces", "lo".to_owned()),
            ("bind interfaces only", "yes".to_owned()),
            ("lock directory", d("lock")),
            ("state directory", d("state")),
            ("cache directory", d("cache")),
            ("private dir", d("private")),
            ("pid directory", d("pid")),
            ("ncalrpc dir", d("ncalrpc")),
            ("binddns dir", d("binddns")),
            ("log file", format!("{}/log.%m", d("log"))),
            (
                "passdb backend",
                format!("tdbsam:{}/passdb.tdb", d("private")),
            ),
            ("rpc start on demand helpers", "no".to_owned()),
        ];
        for (k, v) in &sandboxing {
            doc.set("global", k, v).unwrap();
        }
        // The share as an administrator would write it by hand.
        doc.add_section(TP).unwrap();
        doc.set(TP, "path", &share_path.display().to_string())
            .unwrap();
        doc.set(TP, "read only", "no").unwrap();
        doc.set(TP, "valid users", "alice").unwrap();
        // The volume belongs to the gateway's group (setgid directory);
        // without this alice could not write to it.
        doc.set(TP, "force group", smbgw_core::SHARE_GROUP).unwrap();
        let conf = dir.join("smb.conf");
        std::fs::write(&conf, doc.to_string()).unwrap();
        let mut pw = sb.ns_command("smbpasswd");
        pw.arg("-c").arg(&conf).args(["-s", "-a", "alice"]);
        ok(&feed(pw, format!("{PW}\n{PW}\n").as_bytes()));
        DebianSmbd {
            pidfile: dir.join("pid/smbd.pid"),
            conf,
            port,
            tunables,
        }
    }

    /// Starts smbd and waits until it accepts connections.
    fn launch(&self, sb: &GatewaySandbox) {
        let mut start = sb.ns_command("smbd");
        start.args(["-D", "-s"]).arg(&self.conf);
        if let Some(t) = self.tunables {
            start.env("GLIBC_TUNABLES", t);
        }
        run_ok(&mut start);
        let t = Instant::now();
        while self.pid().is_none()
            || std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err()
        {
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "the Debian-default smbd did not start; see {}",
                self.conf.with_file_name("log").display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Replaces this smbd's persistent state (the `lock`, `state`,
    /// `private` and `cache` directories: passdb, secrets, registry, ...)
    /// with a copy of `from`'s, so that two smbds compared start from the
    /// same files: smbd maps its tdb files and what it touches of them
    /// counts as its memory, which depends on their history (a passdb
    /// written twice touches more pages), not on the configuration. Except
    /// gencache.tdb, whose size the configuration that creates it sets
    /// (`gencache:hash_size`): each smbd keeps its own, created by its own
    /// first start. Only while both are stopped.
    fn copy_state_from(&self, from: &Path) {
        let dir = self.conf.parent().expect("config in a directory");
        let gencache = dir.join("lock/gencache.tdb");
        let kept = dir.join("gencache.tdb.own");
        if gencache.exists() {
            std::fs::rename(&gencache, &kept).unwrap();
        }
        for sub in ["lock", "state", "private", "cache"] {
            let dst = dir.join(sub);
            std::fs::remove_dir_all(&dst).unwrap();
            copy_files(&from.join(sub), &dst);
        }
        if kept.exists() {
            std::fs::rename(&kept, &gencache).unwrap();
        } else {
            let _ = std::fs::remove_file(&gencache);
        }
    }

    /// Stops smbd and its whole tree.
    fn stop(&self) {
        if let Some(pid) = self.pid() {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            let t = Instant::now();
            while self.pid().is_some() && t.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        kill_matching(&self.conf.display().to_string());
    }

    fn pid(&self) -> Option<i32> {
        smbd_from_pidfile(&self.pidfile)
    }
}

impl Drop for DebianSmbd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A connected, idle smbclient (waiting at its prompt); killed on drop.
struct IdleClient(Child);

impl IdleClient {
    /// Connects to `port` and waits until the smbd tree of `root` has
    /// `procs` processes (its client smbd forked).
    fn connect(port: u16, share: &str, root: i32, procs: usize) -> IdleClient {
        let mut c = IdleClient(
            Command::new("smbclient")
                .arg("-p")
                .arg(port.to_string())
                .arg(format!("//127.0.0.1/{share}"))
                .args(["-U", "alice"])
                .env("PASSWD", PW)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("smbclient"),
        );
        let start = Instant::now();
        while tree(root).len() != procs {
            if let Ok(Some(st)) = c.0.try_wait() {
                let mut out = String::new();
                for r in [
                    c.0.stdout.take().map(|o| Box::new(o) as Box<dyn Read>),
                    c.0.stderr.take().map(|o| Box::new(o) as Box<dyn Read>),
                ]
                .into_iter()
                .flatten()
                {
                    let mut r = r;
                    let _ = r.read_to_string(&mut out);
                }
                panic!("smbclient to port {port} exited ({st}): {out}");
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "smbclient to port {port}: smbd {root}'s tree has {} processes, expected {procs}",
                tree(root).len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        c
    }
}

impl Drop for IdleClient {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

// ---------------------------------------------------------------------------

#[test]
#[ignore = "benchmark: run by `cargo xtask bench` (minutes, writes GiBs)"]
fn bench_gateway() {
    let tp_runs = env_usize("SMBGW_BENCH_TP_RUNS", 11).max(1);
    let tp_bytes = env_usize("SMBGW_BENCH_TP_MIB", 1024) as u64 * (1 << 20);
    // Two read files + one file being written + slack.
    let Some(pool) = ZfsPool::with_size("bench_gateway", 3 * tp_bytes + (1 << 30)) else {
        return;
    };
    // The pool file's fsyncs must not wait for the disk, or the write
    // figures measure the disk's mood: zfs-fuse must run under eatmydata,
    // as `ZfsPool` starts it when eatmydata is installed.
    let zfs_pid = pid_of("zfs-fuse").expect("zfs-fuse runs");
    assert!(
        std::fs::read_to_string(format!("/proc/{zfs_pid}/maps"))
            .is_ok_and(|m| m.contains("libeatmydata")),
        "zfs-fuse does not run under eatmydata: install eatmydata and stop the running zfs-fuse, so that the benchmark starts its own"
    );
    let Some(sb) = sandbox("bench_gateway") else {
        return;
    };
    let mut kv: BTreeMap<String, String> = BTreeMap::new();
    sb.add_user("alice", PW);

    // The throughput share on zfs, served by our smbd ...
    ok(&sb.run(&[
        "create",
        TP,
        "--mode",
        "native",
        "--backend",
        "zfs",
        "--zfs-parent",
        &pool.pool,
        "--users",
        "alice",
    ]));
    let show: serde_json::Value =
        serde_json::from_str(&ok(&sb.run(&["show", TP, "--output-format", "json"]))).unwrap();
    let ds = PathBuf::from(show["path"].as_str().expect("path in show"));
    assert!(ds.starts_with(pool.mnt()), "{}", ds.display());
    // ... and by the Debian-default smbd, three times for the memory
    // figures: the second one, configured alike, is the A/A control that
    // shows how far two equal smbds differ in this run; the third one runs
    // with our malloc setting, to tell what the setting costs an idle smbd.
    // The memory rounds below start them, and start our smbd afresh (it has
    // served the create: testparm, reload-config), to compare configuration
    // against configuration; they leave all of them running.
    let debian = DebianSmbd::configure(&sb, &sb.base().join("debian"), &ds, None);
    let debian2 = DebianSmbd::configure(&sb, &sb.base().join("debian2"), &ds, None);
    let debian_tuned = DebianSmbd::configure(
        &sb,
        &sb.base().join("debian-tuned"),
        &ds,
        Some(provision::SMBD_MALLOC_TUNABLES),
    );
    let debs = [&debian, &debian2, &debian_tuned];

    // ---- 4. idle memory, side by side, fresh starts ---------------------
    // One pair of fresh starts differs by 1-2 % either way (shared pages
    // are split among every process mapping them, and what a fresh smbd
    // has touched varies), so each round restarts all four smbds, in a
    // balanced order, and the verdict rests on the rounds' differences.
    eprintln!("bench_gateway: idle memory ({MEM_ROUNDS} rounds of fresh starts)");
    // Ours, then the Debian-default ones in the order of `debs`.
    let mut rounds: [Vec<Mem>; 4] = Default::default();
    let mut part_diffs: [Vec<f64>; 5] = Default::default();
    for round in 0..MEM_ROUNDS {
        sb.stop_smbd();
        for d in debs {
            d.stop();
        }
        for d in debs {
            d.copy_state_from(&sb.samba_dir());
        }
        for &k in &START_ORDER[round % 4] {
            match k {
                // `user list` prepares Samba, which starts the private smbd.
                0 => drop(ok(&sb.run(&["user", "list"]))),
                i => debs[i - 1].launch(&sb),
            }
        }
        std::thread::sleep(Duration::from_secs(2));
        let mut pids = vec![sb.smbd_pid().expect("our smbd runs")];
        pids.extend(
            debs.iter()
                .map(|d| d.pid().expect("Debian-default smbd runs")),
        );
        // Five samples of each, a second apart; the median of each figure.
        let mut samples: [Vec<Mem>; 4] = Default::default();
        for i in 0..5 {
            if i > 0 {
                std::thread::sleep(Duration::from_secs(1));
            }
            for (s, &pid) in samples.iter_mut().zip(&pids) {
                s.push(tree_mem(pid));
            }
        }
        for (r, s) in rounds.iter_mut().zip(&samples) {
            r.push(median_mem(s));
        }
        // Where ours and Debian's default differ, once per round.
        let (ours, deb) = (tree_pss_parts(pids[0]), tree_pss_parts(pids[1]));
        for (d, (o, b)) in part_diffs.iter_mut().zip(ours.iter().zip(&deb)) {
            d.push(*o as f64 - *b as f64);
        }
    }
    let ours_pid = sb.smbd_pid().expect("our smbd runs");
    let deb_pid = debian.pid().expect("Debian-default smbd runs");
    let (idle_ours, idle_deb) = (median_mem(&rounds[0]), median_mem(&rounds[1]));
    // The size of each tree as it runs now (the last round's), for waiting
    // until a client's smbd is gone.
    let last_procs = |r: &[Mem]| r.last().expect("a round").procs;
    let (procs_ours, procs_deb) = (last_procs(&rounds[0]), last_procs(&rounds[1]));
    let pss_diff = |a: &[Mem], b: &[Mem]| -> Vec<f64> {
        a.iter()
            .zip(b)
            .map(|(x, y)| x.pss_kb as f64 - y.pss_kb as f64)
            .collect()
    };
    for (key, diffs) in [
        ("mem_idle_pss_diff", pss_diff(&rounds[0], &rounds[1])),
        ("mem_idle_aa_pss_diff", pss_diff(&rounds[2], &rounds[1])),
        ("mem_idle_tuned_pss_diff", pss_diff(&rounds[3], &rounds[1])),
    ] {
        let (med, lo, hi, cover) = median_ci(&diffs);
        set(&mut kv, format!("{key}_kb"), format!("{med:.0}"));
        set(&mut kv, format!("{key}_lo_kb"), format!("{lo:.0}"));
        set(&mut kv, format!("{key}_hi_kb"), format!("{hi:.0}"));
        let runs: Vec<String> = diffs.iter().map(|d| format!("{d:+.0}")).collect();
        set(&mut kv, format!("{key}_runs"), runs.join(","));
        set(&mut kv, "mem_ci_coverage", format!("{:.1}", cover * 100.0));
    }
    set(&mut kv, "mem_rounds", MEM_ROUNDS.to_string());
    let parts: Vec<String> = MEM_PARTS
        .iter()
        .zip(&part_diffs)
        .map(|(name, d)| format!("{name} {:+.0}", median(d.clone())))
        .collect();
    set(&mut kv, "mem_idle_pss_diff_parts", parts.join(", "));
    {
        // With the other two Debian-default smbds still running, as when
        // idle.
        let _c1 = IdleClient::connect(sb.port, TP, ours_pid, procs_ours + 1);
        let _c2 = IdleClient::connect(debian.port, TP, deb_pid, procs_deb + 1);
        std::thread::sleep(Duration::from_secs(1));
        let cl_ours = tree_mem(ours_pid);
        let cl_deb = tree_mem(deb_pid);
        for (k, v) in [
            ("mem_client_ours_rss_kb", cl_ours.rss_kb),
            ("mem_client_ours_pss_kb", cl_ours.pss_kb),
            ("mem_client_ours_uss_kb", cl_ours.uss_kb),
            ("mem_client_ours_procs", cl_ours.procs as u64),
            ("mem_client_default_rss_kb", cl_deb.rss_kb),
            ("mem_client_default_pss_kb", cl_deb.pss_kb),
            ("mem_client_default_uss_kb", cl_deb.uss_kb),
            ("mem_client_default_procs", cl_deb.procs as u64),
        ] {
            set(&mut kv, k, v);
        }
    }
    wait_tree_size(ours_pid, procs_ours, "client of ours gone");
    wait_tree_size(deb_pid, procs_deb, "client of Debian's gone");
    drop(debian2);
    drop(debian_tuned);
    for (k, v) in [
        ("mem_idle_ours_rss_kb", idle_ours.rss_kb),
        ("mem_idle_ours_pss_kb", idle_ours.pss_kb),
        ("mem_idle_ours_uss_kb", idle_ours.uss_kb),
        ("mem_idle_ours_procs", idle_ours.procs as u64),
        ("mem_idle_default_rss_kb", idle_deb.rss_kb),
        ("mem_idle_default_pss_kb", idle_deb.pss_kb),
        ("mem_idle_default_uss_kb", idle_deb.uss_kb),
        ("mem_idle_default_procs", idle_deb.procs as u64),
    ] {
        set(&mut kv, k, v);
    }
    set(
        &mut kv,
        "mem_idle_pss_ratio",
        format!("{:.2}", idle_ours.pss_kb as f64 / idle_deb.pss_kb as f64),
    );

    // The same dataset as a second share with `--encryption desired`, to
    // tell the cost of encryption (smbclient offers SMB3 encryption, and
    // `desired` switches it on; shares default to `auto`, Samba's
    // `if_required`, which leaves it off for a client that does not ask).
    ok(&sb.run(&[
        "create",
        TP_PLAIN,
        "--mode",
        "native",
        "--backend",
        "zfs",
        "--zfs-parent",
        &pool.pool,
        "--volume",
        TP,
        "--existing",
        "--encryption",
        "desired",
        "--users",
        "alice",
    ]));

    // ---- 3. throughput --------------------------------------------------
    eprintln!("bench_gateway: throughput ({tp_runs} runs + 1 warm-up)");
    let shm = tempfile::Builder::new()
        .prefix("smbgw-bench-")
        .tempdir_in("/dev/shm")
        .unwrap();
    let src = shm.path().join("src.bin");
    write_random(&src, tp_bytes);
    // The files the reads alternate between, written locally.
    let reads = [ds.join("r0.bin"), ds.join("r1.bin")];
    for r in &reads {
        std::fs::copy(&src, r).unwrap();
    }
    sync();
    // What each share negotiates with smbclient (Samba applies the share's
    // `server smb encrypt` per tree connect).
    for (label, port, conf) in [
        ("ours", sb.port, sb.samba_dir().join("smb.conf")),
        ("ours_desired", sb.port, sb.samba_dir().join("smb.conf")),
        ("default", debian.port, debian.conf.clone()),
    ] {
        let (root, procs) = if label == "default" {
            (deb_pid, procs_deb)
        } else {
            (ours_pid, procs_ours)
        };
        let c = IdleClient::connect(port, share_of(label), root, procs + 1);
        let st = sb
            .ns_command("smbstatus")
            .arg("-s")
            .arg(&conf)
            .arg("--json")
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap_or_default();
        let cipher = |key: &str| {
            v[key]
                .as_object()
                .and_then(|m| m.values().next())
                .and_then(|s| s["encryption"]["cipher"].as_str())
                .filter(|c| !c.is_empty())
                .unwrap_or("-")
                .to_owned()
        };
        let (session, tcon) = (cipher("sessions"), cipher("tcons"));
        if v.is_null() {
            eprintln!("smbstatus: {} {}", text(&st.stdout), text(&st.stderr));
        }
        set(
            &mut kv,
            format!("tp_{label}_encryption"),
            format!("session:{session},tcon:{tcon}"),
        );
        drop(c);
        wait_tree_size(root, procs, "smbstatus client gone");
    }
    let size_line = format!("of size {tp_bytes} ");
    // `ours_desired`: our smbd, through the share with `--encryption desired`.
    let methods = ["ours", "ours_desired", "default", "local"];
    let port_of = |m: &str| if m == "default" { debian.port } else { sb.port };
    // Per method: (seconds, CPU seconds, seconds by the tool's own timer)
    // of each measured run.
    let mut w: HashMap<&str, Vec<(f64, f64, f64)>> = HashMap::new();
    let mut r_cold: HashMap<&str, Vec<(f64, f64, f64)>> = HashMap::new();
    let mut r_warm: HashMap<&str, Vec<(f64, f64, f64)>> = HashMap::new();
    let mut next_read = 0usize;
    // The smbd tree serving a method, and its size when idle.
    let server_of = |m: &str| match m {
        "local" => None,
        "default" => Some((deb_pid, procs_deb)),
        _ => Some((ours_pid, procs_ours)),
    };
    // CPU seconds used by the processes on the data path: our children
    // (smbclient or dd), the connection's smbd (reaped by the daemon) and
    // zfs-fuse.
    let cpu_now = |server: Option<(i32, usize)>| {
        let me = cpu_secs(std::process::id() as i32).1;
        let srv = server.map_or(0.0, |(pid, _)| cpu_secs(pid).1);
        me + srv + cpu_secs(zfs_pid).0
    };
    for run in 0..=tp_runs {
        for k in 0..methods.len() {
            let m = methods[(run + k) % methods.len()];
            // Write.
            let name = format!("w-{m}-{run}.bin");
            let dst = ds.join(&name);
            let server = server_of(m);
            let c0 = cpu_now(server);
            let (secs, out) = if m == "local" {
                timed(
                    Command::new("dd")
                        // `own_timer` reads dd's English summary line.
                        .env("LC_ALL", "C")
                        .arg(format!("if={}", src.display()))
                        .arg(format!("of={}", dst.display()))
                        .arg(format!("bs={DD_BS}")),
                )
            } else {
                timed(&mut smbclient(
                    port_of(m),
                    share_of(m),
                    &format!("put src.bin {name}"),
                    &[],
                    shm.path(),
                ))
            };
            ok(&out);
            if let Some((root, procs)) = server {
                wait_tree_size(root, procs, "the client's smbd is reaped");
            }
            // The data is written out, on both sides, before the CPU is
            // counted (not timed).
            sync();
            let cpu = cpu_now(server) - c0;
            assert_eq!(std::fs::metadata(&dst).unwrap().len(), tp_bytes, "{m}");
            if run == 0 {
                assert!(same_content(&src, &dst), "{m}: the written file differs");
            }
            std::fs::remove_file(&dst).unwrap();
            sync();
            if run > 0 {
                w.entry(m)
                    .or_default()
                    .push((secs, cpu, own_timer(&out, tp_bytes)));
            }
        }
        for k in 0..methods.len() {
            let m = methods[(run + k) % methods.len()];
            let file = &reads[next_read % 2];
            next_read += 1;
            let fname = file.file_name().unwrap().to_str().unwrap();
            let server = server_of(m);
            let read = || {
                let c0 = cpu_now(server);
                let (secs, out) = if m == "local" {
                    timed(
                        Command::new("dd")
                            .env("LC_ALL", "C")
                            .arg(format!("if={}", file.display()))
                            .args(["of=/dev/null", &format!("bs={DD_BS}")]),
                    )
                } else {
                    timed(&mut smbclient(
                        port_of(m),
                        share_of(m),
                        &format!("get {fname} /dev/null"),
                        &[],
                        shm.path(),
                    ))
                };
                ok(&out);
                if m != "local" {
                    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
                    assert!(all.contains(&size_line), "{m}: {all}");
                }
                if let Some((root, procs)) = server {
                    wait_tree_size(root, procs, "the client's smbd is reaped");
                }
                (secs, cpu_now(server) - c0, own_timer(&out, tp_bytes))
            };
            drop_file_cache(file);
            let cold = read();
            // Again, now that the file is in the page cache.
            let warm = read();
            if run > 0 {
                r_cold.entry(m).or_default().push(cold);
                r_warm.entry(m).or_default().push(warm);
            }
        }
    }
    // One full round trip through our gateway, compared byte for byte.
    {
        let back = shm.path().join("back.bin");
        ok(&timed(&mut smbclient(
            sb.port,
            TP,
            "get r0.bin back.bin",
            &[],
            shm.path(),
        ))
        .1);
        assert!(same_content(&src, &back), "get returned other bytes");
        std::fs::remove_file(back).unwrap();
    }
    for (prefix, map) in [("write", &w), ("read", &r_cold), ("read_warm", &r_warm)] {
        throughput(&mut kv, prefix, map, tp_bytes, &methods);
    }
    set(&mut kv, "tp_mib", (tp_bytes >> 20).to_string());
    set(&mut kv, "tp_runs", tp_runs.to_string());
    set(&mut kv, "tp_block", DD_BS.to_owned());
    for r in &reads {
        std::fs::remove_file(r).unwrap();
    }
    drop(shm);
    drop(debian);

    // ---- 1. create-to-served latency ------------------------------------
    eprintln!("bench_gateway: create-to-served latency");
    let client = sb.base().join("client");
    std::fs::create_dir_all(&client).unwrap();
    let (mut served, mut create_only) = (Vec::new(), Vec::new());
    let mut retries = 0;
    for i in 0..WARMUP + RUNS {
        let id = format!("s{i}");
        let t = Instant::now();
        let out = sb.run(&["create", &id, "--mode", "native", "--users", "alice"]);
        let created = t.elapsed();
        ok(&out);
        loop {
            let ls = sb.smbclient(&id, "alice", PW, "ls", &[], &client);
            if ls.status.success() {
                break;
            }
            retries += 1;
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "{id} not served: {}",
                text(&ls.stdout)
            );
        }
        if i >= WARMUP {
            served.push(ms(t.elapsed()));
            create_only.push(ms(created));
        }
    }
    set(
        &mut kv,
        "create_served_ms",
        format!("{:.0}", median(served)),
    );
    set(
        &mut kv,
        "create_only_ms",
        format!("{:.0}", median(create_only)),
    );
    set(&mut kv, "create_ls_retries", retries.to_string());
    set(&mut kv, "create_runs", RUNS.to_string());
    set(
        &mut kv,
        "ls_ms",
        format!(
            "{:.0}",
            median_ms(|| smbclient(sb.port, "s0", "ls", &[], &client))
        ),
    );
    let conf = sb.samba_dir().join("smb.conf");
    set(
        &mut kv,
        "testparm_ms",
        format!(
            "{:.0}",
            median_ms(|| {
                let mut c = Command::new("testparm");
                c.args(["-s", "--suppress-prompt"]).arg(&conf);
                c
            })
        ),
    );
    set(
        &mut kv,
        "ns_ms",
        format!("{:.1}", median_ms(|| sb.ns_command("true"))),
    );

    // ---- 2. list with 1,000 shares --------------------------------------
    eprintln!("bench_gateway: list");
    let template = Registry::new(sb.root.join("shares.cfg"))
        .get(&ShareId::new("s0").unwrap())
        .unwrap()
        .expect("s0 registered");
    let big = sb.base().join("list/shares.cfg");
    let empty = sb.base().join("list/empty.cfg");
    std::fs::create_dir_all(big.parent().unwrap()).unwrap();
    std::fs::write(&empty, "").unwrap();
    Registry::new(&big)
        .update(|shares| {
            for i in 0..1000 {
                let mut r = template.clone();
                let id = format!("share-{i:04}");
                r.spec.id = ShareId::new(&id)?;
                r.spec.volume = VolumeRef::new(&id)?;
                r.spec.comment = Some(format!("Share number {i}"));
                r.state.path = template.state.path.with_file_name(&id);
                r.state.volume_id = r.state.path.display().to_string();
                shares.insert(r)?;
            }
            Ok(())
        })
        .unwrap();
    let list = |registry: &Path| {
        let mut c = Command::new(bin());
        c.arg("--sandbox")
            .arg(&sb.root)
            .arg("--port")
            .arg(sb.port.to_string())
            .arg("--registry")
            .arg(registry)
            .args(["list", "--output-format", "json"]);
        c
    };
    let listed: serde_json::Value = serde_json::from_str(&ok(&run_ok(&mut list(&big)))).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1000);
    assert_eq!(ok(&run_ok(&mut list(&empty))).trim(), "[]");
    set(
        &mut kv,
        "list_1000_ms",
        format!("{:.1}", median_ms(|| list(&big))),
    );
    set(
        &mut kv,
        "list_empty_ms",
        format!("{:.1}", median_ms(|| list(&empty))),
    );
    set(
        &mut kv,
        "list_registry_bytes",
        std::fs::metadata(&big).unwrap().len().to_string(),
    );
    set(&mut kv, "list_runs", RUNS.to_string());

    // On a line of its own: libtest printed "test ... " without a newline.
    let mut report = String::from("\n");
    for (k, v) in &kv {
        report.push_str(&format!("{k}={v}\n"));
    }
    print!("{report}");
    drop(sb);
    drop(pool);
}

/// The transfer's duration by the tool's own timer, without process start,
/// connection and session setup: dd's "copied, S s" (stderr), smbclient's
/// "(average N kb/s)" for put and "(average N KiloBytes/sec)" for get (KiB/s,
/// from a millisecond timer around the open, the transfer and the close).
fn own_timer(out: &Output, bytes: u64) -> f64 {
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    let number_before = |tail: &str, unit: &str| {
        let end = tail.find(unit)?;
        tail[..end].trim().parse::<f64>().ok()
    };
    if let Some(i) = all.find("copied, ") {
        if let Some(s) = number_before(&all[i + 8..], " s,") {
            return s;
        }
    }
    if let Some(i) = all.find("(average ") {
        let tail = &all[i + 9..];
        if let Some(kib_s) = number_before(tail, " KiloBytes/sec").or(number_before(tail, " kb/s"))
        {
            return bytes as f64 / 1024.0 / kib_s;
        }
    }
    panic!("no transfer time in the tool's output: {all}");
}

/// Per method: `PREFIX_METHOD_mb_s` (median), `PREFIX_METHOD_runs`,
/// `PREFIX_METHOD_xfer_mb_s` (median by the tool's own timer), and
/// `PREFIX_METHOD_cpu_s_per_gib` (median CPU seconds per GiB moved); the ratios
/// ours/local (`PREFIX_ratio`, `PREFIX_xfer_ratio`) and ours/default.
fn throughput(
    kv: &mut BTreeMap<String, String>,
    prefix: &str,
    map: &HashMap<&str, Vec<(f64, f64, f64)>>,
    bytes: u64,
    methods: &[&str],
) {
    let mb_s = |secs: f64| bytes as f64 / 1e6 / secs;
    let med = |m: &str| mb_s(median(map[m].iter().map(|r| r.0).collect()));
    let own = |m: &str| mb_s(median(map[m].iter().map(|r| r.2).collect()));
    let (o, d, l) = (med("ours"), med("default"), med("local"));
    set(kv, format!("{prefix}_ratio"), format!("{:.2}", o / l));
    set(
        kv,
        format!("{prefix}_xfer_ratio"),
        format!("{:.2}", own("ours") / own("local")),
    );
    set(
        kv,
        format!("{prefix}_ours_vs_default"),
        format!("{:.2}", o / d),
    );
    // Round by round (a round's transfers ran one after the other): the
    // speed ratio, and the median of those with its confidence interval,
    // which says whether a difference stands out of this run's noise.
    let paired = |a: &str, b: &str| -> Vec<f64> {
        map[a].iter().zip(&map[b]).map(|(x, y)| y.0 / x.0).collect()
    };
    for (key, ratios) in [
        ("paired_ratio", paired("ours", "local")),
        ("ours_vs_default_paired", paired("ours", "default")),
    ] {
        let (med, lo, hi, cover) = median_ci(&ratios);
        set(kv, format!("{prefix}_{key}"), format!("{med:.3}"));
        set(kv, format!("{prefix}_{key}_lo"), format!("{lo:.3}"));
        set(kv, format!("{prefix}_{key}_hi"), format!("{hi:.3}"));
        set(kv, "tp_ci_coverage", format!("{:.1}", cover * 100.0));
    }
    for m in methods {
        set(kv, format!("{prefix}_{m}_mb_s"), format!("{:.0}", med(m)));
        set(
            kv,
            format!("{prefix}_{m}_xfer_mb_s"),
            format!("{:.0}", own(m)),
        );
        let runs: Vec<String> = map[m].iter().map(|r| format!("{:.0}", mb_s(r.0))).collect();
        set(kv, format!("{prefix}_{m}_runs"), runs.join(","));
        let gib = bytes as f64 / f64::from(1u32 << 30);
        let cpu = median(map[m].iter().map(|r| r.1 / gib).collect());
        set(
            kv,
            format!("{prefix}_{m}_cpu_s_per_gib"),
            format!("{cpu:.2}"),
        );
    }
}

fn set(kv: &mut BTreeMap<String, String>, key: impl Into<String>, value: impl ToString) {
    kv.insert(key.into(), value.to_string());
}

#[test]
fn median_ci_takes_order_statistics_by_the_binomial() {
    let v: Vec<f64> = (1..=11).rev().map(f64::from).collect();
    let (med, lo, hi, cover) = median_ci(&v);
    assert_eq!((med, lo, hi), (6.0, 3.0, 9.0));
    assert!((cover - 1914.0 / 2048.0).abs() < 1e-12, "{cover}");
    let (med, lo, hi, cover) = median_ci(&[5.0, 1.0, 4.0, 2.0, 3.0, 9.0, 8.0, 7.0, 6.0]);
    assert_eq!((med, lo, hi), (5.0, 2.0, 8.0));
    assert!((cover - 492.0 / 512.0).abs() < 1e-12, "{cover}");
    // Too few values for 90 %: the extremes, and what they cover.
    let (med, lo, hi, cover) = median_ci(&[2.0, 1.0, 4.0]);
    assert_eq!((med, lo, hi), (2.0, 1.0, 4.0));
    assert!((cover - 0.75).abs() < 1e-12, "{cover}");
}
