//! Parsers of what `pveversion` and `ha-manager` print. Pure.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::HaFlavor;
use crate::Error;

/// One HA resource as `ha-manager config` prints it. Only the options set
/// in `/etc/pve/ha/resources.cfg` appear; unset ones take Proxmox's
/// defaults (`started`, 1, 1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceConfig {
    /// `state`.
    pub state: Option<String>,
    /// `group` (PVE 8; PVE 9 hides it once groups are migrated).
    pub group: Option<String>,
    /// `max_restart`.
    pub max_restart: Option<u32>,
    /// `max_relocate`.
    pub max_relocate: Option<u32>,
}

/// One HA rule (PVE 9) from `ha-manager rules config --output-format json`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rule {
    /// Rule id.
    pub id: String,
    /// Rule type: `node-affinity` or `resource-affinity`.
    pub kind: String,
    /// HA resource ids it applies to.
    pub resources: BTreeSet<String>,
    /// Node priorities (node-affinity rules; a node without a priority has
    /// priority 0).
    pub nodes: BTreeMap<String, u64>,
    /// `strict` (node-affinity rules).
    pub strict: bool,
    /// `disable`.
    pub disabled: bool,
}

/// One HA group (PVE 8) from `ha-manager groupconfig`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupConfig {
    /// Node priorities (a node without a priority has priority 0).
    pub nodes: BTreeMap<String, u64>,
    /// `restricted`.
    pub restricted: bool,
    /// `nofailback`.
    pub nofailback: bool,
}

fn error(what: &'static str, detail: impl Into<String>) -> Error {
    Error::Parse {
        what,
        detail: detail.into(),
    }
}

/// The HA flavor from `pveversion` output, `pve-manager/9.0.10/deb1ca707ec72a89
/// (running kernel: 6.14.11-2-pve)` (pve-manager `bin/pveversion`:
/// `package/version/repoid (running kernel: release)`). Only Proxmox VE 8
/// and 9 are supported.
pub fn parse_pveversion(out: &str) -> Result<HaFlavor, Error> {
    const WHAT: &str = "`pveversion` output";
    let version = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("pve-manager/"))
        .and_then(|rest| rest.split('/').next())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            error(
                WHAT,
                format!(
                    "expected `pve-manager/VERSION/...`, got {:?}",
                    out.lines().next().unwrap_or("")
                ),
            )
        })?;
    let major = version.split('.').next().unwrap_or("");
    match major {
        "8" => Ok(HaFlavor::Pve8Groups),
        "9" => Ok(HaFlavor::Pve9Rules),
        _ if !major.is_empty() && major.bytes().all(|b| b.is_ascii_digit()) => {
            Err(Error::UnsupportedVersion {
                version: version.to_owned(),
            })
        }
        _ => Err(error(
            WHAT,
            format!("version {version:?} does not start with a major number"),
        )),
    }
}

fn parse_bool(what: &'static str, key: &str, v: &str) -> Result<bool, Error> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "on" | "yes" | "true" => Ok(true),
        "0" | "off" | "no" | "false" => Ok(false),
        _ => Err(error(what, format!("`{key}` is {v:?}, not a boolean"))),
    }
}

/// `node[:priority]` entries separated by commas, semicolons or blanks
/// (pve-common `split_list`).
fn parse_node_list(what: &'static str, v: &str) -> Result<BTreeMap<String, u64>, Error> {
    let mut nodes = BTreeMap::new();
    for entry in v
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|e| !e.is_empty())
    {
        let (node, priority) = match entry.split_once(':') {
            Some((n, p)) => {
                let p = p
                    .parse::<u64>()
                    .map_err(|_| error(what, format!("node entry {entry:?} has a bad priority")))?;
                (n, p)
            }
            None => (entry, 0),
        };
        if node.is_empty() {
            return Err(error(what, format!("node entry {entry:?} has no node")));
        }
        nodes.insert(node.to_owned(), priority);
    }
    Ok(nodes)
}

/// A header line and the `key value` lines below it.
struct Section {
    header: String,
    props: Vec<(String, String)>,
}

/// Sections of `name` header lines followed by tab-indented `key value`
/// lines, separated by blank lines: the format of `ha-manager config` and
/// `ha-manager groupconfig` (pve-ha-manager `src/PVE/CLI/ha_manager.pm`).
fn sections(what: &'static str, text: &str) -> Result<Vec<Section>, Error> {
    let mut out: Vec<Section> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            let section = out.last_mut().ok_or_else(|| {
                error(
                    what,
                    format!("line {}: a property before any section", i + 1),
                )
            })?;
            let prop = line.trim_start();
            let (k, v) = prop.split_once(' ').unwrap_or((prop, ""));
            section.props.push((k.to_owned(), v.to_owned()));
        } else {
            out.push(Section {
                header: line.trim_end().to_owned(),
                props: Vec::new(),
            });
        }
    }
    Ok(out)
}

/// Parses `ha-manager config`: for each resource a line with its id
/// (`ct:105`) and tab-indented `key value` lines (sorted keys, only the
/// options that are set), then a blank line.
pub fn parse_ha_config(text: &str) -> Result<BTreeMap<String, ResourceConfig>, Error> {
    const WHAT: &str = "`ha-manager config` output";
    let mut resources = BTreeMap::new();
    for Section { header: sid, props } in sections(WHAT, text)? {
        let valid = sid.split_once(':').is_some_and(|(t, n)| {
            !t.is_empty()
                && t.bytes().all(|b| b.is_ascii_lowercase())
                && !n.is_empty()
                && !n.contains(char::is_whitespace)
        });
        if !valid {
            return Err(error(WHAT, format!("{sid:?} is not an HA resource id")));
        }
        let mut r = ResourceConfig::default();
        for (k, v) in props {
            let count = |v: &str| {
                v.parse::<u32>()
                    .map_err(|_| error(WHAT, format!("{sid}: `{k}` is {v:?}, not a count")))
            };
            match k.as_str() {
                "state" => r.state = Some(v),
                "group" => r.group = Some(v),
                "max_restart" => r.max_restart = Some(count(&v)?),
                "max_relocate" => r.max_relocate = Some(count(&v)?),
                _ => {}
            }
        }
        if resources.insert(sid.clone(), r).is_some() {
            return Err(error(WHAT, format!("{sid} is listed twice")));
        }
    }
    Ok(resources)
}

/// Parses `ha-manager groupconfig` (PVE 8): `group: NAME` lines followed by
/// tab-indented `nodes`, `restricted`, `nofailback`, `comment`. The node
/// list comes in hash order.
pub fn parse_groupconfig(text: &str) -> Result<BTreeMap<String, GroupConfig>, Error> {
    const WHAT: &str = "`ha-manager groupconfig` output";
    let mut groups = BTreeMap::new();
    for Section { header, props } in sections(WHAT, text)? {
        let name = header
            .strip_prefix("group:")
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| error(WHAT, format!("{header:?} is not `group: NAME`")))?;
        let mut g = GroupConfig::default();
        for (k, v) in props {
            match k.as_str() {
                "nodes" => g.nodes = parse_node_list(WHAT, &v)?,
                "restricted" => g.restricted = parse_bool(WHAT, &k, &v)?,
                "nofailback" => g.nofailback = parse_bool(WHAT, &k, &v)?,
                _ => {}
            }
        }
        if groups.insert(name.to_owned(), g).is_some() {
            return Err(error(WHAT, format!("group {name} is listed twice")));
        }
    }
    Ok(groups)
}

/// A boolean the JSON may hold as a number, a string or a JSON boolean
/// (values read from the config file stay strings in Perl).
fn json_bool(what: &'static str, rule: &Map<String, Value>, key: &str) -> Result<bool, Error> {
    match rule.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::Number(n)) => Ok(n.as_f64() != Some(0.0)),
        Some(Value::String(s)) => parse_bool(what, key, s),
        Some(other) => Err(error(what, format!("`{key}` is {other}, not a boolean"))),
    }
}

/// Parses `ha-manager rules config --output-format json` (PVE 9): an array
/// of rules with `rule`, `type`, `resources` (comma-separated, sorted),
/// `nodes` (node-affinity: `node[:priority]`, comma-separated, sorted by
/// node, priority 0 printed as the bare node), `strict`, `disable`, and
/// fields this crate ignores (`digest`, `order`, `enabled`, `state`,
/// `comment`, `errors`). Groups that are not migrated yet show up as rules
/// named `ha-group-<group>`.
pub fn parse_rules_config(json: &str) -> Result<Vec<Rule>, Error> {
    const WHAT: &str = "`ha-manager rules config` output";
    let value: Value =
        serde_json::from_str(json).map_err(|e| error(WHAT, format!("not JSON: {e}")))?;
    let items = value
        .as_array()
        .ok_or_else(|| error(WHAT, "expected a JSON array of rules"))?;
    let mut rules = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let obj = item
            .as_object()
            .ok_or_else(|| error(WHAT, format!("entry {i} is not an object")))?;
        let text = |key: &str| obj.get(key).and_then(Value::as_str);
        let (Some(id), Some(kind)) = (text("rule"), text("type")) else {
            return Err(error(WHAT, format!("entry {i} has no `rule` or `type`")));
        };
        let resources = text("resources")
            .unwrap_or("")
            .split(',')
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect();
        let nodes = match text("nodes") {
            Some(n) => parse_node_list(WHAT, n)?,
            None => BTreeMap::new(),
        };
        rules.push(Rule {
            id: id.to_owned(),
            kind: kind.to_owned(),
            resources,
            nodes,
            strict: json_bool(WHAT, obj, "strict")?,
            disabled: json_bool(WHAT, obj, "disable")?,
        });
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn pveversion_of_pve_8_and_9() {
        // `pveversion` on PVE 9.0 and 8.4 (format: pve-manager
        // `bin/pveversion`, `$package/$version/$repoid (running kernel:
        // $release)`).
        assert_eq!(
            parse_pveversion(
                "pve-manager/9.0.10/deb1ca707ec72a89 (running kernel: 6.14.11-2-pve)\n"
            )
            .unwrap(),
            HaFlavor::Pve9Rules
        );
        assert_eq!(
            parse_pveversion(
                "pve-manager/8.4.1/2a5fa54a8503f96d (running kernel: 6.8.12-10-pve)\n"
            )
            .unwrap(),
            HaFlavor::Pve8Groups
        );
    }

    #[test]
    fn other_versions_are_refused_clearly() {
        let e = parse_pveversion("pve-manager/7.4-17/513c62be (running kernel: 5.15.158-2-pve)\n")
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Proxmox VE 7.4-17 is not supported for HA: the gateway configures HA on Proxmox VE 8 (groups) and 9 (rules); upgrade the cluster"
        );
        let e = parse_pveversion("pve-manager/10.0.1/0123456789abcdef (running kernel: 7.0-pve)\n")
            .unwrap_err();
        assert!(
            matches!(e, Error::UnsupportedVersion { ref version } if version == "10.0.1"),
            "{e}"
        );
        for bad in [
            "",
            "Linux pve1 6.8.12-10-pve\n",
            "pve-manager//x\n",
            "pve-manager/x.1/y\n",
        ] {
            let e = parse_pveversion(bad).unwrap_err().to_string();
            assert!(
                e.starts_with("cannot parse `pveversion` output: "),
                "{bad:?}: {e}"
            );
        }
    }

    /// `ha-manager config` as printed by the `config` formatter in
    /// pve-ha-manager `src/PVE/CLI/ha_manager.pm` (sorted sids, `\t$k $v`
    /// with sorted keys, blank line after each; compare the example in
    /// pve-docs `ha-manager.adoc`, "vm:100\n\tstate stopped"), for a PVE 8
    /// resource in a group and a VM with an admin's comment.
    const HA_CONFIG: &str = "ct:105\n\tgroup smbgw-office\n\tmax_relocate 2\n\tmax_restart 1\n\tstate started\n\nvm:100\n\tcomment database, do not move\n\tstate stopped\n\n";

    #[test]
    fn ha_config_resources() {
        let r = parse_ha_config(HA_CONFIG).unwrap();
        assert_eq!(
            r["ct:105"],
            ResourceConfig {
                state: Some("started".into()),
                group: Some("smbgw-office".into()),
                max_restart: Some(1),
                max_relocate: Some(2),
            }
        );
        assert_eq!(
            r["vm:100"],
            ResourceConfig {
                state: Some("stopped".into()),
                ..ResourceConfig::default()
            }
        );
        assert_eq!(r.len(), 2);
        // No HA resources: no output.
        assert!(parse_ha_config("").unwrap().is_empty());
    }

    #[test]
    fn malformed_ha_config_is_refused() {
        for (text, msg) in [
            ("\tstate started\n", "line 1: a property before any section"),
            ("105\n\tstate started\n", "\"105\" is not an HA resource id"),
            (
                "ct:105\n\tmax_restart many\n",
                "ct:105: `max_restart` is \"many\", not a count",
            ),
            ("ct:105\n\nct:105\n", "ct:105 is listed twice"),
        ] {
            let e = parse_ha_config(text).unwrap_err().to_string();
            assert_eq!(e, format!("cannot parse `ha-manager config` output: {msg}"));
        }
    }

    /// `ha-manager groupconfig` on PVE 8 as printed by the `groupconfig`
    /// formatter in pve-ha-manager 4.0.7 `src/PVE/CLI/ha_manager.pm`
    /// (`group: NAME`, then `\t$k $v` with sorted keys): the groups of the
    /// example in pve-docs `ha-manager.adoc` and one of ours. Node lists come
    /// in Perl hash order (`join(',', keys ...)` in
    /// `PVE::HA::Groups::encode_value`; the docs show
    /// `nodes node2:1,node4,node1:2,node3:1`).
    #[test]
    fn groupconfig_groups() {
        let text = "group: mygroup1\n\tnodes node2:1,node4,node1:2,node3:1\n\ngroup: mygroup2\n\tnodes node2,node1\n\trestricted 1\n\ngroup: smbgw-office\n\tnodes pve3:1,pve1:3,pve2:2\n\tnofailback 1\n\n";
        let g = parse_groupconfig(text).unwrap();
        assert_eq!(
            g["mygroup1"].nodes,
            BTreeMap::from([
                ("node1".to_string(), 2),
                ("node2".to_string(), 1),
                ("node3".to_string(), 1),
                ("node4".to_string(), 0),
            ])
        );
        assert!(g["mygroup2"].restricted && !g["mygroup2"].nofailback);
        assert!(g["smbgw-office"].nofailback && !g["smbgw-office"].restricted);
        assert_eq!(g["smbgw-office"].nodes["pve1"], 3);
        let e = parse_groupconfig("vm:100\n\tstate started\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "cannot parse `ha-manager groupconfig` output: \"vm:100\" is not `group: NAME`"
        );
        let e = parse_groupconfig("group: g\n\tnodes a:x\n")
            .unwrap_err()
            .to_string();
        assert!(e.ends_with("node entry \"a:x\" has a bad priority"), "{e}");
        let e = parse_groupconfig("group: g\n\trestricted maybe\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.ends_with("`restricted` is \"maybe\", not a boolean"),
            "{e}"
        );
    }

    /// `ha-manager rules config --output-format json` on PVE 9: the rules
    /// of pve-docs `ha-manager.adoc` ("ha-rule-vm100" strict, the
    /// "priority-cascade" node-affinity rule, a negative resource-affinity
    /// rule), a group not migrated yet (`ha-group-<group>`, added in memory
    /// by `PVE::HA::Groups::migrate_groups_to_rules`) and a disabled rule,
    /// printed as pve-common `CLIFormatter::print_api_result` does for
    /// `json` (canonical key order, one line) with the fields
    /// `PVE::API2::HA::Rules` index and the CLI formatter add (`digest`,
    /// `order`, `enabled`, `state`). Values from the config file stay
    /// strings (`"strict":"1"`); a bare `disable` line becomes `1`.
    const RULES: &str = r#"[{"digest":"5c3e2fa1b38a4f1f0e1d9a1c7c0b4e8f2a9d6b11","enabled":1,"nodes":"node1","order":1,"resources":"vm:100","rule":"ha-rule-vm100","state":"in use","strict":"1","type":"node-affinity"},{"digest":"5c3e2fa1b38a4f1f0e1d9a1c7c0b4e8f2a9d6b11","enabled":1,"nodes":"node1:2,node2:1,node3:1,node4","order":2,"resources":"ct:300,vm:200","rule":"priority-cascade","state":"in use","type":"node-affinity"},{"affinity":"negative","digest":"5c3e2fa1b38a4f1f0e1d9a1c7c0b4e8f2a9d6b11","enabled":1,"order":3,"resources":"vm:101,vm:102","rule":"keep-separate","state":"in use","type":"resource-affinity"},{"disable":1,"digest":"5c3e2fa1b38a4f1f0e1d9a1c7c0b4e8f2a9d6b11","enabled":0,"nodes":"node2","order":4,"resources":"vm:103","rule":"node-affinity-disabled","state":"in use","type":"node-affinity"},{"comment":"Generated from HA group 'group2'.","digest":"5c3e2fa1b38a4f1f0e1d9a1c7c0b4e8f2a9d6b11","enabled":1,"nodes":"node2:2,node3","order":5,"resources":"vm:104","rule":"ha-group-group2","state":"in use","type":"node-affinity"}]"#;

    #[test]
    fn rules_config_rules() {
        let rules = parse_rules_config(RULES).unwrap();
        assert_eq!(rules.len(), 5);
        assert_eq!(
            rules[0],
            Rule {
                id: "ha-rule-vm100".into(),
                kind: "node-affinity".into(),
                resources: BTreeSet::from(["vm:100".into()]),
                nodes: BTreeMap::from([("node1".into(), 0)]),
                strict: true,
                disabled: false,
            }
        );
        assert_eq!(
            rules[1].resources,
            BTreeSet::from(["ct:300".into(), "vm:200".into()])
        );
        assert_eq!(rules[1].nodes["node1"], 2);
        assert_eq!(rules[1].nodes["node4"], 0);
        assert!(!rules[1].strict);
        assert_eq!(rules[2].kind, "resource-affinity");
        assert!(rules[2].nodes.is_empty());
        assert!(rules[3].disabled);
        assert_eq!(rules[4].id, "ha-group-group2");
        assert!(parse_rules_config("[]\n").unwrap().is_empty());
    }

    #[test]
    fn malformed_rules_config_is_refused() {
        for (json, msg) in [
            ("", "not JSON"),
            ("ha-rule-vm100 node-affinity\n", "not JSON"),
            ("{}", "expected a JSON array of rules"),
            ("[[]]", "entry 0 is not an object"),
            (
                r#"[{"type":"node-affinity"}]"#,
                "entry 0 has no `rule` or `type`",
            ),
            (
                r#"[{"rule":"r","type":"node-affinity","strict":"sometimes"}]"#,
                "`strict` is \"sometimes\", not a boolean",
            ),
            (
                r#"[{"rule":"r","type":"node-affinity","disable":[1]}]"#,
                "`disable` is [1], not a boolean",
            ),
        ] {
            let e = parse_rules_config(json).unwrap_err().to_string();
            assert!(
                e.starts_with("cannot parse `ha-manager rules config` output: ") && e.contains(msg),
                "{json}: {e}"
            );
        }
    }
}
