//! Major events to syslog, tag `pve-smbgw`, through `tracing`.
//!
//! Where journald runs (`/run/systemd/journal/socket`, or the socket in
//! `SMBGW_JOURNAL_SOCKET`), events go to it through its native protocol
//! with structured fields: `MESSAGE`, `PRIORITY`, `SYSLOG_IDENTIFIER`
//! (`pve-smbgw`), `SYSLOG_FACILITY` and one `SMBGW_<NAME>` field per event
//! field (`SMBGW_EVENT=create`, `SMBGW_SHARE=team`, ...), so that
//! `journalctl SMBGW_EVENT=quota-threshold` finds them. Otherwise they are
//! sent as RFC 3164 datagrams to `/dev/log` (or the socket in
//! `SMBGW_SYSLOG_SOCKET`, which wins over journald when set), with the
//! fields as `key=value`; journald does
//! not read RFC 5424 structured data, so that form is not used. Without a
//! socket the events are dropped silently: the command's own output is
//! unaffected.

use std::fmt::Write as _;
use std::os::unix::net::UnixDatagram;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

/// The syslog tag.
pub const TAG: &str = "pve-smbgw";

/// Where events go.
enum Sink {
    /// RFC 3164 lines.
    Syslog,
    /// journald's native protocol.
    Journal,
}

struct SyslogLayer {
    socket: UnixDatagram,
    sink: Sink,
}

struct Fields(String);

/// The fields of an event, for the journal.
#[derive(Default)]
struct Structured {
    message: String,
    fields: Vec<(String, String)>,
}

impl Visit for Structured {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.fields
                .push((journal_name(field.name()), value.to_owned()));
        }
    }
}

/// `SMBGW_` and the field name in journald's alphabet (A-Z, 0-9, `_`).
fn journal_name(name: &str) -> String {
    let mut out = String::from("SMBGW_");
    out.extend(name.chars().map(|c| match c.to_ascii_uppercase() {
        c @ ('A'..='Z' | '0'..='9') => c,
        _ => '_',
    }));
    out
}

/// One journal entry: `NAME=value` lines, or the binary-safe form
/// (`NAME`, newline, little-endian u64 length, the bytes, newline) for
/// values with a newline.
fn journal_entry(fields: &[(String, String)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in fields {
        out.extend_from_slice(k.as_bytes());
        if v.contains('\n') {
            out.push(b'\n');
            out.extend_from_slice(&(v.len() as u64).to_le_bytes());
        } else {
            out.push(b'=');
        }
        out.extend_from_slice(v.as_bytes());
        out.push(b'\n');
    }
    out
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
            // Put the message first.
            if let Some(rest) = self.0.strip_prefix(' ') {
                self.0 = rest.to_owned();
            }
        } else {
            let _ = write!(self.0, " {}={:?}", field.name(), value);
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.insert_str(0, value);
        } else {
            let _ = write!(self.0, " {}={}", field.name(), value);
        }
    }
}

impl<S: Subscriber> Layer<S> for SyslogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let severity = match *event.metadata().level() {
            Level::ERROR => 3,
            Level::WARN => 4,
            Level::INFO => 6,
            _ => 7,
        };
        match self.sink {
            Sink::Syslog => {
                // Facility daemon (3).
                let pri = 3 * 8 + severity;
                let mut fields = Fields(String::new());
                event.record(&mut fields);
                let line = format!("<{pri}>{TAG}[{}]: {}", std::process::id(), fields.0);
                let _ = self.socket.send(line.as_bytes());
            }
            Sink::Journal => {
                let mut s = Structured::default();
                event.record(&mut s);
                let mut all = vec![
                    ("MESSAGE".to_owned(), s.message),
                    ("PRIORITY".to_owned(), severity.to_string()),
                    ("SYSLOG_IDENTIFIER".to_owned(), TAG.to_owned()),
                    ("SYSLOG_FACILITY".to_owned(), "3".to_owned()),
                    ("SYSLOG_PID".to_owned(), std::process::id().to_string()),
                ];
                all.extend(s.fields);
                let _ = self.socket.send(&journal_entry(&all));
            }
        }
    }
}

/// Installs the layer: journald when its socket is reachable, else
/// syslog when `/dev/log` is.
pub fn init() {
    let Ok(socket) = UnixDatagram::unbound() else {
        return;
    };
    // A socket named in the environment wins (tests), then journald, then
    // /dev/log.
    let candidates = [
        (std::env::var_os("SMBGW_JOURNAL_SOCKET"), Sink::Journal),
        (std::env::var_os("SMBGW_SYSLOG_SOCKET"), Sink::Syslog),
        (Some("/run/systemd/journal/socket".into()), Sink::Journal),
        (Some("/dev/log".into()), Sink::Syslog),
    ];
    let Some(sink) = candidates
        .into_iter()
        .find_map(|(path, sink)| path.filter(|p| socket.connect(p).is_ok()).map(|_| sink))
    else {
        return;
    };
    let _ = tracing_subscriber::registry()
        .with(
            SyslogLayer { socket, sink }.with_filter(tracing_subscriber::filter::LevelFilter::INFO),
        )
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_entries_are_binary_safe() {
        assert_eq!(journal_name("used_percent"), "SMBGW_USED_PERCENT");
        assert_eq!(journal_name("a-b.c"), "SMBGW_A_B_C");
        let e = journal_entry(&[
            ("MESSAGE".into(), "hi".into()),
            ("SMBGW_ERROR".into(), "two\nlines".into()),
        ]);
        let mut want = b"MESSAGE=hi\nSMBGW_ERROR\n".to_vec();
        want.extend_from_slice(&9u64.to_le_bytes());
        want.extend_from_slice(b"two\nlines\n");
        assert_eq!(e, want);
    }
}
