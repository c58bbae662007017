//! The registry document: parsing and writing SectionConfig text.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{ShareRecord, ShareState};
use crate::container::ContainerSpec;
use crate::error::{Error, Result};
use crate::spec::{
    self, is_ascii_ws, Access, AdSpec, BackendSpec, CephClientSpec, Encryption, HaSpec, Identity,
    Mode, RbdMap, Security, ShareId, ShareSpec, Signing, VolumeRef,
};

/// The section type of a share.
pub const SHARE_TYPE: &str = "share";

/// The shares of a registry file, in file order, together with everything
/// else the file holds (sections of other types, comments, blank lines,
/// unknown keys), which is written back unchanged.
///
/// Obtained from [`Registry::update`](super::Registry::update) (or
/// [`Shares::parse`]); ids are unique, compared case-insensitively across
/// all sections.
#[derive(Clone, Debug, Default)]
pub struct Shares {
    items: Vec<Item>,
}

#[derive(Clone, Debug)]
enum Item {
    /// A blank, whitespace-only or comment line outside any section,
    /// including its line end.
    Trivia(String),
    /// A section of another type: its id and raw text.
    Other { id: String, raw: String },
    /// A share section.
    Share(Box<ShareEntry>),
}

impl Item {
    fn is_blank(&self) -> bool {
        matches!(self, Item::Trivia(s) if s.chars().all(is_ascii_ws))
    }
}

#[derive(Clone, Debug)]
struct ShareEntry {
    record: ShareRecord,
    /// As parsed: the record and the section's raw text, written back
    /// verbatim while the record is unchanged.
    original: Option<(ShareRecord, String)>,
    /// Unknown property lines and comment lines of the section, verbatim.
    extras: Vec<String>,
}

impl Shares {
    /// An empty registry.
    pub fn new() -> Shares {
        Shares::default()
    }

    /// Parses registry text; `path` is only used in error messages.
    ///
    /// Every share section is validated; any line that is not a header, a
    /// property, a comment or blank is an error with its line number.
    pub fn parse(text: &str, path: &Path) -> Result<Shares> {
        Parser {
            path,
            text,
            lines: split_lines(text),
            at: 0,
        }
        .parse()
    }

    /// The registry text: unchanged parts as they were, changed and new
    /// shares in canonical form.
    ///
    /// Fails if a changed record does not validate or two sections share an
    /// id (for example after changing an id through [`Shares::get_mut`]).
    pub fn to_text(&self) -> Result<String> {
        let mut seen: HashSet<String> = HashSet::with_capacity(self.items.len());
        let mut out = String::new();
        for item in &self.items {
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            match item {
                Item::Trivia(s) => out.push_str(s),
                Item::Other { id, raw } => {
                    seen.insert(id.to_ascii_lowercase());
                    out.push_str(raw);
                }
                Item::Share(e) => {
                    let id = e.record.spec.id.as_str();
                    if !seen.insert(id.to_owned()) {
                        return Err(Error::ShareExists { id: id.to_owned() });
                    }
                    match &e.original {
                        Some((orig, raw)) if *orig == e.record => out.push_str(raw),
                        _ => {
                            e.record.validate()?;
                            write_share(&mut out, &e.record);
                            for x in &e.extras {
                                if !out.ends_with('\n') {
                                    out.push('\n');
                                }
                                out.push_str(x);
                            }
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// Adds a share at the end, after validating it. Fails with
    /// [`Error::ShareExists`] if any section has the same id, compared
    /// case-insensitively.
    pub fn insert(&mut self, record: ShareRecord) -> Result<()> {
        record.validate()?;
        let id = record.spec.id.as_str();
        if self.section_ids().any(|s| s.eq_ignore_ascii_case(id)) {
            return Err(Error::ShareExists { id: id.to_owned() });
        }
        if self.items.last().is_some_and(|i| !i.is_blank()) {
            self.items.push(Item::Trivia("\n".to_owned()));
        }
        self.items.push(Item::Share(Box::new(ShareEntry {
            record,
            original: None,
            extras: Vec::new(),
        })));
        self.items.push(Item::Trivia("\n".to_owned()));
        Ok(())
    }

    /// Removes the share `id` (and the blank line after it) and returns it.
    pub fn remove(&mut self, id: &ShareId) -> Option<ShareRecord> {
        let i = self
            .items
            .iter()
            .position(|it| matches!(it, Item::Share(e) if e.record.spec.id == *id))?;
        let Item::Share(entry) = self.items.remove(i) else {
            return None;
        };
        if self.items.get(i).is_some_and(Item::is_blank) {
            self.items.remove(i);
        }
        Some(entry.record)
    }

    /// The share `id`.
    pub fn get(&self, id: &ShareId) -> Option<&ShareRecord> {
        self.iter().find(|r| r.spec.id == *id)
    }

    /// The share `id`, to change in place. Changes are validated when the
    /// registry is written.
    pub fn get_mut(&mut self, id: &ShareId) -> Option<&mut ShareRecord> {
        self.iter_mut().find(|r| r.spec.id == *id)
    }

    /// Whether a share `id` exists.
    pub fn contains(&self, id: &ShareId) -> bool {
        self.get(id).is_some()
    }

    /// The shares in file order.
    pub fn iter(&self) -> impl Iterator<Item = &ShareRecord> {
        self.items.iter().filter_map(|it| match it {
            Item::Share(e) => Some(&e.record),
            _ => None,
        })
    }

    /// The shares in file order, mutable.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut ShareRecord> {
        self.items.iter_mut().filter_map(|it| match it {
            Item::Share(e) => Some(&mut e.record),
            _ => None,
        })
    }

    /// Number of shares.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether there are no shares.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// The ids of the sections of other types, in file order.
    pub fn other_sections(&self) -> impl Iterator<Item = &str> {
        self.items.iter().filter_map(|it| match it {
            Item::Other { id, .. } => Some(id.as_str()),
            _ => None,
        })
    }

    /// The shares, in file order.
    pub fn into_records(self) -> Vec<ShareRecord> {
        self.items
            .into_iter()
            .filter_map(|it| match it {
                Item::Share(e) => Some(e.record),
                _ => None,
            })
            .collect()
    }

    fn section_ids(&self) -> impl Iterator<Item = &str> {
        self.items.iter().filter_map(|it| match it {
            Item::Share(e) => Some(e.record.spec.id.as_str()),
            Item::Other { id, .. } => Some(id.as_str()),
            Item::Trivia(_) => None,
        })
    }
}

// ---------------------------------------------------------------------------
// Writing

fn flag(b: bool) -> &'static str {
    if b {
        "1"
    } else {
        "0"
    }
}

fn prop(out: &mut String, key: Key, value: impl std::fmt::Display) {
    // Writing to a String cannot fail.
    let _ = writeln!(out, "\t{} {value}", key.name());
}

fn list(out: &mut String, key: Key, names: &[String]) {
    if !names.is_empty() {
        prop(out, key, names.join(","));
    }
}

fn ceph_client(out: &mut String, ceph: &CephClientSpec) {
    if let Some(c) = &ceph.conf {
        prop(out, Key::CephConf, c.display());
    }
    if let Some(id) = &ceph.id {
        prop(out, Key::CephId, id);
    }
}

/// Canonical text of a validated record (header and properties, no blank
/// line after).
fn write_share(out: &mut String, r: &ShareRecord) {
    let s = &r.spec;
    let _ = writeln!(out, "{SHARE_TYPE}: {}", s.id);
    if let Some(c) = &s.comment {
        prop(out, Key::Comment, c);
    }
    prop(out, Key::Backend, s.backend.kind());
    match &s.backend {
        BackendSpec::Dir { root } => prop(out, Key::DirRoot, root.display()),
        BackendSpec::Zfs { parent } => prop(out, Key::ZfsParent, parent),
        BackendSpec::CephFs {
            fs,
            group,
            mount,
            ceph,
        } => {
            prop(out, Key::CephfsFs, fs);
            if let Some(g) = group {
                prop(out, Key::CephfsGroup, g);
            }
            if let Some(m) = mount {
                prop(out, Key::CephfsMount, m.display());
            }
            ceph_client(out, ceph);
        }
        BackendSpec::Rbd {
            pool,
            mount_base,
            map,
            ceph,
        } => {
            prop(out, Key::RbdPool, pool);
            prop(out, Key::RbdMap, map);
            if let Some(m) = mount_base {
                prop(out, Key::RbdMountBase, m.display());
            }
            ceph_client(out, ceph);
        }
    }
    prop(out, Key::Volume, &s.volume.name);
    prop(out, Key::Existing, flag(s.volume.existing));
    if let Some(q) = s.quota {
        prop(out, Key::Quota, q);
    }
    prop(out, Key::QuotaUnenforced, flag(s.quota_unenforced_ok));
    prop(out, Key::Mode, s.mode);
    match &s.identity {
        Identity::Workgroup(w) => prop(out, Key::Workgroup, w),
        Identity::Ad(a) => {
            prop(out, Key::AdRealm, &a.realm);
            if let Some(w) = &a.workgroup {
                prop(out, Key::Workgroup, w);
            }
            prop(out, Key::AdUser, &a.join_user);
            if let Some(ou) = &a.ou {
                prop(out, Key::AdOu, ou);
            }
            if let Some(n) = &a.netbios_name {
                prop(out, Key::AdNetbios, n);
            }
        }
    }
    list(out, Key::Users, &s.access.users);
    list(out, Key::Groups, &s.access.groups);
    prop(out, Key::ReadOnly, flag(s.access.read_only));
    prop(out, Key::Signing, s.security.signing);
    prop(out, Key::Encryption, s.security.encryption);
    if s.security.audit {
        prop(out, Key::Audit, flag(true));
    }
    if let Some(ha) = &s.ha {
        prop(out, Key::Ha, flag(ha.enabled));
        if let Some(v) = &ha.vip {
            prop(out, Key::Vip, v);
        }
    }
    if let Some(c) = &s.container {
        prop(out, Key::Container, c);
    }
    let st = &r.state;
    prop(out, Key::VolumeId, &st.volume_id);
    prop(out, Key::Path, st.path.display());
    prop(out, Key::CreatedVolume, flag(st.created_volume));
    list(out, Key::CreatedUsers, &st.created_users);
    prop(out, Key::CreatedAt, st.created_at);
}

// ---------------------------------------------------------------------------
// Keys

macro_rules! keys {
    ($($variant:ident = $name:literal,)+) => {
        /// The properties of a share section.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        enum Key { $($variant,)+ }

        const KEY_COUNT: usize = [$($name,)+].len();

        impl Key {
            fn name(self) -> &'static str {
                match self { $(Key::$variant => $name,)+ }
            }
            fn from_name(s: &str) -> Option<Key> {
                match s { $($name => Some(Key::$variant),)+ _ => None }
            }
        }
    };
}

keys! {
    Comment = "comment",
    Backend = "backend",
    DirRoot = "dir-root",
    ZfsParent = "zfs-parent",
    CephfsFs = "cephfs-fs",
    CephfsGroup = "cephfs-group",
    CephfsMount = "cephfs-mount",
    RbdPool = "rbd-pool",
    RbdMap = "rbd-map",
    RbdMountBase = "rbd-mount-base",
    CephConf = "ceph-conf",
    CephId = "ceph-id",
    Volume = "volume",
    Existing = "existing",
    Quota = "quota",
    QuotaUnenforced = "quota-unenforced",
    Mode = "mode",
    Workgroup = "workgroup",
    AdRealm = "ad-realm",
    AdUser = "ad-user",
    AdOu = "ad-ou",
    AdNetbios = "ad-netbios",
    Users = "users",
    Groups = "groups",
    ReadOnly = "read-only",
    Signing = "signing",
    Encryption = "encryption",
    Audit = "audit",
    Ha = "ha",
    Vip = "vip",
    Container = "container",
    VolumeId = "volume-id",
    Path = "path",
    CreatedVolume = "created-volume",
    CreatedUsers = "created-users",
    CreatedAt = "created-at",
}

// ---------------------------------------------------------------------------
// Parsing

/// A physical line: its byte offset in the text and its text including the
/// `\n` (absent on a last line without one).
#[derive(Clone, Copy)]
struct Line<'a> {
    start: usize,
    raw: &'a str,
}

impl<'a> Line<'a> {
    fn text(self) -> &'a str {
        self.raw.strip_suffix('\n').unwrap_or(self.raw)
    }
}

fn split_lines(text: &str) -> Vec<Line<'_>> {
    let mut start = 0;
    text.split_inclusive('\n')
        .map(|raw| {
            let l = Line { start, raw };
            start += raw.len();
            l
        })
        .collect()
}

fn is_blank(line: &str) -> bool {
    line.chars().all(is_ascii_ws)
}

/// Proxmox: `^\s*#`.
fn is_comment(line: &str) -> bool {
    line.trim_start_matches(is_ascii_ws).starts_with('#')
}

/// Proxmox's header pattern `^(\S+):\s*(\S+)\s*$`, with its greedy
/// matching: returns `(type, id)`.
fn parse_header(line: &str) -> Option<(&str, &str)> {
    if line.starts_with(is_ascii_ws) {
        return None;
    }
    let t = line.trim_end_matches(is_ascii_ws);
    if let Some(ws) = t.find(is_ascii_ws) {
        // `type:` then whitespace then an id without whitespace.
        let (head, rest) = t.split_at(ws);
        let id = rest.trim_start_matches(is_ascii_ws);
        let ty = head.strip_suffix(':')?;
        if ty.is_empty() || id.contains(is_ascii_ws) {
            return None;
        }
        return Some((ty, id));
    }
    // No whitespace: the last `:` with something on both sides.
    let bytes = t.as_bytes();
    (1..t.len().saturating_sub(1))
        .rev()
        .find(|&i| bytes[i] == b':')
        .map(|i| (&t[..i], &t[i + 1..]))
}

/// Proxmox's property pattern `^\s+(\S+)(\s+(.*\S))?\s*$`: `(key, value)`.
fn parse_property(line: &str) -> Option<(&str, Option<&str>)> {
    if !line.starts_with(is_ascii_ws) {
        return None;
    }
    let t = line.trim_matches(is_ascii_ws);
    if t.is_empty() {
        return None;
    }
    match t.find(is_ascii_ws) {
        Some(i) => Some((&t[..i], Some(t[i..].trim_start_matches(is_ascii_ws)))),
        None => Some((t, None)),
    }
}

struct Parser<'a> {
    path: &'a Path,
    text: &'a str,
    lines: Vec<Line<'a>>,
    at: usize,
}

/// A property line of a share section.
struct Prop<'a> {
    line: usize,
    value: Option<&'a str>,
}

impl<'a> Parser<'a> {
    fn syntax(&self, line: usize, reason: impl Into<String>) -> Error {
        Error::Syntax {
            path: self.path.to_owned(),
            line,
            reason: reason.into(),
        }
    }

    fn parse(mut self) -> Result<Shares> {
        let mut items = Vec::new();
        // Lowercased id -> header line, for duplicate detection.
        let mut ids: HashMap<String, usize> = HashMap::new();
        while let Some(&line) = self.lines.get(self.at) {
            let lineno = self.at + 1;
            self.at += 1;
            let text = line.text();
            if is_blank(text) || is_comment(text) {
                items.push(Item::Trivia(line.raw.to_owned()));
                continue;
            }
            let Some((ty, id)) = parse_header(text) else {
                let reason = if parse_property(text).is_some() {
                    "a property line outside any section; put it under a section header `type: id` (a section ends at the first empty line)"
                } else {
                    "expected a section header `type: id`, a `#` comment or an empty line; fix or remove the line"
                };
                return Err(self.syntax(lineno, reason));
            };
            let body = self.section_body()?;
            let end = body
                .last()
                .map_or(line.start + line.raw.len(), |l| l.start + l.raw.len());
            let raw = &self.text[line.start..end];

            let key = id.to_ascii_lowercase();
            if let Some(&first) = ids.get(&key) {
                return Err(Error::DuplicateSection {
                    path: self.path.to_owned(),
                    line: lineno,
                    first,
                    id: id.to_owned(),
                });
            }
            ids.insert(key, lineno);

            if ty == SHARE_TYPE {
                let entry = self.share(id, lineno, &body, raw)?;
                items.push(Item::Share(Box::new(entry)));
            } else {
                items.push(Item::Other {
                    id: id.to_owned(),
                    raw: raw.to_owned(),
                });
            }
        }
        Ok(Shares { items })
    }

    /// The lines after a header up to (not including) the next blank line,
    /// each a property or a comment.
    fn section_body(&mut self) -> Result<Vec<Line<'a>>> {
        let mut body = Vec::new();
        while let Some(&line) = self.lines.get(self.at) {
            let text = line.text();
            if is_blank(text) {
                break;
            }
            let lineno = self.at + 1;
            if !is_comment(text) && parse_property(text).is_none() {
                let reason = if parse_header(text).is_some() {
                    "a section header must follow an empty line; insert one before it"
                } else {
                    "expected an indented property line `key value`, a `#` comment or an empty line ending the section; fix or remove the line"
                };
                return Err(self.syntax(lineno, reason));
            }
            body.push(line);
            self.at += 1;
        }
        Ok(body)
    }

    fn share(&self, id: &str, header: usize, body: &[Line<'a>], raw: &str) -> Result<ShareEntry> {
        let share_id = ShareId::new(id).map_err(|e| Error::Section {
            path: self.path.to_owned(),
            line: header,
            section: id.to_owned(),
            error: Box::new(e),
        })?;
        let mut slots: [Option<Prop<'a>>; KEY_COUNT] = std::array::from_fn(|_| None);
        let mut extras = Vec::new();
        let first_body_line = header + 1;
        for (i, line) in body.iter().enumerate() {
            let lineno = first_body_line + i;
            let text = line.text();
            let prop = if is_comment(text) {
                None
            } else {
                parse_property(text)
            };
            let Some((k, value)) = prop else {
                extras.push(line.raw.to_owned());
                continue;
            };
            let Some(key) = Key::from_name(k) else {
                // Unknown key: kept and written back.
                extras.push(line.raw.to_owned());
                continue;
            };
            let slot = &mut slots[key as usize];
            if let Some(first) = slot {
                return Err(Error::DuplicateKey {
                    path: self.path.to_owned(),
                    line: lineno,
                    first: first.line,
                    section: id.to_owned(),
                    key: k.to_owned(),
                });
            }
            *slot = Some(Prop {
                line: lineno,
                value,
            });
        }
        let props = Props {
            path: self.path,
            section: id,
            header,
            slots,
        };
        let record = props.record(share_id)?;
        if let Err(e) = record.validate() {
            // Cross-field rules: point at the line that can fix it.
            return Err(match (&e, props.line(Key::Quota)) {
                (Error::QuotaUnenforced { quota, .. }, Some(line)) => Error::Value {
                    path: self.path.to_owned(),
                    line,
                    section: id.to_owned(),
                    key: Key::Quota.name().to_owned(),
                    value: quota.to_string(),
                    error: Box::new(e),
                },
                _ => Error::Section {
                    path: self.path.to_owned(),
                    line: header,
                    section: id.to_owned(),
                    error: Box::new(e),
                },
            });
        }
        Ok(ShareEntry {
            original: Some((record.clone(), raw.to_owned())),
            record,
            extras,
        })
    }
}

/// A directory that holds volumes (`cephfs-mount`, `rbd-mount-base`).
fn data_dir(field: &'static str, v: &str) -> Result<PathBuf> {
    let p = PathBuf::from(v);
    spec::check_data_dir(field, &p).map(|()| p)
}

struct Props<'p, 'a> {
    path: &'p Path,
    section: &'p str,
    header: usize,
    slots: [Option<Prop<'a>>; KEY_COUNT],
}

impl<'a> Props<'_, 'a> {
    fn line(&self, key: Key) -> Option<usize> {
        self.slots[key as usize].as_ref().map(|p| p.line)
    }

    fn value_error(&self, key: Key, line: usize, value: &str, error: Error) -> Error {
        Error::Value {
            path: self.path.to_owned(),
            line,
            section: self.section.to_owned(),
            key: key.name().to_owned(),
            value: value.to_owned(),
            error: Box::new(error),
        }
    }

    /// The parsed value of an optional key.
    fn get<T>(&self, key: Key, parse: impl FnOnce(&'a str) -> Result<T>) -> Result<Option<T>> {
        let Some(p) = &self.slots[key as usize] else {
            return Ok(None);
        };
        let Some(v) = p.value else {
            let e = Error::Invalid {
                field: key.name(),
                value: String::new(),
                reason: "the property has no value; give one or remove the line".to_owned(),
            };
            return Err(self.value_error(key, p.line, "", e));
        };
        parse(v)
            .map(Some)
            .map_err(|e| self.value_error(key, p.line, v, e))
    }

    /// The parsed value of a required key.
    fn req<T>(&self, key: Key, parse: impl FnOnce(&'a str) -> Result<T>) -> Result<T> {
        self.get(key, parse)?.ok_or_else(|| Error::MissingKey {
            path: self.path.to_owned(),
            line: self.header,
            section: self.section.to_owned(),
            key: key.name(),
        })
    }

    /// A boolean: `0` or `1`; the key alone means `1` (as in Proxmox).
    fn flag(&self, key: Key) -> Result<bool> {
        let Some(p) = &self.slots[key as usize] else {
            return Ok(false);
        };
        match p.value {
            None | Some("1") => Ok(true),
            Some("0") => Ok(false),
            Some(v) => {
                let e = Error::Invalid {
                    field: key.name(),
                    value: v.to_owned(),
                    reason: "use `0` or `1`".to_owned(),
                };
                Err(self.value_error(key, p.line, v, e))
            }
        }
    }

    /// Refuses `key` if present: it does not belong here.
    fn forbid(&self, key: Key, why: &str) -> Result<()> {
        match &self.slots[key as usize] {
            None => Ok(()),
            Some(p) => {
                let v = p.value.unwrap_or("");
                let e = Error::Invalid {
                    field: key.name(),
                    value: v.to_owned(),
                    reason: why.to_owned(),
                };
                Err(self.value_error(key, p.line, v, e))
            }
        }
    }

    fn backend(&self) -> Result<BackendSpec> {
        let kind = self.req(Key::Backend, |v| match v {
            "dir" | "zfs" | "cephfs" | "rbd" => Ok(v),
            _ => Err(Error::Invalid {
                field: "backend",
                value: v.to_owned(),
                reason: "use `dir`, `zfs`, `cephfs` or `rbd`".to_owned(),
            }),
        })?;
        let specific = [
            Key::DirRoot,
            Key::ZfsParent,
            Key::CephfsFs,
            Key::CephfsGroup,
            Key::CephfsMount,
            Key::RbdPool,
            Key::RbdMap,
            Key::RbdMountBase,
            Key::CephConf,
            Key::CephId,
        ];
        let own: &[Key] = match kind {
            "dir" => &[Key::DirRoot],
            "zfs" => &[Key::ZfsParent],
            "cephfs" => &[
                Key::CephfsFs,
                Key::CephfsGroup,
                Key::CephfsMount,
                Key::CephConf,
                Key::CephId,
            ],
            _ => &[
                Key::RbdPool,
                Key::RbdMap,
                Key::RbdMountBase,
                Key::CephConf,
                Key::CephId,
            ],
        };
        for k in specific.iter().filter(|k| !own.contains(k)) {
            self.forbid(
                *k,
                &format!("it does not apply to a `{kind}` backend; remove the line"),
            )?;
        }
        match kind {
            "dir" => self.req(Key::DirRoot, BackendSpec::dir),
            "zfs" => self.req(Key::ZfsParent, BackendSpec::zfs),
            "cephfs" => Ok(BackendSpec::CephFs {
                fs: self.req(Key::CephfsFs, |v| {
                    spec::check_ceph_name("cephfs filesystem", v).map(|()| v.to_owned())
                })?,
                group: self.get(Key::CephfsGroup, |v| {
                    spec::check_ceph_name("cephfs subvolume group", v).map(|()| v.to_owned())
                })?,
                mount: self.get(Key::CephfsMount, |v| data_dir("cephfs mount", v))?,
                ceph: self.ceph_client()?,
            }),
            _ => Ok(BackendSpec::Rbd {
                pool: self.req(Key::RbdPool, |v| {
                    spec::check_ceph_name("rbd pool", v).map(|()| v.to_owned())
                })?,
                mount_base: self.get(Key::RbdMountBase, |v| data_dir("rbd mount base", v))?,
                map: self
                    .get(Key::RbdMap, str::parse::<RbdMap>)?
                    .unwrap_or_default(),
                ceph: self.ceph_client()?,
            }),
        }
    }

    /// `ceph-conf` and `ceph-id` (both optional).
    fn ceph_client(&self) -> Result<CephClientSpec> {
        Ok(CephClientSpec {
            conf: self.get(Key::CephConf, |v| {
                let p = PathBuf::from(v);
                spec::check_abs_path("ceph conf", &p).map(|_| p)
            })?,
            id: self.get(Key::CephId, |v| {
                spec::check_ceph_id(v).map(|()| v.to_owned())
            })?,
        })
    }

    fn record(&self, id: ShareId) -> Result<ShareRecord> {
        let backend = self.backend()?;
        let volume = VolumeRef {
            name: self.req(Key::Volume, spec::parse_volume_name)?,
            existing: self.flag(Key::Existing)?,
        };
        let quota = self.get(Key::Quota, spec::parse_quota)?;
        let ha_enabled = self.slots[Key::Ha as usize]
            .is_some()
            .then(|| self.flag(Key::Ha));
        let vip = self.get(Key::Vip, |v| {
            HaSpec::new(true, Some(v)).map(|_| v.to_owned())
        })?;
        let ha = match (ha_enabled, vip) {
            (Some(enabled), vip) => Some(HaSpec {
                enabled: enabled?,
                vip,
            }),
            (None, None) => None,
            (None, Some(_)) => {
                self.forbid(Key::Vip, "`vip` needs an `ha` line; add `ha 0` or `ha 1`")?;
                None
            }
        };
        let identity = match self.get(Key::AdRealm, |r| Ok(r.to_owned()))? {
            None => {
                self.forbid(Key::AdUser, "`ad-user` needs an `ad-realm` line")?;
                self.forbid(Key::AdOu, "`ad-ou` needs an `ad-realm` line")?;
                self.forbid(Key::AdNetbios, "`ad-netbios` needs an `ad-realm` line")?;
                self.req(Key::Workgroup, Identity::workgroup)?
            }
            Some(realm) => {
                let ad = AdSpec {
                    realm,
                    workgroup: self.get(Key::Workgroup, |w| Ok(w.to_owned()))?,
                    join_user: self.req(Key::AdUser, |u| Ok(u.to_owned()))?,
                    ou: self.get(Key::AdOu, |o| Ok(o.to_owned()))?,
                    netbios_name: self.get(Key::AdNetbios, |n| Ok(n.to_owned()))?,
                };
                let line = self.slots[Key::AdRealm as usize]
                    .as_ref()
                    .map_or(0, |p| p.line);
                ad.validate()
                    .map_err(|e| self.value_error(Key::AdRealm, line, &ad.realm, e))?;
                Identity::Ad(ad)
            }
        };
        let domain = identity.ad().is_some();
        let spec = ShareSpec {
            id,
            backend,
            volume,
            quota,
            quota_unenforced_ok: self.flag(Key::QuotaUnenforced)?,
            mode: self.req(Key::Mode, str::parse::<Mode>)?,
            identity,
            access: Access {
                users: self.names(Key::Users, "users", false, domain)?,
                groups: self.names(Key::Groups, "groups", true, domain)?,
                read_only: self.flag(Key::ReadOnly)?,
            },
            security: Security {
                audit: self.flag(Key::Audit)?,
                signing: self
                    .get(Key::Signing, str::parse::<Signing>)?
                    .unwrap_or_default(),
                encryption: self
                    .get(Key::Encryption, str::parse::<Encryption>)?
                    .unwrap_or_default(),
            },
            ha,
            container: self.get(Key::Container, str::parse::<ContainerSpec>)?,
            comment: self.get(Key::Comment, |c| {
                spec::check_comment(c).map(|()| c.to_owned())
            })?,
        };
        let state = ShareState {
            volume_id: self.req(Key::VolumeId, |v| {
                super::check_volume_id(v).map(|()| v.to_owned())
            })?,
            path: self.req(Key::Path, |v| {
                let p = PathBuf::from(v);
                spec::check_state_path(&p).map(|()| p)
            })?,
            created_volume: self.flag(Key::CreatedVolume)?,
            created_users: self.names(Key::CreatedUsers, "created users", false, false)?,
            created_at: self.req(Key::CreatedAt, |v| {
                v.parse::<u64>().map_err(|_| Error::Invalid {
                    field: "created-at",
                    value: v.to_owned(),
                    reason: "use a whole number of seconds since 1970-01-01 UTC".to_owned(),
                })
            })?,
        };
        Ok(ShareRecord { spec, state })
    }

    /// A comma-separated list of user or group names.
    fn names(
        &self,
        key: Key,
        field: &'static str,
        group: bool,
        domain: bool,
    ) -> Result<Vec<String>> {
        Ok(self
            .get(key, |v| {
                let names: Vec<String> = v
                    .split(',')
                    .map(|n| n.trim_matches(is_ascii_ws).to_owned())
                    .collect();
                if domain {
                    let a = Access {
                        users: if group { Vec::new() } else { names.clone() },
                        groups: if group { names.clone() } else { Vec::new() },
                        read_only: false,
                    };
                    a.validate_domain()?;
                } else {
                    spec::check_name_list(field, &names, group)?;
                }
                Ok(names)
            })?
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_like_proxmox() {
        assert_eq!(parse_header("share: team"), Some(("share", "team")));
        assert_eq!(parse_header("share:team"), Some(("share", "team")));
        assert_eq!(parse_header("share:   team  \r"), Some(("share", "team")));
        assert_eq!(parse_header("a:b:c"), Some(("a:b", "c")));
        assert_eq!(parse_header("a:b:"), Some(("a", "b:")));
        assert_eq!(parse_header("share: a b"), None);
        assert_eq!(parse_header(" share: a"), None);
        assert_eq!(parse_header("share:"), None);
        assert_eq!(parse_header(":a"), None);
        assert_eq!(parse_header("share a"), None);
    }

    #[test]
    fn properties_like_proxmox() {
        assert_eq!(parse_property("\tkey value"), Some(("key", Some("value"))));
        assert_eq!(
            parse_property("  key   a  b \r"),
            Some(("key", Some("a  b")))
        );
        assert_eq!(parse_property("\tdisable"), Some(("disable", None)));
        assert_eq!(parse_property("key value"), None);
        assert_eq!(parse_property("\t "), None);
    }
}
