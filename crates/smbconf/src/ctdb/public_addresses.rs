//! The `public_addresses` file: `ADDRESS/BITS IFACE[,IFACE...]` per line.
//!
//! Observed by starting `ctdbd -i` 4.17.12 in test mode on such files:
//! * Lines are trimmed of spaces, tabs and CR (CRLF works); blank lines are
//!   skipped; lines starting with `#` (after trimming) are comments. `;` is
//!   not a comment ("Badly formed line").
//! * Fields are separated by spaces or tabs. Text after the interface list is
//!   silently ignored.
//! * No `/BITS` ("Badly formed line"), or BITS not made only of decimal
//!   digits (`/24abc`, `/-1`, `/ 24`), is fatal. ctdbd 4.17 does **not**
//!   range-check BITS: `/0`, `/33`, `/129`, `/99999999999` all load. This crate
//!   is stricter and reports anything outside 1..=32 (IPv4) or 1..=128 (IPv6)
//!   as an error.
//! * Addresses follow the `nodes` syntax: `[fd00::1]/64` works, `01.1.1.1`
//!   does not. `::ffff:10.1.1.1` is the same address as `10.1.1.1`.
//! * A missing interface is fatal ("No interface specified at line N"). Empty
//!   items in the list (`,lo`, `lo,`) are skipped. ctdbd also refuses an
//!   interface that does not exist on the host ("Unknown interface"), which a
//!   pure parser cannot check; this crate checks the Linux name rules
//!   (1..=15 bytes, not `.`/`..`, no `/`, `:` or whitespace).
//! * The same address twice (any prefix length) is fatal
//!   ("Duplicate public IP address").
//! * A missing file means no public addresses.

use std::fmt;
use std::net::IpAddr;

use super::addr::{canonical, cut_nul, parse_node_ip, trim_line};
use super::{CtdbError, Diagnostic, Severity, Span};

/// One public (floating) address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PublicAddress {
    /// The address (canonical: IPv4-mapped IPv6 is IPv4).
    pub address: IpAddr,
    /// Prefix length.
    pub prefix_len: u8,
    /// Interfaces that may carry it, in order.
    pub interfaces: Vec<String>,
}

impl fmt::Display for PublicAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{} {}",
            self.address,
            self.prefix_len,
            self.interfaces.join(",")
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Blank,
    Comment,
    Entry(PublicAddress),
    Invalid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    raw: String,
    kind: Kind,
}

/// A lossless `public_addresses` file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PublicAddressesFile {
    lines: Vec<Line>,
}

/// Why `name` is not a valid Linux interface name.
fn iface_problem(name: &str) -> Option<&'static str> {
    if name.len() > 15 {
        Some("longer than 15 bytes")
    } else if name == "." || name == ".." {
        Some("`.` and `..` are reserved")
    } else if name.contains(['/', ':']) {
        Some("`/` and `:` are not allowed")
    } else if name.chars().any(char::is_whitespace) {
        Some("whitespace is not allowed")
    } else if name.contains('\0') {
        Some("NUL is not allowed")
    } else {
        None
    }
}

/// Parse one line into an entry plus findings (not duplicates).
fn parse_line(raw: &str, span: Span) -> (Kind, Vec<Diagnostic>) {
    let body = cut_nul(raw.strip_suffix('\n').unwrap_or(raw));
    let text = trim_line(body);
    if text.is_empty() {
        return (Kind::Blank, vec![]);
    }
    if text.starts_with('#') {
        return (Kind::Comment, vec![]);
    }
    let mut diags = Vec::new();
    let mut tokens = text.split([' ', '\t']).filter(|t| !t.is_empty());
    let addr_tok = tokens.next().unwrap_or_default();
    let bad = || CtdbError::BadPublicAddress {
        text: addr_tok.to_string(),
    };
    let Some((addr_text, bits)) = addr_tok.split_once('/') else {
        return (Kind::Invalid, vec![Diagnostic::error(span, bad())]);
    };
    let Some(address) = parse_node_ip(addr_text) else {
        return (Kind::Invalid, vec![Diagnostic::error(span, bad())]);
    };
    if bits.is_empty() || !bits.bytes().all(|b| b.is_ascii_digit()) {
        return (Kind::Invalid, vec![Diagnostic::error(span, bad())]);
    }
    let max: u8 = if address.is_ipv4() { 32 } else { 128 };
    let prefix = bits.parse::<u64>().unwrap_or(u64::MAX);
    let mut invalid = false;
    if prefix == 0 || prefix > u64::from(max) {
        diags.push(Diagnostic::error(
            span,
            CtdbError::BadPrefixLength {
                address: addr_text.to_string(),
                bits: bits.to_string(),
                max,
            },
        ));
        invalid = true;
    }
    let Some(list) = tokens.next() else {
        diags.push(Diagnostic::error(
            span,
            CtdbError::MissingInterface {
                address: addr_tok.to_string(),
            },
        ));
        return (Kind::Invalid, diags);
    };
    let rest: Vec<&str> = tokens.collect();
    if !rest.is_empty() {
        diags.push(Diagnostic::warning(
            span,
            CtdbError::TrailingText {
                text: rest.join(" "),
            },
        ));
    }
    let mut interfaces = Vec::new();
    for name in list.split(',') {
        if name.is_empty() {
            continue;
        }
        if let Some(reason) = iface_problem(name) {
            diags.push(Diagnostic::error(
                span,
                CtdbError::BadInterfaceName {
                    name: name.to_string(),
                    reason,
                },
            ));
            invalid = true;
        }
        interfaces.push(name.to_string());
    }
    if interfaces.is_empty() {
        diags.push(Diagnostic::error(
            span,
            CtdbError::MissingInterface {
                address: addr_tok.to_string(),
            },
        ));
        return (Kind::Invalid, diags);
    }
    if list.split(',').any(str::is_empty) {
        diags.push(Diagnostic::warning(
            span,
            CtdbError::EmptyInterface {
                list: list.to_string(),
            },
        ));
    }
    if invalid {
        return (Kind::Invalid, diags);
    }
    let entry = PublicAddress {
        address: canonical(address),
        prefix_len: u8::try_from(prefix).unwrap_or(max),
        interfaces,
    };
    (Kind::Entry(entry), diags)
}

impl PublicAddressesFile {
    /// Parse any text; problems come back as diagnostics.
    pub fn parse(input: &str) -> (PublicAddressesFile, Vec<Diagnostic>) {
        let mut lines = Vec::new();
        for raw in input.split_inclusive('\n') {
            let (kind, _) = parse_line(raw, Span::default());
            lines.push(Line {
                raw: raw.to_string(),
                kind,
            });
        }
        let file = PublicAddressesFile { lines };
        let diags = file.check();
        (file, diags)
    }

    /// All findings for the current content.
    pub fn check(&self) -> Vec<Diagnostic> {
        let mut diags = Vec::new();
        let mut seen: Vec<(IpAddr, usize)> = Vec::new();
        let mut offset = 0;
        for (i, line) in self.lines.iter().enumerate() {
            let lead = line.raw.len() - line.raw.trim_start_matches([' ', '\t', '\r']).len();
            let span = super::line_span(&line.raw, offset, i + 1, lead + 1);
            offset += line.raw.len();
            let (kind, mut d) = parse_line(&line.raw, span);
            diags.append(&mut d);
            if let Kind::Entry(e) = kind {
                if let Some((_, first)) = seen.iter().find(|(a, _)| *a == e.address) {
                    diags.push(Diagnostic::error(
                        span,
                        CtdbError::DuplicatePublicAddress {
                            address: e.address.to_string(),
                            first_line: *first,
                        },
                    ));
                } else {
                    seen.push((e.address, i + 1));
                }
            }
        }
        diags
    }

    /// The valid entries, in file order.
    pub fn addresses(&self) -> Vec<PublicAddress> {
        self.lines
            .iter()
            .filter_map(|l| match &l.kind {
                Kind::Entry(e) => Some(e.clone()),
                _ => None,
            })
            .collect()
    }

    /// Emit a fresh file, one `ADDRESS/BITS IFACES` line per entry, after
    /// checking it like [`PublicAddressesFile::parse`] does.
    pub fn from_entries(entries: &[PublicAddress]) -> Result<PublicAddressesFile, CtdbError> {
        let text: String = entries.iter().map(|e| format!("{e}\n")).collect();
        let (file, diags) = PublicAddressesFile::parse(&text);
        match diags.into_iter().find(|d| d.severity == Severity::Error) {
            Some(d) => Err(d.error),
            None => Ok(file),
        }
    }

    /// Append an entry (refusing invalid ones and duplicates).
    pub fn push(&mut self, entry: &PublicAddress) -> Result<(), CtdbError> {
        let single = PublicAddressesFile::from_entries(std::slice::from_ref(entry))?;
        let address = canonical(entry.address);
        if let Some(pos) = self
            .lines
            .iter()
            .position(|l| matches!(&l.kind, Kind::Entry(e) if e.address == address))
        {
            return Err(CtdbError::DuplicatePublicAddress {
                address: address.to_string(),
                first_line: pos + 1,
            });
        }
        if let Some(last) = self.lines.last_mut() {
            if !last.raw.ends_with('\n') {
                last.raw.push('\n');
            }
        }
        self.lines.extend(single.lines);
        Ok(())
    }

    /// Remove the line(s) of `address`; returns how many were removed.
    pub fn remove(&mut self, address: IpAddr) -> usize {
        let address = canonical(address);
        let before = self.lines.len();
        self.lines
            .retain(|l| !matches!(&l.kind, Kind::Entry(e) if e.address == address));
        before - self.lines.len()
    }
}

impl fmt::Display for PublicAddressesFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        super::write_raw(f, self.lines.iter().map(|l| l.raw.as_str()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn errs(s: &str) -> Vec<CtdbError> {
        PublicAddressesFile::parse(s)
            .1
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| d.error)
            .collect()
    }

    #[test]
    fn accepted_forms() {
        let src =
            "# comment\n\n  10.1.1.1/24\tlo  \n[fd00::1]/64 eth0,eth1\r\n10.1.1.2/24 lo extra\n";
        let (f, d) = PublicAddressesFile::parse(src);
        assert_eq!(f.to_string(), src);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(matches!(d[0].error, CtdbError::TrailingText { .. }));
        let a = f.addresses();
        assert_eq!(a.len(), 3);
        assert_eq!(a[1].interfaces, vec!["eth0", "eth1"]);
        assert_eq!(a[1].to_string(), "fd00::1/64 eth0,eth1");
    }

    #[test]
    fn rejected_forms() {
        assert!(matches!(
            errs("10.1.1.1/24\n")[0],
            CtdbError::MissingInterface { .. }
        ));
        assert!(matches!(
            errs("10.1.1.1 lo\n")[0],
            CtdbError::BadPublicAddress { .. }
        ));
        assert!(matches!(
            errs("; c\n")[0],
            CtdbError::BadPublicAddress { .. }
        ));
        assert!(matches!(
            errs("10.1.1.1/24abc lo\n")[0],
            CtdbError::BadPublicAddress { .. }
        ));
        assert!(matches!(
            errs("10.1.1.1/-1 lo\n")[0],
            CtdbError::BadPublicAddress { .. }
        ));
        assert!(matches!(
            errs("10.1.1.1/33 lo\n")[0],
            CtdbError::BadPrefixLength { max: 32, .. }
        ));
        assert!(matches!(
            errs("fd00::1/129 lo\n")[0],
            CtdbError::BadPrefixLength { max: 128, .. }
        ));
        assert!(matches!(
            errs("10.1.1.1/0 lo\n")[0],
            CtdbError::BadPrefixLength { .. }
        ));
        assert!(matches!(
            errs("10.1.1.1/24 averyveryverylongname\n")[0],
            CtdbError::BadInterfaceName { .. }
        ));
        assert!(matches!(
            errs("10.1.1.1/24 eth0:1\n")[0],
            CtdbError::BadInterfaceName { .. }
        ));
        assert!(matches!(
            errs("10.1.1.1/24 ,\n")[0],
            CtdbError::MissingInterface { .. }
        ));
        assert!(matches!(
            errs("10.1.1.1/24 lo\n::ffff:10.1.1.1/16 lo\n")[0],
            CtdbError::DuplicatePublicAddress { first_line: 1, .. }
        ));
        assert!(errs("10.1.1.1/024 lo\n").is_empty());
    }

    #[test]
    fn edits() {
        let (mut f, _) = PublicAddressesFile::parse("# vip\n10.1.1.1/24 eth0");
        let e = PublicAddress {
            address: "10.1.1.2".parse().unwrap(),
            prefix_len: 24,
            interfaces: vec!["eth0".into()],
        };
        f.push(&e).unwrap();
        assert!(f.push(&e).is_err());
        assert_eq!(f.to_string(), "# vip\n10.1.1.1/24 eth0\n10.1.1.2/24 eth0\n");
        assert_eq!(f.remove("10.1.1.1".parse().unwrap()), 1);
        assert_eq!(f.to_string(), "# vip\n10.1.1.2/24 eth0\n");
        let bad = PublicAddress {
            prefix_len: 40,
            ..e
        };
        assert!(PublicAddressesFile::from_entries(&[bad]).is_err());
    }
}
