//! The ceph/rbd parsers on output captured from Ceph Pacific 16.2.15
//! (Debian 12 packages, the single-node test cluster).

use backends::ceph::{
    classify_ceph_error, parse_rbd_du, parse_rbd_info, parse_snapshot_created, parse_snapshot_ls,
    parse_subvolume_info, parse_subvolume_path, CephFailure, SubvolumeInfo,
};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../fixtures/ceph-16/", $name))
    };
}

#[test]
fn subvolume_info_with_quota_and_infinite() {
    let path = "/volumes/_nogroup/sub1/7be7d48c-7348-4c74-ab2b-8646c65ff28d";
    assert_eq!(
        parse_subvolume_info(fixture!("sv_info.out")).unwrap(),
        SubvolumeInfo {
            bytes_used: 0,
            bytes_quota: Some(104_857_600),
            path: path.into(),
            state: "complete".into(),
        }
    );
    // After `resize inf`: "bytes_quota": "infinite".
    let inf = parse_subvolume_info(fixture!("sv_info_infinite.out")).unwrap();
    assert_eq!(inf.bytes_quota, None);
    assert_eq!(
        parse_subvolume_path(fixture!("sv_getpath.out")).unwrap(),
        path
    );
    assert_eq!(
        parse_subvolume_path(fixture!("sv_getpath_group.out")).unwrap(),
        "/volumes/g1/sub3/cdb3e3f2-5589-4389-a5dc-cd5af778da1c"
    );
    assert!(parse_subvolume_info("not json").is_err());
    assert!(parse_subvolume_info(r#"{"bytes_quota": "lots"}"#).is_err());
    assert!(parse_subvolume_path("").is_err());
}

#[test]
fn snapshots() {
    assert_eq!(
        parse_snapshot_ls(fixture!("snap_ls.out")).unwrap(),
        ["GMT-2024.01.02-03.04.05"]
    );
    assert!(parse_snapshot_ls(fixture!("snap_ls_empty.out"))
        .unwrap()
        .is_empty());
    // "created_at": "2026-11-25 19:23:01.151455" (UTC)
    assert_eq!(
        parse_snapshot_created(fixture!("snap_info.out")).unwrap(),
        1_795_634_581
    );
}

#[test]
fn rbd_info_and_du() {
    let info = parse_rbd_info(fixture!("rbd_info.out")).unwrap();
    assert_eq!((info.name.as_str(), info.size), ("img1", 314_572_800));
    assert_eq!(
        parse_rbd_du(fixture!("rbd_du.out")).unwrap(),
        (314_572_800, 0)
    );
    assert_eq!(
        parse_rbd_du(fixture!("rbd_du_full.out")).unwrap(),
        (419_430_400, 411_041_792)
    );
}

#[test]
fn errors_are_classified() {
    let c = |code, s| classify_ceph_error(Some(code), s);
    assert_eq!(
        c(2, fixture!("sv_create_nofs.err")),
        CephFailure::NotFound("fs")
    );
    assert_eq!(
        c(2, fixture!("sv_create_nogroup.err")),
        CephFailure::NotFound("group")
    );
    for f in [
        fixture!("sv_getpath_missing.err"),
        fixture!("sv_info_missing.err"),
        fixture!("sv_rm_missing.err"),
        fixture!("snap_rm_missing.err"),
        fixture!("rbd_info_missing.err"),
    ] {
        assert_eq!(c(2, f), CephFailure::NotFound("other"), "{f}");
    }
    assert_eq!(
        c(2, fixture!("rbd_create_nopool.err")),
        CephFailure::NotFound("pool")
    );
    assert_eq!(
        c(17, fixture!("rbd_create_exists.err")),
        CephFailure::Exists
    );
    assert_eq!(
        c(39, fixture!("sv_rm_snaps.err")),
        CephFailure::HasSnapshots
    );
    assert_eq!(c(16, fixture!("rbd_rm_busy.err")), CephFailure::Busy);
    assert_eq!(c(22, fixture!("sv_resize_below.err")), CephFailure::Invalid);
    assert_eq!(
        c(22, fixture!("sv_create_badsize.err")),
        CephFailure::Invalid
    );
    assert_eq!(c(22, fixture!("rbd_shrink.err")), CephFailure::Invalid);
    assert_eq!(c(1, "something else"), CephFailure::Other);
}
