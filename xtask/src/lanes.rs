//! `cargo xtask lanes` and `cargo xtask lane NAME`: the front end of the `lanes-config`
//! library (lanes as data, resolved to a [`LaneSelection`] each): listing lanes with their test
//! counts (`lanes_config::counts`), and running one from source or a nextest archive,
//! partitioned (`lanes_config::run`).

use std::time::Instant;

use lanes_config::run::{self as lane_run, Source};
use lanes_config::{Features, LaneSelection, counts, load, nextest};
use support::{Exit, Failure};

use crate::cli::{LaneArgs, LanesArgs};

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
        counts::count_tests(&root, &lanes.selections, &lanes.workspace)?
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
    let partition = partition
        .as_deref()
        .map(lane_run::parse_partition)
        .transpose()?;
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
        lane_run::create_archive(&root, &lane, &archive)?;
        return Ok(Exit::Success);
    }
    let source = match archive_file {
        Some(file) => Source::Archive(lane_run::absolute(&file)),
        None => Source::Build,
    };
    let started = Instant::now();
    let outcome = lane_run::run_lane(&root, &lane, &source, partition.as_deref(), &passthrough);
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
