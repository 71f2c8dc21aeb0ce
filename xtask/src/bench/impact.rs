//! Impact decision time: not built yet (see the open issue).

use std::ffi::OsString;

use support::{Exit, Failure};

pub fn run(_args: Vec<OsString>) -> Result<Exit, Failure> {
    Err(Failure::environment(
        "`cargo xtask bench impact` is not built yet",
    ))
}
