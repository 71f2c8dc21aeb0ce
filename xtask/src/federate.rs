//! `cargo xtask federate`: fuse provider training runs into a promoted release.
//!
//! Two forms (README, "Federation"):
//! - repository form, no manifest flags: `manifests/providers/*.json` + `manifests/gates.toml`,
//!   chained onto the newest release in `manifests/releases/`, written there as the next one;
//! - the original flags: `--hf-manifest --gcp-manifest --aws-manifest --output` with optional
//!   threshold flags (defaults of the original script unless `--gates` is given).
//!
//! All logic lives in the `release` crate; this module reads arguments, files and the clock,
//! prints the verdict report and writes the release atomically.

use std::path::{Path, PathBuf};

use output_types::Shape;
use output_types::chain::{ChainRelease, ReleaseChain};
use release::attest::{self, FederationInputs, InputFile};
use release::chain::{self, StoredRelease};
use release::federation::{self, ArtifactLocator, Inputs};
use release::kernel::KernelEntry;
use release::{GatePolicy, KernelManifest, ProviderManifest, ReleaseManifest, SourceRevision};
use release::{repo, report, time};
use support::{Exit, Failure, Located};

use crate::cli::FederateArgs;

pub fn run(args: &FederateArgs) -> Result<Exit, Failure> {
    let root = crate::project_root();
    let releases_dir = args
        .releases
        .clone()
        .unwrap_or_else(|| root.join(repo::RELEASES_DIR));
    if args.verify_chain {
        return verify_chain(&releases_dir, args.format.json());
    }
    let original_form = [
        &args.hf_manifest,
        &args.gcp_manifest,
        &args.aws_manifest,
        &args.output,
    ]
    .iter()
    .any(|a| a.is_some());

    // Phase 1: read every input, collecting every diagnostic.
    let (policy, manifests, history) = read_inputs(args, &root, &releases_dir, original_form)?;
    // Hashed before the manifests move into federation (they can be large: no copy is kept).
    let provider_files: Vec<(String, InputFile)> = manifests
        .iter()
        .map(|m| {
            (
                m.provider.name().to_owned(),
                InputFile::of_bytes(name_in(&root, &m.path), m.text.as_bytes()),
            )
        })
        .collect();
    let broken = chain::verify_chain(&history);
    if !broken.is_empty() {
        return Err(Failure {
            exit: Exit::CheckFailed,
            located: broken,
            message: Some("the release chain does not verify; refusing to extend it (see `cargo xtask federate --verify-chain`)".into()),
        });
    }
    let now = time::now_epoch().map_err(Failure::invalid_input)?;
    if !original_form && !args.dry_run {
        crate::output::report_stale(chain::clean_stale_temp_files(&releases_dir)?);
    }

    let recorded = record_workspace(&root)?;

    // Phase 2: judge and build.
    let outcome = federation::federate(Inputs {
        manifests,
        thresholds: policy.thresholds,
        expires_after_days: policy.expires_after_days,
        previous: history.last().map(|r| r.manifest.clone()),
        carry_forward: args.carry_forward,
        artifacts: ArtifactLocator {
            base: std::env::current_dir().unwrap_or_default(),
            dir: args.artifacts.clone(),
        },
        now,
        kernel_digest: recorded.kernel.as_ref().map(|k| k.digest.clone()),
        source: recorded.source.clone(),
    })
    .map_err(Failure::located)?;
    let provenance = match &outcome.release {
        Some(release) => {
            let gates_file = match (&args.gates, original_form) {
                (None, true) => None,
                (gates, _) => Some(gates.clone().unwrap_or_else(|| root.join(repo::GATES_FILE))),
            };
            Some(provenance_bytes(
                release,
                &target_name(args, &releases_dir, release),
                &root,
                provider_files.clone(),
                gates_file.as_deref(),
                &recorded,
                &policy,
                args.carry_forward,
            )?)
        }
        None => None,
    };

    // Phase 3: report, then write (or not).
    let target = match (&args.output, &outcome.release) {
        (Some(output), _) => Some(output.clone()),
        (None, Some(release)) => {
            Some(releases_dir.join(chain::release_file_name(release.release_seq)))
        }
        (None, None) => None,
    };
    if !args.format.json() {
        // The verdicts first: they explain a failure to write as much as a success.
        report::write_table(&outcome, &mut |chunk| print!("{chunk}"));
    }
    let written = match &outcome.release {
        Some(release) if !args.dry_run => {
            let provenance = provenance.as_deref().expect("built for every release");
            let path = if original_form {
                let path = target.clone().expect("a release always has a target");
                write_output(&path, &release.to_bytes())?;
                write_output(&attest::provenance_path(&path), provenance)?;
                path
            } else {
                let published =
                    chain::publish_with(&releases_dir, release, &[("provenance", provenance)])?;
                crate::output::report_stale(published.removed_stale);
                published.path
            };
            // The original form prints the output path as given, like the script did.
            Some(if original_form {
                path
            } else {
                shown(&root, &path)
            })
        }
        _ => None,
    };
    if args.format.json() {
        let provenance = written
            .as_ref()
            .map(|p| attest::provenance_path(p).display().to_string());
        let written = written.as_ref().map(|p| p.display().to_string());
        report::write_json(&outcome, args.dry_run, written, provenance, &mut |chunk| {
            print!("{chunk}")
        });
    }
    let Some(release) = &outcome.release else {
        return Err(Failure::check_failed(format!(
            "{}\nno release written",
            outcome.failures.join("\n")
        )));
    };
    if !args.format.json() {
        match &written {
            Some(path) => {
                // The original script's two lines: where the release went, and its id.
                println!("{}", path.display());
                println!("{}", release.fused_model_id);
                println!(
                    "release_seq {} digest {}",
                    release.release_seq, release.digest
                );
                println!("provenance {}", attest::provenance_path(path).display());
                println!("{}", describe_source(release));
            }
            None => println!(
                "dry run: would write {} (release_seq {}, digest {}, {})",
                shown(&root, &target.expect("a release always has a target")).display(),
                release.release_seq,
                release.digest,
                release.fused_model_id
            ),
        }
    }
    Ok(Exit::Success)
}

type FederationFiles = (GatePolicy, Vec<ProviderManifest>, Vec<StoredRelease>);

/// The gate policy (with threshold flags applied), the provider manifests and the release
/// history; every problem in any of them is reported together (exit 2).
fn read_inputs(
    args: &FederateArgs,
    root: &Path,
    releases_dir: &Path,
    original_form: bool,
) -> Result<FederationFiles, Failure> {
    let mut problems: Vec<Located> = Vec::new();
    let policy = match (&args.gates, original_form) {
        (None, true) => Ok(GatePolicy::default()),
        (gates, _) => {
            GatePolicy::load(&gates.clone().unwrap_or_else(|| root.join(repo::GATES_FILE)))
        }
    };
    let mut policy = policy.unwrap_or_else(|mut found| {
        problems.append(&mut found);
        GatePolicy::default()
    });
    let t = &mut policy.thresholds;
    for (slot, value) in [
        &mut t.min_quality,
        &mut t.min_safety,
        &mut t.max_latency_ms_p95,
        &mut t.max_cost_per_1k_tokens,
    ]
    .into_iter()
    .zip(args.overrides())
    {
        if let Some(value) = value {
            *slot = value;
        }
    }
    let manifest_paths = if original_form {
        let named = [
            ("--hf-manifest", &args.hf_manifest),
            ("--gcp-manifest", &args.gcp_manifest),
            ("--aws-manifest", &args.aws_manifest),
            ("--output", &args.output),
        ];
        let absent: Vec<&str> = named
            .iter()
            .filter(|(_, p)| p.is_none())
            .map(|(flag, _)| *flag)
            .collect();
        if !absent.is_empty() {
            return Err(Failure::invalid_input(format!(
                "the original form needs --hf-manifest, --gcp-manifest, --aws-manifest and --output; missing {} (see `cargo xtask federate --help`)",
                absent.join(", ")
            )));
        }
        let inputs: Vec<PathBuf> = named[..3]
            .iter()
            .filter_map(|(_, p)| p.as_ref().cloned())
            .collect();
        let output = args.output.as_ref().expect("checked above");
        refuse_output_over_input(output, inputs.iter().chain(args.gates.as_ref()))?;
        inputs
    } else {
        let dir = args
            .providers
            .clone()
            .unwrap_or_else(|| root.join(repo::PROVIDERS_DIR));
        provider_files(&dir).unwrap_or_else(|located| {
            problems.push(located);
            Vec::new()
        })
    };
    let mut manifests = Vec::new();
    for path in &manifest_paths {
        match ProviderManifest::load(path) {
            Ok(manifest) => manifests.push(manifest),
            Err(mut found) => problems.append(&mut found),
        }
    }
    let history = if original_form {
        Vec::new()
    } else {
        chain::load_releases(releases_dir).unwrap_or_else(|mut found| {
            problems.append(&mut found);
            Vec::new()
        })
    };
    if !problems.is_empty() {
        return Err(Failure::located(problems));
    }
    Ok((policy, manifests, history))
}

/// `path` relative to the workspace root when it lies inside it, for shorter output.
fn shown(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root)
        .map_or_else(|_| path.to_owned(), Path::to_owned)
}

/// `*.json` in `dir`, sorted; an empty or missing directory is invalid input.
fn provider_files(dir: &Path) -> Result<Vec<PathBuf>, Located> {
    let paths = support::input::json_files(dir)
        .map_err(|err| Located::file(dir, format!("cannot list provider manifests: {err}")))?;
    if paths.is_empty() {
        return Err(
            Located::file(dir, "no provider run manifests (*.json) found")
                .with_help("add one run manifest per provider (hf, gcp, aws)"),
        );
    }
    Ok(paths)
}

/// The output must not be, or resolve to (symlinks, `..`), a file the run reads: writing it
/// would destroy that input.
fn refuse_output_over_input<'a>(
    output: &Path,
    inputs: impl Iterator<Item = &'a PathBuf>,
) -> Result<(), Failure> {
    let Some(landing) = support::atomic::landing_path(output) else {
        return Ok(());
    };
    for input in inputs {
        if support::atomic::landing_path(input).as_ref() == Some(&landing) {
            return Err(Failure::invalid_input(format!(
                "--output {} is the input {}: writing the release there would destroy it; \
                 choose another output path",
                output.display(),
                input.display()
            )));
        }
    }
    Ok(())
}

/// The original form's output: replaced atomically, like the script's.
fn write_output(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    if let Some(file) = support::atomic::blocking_ancestor(path) {
        return Err(Failure::invalid_input(format!(
            "cannot write {}: {} is a file, not a directory; no release written (choose an \
             output path whose parent is a directory)",
            path.display(),
            file.display()
        )));
    }
    support::atomic::write_atomic(path, bytes).map_err(|err| {
        Failure::environment(format!(
            "cannot write {}: {err}; no release written",
            path.display()
        ))
    })
}

fn verify_chain(dir: &Path, as_json: bool) -> Result<Exit, Failure> {
    let releases: Vec<StoredRelease> = chain::load_releases(dir).map_err(Failure::located)?;
    let problems = chain::verify_chain(&releases);
    if as_json {
        let chain = ReleaseChain {
            schema: ReleaseChain::schema(),
            ok: problems.is_empty(),
            releases: releases
                .iter()
                .map(|r| ChainRelease {
                    path: r.path.display().to_string(),
                    release_seq: r.manifest.release_seq,
                    digest: r.manifest.digest.clone(),
                    rollback_of: r.manifest.rollback_of.clone(),
                })
                .collect(),
            problems: problems.iter().map(ToString::to_string).collect(),
        };
        let value = serde_json::to_value(&chain).expect("report shapes serialize");
        print!("{}", release::canonical::to_pretty_string(&value));
    } else {
        for r in &releases {
            println!(
                "{:>6}  {}  {}",
                r.manifest.release_seq,
                r.manifest.digest,
                r.path.display()
            );
        }
    }
    if !problems.is_empty() {
        return Err(Failure {
            exit: Exit::CheckFailed,
            located: problems,
            message: Some("release chain does not verify".into()),
        });
    }
    if !as_json {
        println!(
            "release chain ok: {} release(s) in {}",
            releases.len(),
            dir.display()
        );
    }
    Ok(Exit::Success)
}

/// What federation records about the workspace it runs in: the source commit (when it is a
/// git checkout) and the kernel (when it has a kernel manifest).
struct Recorded {
    source: Option<SourceRevision>,
    kernel: Option<RecordedKernel>,
}

struct RecordedKernel {
    digest: String,
    manifest: InputFile,
    entries: Vec<KernelEntry>,
}

/// An incomplete kernel is refused (exit 1, naming each missing file): a release must not
/// claim a kernel digest that does not exist.
fn record_workspace(root: &Path) -> Result<Recorded, Failure> {
    let source = release::source::of_checkout(root).map_err(Failure::environment)?;
    let kernel_path = root.join(repo::KERNEL_FILE);
    if !kernel_path.exists() {
        return Ok(Recorded {
            source,
            kernel: None,
        });
    }
    let kernel = KernelManifest::load(&kernel_path).map_err(Failure::located)?;
    let state = kernel.inspect(root).map_err(|located| Failure {
        exit: Exit::Environment,
        located: vec![located],
        message: None,
    })?;
    let Some(digest) = state.digest() else {
        return Err(Failure {
            exit: Exit::CheckFailed,
            located: state
                .missing
                .iter()
                .map(|file| kernel.missing_file(root, file))
                .collect(),
            message: Some("the kernel is incomplete, so the release cannot record its digest; no release written".into()),
        });
    };
    let bytes =
        support::input::read_bounded(&kernel_path, release::kernel::MAX_BYTES, "kernel manifest")?;
    Ok(Recorded {
        source,
        kernel: Some(RecordedKernel {
            digest,
            manifest: InputFile::of_bytes(name_in(root, &kernel_path), &bytes),
            entries: state.entries,
        }),
    })
}

/// The file name a release is (or would be) written under, its provenance's subject name.
fn target_name(args: &FederateArgs, releases_dir: &Path, release: &ReleaseManifest) -> String {
    let path = args
        .output
        .clone()
        .unwrap_or_else(|| releases_dir.join(chain::release_file_name(release.release_seq)));
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The provenance statement of `release`, as stored.
#[allow(clippy::too_many_arguments)]
fn provenance_bytes(
    release: &ReleaseManifest,
    file_name: &str,
    root: &Path,
    providers: Vec<(String, InputFile)>,
    gates_file: Option<&Path>,
    recorded: &Recorded,
    policy: &GatePolicy,
    carry_forward: bool,
) -> Result<Vec<u8>, Failure> {
    let gates = match gates_file {
        Some(path) => {
            let bytes =
                support::input::read_bounded(path, release::gates::MAX_BYTES, "gate policy")?;
            Some(InputFile::of_bytes(name_in(root, path), &bytes))
        }
        None => None,
    };
    let inputs = FederationInputs {
        providers,
        gates,
        kernel: recorded
            .kernel
            .as_ref()
            .map(|k| (k.manifest.clone(), k.entries.clone())),
        carry_forward,
        expires_after_days: policy.expires_after_days,
    };
    Ok(attest::provenance_statement(release, file_name, &inputs).to_bytes())
}

/// A path as provenance names it: workspace-relative with `/` when inside the workspace,
/// else as given.
fn name_in(root: &Path, path: &Path) -> String {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_owned());
    let full = path.canonicalize().unwrap_or_else(|_| path.to_owned());
    match full.strip_prefix(&root) {
        Ok(relative) => relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
        Err(_) => path.display().to_string(),
    }
}

/// "source abc123... (clean), kernel sha256:..." for the summary.
fn describe_source(release: &ReleaseManifest) -> String {
    let source = match &release.source {
        Some(s) if s.dirty => format!("source {} (dirty)", s.commit),
        Some(s) => format!("source {} (clean)", s.commit),
        None => "source not recorded (not a git checkout)".to_owned(),
    };
    let kernel = match &release.kernel_digest {
        Some(k) => format!("kernel {k}"),
        None => "kernel not recorded (no manifests/kernel.toml)".to_owned(),
    };
    format!("{source}, {kernel}")
}
