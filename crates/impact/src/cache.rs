//! The on-disk cache under `Options::cache_dir` (graphs by content key, include candidates by
//! tree id): every entry is immutable once written, so the only upkeep is pruning.

use std::path::{Path, PathBuf};

/// How many entries of each kind to keep: enough for every branch a developer switches between.
pub const ENTRIES: usize = 64;

/// Keeps the `keep` newest files with extension `extension` in `dir`, removing the least
/// recently written beyond them.
pub fn prune(dir: &Path, extension: &str, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == extension))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    if files.len() <= keep {
        return;
    }
    files.sort();
    for (_, path) in &files[..files.len() - keep] {
        let _ = std::fs::remove_file(path);
    }
}
