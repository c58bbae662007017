//! Where a gateway's container runs and where HA moves it: pure placement.
//!
//! [`place`] filters the cluster's nodes ([`NodeFacts`]) down to those that
//! can run the gateway — online, able to reach the storage, with enough free
//! memory — and orders them by preference. The first node is where the
//! container is created; the others are the HA failover targets, in order.
//! Each gets a distinct `ha-manager` priority (higher = preferred).
//!
//! [`facts_from_cluster_resources`] builds the facts from
//! `pvesh get /cluster/resources --output-format json`.
//!
//! No I/O happens here.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Error;

/// One mebibyte, the unit of memory in messages.
pub const MIB: u64 = 1024 * 1024;

/// The highest priority [`place`] hands out, and so the most nodes a
/// placement lists. `ha-manager` takes any non-negative integer
/// (`pve-ha-node` format, `(:\d+)?`); Proxmox's own editor offers 0 to 1000
/// (pve-manager `www/manager6/ha/NodePrioritySelector.js`), so we stay
/// within that and never use 0 (which `ha-manager` prints as a bare node
/// name).
pub const PRIORITY_MAX: u32 = 1000;

/// What placement needs to know about one cluster node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeFacts {
    /// Node name, as Proxmox spells it.
    pub name: String,
    /// Whether the node is an online cluster member.
    pub online: bool,
    /// Memory of the node, bytes.
    pub mem_total: u64,
    /// Memory in use, bytes.
    pub mem_used: u64,
    /// CPU load as a fraction of the node's CPUs (0 to 1).
    pub cpu: f64,
    /// Number of CPUs.
    pub maxcpu: u32,
    /// Ids of the storages the node can reach now (enabled on it and active).
    pub storages: BTreeSet<String>,
    /// Gateways already running on the node.
    pub gateways: u32,
}

impl NodeFacts {
    /// Free memory, bytes.
    pub fn mem_free(&self) -> u64 {
        self.mem_total.saturating_sub(self.mem_used)
    }
}

/// What the gateway to place needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// The Proxmox storage id that holds the share's volume.
    pub storage: String,
    /// Memory the gateway's container needs, bytes.
    pub memory: u64,
}

/// A node in a placement with its `ha-manager` priority.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodePriority {
    /// Node name.
    pub node: String,
    /// Priority, 1 to [`PRIORITY_MAX`]; higher is preferred.
    pub priority: u32,
}

/// The outcome of [`place`]: the qualifying nodes, most preferred first,
/// with distinct priorities that decrease along the list, and the nodes that
/// were left out with the reasons.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Placement {
    nodes: Vec<NodePriority>,
    rejected: Vec<Rejected>,
}

impl Placement {
    /// A placement recorded earlier (e.g. in a journal): `nodes` most
    /// preferred first. `None` when empty or when a node repeats.
    pub fn from_nodes(nodes: Vec<NodePriority>) -> Option<Placement> {
        let mut names: Vec<&str> = nodes.iter().map(|n| n.node.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        if nodes.is_empty() || names.len() != nodes.len() {
            return None;
        }
        Some(Placement {
            nodes,
            rejected: Vec::new(),
        })
    }

    /// Where the container goes.
    pub fn primary(&self) -> &NodePriority {
        &self.nodes[0]
    }

    /// Every qualifying node, most preferred first (never empty).
    pub fn nodes(&self) -> &[NodePriority] {
        &self.nodes
    }

    /// The HA failover targets, in order (the nodes after the primary).
    pub fn failover(&self) -> &[NodePriority] {
        &self.nodes[1..]
    }

    /// The nodes left out, sorted by name, with the reasons.
    pub fn rejected(&self) -> &[Rejected] {
        &self.rejected
    }
}

/// A node that cannot run the gateway and why.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Rejected {
    /// Node name.
    pub node: String,
    /// Every reason (an offline node gets only [`Rejection::Offline`]: the
    /// other facts of an offline node are not known).
    pub reasons: Vec<Rejection>,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.node)?;
        for (i, r) in self.reasons.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

/// Why a node cannot run the gateway.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum Rejection {
    /// The node is not an online cluster member.
    Offline,
    /// The storage is not enabled on the node or not active there.
    NoStorage {
        /// The storage id.
        storage: String,
    },
    /// Less free memory than the gateway needs.
    NotEnoughMemory {
        /// Bytes needed.
        needs: u64,
        /// Bytes free.
        free: u64,
    },
    /// The node is listed more than once in the facts, so they are
    /// ambiguous.
    Duplicate,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::Offline => f.write_str("offline"),
            Rejection::NoStorage { storage } => write!(f, "cannot reach storage {storage}"),
            Rejection::NotEnoughMemory { needs, free } => write!(
                f,
                "not enough free memory: needs {} MiB, has {} MiB",
                // Rounded apart, so that "needs" is always the larger number.
                needs.div_ceil(MIB),
                free / MIB
            ),
            Rejection::Duplicate => f.write_str("listed more than once in the cluster facts"),
        }
    }
}

/// No node can run the gateway. Lists every node with its reasons.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct PlacementError {
    /// The storage asked for.
    pub storage: String,
    /// Every node, sorted by name, with its reasons.
    pub rejected: Vec<Rejected>,
}

impl fmt::Display for PlacementError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.rejected.is_empty() {
            return f.write_str("no node can run the gateway: the cluster reported no nodes");
        }
        f.write_str("no node can run the gateway: ")?;
        for (i, r) in self.rejected.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{r}")?;
        }
        write!(
            f,
            "; bring a node online, make storage {} available on more nodes or free memory",
            self.storage
        )
    }
}

/// Why `node` cannot run the gateway (empty if it can).
fn reasons(node: &NodeFacts, req: &Request, duplicate: bool) -> Vec<Rejection> {
    let mut reasons = Vec::new();
    if duplicate {
        reasons.push(Rejection::Duplicate);
    }
    if !node.online {
        reasons.push(Rejection::Offline);
        return reasons;
    }
    if !node.storages.contains(&req.storage) {
        reasons.push(Rejection::NoStorage {
            storage: req.storage.clone(),
        });
    }
    if node.mem_free() < req.memory {
        reasons.push(Rejection::NotEnoughMemory {
            needs: req.memory,
            free: node.mem_free(),
        });
    }
    reasons
}

/// Preference among qualifying nodes: fewest gateways (spread them), then
/// most free memory, then lowest CPU load, then name. A total order on
/// nodes with distinct names, so the result does not depend on input order.
fn preference(a: &NodeFacts, b: &NodeFacts) -> Ordering {
    a.gateways
        .cmp(&b.gateways)
        .then_with(|| b.mem_free().cmp(&a.mem_free()))
        .then_with(|| a.cpu.total_cmp(&b.cpu))
        .then_with(|| a.name.cmp(&b.name))
}

/// Chooses the nodes for a gateway: every node that is online, reaches
/// `req.storage` and has `req.memory` bytes free, most preferred first (see
/// the module docs), at most [`PRIORITY_MAX`] of them. Priorities count down
/// from the number of nodes to 1.
///
/// Fails with every node's reasons when no node qualifies. A node listed
/// twice in `nodes` never qualifies (its facts are ambiguous).
///
/// ```
/// use std::collections::BTreeSet;
/// use ha::placement::{place, NodeFacts, Request, MIB};
///
/// let node = |name: &str, gateways| NodeFacts {
///     name: name.into(),
///     online: true,
///     mem_total: 8192 * MIB,
///     mem_used: 2048 * MIB,
///     cpu: 0.1,
///     maxcpu: 8,
///     storages: BTreeSet::from(["cephfs".to_string()]),
///     gateways,
/// };
/// let req = Request { storage: "cephfs".into(), memory: 512 * MIB };
/// let p = place(&[node("pve1", 2), node("pve2", 0), node("pve3", 1)], &req).unwrap();
/// let order: Vec<_> = p.nodes().iter().map(|n| (n.node.as_str(), n.priority)).collect();
/// assert_eq!(order, [("pve2", 3), ("pve3", 2), ("pve1", 1)]);
/// ```
pub fn place(nodes: &[NodeFacts], req: &Request) -> Result<Placement, PlacementError> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for n in nodes {
        *seen.entry(n.name.as_str()).or_default() += 1;
    }
    let mut ok: Vec<&NodeFacts> = Vec::new();
    let mut rejected = Vec::new();
    for n in nodes {
        let reasons = reasons(n, req, seen[n.name.as_str()] > 1);
        if reasons.is_empty() {
            ok.push(n);
        } else {
            rejected.push(Rejected {
                node: n.name.clone(),
                reasons,
            });
        }
    }
    rejected.sort();
    if ok.is_empty() {
        return Err(PlacementError {
            storage: req.storage.clone(),
            rejected,
        });
    }
    ok.sort_by(|a, b| preference(a, b));
    ok.truncate(PRIORITY_MAX as usize);
    let count = ok.len() as u32;
    let nodes = ok
        .iter()
        .zip((1..=count).rev())
        .map(|(n, priority)| NodePriority {
            node: n.name.clone(),
            priority,
        })
        .collect();
    Ok(Placement { nodes, rejected })
}

const RESOURCES: &str = "`pvesh get /cluster/resources` output";

fn parse_error(detail: impl Into<String>) -> Error {
    Error::Parse {
        what: RESOURCES,
        detail: detail.into(),
    }
}

/// A number field that Perl may have printed as a number or as a string.
fn number(entry: &Map<String, Value>, key: &str) -> Option<f64> {
    match entry.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn string<'a>(entry: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    entry.get(key).and_then(Value::as_str)
}

/// Builds [`NodeFacts`] from `pvesh get /cluster/resources --output-format
/// json` (pve-manager `PVE/API2/Cluster.pm`, `resources`, entries made by
/// `PVE::API2Tools::extract_node_stats` and `extract_storage_stats`):
///
/// * `type: node` entries give `node`, `status` (`online`, `offline` or
///   `unknown`, which counts as offline), and for online nodes `maxmem`,
///   `mem` (bytes), `cpu` (fraction) and `maxcpu`;
/// * `type: storage` entries exist once per node the storage is enabled on
///   and give `storage`, `node` and `status` (`available` when the node
///   reports it active, else `unknown`).
///
/// Other entries (guests, pools, SDN) are ignored. `gateways` is the number
/// of gateways per node (missing = 0). The result is sorted by node name.
///
/// An online node without memory figures is an error: Proxmox leaves them
/// out when the caller lacks `Sys.Audit` on the node.
pub fn facts_from_cluster_resources(
    json: &str,
    gateways: &BTreeMap<String, u32>,
) -> Result<Vec<NodeFacts>, Error> {
    let value: Value =
        serde_json::from_str(json).map_err(|e| parse_error(format!("not JSON: {e}")))?;
    let entries = value
        .as_array()
        .ok_or_else(|| parse_error("expected a JSON array of resources"))?;
    let mut nodes: BTreeMap<String, NodeFacts> = BTreeMap::new();
    let mut storages: Vec<(String, String)> = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let entry = entry
            .as_object()
            .ok_or_else(|| parse_error(format!("entry {i} is not an object")))?;
        match string(entry, "type") {
            Some("node") => {
                let name = string(entry, "node")
                    .ok_or_else(|| parse_error(format!("node entry {i} has no `node`")))?;
                let online = string(entry, "status") == Some("online");
                let (mem_total, mem_used) = match (number(entry, "maxmem"), number(entry, "mem")) {
                    (Some(total), Some(used)) => (total as u64, used as u64),
                    _ if online => {
                        return Err(parse_error(format!(
                            "node {name} is online but has no memory figures (`maxmem`, `mem`); run as a user with Sys.Audit on /nodes/{name}"
                        )))
                    }
                    _ => (0, 0),
                };
                let facts = NodeFacts {
                    name: name.to_owned(),
                    online,
                    mem_total,
                    mem_used,
                    cpu: number(entry, "cpu").unwrap_or(0.0),
                    maxcpu: number(entry, "maxcpu").unwrap_or(0.0) as u32,
                    storages: BTreeSet::new(),
                    gateways: gateways.get(name).copied().unwrap_or(0),
                };
                if nodes.insert(name.to_owned(), facts).is_some() {
                    return Err(parse_error(format!("node {name} is listed twice")));
                }
            }
            Some("storage") => {
                if string(entry, "status") != Some("available") {
                    continue;
                }
                let (Some(storage), Some(node)) = (string(entry, "storage"), string(entry, "node"))
                else {
                    return Err(parse_error(format!(
                        "storage entry {i} has no `storage` or `node`"
                    )));
                };
                storages.push((node.to_owned(), storage.to_owned()));
            }
            _ => {}
        }
    }
    for (node, storage) in storages {
        if let Some(n) = nodes.get_mut(&node) {
            n.storages.insert(storage);
        }
    }
    Ok(nodes.into_values().collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// `pvesh get /cluster/resources --output-format json` on a three-node
    /// cluster, in the shape pve-manager's `PVE/API2/Cluster.pm` and
    /// `PVE/API2Tools.pm` (`extract_node_stats`, `extract_vm_stats`,
    /// `extract_storage_stats`) produce, with `to_json(..., canonical)`
    /// (sorted keys, one line): pve3 is offline (no stats), `cephfs` is
    /// shared and active on pve1 and pve2, `local-zfs` is active on pve1
    /// only (pve2's pvestatd has not reported it: `unknown`).
    const RESOURCES: &str = r#"[{"cpu":0.0123,"diskread":0,"diskwrite":0,"id":"lxc/105","maxcpu":1,"maxdisk":2147483648,"maxmem":536870912,"mem":41000960,"name":"smbgw-office","netin":1024,"netout":2048,"node":"pve1","status":"running","template":0,"type":"lxc","uptime":3600,"vmid":105},{"cgroup-mode":2,"cpu":0.0452,"disk":4938272768,"hastate":"online","id":"node/pve1","level":"","maxcpu":16,"maxdisk":100861726720,"maxmem":67331772416,"mem":12012093440,"node":"pve1","status":"online","type":"node","uptime":864000},{"cgroup-mode":2,"cpu":0.2107,"disk":5138272768,"hastate":"online","id":"node/pve2","level":"c","maxcpu":8,"maxdisk":100861726720,"maxmem":33542520832,"mem":30000000000,"node":"pve2","status":"online","type":"node","uptime":86400},{"id":"node/pve3","level":"","node":"pve3","status":"offline","type":"node"},{"content":"rootdir,images","disk":1073741824,"id":"storage/pve1/cephfs","maxdisk":1099511627776,"node":"pve1","plugintype":"cephfs","shared":1,"status":"available","storage":"cephfs","type":"storage"},{"content":"rootdir,images","disk":1073741824,"id":"storage/pve2/cephfs","maxdisk":1099511627776,"node":"pve2","plugintype":"cephfs","shared":1,"status":"available","storage":"cephfs","type":"storage"},{"content":"rootdir,images","id":"storage/pve3/cephfs","node":"pve3","plugintype":"cephfs","shared":1,"status":"unknown","storage":"cephfs","type":"storage"},{"content":"images,rootdir","disk":4938272768,"id":"storage/pve1/local-zfs","maxdisk":96000000000,"node":"pve1","plugintype":"zfspool","shared":0,"status":"available","storage":"local-zfs","type":"storage"},{"content":"images,rootdir","id":"storage/pve2/local-zfs","node":"pve2","plugintype":"zfspool","shared":0,"status":"unknown","storage":"local-zfs","type":"storage"},{"id":"/pool/prod","pool":"prod","type":"pool"},{"id":"sdn/pve1/localnetwork","node":"pve1","sdn":"localnetwork","status":"ok","type":"sdn"}]"#;

    #[test]
    fn cluster_resources_give_node_facts() {
        let gateways = BTreeMap::from([("pve1".to_string(), 1)]);
        let facts = facts_from_cluster_resources(RESOURCES, &gateways).unwrap();
        assert_eq!(
            facts,
            [
                NodeFacts {
                    name: "pve1".into(),
                    online: true,
                    mem_total: 67_331_772_416,
                    mem_used: 12_012_093_440,
                    cpu: 0.0452,
                    maxcpu: 16,
                    storages: BTreeSet::from(["cephfs".into(), "local-zfs".into()]),
                    gateways: 1,
                },
                NodeFacts {
                    name: "pve2".into(),
                    online: true,
                    mem_total: 33_542_520_832,
                    mem_used: 30_000_000_000,
                    cpu: 0.2107,
                    maxcpu: 8,
                    storages: BTreeSet::from(["cephfs".into()]),
                    gateways: 0,
                },
                NodeFacts {
                    name: "pve3".into(),
                    online: false,
                    mem_total: 0,
                    mem_used: 0,
                    cpu: 0.0,
                    maxcpu: 0,
                    storages: BTreeSet::new(),
                    gateways: 0,
                },
            ]
        );
    }

    #[test]
    fn placement_on_the_captured_cluster() {
        let facts = facts_from_cluster_resources(RESOURCES, &BTreeMap::new()).unwrap();
        let req = Request {
            storage: "cephfs".into(),
            memory: 512 * MIB,
        };
        let p = place(&facts, &req).unwrap();
        // Equal gateway counts: pve1 has far more free memory.
        assert_eq!(p.primary().node, "pve1");
        assert_eq!(p.failover().len(), 1);
        assert_eq!(p.failover()[0].node, "pve2");
        assert_eq!(p.rejected().len(), 1);
        assert_eq!(p.rejected()[0].to_string(), "pve3: offline");

        // 4 GiB: pve2 has only 3378 MiB free.
        let req = Request {
            storage: "local-zfs".into(),
            memory: 4096 * MIB,
        };
        let p = place(&facts, &req).unwrap();
        assert_eq!(p.nodes().len(), 1);
        assert_eq!(
            p.rejected()[0].to_string(),
            "pve2: cannot reach storage local-zfs, not enough free memory: needs 4096 MiB, has 3378 MiB"
        );
    }

    #[test]
    fn error_lists_every_node_and_what_to_do() {
        let facts = facts_from_cluster_resources(RESOURCES, &BTreeMap::new()).unwrap();
        let req = Request {
            storage: "nfs-backup".into(),
            memory: 512 * MIB,
        };
        let e = place(&facts, &req).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no node can run the gateway: pve1: cannot reach storage nfs-backup; \
             pve2: cannot reach storage nfs-backup; pve3: offline; \
             bring a node online, make storage nfs-backup available on more nodes or free memory"
        );
        let e = place(&[], &req).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no node can run the gateway: the cluster reported no nodes"
        );
    }

    #[test]
    fn memory_rounding_never_shows_needs_at_most_has() {
        let r = Rejection::NotEnoughMemory {
            needs: 512 * MIB + 1,
            free: 512 * MIB,
        };
        assert_eq!(
            r.to_string(),
            "not enough free memory: needs 513 MiB, has 512 MiB"
        );
    }

    #[test]
    fn duplicate_nodes_never_qualify() {
        let n = NodeFacts {
            name: "pve1".into(),
            online: true,
            mem_total: 8192 * MIB,
            mem_used: 0,
            cpu: 0.0,
            maxcpu: 4,
            storages: BTreeSet::from(["s".to_string()]),
            gateways: 0,
        };
        let req = Request {
            storage: "s".into(),
            memory: MIB,
        };
        let e = place(&[n.clone(), n], &req).unwrap_err();
        assert_eq!(e.rejected.len(), 2);
        assert_eq!(e.rejected[0].reasons, [Rejection::Duplicate]);
    }

    #[test]
    fn malformed_cluster_resources_are_refused() {
        let none = BTreeMap::new();
        for (json, msg) in [
            ("", "not JSON"),
            ("{}", "expected a JSON array"),
            ("[1]", "entry 0 is not an object"),
            (r#"[{"type":"node","status":"online"}]"#, "has no `node`"),
            (
                r#"[{"type":"node","node":"pve1","status":"online","id":"node/pve1"}]"#,
                "node pve1 is online but has no memory figures (`maxmem`, `mem`); run as a user with Sys.Audit on /nodes/pve1",
            ),
            (
                r#"[{"type":"storage","status":"available","node":"pve1"}]"#,
                "storage entry 0 has no `storage` or `node`",
            ),
            (
                r#"[{"type":"node","node":"a","status":"offline"},{"type":"node","node":"a","status":"offline"}]"#,
                "node a is listed twice",
            ),
        ] {
            let e = facts_from_cluster_resources(json, &none).unwrap_err();
            assert!(e.to_string().contains(msg), "{json}: {e}");
            assert!(
                e.to_string()
                    .starts_with("cannot parse `pvesh get /cluster/resources` output: "),
                "{e}"
            );
        }
    }

    #[test]
    fn numbers_printed_as_strings_are_accepted() {
        let json = r#"[{"type":"node","node":"pve1","status":"online","maxmem":"1073741824","mem":"0","cpu":"0.5","maxcpu":"2"}]"#;
        let f = facts_from_cluster_resources(json, &BTreeMap::new()).unwrap();
        assert_eq!((f[0].mem_total, f[0].cpu, f[0].maxcpu), (1 << 30, 0.5, 2));
    }
}
