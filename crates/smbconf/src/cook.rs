//! Samba's logical-line "cooking": what the tini lexer makes of the raw bytes.
//!
//! Rules (observed with Samba 4.17 and matching `lib/util/tini.c`'s behaviour):
//! leading whitespace is skipped; a newline preceded by `\` or by `\` and one
//! (collapsed) whitespace byte joins the next physical line with nothing in
//! between; every run of ASCII whitespace collapses to its first byte; a NUL
//! byte ends the C string.

/// ASCII whitespace as C's `isspace` in the C locale sees it (without `\n`,
/// which is handled separately).
pub(crate) const fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | 0x0b | 0x0c | b'\n')
}

/// The cooked text of one logical line plus, for each cooked byte, the byte
/// offset of its source in the raw line. Cooking only drops ASCII bytes, so
/// the text stays UTF-8.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Cooked {
    pub(crate) text: String,
    pub(crate) map: Vec<u32>,
}

impl Cooked {
    /// Raw offset (relative to the line start) of cooked byte `i`; one past
    /// the end maps to one past the last mapped byte.
    pub(crate) fn raw_offset(&self, i: usize) -> usize {
        match self.map.get(i) {
            Some(&o) => o as usize,
            None => self.map.last().map_or(0, |&o| o as usize + 1),
        }
    }
}

/// Cook one logical line (as split by the grammar). `raw` may contain
/// continuation newlines and one final newline.
#[cfg(test)]
pub(crate) fn cook(raw: &str) -> Cooked {
    let mut k = Cooked::default();
    cook_into(raw, &mut k);
    k
}

/// [`cook`] into reusable buffers (no allocation once they are large enough).
pub(crate) fn cook_into(raw: &str, out: &mut Cooked) {
    let bytes = raw.as_bytes();
    let Cooked { text, map } = out;
    text.clear();
    map.clear();
    let mut i = 0;
    while i < bytes.len() && is_c_space(bytes[i]) && bytes[i] != b'\n' {
        i += 1;
    }
    while i < bytes.len() {
        // Copy a run of non-whitespace bytes at once.
        let run = bytes[i..]
            .iter()
            .position(|&c| is_c_space(c))
            .unwrap_or(bytes.len() - i);
        if run > 0 {
            // Cut at whitespace (ASCII) or the end: char boundaries.
            text.push_str(&raw[i..i + run]);
            map.extend(i as u32..(i + run) as u32);
            i += run;
            continue;
        }
        let c = bytes[i];
        if c == b'\n' {
            let t = text.as_bytes();
            let n = t.len();
            if n > 0 && t[n - 1] == b'\\' {
                text.pop();
                map.pop();
                i += 1;
                continue;
            }
            if n > 1 && t[n - 2] == b'\\' && is_c_space(t[n - 1]) {
                text.truncate(n - 2);
                map.truncate(n - 2);
                i += 1;
                continue;
            }
            break;
        }
        if let Some(&last) = text.as_bytes().last() {
            if is_c_space(last) && is_c_space(c) {
                i += 1;
                continue;
            }
        }
        // An ASCII whitespace byte.
        text.push(char::from(c));
        map.push(i as u32);
        i += 1;
    }
    // A NUL byte ends the C string Samba works on.
    if let Some(nul) = text.bytes().position(|b| b == 0) {
        text.truncate(nul);
        map.truncate(nul);
    }
}

/// Samba's `trim_one_space`: drop at most one whitespace byte at each end.
pub(crate) fn trim_one(s: &[u8]) -> (usize, usize) {
    let mut start = 0;
    let mut end = s.len();
    if end > 0 && is_c_space(s[0]) {
        start = 1;
    }
    if end > start && is_c_space(s[end - 1]) {
        end -= 1;
    }
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> String {
        cook(s).text
    }

    #[test]
    fn collapses_whitespace_runs_to_first_byte() {
        assert_eq!(c("  a \t  b\t\tc\n"), "a b\tc");
    }

    #[test]
    fn continuation_joins_without_separator() {
        assert_eq!(c("x\\\ny = 1\n"), "xy = 1");
        assert_eq!(c("path = /a \\\n   /b\n"), "path = /a /b");
        assert_eq!(c("k = v\\  \r\nw\n"), "k = vw");
    }

    #[test]
    fn backslash_at_eof_without_newline_stays() {
        assert_eq!(c("k=v\\"), "k=v\\");
    }

    #[test]
    fn nul_truncates() {
        assert_eq!(c("k=v\0w\n"), "k=v");
    }

    #[test]
    fn map_points_at_raw_bytes() {
        let k = cook("  ab   c\n");
        assert_eq!(k.text, "ab c");
        assert_eq!(k.map, vec![2, 3, 4, 7]);
        assert_eq!(k.raw_offset(4), 8);
    }

    #[test]
    fn trim_one_only_trims_one() {
        assert_eq!(trim_one(b" a "), (1, 2));
        assert_eq!(trim_one(b""), (0, 0));
        assert_eq!(trim_one(b" "), (1, 1));
    }
}
