//! The effective configuration: what Samba's loader builds from documents.

use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::cook::Cooked;
use crate::diag::{Diagnostic, Severity, Span};
use crate::document::{is_global_name, Document};
use crate::lexer::{self, Class, LineClass};
use crate::params::{self, Scope, Value};

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

/// Parameters testparm never prints in its dump: `log level` is overridden
/// by testparm's own debug level.
const NEVER_DUMPED: [&str; 1] = ["log level"];

/// Samba's include depth limit.
const MAX_INCLUDE_DEPTH: usize = 100;

/// One share (service) of the effective configuration.
#[derive(Debug, Clone)]
pub struct Service {
    name: String,
    set: Vec<(u16, Value)>,
    base: Arc<Values>,
    parametric: Vec<(String, String)>,
}

impl Service {
    /// The share name with its first-seen spelling.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn set_value(&mut self, idx: u16, v: Value) {
        match self.set.iter_mut().find(|(i, _)| *i == idx) {
            Some(slot) => slot.1 = v,
            None => self.set.push((idx, v)),
        }
    }

    fn value(&self, idx: u16) -> &Value {
        match self.set.iter().find(|(i, _)| *i == idx) {
            Some((_, v)) => v,
            None => value_in(&self.base, idx),
        }
    }

    /// Effective value of a parameter (any spelling), printed as testparm
    /// prints it. `None` for unknown names and global-only parameters;
    /// parametric options give their value when set.
    pub fn get(&self, name: &str) -> Option<String> {
        if name.contains(':') {
            return get_parametric(&self.parametric, name);
        }
        let r = params::lookup(name)?;
        if r.def().scope != Scope::Share {
            return None;
        }
        Some(self.value(r.index as u16).inverted_if(r.inverted).print())
    }
}

fn get_parametric(list: &[(String, String)], name: &str) -> Option<String> {
    list.iter()
        .find(|(k, _)| params::strwieq(k, name))
        .map(|(_, v)| v.clone())
}

fn compiled_default(idx: usize) -> &'static Value {
    static CELL: std::sync::OnceLock<Vec<Value>> = std::sync::OnceLock::new();
    &CELL.get_or_init(|| params::all().iter().map(|d| d.default_value()).collect())[idx]
}

/// The value of parameter `idx` in `map`, or its compiled default.
fn value_in(map: &Values, idx: u16) -> &Value {
    map.get(idx)
        .unwrap_or_else(|| compiled_default(idx as usize))
}

/// Values of some parameters, indexed by their position in the table.
#[derive(Debug, Clone, Default)]
struct Values {
    slots: Vec<Option<Value>>,
    /// Indices that have a value, in order of first assignment.
    set: Vec<u16>,
}

impl Values {
    fn get(&self, idx: u16) -> Option<&Value> {
        self.slots.get(idx as usize)?.as_ref()
    }

    fn insert(&mut self, idx: u16, v: Value) {
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

/// A byte range of a source text whose line and column are computed only
/// when a diagnostic needs them (counting lines for every parameter would
/// make loading quadratic).
#[derive(Clone, Copy)]
struct Loc<'a> {
    text: &'a str,
    /// Offset and 1-based number of the line the range is in.
    line_start: usize,
    line: usize,
    start: usize,
    end: usize,
}

impl Loc<'_> {
    fn span(&self) -> Span {
        Span::locate_in_line(self.text, self.line_start, self.line, self.start, self.end)
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
    globals: Values,
    global_parametric: Vec<(String, String)>,
    share_defaults: Arc<Values>,
    /// Global-section parameters testparm would print (see `HIDDEN_IN_GLOBAL`).
    dumped: FxHashSet<u16>,
    services: Vec<Service>,
    by_name: FxHashMap<String, usize>,
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
        Config {
            globals: Values::default(),
            global_parametric: vec![("idmap config * : backend".into(), "tdb".into())],
            share_defaults: Arc::default(),
            dumped: FxHashSet::default(),
            services: Vec::new(),
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
    pub fn load(text: &str, file: Option<&str>, loader: &dyn Loader) -> Config {
        let mut cfg = Config::empty();
        let mut cur = Current::Global;
        cfg.process(text, file, loader, 0, &mut cur);
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
    ) {
        self.text_len += text.len();
        if let Some(mut d) = lexer::bom_diagnostic(text) {
            d.file = file.map(str::to_string);
            self.diagnostics.push(d);
        }
        let mut buf = Cooked {
            text: Vec::new(),
            map: Vec::new(),
        };
        let (mut offset, mut line_no) = (0, 1);
        // After a lexer error Samba stops reading; we keep reporting the
        // file's other lexical findings.
        let mut stopped = false;
        for (class, raw) in lexer::split(text) {
            let (here, here_line) = (offset, line_no);
            offset += raw.len();
            line_no += raw.bytes().filter(|&b| b == b'\n').count();
            if class != LineClass::Content {
                continue;
            }
            let at = |(a, b): (usize, usize)| Loc {
                text,
                line_start: here,
                line: here_line,
                start: here + a,
                end: here + b,
            };
            let c = lexer::classify(raw, &mut buf);
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
                    let span_v = at(c.value_span);
                    let span_n = at(c.name_span);
                    if params::strwieq(name, "include") {
                        if depth + 1 > MAX_INCLUDE_DEPTH {
                            self.diag(
                                Severity::Error,
                                format!("include depth limit of {MAX_INCLUDE_DEPTH} exceeded"),
                                span_v,
                                file,
                            );
                            continue;
                        }
                        self.set_param(*cur, name, value, span_n, span_v, file);
                        if let Some(inc) = loader.load(value) {
                            self.process(&inc, Some(value), loader, depth + 1, cur);
                        }
                        continue;
                    }
                    self.set_param(*cur, name, value, span_n, span_v, file);
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
        let key = name.to_lowercase();
        if let Some(&i) = self.by_name.get(&key) {
            // Re-opening a share drops its earlier parametric options.
            self.services[i].parametric.clear();
            return Current::Service(i);
        }
        self.services.push(Service {
            name: name.to_string(),
            // A typical share sets a handful of parameters.
            set: Vec::with_capacity(8),
            base: Arc::clone(&self.share_defaults),
            parametric: Vec::new(),
        });
        let i = self.services.len() - 1;
        self.by_name.insert(key, i);
        Current::Service(i)
    }

    /// Samba's `service_ok` fix-ups, applied when a share section ends.
    fn finish_service(&mut self, cur: Current) {
        let Current::Service(i) = cur else { return };
        let (Some(path), Some(printable), Some(browseable), Some(available), Some(msdfs)) = (
            params::lookup("path"),
            params::lookup("printable"),
            params::lookup("browseable"),
            params::lookup("available"),
            params::lookup("msdfs proxy"),
        ) else {
            return;
        };
        let svc = &mut self.services[i];
        let lname = svc.name.to_ascii_lowercase();
        if lname == "printers" {
            svc.set_value(printable.index as u16, Value::Bool(true));
            svc.set_value(browseable.index as u16, Value::Bool(false));
        }
        let empty = |v: &Value| matches!(v, Value::Str(s) if s.is_empty());
        if empty(svc.value(path.index as u16))
            && lname != "homes"
            && empty(svc.value(msdfs.index as u16))
        {
            svc.set_value(available.index as u16, Value::Bool(false));
        }
    }

    fn set_param(
        &mut self,
        cur: Current,
        name: &str,
        value: &str,
        span_n: Loc<'_>,
        span_v: Loc<'_>,
        file: Option<&str>,
    ) {
        let list = match cur {
            Current::Nowhere => return,
            Current::Global => &mut self.global_parametric,
            Current::Service(i) => &mut self.services[i].parametric,
        };
        if name.contains(':') {
            let key = name.trim_start().to_lowercase();
            match list.iter_mut().find(|(k, _)| params::strwieq(k, &key)) {
                Some(slot) => slot.1 = value.to_string(),
                None => list.push((key, value.to_string())),
            }
            return;
        }
        let Some(r) = params::lookup(name) else {
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
        let def = r.def();
        if def.deprecated {
            self.diag(
                Severity::Warning,
                format!("parameter `{}` is deprecated", def.label),
                span_n,
                file,
            );
        }
        let idx = r.index as u16;
        if def.scope == Scope::Global {
            if let Current::Service(i) = cur {
                let svc = self.services[i].name.clone();
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
        if def.label == "copy" {
            if let Current::Service(i) = cur {
                self.copy_service(i, value, span_v, file);
            }
        }
        let current = match cur {
            Current::Global if def.scope == Scope::Global => value_in(&self.globals, idx),
            Current::Global => value_in(&self.share_defaults, idx),
            Current::Service(i) => self.services[i].value(idx),
            Current::Nowhere => return,
        };
        let parsed = def.parse(value, Some(current));
        let mut v = match parsed {
            Ok(v) => v,
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
        v = v.inverted_if(r.inverted);
        if def.label == "realm" {
            if let Value::Str(s) = &v {
                v = Value::Str(s.to_uppercase());
            }
        }
        if matches!(cur, Current::Global)
            && !HIDDEN_IN_GLOBAL.contains(&params::normalize(name).as_str())
        {
            self.dumped.insert(idx);
        }
        match cur {
            Current::Global if def.scope == Scope::Global => {
                self.globals.insert(idx, v);
            }
            Current::Global => {
                Arc::make_mut(&mut self.share_defaults).insert(idx, v);
            }
            Current::Service(i) => self.services[i].set_value(idx, v),
            Current::Nowhere => {}
        }
    }

    fn copy_service(&mut self, dest: usize, source: &str, span: Loc<'_>, file: Option<&str>) {
        let Some(&src) = self.by_name.get(&source.to_lowercase()) else {
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
        let from = self.services[src].clone();
        let to = &mut self.services[dest];
        let mine: Vec<u16> = to.set.iter().map(|(i, _)| *i).collect();
        let mut idxs: Vec<u16> = from.set.iter().map(|(i, _)| *i).collect();
        idxs.extend(from.base.keys());
        idxs.extend(to.base.keys());
        idxs.sort_unstable();
        idxs.dedup();
        for i in idxs {
            if !mine.contains(&i) {
                to.set_value(i, from.value(i).clone());
            }
        }
        for (k, v) in from.parametric {
            match to
                .parametric
                .iter_mut()
                .find(|(k2, _)| params::strwieq(k2, &k))
            {
                Some(slot) => slot.1 = v,
                None => to.parametric.push((k, v)),
            }
        }
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
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// A share by name (case-insensitive).
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.by_name
            .get(&name.to_lowercase())
            .map(|&i| &self.services[i])
    }

    /// Effective value of a global or share-default parameter, printed as
    /// testparm prints it.
    pub fn global(&self, name: &str) -> Option<String> {
        if name.contains(':') {
            return get_parametric(&self.global_parametric, name);
        }
        let r = params::lookup(name)?;
        let idx = r.index as u16;
        let src = if r.def().scope == Scope::Global {
            &self.globals
        } else {
            &*self.share_defaults
        };
        Some(value_in(src, idx).inverted_if(r.inverted).print())
    }

    /// The text `testparm -s` prints (its standard output) for this
    /// configuration, with default options.
    pub fn canonical(&self) -> String {
        self.canonical_with(&CanonicalOptions::default())
    }

    /// The text `testparm -s` prints, for a machine with the given options.
    pub fn canonical_with(&self, opts: &CanonicalOptions) -> String {
        let all = params::all();
        let mut out = String::with_capacity(256 + self.text_len);
        out.push_str("# Global parameters\n[global]\n");
        let netbios_default = opts.hostname.as_ref().map(|h| {
            let first = h.split('.').next().unwrap_or_default().to_uppercase();
            first.chars().take(15).collect::<String>()
        });
        for (i, def) in all.iter().enumerate() {
            if def.scope != Scope::Global {
                continue;
            }
            let Some(v) = self.globals.get(i as u16) else {
                continue;
            };
            if !self.dumped.contains(&(i as u16)) || NEVER_DUMPED.contains(&def.label) {
                continue;
            }
            let is_default = if def.label == "netbios name" {
                matches!((v, &netbios_default), (Value::Str(s), Some(d)) if s.eq_ignore_ascii_case(d))
            } else {
                v.same_as(compiled_default(i))
            };
            if !is_default {
                push_value(&mut out, def.label, v);
            }
        }
        for (k, v) in self.global_parametric.iter().rev() {
            push_param(&mut out, k, v);
        }
        for (i, def) in all.iter().enumerate() {
            if def.scope != Scope::Share {
                continue;
            }
            let Some(v) = self.share_defaults.get(i as u16) else {
                continue;
            };
            if !self.dumped.contains(&(i as u16)) {
                continue;
            }
            if !v.same_as(compiled_default(i)) {
                push_value(&mut out, def.label, v);
            }
        }
        for svc in &self.services {
            out.push_str("\n\n[");
            out.push_str(&svc.name);
            out.push_str("]\n");
            // Only parameters set somewhere can differ from the defaults.
            let mut idxs: Vec<u16> = svc.set.iter().map(|(i, _)| *i).collect();
            idxs.extend(svc.base.keys().chain(self.share_defaults.keys()));
            idxs.sort_unstable();
            idxs.dedup();
            for idx in idxs {
                let v = svc.value(idx);
                if !v.same_as(value_in(&self.share_defaults, idx)) {
                    push_value(&mut out, all[idx as usize].label, v);
                }
            }
            for (k, v) in svc.parametric.iter().rev() {
                push_param(&mut out, k, v);
            }
        }
        out
    }
}

fn push_param(out: &mut String, label: &str, value: &str) {
    out.push('\t');
    out.push_str(label);
    out.push_str(" = ");
    out.push_str(value);
    out.push('\n');
}

fn push_value(out: &mut String, label: &str, value: &Value) {
    out.push('\t');
    out.push_str(label);
    out.push_str(" = ");
    value.print_to(out);
    out.push('\n');
}
