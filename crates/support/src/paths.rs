//! Paths compared by their names, without asking the file system.

use std::path::{Component, Path, PathBuf};

/// `path` with `.` removed and each `..` taking away the name before it, as a path a compiler
/// or a traced process wrote (`src/../../common/x.rs`) is resolved without the files having to
/// exist (a symbolic link is not followed).
pub fn lexically_normal(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    normal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dots_are_resolved_by_name() {
        assert_eq!(
            lexically_normal(Path::new("/w/beta/src/../../common/./x.rs")),
            Path::new("/w/common/x.rs")
        );
        assert_eq!(lexically_normal(Path::new("a/../../b")), Path::new("b"));
    }
}
