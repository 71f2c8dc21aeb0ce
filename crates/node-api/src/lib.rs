//! Enterprise: the node HTTP API (health, readiness, current release).
