//! Impact analysis: not built yet (see the open issue).

use std::ffi::OsString;

use support::{Exit, Failure};

pub fn run(_args: Vec<OsString>) -> Result<Exit, Failure> {
    Err(Failure::environment(
        "`cargo xtask` Impact analysis is not built yet",
    ))
}

pub fn test(_args: Vec<OsString>) -> Result<Exit, Failure> {
    Err(Failure::environment(
        "`cargo xtask` Impact analysis is not built yet",
    ))
}
