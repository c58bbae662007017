//! The shared line lexer: logical-line splitting without pest (for the
//! loader's speed) and the classification of a logical line (for both the
//! lossless [`Document`](crate::Document) and the loader).
//!
//! `lines` must cut exactly where `grammar.pest` cuts, and the borrowing
//! fast paths (`classify` on a line cooking leaves as it is, and
//! `classify_plain` on the lines `lines` marks plain while it scans them)
//! must read a line exactly as full cooking does; the property tests
//! `fast_split_matches_grammar`, `fast_path_matches_cooking` and
//! `plain_lines_classify_alike` check this on arbitrary input.

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
const fn is_ws(b: u8) -> bool {
    is_c_space(b) && b != b'\n'
}

/// Split `input` into logical lines, as `grammar.pest` does.
#[cfg(test)]
pub(crate) fn split(input: &str) -> Vec<(LineClass, &str)> {
    lines(input).map(|l| (l.class, l.raw)).collect()
}

/// One logical line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Logical<'a> {
    pub(crate) class: LineClass,
    /// The raw text, line ending(s) included.
    pub(crate) raw: &'a str,
    /// A content line that [`classify_plain`] reads: one physical line
    /// that cooking leaves as it is (no continuation, NUL or run of
    /// whitespace), which is nearly all of them.
    pub(crate) plain: bool,
}

/// The logical lines of `input` in order, as `grammar.pest` splits them.
pub(crate) fn lines(input: &str) -> impl Iterator<Item = Logical<'_>> {
    let b = input.as_bytes();
    let mut p = 0;
    std::iter::from_fn(move || {
        if p >= b.len() {
            return None;
        }
        let mut q = p;
        while q < b.len() && is_ws(b[q]) {
            q += 1;
        }
        let next_nl = |from: usize| b[from..].iter().position(|&c| c == b'\n').map(|i| from + i);
        let mut plain = false;
        let (class, end) = if q == b.len() {
            (LineClass::Blank, q)
        } else if b[q] == b'\n' {
            (LineClass::Blank, q + 1)
        } else if b[q] == b'#' || b[q] == b';' {
            (LineClass::Comment, next_nl(q).map_or(b.len(), |i| i + 1))
        } else {
            // Whether cooking changes the first physical line; a
            // continuation makes the line not plain either.
            let mut nl = next_nl(q);
            plain = cooks_to_itself(&b[q..nl.unwrap_or(b.len())]);
            let mut from = q;
            let end = loop {
                let Some(at) = nl else {
                    break b.len();
                };
                // A newline after `\` and optional whitespace continues.
                let mut k = at;
                while k > from && is_ws(b[k - 1]) {
                    k -= 1;
                }
                if k > from && b[k - 1] == b'\\' {
                    plain = false;
                    from = at + 1;
                    nl = next_nl(from);
                    continue;
                }
                break at + 1;
            };
            (LineClass::Content, end)
        };
        let raw = &input[p..end];
        p = end;
        Some(Logical { class, raw, plain })
    })
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
/// borrow from `raw`; others are cooked into `buf` and borrow from it.
pub(crate) fn classify<'a>(raw: &'a str, buf: &'a mut Cooked) -> Classified<'a> {
    let bytes = raw.as_bytes();
    let lead = bytes.iter().position(|&c| !is_ws(c)).unwrap_or(bytes.len());
    let body = &raw[lead..];
    let had_nl = body.ends_with('\n');
    let body = body.strip_suffix('\n').unwrap_or(body);
    let bb = body.as_bytes();
    // A final newline after `\` (and whitespace) is a continuation into
    // nothing: cooking drops the backslash.
    let continues_at_end = had_nl && bb.iter().rev().find(|&&c| !is_ws(c)) == Some(&b'\\');
    if !continues_at_end && cooks_to_itself(bb) {
        return interpret(
            bb,
            |a, b| Cow::Borrowed(&body[a..b]),
            |a, b| (lead + a, lead + b),
        );
    }
    classify_cooked(raw, buf)
}

/// [`classify`] for a line [`lines`] found plain.
pub(crate) fn classify_plain(raw: &str) -> Classified<'_> {
    let lead = raw.bytes().position(|c| !is_ws(c)).unwrap_or(raw.len());
    let body = &raw[lead..];
    let body = body.strip_suffix('\n').unwrap_or(body);
    interpret(
        body.as_bytes(),
        |a, b| Cow::Borrowed(&body[a..b]),
        |a, b| (lead + a, lead + b),
    )
}

/// Does cooking leave `line` (without leading whitespace and final
/// newline) as it is: no newline, no NUL, no run of whitespace?
fn cooks_to_itself(line: &[u8]) -> bool {
    let mut prev_space = false;
    for &c in line {
        let space = is_c_space(c);
        if c == b'\n' || c == 0 || (space && prev_space) {
            return false;
        }
        prev_space = space;
    }
    true
}

/// [`classify`] through the full cooking algorithm.
fn classify_cooked<'a>(raw: &str, buf: &'a mut Cooked) -> Classified<'a> {
    cook_into(raw, buf);
    let k = &*buf;
    let span = |a: usize, b: usize| -> (usize, usize) {
        let s = k.raw_offset(a);
        let e = if b > a { k.raw_offset(b - 1) + 1 } else { s };
        (s, e)
    };
    // The cuts are next to ASCII bytes, so at character boundaries.
    let text = |a: usize, b: usize| Cow::Borrowed(k.text.get(a..b).unwrap_or_default());
    interpret(k.text.as_bytes(), text, span)
}

/// Samba's reading of a cooked line: section, parameter (first `=`, one
/// whitespace byte trimmed each side), or ignored text.
fn interpret<'a>(
    t: &[u8],
    text: impl Fn(usize, usize) -> Cow<'a, str>,
    span: impl Fn(usize, usize) -> (usize, usize),
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

        /// [`classify_plain`] reads the lines the splitter finds plain as
        /// [`classify`] does.
        #[test]
        fn plain_lines_classify_alike(s in r"([ \t\r\\#;=\[\]a\n\x0b\x00é]{0,12}\n?){0,8}") {
            let mut buf = Cooked::default();
            for l in lines(&s) {
                if l.class == LineClass::Content && l.plain {
                    proptest::prop_assert_eq!(classify_plain(l.raw), classify(l.raw, &mut buf));
                }
            }
        }

        /// The borrowing fast path classifies exactly like full cooking.
        #[test]
        fn fast_path_matches_cooking(s in r"([ \t\r\\#;=\[\]a\n\x00é]{0,12}\n?){0,8}") {
            let mut buf = Cooked::default();
            let mut buf2 = Cooked::default();
            for (class, raw) in split(&s) {
                if class == LineClass::Content {
                    proptest::prop_assert_eq!(classify(raw, &mut buf), classify_cooked(raw, &mut buf2));
                }
            }
        }
    }
}
