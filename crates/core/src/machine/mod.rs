//! The pipeline as a pure function: `transition(state, input, limits) -> (state, effects)`.
//!
//! The engine executes [`Effect`]s (start a run, verify a commit, build a merge candidate, land
//! it, clean up) and reports what happened as [`Input`]s. The machine never trusts a claim: a task
//! reaches `merged` only through [`Input::Landed`] for a tree it has itself seen pass verify, and
//! an input that makes no sense in the current state is a typed [`TransitionError`], never a panic.
//!
//! ```text
//! backlog ◀▶ ready ─▶ planning ─▶ plan_review ─▶ delegated (epic waits on its children) ─▶ merged
//!  (demote)    │                      (a prepared change, a revert, starts at verifying)
//!              └──────────▶ coding ─▶ verifying ─▶ reviewing ─▶ queued ─▶ merging ─▶ merged
//!                             ▲  ╰──fail──╯ ▲          │           │
//!                             ╰─────────────┴─changes──╯    awaiting_approval (risk gate)
//!  any active state ─▶ needs_input (question to a person) ─▶ back where it was
//!  ready, coding, verifying, reviewing, needs_input, awaiting_approval, failed ─▶ attached
//!      (a person has it in hand) ─hand back─▶ verifying (a change) or coding (none)
//!  any ─▶ cancelled        retries exhausted ─▶ failed (a person may retry, or retry afresh)
//! ```

mod crew;
mod state;
mod step;
mod types;

pub use crew::{Attempt, AttemptStatus, Held, PendingRun};

pub use state::{
    Candidate, CandidateStatus, Flow, Limits, Paused, QueueSlot, TaskState, VerifiedTree,
    WaitingPlace,
};
pub use step::{ATTACHED_NOTE, transition};
pub use types::{
    Effect, Input, Notice, RunReason, RunResult, SessionMode, TransitionError, VerifyPurpose,
};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_attach;
#[cfg(test)]
mod tests_batch;
#[cfg(test)]
mod tests_crew;
#[cfg(test)]
mod tests_redirect;
#[cfg(test)]
mod tests_retry;
