//! Impact analysis over the Cargo dependency graph: which packages and test binaries a change can affect, and why.
