//! What tests read at run time, learned by tracing them (`cargo xtask impact record`).
//!
//! Static evidence cannot see a file a test opens while it runs (fixtures, golden files,
//! schemas kept outside the package), so without a recording such a file means "all". A
//! recording lists, per nextest binary id and per test (nextest runs each test in its own
//! process, and each process is traced on its own), the repository files the test opened or
//! stat-ed (including paths it probed and did not find) and the directories it listed. With a
//! recording that is fresh enough, a changed file outside every package selects exactly the
//! tests that touched it (`binary_id(=..) & test(=..)`), and a file no test touched selects
//! nothing.
//!
//! This module holds the strace output parser, the recording file and the lookups the
//! analysis uses; [`crate::record`] runs the tracer.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use support::paths::lexically_normal;
use support::{Failure, Located};

/// Shape of the recording file; bumped on any incompatible change. v1 kept reads per binary;
/// v2 keeps them per test. A v1 file is refused with a message saying to record again.
pub const RECORDING_SCHEMA: &str = "impact-recording/v2";

/// The tool version a recording is tied to: a recording made by another version is ignored,
/// because what counts as a read may have changed.
pub const TOOL_VERSION: &str = concat!("impact ", env!("CARGO_PKG_VERSION"));

/// Default `[impact] recording-max-age` (commits between the recording and the head).
pub const DEFAULT_MAX_AGE: u32 = 50;

/// The syscalls the tracer follows: every call that takes a path, plus directory listings.
pub const STRACE_SYSCALLS: &str = "trace=%file,getdents64,getdents";

/// One traced test process, as the trace runner writes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invocation {
    pub binary_id: String,
    /// Set for nextest's listing phase: how many tests the binary has (no reads are kept).
    pub listed_tests: Option<u32>,
    pub test: Option<String>,
    /// The test process's exit code (`None`: killed by a signal).
    pub exit_code: Option<i32>,
    pub reads: BTreeSet<String>,
    pub listed: BTreeSet<String>,
}

/// What one test touched.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestReads {
    /// Repository-relative files opened, stat-ed or probed.
    pub reads: BTreeSet<String>,
    /// Repository-relative directories listed (`""` is the repository root).
    pub listed: BTreeSet<String>,
}

/// What one binary's tests touched.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BinaryReads {
    /// Tests the binary has (nextest's listing, ignored tests not counted).
    pub listed_tests: u32,
    /// Test processes traced.
    pub traced: u32,
    /// Tests that failed under the tracer (reported, never hidden).
    pub failed: Vec<String>,
    /// Per test name; `""` holds processes started without a test name (a runner other than
    /// nextest), which stand for the whole binary.
    pub tests: BTreeMap<String, TestReads>,
}

impl BinaryReads {
    fn touched(&self, pick: impl Fn(&TestReads) -> bool) -> impl Iterator<Item = &str> {
        self.tests
            .iter()
            .filter(move |(_, t)| pick(t))
            .map(|(name, _)| name.as_str())
    }
}

/// A test as the recording names it: its binary and its name (`""`: the whole binary).
pub type TestId<'a> = (&'a str, &'a str);

/// The recording file (`"schema": "impact-recording/v2"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recording {
    pub schema: String,
    pub tool: String,
    /// The commit the tests ran at.
    pub commit: String,
    /// The working tree had uncommitted changes when recorded.
    pub dirty: bool,
    /// Seconds since the Unix epoch.
    pub recorded_at: u64,
    /// The lane recorded (`None`: the whole workspace).
    pub lane: Option<String>,
    /// The nextest filterset of the traced run, if any.
    pub filterset: Option<String>,
    pub binaries: BTreeMap<String, BinaryReads>,
}

impl Recording {
    pub fn new(
        commit: String,
        dirty: bool,
        lane: Option<String>,
        filterset: Option<String>,
    ) -> Recording {
        Recording {
            schema: RECORDING_SCHEMA.to_owned(),
            tool: TOOL_VERSION.to_owned(),
            commit,
            dirty,
            recorded_at: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            lane,
            filterset,
            binaries: BTreeMap::new(),
        }
    }

    /// Folds one traced test process (or one listing) in.
    pub fn add(&mut self, invocation: Invocation) {
        let entry = self.binaries.entry(invocation.binary_id).or_default();
        if let Some(count) = invocation.listed_tests {
            entry.listed_tests = entry.listed_tests.max(count);
            return;
        }
        entry.traced += 1;
        let name = invocation.test.unwrap_or_default();
        if invocation.exit_code != Some(0) {
            let shown = if name.is_empty() { "(unnamed)" } else { &name };
            entry.failed.push(shown.to_owned());
            entry.failed.sort();
        }
        let test = entry.tests.entry(name).or_default();
        test.reads.extend(invocation.reads);
        test.listed.extend(invocation.listed);
    }

    /// Reads a recording; one of another schema (a v1 file, per binary) is refused with what
    /// to do, before its fields are looked at.
    pub fn load(path: &Path) -> Result<Recording, Failure> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Failure::invalid_input(format!("cannot read the recording {}: {e}", path.display()))
        })?;
        #[derive(Deserialize)]
        struct Schema {
            schema: Option<String>,
        }
        let schema = support::json::parse::<Schema>(path, &text)
            .map_err(Failure::from)?
            .schema;
        if schema.as_deref() != Some(RECORDING_SCHEMA) {
            return Err(Failure::from(
                Located::file(
                    path,
                    format!(
                        "schema {} is not {RECORDING_SCHEMA}: this version records and reads per test",
                        schema.as_deref().unwrap_or("(none)")
                    ),
                )
                .with_help("record again with `cargo xtask impact record`"),
            ));
        }
        let recording: Recording = support::json::parse(path, &text).map_err(Failure::from)?;
        Ok(recording)
    }

    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a recording serializes");
        text.push('\n');
        text
    }

    /// Tests that read `path`, sorted by binary, then test.
    pub fn readers(&self, path: &str) -> Vec<TestId<'_>> {
        self.binaries
            .iter()
            .flat_map(|(id, b)| {
                b.touched(|t| t.reads.contains(path))
                    .map(move |test| (id.as_str(), test))
            })
            .collect()
    }

    /// Tests that listed `dir`, sorted by binary, then test.
    pub fn listers(&self, dir: &str) -> Vec<TestId<'_>> {
        self.binaries
            .iter()
            .flat_map(|(id, b)| {
                b.touched(|t| t.listed.contains(dir))
                    .map(move |test| (id.as_str(), test))
            })
            .collect()
    }

    /// Every repository file a binary's tests read.
    pub fn files_read(&self) -> BTreeSet<&str> {
        self.binaries
            .values()
            .flat_map(|b| b.tests.values())
            .flat_map(|t| t.reads.iter().map(String::as_str))
            .collect()
    }

    /// Did any test touch `dir` or anything below it (so `dir` existed when recorded)?
    fn knows_dir(&self, dir: &str) -> bool {
        let prefix = format!("{dir}/");
        self.binaries
            .values()
            .flat_map(|b| b.tests.values())
            .any(|t| {
                t.listed.contains(dir)
                    || t.reads.contains(dir)
                    || t.reads.iter().any(|r| r.starts_with(&prefix))
                    || t.listed.iter().any(|l| l.starts_with(&prefix))
            })
    }

    /// How many tests `binary_id` has, when known (nextest's listing).
    pub fn test_count(&self, binary_id: &str) -> Option<u32> {
        self.binaries.get(binary_id).map(|b| b.listed_tests)
    }

    /// Tests that would see `path` appear or vanish in a directory listing: listers of its
    /// directory, and of ancestors as long as the directory in between was unknown when
    /// recorded (a new subdirectory shows up in its parent's listing).
    pub fn listing_readers(&self, path: &str) -> Vec<(String, TestId<'_>)> {
        let mut found = Vec::new();
        let mut current = path;
        loop {
            let dir = current.rsplit_once('/').map_or("", |(d, _)| d);
            for test in self.listers(dir) {
                found.push((dir.to_owned(), test));
            }
            if dir.is_empty() || self.knows_dir(dir) {
                break;
            }
            current = dir;
        }
        found
    }

    /// Is everything `binary_id` does at run time known: every listed test traced, none failed?
    /// A binary that is not complete is selected for every file outside the packages.
    pub fn is_complete(&self, binary_id: &str) -> bool {
        self.binaries
            .get(binary_id)
            .is_some_and(|b| b.traced >= b.listed_tests && b.failed.is_empty())
    }

    /// Every failed test, as `binary-id test-name`.
    pub fn failures(&self) -> Vec<String> {
        self.binaries
            .iter()
            .flat_map(|(id, b)| b.failed.iter().map(move |t| format!("{id} {t}")))
            .collect()
    }
}

/// A recording the analysis may use, with how old it is.
#[derive(Debug, Clone)]
pub struct UsableRecording {
    pub recording: Recording,
    pub path: PathBuf,
    /// Commits between the recording and the head.
    pub age: u32,
}

impl UsableRecording {
    /// `abc1234 (3 commits old)`, for reasons.
    pub fn describe(&self) -> String {
        let short: String = self.recording.commit.chars().take(12).collect();
        let commits = if self.age == 1 { "commit" } else { "commits" };
        format!("recording of {short} ({} {commits} old)", self.age)
    }
}

/// Why a recording on disk was not used (printed as a warning).
pub fn unusable(path: &Path, why: impl std::fmt::Display) -> String {
    format!(
        "ignoring the impact recording {}: {why}; files outside every package select everything \
         (run `cargo xtask impact record` to refresh it)",
        path.display()
    )
}

/// How a traced path was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Touch,
    List,
}

/// Parses strace output (`strace -f -y -qq -e trace=%file,getdents64`) into absolute paths
/// with how they were used. `cwd` is the traced process's starting directory: relative paths
/// resolve against it until a line shows the process's own directory (`AT_FDCWD</dir>`).
pub fn parse_strace(text: &str, cwd: &Path) -> Vec<(PathBuf, Access)> {
    let mut cwds: HashMap<&str, PathBuf> = HashMap::new();
    let mut found = Vec::new();
    for line in text.lines() {
        let (pid, rest) = match line.split_once(' ') {
            Some((pid, rest)) if pid.bytes().all(|b| b.is_ascii_digit()) => {
                (pid, rest.trim_start())
            }
            _ => ("", line),
        };
        if rest.starts_with("+++") || rest.starts_with("---") {
            continue;
        }
        // `<... openat resumed>) = 3</path>`: only the result is new.
        if let Some(after) = rest.strip_prefix("<... ") {
            if let Some(path) = split_result(after).1.and_then(decorated_path) {
                found.push((path, Access::Touch));
            }
            continue;
        }
        let Some((name, args_and_result)) = rest.split_once('(') else {
            continue;
        };
        if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            continue;
        }
        let (args, result) = split_result(args_and_result);
        let tokens = split_args(args);
        let process_cwd = cwds.entry(pid).or_insert_with(|| cwd.to_path_buf()).clone();
        let mut process_cwd = process_cwd;
        if name == "getdents64" || name == "getdents" {
            if let Some(dir) = tokens.first().and_then(|t| decorated_path(t)) {
                found.push((dir, Access::List));
            }
            continue;
        }
        let mut previous_dir: Option<PathBuf> = None;
        for token in &tokens {
            if let Some(dir) = token
                .strip_prefix("AT_FDCWD<")
                .and_then(|t| t.strip_suffix('>'))
            {
                let dir = PathBuf::from(unescape(dir));
                process_cwd = dir.clone();
                cwds.insert(pid, dir.clone());
                previous_dir = Some(dir);
                continue;
            }
            if let Some(string) = token.strip_prefix('"') {
                let Some(string) = string.strip_suffix('"') else {
                    previous_dir = None;
                    continue; // truncated: not a whole path
                };
                let value = unescape(string);
                let base = previous_dir.take().unwrap_or_else(|| process_cwd.clone());
                if value.is_empty() {
                    // `newfstatat(3</path>, "", ..., AT_EMPTY_PATH)`: the descriptor itself.
                    found.push((base, Access::Touch));
                } else {
                    found.push((lexically_normal(&base.join(value)), Access::Touch));
                }
                continue;
            }
            previous_dir = decorated_path(token);
        }
        if name == "chdir"
            && result.is_some_and(|r| r.starts_with('0'))
            && let Some((path, _)) = found.last()
        {
            cwds.insert(pid, path.clone());
        }
        if let Some(path) = result.and_then(decorated_path) {
            found.push((path, Access::Touch));
        }
    }
    found
}

/// Splits `args) = result` (strace pads short lines: `args)          = result`) into the
/// arguments and the result; an unfinished call has no result.
fn split_result(text: &str) -> (&str, Option<&str>) {
    let mut search = text.len();
    while let Some(at) = text[..search].rfind(" = ") {
        let before = text[..at].trim_end();
        if let Some(args) = before.strip_suffix(')') {
            return (args, Some(&text[at + 3..]));
        }
        search = at;
    }
    let args = text
        .trim_end()
        .trim_end_matches("<unfinished ...>")
        .trim_end()
        .trim_end_matches(')');
    (args, None)
}

/// `3</some/path>` (a descriptor decorated by `strace -y`) -> `/some/path`.
fn decorated_path(token: &str) -> Option<PathBuf> {
    let token = token.trim();
    let start = token.find('<')?;
    if !token[..start].bytes().all(|b| b.is_ascii_digit()) || start == 0 {
        return None;
    }
    let inner = token[start + 1..].split_once('>').map(|(p, _)| p)?;
    // Sockets, pipes and anonymous inodes are not files.
    if !inner.starts_with('/') {
        return None;
    }
    Some(PathBuf::from(unescape(inner)))
}

/// Splits top-level syscall arguments on commas, keeping strings, arrays and structs whole.
fn split_args(args: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut depth = 0i32;
    let mut in_string = false;
    let mut in_decoration = false;
    let mut escaped = false;
    for c in args.chars() {
        if in_decoration {
            // `3</dir, with comma>`: the path a descriptor stands for, taken whole.
            current.push(c);
            in_decoration = c != '>';
            continue;
        }
        if c == '<' && current.ends_with(|p: char| p.is_ascii_digit() || p == 'D') {
            in_decoration = true;
            current.push(c);
            continue;
        }
        if in_string {
            current.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                current.push(c);
            }
            '[' | '{' | '(' => {
                depth += 1;
                current.push(c);
            }
            ']' | '}' | ')' => {
                depth -= 1;
                current.push(c);
            }
            ',' if depth == 0 => {
                tokens.push(current.trim().to_owned());
                current.clear();
            }
            _ => current.push(c),
        }
    }
    if !current.trim().is_empty() {
        tokens.push(current.trim().to_owned());
    }
    tokens
}

/// Undoes strace's C-style escapes (`\"`, `\\`, `\n`, octal `\303`, hex `\xc3`), as bytes.
fn unescape(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' || i + 1 == bytes.len() {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let next = bytes[i + 1];
        match next {
            b'n' => (out.push(b'\n'), i += 2).1,
            b't' => (out.push(b'\t'), i += 2).1,
            b'r' => (out.push(b'\r'), i += 2).1,
            b'v' => (out.push(0x0b), i += 2).1,
            b'f' => (out.push(0x0c), i += 2).1,
            b'x' => {
                let hex = text
                    .get(i + 2..i + 4)
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => (out.push(b), i += 4).1,
                    None => (out.push(b'x'), i += 2).1,
                }
            }
            b'0'..=b'7' => {
                let mut end = i + 1;
                while end < bytes.len() && end < i + 4 && (b'0'..=b'7').contains(&bytes[end]) {
                    end += 1;
                }
                let value = u32::from_str_radix(&text[i + 1..end], 8).unwrap_or(0);
                out.push(value as u8);
                i = end;
            }
            other => (out.push(other), i += 2).1,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Keeps the paths inside `root`, relative to it with `/` separators, leaving out `.git/`,
/// `target/` and any `ignored` directory (an in-repository `CARGO_TARGET_DIR`).
pub fn repository_paths(
    accesses: &[(PathBuf, Access)],
    root: &Path,
    ignored: &[PathBuf],
) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut reads = BTreeSet::new();
    let mut listed = BTreeSet::new();
    for (path, access) in accesses {
        if ignored.iter().any(|dir| path.starts_with(dir)) {
            continue;
        }
        let Ok(rel) = path.strip_prefix(root) else {
            continue;
        };
        let rel: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if matches!(rel.first().map(String::as_str), Some(".git" | "target")) {
            continue;
        }
        let rel = rel.join("/");
        match access {
            Access::List => listed.insert(rel),
            Access::Touch if rel.is_empty() => false,
            Access::Touch => reads.insert(rel),
        };
    }
    (reads, listed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real lines captured from `strace -f -y -qq -e trace=%file,getdents64` around a test
    /// binary run by nextest (see `tests/fixtures/strace/`).
    const CAPTURED: &str = include_str!("../tests/fixtures/strace/fixture-reader.trace");

    fn parse(text: &str) -> (BTreeSet<String>, BTreeSet<String>) {
        let accesses = parse_strace(text, Path::new("/tmp/i8exp/ws"));
        repository_paths(&accesses, Path::new("/tmp/i8exp/ws"), &[])
    }

    #[test]
    fn captured_trace_yields_fixture_read_listing_and_probe() {
        let (reads, listed) = parse(CAPTURED);
        assert!(reads.contains("fixtures/a.txt"), "{reads:?}");
        assert!(
            reads.contains("nope.txt"),
            "a probe for a missing file counts: {reads:?}"
        );
        assert!(listed.contains("fixtures"), "{listed:?}");
        assert!(!reads.iter().any(|r| r.starts_with("target/")), "{reads:?}");
        assert!(!reads.iter().any(|r| r.starts_with('/')), "{reads:?}");
    }

    #[test]
    fn captured_trace_ignores_system_files_and_the_target_dir() {
        let (reads, _) = parse(CAPTURED);
        assert_eq!(
            reads.into_iter().collect::<Vec<_>>(),
            ["fixtures", "fixtures/a.txt", "nope.txt"]
        );
    }

    /// Real lines from `git grep --threads=4` under `strace -f -y`: threads interleave, so
    /// calls are split into `<unfinished ...>` and `<... resumed>` lines, and short results
    /// are padded.
    #[test]
    fn captured_threaded_trace_with_unfinished_and_resumed_calls() {
        let text = include_str!("../tests/fixtures/strace/git-grep-threads.trace");
        assert!(text.contains("<unfinished ...>") && text.contains("resumed>)   "));
        let root = Path::new("/work/wt/issue-8");
        let (reads, listed) = repository_paths(&parse_strace(text, root), root, &[]);
        for path in [
            "crates/impact/src/analyze.rs",
            "crates/impact/src/closure.rs",
            "crates/impact/Cargo.toml",
            "crates/impact/src/.gitattributes",
        ] {
            assert!(reads.contains(path), "{path} in {reads:#?}");
        }
        // `.gitattributes` probes are repository files; `.git` itself is not.
        assert!(reads.contains(".gitattributes"), "{reads:#?}");
        assert!(
            reads
                .iter()
                .all(|r| r != ".git" && !r.starts_with(".git/") && !r.starts_with('/')),
            "{reads:#?}"
        );
        assert!(
            listed.is_empty(),
            "git grep reads the index, it lists nothing: {listed:?}"
        );
    }

    #[test]
    fn padded_results_are_split_from_their_arguments() {
        assert_eq!(
            split_result("4</a>, \"x\", O_RDONLY)      = 3</a/x>"),
            ("4</a>, \"x\", O_RDONLY", Some("3</a/x>"))
        );
        assert_eq!(
            split_result("AT_FDCWD</a>, \"x\", O_RDONLY <unfinished ...>"),
            ("AT_FDCWD</a>, \"x\", O_RDONLY", None)
        );
    }

    #[test]
    fn relative_paths_resolve_against_the_process_directory() {
        let text = "\
700 chdir(\"sub\") = 0\n\
701 newfstatat(AT_FDCWD</tmp/i8exp/ws/crates/a>, \"../../fixtures/x.json\", 0x7ffd, 0) = -1 ENOENT (No such file or directory)\n";
        let (reads, _) = parse(text);
        assert!(reads.contains("fixtures/x.json"), "{reads:?}");
        assert!(reads.contains("sub"), "{reads:?}");
    }

    #[test]
    fn unfinished_and_resumed_calls_and_escaped_names() {
        let text = "\
12 openat(AT_FDCWD</tmp/i8exp/ws>, \"data/caf\\303\\251 \\\"q\\\".txt\", O_RDONLY|O_CLOEXEC <unfinished ...>\n\
13 getdents64(4</tmp/i8exp/ws/data/dir, with comma>, 0x55 /* 3 entries */, 32768) = 80\n\
12 <... openat resumed>) = 3</tmp/i8exp/ws/data/resolved.txt>\n\
12 +++ exited with 0 +++\n";
        let (reads, listed) = parse(text);
        assert!(reads.contains("data/café \"q\".txt"), "{reads:?}");
        assert!(reads.contains("data/resolved.txt"), "{reads:?}");
        assert!(listed.contains("data/dir, with comma"), "{listed:?}");
    }

    #[test]
    fn git_and_target_and_ignored_dirs_are_left_out() {
        let text = "\
1 openat(AT_FDCWD</tmp/i8exp/ws>, \".git/HEAD\", O_RDONLY) = 3</tmp/i8exp/ws/.git/HEAD>\n\
1 openat(AT_FDCWD</tmp/i8exp/ws>, \"build/out.txt\", O_RDONLY) = -1 ENOENT (No such file or directory)\n\
1 statx(AT_FDCWD</tmp/i8exp/ws>, \"Cargo.toml\", AT_STATX_SYNC_AS_STAT, STATX_ALL, {stx_mask=STATX_ALL}) = 0\n";
        let accesses = parse_strace(text, Path::new("/tmp/i8exp/ws"));
        let (reads, _) = repository_paths(
            &accesses,
            Path::new("/tmp/i8exp/ws"),
            &[PathBuf::from("/tmp/i8exp/ws/build")],
        );
        assert_eq!(reads.into_iter().collect::<Vec<_>>(), ["Cargo.toml"]);
    }

    fn recording() -> Recording {
        let mut recording = Recording::new("c0ffee".into(), false, None, None);
        recording.add(Invocation {
            binary_id: "a::fixtures".into(),
            listed_tests: None,
            test: Some("reads".into()),
            exit_code: Some(0),
            reads: ["fixtures/golden.json".to_owned()].into(),
            listed: ["fixtures/cases".to_owned()].into(),
        });
        recording.add(Invocation {
            binary_id: "b".into(),
            listed_tests: None,
            test: Some("fails".into()),
            exit_code: Some(101),
            reads: ["fixtures/cases/one.txt".to_owned()].into(),
            listed: BTreeSet::new(),
        });
        recording
    }

    #[test]
    fn lookups_by_read_and_by_listing() {
        let recording = recording();
        assert_eq!(
            recording.readers("fixtures/golden.json"),
            [("a::fixtures", "reads")]
        );
        assert!(recording.readers("README.md").is_empty());
        let listing = recording.listing_readers("fixtures/cases/two.txt");
        assert_eq!(
            listing,
            [("fixtures/cases".to_owned(), ("a::fixtures", "reads"))]
        );
        // A new subdirectory appears in the listing of its parent.
        let listing = recording.listing_readers("fixtures/cases/new/x.txt");
        assert_eq!(
            listing,
            [("fixtures/cases".to_owned(), ("a::fixtures", "reads"))]
        );
        assert!(recording.listing_readers("docs/new.txt").is_empty());
        assert_eq!(recording.failures(), ["b fails"]);
        assert!(recording.is_complete("a::fixtures"));
        assert!(
            !recording.is_complete("b"),
            "a failed test may have stopped reading early"
        );
        assert!(!recording.is_complete("c"), "never traced");
    }

    #[test]
    fn a_binary_with_untraced_tests_is_incomplete() {
        let mut recording = recording();
        recording.add(Invocation {
            binary_id: "a::fixtures".into(),
            listed_tests: Some(2),
            ..Invocation::default()
        });
        assert!(
            !recording.is_complete("a::fixtures"),
            "one of two tests traced"
        );
        recording.add(Invocation {
            binary_id: "empty".into(),
            listed_tests: Some(0),
            ..Invocation::default()
        });
        assert!(recording.is_complete("empty"), "no tests: nothing to read");
    }

    #[test]
    fn reads_are_kept_per_test() {
        let mut recording = recording();
        recording.add(Invocation {
            binary_id: "a::fixtures".into(),
            listed_tests: None,
            test: Some("other".into()),
            exit_code: Some(0),
            reads: ["fixtures/other.json".to_owned()].into(),
            listed: BTreeSet::new(),
        });
        assert_eq!(
            recording.readers("fixtures/other.json"),
            [("a::fixtures", "other")]
        );
        assert_eq!(
            recording.readers("fixtures/golden.json"),
            [("a::fixtures", "reads")],
            "the other test of the same binary did not read it"
        );
        assert_eq!(recording.binaries["a::fixtures"].traced, 2);
    }

    #[test]
    fn a_v1_recording_is_refused_with_what_to_do() {
        let dir = std::env::temp_dir().join(format!("impact-recording-v1-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("v1.json");
        std::fs::write(
            &path,
            r#"{"schema": "impact-recording/v1", "tool": "impact 0.1.0", "commit": "c0ffee",
                "dirty": false, "recorded_at": 0, "lane": null, "filterset": null,
                "binaries": {"a": {"listed_tests": 1, "tests": 1, "failed": [],
                                   "reads": ["x"], "listed": []}}}"#,
        )
        .unwrap();
        let failure = Recording::load(&path).unwrap_err();
        let located = &failure.located[0];
        assert!(
            located.message.contains("impact-recording/v1")
                && located.message.contains("impact-recording/v2"),
            "{located:?}"
        );
        assert!(
            located
                .help
                .as_deref()
                .is_some_and(|h| h.contains("cargo xtask impact record")),
            "{located:?}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn recording_round_trips_through_json() {
        let recording = recording();
        let back: Recording = serde_json::from_str(&recording.to_json()).unwrap();
        assert_eq!(back, recording);
        assert_eq!(back.schema, RECORDING_SCHEMA);
    }
}
