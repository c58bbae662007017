//! The effective configuration: what Samba's loader builds from documents.
//!
//! Loading must stay cheap for configurations of many thousands of shares,
//! so nothing is allocated per parameter: every string of a [`Config`]
//! (share names, values, list items, parametric options) is appended to one
//! text buffer, an [`Arena`], and values are small `Copy` handles into it
//! ([`Val`]). [`Value`] is the public, owned form of a value.

use std::cell::Cell;
use std::fmt;
use std::hash::Hasher as _;
use std::sync::OnceLock;

use rustc_hash::FxHashMap;

use crate::cook::Cooked;
use crate::diag::{Diagnostic, Severity, Span};
use crate::document::{is_global_name, Document};
use crate::lexer::{self, Class, LineClass};
use crate::params::{self, ParamDef, ParamType, Resolved, Scope, Value, ValueError};

/// Reads included files. Samba resolves relative paths against the process
/// working directory and silently skips files it cannot read.
pub trait Loader {
    /// The text of `path`, or `None` when it cannot be read (not an error
    /// for Samba).
    fn load(&self, path: &str) -> Option<String>;
}

/// A loader for which every include is missing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoIncludes;

impl Loader for NoIncludes {
    fn load(&self, _path: &str) -> Option<String> {
        None
    }
}

/// Synonyms that, set in `[global]`, change the value but leave it out of
/// `testparm -s` output (observed with Samba 4.17: Samba clears the
/// "non-default" mark only on table entries next to the one used).
const HIDDEN_IN_GLOBAL: [&str; 5] = [
    "writeable",
    "writable",
    "writeok",
    "enablespoolss",
    "smbencrypt",
];

/// Samba's include depth limit.
const MAX_INCLUDE_DEPTH: usize = 100;

/// A string of an [`Arena`]: a byte range of its text (or, for a list, a
/// range of its items).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Str {
    start: u32,
    end: u32,
}

impl Str {
    fn is_empty(self) -> bool {
        self.start == self.end
    }

    fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// An arena offset (also a position in a [`Runs`] vector, which has fewer
/// items than the arena has bytes): the strings of a configuration are
/// about as long as the texts read (see [`Config::load`]).
fn offset(n: usize) -> u32 {
    u32::try_from(n).expect("configuration text larger than 4 GiB")
}

/// All strings of one configuration, appended to one buffer.
#[derive(Debug, Clone, Default)]
struct Arena {
    text: String,
    /// The items of all list values.
    items: Vec<Str>,
}

/// A value stored in an [`Arena`]: [`Value`] without allocations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Val {
    Bool(bool),
    Int(i32),
    Octal(i32),
    /// Position in the parameter's `enum_values` of the first spelling
    /// that prints like the value (so equal values are equal positions).
    Enum(u16),
    Char(u8),
    Str(Str),
    /// A range of [`Arena::items`]; `true`: printed `, `-separated.
    List(Str, bool),
}

impl Arena {
    fn get(&self, s: Str) -> &str {
        &self.text[s.range()]
    }

    fn push(&mut self, s: &str) -> Str {
        let start = offset(self.text.len());
        self.text.push_str(s);
        Str {
            start,
            end: offset(self.text.len()),
        }
    }

    /// Push `s` as `str::to_lowercase` returns it.
    fn push_lowercase(&mut self, s: &str) -> Str {
        if !s.is_ascii() {
            return self.push(&s.to_lowercase());
        }
        let r = self.push(s);
        self.text[r.range()].make_ascii_lowercase();
        r
    }

    /// Push `s` as `str::to_uppercase` returns it.
    fn push_uppercase(&mut self, s: &str) -> Str {
        if !s.is_ascii() {
            return self.push(&s.to_uppercase());
        }
        let r = self.push(s);
        self.text[r.range()].make_ascii_uppercase();
        r
    }

    /// Split `value` as [`params::split_list`] does, into new items.
    fn push_list(&mut self, value: &str) -> Str {
        let start = offset(self.items.len());
        let Arena { text, items } = self;
        params::for_each_list_item(value, |item| {
            let s = offset(text.len());
            text.push_str(item);
            items.push(Str {
                start: s,
                end: offset(text.len()),
            });
        });
        Str {
            start,
            end: offset(self.items.len()),
        }
    }

    fn list(&self, l: Str) -> impl Iterator<Item = &str> {
        self.items[l.range()].iter().map(|&s| self.get(s))
    }

    /// Store a value of parameter `def`.
    fn intern(&mut self, def: &ParamDef, v: &Value) -> Val {
        match v {
            Value::Bool(b) => Val::Bool(*b),
            Value::Int(i) => Val::Int(*i),
            Value::Octal(o) => Val::Octal(*o),
            Value::Char(c) => Val::Char(*c),
            Value::Enum(e) => match def.enum_values.iter().position(|(_, p)| p == e) {
                Some(pos) => Val::Enum(pos as u16),
                None => Val::Str(self.push(e)),
            },
            Value::Str(s) => Val::Str(self.push(s)),
            Value::List(items, sep) => {
                let start = offset(self.items.len());
                for item in items {
                    let s = self.push(item);
                    self.items.push(s);
                }
                let range = Str {
                    start,
                    end: offset(self.items.len()),
                };
                Val::List(range, *sep == ", ")
            }
        }
    }

    /// The owned form of a stored value of parameter `def`.
    fn value(&self, def: &ParamDef, v: Val) -> Value {
        match v {
            Val::Bool(b) => Value::Bool(b),
            Val::Int(i) => Value::Int(i),
            Val::Octal(o) => Value::Octal(o),
            Val::Char(c) => Value::Char(c),
            Val::Enum(pos) => Value::Enum(enum_spelling(def, pos)),
            Val::Str(s) => Value::Str(self.get(s).to_string()),
            Val::List(l, comma) => Value::List(
                self.list(l).map(str::to_string).collect(),
                list_separator(comma),
            ),
        }
    }

    /// Parse `value` as parameter `def`, whose value is `current` before
    /// the assignment: [`ParamDef::parse`] into the arena.
    fn parse(&mut self, def: &ParamDef, value: &str, current: Val) -> Result<Val, ValueError> {
        Ok(match def.ty {
            ParamType::String => Val::Str(self.push(value)),
            ParamType::UString => Val::Str(self.push_uppercase(value)),
            ParamType::CmdList => Val::List(self.push_list(value), false),
            ParamType::List => {
                let current = self.value(def, current);
                let v = def.parse(value, Some(&current))?;
                self.intern(def, &v)
            }
            ParamType::Bool => Val::Bool(params::bool_value(value)?),
            ParamType::Integer => Val::Int(params::c_strtol_int(value)),
            ParamType::Bytes => Val::Int(params::size_value(value)?),
            ParamType::Octal => Val::Octal(params::octal_value(value)?),
            ParamType::Enum => Val::Enum(def.enum_position(value)? as u16),
            ParamType::Char => Val::Char(params::char_value(value)),
        })
    }

    /// Append what [`Value::print_to`] appends for the value.
    fn print(&self, def: &ParamDef, v: Val, out: &mut String) {
        match v {
            Val::Bool(true) => out.push_str("Yes"),
            Val::Bool(false) => out.push_str("No"),
            Val::Int(i) => params::print_int_to(i, out),
            Val::Octal(o) => params::print_octal_to(o, out),
            Val::Enum(pos) => out.push_str(enum_spelling(def, pos)),
            Val::Str(s) => out.push_str(self.get(s)),
            Val::Char(c) => params::print_char_to(c, out),
            Val::List(l, comma) => params::print_list_to(self.list(l), list_separator(comma), out),
        }
    }

    /// [`Value::same_as`] on stored values.
    fn same(&self, a: Val, b: Val) -> bool {
        match (a, b) {
            (Val::Str(x), Val::Str(y)) => x == y || self.get(x).eq_ignore_ascii_case(self.get(y)),
            (Val::List(x, cx), Val::List(y, cy)) => {
                cx == cy && x.end - x.start == y.end - y.start && self.list(x).eq(self.list(y))
            }
            _ => a == b,
        }
    }
}

fn enum_spelling(def: &ParamDef, pos: u16) -> &'static str {
    def.enum_values.get(pos as usize).map_or("", |e| e.1)
}

fn list_separator(comma: bool) -> &'static str {
    if comma {
        ", "
    } else {
        " "
    }
}

/// The value read through an inverted synonym: booleans flip.
fn inverted_if(v: Val, inverted: bool) -> Val {
    match v {
        Val::Bool(b) if inverted => Val::Bool(!b),
        v => v,
    }
}

/// The compiled defaults, stored in an arena every configuration's arena
/// starts as a copy of (so default values are valid in all of them).
struct Defaults {
    arena: Arena,
    values: Vec<Val>,
}

fn defaults() -> &'static Defaults {
    static CELL: OnceLock<Defaults> = OnceLock::new();
    CELL.get_or_init(|| {
        let mut arena = Arena::default();
        let values = params::all()
            .iter()
            .map(|d| arena.intern(d, &d.default_value()))
            .collect();
        Defaults { arena, values }
    })
}

fn compiled_default(idx: u16) -> Val {
    defaults().values[idx as usize]
}

/// The value of parameter `idx` in `map`, or its compiled default.
fn value_in(map: &Values, idx: u16) -> Val {
    map.get(idx).unwrap_or_else(|| compiled_default(idx))
}

/// Table positions of the parameters the loader treats specially
/// (`u16::MAX` if the table lacks one).
struct Special {
    path: u16,
    printable: u16,
    browseable: u16,
    available: u16,
    msdfs_proxy: u16,
    copy: u16,
    realm: u16,
    include: u16,
    netbios_name: u16,
    log_level: u16,
}

fn special() -> &'static Special {
    static CELL: OnceLock<Special> = OnceLock::new();
    CELL.get_or_init(|| {
        let i = |name| params::lookup(name).map_or(u16::MAX, |r| r.index as u16);
        Special {
            path: i("path"),
            printable: i("printable"),
            browseable: i("browseable"),
            available: i("available"),
            msdfs_proxy: i("msdfs proxy"),
            copy: i("copy"),
            realm: i("realm"),
            include: i("include"),
            netbios_name: i("netbios name"),
            // Overridden by testparm's own debug level: never in its dump.
            log_level: i("log level"),
        }
    })
}

/// Values of some parameters, indexed by their position in the table.
#[derive(Debug, Clone, Default)]
struct Values {
    slots: Vec<Option<Val>>,
    /// Indices that have a value, in order of first assignment.
    set: Vec<u16>,
}

impl Values {
    fn get(&self, idx: u16) -> Option<Val> {
        *self.slots.get(idx as usize)?
    }

    fn insert(&mut self, idx: u16, v: Val) {
        if self.slots.is_empty() {
            self.slots = vec![None; params::all().len()];
        }
        let slot = &mut self.slots[idx as usize];
        if slot.is_none() {
            self.set.push(idx);
        }
        *slot = Some(v);
    }

    fn keys(&self) -> impl Iterator<Item = u16> + '_ {
        self.set.iter().copied()
    }
}

/// A share as stored in its [`Config`].
#[derive(Debug, Clone)]
struct Share {
    name: Str,
    /// Parameters set in the share's sections: a run of [`Config::entries`].
    set: Run,
    /// The share-level defaults as they were when the share was opened:
    /// a position in [`Config::bases`].
    base: u32,
    /// Parametric options: a run of [`Config::share_parametric`].
    parametric: Run,
    /// The previous share whose name has the same [`name_hash`]
    /// (`u32::MAX`: none).
    same_hash: u32,
}

/// The hash of a share name as Samba compares them: of its lower-cased
/// form (`str::to_lowercase`).
fn name_hash(name: &str) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    if name.is_ascii() {
        name.bytes()
            .for_each(|b| h.write_u8(b.to_ascii_lowercase()));
    } else {
        name.to_lowercase().bytes().for_each(|b| h.write_u8(b));
    }
    h.finish()
}

/// Are two share names the same share (equal lower-cased)?
fn same_name(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.to_lowercase() == b.to_lowercase()
    }
}

/// A range of one of the [`Runs`] vectors.
#[derive(Debug, Clone, Copy, Default)]
struct Run {
    start: u32,
    end: u32,
}

impl Run {
    fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// Per-share lists of all shares in one vector (a few small vectors per
/// share cost more to allocate, fill and free than the values they hold).
/// Each share owns a [`Run`]; a run grows at the end of the vector, so a
/// run that is not there (its share was opened again) moves there first,
/// leaving its old copy unused.
#[derive(Debug, Clone)]
struct Runs<T> {
    items: Vec<T>,
}

impl<T> Default for Runs<T> {
    fn default() -> Self {
        Runs { items: Vec::new() }
    }
}

impl<T: Clone> Runs<T> {
    fn get(&self, run: Run) -> &[T] {
        &self.items[run.range()]
    }

    /// `run` with room to grow: moved to the end of the vector if needed.
    fn at_end(&mut self, run: &mut Run) -> &mut [T] {
        if run.end as usize != self.items.len() {
            let start = offset(self.items.len());
            self.items.extend_from_within(run.range());
            *run = Run {
                start,
                end: offset(self.items.len()),
            };
        }
        &mut self.items[run.range()]
    }

    /// Append `item` to `run`.
    fn push(&mut self, run: &mut Run, item: T) {
        self.at_end(run);
        self.items.push(item);
        run.end += 1;
    }
}

/// Set `idx` to `v` in a run of parameter entries.
fn set_entry(entries: &mut Runs<(u16, Val)>, run: &mut Run, idx: u16, v: Val) {
    match entries.at_end(run).iter_mut().find(|(i, _)| *i == idx) {
        Some(slot) => slot.1 = v,
        None => entries.push(run, (idx, v)),
    }
}

/// One share (service) of the effective configuration.
#[derive(Clone, Copy)]
pub struct Service<'a> {
    cfg: &'a Config,
    share: &'a Share,
}

impl<'a> Service<'a> {
    /// The share name with its first-seen spelling.
    pub fn name(&self) -> &'a str {
        self.cfg.arena.get(self.share.name)
    }

    /// Effective value of a parameter (any spelling), printed as testparm
    /// prints it. `None` for unknown names and global-only parameters;
    /// parametric options give their value when set.
    pub fn get(&self, name: &str) -> Option<String> {
        if name.contains(':') {
            return self
                .cfg
                .get_parametric(self.cfg.share_parametric.get(self.share.parametric), name);
        }
        let r = params::lookup(name)?;
        if r.def().scope != Scope::Share {
            return None;
        }
        Some(
            self.cfg
                .print_resolved(r, self.cfg.share_value(self.share, r.index as u16)),
        )
    }
}

impl fmt::Debug for Service<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Service")
            .field("name", &self.name())
            .finish_non_exhaustive()
    }
}

/// What one [`Config::load`] keeps besides the configuration: caches.
struct Scratch {
    names: NameCache,
    recent: Recent,
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            names: NameCache::new(),
            recent: Recent::default(),
        }
    }
}

/// A parameter name resolved ([`Resolved`] in the few bytes the loader
/// copies around).
#[derive(Clone, Copy)]
struct Known {
    /// Position in the table.
    idx: u16,
    /// The name is an inverted synonym.
    inverted: bool,
}

impl Known {
    /// [`params::lookup`].
    fn lookup(name: &str) -> Option<Known> {
        params::lookup(name).map(|r| Known {
            idx: r.index as u16,
            inverted: r.inverted,
        })
    }
}

/// One `name = value` line.
#[derive(Clone, Copy)]
struct Assignment<'a> {
    name: &'a str,
    value: &'a str,
    /// What `name` resolves to (`None` for parametric and unknown names).
    known: Option<Known>,
    name_loc: Loc<'a>,
    value_loc: Loc<'a>,
    file: Option<&'a str>,
}

/// The last values stored, to store a value again without a copy: a file
/// of many shares repeats values (`vfs objects`, parametric options) from
/// share to share.
#[derive(Default)]
struct Recent {
    /// By parameter: the last value of a string or list parameter, and for
    /// lists the text it was parsed from (a string is its own text).
    by_param: Vec<Option<(Val, String)>>,
    /// The last parametric key and value stored.
    key: Option<Str>,
    value: Option<Str>,
}

impl Recent {
    /// The value `value` parses to for parameter `idx`, if it is the last
    /// one stored.
    fn get(&self, arena: &Arena, def: &ParamDef, idx: u16, value: &str) -> Option<Val> {
        let (v, raw) = self.by_param.get(usize::from(idx))?.as_ref()?;
        let same = match (def.ty, v) {
            (ParamType::String, Val::Str(s)) => arena.get(*s) == value,
            (ParamType::CmdList, _) => raw == value,
            _ => false,
        };
        same.then_some(*v)
    }

    /// Remember that `value` parsed to `v` for parameter `idx`.
    fn remember(&mut self, def: &ParamDef, idx: u16, value: &str, v: Val) {
        if !matches!(def.ty, ParamType::String | ParamType::CmdList) {
            return;
        }
        if self.by_param.is_empty() {
            self.by_param = vec![None; params::all().len()];
        }
        let (last, raw) = self.by_param[usize::from(idx)].get_or_insert((v, String::new()));
        *last = v;
        if def.ty == ParamType::CmdList {
            raw.clear();
            raw.push_str(value);
        }
    }
}

/// Parameter names as written, with what they resolve to: a file spells
/// the same few names over and over, and comparing a name with the ones
/// last seen in its set (of two) is cheaper than normalising and hashing it.
struct NameCache {
    slots: Vec<[CachedName; 2]>,
}

/// Longest name [`NameCache`] keeps.
const CACHED_NAME_LEN: usize = 24;

#[derive(Clone, Copy)]
struct CachedName {
    len: u8,
    name: [u8; CACHED_NAME_LEN],
    resolved: Option<Known>,
}

impl CachedName {
    fn is(&self, name: &[u8]) -> bool {
        usize::from(self.len) == name.len() && &self.name[..name.len()] == name
    }
}

impl NameCache {
    fn new() -> NameCache {
        let empty = CachedName {
            len: 0,
            name: [0; CACHED_NAME_LEN],
            resolved: None,
        };
        NameCache {
            slots: vec![[empty; 2]; 32],
        }
    }

    /// [`Known::lookup`].
    fn lookup(&mut self, name: &str) -> Option<Known> {
        let b = name.as_bytes();
        if b.is_empty() || b.len() > CACHED_NAME_LEN {
            return Known::lookup(name);
        }
        let key = (b.len() as u32)
            ^ u32::from(b[0]) << 8
            ^ u32::from(b[b.len() / 2]) << 16
            ^ u32::from(b[b.len() - 1]) << 24;
        let set = &mut self.slots[(key.wrapping_mul(0x9e37_79b1) >> 27) as usize];
        if let Some(hit) = set.iter().find(|c| c.is(b)) {
            return hit.resolved;
        }
        let resolved = Known::lookup(name);
        // The newest entry first: two names sharing a set both stay.
        set[1] = set[0];
        set[0].len = b.len() as u8;
        set[0].name[..b.len()].copy_from_slice(b);
        set[0].resolved = resolved;
        resolved
    }
}

/// A byte range of a source text whose line and column are computed only
/// when a diagnostic needs them.
#[derive(Clone, Copy)]
struct Loc<'a> {
    text: &'a str,
    /// The start of a line at or before this one and its 1-based number,
    /// moved forward by each diagnostic: lines are counted once, and only
    /// up to the last diagnostic (counting them for every parameter would
    /// cost time on every load, and from the start of the text for each
    /// diagnostic would make loading quadratic).
    mark: &'a Cell<(usize, usize)>,
    line_start: usize,
    start: usize,
    end: usize,
}

impl Loc<'_> {
    fn span(&self) -> Span {
        let (mut at, mut line) = self.mark.get();
        if at > self.line_start {
            (at, line) = (0, 1);
        }
        line += self.text.as_bytes()[at..self.line_start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.mark.set((self.line_start, line));
        Span::locate_in_line(self.text, self.line_start, line, self.start, self.end)
    }
}

/// Options of the canonical (testparm) rendering.
#[derive(Debug, Clone, Default)]
pub struct CanonicalOptions {
    /// Host name of the machine testparm would run on: the default of
    /// `netbios name` is derived from it. `None` prints any set NetBIOS name.
    pub hostname: Option<String>,
}

/// The effective configuration Samba builds from an smb.conf.
#[derive(Debug, Clone)]
pub struct Config {
    arena: Arena,
    globals: Values,
    global_parametric: Vec<(Str, Str)>,
    share_defaults: Values,
    /// Snapshots of `share_defaults` taken when shares were opened.
    bases: Vec<Values>,
    /// The snapshot equal to `share_defaults`, if taken since it last
    /// changed.
    current_base: Option<u32>,
    /// Global-section parameters testparm would print (see `HIDDEN_IN_GLOBAL`).
    dumped: Vec<bool>,
    shares: Vec<Share>,
    /// The runs of [`Share::set`].
    entries: Runs<(u16, Val)>,
    /// The runs of [`Share::parametric`].
    share_parametric: Runs<(Str, Str)>,
    /// Share names: [`name_hash`] -> position in `shares` of the last
    /// share with that hash (see [`Share::same_hash`]).
    by_name: FxHashMap<u64, u32>,
    diagnostics: Vec<Diagnostic>,
    failed: bool,
    /// Bytes of configuration text read (main file and includes): the
    /// canonical form is rarely longer, so it sizes the output buffer.
    text_len: usize,
}

#[derive(Clone, Copy)]
enum Current {
    Global,
    Service(usize),
    /// After a section Samba refused (empty name): parameters go nowhere.
    Nowhere,
}

impl Config {
    fn empty() -> Config {
        let mut arena = defaults().arena.clone();
        let idmap = (arena.push("idmap config * : backend"), arena.push("tdb"));
        Config {
            arena,
            globals: Values::default(),
            global_parametric: vec![idmap],
            share_defaults: Values::default(),
            bases: Vec::new(),
            current_base: None,
            dumped: vec![false; params::all().len()],
            shares: Vec::new(),
            entries: Runs::default(),
            share_parametric: Runs::default(),
            by_name: FxHashMap::default(),
            diagnostics: Vec::new(),
            failed: false,
            text_len: 0,
        }
    }

    /// The effective configuration of a document without includes.
    pub fn from_document(doc: &Document) -> Config {
        let text = doc.to_string();
        Config::load(&text, None, &NoIncludes)
    }

    /// Parse `text` and build the effective configuration, reading includes
    /// through `loader`. `file` names the text in diagnostics of included
    /// files.
    ///
    /// # Panics
    ///
    /// If the configuration's strings take more than 4 GiB (all texts read,
    /// includes included, of more than about a GiB).
    pub fn load(text: &str, file: Option<&str>, loader: &dyn Loader) -> Config {
        let mut cfg = Config::empty();
        // Names and values are a good part of a typical file.
        cfg.arena.text.reserve(text.len() / 2);
        let mut cur = Current::Global;
        let mut scratch = Scratch::new();
        cfg.process(text, file, loader, 0, &mut cur, &mut scratch);
        cfg.finish_service(cur);
        cfg
    }

    fn diag(&mut self, sev: Severity, msg: String, loc: Loc<'_>, file: Option<&str>) {
        let span = loc.span();
        if sev == Severity::Error {
            self.failed = true;
        }
        let mut d = Diagnostic::new(sev, msg, span);
        d.file = file.map(str::to_string);
        self.diagnostics.push(d);
    }

    fn process(
        &mut self,
        text: &str,
        file: Option<&str>,
        loader: &dyn Loader,
        depth: usize,
        cur: &mut Current,
        scratch: &mut Scratch,
    ) {
        self.text_len += text.len();
        if let Some(mut d) = lexer::bom_diagnostic(text) {
            d.file = file.map(str::to_string);
            self.diagnostics.push(d);
        }
        let mut buf = Cooked::default();
        let mark = Cell::new((0, 1));
        let mut offset = 0;
        // After a lexer error Samba stops reading; we keep reporting the
        // file's other lexical findings.
        let mut stopped = false;
        for line in lexer::lines(text) {
            let (here, raw) = (offset, line.raw);
            offset += raw.len();
            if line.class != LineClass::Content {
                continue;
            }
            let at = |(a, b): (usize, usize)| Loc {
                text,
                mark: &mark,
                line_start: here,
                start: here + a,
                end: here + b,
            };
            let c = if line.plain {
                lexer::classify_plain(raw)
            } else {
                lexer::classify(raw, &mut buf)
            };
            if let Some((sev, msg, range)) = lexer::line_finding(raw, &c) {
                self.diag(sev, msg.to_string(), at(range), file);
                stopped |= sev == Severity::Error;
                continue;
            }
            if stopped {
                continue;
            }
            match &c.class {
                Class::Section(name) => {
                    self.finish_service(*cur);
                    *cur = self.open_section(name);
                    if name.is_empty() {
                        self.diag(
                            Severity::Error,
                            "section has an empty name".into(),
                            at((0, 2)),
                            file,
                        );
                    }
                }
                Class::Param(name, value) => {
                    let a = Assignment {
                        name,
                        value,
                        known: if name.contains(':') {
                            None
                        } else {
                            scratch.names.lookup(name)
                        },
                        name_loc: at(c.name_span),
                        value_loc: at(c.value_span),
                        file,
                    };
                    if a.known.is_some_and(|k| k.idx == special().include) {
                        if depth + 1 > MAX_INCLUDE_DEPTH {
                            self.diag(
                                Severity::Error,
                                format!("include depth limit of {MAX_INCLUDE_DEPTH} exceeded"),
                                a.value_loc,
                                file,
                            );
                            continue;
                        }
                        self.set_param(*cur, &a, scratch);
                        if let Some(inc) = loader.load(value) {
                            self.process(&inc, Some(value), loader, depth + 1, cur, scratch);
                        }
                        continue;
                    }
                    self.set_param(*cur, &a, scratch);
                }
                _ => {}
            }
        }
    }

    fn open_section(&mut self, name: &str) -> Current {
        if is_global_name(name) {
            return Current::Global;
        }
        if name.is_empty() {
            return Current::Nowhere;
        }
        let hash = name_hash(name);
        if let Some(i) = self.find_share(hash, name) {
            // Re-opening a share drops its earlier parametric options.
            let run = &mut self.shares[i].parametric;
            run.end = run.start;
            return Current::Service(i);
        }
        let i = self.shares.len();
        let same_hash = self.by_name.insert(hash, offset(i)).unwrap_or(u32::MAX);
        let name = self.arena.push(name);
        let base = self.current_base();
        self.shares.push(Share {
            name,
            set: Run::default(),
            base,
            parametric: Run::default(),
            same_hash,
        });
        Current::Service(i)
    }

    /// The position of the share named `name`, whose [`name_hash`] is `hash`.
    fn find_share(&self, hash: u64, name: &str) -> Option<usize> {
        let mut i = *self.by_name.get(&hash)?;
        loop {
            let share = self.shares.get(i as usize)?;
            if same_name(self.arena.get(share.name), name) {
                return Some(i as usize);
            }
            i = share.same_hash;
        }
    }

    /// The snapshot of the share-level defaults as they are now.
    fn current_base(&mut self) -> u32 {
        match self.current_base {
            Some(b) => b,
            None => {
                self.bases.push(self.share_defaults.clone());
                let b = offset(self.bases.len() - 1);
                self.current_base = Some(b);
                b
            }
        }
    }

    /// The share-level defaults `share` inherited.
    fn base(&self, share: &Share) -> &Values {
        &self.bases[share.base as usize]
    }

    /// The value of parameter `idx` in `share`.
    fn share_value(&self, share: &Share, idx: u16) -> Val {
        match self.entries.get(share.set).iter().find(|(i, _)| *i == idx) {
            Some(&(_, v)) => v,
            None => value_in(self.base(share), idx),
        }
    }

    fn set_share_value(&mut self, share: usize, idx: u16, v: Val) {
        set_entry(&mut self.entries, &mut self.shares[share].set, idx, v);
    }

    /// Samba's `service_ok` fix-ups, applied when a share section ends.
    fn finish_service(&mut self, cur: Current) {
        let Current::Service(i) = cur else { return };
        let sp = special();
        if [
            sp.path,
            sp.printable,
            sp.browseable,
            sp.available,
            sp.msdfs_proxy,
        ]
        .contains(&u16::MAX)
        {
            return;
        }
        let name = self.arena.get(self.shares[i].name);
        let (printers, homes) = (
            name.eq_ignore_ascii_case("printers"),
            name.eq_ignore_ascii_case("homes"),
        );
        if printers {
            self.set_share_value(i, sp.printable, Val::Bool(true));
            self.set_share_value(i, sp.browseable, Val::Bool(false));
        }
        let share = &self.shares[i];
        let empty = |v: Val| matches!(v, Val::Str(s) if s.is_empty());
        if empty(self.share_value(share, sp.path))
            && !homes
            && empty(self.share_value(share, sp.msdfs_proxy))
        {
            self.set_share_value(i, sp.available, Val::Bool(false));
        }
    }

    /// Make an assignment in section `cur`.
    fn set_param(&mut self, cur: Current, a: &Assignment<'_>, scratch: &mut Scratch) {
        let Assignment {
            name,
            value,
            known,
            name_loc: span_n,
            value_loc: span_v,
            file,
        } = *a;
        if matches!(cur, Current::Nowhere) {
            return;
        }
        if name.contains(':') {
            self.set_parametric(cur, name, value, &mut scratch.recent);
            return;
        }
        let Some(r) = known else {
            let hint = params::suggest(name)
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            self.diag(
                Severity::Warning,
                format!("unknown parameter `{name}` is ignored{hint}"),
                span_n,
                file,
            );
            return;
        };
        let def = &params::all()[usize::from(r.idx)];
        if def.deprecated {
            self.diag(
                Severity::Warning,
                format!("parameter `{}` is deprecated", def.label),
                span_n,
                file,
            );
        }
        let idx = r.idx;
        if def.scope == Scope::Global {
            if let Current::Service(i) = cur {
                let svc = self.arena.get(self.shares[i].name).to_string();
                self.diag(
                    Severity::Warning,
                    format!(
                        "global parameter `{}` in share [{svc}] is ignored; move it to [global]",
                        def.label
                    ),
                    span_n,
                    file,
                );
                return;
            }
        }
        let sp = special();
        if idx == sp.copy {
            if let Current::Service(i) = cur {
                self.copy_service(i, value, span_v, file);
            }
        }
        let current = match cur {
            Current::Global if def.scope == Scope::Global => value_in(&self.globals, idx),
            Current::Global => value_in(&self.share_defaults, idx),
            Current::Service(i) => self.share_value(&self.shares[i], idx),
            Current::Nowhere => return,
        };
        let parsed = match scratch.recent.get(&self.arena, def, idx, value) {
            Some(v) => Ok(v),
            None => {
                let parsed = self.arena.parse(def, value, current);
                if let Ok(v) = parsed {
                    scratch.recent.remember(def, idx, value, v);
                }
                parsed
            }
        };
        let mut v = match parsed {
            Ok(v) => inverted_if(v, r.inverted),
            Err(e) => {
                self.diag(
                    Severity::Error,
                    format!("`{}`: {e}", def.label),
                    span_v,
                    file,
                );
                return;
            }
        };
        if idx == sp.realm {
            if let Val::Str(s) = v {
                let upper = self.arena.get(s).to_string();
                v = Val::Str(self.arena.push_uppercase(&upper));
            }
        }
        if matches!(cur, Current::Global)
            && !HIDDEN_IN_GLOBAL.iter().any(|h| params::strwieq(name, h))
        {
            self.dumped[idx as usize] = true;
        }
        match cur {
            Current::Global if def.scope == Scope::Global => {
                self.globals.insert(idx, v);
            }
            Current::Global => {
                self.share_defaults.insert(idx, v);
                self.current_base = None;
            }
            Current::Service(i) => self.set_share_value(i, idx, v),
            Current::Nowhere => {}
        }
    }

    /// Set the parametric option `name` (`type:option`) in section `cur`.
    fn set_parametric(&mut self, cur: Current, name: &str, value: &str, recent: &mut Recent) {
        let trimmed = name.trim_start();
        let arena = &mut self.arena;
        // Stored keys are lower-cased: one equal to the name as written is
        // the name's key if lower-casing leaves the name as it is.
        let key = match recent.key {
            Some(k) if arena.get(k) == trimmed && trimmed.is_ascii() => k,
            _ => arena.push_lowercase(trimmed),
        };
        let list = match cur {
            Current::Nowhere => return,
            Current::Global => &mut self.global_parametric[..],
            Current::Service(i) => self.share_parametric.at_end(&mut self.shares[i].parametric),
        };
        let pos = list
            .iter()
            .position(|(k, _)| params::strwieq(arena.get(*k), arena.get(key)));
        let value = match recent.value {
            Some(v) if arena.get(v) == value => v,
            _ => arena.push(value),
        };
        recent.value = Some(value);
        if let Some(pos) = pos {
            // The option keeps its first spelling.
            recent.key = Some(list[pos].0);
            list[pos].1 = value;
            return;
        }
        recent.key = Some(key);
        match cur {
            Current::Nowhere => {}
            Current::Global => self.global_parametric.push((key, value)),
            Current::Service(i) => self
                .share_parametric
                .push(&mut self.shares[i].parametric, (key, value)),
        }
    }

    fn copy_service(&mut self, dest: usize, source: &str, span: Loc<'_>, file: Option<&str>) {
        let Some(src) = self.find_share(name_hash(source), source) else {
            self.diag(
                Severity::Error,
                format!("cannot copy from unknown share [{source}]; define it above this share"),
                span,
                file,
            );
            return;
        };
        if src == dest {
            return;
        }
        // Samba copies every parameter the destination has not set itself.
        let from = self.shares[src].clone();
        let to = self.shares[dest].clone();
        let from_set = self.entries.get(from.set).to_vec();
        let mine: Vec<u16> = self.entries.get(to.set).iter().map(|(i, _)| *i).collect();
        let mut idxs: Vec<u16> = from_set.iter().map(|(i, _)| *i).collect();
        idxs.extend(self.base(&from).keys());
        idxs.extend(self.base(&to).keys());
        idxs.sort_unstable();
        idxs.dedup();
        for i in idxs {
            if !mine.contains(&i) {
                let v = match from_set.iter().find(|(j, _)| *j == i) {
                    Some(&(_, v)) => v,
                    None => value_in(self.base(&from), i),
                };
                self.set_share_value(dest, i, v);
            }
        }
        // Samba adds each option at the head of the destination's list
        // (which is printed first to last, so in reverse order of
        // insertion), taking the source's from head to tail: newest first.
        for (k, v) in self
            .share_parametric
            .get(from.parametric)
            .to_vec()
            .into_iter()
            .rev()
        {
            let arena = &self.arena;
            let run = &mut self.shares[dest].parametric;
            match self
                .share_parametric
                .at_end(run)
                .iter_mut()
                .find(|(k2, _)| params::strwieq(arena.get(*k2), arena.get(k)))
            {
                Some(slot) => slot.1 = v,
                None => self.share_parametric.push(run, (k, v)),
            }
        }
    }

    fn get_parametric(&self, list: &[(Str, Str)], name: &str) -> Option<String> {
        list.iter()
            .find(|(k, _)| params::strwieq(self.arena.get(*k), name))
            .map(|(_, v)| self.arena.get(*v).to_string())
    }

    /// A value as read through the name `r` resolved from, printed.
    fn print_resolved(&self, r: Resolved, v: Val) -> String {
        let mut out = String::new();
        self.arena
            .print(r.def(), inverted_if(v, r.inverted), &mut out);
        out
    }

    /// Everything found while loading: errors (Samba would refuse the file)
    /// and warnings.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// Would Samba refuse to load this configuration?
    pub fn has_errors(&self) -> bool {
        self.failed
    }

    /// The shares, in order of first appearance.
    pub fn services(&self) -> impl ExactSizeIterator<Item = Service<'_>> + DoubleEndedIterator {
        self.shares.iter().map(|share| Service { cfg: self, share })
    }

    /// A share by name (case-insensitive).
    pub fn service(&self, name: &str) -> Option<Service<'_>> {
        self.find_share(name_hash(name), name).map(|i| Service {
            cfg: self,
            share: &self.shares[i],
        })
    }

    /// Effective value of a global or share-default parameter, printed as
    /// testparm prints it.
    pub fn global(&self, name: &str) -> Option<String> {
        if name.contains(':') {
            return self.get_parametric(&self.global_parametric, name);
        }
        let r = params::lookup(name)?;
        let idx = r.index as u16;
        let src = if r.def().scope == Scope::Global {
            &self.globals
        } else {
            &self.share_defaults
        };
        Some(self.print_resolved(r, value_in(src, idx)))
    }

    /// The text `testparm -s` prints (its standard output) for this
    /// configuration, with default options.
    pub fn canonical(&self) -> String {
        self.canonical_with(&CanonicalOptions::default())
    }

    /// The text `testparm -s` prints, for a machine with the given options.
    pub fn canonical_with(&self, opts: &CanonicalOptions) -> String {
        let mut out = String::with_capacity(256 + self.text_len);
        let done: Result<(), std::convert::Infallible> =
            self.render_canonical(opts, &mut out, usize::MAX, |_| Ok(()));
        match done {
            Ok(()) => out,
        }
    }

    /// [`Config::canonical_with`] written to `out` a piece at a time, which
    /// for a large configuration is cheaper than building the whole text
    /// first. Only `out` does I/O.
    pub fn write_canonical(
        &self,
        opts: &CanonicalOptions,
        out: &mut impl std::io::Write,
    ) -> std::io::Result<()> {
        const PIECE: usize = 64 * 1024;
        let mut buf = String::with_capacity(PIECE + 4096);
        self.render_canonical(opts, &mut buf, PIECE, |piece| {
            out.write_all(piece.as_bytes())?;
            piece.clear();
            Ok::<(), std::io::Error>(())
        })?;
        out.write_all(buf.as_bytes())
    }

    /// Append the canonical text to `out`, handing `out` to `flush` (which
    /// empties it) whenever it holds `flush_at` bytes or more.
    fn render_canonical<E>(
        &self,
        opts: &CanonicalOptions,
        out: &mut String,
        flush_at: usize,
        mut flush: impl FnMut(&mut String) -> Result<(), E>,
    ) -> Result<(), E> {
        let all = params::all();
        let sp = special();
        let arena = &self.arena;
        out.push_str("# Global parameters\n[global]\n");
        let netbios_default = opts.hostname.as_ref().map(|h| {
            let first = h.split('.').next().unwrap_or_default().to_uppercase();
            first.chars().take(15).collect::<String>()
        });
        for (i, def) in all.iter().enumerate() {
            let idx = i as u16;
            if def.scope != Scope::Global || !self.dumped[i] || idx == sp.log_level {
                continue;
            }
            let Some(v) = self.globals.get(idx) else {
                continue;
            };
            let is_default = if idx == sp.netbios_name {
                matches!((v, &netbios_default), (Val::Str(s), Some(d)) if arena.get(s).eq_ignore_ascii_case(d))
            } else {
                arena.same(v, compiled_default(idx))
            };
            if !is_default {
                push_value(out, arena, def, v);
            }
        }
        for &(k, v) in self.global_parametric.iter().rev() {
            push_param(out, arena.get(k), arena.get(v));
        }
        for (i, def) in all.iter().enumerate() {
            let idx = i as u16;
            if def.scope != Scope::Share || !self.dumped[i] {
                continue;
            }
            let Some(v) = self.share_defaults.get(idx) else {
                continue;
            };
            if !arena.same(v, compiled_default(idx)) {
                push_value(out, arena, def, v);
            }
        }
        let mut values: Vec<(u16, Val)> = Vec::new();
        for share in &self.shares {
            if out.len() >= flush_at {
                flush(out)?;
            }
            out.push_str("\n\n[");
            out.push_str(arena.get(share.name));
            out.push_str("]\n");
            // Only parameters set somewhere can differ from the defaults:
            // in the share, in its base or in the share-level defaults.
            values.clear();
            values.extend_from_slice(self.entries.get(share.set));
            let base = self.base(share);
            for idx in base.keys().chain(self.share_defaults.keys()) {
                if !values.iter().any(|(i, _)| *i == idx) {
                    values.push((idx, value_in(base, idx)));
                }
            }
            values.sort_unstable_by_key(|(i, _)| *i);
            for &(idx, v) in &values {
                if !arena.same(v, value_in(&self.share_defaults, idx)) {
                    push_value(out, arena, &all[idx as usize], v);
                }
            }
            for &(k, v) in self.share_parametric.get(share.parametric).iter().rev() {
                push_param(out, arena.get(k), arena.get(v));
            }
        }
        Ok(())
    }
}

fn push_param(out: &mut String, label: &str, value: &str) {
    out.push('\t');
    out.push_str(label);
    out.push_str(" = ");
    out.push_str(value);
    out.push('\n');
}

fn push_value(out: &mut String, arena: &Arena, def: &ParamDef, value: Val) {
    out.push('\t');
    out.push_str(def.label);
    out.push_str(" = ");
    arena.print(def, value, out);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_canonical_writes_the_canonical_text() {
        let share = "[s%]\npath = /srv/%\ncomment = share %\n";
        let text: String = (0..5000)
            .map(|i| share.replace('%', &i.to_string()))
            .collect();
        let cfg = Config::load(&text, None, &NoIncludes);
        let opts = CanonicalOptions::default();
        let mut written = Vec::new();
        cfg.write_canonical(&opts, &mut written).unwrap();
        assert!(written.len() > 200_000);
        assert_eq!(
            String::from_utf8(written).unwrap(),
            cfg.canonical_with(&opts)
        );
    }
}
