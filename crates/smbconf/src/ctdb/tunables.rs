//! `ctdb.tunables`: `Name=VALUE` lines read by ctdbd at start-up with the
//! same lexer as `ctdb.conf` (see the `tini` module).
//!
//! Observed by starting `ctdbd -i` 4.17.12 in test mode (ctdbd logs these
//! problems and still starts, but the values are not applied as written):
//! * Names compare case-insensitively (`monitorinterval = 20` works);
//!   whitespace around `=` is fine; `#` lines are comments.
//! * A section header: "Invalid line for section [x] - sections not
//!   supported". A line without `=` or with an empty value: "Invalid line
//!   containing ...". Unknown name: "Unknown tunable". A removed name:
//!   "Obsolete tunable" (seen for `MaxRedirectCount`, `DeterministicIPs`,
//!   `TDBMutexEnabled`).
//! * Values are unsigned integers that must be consumed completely: `0x10`
//!   works, `-1`, `0x`, `20 # c` and `1 2` are invalid. ctdbd accepted
//!   `4294967296` without complaint; this crate refuses values above
//!   4294967295 because tunables are 32-bit in ctdb's protocol.
//!
//! The name lists are those compiled into ctdbd 4.17.12 (its tunable table
//! read with `strings`, cross-checked with ctdb-tunables(7)).

use std::fmt;

use super::tini::{self, Item, LexKind};
use super::{CtdbError, Diagnostic};

/// A tunable with its built-in default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TunableSpec {
    /// Canonical spelling.
    pub name: &'static str,
    /// Default value (ctdb-tunables(7)).
    pub default: u32,
}

const fn t(name: &'static str, default: u32) -> TunableSpec {
    TunableSpec { name, default }
}

/// The tunables ctdb 4.17 accepts.
pub const TUNABLES: &[TunableSpec] = &[
    t("AllowClientDBAttach", 1),
    t("AllowMixedVersions", 0),
    t("AllowUnhealthyDBRead", 0),
    t("ControlTimeout", 60),
    t("DatabaseHashSize", 100001),
    t("DatabaseMaxDead", 5),
    t("DBRecordCountWarn", 100000),
    t("DBRecordSizeWarn", 10000000),
    t("DBSizeWarn", 1000000000),
    t("DeferredAttachTO", 120),
    t("ElectionTimeout", 3),
    t("EnableBans", 1),
    t("EventScriptTimeout", 30),
    t("FetchCollapse", 1),
    t("HopcountMakeSticky", 50),
    t("IPAllocAlgorithm", 2),
    t("KeepaliveInterval", 5),
    t("KeepaliveLimit", 5),
    t("LockProcessesPerDB", 200),
    t("LogLatencyMs", 0),
    t("MaxQueueDropMsg", 1000000),
    t("MonitorInterval", 15),
    t("MonitorTimeoutCount", 20),
    t("NoIPFailback", 0),
    t("NoIPTakeover", 0),
    t("PullDBPreallocation", 10 * 1024 * 1024),
    t("QueueBufferSize", 1024),
    t("RecBufferSizeLimit", 1000000),
    t("RecdFailCount", 10),
    t("RecdPingTimeout", 60),
    t("RecLockLatencyMs", 1000),
    t("RecoverInterval", 1),
    // ctdb-tunables(7) says 120; the code default differs (30) in some releases.
    t("RecoverTimeout", 120),
    t("RecoveryBanPeriod", 300),
    t("RecoveryDropAllIPs", 120),
    t("RecoveryGracePeriod", 120),
    t("RepackLimit", 10000),
    t("RerecoveryTimeout", 10),
    t("SeqnumInterval", 1000),
    t("StatHistoryInterval", 1),
    t("StickyDuration", 600),
    t("StickyPindown", 200),
    t("TakeoverTimeout", 9),
    t("TickleUpdateInterval", 20),
    t("TraverseTimeout", 20),
    t("VacuumFastPathCount", 60),
    t("VacuumInterval", 10),
    t("VacuumMaxRunTime", 120),
    t("VerboseMemoryNames", 0),
];

/// Names ctdb 4.17 still recognises only to reject as obsolete.
pub const OBSOLETE_TUNABLES: &[&str] = &[
    "MaxRedirectCount",
    "EventScriptUnhealthyOnTimeout",
    "DeterministicIPs",
    "LCP2PublicIPs",
    "ReclockPingPeriod",
    "DisableIPFailover",
    "VerifyRecoveryLock",
    "VacuumLimit",
    "RecoverPDBBySeqNum",
    "DeferredRebalanceOnNodeAdd",
    "NoIPHostOnAllDisabled",
    "Samba3AvoidDeadlocks",
    "TDBMutexEnabled",
];

fn lookup(name: &str) -> Option<&'static TunableSpec> {
    TUNABLES.iter().find(|t| t.name.eq_ignore_ascii_case(name))
}

/// `strtoul(s, &end, 0)` that must consume everything and has no sign.
fn parse_value(s: &str) -> Option<u64> {
    let (digits, radix) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (h, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// A lossless tunables file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TunablesFile {
    items: Vec<Item>,
}

impl TunablesFile {
    /// Parse any text; problems come back as diagnostics.
    pub fn parse(input: &str) -> (TunablesFile, Vec<Diagnostic>) {
        let file = TunablesFile {
            items: tini::items(input),
        };
        let diags = file.check();
        (file, diags)
    }

    /// All findings for the current content.
    pub fn check(&self) -> Vec<Diagnostic> {
        let mut diags = Vec::new();
        for (it, span) in self.items.iter().zip(tini::spans(&self.items)) {
            let err = match &it.kind {
                LexKind::Blank | LexKind::Comment => None,
                LexKind::NoEquals(text) if text.is_empty() => None,
                LexKind::NoEquals(text) => Some(CtdbError::TunablesLine { text: text.clone() }),
                LexKind::Section(s) => Some(CtdbError::TunablesSection { section: s.clone() }),
                LexKind::UnterminatedSection(text) => {
                    Some(CtdbError::UnterminatedSection { text: text.clone() })
                }
                LexKind::EmptyName(text) => Some(CtdbError::EmptyOptionName { text: text.clone() }),
                LexKind::Param { name, value } => {
                    if value.is_empty() {
                        Some(CtdbError::TunablesLine { text: name.clone() })
                    } else if let Some(spec) = lookup(name) {
                        match parse_value(value) {
                            Some(v) if v <= u64::from(u32::MAX) => None,
                            _ => Some(CtdbError::InvalidTunableValue {
                                name: spec.name.to_string(),
                                value: value.clone(),
                            }),
                        }
                    } else if OBSOLETE_TUNABLES
                        .iter()
                        .any(|o| o.eq_ignore_ascii_case(name))
                    {
                        Some(CtdbError::ObsoleteTunable { name: name.clone() })
                    } else {
                        Some(CtdbError::UnknownTunable { name: name.clone() })
                    }
                }
            };
            if let Some(e) = err {
                diags.push(Diagnostic::error(span, e));
            }
        }
        diags
    }

    /// Valid settings in effect (last one wins), canonical names, file order
    /// of their last assignment.
    pub fn values(&self) -> Vec<(&'static str, u32)> {
        let mut out: Vec<(&'static str, u32)> = Vec::new();
        for it in &self.items {
            if let LexKind::Param { name, value } = &it.kind {
                let Some(spec) = lookup(name) else { continue };
                let Some(v) = parse_value(value).and_then(|v| u32::try_from(v).ok()) else {
                    continue;
                };
                out.retain(|(n, _)| *n != spec.name);
                out.push((spec.name, v));
            }
        }
        out
    }

    /// The value in effect for `name` (its default when unset), or `None` for
    /// an unknown name.
    pub fn get(&self, name: &str) -> Option<u32> {
        let spec = lookup(name)?;
        Some(
            self.values()
                .into_iter()
                .find(|(n, _)| *n == spec.name)
                .map_or(spec.default, |(_, v)| v),
        )
    }

    /// Set a tunable: rewrites its last line (keeping indentation and line
    /// ending), drops earlier ones, or appends `Name=VALUE`.
    pub fn set(&mut self, name: &str, value: u32) -> Result<(), CtdbError> {
        let spec = lookup(name).ok_or_else(|| CtdbError::UnknownTunable {
            name: name.to_string(),
        })?;
        let hits: Vec<usize> = (0..self.items.len())
            .filter(|&i| {
                matches!(&self.items[i].kind, LexKind::Param { name, .. } if name.eq_ignore_ascii_case(spec.name))
            })
            .collect();
        let kind = LexKind::Param {
            name: spec.name.to_string(),
            value: value.to_string(),
        };
        if let Some((&last, earlier)) = hits.split_last() {
            let raw = &self.items[last].raw;
            let eol = if raw.ends_with("\r\n") {
                "\r\n"
            } else if raw.ends_with('\n') {
                "\n"
            } else {
                ""
            };
            let indent: String = raw
                .chars()
                .take_while(|c| *c == ' ' || *c == '\t')
                .collect();
            self.items[last] = Item {
                raw: format!("{indent}{}={value}{eol}", spec.name),
                kind,
            };
            for &i in earlier.iter().rev() {
                self.items.remove(i);
            }
        } else {
            if let Some(last) = self.items.last_mut() {
                if !last.raw.ends_with('\n') {
                    last.raw.push('\n');
                }
            }
            self.items.push(Item {
                raw: format!("{}={value}\n", spec.name),
                kind,
            });
        }
        Ok(())
    }

    /// Remove every line setting `name`; returns how many were removed.
    pub fn unset(&mut self, name: &str) -> usize {
        let before = self.items.len();
        self.items.retain(
            |it| !matches!(&it.kind, LexKind::Param { name: n, .. } if n.eq_ignore_ascii_case(name)),
        );
        before - self.items.len()
    }

    /// Emit a fresh file with one `Name=VALUE` line per setting.
    pub fn from_values(values: &[(&str, u32)]) -> Result<TunablesFile, CtdbError> {
        let mut file = TunablesFile::default();
        for (name, value) in values {
            file.set(name, *value)?;
        }
        Ok(file)
    }
}

impl fmt::Display for TunablesFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        super::write_raw(f, self.items.iter().map(|it| it.raw.as_str()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn first_err(s: &str) -> Option<CtdbError> {
        TunablesFile::parse(s).1.into_iter().next().map(|d| d.error)
    }

    #[test]
    fn observed_rules() {
        assert_eq!(first_err("MonitorInterval=20\n"), None);
        assert_eq!(first_err("  # c\nmonitorinterval = 0x10\n"), None);
        assert!(matches!(
            first_err("Bogus=1\n"),
            Some(CtdbError::UnknownTunable { .. })
        ));
        assert!(matches!(
            first_err("MaxRedirectCount=3\n"),
            Some(CtdbError::ObsoleteTunable { .. })
        ));
        for bad in [
            "MonitorInterval=20 # c\n",
            "MonitorInterval=-1\n",
            "MonitorInterval=0x\n",
            "MonitorInterval=1 2\n",
            "MonitorInterval=4294967296\n",
        ] {
            assert!(
                matches!(first_err(bad), Some(CtdbError::InvalidTunableValue { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            first_err("MonitorInterval=\n"),
            Some(CtdbError::TunablesLine { .. })
        ));
        assert!(matches!(
            first_err("MonitorInterval\n"),
            Some(CtdbError::TunablesLine { .. })
        ));
        assert!(matches!(
            first_err("[x]\n"),
            Some(CtdbError::TunablesSection { .. })
        ));
    }

    #[test]
    fn values_and_edits() {
        let src = "# t\n  monitorinterval = 20\r\nKeepaliveInterval=010\n";
        let (mut f, d) = TunablesFile::parse(src);
        assert!(d.is_empty());
        assert_eq!(f.to_string(), src);
        assert_eq!(f.get("MonitorInterval"), Some(20));
        assert_eq!(f.get("KeepaliveInterval"), Some(8));
        assert_eq!(f.get("KeepaliveLimit"), Some(5));
        f.set("MONITORINTERVAL", 30).unwrap();
        f.set("KeepaliveLimit", 3).unwrap();
        assert_eq!(
            f.to_string(),
            "# t\n  MonitorInterval=30\r\nKeepaliveInterval=010\nKeepaliveLimit=3\n"
        );
        assert!(f.set("Nope", 1).is_err());
        assert_eq!(f.unset("keepalivelimit"), 1);
    }

    #[test]
    fn lists_do_not_overlap() {
        for o in OBSOLETE_TUNABLES {
            assert!(lookup(o).is_none(), "{o}");
        }
    }
}
