//! `ctdb.conf`: lossless document, CTDB 4.17's option table, its loading and
//! validation rules, and a builder.
//!
//! Loading, as observed with `ctdb-config validate` / `dump` (4.17.12):
//! * Section names compare ASCII case-insensitively (`[LOGGING]` works) but
//!   are not trimmed (`[ logging ]` is unknown). Option names compare exactly:
//!   `Log level` and `log\tlevel` are unknown (`log  level` works only because
//!   the lexer collapses the two spaces).
//! * Unknown sections, options outside a known section, unknown options and
//!   empty values are errors (exit 22). Loading goes on after an error, so
//!   every problem is reported.
//! * Booleans: `true`, `yes`, `false`, `no`, any case. Nothing else (`1`, `on`).
//! * Integers: C `strtol(s, NULL, 0)`; trailing garbage is ignored
//!   (`12abc` is 12, `0x10` is 16, `08` is 0, `abc` is 0), and the result must
//!   be in 0..=2147483647 (`-1`, `2147483648` are errors).
//! * A value equal to the option's default is skipped entirely: it is not
//!   validated and it does not replace an earlier non-default value.
//!   `leader timeout = 7` then `leader timeout = 5` leaves 7 in effect.
//!   Otherwise the last value wins.
//! * Per-option checks: see [`OPTIONS`] and the `check_*` functions below.
//! * A fatal lexer error (`[` without `]`, `= value`) stops reading; CTDB then
//!   discards every value and runs with built-in defaults. `ctdb-config
//!   validate` exits 0 in that case unless an error came before that line.
//! * `ctdb-config` finds its file through `CTDB_BASE` only when
//!   `CTDB_TEST_MODE` is set; otherwise it reads `/etc/ctdb/ctdb.conf`. A
//!   missing file fails with exit 2 (ENOENT), an empty file is valid.

use std::fmt;
use std::net::IpAddr;

use super::tini::{self, is_space, Item, LexKind};
use super::{CtdbError, Diagnostic, Span};

/// The directory ctdb reads its configuration from.
pub const CTDB_DEFAULT_ETC_DIR: &str = "/etc/ctdb";

/// The sections ctdb 4.17 knows, in `ctdb-config dump` order.
pub const SECTIONS: &[&str] = &[
    "logging", "cluster", "database", "event", "failover", "legacy",
];

/// The type of an option's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionKind {
    /// `true|yes|false|no`.
    Bool,
    /// Integer 0..=i32::MAX, parsed like C `strtol(s, NULL, 0)`.
    Int,
    /// Free text (some options check it further).
    Str,
}

/// Extra check ctdb runs on a non-default value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    None,
    Location,
    DebugLevel,
    Transport,
    NodeAddress,
    Deprecated(&'static str),
    Positive,
    Directory,
    Script,
}

/// One option ctdb 4.17 knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionSpec {
    /// Canonical section name.
    pub section: &'static str,
    /// Option name (case-sensitive).
    pub name: &'static str,
    /// Value type.
    pub kind: OptionKind,
    /// Built-in default as `ctdb-config dump` prints it; `None` = unset.
    pub default: Option<&'static str>,
    check: Check,
}

const fn opt(
    section: &'static str,
    name: &'static str,
    kind: OptionKind,
    default: Option<&'static str>,
    check: Check,
) -> OptionSpec {
    OptionSpec {
        section,
        name,
        kind,
        default,
        check,
    }
}

use OptionKind::{Bool, Int, Str};

/// Every option of `ctdb-config dump` 4.17, in its order, with its defaults.
pub const OPTIONS: &[OptionSpec] = &[
    opt(
        "logging",
        "location",
        Str,
        Some("file:/var/log/ctdb/log.ctdb"),
        Check::Location,
    ),
    opt(
        "logging",
        "log level",
        Str,
        Some("ERROR"),
        Check::DebugLevel,
    ),
    opt("cluster", "transport", Str, Some("tcp"), Check::Transport),
    opt("cluster", "node address", Str, None, Check::NodeAddress),
    opt("cluster", "cluster lock", Str, None, Check::None),
    opt(
        "cluster",
        "recovery lock",
        Str,
        None,
        Check::Deprecated("cluster lock"),
    ),
    opt("cluster", "leader timeout", Int, Some("5"), Check::Positive),
    opt(
        "cluster",
        "leader capability",
        Bool,
        Some("true"),
        Check::None,
    ),
    opt(
        "database",
        "volatile database directory",
        Str,
        Some("/var/lib/ctdb/volatile"),
        Check::Directory,
    ),
    opt(
        "database",
        "persistent database directory",
        Str,
        Some("/var/lib/ctdb/persistent"),
        Check::Directory,
    ),
    opt(
        "database",
        "state database directory",
        Str,
        Some("/var/lib/ctdb/state"),
        Check::Directory,
    ),
    opt("database", "lock debug script", Str, None, Check::Script),
    opt("database", "tdb mutexes", Bool, Some("true"), Check::None),
    opt("event", "debug script", Str, None, Check::Script),
    opt("failover", "disabled", Bool, Some("false"), Check::None),
    opt(
        "legacy",
        "realtime scheduling",
        Bool,
        Some("true"),
        Check::None,
    ),
    opt(
        "legacy",
        "lmaster capability",
        Bool,
        Some("true"),
        Check::None,
    ),
    opt(
        "legacy",
        "start as stopped",
        Bool,
        Some("false"),
        Check::None,
    ),
    opt(
        "legacy",
        "start as disabled",
        Bool,
        Some("false"),
        Check::None,
    ),
    opt(
        "legacy",
        "script log level",
        Str,
        Some("ERROR"),
        Check::DebugLevel,
    ),
];

fn section_index(name: &str) -> Option<usize> {
    SECTIONS.iter().position(|s| s.eq_ignore_ascii_case(name))
}

fn option_index(section: &str, name: &str) -> Option<usize> {
    OPTIONS
        .iter()
        .position(|o| o.section == section && o.name == name)
}

fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

fn suggest(section: &str, name: &str) -> Option<&'static str> {
    let key = squash(name);
    OPTIONS
        .iter()
        .find(|o| o.section == section && squash(o.name) == key)
        .map(|o| o.name)
}

/// A converted option value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfValue {
    /// Boolean option.
    Bool(bool),
    /// Integer option.
    Int(i32),
    /// String option.
    Str(String),
}

impl fmt::Display for ConfValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfValue::Bool(b) => f.write_str(if *b { "true" } else { "false" }),
            ConfValue::Int(i) => write!(f, "{i}"),
            ConfValue::Str(s) => f.write_str(s),
        }
    }
}

/// C `strtol(s, NULL, 0)` on a 64-bit `long`: leading whitespace, sign,
/// `0x`/`0` prefixes, stops at the first invalid digit, saturates.
pub(crate) fn c_strtol(s: &str) -> i64 {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && is_space(b[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        neg = b[i] == b'-';
        i += 1;
    }
    let mut radix = 10u32;
    if i < b.len() && b[i] == b'0' {
        if i + 2 < b.len() && (b[i + 1] == b'x' || b[i + 1] == b'X') && b[i + 2].is_ascii_hexdigit()
        {
            radix = 16;
            i += 2;
        } else {
            radix = 8;
        }
    }
    let mut acc: i128 = 0;
    while i < b.len() {
        let Some(d) = (b[i] as char).to_digit(radix) else {
            break;
        };
        acc = acc * i128::from(radix) + i128::from(d);
        if acc > i128::from(i64::MAX) + 1 {
            acc = i128::from(i64::MAX) + 1;
        }
        i += 1;
    }
    let v = if neg { -acc } else { acc };
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

fn convert(kind: OptionKind, text: &str) -> Option<ConfValue> {
    match kind {
        OptionKind::Bool => {
            if text.eq_ignore_ascii_case("true") || text.eq_ignore_ascii_case("yes") {
                Some(ConfValue::Bool(true))
            } else if text.eq_ignore_ascii_case("false") || text.eq_ignore_ascii_case("no") {
                Some(ConfValue::Bool(false))
            } else {
                None
            }
        }
        OptionKind::Int => {
            let v = c_strtol(text);
            i32::try_from(v)
                .ok()
                .filter(|v| *v >= 0)
                .map(ConfValue::Int)
        }
        OptionKind::Str => Some(ConfValue::Str(text.to_string())),
    }
}

fn default_value(spec: &OptionSpec) -> Option<ConfValue> {
    spec.default.and_then(|d| convert(spec.kind, d))
}

fn expected(kind: OptionKind, check: Check) -> &'static str {
    match (kind, check) {
        (OptionKind::Bool, _) => "true, yes, false or no",
        (OptionKind::Int, Check::Positive) => "an integer from 1 to 2147483647",
        (OptionKind::Int, _) => "an integer from 0 to 2147483647",
        (_, Check::Location) => {
            "file:PATH (in an existing directory) or syslog[:nonblocking|udp|udp-rfc5424]"
        }
        (_, Check::DebugLevel) => "ERROR, WARNING, NOTICE, INFO, DEBUG or a number 0-10",
        (_, Check::Transport) => "tcp",
        (_, Check::NodeAddress) => "an IPv4 or IPv6 address without port or brackets",
        _ => "a valid value",
    }
}

/// What a path is, as a [`PathProbe`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    /// Does not exist.
    Missing,
    /// A directory (after following symlinks).
    Directory,
    /// A regular file.
    File {
        /// Any execute bit set.
        executable: bool,
    },
    /// Something else (socket, device, ...).
    Other,
}

/// The file-system questions `ctdb-config validate` asks. The crate does no
/// I/O; callers that want the full check pass an implementation backed by
/// `std::fs::metadata`. Returning `None` skips the check.
pub trait PathProbe {
    /// What `path` is (relative paths are relative to ctdb's working directory).
    fn kind(&self, path: &str) -> Option<PathKind>;
}

impl<F: Fn(&str) -> Option<PathKind>> PathProbe for F {
    fn kind(&self, path: &str) -> Option<PathKind> {
        self(path)
    }
}

fn no_probe(_: &str) -> Option<PathKind> {
    None
}

/// POSIX `basename`.
fn basename(p: &str) -> &str {
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return if p.is_empty() { "." } else { "/" };
    }
    match t.rfind('/') {
        Some(i) => &t[i + 1..],
        None => t,
    }
}

/// POSIX `dirname`.
fn dirname(p: &str) -> &str {
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return if p.is_empty() { "." } else { "/" };
    }
    match t.rfind('/') {
        None => ".",
        Some(i) => {
            let d = t[..i].trim_end_matches('/');
            if d.is_empty() {
                "/"
            } else {
                d
            }
        }
    }
}

/// A ctdb debug level as `log level` and `script log level` take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogLevel {
    /// `ERROR` (level 0).
    Error,
    /// `WARNING` (1).
    Warning,
    /// `NOTICE` (2).
    Notice,
    /// `INFO` (3).
    Info,
    /// `DEBUG` (4).
    Debug,
    /// A number 0..=10.
    Numeric(u8),
}

impl LogLevel {
    /// Parse as ctdb 4.17 does. Observed: a value starting with a digit is
    /// read with `atoi` (`3x` is 3, `0x3` is 0, `4294967306` wraps to 10) and
    /// must be 0..=10; otherwise it must be a non-empty case-insensitive
    /// *prefix* of ERROR, WARNING, NOTICE, INFO or DEBUG (`E`, `warn`, `Deb`
    /// are accepted; `ERRORX`, `+3`, `EMERG` are not).
    pub fn parse(s: &str) -> Option<LogLevel> {
        let b = s.as_bytes();
        if b.first().is_some_and(u8::is_ascii_digit) {
            let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
            let v = c_strtol(&digits) as i32; // atoi: long truncated to int
            return u8::try_from(v)
                .ok()
                .filter(|v| *v <= 10)
                .map(LogLevel::Numeric);
        }
        if s.is_empty() {
            return None;
        }
        let names = [
            ("ERROR", LogLevel::Error),
            ("WARNING", LogLevel::Warning),
            ("NOTICE", LogLevel::Notice),
            ("INFO", LogLevel::Info),
            ("DEBUG", LogLevel::Debug),
        ];
        names
            .iter()
            .find(|(n, _)| n.len() >= s.len() && n[..s.len()].eq_ignore_ascii_case(s))
            .map(|(_, l)| *l)
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogLevel::Error => f.write_str("ERROR"),
            LogLevel::Warning => f.write_str("WARNING"),
            LogLevel::Notice => f.write_str("NOTICE"),
            LogLevel::Info => f.write_str("INFO"),
            LogLevel::Debug => f.write_str("DEBUG"),
            LogLevel::Numeric(n) => write!(f, "{n}"),
        }
    }
}

/// How the syslog backend sends messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyslogMode {
    /// `syslog:nonblocking`.
    Nonblocking,
    /// `syslog:udp`.
    Udp,
    /// `syslog:udp-rfc5424`.
    UdpRfc5424,
}

/// `[logging] location`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LogLocation {
    /// `file:PATH`; `None` (`file` alone) logs to stderr. `-` is also stderr.
    File(Option<String>),
    /// `syslog[:mode]`.
    Syslog(Option<SyslogMode>),
}

impl LogLocation {
    /// Parse as ctdb 4.17 does. Observed: the value is split on `:` the way
    /// C `strtok` does (empty pieces vanish, so `:syslog`, `syslog::` and
    /// `::file:/x` are accepted); the first piece names the backend
    /// (`file` or `syslog`, case-sensitive), the second is its option and the
    /// rest is ignored (`file:/tmp/a:b` logs to `/tmp/a`).
    pub fn parse(s: &str) -> Option<LogLocation> {
        let mut parts = s.split(':').filter(|p| !p.is_empty());
        let backend = parts.next()?;
        let option = parts.next();
        match backend {
            "file" => Some(LogLocation::File(option.map(str::to_string))),
            "syslog" => match option {
                None => Some(LogLocation::Syslog(None)),
                Some("nonblocking") => Some(LogLocation::Syslog(Some(SyslogMode::Nonblocking))),
                Some("udp") => Some(LogLocation::Syslog(Some(SyslogMode::Udp))),
                Some("udp-rfc5424") => Some(LogLocation::Syslog(Some(SyslogMode::UdpRfc5424))),
                Some(_) => None,
            },
            _ => None,
        }
    }
}

impl fmt::Display for LogLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogLocation::File(None) => f.write_str("file"),
            LogLocation::File(Some(p)) => write!(f, "file:{p}"),
            LogLocation::Syslog(None) => f.write_str("syslog"),
            LogLocation::Syslog(Some(SyslogMode::Nonblocking)) => f.write_str("syslog:nonblocking"),
            LogLocation::Syslog(Some(SyslogMode::Udp)) => f.write_str("syslog:udp"),
            LogLocation::Syslog(Some(SyslogMode::UdpRfc5424)) => f.write_str("syslog:udp-rfc5424"),
        }
    }
}

/// `[cluster] cluster lock`: a lock file on shared storage or a helper.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ClusterLock {
    /// A file on a cluster file system.
    File(String),
    /// `!command args`, e.g. `/usr/libexec/ctdb/ctdb_mutex_ceph_rados_helper ceph client.admin pool obj`.
    Helper(String),
}

impl ClusterLock {
    /// `!...` is a helper, anything else a file.
    pub fn parse(s: &str) -> ClusterLock {
        match s.strip_prefix('!') {
            Some(cmd) => ClusterLock::Helper(cmd.to_string()),
            None => ClusterLock::File(s.to_string()),
        }
    }
}

impl fmt::Display for ClusterLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterLock::File(p) => f.write_str(p),
            ClusterLock::Helper(c) => write!(f, "!{c}"),
        }
    }
}

/// Run the option's own check on a non-default value; `Err` is the finding.
fn check_value(
    spec: &OptionSpec,
    value: &ConfValue,
    text: &str,
    probe: &dyn PathProbe,
    etc_dir: &str,
) -> Result<Option<CtdbError>, CtdbError> {
    let invalid = || CtdbError::InvalidValue {
        section: spec.section.to_string(),
        option: spec.name.to_string(),
        value: text.to_string(),
        expected: expected(spec.kind, spec.check),
    };
    match spec.check {
        Check::None => Ok(None),
        Check::Positive => match value {
            ConfValue::Int(i) if *i > 0 => Ok(None),
            _ => Err(invalid()),
        },
        Check::Transport => {
            // "ib" exists in the code but 4.17 refuses it as broken.
            if text == "tcp" {
                Ok(None)
            } else {
                Err(invalid())
            }
        }
        Check::NodeAddress => text.parse::<IpAddr>().map(|_| None).map_err(|_| invalid()),
        Check::DebugLevel => LogLevel::parse(text).map(|_| None).ok_or_else(invalid),
        Check::Location => match LogLocation::parse(text).ok_or_else(invalid)? {
            LogLocation::File(Some(p)) if p != "-" => match probe.kind(dirname(&p)) {
                None | Some(PathKind::Directory) => Ok(None),
                Some(_) => Err(invalid()),
            },
            _ => Ok(None),
        },
        Check::Deprecated(replacement) => Ok(Some(CtdbError::Deprecated {
            section: spec.section.to_string(),
            option: spec.name.to_string(),
            replacement,
        })),
        Check::Directory => match probe.kind(text) {
            None | Some(PathKind::Directory) => Ok(None),
            Some(_) => Err(CtdbError::NotADirectory {
                option: spec.name.to_string(),
                path: text.to_string(),
            }),
        },
        Check::Script => {
            // Observed: ctdb looks for the *basename* of the value inside
            // its configuration directory, whatever directory was written.
            let path = format!("{}/{}", etc_dir.trim_end_matches('/'), basename(text));
            let option = spec.name.to_string();
            match probe.kind(&path) {
                None | Some(PathKind::File { executable: true }) => Ok(None),
                Some(PathKind::Missing) => Err(CtdbError::ScriptMissing { option, path }),
                Some(PathKind::File { executable: false }) => {
                    Err(CtdbError::ScriptNotExecutable { option, path })
                }
                Some(_) => Err(CtdbError::ScriptNotAFile { option, path }),
            }
        }
    }
}

/// A lossless `ctdb.conf` document.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CtdbConf {
    items: Vec<Item>,
}

/// The outcome of [`CtdbConf::validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    /// Every finding, in file order.
    pub diagnostics: Vec<Diagnostic>,
    accepted: bool,
    file_ignored: bool,
    values: Vec<Option<ConfValue>>,
}

impl Validation {
    /// Exactly what `ctdb-config validate` answers: `true` for exit 0.
    /// Note that it answers 0 for a file ctdb ignores after a fatal lexer
    /// error; see [`Validation::file_ignored`].
    pub fn ctdb_accepts(&self) -> bool {
        self.accepted
    }

    /// A fatal lexer error made ctdb drop every value of the file.
    pub fn file_ignored(&self) -> bool {
        self.file_ignored
    }

    /// Accepted, used, and no errors anywhere.
    pub fn is_ok(&self) -> bool {
        self.accepted
            && !self.file_ignored
            && self
                .diagnostics
                .iter()
                .all(|d| d.severity == super::Severity::Warning)
    }

    /// The value ctdb uses for an option (defaults included), or `None` for
    /// an unset option without default or an unknown name. When ctdb rejects
    /// or ignores the file, these are the defaults.
    pub fn get(&self, section: &str, option: &str) -> Option<ConfValue> {
        let s = SECTIONS[section_index(section)?];
        let i = option_index(s, option)?;
        self.values[i]
            .clone()
            .or_else(|| default_value(&OPTIONS[i]))
    }

    /// Whether the option is at its built-in default.
    pub fn is_default(&self, section: &str, option: &str) -> bool {
        section_index(section)
            .and_then(|s| option_index(SECTIONS[s], option))
            .map(|i| self.values[i].is_none())
            .unwrap_or(true)
    }

    fn str_of(&self, section: &str, option: &str) -> Option<String> {
        match self.get(section, option) {
            Some(ConfValue::Str(s)) => Some(s),
            _ => None,
        }
    }

    fn bool_of(&self, section: &str, option: &str) -> bool {
        matches!(self.get(section, option), Some(ConfValue::Bool(true)))
    }

    /// `[logging] location`.
    pub fn log_location(&self) -> LogLocation {
        self.str_of("logging", "location")
            .and_then(|s| LogLocation::parse(&s))
            .unwrap_or(LogLocation::File(Some("/var/log/ctdb/log.ctdb".into())))
    }

    /// `[logging] log level`.
    pub fn log_level(&self) -> LogLevel {
        self.str_of("logging", "log level")
            .and_then(|s| LogLevel::parse(&s))
            .unwrap_or(LogLevel::Error)
    }

    /// `[legacy] script log level`.
    pub fn script_log_level(&self) -> LogLevel {
        self.str_of("legacy", "script log level")
            .and_then(|s| LogLevel::parse(&s))
            .unwrap_or(LogLevel::Error)
    }

    /// `[cluster] node address`.
    pub fn node_address(&self) -> Option<IpAddr> {
        self.str_of("cluster", "node address")
            .and_then(|s| s.parse().ok())
    }

    /// `[cluster] cluster lock`, falling back to the deprecated
    /// `recovery lock` when only that is set.
    pub fn cluster_lock(&self) -> Option<ClusterLock> {
        self.str_of("cluster", "cluster lock")
            .or_else(|| self.str_of("cluster", "recovery lock"))
            .map(|s| ClusterLock::parse(&s))
    }

    /// `[cluster] leader timeout` in seconds.
    pub fn leader_timeout(&self) -> u32 {
        match self.get("cluster", "leader timeout") {
            Some(ConfValue::Int(i)) => i.unsigned_abs(),
            _ => 5,
        }
    }

    /// `[cluster] leader capability`.
    pub fn leader_capability(&self) -> bool {
        self.bool_of("cluster", "leader capability")
    }

    /// `[failover] disabled`.
    pub fn failover_disabled(&self) -> bool {
        self.bool_of("failover", "disabled")
    }

    /// `[database] tdb mutexes`.
    pub fn tdb_mutexes(&self) -> bool {
        self.bool_of("database", "tdb mutexes")
    }

    /// `[legacy] realtime scheduling`.
    pub fn realtime_scheduling(&self) -> bool {
        self.bool_of("legacy", "realtime scheduling")
    }

    /// The text `ctdb-config dump` prints for these values: every section
    /// and option, defaults and unset options commented out.
    pub fn dump(&self) -> String {
        let mut out = String::new();
        for section in SECTIONS {
            out.push('[');
            out.push_str(section);
            out.push_str("]\n");
            for (i, spec) in OPTIONS.iter().enumerate() {
                if spec.section != *section {
                    continue;
                }
                match &self.values[i] {
                    Some(v) => out.push_str(&format!("\t{} = {v}\n", spec.name)),
                    None => out.push_str(&format!(
                        "\t# {} = {}\n",
                        spec.name,
                        default_value(spec)
                            .map(|v| v.to_string())
                            .unwrap_or_default()
                    )),
                }
            }
        }
        out
    }
}

fn eol_of(raw: &str) -> &'static str {
    if raw.ends_with("\r\n") {
        "\r\n"
    } else if raw.ends_with('\n') {
        "\n"
    } else {
        ""
    }
}

fn leading_ws(raw: &str) -> &str {
    let n = raw
        .bytes()
        .position(|b| !(b == b' ' || b == b'\t'))
        .unwrap_or(raw.len());
    &raw[..n]
}

/// Why a value cannot be written as one `name = value` line that reads back
/// as exactly that value.
fn representable(value: &str) -> Result<(), &'static str> {
    if value.is_empty() {
        return Err("ctdb rejects empty values; use unset to remove an option");
    }
    if value.contains(['\n', '\0']) {
        return Err("it contains a newline or NUL byte");
    }
    let b = value.as_bytes();
    if is_space(b[0]) || is_space(b[b.len() - 1]) {
        return Err("leading and trailing whitespace is trimmed when read");
    }
    if value.contains(['\t', '\r', '\x0b', '\x0c']) || value.contains("  ") {
        return Err("tabs and runs of spaces are collapsed to one when read");
    }
    if value.ends_with('\\') {
        return Err("a trailing backslash joins the next line");
    }
    Ok(())
}

impl CtdbConf {
    /// Parse any text. Never fails: problems come back as diagnostics (only
    /// lexical ones here; [`CtdbConf::validate`] adds ctdb's own checks).
    pub fn parse(input: &str) -> (CtdbConf, Vec<Diagnostic>) {
        let mut items = Vec::new();
        let mut diags = Vec::new();
        for it in tini::lex(input) {
            let span = super::line_span(&input[it.start..it.end], it.start, it.line, it.column);
            match &it.kind {
                LexKind::UnterminatedSection(text) => diags.push(Diagnostic::error(
                    span,
                    CtdbError::UnterminatedSection { text: text.clone() },
                )),
                LexKind::EmptyName(text) => diags.push(Diagnostic::error(
                    span,
                    CtdbError::EmptyOptionName { text: text.clone() },
                )),
                LexKind::NoEquals(text) if !text.is_empty() => diags.push(Diagnostic::warning(
                    span,
                    CtdbError::LineIgnored { text: text.clone() },
                )),
                _ => {}
            }
            items.push(Item {
                raw: input[it.start..it.end].to_string(),
                kind: it.kind,
            });
        }
        (CtdbConf { items }, diags)
    }

    /// Items with their spans.
    fn spans(&self) -> Vec<Span> {
        tini::spans(&self.items)
    }

    /// The section (index into [`SECTIONS`]) each item belongs to.
    fn sections_of_items(&self) -> Vec<Option<usize>> {
        let mut cur = None;
        self.items
            .iter()
            .map(|it| {
                if let LexKind::Section(name) = &it.kind {
                    cur = section_index(name);
                }
                cur
            })
            .collect()
    }

    /// Validate like `ctdb-config validate`, without file-system checks.
    pub fn validate(&self) -> Validation {
        self.validate_with(&no_probe, CTDB_DEFAULT_ETC_DIR)
    }

    /// Validate like `ctdb-config validate`, asking `probe` about paths.
    /// `etc_dir` is ctdb's configuration directory (where it looks for the
    /// debug scripts).
    pub fn validate_with(&self, probe: &dyn PathProbe, etc_dir: &str) -> Validation {
        let spans = self.spans();
        let mut diags = Vec::new();
        let mut values: Vec<Option<ConfValue>> = vec![None; OPTIONS.len()];
        let mut section: Option<usize> = None;
        let mut fatal = false;
        let mut errors = false;
        for (it, span) in self.items.iter().zip(spans) {
            let mut err = |d: &mut Vec<Diagnostic>, e| {
                d.push(Diagnostic::error(span, e));
                errors = true;
            };
            match &it.kind {
                LexKind::Blank | LexKind::Comment => {}
                LexKind::NoEquals(text) => {
                    if !text.is_empty() {
                        diags.push(Diagnostic::warning(
                            span,
                            CtdbError::LineIgnored { text: text.clone() },
                        ));
                    }
                }
                LexKind::UnterminatedSection(text) => {
                    diags.push(Diagnostic::error(
                        span,
                        CtdbError::UnterminatedSection { text: text.clone() },
                    ));
                    fatal = true;
                    break;
                }
                LexKind::EmptyName(text) => {
                    diags.push(Diagnostic::error(
                        span,
                        CtdbError::EmptyOptionName { text: text.clone() },
                    ));
                    fatal = true;
                    break;
                }
                LexKind::Section(name) => {
                    section = section_index(name);
                    if section.is_none() {
                        err(
                            &mut diags,
                            CtdbError::UnknownSection {
                                section: name.clone(),
                            },
                        );
                    }
                }
                LexKind::Param { name, value } => {
                    let Some(s) = section else {
                        err(
                            &mut diags,
                            CtdbError::OptionOutsideSection {
                                option: name.clone(),
                            },
                        );
                        continue;
                    };
                    let sname = SECTIONS[s];
                    let Some(oi) = option_index(sname, name) else {
                        err(
                            &mut diags,
                            CtdbError::UnknownOption {
                                section: sname.to_string(),
                                option: name.clone(),
                                suggestion: suggest(sname, name),
                            },
                        );
                        continue;
                    };
                    let spec = &OPTIONS[oi];
                    if value.is_empty() {
                        err(
                            &mut diags,
                            CtdbError::EmptyValue {
                                section: sname.to_string(),
                                option: name.clone(),
                            },
                        );
                        continue;
                    }
                    let Some(v) = convert(spec.kind, value) else {
                        err(
                            &mut diags,
                            CtdbError::InvalidValue {
                                section: sname.to_string(),
                                option: name.clone(),
                                value: value.clone(),
                                expected: expected(spec.kind, spec.check),
                            },
                        );
                        continue;
                    };
                    if Some(&v) == default_value(spec).as_ref() {
                        continue; // ctdb skips values equal to the default
                    }
                    match check_value(spec, &v, value, probe, etc_dir) {
                        Ok(warn) => {
                            if let Some(w) = warn {
                                diags.push(Diagnostic::warning(span, w));
                            }
                            values[oi] = Some(v);
                        }
                        Err(e) => err(&mut diags, e),
                    }
                }
            }
        }
        let accepted = !errors;
        if !accepted || fatal {
            values = vec![None; OPTIONS.len()];
        }
        Validation {
            diagnostics: diags,
            accepted,
            file_ignored: fatal,
            values,
        }
    }

    /// The value text of the last assignment of `option` in `section`, as
    /// the lexer reads it (continuations joined, whitespace collapsed). This
    /// is lexical; see [`CtdbConf::validate`] for the value ctdb uses.
    pub fn get(&self, section: &str, option: &str) -> Option<&str> {
        let s = section_index(section)?;
        let secs = self.sections_of_items();
        self.items
            .iter()
            .zip(secs)
            .rev()
            .find_map(|(it, sec)| match &it.kind {
                LexKind::Param { name, value } if sec == Some(s) && name == option => {
                    Some(value.as_str())
                }
                _ => None,
            })
    }

    fn resolve(&self, section: &str, option: &str) -> Result<(usize, usize), CtdbError> {
        let s = section_index(section).ok_or_else(|| CtdbError::EditUnknownSection {
            section: section.to_string(),
        })?;
        let o = option_index(SECTIONS[s], option).ok_or_else(|| CtdbError::EditUnknownOption {
            section: SECTIONS[s].to_string(),
            option: option.to_string(),
        })?;
        Ok((s, o))
    }

    /// Set `option` in `section` to `value`.
    ///
    /// The last assignment of the option is rewritten in place (its
    /// indentation and the spacing around `=` are kept); earlier assignments
    /// of the same option are removed, because ctdb would let an earlier
    /// non-default value win over a later default one. Without an existing
    /// assignment the line goes after the last option of the last matching
    /// section, or into a new section at the end of the file. Every other
    /// byte is left alone.
    ///
    /// The value is checked like ctdb checks it (without file-system checks)
    /// and must read back unchanged.
    pub fn set(&mut self, section: &str, option: &str, value: &str) -> Result<(), CtdbError> {
        let (s, oi) = self.resolve(section, option)?;
        let spec = &OPTIONS[oi];
        representable(value).map_err(|reason| CtdbError::UnrepresentableValue {
            value: value.to_string(),
            reason,
        })?;
        let v = convert(spec.kind, value).ok_or_else(|| CtdbError::InvalidValue {
            section: spec.section.to_string(),
            option: spec.name.to_string(),
            value: value.to_string(),
            expected: expected(spec.kind, spec.check),
        })?;
        if Some(&v) != default_value(spec).as_ref() {
            check_value(spec, &v, value, &no_probe, CTDB_DEFAULT_ETC_DIR)?;
        }

        let secs = self.sections_of_items();
        let hits: Vec<usize> = (0..self.items.len())
            .filter(|&i| {
                secs[i] == Some(s)
                    && matches!(&self.items[i].kind, LexKind::Param { name, .. } if name == option)
            })
            .collect();
        if let Some((&last, earlier)) = hits.split_last() {
            let item = &mut self.items[last];
            item.raw = rewrite_value(&item.raw, spec.name, value);
            item.kind = LexKind::Param {
                name: spec.name.to_string(),
                value: value.to_string(),
            };
            for &i in earlier.iter().rev() {
                self.items.remove(i);
            }
            return Ok(());
        }

        let eol = self
            .items
            .iter()
            .map(|i| eol_of(&i.raw))
            .find(|e| !e.is_empty())
            .unwrap_or("\n");
        let header = (0..self.items.len())
            .rev()
            .find(|&i| secs[i] == Some(s) && matches!(self.items[i].kind, LexKind::Section(_)));
        match header {
            Some(h) => {
                let mut end = h + 1;
                let mut after = h;
                let mut indent = "\t".to_string();
                while end < self.items.len() && !matches!(self.items[end].kind, LexKind::Section(_))
                {
                    if matches!(self.items[end].kind, LexKind::Param { .. }) {
                        after = end;
                        indent = leading_ws(&self.items[end].raw).to_string();
                    }
                    end += 1;
                }
                self.ensure_newline(after, eol);
                self.items.insert(
                    after + 1,
                    Item {
                        raw: format!("{indent}{} = {value}{eol}", spec.name),
                        kind: LexKind::Param {
                            name: spec.name.to_string(),
                            value: value.to_string(),
                        },
                    },
                );
            }
            None => {
                if let Some(last) = self.items.len().checked_sub(1) {
                    self.ensure_newline(last, eol);
                    if self.items[last].kind != LexKind::Blank {
                        self.items.push(Item {
                            raw: eol.to_string(),
                            kind: LexKind::Blank,
                        });
                    }
                }
                self.items.push(Item {
                    raw: format!("[{}]{eol}", SECTIONS[s]),
                    kind: LexKind::Section(SECTIONS[s].to_string()),
                });
                self.items.push(Item {
                    raw: format!("\t{} = {value}{eol}", spec.name),
                    kind: LexKind::Param {
                        name: spec.name.to_string(),
                        value: value.to_string(),
                    },
                });
            }
        }
        Ok(())
    }

    fn ensure_newline(&mut self, i: usize, eol: &str) {
        if !self.items[i].raw.ends_with('\n') {
            self.items[i].raw.push_str(eol);
        }
    }

    /// Remove every assignment of `option` in `section`. Returns how many
    /// lines were removed.
    pub fn unset(&mut self, section: &str, option: &str) -> Result<usize, CtdbError> {
        let (s, _) = self.resolve(section, option)?;
        let secs = self.sections_of_items();
        let before = self.items.len();
        let mut i = 0;
        self.items.retain(|it| {
            let keep = !(secs[i] == Some(s)
                && matches!(&it.kind, LexKind::Param { name, .. } if name == option));
            i += 1;
            keep
        });
        Ok(before - self.items.len())
    }
}

/// Replace the value of a `name = value` item, keeping indentation, the
/// spacing around `=` and the line ending when the item is one line.
fn rewrite_value(raw: &str, name: &str, value: &str) -> String {
    let eol = eol_of(raw);
    let body = &raw[..raw.len() - eol.len()];
    if !body.contains('\n') && !body.contains('\0') {
        if let Some(eq) = body.find('=') {
            let after = &body[eq + 1..];
            let sep = after.len() - after.trim_start_matches([' ', '\t']).len();
            return format!("{}{value}{eol}", &body[..eq + 1 + sep]);
        }
    }
    format!("{}{name} = {value}{eol}", leading_ws(raw))
}

impl fmt::Display for CtdbConf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        super::write_raw(f, self.items.iter().map(|it| it.raw.as_str()))
    }
}

/// Builds a fresh `ctdb.conf` for one cluster node.
///
/// Defaults follow Debian's shipped file: `location = syslog`,
/// `log level = NOTICE`; everything else is left at ctdb's default unless set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtdbConfBuilder {
    values: Vec<Option<String>>,
    header: String,
}

impl Default for CtdbConfBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl CtdbConfBuilder {
    /// A builder with the defaults described above.
    pub fn new() -> Self {
        let mut b = CtdbConfBuilder {
            values: vec![None; OPTIONS.len()],
            header: "# Generated by pve-smbgateway; see ctdb.conf(5).\n# Local changes are overwritten.\n"
                .to_string(),
        };
        b.put("logging", "location", "syslog".into());
        b.put("logging", "log level", "NOTICE".into());
        b
    }

    fn put(&mut self, section: &str, option: &str, value: String) {
        if let Some(i) = option_index(section, option) {
            self.values[i] = Some(value);
        }
    }

    /// Replace the comment block at the top (each line gets `# `).
    pub fn header(mut self, text: &str) -> Self {
        self.header = text.lines().map(|l| format!("# {l}\n")).collect();
        self
    }

    /// `[logging] location`.
    pub fn log_location(mut self, location: LogLocation) -> Self {
        self.put("logging", "location", location.to_string());
        self
    }

    /// `[logging] log level`.
    pub fn log_level(mut self, level: LogLevel) -> Self {
        self.put("logging", "log level", level.to_string());
        self
    }

    /// `[cluster] node address`: the private address this node binds to.
    pub fn node_address(mut self, addr: IpAddr) -> Self {
        self.put("cluster", "node address", addr.to_string());
        self
    }

    /// `[cluster] cluster lock` (never the deprecated `recovery lock`).
    pub fn cluster_lock(mut self, lock: ClusterLock) -> Self {
        self.put("cluster", "cluster lock", lock.to_string());
        self
    }

    /// `[cluster] leader timeout` in seconds (must be at least 1).
    pub fn leader_timeout(mut self, seconds: u32) -> Self {
        self.put("cluster", "leader timeout", seconds.to_string());
        self
    }

    /// `[cluster] leader capability`.
    pub fn leader_capability(mut self, on: bool) -> Self {
        self.put("cluster", "leader capability", on.to_string());
        self
    }

    /// `[database] volatile|persistent|state database directory`.
    pub fn database_directories(mut self, volatile: &str, persistent: &str, state: &str) -> Self {
        self.put("database", "volatile database directory", volatile.into());
        self.put(
            "database",
            "persistent database directory",
            persistent.into(),
        );
        self.put("database", "state database directory", state.into());
        self
    }

    /// `[database] tdb mutexes`.
    pub fn tdb_mutexes(mut self, on: bool) -> Self {
        self.put("database", "tdb mutexes", on.to_string());
        self
    }

    /// `[failover] disabled`.
    pub fn failover_disabled(mut self, disabled: bool) -> Self {
        self.put("failover", "disabled", disabled.to_string());
        self
    }

    /// `[legacy] realtime scheduling`.
    pub fn realtime_scheduling(mut self, on: bool) -> Self {
        self.put("legacy", "realtime scheduling", on.to_string());
        self
    }

    /// `[legacy] start as disabled`.
    pub fn start_as_disabled(mut self, on: bool) -> Self {
        self.put("legacy", "start as disabled", on.to_string());
        self
    }

    /// `[legacy] script log level`.
    pub fn script_log_level(mut self, level: LogLevel) -> Self {
        self.put("legacy", "script log level", level.to_string());
        self
    }

    /// Emit the document: the header, then one block per section in ctdb's
    /// order, options in ctdb's order, tab-indented like `ctdb-config dump`.
    pub fn build(&self) -> Result<CtdbConf, CtdbError> {
        let (mut doc, _) = CtdbConf::parse(&self.header);
        for (i, v) in self.values.iter().enumerate() {
            if let Some(v) = v {
                doc.set(OPTIONS[i].section, OPTIONS[i].name, v)?;
            }
        }
        Ok(doc)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn accepts(s: &str) -> bool {
        CtdbConf::parse(s).0.validate().ctdb_accepts()
    }

    #[test]
    fn strtol_like_c() {
        for (s, v) in [
            ("12abc", 12),
            ("0x10", 16),
            ("0x", 0),
            ("0x1g", 1),
            ("08", 0),
            ("010", 8),
            ("abc", 0),
            ("+5", 5),
            ("-1", -1),
            ("-0", 0),
            ("1e3", 1),
            ("99999999999999999999", i64::MAX),
            ("-99999999999999999999", i64::MIN),
        ] {
            assert_eq!(c_strtol(s), v, "{s}");
        }
    }

    #[test]
    fn log_level_rules() {
        for ok in [
            "ERROR",
            "err",
            "E",
            "warn",
            "Notice",
            "I",
            "deBug",
            "0",
            "10",
            "3x",
            "0x3",
            "4294967306",
        ] {
            assert!(LogLevel::parse(ok).is_some(), "{ok}");
        }
        for bad in [
            "",
            "ERRORX",
            "+3",
            "-1",
            "11",
            "EMERG",
            "IN FO",
            "4294967307",
            "99999999999",
        ] {
            assert!(LogLevel::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn location_rules() {
        for ok in [
            "syslog",
            "syslog:",
            "syslog::",
            ":syslog",
            "syslog:udp:x",
            "file",
            "file:",
            "file:-",
            "::file:/x",
            "syslog:udp-rfc5424",
        ] {
            assert!(LogLocation::parse(ok).is_some(), "{ok}");
        }
        for bad in [
            "SYSLOG",
            "syslog:foo",
            "syslogx",
            "filex",
            ":",
            "::",
            "File:/x",
            "/tmp/x",
        ] {
            assert!(LogLocation::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(
            LogLocation::parse("file:/tmp/a:b"),
            Some(LogLocation::File(Some("/tmp/a".into())))
        );
    }

    #[test]
    fn paths() {
        assert_eq!(basename("sub/x"), "x");
        assert_eq!(basename("sub/"), "sub");
        assert_eq!(basename("/"), "/");
        assert_eq!(dirname("/tmp/x"), "/tmp");
        assert_eq!(dirname("x"), ".");
        assert_eq!(dirname("/x"), "/");
        assert_eq!(dirname("a/b/"), "a");
    }

    #[test]
    fn validate_matches_observations() {
        assert!(accepts(""));
        assert!(accepts("[Logging]\nlog level = debug\n"));
        assert!(!accepts("[logging]\nLog level = DEBUG\n"));
        assert!(!accepts("[logging]\nlog\tlevel = INFO\n"));
        assert!(accepts("[logging]\nlog  level = INFO\n"));
        assert!(!accepts("[logging]\nlog level =\n"));
        assert!(!accepts("[ logging ]\n"));
        assert!(!accepts("x=1\n"));
        assert!(!accepts("[cluster]\nleader timeout = 0\n"));
        assert!(accepts("[cluster]\nleader timeout = 12abc\n"));
        assert!(!accepts("[cluster]\nleader capability = 1\n"));
        assert!(!accepts("[cluster]\ntransport = ib\n"));
        assert!(!accepts("[cluster]\nnode address = [fe80::1]\n"));
        assert!(!accepts("[cluster]\nnodes list = /x\n"));
        assert!(accepts("[logging\nlog level = BOGUS\n"));
        assert!(!accepts("[foo]\n[logging\n"));
        assert!(!accepts("[logging]\nlog level = INFO ; c\n"));
    }

    #[test]
    fn default_value_quirk() {
        let (doc, _) = CtdbConf::parse("[cluster]\nleader timeout = 7\nleader timeout = 5\n");
        assert_eq!(doc.validate().leader_timeout(), 7);
        let (doc, _) = CtdbConf::parse("[cluster]\nleader timeout = 7\nleader timeout = 6\n");
        assert_eq!(doc.validate().leader_timeout(), 6);
    }

    #[test]
    fn probe_checks() {
        let probe = |p: &str| {
            Some(match p {
                "/srv/ok" | "/tmp" => PathKind::Directory,
                "/etc/ctdb/dbg" => PathKind::File { executable: true },
                "/etc/ctdb/noexec" => PathKind::File { executable: false },
                _ => PathKind::Missing,
            })
        };
        let v = |s: &str| {
            CtdbConf::parse(s)
                .0
                .validate_with(&probe, "/etc/ctdb")
                .ctdb_accepts()
        };
        assert!(v("[database]\nstate database directory = /srv/ok\n"));
        assert!(!v("[database]\nstate database directory = /srv/no\n"));
        assert!(v("[event]\ndebug script = /anywhere/dbg\n"));
        assert!(!v("[event]\ndebug script = noexec\n"));
        assert!(v("[logging]\nlocation = file:/tmp/x.log\n"));
        assert!(!v("[logging]\nlocation = file:/nope/x.log\n"));
        // The default value is never checked.
        assert!(v(
            "[database]\nstate database directory = /var/lib/ctdb/state\n"
        ));
    }

    #[test]
    fn set_in_place_and_insert() {
        let src =
            "# top\n[logging]\n  log level=ERROR  \r\n\n[cluster]\n\tnode address = 10.0.0.1\n";
        let (mut doc, _) = CtdbConf::parse(src);
        doc.set("LOGGING", "log level", "INFO").unwrap();
        assert_eq!(
            doc.to_string(),
            "# top\n[logging]\n  log level=INFO\r\n\n[cluster]\n\tnode address = 10.0.0.1\n"
        );
        doc.set("cluster", "cluster lock", "/mnt/lock").unwrap();
        assert!(doc
            .to_string()
            .ends_with("\tnode address = 10.0.0.1\n\tcluster lock = /mnt/lock\n"));
        doc.set("failover", "disabled", "true").unwrap();
        assert!(doc
            .to_string()
            .ends_with("\n\n[failover]\n\tdisabled = true\n"));
        assert_eq!(doc.unset("cluster", "cluster lock").unwrap(), 1);
        assert!(!doc.to_string().contains("cluster lock"));
    }

    #[test]
    fn set_refuses_bad_values() {
        let (mut doc, _) = CtdbConf::parse("");
        assert!(doc.set("logging", "log level", "LOUD").is_err());
        assert!(doc.set("logging", "log level", "").is_err());
        assert!(doc.set("logging", "Log level", "INFO").is_err());
        assert!(doc.set("nope", "x", "1").is_err());
        assert!(doc.set("cluster", "cluster lock", "/a\\").is_err());
        assert!(doc.set("cluster", "cluster lock", "a\nb").is_err());
        assert!(doc.set("cluster", "leader timeout", "0").is_err());
        assert_eq!(doc.to_string(), "");
    }

    #[test]
    fn set_removes_earlier_duplicates() {
        let (mut doc, _) =
            CtdbConf::parse("[cluster]\nleader timeout = 7\n[cluster]\nleader timeout = 9\n");
        doc.set("cluster", "leader timeout", "5").unwrap();
        assert_eq!(
            doc.to_string(),
            "[cluster]\n[cluster]\nleader timeout = 5\n"
        );
        assert_eq!(doc.validate().leader_timeout(), 5);
    }

    #[test]
    fn set_after_unterminated_last_line() {
        let (mut doc, _) = CtdbConf::parse("[logging]\nlog level = INFO");
        doc.set("logging", "location", "syslog").unwrap();
        assert_eq!(
            doc.to_string(),
            "[logging]\nlog level = INFO\nlocation = syslog\n"
        );
    }
}
