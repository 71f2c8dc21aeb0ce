//! Test lanes: not built yet (see the open issue).

use std::ffi::OsString;

use support::{Exit, Failure};

pub fn list(_args: Vec<OsString>) -> Result<Exit, Failure> {
    Err(Failure::environment(
        "`cargo xtask` Test lanes is not built yet",
    ))
}

pub fn run(_args: Vec<OsString>) -> Result<Exit, Failure> {
    Err(Failure::environment(
        "`cargo xtask` Test lanes is not built yet",
    ))
}
