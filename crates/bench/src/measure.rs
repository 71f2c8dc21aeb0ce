//! What every bench measures with: GNU time for peak memory, and scratch directories.

use std::path::{Path, PathBuf};

use support::Failure;

/// GNU time, run as `GNU_TIME -v COMMAND` for the peak resident set size; benches skip memory
/// figures where it is missing.
pub const GNU_TIME: &str = "/usr/bin/time";

/// GNU time's "Maximum resident set size (kbytes): 12345", in MiB.
pub fn peak_mib(stderr: &str) -> Option<f64> {
    stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .and_then(|kb| kb.trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
}

/// Where scratch directories go by default: `/dev/shm` when there is one, else the temp dir.
pub fn default_scratch_parent() -> PathBuf {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

/// Makes room for a fresh clone at `path`: removes the bench's clone from an earlier run, and
/// refuses anything else there (a `--dir` given by mistake must not cost a directory).
pub fn clear_old_clone(path: &Path) -> Result<(), Failure> {
    if !path.exists() {
        return Ok(());
    }
    if !path.join(".git").is_dir() {
        return Err(Failure::invalid_input(format!(
            "{} exists and is not a git clone the bench made: remove it or give another --dir",
            path.display()
        )));
    }
    std::fs::remove_dir_all(path).map_err(|e| {
        Failure::environment(format!(
            "cannot remove the old clone {}: {e}",
            path.display()
        ))
    })
}

/// A scratch directory under `parent`, removed on drop.
pub struct ScratchDir(pub PathBuf);

impl ScratchDir {
    pub fn new(parent: &Path, crates: usize) -> Result<ScratchDir, Failure> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = parent.join(format!(
            "impact-bench-{}-{crates}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path)
            .map_err(|e| Failure::environment(format!("cannot create {}: {e}", path.display())))?;
        Ok(ScratchDir(path))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_old_clone_is_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let clone = dir.path().join("clone");
        clear_old_clone(&clone).unwrap();
        std::fs::create_dir_all(clone.join("src")).unwrap();
        std::fs::write(clone.join("src/keep.rs"), "").unwrap();
        let refused = clear_old_clone(&clone).unwrap_err();
        assert_eq!(refused.exit, support::Exit::InvalidInput);
        assert!(clone.join("src/keep.rs").exists(), "nothing removed");
        std::fs::create_dir(clone.join(".git")).unwrap();
        clear_old_clone(&clone).unwrap();
        assert!(!clone.exists());
    }
}
