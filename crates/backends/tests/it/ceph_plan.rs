//! CephFS and RBD command sequences through the recording runner (insta).

use backends::{
    Backend, CephClient, CephFsBackend, CreateOptions, Error, KernelMap, Purge, QuotaPolicy,
    RbdBackend, VolumeName,
};
use runner::{RecordingRunner, Reply};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../fixtures/ceph-16/", $name))
    };
}

const SV_PATH: &str = "/volumes/_nogroup/sub1/7be7d48c-7348-4c74-ab2b-8646c65ff28d";

fn name(s: &str) -> VolumeName {
    VolumeName::new(s).unwrap()
}

fn opts(q: &str) -> CreateOptions {
    CreateOptions {
        quota: Some(q.parse().unwrap()),
        ..Default::default()
    }
}

fn cephfs(r: &RecordingRunner) -> CephFsBackend<&RecordingRunner> {
    CephFsBackend::new(r, CephClient::default(), "cephfs", "/mnt/pve/cephfs").unwrap()
}

fn sv(verb: &str) -> Vec<String> {
    ["ceph", "fs", "subvolume", verb].map(String::from).to_vec()
}

#[test]
fn cephfs_create_checks_then_creates_with_size_in_bytes() {
    let r = RecordingRunner::new();
    r.on(
        sv("getpath"),
        Reply::fail(2, fixture!("sv_getpath_missing.err")),
    );
    r.on(sv("info"), Reply::ok(fixture!("sv_info.out")));
    let fs = cephfs(&r).with_group("smb").unwrap();
    let vol = fs.create(&name("sub1"), &opts("100M")).unwrap();
    assert_eq!(vol.id, "cephfs/smb/sub1");
    assert_eq!(
        vol.path.to_str().unwrap(),
        format!("/mnt/pve/cephfs{SV_PATH}")
    );
    assert_eq!(vol.quota, Some("100M".parse().unwrap()));
    insta::assert_snapshot!(r.transcript(), @r"
    $ ceph fs subvolume getpath cephfs sub1 --group_name smb
      -> exit 2: Error ENOENT: subvolume 'nosuch' does not exist
    $ ceph fs subvolume create cephfs sub1 --mode 0755 --size 104857600 --group_name smb
    $ ceph fs subvolume info cephfs sub1 --group_name smb
    ");
    assert!(r.unused_replies().is_empty());
}

#[test]
fn cephfs_create_of_an_existing_subvolume_is_refused_before_create() {
    // `ceph fs subvolume create` of an existing one succeeds silently.
    let r = RecordingRunner::new();
    r.on(sv("getpath"), Reply::ok(fixture!("sv_getpath.out")));
    let err = cephfs(&r).create(&name("sub1"), &opts("1G")).unwrap_err();
    assert_eq!(err.to_string(), "`cephfs/_nogroup/sub1` already exists; choose another name, or adopt the existing volume to keep its data");
    assert_eq!(r.commands().len(), 1);
}

#[test]
fn cephfs_failed_create_removes_the_subvolume() {
    let r = RecordingRunner::new();
    r.on(
        sv("getpath"),
        Reply::fail(2, fixture!("sv_getpath_missing.err")),
    );
    r.on(sv("info"), Reply::TimedOut);
    let err = cephfs(&r).create(&name("sub1"), &opts("1G")).unwrap_err();
    assert!(matches!(err, Error::Run(_)), "{err:?}");
    insta::assert_snapshot!(r.transcript(), @r"
    $ ceph fs subvolume getpath cephfs sub1
      -> exit 2: Error ENOENT: subvolume 'nosuch' does not exist
    $ ceph fs subvolume create cephfs sub1 --mode 0755 --size 1073741824
    $ ceph fs subvolume info cephfs sub1
      -> timed out
    $ ceph fs subvolume rm cephfs sub1
    ");
}

#[test]
fn cephfs_missing_filesystem_and_group_are_named() {
    let r = RecordingRunner::new();
    r.on(
        sv("getpath"),
        Reply::fail(2, fixture!("sv_create_nofs.err")),
    );
    let err = cephfs(&r).create(&name("x"), &opts("1G")).unwrap_err();
    assert_eq!(err.to_string(), "parent `cephfs filesystem cephfs` does not exist; create it first or fix the storage configuration");
    let r = RecordingRunner::new();
    r.on(
        sv("getpath"),
        Reply::fail(2, fixture!("sv_create_nogroup.err")),
    );
    let err = cephfs(&r)
        .with_group("nog")
        .unwrap()
        .create(&name("x"), &opts("1G"))
        .unwrap_err();
    assert_eq!(err.to_string(), "parent `subvolume group nog of cephfs cephfs` does not exist; create it first or fix the storage configuration");
    assert!(CephFsBackend::new(&r, CephClient::default(), "-x", "/mnt").is_err());
    assert!(CephFsBackend::new(&r, CephClient::default(), "fs", "rel").is_err());
}

#[test]
fn cephfs_resize_grows_with_no_shrink_and_refuses_below_usage() {
    let full = fixture!("sv_info.out").replace("\"bytes_used\": 0", "\"bytes_used\": 104857600");
    let r = RecordingRunner::new();
    r.on(sv("info"), Reply::ok(full.clone()));
    r.on(sv("info"), Reply::ok(full.clone()));
    r.on(
        sv("resize"),
        Reply::fail(22, fixture!("sv_resize_below.err")),
    );
    r.on(sv("info"), Reply::ok(full.clone()));
    r.on(sv("info"), Reply::ok(full));
    r.on(sv("getpath"), Reply::ok(fixture!("sv_getpath.out")));
    let fs = cephfs(&r);
    let vol = fs.adopt(&name("sub1")).unwrap();
    let err = fs
        .resize(&vol, "10M".parse().unwrap(), QuotaPolicy::Enforced)
        .unwrap_err();
    assert_eq!(err.to_string(), "cannot set the quota of `cephfs/_nogroup/sub1` to 10MiB: it already uses 104857600 bytes; delete data first or choose a quota of at least 104857600 bytes");
    // The cluster's own check (usage grew in between) maps the same way.
    let err = fs
        .resize(&vol, "200M".parse().unwrap(), QuotaPolicy::Enforced)
        .unwrap_err();
    assert!(matches!(err, Error::QuotaBelowUsage { .. }), "{err:?}");
    fs.resize(&vol, "1G".parse().unwrap(), QuotaPolicy::Enforced)
        .unwrap();
    insta::assert_snapshot!(r.transcript(), @r"
    $ ceph fs subvolume info cephfs sub1
    $ ceph fs subvolume info cephfs sub1
    $ ceph fs subvolume info cephfs sub1
    $ ceph fs subvolume resize cephfs sub1 209715200 --no_shrink
      -> exit 22: Error EINVAL: Can't resize the subvolume. The new size '10485760' would be lesser than the current used size '104857600'
    $ ceph fs subvolume info cephfs sub1
    $ ceph fs subvolume resize cephfs sub1 1073741824 --no_shrink
    ");
}

#[test]
fn cephfs_destroy_removes_snapshots_first() {
    let r = RecordingRunner::new();
    r.on(sv("info"), Reply::ok(fixture!("sv_info.out")));
    r.on(sv("getpath"), Reply::ok(fixture!("sv_getpath.out")));
    r.on(sv("snapshot"), Reply::ok(fixture!("snap_ls.out")));
    let fs = cephfs(&r);
    let vol = fs.adopt(&name("sub1")).unwrap();
    let err = fs.destroy(&vol, &Purge::confirm("other")).unwrap_err();
    assert!(matches!(err, Error::PurgeMismatch { .. }), "{err:?}");
    fs.destroy(&vol, &Purge::confirm("sub1")).unwrap();
    insta::assert_snapshot!(r.transcript(), @r"
    $ ceph fs subvolume info cephfs sub1
    $ ceph fs subvolume getpath cephfs sub1
    $ ceph fs subvolume snapshot ls cephfs sub1
    $ ceph fs subvolume snapshot rm cephfs sub1 GMT-2024.01.02-03.04.05
    $ ceph fs subvolume rm cephfs sub1
    ");
}

fn rbd_cmd(verb: &str) -> Vec<String> {
    ["rbd", verb].map(String::from).to_vec()
}

#[test]
fn rbd_create_maps_formats_and_mounts_with_krbd() {
    let base = tempfile::tempdir().unwrap();
    let r = RecordingRunner::new();
    let with_client = |verb: &str| {
        ["rbd", "--conf", "/etc/pve/ceph.conf", "--id", "admin", verb].map(String::from)
    };
    r.on(
        with_client("info"),
        Reply::fail(2, fixture!("rbd_info_missing.err")),
    );
    r.on(with_client("map"), Reply::ok("/dev/rbd0\n"));
    let client = CephClient {
        conf: Some("/etc/pve/ceph.conf".into()),
        id: Some("admin".into()),
    };
    let rbd = RbdBackend::new(&r, client, "rbd", base.path(), KernelMap).unwrap();
    let vol = rbd.create(&name("img1"), &opts("1G")).unwrap();
    assert_eq!(vol.id, "rbd/img1");
    assert_eq!(vol.path, base.path().join("img1"));
    let t = r
        .transcript()
        .replace(&*base.path().to_string_lossy(), "$BASE");
    insta::assert_snapshot!(t, @r"
    $ rbd --conf /etc/pve/ceph.conf --id admin info --format json rbd/img1
      -> exit 2: rbd: error opening image nosuch: (2) No such file or directory
    $ rbd --conf /etc/pve/ceph.conf --id admin create rbd/img1 --size 1073741824B
    $ rbd --conf /etc/pve/ceph.conf --id admin map rbd/img1
    $ mkfs.xfs -q /dev/rbd0
    $ mount /dev/rbd0 $BASE/img1
    ");
}

#[test]
fn rbd_bad_sizes_and_collisions() {
    let r = RecordingRunner::new();
    let rbd = RbdBackend::new(&r, CephClient::default(), "rbd", "/srv/rbd", KernelMap).unwrap();
    let err = rbd.create(&name("img1"), &opts("100M")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "quota 100MiB is too small for a rbd volume; use at least 300MiB"
    );
    assert!(rbd
        .create(&name("img1"), &CreateOptions::default())
        .is_err());
    assert!(r.commands().is_empty());
    r.on(rbd_cmd("info"), Reply::ok(fixture!("rbd_info.out")));
    let err = rbd.create(&name("img1"), &opts("1G")).unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");
    r.on(
        rbd_cmd("info"),
        Reply::fail(2, fixture!("rbd_create_nopool.err")),
    );
    let err = rbd.create(&name("img1"), &opts("1G")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "ceph pool `rbd` does not exist; check `ceph osd pool ls` and the storage configuration"
    );
}

#[test]
fn rbd_grow_is_online_and_shrink_is_refused() {
    let r = RecordingRunner::new();
    let rbd = RbdBackend::new(&r, CephClient::default(), "rbd", "/srv/rbd", KernelMap).unwrap();
    let vol = backends::Volume {
        kind: backends::BackendKind::Rbd,
        id: "rbd/img1".into(),
        path: "/nonexistent/img1".into(),
        quota: None,
        quota_enforced: true,
    };
    r.on(rbd_cmd("info"), Reply::ok(fixture!("rbd_info.out")));
    rbd.resize(&vol, "1G".parse().unwrap(), QuotaPolicy::Enforced)
        .unwrap();
    r.on(rbd_cmd("info"), Reply::ok(fixture!("rbd_info.out")));
    let err = rbd
        .resize(&vol, "200M".parse().unwrap(), QuotaPolicy::Enforced)
        .unwrap_err();
    assert!(matches!(err, Error::QuotaBelowUsage { .. }), "{err:?}");
    insta::assert_snapshot!(r.transcript(), @r"
    $ rbd info --format json rbd/img1
    $ rbd resize --no-progress --size 1073741824B rbd/img1
    $ xfs_growfs /nonexistent/img1
    $ rbd info --format json rbd/img1
    ");
}
