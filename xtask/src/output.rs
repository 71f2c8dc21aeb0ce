//! How results reach people: stdout and stderr writes that survive a closed pipe, and every
//! failure drawn by `support::render` (the one renderer of diagnostics every binary shares).

use support::Failure;

// The writers behind this crate's `print!`/`eprint!` (main.rs); shared with the bench binary.
pub use support::stdout::{finish, print_err, print_out};

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
