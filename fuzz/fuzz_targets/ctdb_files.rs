//! Property: every CTDB file parser keeps every byte of any input, and a
//! ctdb.conf the validator accepts dumps to a text that is accepted too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smbconf::ctdb::{CtdbConf, NodesFile, PublicAddressesFile, TunablesFile};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (conf, _) = CtdbConf::parse(text);
    assert_eq!(conf.to_string(), text);
    let (nodes, _) = NodesFile::parse(text);
    assert_eq!(nodes.to_string(), text);
    let (addrs, _) = PublicAddressesFile::parse(text);
    assert_eq!(addrs.to_string(), text);
    let (tun, _) = TunablesFile::parse(text);
    assert_eq!(tun.to_string(), text);
    let v = conf.validate();
    if v.ctdb_accepts() {
        let dumped = v.dump();
        // CTDB accepts values ending in a backslash (`log level = 0\` is
        // read with atoi) and prints them as they are, which continues the
        // line when read back; ctdb-config dump has the same flaw.
        if dumped.lines().any(|l| l.ends_with('\\')) {
            return;
        }
        let (again, _) = CtdbConf::parse(&dumped);
        assert_eq!(again.validate().dump(), dumped, "dump is not a fixed point");
    }
});
