//! GitHub Actions workflows, understood rather than feared: which jobs run this workspace's
//! tests, what those jobs inherit, and whether a change touches any of it.
//!
//! A job *runs tests* when one of its steps runs `cargo test`, `cargo nextest`,
//! `cargo llvm-cov` (and the other test runners in [`TEST_SUBCOMMANDS`]), an xtask test command
//! ([`XTASK_TEST_COMMANDS`]), a cargo subcommand this module does not know, a task runner whose
//! recipes it does not read (`make`, `just`, `nix`, ...), or a repository script, local
//! composite action or local reusable workflow that does (read and judged the same way; one
//! that cannot be read counts as running tests). Everything a test job inherits is part of
//! its test environment: the workflow-level `env` and `defaults`, its `strategy.matrix`,
//! `container`, `services`, `runs-on`, `env`, every step (toolchain and tool installs
//! included), the jobs whose outputs it reads (`needs.<job>.outputs`), and the local actions
//! and scripts it runs. Moving an inert action ([`DEFAULT_INERT_ACTIONS`], extended by
//! `inert-actions` in `[impact]`) to another version is not a change, and neither is a `run`
//! step after the job's last step that runs tests ([`tested_environment`]).
//!
//! Shell text is read command by command: a command substitution `$(...)` is a command of its
//! own; a cargo subcommand that is not built in is looked up among the revision's cargo
//! aliases and judged by its expansion; `uses: $/path` (GitHub's self-repository form) is read
//! like `uses: ./path`.
//!
//! The decision for a changed workflow is everything when a test environment changed and
//! nothing otherwise, with a reason naming the jobs that did change.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};
use yaml_rust2::{Yaml, YamlLoader};

/// Where GitHub reads workflows from, relative to the repository root.
pub const WORKFLOWS_DIR: &str = ".github/workflows";

/// Actions whose version cannot change what is built or how tests run: checkout, caches,
/// artifact transfer, coverage upload. Matched by `owner/repo` (any sub-action below it, e.g.
/// `actions/cache/restore`), case-insensitively.
pub const DEFAULT_INERT_ACTIONS: &[&str] = &[
    "actions/checkout",
    "actions/cache",
    "Swatinem/rust-cache",
    "actions/upload-artifact",
    "actions/download-artifact",
    "codecov/codecov-action",
];

/// Cargo subcommands that run tests.
pub const TEST_SUBCOMMANDS: &[&str] = &["test", "t", "nextest", "llvm-cov", "tarpaulin", "mutants"];

/// Cargo subcommands that wrap another one (`cargo hack test`, `cargo miri test`): they run
/// tests when a test subcommand follows.
const WRAPPER_SUBCOMMANDS: &[&str] = &[
    "hack",
    "careful",
    "miri",
    "minimal-versions",
    "insta",
    "all-features",
    "msrv",
    "run",
    "r",
    "pgo",
];

/// `cargo xtask <command>`s that run tests (this workspace's lanes and the common names).
pub const XTASK_TEST_COMMANDS: &[&str] = &[
    "test",
    "tests",
    "lane",
    "release-lane",
    "ci",
    "coverage",
    "nextest",
];

/// Cargo subcommands known not to run tests: builds, lints, docs, packaging, publishing,
/// dependency tooling, benchmarks.
const NON_TEST_SUBCOMMANDS: &[&str] = &[
    "build",
    "b",
    "check",
    "c",
    "clippy",
    "fmt",
    "rustc",
    "fix",
    "report",
    "doc",
    "d",
    "rustdoc",
    "publish",
    "package",
    "install",
    "uninstall",
    "update",
    "fetch",
    "metadata",
    "tree",
    "deny",
    "audit",
    "udeps",
    "machete",
    "shear",
    "semver-checks",
    "generate-lockfile",
    "login",
    "logout",
    "owner",
    "yank",
    "search",
    "vendor",
    "clean",
    "new",
    "init",
    "add",
    "remove",
    "version",
    "about",
    "sort",
    "outdated",
    "release",
    "dist",
    "binstall",
    "sweep",
    "cyclonedx",
    "sbom",
    "auditable",
    "llvm-lines",
    "bloat",
    "expand",
    "set-version",
    "bump",
    "workspaces",
    "ws",
    "spellcheck",
    "bench",
    "codspeed",
    "criterion",
    "info",
    "locate-project",
    "pkgid",
    "verify-project",
    "help",
    "config",
    "cache",
    "deb",
    "generate-rpm",
    "wix",
    "bundle",
    "zigbuild",
    "rdme",
    "readme",
    "public-api",
    "vet",
    "geiger",
    "upgrade",
    "upgrades",
];

/// Programs that run recipes this module does not read: counted as running tests.
const TASK_RUNNERS: &[&str] = &[
    "make",
    "just",
    "cargo-make",
    "makers",
    "nix",
    "bazel",
    "bazelisk",
    "buck2",
    "earthly",
];

/// File endings of scripts a step may run, read and judged like the step itself.
const SCRIPT_ENDINGS: &[&str] = &[
    ".sh", ".bash", ".zsh", ".py", ".ps1", ".pl", ".rb", ".js", ".mjs", ".ts",
];

/// Programs whose first argument is a script to run (`bash .ci/run`, `python x.py`).
const INTERPRETERS: &[&str] = &[
    "bash", "sh", "zsh", "dash", "source", ".", "pwsh", "python", "python3", "node", "perl", "ruby",
];

/// Scripts that are not shell: only the `cargo` commands they name are looked for.
const OTHER_LANGUAGES: &[&str] = &[".py", ".js", ".mjs", ".ts", ".rb", ".pl"];

/// How deep scripts calling scripts (and actions using actions) are followed; deeper counts
/// as running tests.
const MAX_DEPTH: usize = 4;

/// The files of one revision, repository-relative.
pub trait Files {
    /// A file's text; `None` when it does not exist or cannot be read.
    fn read(&self, path: &str) -> Option<String>;
    /// Paths of the workflow files (`.github/workflows/*.yml|yaml`).
    fn workflow_paths(&self) -> Vec<String>;
}

/// Whether a repository-relative path is a workflow file GitHub reads.
pub fn is_workflow_path(path: &str) -> bool {
    path.strip_prefix(WORKFLOWS_DIR)
        .and_then(|rest| rest.strip_prefix('/'))
        .is_some_and(|name| {
            !name.contains('/') && (name.ends_with(".yml") || name.ends_with(".yaml"))
        })
}

/// What a change means for the tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A test environment changed: every test.
    All(String),
    /// No job that runs tests changed.
    Nothing(String),
}

/// A parsed workflow: its top level as JSON-like data (mappings compare regardless of order,
/// comments and layout are gone).
#[derive(Debug, Clone)]
pub struct Workflow {
    pub top: Map<String, Value>,
    pub jobs: BTreeMap<String, Value>,
}

/// Parses a workflow file. Errors say where (`line L, column C`) and what.
pub fn parse(text: &str) -> Result<Workflow, String> {
    let value = parse_yaml(text)?;
    let Value::Object(top) = value else {
        return Err("the file is not a mapping of workflow keys (`on`, `jobs`, ...)".into());
    };
    let jobs = match top.get("jobs") {
        Some(Value::Object(jobs)) => jobs,
        Some(_) => return Err("`jobs` is not a mapping of job ids to jobs".into()),
        None => return Err("there is no `jobs` mapping".into()),
    };
    let mut parsed = BTreeMap::new();
    for (id, job) in jobs {
        if !job.is_object() {
            return Err(format!("job `{id}` is not a mapping"));
        }
        parsed.insert(id.clone(), job.clone());
    }
    Ok(Workflow {
        top: top.clone(),
        jobs: parsed,
    })
}

/// YAML (1.2, as GitHub reads it: `on` stays a key) as a JSON value; the first document.
pub fn parse_yaml(text: &str) -> Result<Value, String> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| {
        format!(
            "line {}, column {}: {}",
            e.marker().line(),
            e.marker().col() + 1,
            e.info()
        )
    })?;
    match docs.into_iter().next() {
        Some(doc) => Ok(to_json(&doc)),
        None => Err("the file is empty".into()),
    }
}

fn to_json(yaml: &Yaml) -> Value {
    match yaml {
        // Numbers keep their text: `1.10` and `1.1` are different versions.
        Yaml::Real(text) => Value::String(text.clone()),
        Yaml::Integer(n) => Value::from(*n),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Array(items) => Value::Array(items.iter().map(to_json).collect()),
        Yaml::Hash(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (scalar_text(k), to_json(v)))
                .collect(),
        ),
        Yaml::Null | Yaml::Alias(_) | Yaml::BadValue => Value::Null,
    }
}

fn scalar_text(yaml: &Yaml) -> String {
    match yaml {
        Yaml::Real(s) | Yaml::String(s) => s.clone(),
        Yaml::Integer(n) => n.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        Yaml::Null => "null".into(),
        other => format!("{other:?}"),
    }
}

/// What a job does, as far as tests go.
#[derive(Debug, Clone, Default)]
pub struct JobInfo {
    /// Why the job counts as running tests (`None`: it runs none).
    pub runs_tests: Option<String>,
    /// The index (in its `steps`) of the last step that runs tests; `None` when no step of
    /// its own does (it runs none, or it calls a reusable workflow that does), or when the
    /// job builds test binaries without running them (`cargo test --no-run`,
    /// `cargo nextest archive`, `cargo build --tests`): a later step may run those binaries
    /// in a way this analysis does not recognize (in a VM, by path), so no step of such a job
    /// counts as coming after its tests.
    pub last_test_step: Option<usize>,
    /// Repository files and directories (ending in `/`) the job runs: local actions, local
    /// reusable workflows, scripts.
    pub uses: BTreeSet<String>,
}

/// Reads a job (with the workflow it belongs to) and decides whether it runs tests.
pub fn job_info(files: &dyn Files, workflow: &Workflow, job: &Value) -> JobInfo {
    let mut info = JobInfo::default();
    let defaults_dir = working_directory(workflow.top.get("defaults"));
    let mut scanner = Scanner {
        files,
        uses: &mut info.uses,
        assigned: BTreeMap::new(),
        resolving: BTreeSet::new(),
        last_test_step: None,
        builds_tests_to_run_later: false,
    };
    info.runs_tests = scanner.job(job, workflow.top.get("env"), defaults_dir.as_deref(), 0);
    info.last_test_step = scanner
        .last_test_step
        .filter(|_| !scanner.builds_tests_to_run_later);
    info
}

fn working_directory(defaults: Option<&Value>) -> Option<String> {
    defaults?
        .get("run")?
        .get("working-directory")?
        .as_str()
        .map(str::to_owned)
}

struct Scanner<'a> {
    files: &'a dyn Files,
    uses: &'a mut BTreeSet<String>,
    /// Values the job assigns to each variable (workflow, job and step `env`, assignments in
    /// its shell text, `NAME=value` lines written to `$GITHUB_ENV`): every value any of them
    /// may hold, so a command given by a variable is judged by what it can be.
    assigned: BTreeMap<String, BTreeSet<String>>,
    /// Variables being resolved (a cycle leaves the variable unresolved).
    resolving: BTreeSet<String>,
    /// The last of the job's own steps (depth 0) that runs tests.
    last_test_step: Option<usize>,
    /// Whether any text the job runs builds test binaries without running them.
    builds_tests_to_run_later: bool,
}

impl Scanner<'_> {
    fn job(
        &mut self,
        job: &Value,
        workflow_env: Option<&Value>,
        outer_dir: Option<&str>,
        depth: usize,
    ) -> Option<String> {
        if depth > MAX_DEPTH {
            return Some("calls workflows nested too deep to follow".into());
        }
        if let Some(called) = job.get("uses").and_then(Value::as_str) {
            return self.reusable_workflow(called, depth);
        }
        let job_dir = working_directory(job.get("defaults"));
        let dir = job_dir.as_deref().or(outer_dir);
        let steps = job.get("steps").and_then(Value::as_array)?;
        // A job sees only its own variables: those of the job that called a reusable
        // workflow are put back afterwards.
        let outer = std::mem::take(&mut self.assigned);
        self.assign_env(workflow_env);
        self.assign_env(job.get("env"));
        for step in steps {
            self.assign_env(step.get("env"));
            if let Some(script) = step.get("run").and_then(Value::as_str) {
                self.assign_shell(script);
            }
        }
        let verdict = self.steps(steps, dir, depth);
        self.assigned = outer;
        verdict
    }

    /// Adds the variables of an `env` mapping.
    fn assign_env(&mut self, env: Option<&Value>) {
        let Some(env) = env.and_then(Value::as_object) else {
            return;
        };
        for (name, value) in env {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            self.assigned.entry(name.clone()).or_default().insert(text);
        }
    }

    /// Adds the variables shell text assigns.
    fn assign_shell(&mut self, text: &str) {
        for (name, value) in shell_assignments(text) {
            self.assigned.entry(name).or_default().insert(value);
        }
    }

    fn steps(&mut self, steps: &[Value], dir: Option<&str>, depth: usize) -> Option<String> {
        let mut first = None;
        for (index, step) in steps.iter().enumerate() {
            // Keep scanning after the first hit: every local file the job runs is recorded.
            if let Some(why) = self.step(step, dir, depth) {
                first.get_or_insert(format!("step {}: {why}", index + 1));
                if depth == 0 {
                    self.last_test_step = Some(index);
                }
            }
        }
        first
    }

    fn reusable_workflow(&mut self, called: &str, depth: usize) -> Option<String> {
        let Some(local) = local_reference(called) else {
            return Some(format!(
                "calls `{called}`, a workflow of another repository that cannot be read here"
            ));
        };
        let path = local.split('@').next().unwrap_or(local).to_owned();
        self.uses.insert(path.clone());
        let Some(text) = self.files.read(&path) else {
            return Some(format!("calls `{called}`, which cannot be read"));
        };
        let Ok(workflow) = parse(&text) else {
            return Some(format!("calls `{called}`, which cannot be parsed"));
        };
        let dir = working_directory(workflow.top.get("defaults"));
        let mut first = None;
        for (id, job) in &workflow.jobs {
            if let Some(why) = self.job(job, workflow.top.get("env"), dir.as_deref(), depth + 1) {
                first.get_or_insert(format!("calls `{called}`, whose job `{id}` {why}"));
            }
        }
        first
    }

    fn step(&mut self, step: &Value, dir: Option<&str>, depth: usize) -> Option<String> {
        self.assign_env(step.get("env"));
        let step_dir = step.get("working-directory").and_then(Value::as_str);
        let dir = step_dir.or(dir).unwrap_or("");
        if let Some(script) = step.get("run").and_then(Value::as_str) {
            return self
                .commands(script, dir, depth, true)
                .map(|why| format!("`{}` {why}", first_line(script)));
        }
        let action = step.get("uses").and_then(Value::as_str)?;
        if let Some(local) = local_reference(action) {
            let local = local.split('@').next().unwrap_or(local);
            return self.local_action(local.trim_end_matches('/'), depth);
        }
        if let Some(why) = remote_action_runs_tests(action, step.get("with")) {
            return Some(why);
        }
        // Inputs that are commands (`run`, `script`) are judged like a `run` step.
        let with = step.get("with")?.as_object()?;
        for key in ["run", "script", "cmd"] {
            if let Some(text) = with.get(key).and_then(Value::as_str)
                && let Some(why) = self.commands(text, dir, depth, true)
            {
                return Some(format!("`{action}` with `{key}` that {why}"));
            }
        }
        None
    }

    fn local_action(&mut self, dir: &str, depth: usize) -> Option<String> {
        self.uses.insert(format!("{dir}/"));
        if depth >= MAX_DEPTH {
            return Some(format!("uses `./{dir}`, nested too deep to follow"));
        }
        let text = ["action.yml", "action.yaml"]
            .iter()
            .find_map(|name| self.files.read(&format!("{dir}/{name}")));
        let Some(text) = text else {
            return Some(format!(
                "uses the local action `./{dir}`, which cannot be read"
            ));
        };
        let Ok(action) = parse_yaml(&text) else {
            return Some(format!(
                "uses the local action `./{dir}`, which cannot be parsed"
            ));
        };
        let runs = action.get("runs");
        let using = runs.and_then(|r| r.get("using")).and_then(Value::as_str);
        if using != Some("composite") {
            return Some(format!(
                "uses the local action `./{dir}`, which runs code this analysis does not read ({})",
                using.unwrap_or("no `runs.using`")
            ));
        }
        let steps = runs
            .and_then(|r| r.get("steps"))
            .and_then(Value::as_array)?;
        let mut first = None;
        for step in steps {
            if let Some(why) = self.step(step, None, depth + 1) {
                first.get_or_insert(format!("uses the local action `./{dir}`, which {why}"));
            }
        }
        first
    }

    /// Shell text (or a script in another language): finds commands that run tests. `cargo`
    /// is looked for anywhere (a test command passed as a string to another runner counts);
    /// in shell text also scripts, task runners and variable programs where a command stands.
    fn commands(&mut self, text: &str, dir: &str, depth: usize, shell: bool) -> Option<String> {
        if !shell {
            return self.other_language(text, dir);
        }
        self.assign_shell(text);
        let joined = text.replace("\\\n", " ");
        let mut first = None;
        for line in joined.lines() {
            let line = without_comment(line);
            let trimmed = line.trim_start();
            if trimmed.starts_with("echo ") || trimmed.starts_with("printf ") {
                continue; // messages, not commands
            }
            let tokens: Vec<&str> = line
                .split(|c: char| c.is_whitespace() || ";&|()`\"',[]".contains(c))
                .filter(|t| !t.is_empty())
                .collect();
            self.builds_tests_to_run_later |= builds_tests_without_running(&tokens);
            for (i, token) in tokens.iter().enumerate() {
                if let Some(why) = self.test_runner(token, &tokens[i + 1..], dir) {
                    first.get_or_insert(why);
                }
            }
            for segment in segments(line).iter() {
                if let Some(why) = self.command(segment, dir, depth) {
                    first.get_or_insert(why);
                }
            }
        }
        first
    }

    /// A script in another language (Python, JavaScript, Ruby, Perl): only the text of its
    /// string literals can name a command, so `cargo` is looked for among them, the literals
    /// of one list or call read together (`["cargo", "test"]`, `"cargo test --workspace"`, a
    /// list spread over lines); an unquoted `cargo` is a variable (`publish(cargo, existing)`),
    /// not a program. A variable holding the program may be joined with a subcommand
    /// (`[*cargo, "test"]`), so a line with a `cargo` variable and a string literal that
    /// starts with a test subcommand counts as running tests too.
    fn other_language(&mut self, text: &str, dir: &str) -> Option<String> {
        let mut first = None;
        for line in text.lines() {
            let line = without_comment(line);
            let cargo_variable = unquoted_words(line).any(|word| word == "cargo");
            if cargo_variable
                && let Some(literal) = string_literals(line).into_iter().find(|literal| {
                    literal
                        .split_whitespace()
                        .next()
                        .is_some_and(|word| TEST_SUBCOMMANDS.contains(&word) || word == "xtask")
                })
            {
                first.get_or_insert(format!(
                    "runs `cargo` with `{literal}` (counted as running tests)"
                ));
            }
        }
        for group in literal_groups(text) {
            let joined = group.join(" ");
            let tokens: Vec<&str> = joined
                .split(|c: char| c.is_whitespace() || ";&|()`\"',[]".contains(c))
                .map(|token| token.trim_end_matches(['.', ',', ':', '!', '?']))
                .filter(|t| !t.is_empty())
                .collect();
            self.builds_tests_to_run_later |= builds_tests_without_running(&tokens);
            for (i, token) in tokens.iter().enumerate() {
                if let Some(why) = self.test_runner(token, &tokens[i + 1..], dir) {
                    first.get_or_insert(why);
                }
            }
        }
        first
    }

    /// One simple command (its words): a variable program, a task runner, an interpreter
    /// running a script, or a repository script.
    fn command(&mut self, words: &[String], dir: &str, depth: usize) -> Option<String> {
        let at = command_position(words)?;
        let word = words[at].as_str();
        if (word.starts_with('$') && program_name(word).starts_with('$')) || word.starts_with("${{")
        {
            return match self.resolve(words, at, dir, depth) {
                Some(verdict) => verdict,
                None => variable_command(words, at),
            };
        }
        let program = program_name(word);
        if TASK_RUNNERS.contains(&program) {
            return Some(format!(
                "runs `{program}`, whose recipes this analysis does not read"
            ));
        }
        if INTERPRETERS.contains(&program) {
            let first = words.get(at + 1)?;
            if first == "-m" || first == "-c" {
                // A module (`python -m ruff`) or inline code (`bash -c "..."`, where `cargo`
                // is found anyway): no script file to read.
                return None;
            }
            let script = words[at + 1..].iter().find(|w| !w.starts_with('-'))?;
            return self.script(script, dir, depth, Some(program));
        }
        self.script(word, dir, depth, None)
    }

    /// A command whose program is a variable the job assigns, judged by every value it may
    /// hold (the first that runs tests decides). `None`: the variable is not one the job
    /// assigns (nor an `env.` expression of one), so what it runs is unknown.
    fn resolve(
        &mut self,
        words: &[String],
        at: usize,
        dir: &str,
        depth: usize,
    ) -> Option<Option<String>> {
        let (name, end) = variable_name(words, at)?;
        if self.resolving.contains(&name) {
            return None;
        }
        let values = self.assigned.get(&name)?.clone();
        self.resolving.insert(name.clone());
        let mut first = None;
        for value in &values {
            let mut resolved: Vec<String> = without_expression_spaces(value)
                .split_whitespace()
                .map(str::to_owned)
                .collect();
            resolved.extend(words[end + 1..].iter().cloned());
            let Some(program) = resolved.first() else {
                continue;
            };
            let rest: Vec<&str> = resolved[1..].iter().map(String::as_str).collect();
            let why = self
                .test_runner(program, &rest, dir)
                .or_else(|| self.command(&resolved, dir, depth));
            if let Some(why) = why {
                first.get_or_insert(format!("runs `${name}` (`{value}`), which {why}"));
            }
        }
        self.resolving.remove(&name);
        Some(first)
    }

    /// [`test_runner`] with this revision's cargo aliases for commands run in `dir`.
    fn test_runner(&self, word: &str, rest: &[&str], dir: &str) -> Option<String> {
        test_runner(word, rest, &|name: &str| self.cargo_alias(name, dir))
    }

    /// What the cargo alias `name` expands to for a command run in `dir`: every definition
    /// of it in this revision's `.cargo/config.toml` (or `.cargo/config`, which cargo prefers
    /// when both exist) in `dir` and each directory above it up to the repository root, as
    /// words. Cargo uses the nearest one; all of them are returned, so a command is judged by
    /// each it may be (a script's `cd` is not followed). `None` when no file defines it, when
    /// a file on the way cannot be parsed, when the job sets `CARGO_ALIAS_<NAME>` (the
    /// environment overrides the files) or when `dir` is outside the repository: the alias is
    /// then unknown.
    fn cargo_alias(&self, name: &str, dir: &str) -> Option<Vec<Vec<String>>> {
        let variable = format!(
            "CARGO_ALIAS_{}",
            name.to_ascii_uppercase().replace('-', "_")
        );
        if self.assigned.contains_key(&variable) || dir.starts_with('/') || dir.contains('$') {
            return None;
        }
        let mut expansions = Vec::new();
        let mut at = normalize(dir, ".");
        loop {
            let config = ["config", "config.toml"].iter().find_map(|file| {
                let path = normalize(&at, &format!(".cargo/{file}"));
                self.files.read(&path)
            });
            if let Some(text) = config {
                let table: toml::Table = toml::from_str(&text).ok()?;
                match table.get("alias").and_then(|aliases| aliases.get(name)) {
                    Some(toml::Value::String(line)) => expansions.push(
                        line.split_whitespace()
                            .map(str::to_owned)
                            .collect::<Vec<_>>(),
                    ),
                    Some(toml::Value::Array(words)) => expansions.push(
                        words
                            .iter()
                            .map(|w| w.as_str().map(str::to_owned))
                            .collect::<Option<Vec<_>>>()?,
                    ),
                    Some(_) => return None,
                    None => {}
                }
            }
            if at.is_empty() || at.starts_with("..") {
                break;
            }
            at = at
                .rsplit_once('/')
                .map_or(String::new(), |(parent, _)| parent.to_owned());
        }
        (!expansions.is_empty()).then_some(expansions)
    }

    /// A word that names a repository script: read it and judge it the same way.
    /// `interpreter` is the program that runs it, when a command names one (`bash x`).
    fn script(
        &mut self,
        token: &str,
        dir: &str,
        depth: usize,
        interpreter: Option<&str>,
    ) -> Option<String> {
        let named = interpreter.is_some();
        let cleaned = token
            .trim_start_matches("$GITHUB_WORKSPACE/")
            .trim_start_matches("${GITHUB_WORKSPACE}/")
            .trim_start_matches("${{ github.workspace }}/");
        if cleaned.contains("://") || cleaned.starts_with('-') || cleaned.contains('$') {
            return None;
        }
        let is_script = named || SCRIPT_ENDINGS.iter().any(|e| cleaned.ends_with(e));
        if !is_script && !cleaned.contains('/') {
            return None; // a program on PATH
        }
        let candidates = [normalize(dir, cleaned), normalize("", cleaned)];
        let found = candidates
            .iter()
            .find_map(|p| self.files.read(p).map(|text| (p.clone(), text)));
        let Some((path, text)) = found else {
            return is_script.then(|| format!("runs `{token}`, a script that cannot be read here"));
        };
        if !self.uses.insert(path.clone()) {
            return None; // already judged on this path
        }
        if depth >= MAX_DEPTH {
            return Some(format!("runs `{path}`, nested too deep to follow"));
        }
        let script_dir = path.rsplit_once('/').map_or("", |(d, _)| d).to_owned();
        let shell = !OTHER_LANGUAGES.iter().any(|e| path.ends_with(e))
            && !matches!(
                interpreter,
                Some("python" | "python3" | "node" | "perl" | "ruby")
            );
        self.commands(&text, &script_dir, depth + 1, shell)
            .map(|why| format!("runs `{path}`, which {why}"))
    }
}

/// The repository path a `uses:` value names in this repository: `./path` (the checked-out
/// workspace) or `$/path` (GitHub's self-repository syntax: this repository at the commit
/// that runs, which is the revision being judged). `None` for another repository's.
fn local_reference(uses: &str) -> Option<&str> {
    uses.strip_prefix("./").or_else(|| uses.strip_prefix("$/"))
}

/// Finds what a cargo alias expands to (every definition that may apply), `None` when it
/// is unknown.
type AliasLookup<'a> = &'a dyn Fn(&str) -> Option<Vec<Vec<String>>>;

/// Cargo's built-in commands and their short forms: an alias cannot redefine them (cargo
/// ignores such an alias), so they are judged by name.
const CARGO_BUILTINS: &[&str] = &[
    "add",
    "b",
    "bench",
    "build",
    "c",
    "check",
    "clean",
    "config",
    "d",
    "doc",
    "fetch",
    "fix",
    "generate-lockfile",
    "help",
    "info",
    "init",
    "install",
    "locate-project",
    "login",
    "logout",
    "metadata",
    "new",
    "owner",
    "package",
    "pkgid",
    "publish",
    "r",
    "read-manifest",
    "remove",
    "report",
    "rm",
    "run",
    "rustc",
    "rustdoc",
    "search",
    "t",
    "test",
    "tree",
    "uninstall",
    "update",
    "vendor",
    "verify-project",
    "version",
    "yank",
];

/// How deep aliases naming aliases are followed; deeper counts as running tests.
const MAX_ALIAS_DEPTH: usize = 8;

/// A program that runs tests by name: `cargo` with a test subcommand, `cross test`, the
/// test runners' own binaries. `rest` are the words after it.
fn test_runner(word: &str, rest: &[&str], aliases: AliasLookup<'_>) -> Option<String> {
    let program = program_name(word);
    match program {
        "cargo" => cargo_runs_tests(rest, aliases, 0),
        "cross" | "cargo-cross" => next_word(rest)
            .filter(|w| matches!(*w, "test" | "nextest"))
            .map(|w| format!("runs `{program} {w}`")),
        "cargo-nextest" | "cargo-llvm-cov" | "cargo-tarpaulin" => Some(format!("runs `{program}`")),
        _ => None,
    }
}

/// Whether a command line builds test binaries without running them: `--no-run`,
/// `cargo nextest archive` or `list`, or `cargo build`/`rustc` with test targets. Those
/// binaries may be run by a later step in ways no command name shows.
fn builds_tests_without_running(tokens: &[&str]) -> bool {
    let builds = |sub: &str| matches!(sub, "build" | "b" | "rustc");
    tokens.contains(&"--no-run")
        || tokens
            .windows(2)
            .any(|pair| pair[0].ends_with("nextest") && matches!(pair[1], "archive" | "list"))
        || (tokens.iter().any(|t| builds(t))
            && tokens.iter().any(|t| {
                matches!(
                    *t,
                    "--tests" | "--test" | "--all-targets" | "--benches" | "--bench"
                )
            }))
}

/// The variable a command word names (`$NAME`, `${NAME}`, `${{ env.NAME }}`) and the index of
/// the expression's last word; `None` for any other expression (`${{ matrix.x }}`, `$1`).
fn variable_name(words: &[String], at: usize) -> Option<(String, usize)> {
    let word = words[at].as_str();
    let valid = |name: &str| {
        !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if word.starts_with("${{") {
        let mut end = at;
        while end + 1 < words.len() && !words[end].ends_with("}}") {
            end += 1;
        }
        let expression = words[at..=end].join(" ");
        let inner = expression.strip_prefix("${{")?.strip_suffix("}}")?.trim();
        let name = inner.strip_prefix("env.")?;
        return valid(name).then(|| (name.to_owned(), end));
    }
    let name = word.strip_prefix('$')?;
    let name = match name.strip_prefix('{') {
        Some(braced) => braced.strip_suffix('}')?,
        None => name,
    };
    valid(name).then(|| (name.to_owned(), at))
}

/// `${{ matrix.target }}` as `${{matrix.target}}`, so splitting a value into words keeps each
/// expression inside the word it stands in.
fn without_expression_spaces(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut inside = false;
    let mut rest = value;
    while !rest.is_empty() {
        if !inside && rest.starts_with("${{") {
            inside = true;
            out.push_str("${{");
            rest = &rest[3..];
        } else if inside && rest.starts_with("}}") {
            inside = false;
            out.push_str("}}");
            rest = &rest[2..];
        } else {
            let c = rest.chars().next().expect("not empty");
            if !(inside && c.is_whitespace()) {
                out.push(c);
            }
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// Variables shell text assigns: `NAME=value` standing alone (or after `export`, `local`,
/// `declare`, `readonly`), and `echo "NAME=value" >> $GITHUB_ENV`. Every assignment counts,
/// whichever branch of the script it is on.
fn shell_assignments(text: &str) -> Vec<(String, String)> {
    let joined = text.replace("\\\n", " ");
    let mut found = Vec::new();
    let mut add = |word: &str| {
        if let Some((name, value)) = word.split_once('=')
            && !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            found.push((name.to_owned(), value.to_owned()));
        }
    };
    for line in joined.lines() {
        for words in segments(without_comment(line)) {
            let first = words[0].as_str();
            if first == "echo" && words.iter().any(|w| w.contains("GITHUB_ENV")) {
                if let Some(word) = words[1..].iter().find(|w| !w.starts_with('-')) {
                    add(word);
                }
            } else if matches!(first, "export" | "local" | "declare" | "readonly") {
                words[1..].iter().for_each(|w| add(w));
            } else if command_position(&words).is_none() {
                words.iter().for_each(|w| add(w));
            }
        }
    }
    found
}

/// A word's program name: the last path segment, without `.exe`.
fn program_name(word: &str) -> &str {
    let name = word.rsplit('/').next().unwrap_or(word);
    name.strip_suffix(".exe").unwrap_or(name)
}

/// Words that may stand before a command without being it; their options and numeric
/// arguments (`timeout 10m`) are skipped too.
const COMMAND_PREFIXES: &[&str] = &[
    "sudo", "env", "time", "exec", "nice", "then", "do", "else", "if", "elif", "while", "until",
    "!", "{", "command", "timeout", "xargs", "retry", "eval",
];

/// The simple commands of a line, each as its words with quotes removed. Separators (`;`,
/// `|`, `&`, parentheses, backquotes) count only outside quotes. A command substitution
/// `$(...)`, inside double quotes or not, is a command of its own, judged by its own words
/// (`$(jq ...)` runs `jq`); in the command around it, it stands as the word
/// [`SUBSTITUTION`], so a substitution in command position (`$(which cargo) test`) is a
/// program given by an expression, and one among the arguments
/// (`docker buildx imagetools create $(jq ...)`) leaves the command judged by its program.
fn segments(line: &str) -> Vec<Vec<String>> {
    fn flush(word: &mut String, words: &mut Vec<String>) {
        if !word.is_empty() {
            words.push(std::mem::take(word));
        }
    }
    /// The command a `$(` interrupted, resumed at its `)`.
    struct Outer {
        words: Vec<String>,
        word: String,
        /// Whether the `$(` stood inside double quotes.
        quoted: bool,
        /// Subshell parentheses open inside the substitution.
        depth: usize,
    }
    let mut out = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut stack: Vec<Outer> = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        let opens_substitution = c == '$' && chars.peek() == Some(&'(') && quote != Some('\'');
        if opens_substitution {
            chars.next();
            stack.push(Outer {
                words: std::mem::take(&mut words),
                word: std::mem::take(&mut word),
                quoted: quote == Some('"'),
                depth: 0,
            });
            quote = None;
            continue;
        }
        match quote {
            Some('\'') => {
                if c == '\'' {
                    quote = None;
                } else {
                    word.push(c);
                }
            }
            Some(_) => {
                if c == '"' {
                    quote = None;
                } else {
                    word.push(c);
                }
            }
            None => match c {
                '\'' | '"' => quote = Some(c),
                ')' if stack.last().is_some_and(|outer| outer.depth == 0) => {
                    flush(&mut word, &mut words);
                    out.push(std::mem::take(&mut words));
                    let outer = stack.pop().expect("checked");
                    (words, word) = (outer.words, outer.word);
                    word.push_str(SUBSTITUTION);
                    quote = outer.quoted.then_some('"');
                }
                // `args=(a b)`, `args+=("$X")`: an array, not a subshell.
                '(' if word.ends_with('=') => {
                    for c in chars.by_ref() {
                        if c == ')' {
                            break;
                        }
                        word.push(c);
                    }
                }
                ';' | '|' | '&' | '(' | ')' | '`' => {
                    if let Some(outer) = stack.last_mut() {
                        match c {
                            '(' => outer.depth += 1,
                            ')' => outer.depth -= 1,
                            _ => {}
                        }
                    }
                    flush(&mut word, &mut words);
                    out.push(std::mem::take(&mut words));
                }
                c if c.is_whitespace() => flush(&mut word, &mut words),
                c => word.push(c),
            },
        }
    }
    flush(&mut word, &mut words);
    out.push(words);
    // A substitution left open at the end of the line: its commands are complete as they
    // stand, and so is the command around it.
    while let Some(outer) = stack.pop() {
        let mut words = outer.words;
        let mut word = outer.word;
        word.push_str(SUBSTITUTION);
        flush(&mut word, &mut words);
        out.push(words);
    }
    out.retain(|w| !w.is_empty());
    out
}

/// The word a command substitution leaves in the command around it: what it expands to is
/// known only when it runs.
const SUBSTITUTION: &str = "$(...)";

/// Where the command stands among a simple command's words: after variable assignments and
/// prefixes (`sudo -E`, `timeout 10m`).
fn command_position(words: &[String]) -> Option<usize> {
    let mut after_prefix = false;
    for (at, word) in words.iter().enumerate() {
        let word = word.as_str();
        let assignment = word.split_once('=').is_some_and(|(name, _)| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        let prefix = COMMAND_PREFIXES.contains(&word);
        let prefix_argument = after_prefix
            && (word.starts_with('-') || word.chars().next().is_some_and(|c| c.is_ascii_digit()));
        if !(assignment || prefix || prefix_argument) {
            return Some(at);
        }
        after_prefix |= prefix;
    }
    None
}

/// A command whose program is a variable or an expression (`$CARGO test`,
/// `${{ env.CARGO }} build`, `${{ matrix.script }}`): judged by the word after it. A known
/// non-test subcommand runs no test; anything else may.
fn variable_command(words: &[String], at: usize) -> Option<String> {
    // The expression may span words: `${{ env.CARGO }}`.
    let mut end = at;
    if words[at].starts_with("${{") {
        while end + 1 < words.len() && !words[end].ends_with("}}") {
            end += 1;
        }
    }
    match words.get(end + 1).map(String::as_str) {
        Some(sub) if NON_TEST_SUBCOMMANDS.contains(&sub) => None,
        Some(sub) if sub.starts_with("check") => None,
        // `"$BIN" --version`: a program asked who it is.
        Some("--version" | "-V" | "--help" | "-h") => None,
        _ => Some(format!(
            "runs a command given by a variable or expression (`{}`), which may run tests",
            words[at..=end].join(" ")
        )),
    }
}

/// The contents of a line's string literals (`"..."`, `'...'`, `` `...` ``), in order.
fn string_literals(line: &str) -> Vec<String> {
    let mut literals = Vec::new();
    let mut current: Option<(char, String)> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match &mut current {
            None if matches!(c, '"' | '\'' | '`') => current = Some((c, String::new())),
            None => {}
            Some((quote, text)) => {
                if c == '\\' {
                    text.extend(chars.next());
                } else if c == *quote {
                    literals.push(std::mem::take(text));
                    current = None;
                } else {
                    text.push(c);
                }
            }
        }
    }
    literals.retain(|literal| !literal.is_empty());
    literals
}

/// The string literals of a script in another language, grouped by the innermost bracket
/// (`(`, `[`, `{`) they stand in; outside any bracket, by line. `#` comments are skipped. A
/// name (a variable, a call) among them stands as [`UNQUOTED`], so `["cargo", sub]` is cargo
/// with a subcommand this cannot read, not cargo alone (`"cargo" in line` counts too: erring
/// on the safe side); keywords are left out.
fn literal_groups(text: &str) -> Vec<Vec<String>> {
    let mut done = Vec::new();
    let mut open: Vec<Vec<String>> = vec![Vec::new()];
    let is_name = |c: char| c.is_alphanumeric() || matches!(c, '_' | '.' | '*');
    for line in text.lines() {
        let line = without_comment(line);
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if is_name(c) {
                let mut name = String::from(c);
                while let Some(&next) = chars.peek().filter(|&&n| is_name(n)) {
                    name.push(next);
                    chars.next();
                }
                // `f"..."`, `r'...'`: a string prefix, not a name.
                let prefix = matches!(chars.peek(), Some('"' | '\'' | '`'))
                    && name.len() <= 2
                    && name.chars().all(|c| "fFrRbBuU".contains(c));
                if !prefix && !KEYWORDS.contains(&name.as_str()) {
                    open.last_mut()
                        .expect("never empty")
                        .push(UNQUOTED.to_owned());
                }
                continue;
            }
            match c {
                '"' | '\'' | '`' => {
                    let mut literal = String::new();
                    while let Some(inner) = chars.next() {
                        if inner == '\\' {
                            literal.extend(chars.next());
                        } else if inner == c {
                            break;
                        } else {
                            literal.push(inner);
                        }
                    }
                    if !literal.is_empty() {
                        open.last_mut().expect("never empty").push(literal);
                    }
                }
                '(' | '[' | '{' => open.push(Vec::new()),
                ')' | ']' | '}' if open.len() > 1 => {
                    done.push(open.pop().expect("checked"));
                }
                _ => {}
            }
        }
        if open.len() == 1 {
            done.push(std::mem::take(&mut open[0]));
        }
    }
    done.extend(open);
    done.retain(|group| !group.is_empty());
    done
}

/// What a name among string literals stands as: an expression, whose value is unknown.
const UNQUOTED: &str = "$name";

/// Words of scripting languages that are not values.
const KEYWORDS: &[&str] = &[
    "if",
    "elif",
    "else",
    "in",
    "not",
    "and",
    "or",
    "is",
    "for",
    "while",
    "return",
    "with",
    "as",
    "def",
    "lambda",
    "import",
    "from",
    "None",
    "True",
    "False",
    "unless",
    "then",
    "end",
    "do",
    "my",
    "let",
    "const",
    "var",
    "new",
    "await",
    "typeof",
    "instanceof",
];

/// The words of a line outside its string literals, without the punctuation around them
/// (`*cargo,` is `cargo`).
fn unquoted_words(line: &str) -> impl Iterator<Item = &str> {
    let mut quote: Option<char> = None;
    let mut outside = Vec::new();
    let mut start = 0;
    for (at, c) in line.char_indices() {
        match quote {
            Some(q) if c == q => {
                quote = None;
                start = at + 1;
            }
            Some(_) => {}
            None if matches!(c, '"' | '\'' | '`') => {
                outside.push(&line[start..at]);
                quote = Some(c);
            }
            None => {}
        }
    }
    if quote.is_none() {
        outside.push(&line[start..]);
    }
    outside.into_iter().flat_map(|part| {
        part.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .filter(|word| !word.is_empty())
    })
}

/// A line without its `#` comment (a `#` at the start or after whitespace).
fn without_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            return &line[..i];
        }
    }
    line
}

/// The first line of a script that is a command (not blank, not a comment), to name it.
fn first_line(script: &str) -> String {
    let mut lines = script.lines().map(str::trim);
    let line = lines
        .clone()
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .or_else(|| lines.next())
        .unwrap_or("");
    if line.len() > 60 {
        let cut = (0..=60)
            .rev()
            .find(|&i| line.is_char_boundary(i))
            .unwrap_or(0);
        format!("{}...", &line[..cut])
    } else {
        line.to_owned()
    }
}

/// The first word that is not an option (nor an option's value) nor a `+toolchain`.
fn next_word<'a>(tokens: &[&'a str]) -> Option<&'a str> {
    let mut skip_value = false;
    for token in tokens {
        if skip_value {
            skip_value = false;
            continue;
        }
        if token.starts_with('+') {
            continue;
        }
        if token.starts_with('-') {
            skip_value = matches!(
                *token,
                "--config" | "-Z" | "--color" | "-C" | "--manifest-path"
            );
            continue;
        }
        return Some(token);
    }
    None
}

/// `cargo ...`: whether the subcommand runs tests. A subcommand that is not built in is
/// first looked up as an alias ([`AliasLookup`]; `depth` aliases deep) and judged by what it
/// expands to, the words after it appended, as cargo runs it.
fn cargo_runs_tests(rest: &[&str], aliases: AliasLookup<'_>, depth: usize) -> Option<String> {
    let sub = next_word(rest)?;
    let position = rest.iter().position(|t| *t == sub).unwrap_or(0);
    let after = &rest[position + 1..];
    if TEST_SUBCOMMANDS.contains(&sub) {
        return Some(format!("runs `cargo {sub}`"));
    }
    if sub == "xtask" || sub == "x" {
        return xtask_runs_tests(after).map(|c| format!("runs `cargo {sub} {c}`"));
    }
    // `--config alias.x=...` on the command line defines aliases this does not read.
    let configured = rest[..position].iter().any(|t| t.starts_with("--config"));
    if !CARGO_BUILTINS.contains(&sub)
        && !configured
        && let Some(expansions) = aliases(sub)
    {
        if depth >= MAX_ALIAS_DEPTH {
            return Some(format!(
                "runs `cargo {sub}`, an alias nested too deep to follow"
            ));
        }
        return expansions.iter().find_map(|expansion| {
            let words: Vec<&str> = expansion
                .iter()
                .map(String::as_str)
                .chain(after.iter().copied())
                .collect();
            cargo_runs_tests(&words, aliases, depth + 1).map(|why| {
                format!(
                    "runs `cargo {sub}`, an alias of `cargo {}` that {why}",
                    expansion.join(" ")
                )
            })
        });
    }
    if WRAPPER_SUBCOMMANDS.contains(&sub) {
        let inner = after.iter().find(|t| {
            TEST_SUBCOMMANDS.contains(t) || XTASK_TEST_COMMANDS.contains(t) || **t == "xtask"
        });
        return inner.map(|t| format!("runs `cargo {sub} .. {t}`"));
    }
    if sub.starts_with('$') {
        return Some("runs `cargo` with a subcommand given by an expression or variable".into());
    }
    // `cargo check-external-types`, `cargo check-all-features`: checks, no tests.
    if NON_TEST_SUBCOMMANDS.contains(&sub) || sub.starts_with("check-") {
        return None;
    }
    Some(format!(
        "runs `cargo {sub}`, a subcommand this analysis does not know (counted as running tests)"
    ))
}

fn xtask_runs_tests(after: &[&str]) -> Option<String> {
    let command = next_word(after)?;
    if XTASK_TEST_COMMANDS.contains(&command) {
        return Some(command.to_owned());
    }
    let rest = &after[after.iter().position(|t| *t == command).unwrap_or(0) + 1..];
    (command == "impact" && next_word(rest) == Some("record")).then(|| "impact record".to_owned())
}

/// A remote action runs tests when it is a test runner by name (`*/tarpaulin`, `*/nextest`)
/// or one of its command inputs names a test subcommand (`actions-rs/cargo` with
/// `command: test`).
fn remote_action_runs_tests(action: &str, with: Option<&Value>) -> Option<String> {
    let name = action
        .split('@')
        .next()
        .unwrap_or(action)
        .to_ascii_lowercase();
    if ["tarpaulin", "nextest", "llvm-cov"]
        .iter()
        .any(|w| name.rsplit('/').next().is_some_and(|last| last.contains(w)))
    {
        return Some(format!("uses `{action}`, a test runner"));
    }
    let with = with?.as_object()?;
    // Only a test subcommand counts: `maturin-action` with `command: sdist` builds.
    for key in ["command", "subcommand"] {
        if let Some(command) = with.get(key).and_then(Value::as_str) {
            let first = command.split_whitespace().next().unwrap_or("");
            if TEST_SUBCOMMANDS.contains(&first) {
                return Some(format!("uses `{action}` with `{key}: {command}`"));
            }
        }
    }
    None
}

fn normalize(dir: &str, path: &str) -> String {
    crate::graph::normalize_join(dir, path)
}

/// The inert actions in force: the defaults plus the user's, lowercased.
pub fn inert_list(extra: &[String]) -> Vec<String> {
    DEFAULT_INERT_ACTIONS
        .iter()
        .map(|a| a.to_ascii_lowercase())
        .chain(extra.iter().map(|a| a.to_ascii_lowercase()))
        .collect()
}

fn is_inert(action: &str, inert: &[String]) -> bool {
    let name = action
        .split('@')
        .next()
        .unwrap_or(action)
        .to_ascii_lowercase();
    inert.iter().any(|a| {
        name == *a
            || name
                .strip_prefix(a.as_str())
                .is_some_and(|r| r.starts_with('/'))
    })
}

/// Job keys that cannot change how its tests build or run: names, conditions on the whole
/// job, permissions, scheduling, its own outputs. `needs` is followed separately (outputs).
const JOB_KEYS_WITHOUT_EFFECT: &[&str] = &[
    "name",
    "if",
    "needs",
    "permissions",
    "concurrency",
    "outputs",
    "environment",
    "timeout-minutes",
    "continue-on-error",
];
const STEP_KEYS_WITHOUT_EFFECT: &[&str] = &["name", "timeout-minutes", "continue-on-error"];

/// The part of a test job that is its test environment: inert actions without their version.
pub fn test_environment(job: &Value, inert: &[String]) -> Value {
    let Some(map) = job.as_object() else {
        return job.clone();
    };
    let mut out = Map::new();
    for (key, value) in map {
        if JOB_KEYS_WITHOUT_EFFECT.contains(&key.as_str()) {
            continue;
        }
        let value = match key.as_str() {
            // Only the matrix: `fail-fast` and `max-parallel` schedule, they do not test.
            "strategy" => match value.get("matrix") {
                Some(matrix) => Value::Object(Map::from_iter([("matrix".into(), matrix.clone())])),
                None => continue,
            },
            "steps" => Value::Array(
                value
                    .as_array()
                    .map(|steps| steps.iter().map(|s| step_environment(s, inert)).collect())
                    .unwrap_or_default(),
            ),
            _ => value.clone(),
        };
        out.insert(key.clone(), value);
    }
    Value::Object(out)
}

/// A test job's [`test_environment`] without the `run` steps that come after its last
/// test-running step (`last_test_step`, from [`JobInfo`]).
///
/// Why this is safe: a job's steps run one after another, so a step after the last one that
/// runs tests starts only once those tests have finished and cannot change how they built or
/// what they returned. What it changes later (files, `$GITHUB_ENV`, step outputs) is seen only
/// by the steps after it. Only `run` steps are dropped: a step that uses an action stays,
/// because a JavaScript action may declare a `pre:` that runs at the start of the job and a
/// Docker action is built when the job is set up, both before any test, and its `with` and
/// `env` reach that code. The steps up to the last test step stay as they are, so a step
/// added, removed or moved before it is still a change.
pub fn tested_environment(job: &Value, inert: &[String], last_test_step: Option<usize>) -> Value {
    let mut environment = test_environment(job, inert);
    if let Some(last) = last_test_step
        && let Some(Value::Array(steps)) = environment.get_mut("steps")
        && last < steps.len()
    {
        let after = steps.split_off(last + 1);
        steps.extend(after.into_iter().filter(|step| step.get("run").is_none()));
    }
    environment
}

fn step_environment(step: &Value, inert: &[String]) -> Value {
    let Some(map) = step.as_object() else {
        return step.clone();
    };
    let mut out = Map::new();
    for (key, value) in map {
        if STEP_KEYS_WITHOUT_EFFECT.contains(&key.as_str()) {
            continue;
        }
        let value = match (key.as_str(), value.as_str()) {
            ("uses", Some(action)) if is_inert(action, inert) => Value::String(
                action
                    .split('@')
                    .next()
                    .unwrap_or(action)
                    .to_ascii_lowercase(),
            ),
            _ => value.clone(),
        };
        out.insert(key.clone(), value);
    }
    Value::Object(out)
}

/// Which keys of two JSON objects differ, for reasons (`steps`, `strategy`, ...).
fn differing_keys(old: &Value, new: &Value) -> Vec<String> {
    let empty = Map::new();
    let old = old.as_object().unwrap_or(&empty);
    let new = new.as_object().unwrap_or(&empty);
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    keys.into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .map(|k| match k.as_str() {
            "strategy" => "matrix".to_owned(),
            other => other.to_owned(),
        })
        .collect()
}

/// Jobs a test job takes something from: those whose outputs its test environment reads
/// (`needs.<job>.outputs`), and every job it `needs` when it downloads artifacts.
fn upstream_jobs(job: &Value, inert: &[String]) -> BTreeSet<String> {
    let mut upstream = needs_references(&test_environment(job, inert));
    let downloads = job
        .get("steps")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|step| step.get("uses").and_then(Value::as_str))
        .any(|action| {
            action
                .to_ascii_lowercase()
                .starts_with("actions/download-artifact")
        });
    if downloads {
        match job.get("needs") {
            Some(Value::String(one)) => {
                upstream.insert(one.clone());
            }
            Some(Value::Array(many)) => {
                upstream.extend(many.iter().filter_map(Value::as_str).map(str::to_owned));
            }
            _ => {}
        }
    }
    upstream
}

/// `needs.<job>.` references in a job's test environment: jobs whose outputs it reads.
fn needs_references(environment: &Value) -> BTreeSet<String> {
    let text = environment.to_string();
    let mut found = BTreeSet::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("needs.") {
        rest = &rest[at + "needs.".len()..];
        let id: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        if !id.is_empty() {
            found.insert(id);
        }
    }
    found
}

/// Every workflow of one revision, parsed, with each job's [`JobInfo`].
pub struct Revision {
    /// By path: the workflow and its jobs, or why it cannot be parsed.
    pub workflows: BTreeMap<String, Result<Loaded, String>>,
}

/// A parsed workflow and what each of its jobs does.
pub type Loaded = (Workflow, BTreeMap<String, JobInfo>);

impl Revision {
    pub fn load(files: &dyn Files) -> Revision {
        let mut workflows = BTreeMap::new();
        for path in files.workflow_paths() {
            let parsed = match files.read(&path) {
                None => Err("it cannot be read".to_owned()),
                Some(text) => parse(&text).map(|workflow| {
                    let infos = workflow
                        .jobs
                        .iter()
                        .map(|(id, job)| (id.clone(), job_info(files, &workflow, job)))
                        .collect();
                    (workflow, infos)
                }),
            };
            workflows.insert(path, parsed);
        }
        Revision { workflows }
    }

    /// `(workflow, job, runs tests)` for every job that runs `path` (a file, or a file in a
    /// directory it uses as a local action).
    fn users_of(&self, path: &str) -> Vec<(&str, &str, bool)> {
        let mut users = Vec::new();
        for (workflow, parsed) in &self.workflows {
            let Ok((_, infos)) = parsed else { continue };
            for (id, info) in infos {
                let runs = info.uses.iter().any(|used| {
                    used == path || (used.ends_with('/') && path.starts_with(used.as_str()))
                });
                if runs {
                    users.push((workflow.as_str(), id.as_str(), info.runs_tests.is_some()));
                }
            }
        }
        users
    }

    fn unparseable(&self) -> Option<(&str, &str)> {
        self.workflows
            .iter()
            .find_map(|(path, parsed)| parsed.as_ref().err().map(|e| (path.as_str(), e.as_str())))
    }
}

/// Judges each changed repository path that workflows explain: workflow files themselves,
/// and files that jobs run (local actions, reusable workflows, scripts). Paths absent from the
/// result are left to the other evidence.
pub fn judge(
    changed: &[&str],
    base: &Revision,
    head: &Revision,
    inert: &[String],
) -> BTreeMap<String, Verdict> {
    let mut verdicts = BTreeMap::new();
    for path in changed {
        if is_workflow_path(path) {
            verdicts.insert((*path).to_owned(), judge_workflow(path, base, head, inert));
            continue;
        }
        let mut users: Vec<(&str, &str, bool)> = base.users_of(path);
        users.extend(head.users_of(path));
        users.sort();
        users.dedup();
        if let Some((workflow, job, _)) = users.iter().find(|(_, _, tests)| *tests) {
            verdicts.insert(
                (*path).to_owned(),
                Verdict::All(format!(
                    "{path} is run by job `{job}` of {}, which runs tests",
                    file_name(workflow)
                )),
            );
        } else if path.starts_with(".github/") {
            if let Some((workflow, why)) = base.unparseable().or(head.unparseable()) {
                verdicts.insert(
                    (*path).to_owned(),
                    Verdict::All(format!(
                        "{path} may be used by {} , which cannot be parsed ({why})",
                        file_name(workflow)
                    )),
                );
            } else if !users.is_empty() {
                let names: Vec<String> = users
                    .iter()
                    .map(|(w, j, _)| format!("`{j}` ({})", file_name(w)))
                    .collect();
                verdicts.insert(
                    (*path).to_owned(),
                    Verdict::Nothing(format!(
                        "{path} is used only by jobs that run no tests: {}",
                        names.join(", ")
                    )),
                );
            }
        }
    }
    verdicts
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

type Parsed<'a> = Option<&'a Result<Loaded, String>>;

fn judge_workflow(path: &str, base: &Revision, head: &Revision, inert: &[String]) -> Verdict {
    let name = file_name(path);
    let old: Parsed<'_> = base.workflows.get(path);
    let new: Parsed<'_> = head.workflows.get(path);
    for (side, parsed) in [("base", old), ("head", new)] {
        if let Some(Err(why)) = parsed {
            return Verdict::All(format!(
                "{path} cannot be parsed at the {side} ({why}): a workflow that cannot be read may run any test"
            ));
        }
    }
    let old = old.and_then(|p| p.as_ref().ok());
    let new = new.and_then(|p| p.as_ref().ok());
    let test_jobs = |side: Option<&Loaded>| -> BTreeMap<String, String> {
        side.map(|(_, infos)| {
            infos
                .iter()
                .filter_map(|(id, info)| info.runs_tests.clone().map(|why| (id.clone(), why)))
                .collect()
        })
        .unwrap_or_default()
    };
    let mut tests = test_jobs(old);
    for (id, why) in test_jobs(new) {
        tests.entry(id).or_insert(why);
    }
    let job = |side: Option<&Loaded>, id: &str| -> Option<Value> {
        side.and_then(|(w, _)| w.jobs.get(id).cloned())
    };
    let top = |side: Option<&Loaded>, key: &str| -> Value {
        side.and_then(|(w, _)| w.top.get(key).cloned())
            .unwrap_or(Value::Null)
    };

    let mut causes = Vec::new();
    // Jobs that call a reusable workflow do not pass the caller's `env` and `defaults` on.
    let inheritors: Vec<String> = tests
        .keys()
        .filter(|id| {
            [job(old, id), job(new, id)]
                .iter()
                .flatten()
                .any(|j| j.get("uses").is_none())
        })
        .map(|id| format!("`{id}`"))
        .collect();
    if !inheritors.is_empty() {
        for key in ["env", "defaults"] {
            if top(old, key) != top(new, key) {
                causes.push(format!(
                    "the workflow-level `{key}` changed, which every job inherits, and {} {} tests",
                    plural("job", &inheritors),
                    if inheritors.len() == 1 { "runs" } else { "run" }
                ));
            }
        }
    }
    let ids: BTreeSet<String> = [old, new]
        .iter()
        .flatten()
        .flat_map(|(w, _)| w.jobs.keys().cloned())
        .collect();
    let mut changed_plain = Vec::new();
    let mut changed_inertly = Vec::new();
    // An upstream job counts by the same measure as a test job: its environment.
    let changed = |id: &str| {
        let environment = |j: Option<Value>| j.map(|j| test_environment(&j, inert));
        environment(job(old, id)) != environment(job(new, id))
    };
    for id in &ids {
        let (before, after) = (job(old, id), job(new, id));
        let Some(why) = tests.get(id) else {
            if before != after {
                changed_plain.push(format!("`{id}`"));
            }
            continue;
        };
        let last_test_step = |side: Option<&Loaded>| {
            side.and_then(|(_, infos)| infos.get(id))
                .and_then(|info| info.last_test_step)
        };
        let env_before = before
            .as_ref()
            .map(|j| tested_environment(j, inert, last_test_step(old)));
        let env_after = after
            .as_ref()
            .map(|j| tested_environment(j, inert, last_test_step(new)));
        if env_before != env_after {
            let what = match (&env_before, &env_after) {
                (None, _) => "was added".to_owned(),
                (_, None) => "was removed".to_owned(),
                (Some(a), Some(b)) => format!("its {} changed", differing_keys(a, b).join(", ")),
            };
            causes.push(format!("job `{id}` runs tests ({why}) and {what}"));
            continue;
        }
        // Jobs whose outputs or artifacts the test job takes are part of its environment.
        let readers = [&before, &after]
            .into_iter()
            .flatten()
            .flat_map(|j| upstream_jobs(j, inert));
        let mut upstream_changed = false;
        for upstream in readers.collect::<BTreeSet<_>>() {
            if &upstream != id && changed(&upstream) {
                causes.push(format!(
                    "job `{id}` runs tests ({why}) and takes outputs or artifacts of job `{upstream}`, which changed"
                ));
                upstream_changed = true;
            }
        }
        if !upstream_changed && before != after {
            changed_inertly.push(format!("`{id}`"));
        }
    }
    if !causes.is_empty() {
        return Verdict::All(format!("{name}: {}", causes.join("; ")));
    }
    let mut parts = Vec::new();
    if !changed_plain.is_empty() {
        parts.push(format!(
            "{} changed; no job that runs tests changed",
            plural("job", &changed_plain)
        ));
    }
    if !changed_inertly.is_empty() {
        parts.push(format!(
            "{} {} tests but changed only in what cannot affect them (names, conditions, inert action versions, `run` steps after the last step that runs tests)",
            plural("job", &changed_inertly),
            if changed_inertly.len() == 1 { "runs" } else { "run" }
        ));
    }
    if parts.is_empty() {
        parts.push(match (old, new) {
            (None, Some(_)) => "added without jobs that run tests".to_owned(),
            (Some(_), None) => "removed; none of its jobs ran tests".to_owned(),
            _ => "no job changed (comments, layout, triggers or workflow metadata)".to_owned(),
        });
    }
    Verdict::Nothing(format!("{name}: {}", parts.join("; ")))
}

fn plural(word: &str, names: &[String]) -> String {
    if names.len() == 1 {
        format!("{word} {}", names[0])
    } else {
        format!("{word}s {}", names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[derive(Default)]
    struct Tree(HashMap<String, String>);

    impl Tree {
        fn with(mut self, path: &str, text: &str) -> Tree {
            self.0.insert(path.to_owned(), text.to_owned());
            self
        }
    }

    impl Files for Tree {
        fn read(&self, path: &str) -> Option<String> {
            self.0.get(path).cloned()
        }
        fn workflow_paths(&self) -> Vec<String> {
            let mut paths: Vec<String> = self
                .0
                .keys()
                .filter(|p| is_workflow_path(p))
                .cloned()
                .collect();
            paths.sort();
            paths
        }
    }

    const CI: &str = "\
name: ci
on: [push]
env:
  CARGO_TERM_COLOR: always
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: cargo clippy --all-targets -- -D warnings
      - run: cargo fmt --check
  test:
    runs-on: ubuntu-latest
    strategy:
      fail-fast: false
      matrix:
        os: [ubuntu-latest]
    steps:
      - uses: actions/checkout@v4
      - uses: dtolnay/rust-toolchain@stable
      - uses: Swatinem/rust-cache@v2
      - name: Test
        run: cargo nextest run --workspace
";

    fn decide(base: &Tree, head: &Tree, changed: &[&str]) -> BTreeMap<String, Verdict> {
        let inert = inert_list(&[]);
        judge(
            changed,
            &Revision::load(base),
            &Revision::load(head),
            &inert,
        )
    }

    fn one(base: &str, head: &str) -> Verdict {
        let path = ".github/workflows/ci.yml";
        let base = Tree::default().with(path, base);
        let head = Tree::default().with(path, head);
        decide(&base, &head, &[path]).remove(path).expect("judged")
    }

    fn assert_all(verdict: &Verdict, mentions: &str) {
        match verdict {
            Verdict::All(why) => assert!(why.contains(mentions), "{why}"),
            Verdict::Nothing(why) => panic!("expected everything, got nothing: {why}"),
        }
    }

    fn assert_nothing(verdict: &Verdict, mentions: &str) {
        match verdict {
            Verdict::Nothing(why) => assert!(why.contains(mentions), "{why}"),
            Verdict::All(why) => panic!("expected nothing, got everything: {why}"),
        }
    }

    #[test]
    fn test_jobs_are_found_by_their_commands() {
        let workflow = parse(CI).unwrap();
        let tree = Tree::default();
        let lint = job_info(&tree, &workflow, &workflow.jobs["lint"]);
        let test = job_info(&tree, &workflow, &workflow.jobs["test"]);
        assert_eq!(lint.runs_tests, None);
        assert!(
            test.runs_tests
                .as_deref()
                .unwrap()
                .contains("cargo nextest"),
            "{:?}",
            test.runs_tests
        );
    }

    #[test]
    fn a_lint_job_change_selects_nothing_naming_it() {
        let head = CI.replace("cargo fmt --check", "cargo fmt --all --check");
        assert_nothing(
            &one(CI, &head),
            "ci.yml: job `lint` changed; no job that runs tests changed",
        );
    }

    #[test]
    fn inert_action_bumps_in_a_test_job_select_nothing() {
        let head = CI
            .replace("actions/checkout@v4", "actions/checkout@v5")
            .replace("Swatinem/rust-cache@v2", "Swatinem/rust-cache@0123abcd")
            .replace("name: Test", "name: Tests");
        let verdict = one(CI, &head);
        assert_nothing(
            &verdict,
            "job `test` runs tests but changed only in what cannot affect them",
        );
        assert_nothing(&verdict, "job `lint` changed");
    }

    #[test]
    fn a_toolchain_action_bump_in_a_test_job_selects_everything() {
        let head = CI.replace(
            "dtolnay/rust-toolchain@stable",
            "dtolnay/rust-toolchain@1.85",
        );
        assert_all(
            &one(CI, &head),
            "job `test` runs tests (step 4: `cargo nextest run --workspace` runs `cargo nextest`) and its steps changed",
        );
    }

    #[test]
    fn matrix_env_and_steps_of_a_test_job_are_its_environment() {
        let matrix = CI.replace("os: [ubuntu-latest]", "os: [ubuntu-latest, macos-latest]");
        assert_all(&one(CI, &matrix), "its matrix changed");
        let schedule = CI.replace("fail-fast: false", "fail-fast: true");
        assert_nothing(
            &one(CI, &schedule),
            "job `test` runs tests but changed only",
        );
        let env = CI.replace("CARGO_TERM_COLOR: always", "RUSTFLAGS: -Dwarnings");
        assert_all(&one(CI, &env), "the workflow-level `env` changed");
        let steps = CI.replace("--workspace", "--workspace --all-features");
        assert_all(&one(CI, &steps), "its steps changed");
        let runner = CI.replacen(
            "runs-on: ubuntu-latest\n    strategy",
            "runs-on: ubuntu-24.04\n    strategy",
            1,
        );
        assert_all(&one(CI, &runner), "its runs-on changed");
    }

    #[test]
    fn workflow_env_is_not_passed_to_called_workflows() {
        let base = "on: push\nenv:\n  A: 1\njobs:\n  call:\n    uses: ./.github/workflows/t.yml\n";
        let head = base.replace("A: 1", "A: 2");
        let path = ".github/workflows/ci.yml";
        let called = ".github/workflows/t.yml";
        let tests =
            "on: workflow_call\njobs:\n  t:\n    runs-on: x\n    steps:\n      - run: cargo test\n";
        let b = Tree::default().with(path, base).with(called, tests);
        let h = Tree::default().with(path, &head).with(called, tests);
        assert_nothing(&decide(&b, &h, &[path])[path], "no job changed");
    }

    #[test]
    fn comments_and_layout_are_no_change() {
        let head = format!("# a comment\n{}", CI.replace("on: [push]", "on:\n  - push"));
        assert_nothing(&one(CI, &head), "no job changed");
    }

    #[test]
    fn workflow_env_without_test_jobs_selects_nothing() {
        let release = "on: push\nenv:\n  A: 1\njobs:\n  publish:\n    runs-on: x\n    steps:\n      - run: cargo publish\n";
        let head = release.replace("A: 1", "A: 2");
        assert_nothing(&one(release, &head), "no job changed");
    }

    #[test]
    fn unparseable_workflow_selects_everything_saying_where() {
        let broken = "on: push\njobs:\n  test:\n    steps: [\n";
        let verdict = one(CI, broken);
        assert_all(&verdict, "cannot be parsed at the head (line");
        let no_jobs = one(CI, "on: push\n");
        assert_all(&no_jobs, "there is no `jobs` mapping");
    }

    #[test]
    fn added_and_removed_workflows_are_judged_by_their_jobs() {
        let path = ".github/workflows/ci.yml";
        let empty = Tree::default();
        let with = Tree::default().with(path, CI);
        assert_all(
            &decide(&empty, &with, &[path])[path],
            "job `test` runs tests",
        );
        assert_all(&decide(&with, &empty, &[path])[path], "was removed");
        let release = Tree::default().with(
            path,
            "on: push\njobs:\n  publish:\n    runs-on: x\n    steps:\n      - run: cargo publish\n",
        );
        assert_nothing(
            &decide(&empty, &release, &[path])[path],
            "job `publish` changed; no job that runs tests changed",
        );
    }

    #[test]
    fn local_composite_action_used_by_a_test_job() {
        let workflow = "on: push\njobs:\n  test:\n    runs-on: x\n    steps:\n      - uses: ./.github/actions/setup\n      - run: cargo test\n  docs:\n    runs-on: x\n    steps:\n      - uses: ./.github/actions/pages\n";
        let action = "runs:\n  using: composite\n  steps:\n    - run: rustup toolchain install stable\n      shell: bash\n";
        let tree = |setup: &str| {
            Tree::default()
                .with(".github/workflows/ci.yml", workflow)
                .with(".github/actions/setup/action.yml", setup)
                .with(".github/actions/pages/action.yml", action)
        };
        let (base, head) = (tree(action), tree(&action.replace("stable", "nightly")));
        let verdicts = decide(
            &base,
            &head,
            &[
                ".github/actions/setup/action.yml",
                ".github/actions/pages/action.yml",
            ],
        );
        assert_all(
            &verdicts[".github/actions/setup/action.yml"],
            "run by job `test` of ci.yml, which runs tests",
        );
        assert_nothing(
            &verdicts[".github/actions/pages/action.yml"],
            "used only by jobs that run no tests: `docs` (ci.yml)",
        );
    }

    #[test]
    fn a_composite_action_that_runs_tests_makes_a_test_job() {
        let workflow = parse(
            "on: push\njobs:\n  check:\n    runs-on: x\n    steps:\n      - uses: ./ci/run-tests\n",
        )
        .unwrap();
        let tree = Tree::default().with(
            "ci/run-tests/action.yaml",
            "runs:\n  using: composite\n  steps:\n    - run: cargo llvm-cov --workspace\n      shell: bash\n",
        );
        let info = job_info(&tree, &workflow, &workflow.jobs["check"]);
        assert!(info.runs_tests.unwrap().contains("cargo llvm-cov"));
        assert!(info.uses.contains("ci/run-tests/"));
        let missing = job_info(&Tree::default(), &workflow, &workflow.jobs["check"]);
        assert!(missing.runs_tests.unwrap().contains("cannot be read"));
    }

    #[test]
    fn reusable_workflows_and_scripts_are_followed() {
        let caller = parse("on: push\njobs:\n  call:\n    uses: ./.github/workflows/tests.yml\n  remote:\n    uses: org/repo/.github/workflows/x.yml@v1\n").unwrap();
        let tree = Tree::default()
            .with(".github/workflows/tests.yml", "on: workflow_call\njobs:\n  t:\n    runs-on: x\n    steps:\n      - run: bash .ci/run\n")
            .with(".ci/run", "#!/bin/sh\ncd \"$(dirname \"$0\")/..\"\ncargo xtask release-lane\n");
        let call = job_info(&tree, &caller, &caller.jobs["call"]);
        let why = call.runs_tests.unwrap();
        assert!(
            why.contains("runs `.ci/run`, which runs `cargo xtask release-lane`"),
            "{why}"
        );
        assert!(
            call.uses.contains(".github/workflows/tests.yml"),
            "{:?}",
            call.uses
        );
        assert!(call.uses.contains(".ci/run"), "{:?}", call.uses);
        let remote = job_info(&tree, &caller, &caller.jobs["remote"]);
        assert!(remote.runs_tests.unwrap().contains("another repository"));

        let scripted = parse("on: push\njobs:\n  s:\n    runs-on: x\n    steps:\n      - run: ./scripts/ci.sh\n  r:\n    runs-on: x\n    steps:\n      - run: scripts/release.sh\n").unwrap();
        let tree = Tree::default()
            .with("scripts/ci.sh", "set -e\nscripts/inner.sh\n")
            .with("scripts/inner.sh", "cargo xtask lane fast\n")
            .with(
                "scripts/release.sh",
                "cargo build --release\ngh release upload\n",
            );
        let in_place = parse("on: push\njobs:\n  p:\n    runs-on: x\n    steps:\n      - run: timeout 30m ci/test-all --fast\n").unwrap();
        let tree_in_place = Tree::default().with("ci/test-all", "cargo test --workspace \"$@\"\n");
        let p = job_info(&tree_in_place, &in_place, &in_place.jobs["p"]);
        assert!(
            p.runs_tests
                .unwrap()
                .contains("runs `ci/test-all`, which runs `cargo test`")
        );
        let s = job_info(&tree, &scripted, &scripted.jobs["s"]);
        assert!(s.runs_tests.unwrap().contains("cargo xtask lane"));
        assert!(s.uses.contains("scripts/inner.sh"));
        let python = parse("on: push\njobs:\n  p:\n    runs-on: x\n    steps:\n      - run: python scripts/pgo.py --x\n  q:\n    runs-on: x\n    steps:\n      - run: python scripts/tests.py\n").unwrap();
        let tree_python = Tree::default()
            .with("scripts/pgo.py", "import subprocess\nsource = open('x')\nsh = 1\nsubprocess.run([\"cargo\", \"pgo\", \"build\"])\n")
            .with("scripts/tests.py", "import subprocess\nsubprocess.run([\"cargo\", \"nextest\", \"run\"])\n");
        assert_eq!(
            job_info(&tree_python, &python, &python.jobs["p"]).runs_tests,
            None
        );
        assert!(
            job_info(&tree_python, &python, &python.jobs["q"])
                .runs_tests
                .unwrap()
                .contains("cargo nextest")
        );
        let r = job_info(&tree, &scripted, &scripted.jobs["r"]);
        assert_eq!(r.runs_tests, None);
        let unreadable = job_info(&Tree::default(), &scripted, &scripted.jobs["r"]);
        assert!(unreadable.runs_tests.unwrap().contains("cannot be read"));
    }

    #[test]
    fn cargo_command_classification() {
        let runs = |line: &str| {
            let workflow = parse(&format!(
                "on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n      - run: |\n          {line}\n"
            ))
            .unwrap();
            job_info(&Tree::default(), &workflow, &workflow.jobs["j"])
                .runs_tests
                .is_some()
        };
        for test in [
            "cargo test --workspace",
            "cargo +nightly nextest run",
            "cargo hack test --each-feature",
            "cargo miri test",
            "cargo xtask lane fast",
            "cargo xtask release-lane",
            "cargo xtask test --affected",
            "cargo xtask impact record -- --all-features",
            "cargo something-new",
            "cross test --target x",
            "RUSTFLAGS=-Dwarnings cargo llvm-cov --lcov",
            "make check",
            "cargo ${{ matrix.command }}",
            "${{ matrix.script }}",
            "$CARGO test --workspace",
            "${{ env.CARGO }} test --verbose",
            "X=1 ${{ env.CARGO }} nextest run",
            "cd sub && $RUNNER",
            "timeout 10m make test",
            "sudo -E $(which cargo) test",
            "bash -c \"cargo test\"",
            "x=\"$(just test)\"",
        ] {
            assert!(runs(test), "{test} runs tests");
        }
        for not_test in [
            "cargo build --release",
            "cargo clippy --all-targets",
            "cargo +nightly fmt --check",
            "cargo publish -p foo",
            "cargo xtask preflight",
            "cargo xtask deps audit",
            "cargo bench --no-run",
            "cargo hack check --each-feature",
            "cargo --version",
            "echo done",
            "${{ env.CARGO }} build --verbose --workspace",
            "$CARGO clippy",
            "$HOME/.cargo/bin/cargo build",
            "cargo check-external-types --all-features",
            "cp \"$outdir\"/{rg.bash,rg.fish,_rg.ps1} deployment/complete/",
            "export UPDATE=\"gh-releases-zsync|$GITHUB_REPOSITORY_OWNER|helix|latest\"",
            "gh pr comment --body \"just a make-over\"",
            "outdir=\"$(ci/cargo-out-dir \"${{ env.TARGET_DIR }}\")\"",
            "./target/release/rg --version",
            "\"$BIN\" --version",
            "dist_args=() ; dist_args+=(\"$DIST_TAG_FLAG\")",
            "cargo pgo build",
            "python -m ruff --help",
            "echo \"LLVM=$(rustc --print sysroot)/lib/${{ matrix.t }}/bin\" >> $GITHUB_ENV",
            "LLVM=\"$(rustc --print sysroot)/lib/${{ matrix.t }}/bin\" ; ls",
        ] {
            assert!(!runs(not_test), "{not_test} runs no tests");
        }
    }

    #[test]
    fn variables_the_job_assigns_are_resolved_before_judging_a_command() {
        let runs = |job: &str| {
            let workflow = parse(&format!(
                "on: push\nenv:\n  TOP: cargo\njobs:\n  j:\n    runs-on: x\n{job}"
            ))
            .unwrap();
            job_info(&Tree::default(), &workflow, &workflow.jobs["j"]).runs_tests
        };
        // ripgrep's release job: the binary it built, named through `$GITHUB_ENV`.
        let release = "    steps:\n      - run: |\n          if [ -n \"$W\" ]; then\n            bin=\"target/${{ matrix.target }}/release/rg.exe\"\n          else\n            bin=\"target/${{ matrix.target }}/release/rg\"\n          fi\n          echo \"BIN=$bin\" >> $GITHUB_ENV\n      - run: |\n          \"$BIN\" --generate man > rg.1\n";
        assert_eq!(runs(release), None);
        // ruff's: a tool of the toolchain, found at run time.
        let readobj = "    steps:\n      - run: |\n          LLVM_READOBJ=\"$(rustc --print sysroot)/lib/rustlib/${{ matrix.t }}/bin/llvm-readobj.exe\"\n          \"$LLVM_READOBJ\" --coff-imports target/release/ruff.exe > imports.txt\n";
        assert_eq!(runs(readobj), None);
        // Job and step `env`, `export`, `${{ env.X }}`: a value that runs tests decides.
        for job in [
            "    env:\n      RUNNER: cargo nextest run\n    steps:\n      - run: $RUNNER --workspace\n",
            "    steps:\n      - run: ${{ env.TOP }} test\n",
            "    steps:\n      - env:\n          C: cargo\n        run: ${C} test\n",
            "    steps:\n      - run: export T=cargo\n      - run: $T test\n",
            "    steps:\n      - run: echo \"CARGO=cross\" >> $GITHUB_ENV\n      - run: $CARGO test --target x\n",
            "    steps:\n      - run: |\n          A=\"$B\"\n          B=\"$A\"\n          $A generate\n",
        ] {
            assert!(runs(job).is_some(), "{job} runs tests");
        }
        let resolved = runs("    env:\n      RUNNER: cargo nextest run\n    steps:\n      - run: $RUNNER --workspace\n").unwrap();
        assert!(
            resolved.contains("runs `$RUNNER` (`cargo nextest run`), which runs `cargo nextest`"),
            "{resolved}"
        );
        // Assigned only to programs that run no tests; unassigned stays unknown.
        assert_eq!(
            runs(
                "    env:\n      TOOL: ./target/release/app\n    steps:\n      - run: $TOOL --generate man\n"
            ),
            None
        );
        let unknown = runs("    steps:\n      - run: $TOOL --generate man\n").unwrap();
        assert!(unknown.contains("given by a variable"), "{unknown}");
    }

    #[test]
    fn remote_actions_with_test_commands() {
        let workflow = parse("on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions-rs/cargo@v1\n        with:\n          command: test\n  b:\n    runs-on: x\n    steps:\n      - uses: taiki-e/install-action@v2\n        with:\n          tool: cargo-nextest\n").unwrap();
        let tree = Tree::default();
        assert!(
            job_info(&tree, &workflow, &workflow.jobs["a"])
                .runs_tests
                .is_some()
        );
        assert!(
            job_info(&tree, &workflow, &workflow.jobs["b"])
                .runs_tests
                .is_none()
        );
        let maturin = parse("on: push\njobs:\n  s:\n    runs-on: x\n    steps:\n      - uses: PyO3/maturin-action@v1\n        with:\n          command: sdist\n").unwrap();
        assert!(
            job_info(&tree, &maturin, &maturin.jobs["s"])
                .runs_tests
                .is_none()
        );
    }

    #[test]
    fn outputs_a_test_job_reads_are_part_of_its_environment() {
        let base = "on: push\njobs:\n  plan:\n    runs-on: x\n    outputs:\n      flags: ${{ steps.f.outputs.flags }}\n    steps:\n      - id: f\n        run: echo flags=--all-features >> $GITHUB_OUTPUT\n  test:\n    needs: plan\n    runs-on: x\n    steps:\n      - run: cargo test ${{ needs.plan.outputs.flags }}\n";
        let head = base.replace("--all-features", "--no-default-features");
        assert_all(
            &one(base, &head),
            "takes outputs or artifacts of job `plan`, which changed",
        );
        // The why-line says why the reading job runs tests, as the others do.
        assert_all(
            &one(base, &head),
            "job `test` runs tests (step 1: `cargo test ${{ needs.plan.outputs.flags }}` runs `cargo test`) and takes outputs",
        );
    }

    fn runs(job_steps: &str, tree: &Tree) -> Option<String> {
        let workflow = parse(&format!(
            "on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n{job_steps}"
        ))
        .unwrap();
        job_info(tree, &workflow, &workflow.jobs["j"]).runs_tests
    }

    #[test]
    fn command_substitutions_are_judged_by_their_own_words() {
        let tree = Tree::default();
        // ruff's docker-publish: `jq` and `printf` substitutions among `docker`'s arguments.
        let publish = "      - run: |\n          # shellcheck disable=SC2046\n          docker buildx imagetools create \\\n            $(jq -cr '.tags | map(\"-t \" + .) | join(\" \")' <<< \"$DOCKER_METADATA_OUTPUT_JSON\") \\\n            $(printf \"${RUFF_BASE_IMG}@sha256:%s \" *)\n";
        assert_eq!(runs(publish, &tree), None);
        let inspect = "      - run: |\n          digest=\"$(\n            docker buildx imagetools inspect \\\n              \"${IMAGE}:${VERSION}\" \\\n              --format '{{json .Manifest}}' \\\n            | jq -r '.digest'\n          )\"\n          echo \"digest=${digest}\" >> \"$GITHUB_OUTPUT\"\n";
        assert_eq!(runs(inspect, &tree), None);
        for test in [
            "$(which cargo) test",
            "x=$(just test)",
            "y=\"$(a $(make check))\"",
            "docker run $(make image)",
            "ls $( (cd sub && ./run-tests.sh) )",
        ] {
            let step = format!("      - run: {test}\n");
            let tree = Tree::default().with("sub/run-tests.sh", "cargo test\n");
            assert!(runs(&step, &tree).is_some(), "{test} runs tests");
        }
        assert_eq!(
            segments("a $(b $(c d) e) f"),
            vec![
                vec!["c".to_owned(), "d".to_owned()],
                vec!["b".to_owned(), "$(...)".to_owned(), "e".to_owned()],
                vec!["a".to_owned(), "$(...)".to_owned(), "f".to_owned()],
            ]
        );
        // In single quotes `$(` is text.
        assert_eq!(
            segments("echo '$(make test)'"),
            vec![vec!["echo".to_owned(), "$(make test)".to_owned()]]
        );
        // A why-line names the first command of a script, not its comment.
        let commented = runs(
            "      - run: |\n          # run them\n          cargo test\n",
            &tree,
        )
        .unwrap();
        assert!(commented.starts_with("step 1: `cargo test`"), "{commented}");
    }

    #[test]
    fn self_repository_references_are_read_like_local_ones() {
        let caller = parse("on: push\njobs:\n  call:\n    uses: $/.github/workflows/build.yml\n  step:\n    runs-on: x\n    steps:\n      - uses: $/.github/actions/setup\n").unwrap();
        let tree = Tree::default()
            .with(".github/workflows/build.yml", "on: workflow_call\njobs:\n  b:\n    runs-on: x\n    steps:\n      - run: cargo build --release\n")
            .with(".github/actions/setup/action.yml", "runs:\n  using: composite\n  steps:\n    - run: cargo nextest run\n      shell: bash\n");
        let call = job_info(&tree, &caller, &caller.jobs["call"]);
        assert_eq!(call.runs_tests, None);
        assert!(call.uses.contains(".github/workflows/build.yml"));
        let step = job_info(&tree, &caller, &caller.jobs["step"]);
        assert!(
            step.runs_tests
                .unwrap()
                .contains("uses the local action `./.github/actions/setup`, which")
        );
        assert!(step.uses.contains(".github/actions/setup/"));
    }

    #[test]
    fn steps_after_the_last_test_step_are_not_the_test_environment() {
        let base = "on: push\njobs:\n  test:\n    runs-on: x\n    steps:\n      - uses: dtolnay/rust-toolchain@stable\n      - run: cargo test --doc\n      - run: cargo run -p ty check\n";
        // A `run` step after the last test step: changed, added, removed.
        for head in [
            base.replace(
                "cargo run -p ty check",
                "cargo run --quiet -p ty check --color=always",
            ),
            format!("{base}      - run: cargo doc --no-deps\n"),
            base.replace("      - run: cargo run -p ty check\n", ""),
        ] {
            assert_nothing(
                &one(base, &head),
                "`run` steps after the last step that runs tests",
            );
        }
        // Anything before it, or the test step itself, still counts.
        for head in [
            base.replace("rust-toolchain@stable", "rust-toolchain@1.86"),
            base.replace(
                "      - run: cargo test --doc\n",
                "      - run: echo x\n      - run: cargo test --doc\n",
            ),
            base.replace("cargo test --doc", "cargo test --doc --all-features"),
            base.replace("    runs-on: x\n", "    runs-on: y\n"),
        ] {
            assert_all(&one(base, &head), "job `test` runs tests");
        }
        // An action after it may run code at the start of the job (`pre:`, a Docker build).
        let with_action = format!("{base}      - uses: astral-sh/setup-uv@v9\n");
        assert_all(
            &one(
                &with_action,
                &with_action.replace("setup-uv@v9", "setup-uv@v10"),
            ),
            "its steps changed",
        );
        assert_all(
            &one(base, &format!("{base}      - uses: org/harden@v1\n")),
            "its steps changed",
        );
        // Test binaries built but not run may be run by any later step (tokio runs them in a
        // virtual machine).
        let no_run = "on: push\njobs:\n  test:\n    runs-on: x\n    steps:\n      - run: cargo test --no-run --target musl\n      - run: qemu-system-x86_64 -initrd tests.cpio\n";
        assert_all(
            &one(no_run, &no_run.replace("-initrd", "-m 1024 -initrd")),
            "its steps changed",
        );
        for built in [
            "cargo test --no-run",
            "cargo nextest archive --archive-file a.tar.zst",
            "cargo build --tests",
            "cargo build --all-targets --release",
        ] {
            let tokens: Vec<&str> = built.split_whitespace().collect();
            assert!(builds_tests_without_running(&tokens), "{built}");
        }
        for not_built in [
            "cargo test --test mdtest",
            "cargo build --release",
            "cargo clippy --all-targets",
        ] {
            let tokens: Vec<&str> = not_built.split_whitespace().collect();
            assert!(!builds_tests_without_running(&tokens), "{not_built}");
        }
    }

    #[test]
    fn scripts_in_other_languages_name_commands_in_string_literals() {
        let job = "      - run: python3 scripts/tool.py --cargo cargo +nightly\n";
        let judge = |script: &str| {
            let tree = Tree::default().with("scripts/tool.py", script);
            runs(job, &tree)
        };
        // ruff's publish script: `cargo` is a variable; its subcommands are `metadata`, `publish`.
        for quiet in [
            "def publish(cargo, existing):\n    command = build(cargo, existing, args)\n    run([*cargo, \"metadata\", \"--format-version\", \"1\"])\n",
            "parser.add_argument(\n    \"--cargo\",\n    default=[\"cargo\"],\n    nargs=\"+\",\n)\nparser.add_argument(\"--dry-run\", action=\"store_true\", help=\"Pass --dry-run to cargo publish.\")\n",
            "EXCLUDED = frozenset({\"_tests\", \"test\"})\nreturn [\n    \"cargo\",\n    \"rustc\",\n    *(() if debug else (\"--release\",)),\n    \"--locked\",\n    target,\n]\n",
        ] {
            assert_eq!(judge(quiet), None, "{quiet}");
        }
        for test in [
            "run([*cargo, \"test\", \"--workspace\"])\n",
            "run([\n    \"cargo\",\n    \"nextest\",\n    \"run\",\n])\n",
            "subprocess.run(\"cargo test --all\", shell=True)\n",
            "subprocess.run(f\"cargo {command}\")\n",
            "subprocess.run([\"cargo\", subcommand, \"--workspace\"])\n",
            "subprocess.run([\"cargo\", \"+nightly\", *args])\n",
        ] {
            assert!(judge(test).is_some(), "{test} runs tests");
        }
    }

    #[test]
    fn cargo_aliases_are_judged_by_their_expansion() {
        let job = |line: &str| format!("      - run: {line}\n");
        let config = "[alias]\ndev = \"run --package dev_tool --bin dev_tool\"\nlisted = [\"run\", \"-p\", \"x\"]\nt2 = \"nextest run\"\nloop-a = \"loop-b\"\nloop-b = \"loop-a\"\nviadev = \"dev generate\"\n";
        let tree = Tree::default().with(".cargo/config.toml", config);
        for quiet in ["cargo dev generate-all", "cargo listed", "cargo viadev"] {
            assert_eq!(runs(&job(quiet), &tree), None, "{quiet}");
        }
        let t2 = runs(&job("cargo t2 --workspace"), &tree).unwrap();
        assert!(
            t2.contains(
                "runs `cargo t2`, an alias of `cargo nextest run` that runs `cargo nextest`"
            ),
            "{t2}"
        );
        let looped = runs(&job("cargo loop-a"), &tree).unwrap();
        assert!(looped.contains("nested too deep"), "{looped}");
        // Not defined, given on the command line, or set in the job's environment: unknown.
        for unknown in ["cargo undefined", "cargo --config alias.dev='test' dev"] {
            assert!(runs(&job(unknown), &tree).is_some(), "{unknown}");
        }
        let env = "      - env:\n          CARGO_ALIAS_DEV: test\n        run: cargo dev\n";
        assert!(runs(env, &tree).is_some());
        // `.cargo/config` is read when `.cargo/config.toml` is absent; without either the
        // alias is unknown.
        let legacy = Tree::default().with(".cargo/config", config);
        assert_eq!(runs(&job("cargo dev"), &legacy), None);
        assert!(runs(&job("cargo dev"), &Tree::default()).is_some());
        // Every definition on the way up from the working directory is judged.
        let nested = Tree::default()
            .with(".cargo/config.toml", config)
            .with("sub/.cargo/config.toml", "[alias]\ndev = \"test\"\n");
        let in_sub = "      - working-directory: sub\n        run: cargo dev\n";
        assert!(runs(in_sub, &nested).is_some());
        assert_eq!(runs(&job("cargo dev"), &nested), None);
        // Built-in commands cannot be redefined.
        let shadow = Tree::default().with(".cargo/config.toml", "[alias]\nbuild = \"test\"\n");
        assert_eq!(runs(&job("cargo build"), &shadow), None);
    }

    #[test]
    fn artifacts_a_test_job_downloads_come_from_its_environment() {
        let base = "on: push\njobs:\n  build:\n    runs-on: x\n    steps:\n      - run: cargo build --tests\n      - uses: actions/upload-artifact@v4\n  run:\n    needs: [build]\n    runs-on: x\n    steps:\n      - uses: actions/download-artifact@v4\n      - run: cargo test --no-run\n";
        let head = base.replace("--tests", "--tests --release");
        assert_all(
            &one(base, &head),
            "takes outputs or artifacts of job `build`, which changed",
        );
    }

    #[test]
    fn user_inert_actions_extend_the_defaults() {
        let base = "on: push\njobs:\n  t:\n    runs-on: x\n    steps:\n      - uses: my-org/notify@v1\n      - run: cargo test\n";
        let head = base.replace("@v1", "@v2");
        let path = ".github/workflows/ci.yml";
        let (b, h) = (
            Tree::default().with(path, base),
            Tree::default().with(path, &head),
        );
        let (rb, rh) = (Revision::load(&b), Revision::load(&h));
        let default = judge(&[path], &rb, &rh, &inert_list(&[]));
        assert_all(&default[path], "its steps changed");
        let extended = judge(
            &[path],
            &rb,
            &rh,
            &inert_list(&["My-Org/notify".to_owned()]),
        );
        assert_nothing(&extended[path], "changed only in what cannot affect them");
    }

    #[test]
    fn workflow_paths_are_top_level_yaml_files() {
        assert!(is_workflow_path(".github/workflows/ci.yml"));
        assert!(is_workflow_path(".github/workflows/release.yaml"));
        assert!(!is_workflow_path(".github/workflows/README.md"));
        assert!(!is_workflow_path(".github/workflows/sub/x.yml"));
        assert!(!is_workflow_path("ws/.github/workflows/ci.yml"));
    }
}
