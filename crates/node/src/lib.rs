//! Node side of a release: verified, atomic, exclusive install of a promoted release, with anti-rollback and history.
