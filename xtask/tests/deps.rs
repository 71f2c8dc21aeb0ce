//! `cargo xtask deps`: the real binary on this repository and on a small temporary workspace.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use xshell::{Shell, cmd};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn xtask(args: &[&str]) -> Output {
    common::xtask_command()
        .args(args)
        .env_remove("XTASK_WORKSPACE_ROOT")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn deps_audit_passes_on_this_repository() {
    let out = xtask(&["deps", "audit", "--format", "json"]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    let json = output_types::validate::document(&stdout);
    assert_eq!(json["schema"], "deps-audit/v1");
    assert_eq!(json["passed"], true);
    let members = json["members"].as_object().unwrap();
    assert!(members.len() >= 9, "{members:?}");
    assert!(
        members.values().all(|group| group.is_string()),
        "{members:?}"
    );
}

/// What `cargo tree` says the default build (tests included) of `packages` compiles.
fn tree(sh: &Shell, packages: &[&str]) -> Vec<String> {
    let mut args = Vec::new();
    for package in packages {
        args.extend(["-p", package]);
    }
    let format = "{p}";
    let output = support::nested::isolated(
        cmd!(
            sh,
            "cargo tree {args...} -e normal,build,dev --prefix none --format {format}"
        ),
        xshell::Cmd::env_remove,
    )
    .read()
    .unwrap();
    output
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn core_default_builds_compile_no_property_or_enterprise_crate() {
    let root = repo_root();
    let groups = depgroups::GroupsFile::load(&root.join("deps-groups.toml")).unwrap();
    let mut forbidden: Vec<String> = Vec::new();
    for name in ["property", "enterprise", "bench"] {
        let group = &groups.groups[name];
        forbidden.extend(group.members.iter().map(|m| m.get_ref().clone()));
        forbidden.extend(group.reserved.iter().map(|r| r.get_ref().clone()));
    }
    assert!(forbidden.iter().any(|f| f == "proptest"), "{forbidden:?}");

    let sh = Shell::new().unwrap();
    sh.change_dir(&root);
    // One listing for every core member (`release` and `node` included), as a core lane builds.
    let core = groups.members_of("core").unwrap();
    assert!(
        core.contains(&"release") && core.contains(&"node"),
        "{core:?}"
    );
    let crates = tree(&sh, &core);
    for member in &core {
        assert!(crates.iter().any(|c| c == member), "{member}: {crates:?}");
    }
    let leaked: Vec<&String> = crates.iter().filter(|c| forbidden.contains(c)).collect();
    assert!(
        leaked.is_empty(),
        "`cargo tree` of core members lists {leaked:?}"
    );
    // The same listing does show proptest for the property crate: the check can see it.
    assert!(
        tree(&sh, &["release-props"])
            .iter()
            .any(|c| c == "proptest")
    );
}

fn planted_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, body: &str| {
        let path = dir.path().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, body).unwrap();
    };
    write(
        "Cargo.toml",
        "[workspace]\nresolver = \"2\"\nmembers = [\"crates/*\"]\n",
    );
    for (name, deps) in [("core-a", "gov = { path = \"../gov\" }\n"), ("gov", "")] {
        write(
            &format!("crates/{name}/Cargo.toml"),
            &format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n{deps}"
            ),
        );
        write(&format!("crates/{name}/src/lib.rs"), "");
    }
    write(
        "deps-groups.toml",
        "[groups.core]\nmembers = [\"core-a\"]\n\n[groups.enterprise]\nmembers = [\"gov\"]\nmay-depend-on = [\"core\"]\n",
    );
    dir
}

#[test]
fn a_violation_exits_1_with_witness_and_location() {
    let ws = planted_workspace();
    let manifest = ws.path().join("Cargo.toml");
    let manifest = manifest.to_str().unwrap();
    let out = xtask(&["deps", "audit", "--manifest-path", manifest]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("core-a --> gov"), "{stderr}");
    assert!(stderr.contains("crates/core-a/Cargo.toml:7:1"), "{stderr}");
    assert!(stderr.contains("1 violation"), "{stderr}");

    let out = xtask(&[
        "deps",
        "audit",
        "--manifest-path",
        manifest,
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let json = output_types::validate::document(&out.stdout);
    assert_eq!(json["violations"][0]["kind"], "forbidden-group");
    assert_eq!(
        json["violations"][0]["location"]["file"],
        "crates/core-a/Cargo.toml"
    );
}

#[test]
fn malformed_groups_file_and_bad_usage_exit_2() {
    let ws = planted_workspace();
    fs::write(
        ws.path().join("deps-groups.toml"),
        "[groups.core]\nmembers = \"core-a\"\n",
    )
    .unwrap();
    let manifest = ws.path().join("Cargo.toml");
    let manifest = manifest.to_str().unwrap();
    let out = xtask(&["deps", "audit", "--manifest-path", manifest]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("deps-groups.toml:2:11"), "{stderr}");

    let out = xtask(&["deps", "audit", "--format", "yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let out = xtask(&["deps", "inspect"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn report_counts_each_group() {
    let out = xtask(&["deps", "report", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json = output_types::validate::document(&out.stdout);
    assert_eq!(json["schema"], "deps-report/v1");
    let groups = json["groups"].as_array().unwrap();
    let property = groups.iter().find(|g| g["name"] == "property").unwrap();
    assert!(
        property["adds_over_core"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "proptest"),
        "{property}"
    );
    let core = groups.iter().find(|g| g["name"] == "core").unwrap();
    assert!(
        !core["closure_all_features"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "proptest")
    );

    let out = xtask(&["deps", "report"]);
    let markdown = text(&out.stdout);
    assert!(markdown.contains("| group | members |"), "{markdown}");
}
