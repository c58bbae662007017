//! Active Directory: shares joined to a real Samba AD DC
//! (`testkit::ad::AdDc`) in a network namespace of the test's own.
//!
//! Domain users log in with Kerberos tickets (`kinit`, `smbclient
//! --use-kerberos=required`), a non-member is refused, an NT ACL set with
//! smbcacls survives a restart of the gateway's smbd, and the join's
//! problems (wrong password, unreachable DC, clock skew, missing OU,
//! unknown realm) each give their own error before anything changes. The
//! join password never shows up in a file others can read, the gateway's
//! logs or journals.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Output, Stdio};

use testkit::ad::{AdDc, DNS_DOMAIN, REALM};
use testkit::sandbox::{feed, GatewaySandbox};

use crate::{bin, ok, text};

const ALICE_PW: &str = "Al1ce-Secret!x";
const BOB_PW: &str = "B0b-Secret!xy";

/// A DC with alice (in "Share Staff") and bob, and a gateway sandbox
/// in its namespace.
fn domain(test: &str) -> Option<(AdDc, GatewaySandbox)> {
    let dc = AdDc::start(test)?;
    dc.add_user("alice", ALICE_PW);
    dc.add_user("bob", BOB_PW);
    dc.add_group("Share Staff", &["alice"]);
    let sb = GatewaySandbox::in_domain(test, &bin(), &dc)?;
    Some((dc, sb))
}

/// `create SHARE --mode native --ad-domain ... --groups "Share Staff"`
/// with the join password on stdin.
fn create_native(dc: &AdDc, sb: &GatewaySandbox, share: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "create",
        share,
        "--mode",
        "native",
        "--ad-domain",
        DNS_DOMAIN,
        "--ad-user",
        "Administrator",
        "--groups",
        "Share Staff",
    ];
    args.extend_from_slice(extra);
    sb.run_stdin(&args, format!("{}\n", dc.admin_password).as_bytes())
}

/// The private smbd's NetBIOS name (the machine account's name).
fn netbios_name(sb: &GatewaySandbox) -> String {
    let out = sb
        .ns_command("testparm")
        .args(["-s", "--parameter-name=netbios name"])
        .arg(sb.samba_dir().join("smb.conf"))
        .stderr(Stdio::null())
        .output()
        .unwrap();
    text(&out.stdout).trim().to_owned()
}

/// `script` as `user` with a Kerberos ticket (kinit with `password`),
/// in the sandbox's namespaces, against the private smbd: `$SRV` is its
/// `//host.domain`.
fn as_user(sb: &GatewaySandbox, user: &str, password: &str, script: &str) -> Output {
    as_user_at(
        sb,
        &netbios_name(sb).to_ascii_lowercase(),
        user,
        password,
        script,
    )
}

fn smb(sb: &GatewaySandbox, user: &str, password: &str, share: &str, commands: &str) -> Output {
    as_user(
        sb,
        user,
        password,
        &format!("smbclient \"$SRV/{share}\" -p \"$PORT\" --use-kerberos=required -c '{commands}'"),
    )
}

/// Watches every process's command line and environment for `secret`
/// until stopped (a few hundred samples per second).
struct ArgvWatch {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<(usize, Vec<String>)>,
}

impl ArgvWatch {
    fn start(secret: &str) -> ArgvWatch {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (flag, secret) = (stop.clone(), secret.as_bytes().to_vec());
        let me = std::process::id().to_string();
        let thread = std::thread::spawn(move || {
            let (mut rounds, mut hits) = (0, Vec::new());
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                rounds += 1;
                for e in fs::read_dir("/proc").unwrap().flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if !name.bytes().all(|b| b.is_ascii_digit()) || name == me {
                        continue;
                    }
                    for what in ["cmdline", "environ"] {
                        let Ok(b) = fs::read(e.path().join(what)) else {
                            continue;
                        };
                        if b.windows(secret.len()).any(|w| w == secret) {
                            let cmd = fs::read(e.path().join("cmdline")).unwrap_or_default();
                            let hit = format!(
                                "{what} of {name}: {}",
                                String::from_utf8_lossy(&cmd).replace('\0', " ")
                            );
                            if !hits.contains(&hit) {
                                hits.push(hit);
                            }
                        }
                    }
                }
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            (rounds, hits)
        });
        ArgvWatch { stop, thread }
    }

    /// Stops; asserts that no process ever showed the secret.
    fn assert_clean(self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let (rounds, hits) = self.thread.join().unwrap();
        assert!(rounds > 10, "the watch ran ({rounds} rounds)");
        assert!(hits.is_empty(), "the secret was visible: {hits:?}");
    }
}

/// No file under `root` that others can read, and no log or journal,
/// holds `secret`.
fn assert_secret_nowhere(root: &Path, secret: &str) {
    let mut stack = vec![root.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(md) = fs::symlink_metadata(&p) else {
                continue;
            };
            if md.is_dir() {
                stack.push(p);
            } else if md.is_file() && md.len() < 64 << 20 {
                let Ok(bytes) = fs::read(&p) else { continue };
                let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
                let name = p.display().to_string();
                let readable = md.permissions().mode() & 0o004 != 0;
                let log_like = name.contains("/log") || name.contains("journal");
                assert!(
                    !(found && (readable || log_like)),
                    "the join password is in {name} (mode {:o})",
                    md.permissions().mode()
                );
            }
        }
    }
}

#[test]
fn ad_native_share_with_kerberos_acls_and_leave() {
    let Some((dc, sb)) = domain("ad_native_share_with_kerberos_acls_and_leave") else {
        return;
    };
    // No process shows the password in its command line or environment
    // while the gateway joins (the test's own process feeds it on stdin).
    // Two first shares of the domain at once: one joins, the other waits
    // for the domain lock and finds the gateway joined.
    let watch = ArgvWatch::start(&dc.admin_password);
    let (out, other) = std::thread::scope(|s| {
        let t = s.spawn(|| create_native(&dc, &sb, "team2", &[]));
        (create_native(&dc, &sb, "team", &[]), t.join().unwrap())
    });
    watch.assert_clean();
    ok(&out);
    ok(&other);
    let said = format!("{}{}", text(&out.stderr), text(&other.stderr));
    assert_eq!(
        said.matches("] join Active Directory domain").count(),
        1,
        "{said}"
    );
    assert_eq!(
        said.matches("] stay a member of Active Directory domain")
            .count(),
        1,
        "{said}"
    );
    let nb = netbios_name(&sb);
    assert!(
        dc.has_computer(&nb),
        "the gateway {nb} has a computer account"
    );
    // The password never went on a command line the gateway ran: the
    // registry and journals do not have it either.
    assert!(!text(&out.stderr).contains(&dc.admin_password));

    // alice (member of "Share Staff") writes with a Kerberos ticket.
    fs::write(sb.base().join("hello.txt"), b"hello from alice\n").unwrap();
    let put = smb(
        &sb,
        "alice",
        ALICE_PW,
        "team",
        "put hello.txt hello.txt; ls",
    );
    let said = ok(&put);
    assert!(said.contains("hello.txt"), "{said}");
    // On the volume, owned by alice's id from the rid range.
    let rec: serde_json::Value =
        serde_json::from_str(&ok(&sb.run(&["show", "team", "--output-format", "json"]))).unwrap();
    let path = Path::new(rec["path"].as_str().unwrap()).join("hello.txt");
    let uid = fs::metadata(&path).unwrap().uid();
    assert!(
        (provision::domain::IDMAP_DOMAIN_RANGE.0..=provision::domain::IDMAP_DOMAIN_RANGE.1)
            .contains(&uid),
        "uid {uid} of {}",
        path.display()
    );

    // bob is not in the group: refused.
    let bob = smb(&sb, "bob", BOB_PW, "team", "ls");
    assert!(!bob.status.success(), "bob got in: {}", text(&bob.stdout));
    assert!(
        text(&bob.stdout).contains("NT_STATUS_ACCESS_DENIED")
            || text(&bob.stderr).contains("NT_STATUS_ACCESS_DENIED"),
        "{}{}",
        text(&bob.stdout),
        text(&bob.stderr)
    );

    // An ACL set over SMB survives a restart of the gateway's smbd.
    let sid = ok(&sb
        .ns_command("wbinfo")
        .args(["-n", "CORP\\bob"])
        .output()
        .unwrap());
    let sid = sid.split_whitespace().next().unwrap().to_owned();
    assert!(sid.starts_with("S-1-5-21-"), "{sid}");
    let set = as_user(
        &sb,
        "alice",
        ALICE_PW,
        &format!("smbcacls \"$SRV/team\" hello.txt --use-kerberos=required --numeric -a 'ACL:{sid}:ALLOWED/0x0/READ' </dev/null"),
    );
    ok(&set);
    let show = || {
        ok(&as_user(
            &sb,
            "alice",
            ALICE_PW,
            "smbcacls \"$SRV/team\" hello.txt --use-kerberos=required --numeric </dev/null",
        ))
    };
    let ace = format!("ACL:{sid}:0/0x0/0x001200a9");
    let before = show();
    assert!(before.contains(&ace), "{ace} in {before}");
    sb.stop_smbd();
    ok(&sb.run(&["apply"]));
    let after = show();
    assert!(after.contains(&ace), "{ace} after a restart: {after}");

    assert_secret_nowhere(sb.base(), &dc.admin_password);

    // The last domain share goes: the gateway leaves (with the password
    // from a 0600 file) and the computer account is gone; data kept.
    let pw = sb.base().join("admin.pw");
    fs::write(&pw, format!("{}\n", dc.admin_password)).unwrap();
    fs::set_permissions(&pw, fs::Permissions::from_mode(0o600)).unwrap();
    // Not the last share of the domain: no leave.
    let out = sb.run(&[
        "delete",
        "team2",
        "--ad-password-file",
        pw.to_str().unwrap(),
    ]);
    assert!(
        !text(&out.stderr).contains("leave Active Directory"),
        "{}",
        text(&out.stderr)
    );
    ok(&out);
    assert!(dc.has_computer(&nb), "still joined while `team` needs it");
    ok(&sb.run(&["delete", "team", "--ad-password-file", pw.to_str().unwrap()]));
    assert!(!dc.has_computer(&nb), "the computer account was deleted");
    assert!(path.exists(), "data kept");
    let conf = fs::read_to_string(sb.samba_dir().join("smb.conf")).unwrap();
    assert!(!sb.samba_dir().join("pve-smbgateway.conf").exists());
    assert!(!conf.contains("security = ads"), "{conf}");
    fs::remove_file(&pw).unwrap();
}

#[test]
fn ad_join_problems_each_have_their_own_error_and_change_nothing() {
    let Some((dc, sb)) = domain("ad_join_problems_each_have_their_own_error_and_change_nothing")
    else {
        return;
    };
    let registry = sb.root.join("shares.cfg");
    let unchanged = |what: &str| {
        assert!(
            fs::read_to_string(&registry)
                .unwrap_or_default()
                .trim()
                .is_empty(),
            "{what}: registry changed"
        );
        assert!(
            !sb.samba_dir().join("pve-smbgateway.conf").exists(),
            "{what}: include file left"
        );
        assert!(!dc.has_computer(&netbios_name(&sb)), "{what}: joined");
    };
    let expect = |out: &Output, what: &str, needle: &str| {
        assert!(!out.status.success(), "{what}: succeeded");
        let err = text(&out.stderr);
        assert!(err.contains(needle), "{what}: {err}");
        unchanged(what);
    };

    // Wrong password.
    let out = sb.run_stdin(
        &[
            "create",
            "t1",
            "--mode",
            "native",
            "--ad-domain",
            DNS_DOMAIN,
        ],
        b"Wrong-pass1\n",
    );
    expect(&out, "wrong password", "wrong user name or password");
    // A realm no DNS knows.
    let out = sb.run_stdin(
        &[
            "create",
            "t2",
            "--mode",
            "native",
            "--ad-domain",
            "nosuch.smbgw.test",
        ],
        format!("{}\n", dc.admin_password).as_bytes(),
    );
    expect(
        &out,
        "unknown realm",
        "DNS has no domain controller for NOSUCH.SMBGW.TEST",
    );
    // A missing OU.
    let out = create_native(&dc, &sb, "t3", &["--ad-ou", "OU=Nope"]);
    expect(&out, "missing OU", "the OU OU=Nope does not exist");
    // Clock skew: the gateway (and the `net` it runs) an hour ahead.
    let mut c = sb.ns_command("faketime");
    c.args(["-f", "+1h"])
        .arg(bin())
        .arg("--sandbox")
        .arg(&sb.root)
        .arg("--port")
        .arg(sb.port.to_string())
        .args([
            "create",
            "t4",
            "--mode",
            "native",
            "--ad-domain",
            DNS_DOMAIN,
        ]);
    let out = feed(c, format!("{}\n", dc.admin_password).as_bytes());
    expect(&out, "clock skew", "3600 s ahead of the domain controller");
    // With an existing OU the join goes there; the delete leaves again.
    dc.add_ou("OU=Servers");
    ok(&create_native(&dc, &sb, "t6", &["--ad-ou", "OU=Servers"]));
    assert!(dc.has_computer(&netbios_name(&sb)));
    let pw = sb.base().join("admin.pw");
    fs::write(&pw, format!("{}\n", dc.admin_password)).unwrap();
    fs::set_permissions(&pw, fs::Permissions::from_mode(0o600)).unwrap();
    ok(&sb.run(&["delete", "t6", "--ad-password-file", pw.to_str().unwrap()]));
    unchanged("after delete");
    // The DC unreachable (DNS still answers). Last: Samba remembers an
    // unreachable DC for a while.
    dc.block(true);
    let out = create_native(&dc, &sb, "t5", &[]);
    dc.block(false);
    expect(&out, "unreachable DC", "none answered over LDAP");
}

/// Builds the LXC test template (debootstrap, once) from the host's
/// network: the domain's namespace has no way out.
fn prepare_lxc_template() {
    use provision::ContainerDriver;
    let lxc = provision::LxcDriver::new("/nonexistent", testkit::sandbox::LXC_TEMPLATE);
    lxc.prepare_template(&runner::RealRunner::new()).unwrap();
}

/// `create SHARE` as an unprivileged plain-LXC share of the domain, its
/// container on the DC's bridge at `.5` of the DC's network.
fn create_lxc(dc: &AdDc, sb: &GatewaySandbox, share: &str) -> (Output, String) {
    let (args, ip) = bridged_lxc(dc, share, 5);
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    args.extend(["--ad-domain", DNS_DOMAIN, "--groups", "Share Staff"]);
    let out = sb.run_stdin(&args, format!("{}\n", dc.admin_password).as_bytes());
    (out, ip)
}

/// `create SHARE` as an unprivileged plain-LXC share whose container is
/// on the DC's bridge at address `.HOST` of the DC's network; and that
/// address.
fn bridged_lxc(dc: &AdDc, share: &str, host: u8) -> (Vec<String>, String) {
    let ip = format!("{}.{host}", dc.ip.rsplit_once('.').unwrap().0);
    let args = [
        "create",
        share,
        "--mode",
        "lxc",
        "--ct-driver",
        "lxc",
        "--bridge",
        "br0",
        "--ip",
    ]
    .into_iter()
    .map(str::to_owned)
    .chain([format!("{ip}/24")])
    .collect();
    (args, ip)
}

/// Points `SRV` of [`as_user`] at the container: its NetBIOS name (the
/// machine account's, recorded in the registry) resolves to its address
/// in the sandbox's hosts. Returns that name, lower case.
fn container_host(sb: &GatewaySandbox, share: &str, ip: &str) -> String {
    let reg = fs::read_to_string(sb.root.join("shares.cfg")).unwrap();
    let section = reg
        .split(&format!("share: {share}\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("{share} in {reg}"));
    let nb = section
        .lines()
        .find_map(|l| l.trim().strip_prefix("ad-netbios "))
        .unwrap_or_else(|| panic!("ad-netbios of {share} in {reg}"));
    assert!(
        nb.len() <= 15 && nb.starts_with(&share.to_ascii_uppercase()[..share.len().min(7)]),
        "{nb}"
    );
    let host = nb.to_ascii_lowercase();
    let hosts = sb.etc.join("hosts");
    let mut t = fs::read_to_string(&hosts).unwrap();
    t.push_str(&format!("{ip} {host}.{DNS_DOMAIN} {host}\n"));
    fs::write(&hosts, t).unwrap();
    host
}

/// `script` as `user` with a Kerberos ticket (kinit with `password`),
/// in the sandbox's namespaces; `$SRV` is `//HOST.domain`.
fn as_user_at(sb: &GatewaySandbox, host: &str, user: &str, password: &str, script: &str) -> Output {
    let cc = sb.base().join(format!("cc.{user}"));
    let full = format!(
        "kinit {user}@{REALM} >/dev/null <<EOF\n{password}\nEOF\n[ $? -eq 0 ] || exit 90\n{script}"
    );
    let mut c = sb.ns_command("sh");
    c.arg("-c")
        .arg(full)
        .env("KRB5CCNAME", format!("FILE:{}", cc.display()))
        .env("SRV", format!("//{host}.{DNS_DOMAIN}"))
        .current_dir(sb.base())
        .stdin(Stdio::null());
    c.output().unwrap()
}

#[test]
fn ad_lxc_share_joins_its_own_container() {
    let test = "ad_lxc_share_joins_its_own_container";
    if !testkit::require(
        test,
        &["lxc-start", "lxc-attach", "debootstrap"],
        "apt-get install -y lxc debootstrap",
    ) {
        return;
    }
    prepare_lxc_template();
    let Some((dc, sb)) = domain(test) else {
        return;
    };
    let watch = ArgvWatch::start(&dc.admin_password);
    // A share name longer than the 15 characters of a NetBIOS name less
    // `smbgw-`: the container's computer account is named by the gateway.
    let (out, ip) = create_lxc(&dc, &sb, "accounting");
    watch.assert_clean();
    let said = ok(&out);
    let host = container_host(&sb, "accounting", &ip);
    assert!(dc.has_computer(&host), "{said}");
    fs::write(sb.base().join("hello.txt"), b"hello from alice\n").unwrap();
    let put = as_user_at(
        &sb,
        &host,
        "alice",
        ALICE_PW,
        "smbclient \"$SRV/accounting\" --use-kerberos=required -c 'put hello.txt hello.txt; ls'",
    );
    assert!(ok(&put).contains("hello.txt"));
    // The file is alice's on the host volume, with her id from the rid
    // range (mapped through the unprivileged container unchanged).
    let rec: serde_json::Value = serde_json::from_str(&ok(&sb.run(&[
        "show",
        "accounting",
        "--output-format",
        "json",
    ])))
    .unwrap();
    let path = Path::new(rec["path"].as_str().unwrap()).join("hello.txt");
    let uid = fs::metadata(&path).unwrap().uid();
    assert!(
        (provision::domain::IDMAP_DOMAIN_RANGE.0..=provision::domain::IDMAP_DOMAIN_RANGE.1)
            .contains(&uid),
        "uid {uid}"
    );
    let bob = as_user_at(
        &sb,
        &host,
        "bob",
        BOB_PW,
        "smbclient \"$SRV/accounting\" --use-kerberos=required -c ls",
    );
    assert!(!bob.status.success(), "bob got in");
    assert!(
        text(&bob.stdout).contains("NT_STATUS_ACCESS_DENIED"),
        "{}",
        text(&bob.stdout)
    );

    // A restarted container comes back joined (its init starts winbindd).
    let lxcpath = sb.root.join("lxc");
    // (In the sandbox's network namespace: LXC's command socket is
    // per namespace.)
    // smbd is the container's init and stops on LXC's SIGTERM at once
    // (an ignored halt signal would make lxc-stop wait 60 s, then kill).
    let t0 = std::time::Instant::now();
    let st = sb
        .ns_command("lxc-stop")
        .arg("-P")
        .arg(&lxcpath)
        .args(["-n", "smbgw-accounting"])
        .status()
        .unwrap();
    assert!(st.success());
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(15),
        "lxc-stop took {:?}",
        t0.elapsed()
    );
    ok(&sb.run(&["apply"]));
    let get = as_user_at(
        &sb,
        &host,
        "alice",
        ALICE_PW,
        "smbclient \"$SRV/accounting\" --use-kerberos=required -c 'get hello.txt back.txt'",
    );
    ok(&get);
    assert_eq!(
        fs::read(sb.base().join("back.txt")).unwrap(),
        b"hello from alice\n"
    );

    assert_secret_nowhere(sb.base(), &dc.admin_password);
    // Delete: the container leaves (its computer account goes), the data stays.
    let pw = sb.base().join("admin.pw");
    fs::write(&pw, format!("{}\n", dc.admin_password)).unwrap();
    fs::set_permissions(&pw, fs::Permissions::from_mode(0o600)).unwrap();
    ok(&sb.run(&[
        "delete",
        "accounting",
        "--ad-password-file",
        pw.to_str().unwrap(),
    ]));
    assert!(!dc.has_computer(&host), "computer account deleted");
    assert!(path.exists(), "data kept");
    fs::remove_file(&pw).unwrap();
    sb.destroy_containers();
}

/// `cargo xtask bench ad`: join time (create until the first
/// Kerberos-authenticated write succeeds) in native and LXC mode, and the
/// idle memory of an AD-joined LXC gateway (smbd + winbindd), with a
/// workgroup container of the same template measured in the same run as
/// the baseline.
#[test]
#[ignore = "benchmark: cargo xtask bench ad"]
fn bench_ad() {
    use crate::lxc::{cgroup_mem, container_pss, median};
    use std::time::{Duration, Instant};
    let test = "bench_ad";
    prepare_lxc_template();
    let Some((dc, sb)) = domain(test) else {
        return;
    };
    fs::write(sb.base().join("hello.txt"), b"hello\n").unwrap();
    let pw = sb.base().join("admin.pw");
    fs::write(&pw, format!("{}\n", dc.admin_password)).unwrap();
    fs::set_permissions(&pw, fs::Permissions::from_mode(0o600)).unwrap();
    let mut kv: Vec<(String, String)> = Vec::new();
    let runs = 5;

    // 1. Native: create → first Kerberos write, 5 runs (each leaves).
    let mut native = Vec::new();
    for i in 0..runs {
        let share = format!("n{i}");
        let t0 = Instant::now();
        ok(&create_native(&dc, &sb, &share, &[]));
        ok(&smb(
            &sb,
            "alice",
            ALICE_PW,
            &share,
            "put hello.txt hello.txt",
        ));
        native.push(t0.elapsed().as_secs_f64() * 1000.0);
        ok(&sb.run(&[
            "delete",
            &share,
            "--purge",
            "--ad-password-file",
            pw.to_str().unwrap(),
        ]));
    }
    // 2. LXC: the same for a share container, 5 runs.
    let mut lxc = Vec::new();
    for i in 0..runs {
        let share = format!("c{i}");
        let t0 = Instant::now();
        let (out, ip) = create_lxc(&dc, &sb, &share);
        ok(&out);
        let host = container_host(&sb, &share, &ip);
        ok(&as_user_at(
            &sb,
            &host,
            "alice",
            ALICE_PW,
            &format!(
                "smbclient \"$SRV/{share}\" --use-kerberos=required -c 'put hello.txt hello.txt'"
            ),
        ));
        lxc.push(t0.elapsed().as_secs_f64() * 1000.0);
        if i + 1 < runs {
            ok(&sb.run(&[
                "delete",
                &share,
                "--purge",
                "--ad-password-file",
                pw.to_str().unwrap(),
            ]));
        }
    }
    for (name, v) in [("native", &native), ("lxc", &lxc)] {
        kv.push((
            format!("ad_join_{name}_ms"),
            format!("{:.0}", median(v.clone())),
        ));
        kv.push((
            format!("ad_join_{name}_runs"),
            v.iter()
                .map(|r| format!("{r:.0}"))
                .collect::<Vec<_>>()
                .join(","),
        ));
    }
    // 3. Idle memory: the last AD container against a workgroup one of
    // the same template (baseline), sampled together after 10 s.
    sb.add_user("wguser", "Wg-user-pw1");
    let (args, _) = bridged_lxc(&dc, "wg", 6);
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    args.extend(["--users", "wguser"]);
    ok(&sb.run(&args));
    std::thread::sleep(Duration::from_secs(10));
    let pid_of = |name: &str| -> u32 {
        let out = sb
            .ns_command("lxc-info")
            .arg("-P")
            .arg(sb.root.join("lxc"))
            .args(["-n", &format!("smbgw-{name}"), "-p", "-H"])
            .output()
            .unwrap();
        text(&out.stdout).trim().parse().unwrap()
    };
    let last = format!("c{}", runs - 1);
    let (mut ad, mut wg) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        for (name, out) in [(last.as_str(), &mut ad), ("wg", &mut wg)] {
            let pid = pid_of(name);
            let (usage, _) = cgroup_mem(pid);
            let (pss, _, procs) = container_pss(pid);
            out.push([usage / 1024, pss, procs as u64]);
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    for (label, v) in [("ad", &ad), ("workgroup", &wg)] {
        for (i, name) in ["cgroup_kb", "pss_kb", "procs"].iter().enumerate() {
            let med = median(v.iter().map(|x: &[u64; 3]| x[i] as f64).collect());
            kv.push((format!("ad_mem_{label}_{name}"), format!("{med:.0}")));
        }
    }
    let mut report = String::from("\n");
    for (k, v) in &kv {
        report.push_str(&format!("{k}={v}\n"));
    }
    print!("{report}");
    ok(&sb.run(&[
        "delete",
        &last,
        "--purge",
        "--ad-password-file",
        pw.to_str().unwrap(),
    ]));
    ok(&sb.run(&["delete", "wg", "--purge"]));
    sb.destroy_containers();
}
