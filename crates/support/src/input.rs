//! Reading an input file with a documented size limit: a file over the limit is refused with
//! its size and the limit, without being read into memory whole.

use std::fs::File;
use std::io::Read as _;
use std::path::Path;

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

#[cfg(test)]
mod tests {
    use super::*;

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
