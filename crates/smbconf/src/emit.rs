//! A typed builder for a gateway's smb.conf with secure defaults.

use crate::document::{Document, EditError};

/// SMB signing policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Signing {
    /// Samba's default: signing when the client asks (SMB2+ always signs
    /// what must be signed).
    #[default]
    Auto,
    /// Refuse clients that do not sign.
    Required,
}

/// SMB3 encryption policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encryption {
    /// No encryption offered.
    Off,
    /// Samba's default: encrypt when the client requires it.
    #[default]
    IfRequired,
    /// Offer encryption; clients that can use it do.
    Desired,
    /// Refuse clients that cannot encrypt.
    Required,
}

impl Encryption {
    fn as_samba(self) -> &'static str {
        match self {
            Encryption::Off => "off",
            Encryption::IfRequired => "if_required",
            Encryption::Desired => "desired",
            Encryption::Required => "required",
        }
    }
}

/// Per-share security overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShareSecurity {
    /// Encryption for this share (overrides the global setting).
    pub encryption: Option<Encryption>,
}

/// One share of a gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayShare {
    /// Share name (validated: no `]`, `%`, control characters).
    pub name: String,
    /// Absolute path served.
    pub path: String,
    /// Free-text comment shown to clients.
    pub comment: Option<String>,
    /// Read-only share.
    pub read_only: bool,
    /// Users and `@groups` allowed to connect (empty: every authenticated user).
    pub valid_users: Vec<String>,
    /// Users and `@groups` with administrative rights on the share.
    pub admin_users: Vec<String>,
    /// Permission mask for new files.
    pub create_mask: u32,
    /// Permission mask for new directories.
    pub directory_mask: u32,
    /// VFS modules, in order.
    pub vfs_objects: Vec<String>,
    /// Security overrides.
    pub security: ShareSecurity,
    /// Further parameters (validated like everything else).
    pub extra: Vec<(String, String)>,
}

impl GatewayShare {
    /// A read-write share of `path` with sensible masks.
    pub fn new(name: impl Into<String>, path: impl Into<String>) -> Self {
        GatewayShare {
            name: name.into(),
            path: path.into(),
            comment: None,
            read_only: false,
            valid_users: Vec::new(),
            admin_users: Vec::new(),
            create_mask: 0o664,
            directory_mask: 0o775,
            vfs_objects: Vec::new(),
            security: ShareSecurity::default(),
            extra: Vec::new(),
        }
    }

    /// Appends this share as a new section of `doc`, refusing names and
    /// paths Samba would misread (`%` macros, reserved names, relative
    /// paths) and a section that already exists.
    pub fn write_into(&self, doc: &mut Document) -> Result<(), EmitError> {
        let s = self;
        no_macro("share name", &s.name)?;
        no_macro("share path", &s.path)?;
        let lname = s.name.to_lowercase();
        if ["global", "globals", "homes", "printers", "ipc$", "print$"].contains(&lname.trim())
            || crate::document::is_global_name(&s.name)
        {
            return Err(EmitError::Reserved(s.name.clone()));
        }
        if doc.has_section(&s.name) {
            return Err(EmitError::Duplicate(s.name.clone()));
        }
        if !s.path.starts_with('/') {
            return Err(EmitError::RelativePath(s.path.clone()));
        }
        doc.add_section(&s.name)?;
        doc.set(&s.name, "path", &s.path)?;
        if let Some(c) = &s.comment {
            doc.set(&s.name, "comment", c)?;
        }
        doc.set(&s.name, "read only", if s.read_only { "yes" } else { "no" })?;
        doc.set(&s.name, "guest ok", "no")?;
        doc.set(&s.name, "browseable", "yes")?;
        if !s.valid_users.is_empty() {
            doc.set(&s.name, "valid users", &quote_list(&s.valid_users))?;
        }
        if !s.admin_users.is_empty() {
            doc.set(&s.name, "admin users", &quote_list(&s.admin_users))?;
        }
        doc.set(&s.name, "create mask", &format!("0{:o}", s.create_mask))?;
        doc.set(
            &s.name,
            "directory mask",
            &format!("0{:o}", s.directory_mask),
        )?;
        if !s.vfs_objects.is_empty() {
            doc.set(&s.name, "vfs objects", &s.vfs_objects.join(" "))?;
        }
        if let Some(e) = s.security.encryption {
            doc.set(&s.name, "server smb encrypt", e.as_samba())?;
        }
        for (k, v) in &s.extra {
            doc.set(&s.name, k, v)?;
        }
        Ok(())
    }
}

/// The whole smb.conf of a gateway: secure global defaults (SMB2_10
/// minimum, no guest access, no printing, no NetBIOS) plus its shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayConf {
    /// Workgroup (NetBIOS domain) name.
    pub workgroup: String,
    /// Lowest protocol accepted: `SMB2_10` (default), `SMB3_00` or `SMB3_11`.
    pub min_protocol: String,
    /// Signing policy.
    pub signing: Signing,
    /// Encryption policy.
    pub encryption: Encryption,
    /// TCP ports (`None`: 445).
    pub ports: Option<Vec<u16>>,
    /// Interfaces to bind to (binds only to them when set).
    pub interfaces: Vec<String>,
    /// Directory holding every piece of Samba state (lock, state, cache,
    /// private, pid, ncalrpc, log) for a private instance; `None` uses
    /// Samba's compiled-in locations.
    pub state_dir: Option<String>,
    /// Further global parameters.
    pub extra_globals: Vec<(String, String)>,
    /// Shares, in order.
    pub shares: Vec<GatewayShare>,
}

impl Default for GatewayConf {
    fn default() -> Self {
        GatewayConf {
            workgroup: "WORKGROUP".into(),
            min_protocol: "SMB2_10".into(),
            signing: Signing::Auto,
            encryption: Encryption::IfRequired,
            ports: None,
            interfaces: Vec::new(),
            state_dir: None,
            extra_globals: Vec::new(),
            shares: Vec::new(),
        }
    }
}

/// The builder was given something it will not write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmitError {
    /// A name or value cannot be represented.
    #[error(transparent)]
    Edit(#[from] EditError),
    /// A name or path contains `%`, which Samba expands as a macro.
    #[error("{what} {text:?} contains `%`, which Samba would expand as a macro")]
    Macro {
        /// What it is.
        what: &'static str,
        /// The text.
        text: String,
    },
    /// The minimum protocol is below SMB2_10 or unknown.
    #[error("minimum protocol {0:?} is not allowed; use SMB2_10, SMB3_00 or SMB3_11")]
    Protocol(String),
    /// A share path is not absolute.
    #[error("share path {0:?} must be absolute")]
    RelativePath(String),
    /// A share name is reserved by Samba.
    #[error("share name {0:?} is reserved by Samba; choose another name")]
    Reserved(String),
    /// Two shares with the same name (compared case-insensitively).
    #[error("share {0:?} is defined twice")]
    Duplicate(String),
}

/// Hash chains of the gencache.tdb a generated configuration creates
/// (`gencache:hash_size`; Samba's own default is 10,000). Samba reads it
/// only when it creates the file: an existing gencache.tdb keeps its size.
pub const GENCACHE_HASH_SIZE: u32 = 2003;

const HEADER: &str =
    "# Generated by pve-smbgateway. Do not edit: changes are overwritten.\n[global]\n";

fn no_macro(what: &'static str, s: &str) -> Result<(), EmitError> {
    if s.contains('%') {
        return Err(EmitError::Macro {
            what,
            text: s.to_string(),
        });
    }
    Ok(())
}

impl GatewayConf {
    /// Render the smb.conf text.
    pub fn render(&self) -> Result<String, EmitError> {
        let min = self.min_protocol.to_ascii_uppercase();
        if !["SMB2_10", "SMB3", "SMB3_00", "SMB3_02", "SMB3_11"].contains(&min.as_str()) {
            return Err(EmitError::Protocol(self.min_protocol.clone()));
        }
        let (mut doc, _) = Document::parse(HEADER);
        let mut g: Vec<(String, String)> = vec![
            ("workgroup".into(), self.workgroup.clone()),
            ("server role".into(), "standalone server".into()),
            ("server min protocol".into(), min),
            (
                "server signing".into(),
                match self.signing {
                    Signing::Auto => "default",
                    Signing::Required => "mandatory",
                }
                .into(),
            ),
            (
                "server smb encrypt".into(),
                self.encryption.as_samba().into(),
            ),
            ("map to guest".into(), "never".into()),
            ("restrict anonymous".into(), "2".into()),
            ("ntlm auth".into(), "ntlmv2-only".into()),
            ("disable netbios".into(), "yes".into()),
            (
                "smb ports".into(),
                match &self.ports {
                    Some(p) => p.iter().map(u16::to_string).collect::<Vec<_>>().join(" "),
                    None => "445".into(),
                },
            ),
            ("load printers".into(), "no".into()),
            ("printing".into(), "bsd".into()),
            ("printcap name".into(), "/dev/null".into()),
            ("disable spoolss".into(), "yes".into()),
            // No shares defined by users outside the gateway's control.
            ("usershare max shares".into(), "0".into()),
            // Samba creates gencache.tdb with 10,000 hash chains and a
            // robust mutex (40 bytes) per chain, which smbd initializes
            // when it starts: about 390 KiB of smbd's resident memory. A
            // gateway's cache (name, SID and id lookups) holds far fewer
            // entries; 2003 chains keep them short at a fifth of the size.
            ("gencache:hash_size".into(), GENCACHE_HASH_SIZE.to_string()),
        ];
        if !self.interfaces.is_empty() {
            g.push(("interfaces".into(), self.interfaces.join(" ")));
            g.push(("bind interfaces only".into(), "yes".into()));
        }
        if let Some(dir) = &self.state_dir {
            no_macro("state directory", dir)?;
            for (k, sub) in [
                ("lock directory", "lock"),
                ("state directory", "state"),
                ("cache directory", "cache"),
                ("private dir", "private"),
                ("pid directory", "pid"),
                ("ncalrpc dir", "ncalrpc"),
                ("binddns dir", "binddns"),
            ] {
                g.push((k.into(), format!("{dir}/{sub}")));
            }
            g.push(("log file".into(), format!("{dir}/log/log.smbd")));
            g.push((
                "passdb backend".into(),
                format!("tdbsam:{dir}/private/passdb.tdb"),
            ));
            g.push(("rpc start on demand helpers".into(), "no".into()));
        }
        g.extend(self.extra_globals.iter().cloned());
        for (k, v) in &g {
            doc.set("global", k, v)?;
        }
        let mut seen = Vec::new();
        for s in &self.shares {
            let lname = s.name.to_lowercase();
            if seen.contains(&lname) {
                return Err(EmitError::Duplicate(s.name.clone()));
            }
            s.write_into(&mut doc)?;
            seen.push(lname);
        }
        Ok(doc.to_string())
    }
}

fn quote_list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| {
            if i.contains(' ') {
                format!("\"{i}\"")
            } else {
                i.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
