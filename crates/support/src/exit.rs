//! Semantic exit codes, shared by every `cargo xtask` command (README.md, "Commands").

/// What a process exit means. Kept in one place so that every command agrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exit {
    /// 0: everything asked for was done and every check passed.
    Success,
    /// 1: a check failed (tests, gates, audit, kernel).
    CheckFailed,
    /// 2: invalid input or usage; the diagnostic names file, line and column. Source that does
    /// not compile is invalid input too, whichever command (preflight, a lane) finds it.
    InvalidInput,
    /// 3: the environment failed (git, cargo or nextest unavailable, base revision missing).
    Environment,
}

impl Exit {
    pub fn code(self) -> i32 {
        match self {
            Exit::Success => 0,
            Exit::CheckFailed => 1,
            Exit::InvalidInput => 2,
            Exit::Environment => 3,
        }
    }
}
