//! IP address syntax as CTDB 4.17 accepts it in `nodes` and `public_addresses`.
//!
//! Observed with `ctdb listnodes`: plain IPv4 (no leading zeros: `01.2.3.4` is
//! rejected, like `inet_pton`), plain IPv6 without scope id, and IPv6 inside
//! brackets (`[fe80::1]`); `[1.2.3.4]` and any `:port` suffix are rejected.
//! IPv4-mapped IPv6 (`::ffff:1.2.3.4`) is shown as, and compared as, IPv4.

use std::net::IpAddr;

/// Parse one address the way ctdb's nodes-file reader does, returning the
/// canonical form (IPv4-mapped IPv6 becomes IPv4).
pub fn parse_node_ip(text: &str) -> Option<IpAddr> {
    let addr = if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        IpAddr::V6(inner.parse().ok()?)
    } else {
        text.parse().ok()?
    };
    Some(canonical(addr))
}

/// IPv4-mapped IPv6 to IPv4; everything else unchanged.
pub(crate) fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// Trim what ctdb's line readers trim: spaces, tabs and CR/LF (but not `\v`
/// or `\f`, which `ctdb listnodes` reports as part of the address).
pub(crate) fn trim_line(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\r', '\n'])
}

/// Cut at the first NUL (C string semantics).
pub(crate) fn cut_nul(s: &str) -> &str {
    match s.find('\0') {
        Some(i) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn node_ip_forms() {
        assert_eq!(parse_node_ip("10.0.0.1"), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(parse_node_ip("[fe80::1]"), Some("fe80::1".parse().unwrap()));
        assert_eq!(
            parse_node_ip("::ffff:1.2.3.4"),
            Some("1.2.3.4".parse().unwrap())
        );
        for bad in [
            "01.2.3.4",
            "[1.2.3.4]",
            "1.2.3.4:4379",
            "[fe80::1]:4379",
            "fe80::1%eth0",
            "foo",
            "",
        ] {
            assert_eq!(parse_node_ip(bad), None, "{bad}");
        }
    }
}
