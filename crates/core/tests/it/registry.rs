//! The registry file on disk.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use smbgw_core::registry::{Registry, Shares};
use smbgw_core::spec::{parse_quota, ShareId};
use smbgw_core::Error;

use crate::{dir_record, full_record};

fn id(s: &str) -> ShareId {
    ShareId::new(s).unwrap()
}

fn names_in(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect()
}

/// A file holding what a later version or a human might add: comments,
/// a section of another type, unknown keys inside a share, odd spacing.
const FOREIGN: &str = "# pve-smbgateway registry
# (hand-edited)

share: team
\tbackend zfs
\tzfs-parent rpool/shares
\t# the volume is adopted
\tvolume team
\texisting 1
\tmode native
\tworkgroup WORKGROUP
\tfuture-key some value
\tvolume-id rpool/shares/team
\tpath /rpool/shares/team
\tcreated-at 1700000000

ctdb-cluster: main
\tnodes 10.0.0.1,10.0.0.2
\tfuture-list a
\tfuture-list b

share: docs
    backend   dir
    dir-root /srv/shares
    volume docs
    mode lxc
    workgroup WORKGROUP
    volume-id /srv/shares/docs
    path /srv/shares/docs
    created-at   1700000001
";

#[test]
fn missing_file_is_an_empty_registry() {
    let dir = tempfile::tempdir().unwrap();
    let reg = Registry::new(dir.path().join("shares.cfg"));
    assert!(reg.load().unwrap().is_empty());
    assert!(reg.get(&id("team")).unwrap().is_none());
    // Nothing was created by reading.
    assert!(names_in(dir.path()).is_empty());
}

#[test]
fn paths() {
    let reg = Registry::new("/x/shares.cfg");
    assert_eq!(reg.lock_path(), Path::new("/x/shares.cfg.lock"));
    let d = Registry::default_path();
    if Path::new("/etc/pve").is_dir() {
        assert_eq!(d, Path::new("/etc/pve/smbgateway.cfg"));
    } else {
        assert_eq!(d, Path::new("/etc/pve-smbgateway/shares.cfg"));
    }
}

#[test]
fn update_creates_directory_file_and_lock_with_safe_modes() {
    let dir = tempfile::tempdir().unwrap();
    let reg = Registry::new(dir.path().join("sub/shares.cfg"));
    reg.update(|s| s.insert(full_record("team"))).unwrap();
    let mode = fs::metadata(reg.path()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640, "{mode:o}");
    assert_eq!(mode & 0o007, 0, "not world-readable or -writable");
    let lock_mode = fs::metadata(reg.lock_path()).unwrap().permissions().mode() & 0o777;
    assert_eq!(lock_mode & 0o077, 0, "{lock_mode:o}");
    assert_eq!(reg.get(&id("team")).unwrap(), Some(full_record("team")));
}

#[test]
fn temp_files_are_cleaned_up() {
    let dir = tempfile::tempdir().unwrap();
    let reg = Registry::new(dir.path().join("shares.cfg"));
    for i in 0..5 {
        reg.update(|s| s.insert(dir_record(&format!("share{i}"))))
            .unwrap();
    }
    reg.update(|s| {
        s.remove(&id("share0"));
        Ok(())
    })
    .unwrap();
    assert_eq!(
        names_in(dir.path()),
        BTreeSet::from(["shares.cfg".to_owned(), "shares.cfg.lock".to_owned()])
    );
    assert_eq!(reg.load().unwrap().len(), 4);
}

#[test]
fn failed_closure_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let reg = Registry::new(dir.path().join("shares.cfg"));
    // Into a missing file: it stays missing.
    let e = reg
        .update(|s| {
            s.insert(dir_record("team"))?;
            Err::<(), _>(Error::ShareExists {
                id: "forced".into(),
            })
        })
        .unwrap_err();
    assert!(e.to_string().contains("forced"));
    assert!(!reg.path().exists());

    fs::write(reg.path(), FOREIGN).unwrap();
    let before = fs::metadata(reg.path()).unwrap().modified().unwrap();
    thread::sleep(Duration::from_millis(20));
    // An error from the closure after changes.
    reg.update(|s| {
        s.remove(&id("team"));
        s.insert(dir_record("new"))?;
        Err::<(), _>(Error::ShareExists { id: "x".into() })
    })
    .unwrap_err();
    // An invalid record: refused by insert.
    let mut bad = dir_record("bad");
    bad.spec.quota = Some(parse_quota("1G").unwrap());
    let e = reg.update(|s| s.insert(bad.clone())).unwrap_err();
    assert!(matches!(e, Error::QuotaUnenforced { .. }), "{e}");
    // An invalid change through get_mut: refused when writing.
    let e = reg
        .update(|s| {
            s.get_mut(&id("docs")).unwrap().spec.comment = Some("a\nb".into());
            Ok(())
        })
        .unwrap_err();
    assert!(e.to_string().contains("line break"), "{e}");
    // Renaming onto an existing id: refused when writing.
    let e = reg
        .update(|s| {
            s.get_mut(&id("docs")).unwrap().spec.id = id("team");
            Ok(())
        })
        .unwrap_err();
    assert!(matches!(e, Error::ShareExists { .. }), "{e}");
    // A duplicate insert, case-insensitively against other types too.
    let e = reg.update(|s| s.insert(dir_record("team"))).unwrap_err();
    assert!(matches!(e, Error::ShareExists { .. }), "{e}");
    let e = reg.update(|s| s.insert(dir_record("main"))).unwrap_err();
    assert!(matches!(e, Error::ShareExists { .. }), "{e}");

    assert_eq!(fs::read_to_string(reg.path()).unwrap(), FOREIGN);
    assert_eq!(
        fs::metadata(reg.path()).unwrap().modified().unwrap(),
        before
    );
    assert_eq!(
        names_in(dir.path()),
        BTreeSet::from(["shares.cfg".to_owned(), "shares.cfg.lock".to_owned()])
    );
}

#[test]
fn unchanged_update_does_not_rewrite() {
    let dir = tempfile::tempdir().unwrap();
    let reg = Registry::new(dir.path().join("shares.cfg"));
    fs::write(reg.path(), FOREIGN).unwrap();
    fs::set_permissions(reg.path(), fs::Permissions::from_mode(0o600)).unwrap();
    let n = reg.update(|s| Ok(s.len())).unwrap();
    assert_eq!(n, 2);
    // Not rewritten: the mode we set is still there.
    let mode = fs::metadata(reg.path()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn foreign_content_survives_every_kind_of_update() {
    let dir = tempfile::tempdir().unwrap();
    let reg = Registry::new(dir.path().join("shares.cfg"));
    fs::write(reg.path(), FOREIGN).unwrap();

    let shares = reg.load().unwrap();
    assert_eq!(shares.len(), 2);
    assert!(shares[0].spec.volume.existing);

    // Insert: the old text is kept byte for byte, the new share follows.
    reg.update(|s| s.insert(dir_record("new"))).unwrap();
    let text = fs::read_to_string(reg.path()).unwrap();
    assert!(text.starts_with(FOREIGN), "{text}");
    assert!(
        text[FOREIGN.len()..].starts_with("\nshare: new\n"),
        "{text}"
    );

    // Modify a share with an unknown key and a comment: rewritten in
    // canonical form, keeping the unknown key and the comment; the others
    // are untouched.
    reg.update(|s| {
        s.get_mut(&id("team")).unwrap().spec.comment = Some("changed".into());
        Ok(())
    })
    .unwrap();
    let text = fs::read_to_string(reg.path()).unwrap();
    insta::assert_snapshot!(text);
    assert!(text.contains("\tfuture-key some value\n"));
    assert!(text.contains("\t# the volume is adopted\n"));
    assert!(text.contains(
        "ctdb-cluster: main\n\tnodes 10.0.0.1,10.0.0.2\n\tfuture-list a\n\tfuture-list b\n"
    ));
    assert!(
        text.contains("share: docs\n    backend   dir\n"),
        "untouched share kept verbatim"
    );
    let team = reg.get(&id("team")).unwrap().unwrap();
    assert_eq!(team.spec.comment.as_deref(), Some("changed"));

    // Remove: the other sections stay.
    reg.update(|s| {
        assert!(s.remove(&id("team")).is_some());
        assert!(s.remove(&id("team")).is_none());
        Ok(())
    })
    .unwrap();
    let text = fs::read_to_string(reg.path()).unwrap();
    assert!(!text.contains("share: team"));
    assert!(text.contains("ctdb-cluster: main\n"));
    assert!(text.starts_with("# pve-smbgateway registry\n"));
    let s = Shares::parse(&text, reg.path()).unwrap();
    assert_eq!(s.other_sections().collect::<Vec<_>>(), vec!["main"]);
    assert_eq!(
        s.iter().map(|r| r.spec.id.as_str()).collect::<Vec<_>>(),
        vec!["docs", "new"]
    );
}

#[test]
fn concurrent_updates_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shares.cfg");
    let n = 16;
    let barrier = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let reg = Registry::new(&path);
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                barrier.wait();
                reg.update(|s| {
                    // Widen the read-modify-write window: without the lock,
                    // updates would overwrite each other.
                    thread::sleep(Duration::from_millis(2));
                    s.insert(dir_record(&format!("share{i:02}")))
                })
                .unwrap();
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let ids: BTreeSet<String> = Registry::new(&path)
        .load()
        .unwrap()
        .into_iter()
        .map(|r| r.spec.id.to_string())
        .collect();
    let want: BTreeSet<String> = (0..n).map(|i| format!("share{i:02}")).collect();
    assert_eq!(ids, want);
    assert_eq!(
        names_in(dir.path()),
        BTreeSet::from(["shares.cfg".to_owned(), "shares.cfg.lock".to_owned()])
    );
}

/// Separate processes (this test binary re-run with an environment
/// variable) updating the same registry.
#[test]
fn concurrent_processes_lose_nothing() {
    if let Ok(path) = std::env::var("SMBGW_CORE_TEST_CHILD_REGISTRY") {
        let i: usize = std::env::var("SMBGW_CORE_TEST_CHILD_INDEX")
            .unwrap()
            .parse()
            .unwrap();
        Registry::new(path)
            .update(|s| {
                thread::sleep(Duration::from_millis(2));
                s.insert(dir_record(&format!("proc{i:02}")))
            })
            .unwrap();
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shares.cfg");
    let exe = std::env::current_exe().unwrap();
    let n = 8;
    let children: Vec<_> = (0..n)
        .map(|i| {
            std::process::Command::new(&exe)
                .args([
                    "--exact",
                    "registry::concurrent_processes_lose_nothing",
                    "--test-threads=1",
                    "--quiet",
                ])
                .env("SMBGW_CORE_TEST_CHILD_REGISTRY", &path)
                .env("SMBGW_CORE_TEST_CHILD_INDEX", i.to_string())
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    assert_eq!(Registry::new(&path).load().unwrap().len(), n);
}

#[test]
fn many_shares_load() {
    let dir = tempfile::tempdir().unwrap();
    let reg = Registry::new(dir.path().join("shares.cfg"));
    fs::write(reg.path(), crate::bench::registry_text(1000)).unwrap();
    let shares = reg.load().unwrap();
    assert_eq!(shares.len(), 1000);
    assert_eq!(shares[999].spec.id.as_str(), "share0999");
}
