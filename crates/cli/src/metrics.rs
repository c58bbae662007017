//! `pve-smbgateway metrics`: share metrics as text, JSON or the Prometheus
//! text format, and the quota alert.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use smbgw_core::metrics::{prometheus, Collection};

use crate::share::{gateway, parse_id, print_json, Outcome};
use crate::{GlobalOpts, OutputFormat};

#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// Only this share (all when omitted).
    id: Option<String>,
    /// Print the Prometheus text format instead.
    #[arg(long)]
    prometheus: bool,
    /// Also write the Prometheus text format to FILE, atomically (for
    /// node_exporter's textfile collector, e.g.
    /// /var/lib/prometheus/node-exporter/pve-smbgateway.prom).
    #[arg(long, value_name = "FILE")]
    textfile: Option<PathBuf>,
    /// Quota alert threshold in percent of the quota.
    #[arg(long, env = "SMBGW_ALERT_THRESHOLD", default_value_t = 90.0)]
    alert_threshold: f64,
    /// Command run (by sh) once when a share crosses the threshold, with
    /// the event as JSON on stdin. Default on Proxmox VE: `pve-smbgateway
    /// notify pve` (its notification system); elsewhere none.
    #[arg(long, env = "SMBGW_ALERT_HOOK", value_name = "COMMAND")]
    alert_hook: Option<String>,
    /// Do not evaluate the quota alert.
    #[arg(long)]
    no_alerts: bool,
}

fn human(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

fn text(c: &Collection) {
    for m in &c.shares {
        let opt = |v: Option<u64>| v.map_or("-".to_owned(), |v| v.to_string());
        let io = match (m.io, m.io_scope) {
            (Some(io), Some(scope)) => format!(
                "read {} in {} ops, written {} in {} ops{}",
                human(io.read_bytes),
                io.read_ops,
                human(io.write_bytes),
                io.write_ops,
                if scope == smbgw_core::metrics::IoScope::Server {
                    " (whole host smbd)"
                } else {
                    ""
                }
            ),
            _ => "I/O -".to_owned(),
        };
        let space = match (m.used_bytes, m.used_percent) {
            (Some(u), Some(p)) => format!("{} used ({p:.1} %)", human(u)),
            (Some(u), None) => format!("{} used", human(u)),
            _ => "space -".to_owned(),
        };
        println!(
            "{} ({}): {} | sessions {} | open files {} | {io} | {space}",
            m.share,
            m.mode,
            if m.served { "up" } else { "DOWN" },
            opt(m.sessions),
            opt(m.open_files)
        );
        for p in &m.problems {
            println!("  problem: {p}");
        }
    }
}

/// On a Proxmox VE node (PVE::Notify installed), alerts go to its
/// notification system.
fn default_hook() -> Option<String> {
    if !std::path::Path::new("/usr/share/perl5/PVE/Notify.pm").is_file() {
        return None;
    }
    let exe = std::env::current_exe().ok()?;
    let exe = exe.to_str()?;
    (!exe.contains('\'')).then(|| format!("'{exe}' notify pve"))
}

/// `metrics`.
pub fn run(g: &GlobalOpts, a: MetricsArgs) -> Outcome {
    let gw = gateway(g)?;
    let id = a.id.as_deref().map(parse_id).transpose()?;
    let c = gw.metrics(id.as_ref())?;
    if let Some(file) = &a.textfile {
        provision::write_atomic(file, prometheus(&c).as_bytes(), 0o644)
            .map_err(anyhow::Error::from)?;
    }
    if !a.no_alerts {
        let hook = a.alert_hook.clone().or_else(default_hook);
        for o in gw.quota_alerts(&c, a.alert_threshold, hook.as_deref())? {
            let e = &o.event;
            if e.event == "quota-threshold" {
                tracing::warn!(
                    event = e.event,
                    share = e.share.as_str(),
                    used_percent = format!("{:.1}", e.used_percent).as_str(),
                    threshold_percent = e.threshold_percent,
                    "share {} is {:.1} % full (alert at {} %)",
                    e.share,
                    e.used_percent,
                    e.threshold_percent
                );
            } else {
                tracing::info!(
                    event = e.event,
                    share = e.share.as_str(),
                    "share {} is below the quota alert threshold again",
                    e.share
                );
            }
            if let Some(err) = &o.hook_error {
                tracing::error!(
                    event = "alert-hook-failed",
                    share = e.share.as_str(),
                    error = err.as_str(),
                    "alert hook failed"
                );
                eprintln!(
                    "pve-smbgateway: warning: the alert hook failed for share {}: {err}",
                    e.share
                );
            }
        }
    }
    if a.prometheus {
        print!("{}", prometheus(&c));
    } else {
        match g.output_format {
            OutputFormat::Text => text(&c),
            _ => print_json(g, &c)?,
        }
    }
    Ok(ExitCode::SUCCESS)
}
