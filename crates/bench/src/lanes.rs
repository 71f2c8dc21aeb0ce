//! `cargo xtask bench lanes`: how long `cargo xtask lanes` takes right after the full test
//! command, in a clone of this repository: the first listing (nothing remembered), a second one
//! on the same tree, and one after each of two edits followed by the full test command's build
//! again: one outside the packages the default-feature lanes build, one inside them.
//!
//! The full test command (`cargo nextest run --workspace --all-features`) is run with
//! `--no-run`: what `lanes` finds after it is its build, which running the tests leaves as it
//! is, and the tests themselves would only add minutes to every row.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use support::{Exit, Failure};

use crate::cli::LanesArgs;

/// A file of a crate the default-feature lanes (`preflight`, `fast`, `homebrew`) do not build.
const OUTSIDE: &str = "crates/governance/src/lib.rs";
/// A file of a core crate every lane builds.
const INSIDE: &str = "crates/support/src/lib.rs";

/// One timed `cargo xtask lanes`.
struct Listing {
    situation: String,
    seconds: f64,
    counted: Vec<String>,
    remembered: Vec<String>,
}

pub fn run(args: &LanesArgs) -> Result<Exit, Failure> {
    let (engine, _) = crate::this_xtask()?;
    let source = crate::project_root();
    let dir = match &args.dir {
        Some(dir) => absolute(dir)?,
        None => std::env::temp_dir().join("lanes-bench"),
    };
    let clone = dir.join("clone");
    let target = match &args.target_dir {
        Some(dir) => absolute(dir)?,
        None => dir.join("target"),
    };
    crate::measure::clear_old_clone(&clone)?;
    std::fs::create_dir_all(&dir)
        .map_err(|e| Failure::environment(format!("cannot create {}: {e}", dir.display())))?;
    eprintln!(
        "cloning {} into {} (target directory {})",
        source.display(),
        clone.display(),
        target.display()
    );
    checked(
        Command::new("git")
            .args(["clone", "--quiet", "--no-hardlinks"])
            .arg(&source)
            .arg(&clone)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1"),
        "git clone",
    )?;
    // Counts remembered by an earlier run of this bench would make the first row a second one.
    let _ = std::fs::remove_file(target.join("xtask").join("lane-counts.json"));
    let bench = Bench {
        engine,
        clone,
        target,
    };
    let mut rows = Vec::new();
    let build = bench.full_build()?;
    eprintln!("the full test command's build took {build:.1} s");
    rows.push(bench.list("first listing after the full test command")?);
    rows.push(bench.list("again, nothing changed")?);
    for (file, situation) in [
        (OUTSIDE, "after an edit outside the default lanes' packages"),
        (INSIDE, "after an edit to a core crate"),
    ] {
        bench.edit(file)?;
        let build = bench.full_build()?;
        eprintln!("after editing {file}, the full test command's build took {build:.1} s");
        rows.push(bench.list(&format!("{situation} ({file})"))?);
    }
    let mut table = vec![vec![
        "situation".to_owned(),
        "seconds".to_owned(),
        "lanes counted".to_owned(),
        "lanes remembered".to_owned(),
    ]];
    for row in &rows {
        table.push(vec![
            row.situation.clone(),
            format!("{:.1}", row.seconds),
            names(&row.counted),
            names(&row.remembered),
        ]);
    }
    print!("{}", crate::aligned_table(&table));
    Ok(Exit::Success)
}

fn names(list: &[String]) -> String {
    if list.is_empty() {
        "-".to_owned()
    } else {
        list.join(", ")
    }
}

struct Bench {
    engine: PathBuf,
    clone: PathBuf,
    target: PathBuf,
}

impl Bench {
    /// A command in the clone, building into the bench's target directory, with nothing of
    /// the cargo or nextest run we may be inside of.
    fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        support::nested::isolate(&mut command);
        command
            .current_dir(&self.clone)
            .env("CARGO_TARGET_DIR", &self.target)
            .env("XTASK_WORKSPACE_ROOT", &self.clone);
        command
    }

    /// The full test command's build: its seconds.
    fn full_build(&self) -> Result<f64, Failure> {
        let started = Instant::now();
        checked(
            self.command(Path::new(&support::shell::cargo())).args([
                "nextest",
                "run",
                "--workspace",
                "--all-features",
                "--no-run",
            ]),
            "cargo nextest run --workspace --all-features --no-run",
        )?;
        Ok(started.elapsed().as_secs_f64())
    }

    fn edit(&self, file: &str) -> Result<(), Failure> {
        let path = self.clone.join(file);
        let mut text = std::fs::read_to_string(&path).map_err(|e| {
            Failure::environment(format!(
                "cannot read {}: {e} (the bench edits this file of the repository)",
                path.display()
            ))
        })?;
        text.push_str("\n// edited by `cargo xtask bench lanes`\n");
        std::fs::write(&path, text)
            .map_err(|e| Failure::environment(format!("cannot write {}: {e}", path.display())))
    }

    fn list(&self, situation: &str) -> Result<Listing, Failure> {
        let started = Instant::now();
        let output = self
            .command(&self.engine)
            .args(["lanes", "--format", "json"])
            .output()
            .map_err(|e| Failure::environment(format!("cannot run the xtask binary: {e}")))?;
        let seconds = started.elapsed().as_secs_f64();
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            return Err(Failure::check_failed(format!(
                "`cargo xtask lanes` failed in the clone:\n{}",
                stderr.trim_end()
            )));
        }
        let (counted, remembered) = lanes_of(&stderr);
        Ok(Listing {
            situation: situation.to_owned(),
            seconds,
            counted,
            remembered,
        })
    }
}

/// The lanes `cargo xtask lanes` says it counted (built) and those it remembered, from its
/// progress lines on stderr.
fn lanes_of(stderr: &str) -> (Vec<String>, Vec<String>) {
    let list = |text: &str| -> Vec<String> {
        text.split(", ")
            .map(|name| name.trim().to_owned())
            .collect()
    };
    let mut counted = Vec::new();
    let mut remembered = Vec::new();
    for line in stderr.lines() {
        if let Some(rest) = line.strip_prefix("building the tests of lanes ")
            && let Some((names, _)) = rest.split_once(" (")
        {
            counted.extend(list(names));
        } else if let Some(rest) = line.strip_prefix("counted before, ")
            && let Some((_, rest)) = rest.split_once(": ")
            && let Some((names, _)) = rest.rsplit_once(" (")
        {
            remembered.extend(list(names));
        }
    }
    (counted, remembered)
}

fn checked(command: &mut Command, what: &str) -> Result<(), Failure> {
    let status = command
        .status()
        .map_err(|e| Failure::environment(format!("cannot run `{what}`: {e}")))?;
    if !status.success() {
        return Err(Failure::environment(format!("`{what}` failed ({status})")));
    }
    Ok(())
}

fn absolute(path: &Path) -> Result<PathBuf, Failure> {
    std::path::absolute(path)
        .map_err(|e| Failure::invalid_input(format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counted_and_remembered_lanes_are_read_from_the_progress_lines() {
        let stderr = "counted before, and nothing their tests are built from changed: preflight, fast (/t/xtask/lane-counts.json)\n\
                      building the tests of lanes release, extended (1/2): cargo nextest list --workspace --all-features\n\
                      \x20   Finished `test` profile\n\
                      building the tests of lanes homebrew (2/2): cargo nextest list --package xtask\n";
        let (counted, remembered) = lanes_of(stderr);
        assert_eq!(counted, ["release", "extended", "homebrew"]);
        assert_eq!(remembered, ["preflight", "fast"]);
    }
}
