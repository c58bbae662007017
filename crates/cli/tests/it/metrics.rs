//! Share metrics against real smbd (issue: metrics): counters rise by at
//! least the bytes moved through smbclient, sessions and open files appear
//! and disappear, the Prometheus text passes promtool, the quota alert
//! fires once per crossing and re-arms, and events reach syslog.

use std::io::Write as _;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use testkit::ZfsPool;

use crate::{ok, sandbox};

const PW: &str = "Metrics-pw-1";

/// Where `cargo xtask install-deps` puts promtool.
const PROMTOOL: &str = "/var/cache/pve-smbgateway-tests/promtool/promtool";

fn metrics(sb: &testkit::sandbox::GatewaySandbox, args: &[&str]) -> Value {
    let mut a = vec!["metrics", "--output-format", "json", "--no-alerts"];
    a.extend_from_slice(args);
    serde_json::from_str(&ok(&sb.run(&a))).unwrap()
}

fn share<'a>(m: &'a Value, name: &str) -> &'a Value {
    m["shares"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["share"] == name)
        .unwrap_or_else(|| panic!("no {name} in {m}"))
}

/// Polls `f` for up to 10 s (live sessions flush their counters about once
/// a second).
fn eventually(what: &str, mut f: impl FnMut() -> Option<String>) {
    let t = Instant::now();
    let mut last = String::new();
    while t.elapsed() < Duration::from_secs(10) {
        match f() {
            None => return,
            Some(why) => last = why,
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("{what}: {last}");
}

/// Checks Prometheus text with promtool (fails the test under the
/// project's test command when promtool is missing).
pub(crate) fn promtool_check(text: &str) {
    if !Path::new(PROMTOOL).is_file() {
        assert!(
            std::env::var_os("SMBGW_REQUIRE_REAL").is_none(),
            "{PROMTOOL} missing: run `cargo xtask install-deps`"
        );
        eprintln!("skipping the promtool check: {PROMTOOL} missing");
        return;
    }
    let mut child = Command::new(PROMTOOL)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An interactive smbclient session (`cmd`, credentials in its
/// environment) holding `file` open until [`HeldOpen::release`].
struct HeldOpen {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
}

impl HeldOpen {
    fn start(mut cmd: Command, file: &str, cwd: &Path) -> HeldOpen {
        let mut child = cmd
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(format!("open {file}\n").as_bytes())
            .unwrap();
        stdin.flush().unwrap();
        HeldOpen { child, stdin }
    }

    /// Quits the session and waits for smbclient.
    fn release(mut self) {
        self.stdin.write_all(b"quit\n").unwrap();
        drop(self.stdin);
        self.child.wait().unwrap();
    }
}

#[test]
fn native_share_counters_sessions_and_prometheus() {
    let Some(sb) = sandbox("native_share_counters_sessions_and_prometheus") else {
        return;
    };
    sb.add_user("alice", PW);
    ok(&sb.run(&["create", "mx", "--users", "alice"]));
    let m = metrics(&sb, &[]);
    let s = share(&m, "mx");
    assert_eq!(s["served"], true, "{m}");
    assert_eq!(s["sessions"], 0, "{m}");
    assert_eq!(s["io_scope"], "server", "{m}");
    assert!(
        m["spawns"].as_u64().unwrap() <= 3,
        "two smbstatus and one ping: {m}"
    );
    let io = |m: &Value, k: &str| share(m, "mx")["io"][k].as_u64().unwrap();
    let (r0, w0) = (io(&m, "read_bytes"), io(&m, "write_bytes"));

    // 4 MiB up and down through smbclient.
    let client = sb.base().join("client");
    std::fs::create_dir_all(&client).unwrap();
    std::fs::write(client.join("big.bin"), vec![7u8; 4 << 20]).unwrap();
    ok(&sb.smbclient(
        "mx",
        "alice",
        PW,
        "put big.bin; get big.bin back.bin",
        &[],
        &client,
    ));
    eventually("the counters rise by the bytes moved", || {
        let m = metrics(&sb, &[]);
        let (r, w) = (io(&m, "read_bytes"), io(&m, "write_bytes"));
        (r < r0 + (4 << 20) || w < w0 + (4 << 20))
            .then(|| format!("read {r0} -> {r}, written {w0} -> {w}"))
    });

    // A session holding a file open.
    let mut c = Command::new("smbclient");
    c.arg("-p")
        .arg(sb.port.to_string())
        .args(["//127.0.0.1/mx", "-U", "alice"])
        .env("PASSWD", PW);
    let held = HeldOpen::start(c, "big.bin", &client);
    eventually("the session and its open file appear", || {
        let m = metrics(&sb, &["mx"]);
        let s = share(&m, "mx");
        (s["sessions"] != 1 || s["open_files"].as_u64().unwrap_or(0) < 1).then(|| s.to_string())
    });
    // Prometheus text, on stdout and as a textfile.
    let prom_file = sb.base().join("prom/pve-smbgateway.prom");
    std::fs::create_dir_all(prom_file.parent().unwrap()).unwrap();
    let text = ok(&sb.run(&[
        "metrics",
        "--prometheus",
        "--no-alerts",
        "--textfile",
        &prom_file.to_string_lossy(),
    ]));
    assert!(
        text.contains("pve_smbgw_share_sessions{share=\"mx\",mode=\"native\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("pve_smbgw_native_written_bytes_total{smbd=\"host\"} "),
        "{text}"
    );
    promtool_check(&text);
    promtool_check(&std::fs::read_to_string(&prom_file).unwrap());

    held.release();
    eventually("the session disappears", || {
        let m = metrics(&sb, &["mx"]);
        let s = share(&m, "mx");
        (s["sessions"] != 0 || s["open_files"] != 0).then(|| s.to_string())
    });
    // Text output names the share.
    let t = ok(&sb.run(&["metrics", "--no-alerts"]));
    assert!(
        t.starts_with("mx (native): up | sessions 0 | open files 0"),
        "{t}"
    );
    // A share that does not exist.
    assert_eq!(sb.run(&["metrics", "nope"]).status.code(), Some(4));
}

/// A datagram socket standing in for /dev/log.
struct Syslog {
    socket: UnixDatagram,
    path: PathBuf,
}

impl Syslog {
    fn new(dir: &Path) -> Syslog {
        let path = dir.join("syslog.sock");
        let socket = UnixDatagram::bind(&path).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        Syslog { socket, path }
    }

    fn drain(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = self.socket.recv(&mut buf) {
            out.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        out
    }
}

#[test]
fn quota_alert_fires_once_per_crossing_and_rearms() {
    let Some(pool) = ZfsPool::new_shared("quota_alert_fires_once_per_crossing_and_rearms") else {
        return;
    };
    let Some(sb) = sandbox("quota_alert_fires_once_per_crossing_and_rearms") else {
        return;
    };
    ok(&sb.run(&[
        "create",
        "qa",
        "--backend",
        "zfs",
        "--zfs-parent",
        &pool.pool,
        "--quota",
        "64M",
    ]));
    let hook_out = sb.base().join("hook.log");
    let hook = format!(
        "cat >> '{}'; echo >> '{}'",
        hook_out.display(),
        hook_out.display()
    );
    let log = Syslog::new(sb.base());
    let run = || {
        let out = sb
            .cmd(&[
                "metrics",
                "--alert-threshold",
                "50",
                "--alert-hook",
                &hook,
                "--output-format",
                "json",
            ])
            .env("SMBGW_SYSLOG_SOCKET", &log.path)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let m: Value = serde_json::from_str(&ok(&out)).unwrap();
        share(&m, "qa")["used_percent"].as_f64().unwrap_or(0.0)
    };
    let fired = || {
        std::fs::read_to_string(&hook_out)
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .collect::<Vec<_>>()
    };
    assert!(run() < 50.0);
    assert!(fired().is_empty());

    let path = {
        let m = ok(&sb.run(&["show", "qa", "--output-format", "json"]));
        let v: Value = serde_json::from_str(&m).unwrap();
        PathBuf::from(v["path"].as_str().unwrap_or_else(|| panic!("{v}")))
    };
    let fill = path.join("fill.bin");
    std::fs::write(&fill, vec![0x5au8; 40 << 20]).unwrap();
    let t = Instant::now();
    // ZFS reports the space once the transaction group is written.
    while run() < 50.0 {
        assert!(t.elapsed() < Duration::from_secs(60), "usage never rose");
        std::thread::sleep(Duration::from_millis(500));
    }
    let f = fired();
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["event"], "quota-threshold");
    assert_eq!(f[0]["share"], "qa");
    assert_eq!(f[0]["threshold_percent"], 50.0);
    assert!(f[0]["used_percent"].as_f64().unwrap() >= 50.0);
    // Still above: nothing more.
    run();
    run();
    assert_eq!(fired().len(), 1, "fires exactly once");
    let lines = log.drain();
    assert!(
        lines.iter().any(|l| l.contains("pve-smbgw[")
            && l.contains("event=quota-threshold")
            && l.contains("share=qa")),
        "{lines:?}"
    );

    // Below again: re-armed (logged, no hook), then a new crossing fires.
    std::fs::remove_file(&fill).unwrap();
    let t = Instant::now();
    while run() >= 50.0 {
        assert!(t.elapsed() < Duration::from_secs(60), "usage never fell");
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(fired().len(), 1);
    assert!(log
        .drain()
        .iter()
        .any(|l| l.contains("event=quota-rearmed")));
    std::fs::write(&fill, vec![0x5au8; 40 << 20]).unwrap();
    let t = Instant::now();
    while fired().len() < 2 {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the second crossing never fired"
        );
        run();
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(fired().len(), 2);

    // A failing hook is reported, not fatal.
    std::fs::remove_file(&fill).unwrap();
    let t = Instant::now();
    while run() >= 50.0 {
        assert!(t.elapsed() < Duration::from_secs(60), "usage never fell");
        std::thread::sleep(Duration::from_millis(500));
    }
    std::fs::write(&fill, vec![0x5au8; 40 << 20]).unwrap();
    let t = Instant::now();
    loop {
        let out = sb
            .cmd(&[
                "metrics",
                "--alert-threshold",
                "50",
                "--alert-hook",
                "exit 3",
            ])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        if String::from_utf8_lossy(&out.stderr).contains("the alert hook failed for share qa") {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the failing hook never ran"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    ok(&sb.run(&["delete", "qa", "--purge"]));
}

#[test]
fn lxc_share_counters_are_the_containers_own() {
    use crate::lxc::{ct_pid, lxc_create_args, lxc_sandbox, smbclient_in};
    let Some(sb) = lxc_sandbox("lxc_share_counters_are_the_containers_own") else {
        return;
    };
    ok(&sb.run(&lxc_create_args("cm")));
    let m = metrics(&sb, &["cm"]);
    let s = share(&m, "cm");
    assert_eq!(s["served"], true, "{m}");
    assert_eq!(s["io_scope"], "share", "{m}");
    assert_eq!(m["spawns"], 1, "one process for the container: {m}");
    let io = |m: &Value, k: &str| share(m, "cm")["io"][k].as_u64().unwrap();
    let w0 = io(&m, "write_bytes");
    let client = sb.base().join("client");
    std::fs::create_dir_all(&client).unwrap();
    std::fs::write(client.join("big.bin"), vec![3u8; 4 << 20]).unwrap();
    let out = smbclient_in(&sb, "cm", "alice", "put big.bin", &client).unwrap();
    ok(&out);
    eventually("the container's counters rise by the bytes written", || {
        let m = metrics(&sb, &["cm"]);
        let w = io(&m, "write_bytes");
        (w < w0 + (4 << 20)).then(|| format!("written {w0} -> {w}: {m}"))
    });
    // A session held open from the container's network namespace.
    let pid = ct_pid(&sb, "cm").unwrap();
    let mut c = Command::new("nsenter");
    c.arg(format!("--net=/proc/{pid}/ns/net"))
        .args(["smbclient", "//127.0.0.1/cm", "-U", "alice"])
        .env("PASSWD", crate::faults::PW);
    let held = HeldOpen::start(c, "big.bin", &client);
    eventually("the session and its open file appear", || {
        let s = share(&metrics(&sb, &["cm"]), "cm").clone();
        (s["sessions"] != 1 || s["open_files"].as_u64().unwrap_or(0) < 1).then(|| s.to_string())
    });
    let text = ok(&sb.run(&["metrics", "cm", "--prometheus", "--no-alerts"]));
    assert!(
        text.contains("pve_smbgw_share_written_bytes_total{share=\"cm\",mode=\"lxc\"} "),
        "{text}"
    );
    promtool_check(&text);
    held.release();
    eventually("the session disappears", || {
        let s = share(&metrics(&sb, &["cm"]), "cm").clone();
        (s["sessions"] != 0).then(|| s.to_string())
    });
    ok(&sb.run(&["delete", "cm"]));
}

#[test]
fn events_reach_journald_with_structured_fields() {
    let Some(sb) = sandbox("events_reach_journald_with_structured_fields") else {
        return;
    };
    let path = sb.base().join("journal.sock");
    let journal = UnixDatagram::bind(&path).unwrap();
    journal
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let run = |args: &[&str]| {
        let out = sb
            .cmd(args)
            .env("SMBGW_JOURNAL_SOCKET", &path)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        ok(&out);
    };
    run(&["create", "jr"]);
    run(&["delete", "jr"]);
    let mut entries = Vec::new();
    let mut buf = [0u8; 8192];
    while let Ok(n) = journal.recv(&mut buf) {
        entries.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    let find = |event: &str| {
        entries
            .iter()
            .find(|e| e.lines().any(|l| l == format!("SMBGW_EVENT={event}")))
            .unwrap_or_else(|| panic!("no {event} entry in {entries:?}"))
    };
    for event in ["create", "delete"] {
        let e = find(event);
        assert!(e.contains("SYSLOG_IDENTIFIER=pve-smbgw\n"), "{e}");
        assert!(e.contains("SMBGW_SHARE=jr\n"), "{e}");
        assert!(e.contains("PRIORITY=6\n"), "{e}");
        assert!(e.starts_with("MESSAGE="), "{e}");
    }
}

/// `cargo xtask bench metrics`: a collection over 100 native shares, and
/// what the profiling counters cost on SMB throughput (the same download
/// with `smbd profiling level = count` and `off`, interleaved).
#[test]
#[ignore = "benchmark: cargo xtask bench metrics"]
fn bench_metrics() {
    let Some(sb) = sandbox("bench_metrics") else {
        return;
    };
    sb.add_user("alice", PW);
    for i in 0..100 {
        ok(&sb.run(&["create", &format!("m{i:03}"), "--users", "alice"]));
    }
    // The floor: one smbstatus of the same smbd.
    let conf = sb.samba_dir().join("smb.conf");
    let time = |f: &mut dyn FnMut()| {
        let t = Instant::now();
        f();
        t.elapsed().as_secs_f64() * 1000.0
    };
    let mut smbstatus = Vec::new();
    let mut collect = Vec::new();
    let mut inner = Vec::new();
    let mut spawns = 0;
    for _ in 0..7 {
        smbstatus.push(time(&mut || {
            let o = Command::new("smbstatus")
                .arg("-s")
                .arg(&conf)
                .arg("--json")
                .output()
                .unwrap();
            assert!(o.status.success());
        }));
        let mut out = None;
        collect.push(time(&mut || {
            out = Some(sb.run(&["metrics", "--output-format", "json", "--no-alerts"]));
        }));
        let m: Value = serde_json::from_str(&ok(&out.unwrap())).unwrap();
        assert_eq!(m["shares"].as_array().unwrap().len(), 100);
        assert!(m["shares"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["served"] == true));
        inner.push(m["duration_seconds"].as_f64().unwrap() * 1000.0);
        spawns = m["spawns"].as_u64().unwrap();
    }
    println!();
    println!("metrics_shares=100");
    println!(
        "metrics_collect_ms={:.1}",
        crate::lxc::median(collect.clone())
    );
    println!(
        "metrics_collect_runs={}",
        collect
            .iter()
            .map(|v| format!("{v:.1}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    println!("metrics_inner_ms={:.1}", crate::lxc::median(inner));
    println!("metrics_smbstatus_ms={:.1}", crate::lxc::median(smbstatus));
    println!("metrics_spawns={spawns}");

    // One LXC-mode share: what a collection costs per container.
    if testkit::on_path("lxc-start") {
        ok(&sb.run(&crate::lxc::lxc_create_args("lx")));
        let mut lx = Vec::new();
        for _ in 0..7 {
            let mut out = None;
            lx.push(time(&mut || {
                out = Some(sb.run(&["metrics", "lx", "--output-format", "json", "--no-alerts"]));
            }));
            let m: Value = serde_json::from_str(&ok(&out.unwrap())).unwrap();
            assert_eq!(share(&m, "lx")["served"], true, "{m}");
        }
        println!("metrics_lxc_share_ms={:.1}", crate::lxc::median(lx));
        ok(&sb.run(&["delete", "lx"]));
    }

    // Throughput with and without the profiling counters.
    let client = sb.base().join("client");
    std::fs::create_dir_all(&client).unwrap();
    let vol = sb.root.join("volumes/m000");
    let mib = 512;
    std::fs::write(vol.join("big.bin"), vec![1u8; mib << 20]).unwrap();
    let set_level = |level: &str| {
        ok(&sb.run(&[
            "conf",
            "set",
            &conf.to_string_lossy(),
            "global",
            "smbd profiling level",
            level,
        ]));
        sb.stop_smbd();
        ok(&sb.run(&["apply"]));
    };
    let get = || {
        time(&mut || {
            ok(&sb.smbclient("m000", "alice", PW, "get big.bin /dev/null", &[], &client));
        })
    };
    let (mut on, mut off) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        set_level("count");
        get();
        on.push(get());
        set_level("off");
        get();
        off.push(get());
    }
    set_level("count");
    let (on, off) = (crate::lxc::median(on), crate::lxc::median(off));
    println!("metrics_get_mib={mib}");
    println!("metrics_get_counting_ms={on:.1}");
    println!("metrics_get_off_ms={off:.1}");
    println!("metrics_overhead_pct={:.2}", (on / off - 1.0) * 100.0);
}

/// `notify pve` through stand-ins for Proxmox's `PVE::Notify` and
/// `PVE::INotify` (no pmxcfs here), written from pve-cluster's
/// documented API: `notify($severity, $template, $data, $fields)`,
/// `common_template_data()`, `nodename()`. They record the call.
#[test]
fn notify_pve_hands_the_event_to_pve_notify() {
    if !testkit::require(
        "notify_pve_hands_the_event_to_pve_notify",
        &["perl"],
        "apt-get install -y perl",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib/PVE");
    std::fs::create_dir_all(&lib).unwrap();
    std::fs::write(
        lib.join("Notify.pm"),
        r#"package PVE::Notify;
# Stand-in for pve-cluster's PVE::Notify (test double).
use strict; use warnings; use JSON::PP;
sub common_template_data { return { hostname => 'pve1', fqdn => 'pve1.example', 'cluster-name' => 'c1' } }
sub notify {
    my ($severity, $template, $data, $fields) = @_;
    open(my $fh, '>', $ENV{SMBGW_NOTIFY_LOG}) or die;
    print $fh JSON::PP->new->canonical->encode({ severity => $severity, template => $template, data => $data, fields => $fields });
    close($fh);
}
1;
"#,
    )
    .unwrap();
    std::fs::write(
        lib.join("INotify.pm"),
        "package PVE::INotify;\n# Stand-in (test double).\nsub nodename { 'pve1' }\n1;\n",
    )
    .unwrap();
    let log = dir.path().join("notify.json");
    let event = r#"{"event":"quota-threshold","share":"office","used_percent":91.234,"threshold_percent":90.0,"used_bytes":977,"quota_bytes":1073}"#;
    let run = |input: &str| {
        let mut c = Command::new(crate::bin());
        c.args(["notify", "pve"])
            .env("PERL5LIB", dir.path().join("lib"))
            .env("SMBGW_NOTIFY_LOG", &log);
        testkit::sandbox::feed(c, input.as_bytes())
    };
    ok(&run(event));
    let got: Value = serde_json::from_str(&std::fs::read_to_string(&log).unwrap()).unwrap();
    assert_eq!(got["severity"], "warning");
    assert_eq!(got["template"], "pve-smbgateway-quota");
    assert_eq!(got["fields"]["type"], "pve-smbgateway");
    assert_eq!(got["fields"]["share"], "office");
    assert_eq!(got["fields"]["hostname"], "pve1");
    assert_eq!(got["data"]["used_percent"], "91.2");
    assert_eq!(got["data"]["hostname"], "pve1");
    assert_eq!(got["data"]["threshold_percent"], 90.0);
    // The templates the package ships name only fields the event has.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../debian/notification-templates");
    for f in [
        "pve-smbgateway-quota-subject.txt.hbs",
        "pve-smbgateway-quota-body.txt.hbs",
    ] {
        let t = std::fs::read_to_string(root.join(f)).unwrap();
        for var in t.split("{{").skip(1).map(|r| r.split("}}").next().unwrap()) {
            assert!(
                got["data"].get(var).is_some(),
                "{f}: {{{{{var}}}}} is not in the data"
            );
        }
    }
    // Not JSON: refused before Perl runs.
    let out = run("not json");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not JSON"));
}
