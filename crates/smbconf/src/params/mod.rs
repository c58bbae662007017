//! Samba's parameter table and value semantics.
//!
//! The table ([`all`]) is generated from the installed Samba by
//! [`gen::generate_table`] (`cargo xtask gen-params`) and committed; a test
//! regenerates it and fails on drift. Only derived facts are stored (names,
//! types, scopes, enum spellings, compiled defaults), no documentation text.

pub mod gen;
mod table;

use std::sync::OnceLock;

use rustc_hash::FxHashMap;

pub use table::SAMBA_VERSION;
use table::{ALIASES, PARAMS_RAW};

/// Value type of a parameter, as Samba's `parm_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamType {
    /// yes/no/true/false/on/off/1/0.
    Bool,
    /// C `strtol(s, NULL, 0)` truncated to `int`; never an error.
    Integer,
    /// Decimal size with optional K/M/G/T/P unit.
    Bytes,
    /// Octal permission bits.
    Octal,
    /// One of a fixed set of names.
    Enum,
    /// Free text.
    String,
    /// Free text stored upper-cased.
    UString,
    /// One character.
    Char,
    /// Command-style list (space/comma separated, printed space separated).
    CmdList,
    /// List with `+item`/`-item` edits (printed comma separated).
    List,
}

/// Where a parameter may be set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Only in `[global]`.
    Global,
    /// In a share (and in `[global]`, as the default for shares).
    Share,
}

/// One (canonical) parameter of the installed Samba.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamDef {
    /// Canonical label as testparm prints it.
    pub label: &'static str,
    /// Value type.
    pub ty: ParamType,
    /// Global-only or share-level.
    pub scope: Scope,
    /// Compiled default, printed as `testparm -sv` prints it.
    pub default: &'static str,
    /// Marked deprecated by Samba.
    pub deprecated: bool,
    /// Enum only: every accepted spelling with the spelling testparm prints.
    pub enum_values: &'static [(&'static str, &'static str)],
}

pub(crate) type RawDef = (
    &'static str,
    ParamType,
    Scope,
    &'static str,
    bool,
    &'static [(&'static str, &'static str)],
);

/// All canonical parameters, in the order testparm prints them (globals, then
/// share-level parameters).
pub fn all() -> &'static [ParamDef] {
    static CELL: OnceLock<Vec<ParamDef>> = OnceLock::new();
    CELL.get_or_init(|| {
        PARAMS_RAW
            .iter()
            .map(
                |&(label, ty, scope, default, deprecated, enum_values)| ParamDef {
                    label,
                    ty,
                    scope,
                    default,
                    deprecated,
                    enum_values,
                },
            )
            .collect()
    })
}

/// Normalise a parameter name as Samba compares them: ASCII case folded,
/// all whitespace removed.
pub fn normalize(name: &str) -> String {
    name.bytes()
        .filter(|b| !crate::cook::is_c_space(*b))
        .map(|b| b.to_ascii_lowercase() as char)
        .collect()
}

/// Normalised name (its bytes) -> (parameter index, inverted, is a synonym).
type NameIndex = FxHashMap<Box<[u8]>, (u16, bool, bool)>;

fn index() -> &'static NameIndex {
    static CELL: OnceLock<NameIndex> = OnceLock::new();
    CELL.get_or_init(|| {
        ALIASES
            .iter()
            .map(|&(label, idx, inverted)| {
                let synonym = !strwieq(all()[idx as usize].label, label);
                (
                    normalize(label).into_bytes().into(),
                    (idx, inverted, synonym),
                )
            })
            .collect()
    })
}

/// Call `f` with the bytes of the normalised form of `name` ([`normalize`]),
/// without allocating for the short names parameters have.
fn with_normalized<T>(name: &str, f: impl FnOnce(&[u8]) -> T) -> T {
    let mut buf = [0u8; 64];
    let mut n = 0;
    for b in name.bytes().filter(|b| !crate::cook::is_c_space(*b)) {
        if n == buf.len() || !b.is_ascii() {
            return f(normalize(name).as_bytes());
        }
        buf[n] = b.to_ascii_lowercase();
        n += 1;
    }
    f(&buf[..n])
}

/// A parameter name resolved the way Samba resolves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    /// Index into [`all()`].
    pub index: usize,
    /// The name was an inverted synonym (`writeable` for `read only`).
    pub inverted: bool,
    /// The name is not the canonical label (a synonym).
    pub synonym: bool,
}

impl Resolved {
    /// The canonical definition.
    pub fn def(&self) -> &'static ParamDef {
        &all()[self.index]
    }
}

/// Resolve a parameter name (any spelling, synonyms included).
pub fn lookup(name: &str) -> Option<Resolved> {
    with_normalized(name, |n| {
        index().get(n).map(|&(idx, inverted, synonym)| Resolved {
            index: idx as usize,
            inverted,
            synonym,
        })
    })
}

/// Find the canonical parameter closest to an unknown name, for "did you
/// mean" hints.
pub fn suggest(name: &str) -> Option<&'static str> {
    let n = normalize(name);
    let mut best: Option<(usize, &'static str)> = None;
    for &(label, idx, _) in ALIASES {
        let d = edit_distance(&n, &normalize(label));
        if d <= 2.max(n.len() / 5) && best.map_or(true, |(bd, _)| d < bd) {
            best = Some((d, all()[idx as usize].label));
        }
    }
    best.map(|(_, l)| l)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a = a.as_bytes();
    let b = b.as_bytes();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// How a name compares for editing: same canonical parameter, same
/// parametric option, or same unknown name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamKey {
    /// A parameter of the table (synonyms collapse here).
    Known(usize),
    /// A parametric `type:option` name, normalised.
    Parametric(String),
    /// Anything else, normalised.
    Unknown(String),
}

impl ParamKey {
    /// Key of a name as written.
    pub fn of(name: &str) -> ParamKey {
        if name.contains(':') {
            return ParamKey::Parametric(normalize(name));
        }
        match lookup(name) {
            Some(r) => ParamKey::Known(r.index),
            None => ParamKey::Unknown(normalize(name)),
        }
    }
}

/// Why a value is not acceptable to Samba (it refuses to load the file).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// Not a boolean.
    #[error("value {value:?} is not a boolean; use yes or no")]
    NotBool {
        /// The value.
        value: String,
    },
    /// Not one of the enum's names.
    #[error("value {value:?} is not valid here; expected one of: {expected}")]
    BadEnum {
        /// The value.
        value: String,
        /// Accepted spellings.
        expected: String,
    },
    /// Not an octal number.
    #[error("value {value:?} is not an octal number such as 0644")]
    NotOctal {
        /// The value.
        value: String,
    },
    /// Not a size.
    #[error(
        "value {value:?} is not a size Samba accepts; use a decimal number with an optional K, M, G, T or P, at most 2147483647 bytes"
    )]
    NotSize {
        /// The value.
        value: String,
    },
    /// `+x` mixed with plain items.
    #[error("value {value:?} mixes +/- edits with plain items (Samba: unsupported list syntax)")]
    ListSyntax {
        /// The value.
        value: String,
    },
}

/// A parsed, typed value. Printing it gives exactly what testparm prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Boolean.
    Bool(bool),
    /// Integer, byte size or octal (as C `int`).
    Int(i32),
    /// Octal (as C `int`), printed `0%03o`.
    Octal(i32),
    /// Enum, stored as its printed spelling.
    Enum(&'static str),
    /// String (upper-cased for ustring parameters).
    Str(String),
    /// Character (a byte; 0 when empty).
    Char(u8),
    /// List items, with the separator used to print them.
    List(Vec<String>, &'static str),
}

impl Value {
    /// The text testparm prints for this value.
    pub fn print(&self) -> String {
        let mut out = String::new();
        self.print_to(&mut out);
        out
    }

    /// Append what [`Value::print`] returns to `out`.
    pub fn print_to(&self, out: &mut String) {
        match self {
            Value::Bool(true) => out.push_str("Yes"),
            Value::Bool(false) => out.push_str("No"),
            Value::Int(i) => print_int_to(*i, out),
            Value::Octal(o) => print_octal_to(*o, out),
            Value::Enum(e) => out.push_str(e),
            Value::Str(s) => out.push_str(s),
            Value::Char(c) => print_char_to(*c, out),
            Value::List(items, sep) => print_list_to(items.iter().map(String::as_str), sep, out),
        }
    }

    /// The value read through an inverted synonym (`writeable = yes` is
    /// `read only = no`): booleans flip when `inverted`.
    pub fn inverted_if(&self, inverted: bool) -> Value {
        match self {
            Value::Bool(b) if inverted => Value::Bool(!b),
            v => v.clone(),
        }
    }

    /// Samba's equality of two values of the same parameter: strings compare
    /// case-insensitively (an empty string equals unset), lists item by item.
    pub fn same_as(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Str(a), Value::Str(b)) => a.eq_ignore_ascii_case(b),
            _ => self == other,
        }
    }
}

/// Case- and whitespace-insensitive comparison (Samba's `strwicmp`).
pub fn strwieq(a: &str, b: &str) -> bool {
    let mut x = a.bytes().filter(|b| !crate::cook::is_c_space(*b));
    let mut y = b.bytes().filter(|b| !crate::cook::is_c_space(*b));
    loop {
        match (x.next(), y.next()) {
            (None, None) => return true,
            (Some(p), Some(q)) if p.eq_ignore_ascii_case(&q) => {}
            _ => return false,
        }
    }
}

/// C `strtol(s, NULL, 0)` converted to `int` as Samba's `lp_int` does (an
/// empty string gives -1).
pub fn c_strtol_int(s: &str) -> i32 {
    if s.is_empty() {
        return -1;
    }
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && crate::cook::is_c_space(b[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        neg = b[i] == b'-';
        i += 1;
    }
    let mut base = 10u32;
    if i + 1 < b.len()
        && b[i] == b'0'
        && (b[i + 1] | 0x20) == b'x'
        && i + 2 < b.len()
        && (b[i + 2] as char).is_ascii_hexdigit()
    {
        base = 16;
        i += 2;
    } else if i < b.len() && b[i] == b'0' {
        base = 8;
    }
    let mut acc: i128 = 0;
    let mut overflow = false;
    while i < b.len() {
        let Some(d) = (b[i] as char).to_digit(base) else {
            break;
        };
        if !overflow {
            acc = acc * base as i128 + d as i128;
            if acc > i64::MAX as i128 + 1 {
                overflow = true;
            }
        }
        i += 1;
    }
    let long: i64 = if overflow {
        if neg {
            i64::MIN
        } else {
            i64::MAX
        }
    } else if neg {
        if acc > i64::MAX as i128 + 1 {
            i64::MIN
        } else {
            (-acc) as i64
        }
    } else if acc > i64::MAX as i128 {
        i64::MAX
    } else {
        acc as i64
    };
    long as i32
}

/// Samba's boolean spellings, compared as [`strwieq`] compares.
fn parse_bool(v: &str) -> Option<bool> {
    // The longest spelling is `false`.
    let mut buf = [0u8; 5];
    let mut n = 0;
    for b in v.bytes().filter(|b| !crate::cook::is_c_space(*b)) {
        *buf.get_mut(n)? = b.to_ascii_lowercase();
        n += 1;
    }
    match &buf[..n] {
        b"yes" | b"true" | b"on" | b"1" => Some(true),
        b"no" | b"false" | b"off" | b"0" => Some(false),
        _ => None,
    }
}

fn parse_size(v: &str) -> Option<i32> {
    let b = v.as_bytes();
    let mut i = 0;
    while i < b.len() && crate::cook::is_c_space(b[i]) {
        i += 1;
    }
    if i < b.len() && b[i] == b'+' {
        i += 1;
    }
    let start = i;
    let mut n: u64 = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        n = n.checked_mul(10)?.checked_add(u64::from(b[i] - b'0'))?;
        i += 1;
    }
    if i == start {
        return None;
    }
    let rest = &v[i..];
    let mult: u64 = if rest.is_empty() {
        1
    } else {
        let units = [
            ("K", 1u64 << 10),
            ("M", 1 << 20),
            ("G", 1 << 30),
            ("T", 1 << 40),
            ("P", 1 << 50),
        ];
        units.iter().find(|(u, _)| strwieq(rest, u))?.1
    };
    // Samba stores sizes in a C int and refuses anything larger.
    i32::try_from(n.checked_mul(mult)?).ok()
}

fn parse_octal(v: &str) -> Option<i32> {
    let b = v.as_bytes();
    let mut i = 0;
    while i < b.len() && crate::cook::is_c_space(b[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        neg = b[i] == b'-';
        i += 1;
    }
    let start = i;
    let mut n: u64 = 0;
    while i < b.len() && (b'0'..=b'7').contains(&b[i]) {
        n = n.wrapping_mul(8).wrapping_add(u64::from(b[i] - b'0'));
        i += 1;
    }
    if i == start {
        return None;
    }
    let n = n as u32 as i32;
    Some(if neg { n.wrapping_neg() } else { n })
}

/// Split a list value the way Samba's `str_list_make_v3` does: separators
/// are whitespace, commas and semicolons, double quotes group (and are dropped).
pub fn split_list(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    for_each_list_item(v, |item| out.push(item.to_string()));
    out
}

fn is_list_separator(c: char) -> bool {
    c == ',' || c == ';' || (c.is_ascii() && crate::cook::is_c_space(c as u8))
}

/// [`split_list`] without collecting: `f` gets every (non-empty) item in
/// order. Without quotes the items are slices of `v` and nothing is
/// allocated.
pub(crate) fn for_each_list_item(v: &str, mut f: impl FnMut(&str)) {
    if !v.contains('"') {
        // The separators are ASCII, so byte positions are char boundaries.
        let mut start = 0;
        for (i, &b) in v.as_bytes().iter().enumerate() {
            if b == b',' || b == b';' || crate::cook::is_c_space(b) {
                if i > start {
                    f(&v[start..i]);
                }
                start = i + 1;
            }
        }
        if v.len() > start {
            f(&v[start..]);
        }
        return;
    }
    let mut cur = String::new();
    let mut quoted = false;
    let mut have = false;
    for c in v.chars() {
        if c == '"' {
            quoted = !quoted;
            have = true;
            continue;
        }
        if !quoted && is_list_separator(c) {
            if have && !cur.is_empty() {
                f(&cur);
            }
            cur.clear();
            have = false;
            continue;
        }
        cur.push(c);
        have = true;
    }
    if have && !cur.is_empty() {
        f(&cur);
    }
}

/// Append `i` in decimal, as C's `%d` prints it.
pub(crate) fn print_int_to(i: i32, out: &mut String) {
    if i < 0 {
        out.push('-');
    }
    print_digits(i.unsigned_abs(), 10, 1, out);
}

/// Append an octal value as testparm prints it (`0%03o`, -1 as `-1`).
pub(crate) fn print_octal_to(o: i32, out: &mut String) {
    if o == -1 {
        out.push_str("-1");
    } else {
        out.push('0');
        print_digits(o as u32, 8, 3, out);
    }
}

/// Append `n` in `base` (at most 10), zero-padded to `width` digits.
fn print_digits(mut n: u32, base: u32, width: usize, out: &mut String) {
    let mut buf = [b'0'; 12];
    let mut i = buf.len();
    while n > 0 {
        i -= 1;
        buf[i] = b'0' + (n % base) as u8;
        n /= base;
    }
    i = i.min(buf.len() - width);
    out.extend(buf[i..].iter().map(|&b| b as char));
}

/// Append a char value as testparm prints it (nothing for NUL).
pub(crate) fn print_char_to(c: u8, out: &mut String) {
    if c != 0 {
        out.push(c as char);
    }
}

/// Append list items as testparm prints them: joined with `sep`, items
/// containing a space double-quoted.
pub(crate) fn print_list_to<'a>(
    items: impl IntoIterator<Item = &'a str>,
    sep: &str,
    out: &mut String,
) {
    for (n, i) in items.into_iter().enumerate() {
        if n > 0 {
            out.push_str(sep);
        }
        if i.contains(' ') {
            out.push('"');
            out.push_str(i);
            out.push('"');
        } else {
            out.push_str(i);
        }
    }
}

impl ParamDef {
    /// The default as a typed value.
    pub fn default_value(&self) -> Value {
        match self.parse(self.default, None) {
            Ok(v) => v,
            Err(_) => Value::Str(self.default.to_string()),
        }
    }

    /// Parse a value as Samba does when it reads it. `current` is the
    /// value before this assignment (list `+x`/`-x` edits apply to it).
    pub fn parse(&self, value: &str, current: Option<&Value>) -> Result<Value, ValueError> {
        Ok(match self.ty {
            ParamType::Bool => Value::Bool(bool_value(value)?),
            ParamType::Integer => Value::Int(c_strtol_int(value)),
            ParamType::Bytes => Value::Int(size_value(value)?),
            ParamType::Octal => Value::Octal(octal_value(value)?),
            ParamType::Enum => Value::Enum(self.enum_values[self.enum_position(value)?].1),
            ParamType::String => Value::Str(value.to_string()),
            ParamType::UString => Value::Str(value.to_uppercase()),
            ParamType::Char => Value::Char(char_value(value)),
            ParamType::CmdList => Value::List(split_list(value), " "),
            ParamType::List => parse_list_edit(split_list(value), current, value)?,
        })
    }

    /// An enum value: the position in `enum_values` of the first entry
    /// printed like the spelling `value` matches, so that equal values
    /// have equal positions.
    pub(crate) fn enum_position(&self, value: &str) -> Result<usize, ValueError> {
        let printed = self
            .enum_values
            .iter()
            .find(|(name, _)| strwieq(name, value))
            .map(|(_, printed)| printed);
        let first = printed.and_then(|p| self.enum_values.iter().position(|(_, q)| q == p));
        first.ok_or_else(|| {
            let mut names: Vec<&str> = Vec::new();
            for (_, printed) in self.enum_values {
                if !names.contains(printed) {
                    names.push(printed);
                }
            }
            ValueError::BadEnum {
                value: value.to_string(),
                expected: names.join(", "),
            }
        })
    }
}

/// A boolean value.
pub(crate) fn bool_value(value: &str) -> Result<bool, ValueError> {
    parse_bool(value).ok_or_else(|| ValueError::NotBool {
        value: value.to_string(),
    })
}

/// A byte size value.
pub(crate) fn size_value(value: &str) -> Result<i32, ValueError> {
    parse_size(value).ok_or_else(|| ValueError::NotSize {
        value: value.to_string(),
    })
}

/// An octal value.
pub(crate) fn octal_value(value: &str) -> Result<i32, ValueError> {
    parse_octal(value).ok_or_else(|| ValueError::NotOctal {
        value: value.to_string(),
    })
}

/// A char value: the first byte (0 when empty).
pub(crate) fn char_value(value: &str) -> u8 {
    value.as_bytes().first().copied().unwrap_or(0)
}

/// Samba's assignment to a list parameter (observed with testparm 4.17):
/// tokens are read in order; `+name`/`-name` add (once) or remove (the
/// first exact match) when there is a current list; a plain token first
/// replaces the whole list with all tokens as written; a plain token after
/// an edit is "unsupported list syntax". An empty value changes nothing. A
/// lone `+` or `-` is a plain token. An empty compiled default is Samba's
/// NULL list, to which edits do not apply.
fn parse_list_edit(
    items: Vec<String>,
    current: Option<&Value>,
    value: &str,
) -> Result<Value, ValueError> {
    let mut list: Option<Vec<String>> = match current {
        Some(Value::List(l, _)) if !l.is_empty() => Some(l.clone()),
        _ => None,
    };
    if items.is_empty() {
        return Ok(Value::List(list.unwrap_or_default(), ", "));
    }
    for (i, item) in items.iter().enumerate() {
        // `name` only matters after an ASCII `+`/`-`: a char boundary.
        let (op, name) = (item.as_bytes()[0], item.get(1..).unwrap_or_default());
        match list.as_mut() {
            Some(l) if op == b'+' && !name.is_empty() => {
                if !l.iter().any(|b| b == name) {
                    l.push(name.to_string());
                }
            }
            Some(l) if op == b'-' && !name.is_empty() => {
                if let Some(pos) = l.iter().position(|b| b == name) {
                    l.remove(pos);
                }
            }
            _ if i == 0 => return Ok(Value::List(items, ", ")),
            _ => {
                return Err(ValueError::ListSyntax {
                    value: value.to_string(),
                })
            }
        }
    }
    Ok(Value::List(list.unwrap_or_default(), ", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtol_matches_c() {
        assert_eq!(c_strtol_int(""), -1);
        assert_eq!(c_strtol_int("abc"), 0);
        assert_eq!(c_strtol_int("12abc"), 12);
        assert_eq!(c_strtol_int("0x10"), 16);
        assert_eq!(c_strtol_int("012"), 10);
        assert_eq!(c_strtol_int("99999999999"), 1215752191);
        assert_eq!(c_strtol_int(" -5"), -5);
        // strtol saturates at LONG_MAX; the int conversion keeps the low bits.
        assert_eq!(c_strtol_int(&"9".repeat(60)), -1);
        assert_eq!(c_strtol_int(&format!("-{}", "9".repeat(60))), 0);
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1M"), Some(1 << 20));
        assert_eq!(parse_size("10 K"), Some(10240));
        assert_eq!(parse_size("0x10"), None);
        assert_eq!(parse_size("-1"), None);
        assert_eq!(parse_size("1.5M"), None);
        assert_eq!(parse_size(""), None);
        assert_eq!(parse_size("1G"), Some(1 << 30));
        assert_eq!(
            parse_size("2G"),
            None,
            "testparm refuses sizes above INT_MAX"
        );
        assert_eq!(parse_size("99999999999999999999"), None);
    }

    #[test]
    fn octals() {
        assert_eq!(parse_octal("664"), Some(0o664));
        assert_eq!(parse_octal("0x1ff"), Some(0));
        assert_eq!(parse_octal("-1"), Some(-1));
        assert_eq!(parse_octal("9"), None);
        assert_eq!(Value::Octal(0).print(), "0000");
        assert_eq!(Value::Octal(0o664).print(), "0664");
    }

    #[test]
    fn numbers_print_like_c() {
        let mut ints = vec![
            0,
            1,
            -1,
            7,
            8,
            9,
            10,
            99,
            100,
            511,
            4096,
            i32::MAX,
            i32::MIN,
        ];
        ints.extend((-2000..2000).map(|i| i * 7919));
        for i in ints {
            assert_eq!(Value::Int(i).print(), format!("{i}"));
            let octal = if i == -1 {
                "-1".to_string()
            } else {
                format!("0{:03o}", i as u32)
            };
            assert_eq!(Value::Octal(i).print(), octal);
        }
    }

    /// `str_list_make_v3` as first written: one character at a time.
    fn split_list_reference(v: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = String::new();
        let mut quoted = false;
        let mut have = false;
        for c in v.chars() {
            if c == '"' {
                quoted = !quoted;
                have = true;
                continue;
            }
            if !quoted
                && (c == ',' || c == ';' || (c.is_ascii() && crate::cook::is_c_space(c as u8)))
            {
                if have {
                    out.push(std::mem::take(&mut cur));
                    have = false;
                }
                continue;
            }
            cur.push(c);
            have = true;
        }
        if have {
            out.push(cur);
        }
        out.retain(|s| !s.is_empty());
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2048))]

        /// Booleans parse like comparing with each spelling by `strwieq`.
        #[test]
        fn bool_parse_matches_strwieq(v in r"[ \tyYeEsSnNoOtTrRuUfFaAlL01é]{0,7}") {
            const T: [&str; 4] = ["yes", "true", "on", "1"];
            const F: [&str; 4] = ["no", "false", "off", "0"];
            let reference = if T.iter().any(|t| strwieq(&v, t)) {
                Some(true)
            } else if F.iter().any(|f| strwieq(&v, f)) {
                Some(false)
            } else {
                None
            };
            proptest::prop_assert_eq!(parse_bool(&v), reference);
        }

        /// The slicing fast path splits exactly like the reference.
        #[test]
        fn list_split_matches_reference(v in r#"[ \t\r\n\x0b\x0c,;"aé\u{a0}]{0,16}"#) {
            proptest::prop_assert_eq!(split_list(&v), split_list_reference(&v));
        }
    }

    #[test]
    fn lists_split_and_quote() {
        assert_eq!(split_list(r#"lo "eth 0",x"#), vec!["lo", "eth 0", "x"]);
        assert_eq!(
            Value::List(split_list(r#"@"EXAMPLE\Domain Users", alice"#), " ").print(),
            r#""@EXAMPLE\Domain Users" alice"#
        );
    }

    #[test]
    fn synonyms_resolve() {
        let r = lookup("WRITE  able").unwrap();
        assert!(r.inverted && r.synonym);
        assert_eq!(r.def().label, "read only");
        assert_eq!(lookup("r e a d o n l y").unwrap().def().label, "read only");
        assert_eq!(suggest("read onyl"), Some("read only"));
    }

    #[test]
    fn enums_print_first_spelling() {
        let d = lookup("server signing").unwrap().def();
        assert_eq!(d.parse("Man datory", None).unwrap().print(), "required");
        let d = lookup("server min protocol").unwrap().def();
        assert_eq!(d.parse("smb2_10", None).unwrap().print(), "SMB2");
    }

    #[test]
    fn list_edits_apply_to_current() {
        let d = lookup("server smb3 encryption algorithms").unwrap().def();
        let cur = d.default_value();
        let v = d.parse("-AES-128-CCM", Some(&cur)).unwrap();
        assert_eq!(v.print(), "AES-128-GCM, AES-256-GCM, AES-256-CCM");
        assert!(d.parse("+a b", Some(&cur)).is_err());
        assert!(d.parse("-AES-128-CCM x", Some(&cur)).is_err());
        // Each case observed with testparm 4.17.
        let p = |v: &str, cur: &Value| d.parse(v, Some(cur)).unwrap().print();
        assert_eq!(p("a +b", &cur), "a, +b");
        assert_eq!(p("+", &cur), "+");
        assert_eq!(p("+ -AES-128-GCM", &cur), "+, -AES-128-GCM");
        assert_eq!(p("", &cur), cur.print());
        assert_eq!(
            p("-aes-128-ccm", &cur),
            cur.print(),
            "removal is case-sensitive"
        );
        assert_eq!(p("+x +x", &cur), format!("{}, x", cur.print()));
        let twice = d.parse("AES-128-GCM AES-128-GCM", None).unwrap();
        assert_eq!(
            p("-AES-128-GCM", &twice),
            "AES-128-GCM",
            "only the first match goes"
        );
        assert_eq!(p("ß +x", &cur), "ß, +x", "a non-ASCII first item is plain");
        assert!(d.parse("+x ß", Some(&cur)).is_err());
        let empty_default = lookup("mit kdc command").unwrap().def();
        let null = empty_default.default_value();
        assert_eq!(
            empty_default.parse("+x", Some(&null)).unwrap().print(),
            "+x"
        );
    }
}
