//! gaffer-core
