//! `cargo xtask bench`: run every benchmark and rewrite BENCHMARKS.md.
//!
//! Each figure is measured against a baseline in the same run (these
//! machines are noisy, so only ratios and same-run comparisons count).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};

use crate::{output, root, run};

fn kv(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// Median wall time of `runs` executions of a command (output discarded).
fn median_cmd(mut make: impl FnMut() -> Command, runs: usize) -> Result<Duration> {
    let mut times = Vec::new();
    for _ in 0..runs {
        let mut cmd = make();
        let t = Instant::now();
        let out = cmd
            .output()
            .with_context(|| format!("cannot run {cmd:?}"))?;
        let el = t.elapsed();
        if !out.status.success() {
            bail!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        times.push(el);
    }
    times.sort();
    Ok(times[times.len() / 2])
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    format!("{cpu}, {cores} cores")
}

fn date() -> String {
    Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

pub(crate) fn run_all() -> Result<()> {
    let root = root();
    // `cargo xtask bench gateway|lxc|plugin|ha`: only that section of
    // BENCHMARKS.md is measured and replaced; the others are kept.
    if let Some(name) = std::env::args().nth(2) {
        let (heading, section) = match name.as_str() {
            "gateway" => (GATEWAY_HEADING, gateway_section(&root)?),
            "lxc" => (LXC_HEADING, lxc_section(&root)?),
            "plugin" => (PLUGIN_HEADING, plugin_section(&root)?),
            "ha" => (HA_HEADING, ha_section(&root)?),
            "metrics" => (METRICS_HEADING, metrics_section(&root)?),
            "ad" => (AD_HEADING, ad_section(&root)?),
            other => {
                bail!(
                    "unknown benchmark section `{other}`: gateway, lxc, plugin, ha, metrics or ad"
                )
            }
        };
        let path = root.join("BENCHMARKS.md");
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        let md = replace_section(&old, heading, &section);
        std::fs::write(&path, &md)?;
        print!("{section}");
        return Ok(());
    }
    // smbconf: parse throughput.
    let out = output(
        Command::new("cargo")
            .current_dir(&root)
            .args(["bench", "-p", "smbconf", "--bench", "parse", "--quiet"]),
    )?;
    let parse = kv(&String::from_utf8_lossy(&out));
    // smbconf: our canonical form vs testparm on the same file.
    let dir = crate::tempdir_path("bench")?;
    let file = dir.join("smb.conf");
    run(Command::new("cargo")
        .current_dir(&root)
        .env("SMBGW_BENCH_FILE", &file)
        .args([
            "bench", "-p", "smbconf", "--bench", "parse", "--quiet", "--", "--write",
        ]))?;
    run(Command::new("cargo").current_dir(&root).args([
        "build",
        "--release",
        "-p",
        "pve-smbgateway",
        "--quiet",
    ]))?;
    let ours = root.join("target/release/pve-smbgateway");
    let same = {
        let a = Command::new(&ours)
            .args(["conf", "canonical"])
            .arg(&file)
            .output()?;
        let b = Command::new("testparm")
            .args(["-s", "--suppress-prompt"])
            .arg(&file)
            .output()?;
        a.stdout == b.stdout
    };
    let t_ours = median_cmd(
        || {
            let mut c = Command::new(&ours);
            c.args(["conf", "canonical"]).arg(&file);
            c
        },
        7,
    )?;
    let t_testparm = median_cmd(
        || {
            let mut c = Command::new("testparm");
            c.args(["-s", "--suppress-prompt"]).arg(&file);
            c
        },
        7,
    )?;
    let _ = std::fs::remove_dir_all(&dir);

    let g = |k: &str| parse.get(k).cloned().unwrap_or_else(|| "?".into());
    let speedup = t_testparm.as_secs_f64() / t_ours.as_secs_f64();
    let mut md = String::new();
    let _ = writeln!(md, "# Benchmarks\n");
    let _ = writeln!(md, "Produced by `cargo xtask bench` on {} ({}). Every figure is compared with a baseline measured in the same run.\n", date(), machine());
    let _ = writeln!(md, "## smbconf\n");
    let _ = writeln!(md, "Input: a generated smb.conf with 10,000 shares ({} bytes; `crates/smbconf/benches/parse.rs`).\n", g("file_bytes"));
    let _ = writeln!(
        md,
        "| figure | value | baseline (same run) | target | command |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|");
    let _ = writeln!(md, "| lossless parse (`Document::parse`) | {} MB/s | splitting lines: {} MB/s | ≥ 50 MB/s | `cargo bench -p smbconf --bench parse` |", g("document_parse_mb_s"), g("baseline_lines_mb_s"));
    let _ = writeln!(md, "| effective config (`Config::load`) | {} MB/s | | | `cargo bench -p smbconf --bench parse` |", g("config_load_mb_s"));
    let _ = writeln!(md, "| `pve-smbgateway conf canonical` vs `testparm -s` (median of 7, whole process) | {:.1} ms | testparm: {:.1} ms → **{speedup:.1}x faster**; outputs identical: {same} | ≥ 20x | `cargo xtask bench` |", t_ours.as_secs_f64() * 1e3, t_testparm.as_secs_f64() * 1e3);
    // backends: cheap vs exact usage, create + destroy cycle.
    let out = output(
        Command::new("cargo")
            .current_dir(&root)
            .env("SMBGW_REQUIRE_REAL", "1")
            .args([
                "test",
                "--release",
                "-q",
                "-p",
                "backends",
                "--test",
                "it",
                "bench_backends",
            ])
            .args(["--", "--ignored", "--nocapture"]),
    )?;
    let _ = writeln!(md, "\n## backends\n");
    let _ = writeln!(md, "Cheap usage is one `statvfs` on the served path (no process); exact usage goes through the tool (Dir: a walk of 2,000 files; ZFS: `zfs get -Hp`; CephFS: `ceph fs subvolume info`; RBD: `rbd du`). Medians: 1,000 cheap calls, 10 exact calls, 10 create + destroy cycles. ZFS is zfs-fuse on a sparse file; Ceph is a single-node Pacific cluster (memstore) on loopback, CephFS through ceph-fuse, RBD through rbd-fuse + loop + XFS. Command: `cargo test --release -p backends --test it bench_backends -- --ignored --nocapture` (inside `cargo xtask bench`).\n");
    let _ = writeln!(md, "| backend | cheap usage | exact usage (baseline) | exact / cheap (target ≥ 50x, cheap < 1 ms) | create + destroy cycle |");
    let _ = writeln!(md, "|---|---|---|---|---|");
    for line in String::from_utf8_lossy(&out)
        .lines()
        .filter(|l| l.starts_with("backend="))
    {
        let f: BTreeMap<String, String> = line
            .split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let g = |k: &str| f.get(k).cloned().unwrap_or_else(|| "?".into());
        let _ = writeln!(
            md,
            "| {} | {} µs | {} µs | {}x | {} ms |",
            g("backend"),
            g("cheap_us"),
            g("exact_us"),
            g("ratio"),
            g("cycle_ms")
        );
    }
    md.push_str(&gateway_section(&root)?);
    md.push_str(&lxc_section(&root)?);
    md.push_str(&plugin_section(&root)?);
    md.push_str(&ha_section(&root)?);
    md.push_str(&metrics_section(&root)?);
    md.push_str(&ad_section(&root)?);
    std::fs::write(root.join("BENCHMARKS.md"), &md)?;
    print!("{md}");
    if !same {
        bail!("our canonical output differs from testparm's on the benchmark file");
    }
    Ok(())
}

const METRICS_HEADING: &str = "## metrics";

/// The metrics benchmark (crates/cli/tests/it/metrics.rs).
const METRICS_ARGS: &[&str] = &ignored_test("pve-smbgateway", "bench_metrics");

fn metrics_section(root: &std::path::Path) -> Result<String> {
    Ok(render_metrics(&bench_test(
        root,
        "metrics",
        METRICS_ARGS,
        &[],
    )?))
}

fn render_metrics(f: &BTreeMap<String, String>) -> String {
    let s = |k: &str| f.get(k).cloned().unwrap_or_else(|| "?".into());
    let n = |k: &str| f.get(k).and_then(|v| v.parse::<f64>().ok());
    let met = |ok: Option<bool>| match ok {
        Some(true) => "yes",
        Some(false) => "**no**",
        None => "?",
    };
    let cmd = "`cargo xtask bench metrics`";
    let mut md = String::new();
    let _ = writeln!(md, "\n{METRICS_HEADING}\n");
    let _ = writeln!(
        md,
        "Measured on {} ({}) by `SMBGW_REQUIRE_REAL=1 cargo {}`: 100 native shares on a private smbd (loopback), medians of 7. The collection is the whole `pve-smbgateway metrics --output-format json` process (registry, two smbstatus runs for all shares, a statvfs per share); its baseline is one `smbstatus --json` of the same smbd in the same run. The overhead is the time of a {} MiB download through smbclient with `smbd profiling level = count` (what the gateway sets) against `off`, interleaved, smbd restarted for each.\n",
        date(),
        machine(),
        METRICS_ARGS.join(" "),
        s("metrics_get_mib"),
    );
    figure_table_header(&mut md);
    let collect = n("metrics_collect_ms");
    let _ = writeln!(
        md,
        "| collection for 100 shares (runs ms: {}; in-process {} ms; {} processes started) | {} ms | one `smbstatus --json`: {} ms | {} | < 200 ms | {} | {cmd} |",
        s("metrics_collect_runs"),
        s("metrics_inner_ms"),
        s("metrics_spawns"),
        s("metrics_collect_ms"),
        s("metrics_smbstatus_ms"),
        match (collect, n("metrics_smbstatus_ms")) {
            (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
            _ => "?".into(),
        },
        met(collect.map(|v| v < 200.0)),
    );
    let _ = writeln!(
        md,
        "| collection of one LXC-mode share (`metrics SHARE`: one lxc-attach running both smbstatus in the container) | {} ms | — | — | — | — | {cmd} |",
        s("metrics_lxc_share_ms"),
    );
    let overhead = n("metrics_overhead_pct");
    let _ = writeln!(
        md,
        "| SMB throughput cost of the counters (download time with them vs without; below zero is noise) | {} ms per download | profiling off: {} ms | {} % | < 2 % | {} | {cmd} |",
        s("metrics_get_counting_ms"),
        s("metrics_get_off_ms"),
        s("metrics_overhead_pct"),
        met(overhead.map(|v| v < 2.0)),
    );
    md
}

const HA_HEADING: &str = "## HA: CTDB failover";

/// The failover test (crates/cli/tests/it/failover.rs): five runs of a
/// ctdbd crash and a link loss of the node holding the floating address.
const HA_ARGS: &[&str] = &[
    "test",
    "--release",
    "-p",
    "pve-smbgateway",
    "--test",
    "it",
    "failover_after_ctdbd_crash_and_link_loss_five_times",
    "--",
    "--nocapture",
    "--test-threads=1",
];

/// Runs the failover test and renders its section.
fn ha_section(root: &std::path::Path) -> Result<String> {
    Ok(render_ha(&bench_test(root, "ha", HA_ARGS, &[])?))
}

/// The HA section from the failover test's `key=value` lines.
fn render_ha(f: &BTreeMap<String, String>) -> String {
    let s = |k: &str| f.get(k).cloned().unwrap_or_else(|| "?".into());
    let under = |k: &str, limit_ms: f64| match f.get(k).and_then(|v| v.parse::<f64>().ok()) {
        Some(v) if v < limit_ms => "yes",
        Some(_) => "**no**",
        None => "?",
    };
    let ratio = |k: &str, baseline_ms: f64| {
        f.get(k)
            .and_then(|v| v.parse::<f64>().ok())
            .map_or("?".into(), |v| format!("{:.2}", v / baseline_ms))
    };
    let cmd = "`cargo xtask bench ha`";
    let mut md = String::new();
    let _ = writeln!(md, "\n{HA_HEADING}\n");
    let _ = writeln!(
        md,
        "Measured on {} ({}) by `SMBGW_REQUIRE_REAL=1 cargo {}`. Three nodes in network namespaces on one bridge, each running ctdbd 4.17 and smbd with `clustering = yes` from the files `pve-smbgateway ctdb render` writes (quorum cluster lock on the shared directory, fast failure detection: keepalive 1 s × 3, leader timeout 2 s, re-recovery 3 s); a client namespace writes 3 files through the floating address, then the node holding it fails. Time = from the failure until a NEW smbclient connection to the floating address reads back every file written so far ({} files in the end, none lost). Each of the {} runs does both failures to the node holding the address, which is, by turns, the CTDB leader or not (link loss: the leader on odd runs; crash: the leader on even runs), so both roles are measured. The lock file is on a directory every namespace shares (one kernel), so link loss here is a partition: the cut-off node is alive and releases the quorum lock itself. A host that dies with its lock on a network filesystem is bounded also by how fast that filesystem releases a dead client's lock (RADOS lock: its lease). The baseline is CTDB's defaults as measured in ../shared/notes/real-components.md (27.6 s link loss); the product target is 30 s.\n",
        date(),
        machine(),
        HA_ARGS.join(" "),
        s("failover_files"),
        s("failover_runs"),
    );
    let _ = writeln!(
        md,
        "| figure | ours (median) | runs (ms) | vs CTDB defaults (27.6 s) | target | met | command |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|");
    let _ = writeln!(
        md,
        "| link loss of the holder (partition) | {} ms (leader cut off: {} ms, other node: {} ms) | {} | {} | < 10 s | {} | {cmd} |",
        s("link_median_ms"),
        s("link_leader_median_ms"),
        s("link_other_median_ms"),
        s("link_ms"),
        ratio("link_median_ms", 27_600.0),
        under("link_median_ms", 10_000.0)
    );
    let _ = writeln!(
        md,
        "| ctdbd crash (SIGKILL) of the holder | {} ms (holder was leader in {} runs: {} ms; other: {} ms) | {} | — | < 3 s | {} | {cmd} |",
        s("crash_median_ms"),
        s("crash_leader_runs"),
        s("crash_leader_median_ms"),
        s("crash_other_median_ms"),
        s("crash_ms"),
        under("crash_median_ms", 3_000.0)
    );
    let _ = writeln!(
        md,
        "\nWhat the figures are made of: a node's link loss is noticed after 3 missed keepalives (~3 s); when the cut-off node is the leader, it gives up the quorum lock once it sees no majority (two polls, 0.5 s apart) and the others elect a leader at their next try (leader timeout 2 s), then recover and move the address (~0.2 s). With CTDB's own fcntl helper the cut-off leader would keep the lock and the address would never move (observed). A crash is seen at once (the TCP connection drops); a crashed leader is replaced only after the leader timeout (CTDB 4.17 waits for it even when it has seen the leader's ctdbd die), so that case is slower. The rest is the client: a connection attempt that raced the takeover waits for TCP's 1 s SYN retransmission.\n\nKnown limits, observed while building the test: `ctdb moveip` and a leader that dies during a takeover run leave takeover runs disabled on the other nodes for 20–60 s, during which nothing fails over; the test measures from a settled cluster (healthy for 2 s) and waits out a `moveip`."
    );
    md
}

const LXC_HEADING: &str = "## LXC mode (plain LXC driver)";

/// The test that measures LXC mode (crates/cli/tests/it/lxc.rs).
const LXC_ARGS: &[&str] = &ignored_test("pve-smbgateway", "bench_lxc");

/// `cargo` arguments running the ignored (benchmark) test `test` of
/// package `pkg`'s `it` test binary, in release mode, alone.
const fn ignored_test(pkg: &'static str, test: &'static str) -> [&'static str; 11] {
    [
        "test",
        "--release",
        "-p",
        pkg,
        "--test",
        "it",
        test,
        "--",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]
}

/// Runs `cargo ARGS` with `SMBGW_REQUIRE_REAL=1` (plus `env`) for the
/// benchmark `what` and returns the `key=value` figures it printed.
fn bench_test(
    root: &std::path::Path,
    what: &str,
    args: &[&str],
    env: &[(&str, &std::ffi::OsStr)],
) -> Result<BTreeMap<String, String>> {
    eprintln!(
        "xtask: running SMBGW_REQUIRE_REAL=1 cargo {} (minutes)",
        args.join(" ")
    );
    let mut cmd = Command::new("cargo");
    cmd.current_dir(root)
        .env("SMBGW_REQUIRE_REAL", "1")
        // Every figure is measured the way BENCHMARKS.md says.
        .env_remove("SMBGW_BENCH_TP_RUNS")
        .env_remove("SMBGW_BENCH_TP_MIB")
        .env_remove("SMBGW_FAILOVER_RUNS")
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().with_context(|| format!("{what} benchmark"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "{what} benchmark failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(kv(&stdout))
}

/// Runs the LXC benchmark and renders its section.
fn lxc_section(root: &std::path::Path) -> Result<String> {
    Ok(render_lxc(&bench_test(root, "lxc", LXC_ARGS, &[])?))
}

/// The `key=value` figures a benchmark test printed, formatted for a
/// table ("?" for a figure it did not print).
struct Figures<'a>(&'a BTreeMap<String, String>);

impl Figures<'_> {
    fn text(&self, k: &str) -> String {
        self.0.get(k).cloned().unwrap_or_else(|| "?".into())
    }

    fn num(&self, k: &str) -> Option<f64> {
        self.0.get(k).and_then(|v| v.parse::<f64>().ok())
    }

    /// A figure in KiB as MiB.
    fn mb(&self, k: &str) -> String {
        self.num(k)
            .map_or("?".into(), |v| format!("{:.1} MB", v / 1024.0))
    }

    fn ratio(&self, a: &str, b: &str) -> String {
        match (self.num(a), self.num(b)) {
            (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
            _ => "?".into(),
        }
    }
}

fn render_lxc(f: &BTreeMap<String, String>) -> String {
    let fig = Figures(f);
    let (g, num) = (|k: &str| fig.text(k), |k: &str| fig.num(k));
    let (mb, ratio) = (|k: &str| fig.mb(k), |a: &str, b: &str| fig.ratio(a, b));
    let under =
        |k: &str, limit_kb: f64| num(k).map_or("?", |v| if v <= limit_kb { "yes" } else { "no" });
    let cmd = "`cargo xtask bench lxc`";
    let mut md = String::new();
    let _ = writeln!(md, "\n{LXC_HEADING}\n");
    let _ = writeln!(
        md,
        "Measured on {} ({}) by `SMBGW_REQUIRE_REAL=1 cargo {}` (`crates/cli/tests/it/lxc.rs`). Unprivileged containers from the prepared template (Debian 12 minbase + Samba, debootstrap, built once), a directory volume bind-mounted with an idmapped mount, loopback-only network. MB = 2^20 bytes here.\n",
        date(),
        machine(),
        LXC_ARGS.join(" ")
    );
    figure_table_header(&mut md);
    let served = num("lxc_create_served_ms");
    let _ = writeln!(
        md,
        "| create → served (`create` until an `smbclient ls` through the container's smbd succeeds), median of 7 (runs ms: {}) | {} ms | — | — | < 15 s | {} | {cmd} |",
        g("lxc_create_served_runs"),
        g("lxc_create_served_ms"),
        served.map_or("?", |v| if v < 15_000.0 { "yes" } else { "no" })
    );
    let _ = writeln!(
        md,
        "| idle memory of a share container: memory cgroup usage (median of 5 samples, 10 s after start) | {} | Debian's setup in the same rootfs (systemd as init, Debian's default smb.conf + the share; journald, console getty, smbd, nmbd when it starts): {} | {} | ≤ 32 MB | {} | {cmd} |",
        mb("lxc_mem_ours_cgroup_kb"),
        mb("lxc_mem_default_cgroup_kb"),
        ratio("lxc_mem_ours_cgroup_kb", "lxc_mem_default_cgroup_kb"),
        under("lxc_mem_ours_cgroup_kb", 32.0 * 1024.0)
    );
    let _ = writeln!(
        md,
        "| idle memory: PSS summed over the container's processes ({} processes; baseline {}) | {} | {} | {} | ≤ 32 MB | {} | {cmd} |",
        g("lxc_mem_ours_procs"),
        g("lxc_mem_default_procs"),
        mb("lxc_mem_ours_pss_kb"),
        mb("lxc_mem_default_pss_kb"),
        ratio("lxc_mem_ours_pss_kb", "lxc_mem_default_pss_kb"),
        under("lxc_mem_ours_pss_kb", 32.0 * 1024.0)
    );
    let _ = writeln!(
        md,
        "| idle memory: the cgroup's anonymous memory (`total_rss`) / RSS summed over the processes (information) | {} / {} | {} / {} | — | — | — | {cmd} |",
        mb("lxc_mem_ours_cgroup_rss_kb"),
        mb("lxc_mem_ours_rss_kb"),
        mb("lxc_mem_default_cgroup_rss_kb"),
        mb("lxc_mem_default_rss_kb")
    );
    let _ = writeln!(
        md,
        "\nThe cgroup figure includes the page cache the container's processes touched (Samba's libraries). The baseline is not Proxmox's `debian-12-standard` template (not available here; it also runs postfix, cron and sshd), but the same rootfs with Samba as Debian's package sets it up, so the difference is what the gateway's generated configuration and its init (smbd itself: no systemd, no journald, no getty, no nmbd) save. PSS counts the library pages of the container's own copy of the template in full (no other process maps them); smbd's three processes are most of it: a plain-LXC share container runs smbd as its init (a template script brings loopback up and execs smbd; systemd stays only for DHCP, and on Proxmox, whose containers keep the template's systemd). The baseline keeps systemd as Debian's setup would."
    );
    md
}

const AD_HEADING: &str = "## Active Directory";

/// The test that measures AD joins (crates/cli/tests/it/ad.rs).
const AD_ARGS: &[&str] = &ignored_test("pve-smbgateway", "bench_ad");

/// Runs the AD benchmark and renders its section.
fn ad_section(root: &std::path::Path) -> Result<String> {
    Ok(render_ad(&bench_test(root, "ad", AD_ARGS, &[])?))
}

fn render_ad(f: &BTreeMap<String, String>) -> String {
    let fig = Figures(f);
    let (g, num) = (|k: &str| fig.text(k), |k: &str| fig.num(k));
    let (mb, ratio) = (|k: &str| fig.mb(k), |a: &str, b: &str| fig.ratio(a, b));
    let cmd = "`cargo xtask bench ad`";
    let mut md = String::new();
    let _ = writeln!(md, "\n{AD_HEADING}\n");
    let _ = writeln!(
        md,
        "Measured on {} ({}) by `SMBGW_REQUIRE_REAL=1 cargo {}` (`crates/cli/tests/it/ad.rs`). A Samba 4.17 AD DC (`samba-tool domain provision`) in a network namespace of the test's own; the gateway in the same namespace (native: a private smbd + winbindd; LXC: an unprivileged plain-LXC container from the prepared template on the DC's bridge). Join time = from the start of `create` until `smbclient --use-kerberos=required` (alice's ticket from kinit) has written a file through the new share; it includes the DNS/DC/clock checks, `net ads join`, winbindd reaching the DC and (LXC) creating and starting the container. MB = 2^20 bytes.\n",
        date(),
        machine(),
        AD_ARGS.join(" ")
    );
    figure_table_header(&mut md);
    let _ = writeln!(
        md,
        "| join time, native mode: create → first Kerberos-authenticated write, median of 5 (runs ms: {}) | {} ms | — | — | — | — | {cmd} |",
        g("ad_join_native_runs"),
        g("ad_join_native_ms"),
    );
    let _ = writeln!(
        md,
        "| join time, LXC mode (container created, started and joined), median of 5 (runs ms: {}) | {} ms | — | — | — | — | {cmd} |",
        g("ad_join_lxc_runs"),
        g("ad_join_lxc_ms"),
    );
    let _ = writeln!(
        md,
        "| idle memory of an AD-joined LXC gateway (smbd + winbindd, {} processes): memory cgroup usage, median of 5 samples 10 s after the join | {} | a workgroup share container of the same template ({} processes): {} | {} | ≤ 48 MB | {} | {cmd} |",
        g("ad_mem_ad_procs"),
        mb("ad_mem_ad_cgroup_kb"),
        g("ad_mem_workgroup_procs"),
        mb("ad_mem_workgroup_cgroup_kb"),
        ratio("ad_mem_ad_cgroup_kb", "ad_mem_workgroup_cgroup_kb"),
        num("ad_mem_ad_cgroup_kb").map_or("?", |v| if v <= 48.0 * 1024.0 { "yes" } else { "no" })
    );
    let _ = writeln!(
        md,
        "| idle memory of the AD-joined gateway: PSS summed over its processes (information) | {} | {} | {} | — | — | {cmd} |",
        mb("ad_mem_ad_pss_kb"),
        mb("ad_mem_workgroup_pss_kb"),
        ratio("ad_mem_ad_pss_kb", "ad_mem_workgroup_pss_kb"),
    );
    md
}

const PLUGIN_HEADING: &str = "## storage plugin (Perl → FFI → Rust)";

/// The test that measures the storage plugin
/// (crates/plugin-ffi/tests/it/bench.rs, running perl/bench/plugin.pl).
const PLUGIN_ARGS: &[&str] = &ignored_test("smbgw-plugin-ffi", "bench_plugin");

/// Runs the plugin benchmark and renders its section.
fn plugin_section(root: &std::path::Path) -> Result<String> {
    run(Command::new("cargo").current_dir(root).args([
        "build",
        "--release",
        "--quiet",
        "-p",
        "pve-smbgateway",
    ]))?;
    let cli = root.join("target/release/pve-smbgateway");
    let f = bench_test(
        root,
        "plugin",
        PLUGIN_ARGS,
        &[("SMBGW_CLI", cli.as_os_str())],
    )?;
    Ok(render_plugin(&f))
}

/// The storage plugin section from the benchmark's `key=value` lines.
fn render_plugin(f: &BTreeMap<String, String>) -> String {
    let s = |k: &str| f.get(k).cloned().unwrap_or_else(|| "?".into());
    let n = |k: &str| f.get(k).and_then(|v| v.parse::<f64>().ok());
    let met = |ok: Option<bool>| match ok {
        Some(true) => "yes",
        Some(false) => "**no**",
        None => "?",
    };
    let ffi_us = n("ffi_status_us");
    let ratio = n("cli_over_ffi");
    let status_met = match (ffi_us, ratio) {
        (Some(us), Some(r)) => Some(us < 2000.0 && r >= 20.0),
        _ => None,
    };
    let mut md = String::new();
    let _ = writeln!(md, "\n{PLUGIN_HEADING}\n");
    let _ = writeln!(
        md,
        "Measured on {} ({}) by `cargo xtask bench plugin`: it builds the CLI and runs `SMBGW_REQUIRE_REAL=1 SMBGW_CLI=target/release/pve-smbgateway cargo {}` (`crates/plugin-ffi/tests/it/bench.rs`, which runs `perl/bench/plugin.pl` in the gateway test sandbox against the release `libsmbgw_plugin.so`); it rewrites only this section. The share is a native directory share served by the sandbox's private smbd. Medians.\n",
        date(),
        machine(),
        PLUGIN_ARGS.join(" ")
    );
    let _ = writeln!(
        md,
        "| figure | value | baseline (same run) | ratio | target | met? |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|");
    let _ = writeln!(
        md,
        "| plugin `status` through Perl → FFI → Rust (registry read + one statvfs, no process; median of 5 rounds of 20,000 calls) | {} µs per call | shelling out to `pve-smbgateway status ID --output-format json` and decoding it (median of 30): {} ms | {}x | < 2 ms and ≥ 20x | {} |",
        s("ffi_status_us"),
        s("cli_status_ms"),
        s("cli_over_ffi"),
        met(status_met)
    );
    let _ = writeln!(
        md,
        "| same answer `(total, avail, used, active)` | {} | FFI: `{}`; CLI: `{}` | | equal (used within 1%: two statvfs calls) | {} |",
        if s("same_answer") == "1" { "yes" } else { "no" },
        s("ffi_answer"),
        s("cli_answer"),
        met(Some(s("same_answer") == "1"))
    );
    let _ = writeln!(
        md,
        "| plugin load: `perl -e 'use PVE::Storage::Plugin; use PVE::Storage::Custom::SMBGatewayPlugin'` (whole process, median of 15) | {} ms | `perl -e 1`: {} ms | | < 100 ms | {} |",
        s("load_ms"),
        s("perl_start_ms"),
        met(n("load_ms").map(|v| v < 100.0))
    );
    let _ = writeln!(
        md,
        "| load and first `status` call (FFI::Platypus and the library are loaded on first use) | {} ms | | | | |",
        s("load_first_call_ms")
    );
    let _ = writeln!(
        md,
        "\n`PVE::Storage::Plugin` is the test stand-in (perl/t/lib), far lighter than Proxmox's, which loads much of PVE; the plugin's own cost is the difference to `perl -e 1`. The CLI's `status` also asks Samba (`smbstatus`) for connections, which a plugin shelling out would pay on every pvestatd cycle."
    );
    md
}

const GATEWAY_HEADING: &str = "## gateway (native mode)";

/// The test that measures the gateway (crates/cli/tests/it/bench.rs).
const GATEWAY_ARGS: &[&str] = &ignored_test("pve-smbgateway", "bench_gateway");

/// The header of a figures table (figure, ours, baseline, ratio, target,
/// met, command).
fn figure_table_header(md: &mut String) {
    let _ = writeln!(
        md,
        "| figure | ours | baseline (same run) | ratio | target | met | command |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|");
}

/// `text` with the section starting at `heading` (up to the next `## `
/// heading) replaced by `section` (which starts with a blank line and the
/// heading, and ends with a newline), or with `section` appended.
fn replace_section(text: &str, heading: &str, section: &str) -> String {
    let (before, after) = match text.find(&format!("\n{heading}\n")) {
        Some(start) => {
            let body = start + 1 + heading.len();
            let after = text[body..]
                .find("\n## ")
                .map_or("", |i| &text[body + i + 1..]);
            (&text[..start], after)
        }
        None => (text, ""),
    };
    let mut out = before.trim_end().to_owned();
    out.push('\n');
    out.push_str(section);
    if !after.is_empty() {
        out.push('\n');
        out.push_str(after);
    }
    out
}

/// Runs the gateway benchmark and renders its section (starting with a
/// blank line and the heading).
fn gateway_section(root: &std::path::Path) -> Result<String> {
    Ok(render_gateway(&bench_test(
        root,
        "gateway",
        GATEWAY_ARGS,
        &[],
    )?))
}

/// The verdict when the median of the rounds is on the worse side but its
/// interval reaches equality: a difference the run cannot tell from noise.
const NOT_SHOWN: &str =
    "not shown: the median is on the worse side, but its interval reaches equality";

/// The verdict of an "ours no worse than the baseline" figure judged round
/// by round: `typical` is whether the median of the rounds is on the good
/// side (or equal), `reaches` whether its confidence interval reaches
/// equality.
fn no_worse(typical: Option<bool>, reaches: Option<bool>) -> &'static str {
    match (typical, reaches) {
        (Some(true), _) => "yes",
        (Some(false), Some(true)) => NOT_SHOWN,
        (Some(false), Some(false)) => "**no**",
        _ => "?",
    }
}

/// The gateway section from the benchmark's `key=value` lines.
fn render_gateway(f: &BTreeMap<String, String>) -> String {
    let s = |k: &str| f.get(k).cloned().unwrap_or_else(|| "?".into());
    let n = |k: &str| f.get(k).and_then(|v| v.parse::<f64>().ok());
    let mib = |k: &str| n(k).map_or("?".into(), |v| format!("{:.1} MiB", v / 1024.0));
    let yes = |ok: Option<bool>| match ok {
        Some(true) => "yes",
        Some(false) => "**no**",
        None => "?",
    };
    let ratio = |a: &str, b: &str| match (n(a), n(b)) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
        _ => "?".into(),
    };
    let cmd = "`cargo xtask bench gateway`";
    let mut md = String::new();
    let _ = writeln!(md, "\n{GATEWAY_HEADING}\n");
    let _ = writeln!(
        md,
        "Measured on {} ({}) by `SMBGW_REQUIRE_REAL=1 cargo {}` (`crates/cli/tests/it/bench.rs`; `cargo xtask bench gateway` runs only this part and rewrites only this section). The gateway runs in the test sandbox: a private smbd on a loopback port, started by the gateway from the smb.conf it generates; the SMB client (smbclient) runs on the same machine. Medians; warm-up runs discarded. MB = 10^6 bytes.\n",
        date(),
        machine(),
        GATEWAY_ARGS.join(" ")
    );
    let _ = writeln!(
        md,
        "| figure | value | baseline (same run) | ratio | target | met? | command |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|");
    let served = n("create_served_ms");
    let _ = writeln!(
        md,
        "| create → served: `create sN --mode native` (Dir) until `smbclient ls` on it succeeds; median of {} after 2 warm-up | {} ms (the create alone: {} ms; failed `ls` before success: {}) | one `smbclient ls` on a served share: {} ms; `testparm -s` on the config: {} ms; entering the test's mount namespace: {} ms | {} × (ls + testparm) | < 1 s | {} | {cmd} |",
        s("create_runs"),
        s("create_served_ms"),
        s("create_only_ms"),
        s("create_ls_retries"),
        s("ls_ms"),
        s("testparm_ms"),
        s("ns_ms"),
        match (served, n("ls_ms"), n("testparm_ms")) {
            (Some(v), Some(l), Some(t)) if l + t > 0.0 => format!("{:.1}", v / (l + t)),
            _ => "?".into(),
        },
        yes(served.map(|v| v < 1000.0)),
    );
    let list = n("list_1000_ms");
    let _ = writeln!(
        md,
        "| `list --output-format json`, 1,000 shares ({} bytes of registry), whole process; median of {} | {} ms | empty registry (process start): {} ms | {} × | < 50 ms | {} | {cmd} |",
        s("list_registry_bytes"),
        s("list_runs"),
        s("list_1000_ms"),
        s("list_empty_ms"),
        ratio("list_1000_ms", "list_empty_ms"),
        yes(list.map(|v| v < 50.0)),
    );
    for (what, p, how) in [
        (
            "write",
            "write",
            "`smbclient put` of a random file from tmpfs (no flush: smbd does not fsync)",
        ),
        (
            "read",
            "read",
            "`smbclient get` to /dev/null, the file's page cache dropped before each run (`posix_fadvise` DONTNEED, both sides)",
        ),
    ] {
        // Judged on the median of the rounds' ratios (a round's transfers
        // ran next to each other), not on the ratio of the two medians,
        // which one method's outliers move.
        let r = n(&format!("{p}_paired_ratio"));
        let _ = writeln!(
            md,
            "| SMB {what}, {} MiB, zfs-fuse dataset, loopback, share as created (encryption `auto`: {}): {how}; whole smbclient process; median of {} after 1 warm-up (runs: {}) | {} MB/s (the transfer alone, by smbclient's own timer: {} MB/s) | local `dd bs={}` on the dataset: {} MB/s (runs: {}; by dd's own timer: {} MB/s) | round by round: median {}, {} % interval {}–{} (ratio of the medians: {}; transfer alone: {}) | ≥ 0.85 (round-by-round median) | {} | {cmd} |",
            s("tp_mib"),
            s("tp_ours_encryption"),
            s("tp_runs"),
            s(&format!("{p}_ours_runs")),
            s(&format!("{p}_ours_mb_s")),
            s(&format!("{p}_ours_xfer_mb_s")),
            s("tp_block"),
            s(&format!("{p}_local_mb_s")),
            s(&format!("{p}_local_runs")),
            s(&format!("{p}_local_xfer_mb_s")),
            s(&format!("{p}_paired_ratio")),
            s("tp_ci_coverage"),
            s(&format!("{p}_paired_ratio_lo")),
            s(&format!("{p}_paired_ratio_hi")),
            s(&format!("{p}_ratio")),
            s(&format!("{p}_xfer_ratio")),
            yes(r.map(|v| v >= 0.85)),
        );
    }
    for (what, p) in [("write", "write"), ("read", "read")] {
        let _ = writeln!(
            md,
            "| the same SMB {what} through a share created with `--encryption desired` (same smbd, same dataset; runs: {}) | {} MB/s | local `dd`: {} MB/s | {} | (explains the row above) | — | {cmd} |",
            s(&format!("{p}_ours_desired_runs")),
            s(&format!("{p}_ours_desired_mb_s")),
            s(&format!("{p}_local_mb_s")),
            ratio(&format!("{p}_ours_desired_mb_s"), &format!("{p}_local_mb_s")),
        );
    }
    for (what, p) in [("write", "write"), ("read", "read")] {
        // Faster or as fast in the typical round: yes; slower in the
        // typical round but by less than this run can tell from its noise
        // (the interval reaches 1): "not shown"; otherwise no.
        let verdict = no_worse(
            n(&format!("{p}_ours_vs_default_paired")).map(|m| m >= 1.0),
            n(&format!("{p}_ours_vs_default_paired_hi")).map(|h| h >= 1.0),
        );
        let _ = writeln!(
            md,
            "| our smb.conf vs Debian's default, SMB {what}, same dataset, same run (runs: ours {}; default {}) | ours: {} MB/s; ours with `--encryption desired`: {} MB/s | Debian's default smb.conf: {} MB/s (encryption: {}) | {} (ours / default, medians); round by round: median {}, {} % interval {}–{}; {} (ours `desired` / default) | ours no slower | {} | {cmd} |",
            s(&format!("{p}_ours_runs")),
            s(&format!("{p}_default_runs")),
            s(&format!("{p}_ours_mb_s")),
            s(&format!("{p}_ours_desired_mb_s")),
            s(&format!("{p}_default_mb_s")),
            s("tp_default_encryption"),
            s(&format!("{p}_ours_vs_default")),
            s(&format!("{p}_ours_vs_default_paired")),
            s("tp_ci_coverage"),
            s(&format!("{p}_ours_vs_default_paired_lo")),
            s(&format!("{p}_ours_vs_default_paired_hi")),
            ratio(&format!("{p}_ours_desired_mb_s"), &format!("{p}_default_mb_s")),
            verdict,
        );
    }
    for (what, p) in [("write", "write"), ("read", "read")] {
        let _ = writeln!(
            md,
            "| CPU seconds per GiB on the data path, {what} (SMB: smbclient + the connection's smbd + zfs-fuse; local: dd + zfs-fuse) | ours: {}; ours with `--encryption desired`: {}; Debian's default: {} | local `dd`: {} | {} (ours / local); {} (`desired` / local) | — | — | {cmd} |",
            s(&format!("{p}_ours_cpu_s_per_gib")),
            s(&format!("{p}_ours_desired_cpu_s_per_gib")),
            s(&format!("{p}_default_cpu_s_per_gib")),
            s(&format!("{p}_local_cpu_s_per_gib")),
            ratio(
                &format!("{p}_ours_cpu_s_per_gib"),
                &format!("{p}_local_cpu_s_per_gib")
            ),
            ratio(
                &format!("{p}_ours_desired_cpu_s_per_gib"),
                &format!("{p}_local_cpu_s_per_gib")
            ),
        );
    }
    let _ = writeln!(
        md,
        "| SMB read, file in the page cache (information: local `dd` then only copies memory) | ours: {} MB/s; `--encryption desired`: {} MB/s; Debian's default: {} MB/s | local `dd`: {} MB/s | {} | — | — | {cmd} |",
        s("read_warm_ours_mb_s"),
        s("read_warm_ours_desired_mb_s"),
        s("read_warm_default_mb_s"),
        s("read_warm_local_mb_s"),
        s("read_warm_ratio"),
    );
    // A round-by-round PSS difference: its median, interval (`coverage`
    // names it) and rounds.
    let pss_diff = |key: &str, coverage: &str| {
        format!(
            "median {} KiB, {coverage}interval {}…{} KiB (rounds: {})",
            s(&format!("{key}_kb")),
            s(&format!("{key}_lo_kb")),
            s(&format!("{key}_hi_kb")),
            s(&format!("{key}_runs")),
        )
    };
    // As for throughput: yes when ours is lower or equal in the typical
    // round, "not shown" when higher by less than the run can tell (the
    // interval reaches 0); the A/A control shows how far two equal smbds
    // differ in this run.
    let mem_verdict = no_worse(
        n("mem_idle_pss_diff_kb").map(|m| m <= 0.0),
        n("mem_idle_pss_diff_lo_kb").map(|l| l <= 0.0),
    );
    let _ = writeln!(
        md,
        "| idle memory of the smbd process tree, no client: {} rounds, each restarting four smbds side by side (ours; Debian's default; Debian's default again, the A/A control; Debian's default with our malloc setting; balanced start order; the Debian-default ones from a copy of our smbd's state files, except gencache.tdb) and taking the median of 5 samples a second apart; PSS (RSS; USS = private pages), processes, median of the rounds | ours: {} ({}; {}), {} | Debian's default smb.conf: {} ({}; {}), {} | ours − default, PSS, round by round: {}; by part, median of the rounds (KiB): {}; A/A control (default again − default): {}; our malloc setting alone (Debian's default started with it − without): {}; {} (PSS ratio); {} (USS) | ours ≤ default | {} | {cmd} |",
        s("mem_rounds"),
        mib("mem_idle_ours_pss_kb"),
        mib("mem_idle_ours_rss_kb"),
        mib("mem_idle_ours_uss_kb"),
        s("mem_idle_ours_procs"),
        mib("mem_idle_default_pss_kb"),
        mib("mem_idle_default_rss_kb"),
        mib("mem_idle_default_uss_kb"),
        s("mem_idle_default_procs"),
        pss_diff("mem_idle_pss_diff", &format!("{} % ", s("mem_ci_coverage"))),
        s("mem_idle_pss_diff_parts"),
        pss_diff("mem_idle_aa_pss_diff", ""),
        pss_diff("mem_idle_tuned_pss_diff", ""),
        ratio("mem_idle_ours_pss_kb", "mem_idle_default_pss_kb"),
        ratio("mem_idle_ours_uss_kb", "mem_idle_default_uss_kb"),
        mem_verdict,
    );
    let _ = writeln!(
        md,
        "| the same with one idle connected client each | ours: {} ({}; {}), {} | Debian's default: {} ({}; {}), {} | {} (PSS); {} (USS) | — | — | {cmd} |",
        mib("mem_client_ours_pss_kb"),
        mib("mem_client_ours_rss_kb"),
        mib("mem_client_ours_uss_kb"),
        s("mem_client_ours_procs"),
        mib("mem_client_default_pss_kb"),
        mib("mem_client_default_rss_kb"),
        mib("mem_client_default_uss_kb"),
        s("mem_client_default_procs"),
        ratio("mem_client_ours_pss_kb", "mem_client_default_pss_kb"),
        ratio("mem_client_ours_uss_kb", "mem_client_default_uss_kb"),
    );
    let _ = writeln!(
        md,
        "\nThroughput setup: a zfs-fuse pool on a sparse file whose pages stay in the host's page cache, and zfs-fuse under eatmydata (the \"disk\" is RAM, so the figures measure the software stack: zfs-fuse flushes the pool file at every transaction group, and with those fsyncs reaching this machine's virtual disk single 1 GiB writes took 330 to 730 MB/s on both sides, and five runs of this benchmark gave write ratios 0.62, 0.74, 0.84, 0.97 and 1.19; a pool file on tmpfs instead steadied the writes too but made local cold reads a little faster and SMB reads slower, 0.854 of local against 0.898 in an interleaved A/B); both smbds serve the same dataset; smbd reads and writes in 8 MiB calls (the SMB2 maximum; seen with strace), hence `dd bs=8M`; a `sync` (not timed) follows every transfer; smbclient's time is its whole process (connect and session setup included, see the `ls` row), and that ratio is the one held to the target; the transfer alone, by each tool's own timer (smbclient's average rate, dd's \"copied\" line), is shown beside it. Debian's default is `/usr/share/samba/smb.conf` with its [global] kept as it is plus only the sandboxing (state, lock, pid, private, cache directories, port, `interfaces = lo`, passdb, `rpc start on demand helpers = no`), [homes], [printers] and [print$] dropped, and the share written by hand (`path`, `read only = no`, `valid users`, and `force group`, which the gateway's volume needs).\n"
    );
    let _ = writeln!(
        md,
        "Where our smb.conf differs from Debian's default it is in security and footprint settings (SMB2_10 minimum, no guest, NTLMv2 only, no NetBIOS, no printing, no usershares, a smaller gencache) and in the profiling counters the metrics read; no performance setting in smb.conf differs. Idle memory, by part: Samba creates gencache.tdb (its cache of name, SID and id lookups) with 10,000 hash chains and a robust mutex of 40 bytes per chain, which smbd initializes when it starts, so about 390 KiB of it is resident in every smbd; our configuration creates it with 2003 chains (`gencache:hash_size`, an option of Samba's source, not of its manual; read when the file is created; the e2e test `private_smbd_creates_a_small_gencache` checks the file and smbd's resident part of it). `smbd profiling level = count` (the counters `metrics` reads) costs smbprofile.tdb: storing one process's counters (3.5 KiB) grew the file from 8 KiB to 448 KiB, and the idle smbd's processes had 72 to 124 KiB of it resident (PSS, eight rounds). Before the gencache setting, ours was 74 to 171 KiB above Debian's default in the median of each of seven runs of this benchmark, and a per-mapping comparison of the two trees in its sandbox put about 100 KiB of it (72 to 124 in eight rounds) on smbprofile.tdb, the rest in the noise of library pages (the A/A control's size); the \"by part\" figures of the memory row show each part's share in this run. The one performance difference is smbd's environment: the gateway starts smbd with glibc malloc settings (`GLIBC_TUNABLES=glibc.malloc.mmap_threshold=16777216:glibc.malloc.trim_threshold=33554432`; on a host, the packaged drop-in for `smbd.service` sets the same) that keep smbd's 8 MiB SMB2 read and write buffers on the heap, where a freed one is reused by a later request, instead of returning them to the kernel after each request (glibc's defaults map the first and trim the heap of the next ones). Reads: the connection's smbd took 150,000-200,000 minor page faults per GiB read with glibc's defaults and about 5,000 with the mmap threshold, and in three interleaved A/Bs (9 rounds each, one smbd per variant, `vfs objects` none) cold reads went from 0.852 to 0.867, 0.861 to 0.887 and 0.838 to 0.884 of local (2-6 % faster), and from 0.833 to 0.903 (8 %) in a fourth that repeats this benchmark's sequence (writes, then cold and warm reads, 7 rounds). Writes: with the mmap threshold alone, a received write buffer is freed at the heap's top, where the 128 KiB trim threshold that a fixed mmap threshold leaves returns it at once: 9,500 to 42,000 faults per 256 MiB written, more than glibc's defaults (whose first freed mapping raises the trim threshold to 16 MiB), and in the benchmark our smbd then used more CPU per GiB written than Debian's default (2.26 against 1.99 CPU-s in one run) and wrote at 0.92-0.98 of its speed in five runs; the 32 MiB trim threshold (above three freed buffers: two in flight and one being received; 17 and 24 MiB still gave an occasional 11,100) brings writes to 5,000-7,100 faults for 256 MiB, like reads (a fresh connection faulting its first buffers in; the count does not grow with the size; the e2e test `private_smbd_reuses_its_io_buffers` holds a read and a write below 10,000). The cost is memory in a connection (smbd runs one process per TCP connection) that moved large files: typically about 16 MiB of freed buffers stay until it closes (the trim threshold lets up to 32 MiB stay at the heap's top; about 1.5 MiB with glibc's defaults, and already 16 MiB in 7 of 9 tries with the mmap threshold alone); the idle daemon is measured in the memory row. The Debian-default smbd here runs with glibc's defaults, so the ours/default rows include the setting; LXC mode (128 MB containers, possibly many idle connections) keeps glibc's defaults. `use sendfile = yes` was tried and is inert with Samba's default `aio read size = 1` (every read goes through the aio thread pool; strace shows `pread64` and no `sendfile`), and with `aio read size = 0` smbd does use sendfile but blocks its main loop on it, which made reads slower (0.66 vs 0.73 of local in an interleaved 9-round A/B under load); a later A/B with a minimal share config gave the opposite with one core busy (0.83 vs 0.72) and no difference idle (0.88 vs 0.88), and synchronous reads would serialize a client's outstanding reads on network backends (CephFS), so it stays off; with the malloc setting in both, sendfile read at 0.84 of local against 0.90 without it (7 interleaved rounds, idle). `vfs objects = io_uring` and `aio max threads = 1` made no difference (0.74 and 0.75 vs 0.73, one core busy). Also tried and dropped: `smb2 max read` of 1 or 2 MiB instead of 8 (reads 0.77-0.82 vs 0.87 of local; 4 MiB with the malloc setting: 0.89 vs 0.90), `aio read/write size = 0` (no gain), `min receivefile size = 16384` (splice into zfs-fuse: writes fell to 0.64 of Debian's default). Shares default to encryption `auto` (Samba's `if_required`: encrypt when the client asks); with `--encryption desired` smbclient's tree connect is encrypted ({}), and SMB then uses {}× the CPU of local I/O per GiB written instead of {}× (read: {}× instead of {}×). With `desired`, our share ran at {}× (write) and {}× (read) the speed of Debian's default in this run. Client, smbd and zfs-fuse share the machine's CPUs (and other jobs may run on it), so CPU per byte bounds the throughput ratio here; a remote client would not take its share of the server's CPU. Single runs scatter widely on this machine (see the runs listed: a write can take nearly twice as long as the one before it), so the figures are judged round by round: each round measures every method once, one after the other, and the median of the rounds' ratios comes with a distribution-free confidence interval (the k-th smallest and k-th largest ratio, k the largest with at least 90 % coverage under Binomial(n, 1/2)). The ≥ 0.85 targets hold the round-by-round median to 0.85. \"Ours no slower\" is \"yes\" when that median is at least 1, \"not shown\" when it is below 1 but its interval reaches 1 (a difference this run cannot tell from its noise), and \"no\" otherwise; idle memory likewise with the rounds' PSS differences and 0. For idle memory all three Debian-default smbds (the default, the A/A control and the one with our malloc setting) start from a copy of our smbd's state files in every round, in a balanced start order (a Williams square: every smbd starts right before every other one equally often): smbd maps its tdb files, and the pages it touches of them depend on their history (a passdb written twice touches more), not on the configuration. gencache.tdb is the exception: the configuration that creates it sets its size, so each smbd keeps the one its own first start created. The A/A control, a second smbd from Debian's default started beside the first, shows the size of difference the method reports between two equal smbds.",
        s("tp_ours_desired_encryption"),
        ratio("write_ours_desired_cpu_s_per_gib", "write_local_cpu_s_per_gib"),
        ratio("write_ours_cpu_s_per_gib", "write_local_cpu_s_per_gib"),
        ratio("read_ours_desired_cpu_s_per_gib", "read_local_cpu_s_per_gib"),
        ratio("read_ours_cpu_s_per_gib", "read_local_cpu_s_per_gib"),
        ratio("write_ours_desired_mb_s", "write_default_mb_s"),
        ratio("read_ours_desired_mb_s", "read_default_mb_s"),
    );
    md
}

#[cfg(test)]
mod tests {
    use super::replace_section;

    #[test]
    fn figures_render_mib_ratios_and_missing_values() {
        let f: super::BTreeMap<String, String> = [
            ("ad_mem_ad_cgroup_kb", "23654"),
            ("ad_mem_workgroup_cgroup_kb", "9216"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let md = super::render_ad(&f);
        assert!(md.contains("| 23.1 MB |"), "{md}");
        assert!(md.contains("9.0 MB | 2.57 | ≤ 48 MB | yes |"), "{md}");
        assert!(md.contains("| ? ms |"), "a missing figure shows as ?: {md}");
    }

    /// The verdicts that rest on a round-by-round interval: met while the
    /// interval reaches the equal side, not met once it lies wholly on the
    /// wrong side.
    #[test]
    fn gateway_verdicts_follow_the_intervals() {
        let row = |md: &str, start: &str| -> String {
            md.lines()
                .find(|l| l.starts_with(start))
                .unwrap_or_else(|| panic!("no row {start:?} in {md}"))
                .to_owned()
        };
        let verdict = |line: &str| line.split(" | ").nth(5).unwrap_or("").to_owned();
        let render = |pairs: &[(&str, &str)]| {
            let f: super::BTreeMap<String, String> = pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            super::render_gateway(&f)
        };
        const W: &str = "| our smb.conf vs Debian's default, SMB write";
        const R: &str = "| our smb.conf vs Debian's default, SMB read";
        const M: &str = "| idle memory of the smbd process tree";
        const SW: &str = "| SMB write, ";
        const SR: &str = "| SMB read, ";
        let ns = super::NOT_SHOWN;
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
        let cases: &[Case] = &[
            // Faster in the typical round.
            (
                &[
                    ("write_ours_vs_default_paired", "1.010"),
                    ("write_ours_vs_default_paired_hi", "1.100"),
                ],
                W,
                "yes",
            ),
            // Slower in the typical round: within noise, or not.
            (
                &[
                    ("read_ours_vs_default_paired", "0.985"),
                    ("read_ours_vs_default_paired_hi", "1.004"),
                ],
                R,
                ns,
            ),
            (
                &[
                    ("read_ours_vs_default_paired", "0.950"),
                    ("read_ours_vs_default_paired_hi", "0.987"),
                ],
                R,
                "**no**",
            ),
            // Higher in the typical round: within noise, or not; lower.
            (
                &[
                    ("mem_idle_pss_diff_kb", "90"),
                    ("mem_idle_pss_diff_lo_kb", "-20"),
                ],
                M,
                ns,
            ),
            (
                &[
                    ("mem_idle_pss_diff_kb", "40"),
                    ("mem_idle_pss_diff_lo_kb", "12"),
                ],
                M,
                "**no**",
            ),
            (&[("mem_idle_pss_diff_kb", "-5")], M, "yes"),
            // Judged round by round, not on the ratio of the medians.
            (
                &[("write_paired_ratio", "0.849"), ("write_ratio", "0.91")],
                SW,
                "**no**",
            ),
            (
                &[("read_paired_ratio", "0.850"), ("read_ratio", "0.80")],
                SR,
                "yes",
            ),
            // On the boundaries: equal medians are met, and intervals that
            // end on equality reach it.
            (&[("write_ours_vs_default_paired", "1.000")], W, "yes"),
            (
                &[
                    ("read_ours_vs_default_paired", "0.990"),
                    ("read_ours_vs_default_paired_hi", "1.000"),
                ],
                R,
                ns,
            ),
            (&[("mem_idle_pss_diff_kb", "0")], M, "yes"),
            (
                &[
                    ("mem_idle_pss_diff_kb", "30"),
                    ("mem_idle_pss_diff_lo_kb", "0"),
                ],
                M,
                ns,
            ),
            // Nothing measured.
            (&[], W, "?"),
        ];
        for (pairs, start, want) in cases {
            let line = row(&render(pairs), start);
            assert_eq!(verdict(&line), *want, "{pairs:?}: {line}");
        }
        // The intervals and the malloc-setting control are shown.
        let m = row(
            &render(&[
                ("mem_idle_pss_diff_lo_kb", "-20"),
                ("mem_idle_pss_diff_hi_kb", "240"),
                ("mem_idle_tuned_pss_diff_kb", "24"),
                ("mem_idle_tuned_pss_diff_lo_kb", "-97"),
                ("mem_idle_tuned_pss_diff_hi_kb", "198"),
            ]),
            M,
        );
        assert!(m.contains("interval -20…240 KiB"), "{m}");
        assert!(m.contains("median 24 KiB, interval -97…198 KiB"), "{m}");
    }

    #[test]
    fn replace_section_keeps_the_other_sections() {
        let new = "\n## g\n\nnew\n";
        // Appended when missing.
        assert_eq!(
            replace_section("# B\n\n## a\n\nx\n", "## g", new),
            "# B\n\n## a\n\nx\n\n## g\n\nnew\n"
        );
        // Replaced when last, idempotently.
        let once = replace_section("# B\n\n## a\n\nx\n\n## g\n\nold\nold\n", "## g", new);
        assert_eq!(once, "# B\n\n## a\n\nx\n\n## g\n\nnew\n");
        assert_eq!(replace_section(&once, "## g", new), once);
        // Replaced in the middle.
        assert_eq!(
            replace_section("# B\n\n## g\n\nold\n\n## z\n\nz\n", "## g", new),
            "# B\n\n## g\n\nnew\n\n## z\n\nz\n"
        );
    }
}
