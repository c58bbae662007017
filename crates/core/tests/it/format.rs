//! The registry text the gateway writes.

use std::path::Path;

use smbgw_core::registry::Shares;

use crate::{dir_record, full_record};

#[test]
fn canonical_text() {
    let mut shares = Shares::new();
    shares.insert(full_record("team")).unwrap();
    shares.insert(dir_record("scratch")).unwrap();
    let text = shares.to_text().unwrap();
    insta::assert_snapshot!(text);
    // Proxmox's layout: header, tab-indented properties, an empty line
    // after every section.
    assert!(text.ends_with("\n\n"));
    assert!(text
        .lines()
        .all(|l| l.is_empty() || l.starts_with("share: ") || l.starts_with('\t')));
    let back = Shares::parse(&text, Path::new("t")).unwrap();
    assert_eq!(back.to_text().unwrap(), text);
    assert_eq!(
        back.into_records(),
        vec![full_record("team"), dir_record("scratch")]
    );
}

#[test]
fn new_share_appended_after_existing_text() {
    let mut shares = Shares::parse("# header comment\nother: x\n\tk v", Path::new("t")).unwrap();
    shares.insert(dir_record("scratch")).unwrap();
    let text = shares.to_text().unwrap();
    assert!(
        text.starts_with("# header comment\nother: x\n\tk v\n\nshare: scratch\n"),
        "{text}"
    );
}

#[test]
fn ceph_backends_text() {
    use smbgw_core::spec::{parse_quota, BackendSpec, CephClientSpec, RbdMap};
    let mut fs = dir_record("docs");
    fs.spec.backend = BackendSpec::CephFs {
        fs: "cephfs".into(),
        group: Some("smb".into()),
        mount: Some("/mnt/pve/cephfs".into()),
        ceph: CephClientSpec {
            conf: Some("/etc/pve/ceph.conf".into()),
            id: Some("smbgw".into()),
        },
    };
    fs.spec.backend.validate().unwrap();
    let mut rbd = dir_record("scans");
    rbd.spec.backend = BackendSpec::Rbd {
        pool: "rbd".into(),
        mount_base: Some("/srv/rbd".into()),
        map: RbdMap::Fuse,
        ceph: CephClientSpec::default(),
    };
    rbd.spec.quota = Some(parse_quota("1G").unwrap());
    // Defaults are not written, except the mapping.
    let mut plain = dir_record("plain");
    plain.spec.backend = BackendSpec::rbd("rbd").unwrap();
    plain.spec.volume.existing = true;
    let mut shares = Shares::new();
    for r in [&fs, &rbd, &plain] {
        shares.insert(r.clone()).unwrap();
    }
    let text = shares.to_text().unwrap();
    insta::assert_snapshot!(text);
    let back = Shares::parse(&text, Path::new("t")).unwrap();
    assert_eq!(back.into_records(), vec![fs, rbd, plain]);
    // A file written before these keys existed reads with the defaults.
    let old = text
        .lines()
        .filter(|l| !l.contains("rbd-map"))
        .collect::<Vec<_>>()
        .join("\n");
    let back = Shares::parse(&old, Path::new("t")).unwrap();
    let recs = back.into_records();
    assert!(matches!(
        recs[2].spec.backend,
        BackendSpec::Rbd {
            map: RbdMap::Krbd,
            mount_base: None,
            ..
        }
    ));
    assert_eq!(
        recs[2].spec.backend.mount_dir().unwrap(),
        std::path::Path::new("/var/lib/pve-smbgateway/rbd")
    );
    assert_eq!(
        BackendSpec::cephfs("cephfs", None)
            .unwrap()
            .mount_dir()
            .unwrap(),
        std::path::Path::new("/mnt/pve/cephfs")
    );
}
