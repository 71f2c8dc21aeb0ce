//! Everything the engine asks git. Every call is a `cmd!` with arguments, never a shell string,
//! and reads only: the user's working tree and index are never written.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use support::Failure;
use xshell::{Shell, cmd};

/// How a file differs between base and head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Added,
    Modified,
    Deleted,
    Renamed,
}

/// One changed file, with repository-relative `/`-separated paths.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChangedFile {
    pub path: String,
    pub status: Status,
    pub old_path: Option<String>,
}

/// A git repository, found from a directory inside it.
pub struct Repo {
    pub root: PathBuf,
    sh: Shell,
    /// Untracked, not ignored files: listing them walks the whole tree, so once is enough.
    untracked: std::cell::OnceCell<Vec<String>>,
}

pub(crate) struct GitOutput {
    pub ok: bool,
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

fn git_missing(err: impl std::fmt::Display) -> Failure {
    Failure::environment(format!(
        "could not run git: {err}\nhelp: install git and make sure it is on PATH"
    ))
}

impl Repo {
    /// The repository containing `dir` (`git rev-parse --show-toplevel`).
    pub fn discover(dir: &Path) -> Result<Repo, Failure> {
        let sh = Shell::new().map_err(|e| Failure::environment(format!("cannot start: {e}")))?;
        let out = cmd!(sh, "git -C {dir} rev-parse --show-toplevel")
            .quiet()
            .ignore_status()
            .output()
            .map_err(git_missing)?;
        if !out.status.success() {
            return Err(Failure::invalid_input(format!(
                "{} is not inside a git repository: impact analysis compares two revisions\n{}",
                dir.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let root = String::from_utf8_lossy(&out.stdout).trim_end().to_owned();
        let root = PathBuf::from(root);
        let root = root.canonicalize().unwrap_or(root);
        Ok(Repo {
            root,
            sh,
            untracked: std::cell::OnceCell::new(),
        })
    }

    pub(crate) fn git(&self, args: &[&str], stdin: Option<&[u8]>) -> Result<GitOutput, Failure> {
        let root = &self.root;
        let mut command = cmd!(self.sh, "git -C {root} {args...}")
            .quiet()
            .ignore_status();
        if let Some(input) = stdin {
            command = command.stdin(input);
        }
        let out = command.output().map_err(git_missing)?;
        Ok(GitOutput {
            ok: out.status.success(),
            code: out.status.code(),
            stdout: out.stdout,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        })
    }

    fn git_ok(&self, args: &[&str]) -> Result<Vec<u8>, Failure> {
        let out = self.git(args, None)?;
        if !out.ok {
            return Err(Failure::environment(format!(
                "`git {}` failed: {}",
                args.join(" "),
                out.stderr
            )));
        }
        Ok(out.stdout)
    }

    pub fn is_shallow(&self) -> bool {
        self.git(&["rev-parse", "--is-shallow-repository"], None)
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "true")
            .unwrap_or(false)
    }

    /// The commit `rev` names, or `None` when the repository does not have it.
    pub fn resolve(&self, rev: &str) -> Result<Option<String>, Failure> {
        let spec = format!("{rev}^{{commit}}");
        let out = self.git(
            &[
                "rev-parse",
                "--verify",
                "--quiet",
                "--end-of-options",
                &spec,
            ],
            None,
        )?;
        Ok(out
            .ok
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned()))
    }

    /// The default branch: `origin/HEAD`, else `main`, `master`, `origin/main`, `origin/master`.
    pub fn default_branch(&self) -> Result<Option<String>, Failure> {
        for candidate in [
            "refs/remotes/origin/HEAD",
            "refs/heads/main",
            "refs/heads/master",
            "refs/remotes/origin/main",
            "refs/remotes/origin/master",
        ] {
            if self.resolve(candidate)?.is_some() {
                return Ok(Some(candidate.to_owned()));
            }
        }
        Ok(None)
    }

    /// `git merge-base a b`, or `None` when the history does not connect them.
    pub fn merge_base(&self, a: &str, b: &str) -> Result<Option<String>, Failure> {
        let out = self.git(&["merge-base", a, b], None)?;
        Ok(out
            .ok
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned()))
    }

    /// Files that differ between `base` and `head` (a commit, or the working tree when `None`,
    /// including untracked files that are not ignored). Renames are detected.
    pub fn changed_files(
        &self,
        base: &str,
        head: Option<&str>,
    ) -> Result<Vec<ChangedFile>, Failure> {
        let mut args = vec![
            "diff",
            "--no-ext-diff",
            "--no-relative",
            "--name-status",
            "-z",
            "-M",
            base,
        ];
        if let Some(head) = head {
            args.push(head);
        }
        args.push("--");
        let raw = self.git_ok(&args)?;
        let mut files = parse_name_status(&raw);
        if head.is_none() {
            for path in self.untracked()? {
                files.push(ChangedFile {
                    path: path.clone(),
                    status: Status::Added,
                    old_path: None,
                });
            }
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        files.dedup_by(|a, b| a.path == b.path && a.old_path == b.old_path);
        Ok(files)
    }

    /// Every file of commit `rev` with its blob id (`git ls-tree -r`).
    pub fn tree(&self, rev: &str) -> Result<HashMap<String, String>, Failure> {
        let raw = self.git_ok(&["ls-tree", "-r", "-z", "--full-tree", rev])?;
        let mut files = HashMap::new();
        for entry in raw.split(|&b| b == 0).filter(|e| !e.is_empty()) {
            let entry = String::from_utf8_lossy(entry);
            let Some((meta, path)) = entry.split_once('\t') else {
                continue;
            };
            let mut parts = meta.split(' ');
            let (_mode, kind, oid) = (parts.next(), parts.next(), parts.next());
            if let (Some("blob"), Some(oid)) = (kind, oid) {
                files.insert(path.to_owned(), oid.to_owned());
            }
        }
        Ok(files)
    }

    /// Untracked files that are not ignored.
    pub fn untracked(&self) -> Result<&[String], Failure> {
        if let Some(files) = self.untracked.get() {
            return Ok(files);
        }
        let raw = self.git_ok(&[
            "ls-files",
            "-z",
            "--others",
            "--exclude-standard",
            "--full-name",
        ])?;
        Ok(self.untracked.get_or_init(|| split_z(&raw)))
    }

    /// Tracked and untracked (not ignored) files of the working tree that exist on disk.
    pub fn worktree_files(&self) -> Result<Vec<String>, Failure> {
        let tracked = self.git_ok(&["ls-files", "-z", "--cached", "--full-name"])?;
        // Tracked files deleted from the working tree are listed by `--cached`: drop them.
        let deleted = self.git_ok(&["ls-files", "-z", "--deleted", "--full-name"])?;
        let deleted: HashSet<String> = split_z(&deleted).into_iter().collect();
        let mut files: Vec<String> = split_z(&tracked)
            .into_iter()
            .filter(|p| !deleted.contains(p))
            .collect();
        files.extend(self.untracked()?.iter().cloned());
        files.sort();
        files.dedup();
        Ok(files)
    }

    /// The blob id each working-tree file would get if added (`git hash-object`), without
    /// writing anything: the index's id for files the working tree has not modified, hashed
    /// only for modified and untracked ones. Ids match a commit's for the same contents.
    pub fn worktree_blob_ids(&self, paths: &[&str]) -> Result<Vec<String>, Failure> {
        let staged = self.git_ok(&["ls-files", "-z", "--stage", "--full-name"])?;
        let mut index: HashMap<String, String> = HashMap::new();
        for entry in split_z(&staged) {
            let Some((meta, path)) = entry.split_once('\t') else {
                continue;
            };
            if let Some(oid) = meta.split(' ').nth(1) {
                index.insert(path.to_owned(), oid.to_owned());
            }
        }
        let dirty = self.git_ok(&["diff-files", "-z", "--name-only"])?;
        for path in split_z(&dirty) {
            index.remove(&path);
        }
        let unknown: Vec<&str> = paths
            .iter()
            .copied()
            .filter(|p| !index.contains_key(*p))
            .collect();
        if !unknown.is_empty() {
            let input: Vec<u8> = unknown
                .iter()
                .flat_map(|p| format!("{p}\n").into_bytes())
                .collect();
            let out = self.git(&["hash-object", "--stdin-paths"], Some(&input))?;
            if !out.ok {
                return Err(Failure::environment(format!(
                    "`git hash-object` failed: {}",
                    out.stderr
                )));
            }
            let oids = String::from_utf8_lossy(&out.stdout).into_owned();
            for (path, oid) in unknown.iter().zip(oids.lines()) {
                index.insert((*path).to_owned(), oid.to_owned());
            }
        }
        Ok(paths
            .iter()
            .map(|p| index.get(*p).cloned().unwrap_or_default())
            .collect())
    }

    /// The contents of blobs, in order, with one `git cat-file --batch`.
    pub fn read_blobs(&self, oids: &[&str]) -> Result<Vec<Vec<u8>>, Failure> {
        if oids.is_empty() {
            return Ok(Vec::new());
        }
        let mut input = Vec::new();
        for oid in oids {
            input.extend_from_slice(oid.as_bytes());
            input.push(b'\n');
        }
        let out = self.git(&["cat-file", "--batch"], Some(&input))?;
        if !out.ok {
            return Err(Failure::environment(format!(
                "`git cat-file --batch` failed: {}",
                out.stderr
            )));
        }
        let mut blobs = Vec::with_capacity(oids.len());
        let mut rest = &out.stdout[..];
        for oid in oids {
            let header_end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            let header = String::from_utf8_lossy(&rest[..header_end]).into_owned();
            rest = &rest[(header_end + 1).min(rest.len())..];
            let size: usize = match header.rsplit(' ').next().and_then(|s| s.parse().ok()) {
                Some(size) if !header.ends_with("missing") => size,
                _ => {
                    return Err(Failure::environment(format!(
                        "git has no blob {oid}: {header}"
                    )));
                }
            };
            blobs.push(rest[..size.min(rest.len())].to_vec());
            rest = &rest[(size + 1).min(rest.len())..];
        }
        Ok(blobs)
    }

    /// Tracked Rust files at `rev` (or as they are in the working tree) that mention an
    /// include-like construct. Untracked files are the caller's to scan.
    /// Rust sources that may hold an include, a `#[path]` or a `rerun-if-changed` literal, in
    /// `rev` or (for `None`) the tracked files of the working tree.
    ///
    /// A tree never changes, so its candidates are cached by tree id under `cache_dir`; the
    /// working tree reuses HEAD's and adds every `.rs` file that differs from HEAD, which is
    /// what `git grep` over the working tree would find. Scanning a candidate that holds no
    /// include only costs a read.
    pub fn include_candidates(
        &self,
        rev: Option<&str>,
        cache_dir: Option<&Path>,
    ) -> Result<Vec<String>, Failure> {
        let tree = self.git(
            &[
                "rev-parse",
                "--verify",
                "-q",
                &format!("{}^{{tree}}", rev.unwrap_or("HEAD")),
            ],
            None,
        )?;
        let tree = String::from_utf8_lossy(&tree.stdout).trim().to_owned();
        if tree.is_empty() {
            // No commit yet (or an unreadable revision): nothing to cache by.
            return self.grep_include_candidates(rev);
        }
        let cache_file = cache_dir.map(|dir| dir.join(format!("includes-{tree}.txt")));
        let cached = cache_file
            .as_ref()
            .and_then(|file| std::fs::read(file).ok())
            .map(|raw| split_z(&raw));
        let mut candidates = match cached {
            Some(candidates) => candidates,
            None => {
                let candidates = self.grep_include_candidates(Some(&tree))?;
                if let Some(file) = &cache_file {
                    // A cache that cannot be written only costs speed.
                    let raw: Vec<u8> = candidates
                        .iter()
                        .flat_map(|p| p.bytes().chain([0]))
                        .collect();
                    let _ = support::atomic::write_atomic(file, &raw);
                    crate::cache::prune(
                        file.parent().expect("cache file has a directory"),
                        "txt",
                        crate::cache::ENTRIES,
                    );
                }
                candidates
            }
        };
        if rev.is_none() {
            let changed = self.git_ok(&[
                "diff",
                "--name-only",
                "-z",
                "--no-renames",
                "HEAD",
                "--",
                ":(top)*.rs",
            ])?;
            let known: HashSet<String> = candidates.iter().cloned().collect();
            candidates.extend(split_z(&changed).into_iter().filter(|p| !known.contains(p)));
        }
        Ok(candidates)
    }

    pub fn grep_include_candidates(&self, rev: Option<&str>) -> Result<Vec<String>, Failure> {
        let mut args = vec!["grep", "-l", "-z", "-I", "--full-name", "-F"];
        for needle in [
            "include_str!",
            "include_bytes!",
            "include!",
            "#[path",
            "rerun-if-changed",
        ] {
            args.extend(["-e", needle]);
        }
        if let Some(rev) = rev {
            args.push(rev);
        }
        args.extend(["--", ":(top)*.rs"]);
        let out = self.git(&args, None)?;
        // Exit 1 means "no match".
        if !out.ok && out.code != Some(1) {
            return Err(Failure::environment(format!(
                "`git grep` failed: {}",
                out.stderr
            )));
        }
        let prefix = rev.map(|r| format!("{r}:"));
        Ok(split_z(&out.stdout)
            .into_iter()
            .map(|p| match &prefix {
                Some(prefix) => p.strip_prefix(prefix.as_str()).unwrap_or(&p).to_owned(),
                None => p,
            })
            .collect())
    }
}

fn split_z(raw: &[u8]) -> Vec<String> {
    raw.split(|&b| b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect()
}

/// Parses `git diff --name-status -z` output.
pub fn parse_name_status(raw: &[u8]) -> Vec<ChangedFile> {
    let fields = split_z(raw);
    let mut files = Vec::new();
    let mut i = 0;
    while i < fields.len() {
        let code = fields[i].as_str();
        let kind = code.chars().next().unwrap_or('M');
        match kind {
            'R' | 'C' if i + 2 < fields.len() => {
                let (old, new) = (fields[i + 1].clone(), fields[i + 2].clone());
                i += 3;
                if kind == 'R' {
                    files.push(ChangedFile {
                        path: new,
                        status: Status::Renamed,
                        old_path: Some(old),
                    });
                } else {
                    files.push(ChangedFile {
                        path: new,
                        status: Status::Added,
                        old_path: None,
                    });
                }
            }
            _ if i + 1 < fields.len() => {
                let status = match kind {
                    'A' => Status::Added,
                    'D' => Status::Deleted,
                    _ => Status::Modified,
                };
                files.push(ChangedFile {
                    path: fields[i + 1].clone(),
                    status,
                    old_path: None,
                });
                i += 2;
            }
            _ => break,
        }
    }
    files
}
