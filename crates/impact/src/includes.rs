//! Files a package reads at compile time: `include_str!`, `include_bytes!`, `include!` and
//! `#[path = ".."]` with literal paths, build-script `cargo:rerun-if-changed=` literals, and
//! rustc dep-info (`target/*/deps/*.d`) when a build exists.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// How a file refers to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeKind {
    /// `include_str!`, `include_bytes!`, `include!`: relative to the including file.
    Macro,
    /// `#[path = ".."]`: relative to the including file's directory.
    PathAttr,
    /// `cargo:rerun-if-changed=`: relative to the package root; may name a directory.
    RerunIfChanged,
}

impl IncludeKind {
    pub fn describe(self) -> &'static str {
        match self {
            IncludeKind::Macro => "included by",
            IncludeKind::PathAttr => "is a #[path] module of",
            IncludeKind::RerunIfChanged => "is a build-script input (rerun-if-changed) of",
        }
    }
}

/// Literal paths referred to in Rust source `text`.
pub fn scan(text: &str) -> Vec<(IncludeKind, String)> {
    let mut found = Vec::new();
    for (needle, kind) in [
        ("include_str!", IncludeKind::Macro),
        ("include_bytes!", IncludeKind::Macro),
        ("include!", IncludeKind::Macro),
    ] {
        for (at, _) in text.match_indices(needle) {
            // `include!` also matches the tail of `include_str!`-like names only if preceded by
            // an identifier character; skip those.
            if at > 0
                && text[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
            {
                continue;
            }
            let rest = text[at + needle.len()..].trim_start();
            let Some(rest) = rest.strip_prefix(['(', '[', '{']) else {
                continue;
            };
            if let Some(literal) = string_literal(rest.trim_start()) {
                found.push((kind, literal));
            }
        }
    }
    for (at, _) in text.match_indices("#[path") {
        let rest = text[at + "#[path".len()..].trim_start();
        let Some(rest) = rest.strip_prefix('=') else {
            continue;
        };
        if let Some(literal) = string_literal(rest.trim_start()) {
            found.push((IncludeKind::PathAttr, literal));
        }
    }
    for (at, _) in text.match_indices("rerun-if-changed=") {
        let rest = &text[at + "rerun-if-changed=".len()..];
        let end = rest.find(['"', '\n']).unwrap_or(rest.len());
        let literal = &rest[..end];
        // Formatted paths (`{}`) are not literals; dep-info covers what they name.
        if !literal.is_empty() && !literal.contains('{') && !literal.contains('\\') {
            found.push((IncludeKind::RerunIfChanged, literal.to_owned()));
        }
    }
    found
}

/// The contents of a plain or raw string literal at the start of `text`.
fn string_literal(text: &str) -> Option<String> {
    if let Some(raw) = text.strip_prefix('r') {
        let hashes = raw.chars().take_while(|&c| c == '#').count();
        let body = raw[hashes..].strip_prefix('"')?;
        let close = format!("\"{}", "#".repeat(hashes));
        let end = body.find(&close)?;
        return Some(body[..end].to_owned());
    }
    let body = text.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                '\\' => out.push('\\'),
                '"' => out.push('"'),
                '\'' => out.push('\''),
                '\n' => {
                    // Line continuation: skip leading whitespace of the next line.
                    let rest: String = chars.by_ref().skip_while(|c| c.is_whitespace()).collect();
                    out.push_str(rest.split('"').next()?);
                    return Some(out);
                }
                _ => return None,
            },
            other => out.push(other),
        }
    }
    None
}

/// Parses a rustc dep-info (`.d`) file: the inputs of its first rule, unescaped.
pub fn dep_info_inputs(text: &str) -> Vec<String> {
    let Some(first) = text
        .lines()
        .find(|l| !l.trim().is_empty() && !l.starts_with('#'))
    else {
        return Vec::new();
    };
    // Output paths end at the first unescaped ": ".
    let mut inputs = Vec::new();
    let mut current = String::new();
    let mut chars = first.chars().peekable();
    let mut in_inputs = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&' ') => {
                current.push(' ');
                chars.next();
            }
            ':' if !in_inputs && chars.peek().is_none_or(|c| *c == ' ') => {
                in_inputs = true;
                current.clear();
            }
            ' ' => {
                if in_inputs && !current.is_empty() {
                    inputs.push(std::mem::take(&mut current));
                }
                current.clear();
            }
            other => current.push(other),
        }
    }
    if in_inputs && !current.is_empty() {
        inputs.push(current);
    }
    inputs
}

/// Every `.d` file under `target/*/deps` and `target/*/*/deps`, grouped by crate name
/// (the file stem without its `-hash` suffix), keeping only names `wanted` accepts.
pub fn dep_info_files(
    target_dir: &Path,
    wanted: &dyn Fn(&str) -> bool,
) -> HashMap<String, Vec<std::path::PathBuf>> {
    let mut by_crate: HashMap<String, Vec<std::path::PathBuf>> = HashMap::new();
    let mut deps_dirs = Vec::new();
    for profile in read_dirs(target_dir) {
        deps_dirs.push(profile.join("deps"));
        for nested in read_dirs(&profile) {
            deps_dirs.push(nested.join("deps"));
        }
    }
    for dir in deps_dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "d") {
                continue;
            }
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            let name = stem.rsplit_once('-').map_or(stem, |(name, _)| name);
            if wanted(name) {
                by_crate.entry(name.to_owned()).or_default().push(path);
            }
        }
    }
    by_crate
}

/// For each crate whose dep-info lists a workspace file `is_changed` accepts: those files,
/// workspace-relative. Only `.d` files of crates `wanted` accepts are read.
pub fn dep_info_hits(
    target_dir: &Path,
    workspace_root: &Path,
    wanted: &dyn Fn(&str) -> bool,
    is_changed: &dyn Fn(&str) -> bool,
) -> BTreeMap<String, BTreeSet<String>> {
    let root = workspace_root.to_string_lossy();
    let mut hits: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (crate_name, paths) in dep_info_files(target_dir, wanted) {
        for path in paths {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            for input in dep_info_inputs(&text) {
                // rustc writes paths as the source spelled them (`dir/../../data/x`).
                let input = format!("/{}", crate::graph::normalize_join("", &input));
                let relative = input
                    .strip_prefix(root.as_ref())
                    .and_then(|r| r.strip_prefix('/'));
                if let Some(relative) = relative.filter(|r| is_changed(r)) {
                    hits.entry(crate_name.clone())
                        .or_default()
                        .insert(relative.to_owned());
                }
            }
        }
    }
    hits
}

fn read_dirs(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default()
}
