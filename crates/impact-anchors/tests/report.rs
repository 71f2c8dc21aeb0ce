//! The real binary on a real git repository prints one `impact-anchors/v1` document, as its
//! schema (`schemas/impact-anchors.v1.json`) says; the bench reads it with the same type.

use std::path::Path;
use std::process::Command;

fn git(repo: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.org"])
        .args(args)
        .current_dir(repo)
        .status()
        .expect("run git");
    assert!(status.success(), "git {args:?}");
}

fn write(repo: &Path, path: &str, text: &str) {
    let path = repo.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn package(name: &str, dependencies: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\n{dependencies}"
    )
}

/// `b` depends on `a`; the head commit edits `a`'s library and adds a data file no package
/// owns. Slow: `cargo metadata` runs on both ends of a temporary workspace (0.5 s idle, 3 s on
/// 2 loaded cores).
#[test]
fn slow_a_change_prints_a_report_that_matches_its_schema() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    write(
        repo,
        "Cargo.toml",
        "[workspace]\nmembers = [\"a\", \"b\", \"c\"]\nresolver = \"2\"\n",
    );
    write(repo, "a/Cargo.toml", &package("a", ""));
    write(
        repo,
        "b/Cargo.toml",
        &package("b", "a = { path = \"../a\" }\n"),
    );
    write(repo, "c/Cargo.toml", &package("c", ""));
    for name in ["a", "b", "c"] {
        write(repo, &format!("{name}/src/lib.rs"), "pub fn f() {}\n");
    }
    git(repo, &["init", "-q", "-b", "main"]);
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-qm", "three members"]);
    write(repo, "a/src/lib.rs", "pub fn f() {}\npub fn g() {}\n");
    write(repo, "notes/readme.txt", "not code\n");
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-qm", "a: g"]);

    let mut command = Command::new(env!("CARGO_BIN_EXE_impact-anchors"));
    support::nested::isolate(&mut command);
    let output = command
        .arg("--manifest-path")
        .arg(repo.join("Cargo.toml"))
        .args(["--base", "HEAD~1", "--head", "HEAD", "--head-checked-out"])
        .env("TMPDIR", dir.path())
        .output()
        .expect("run impact-anchors");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let json = output_types::validate::document(&output.stdout);
    assert_eq!(json["schema"], "impact-anchors/v1");
    assert_eq!(json["members"], 3);
    assert_eq!(
        json["changed_paths"],
        serde_json::json!(["a/src/lib.rs", "notes/readme.txt"])
    );
    assert_eq!(json["rdeps"]["seeds"], serde_json::json!(["a"]), "{json:#}");
    assert_eq!(
        json["rdeps"]["packages"],
        serde_json::json!(["a", "b"]),
        "{json:#}"
    );
    assert_eq!(
        json["lower_bound"]["packages"],
        serde_json::json!(["a", "b"]),
        "{json:#}"
    );
    assert_eq!(json["lower_bound"]["toolchain"], serde_json::Value::Null);
    assert_eq!(
        json["exports"]["head"],
        serde_json::Value::Null,
        "checked out"
    );
    assert!(json["exports"]["base"].is_string(), "{json:#}");
    let determinator = json["determinator"]["packages"].as_array().unwrap();
    assert!(determinator.contains(&"a".into()) && determinator.contains(&"b".into()));
}

#[test]
fn a_usage_error_exits_2_with_the_usage_line() {
    let output = Command::new(env!("CARGO_BIN_EXE_impact-anchors"))
        .args(["--base", "HEAD"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--manifest-path <PATH/Cargo.toml>"),
        "{stderr}"
    );
    assert!(stderr.contains("Usage: impact-anchors"), "{stderr}");
}
