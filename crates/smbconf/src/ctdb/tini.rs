//! The line lexer CTDB shares with Samba ("tini"), re-implemented from its
//! observed behaviour (CTDB 4.17.12, `ctdb-config validate` / `dump`).
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
//! * Otherwise the first `=` splits name and value, both trimmed. An empty
//!   name is a fatal lexer error. A line without `=` is silently ignored by
//!   `ctdb.conf` (the tunables loader rejects it).
//! * On a fatal lexer error CTDB 4.17 throws away everything it read from the
//!   file and runs with built-in defaults, yet `ctdb-config validate` still
//!   exits 0.

/// C `isspace` in the "C" locale.
pub(crate) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

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

/// Split `input` into physical lines, each including its `\n` if present.
fn physical_lines(input: &str) -> Vec<&str> {
    input.split_inclusive('\n').collect()
}

/// Collapse whitespace runs to their first byte and cut at NUL.
fn cook(raw: &str) -> String {
    let raw = match raw.find('\0') {
        Some(i) => &raw[..i],
        None => raw,
    };
    let mut out = String::with_capacity(raw.len());
    let mut prev_space = false;
    for c in raw.chars() {
        let sp = c.is_ascii() && is_space(c as u8);
        if sp && prev_space {
            continue;
        }
        prev_space = sp;
        out.push(c);
    }
    out
}

fn interpret(cooked: &str) -> LexKind {
    let text = trim_space(cooked);
    if let Some(rest) = text.strip_prefix('[') {
        return match rest.find(']') {
            Some(i) => LexKind::Section(rest[..i].to_string()),
            None => LexKind::UnterminatedSection(text.to_string()),
        };
    }
    match text.find('=') {
        None => LexKind::NoEquals(text.to_string()),
        Some(i) => {
            let name = trim_space(&text[..i]);
            let value = trim_space(&text[i + 1..]);
            if name.is_empty() {
                LexKind::EmptyName(text.to_string())
            } else {
                LexKind::Param {
                    name: name.to_string(),
                    value: value.to_string(),
                }
            }
        }
    }
}

/// Lex a whole file. The items cover the input exactly, in order.
pub(crate) fn lex(input: &str) -> Vec<LexItem> {
    let lines = physical_lines(input);
    let mut items = Vec::new();
    let mut offset = 0usize;
    let mut i = 0usize;
    while i < lines.len() {
        let first = lines[i];
        let start = offset;
        let line_no = i + 1;
        let lead = first
            .bytes()
            .position(|b| !is_space(b))
            .unwrap_or(first.len());
        let column = first[..lead].chars().count() + 1;
        if lead == first.len() {
            offset += first.len();
            i += 1;
            items.push(LexItem {
                start,
                end: offset,
                line: line_no,
                column: 1,
                kind: LexKind::Blank,
            });
            continue;
        }
        let c = first.as_bytes()[lead];
        if c == b'#' || c == b';' {
            offset += first.len();
            i += 1;
            items.push(LexItem {
                start,
                end: offset,
                line: line_no,
                column,
                kind: LexKind::Comment,
            });
            continue;
        }
        // Content line, possibly continued.
        let mut logical = String::new();
        let mut seg = &first[lead..];
        loop {
            offset += lines[i].len();
            i += 1;
            let has_nl = seg.ends_with('\n');
            let body = seg.strip_suffix('\n').unwrap_or(seg);
            let stripped = body.trim_end_matches(|c: char| c.is_ascii() && is_space(c as u8));
            if has_nl && stripped.ends_with('\\') {
                logical.push_str(&stripped[..stripped.len() - 1]);
                if i < lines.len() {
                    seg = lines[i];
                    continue;
                }
                break;
            }
            logical.push_str(body);
            break;
        }
        items.push(LexItem {
            start,
            end: offset,
            line: line_no,
            column,
            kind: interpret(&cook(&logical)),
        });
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
