//! The bench's command line, declared once as types, as xtask's is (`xtask/src/cli.rs`): clap
//! derives the parser, `--help` (from these doc comments), `--version` and the usage errors
//! (exit 2), and `main` matches on [`Command`]. `cargo xtask bench ARGS` passes ARGS here
//! unchanged, so `cargo xtask bench --help` is this help.
//!
//! Flag conventions (README.md, "Commands"): `--format human|json` chooses what is printed,
//! `--output FILE` names the report file to write, `--dir DIR` where scratch files go.
//!
//! This module knows no measurement's module: they read their arguments from the types here
//! and decide defaults that depend on each other (`--quick`) themselves.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask bench",
    bin_name = "cargo xtask bench",
    version,
    about = "Rerunnable measurements of the product against its anchors, printed as a table.",
    after_help = "The benches that time xtask run the binary `$XTASK_BIN` names (built with \
                  profile `$XTASK_PROFILE`); `cargo xtask bench` sets both. Exit codes: 0 \
                  success, 1 a check failed, 2 invalid input or usage, 3 the environment failed.",
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The product against its anchors, side by side, in one run and one table
    All(AllArgs),
    /// Impact analysis cold and warm, with peak memory, on synthetic workspaces
    Impact(ImpactArgs),
    /// Artifact hashing throughput against sha256sum on the same files
    Artifacts(ArtifactsArgs),
    /// Replay a repository's history: our selection beside the determinator, rdeps() and a
    /// lower bound
    History(HistoryArgs),
    /// Mutate this repository and check that every broken test is selected
    Soundness(SoundnessArgs),
    /// Federation on the largest provider manifest accepted and on one over the limit
    Federate,
    /// `cargo xtask lanes` right after the full test command's build, in a clone: first,
    /// unchanged, after an edit outside and one inside the default-feature lanes' packages
    Lanes(LanesArgs),
}

/// A section of `bench all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Section {
    Scenarios,
    History,
    Speed,
    Artifacts,
    Preflight,
    Build,
}

#[derive(Debug, Args)]
pub struct AllArgs {
    /// Small sizes, 10 commits and no preflight section (for trying it out and for tests)
    #[arg(long)]
    pub quick: bool,
    /// Write the report (`bench-all/v1`) to FILE
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Measure only these sections, separated by commas [default: all of them]
    #[arg(long, value_enum, value_delimiter = ',', value_name = "SECTIONS")]
    pub only: Vec<Section>,
    /// Commits of this repository the history section replays [default: 50, 10 with --quick]
    #[arg(long, value_name = "N")]
    pub commits: Option<usize>,
    /// Synthetic workspace sizes for the speed section, in crates, separated by commas
    /// [default: 50,500,2000,10000; 50,500 with --quick]
    #[arg(long, value_name = "N,..", value_delimiter = ',', value_parser = positive)]
    pub sizes: Vec<usize>,
    /// The determinator's time limit per synthetic size; a run stopped there is a lower bound
    #[arg(long, value_name = "SECS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..))]
    pub anchor_limit: u64,
    /// Where scratch workspaces go [default: /dev/shm when it exists, else the temp dir]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ImpactArgs {
    /// Synthetic workspace sizes, in crates, separated by commas
    #[arg(long, value_name = "N,..", value_delimiter = ',', value_parser = positive,
          default_values_t = [50, 500, 2000, 10000])]
    pub sizes: Vec<usize>,
    /// Seed of the synthetic dependency graphs
    #[arg(long, value_name = "N", default_value_t = 42)]
    pub seed: u64,
    /// Warm runs per size; the median is reported
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    pub warm_runs: u64,
    /// Where scratch workspaces go [default: /dev/shm when it exists, else the temp dir]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Add a row for this repository's last commit, against a fresh target directory
    #[arg(long)]
    pub this_workspace: bool,
    /// Write the report (`bench-impact/v1`) to FILE
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `--format human|json`: what a bench prints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    #[default]
    Human,
    Json,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Needs `sha256sum` (coreutils) on PATH. Build optimized for meaningful \
                        figures: cargo run --release -p xtask -- bench artifacts"
)]
pub struct ArtifactsArgs {
    /// Size of the single large file, MiB
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..))]
    pub size_mib: u64,
    /// Files for the parallel case
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = positive)]
    pub files: usize,
    /// Size of each of those files, MiB
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..))]
    pub file_size_mib: u64,
    /// Hashing threads for the parallel case (0: one per core)
    #[arg(long, short = 'j', value_name = "N", default_value_t = 0)]
    pub jobs: usize,
    /// Runs per case; the fastest is reported
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = positive)]
    pub runs: usize,
    /// Scratch directory, removed afterwards [default: the temp dir]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// What to print: a table for people, or one JSON document (`bench-artifacts/v1`) on stdout
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The git repository whose first-parent history is replayed (never modified)
    #[arg(long, value_name = "PATH")]
    pub repo: PathBuf,
    /// How many commits before the head to replay
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub commits: usize,
    /// Replay a second time with this run-time recording (`impact record`)
    #[arg(long, value_name = "FILE")]
    pub recording: Option<PathBuf>,
    /// Write the report (`bench-history/v1`) to FILE, after every commit
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Take the anchors' answers for the same commits from an earlier run's report
    #[arg(long, value_name = "FILE")]
    pub reuse: Option<PathBuf>,
    /// The workspace manifest, relative to the repository root
    #[arg(long, value_name = "REL/Cargo.toml", default_value = "Cargo.toml")]
    pub manifest: String,
    /// The anchors' time limit per commit
    #[arg(long, value_name = "SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    pub anchor_limit: u64,
    /// Where the scratch clone goes [default: the temp dir]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SoundnessArgs {
    /// Also select with this run-time recording (`impact record`)
    #[arg(long, value_name = "FILE")]
    pub recording: Option<PathBuf>,
    /// Apply only these mutations, separated by commas [default: all of them]
    #[arg(long, value_name = "NAME,..", value_delimiter = ',')]
    pub only: Vec<String>,
    /// Where the mutated clone goes [default: TEMP/impact-soundness]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The clone's target directory [default: one inside --dir]
    #[arg(long, value_name = "DIR")]
    pub target_dir: Option<PathBuf>,
    /// Write the report (`bench-soundness/v1`) to FILE, after every mutation
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Only check that every mutation still applies to this checkout, and print the files
    /// they edit, one per line; nothing is cloned, built or run
    #[arg(long, conflicts_with_all = ["recording", "only", "dir", "target_dir", "output"])]
    pub check_table: bool,
}

#[derive(Debug, Args)]
pub struct LanesArgs {
    /// Where the clone goes [default: TEMP/lanes-bench]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The clone's target directory [default: one inside --dir]
    #[arg(long, value_name = "DIR")]
    pub target_dir: Option<PathBuf>,
}

/// A count of at least one.
fn positive(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(words: &[&str]) -> Command {
        Cli::try_parse_from(std::iter::once("cargo xtask bench").chain(words.iter().copied()))
            .unwrap_or_else(|e| panic!("{words:?}: {e}"))
            .command
    }

    fn usage_error(words: &[&str]) -> String {
        let err =
            Cli::try_parse_from(std::iter::once("cargo xtask bench").chain(words.iter().copied()))
                .expect_err("a usage error");
        assert_eq!(err.exit_code(), 2, "{words:?}: {err}");
        err.render().to_string()
    }

    #[test]
    fn lists_are_comma_separated_and_checked() {
        let Command::All(all) =
            parse(&["all", "--only", "scenarios,history", "--sizes", "50, 500"])
        else {
            panic!("not all")
        };
        assert_eq!(all.only, [Section::Scenarios, Section::History]);
        assert_eq!(all.sizes, [50, 500]);
        assert_eq!(all.anchor_limit, 600);
        let Command::Impact(impact) = parse(&["impact"]) else {
            panic!("not impact")
        };
        assert_eq!(impact.sizes, [50, 500, 2000, 10000]);
        let err = usage_error(&["all", "--only", "scenarios,nonsense"]);
        assert!(err.contains("nonsense") && err.contains("speed"), "{err}");
        let err = usage_error(&["impact", "--sizes", "50,0"]);
        assert!(err.contains("must be at least 1"), "{err}");
        let err = usage_error(&["artifacts", "--runs", "0"]);
        assert!(err.contains("--runs"), "{err}");
    }

    #[test]
    fn history_needs_a_repository_and_a_report_file_is_output() {
        let err = usage_error(&["history"]);
        assert!(err.contains("--repo <PATH>"), "{err}");
        assert!(err.contains("Usage: cargo xtask bench history"), "{err}");
        for what in ["all", "impact", "history", "soundness"] {
            let err = usage_error(&[what, "--json", "report.json"]);
            assert!(err.contains("'--json'"), "{what}: {err}");
        }
    }

    #[test]
    fn tidy_every_flag_of_every_bench_is_in_its_help() {
        let checked = support::cli::check_help(&Cli::command()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(checked, 8, "the bench and its seven measurements");
    }

    #[test]
    fn tidy_the_readme_lists_every_flag_of_every_bench() {
        let readme = crate::project_root().join("README.md");
        let reference = support::cli::reference(&Cli::command());
        support::cli::check_readme_block(&readme, "crates/bench/src/cli.rs", &reference)
            .unwrap_or_else(|e| panic!("{e}"));
    }
}
