//! Invariants of `place`.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use ha::placement::PRIORITY_MAX;
use ha::{place, NodeFacts, Placement, PlacementError, Request, MIB};
use proptest::prelude::*;

const STORAGES: &[&str] = &["cephfs", "local-zfs", "nfs"];

/// Facts of one node; values come from small sets so that ties (same
/// gateways, same free memory, same load) are common.
fn facts(name: String) -> impl Strategy<Value = NodeFacts> {
    (
        prop::bool::weighted(0.85),
        0u64..=16,
        0u64..=16,
        prop::sample::select(vec![0.0, 0.05, 0.5, 0.95]),
        1u32..=64,
        prop::sample::subsequence(STORAGES.to_vec(), 0..=STORAGES.len()),
        0u32..=3,
    )
        .prop_map(
            move |(online, total_gib, used_gib, cpu, maxcpu, storages, gateways)| NodeFacts {
                name: name.clone(),
                online,
                mem_total: total_gib * 1024 * MIB,
                mem_used: used_gib.min(total_gib) * 1024 * MIB,
                cpu,
                maxcpu,
                storages: storages.into_iter().map(str::to_owned).collect(),
                gateways,
            },
        )
}

/// Up to 8 nodes with distinct names.
fn cluster() -> impl Strategy<Value = Vec<NodeFacts>> {
    prop::collection::btree_set("[a-z][a-z0-9-]{0,6}", 0..8)
        .prop_flat_map(|names| names.into_iter().map(facts).collect::<Vec<_>>())
}

fn request() -> impl Strategy<Value = Request> {
    (
        prop::sample::select(vec!["cephfs", "local-zfs", "nfs", "missing"]),
        0u64..=8,
    )
        .prop_map(|(storage, quarter_gib)| Request {
            storage: storage.into(),
            memory: quarter_gib * 256 * MIB,
        })
}

/// The rule, stated independently of the implementation.
fn qualifies(n: &NodeFacts, req: &Request) -> bool {
    n.online
        && n.storages.contains(&req.storage)
        && n.mem_total.saturating_sub(n.mem_used) >= req.memory
}

/// The preference order, stated independently: fewest gateways, most free
/// memory, lowest load, name.
fn better(a: &NodeFacts, b: &NodeFacts) -> Ordering {
    let free = |n: &NodeFacts| n.mem_total - n.mem_used;
    a.gateways
        .cmp(&b.gateways)
        .then(free(b).cmp(&free(a)))
        .then(a.cpu.partial_cmp(&b.cpu).unwrap())
        .then(a.name.cmp(&b.name))
}

fn by_name<'a>(nodes: &'a [NodeFacts], name: &str) -> &'a NodeFacts {
    nodes.iter().find(|n| n.name == name).unwrap()
}

fn check_placement(nodes: &[NodeFacts], req: &Request, p: &Placement) {
    // Every chosen node qualifies; the rest are rejected; together they are
    // the input, each once.
    let chosen: Vec<&str> = p.nodes().iter().map(|n| n.node.as_str()).collect();
    let rejected: Vec<&str> = p.rejected().iter().map(|r| r.node.as_str()).collect();
    for c in &chosen {
        assert!(
            qualifies(by_name(nodes, c), req),
            "{c} chosen but does not qualify"
        );
        assert!(!rejected.contains(c), "{c} both chosen and rejected");
    }
    for r in &rejected {
        assert!(
            !qualifies(by_name(nodes, r), req),
            "{r} rejected but qualifies"
        );
    }
    let all: BTreeSet<&str> = chosen.iter().chain(&rejected).copied().collect();
    assert_eq!(all.len(), nodes.len());
    assert_eq!(chosen.len() + rejected.len(), nodes.len());
    // Ordered by preference, priorities distinct and decreasing, in range.
    for w in p.nodes().windows(2) {
        assert_eq!(
            better(by_name(nodes, &w[0].node), by_name(nodes, &w[1].node)),
            Ordering::Less,
            "{} before {}",
            w[0].node,
            w[1].node
        );
        assert!(w[0].priority > w[1].priority);
    }
    for n in p.nodes() {
        assert!((1..=PRIORITY_MAX).contains(&n.priority));
    }
    assert_eq!(p.primary(), &p.nodes()[0]);
    assert_eq!(p.failover(), &p.nodes()[1..]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn chosen_nodes_qualify_and_rejected_ones_never_appear(nodes in cluster(), req in request()) {
        match place(&nodes, &req) {
            Ok(p) => check_placement(&nodes, &req, &p),
            Err(PlacementError { storage, rejected }) => {
                prop_assert_eq!(storage, req.storage.clone());
                prop_assert_eq!(rejected.len(), nodes.len());
                for r in &rejected {
                    prop_assert!(!r.reasons.is_empty());
                }
            }
        }
    }

    #[test]
    fn fails_exactly_when_no_node_qualifies(nodes in cluster(), req in request()) {
        let any = nodes.iter().any(|n| qualifies(n, &req));
        prop_assert_eq!(place(&nodes, &req).is_ok(), any);
    }

    #[test]
    fn result_does_not_depend_on_input_order(
        (nodes, shuffled) in cluster().prop_flat_map(|n| (Just(n.clone()), Just(n).prop_shuffle())),
        req in request(),
    ) {
        prop_assert_eq!(place(&nodes, &req), place(&shuffled, &req));
    }

    #[test]
    fn the_first_node_is_the_best_qualifying_one(nodes in cluster(), req in request()) {
        if let Ok(p) = place(&nodes, &req) {
            let first = by_name(&nodes, &p.primary().node);
            for n in nodes.iter().filter(|n| qualifies(n, &req)) {
                prop_assert_ne!(better(n, first), Ordering::Less, "{} beats {}", n.name, first.name);
            }
        }
    }

    #[test]
    fn duplicate_names_are_never_chosen(nodes in cluster(), req in request(), pick in any::<prop::sample::Index>()) {
        prop_assume!(!nodes.is_empty());
        let dup = nodes[pick.index(nodes.len())].clone();
        let mut with_dup = nodes.clone();
        with_dup.push(dup.clone());
        let in_placement = place(&with_dup, &req)
            .map(|p| p.nodes().iter().any(|n| n.node == dup.name))
            .unwrap_or(false);
        prop_assert!(!in_placement);
    }

    #[test]
    fn gateways_spread_evenly_over_equal_nodes(count in 1usize..8, placements in 0usize..40) {
        let mut nodes: Vec<NodeFacts> = (0..count)
            .map(|i| NodeFacts {
                name: format!("pve{i}"),
                online: true,
                mem_total: 64 * 1024 * MIB,
                mem_used: 8 * 1024 * MIB,
                cpu: 0.1,
                maxcpu: 16,
                storages: BTreeSet::from(["cephfs".to_string()]),
                gateways: 0,
            })
            .collect();
        let req = Request { storage: "cephfs".into(), memory: 512 * MIB };
        for _ in 0..placements {
            let p = place(&nodes, &req).unwrap();
            let chosen = p.primary().node.clone();
            nodes.iter_mut().find(|n| n.name == chosen).unwrap().gateways += 1;
        }
        let counts: BTreeMap<&str, u32> = nodes.iter().map(|n| (n.name.as_str(), n.gateways)).collect();
        let max = counts.values().max().unwrap();
        let min = counts.values().min().unwrap();
        prop_assert!(max - min <= 1, "{counts:?}");
        prop_assert_eq!(counts.values().sum::<u32>() as usize, placements);
    }
}

#[test]
fn more_nodes_than_priorities_are_cut_at_the_maximum() {
    let nodes: Vec<NodeFacts> = (0..PRIORITY_MAX + 5)
        .map(|i| NodeFacts {
            name: format!("n{i:04}"),
            online: true,
            mem_total: 4096 * MIB,
            mem_used: 0,
            cpu: 0.0,
            maxcpu: 1,
            storages: BTreeSet::from(["s".to_string()]),
            gateways: 0,
        })
        .collect();
    let req = Request {
        storage: "s".into(),
        memory: MIB,
    };
    let p = place(&nodes, &req).unwrap();
    assert_eq!(p.nodes().len(), PRIORITY_MAX as usize);
    assert_eq!(p.primary().priority, PRIORITY_MAX);
    assert_eq!(p.nodes().last().unwrap().priority, 1);
    assert_eq!(p.primary().node, "n0000");
}
