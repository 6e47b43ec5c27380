#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Every flow of ARCHITECTURE.md through the real engine, in process, with `EngineHarness`
//! (`gaffer-test-support`): scripted agents and a verify command on a temporary repository.
//! Each test asserts what came out: the statuses a task went through, its runs (agents, tiers,
//! sessions, costs), its events, and what landed on the target.

mod agent_needs;
mod approvals;
mod attach;
mod best_of;
mod budgets;
mod cancel;
mod clean;
mod conflicts;
mod daemons;
mod errors;
mod escalation;
mod failures;
mod history;
mod planning;
mod pool;
mod questions;
mod queue;
mod recovery;
mod redirect;
mod retry;
mod retry_fresh;
mod revert;
mod review;
mod steer;
mod workers;
