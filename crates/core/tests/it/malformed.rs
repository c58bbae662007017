//! Hand-edited registry files that must be refused with file, line and key
//! (Proxmox's parser would warn and skip; we must not lose data silently).

use std::fmt::Write as _;
use std::path::Path;

use smbgw_core::registry::Shares;

const GOOD: &str = "share: team
	backend dir
	dir-root /srv/shares
	volume team
	mode native
	workgroup WORKGROUP
	volume-id /srv/shares/team
	path /srv/shares/team
	created-at 1700000000
";

/// `GOOD` with `from` replaced by `to`.
fn edit(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from), "{from}");
    GOOD.replacen(from, to, 1)
}

#[test]
fn good_base_parses() {
    let s = Shares::parse(GOOD, Path::new("/etc/pve/smbgateway.cfg")).unwrap();
    assert_eq!(s.len(), 1);
    // A boolean without a value means 1, as in Proxmox.
    let s = Shares::parse(
        &edit("\tmode native\n", "\tmode native\n\tread-only\n"),
        Path::new("t"),
    )
    .unwrap();
    assert!(s.iter().next().unwrap().spec.access.read_only);
}

#[test]
fn malformed_files_are_refused_with_line_and_key() {
    let cases: Vec<(&str, String)> = vec![
        (
            "property outside a section",
            format!("\tbackend dir\n{GOOD}"),
        ),
        ("garbage line", format!("{GOOD}\nthis is not a header\n")),
        (
            "header without empty line before",
            format!("{}share: other\n\tbackend dir\n", GOOD),
        ),
        (
            "garbage inside section",
            edit("\tvolume team\n", "\tvolume team\nvolume team2\n"),
        ),
        (
            "duplicate key",
            edit("\tvolume team\n", "\tvolume team\n\tvolume other\n"),
        ),
        ("duplicate section", format!("{GOOD}\n{GOOD}")),
        (
            "duplicate section other type",
            format!("{GOOD}\nfoo: team\n\tk v\n"),
        ),
        ("missing key", edit("\tworkgroup WORKGROUP\n", "")),
        ("missing backend key", edit("\tdir-root /srv/shares\n", "")),
        ("key with no value", edit("\tvolume team\n", "\tvolume\n")),
        ("bad share id in header", edit("share: team", "share: Team")),
        (
            "reserved share id in header",
            edit("share: team", "share: global"),
        ),
        (
            "bad quota",
            edit("\tvolume team\n", "\tvolume team\n\tquota 10GB\n"),
        ),
        (
            "dir quota without opt-in",
            edit("\tvolume team\n", "\tvolume team\n\tquota 10G\n"),
        ),
        (
            "bad boolean",
            edit("\tvolume team\n", "\tvolume team\n\texisting yes\n"),
        ),
        ("bad backend", edit("\tbackend dir\n", "\tbackend nfs\n")),
        (
            "key of another backend",
            edit("\tvolume team\n", "\tvolume team\n\tzfs-parent rpool\n"),
        ),
        ("bad dir root", edit("/srv/shares\n", "/etc/shares\n")),
        (
            "ceph key on a dir backend",
            edit("\tvolume team\n", "\tvolume team\n\tceph-id admin\n"),
        ),
        (
            "rbd key on a cephfs backend",
            edit(
                "\tbackend dir\n\tdir-root /srv/shares\n",
                "\tbackend cephfs\n\tcephfs-fs cephfs\n\trbd-map fuse\n",
            ),
        ),
        (
            "relative cephfs mount",
            edit(
                "\tbackend dir\n\tdir-root /srv/shares\n",
                "\tbackend cephfs\n\tcephfs-fs cephfs\n\tcephfs-mount mnt/pve/cephfs\n",
            ),
        ),
        (
            "bad rbd map",
            edit(
                "\tbackend dir\n\tdir-root /srv/shares\n",
                "\tbackend rbd\n\trbd-pool rbd\n\trbd-map nbd\n",
            ),
        ),
        (
            "ceph id with client.",
            edit(
                "\tbackend dir\n\tdir-root /srv/shares\n",
                "\tbackend rbd\n\trbd-pool rbd\n\tceph-id client.admin\n",
            ),
        ),
        (
            "bad user",
            edit("\tvolume team\n", "\tvolume team\n\tusers alice,Bob\n"),
        ),
        (
            "duplicate user",
            edit("\tvolume team\n", "\tvolume team\n\tusers alice,alice\n"),
        ),
        (
            "empty list item",
            edit("\tvolume team\n", "\tvolume team\n\tusers alice,,bob\n"),
        ),
        ("bad mode", edit("\tmode native\n", "\tmode docker\n")),
        (
            "bad workgroup",
            edit("\tworkgroup WORKGROUP\n", "\tworkgroup WORK%GROUP\n"),
        ),
        (
            "vip without ha",
            edit("\tvolume team\n", "\tvolume team\n\tvip 192.0.2.1/24\n"),
        ),
        (
            "bad vip",
            edit(
                "\tvolume team\n",
                "\tvolume team\n\tha 1\n\tvip 192.0.2.1\n",
            ),
        ),
        ("bad created-at", edit("1700000000", "yesterday")),
        (
            "relative path",
            edit("\tpath /srv/shares/team\n", "\tpath srv/shares/team\n"),
        ),
        (
            "bad comment",
            edit("\tvolume team\n", "\tvolume team\n\tcomment 100% %U\n"),
        ),
    ];
    let mut out = String::new();
    for (label, text) in &cases {
        let e = match Shares::parse(text, Path::new("/etc/pve/smbgateway.cfg")) {
            Ok(_) => panic!("{label}: accepted:\n{text}"),
            Err(e) => e,
        };
        let msg = e.to_string();
        assert!(
            msg.starts_with("/etc/pve/smbgateway.cfg:"),
            "{label}: {msg}"
        );
        writeln!(out, "{label}\n    {msg}").unwrap();
    }
    insta::assert_snapshot!(out);
}

#[test]
fn invalid_utf8_is_reported_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shares.cfg");
    let mut bytes = GOOD.as_bytes().to_vec();
    bytes.extend_from_slice(b"\n# caf\xe9\n");
    std::fs::write(&path, bytes).unwrap();
    let e = smbgw_core::registry::Registry::new(&path)
        .load()
        .unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains(":11: the line is not valid UTF-8"), "{msg}");
}
