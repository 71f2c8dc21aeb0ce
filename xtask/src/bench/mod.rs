//! `cargo xtask bench <what>`: rerunnable measurements that print a table (and JSON).

mod artifacts;
mod impact;
pub mod synthetic;

use std::ffi::OsString;

use support::{Exit, Failure};

pub fn run(mut args: Vec<OsString>) -> Result<Exit, Failure> {
    let what = if args.is_empty() {
        None
    } else {
        Some(args.remove(0))
    };
    match what.as_ref().and_then(|w| w.to_str()) {
        Some("impact") => impact::run(args),
        Some("artifacts") => artifacts::run(args),
        _ => Err(Failure::invalid_input(
            "usage: cargo xtask bench <impact|artifacts> [args]",
        )),
    }
}
