//! Every rejected input, with the error it gets. One snapshot holds all
//! messages, so a reviewer reads them side by side.

use std::fmt::Write as _;
use std::path::PathBuf;

use smbgw_core::spec::{
    check_account_name, check_comment, parse_quota, parse_volume_name, Access, AdSpec, BackendSpec,
    CephClientSpec, Encryption, HaSpec, Identity, Mode, RbdMap, ShareId, ShareSpec, Signing,
    VolumeRef,
};
use smbgw_core::Error;

type Case = (&'static str, Box<dyn Fn() -> Result<(), Error>>);

fn case<T>(label: &'static str, f: impl Fn() -> Result<T, Error> + 'static) -> Case {
    (label, Box::new(move || f().map(drop)))
}

fn id(s: &'static str) -> Case {
    case(s, move || ShareId::new(s))
}

fn spec_with(f: impl Fn(&mut ShareSpec) + 'static) -> impl Fn() -> Result<(), Error> {
    move || {
        let mut spec = ShareSpec::new(
            ShareId::new("team").unwrap(),
            BackendSpec::dir("/srv/shares").unwrap(),
            VolumeRef::new("team").unwrap(),
        );
        f(&mut spec);
        spec.validate()
    }
}

fn cephfs_with(
    f: impl Fn(&mut Option<PathBuf>, &mut CephClientSpec),
) -> Result<BackendSpec, Error> {
    let mut mount = None;
    let mut ceph = CephClientSpec::default();
    f(&mut mount, &mut ceph);
    let spec = BackendSpec::CephFs {
        fs: "cephfs".into(),
        group: None,
        mount,
        ceph,
    };
    spec.validate().map(|()| spec)
}

fn rbd_with(f: impl Fn(&mut Option<PathBuf>)) -> Result<BackendSpec, Error> {
    let mut mount_base = None;
    f(&mut mount_base);
    let spec = BackendSpec::Rbd {
        pool: "rbd".into(),
        mount_base,
        map: RbdMap::Fuse,
        ceph: CephClientSpec::default(),
    };
    spec.validate().map(|()| spec)
}

fn cases() -> Vec<Case> {
    let long_id: &'static str = Box::leak("a".repeat(65).into_boxed_str());
    let long_user: &'static str = Box::leak("a".repeat(33).into_boxed_str());
    let long_comment: &'static str = Box::leak("x".repeat(257).into_boxed_str());
    let long_parent: &'static str =
        Box::leak(format!("rpool/{}", "d".repeat(245)).into_boxed_str());
    vec![
        // Share ids: smb.conf injection, reserved names, Proxmox's rule.
        id("team\n[global]"),
        id("team\r"),
        id("team]"),
        id("[team"),
        id("te%am"),
        id("%U"),
        id("te\tam"),
        id("te\x07am"),
        id("te am"),
        id("te/am"),
        id("te\\am"),
        id("tëam"),
        id("te:am"),
        id("global"),
        id(" Global "),
        id("GLOBALS"),
        id("glo bal"),
        id("homes"),
        id("printers"),
        id("IPC$"),
        id("print$"),
        id(long_id),
        id("Team"),
        id(""),
        id("a"),
        id("1team"),
        id("-team"),
        id("_team"),
        id("team-"),
        id("team."),
        // Users and groups.
        case("user Alice", || check_account_name("Alice", false)),
        case("user 1bob", || check_account_name("1bob", false)),
        case("user bo b", || check_account_name("bo b", false)),
        case("user a$b", || check_account_name("a$b", false)),
        case("user a;b", || check_account_name("a;b", false)),
        case("user newline", || {
            check_account_name("bob\nforce user = root", false)
        }),
        case("user empty", || check_account_name("", false)),
        case("user too long", move || {
            check_account_name(long_user, false)
        }),
        case("user duplicate", || {
            Access::new(vec!["alice".into(), "alice".into()], vec![], false)
        }),
        case("group @staff", || {
            Access::new(vec![], vec!["@staff".into()], false)
        }),
        case("group Staff", || check_account_name("Staff", true)),
        // Workgroups.
        case("workgroup empty", || Identity::workgroup("")),
        case("workgroup too long", || {
            Identity::workgroup("WORKGROUP123456X")
        }),
        case("workgroup space", || Identity::workgroup("WORK GROUP")),
        case("workgroup newline", || Identity::workgroup("WG\n")),
        case("workgroup %", || Identity::workgroup("WG%U")),
        case("workgroup []", || Identity::workgroup("WG[1]")),
        case("workgroup comma", || Identity::workgroup("WG,X")),
        case("workgroup star", || Identity::workgroup("WG*")),
        case("workgroup backslash", || Identity::workgroup("DOM\\X")),
        case("workgroup non-ascii", || Identity::workgroup("GRÜPPE")),
        case("workgroup stored lower-case", || {
            Identity::Workgroup("corp".into()).validate()
        }),
        // Active Directory.
        case("ad domain single label", || {
            AdSpec::new("corp", "Administrator", None)
        }),
        case("ad domain underscore", || {
            AdSpec::new("corp_x.example.com", "Administrator", None)
        }),
        case("ad domain empty label", || {
            AdSpec::new("corp..example.com", "Administrator", None)
        }),
        case("ad domain leading -", || {
            AdSpec::new("-corp.example.com", "Administrator", None)
        }),
        case("ad domain ip", || {
            AdSpec::new("10.0.0.1", "Administrator", None)
        }),
        case("ad domain newline", || {
            AdSpec::new("corp.example.com\nrealm = X", "Administrator", None)
        }),
        case("ad user with domain", || {
            AdSpec::new("corp.example.com", "CORP\\admin", None)
        }),
        case("ad user @", || {
            AdSpec::new("corp.example.com", "admin@corp", None)
        }),
        case("ad user empty", || {
            AdSpec::new("corp.example.com", "", None)
        }),
        case("ad user padded", || {
            AdSpec::new("corp.example.com", " admin", None)
        }),
        case("ad user %", || AdSpec::new("corp.example.com", "%U", None)),
        case("ad ou CN", || {
            AdSpec::new("corp.example.com", "Administrator", Some("CN=Computers"))
        }),
        case("ad ou DC", || {
            AdSpec::new("corp.example.com", "Administrator", Some("OU=S,DC=corp"))
        }),
        case("ad ou no =", || {
            AdSpec::new("corp.example.com", "Administrator", Some("Servers"))
        }),
        case("ad ou /", || {
            AdSpec::new("corp.example.com", "Administrator", Some("OU=a/b"))
        }),
        case("ad ou empty value", || {
            AdSpec::new("corp.example.com", "Administrator", Some("OU="))
        }),
        case("ad group ]", || {
            spec_with(|s| {
                s.identity =
                    Identity::Ad(AdSpec::new("corp.example.com", "Administrator", None).unwrap());
                s.access.groups = vec!["Staff]".into()];
            })()
        }),
        case("ad users duplicate (case)", || {
            spec_with(|s| {
                s.identity =
                    Identity::Ad(AdSpec::new("corp.example.com", "Administrator", None).unwrap());
                s.access.users = vec!["Alice".into(), "alice".into()];
            })()
        }),
        // Directory roots.
        case("dir empty", || BackendSpec::dir("")),
        case("dir relative", || BackendSpec::dir("srv/shares")),
        case("dir /", || BackendSpec::dir("/")),
        case("dir ..", || BackendSpec::dir("/srv/../etc")),
        case("dir .", || BackendSpec::dir("/srv/./x")),
        case("dir //", || BackendSpec::dir("/srv//x")),
        case("dir trailing /", || BackendSpec::dir("/srv/x/")),
        case("dir trailing space", || BackendSpec::dir("/srv/x ")),
        case("dir %", || BackendSpec::dir("/srv/%U")),
        case("dir newline", || BackendSpec::dir("/srv/a\nb")),
        case("dir control", || BackendSpec::dir("/srv/a\x01")),
        case("dir /etc", || BackendSpec::dir("/etc/shares")),
        case("dir /proc", || BackendSpec::dir("/proc")),
        case("dir /sys", || BackendSpec::dir("/sys/x")),
        case("dir /dev", || BackendSpec::dir("/dev/shm/x")),
        case("dir /run", || BackendSpec::dir("/run/shares")),
        case("dir /boot", || BackendSpec::dir("/boot/x")),
        case("dir /usr", || BackendSpec::dir("/usr/local/share")),
        // ZFS, CephFS, RBD names.
        case("zfs empty", || BackendSpec::zfs("")),
        case("zfs snapshot", || BackendSpec::zfs("rpool/data@snap")),
        case("zfs bookmark", || BackendSpec::zfs("rpool/data#bm")),
        case("zfs leading -", || BackendSpec::zfs("-rpool")),
        case("zfs leading digit", || BackendSpec::zfs("1pool")),
        case("zfs trailing /", || BackendSpec::zfs("rpool/")),
        case("zfs //", || BackendSpec::zfs("rpool//x")),
        case("zfs space", || BackendSpec::zfs("rpool/a b")),
        case("zfs %", || BackendSpec::zfs("rpool/%U")),
        case(
            "zfs too long with volume",
            spec_with(move |s| {
                s.backend = BackendSpec::zfs(long_parent).unwrap();
                s.volume = VolumeRef::new("teamdata").unwrap();
            }),
        ),
        case("cephfs fs space", || BackendSpec::cephfs("ce ph", None)),
        case("cephfs group option", || {
            BackendSpec::cephfs("cephfs", Some("--force"))
        }),
        case("cephfs group ..", || {
            BackendSpec::cephfs("cephfs", Some(".."))
        }),
        case("rbd pool /", || BackendSpec::rbd("po/ol")),
        case("cephfs mount relative", || {
            cephfs_with(|m, _| *m = Some("mnt/pve/cephfs".into()))
        }),
        case("cephfs mount under /proc", || {
            cephfs_with(|m, _| *m = Some("/proc/cephfs".into()))
        }),
        case("cephfs mount %", || {
            cephfs_with(|m, _| *m = Some("/mnt/pve/%U".into()))
        }),
        case("ceph conf relative", || {
            cephfs_with(|_, c| c.conf = Some("ceph.conf".into()))
        }),
        case("ceph conf newline", || {
            cephfs_with(|_, c| c.conf = Some("/etc/ceph/a\nb.conf".into()))
        }),
        case("ceph id with client.", || {
            cephfs_with(|_, c| c.id = Some("client.admin".into()))
        }),
        case("ceph id option", || {
            cephfs_with(|_, c| c.id = Some("-x".into()))
        }),
        case("rbd mount base //", || {
            rbd_with(|m| *m = Some("/var/lib//rbd".into()))
        }),
        case("rbd mount base /", || rbd_with(|m| *m = Some("/".into()))),
        case("rbd map nbd", || "nbd".parse::<RbdMap>()),
        case("volume -vol", || parse_volume_name("-vol")),
        case("volume a/b", || parse_volume_name("a/b")),
        // Quotas.
        case("quota 0", || parse_quota("0")),
        case("quota 10GB", || parse_quota("10GB")),
        case("quota 1.5G", || parse_quota("1.5G")),
        case("quota huge", || parse_quota("99999999999E")),
        case("quota 2^64 bytes", || parse_quota("18446744073709551616")),
        case("quota empty", || parse_quota("")),
        case("quota 10 G", || parse_quota("10 G")),
        case("quota -1G", || parse_quota("-1G")),
        case("quota 10X", || parse_quota("10X")),
        case(
            "dir quota without opt-in",
            spec_with(|s| s.quota = Some(parse_quota("10G").unwrap())),
        ),
        case(
            "rbd new volume without quota",
            spec_with(|s| s.backend = BackendSpec::rbd("rbd").unwrap()),
        ),
        // HA.
        case("vip no prefix", || HaSpec::new(true, Some("192.0.2.10"))),
        case("vip prefix 33", || HaSpec::new(true, Some("192.0.2.10/33"))),
        case("vip prefix +24", || {
            HaSpec::new(true, Some("192.0.2.10/+24"))
        }),
        case("vip bad address", || {
            HaSpec::new(true, Some("300.0.0.1/24"))
        }),
        case("vip hostname", || {
            HaSpec::new(true, Some("gw.example.com/24"))
        }),
        case("vip v6 prefix 129", || {
            HaSpec::new(true, Some("2001:db8::1/129"))
        }),
        case("vip empty iface", || {
            HaSpec::new(true, Some("192.0.2.10/24@"))
        }),
        case("vip iface space", || {
            HaSpec::new(true, Some("192.0.2.10/24@eth 0"))
        }),
        case("vip iface too long", || {
            HaSpec::new(true, Some("fe80::1/64@averyverylongname"))
        }),
        case(
            "vip in spec",
            spec_with(|s| {
                s.ha = Some(HaSpec {
                    enabled: true,
                    vip: Some("10.0.0.1/24\n".into()),
                })
            }),
        ),
        // Comments.
        case("comment newline", || check_comment("line\n[global]")),
        case("comment %", || check_comment("100% %U")),
        case("comment tab", || check_comment("a\tb")),
        case("comment too long", move || check_comment(long_comment)),
        case("comment padded", || check_comment(" padded")),
        case("comment empty", || check_comment("")),
        case(
            "comment in spec",
            spec_with(|s| s.comment = Some("x\ny".into())),
        ),
        // Keywords.
        case("mode Native", || "Native".parse::<Mode>()),
        case("mode container", || "container".parse::<Mode>()),
        case("signing yes", || "yes".parse::<Signing>()),
        case("encryption on", || "on".parse::<Encryption>()),
    ]
}

#[test]
fn every_bad_input_is_rejected_with_a_specific_message() {
    let mut out = String::new();
    for (label, f) in cases() {
        let e = match f() {
            Ok(()) => panic!("{label:?} was accepted"),
            Err(e) => e,
        };
        let msg = e.to_string();
        assert!(
            msg.chars().next().is_some_and(|c| !c.is_uppercase()) && !msg.ends_with('.'),
            "{label:?}: messages are lowercase without a trailing period: {msg}"
        );
        writeln!(out, "{label:?}\n    {msg}").unwrap();
    }
    insta::assert_snapshot!(out);
}

#[test]
fn specific_variants() {
    assert!(matches!(
        ShareId::new(" Global ").unwrap_err(),
        Error::ReservedShareId {
            reserved: "global",
            ..
        }
    ));
    assert!(matches!(
        ShareId::new("a]").unwrap_err(),
        Error::Invalid {
            field: "share id",
            ..
        }
    ));
    assert!(matches!(
        parse_quota("10GB").unwrap_err(),
        Error::InvalidQuota { .. }
    ));
    let e = spec_with(|s| s.quota = Some(parse_quota("1G").unwrap()))().unwrap_err();
    assert!(matches!(e, Error::QuotaUnenforced { .. }));
    assert!(e.to_string().contains("--quota-unenforced"));
    // Accepting the unenforced quota makes it valid.
    spec_with(|s| {
        s.quota = Some(parse_quota("1G").unwrap());
        s.quota_unenforced_ok = true;
    })()
    .unwrap();
    // Domain accounts may have upper case and spaces.
    spec_with(|s| {
        s.identity = Identity::Ad(
            AdSpec::new(
                "Corp.Example.com",
                "Administrator",
                Some("OU=Servers,OU=IT"),
            )
            .unwrap(),
        );
        s.access.groups = vec!["Domain Users".into()];
        s.access.users = vec!["Alice.Smith".into()];
    })()
    .unwrap();
    assert_eq!(
        AdSpec::new("Corp.Example.com", "Administrator", None)
            .unwrap()
            .realm,
        "CORP.EXAMPLE.COM"
    );
}
