//! `pve-smbgateway pve-integration`: the node API registration in a
//! synthetic Nodes.pm shaped like pve-manager's (a Nodeinfo package whose
//! subclass mounts come first), checked by loading it in Perl with the
//! RESTHandler stand-in (perl/t/lib) and the real API module (perl/); and
//! the web UI's script tag in a copy of the page-template fixture
//! (tests/fixtures/pve-manager/index.html.tpl).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{bin, ok};

const NODES_PM: &str = r#"package PVE::API2::Nodes::Nodeinfo;

# Synthetic fixture for pve-smbgateway's tests, shaped like pve-manager's
# PVE/API2/Nodes.pm: subclass mounts first, then the node's own methods.
use strict;
use warnings;
use PVE::RESTHandler;
use base qw(PVE::RESTHandler);

{
    package PVE::API2::FixtureQemu;
    use base qw(PVE::RESTHandler);
    __PACKAGE__->register_method({ name => 'index', path => '', method => 'GET', returns => {}, code => sub { [] } });
}

__PACKAGE__->register_method ({
    subclass => "PVE::API2::FixtureQemu",
    path => 'qemu',
});

__PACKAGE__->register_method ({
    name => 'index',
    path => '',
    method => 'GET',
    returns => {},
    code => sub { [] },
});

package PVE::API2::Nodes;

1;
"#;

fn perl_lib() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../perl");
    format!("{}:{}", root.display(), root.join("t/lib").display())
}

const INDEX_TPL: &str = include_str!("../fixtures/pve-manager/index.html.tpl");

fn integration(args: &[&str], nodes: &Path, lib: &str) -> std::process::Output {
    // Never the real template of the machine running the tests.
    let tpl = nodes.with_file_name("index.html.tpl");
    Command::new(bin())
        .arg("pve-integration")
        .args(args)
        .arg("--nodes-pm")
        .arg(nodes)
        .arg("--index-tpl")
        .arg(tpl)
        .env("PERL5LIB", lib)
        .output()
        .unwrap()
}

#[test]
fn node_api_is_registered_checked_and_removed_exactly() {
    if !testkit::require(
        "node_api_is_registered_checked_and_removed_exactly",
        &["perl"],
        "apt-get install -y perl",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let nodes: PathBuf = dir.path().join("Nodes.pm");
    std::fs::write(&nodes, NODES_PM).unwrap();
    let tpl = dir.path().join("index.html.tpl");
    std::fs::write(&tpl, INDEX_TPL).unwrap();
    let lib = perl_lib();

    assert_eq!(
        integration(&["status"], &nodes, &lib).status.code(),
        Some(8)
    );
    ok(&integration(&["install"], &nodes, &lib));
    let installed = std::fs::read_to_string(&nodes).unwrap();
    assert_eq!(installed.matches("# BEGIN pve-smbgateway").count(), 1);
    let tpl_installed = std::fs::read_to_string(&tpl).unwrap();
    assert_eq!(
        tpl_installed
            .matches("/pve2/js/pve-smbgateway.js?ver=")
            .count(),
        1
    );
    let status = ok(&integration(&["status"], &nodes, &lib));
    assert!(status.contains("node API: installed"), "{status}");
    assert!(status.contains("web UI: installed"), "{status}");
    // Loaded as Proxmox would: the node's paths now include smbgateway.
    let out = Command::new("perl")
        .arg("-e")
        .arg(format!(
            "require '{}'; my $h = PVE::RESTHandler::find_handler('PVE::API2::Nodes::Nodeinfo', 'GET', 'smbgateway/metrics') or die 'not found'; print \"$h->[0] $h->[1]{{name}}\\n\"; my $q = PVE::RESTHandler::find_handler('PVE::API2::Nodes::Nodeinfo', 'GET', 'qemu') or die 'qemu lost'; print \"ok\\n\";",
            nodes.display()
        ))
        .env("PERL5LIB", &lib)
        .output()
        .unwrap();
    assert_eq!(ok(&out), "PVE::API2::SMBGateway metrics\nok\n");
    // Idempotent.
    ok(&integration(&["install"], &nodes, &lib));
    assert_eq!(std::fs::read_to_string(&nodes).unwrap(), installed);
    assert_eq!(std::fs::read_to_string(&tpl).unwrap(), tpl_installed);
    // Removed exactly.
    ok(&integration(&["remove"], &nodes, &lib));
    assert_eq!(std::fs::read_to_string(&nodes).unwrap(), NODES_PM);
    assert_eq!(std::fs::read_to_string(&tpl).unwrap(), INDEX_TPL);
    ok(&integration(&["remove"], &nodes, &lib));
    assert_eq!(
        integration(&["status"], &nodes, &lib).status.code(),
        Some(8)
    );

    // perl cannot load it (the module is not installed): nothing changes.
    let stand_ins = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../perl/t/lib");
    let out = integration(&["install"], &nodes, &stand_ins.to_string_lossy());
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("perl cannot load"),
        "{out:?}"
    );
    assert_eq!(std::fs::read_to_string(&nodes).unwrap(), NODES_PM);
    // ... but the template got its tag: each file on its own.
    assert_eq!(std::fs::read_to_string(&tpl).unwrap(), tpl_installed);
    ok(&integration(&["remove"], &nodes, &lib));
    // A Nodes.pm of unknown shape is refused and left alone.
    std::fs::write(&nodes, "package Something::Else;\n1;\n").unwrap();
    let out = integration(&["install"], &nodes, &lib);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not know"));
    assert_eq!(
        std::fs::read_to_string(&nodes).unwrap(),
        "package Something::Else;\n1;\n"
    );
    // So is a template of unknown shape.
    ok(&integration(&["remove"], &nodes, &lib));
    std::fs::write(&nodes, NODES_PM).unwrap();
    let odd = INDEX_TPL.replace("pvemanagerlib.js", "pvemanager.js");
    std::fs::write(&tpl, &odd).unwrap();
    let out = integration(&["install"], &nodes, &lib);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("index.html.tpl has a shape"));
    assert_eq!(std::fs::read_to_string(&tpl).unwrap(), odd);
    ok(&integration(&["remove"], &nodes, &lib));
    assert_eq!(std::fs::read_to_string(&nodes).unwrap(), NODES_PM);
    std::fs::remove_file(&tpl).unwrap();
    // Not a Proxmox node: nothing to do.
    let out = integration(&["install"], &dir.path().join("absent.pm"), &lib);
    assert!(ok(&out).contains("not a Proxmox VE node"));
    // No leftover temp files.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["Nodes.pm"], "{left:?}");
}
