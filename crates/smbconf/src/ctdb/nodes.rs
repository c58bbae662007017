//! The `nodes` file: one private address per line; the line's position among
//! the non-blank lines is the node number (PNN).
//!
//! Observed with `ctdb -X listnodes` (4.17.12, `CTDB_TEST_MODE=yes
//! CTDB_BASE=dir`; the tool ignores `CTDB_NODES` and otherwise reads
//! `/etc/ctdb/nodes`):
//! * Spaces, tabs and CR are trimmed at both ends; `\v` and `\f` are not
//!   (they make the address invalid). A NUL byte ends the line.
//! * Blank lines are skipped and do not take a node number.
//! * A line starting with `#` (after trimming) is a *deleted node*, whatever
//!   follows: `# comment` also takes a node number. `listnodes` hides it.
//! * `;` is not a comment; trailing text (`10.0.0.1 foo`, `10.0.0.1#x`) and
//!   ports (`10.0.0.1:4379`, `[fe80::1]:4379`) make the file invalid
//!   ("Invalid IP address ..."); so do scope ids and leading zeros. Bracketed
//!   IPv6 (`[fe80::1]`) is fine. `::ffff:1.2.3.4` is listed as `1.2.3.4`.
//! * `listnodes` does *not* reject duplicate addresses, nor `0.0.0.0` (the
//!   address ctdb uses internally for deleted nodes). This crate reports
//!   duplicates as errors (two nodes cannot share an address) and
//!   unspecified addresses as warnings.

use std::fmt;
use std::net::IpAddr;

use super::addr::{canonical, cut_nul, parse_node_ip, trim_line};
use super::{CtdbError, Diagnostic};

/// One node number's entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NodeEntry {
    /// An active node.
    Node(IpAddr),
    /// A deleted node (`#` line); its number stays reserved.
    Deleted,
    /// A line ctdb cannot read (ctdb then rejects the whole file).
    Invalid(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    raw: String,
    entry: Option<NodeEntry>,
}

/// A lossless `nodes` file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodesFile {
    lines: Vec<Line>,
}

fn classify(raw: &str) -> (Option<NodeEntry>, usize) {
    let body = cut_nul(raw.strip_suffix('\n').unwrap_or(raw));
    let text = trim_line(body);
    let column = body[..body.len() - body.trim_start_matches([' ', '\t', '\r', '\n']).len()]
        .chars()
        .count()
        + 1;
    let entry = if text.is_empty() {
        None
    } else if text.starts_with('#') {
        Some(NodeEntry::Deleted)
    } else {
        match parse_node_ip(text) {
            Some(a) => Some(NodeEntry::Node(a)),
            None => Some(NodeEntry::Invalid(text.to_string())),
        }
    };
    (entry, column)
}

impl NodesFile {
    /// Parse any text; problems come back as diagnostics.
    pub fn parse(input: &str) -> (NodesFile, Vec<Diagnostic>) {
        let mut lines = Vec::new();
        let mut offset = 0;
        for raw in input.split_inclusive('\n') {
            let (entry, _) = classify(raw);
            lines.push(Line {
                raw: raw.to_string(),
                entry,
            });
            offset += raw.len();
        }
        debug_assert_eq!(offset, input.len());
        let file = NodesFile { lines };
        let diags = file.check();
        (file, diags)
    }

    /// All findings for the current content.
    pub fn check(&self) -> Vec<Diagnostic> {
        let mut diags = Vec::new();
        let mut seen: Vec<(IpAddr, u32)> = Vec::new();
        let mut offset = 0;
        let mut pnn = 0u32;
        for (i, line) in self.lines.iter().enumerate() {
            let (_, column) = classify(&line.raw);
            let span = super::line_span(&line.raw, offset, i + 1, column);
            offset += line.raw.len();
            let Some(entry) = &line.entry else { continue };
            match entry {
                NodeEntry::Node(a) => {
                    if let Some((_, first)) = seen.iter().find(|(b, _)| b == a) {
                        diags.push(Diagnostic::error(
                            span,
                            CtdbError::DuplicateNode {
                                address: a.to_string(),
                                first_pnn: *first,
                            },
                        ));
                    } else {
                        seen.push((*a, pnn));
                    }
                    if a.is_unspecified() {
                        diags.push(Diagnostic::warning(
                            span,
                            CtdbError::UnspecifiedNodeAddress {
                                address: a.to_string(),
                            },
                        ));
                    }
                }
                NodeEntry::Deleted => {}
                NodeEntry::Invalid(text) => diags.push(Diagnostic::error(
                    span,
                    CtdbError::InvalidNodeAddress { text: text.clone() },
                )),
            }
            pnn += 1;
        }
        diags
    }

    /// Entries by node number (index = PNN).
    pub fn nodes(&self) -> Vec<NodeEntry> {
        self.lines.iter().filter_map(|l| l.entry.clone()).collect()
    }

    /// The node number of an active node.
    pub fn pnn_of(&self, addr: IpAddr) -> Option<u32> {
        let addr = canonical(addr);
        self.nodes()
            .iter()
            .position(|e| *e == NodeEntry::Node(addr))
            .and_then(|p| u32::try_from(p).ok())
    }

    /// Emit a fresh file, one line per entry; deleted nodes become `#`.
    pub fn from_entries(entries: &[NodeEntry]) -> Result<NodesFile, CtdbError> {
        let mut text = String::new();
        for e in entries {
            match e {
                NodeEntry::Node(a) => text.push_str(&format!("{}\n", canonical(*a))),
                NodeEntry::Deleted => text.push_str("#\n"),
                NodeEntry::Invalid(t) => {
                    return Err(CtdbError::InvalidNodeAddress { text: t.clone() })
                }
            }
        }
        let (file, diags) = NodesFile::parse(&text);
        match diags
            .into_iter()
            .find(|d| d.severity == super::Severity::Error)
        {
            Some(d) => Err(d.error),
            None => Ok(file),
        }
    }

    /// Append a node; returns its node number. Refuses a duplicate.
    pub fn push(&mut self, addr: IpAddr) -> Result<u32, CtdbError> {
        let addr = canonical(addr);
        let nodes = self.nodes();
        if let Some(first) = nodes.iter().position(|e| *e == NodeEntry::Node(addr)) {
            return Err(CtdbError::DuplicateNode {
                address: addr.to_string(),
                first_pnn: u32::try_from(first).unwrap_or(u32::MAX),
            });
        }
        if let Some(last) = self.lines.last_mut() {
            if !last.raw.ends_with('\n') {
                last.raw.push('\n');
            }
        }
        self.lines.push(Line {
            raw: format!("{addr}\n"),
            entry: Some(NodeEntry::Node(addr)),
        });
        u32::try_from(nodes.len()).map_err(|_| CtdbError::NoSuchNode { pnn: u32::MAX })
    }

    /// Mark node `pnn` deleted by prefixing its line with `#`, which keeps
    /// every later node's number (apply with `ctdb reloadnodes`).
    pub fn delete(&mut self, pnn: u32) -> Result<(), CtdbError> {
        let idx = self
            .lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.entry.is_some())
            .nth(pnn as usize)
            .map(|(i, _)| i)
            .ok_or(CtdbError::NoSuchNode { pnn })?;
        let line = &mut self.lines[idx];
        if line.entry == Some(NodeEntry::Deleted) {
            return Ok(());
        }
        let lead = line.raw.len() - line.raw.trim_start_matches([' ', '\t', '\r']).len();
        line.raw.insert(lead, '#');
        line.entry = Some(NodeEntry::Deleted);
        Ok(())
    }
}

impl fmt::Display for NodesFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        super::write_raw(f, self.lines.iter().map(|l| l.raw.as_str()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn numbering_matches_listnodes() {
        // `ctdb -X listnodes` printed |0|10.0.0.1| |2|10.0.0.3| |4|fe80::1|.
        let src = "10.0.0.1\n#10.0.0.2\n\n  10.0.0.3  \n# comment here\nfe80::1\n";
        let (f, d) = NodesFile::parse(src);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(
            f.nodes(),
            vec![
                NodeEntry::Node(ip("10.0.0.1")),
                NodeEntry::Deleted,
                NodeEntry::Node(ip("10.0.0.3")),
                NodeEntry::Deleted,
                NodeEntry::Node(ip("fe80::1")),
            ]
        );
        assert_eq!(f.to_string(), src);
        assert_eq!(f.pnn_of(ip("fe80::1")), Some(4));
    }

    #[test]
    fn errors() {
        for bad in [
            "10.0.0.1:4379\n",
            "10.0.0.1 foo\n",
            ";10.0.0.1\n",
            "10.0.0.1\x0b\n",
            "01.0.0.1\n",
        ] {
            let (_, d) = NodesFile::parse(bad);
            assert!(
                matches!(d[0].error, CtdbError::InvalidNodeAddress { .. }),
                "{bad:?}"
            );
        }
        let (_, d) = NodesFile::parse("10.0.0.1\n::ffff:10.0.0.1\n");
        assert!(matches!(
            d[0].error,
            CtdbError::DuplicateNode { first_pnn: 0, .. }
        ));
        assert_eq!(d[0].span.line, 2);
        let (_, d) = NodesFile::parse("0.0.0.0\n");
        assert_eq!(d[0].severity, super::super::Severity::Warning);
        let (f, d) = NodesFile::parse("10.0.0.1\r\n[fe80::2]\r\n");
        assert!(d.is_empty());
        assert_eq!(f.nodes()[1], NodeEntry::Node(ip("fe80::2")));
    }

    #[test]
    fn edits() {
        let (mut f, _) = NodesFile::parse("10.0.0.1\n  10.0.0.2\n10.0.0.3");
        f.delete(1).unwrap();
        assert_eq!(f.push(ip("10.0.0.4")).unwrap(), 3);
        assert!(f.push(ip("10.0.0.3")).is_err());
        assert!(f.delete(9).is_err());
        assert_eq!(f.to_string(), "10.0.0.1\n  #10.0.0.2\n10.0.0.3\n10.0.0.4\n");
        assert_eq!(f.nodes()[1], NodeEntry::Deleted);
    }
}
