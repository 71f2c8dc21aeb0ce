//! The soundness bench's mutation table (crates/bench/src/soundness.rs) edits files of this
//! repository by replacing text in them. The bench itself takes over an hour, so this small
//! binary checks between its runs that every mutation still applies (`bench soundness
//! --check-table`), and that the rule in lanes.toml which selects this binary names exactly the
//! files the table edits: a change to one of them runs this check, and nothing else does.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// This binary's name in nextest's form, as the lanes.toml rule names it.
const BINARY: &str = "bench::mutation_table";

fn check_table(root: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bench"))
        .args(["soundness", "--check-table"])
        .env("XTASK_WORKSPACE_ROOT", root)
        .output()
        .expect("run the bench binary")
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/bench is two levels below the root")
        .to_path_buf()
}

fn table_files(root: &Path) -> BTreeSet<String> {
    let output = check_table(root);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("paths are UTF-8")
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_mutation_applies_to_this_repository() {
    let files = table_files(&workspace_root());
    assert!(files.len() > 10, "{files:?}");
    assert!(
        files.contains("crates/governance/src/verify.rs"),
        "{files:?}"
    );
}

#[test]
fn the_lanes_rule_names_exactly_the_files_the_table_edits() {
    let root = workspace_root();
    let files = table_files(&root);
    let lanes: toml::Table = std::fs::read_to_string(root.join("lanes.toml"))
        .expect("read lanes.toml")
        .parse()
        .expect("lanes.toml is TOML");
    let rules = lanes["impact"]["rules"].as_array().expect("[impact] rules");
    let rule = rules
        .iter()
        .find(|rule| {
            rule.get("also")
                .and_then(toml::Value::as_array)
                .is_some_and(|also| also.iter().any(|t| t.as_str() == Some(BINARY)))
        })
        .unwrap_or_else(|| panic!("no [impact] rule in lanes.toml has `also = [\"{BINARY}\"]`"));
    // A glob without `/` would match a file name anywhere, so root files are written `/NAME`.
    let paths: BTreeSet<String> = rule["paths"]
        .as_array()
        .expect("paths")
        .iter()
        .map(|p| {
            p.as_str()
                .expect("a path")
                .trim_start_matches('/')
                .to_owned()
        })
        .collect();
    let mut expected = files;
    expected.insert("lanes.toml".to_owned()); // this test reads the rule itself
    assert_eq!(
        paths, expected,
        "update the rule in lanes.toml that selects {BINARY}"
    );
}

#[test]
fn a_mutation_that_no_longer_applies_is_refused_with_the_table_to_update() {
    let root = workspace_root();
    let scratch = tempfile::tempdir().expect("temp dir");
    // Every file the table edits, each without the text its mutation replaces.
    for file in table_files(&root) {
        let path = scratch.path().join(&file);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(&path, "").expect("write");
    }
    let output = check_table(scratch.path());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no longer applies"), "{stderr}");
    assert!(
        stderr.contains("update the table in crates/bench/src/soundness.rs"),
        "{stderr}"
    );
    assert!(
        output.stdout.is_empty(),
        "nothing listed when the table is stale"
    );
}
