//! Test support for gaffer: hermetic environments for tests that run real `git`.
//!
//! Tests must not depend on the developer's `~/.gitconfig`, system config, locale, time zone or
//! terminal. [`hermetic_git_env`] gives the environment that pins all of those, [`git_cmd`] builds a
//! `git` command that uses it, and [`TestRepo`] is a throwaway repository in a temporary directory.
//!
//! With the `engine` feature, [`EngineHarness`] runs the real engine in process on a
//! [`TestRepo`], with scripted agents and a verify command (the engine's own flow tests).
//!
//! [`postgres::server`] gives the PostgreSQL server that tests of the PostgreSQL store use: the
//! one `GAFFER_TEST_PG_URL` names, or a throwaway cluster started once per test process.
//!
//! This is test code: helpers panic (with git's stderr) instead of returning errors.

mod env;
#[cfg(feature = "engine")]
mod harness;
pub mod netns;
pub mod postgres;
mod repo;

pub use env::{git_cmd, hermetic_git_env};
#[cfg(feature = "engine")]
pub use harness::{Agent, Daemons, EngineHarness, HarnessBuilder};
pub use repo::TestRepo;
