//! The gateway smb.conf builder: snapshots, and testparm accepts every
//! emitted file without a warning.

use smbconf::{Config, Encryption, GatewayConf, GatewayShare, Signing};

use crate::real;

fn sample() -> GatewayConf {
    let mut office = GatewayShare::new("office", "/srv/office");
    office.comment = Some("Office files".into());
    office.valid_users = vec![
        "@staff".into(),
        "alice".into(),
        "@\"CORP\\Domain Users\"".replace('"', ""),
    ];
    office.vfs_objects = vec!["acl_xattr".into()];
    let mut archive = GatewayShare::new("archive", "/srv/archive");
    archive.read_only = true;
    archive.security.encryption = Some(Encryption::Required);
    GatewayConf {
        workgroup: "CORP".into(),
        signing: Signing::Required,
        encryption: Encryption::Desired,
        ports: Some(vec![4450]),
        interfaces: vec!["lo".into()],
        state_dir: Some("/var/lib/pve-smbgateway/instance".into()),
        shares: vec![office, archive],
        ..GatewayConf::default()
    }
}

#[test]
fn default_gateway_snapshot() {
    let mut c = GatewayConf::default();
    c.shares.push(GatewayShare::new("data", "/srv/data"));
    insta::assert_snapshot!("default_gateway", c.render().unwrap());
}

#[test]
fn full_gateway_snapshot() {
    insta::assert_snapshot!("full_gateway", sample().render().unwrap());
}

#[test]
fn emitted_config_has_secure_effective_values() {
    let cfg = Config::load(&sample().render().unwrap(), None, &smbconf::NoIncludes);
    assert!(!cfg.has_errors(), "{:?}", cfg.diagnostics());
    assert!(cfg.diagnostics().is_empty(), "{:?}", cfg.diagnostics());
    assert_eq!(cfg.global("server min protocol").as_deref(), Some("SMB2"));
    assert_eq!(cfg.global("map to guest").as_deref(), Some("Never"));
    assert_eq!(cfg.global("server signing").as_deref(), Some("required"));
    let office = cfg.service("office").unwrap();
    assert_eq!(office.get("guest ok").as_deref(), Some("No"));
    assert_eq!(
        office.get("valid users").as_deref(),
        Some("@staff alice \"@CORP\\Domain Users\"")
    );
    assert_eq!(
        cfg.service("archive")
            .unwrap()
            .get("smb encrypt")
            .as_deref(),
        Some("required")
    );
}

#[test]
fn builder_rejects_bad_input() {
    for bad in ["bad]name", "pct%u", "global", "IPC$", "two\nlines"] {
        let mut c = GatewayConf::default();
        c.shares.push(GatewayShare::new(bad, "/srv/x"));
        assert!(c.render().is_err(), "{bad:?} accepted");
    }
    let mut c = GatewayConf::default();
    c.shares.push(GatewayShare::new("rel", "srv/x"));
    assert!(c.render().is_err());
    let c = GatewayConf {
        min_protocol: "NT1".into(),
        ..GatewayConf::default()
    };
    assert!(c.render().is_err());
    let mut c = GatewayConf::default();
    c.shares.push(GatewayShare::new("dup", "/a"));
    c.shares.push(GatewayShare::new("DUP", "/b"));
    assert!(c.render().is_err());
}

#[test]
fn testparm_accepts_emitted_configs_without_warnings() {
    if !real::require("testparm") {
        return;
    }
    let mut default = GatewayConf::default();
    default.shares.push(GatewayShare::new("data", "/srv/data"));
    let state = tempfile::tempdir().unwrap();
    for sub in [
        "lock", "state", "cache", "private", "pid", "ncalrpc", "binddns", "log",
    ] {
        std::fs::create_dir_all(state.path().join(sub)).unwrap();
    }
    let full = GatewayConf {
        state_dir: Some(state.path().display().to_string()),
        ..sample()
    };
    for conf in [default, full] {
        let text = conf.render().unwrap();
        let (rc, out, err) = real::testparm(&text, &["-s", "--suppress-prompt"]);
        assert_eq!(rc, 0, "{err}");
        let noise = [
            "Load smb config files from",
            "Loaded services file OK.",
            "Weak crypto is allowed",
            "Server role: ROLE_STANDALONE",
            "",
        ];
        for line in err.lines() {
            assert!(
                noise.iter().any(|n| if n.is_empty() {
                    line.trim().is_empty()
                } else {
                    line.starts_with(n)
                }),
                "testparm warning: {line}\n{text}"
            );
        }
        // And our canonical form of it equals testparm's.
        let cfg = Config::load(&text, None, &smbconf::NoIncludes);
        assert_eq!(cfg.canonical(), out);
    }
}
