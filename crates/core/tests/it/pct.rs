//! LXC mode on Proxmox (`pct`, `pveam`, `pvesh`), which cannot run here:
//! create and delete run through the recording runner with scripted
//! answers, the command plans are snapshot-tested, and every option given
//! to `pct create`/`clone`/`set` is checked against the container schema
//! facts in `provision::container::pct_schema`.

use std::path::Path;
use std::sync::Arc;

use provision::container::pct_schema;
use provision::{IpConfig, NativeSamba, Network};
use runner::{Cmd, RecordingRunner, Reply};
use smbgw_core::container::{ContainerSpec, CtDriver};
use smbgw_core::ops::{Gateway, Paths};
use smbgw_core::spec::{Access, BackendSpec, HaSpec, Mode, ShareSpec, VolumeRef};

const AVAILABLE: &str = "\
mail            proxmox-mail-gateway-8.2-standard_8.2-1_amd64.tar.zst
system          alpine-3.22-default_20250617_amd64.tar.xz
system          debian-12-standard_12.7-1_amd64.tar.zst
system          debian-13-standard_13.1-2_amd64.tar.zst
system          debian-13-standard_13.0-1_amd64.tar.zst
system          ubuntu-24.04-standard_24.04-2_amd64.tar.zst
";

const PCT_LIST_EMPTY: &str = "VMID       Status     Lock         Name\n";
const PCT_LIST_TEMPLATE: &str =
    "VMID       Status     Lock         Name\n9001       stopped                 smbgw-template\n";

fn paths(dir: &Path) -> Paths {
    let mut p = Paths::sandbox(dir, 4450);
    // The host's Samba (no private smbd to start through the recorder).
    p.samba = NativeSamba::with_paths(dir.join("smb.conf"), dir.join("pve-smbgateway.conf"));
    p
}

fn spec(dir: &Path) -> ShareSpec {
    std::fs::create_dir_all(dir.join("volumes")).unwrap();
    let mut s = ShareSpec::new(
        "office".parse().unwrap(),
        BackendSpec::dir(dir.join("volumes")).unwrap(),
        VolumeRef::new("office").unwrap(),
    );
    s.mode = Mode::Lxc;
    s.access = Access::new(vec!["alice".into()], vec![], false).unwrap();
    s.container = Some(ContainerSpec {
        driver: CtDriver::Pct,
        network: Network::Bridge {
            bridge: "vmbr1".into(),
            vlan: Some(20),
            ip: IpConfig::Static {
                cidr: "192.0.2.50/24".into(),
                gateway: Some("192.0.2.1".into()),
            },
        },
        storage: Some("local-zfs".into()),
        ..ContainerSpec::default()
    });
    s
}

fn script(r: &RecordingRunner) {
    // Ids: the share's container gets 105 (asked by the dry run and by
    // create), the template the first free id from 9000 (9000 is taken).
    r.on(
        ["pvesh", "get", "/cluster/nextid", "--vmid", "9000"],
        Reply::fail(2, "VM 9000 already exists\n"),
    );
    r.on(
        ["pvesh", "get", "/cluster/nextid", "--vmid", "9001"],
        Reply::ok("9001\n"),
    );
    r.on(["pvesh", "get", "/cluster/nextid"], Reply::ok("\"105\"\n"));
    r.on(["pvesh", "get", "/cluster/nextid"], Reply::ok("\"105\"\n"));
    r.on(["pdbedit"], Reply::ok("alice:995:\n"));
    r.on(["pct", "list"], Reply::ok(PCT_LIST_EMPTY));
    r.on(
        ["pveam", "list"],
        Reply::ok("NAME                                                SIZE\n"),
    );
    r.on(["pveam", "available"], Reply::ok(AVAILABLE));
    for _ in 0..4 {
        r.on(["getent", "group", "smbgw"], Reply::ok("smbgw:x:990:\n"));
    }
    r.on(
        ["pct", "status", "105"],
        Reply::fail(
            2,
            "Configuration file 'nodes/pve1/lxc/105.conf' does not exist\n",
        ),
    );
    r.on(["pct", "list"], Reply::ok(PCT_LIST_TEMPLATE));
    r.on(["pct", "status", "105"], Reply::ok("status: stopped\n"));
    r.on(
        ["getent", "passwd", "alice"],
        Reply::ok("alice:x:995:995:pve-smbgateway SMB user:/nonexistent:/usr/sbin/nologin\n"),
    );
    r.on(["getent", "group", "995"], Reply::ok("alice:x:995:\n"));
    r.on(
        ["pdbedit"],
        Reply::ok("alice:995:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:0123456789ABCDEF0123456789ABCDEF:[U          ]:LCT-6745A2B0:\n"),
    );
    r.on(
        ["pct", "exec", "105", "--", "smbd"],
        Reply::ok("Version 4.22.4-Debian-4.22.4+dfsg-1~deb13u1\n"),
    );
}

fn redact(s: &str, dir: &Path) -> String {
    s.replace(&dir.display().to_string(), "<dir>")
}

/// `--key value` pairs of a pct command.
fn options(cmd: &Cmd) -> Vec<(String, String)> {
    let args = cmd.get_args();
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        if let Some(k) = args[i].strip_prefix("--") {
            if let Some(v) = args.get(i + 1) {
                out.push((k.to_owned(), v.clone()));
                i += 2;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// Every option given to `pct create`/`set` is in the schema table and
/// valid; `pct clone` gets only its own options.
fn check_schema(cmds: &[Cmd]) -> usize {
    let mut checked = 0;
    for c in cmds.iter().filter(|c| c.program() == "pct") {
        let args = c.get_args();
        match args.first().map(String::as_str) {
            Some("create") | Some("set") => {
                pct_schema::check_vmid(&args[1]).unwrap();
                for (k, v) in options(c) {
                    pct_schema::check(&k, &v)
                        .unwrap_or_else(|e| panic!("pct {} --{k} {v}: {e}", args[0]));
                    checked += 1;
                }
            }
            Some("clone") => {
                pct_schema::check_vmid(&args[1]).unwrap();
                pct_schema::check_vmid(&args[2]).unwrap();
                for (k, v) in options(c) {
                    match k.as_str() {
                        "hostname" => pct_schema::check("hostname", &v).unwrap(),
                        "full" => assert_eq!(v, "1"),
                        "storage" => {
                            assert!(v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
                        }
                        other => panic!("unexpected pct clone option --{other}"),
                    }
                    checked += 1;
                }
            }
            _ => {}
        }
    }
    checked
}

#[test]
fn pct_create_and_delete_plans_are_valid_proxmox_commands() {
    let dir = tempfile::tempdir().unwrap();
    let r = Arc::new(RecordingRunner::new());
    script(&r);
    let gw = Gateway::new(paths(dir.path()), r.clone());
    let spec = spec(dir.path());

    let plan = gw.plan_create(&spec).unwrap();
    insta::assert_snapshot!("pct_create_plan", redact(&plan.to_string(), dir.path()));

    let rec = gw.create(&spec, &|_, _, _| {}).unwrap();
    let c = rec.spec.container.as_ref().unwrap();
    assert_eq!(c.id.as_deref(), Some("105"));
    assert_eq!(c.driver, CtDriver::Pct);
    let transcript = redact(&r.transcript(), dir.path());
    insta::assert_snapshot!("pct_create_commands", transcript);
    assert!(
        check_schema(&r.commands()) >= 12,
        "the options were checked"
    );
    // The template: the newest Debian standard template, downloaded.
    assert!(transcript.contains("pveam download local debian-13-standard_13.1-2_amd64.tar.zst"));
    // No secret in any argv: the password hash went through stdin.
    assert!(!transcript.contains("0123456789ABCDEF"));

    // Delete: stop, destroy (the bind-mounted volume is never a pct
    // volume, so it is kept), unregister.
    let r2 = Arc::new(RecordingRunner::new());
    r2.on(["pct", "status", "105"], Reply::ok("status: running\n"));
    r2.on(["pct", "status", "105"], Reply::ok("status: stopped\n"));
    r2.on(["pct", "status", "105"], Reply::ok("status: stopped\n"));
    r2.on(["pct", "status", "105"], Reply::ok("status: stopped\n"));
    let gw2 = Gateway::new(paths(dir.path()), r2.clone());
    gw2.delete(&rec.spec.id, false, &|_, _, _| {}).unwrap();
    insta::assert_snapshot!("pct_delete_commands", redact(&r2.transcript(), dir.path()));
    assert!(dir.path().join("volumes/office").is_dir(), "data kept");
}

/// `pvesh get /cluster/resources --output-format json` of a three-node
/// cluster: pve2 runs a gateway already, pve3 is offline, Ceph RBD is
/// shared (field names as pve-manager's PVE/API2/Cluster.pm prints them).
const RESOURCES: &str = r#"[
 {"id":"node/pve1","type":"node","node":"pve1","status":"online","maxmem":17179869184,"mem":4294967296,"cpu":0.1,"maxcpu":8},
 {"id":"node/pve2","type":"node","node":"pve2","status":"online","maxmem":17179869184,"mem":2147483648,"cpu":0.2,"maxcpu":8},
 {"id":"node/pve3","type":"node","node":"pve3","status":"offline"},
 {"id":"lxc/101","type":"lxc","node":"pve2","vmid":101,"status":"running","tags":"smbgateway"},
 {"id":"storage/pve1/ceph-rbd","type":"storage","storage":"ceph-rbd","node":"pve1","status":"available","shared":1},
 {"id":"storage/pve2/ceph-rbd","type":"storage","storage":"ceph-rbd","node":"pve2","status":"available","shared":1},
 {"id":"storage/pve1/local","type":"storage","storage":"local","node":"pve1","status":"available","shared":0}
]"#;

const PVE9: &str = "pve-manager/9.0.10/deb1ca707ec72a89 (running kernel: 6.14.11-2-pve)\n";

/// An HA share: CephFS volume (mounted at the same path on every node),
/// root disk on Ceph RBD.
fn ha_spec(dir: &Path) -> ShareSpec {
    let mut s = spec(dir);
    s.backend = BackendSpec::CephFs {
        fs: "cephfs".into(),
        group: None,
        mount: Some(dir.join("cephfs")),
        ceph: Default::default(),
    };
    s.container.as_mut().unwrap().storage = Some("ceph-rbd".into());
    s.ha = Some(HaSpec::new(true, None).unwrap());
    s
}

/// The subvolume `office` as Ceph 16 reports it (fixtures of the backends
/// crate), its directory present under the mount.
fn ceph_fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../backends/tests/fixtures/ceph-16")
}

/// `ceph fs subvolume info` of `office`.
fn office_info() -> String {
    std::fs::read_to_string(ceph_fixtures().join("sv_info_infinite.out"))
        .unwrap()
        .replace("/volumes/_nogroup/sub1/", "/volumes/_nogroup/office/")
}

fn script_cephfs(r: &RecordingRunner, dir: &Path) {
    let missing = std::fs::read_to_string(ceph_fixtures().join("sv_getpath_missing.err")).unwrap();
    // Missing until it is created.
    r.on(
        ["ceph", "fs", "subvolume", "getpath"],
        Reply::fail(2, missing),
    );
    r.on(["ceph", "fs", "subvolume", "create"], Reply::ok(""));
    let info = office_info();
    let path: serde_json::Value = serde_json::from_str(&info).unwrap();
    let path = path["path"]
        .as_str()
        .unwrap()
        .trim_start_matches('/')
        .to_owned();
    std::fs::create_dir_all(dir.join("cephfs").join(&path)).unwrap();
    for _ in 0..3 {
        r.on(
            ["ceph", "fs", "subvolume", "getpath"],
            Reply::ok(format!("/{path}\n")),
        );
    }
    for _ in 0..4 {
        r.on(["ceph", "fs", "subvolume", "info"], Reply::ok(info.clone()));
    }
}

#[test]
fn pct_ha_share_is_placed_under_ha_before_it_is_registered_and_taken_out_first() {
    let dir = tempfile::tempdir().unwrap();
    let r = Arc::new(RecordingRunner::new());
    script(&r);
    script_cephfs(&r, dir.path());
    for _ in 0..2 {
        r.on(["pvesh", "get", "/cluster/resources"], Reply::ok(RESOURCES));
    }
    r.on(["pveversion"], Reply::ok(PVE9));
    r.on(["ha-manager", "config"], Reply::ok(""));
    r.on(["ha-manager", "rules", "config"], Reply::ok("[]\n"));
    let gw = Gateway::new(paths(dir.path()), r.clone());
    let spec = ha_spec(dir.path());

    let plan = gw.plan_create(&spec).unwrap();
    let text = redact(&plan.to_string(), dir.path());
    insta::assert_snapshot!("pct_ha_create_plan", text);
    // pve2 already runs a gateway: pve1 first; pve3 is offline.
    assert!(text.contains("preferring pve1 (2), pve2 (1)"), "{text}");
    let ha_at = text.find("Proxmox HA").unwrap();
    assert!(ha_at > text.find("write container").unwrap(), "{text}");
    assert!(ha_at < text.find("record").unwrap_or(usize::MAX), "{text}");

    gw.create(&spec, &|_, _, _| {}).unwrap();
    let transcript = redact(&r.transcript(), dir.path());
    assert!(
        transcript.contains("$ ha-manager add ct:105 --state started --max_restart 1 --max_relocate 1\n$ ha-manager rules add node-affinity smbgw-office --resources ct:105 --nodes pve1:2,pve2:1 --strict 0\n"),
        "{transcript}"
    );
    assert!(transcript.find("ha-manager add").unwrap() > transcript.find("pct start 105").unwrap());
    assert!(check_schema(&r.commands()) >= 12);

    // Delete: out of HA first (HA would start the container again), then
    // stop and destroy.
    let r2 = Arc::new(RecordingRunner::new());
    // Planning the delete reads HA's node preference (what an undo would
    // restore), then the step itself reads the state again.
    r2.on(["pveversion"], Reply::ok(PVE9));
    r2.on(
        ["ha-manager", "config"],
        Reply::ok("ct:105\n\tmax_relocate 1\n\tmax_restart 1\n\tstate started\n\n"),
    );
    r2.on(
        ["ha-manager", "rules", "config"],
        Reply::ok(r#"[{"enabled":1,"nodes":"pve1:2,pve2:1","resources":"ct:105","rule":"smbgw-office","strict":"0","type":"node-affinity"}]"#),
    );
    r2.on(["pveversion"], Reply::ok(PVE9));
    r2.on(
        ["ha-manager", "config"],
        Reply::ok("ct:105\n\tmax_relocate 1\n\tmax_restart 1\n\tstate started\n\n"),
    );
    r2.on(
        ["ha-manager", "rules", "config"],
        Reply::ok(r#"[{"enabled":1,"nodes":"pve1:2,pve2:1","resources":"ct:105","rule":"smbgw-office","strict":"0","type":"node-affinity"}]"#),
    );
    let sub: serde_json::Value = serde_json::from_str(&office_info()).unwrap();
    for _ in 0..3 {
        r2.on(
            ["ceph", "fs", "subvolume", "info"],
            Reply::ok(office_info()),
        );
        r2.on(
            ["ceph", "fs", "subvolume", "getpath"],
            Reply::ok(format!("{}\n", sub["path"].as_str().unwrap())),
        );
    }
    r2.on(["pct", "status", "105"], Reply::ok("status: running\n"));
    for _ in 0..3 {
        r2.on(["pct", "status", "105"], Reply::ok("status: stopped\n"));
    }
    let gw2 = Gateway::new(paths(dir.path()), r2.clone());
    gw2.delete(&spec.id, false, &|_, _, _| {}).unwrap();
    let t = r2.transcript();
    let removed = t
        .find("$ ha-manager remove ct:105")
        .expect("resource removed");
    assert!(
        t.find("$ ha-manager rules remove smbgw-office").unwrap() < removed,
        "{t}"
    );
    assert!(
        removed
            < t.find("$ pct stop 105")
                .or(t.find("$ pct shutdown 105"))
                .unwrap(),
        "{t}"
    );
}

#[test]
fn a_failed_ha_step_takes_the_container_out_of_ha_and_the_create_rolls_back() {
    let dir = tempfile::tempdir().unwrap();
    let r = Arc::new(RecordingRunner::new());
    script(&r);
    script_cephfs(&r, dir.path());
    r.on(["pvesh", "get", "/cluster/resources"], Reply::ok(RESOURCES));
    // ensure: reads, `add` works, the rule is refused.
    r.on(["pveversion"], Reply::ok(PVE9));
    r.on(["ha-manager", "config"], Reply::ok(""));
    r.on(["ha-manager", "rules", "config"], Reply::ok("[]\n"));
    r.on(
        ["ha-manager", "rules", "add"],
        Reply::fail(
            255,
            "400 Parameter verification failed.\nnodes: no such node 'pve1'\n",
        ),
    );
    // The clean-up reads the state again: the resource is there.
    r.on(["pveversion"], Reply::ok(PVE9));
    r.on(
        ["ha-manager", "config"],
        Reply::ok("ct:105\n\tmax_relocate 1\n\tmax_restart 1\n\tstate started\n\n"),
    );
    r.on(["ha-manager", "rules", "config"], Reply::ok("[]\n"));
    // Undoing the new volume: no snapshots, removed.
    let empty = std::fs::read_to_string(ceph_fixtures().join("snap_ls_empty.out")).unwrap();
    r.on(
        ["ceph", "fs", "subvolume", "snapshot", "ls"],
        Reply::ok(empty),
    );
    let gw = Gateway::new(paths(dir.path()), r.clone());
    let e = gw.create(&ha_spec(dir.path()), &|_, _, _| {}).unwrap_err();
    assert_eq!(e.kind(), smbgw_core::ErrorKind::RolledBack, "{e}");
    assert!(e.to_string().contains("no such node"), "{e}");
    let t = r.transcript();
    let failed = t.find("$ ha-manager rules add").unwrap();
    let removed = t
        .find("$ ha-manager remove ct:105")
        .expect("taken out of HA again");
    let destroyed = t
        .find("$ pct destroy 105")
        .expect("the container is destroyed");
    assert!(failed < removed && removed < destroyed, "{t}");
    assert!(gw.list().unwrap().is_empty());
}

#[test]
fn ha_is_refused_where_it_cannot_work_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let r = Arc::new(RecordingRunner::new());
    r.on(["pvesh", "get", "/cluster/resources"], Reply::ok(RESOURCES));
    let gw = Gateway::new(paths(dir.path()), r.clone());
    let ha_spec = |dir: &Path| {
        let mut s = ha_spec(dir);
        s.container.as_mut().unwrap().id = Some("105".into());
        s
    };
    // Root filesystem on a storage other nodes cannot reach.
    let mut s = ha_spec(dir.path());
    s.container.as_mut().unwrap().storage = Some("local".into());
    let e = gw.plan_create(&s).unwrap_err().to_string();
    assert!(e.contains("shared storage"), "{e}");
    // No root filesystem storage given.
    let mut s = ha_spec(dir.path());
    s.container.as_mut().unwrap().storage = None;
    let e = gw.plan_create(&s).unwrap_err().to_string();
    assert!(e.contains("--ct-storage"), "{e}");
    // Plain LXC has no HA manager.
    let mut s = ha_spec(dir.path());
    s.container.as_mut().unwrap().driver = CtDriver::Lxc;
    let e = gw.plan_create(&s).unwrap_err().to_string();
    assert!(e.contains("pct driver"), "{e}");
    // Native mode fails over with CTDB, not Proxmox HA.
    let mut s = ha_spec(dir.path());
    s.mode = Mode::Native;
    s.container = None;
    let e = gw.plan_create(&s).unwrap_err().to_string();
    assert!(e.contains("--ctdb --vip"), "{e}");
    // A volume that is not at the same path on every node.
    let mut s = ha_spec(dir.path());
    s.backend = BackendSpec::dir(dir.path().join("volumes")).unwrap();
    let e = gw.plan_create(&s).unwrap_err().to_string();
    assert!(e.contains("use the CephFS backend"), "{e}");
    // A floating address is for native shares.
    let mut s = spec(dir.path());
    s.ha = Some(HaSpec::new(false, Some("192.0.2.60/24@vmbr0")).unwrap());
    let e = gw.plan_create(&s).unwrap_err().to_string();
    assert!(e.contains("--ha"), "{e}");
    // Native with a floating address on a node without CTDB.
    s.mode = Mode::Native;
    s.container = None;
    let e = gw.plan_create(&s).unwrap_err().to_string();
    assert!(e.contains("not set up for CTDB"), "{e}");
    let ran: Vec<String> = r.commands().iter().map(|c| c.argv().join(" ")).collect();
    assert!(
        ran.iter()
            .all(|c| c.starts_with("pvesh get /cluster/resources")),
        "only the cluster was asked: {ran:?}"
    );
}

#[test]
fn pct_mode_refuses_what_proxmox_would_refuse_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let r = Arc::new(RecordingRunner::new());
    let gw = Gateway::new(paths(dir.path()), r.clone());
    // No network: Proxmox containers need one.
    let mut s = spec(dir.path());
    s.container.as_mut().unwrap().network = Network::None;
    let e = gw.plan_create(&s).unwrap_err().to_string();
    assert!(e.contains("--bridge"), "{e}");
    // Privileged on Proxmox.
    let mut s = spec(dir.path());
    s.container.as_mut().unwrap().unprivileged = false;
    let e = gw.plan_create(&s).unwrap_err().to_string();
    assert!(e.contains("unprivileged"), "{e}");
    // A VMID Proxmox reserves.
    let mut s = spec(dir.path());
    s.container.as_mut().unwrap().id = Some("99".into());
    let e = gw.plan_create(&s).unwrap_err().to_string();
    assert!(e.contains("100"), "{e}");
    assert!(r.commands().is_empty(), "nothing ran: {}", r.transcript());
}

#[test]
fn the_schema_facts_reject_what_proxmox_rejects() {
    let bad = [
        ("memory", "8"),
        ("memory", "lots"),
        ("swap", "-1"),
        ("cores", "0"),
        ("cores", "9000"),
        ("unprivileged", "yes"),
        ("hostname", "bad_name"),
        ("hostname", "-x"),
        ("net0", "bridge=vmbr0"),
        ("net0", "name=eth0,bridge=vmbr0,tag=4095"),
        ("net0", "name=eth0,bridge=vmbr0,ip=10.0.0.1"),
        ("net0", "name=eth0,bridge=vmbr0,gw=nope"),
        ("net0", "name=eth0,colour=blue"),
        ("mp0", "/srv/x"),
        ("mp0", "relative,mp=/srv/x"),
        ("mp0", "/srv/x,mp=/"),
        ("mp0", "/srv/x,mp=/a/../b"),
        ("mp0", "/srv/x,mp=/a,idmap=u:0:1"),
        ("mp0", "/srv/x,mp=/a,shared=2"),
        ("mp256", "/srv/x,mp=/a"),
        ("rootfs", "local"),
        ("rootfs", "1local:2"),
        ("rootfs", "local:0"),
        ("tags", "a b;!c"),
        ("nameserver", "192.0.2.1"),
    ];
    for (k, v) in bad {
        assert!(
            pct_schema::check(k, v).is_err(),
            "--{k} {v} must be refused"
        );
    }
    let good = [
        ("memory", "16"),
        ("swap", "0"),
        ("cores", "8192"),
        ("hostname", "smbgw-office.example.com"),
        ("net0", "name=eth0,bridge=vmbr0,ip=dhcp"),
        (
            "net0",
            "name=eth0,bridge=vmbr0,tag=4094,ip=192.0.2.5/24,gw=192.0.2.1",
        ),
        (
            "mp0",
            "/tank/office,mp=/srv/office,backup=0,shared=1,idmap=passthrough",
        ),
        (
            "mp3",
            "/srv/x,mp=/a,idmap=u:0:100000:65536;g:0:100000:65536",
        ),
        ("rootfs", "local-zfs:2"),
        ("tags", "smbgateway;office"),
    ];
    for (k, v) in good {
        pct_schema::check(k, v).unwrap_or_else(|e| panic!("--{k} {v}: {e}"));
    }
    for id in ["99", "0100", "1000000000", "x"] {
        assert!(pct_schema::check_vmid(id).is_err(), "{id}");
    }
    pct_schema::check_vmid("100").unwrap();
}

#[test]
fn the_newest_debian_standard_template_is_chosen() {
    assert_eq!(
        provision::PctDriver::newest_debian(AVAILABLE).as_deref(),
        Some("debian-13-standard_13.1-2_amd64.tar.zst")
    );
    assert_eq!(
        provision::PctDriver::newest_debian("system ubuntu-24.04-standard_24.04-2_amd64.tar.zst\n"),
        None
    );
    assert_eq!(
        provision::PctDriver::find_template(PCT_LIST_TEMPLATE).as_deref(),
        Some("9001")
    );
    assert_eq!(provision::PctDriver::find_template(PCT_LIST_EMPTY), None);
}
