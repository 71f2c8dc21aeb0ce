//! `cargo xtask impact`, `impact record`, `impact history` and `cargo xtask test --affected`:
//! thin front ends over the `impact` library, which holds every decision, runs the tracer and
//! replays history.

use std::ffi::OsString;
use std::path::PathBuf;

use impact::{Options, Report};
use lanes_config::nextest;
use support::{Exit, Failure};

use crate::cli::{
    ChangeArgs, Fallback, HistoryArgs, ImpactArgs, ImpactFormat, RecordArgs, TestArgs,
};
use crate::output;

/// The change and workspace both commands analyze.
struct Common<'a>(&'a ChangeArgs);

impl Common<'_> {
    /// `--manifest-path`, else the project root's Cargo.toml.
    fn manifest(&self) -> PathBuf {
        self.0
            .manifest_path
            .clone()
            .unwrap_or_else(|| crate::project_root().join("Cargo.toml"))
    }

    fn options(&self) -> Options {
        let mut options = Options::for_manifest(self.manifest());
        options.base = self.0.base.clone();
        options.head = self.0.head.clone();
        options.fallback_all = self.0.fallback == Some(Fallback::All);
        if let Some(path) = &self.0.recording {
            options.recording = Some(path.clone());
            options.recording_explicit = true;
        }
        options
    }

    fn analyze(&self) -> Result<Report, Failure> {
        self.analyze_with(self.options())
    }

    fn analyze_with(&self, options: Options) -> Result<Report, Failure> {
        let report = impact::analyze(&options)?;
        for warning in &report.warnings {
            eprintln!("warning: {warning}");
        }
        // A profile of the decision for whoever is tuning it.
        if std::env::var_os("IMPACT_TIMINGS").is_some() {
            for (phase, took) in &report.stats.phases {
                eprintln!(
                    "impact timing: {phase}: {:.1} ms",
                    took.as_secs_f64() * 1000.0
                );
            }
        }
        Ok(report)
    }
}

pub fn run(args: &ImpactArgs) -> Result<Exit, Failure> {
    let common = Common(&args.change);
    let format = args.format;
    if let Some(file) = &args.explain {
        return explain_file(&common, file, format);
    }
    let report = common.analyze()?;
    let text = match format {
        ImpactFormat::Human => impact::render::human(&report),
        ImpactFormat::Json => {
            let json = serde_json::to_string_pretty(&impact::render::json(&report))
                .map_err(|e| Failure::environment(e.to_string()))?;
            format!("{json}\n")
        }
        ImpactFormat::Filterset => format!("{}\n", report.filterset),
        ImpactFormat::Mermaid => impact::render::mermaid(&report),
        ImpactFormat::Dot => impact::render::dot(&report),
    };
    // A closed pipe (`| head`) is not an error worth a panic.
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    summarize(&report);
    Ok(Exit::Success)
}

/// `impact --explain FILE`: who reads the file at run time, which rules and includes cover
/// it, and what a change to it would select (the analysis of the working tree with only that
/// file modified).
fn explain_file(common: &Common<'_>, file: &str, format: ImpactFormat) -> Result<Exit, Failure> {
    let mut options = common.options();
    let repo = impact::git::Repo::discover(
        options
            .manifest_path
            .parent()
            .unwrap_or(std::path::Path::new(".")),
    )?;
    let cwd = std::env::current_dir().unwrap_or_default();
    let absolute = cwd.join(file);
    let path = match absolute.canonicalize().ok().and_then(|a| {
        a.strip_prefix(&repo.root)
            .ok()
            .map(|r| r.to_string_lossy().replace('\\', "/"))
    }) {
        Some(rel) => rel,
        None => file.trim_start_matches("./").to_owned(),
    };
    options.assume_changed = Some(vec![path.clone()]);
    let report = common.analyze_with(options)?;
    if format == ImpactFormat::Json {
        let explanation = impact::render::explanation_json(&report, &path);
        println!(
            "{}",
            serde_json::to_string_pretty(&explanation)
                .map_err(|e| Failure::environment(e.to_string()))?
        );
    } else {
        print!("{}", impact::render::explanation(&report, &path));
    }
    Ok(Exit::Success)
}

fn summarize(report: &Report) {
    if let Err(err) = output::append_step_summary(&impact::render::markdown(report)) {
        eprintln!("warning: could not write the GitHub step summary: {err}");
    }
}

pub fn test(args: &TestArgs) -> Result<Exit, Failure> {
    let common = Common(&args.change);
    let (lane, nextest_args) = (&args.lane, &args.nextest_args);
    let report = common.analyze()?;
    eprint!("{}", impact::render::human(&report));
    summarize(&report);
    if !report.all && report.packages.is_empty() {
        println!("nothing affected: no tests to run");
        return Ok(Exit::Success);
    }
    let manifest = common.manifest();
    let root = manifest.parent().map(PathBuf::from).unwrap_or_default();
    nextest::ensure(true)?;
    let mut args: Vec<String> = vec!["run".to_owned()];
    let affected = (!report.all).then(|| report.filterset.clone());
    match lane {
        Some(name) => {
            let selection = lanes_config::selection(&root, name)?;
            args.extend(["--profile".to_owned(), selection.profile.clone()]);
            args.extend(selection.build_args());
            eprintln!(
                "test --affected: features: {} (lane `{name}`)",
                selection.features_text()
            );
            let filter = match &affected {
                Some(filterset) => selection.and_filter(filterset),
                None => selection.filterset.clone(),
            };
            args.extend(["-E".to_owned(), filter]);
            // The lane and the change may have no test in common: that is "nothing affected".
            args.extend(["--no-tests".to_owned(), "pass".to_owned()]);
        }
        None => {
            // The selection is run as the full test command builds it (README, `.ci/run`):
            // a selected test behind `#[cfg(feature = ..)]` must not be compiled out.
            args.extend(["--workspace".to_owned(), "--all-features".to_owned()]);
            eprintln!(
                "test --affected: features: all features (--all-features, as `cargo nextest run --workspace --all-features`)"
            );
            if let Some(filterset) = affected {
                args.extend(["-E".to_owned(), filterset]);
            }
        }
    }
    args.extend(nextest_args.iter().cloned());
    let status = nextest::run(&root, &args)?;
    if status.success() {
        Ok(Exit::Success)
    } else {
        Err(nextest::failure(status, "running the affected tests"))
    }
}

/// `cargo xtask impact record`: nextest starts this binary's hidden `__trace-runner` mode
/// ([`trace_runner`]) for every test binary.
pub fn record(args: RecordArgs) -> Result<Exit, Failure> {
    let runner = std::env::current_exe()
        .map_err(|e| Failure::environment(format!("cannot find the xtask binary: {e}")))?;
    impact::record::record(impact::record::Request {
        manifest: (args.manifest_path).unwrap_or_else(|| crate::project_root().join("Cargo.toml")),
        lane: args.lane,
        output: args.output,
        no_install: args.install.no_install,
        no_seccomp_bpf: args.no_seccomp_bpf,
        nextest_args: args.nextest_args,
        runner,
    })
}

/// `__trace-runner BINARY ARGS...`: exits with the traced test's own code.
pub fn trace_runner(args: Vec<OsString>) -> Result<Exit, Failure> {
    output::finish();
    impact::record::trace(args)
}

/// `cargo xtask impact history`: the last N commits replayed with and without the recording.
pub fn history(args: &HistoryArgs) -> Result<Exit, Failure> {
    let manifest =
        (args.manifest_path.clone()).unwrap_or_else(|| crate::project_root().join("Cargo.toml"));
    let history = impact::history::replay_recent(&manifest, args.recording.clone(), args.commits)?;
    if args.format.json() {
        println!(
            "{}",
            serde_json::to_string_pretty(&history)
                .map_err(|e| Failure::environment(e.to_string()))?
        );
    } else {
        print!("{}", impact::history::text(&history));
    }
    impact::history::verdict(&history)?;
    Ok(Exit::Success)
}
