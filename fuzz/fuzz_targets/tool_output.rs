//! Properties of the parsers of what tools print (zfs, ceph, rbd, the mount
//! table, smbstatus, pdbedit, smbd, pveversion, ha-manager, net ads). The
//! first input byte picks the parser, the rest is the tool's output. None
//! panics, and what each returns agrees with the text:
//! * numbers equal what the text (or the JSON, read independently) says;
//! * names and values returned are pieces of the input's lines;
//! * the HA configurations, printed back in ha-manager's format, parse to
//!   the same value;
//! * documented invariants hold (a quota is never 0, a timestamp is the
//!   date and time the text gives, a clock skew is within Kerberos' limit).
#![no_main]

use std::collections::BTreeMap;

use backends::ceph::{
    classify_ceph_error, parse_rbd_du, parse_rbd_info, parse_snapshot_created, parse_snapshot_ls,
    parse_subvolume_info, parse_subvolume_path,
};
use backends::zfs::{
    classify_zfs_error, parse_zfs_get, parse_zfs_list_names, parse_zfs_number, ZfsFailure,
};
use ha::pve::{
    parse_groupconfig, parse_ha_config, parse_pveversion, parse_rules_config, GroupConfig,
    ResourceConfig, Rule,
};
use ha::HaFlavor;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

/// `Some(n)` when `s` is a decimal number (optionally `+`) that fits a u64.
fn decimal(s: &str) -> Option<u64> {
    let digits = s.strip_prefix('+').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let significant = digits.trim_start_matches('0');
    if significant.len() > 20 {
        return None;
    }
    let n: u128 = significant
        .bytes()
        .fold(0, |n, b| n * 10 + u128::from(b - b'0'));
    u64::try_from(n).ok()
}

fn zfs_get(text: &str) {
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    match parse_zfs_get(text) {
        Ok(rows) => {
            assert_eq!(rows.len(), lines.len());
            for (row, line) in rows.iter().zip(&lines) {
                let joined = format!(
                    "{}\t{}\t{}\t{}",
                    row.name, row.property, row.value, row.source
                );
                assert_eq!(&joined, line);
                assert!(!row.name.is_empty() && !row.property.is_empty());
                match parse_zfs_number(row) {
                    Ok(n) => assert_eq!(decimal(&row.value), Some(n), "{:?}", row.value),
                    Err(_) => assert_eq!(decimal(&row.value), None, "{:?}", row.value),
                }
            }
        }
        Err(_) => assert!(lines.iter().any(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            f.len() != 4 || f[0].is_empty() || f[1].is_empty()
        })),
    }
}

fn zfs_names(text: &str) {
    let names = parse_zfs_list_names(text);
    let lines: Vec<&str> = text.lines().collect();
    assert!(names.len() <= lines.len());
    let mut rest = lines.iter();
    for n in &names {
        assert!(!n.is_empty() && n.trim_end() == n);
        assert!(rest.any(|l| l.trim_end() == n), "{n:?} is not a line");
    }
}

fn classify(text: &str, code: u8) {
    match classify_zfs_error(text) {
        ZfsFailure::InvalidProperty(p) => assert!(text.contains(&format!("'{p}'")), "{p:?}"),
        ZfsFailure::InvalidValue(v) => {
            assert!(text.contains(&format!("{v}' must be one of '")), "{v:?}");
            assert!(!v.contains('\''));
        }
        _ => {}
    }
    let _ = classify_ceph_error(Some(i32::from(code)), text);
    let _ = classify_ceph_error(None, text);
}

fn subvolume_info(text: &str) {
    let Ok(info) = parse_subvolume_info(text) else {
        return;
    };
    let v: Value = serde_json::from_str(text).expect("parsed output is JSON");
    assert_eq!(v["bytes_used"].as_u64(), Some(info.bytes_used));
    match info.bytes_quota {
        Some(q) => {
            assert_ne!(q, 0, "a quota of 0 means none");
            assert_eq!(v["bytes_quota"].as_u64(), Some(q));
        }
        None => assert!(v["bytes_quota"] == json!("infinite") || v["bytes_quota"] == json!(0)),
    }
    assert_eq!(v["path"].as_str(), Some(info.path.as_str()));
    assert_eq!(v["state"].as_str(), Some(info.state.as_str()));
}

fn subvolume_path(text: &str) {
    if let Ok(p) = parse_subvolume_path(text) {
        assert!(p.starts_with('/') && !p.contains('\n'));
        assert_eq!(p, text.trim());
    }
}

fn snapshot_ls(text: &str) {
    let Ok(names) = parse_snapshot_ls(text) else {
        return;
    };
    let v: Value = serde_json::from_str(text).expect("parsed output is JSON");
    let items = v.as_array().expect("a list");
    assert_eq!(names.len(), items.len());
    for (n, i) in names.iter().zip(items) {
        assert_eq!(i["name"].as_str(), Some(n.as_str()));
    }
}

fn is_leap(y: u64) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

fn days_in_month(y: u64, m: u64) -> u64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `YYYY-MM-DD HH:MM:SS[.frac]` counted the slow way: `None` unless every
/// field is plain digits and the date exists.
fn slow_utc(s: &str) -> Option<u64> {
    let (date, time) = s.split_once(' ')?;
    let time = time.split_once('.').map_or(time, |(t, _)| t);
    let num = |f: &str| -> Option<u64> {
        (!f.is_empty() && f.len() <= 6 && f.bytes().all(|b| b.is_ascii_digit()))
            .then(|| f.parse().ok())
            .flatten()
    };
    let d: Vec<u64> = date.split('-').map(num).collect::<Option<_>>()?;
    let t: Vec<u64> = time.split(':').map(num).collect::<Option<_>>()?;
    let ([y, m, day], [hh, mm, ss]) = (d.as_slice(), t.as_slice()) else {
        return None;
    };
    let (y, m, day, hh, mm, ss) = (*y, *m, *day, *hh, *mm, *ss);
    if y < 1970 || !(1..=12).contains(&m) || day < 1 || day > days_in_month(y, m) {
        return None;
    }
    if hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Leap years before `y` since year 0, then since 1970.
    let leaps = |y: u64| y / 4 - y / 100 + y / 400;
    let mut days = 365 * (y - 1970) + leaps(y - 1) - leaps(1969);
    days += (1..m).map(|m| days_in_month(y, m)).sum::<u64>();
    days += day - 1;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

fn snapshot_created(text: &str) {
    let Ok(t) = parse_snapshot_created(text) else {
        return;
    };
    let v: Value = serde_json::from_str(text).expect("parsed output is JSON");
    let s = v["created_at"].as_str().expect("created_at is text");
    assert_eq!(slow_utc(s), Some(t), "{s:?}");
}

fn rbd_info(text: &str) {
    let Ok(info) = parse_rbd_info(text) else {
        return;
    };
    let v: Value = serde_json::from_str(text).expect("parsed output is JSON");
    assert_eq!(v["size"].as_u64(), Some(info.size));
    assert_eq!(v["name"].as_str().unwrap_or_default(), info.name);
}

fn rbd_du(text: &str) {
    let Ok((provisioned, used)) = parse_rbd_du(text) else {
        return;
    };
    let v: Value = serde_json::from_str(text).expect("parsed output is JSON");
    let image = v["images"]
        .as_array()
        .and_then(|i| i.iter().find(|i| i.get("snapshot").is_none()))
        .expect("the image entry");
    assert_eq!(image["provisioned_size"].as_u64(), Some(provisioned));
    assert_eq!(image["used_size"].as_u64(), Some(used));
}

fn mountinfo(text: &str) {
    let mounts = backends::parse_mountinfo(text);
    let lines: Vec<&str> = text.lines().collect();
    assert!(mounts.len() <= lines.len());
    let mut rest = lines.iter();
    for m in &mounts {
        // The next line the parser reads a mount from.
        let raw = rest
            .find_map(|l| {
                let (left, right) = l.split_once(" - ")?;
                let point = left.split(' ').nth(4)?;
                (right.split(' ').next() == Some(m.fs_type.as_str())).then_some(point)
            })
            .unwrap_or_else(|| panic!("{m:?} has no line"));
        let point = m.point.to_str().expect("a lossy-decoded point is UTF-8");
        assert!(point.len() <= raw.len(), "{raw:?} -> {point:?}");
        if !raw.contains('\\') {
            assert_eq!(point, raw);
        }
    }
}

fn smbstatus(text: &str) {
    let Ok(s) = provision::parse_smbstatus(text, "Team", "/srv/team") else {
        return;
    };
    let v: Value = serde_json::from_str(text).expect("parsed output is JSON");
    let tcons = v["tcons"].as_object().map_or(0, |t| t.len());
    assert!(s.connections <= tcons);
    assert!(s.users.len() <= s.connections);
    for (i, u) in s.users.iter().enumerate() {
        assert!(!s.users[..i].contains(u), "{u:?} twice");
        let known = v["sessions"]
            .as_object()
            .is_some_and(|ss| ss.values().any(|x| x["username"].as_str() == Some(u)));
        assert!(known, "{u:?} is no session's user");
    }
    let files = v["open_files"].as_object().map_or(0, |f| {
        f.values()
            .filter(|f| f["service_path"] == json!("/srv/team"))
            .count()
    });
    assert!(s.open_files >= files);
    assert_eq!(
        provision::parse_smbstatus(text, "team", "/srv/team").ok(),
        Some(s)
    );
}

fn pdbedit(text: &str) {
    let names = provision::parse_pdbedit_list(text);
    let mut rest = text.lines();
    for n in &names {
        assert!(!n.is_empty() && !n.contains(':') && n.trim() == n, "{n:?}");
        assert!(
            rest.any(|l| l.split(':').next().map(str::trim) == Some(n)),
            "{n:?} is not a line's first field"
        );
    }
}

fn samba_version(text: &str) {
    let Some((major, minor)) = provision::container::parse_samba_version(text) else {
        return;
    };
    let v = text
        .trim()
        .strip_prefix("Version ")
        .expect("`Version ` first");
    let end = v.find(|c: char| !c.is_ascii_digit()).expect("a separator");
    assert_eq!(v[..end].parse::<u32>().ok(), Some(major));
    let after = &v[end..];
    let rest = &after[after.chars().next().map_or(0, char::len_utf8)..];
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    assert_eq!(rest[..end].parse::<u32>().ok(), Some(minor));
}

fn profile(text: &str) {
    let Ok(p) = smbgw_core::metrics::parse_profile(text) else {
        return;
    };
    let v: Value = serde_json::from_str(text).expect("parsed output is JSON");
    assert!(v.get("SMB2 Calls").is_some());
    let n = |ptr: &str| v.pointer(ptr).and_then(Value::as_u64).unwrap_or(0);
    assert_eq!(p.io.read_bytes, n("/SMB2 Calls/smb2_read/outbytes"));
    assert_eq!(p.io.write_bytes, n("/SMB2 Calls/smb2_write/inbytes"));
    assert_eq!(p.io.read_ops, n("/SMB2 Calls/smb2_read/count"));
    assert_eq!(p.io.write_ops, n("/SMB2 Calls/smb2_write/count"));
    assert_eq!(p.connects, n("/SMBD loop/connect/count"));
    assert_eq!(p.disconnects, n("/SMBD loop/disconnect/count"));
}

fn pveversion(text: &str) {
    match parse_pveversion(text) {
        Ok(HaFlavor::Pve8Groups) => assert!(text.contains("pve-manager/8")),
        Ok(HaFlavor::Pve9Rules) => assert!(text.contains("pve-manager/9")),
        Err(ha::Error::UnsupportedVersion { version }) => {
            assert!(!version.is_empty() && text.contains(&format!("pve-manager/{version}")));
        }
        Err(_) => {}
    }
}

/// Some values end in `\r` at the end of the text, which a printed line
/// (ending `\r\n`) would lose.
fn printable(v: &str) -> bool {
    !v.ends_with('\r')
}

fn ha_config(text: &str) {
    let Ok(resources) = parse_ha_config(text) else {
        return;
    };
    let headers: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with([' ', '\t']))
        .map(str::trim_end)
        .collect();
    let mut printed = String::new();
    for (sid, r) in &resources {
        assert!(headers.contains(&sid.as_str()), "{sid:?}");
        assert!(sid.contains(':'));
        let ResourceConfig {
            state,
            group,
            max_restart,
            max_relocate,
        } = r;
        if ![state, group].into_iter().flatten().all(|v| printable(v)) {
            return;
        }
        printed.push_str(sid);
        printed.push('\n');
        if let Some(g) = group {
            printed.push_str(&format!("\tgroup {g}\n"));
        }
        if let Some(n) = max_relocate {
            printed.push_str(&format!("\tmax_relocate {n}\n"));
        }
        if let Some(n) = max_restart {
            printed.push_str(&format!("\tmax_restart {n}\n"));
        }
        if let Some(s) = state {
            printed.push_str(&format!("\tstate {s}\n"));
        }
        printed.push('\n');
    }
    let again = parse_ha_config(&printed).unwrap_or_else(|e| panic!("{e}\n{printed}"));
    assert_eq!(again, resources, "{printed}");
}

fn node_list(nodes: &BTreeMap<String, u64>) -> String {
    let entries: Vec<String> = nodes.iter().map(|(n, p)| format!("{n}:{p}")).collect();
    entries.join(",")
}

fn groupconfig(text: &str) {
    let Ok(groups) = parse_groupconfig(text) else {
        return;
    };
    let mut printed = String::new();
    for (name, g) in &groups {
        assert!(!name.is_empty() && name.trim() == name);
        let GroupConfig {
            nodes,
            restricted,
            nofailback,
        } = g;
        for n in nodes.keys() {
            assert!(!n.is_empty() && text.contains(n.as_str()), "{n:?}");
        }
        printed.push_str(&format!(
            "group: {name}\n\tnodes {}\n\tnofailback {}\n\trestricted {}\n\n",
            node_list(nodes),
            u8::from(*nofailback),
            u8::from(*restricted)
        ));
    }
    let again = parse_groupconfig(&printed).unwrap_or_else(|e| panic!("{e}\n{printed}"));
    assert_eq!(again, groups, "{printed}");
}

fn rules_config(text: &str) {
    let Ok(rules) = parse_rules_config(text) else {
        return;
    };
    let printed: Vec<Value> = rules
        .iter()
        .map(|r| {
            let Rule {
                id,
                kind,
                resources,
                nodes,
                strict,
                disabled,
            } = r;
            let resources: Vec<&str> = resources.iter().map(String::as_str).collect();
            json!({
                "rule": id,
                "type": kind,
                "resources": resources.join(","),
                "nodes": node_list(nodes),
                "strict": if *strict { "1" } else { "0" },
                "disable": u8::from(*disabled),
            })
        })
        .collect();
    let printed = Value::Array(printed).to_string();
    let again = parse_rules_config(&printed).unwrap_or_else(|e| panic!("{e}\n{printed}"));
    assert_eq!(again, rules, "{printed}");
}

/// The values of the `key: value` lines whose key is `key`.
fn values<'a>(text: &'a str, key: &str) -> Vec<&'a str> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim())
        .collect()
}

fn net_ads(text: &str) {
    use provision::domain::{parse_ads_info, parse_ads_workgroup, MAX_CLOCK_SKEW_SECS};
    match parse_ads_info("CORP.EXAMPLE.COM", text) {
        Ok(info) => {
            assert!(info.time_offset_secs.abs() <= MAX_CLOCK_SKEW_SECS);
            let offsets = values(text, "Server time offset");
            assert_eq!(
                offsets.first().and_then(|v| v.parse::<i64>().ok()),
                Some(info.time_offset_secs)
            );
            if !info.dc.is_empty() {
                let names = [
                    values(text, "LDAP server name"),
                    values(text, "LDAP server"),
                ];
                assert!(
                    names.iter().flatten().any(|v| *v == info.dc),
                    "{:?}",
                    info.dc
                );
            }
        }
        Err(e) => assert!(
            matches!(
                e,
                provision::Error::ToolOutput { .. } | provision::Error::Domain { .. }
            ),
            "{e:?}"
        ),
    }
    if let Ok(w) = parse_ads_workgroup(text) {
        assert!(!w.is_empty());
        assert_eq!(values(text, "Workgroup").first(), Some(&w.as_str()));
    }
}

const PARSERS: &[fn(&str)] = &[
    zfs_get,
    zfs_names,
    subvolume_info,
    subvolume_path,
    snapshot_ls,
    snapshot_created,
    rbd_info,
    rbd_du,
    mountinfo,
    smbstatus,
    pdbedit,
    samba_version,
    profile,
    pveversion,
    ha_config,
    groupconfig,
    rules_config,
    net_ads,
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    // One more than the parsers: the error classifiers.
    let i = usize::from(pick) % (PARSERS.len() + 1);
    match PARSERS.get(i) {
        Some(parse) => parse(text),
        None => classify(text, pick),
    }
});
