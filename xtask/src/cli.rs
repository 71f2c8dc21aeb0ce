//! The command line of `cargo xtask`, declared once as types: clap derives the parser, `--help`
//! (from these doc comments), `--version` and the usage errors (exit 2) from them, and `main`
//! matches on [`Command`]. A new command is one more variant here and one more arm there.
//!
//! Flag conventions (README.md, "Commands"): `--format human|json` chooses what is printed (JSON
//! on stdout), `--output FILE` names a file to write, `--manifest-path` names the workspace, and
//! everything after `--` goes to nextest unchanged.
//!
//! This module knows no command's module: they read their arguments from the types here.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    version,
    about = "Workspace automation: preflight, lanes, the release lane, impact analysis, \
             dependency audits, federation, nodes.",
    after_help = "Exit codes: 0 success, 1 a check failed, 2 invalid input or usage, \
                  3 the environment failed.",
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Gate 0: validate configuration and manifests, then `cargo check` the critical crates
    Preflight(PreflightArgs),
    /// List the test lanes with their effective filtersets and test counts
    Lanes(LanesArgs),
    /// Run one test lane (lanes.toml)
    Lane(LaneArgs),
    /// The canonical must-pass CI job (manifests/release-lane.toml)
    ReleaseLane(ReleaseLaneArgs),
    /// Which packages and test binaries a change can affect, and why
    Impact(ImpactArgs),
    /// Run only the tests a change can affect (`test --affected`)
    Test(TestArgs),
    /// Prove the dependency-group boundaries (deps-groups.toml), or report on each group
    Deps(DepsArgs),
    /// Fuse provider training runs into a promoted release
    Federate(FederateArgs),
    /// List or check the kernel manifest (manifests/kernel.toml)
    Kernel(KernelArgs),
    /// Install a release into a node directory, or show or set a node's state
    Ingest(IngestArgs),
    /// Publish a release that restores an earlier one
    Rollback(RollbackArgs),
    /// The chain of a release: source, tests, kernel, provenance, units, approvals, node
    AuditRelease(AuditReleaseArgs),
    /// Rerunnable measurements, printed as a table: all, impact, artifacts, history, soundness,
    /// federate (everything after `bench`, `--help` included, goes to the bench unchanged)
    #[command(disable_help_flag = true)]
    Bench(BenchArgs),
    /// What `impact record` makes nextest start instead of each test binary.
    #[command(name = "__trace-runner", hide = true, disable_help_flag = true)]
    TraceRunner(RawArgs),
}

/// `--format human|json`: what a command with machine-readable output prints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    #[default]
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct FormatArg {
    /// What to print: text for people, or one JSON document on stdout
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

impl FormatArg {
    pub fn json(&self) -> bool {
        self.format == Format::Json
    }
}

#[derive(Debug, Args)]
pub struct NoInstallArg {
    /// Fail (exit 3) with the command to run instead of installing a missing cargo-nextest
    #[arg(long)]
    pub no_install: bool,
}

#[derive(Debug, Args)]
pub struct PreflightArgs {
    #[command(flatten)]
    pub format: FormatArg,
}

#[derive(Debug, Args)]
pub struct LanesArgs {
    #[command(flatten)]
    pub format: FormatArg,
    /// Do not build and count each lane's tests
    #[arg(long)]
    pub no_count: bool,
    #[command(flatten)]
    pub install: NoInstallArg,
}

#[derive(Debug, Args)]
pub struct LaneArgs {
    /// The lane, a `[lanes.NAME]` table of lanes.toml
    pub name: String,
    /// Run one shard of the lane: M/N with 1 <= M <= N (nextest `count:M/N`)
    #[arg(long, value_name = "M/N")]
    pub partition: Option<String>,
    /// Run the tests of an archive made by `--create-archive` instead of building
    #[arg(long, value_name = "FILE")]
    pub archive_file: Option<PathBuf>,
    /// Build the lane's tests into an archive and run nothing
    #[arg(long, value_name = "FILE")]
    pub create_archive: Option<PathBuf>,
    /// A nextest filterset and-ed with the lane's own
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    #[command(flatten)]
    pub install: NoInstallArg,
    /// Arguments for `cargo nextest run`
    #[arg(last = true, value_name = "NEXTEST_ARGS")]
    pub nextest_args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ReleaseLaneArgs {
    #[command(flatten)]
    pub install: NoInstallArg,
    #[command(flatten)]
    pub format: FormatArg,
}

/// The change impact analysis looks at, and the workspace it looks in.
#[derive(Debug, Args)]
pub struct ChangeArgs {
    /// The workspace's Cargo.toml [default: the one this xtask belongs to]
    #[arg(long, value_name = "PATH/Cargo.toml")]
    pub manifest_path: Option<PathBuf>,
    /// The revision the change starts from [default: the merge base with the upstream branch]
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// The revision the change ends at [default: the working tree]
    #[arg(long, value_name = "REV")]
    pub head: Option<String>,
    /// Select everything when the analysis cannot decide, instead of failing
    #[arg(long, value_enum)]
    pub fallback: Option<Fallback>,
    /// The run-time recording to use [default: the one `impact record` writes]
    #[arg(long, value_name = "FILE")]
    pub recording: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Fallback {
    All,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ImpactFormat {
    /// Text for people
    #[default]
    Human,
    /// One JSON document on stdout
    Json,
    /// The nextest filterset that selects the affected tests
    Filterset,
    /// A Mermaid graph of the affected packages
    Mermaid,
    /// A Graphviz graph of the affected packages
    Dot,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ImpactArgs {
    #[command(subcommand)]
    pub command: Option<ImpactCommand>,
    #[command(flatten)]
    pub change: ChangeArgs,
    /// What to print
    #[arg(long, value_enum, default_value_t)]
    pub format: ImpactFormat,
    /// Who reads FILE at run time, which rules cover it, and what a change to it selects
    #[arg(long, value_name = "FILE")]
    pub explain: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ImpactCommand {
    /// Run the tests under strace and record what each test binary reads
    Record(RecordArgs),
    /// Replay recent commits with and without the recording, and count misses
    History(HistoryArgs),
}

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Record the tests of this lane (lanes.toml) [default: the whole workspace, all features]
    #[arg(long, value_name = "NAME")]
    pub lane: Option<String>,
    /// The workspace's Cargo.toml [default: the one this xtask belongs to]
    #[arg(long, value_name = "PATH/Cargo.toml")]
    pub manifest_path: Option<PathBuf>,
    /// Where to write the recording [default: the path lanes.toml's `[impact]` names]
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub install: NoInstallArg,
    /// Trace every system call, not only the traced ones (slower; for measuring the difference)
    #[arg(long)]
    pub no_seccomp_bpf: bool,
    /// Arguments for `cargo nextest run`
    #[arg(last = true, value_name = "NEXTEST_ARGS")]
    pub nextest_args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// How many commits before the head to replay
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub commits: usize,
    /// The recording to replay with [default: the one `impact record` writes]
    #[arg(long, value_name = "FILE")]
    pub recording: Option<PathBuf>,
    /// The workspace's Cargo.toml [default: the one this xtask belongs to]
    #[arg(long, value_name = "PATH/Cargo.toml")]
    pub manifest_path: Option<PathBuf>,
    #[command(flatten)]
    pub format: FormatArg,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Run the tests the change can affect (required: the only mode)
    #[arg(long, required = true)]
    pub affected: bool,
    /// Run the affected tests of this lane only, with its features and profile
    #[arg(long, value_name = "NAME")]
    pub lane: Option<String>,
    #[command(flatten)]
    pub change: ChangeArgs,
    /// Arguments for `cargo nextest run`
    #[arg(last = true, value_name = "NEXTEST_ARGS")]
    pub nextest_args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DepsArgs {
    #[command(subcommand)]
    pub command: DepsCommand,
}

#[derive(Debug, Subcommand)]
pub enum DepsCommand {
    /// Prove every member stays inside its group's boundaries under every feature set
    Audit(DepsAuditArgs),
    /// Report each group's members and external crates
    Report(DepsReportArgs),
}

/// The workspace and the group file `deps` reads.
#[derive(Debug, Args)]
pub struct DepsInput {
    /// The workspace's Cargo.toml [default: the one this xtask belongs to]
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// The group file [default: deps-groups.toml at the workspace root]
    #[arg(long, value_name = "PATH")]
    pub groups: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DepsAuditArgs {
    #[command(flatten)]
    pub input: DepsInput,
    #[command(flatten)]
    pub format: FormatArg,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    #[default]
    Markdown,
    Json,
}

#[derive(Debug, Args)]
pub struct DepsReportArgs {
    #[command(flatten)]
    pub input: DepsInput,
    /// What to print
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Repository form (no manifest flags): reads --providers and --gates, \
    chains onto the newest release in --releases and writes the next one there. Original \
    form: --hf-manifest, --gcp-manifest, --aws-manifest and --output together."
)]
pub struct FederateArgs {
    /// Provider run manifests, *.json (repository form) [default: manifests/providers]
    #[arg(long, value_name = "DIR")]
    pub providers: Option<PathBuf>,
    /// Gate policy [default: manifests/gates.toml]
    #[arg(long, value_name = "FILE")]
    pub gates: Option<PathBuf>,
    /// The release chain; the next release is written here [default: manifests/releases]
    #[arg(long, value_name = "DIR")]
    pub releases: Option<PathBuf>,
    /// The hf run manifest (original form)
    #[arg(long, value_name = "FILE")]
    pub hf_manifest: Option<PathBuf>,
    /// The gcp run manifest (original form)
    #[arg(long, value_name = "FILE")]
    pub gcp_manifest: Option<PathBuf>,
    /// The aws run manifest (original form)
    #[arg(long, value_name = "FILE")]
    pub aws_manifest: Option<PathBuf>,
    /// Where the original form writes the release
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Minimum quality score (overrides the gate policy)
    #[arg(long, value_name = "X", allow_negative_numbers = true, value_parser = threshold::<0>)]
    pub min_quality: Option<f64>,
    /// Minimum safety score (overrides the gate policy)
    #[arg(long, value_name = "X", allow_negative_numbers = true, value_parser = threshold::<1>)]
    pub min_safety: Option<f64>,
    /// Maximum p95 latency in milliseconds (overrides the gate policy)
    #[arg(long, value_name = "X", allow_negative_numbers = true, value_parser = threshold::<2>)]
    pub max_latency_ms_p95: Option<f64>,
    /// Maximum cost per 1k tokens (overrides the gate policy)
    #[arg(long, value_name = "X", allow_negative_numbers = true, value_parser = threshold::<3>)]
    pub max_cost_per_1k_tokens: Option<f64>,
    /// Local artifact copies: SCHEME://REST is read at DIR/SCHEME/REST
    #[arg(long, value_name = "DIR")]
    pub artifacts: Option<PathBuf>,
    /// A provider failing its gates keeps its unit from the previous release
    #[arg(long)]
    pub carry_forward: bool,
    /// Evaluate and report, write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Verify the release chain and exit
    #[arg(long)]
    pub verify_chain: bool,
    #[command(flatten)]
    pub format: FormatArg,
}

impl FederateArgs {
    /// The threshold flags, in the order of `release::gates::Thresholds`' fields.
    pub fn overrides(&self) -> [Option<f64>; 4] {
        [
            self.min_quality,
            self.min_safety,
            self.max_latency_ms_p95,
            self.max_cost_per_1k_tokens,
        ]
    }
}

/// The gate threshold at `SLOT` of [`FederateArgs::overrides`], in the range gates.toml allows.
fn threshold<const SLOT: usize>(text: &str) -> Result<f64, String> {
    const NAMES: [&str; 4] = [
        "min_quality",
        "min_safety",
        "max_latency_ms_p95",
        "max_cost_per_1k_tokens",
    ];
    let value: f64 = text.parse().map_err(|e| format!("{e}"))?;
    release::gates::check_threshold(NAMES[SLOT], value)
        .map_err(|message| format!("{message} (the range gates.toml allows)"))?;
    Ok(value)
}

#[derive(Debug, Args)]
pub struct KernelArgs {
    /// Only check that every listed file exists (exit 1 naming each missing one)
    #[arg(long)]
    pub check: bool,
    /// The kernel manifest; its paths are relative to the workspace root
    /// [default: manifests/kernel.toml]
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    #[command(flatten)]
    pub format: FormatArg,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Verifies, in order: manifest digest, signature (when required or \
    given), release_seq above the installed one, expiry, unit policy and mix-and-match, then \
    each unit's artifact under --artifacts. Installs atomically under the node's lock. The \
    node's policy (DIR/policy.json) is written by its first install and only added to later; \
    --set-policy replaces it. Statements (in-toto, DSSE envelopes) are checked against \
    --trusted-keys too; --require-provenance and --require-tests make them mandatory (README.md, \
    \"Provenance\"). --trusted-keys needs xtask built with the `signing` feature: \
    cargo run -p xtask --features signing -- ingest ..."
)]
pub struct IngestArgs {
    /// The release manifest to install
    #[arg(long, value_name = "FILE")]
    pub release: Option<PathBuf>,
    /// The node's directory
    #[arg(long, value_name = "DIR")]
    pub node_dir: PathBuf,
    /// Local artifact copies: SCHEME://REST is looked up at DIR/SCHEME/REST
    #[arg(long, value_name = "DIR")]
    pub artifacts: Option<PathBuf>,
    /// The release's signature envelope (DSSE)
    #[arg(long, value_name = "FILE")]
    pub signature: Option<PathBuf>,
    /// A statement envelope signed by a `builder` key (`governance attest`): the release's
    /// provenance, or the PASSED test result of its source commit (repeatable)
    #[arg(long = "statement", value_name = "FILE")]
    pub statements: Vec<PathBuf>,
    /// Trust file of the keys that may sign releases (needs the `signing` feature)
    #[arg(long, value_name = "FILE")]
    pub trusted_keys: Option<PathBuf>,
    /// Refuse a release without a valid signature (added to the node's policy)
    #[arg(long)]
    pub require_signature: bool,
    /// Refuse a release whose artifacts are not all present and intact (added to the policy)
    #[arg(long)]
    pub require_artifacts: bool,
    /// Refuse a release without a valid signed provenance statement (added to the policy)
    #[arg(long)]
    pub require_provenance: bool,
    /// Refuse a release without a signed PASSED test result of its source commit (added to the
    /// policy)
    #[arg(long)]
    pub require_tests: bool,
    /// Accept a release that replaces units of the installed one
    #[arg(long)]
    pub allow_replaced_units: bool,
    /// Artifacts verified in parallel (0: one per core)
    #[arg(long, short = 'j', value_name = "N", default_value_t = 0)]
    pub jobs: usize,
    /// Show the node's installed release and policy instead of installing
    #[arg(long)]
    pub status: bool,
    /// Replace the node's policy with exactly the --require-* flags given
    #[arg(long)]
    pub set_policy: bool,
    #[command(flatten)]
    pub format: FormatArg,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Writes DIR/release-NNNNNN.json: a new release with the next \
    release_seq, chained to the latest, restoring the units of the release given by --to \
    (default: the last stable release before the latest, skipping releases an earlier rollback \
    undid); rollback_of names that release."
)]
pub struct RollbackArgs {
    /// The release chain [default: manifests/releases]
    #[arg(long, value_name = "DIR")]
    pub releases_dir: Option<PathBuf>,
    /// The release to restore, by digest or release_seq
    #[arg(long, value_name = "DIGEST|SEQ")]
    pub to: Option<String>,
    /// Days until the rollback release expires [default: gates.toml's expires_after_days]
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = expires_in_days)]
    pub expires_in_days: Option<u32>,
    /// Show the release that would be written, write nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub format: FormatArg,
}

#[derive(Debug, Args)]
#[command(
    group(clap::ArgGroup::new("subject").args(["release", "node_dir"]).required(true)),
    after_help = "Prints the chain of a release: source commit -> release lane passed (N tests) \
    -> kernel digest -> provenance -> per-unit training inputs and gate verdicts -> approvals -> \
    installed on a node. With --release, statements are the --statement files (DSSE envelopes \
    signed by a builder, or bare statements), or else the provenance next to the release \
    (release-NNNNNN.provenance.dsse.json, then release-NNNNNN.provenance.json); signatures are \
    checked against --trusted-keys (xtask built with `--features signing`). With --node-dir, the \
    node's current release and what its history recorded at install. Exit 1 names each broken \
    link."
)]
pub struct AuditReleaseArgs {
    /// The release manifest to audit
    #[arg(long, value_name = "FILE")]
    pub release: Option<PathBuf>,
    /// Audit the release installed in this node directory, with what its history recorded
    #[arg(long, value_name = "DIR", conflicts_with_all = ["statements", "signature", "trusted_keys"])]
    pub node_dir: Option<PathBuf>,
    /// A statement: a DSSE envelope signed by a builder, or a bare statement (repeatable)
    /// [default: the provenance next to the release]
    #[arg(long = "statement", value_name = "FILE")]
    pub statements: Vec<PathBuf>,
    /// The release's signature envelope (DSSE), whose approvals are checked
    #[arg(long, value_name = "FILE")]
    pub signature: Option<PathBuf>,
    /// Trust file of the keys signatures are checked against (needs the `signing` feature)
    #[arg(long, value_name = "FILE")]
    pub trusted_keys: Option<PathBuf>,
    #[command(flatten)]
    pub format: FormatArg,
}

fn expires_in_days(text: &str) -> Result<u32, String> {
    let days: i64 = text.parse().map_err(|e| format!("{e}"))?;
    release::gates::check_expires_after_days(days)
        .map_err(|message| format!("{message} (the range gates.toml's expires_after_days allows)"))
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The measurement (all, impact, artifacts, history, soundness, federate) and its arguments
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "WHAT [ARGS]"
    )]
    pub args: Vec<OsString>,
}

/// Arguments passed on unchanged.
#[derive(Debug, Args)]
pub struct RawArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<OsString>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every command and subcommand people run, as its words after `cargo xtask`, with its
    /// definition (`support::cli::commands`: the bench, which has its own `--help`, is left out).
    fn commands() -> Vec<(Vec<String>, clap::Command)> {
        support::cli::commands(&Cli::command())
    }

    fn parse(words: &[&str]) -> Command {
        Cli::try_parse_from(std::iter::once("cargo xtask").chain(words.iter().copied()))
            .unwrap_or_else(|e| panic!("{words:?}: {e}"))
            .command
    }

    #[test]
    fn what_ci_and_the_readme_type_parses_and_passes_the_rest_on_unchanged() {
        let Command::Impact(ImpactArgs {
            command: Some(ImpactCommand::Record(record)),
            ..
        }) = parse(&["impact", "record", "--", "--all-features"])
        else {
            panic!("not impact record")
        };
        assert_eq!(record.nextest_args, ["--all-features"]);

        let Command::Lane(lane) = parse(&[
            "lane",
            "fast",
            "--filter",
            "test(/ingest/)",
            "--",
            "--no-capture",
            "-E",
            "all()",
        ]) else {
            panic!("not lane")
        };
        assert_eq!(lane.name, "fast");
        assert_eq!(lane.filter.as_deref(), Some("test(/ingest/)"));
        // Passed on as typed: `lanes::run` refuses `-E` there with a pointer to --filter.
        assert_eq!(lane.nextest_args, ["--no-capture", "-E", "all()"]);

        let Command::Test(test) = parse(&["test", "--affected", "--base", "origin/main"]) else {
            panic!("not test")
        };
        assert_eq!(test.change.base.as_deref(), Some("origin/main"));

        // The bench and the trace runner get every word after their name, flags included.
        let Command::Bench(bench) = parse(&["bench", "all", "--quick", "--output", "out.json"])
        else {
            panic!("not bench")
        };
        assert_eq!(bench.args, ["all", "--quick", "--output", "out.json"]);
        // `cargo xtask bench --help` is the bench's own help, with its measurements and flags.
        let Command::Bench(bench) = parse(&["bench", "--help"]) else {
            panic!("not bench")
        };
        assert_eq!(bench.args, ["--help"]);
        let Command::TraceRunner(runner) = parse(&[
            "__trace-runner",
            "/t/alpha-1",
            "--exact",
            "tests::a",
            "--nocapture",
            "--help",
        ]) else {
            panic!("not the trace runner")
        };
        assert_eq!(
            runner.args,
            ["/t/alpha-1", "--exact", "tests::a", "--nocapture", "--help"]
        );

        // A negative threshold reaches the range check instead of looking like a flag.
        let err = Cli::try_parse_from(["cargo xtask", "federate", "--max-latency-ms-p95", "-1"])
            .unwrap_err();
        assert!(
            err.to_string().contains("max_latency_ms_p95 must be"),
            "{err}"
        );
    }

    #[test]
    fn tidy_every_flag_of_every_command_is_in_its_help() {
        let checked = support::cli::check_help(&Cli::command()).unwrap_or_else(|e| panic!("{e}"));
        assert!(checked >= 15, "{checked} commands");
    }

    #[test]
    fn tidy_the_readme_lists_every_flag_of_every_command() {
        let readme = crate::project_root().join("README.md");
        let reference = support::cli::reference(&Cli::command());
        support::cli::check_readme_block(&readme, "xtask/src/cli.rs", &reference)
            .unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn the_reference_writes_every_argument_as_a_synopsis_does() {
        // Every flag is in it (so the README check above covers every flag), optional ones in
        // brackets, value choices spelled out, nextest's arguments after `--`.
        let reference = support::cli::reference(&Cli::command());
        for (path, command) in commands() {
            for arg in support::cli::documented(&command) {
                if let Some(long) = arg.get_long() {
                    assert!(
                        reference.contains(&format!("--{long}")),
                        "{path:?} --{long}"
                    );
                }
            }
        }
        assert!(
            reference.contains("cargo xtask lane NAME [--partition M/N]"),
            "{reference}"
        );
        assert!(
            reference.contains("cargo xtask deps report [--manifest-path PATH]"),
            "{reference}"
        );
        assert!(!reference.contains("cargo xtask deps ["), "{reference}");
        assert!(
            reference.contains("[--format human|json|filterset|mermaid|dot]"),
            "{reference}"
        );
        assert!(reference.contains("[-- NEXTEST_ARGS...]"), "{reference}");
        assert!(
            reference.contains(
                "cargo xtask audit-release [--release FILE] [--node-dir DIR] [--statement FILE]..."
            ),
            "{reference}"
        );
    }
}
