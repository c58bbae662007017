//! The web UI wizard's client-side checks against core's rules.
//!
//! www/pve-smbgateway.js ports core's checks of the wizard's fields (share
//! id, quota, floating address, workgroup, the Active Directory domain,
//! join user and OU, the users and groups as local or domain accounts) and
//! the directory-quota refusal, with the same messages. This test runs a fixed list of inputs (hand-picked edge
//! cases plus deterministic pseudo-random strings over the characters the
//! rules care about) through the Rust functions and compares the answers
//! with www/test/rules-table.json; the browser test (www/test) runs the same
//! inputs through the JavaScript and compares with the same file. So a
//! change on either side fails one of the two tests until both agree again:
//! `SMBGW_WRITE_TABLE=1 cargo test -p pve-smbgateway --test it gui::`
//! rewrites the table from Rust after a deliberate rule change.

use std::path::PathBuf;

use serde_json::{json, Value};

fn table_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../www/test/rules-table.json")
}

/// Deterministic pseudo-random strings (an LCG, so the table is stable).
fn random_inputs(alphabet: &[&str], count: usize, max_len: usize, seed: u64) -> Vec<String> {
    let mut state = seed;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize
    };
    (0..count)
        .map(|_| {
            let len = next() % (max_len + 1);
            (0..len)
                .map(|_| alphabet[next() % alphabet.len()])
                .collect()
        })
        .collect()
}

fn share_id_inputs() -> Vec<String> {
    let mut v: Vec<String> = [
        "team",
        "team-data",
        "a1",
        "ab",
        "a",
        "",
        "Team",
        "TEAM",
        "homes",
        " Global ",
        "GLOBALS",
        "print$",
        "IPC$",
        "printers",
        "team data",
        "a]b",
        "a[b",
        "50%",
        "a/b",
        "a\\b",
        "a\nb",
        "a\rb",
        "a\tb",
        "a\u{1}b",
        "caf\u{e9}",
        "\u{65}\u{301}x",
        "a\u{200b}b",
        "a\u{a0}b",
        "1team",
        "team-",
        "team.",
        "_team",
        "te_am.x",
        "a\"b",
        "a'b",
        "a:b",
        "a;b",
        "a,b",
        "a=b",
        "a*b",
        "x\u{7f}y",
        "\u{1f600}",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push("a".repeat(64));
    v.push("a".repeat(65));
    v.extend(random_inputs(
        &[
            "a", "z", "0", "9", "-", "_", ".", "A", "Z", " ", "]", "[", "%", "/", "\\", "\n", "\t",
            "$", "é", "\u{301}", "h", "o", "m", "e", "s",
        ],
        120,
        9,
        1,
    ));
    v
}

fn quota_inputs() -> Vec<String> {
    let mut v: Vec<String> = [
        "100G",
        "2T",
        "1.5G",
        "0G",
        "0T",
        "-1G",
        "G",
        "",
        " ",
        "10 G",
        "10GB",
        "10gb",
        "10Gb",
        "10Gi",
        "10GiB",
        "10gib",
        "10X",
        "abcG",
        "1536M",
        "4096",
        "4096B",
        "1,5G",
        " 1G",
        "1G ",
        "+5G",
        "15E",
        "16E",
        "18446744073709551615",
        "18446744073709551616",
        "99999999999999999999G",
        "16383PiB",
        "16384P",
        "1KiBs",
        "\u{a0}10G",
        "10\u{a0}G",
        "\u{85}5G",
        "5\u{feff}G",
        "10 T",
        "80GB",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(random_inputs(
        &[
            "0", "1", "5", "9", "G", "T", "K", "i", "B", "b", " ", ".", ",", "-", "x", "E",
        ],
        120,
        7,
        2,
    ));
    v
}

fn vip_inputs() -> Vec<String> {
    let mut v: Vec<String> = [
        "192.168.1.50/24@vmbr0",
        "192.168.1.50/24",
        "192.168.1.50",
        "192.168.1.50/33",
        "192.168.1.50/0",
        "192.168.1.50/+24",
        "192.168.1.50/024",
        "192.168.1.50/0000000024",
        "192.168.1.50/256",
        "192.168.1.0/24@vmbr0",
        "192.168.1.255/24@vmbr0",
        "10.0.0.0/31@eth0",
        "10.0.0.7/32@eth0",
        "255.255.255.255/32",
        "0.0.0.0/8",
        "127.0.0.5/8",
        "224.0.0.5/24",
        "239.1.1.1/8",
        "300.1.1.1/24",
        "01.2.3.4/24",
        "1.2.3/24",
        "1.2.3.4.5/24",
        "10.0.0.5/24@-x",
        "10.0.0.5/24@",
        "10.0.0.5/24@a b",
        "10.0.0.5/24\n",
        "10.0.0.5/24@eth0:1",
        "10.0.0.5/24@eth0,eth1",
        "10.0.0.5/24@averyverylongname0",
        "10.0.0.5/24@.",
        "10.0.0.5/24@..",
        "10.0.0.5/24@ethé",
        "10.0.0.5/24@eth0@x",
        "10.0.0.5/24/8",
        "fd00::5/64",
        "fd00::5/129",
        "fd00::5/128@vmbr0",
        "::/64",
        "::1/128",
        "ff02::1/64",
        "fe80::1%eth0/64",
        "1:2:3:4:5:6:7:8/64",
        "1:2:3:4:5:6:7:8:9/64",
        "1::2::3/64",
        "::ffff:10.0.0.5/96",
        "1:2:3:4:5:6:10.0.0.5/64",
        "1:2:3:4:5:6:7:10.0.0.5/64",
        "10.0.0.5::1/64",
        "12345::1/64",
        "FD00::A/64",
        "fd00::/64",
        ":1/64",
        "1:/64",
        "1::/64",
        "/24",
        "",
        " 10.0.0.5/24",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(random_inputs(
        &[
            "1", "0", "2", "5", "25", "255", ".", ".", ":", "::", "f", "/", "/24", "/3", "@",
            "eth0", "a", " ", "-",
        ],
        150,
        9,
        3,
    ));
    v
}

fn workgroup_inputs() -> Vec<String> {
    let mut v: Vec<String> = [
        "WORKGROUP",
        "corp",
        "",
        "A",
        "CORP-1",
        "a b",
        "a\tb",
        "a\nb",
        "50%",
        "A/B",
        "A\\B",
        "A:B",
        "A*B",
        "A?B",
        "A\"B",
        "A<B",
        "A>B",
        "A|B",
        "A+B",
        "A=B",
        "A;B",
        "A,B",
        "A[B",
        "A]B",
        "ÉQUIPE",
        "A\u{1}B",
        "A\u{a0}B",
        "ABCDEFGHIJKLMNO",
        "ABCDEFGHIJKLMNOP",
        "x.y_z!",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(random_inputs(
        &[
            "A", "z", "0", "-", ".", " ", "%", "/", ":", "é", "\t", "W", "O", "R", "K",
        ],
        80,
        18,
        4,
    ));
    v
}

fn owned(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn ad_domain_inputs() -> Vec<String> {
    let mut v = owned(&[
        "corp.example.com",
        "CORP.EXAMPLE.COM",
        "Corp.Example.Com",
        "example.com",
        "a.b",
        "a.b.c.d.e.f",
        "corp",
        "CORP",
        "",
        ".",
        "..",
        "corp.",
        ".corp",
        "corp..example.com",
        "corp.example.com.",
        "-corp.example.com",
        "corp-.example.com",
        "co-rp.ex--ample.com",
        "corp.-com",
        "xn--bcher-kva.example",
        "10.0.0.5",
        "1.2",
        "corp.123",
        "corp.1a",
        "123.corp",
        "ex_ample.com",
        "corp example.com",
        " corp.example.com",
        "corp.example.com ",
        "corp.example.com\n",
        "corp\t.com",
        "corp.ex\u{e4}mple.com",
        "corp.exa\u{301}mple.com",
        "corp/x.com",
        "corp:88.com",
        "corp.example.com@x",
        "\u{1}.com",
        "corp\u{200b}.com",
    ]);
    let l63 = "a".repeat(63);
    v.push(format!("{l63}.com"));
    v.push(format!("{}.com", "a".repeat(64)));
    // 253 characters (the most), 254, and 254 bytes in fewer characters.
    v.push(format!("{l63}.{l63}.{l63}.{}", "b".repeat(61)));
    v.push(format!("{l63}.{l63}.{l63}.{}", "b".repeat(62)));
    v.push(format!("{}.com", "\u{e9}".repeat(125)));
    v.push(format!("{}.c", "a.".repeat(130)));
    v.extend(random_inputs(
        &[
            "a", "z", "0", "9", "-", ".", ".", "A", "c", "o", "m", " ", "_", "\u{e9}",
        ],
        120,
        12,
        5,
    ));
    v
}

fn ad_account_inputs() -> Vec<String> {
    let mut v = owned(&[
        "Administrator",
        "alice",
        "Domain Users",
        "svc-join_01",
        "a",
        "",
        " ",
        " alice",
        "alice ",
        "alice\u{a0}",
        "\u{2003}alice",
        "al ice",
        "CORP\\alice",
        "\\",
        "alice@corp.example.com",
        "a\"b",
        "a/b",
        "a[b",
        "a]b",
        "a:b",
        "a;b",
        "a|b",
        "a=b",
        "a,b",
        "a+b",
        "a*b",
        "a?b",
        "a<b",
        "a>b",
        "50%",
        "a'b",
        "a$",
        "host$",
        "a\tb",
        "a\nb",
        "a\rb",
        "a\u{0}b",
        "a\u{1}b",
        "a\u{7f}b",
        "a\u{85}b",
        "a\u{200b}b",
        "alice.",
        "a.lice",
        ".alice",
        "...",
        "jos\u{e9}",
        "\u{dc}n\u{ef}c\u{f6}d\u{e9}",
        "a\u{301}",
        "\u{301}a",
        "\u{1f600}",
        "\u{540d}\u{524d}",
    ]);
    v.push("a".repeat(64));
    v.push("a".repeat(65));
    v.push("\u{e9}".repeat(64));
    v.push("\u{e9}".repeat(65));
    v.push(format!("{}.", "a".repeat(64)));
    v.push(format!("{} ", "a".repeat(65)));
    v.extend(random_inputs(
        &[
            "a", "Z", "0", " ", ".", "-", "_", "$", "@", "\\", "%", ",", "\t", "\u{e9}", "'",
        ],
        120,
        8,
        6,
    ));
    v
}

fn ad_ou_inputs() -> Vec<String> {
    let mut v = owned(&[
        "OU=Servers",
        "OU=Servers,OU=IT",
        "ou=servers",
        "Ou=Servers, OU=IT",
        " OU = Servers ",
        "OU=Servers West",
        "OU=B\u{fc}ro",
        "OU=a=b",
        "OU=a'b",
        "OU=a&b",
        "",
        " ",
        "Servers",
        "OU",
        "=x",
        "OU=",
        "OU= ",
        "OU=Servers,",
        ",OU=Servers",
        "OU=x,,OU=y",
        "CN=Computers",
        "DC=corp,DC=example",
        "OU=Servers,DC=corp,DC=example",
        "O U=x",
        "OU\u{a0}=x",
        "\u{a0}OU=x",
        "OU=Ser\"vers",
        "OU=a\\,b",
        "OU=a+b",
        "OU=a<b",
        "OU=a>b",
        "OU=a;b",
        "OU=#a",
        "OU=50%",
        "OU=a/b",
        "OU=a\nb",
        "OU=a\tb",
        "OU=a\u{7f}",
        "OU=\u{301}x",
    ]);
    v.push(format!("OU={}", "x".repeat(300)));
    v.extend(random_inputs(
        &[
            "OU=", "OU=", "ou=", "CN=", "=", ",", ",", "a", "B", " ", "\\", "#", "+", "/", "\u{e9}",
        ],
        120,
        6,
        7,
    ));
    v
}

/// Lists of users and groups: hand-picked pairs, then random strings split
/// at `,` as the storage plugin splits `smbgw-users` (empty names dropped).
fn access_inputs(names: &[&str], seed: u64) -> Vec<(Vec<String>, Vec<String>)> {
    let pairs: &[(&[&str], &[&str])] = &[
        (&[], &[]),
        (&["alice", "bob"], &["staff"]),
        (&["alice"], &["Domain Users"]),
        (&["alice", "Alice"], &[]),
        (&["alice", "alice"], &[]),
        (&[], &["Domain Users", "domain users"]),
        (&[], &["staff", "staff"]),
        (&["alice"], &["alice"]),
        (&["\u{c9}lodie", "\u{e9}lodie"], &[]),
        (&["stra\u{df}e", "STRASSE"], &[]),
        (&["alice"], &["@staff"]),
        (&["@alice"], &[]),
        (&["CORP\\alice"], &[]),
        (&["Alice"], &[]),
        (&["alice"], &["Staff"]),
        (&["a@b"], &["c@d"]),
        (&["alice"], &["bad,name"]),
        (&["host$"], &["grp$"]),
        (&["$host"], &[]),
        (&["h$st"], &[]),
        (&["1abc"], &[]),
        (&["_svc"], &[]),
        (&["alice "], &[]),
        (&[" alice"], &[]),
        (&["al ice"], &[]),
        (&["a\tb"], &[]),
        (&["a\nb"], &[]),
        (&[""], &[]),
        (&["jos\u{e9}"], &[]),
        (&["alice."], &[]),
        (&["a.b"], &[]),
    ];
    let mut v: Vec<(Vec<String>, Vec<String>)> =
        pairs.iter().map(|(u, g)| (owned(u), owned(g))).collect();
    v.push((vec!["a".repeat(32), "b".repeat(33)], vec![]));
    v.push((vec![], vec!["g".repeat(64), "h".repeat(65)]));
    let random = random_inputs(names, 100, 10, seed);
    let split = |s: &String| -> Vec<String> {
        s.split(',')
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect()
    };
    for pair in random.chunks(2) {
        v.push((split(&pair[0]), split(&pair[1])));
    }
    v
}

fn answer<E: std::fmt::Display>(r: Result<impl Sized, E>) -> Value {
    match r {
        Ok(_) => Value::Null,
        Err(e) => Value::String(e.to_string()),
    }
}

fn cases(inputs: Vec<String>, check: impl Fn(&str) -> Value) -> Value {
    Value::Array(
        inputs
            .iter()
            .map(|i| json!({"input": i, "error": check(i)}))
            .collect(),
    )
}

/// Characters of the random user and group lists.
const POSIX_NAMES: &[&str] = &[
    "a", "z", "0", "_", "-", "$", "A", " ", ",", ",", "@", ".", "\u{e9}",
];
const AD_NAMES: &[&str] = &[
    "a", "A", "0", "_", " ", ".", ",", ",", "@", "\\", "%", "\u{c9}", "\u{e9}", "\t",
];

/// Users and groups (the input is `[users, groups]`) through `check`.
fn access(names: &[&str], seed: u64, check: impl Fn(&smbgw_core::spec::Access) -> Value) -> Value {
    Value::Array(
        access_inputs(names, seed)
            .into_iter()
            .map(|(users, groups)| {
                let a = smbgw_core::spec::Access {
                    users: users.clone(),
                    groups: groups.clone(),
                    read_only: false,
                };
                json!({"input": [users, groups], "error": check(&a)})
            })
            .collect(),
    )
}

/// Core's refusal of a quota on a directory backend without the opt-in,
/// from a real spec validation.
fn dir_quota(root: &str, quota: &str) -> Value {
    let spec: smbgw_core::spec::ShareSpec = serde_json::from_value(json!({
        "id": "team",
        "backend": {"type": "dir", "root": root},
        "volume": {"name": "team", "existing": false},
        "quota": quota,
    }))
    .unwrap();
    answer(spec.validate())
}

fn table() -> Value {
    use smbgw_core::spec::{AdSpec, HaSpec, Identity, ShareId};
    const DOMAIN: &str = "corp.example.com";
    let dir: Vec<Value> = [
        ("/srv/smbgateway", "100G"),
        ("/var/lib/vz", "2T"),
        ("/var/lib/vz", "100G"),
        ("/srv/x", "1536M"),
        ("/srv/x", "4096"),
        ("/srv/x", "1024K"),
    ]
    .iter()
    .map(|(root, q)| json!({"input": [root, q], "error": dir_quota(root, q)}))
    .collect();
    json!({
        "//": "generated by `SMBGW_WRITE_TABLE=1 cargo test -p pve-smbgateway --test it gui::` from core's rules; www/test checks pve-smbgateway.js against it",
        "share_id": cases(share_id_inputs(), |s| answer(ShareId::new(s))),
        "quota": cases(quota_inputs(), |s| answer(smbgw_core::parse_quota(s))),
        "vip": cases(vip_inputs(), |s| answer(HaSpec::new(false, Some(s)))),
        "workgroup": cases(workgroup_inputs(), |s| answer(Identity::workgroup(s))),
        "dir_quota": dir,
        "ad_domain": cases(ad_domain_inputs(), |s| answer(AdSpec::new(s, "Administrator", None))),
        "ad_user": cases(ad_account_inputs(), |s| answer(AdSpec::new(DOMAIN, s, None))),
        "ad_ou": cases(ad_ou_inputs(), |s| answer(AdSpec::new(DOMAIN, "Administrator", Some(s)))),
        "access": access(POSIX_NAMES, 8, |a| answer(a.validate())),
        "access_ad": access(AD_NAMES, 9, |a| answer(a.validate_domain())),
    })
}

#[test]
fn wizard_rules_table_matches_core() {
    let want = format!("{}\n", serde_json::to_string_pretty(&table()).unwrap());
    let path = table_path();
    if std::env::var_os("SMBGW_WRITE_TABLE").is_some() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is not what core answers now; after a deliberate rule change run `SMBGW_WRITE_TABLE=1 cargo test -p pve-smbgateway --test it gui::`, then make www/pve-smbgateway.js agree (the browser test checks it)",
        path.display()
    );
}
