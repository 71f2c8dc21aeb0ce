//! How results reach people: miette for diagnostics with source text, plain text for logs,
//! no colour when `NO_COLOR` is set or stderr is not a terminal.

use std::io::IsTerminal;

use support::Failure;

/// True when output should be plain text (no colour, no Unicode art).
pub fn plain() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) || !std::io::stderr().is_terminal()
}

pub fn install_report_hook() {
    let plain = plain();
    let _ = miette::set_hook(Box::new(move |_| {
        let handler = miette::MietteHandlerOpts::new().terminal_links(false);
        let handler = if plain {
            handler.color(false).unicode(false)
        } else {
            handler
        };
        Box::new(handler.build())
    }));
}

/// Prints every diagnostic a failure collected, then its message.
pub fn report_failure(failure: &Failure) {
    for located in &failure.located {
        eprintln!("{:?}", located.to_report());
    }
    if let Some(message) = &failure.message {
        eprintln!("error: {message}");
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
