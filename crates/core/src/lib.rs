//! The heart of gaffer, with no I/O: the domain types (projects, tasks, runs, events, jobs) and the
//! pure state machine that moves a task through the pipeline of DESIGN §4.
//!
//! Everything here is deterministic. The machine is a function
//! `transition(&TaskState, &Input, &Limits) -> Result<(TaskState, Vec<Effect>), TransitionError>`;
//! the engine executes the effects and feeds their results back as inputs, and the store persists
//! each new state together with its event in one transaction. Nothing in this crate reads a clock,
//! a file, or the network, which is what makes it property-testable and replayable.
//!
//! [`failures`] reads a failed verify's output: which tests failed and the first lines of each.
//!
//! [`queue`] is the merge queue's planner, pure in the same way: from the queue as it stands (the
//! landing tip, the waiting tasks, the merge train and its candidates) to what happens next (who
//! joins, which candidate is built on what, who is rechecked or ejected, which prefix lands).

pub mod clock;
pub mod event;
pub mod failures;
pub mod ids;
pub mod job;
pub mod machine;
pub mod queue;
pub mod run;
pub mod scope;
pub mod secrets;
pub mod slug;
pub mod structured;
pub mod task;

pub use clock::{Clock, FixedClock};
pub use event::{Event, NewEvent, Payload, event_kind, payload};
pub use ids::{JobId, ObjectId, ProjectId, RunId, Seq, TaskId};
pub use job::{Job, JobKind, JobSpec, JobStatus, NewJob, ProcessRecord, RecordedIdentity};
pub use machine::{
    Attempt, AttemptStatus, Candidate, CandidateStatus, Effect, Flow, Held, Input, Limits, Notice,
    PendingRun, QueueSlot, RunReason, RunResult, SessionMode, TaskState, TransitionError,
    VerifiedTree, VerifyPurpose, WaitingPlace, transition,
};
pub use run::{NewRun, Run, RunStatus, Usage};
pub use task::{
    NEEDS_PREFIX, NewTask, Priority, Project, Risk, Role, Status, Task, TaskKind, needs_of,
};
