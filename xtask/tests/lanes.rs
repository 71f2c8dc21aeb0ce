//! `cargo xtask lanes` and `cargo xtask lane NAME`, run for real against a fixture workspace.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::{Fixture, all_test_ids};

fn ids(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn lane_counts(fixture: &Fixture) -> Vec<(String, u64, String)> {
    let run = fixture.run(&["lanes", "--format", "json"]);
    assert_eq!(run.code, 0, "{run}");
    let doc = output_types::validate::document(&run.stdout);
    assert_eq!(doc["schema"], "lanes/v1");
    // Lanes that build alike share one build, which says what it builds, pasteably quoted.
    let builds: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("building the tests of lanes "))
        .collect();
    assert!(
        builds[0].starts_with("building the tests of lanes core, smoke, smoke-slow (1/")
            && builds[0].ends_with(": cargo nextest list --package alpha --package beta"),
        "{run}"
    );
    assert!(builds.len() < 7, "one build per lane: {run}");
    doc["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|lane| {
            (
                lane["name"].as_str().unwrap().to_owned(),
                lane["tests"].as_u64().unwrap(),
                lane["filterset"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn slow_lane_counts_are_remembered_until_something_they_depend_on_changes() {
    let fixture = Fixture::new();
    let first = lane_counts(&fixture);
    assert!(
        fixture.root().join("Cargo.lock").exists(),
        "the first build wrote the lockfile, so its counts were not remembered"
    );
    let second = fixture.run(&["lanes", "--format", "json"]);
    assert!(
        second.stderr.contains("building the tests of lanes"),
        "{second}"
    );

    let again = fixture.run(&["lanes", "--format", "json"]);
    assert_eq!(again.code, 0, "{again}");
    assert!(
        !again.stderr.contains("building the tests of lanes"),
        "nothing is built when nothing changed: {again}"
    );
    assert!(
        again
            .stderr
            .contains("counted before, and nothing their tests are built from changed: core,"),
        "{again}"
    );
    let doc = output_types::validate::document(&again.stdout);
    let remembered: Vec<u64> = doc["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|lane| lane["tests"].as_u64().unwrap())
        .collect();
    let counted: Vec<u64> = first.iter().map(|(_, tests, _)| *tests).collect();
    assert_eq!(remembered, counted);

    // Neither alpha nor beta is built from gamma or from a file outside every package: the
    // lanes of group core keep their counts; lanes over the whole workspace count again.
    fixture.write("gamma/src/lib.rs", "pub fn edited() {}\n");
    fixture.write("scratch/notes.txt", "read by nothing\n");
    let elsewhere = fixture.run(&["lanes", "--format", "json"]);
    assert_eq!(elsewhere.code, 0, "{elsewhere}");
    assert!(
        elsewhere.stderr.contains(
            "counted before, and nothing their tests are built from changed: core, smoke, smoke-slow"
        ),
        "{elsewhere}"
    );
    let rebuilt: Vec<&str> = elsewhere
        .stderr
        .lines()
        .filter(|l| l.starts_with("building the tests of lanes "))
        .collect();
    assert!(
        rebuilt.iter().all(|l| !l.contains("core"))
            && rebuilt.iter().any(|l| l.contains("everything")),
        "{elsewhere}"
    );

    // New tests in a core crate, then in a file outside every package that it includes: the
    // counts follow the source (rustc's dep-info names the included file), not the cache.
    let core = |counts: &[(String, u64, String)]| {
        counts.iter().find(|(name, _, _)| name == "core").unwrap().1
    };
    fixture.write("outside/later.rs", "#[test]\nfn added_later() {}\n");
    let lib = fixture.root().join("beta/src/lib.rs");
    let mut source = std::fs::read_to_string(&lib).unwrap();
    source.push_str("\ninclude!(\"../../outside/later.rs\");\n");
    fixture.write("beta/src/lib.rs", &source);
    let after = lane_counts(&fixture);
    assert_eq!(core(&after), core(&first) + 1);
    fixture.write(
        "outside/later.rs",
        "#[test]\nfn added_later() {}\n#[test]\nfn added_even_later() {}\n",
    );
    let included = lane_counts(&fixture);
    assert_eq!(core(&included), core(&first) + 2);
}

#[test]
fn slow_the_no_slow_switch_is_anded_with_the_lane_filter_never_replacing_it() {
    let fixture = Fixture::new();
    let counts = lane_counts(&fixture);
    let count = |name: &str| counts.iter().find(|(n, _, _)| n == name).unwrap().1;
    let filterset = |name: &str| counts.iter().find(|(n, _, _)| n == name).unwrap().2.clone();
    assert_eq!(
        filterset("smoke"),
        "(test(/smoke/)) & (package(=alpha) | package(=beta)) & (not test(/(^|::)slow_/))"
    );
    // 3 smoke tests, 2 slow smoke tests, 2 non-smoke tests in core, 1 enterprise test.
    assert_eq!(count("smoke"), 3);
    assert_eq!(count("smoke-slow"), 5);
    assert_eq!(count("core"), 5);
    assert_eq!(count("everything"), 9);

    // What actually runs: the smoke filter survives and slow tests are out.
    let run = fixture.run(&["lane", "smoke"]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(
        fixture.take_marked(),
        ids(&[
            "alpha-smoke_double",
            "alpha-smoke_end_to_end",
            "beta-smoke_adds"
        ])
    );

    // An extra filter narrows the lane further; it never widens it.
    let run = fixture.run(&[
        "lane",
        "smoke",
        "--filter",
        "package(=beta) | test(=doubles)",
    ]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(fixture.take_marked(), ids(&["beta-smoke_adds"]));

    // `-E` after `--` would be OR-ed by nextest: refused, pointing at --filter.
    let run = fixture.run(&["lane", "smoke", "--", "-E", "all()"]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("--filter EXPR"), "{run}");
    assert!(fixture.take_marked().is_empty());
}

#[test]
fn slow_a_lane_selecting_zero_tests_fails_unless_it_may_be_empty() {
    let fixture = Fixture::new();
    let run = fixture.run(&["lane", "empty"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr.contains("lane `empty` selects zero tests"),
        "{run}"
    );
    assert!(run.stderr.contains("allow-empty = true"), "{run}");

    let run = fixture.run(&["lane", "empty-ok"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(fixture.take_marked().is_empty());
}

#[test]
fn slow_partitions_of_one_archive_run_every_test_exactly_once() {
    let fixture = Fixture::new();
    let archive = fixture.root().join("everything.tar.zst");
    let archive_arg = archive.to_str().unwrap();
    let run = fixture.run(&["lane", "everything", "--create-archive", archive_arg]);
    assert_eq!(run.code, 0, "{run}");
    assert!(archive.is_file());

    // Shards run from the archive; `mark` panics if any test runs twice.
    let mut seen = BTreeSet::new();
    for shard in 1..=3 {
        let partition = format!("{shard}/3");
        let run = fixture.run(&[
            "lane",
            "everything",
            "--archive-file",
            archive_arg,
            "--partition",
            &partition,
        ]);
        assert_eq!(run.code, 0, "shard {partition}: {run}");
        let ran = fixture.take_marked();
        assert!(!ran.is_empty(), "shard {partition} ran nothing");
        assert!(
            seen.is_disjoint(&ran),
            "shard {partition} reran {:?}",
            seen.intersection(&ran)
        );
        seen.extend(ran);
    }
    assert_eq!(seen, all_test_ids());
}

#[test]
fn lanes_toml_problems_are_all_reported_at_file_line_col() {
    let fixture = Fixture::new();
    fixture.write(
        "lanes.toml",
        "critical = [\"alpha\", \"omega\"]\n\
         [lanes.fast]\n\
         packages = [\"group:core\", \"group:nope\"]\n\
         slow = \"no\"\n\
         profle = \"ci\"\n\
         profile = \"nightly\"\n\
         [impact]\nwhatever = 1\n",
    );
    let run = fixture.run(&["lanes", "--no-count"]);
    // Messages are wrapped to the terminal width; their starts are enough.
    run.assert_diagnostics(&[
        (
            "config::unknown-name",
            "lanes.toml:1:22: critical crate `omega`",
        ),
        (
            "config::unknown-name",
            "lanes.toml:3:27: no dependency group `nope`",
        ),
        (
            "config::wrong-type",
            "lanes.toml:4:8: `slow` must be `true` or `false`",
        ),
        (
            "config::unknown-key",
            "lanes.toml:5:1: unknown key `profle` in lane",
        ),
        (
            "config::unknown-name",
            "lanes.toml:6:11: no nextest profile `nightly`",
        ),
    ]);
}

#[test]
fn slow_nextest_setup_errors_exit_2_and_only_failing_tests_exit_1() {
    let fixture = Fixture::new();
    // nextest's documented exit codes, not "anything but 0 is 1".
    let bad_filterset = fixture.run(&["lane", "smoke", "--filter", "test(("]);
    assert_eq!(bad_filterset.code, 2, "{bad_filterset}");
    assert!(
        bad_filterset
            .stderr
            .contains("the filterset is invalid (cargo nextest exited with 94)"),
        "{bad_filterset}"
    );

    fixture.write(
        "gamma/src/lib.rs",
        "#[test]\nfn signs() {\n    panic!(\"fails on purpose\");\n}\n",
    );
    let failing = fixture.run(&["lane", "everything"]);
    assert_eq!(failing.code, 1, "{failing}");
    assert!(
        failing
            .stderr
            .contains("lane `everything` failed: tests failed (cargo nextest exited with 100)"),
        "{failing}"
    );

    fixture.write("gamma/src/lib.rs", "pub fn broken( {\n");
    let broken = fixture.run(&["lane", "everything"]);
    assert_eq!(broken.code, 2, "{broken}");
    assert!(
        broken
            .stderr
            .contains("failed: the tests do not build (cargo nextest exited with 101)"),
        "{broken}"
    );

    fixture.write("gamma/src/lib.rs", "");
    // Every profile lanes.toml names exists, but nextest rejects one's settings.
    fixture.write(
        ".config/nextest.toml",
        "[profile.ci]\nretries = \"many\"\n\n[profile.release]\n",
    );
    let bad_config = fixture.run(&["lane", "everything"]);
    assert_eq!(bad_config.code, 2, "{bad_config}");
    assert!(
        bad_config.stderr.contains(
            "nextest refused its arguments or configuration (cargo nextest exited with 96)"
        ),
        "{bad_config}"
    );
}

#[test]
fn an_unknown_lane_or_partition_is_a_usage_error() {
    let fixture = Fixture::new();
    let run = fixture.run(&["lane", "nightly"]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("no lane `nightly`"), "{run}");
    assert!(run.stderr.contains("smoke-slow"), "lists the lanes: {run}");
    let typo = fixture.run(&["lane", "smoke-slwo"]);
    assert_eq!(typo.code, 2, "{typo}");
    assert!(typo.stderr.contains("did you mean `smoke-slow`?"), "{typo}");
    for bad in ["0/3", "4/3", "x/3", "3"] {
        let run = fixture.run(&["lane", "core", "--partition", bad]);
        assert_eq!(run.code, 2, "--partition {bad}: {run}");
    }
}

/// A toolchain `bin/` directory without cargo-nextest, and an empty `CARGO_HOME`: nextest
/// really is missing, the way it is on a fresh CI runner.
fn path_without_nextest() -> Option<PathBuf> {
    let output = std::process::Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()?;
    let bin = PathBuf::from(String::from_utf8(output.stdout).ok()?.trim()).join("bin");
    (bin.join("cargo").is_file() && !bin.join("cargo-nextest").exists()).then_some(bin)
}

#[test]
fn missing_nextest_with_no_install_exits_3_with_the_install_command() {
    let Some(bin) = path_without_nextest() else {
        panic!("expected a rustup toolchain bin/ with cargo and without cargo-nextest");
    };
    let fixture = Fixture::new();
    let cargo_home = fixture.root().join("empty-cargo-home");
    std::fs::create_dir_all(&cargo_home).unwrap();
    for args in [
        &["lane", "core", "--no-install"][..],
        &["release-lane", "--no-install"],
        &["lanes", "--no-install"],
    ] {
        let output = fixture
            .xtask(args)
            .env("PATH", &bin)
            .env("CARGO_HOME", &cargo_home)
            .env("CARGO", bin.join("cargo"))
            .output()
            .unwrap();
        let run = common::Run::from(output);
        assert_eq!(run.code, 3, "{args:?}: {run}");
        assert!(
            run.stderr
                .contains("cargo install --locked cargo-nextest --version 0.9."),
            "{args:?}: {run}"
        );
    }
}
