//! The share spec: what an administrator asks for, and its validation.
//!
//! Every piece has a validating constructor or [`FromStr`] so that a
//! frontend can build a spec from strings, and [`ShareSpec::validate`]
//! checks the whole spec (including cross-field rules) before anything
//! changes. Values end up in smb.conf, in argv of storage tools and in the
//! registry file, so the rules are strict: they reject anything that could
//! inject a line, a section or a Samba macro (`%U`), or that would not
//! round-trip through the registry.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use backends::{Quota, VolumeName};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

fn invalid<T>(field: &'static str, value: &str, reason: impl Into<String>) -> Result<T> {
    Err(Error::Invalid {
        field,
        value: value.to_owned(),
        reason: reason.into(),
    })
}

/// Whitespace as Samba's `strwicmp` and Perl's `\s` see it (ASCII only).
pub(crate) fn is_ascii_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

// ---------------------------------------------------------------------------
// ShareId

/// Shortest share id: Proxmox's `PVE::JSONSchema::parse_id` (pve-common),
/// which `pve-storage-id` uses, refuses ids "shorter than 2 characters".
pub const SHARE_ID_MIN: usize = 2;

/// Longest share id. Proxmox sets no maximum for storage ids (pve-common's
/// `parse_id` only checks the pattern and the minimum; pve-storage's schema
/// adds no `maxLength`), and SMB share names may be up to 80 characters
/// (`NNLEN`). We use 64, the limit of [`VolumeName`], so that the id can
/// always name the share's volume too.
pub const SHARE_ID_MAX: usize = 64;

const SHARE_ID_RULE: &str = "a share id is 2 to 64 characters from lowercase letters, digits, `-`, `_` and `.`, starting with a letter and ending with a letter or digit";

/// Names Samba gives a special meaning to, with that meaning. Samba compares
/// section names with `strwicmp`, ignoring case and whitespace.
const RESERVED_SHARE_IDS: [(&str, &str); 6] = [
    ("global", "its global settings section"),
    ("globals", "its global settings section"),
    ("homes", "the automatic home-directory share"),
    ("printers", "the automatic printer shares"),
    ("print$", "the printer-driver share"),
    ("ipc$", "the inter-process communication share"),
];

/// A share's id: its name in smb.conf and, on Proxmox, its storage id.
///
/// Follows Proxmox's storage-id rule, `^[a-z][a-z0-9\-_.]*[a-z0-9]$`
/// (pve-common `PVE::JSONSchema::parse_id`), with two differences: Proxmox
/// matches that pattern case-insensitively, but we require lowercase —
/// Samba compares share names case-insensitively while Proxmox storage ids
/// are case-sensitive, so `Team` and `team` could coexist as storages but
/// would collide as shares — and we cap the length at [`SHARE_ID_MAX`].
/// Samba's special names (`global`, `globals`, `homes`, `printers`,
/// `print$`, `ipc$`, case and whitespace ignored) are refused.
///
/// ```
/// use smbgw_core::spec::ShareId;
/// assert_eq!("team-data".parse::<ShareId>().unwrap().as_str(), "team-data");
/// assert!("a]b".parse::<ShareId>().is_err());
/// assert!(" Global ".parse::<ShareId>().unwrap_err().to_string().contains("reserved"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ShareId(String);

impl ShareId {
    /// Validates `id`.
    pub fn new(id: &str) -> Result<ShareId> {
        check_share_id(id)?;
        Ok(ShareId(id.to_owned()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn check_share_id(id: &str) -> Result<()> {
    const F: &str = "share id";
    if id.is_empty() {
        return invalid(F, id, format!("it is empty; {SHARE_ID_RULE}"));
    }
    let squashed: String = id
        .chars()
        .filter(|&c| !is_ascii_ws(c))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if let Some(&(reserved, meaning)) = RESERVED_SHARE_IDS.iter().find(|(r, _)| *r == squashed) {
        return Err(Error::ReservedShareId {
            value: id.to_owned(),
            reserved,
            meaning,
        });
    }
    for c in id.chars() {
        let reason = match c {
            'a'..='z' | '0'..='9' | '-' | '_' | '.' => continue,
            '\n' | '\r' => "it contains a line break, which would start a new line in smb.conf and in the registry".to_owned(),
            '[' | ']' => format!("it contains `{c}`, which delimits section names in smb.conf"),
            '%' => "it contains `%`, which Samba expands as a macro (`%U`, `%m`, ...)".to_owned(),
            '/' | '\\' => format!("it contains the path separator `{c}`"),
            c if c.is_control() => format!("it contains the control character {c:?}"),
            c if c.is_whitespace() => "it contains whitespace".to_owned(),
            c if !c.is_ascii() => format!("it contains the non-ASCII character {c:?}"),
            'A'..='Z' => {
                return invalid(
                    F,
                    id,
                    format!(
                        "upper-case letters are not allowed: Samba compares share names case-insensitively while Proxmox storage ids are case-sensitive, so only lowercase ids avoid collisions; write {:?}",
                        id.to_ascii_lowercase()
                    ),
                )
            }
            c => format!("it contains {c:?}"),
        };
        return invalid(F, id, format!("{reason}; {SHARE_ID_RULE}"));
    }
    if id.len() < SHARE_ID_MIN {
        return invalid(
            F,
            id,
            format!("it is shorter than {SHARE_ID_MIN} characters (the Proxmox storage-id minimum); {SHARE_ID_RULE}"),
        );
    }
    if id.len() > SHARE_ID_MAX {
        return invalid(
            F,
            id,
            format!("it is longer than {SHARE_ID_MAX} characters; {SHARE_ID_RULE}"),
        );
    }
    if !id.starts_with(|c: char| c.is_ascii_lowercase()) {
        return invalid(
            F,
            id,
            format!("it must start with a letter; {SHARE_ID_RULE}"),
        );
    }
    if !id.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit()) {
        return invalid(
            F,
            id,
            format!("it must end with a letter or digit; {SHARE_ID_RULE}"),
        );
    }
    Ok(())
}

impl fmt::Display for ShareId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ShareId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for ShareId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        ShareId::new(s)
    }
}

impl TryFrom<String> for ShareId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        check_share_id(&s)?;
        Ok(ShareId(s))
    }
}

impl From<ShareId> for String {
    fn from(id: ShareId) -> String {
        id.0
    }
}

// ---------------------------------------------------------------------------
// Small enums

/// Where Samba runs for a share.
///
/// The product default is [`Mode::Lxc`]; [`Mode::Vm`] is not implemented
/// yet (see [`Mode::is_implemented`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Samba on the Proxmox host itself.
    Native,
    /// Samba in a dedicated LXC container (the default).
    #[default]
    Lxc,
    /// Samba in a small VM.
    Vm,
}

impl Mode {
    /// Every mode.
    pub const ALL: &'static [Mode] = &[Mode::Native, Mode::Lxc, Mode::Vm];

    /// `native`, `lxc` or `vm`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Native => "native",
            Mode::Lxc => "lxc",
            Mode::Vm => "vm",
        }
    }

    /// Whether shares in this mode can be created yet (`native` and
    /// `lxc`).
    pub fn is_implemented(self) -> bool {
        matches!(self, Mode::Native | Mode::Lxc)
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Mode::ALL
            .iter()
            .copied()
            .find(|m| m.as_str() == s)
            .map_or_else(
                || invalid("mode", s, "use `native`, `lxc` or `vm` (lowercase)"),
                Ok,
            )
    }
}

/// SMB signing policy (Samba's `server signing`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Signing {
    /// Never sign (`disabled`).
    Off,
    /// Sign when the client asks; the default.
    #[default]
    Auto,
    /// Refuse unsigned sessions (`mandatory`).
    Required,
}

impl Signing {
    /// Every policy.
    pub const ALL: &'static [Signing] = &[Signing::Off, Signing::Auto, Signing::Required];

    /// `off`, `auto` or `required`.
    pub fn as_str(self) -> &'static str {
        match self {
            Signing::Off => "off",
            Signing::Auto => "auto",
            Signing::Required => "required",
        }
    }
}

impl fmt::Display for Signing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Signing {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Signing::ALL
            .iter()
            .copied()
            .find(|m| m.as_str() == s)
            .map_or_else(
                || invalid("signing", s, "use `off`, `auto` or `required` (lowercase)"),
                Ok,
            )
    }
}

/// SMB3 encryption policy (Samba's `smb encrypt` / `server smb encrypt`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encryption {
    /// Never encrypt.
    Off,
    /// Encrypt when the client asks for it (Samba's `if_required`, also
    /// its default); the default. Clients that do not ask (Windows by
    /// default) get signed, unencrypted SMB3, at full speed.
    #[default]
    Auto,
    /// Encrypt whenever the client supports it (costs CPU on both ends:
    /// see BENCHMARKS.md).
    Desired,
    /// Refuse clients that cannot encrypt.
    Required,
}

impl Encryption {
    /// Every policy.
    pub const ALL: &'static [Encryption] = &[
        Encryption::Off,
        Encryption::Auto,
        Encryption::Desired,
        Encryption::Required,
    ];

    /// `off`, `auto`, `desired` or `required`.
    pub fn as_str(self) -> &'static str {
        match self {
            Encryption::Off => "off",
            Encryption::Auto => "auto",
            Encryption::Desired => "desired",
            Encryption::Required => "required",
        }
    }
}

impl fmt::Display for Encryption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Encryption {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Encryption::ALL
            .iter()
            .copied()
            .find(|m| m.as_str() == s)
            .map_or_else(
                || {
                    invalid(
                        "encryption",
                        s,
                        "use `off`, `auto`, `desired` or `required` (lowercase)",
                    )
                },
                Ok,
            )
    }
}

// ---------------------------------------------------------------------------
// Backend

/// Where a share's volume lives.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum BackendSpec {
    /// A directory under `root` (quota advisory only).
    Dir {
        /// Absolute, normalized directory under which volumes are created.
        root: PathBuf,
    },
    /// A ZFS dataset under `parent`.
    Zfs {
        /// Parent dataset, e.g. `rpool/shares`.
        parent: String,
    },
    /// A CephFS subvolume, served under the host's CephFS mount.
    CephFs {
        /// The CephFS filesystem name.
        fs: String,
        /// The subvolume group; `None` for the default group.
        group: Option<String>,
        /// Where the filesystem's root is mounted on this host; `None` for
        /// [`BackendSpec::default_cephfs_mount`] (`/mnt/pve/<fs>`).
        #[serde(default)]
        mount: Option<PathBuf>,
        /// How the Ceph tools reach the cluster.
        #[serde(default)]
        ceph: CephClientSpec,
    },
    /// An RBD image with XFS, mapped and mounted on this host.
    Rbd {
        /// The RBD pool.
        pool: String,
        /// Where the images are mounted (`<base>/<volume>`); `None` for
        /// [`RBD_MOUNT_BASE`].
        #[serde(default)]
        mount_base: Option<PathBuf>,
        /// How an image becomes a block device.
        #[serde(default)]
        map: RbdMap,
        /// How the Ceph tools reach the cluster.
        #[serde(default)]
        ceph: CephClientSpec,
    },
}

/// Where Proxmox mounts CephFS storages: `/mnt/pve/<storage>`.
pub const PVE_MOUNT_ROOT: &str = "/mnt/pve";

/// Where RBD images are mounted unless a spec says otherwise.
pub const RBD_MOUNT_BASE: &str = "/var/lib/pve-smbgateway/rbd";

/// How the Ceph tools (`ceph`, `rbd`, `rbd-fuse`) reach the cluster. The
/// defaults are a Proxmox node's: `/etc/ceph/ceph.conf` (a link to
/// `/etc/pve/ceph.conf` on a hyper-converged cluster) and `client.admin`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CephClientSpec {
    /// The cluster configuration file (`--conf`); `None` for the tools'
    /// default.
    #[serde(default)]
    pub conf: Option<PathBuf>,
    /// The cephx user without `client.` (`--id`); `None` for `admin`.
    #[serde(default)]
    pub id: Option<String>,
}

impl CephClientSpec {
    /// Checks the fields: an absolute normalized path and a cephx id.
    pub fn validate(&self) -> Result<()> {
        if let Some(c) = &self.conf {
            check_abs_path("ceph conf", c)?;
        }
        if let Some(id) = &self.id {
            check_ceph_id(id)?;
        }
        Ok(())
    }
}

/// How an RBD image becomes a block device on the host.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RbdMap {
    /// The kernel RBD client (`rbd map`), as Proxmox uses for RBD storages
    /// with `krbd 1` (the default).
    #[default]
    Krbd,
    /// `rbd-fuse` exposes the image as a file, attached to a loop device:
    /// for hosts without the kernel client (containers, tests).
    Fuse,
}

impl RbdMap {
    /// Every mapping.
    pub const ALL: &'static [RbdMap] = &[RbdMap::Krbd, RbdMap::Fuse];

    /// `krbd` or `fuse`.
    pub fn as_str(self) -> &'static str {
        match self {
            RbdMap::Krbd => "krbd",
            RbdMap::Fuse => "fuse",
        }
    }
}

impl fmt::Display for RbdMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RbdMap {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        RbdMap::ALL
            .iter()
            .copied()
            .find(|m| m.as_str() == s)
            .map_or_else(
                || invalid("rbd map", s, "use `krbd` or `fuse` (lowercase)"),
                Ok,
            )
    }
}

/// System directories a share root must not be under, with why.
const FORBIDDEN_ROOTS: [(&str, &str); 7] = [
    ("/proc", "kernel process information (a virtual filesystem)"),
    (
        "/sys",
        "kernel and device interfaces (a virtual filesystem)",
    ),
    ("/dev", "device nodes"),
    ("/run", "volatile runtime state that is lost at reboot"),
    ("/etc", "system configuration"),
    ("/boot", "kernels and the boot loader"),
    ("/usr", "system software managed by the package manager"),
];

/// Longest ZFS dataset name (`ZFS_MAX_DATASET_NAME_LEN` is 256 with the NUL).
pub const ZFS_NAME_MAX: usize = 255;

impl BackendSpec {
    /// A validated [`BackendSpec::Dir`].
    pub fn dir(root: impl Into<PathBuf>) -> Result<BackendSpec> {
        let root = root.into();
        check_dir_root(&root)?;
        Ok(BackendSpec::Dir { root })
    }

    /// A validated [`BackendSpec::Zfs`].
    pub fn zfs(parent: &str) -> Result<BackendSpec> {
        check_zfs_parent(parent)?;
        Ok(BackendSpec::Zfs {
            parent: parent.to_owned(),
        })
    }

    /// A validated [`BackendSpec::CephFs`] mounted where Proxmox mounts it
    /// ([`BackendSpec::default_cephfs_mount`]), reached with the default
    /// Ceph client settings.
    pub fn cephfs(fs: &str, group: Option<&str>) -> Result<BackendSpec> {
        let spec = BackendSpec::CephFs {
            fs: fs.to_owned(),
            group: group.map(str::to_owned),
            mount: None,
            ceph: CephClientSpec::default(),
        };
        spec.validate()?;
        Ok(spec)
    }

    /// A validated [`BackendSpec::Rbd`] with images mounted under
    /// [`RBD_MOUNT_BASE`], mapped by krbd, with the default Ceph client
    /// settings.
    pub fn rbd(pool: &str) -> Result<BackendSpec> {
        let spec = BackendSpec::Rbd {
            pool: pool.to_owned(),
            mount_base: None,
            map: RbdMap::default(),
            ceph: CephClientSpec::default(),
        };
        spec.validate()?;
        Ok(spec)
    }

    /// Where Proxmox mounts the CephFS `fs` when its storage id is the
    /// filesystem's name (as `pveceph fs create --add-storage` makes it):
    /// `/mnt/pve/<fs>`.
    pub fn default_cephfs_mount(fs: &str) -> PathBuf {
        Path::new(PVE_MOUNT_ROOT).join(fs)
    }

    /// The host directory the backend's volumes live under: the directory
    /// root, the CephFS mount, or the RBD mount base (with defaults
    /// applied); `None` for ZFS (datasets have their own mount points).
    pub fn mount_dir(&self) -> Option<PathBuf> {
        match self {
            BackendSpec::Dir { root } => Some(root.clone()),
            BackendSpec::Zfs { .. } => None,
            BackendSpec::CephFs { fs, mount, .. } => Some(
                mount
                    .clone()
                    .unwrap_or_else(|| Self::default_cephfs_mount(fs)),
            ),
            BackendSpec::Rbd { mount_base, .. } => Some(
                mount_base
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(RBD_MOUNT_BASE)),
            ),
        }
    }

    /// `dir`, `zfs`, `cephfs` or `rbd`.
    pub fn kind(&self) -> &'static str {
        match self {
            BackendSpec::Dir { .. } => "dir",
            BackendSpec::Zfs { .. } => "zfs",
            BackendSpec::CephFs { .. } => "cephfs",
            BackendSpec::Rbd { .. } => "rbd",
        }
    }

    /// Checks the fields (the constructors' rules).
    pub fn validate(&self) -> Result<()> {
        match self {
            BackendSpec::Dir { root } => check_dir_root(root),
            BackendSpec::Zfs { parent } => check_zfs_parent(parent),
            BackendSpec::CephFs {
                fs,
                group,
                mount,
                ceph,
            } => {
                check_ceph_name("cephfs filesystem", fs)?;
                if let Some(g) = group {
                    check_ceph_name("cephfs subvolume group", g)?;
                }
                if let Some(m) = mount {
                    check_data_dir("cephfs mount", m)?;
                }
                ceph.validate()
            }
            BackendSpec::Rbd {
                pool,
                mount_base,
                map: _,
                ceph,
            } => {
                check_ceph_name("rbd pool", pool)?;
                if let Some(m) = mount_base {
                    check_data_dir("rbd mount base", m)?;
                }
                ceph.validate()
            }
        }
    }
}

/// Shared checks for an absolute path that will be written to smb.conf and
/// the registry. `field` names it in errors.
pub(crate) fn check_abs_path(field: &'static str, path: &Path) -> Result<String> {
    let Some(s) = path.to_str() else {
        let lossy = path.to_string_lossy();
        return invalid(field, &lossy, "it is not valid UTF-8; use a UTF-8 path");
    };
    if s.is_empty() {
        return invalid(
            field,
            s,
            "it is empty; give an absolute path such as `/srv/shares`",
        );
    }
    for c in s.chars() {
        let reason = match c {
            '\n' | '\r' => "it contains a line break, which would start a new line in smb.conf and in the registry",
            '%' => "it contains `%`, which Samba expands as a macro (`%U`, `%m`, ...)",
            c if c.is_control() => "it contains a control character",
            _ => continue,
        };
        return invalid(field, s, reason);
    }
    if !s.starts_with('/') {
        return invalid(field, s, "it must be an absolute path (starting with `/`)");
    }
    if s.ends_with(is_ascii_ws) {
        return invalid(field, s, "it ends with whitespace; remove it");
    }
    if s.contains("//") {
        return invalid(field, s, "it contains `//`; write the path normalized");
    }
    if s.len() > 1 && s.ends_with('/') {
        return invalid(field, s, "it ends with `/`; write the path without it");
    }
    if s.split('/').any(|c| c == "." || c == "..") {
        return invalid(
            field,
            s,
            "it contains `.` or `..` components; write the normalized path",
        );
    }
    Ok(s.to_owned())
}

/// Checks a share's host path as stored in the registry state.
pub(crate) fn check_state_path(path: &Path) -> Result<()> {
    check_abs_path("path", path).map(drop)
}

fn check_dir_root(root: &Path) -> Result<()> {
    check_data_dir("directory root", root)
}

/// A host directory that holds volumes: absolute, normalized, not `/` and
/// not under a system directory.
pub(crate) fn check_data_dir(field: &'static str, root: &Path) -> Result<()> {
    let s = check_abs_path(field, root)?;
    if s == "/" {
        return invalid(
            field,
            &s,
            "the root directory cannot hold shares; choose a directory for data, e.g. under /srv",
        );
    }
    for (dir, what) in FORBIDDEN_ROOTS {
        if s == dir
            || s.strip_prefix(dir)
                .is_some_and(|rest| rest.starts_with('/'))
        {
            return invalid(
                field,
                &s,
                format!("it is under {dir}, which holds {what}; choose a directory for data, e.g. under /srv"),
            );
        }
    }
    Ok(())
}

fn check_zfs_parent(parent: &str) -> Result<()> {
    const F: &str = "zfs parent dataset";
    const RULE: &str = "a dataset name is `pool/component/...` with components of letters, digits, `_`, `.`, `:` and `-`";
    if parent.is_empty() {
        return invalid(
            F,
            parent,
            format!("it is empty; {RULE}, e.g. `rpool/shares`"),
        );
    }
    if parent.len() > ZFS_NAME_MAX {
        return invalid(
            F,
            parent,
            format!("it is longer than {ZFS_NAME_MAX} characters"),
        );
    }
    for c in parent.chars() {
        let reason = match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '_' | '.' | ':' | '-' | '/' => continue,
            '@' => "it names a snapshot (`@`); give a filesystem dataset such as `rpool/shares`"
                .to_owned(),
            '#' => "it names a bookmark (`#`); give a filesystem dataset such as `rpool/shares`"
                .to_owned(),
            '%' => {
                format!("it contains `%`, which ZFS reserves and Samba expands as a macro; {RULE}")
            }
            '\n' | '\r' => format!("it contains a line break; {RULE}"),
            c if c.is_control() => format!("it contains the control character {c:?}; {RULE}"),
            c => format!("it contains {c:?}; {RULE}"),
        };
        return invalid(F, parent, reason);
    }
    if parent.starts_with('-') {
        return invalid(
            F,
            parent,
            "it must not start with `-` (it would be read as an option)",
        );
    }
    if !parent.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return invalid(F, parent, "a pool name must start with a letter");
    }
    for comp in parent.split('/') {
        if comp.is_empty() {
            return invalid(
                F,
                parent,
                "it has an empty component (a leading, trailing or doubled `/`)",
            );
        }
        if comp == "." || comp == ".." {
            return invalid(F, parent, "`.` and `..` are not dataset names");
        }
    }
    Ok(())
}

pub(crate) fn check_ceph_name(field: &'static str, name: &str) -> Result<()> {
    const RULE: &str = "use letters, digits, `_`, `.` and `-`";
    if name.is_empty() {
        return invalid(field, name, format!("it is empty; {RULE}"));
    }
    if name.len() > 255 {
        return invalid(field, name, "it is longer than 255 characters");
    }
    if let Some(c) = name
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return invalid(field, name, format!("it contains {c:?}; {RULE}"));
    }
    if name.starts_with('-') {
        return invalid(
            field,
            name,
            "it must not start with `-` (it would be read as an option)",
        );
    }
    if name == "." || name == ".." {
        return invalid(field, name, "`.` and `..` are not names");
    }
    Ok(())
}

/// A cephx user name as `--id` takes it: without the `client.` prefix.
pub(crate) fn check_ceph_id(id: &str) -> Result<()> {
    const F: &str = "ceph id";
    if let Some(rest) = id.strip_prefix("client.") {
        return invalid(
            F,
            id,
            format!("give the cephx id without `client.` ({rest:?}); the Ceph tools add it"),
        );
    }
    check_ceph_name(F, id)
}

// ---------------------------------------------------------------------------
// Volume

/// The share's volume under the backend's parent.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VolumeRef {
    /// The volume's name (dataset component, directory name, subvolume, image).
    #[serde(with = "as_string")]
    pub name: VolumeName,
    /// Adopt an existing volume instead of creating one.
    pub existing: bool,
}

impl VolumeRef {
    /// A volume to create, validating `name`.
    pub fn new(name: &str) -> Result<VolumeRef> {
        Ok(VolumeRef {
            name: parse_volume_name(name)?,
            existing: false,
        })
    }
}

/// Parses a [`VolumeName`] into this crate's error.
pub fn parse_volume_name(name: &str) -> Result<VolumeName> {
    VolumeName::new(name).map_err(|e| match e {
        backends::Error::InvalidName { reason, .. } => Error::Invalid {
            field: "volume name",
            value: name.to_owned(),
            reason: reason.to_owned(),
        },
        other => Error::Invalid {
            field: "volume name",
            value: name.to_owned(),
            reason: other.to_string(),
        },
    })
}

/// Parses a [`Quota`] (binary units; see its docs) into this crate's error.
pub fn parse_quota(s: &str) -> Result<Quota> {
    Quota::parse(s).map_err(|problem| Error::InvalidQuota {
        value: s.to_owned(),
        problem,
    })
}

// ---------------------------------------------------------------------------
// Access, identity, security

/// Longest user or group name (`LOGIN_NAME_MAX`-style limit of useradd).
pub const NAME_MAX: usize = 32;

/// Checks a user (`group == false`) or group name against the portable
/// POSIX rule Debian's `useradd` applies by default:
/// `^[a-z_][a-z0-9_-]*\$?$`, at most 32 characters.
pub fn check_account_name(name: &str, group: bool) -> Result<()> {
    let field = if group { "group name" } else { "user name" };
    const RULE: &str = "names use lowercase letters, digits, `_` and `-`, start with a letter or `_`, may end with `$`, and have at most 32 characters";
    if name.is_empty() {
        return invalid(field, name, format!("it is empty; {RULE}"));
    }
    if group && name.starts_with('@') {
        return invalid(
            field,
            name,
            format!(
                "give the group without `@` ({:?}); the gateway adds the `@` where Samba needs it",
                &name[1..]
            ),
        );
    }
    let body = name.strip_suffix('$').unwrap_or(name);
    for c in body.chars() {
        let reason = match c {
            'a'..='z' | '0'..='9' | '_' | '-' => continue,
            'A'..='Z' => format!(
                "upper-case letters are not portable; write {:?}",
                name.to_ascii_lowercase()
            ),
            '\n' | '\r' => format!("it contains a line break; {RULE}"),
            '$' => format!("`$` is only allowed at the end; {RULE}"),
            c if c.is_control() => format!("it contains the control character {c:?}; {RULE}"),
            c if c.is_whitespace() => format!("it contains whitespace; {RULE}"),
            c => format!("it contains {c:?}; {RULE}"),
        };
        return invalid(field, name, reason);
    }
    if body.is_empty() || !body.starts_with(|c: char| c.is_ascii_lowercase() || c == '_') {
        return invalid(
            field,
            name,
            format!("it must start with a letter or `_`; {RULE}"),
        );
    }
    if name.len() > NAME_MAX {
        return invalid(
            field,
            name,
            format!("it is longer than {NAME_MAX} characters"),
        );
    }
    Ok(())
}

pub(crate) fn check_name_list(field: &'static str, names: &[String], group: bool) -> Result<()> {
    let mut seen = std::collections::HashSet::with_capacity(names.len());
    for n in names {
        check_account_name(n, group)?;
        if !seen.insert(n.as_str()) {
            return Err(Error::Duplicate {
                field,
                name: n.clone(),
            });
        }
    }
    Ok(())
}

/// Who may use the share.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Access {
    /// Users allowed to connect (Samba `valid users`).
    pub users: Vec<String>,
    /// Groups allowed to connect, without the `@` (added when emitting).
    pub groups: Vec<String>,
    /// Read-only share.
    pub read_only: bool,
}

impl Access {
    /// Validated access rules: POSIX-portable names, no duplicates.
    pub fn new(users: Vec<String>, groups: Vec<String>, read_only: bool) -> Result<Access> {
        let a = Access {
            users,
            groups,
            read_only,
        };
        a.validate()?;
        Ok(a)
    }

    /// Checks the names (see [`check_account_name`]) and duplicates.
    pub fn validate(&self) -> Result<()> {
        check_name_list("users", &self.users, false)?;
        check_name_list("groups", &self.groups, true)
    }

    /// Checks the names as domain accounts (see
    /// [`check_domain_account`]) and duplicates (AD compares names
    /// without regard to case).
    pub fn validate_domain(&self) -> Result<()> {
        for (field, names) in [("users", &self.users), ("groups", &self.groups)] {
            let mut seen = std::collections::HashSet::with_capacity(names.len());
            for n in names {
                check_domain_account(field, n)?;
                if !seen.insert(n.to_lowercase()) {
                    return Err(Error::Duplicate {
                        field,
                        name: n.clone(),
                    });
                }
            }
        }
        Ok(())
    }
}

/// Longest NetBIOS name (16 bytes, the last being the suffix type).
pub const NETBIOS_NAME_MAX: usize = 15;

/// How the share's server identifies itself and its users.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Identity {
    /// A standalone server in a workgroup (stored upper-case).
    Workgroup(String),
    /// A member of an Active Directory domain.
    Ad(AdSpec),
}

/// Membership of an Active Directory domain.
///
/// The join password is never part of the spec (it is not stored, not
/// journalled): it is read from stdin or a 0600 file when the join runs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AdSpec {
    /// The Kerberos realm, the DNS domain upper-cased
    /// (`CORP.EXAMPLE.COM`).
    pub realm: String,
    /// The domain's NetBIOS name (`CORP`); `None` until the join asks the
    /// domain controller.
    #[serde(default)]
    pub workgroup: Option<String>,
    /// The account that joins (and leaves) the domain.
    pub join_user: String,
    /// The OU for the computer account (`OU=Servers,OU=IT`), relative to
    /// the domain; `None` for the default `CN=Computers`.
    #[serde(default)]
    pub ou: Option<String>,
    /// The NetBIOS name (computer account) the gateway gives the share's
    /// own container (LXC mode; decided at create, then kept); `None`:
    /// the host's own name (native mode).
    #[serde(default)]
    pub netbios_name: Option<String>,
}

/// Longest DNS name.
pub const DNS_NAME_MAX: usize = 253;

impl AdSpec {
    /// A validated membership of the DNS domain `domain` (case as given;
    /// the realm is upper-cased), joined by `join_user`.
    pub fn new(domain: &str, join_user: &str, ou: Option<&str>) -> Result<AdSpec> {
        let a = AdSpec {
            realm: domain.to_ascii_uppercase(),
            workgroup: None,
            join_user: join_user.to_owned(),
            ou: ou.map(str::to_owned),
            netbios_name: None,
        };
        a.validate()?;
        Ok(a)
    }

    /// The DNS domain (the realm lower-cased).
    pub fn dns_domain(&self) -> String {
        self.realm.to_ascii_lowercase()
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        check_realm(&self.realm)?;
        if let Some(w) = &self.workgroup {
            check_workgroup(w)?;
        }
        check_domain_account("ad-user", &self.join_user)?;
        if let Some(ou) = &self.ou {
            check_ou(ou)?;
        }
        if let Some(n) = &self.netbios_name {
            check_workgroup(n)?;
        }
        Ok(())
    }
}

fn check_realm(realm: &str) -> Result<()> {
    const F: &str = "ad-domain";
    const RULE: &str = "an Active Directory domain is a DNS name of at least two labels (corp.example.com): letters, digits and `-`, labels of 1 to 63 characters not starting or ending with `-`";
    if realm.len() > DNS_NAME_MAX {
        return invalid(
            F,
            realm,
            format!("it is longer than {DNS_NAME_MAX} characters; {RULE}"),
        );
    }
    let labels: Vec<&str> = realm.split('.').collect();
    if labels.len() < 2 {
        return invalid(F, realm, format!("it has a single label; {RULE}"));
    }
    for l in &labels {
        let ok = !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !ok {
            return invalid(F, realm, format!("label {l:?} is not valid; {RULE}"));
        }
    }
    if labels
        .last()
        .is_some_and(|l| l.chars().all(|c| c.is_ascii_digit()))
    {
        return invalid(F, realm, format!("it looks like an IP address; {RULE}"));
    }
    Ok(())
}

/// Characters Active Directory refuses in account names
/// (`sAMAccountName`), plus `%` (a Samba macro).
const AD_NAME_FORBIDDEN: &[char] = &[
    '"', '/', '\\', '[', ']', ':', ';', '|', '=', ',', '+', '*', '?', '<', '>', '@', '%',
];

/// Longest account name the gateway accepts for a domain user or group
/// (`sAMAccountName` allows 20 for users and 256 for groups; 64 keeps
/// group names such as "Domain Users" and stays well inside Samba's
/// limits).
pub const AD_NAME_MAX: usize = 64;

/// Checks a domain user or group name as given without the domain
/// (`alice`, `Domain Users`): no characters AD refuses, no control
/// characters, no white space at either end.
pub fn check_domain_account(field: &'static str, name: &str) -> Result<()> {
    const RULE: &str = "a domain account name is given without the domain (alice, Domain Users): 1 to 64 characters, none of \" / \\ [ ] : ; | = , + * ? < > @ %, no control characters, no white space at either end";
    if name.is_empty() {
        return invalid(field, name, format!("it is empty; {RULE}"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| AD_NAME_FORBIDDEN.contains(c) || c.is_control())
    {
        let reason = if c == '\\' {
            "give the name without the domain (the gateway adds it)".to_owned()
        } else {
            format!("it contains {c:?}")
        };
        return invalid(field, name, format!("{reason}; {RULE}"));
    }
    if name.trim() != name {
        return invalid(field, name, format!("it has white space at an end; {RULE}"));
    }
    if name.chars().count() > AD_NAME_MAX {
        return invalid(
            field,
            name,
            format!("it is longer than {AD_NAME_MAX} characters"),
        );
    }
    if name.ends_with('.') {
        return invalid(field, name, format!("it ends with `.`; {RULE}"));
    }
    Ok(())
}

fn check_ou(ou: &str) -> Result<()> {
    const F: &str = "ad-ou";
    const RULE: &str = "an OU is given relative to the domain as RDNs separated by `,`, innermost first (OU=Servers,OU=IT)";
    for rdn in ou.split(',') {
        let Some((k, v)) = rdn.split_once('=') else {
            return invalid(F, ou, format!("{rdn:?} is not `OU=name`; {RULE}"));
        };
        let k = k.trim();
        if !k.eq_ignore_ascii_case("OU") {
            return invalid(
                F,
                ou,
                format!("{k:?} is not OU (the domain's DC= part is added by the join); {RULE}"),
            );
        }
        if v.trim().is_empty()
            || v.chars().any(|c| {
                c.is_control() || matches!(c, '"' | '\\' | '+' | '<' | '>' | ';' | '#' | '%' | '/')
            })
        {
            return invalid(F, ou, format!("the value of {rdn:?} is empty or has characters that need LDAP escaping; {RULE}"));
        }
    }
    Ok(())
}

impl Default for Identity {
    fn default() -> Self {
        Identity::Workgroup("WORKGROUP".to_owned())
    }
}

impl Identity {
    /// A validated workgroup, upper-cased.
    pub fn workgroup(name: &str) -> Result<Identity> {
        check_workgroup(name)?;
        Ok(Identity::Workgroup(name.to_ascii_uppercase()))
    }

    /// The membership, for a domain member.
    pub fn ad(&self) -> Option<&AdSpec> {
        match self {
            Identity::Ad(a) => Some(a),
            Identity::Workgroup(_) => None,
        }
    }

    /// The workgroup (or the domain's NetBIOS name once known).
    pub fn workgroup_name(&self) -> Option<&str> {
        match self {
            Identity::Workgroup(w) => Some(w),
            Identity::Ad(a) => a.workgroup.as_deref(),
        }
    }

    /// Checks the fields; a workgroup must already be upper-case.
    pub fn validate(&self) -> Result<()> {
        match self {
            Identity::Ad(a) => a.validate(),
            Identity::Workgroup(w) => {
                check_workgroup(w)?;
                if w.chars().any(|c| c.is_ascii_lowercase()) {
                    return invalid(
                        "workgroup",
                        w,
                        format!(
                            "workgroups are stored upper-case; write {:?}",
                            w.to_ascii_uppercase()
                        ),
                    );
                }
                Ok(())
            }
        }
    }
}

fn check_workgroup(name: &str) -> Result<()> {
    const F: &str = "workgroup";
    const RULE: &str = "a workgroup is a NetBIOS name of 1 to 15 ASCII characters without whitespace or any of \\ / : * ? \" < > | + = ; , [ ] %";
    if name.is_empty() {
        return invalid(F, name, format!("it is empty; {RULE}"));
    }
    for c in name.chars() {
        let reason = match c {
            '\n' | '\r' => "it contains a line break",
            '%' => "it contains `%`, which Samba expands as a macro",
            '\\' | '/' | ':' | '*' | '?' | '"' | '<' | '>' | '|' | '+' | '=' | ';' | ',' | '['
            | ']' => "it contains a character NetBIOS names cannot have",
            c if c.is_control() => "it contains a control character",
            c if c.is_whitespace() => "it contains whitespace",
            c if !c.is_ascii() => "it contains a non-ASCII character, which NetBIOS code pages do not represent portably",
            _ => continue,
        };
        return invalid(F, name, format!("{reason}; {RULE}"));
    }
    if name.len() > NETBIOS_NAME_MAX {
        return invalid(
            F,
            name,
            format!("it is longer than {NETBIOS_NAME_MAX} characters; {RULE}"),
        );
    }
    Ok(())
}

/// Transport security.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Security {
    /// Signing policy (default [`Signing::Auto`]).
    pub signing: Signing,
    /// Encryption policy (default [`Encryption::Auto`]).
    pub encryption: Encryption,
    /// Log every file operation (connect, open/create, write, rename,
    /// delete, mkdir) to syslog through Samba's `full_audit`.
    #[serde(default)]
    pub audit: bool,
}

// ---------------------------------------------------------------------------
// HA

/// High availability: Proxmox VE HA for an LXC-mode share's container
/// (`enabled`), or a CTDB floating address for a native share (`vip`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HaSpec {
    /// Whether the share should be highly available.
    pub enabled: bool,
    /// Floating address `addr/prefix[@iface]`, e.g. `192.0.2.10/24@vmbr0`.
    pub vip: Option<String>,
}

impl HaSpec {
    /// A validated HA spec.
    pub fn new(enabled: bool, vip: Option<&str>) -> Result<HaSpec> {
        if let Some(v) = vip {
            check_vip(v)?;
        }
        Ok(HaSpec {
            enabled,
            vip: vip.map(str::to_owned),
        })
    }

    /// Checks the vip syntax.
    pub fn validate(&self) -> Result<()> {
        self.vip.as_deref().map_or(Ok(()), check_vip)
    }
}

fn check_vip(vip: &str) -> Result<()> {
    // One parser for every frontend and for the CTDB files.
    match vip.parse::<ha::ctdb::Vip>() {
        Ok(_) => Ok(()),
        Err(ha::ctdb::CtdbSpecError::Vip { reason, .. }) => invalid("vip", vip, reason),
        Err(e) => invalid("vip", vip, e.to_string()),
    }
}

// ---------------------------------------------------------------------------
// Comment

/// Longest share comment.
pub const COMMENT_MAX: usize = 256;

/// Checks a share comment (Samba `comment`): 1 to 256 characters, no
/// control characters, no `%`, no surrounding whitespace.
pub fn check_comment(comment: &str) -> Result<()> {
    const F: &str = "comment";
    if comment.is_empty() {
        return invalid(F, comment, "it is empty; omit the comment instead");
    }
    if comment.chars().count() > COMMENT_MAX {
        return invalid(
            F,
            comment,
            format!("it is longer than {COMMENT_MAX} characters; shorten it"),
        );
    }
    for c in comment.chars() {
        let reason = match c {
            '\n' | '\r' => "it contains a line break; write the comment on one line",
            '%' => "it contains `%`, which Samba expands as a macro (`%U`, `%m`, ...); remove it",
            c if c.is_control() => "it contains a control character; remove it",
            _ => continue,
        };
        return invalid(F, comment, reason);
    }
    if comment.starts_with(char::is_whitespace) || comment.ends_with(char::is_whitespace) {
        return invalid(F, comment, "it starts or ends with whitespace; remove it");
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// ShareSpec

/// Everything an administrator asks for when creating a share.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ShareSpec {
    /// Share name and Proxmox storage id.
    pub id: ShareId,
    /// Where the volume lives.
    pub backend: BackendSpec,
    /// The volume under the backend.
    pub volume: VolumeRef,
    /// Size limit; `None` for none.
    #[serde(with = "opt_as_string", default)]
    pub quota: Option<Quota>,
    /// Accept a quota the backend cannot enforce (directory backend).
    #[serde(default)]
    pub quota_unenforced_ok: bool,
    /// Where Samba runs.
    #[serde(default)]
    pub mode: Mode,
    /// Workgroup (AD later).
    #[serde(default)]
    pub identity: Identity,
    /// Who may connect.
    #[serde(default)]
    pub access: Access,
    /// Signing and encryption.
    #[serde(default)]
    pub security: Security,
    /// High availability (reserved).
    #[serde(default)]
    pub ha: Option<HaSpec>,
    /// LXC mode: the share's container (defaults when `None`).
    #[serde(default)]
    pub container: Option<crate::container::ContainerSpec>,
    /// Share comment shown to clients.
    #[serde(default)]
    pub comment: Option<String>,
}

impl ShareSpec {
    /// A spec with the defaults: no quota, [`Mode::Lxc`], workgroup
    /// `WORKGROUP`, no user restriction, signing auto, encryption auto,
    /// no HA, no comment.
    pub fn new(id: ShareId, backend: BackendSpec, volume: VolumeRef) -> ShareSpec {
        ShareSpec {
            id,
            backend,
            volume,
            quota: None,
            quota_unenforced_ok: false,
            mode: Mode::default(),
            identity: Identity::default(),
            access: Access::default(),
            security: Security::default(),
            ha: None,
            container: None,
            comment: None,
        }
    }

    /// Checks every field and the rules between fields. Call it before
    /// acting on a spec that was built field by field or deserialized.
    ///
    /// Whether the mode is implemented yet is not checked here (see
    /// [`Mode::is_implemented`]): a registry may hold specs of any mode.
    pub fn validate(&self) -> Result<()> {
        // The id and volume name are valid by construction.
        self.backend.validate()?;
        if let BackendSpec::Zfs { parent } = &self.backend {
            let full = parent.len() + 1 + self.volume.name.as_str().len();
            if full > ZFS_NAME_MAX {
                return invalid(
                    "zfs parent dataset",
                    parent,
                    format!(
                        "with the volume name the dataset name `{parent}/{}` is {full} characters, more than ZFS's {ZFS_NAME_MAX}; choose a shorter parent or volume name",
                        self.volume.name
                    ),
                );
            }
        }
        match (&self.backend, self.quota) {
            (BackendSpec::Dir { root }, Some(quota)) if !self.quota_unenforced_ok => {
                return Err(Error::QuotaUnenforced {
                    quota,
                    root: root.clone(),
                })
            }
            (BackendSpec::Rbd { .. }, None) if !self.volume.existing => {
                return Err(Error::QuotaRequired { backend: "rbd" })
            }
            _ => {}
        }
        self.identity.validate()?;
        if self.identity.ad().is_some() {
            self.access.validate_domain()?;
        } else {
            self.access.validate()?;
        }
        if let Some(ha) = &self.ha {
            ha.validate()?;
        }
        if let Some(c) = &self.comment {
            check_comment(c)?;
        }
        if let Some(c) = &self.container {
            if self.mode != Mode::Lxc {
                return invalid(
                    "container",
                    &c.to_string(),
                    format!(
                        "container options apply to mode `lxc` only; this share's mode is `{}`",
                        self.mode
                    ),
                );
            }
            c.validate()?;
        }
        Ok(())
    }
}

/// Serde as a string through `Display`/`FromStr`.
mod as_string {
    use std::fmt::Display;
    use std::str::FromStr;

    use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

    pub fn serialize<T: Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
    where
        T: FromStr,
        T::Err: Display,
        D: Deserializer<'de>,
    {
        let s = String::deserialize(d)?;
        s.parse().map_err(D::Error::custom)
    }
}

/// Serde of an `Option` as an optional string.
mod opt_as_string {
    use std::fmt::Display;
    use std::str::FromStr;

    use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

    pub fn serialize<T: Display, S: Serializer>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.collect_str(v),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<Option<T>, D::Error>
    where
        T: FromStr,
        T::Err: Display,
        D: Deserializer<'de>,
    {
        Option::<String>::deserialize(d)?
            .map(|s| s.parse().map_err(D::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_ids_accepted() {
        for ok in ["ab", "team", "team-data_2024.v2", "a1", &"a".repeat(64)] {
            ShareId::new(ok).unwrap();
        }
    }

    #[test]
    fn share_id_serde_validates() {
        let id: ShareId = serde_json::from_str("\"team\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"team\"");
        assert!(serde_json::from_str::<ShareId>("\"a]b\"").is_err());
    }

    #[test]
    fn reserved_ids_ignore_case_and_whitespace() {
        for r in [
            "global", "GLOBALS", " Global ", "glo bal", "Homes", "printers", "PRINT$", "IPC$",
        ] {
            let e = ShareId::new(r).unwrap_err();
            assert!(matches!(e, Error::ReservedShareId { .. }), "{r:?}: {e}");
        }
    }

    #[test]
    fn paths() {
        BackendSpec::dir("/srv/shares").unwrap();
        BackendSpec::dir("/var/lib/my shares").unwrap();
        for bad in [
            "srv",
            "/",
            "/srv/",
            "/srv//x",
            "/srv/./x",
            "/srv/../etc",
            "/etc",
            "/etc/x",
            "/usr/local/x",
            "/srv/%U",
            "/srv/a\nb",
            "",
        ] {
            assert!(BackendSpec::dir(bad).is_err(), "{bad:?}");
        }
        // Prefix match is by component.
        BackendSpec::dir("/usrdata").unwrap();
        BackendSpec::dir("/devices").unwrap();
    }

    #[test]
    fn zfs_names() {
        BackendSpec::zfs("rpool").unwrap();
        BackendSpec::zfs("rpool/data/sub-vol_1.x:y").unwrap();
        for bad in [
            "",
            "-pool",
            "1pool",
            "rpool/",
            "/rpool",
            "rpool//x",
            "rpool@snap",
            "rpool#b",
            "rpool/a b",
            "rpool/..",
            &"a".repeat(256),
        ] {
            assert!(BackendSpec::zfs(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn vips() {
        for ok in [
            "192.0.2.10/24",
            "192.0.2.10/32@vmbr0",
            "2001:db8::10/64",
            "fe80::1/128@eth0.100",
        ] {
            HaSpec::new(true, Some(ok)).unwrap();
        }
        for bad in [
            "192.0.2.10",
            "192.0.2.10/33",
            "2001:db8::1/129",
            "300.1.1.1/24",
            "192.0.2.1/24@",
            "192.0.2.1/24@a b",
            "192.0.2.1/+24",
            "192.0.2.1/24@waytoolonginterface",
        ] {
            assert!(HaSpec::new(true, Some(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn account_names() {
        for ok in ["alice", "_svc", "host$", "a-b_c1", &"a".repeat(32)] {
            check_account_name(ok, false).unwrap();
        }
        for bad in [
            "",
            "Alice",
            "1abc",
            "-x",
            "a$b",
            "$",
            "a b",
            "a:b",
            &"a".repeat(33),
        ] {
            assert!(check_account_name(bad, false).is_err(), "{bad:?}");
        }
        assert!(check_account_name("@staff", true)
            .unwrap_err()
            .to_string()
            .contains("without `@`"));
    }

    #[test]
    fn workgroup_upper_cased() {
        assert_eq!(
            Identity::workgroup("corp").unwrap(),
            Identity::Workgroup("CORP".into())
        );
        assert!(Identity::Workgroup("corp".into()).validate().is_err());
    }

    #[test]
    fn keywords_round_trip() {
        for m in Mode::ALL {
            assert_eq!(m.as_str().parse::<Mode>().unwrap(), *m);
        }
        for m in Signing::ALL {
            assert_eq!(m.as_str().parse::<Signing>().unwrap(), *m);
        }
        for m in Encryption::ALL {
            assert_eq!(m.as_str().parse::<Encryption>().unwrap(), *m);
        }
        assert_eq!(Mode::default(), Mode::Lxc);
        assert!(
            Mode::Native.is_implemented()
                && Mode::Lxc.is_implemented()
                && !Mode::Vm.is_implemented()
        );
    }

    #[test]
    fn spec_json_round_trip() {
        let mut spec = ShareSpec::new(
            ShareId::new("team").unwrap(),
            BackendSpec::zfs("rpool/shares").unwrap(),
            VolumeRef::new("team").unwrap(),
        );
        spec.quota = Some(parse_quota("10G").unwrap());
        spec.ha = Some(HaSpec::new(true, Some("192.0.2.1/24")).unwrap());
        let json = serde_json::to_string(&spec).unwrap();
        assert!(json.contains("\"10GiB\""), "{json}");
        let back: ShareSpec = serde_json::from_str(&json).unwrap();
        assert_eq!(back, spec);
    }
}
