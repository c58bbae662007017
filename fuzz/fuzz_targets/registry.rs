//! Properties of the share registry (Proxmox SectionConfig text an
//! administrator may edit) and of the values in it:
//! * text that parses is written back byte for byte while unchanged;
//! * its shares, written in canonical form, parse to equal records, and
//!   writing those records again gives the same bytes;
//! * a `container` property string that parses is valid and prints to a
//!   string that parses to the same value;
//! * the pct schema checks never panic; a VMID they accept is what
//!   Proxmox accepts (`^[1-9][0-9]{2,8}$`), an integer option's value is a
//!   number in its range, a boolean's is `0` or `1`; the container host
//!   name of any share id is an option value they accept.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use provision::container::pct_schema::{self, Format, OPTIONS};
use smbgw_core::container::{ContainerSpec, CtDriver};
use smbgw_core::registry::Shares;
use smbgw_core::{ShareId, ShareRecord};

fn canonical(records: &[ShareRecord]) -> String {
    let mut shares = Shares::new();
    for r in records {
        shares
            .insert(r.clone())
            .unwrap_or_else(|e| panic!("a parsed record does not insert: {e}\n{r:?}"));
    }
    shares.to_text().expect("inserted records write")
}

fn registry(text: &str) {
    let path = Path::new("/etc/pve/smbgateway/shares.cfg");
    let Ok(shares) = Shares::parse(text, path) else {
        return;
    };
    assert_eq!(
        shares.to_text().expect("an unchanged registry writes"),
        text
    );
    let records = shares.into_records();
    let written = canonical(&records);
    let again = Shares::parse(&written, path)
        .unwrap_or_else(|e| panic!("canonical text does not parse: {e}\n{written}"))
        .into_records();
    assert_eq!(again, records, "{written}");
    assert_eq!(canonical(&again), written);
}

fn container(text: &str) {
    let Ok(c) = text.parse::<ContainerSpec>() else {
        return;
    };
    c.validate().expect("a parsed container spec is valid");
    let printed = c.to_string();
    let again: ContainerSpec = printed
        .parse()
        .unwrap_or_else(|e| panic!("{printed:?} does not parse: {e}"));
    assert_eq!(again, c, "{printed}");
    if let (CtDriver::Pct, Some(id)) = (c.driver, &c.id) {
        assert!(pct_schema::check_vmid(id).is_ok(), "{id:?}");
    }
}

/// Proxmox's `pve-vmid`: `^[1-9][0-9]{2,8}$`.
fn proxmox_vmid(s: &str) -> bool {
    (3..=9).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with('0')
}

fn pct(text: &str) {
    if pct_schema::check_vmid(text).is_ok() {
        assert!(proxmox_vmid(text), "check_vmid accepts {text:?}");
    }
    let (name, value) = text.split_once('=').unwrap_or((text, ""));
    if pct_schema::check(name, value).is_ok() {
        let base = name.trim_end_matches(|c: char| c.is_ascii_digit());
        let key = match base {
            "net" | "mp" => {
                let n: u32 = name[base.len()..].parse().expect("an index");
                assert!(n <= 255, "{name}");
                format!("{base}0")
            }
            _ => name.to_owned(),
        };
        let fact = OPTIONS
            .iter()
            .find(|f| f.name == key)
            .unwrap_or_else(|| panic!("check accepts the unknown option {name:?}"));
        match fact.format {
            Format::Integer { min, max } => {
                let n: u64 = value.parse().expect("an accepted integer parses");
                assert!((min..=max).contains(&n), "{name}={value}");
            }
            Format::Boolean => assert!(value == "0" || value == "1", "{name}={value}"),
            Format::DnsName => assert!(!value.is_empty() && value.len() <= 255, "{value:?}"),
            _ => {}
        }
    }
    if let Ok(id) = ShareId::new(text) {
        let host = ContainerSpec::hostname(&id);
        if let Err(e) = pct_schema::check("hostname", &host) {
            panic!("hostname {host:?} of share {text:?}: {e}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    registry(text);
    container(text);
    pct(text);
});
