//! The zfs parsers on output captured from zfs-fuse 0.7 (Debian 12).

use backends::zfs::{
    classify_zfs_error, parse_zfs_get, parse_zfs_list_names, parse_zfs_number, ZfsFailure,
};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../fixtures/zfs-fuse-0.7/", $name))
    };
}

#[test]
fn get_dataset_properties() {
    let rows = parse_zfs_get(fixture!("get_ds.out")).unwrap();
    let props: Vec<_> = rows
        .iter()
        .map(|r| (r.property.as_str(), r.value.as_str(), r.source.as_str()))
        .collect();
    assert_eq!(
        props,
        [
            ("type", "filesystem", "-"),
            ("used", "114688", "-"),
            ("available", "41828352", "-"),
            ("referenced", "114688", "-"),
            ("quota", "0", "default"),
            ("refquota", "41943040", "local"),
            ("mountpoint", "/tmp/zcap/mnt/ds4", "inherited from capt"),
            ("mounted", "yes", "-"),
            ("xattr", "on", "local"),
            ("casesensitivity", "sensitive", "-"),
        ]
    );
    assert!(rows.iter().all(|r| r.name == "capt/ds4"));
    // quota=none reads as 0 with -p.
    assert_eq!(parse_zfs_number(&rows[4]).unwrap(), 0);
    assert_eq!(parse_zfs_number(&rows[5]).unwrap(), 40 << 20);
}

#[test]
fn get_at_and_over_quota() {
    let rows = parse_zfs_get(fixture!("get_ds_full.out")).unwrap();
    let num = |p: &str| parse_zfs_number(rows.iter().find(|r| r.property == p).unwrap()).unwrap();
    assert_eq!(num("refquota"), 30 << 20);
    // Written past the refquota: referenced slightly above it, nothing available.
    assert!(num("referenced") >= num("refquota"));
    assert_eq!(num("available"), 0);
}

#[test]
fn get_pool_root_and_unmounted() {
    let rows = parse_zfs_get(fixture!("get_pool_root.out")).unwrap();
    assert_eq!(rows.len(), 8);
    assert_eq!(rows[6].value, "/tmp/zcap/mnt");
    let rows = parse_zfs_get(fixture!("get_not_mounted.out")).unwrap();
    assert_eq!(rows[0].value, "none");
    assert_eq!(rows[1].value, "no");
}

#[test]
fn snapshots_with_depth_one() {
    let rows = parse_zfs_get(fixture!("get_creation_depth1.out")).unwrap();
    let snaps: Vec<_> = rows
        .iter()
        .filter_map(|r| r.name.strip_prefix("capt/ds4@"))
        .collect();
    assert_eq!(snaps, ["s1", "GMT-2024.01.02-03.04.05", "s2"]);
    assert_eq!(parse_zfs_number(&rows[1]).unwrap(), 1_795_632_776);
    let rows = parse_zfs_get(fixture!("get_snapshot_creation.out")).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        parse_zfs_list_names(fixture!("list_snapshots.out")),
        ["capt/ds4@s1", "capt/ds4@GMT-2024.01.02-03.04.05"]
    );
}

#[test]
fn error_messages_are_classified() {
    use ZfsFailure::*;
    let cases: [(&str, ZfsFailure); 12] = [
        (fixture!("get_missing.err"), DoesNotExist),
        (fixture!("create_exists.err"), AlreadyExists),
        (fixture!("create_nopool.err"), NoSuchPool),
        (fixture!("create_noparent.err"), ParentDoesNotExist),
        (fixture!("zpool_list_missing.err"), NoSuchPool),
        (fixture!("set_refquota_below_used.err"), BelowUsage),
        (
            fixture!("create_xattr_sa.err"),
            InvalidValue("xattr".into()),
        ),
        (
            fixture!("create_acltype.err"),
            InvalidProperty("acltype".into()),
        ),
        (
            fixture!("get_acltype_unsupported.err"),
            InvalidProperty("acltype".into()),
        ),
        (fixture!("destroy_busy.err"), Busy),
        (fixture!("unmount_busy.err"), Busy),
        (fixture!("destroy_has_snapshots.err"), HasChildren),
    ];
    for (text, want) in cases {
        assert_eq!(classify_zfs_error(text), want, "{text}");
    }
    assert_eq!(classify_zfs_error(fixture!("create_zvol.err")), Other);
    assert_eq!(classify_zfs_error(fixture!("list_p.err")), Other);
}
