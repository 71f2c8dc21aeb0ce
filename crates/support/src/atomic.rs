//! Atomic file replacement: temp file in the same directory, fsync, rename, fsync the directory.
//!
//! A reader (or a process that crashed half-way) sees either the old contents or the new ones,
//! never a truncated or empty file.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically, creating missing parent directories, and makes the
/// replacement durable (the directory is synced).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    replace(path, bytes)?;
    sync_dir(&parent_dir(path))
}

/// Replaces `path` with `bytes` atomically (temp file, fsync, rename), without syncing the
/// directory. A reader sees the old or the new contents; the rename is durable only once
/// [`sync_dir`] of the parent succeeds. For callers whose commit is the rename itself and who
/// must tell "not replaced" from "replaced, durability unknown".
pub fn replace(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let parent = parent_dir(path);
    fs::create_dir_all(&parent)?;
    let tmp = temp_path(path);
    let result = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Writes `bytes` to `path` only if nothing is there yet, atomically and without a race:
/// the bytes go to a fsynced temp file that is then hard-linked to `path`. The link is the
/// file system's own no-clobber test, so of two writers exactly one succeeds; the other gets
/// [`io::ErrorKind::AlreadyExists`] and leaves nothing behind. The parent must exist.
pub fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let parent = parent_dir(path);
    let tmp = temp_path(path);
    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::hard_link(&tmp, path)
    })();
    let _ = fs::remove_file(&tmp);
    result?;
    sync_dir(&parent)
}

/// True for the temp files [`write_atomic`] and [`write_new`] make next to `target_name`
/// (`.NAME.tmp.PID.NANOS`), which a killed writer leaves behind.
pub fn is_temp_file_of(file_name: &str, target_prefix: &str) -> bool {
    file_name
        .strip_prefix('.')
        .is_some_and(|rest| rest.starts_with(target_prefix) && rest.contains(".tmp."))
}

/// True for a path written relative to a workspace root that cannot leave it: not empty, not
/// absolute, `/` separators only, no empty, `.` or `..` segments (`manifests/gates.toml`).
pub fn is_workspace_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && !path.contains(':')
        && path
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..")
}

/// Where a write to `path` would land: the canonical path (symlinks and `..` resolved), or,
/// for a file that does not exist yet, its parent's canonical path joined with its name.
/// `None` when not even the parent exists.
pub fn landing_path(path: &Path) -> Option<PathBuf> {
    if let Ok(canonical) = fs::canonicalize(path) {
        return Some(canonical);
    }
    let name = path.file_name()?;
    fs::canonicalize(parent_dir(path))
        .ok()
        .map(|parent| parent.join(name))
}

/// The nearest existing ancestor of `path` that is not a directory, which makes creating
/// `path` impossible ("File exists" or "Not a directory" from the OS say it less clearly).
pub fn blocking_ancestor(path: &Path) -> Option<PathBuf> {
    path.ancestors()
        .skip(1)
        .filter(|a| !a.as_os_str().is_empty())
        .find(|a| fs::symlink_metadata(a).is_ok())
        .filter(|a| !a.is_dir())
        .map(Path::to_path_buf)
}

/// Flushes a directory entry change (create, rename, unlink) to disk.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A hidden sibling, unique per process, so concurrent writers never share a temp file.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let unique = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    parent_dir(path).join(format!(".{name}.tmp.{}.{unique}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_contents_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/out.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out.json")]);
    }

    #[test]
    fn workspace_relative_paths_cannot_leave_the_workspace() {
        assert!(is_workspace_relative("manifests/release-lane.toml"));
        for path in [
            "",
            "/etc/passwd",
            "../..",
            "a/../b",
            "a//b",
            "./a",
            "a\\b",
            "C:/x",
        ] {
            assert!(!is_workspace_relative(path), "{path}");
        }
    }

    #[test]
    fn write_new_never_replaces_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("release-000001.json");
        write_new(&path, b"first").unwrap();
        let err = write_new(&path, b"second").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&path).unwrap(), b"first");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("release-000001.json")]);
        assert!(is_temp_file_of(".release-000002.json.tmp.41.7", "release-"));
        assert!(!is_temp_file_of("release-000002.json", "release-"));
    }

    #[test]
    fn a_failed_write_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        write_atomic(&path, b"old").unwrap();
        // Renaming onto a non-empty directory fails after the temp file was written.
        let blocked = dir.path().join("blocked");
        fs::create_dir_all(blocked.join("child")).unwrap();
        assert!(write_atomic(&blocked, b"new").is_err());
        assert_eq!(fs::read(&path).unwrap(), b"old");
        let leftovers = fs::read_dir(dir.path()).unwrap().filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".tmp.")
        });
        assert_eq!(leftovers.count(), 0);
    }
}
