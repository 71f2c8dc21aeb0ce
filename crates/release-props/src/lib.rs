//! Property-based suites (proptest) over the core release domain.
