//! The `codex` backend.
