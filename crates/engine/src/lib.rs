//! gaffer-engine
