//! Proxmox VE HA for a gateway's container, through `ha-manager`.
//!
//! The container becomes an HA resource (`ct:VMID`) and gets a node
//! preference from a [`Placement`]:
//!
//! * **PVE 9** (pve-ha-manager 5): a node-affinity rule,
//!   `ha-manager rules add node-affinity smbgw-<share> --resources ct:ID
//!   --nodes n1:P1,n2:P2 --strict 0`, added after the resource (a rule may
//!   only name HA-managed resources).
//! * **PVE 8** (pve-ha-manager 4): an HA group,
//!   `ha-manager groupadd smbgw-<share> --nodes n1:P1,...`, added before the
//!   resource, which names it with `--group`.
//!
//! Every operation reads the current configuration first (`ha-manager
//! config`, `ha-manager rules config --output-format json` or `ha-manager
//! groupconfig`) and plans only what is missing or different, so running it
//! again converges and a second run plans nothing. Plans are pure
//! ([`plan_ensure`], [`plan_remove`]) and every command in them is checked
//! against the `ha-manager` schema facts in [`schema`] before anything
//! runs.

pub mod schema;

mod parse;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use runner::{Cmd, Runner};

use crate::placement::Placement;
use crate::Error;

pub use parse::{
    parse_groupconfig, parse_ha_config, parse_pveversion, parse_rules_config, GroupConfig,
    ResourceConfig, Rule,
};

/// How HA node preferences are configured, which depends on the Proxmox VE
/// major version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HaFlavor {
    /// Proxmox VE 8: HA groups (`ha-manager groupadd`, `add --group`).
    Pve8Groups,
    /// Proxmox VE 9: HA rules (`ha-manager rules add node-affinity`).
    Pve9Rules,
}

impl fmt::Display for HaFlavor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HaFlavor::Pve8Groups => "Proxmox VE 8 (HA groups)",
            HaFlavor::Pve9Rules => "Proxmox VE 9 (HA rules)",
        })
    }
}

/// The HA configuration this crate looks at, as read from `ha-manager`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HaState {
    /// HA resources by id (`ct:105`, `vm:100`).
    pub resources: BTreeMap<String, ResourceConfig>,
    /// HA rules (PVE 9; empty on PVE 8).
    pub rules: Vec<Rule>,
    /// HA groups by id (PVE 8; empty on PVE 9).
    pub groups: BTreeMap<String, GroupConfig>,
}

/// The resource options the gateway sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HaOptions {
    /// `max_restart`: restarts on the same node after a failed start.
    pub max_restart: u32,
    /// `max_relocate`: moves to another node after failed starts.
    pub max_relocate: u32,
}

impl HaOptions {
    /// One restart on the same node (Proxmox's default), then up to one
    /// relocation per failover target, so a failing start can reach every
    /// node of the placement (at least one relocation).
    pub fn for_placement(placement: &Placement) -> Self {
        HaOptions {
            max_restart: 1,
            max_relocate: (placement.failover().len() as u32).max(1),
        }
    }
}

/// Proxmox's defaults for resource options left unset (`PVE::HA::Config::
/// read_and_check_resources_config`).
const DEFAULT_MAX_RESTART: u32 = 1;
const DEFAULT_MAX_RELOCATE: u32 = 1;

/// The HA resource id of a container, `ct:VMID`.
pub fn resource_id(vmid: u32) -> Result<String, Error> {
    let id = vmid.to_string();
    if !schema::is_vmid(&id) {
        return Err(Error::InvalidVmid { vmid });
    }
    Ok(format!("ct:{id}"))
}

/// The id of a share's HA rule (PVE 9) or group (PVE 8): `smbgw-` and the
/// share id. Rule and group ids cannot contain `.`, so the share id is
/// escaped one-to-one: `_` becomes `__` and `.` becomes `_2e` (letters,
/// digits and `-` stay), so two shares never get the same id.
///
/// ```
/// assert_eq!(ha::pve::ha_id("office").unwrap(), "smbgw-office");
/// assert_eq!(ha::pve::ha_id("team_a.b").unwrap(), "smbgw-team__a_2eb");
/// assert!(ha::pve::ha_id("Bad Name").is_err());
/// ```
pub fn ha_id(share: &str) -> Result<String, Error> {
    if share.is_empty() {
        return Err(Error::InvalidShareId {
            share: share.to_owned(),
            reason: "it is empty".into(),
        });
    }
    let mut id = String::from("smbgw-");
    for c in share.chars() {
        match c {
            'a'..='z' | '0'..='9' | '-' => id.push(c),
            '_' => id.push_str("__"),
            '.' => id.push_str("_2e"),
            _ => {
                return Err(Error::InvalidShareId {
                    share: share.to_owned(),
                    reason: format!(
                    "it contains {c:?}; share ids use lowercase letters, digits, `-`, `_` and `.`"
                ),
                })
            }
        }
    }
    Ok(id)
}

fn ha_manager() -> Cmd {
    Cmd::new("ha-manager")
}

/// Runs `pveversion` and tells which HA flavor the cluster uses.
pub fn detect_flavor(runner: &dyn Runner) -> Result<HaFlavor, Error> {
    let out = runner.run(&Cmd::new("pveversion"))?;
    parse_pveversion(&out.stdout_str())
}

/// Reads the HA resources and the rules (PVE 9) or groups (PVE 8).
pub fn read_state(runner: &dyn Runner, flavor: HaFlavor) -> Result<HaState, Error> {
    let out = runner.run(&ha_manager().arg("config"))?;
    let mut state = HaState {
        resources: parse_ha_config(&out.stdout_str())?,
        ..HaState::default()
    };
    match flavor {
        HaFlavor::Pve9Rules => {
            let out =
                runner.run(&ha_manager().args(["rules", "config", "--output-format", "json"]))?;
            state.rules = parse_rules_config(&out.stdout_str())?;
        }
        HaFlavor::Pve8Groups => {
            let out = runner.run(&ha_manager().arg("groupconfig"))?;
            state.groups = parse_groupconfig(&out.stdout_str())?;
        }
    }
    Ok(state)
}

/// `n1:P1,n2:P2,...` in placement order.
fn node_list(placement: &Placement) -> String {
    placement
        .nodes()
        .iter()
        .map(|n| format!("{}:{}", n.node, n.priority))
        .collect::<Vec<_>>()
        .join(",")
}

fn node_map(placement: &Placement) -> BTreeMap<String, u64> {
    placement
        .nodes()
        .iter()
        .map(|n| (n.node.clone(), u64::from(n.priority)))
        .collect()
}

/// An `ha-manager` update command (`set`, `rules set`, `groupset`) that
/// collects the options to change; nothing to run if none was added.
struct Update {
    command: Vec<String>,
    options: Vec<String>,
}

impl Update {
    fn new<const N: usize>(command: [&str; N]) -> Self {
        Update {
            command: command.iter().map(|&w| w.to_owned()).collect(),
            options: Vec::new(),
        }
    }

    fn set(&mut self, name: &str, value: impl Into<String>) {
        self.options.push(format!("--{name}"));
        self.options.push(value.into());
    }

    fn finish(self) -> Option<Cmd> {
        (!self.options.is_empty()).then(|| ha_manager().args(self.command).args(self.options))
    }
}

/// `add` the resource, or `set` what differs from `group`/started/options.
fn resource_command(
    state: &HaState,
    sid: &str,
    group: Option<&str>,
    options: &HaOptions,
) -> Option<Cmd> {
    let Some(current) = state.resources.get(sid) else {
        let mut add = ha_manager().args(["add", sid]);
        if let Some(g) = group {
            add = add.args(["--group", g]);
        }
        return Some(
            add.args(["--state", "started", "--max_restart"])
                .arg(options.max_restart.to_string())
                .arg("--max_relocate")
                .arg(options.max_relocate.to_string()),
        );
    };
    let mut set = Update::new(["set", sid]);
    if let Some(g) = group {
        if current.group.as_deref() != Some(g) {
            set.set("group", g);
        }
    }
    // `enabled` is an alias of `started`; unset means `started`.
    let started = matches!(
        current.state.as_deref(),
        None | Some("started") | Some("enabled")
    );
    if !started {
        set.set("state", "started");
    }
    if current.max_restart.unwrap_or(DEFAULT_MAX_RESTART) != options.max_restart {
        set.set("max_restart", options.max_restart.to_string());
    }
    if current.max_relocate.unwrap_or(DEFAULT_MAX_RELOCATE) != options.max_relocate {
        set.set("max_relocate", options.max_relocate.to_string());
    }
    set.finish()
}

fn checked(flavor: HaFlavor, cmds: Vec<Cmd>) -> Result<Vec<Cmd>, Error> {
    for cmd in &cmds {
        schema::check(flavor, cmd).map_err(|problem| Error::Schema {
            command: cmd.to_string(),
            problem,
        })?;
    }
    Ok(cmds)
}

/// Plans the commands that make container `vmid` an HA resource that is
/// started, with `options`, preferring the nodes of `placement` in order,
/// given the current `state`. Plans nothing when everything is in place.
///
/// Refuses when another node-affinity rule already names the container (a
/// resource in two such rules makes Proxmox ignore both), or when the
/// share's rule id is taken by a rule of another type.
pub fn plan_ensure(
    flavor: HaFlavor,
    state: &HaState,
    vmid: u32,
    share: &str,
    placement: &Placement,
    options: &HaOptions,
) -> Result<Vec<Cmd>, Error> {
    let sid = resource_id(vmid)?;
    let id = ha_id(share)?;
    let nodes = node_list(placement);
    let want_nodes = node_map(placement);
    let mut cmds = Vec::new();
    match flavor {
        HaFlavor::Pve9Rules => {
            if let Some(other) = state
                .rules
                .iter()
                .find(|r| r.id != id && r.kind == "node-affinity" && r.resources.contains(&sid))
            {
                return Err(Error::ForeignRule {
                    resource: sid,
                    rule: other.id.clone(),
                });
            }
            cmds.extend(resource_command(state, &sid, None, options));
            match state.rules.iter().find(|r| r.id == id) {
                None => cmds.push(ha_manager().args([
                    "rules",
                    "add",
                    "node-affinity",
                    &id,
                    "--resources",
                    &sid,
                    "--nodes",
                    &nodes,
                    "--strict",
                    "0",
                ])),
                Some(rule) if rule.kind != "node-affinity" => {
                    return Err(Error::RuleIdTaken {
                        rule: id,
                        kind: rule.kind.clone(),
                    })
                }
                Some(rule) => {
                    let mut set = Update::new(["rules", "set", "node-affinity", &id]);
                    if rule.resources != BTreeSet::from([sid.clone()]) {
                        set.set("resources", sid.as_str());
                    }
                    if rule.nodes != want_nodes {
                        set.set("nodes", nodes.as_str());
                    }
                    if rule.strict {
                        set.set("strict", "0");
                    }
                    if rule.disabled {
                        // `--disable 0` is dropped by the API; deleting the
                        // property enables the rule.
                        set.set("delete", "disable");
                    }
                    cmds.extend(set.finish());
                }
            }
        }
        HaFlavor::Pve8Groups => {
            match state.groups.get(&id) {
                None => cmds.push(ha_manager().args(["groupadd", &id, "--nodes", &nodes])),
                Some(group) => {
                    let mut set = Update::new(["groupset", &id]);
                    if group.nodes != want_nodes {
                        set.set("nodes", nodes.as_str());
                    }
                    if group.restricted {
                        set.set("restricted", "0");
                    }
                    if group.nofailback {
                        set.set("nofailback", "0");
                    }
                    cmds.extend(set.finish());
                }
            }
            cmds.extend(resource_command(state, &sid, Some(&id), options));
        }
    }
    checked(flavor, cmds)
}

/// Plans the commands that take container `vmid` out of HA and delete the
/// share's rule or group, given the current `state`. What is already gone
/// is skipped; a rule of another type that happens to carry the share's id
/// is left alone.
pub fn plan_remove(
    flavor: HaFlavor,
    state: &HaState,
    vmid: u32,
    share: &str,
) -> Result<Vec<Cmd>, Error> {
    let sid = resource_id(vmid)?;
    let id = ha_id(share)?;
    let remove_resource = state
        .resources
        .contains_key(&sid)
        .then(|| ha_manager().args(["remove", &sid]));
    let mut cmds = Vec::new();
    match flavor {
        HaFlavor::Pve9Rules => {
            // The rule first: then nothing depends on `remove` purging rules
            // (only pve-ha-manager 5.0.5 and later do).
            if state
                .rules
                .iter()
                .any(|r| r.id == id && r.kind == "node-affinity")
            {
                cmds.push(ha_manager().args(["rules", "remove", &id]));
            }
            cmds.extend(remove_resource);
        }
        HaFlavor::Pve8Groups => {
            // A group cannot be removed while a resource uses it.
            cmds.extend(remove_resource);
            if state.groups.contains_key(&id) {
                cmds.push(ha_manager().args(["groupremove", &id]));
            }
        }
    }
    checked(flavor, cmds)
}

/// Runs `cmds` in order, stopping at the first failure.
pub fn apply(runner: &dyn Runner, cmds: &[Cmd]) -> Result<(), Error> {
    for cmd in cmds {
        runner.run(cmd).map_err(|e| match e.stderr() {
            Some(s) if s.contains("ha groups have not been migrated yet") => {
                Error::GroupsNotMigrated { source: e }
            }
            _ => Error::from(e),
        })?;
    }
    Ok(())
}

/// Makes container `vmid` of share `share` highly available: detects the
/// Proxmox VE version, reads the HA configuration, plans with
/// [`HaOptions::for_placement`] and applies the plan. Returns the commands
/// it ran (none when everything was in place).
///
/// A failure leaves the commands before it applied; running again
/// converges, and [`remove_ha`] undoes it.
pub fn ensure_ha(
    runner: &dyn Runner,
    vmid: u32,
    share: &str,
    placement: &Placement,
) -> Result<Vec<Cmd>, Error> {
    let flavor = detect_flavor(runner)?;
    let state = read_state(runner, flavor)?;
    let plan = plan_ensure(
        flavor,
        &state,
        vmid,
        share,
        placement,
        &HaOptions::for_placement(placement),
    )?;
    apply(runner, &plan)?;
    Ok(plan)
}

/// Takes container `vmid` of share `share` out of HA and deletes its rule
/// or group; what is already absent is fine. Returns the commands it ran.
pub fn remove_ha(runner: &dyn Runner, vmid: u32, share: &str) -> Result<Vec<Cmd>, Error> {
    let flavor = detect_flavor(runner)?;
    let state = read_state(runner, flavor)?;
    let plan = plan_remove(flavor, &state, vmid, share)?;
    apply(runner, &plan)?;
    Ok(plan)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn ha_ids_are_config_ids_and_one_to_one() {
        let shares = [
            "a", "a.b", "a_b", "a-b", "a._b", "a_.b", "a__b", "a_2eb", "x9",
        ];
        let ids: BTreeSet<String> = shares.iter().map(|s| ha_id(s).unwrap()).collect();
        assert_eq!(ids.len(), shares.len(), "{ids:?}");
        for id in &ids {
            assert!(schema::is_config_id(id), "{id}");
        }
        for bad in ["", "A", "a b", "a/b", "é", "a]b"] {
            let e = ha_id(bad).unwrap_err().to_string();
            assert!(e.starts_with("share id "), "{e}");
        }
    }

    #[test]
    fn resource_ids_are_checked() {
        assert_eq!(resource_id(105).unwrap(), "ct:105");
        assert_eq!(
            resource_id(99).unwrap_err().to_string(),
            "container id 99 is not a VMID (100 to 999999999)"
        );
        assert!(resource_id(1_000_000_000).is_err());
    }
}
