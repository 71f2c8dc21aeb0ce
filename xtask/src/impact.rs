//! `cargo xtask impact` and `cargo xtask test --affected`: thin front ends over the `impact`
//! library, which holds every decision.

use std::ffi::OsString;
use std::path::PathBuf;

use impact::{Options, Report};
use support::{Exit, Failure};
use xshell::{Shell, cmd};

use crate::output;

const IMPACT_USAGE: &str = "usage: cargo xtask impact [--manifest-path PATH/Cargo.toml] [--base REV] [--head REV] \
[--format human|json|filterset|mermaid|dot] [--fallback all]";
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
}

impl Common {
    fn new() -> Common {
        Common {
            manifest_path: None,
            base: None,
            head: None,
            fallback_all: false,
        }
    }

    const FLAGS: &[&str] = &["manifest-path", "base", "head", "fallback"];

    /// Takes the value of one of [`Common::FLAGS`].
    fn set(&mut self, flag: &str, parser: &mut lexopt::Parser) -> Result<(), Failure> {
        match flag {
            "manifest-path" => {
                self.manifest_path = Some(parser.value().map_err(crate::usage_error)?.into())
            }
            "base" => self.base = Some(string(parser)?),
            "head" => self.head = Some(string(parser)?),
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

    fn analyze(&self) -> Result<Report, Failure> {
        let manifest = self
            .manifest_path
            .clone()
            .unwrap_or_else(|| crate::project_root().join("Cargo.toml"));
        let mut options = Options::for_manifest(manifest);
        options.base = self.base.clone();
        options.head = self.head.clone();
        options.fallback_all = self.fallback_all;
        impact::analyze(&options)
    }
}

fn string(parser: &mut lexopt::Parser) -> Result<String, Failure> {
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
    while let Some(arg) = parser.next().map_err(crate::usage_error)? {
        match arg {
            Long(flag) if Common::FLAGS.contains(&flag) => {
                let flag = flag.to_owned();
                common.set(&flag, &mut parser)?;
            }
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
    let report = common.analyze()?;
    let text = match format {
        Format::Human => impact::render::human(&report),
        Format::Json => {
            let json = serde_json::to_string_pretty(&report)
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
    let mut filters: Vec<String> = Vec::new();
    if !report.all {
        filters.push(report.filterset.clone());
    }
    if let Some(lane) = &lane {
        filters.push(lane_filterset(lane)?);
    }
    let manifest = common
        .manifest_path
        .clone()
        .unwrap_or_else(|| crate::project_root().join("Cargo.toml"));
    let sh = Shell::new().map_err(|e| Failure::environment(e.to_string()))?;
    let mut filter_args: Vec<String> = Vec::new();
    if !filters.is_empty() {
        let expression = filters
            .iter()
            .map(|f| format!("({f})"))
            .collect::<Vec<_>>()
            .join(" & ");
        filter_args = vec!["-E".to_owned(), expression];
    }
    // The selection is not empty, but a lane may narrow it to no test: that is still "nothing".
    let no_tests = if lane.is_some() {
        vec!["--no-tests=pass"]
    } else {
        Vec::new()
    };
    let status = cmd!(sh, "cargo nextest run --workspace --manifest-path {manifest} {filter_args...} {no_tests...} {nextest_args...}")
        .run();
    match status {
        Ok(()) => Ok(Exit::Success),
        Err(err) => {
            let message = err.to_string();
            if message.contains("No such file") || message.contains("not found") {
                Err(Failure::environment(format!(
                    "could not run cargo nextest: {message}\nhelp: `cargo install cargo-nextest --locked`"
                )))
            } else {
                Err(Failure::check_failed("affected tests failed"))
            }
        }
    }
}

/// The filterset of a lane in lanes.toml.
fn lane_filterset(lane: &str) -> Result<String, Failure> {
    Err(Failure::invalid_input(format!(
        "`--lane {lane}`: lanes are not readable from this build yet; run without `--lane`"
    )))
}
