//! Diagnostics with spans and caret snippets.

use std::fmt;

/// How bad a diagnostic is. Errors make Samba refuse to load the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Samba would ignore or adjust something; the file still loads.
    Warning,
    /// Samba refuses the whole file ("Error loading services").
    Error,
}

/// A location in a source text: byte range plus 1-based line and column of
/// its start (column counted in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte (`start == end` for a point).
    pub end: usize,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column (characters) of `start` within its line.
    pub column: usize,
}

impl Span {
    /// Compute line and column for the byte range `start..end` of `source`.
    pub fn locate(source: &str, start: usize, end: usize) -> Span {
        let start = floor_char_boundary(source, start.min(source.len()));
        let end = floor_char_boundary(source, end.clamp(start, source.len()));
        let before = &source[..start];
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = source[line_start..start].chars().count() + 1;
        Span {
            start,
            end,
            line,
            column,
        }
    }
}

impl Span {
    /// Like [`Span::locate`], but counting only from `line_start`, the
    /// offset of the start of line `line` (1-based): linear in the length
    /// of that line, not of the file.
    pub(crate) fn locate_in_line(
        source: &str,
        line_start: usize,
        line: usize,
        start: usize,
        end: usize,
    ) -> Span {
        let start = floor_char_boundary(source, start.min(source.len()));
        let end = floor_char_boundary(source, end.clamp(start, source.len()));
        let line_start = line_start.min(start);
        let before = &source[line_start..start];
        let extra = before.bytes().filter(|&b| b == b'\n').count();
        let col_from = before
            .rfind('\n')
            .map_or(line_start, |i| line_start + i + 1);
        Span {
            start,
            end,
            line: line + extra,
            column: source[col_from..start].chars().count() + 1,
        }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// One finding about a configuration text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Lowercase message without trailing period.
    pub message: String,
    /// Where in the file it is.
    pub span: Span,
    /// The file the span refers to, when it is not the main document
    /// (an included file).
    pub file: Option<String>,
}

impl Diagnostic {
    pub(crate) fn new(severity: Severity, message: impl Into<String>, span: Span) -> Self {
        Diagnostic {
            severity,
            message: message.into(),
            span,
            file: None,
        }
    }

    /// Is this an error (Samba would refuse to load)?
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Render in the style of rustc: header, location, the source line and a
    /// caret under the span. `source` must be the text the span refers to.
    pub fn render(&self, source: &str, file_name: &str) -> String {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let name = self.file.as_deref().unwrap_or(file_name);
        let mut out = format!(
            "{sev}: {}\n --> {name}:{}:{}\n",
            self.message, self.span.line, self.span.column
        );
        let start = self.span.start.min(source.len());
        let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[line_start..]
            .find('\n')
            .map_or(source.len(), |i| line_start + i);
        let text = source[line_start..line_end].trim_end_matches('\r');
        let num = self.span.line.to_string();
        let pad = " ".repeat(num.len());
        let col = source[line_start..start].chars().count();
        let end = self.span.end.min(line_end).max(start);
        let width = source[start..end].chars().count().max(1);
        // Keep tabs so the caret lines up under tab-indented text.
        let lead: String = source[line_start..start]
            .chars()
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        debug_assert_eq!(lead.chars().count(), col);
        out.push_str(&format!(
            "{pad} |\n{num} | {text}\n{pad} | {lead}{}\n",
            "^".repeat(width)
        ));
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{}:{}: {sev}: {}",
            self.span.line, self.span.column, self.message
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_counts_lines_and_chars() {
        let s = "a\nbä c\n";
        let sp = Span::locate(s, 6, 7);
        assert_eq!((sp.line, sp.column), (2, 4));
    }

    #[test]
    fn render_puts_caret_under_span() {
        let src = "[s]\n  read only = maybe\n";
        let start = src.find("maybe").unwrap();
        let d = Diagnostic::new(
            Severity::Error,
            "value is not a boolean",
            Span::locate(src, start, start + 5),
        );
        let r = d.render(src, "smb.conf");
        assert_eq!(
            r,
            "error: value is not a boolean\n --> smb.conf:2:15\n  |\n2 |   read only = maybe\n  |               ^^^^^\n"
        );
    }
}
