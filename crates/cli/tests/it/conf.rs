//! The `conf` commands.

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pve-smbgateway"))
}

#[test]
fn conf_set_edits_in_place_and_keeps_other_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("smb.conf");
    let original = "# admin's notes\r\n[global]\r\n   workgroup = CORP ; not a comment\r\n\r\n[data]\r\n   path = /srv/data\r\n";
    std::fs::write(&f, original).unwrap();
    let st = bin()
        .args(["conf", "set"])
        .arg(&f)
        .args(["data", "read only", "no"])
        .status()
        .unwrap();
    assert!(st.success());
    let after = std::fs::read_to_string(&f).unwrap();
    assert_eq!(after, format!("{original}   read only = no\r\n"));
    let st = bin()
        .args(["conf", "unset"])
        .arg(&f)
        .args(["data", "writeable"])
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(std::fs::read_to_string(&f).unwrap(), original);
}

#[test]
fn conf_set_refuses_injection() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("smb.conf");
    std::fs::write(&f, "[data]\npath = /srv\n").unwrap();
    let out = bin()
        .args(["conf", "set"])
        .arg(&f)
        .args(["data", "comment", "x\n[evil]"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line break"));
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        "[data]\npath = /srv\n"
    );
}

#[test]
fn conf_lint_reports_errors_with_caret_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("smb.conf");
    std::fs::write(
        &f,
        "[data]\n  path = /srv\n  read only = maybe\n  raed only = no\n",
    )
    .unwrap();
    let out = bin().args(["conf", "lint"]).arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error: `read only`: value \"maybe\" is not a boolean"),
        "{err}"
    );
    assert!(
        err.contains("3 |   read only = maybe\n  |               ^^^^^"),
        "{err}"
    );
    assert!(err.contains("did you mean `read only`"), "{err}");
}

#[test]
fn conf_canonical_prints_testparm_form() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("smb.conf");
    std::fs::write(&f, "[Data]\nPATH=/srv\nwriteable = yes\n").unwrap();
    let out = bin().args(["conf", "canonical"]).arg(&f).output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "# Global parameters\n[global]\n\tidmap config * : backend = tdb\n\n\n[Data]\n\tpath = /srv\n\tread only = No\n"
    );
}
