//! The append-only, hash-chained install history (`history.jsonl`): the node's authority on
//! what was installed.
//!
//! One JSON object per line. Each entry carries `prev`, the `sha256:` of the previous line's
//! exact bytes (null for the first), so editing, dropping or reordering any line breaks the
//! chain. An entry also records what the release's directory must hold: the identity of every
//! unit's artifact (which is how anti-rollback of artifacts is judged after the directory is
//! pruned), and the digests of `verification.json` and of the signature envelope, so nothing a
//! node serves from that directory escapes the chain.
//!
//! The store's `current.json` holds a copy of the last line. Committing an install replaces
//! `current.json` first and appends the line second, so the file is either complete or exactly
//! one line behind `current.json` (a crash between the two; the next install appends it). It is
//! never ahead: a line that `current.json` does not know about means `current.json` is older
//! than the history, which the store reports as corrupt.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use release::canonical::sha256_digest as digest_bytes;
use release::manifest::Unit;

pub const HISTORY_SCHEMA: &str = "node-history/v2";

/// Longest history line accepted (a line holds one install's identities, about 1.5 KiB).
pub const MAX_LINE_BYTES: usize = 64 << 10;
/// Largest `history.jsonl` accepted: about 100,000 installs.
pub const MAX_HISTORY_BYTES: u64 = 256 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryEntry {
    pub schema: String,
    /// 0-based position in the history.
    pub index: u64,
    /// `sha256:` of the previous line, null for the first entry.
    pub prev: Option<String>,
    pub action: Action,
    pub release_seq: u64,
    pub digest: String,
    /// For a rollback: the digest of the release whose units it restores.
    pub rollback_of: Option<String>,
    /// Key id that signed the release, when a signature was verified.
    pub signed_by: Option<String>,
    pub who: Who,
    /// RFC 3339, UTC; `SOURCE_DATE_EPOCH` when set.
    pub when: String,
    /// The artifact of every unit, by provider.
    pub units: BTreeMap<String, UnitRef>,
    /// `sha256:` of the release directory's `verification.json`.
    pub record: String,
    /// `sha256:` of the release directory's `signature`, when one came with the release.
    pub signature: Option<String>,
    /// The signed statements (provenance, test result) ingest verified for this release.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statements: Vec<crate::record::StatementRecord>,
}

/// Which artifact a unit is: two units are the same artifact when all four agree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitRef {
    pub id: String,
    pub uri: Option<String>,
    pub digest: Option<String>,
    pub size: Option<u64>,
}

impl UnitRef {
    pub fn of(unit: &Unit) -> UnitRef {
        UnitRef {
            id: unit.id.clone(),
            uri: unit.uri.clone(),
            digest: unit.digest.clone(),
            size: unit.size,
        }
    }

    /// The URI, or the id when the unit has none: how messages name the artifact.
    pub fn name(&self) -> &str {
        self.uri.as_deref().unwrap_or(&self.id)
    }
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
#[serde(deny_unknown_fields)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLine {
    pub text: String,
    pub hash: String,
}

impl StoredLine {
    pub fn new(text: String) -> StoredLine {
        let hash = digest_bytes(text.as_bytes());
        StoredLine { text, hash }
    }
}

/// `history.jsonl` as found on disk.
#[derive(Debug, Clone, Default)]
pub struct HistoryFile {
    /// Every complete (newline-terminated) line.
    pub lines: Vec<StoredLine>,
    /// Bytes those lines take, newlines included.
    pub complete_bytes: u64,
    /// True when bytes follow the last newline: an append cut short by a crash.
    pub partial_tail: bool,
}

/// Reads the history (a missing file is an empty history). A file or a line over its limit
/// ([`MAX_HISTORY_BYTES`], [`MAX_LINE_BYTES`]) is an error, never read whole into memory.
pub fn read(path: &Path) -> Result<HistoryFile, String> {
    let file = match fs::File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(HistoryFile::default()),
        Err(err) => return Err(format!("{}: {err}", path.display())),
    };
    let mut bytes = Vec::new();
    file.take(MAX_HISTORY_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| format!("{}: {err}", path.display()))?;
    if bytes.len() as u64 > MAX_HISTORY_BYTES {
        return Err(format!(
            "{} is larger than {} MiB, the most this build reads",
            path.display(),
            MAX_HISTORY_BYTES >> 20
        ));
    }
    let mut history = HistoryFile::default();
    let mut rest = &bytes[..];
    while let Some(end) = rest.iter().position(|&b| b == b'\n') {
        let number = history.lines.len() + 1;
        if end > MAX_LINE_BYTES {
            return Err(format!(
                "{} line {number} is {end} bytes, over the {MAX_LINE_BYTES}-byte limit",
                path.display()
            ));
        }
        let text = std::str::from_utf8(&rest[..end])
            .map_err(|err| format!("{} line {number}: not UTF-8 ({err})", path.display()))?;
        history.lines.push(StoredLine::new(text.to_owned()));
        history.complete_bytes += end as u64 + 1;
        rest = &rest[end + 1..];
    }
    history.partial_tail = !rest.is_empty();
    Ok(history)
}

/// Parses line `index` (0-based) and checks its place in the chain: the index counts up and
/// `prev` names the line before.
pub fn parse_line(
    line: &StoredLine,
    index: usize,
    prev: Option<&str>,
) -> Result<HistoryEntry, String> {
    let number = index + 1;
    let entry: HistoryEntry = support::json::parse(Path::new("history.jsonl"), &line.text)
        .map_err(|err| match err.line_col {
            Some((_, col)) => format!("history.jsonl:{number}:{col}: {}", err.message),
            None => format!("history.jsonl line {number}: {}", err.message),
        })?;
    if entry.schema != HISTORY_SCHEMA {
        return Err(format!(
            "history.jsonl line {number}: schema is `{}`, this build reads `{HISTORY_SCHEMA}`",
            entry.schema
        ));
    }
    if entry.index != index as u64 {
        return Err(format!(
            "history.jsonl line {number}: index is {}, expected {index}",
            entry.index
        ));
    }
    if entry.prev.as_deref() != prev {
        return Err(format!(
            "history.jsonl line {number}: chain broken (prev is {}, the line before hashes to {})",
            entry.prev.as_deref().unwrap_or("null"),
            prev.unwrap_or("null (first entry)")
        ));
    }
    Ok(entry)
}

/// Parses and chains every line.
pub fn verify_chain(lines: &[StoredLine]) -> Result<Vec<HistoryEntry>, String> {
    let mut entries = Vec::with_capacity(lines.len());
    let mut prev: Option<&str> = None;
    for (index, line) in lines.iter().enumerate() {
        entries.push(parse_line(line, index, prev)?);
        prev = Some(&line.hash);
    }
    Ok(entries)
}

/// Serializes `entry` as one line (no newline) and returns it with its hash.
pub fn encode(entry: &HistoryEntry) -> StoredLine {
    StoredLine::new(serde_json::to_string(entry).expect("history entries always serialize"))
}

/// Appends one line after the first `complete_bytes` bytes (dropping a tail an interrupted
/// append left) and flushes it to disk.
pub fn append(path: &Path, complete_bytes: u64, line: &StoredLine) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    if file.metadata()?.len() != complete_bytes {
        file.set_len(complete_bytes)?;
    }
    let mut bytes = Vec::with_capacity(line.text.len() + 1);
    bytes.extend_from_slice(line.text.as_bytes());
    bytes.push(b'\n');
    use std::io::Seek;
    file.seek(io::SeekFrom::Start(complete_bytes))?;
    file.write_all(&bytes)?;
    file.sync_data()
}
