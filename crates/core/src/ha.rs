//! High availability of shares: Proxmox VE HA for LXC-mode shares on the
//! `pct` driver (placement, then `ha-manager` through the `ha` crate), and
//! the checks a native share with a CTDB floating address needs.

use std::collections::BTreeMap;
use std::path::Path;

use ha::{NodePriority, Placement, Request, MIB};
use provision::{HaManager, HaNode};
use runner::{Cmd, Runner};

use crate::error::{Error, Result};

/// The tag the pct driver gives share containers.
const GATEWAY_TAG: &str = "smbgateway";

/// Proxmox VE HA through `ha-manager`.
pub struct PveHa;

fn ha_error(id: &str, e: impl std::fmt::Display) -> provision::Error {
    provision::Error::Ha {
        id: id.to_owned(),
        problem: e.to_string(),
    }
}

impl HaManager for PveHa {
    fn ensure(
        &self,
        runner: &dyn Runner,
        id: &str,
        share: &str,
        nodes: &[HaNode],
    ) -> provision::Result<()> {
        let vmid: u32 = id
            .parse()
            .map_err(|_| ha_error(id, "the container id is not a VMID"))?;
        let placement = Placement::from_nodes(
            nodes
                .iter()
                .map(|n| NodePriority {
                    node: n.node.clone(),
                    priority: n.priority,
                })
                .collect(),
        )
        .ok_or_else(|| ha_error(id, "the node preference is empty or names a node twice"))?;
        match ha::ensure_ha(runner, vmid, share, &placement) {
            Ok(_) => Ok(()),
            Err(e) => {
                // A step that fails cleans up after itself: the resource
                // may have been added before the rule failed, and HA
                // would then fight the rollback's stop and destroy.
                let cleanup = ha::remove_ha(runner, vmid, share)
                    .err()
                    .map(|c| format!("; taking it out of HA again failed too: {c}"))
                    .unwrap_or_default();
                Err(ha_error(id, format!("{e}{cleanup}")))
            }
        }
    }

    fn remove(&self, runner: &dyn Runner, id: &str, share: &str) -> provision::Result<()> {
        let vmid: u32 = id
            .parse()
            .map_err(|_| ha_error(id, "the container id is not a VMID"))?;
        ha::remove_ha(runner, vmid, share)
            .map(drop)
            .map_err(|e| ha_error(id, e))
    }
}

/// Share containers per node: `lxc` entries of `/cluster/resources`
/// tagged `smbgateway` (tags are `;`-separated).
fn gateways_per_node(resources: &serde_json::Value) -> BTreeMap<String, u32> {
    let mut out = BTreeMap::new();
    for r in resources.as_array().into_iter().flatten() {
        let is_gateway = r.get("type").and_then(|t| t.as_str()) == Some("lxc")
            && r.get("tags")
                .and_then(|t| t.as_str())
                .is_some_and(|t| t.split([';', ',', ' ']).any(|t| t == GATEWAY_TAG));
        if let (true, Some(node)) = (is_gateway, r.get("node").and_then(|n| n.as_str())) {
            *out.entry(node.to_owned()).or_insert(0) += 1;
        }
    }
    out
}

/// Whether `/cluster/resources` lists `storage` as shared.
fn storage_is_shared(resources: &serde_json::Value, storage: &str) -> bool {
    resources.as_array().into_iter().flatten().any(|r| {
        r.get("type").and_then(|t| t.as_str()) == Some("storage")
            && r.get("storage").and_then(|s| s.as_str()) == Some(storage)
            && r.get("shared")
                .is_some_and(|s| s.as_u64() == Some(1) || s.as_str() == Some("1"))
    })
}

/// This node's Proxmox name (the short host name, as `PVE::INotify::
/// nodename` has it).
pub fn local_node() -> String {
    let uname = rustix::system::uname();
    let name = uname.nodename().to_string_lossy();
    name.split('.').next().unwrap_or_default().to_owned()
}

/// The node preference for a share container whose root filesystem is on
/// `storage` and which needs `memory_mb`: the cluster's nodes that reach
/// the storage and have the memory, fewest gateways first — except that
/// `local` (where `pct` creates the container) comes first when it
/// qualifies, so that HA does not move the new container at once.
pub fn place_container(
    runner: &dyn Runner,
    storage: &str,
    memory_mb: u32,
    local: &str,
) -> Result<Vec<HaNode>> {
    let out = runner
        .run(&Cmd::new("pvesh").args(["get", "/cluster/resources", "--output-format", "json"]))
        .map_err(provision::Error::from)?;
    let text = out.stdout_str();
    let resources: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Invalid {
        field: "cluster resources",
        value: String::new(),
        reason: format!("`pvesh get /cluster/resources` did not print JSON: {e}"),
    })?;
    if !storage_is_shared(&resources, storage) {
        return Err(Error::Invalid {
            field: "ct-storage",
            value: storage.to_owned(),
            reason: "an HA container's root filesystem must be on shared storage (e.g. Ceph RBD) so that another node can start it; give --ct-storage with a shared storage".into(),
        });
    }
    let facts = ha::facts_from_cluster_resources(&text, &gateways_per_node(&resources))
        .map_err(|e| ha_error("", e))?;
    let placement = ha::place(
        &facts,
        &Request {
            storage: storage.to_owned(),
            memory: u64::from(memory_mb) * MIB,
        },
    )
    .map_err(|e| ha_error("", e))?;
    let mut names: Vec<String> = placement.nodes().iter().map(|n| n.node.clone()).collect();
    if let Some(i) = names.iter().position(|n| n == local) {
        let me = names.remove(i);
        names.insert(0, me);
    }
    // Distinct priorities, decreasing along the list (as `place` gives).
    let top = names.len() as u32;
    Ok(names
        .into_iter()
        .enumerate()
        .map(|(i, node)| HaNode {
            node,
            priority: top - i as u32,
        })
        .collect())
}

/// The node preference HA has now for the share's container (its rule on
/// PVE 9, its group on PVE 8), most preferred first; empty when there is
/// none or the cluster cannot be asked. What undoing a `RemoveHa` restores.
pub fn current_nodes(runner: &dyn Runner, share: &str) -> Vec<HaNode> {
    let Ok(id) = ha::pve::ha_id(share) else {
        return Vec::new();
    };
    let Ok(flavor) = ha::pve::detect_flavor(runner) else {
        return Vec::new();
    };
    let Ok(state) = ha::pve::read_state(runner, flavor) else {
        return Vec::new();
    };
    let nodes = state
        .rules
        .iter()
        .find(|r| r.id == id)
        .map(|r| r.nodes.clone())
        .or_else(|| state.groups.get(&id).map(|g| g.nodes.clone()))
        .unwrap_or_default();
    let mut v: Vec<HaNode> = nodes
        .into_iter()
        .map(|(node, p)| HaNode {
            node,
            priority: u32::try_from(p).unwrap_or(u32::MAX),
        })
        .collect();
    v.sort_by(|a, b| b.priority.cmp(&a.priority).then(a.node.cmp(&b.node)));
    v
}

/// A native share with a floating address needs this node in a CTDB
/// cluster that carries the address, and a clustered smbd.
pub fn check_ctdb_node(ctdb_dir: &Path, samba_conf: &Path, vip: &str) -> Result<()> {
    let want: ha::ctdb::Vip = vip
        .parse()
        .map_err(|e: ha::ctdb::CtdbSpecError| Error::Invalid {
            field: "vip",
            value: vip.to_owned(),
            reason: e.to_string(),
        })?;
    let file = ctdb_dir.join("public_addresses");
    let not_ready = |reason: String| Error::Invalid {
        field: "vip",
        value: vip.to_owned(),
        reason,
    };
    let text = std::fs::read_to_string(&file).map_err(|e| {
        not_ready(format!(
            "this node is not set up for CTDB ({}: {e}); run `pve-smbgateway ctdb render ...` on every node and start ctdb first",
            file.display()
        ))
    })?;
    let (addrs, _) = smbconf::ctdb::PublicAddressesFile::parse(&text);
    if !addrs.addresses().iter().any(|a| a.address == want.address) {
        return Err(not_ready(format!(
            "{} is not one of this CTDB cluster's floating addresses ({}); add it with `pve-smbgateway ctdb render --vip ...` on every node",
            want.address,
            file.display()
        )));
    }
    let cfg = crate::ops::load_samba_conf(samba_conf);
    if cfg.global("clustering").as_deref() != Some("Yes") {
        return Err(not_ready(format!(
            "smbd on this node is not clustered: include {} (written by `pve-smbgateway ctdb render`) from {} or set `clustering = yes`",
            ctdb_dir.join("smb-cluster.conf").display(),
            samba_conf.display()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn counts_tagged_containers_and_shared_storage() {
        let r: serde_json::Value = serde_json::from_str(
            r#"[{"type":"lxc","node":"pve1","tags":"smbgateway","vmid":101},
                {"type":"lxc","node":"pve1","tags":"web;smbgateway","vmid":102},
                {"type":"lxc","node":"pve2","tags":"web","vmid":103},
                {"type":"qemu","node":"pve2","tags":"smbgateway","vmid":104},
                {"type":"storage","storage":"ceph-rbd","node":"pve1","shared":1},
                {"type":"storage","storage":"local","node":"pve1","shared":0}]"#,
        )
        .unwrap();
        assert_eq!(
            gateways_per_node(&r),
            BTreeMap::from([("pve1".to_string(), 2)])
        );
        assert!(storage_is_shared(&r, "ceph-rbd"));
        assert!(!storage_is_shared(&r, "local"));
        assert!(!storage_is_shared(&r, "nope"));
    }

    #[test]
    fn ctdb_node_checks() {
        let d = tempfile::tempdir().unwrap();
        let conf = d.path().join("smb.conf");
        std::fs::write(&conf, "[global]\n\tworkgroup = W\n").unwrap();
        let e = check_ctdb_node(d.path(), &conf, "10.0.0.50/24").unwrap_err();
        assert!(e.to_string().contains("not set up for CTDB"), "{e}");
        std::fs::write(d.path().join("public_addresses"), "10.0.0.51/24 eth0\n").unwrap();
        let e = check_ctdb_node(d.path(), &conf, "10.0.0.50/24").unwrap_err();
        assert!(
            e.to_string().contains("not one of this CTDB cluster's"),
            "{e}"
        );
        std::fs::write(d.path().join("public_addresses"), "10.0.0.50/24 eth0\n").unwrap();
        let e = check_ctdb_node(d.path(), &conf, "10.0.0.50/24").unwrap_err();
        assert!(e.to_string().contains("not clustered"), "{e}");
        std::fs::write(
            d.path().join("smb-cluster.conf"),
            "[global]\n\tclustering = yes\n",
        )
        .unwrap();
        std::fs::write(
            &conf,
            format!(
                "[global]\n\tinclude = {}\n",
                d.path().join("smb-cluster.conf").display()
            ),
        )
        .unwrap();
        check_ctdb_node(d.path(), &conf, "10.0.0.50/24@eth0").unwrap();
        assert!(check_ctdb_node(d.path(), &conf, "10.0.0.50").is_err());
    }
}
