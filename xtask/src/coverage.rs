//! Line coverage of the workspace, measured while the whole test suite
//! runs (cargo-llvm-cov), and the floors `cargo xtask test` enforces.
//!
//! One instrumented run covers everything the tests execute: the unit and
//! integration tests, the CLI binary the end-to-end tests spawn, and the
//! plugin cdylib as the Perl `prove` suite loads it (the profile runtime in
//! the cdylib writes its own `.profraw` when perl exits; cargo-llvm-cov
//! reads every executable and shared object of its target directory).
//!
//! The figure is llvm-cov's *lines* (a line counts as covered when code on
//! it ran), per file, summed per crate. Doc tests run separately (they are
//! not instrumented on a stable toolchain) and do not count.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context as _, Result};
use serde_json::Value;

use crate::{have_command, output, root, run};

/// The version of cargo-llvm-cov the gate is written against.
const LLVM_COV_VERSION: &str = "0.9.1";

/// The workspace total may not fall below this (per cent of lines).
pub(crate) const WORKSPACE_FLOOR: f64 = 90.0;

/// No product crate may fall below this (per cent of lines).
pub(crate) const CRATE_FLOOR: f64 = 85.0;

/// Paths left out of the figures, each with the reason.
pub(crate) const EXCLUDED: &[(&str, &str)] = &[
    (
        "xtask/",
        "project automation (apt, cargo, debootstrap, the benchmark driver): \
         it runs the tests rather than being run by them",
    ),
    (
        "crates/testkit/",
        "the test harness itself (sandboxes, namespaces, the AD DC, fault \
         runners): code that only tests execute, so its coverage says \
         nothing about the product",
    ),
];

/// Where the JSON summary of the last run is written.
fn summary_path() -> std::path::PathBuf {
    root().join("target/coverage/summary.json")
}

/// llvm-cov's `--ignore-filename-regex` for [`EXCLUDED`].
fn ignore_regex() -> String {
    let alternatives: Vec<String> = EXCLUDED.iter().map(|(p, _)| regex_escape(p)).collect();
    format!(
        "^{}/({})",
        regex_escape(&root().display().to_string()),
        alternatives.join("|")
    )
}

fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// cargo-llvm-cov and the LLVM tools it drives.
pub(crate) fn install_deps() -> Result<()> {
    let installed = Command::new("rustup")
        .args(["component", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("llvm-tools"))
        .unwrap_or(false);
    if !installed {
        run(Command::new("rustup").args(["component", "add", "llvm-tools-preview"]))?;
    }
    let current = Command::new("cargo")
        .args(["llvm-cov", "--version"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains(LLVM_COV_VERSION))
        .unwrap_or(false);
    if !have_command("cargo-llvm-cov") || !current {
        run(Command::new("cargo").args([
            "install",
            "--locked",
            "cargo-llvm-cov",
            "--version",
            LLVM_COV_VERSION,
        ]))?;
    }
    Ok(())
}

/// Runs every workspace test under coverage instrumentation (real
/// components required), then the doc tests, then prints the per-crate
/// table and fails when a floor is broken.
pub(crate) fn test_with_coverage() -> Result<()> {
    let root = root();
    // `--no-report` implies `--no-clean`: without this, the profiles and
    // test binaries of earlier runs would be merged into this run's
    // figures.
    run(Command::new("cargo")
        .current_dir(&root)
        .args(["llvm-cov", "clean", "--workspace"]))?;
    let tests = run(Command::new("cargo")
        .current_dir(&root)
        .env("SMBGW_REQUIRE_REAL", "1")
        .args(["llvm-cov", "--workspace", "--no-fail-fast", "--no-report"]));
    let docs = run(Command::new("cargo")
        .current_dir(&root)
        .args(["test", "--workspace", "--doc"]));
    // The table is printed even when a test failed, so the run shows both.
    let table = report();
    tests?;
    docs?;
    table
}

/// Reports the last instrumented run: `cargo xtask coverage`.
pub(crate) fn report() -> Result<()> {
    let out = summary_path();
    std::fs::create_dir_all(out.parent().context("coverage directory")?)?;
    let profiles = std::fs::read_dir(root().join("target/llvm-cov-target"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.path().extension().is_some_and(|x| x == "profraw"))
                .count()
        })
        .unwrap_or(0);
    if profiles == 0 {
        bail!("no coverage profiles in target/llvm-cov-target: run `cargo xtask coverage` first");
    }
    let mut cmd = Command::new("cargo");
    cmd.current_dir(root()).args([
        "llvm-cov",
        "report",
        "--json",
        "--summary-only",
        // A process killed while it writes its profile (the tests kill
        // lock helpers, daemons and aborted runs by design) leaves a
        // truncated file; llvm-profdata names it and skips it instead of
        // failing the whole report.
        "--failure-mode",
        "all",
        "--ignore-filename-regex",
        &ignore_regex(),
        "--output-path",
        out.to_str().context("the target directory is not UTF-8")?,
    ]);
    eprintln!("xtask: running {cmd:?}");
    let output = cmd
        .output()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprint!("{stderr}");
    if !output.status.success() {
        bail!("{cmd:?} failed with {}", output.status);
    }
    let skipped = stderr
        .lines()
        .filter(|l| l.contains("invalid instrumentation profile data"))
        .count();
    if skipped > max_skipped(profiles) {
        bail!(
            "{skipped} of {profiles} coverage profiles are unreadable (more than a killed process or two explains); the figures would be incomplete"
        );
    }
    let json: Value = serde_json::from_slice(&std::fs::read(&out)?)
        .with_context(|| format!("{} is not llvm-cov JSON", out.display()))?;
    let table = Table::from_export(&json, &root())?;
    print!("{}", table.render());
    println!("profiles: {profiles} found, {skipped} skipped as truncated");
    let missing = table.missing(&members()?);
    if !missing.is_empty() {
        bail!(
            "no coverage figures for workspace member(s) {}: their tests did not run or wrote no profile",
            missing.join(", ")
        );
    }
    for (path, why) in EXCLUDED {
        println!("excluded: {path}  ({why})");
    }
    let broken = table.broken_floors(WORKSPACE_FLOOR, CRATE_FLOOR);
    if !broken.is_empty() {
        bail!("coverage below the floor:\n  {}", broken.join("\n  "));
    }
    Ok(())
}

/// How many unreadable profiles a run of `profiles` may have: a process
/// killed while writing its profile is expected now and then, a whole
/// class of them is not.
fn max_skipped(profiles: usize) -> usize {
    (profiles / 100).max(3)
}

/// The workspace members' directories (`crates/core`), without
/// [`EXCLUDED`] ones: each must appear in the report.
fn members() -> Result<Vec<String>> {
    let out = output(Command::new("cargo").current_dir(root()).args([
        "metadata",
        "--no-deps",
        "--format-version",
        "1",
    ]))?;
    let meta: Value = serde_json::from_slice(&out).context("cargo metadata JSON")?;
    let root = root();
    let mut dirs = Vec::new();
    for p in meta["packages"]
        .as_array()
        .context("cargo metadata: no packages")?
    {
        let manifest = Path::new(p["manifest_path"].as_str().context("manifest_path")?);
        let dir = manifest
            .parent()
            .and_then(|d| d.strip_prefix(&root).ok())
            .context("a member outside the workspace")?
            .display()
            .to_string();
        if !EXCLUDED.iter().any(|(x, _)| format!("{dir}/") == *x) {
            dirs.push(dir);
        }
    }
    Ok(dirs)
}

/// Covered and total lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Lines {
    pub covered: u64,
    pub count: u64,
}

impl Lines {
    fn add(&mut self, other: Lines) {
        self.covered += other.covered;
        self.count += other.count;
    }

    /// Per cent covered (100 for a crate with no lines).
    pub(crate) fn percent(self) -> f64 {
        if self.count == 0 {
            100.0
        } else {
            self.covered as f64 * 100.0 / self.count as f64
        }
    }
}

/// Lines per crate (keyed by the crate's directory, `crates/core`).
#[derive(Debug, Default)]
pub(crate) struct Table {
    pub crates: BTreeMap<String, Lines>,
}

impl Table {
    /// Sums the per-file line figures of an `llvm-cov export` JSON summary
    /// by the crate directory of each file under `root`. Files outside
    /// the workspace (dependencies, the standard library) are skipped.
    pub(crate) fn from_export(json: &Value, root: &Path) -> Result<Table> {
        let files = json
            .pointer("/data/0/files")
            .and_then(Value::as_array)
            .context("llvm-cov export without data[0].files")?;
        let mut table = Table::default();
        for file in files {
            let name = file
                .get("filename")
                .and_then(Value::as_str)
                .context("a file without a name")?;
            let Ok(rel) = Path::new(name).strip_prefix(root) else {
                continue;
            };
            let lines = file
                .pointer("/summary/lines")
                .context("a file without a line summary")?;
            let get = |k: &str| {
                lines
                    .get(k)
                    .and_then(Value::as_u64)
                    .with_context(|| format!("{name}: lines.{k} is not a count"))
            };
            let mut parts = rel.components().map(|c| c.as_os_str().to_string_lossy());
            let krate = match parts.next().as_deref() {
                Some("crates") => format!("crates/{}", parts.next().unwrap_or_default()),
                Some(top) => top.to_string(),
                None => continue,
            };
            table.crates.entry(krate).or_default().add(Lines {
                covered: get("covered")?,
                count: get("count")?,
            });
        }
        if table.crates.is_empty() {
            bail!("the coverage report names no file of the workspace");
        }
        Ok(table)
    }

    /// The `members` without a row.
    pub(crate) fn missing(&self, members: &[String]) -> Vec<String> {
        members
            .iter()
            .filter(|m| !self.crates.contains_key(*m))
            .cloned()
            .collect()
    }

    pub(crate) fn total(&self) -> Lines {
        let mut all = Lines::default();
        for l in self.crates.values() {
            all.add(*l);
        }
        all
    }

    pub(crate) fn render(&self) -> String {
        let mut out = format!(
            "{:<24} {:>8} {:>8} {:>8}\n",
            "crate", "lines", "covered", "%"
        );
        let row = |name: &str, l: Lines| {
            format!(
                "{:<24} {:>8} {:>8} {:>7.1}%\n",
                name,
                l.count,
                l.covered,
                l.percent()
            )
        };
        for (name, l) in &self.crates {
            out.push_str(&row(name, *l));
        }
        out.push_str(&row("workspace", self.total()));
        out
    }

    /// What falls below the floors, one line each (empty: all met).
    pub(crate) fn broken_floors(&self, workspace: f64, each: f64) -> Vec<String> {
        let mut broken = Vec::new();
        for (name, l) in &self.crates {
            if l.percent() < each {
                broken.push(format!(
                    "{name}: {:.1}% of {} lines (floor {each}%)",
                    l.percent(),
                    l.count
                ));
            }
        }
        let total = self.total();
        if total.percent() < workspace {
            broken.push(format!(
                "workspace: {:.1}% of {} lines (floor {workspace}%)",
                total.percent(),
                total.count
            ));
        }
        broken
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn file(name: &str, covered: u64, count: u64) -> Value {
        json!({"filename": name, "summary": {"lines": {"covered": covered, "count": count, "percent": 0.0}}})
    }

    fn export(files: Vec<Value>) -> Value {
        json!({"data": [{"files": files, "totals": {}}], "type": "llvm.coverage.json.export"})
    }

    #[test]
    fn files_are_summed_per_crate_and_outside_files_are_skipped() {
        let json = export(vec![
            file("/w/crates/core/src/lib.rs", 90, 100),
            file("/w/crates/core/src/spec.rs", 5, 10),
            file("/w/crates/cli/src/main.rs", 80, 80),
            file("/root/.cargo/registry/src/x/lib.rs", 0, 1000),
        ]);
        let t = Table::from_export(&json, Path::new("/w")).unwrap();
        assert_eq!(
            t.crates.get("crates/core"),
            Some(&Lines {
                covered: 95,
                count: 110
            })
        );
        assert_eq!(t.crates.len(), 2);
        assert_eq!(
            t.total(),
            Lines {
                covered: 175,
                count: 190
            }
        );
    }

    #[test]
    fn floors_name_every_crate_below_and_the_total() {
        let json = export(vec![
            file("/w/crates/a/src/lib.rs", 84, 100),
            file("/w/crates/b/src/lib.rs", 100, 100),
        ]);
        let t = Table::from_export(&json, Path::new("/w")).unwrap();
        let broken = t.broken_floors(95.0, 85.0);
        assert_eq!(broken.len(), 2, "{broken:?}");
        assert!(broken[0].starts_with("crates/a: 84.0% of 100 lines"));
        assert!(broken[1].starts_with("workspace: 92.0%"));
        assert!(t.broken_floors(90.0, 84.0).is_empty());
    }

    #[test]
    fn members_without_figures_are_named_and_few_truncated_profiles_are_tolerated() {
        let json = export(vec![file("/w/crates/a/src/lib.rs", 1, 1)]);
        let t = Table::from_export(&json, Path::new("/w")).unwrap();
        assert_eq!(
            t.missing(&["crates/a".into(), "crates/b".into()]),
            ["crates/b"]
        );
        assert_eq!(max_skipped(10), 3);
        assert_eq!(max_skipped(1053), 10);
        let dirs = members().unwrap();
        assert!(dirs.contains(&"crates/provision".to_string()), "{dirs:?}");
        assert!(
            !dirs.iter().any(|d| d == "xtask" || d == "crates/testkit"),
            "{dirs:?}"
        );
    }

    #[test]
    fn a_report_without_workspace_files_is_an_error() {
        let json = export(vec![file("/elsewhere/lib.rs", 1, 1)]);
        assert!(Table::from_export(&json, Path::new("/w")).is_err());
        assert!(Table::from_export(&json!({}), Path::new("/w")).is_err());
    }

    #[test]
    fn the_ignore_regex_anchors_each_exclusion_at_the_root() {
        let re = ignore_regex();
        let root = root().display().to_string();
        assert!(re.starts_with(&format!("^{}/(", regex_escape(&root))));
        assert!(re.contains("xtask/|crates/testkit/"), "{re}");
        assert_eq!(regex_escape("a.b(c)"), "a\\.b\\(c\\)");
    }
}
