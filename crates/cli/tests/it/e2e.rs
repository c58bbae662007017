//! End to end: create a share, use it with smbclient, delete it.

use std::os::unix::net::UnixDatagram;
use std::path::Path;

use testkit::sandbox::GatewaySandbox;
use testkit::ZfsPool;

use crate::{ok, sandbox, text};

const ALICE_PW: &str = "Alice-pw-1";

fn client_dir(sb: &GatewaySandbox) -> std::path::PathBuf {
    let d = sb.base().join("client");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// put + get through the share; returns smbclient's output on failure.
fn put_get(sb: &GatewaySandbox, share: &str, user: &str, pw: &str, name: &str, bytes: &[u8]) {
    let c = client_dir(sb);
    std::fs::write(c.join(name), bytes).unwrap();
    let cmds = format!("put {name} remote-{name}; get remote-{name} back-{name}");
    let out = sb.smbclient(share, user, pw, &cmds, &[], &c);
    ok(&out);
    assert_eq!(
        std::fs::read(c.join(format!("back-{name}"))).unwrap(),
        bytes
    );
}

fn status_json(sb: &GatewaySandbox, share: &str) -> serde_json::Value {
    let out = sb.run(&["status", share, "--output-format", "json"]);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "status json: {e}: {} {}",
            text(&out.stdout),
            text(&out.stderr)
        )
    })
}

/// Protocol floor: SMB2_02 and SMB1 are refused.
fn assert_old_protocols_refused(sb: &GatewaySandbox, share: &str) {
    let c = client_dir(sb);
    let smb2_02 = sb.smbclient(share, "alice", ALICE_PW, "ls", &["-m", "SMB2_02"], &c);
    assert!(!smb2_02.status.success(), "SMB2_02 was accepted");
    assert!(
        text(&smb2_02.stdout).contains("NT_STATUS_NOT_SUPPORTED")
            || text(&smb2_02.stderr).contains("NT_STATUS_NOT_SUPPORTED"),
        "SMB2_02: {} {}",
        text(&smb2_02.stdout),
        text(&smb2_02.stderr)
    );
    let smb1 = sb.smbclient(
        share,
        "alice",
        ALICE_PW,
        "ls",
        &["--option=client min protocol=NT1", "-m", "NT1"],
        &c,
    );
    assert!(!smb1.status.success(), "SMB1 was accepted");
}

#[test]
fn dir_share_create_use_delete_purge() {
    let Some(sb) = sandbox("dir_share_create_use_delete_purge") else {
        return;
    };
    let log = UnixDatagram::bind(sb.base().join("syslog.sock")).unwrap();
    log.set_nonblocking(true).unwrap();
    sb.add_user("alice", ALICE_PW);
    sb.add_user("bob", "Bob-pw-2");

    let out = sb
        .cmd(&[
            "create",
            "team",
            "--mode",
            "native",
            "--users",
            "alice",
            "--comment",
            "Team files",
        ])
        .env("SMBGW_SYSLOG_SOCKET", sb.base().join("syslog.sock"))
        .output()
        .unwrap();
    let stdout = ok(&out);
    assert!(stdout.contains("share:      team"), "{stdout}");
    assert!(
        text(&out.stderr).contains("[5/6] serve `team`"),
        "{}",
        text(&out.stderr)
    );

    // Syslog: the event, with the tag, and no secret.
    let mut events = String::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = log.recv(&mut buf) {
        events.push_str(&String::from_utf8_lossy(&buf[..n]));
        events.push('\n');
    }
    assert!(events.contains("pve-smbgw["), "{events}");
    assert!(events.contains("share created and served"), "{events}");
    assert!(!events.contains(ALICE_PW));

    // alice can write and read; the file is on the volume.
    let payload: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    put_get(&sb, "team", "alice", ALICE_PW, "a.bin", &payload);
    let on_disk = sb.root.join("volumes/team/remote-a.bin");
    assert_eq!(std::fs::read(&on_disk).unwrap(), payload);

    // bob is not a valid user of this share; a wrong password fails.
    let c = client_dir(&sb);
    let bob = sb.smbclient("team", "bob", "Bob-pw-2", "ls", &[], &c);
    assert!(!bob.status.success());
    assert!(
        text(&bob.stdout).contains("NT_STATUS_ACCESS_DENIED"),
        "{}",
        text(&bob.stdout)
    );
    let wrong = sb.smbclient("team", "alice", "wrong", "ls", &[], &c);
    assert!(
        text(&wrong.stdout).contains("NT_STATUS_LOGON_FAILURE"),
        "{}",
        text(&wrong.stdout)
    );
    assert_old_protocols_refused(&sb, "team");

    // status, list, show.
    let st = status_json(&sb, "team");
    assert_eq!(st["served"], true, "{st}");
    assert_eq!(st["config_current"], true, "{st}");
    assert_eq!(st["problems"].as_array().unwrap().len(), 0, "{st}");
    assert!(st["usage"]["used"].as_u64().unwrap() > 0);
    let list: serde_json::Value =
        serde_json::from_str(&ok(&sb.run(&["list", "--output-format", "json"]))).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], "team");

    // The managed files: the include line is last in smb.conf, and the
    // generated main file carries the security defaults.
    let conf = std::fs::read_to_string(sb.samba_dir().join("smb.conf")).unwrap();
    assert!(conf.trim_end().ends_with(&format!(
        "include = {}",
        sb.samba_dir().join("pve-smbgateway.conf").display()
    )));
    for needle in [
        "server min protocol = SMB2_10",
        "map to guest = never",
        "disable netbios = yes",
        "load printers = no",
    ] {
        assert!(conf.contains(needle), "{needle} missing from {conf}");
    }
    let include = std::fs::read_to_string(sb.samba_dir().join("pve-smbgateway.conf")).unwrap();
    assert!(
        include.contains("[team]") && include.contains("guest ok = no"),
        "{include}"
    );

    // Manual tampering is undone by apply.
    std::fs::write(
        sb.samba_dir().join("pve-smbgateway.conf"),
        include.replace("read only = no", "read only = yes"),
    )
    .unwrap();
    assert_eq!(status_json(&sb, "team")["config_current"], false);
    let applied = ok(&sb.run(&["apply"]));
    assert!(applied.contains("team: restored"), "{applied}");
    assert_eq!(status_json(&sb, "team")["config_current"], true);

    // A crashed smbd: status says so (exit 8), apply brings it back.
    sb.stop_smbd();
    let down = sb.run(&["status", "team", "--output-format", "json"]);
    assert_eq!(down.status.code(), Some(8), "{}", text(&down.stderr));
    let st: serde_json::Value = serde_json::from_slice(&down.stdout).unwrap();
    assert_eq!(st["served"], false, "{st}");
    assert!(
        st["problems"][0].as_str().unwrap().contains("apply"),
        "{st}"
    );
    ok(&sb.run(&["apply"]));
    assert_eq!(status_json(&sb, "team")["served"], true);
    ok(&sb.smbclient("team", "alice", ALICE_PW, "ls", &[], &c));

    // delete keeps the data; the share is gone.
    ok(&sb.run(&["delete", "team"]));
    assert!(on_disk.exists(), "delete must keep the data");
    let gone = sb.smbclient("team", "alice", ALICE_PW, "ls", &[], &c);
    assert!(
        text(&gone.stdout).contains("NT_STATUS_BAD_NETWORK_NAME"),
        "{}",
        text(&gone.stdout)
    );
    assert_eq!(sb.run(&["show", "team"]).status.code(), Some(4));

    // The kept volume can be served again as it is, then purged.
    ok(&sb.run(&[
        "create",
        "team2",
        "--mode",
        "native",
        "--volume",
        "team",
        "--existing",
    ]));
    let c2 = client_dir(&sb);
    ok(&sb.smbclient(
        "team2",
        "alice",
        ALICE_PW,
        "get remote-a.bin again.bin",
        &[],
        &c2,
    ));
    assert_eq!(std::fs::read(c2.join("again.bin")).unwrap(), payload);
    let purge = sb.run(&["delete", "team2", "--purge"]);
    ok(&purge);
    assert!(text(&purge.stderr).contains("ALL its data will be destroyed"));
    assert!(
        !sb.root.join("volumes/team").exists(),
        "purge must destroy the volume"
    );
    let list = ok(&sb.run(&["list", "--output-format", "json"]));
    assert_eq!(list.trim(), "[]");
}

#[test]
fn host_smb_conf_is_edited_losslessly() {
    // Native mode on an administrator's smb.conf (here: our own smbd
    // started on it, standing in for the host's): every byte the
    // gateway does not own stays as it was.
    let Some(sb) = sandbox("host_smb_conf_is_edited_losslessly") else {
        return;
    };
    let d = sb.base().join("host");
    for sub in [
        "lock", "state", "cache", "private", "pid", "ncalrpc", "binddns", "log", "shares",
    ] {
        std::fs::create_dir_all(d.join(sub)).unwrap();
    }
    let p = |s: &str| d.join(s).display().to_string();
    let admin = format!(
        "# The admin's own notes\r\n[global]\r\n   workgroup = OFFICE ; not a comment\r\n   smb ports = {port}\r\n   interfaces = lo\r\n   bind interfaces only = yes\r\n   disable netbios = yes\r\n   lock directory = {lock}\r\n   state directory = {state}\r\n   cache directory = {cache}\r\n   private dir = {private}\r\n   pid directory = {pid}\r\n   ncalrpc dir = {ncalrpc}\r\n   binddns dir = {binddns}\r\n   log file = {log}/log.%m\r\n   passdb backend = tdbsam:{private}/passdb.tdb\r\n   server min protocol = SMB2_10\r\n   rpc start on demand helpers = no\r\n\r\n;   [old]\r\n[admin-share]\r\n   path = {shares}\r\n   comment = keep me\r\n",
        port = sb.port,
        lock = p("lock"),
        state = p("state"),
        cache = p("cache"),
        private = p("private"),
        pid = p("pid"),
        ncalrpc = p("ncalrpc"),
        binddns = p("binddns"),
        log = p("log"),
        shares = p("shares"),
    );
    let conf = d.join("smb.conf");
    std::fs::write(&conf, &admin).unwrap();
    // The admin's smbd, in the sandbox's namespace (private /etc).
    let st = sb
        .ns_command("smbd")
        .args(["-D", "-s"])
        .arg(&conf)
        .status()
        .unwrap();
    assert!(st.success());
    let host = |args: &[&str]| {
        let mut c = sb.ns_command(crate::bin());
        c.arg("--samba-conf")
            .arg(&conf)
            .arg("--registry")
            .arg(d.join("shares.cfg"))
            .arg("--state-dir")
            .arg(d.join("gwstate"))
            .args(args);
        c.output().unwrap()
    };
    let vols = d.join("vols");
    std::fs::create_dir_all(&vols).unwrap();
    let out = host(&[
        "create",
        "proj",
        "--mode",
        "native",
        "--dir-root",
        vols.to_str().unwrap(),
    ]);
    ok(&out);
    let after = std::fs::read_to_string(&conf).unwrap();
    assert!(
        after.starts_with(&admin),
        "the admin's bytes changed:\n{after}"
    );
    let tail = &after[admin.len()..];
    assert_eq!(
        tail,
        format!(
            "\r\n{}\r\ninclude = {}\r\n",
            provision::INCLUDE_MARKER,
            d.join("pve-smbgateway.conf").display()
        )
    );
    let st = host(&["status", "proj", "--output-format", "json"]);
    let st: serde_json::Value = serde_json::from_str(&ok(&st)).unwrap();
    assert_eq!(st["served"], true, "{st}");
    assert_eq!(st["warnings"].as_array().unwrap().len(), 0, "{st}");
    // An administrator's weaker global is reported, not changed.
    let weaker = after.replace(
        "server min protocol = SMB2_10",
        "server min protocol = SMB2_02",
    );
    std::fs::write(&conf, &weaker).unwrap();
    let st = host(&["status", "proj", "--output-format", "json"]);
    let st: serde_json::Value = serde_json::from_str(&ok(&st)).unwrap();
    assert!(
        st["warnings"][0].as_str().unwrap().contains("SMB2_02"),
        "{st}"
    );
    std::fs::write(&conf, &after).unwrap();
    ok(&host(&["delete", "proj"]));
    // The last managed share gone, smb.conf is byte for byte the admin's.
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), admin);
    assert!(!d.join("pve-smbgateway.conf").exists());
    // Stop the admin's smbd.
    if let Ok(pid) = std::fs::read_to_string(d.join("pid/smbd.pid")) {
        let _ = std::process::Command::new("kill").arg(pid.trim()).status();
    }
    testkit::sandbox::kill_matching(&conf.display().to_string());
}

/// Writes `size` bytes to `path` (sparse-free: real data).
fn write_file(path: &Path, size: usize) {
    let chunk = vec![0x6bu8; 1 << 20];
    let mut left = size;
    let mut f = std::fs::File::create(path).unwrap();
    use std::io::Write;
    while left > 0 {
        let n = left.min(chunk.len());
        f.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
}

#[test]
fn zfs_share_quota_is_enforced_over_smb() {
    let Some(pool) = ZfsPool::new_shared("zfs_share_quota_is_enforced_over_smb") else {
        return;
    };
    let Some(sb) = sandbox("zfs_share_quota_is_enforced_over_smb") else {
        return;
    };
    sb.add_user("alice", ALICE_PW);
    let out = sb.run(&[
        "create",
        "zq",
        "--mode",
        "native",
        "--backend",
        "zfs",
        "--zfs-parent",
        &pool.pool,
        "--quota",
        "32M",
        "--users",
        "alice",
    ]);
    ok(&out);
    let ds = format!("{}/zq", pool.pool);
    put_get(&sb, "zq", "alice", ALICE_PW, "small.bin", &[7u8; 100_000]);
    // Past the quota: the write fails over SMB with DISK_FULL.
    let c = client_dir(&sb);
    write_file(&c.join("big.bin"), 64 << 20);
    let big = sb.smbclient("zq", "alice", ALICE_PW, "put big.bin big.bin", &[], &c);
    let all = format!("{}{}", text(&big.stdout), text(&big.stderr));
    assert!(all.contains("NT_STATUS_DISK_FULL"), "{all}");
    assert_old_protocols_refused(&sb, "zq");
    let st = status_json(&sb, "zq");
    assert_eq!(st["served"], true, "{st}");
    assert_eq!(st["usage"]["scope"], "volume", "{st}");
    // ZFS reports used + available a little above the refquota.
    assert!(
        st["usage"]["total"].as_u64().unwrap() <= (32 << 20) * 101 / 100,
        "{st}"
    );

    // delete keeps the dataset; purge destroys it.
    ok(&sb.run(&["delete", "zq"]));
    assert!(
        testkit::quiet("zfs", &["list", "-H", &ds]),
        "delete must keep {ds}"
    );
    ok(&sb.run(&[
        "create",
        "zq2",
        "--mode",
        "native",
        "--backend",
        "zfs",
        "--zfs-parent",
        &pool.pool,
        "--volume",
        "zq",
        "--existing",
    ]));
    ok(&sb.smbclient(
        "zq2",
        "alice",
        ALICE_PW,
        "get remote-small.bin s.bin",
        &[],
        &c,
    ));
    ok(&sb.run(&["delete", "zq2", "--purge"]));
    assert!(
        !testkit::quiet("zfs", &["list", "-H", &ds]),
        "purge must destroy {ds}"
    );
    drop(sb);
    drop(pool);
}

#[test]
fn audited_share_logs_file_operations_to_syslog() {
    let Some(mut sb) = crate::sandbox("audited_share_logs_file_operations_to_syslog") else {
        return;
    };
    let log = sb.capture_syslog();
    log.set_read_timeout(Some(std::time::Duration::from_millis(100)))
        .unwrap();
    // Read while smbd writes: syslog's datagrams block the sender when
    // nobody reads.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let (mut lines, mut buf) = (Vec::new(), vec![0u8; 65536]);
            loop {
                match log.recv(&mut buf) {
                    Ok(n) => lines.push(String::from_utf8_lossy(&buf[..n]).into_owned()),
                    Err(_) if stop.load(std::sync::atomic::Ordering::Relaxed) => return lines,
                    Err(_) => {}
                }
            }
        })
    };
    sb.add_user("alice", ALICE_PW);
    ok(&sb.run(&["create", "audited", "--users", "alice", "--audit"]));
    let conf = std::fs::read_to_string(sb.samba_dir().join("pve-smbgateway.conf")).unwrap();
    assert!(conf.contains("vfs objects = full_audit"), "{conf}");
    put_get(
        &sb,
        "audited",
        "alice",
        ALICE_PW,
        "ledger.txt",
        b"quarterly numbers\n",
    );
    let dir = client_dir(&sb);
    ok(&sb.smbclient(
        "audited",
        "alice",
        ALICE_PW,
        "rename remote-ledger.txt ledger-2026.txt; del ledger-2026.txt",
        &[],
        &dir,
    ));
    ok(&sb.run(&["delete", "audited"]));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let all = reader.join().unwrap().join("\n");
    // Each line: `<PRI>... smbd_audit: pve-smbgw|user|ip|share|op|ok|...`.
    let ours: Vec<&str> = all
        .lines()
        .filter(|l| l.contains("pve-smbgw|alice|127.0.0.1|audited|"))
        .collect();
    for op in ["connect|ok", "create_file|ok", "renameat|ok", "unlinkat|ok"] {
        assert!(
            ours.iter().any(|l| l.contains(op)),
            "no `{op}` in the audit log:\n{all}"
        );
    }
    // LOCAL5 (21) * 8 + NOTICE (5) = 173, tagged smbd_audit.
    assert!(
        ours.iter()
            .all(|l| l.starts_with("<173>") && l.contains("smbd_audit")),
        "{all}"
    );
    assert!(
        all.contains("ledger-2026.txt"),
        "the file names are logged: {all}"
    );
}

/// `user add|passwd|del` against the real smbd: a new password replaces
/// the old one at once, a user still allowed on a share is not removed,
/// removing a user removes the system account only when the gateway made
/// it (an administrator's account stays), and the files a user wrote stay.
#[test]
fn smb_users_added_changed_and_removed() {
    let Some(sb) = sandbox("smb_users_added_changed_and_removed") else {
        return;
    };
    let c = client_dir(&sb);
    let getent = |name: &str| {
        sb.ns_command("getent")
            .args(["passwd", name])
            .output()
            .unwrap()
            .status
            .success()
    };
    // bob is new: the gateway makes his system account.
    let out = sb.run_stdin(&["user", "add", "bob"], b"Bob-pw-1\n");
    assert!(
        ok(&out).contains("new system account without home or shell"),
        "{}",
        text(&out.stdout)
    );
    assert!(getent("bob"));
    // carol's account is the administrator's: it is used as it is.
    ok(&sb
        .ns_command("useradd")
        .args(["--system", "--no-create-home", "carol"])
        .output()
        .unwrap());
    let out = sb.run_stdin(
        &["user", "add", "carol", "--output-format", "json"],
        b"Carol-pw-1\n",
    );
    let v: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(v["created_account"], false, "{v}");

    ok(&sb.run(&["create", "team", "--mode", "native", "--users", "bob,carol"]));
    std::fs::write(c.join("b.txt"), "from bob").unwrap();
    ok(&sb.smbclient("team", "bob", "Bob-pw-1", "put b.txt b.txt", &[], &c));
    ok(&sb.smbclient("team", "carol", "Carol-pw-1", "ls", &[], &c));

    // A new password: the old one is refused from now on.
    ok(&sb.run_stdin(&["user", "passwd", "bob"], b"Bob-pw-2\n"));
    let old = sb.smbclient("team", "bob", "Bob-pw-1", "ls", &[], &c);
    assert!(!old.status.success());
    assert!(
        text(&old.stdout).contains("NT_STATUS_LOGON_FAILURE"),
        "{}",
        text(&old.stdout)
    );
    ok(&sb.smbclient("team", "bob", "Bob-pw-2", "get b.txt b-back.txt", &[], &c));
    assert_eq!(
        std::fs::read_to_string(c.join("b-back.txt")).unwrap(),
        "from bob"
    );

    // Still allowed on `team`: not removed, and nothing changed.
    let out = sb.run(&["user", "del", "bob"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("still allowed on share(s) team"),
        "{}",
        text(&out.stderr)
    );
    ok(&sb.smbclient("team", "bob", "Bob-pw-2", "ls", &[], &c));

    let path = {
        let v: serde_json::Value =
            serde_json::from_str(&ok(&sb.run(&["show", "team", "--output-format", "json"])))
                .unwrap();
        std::path::PathBuf::from(v["path"].as_str().unwrap())
    };
    let listed = ok(&sb.run(&["user", "list"]));
    for u in ["bob", "carol"] {
        assert!(listed.lines().any(|l| l == u), "{u} not listed: {listed}");
    }
    ok(&sb.run(&["delete", "team"]));
    let out = ok(&sb.run(&["user", "del", "bob"]));
    assert!(
        out.contains("removed smb user `bob` and its system account"),
        "{out}"
    );
    assert!(!getent("bob"));
    let out = ok(&sb.run(&["user", "del", "carol"]));
    assert!(!out.contains("system account"), "{out}");
    assert!(getent("carol"), "the administrator's account stays");
    let listed = ok(&sb.run(&["user", "list"]));
    assert!(
        !listed.lines().any(|l| l == "bob" || l == "carol"),
        "{listed}"
    );
    // What bob wrote is kept with the volume.
    assert_eq!(
        std::fs::read_to_string(path.join("b.txt")).unwrap(),
        "from bob"
    );
    // Removing again: a clear error.
    let out = sb.run(&["user", "del", "bob"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("does not exist"),
        "{}",
        text(&out.stderr)
    );
}

/// Minor page faults of `pid`'s children that it has reaped (`cminflt`,
/// field 11 of stat(5)).
fn reaped_faults(pid: i32) -> u64 {
    *crate::proc_stat(pid)
        .get(11 - 3)
        .unwrap_or_else(|| panic!("no /proc/{pid}/stat"))
}

/// The children of `pid`.
fn children(pid: i32) -> Vec<String> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// The private smbd's gencache.tdb has the generated configuration's hash
/// size (`gencache:hash_size`, an option of Samba's source that its manual
/// does not list): a misspelt option would leave Samba's 10,000 chains,
/// whose robust mutexes smbd writes when it starts (about 390 KiB of its
/// resident memory). The file is the main smbd's: its resident part of it
/// is measured.
#[test]
fn private_smbd_creates_a_small_gencache() {
    let Some(sb) = sandbox("private_smbd_creates_a_small_gencache") else {
        return;
    };
    // `user list` prepares Samba: the private smbd starts and creates its
    // state, gencache.tdb among it.
    ok(&sb.run(&["user", "list"]));
    let smbd = sb.smbd_pid().expect("the private smbd runs");
    let path = sb.samba_dir().join("lock/gencache.tdb");
    let header = std::fs::read(&path).unwrap();
    // struct tdb_header: 32 bytes of magic, then version and hash_size
    // (native byte order).
    assert!(header.starts_with(b"TDB file\n"), "{}", path.display());
    let word = |at: usize| u32::from_ne_bytes(header[at..at + 4].try_into().unwrap());
    assert_eq!(
        word(36),
        smbconf::GENCACHE_HASH_SIZE,
        "hash chains of {}",
        path.display()
    );
    // What of it smbd keeps resident: the hash chains' mutexes and the
    // first pages (Samba's default size: 444 KiB, measured).
    let resident_kb: u64 = crate::smaps_field(smbd, "Rss")
        .into_iter()
        .filter(|(path, _)| path.ends_with("/gencache.tdb"))
        .map(|(_, kb)| kb)
        .sum();
    eprintln!("gencache.tdb: {resident_kb} KiB resident in smbd {smbd}");
    assert!(
        (1..=150).contains(&resident_kb),
        "smbd {smbd} keeps {resident_kb} KiB of gencache.tdb resident"
    );
}

/// The private smbd runs with `SMBD_MALLOC_TUNABLES`: a connection reuses
/// its 8 MiB read and write buffers instead of faulting fresh pages in for
/// every request. With glibc's defaults the connection's smbd takes
/// 150,000–200,000 minor faults per GiB read (49,720 for this 256 MiB
/// file, measured); with the mmap threshold alone, a write trims its freed
/// buffer from the heap's top and faults the next one in (35,281 for
/// 256 MiB written here, measured; more for the 512 MiB written below);
/// with both settings, 5,000–7,100 either way (a fresh connection's first
/// buffers; the count does not grow with the size).
#[test]
fn private_smbd_reuses_its_io_buffers() {
    let Some(sb) = sandbox("private_smbd_reuses_its_io_buffers") else {
        return;
    };
    sb.add_user("alice", ALICE_PW);
    ok(&sb.run(&["create", "big", "--mode", "native", "--users", "alice"]));
    let volume = sb.root.join("volumes/big");
    let size = 256u64 << 20;
    std::fs::File::create(volume.join("sparse.bin"))
        .unwrap()
        .set_len(size)
        .unwrap();
    // Written: twice as much, so that a count which grows with the size
    // stands further from one that does not.
    let up_size = 2 * size;
    let c = client_dir(&sb);
    std::fs::File::create(c.join("up.bin"))
        .unwrap()
        .set_len(up_size)
        .unwrap();
    let smbd = sb.smbd_pid().expect("the private smbd runs");
    // smbd's tree once it is quiet: a child forked for an earlier probe may
    // still be exiting.
    let settle_start = std::time::Instant::now();
    let mut idle = children(smbd);
    loop {
        std::thread::sleep(std::time::Duration::from_millis(300));
        let now = children(smbd);
        if now == idle {
            break;
        }
        assert!(
            settle_start.elapsed() < std::time::Duration::from_secs(10),
            "smbd's children keep changing: {now:?}"
        );
        idle = now;
    }
    // The minor faults of the connection's smbd that runs `command`.
    let faults_of = |command: &str, done: &str| {
        let before = reaped_faults(smbd);
        let out = sb.smbclient("big", "alice", ALICE_PW, command, &[], &c);
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(
            out.status.success() && all.contains(done),
            "{command}: {all}"
        );
        // The connection's smbd exits when smbclient does; its faults count
        // once smbd has reaped it.
        let start = std::time::Instant::now();
        while !children(smbd).iter().all(|c| idle.contains(c)) {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(10),
                "the connection's smbd was not reaped: {:?} vs {idle:?}",
                children(smbd)
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let faults = reaped_faults(smbd) - before;
        eprintln!("{command}: {faults} minor faults in the connection's smbd");
        faults
    };
    let read = faults_of("get sparse.bin /dev/null", &format!("of size {size} "));
    let written = faults_of("put up.bin written.bin", "putting file up.bin as ");
    assert_eq!(
        std::fs::metadata(volume.join("written.bin")).unwrap().len(),
        up_size
    );
    // A fresh connection faults its first buffers in (two 8 MiB buffers
    // are 4,096 pages), so a count near zero means it was not counted.
    for (what, bytes, faults) in [("reading", size, read), ("writing", up_size, written)] {
        assert!(
            (1_000..10_000).contains(&faults),
            "{what} {} MiB cost the connection's smbd {faults} minor faults: its buffers were not reused (is GLIBC_TUNABLES={} set?)",
            bytes >> 20,
            provision::SMBD_MALLOC_TUNABLES
        );
    }
    ok(&sb.run(&["delete", "big", "--purge"]));
}
