//! `include =`: expanded in place, as Samba does, checked against testparm.

use std::collections::HashMap;

use smbconf::{Config, Loader};

use crate::real;

struct MapLoader(HashMap<String, String>);

impl Loader for MapLoader {
    fn load(&self, path: &str) -> Option<String> {
        self.0.get(path).cloned()
    }
}

#[test]
fn section_header_in_include_captures_following_lines() {
    let loader = MapLoader(HashMap::from([(
        "/inc.conf".to_string(),
        "comment = from include\n[incsec]\npath = /i\n".to_string(),
    )]));
    let cfg = Config::load(
        "[global]\nworkgroup = W\ninclude = /inc.conf\nserver string = after\n[s]\npath = /s\n",
        None,
        &loader,
    );
    // `server string` lands in [incsec], where a global parameter is ignored.
    assert_ne!(cfg.global("server string").as_deref(), Some("after"));
    assert!(cfg.diagnostics().iter().any(|d| d
        .message
        .contains("global parameter `server string` in share [incsec]")
        && d.file.is_none()));
    assert_eq!(cfg.global("comment").as_deref(), Some("from include"));
    assert_eq!(
        cfg.service("incsec").and_then(|s| s.get("path")).as_deref(),
        Some("/i")
    );
}

#[test]
fn missing_include_is_not_an_error_and_depth_is_limited() {
    let cfg = Config::load(
        "include = /nowhere.conf\n",
        None,
        &MapLoader(HashMap::new()),
    );
    assert!(!cfg.has_errors());
    let looping = MapLoader(HashMap::from([(
        "/loop.conf".to_string(),
        "include = /loop.conf\n".to_string(),
    )]));
    let cfg = Config::load("include = /loop.conf\n", None, &looping);
    assert!(cfg.has_errors());
    assert!(cfg
        .diagnostics()
        .iter()
        .any(|d| d.message.contains("include depth limit of 100")));
}

#[test]
fn include_matches_testparm() {
    if !real::require("testparm") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let inc = dir.path().join("inc.conf");
    std::fs::write(&inc, "comment = from include\n[incsec]\npath = /i\n").unwrap();
    let main = format!(
        "[global]\nworkgroup = W\ninclude = {}\nserver string = after\n[s]\npath = /s\n",
        inc.display()
    );
    let (rc, expected, _) = real::testparm(&main, &["-s", "--suppress-prompt"]);
    assert_eq!(rc, 0);
    let loader = MapLoader(HashMap::from([(
        inc.display().to_string(),
        std::fs::read_to_string(&inc).unwrap(),
    )]));
    let cfg = Config::load(&main, None, &loader);
    assert_eq!(cfg.canonical(), expected);
}
