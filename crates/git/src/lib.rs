//! gaffer-git
