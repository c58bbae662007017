//! Native Samba editing and tool-output parsers.

use provision::{parse_pdbedit_list, parse_smbstatus, NativeSamba};
use runner::RecordingRunner;

#[test]
fn the_include_line_is_appended_once_with_the_file_line_ending() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("smb.conf");
    let original = "[global]\r\n   workgroup = W\r\n[data]\r\n   path = /srv/data"; // no final newline
    std::fs::write(&conf, original).unwrap();
    let samba = NativeSamba::with_paths(&conf, dir.path().join("inc.conf"));
    let r = RecordingRunner::new();
    let share = provision::ShareConf {
        name: "s1".into(),
        comment: None,
        read_only: true,
        valid_users: vec![],
        encryption: "off".into(),
        force_group: None,
        nt_acls: false,
        audit: false,
    };
    samba.serve(&r, &share.to_gateway_share("/srv/s1")).unwrap();
    samba.serve(&r, &share.to_gateway_share("/srv/s1")).unwrap();
    let after = std::fs::read_to_string(&conf).unwrap();
    assert_eq!(
        after,
        format!(
            "{original}\r\n\r\n{}\r\ninclude = {}\r\n",
            provision::INCLUDE_MARKER,
            dir.path().join("inc.conf").display()
        )
    );
    assert_eq!(samba.managed_shares().unwrap(), vec!["s1".to_owned()]);
    assert!(
        samba.unserve(&r, "S1").unwrap(),
        "share names compare case-insensitively"
    );
    assert!(!samba.unserve(&r, "s1").unwrap());
    assert!(samba.managed_shares().unwrap().is_empty());
    // The last share gone, the include line and file go too; only the
    // line ending added to the unterminated last line remains.
    assert_eq!(
        std::fs::read_to_string(&conf).unwrap(),
        format!("{original}\r\n")
    );
    assert!(!dir.path().join("inc.conf").exists());
}

#[test]
fn smbstatus_json_is_parsed_per_share() {
    let json = include_str!("../fixtures/smbstatus.json");
    // Captured from smbstatus 4.17.12 while smbclient held r.txt open.
    let s = parse_smbstatus(json, "TEAM", "/tmp/m1/gw/volumes/team").unwrap();
    assert_eq!(s.connections, 1);
    assert_eq!(s.open_files, 1);
    // smbstatus ran outside the namespace that knows the user: a uid.
    assert_eq!(s.users, vec!["999".to_owned()]);
    let other = parse_smbstatus(json, "other", "/srv/other").unwrap();
    assert_eq!((other.connections, other.open_files), (0, 0));
    assert!(parse_smbstatus("not json", "x", "/x").is_err());
}

#[test]
fn pdbedit_list_is_parsed() {
    assert_eq!(
        parse_pdbedit_list("alice:999:\nbob:998:Bob B\n\n"),
        vec!["alice".to_owned(), "bob".to_owned()]
    );
}

#[test]
fn domain_globals_come_first_and_leave_no_trace() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("smb.conf");
    let original = "[global]\n   workgroup = W\n[data]\n   path = /srv/data\n";
    std::fs::write(&conf, original).unwrap();
    let samba = NativeSamba::with_paths(&conf, dir.path().join("inc.conf"));
    let r = RecordingRunner::new();
    let m = provision::domain::Membership {
        realm: "CORP.EXAMPLE.COM".into(),
        workgroup: "CORP".into(),
        join_user: "Administrator".into(),
        ou: None,
        netbios_name: None,
    };
    let g = m.globals(true);
    samba.set_domain(&r, Some(&g)).unwrap();
    let share = provision::ShareConf {
        name: "s1".into(),
        comment: None,
        read_only: false,
        valid_users: vec![m.qualify("Domain Users", true)],
        encryption: "off".into(),
        force_group: None,
        nt_acls: true,
        audit: false,
    };
    samba.serve(&r, &share.to_gateway_share("/srv/s1")).unwrap();
    // Serving again and setting the same membership change nothing.
    let inc = std::fs::read_to_string(dir.path().join("inc.conf")).unwrap();
    samba.set_domain(&r, Some(&g)).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("inc.conf")).unwrap(),
        inc
    );
    // An explicit [global] section, before the share (the include comes
    // after the administrator's [data]).
    let at_global = inc.find("[global]").expect(&inc);
    let at_share = inc.find("[s1]").expect(&inc);
    assert!(at_global < at_share, "{inc}");
    assert!(inc.contains("security = ads"), "{inc}");
    assert!(
        inc.contains("valid users = \"@CORP\\Domain Users\""),
        "{inc}"
    );
    assert!(inc.contains("vfs objects = acl_xattr"), "{inc}");
    assert_eq!(samba.managed_shares().unwrap(), vec!["s1".to_owned()]);
    assert_eq!(
        samba
            .domain_globals()
            .unwrap()
            .unwrap()
            .first()
            .map(|(k, _)| k.as_str()),
        Some("security")
    );
    // The share goes, the membership stays until it is taken out; then
    // the main file is byte for byte what it was.
    samba.unserve(&r, "s1").unwrap();
    assert!(samba.domain_globals().unwrap().is_some());
    samba.set_domain(&r, None).unwrap();
    assert!(!dir.path().join("inc.conf").exists());
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), original);
}

#[test]
fn smbd_tunables_match_the_packaged_drop_in_and_yield_to_the_callers() {
    use provision::{smbd_glibc_tunables, SMBD_MALLOC_TUNABLES};
    let drop_in = include_str!("../../../../debian/smbd.service.d/10-pve-smbgateway.conf");
    let settings: Vec<&str> = drop_in
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    assert_eq!(
        settings,
        [
            "[Service]".to_owned(),
            format!("Environment=GLIBC_TUNABLES={SMBD_MALLOC_TUNABLES}")
        ]
    );
    // 16 MiB > the 8 MiB SMB2 maximum read/write; 32 MiB > three freed buffers.
    assert_eq!(
        SMBD_MALLOC_TUNABLES,
        "glibc.malloc.mmap_threshold=16777216:glibc.malloc.trim_threshold=33554432"
    );
    assert_eq!(smbd_glibc_tunables(None), SMBD_MALLOC_TUNABLES);
    assert_eq!(smbd_glibc_tunables(Some(" ")), SMBD_MALLOC_TUNABLES);
    // glibc applies the last setting of a tunable: the caller's come last.
    assert_eq!(
        smbd_glibc_tunables(Some("glibc.malloc.trim_threshold=0")),
        format!("{SMBD_MALLOC_TUNABLES}:glibc.malloc.trim_threshold=0")
    );
}

#[test]
fn an_smbd_started_before_the_drop_in_is_named_until_it_restarts() {
    use provision::{smbd_without_drop_in, SMBD_MALLOC_TUNABLES};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (pid_dir, proc) = (root.join("run/samba"), root.join("proc"));
    let (drop_in, mask) = (root.join("lib/10-pve.conf"), root.join("etc/10-pve.conf"));
    std::fs::create_dir_all(&pid_dir).unwrap();
    std::fs::create_dir_all(proc.join("4242")).unwrap();
    std::fs::create_dir_all(drop_in.parent().unwrap()).unwrap();
    std::fs::create_dir_all(mask.parent().unwrap()).unwrap();
    std::fs::write(pid_dir.join("smbd.pid"), "4242\n").unwrap();
    std::fs::write(proc.join("4242/comm"), "smbd\n").unwrap();
    std::fs::write(proc.join("4242/stat"), "4242 (smbd) S 1 4242").unwrap();
    std::fs::write(proc.join("4242/environ"), b"LANG=C\0PATH=/usr/bin\0").unwrap();
    let check = || smbd_without_drop_in(&pid_dir, &drop_in, &mask, &proc);
    // Package not installed (or an old one): nothing to say.
    assert_eq!(check(), None);
    std::fs::write(&drop_in, "[Service]\n").unwrap();
    assert_eq!(check(), Some(4242));
    // Restarted under the drop-in: the environment block of a real process
    // started with its setting (glibc splits the value in place).
    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .env("GLIBC_TUNABLES", SMBD_MALLOC_TUNABLES)
        .spawn()
        .unwrap();
    // Once it runs `sleep` (not the forked test) and the loader is done.
    let comm = format!("/proc/{}/comm", child.id());
    let start = std::time::Instant::now();
    while std::fs::read_to_string(&comm).unwrap_or_default().trim() != "sleep" {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "sleep did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    let real = std::fs::read(format!("/proc/{}/environ", child.id())).unwrap();
    eprintln!(
        "this glibc {} GLIBC_TUNABLES in place",
        if real.windows(2).any(|w| w == b"\0g") {
            "splits"
        } else {
            "does not split"
        }
    );
    let _ = child.kill();
    let _ = child.wait();
    std::fs::write(proc.join("4242/environ"), &real).unwrap();
    assert_eq!(check(), None);
    // The same value as glibc 2.36 leaves it (split in place), last or not,
    // and unsplit (a later glibc leaves it alone).
    for block in [
        format!(
            "LANG=C\0GLIBC_TUNABLES={}\0PATH=/bin\0",
            SMBD_MALLOC_TUNABLES.replace(':', "\0")
        ),
        format!(
            "LANG=C\0GLIBC_TUNABLES={}\0",
            SMBD_MALLOC_TUNABLES.replace(':', "\0")
        ),
        format!("LANG=C\0GLIBC_TUNABLES={SMBD_MALLOC_TUNABLES}\0PATH=/bin\0"),
    ] {
        std::fs::write(proc.join("4242/environ"), block).unwrap();
        assert_eq!(check(), None);
    }
    // An administrator's own values are left alone, also ones that start
    // like ours, and an empty one.
    for own in [
        format!(
            "GLIBC_TUNABLES={}\0glibc.malloc.arena_max=2\0",
            SMBD_MALLOC_TUNABLES.replace(':', "\0")
        ),
        "GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432\0".to_owned(),
        "GLIBC_TUNABLES=glibc.malloc.arena_max=2\0".to_owned(),
        "GLIBC_TUNABLES=\0PATH=/bin\0".to_owned(),
    ] {
        std::fs::write(proc.join("4242/environ"), own).unwrap();
        assert_eq!(check(), None);
    }
    // Running under an older version of the drop-in (the mmap threshold
    // alone): named until it restarts, also as the last entry.
    std::fs::write(
        proc.join("4242/environ"),
        b"LANG=C\0GLIBC_TUNABLES=glibc.malloc.mmap_threshold=16777216\0PATH=/bin\0",
    )
    .unwrap();
    assert_eq!(check(), Some(4242));
    std::fs::write(
        proc.join("4242/environ"),
        b"GLIBC_TUNABLES=glibc.malloc.mmap_threshold=16777216\0",
    )
    .unwrap();
    assert_eq!(check(), Some(4242));
    // No GLIBC_TUNABLES at all again.
    std::fs::write(proc.join("4242/environ"), b"LANG=C\0").unwrap();
    assert_eq!(check(), Some(4242));
    // Masked, or the pid file names another process, or no smbd runs.
    std::os::unix::fs::symlink("/dev/null", &mask).unwrap();
    assert_eq!(check(), None);
    std::fs::remove_file(&mask).unwrap();
    std::fs::write(proc.join("4242/comm"), "bash\n").unwrap();
    assert_eq!(check(), None);
    std::fs::write(proc.join("4242/comm"), "smbd\n").unwrap();
    std::fs::write(proc.join("4242/stat"), "4242 (smbd) Z 1 4242").unwrap();
    assert_eq!(check(), None);
    std::fs::write(proc.join("4242/stat"), "4242 (smbd) S 1 4242").unwrap();
    assert_eq!(check(), Some(4242));
    std::fs::remove_file(pid_dir.join("smbd.pid")).unwrap();
    assert_eq!(check(), None);
}
