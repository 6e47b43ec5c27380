//! gaffer-store
