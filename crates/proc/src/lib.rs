//! gaffer-proc
