//! `pve-smbgateway`: serve SMB shares from Proxmox VE storage.
//!
//! This binary only parses flags, calls the libraries and maps errors to
//! exit codes (see [`exit`]).

mod conf;
mod ctdb;
mod integration;
mod metrics;
mod notify;
mod share;
mod syslog;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

/// Exit codes.
pub mod exit {
    /// The input has errors (`conf lint`).
    pub const LINT: u8 = 1;
    /// Usage, I/O or another unexpected error.
    pub const ERROR: u8 = 2;
    /// Bad input: refused before anything changed.
    pub const INVALID: u8 = 3;
    /// The share (or user) does not exist / already exists.
    pub const NOT_FOUND: u8 = 4;
    /// The operation failed half-way and was rolled back.
    pub const ROLLED_BACK: u8 = 5;
    /// The operation failed and so did its rollback: run `apply`.
    pub const NEEDS_APPLY: u8 = 6;
    /// Another process is changing the share.
    pub const BUSY: u8 = 7;
    /// `status`: the share is not fully served.
    pub const NOT_SERVED: u8 = 8;
}

/// Serve SMB shares from storage a Proxmox VE cluster already has.
#[derive(Debug, Parser)]
#[command(name = "pve-smbgateway", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    global: GlobalOpts,
    #[command(subcommand)]
    command: Command,
}

/// Output format (Proxmox conventions).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable text.
    #[default]
    Text,
    /// One line of JSON.
    Json,
    /// Indented JSON.
    JsonPretty,
}

/// Options for every command.
#[derive(Debug, Args)]
pub struct GlobalOpts {
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output_format: OutputFormat,
    /// Keep everything (registry, state, a private smbd on 127.0.0.1:PORT,
    /// directory volumes) under DIR instead of the host's files.
    #[arg(long, global = true, env = "SMBGW_SANDBOX", value_name = "DIR")]
    pub sandbox: Option<PathBuf>,
    /// Port of the sandbox's private smbd (used when the sandbox is created).
    #[arg(long, global = true, env = "SMBGW_PORT", default_value_t = 4450)]
    pub port: u16,
    /// The share registry (default: /etc/pve/smbgateway.cfg on a Proxmox
    /// node, /etc/pve-smbgateway/shares.cfg elsewhere).
    #[arg(long, global = true, env = "SMBGW_REGISTRY", value_name = "FILE")]
    pub registry: Option<PathBuf>,
    /// Journals and locks (default /var/lib/pve-smbgateway).
    #[arg(long, global = true, env = "SMBGW_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// The host's main smb.conf in native mode (the managed include file
    /// `pve-smbgateway.conf` lives beside it).
    #[arg(long, global = true, env = "SMBGW_SAMBA_CONF", value_name = "FILE")]
    pub samba_conf: Option<PathBuf>,
    /// LXC mode with plain LXC: where the containers live (default
    /// /var/lib/lxc; DIR/lxc with --sandbox).
    #[arg(long, global = true, env = "SMBGW_LXCPATH", value_name = "DIR")]
    pub lxcpath: Option<PathBuf>,
    /// LXC mode with plain LXC: the prepared gateway template (a Debian
    /// root filesystem with Samba, built with debootstrap on first use;
    /// default /var/lib/pve-smbgateway/lxc-template).
    #[arg(long, global = true, env = "SMBGW_LXC_TEMPLATE", value_name = "DIR")]
    pub lxc_template: Option<PathBuf>,
    /// Do not print progress.
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a share: volume, Samba configuration, registry entry.
    Create(Box<share::CreateArgs>),
    /// Stop serving a share; its data is kept unless --purge.
    Delete(share::DeleteArgs),
    /// List the registered shares.
    List,
    /// Show one share's registry record.
    Show {
        /// The share.
        id: String,
    },
    /// Whether shares are served, their usage and connected clients.
    Status {
        /// The share (all when omitted).
        id: Option<String>,
    },
    /// Re-converge Samba to the registry (after a crash or manual edits).
    Apply {
        /// Only this share.
        id: Option<String>,
    },
    /// Share metrics: sessions, open files, I/O, space; the quota alert.
    Metrics(metrics::MetricsArgs),
    /// Register (or remove) the node API /nodes/{node}/smbgateway in
    /// pve-manager.
    #[command(subcommand)]
    PveIntegration(integration::IntegrationCommand),
    /// Hand an alert event (JSON on stdin) to a notification system.
    #[command(subcommand)]
    Notify(notify::NotifyCommand),
    /// SMB users of workgroup shares.
    #[command(subcommand)]
    User(share::UserCommand),
    /// Inspect and edit smb.conf files (Samba-exact, lossless).
    #[command(subcommand)]
    Conf(conf::ConfCommand),
    /// CTDB clustering: per-node files, the quorum cluster lock helper.
    #[command(subcommand)]
    Ctdb(ctdb::CtdbCommand),
    /// High availability: CTDB node health and floating addresses.
    #[command(subcommand)]
    Ha(ctdb::HaCommand),
    /// Print shell completions.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    syslog::init();
    let result = match cli.command {
        Command::Conf(cmd) => conf::run(cmd).map_err(share::Failure::from),
        Command::Ctdb(cmd) => ctdb::run(cmd),
        Command::Ha(cmd) => ctdb::ha(&cli.global, cmd),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "pve-smbgateway",
                &mut std::io::stdout(),
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => clap_mangen::Man::new(Cli::command())
            .render(&mut std::io::stdout())
            .map(|()| ExitCode::SUCCESS)
            .map_err(|e| share::Failure::from(anyhow::Error::from(e))),
        Command::Create(args) => share::create(&cli.global, *args),
        Command::Delete(args) => share::delete(&cli.global, args),
        Command::List => share::list(&cli.global),
        Command::Show { id } => share::show(&cli.global, &id),
        Command::Status { id } => share::status(&cli.global, id.as_deref()),
        Command::Apply { id } => share::apply(&cli.global, id.as_deref()),
        Command::User(cmd) => share::user(&cli.global, cmd),
        Command::Metrics(args) => metrics::run(&cli.global, args),
        Command::Notify(cmd) => notify::run(cmd),
        Command::PveIntegration(cmd) => integration::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(f) => {
            eprintln!("pve-smbgateway: error: {:#}", f.error);
            ExitCode::from(f.code)
        }
    }
}
