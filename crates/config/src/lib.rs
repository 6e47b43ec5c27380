//! gaffer-config
