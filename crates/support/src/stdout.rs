//! Writing a command's output to stdout without panicking when the reader goes away.
//!
//! `println!` panics (exit 101) when stdout is a closed pipe (`... | head -3`) or full
//! (`> /dev/full`). [`print`] ends quietly on a broken pipe, since the reader chose to stop,
//! and returns any other write error for the caller to report without changing what its exit
//! code says about the work itself.

use std::fmt;
use std::io::{self, Write};
use std::sync::Mutex;

use crate::Exit;

/// Writes `text` and a newline to stdout and flushes. `Ok` when written or when the reader
/// closed the pipe; `Err` for any other failure (a full disk, a closed descriptor).
pub fn print(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    let written = out
        .write_all(text.as_bytes())
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    match written {
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// A warning on stderr that cannot panic: when stderr is gone too, there is no one to tell.
pub fn warn(program: &str, message: &str) {
    let _ = writeln!(io::stderr().lock(), "{program}: warning: {message}");
}

/// What became of stdout: `None` while writes succeed.
static STDOUT_LOST: Mutex<Option<io::Error>> = Mutex::new(None);

/// Writes to stdout (what a front end's `print!`/`println!` call). Once a write fails, later
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

/// Writes to stderr (what a front end's `eprint!`/`eprintln!` call); a closed stderr is ignored.
pub fn print_err(args: fmt::Arguments<'_>) {
    let _ = io::stderr().lock().write_fmt(args);
}

/// What a command line parser has to say, where it belongs: `--help` and `--version`
/// (`parser_exit_code` 0) on stdout, ending quietly if the reader goes away (exit 0); a usage
/// error with its usage line on stderr (exit 2). Every binary's `main` hands its parse errors
/// here through `support::cli::report`.
pub fn command_line_message(text: impl fmt::Display, parser_exit_code: i32) -> Exit {
    if parser_exit_code == 0 {
        print_out(format_args!("{text}"));
        Exit::Success
    } else {
        print_err(format_args!("{text}"));
        Exit::InvalidInput
    }
}

/// A line on stderr from library code (progress, what is being run), through [`print_err`]:
/// a closed stderr is ignored, as in the front ends' `eprintln!`.
#[macro_export]
macro_rules! note {
    ($($arg:tt)*) => {
        $crate::stdout::print_err(format_args!("{}\n", format_args!($($arg)*)))
    };
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
