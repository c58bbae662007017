//! The Perl plugin's `prove` suite (perl/t) against the real cdylib built
//! with this test, inside a gateway sandbox (private /etc, private smbd on
//! a free loopback port; removed on drop). Perl, prove and FFI::Platypus
//! are real components: missing, they fail the test under
//! `SMBGW_REQUIRE_REAL=1` and skip it otherwise.

use std::path::{Path, PathBuf};
use std::process::Command;

use testkit::sandbox::GatewaySandbox;

/// The cdylib cargo built beside this test binary (the same compilation
/// as the rlib the test links).
pub fn cdylib() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    [
        deps.join("libsmbgw_plugin.so"),
        deps.parent().unwrap().join("libsmbgw_plugin.so"),
    ]
    .into_iter()
    .find(|p| p.is_file())
    .unwrap_or_else(|| panic!("libsmbgw_plugin.so not found near {}", deps.display()))
}

pub fn perl_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../perl")
}

/// Perl with FFI::Platypus 2, or `false` after the skip-or-fail rule.
pub fn have_perl_ffi(test: &str) -> bool {
    if !testkit::require(
        test,
        &["perl", "prove"],
        "apt-get install -y perl libffi-platypus-perl",
    ) {
        return false;
    }
    let ok = Command::new("perl")
        .args(["-e", "use FFI::Platypus 2.00; 1"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        let why = "FFI::Platypus 2 not installed (apt-get install -y libffi-platypus-perl)";
        if std::env::var("SMBGW_REQUIRE_REAL").as_deref() == Ok("1") {
            panic!("{test}: {why}, and SMBGW_REQUIRE_REAL=1 requires the real components");
        }
        println!("SKIP: {test}: {why}");
    }
    ok
}

#[test]
fn prove() {
    if !have_perl_ffi("perl::prove") {
        return;
    }
    let lib = cdylib();
    let Some(sb) = GatewaySandbox::new("perl::prove", Path::new("/bin/false")) else {
        return;
    };
    let out = sb
        .ns_command("prove")
        .args(["-r", "t"])
        .current_dir(perl_dir())
        .env("SMBGW_PLUGIN_LIB", &lib)
        .env("SMBGW_SANDBOX", &sb.root)
        .env("SMBGW_PORT", sb.port.to_string())
        .env("SMBGW_REQUIRE_REAL", "1")
        .env_remove("SMBGW_REGISTRY")
        .env_remove("SMBGW_STATE_DIR")
        .env_remove("SMBGW_SAMBA_CONF")
        .env_remove("PVE_APIVER")
        .env_remove("PVE_APIAGE")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    assert!(out.status.success(), "prove failed:\n{text}");
    assert!(text.contains("All tests successful"), "{text}");
    // Every test file ran (none skipped for want of the sandbox or library).
    assert!(
        !text.contains("skipped:"),
        "a Perl test was skipped:\n{text}"
    );
}
