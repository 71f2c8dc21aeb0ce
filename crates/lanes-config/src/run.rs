//! Running a lane (`cargo xtask lane NAME`, and the release lane's exact tests): from source
//! or a nextest archive, one shard of it with a partition, after checking that the whole lane
//! selects tests; and building a lane's archive.

use std::path::{Path, PathBuf};

use support::Failure;
use support::shell::command_line;

use crate::LANES_FILE;
use crate::config::LaneSelection;
use crate::nextest;

/// Where the lane's test binaries come from.
pub enum Source {
    Build,
    Archive(PathBuf),
}

/// A shard `M/N` of a lane, as nextest's `count:M/N`.
pub fn parse_partition(value: &str) -> Result<String, Failure> {
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

/// `path` made absolute against the current directory (nextest runs elsewhere).
pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

pub fn create_archive(root: &Path, lane: &LaneSelection, archive: &Path) -> Result<(), Failure> {
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
    support::note!(
        "lane `{}`: archive written to {}",
        lane.name,
        archive.display()
    );
    Ok(())
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
    support::note!("building lane `{}`: {}", lane.name, command_line(words));
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
    support::note!("lane `{}`: {selected} tests selected{shard}", lane.name);
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

#[cfg(test)]
mod tests {
    use support::Exit;

    use super::*;

    #[test]
    fn a_partition_is_m_of_n_with_m_from_1_to_n() {
        assert_eq!(parse_partition("2/4").unwrap(), "count:2/4");
        assert_eq!(parse_partition("3/3").unwrap(), "count:3/3");
        for bad in ["0/3", "4/3", "x/3", "3", "1/x", "-1/3", ""] {
            let failure = parse_partition(bad).unwrap_err();
            assert_eq!(failure.exit, Exit::InvalidInput, "{bad}");
            assert!(
                failure.message.unwrap().ends_with(&format!("not `{bad}`")),
                "{bad}"
            );
        }
    }
}
