//! The synthetic workspace generator behind `cargo xtask bench impact`: its files are what Cargo
//! itself would accept and write, and on random graphs with random changes the real engine's
//! selection equals the brute-force reference closure.

use std::collections::BTreeSet;

use impact_scenarios::synthetic;
use xshell::{Shell, cmd};

#[test]
fn generated_lockfile_is_exactly_what_cargo_writes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    let workspace = synthetic::generate(&root, 40, 7, 20).unwrap();
    let lock_before = std::fs::read_to_string(root.join("Cargo.lock")).unwrap();

    let sh = Shell::new().unwrap();
    let manifest = &workspace.manifest;
    let metadata = support::nested::isolated(
        cmd!(
            sh,
            "cargo metadata --locked --offline --format-version 1 --manifest-path {manifest}"
        ),
        xshell::Cmd::env_remove,
    )
    .env("CARGO_TARGET_DIR", root.join("target"))
    .quiet()
    .read()
    .expect("cargo accepts the generated workspace and lockfile as they are");
    assert_eq!(
        std::fs::read_to_string(root.join("Cargo.lock")).unwrap(),
        lock_before,
        "cargo did not need to rewrite Cargo.lock"
    );

    // The manifests carry exactly the generated edges, each with its kind.
    let metadata: serde_json::Value = serde_json::from_str(&metadata).unwrap();
    for package in metadata["packages"].as_array().unwrap() {
        let name = package["name"].as_str().unwrap();
        let index: usize = name.trim_start_matches("syn").parse().unwrap();
        let krate = &workspace.graph[index];
        let edges = |kind: Option<&str>| -> BTreeSet<usize> {
            package["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].as_str() == kind)
                .map(|d| {
                    d["name"]
                        .as_str()
                        .unwrap()
                        .trim_start_matches("syn")
                        .parse()
                        .unwrap()
                })
                .collect()
        };
        assert_eq!(edges(None), krate.normal, "normal edges of {name}");
        assert_eq!(edges(Some("dev")), krate.dev, "dev edges of {name}");
        assert_eq!(edges(Some("build")), krate.build, "build edges of {name}");
    }
    assert_eq!(metadata["packages"].as_array().unwrap().len(), 40);
}

#[test]
fn graph_is_deterministic_per_seed_and_acyclic() {
    let a = synthetic::graph(300, 11);
    let b = synthetic::graph(300, 11);
    let c = synthetic::graph(300, 12);
    let edges = |g: &[synthetic::SyntheticCrate]| -> Vec<(usize, usize)> {
        g.iter()
            .enumerate()
            .flat_map(|(i, k)| {
                k.normal
                    .iter()
                    .chain(&k.dev)
                    .chain(&k.build)
                    .map(move |&d| (i, d))
            })
            .collect()
    };
    assert_eq!(edges(&a), edges(&b));
    assert_ne!(edges(&a), edges(&c));
    assert!(
        edges(&a).iter().all(|&(from, to)| to < from),
        "edges point down: a DAG"
    );
    assert!(a.iter().any(|k| !k.dev.is_empty()), "some dev edges");
    assert!(a.iter().any(|k| !k.build.is_empty()), "some build edges");
}

#[test]
fn the_benchmark_edit_has_a_typical_closure() {
    for crates in [500, 2000] {
        let graph = synthetic::graph(crates, 42);
        let changed = synthetic::typical_change(&graph);
        let closure = synthetic::reference_closure(&graph, changed).len();
        assert!(
            (crates / 100..=crates / 5).contains(&closure),
            "{crates} crates: editing {} selects {closure}",
            synthetic::crate_name(changed)
        );
    }
}

/// End to end, against the real binary: random graphs, a random changed crate, and the
/// selected packages must be exactly the reference closure (reverse normal and build edges,
/// then one hop of dev-dependents).
#[test]
fn slow_engine_selection_equals_reference_closure_on_random_graphs() {
    // `$IMPACT_XTASK_BIN`: the engine binary to test, as in the conformance suite.
    let bin = std::env::var_os("IMPACT_XTASK_BIN")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_xtask").into());
    let sh = Shell::new().unwrap();
    for seed in 1..=8u64 {
        let crates = 12 + (seed as usize * 5);
        let mut rng = synthetic::Rng::new(seed ^ 0xC0FFEE);
        let changed = rng.below(crates);
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        let workspace = synthetic::generate(&root, crates, seed, changed).unwrap();
        let (manifest, base, head) = (&workspace.manifest, &workspace.base, &workspace.head);
        let out = support::nested::isolated(
            cmd!(
                sh,
                "{bin} impact --manifest-path {manifest} --base {base} --head {head} --format json"
            ),
            xshell::Cmd::env_remove,
        )
        .env("CARGO_TARGET_DIR", root.join("target"))
        .quiet()
        .read()
        .unwrap_or_else(|e| panic!("seed {seed}: xtask impact failed: {e}"));
        let json = output_types::validate::document(&out);
        let selected: BTreeSet<String> = json["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect();
        let reference: BTreeSet<String> = synthetic::reference_closure(&workspace.graph, changed)
            .into_iter()
            .map(synthetic::crate_name)
            .collect();
        assert_eq!(
            selected,
            reference,
            "seed {seed}, {crates} crates, changed {}",
            synthetic::crate_name(changed)
        );
    }
}
