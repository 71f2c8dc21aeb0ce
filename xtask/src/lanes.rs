//! `cargo xtask lanes` and `cargo xtask lane NAME`: the front end of the `lanes-config`
//! library (lanes as data, resolved to a [`LaneSelection`] each): listing lanes with their test
//! counts, and running one from source or a nextest archive, partitioned.

use std::path::{Path, PathBuf};
use std::time::Instant;

use lanes_config::counts::{self, CountCache, Fingerprint};
use lanes_config::{Features, LANES_FILE, LaneSelection, Workspace, load};
use support::shell::command_line;
use support::{Exit, Failure};

use crate::cli::{LaneArgs, LanesArgs};
use lanes_config::nextest;

/// `cargo xtask lanes [--format json] [--no-count] [--no-install]`
pub fn list(args: &LanesArgs) -> Result<Exit, Failure> {
    let json = args.format.json();
    let count = !args.no_count;
    let no_install = args.install.no_install;
    let root = crate::project_root();
    let lanes = load(&root)?;
    if count {
        nextest::ensure(no_install)?;
    }
    let counts = if count {
        count_tests(&root, &lanes.selections, &lanes.workspace)?
    } else {
        vec![None; lanes.selections.len()]
    };
    let rows: Vec<(&LaneSelection, Option<usize>)> = lanes.selections.iter().zip(counts).collect();
    if json {
        use output_types::Shape;
        use output_types::lanes as out;
        let lanes = rows
            .iter()
            .map(|(lane, tests)| out::Lane {
                name: lane.name.clone(),
                description: lane.description.clone(),
                packages: lane.packages.clone(),
                features: match &lane.features {
                    Features::Default => out::Features::List(Vec::new()),
                    Features::All => out::Features::Named(out::FeatureSet::All),
                    Features::List(list) => out::Features::List(list.clone()),
                },
                profile: lane.profile.clone(),
                slow: lane.slow,
                allow_empty: lane.allow_empty,
                filterset: lane.filterset.clone(),
                tests: *tests,
            })
            .collect();
        let doc = out::Lanes {
            schema: out::Lanes::schema(),
            lanes,
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).expect("report shapes serialize")
        );
    } else {
        let width = rows
            .iter()
            .map(|(l, _)| l.name.len())
            .max()
            .unwrap_or(4)
            .max(4);
        println!(
            "{:width$}  {:>5}  {:8}  FILTERSET",
            "LANE", "TESTS", "PROFILE"
        );
        for (lane, tests) in &rows {
            let tests = tests.map_or("-".to_owned(), |n| n.to_string());
            println!(
                "{:width$}  {tests:>5}  {:8}  {}",
                lane.name, lane.profile, lane.filterset
            );
        }
        let empty: Vec<&str> = rows
            .iter()
            .filter(|(lane, tests)| *tests == Some(0) && !lane.allow_empty)
            .map(|(lane, _)| lane.name.as_str())
            .collect();
        if !empty.is_empty() {
            println!(
                "\nselecting zero tests (running them fails; `allow-empty = true` if expected): {}",
                empty.join(", ")
            );
        }
    }
    Ok(Exit::Success)
}

/// The number of tests each lane selects. A lane counted before on exactly this workspace,
/// toolchain and nextest (`lanes_config::counts`) is not counted again. The others are built as
/// few times as possible: lanes that build alike share one build, and every lane with all
/// features counts against the one `--workspace --all-features` build (what the full test run
/// builds). A package's tests depend only on its own features, which are all on either way, and
/// the lane's filterset names its packages, so the counts are the lane's own. Each lane's
/// filterset is then counted against its build's binaries without cargo.
fn count_tests(
    root: &Path,
    lanes: &[LaneSelection],
    workspace: &Workspace,
) -> Result<Vec<Option<usize>>, Failure> {
    let target_directory = &workspace.target_directory;
    let tools = [toolchain_version(root)?, nextest::version(root)?];
    let fingerprint = || {
        Fingerprint::of_workspace(root, target_directory, &tools).map_err(|e| {
            Failure::environment(format!(
                "cannot read the workspace's files to key the test counts: {e}"
            ))
        })
    };
    let before = fingerprint()?;
    let cache_path = counts::cache_path(target_directory);
    let mut cache = CountCache::load(&cache_path);
    let keys: Vec<String> = lanes.iter().map(|lane| before.key(lane)).collect();
    let mut counts: Vec<Option<usize>> = keys.iter().map(|key| cache.get(key)).collect();
    let remembered: Vec<&str> = lanes
        .iter()
        .zip(&counts)
        .filter(|(_, count)| count.is_some())
        .map(|(lane, _)| lane.name.as_str())
        .collect();
    if !remembered.is_empty() {
        eprintln!(
            "counted before on this exact workspace, toolchain and nextest: {} ({})",
            remembered.join(", "),
            cache_path.display()
        );
    }
    let mut builds: Vec<(Vec<String>, Vec<usize>)> = Vec::new();
    for (index, lane) in lanes.iter().enumerate() {
        if counts[index].is_some() {
            continue;
        }
        let args = counts::build_counted_in(lane, lanes, workspace);
        match builds.iter_mut().find(|(built, _)| *built == args) {
            Some((_, members)) => members.push(index),
            None => builds.push((args, vec![index])),
        }
    }
    if builds.is_empty() {
        return Ok(counts);
    }
    let scratch = std::env::temp_dir().join(format!("xtask-lanes-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)
        .map_err(|e| Failure::environment(format!("cannot create {}: {e}", scratch.display())))?;
    let counted = (|| -> Result<(), Failure> {
        for (number, (args, members)) in builds.iter().enumerate() {
            let names: Vec<&str> = members.iter().map(|&i| lanes[i].name.as_str()).collect();
            let words = ["cargo", "nextest", "list"]
                .into_iter()
                .chain(args.iter().map(String::as_str));
            eprintln!(
                "building the tests of lanes {} ({}/{}): {}",
                names.join(", "),
                number + 1,
                builds.len(),
                command_line(words)
            );
            let built = nextest::Built::new(root, args, &scratch, &number.to_string())?;
            for &index in members {
                counts[index] = Some(built.list(root, &lanes[index].filterset)?.len());
            }
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    counted?;
    // A build may write `Cargo.lock`, and files may be edited meanwhile: a count is remembered
    // only under the key of what it was counted on.
    if fingerprint()? != before {
        eprintln!(
            "the workspace changed while counting (Cargo.lock written?): counts not remembered"
        );
        return Ok(counts);
    }
    for (key, count) in keys.into_iter().zip(&counts) {
        if let Some(count) = count {
            cache.insert(key, *count);
        }
    }
    if let Err(e) = cache.save() {
        // The counts are right; the next run counts again.
        eprintln!(
            "warning: cannot remember the test counts in {}: {e}",
            cache_path.display()
        );
    }
    Ok(counts)
}

/// `rustc -vV` of the toolchain cargo uses in `root` (`$RUSTC`, else `rustc`, which rustup
/// resolves per directory).
fn toolchain_version(root: &Path) -> Result<String, Failure> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = std::process::Command::new(&rustc)
        .arg("-vV")
        .current_dir(root)
        .output()
        .map_err(|e| Failure::environment(format!("cannot run `rustc -vV`: {e}")))?;
    if !output.status.success() {
        return Err(Failure::environment(format!(
            "`rustc -vV` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim_end()
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// A shard `M/N` of a lane, as nextest's `count:M/N`.
fn parse_partition(value: &str) -> Result<String, Failure> {
    let bad = || {
        Failure::invalid_input(format!(
            "--partition takes M/N with 1 <= M <= N (e.g. 2/4), not `{value}`"
        ))
    };
    let (m, n) = value.split_once('/').ok_or_else(bad)?;
    let (m, n): (u32, u32) = (m.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
    if m == 0 || m > n {
        return Err(bad());
    }
    Ok(format!("count:{m}/{n}"))
}

/// Where the lane's test binaries come from.
pub enum Source {
    Build,
    Archive(PathBuf),
}

/// `cargo xtask lane NAME [--partition M/N] [--archive-file F | --create-archive F]
/// [--filter EXPR] [--no-install] [-- NEXTEST ARGS]`
pub fn run(args: LaneArgs) -> Result<Exit, Failure> {
    let LaneArgs {
        name,
        partition,
        archive_file,
        create_archive,
        filter: extra_filter,
        install,
        nextest_args: passthrough,
    } = args;
    let no_install = install.no_install;
    let partition = partition.as_deref().map(parse_partition).transpose()?;
    if let Some(flag) = passthrough.iter().find(|a| {
        matches!(a.as_str(), "-E" | "--filterset" | "--filter-expr") || a.starts_with("-E")
    }) {
        // nextest ORs repeated -E: passing one through would widen the lane, not narrow it.
        return Err(Failure::invalid_input(format!(
            "`{flag}` after `--` would be OR-ed with the lane's filterset; use `--filter EXPR`, which is and-ed with it"
        )));
    }
    if create_archive.is_some() && (archive_file.is_some() || partition.is_some()) {
        return Err(Failure::invalid_input(
            "--create-archive builds the archive and runs nothing: give --archive-file and --partition to the runs that use it",
        ));
    }
    let root = crate::project_root();
    let lanes = load(&root)?;
    let mut lane = lanes.get(&name)?.clone();
    if let Some(extra) = &extra_filter {
        lane.filterset = lane.and_filter(extra);
    }
    nextest::ensure(no_install)?;
    if let Some(archive) = create_archive {
        return create_lane_archive(&root, &lane, &archive);
    }
    let source = match archive_file {
        Some(file) => Source::Archive(absolute(&file)),
        None => Source::Build,
    };
    let started = Instant::now();
    let outcome = run_lane(&root, &lane, &source, partition.as_deref(), &passthrough);
    let seconds = started.elapsed().as_secs_f64();
    let verdict = match &outcome {
        Ok(_) => "passed",
        Err(_) => "failed",
    };
    let shard = partition
        .as_deref()
        .map(|p| format!(" (partition {p})"))
        .unwrap_or_default();
    let _ = crate::output::append_step_summary(&format!(
        "### Lane `{}`{shard}\n\n| tests selected | verdict | time |\n|---:|---|---:|\n| {} | {verdict} | {seconds:.1} s |\n",
        lane.name,
        outcome.as_ref().map_or("-".to_owned(), |n| n.to_string()),
    ));
    outcome.map(|_| Exit::Success)
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn create_lane_archive(root: &Path, lane: &LaneSelection, archive: &Path) -> Result<Exit, Failure> {
    let mut args = vec!["archive".to_owned()];
    args.extend(lane.build_args());
    args.extend([
        "--archive-file".to_owned(),
        absolute(archive).display().to_string(),
    ]);
    let status = nextest::run(root, &args)?;
    if !status.success() {
        return Err(nextest::failure(
            status,
            format!("building the archive for lane `{}`", lane.name),
        ));
    }
    eprintln!(
        "lane `{}`: archive written to {}",
        lane.name,
        archive.display()
    );
    Ok(Exit::Success)
}

/// Runs a lane (one shard of it with `partition`); returns how many tests the lane selects.
pub fn run_lane(
    root: &Path,
    lane: &LaneSelection,
    source: &Source,
    partition: Option<&str>,
    passthrough: &[String],
) -> Result<usize, Failure> {
    let source_args = match source {
        Source::Build => lane.build_args(),
        Source::Archive(file) => vec![
            "--archive-file".to_owned(),
            file.display().to_string(),
            "--workspace-remap".to_owned(),
            root.display().to_string(),
        ],
    };
    let filter_args = ["-E".to_owned(), lane.filterset.clone()];
    // Count the whole lane first (not the shard): an empty lane is an error of its own.
    let mut list_args = source_args.clone();
    list_args.extend(filter_args.iter().cloned());
    let words = ["cargo", "nextest", "list"]
        .into_iter()
        .chain(list_args.iter().map(String::as_str));
    eprintln!("building lane `{}`: {}", lane.name, command_line(words));
    let selected = nextest::list(root, &list_args)?.len();
    if selected == 0 && !lane.allow_empty {
        return Err(Failure::check_failed(format!(
            "lane `{}` selects zero tests (filterset: {}); fix its `packages`/`filter` in {LANES_FILE}, or set `allow-empty = true` if an empty lane is expected",
            lane.name, lane.filterset
        )));
    }
    let shard = partition
        .map(|p| format!(", partition {p}"))
        .unwrap_or_default();
    eprintln!("lane `{}`: {selected} tests selected{shard}", lane.name);
    let mut args = vec![
        "run".to_owned(),
        "--profile".to_owned(),
        lane.profile.clone(),
    ];
    args.extend(source_args);
    args.extend(filter_args);
    // Shards of a small lane may be empty; emptiness of the lane itself was checked above.
    args.extend(["--no-tests".to_owned(), "pass".to_owned()]);
    if let Some(partition) = partition {
        args.extend(["--partition".to_owned(), partition.to_owned()]);
    }
    args.extend(passthrough.iter().cloned());
    let status = nextest::run(root, &args)?;
    if !status.success() {
        return Err(nextest::failure(status, format!("lane `{}`", lane.name)));
    }
    Ok(selected)
}
