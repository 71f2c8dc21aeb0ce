//! Kernel manifest: not built yet (see the open issue).

use std::ffi::OsString;

use support::{Exit, Failure};

pub fn run(_args: Vec<OsString>) -> Result<Exit, Failure> {
    Err(Failure::environment(
        "`cargo xtask` Kernel manifest is not built yet",
    ))
}
