//! The lossless document: every byte of the input, split into logical lines.

use std::fmt;

use pest::Parser as _;

use crate::cook::{cook_into, Cooked};
use crate::diag::{Diagnostic, Span};
use crate::lexer::{self, Class};
use crate::params;

#[derive(pest_derive::Parser)]
#[grammar = "grammar.pest"]
struct LineParser;

/// What a logical line means to Samba.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineKind {
    /// Only whitespace.
    Blank,
    /// First non-blank character is `#` or `;`.
    Comment,
    /// `[name]...`: `name` is the text up to the first `]`, after
    /// continuation joining and whitespace collapsing, not trimmed.
    Section {
        /// The section name exactly as Samba sees it.
        name: String,
    },
    /// `name = value`, split at the first `=`, one whitespace byte trimmed on
    /// each side of name and value.
    Param {
        /// Parameter name as written (cooked).
        name: String,
        /// Value (cooked).
        value: String,
    },
    /// A line without `=` (Samba silently ignores it), or one that cooks to
    /// nothing (a NUL byte first).
    Ignored,
    /// `[` without `]`: Samba refuses the whole file.
    UnclosedSection,
    /// `= value` with an empty name: Samba refuses the whole file.
    EmptyName,
}

/// One logical line: one or more physical lines (joined by a trailing
/// backslash), with its line ending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    raw: String,
    kind: LineKind,
    /// Byte ranges (relative to the line start) of the name and the value of
    /// a parameter, or of the name of a section.
    name_span: (usize, usize),
    value_span: (usize, usize),
}

impl Line {
    fn classify(raw: String, rule: Rule) -> Line {
        let mut line = Line {
            raw,
            kind: LineKind::Blank,
            name_span: (0, 0),
            value_span: (0, 0),
        };
        match rule {
            Rule::blank => {}
            Rule::comment => line.kind = LineKind::Comment,
            _ => line.classify_content(),
        }
        line
    }

    fn classify_content(&mut self) {
        thread_local! {
            static BUF: std::cell::RefCell<Cooked> = const { std::cell::RefCell::new(Cooked { text: String::new(), map: Vec::new() }) };
        }
        let (kind, name_span, value_span) = BUF.with(|b| {
            let mut buf = b.borrow_mut();
            let c = lexer::classify(&self.raw, &mut buf);
            let kind = match c.class {
                Class::Ignored => LineKind::Ignored,
                Class::Section(name) => LineKind::Section {
                    name: name.into_owned(),
                },
                Class::Param(name, value) => LineKind::Param {
                    name: name.into_owned(),
                    value: value.into_owned(),
                },
                Class::Unclosed => LineKind::UnclosedSection,
                Class::EmptyName => LineKind::EmptyName,
            };
            (kind, c.name_span, c.value_span)
        });
        self.kind = kind;
        self.name_span = name_span;
        self.value_span = value_span;
    }

    /// What Samba's lexer makes of the line (continuations joined,
    /// whitespace collapsed, cut at NUL), for lines that are neither blank
    /// nor comments.
    pub(crate) fn cooked_text(&self) -> String {
        let mut k = Cooked::default();
        cook_into(&self.raw, &mut k);
        k.text
    }

    /// The exact source text of the line, including its line ending(s).
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// What the line means.
    pub fn kind(&self) -> &LineKind {
        &self.kind
    }

    /// The section name if this is a section header.
    pub fn section_name(&self) -> Option<&str> {
        match &self.kind {
            LineKind::Section { name } => Some(name),
            _ => None,
        }
    }

    /// `(name, value)` if this is a parameter line.
    pub fn param(&self) -> Option<(&str, &str)> {
        match &self.kind {
            LineKind::Param { name, value } => Some((name, value)),
            _ => None,
        }
    }

    /// Byte range of the parameter or section name, relative to the line.
    pub fn name_range(&self) -> std::ops::Range<usize> {
        self.name_span.0..self.name_span.1
    }

    /// Byte range of the parameter value, relative to the line.
    pub fn value_range(&self) -> std::ops::Range<usize> {
        self.value_span.0..self.value_span.1
    }

    /// Leading whitespace of the first physical line.
    fn indent(&self) -> &str {
        let n = self.raw.len() - self.raw.trim_start_matches([' ', '\t']).len();
        &self.raw[..n]
    }

    /// The separator between name and value as written (`" = "`, `"="`...),
    /// for a single-physical-line parameter.
    fn separator(&self) -> Option<&str> {
        if !matches!(self.kind, LineKind::Param { .. }) || self.raw.trim_end().contains('\n') {
            return None;
        }
        let sep = self.raw.get(self.name_span.1..self.value_span.0)?;
        sep.contains('=').then_some(sep)
    }

    fn ending(&self) -> &str {
        if self.raw.ends_with("\r\n") {
            "\r\n"
        } else if self.raw.ends_with('\n') {
            "\n"
        } else {
            ""
        }
    }
}

/// Section key: Samba compares share names case-insensitively (ASCII), and
/// recognises `[global]`/`[globals]` ignoring all whitespace.
pub fn section_key(name: &str) -> String {
    if is_global_name(name) {
        "global".to_string()
    } else {
        name.to_ascii_lowercase()
    }
}

/// Is `name` Samba's global section (`global` or `globals`, whitespace and
/// case ignored)?
pub fn is_global_name(name: &str) -> bool {
    params::strwieq(name, "global") || params::strwieq(name, "globals")
}

/// An edit was refused because it would change more than asked or produce a
/// file Samba reads differently.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    /// The section does not exist.
    #[error("section [{0}] does not exist")]
    NoSuchSection(String),
    /// A section with that name already exists.
    #[error("section [{0}] already exists")]
    SectionExists(String),
    /// The text cannot be written into smb.conf without changing its meaning.
    #[error("{what} {text:?} cannot be written to smb.conf: {reason}")]
    Unrepresentable {
        /// "section name", "parameter name" or "value".
        what: &'static str,
        /// The offending text.
        text: String,
        /// Why.
        reason: &'static str,
    },
}

/// A parsed smb.conf (or any tini-format file): the list of logical lines.
/// `to_string()` returns the input byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Document {
    lines: Vec<Line>,
}

impl Document {
    /// Parse any text. Never fails and never panics: problems are returned as
    /// diagnostics (errors are what makes Samba refuse the file).
    pub fn parse(input: &str) -> (Document, Vec<Diagnostic>) {
        let mut lines = Vec::new();
        match LineParser::parse(Rule::document, input) {
            Ok(mut pairs) => {
                if let Some(doc) = pairs.next() {
                    for pair in doc.into_inner() {
                        if pair.as_rule() == Rule::EOI {
                            continue;
                        }
                        lines.push(Line::classify(pair.as_str().to_string(), pair.as_rule()));
                    }
                }
            }
            Err(_) => {
                // The grammar accepts every input; keep the text regardless.
                lines.push(Line::classify(input.to_string(), Rule::content));
            }
        }
        let doc = Document { lines };
        let diags = doc.diagnostics(input);
        (doc, diags)
    }

    fn diagnostics(&self, source: &str) -> Vec<Diagnostic> {
        let mut out: Vec<Diagnostic> = lexer::bom_diagnostic(source).into_iter().collect();
        let (mut offset, mut line_no) = (0, 1);
        for line in &self.lines {
            if matches!(
                line.kind,
                LineKind::UnclosedSection | LineKind::EmptyName | LineKind::Ignored
            ) {
                let c = lexer::Classified {
                    class: match line.kind {
                        LineKind::UnclosedSection => Class::Unclosed,
                        LineKind::EmptyName => Class::EmptyName,
                        _ => Class::Ignored,
                    },
                    name_span: line.name_span,
                    value_span: line.value_span,
                };
                if let Some((sev, msg, (a, b))) = lexer::line_finding(&line.raw, &c) {
                    let span =
                        Span::locate_in_line(source, offset, line_no, offset + a, offset + b);
                    out.push(Diagnostic::new(sev, msg, span));
                }
            }
            offset += line.raw.len();
            line_no += line.raw.bytes().filter(|&b| b == b'\n').count();
        }
        out
    }

    /// All logical lines in order.
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// Byte offset of each line's start in the printed document.
    pub fn line_offsets(&self) -> Vec<usize> {
        let mut acc = 0;
        self.lines
            .iter()
            .map(|l| {
                let o = acc;
                acc += l.raw.len();
                o
            })
            .collect()
    }

    /// Section names in order of appearance, duplicates included.
    pub fn section_names(&self) -> Vec<&str> {
        self.lines.iter().filter_map(Line::section_name).collect()
    }

    /// Line index ranges `[header, end)` of every occurrence of `section`
    /// (matched as Samba does). The implicit global section before the first
    /// header is `(0..first_header)` with no header line.
    fn occurrences(&self, section: &str) -> Vec<(Option<usize>, usize, usize)> {
        let key = section_key(section);
        let mut out = Vec::new();
        let mut current: Option<(Option<usize>, usize)> = (key == "global").then_some((None, 0));
        for (i, line) in self.lines.iter().enumerate() {
            if let Some(name) = line.section_name() {
                if let Some((h, s)) = current.take() {
                    out.push((h, s, i));
                }
                if section_key(name) == key {
                    current = Some((Some(i), i + 1));
                }
            }
        }
        if let Some((h, s)) = current {
            out.push((h, s, self.lines.len()));
        }
        out
    }

    /// Does the document contain this section (as Samba matches names)?
    pub fn has_section(&self, section: &str) -> bool {
        self.occurrences(section).iter().any(|o| o.0.is_some())
    }

    /// The effective raw value of `param` in `section` as a plain text
    /// lookup (last value wins; synonyms resolved; inverted synonyms are
    /// reported as written). `None` when not set in this document.
    pub fn get(&self, section: &str, param: &str) -> Option<(&str, &str)> {
        let want = params::ParamKey::of(param);
        let mut found = None;
        for (_, s, e) in self.occurrences(section) {
            for line in &self.lines[s..e] {
                if let Some((n, v)) = line.param() {
                    if params::ParamKey::of(n) == want {
                        found = Some((n, v));
                    }
                }
            }
        }
        found
    }

    fn style(&self, near: Option<(usize, usize)>) -> (String, String, String) {
        let sample = |range: &mut dyn Iterator<Item = &Line>| {
            range.filter(|l| l.separator().is_some()).last().map(|l| {
                (
                    l.indent().to_string(),
                    l.separator().unwrap_or(" = ").to_string(),
                )
            })
        };
        let (indent, sep) = near
            .and_then(|(s, e)| sample(&mut self.lines[s..e].iter()))
            .or_else(|| sample(&mut self.lines.iter()))
            .unwrap_or_else(|| ("\t".to_string(), " = ".to_string()));
        let eol = if self.lines.iter().any(|l| l.raw.ends_with("\r\n")) {
            "\r\n"
        } else {
            "\n"
        };
        (indent, sep, eol.to_string())
    }

    /// Make sure the document ends with a line ending before appending.
    fn terminate_last_line(&mut self, eol: &str) {
        if let Some(last) = self.lines.last_mut() {
            if !last.raw.ends_with('\n') {
                if last.raw.ends_with('\\') {
                    // A trailing backslash would join our new line to it.
                    // Samba keeps it literal at EOF; keep that meaning.
                    last.raw.push(' ');
                }
                last.raw.push_str(eol);
                let rule = rule_of(&last.kind);
                *last = Line::classify(std::mem::take(&mut last.raw), rule);
            }
        }
    }

    /// Set `param` to `value` in `section`. The last existing assignment of
    /// the parameter (under any synonym) is rewritten in place, keeping its
    /// indentation and separator; otherwise a line formatted like its
    /// neighbours is added at the end of the section's last occurrence. A
    /// missing section is appended. Every other byte stays as it was.
    pub fn set(&mut self, section: &str, param: &str, value: &str) -> Result<(), EditError> {
        check_name(param)?;
        check_value(value)?;
        if !is_global_name(section) {
            check_section_name(section)?;
        }
        let want = params::ParamKey::of(param);
        let occ = self.occurrences(section);
        let mut last_match = None;
        for &(_, s, e) in &occ {
            for i in s..e {
                if let Some((n, _)) = self.lines[i].param() {
                    if params::ParamKey::of(n) == want {
                        last_match = Some(i);
                    }
                }
            }
        }
        if let Some(i) = last_match {
            let line = &self.lines[i];
            let (indent, sep) = match line.separator() {
                Some(sep) => (line.indent().to_string(), sep.to_string()),
                None => {
                    let (i2, s2, _) = self.style(None);
                    (i2, s2)
                }
            };
            let mut eol = line.ending().to_string();
            if eol.is_empty() && i + 1 < self.lines.len() {
                eol = "\n".into();
            }
            // A value that needs the inverted sense cannot be written under an
            // inverted synonym; write the requested name.
            let raw = format!("{indent}{param}{sep}{value}{eol}");
            self.lines[i] = Line::classify(raw, Rule::content);
            return Ok(());
        }
        let (indent, sep, eol) = self.style(occ.last().map(|o| (o.1, o.2)));
        let new_line =
            |eol: &str| Line::classify(format!("{indent}{param}{sep}{value}{eol}"), Rule::content);
        match occ.last() {
            Some(&(header, s, e)) if header.is_some() || e > s => {
                // Insert after the last non-blank line of the occurrence.
                let mut at = e;
                while at > s
                    && matches!(self.lines[at - 1].kind, LineKind::Blank | LineKind::Comment)
                {
                    at -= 1;
                }
                if at == s && header.is_none() && s == 0 && e > 0 {
                    // Implicit global section made only of comments: put the
                    // parameter after them.
                    at = e;
                    while at > 0 && matches!(self.lines[at - 1].kind, LineKind::Blank) {
                        at -= 1;
                    }
                }
                if at == self.lines.len() || (at > 0 && !self.lines[at - 1].raw.ends_with('\n')) {
                    self.terminate_last_line(&eol);
                }
                self.lines.insert(at, new_line(&eol));
            }
            _ => {
                // No such section: append it.
                self.terminate_last_line(&eol);
                if !self.lines.is_empty()
                    && !matches!(self.lines.last().map(|l| &l.kind), Some(LineKind::Blank))
                {
                    self.lines.push(Line::classify(eol.clone(), Rule::blank));
                }
                let header = if is_global_name(section) {
                    "global"
                } else {
                    section
                };
                self.lines
                    .push(Line::classify(format!("[{header}]{eol}"), Rule::content));
                self.lines.push(new_line(&eol));
            }
        }
        Ok(())
    }

    /// Remove every assignment of `param` (under any synonym) from every
    /// occurrence of `section`. Returns how many lines were removed.
    pub fn unset(&mut self, section: &str, param: &str) -> usize {
        let want = params::ParamKey::of(param);
        let mut remove = Vec::new();
        for (_, s, e) in self.occurrences(section) {
            for i in s..e {
                if let Some((n, _)) = self.lines[i].param() {
                    if params::ParamKey::of(n) == want {
                        remove.push(i);
                    }
                }
            }
        }
        for &i in remove.iter().rev() {
            self.lines.remove(i);
        }
        remove.len()
    }

    /// Append a new, empty section.
    pub fn add_section(&mut self, name: &str) -> Result<(), EditError> {
        check_section_name(name)?;
        if self.has_section(name) {
            return Err(EditError::SectionExists(name.to_string()));
        }
        let (_, _, eol) = self.style(None);
        self.terminate_last_line(&eol);
        if !self.lines.is_empty()
            && !matches!(self.lines.last().map(|l| &l.kind), Some(LineKind::Blank))
        {
            self.lines.push(Line::classify(eol.clone(), Rule::blank));
        }
        self.lines
            .push(Line::classify(format!("[{name}]{eol}"), Rule::content));
        Ok(())
    }

    /// Remove every occurrence of a section: its header, its lines, and the
    /// comment lines directly above the header (no blank line between).
    /// Returns false when there was no such section.
    pub fn remove_section(&mut self, name: &str) -> bool {
        let occ: Vec<_> = self
            .occurrences(name)
            .into_iter()
            .filter(|o| o.0.is_some())
            .collect();
        if occ.is_empty() {
            return false;
        }
        for &(header, _, end) in occ.iter().rev() {
            let mut start = header.unwrap_or(0);
            while start > 0 && matches!(self.lines[start - 1].kind, LineKind::Comment) {
                start -= 1;
            }
            // Keep the comment block if it belongs to the file (top of file).
            if start == 0 && header != Some(0) && start < header.unwrap_or(0) {
                start = header.unwrap_or(0);
            }
            self.lines.drain(start..end);
        }
        true
    }

    /// Rename every occurrence of a section header, keeping whatever follows
    /// the `]` on the header line.
    pub fn rename_section(&mut self, old: &str, new: &str) -> Result<(), EditError> {
        check_section_name(new)?;
        if section_key(old) != section_key(new) && self.has_section(new) {
            return Err(EditError::SectionExists(new.to_string()));
        }
        let occ: Vec<_> = self
            .occurrences(old)
            .into_iter()
            .filter_map(|o| o.0)
            .collect();
        if occ.is_empty() {
            return Err(EditError::NoSuchSection(old.to_string()));
        }
        for i in occ {
            let line = &self.lines[i];
            let (s, e) = line.name_span;
            let raw = format!("{}{}{}", &line.raw[..s], new, &line.raw[e..]);
            self.lines[i] = Line::classify(raw, Rule::content);
        }
        Ok(())
    }
}

fn rule_of(kind: &LineKind) -> Rule {
    match kind {
        LineKind::Blank => Rule::blank,
        LineKind::Comment => Rule::comment,
        _ => Rule::content,
    }
}

fn unrepresentable(what: &'static str, text: &str, reason: &'static str) -> EditError {
    EditError::Unrepresentable {
        what,
        text: text.to_string(),
        reason,
    }
}

fn check_common(what: &'static str, s: &str) -> Result<(), EditError> {
    if s.contains(['\n', '\r', '\0']) {
        return Err(unrepresentable(
            what,
            s,
            "it contains a line break or NUL byte",
        ));
    }
    if s.contains("  ") || s.contains('\t') || s.contains('\u{0B}') || s.contains('\u{0C}') {
        return Err(unrepresentable(
            what,
            s,
            "Samba collapses runs of whitespace and reads tabs as whitespace",
        ));
    }
    if s.ends_with('\\') {
        return Err(unrepresentable(
            what,
            s,
            "a trailing backslash continues the line",
        ));
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), EditError> {
    check_common("parameter name", name)?;
    if name.trim().is_empty() {
        return Err(unrepresentable("parameter name", name, "it is empty"));
    }
    if name.contains('=') {
        return Err(unrepresentable("parameter name", name, "it contains `=`"));
    }
    if name != name.trim() {
        return Err(unrepresentable(
            "parameter name",
            name,
            "it has leading or trailing whitespace",
        ));
    }
    if name.starts_with(['[', '#', ';']) {
        return Err(unrepresentable(
            "parameter name",
            name,
            "it starts with `[`, `#` or `;`",
        ));
    }
    Ok(())
}

fn check_value(value: &str) -> Result<(), EditError> {
    check_common("value", value)?;
    if value != value.trim_matches(|c: char| c.is_ascii_whitespace()) {
        return Err(unrepresentable(
            "value",
            value,
            "Samba trims leading and trailing whitespace",
        ));
    }
    Ok(())
}

pub(crate) fn check_section_name(name: &str) -> Result<(), EditError> {
    check_common("section name", name)?;
    if name.is_empty() {
        return Err(unrepresentable("section name", name, "it is empty"));
    }
    if name.contains(']') {
        return Err(unrepresentable("section name", name, "it contains `]`"));
    }
    Ok(())
}

impl fmt::Display for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.lines {
            f.write_str(&line.raw)?;
        }
        Ok(())
    }
}
