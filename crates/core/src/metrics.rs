//! Share-level metrics: sessions, open files, I/O counters and space,
//! collected cheaply, rendered as JSON, text or the Prometheus text format,
//! and the quota alert that fires once per crossing.
//!
//! Sources and their precision (Samba 4.17):
//! * Sessions and open files: `smbstatus --json` (tree connects per share;
//!   opens under the share's path).
//! * I/O: Samba's profiling counters (`smbd profiling level = count`),
//!   `smb2_read` (count, bytes out) and `smb2_write` (count, bytes in).
//!   They are per smbd instance, not per share, before Samba 4.23
//!   (`smbd profiling share`): in LXC mode each share has its own smbd, so
//!   the counters are the share's exactly (scope `share`); in native mode
//!   they are the whole smbd's (scope `server`), reported once, not per
//!   share. They restart from zero when smbd restarts.
//! * Space: the backend's usage (one `statvfs` or the backend's own
//!   figure), against the quota.
//!
//! Cost per collection: native mode runs two processes for all shares
//! (`smbstatus --json`, `smbstatus --json --profile`; plus `smbcontrol
//! smbd ping` when the smbd is the host's), LXC mode one per share (one
//! shell in the container running both).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use provision::ContainerDriver;
use runner::{Cmd, Runner};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::ops::Gateway;
use crate::registry::ShareRecord;
use crate::spec::Mode;

/// SMB2 read and write counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IoCounters {
    /// Bytes sent to clients by SMB2 READ.
    pub read_bytes: u64,
    /// Bytes received from clients by SMB2 WRITE.
    pub write_bytes: u64,
    /// SMB2 READ requests.
    pub read_ops: u64,
    /// SMB2 WRITE requests.
    pub write_ops: u64,
}

/// What a profile says about connections: the processes serving clients.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Profile {
    /// The I/O counters.
    pub io: IoCounters,
    /// Client connections accepted since smbd started.
    pub connects: u64,
    /// Client connections ended since smbd started.
    pub disconnects: u64,
}

/// Reads `smbstatus --json --profile` (4.17: `"SMB2 Calls": {"smb2_read":
/// {"count", "outbytes"}, "smb2_write": {"count", "inbytes"}}`, `"SMBD
/// loop": {"connect": {"count"}, "disconnect": {"count"}}`).
pub fn parse_profile(json: &str) -> Result<Profile> {
    let v: Value = serde_json::from_str(json).map_err(|e| Error::ToolOutput {
        tool: "smbstatus --json --profile",
        reason: e.to_string(),
    })?;
    let n = |section: &str, entry: &str, field: &str| -> u64 {
        v.get(section)
            .and_then(|s| s.get(entry))
            .and_then(|e| e.get(field))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    if v.get("SMB2 Calls").is_none() {
        return Err(Error::ToolOutput {
            tool: "smbstatus --json --profile",
            reason: "no \"SMB2 Calls\" section (is this Samba built with profiling?)".into(),
        });
    }
    Ok(Profile {
        io: IoCounters {
            read_bytes: n("SMB2 Calls", "smb2_read", "outbytes"),
            write_bytes: n("SMB2 Calls", "smb2_write", "inbytes"),
            read_ops: n("SMB2 Calls", "smb2_read", "count"),
            write_ops: n("SMB2 Calls", "smb2_write", "count"),
        },
        connects: n("SMBD loop", "connect", "count"),
        disconnects: n("SMBD loop", "disconnect", "count"),
    })
}

/// Where a share's I/O counters come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IoScope {
    /// Exactly the share's (its own smbd).
    Share,
    /// The whole smbd serving it and other shares.
    Server,
}

/// One share's figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShareMetrics {
    /// The share.
    pub share: String,
    /// `native` or `lxc`.
    pub mode: String,
    /// Whether the share's smbd answered.
    pub served: bool,
    /// SMB sessions connected to the share (tree connects).
    pub sessions: Option<u64>,
    /// Files open through the share.
    pub open_files: Option<u64>,
    /// Reads and writes (see `io_scope`).
    pub io: Option<IoCounters>,
    /// Whose I/O `io` counts.
    pub io_scope: Option<IoScope>,
    /// Bytes used.
    pub used_bytes: Option<u64>,
    /// Bytes still available to writers.
    pub available_bytes: Option<u64>,
    /// The quota, when one is set.
    pub quota_bytes: Option<u64>,
    /// Used as a percentage of the quota (or of the volume size).
    pub used_percent: Option<f64>,
    /// Why a figure is missing.
    pub problems: Vec<String>,
}

/// A whole collection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Collection {
    /// Per share.
    pub shares: Vec<ShareMetrics>,
    /// The host smbd's counters (native shares share them).
    pub native_server_io: Option<IoCounters>,
    /// Processes started by the collection.
    pub spawns: u64,
    /// How long it took.
    pub duration_seconds: f64,
    /// Whether every registered share is in it.
    pub complete: bool,
}

/// Counts a runner's spawns.
struct Counting<'a> {
    inner: &'a dyn Runner,
    spawns: std::sync::atomic::AtomicU64,
}

impl Runner for Counting<'_> {
    fn run(&self, cmd: &Cmd) -> std::result::Result<runner::Output, runner::RunError> {
        self.spawns
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inner.run(cmd)
    }
}

/// The separator between the two documents the container prints.
const SPLIT: &str = "\n--smbgw-metrics--\n";

impl Gateway {
    /// Collects the metrics of `only` (or every share).
    pub fn metrics(&self, only: Option<&crate::spec::ShareId>) -> Result<Collection> {
        let start = Instant::now();
        let counting = Counting {
            inner: self.runner.as_ref(),
            spawns: 0.into(),
        };
        let records: Vec<ShareRecord> = match only {
            Some(id) => vec![self.show(id)?],
            None => self.registry().load()?,
        };
        let native: Vec<&ShareRecord> = records
            .iter()
            .filter(|r| r.spec.mode != Mode::Lxc)
            .collect();
        // Native: one smbstatus for the sessions of every share, one for
        // the server's counters.
        let (status_json, server_io, native_problem) = if native.is_empty() {
            (None, None, None)
        } else {
            self.native_status(&counting)
        };
        let mut shares = Vec::with_capacity(records.len());
        for rec in &records {
            let mut m = ShareMetrics {
                share: rec.spec.id.as_str().to_owned(),
                mode: rec.spec.mode.to_string(),
                served: false,
                sessions: None,
                open_files: None,
                io: None,
                io_scope: None,
                used_bytes: None,
                available_bytes: None,
                quota_bytes: rec.spec.quota.map(|q| q.bytes()),
                used_percent: None,
                problems: Vec::new(),
            };
            if rec.spec.mode == Mode::Lxc {
                self.lxc_metrics(&counting, rec, &mut m);
            } else {
                match &status_json {
                    Some(json) => {
                        match provision::parse_smbstatus(
                            json,
                            rec.spec.id.as_str(),
                            &rec.state.path.to_string_lossy(),
                        ) {
                            Ok(s) => {
                                m.served = true;
                                m.sessions = Some(s.connections as u64);
                                m.open_files = Some(s.open_files as u64);
                            }
                            Err(e) => m.problems.push(format!("smbstatus --json: {e}")),
                        }
                    }
                    None => m.problems.extend(native_problem.clone()),
                }
                if let Some(io) = server_io {
                    m.io = Some(io);
                    m.io_scope = Some(IoScope::Server);
                }
            }
            self.space(rec, &mut m);
            shares.push(m);
        }
        Ok(Collection {
            shares,
            native_server_io: server_io,
            spawns: counting.spawns.load(std::sync::atomic::Ordering::Relaxed),
            duration_seconds: start.elapsed().as_secs_f64(),
            complete: only.is_none(),
        })
    }

    /// `smbstatus --json` and `smbstatus --json --profile` of the host's
    /// (or the private) smbd.
    fn native_status(
        &self,
        runner: &dyn Runner,
    ) -> (Option<String>, Option<IoCounters>, Option<String>) {
        let samba = &self.paths().samba;
        match samba.running(runner) {
            Ok(true) => {}
            _ => return (None, None, Some("smbd is not running".into())),
        }
        let conf = samba.conf().to_string_lossy().into_owned();
        let run = |profile: bool| {
            let mut c = Cmd::new("smbstatus").args(["-s", &conf, "--json"]);
            if profile {
                c = c.arg("--profile");
            }
            runner.run(&c).map(|o| o.stdout_str().into_owned())
        };
        let status = match run(false) {
            Ok(s) => s,
            Err(e) => return (None, None, Some(e.to_string())),
        };
        let io = if profiling_enabled(samba.conf()) {
            run(true)
                .ok()
                .and_then(|p| parse_profile(&p).ok())
                .map(|p| p.io)
        } else {
            None
        };
        (Some(status), io, None)
    }

    /// One process in the share's container prints both documents.
    fn lxc_metrics(&self, runner: &dyn Runner, rec: &ShareRecord, m: &mut ShareMetrics) {
        let (Some(ct), Some(driver)) = (
            Self::container_config(&rec.spec),
            self.container_driver(&rec.spec),
        ) else {
            m.problems
                .push("the share's container is not recorded".into());
            return;
        };
        let script = format!(
            "smbstatus --json && printf '{}' && smbstatus --json --profile",
            SPLIT.replace('\n', "\\n")
        );
        let out = match exec_metrics(driver.as_ref(), runner, &ct.id, &script) {
            Ok(o) => o,
            Err(e) => {
                m.problems.push(format!("container {}: {e}", ct.id));
                return;
            }
        };
        let Some((status, profile)) = out.split_once(SPLIT) else {
            m.problems
                .push(format!("container {}: unexpected smbstatus output", ct.id));
            return;
        };
        match provision::parse_smbstatus(status, rec.spec.id.as_str(), &ct.mount_point) {
            Ok(s) => {
                m.served = true;
                m.sessions = Some(s.connections as u64);
                m.open_files = Some(s.open_files as u64);
            }
            Err(e) => m.problems.push(format!("smbstatus --json: {e}")),
        }
        match parse_profile(profile) {
            Ok(p) => {
                m.io = Some(p.io);
                m.io_scope = Some(IoScope::Share);
            }
            Err(e) => m.problems.push(e.to_string()),
        }
    }

    fn space(&self, rec: &ShareRecord, m: &mut ShareMetrics) {
        match self.usage_of_record(rec) {
            Ok(u) if u.active => {
                m.used_bytes = Some(u.used);
                m.available_bytes = Some(u.available);
                let limit = m.quota_bytes.unwrap_or(u.total);
                if limit > 0 {
                    m.used_percent = Some(u.used as f64 * 100.0 / limit as f64);
                }
            }
            Ok(u) => m.problems.extend(u.problem),
            Err(e) => m.problems.push(e.to_string()),
        }
    }
}

fn exec_metrics(
    driver: &dyn ContainerDriver,
    runner: &dyn Runner,
    id: &str,
    script: &str,
) -> Result<String> {
    let out = driver.exec(runner, id, &["sh", "-c", script], None)?;
    Ok(out.stdout_str().into_owned())
}

/// Whether smb.conf (with its includes) turns profiling on.
pub fn profiling_enabled(conf: &Path) -> bool {
    let cfg = crate::ops::load_samba_conf(conf);
    matches!(
        cfg.global("smbd profiling level").as_deref(),
        Some("count") | Some("on")
    )
}

/// Escapes a Prometheus label value.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The Prometheus text exposition format (for node_exporter's textfile
/// collector or a scrape).
pub fn prometheus(c: &Collection) -> String {
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str, rows: Vec<(String, String)>| {
        if rows.is_empty() {
            return;
        }
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for (labels, value) in rows {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    };
    let l = |m: &ShareMetrics| format!("share=\"{}\",mode=\"{}\"", label(&m.share), label(&m.mode));
    let rows = |f: &dyn Fn(&ShareMetrics) -> Option<String>| -> Vec<(String, String)> {
        c.shares
            .iter()
            .filter_map(|m| f(m).map(|v| (l(m), v)))
            .collect()
    };
    family(
        "pve_smbgw_share_up",
        "gauge",
        "Whether the share's smbd answered (1) or not (0).",
        rows(&|m| Some(u8::from(m.served).to_string())),
    );
    family(
        "pve_smbgw_share_sessions",
        "gauge",
        "SMB sessions connected to the share (tree connects).",
        rows(&|m| m.sessions.map(|v| v.to_string())),
    );
    family(
        "pve_smbgw_share_open_files",
        "gauge",
        "Files open through the share.",
        rows(&|m| m.open_files.map(|v| v.to_string())),
    );
    // Per-share counters only where they are the share's own.
    let own = |f: fn(&IoCounters) -> u64| {
        rows(&move |m: &ShareMetrics| {
            (m.io_scope == Some(IoScope::Share))
                .then(|| m.io.map(|io| f(&io).to_string()))
                .flatten()
        })
    };
    family(
        "pve_smbgw_share_read_bytes_total",
        "counter",
        "Bytes read by clients (SMB2 READ) from the share's own smbd.",
        own(|io| io.read_bytes),
    );
    family(
        "pve_smbgw_share_written_bytes_total",
        "counter",
        "Bytes written by clients (SMB2 WRITE) to the share's own smbd.",
        own(|io| io.write_bytes),
    );
    family(
        "pve_smbgw_share_read_ops_total",
        "counter",
        "SMB2 READ requests to the share's own smbd.",
        own(|io| io.read_ops),
    );
    family(
        "pve_smbgw_share_write_ops_total",
        "counter",
        "SMB2 WRITE requests to the share's own smbd.",
        own(|io| io.write_ops),
    );
    family(
        "pve_smbgw_share_used_bytes",
        "gauge",
        "Bytes used on the share's volume.",
        rows(&|m| m.used_bytes.map(|v| v.to_string())),
    );
    family(
        "pve_smbgw_share_available_bytes",
        "gauge",
        "Bytes still available to writers.",
        rows(&|m| m.available_bytes.map(|v| v.to_string())),
    );
    family(
        "pve_smbgw_share_quota_bytes",
        "gauge",
        "The share's quota.",
        rows(&|m| m.quota_bytes.map(|v| v.to_string())),
    );
    if let Some(io) = c.native_server_io {
        let one = |v: u64| vec![("smbd=\"host\"".to_string(), v.to_string())];
        family(
            "pve_smbgw_native_read_bytes_total",
            "counter",
            "Bytes read by clients from the host's smbd (all native shares).",
            one(io.read_bytes),
        );
        family(
            "pve_smbgw_native_written_bytes_total",
            "counter",
            "Bytes written by clients to the host's smbd (all native shares).",
            one(io.write_bytes),
        );
        family(
            "pve_smbgw_native_read_ops_total",
            "counter",
            "SMB2 READ requests to the host's smbd.",
            one(io.read_ops),
        );
        family(
            "pve_smbgw_native_write_ops_total",
            "counter",
            "SMB2 WRITE requests to the host's smbd.",
            one(io.write_ops),
        );
    }
    let _ = writeln!(
        out,
        "# HELP pve_smbgw_collection_duration_seconds How long the collection took.\n# TYPE pve_smbgw_collection_duration_seconds gauge\npve_smbgw_collection_duration_seconds {:.6}",
        c.duration_seconds
    );
    out
}

/// What the quota alert remembers per share: whether it has fired since
/// usage last fell below the threshold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertState {
    /// Shares whose alert fired and has not re-armed.
    pub fired: BTreeMap<String, bool>,
}

/// A quota alert transition.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlertEvent {
    /// `quota-threshold` (crossed upwards) or `quota-rearmed`.
    pub event: &'static str,
    /// The share.
    pub share: String,
    /// Used as a percentage of the quota.
    pub used_percent: f64,
    /// The threshold.
    pub threshold_percent: f64,
    /// Bytes used.
    pub used_bytes: u64,
    /// The quota (or volume size).
    pub quota_bytes: Option<u64>,
}

/// Compares a collection with the alert state: an event for each share
/// that crossed `threshold` upwards (once, until it falls below again) and
/// for each that fell below (re-armed). Shares no longer in the registry
/// are forgotten only when `c` covers every share (`c.complete`). Pure;
/// the caller persists `state`.
pub fn evaluate_alerts(c: &Collection, threshold: f64, state: &mut AlertState) -> Vec<AlertEvent> {
    let mut events = Vec::new();
    for m in &c.shares {
        let (Some(pct), Some(used)) = (m.used_percent, m.used_bytes) else {
            continue;
        };
        let fired = state.fired.get(&m.share).copied().unwrap_or(false);
        let event = |event| AlertEvent {
            event,
            share: m.share.clone(),
            used_percent: pct,
            threshold_percent: threshold,
            used_bytes: used,
            quota_bytes: m.quota_bytes,
        };
        if pct >= threshold && !fired {
            state.fired.insert(m.share.clone(), true);
            events.push(event("quota-threshold"));
        } else if pct < threshold && fired {
            state.fired.remove(&m.share);
            events.push(event("quota-rearmed"));
        }
    }
    // Shares that no longer exist.
    if c.complete {
        let live: Vec<&str> = c.shares.iter().map(|m| m.share.as_str()).collect();
        state.fired.retain(|s, _| live.contains(&s.as_str()));
    }
    events
}

/// What happened to one alert event.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlertOutcome {
    /// The event.
    #[serde(flatten)]
    pub event: AlertEvent,
    /// The hook's failure, if it ran and failed.
    pub hook_error: Option<String>,
}

impl Gateway {
    /// Evaluates the quota alert on `c` against the state kept in the
    /// state directory (`alerts.json`, under a lock) and runs `hook` (a
    /// shell command, the event as JSON on stdin) for each threshold
    /// crossing. A failing hook is reported, not fatal; the alert still
    /// counts as fired, so the hook is not retried on every collection.
    pub fn quota_alerts(
        &self,
        c: &Collection,
        threshold: f64,
        hook: Option<&str>,
    ) -> Result<Vec<AlertOutcome>> {
        if !(threshold > 0.0 && threshold <= 100.0) {
            return Err(Error::Invalid {
                field: "alert threshold",
                value: threshold.to_string(),
                reason: "give a percentage above 0 and at most 100".into(),
            });
        }
        let dir = &self.paths().state_dir;
        std::fs::create_dir_all(dir).map_err(|e| Error::Io {
            action: "create",
            path: dir.clone(),
            source: e,
        })?;
        let _lock = provision::FileLock::acquire(&dir.join("alerts.lock"))?;
        let path = dir.join("alerts.json");
        let mut state: AlertState = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let events = evaluate_alerts(c, threshold, &mut state);
        let text = serde_json::to_vec_pretty(&state).unwrap_or_default();
        provision::write_atomic(&path, &text, 0o600)?;
        Ok(events
            .into_iter()
            .map(|event| {
                let hook_error = match (hook, event.event) {
                    (Some(h), "quota-threshold") => {
                        let json = serde_json::to_vec(&event).unwrap_or_default();
                        self.runner
                            .run(&Cmd::new("sh").args(["-c", h]).stdin_bytes(json))
                            .err()
                            .map(|e| e.to_string())
                    }
                    _ => None,
                };
                AlertOutcome { event, hook_error }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    // Shape captured from smbstatus 4.17.12 (`--json --profile`), trimmed.
    const PROFILE: &str = r#"{"timestamp": "2026-11-26T02:20:01.1+0000", "version": "4.17.12-Debian",
      "SMBD loop": {"connect": {"count": 3}, "disconnect": {"count": 2}, "request": {"count": 55}},
      "System Calls": {"syscall_asys_pread": {"count": 2, "time": 6656, "idle": 210, "bytes": 10485760}},
      "SMB2 Calls": {"smb2_read": {"count": 2, "time": 6694, "idle": 0, "inbytes": 226, "outbytes": 10485920},
                     "smb2_write": {"count": 6, "time": 157737, "idle": 0, "inbytes": 31457952, "outbytes": 480}}}"#;

    #[test]
    fn reads_the_profile() {
        let p = parse_profile(PROFILE).unwrap();
        assert_eq!(
            p.io,
            IoCounters {
                read_bytes: 10485920,
                write_bytes: 31457952,
                read_ops: 2,
                write_ops: 6
            }
        );
        assert_eq!((p.connects, p.disconnects), (3, 2));
        assert!(parse_profile("{}").is_err());
        assert!(parse_profile("not json").is_err());
    }

    fn share(name: &str, pct: Option<f64>) -> ShareMetrics {
        ShareMetrics {
            share: name.into(),
            mode: "native".into(),
            served: true,
            sessions: Some(1),
            open_files: Some(0),
            io: Some(IoCounters::default()),
            io_scope: Some(IoScope::Server),
            used_bytes: pct.map(|p| p as u64),
            available_bytes: Some(0),
            quota_bytes: Some(100),
            used_percent: pct,
            problems: vec![],
        }
    }

    fn coll(shares: Vec<ShareMetrics>) -> Collection {
        Collection {
            shares,
            native_server_io: None,
            spawns: 0,
            duration_seconds: 0.0,
            complete: true,
        }
    }

    #[test]
    fn the_alert_fires_once_per_crossing_and_rearms() {
        let mut st = AlertState::default();
        let ev = |p: f64, st: &mut AlertState| {
            evaluate_alerts(&coll(vec![share("a", Some(p))]), 90.0, st)
                .into_iter()
                .map(|e| e.event)
                .collect::<Vec<_>>()
        };
        assert!(ev(50.0, &mut st).is_empty());
        assert_eq!(ev(91.0, &mut st), ["quota-threshold"]);
        assert!(ev(95.0, &mut st).is_empty(), "fires once");
        assert!(ev(90.0, &mut st).is_empty());
        assert_eq!(ev(89.9, &mut st), ["quota-rearmed"]);
        assert!(ev(10.0, &mut st).is_empty());
        assert_eq!(ev(99.0, &mut st), ["quota-threshold"], "fires again");
        // A collection of another share alone forgets nothing.
        let mut other = coll(vec![share("b", Some(10.0))]);
        other.complete = false;
        evaluate_alerts(&other, 90.0, &mut st);
        assert_eq!(st.fired.get("a"), Some(&true));
        // A share that went away is forgotten by a complete collection.
        evaluate_alerts(&coll(vec![]), 90.0, &mut st);
        assert!(st.fired.is_empty());
        // Unknown usage changes nothing.
        assert!(evaluate_alerts(&coll(vec![share("b", None)]), 90.0, &mut st).is_empty());
    }

    #[test]
    fn prometheus_text() {
        let mut own = share("ct1", Some(10.0));
        own.mode = "lxc".into();
        own.io_scope = Some(IoScope::Share);
        own.io = Some(IoCounters {
            read_bytes: 5,
            write_bytes: 6,
            read_ops: 1,
            write_ops: 2,
        });
        let mut c = coll(vec![share("nat", Some(1.0)), own]);
        c.native_server_io = Some(IoCounters {
            read_bytes: 7,
            ..IoCounters::default()
        });
        let text = prometheus(&c);
        assert!(
            text.contains("pve_smbgw_share_read_bytes_total{share=\"ct1\",mode=\"lxc\"} 5\n"),
            "{text}"
        );
        // The native share's counters are the server's: not per share.
        assert!(
            !text.contains("pve_smbgw_share_read_bytes_total{share=\"nat\""),
            "{text}"
        );
        assert!(
            text.contains("pve_smbgw_native_read_bytes_total{smbd=\"host\"} 7\n"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE pve_smbgw_share_sessions gauge\n"),
            "{text}"
        );
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
