//! Gate 0: not built yet (see the open issue).

use std::ffi::OsString;

use support::{Exit, Failure};

pub fn run(_args: Vec<OsString>) -> Result<Exit, Failure> {
    Err(Failure::environment(
        "`cargo xtask` Gate 0 is not built yet",
    ))
}
