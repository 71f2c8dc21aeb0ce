//! How results reach people: stdout and stderr writes that survive a closed pipe, and every
//! failure drawn by `support::render` (the one renderer of diagnostics every binary shares).

use std::fmt;
use std::io::{self, Write};
use std::sync::Mutex;

use support::Failure;

/// What became of stdout: `None` while writes succeed.
static STDOUT_LOST: Mutex<Option<io::Error>> = Mutex::new(None);

/// Writes to stdout (what `print!`/`println!` do in this crate). Once a write fails, later
/// output is dropped: a reader that went away (broken pipe) ends it quietly, any other error
/// is reported by [`finish`].
pub fn print_out(args: fmt::Arguments<'_>) {
    let mut lost = STDOUT_LOST
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if lost.is_some() {
        return;
    }
    if let Err(err) = io::stdout().lock().write_fmt(args) {
        *lost = Some(err);
    }
}

/// Writes to stderr (what `eprint!`/`eprintln!` do in this crate); a closed stderr is ignored.
pub fn print_err(args: fmt::Arguments<'_>) {
    let _ = io::stderr().lock().write_fmt(args);
}

/// Flushes stdout before exit and says, on stderr, if output was lost for a reason other
/// than the reader going away. The exit code stays what the work done makes it: a release
/// written is written even when the line saying so could not be.
pub fn finish() {
    let mut lost = STDOUT_LOST
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if lost.is_none()
        && let Err(err) = io::stdout().lock().flush()
    {
        *lost = Some(err);
    }
    match lost.as_ref() {
        Some(err) if err.kind() != io::ErrorKind::BrokenPipe => {
            print_err(format_args!(
                "warning: standard output could not be written ({err}); the exit code \
                 still reports what was done\n"
            ));
        }
        _ => {}
    }
}

/// `--format human|json`, the choice every command with machine output offers: true for JSON.
pub fn json_format(value: impl AsRef<std::ffi::OsStr>) -> Result<bool, Failure> {
    match value.as_ref().to_str() {
        Some("json") => Ok(true),
        Some("human") => Ok(false),
        _ => Err(Failure::invalid_input(format!(
            "--format takes `human` or `json`, not `{}`",
            value.as_ref().to_string_lossy()
        ))),
    }
}

/// Prints every diagnostic a failure collected, then its message (`support::render`).
pub fn report_failure(failure: &Failure) {
    eprint!(
        "{}",
        support::render::failure(failure, &support::render::Style::detect())
    );
}

/// Names the temp files of killed runs that a writer removed (see `release::chain::publish`).
pub fn report_stale(removed: Vec<std::path::PathBuf>) {
    for path in removed {
        eprintln!(
            "note: removed {}, left by a run that was killed while writing",
            path.display()
        );
    }
}

/// Appends Markdown to `$GITHUB_STEP_SUMMARY` when running under GitHub Actions.
pub fn append_step_summary(markdown: &str) -> std::io::Result<()> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") else {
        return Ok(());
    };
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    writeln!(file, "{markdown}")
}
