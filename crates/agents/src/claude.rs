//! The `claude` backend.
