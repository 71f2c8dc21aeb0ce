//! Making a run-time recording (`cargo xtask impact record` is the front end): runs the tests
//! with every test binary traced by strace and writes what each binary read at run time
//! ([`crate::recording`] holds the format and its lookups).
//!
//! nextest starts every test binary through cargo's target runner
//! (`CARGO_TARGET_<triple>_RUNNER`), so setting that variable for one run wraps each binary
//! without touching the user's `.cargo/config.toml` or `.config/nextest.toml`. The runner is a
//! copy of the front end's binary in its hidden `__trace-runner` mode ([`Request::runner`]),
//! which calls [`trace`]: it runs the test under strace,
//! keeps only the repository paths, and writes one small JSON file per test process (nextest
//! runs each test in a process of its own and names it in `NEXTEST_TEST_NAME`, so reads are
//! kept per test).
//!
//! Where the installed strace supports it (`--seccomp-bpf`, checked once per recording), the
//! kernel stops the test only at the traced system calls, not at every one, which is most of
//! the tracing cost; `--no-seccomp-bpf` traces the old way (for measuring the difference).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use lanes_config::nextest;
use support::{Exit, Failure};
use xshell::{Shell, cmd};

use crate::recording::{self, Invocation, Recording};

/// Environment of the trace runner, set by `record` for the nextest run.
const TRACE_DIR: &str = "IMPACT_TRACE_DIR";
const TRACE_ROOT: &str = "IMPACT_TRACE_ROOT";
const TRACE_IGNORE: &str = "IMPACT_TRACE_IGNORE";
/// Set to `1` when strace's `--seccomp-bpf` is to be used.
const TRACE_SECCOMP: &str = "IMPACT_TRACE_SECCOMP";

pub fn strace_install_command() -> &'static str {
    "apt-get install -y strace"
}

/// What to record.
pub struct Request {
    /// The workspace's `Cargo.toml`.
    pub manifest: PathBuf,
    /// Record this lane's tests (lanes.toml); `None` records the whole workspace.
    pub lane: Option<String>,
    /// Where to write the recording; `None` is [`crate::analyze::DEFAULT_RECORDING`] in the
    /// workspace.
    pub output: Option<PathBuf>,
    /// Fail (exit 3, naming the command) instead of installing a missing nextest or strace.
    pub no_install: bool,
    /// Trace every system call, not only the traced ones.
    pub no_seccomp_bpf: bool,
    /// Extra arguments for `cargo nextest run`.
    pub nextest_args: Vec<String>,
    /// The binary nextest starts as `RUNNER __trace-runner TEST ARGS...` for each test
    /// binary; its `__trace-runner` mode must call [`trace`]. It is copied first, so a rebuild
    /// during the run cannot swap it out.
    pub runner: PathBuf,
}

/// Runs the tests under the tracer and writes the recording (exit 1 when tests failed under
/// it, with the recording written all the same).
pub fn record(request: Request) -> Result<Exit, Failure> {
    let Request {
        manifest,
        lane,
        output,
        no_install,
        no_seccomp_bpf: no_seccomp,
        nextest_args,
        runner: me,
    } = request;
    let manifest = manifest.canonicalize().map_err(|_| {
        Failure::invalid_input(format!(
            "{} does not exist: not a Cargo workspace",
            manifest.display()
        ))
    })?;
    let workspace = manifest
        .parent()
        .expect("a file has a parent")
        .to_path_buf();
    let repo = crate::git::Repo::discover(&workspace)?;
    let output = output.unwrap_or_else(|| workspace.join(crate::analyze::DEFAULT_RECORDING));

    nextest::ensure(no_install)?;
    ensure_strace(no_install)?;
    let seccomp = !no_seccomp && seccomp_bpf_works();
    support::note!(
        "tracing with strace{}",
        if seccomp {
            " --seccomp-bpf (only the traced system calls stop a test)"
        } else if no_seccomp {
            " without --seccomp-bpf (--no-seccomp-bpf)"
        } else {
            " without --seccomp-bpf (this strace or kernel does not support it)"
        }
    );
    let sh = Shell::new().map_err(|e| Failure::environment(e.to_string()))?;
    let root = &repo.root;
    let commit = cmd!(sh, "git -C {root} rev-parse HEAD")
        .quiet()
        .read()
        .map_err(|e| Failure::environment(format!("`git rev-parse HEAD` failed: {e}")))?;
    let dirty = !cmd!(sh, "git -C {root} status --porcelain --untracked-files=no")
        .quiet()
        .read()
        .unwrap_or_default()
        .trim()
        .is_empty();
    if dirty {
        support::note!(
            "warning: the working tree has uncommitted changes; the recording is filed under {commit} all the same"
        );
    }

    // Everything the runner needs lives in one fresh directory without spaces (cargo splits a
    // runner setting on whitespace), including a copy of this binary, so a rebuild of the
    // xtask during the run cannot swap the runner out.
    let trace_dir = std::env::temp_dir().join(format!("impact-trace-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&trace_dir);
    std::fs::create_dir_all(&trace_dir)
        .map_err(|e| Failure::environment(format!("cannot create {}: {e}", trace_dir.display())))?;
    let cleanup = RemoveOnDrop(trace_dir.clone());
    let runner = trace_dir.join("trace-runner");
    std::fs::copy(&me, &runner).map_err(|e| {
        Failure::environment(format!("cannot copy the runner {}: {e}", me.display()))
    })?;

    let mut args = vec!["run".to_owned(), "--no-fail-fast".to_owned()];
    let mut filterset = None;
    match &lane {
        Some(name) => {
            let selection = lanes_config::selection(&workspace, name)?;
            args.extend(["--profile".to_owned(), selection.profile.clone()]);
            args.extend(selection.build_args());
            args.extend(["-E".to_owned(), selection.filterset.clone()]);
            filterset = Some(selection.filterset.clone());
        }
        None => args.push("--workspace".to_owned()),
    }
    args.extend(nextest_args);
    let target_dir = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => workspace.join("target"),
    };
    let env = vec![
        (
            runner_variable()?,
            format!("{} __trace-runner", runner.display()),
        ),
        (TRACE_DIR.to_owned(), trace_dir.display().to_string()),
        (TRACE_ROOT.to_owned(), root.display().to_string()),
        (TRACE_IGNORE.to_owned(), target_dir.display().to_string()),
        (
            TRACE_SECCOMP.to_owned(),
            if seccomp { "1" } else { "0" }.to_owned(),
        ),
    ];
    let started = std::time::Instant::now();
    let status = nextest::run_with_env(&workspace, &args, &env)?;
    let seconds = started.elapsed().as_secs_f64();

    let mut recording = Recording::new(commit.trim().to_owned(), dirty, lane, filterset);
    let mut processes = 0;
    for entry in std::fs::read_dir(&trace_dir).map_err(|e| Failure::environment(e.to_string()))? {
        let path = entry
            .map_err(|e| Failure::environment(e.to_string()))?
            .path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Failure::environment(format!("cannot read {}: {e}", path.display())))?;
        let invocation: Invocation = serde_json::from_str(&text).map_err(|e| {
            Failure::environment(format!("bad trace record {}: {e}", path.display()))
        })?;
        processes += usize::from(invocation.listed_tests.is_none());
        recording.add(invocation);
    }
    drop(cleanup);
    if processes == 0 && !status.success() {
        // A build error or nextest refusing the arguments: nothing ran, so nothing to keep.
        return Err(nextest::failure(
            status,
            "the recording (before any test ran under the tracer; nothing recorded)",
        ));
    }
    if processes == 0 {
        return Err(Failure::environment(
            "no test ran under the tracer although cargo nextest succeeded: another target runner \
             (a nextest wrapper script or target-runner setting) may have replaced it; nothing recorded",
        ));
    }
    if let Some(parent) = output.parent() {
        std::fs::create_dir_all(parent).map_err(|e| {
            Failure::environment(format!("cannot create {}: {e}", parent.display()))
        })?;
    }
    support::atomic::write_atomic(&output, recording.to_json().as_bytes())
        .map_err(|e| Failure::environment(format!("cannot write {}: {e}", output.display())))?;
    let reads = recording.files_read();
    support::note!(
        "recorded {} binaries, {processes} test processes, {} repository files read, in {seconds:.1} s -> {}",
        recording.binaries.len(),
        reads.len(),
        output.display()
    );
    let failures = recording.failures();
    if !status.success() || !failures.is_empty() {
        let mut message = format!(
            "tests failed under the tracer (cargo nextest exited with {}); the recording was written, and binaries with failed tests count as not fully known",
            exit_text(status)
        );
        for failure in failures {
            message.push_str(&format!("\n  failed: {failure}"));
        }
        return Err(Failure::check_failed(message));
    }
    Ok(Exit::Success)
}

fn exit_text(status: std::process::ExitStatus) -> String {
    status
        .code()
        .map_or("a signal".to_owned(), |c| c.to_string())
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `CARGO_TARGET_<HOST TRIPLE>_RUNNER`, from `rustc -vV`.
fn runner_variable() -> Result<String, Failure> {
    let sh = Shell::new().map_err(|e| Failure::environment(e.to_string()))?;
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let version = cmd!(sh, "{rustc} -vV")
        .quiet()
        .read()
        .map_err(|e| Failure::environment(format!("cannot run `rustc -vV`: {e}")))?;
    let host = version
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .ok_or_else(|| Failure::environment("`rustc -vV` printed no host triple"))?;
    Ok(format!(
        "CARGO_TARGET_{}_RUNNER",
        host.to_uppercase().replace(['-', '.'], "_")
    ))
}

/// Does this strace (and kernel) trace with a seccomp filter? Tried on `true`, the way the
/// runner uses it; an unsupported option or a fallback warning both mean no.
fn seccomp_bpf_works() -> bool {
    let Ok(sh) = Shell::new() else { return false };
    let syscalls = recording::STRACE_SYSCALLS;
    cmd!(
        sh,
        "strace -f -qq --seccomp-bpf -e {syscalls} -o /dev/null -- true"
    )
    .quiet()
    .ignore_stdout()
    .output()
    .is_ok_and(|out| out.status.success() && out.stderr.is_empty())
}

fn strace_works() -> bool {
    let Ok(sh) = Shell::new() else { return false };
    cmd!(sh, "strace -V")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_ok()
}

/// Makes sure strace runs: installs it with apt-get when we are root and may install,
/// otherwise exits 3 with the command.
fn ensure_strace(no_install: bool) -> Result<(), Failure> {
    if strace_works() {
        return Ok(());
    }
    let command = strace_install_command();
    let is_root = Shell::new()
        .ok()
        .and_then(|sh| cmd!(sh, "id -u").quiet().read().ok())
        .is_some_and(|uid| uid.trim() == "0");
    if no_install || !is_root {
        return Err(Failure::environment(format!(
            "strace is not installed; recording traces every test binary with it. Install it with:\n    {}{command}",
            if is_root { "" } else { "sudo " }
        )));
    }
    support::note!("strace is missing: installing it with `{command}`");
    let sh = Shell::new().map_err(|e| Failure::environment(e.to_string()))?;
    cmd!(sh, "apt-get install -y strace")
        .run()
        .map_err(|e| Failure::environment(format!("`{command}` failed: {e}")))?;
    if strace_works() {
        Ok(())
    } else {
        Err(Failure::environment(format!(
            "strace still does not run after `{command}`"
        )))
    }
}

/// `__trace-runner BINARY ARGS...`: what nextest starts instead of each test binary. It ends
/// the process with the test's own exit code, so tracing never changes an outcome; it returns
/// only on a usage or environment error.
pub fn trace(args: Vec<OsString>) -> Result<Exit, Failure> {
    let Some((binary, rest)) = args.split_first() else {
        return Err(Failure::invalid_input("__trace-runner needs a test binary"));
    };
    let var = |name: &str| std::env::var_os(name).map(PathBuf::from);
    let (Some(dir), Some(root)) = (var(TRACE_DIR), var(TRACE_ROOT)) else {
        return Err(Failure::invalid_input(
            "__trace-runner runs only under `cargo xtask impact record`",
        ));
    };
    let ignored: Vec<PathBuf> = var(TRACE_IGNORE).into_iter().collect();
    let binary_id = std::env::var("NEXTEST_BINARY_ID").unwrap_or_else(|_| {
        Path::new(binary)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let unique = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    let sh = Shell::new().map_err(|e| Failure::environment(e.to_string()))?;
    let listing = std::env::var("NEXTEST_TEST_PHASE").is_ok_and(|p| p == "list")
        || rest.iter().any(|a| a == "--list");
    if listing {
        // Listing reads nothing worth keeping; count the tests so the recording knows when a
        // binary's tests were only partly traced.
        let mut command: Command = cmd!(sh, "{binary} {rest...}").into();
        untrace_children(&mut command);
        let out = command
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(|e| {
                Failure::environment(format!("cannot run {}: {e}", binary.to_string_lossy()))
            })?;
        use std::io::Write;
        let _ = std::io::stdout().write_all(&out.stdout);
        if !rest.iter().any(|a| a == "--ignored") {
            let count = String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|l| l.ends_with(": test"))
                .count();
            let invocation = Invocation {
                binary_id,
                listed_tests: Some(u32::try_from(count).unwrap_or(u32::MAX)),
                ..Invocation::default()
            };
            write_invocation(&dir, &unique, &invocation)?;
        }
        exit_with(out.status);
    }
    let trace = dir.join(format!("{unique}.trace"));
    let syscalls = recording::STRACE_SYSCALLS;
    let seccomp: &[&str] = if std::env::var(TRACE_SECCOMP).is_ok_and(|v| v == "1") {
        &["--seccomp-bpf"]
    } else {
        &[]
    };
    let mut command: Command = cmd!(
        sh,
        "strace -f -y -qq {seccomp...} -e {syscalls} -o {trace} -- {binary} {rest...}"
    )
    .into();
    untrace_children(&mut command);
    let status = command
        .status()
        .map_err(|e| Failure::environment(format!("cannot run strace: {e}")))?;
    let text = std::fs::read(&trace).unwrap_or_default();
    let _ = std::fs::remove_file(&trace);
    let cwd = std::env::current_dir().unwrap_or_default();
    let accesses = recording::parse_strace(&String::from_utf8_lossy(&text), &cwd);
    let (reads, listed) = recording::repository_paths(&accesses, &root, &ignored);
    let invocation = Invocation {
        binary_id,
        listed_tests: None,
        test: std::env::var("NEXTEST_TEST_NAME").ok(),
        exit_code: status.code(),
        reads,
        listed,
    };
    write_invocation(&dir, &unique, &invocation)?;
    exit_with(status)
}

/// Keeps the runner settings away from the test itself: a test that runs cargo or nextest on
/// another workspace must not start trace runners of its own (ptrace does not nest, and their
/// records would land in this recording). strace -f still sees what those processes read.
fn untrace_children(command: &mut Command) {
    for (name, value) in std::env::vars_os() {
        let name_text = name.to_string_lossy();
        let is_runner = name_text.starts_with("CARGO_TARGET_")
            && name_text.ends_with("_RUNNER")
            && value.to_string_lossy().ends_with(" __trace-runner");
        if is_runner
            || [TRACE_DIR, TRACE_ROOT, TRACE_IGNORE, TRACE_SECCOMP].contains(&name_text.as_ref())
        {
            command.env_remove(&name);
        }
    }
}

fn write_invocation(dir: &Path, unique: &str, invocation: &Invocation) -> Result<(), Failure> {
    let json = serde_json::to_vec(invocation).map_err(|e| Failure::environment(e.to_string()))?;
    support::atomic::write_atomic(&dir.join(format!("{unique}.json")), &json)
        .map_err(|e| Failure::environment(format!("cannot write a trace record: {e}")))
}

/// Exits with the child's exit code; a signal becomes 128 + its number, as a shell reports it.
fn exit_with(status: std::process::ExitStatus) -> ! {
    use std::os::unix::process::ExitStatusExt;
    let code = status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1);
    std::process::exit(code)
}
