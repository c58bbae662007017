//! The Proxmox container driver against recorded `pct`/`pveam`/`pvesh`
//! runs (Proxmox cannot run here): what it asks Proxmox in each situation,
//! and what it refuses before asking anything.

use std::path::Path;

use provision::{
    container::PCT_TEMPLATE_NAME, ContainerConfig, ContainerDriver, CtState, IpConfig, Network,
    PctDriver,
};
use runner::{RecordingRunner, Reply};

const LIST_WITH_TEMPLATE: &str = "VMID       Status     Lock         Name\n\
9000       stopped                 smbgw-template\n\
101        running                 web\n";
const LIST_WITHOUT: &str =
    "VMID       Status     Lock         Name\n101        running                 web\n";
const AVAILABLE: &str = "system          debian-12-standard_12.7-1_amd64.tar.zst\n\
system          debian-13-standard_13.1-2_amd64.tar.zst\n\
system          ubuntu-24.04-standard_24.04-2_amd64.tar.zst\n";

fn bridge() -> Network {
    Network::Bridge {
        bridge: "vmbr0".into(),
        vlan: None,
        ip: IpConfig::Dhcp,
    }
}

fn driver(network: Network) -> PctDriver {
    PctDriver {
        template_storage: "local".into(),
        rootfs_storage: "local-lvm".into(),
        template_network: network,
    }
}

fn ct(unprivileged: bool) -> ContainerConfig {
    crate::team_container("120", unprivileged, bridge())
}

/// The commands run, one line each, program first.
fn ran(r: &RecordingRunner) -> Vec<String> {
    r.commands().iter().map(|c| c.argv().join(" ")).collect()
}

#[test]
fn a_prepared_template_is_found_and_nothing_else_runs() {
    let r = RecordingRunner::new();
    r.on(["pct", "list"], Reply::ok(LIST_WITH_TEMPLATE));
    driver(bridge()).prepare_template(&r).unwrap();
    assert_eq!(ran(&r), ["pct list"]);
}

#[test]
fn building_the_template_without_a_network_is_refused_before_anything_is_created() {
    let r = RecordingRunner::new();
    r.on(["pct", "list"], Reply::ok(LIST_WITHOUT));
    let err = driver(Network::None).prepare_template(&r).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("needs a network") && msg.contains("bridge"),
        "{msg}"
    );
    assert_eq!(ran(&r), ["pct list"]);
}

#[test]
fn an_empty_template_index_is_updated_and_the_newest_debian_downloaded() {
    let r = RecordingRunner::new();
    r.on(["pct", "list"], Reply::ok(LIST_WITHOUT));
    // 9000 is taken, 9001 is free.
    r.on(
        ["pvesh", "get", "/cluster/nextid"],
        Reply::fail(2, "VM 9000 already exists"),
    );
    r.on(["pveam", "list"], Reply::ok("NAME SIZE\n"));
    r.on(["pveam", "available"], Reply::ok(""));
    r.on(["pveam", "available"], Reply::ok(AVAILABLE));
    driver(bridge()).prepare_template(&r).unwrap();
    let cmds = ran(&r);
    let pos = |prefix: &str| {
        cmds.iter()
            .position(|c| c.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` in {cmds:#?}"))
    };
    assert!(pos("pveam update") < pos("pveam download"));
    assert!(
        cmds.contains(&"pveam download local debian-13-standard_13.1-2_amd64.tar.zst".to_string())
    );
    let create = &cmds[pos("pct create")];
    assert!(
        create.starts_with("pct create 9001 local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst"),
        "{create}"
    );
    assert!(
        create.contains(&format!("--hostname {PCT_TEMPLATE_NAME}")),
        "{create}"
    );
    assert!(
        create.contains("--net0 name=eth0,bridge=vmbr0,ip=dhcp"),
        "{create}"
    );
    assert!(pos("pct start 9001") < pos("pct exec 9001"));
    assert!(pos("pct stop 9001") < pos("pct template 9001"));
}

#[test]
fn no_debian_template_even_after_an_update_is_a_clear_error() {
    let r = RecordingRunner::new();
    r.on(["pct", "list"], Reply::ok(LIST_WITHOUT));
    r.on(["pveam", "available"], Reply::ok(""));
    r.on(
        ["pveam", "available"],
        Reply::ok("system ubuntu-24.04-standard_24.04-2_amd64.tar.zst\n"),
    );
    let err = driver(bridge()).prepare_template(&r).unwrap_err();
    assert!(
        err.to_string()
            .contains("lists no Debian standard template"),
        "{err}"
    );
    assert!(!ran(&r).iter().any(|c| c.starts_with("pct create")));
}

#[test]
fn a_failed_samba_install_still_stops_the_template_container_and_is_not_templated() {
    let r = RecordingRunner::new();
    r.on(["pct", "list"], Reply::ok(LIST_WITHOUT));
    r.on(
        ["pveam", "list"],
        Reply::ok("local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst 123MB\n"),
    );
    r.on(["pveam", "available"], Reply::ok(AVAILABLE));
    r.on(
        ["pct", "exec"],
        Reply::fail(100, "E: Unable to locate package samba"),
    );
    let err = driver(bridge()).prepare_template(&r).unwrap_err();
    assert!(
        err.to_string().contains("Unable to locate package samba"),
        "{err}"
    );
    let cmds = ran(&r);
    assert!(
        !cmds.iter().any(|c| c.starts_with("pveam download")),
        "{cmds:#?}"
    );
    assert!(cmds.iter().any(|c| c == "pct stop 9000"), "{cmds:#?}");
    assert!(
        !cmds.iter().any(|c| c.starts_with("pct template")),
        "{cmds:#?}"
    );
}

#[test]
fn a_privileged_share_container_is_refused_before_anything_runs() {
    let r = RecordingRunner::new();
    let err = driver(bridge())
        .create(&r, &ct(false), Path::new("/tank/team"))
        .unwrap_err();
    assert!(
        err.to_string().contains("with the lxc driver only"),
        "{err}"
    );
    assert!(ran(&r).is_empty());
}

#[test]
fn a_missing_template_at_create_says_to_re_run() {
    let r = RecordingRunner::new();
    r.on(["pct", "list"], Reply::ok(LIST_WITHOUT));
    let err = driver(bridge())
        .create(&r, &ct(true), Path::new("/tank/team"))
        .unwrap_err();
    assert!(err.to_string().contains("re-run to build it"), "{err}");
    assert_eq!(ran(&r), ["pct list"]);
}

#[test]
fn options_proxmox_would_refuse_are_refused_before_anything_runs() {
    let r = RecordingRunner::new();
    let mut bad = ct(true);
    bad.hostname = "not a hostname".into();
    let err = driver(bridge())
        .create(&r, &bad, Path::new("/tank/team"))
        .unwrap_err();
    assert!(err.to_string().contains("--hostname"), "{err}");
    bad = ct(true);
    bad.id = "12a".into();
    assert!(driver(bridge())
        .create(&r, &bad, Path::new("/tank/team"))
        .is_err());
    assert!(ran(&r).is_empty());
}

#[test]
fn state_follows_pct_status_and_each_verb_converges() {
    let d = driver(bridge());
    let r = RecordingRunner::new();
    r.on(
        ["pct", "status", "120"],
        Reply::fail(
            2,
            "Configuration file 'nodes/pve/lxc/120.conf' does not exist",
        ),
    );
    assert_eq!(d.state(&r, "120").unwrap(), CtState::Absent);
    // Destroying an absent container asks nothing more.
    r.on(
        ["pct", "status", "120"],
        Reply::fail(
            2,
            "Configuration file 'nodes/pve/lxc/120.conf' does not exist",
        ),
    );
    d.destroy(&r, "120").unwrap();
    // Starting a running one, stopping a stopped one: nothing to do.
    r.on(["pct", "status", "120"], Reply::ok("status: running\n"));
    d.start(&r, "120").unwrap();
    r.on(["pct", "status", "120"], Reply::ok("status: stopped\n"));
    d.stop(&r, "120").unwrap();
    assert!(
        ran(&r).iter().all(|c| c == "pct status 120"),
        "{:#?}",
        ran(&r)
    );
    // Any other failure of `pct status` is an error, not a state.
    r.on(
        ["pct", "status", "120"],
        Reply::fail(255, "ipcc_send_rec failed"),
    );
    assert!(d.state(&r, "120").is_err());
    assert_eq!(
        [CtState::Absent, CtState::Stopped, CtState::Running].map(|s| s.to_string()),
        ["absent", "stopped", "running"]
    );
}
