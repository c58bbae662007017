//! Tests of the `pve-smbgateway` binary. The share tests run the real
//! thing (smbd, smbclient, testparm, zfs-fuse, Ceph) in a sandbox
//! (`testkit::sandbox`): private /etc, private smbd on a loopback port.

// Helpers outside #[test] functions panic on failure too.
#![allow(clippy::unwrap_used)]

mod ad;
mod bad_input;
mod bench;
mod ceph;
mod concurrency;
mod conf;
mod docs;
mod e2e;
mod failover;
mod faults;
mod gui;
mod integration;
mod lxc;
mod metrics;

use std::path::{Path, PathBuf};
use std::process::Output;

use testkit::sandbox::GatewaySandbox;

/// The binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_pve-smbgateway"))
}

/// A sandbox for the binary, or `None` (skip).
pub fn sandbox(test: &str) -> Option<GatewaySandbox> {
    GatewaySandbox::new(test, &bin())
}

/// Asserts success; returns stdout.
#[track_caller]
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "command failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The numbers of `/proc/PID/stat` from field 3 (the state, read as 0) on:
/// index `i` is field `i + 3` of stat(5). Empty when the process is gone.
pub fn proc_stat(pid: i32) -> Vec<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // After the command name, which may hold spaces and parentheses.
    stat.rsplit_once(')')
        .map(|(_, rest)| {
            rest.split_whitespace()
                .map(|x| x.parse().unwrap_or(0))
                .collect()
        })
        .unwrap_or_default()
}

/// One figure (`field`: `Rss`, `Pss`, ...; in KiB) of each of process
/// `pid`'s mappings (`/proc/PID/smaps`), with the mapping's path: empty for
/// anonymous memory, `[heap]`, `[stack]` and the like for the kernel's
/// names. Empty when the process is gone.
pub fn smaps_field(pid: i32, field: &str) -> Vec<(String, u64)> {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let mut out: Vec<(String, u64)> = Vec::new();
    for line in smaps.lines() {
        let mut it = line.split_whitespace();
        let Some(first) = it.next() else {
            continue;
        };
        if first.ends_with(':') {
            if first.strip_suffix(':') == Some(field) {
                if let Some(last) = out.last_mut() {
                    last.1 += it.next().and_then(|v| v.parse().ok()).unwrap_or(0);
                }
            }
        } else if first.contains('-') {
            // A mapping's header: range perms offset dev inode [path].
            out.push((it.nth(4).unwrap_or("").to_owned(), 0));
        }
    }
    out
}

/// Bytes as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Everything the gateway may change, as text: the registry, the Samba
/// files, the journals, and the volumes' file trees (paths + contents).
pub fn snapshot(sb: &GatewaySandbox, extra_roots: &[&Path]) -> String {
    let mut out = String::new();
    let mut files = vec![
        sb.root.join("shares.cfg"),
        sb.samba_dir().join("smb.conf"),
        sb.samba_dir().join("pve-smbgateway.conf"),
    ];
    files.sort();
    for f in files {
        out.push_str(&format!(
            "== {}\n{}\n",
            f.display(),
            // An empty registry and no registry are the same state.
            std::fs::read_to_string(&f).unwrap_or_else(|_| {
                if f.ends_with("shares.cfg") {
                    String::new()
                } else {
                    "<missing>".into()
                }
            })
        ));
    }
    let mut roots = vec![sb.root.join("volumes"), sb.root.join("state/journal")];
    roots.extend(extra_roots.iter().map(|p| p.to_path_buf()));
    for r in roots {
        out.push_str(&format!("== tree {}\n", r.display()));
        walk(&r, &mut out);
    }
    out
}

/// A directory tree as text: paths, and file sizes (names starting with
/// `.` skipped).
pub fn tree(p: &Path) -> String {
    let mut out = String::new();
    walk(p, &mut out);
    out
}

fn walk(p: &Path, out: &mut String) {
    let Ok(rd) = std::fs::read_dir(p) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for e in entries {
        let name = e.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with('.') {
            // zfs-fuse's .zfs etc.
            continue;
        }
        if e.is_dir() {
            out.push_str(&format!("{}/\n", e.display()));
            walk(&e, out);
        } else {
            let content = std::fs::read(&e).unwrap_or_default();
            out.push_str(&format!("{} {} bytes\n", e.display(), content.len()));
        }
    }
}
