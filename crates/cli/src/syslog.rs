//! Major events to syslog, tag `pve-smbgw`, through `tracing`.
//!
//! Events are sent as RFC 3164 datagrams to `/dev/log` (or the socket in
//! `SMBGW_SYSLOG_SOCKET`, which tests use). Without a syslog socket the
//! events are dropped silently: the command's own output is unaffected.

use std::fmt::Write as _;
use std::os::unix::net::UnixDatagram;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

/// The syslog tag.
pub const TAG: &str = "pve-smbgw";

struct SyslogLayer {
    socket: UnixDatagram,
}

struct Fields(String);

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
        // Facility daemon (3).
        let pri = 3 * 8 + severity;
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        let line = format!("<{pri}>{TAG}[{}]: {}", std::process::id(), fields.0);
        let _ = self.socket.send(line.as_bytes());
    }
}

/// Installs the syslog layer when a syslog socket is reachable.
pub fn init() {
    let path = std::env::var_os("SMBGW_SYSLOG_SOCKET").unwrap_or_else(|| "/dev/log".into());
    let Ok(socket) = UnixDatagram::unbound() else {
        return;
    };
    if socket.connect(&path).is_err() {
        return;
    }
    let _ = tracing_subscriber::registry()
        .with(SyslogLayer { socket }.with_filter(tracing_subscriber::filter::LevelFilter::INFO))
        .try_init();
}
