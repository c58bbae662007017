//! CTDB failover for real (issue: HA). Three nodes in network namespaces
//! (`testkit::ctdb`), each running ctdbd and a clustered smbd with the
//! files `pve-smbgateway ctdb render` writes (quorum cluster lock on the
//! shared directory, fast failure detection), serve one shared directory
//! through a floating address. A client in its own namespace writes files
//! through the floating address; then the node holding it either has its
//! ctdbd killed (a crash) or loses its link at the switch (host death or
//! partition). Each time, the time until a NEW connection to the floating
//! address succeeds and reads back every file written so far is measured.
//! The whole sequence runs five times; every run must recover and no file
//! may be lost. The medians are what `cargo xtask bench ha` records.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use testkit::ctdb::{CtdbCluster, CTDB_TOOLS, VIP};

use crate::bin;

/// Runs of the whole sequence (`SMBGW_FAILOVER_RUNS` overrides, for
/// debugging).
fn runs() -> usize {
    std::env::var("SMBGW_FAILOVER_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
}

/// A test's limit for one failover: far above the targets (3 s and 10 s,
/// which the benchmark checks), low enough to catch a failover that only
/// happens when CTDB's defaults would have it (~27 s) or never.
const DEADLINE: Duration = Duration::from_secs(25);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Failure {
    /// SIGKILL of the holder's ctdbd.
    Crash,
    /// The holder's link goes down at the switch.
    LinkDown,
}

/// Deterministic content for file `name` (64 KiB).
fn content(name: &str) -> Vec<u8> {
    let mut x: u64 = name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    (0..65536)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x & 0xff) as u8
        })
        .collect()
}

/// The median in ms (the mean of the middle two for an even count), `-`
/// when there is none.
fn median(v: &[Duration]) -> String {
    let mut s: Vec<u128> = v.iter().map(Duration::as_millis).collect();
    s.sort_unstable();
    match s.len() {
        0 => "-".into(),
        n if n % 2 == 1 => s[n / 2].to_string(),
        n => ((s[n / 2 - 1] + s[n / 2]) / 2).to_string(),
    }
}

/// One attempt at a new connection that reads every file back; `Err` says
/// what was wrong.
fn read_back(
    cluster: &CtdbCluster,
    auth: &Path,
    names: &[String],
    scratch: &Path,
) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(scratch);
    std::fs::create_dir_all(scratch).unwrap();
    let cmds: Vec<String> = names.iter().map(|n| format!("get {n} {n}")).collect();
    let out = cluster.client(auth, &cmds.join("; "), scratch);
    if !out.status.success() {
        return Err(format!(
            "smbclient: {} {}",
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .last()
                .unwrap_or(""),
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        ));
    }
    for n in names {
        match std::fs::read(scratch.join(n)) {
            Ok(b) if b == content(n) => {}
            Ok(_) => return Err(format!("{n} read back with different content")),
            Err(_) => return Err(format!("{n} not read back")),
        }
    }
    Ok(())
}

/// `pve-smbgateway ha status --output-format json` inside node `i`.
fn ha_status(cluster: &CtdbCluster, i: usize) -> (Option<i32>, serde_json::Value) {
    let bin = bin();
    let out = cluster
        .in_node(
            i,
            &bin.to_string_lossy(),
            &["ha", "status", "--output-format", "json"],
        )
        .expect("node runs");
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "ha status printed no JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), json)
}

#[test]
fn ctdb_render_writes_every_file_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ctdb");
    let render = |extra: &[&str]| {
        Command::new(bin())
            .args(["ctdb", "render", "--nodes", "10.0.0.1,10.0.0.2,10.0.0.3"])
            .args(["--node", "10.0.0.2", "--vip", "10.0.0.100/24@vmbr1"])
            .args(["--systemd-dropin"])
            .arg(dir.path().join("dropin"))
            .arg("--smbd-dropin")
            .arg(dir.path().join("smbd-dropin"))
            .arg("--out")
            .arg(&out)
            .args(extra)
            .output()
            .unwrap()
    };
    crate::ok(&render(&["--lock", "quorum:/mnt/pve/cephfs/.ctdb.lock"]));
    let read = |f: &str| std::fs::read_to_string(out.join(f)).unwrap();
    assert!(read("ctdb.conf").contains("node address = 10.0.0.2"));
    assert!(read("ctdb.conf").contains("ctdb lock-helper /mnt/pve/cephfs/.ctdb.lock"));
    assert_eq!(read("nodes"), "10.0.0.1\n10.0.0.2\n10.0.0.3\n");
    assert_eq!(read("public_addresses"), "10.0.0.100/24 vmbr1\n");
    assert!(read("ctdb.tunables").contains("KeepaliveInterval=1"));
    assert!(read("smb-cluster.conf").contains("clustering = yes"));
    {
        use std::os::unix::fs::PermissionsExt;
        let m = std::fs::metadata(out.join("events/legacy/95.pve-smbgw.script")).unwrap();
        assert_eq!(m.permissions().mode() & 0o777, 0o755);
    }
    let dropin = std::fs::read_to_string(dir.path().join("dropin/pve-smbgateway.conf")).unwrap();
    assert!(dropin.contains("ExecStopPost=/etc/ctdb/ctdb-crash-cleanup.sh"));
    // smbd waits for this node's ctdbd, with this program.
    let smbd = std::fs::read_to_string(dir.path().join("smbd-dropin/pve-smbgateway.conf")).unwrap();
    assert!(smbd.contains("After=ctdb.service"), "{smbd}");
    assert!(
        smbd.contains(&format!(
            "ExecStartPre={} ctdb wait-ready --timeout 80\n",
            bin().display()
        )),
        "{smbd}"
    );
    assert!(smbd.contains("Restart=on-failure"), "{smbd}");

    for (extra, needle) in [
        (&["--lock", "none"][..], "--i-accept-split-brain"),
        (&["--lock", "quorum:relative"][..], "absolute"),
        (
            &["--lock", "fcntl:/x", "--netbios-name", "way-too-long-name"][..],
            "NetBIOS name",
        ),
        (
            &["--lock", "fcntl:/x", "--vip", "10.0.0.0/24@vmbr1"][..],
            "network address",
        ),
        (
            &["--lock", "fcntl:/x", "--vip", "10.0.0.3/24@vmbr1"][..],
            "also a node address",
        ),
        (
            &["--lock", "fcntl:/x", "--log", "stderr"][..],
            "syslog or file:PATH",
        ),
    ] {
        let o = render(extra);
        assert_eq!(o.status.code(), Some(3), "{extra:?}: {o:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{extra:?}: {err}");
    }
    // A two-node quorum lock could never keep a majority.
    let o = Command::new(bin())
        .args([
            "ctdb",
            "render",
            "--nodes",
            "10.0.0.1,10.0.0.2",
            "--node",
            "10.0.0.1",
        ])
        .args(["--vip", "10.0.0.100/24@vmbr1", "--lock", "quorum:/x/lock"])
        .arg("--out")
        .arg(dir.path().join("two"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("at least three"),
        "{o:?}"
    );
    assert!(!dir.path().join("two").exists(), "nothing written");
    // The fcntl lock works, with a warning.
    let o = render(&["--lock", "fcntl:/x/lock"]);
    crate::ok(&o);
    assert!(String::from_utf8_lossy(&o.stderr).contains("warning: fcntl cluster lock"));
}

#[test]
fn failover_after_ctdbd_crash_and_link_loss_five_times() {
    if !testkit::require(
        "failover_after_ctdbd_crash_and_link_loss_five_times",
        CTDB_TOOLS,
        "apt-get install -y ctdb samba smbclient iptables ethtool",
    ) {
        return;
    }
    let bin = bin();
    let mut cluster = CtdbCluster::new(3, &|i, dir, shared| {
        let out = Command::new(&bin)
            .args(["ctdb", "render", "--nodes", "10.99.0.1,10.99.0.2,10.99.0.3"])
            .arg("--node")
            .arg(CtdbCluster::addr(i).to_string())
            .arg("--vip")
            .arg(format!("{VIP}/24@eth0"))
            .arg("--lock")
            .arg(format!("quorum:{}/.ctdb.lock", shared.display()))
            .args(["--log", "file:/var/lib/ctdb/ctdbd.log"])
            .args(["--systemd-dropin", "none", "--smbd-dropin", "none"])
            .arg("--out")
            .arg(dir)
            .output()
            .unwrap();
        crate::ok(&out);
    });
    // smbd starts when the product's readiness check passes, as the
    // smbd.service drop-in `ctdb render` writes has it.
    cluster.smbd_gate = format!("{} ctdb wait-ready --timeout 5", bin.display());
    for i in 1..=3 {
        cluster.start_node(i);
    }
    let up = cluster.wait_healthy(Duration::from_secs(90)).unwrap();
    eprintln!("cluster healthy after {up:?}");
    let holder = cluster.vip_holders()[0];
    let status = ha_status(&cluster, 1);
    assert_eq!(status.0, Some(0), "{status:?}");
    assert_eq!(status.1["healthy"], true, "{status:?}");
    assert_eq!(
        status.1["addresses"][0]["node_address"],
        CtdbCluster::addr(holder).to_string(),
        "{status:?}"
    );
    assert!(
        cluster.in_node_stdin(
            1,
            "smbpasswd",
            &["-a", "-s", "alice"],
            b"Fail-over-7\nFail-over-7\n"
        ),
        "smbpasswd in the cluster failed"
    );
    let auth = cluster.base.join("auth");
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .open(&auth)
            .unwrap();
        f.write_all(b"username=alice\npassword=Fail-over-7\n")
            .unwrap();
    }
    let local = cluster.base.join("local");
    let scratch = cluster.base.join("scratch");
    std::fs::create_dir_all(&local).unwrap();

    let mut names: Vec<String> = Vec::new();
    let mut crash = Vec::new();
    let mut link = Vec::new();
    for run in 1..=runs() {
        for failure in [Failure::Crash, Failure::LinkDown] {
            let healthy = cluster.wait_healthy(Duration::from_secs(120)).unwrap();
            // Files written through the floating address before the failure.
            let batch: Vec<String> = (1..=3)
                .map(|k| format!("r{run}-{failure:?}-{k}.bin"))
                .collect();
            let mut cmds = Vec::new();
            for n in &batch {
                std::fs::write(local.join(n), content(n)).unwrap();
                cmds.push(format!("put {n} {n}"));
            }
            // Right after a repair, the client may still have the address
            // resolved to a node that just gave it up (a healed partition
            // holds it on both sides for a moment); that is not what is
            // measured, so retry, and say how long it took.
            let t = Instant::now();
            loop {
                let out = cluster.client(&auth, &cmds.join("; "), &local);
                if out.status.success() {
                    break;
                }
                assert!(
                    t.elapsed() < Duration::from_secs(90),
                    "run {run}: writing through the floating address fails: {}{}\n{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr),
                    cluster.logs_tail()
                );
                std::thread::sleep(Duration::from_millis(200));
            }
            if t.elapsed() > Duration::from_secs(1) {
                eprintln!(
                    "run {run} {failure:?}: writes succeeded only after {:?}",
                    t.elapsed()
                );
            }
            names.extend(batch);
            read_back(&cluster, &auth, &names, &scratch).unwrap();

            // The node that fails holds the address and is, by turns, the
            // leader or not. Link loss: the leader on odd runs (it holds
            // the cluster lock and must give it up for the others to
            // recover). Crash: the leader on even runs (the others wait
            // for the leader timeout before electing).
            let leader = cluster.leader(1).expect("ctdb leader");
            let leader_fails = match failure {
                Failure::LinkDown => run % 2 == 1,
                Failure::Crash => run % 2 == 0,
            };
            let to = if leader_fails { leader } else { leader % 3 + 1 };
            cluster.move_vip(to, Duration::from_secs(90)).unwrap();
            let holders = cluster.vip_holders();
            assert_eq!(holders.len(), 1, "{holders:?}");
            let holder = holders[0];
            let role = if holder == leader {
                "leader"
            } else {
                "non-leader"
            };
            let t0 = Instant::now();
            eprintln!(
                "run {run} {failure:?} of node {holder} ({role}) at {:.3}",
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs_f64()
            );
            match failure {
                Failure::Crash => cluster.crash_ctdbd(holder),
                Failure::LinkDown => cluster.set_link(holder, false),
            }
            let took = loop {
                let Err(last) = read_back(&cluster, &auth, &names, &scratch) else {
                    break t0.elapsed();
                };
                assert!(
                    t0.elapsed() < DEADLINE,
                    "run {run}, {failure:?} of node {holder}: no new connection read every file back within {DEADLINE:?}; last attempt: {last}\n{}",
                    cluster.logs_tail()
                );
                std::thread::sleep(Duration::from_millis(100));
            };
            if run == 1 && failure == Failure::Crash {
                // `ha status` on a survivor names the dead node.
                let other = (1..=3).find(|i| *i != holder).unwrap();
                let (code, json) = ha_status(&cluster, other);
                assert_eq!(code, Some(8), "{json}");
                assert_eq!(json["healthy"], false, "{json}");
                let dead = &json["nodes"][holder - 1];
                assert!(
                    dead["flags"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|f| f == "disconnected"),
                    "{json}"
                );
            }
            let now = cluster.vip_holders();
            eprintln!(
                "run {run} {failure:?} of node {holder} ({role}): holders now {now:?}; a new connection read {} files back after {took:?} (cluster healthy {healthy:?} before)",
                names.len()
            );
            assert!(
                !now.contains(&holder) || failure == Failure::LinkDown,
                "{now:?}"
            );
            match failure {
                Failure::Crash => {
                    crash.push((took, holder == leader));
                    cluster.stop_node(holder);
                    cluster.start_node(holder);
                }
                Failure::LinkDown => {
                    link.push((took, holder == leader));
                    cluster.set_link(holder, true);
                }
            }
        }
    }
    // Back to a healthy cluster, nothing lost.
    cluster.wait_healthy(Duration::from_secs(120)).unwrap();
    let t = Instant::now();
    while let Err(e) = read_back(&cluster, &auth, &names, &scratch) {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "after the last repair: {e}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    if t.elapsed() > Duration::from_secs(1) {
        eprintln!(
            "after the last repair, reads succeeded only after {:?}",
            t.elapsed()
        );
    }
    // A crashed ctdbd takes its node's smbd with it; any other exit is
    // worth a look (the node logs say when; smbd.log says why).
    for i in 1..=3 {
        let exits = cluster.smbd_exits(i);
        if !exits.is_empty() {
            eprintln!("node {i}: smbd exited {} times: {exits:?}", exits.len());
        }
    }
    // `key=value` figures for `cargo xtask bench ha`.
    let report = |kind: &str, v: &[(Duration, bool)]| {
        let all: Vec<Duration> = v.iter().map(|x| x.0).collect();
        let role = |leader: bool| -> Vec<Duration> {
            v.iter().filter(|x| x.1 == leader).map(|x| x.0).collect()
        };
        let ms = |d: &[Duration]| {
            d.iter()
                .map(|d| d.as_millis().to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        format!(
            "{kind}_median_ms={} {kind}_leader_median_ms={} {kind}_other_median_ms={} {kind}_ms={} {kind}_leader_runs={}",
            median(&all),
            median(&role(true)),
            median(&role(false)),
            ms(&all),
            role(true).len()
        )
    };
    let figures = format!(
        "failover_runs={} failover_files={} {} {}",
        crash.len(),
        names.len(),
        report("crash", &crash),
        report("link", &link)
    );
    // One per line, as the benchmark runner reads them (after a newline:
    // the test harness's "test ... " prefix may still be on the line).
    println!();
    for f in figures.split_whitespace() {
        println!("{f}");
    }
}
