//! The `command` backend.
