//! The bench names the xtask binary it times only through `$XTASK_BIN`: run without it (or with
//! a path that is no file), a bench that times xtask refuses with exit 2 and says how to run it.

use std::process::Command;

fn bench(args: &[&str], xtask_bin: Option<&str>) -> (i32, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bench"));
    command.args(args).env_remove("XTASK_PROFILE");
    match xtask_bin {
        Some(path) => command.env("XTASK_BIN", path),
        None => command.env_remove("XTASK_BIN"),
    };
    let output = command.output().expect("run the bench binary");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_bench_of_xtask_without_xtask_bin_says_how_to_run_it() {
    let (code, stderr) = bench(&["federate"], None);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("$XTASK_BIN is not set"), "{stderr}");
    assert!(stderr.contains("cargo xtask bench"), "{stderr}");
}

#[test]
fn xtask_bin_must_name_a_file() {
    let dir = std::env::temp_dir();
    let (code, stderr) = bench(&["federate"], Some(dir.to_str().unwrap()));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("which is not a file"), "{stderr}");
}

#[test]
fn an_unknown_bench_is_a_usage_error() {
    let (code, stderr) = bench(&["no-such-bench"], None);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("unrecognized subcommand 'no-such-bench'"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Usage: cargo xtask bench <COMMAND>"),
        "{stderr}"
    );
}

/// `--help` and `--version` print on stdout and exit 0; a reader that goes away early (`| head
/// -1`) ends the help quietly, without a panic.
#[test]
fn help_and_version_print_and_end_quietly_on_a_closed_pipe() {
    let output = Command::new(env!("CARGO_BIN_EXE_bench"))
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let help = String::from_utf8_lossy(&output.stdout);
    for what in [
        "all",
        "impact",
        "artifacts",
        "history",
        "soundness",
        "federate",
    ] {
        assert!(help.contains(&format!("  {what} ")), "{what}: {help}");
    }
    let output = Command::new(env!("CARGO_BIN_EXE_bench"))
        .args(["history", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("--reuse <FILE>"), "{help}");
    let output = Command::new(env!("CARGO_BIN_EXE_bench"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("cargo xtask bench {}\n", env!("CARGO_PKG_VERSION"))
    );

    // The reader is gone before the bench writes a byte: every write fails with EPIPE.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = Command::new(env!("CARGO_BIN_EXE_bench"))
        .args(["all", "--help"])
        .stdout(writer)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(output.stderr.is_empty(), "{output:?}");
}

/// `bench artifacts --format json`, on a few small files, prints `bench-artifacts/v1`.
#[test]
fn artifacts_json_matches_its_schema() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_bench"))
        .args([
            "artifacts",
            "--size-mib",
            "1",
            "--files",
            "4",
            "--file-size-mib",
            "1",
        ])
        .args(["--runs", "1", "--format", "json", "--dir"])
        .arg(dir.path())
        .output()
        .expect("run the bench binary");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let json = output_types::validate::document(&output.stdout);
    assert_eq!(json["schema"], "bench-artifacts/v1");
    assert_eq!(json["runs"], 1);
    assert!(!json["rows"].as_array().unwrap().is_empty(), "{json:#}");
}

/// `bench history --output FILE` on a real git repository writes `bench-history/v1`, as its schema
/// says. The newest commit adds a member to a workspace whose root is a package too: the lower
/// bound counts only the new member (a file added under its directory is no file of the root
/// package at the base, where it does not exist), ours adds the root package's tests (its
/// manifest changed). Slow: it builds the anchors, in this debug bench's profile (`cargo build -p
/// impact-anchors`, no release build of guppy).
#[test]
fn slow_history_json_matches_its_schema() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let write = |path: &str, text: &str| {
        let path = repo.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.org"])
            .args(args)
            .current_dir(&repo)
            .status()
            .expect("run git");
        assert!(status.success(), "git {args:?}");
    };
    let package = |name: &str| {
        format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n")
    };
    let root = |members: &str| format!("{}\n[workspace]\nmembers = [{members}]\n", package("r"));
    write("Cargo.toml", &root("\"a\", \"b\""));
    write("src/lib.rs", "pub fn r() {}\n");
    for name in ["a", "b"] {
        write(&format!("{name}/Cargo.toml"), &package(name));
        write(&format!("{name}/src/lib.rs"), "pub fn f() {}\n");
    }
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "two members"]);
    write("a/src/lib.rs", "pub fn f() {}\npub fn g() {}\n");
    git(&["commit", "-qam", "a: g"]);
    write("Cargo.toml", &root("\"a\", \"b\", \"c\""));
    write("c/Cargo.toml", &package("c"));
    write("c/src/lib.rs", "pub fn c() {}\n");
    git(&["add", "-A"]);
    git(&["commit", "-qm", "c joins"]);

    let json_file = dir.path().join("history.json");
    let mut command = Command::new(env!("CARGO_BIN_EXE_bench"));
    support::nested::isolate(&mut command);
    let output = command
        .args(["history", "--commits", "2", "--repo"])
        .arg(&repo)
        .arg("--output")
        .arg(&json_file)
        .arg("--dir")
        .arg(dir.path())
        .output()
        .expect("run the bench binary");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let json = output_types::validate::document(std::fs::read(&json_file).unwrap());
    assert_eq!(json["schema"], "bench-history/v1");
    let (joined, edit) = (&json["rows"][0], &json["rows"][1]);
    assert_eq!(joined["subject"], "c joins", "{json:#}");
    assert_eq!(joined["lower_bound"], serde_json::json!(["c"]), "{json:#}");
    assert_eq!(
        joined["ours"]["packages"],
        serde_json::json!(["c", "r"]),
        "{json:#}"
    );
    assert_eq!(edit["subject"], "a: g", "{json:#}");
    assert_eq!(
        edit["ours"]["packages"],
        serde_json::json!(["a"]),
        "{json:#}"
    );
    assert_eq!(edit["lower_bound"], serde_json::json!(["a"]), "{json:#}");
    assert_eq!(json["totals"]["misses"], 0, "{json:#}");
}

/// A file is `--output FILE` in the bench as in xtask; `--json FILE` is a usage error.
#[test]
fn a_report_file_is_output_and_json_is_refused() {
    for what in ["all", "impact", "history", "soundness"] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_bench"));
        support::nested::isolate(&mut command);
        let output = command
            .args([what, "--json", "report.json"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "bench {what}: {output:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("--json"),
            "bench {what} names the flag: {output:?}"
        );
    }
}
