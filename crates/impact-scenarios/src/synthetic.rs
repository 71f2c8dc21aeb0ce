//! A synthetic Cargo workspace for measuring impact analysis: N crates in a seeded random DAG
//! with normal, dev and build edges, realistic files (manifests with path dependencies, `lib.rs`,
//! some `tests/`, build scripts where there are build dependencies), a `Cargo.lock` written in
//! Cargo's own format, all committed in a git repository, then one small change committed on top.
//!
//! Files are written directly (no `cargo new`, no resolver run), so 10000 crates take seconds.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use xshell::{Shell, cmd};

/// splitmix64: tiny, seedable and good enough to shape a graph; no dependency needed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound` (`bound > 0`).
    pub fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound as u64) as usize
    }

    /// True with probability `percent / 100`.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

/// One crate of the synthetic graph. Edges point to crates with a smaller index, so normal and
/// build edges form a DAG (Cargo rejects cycles through them).
#[derive(Debug, Default, Clone)]
pub struct SyntheticCrate {
    pub normal: BTreeSet<usize>,
    pub dev: BTreeSet<usize>,
    pub build: BTreeSet<usize>,
    pub has_tests: bool,
}

/// The graph alone, without files: also what a reference closure is computed from.
pub fn graph(crates: usize, seed: u64) -> Vec<SyntheticCrate> {
    let mut rng = Rng::new(seed);
    let mut graph = Vec::with_capacity(crates);
    for index in 0..crates {
        let mut krate = SyntheticCrate {
            has_tests: rng.chance(40),
            ..SyntheticCrate::default()
        };
        if index > 0 {
            // Mostly near neighbours (layers of a real workspace), sometimes anything below.
            for _ in 0..rng.below(4) {
                let target = if rng.chance(70) {
                    index - 1 - rng.below(index.min(20))
                } else {
                    rng.below(index)
                };
                krate.normal.insert(target);
            }
            if rng.chance(25) {
                krate.dev.insert(rng.below(index));
            }
            if rng.chance(5) {
                krate.build.insert(rng.below(index));
            }
        }
        graph.push(krate);
    }
    graph
}

pub fn crate_name(index: usize) -> String {
    format!("syn{index:05}")
}

/// A generated workspace: a git repository with a base commit and a head commit.
pub struct SyntheticWorkspace {
    pub root: PathBuf,
    pub manifest: PathBuf,
    pub base: String,
    pub head: String,
    /// Index of the crate whose `lib.rs` the head commit edits.
    pub changed: usize,
    pub graph: Vec<SyntheticCrate>,
}

/// Writes the workspace into `root` (which must be empty or absent), commits it, then commits an
/// edit to the `lib.rs` of crate number `changed`.
pub fn generate(
    root: &Path,
    crates: usize,
    seed: u64,
    changed: usize,
) -> io::Result<SyntheticWorkspace> {
    assert!(
        changed < crates,
        "the changed crate is one of the workspace's"
    );
    let graph = graph(crates, seed);
    std::fs::create_dir_all(root)?;
    write(
        root,
        "Cargo.toml",
        "[workspace]\nresolver = \"2\"\nmembers = [\"crates/*\"]\n\n\
         [workspace.package]\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )?;
    write(root, ".gitignore", "/target\n")?;
    write(root, "README.md", "# Synthetic workspace\n")?;
    for (index, krate) in graph.iter().enumerate() {
        write_crate(root, index, krate)?;
    }
    write(root, "Cargo.lock", &lockfile(&graph))?;

    let sh = Shell::new().map_err(io::Error::other)?;
    sh.change_dir(root);
    sh.set_var("GIT_CONFIG_GLOBAL", "/dev/null");
    sh.set_var("GIT_CONFIG_NOSYSTEM", "1");
    let git = |args: &[&str]| -> io::Result<String> {
        cmd!(
            sh,
            "git -c user.name=bench -c user.email=bench@example.invalid {args...}"
        )
        .quiet()
        .read()
        .map_err(io::Error::other)
    };
    git(&["init", "-q", "-b", "main"])?;
    git(&["add", "-A"])?;
    git(&["commit", "-q", "-m", "synthetic base"])?;
    let base = git(&["rev-parse", "HEAD"])?;

    let lib = root
        .join("crates")
        .join(crate_name(changed))
        .join("src/lib.rs");
    let mut text = std::fs::read_to_string(&lib)?;
    text.push_str("\npub fn changed_in_head() -> u64 { 1 }\n");
    std::fs::write(&lib, text)?;
    git(&["commit", "-q", "-am", "edit one crate"])?;
    let head = git(&["rev-parse", "HEAD"])?;

    Ok(SyntheticWorkspace {
        root: root.to_path_buf(),
        manifest: root.join("Cargo.toml"),
        base,
        head,
        changed,
        graph,
    })
}

fn write(root: &Path, rel: &str, contents: &str) -> io::Result<()> {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, contents)
}

fn dependency_table(header: &str, deps: &BTreeSet<usize>) -> String {
    if deps.is_empty() {
        return String::new();
    }
    let mut table = format!("\n[{header}]\n");
    for &dep in deps {
        let name = crate_name(dep);
        let _ = writeln!(table, "{name} = {{ path = \"../{name}\" }}");
    }
    table
}

fn write_crate(root: &Path, index: usize, krate: &SyntheticCrate) -> io::Result<()> {
    let name = crate_name(index);
    let dir = format!("crates/{name}");
    let mut manifest = format!(
        "[package]\nname = \"{name}\"\nversion.workspace = true\nedition.workspace = true\n\
         publish = false\n"
    );
    manifest.push_str(&dependency_table("dependencies", &krate.normal));
    manifest.push_str(&dependency_table("dev-dependencies", &krate.dev));
    manifest.push_str(&dependency_table("build-dependencies", &krate.build));
    write(root, &format!("{dir}/Cargo.toml"), &manifest)?;

    let mut lib = format!("//! Synthetic crate {index}.\n\npub fn value() -> u64 {{\n    {index}");
    for &dep in &krate.normal {
        let _ = write!(lib, " + {}::value()", crate_name(dep));
    }
    lib.push_str("\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn value_is_stable() {\n        assert_eq!(super::value(), super::value());\n    }\n}\n");
    write(root, &format!("{dir}/src/lib.rs"), &lib)?;

    if krate.has_tests {
        let mut test = String::from("#[test]\nfn integrates() {\n");
        let _ = writeln!(test, "    assert!({name}::value() >= {index});");
        for &dep in &krate.dev {
            let _ = writeln!(test, "    let _ = {}::value();", crate_name(dep));
        }
        test.push_str("}\n");
        write(root, &format!("{dir}/tests/integration.rs"), &test)?;
    }
    if !krate.build.is_empty() {
        let mut build =
            String::from("fn main() {\n    println!(\"cargo:rerun-if-changed=build.rs\");\n");
        for &dep in &krate.build {
            let _ = writeln!(build, "    let _ = {}::value();", crate_name(dep));
        }
        build.push_str("}\n");
        write(root, &format!("{dir}/build.rs"), &build)?;
    }
    Ok(())
}

/// `Cargo.lock` exactly as Cargo writes it for a path-only workspace (version 4): packages
/// sorted by name, each with its sorted, deduplicated dependencies of every kind.
pub fn lockfile(graph: &[SyntheticCrate]) -> String {
    let mut lock = String::from(
        "# This file is automatically @generated by Cargo.\n\
         # It is not intended for manual editing.\nversion = 4\n",
    );
    // Zero-padded names sort like their indices.
    for (index, krate) in graph.iter().enumerate() {
        let _ = write!(
            lock,
            "\n[[package]]\nname = \"{}\"\nversion = \"0.1.0\"\n",
            crate_name(index)
        );
        let deps: BTreeSet<usize> = krate
            .normal
            .iter()
            .chain(&krate.dev)
            .chain(&krate.build)
            .copied()
            .collect();
        if !deps.is_empty() {
            lock.push_str("dependencies = [\n");
            for dep in deps {
                let _ = writeln!(lock, " \"{}\",", crate_name(dep));
            }
            lock.push_str("]\n");
        }
    }
    lock
}

/// Reference closure by brute force (the closure rule of README.md, "Impact analysis"): every
/// crate that reaches `changed` through normal or build edges, then one hop of dev-dependents
/// of that set.
pub fn reference_closure(graph: &[SyntheticCrate], changed: usize) -> BTreeSet<usize> {
    let mut affected = BTreeSet::from([changed]);
    loop {
        let before = affected.len();
        for (index, krate) in graph.iter().enumerate() {
            if krate
                .normal
                .iter()
                .chain(&krate.build)
                .any(|d| affected.contains(d))
            {
                affected.insert(index);
            }
        }
        if affected.len() == before {
            break;
        }
    }
    let dev_dependents: Vec<usize> = graph
        .iter()
        .enumerate()
        .filter(|(_, krate)| krate.dev.iter().any(|d| affected.contains(d)))
        .map(|(index, _)| index)
        .collect();
    affected.extend(dev_dependents);
    affected
}

/// The crate a benchmark edits: among 64 evenly spaced candidates, the one whose reverse
/// closure is closest to 5% of the workspace, a typical mid-level library edit. (The random
/// graph alone gives closures from 1 crate to a quarter of the workspace depending on where the
/// edit lands, which would make sizes incomparable.)
pub fn typical_change(graph: &[SyntheticCrate]) -> usize {
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); graph.len()];
    for (index, krate) in graph.iter().enumerate() {
        for &dep in krate.normal.iter().chain(&krate.build) {
            dependents[dep].push(index);
        }
    }
    let closure_size = |start: usize| {
        let mut seen = vec![false; graph.len()];
        let mut stack = vec![start];
        seen[start] = true;
        let mut count = 0usize;
        while let Some(next) = stack.pop() {
            count += 1;
            for &up in &dependents[next] {
                if !seen[up] {
                    seen[up] = true;
                    stack.push(up);
                }
            }
        }
        count
    };
    let goal = (graph.len() / 20).max(1);
    let stride = (graph.len() / 64).max(1);
    (0..graph.len())
        .step_by(stride)
        .min_by_key(|&candidate| closure_size(candidate).abs_diff(goal))
        .unwrap_or(0)
}
