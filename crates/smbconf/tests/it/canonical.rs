//! Differential tests: our canonical form against real `testparm -s`, and
//! our accept/reject decision against testparm's, on the committed corpus.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use smbconf::{CanonicalOptions, Config, Loader};

use crate::real;

/// Reads includes the way smbd does: relative to the working directory,
/// missing files skipped.
struct FsLoader(PathBuf);

impl Loader for FsLoader {
    fn load(&self, path: &str) -> Option<String> {
        std::fs::read_to_string(self.0.join(path)).ok()
    }
}

fn corpus(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(dir);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .collect();
    v.sort();
    v
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// `name -> reason` of every corpus file whose canonical form is known to
/// differ from testparm's, from tests/corpus/KNOWN-DIFFERENCES.
fn known_differences() -> BTreeMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/KNOWN-DIFFERENCES");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(f, why)| (f.trim().to_string(), why.trim().to_string()))
        .collect()
}

pub fn ours(path: &Path) -> Config {
    let bytes = std::fs::read(path).expect("read corpus file");
    let text = String::from_utf8_lossy(&bytes);
    let dir = path.parent().expect("parent").to_path_buf();
    Config::load(&text, None, &FsLoader(dir))
}

#[test]
fn canonical_form_equals_testparm_on_corpus() {
    if !real::require("testparm") {
        return;
    }
    let known = known_differences();
    let opts = CanonicalOptions {
        hostname: Some(hostname()),
    };
    let files = corpus("corpus");
    assert!(files.len() >= 50, "corpus has only {} files", files.len());
    let mut unexpected = Vec::new();
    let mut stale = Vec::new();
    for path in &files {
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .to_string();
        let (_, expected, _) = real::testparm_file(path, &["-s", "--suppress-prompt"]);
        let cfg = ours(path);
        assert!(
            !cfg.has_errors(),
            "{name}: we reject a file testparm loads: {:?}",
            cfg.diagnostics()
        );
        let got = cfg.canonical_with(&opts);
        match (got == expected, known.contains_key(&name)) {
            (false, false) => unexpected.push(format!(
                "=== {name}\n--- testparm\n{expected}\n--- ours\n{got}"
            )),
            (true, true) => stale.push(name),
            _ => {}
        }
    }
    assert!(
        unexpected.is_empty(),
        "{} files differ from testparm:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
    assert!(
        stale.is_empty(),
        "listed in KNOWN-DIFFERENCES but now equal: {stale:?}"
    );
}

#[test]
fn rejects_what_testparm_rejects() {
    if !real::require("testparm") {
        return;
    }
    for path in corpus("corpus-invalid") {
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .to_string();
        let (rc, _, _) = real::testparm_file(&path, &["-s", "--suppress-prompt"]);
        assert_eq!(
            rc, 1,
            "{name}: testparm accepts it; move it out of corpus-invalid"
        );
        let cfg = ours(&path);
        assert!(
            cfg.has_errors(),
            "{name}: testparm refuses it but we load it"
        );
    }
}
