//! The source commit a release is federated from: `git rev-parse HEAD` of the workspace, and
//! whether the working tree differs from it (`git status --porcelain`, untracked files
//! included). A release made from a dirty tree says so (`"dirty": true`).

use std::path::Path;
use std::process::Command;

use crate::manifest::{SourceRevision, is_commit_id};

/// The commit checked out at `root` and whether the tree is dirty; `Ok(None)` when `root` is
/// not inside a git work tree. `Err` when git itself fails (not installed, a broken repository).
pub fn of_checkout(root: &Path) -> Result<Option<SourceRevision>, String> {
    let inside = git(root, &["rev-parse", "--is-inside-work-tree"]);
    match inside {
        Ok(out) if out.trim() == "true" => {}
        Ok(_) => return Ok(None),
        // git exits 128 outside a repository; a missing git binary is an error below.
        Err(GitError::Failed(_)) => return Ok(None),
        Err(GitError::NotRun(why)) => return Err(why),
    }
    let commit = match git(root, &["rev-parse", "--verify", "-q", "HEAD"]) {
        Ok(out) => out.trim().to_owned(),
        // A repository without commits has no source commit to record.
        Err(GitError::Failed(_)) => return Ok(None),
        Err(GitError::NotRun(why)) => return Err(why),
    };
    if !is_commit_id(&commit) {
        return Err(format!(
            "git rev-parse HEAD printed {commit:?}, not a commit id"
        ));
    }
    let status = git(
        root,
        &[
            "status",
            "--porcelain",
            "--untracked-files=normal",
            "--ignore-submodules=none",
        ],
    )
    .map_err(|err| err.to_string())?;
    Ok(Some(SourceRevision {
        commit,
        dirty: !status.trim().is_empty(),
    }))
}

enum GitError {
    NotRun(String),
    Failed(String),
}

impl std::fmt::Display for GitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GitError::NotRun(why) | GitError::Failed(why) => f.write_str(why),
        }
    }
}

fn git(root: &Path, args: &[&str]) -> Result<String, GitError> {
    let output = Command::new("git")
        .args(args)
        .current_dir(root)
        // The repository is the one at `root`, whatever the caller's environment points at.
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .map_err(|err| GitError::NotRun(format!("cannot run git in {}: {err}", root.display())))?;
    if !output.status.success() {
        return Err(GitError::Failed(format!(
            "git {} in {} failed: {}",
            args.join(" "),
            root.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    String::from_utf8(output.stdout)
        .map_err(|_| GitError::NotRun(format!("git {} printed non-UTF-8", args.join(" "))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(dir: &Path, args: &[&str]) {
        let status = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    }

    #[test]
    fn records_the_head_commit_and_whether_the_tree_is_dirty() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(of_checkout(dir.path()).unwrap(), None, "not a repository");
        run(dir.path(), &["init", "-q"]);
        assert_eq!(of_checkout(dir.path()).unwrap(), None, "no commit yet");
        std::fs::write(dir.path().join("a.txt"), "a").unwrap();
        run(dir.path(), &["add", "a.txt"]);
        run(dir.path(), &["commit", "-q", "-m", "a"]);
        let clean = of_checkout(dir.path()).unwrap().unwrap();
        assert!(is_commit_id(&clean.commit), "{clean:?}");
        assert!(!clean.dirty);
        std::fs::write(dir.path().join("new.txt"), "untracked").unwrap();
        let dirty = of_checkout(dir.path()).unwrap().unwrap();
        assert_eq!(dirty.commit, clean.commit);
        assert!(dirty.dirty, "an untracked file makes the tree dirty");
        std::fs::remove_file(dir.path().join("new.txt")).unwrap();
        std::fs::write(dir.path().join("a.txt"), "b").unwrap();
        assert!(
            of_checkout(dir.path()).unwrap().unwrap().dirty,
            "an edit too"
        );
    }
}
