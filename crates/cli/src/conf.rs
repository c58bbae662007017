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

/// Replace `file` atomically: write a temporary file beside it with the
/// same permissions, fsync, rename over the original, fsync the directory.
fn write_atomic(file: &Path, text: &str) -> Result<()> {
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = file
        .file_name()
        .context("file has no name")?
        .to_string_lossy();
    let tmp = dir.join(format!(".{name}.smbgw-{}", std::process::id()));
    let result = (|| -> Result<()> {
        let mut f = std::fs::File::create(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        if let Ok(meta) = std::fs::metadata(file) {
            f.set_permissions(meta.permissions())?;
        }
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, file)
            .with_context(|| format!("cannot replace {}", file.display()))?;
        std::fs::File::open(dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
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
