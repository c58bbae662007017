//! The web UI wizard's client-side checks against core's rules.
//!
//! www/pve-smbgateway.js ports four of core's checks (share id, quota,
//! floating address, workgroup) and the directory-quota refusal, with the
//! same messages. This test runs a fixed list of inputs (hand-picked edge
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
    use smbgw_core::spec::{HaSpec, Identity, ShareId};
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
