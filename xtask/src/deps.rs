//! `cargo xtask deps audit|report`: a thin front end over the `depgroups` library.

use std::ffi::OsString;
use std::path::PathBuf;

use support::{Exit, Failure};

const USAGE: &str = "\
usage: cargo xtask deps audit  [--manifest-path PATH] [--groups PATH] [--format human|json]
       cargo xtask deps report [--manifest-path PATH] [--groups PATH] [--format markdown|json]

--groups defaults to deps-groups.toml at the workspace root.";

struct Options {
    manifest_path: PathBuf,
    groups: Option<PathBuf>,
    format: String,
}

pub fn run(args: Vec<OsString>) -> Result<Exit, Failure> {
    let mut args = args.into_iter();
    let sub = args.next();
    match sub.as_ref().and_then(|s| s.to_str()) {
        Some("audit") => audit(parse(args.collect(), "human", &["human", "json"])?),
        Some("report") => report(parse(args.collect(), "markdown", &["markdown", "json"])?),
        Some("help" | "--help" | "-h") => {
            println!("{USAGE}");
            Ok(Exit::Success)
        }
        Some(other) => Err(Failure::invalid_input(format!(
            "unknown `deps` command `{other}`\n\n{USAGE}"
        ))),
        None => Err(Failure::invalid_input(format!(
            "`deps` needs a command\n\n{USAGE}"
        ))),
    }
}

fn parse(args: Vec<OsString>, default_format: &str, formats: &[&str]) -> Result<Options, Failure> {
    use lexopt::prelude::*;
    let mut options = Options {
        manifest_path: crate::project_root().join("Cargo.toml"),
        groups: None,
        format: default_format.to_owned(),
    };
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(crate::usage_error)? {
        match arg {
            Long("manifest-path") => {
                options.manifest_path = parser.value().map_err(crate::usage_error)?.into()
            }
            Long("groups") => {
                options.groups = Some(parser.value().map_err(crate::usage_error)?.into())
            }
            Long("format") => {
                let format = parser
                    .value()
                    .map_err(crate::usage_error)?
                    .string()
                    .map_err(crate::usage_error)?;
                if !formats.contains(&format.as_str()) {
                    return Err(Failure::invalid_input(format!(
                        "unknown format `{format}` (expected one of: {})",
                        formats.join(", ")
                    )));
                }
                options.format = format;
            }
            _ => return Err(crate::usage_error(arg.unexpected())),
        }
    }
    Ok(options)
}

fn audit(options: Options) -> Result<Exit, Failure> {
    let audit = depgroups::audit(&options.manifest_path, options.groups.as_deref())?;
    if options.format == "json" {
        println!(
            "{}",
            serde_json::to_string_pretty(&audit.shape()).expect("report shapes serialize")
        );
        return Ok(if audit.passed() {
            Exit::Success
        } else {
            Exit::CheckFailed
        });
    }
    let groups = audit
        .members
        .values()
        .flatten()
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    if audit.passed() {
        println!(
            "deps audit: {} members in {groups} groups, each under no-default, default and all features: no violations",
            audit.members.len()
        );
        return Ok(Exit::Success);
    }
    Err(Failure {
        exit: Exit::CheckFailed,
        located: audit.diagnostics(),
        message: Some(format!(
            "deps audit: {} violation(s) across {} members",
            audit.violations.len(),
            audit.members.len()
        )),
    })
}

fn report(options: Options) -> Result<Exit, Failure> {
    let report = depgroups::report(&options.manifest_path, options.groups.as_deref())?;
    if options.format == "json" {
        println!(
            "{}",
            serde_json::to_string_pretty(&report.shape()).expect("report shapes serialize")
        );
    } else {
        print!("{}", report.to_markdown());
    }
    Ok(Exit::Success)
}
