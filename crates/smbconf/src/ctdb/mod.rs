//! CTDB configuration files: `ctdb.conf`, `nodes`, `public_addresses` and
//! `ctdb.tunables`, as CTDB 4.17 reads them.
//!
//! Every parser is a pure function `parse(&str) -> (Document, Vec<Diagnostic>)`.
//! The document keeps every byte (`doc.to_string() == input` for any input),
//! offers a typed view, and edits that leave the bytes they do not touch alone.
//! Each file type also has an emitter for a fresh file.
//!
//! ```
//! use smbconf::ctdb::{CtdbConf, CtdbConfBuilder, ClusterLock, LogLevel, NodesFile};
//!
//! let conf = CtdbConfBuilder::new()
//!     .node_address("10.99.0.1".parse().unwrap())
//!     .cluster_lock(ClusterLock::File("/mnt/cephfs/.ctdb/reclock".into()))
//!     .log_level(LogLevel::Notice)
//!     .build()
//!     .unwrap();
//! assert!(conf.validate().ctdb_accepts());
//!
//! let (mut doc, diags) = CtdbConf::parse("[logging]\n\tlog level = NOTICE\n");
//! assert!(diags.is_empty());
//! doc.set("logging", "log level", "INFO").unwrap();
//! assert_eq!(doc.to_string(), "[logging]\n\tlog level = INFO\n");
//!
//! let (nodes, _) = NodesFile::parse("10.0.0.1\n#10.0.0.2\n10.0.0.3\n");
//! assert_eq!(nodes.nodes().len(), 3); // node 1 is deleted but keeps its number
//! ```
//!
//! Behaviour was established by experiment against the real tools of CTDB
//! 4.17.12 (`ctdb-config validate|dump`, `ctdb listnodes`, `ctdbd` start-up)
//! and is documented beside the code that models it.
//!
//! Limitations:
//! * `ctdb-config validate` also looks at the file system (database
//!   directories, debug scripts, the log file's directory). The crate does no
//!   I/O: those checks run only through a caller-supplied [`PathProbe`].
//! * The tunables list is the one compiled into ctdbd 4.17; other versions
//!   may know more or fewer names.
//! * Input must be UTF-8.

mod addr;
mod conf;
mod nodes;
mod public_addresses;
mod tini;
mod tunables;

pub use addr::parse_node_ip;
pub use conf::{
    ClusterLock, ConfValue, CtdbConf, CtdbConfBuilder, LogLevel, LogLocation, OptionKind,
    OptionSpec, PathKind, PathProbe, SyslogMode, Validation, CTDB_DEFAULT_ETC_DIR, OPTIONS,
    SECTIONS,
};
pub use nodes::{NodeEntry, NodesFile};
pub use public_addresses::{PublicAddress, PublicAddressesFile};
pub use tunables::{TunableSpec, TunablesFile, OBSOLETE_TUNABLES, TUNABLES};

use std::fmt;

pub use crate::diag::{Severity, Span};

/// The span of line `line` (1-based) of a CTDB file, which starts at byte
/// `offset`: from its first significant character (`column`, 1-based, in
/// characters) to its end.
pub(crate) fn line_span(raw: &str, offset: usize, line: usize, column: usize) -> Span {
    let lead = raw
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(raw.len(), |(i, _)| i);
    Span {
        start: offset + lead,
        end: offset + raw.len(),
        line,
        column,
    }
}

/// One finding of a parser or validator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Where.
    pub span: Span,
    /// What.
    pub error: CtdbError,
}

impl Diagnostic {
    pub(crate) fn error(span: Span, error: CtdbError) -> Self {
        Diagnostic {
            severity: Severity::Error,
            span,
            error,
        }
    }

    pub(crate) fn warning(span: Span, error: CtdbError) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            span,
            error,
        }
    }

    /// Render like every other diagnostic of the crate (see
    /// [`crate::Diagnostic::render`]): header, location, the line and a caret.
    pub fn render(&self, source: &str, file_name: &str) -> String {
        crate::Diagnostic::new(self.severity, self.error.to_string(), self.span)
            .render(source, file_name)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.span.line, self.span.column, self.error)
    }
}

/// Print the lines of a lossless document back as they were read.
pub(crate) fn write_raw<'a>(
    f: &mut fmt::Formatter<'_>,
    raws: impl IntoIterator<Item = &'a str>,
) -> fmt::Result {
    raws.into_iter().try_for_each(|r| f.write_str(r))
}

/// Every error of the CTDB module: parse findings, validation findings and
/// refused edits.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CtdbError {
    // ---- lexer (ctdb.conf, tunables) ----
    /// `[` without `]`.
    #[error("section header `{text}` has no closing `]`; ctdb ignores the whole file and runs with defaults")]
    UnterminatedSection {
        /// The line.
        text: String,
    },
    /// `= value`.
    #[error("line `{text}` has an empty option name; ctdb ignores the whole file and runs with defaults")]
    EmptyOptionName {
        /// The line.
        text: String,
    },
    /// A `ctdb.conf` line without `=`.
    #[error("line `{text}` has no `=` and is ignored")]
    LineIgnored {
        /// The line.
        text: String,
    },

    // ---- ctdb.conf ----
    /// Section name unknown to ctdb 4.17.
    #[error("unknown section [{section}]")]
    UnknownSection {
        /// As written.
        section: String,
    },
    /// Option before any section or inside an unknown section.
    #[error("option `{option}` is not inside a known section")]
    OptionOutsideSection {
        /// As written.
        option: String,
    },
    /// Option name unknown in its section (names are case-sensitive).
    #[error("unknown option `{option}` in section [{section}]{}", suggestion.map(|s| format!("; option names are case- and space-sensitive, did you mean `{s}`")).unwrap_or_default())]
    UnknownOption {
        /// Section (canonical name).
        section: String,
        /// As written.
        option: String,
        /// A known option that differs only in case or whitespace.
        suggestion: Option<&'static str>,
    },
    /// `option =` with nothing after it.
    #[error("empty value for `{option}` in section [{section}]")]
    EmptyValue {
        /// Section.
        section: String,
        /// Option.
        option: String,
    },
    /// A value ctdb cannot use.
    #[error("invalid value `{value}` for `{option}` in section [{section}]: expected {expected}")]
    InvalidValue {
        /// Section.
        section: String,
        /// Option.
        option: String,
        /// Value as written.
        value: String,
        /// What would have been accepted.
        expected: &'static str,
    },
    /// The deprecated spelling of an option.
    #[error("`{option}` in section [{section}] is deprecated, use `{replacement}`")]
    Deprecated {
        /// Section.
        section: String,
        /// Option.
        option: String,
        /// Its replacement.
        replacement: &'static str,
    },
    /// A directory option names something that is not a directory.
    #[error("{option} `{path}` does not exist or is not a directory")]
    NotADirectory {
        /// Option.
        option: String,
        /// Path checked.
        path: String,
    },
    /// A script option names a missing file.
    #[error("{option} `{path}` does not exist")]
    ScriptMissing {
        /// Option.
        option: String,
        /// Path checked (the config directory plus the basename).
        path: String,
    },
    /// A script option names a non-file.
    #[error("{option} `{path}` is not a file")]
    ScriptNotAFile {
        /// Option.
        option: String,
        /// Path checked.
        path: String,
    },
    /// A script option names a non-executable file.
    #[error("{option} `{path}` is not executable; run chmod +x on it")]
    ScriptNotExecutable {
        /// Option.
        option: String,
        /// Path checked.
        path: String,
    },

    // ---- edits and builders ----
    /// Edit of a section ctdb does not know.
    #[error("cannot set option in unknown section [{section}]")]
    EditUnknownSection {
        /// As given.
        section: String,
    },
    /// Edit of an option ctdb does not know.
    #[error("cannot set unknown option `{option}` in section [{section}]")]
    EditUnknownOption {
        /// Section.
        section: String,
        /// As given.
        option: String,
    },
    /// A value that would not read back as written.
    #[error("value `{value}` cannot be written to the file: {reason}")]
    UnrepresentableValue {
        /// As given.
        value: String,
        /// Why.
        reason: &'static str,
    },

    // ---- nodes ----
    /// A nodes line that is not an IP address.
    #[error("`{text}` is not an IP address (ctdb 4.17 takes no port here)")]
    InvalidNodeAddress {
        /// The trimmed line.
        text: String,
    },
    /// The same node twice.
    #[error("node address {address} already used by node {first_pnn}")]
    DuplicateNode {
        /// Canonical address.
        address: String,
        /// Node number of the first occurrence.
        first_pnn: u32,
    },
    /// `0.0.0.0` or `::` is what ctdb uses internally for deleted nodes.
    #[error("node address {address} is the placeholder ctdb uses for deleted nodes; write `#` to delete a node")]
    UnspecifiedNodeAddress {
        /// The address.
        address: String,
    },
    /// Node number out of range.
    #[error("there is no node {pnn}")]
    NoSuchNode {
        /// Requested node number.
        pnn: u32,
    },

    // ---- public_addresses ----
    /// No `/` or no parseable address or prefix.
    #[error("badly formed public address `{text}`: expected ADDRESS/BITS")]
    BadPublicAddress {
        /// The token.
        text: String,
    },
    /// Address without interface.
    #[error("no interface specified for public address {address}")]
    MissingInterface {
        /// The address token.
        address: String,
    },
    /// Prefix length out of range.
    #[error("prefix length {bits} for {address} is out of range 1..={max}")]
    BadPrefixLength {
        /// The address.
        address: String,
        /// As written (decimal).
        bits: String,
        /// 32 or 128.
        max: u8,
    },
    /// Not a valid Linux interface name.
    #[error("bad interface name `{name}`: {reason}")]
    BadInterfaceName {
        /// As written.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// Empty item in the interface list (`eth0,,eth1`).
    #[error("empty interface name in list `{list}` is ignored")]
    EmptyInterface {
        /// The list.
        list: String,
    },
    /// Same public address twice.
    #[error("duplicate public address {address} (first on line {first_line})")]
    DuplicatePublicAddress {
        /// Canonical address.
        address: String,
        /// Line of the first occurrence.
        first_line: usize,
    },
    /// Tokens after the interface list.
    #[error("text after the interface list is ignored: `{text}`")]
    TrailingText {
        /// The ignored text.
        text: String,
    },

    // ---- tunables ----
    /// Sections are not allowed in tunables files.
    #[error("section [{section}] in a tunables file; tunables files have no sections")]
    TunablesSection {
        /// As written.
        section: String,
    },
    /// Line without `NAME=VALUE`.
    #[error("invalid tunables line `{text}`: expected NAME=VALUE")]
    TunablesLine {
        /// The line.
        text: String,
    },
    /// Unknown tunable.
    #[error("unknown tunable `{name}`")]
    UnknownTunable {
        /// As written.
        name: String,
    },
    /// A tunable removed from ctdb.
    #[error("obsolete tunable `{name}`; remove it")]
    ObsoleteTunable {
        /// As written.
        name: String,
    },
    /// Value not a non-negative integer.
    #[error("invalid value `{value}` for tunable `{name}`: expected a non-negative integer")]
    InvalidTunableValue {
        /// Canonical name.
        name: String,
        /// As written.
        value: String,
    },
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Text made of the characters that matter to the lexers.
    fn ctdb_text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("[".to_string()),
                Just("]".to_string()),
                Just("=".to_string()),
                Just("\\".to_string()),
                Just("\n".to_string()),
                Just("\r\n".to_string()),
                Just("#".to_string()),
                Just(";".to_string()),
                Just(" ".to_string()),
                Just("\t".to_string()),
                Just("\0".to_string()),
                Just("/".to_string()),
                Just(",".to_string()),
                Just("[logging]".to_string()),
                Just("log level".to_string()),
                Just("10.0.0.1".to_string()),
                Just("fe80::1".to_string()),
                Just("/24 eth0".to_string()),
                Just("MonitorInterval".to_string()),
                "[a-z0-9:.é]{1,4}",
            ],
            0..40,
        )
        .prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn round_trip_structured(s in ctdb_text()) {
            prop_assert_eq!(CtdbConf::parse(&s).0.to_string(), s.clone());
            prop_assert_eq!(NodesFile::parse(&s).0.to_string(), s.clone());
            prop_assert_eq!(PublicAddressesFile::parse(&s).0.to_string(), s.clone());
            prop_assert_eq!(TunablesFile::parse(&s).0.to_string(), s.clone());
            let (doc, _) = CtdbConf::parse(&s);
            let _ = doc.validate().dump();
        }

        #[test]
        fn round_trip_any(s in any::<String>()) {
            prop_assert_eq!(CtdbConf::parse(&s).0.to_string(), s.clone());
            prop_assert_eq!(NodesFile::parse(&s).0.to_string(), s.clone());
            prop_assert_eq!(PublicAddressesFile::parse(&s).0.to_string(), s.clone());
            prop_assert_eq!(TunablesFile::parse(&s).0.to_string(), s.clone());
        }

        #[test]
        fn set_reads_back_and_keeps_other_lines(s in ctdb_text(), t in 1u32..100_000) {
            let (mut doc, _) = CtdbConf::parse(&s);
            if doc.validate().file_ignored() {
                return Ok(());
            }
            let before = doc.to_string();
            doc.set("cluster", "leader timeout", &t.to_string()).unwrap();
            let want = t.to_string();
            prop_assert_eq!(doc.get("cluster", "leader timeout"), Some(want.as_str()));
            // Every line that did not mention the option is still there.
            let after = doc.to_string();
            for line in before.lines().filter(|l| !l.contains("leader timeout") && !l.contains('\\')) {
                prop_assert!(after.contains(line), "lost {:?}", line);
            }
        }
    }

    #[test]
    fn emitted_ctdb_conf() {
        let doc = CtdbConfBuilder::new()
            .node_address("10.99.0.1".parse().unwrap())
            .cluster_lock(ClusterLock::Helper(
                "/usr/libexec/ctdb/ctdb_mutex_ceph_rados_helper ceph client.admin rbd ctdb_lock"
                    .into(),
            ))
            .log_location(LogLocation::File(Some("/var/log/ctdb/ctdb.log".into())))
            .log_level(LogLevel::Info)
            .leader_timeout(10)
            .realtime_scheduling(false)
            .build()
            .unwrap();
        let v = doc.validate();
        assert!(v.is_ok(), "{:?}", v.diagnostics);
        assert_eq!(v.leader_timeout(), 10);
        insta::assert_snapshot!("ctdb_conf_node", doc.to_string());
        insta::assert_snapshot!("ctdb_conf_node_dump", v.dump());
    }

    #[test]
    fn emitted_default_ctdb_conf() {
        let doc = CtdbConfBuilder::new().build().unwrap();
        insta::assert_snapshot!("ctdb_conf_default", doc.to_string());
    }

    #[test]
    fn emitted_nodes_and_addresses_and_tunables() {
        let nodes = NodesFile::from_entries(&[
            NodeEntry::Node("10.99.0.1".parse().unwrap()),
            NodeEntry::Deleted,
            NodeEntry::Node("fd00:99::3".parse().unwrap()),
        ])
        .unwrap();
        insta::assert_snapshot!("nodes", nodes.to_string());
        let pa = PublicAddressesFile::from_entries(&[
            PublicAddress {
                address: "192.0.2.10".parse().unwrap(),
                prefix_len: 24,
                interfaces: vec!["vmbr0".into()],
            },
            PublicAddress {
                address: "2001:db8::10".parse().unwrap(),
                prefix_len: 64,
                interfaces: vec!["vmbr0".into(), "bond0".into()],
            },
        ])
        .unwrap();
        insta::assert_snapshot!("public_addresses", pa.to_string());
        let tun =
            TunablesFile::from_values(&[("KeepaliveInterval", 2), ("KeepaliveLimit", 3)]).unwrap();
        insta::assert_snapshot!("tunables", tun.to_string());
    }

    #[test]
    fn diagnostics_render() {
        let src = "[logging]\n  Log level = INFO\n";
        let v = CtdbConf::parse(src).0.validate();
        let r = v.diagnostics[0].render(src, "ctdb.conf");
        assert_eq!(
            r,
            "error: unknown option `Log level` in section [logging]; option names are case- and space-sensitive, did you mean `log level`\n --> ctdb.conf:2:3\n  |\n2 |   Log level = INFO\n  |   ^^^^^^^^^^^^^^^^\n"
        );
    }
}
