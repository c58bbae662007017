//! The facts of `ha-manager`'s command-line schema that the commands this
//! crate generates must satisfy, written down from the sources:
//!
//! * pve-ha-manager 5.2.0 (PVE 9) and 4.0.7 (last PVE 8 release):
//!   `src/PVE/CLI/ha_manager.pm` (which command takes which positional
//!   arguments), `src/PVE/HA/Resources.pm` and `Resources/PVECT.pm`
//!   (resource options; `ct` names match `^[1-9][0-9]+$`),
//!   `src/PVE/HA/Rules.pm` and `Rules/NodeAffinity.pm` (rule options;
//!   `resources` and `nodes` are required for node-affinity rules),
//!   `src/PVE/HA/Groups.pm` (group options), `src/PVE/HA/Tools.pm`
//!   (`pve-ha-resource-id` `^[a-z]+:\S+$`, `pve-ha-node`
//!   `^([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?)(:\d+)?$`, rule and group
//!   ids are `pve-configid`); `src/PVE/API2/HA/*.pm` (groups only exist up
//!   to PVE 8 in practice: on PVE 9 `groupadd` and `add --group` die once
//!   the groups have been migrated to rules, and rules cannot be created
//!   before);
//! * pve-common `src/PVE/JSONSchema.pm`: `pve-configid` is
//!   `[a-z][a-z0-9_-]+`, case-insensitive; `*-list` formats are split on
//!   commas (and blanks); booleans are `0` or `1`; `pve-vmid` is 100 to
//!   999999999;
//! * pve-docs `generated/ha-manager.1-synopsis.adoc`: the synopsis of every
//!   command (`rules add <type> <rule>`, `rules set <type> <rule>`,
//!   `max_restart`/`max_relocate` `<integer> (0 - N)`).
//!
//! The schema does not bound node priorities (`\d+`); Proxmox's editor
//! offers 0 to 1000, and so does this table ([`PRIORITY_MAX`]).
//!
//! [`check`] validates one [`Cmd`] against the table; the planner runs it on
//! every command it generates and the tests run it on every recorded plan.

use std::collections::BTreeSet;

use runner::Cmd;

pub use crate::placement::PRIORITY_MAX;
use crate::pve::HaFlavor;

/// A value format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `ct:VMID`: `pve-ha-resource-id` of type `ct` (the only type this
    /// crate manages), VMID 100 to 999999999 without leading zero.
    ContainerId,
    /// A comma-separated list of [`Format::ContainerId`], not empty.
    ContainerIdList,
    /// `pve-configid`: a letter, then at least one letter, digit, `_` or
    /// `-` (case-insensitive).
    ConfigId,
    /// `pve-configid-list`, e.g. the `--delete` option.
    ConfigIdList,
    /// `pve-ha-node-list`: `node[:priority]` separated by commas, not
    /// empty, each node once, priority 0 to [`PRIORITY_MAX`].
    NodeList,
    /// An integer, at least `min`.
    Integer {
        /// Minimum.
        min: u64,
    },
    /// `0` or `1`.
    Boolean,
    /// One of these words.
    Enum(&'static [&'static str]),
}

/// One option of a command.
#[derive(Clone, Copy, Debug)]
pub struct OptionFact {
    /// Name without the leading `--`.
    pub name: &'static str,
    /// Format of its value.
    pub format: Format,
    /// Whether the command requires it.
    pub required: bool,
}

/// One `ha-manager` command.
#[derive(Clone, Copy, Debug)]
pub struct CommandFact {
    /// The words after `ha-manager` that select the command, including a
    /// fixed positional value where this crate only uses one (the rule type
    /// `node-affinity`).
    pub words: &'static [&'static str],
    /// The remaining positional arguments.
    pub positional: &'static [Format],
    /// The options it accepts.
    pub options: &'static [OptionFact],
    /// The Proxmox VE versions on which this crate may use it.
    pub flavors: &'static [HaFlavor],
}

/// Requested resource states (`state` enum in `PVE::HA::Resources`).
pub const STATES: &[&str] = &["started", "stopped", "enabled", "disabled", "ignored"];

/// Output formats of `rules config` (`pve-output-format`).
pub const OUTPUT_FORMATS: &[&str] = &["text", "json", "json-pretty", "yaml"];

const fn opt(name: &'static str, format: Format) -> OptionFact {
    OptionFact {
        name,
        format,
        required: false,
    }
}

const fn req(name: &'static str, format: Format) -> OptionFact {
    OptionFact {
        name,
        format,
        required: true,
    }
}

const BOTH: &[HaFlavor] = &[HaFlavor::Pve8Groups, HaFlavor::Pve9Rules];
const PVE8: &[HaFlavor] = &[HaFlavor::Pve8Groups];
const PVE9: &[HaFlavor] = &[HaFlavor::Pve9Rules];

const COUNT: Format = Format::Integer { min: 0 };

/// The commands this crate may run, with their schema facts.
pub const COMMANDS: &[CommandFact] = &[
    CommandFact {
        words: &["config"],
        positional: &[],
        options: &[opt("type", Format::Enum(&["ct", "vm"]))],
        flavors: BOTH,
    },
    // PVE 9: `group` is refused once groups are migrated, so not used.
    CommandFact {
        words: &["add"],
        positional: &[Format::ContainerId],
        options: &[
            opt("state", Format::Enum(STATES)),
            opt("max_restart", COUNT),
            opt("max_relocate", COUNT),
            opt("failback", Format::Boolean),
        ],
        flavors: PVE9,
    },
    CommandFact {
        words: &["set"],
        positional: &[Format::ContainerId],
        options: &[
            opt("state", Format::Enum(STATES)),
            opt("max_restart", COUNT),
            opt("max_relocate", COUNT),
            opt("failback", Format::Boolean),
            opt("delete", Format::ConfigIdList),
        ],
        flavors: PVE9,
    },
    // PVE 8 (pve-ha-manager 4.0): `group` instead of `failback`.
    CommandFact {
        words: &["add"],
        positional: &[Format::ContainerId],
        options: &[
            opt("group", Format::ConfigId),
            opt("state", Format::Enum(STATES)),
            opt("max_restart", COUNT),
            opt("max_relocate", COUNT),
        ],
        flavors: PVE8,
    },
    CommandFact {
        words: &["set"],
        positional: &[Format::ContainerId],
        options: &[
            opt("group", Format::ConfigId),
            opt("state", Format::Enum(STATES)),
            opt("max_restart", COUNT),
            opt("max_relocate", COUNT),
            opt("delete", Format::ConfigIdList),
        ],
        flavors: PVE8,
    },
    // `--purge` exists only from pve-ha-manager 5.0.5 on; not used.
    CommandFact {
        words: &["remove"],
        positional: &[Format::ContainerId],
        options: &[],
        flavors: BOTH,
    },
    CommandFact {
        words: &["rules", "config"],
        positional: &[],
        options: &[
            opt("output-format", Format::Enum(OUTPUT_FORMATS)),
            opt(
                "type",
                Format::Enum(&["node-affinity", "resource-affinity"]),
            ),
            opt("resource", Format::ContainerId),
        ],
        flavors: PVE9,
    },
    CommandFact {
        words: &["rules", "add", "node-affinity"],
        positional: &[Format::ConfigId],
        options: &[
            req("resources", Format::ContainerIdList),
            req("nodes", Format::NodeList),
            opt("strict", Format::Boolean),
            opt("disable", Format::Boolean),
        ],
        flavors: PVE9,
    },
    CommandFact {
        words: &["rules", "set", "node-affinity"],
        positional: &[Format::ConfigId],
        options: &[
            opt("resources", Format::ContainerIdList),
            opt("nodes", Format::NodeList),
            opt("strict", Format::Boolean),
            opt("delete", Format::ConfigIdList),
        ],
        flavors: PVE9,
    },
    CommandFact {
        words: &["rules", "remove"],
        positional: &[Format::ConfigId],
        options: &[],
        flavors: PVE9,
    },
    CommandFact {
        words: &["groupconfig"],
        positional: &[],
        options: &[],
        flavors: PVE8,
    },
    CommandFact {
        words: &["groupadd"],
        positional: &[Format::ConfigId],
        options: &[
            req("nodes", Format::NodeList),
            opt("restricted", Format::Boolean),
            opt("nofailback", Format::Boolean),
        ],
        flavors: PVE8,
    },
    CommandFact {
        words: &["groupset"],
        positional: &[Format::ConfigId],
        options: &[
            opt("nodes", Format::NodeList),
            opt("restricted", Format::Boolean),
            opt("nofailback", Format::Boolean),
            opt("delete", Format::ConfigIdList),
        ],
        flavors: PVE8,
    },
    CommandFact {
        words: &["groupremove"],
        positional: &[Format::ConfigId],
        options: &[],
        flavors: PVE8,
    },
];

/// `pve-configid`.
pub fn is_config_id(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A node name (`pve-node`, and the node part of `pve-ha-node`).
pub fn is_node_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
}

/// A VMID as `pve-vmid` and `PVECT::verify_name` accept it.
pub fn is_vmid(s: &str) -> bool {
    !s.starts_with('0')
        && s.bytes().all(|b| b.is_ascii_digit())
        && s.parse::<u64>()
            .is_ok_and(|n| (100..=999_999_999).contains(&n))
}

fn check_container_id(v: &str) -> Result<(), String> {
    match v.strip_prefix("ct:") {
        Some(id) if is_vmid(id) => Ok(()),
        _ => Err(format!(
            "{v:?} is not `ct:VMID` with a VMID from 100 to 999999999"
        )),
    }
}

fn check_node_list(v: &str) -> Result<(), String> {
    if v.is_empty() {
        return Err("the node list is empty".into());
    }
    let mut seen = BTreeSet::new();
    for entry in v.split(',') {
        let (node, priority) = match entry.split_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (entry, None),
        };
        if !is_node_name(node) {
            return Err(format!("{node:?} is not a node name"));
        }
        if let Some(p) = priority {
            let ok = !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && p.parse::<u32>().is_ok_and(|n| n <= PRIORITY_MAX);
            if !ok {
                return Err(format!(
                    "priority {p:?} of node {node} is not 0 to {PRIORITY_MAX}"
                ));
            }
        }
        if !seen.insert(node) {
            return Err(format!("node {node} is listed twice"));
        }
    }
    Ok(())
}

/// Checks one value against a format.
pub fn check_value(format: Format, v: &str) -> Result<(), String> {
    match format {
        Format::ContainerId => check_container_id(v),
        Format::ContainerIdList => {
            if v.is_empty() {
                return Err("the resource list is empty".into());
            }
            v.split(',').try_for_each(check_container_id)
        }
        Format::ConfigId => {
            if is_config_id(v) {
                Ok(())
            } else {
                Err(format!(
                    "{v:?} is not an id (a letter, then letters, digits, `_` or `-`)"
                ))
            }
        }
        Format::ConfigIdList => v.split(',').try_for_each(|id| {
            if is_config_id(id) {
                Ok(())
            } else {
                Err(format!("{id:?} is not an option name"))
            }
        }),
        Format::NodeList => check_node_list(v),
        Format::Integer { min } => match v.parse::<u64>() {
            Ok(n) if n >= min && !v.starts_with('+') => Ok(()),
            _ => Err(format!("{v:?} is not an integer of at least {min}")),
        },
        Format::Boolean => match v {
            "0" | "1" => Ok(()),
            _ => Err(format!("{v:?} is not 0 or 1")),
        },
        Format::Enum(words) => {
            if words.contains(&v) {
                Ok(())
            } else {
                Err(format!("{v:?} is not one of {}", words.join(", ")))
            }
        }
    }
}

/// Checks an `ha-manager` command against the table for `flavor`: a known
/// command, the right number of valid positional arguments, only known
/// options (each once, each with a valid value) and every required one.
pub fn check(flavor: HaFlavor, cmd: &Cmd) -> Result<(), String> {
    if cmd.program() != "ha-manager" {
        return Err(format!("`{}` is not ha-manager", cmd.program()));
    }
    let args = cmd.get_args();
    let fact = COMMANDS
        .iter()
        .filter(|f| f.flavors.contains(&flavor))
        .filter(|f| args.len() >= f.words.len() && args[..f.words.len()] == *f.words)
        .max_by_key(|f| f.words.len())
        .ok_or_else(|| format!("not an ha-manager command this crate uses on {flavor}"))?;
    let rest = &args[fact.words.len()..];
    let npos = rest.iter().take_while(|a| !a.starts_with("--")).count();
    if npos != fact.positional.len() {
        return Err(format!(
            "`ha-manager {}` takes {} positional argument(s), got {npos}",
            fact.words.join(" "),
            fact.positional.len()
        ));
    }
    for (format, v) in fact.positional.iter().zip(rest) {
        check_value(*format, v)?;
    }
    let mut seen = BTreeSet::new();
    let mut opts = rest[npos..].iter();
    while let Some(a) = opts.next() {
        let name = a
            .strip_prefix("--")
            .ok_or_else(|| format!("unexpected argument {a:?}"))?;
        let o = fact
            .options
            .iter()
            .find(|o| o.name == name)
            .ok_or_else(|| {
                format!(
                    "`ha-manager {}` has no option --{name}",
                    fact.words.join(" ")
                )
            })?;
        let v = opts
            .next()
            .ok_or_else(|| format!("--{name} has no value"))?;
        check_value(o.format, v).map_err(|e| format!("--{name}: {e}"))?;
        if !seen.insert(name) {
            return Err(format!("--{name} is given twice"));
        }
    }
    for o in fact.options.iter().filter(|o| o.required) {
        if !seen.contains(o.name) {
            return Err(format!(
                "`ha-manager {}` requires --{}",
                fact.words.join(" "),
                o.name
            ));
        }
    }
    Ok(())
}
