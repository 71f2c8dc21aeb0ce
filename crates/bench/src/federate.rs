//! `cargo xtask bench federate`: federation on the largest provider run manifest accepted
//! (just under `release::provider::MAX_BYTES`), and on one just over it, timed with peak
//! memory. The real xtask federate runs as a child process on a generated workspace.
//!
//! Rows: the manifest at the limit judged with the human table and with the JSON report
//! (`--dry-run`), and the manifest over the limit (refused before it is read, exit 2).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use support::{Exit, Failure};
use xshell::{Shell, cmd};

use crate::measure::{GNU_TIME, peak_mib};

struct Row {
    case: String,
    bytes: u64,
    artifacts: usize,
    exit: i32,
    seconds: f64,
    peak_mib: Option<f64>,
}

pub fn run() -> Result<Exit, Failure> {
    let (engine, profile) = crate::this_xtask()?;
    let scratch = crate::measure::default_scratch_parent()
        .join(format!("bench-federate-{}", std::process::id()));
    let result = bench_in(&engine, profile, &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

fn bench_in(engine: &Path, profile: &str, root: &Path) -> Result<Exit, Failure> {
    let providers = root.join("manifests/providers");
    std::fs::create_dir_all(&providers)
        .map_err(|e| Failure::environment(format!("cannot write the workspace: {e}")))?;
    let repo = crate::project_root();
    for file in ["providers/gcp.json", "providers/aws.json", "gates.toml"] {
        std::fs::copy(
            repo.join("manifests").join(file),
            root.join("manifests").join(file),
        )
        .map_err(|e| Failure::environment(format!("cannot copy {file}: {e}")))?;
    }
    let limit = release::provider::MAX_BYTES;
    let (at_limit, artifacts) = manifest_up_to(limit);
    let mut rows = Vec::new();
    let write = |text: &str| {
        std::fs::write(providers.join("hf.json"), text)
            .map_err(|e| Failure::environment(format!("cannot write hf.json: {e}")))
    };
    write(&at_limit)?;
    for (case, format) in [
        ("at the limit, table", "human"),
        ("at the limit, JSON", "json"),
    ] {
        rows.push(time_federate(
            engine,
            root,
            case,
            format,
            at_limit.len(),
            artifacts,
        )?);
    }
    let mut over = at_limit;
    over.push_str(&" ".repeat((limit as usize + 1).saturating_sub(over.len())));
    write(&over)?;
    rows.push(time_federate(
        engine,
        root,
        "over the limit",
        "human",
        over.len(),
        artifacts,
    )?);

    let mut table = format!(
        "federate on a provider manifest at its size limit ({limit} bytes), xtask {profile} build\n\
         {:<22} {:>10} {:>9} {:>5} {:>9} {:>10}\n",
        "case", "bytes", "artifacts", "exit", "seconds", "peak MiB"
    );
    for row in &rows {
        let _ = writeln!(
            table,
            "{:<22} {:>10} {:>9} {:>5} {:>9.2} {:>10}",
            row.case,
            row.bytes,
            row.artifacts,
            row.exit,
            row.seconds,
            row.peak_mib.map_or("-".to_owned(), |m| format!("{m:.0}"))
        );
    }
    print!("{table}");
    let expected = [0, 0, 2];
    if rows.iter().map(|r| r.exit).ne(expected) {
        return Err(Failure::check_failed(
            "federate did not accept the manifest at the limit and refuse the one over it",
        ));
    }
    Ok(Exit::Success)
}

/// A valid hf run manifest (compact JSON) with as many artifacts as fit in `limit` bytes.
fn manifest_up_to(limit: u64) -> (String, usize) {
    let mut text = String::from("{\"provider\":\"hf\",\"artifacts\":[");
    let mut count = 0;
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % 1000
    };
    loop {
        let entry = format!(
            "{}{{\"id\":\"spiralverse/textgen-lora-v{count}\",\"role\":\"textgen\",\
             \"uri\":\"hf://spiralverse/textgen-lora-v{count}\",\"metrics\":{{\"quality\":0.{:03},\
             \"safety\":0.9{:03},\"latency_ms_p95\":{},\"cost_per_1k_tokens\":1.{:03}}}}}",
            if count == 0 { "" } else { "," },
            700 + next() % 300,
            next(),
            50 + next() % 250,
            next()
        );
        if (text.len() + entry.len() + 2) as u64 > limit {
            break;
        }
        text.push_str(&entry);
        count += 1;
    }
    text.push_str("]}");
    (text, count)
}

fn time_federate(
    engine: &Path,
    root: &Path,
    case: &str,
    format: &str,
    bytes: usize,
    artifacts: usize,
) -> Result<Row, Failure> {
    let sh = Shell::new().map_err(|e| Failure::environment(e.to_string()))?;
    let measure_memory = Path::new(GNU_TIME).exists();
    let args = ["federate", "--dry-run", "--format", format];
    let command = if measure_memory {
        cmd!(sh, "{GNU_TIME} -v {engine} {args...}")
    } else {
        cmd!(sh, "{engine} {args...}")
    };
    let started = Instant::now();
    let output = command
        .env("XTASK_WORKSPACE_ROOT", root)
        .env("SOURCE_DATE_EPOCH", "1795478400")
        .env("NO_COLOR", "1")
        .quiet()
        .ignore_status()
        .ignore_stdout()
        .output()
        .map_err(|e| Failure::environment(format!("cannot run xtask federate: {e}")))?;
    let seconds = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    Ok(Row {
        case: case.to_owned(),
        bytes: bytes as u64,
        artifacts,
        exit: output.status.code().unwrap_or(-1),
        seconds,
        peak_mib: peak_mib(&stderr),
    })
}
