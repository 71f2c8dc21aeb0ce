//! Reading an input file with a documented size limit: a file over the limit is refused with
//! its size and the limit, without being read into memory whole; and the input files of a
//! directory, listed so that none is skipped.

use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use crate::diag::Located;

/// The contents of `path` (called `what` in messages), refused when larger than `limit` bytes.
pub fn read_bounded(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>, Located> {
    let cannot = |err: std::io::Error| Located::file(path, format!("cannot read {what}: {err}"));
    let file = File::open(path).map_err(cannot)?;
    let size = file.metadata().map_err(cannot)?.len();
    let too_large = |size: u64| {
        Located::file(
            path,
            format!("{what} is {size} bytes, over the {limit}-byte limit"),
        )
        .with_help("the limits are listed in README.md (Nodes, Promises and limits)")
    };
    if size > limit {
        return Err(too_large(size));
    }
    let mut bytes = Vec::new();
    // The file may grow between the size check and the read: read one byte past the limit.
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// The text of `path` for a parser: bounded as [`read_bounded`], a directory refused as a
/// directory (not "does not exist" or an OS error number), and text that is not UTF-8 refused
/// at the line and column of its first invalid byte.
pub fn read_text(path: &Path, limit: u64, what: &str) -> Result<String, Located> {
    if path.is_dir() {
        return Err(Located::file(
            path,
            format!("cannot read {what}: it is a directory, not a file"),
        ));
    }
    let bytes = read_bounded(path, limit, what)?;
    String::from_utf8(bytes).map_err(|err| {
        let valid = err.utf8_error().valid_up_to();
        let bytes = err.as_bytes();
        let prefix = std::str::from_utf8(&bytes[..valid]).expect("valid up to here");
        Located::at(
            path,
            prefix,
            valid..valid,
            format!(
                "{what} is not UTF-8 text: byte 0x{:02x} cannot start or continue a character here",
                bytes[valid]
            ),
        )
        .with_help("save the file as UTF-8")
    })
}

/// Entries named `*.json` directly in `dir`, sorted by name. Whatever they are (a dangling
/// symlink, a directory, a symlink loop) they are listed, so that reading them names the one
/// that cannot be read instead of skipping it.
pub fn json_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_is_not_utf8_is_located_and_a_directory_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.json");
        std::fs::write(&path, b"{\n  \"id\": \"caf\xe9\"\n}").unwrap();
        let err = read_text(&path, 100, "provider manifest").unwrap_err();
        assert_eq!(err.line_col, Some((2, 13)), "{err}");
        assert!(
            err.message
                .starts_with("provider manifest is not UTF-8 text: byte 0xe9"),
            "{err}"
        );
        let err = read_text(dir.path(), 100, "provider manifest").unwrap_err();
        assert!(
            err.message.ends_with("it is a directory, not a file"),
            "{err}"
        );
        std::fs::write(&path, "é").unwrap();
        assert_eq!(read_text(&path, 100, "x").unwrap(), "é");
    }

    #[test]
    fn files_up_to_the_limit_are_read_and_larger_ones_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("input.json");
        std::fs::write(&path, b"12345").unwrap();
        assert_eq!(read_bounded(&path, 5, "the input").unwrap(), b"12345");
        let err = read_bounded(&path, 4, "the input").unwrap_err();
        assert_eq!(
            err.message, "the input is 5 bytes, over the 4-byte limit",
            "{err}"
        );
        let err = read_bounded(&dir.path().join("absent"), 4, "the input").unwrap_err();
        assert!(err.message.starts_with("cannot read the input: "), "{err}");
    }
}
