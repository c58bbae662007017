//! Differential tests of `smbconf::ctdb` against the real CTDB 4.17 tools.
//!
//! Each test runs `ctdb-config validate` / `dump` and `ctdb -X listnodes`
//! with `CTDB_TEST_MODE=yes CTDB_BASE=<own temp dir>` (without test mode the
//! tools read `/etc/ctdb`, which these tests never touch). When a tool is
//! missing the test fails under `SMBGW_REQUIRE_REAL=1` and is skipped with a
//! printed reason otherwise.
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use smbconf::ctdb::{CtdbConf, NodeEntry, NodesFile, PathKind, Severity};

const CTDB_CONFIG: &str = "/usr/libexec/ctdb/ctdb-config";
const CTDB: &str = "/usr/bin/ctdb";

/// The tool, or `None` after printing why the test is skipped.
fn require(tool: &str) -> Option<PathBuf> {
    let p = PathBuf::from(tool);
    if p.is_file() {
        return Some(p);
    }
    if std::env::var("SMBGW_REQUIRE_REAL").as_deref() == Ok("1") {
        panic!("{tool} is missing and SMBGW_REQUIRE_REAL=1; install the ctdb package");
    }
    eprintln!(
        "skipping: {tool} is missing (install ctdb; set SMBGW_REQUIRE_REAL=1 to fail instead)"
    );
    None
}

/// What the real file system says, for `validate_with`.
fn fs_probe(path: &str) -> Option<PathKind> {
    Some(match std::fs::metadata(path) {
        Err(_) => PathKind::Missing,
        Ok(m) if m.is_dir() => PathKind::Directory,
        Ok(m) if m.is_file() => PathKind::File {
            executable: m.permissions().mode() & 0o111 != 0,
        },
        Ok(_) => PathKind::Other,
    })
}

fn ctdb_config(tool: &Path, base: &Path, cmd: &str) -> (i32, String, String) {
    let out = Command::new(tool)
        .arg(cmd)
        .env("CTDB_TEST_MODE", "yes")
        .env("CTDB_BASE", base)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// ctdb.conf variants: (name, text). `{D}` becomes the test's directory, in
/// which `dbg.sh` (executable), `noexec.sh` (not executable) and `sub/` exist.
const CORPUS: &[(&str, &str)] = &[
    ("empty", ""),
    ("debian default", "# See ctdb.conf(5)\n\n[logging]\n\t# Enable logging to syslog\n\tlocation = syslog\n\n\t# Default log level\n\tlog level = NOTICE\n\n[cluster]\n\t# cluster lock = !/bin/false CLUSTER LOCK NOT CONFIGURED\n"),
    ("gateway node", "[logging]\n\tlocation = file:{D}/ctdb.log\n\tlog level = INFO\n[cluster]\n\tnode address = 10.99.0.1\n\tcluster lock = !/usr/libexec/ctdb/ctdb_mutex_ceph_rados_helper ceph client.admin rbd lock\n\tleader timeout = 10\n[legacy]\n\trealtime scheduling = false\n"),
    ("section case", "[LOGGING]\nlog level = debug\n[Cluster]\nleader capability = NO\n"),
    ("option case", "[logging]\nLog level = DEBUG\n"),
    ("option tab", "[logging]\nlog\tlevel = INFO\n"),
    ("option double space", "[logging]\nlog  level = INFO\n"),
    ("empty value", "[logging]\nlog level =\n"),
    ("bad log level", "[logging]\nlog level = FOO\n"),
    ("log level prefix and number", "[logging]\nlog level = Warn\n[legacy]\nscript log level = 7\n"),
    ("log level 11", "[logging]\nlog level = 11\n"),
    ("log level atoi", "[logging]\nlog level = 3x\n"),
    ("unknown section", "[foo]\nx = 1\n"),
    ("option outside section", "x = 1\n[logging]\n"),
    ("padded section", "[ logging ]\n"),
    ("section trailing junk", "[logging] junk\nlog level = INFO\n"),
    ("ib transport", "[cluster]\ntransport = ib\n"),
    ("tcp transport", "[cluster]\ntransport = tcp\n"),
    ("ipv6 node address", "[cluster]\nnode address = fe80::1\n"),
    ("node address with port", "[cluster]\nnode address = 10.0.0.1:4379\n"),
    ("node address leading zero", "[cluster]\nnode address = 010.0.0.1\n"),
    ("leader timeout hex", "[cluster]\nleader timeout = 0x10\n"),
    ("leader timeout garbage", "[cluster]\nleader timeout = 12abc\n"),
    ("leader timeout zero", "[cluster]\nleader timeout = 0\n"),
    ("leader timeout octal 08", "[cluster]\nleader timeout = 08\n"),
    ("leader timeout too big", "[cluster]\nleader timeout = 2147483648\n"),
    ("leader timeout negative", "[cluster]\nleader timeout = -1\n"),
    ("default wins quirk", "[cluster]\nleader timeout = 7\nleader timeout = 5\n"),
    ("last wins", "[cluster]\nleader timeout = 7\n[logging]\n[cluster]\nleader timeout = 6\n"),
    ("bool 1", "[cluster]\nleader capability = 1\n"),
    ("bool on", "[legacy]\nstart as stopped = on\n"),
    ("bools", "[legacy]\nstart as stopped = yes\nstart as disabled = No\nlmaster capability = FALSE\n[failover]\ndisabled = true\n[database]\ntdb mutexes = no\n"),
    ("recovery lock", "[cluster]\nrecovery lock = /tmp/lock\n"),
    ("nodes list unknown in 4.17", "[cluster]\nnodes list = /etc/ctdb/nodes\n"),
    ("inline comment", "[logging]\nlog level = INFO ; c\n"),
    ("continuation", "[logging]\nlog le\\\nvel = IN\\\nFO\n"),
    ("continuation with space", "[logging]\nlog level = IN\\\n   FO\n"),
    ("comment does not continue", "[logging]\n# c \\\nlog level = INFO\n"),
    ("continued comment char", "[logging]\n\\\n#a = b\n"),
    ("crlf", "[logging]\r\nlog level = INFO\r\n"),
    ("bom", "\u{feff}[logging]\nlog level = INFO\n"),
    ("no newline at end", "[logging]\nlog level = INFO"),
    ("backslash at eof", "[logging]\nlog level = INFO\\"),
    ("no equals ignored", "[logging]\nnoequals\nlog level = INFO\n"),
    ("missing bracket discards file", "[cluster]\nleader timeout = 7\n[logging\nlog level = BOGUS\n"),
    ("empty name discards file", "[cluster]\nleader timeout = 7\n= x\n"),
    ("error before fatal line", "[foo]\n[logging\n"),
    ("nul byte", "[logging]\nlog level = INFO\0garbage\n"),
    ("syslog modes", "[logging]\nlocation = syslog:udp-rfc5424\n"),
    ("syslog bad mode", "[logging]\nlocation = syslog:foo\n"),
    ("strtok location", "[logging]\nlocation = ::file:{D}/x.log\n"),
    ("file location missing dir", "[logging]\nlocation = file:{D}/nope/x.log\n"),
    ("file location stderr", "[logging]\nlocation = file\n"),
    ("db dir exists", "[database]\nvolatile database directory = {D}/sub\npersistent database directory = {D}\n"),
    ("db dir missing", "[database]\nstate database directory = {D}/missing\n"),
    ("db dir is file", "[database]\nstate database directory = {D}/dbg.sh\n"),
    ("default db dir not checked", "[database]\nstate database directory = /var/lib/ctdb/state\n"),
    ("debug script ok", "[event]\ndebug script = /somewhere/else/dbg.sh\n"),
    ("debug script not executable", "[event]\ndebug script = noexec.sh\n"),
    ("debug script is dir", "[event]\ndebug script = sub/\n"),
    ("lock debug script missing", "[database]\nlock debug script = missing.sh\n"),
];

#[test]
fn ctdb_conf_matches_ctdb_config() {
    let Some(tool) = require(CTDB_CONFIG) else {
        return;
    };
    assert!(CORPUS.len() >= 15);
    let mut failures = Vec::new();
    for (name, text) in CORPUS {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("sub")).unwrap();
        std::fs::write(d.join("dbg.sh"), "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(d.join("dbg.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(d.join("noexec.sh"), "#!/bin/sh\n").unwrap();
        let text = text.replace("{D}", d.to_str().unwrap());
        std::fs::write(d.join("ctdb.conf"), &text).unwrap();

        let (doc, _) = CtdbConf::parse(&text);
        assert_eq!(doc.to_string(), text, "{name}: round trip");
        let ours = doc.validate_with(&fs_probe, d.to_str().unwrap());

        let (rc, _, stderr) = ctdb_config(&tool, d, "validate");
        if ours.ctdb_accepts() != (rc == 0) {
            failures.push(format!(
                "{name}: ctdb-config validate rc={rc} ({}) but we say accepts={} {:?}",
                stderr.trim(),
                ours.ctdb_accepts(),
                ours.diagnostics
            ));
            continue;
        }
        if rc == 0 {
            let (drc, dump, _) = ctdb_config(&tool, d, "dump");
            assert_eq!(drc, 0, "{name}: dump failed");
            if dump != ours.dump() {
                failures.push(format!(
                    "{name}: dump differs\n--- ctdb-config\n{dump}--- ours\n{}",
                    ours.dump()
                ));
            }
        } else {
            assert!(
                ours.diagnostics
                    .iter()
                    .any(|x| x.severity == Severity::Error),
                "{name}: rejected without an error diagnostic"
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A fresh file from the builder, edited, stays acceptable to the real tool.
#[test]
fn built_and_edited_conf_accepted_by_ctdb_config() {
    let Some(tool) = require(CTDB_CONFIG) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut doc = smbconf::ctdb::CtdbConfBuilder::new()
        .node_address("10.99.0.2".parse().unwrap())
        .cluster_lock(smbconf::ctdb::ClusterLock::File(
            "/mnt/shared/.ctdb.lock".into(),
        ))
        .log_location(smbconf::ctdb::LogLocation::File(Some(format!(
            "{}/log.ctdb",
            d.display()
        ))))
        .build()
        .unwrap();
    doc.set("cluster", "leader timeout", "0x20").unwrap();
    doc.set("failover", "disabled", "yes").unwrap();
    std::fs::write(d.join("ctdb.conf"), doc.to_string()).unwrap();
    let (rc, _, err) = ctdb_config(&tool, d, "validate");
    assert_eq!(rc, 0, "{err}\n{doc}");
    let (_, dump, _) = ctdb_config(&tool, d, "dump");
    assert_eq!(dump, doc.validate().dump());
    assert!(dump.contains("\tleader timeout = 32\n"));
}

fn listnodes(tool: &Path, text: &str) -> (i32, Vec<(u32, String)>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("nodes"), text).unwrap();
    let out = Command::new(tool)
        .args(["-X", "listnodes"])
        .env("CTDB_TEST_MODE", "yes")
        .env("CTDB_BASE", dir.path())
        .output()
        .unwrap();
    let nodes = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut f = l.trim_matches('|').split('|');
            Some((f.next()?.parse().ok()?, f.next()?.to_string()))
        })
        .collect();
    (out.status.code().unwrap_or(-1), nodes)
}

#[test]
fn nodes_match_ctdb_listnodes() {
    let Some(tool) = require(CTDB) else {
        return;
    };
    let corpus = [
        "",
        "\n\n",
        "10.0.0.1",
        "10.0.0.1\n#10.0.0.2\n\n  10.0.0.3  \n# comment here\nfe80::1\n",
        "  #10.0.0.1\n10.0.0.2\n",
        "\t10.0.0.1\t\r\n10.0.0.2\r\n",
        "10.0.0.1:4379\n",
        "10.0.0.1 foo\n",
        ";10.0.0.1\n",
        "10.0.0.1#x\n",
        "01.0.0.1\n",
        "[fe80::1]\n",
        "[fe80::1]:4379\n",
        "fe80::1%eth0\n",
        "[1.2.3.4]\n",
        "[::ffff:1.2.3.4]\n",
        "#\n#\n10.0.0.3\n",
        "10.0.0.1\x0b\n",
        "10.0.0.1\0junk\n10.0.0.2\n",
        "10.0.0.1\\\n10.0.0.2\n",
    ];
    for text in corpus {
        let (rc, real) = listnodes(&tool, text);
        let (file, diags) = NodesFile::parse(text);
        assert_eq!(file.to_string(), text);
        let ours_ok = !diags.iter().any(|d| d.severity == Severity::Error);
        assert_eq!(ours_ok, rc == 0, "{text:?}: rc={rc} ours={diags:?}");
        if rc == 0 {
            let ours: Vec<(u32, String)> = file
                .nodes()
                .iter()
                .enumerate()
                .filter_map(|(i, e)| match e {
                    NodeEntry::Node(a) => Some((u32::try_from(i).unwrap(), a.to_string())),
                    _ => None,
                })
                .collect();
            assert_eq!(ours, real, "{text:?}");
        }
    }
}

/// Observed, not rejected by `listnodes`: this crate is stricter on purpose.
#[test]
fn nodes_duplicates_are_accepted_by_listnodes_but_not_by_us() {
    let Some(tool) = require(CTDB) else {
        return;
    };
    let (rc, real) = listnodes(&tool, "10.0.0.1\n10.0.0.1\n");
    assert_eq!(rc, 0);
    assert_eq!(real.len(), 2);
    let (_, diags) = NodesFile::parse("10.0.0.1\n10.0.0.1\n");
    assert!(diags.iter().any(|d| d.severity == Severity::Error));
}
