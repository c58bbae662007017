//! Round trips: generated valid specs through the registry text, and
//! generated files through parse and print.

use std::collections::BTreeSet;
use std::path::Path;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use smbgw_core::registry::{Registry, ShareRecord, ShareState, Shares};
use smbgw_core::spec::{
    Access, AdSpec, BackendSpec, CephClientSpec, Encryption, HaSpec, Identity, Mode, RbdMap,
    Security, ShareId, ShareSpec, Signing, VolumeRef,
};

fn share_id() -> impl Strategy<Value = ShareId> {
    "[a-z][a-z0-9_.-]{0,20}[a-z0-9]".prop_filter_map("valid id", |s| ShareId::new(&s).ok())
}

fn backend() -> impl Strategy<Value = BackendSpec> {
    prop_oneof![
        "/(srv|var/lib|mnt|tank)(/[a-zA-Z0-9_-]{1,8}( [a-z]{1,4})?){0,3}"
            .prop_filter_map("dir", |s| BackendSpec::dir(s).ok()),
        "[a-z][a-z0-9_-]{0,7}(/[A-Za-z0-9_:-][A-Za-z0-9_.:-]{0,8}){0,3}"
            .prop_filter_map("zfs", |s| BackendSpec::zfs(&s).ok()),
        (
            "[A-Za-z0-9_][A-Za-z0-9_.-]{0,10}",
            proptest::option::of("[A-Za-z0-9_][A-Za-z0-9_.-]{0,10}"),
            proptest::option::of(host_dir()),
            ceph_client(),
        )
            .prop_filter_map("cephfs", |(fs, group, mount, ceph)| {
                let b = BackendSpec::CephFs {
                    fs,
                    group,
                    mount: mount.map(Into::into),
                    ceph,
                };
                b.validate().ok().map(|()| b)
            }),
        (
            "[A-Za-z0-9_][A-Za-z0-9_.-]{0,10}",
            proptest::option::of(host_dir()),
            proptest::sample::select(RbdMap::ALL),
            ceph_client(),
        )
            .prop_filter_map("rbd", |(pool, base, map, ceph)| {
                let b = BackendSpec::Rbd {
                    pool,
                    mount_base: base.map(Into::into),
                    map,
                    ceph,
                };
                b.validate().ok().map(|()| b)
            }),
    ]
}

/// An absolute, normalized directory outside the system directories.
fn host_dir() -> impl Strategy<Value = String> {
    "/(srv|var/lib|mnt/pve|tank)(/[a-zA-Z0-9_-]{1,8}( [a-z]{1,4})?){0,3}"
}

fn ceph_client() -> impl Strategy<Value = CephClientSpec> {
    (
        proptest::option::of("/etc/(ceph|pve(/priv/ceph)?)/[a-z0-9_-]{1,8}\\.conf"),
        proptest::option::of("[a-z0-9][a-z0-9_.-]{0,10}"),
    )
        .prop_map(|(conf, id)| CephClientSpec {
            conf: conf.map(Into::into),
            id,
        })
        .prop_filter("valid client", |c| c.validate().is_ok())
}

fn names() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::btree_set("[a-z_][a-z0-9_-]{0,12}\\$?", 0..4)
        .prop_map(|s| s.into_iter().collect())
}

/// Floating addresses core accepts: IPv4 hosts in 10/8 (never a network
/// or broadcast address of their prefix), IPv6 in fd00::/8.
fn vip() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            any::<[u8; 2]>(),
            1u8..=254,
            prop_oneof![8u8..=24, Just(32u8)],
            proptest::option::of("[a-z][a-z0-9]{0,6}(\\.[0-9]{1,3})?")
        )
            .prop_map(|(a, last, p, i)| {
                let ip = std::net::Ipv4Addr::new(10, a[0], a[1], last);
                match i {
                    Some(i) => format!("{ip}/{p}@{i}"),
                    None => format!("{ip}/{p}"),
                }
            }),
        (any::<u128>(), 1u8..=128).prop_map(|(a, p)| {
            let a = (a & !(0xff << 120)) | (0xfd << 120);
            format!("{}/{p}", std::net::Ipv6Addr::from(a))
        }),
    ]
}

fn container() -> impl Strategy<Value = smbgw_core::container::ContainerSpec> {
    use provision::{IpConfig, Network};
    use smbgw_core::container::{ContainerSpec, CtDriver};
    let ip = prop_oneof![
        Just(IpConfig::Dhcp),
        (1u8..255, 1u8..33, proptest::option::of(1u8..255)).prop_map(|(h, bits, gw)| {
            IpConfig::Static {
                cidr: format!("10.0.0.{h}/{bits}"),
                gateway: gw.map(|g| format!("10.0.0.{g}")),
            }
        }),
    ];
    let network = prop_oneof![
        Just(Network::None),
        ("vmbr[0-9]", proptest::option::of(1u16..4095), ip)
            .prop_map(|(bridge, vlan, ip)| Network::Bridge { bridge, vlan, ip }),
    ];
    (
        prop_oneof![
            Just(CtDriver::Auto),
            Just(CtDriver::Pct),
            Just(CtDriver::Lxc)
        ],
        proptest::option::of(100u32..1_000_000),
        16u32..4096,
        0u32..2048,
        1u32..16,
        any::<bool>(),
        network,
        proptest::option::of("[a-z][a-z0-9-]{0,8}[a-z0-9]"),
    )
        .prop_map(
            |(driver, id, memory_mb, swap_mb, cores, unprivileged, network, storage)| {
                ContainerSpec {
                    driver,
                    id: id.map(|n| n.to_string()),
                    memory_mb,
                    swap_mb,
                    cores,
                    unprivileged,
                    network,
                    storage,
                }
            },
        )
}

fn comment() -> impl Strategy<Value = String> {
    "[A-Za-z0-9éß日#][ A-Za-z0-9,.;:!?()'\"#=@$&*+\\[\\]{}<>|/\\\\é日 -]{0,60}[A-Za-z0-9.)#]"
        .prop_filter("no padding", |s| s.trim() == s)
}

/// A workgroup, or a domain membership (boxed: the record strategy is
/// big enough already).
fn identity() -> BoxedStrategy<Identity> {
    prop_oneof![
        "[A-Z0-9_.!@#$&()-]{1,15}".prop_map(|w| Identity::workgroup(&w).unwrap()),
        (
            "[a-z][a-z0-9-]{0,8}[a-z0-9](\\.[a-z][a-z0-9]{0,8}){1,3}",
            proptest::option::of("[A-Z][A-Z0-9]{0,14}"),
            "[A-Za-z][A-Za-z0-9 ._-]{0,18}[A-Za-z0-9]",
            proptest::option::of(
                "OU=[A-Za-z][A-Za-z0-9 ]{0,10}[A-Za-z0-9](,OU=[A-Za-z0-9]{1,8}){0,2}"
            ),
        )
            .prop_map(|(domain, wg, user, ou)| {
                let mut a = AdSpec::new(&domain, &user, ou.as_deref()).unwrap();
                a.workgroup = wg;
                Identity::Ad(a)
            }),
    ]
    .boxed()
}

prop_compose! {
    fn record()(
        id in share_id(),
        backend in backend(),
        volume in "[a-zA-Z0-9][a-zA-Z0-9_.-]{0,15}",
        existing in any::<bool>(),
        quota in proptest::option::of(1u64..),
        unenforced in any::<bool>(),
        mode in proptest::sample::select(Mode::ALL),
        identity in identity(),
        users in names(),
        groups in names(),
        read_only in any::<bool>(),
        signing in proptest::sample::select(Signing::ALL),
        encryption in proptest::sample::select(Encryption::ALL),
        ha in proptest::option::of((any::<bool>(), proptest::option::of(vip()))),
        comment in proptest::option::of(comment()),
        volume_id in "[a-z0-9][a-z0-9/_.-]{0,30}",
        path in "/[a-z0-9_]{1,8}(/[a-z0-9_ -]{0,6}[a-z0-9_]){0,3}",
        created_volume in any::<bool>(),
        created_users in names(),
        created_at in any::<u64>(),
        container in proptest::option::of(container()),
    ) -> ShareRecord {
        let mut spec = ShareSpec {
            id,
            backend,
            volume: VolumeRef::new(&volume).unwrap(),
            quota: quota.and_then(backends::Quota::from_bytes),
            quota_unenforced_ok: unenforced,
            mode,
            identity,
            access: Access::new(users, groups, read_only).unwrap(),
            security: Security { signing, encryption, audit: signing == Signing::Required },
            ha: ha.map(|(enabled, vip)| HaSpec { enabled, vip }),
            container: container.filter(|_| mode == Mode::Lxc),
            comment,
        };
        spec.volume.existing = existing;
        if matches!(spec.backend, BackendSpec::Dir { .. }) && spec.quota.is_some() {
            spec.quota_unenforced_ok = true;
        }
        if matches!(spec.backend, BackendSpec::Rbd { .. }) && spec.quota.is_none() {
            spec.volume.existing = true;
        }
        ShareRecord {
            spec,
            state: ShareState { volume_id, path: path.into(), created_volume, created_users, created_at },
        }
    }
}

fn records() -> impl Strategy<Value = Vec<ShareRecord>> {
    proptest::collection::vec(record(), 0..6).prop_map(|v| {
        let mut seen = BTreeSet::new();
        v.into_iter()
            .filter(|r| seen.insert(r.spec.id.clone()))
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn generated_records_are_valid(r in record()) {
        r.validate().unwrap();
    }

    #[test]
    fn text_round_trip(rs in records()) {
        let mut shares = Shares::new();
        for r in &rs {
            shares.insert(r.clone()).unwrap();
        }
        let text = shares.to_text().unwrap();
        let back = Shares::parse(&text, Path::new("t")).unwrap();
        // Parsing and printing unchanged text gives it back byte for byte.
        prop_assert_eq!(back.to_text().unwrap(), text.clone());
        prop_assert_eq!(back.into_records(), rs.clone());
        // And JSON (the API) round-trips too.
        for r in &rs {
            let json = serde_json::to_string(r).unwrap();
            let r2: ShareRecord = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(&r2, r);
        }
    }

    #[test]
    fn changed_record_round_trip(a in record(), b in record()) {
        // A record replaced in place is rewritten canonically and reads back equal.
        let mut shares = Shares::new();
        shares.insert(a.clone()).unwrap();
        let text = shares.to_text().unwrap();
        let mut shares = Shares::parse(&text, Path::new("t")).unwrap();
        let mut b = b;
        b.spec.id = a.spec.id.clone();
        *shares.get_mut(&a.spec.id).unwrap() = b.clone();
        let text2 = shares.to_text().unwrap();
        let back = Shares::parse(&text2, Path::new("t")).unwrap();
        prop_assert_eq!(back.into_records(), vec![b]);
    }
}

/// Lines a registry file may contain, for generated files.
fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("   ".to_owned()),
        "#[ -~]{0,20}",
        "  #[ -~]{0,20}",
        "[a-z]{1,8}: [a-z]{1,8}",
        "[a-z]{1,6}:[a-z]{1,6}  \r?",
        "[\t ]{1,3}[a-z-]{1,10}( [ -~]{0,20})?",
        "[ -~]{0,20}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// Any text that parses prints back byte for byte; any other text is
    /// refused with a line number (never a panic).
    #[test]
    fn parse_print_is_lossless(lines in proptest::collection::vec(line(), 0..12), end_nl in any::<bool>()) {
        let mut text = lines.join("\n");
        if end_nl {
            text.push('\n');
        }
        match Shares::parse(&text, Path::new("f")) {
            Ok(s) => prop_assert_eq!(s.to_text().unwrap(), text),
            Err(e) => prop_assert!(e.to_string().starts_with("f:"), "{}", e),
        }
    }
}

#[test]
fn registry_round_trip_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let reg = Registry::new(dir.path().join("shares.cfg"));
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for _ in 0..8 {
        let rs = records().new_tree(&mut runner).unwrap().current();
        let _ = std::fs::remove_file(reg.path());
        reg.update(|s| {
            for r in &rs {
                s.insert(r.clone())?;
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(reg.load().unwrap(), rs);
        for r in &rs {
            assert_eq!(reg.get(&r.spec.id).unwrap().as_ref(), Some(r));
        }
    }
}
