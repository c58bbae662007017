//! `pve-smbgateway notify pve`: hands an alert event (JSON on stdin) to
//! Proxmox VE's notification system (`PVE::Notify`, PVE ≥ 8.2), which
//! routes it by its matchers (e.g. `match-field exact:type=pve-smbgateway`)
//! to mail, Gotify, webhooks, ... There is no API or CLI call that sends a
//! notification, so this runs a few lines of Perl.

use std::io::Read as _;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Subcommand;
use runner::{Cmd, RealRunner, Runner};

use crate::share::{Failure, Outcome};

#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// Send the event on stdin through Proxmox VE's notification system
    /// (template `pve-smbgateway-quota`, severity warning).
    Pve,
}

/// The Perl side: the event's fields become template data and the
/// notification's `share` field; `type=pve-smbgateway` for matchers.
pub const NOTIFY_PERL: &str = r#"
use strict;
use warnings;
use JSON::PP;
use PVE::Notify;
use PVE::INotify;
my $in = JSON::PP::decode_json(do { local $/; <STDIN> });
my $data = PVE::Notify::common_template_data();
$data->{$_} = $in->{$_} for keys %$in;
$data->{used_percent} = sprintf('%.1f', $in->{used_percent} // 0);
PVE::Notify::notify('warning', 'pve-smbgateway-quota', $data, {
    type => 'pve-smbgateway',
    hostname => PVE::INotify::nodename(),
    share => $in->{share} // '',
});
"#;

pub fn run(cmd: NotifyCommand) -> Outcome {
    let NotifyCommand::Pve = cmd;
    let mut event = Vec::new();
    std::io::stdin()
        .read_to_end(&mut event)
        .context("cannot read the event from stdin")?;
    serde_json::from_slice::<serde_json::Value>(&event)
        .context("the event on stdin is not JSON")?;
    RealRunner::new()
        .run(
            &Cmd::new("perl")
                .args(["-e", NOTIFY_PERL])
                .stdin_bytes(event),
        )
        .map_err(|e| {
            Failure::from(
                anyhow::Error::from(e)
                    .context("PVE::Notify failed (Proxmox VE 8.2 or later is needed)"),
            )
        })?;
    Ok(ExitCode::SUCCESS)
}
