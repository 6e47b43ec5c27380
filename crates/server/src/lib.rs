//! gaffer-server
