//! `cargo xtask kernel`: the kernel manifest (`manifests/kernel.toml`), the files that define the
//! model surface. Lists version, file count and digest; `--check` names each missing file (exit 1);
//! `--json` / `--format json` prints `kernel-report/v2` (`output_types::kernel`).

use std::ffi::OsString;
use std::path::PathBuf;

use output_types::Shape;
use output_types::kernel::{KernelFile, KernelReport};
use release::KernelManifest;
use support::{Exit, Failure};

const USAGE: &str = "\
usage: cargo xtask kernel [--check] [--json | --format human|json] [--manifest FILE]

  --check          only check that every listed file exists (exit 1 naming each missing one)
  --manifest FILE  kernel manifest [manifests/kernel.toml]; listed paths are relative to the workspace root
";

pub fn run(args: Vec<OsString>) -> Result<Exit, Failure> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_args(args);
    let (mut check, mut as_json, mut manifest) = (false, false, None::<PathBuf>);
    while let Some(arg) = parser.next().map_err(crate::usage_error)? {
        match arg {
            Long("check") => check = true,
            Long("json") => as_json = true,
            Long("format") => {
                as_json = crate::output::json_format(parser.value().map_err(crate::usage_error)?)?;
            }
            Long("manifest") => manifest = Some(parser.value().map_err(crate::usage_error)?.into()),
            Long("help") | Short('h') => {
                print!("{USAGE}");
                return Ok(Exit::Success);
            }
            _ => return Err(crate::usage_error(arg.unexpected())),
        }
    }
    let root = crate::project_root();
    let manifest_path = manifest.unwrap_or_else(|| root.join(release::repo::KERNEL_FILE));
    let kernel = KernelManifest::load(&manifest_path).map_err(Failure::located)?;
    let state = kernel.inspect(&root).map_err(|located| Failure {
        exit: Exit::Environment,
        located: vec![located],
        message: None,
    })?;
    let digest = state.digest();
    if as_json {
        let report = KernelReport {
            schema: KernelReport::schema(),
            manifest: manifest_path.display().to_string(),
            kernel_version: kernel.version,
            file_count: kernel.files.len(),
            digest: digest.clone(),
            ok: state.missing.is_empty(),
            missing: state.missing.clone(),
            files: state
                .entries
                .iter()
                .map(|e| KernelFile {
                    path: e.path.clone(),
                    digest: e.digest.clone(),
                    size: e.size,
                })
                .collect(),
        };
        let value = serde_json::to_value(&report).expect("report shapes serialize");
        print!("{}", release::canonical::to_pretty_string(&value));
    } else if check {
        if state.missing.is_empty() {
            println!(
                "kernel ok: all {} files present (digest {})",
                kernel.files.len(),
                digest.as_deref().unwrap_or("-")
            );
        }
    } else {
        println!("kernel manifest {}", manifest_path.display());
        println!("version:    {}", kernel.version);
        println!("file count: {}", kernel.files.len());
        println!(
            "digest:     {}",
            digest.as_deref().unwrap_or("(incomplete: files missing)")
        );
        for entry in &state.entries {
            println!("  {}  {:>8}  {}", entry.digest, entry.size, entry.path);
        }
    }
    if state.missing.is_empty() {
        return Ok(Exit::Success);
    }
    Err(Failure {
        exit: Exit::CheckFailed,
        located: state
            .missing
            .iter()
            .map(|file| kernel.missing_file(&root, file))
            .collect(),
        message: Some(format!(
            "{} of {} kernel file(s) missing",
            state.missing.len(),
            kernel.files.len()
        )),
    })
}
