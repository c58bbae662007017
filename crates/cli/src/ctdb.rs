//! `pve-smbgateway ctdb ...` (CTDB cluster files and the quorum lock
//! helper) and `pve-smbgateway ha status`.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use clap::{Args, Subcommand, ValueEnum};
use ha::ctdb::{ClusterSpec, LockMethod, Tuning, Vip};
use ha::lock::{run_helper, CtdbMembership, HelperOptions};
use runner::{Cmd, RealRunner, Runner};
use serde::Serialize;
use smbconf::ctdb::LogLocation;

use crate::share::Failure;
use crate::{exit, GlobalOpts, OutputFormat};

#[derive(Debug, Subcommand)]
pub enum CtdbCommand {
    /// Write this node's CTDB files (ctdb.conf, nodes, public_addresses,
    /// ctdb.tunables, an event script that re-announces held addresses),
    /// the clustered Samba globals (smb-cluster.conf, to include from
    /// smb.conf) and systemd drop-ins for ctdb.service and smbd.service.
    Render(Box<RenderArgs>),
    /// Wait until this node's ctdbd has finished its first recovery, so
    /// that a clustered smbd can start (the smbd.service drop-in runs it
    /// before smbd); exit 8 after --timeout seconds.
    WaitReady {
        /// Seconds to wait.
        #[arg(long, default_value_t = 80)]
        timeout: u64,
    },
    /// The quorum cluster lock helper; ctdbd runs it
    /// (`cluster lock = !/usr/bin/pve-smbgateway ctdb lock-helper FILE`).
    LockHelper {
        /// The lock file, on storage every node reaches.
        file: PathBuf,
        /// Milliseconds between membership checks while holding the lock.
        #[arg(long, default_value_t = 500)]
        poll_ms: u64,
        /// Checks without a majority before the lock is given up.
        #[arg(long, default_value_t = 2)]
        grace: u32,
    },
}

/// Failure-detection presets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TuningArg {
    /// About 3 s to notice a dead or cut-off node (keepalive 1 s x 3).
    Fast,
    /// CTDB's defaults (keepalive 5 s x 5; about 27 s).
    CtdbDefaults,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Every node's cluster-network address, in node-number order, the
    /// same list on every node.
    #[arg(long, value_delimiter = ',', required = true)]
    nodes: Vec<IpAddr>,
    /// This node's address (one of --nodes).
    #[arg(long)]
    node: IpAddr,
    /// A floating address clients connect to: ADDR/BITS[@IFACE]
    /// (repeatable).
    #[arg(long = "vip", required = true)]
    vips: Vec<String>,
    /// Interface for floating addresses that do not name one.
    #[arg(long)]
    interface: Option<String>,
    /// Cluster lock: quorum:FILE (three or more nodes), fcntl:FILE,
    /// rados:POOL/OBJECT[@USER][:SECONDS], or none (no split-brain
    /// protection; needs --i-accept-split-brain).
    #[arg(long)]
    lock: String,
    /// Explicitly run without a cluster lock.
    #[arg(long)]
    i_accept_split_brain: bool,
    /// Failure detection.
    #[arg(long, value_enum, default_value_t = TuningArg::Fast)]
    tuning: TuningArg,
    /// The NetBIOS name every node answers to.
    #[arg(long, default_value = "SMBGW")]
    netbios_name: String,
    /// Where ctdbd logs: syslog, or file:PATH.
    #[arg(long, default_value = "syslog")]
    log: String,
    /// Directory for the CTDB files.
    #[arg(long, default_value = "/etc/ctdb")]
    out: PathBuf,
    /// Directory for the ctdb.service drop-in (`none` to skip).
    #[arg(long, default_value = "/etc/systemd/system/ctdb.service.d")]
    systemd_dropin: PathBuf,
    /// Directory for the smbd.service drop-in (`none` to skip).
    #[arg(long, default_value = "/etc/systemd/system/smbd.service.d")]
    smbd_dropin: PathBuf,
}

/// The drop-in: when ctdbd dies without releasing its floating addresses,
/// CTDB's own clean-up script drops them (a dead node that keeps a
/// floating address answers ARP for it), and systemd restarts ctdbd.
pub const SYSTEMD_DROPIN: &str = "\
# Managed by pve-smbgateway: changes are overwritten.
[Service]
ExecStopPost=/etc/ctdb/ctdb-crash-cleanup.sh
Restart=on-failure
RestartSec=5
";

/// The smbd.service drop-in (`helper` is this program's path). A
/// clustered smbd exits (status 1) when it cannot reach its node's ctdbd
/// and whenever that ctdbd goes away (observed), and nothing starts it
/// again: Debian's smbd.service has no `Restart=` and starts side by side
/// with ctdb.service at boot. So smbd starts after ctdb, waits until the
/// node has finished its first recovery (at most 80 s, inside systemd's
/// default start timeout of 90 s) and is started again when it exits.
pub fn smbd_dropin(helper: &Path) -> String {
    format!(
        "\
# Managed by pve-smbgateway: changes are overwritten.
# Clustered smbd needs this node's ctdbd running and recovered.
[Unit]
After=ctdb.service
[Service]
ExecStartPre={} ctdb wait-ready --timeout 80
Restart=on-failure
RestartSec=5
",
        helper.display()
    )
}

fn check_netbios_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > 15
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        bail!("NetBIOS name `{name}` must be 1 to 15 letters, digits, `-` or `_`");
    }
    Ok(())
}

/// Writes `text` to `path` atomically with `mode`.
fn write_atomic(path: &Path, text: &str, mode: u32) -> Result<()> {
    Ok(provision::write_atomic(path, text.as_bytes(), mode)?)
}

fn render(args: &RenderArgs) -> Result<ExitCode, Failure> {
    let invalid = |e: anyhow::Error| Failure {
        code: exit::INVALID,
        error: e,
    };
    let vips = args
        .vips
        .iter()
        .map(|v| v.parse::<Vip>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(e.into()))?;
    let lock: LockMethod = args
        .lock
        .parse()
        .map_err(|e: ha::ctdb::CtdbSpecError| invalid(e.into()))?;
    if lock == LockMethod::None && !args.i_accept_split_brain {
        return Err(invalid(anyhow::anyhow!(
            "--lock none leaves the cluster without split-brain protection; add --i-accept-split-brain if that is really wanted"
        )));
    }
    check_netbios_name(&args.netbios_name).map_err(invalid)?;
    let log = LogLocation::parse(&args.log)
        .filter(|l| matches!(l, LogLocation::Syslog(_) | LogLocation::File(Some(_))))
        .ok_or_else(|| invalid(anyhow::anyhow!("--log must be syslog or file:PATH")))?;
    let spec = ClusterSpec {
        nodes: args.nodes.clone(),
        vips,
        default_interface: args.interface.clone(),
        lock,
        tuning: match args.tuning {
            TuningArg::Fast => Tuning::fast(),
            TuningArg::CtdbDefaults => Tuning::ctdb_defaults(),
        },
    };
    let helper = std::env::current_exe().context("cannot find this program's path")?;
    let files = spec
        .render(args.node, &helper, log)
        .map_err(|e| invalid(e.into()))?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut samba =
        String::from("# Managed by pve-smbgateway: changes are overwritten.\n[global]\n");
    for (k, v) in ha::ctdb::samba_globals(&args.netbios_name) {
        samba.push_str(&format!("\t{k} = {v}\n"));
    }
    for (name, text) in [
        ("ctdb.conf", &files.ctdb_conf),
        ("nodes", &files.nodes),
        ("public_addresses", &files.public_addresses),
        ("ctdb.tunables", &files.tunables),
        ("smb-cluster.conf", &samba),
    ] {
        write_atomic(&args.out.join(name), text, 0o644)?;
    }
    let script = args.out.join(ha::ctdb::ANNOUNCE_SCRIPT_PATH);
    if let Some(dir) = script.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    write_atomic(&script, ha::ctdb::ANNOUNCE_SCRIPT, 0o755)?;
    for (dir, text) in [
        (&args.systemd_dropin, SYSTEMD_DROPIN.to_string()),
        (&args.smbd_dropin, smbd_dropin(&helper)),
    ] {
        if dir != Path::new("none") {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            write_atomic(&dir.join("pve-smbgateway.conf"), &text, 0o644)?;
        }
    }
    for w in &files.warnings {
        eprintln!("pve-smbgateway: warning: {w}");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run(cmd: CtdbCommand) -> Result<ExitCode, Failure> {
    match cmd {
        CtdbCommand::Render(args) => render(&args),
        CtdbCommand::WaitReady { timeout } => {
            let r = RealRunner::with_timeout(Duration::from_secs(5));
            match ha::ctdb::wait_ready(&r, Duration::from_secs(timeout), Duration::from_millis(500))
            {
                Ok(_) => Ok(ExitCode::SUCCESS),
                Err(e) => Err(Failure {
                    code: exit::NOT_SERVED,
                    error: e.into(),
                }),
            }
        }
        CtdbCommand::LockHelper {
            file,
            poll_ms,
            grace,
        } => {
            // Die with the CTDB process that runs us: a lock must never
            // outlive the daemon that asked for it. The parent is read
            // first: if it died before the signal was armed, getppid()
            // has changed already and nothing is taken.
            let parent = rustix::process::getppid();
            let _ = rustix::process::set_parent_process_death_signal(Some(
                rustix::process::Signal::KILL,
            ));
            if rustix::process::getppid() != parent {
                print!("3");
                return Ok(ExitCode::from(3));
            }
            let membership = CtdbMembership::new(RealRunner::new(), Duration::from_secs(2));
            let mut out = std::io::stdout();
            let end = run_helper(
                &file,
                &membership,
                &mut out,
                HelperOptions {
                    poll: Duration::from_millis(poll_ms.max(50)),
                    grace: grace.max(1),
                },
                &|| rustix::process::getppid() == parent,
            );
            eprintln!(
                "pve-smbgateway ctdb lock-helper {}: {end:?}",
                file.display()
            );
            Ok(ExitCode::from(u8::try_from(end.exit_code()).unwrap_or(3)))
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum HaCommand {
    /// Which node serves what: CTDB node health and where each floating
    /// address is (exit status 8 when a node is not OK or an address is
    /// not served).
    Status,
}

#[derive(Debug, Serialize)]
struct HaStatus {
    nodes: Vec<ha::ctdb::NodeState>,
    addresses: Vec<VipStatus>,
    healthy: bool,
}

#[derive(Debug, Serialize)]
struct VipStatus {
    address: IpAddr,
    node: Option<u32>,
    node_address: Option<IpAddr>,
}

pub fn ha(g: &GlobalOpts, cmd: HaCommand) -> Result<ExitCode, Failure> {
    let HaCommand::Status = cmd;
    let r = RealRunner::with_timeout(Duration::from_secs(10));
    // Both commands exit non-zero when something is unhealthy and still
    // print their tables.
    let table = |args: &[&str]| -> Result<String> {
        match r.run(&Cmd::new("ctdb").args(args.iter().copied())) {
            Ok(o) => Ok(o.stdout_str().into_owned()),
            Err(runner::RunError::Failed { stdout, .. }) if !stdout.trim().is_empty() => Ok(stdout),
            Err(e) => {
                Err(anyhow::Error::from(e)
                    .context("cannot ask ctdb (is ctdbd running on this node?)"))
            }
        }
    };
    let nodes = ha::ctdb::parse_status(&table(&["-X", "nodestatus", "all"])?)
        .map_err(anyhow::Error::from)?;
    let ips = ha::ctdb::parse_ips(&table(&["-X", "ip", "all"])?).map_err(anyhow::Error::from)?;
    let addresses: Vec<VipStatus> = ips
        .into_iter()
        .map(|(address, node)| VipStatus {
            address,
            node,
            node_address: node.and_then(|n| nodes.iter().find(|s| s.pnn == n).map(|s| s.address)),
        })
        .collect();
    let healthy = nodes.iter().all(|n| n.ok()) && addresses.iter().all(|a| a.node.is_some());
    let status = HaStatus {
        nodes,
        addresses,
        healthy,
    };
    match g.output_format {
        OutputFormat::Text => {
            for n in &status.nodes {
                let flags = if n.ok() {
                    "OK".to_string()
                } else {
                    n.flags.join(",").to_uppercase()
                };
                let me = if n.this_node { " (this node)" } else { "" };
                println!("node {} {} {flags}{me}", n.pnn, n.address);
            }
            for a in &status.addresses {
                match (a.node, a.node_address) {
                    (Some(n), Some(addr)) => println!("address {} on node {n} ({addr})", a.address),
                    (Some(n), None) => println!("address {} on node {n}", a.address),
                    _ => println!("address {} NOT SERVED", a.address),
                }
            }
        }
        f => {
            let text = if f == OutputFormat::JsonPretty {
                serde_json::to_string_pretty(&status)
            } else {
                serde_json::to_string(&status)
            }
            .map_err(anyhow::Error::from)?;
            println!("{text}");
        }
    }
    Ok(if status.healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(exit::NOT_SERVED)
    })
}
