//! One federation run, as `cargo xtask federate` asks for it (README, "Federation"): read every
//! input (all problems reported together), refuse to extend a chain that does not verify,
//! record the workspace (source commit, kernel), judge and build the release
//! ([`crate::federation`]), build its provenance ([`crate::attest`]) and write both: the
//! repository form through [`chain::publish_with`], the original form's `--output` replaced
//! atomically. The front end prints the verdict table and the summary.
//!
//! Two forms:
//! - repository form, no manifest paths: `manifests/providers/*.json` + `manifests/gates.toml`,
//!   chained onto the newest release in `manifests/releases/`, written there as the next one;
//! - the original form: the three provider manifests and the output file named, with the
//!   original script's thresholds unless a gate policy is given.

use std::path::{Path, PathBuf};

use output_types::Shape;
use output_types::chain::{ChainRelease, ReleaseChain};
use support::{Exit, Failure, Located};

use crate::attest::{self, FederationInputs, InputFile};
use crate::chain::{self, StoredRelease};
use crate::federation::{self, ArtifactLocator, Inputs, Outcome};
use crate::kernel::KernelEntry;
use crate::{GatePolicy, KernelManifest, ProviderManifest, ReleaseManifest, SourceRevision};
use crate::{repo, time};

/// What to federate and where to write it.
pub struct Request {
    /// The workspace: its source commit and kernel are recorded, and provenance names its
    /// files relative to it.
    pub root: PathBuf,
    /// The release chain; the repository form writes the next release here.
    pub releases_dir: PathBuf,
    /// Provider run manifests (repository form) [default: `manifests/providers`].
    pub providers: Option<PathBuf>,
    /// Gate policy [default: `manifests/gates.toml`; the original form's defaults without it].
    pub gates: Option<PathBuf>,
    /// The original form: `[hf, gcp, aws]` run manifests and the output; any one of them
    /// selects the form, which then needs all four.
    pub hf_manifest: Option<PathBuf>,
    pub gcp_manifest: Option<PathBuf>,
    pub aws_manifest: Option<PathBuf>,
    pub output: Option<PathBuf>,
    /// Threshold overrides, in the order of [`crate::Thresholds`]' fields.
    pub overrides: [Option<f64>; 4],
    /// Local artifact copies (relative to the current directory).
    pub artifacts: Option<PathBuf>,
    pub carry_forward: bool,
    pub dry_run: bool,
}

impl Request {
    fn original_form(&self) -> bool {
        [
            &self.hf_manifest,
            &self.gcp_manifest,
            &self.aws_manifest,
            &self.output,
        ]
        .iter()
        .any(|a| a.is_some())
    }

    fn gates_file(&self) -> Option<PathBuf> {
        match (&self.gates, self.original_form()) {
            (None, true) => None,
            (gates, _) => Some(
                gates
                    .clone()
                    .unwrap_or_else(|| self.root.join(repo::GATES_FILE)),
            ),
        }
    }
}

/// A judged run, not yet written.
pub struct Run {
    pub outcome: Outcome,
    /// Where the release goes (or would go); `None` when there is no release.
    pub target: Option<PathBuf>,
    provenance: Option<Vec<u8>>,
    original_form: bool,
    root: PathBuf,
    releases_dir: PathBuf,
    dry_run: bool,
}

/// A release written.
pub struct Written {
    /// As given for the original form, workspace-relative for the repository form.
    pub path: PathBuf,
    pub provenance: PathBuf,
    /// Temp files of killed writers removed under the lock.
    pub removed_stale: Vec<PathBuf>,
}

/// Reads, checks and judges: everything but the write. `Err` is invalid input (2), a chain
/// that does not verify or an incomplete kernel (1), or the environment (3). Once the inputs
/// are read and the chain verifies, the repository form (unless a dry run) removes the temp
/// files killed writers left in the releases directory and hands them to `removed_stale` at
/// once, so they are named even when the run then fails.
pub fn prepare(
    request: &Request,
    removed_stale: &mut dyn FnMut(Vec<PathBuf>),
) -> Result<Run, Failure> {
    let root = &request.root;
    let original_form = request.original_form();
    // Phase 1: read every input, collecting every diagnostic.
    let (policy, manifests, history) = read_inputs(request, original_form)?;
    // Hashed before the manifests move into federation (they can be large: no copy is kept).
    let provider_files: Vec<(String, InputFile)> = manifests
        .iter()
        .map(|m| {
            (
                m.provider.name().to_owned(),
                InputFile::of_bytes(name_in(root, &m.path), m.text.as_bytes()),
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
    if !original_form && !request.dry_run {
        removed_stale(chain::clean_stale_temp_files(&request.releases_dir)?);
    }
    let recorded = record_workspace(root)?;

    // Phase 2: judge and build.
    let outcome = federation::federate(Inputs {
        manifests,
        thresholds: policy.thresholds,
        expires_after_days: policy.expires_after_days,
        previous: history.last().map(|r| r.manifest.clone()),
        carry_forward: request.carry_forward,
        artifacts: ArtifactLocator {
            base: std::env::current_dir().unwrap_or_default(),
            dir: request.artifacts.clone(),
        },
        now,
        kernel_digest: recorded.kernel.as_ref().map(|k| k.digest.clone()),
        source: recorded.source.clone(),
    })
    .map_err(Failure::located)?;
    let target = match (&request.output, &outcome.release) {
        (Some(output), _) => Some(output.clone()),
        (None, Some(release)) => Some(
            request
                .releases_dir
                .join(chain::release_file_name(release.release_seq)),
        ),
        (None, None) => None,
    };
    let provenance = match (&outcome.release, &target) {
        (Some(release), Some(target)) => {
            let file_name = target
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let gates = match request.gates_file() {
                Some(path) => {
                    let bytes = support::input::read_bounded(
                        &path,
                        crate::gates::MAX_BYTES,
                        "gate policy",
                    )?;
                    Some(InputFile::of_bytes(name_in(root, &path), &bytes))
                }
                None => None,
            };
            let inputs = FederationInputs {
                providers: provider_files,
                gates,
                kernel: recorded
                    .kernel
                    .as_ref()
                    .map(|k| (k.manifest.clone(), k.entries.clone())),
                carry_forward: request.carry_forward,
                expires_after_days: policy.expires_after_days,
            };
            Some(attest::provenance_statement(release, &file_name, &inputs).to_bytes())
        }
        _ => None,
    };
    Ok(Run {
        outcome,
        target,
        provenance,
        original_form,
        root: root.clone(),
        releases_dir: request.releases_dir.clone(),
        dry_run: request.dry_run,
    })
}

impl Run {
    /// Writes the release and its provenance, unless this is a dry run or there is no release.
    pub fn write(&self) -> Result<Option<Written>, Failure> {
        let Some(release) = self.outcome.release.as_ref().filter(|_| !self.dry_run) else {
            return Ok(None);
        };
        let provenance = self.provenance.as_deref().expect("built for every release");
        let written = if self.original_form {
            let path = self.target.clone().expect("a release always has a target");
            write_output(&path, &release.to_bytes())?;
            write_output(&attest::provenance_path(&path), provenance)?;
            // The original form names the output path as given, like the script did.
            Written {
                provenance: attest::provenance_path(&path),
                path,
                removed_stale: Vec::new(),
            }
        } else {
            let published =
                chain::publish_with(&self.releases_dir, release, &[("provenance", provenance)])?;
            let path = shown(&self.root, &published.path);
            Written {
                provenance: attest::provenance_path(&path),
                path,
                removed_stale: published.removed_stale,
            }
        };
        Ok(Some(written))
    }

    /// The closing lines for people: where the release went and what it records, or what a
    /// dry run would write. `None` when there is no release.
    pub fn summary(&self, written: Option<&Written>) -> Option<String> {
        let release = self.outcome.release.as_ref()?;
        Some(match written {
            // The original script's two lines first: where the release went, and its id.
            Some(written) => format!(
                "{}\n{}\nrelease_seq {} digest {}\nprovenance {}\n{}\n",
                written.path.display(),
                release.fused_model_id,
                release.release_seq,
                release.digest,
                written.provenance.display(),
                describe_source(release)
            ),
            None => format!(
                "dry run: would write {} (release_seq {}, digest {}, {})\n",
                shown(
                    &self.root,
                    self.target.as_ref().expect("a release always has a target")
                )
                .display(),
                release.release_seq,
                release.digest,
                release.fused_model_id
            ),
        })
    }

    /// Exit 1 with every provider's failure when no release was built.
    pub fn verdict(&self) -> Result<Exit, Failure> {
        match &self.outcome.release {
            Some(_) => Ok(Exit::Success),
            None => Err(Failure::check_failed(format!(
                "{}\nno release written",
                self.outcome.failures.join("\n")
            ))),
        }
    }
}

type FederationFiles = (GatePolicy, Vec<ProviderManifest>, Vec<StoredRelease>);

/// The gate policy (with threshold overrides applied), the provider manifests and the release
/// history; every problem in any of them is reported together (exit 2).
fn read_inputs(request: &Request, original_form: bool) -> Result<FederationFiles, Failure> {
    let mut problems: Vec<Located> = Vec::new();
    let policy = match request.gates_file() {
        None => Ok(GatePolicy::default()),
        Some(gates) => GatePolicy::load(&gates),
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
    .zip(request.overrides)
    {
        if let Some(value) = value {
            *slot = value;
        }
    }
    let manifest_paths = if original_form {
        let named = [
            ("--hf-manifest", &request.hf_manifest),
            ("--gcp-manifest", &request.gcp_manifest),
            ("--aws-manifest", &request.aws_manifest),
            ("--output", &request.output),
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
        let output = request.output.as_ref().expect("checked above");
        refuse_output_over_input(output, inputs.iter().chain(request.gates.as_ref()))?;
        inputs
    } else {
        let dir = request
            .providers
            .clone()
            .unwrap_or_else(|| request.root.join(repo::PROVIDERS_DIR));
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
        chain::load_releases(&request.releases_dir).unwrap_or_else(|mut found| {
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

/// The releases of a directory and what `chain::verify_chain` finds wrong with them.
pub struct ChainCheck {
    pub dir: PathBuf,
    pub releases: Vec<StoredRelease>,
    pub problems: Vec<Located>,
}

/// `--verify-chain`: reads and verifies the chain in `dir` (unreadable releases are invalid
/// input).
pub fn check_chain(dir: &Path) -> Result<ChainCheck, Failure> {
    let releases = chain::load_releases(dir).map_err(Failure::located)?;
    let problems = chain::verify_chain(&releases);
    Ok(ChainCheck {
        dir: dir.to_owned(),
        releases,
        problems,
    })
}

impl ChainCheck {
    /// `release-chain/v1`.
    pub fn shape(&self) -> ReleaseChain {
        ReleaseChain {
            schema: ReleaseChain::schema(),
            ok: self.problems.is_empty(),
            releases: self
                .releases
                .iter()
                .map(|r| ChainRelease {
                    path: r.path.display().to_string(),
                    release_seq: r.manifest.release_seq,
                    digest: r.manifest.digest.clone(),
                    rollback_of: r.manifest.rollback_of.clone(),
                })
                .collect(),
            problems: self.problems.iter().map(ToString::to_string).collect(),
        }
    }

    /// One line per release; the closing line when the chain verifies.
    pub fn text(&self) -> String {
        let mut text = String::new();
        for r in &self.releases {
            text.push_str(&format!(
                "{:>6}  {}  {}\n",
                r.manifest.release_seq,
                r.manifest.digest,
                r.path.display()
            ));
        }
        if self.problems.is_empty() {
            text.push_str(&format!(
                "release chain ok: {} release(s) in {}\n",
                self.releases.len(),
                self.dir.display()
            ));
        }
        text
    }

    /// Exit 1 with every problem when the chain does not verify.
    pub fn verdict(self) -> Result<Exit, Failure> {
        if self.problems.is_empty() {
            return Ok(Exit::Success);
        }
        Err(Failure {
            exit: Exit::CheckFailed,
            located: self.problems,
            message: Some("release chain does not verify".into()),
        })
    }
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
    let source = crate::source::of_checkout(root).map_err(Failure::environment)?;
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
        support::input::read_bounded(&kernel_path, crate::kernel::MAX_BYTES, "kernel manifest")?;
    Ok(Recorded {
        source,
        kernel: Some(RecordedKernel {
            digest,
            manifest: InputFile::of_bytes(name_in(root, &kernel_path), &bytes),
            entries: state.entries,
        }),
    })
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
