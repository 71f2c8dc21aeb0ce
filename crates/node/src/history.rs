//! The append-only, hash-chained install history (`history.jsonl`).
//!
//! One JSON object per line. Each entry carries `prev`, the `sha256:` of the previous line's
//! exact bytes (null for the first), so editing, dropping or reordering any committed line breaks
//! the chain. The store's `current.json` records how many lines are committed and the hash of the
//! last one: lines after that are the tail of an ingest that crashed before its commit point, and
//! are ignored by readers and dropped by the next ingest.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use release::canonical::sha256_digest as digest_bytes;

pub const HISTORY_SCHEMA: &str = "node-history/v1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub schema: String,
    /// 0-based position in the history.
    pub index: u64,
    /// `sha256:` of the previous line, null for the first entry.
    pub prev: Option<String>,
    pub action: Action,
    pub release_seq: u64,
    pub digest: String,
    /// For a rollback: the digest of the release it rolled back.
    pub rollback_of: Option<String>,
    /// Key id that signed the release, when a signature was verified.
    pub signed_by: Option<String>,
    pub who: Who,
    /// RFC 3339, UTC; `SOURCE_DATE_EPOCH` when set.
    pub when: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Install,
    Rollback,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Install => "install",
            Action::Rollback => "rollback",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Who {
    pub user: String,
    pub host: String,
}

impl Who {
    /// `$USER` (or `$LOGNAME`) at `$HOSTNAME` (or `/etc/hostname`), `unknown` when absent.
    pub fn from_env() -> Who {
        let env = |names: &[&str]| {
            names
                .iter()
                .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
        };
        let host = env(&["HOSTNAME"]).or_else(|| {
            fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
        });
        Who {
            user: env(&["USER", "LOGNAME"]).unwrap_or_else(|| "unknown".into()),
            host: host.unwrap_or_else(|| "unknown".into()),
        }
    }
}

/// One line as stored, with the hash the next line must name.
#[derive(Debug, Clone)]
pub struct StoredLine {
    pub text: String,
    pub hash: String,
}

/// Every complete line of the file (a missing file is an empty history).
pub fn read_lines(path: &Path) -> io::Result<Vec<StoredLine>> {
    let text = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err),
    };
    let text = String::from_utf8_lossy(&text);
    // A line without its newline was cut short by a crash: it is not a line yet.
    Ok(text
        .split_inclusive('\n')
        .filter_map(|line| line.strip_suffix('\n'))
        .map(|line| StoredLine {
            text: line.to_owned(),
            hash: digest_bytes(line.as_bytes()),
        })
        .collect())
}

/// Parses and checks the first `committed` lines: each names its predecessor, indexes count up,
/// and the last one hashes to `head`.
pub fn verify_chain(
    lines: &[StoredLine],
    committed: usize,
    head: Option<&str>,
) -> Result<Vec<HistoryEntry>, String> {
    if lines.len() < committed {
        return Err(format!(
            "history.jsonl has {} complete lines but {committed} are committed",
            lines.len()
        ));
    }
    let mut entries = Vec::with_capacity(committed);
    let mut prev: Option<&str> = None;
    for (index, line) in lines[..committed].iter().enumerate() {
        let entry: HistoryEntry = serde_json::from_str(&line.text)
            .map_err(|err| format!("history.jsonl line {}: {err}", index + 1))?;
        if entry.index != index as u64 {
            return Err(format!(
                "history.jsonl line {}: index is {}, expected {index}",
                index + 1,
                entry.index
            ));
        }
        if entry.prev.as_deref() != prev {
            return Err(format!(
                "history.jsonl line {}: chain broken (prev is {}, the line before hashes to {})",
                index + 1,
                entry.prev.as_deref().unwrap_or("null"),
                prev.unwrap_or("null (first entry)")
            ));
        }
        prev = Some(&line.hash);
        entries.push(entry);
    }
    if prev != head {
        return Err(format!(
            "history.jsonl: the last committed line hashes to {} but current.json records {}",
            prev.unwrap_or("null"),
            head.unwrap_or("null")
        ));
    }
    Ok(entries)
}

/// Serializes `entry` as one line (no newline) and returns it with its hash.
pub fn encode(entry: &HistoryEntry) -> StoredLine {
    let text = serde_json::to_string(entry).expect("history entries always serialize");
    let hash = digest_bytes(text.as_bytes());
    StoredLine { text, hash }
}

/// Appends one line and flushes it to disk.
pub fn append(path: &Path, line: &StoredLine) -> io::Result<()> {
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    let mut bytes = Vec::with_capacity(line.text.len() + 1);
    bytes.extend_from_slice(line.text.as_bytes());
    bytes.push(b'\n');
    file.write_all(&bytes)?;
    file.sync_data()
}

/// Bytes the first `committed` lines take on disk, newlines included.
pub fn committed_len(lines: &[StoredLine], committed: usize) -> u64 {
    lines[..committed]
        .iter()
        .map(|line| line.text.len() as u64 + 1)
        .sum()
}

/// Drops an uncommitted tail (lines after `committed`), atomically.
pub fn truncate(path: &Path, lines: &[StoredLine], committed: usize) -> io::Result<()> {
    let mut text = String::new();
    for line in &lines[..committed] {
        text.push_str(&line.text);
        text.push('\n');
    }
    support::atomic::write_atomic(path, text.as_bytes())
}
