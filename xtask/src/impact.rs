//! `cargo xtask impact` and `cargo xtask test --affected`: thin front ends over the `impact`
//! library, which holds every decision.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::{nextest, output};
use impact::{Options, Report};
use support::{Exit, Failure};

const IMPACT_USAGE: &str = "usage: cargo xtask impact [--manifest-path PATH/Cargo.toml] [--base REV] [--head REV] \
[--format human|json|filterset|mermaid|dot] [--fallback all] [--recording FILE] [--explain FILE]\n       \
cargo xtask impact record [--lane NAME] [--manifest-path PATH/Cargo.toml] [--output FILE]";
const TEST_USAGE: &str = "usage: cargo xtask test --affected [--manifest-path PATH/Cargo.toml] [--base REV] \
[--head REV] [--lane NAME] [--fallback all] [-- NEXTEST_ARGS...]";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Human,
    Json,
    Filterset,
    Mermaid,
    Dot,
}

/// Flags shared by both commands.
struct Common {
    manifest_path: Option<PathBuf>,
    base: Option<String>,
    head: Option<String>,
    fallback_all: bool,
    recording: Option<PathBuf>,
}

impl Common {
    fn new() -> Common {
        Common {
            manifest_path: None,
            base: None,
            head: None,
            fallback_all: false,
            recording: None,
        }
    }

    const FLAGS: &[&str] = &["manifest-path", "base", "head", "fallback", "recording"];

    /// Takes the value of one of [`Common::FLAGS`].
    fn set(&mut self, flag: &str, parser: &mut lexopt::Parser) -> Result<(), Failure> {
        match flag {
            "manifest-path" => {
                self.manifest_path = Some(parser.value().map_err(crate::usage_error)?.into())
            }
            "base" => self.base = Some(string(parser)?),
            "head" => self.head = Some(string(parser)?),
            "recording" => {
                self.recording = Some(parser.value().map_err(crate::usage_error)?.into())
            }
            _ => {
                let value = string(parser)?;
                if value != "all" {
                    return Err(Failure::invalid_input(format!(
                        "`--fallback {value}`: the only fallback is `all`"
                    )));
                }
                self.fallback_all = true;
            }
        }
        Ok(())
    }

    /// `--manifest-path`, else the project root's Cargo.toml.
    fn manifest(&self) -> PathBuf {
        self.manifest_path
            .clone()
            .unwrap_or_else(|| crate::project_root().join("Cargo.toml"))
    }

    fn options(&self) -> Options {
        let mut options = Options::for_manifest(self.manifest());
        options.base = self.base.clone();
        options.head = self.head.clone();
        options.fallback_all = self.fallback_all;
        if let Some(path) = &self.recording {
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

/// The next option value, as UTF-8.
pub fn string(parser: &mut lexopt::Parser) -> Result<String, Failure> {
    parser
        .value()
        .map_err(crate::usage_error)?
        .into_string()
        .map_err(|v| Failure::invalid_input(format!("{} is not valid UTF-8", v.to_string_lossy())))
}

pub fn run(args: Vec<OsString>) -> Result<Exit, Failure> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_args(args);
    let mut common = Common::new();
    let mut format = Format::Human;
    let mut explain: Option<String> = None;
    while let Some(arg) = parser.next().map_err(crate::usage_error)? {
        match arg {
            Long(flag) if Common::FLAGS.contains(&flag) => {
                let flag = flag.to_owned();
                common.set(&flag, &mut parser)?;
            }
            Long("explain") => explain = Some(string(&mut parser)?),
            Long("format") => {
                format = match string(&mut parser)?.as_str() {
                    "human" => Format::Human,
                    "json" => Format::Json,
                    "filterset" => Format::Filterset,
                    "mermaid" => Format::Mermaid,
                    "dot" => Format::Dot,
                    other => {
                        return Err(Failure::invalid_input(format!(
                            "unknown format `{other}`: use human, json, filterset, mermaid or dot"
                        )));
                    }
                }
            }
            Short('h') | Long("help") => {
                println!("{IMPACT_USAGE}");
                return Ok(Exit::Success);
            }
            _ => return Err(crate::usage_error(arg.unexpected())),
        }
    }
    if let Some(file) = explain {
        return explain_file(&common, &file, format);
    }
    let report = common.analyze()?;
    let text = match format {
        Format::Human => impact::render::human(&report),
        Format::Json => {
            let json = serde_json::to_string_pretty(&impact::render::json(&report))
                .map_err(|e| Failure::environment(e.to_string()))?;
            format!("{json}\n")
        }
        Format::Filterset => format!("{}\n", report.filterset),
        Format::Mermaid => impact::render::mermaid(&report),
        Format::Dot => impact::render::dot(&report),
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
fn explain_file(common: &Common, file: &str, format: Format) -> Result<Exit, Failure> {
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
    if format == Format::Json {
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

pub fn test(args: Vec<OsString>) -> Result<Exit, Failure> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_args(args);
    let mut common = Common::new();
    let mut affected = false;
    let mut lane: Option<String> = None;
    let mut nextest_args: Vec<OsString> = Vec::new();
    while let Some(arg) = parser.next().map_err(crate::usage_error)? {
        match arg {
            Long(flag) if Common::FLAGS.contains(&flag) => {
                let flag = flag.to_owned();
                common.set(&flag, &mut parser)?;
            }
            Long("affected") => affected = true,
            Long("lane") => lane = Some(string(&mut parser)?),
            Short('h') | Long("help") => {
                println!("{TEST_USAGE}");
                return Ok(Exit::Success);
            }
            Value(value) => {
                // Everything after `--` goes to nextest.
                nextest_args.push(value);
                nextest_args.extend(parser.raw_args().map_err(crate::usage_error)?);
            }
            _ => return Err(crate::usage_error(arg.unexpected())),
        }
    }
    if !affected {
        return Err(Failure::invalid_input(format!(
            "`cargo xtask test` needs `--affected`\n{TEST_USAGE}"
        )));
    }
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
    match &lane {
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
    args.extend(
        nextest_args
            .iter()
            .map(|a| a.to_string_lossy().into_owned()),
    );
    let status = nextest::run(&root, &args)?;
    if status.success() {
        Ok(Exit::Success)
    } else {
        Err(Failure::check_failed(format!(
            "affected tests failed (cargo nextest exited with {})",
            status
                .code()
                .map_or("a signal".to_owned(), |c| c.to_string())
        )))
    }
}
