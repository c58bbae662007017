//! `bench_plugin`: the storage plugin's benchmark (perl/bench/plugin.pl)
//! in a gateway sandbox. Ignored in the normal test run; `cargo xtask bench
//! plugin` builds the CLI, runs it with `SMBGW_CLI` set and turns the
//! `key=value` lines into the "storage plugin" section of BENCHMARKS.md.
//! Only sanity is asserted (the calls succeed), never speed.

use std::path::Path;

use testkit::sandbox::GatewaySandbox;

use crate::perl::{cdylib, have_perl_ffi, perl_dir};

#[test]
#[ignore = "benchmark: run by `cargo xtask bench plugin`"]
fn bench_plugin() {
    assert!(
        have_perl_ffi("bench_plugin"),
        "perl and FFI::Platypus needed"
    );
    let cli = std::env::var("SMBGW_CLI").expect("SMBGW_CLI names the pve-smbgateway binary");
    let sb = GatewaySandbox::new("bench_plugin", Path::new(&cli)).expect("samba needed");
    let out = sb
        .ns_command("perl")
        .arg(perl_dir().join("bench/plugin.pl"))
        .env("SMBGW_PLUGIN_LIB", cdylib())
        .env("SMBGW_CLI", &cli)
        .env("SMBGW_SANDBOX", &sb.root)
        .env("SMBGW_PORT", sb.port.to_string())
        .env_remove("SMBGW_REGISTRY")
        .env_remove("SMBGW_STATE_DIR")
        .env_remove("SMBGW_SAMBA_CONF")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    // A line of its own: libtest prints the test name before it.
    print!("\n{stdout}");
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "perl/bench/plugin.pl failed");
    assert!(stdout.contains("same_answer="), "{stdout}");
}
