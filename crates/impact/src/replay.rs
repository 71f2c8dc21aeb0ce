//! One past commit decided again against its first parent, with and without a run-time
//! recording: what `cargo xtask impact history` and `cargo xtask bench history` replay.

use std::path::Path;

use support::Failure;

use crate::{Options, Report, analyze};

/// One commit decided against its parent: without a recording, and with it when one is given.
pub struct Replayed {
    pub without: Report,
    pub with: Option<Report>,
}

/// Decides `parent..commit` with `base_options` (its own recording setting ignored), then again
/// with `recording` (used whatever commit it was made at) when one is given.
pub fn replay(
    base_options: &Options,
    parent: &str,
    commit: &str,
    recording: Option<&Path>,
) -> Result<Replayed, Failure> {
    let mut options = base_options.clone();
    options.base = Some(parent.to_owned());
    options.head = Some(commit.to_owned());
    options.recording = None;
    let without = analyze(&options)?;
    let with = match recording {
        Some(path) => {
            options.recording = Some(path.to_path_buf());
            options.recording_explicit = true;
            options.recording_any_commit = true;
            Some(analyze(&options)?)
        }
        None => None,
    };
    Ok(Replayed { without, with })
}
