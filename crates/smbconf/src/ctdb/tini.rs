//! The line lexer CTDB shares with Samba ("tini"). It is the smb.conf lexer
//! of this crate (`grammar.pest` + `cook.rs`, through [`Document`]); this
//! module only maps its lines to CTDB's view. Behaviour was checked against
//! CTDB 4.17.12 (`ctdb-config validate` / `dump`).
//!
//! Rules, each checked against the real tool:
//! * Lines made only of whitespace are skipped. Whitespace is C `isspace`:
//!   space, `\t`, `\n`, `\v`, `\f`, `\r` (so CRLF files work).
//! * A line whose first non-blank byte is `#` or `;` is a comment. A comment
//!   never continues, even when it ends in `\`.
//! * Any other line is a *content* line. When, after stripping trailing
//!   whitespace, it ends in `\` and a newline follows, the `\` (and the
//!   whitespace after it) is dropped and the next physical line is appended,
//!   whatever it starts with (`\⏎#a = b` is the option `#a`). A `\` on the last
//!   line of a file without a final newline stays literal.
//! * Runs of whitespace collapse to their first character: `log  level` is
//!   `log level`, but `log\tlevel` stays `log\tlevel`.
//! * A NUL byte ends the logical line (C string semantics).
//! * `[name]...`: the name is everything up to the first `]`, untrimmed; the
//!   rest of the line is ignored. A `[` line without `]` is a *fatal* lexer
//!   error.
//! * Otherwise the first `=` splits name and value, one whitespace byte
//!   trimmed on each side (runs are already collapsed). An empty
//!   name is a fatal lexer error. A line without `=` is silently ignored by
//!   `ctdb.conf` (the tunables loader rejects it).
//! * On a fatal lexer error CTDB 4.17 throws away everything it read from the
//!   file and runs with built-in defaults, yet `ctdb-config validate` still
//!   exits 0.

use super::Span;
pub(crate) use crate::cook::is_c_space as is_space;
use crate::document::{Document, LineKind};

/// Trim C whitespace from both ends.
pub(crate) fn trim_space(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_ascii() && is_space(c as u8))
}

/// What one lexed item is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LexKind {
    /// Whitespace only.
    Blank,
    /// `#` or `;` comment line.
    Comment,
    /// `[name]`; name untrimmed.
    Section(String),
    /// `name = value`, both trimmed (value may be empty).
    Param { name: String, value: String },
    /// A content line without `=`; the cooked text.
    NoEquals(String),
    /// `[` without `]`: fatal.
    UnterminatedSection(String),
    /// `= value`: fatal.
    EmptyName(String),
}

/// One lexed item: one or more whole physical lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LexItem {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte (includes the final newline).
    pub end: usize,
    /// 1-based line number of the first physical line.
    pub line: usize,
    /// 1-based column (in characters) of the first non-blank character.
    pub column: usize,
    /// The interpretation.
    pub kind: LexKind,
}

/// One logical line of a tini-format document, with its raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Item {
    pub(crate) raw: String,
    pub(crate) kind: LexKind,
}

/// The items of `input`, each with its raw text.
pub(crate) fn items(input: &str) -> Vec<Item> {
    lex(input)
        .into_iter()
        .map(|it| Item {
            raw: input[it.start..it.end].to_string(),
            kind: it.kind,
        })
        .collect()
}

/// The span of every item of a (possibly edited) document, as [`lex`]
/// would report it for the printed text.
pub(crate) fn spans(items: &[Item]) -> Vec<Span> {
    let mut out = Vec::with_capacity(items.len());
    let mut offset = 0;
    let mut line = 1;
    for it in items {
        out.push(super::line_span(
            &it.raw,
            offset,
            line,
            first_column(&it.raw),
        ));
        offset += it.raw.len();
        line += it.raw.matches('\n').count();
    }
    out
}

/// 1-based column of the first non-blank character of `raw` (1 when there
/// is none).
pub(crate) fn first_column(raw: &str) -> usize {
    let lead = raw.bytes().position(|b| !is_space(b)).unwrap_or(0);
    raw[..lead].chars().count() + 1
}

/// Lex a whole file with the same lexer as smb.conf (CTDB links Samba's
/// tini). The items cover the input exactly, in order.
pub(crate) fn lex(input: &str) -> Vec<LexItem> {
    let (doc, _) = Document::parse(input);
    let mut items = Vec::with_capacity(doc.lines().len());
    let mut start = 0;
    let mut line = 1;
    for l in doc.lines() {
        let raw = l.raw();
        let cooked = || trim_space(&l.cooked_text()).to_string();
        let kind = match l.kind() {
            LineKind::Blank => LexKind::Blank,
            LineKind::Comment => LexKind::Comment,
            LineKind::Section { name } => LexKind::Section(name.clone()),
            LineKind::Param { name, value } => LexKind::Param {
                name: name.clone(),
                value: value.clone(),
            },
            LineKind::Ignored => LexKind::NoEquals(cooked()),
            LineKind::UnclosedSection => LexKind::UnterminatedSection(cooked()),
            LineKind::EmptyName => LexKind::EmptyName(cooked()),
        };
        items.push(LexItem {
            start,
            end: start + raw.len(),
            line,
            column: first_column(raw),
            kind,
        });
        start += raw.len();
        line += raw.matches('\n').count();
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<LexKind> {
        lex(s).into_iter().map(|i| i.kind).collect()
    }

    fn param(n: &str, v: &str) -> LexKind {
        LexKind::Param {
            name: n.into(),
            value: v.into(),
        }
    }

    #[test]
    fn covers_input() {
        let s = "a\n\n  # c \\\n[x] y\nk = v \\\n  w\nlast\\";
        let items = lex(s);
        let mut off = 0;
        for it in &items {
            assert_eq!(it.start, off);
            off = it.end;
        }
        assert_eq!(off, s.len());
    }

    #[test]
    fn continuation_and_collapse() {
        assert_eq!(
            kinds("log le\\\nvel = INFO\n"),
            vec![param("log level", "INFO")]
        );
        assert_eq!(kinds("k = IN\\\n   FO\n"), vec![param("k", "IN FO")]);
        assert_eq!(kinds("k = IN\\ \nFO\n"), vec![param("k", "INFO")]);
        assert_eq!(
            kinds("log\t\\\n level = x\n"),
            vec![param("log\tlevel", "x")]
        );
        assert_eq!(kinds("\\\n#a = b\n"), vec![param("#a", "b")]);
        assert_eq!(kinds("k = v\\"), vec![param("k", "v\\")]);
        assert_eq!(kinds("k = v\\\n"), vec![param("k", "v")]);
        assert_eq!(kinds("k = a    b\n"), vec![param("k", "a b")]);
    }

    #[test]
    fn comments_do_not_continue() {
        assert_eq!(
            kinds("# c \\\nk = v\n"),
            vec![LexKind::Comment, param("k", "v")]
        );
        assert_eq!(kinds("k = v ; c\n"), vec![param("k", "v ; c")]);
    }

    #[test]
    fn sections_and_errors() {
        assert_eq!(kinds("[ a ] junk\n"), vec![LexKind::Section(" a ".into())]);
        assert!(matches!(kinds("[a\n")[0], LexKind::UnterminatedSection(_)));
        assert!(matches!(kinds(" = v\n")[0], LexKind::EmptyName(_)));
        assert!(matches!(kinds("noeq\n")[0], LexKind::NoEquals(_)));
        assert_eq!(kinds("k = v\0junk\n"), vec![param("k", "v")]);
        assert_eq!(kinds("\x0b\n"), vec![LexKind::Blank]);
    }
}
