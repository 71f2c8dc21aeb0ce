//! Streaming artifact hashing: any file size in bounded memory, several files across cores.
//!
//! Each file is read through one fixed buffer ([`BUFFER_SIZE`]), so memory stays flat whether an
//! artifact is a kilobyte or a hundred gigabytes. [`hash_files`] spreads files over a small pool
//! of scoped threads; each thread takes the next unhashed file, so one huge artifact does not
//! hold back the small ones.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use sha2::{Digest, Sha256};

/// Read buffer per hashing thread.
pub const BUFFER_SIZE: usize = 1 << 20;

/// Files at least this large report progress (roughly every [`PROGRESS_STEP`] bytes).
pub const PROGRESS_THRESHOLD: u64 = 64 << 20;
pub const PROGRESS_STEP: u64 = 64 << 20;

/// The content identity of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    /// `sha256:<64 lowercase hex>`, the form release manifests use.
    pub digest: String,
    pub size: u64,
}

/// Progress of one large file: `done` of `total` bytes hashed.
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    pub path: &'a Path,
    pub done: u64,
    pub total: u64,
}

/// Called from hashing threads; keep it cheap.
pub type ProgressFn<'a> = &'a (dyn Fn(Progress<'_>) + Sync);

/// Hashes one file, streaming it through a [`BUFFER_SIZE`] buffer.
pub fn hash_file(path: &Path, progress: Option<ProgressFn<'_>>) -> io::Result<FileDigest> {
    let mut buffer = vec![0u8; BUFFER_SIZE];
    hash_file_with(path, &mut buffer, progress)
}

fn hash_file_with(
    path: &Path,
    buffer: &mut [u8],
    progress: Option<ProgressFn<'_>>,
) -> io::Result<FileDigest> {
    hash_reporting(path, buffer, progress, PROGRESS_THRESHOLD, PROGRESS_STEP)
}

fn hash_reporting(
    path: &Path,
    buffer: &mut [u8],
    progress: Option<ProgressFn<'_>>,
    threshold: u64,
    step: u64,
) -> io::Result<FileDigest> {
    let mut file = File::open(path)?;
    let total = file.metadata()?.len();
    let progress = progress.filter(|_| total >= threshold);
    let mut hasher = Sha256::new();
    let mut done = 0u64;
    let mut next_report = step;
    loop {
        let read = match file.read(buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        hasher.update(&buffer[..read]);
        done += read as u64;
        if let Some(report) = progress
            && done >= next_report
        {
            report(Progress { path, done, total });
            next_report = done + step;
        }
    }
    if let Some(report) = progress {
        report(Progress { path, done, total });
    }
    Ok(FileDigest {
        digest: release::canonical::digest_string(&hasher.finalize()),
        size: done,
    })
}

/// Hashes `paths` on up to `jobs` threads (0 means one per available core).
///
/// Results come back in the order of `paths`. Memory is one buffer per thread.
pub fn hash_files(
    paths: &[PathBuf],
    jobs: usize,
    progress: Option<ProgressFn<'_>>,
) -> Vec<io::Result<FileDigest>> {
    let threads = effective_jobs(jobs).min(paths.len()).max(1);
    if threads == 1 {
        let mut buffer = vec![0u8; BUFFER_SIZE];
        return paths
            .iter()
            .map(|path| hash_file_with(path, &mut buffer, progress))
            .collect();
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<io::Result<FileDigest>>>> =
        Mutex::new(paths.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut buffer = vec![0u8; BUFFER_SIZE];
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = paths.get(index) else { break };
                    let result = hash_file_with(path, &mut buffer, progress);
                    results.lock().unwrap_or_else(|e| e.into_inner())[index] = Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|slot| slot.expect("every index is claimed by exactly one thread"))
        .collect()
}

/// `jobs`, or the number of available cores when `jobs` is 0.
pub fn effective_jobs(jobs: usize) -> usize {
    if jobs > 0 {
        return jobs;
    }
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;
    use release::canonical::sha256_digest as digest_bytes;
    use std::io::Write;

    // sha256("abc"), FIPS 180-2 appendix B.1.
    const ABC: &str = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn known_answer_for_bytes_and_files() {
        assert_eq!(digest_bytes(b"abc"), ABC);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc");
        std::fs::write(&path, b"abc").unwrap();
        let got = hash_file(&path, None).unwrap();
        assert_eq!(got.digest, ABC);
        assert_eq!(got.size, 3);
    }

    #[test]
    fn files_larger_than_the_buffer_hash_like_one_slice_and_report_progress() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        let mut content = Vec::new();
        for i in 0..(BUFFER_SIZE * 3 + 12345) {
            content.push((i * 31 % 251) as u8);
        }
        std::fs::File::create(&path)
            .unwrap()
            .write_all(&content)
            .unwrap();
        let reports = Mutex::new(Vec::new());
        let record = |p: Progress<'_>| reports.lock().unwrap().push((p.done, p.total));
        // Below the threshold: no progress.
        let got = hash_file(&path, Some(&record)).unwrap();
        assert_eq!(got.digest, digest_bytes(&content));
        assert_eq!(got.size, content.len() as u64);
        assert!(reports.lock().unwrap().is_empty());
        // Above it: a report per step, counting up to the total, the last one complete.
        let mut buffer = vec![0u8; BUFFER_SIZE];
        let step = BUFFER_SIZE as u64;
        let again = hash_reporting(&path, &mut buffer, Some(&record), 0, step).unwrap();
        assert_eq!(again, got);
        let reports = reports.into_inner().unwrap();
        let total = content.len() as u64;
        assert_eq!(reports.len(), 4, "{reports:?}");
        assert!(reports.windows(2).all(|w| w[0].0 < w[1].0), "{reports:?}");
        assert!(reports.iter().all(|&(_, t)| t == total));
        assert_eq!(reports.last().unwrap().0, total);
    }

    #[test]
    fn parallel_results_keep_input_order_and_report_errors_per_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut paths = Vec::new();
        for i in 0..7u8 {
            let path = dir.path().join(format!("f{i}"));
            std::fs::write(&path, vec![i; 1000 + usize::from(i)]).unwrap();
            paths.push(path);
        }
        paths.insert(3, dir.path().join("missing"));
        let results = hash_files(&paths, 3, None);
        assert_eq!(results.len(), 8);
        for (path, result) in paths.iter().zip(&results) {
            match std::fs::read(path) {
                Ok(bytes) => assert_eq!(result.as_ref().unwrap().digest, digest_bytes(&bytes)),
                Err(_) => assert_eq!(result.as_ref().unwrap_err().kind(), io::ErrorKind::NotFound),
            }
        }
    }
}
