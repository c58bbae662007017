//! `ensure_ha` and `remove_ha` on Proxmox VE 8 and 9, which cannot run
//! here: the recording runner answers `pveversion` and the `ha-manager`
//! reads with output in the format the tools print (see the parser tests in
//! `src/pve/parse.rs` for where each format comes from), the transcripts are
//! snapshot-tested, and every generated command is checked against the
//! schema table.

use std::collections::BTreeSet;

use ha::pve::{self, schema, HaFlavor, HaState};
use ha::{ensure_ha, place, remove_ha, Error, NodeFacts, Placement, Request, MIB};
use runner::{Cmd, RecordingRunner, Reply};

const PVE9: &str = "pve-manager/9.0.10/deb1ca707ec72a89 (running kernel: 6.14.11-2-pve)\n";
const PVE8: &str = "pve-manager/8.4.1/2a5fa54a8503f96d (running kernel: 6.8.12-10-pve)\n";

/// Three nodes reaching `cephfs`: pve2 runs no gateway yet, pve1 and pve3
/// one each, pve1 with more free memory.
fn placement() -> Placement {
    let node = |name: &str, used_gib: u64, gateways| NodeFacts {
        name: name.into(),
        online: true,
        mem_total: 64 * 1024 * MIB,
        mem_used: used_gib * 1024 * MIB,
        cpu: 0.1,
        maxcpu: 16,
        storages: BTreeSet::from(["cephfs".to_string()]),
        gateways,
    };
    let req = Request {
        storage: "cephfs".into(),
        memory: 512 * MIB,
    };
    place(
        &[node("pve1", 8, 1), node("pve2", 30, 0), node("pve3", 20, 1)],
        &req,
    )
    .unwrap()
}

/// What `ha-manager config` prints once the PVE 9 plan ran.
const CONFIG_9: &str = "ct:105\n\tmax_relocate 2\n\tmax_restart 1\n\tstate started\n\n";
/// What `ha-manager rules config --output-format json` prints once the
/// PVE 9 plan ran (nodes sorted by name, as `encode_plugin_value` does).
const RULES_9: &str = r#"[{"digest":"9f0c1c6e2b7d4a5e8f3b2a1c0d9e8f7a6b5c4d3e","enabled":1,"nodes":"pve1:2,pve2:3,pve3:1","order":1,"resources":"ct:105","rule":"smbgw-office","state":"in use","strict":"0","type":"node-affinity"}]
"#;
/// What `ha-manager config` prints once the PVE 8 plan ran.
const CONFIG_8: &str =
    "ct:105\n\tgroup smbgw-office\n\tmax_relocate 2\n\tmax_restart 1\n\tstate started\n\n";
/// What `ha-manager groupconfig` prints once the PVE 8 plan ran (hash
/// order).
const GROUPS_8: &str = "group: smbgw-office\n\tnodes pve3:1,pve2:3,pve1:2\n\n";

fn script_9(r: &RecordingRunner, config: &str, rules: &str) {
    r.on(["pveversion"], Reply::ok(PVE9));
    r.on(["ha-manager", "config"], Reply::ok(config));
    r.on(["ha-manager", "rules", "config"], Reply::ok(rules));
}

fn script_8(r: &RecordingRunner, config: &str, groups: &str) {
    r.on(["pveversion"], Reply::ok(PVE8));
    r.on(["ha-manager", "config"], Reply::ok(config));
    r.on(["ha-manager", "groupconfig"], Reply::ok(groups));
}

/// Checks every `ha-manager` command against the schema table; returns how
/// many were checked.
fn check_schema(flavor: HaFlavor, cmds: &[Cmd]) -> usize {
    let mut checked = 0;
    for c in cmds.iter().filter(|c| c.program() == "ha-manager") {
        schema::check(flavor, c).unwrap_or_else(|e| panic!("{c}: {e}"));
        checked += 1;
    }
    checked
}

/// Runs `ensure_ha`, checks the recorded commands against the schema and
/// that the returned plan is what ran after the reads.
fn ensure(r: &RecordingRunner, flavor: HaFlavor) -> Vec<Cmd> {
    let plan = ensure_ha(r, 105, "office", &placement()).unwrap();
    let recorded = r.commands();
    assert_eq!(recorded[recorded.len() - plan.len()..], plan[..]);
    assert_eq!(check_schema(flavor, &recorded), recorded.len() - 1);
    assert!(r.unused_replies().is_empty(), "{:?}", r.unused_replies());
    plan
}

#[test]
fn pve9_fresh_add() {
    let r = RecordingRunner::new();
    script_9(&r, "", "[]\n");
    let plan = ensure(&r, HaFlavor::Pve9Rules);
    assert_eq!(plan.len(), 2);
    insta::assert_snapshot!("pve9_fresh_add", r.transcript());
}

#[test]
fn pve9_rerun_plans_nothing() {
    let r = RecordingRunner::new();
    script_9(&r, CONFIG_9, RULES_9);
    assert!(ensure(&r, HaFlavor::Pve9Rules).is_empty());
    insta::assert_snapshot!("pve9_rerun", r.transcript());
}

#[test]
fn pve9_drifted_rule_and_resource_are_converged() {
    // An admin narrowed the rule to two nodes with other priorities, made
    // it strict, and stopped the resource with other limits.
    let r = RecordingRunner::new();
    script_9(
        &r,
        "ct:105\n\tmax_relocate 5\n\tstate stopped\n\n",
        r#"[{"digest":"1","enabled":1,"nodes":"pve1:3,pve2:2","order":1,"resources":"ct:105","rule":"smbgw-office","state":"in use","strict":"1","type":"node-affinity"}]"#,
    );
    let plan = ensure(&r, HaFlavor::Pve9Rules);
    assert_eq!(plan.len(), 2);
    insta::assert_snapshot!("pve9_drifted", r.transcript());
}

#[test]
fn pve9_only_rule_nodes_drifted() {
    let r = RecordingRunner::new();
    script_9(
        &r,
        CONFIG_9,
        &RULES_9.replace("pve1:2,pve2:3,pve3:1", "pve1:3,pve2:2"),
    );
    let plan = ensure(&r, HaFlavor::Pve9Rules);
    assert_eq!(
        plan.iter().map(Cmd::to_string).collect::<Vec<_>>(),
        ["ha-manager rules set node-affinity smbgw-office --nodes pve2:3,pve1:2,pve3:1"]
    );
}

#[test]
fn pve9_disabled_rule_with_other_resources_is_repaired() {
    let r = RecordingRunner::new();
    script_9(
        &r,
        CONFIG_9,
        &RULES_9
            .replace(r#""resources":"ct:105""#, r#""resources":"ct:105,vm:200""#)
            .replace(r#""enabled":1,"#, r#""disable":1,"enabled":0,"#),
    );
    let plan = ensure(&r, HaFlavor::Pve9Rules);
    assert_eq!(
        plan.iter().map(Cmd::to_string).collect::<Vec<_>>(),
        ["ha-manager rules set node-affinity smbgw-office --resources ct:105 --delete disable"]
    );
}

#[test]
fn pve9_removal() {
    let r = RecordingRunner::new();
    script_9(&r, CONFIG_9, RULES_9);
    let plan = remove_ha(&r, 105, "office").unwrap();
    assert_eq!(plan.len(), 2);
    assert_eq!(check_schema(HaFlavor::Pve9Rules, &r.commands()), 4);
    insta::assert_snapshot!("pve9_remove", r.transcript());

    // Already gone: only the reads.
    let r = RecordingRunner::new();
    script_9(&r, "", "[]\n");
    assert!(remove_ha(&r, 105, "office").unwrap().is_empty());
    assert_eq!(r.commands().len(), 3);
}

#[test]
fn pve8_fresh_add() {
    let r = RecordingRunner::new();
    script_8(&r, "", "");
    let plan = ensure(&r, HaFlavor::Pve8Groups);
    assert_eq!(plan.len(), 2);
    insta::assert_snapshot!("pve8_fresh_add", r.transcript());
}

#[test]
fn pve8_rerun_plans_nothing() {
    let r = RecordingRunner::new();
    script_8(&r, CONFIG_8, GROUPS_8);
    assert!(ensure(&r, HaFlavor::Pve8Groups).is_empty());
    insta::assert_snapshot!("pve8_rerun", r.transcript());
}

#[test]
fn pve8_drifted_group_and_resource_are_converged() {
    // The group lost pve3 and got other priorities and `restricted`; the
    // resource was moved to another group.
    let r = RecordingRunner::new();
    script_8(
        &r,
        "ct:105\n\tgroup other\n\tmax_relocate 2\n\tmax_restart 1\n\tstate started\n\n",
        "group: other\n\tnodes pve1\n\ngroup: smbgw-office\n\tnodes pve2:2,pve1:3\n\trestricted 1\n\n",
    );
    let plan = ensure(&r, HaFlavor::Pve8Groups);
    assert_eq!(plan.len(), 2);
    insta::assert_snapshot!("pve8_drifted", r.transcript());
}

#[test]
fn pve8_removal() {
    let r = RecordingRunner::new();
    script_8(&r, CONFIG_8, GROUPS_8);
    let plan = remove_ha(&r, 105, "office").unwrap();
    assert_eq!(plan.len(), 2);
    assert_eq!(check_schema(HaFlavor::Pve8Groups, &r.commands()), 4);
    insta::assert_snapshot!("pve8_remove", r.transcript());

    // Interrupted earlier removal: the resource is gone, the group is left.
    let r = RecordingRunner::new();
    script_8(&r, "", GROUPS_8);
    let plan = remove_ha(&r, 105, "office").unwrap();
    assert_eq!(
        plan.iter().map(Cmd::to_string).collect::<Vec<_>>(),
        ["ha-manager groupremove smbgw-office"]
    );
}

#[test]
fn a_foreign_rule_on_the_container_is_refused_before_anything_changes() {
    let r = RecordingRunner::new();
    script_9(
        &r,
        CONFIG_9,
        r#"[{"enabled":1,"nodes":"pve1","order":1,"resources":"ct:105,vm:100","rule":"pin-to-pve1","state":"in use","type":"node-affinity"}]"#,
    );
    let e = ensure_ha(&r, 105, "office", &placement()).unwrap_err();
    assert!(matches!(e, Error::ForeignRule { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "HA resource ct:105 is already in node-affinity rule `pin-to-pve1`; remove it from that rule (`ha-manager rules set node-affinity pin-to-pve1 --resources ...` or `ha-manager rules remove pin-to-pve1`) and retry"
    );
    // Only the reads ran.
    assert_eq!(r.commands().len(), 3);
}

#[test]
fn a_rule_of_another_type_with_our_id_is_refused() {
    let state = HaState {
        rules: ha::pve::parse_rules_config(
            r#"[{"affinity":"negative","rule":"smbgw-office","resources":"vm:1,vm:2","type":"resource-affinity"}]"#,
        )
        .unwrap(),
        ..HaState::default()
    };
    let e = pve::plan_ensure(
        HaFlavor::Pve9Rules,
        &state,
        105,
        "office",
        &placement(),
        &ha::HaOptions::for_placement(&placement()),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "HA rule `smbgw-office` exists as a resource-affinity rule, not the gateway's node-affinity rule; remove it (`ha-manager rules remove smbgw-office`) and retry"
    );
    // Removal leaves it alone.
    let plan = pve::plan_remove(HaFlavor::Pve9Rules, &state, 105, "office").unwrap();
    assert!(plan.is_empty());
}

#[test]
fn unmigrated_groups_on_pve9_get_a_clear_error() {
    let r = RecordingRunner::new();
    script_9(&r, "", "[]\n");
    r.on(
        ["ha-manager", "rules", "add"],
        Reply::fail(
            255,
            "cannot create ha rule: ha groups have not been migrated yet\n",
        ),
    );
    let e = ensure_ha(&r, 105, "office", &placement()).unwrap_err();
    assert!(matches!(e, Error::GroupsNotMigrated { .. }), "{e:?}");
    assert!(e.to_string().contains("finish upgrading all nodes"), "{e}");
    // The failing command and its stderr stay reachable.
    let source = std::error::Error::source(&e).unwrap().to_string();
    assert!(
        source.contains("ha groups have not been migrated yet"),
        "{source}"
    );
}

#[test]
fn a_failed_command_stops_the_plan_and_keeps_stderr() {
    let r = RecordingRunner::new();
    script_8(&r, "", "");
    r.on(
        ["ha-manager", "groupadd"],
        Reply::fail(255, "create ha group failed: no quorum!\n"),
    );
    let e = ensure_ha(&r, 105, "office", &placement()).unwrap_err();
    assert!(matches!(e, Error::Run(_)), "{e:?}");
    assert!(e.to_string().contains("no quorum!"), "{e}");
    // `add` did not run after the failed `groupadd`.
    assert_eq!(r.commands().last().unwrap().get_args()[0], "groupadd");
}

#[test]
fn unsupported_version_is_refused_before_any_ha_manager_command() {
    let r = RecordingRunner::new();
    r.on(
        ["pveversion"],
        Reply::ok("pve-manager/7.4-17/513c62be (running kernel: 5.15.158-2-pve)\n"),
    );
    let e = remove_ha(&r, 105, "office").unwrap_err();
    assert!(matches!(e, Error::UnsupportedVersion { .. }), "{e:?}");
    assert_eq!(r.commands().len(), 1);
}

#[test]
fn missing_tools_name_the_package() {
    let r = RecordingRunner::new();
    r.on(["pveversion"], Reply::ok(PVE9));
    r.on(["ha-manager"], Reply::Missing);
    let e = ensure_ha(&r, 105, "office", &placement()).unwrap_err();
    assert!(e.to_string().contains("pve-ha-manager"), "{e}");
}

#[test]
fn bad_ids_are_refused_before_anything_runs_a_write() {
    let state = HaState::default();
    let p = placement();
    let opts = ha::HaOptions::for_placement(&p);
    for flavor in [HaFlavor::Pve8Groups, HaFlavor::Pve9Rules] {
        assert!(matches!(
            pve::plan_ensure(flavor, &state, 42, "office", &p, &opts),
            Err(Error::InvalidVmid { vmid: 42 })
        ));
        assert!(matches!(
            pve::plan_ensure(flavor, &state, 105, "Office", &p, &opts),
            Err(Error::InvalidShareId { .. })
        ));
        assert!(matches!(
            pve::plan_remove(flavor, &state, 105, "of fice"),
            Err(Error::InvalidShareId { .. })
        ));
    }
}

#[test]
fn share_ids_with_dots_get_a_valid_rule_id() {
    let r = RecordingRunner::new();
    script_9(&r, "", "[]\n");
    let plan = ensure_ha(&r, 105, "team.data", &placement()).unwrap();
    assert_eq!(check_schema(HaFlavor::Pve9Rules, &plan), 2);
    assert_eq!(plan[1].get_args()[3], "smbgw-team_2edata");
}
