//! `cargo xtask kernel`: the kernel manifest (`manifests/kernel.toml`), the files that define the
//! model surface. Lists version, file count and digest; `--check` names each missing file (exit 1);
//! `--format json` prints `kernel-report/v2` (`output_types::kernel`).

use output_types::Shape;
use output_types::kernel::{KernelFile, KernelReport};
use release::KernelManifest;
use support::{Exit, Failure};

use crate::cli::KernelArgs;

pub fn run(args: &KernelArgs) -> Result<Exit, Failure> {
    let (check, as_json) = (args.check, args.format.json());
    let root = crate::project_root();
    let manifest_path = args
        .manifest
        .clone()
        .unwrap_or_else(|| root.join(release::repo::KERNEL_FILE));
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
