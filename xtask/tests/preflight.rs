//! `cargo xtask preflight` against a fixture workspace, and the tidy checks that keep this
//! repository's configuration, docs and CI in agreement (the `preflight` lane runs `tidy_*`).

mod common;

use std::path::{Path, PathBuf};

use common::Fixture;

#[test]
fn slow_preflight_stops_at_a_syntax_error_with_the_compiler_message_and_exits_2_as_lanes_do() {
    let fixture = Fixture::new();
    let run = fixture.run(&["preflight"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stderr.contains("preflight passed"), "{run}");

    fixture.write("beta/src/lib.rs", "pub fn broken( {\n");
    let run = fixture.run(&["preflight"]);
    // Source that does not compile is invalid input, as for a lane whose tests do not build.
    assert_eq!(run.code, 2, "{run}");
    // The compiler's own diagnostic, pointing at the file, then ours.
    assert!(run.stderr.contains("error: "), "{run}");
    assert!(run.stderr.contains("beta/src/lib.rs:1:"), "{run}");
    assert!(
        run.stderr.contains("a critical crate does not compile"),
        "{run}"
    );
    assert!(fixture.take_marked().is_empty(), "no test ran");
    let lane = fixture.run(&["lane", "core"]);
    assert_eq!(
        (lane.code, run.code),
        (2, 2),
        "the same broken source, the same exit code: {lane}"
    );
    assert!(fixture.take_marked().is_empty(), "no test ran");
}

#[test]
fn preflight_reports_every_bad_file_at_once() {
    let fixture = Fixture::new();
    fixture.write(
        "manifests/providers/gcp.json",
        "{\"provider\": \"gcp\",\n \"artifacts\": [}\n",
    );
    fixture.write("manifests/kernel.toml", "files = [\"a\"\n");
    fixture.write("manifests/notes.txt", "not a manifest: ignored");
    fixture.write(
        "lanes.toml",
        &common::LANES.replace("allow-empty = true", "allow-empty = \"yes\""),
    );
    let run = fixture.run(&["preflight"]);
    assert_eq!(run.code, 2, "{run}");
    for expected in [
        "manifests/providers/gcp.json:2:16:",
        "error[config::syntax]: manifests/kernel.toml:1:13: unclosed array",
    ] {
        assert!(
            run.stderr.contains(expected),
            "missing `{expected}` in:\n{run}"
        );
    }
    assert!(
        run.has_diagnostic(
            "config::wrong-type",
            "lanes.toml:24:15: `allow-empty` must be `true` or `false`"
        ),
        "{run}"
    );
    assert!(
        !run.stderr.contains("cargo check"),
        "nothing is compiled on bad config: {run}"
    );
    // Every file is named relative to the workspace, lanes.toml as much as the manifests.
    let root = fixture.root().display().to_string();
    assert!(!run.stderr.contains(&root), "an absolute path in:\n{run}");
    assert!(
        run.stderr
            .lines()
            .any(|l| l
                .starts_with("error[config::wrong-type]: lanes.toml:24:15: `allow-empty` must be")),
        "{run}"
    );

    // Under GitHub Actions each located diagnostic is also an annotation on its file.
    let output = fixture
        .xtask(&["preflight"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_WORKSPACE", fixture.root())
        .output()
        .unwrap();
    let run = common::Run::from(output);
    assert_eq!(run.code, 2, "{run}");
    for expected in [
        "\n::error file=manifests/providers/gcp.json,line=2,col=16::",
        "\n::error file=manifests/kernel.toml,line=1,col=13::[config::syntax] unclosed array",
        "\n::error file=lanes.toml,line=24,col=15::[config::wrong-type] `allow-empty` must be",
    ] {
        assert!(
            run.stderr.contains(expected),
            "missing `{expected}` in:\n{run}"
        );
    }

    let run = fixture.run(&["preflight", "--format", "json"]);
    assert_eq!(run.code, 2, "{run}");
    let doc = output_types::validate::document(&run.stdout);
    assert_eq!(
        (doc["schema"].as_str(), doc["verdict"].as_str()),
        (Some("preflight/v1"), Some("failed"))
    );
    assert_eq!(doc["diagnostics"].as_array().unwrap().len(), 3, "{doc}");
    assert!(
        doc["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["location"].as_str() == Some("lanes.toml:24:15")),
        "{doc}"
    );
}

/// Every TOML file kind preflight reads, each with a misspelt key, a value of the wrong type
/// and a missing key: all reported in one run with their codes and `file:line:col` (exit 2),
/// and under GitHub Actions each is an annotation on its file.
#[test]
fn preflight_reports_every_configuration_problem_with_its_code() {
    let fixture = Fixture::new();
    fixture.write(
        "manifests/gates.toml",
        "version = 1\n[gates]\nmin_quality = \"high\"\nmin_safty = 0.9\n\
         max_latency_ms_p95 = 250\nmax_cost_per_1k_tokens = 1.5\n",
    );
    fixture.write(
        "manifests/kernel.toml",
        "version = \"1\"\nfile = [\"manifests/gates.toml\"]\n",
    );
    // Any other TOML under manifests/ is checked for syntax, with the same code.
    fixture.write("manifests/notes.toml", "a = [1\n");
    let groups = std::fs::read_to_string(fixture.root().join("deps-groups.toml")).unwrap();
    let groups = format!("{groups}\n[[exception]]\nfrom = \"alpha\"\nto = 3\nreson = \"typo\"\n");
    fixture.write("deps-groups.toml", &groups);
    let groups_line = |needle: &str| groups[..groups.find(needle).unwrap()].lines().count() + 1;
    let lanes = common::LANES.replace(
        "recording-max-age = 50",
        "recording-max-age = \"old\"\n\n[[impact.rules]]\npath = [\"docs/**\"]\n\
         affects = \"nothing\"",
    );
    fixture.write("lanes.toml", &lanes);
    let lanes_line = |needle: &str| lanes[..lanes.find(needle).unwrap()].lines().count() + 1;
    let run = fixture.run(&["preflight"]);
    assert_eq!(run.code, 2, "{run}");
    let expected = [
        "error[config::wrong-type]: manifests/gates.toml:3:15: ".to_owned(),
        "error[config::missing-key]: manifests/gates.toml:2:1: [gates] has no `min_safety`"
            .to_owned(),
        "error[config::unknown-key]: manifests/gates.toml:4:1: unknown key `min_safty` in [gates] \
         (help: did you mean `min_safety`?"
            .to_owned(),
        "error[config::wrong-type]: manifests/kernel.toml:1:11: ".to_owned(),
        "error[config::syntax]: manifests/notes.toml:1:".to_owned(),
        "error[config::missing-key]: manifests/kernel.toml:1:1: ".to_owned(),
        "error[config::unknown-key]: manifests/kernel.toml:2:1: unknown key `file` in the kernel \
         manifest (help: did you mean `files`?"
            .to_owned(),
        format!(
            "deps-groups.toml:{}:1: an `[[exception]]` entry has no `reason`",
            groups_line("[[exception]]")
        ),
        format!(
            "deps-groups.toml:{}:6: `to` must be a string",
            groups_line("to =")
        ),
        format!(
            "deps-groups.toml:{}:1: unknown key `reson` in an `[[exception]]` entry (help: did you mean `reason`?",
            groups_line("reson")
        ),
        format!(
            "lanes.toml:{}:21: `recording-max-age` must be a whole number",
            lanes_line("recording-max-age")
        ),
        format!(
            "lanes.toml:{}:1: an `[[impact.rules]]` entry has no `paths`",
            lanes_line("[[impact.rules]]")
        ),
        format!(
            "lanes.toml:{}:1: unknown key `path` in an `[[impact.rules]]` entry (help: did you mean `paths`?",
            lanes_line("path =")
        ),
    ];
    for expected in &expected {
        assert!(
            run.stderr.contains(expected.as_str()),
            "missing `{expected}` in:\n{run}"
        );
    }
    let codes = [
        "config::wrong-type",
        "config::missing-key",
        "config::unknown-key",
    ];
    for file in [
        "manifests/gates.toml",
        "manifests/kernel.toml",
        "deps-groups.toml",
        "lanes.toml",
    ] {
        for code in codes {
            assert!(
                run.stderr
                    .lines()
                    .any(|line| line.starts_with(&format!("error[{code}]: "))
                        && line.contains(&format!("{file}:"))),
                "no {code} for {file} in:\n{run}"
            );
        }
    }

    let output = fixture
        .xtask(&["preflight"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_WORKSPACE", fixture.root())
        .output()
        .unwrap();
    let run = common::Run::from(output);
    assert_eq!(run.code, 2, "{run}");
    for expected in [
        "\n::error file=manifests/gates.toml,line=4,col=1::[config::unknown-key] ".to_owned(),
        "\n::error file=manifests/kernel.toml,line=1,col=11::[config::wrong-type] ".to_owned(),
        format!(
            "\n::error file=lanes.toml,line={},col=1::[config::unknown-key] ",
            lanes_line("path =")
        ),
    ] {
        assert!(
            run.stderr.contains(&expected),
            "missing `{expected}` in:\n{run}"
        );
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(repo_root().join(relative))
        .unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// The test command README promises, exactly as `.ci/run` runs it.
const TEST_COMMAND: &str = "cargo nextest run --workspace --all-features";

#[test]
fn tidy_readme_and_ci_run_share_the_test_command() {
    assert!(
        read("README.md").contains(TEST_COMMAND),
        "README.md lost `{TEST_COMMAND}`"
    );
    assert!(
        read(".ci/run").lines().any(|l| l.trim() == TEST_COMMAND),
        ".ci/run lost `{TEST_COMMAND}`"
    );
    assert!(read(".ci/run").contains("cargo xtask release-lane"));
}

#[test]
fn tidy_the_pinned_nextest_version_agrees_everywhere() {
    let source = read("crates/lanes-config/src/nextest.rs");
    let pinned = source
        .lines()
        .find_map(|l| l.strip_prefix("pub const PINNED_VERSION: &str = \""))
        .and_then(|rest| rest.strip_suffix("\";"))
        .expect("PINNED_VERSION in crates/lanes-config/src/nextest.rs");
    let install = format!("cargo install --locked cargo-nextest --version {pinned}");
    assert!(
        read(".ci/run").contains(&install),
        ".ci/run must install with `{install}`"
    );
    assert!(
        read(".config/nextest.toml").contains(&format!("recommended = \"{pinned}\"")),
        ".config/nextest.toml must recommend {pinned}"
    );
    assert!(
        read(".github/workflows/ci.yml").contains(&format!("NEXTEST_VERSION: \"{pinned}\"")),
        "ci.yml must install nextest {pinned}"
    );
}

#[test]
fn tidy_shipped_lanes_are_valid_and_complete() {
    let output = common::xtask_command()
        .args(["lanes", "--no-count", "--format", "json"])
        .env("XTASK_WORKSPACE_ROOT", repo_root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let run = common::Run::from(output);
    assert_eq!(run.code, 0, "{run}");
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let names: Vec<&str> = doc["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    for required in [
        "preflight",
        "fast",
        "federation-integration",
        "extended",
        "release",
        "homebrew",
        "professional",
        "enterprise",
        "integration",
    ] {
        assert!(
            names.contains(&required),
            "lanes.toml lacks lane `{required}`"
        );
    }
    let fast = doc["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "fast")
        .unwrap();
    for heavy in ["release-props", "governance", "node-api"] {
        assert!(
            !fast["packages"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p == heavy),
            "the fast lane must not build `{heavy}`"
        );
    }
}

#[test]
fn tidy_every_lane_the_workflow_runs_exists() {
    let lanes = read("lanes.toml");
    let workflow = read(".github/workflows/ci.yml");
    let mut checked = 0;
    for line in workflow.lines() {
        if let Some(rest) = line.split("cargo xtask lane ").nth(1) {
            let name = rest.split_whitespace().next().unwrap();
            let name = name.trim_matches(|c| c == '"' || c == '\'');
            if name.starts_with("${{") {
                continue;
            }
            assert!(
                lanes.contains(&format!("[lanes.{name}]")),
                "ci.yml runs unknown lane `{name}`"
            );
            checked += 1;
        }
    }
    for name in workflow
        .lines()
        .filter_map(|l| l.trim().strip_prefix("lane: "))
    {
        assert!(
            lanes.contains(&format!("[lanes.{name}]")),
            "ci.yml matrix names unknown lane `{name}`"
        );
        checked += 1;
    }
    assert!(checked > 0, "ci.yml runs no lanes");
}

/// `rust-version` in the root `Cargo.toml`: the one minimum every other file repeats.
fn declared_msrv() -> String {
    let manifest: toml::Table = read("Cargo.toml").parse().expect("Cargo.toml");
    manifest["workspace"]["package"]["rust-version"]
        .as_str()
        .expect("[workspace.package] rust-version")
        .to_owned()
}

#[test]
fn tidy_the_declared_msrv_agrees_everywhere() {
    let msrv = declared_msrv();
    let clippy: toml::Table = read("clippy.toml").parse().expect("clippy.toml");
    assert_eq!(
        clippy.get("msrv").and_then(|v| v.as_str()),
        Some(msrv.as_str()),
        "clippy.toml `msrv` must equal rust-version"
    );
    assert!(
        read(".github/workflows/ci.yml").contains(&format!("MSRV: \"{msrv}\"")),
        "ci.yml must check the build on {msrv}"
    );
    assert!(
        read("README.md").contains(&format!("Rust toolchain ({msrv} or newer)")),
        "README.md must name {msrv} as the oldest toolchain"
    );
}

/// The jobs of the workflow, each as its name and the lines under it.
fn workflow_jobs() -> Vec<(String, String)> {
    let workflow = read(".github/workflows/ci.yml");
    let mut jobs: Vec<(String, String)> = Vec::new();
    let body = workflow.split_once("\njobs:\n").expect("ci.yml has jobs").1;
    for line in body.lines() {
        let job_name = line
            .strip_prefix("  ")
            .and_then(|l| l.strip_suffix(':'))
            .filter(|name| !name.starts_with([' ', '#']));
        match (job_name, jobs.last_mut()) {
            (Some(name), _) => jobs.push((name.to_owned(), String::new())),
            (None, Some((_, lines))) => {
                lines.push_str(line);
                lines.push('\n');
            }
            (None, None) => {}
        }
    }
    jobs
}

#[test]
fn tidy_ci_formats_lints_and_checks_the_msrv() {
    let jobs = workflow_jobs();
    let job_running = |command: &str| {
        jobs.iter()
            .find(|(_, lines)| {
                lines
                    .lines()
                    .any(|l| l.trim() == format!("- run: {command}"))
            })
            .unwrap_or_else(|| panic!("no job in ci.yml runs `{command}`"))
    };
    job_running("cargo fmt --check");
    job_running("cargo clippy --workspace --all-targets --all-features -- -D warnings");
    let (name, lines) = job_running("cargo check --workspace --all-features");
    assert!(
        lines.contains("toolchain: ${{ env.MSRV }}"),
        "job `{name}` must check on the MSRV toolchain"
    );
}

#[test]
fn tidy_every_ci_job_that_runs_nextest_installs_the_pinned_binary() {
    // Anything that ends in `cargo nextest`; without the binary, xtask (and `.ci/run`) would
    // compile it from source, which takes minutes.
    let runs_nextest = [
        "cargo xtask lane ",
        "cargo xtask release-lane",
        "cargo xtask test ",
        "cargo xtask impact record",
        "cargo nextest ",
        "bash .ci/run",
    ];
    let install = "tool: cargo-nextest@${{ env.NEXTEST_VERSION }}";
    let mut checked = 0;
    for (name, lines) in workflow_jobs() {
        let mut offset = 0;
        let mut first_use = None;
        for line in lines.lines() {
            let step = line.trim().strip_prefix("- run: ").unwrap_or_default();
            if first_use.is_none() && runs_nextest.iter().any(|c| step.contains(c)) {
                first_use = Some(offset);
            }
            offset += line.len() + 1;
        }
        let Some(first_use) = first_use else {
            continue;
        };
        assert!(
            lines.find(install).is_some_and(|at| at < first_use),
            "job `{name}` runs nextest without installing the pinned binary first (`{install}`)"
        );
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} jobs run nextest");
}

/// Every top-level document cited by name (`README.md`, `ARCHITECTURE.md`, ...) exists: a
/// reference a reader cannot follow is a broken promise. An upper-case name ending in `.md`,
/// without a directory before it, is a file at the root; other names (fixtures, temporary
/// repositories) are not checked.
#[test]
fn tidy_cited_top_level_documents_exist() {
    let root = repo_root();
    let listed = std::process::Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(&root)
        .output()
        .expect("git ls-files");
    assert!(listed.status.success(), "git ls-files failed");
    let mut missing = Vec::new();
    for file in String::from_utf8(listed.stdout)
        .unwrap()
        .split_terminator('\0')
    {
        let Ok(text) = std::fs::read_to_string(root.join(file)) else {
            continue; // binary
        };
        for (at, _) in text.match_indices(".md") {
            let before = &text[..at];
            let name_start = before
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .map_or(0, |i| i + 1);
            let name = &before[name_start..];
            let preceded_by_path = before[..name_start].ends_with(['/', '\\', '.']);
            let followed_by_word =
                text[at + 3..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
            let top_level = name.starts_with(|c: char| c.is_ascii_uppercase())
                && !name.contains(|c: char| c.is_ascii_lowercase());
            if top_level
                && !preceded_by_path
                && !followed_by_word
                && !root.join(format!("{name}.md")).is_file()
            {
                let line = before.matches('\n').count() + 1;
                missing.push(format!("{file}:{line}: {name}.md"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "documents cited but not in the repository:\n{}",
        missing.join("\n")
    );
}
