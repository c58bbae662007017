//! `pve-smbgateway conf ...`: inspect and edit smb.conf files.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};
use clap::Subcommand;
use smbconf::{CanonicalOptions, Config, Document, Loader, Severity};

#[derive(Debug, Subcommand)]
pub enum ConfCommand {
    /// Report errors and warnings as Samba would; exit status 1 on errors.
    Lint {
        /// The smb.conf file.
        file: PathBuf,
    },
    /// Print the canonical form (what `testparm -s` prints).
    Canonical {
        /// The smb.conf file.
        file: PathBuf,
    },
    /// Set a parameter in place; nothing else in the file changes.
    Set {
        /// The smb.conf file.
        file: PathBuf,
        /// Section name (`global` for the global section).
        section: String,
        /// Parameter name.
        param: String,
        /// New value.
        value: String,
    },
    /// Remove a parameter in place; nothing else in the file changes.
    Unset {
        /// The smb.conf file.
        file: PathBuf,
        /// Section name (`global` for the global section).
        section: String,
        /// Parameter name.
        param: String,
    },
}

/// Includes are read like smbd reads them: relative to the working
/// directory, unreadable files skipped.
struct FsLoader;

impl Loader for FsLoader {
    fn load(&self, path: &str) -> Option<String> {
        std::fs::read_to_string(path).ok()
    }
}

fn read(file: &Path) -> Result<String> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    match String::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(e) => bail!(
            "{} is not valid UTF-8 (first bad byte at offset {}); convert it to UTF-8 first",
            file.display(),
            e.utf8_error().valid_up_to()
        ),
    }
}

/// Replace `file` atomically, keeping its permissions.
fn write_atomic(file: &Path, text: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(file).map_or(0o644, |m| m.permissions().mode() & 0o7777);
    Ok(provision::write_atomic(file, text.as_bytes(), mode)?)
}

fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
}

pub fn run(cmd: ConfCommand) -> Result<ExitCode> {
    match cmd {
        ConfCommand::Lint { file } => {
            let text = read(&file)?;
            let cfg = Config::load(&text, None, &FsLoader);
            let name = file.display().to_string();
            let mut stderr = std::io::stderr().lock();
            for d in cfg.diagnostics() {
                let rendered = match &d.file {
                    Some(inc) => d.render(&std::fs::read_to_string(inc).unwrap_or_default(), &name),
                    None => d.render(&text, &name),
                };
                writeln!(stderr, "{rendered}")?;
            }
            let errors = cfg
                .diagnostics()
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count();
            let warnings = cfg.diagnostics().len() - errors;
            writeln!(stderr, "{name}: {errors} error(s), {warnings} warning(s)")?;
            Ok(if errors > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        ConfCommand::Canonical { file } => {
            let text = read(&file)?;
            let cfg = Config::load(&text, None, &FsLoader);
            if cfg.has_errors() {
                for d in cfg.diagnostics().iter().filter(|d| d.is_error()) {
                    eprintln!("{}", d.render(&text, &file.display().to_string()));
                }
                bail!(
                    "{} has errors; Samba would refuse to load it",
                    file.display()
                );
            }
            let opts = CanonicalOptions {
                hostname: hostname(),
            };
            cfg.write_canonical(&opts, &mut std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        ConfCommand::Set {
            file,
            section,
            param,
            value,
        } => {
            let text = read(&file)?;
            let (mut doc, _) = Document::parse(&text);
            doc.set(&section, &param, &value)?;
            write_atomic(&file, &doc.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
        ConfCommand::Unset {
            file,
            section,
            param,
        } => {
            let text = read(&file)?;
            let (mut doc, _) = Document::parse(&text);
            if doc.unset(&section, &param) == 0 {
                bail!("`{param}` is not set in [{section}] of {}", file.display());
            }
            write_atomic(&file, &doc.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
