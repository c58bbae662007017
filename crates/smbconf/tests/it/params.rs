//! The committed parameter table must match the installed Samba.

use std::process::Command;
use std::sync::Mutex;

use smbconf::params::gen::{generate_table, ProbeSection};

use crate::real;

/// (section, label, value) asked of testparm, and its answer.
type Probe = ((ProbeSection, String, String), Option<String>);

fn probe(section: ProbeSection, label: &str, value: &str) -> Option<String> {
    let conf = match section {
        ProbeSection::Global => format!("[global]\n{label} = {value}\n"),
        ProbeSection::Share => format!("[global]\n[probe]\npath = /tmp\n{label} = {value}\n"),
    };
    let mut args = vec!["-s", "--parameter-name", label];
    if section == ProbeSection::Share {
        args.extend(["--section-name", "probe"]);
    }
    // testparm exits 1 for some logic checks (security = ads without a
    // realm) after loading fine: only "Error loading services" is a refusal.
    let (_, out, err) = real::testparm(&conf, &args);
    (!err.contains("Error loading services")).then(|| out.trim_end_matches('\n').to_string())
}

fn generate() -> String {
    let version = Command::new("testparm")
        .arg("--version")
        .output()
        .expect("testparm --version");
    let version = String::from_utf8_lossy(&version.stdout)
        .trim()
        .trim_start_matches("Version ")
        .to_string();
    let show = Command::new("testparm")
        .arg("--show-all-parameters")
        .output()
        .expect("testparm");
    let show = String::from_utf8_lossy(&show.stdout).into_owned();
    let (_, defaults, _) = real::testparm("", &["-s", "-v"]);
    // Probe in parallel: one testparm run per enum spelling.
    let cache: Mutex<Vec<Probe>> = Mutex::new(Vec::new());
    let mut wanted = Vec::new();
    let mut collect = |s: ProbeSection, l: &str, v: &str| {
        wanted.push((s, l.to_string(), v.to_string()));
        Some(String::new())
    };
    let _ = generate_table(&version, &show, &defaults, &mut collect);
    let chunks: Vec<_> = wanted
        .chunks(wanted.len().div_ceil(4).max(1))
        .map(|c| c.to_vec())
        .collect();
    std::thread::scope(|s| {
        for chunk in chunks {
            let cache = &cache;
            s.spawn(move || {
                for (sec, l, v) in chunk {
                    let r = probe(sec, &l, &v);
                    cache.lock().expect("lock").push(((sec, l, v), r));
                }
            });
        }
    });
    let cache = cache.into_inner().expect("lock");
    let mut lookup = |s: ProbeSection, l: &str, v: &str| {
        cache
            .iter()
            .find(|((s2, l2, v2), _)| *s2 == s && l2 == l && v2 == v)
            .and_then(|(_, r)| r.clone())
    };
    generate_table(&version, &show, &defaults, &mut lookup).expect("generate table")
}

#[test]
fn table_matches_installed_samba() {
    if !real::require("testparm") {
        return;
    }
    let generated = generate();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/params/table.rs");
    if std::env::var("SMBGW_WRITE_TABLE").as_deref() == Ok("1") {
        std::fs::write(path, &generated).expect("write table");
        return;
    }
    let committed = std::fs::read_to_string(path).expect("read table");
    assert!(
        committed == generated,
        "src/params/table.rs differs from what the installed Samba reports; run `cargo xtask gen-params` and review the diff"
    );
}
