//! The engine's pieces on frozen `cargo metadata` output and in-memory inputs. The end-to-end
//! behaviour on real git repositories is the conformance suite in `xtask/tests/`.

use std::collections::BTreeSet;
use std::path::Path;

use impact::analyze::{Owners, Scope, scope_of};
use impact::closure;
use impact::git::{ChangedFile, Status, parse_name_status};
use impact::graph::{EdgeKind, Graph, normalize_join, relative};
use impact::includes::{IncludeKind, dep_info_inputs, scan};
use impact::report::{AffectedPackage, Report, Targets};
use impact::rules::{Affects, Glob, Rules};
use support::config::Code;

fn graph_of(text: &str) -> Graph {
    let metadata: cargo_metadata::Metadata = serde_json::from_str(text).expect("fixture parses");
    Graph::from_metadata(&metadata)
}

fn fixture() -> Graph {
    graph_of(include_str!("fixtures/small-workspace.json"))
}

fn index(graph: &Graph, name: &str) -> usize {
    graph
        .find(name)
        .unwrap_or_else(|| panic!("no package {name}"))
}

fn ids(names: &[&str]) -> Scope {
    Scope::Binaries(names.iter().map(|s| s.to_string()).collect())
}

// ---- graph from frozen metadata ----

#[test]
fn graph_keeps_local_packages_with_relative_dirs() {
    let graph = fixture();
    let names: Vec<&str> = graph.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["app", "base", "checker", "mid", "tool", "top"]);
    assert!(graph.packages.iter().all(|p| p.member));
    assert_eq!(graph.packages[index(&graph, "mid")].dir, "crates/mid");
}

#[test]
fn graph_edges_carry_their_kind() {
    let graph = fixture();
    let edge = |from: &str, to: &str| -> Vec<EdgeKind> {
        graph.packages[index(&graph, from)]
            .deps
            .iter()
            .filter(|(d, _)| *d == index(&graph, to))
            .map(|(_, k)| *k)
            .collect()
    };
    assert_eq!(edge("mid", "base"), [EdgeKind::Normal]);
    assert_eq!(edge("tool", "base"), [EdgeKind::Build]);
    assert_eq!(edge("checker", "top"), [EdgeKind::Dev]);
    assert!(edge("base", "mid").is_empty());
}

#[test]
fn binary_ids_follow_nextest_rules() {
    let graph = fixture();
    let top = &graph.packages[index(&graph, "top")];
    let ids: BTreeSet<&str> = top
        .targets
        .iter()
        .filter_map(|t| t.binary_id.as_deref())
        .collect();
    let want: BTreeSet<&str> = [
        "top",
        "top::bin/top-cli",
        "top::smoke",
        "top::suite",
        "top::bench/speed",
        "top::example/demo",
    ]
    .into();
    assert_eq!(ids, want);
    let tool = &graph.packages[index(&graph, "tool")];
    assert!(
        tool.targets.iter().any(|t| t.binary_id.is_none()),
        "build scripts have no binary id"
    );
}

#[test]
fn features_come_from_the_resolve() {
    let graph = fixture();
    assert_eq!(graph.packages[index(&graph, "mid")].features, ["extra"]);
    assert!(graph.packages[index(&graph, "base")].features.is_empty());
}

// ---- lockfile: resolved closures ----

/// `user` depends on the git crate `extleaf`, `tester` dev-depends on it, `plain` depends on
/// `user`; between the two fixtures `extleaf` moves from 0.1.0 to 0.2.0.
fn lockfile_fixtures() -> (Graph, Graph) {
    (
        graph_of(include_str!("fixtures/lockfile-base.json")),
        graph_of(include_str!("fixtures/lockfile-head.json")),
    )
}

#[test]
fn external_closures_split_normal_from_dev_dependencies() {
    let (_, head) = lockfile_fixtures();
    let user = &head.packages[index(&head, "user")];
    let tester = &head.packages[index(&head, "tester")];
    let plain = &head.packages[index(&head, "plain")];
    assert_eq!(head.lines(&user.closure).len(), 1);
    assert!(
        head.lines(&user.closure)
            .iter()
            .all(|l| l.starts_with("extleaf 0.2.0 git+file:///fixture/ext/extleaf"))
    );
    assert!(user.dev_closure.is_empty());
    assert!(tester.closure.is_empty());
    assert_eq!(head.lines(&tester.dev_closure).len(), 1);
    // `plain` reaches extleaf only through the local package `user`: the closure rule covers it.
    assert!(plain.closure.is_empty() && plain.dev_closure.is_empty());
    assert!(
        head.packages.iter().all(|p| p.name != "extleaf"),
        "external packages are not graph nodes"
    );
}

#[test]
fn a_lockfile_bump_changes_exactly_the_packages_that_resolve_it() {
    use impact::graph::{ResolutionChangeKind, resolution_changes};
    let (base, head) = lockfile_fixtures();
    let changes = resolution_changes(&base, &head);
    let summary: Vec<(&str, ResolutionChangeKind)> = changes
        .iter()
        .map(|c| (head.packages[c.package].name.as_str(), c.what))
        .collect();
    assert_eq!(
        summary,
        [
            ("tester", ResolutionChangeKind::DevDependencies),
            ("user", ResolutionChangeKind::Dependencies)
        ]
    );
    let user = changes
        .iter()
        .find(|c| head.packages[c.package].name == "user")
        .unwrap();
    assert_eq!(user.changes.len(), 2, "{:?}", user.changes);
    assert!(
        user.changes[0].starts_with("+extleaf 0.2.0 "),
        "{:?}",
        user.changes
    );
    assert!(
        user.changes[1].starts_with("-extleaf 0.1.0 "),
        "{:?}",
        user.changes
    );
    assert!(resolution_changes(&head, &head).is_empty());
}

#[test]
fn enabled_feature_changes_are_reported_per_package() {
    use impact::graph::{ResolutionChangeKind, resolution_changes};
    let graph = fixture();
    let mut changed = graph.clone();
    let mid = index(&graph, "mid");
    changed.packages[mid].features.clear();
    let changes = resolution_changes(&graph, &changed);
    assert_eq!(changes.len(), 1);
    assert_eq!(
        (changes[0].package, changes[0].what),
        (mid, ResolutionChangeKind::Features)
    );
    assert_eq!(changes[0].changes, ["-extra"]);
}

// ---- root Cargo.toml, diffed by structure ----

const ROOT: &str = r#"[workspace]
resolver = "2"
members = ["crates/*"]

[workspace.package]
version = "0.1.0"
edition = "2021"

[workspace.dependencies]
serde = "1.0.100"
regex = "1"
"#;

/// Effects of changing the fixture's root manifest from `ROOT` to `new_root`: `mid` inherits
/// `serde` and `version`, `top` inherits `regex` (as a dev-dependency) and `edition`.
/// The member manifests of [`root_effects`]: `mid` inherits a dependency and the version,
/// `top` the edition, a platform-specific dev-dependency and the lints.
const MEMBERS: [(&str, &str); 2] = [
    (
        "crates/mid/Cargo.toml",
        "[package]\nname = \"mid\"\nversion.workspace = true\n[dependencies]\nserde = { workspace = true }\n",
    ),
    (
        "crates/top/Cargo.toml",
        "[package]\nname = \"top\"\nedition.workspace = true\n[target.'cfg(unix)'.dev-dependencies]\nregex.workspace = true\n\n[lints]\nworkspace = true\n",
    ),
];

fn root_effects(new_root: &str) -> (Vec<String>, Vec<String>, usize) {
    root_effects_of(ROOT, new_root, MEMBERS)
}

/// What changing the root manifest from `old_root` to `new_root` does, members unchanged.
fn root_effects_of(
    old_root: &str,
    new_root: &str,
    members: [(&str, &str); 2],
) -> (Vec<String>, Vec<String>, usize) {
    use impact::manifest_diff::ManifestEffect;
    use impact::manifest_diff::{Sides, root_manifest};
    use std::collections::BTreeMap;
    let graph = fixture();
    let base: BTreeMap<&str, &str> = [("Cargo.toml", old_root)]
        .into_iter()
        .chain(members)
        .collect();
    let head: BTreeMap<&str, &str> = [("Cargo.toml", new_root)]
        .into_iter()
        .chain(members)
        .collect();
    let sides = Sides {
        head: &head,
        base: &base,
        workspace_dir: "",
        head_graph: &graph,
        base_graph: &graph,
    };
    let (mut packages, mut all, mut nothing) = (Vec::new(), Vec::new(), 0);
    root_manifest(&sides, "Cargo.toml", |effect| match effect {
        ManifestEffect::Package(index, _) => packages.push(graph.packages[index].name.clone()),
        ManifestEffect::All(reason) => all.push(reason),
        ManifestEffect::Nothing(_) => nothing += 1,
    });
    packages.sort();
    (packages, all, nothing)
}

#[test]
fn a_workspace_dependency_change_selects_the_members_inheriting_it() {
    let (packages, all, _) = root_effects(&ROOT.replace("1.0.100", "1.0.200"));
    assert_eq!(packages, ["mid"]);
    assert!(all.is_empty());
    let (packages, _, _) = root_effects(&ROOT.replace(
        "regex = \"1\"",
        "regex = { version = \"1\", default-features = false }",
    ));
    assert_eq!(
        packages,
        ["top"],
        "target-specific dev-dependencies inherit too"
    );
    let (packages, all, nothing) = root_effects(&format!("{ROOT}unused = \"2\"\n"));
    assert!(packages.is_empty() && all.is_empty());
    assert_eq!(
        nothing, 1,
        "a new entry nobody inherits affects nothing, and says so"
    );
}

#[test]
fn members_are_selected_by_their_effective_values_not_by_the_keys_that_moved() {
    // Both values change: each member inheriting one is selected.
    let moved = ROOT.replace(
        "version = \"0.1.0\"\nedition = \"2021\"",
        "version = \"0.1\"\nedition = \"2024\"",
    );
    let (packages, all, _) = root_effects(&moved);
    assert_eq!(
        (packages, all.len()),
        (vec!["mid".to_string(), "top".to_string()], 0)
    );
    // The same edition written as a table key: no member's effective value changes.
    let (packages, all, nothing) = root_effects(&ROOT.replace(
        "[workspace.package]\nversion = \"0.1.0\"\nedition = \"2021\"",
        "[workspace.package]\nedition = \"2021\"\nversion = \"0.1.0\"\nrust-version = \"1.80\"",
    ));
    assert!(
        packages.is_empty() && all.is_empty(),
        "{packages:?} {all:?}"
    );
    assert_eq!(nothing, 1, "the new field nobody inherits says so");
}

#[test]
fn effective_values_resolve_what_a_member_inherits() {
    use impact::manifest_diff::effective_changes;
    let table = |text: &str| text.parse::<toml::Table>().unwrap();
    let workspace = table(
        "[package]\nedition = \"2024\"\nrust-version = \"1.96\"\n[dependencies]\nregex = { version = \"1\", features = [\"std\"] }\n",
    );
    let literal = table(
        "[package]\nname = \"a\"\nedition = \"2024\"\n[dependencies]\nregex = { version = \"1\", features = [\"std\", \"perf\"] }\n",
    );
    let inheriting = table(
        "[package]\nname = \"a\"\nedition.workspace = true\n[dependencies]\nregex = { workspace = true, features = [\"perf\"] }\n",
    );
    assert_eq!(
        effective_changes((&literal, &inheriting), (None, Some(&workspace))),
        Vec::<String>::new(),
        "the same values, written as inherited"
    );
    let with_msrv = table(
        "[package]\nname = \"a\"\nedition.workspace = true\nrust-version.workspace = true\n[dependencies]\nregex = { workspace = true, features = [\"perf\"] }\n",
    );
    assert_eq!(
        effective_changes((&literal, &with_msrv), (None, Some(&workspace))),
        ["package.rust-version"]
    );
}

#[test]
fn a_workspace_package_field_selects_the_members_inheriting_it() {
    let (packages, all, _) =
        root_effects(&ROOT.replace("edition = \"2021\"", "edition = \"2024\""));
    assert_eq!((packages, all.len()), (vec!["top".to_string()], 0));
}

#[test]
fn workspace_lints_select_the_members_inheriting_them() {
    let with_lints =
        |level: &str| format!("{ROOT}\n[workspace.lints.rust]\nunsafe_code = \"{level}\"\n");
    // Added, changed, removed: only `top` has `[lints] workspace = true`.
    for (old, new) in [
        (ROOT.to_owned(), with_lints("deny")),
        (with_lints("forbid"), with_lints("deny")),
        (with_lints("deny"), ROOT.to_owned()),
    ] {
        let (packages, all, _) = root_effects_of(&old, &new, MEMBERS);
        assert_eq!((packages, all.len()), (vec!["top".to_string()], 0));
    }
    // Written differently, the same lints: no member's effective lints changed.
    let (packages, all, nothing) = root_effects_of(
        &with_lints("deny"),
        &format!("{ROOT}\n[workspace.lints]\nrust = {{ unsafe_code = \"deny\" }}\n"),
        MEMBERS,
    );
    assert_eq!((packages.len(), all.len(), nothing), (0, 0, 1));
    // No member inherits them: nothing.
    let own_lints = [
        MEMBERS[0],
        (
            "crates/top/Cargo.toml",
            "[package]\nname = \"top\"\n\n[lints.rust]\nunsafe_code = \"forbid\"\n",
        ),
    ];
    let (packages, all, nothing) =
        root_effects_of(&with_lints("forbid"), &with_lints("deny"), own_lints);
    assert_eq!((packages.len(), all.len(), nothing), (0, 0, 1));
}

#[test]
fn profiles_patches_and_resolver_select_all_naming_the_table() {
    for (edit, table) in [
        (
            format!("{ROOT}\n[profile.dev]\nopt-level = 1\n"),
            "[profile]",
        ),
        (
            format!("{ROOT}\n[patch.crates-io]\nserde = {{ path = \"../serde\" }}\n"),
            "[patch]",
        ),
        (
            ROOT.replace("resolver = \"2\"", "resolver = \"3\""),
            "[workspace.resolver]",
        ),
    ] {
        let (packages, all, _) = root_effects(&edit);
        assert!(packages.is_empty(), "{table}: {packages:?}");
        assert_eq!(all.len(), 1, "{table}: {all:?}");
        assert!(all[0].contains(table), "{table}: {all:?}");
    }
}

#[test]
fn comments_formatting_and_default_members_select_nothing() {
    let (packages, all, nothing) =
        root_effects(&format!("# a comment\n{}", ROOT.replace(" = ", "=")));
    assert!(packages.is_empty() && all.is_empty());
    assert_eq!(nothing, 1);
    let (packages, all, _) = root_effects(&ROOT.replace(
        "members = [\"crates/*\"]",
        "members = [\"crates/*\"]\ndefault-members = [\"crates/mid\"]",
    ));
    assert!(packages.is_empty() && all.is_empty());
}

// ---- ownership and target level ----

#[test]
fn nearest_package_directory_owns_a_file() {
    let graph = fixture();
    let owners = Owners::new(&graph);
    assert_eq!(
        owners.owner("crates/mid/src/lib.rs"),
        Some(index(&graph, "mid"))
    );
    assert_eq!(
        owners.owner("crates/top/tests/suite/main.rs"),
        Some(index(&graph, "top"))
    );
    assert_eq!(
        owners.owner("README.md"),
        None,
        "a virtual root owns nothing"
    );
    assert_eq!(owners.owner("crates/README.md"), None);
}

#[test]
fn test_bench_and_example_files_select_only_their_binary() {
    let graph = fixture();
    let top = index(&graph, "top");
    assert_eq!(
        scope_of(&graph, top, "crates/top/tests/smoke.rs"),
        ids(&["top::smoke"])
    );
    assert_eq!(
        scope_of(&graph, top, "crates/top/tests/suite/main.rs"),
        ids(&["top::suite"])
    );
    assert_eq!(
        scope_of(&graph, top, "crates/top/tests/suite/cases.rs"),
        ids(&["top::suite"])
    );
    assert_eq!(
        scope_of(&graph, top, "crates/top/tests/smoke/part.rs"),
        ids(&["top::smoke"])
    );
    assert_eq!(
        scope_of(&graph, top, "crates/top/benches/speed.rs"),
        ids(&["top::bench/speed"])
    );
    assert_eq!(
        scope_of(&graph, top, "crates/top/examples/demo.rs"),
        ids(&["top::example/demo"])
    );
}

#[test]
fn shared_test_modules_and_test_data_stay_inside_the_package() {
    let graph = fixture();
    let top = index(&graph, "top");
    assert_eq!(
        scope_of(&graph, top, "crates/top/tests/common/mod.rs"),
        ids(&["top::smoke", "top::suite"])
    );
    let Scope::Binaries(data) = scope_of(&graph, top, "crates/top/tests/data/input.json") else {
        panic!("test data is test-only");
    };
    assert!(
        data.contains("top") && data.contains("top::smoke"),
        "any test may read it: {data:?}"
    );
}

#[test]
fn library_manifest_and_build_script_select_the_package() {
    let graph = fixture();
    let top = index(&graph, "top");
    assert_eq!(
        scope_of(&graph, top, "crates/top/src/lib.rs"),
        Scope::Package
    );
    assert_eq!(
        scope_of(&graph, top, "crates/top/src/bin/top-cli.rs"),
        Scope::Package
    );
    assert_eq!(
        scope_of(&graph, top, "crates/top/Cargo.toml"),
        Scope::Package
    );
    let tool = index(&graph, "tool");
    assert_eq!(
        scope_of(&graph, tool, "crates/tool/build.rs"),
        Scope::Package
    );
}

// ---- closure ----

fn edges(graph: &Graph) -> Vec<Vec<(usize, EdgeKind)>> {
    graph.packages.iter().map(|p| p.deps.clone()).collect()
}

fn reached_names(graph: &Graph, seeds: &[&str]) -> Vec<(String, u32)> {
    let seeds: Vec<usize> = seeds.iter().map(|s| index(graph, s)).collect();
    closure::affected(&edges(graph), &seeds)
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.map(|r| (graph.packages[i].name.clone(), r.distance)))
        .collect()
}

#[test]
fn closure_follows_normal_and_build_edges_then_one_dev_hop() {
    let graph = fixture();
    let got = reached_names(&graph, &["base"]);
    let want: Vec<(String, u32)> = [
        ("app", 2),
        ("base", 0),
        ("checker", 3),
        ("mid", 1),
        ("tool", 1),
        ("top", 2),
    ]
    .iter()
    .map(|(n, d)| (n.to_string(), *d))
    .collect();
    assert_eq!(got, want);
}

#[test]
fn dev_dependents_do_not_propagate_further() {
    let graph = fixture();
    // checker dev-depends on top; nothing depends on checker.
    assert_eq!(
        reached_names(&graph, &["top"]),
        [("checker".to_string(), 1), ("top".to_string(), 0)]
    );
    assert_eq!(
        reached_names(&graph, &["checker"]),
        [("checker".to_string(), 0)]
    );
}

/// A small deterministic generator (xorshift64*), so the property test needs no extra crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The rule, stated directly: `p` is affected when it reaches a seed through normal/build
/// edges only, or has a dev edge to such a package. Distance is the shortest such path.
fn brute_force(edges: &[Vec<(usize, EdgeKind)>], seeds: &[usize]) -> Vec<Option<u32>> {
    let n = edges.len();
    // dist[p] = shortest normal/build path from p down to any seed.
    let mut dist: Vec<Option<u32>> = vec![None; n];
    for &seed in seeds {
        dist[seed] = Some(0);
    }
    for _ in 0..n {
        for p in 0..n {
            for &(dep, kind) in &edges[p] {
                if kind == EdgeKind::Dev {
                    continue;
                }
                let through = dist[dep].map(|d| d + 1);
                if through.is_some_and(|t| dist[p].is_none_or(|cur| t < cur)) {
                    dist[p] = through;
                }
            }
        }
    }
    (0..n)
        .map(|p| {
            let via_dev = edges[p]
                .iter()
                .filter(|(_, k)| *k == EdgeKind::Dev)
                .filter_map(|(dep, _)| dist[*dep].map(|d| d + 1))
                .min();
            match (dist[p], via_dev) {
                (Some(d), _) => Some(d),
                (None, dev) => dev,
            }
        })
        .collect()
}

#[test]
fn closure_equals_brute_force_on_random_dags() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for case in 0..2000 {
        let n = 1 + rng.below(24);
        // Edges only from higher to lower index: a DAG, like a crate graph.
        let mut edges: Vec<Vec<(usize, EdgeKind)>> = vec![Vec::new(); n];
        for (from, deps) in edges.iter_mut().enumerate() {
            for to in 0..from {
                if rng.below(4) == 0 {
                    let kind = [EdgeKind::Normal, EdgeKind::Build, EdgeKind::Dev][rng.below(3)];
                    deps.push((to, kind));
                }
            }
        }
        let seeds: Vec<usize> = (0..rng.below(4)).map(|_| rng.below(n)).collect();
        let got: Vec<Option<u32>> = closure::affected(&edges, &seeds)
            .iter()
            .map(|r| r.map(|r| r.distance))
            .collect();
        assert_eq!(
            got,
            brute_force(&edges, &seeds),
            "case {case}: edges {edges:?} seeds {seeds:?}"
        );
    }
}

#[test]
fn closure_chains_lead_back_to_a_seed() {
    let graph = fixture();
    let seeds = [index(&graph, "base")];
    let reached = closure::affected(&edges(&graph), &seeds);
    let mut current = index(&graph, "checker");
    let mut steps = Vec::new();
    while let Some(closure::Reached {
        via: Some((from, kind)),
        ..
    }) = reached[current]
    {
        steps.push(kind);
        current = from;
    }
    assert_eq!(current, seeds[0]);
    assert_eq!(steps, [EdgeKind::Dev, EdgeKind::Normal, EdgeKind::Normal]);
}

// ---- rules ----

const LANES: &str = r#"# lanes live above
[lanes.fast]
filter = "all()"

[impact]
rules = [
  { paths = ["tools/gen/**"], packages = ["mid"] },
  { paths = ["docs/**", "*.txt"], affects = "nothing", reason = "prose" },
  { paths = ["/README.md"], affects = "all" },
]
"#;

#[test]
fn rules_parse_and_project_rules_come_before_defaults() {
    let rules = Rules::parse(Path::new("lanes.toml"), LANES).expect("valid rules");
    assert_eq!(
        rules.matching("tools/gen/x/y.rs").unwrap().affects,
        Affects::Packages(vec!["mid".into()])
    );
    assert_eq!(
        rules.matching("notes/a.txt").unwrap().affects,
        Affects::Nothing
    );
    // The project's anchored README rule wins over the shipped `*.md` default, at the root only.
    assert_eq!(rules.matching("README.md").unwrap().affects, Affects::All);
    assert_eq!(
        rules.matching("crates/mid/README.md").unwrap().affects,
        Affects::Nothing
    );
    assert!(rules.matching("src/lib.rs").is_none());
    assert_eq!(
        rules.matching("tools/gen/x.rs").unwrap().origin,
        "lanes.toml:7:3"
    );
}

#[test]
fn shipped_defaults_cover_common_non_inputs_and_environment_files() {
    let rules = Rules::defaults();
    for path in [
        "LICENSE",
        "LICENSE-MIT",
        ".gitignore",
        "docs/guide.md",
        ".github/ISSUE_TEMPLATE/bug.md",
        ".editorconfig",
    ] {
        assert_eq!(
            rules.matching(path).map(|r| &r.affects),
            Some(&Affects::Nothing),
            "{path}"
        );
    }
    for path in [
        ".config/nextest.toml",
        ".gitlab-ci.yml",
        ".circleci/config.yml",
    ] {
        assert_eq!(
            rules.matching(path).map(|r| &r.affects),
            Some(&Affects::All),
            "{path}"
        );
    }
    // GitHub Actions workflows are judged job by job before the shipped defaults apply; no
    // default says they select everything.
    assert!(
        rules
            .matching(".github/workflows/ci.yml")
            .is_none_or(|r| r.affects != Affects::All)
    );
    assert!(rules.matching("Makefile").is_none());
}

#[test]
fn toolchain_and_cargo_config_apply_only_at_the_root_or_above() {
    for path in [
        "rust-toolchain",
        "rust-toolchain.toml",
        ".cargo/config",
        ".cargo/config.toml",
        "../rust-toolchain.toml",
        "../../.cargo/config.toml",
    ] {
        assert!(
            impact::rules::applies_to_workspace(path).is_some(),
            "{path}"
        );
    }
    for path in [
        "crates/a/rust-toolchain.toml",
        "fuzz/rust-toolchain",
        "crates/a/.cargo/config.toml",
        "tools/.cargo/config",
        "../other/rust-toolchain.toml",
        "config.toml",
        "x.cargo/config.toml",
    ] {
        assert!(
            impact::rules::applies_to_workspace(path).is_none(),
            "{path}"
        );
    }
    // Nested ones are no default rule either: they are ordinary files.
    assert!(
        Rules::defaults()
            .matching("crates/a/rust-toolchain.toml")
            .is_none()
    );
}

#[test]
fn inert_actions_are_read_and_checked() {
    let rules = Rules::parse(
        Path::new("lanes.toml"),
        "[impact]\ninert-actions = [\"my-org/notify\", \"org/repo/sub\"]\n",
    )
    .unwrap();
    assert_eq!(rules.inert_actions, ["my-org/notify", "org/repo/sub"]);
    let problems = Rules::parse(
        Path::new("lanes.toml"),
        "[impact]\ninert-actions = [\"actions/checkout@v4\", \"checkout\"]\n",
    )
    .unwrap_err();
    let shown: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert!(shown[0].contains("lanes.toml:2:18"), "{shown:?}");
    assert!(
        shown[0].contains("`actions/checkout@v4` is not an action name"),
        "{shown:?}"
    );
    assert!(shown[1].contains("`checkout`"), "{shown:?}");
}

#[test]
fn recording_max_age_defaults_to_50_and_is_configurable() {
    assert_eq!(Rules::defaults().recording_max_age, 50);
    let rules = Rules::parse(Path::new("lanes.toml"), "[impact]\nrecording-max-age = 7\n").unwrap();
    assert_eq!(rules.recording_max_age, 7);
    let problems = Rules::parse(
        Path::new("lanes.toml"),
        "[impact]\nrecording-max-age = -3\n",
    )
    .unwrap_err();
    let shown: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    assert!(
        shown[0].starts_with("lanes.toml:2:21: `recording-max-age` must be at least 0, found -3"),
        "{shown:#?}"
    );
    assert_eq!(problems[0].code, Some(Code::OutOfRange));
}

/// One run reports every problem of the `[impact]` table, each with its code and position.
#[test]
fn every_rule_problem_is_reported_with_its_code() {
    let text = "[lanes.x]\n[impact]\nrecording-max-age = \"old\"\ninert-action = []\n\
                [[impact.rules]]\npaths = [\"docs/**\"]\npackage = [\"a\"]\n\
                [[impact.rules]]\naffects = \"all\"\n\
                [[impact.rules]]\npaths = [\"a/{b\"]\naffects = \"all\"\nalso = [\"x\"]\n";
    let problems = Rules::parse(Path::new("lanes.toml"), text).unwrap_err();
    let shown: Vec<String> = problems
        .iter()
        .map(|p| format!("{} {}", p.location(), p.code.map_or("-", Code::as_str)))
        .collect();
    assert_eq!(
        shown,
        [
            "lanes.toml:3:21 config::wrong-type",
            "lanes.toml:4:1 config::unknown-key",
            "lanes.toml:5:1 config::conflict",
            "lanes.toml:7:1 config::unknown-key",
            "lanes.toml:8:1 config::missing-key",
            "lanes.toml:10:1 config::conflict",
            "lanes.toml:11:10 config::invalid-value",
        ],
        "{problems:#?}"
    );
    let typo = &problems[1];
    assert!(
        typo.help
            .as_deref()
            .is_some_and(|h| h.starts_with("did you mean `inert-actions`?")),
        "{typo}"
    );
}

#[test]
fn defaults_can_be_turned_off() {
    let text = "[impact]\ndefaults = false\nrules = []\n";
    let rules = Rules::parse(Path::new("lanes.toml"), text).unwrap();
    assert!(rules.matching("LICENSE").is_none());
}

#[test]
fn every_rule_problem_is_reported_with_its_location() {
    let text = "[impact]\nrules = [\n  { paths = [\"a/[\"], packages = [\"x\"] },\n  { paths = [], affects = \"some\" },\n  { paths = [\"b/**\"] },\n]\n";
    let problems = Rules::parse(Path::new("lanes.toml"), text).unwrap_err();
    let shown: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(problems.len(), 4, "{shown:#?}");
    assert!(
        shown[0].starts_with("lanes.toml:3:14: invalid glob `a/[`"),
        "{shown:#?}"
    );
    assert!(
        shown[1].starts_with("lanes.toml:4:13: `paths` is empty"),
        "{shown:#?}"
    );
    assert!(
        shown[2].contains("`affects = \"some\"` is not understood"),
        "{shown:#?}"
    );
    assert!(
        shown[3].starts_with("lanes.toml:5:3: a rule needs exactly one of"),
        "{shown:#?}"
    );
}

#[test]
fn unknown_keys_are_located() {
    let text = "[impact]\nrules = [{ path = [\"a\"], affects = \"all\" }]\n";
    let problems = Rules::parse(Path::new("lanes.toml"), text).unwrap_err();
    // The misspelt key, and the key it should have been, are both reported.
    let shown: Vec<String> = problems
        .iter()
        .map(|p| format!("{} {}", p.location(), p.code.map_or("-", Code::as_str)))
        .collect();
    assert_eq!(
        shown,
        [
            "lanes.toml:2:10 config::missing-key",
            "lanes.toml:2:12 config::unknown-key"
        ]
    );
    assert!(problems[1].message.contains("`path`"), "{}", problems[1]);
    assert!(
        problems[1]
            .help
            .as_deref()
            .is_some_and(|h| h.starts_with("did you mean `paths`?")),
        "{}",
        problems[1]
    );
}

#[test]
fn unknown_package_names_point_at_the_name() {
    let rules = Rules::parse(Path::new("lanes.toml"), LANES).unwrap();
    let graph = fixture();
    assert!(
        rules
            .validate_packages(&|n| graph.find(n).is_some())
            .is_ok()
    );
    let text =
        "[impact]\nrules = [{ paths = [\"x/**\"], packages = [\"mid\", \"nope\", \"gone\"] }]\n";
    let rules = Rules::parse(Path::new("lanes.toml"), text).unwrap();
    let problems = rules
        .validate_packages(&|n| graph.find(n).is_some())
        .unwrap_err();
    let shown: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(shown.len(), 2);
    assert!(
        shown[0].starts_with("lanes.toml:2:49: no workspace package is named `nope`"),
        "{shown:#?}"
    );
}

#[test]
fn lanes_file_without_impact_section_uses_defaults() {
    let rules = Rules::parse(
        Path::new("lanes.toml"),
        "[lanes.fast]\nfilter = \"all()\"\n",
    )
    .unwrap();
    assert_eq!(rules.matching("LICENSE").unwrap().origin, "default rule");
}

#[test]
fn globs_match_by_segment() {
    let glob = |p: &str| Glob::new(p).unwrap();
    assert!(glob("*.md").matches("a/b/c.md"));
    assert!(glob("docs/**").matches("docs/a/b.png"));
    assert!(!glob("docs/**").matches("src/docs/a"));
    assert!(glob("crates/*/data/**").matches("crates/x/data/y/z"));
    assert!(!glob("crates/*/data/**").matches("crates/x/y/data/z"));
    assert!(glob("**/fixtures/*.json").matches("fixtures/a.json"));
    assert!(glob("a?c").matches("x/abc"));
    assert!(glob("/README.md").matches("README.md"));
    assert!(!glob("/README.md").matches("crates/a/README.md"));
    assert!(!glob("src/*.rs").matches("src/a/b.rs"));
    assert!(glob("docs/").matches("docs/a/b.md"));
    assert!(glob("/tools/").matches("tools/gen.sh") && !glob("/tools/").matches("x/tools/gen.sh"));
    // Classes and alternatives, within a segment and across them.
    assert!(glob("*.{md,txt}").matches("a/notes.txt") && !glob("*.{md,txt}").matches("a.rs"));
    assert!(
        glob("{docs,book}/**").matches("book/x.md") && !glob("{docs,book}/**").matches("a/docs/x")
    );
    assert!(glob("crates/[ab]/**").matches("crates/b/src/lib.rs"));
    assert!(!glob("crates/[ab]/**").matches("crates/c/src/lib.rs"));
    assert!(!glob("[ab]*").matches("a/x/c.rs") && glob("[ab]*").matches("x/b.rs"));
    for bad in ["", "/", "a//b", "a**", "[ab", "{a,b", "a\\b"] {
        assert!(Glob::new(bad).is_err(), "{bad:?} is rejected");
    }
}

// ---- includes ----

#[test]
fn include_scan_finds_literal_paths_only() {
    let source = r##"
        const A: &str = include_str!("../data/a.txt");
        const B: &[u8] = include_bytes!( r#"b.bin"# );
        include!("generated.rs");
        include!(concat!(env!("OUT_DIR"), "/x.rs"));
        my_include!("not/this");
        #[path = "platform/linux.rs"]
        mod platform;
        fn main() {
            println!("cargo:rerun-if-changed=assets/");
            println!("cargo::rerun-if-changed=schema.json");
            println!("cargo:rerun-if-changed={}", dynamic);
        }
    "##;
    let mut found = scan(source);
    found.sort_by(|a, b| a.1.cmp(&b.1));
    let want = vec![
        (IncludeKind::Macro, "../data/a.txt".to_string()),
        (IncludeKind::RerunIfChanged, "assets/".to_string()),
        (IncludeKind::Macro, "b.bin".to_string()),
        (IncludeKind::Macro, "generated.rs".to_string()),
        (IncludeKind::PathAttr, "platform/linux.rs".to_string()),
        (IncludeKind::RerunIfChanged, "schema.json".to_string()),
    ];
    assert_eq!(found, want);
}

#[test]
fn dep_info_inputs_unescape_spaces() {
    let text =
        "/t/debug/deps/libfoo-1a.rmeta: /w/src/lib.rs /w/my\\ data/x.txt\n\n/w/src/lib.rs:\n";
    assert_eq!(dep_info_inputs(text), ["/w/src/lib.rs", "/w/my data/x.txt"]);
}

#[test]
fn paths_join_and_relativize() {
    assert_eq!(
        normalize_join("crates/a/src", "../../b/data.txt"),
        "crates/b/data.txt"
    );
    assert_eq!(normalize_join("crates/a", "./x/./y"), "crates/a/x/y");
    assert_eq!(normalize_join("", "../outside"), "../outside");
    assert_eq!(
        relative(Path::new("/r/ws"), Path::new("/r/ws/crates/a")),
        "crates/a"
    );
    assert_eq!(
        relative(Path::new("/r/ws"), Path::new("/r/other")),
        "../other"
    );
    assert_eq!(relative(Path::new("/r/ws"), Path::new("/r/ws")), "");
}

// ---- git output and report ----

#[test]
fn name_status_parses_renames_and_odd_names() {
    let raw = b"M\0a b/c.rs\0R087\0old/x.rs\0new/x.rs\0D\0gone.rs\0A\0caf\xc3\xa9.rs\0";
    let files = parse_name_status(raw);
    assert_eq!(
        files,
        [
            ChangedFile {
                path: "a b/c.rs".into(),
                status: Status::Modified,
                old_path: None
            },
            ChangedFile {
                path: "new/x.rs".into(),
                status: Status::Renamed,
                old_path: Some("old/x.rs".into())
            },
            ChangedFile {
                path: "gone.rs".into(),
                status: Status::Deleted,
                old_path: None
            },
            ChangedFile {
                path: "café.rs".into(),
                status: Status::Added,
                old_path: None
            },
        ]
    );
}

#[test]
fn filterset_names_packages_and_binaries_explicitly() {
    let package = |name: &str, targets: Targets| AffectedPackage {
        name: name.into(),
        distance: 0,
        targets,
        tests: Default::default(),
        reasons: Vec::new(),
    };
    assert_eq!(Report::build_filterset(&[]), "none()");
    let packages = [
        package("a", Targets::All),
        package(
            "b",
            Targets::Some(vec!["b::smoke".into(), "b::bench/speed".into()]),
        ),
    ];
    assert_eq!(
        Report::build_filterset(&packages),
        "package(=a) | binary_id(=b::smoke) | binary_id(=b::bench/speed)"
    );
    let json = serde_json::to_value(&packages[1]).unwrap();
    assert_eq!(
        json["targets"],
        serde_json::json!(["b::smoke", "b::bench/speed"])
    );
    assert!(
        json.get("tests").is_none(),
        "no single tests, no field: {json}"
    );
    assert_eq!(
        serde_json::to_value(&packages[0]).unwrap()["targets"],
        "all"
    );
}

/// Single tests a recording saw read the change: `binary_id(=..) & test(=..)`, beside whole
/// binaries of the same package.
#[test]
fn filterset_names_single_tests_within_their_binary() {
    let mut package = AffectedPackage {
        name: "c".into(),
        distance: 0,
        targets: Targets::Some(vec!["c::whole".into()]),
        tests: Default::default(),
        reasons: Vec::new(),
    };
    package
        .tests
        .insert("c::one".into(), vec!["reads_fixture".into()]);
    package
        .tests
        .insert("c::two".into(), vec!["a::first".into(), "a::second".into()]);
    assert_eq!(
        Report::build_filterset(std::slice::from_ref(&package)),
        "binary_id(=c::whole) | (binary_id(=c::one) & test(=reads_fixture)) | \
         (binary_id(=c::two) & (test(=a::first) | test(=a::second)))"
    );
    let json = serde_json::to_value(&package).unwrap();
    assert_eq!(
        json["tests"]["c::two"],
        serde_json::json!(["a::first", "a::second"])
    );
}

// ---- rustc dep-info ----

#[test]
fn dep_info_hits_read_only_wanted_crates_and_workspace_files() {
    let target = tempfile::tempdir().unwrap();
    let deps = target.path().join("debug/deps");
    std::fs::create_dir_all(&deps).unwrap();
    let write = |name: &str, text: &str| std::fs::write(deps.join(name), text).unwrap();
    write(
        "mycrate-0123abcd.d",
        "/t/debug/deps/libmycrate-0123abcd.rmeta: /ws/crates/my/src/lib.rs /ws/data/blob\\ 1.bin /elsewhere/x.rs\n\n/ws/crates/my/src/lib.rs:\n",
    );
    write(
        "other-99.d",
        "/t/debug/deps/libother-99.rlib: /ws/data/blob\\ 1.bin\n",
    );
    write("mycrate-0123abcd.rmeta", "not dep-info");
    let hits = impact::includes::dep_info_hits(
        target.path(),
        Path::new("/ws"),
        &|name| name == "mycrate",
        &|path| path == "data/blob 1.bin",
    );
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(
        hits["mycrate"],
        BTreeSet::from(["data/blob 1.bin".to_string()])
    );
}

/// A real repository and a real build: a file read through a non-literal path is invisible to
/// the source scan, so without a build it selects everything; rustc's dep-info narrows it.
#[test]
fn slow_dep_info_explains_a_non_literal_include() {
    use xshell::{Shell, cmd};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let write = |rel: &str, text: &str| {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "Cargo.toml",
        "[workspace]\nresolver = \"2\"\nmembers = [\"crates/*\"]\n",
    );
    write(
        "crates/reader/Cargo.toml",
        "[package]\nname = \"reader\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write(
        "crates/reader/src/lib.rs",
        "pub const BLOB: &str = include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/../../data/blob.txt\"));\n",
    );
    write(
        "crates/bystander/Cargo.toml",
        "[package]\nname = \"bystander\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write("crates/bystander/src/lib.rs", "\n");
    write("data/blob.txt", "one\n");
    write(".gitignore", "/target\n");
    let sh = Shell::new().unwrap();
    sh.change_dir(root);
    sh.set_var("GIT_CONFIG_GLOBAL", "/dev/null");
    sh.set_var("GIT_CONFIG_NOSYSTEM", "1");
    let target = root.join("target");
    cmd!(sh, "git init -q -b main").run().unwrap();
    support::nested::isolated(
        cmd!(sh, "cargo build -q --offline"),
        xshell::Cmd::env_remove,
    )
    .env("CARGO_TARGET_DIR", &target)
    .run()
    .unwrap();
    cmd!(sh, "git add -A").run().unwrap();
    cmd!(
        sh,
        "git -c user.name=t -c user.email=t@example.invalid commit -q -m base"
    )
    .run()
    .unwrap();
    write("data/blob.txt", "two\n");

    let cache = tempfile::tempdir().unwrap();
    let mut options = impact::Options {
        manifest_path: root.join("Cargo.toml"),
        base: Some("HEAD".into()),
        cache_dir: Some(cache.path().to_path_buf()),
        ..impact::Options::default()
    };
    let without_build = impact::analyze(&options).unwrap();
    assert!(
        without_build.all,
        "no evidence explains data/blob.txt: {:?}",
        without_build.packages
    );
    assert!(
        without_build.all_reasons[0].contains("data/blob.txt"),
        "{:?}",
        without_build.all_reasons
    );

    options.target_dir = Some(target);
    let with_build = impact::analyze(&options).unwrap();
    assert!(!with_build.all, "{:?}", with_build.all_reasons);
    let names: Vec<&str> = with_build
        .packages
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(names, ["reader"]);
    assert_eq!(with_build.packages[0].reasons[0].evidence, "dep-info");
    assert!(
        with_build.stats.head_graph_cached,
        "the second decision reads the graph from the cache"
    );
}

// ---- every edge a build can have ----

/// A real workspace on disk: `signer`; `tool` depends on it only through feature `signing`
/// (`dep:` syntax); `plain` through its implicit feature; `always` unconditionally.
fn optional_dependency_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    let package = |name: &str, rest: &str| {
        format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n{rest}")
    };
    write(
        "Cargo.toml",
        "[workspace]\nresolver = \"2\"\nmembers = [\"crates/*\"]\n",
    );
    write("crates/signer/Cargo.toml", &package("signer", ""));
    write(
        "crates/tool/Cargo.toml",
        &package(
            "tool",
            "\n[dependencies]\nsigner = { path = \"../signer\", optional = true }\n\n\
             [features]\nsigning = [\"dep:signer\"]\nfull = [\"signing\"]\n",
        ),
    );
    write(
        "crates/plain/Cargo.toml",
        &package(
            "plain",
            "\n[dependencies]\nsigner = { path = \"../signer\", optional = true }\n",
        ),
    );
    write(
        "crates/always/Cargo.toml",
        &package(
            "always",
            "\n[dependencies]\nsigner = { path = \"../signer\" }\n",
        ),
    );
    for name in ["signer", "tool", "plain", "always"] {
        write(&format!("crates/{name}/src/lib.rs"), "");
    }
    dir
}

#[test]
fn optional_dependencies_are_edges_marked_with_the_features_that_enable_them() {
    let dir = optional_dependency_workspace();
    // Default features on purpose: the declared edges are there whatever the resolve enabled.
    let output = support::nested::isolate(&mut std::process::Command::new("cargo"))
        .args(["metadata", "--format-version", "1", "--offline"])
        .current_dir(dir.path())
        .env("CARGO_TARGET_DIR", dir.path().join("target"))
        .output()
        .expect("run cargo metadata");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let graph = graph_of(&String::from_utf8(output.stdout).unwrap());
    let signer = index(&graph, "signer");
    for name in ["tool", "plain", "always"] {
        assert!(
            graph.packages[index(&graph, name)]
                .deps
                .contains(&(signer, EdgeKind::Normal)),
            "{name} depends on signer"
        );
    }
    let gate = |name: &str| graph.gate(index(&graph, name), signer, EdgeKind::Normal);
    // `full` enables `signing`, which enables the dependency: only the direct one is named.
    assert_eq!(gate("tool"), Some(&["signing".to_string()][..]));
    assert_eq!(
        gate("plain"),
        Some(&["signer".to_string()][..]),
        "implicit feature"
    );
    assert_eq!(gate("always"), None);
    let reached = closure::affected(&edges(&graph), &[signer]);
    for name in ["tool", "plain", "always"] {
        assert!(
            reached[index(&graph, name)].is_some(),
            "{name} is a dependent"
        );
    }
}

// ---- rules that add ----

const ADDING: &str = r#"[impact]
rules = [
  { paths = ["crates/*/Cargo.toml", "/Cargo.toml"], also = ["checker"] },
  { paths = ["crates/mid/Cargo.toml"], also = ["top::smoke"] },
  { paths = ["crates/mid/**"], packages = ["app"] },
]
"#;

#[test]
fn adding_rules_all_apply_and_never_decide() {
    let rules = Rules::parse(Path::new("lanes.toml"), ADDING).unwrap();
    let added: Vec<&Affects> = rules
        .additions("crates/mid/Cargo.toml")
        .map(|r| &r.affects)
        .collect();
    assert_eq!(
        added,
        [
            &Affects::Also(vec!["checker".into()]),
            &Affects::Also(vec!["top::smoke".into()])
        ]
    );
    // The deciding rule is still the first deciding match, after the adding ones.
    assert_eq!(
        rules.matching("crates/mid/Cargo.toml").unwrap().affects,
        Affects::Packages(vec!["app".into()])
    );
    assert!(rules.matching("crates/top/Cargo.toml").is_none());
    assert_eq!(rules.additions("Cargo.toml").count(), 1);
    assert_eq!(rules.additions("crates/mid/src/lib.rs").count(), 0);
}

#[test]
fn rule_targets_are_packages_or_test_binaries_and_unknown_ones_are_located() {
    let rules = Rules::parse(Path::new("lanes.toml"), ADDING).unwrap();
    let known = |n: &str| matches!(n, "checker" | "app" | "top::smoke");
    assert!(rules.validate_packages(&known).is_ok());
    let problems = rules
        .validate_packages(&|n| matches!(n, "checker" | "app"))
        .unwrap_err();
    let shown: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(shown.len(), 1, "{shown:#?}");
    assert!(
        shown[0].starts_with("lanes.toml:4:48: no workspace test binary is named `top::smoke`"),
        "{shown:#?}"
    );
    let both = "[impact]\nrules = [{ paths = [\"x\"], packages = [\"a\"], also = [\"b\"] }]\n";
    let problems = Rules::parse(Path::new("lanes.toml"), both).unwrap_err();
    assert!(
        problems[0]
            .to_string()
            .contains("a rule needs exactly one of `packages`, `also` and `affects`"),
        "{}",
        problems[0]
    );
    let empty = "[impact]\nrules = [{ paths = [\"x\"], also = [] }]\n";
    let problems = Rules::parse(Path::new("lanes.toml"), empty).unwrap_err();
    assert!(
        problems[0].to_string().contains("`also` is empty"),
        "{}",
        problems[0]
    );
}

// ---- workspace membership ----

/// Effects of a `members` change when the head graph is `head` (the base is the fixture).
fn membership_effects(head: &Graph) -> (Vec<String>, Vec<String>) {
    use impact::manifest_diff::ManifestEffect;
    use impact::manifest_diff::{Sides, root_manifest};
    use std::collections::BTreeMap;
    let new_root = ROOT.replace(
        "members = [\"crates/*\"]",
        "members = [\"crates/*\"]\nexclude = [\"crates/mid\"]",
    );
    let base: BTreeMap<&str, &str> = [("Cargo.toml", ROOT)].into_iter().collect();
    let head_files: BTreeMap<&str, &str> =
        [("Cargo.toml", new_root.as_str())].into_iter().collect();
    let base_graph = fixture();
    let sides = Sides {
        head: &head_files,
        base: &base,
        workspace_dir: "",
        head_graph: head,
        base_graph: &base_graph,
    };
    let (mut packages, mut nothing) = (Vec::new(), Vec::new());
    root_manifest(&sides, "Cargo.toml", |effect| match effect {
        ManifestEffect::Package(index, reason) => {
            packages.push(format!("{}: {}", head.packages[index].name, reason.summary))
        }
        ManifestEffect::All(reason) => panic!("a membership change is not `all`: {reason}"),
        ManifestEffect::Nothing(reason) => nothing.push(reason.summary),
    });
    (packages, nothing)
}

#[test]
fn a_membership_change_selects_who_joined_and_the_dependents_of_who_left() {
    // mid left the workspace but app still depends on it by path: mid is seeded (and its
    // dependents follow in the closure).
    let mut head = fixture();
    let mid = index(&head, "mid");
    head.packages[mid].member = false;
    let (packages, nothing) = membership_effects(&head);
    assert_eq!(packages.len(), 1, "{packages:?}");
    assert!(
        packages[0].starts_with("mid: Cargo.toml [workspace.exclude] changed -> mid left the workspace but is still built"),
        "{packages:?}"
    );
    assert!(nothing.is_empty(), "{nothing:?}");

    // mid is gone from the head altogether: its tests leave the run, nothing else to build.
    let mut head = fixture();
    head.packages.retain(|p| p.name != "mid");
    let (packages, nothing) = membership_effects(&head);
    assert!(packages.is_empty(), "{packages:?}");
    assert!(
        nothing[0].contains("mid left the workspace: its tests no longer run"),
        "{nothing:?}"
    );

    // The same members on both sides: said so, nothing selected by the manifest itself.
    let (packages, nothing) = membership_effects(&fixture());
    assert!(packages.is_empty(), "{packages:?}");
    assert!(
        nothing[0].contains("the members are the same"),
        "{nothing:?}"
    );
}
