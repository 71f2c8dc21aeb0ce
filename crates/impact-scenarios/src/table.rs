//! The scenario table. Each scenario is data: a base workspace, the change, how the head is
//! given (a commit or the working tree), and what must and must not be selected.
//!
//! Selectors: `pkg` is a package; `pkg::name` a test binary in nextest's id form
//! (`pkg::api` for `tests/api.rs`, `pkg::bench/speed`, `pkg::example/demo`, `pkg::bin/app`);
//! `bin:pkg` the package's lib unit-test binary (whose nextest id is just `pkg`).

/// The workspace the base commit holds.
#[derive(Clone, Copy, Debug)]
pub enum Base {
    /// The standard virtual workspace, see [`standard`].
    Standard,
    /// Standard plus `[workspace.dependencies] extleaf` (a local git crate) used by `ua` only.
    WorkspaceGitDep,
    /// Standard plus `extuser -> extwrap (git) -> extleaf (git, branch stable)`.
    TransitiveGitDep,
    /// Standard plus a `lanes.toml` with `[impact]` rules, see [`IMPACT_RULES`].
    WithRules,
    /// A root package that is its own one-member workspace.
    SinglePackage,
    /// The standard workspace one directory down (`ws/`) in the git repository.
    Subdirectory,
    /// A git repository without any `Cargo.toml`.
    NotCargo,
    /// Standard plus a member nested inside another member's directory
    /// (`crates/lonely/inner`).
    Nested,
    /// A small workspace whose tests read files outside their packages at run time, see
    /// [`runtime_reads`].
    RuntimeReads,
    /// [`Base::RuntimeReads`] with `[impact] recording-max-age = 0`: any recording of an
    /// earlier commit is stale.
    RuntimeReadsStale,
    /// Standard plus GitHub Actions workflows, see [`WORKFLOWS`].
    WithWorkflows,
    /// Standard with `[lints] workspace = true` in `mid`: the only member inheriting
    /// `[workspace.lints]`.
    InheritedLints,
    /// [`Base::RuntimeReads`] plus a separate Cargo workspace inside a member's directory
    /// (`crates/plain/fuzz`, excluded, with its own toolchain and cargo configuration) and a
    /// tool directory with its own toolchain file (`tools/ci`).
    RuntimeReadsNested,
    /// Standard plus `gated`, which depends on `signer` only through its feature `signing`
    /// and has a test that exists only with it, see [`FEATURE_GATED`].
    FeatureGated,
    /// Standard plus a `.config/nextest.toml` whose `ci` profile names `ub` in a filter
    /// ([`NEXTEST_NAMES_UB`]).
    NextestNamesPackage,
}

/// How the head revision is given to the engine.
#[derive(Clone, Copy, Debug)]
pub enum Head {
    /// The change is committed; `--head <sha>`.
    Commit,
    /// The change stays in the working tree (uncommitted or untracked); no `--head`.
    WorkingTree,
}

#[derive(Clone, Copy, Debug)]
pub enum Checkout {
    InPlace,
    /// Run in a `git clone --depth 1` of the repository, which lacks the base commit.
    ShallowClone,
}

/// One step of a change. `@EXT@` in contents is the `file://` URL of the local git sources,
/// `@BASE@` in git arguments the base commit.
#[derive(Debug)]
pub enum Op {
    Write(&'static str, &'static str),
    Append(&'static str, &'static str),
    Replace(&'static str, &'static str, &'static str),
    Remove(&'static str),
    Rename(&'static str, &'static str),
    Git(&'static [&'static str]),
    /// A git command in one of the local dependency-source repositories.
    ExtGit(&'static str, &'static [&'static str]),
    Cargo(&'static [&'static str]),
}

#[derive(Debug)]
pub struct Expect {
    pub exit: i32,
    /// `Some(b)`: the JSON `all` field must be `b`.
    pub all: Option<bool>,
    pub required: &'static [&'static str],
    pub forbidden: &'static [&'static str],
    pub distances: &'static [(&'static str, u64)],
    /// `(path, status)` pairs that `changed_files` must contain.
    pub changed: &'static [(&'static str, &'static str)],
    /// Substrings of `all_reasons` or the packages' reasons.
    pub reasons_mention: &'static [&'static str],
    /// `(package, substring)`: that package's own reasons (its why-chain) mention it.
    pub why: &'static [(&'static str, &'static str)],
    pub stderr_mentions: &'static [&'static str],
}

impl Expect {
    /// Exit 0 and a partial selection (`all` false); fill in the rest.
    pub const SOME: Expect = Expect {
        exit: 0,
        all: Some(false),
        required: &[],
        forbidden: &[],
        distances: &[],
        changed: &[],
        reasons_mention: &[],
        why: &[],
        stderr_mentions: &[],
    };
    /// Exit 0, `all` true.
    pub const ALL: Expect = Expect {
        all: Some(true),
        required: STANDARD_MEMBERS,
        ..Expect::SOME
    };
    /// Exit 0, nothing selected.
    pub const NOTHING: Expect = Expect {
        forbidden: STANDARD_MEMBERS,
        ..Expect::SOME
    };
}

#[derive(Debug)]
pub struct Scenario {
    pub name: &'static str,
    pub base: Base,
    pub change: &'static [Op],
    pub head: Head,
    /// Steps after the head commit (e.g. check out something else, dirty the tree).
    pub after: &'static [Op],
    pub checkout: Checkout,
    /// Bring `Cargo.lock` up to date after the change, as a real commit would.
    pub sync_lockfile: bool,
    pub extra_args: &'static [&'static str],
    /// Pass `--base <base sha>`; without it the engine finds the merge-base with `main`.
    pub pass_base: bool,
    /// Run `xtask impact record` (real nextest, real strace) on the base commit first.
    pub record: bool,
    pub expect: Expect,
}

impl Scenario {
    const DEFAULT: Scenario = Scenario {
        name: "",
        base: Base::Standard,
        change: &[],
        head: Head::Commit,
        after: &[],
        checkout: Checkout::InPlace,
        sync_lockfile: true,
        extra_args: &[],
        pass_base: true,
        record: false,
        expect: Expect::SOME,
    };
}

/// Members of [`Base::RuntimeReads`].
pub const RUNTIME_MEMBERS: &[&str] = &["golden", "cases", "envread", "plain", "tenfold"];

/// A workspace whose tests read at run time, from outside their packages:
///
/// ```text
/// golden   tests/golden.rs reads fixtures/golden.txt (a CARGO_MANIFEST_DIR-relative path)
/// cases    tests/cases.rs lists fixtures/cases/ and reads every file in it
/// envread  tests/env.rs reads the file named by DATA_FILE, set in .cargo/config.toml [env]
/// plain    a unit test that reads nothing
/// tenfold  tests/ten.rs: ten tests, of which `shared_a` and `shared_b` read fixtures/shared.txt
/// ```
///
/// `notes/todo.txt` and `scripts/release.sh` are read by nothing.
fn runtime_reads() -> Vec<(String, String)> {
    let package = |name: &str| -> Vec<(String, String)> {
        vec![
            (
                format!("crates/{name}/Cargo.toml"),
                format!(
                    "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n"
                ),
            ),
            (
                format!("crates/{name}/src/lib.rs"),
                "pub fn id() -> u32 { 1 }\n\n#[test]\nfn unit() { assert_eq!(id(), 1); }\n".into(),
            ),
        ]
    };
    let mut files: Vec<(String, String)> = vec![
        (
            "Cargo.toml".into(),
            "[workspace]\nresolver = \"2\"\nmembers = [\"crates/*\"]\n".into(),
        ),
        (".gitignore".into(), "/target\n".into()),
        (
            ".cargo/config.toml".into(),
            "[env]\nDATA_FILE = { value = \"data/env-input.txt\", relative = true }\n".into(),
        ),
        ("README.md".into(), "# Runtime reads\n".into()),
        ("notes/todo.txt".into(), "nothing reads this\n".into()),
        ("scripts/release.sh".into(), "echo release\n".into()),
        ("fixtures/golden.txt".into(), "golden\n".into()),
        ("fixtures/cases/one.case".into(), "1\n".into()),
        ("data/env-input.txt".into(), "from env\n".into()),
        ("fixtures/shared.txt".into(), "shared\n".into()),
        ("crates/tenfold/tests/ten.rs".into(), ten_tests()),
        (
            "crates/golden/tests/golden.rs".into(),
            "#[test]\nfn golden() {\n    let path = concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/../../fixtures/golden.txt\");\n    \
             assert_eq!(std::fs::read_to_string(path).unwrap(), \"golden\\n\");\n}\n"
                .into(),
        ),
        (
            "crates/cases/tests/cases.rs".into(),
            "#[test]\nfn cases() {\n    let dir = concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/../../fixtures/cases\");\n    \
             let mut n = 0;\n    for entry in std::fs::read_dir(dir).unwrap() {\n        \
             let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();\n        \
             assert!(!text.is_empty());\n        n += 1;\n    }\n    assert!(n >= 1);\n}\n"
                .into(),
        ),
        (
            "crates/envread/tests/env.rs".into(),
            "#[test]\nfn env() {\n    let path = std::env::var(\"DATA_FILE\").expect(\"DATA_FILE from .cargo/config.toml\");\n    \
             assert_eq!(std::fs::read_to_string(path).unwrap(), \"from env\\n\");\n}\n"
                .into(),
        ),
    ];
    for name in RUNTIME_MEMBERS {
        files.extend(package(name));
    }
    files
}

/// One test binary with ten tests; only `shared_a` and `shared_b` read `fixtures/shared.txt`.
fn ten_tests() -> String {
    let mut text = String::from(
        "fn shared() -> String {\n    \
         std::fs::read_to_string(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/../../fixtures/shared.txt\")).unwrap()\n}\n",
    );
    for name in ["shared_a", "shared_b"] {
        text.push_str(&format!(
            "\n#[test]\nfn {name}() {{\n    assert!(shared().starts_with(\"shared\"));\n}}\n"
        ));
    }
    for n in 1..=8 {
        text.push_str(&format!(
            "\n#[test]\nfn pure_{n}() {{\n    assert_eq!({n} + 1, {});\n}}\n",
            n + 1
        ));
    }
    text
}

/// Members of the standard workspace.
pub const STANDARD_MEMBERS: &[&str] = &[
    "dash-lib", "platdep", "core", "mid", "app", "devuser", "top", "codegen", "gen", "genuser",
    "other", "lonely", "ua", "ub",
];

/// The package a selector names: `pkg`, `pkg::x` and `bin:pkg` all name `pkg`.
pub fn selector_package(selector: &str) -> &str {
    match selector.strip_prefix("bin:") {
        Some(lib) => lib,
        None => selector.split_once("::").map_or(selector, |(pkg, _)| pkg),
    }
}

pub fn manifest_of(base: Base) -> &'static str {
    match base {
        Base::Subdirectory => "ws/Cargo.toml",
        _ => "Cargo.toml",
    }
}

fn member(name: &str, extra_manifest: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion.workspace = true\nedition.workspace = true\n\
         publish = false\n{extra_manifest}"
    )
}

/// The standard workspace:
///
/// ```text
/// core <- mid <- app              normal chain
/// core <-(dev)- devuser <- top    a dev-dependency, then a normal one
/// codegen <-(build)- gen <- genuser
/// other: includes files from core/, assets/, generated/, common_src/, docs/
/// lonely: nothing depends on it and it depends on nothing
/// ua (license inherited from [workspace.package]), ub (own license)
/// ```
pub fn standard() -> Vec<(String, String)> {
    let mut files: Vec<(&str, String)> = vec![
        (
            "Cargo.toml",
            "[workspace]\nresolver = \"2\"\nmembers = [\"crates/*\"]\n\n\
             [workspace.package]\nversion = \"0.1.0\"\nedition = \"2021\"\nlicense = \"MIT\"\n\n\
             [workspace.lints.rust]\nunsafe_code = \"forbid\"\n\n\
             [profile.dev]\ndebug = 1\n"
                .into(),
        ),
        (".gitignore", "/target\n*.o\n".into()),
        ("README.md", "# A workspace\n\nSee docs/.\n".into()),
        ("LICENSE", "MIT License\n".into()),
        ("docs/guide.md", "# Guide\n\nIncluded by `other`.\n".into()),
        ("docs/notes.md", "# Notes nobody includes\n".into()),
        ("assets/logo.bin", "\u{1}\u{2}\u{3}logo".into()),
        ("assets/computed.txt", "computed\n".into()),
        (
            "generated/consts.rs",
            "pub const GENERATED: u32 = 7;\n".into(),
        ),
        (
            "common_src/common.rs",
            "pub fn common() -> u32 { 3 }\n".into(),
        ),
        ("schema/api.schema", "message Api {}\n".into()),
        ("schema/types.idl", "interface Types {}\n".into()),
        // core
        (
            "crates/core/Cargo.toml",
            member(
                "core",
                "\n[features]\nextra = []\n\n[[bench]]\nname = \"speed\"\nharness = false\n",
            ),
        ),
        (
            "crates/core/src/lib.rs",
            "pub fn core_value() -> u32 { 1 }\n".into(),
        ),
        ("crates/core/data/table.txt", "a,b\n1,2\n".into()),
        ("crates/core/data/my table.txt", "spaced\n".into()),
        (
            "crates/core/tests/api.rs",
            "mod common;\n\n#[test]\nfn api() { assert_eq!(core::core_value(), common::one()); }\n"
                .into(),
        ),
        (
            "crates/core/tests/common/mod.rs",
            "pub fn one() -> u32 { 1 }\n".into(),
        ),
        (
            "crates/core/tests/more.rs",
            "#[test]\nfn more() { assert!(core::core_value() > 0); }\n".into(),
        ),
        (
            "crates/core/tests/suite/main.rs",
            "mod cases;\n\n#[test]\nfn suite() { cases::run(); }\n".into(),
        ),
        (
            "crates/core/tests/suite/cases.rs",
            "pub fn run() { assert_eq!(core::core_value(), 1); }\n".into(),
        ),
        (
            "crates/core/benches/speed.rs",
            "fn main() { core::core_value(); }\n".into(),
        ),
        (
            "crates/core/examples/demo.rs",
            "fn main() { println!(\"{}\", core::core_value()); }\n".into(),
        ),
        // mid, app
        (
            "crates/mid/Cargo.toml",
            member("mid", "\n[dependencies]\ncore = { path = \"../core\" }\n"),
        ),
        (
            "crates/mid/src/lib.rs",
            "pub fn mid_value() -> u32 { core::core_value() + 1 }\n".into(),
        ),
        // Not referenced by any module: only ownership says it belongs to mid.
        ("crates/mid/src/legacy.rs", "pub fn old() {}\n".into()),
        (
            "crates/mid/tests/mid_it.rs",
            "const INPUT: &str = include_str!(\"fixtures/input.json\");\n\n\
             #[test]\nfn mid() { assert_eq!(mid::mid_value(), 2); assert!(!INPUT.is_empty()); }\n"
                .into(),
        ),
        (
            "crates/mid/tests/fixtures/input.json",
            "{\"n\": 1}\n".into(),
        ),
        (
            "crates/mid/tests/other_it.rs",
            "#[test]\nfn other() { assert_eq!(mid::mid_value(), 2); }\n".into(),
        ),
        (
            "crates/app/Cargo.toml",
            member("app", "\n[dependencies]\nmid = { path = \"../mid\" }\n"),
        ),
        (
            "crates/app/src/lib.rs",
            "pub fn app_value() -> u32 { mid::mid_value() }\n".into(),
        ),
        (
            "crates/app/src/main.rs",
            "fn main() { println!(\"{}\", app::app_value()); }\n".into(),
        ),
        // devuser, top
        (
            "crates/devuser/Cargo.toml",
            member(
                "devuser",
                "\n[dev-dependencies]\ncore = { path = \"../core\" }\n",
            ),
        ),
        (
            "crates/devuser/src/lib.rs",
            "pub fn dev() -> u32 { 4 }\n".into(),
        ),
        (
            "crates/devuser/tests/uses_core.rs",
            "#[test]\nfn uses() { assert_eq!(core::core_value(), 1); }\n".into(),
        ),
        (
            "crates/top/Cargo.toml",
            member(
                "top",
                "\n[dependencies]\ndevuser = { path = \"../devuser\" }\n",
            ),
        ),
        (
            "crates/top/src/lib.rs",
            "pub fn top() -> u32 { devuser::dev() }\n".into(),
        ),
        // codegen, gen, genuser
        ("crates/codegen/Cargo.toml", member("codegen", "")),
        (
            "crates/codegen/src/lib.rs",
            "pub fn emit() -> &'static str { \"pub const X: u32 = 1;\" }\n".into(),
        ),
        (
            "crates/gen/Cargo.toml",
            member(
                "gen",
                "build = \"build.rs\"\n\n[build-dependencies]\ncodegen = { path = \"../codegen\" }\n",
            ),
        ),
        (
            "crates/gen/build.rs",
            "fn main() {\n    println!(\"cargo:rerun-if-changed=../../schema/api.schema\");\n    \
             println!(\"cargo::rerun-if-changed=../../schema/types.idl\");\n    \
             let _ = codegen::emit();\n}\n"
                .into(),
        ),
        (
            "crates/gen/src/lib.rs",
            "pub fn generated() -> u32 { 5 }\n".into(),
        ),
        (
            "crates/genuser/Cargo.toml",
            member("genuser", "\n[dependencies]\ngen = { path = \"../gen\" }\n"),
        ),
        (
            "crates/genuser/src/lib.rs",
            "pub fn g() -> u32 { gen::generated() }\n".into(),
        ),
        // other: every include form, each pointing outside its own directory
        ("crates/other/Cargo.toml", member("other", "")),
        (
            "crates/other/src/lib.rs",
            "pub const TABLE: &str = include_str!(\"../../core/data/table.txt\");\n\
             pub const LOGO: &[u8] = include_bytes!(\"../../../assets/logo.bin\");\n\
             pub const GUIDE: &str = include_str!(\"../../../docs/guide.md\");\n\
             pub const SPACED: &str = include_str!(\"../../core/data/my table.txt\");\n\
             // A computed path: no source scan can resolve it, rustc's dep-info can.\n\
             pub const COMPUTED: &str =\n    \
             include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/../../assets/computed.txt\"));\n\
             include!(\"../../../generated/consts.rs\");\n\n\
             #[path = \"../../../common_src/common.rs\"]\nmod common;\n\n\
             pub fn value() -> u32 { common::common() + GENERATED }\n"
                .into(),
        ),
        // lonely, ua, ub
        ("crates/lonely/Cargo.toml", member("lonely", "")),
        ("crates/lonely/src/lib.rs", "pub fn alone() {}\n".into()),
        ("crates/lonely/notes/todo.txt", "nothing yet\n".into()),
        (
            "crates/ua/Cargo.toml",
            member("ua", "license.workspace = true\n"),
        ),
        ("crates/ua/src/lib.rs", "pub fn ua() {}\n".into()),
        ("crates/ub/Cargo.toml", member("ub", "license = \"MIT\"\n")),
        ("crates/ub/src/lib.rs", "pub fn ub() {}\n".into()),
        // dash-lib: a hyphenated package (lib crate `dash_lib`) with a hyphenated test
        ("crates/dash-lib/Cargo.toml", member("dash-lib", "")),
        (
            "crates/dash-lib/src/lib.rs",
            "pub fn dash() -> u32 { 9 }\n".into(),
        ),
        (
            "crates/dash-lib/tests/it-works.rs",
            "#[test]\nfn works() { assert_eq!(dash_lib::dash(), 9); }\n".into(),
        ),
        // platdep: a platform-specific dependency and a renamed one
        (
            "crates/platdep/Cargo.toml",
            member(
                "platdep",
                "\n[dependencies]\nrenamed_core = { package = \"core\", path = \"../core\" }\n\n\
                 [target.'cfg(unix)'.dependencies]\ncodegen = { path = \"../codegen\" }\n",
            ),
        ),
        (
            "crates/platdep/src/lib.rs",
            "pub fn p() -> u32 { renamed_core::core_value() }\n".into(),
        ),
    ];
    files.sort_by(|a, b| a.0.cmp(b.0));
    files
        .into_iter()
        .map(|(path, text)| (path.to_string(), text))
        .collect()
}

pub fn base_files(base: Base) -> Vec<(String, String)> {
    let mut files = standard();
    let set = |files: &mut Vec<(String, String)>, path: &str, text: String| {
        files.retain(|(p, _)| p != path);
        files.push((path.to_string(), text));
    };
    match base {
        Base::Standard => {}
        Base::WithRules => {
            set(&mut files, "lanes.toml", IMPACT_RULES.into());
            set(
                &mut files,
                "crates/lonely/tests/audit.rs",
                MANIFEST_AUDIT.into(),
            );
        }
        Base::Nested => {
            let root = files
                .iter()
                .find(|(p, _)| p == "Cargo.toml")
                .unwrap()
                .1
                .clone();
            let root = root.replace(
                "members = [\"crates/*\"]",
                "members = [\"crates/*\", \"crates/lonely/inner\"]",
            );
            set(&mut files, "Cargo.toml", root);
            set(
                &mut files,
                "crates/lonely/inner/Cargo.toml",
                member("inner", ""),
            );
            set(
                &mut files,
                "crates/lonely/inner/src/lib.rs",
                "pub fn inner() {}\n".into(),
            );
        }
        Base::WorkspaceGitDep => {
            let root = files
                .iter()
                .find(|(p, _)| p == "Cargo.toml")
                .unwrap()
                .1
                .clone();
            let root = root.replace(
                "[workspace.lints.rust]",
                "[workspace.dependencies]\n\
                 extleaf = { git = \"@EXT@/extleaf\", tag = \"v0.1.0\" }\n\n\
                 [workspace.lints.rust]",
            );
            set(&mut files, "Cargo.toml", root);
            set(
                &mut files,
                "crates/ua/Cargo.toml",
                member(
                    "ua",
                    "license.workspace = true\n\n[dependencies]\nextleaf.workspace = true\n",
                ),
            );
        }
        Base::TransitiveGitDep => {
            set(
                &mut files,
                "crates/extuser/Cargo.toml",
                member(
                    "extuser",
                    "\n[dependencies]\nextwrap = { git = \"@EXT@/extwrap\" }\n",
                ),
            );
            set(
                &mut files,
                "crates/extuser/src/lib.rs",
                "pub fn e() {}\n".into(),
            );
            set(
                &mut files,
                "crates/extuser_dep/Cargo.toml",
                member(
                    "extuser_dep",
                    "\n[dependencies]\nextuser = { path = \"../extuser\" }\n",
                ),
            );
            set(
                &mut files,
                "crates/extuser_dep/src/lib.rs",
                "pub fn d() {}\n".into(),
            );
            set(
                &mut files,
                "crates/devext/Cargo.toml",
                member(
                    "devext",
                    "\n[dev-dependencies]\nextwrap = { git = \"@EXT@/extwrap\" }\n",
                ),
            );
            set(
                &mut files,
                "crates/devext/src/lib.rs",
                "pub fn v() {}\n".into(),
            );
            set(
                &mut files,
                "crates/devext_user/Cargo.toml",
                member(
                    "devext_user",
                    "\n[dependencies]\ndevext = { path = \"../devext\" }\n",
                ),
            );
            set(
                &mut files,
                "crates/devext_user/src/lib.rs",
                "pub fn u() {}\n".into(),
            );
        }
        Base::SinglePackage => {
            files = vec![
                (
                    "Cargo.toml".into(),
                    "[package]\nname = \"solo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
                     [workspace]\n"
                        .into(),
                ),
                (".gitignore".into(), "/target\n".into()),
                ("src/lib.rs".into(), "pub fn solo() -> u32 { 1 }\n".into()),
                (
                    "tests/t.rs".into(),
                    "#[test]\nfn t() { assert_eq!(solo::solo(), 1); }\n".into(),
                ),
                (
                    "tests/u.rs".into(),
                    "#[test]\nfn u() { assert_eq!(solo::solo(), 1); }\n".into(),
                ),
            ];
        }
        Base::Subdirectory => {
            files = files
                .into_iter()
                .map(|(p, t)| (format!("ws/{p}"), t))
                .collect();
            files.push((".gitignore".into(), "/ws/target\n".into()));
        }
        Base::NotCargo => {
            files = vec![
                ("README.md".into(), "# not a Rust project\n".into()),
                ("run.sh".into(), "echo hi\n".into()),
            ];
        }
        Base::FeatureGated => {
            for (path, text) in FEATURE_GATED {
                set(&mut files, path, (*text).into());
            }
            set(
                &mut files,
                "crates/gated/Cargo.toml",
                member(
                    "gated",
                    "\n[dependencies]\nsigner = { path = \"../signer\", optional = true }\n\n\
                     [features]\nsigning = [\"dep:signer\"]\n",
                ),
            );
            set(&mut files, "crates/signer/Cargo.toml", member("signer", ""));
        }
        Base::RuntimeReads => files = runtime_reads(),
        Base::NextestNamesPackage => {
            set(&mut files, ".config/nextest.toml", NEXTEST_NAMES_UB.into())
        }
        Base::WithWorkflows => {
            for (path, text) in WORKFLOWS {
                set(&mut files, path, (*text).into());
            }
        }
        Base::InheritedLints => {
            let mid = files
                .iter()
                .find(|(p, _)| p == "crates/mid/Cargo.toml")
                .expect("standard has mid")
                .1
                .clone();
            set(
                &mut files,
                "crates/mid/Cargo.toml",
                format!("{mid}\n[lints]\nworkspace = true\n"),
            );
        }
        Base::RuntimeReadsNested => {
            files = runtime_reads();
            set(
                &mut files,
                "Cargo.toml",
                "[workspace]\nresolver = \"2\"\nmembers = [\"crates/*\"]\nexclude = [\"crates/plain/fuzz\"]\n"
                    .into(),
            );
            for (path, text) in NESTED_WORKSPACE {
                set(&mut files, path, (*text).into());
            }
        }
        Base::RuntimeReadsStale => {
            files = runtime_reads();
            files.push((
                "lanes.toml".into(),
                "[impact]\nrecording-max-age = 0\n".into(),
            ));
        }
    }
    files
}

use Op::*;

/// The nextest configuration of [`Base::NextestNamesPackage`]: an override for `ub`'s tests
/// only, as this repository has one for the node API's.
pub const NEXTEST_NAMES_UB: &str = "[profile.ci]\nretries = 0\n\n\
[[profile.ci.overrides]]\nfilter = \"package(ub) & test(/^http_/)\"\nretries = 2\n";

/// The workflows of [`Base::WithWorkflows`]: `ci.yml` has a lint job and a test job (which uses
/// the local composite action `setup`) and calls the reusable `reusable-tests.yml`;
/// `release.yml` builds and publishes and runs no test. `.cargo/config.toml` defines the cargo
/// alias `gen` (`cargo run` of `app`), which a job may run, and passes a Clippy lint flag.
const WORKFLOWS: &[(&str, &str)] = &[
    (
        ".cargo/config.toml",
        "[build]\nrustflags = [\"-Wclippy::all\"]\n\n[alias]\ngen = \"run --package app --bin app --\"\n",
    ),
    (
        ".github/workflows/ci.yml",
        "name: ci
on: [push, pull_request]
env:
  CARGO_TERM_COLOR: always
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: cargo clippy --workspace -- -D warnings
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
      - uses: ./.github/actions/setup
      - run: cargo nextest run --workspace
  doc-tests:
    uses: ./.github/workflows/reusable-tests.yml
",
    ),
    (
        ".github/workflows/reusable-tests.yml",
        "on: workflow_call
jobs:
  doc:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: cargo test --doc --workspace
",
    ),
    (
        ".github/workflows/release.yml",
        "name: release
on:
  push:
    tags: ['v*']
jobs:
  build-binaries:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: cargo build --release --workspace
      - uses: actions/upload-artifact@v4
        with:
          name: binaries
          path: target/release/
  publish:
    needs: build-binaries
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: cargo publish --workspace
",
    ),
    (
        ".github/actions/setup/action.yml",
        "name: setup
runs:
  using: composite
  steps:
    - run: rustup component add llvm-tools-preview
      shell: bash
",
    ),
];

/// Added by [`Base::RuntimeReadsNested`]: a separate workspace inside `plain`'s directory and
/// toolchain and cargo configuration files below the root, none of which any test reads.
const NESTED_WORKSPACE: &[(&str, &str)] = &[
    (
        "crates/plain/fuzz/Cargo.toml",
        "[package]\nname = \"plain-fuzz\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[workspace]\nmembers = [\".\"]\n",
    ),
    (
        "crates/plain/fuzz/src/main.rs",
        "fn main() { println!(\"fuzz\"); }\n",
    ),
    (
        "crates/plain/fuzz/.cargo/config.toml",
        "[build]\nrustflags = [\"-Cdebug-assertions\"]\n",
    ),
    (
        "crates/plain/fuzz/rust-toolchain.toml",
        "[toolchain]\nchannel = \"stable\"\n",
    ),
    (
        "tools/ci/rust-toolchain.toml",
        "[toolchain]\nchannel = \"stable\"\n",
    ),
];

/// Sources of [`Base::FeatureGated`] (the manifests are written with [`member`]).
const FEATURE_GATED: &[(&str, &str)] = &[
    (
        "crates/signer/src/lib.rs",
        "pub fn sign(x: u32) -> u32 { x + 1 }\n",
    ),
    (
        "crates/gated/src/lib.rs",
        "pub fn plain() -> u32 { 1 }\n\n#[cfg(feature = \"signing\")]\n\
         pub fn signed() -> u32 { signer::sign(1) }\n",
    ),
    (
        "crates/gated/tests/signing.rs",
        "#![cfg(feature = \"signing\")]\n\n#[test]\n\
         fn signed_only_with_the_feature() { assert_eq!(gated::signed(), 2); }\n",
    ),
];

/// `lonely::audit` of [`Base::WithRules`]: reads every member manifest at run time, as a
/// dependency audit does, so an edit to any of them can break it.
const MANIFEST_AUDIT: &str = "\
#[test]
fn every_member_manifest_names_its_package() {
    let crates = concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/..\");
    for entry in std::fs::read_dir(crates).unwrap() {
        let manifest = entry.unwrap().path().join(\"Cargo.toml\");
        let text = std::fs::read_to_string(&manifest).unwrap();
        assert!(text.contains(\"name = \"), \"{}\", manifest.display());
    }
}
";

const IMPACT_RULES: &str = "\
[impact]
rules = [
  { paths = [\"crates/*/Cargo.toml\", \"/Cargo.toml\"], also = [\"lonely::audit\"], reason = \"read at run time\" },
  { paths = [\"tools/gen/**\"], packages = [\"lonely\"] },
  { paths = [\"scripts/**\"], affects = \"nothing\" },
  { paths = [\".github/workflows/docs.yml\"], affects = \"nothing\" },
  { paths = [\"crates/lonely/notes/**\"], affects = \"nothing\" },
  { paths = [\"crates/ua/env/**\"], affects = \"all\" },
]
";

pub const SCENARIOS: &[Scenario] = &[
    // ---- graph closure ----
    Scenario {
        name: "normal_dependency_chain_distance",
        change: &[Append("crates/mid/src/lib.rs", "pub fn more() {}\n")],
        expect: Expect {
            required: &["mid", "bin:mid", "mid::mid_it", "app", "bin:app"],
            // app's why-chain: the changed file, its owner, the edge through mid.
            why: &[("app", "crates/mid/src/lib.rs"), ("app", "mid")],
            forbidden: &[
                "core", "devuser", "top", "lonely", "other", "gen", "ua", "ub",
            ],
            distances: &[("mid", 0), ("app", 1)],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "two_hop_chain_distance",
        change: &[Append("crates/core/src/lib.rs", "pub fn more() {}\n")],
        expect: Expect {
            required: &["core", "core::api", "core::more", "mid", "app"],
            forbidden: &["lonely", "gen", "codegen", "genuser", "other", "ua", "ub"],
            distances: &[("core", 0), ("mid", 1), ("app", 2)],
            why: &[
                ("app", "crates/core/src/lib.rs"),
                ("app", "core"),
                ("app", "mid"),
            ],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "dev_dependency_stops_after_one_hop",
        change: &[Append("crates/core/src/lib.rs", "pub fn more() {}\n")],
        expect: Expect {
            required: &["devuser", "devuser::uses_core"],
            forbidden: &["top", "lonely"],
            why: &[("devuser", "dev")],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "build_dependency_propagates",
        change: &[Append("crates/codegen/src/lib.rs", "pub fn more() {}\n")],
        expect: Expect {
            required: &["codegen", "gen", "genuser"],
            forbidden: &["core", "mid", "app", "lonely", "other"],
            why: &[("gen", "build"), ("genuser", "codegen")],
            distances: &[("codegen", 0), ("gen", 1), ("genuser", 2)],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "optional_dependency_selects_its_feature_gated_dependent",
        base: Base::FeatureGated,
        change: &[Append("crates/signer/src/lib.rs", "pub fn more() {}\n")],
        expect: Expect {
            required: &["signer", "gated", "gated::signing"],
            forbidden: &["core", "mid", "lonely"],
            why: &[("gated", "only with feature `signing`")],
            distances: &[("signer", 0), ("gated", 1)],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "feature_gated_test_selected_from_the_working_tree",
        base: Base::FeatureGated,
        change: &[Replace("crates/signer/src/lib.rs", "x + 1", "x + 1 + 0")],
        head: Head::WorkingTree,
        expect: Expect {
            required: &["signer", "gated::signing"],
            forbidden: &["core", "mid", "lonely"],
            why: &[("gated", "only with feature `signing`")],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "platform_specific_dependency_propagates",
        change: &[Append("crates/codegen/src/lib.rs", "pub fn more() {}\n")],
        expect: Expect {
            required: &["platdep"],
            forbidden: &["lonely", "mid"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "renamed_dependency_propagates",
        change: &[Append("crates/core/src/lib.rs", "pub fn more() {}\n")],
        expect: Expect {
            required: &["platdep"],
            forbidden: &["lonely", "codegen"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    // ---- target level ----
    Scenario {
        name: "test_only_edit_selects_that_binary",
        change: &[Append("crates/core/tests/api.rs", "// more cases later\n")],
        expect: Expect {
            required: &["core::api"],
            forbidden: &[
                "bin:core",
                "core::more",
                "core::bench/speed",
                "core::example/demo",
                "mid",
                "app",
                "devuser",
                "top",
            ],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "test_directory_module_selects_that_binary",
        change: &[Append(
            "crates/core/tests/suite/cases.rs",
            "pub fn more() {}\n",
        )],
        expect: Expect {
            required: &["core::suite"],
            forbidden: &["bin:core", "core::api", "core::more", "mid", "devuser"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "test_fixture_included_by_one_test",
        // `tests/fixtures/` is no test binary of its own. The including test must run; the
        // package's other tests may read fixtures at run time, so they are allowed, but the
        // fixture is no input of mid's library: dependents stay out.
        change: &[Write(
            "crates/mid/tests/fixtures/input.json",
            "{\"n\": 2}\n",
        )],
        expect: Expect {
            required: &["mid::mid_it"],
            forbidden: &["app", "core"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "test_helper_module_selects_its_includer",
        change: &[Append(
            "crates/core/tests/common/mod.rs",
            "pub fn two() -> u32 { 2 }\n",
        )],
        expect: Expect {
            required: &["core::api"],
            forbidden: &["mid", "app", "devuser", "top"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "hyphenated_test_binary_id",
        change: &[Append("crates/dash-lib/tests/it-works.rs", "// more\n")],
        expect: Expect {
            required: &["dash-lib::it-works"],
            forbidden: &["bin:dash-lib", "lonely"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "hyphenated_package_library_edit",
        change: &[Append("crates/dash-lib/src/lib.rs", "pub fn more() {}\n")],
        expect: Expect {
            required: &["dash-lib", "bin:dash-lib", "dash-lib::it-works"],
            forbidden: &["lonely", "core"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "example_edit_selects_that_example",
        change: &[Append("crates/core/examples/demo.rs", "// demo\n")],
        expect: Expect {
            required: &["core::example/demo"],
            forbidden: &[
                "bin:core",
                "core::api",
                "core::bench/speed",
                "mid",
                "devuser",
            ],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "bench_edit_selects_that_bench",
        change: &[Append("crates/core/benches/speed.rs", "// speed\n")],
        expect: Expect {
            required: &["core::bench/speed"],
            forbidden: &[
                "bin:core",
                "core::api",
                "core::example/demo",
                "mid",
                "devuser",
            ],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    // ---- included files ----
    Scenario {
        name: "include_str_of_file_in_another_package",
        change: &[Append("crates/core/data/table.txt", "3,4\n")],
        expect: Expect {
            required: &["other", "core"],
            forbidden: &["lonely", "gen", "ua"],
            why: &[("other", "crates/core/data/table.txt")],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "include_bytes_of_file_outside_packages",
        change: &[Write("assets/logo.bin", "\u{4}\u{5}new logo")],
        expect: Expect {
            required: &["other"],
            forbidden: &["core", "mid", "lonely"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "include_macro_of_generated_source",
        change: &[Write(
            "generated/consts.rs",
            "pub const GENERATED: u32 = 8;\n",
        )],
        expect: Expect {
            required: &["other"],
            forbidden: &["core", "lonely", "gen"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "path_attribute_module_outside_package",
        change: &[Write(
            "common_src/common.rs",
            "pub fn common() -> u32 { 4 }\n",
        )],
        expect: Expect {
            required: &["other"],
            forbidden: &["core", "lonely", "gen"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "included_markdown_selects_includer",
        change: &[Append("docs/guide.md", "\nA new section.\n")],
        expect: Expect {
            required: &["other"],
            forbidden: &["core", "lonely", "gen"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "computed_include_without_build_selects_all",
        change: &[Write("assets/computed.txt", "changed\n")],
        head: Head::WorkingTree,
        expect: Expect {
            reasons_mention: &["assets/computed.txt"],
            ..Expect::ALL
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "slow_dep_info_of_head_build_explains_computed_include",
        change: &[
            Write("assets/computed.txt", "changed\n"),
            // A build of the head: rustc's dep-info now lists the computed include.
            Cargo(&["build", "--offline", "-p", "other"]),
        ],
        head: Head::WorkingTree,
        expect: Expect {
            required: &["other"],
            forbidden: &["core", "mid", "lonely", "gen"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "build_script_rerun_if_changed_input",
        change: &[Append("schema/api.schema", "message More {}\n")],
        expect: Expect {
            required: &["gen", "genuser"],
            forbidden: &["codegen", "core", "other", "lonely"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "build_script_rerun_if_changed_double_colon_syntax",
        change: &[Append("schema/types.idl", "interface More {}\n")],
        expect: Expect {
            required: &["gen", "genuser"],
            forbidden: &["codegen", "core", "other", "lonely"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "build_script_edit_selects_its_package",
        change: &[Append("crates/gen/build.rs", "// note\n")],
        expect: Expect {
            required: &["gen", "genuser"],
            forbidden: &["codegen", "core", "lonely"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    // ---- manifests ----
    Scenario {
        name: "workspace_dependency_bump_used_by_one_member",
        base: Base::WorkspaceGitDep,
        change: &[Replace(
            "Cargo.toml",
            "tag = \"v0.1.0\"",
            "tag = \"v0.2.0\"",
        )],
        expect: Expect {
            required: &["ua"],
            forbidden: &["ub", "core", "mid", "app", "lonely", "other", "gen"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "workspace_package_field_inherited_by_some_members",
        change: &[Replace(
            "Cargo.toml",
            "license = \"MIT\"",
            "license = \"Apache-2.0\"",
        )],
        expect: Expect {
            required: &["ua"],
            forbidden: &["ub", "core", "mid", "lonely"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        // `core` now writes its edition itself, the same value it inherited: Cargo builds it
        // as before, so its dependents are not selected; its own tests may read the file.
        name: "member_manifest_written_differently_selects_only_its_own_tests",
        change: &[Replace(
            "crates/core/Cargo.toml",
            "edition.workspace = true",
            "edition = \"2021\"",
        )],
        expect: Expect {
            required: &["core"],
            forbidden: &["mid", "app", "devuser", "top"],
            why: &[("core", "changed only in how it is written")],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "profile_change_selects_all",
        change: &[Replace("Cargo.toml", "debug = 1", "debug = 2")],
        expect: Expect::ALL,
        ..Scenario::DEFAULT
    },
    Scenario {
        // No member of the standard workspace has `[lints] workspace = true`.
        name: "workspace_lints_change_without_inheriting_members_selects_nothing",
        change: &[Replace(
            "Cargo.toml",
            "unsafe_code = \"forbid\"",
            "unsafe_code = \"deny\"",
        )],
        expect: Expect {
            reasons_mention: &["no member inherits them"],
            ..Expect::NOTHING
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        // `mid` inherits the lints: it may now warn or fail to compile, and so may `app`,
        // which depends on it.
        name: "workspace_lints_change_selects_the_members_inheriting_them",
        base: Base::InheritedLints,
        change: &[Replace(
            "Cargo.toml",
            "unsafe_code = \"forbid\"",
            "unsafe_code = \"deny\"",
        )],
        expect: Expect {
            required: &["mid", "app"],
            forbidden: &["core", "devuser", "top", "lonely", "other", "ua", "ub"],
            reasons_mention: &[
                "Cargo.toml [workspace.lints] changed -> inherited by mid (`[lints] workspace = true`), whose lints changed",
            ],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "member_feature_change",
        change: &[Append("crates/mid/Cargo.toml", "\n[features]\nfast = []\n")],
        expect: Expect {
            required: &["mid", "app"],
            forbidden: &["core", "devuser", "lonely", "other"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "lockfile_bump_of_transitive_dependency",
        base: Base::TransitiveGitDep,
        change: &[
            ExtGit("extleaf", &["branch", "-f", "stable", "v0.2.0"]),
            Cargo(&["update", "-p", "extleaf"]),
        ],
        expect: Expect {
            required: &["extuser", "extuser_dep"],
            forbidden: &[
                "core",
                "mid",
                "app",
                "lonely",
                "other",
                "ua",
                "ub",
                "devext_user",
            ],
            changed: &[("Cargo.lock", "modified")],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "lockfile_bump_under_dev_dependency_stays_with_its_package",
        base: Base::TransitiveGitDep,
        change: &[
            ExtGit("extleaf", &["branch", "-f", "stable", "v0.2.0"]),
            Cargo(&["update", "-p", "extleaf"]),
        ],
        expect: Expect {
            required: &["devext"],
            forbidden: &["devext_user", "core", "lonely"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    // ---- moves, deletions, additions ----
    Scenario {
        name: "rename_across_packages_selects_both_ends",
        change: &[Rename(
            "crates/lonely/notes/todo.txt",
            "crates/ub/notes/todo.txt",
        )],
        expect: Expect {
            required: &["lonely", "ub"],
            forbidden: &["ua", "core", "other"],
            changed: &[("crates/ub/notes/todo.txt", "renamed")],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "deleted_package_selects_its_dependents",
        change: &[
            Remove("crates/mid"),
            Replace(
                "crates/app/Cargo.toml",
                "mid = { path = \"../mid\" }",
                "core = { path = \"../core\" }",
            ),
            Write(
                "crates/app/src/lib.rs",
                "pub fn app_value() -> u32 { core::core_value() }\n",
            ),
        ],
        expect: Expect {
            required: &["app"],
            forbidden: &["mid", "core", "lonely", "devuser"],
            changed: &[("crates/mid/src/lib.rs", "deleted")],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "deleted_file_selects_its_owner",
        change: &[Remove("crates/mid/src/legacy.rs")],
        expect: Expect {
            required: &["mid", "app"],
            forbidden: &["lonely", "core"],
            changed: &[("crates/mid/src/legacy.rs", "deleted")],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "new_package_added",
        change: &[
            Write(
                "crates/fresh/Cargo.toml",
                "[package]\nname = \"fresh\"\nversion.workspace = true\nedition.workspace = true\n",
            ),
            Write("crates/fresh/src/lib.rs", "pub fn fresh() {}\n"),
        ],
        expect: Expect {
            required: &["fresh"],
            forbidden: &["core", "mid", "lonely", "ua"],
            changed: &[("crates/fresh/src/lib.rs", "added")],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    // ---- workspace-level files ----
    Scenario {
        name: "rust_toolchain_file_selects_all",
        change: &[Write(
            "rust-toolchain.toml",
            "[toolchain]\nchannel = \"stable\"\n",
        )],
        expect: Expect::ALL,
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "cargo_config_selects_all",
        change: &[Write(".cargo/config.toml", "[env]\nIMPACT_FLAG = \"1\"\n")],
        expect: Expect::ALL,
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "legacy_cargo_config_selects_all",
        change: &[Write(".cargo/config", "[env]\nIMPACT_FLAG = \"1\"\n")],
        expect: Expect::ALL,
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "legacy_rust_toolchain_file_selects_all",
        change: &[Write("rust-toolchain", "stable\n")],
        expect: Expect::ALL,
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "nextest_config_selects_all",
        change: &[Write(
            ".config/nextest.toml",
            "[profile.default]\nretries = 1\n",
        )],
        expect: Expect::ALL,
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "new_workflow_without_test_jobs_selects_nothing",
        change: &[Write(
            ".github/workflows/labels.yml",
            "on: issues\njobs:\n  label:\n    runs-on: ubuntu-latest\n    steps:\n      - run: gh issue edit --add-label triage\n",
        )],
        expect: Expect {
            reasons_mention: &["labels.yml: job `label` changed; no job that runs tests changed"],
            ..Expect::NOTHING
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "other_ci_system_file_selects_all",
        change: &[Write(".gitlab-ci.yml", "test:\n  script: cargo test\n")],
        expect: Expect {
            reasons_mention: &["CI configuration of a system other than GitHub Actions"],
            ..Expect::ALL
        },
        ..Scenario::DEFAULT
    },
    // ---- GitHub Actions workflows, job by job ----
    Scenario {
        name: "release_job_steps_change_selects_nothing",
        base: Base::WithWorkflows,
        change: &[
            Replace(
                ".github/workflows/release.yml",
                "cargo build --release --workspace",
                "cargo build --release --workspace --locked",
            ),
            Replace(
                ".github/workflows/release.yml",
                "cargo publish --workspace",
                "cargo publish --workspace --no-verify",
            ),
        ],
        expect: Expect {
            reasons_mention: &[
                "release.yml: jobs `build-binaries`, `publish` changed; no job that runs tests changed",
            ],
            ..Expect::NOTHING
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        // The release job names the binary it built through `$GITHUB_ENV` and runs it: the
        // variable is resolved to that binary, which runs no tests.
        name: "release_job_running_its_binary_by_variable_selects_nothing",
        base: Base::WithWorkflows,
        change: &[Replace(
            ".github/workflows/release.yml",
            "      - run: cargo build --release --workspace\n",
            "      - run: |\n          cargo build --release --workspace\n          echo \"BIN=target/release/app\" >> $GITHUB_ENV\n      - run: |\n          \"$BIN\" --generate man > app.1\n",
        )],
        expect: Expect {
            reasons_mention: &[
                "release.yml: job `build-binaries` changed; no job that runs tests changed",
            ],
            ..Expect::NOTHING
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "release_job_running_an_unassigned_variable_selects_all",
        base: Base::WithWorkflows,
        change: &[Replace(
            ".github/workflows/release.yml",
            "      - run: cargo build --release --workspace\n",
            "      - run: cargo build --release --workspace\n      - run: |\n          \"$RUNNER\" --generate man > app.1\n",
        )],
        expect: Expect {
            reasons_mention: &[
                "release.yml: job `build-binaries` runs tests (step 3: ",
                "runs a command given by a variable or expression (`$RUNNER`), which may run tests",
            ],
            ..Expect::ALL
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "checkout_and_cache_bump_in_test_job_selects_nothing",
        base: Base::WithWorkflows,
        change: &[
            Replace(
                ".github/workflows/ci.yml",
                "      - uses: actions/checkout@v4\n      - uses: dtolnay",
                "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683\n      - uses: dtolnay",
            ),
            Replace(
                ".github/workflows/ci.yml",
                "Swatinem/rust-cache@v2",
                "Swatinem/rust-cache@98c8021b550208e191a6a3145459bfc9fb29c4c0",
            ),
        ],
        expect: Expect {
            reasons_mention: &[
                "ci.yml: job `test` runs tests but changed only in what cannot affect them",
            ],
            ..Expect::NOTHING
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "toolchain_action_bump_in_test_job_selects_all",
        base: Base::WithWorkflows,
        change: &[Replace(
            ".github/workflows/ci.yml",
            "dtolnay/rust-toolchain@stable",
            "dtolnay/rust-toolchain@1.86",
        )],
        expect: Expect {
            reasons_mention: &[
                "ci.yml: job `test` runs tests (step 5: `cargo nextest run --workspace` runs `cargo nextest`) and its steps changed",
            ],
            ..Expect::ALL
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "test_job_steps_change_selects_all",
        base: Base::WithWorkflows,
        change: &[Replace(
            ".github/workflows/ci.yml",
            "cargo nextest run --workspace",
            "cargo nextest run --workspace --all-features",
        )],
        expect: Expect {
            reasons_mention: &["job `test` runs tests", "its steps changed"],
            ..Expect::ALL
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        // Steps run in order: one after the last step that runs tests starts once they have
        // finished.
        name: "step_added_after_test_jobs_last_test_step_selects_nothing",
        base: Base::WithWorkflows,
        change: &[Replace(
            ".github/workflows/ci.yml",
            "      - run: cargo nextest run --workspace\n",
            "      - run: cargo nextest run --workspace\n      - name: Docs\n        run: cargo doc --workspace --no-deps\n",
        )],
        expect: Expect {
            reasons_mention: &[
                "ci.yml: job `test` runs tests but changed only in what cannot affect them",
                "`run` steps after the last step that runs tests",
            ],
            ..Expect::NOTHING
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "step_added_before_test_jobs_last_test_step_selects_all",
        base: Base::WithWorkflows,
        change: &[Replace(
            ".github/workflows/ci.yml",
            "      - run: cargo nextest run --workspace\n",
            "      - run: cargo doc --workspace --no-deps\n      - run: cargo nextest run --workspace\n",
        )],
        expect: Expect {
            reasons_mention: &["job `test` runs tests", "its steps changed"],
            ..Expect::ALL
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        // `cargo gen` is the alias `run --package app --bin app --` of `.cargo/config.toml`:
        // a program run, not a test command, so the release job still runs no tests.
        name: "release_job_running_a_cargo_alias_selects_nothing",
        base: Base::WithWorkflows,
        change: &[Replace(
            ".github/workflows/release.yml",
            "cargo build --release --workspace",
            "cargo gen completions",
        )],
        expect: Expect {
            reasons_mention: &[
                "release.yml: job `build-binaries` changed; no job that runs tests changed",
            ],
            ..Expect::NOTHING
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "release_job_running_an_undefined_cargo_alias_selects_all",
        base: Base::WithWorkflows,
        change: &[Replace(
            ".github/workflows/release.yml",
            "cargo build --release --workspace",
            "cargo regen completions",
        )],
        expect: Expect {
            reasons_mention: &[
                "release.yml: job `build-binaries` runs tests",
                "runs `cargo regen`, a subcommand this analysis does not know",
            ],
            ..Expect::ALL
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        // rustc leaves Clippy's lints to Clippy, which `cargo test` does not run.
        name: "cargo_config_clippy_lint_flags_only_select_nothing",
        base: Base::WithWorkflows,
        change: &[Replace(
            ".cargo/config.toml",
            "\"-Wclippy::all\"",
            "\"-Wclippy::all\", \"-Dclippy::doc_markdown\"",
        )],
        expect: Expect {
            reasons_mention: &[".cargo/config.toml: only Clippy lint flags changed"],
            ..Expect::NOTHING
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "cargo_config_rustc_flag_selects_all",
        base: Base::WithWorkflows,
        change: &[Replace(
            ".cargo/config.toml",
            "\"-Wclippy::all\"",
            "\"-Wclippy::all\", \"--cfg\", \"impact_flag\"",
        )],
        expect: Expect {
            reasons_mention: &[
                ".cargo/config.toml is in the workspace root: cargo configuration sets flags for every build",
            ],
            ..Expect::ALL
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "test_job_matrix_change_selects_all",
        base: Base::WithWorkflows,
        change: &[Replace(
            ".github/workflows/ci.yml",
            "os: [ubuntu-latest]",
            "os: [ubuntu-latest, windows-latest]",
        )],
        expect: Expect {
            reasons_mention: &["job `test` runs tests", "its matrix changed"],
            ..Expect::ALL
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "workflow_level_env_change_selects_all",
        base: Base::WithWorkflows,
        change: &[Replace(
            ".github/workflows/ci.yml",
            "CARGO_TERM_COLOR: always",
            "CARGO_TERM_COLOR: always\n  RUSTFLAGS: -Dwarnings",
        )],
        expect: Expect {
            reasons_mention: &[
                "ci.yml: the workflow-level `env` changed, which every job inherits, and job `test` runs tests",
            ],
            ..Expect::ALL
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "local_composite_action_of_test_job_selects_all",
        base: Base::WithWorkflows,
        change: &[Replace(
            ".github/actions/setup/action.yml",
            "llvm-tools-preview",
            "llvm-tools-preview rust-src",
        )],
        expect: Expect {
            reasons_mention: &[
                ".github/actions/setup/action.yml is run by job `test` of ci.yml, which runs tests",
            ],
            ..Expect::ALL
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "reusable_workflow_of_test_job_selects_all",
        base: Base::WithWorkflows,
        change: &[Replace(
            ".github/workflows/reusable-tests.yml",
            "cargo test --doc --workspace",
            "cargo test --doc --workspace --all-features",
        )],
        expect: Expect {
            reasons_mention: &["reusable-tests.yml: job `doc` runs tests"],
            ..Expect::ALL
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "unparseable_workflow_selects_all",
        base: Base::WithWorkflows,
        change: &[Write(
            ".github/workflows/release.yml",
            "on: push\njobs:\n  publish:\n    steps: [\n",
        )],
        expect: Expect {
            reasons_mention: &[".github/workflows/release.yml cannot be parsed at the head (line"],
            ..Expect::ALL
        },
        ..Scenario::DEFAULT
    },
    // ---- toolchain and cargo configuration where they apply ----
    Scenario {
        name: "rust_toolchain_above_the_workspace_selects_all",
        base: Base::Subdirectory,
        change: &[Write(
            "rust-toolchain.toml",
            "[toolchain]\nchannel = \"stable\"\n",
        )],
        expect: Expect {
            reasons_mention: &["rust-toolchain.toml is in a directory above the workspace root"],
            ..Expect::ALL
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "nested_rust_toolchain_in_a_package_is_an_ordinary_file",
        change: &[Write(
            "crates/lonely/rust-toolchain.toml",
            "[toolchain]\nchannel = \"stable\"\n",
        )],
        expect: Expect {
            required: &["lonely"],
            forbidden: &["core", "mid", "app", "other", "ua", "ub", "gen", "codegen"],
            reasons_mention: &["crates/lonely/rust-toolchain.toml -> owned by lonely"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "nested_cargo_config_in_a_package_is_an_ordinary_file",
        change: &[Write(
            "crates/lonely/.cargo/config.toml",
            "[build]\nrustflags = [\"-Dwarnings\"]\n",
        )],
        expect: Expect {
            required: &["lonely"],
            forbidden: &["core", "mid", "app", "other", "ua", "ub", "gen", "codegen"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "separate_workspace_inside_a_package_is_outside_every_package",
        base: Base::SinglePackage,
        change: &[
            Write(
                "fuzz/Cargo.toml",
                "[package]\nname = \"solo-fuzz\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
            ),
            Write("fuzz/src/main.rs", "fn main() {}\n"),
        ],
        expect: Expect {
            all: Some(true),
            required: &["solo"],
            reasons_mention: &[
                "fuzz/src/main.rs is outside every package (it belongs to `fuzz`, a separate Cargo workspace)",
            ],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "github_issue_template_selects_nothing",
        change: &[Write(
            ".github/ISSUE_TEMPLATE/bug.md",
            "---\nname: Bug\n---\n",
        )],
        expect: Expect::NOTHING,
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "readme_only_change_selects_nothing",
        change: &[
            Append("README.md", "\nMore words.\n"),
            Append("docs/notes.md", "more\n"),
        ],
        expect: Expect::NOTHING,
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "member_readme_nothing_includes_selects_nothing",
        change: &[Write(
            "crates/lonely/README.md",
            "# lonely\n\nA crate on its own.\n",
        )],
        expect: Expect::NOTHING,
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "no_change_selects_nothing",
        change: &[],
        expect: Expect::NOTHING,
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "license_and_gitignore_select_nothing",
        change: &[
            Append("LICENSE", "\nmore\n"),
            Append(".gitignore", "*.swp\n"),
        ],
        expect: Expect::NOTHING,
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "unknown_top_level_file_selects_all_naming_it",
        change: &[Write("scripts/run.sh", "#!/bin/sh\necho run\n")],
        expect: Expect {
            reasons_mention: &["scripts/run.sh"],
            ..Expect::ALL
        },
        ..Scenario::DEFAULT
    },
    // ---- [impact] rules in lanes.toml ----
    Scenario {
        name: "impact_rule_maps_path_to_package",
        base: Base::WithRules,
        change: &[Write("tools/gen/make.py", "print('x')\n")],
        expect: Expect {
            required: &["lonely"],
            forbidden: &["core", "mid", "ua", "other"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "adding_rule_selects_a_reader_of_member_manifests_besides_the_owner",
        base: Base::WithRules,
        change: &[Append(
            "crates/ua/Cargo.toml",
            "\n[dependencies]\ncore = { path = \"../core\" }\n",
        )],
        expect: Expect {
            // The owner stays selected (the rule adds, it does not replace) and so does the
            // test that reads every member manifest at run time; nothing else of lonely.
            required: &["ua", "lonely::audit"],
            forbidden: &["bin:lonely", "core", "mid", "ub"],
            why: &[("lonely", "also -> lonely::audit")],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "workspace_exclude_change_is_a_membership_change",
        base: Base::WithRules,
        change: &[Replace(
            "Cargo.toml",
            "members = [\"crates/*\"]",
            "members = [\"crates/*\"]\nexclude = [\"crates/ub\"]",
        )],
        expect: Expect {
            required: &["lonely::audit"],
            forbidden: &["ub", "bin:lonely", "core", "mid", "ua"],
            reasons_mention: &["ub left the workspace"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "excluding_a_member_the_nextest_config_names_selects_everything",
        base: Base::NextestNamesPackage,
        change: &[Replace(
            "Cargo.toml",
            "members = [\"crates/*\"]",
            "members = [\"crates/*\"]\nexclude = [\"crates/ub\"]",
        )],
        expect: Expect {
            all: Some(true),
            required: &["core", "ua", "lonely"],
            reasons_mention: &[".config/nextest.toml:5 names ub in `package(ub)`"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "deleting_a_member_the_nextest_config_names_selects_everything",
        base: Base::NextestNamesPackage,
        change: &[Remove("crates/ub")],
        expect: Expect {
            all: Some(true),
            required: &["core", "ua", "lonely"],
            reasons_mention: &["names ub in `package(ub)`"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "excluding_a_member_the_nextest_config_does_not_name_selects_its_readers",
        base: Base::NextestNamesPackage,
        change: &[Replace(
            "Cargo.toml",
            "members = [\"crates/*\"]",
            "members = [\"crates/*\"]\nexclude = [\"crates/ua\"]",
        )],
        expect: Expect {
            forbidden: &["ub", "core", "mid", "lonely"],
            reasons_mention: &["ua left the workspace"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "impact_rule_maps_path_to_nothing",
        base: Base::WithRules,
        change: &[Write("scripts/run.sh", "#!/bin/sh\necho run\n")],
        expect: Expect {
            forbidden: &["core", "mid", "ua", "other", "lonely"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "impact_rule_narrows_a_ci_workflow",
        base: Base::WithRules,
        change: &[Write(".github/workflows/docs.yml", "on: push\njobs: {}\n")],
        expect: Expect::NOTHING,
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "impact_rule_overrides_ownership_to_nothing",
        base: Base::WithRules,
        change: &[Append("crates/lonely/notes/todo.txt", "more\n")],
        expect: Expect::NOTHING,
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "impact_rule_overrides_ownership_to_all",
        base: Base::WithRules,
        change: &[Write("crates/ua/env/setup.sh", "export X=1\n")],
        expect: Expect {
            reasons_mention: &["crates/ua/env/setup.sh"],
            ..Expect::ALL
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "bad_impact_rule_glob_is_invalid_input",
        change: &[
            Write(
                "lanes.toml",
                "[impact]\nrules = [\n  { paths = [\"tools/[\"], packages = [\"lonely\"] },\n]\n",
            ),
            Write("crates/lonely/src/extra.rs", "\n"),
        ],
        expect: Expect {
            exit: 2,
            stderr_mentions: &["lanes.toml:3"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "impact_rule_naming_unknown_package_is_invalid_input",
        change: &[
            Write(
                "lanes.toml",
                "[impact]\nrules = [\n  { paths = [\"tools/**\"], packages = [\"no_such_pkg\"] },\n]\n",
            ),
            Write("crates/lonely/src/extra.rs", "\n"),
        ],
        expect: Expect {
            exit: 2,
            stderr_mentions: &["lanes.toml:3", "no_such_pkg"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    // ---- working tree and revisions ----
    Scenario {
        name: "uncommitted_edit_in_working_tree",
        change: &[Append("crates/mid/src/lib.rs", "pub fn dirty() {}\n")],
        head: Head::WorkingTree,
        expect: Expect {
            required: &["mid", "app"],
            forbidden: &["core", "lonely", "devuser"],
            changed: &[("crates/mid/src/lib.rs", "modified")],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "uncommitted_deletion",
        change: &[Remove("crates/mid/src/legacy.rs")],
        head: Head::WorkingTree,
        expect: Expect {
            required: &["mid", "app"],
            forbidden: &["core", "lonely"],
            changed: &[("crates/mid/src/legacy.rs", "deleted")],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "uncommitted_move_across_packages",
        change: &[Rename(
            "crates/lonely/notes/todo.txt",
            "crates/ub/notes/todo.txt",
        )],
        head: Head::WorkingTree,
        expect: Expect {
            required: &["lonely", "ub"],
            forbidden: &["ua", "core"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "untracked_new_test_file",
        change: &[Write(
            "crates/mid/tests/brand_new.rs",
            "#[test]\nfn new() {}\n",
        )],
        head: Head::WorkingTree,
        expect: Expect {
            required: &["mid::brand_new"],
            forbidden: &["bin:mid", "mid::mid_it", "app", "core", "lonely"],
            changed: &[("crates/mid/tests/brand_new.rs", "added")],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "untracked_file_and_staged_edit_together",
        change: &[
            Append("crates/ua/src/lib.rs", "pub fn staged() {}\n"),
            Git(&["add", "crates/ua/src/lib.rs"]),
            Write("crates/ub/src/new_module.rs", "pub fn n() {}\n"),
        ],
        head: Head::WorkingTree,
        expect: Expect {
            required: &["ua", "ub"],
            forbidden: &["core", "lonely"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "head_revision_ignores_and_keeps_working_tree",
        change: &[Append("crates/mid/src/lib.rs", "pub fn committed() {}\n")],
        head: Head::Commit,
        // Back on the base commit, with an unrelated uncommitted edit the analysis must ignore.
        after: &[
            Git(&["checkout", "-q", "--detach", "@BASE@"]),
            Append("crates/lonely/src/lib.rs", "pub fn dirty() {}\n"),
        ],
        expect: Expect {
            required: &["mid", "app"],
            forbidden: &["lonely", "core"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "path_with_spaces",
        change: &[Append("crates/core/data/my table.txt", "more\n")],
        expect: Expect {
            required: &["other", "core"],
            forbidden: &["ua", "gen", "lonely"],
            changed: &[("crates/core/data/my table.txt", "modified")],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "non_ascii_paths",
        change: &[
            Rename("crates/ub", "crates/über café"),
            Write("crates/über café/src/naïve.rs", "pub fn n() {}\n"),
        ],
        expect: Expect {
            required: &["ub"],
            forbidden: &["ua", "core", "lonely"],
            changed: &[("crates/über café/src/naïve.rs", "added")],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "nested_member_owns_its_files",
        base: Base::Nested,
        change: &[Append(
            "crates/lonely/inner/src/lib.rs",
            "pub fn more() {}\n",
        )],
        expect: Expect {
            required: &["inner"],
            forbidden: &["lonely", "core", "ua"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "default_base_is_merge_base_with_main",
        change: &[
            Git(&["checkout", "-q", "-b", "feature"]),
            Append("crates/mid/src/lib.rs", "pub fn on_feature() {}\n"),
        ],
        pass_base: false,
        expect: Expect {
            required: &["mid", "app"],
            forbidden: &["core", "lonely"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "ignored_files_are_not_changes",
        change: &[
            Write("target/debug/junk.txt", "build output\n"),
            Write("crates/lonely/target/stray.o", "object\n"),
        ],
        head: Head::WorkingTree,
        expect: Expect::NOTHING,
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "quotes_and_glob_characters_in_file_names",
        change: &[Write("crates/lonely/notes/[draft] \"v2\" *.txt", "draft\n")],
        expect: Expect {
            required: &["lonely"],
            forbidden: &["ua", "core"],
            changed: &[("crates/lonely/notes/[draft] \"v2\" *.txt", "added")],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "workspace_in_repository_subdirectory",
        base: Base::Subdirectory,
        change: &[Append("ws/crates/mid/src/lib.rs", "pub fn more() {}\n")],
        expect: Expect {
            required: &["mid", "app"],
            forbidden: &["core", "lonely"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "single_package_workspace",
        base: Base::SinglePackage,
        change: &[Append("src/lib.rs", "pub fn more() {}\n")],
        expect: Expect {
            required: &["solo", "bin:solo", "solo::t", "solo::u"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        // The root manifest is the root package's own file too: a change to `[workspace]`
        // alone selects the root package's tests (which may read it), not only the new member.
        name: "root_package_membership_change_selects_the_root_package_tests",
        base: Base::SinglePackage,
        change: &[
            Replace(
                "Cargo.toml",
                "[workspace]\n",
                "[workspace]\nmembers = [\"crates/extra\"]\n",
            ),
            Write(
                "crates/extra/Cargo.toml",
                "[package]\nname = \"extra\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
            ),
            Write("crates/extra/src/lib.rs", "pub fn extra() {}\n"),
        ],
        sync_lockfile: true,
        expect: Expect {
            required: &["extra", "solo::t", "solo::u", "bin:solo"],
            why: &[(
                "solo",
                "Cargo.toml is also the manifest of solo, whose tests may read it at run time",
            )],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "single_package_test_only_edit",
        base: Base::SinglePackage,
        change: &[Append("tests/t.rs", "// t\n")],
        expect: Expect {
            required: &["solo::t"],
            forbidden: &["bin:solo", "solo::u"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    // ---- errors and fallbacks ----
    Scenario {
        name: "shallow_clone_without_base_is_environment_error",
        change: &[Append("crates/mid/src/lib.rs", "pub fn more() {}\n")],
        checkout: Checkout::ShallowClone,
        expect: Expect {
            exit: 3,
            stderr_mentions: &["fetch"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "shallow_clone_with_fallback_selects_all",
        change: &[Append("crates/mid/src/lib.rs", "pub fn more() {}\n")],
        checkout: Checkout::ShallowClone,
        extra_args: &["--fallback", "all"],
        expect: Expect {
            // The base is unknown, so its sha cannot be echoed back: only `all` is checked.
            exit: 0,
            ..Expect::ALL
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "unknown_base_revision_is_invalid_input",
        change: &[Append("crates/mid/src/lib.rs", "pub fn more() {}\n")],
        pass_base: false,
        extra_args: &["--base", "no-such-revision"],
        expect: Expect {
            exit: 2,
            stderr_mentions: &["no-such-revision"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "unknown_head_revision_is_invalid_input",
        change: &[Append("crates/mid/src/lib.rs", "pub fn more() {}\n")],
        head: Head::WorkingTree,
        extra_args: &["--head", "no-such-revision"],
        expect: Expect {
            exit: 2,
            stderr_mentions: &["no-such-revision"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "not_a_cargo_workspace_is_invalid_input",
        base: Base::NotCargo,
        change: &[Append("README.md", "more\n")],
        expect: Expect {
            exit: 2,
            stderr_mentions: &["Cargo.toml"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "broken_manifest_in_head_is_invalid_input",
        change: &[Replace(
            "crates/mid/Cargo.toml",
            "[dependencies]",
            "[dependencies",
        )],
        sync_lockfile: false,
        expect: Expect {
            exit: 2,
            stderr_mentions: &["crates/mid/Cargo.toml"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    // Run-time reads, learned by `xtask impact record` on the base commit.
    Scenario {
        name: "unread_top_level_file_without_recording_selects_all",
        base: Base::RuntimeReads,
        change: &[Append("notes/todo.txt", "more\n")],
        expect: Expect {
            all: Some(true),
            required: RUNTIME_MEMBERS,
            reasons_mention: &["notes/todo.txt is outside every package"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "slow_recorded_fixture_read_selects_its_reader",
        base: Base::RuntimeReads,
        record: true,
        change: &[Write("fixtures/golden.txt", "golden, edited\n")],
        expect: Expect {
            required: &["golden::golden"],
            forbidden: &["bin:golden", "cases", "envread", "plain"],
            reasons_mention: &["fixtures/golden.txt was read at run time by golden::golden"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "slow_recorded_fixture_read_by_two_of_ten_tests_selects_those_two",
        base: Base::RuntimeReads,
        record: true,
        change: &[Write("fixtures/shared.txt", "shared, edited\n")],
        expect: Expect {
            required: &["tenfold"],
            forbidden: &["tenfold::ten", "golden", "cases", "envread", "plain"],
            reasons_mention: &[
                "fixtures/shared.txt was read at run time by tenfold::ten shared_a",
                "fixtures/shared.txt was read at run time by tenfold::ten shared_b",
            ],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "slow_recorded_directory_listing_selects_reader_of_new_file",
        base: Base::RuntimeReads,
        record: true,
        change: &[Write("fixtures/cases/two.case", "2\n")],
        expect: Expect {
            required: &["cases::cases"],
            forbidden: &["bin:cases", "golden", "envread", "plain"],
            reasons_mention: &["which cases::cases cases listed at run time"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "slow_recorded_env_provided_path_selects_its_reader",
        base: Base::RuntimeReads,
        record: true,
        change: &[Write("data/env-input.txt", "from env, edited\n")],
        expect: Expect {
            required: &["envread::env"],
            forbidden: &["bin:envread", "golden", "cases", "plain"],
            reasons_mention: &["data/env-input.txt was read at run time by envread::env"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "slow_unread_top_level_files_select_nothing_with_recording",
        base: Base::RuntimeReads,
        record: true,
        change: &[
            Append("notes/todo.txt", "more\n"),
            Write("scripts/deploy.sh", "echo deploy\n"),
        ],
        expect: Expect {
            forbidden: RUNTIME_MEMBERS,
            reasons_mention: &[
                "notes/todo.txt is outside every package, no rule or include explains it, and no test read it in the recording of",
                "(1 commit old) -> nothing",
                "scripts/deploy.sh",
            ],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "slow_nested_rust_toolchain_selects_nothing_with_recording",
        base: Base::RuntimeReadsNested,
        record: true,
        change: &[
            Write(
                "crates/plain/fuzz/rust-toolchain.toml",
                "[toolchain]\nchannel = \"nightly\"\n",
            ),
            Write(
                "tools/ci/rust-toolchain.toml",
                "[toolchain]\nchannel = \"nightly\"\n",
            ),
        ],
        expect: Expect {
            forbidden: RUNTIME_MEMBERS,
            reasons_mention: &[
                "crates/plain/fuzz/rust-toolchain.toml is outside every package, no rule or include explains it, and no test read it",
                "tools/ci/rust-toolchain.toml is outside every package",
            ],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "slow_nested_cargo_config_selects_nothing_with_recording",
        base: Base::RuntimeReadsNested,
        record: true,
        change: &[Write(
            "crates/plain/fuzz/.cargo/config.toml",
            "[build]\nrustflags = [\"-Dwarnings\"]\n",
        )],
        expect: Expect {
            forbidden: RUNTIME_MEMBERS,
            reasons_mention: &["crates/plain/fuzz/.cargo/config.toml is outside every package"],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "slow_excluded_workspace_file_selects_nothing_with_recording",
        base: Base::RuntimeReadsNested,
        record: true,
        change: &[Write(
            "crates/plain/fuzz/src/main.rs",
            "fn main() { println!(\"fuzz, edited\"); }\n",
        )],
        expect: Expect {
            forbidden: RUNTIME_MEMBERS,
            reasons_mention: &[
                "crates/plain/fuzz/src/main.rs is outside every package, no rule or include explains it, and no test read it",
            ],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
    Scenario {
        name: "slow_stale_recording_is_ignored_with_a_warning",
        base: Base::RuntimeReadsStale,
        record: true,
        change: &[Append("notes/todo.txt", "more\n")],
        expect: Expect {
            all: Some(true),
            required: RUNTIME_MEMBERS,
            stderr_mentions: &[
                "warning: ignoring the impact recording",
                "1 commits old, more than `recording-max-age = 0`",
            ],
            ..Expect::SOME
        },
        ..Scenario::DEFAULT
    },
];
