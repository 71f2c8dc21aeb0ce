//! Writing a command's output to stdout without panicking when the reader goes away.
//!
//! `println!` panics (exit 101) when stdout is a closed pipe (`... | head -3`) or full
//! (`> /dev/full`). [`print`] ends quietly on a broken pipe, since the reader chose to stop,
//! and returns any other write error for the caller to report without changing what its exit
//! code says about the work itself.

use std::io::{self, Write};

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
