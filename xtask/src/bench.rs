//! `cargo xtask bench`: run every benchmark and rewrite BENCHMARKS.md.
//!
//! Each figure is measured against a baseline in the same run (these
//! machines are noisy, so only ratios and same-run comparisons count).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};

use crate::{root, run};

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
    // smbconf: parse throughput.
    let out = Command::new("cargo")
        .current_dir(&root)
        .args(["bench", "-p", "smbconf", "--bench", "parse", "--quiet"])
        .output()
        .context("cargo bench")?;
    if !out.status.success() {
        bail!(
            "parse benchmark failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let parse = kv(&String::from_utf8_lossy(&out.stdout));
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
    let out = Command::new("cargo")
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
        .args(["--", "--ignored", "--nocapture"])
        .output()
        .context("backends benchmark")?;
    if !out.status.success() {
        bail!(
            "backends benchmark failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _ = writeln!(md, "\n## backends\n");
    let _ = writeln!(md, "Cheap usage is one `statvfs` on the served path (no process); exact usage goes through the tool (Dir: a walk of 2,000 files; ZFS: `zfs get -Hp`; CephFS: `ceph fs subvolume info`; RBD: `rbd du`). Medians: 1,000 cheap calls, 10 exact calls, 10 create + destroy cycles. ZFS is zfs-fuse on a sparse file; Ceph is a single-node Pacific cluster (memstore) on loopback, CephFS through ceph-fuse, RBD through rbd-fuse + loop + XFS. Command: `cargo test --release -p backends --test it bench_backends -- --ignored --nocapture` (inside `cargo xtask bench`).\n");
    let _ = writeln!(md, "| backend | cheap usage | exact usage (baseline) | exact / cheap (target ≥ 50x, cheap < 1 ms) | create + destroy cycle |");
    let _ = writeln!(md, "|---|---|---|---|---|");
    for line in String::from_utf8_lossy(&out.stdout)
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
    std::fs::write(root.join("BENCHMARKS.md"), &md)?;
    print!("{md}");
    if !same {
        bail!("our canonical output differs from testparm's on the benchmark file");
    }
    Ok(())
}
