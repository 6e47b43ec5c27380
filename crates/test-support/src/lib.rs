//! gaffer-test-support
