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
