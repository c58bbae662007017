use std::fs;

use backends::{
    Backend, BackendKind, CreateOptions, DirBackend, Error, Purge, Quota, QuotaPolicy, UsageScope,
    VolumeName,
};

fn name(s: &str) -> VolumeName {
    VolumeName::new(s).unwrap()
}

fn quota(s: &str) -> Option<Quota> {
    Some(s.parse().unwrap())
}

#[test]
fn quota_is_refused_unless_accepted_as_unenforced() {
    let root = tempfile::tempdir().unwrap();
    let dir = DirBackend::new(root.path());
    let err = dir
        .create(
            &name("team"),
            &CreateOptions {
                quota: quota("10G"),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(matches!(err, Error::QuotaUnenforceable { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!(
            "a quota cannot be enforced on {}/team (a plain directory on ",
            root.path().display()
        )),
        "{msg}"
    );
    assert!(
        msg.ends_with("explicitly accept an unenforced quota"),
        "{msg}"
    );
    assert!(
        !root.path().join("team").exists(),
        "a refused create left a directory behind"
    );

    let vol = dir
        .create(
            &name("team"),
            &CreateOptions {
                quota: quota("10G"),
                quota_policy: QuotaPolicy::AcceptUnenforced,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(vol.kind, BackendKind::Dir);
    assert_eq!(vol.quota, quota("10G"));
    assert!(!vol.quota_enforced);
    // Without a quota nothing needs accepting.
    let plain = dir
        .create(&name("plain"), &CreateOptions::default())
        .unwrap();
    assert_eq!(plain.quota, None);
}

#[test]
fn create_collides_and_adopt_keeps_data() {
    let root = tempfile::tempdir().unwrap();
    let dir = DirBackend::new(root.path());
    fs::create_dir(root.path().join("old")).unwrap();
    fs::write(root.path().join("old/keep.txt"), "precious").unwrap();

    let err = dir
        .create(&name("old"), &CreateOptions::default())
        .unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");
    assert!(err.to_string().contains("adopt the existing volume"));

    let vol = dir.adopt(&name("old")).unwrap();
    assert_eq!(
        fs::read_to_string(vol.path.join("keep.txt")).unwrap(),
        "precious"
    );
    assert_eq!(dir.host_path(&vol).unwrap(), root.path().join("old"));

    let err = dir.adopt(&name("nope")).unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    fs::write(root.path().join("file"), "").unwrap();
    let err = dir.adopt(&name("file")).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "`{}/file` is a file, not a directory; a share needs a directory",
            root.path().display()
        )
    );
}

#[test]
fn missing_root_is_a_specific_error() {
    let root = tempfile::tempdir().unwrap();
    let dir = DirBackend::new(root.path().join("missing"));
    let err = dir
        .create(&name("a"), &CreateOptions::default())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "parent `{}/missing` does not exist; create it first or fix the storage configuration",
            root.path().display()
        )
    );
}

#[test]
fn usage_cheap_and_exact() {
    let root = tempfile::tempdir().unwrap();
    let dir = DirBackend::new(root.path());
    let opts = CreateOptions {
        quota: quota("100M"),
        quota_policy: QuotaPolicy::AcceptUnenforced,
        ..Default::default()
    };
    let vol = dir.create(&name("u"), &opts).unwrap();
    fs::write(vol.path.join("data"), vec![7u8; 3 << 20]).unwrap();

    let cheap = dir.usage(&vol).unwrap();
    assert_eq!(cheap.scope, UsageScope::Filesystem);
    assert!(cheap.used >= 3 << 20);

    let exact = dir.exact_usage(&vol).unwrap();
    assert_eq!(exact.scope, UsageScope::Volume);
    assert!(
        (3 << 20..(3 << 20) + (64 << 10)).contains(&exact.used),
        "{exact:?}"
    );
    assert_eq!(exact.total, Some(100 << 20));
    assert!(exact.available <= (100 << 20) - (3 << 20));
}

#[test]
fn resize_refuses_shrinking_below_usage() {
    let root = tempfile::tempdir().unwrap();
    let dir = DirBackend::new(root.path());
    let vol = dir.create(&name("r"), &CreateOptions::default()).unwrap();
    fs::write(vol.path.join("data"), vec![1u8; 2 << 20]).unwrap();
    let accept = QuotaPolicy::AcceptUnenforced;

    let err = dir.resize(&vol, "1M".parse().unwrap(), accept).unwrap_err();
    match &err {
        Error::QuotaBelowUsage {
            requested, used, ..
        } => {
            assert_eq!(requested.bytes(), 1 << 20);
            assert!(*used >= 2 << 20);
        }
        other => panic!("{other:?}"),
    }
    assert!(err
        .to_string()
        .contains("delete data first or choose a quota of at least"));
    dir.resize(&vol, "3M".parse().unwrap(), accept).unwrap();
    dir.resize(&vol, "1T".parse().unwrap(), accept).unwrap();
    let err = dir
        .resize(&vol, "1T".parse().unwrap(), QuotaPolicy::Enforced)
        .unwrap_err();
    assert!(matches!(err, Error::QuotaUnenforceable { .. }));
}

#[test]
fn snapshots_and_release() {
    let root = tempfile::tempdir().unwrap();
    let dir = DirBackend::new(root.path());
    let vol = dir.create(&name("s"), &CreateOptions::default()).unwrap();
    let snaps = dir.snapshots(&vol).unwrap();
    assert_eq!(snaps.snapdir, None);
    assert!(snaps.snapshots.is_empty());
    fs::write(vol.path.join("f"), "x").unwrap();
    dir.release(&vol).unwrap();
    assert!(vol.path.join("f").exists(), "release must keep the data");
}

#[test]
fn destroy_needs_matching_confirmation_and_refuses_when_in_use() {
    let root = tempfile::tempdir().unwrap();
    let dir = DirBackend::new(root.path());
    let vol = dir
        .create(&name("gone"), &CreateOptions::default())
        .unwrap();
    fs::create_dir_all(vol.path.join("a/b")).unwrap();
    fs::write(vol.path.join("a/b/f"), "x").unwrap();

    let err = dir.destroy(&vol, &Purge::confirm("other")).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "refusing to destroy `{}`: the confirmation names `other`",
            vol.id
        )
    );

    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .current_dir(vol.path.join("a"))
        .spawn()
        .unwrap();
    let err = dir.destroy(&vol, &Purge::confirm("gone")).unwrap_err();
    child.kill().unwrap();
    child.wait().unwrap();
    match &err {
        Error::InUse { users, .. } => assert_eq!(users, &[format!("pid {} (sleep)", child.id())]),
        other => panic!("{other:?}"),
    }
    assert!(vol.path.join("a/b/f").exists());

    dir.destroy(&vol, &Purge::confirm(vol.id.clone())).unwrap();
    assert!(!vol.path.exists());
    let err = dir.destroy(&vol, &Purge::confirm("gone")).unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }));
}

#[test]
fn invalid_names_are_rejected_before_anything_happens() {
    for bad in ["../etc", "a/b", "", ".hidden", "x\ny"] {
        assert!(VolumeName::new(bad).is_err(), "{bad:?}");
    }
}
