//! `pve-smbgateway pve-integration install|remove|status`: the managed,
//! reversible changes to two pve-manager files:
//!
//! * the registration of the node API module (`PVE::API2::SMBGateway`,
//!   `/api2/json/nodes/{node}/smbgateway`) in `PVE/API2/Nodes.pm`;
//! * one `<script>` tag for the web UI code (`/pve2/js/pve-smbgateway.js`,
//!   installed as /usr/share/pve-manager/js/pve-smbgateway.js) in
//!   `/usr/share/pve-manager/index.html.tpl`, the page template pveproxy
//!   renders, on its own line right after the `pvemanagerlib.js` line and
//!   marked `data-managed-by="pve-smbgateway"`. Proxmox VE has no hook for
//!   third-party UI code either (this is the pattern other storage plugins
//!   with a UI use). The tag carries the package version (`?ver=`) so that
//!   browsers load a new file after an upgrade.
//!
//! Each file is handled on its own: install, remove and status skip a file
//! that does not exist, and a file of unknown shape is refused (and left
//! alone) without keeping the other from being handled.
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

/// Default location of pve-manager's page template.
pub const INDEX_TPL: &str = "/usr/share/pve-manager/index.html.tpl";

/// What marks our script tag in the template.
const SCRIPT_MARK: &str = "data-managed-by=\"pve-smbgateway\"";

/// The line of the template ours follows.
const SCRIPT_ANCHOR: &str = "src=\"/pve2/js/pvemanagerlib.js";

/// The script tag (without indentation and newline).
pub fn script_tag() -> String {
    format!(
        "<script type=\"text/javascript\" src=\"/pve2/js/pve-smbgateway.js?ver={}\" {SCRIPT_MARK}></script>",
        env!("CARGO_PKG_VERSION")
    )
}

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

/// The pve-manager files `pve-integration` changes.
#[derive(Debug, clap::Args)]
pub struct Files {
    /// pve-manager's Nodes.pm.
    #[arg(long, default_value = NODES_PM)]
    nodes_pm: PathBuf,
    /// pve-manager's page template.
    #[arg(long, default_value = INDEX_TPL)]
    index_tpl: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum IntegrationCommand {
    /// Register the node API (/nodes/{node}/smbgateway) and load the web UI
    /// code (the SMB Gateway storage wizard) in pve-manager.
    Install {
        #[command(flatten)]
        files: Files,
    },
    /// Take both out again (the files as pve-manager shipped them).
    Remove {
        #[command(flatten)]
        files: Files,
    },
    /// Whether both are in place.
    Status {
        #[command(flatten)]
        files: Files,
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

/// The byte range of the line holding our script tag, if any.
fn find_script(text: &str) -> Result<Option<(usize, usize)>> {
    let mut found = None;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let range = (at, at + line.len());
        at += line.len();
        if line.contains(SCRIPT_MARK) {
            if found.is_some() {
                bail!("the page template has more than one script tag marked {SCRIPT_MARK}; remove them by hand");
            }
            if !line.ends_with('\n') {
                bail!("the pve-smbgateway script tag is the template's last line, which pve-smbgateway never writes; remove it by hand");
            }
            found = Some(range);
        } else if line.contains("pve-smbgateway.js") {
            bail!("the page template loads pve-smbgateway.js without the {SCRIPT_MARK} mark, so it was not added by pve-smbgateway; remove that line by hand");
        }
    }
    Ok(found)
}

/// The template with our script tag after the pvemanagerlib.js line (or
/// with it replaced, e.g. by a newer version's).
pub fn insert_script(text: &str) -> Result<String> {
    let base = remove_script(text)?;
    const SHAPE: &str = "this pve-manager's index.html.tpl has a shape pve-smbgateway does not know, so the web UI code is not loaded";
    let mut anchors = Vec::new();
    let mut at = 0;
    for line in base.split_inclusive('\n') {
        if line.contains(SCRIPT_ANCHOR) && line.trim_start().starts_with("<script") {
            anchors.push((at, line));
        }
        at += line.len();
    }
    let [(start, line)] = anchors[..] else {
        bail!(
            "{} `<script ... src=\"/pve2/js/pvemanagerlib.js...` lines instead of one: {SHAPE}",
            anchors.len()
        );
    };
    if !line.ends_with('\n') {
        bail!("the pvemanagerlib.js line is the last line: {SHAPE}");
    }
    let indent = &line[..line.len() - line.trim_start().len()];
    let end = start + line.len();
    let eol = if line.ends_with("\r\n") { "\r\n" } else { "\n" };
    Ok(format!(
        "{}{indent}{}{eol}{}",
        &base[..end],
        script_tag(),
        &base[end..]
    ))
}

/// The template without our script tag's line.
pub fn remove_script(text: &str) -> Result<String> {
    Ok(match find_script(text)? {
        Some((a, b)) => format!("{}{}", &text[..a], &text[b..]),
        None => text.to_owned(),
    })
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Replaces `path` with `text` (same mode), after Perl loads it when
/// `check` is set.
fn replace(path: &Path, text: &str, check: bool) -> Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::PermissionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mode = std::fs::metadata(path)?.permissions().mode();
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy());
    let suffix = path
        .extension()
        .map_or_else(String::new, |e| format!(".{}", e.to_string_lossy()));
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.smbgw-"))
        .suffix(&suffix)
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

/// One of the two changes `pve-integration` makes.
#[derive(Clone, Copy)]
enum Part {
    /// The node API block in Nodes.pm.
    NodeApi,
    /// The script tag in index.html.tpl.
    WebUi,
}

impl Part {
    fn path(self, files: &Files) -> &Path {
        match self {
            Part::NodeApi => &files.nodes_pm,
            Part::WebUi => &files.index_tpl,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Part::NodeApi => "node API",
            Part::WebUi => "web UI",
        }
    }

    fn insert(self, text: &str) -> Result<String> {
        match self {
            Part::NodeApi => insert(text),
            Part::WebUi => insert_script(text),
        }
    }

    fn remove(self, text: &str) -> Result<String> {
        match self {
            Part::NodeApi => remove(text),
            Part::WebUi => remove_script(text),
        }
    }

    fn installed(self, text: &str) -> Result<bool> {
        Ok(match self {
            Part::NodeApi => find_block(text)?.is_some(),
            Part::WebUi => find_script(text)?.is_some(),
        })
    }

    fn install(self, path: &Path) -> Result<()> {
        let text = read(path)?;
        let new = self.insert(&text)?;
        if new == text {
            println!("{}: in place already ({})", self.name(), path.display());
            return Ok(());
        }
        // Perl loads Nodes.pm before it replaces the original; the template
        // is only text to pveproxy (and its change is one line).
        replace(path, &new, matches!(self, Part::NodeApi))?;
        tracing::info!(
            event = "pve-integration",
            action = "install",
            "{} added to {}",
            self.name(),
            path.display()
        );
        match self {
            Part::NodeApi => println!(
                "node API: registered /nodes/{{node}}/smbgateway in {}; restart pvedaemon and pveproxy to load it",
                path.display()
            ),
            Part::WebUi => println!(
                "web UI: {} loads /pve2/js/pve-smbgateway.js; reload the web UI in the browser",
                path.display()
            ),
        }
        Ok(())
    }

    fn uninstall(self, path: &Path) -> Result<()> {
        let text = read(path)?;
        let new = self.remove(&text)?;
        if new != text {
            replace(path, &new, false)?;
            tracing::info!(
                event = "pve-integration",
                action = "remove",
                "{} removed from {}",
                self.name(),
                path.display()
            );
            println!("{}: removed from {}", self.name(), path.display());
        }
        Ok(())
    }
}

const PARTS: [Part; 2] = [Part::NodeApi, Part::WebUi];

pub fn run(cmd: IntegrationCommand) -> Outcome {
    type Action = fn(Part, &Path) -> Result<()>;
    let (files, act): (Files, Action) = match cmd {
        IntegrationCommand::Install { files } => {
            if PARTS.iter().all(|p| !p.path(&files).is_file()) {
                println!(
                    "{} and {} not found: not a Proxmox VE node, nothing to do",
                    files.nodes_pm.display(),
                    files.index_tpl.display()
                );
                return Ok(ExitCode::SUCCESS);
            }
            (files, Part::install)
        }
        IntegrationCommand::Remove { files } => (files, Part::uninstall),
        IntegrationCommand::Status { files } => return status(&files),
    };
    // Each file on its own: a refusal for one leaves the other handled.
    let mut errors = Vec::new();
    for part in PARTS {
        let path = part.path(&files);
        if !path.is_file() {
            println!("{}: {} not found, skipped", part.name(), path.display());
            continue;
        }
        if let Err(e) = act(part, path) {
            errors.push(e.context(format!("{} ({})", part.name(), path.display())));
        }
    }
    let last = errors.pop();
    for e in errors {
        eprintln!("pve-smbgateway: error: {e:#}");
    }
    match last {
        Some(error) => Err(Failure {
            code: exit::INVALID,
            error,
        }),
        None => Ok(ExitCode::SUCCESS),
    }
}

/// Prints each part's state; succeeds when every file present has its part.
fn status(files: &Files) -> Outcome {
    let mut all = true;
    let mut any = false;
    for part in PARTS {
        let path = part.path(files);
        let state = if path.is_file() {
            any = true;
            let installed = part.installed(&read(path)?).map_err(|error| Failure {
                code: exit::INVALID,
                error,
            })?;
            all &= installed;
            if installed {
                "installed"
            } else {
                "not installed"
            }
        } else {
            "file not found"
        };
        println!("{}: {state} ({})", part.name(), path.display());
    }
    if !(all && any) {
        return Ok(ExitCode::from(exit::NOT_SERVED));
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

    /// A fixture shaped like pve-manager's index.html.tpl.
    const TPL: &str = include_str!("../tests/fixtures/pve-manager/index.html.tpl");

    #[test]
    fn script_tag_is_one_line_after_pvemanagerlib_and_removal_restores_the_bytes() {
        let once = insert_script(TPL).unwrap();
        let tag = script_tag();
        assert_eq!(once.matches("pve-smbgateway.js").count(), 1, "{once}");
        assert_eq!(once.matches(SCRIPT_MARK).count(), 1, "{once}");
        assert!(
            once.contains(&format!(
                "pvemanagerlib.js?ver=[% version %]\"></script>\n    {tag}\n    <script type=\"text/javascript\" src=\"/pve2/ext6/locale/"
            )),
            "{once}"
        );
        assert_eq!(once.len(), TPL.len() + 4 + tag.len() + 1);
        // Nothing else changed: the lines are the template's plus ours.
        let ours: Vec<&str> = once.lines().filter(|l| !l.contains(SCRIPT_MARK)).collect();
        assert_eq!(ours, TPL.lines().collect::<Vec<_>>());
        // Re-applied (the dpkg trigger, a second postinst): no duplicate.
        assert_eq!(insert_script(&once).unwrap(), once);
        // Removed: byte for byte what pve-manager shipped.
        assert_eq!(remove_script(&once).unwrap(), TPL);
        assert_eq!(remove_script(TPL).unwrap(), TPL);
        // An older version's tag is replaced, not duplicated.
        let old = once.replace(env!("CARGO_PKG_VERSION"), "0.0.1");
        assert_ne!(old, once);
        assert_eq!(insert_script(&old).unwrap(), once);
        // CRLF templates keep their line ends.
        let crlf = TPL.replace('\n', "\r\n");
        let crlf_once = insert_script(&crlf).unwrap();
        assert!(crlf_once.contains(&format!("    {tag}\r\n")));
        assert_eq!(remove_script(&crlf_once).unwrap(), crlf);
    }

    #[test]
    fn unknown_template_shapes_are_refused() {
        let shape = |t: &str| insert_script(t).unwrap_err().to_string();
        assert!(shape("<html></html>\n").contains("0 `<script"));
        let anchor = "    <script type=\"text/javascript\" src=\"/pve2/js/pvemanagerlib.js?ver=1\"></script>\n";
        assert!(shape(&format!("{anchor}{anchor}")).contains("2 `<script"));
        assert!(shape(anchor.trim_end()).contains("last line"));
        // A tag someone else added for our file is left to them.
        let foreign = format!("{anchor}<script src=\"/pve2/js/pve-smbgateway.js\"></script>\n");
        assert!(shape(&foreign).contains("without the data-managed-by"));
        assert!(remove_script(&foreign).is_err());
        let ours = insert_script(anchor).unwrap();
        let twice = format!("{ours}{}", ours.lines().nth(1).unwrap());
        assert!(remove_script(&format!("{twice}\n"))
            .unwrap_err()
            .to_string()
            .contains("more than one"));
    }
}
