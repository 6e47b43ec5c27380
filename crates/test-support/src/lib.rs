//! Test support for gaffer: hermetic environments for tests that run real `git`.
//!
//! Tests must not depend on the developer's `~/.gitconfig`, system config, locale, time zone or
//! terminal. [`hermetic_git_env`] gives the environment that pins all of those, [`git_cmd`] builds a
//! `git` command that uses it, and [`TestRepo`] is a throwaway repository in a temporary directory.
//!
//! This is test code: helpers panic (with git's stderr) instead of returning errors.

mod env;
mod repo;

pub use env::{git_cmd, hermetic_git_env};
pub use repo::TestRepo;
