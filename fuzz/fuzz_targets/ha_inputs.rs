//! Properties of the HA inputs an administrator types or a tool prints:
//! a floating address or a cluster lock that parses prints back to text
//! that parses to the same value; `ctdb -X` tables never panic the
//! readers, and a node has at most the flags the header names; the
//! quorum majority is strict.
#![no_main]

use ha::ctdb::{parse_ips, parse_status, LockMethod, Vip};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(v) = text.parse::<Vip>() {
        let printed = v.to_string();
        let again: Vip = printed.parse().expect("a printed floating address parses");
        assert_eq!(again, v, "{printed}");
    }
    if let Ok(l) = text.parse::<LockMethod>() {
        let printed = l.to_string();
        let again: LockMethod = printed.parse().expect("a printed lock parses");
        assert_eq!(again, l, "{printed}");
    }
    if let Ok(nodes) = parse_status(text) {
        let columns = text
            .lines()
            .find(|l| !l.trim().is_empty())
            .map_or(0, |h| h.trim().trim_matches('|').split('|').count());
        for n in &nodes {
            // Node, IP and ThisNode are not flags.
            assert!(n.flags.len() + 3 <= columns, "{n:?}");
        }
        let (up, total) = ha::ctdb::connected(&nodes);
        assert!(up <= total);
        if ha::lock::has_majority(up, total) {
            assert!(up * 2 > total);
        }
    }
    let _ = parse_ips(text);
});
