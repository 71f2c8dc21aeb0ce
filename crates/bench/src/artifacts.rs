//! `cargo xtask bench artifacts`: artifact verification throughput of `node::hash` against
//! `sha256sum` on the same files in the same run, for one large file and for several files
//! hashed in parallel.
//!
//! Files are generated (incompressible pseudo-random bytes) in a scratch directory, read once
//! so every measurement starts from a warm page cache, and removed afterwards. Each case runs
//! `--runs` times and the fastest run is reported. Run it optimized:
//! `cargo run --release -p xtask -- bench artifacts`.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::{Exit, Failure};
use xshell::{Shell, cmd};

use crate::cli::{ArtifactsArgs as Args, Format};

const MIB: u64 = 1 << 20;

pub(super) struct Row {
    pub case: String,
    pub files: usize,
    pub bytes: u64,
    pub best: Duration,
}

impl Row {
    pub fn mib_per_s(&self) -> f64 {
        self.bytes as f64 / MIB as f64 / self.best.as_secs_f64()
    }
}

pub fn run(args: &Args) -> Result<Exit, Failure> {
    let rows = measure_in_scratch(args)?;
    report(args, &rows, args.format == Format::Json);
    Ok(Exit::Success)
}

/// Generates the files in a scratch directory, measures every case, removes the files.
/// The rows come in order: ours then `sha256sum` on the single file, then ours (one thread,
/// then several when there are several cores) and `sha256sum` (one process, then one per
/// file) on the several files.
pub(super) fn measure_in_scratch(args: &Args) -> Result<Vec<Row>, Failure> {
    let sh = Shell::new().map_err(|e| Failure::environment(e.to_string()))?;
    if cmd!(sh, "sha256sum --version").quiet().read().is_err() {
        return Err(Failure::environment(
            "`sha256sum` (coreutils) is not on PATH; it is the baseline this benchmark compares with",
        ));
    }
    let scratch = args
        .dir
        .clone()
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("xtask-bench-artifacts-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|e| env_error(&scratch, e))?;
    let result = measure(&sh, args, &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

fn measure(sh: &Shell, args: &Args, scratch: &Path) -> Result<Vec<Row>, Failure> {
    let jobs = node::hash::effective_jobs(args.jobs);
    eprintln!(
        "generating {} MiB + {} x {} MiB in {}",
        args.size_mib,
        args.files,
        args.file_size_mib,
        scratch.display()
    );
    let big = scratch.join("large.bin");
    generate(&big, args.size_mib * MIB, 1)?;
    let small: Vec<PathBuf> = (0..args.files)
        .map(|i| scratch.join(format!("part-{i}.bin")))
        .collect();
    for (i, path) in small.iter().enumerate() {
        generate(path, args.file_size_mib * MIB, i as u64 + 2)?;
    }
    for path in std::iter::once(&big).chain(&small) {
        warm_cache(path)?;
    }
    let small_bytes = args.files as u64 * args.file_size_mib * MIB;
    let mut rows = Vec::new();

    // One large file.
    let mut ours = String::new();
    rows.push(best_of(
        args.runs,
        "node::hash::hash_file",
        1,
        args.size_mib * MIB,
        || {
            ours = node::hash::hash_file(&big, None)
                .map_err(|e| env_error(&big, e))?
                .digest;
            Ok(())
        },
    )?);
    let mut theirs = String::new();
    rows.push(best_of(
        args.runs,
        "sha256sum",
        1,
        args.size_mib * MIB,
        || {
            theirs = cmd!(sh, "sha256sum {big}")
                .quiet()
                .read()
                .map_err(|e| Failure::environment(e.to_string()))?;
            Ok(())
        },
    )?);
    // Same answer, or the comparison means nothing.
    let theirs = format!("sha256:{}", theirs.split_whitespace().next().unwrap_or(""));
    if ours != theirs {
        return Err(Failure::check_failed(format!(
            "node::hash and sha256sum disagree on {}: {ours} vs {theirs}",
            big.display()
        )));
    }

    // Several files.
    for threads in [1, jobs] {
        let case = format!("node::hash::hash_files, {threads} thread(s)");
        rows.push(best_of(args.runs, &case, args.files, small_bytes, || {
            for result in node::hash::hash_files(&small, threads, None) {
                result.map_err(|e| Failure::environment(e.to_string()))?;
            }
            Ok(())
        })?);
        if jobs == 1 {
            break;
        }
    }
    rows.push(best_of(
        args.runs,
        "sha256sum, one process",
        args.files,
        small_bytes,
        || {
            let files = &small;
            cmd!(sh, "sha256sum {files...}")
                .quiet()
                .read()
                .map_err(|e| Failure::environment(e.to_string()))?;
            Ok(())
        },
    )?);
    let case = format!("sha256sum, {} processes at once", args.files);
    rows.push(best_of(args.runs, &case, args.files, small_bytes, || {
        std::thread::scope(|scope| {
            let running: Vec<_> = small
                .iter()
                .map(|path| {
                    scope.spawn(move || {
                        // A shell per thread: `Shell` keeps its state in a RefCell.
                        let sh = Shell::new()?;
                        cmd!(sh, "sha256sum {path}").quiet().read()
                    })
                })
                .collect();
            for handle in running {
                handle
                    .join()
                    .expect("sha256sum thread panicked")
                    .map_err(|e| Failure::environment(e.to_string()))?;
            }
            Ok(())
        })
    })?);
    Ok(rows)
}

fn best_of(
    runs: usize,
    case: &str,
    files: usize,
    bytes: u64,
    mut body: impl FnMut() -> Result<(), Failure>,
) -> Result<Row, Failure> {
    let mut best = Duration::MAX;
    for _ in 0..runs {
        let start = Instant::now();
        body()?;
        best = best.min(start.elapsed());
    }
    eprintln!("  {case}: {:.2} s", best.as_secs_f64());
    Ok(Row {
        case: case.to_owned(),
        files,
        bytes,
        best,
    })
}

/// Incompressible, reproducible bytes (xorshift64), written in 1 MiB blocks.
fn generate(path: &Path, size: u64, seed: u64) -> Result<(), Failure> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ seed.wrapping_mul(0xD1B5_4A32_D192_ED03);
    let mut out = BufWriter::new(File::create(path).map_err(|e| env_error(path, e))?);
    let mut block = vec![0u8; MIB as usize];
    let mut left = size;
    while left > 0 {
        for chunk in block.chunks_exact_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_le_bytes());
        }
        let n = left.min(MIB) as usize;
        out.write_all(&block[..n]).map_err(|e| env_error(path, e))?;
        left -= n as u64;
    }
    out.flush().map_err(|e| env_error(path, e))
}

fn warm_cache(path: &Path) -> Result<(), Failure> {
    let mut file = File::open(path).map_err(|e| env_error(path, e))?;
    let mut block = vec![0u8; MIB as usize];
    while file.read(&mut block).map_err(|e| env_error(path, e))? > 0 {}
    Ok(())
}

/// Peak resident memory of this process (Linux `VmHWM`), to show hashing stays bounded.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn report(args: &Args, rows: &[Row], json: bool) {
    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let cores = node::hash::effective_jobs(0);
    let peak = peak_rss_kib();
    if json {
        use output_types::Shape;
        use output_types::bench::{ArtifactsRow, BenchArtifacts};
        let value = BenchArtifacts {
            schema: BenchArtifacts::schema(),
            build: build.to_owned(),
            cores,
            runs: args.runs,
            buffer_bytes: node::hash::BUFFER_SIZE,
            peak_rss_kib: peak,
            rows: rows
                .iter()
                .map(|r| ArtifactsRow {
                    case: r.case.clone(),
                    files: r.files,
                    bytes: r.bytes,
                    seconds: r.best.as_secs_f64(),
                    mib_per_s: r.mib_per_s(),
                })
                .collect(),
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&value).expect("report shapes serialize")
        );
        return;
    }
    println!(
        "artifact hashing: {build} build, {cores} core(s), best of {} run(s), page cache warm, \
         {} KiB read buffer per thread",
        args.runs,
        node::hash::BUFFER_SIZE / 1024
    );
    if build == "debug" {
        println!(
            "note: dev build (only sha2 is optimized, by [profile.dev.package.sha2]); figures of \
             record come from `cargo run --release -p xtask -- bench artifacts`"
        );
    }
    println!(
        "{:<44} {:>5} {:>10} {:>9} {:>11}",
        "case", "files", "MiB", "seconds", "MiB/s"
    );
    for row in rows {
        println!(
            "{:<44} {:>5} {:>10} {:>9.3} {:>11.1}",
            row.case,
            row.files,
            row.bytes / MIB,
            row.best.as_secs_f64(),
            row.mib_per_s()
        );
    }
    if let Some(kib) = peak {
        println!(
            "peak resident memory of this process: {:.1} MiB",
            kib as f64 / 1024.0
        );
    }
}

fn env_error(path: &Path, err: std::io::Error) -> Failure {
    Failure::environment(format!("{}: {err}", path.display()))
}
