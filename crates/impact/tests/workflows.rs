//! This repository's own CI, judged by the workflow model: every job that runs tests is found
//! (with the command that makes it one), and the changes that matter are told from those that
//! do not. The workflow and the script it runs are read from this checkout.

use std::collections::HashMap;

use impact::workflows::{self, Files, Revision, Verdict};

const CI_PATH: &str = ".github/workflows/ci.yml";
const CI: &str = include_str!("../../../.github/workflows/ci.yml");
const CI_RUN: &str = include_str!("../../../.ci/run");

struct Tree(HashMap<String, String>);

impl Tree {
    fn with_ci(ci: &str) -> Tree {
        Tree(HashMap::from([
            (CI_PATH.to_owned(), ci.to_owned()),
            (".ci/run".to_owned(), CI_RUN.to_owned()),
        ]))
    }
}

impl Files for Tree {
    fn read(&self, path: &str) -> Option<String> {
        self.0.get(path).cloned()
    }
    fn workflow_paths(&self) -> Vec<String> {
        vec![CI_PATH.to_owned()]
    }
}

fn verdict(head: &str) -> Verdict {
    let base = Revision::load(&Tree::with_ci(CI));
    let head = Revision::load(&Tree::with_ci(head));
    let inert = workflows::inert_list(&[]);
    workflows::judge(&[CI_PATH], &base, &head, &inert)
        .remove(CI_PATH)
        .expect("the workflow is judged")
}

#[test]
fn every_job_of_this_repository_ci_runs_tests_and_says_how() {
    let tree = Tree::with_ci(CI);
    let workflow = workflows::parse(CI).expect("ci.yml parses");
    let expected = [
        ("preflight", "cargo xtask lane"),
        ("fast", "cargo xtask lane"),
        ("federation-integration", "cargo xtask lane"),
        ("release-lane", "cargo xtask release-lane"),
        ("attestation-interop", "cargo xtask lane"),
        ("impact", "cargo xtask test"),
        ("impact-record", "cargo xtask impact record"),
        ("extended-archive", "cargo xtask lane"),
        ("extended", "cargo xtask lane"),
        ("backstop", "runs `.ci/run`, which runs `cargo nextest`"),
    ];
    // Formatting, lints and the MSRV check build but run no test.
    let no_tests = ["fmt", "clippy", "msrv"];
    let ids: Vec<&str> = workflow.jobs.keys().map(String::as_str).collect();
    let mut wanted: Vec<&str> = expected.iter().map(|(id, _)| *id).collect();
    wanted.extend(no_tests);
    wanted.sort_unstable();
    assert_eq!(ids, wanted, "the jobs of ci.yml changed: update this test");
    for id in no_tests {
        let info = workflows::job_info(&tree, &workflow, &workflow.jobs[id]);
        assert_eq!(info.runs_tests, None, "job `{id}` runs no tests");
    }
    for (id, command) in expected {
        let info = workflows::job_info(&tree, &workflow, &workflow.jobs[id]);
        let why = info
            .runs_tests
            .unwrap_or_else(|| panic!("job `{id}` runs tests"));
        assert!(why.contains(command), "job `{id}`: {why}");
    }
}

#[test]
fn this_repository_ci_changes_are_told_apart() {
    let checkout_bump = CI.replace("actions/checkout@v4", "actions/checkout@v5");
    assert!(
        matches!(verdict(&checkout_bump), Verdict::Nothing(ref why) if why.contains("inert action versions")),
        "{:?}",
        verdict(&checkout_bump)
    );
    let nextest_bump = CI.replace(
        "NEXTEST_VERSION: \"0.9.143\"",
        "NEXTEST_VERSION: \"0.9.144\"",
    );
    assert_ne!(
        nextest_bump, CI,
        "the pinned nextest version is in the workflow env"
    );
    assert!(
        matches!(verdict(&nextest_bump), Verdict::All(ref why) if why.contains("workflow-level `env`")),
        "{:?}",
        verdict(&nextest_bump)
    );
    let preflight_toolchain = "      - uses: dtolnay/rust-toolchain@stable\n      - uses: Swatinem/rust-cache@v2\n      - uses: taiki-e/install-action@v2";
    assert!(
        CI.contains(preflight_toolchain),
        "the preflight job's setup changed: update this test"
    );
    let toolchain = CI.replacen(
        preflight_toolchain,
        &preflight_toolchain.replace("@stable", "@nightly"),
        1,
    );
    assert!(
        matches!(verdict(&toolchain), Verdict::All(ref why) if why.contains("job `preflight` runs tests")),
        "{:?}",
        verdict(&toolchain)
    );
    let lint_only = CI.replace("components: clippy", "components: clippy, rust-src");
    assert!(
        matches!(verdict(&lint_only), Verdict::Nothing(ref why) if why.contains("job `clippy` changed; no job that runs tests changed")),
        "{:?}",
        verdict(&lint_only)
    );
    let renamed = CI.replace(
        "name: full backstop (every test, every feature)",
        "name: backstop",
    );
    assert!(
        matches!(verdict(&renamed), Verdict::Nothing(_)),
        "{:?}",
        verdict(&renamed)
    );
}
