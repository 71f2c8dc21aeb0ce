//! `cargo xtask release-lane` against a fixture workspace: exact tests, missing tests named.

mod common;

use common::Fixture;

const LISTED: &str = r#"version = 1

[[test]]
binary-id = "alpha"
name = "tests::doubles"
covers = "unit path"

[[test]]
binary-id = "alpha::smoke"
name = "smoke_end_to_end"

[[test]]
binary-id = "beta"
name = "tests::adds"
"#;

fn steps(run: &common::Run) -> Vec<(String, String)> {
    let doc = output_types::validate::document(&run.stdout);
    assert_eq!(doc["schema"], "release-lane/v1");
    doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["verdict"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Commits everything in the fixture (build outputs ignored) with fixed dates.
fn commit(fixture: &Fixture) -> String {
    fixture.write(
        ".gitignore",
        "target/\nmarkers/\nstep-summary.md\nCargo.lock\n",
    );
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["add", "-A"],
        &["commit", "-q", "-m", "fixture"],
    ] {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(fixture.root())
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .env_remove("GIT_DIR")
            .env_remove("GIT_INDEX_FILE")
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}");
    }
    let head = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(fixture.root())
        .output()
        .unwrap();
    String::from_utf8(head.stdout).unwrap().trim().to_owned()
}

#[test]
fn slow_the_release_lane_runs_exactly_the_listed_tests_and_writes_junit() {
    let fixture = Fixture::new();
    fixture.write("manifests/release-lane.toml", LISTED);
    fixture.write(
        "manifests/kernel.toml",
        "version = 1\nfiles = [\"manifests/release-lane.toml\"]\n",
    );
    let head = commit(&fixture);
    let summary = fixture.root().join("step-summary.md");
    let output = fixture
        .xtask(&["release-lane", "--format", "json"])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    let run = common::Run::from(output);
    let steps = steps(&run);
    assert_eq!(
        steps[0],
        ("preflight".to_owned(), "passed".to_owned()),
        "{run}"
    );
    assert_eq!(
        steps[1],
        ("release tests".to_owned(), "passed".to_owned()),
        "{run}"
    );
    assert_eq!(
        fixture.take_marked(),
        ["alpha-doubles", "alpha-smoke_end_to_end", "beta-adds"]
            .map(String::from)
            .into(),
        "exactly the listed tests, nothing sharing a prefix"
    );
    let junit = std::fs::read_to_string(fixture.root().join("target/nextest/release/junit.xml"))
        .expect("JUnit");
    assert!(
        junit.contains("tests::doubles") && junit.contains("smoke_end_to_end"),
        "{junit}"
    );
    let summary = std::fs::read_to_string(summary).expect("step summary");
    assert!(summary.contains("| release tests |"), "{summary}");

    // The test-result statement: subject the commit and the kernel, the tests by name.
    let statement: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture.root().join("target/release-lane/test-result.json"))
            .expect("test-result statement"),
    )
    .unwrap();
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(
        statement["predicateType"],
        "https://in-toto.io/attestation/test-result/v0.1"
    );
    assert_eq!(
        statement["subject"][0]["digest"]["gitCommit"],
        head.as_str()
    );
    assert_eq!(statement["subject"][0]["annotations"]["dirty"], false);
    assert_eq!(statement["predicate"]["result"], "PASSED");
    assert_eq!(
        statement["predicate"]["passedTests"],
        serde_json::json!([
            "alpha tests::doubles",
            "alpha::smoke smoke_end_to_end",
            "beta tests::adds"
        ])
    );
    assert_eq!(statement["predicate"]["failedTests"], serde_json::json!([]));
}

#[test]
fn slow_a_missing_release_lane_test_is_named_and_nothing_runs() {
    let fixture = Fixture::new();
    fixture.write(
        "manifests/release-lane.toml",
        &format!(
            "{LISTED}\n[[test]]\nbinary-id = \"beta\"\nname = \"tests::vanished\"\n\
             [[test]]\nbinary-id = \"beta\"\nname = \"tests::ads\"\n"
        ),
    );
    let run = fixture.run(&["release-lane"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.has_diagnostic(
            "config::unknown-name",
            "release-lane.toml:18:8: release-lane test"
        ),
        "{run}"
    );
    assert!(
        run.stderr.contains("release-lane.toml:21:8")
            && run.stderr.contains("did you mean `tests::adds`?"),
        "a renamed test is suggested: {run}"
    );
    assert!(
        run.stderr
            .contains("missing release-lane tests: beta tests::vanished, beta tests::ads"),
        "{run}"
    );
    assert!(
        run.stdout.contains("release tests"),
        "summary printed: {run}"
    );
    assert!(
        fixture.take_marked().is_empty(),
        "nothing runs when a listed test is missing"
    );
}

#[test]
fn release_lane_manifest_problems_point_into_the_file() {
    let fixture = Fixture::new();
    fixture.write(
        "manifests/release-lane.toml",
        "version = 2\n[[test]]\nbinary-id = \"alpha\"\n[[test]]\nbinary-id = \"beta\"\nname = \"tests::adds\"\nwhy = \"x\"\n\
         [[test]]\nbinary-id = \"beta\"\nname = \"tests::adds\"\n",
    );
    let run = fixture.run(&["lanes", "--no-count"]);
    run.assert_diagnostics(&[
        (
            "config::invalid-value",
            "release-lane.toml:1:11: unsupported release-lane manifest version 2",
        ),
        (
            "config::missing-key",
            "release-lane.toml:2:1: a `[[test]]` entry has no `name`",
        ),
        (
            "config::unknown-key",
            "release-lane.toml:7:1: unknown key `why`",
        ),
        (
            "config::duplicate",
            "release-lane.toml:10:8: `tests::adds` is listed",
        ),
    ]);
}

#[test]
fn a_failed_preflight_skips_every_later_step_and_keeps_its_exit_code() {
    let fixture = Fixture::new();
    fixture.write("manifests/providers/hf.json", "{\"provider\": }\n");
    let run = fixture.run(&["release-lane", "--format", "json"]);
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stderr.contains("manifests/providers/hf.json:1:"),
        "{run}"
    );
    let steps = steps(&run);
    assert_eq!(steps[0], ("preflight".to_owned(), "failed".to_owned()));
    assert!(
        steps[1..].iter().all(|(_, verdict)| verdict == "skipped"),
        "{steps:?}"
    );
}
