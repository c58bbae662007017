//! zfs command sequences through the recording runner.

use backends::{
    Backend, CaseSensitivity, CreateOptions, Error, Purge, Quota, QuotaPolicy, VolumeName,
    ZfsBackend,
};
use runner::{RecordingRunner, Reply};

const PARENT: &str = "tank/smb";
const DS: &str = "tank/smb/team";

fn get(props: &str, ds: &str) -> Vec<String> {
    [
        "zfs",
        "get",
        "-Hp",
        "-o",
        "name,property,value,source",
        props,
        ds,
    ]
    .map(String::from)
    .to_vec()
}

fn rows(ds: &str, pairs: &[(&str, &str)]) -> Reply {
    Reply::ok(
        pairs
            .iter()
            .map(|(p, v)| format!("{ds}\t{p}\t{v}\t-\n"))
            .collect::<String>(),
    )
}

fn missing(ds: &str) -> Reply {
    Reply::fail(1, format!("cannot open '{ds}': dataset does not exist\n"))
}

fn name() -> VolumeName {
    VolumeName::new("team").unwrap()
}

fn opts(quota: &str) -> CreateOptions {
    CreateOptions {
        quota: Some(quota.parse().unwrap()),
        ..Default::default()
    }
}

/// A fake where the parent exists and `team` does not.
fn fresh() -> RecordingRunner {
    let r = RecordingRunner::new();
    r.on(get("type", PARENT), rows(PARENT, &[("type", "filesystem")]));
    r.on(get("type", DS), missing(DS));
    r.on(["zpool", "list"], Reply::ok("tank\n"));
    r
}

fn created(r: &RecordingRunner) {
    r.on(
        get("mountpoint,mounted", DS),
        rows(DS, &[("mountpoint", "/tank/smb/team"), ("mounted", "yes")]),
    );
    r.on(
        get("refquota", DS),
        rows(DS, &[("refquota", "10737418240")]),
    );
}

#[test]
fn create_on_openzfs_sets_sa_xattrs_and_posix_acls() {
    let r = fresh();
    r.on(
        ["zfs", "get", "-H", "-o", "value", "acltype"],
        Reply::ok("off\n"),
    );
    created(&r);
    let zfs = ZfsBackend::new(&r, PARENT).unwrap();
    let o = CreateOptions {
        case_sensitivity: Some(CaseSensitivity::Insensitive),
        ..opts("10G")
    };
    let vol = zfs.create(&name(), &o).unwrap();
    assert_eq!(vol.id, DS);
    assert_eq!(vol.path.to_str(), Some("/tank/smb/team"));
    assert_eq!(vol.quota, Some("10G".parse().unwrap()));
    assert!(vol.quota_enforced);
    assert!(r.unused_replies().is_empty());
    insta::assert_snapshot!(r.transcript(), @r"
    $ zfs get -Hp -o name,property,value,source type tank/smb
    $ zfs get -Hp -o name,property,value,source type tank/smb/team
      -> exit 1: cannot open 'tank/smb/team': dataset does not exist
    $ zpool list -H -o name tank
    $ zfs get -H -o value acltype tank/smb
    $ zfs create -o refquota=10737418240 -o xattr=sa -o acltype=posixacl -o casesensitivity=insensitive tank/smb/team
    $ zfs get -Hp -o name,property,value,source mountpoint,mounted tank/smb/team
    $ zfs get -Hp -o name,property,value,source refquota tank/smb/team
    ");
}

#[test]
fn create_on_zfs_fuse_falls_back_to_xattr_on() {
    let r = fresh();
    r.on(
        ["zfs", "get", "-H", "-o", "value", "acltype"],
        Reply::fail(
            2,
            include_str!("../fixtures/zfs-fuse-0.7/get_acltype_unsupported.err"),
        ),
    );
    r.on(
        get("mountpoint,mounted", DS),
        rows(DS, &[("mountpoint", "/tank/smb/team"), ("mounted", "no")]),
    );
    r.on(
        get("refquota", DS),
        rows(DS, &[("refquota", "10737418240")]),
    );
    let zfs = ZfsBackend::new(&r, PARENT).unwrap();
    zfs.create(&name(), &opts("10G")).unwrap();
    insta::assert_snapshot!(r.transcript(), @r"
    $ zfs get -Hp -o name,property,value,source type tank/smb
    $ zfs get -Hp -o name,property,value,source type tank/smb/team
      -> exit 1: cannot open 'tank/smb/team': dataset does not exist
    $ zpool list -H -o name tank
    $ zfs get -H -o value acltype tank/smb
      -> exit 2: bad property list: invalid property 'acltype'
    $ zfs create -o refquota=10737418240 -o xattr=on tank/smb/team
    $ zfs get -Hp -o name,property,value,source mountpoint,mounted tank/smb/team
    $ zfs mount tank/smb/team
    $ zfs get -Hp -o name,property,value,source refquota tank/smb/team
    ");
}

#[test]
fn a_create_that_fails_half_way_is_rolled_back() {
    let r = fresh();
    r.on(
        get("mountpoint,mounted", DS),
        rows(DS, &[("mountpoint", "/tank/smb/team"), ("mounted", "no")]),
    );
    r.on(
        ["zfs", "mount"],
        Reply::fail(1, "cannot mount '/tank/smb/team': directory is not empty\n"),
    );
    r.on(get("mounted", DS), rows(DS, &[("mounted", "no")]));
    let zfs = ZfsBackend::new(&r, PARENT).unwrap();
    let err = zfs.create(&name(), &opts("1G")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`zfs mount tank/smb/team` failed with exit status 1: cannot mount '/tank/smb/team': directory is not empty"
    );
    insta::assert_snapshot!(r.transcript(), @r"
    $ zfs get -Hp -o name,property,value,source type tank/smb
    $ zfs get -Hp -o name,property,value,source type tank/smb/team
      -> exit 1: cannot open 'tank/smb/team': dataset does not exist
    $ zpool list -H -o name tank
    $ zfs get -H -o value acltype tank/smb
    $ zfs create -o refquota=1073741824 -o xattr=sa -o acltype=posixacl tank/smb/team
    $ zfs get -Hp -o name,property,value,source mountpoint,mounted tank/smb/team
    $ zfs mount tank/smb/team
      -> exit 1: cannot mount '/tank/smb/team': directory is not empty
    $ zfs get -Hp -o name,property,value,source mounted tank/smb/team
    $ zfs destroy -r tank/smb/team
    ");
}

#[test]
fn a_failed_rollback_reports_both_errors() {
    let r = fresh();
    r.on(
        get("mountpoint,mounted", DS),
        rows(DS, &[("mountpoint", "none"), ("mounted", "no")]),
    );
    r.on(get("mounted", DS), rows(DS, &[("mounted", "no")]));
    r.on(
        ["zfs", "destroy"],
        Reply::fail(1, "cannot destroy 'tank/smb/team': permission denied\n"),
    );
    let zfs = ZfsBackend::new(&r, PARENT).unwrap();
    let err = zfs.create(&name(), &opts("1G")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`tank/smb/team` is not mounted (mountpoint none); mount it (`zfs mount tank/smb/team`) or give it a mountpoint; \
         undoing the partial change also failed: `zfs destroy -r tank/smb/team` failed with exit status 1: cannot destroy 'tank/smb/team': permission denied"
    );
}

#[test]
fn bad_input_gets_specific_errors_before_any_change() {
    // Missing pool.
    let r = RecordingRunner::new();
    r.on(get("type", PARENT), missing(PARENT));
    r.on(
        ["zpool", "list"],
        Reply::fail(1, "cannot open 'tank': no such pool\n"),
    );
    let err = ZfsBackend::new(&r, PARENT)
        .unwrap()
        .create(&name(), &opts("1G"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "zfs pool `tank` does not exist; check `zpool list` and the storage configuration"
    );

    // Missing parent in an existing pool.
    let r = RecordingRunner::new();
    r.on(get("type", PARENT), missing(PARENT));
    let err = ZfsBackend::new(&r, PARENT)
        .unwrap()
        .create(&name(), &opts("1G"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "parent `tank/smb` does not exist; create it first or fix the storage configuration"
    );

    // Name collision.
    let r = RecordingRunner::new();
    r.on(get("type", PARENT), rows(PARENT, &[("type", "filesystem")]));
    r.on(get("type", DS), rows(DS, &[("type", "filesystem")]));
    let err = ZfsBackend::new(&r, PARENT)
        .unwrap()
        .create(&name(), &opts("1G"))
        .unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");

    // Too small a quota: nothing runs.
    let r = RecordingRunner::new();
    let err = ZfsBackend::new(&r, PARENT)
        .unwrap()
        .create(&name(), &opts("4K"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "quota 4KiB is too small for a zfs volume; use at least 1MiB"
    );

    // Tool missing.
    let r = RecordingRunner::new();
    r.push_reply(Reply::Missing);
    let err = ZfsBackend::new(&r, PARENT)
        .unwrap()
        .create(&name(), &opts("1G"))
        .unwrap_err();
    assert_eq!(err.to_string(), "`zfs` not found on PATH; install the package zfsutils-linux (or zfs-fuse where OpenZFS is unavailable)");

    // A zvol parent.
    let r = RecordingRunner::new();
    r.on(get("type", PARENT), rows(PARENT, &[("type", "volume")]));
    let err = ZfsBackend::new(&r, PARENT)
        .unwrap()
        .create(&name(), &opts("1G"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`tank/smb` is a volume, not a filesystem; a share needs a filesystem"
    );

    for bad in [
        "",
        "/tank",
        "tank/",
        "tank//a",
        "tank/a b",
        "1tank",
        "tank@snap",
    ] {
        assert!(ZfsBackend::new(&r, bad).is_err(), "{bad:?}");
    }
}

fn vol(quota: Option<&str>) -> backends::Volume {
    backends::Volume {
        kind: backends::BackendKind::Zfs,
        id: DS.into(),
        path: "/tank/smb/team".into(),
        quota: quota.map(|q| q.parse::<Quota>().unwrap()),
        quota_enforced: true,
    }
}

#[test]
fn resize_grows_and_refuses_shrinking_below_usage() {
    let r = RecordingRunner::new();
    r.on(
        get("referenced", DS),
        rows(DS, &[("referenced", "3221225472")]),
    );
    r.on(
        get("referenced", DS),
        rows(DS, &[("referenced", "3221225472")]),
    );
    let zfs = ZfsBackend::new(&r, PARENT).unwrap();
    let err = zfs
        .resize(
            &vol(Some("10G")),
            "2G".parse().unwrap(),
            QuotaPolicy::Enforced,
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot set the quota of `tank/smb/team` to 2GiB: it already uses 3221225472 bytes; delete data first or choose a quota of at least 3221225472 bytes"
    );
    zfs.resize(
        &vol(Some("10G")),
        "20G".parse().unwrap(),
        QuotaPolicy::Enforced,
    )
    .unwrap();
    insta::assert_snapshot!(r.transcript(), @r"
    $ zfs get -Hp -o name,property,value,source referenced tank/smb/team
    $ zfs get -Hp -o name,property,value,source referenced tank/smb/team
    $ zfs set refquota=21474836480 tank/smb/team
    ");
}

#[test]
fn destroy_unmounts_first_and_retries_a_busy_destroy_once() {
    let r = RecordingRunner::new();
    // The mountpoint does not exist on this host, so no process can use it.
    let mp = "/nonexistent/smbgw-test/team";
    r.on(
        get("mountpoint,mounted", DS),
        rows(DS, &[("mountpoint", mp), ("mounted", "yes")]),
    );
    r.on(["zfs", "list"], Reply::ok(format!("{DS}\n")));
    r.on(get("mounted", DS), rows(DS, &[("mounted", "yes")]));
    r.on(
        ["zfs", "destroy"],
        Reply::fail(1, "cannot destroy 'tank/smb/team': dataset is busy\n"),
    );
    let zfs = ZfsBackend::new(&r, PARENT).unwrap();
    zfs.destroy(&vol(None), &Purge::confirm("team")).unwrap();
    insta::assert_snapshot!(r.transcript(), @r"
    $ zfs get -Hp -o name,property,value,source mountpoint,mounted tank/smb/team
    $ zfs list -H -o name -t filesystem,volume -r tank/smb/team
    $ zfs get -Hp -o name,property,value,source mounted tank/smb/team
    $ zfs unmount tank/smb/team
    $ zfs destroy -r tank/smb/team
      -> exit 1: cannot destroy 'tank/smb/team': dataset is busy
    $ zfs destroy -r tank/smb/team
    ");
}

#[test]
fn destroy_refuses_children_busy_mounts_and_unconfirmed_purges() {
    let zfs_vol = vol(None);
    let r = RecordingRunner::new();
    let err = ZfsBackend::new(&r, PARENT)
        .unwrap()
        .destroy(&zfs_vol, &Purge::confirm("tank/smb/other"))
        .unwrap_err();
    assert!(matches!(err, Error::PurgeMismatch { .. }));
    assert!(r.commands().is_empty());

    let r = RecordingRunner::new();
    r.on(
        get("mountpoint,mounted", DS),
        rows(DS, &[("mountpoint", "/nonexistent/x"), ("mounted", "yes")]),
    );
    r.on(["zfs", "list"], Reply::ok(format!("{DS}\n{DS}/child\n")));
    let err = ZfsBackend::new(&r, PARENT)
        .unwrap()
        .destroy(&zfs_vol, &Purge::confirm(DS))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`tank/smb/team` has child datasets (tank/smb/team/child); destroy or move them first"
    );

    let r = RecordingRunner::new();
    r.on(
        get("mountpoint,mounted", DS),
        rows(DS, &[("mountpoint", "/nonexistent/x"), ("mounted", "yes")]),
    );
    r.on(["zfs", "list"], Reply::ok(format!("{DS}\n")));
    r.on(get("mounted", DS), rows(DS, &[("mounted", "yes")]));
    // The first try and seven retries (about 13 s) all find it busy.
    for _ in 0..8 {
        r.on(
            ["zfs", "unmount"],
            Reply::fail(1, include_str!("../fixtures/zfs-fuse-0.7/unmount_busy.err")),
        );
    }
    let err = ZfsBackend::new(&r, PARENT)
        .unwrap()
        .destroy(&zfs_vol, &Purge::confirm(DS))
        .unwrap_err();
    assert!(matches!(err, Error::InUse { .. }), "{err:?}");
    assert!(err.to_string().contains("target is busy"), "{err}");
    assert!(!r.transcript().contains("destroy"));
    assert!(
        r.unused_replies().is_empty(),
        "every busy reply was consumed"
    );
}

#[test]
fn snapshots_are_listed_for_shadow_copy2() {
    let r = RecordingRunner::new();
    r.on(
        get("mountpoint,mounted", DS),
        rows(
            DS,
            &[("mountpoint", "/nonexistent/team"), ("mounted", "yes")],
        ),
    );
    r.on(
        ["zfs", "get", "-Hp", "-d", "1"],
        Reply::ok(format!(
            "{DS}\tcreation\t100\t-\n{DS}@b\tcreation\t300\t-\n{DS}@a\tcreation\t200\t-\n{DS}/child\tcreation\t150\t-\n"
        )),
    );
    let snaps = ZfsBackend::new(&r, PARENT)
        .unwrap()
        .snapshots(&vol(None))
        .unwrap();
    assert_eq!(
        snaps.snapdir.as_deref(),
        Some(std::path::Path::new(".zfs/snapshot"))
    );
    assert!(!snaps.browsable);
    let list: Vec<_> = snaps
        .snapshots
        .iter()
        .map(|s| (s.name.as_str(), s.created, s.path.to_str().unwrap()))
        .collect();
    assert_eq!(
        list,
        [
            ("a", 200, "/nonexistent/team/.zfs/snapshot/a"),
            ("b", 300, "/nonexistent/team/.zfs/snapshot/b")
        ]
    );
}

#[test]
fn adopt_keeps_properties_and_mounts_if_needed() {
    let r = RecordingRunner::new();
    r.on(
        get("type,refquota", DS),
        rows(DS, &[("type", "filesystem"), ("refquota", "0")]),
    );
    r.on(
        get("mountpoint,mounted", DS),
        rows(DS, &[("mountpoint", "/tank/smb/team"), ("mounted", "no")]),
    );
    let v = ZfsBackend::new(&r, PARENT).unwrap().adopt(&name()).unwrap();
    assert_eq!(v.quota, None);
    insta::assert_snapshot!(r.transcript(), @r"
    $ zfs get -Hp -o name,property,value,source type,refquota tank/smb/team
    $ zfs get -Hp -o name,property,value,source mountpoint,mounted tank/smb/team
    $ zfs mount tank/smb/team
    ");

    let r = RecordingRunner::new();
    r.on(get("type,refquota", DS), missing(DS));
    let err = ZfsBackend::new(&r, PARENT)
        .unwrap()
        .adopt(&name())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`tank/smb/team` does not exist; check the name, or create it"
    );
}
