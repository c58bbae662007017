//! 16 concurrent `create` runs of distinct shares: all registered, all
//! served, no lost update of the registry or the Samba files.

use crate::{ok, sandbox, text};

#[test]
fn sixteen_concurrent_creates_all_end_up_registered_and_served() {
    let Some(sb) = sandbox("sixteen_concurrent_creates_all_end_up_registered_and_served") else {
        return;
    };
    sb.add_user("alice", "Conc-pw-1");
    let names: Vec<String> = (0..16).map(|i| format!("c{i:02}")).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = names
            .iter()
            .map(|n| {
                let sb = &sb;
                s.spawn(move || {
                    sb.run(&["create", n, "--mode", "native", "--users", "alice", "-q"])
                })
            })
            .collect();
        for (h, n) in handles.into_iter().zip(&names) {
            let out = h.join().unwrap();
            assert!(out.status.success(), "create {n}: {}", text(&out.stderr));
        }
    });
    let list: serde_json::Value =
        serde_json::from_str(&ok(&sb.run(&["list", "--output-format", "json"]))).unwrap();
    let mut ids: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    assert_eq!(ids, names);
    let include = std::fs::read_to_string(sb.samba_dir().join("pve-smbgateway.conf")).unwrap();
    let c = sb.base().join("client");
    std::fs::create_dir_all(&c).unwrap();
    for n in &names {
        assert!(
            include.contains(&format!("[{n}]")),
            "{n} missing from the include file"
        );
        let out = sb.smbclient(n, "alice", "Conc-pw-1", "ls", &[], &c);
        assert!(
            out.status.success(),
            "{n} not served: {}",
            text(&out.stdout)
        );
    }
}
