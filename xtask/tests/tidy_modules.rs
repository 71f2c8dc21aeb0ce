//! No module imports a sibling that imports it back (ARCHITECTURE.md, "Invariants").
//!
//! For every crate root of the workspace (`xtask/src/main.rs`, `crates/*/src/{lib,main}.rs`),
//! the top-level modules it declares (`mod NAME;`) are the nodes; module `a` depends on `b`
//! when any file of `a` names `crate::b`, `super::b` resolving to the root, or a name the root
//! re-exports from `b` (`pub use b::Name;` then `crate::Name`). Comments and string literals
//! are not code and are skipped. Any strongly connected group of two or more modules fails the
//! test, with every edge inside it named.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

#[test]
fn no_sibling_modules_import_each_other() {
    let cycles = module_cycles(&repo_root());
    assert!(
        cycles.is_empty(),
        "sibling modules that import each other (move what both need into one of them, or \
         into a module of its own):\n{}",
        cycles.join("\n")
    );
}

#[test]
fn a_cycle_is_found_through_crate_super_and_root_reexports_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("crates/demo/src");
    std::fs::create_dir_all(src.join("b")).unwrap();
    let write = |rel: &str, text: &str| std::fs::write(src.join(rel), text).unwrap();
    write(
        "lib.rs",
        "pub mod a;\nmod b;\npub mod c;\npub mod d;\npub use c::{Thing, other::Deep as Renamed};\n",
    );
    // a -> b through `crate::`, b -> a through `super::super::` in a nested file.
    write("a.rs", "use crate::b::helper;\npub struct A;\n");
    write("b/mod.rs", "mod inner;\npub fn helper() {}\n");
    write("b/inner.rs", "use super::super::a::A;\n");
    // c -> d only through a re-export of d's name at the root.
    write(
        "c.rs",
        "pub struct Thing;\npub mod other { pub struct Deep; }\nfn f() -> crate::Found { todo!() }\n",
    );
    write("d.rs", "pub struct Found;\nuse crate::Renamed;\n");
    // Not edges: comments, strings, raw strings, chars, a test module's `super`, `self::`.
    write(
        "e.rs",
        "// crate::a\n/* crate::b */\nconst S: &str = \"crate::a\";\nconst R: &str = r#\"use crate::b;\"#;\n\
         const C: char = ':';\nfn f<'a>(x: &'a str) -> &'a str { x }\nmod tests { use super::*; }\n\
         use self::tests as _t;\n",
    );
    let mut lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    lib = lib.replace("pub mod d;", "pub mod d;\nmod e;\npub use d::Found;");
    std::fs::write(src.join("lib.rs"), lib).unwrap();

    let cycles = module_cycles(dir.path());
    assert_eq!(
        cycles,
        [
            "crates/demo/src/lib.rs: a -> b, b -> a",
            "crates/demo/src/lib.rs: c -> d, d -> c"
        ],
        "{cycles:#?}"
    );
}

/// Every cycle among the top-level modules of each crate root, as `root: a -> b, b -> a`.
fn module_cycles(workspace: &Path) -> Vec<String> {
    let mut crate_dirs = vec![workspace.join("xtask")];
    if let Ok(entries) = std::fs::read_dir(workspace.join("crates")) {
        let mut dirs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        dirs.sort();
        crate_dirs.extend(dirs);
    }
    let mut found = Vec::new();
    for dir in crate_dirs {
        for root_name in ["lib.rs", "main.rs"] {
            let root = dir.join("src").join(root_name);
            let Ok(text) = std::fs::read_to_string(&root) else {
                continue;
            };
            let src = root.parent().unwrap();
            let modules = declared_modules(&text);
            let exports = root_exports(&text, &modules);
            let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for module in &modules {
                let mut targets = BTreeSet::new();
                for (file, scope) in module_files(src, module) {
                    let text = std::fs::read_to_string(&file).unwrap();
                    references(&text, &scope, &exports, &mut targets);
                }
                targets.retain(|t| t != module && modules.contains(t));
                edges.insert(module.clone(), targets);
            }
            let shown = root.strip_prefix(workspace).unwrap_or(&root).display();
            for group in strongly_connected(&edges) {
                let mut inside = Vec::new();
                for from in &group {
                    for to in edges[from].iter().filter(|to| group.contains(*to)) {
                        inside.push(format!("{from} -> {to}"));
                    }
                }
                found.push(format!("{shown}: {}", inside.join(", ")));
            }
        }
    }
    found
}

/// Groups of two or more modules that all reach each other (a few dozen modules per crate:
/// reachability per module is plenty).
fn strongly_connected(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<BTreeSet<String>> {
    let reach = |from: &String| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(node) = stack.pop() {
            for next in edges.get(&node).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&String, BTreeSet<String>> =
        edges.keys().map(|k| (k, reach(k))).collect();
    let mut placed = BTreeSet::new();
    let mut groups = Vec::new();
    for node in edges.keys() {
        if placed.contains(node) || !reaches[node].contains(node) {
            continue;
        }
        let group: BTreeSet<String> = reaches[node]
            .iter()
            .filter(|other| reaches[*other].contains(node))
            .cloned()
            .collect();
        placed.extend(group.iter().cloned());
        groups.push(group);
    }
    groups
}

/// The files of top-level module `name` under `src` (`name.rs`, `name/mod.rs`, everything under
/// `name/`), each with its module path (`["name", "sub"]`).
fn module_files(src: &Path, name: &str) -> Vec<(PathBuf, Vec<String>)> {
    let mut files = Vec::new();
    let flat = src.join(format!("{name}.rs"));
    if flat.is_file() {
        files.push((flat, vec![name.to_owned()]));
    }
    let dir = src.join(name);
    let mut nested = Vec::new();
    rust_files(&dir, &mut nested);
    for file in nested {
        let mut scope = vec![name.to_owned()];
        let relative = file.strip_prefix(&dir).unwrap().with_extension("");
        for part in relative.components() {
            let part = part.as_os_str().to_string_lossy();
            if part != "mod" {
                scope.push(part.into_owned());
            }
        }
        files.push((file, scope));
    }
    files
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    /// `::`
    PathSep,
    Punct(char),
}

/// Identifiers, `::` and punctuation of the code in `text`: comments, string literals (raw and
/// byte ones too) and character literals are dropped; lifetimes stay identifiers.
fn tokens(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let at = |i: usize| chars.get(i).copied();
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(c) = at(i) {
        let next = at(i + 1);
        if c == '/' && next == Some('/') {
            while at(i).is_some_and(|c| c != '\n') {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while let Some(c) = at(i) {
                if c == '/' && at(i + 1) == Some('*') {
                    depth += 1;
                    i += 2;
                } else if c == '*' && at(i + 1) == Some('/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == '"' {
            i += 1;
            while let Some(c) = at(i) {
                i += if c == '\\' { 2 } else { 1 };
                if c == '"' {
                    break;
                }
            }
        } else if c == '\'' && (next == Some('\\') || at(i + 2) == Some('\'')) {
            // A character literal ('x', '\n', '\u{..}'); a lifetime ('a) has no closing quote.
            i += 2;
            while at(i).is_some_and(|c| c != '\'') {
                i += 1;
            }
            i += 1;
        } else if is_ident(c) {
            let start = i;
            while at(i).is_some_and(is_ident) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            // r"..", r#".."#, br"..": skip to the closing quote and as many hashes.
            let mut hashes = 0;
            while matches!(word.as_str(), "r" | "br") && at(i + hashes) == Some('#') {
                hashes += 1;
            }
            if matches!(word.as_str(), "r" | "br") && at(i + hashes) == Some('"') {
                i += hashes + 1;
                while i < chars.len()
                    && !(chars[i] == '"' && (1..=hashes).all(|k| at(i + k) == Some('#')))
                {
                    i += 1;
                }
                i += hashes + 1;
            } else if matches!(word.as_str(), "b") && matches!(at(i), Some('"' | '\'')) {
                // b".." and b'x': the literal itself is skipped by the next round.
            } else {
                tokens.push(Token::Ident(word));
            }
        } else if c == ':' && next == Some(':') {
            tokens.push(Token::PathSep);
            i += 2;
        } else {
            if !c.is_whitespace() {
                tokens.push(Token::Punct(c));
            }
            i += 1;
        }
    }
    tokens
}

/// `mod NAME;` items at the top of a crate root (inline `mod NAME { .. }` are not files).
fn declared_modules(root: &str) -> Vec<String> {
    let tokens = tokens(root);
    let mut modules = Vec::new();
    let mut depth = 0;
    for (i, token) in tokens.iter().enumerate() {
        match token {
            Token::Punct('{') => depth += 1,
            Token::Punct('}') => depth -= 1,
            Token::Ident(word) if word == "mod" && depth == 0 => {
                if let (Some(Token::Ident(name)), Some(Token::Punct(';'))) =
                    (tokens.get(i + 1), tokens.get(i + 2))
                {
                    modules.push(name.clone());
                }
            }
            _ => {}
        }
    }
    modules
}

/// Names a root re-exports from its modules (`pub use module::{A, b::C as D};`): each name (as
/// re-exported) to its module.
fn root_exports(root: &str, modules: &[String]) -> BTreeMap<String, String> {
    let tokens = tokens(root);
    let mut exports = BTreeMap::new();
    for (i, token) in tokens.iter().enumerate() {
        if *token != Token::Ident("use".into()) {
            continue;
        }
        let mut j = i + 1;
        if tokens.get(j) == Some(&Token::Ident("crate".into())) {
            j += 2;
        }
        let (Some(Token::Ident(module)), Some(Token::PathSep)) = (tokens.get(j), tokens.get(j + 1))
        else {
            continue;
        };
        if !modules.contains(module) {
            continue;
        }
        // The last identifier of each leaf (after `as`, the new name) is what the root exports.
        let mut last = None;
        for token in tokens[j + 2..]
            .iter()
            .take_while(|t| **t != Token::Punct(';'))
        {
            match token {
                Token::Ident(word) if word != "as" && word != "self" => last = Some(word.clone()),
                Token::Punct(',' | '}') => {
                    if let Some(name) = last.take() {
                        exports.insert(name, module.clone());
                    }
                }
                _ => {}
            }
        }
        if let Some(name) = last {
            exports.insert(name, module.clone());
        }
    }
    exports
}

/// Adds to `targets` the top-level modules that the code of one file names, the file being
/// module `file_scope` (`["a"]` for `a.rs`, `["a", "b"]` for `a/b.rs`).
fn references(
    text: &str,
    file_scope: &[String],
    exports: &BTreeMap<String, String>,
    targets: &mut BTreeSet<String>,
) {
    let tokens = tokens(text);
    // The module path at each point: the file's, plus the inline `mod NAME { .. }` it is in.
    let mut scope: Vec<String> = file_scope.to_vec();
    let mut inline_depths: Vec<usize> = Vec::new();
    let mut depth = 0;
    let mut opening_module: Option<String> = None;
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            Token::Punct('{') => {
                depth += 1;
                if let Some(name) = opening_module.take() {
                    scope.push(name);
                    inline_depths.push(depth);
                }
            }
            Token::Punct('}') => {
                if inline_depths.last() == Some(&depth) {
                    inline_depths.pop();
                    scope.pop();
                }
                depth -= 1;
            }
            Token::Punct(';') => opening_module = None,
            Token::Ident(word) if word == "mod" => {
                if let Some(Token::Ident(name)) = tokens.get(i + 1) {
                    opening_module = Some(name.clone());
                    i += 2;
                    continue;
                }
            }
            Token::Ident(word)
                if matches!(word.as_str(), "crate" | "super" | "self")
                    && tokens.get(i + 1) == Some(&Token::PathSep) =>
            {
                let mut path: Vec<String> = match word.as_str() {
                    "crate" => Vec::new(),
                    "self" => scope.clone(),
                    _ => scope[..scope.len().saturating_sub(1)].to_vec(),
                };
                let mut j = i + 2;
                while tokens.get(j) == Some(&Token::Ident("super".into()))
                    && tokens.get(j + 1) == Some(&Token::PathSep)
                {
                    path.pop();
                    j += 2;
                }
                let mut named = Vec::new();
                match tokens.get(j) {
                    Some(Token::Ident(first)) => named.push(first.clone()),
                    // `use crate::{a, b::c}`: the first segment of each item.
                    Some(Token::Punct('{')) if path.is_empty() => {
                        let mut nesting = 0;
                        let mut item_start = true;
                        for token in &tokens[j..] {
                            match token {
                                Token::Punct('{') => nesting += 1,
                                Token::Punct('}') => nesting -= 1,
                                Token::Punct(',') if nesting == 1 => item_start = true,
                                Token::Ident(first) if nesting == 1 && item_start => {
                                    named.push(first.clone());
                                    item_start = false;
                                }
                                _ if nesting == 1 => item_start = false,
                                _ => {}
                            }
                            if nesting == 0 {
                                break;
                            }
                        }
                    }
                    _ => {}
                }
                for first in named {
                    targets.insert(match path.first() {
                        Some(module) => module.clone(),
                        None => exports.get(&first).cloned().unwrap_or(first),
                    });
                }
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
}
