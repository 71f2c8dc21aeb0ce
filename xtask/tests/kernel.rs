//! `cargo xtask kernel` end to end: the real binary against temporary workspaces and this one.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn kernel(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("kernel")
        .args(args)
        .env("XTASK_WORKSPACE_ROOT", root)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// Output as text (plain mode prints each diagnostic on one line).
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn workspace(files: &[(&str, &str)], listed: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, contents) in files {
        let full = dir.path().join(path);
        fs::create_dir_all(full.parent().unwrap()).unwrap();
        fs::write(full, contents).unwrap();
    }
    let list: Vec<String> = listed.iter().map(|p| format!("  \"{p}\",\n")).collect();
    fs::create_dir_all(dir.path().join("manifests")).unwrap();
    fs::write(
        dir.path().join("manifests/kernel.toml"),
        format!("version = 1\nfiles = [\n{}]\n", list.concat()),
    )
    .unwrap();
    dir
}

fn json_report(root: &Path) -> Value {
    let output = kernel(root, &["--format", "json"]);
    output_types::validate::document(&output.stdout)
}

#[test]
fn kernel_lists_version_file_count_and_digest() {
    let ws = workspace(
        &[("a.txt", "a"), ("dir/b.txt", "b")],
        &["dir/b.txt", "a.txt"],
    );
    let output = kernel(ws.path(), &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("version:    1\nfile count: 2\ndigest:     sha256:"),
        "{stdout}"
    );
    let report = json_report(ws.path());
    assert!(
        stdout.contains(report["digest"].as_str().unwrap()),
        "{stdout}"
    );
}

#[test]
fn kernel_json_is_versioned_and_its_digest_follows_file_contents() {
    let ws = workspace(&[("a.txt", "a"), ("b.txt", "b")], &["a.txt", "b.txt"]);
    let before = json_report(ws.path());
    assert_eq!(before["schema"], "kernel-report/v2");
    assert_eq!(before["kernel_version"], 1);
    assert_eq!(before["file_count"], 2);
    assert_eq!(before["files"][0]["size"], 1);
    assert_eq!(
        kernel(ws.path(), &["--format", "json"]).stdout,
        kernel(ws.path(), &["--format", "json"]).stdout
    );
    // The digest is defined: sha256 of canonical JSON [[path, sha256:<hex of file>], ...].
    let a = "sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb";
    let b = "sha256:3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d";
    let canonical = format!("[[\"a.txt\",\"{a}\"],[\"b.txt\",\"{b}\"]]");
    assert_eq!(
        before["digest"].as_str().unwrap(),
        release::canonical::sha256_digest(canonical.as_bytes())
    );

    fs::write(ws.path().join("b.txt"), "b, changed").unwrap();
    let after = json_report(ws.path());
    assert_ne!(after["digest"], before["digest"]);
}

#[test]
fn kernel_check_names_each_missing_file_with_its_line_and_exits_1() {
    let ws = workspace(&[("a.txt", "a")], &["a.txt", "gone.txt", "also/gone.rs"]);
    let output = kernel(ws.path(), &["--check"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("kernel.toml:4:3: kernel file \"gone.txt\" does not exist"),
        "{stderr}"
    );
    assert!(
        stderr.contains("kernel.toml:5:3: kernel file \"also/gone.rs\" does not exist"),
        "{stderr}"
    );
    assert!(stderr.contains("2 of 3 kernel file(s) missing"), "{stderr}");

    let report: Value =
        serde_json::from_slice(&kernel(ws.path(), &["--check", "--format", "json"]).stdout)
            .unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["digest"], Value::Null);
    assert_eq!(
        report["missing"],
        serde_json::json!(["also/gone.rs", "gone.txt"])
    );
}

#[test]
fn kernel_manifest_problems_exit_2_with_their_location() {
    let ws = workspace(&[], &[]);
    fs::write(
        ws.path().join("manifests/kernel.toml"),
        "version = 1\nfiles = [\"/etc/passwd\"]\n",
    )
    .unwrap();
    let output = kernel(ws.path(), &["--check"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr)
            .contains("kernel.toml:2:10: \"/etc/passwd\" is not a workspace-relative path"),
        "{}",
        text(&output.stderr)
    );

    fs::write(
        ws.path().join("manifests/kernel.toml"),
        "version = 1\nfiles = \"a\"\n",
    )
    .unwrap();
    let output = kernel(ws.path(), &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("kernel.toml:2:9: "),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn kernel_check_passes_on_this_workspace() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let output = kernel(root, &["--check"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).starts_with("kernel ok: all "),
        "{}",
        text(&output.stdout)
    );
}
