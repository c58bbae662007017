//! Shell completions and the man page come from the clap definitions.

use std::process::Command;

use crate::{bin, ok};

#[test]
fn completions_and_man_page_cover_every_command() {
    let bash = ok(&Command::new(bin())
        .args(["completions", "bash"])
        .output()
        .unwrap());
    for word in [
        "create",
        "delete",
        "status",
        "apply",
        "--output-format",
        "--purge",
    ] {
        assert!(bash.contains(word), "bash completion lacks {word}");
    }
    let man = ok(&Command::new(bin()).arg("man").output().unwrap());
    assert!(
        man.starts_with(".ie") || man.contains(".TH pve-smbgateway"),
        "{}",
        &man[..200.min(man.len())]
    );
    for word in ["create", "delete", "apply", "sandbox"] {
        assert!(man.contains(word), "man page lacks {word}");
    }
}

#[test]
fn dry_run_prints_the_plan_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .arg("--sandbox")
        .arg(dir.path())
        .args([
            "create",
            "plan1",
            "--mode",
            "native",
            "--dry-run",
            "--output-format",
            "json",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(v["op"], "create");
    assert_eq!(v["steps"].as_array().unwrap().len(), 6);
    // Nothing was created.
    assert!(!dir.path().join("shares.cfg").exists());
    assert!(!dir.path().join("volumes/plan1").exists());
}
