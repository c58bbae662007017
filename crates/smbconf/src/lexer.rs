//! The shared line lexer: logical-line splitting without pest (for the
//! loader's speed) and the classification of a logical line (for both the
//! lossless [`Document`](crate::Document) and the loader).
//!
//! `split` must cut exactly where `grammar.pest` cuts, and the borrowing
//! fast path of `classify` must read a line exactly as full cooking does;
//! the property tests `fast_split_matches_grammar` and
//! `fast_path_matches_cooking` check both on arbitrary input.

use std::borrow::Cow;

use crate::cook::{cook_into, is_c_space, trim_one, Cooked};
use crate::diag::{Diagnostic, Severity, Span};

/// What the grammar calls a logical line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineClass {
    /// Only whitespace.
    Blank,
    /// First non-blank character `#` or `;`.
    Comment,
    /// Anything else (one or more physical lines).
    Content,
}

/// Whitespace other than the newline.
fn is_ws(b: u8) -> bool {
    is_c_space(b) && b != b'\n'
}

/// Split `input` into logical lines, as `grammar.pest` does.
pub(crate) fn split(input: &str) -> Vec<(LineClass, &str)> {
    let b = input.as_bytes();
    let mut out = Vec::with_capacity(b.len() / 24 + 1);
    let mut p = 0;
    while p < b.len() {
        let mut q = p;
        while q < b.len() && is_ws(b[q]) {
            q += 1;
        }
        let next_nl = |from: usize| b[from..].iter().position(|&c| c == b'\n').map(|i| from + i);
        let (class, end) = if q == b.len() {
            (LineClass::Blank, q)
        } else if b[q] == b'\n' {
            (LineClass::Blank, q + 1)
        } else if b[q] == b'#' || b[q] == b';' {
            (LineClass::Comment, next_nl(q).map_or(b.len(), |i| i + 1))
        } else {
            let mut from = q;
            let end = loop {
                let Some(nl) = next_nl(from) else {
                    break b.len();
                };
                // A newline after `\` and optional whitespace continues.
                let mut k = nl;
                while k > from && is_ws(b[k - 1]) {
                    k -= 1;
                }
                if k > from && b[k - 1] == b'\\' {
                    from = nl + 1;
                    continue;
                }
                break nl + 1;
            };
            (LineClass::Content, end)
        };
        out.push((class, &input[p..end]));
        p = end;
    }
    out
}

/// What a content line means to Samba.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Class<'a> {
    /// No `=`, or nothing before a NUL.
    Ignored,
    /// `[name]...`.
    Section(Cow<'a, str>),
    /// `name = value`.
    Param(Cow<'a, str>, Cow<'a, str>),
    /// `[` without `]`.
    Unclosed,
    /// `= value`.
    EmptyName,
}

/// A classified content line with the byte ranges (relative to the line) of
/// the name and the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Classified<'a> {
    pub(crate) class: Class<'a>,
    pub(crate) name_span: (usize, usize),
    pub(crate) value_span: (usize, usize),
}

/// Classify one content line. Lines whose cooked text is a plain slice of
/// the raw text (no continuation, no whitespace run, no NUL: nearly all)
/// borrow from `raw`; others are cooked into `buf`.
pub(crate) fn classify<'a>(raw: &'a str, buf: &mut Cooked) -> Classified<'a> {
    let bytes = raw.as_bytes();
    let lead = bytes.iter().position(|&c| !is_ws(c)).unwrap_or(bytes.len());
    let body = &raw[lead..];
    let had_nl = body.ends_with('\n');
    let body = body.strip_suffix('\n').unwrap_or(body);
    let bb = body.as_bytes();
    // A final newline after `\` (and whitespace) is a continuation into
    // nothing: cooking drops the backslash.
    let continues_at_end = had_nl && bb.iter().rev().find(|&&c| !is_ws(c)) == Some(&b'\\');
    let simple = !continues_at_end
        && !bb.contains(&b'\n')
        && !bb.contains(&0)
        && !bb.windows(2).any(|w| is_c_space(w[0]) && is_c_space(w[1]));
    if simple {
        return interpret(bb, &|a, b| Cow::Borrowed(&body[a..b]), &|a, b| {
            (lead + a, lead + b)
        });
    }
    classify_cooked(raw, buf)
}

/// [`classify`] through the full cooking algorithm.
fn classify_cooked<'a>(raw: &str, buf: &mut Cooked) -> Classified<'a> {
    cook_into(raw, buf);
    let k = &*buf;
    let span = |a: usize, b: usize| -> (usize, usize) {
        let s = k.raw_offset(a);
        let e = if b > a { k.raw_offset(b - 1) + 1 } else { s };
        (s, e)
    };
    let text = |a: usize, b: usize| Cow::Owned(String::from_utf8_lossy(&k.text[a..b]).into_owned());
    interpret(&k.text, &text, &span)
}

/// Samba's reading of a cooked line: section, parameter (first `=`, one
/// whitespace byte trimmed each side), or ignored text.
fn interpret<'a>(
    t: &[u8],
    text: &dyn Fn(usize, usize) -> Cow<'a, str>,
    span: &dyn Fn(usize, usize) -> (usize, usize),
) -> Classified<'a> {
    let mut c = Classified {
        class: Class::Ignored,
        name_span: (0, 0),
        value_span: (0, 0),
    };
    if t.is_empty() {
        return c;
    }
    if t[0] == b'[' {
        match t[1..].iter().position(|&b| b == b']') {
            Some(p) => {
                c.name_span = span(1, 1 + p);
                c.class = Class::Section(text(1, 1 + p));
            }
            None => {
                c.name_span = span(0, t.len());
                c.class = Class::Unclosed;
            }
        }
        return c;
    }
    match t.iter().position(|&b| b == b'=') {
        None => {}
        Some(0) => {
            c.name_span = span(0, 1);
            c.class = Class::EmptyName;
        }
        Some(eq) => {
            let (ns, ne) = trim_one(&t[..eq]);
            let (vs, ve) = trim_one(&t[eq + 1..]);
            let (vs, ve) = (vs + eq + 1, ve + eq + 1);
            c.name_span = span(ns, ne);
            c.value_span = span(vs, ve);
            c.class = Class::Param(text(ns, ne), text(vs, ve));
        }
    }
    c
}

/// The warning for a UTF-8 byte order mark at the start of `source`.
pub(crate) fn bom_diagnostic(source: &str) -> Option<Diagnostic> {
    source.starts_with('\u{feff}').then(|| {
        Diagnostic::new(
            Severity::Warning,
            "file starts with a UTF-8 byte order mark: Samba reads it as part of the first line, so a section header there is ignored; save the file without BOM",
            Span::locate(source, 0, 3),
        )
    })
}

/// The lexical finding about one content line, if any: severity, message
/// and byte range relative to the line.
pub(crate) fn line_finding(
    raw: &str,
    c: &Classified<'_>,
) -> Option<(Severity, &'static str, (usize, usize))> {
    match c.class {
        Class::Unclosed => Some((
            Severity::Error,
            "section header has no closing `]`",
            c.name_span,
        )),
        Class::EmptyName => Some((Severity::Error, "parameter has an empty name", c.name_span)),
        Class::Ignored if !raw.trim().is_empty() && !raw.starts_with('\0') => Some((
            Severity::Warning,
            "line has no `=` and is ignored by Samba",
            (0, raw.trim_end().len()),
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(s: &str) -> Vec<(LineClass, &str)> {
        split(s)
    }

    #[test]
    fn splits_like_the_grammar() {
        use LineClass::*;
        assert_eq!(
            classes("a\\\nb\n  \n# c \\\n x\\ \t\r\n y\nlast\\"),
            vec![
                (Content, "a\\\nb\n"),
                (Blank, "  \n"),
                (Comment, "# c \\\n"),
                (Content, " x\\ \t\r\n y\n"),
                (Content, "last\\")
            ]
        );
        assert_eq!(classes("  "), vec![(Blank, "  ")]);
        assert_eq!(classes("k=v\\\n"), vec![(Content, "k=v\\\n")]);
    }

    fn grammar_split(s: &str) -> Vec<(LineClass, String)> {
        let (doc, _) = crate::Document::parse(s);
        doc.lines()
            .iter()
            .map(|l| {
                let class = match l.kind() {
                    crate::LineKind::Blank => LineClass::Blank,
                    crate::LineKind::Comment => LineClass::Comment,
                    _ => LineClass::Content,
                };
                (class, l.raw().to_string())
            })
            .collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2048))]

        /// The loader's splitter cuts exactly where the pest grammar cuts.
        #[test]
        fn fast_split_matches_grammar(s in r"([ \t\r\\#;=\[\]a\n\x0b\x0c\x00é]{0,12}\n?){0,8}") {
            let fast: Vec<(LineClass, String)> = split(&s).into_iter().map(|(c, r)| (c, r.to_string())).collect();
            proptest::prop_assert_eq!(fast, grammar_split(&s));
        }

        /// The borrowing fast path classifies exactly like full cooking.
        #[test]
        fn fast_path_matches_cooking(s in r"([ \t\r\\#;=\[\]a\n\x00é]{0,12}\n?){0,8}") {
            let mut buf = Cooked { text: Vec::new(), map: Vec::new() };
            let mut buf2 = Cooked { text: Vec::new(), map: Vec::new() };
            for (class, raw) in split(&s) {
                if class == LineClass::Content {
                    proptest::prop_assert_eq!(classify(raw, &mut buf), classify_cooked(raw, &mut buf2));
                }
            }
        }
    }
}
