//! The schema table itself: it accepts the forms documented in pve-docs
//! `ha-manager.adoc` and the synopsis, and refuses what `ha-manager` would
//! refuse, so that checking generated commands against it can fail.

use ha::pve::schema::{self, check, check_value, Format};
use ha::pve::HaFlavor::{self, Pve8Groups, Pve9Rules};
use runner::Cmd;

fn cmd(line: &str) -> Cmd {
    let mut words = line.split(' ');
    Cmd::new(words.next().unwrap()).args(words)
}

#[test]
fn documented_commands_are_accepted() {
    for (flavor, line) in [
        (Pve9Rules, "ha-manager config"),
        (Pve8Groups, "ha-manager config"),
        (Pve9Rules, "ha-manager add ct:102"),
        (Pve9Rules, "ha-manager add ct:501 --state started --max_relocate 2"),
        (Pve9Rules, "ha-manager rules add node-affinity ha-rule-ct100 --resources ct:100 --nodes node1"),
        (Pve9Rules, "ha-manager rules set node-affinity ha-rule-ct100 --strict 1"),
        (Pve9Rules, "ha-manager rules add node-affinity priority-cascade --resources ct:200,ct:300 --nodes node1:2,node2:1,node3:1,node4"),
        (Pve9Rules, "ha-manager rules config --output-format json"),
        (Pve9Rules, "ha-manager rules remove priority-cascade"),
        (Pve9Rules, "ha-manager remove ct:100"),
        (Pve8Groups, "ha-manager groupadd prefer_node1 --nodes node1"),
        (Pve8Groups, "ha-manager groupadd mygroup1 --nodes node1:2,node2:1,node3:1,node4"),
        (Pve8Groups, "ha-manager groupadd mygroup2 --nodes node1,node2 --restricted 1"),
        (Pve8Groups, "ha-manager groupset mygroup2 --nofailback 1"),
        (Pve8Groups, "ha-manager add ct:100 --group mygroup2 --state started"),
        (Pve8Groups, "ha-manager set ct:100 --max_restart 0"),
        (Pve8Groups, "ha-manager groupconfig"),
        (Pve8Groups, "ha-manager groupremove mygroup2"),
    ] {
        check(flavor, &cmd(line)).unwrap_or_else(|e| panic!("{line}: {e}"));
    }
}

#[test]
fn what_ha_manager_refuses_is_refused() {
    for (flavor, line, problem) in [
        (Pve9Rules, "pct config 100", "`pct` is not ha-manager"),
        (
            Pve9Rules,
            "ha-manager groupadd grp --nodes a",
            "not an ha-manager command this crate uses on Proxmox VE 9 (HA rules)",
        ),
        (
            Pve8Groups,
            "ha-manager rules add node-affinity rule1 --resources ct:100 --nodes a",
            "not an ha-manager command this crate uses on Proxmox VE 8 (HA groups)",
        ),
        (
            Pve9Rules,
            "ha-manager add ct:100 --group grp",
            "`ha-manager add` has no option --group",
        ),
        (
            Pve9Rules,
            "ha-manager rules add resource-affinity rule1 --resources ct:1",
            "not an ha-manager command",
        ),
        (
            Pve9Rules,
            "ha-manager add",
            "takes 1 positional argument(s), got 0",
        ),
        (
            Pve9Rules,
            "ha-manager add ct:100 ct:101",
            "takes 1 positional argument(s), got 2",
        ),
        (
            Pve9Rules,
            "ha-manager add vm:100",
            "\"vm:100\" is not `ct:VMID`",
        ),
        (
            Pve9Rules,
            "ha-manager add ct:99",
            "\"ct:99\" is not `ct:VMID`",
        ),
        (
            Pve9Rules,
            "ha-manager add ct:0100",
            "\"ct:0100\" is not `ct:VMID`",
        ),
        (Pve9Rules, "ha-manager add 100", "\"100\" is not `ct:VMID`"),
        (
            Pve9Rules,
            "ha-manager add ct:100 --state running",
            "--state: \"running\" is not one of started, stopped, enabled, disabled, ignored",
        ),
        (
            Pve9Rules,
            "ha-manager add ct:100 --max_restart -1",
            "--max_restart: \"-1\" is not an integer of at least 0",
        ),
        (
            Pve9Rules,
            "ha-manager add ct:100 --max_relocate two",
            "--max_relocate: \"two\" is not an integer",
        ),
        (
            Pve9Rules,
            "ha-manager add ct:100 --state started --state started",
            "--state is given twice",
        ),
        (
            Pve9Rules,
            "ha-manager add ct:100 --state",
            "--state has no value",
        ),
        (
            Pve9Rules,
            "ha-manager add ct:100 --state started x",
            "unexpected argument \"x\"",
        ),
        (
            Pve9Rules,
            "ha-manager rules add node-affinity rule1 --nodes a",
            "requires --resources",
        ),
        (
            Pve9Rules,
            "ha-manager rules add node-affinity rule1 --resources ct:100",
            "requires --nodes",
        ),
        (
            Pve9Rules,
            "ha-manager rules add node-affinity smbgw.office --resources ct:100 --nodes a",
            "\"smbgw.office\" is not an id",
        ),
        (
            Pve9Rules,
            "ha-manager rules add node-affinity 1rule --resources ct:100 --nodes a",
            "\"1rule\" is not an id",
        ),
        (
            Pve9Rules,
            "ha-manager rules add node-affinity rule1 --resources ct:100 --nodes a:1001",
            "priority \"1001\" of node a is not 0 to 1000",
        ),
        (
            Pve9Rules,
            "ha-manager rules add node-affinity rule1 --resources ct:100 --nodes a:-1",
            "priority \"-1\" of node a",
        ),
        (
            Pve9Rules,
            "ha-manager rules add node-affinity rule1 --resources ct:100 --nodes a:",
            "priority \"\" of node a",
        ),
        (
            Pve9Rules,
            "ha-manager rules add node-affinity rule1 --resources ct:100 --nodes a:2,a:1",
            "node a is listed twice",
        ),
        (
            Pve9Rules,
            "ha-manager rules add node-affinity rule1 --resources ct:100 --nodes -a",
            "\"-a\" is not a node name",
        ),
        (
            Pve9Rules,
            "ha-manager rules add node-affinity rule1 --resources ct:100 --nodes pve_1",
            "\"pve_1\" is not a node name",
        ),
        (
            Pve9Rules,
            "ha-manager rules add node-affinity rule1 --resources ct:100 --nodes a --strict yes",
            "--strict: \"yes\" is not 0 or 1",
        ),
        (
            Pve9Rules,
            "ha-manager rules set node-affinity rule1 --delete dis.able",
            "\"dis.able\" is not an option name",
        ),
        (Pve8Groups, "ha-manager groupadd grp", "requires --nodes"),
    ] {
        let e = check(flavor, &cmd(line)).unwrap_err();
        assert!(e.contains(problem), "{line}: {e}");
    }
}

#[test]
fn empty_lists_are_refused() {
    assert!(check_value(Format::NodeList, "").is_err());
    assert!(check_value(Format::ContainerIdList, "").is_err());
    assert!(check_value(Format::ContainerIdList, "ct:100,").is_err());
}

#[test]
fn id_and_name_rules() {
    for ok in ["ab", "A1", "smbgw-office", "smbgw-team__a_2eb", "x-"] {
        assert!(schema::is_config_id(ok), "{ok}");
    }
    for bad in ["", "a", "1a", "-a", "a.b", "a b", "a:b"] {
        assert!(!schema::is_config_id(bad), "{bad}");
    }
    for ok in ["pve1", "a", "Node-2", "1"] {
        assert!(schema::is_node_name(ok), "{ok}");
    }
    for bad in ["", "-a", "a-", "a.b", "a_b"] {
        assert!(!schema::is_node_name(bad), "{bad}");
    }
    for ok in ["100", "999999999", "123456"] {
        assert!(schema::is_vmid(ok), "{ok}");
    }
    for bad in ["", "99", "0100", "1000000000", "+100", "1e3"] {
        assert!(!schema::is_vmid(bad), "{bad}");
    }
}

#[test]
fn no_two_facts_of_one_flavor_share_a_command() {
    // `check` picks the fact by its words; two for the same flavor would
    // make the choice arbitrary.
    for flavor in [Pve8Groups, Pve9Rules] {
        let mut seen: Vec<&[&str]> = Vec::new();
        for fact in schema::COMMANDS
            .iter()
            .filter(|f| f.flavors.contains(&flavor))
        {
            assert!(
                !seen.contains(&fact.words),
                "{flavor}: {:?} twice",
                fact.words
            );
            seen.push(fact.words);
        }
    }
}

#[test]
fn flavors_are_told_apart() {
    let both: Vec<HaFlavor> = schema::COMMANDS
        .iter()
        .filter(|f| f.words == ["add"])
        .flat_map(|f| f.flavors.iter().copied())
        .collect();
    // `add --group` differs between PVE 8 and 9, so there are two facts.
    assert_eq!(both.len(), 2);
    assert!(check(Pve8Groups, &cmd("ha-manager add ct:100 --group grp")).is_ok());
    assert!(check(Pve9Rules, &cmd("ha-manager add ct:100 --group grp")).is_err());
}
