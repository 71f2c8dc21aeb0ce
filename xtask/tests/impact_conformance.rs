//! Conformance suite for `cargo xtask impact` (README.md, "Impact analysis"). Every scenario is a real
//! temporary git repository with a small Cargo workspace and a change; the real `xtask` binary
//! decides, and the scenario says which packages and test binaries must and must not be
//! selected. The table is `impact_scenarios::table` and the repository builder
//! `impact_scenarios::repo` (`crates/impact-scenarios`, shared with `cargo xtask bench all`,
//! which runs other tools on the same repositories); the runner and checks are in
//! `impact_conformance/harness.rs`.
//!
//! Each scenario prints one `impact-conformance:` line with its selected-package count; see
//! them with `cargo nextest run -p xtask --test impact_conformance --no-capture`.

#[path = "impact_conformance/harness.rs"]
mod harness;

use harness::RunXtask;
use impact_scenarios::repo as scenario_repo;
use impact_scenarios::table::{SCENARIOS, Scenario};
use xshell::cmd;

fn scenario(name: &str) -> &'static Scenario {
    SCENARIOS
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no scenario named {name}"))
}

fn run(name: &str) {
    harness::run(scenario(name));
}

/// One `#[test]` per scenario, named after it, so failures and timings read per scenario.
macro_rules! scenario_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                run(stringify!($name));
            }
        )*

        const TEST_NAMES: &[&str] = &[$(stringify!($name)),*];
    };
}

scenario_tests! {
    normal_dependency_chain_distance,
    two_hop_chain_distance,
    dev_dependency_stops_after_one_hop,
    build_dependency_propagates,
    optional_dependency_selects_its_feature_gated_dependent,
    feature_gated_test_selected_from_the_working_tree,
    platform_specific_dependency_propagates,
    renamed_dependency_propagates,
    hyphenated_test_binary_id,
    hyphenated_package_library_edit,
    test_only_edit_selects_that_binary,
    test_directory_module_selects_that_binary,
        test_fixture_included_by_one_test,
    test_helper_module_selects_its_includer,
    example_edit_selects_that_example,
    bench_edit_selects_that_bench,
    include_str_of_file_in_another_package,
    include_bytes_of_file_outside_packages,
    include_macro_of_generated_source,
    path_attribute_module_outside_package,
    included_markdown_selects_includer,
    computed_include_without_build_selects_all,
    slow_dep_info_of_head_build_explains_computed_include,
    build_script_rerun_if_changed_input,
    build_script_rerun_if_changed_double_colon_syntax,
    build_script_edit_selects_its_package,
    workspace_dependency_bump_used_by_one_member,
    workspace_package_field_inherited_by_some_members,
    member_manifest_written_differently_selects_only_its_own_tests,
    profile_change_selects_all,
    workspace_lints_change_without_inheriting_members_selects_nothing,
    workspace_lints_change_selects_the_members_inheriting_them,
    member_feature_change,
        lockfile_bump_of_transitive_dependency,
    lockfile_bump_under_dev_dependency_stays_with_its_package,
    rename_across_packages_selects_both_ends,
    deleted_package_selects_its_dependents,
    deleted_file_selects_its_owner,
    new_package_added,
    rust_toolchain_file_selects_all,
    cargo_config_selects_all,
    legacy_cargo_config_selects_all,
    legacy_rust_toolchain_file_selects_all,
    nextest_config_selects_all,
    new_workflow_without_test_jobs_selects_nothing,
    other_ci_system_file_selects_all,
    release_job_steps_change_selects_nothing,
    release_job_running_its_binary_by_variable_selects_nothing,
    release_job_running_an_unassigned_variable_selects_all,
    checkout_and_cache_bump_in_test_job_selects_nothing,
    step_added_after_test_jobs_last_test_step_selects_nothing,
    step_added_before_test_jobs_last_test_step_selects_all,
    release_job_running_a_cargo_alias_selects_nothing,
    cargo_config_clippy_lint_flags_only_select_nothing,
    cargo_config_rustc_flag_selects_all,
    release_job_running_an_undefined_cargo_alias_selects_all,
    toolchain_action_bump_in_test_job_selects_all,
    test_job_steps_change_selects_all,
    test_job_matrix_change_selects_all,
    workflow_level_env_change_selects_all,
    local_composite_action_of_test_job_selects_all,
    reusable_workflow_of_test_job_selects_all,
    unparseable_workflow_selects_all,
    rust_toolchain_above_the_workspace_selects_all,
    nested_rust_toolchain_in_a_package_is_an_ordinary_file,
    nested_cargo_config_in_a_package_is_an_ordinary_file,
    separate_workspace_inside_a_package_is_outside_every_package,
    github_issue_template_selects_nothing,
    readme_only_change_selects_nothing,
        member_readme_nothing_includes_selects_nothing,
    no_change_selects_nothing,
    license_and_gitignore_select_nothing,
    unknown_top_level_file_selects_all_naming_it,
    impact_rule_maps_path_to_package,
    adding_rule_selects_a_reader_of_member_manifests_besides_the_owner,
    workspace_exclude_change_is_a_membership_change,
    excluding_a_member_the_nextest_config_names_selects_everything,
    deleting_a_member_the_nextest_config_names_selects_everything,
    excluding_a_member_the_nextest_config_does_not_name_selects_its_readers,
    impact_rule_maps_path_to_nothing,
    impact_rule_narrows_a_ci_workflow,
    impact_rule_overrides_ownership_to_nothing,
    impact_rule_overrides_ownership_to_all,
    bad_impact_rule_glob_is_invalid_input,
    impact_rule_naming_unknown_package_is_invalid_input,
    uncommitted_edit_in_working_tree,
        uncommitted_deletion,
    uncommitted_move_across_packages,
    untracked_new_test_file,
    untracked_file_and_staged_edit_together,
    head_revision_ignores_and_keeps_working_tree,
    path_with_spaces,
    non_ascii_paths,
    nested_member_owns_its_files,
    default_base_is_merge_base_with_main,
    ignored_files_are_not_changes,
    quotes_and_glob_characters_in_file_names,
    workspace_in_repository_subdirectory,
    single_package_workspace,
    single_package_test_only_edit,
    root_package_membership_change_selects_the_root_package_tests,
    shallow_clone_without_base_is_environment_error,
    shallow_clone_with_fallback_selects_all,
    unknown_base_revision_is_invalid_input,
    unknown_head_revision_is_invalid_input,
    not_a_cargo_workspace_is_invalid_input,
    broken_manifest_in_head_is_invalid_input,
    unread_top_level_file_without_recording_selects_all,
    slow_recorded_fixture_read_selects_its_reader,
    slow_recorded_fixture_read_by_two_of_ten_tests_selects_those_two,
    slow_recorded_directory_listing_selects_reader_of_new_file,
    slow_recorded_env_provided_path_selects_its_reader,
    slow_unread_top_level_files_select_nothing_with_recording,
    slow_nested_rust_toolchain_selects_nothing_with_recording,
    slow_nested_cargo_config_selects_nothing_with_recording,
    slow_excluded_workspace_file_selects_nothing_with_recording,
    slow_stale_recording_is_ignored_with_a_warning,
}

/// Every scenario in the table has its test, and the other way round.
#[test]
fn every_scenario_has_a_test() {
    let mut table: Vec<&str> = SCENARIOS.iter().map(|s| s.name).collect();
    let mut tests = TEST_NAMES.to_vec();
    table.sort_unstable();
    tests.sort_unstable();
    let unique = table.windows(2).all(|w| w[0] != w[1]);
    assert!(unique, "scenario names are unique");
    assert_eq!(table, tests, "the scenario table and the test list agree");
    assert!(table.len() >= 30, "at least 30 scenarios");
}

/// The other output formats on the same decision: the filterset names packages and binaries
/// explicitly, the graph formats render, the human view gives the why-chain from the changed
/// file, and `$GITHUB_STEP_SUMMARY` receives a Markdown summary.
#[test]
fn output_formats_and_step_summary() {
    let prepared = harness::prepare(scenario("normal_dependency_chain_distance"));

    let filterset = prepared.invoke(&[], "filterset", &[]);
    assert_eq!(filterset.exit, 0, "{}", filterset.stderr);
    for needle in ["package(=mid)", "package(=app)"] {
        assert!(
            filterset.stdout.contains(needle),
            "filterset: {}",
            filterset.stdout
        );
    }
    assert!(!filterset.stdout.contains("rdeps("), "{}", filterset.stdout);
    assert!(
        !filterset.stdout.contains("package(=core)"),
        "{}",
        filterset.stdout
    );

    let human = prepared.invoke(&[], "human", &[]);
    assert_eq!(human.exit, 0, "{}", human.stderr);
    assert!(
        human.stdout.contains("crates/mid/src/lib.rs") && human.stdout.contains("app"),
        "the why-chain starts at the changed file and reaches the dependent:\n{}",
        human.stdout
    );

    let mermaid = prepared.invoke(&[], "mermaid", &[]);
    assert_eq!(mermaid.exit, 0, "{}", mermaid.stderr);
    assert!(
        mermaid.stdout.contains("mid") && mermaid.stdout.contains("lonely"),
        "the whole graph, affected part highlighted:\n{}",
        mermaid.stdout
    );
    let dot = prepared.invoke(&[], "dot", &[]);
    assert_eq!(dot.exit, 0, "{}", dot.stderr);
    assert!(
        dot.stdout.trim_start().starts_with("digraph"),
        "{}",
        dot.stdout
    );
    assert!(dot.stdout.contains("mid"), "{}", dot.stdout);

    let summary = prepared.repo.root.parent().unwrap().join("step-summary.md");
    let json = prepared.invoke(&[], "json", &[("GITHUB_STEP_SUMMARY", &summary)]);
    assert_eq!(json.exit, 0, "{}", json.stderr);
    let markdown = std::fs::read_to_string(&summary).expect("a step summary was written");
    assert!(
        markdown.contains("mid") && markdown.contains("app"),
        "{markdown}"
    );
}

/// A test-only edit: the filterset names that one binary, not its package.
#[test]
fn filterset_names_the_test_binary_for_a_test_only_edit() {
    let prepared = harness::prepare(scenario("test_only_edit_selects_that_binary"));
    let filterset = prepared.invoke(&[], "filterset", &[]);
    assert_eq!(filterset.exit, 0, "{}", filterset.stderr);
    assert!(
        filterset.stdout.contains("binary_id(=core::api)"),
        "{}",
        filterset.stdout
    );
    assert!(
        !filterset.stdout.contains("package(=core)"),
        "{}",
        filterset.stdout
    );
}

/// `impact --explain FILE` with a recording: the binary that read the file, and exactly that
/// binary selected; for a file nothing read, the recording's reason and an empty selection.
#[test]
fn slow_explain_names_the_recorded_reader_and_the_selection() {
    if harness::skip_when_traced("slow_explain_names_the_recorded_reader_and_the_selection") {
        return;
    }
    let prepared = harness::prepare(scenario("slow_recorded_fixture_read_selects_its_reader"));
    let read = prepared.invoke(&["--explain", "fixtures/golden.txt"], "json", &[]);
    assert_eq!(read.exit, 0, "{}", read.stderr);
    let json = output_types::validate::document(&read.stdout);
    assert_eq!(json["schema"], "impact-explain/v1");
    assert_eq!(json["file"], "fixtures/golden.txt");
    assert_eq!(
        json["recording"]["read_by"],
        serde_json::json!([{"binary_id": "golden::golden", "test": "golden"}])
    );
    assert_eq!(json["all"], false);
    assert_eq!(
        json["selects"],
        serde_json::json!([{"name": "golden", "targets": ["golden::golden"]}]),
        "{json:#}"
    );

    let unread = prepared.invoke(&["--explain", "notes/todo.txt"], "human", &[]);
    assert_eq!(unread.exit, 0, "{}", unread.stderr);
    for needle in [
        "no recorded test read it",
        "[recording] notes/todo.txt is outside every package",
        "a change to it selects nothing",
    ] {
        assert!(
            unread.stdout.contains(needle),
            "{needle:?} in\n{}",
            unread.stdout
        );
    }

    let rule = prepared.invoke(&["--explain", "README.md"], "human", &[]);
    assert_eq!(rule.exit, 0, "{}", rule.stderr);
    assert!(
        rule.stdout.contains("[rule] README.md matches `*.md`"),
        "{}",
        rule.stdout
    );
}

/// Per-test recording: a fixture read by 2 of a binary's 10 tests selects exactly those 2 tests
/// (not the binary), and nextest, given the printed filterset, runs exactly 2 tests.
#[test]
fn slow_filterset_of_two_recorded_tests_runs_two_tests() {
    if harness::skip_when_traced("slow_filterset_of_two_recorded_tests_runs_two_tests") {
        return;
    }
    let prepared = harness::prepare(scenario(
        "slow_recorded_fixture_read_by_two_of_ten_tests_selects_those_two",
    ));
    let json = prepared.invoke(&[], "json", &[]);
    assert_eq!(json.exit, 0, "{}", json.stderr);
    let tenfold = json.package("tenfold").expect("tenfold is selected");
    assert_eq!(tenfold["targets"], serde_json::json!([]), "{tenfold:#}");
    assert_eq!(
        tenfold["tests"],
        serde_json::json!({"tenfold::ten": ["shared_a", "shared_b"]}),
        "{tenfold:#}"
    );
    let filterset = prepared.invoke(&[], "filterset", &[]);
    assert_eq!(filterset.exit, 0, "{}", filterset.stderr);
    let filterset = filterset.stdout.trim().to_string();
    assert_eq!(
        filterset,
        "(binary_id(=tenfold::ten) & (test(=shared_a) | test(=shared_b)))"
    );
    let sh = &prepared.repo.sh;
    let _cd = sh.push_dir(&prepared.workdir);
    let manifest = &prepared.manifest;
    // As a person would run it: not with the profile or settings of a nextest run this suite
    // may itself be running under (`--profile ci` has no meaning in the scenario).
    let run = scenario_repo::in_scenario(
        cmd!(
            sh,
            "cargo nextest run --manifest-path {manifest} --workspace -E {filterset}"
        ),
        manifest,
    )
    .output()
    .expect("run cargo nextest");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(
        stderr.contains("2 tests run: 2 passed"),
        "nextest ran exactly the two recorded readers:\n{stderr}"
    );
}

/// `impact history --format json` replays the head commit against its parent with and
/// without the recording and prints `impact-history/v1`: the changed fixture's reader is
/// selected with the recording, so nothing is missed.
#[test]
fn slow_history_replays_the_head_commit_as_its_schema_says() {
    if harness::skip_when_traced("slow_history_replays_the_head_commit_as_its_schema_says") {
        return;
    }
    let prepared = harness::prepare(scenario("slow_recorded_fixture_read_selects_its_reader"));
    let recording = prepared.workdir.join("target/impact-recording.json");
    let args: Vec<String> = [
        "impact",
        "history",
        "--manifest-path",
        &prepared.manifest.display().to_string(),
        "--recording",
        &recording.display().to_string(),
        "--commits",
        "1",
        "--format",
        "json",
    ]
    .map(str::to_owned)
    .to_vec();
    let history = prepared.xtask(&args, &[]);
    assert_eq!(history.exit, 0, "{}", history.stderr);
    let json = output_types::validate::document(&history.stdout);
    assert_eq!(json["schema"], "impact-history/v1");
    assert_eq!(json["totals"]["commits"], 1, "{json:#}");
    assert_eq!(json["commits"][0]["with"]["all"], false, "{json:#}");
    assert_eq!(json["totals"]["misses"], 0, "{json:#}");
}

/// A test that fails under the tracer is reported, not hidden: `record` exits 1 naming it,
/// and the recording (still written) counts that binary as not fully known.
#[test]
fn slow_record_reports_a_test_failing_under_the_tracer() {
    if harness::skip_when_traced("slow_record_reports_a_test_failing_under_the_tracer") {
        return;
    }
    let prepared = harness::prepare(scenario(
        "unread_top_level_file_without_recording_selects_all",
    ));
    prepared.repo.write(
        "crates/plain/tests/fails.rs",
        "#[test]\nfn fails() { assert_eq!(std::fs::read_to_string(\"../../notes/todo.txt\").unwrap(), \"other\"); }\n",
    );
    let output = prepared
        .repo
        .record_output(&harness::xtask_binary(), &prepared.manifest);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("failed: plain::fails fails"), "{stderr}");
    let path = prepared.workdir.join("target/impact-recording.json");
    let recording: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("the recording is written"))
            .unwrap();
    let fails = &recording["binaries"]["plain::fails"];
    assert_eq!(
        fails["failed"],
        serde_json::json!(["fails"]),
        "{recording:#}"
    );
    assert!(
        fails["tests"]["fails"]["reads"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("notes/todo.txt")),
        "{recording:#}"
    );
    assert_eq!(
        recording["binaries"]["golden::golden"]["failed"],
        serde_json::json!([])
    );
}

/// `cargo xtask test --affected` runs what it selected the way the full test command builds:
/// the change reaches `gated` only through its optional dependency, and the selected test
/// exists only with feature `signing`, so it runs only with every feature on.
#[test]
fn slow_test_affected_runs_a_selected_feature_gated_test() {
    let prepared = harness::prepare(scenario(
        "feature_gated_test_selected_from_the_working_tree",
    ));
    let mut args = prepared.revision_args("test --affected");
    args.extend(["--".into(), "--no-fail-fast".into()]);
    let run = prepared.xtask(&args, &[]);
    let context = format!(
        "exit {}\n--- stdout\n{}\n--- stderr\n{}",
        run.exit, run.stdout, run.stderr
    );
    assert_eq!(run.exit, 0, "{context}");
    assert!(
        run.stderr
            .contains("test --affected: features: all features"),
        "{context}"
    );
    assert!(
        run.stderr.contains("PASS")
            && run
                .stderr
                .contains("gated::signing signed_only_with_the_feature"),
        "the feature-gated test ran\n{context}"
    );
    assert!(
        !run.stderr.contains("mid::mid_it"),
        "mid was not affected\n{context}"
    );
}
