//! `pve-smbgateway pve-integration install|remove|status`: the managed,
//! reversible registration of the node API module
//! (`PVE::API2::SMBGateway`, `/api2/json/nodes/{node}/smbgateway`) in
//! pve-manager's `PVE/API2/Nodes.pm`.
//!
//! The check before the file is replaced loads it (`perl -e 'require
//! FILE'`), not only compiles it, so a registration that would die at load
//! time (e.g. a future pve-manager with its own `smbgateway` path) is
//! refused too.
//!
//! Proxmox VE has no hook for third-party node endpoints, so one marked
//! block is inserted in `PVE::API2::Nodes::Nodeinfo`, before its first
//! `register_method`. Install is idempotent, checks the result with
//! Perl (loading it) before it replaces the file, and refuses a file whose shape
//! it does not recognise; remove takes exactly that block out again, so the
//! file is byte for byte what pve-manager shipped. The package runs
//! install from postinst and from a dpkg trigger on the file (pve-manager
//! upgrades replace it), and remove from prerm.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};
use clap::Subcommand;

use crate::exit;
use crate::share::{Failure, Outcome};

/// Default location of pve-manager's node API module.
pub const NODES_PM: &str = "/usr/share/perl5/PVE/API2/Nodes.pm";

const BEGIN: &str =
    "# BEGIN pve-smbgateway (managed by `pve-smbgateway pve-integration`; do not edit)";
const END: &str = "# END pve-smbgateway";
const PACKAGE: &str = "package PVE::API2::Nodes::Nodeinfo;";

/// The block inserted into Nodes.pm.
pub fn block() -> String {
    format!(
        "{BEGIN}\nuse PVE::API2::SMBGateway;\n__PACKAGE__->register_method ({{\n    subclass => \"PVE::API2::SMBGateway\",\n    path => 'smbgateway',\n}});\n{END}\n"
    )
}

#[derive(Debug, Subcommand)]
pub enum IntegrationCommand {
    /// Register the node API (/nodes/{node}/smbgateway) in pve-manager.
    Install {
        /// pve-manager's Nodes.pm.
        #[arg(long, default_value = NODES_PM)]
        nodes_pm: PathBuf,
    },
    /// Take the registration out again (Nodes.pm as pve-manager shipped it).
    Remove {
        /// pve-manager's Nodes.pm.
        #[arg(long, default_value = NODES_PM)]
        nodes_pm: PathBuf,
    },
    /// Whether the registration is in place.
    Status {
        /// pve-manager's Nodes.pm.
        #[arg(long, default_value = NODES_PM)]
        nodes_pm: PathBuf,
    },
}

/// Where the managed block is: (start, end) byte offsets.
fn find_block(text: &str) -> Result<Option<(usize, usize)>> {
    let Some(start) = text.find(&format!("{BEGIN}\n")) else {
        if text.contains(END) {
            bail!("a `{END}` line without its BEGIN line; remove the broken block by hand");
        }
        return Ok(None);
    };
    let Some(rel) = text[start..].find(&format!("{END}\n")) else {
        bail!("the pve-smbgateway block has no END line; remove the broken block by hand");
    };
    Ok(Some((start, start + rel + END.len() + 1)))
}

/// `text` with the block inserted (or replaced).
pub fn insert(text: &str) -> Result<String> {
    let base = remove(text)?;
    let pkg = base
        .find(&format!("\n{PACKAGE}\n"))
        .map(|i| i + 1)
        .or_else(|| base.starts_with(&format!("{PACKAGE}\n")).then_some(0))
        .context("no `package PVE::API2::Nodes::Nodeinfo;` line: this pve-manager's Nodes.pm has a shape pve-smbgateway does not know, so the node API is not registered")?;
    let at = base[pkg..]
        .find("\n__PACKAGE__->register_method")
        .map(|i| pkg + i + 1)
        .context("no `__PACKAGE__->register_method` in PVE::API2::Nodes::Nodeinfo: this pve-manager's Nodes.pm has a shape pve-smbgateway does not know, so the node API is not registered")?;
    let mut out = String::with_capacity(base.len() + 256);
    out.push_str(&base[..at]);
    out.push_str(&block());
    out.push_str(&base[at..]);
    Ok(out)
}

/// `text` without the block.
pub fn remove(text: &str) -> Result<String> {
    Ok(match find_block(text)? {
        Some((a, b)) => format!("{}{}", &text[..a], &text[b..]),
        None => text.to_owned(),
    })
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Replaces `path` with `text` (same mode), after Perl loads it.
fn replace(path: &Path, text: &str, check: bool) -> Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::PermissionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mode = std::fs::metadata(path)?.permissions().mode();
    let mut tmp = tempfile::Builder::new()
        .prefix(".Nodes.pm.smbgw-")
        .suffix(".pm")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode))?;
    if check {
        let out = std::process::Command::new("perl")
            .args(["-e", "require $ARGV[0]"])
            .arg(tmp.path())
            .output()
            .context("cannot run perl")?;
        if !out.status.success() {
            bail!(
                "perl cannot load {} with the node API registered, so it was left unchanged: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
    }
    tmp.persist(path)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

pub fn run(cmd: IntegrationCommand) -> Outcome {
    let refused = |e: anyhow::Error| Failure {
        code: exit::INVALID,
        error: e,
    };
    match cmd {
        IntegrationCommand::Install { nodes_pm } => {
            if !nodes_pm.is_file() {
                println!(
                    "{} not found: not a Proxmox VE node, nothing to do",
                    nodes_pm.display()
                );
                return Ok(ExitCode::SUCCESS);
            }
            let text = read(&nodes_pm)?;
            let new = insert(&text).map_err(refused)?;
            if new == text {
                println!("the node API is registered already");
                return Ok(ExitCode::SUCCESS);
            }
            replace(&nodes_pm, &new, true).map_err(refused)?;
            tracing::info!(
                event = "pve-integration",
                action = "install",
                "node API registered in {}",
                nodes_pm.display()
            );
            println!(
                "registered /nodes/{{node}}/smbgateway in {}; restart pvedaemon and pveproxy to load it",
                nodes_pm.display()
            );
        }
        IntegrationCommand::Remove { nodes_pm } => {
            if !nodes_pm.is_file() {
                return Ok(ExitCode::SUCCESS);
            }
            let text = read(&nodes_pm)?;
            let new = remove(&text).map_err(refused)?;
            if new != text {
                replace(&nodes_pm, &new, false)?;
                tracing::info!(
                    event = "pve-integration",
                    action = "remove",
                    "node API unregistered from {}",
                    nodes_pm.display()
                );
                println!(
                    "removed the node API registration from {}",
                    nodes_pm.display()
                );
            }
        }
        IntegrationCommand::Status { nodes_pm } => {
            let installed =
                nodes_pm.is_file() && find_block(&read(&nodes_pm)?).map_err(refused)?.is_some();
            println!(
                "{}",
                if installed {
                    "installed"
                } else {
                    "not installed"
                }
            );
            if !installed {
                return Ok(ExitCode::from(exit::NOT_SERVED));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODES: &str = "package PVE::API2::Nodes::Nodeinfo;\n\nuse strict;\n\n__PACKAGE__->register_method ({\n    subclass => \"PVE::API2::Qemu\",\n    path => 'qemu',\n});\n\npackage PVE::API2::Nodes;\n1;\n";

    #[test]
    fn insert_is_idempotent_and_remove_restores_the_bytes() {
        let once = insert(NODES).unwrap();
        assert!(once.contains(&format!("use strict;\n\n{}__PACKAGE__->register_method ({{\n    subclass => \"PVE::API2::Qemu\"", block())), "{once}");
        assert_eq!(insert(&once).unwrap(), once);
        assert_eq!(remove(&once).unwrap(), NODES);
        assert_eq!(remove(NODES).unwrap(), NODES);
    }

    #[test]
    fn unknown_shapes_are_refused() {
        let e = insert("package Other;\n1;\n").unwrap_err().to_string();
        assert!(e.contains("shape pve-smbgateway does not know"), "{e}");
        let e = insert("package PVE::API2::Nodes::Nodeinfo;\n1;\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("register_method"), "{e}");
        let broken = format!("{BEGIN}\nuse X;\n");
        assert!(remove(&broken)
            .unwrap_err()
            .to_string()
            .contains("no END line"));
        assert!(remove(&format!("x\n{END}\n"))
            .unwrap_err()
            .to_string()
            .contains("without its BEGIN"));
    }
}
