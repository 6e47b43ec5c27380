//! Every kind of event gaffer writes, declared once: its name in the log, the constant that names
//! it in code, and the payload type its `data` holds. [`declare!`] turns the list into the
//! `event_kind` constants, the [`Payload`] enum and the conversions between the two.
//!
//! To add a kind: a line here, its payload struct in `payload/`, its sentence in `text/`, and a
//! sample in `tests.rs` (the round-trip and sentence tests walk every kind).

use super::payload::*;
use serde::Deserialize;
use serde_json::Value;

macro_rules! declare {
    ($( $(#[$doc:meta])* $variant:ident($ty:ty) = $name:literal as $konst:ident; )*) => {
        /// The names of the events gaffer writes, in one place.
        pub mod event_kind {
            $( $(#[$doc])* pub const $konst: &str = $name; )*
            /// Every kind, in declaration order.
            pub const ALL: &[&str] = &[$($name),*];
        }

        /// An event's `data`, typed by its kind. Stored and served as today's JSON: the `kind`
        /// string beside the `data` object.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Payload {
            $( $(#[$doc])* $variant($ty), )*
            /// A kind this version does not know (written by a newer gaffer, or a test), kept as
            /// it was.
            Unknown { kind: String, data: Value },
        }

        impl Payload {
            /// The kind's name in the log.
            pub fn kind(&self) -> &str {
                match self {
                    $( Payload::$variant(_) => $name, )*
                    Payload::Unknown { kind, .. } => kind,
                }
            }

            /// Reads `data` as the payload of `kind`; an unknown kind is [`Payload::Unknown`], a
            /// known kind whose data does not have its shape is an error.
            pub fn parse(kind: &str, data: &Value) -> Result<Payload, serde_json::Error> {
                Ok(match kind {
                    $( $name => Payload::$variant(<$ty>::deserialize(data)?), )*
                    _ => Payload::Unknown { kind: kind.to_string(), data: data.clone() },
                })
            }

            /// The `data` object as stored.
            pub fn data(&self) -> Value {
                match self {
                    $( Payload::$variant(p) => to_data(p), )*
                    Payload::Unknown { data, .. } => data.clone(),
                }
            }
        }
    };
}

/// Payloads are plain structs of strings, numbers, lists and string-keyed maps, whose
/// serialization cannot fail; `Null` stands in should one ever hold a map with other keys.
fn to_data<T: serde::Serialize>(payload: &T) -> Value {
    serde_json::to_value(payload).unwrap_or(Value::Null)
}

declare! {
    TaskCreated(TaskCreated) = "task.created" as TASK_CREATED;
    /// Every state change.
    TaskStatus(TaskStatus) = "task.status" as TASK_STATUS;
    /// A machine notice for people, a person's act, a result the engine ignored, or a project
    /// job that failed.
    TaskNotice(TaskNotice) = "task.notice" as TASK_NOTICE;
    /// A person changed what a task asks (title, body, labels, priority, ...) before work on it
    /// started.
    TaskEdited(TaskEdited) = "task.edited" as TASK_EDITED;
    /// A person had a merged task reverted: on the task reverted and on the task that carries
    /// the revert.
    TaskRevert(TaskRevert) = "task.revert" as TASK_REVERT;
    /// A person said something to the task's agent: its run going on in this daemon hears it at
    /// its next turn where the backend can take it (`run.heard`), else stops and resumes its
    /// session with the message; with no run going on, the task's next run carries it.
    TaskSaid(TaskSaid) = "task.said" as TASK_SAID;
    /// An agent proposed a task (filed as a proposal); on the task it was working on.
    TaskProposed(TaskProposed) = "task.proposed" as TASK_PROPOSED;
    /// A person accepted a proposal: it is a task now.
    ProposalAccepted(ProposalAccepted) = "proposal.accepted" as PROPOSAL_ACCEPTED;
    RunStarted(RunStarted) = "run.started" as RUN_STARTED;
    /// Normalized agent output (text, tool calls, status lines, questions, usage, ...).
    RunOutput(RunOutput) = "run.output" as RUN_OUTPUT;
    RunFinished(RunFinished) = "run.finished" as RUN_FINISHED;
    RunLost(RunLost) = "run.lost" as RUN_LOST;
    /// The agent of a run going on took a person's message (`task.said`) into its conversation
    /// at its next turn, without the run being stopped.
    RunHeard(RunHeard) = "run.heard" as RUN_HEARD;
    VerifyStarted(VerifyStarted) = "verify.started" as VERIFY_STARTED;
    VerifyFinished(VerifyFinished) = "verify.finished" as VERIFY_FINISHED;
    /// Merge queue: a person put a waiting task at a place in the waiting line.
    QueueMoved(QueueMoved) = "queue.moved" as QUEUE_MOVED;
    /// Merge queue: a task joined the merge train.
    QueueJoined(QueueJoined) = "queue.joined" as QUEUE_JOINED;
    /// A candidate was built on the tip plus the tasks `ahead` of it.
    QueueCandidate(QueueCandidate) = "queue.candidate" as QUEUE_CANDIDATE;
    /// The branch conflicts with the train ahead (not with the target); it waits for it.
    QueueParked(QueueParked) = "queue.parked" as QUEUE_PARKED;
    /// A candidate was dropped because what it was built on changed.
    QueueInvalidated(QueueInvalidated) = "queue.invalidated" as QUEUE_INVALIDATED;
    /// A candidate's verify finished.
    QueueVerified(QueueVerified) = "queue.verified" as QUEUE_VERIFIED;
    /// A failed candidate runs verify again before its branch is blamed.
    QueueRecheck(QueueRecheck) = "queue.recheck" as QUEUE_RECHECK;
    /// Verify failed, then passed on the same tree: flaky, nobody blamed.
    QueueFlaky(QueueFlaky) = "queue.flaky" as QUEUE_FLAKY;
    /// (project) The passing prefix is being landed in one step.
    QueueLanding(QueueLanding) = "queue.landing" as QUEUE_LANDING;
    /// The task's candidate is on the target now (once per task).
    QueueLanded(QueueLanded) = "queue.landed" as QUEUE_LANDED;
    /// The task left the queue: its verify failed, it conflicts, a dependency left, an error.
    QueueEjected(QueueEjected) = "queue.ejected" as QUEUE_EJECTED;
    /// A branch that just passed verify would conflict with the landing tip; it goes to a
    /// resolver before queuing.
    QueueConflict(QueueConflict) = "queue.conflict" as QUEUE_CONFLICT;
    /// (project) The target was not where the landing expected it (moved locally, or the remote
    /// rejected the push); the train is rebuilt.
    QueueTargetMoved(QueueTargetMoved) = "queue.target_moved" as QUEUE_TARGET_MOVED;
    /// (project) The landed target was pushed.
    QueuePushed(QueuePushed) = "queue.pushed" as QUEUE_PUSHED;
    /// Several tasks are tested as one candidate (a batch, or a half of a failed one).
    QueueBatchFormed(QueueBatchFormed) = "queue.batch_formed" as QUEUE_BATCH_FORMED;
    /// A batch failed verify with everything ahead passing: one of its branches is guilty.
    QueueBatchFailed(QueueBatchFailed) = "queue.batch_failed" as QUEUE_BATCH_FAILED;
    /// A part of a failed batch is tested to find the guilty branch (bisection).
    QueueBisecting(QueueBisecting) = "queue.bisecting" as QUEUE_BISECTING;
    /// Bisection found the branch that broke its batch (it failed twice alone).
    QueueGuilty(QueueGuilty) = "queue.guilty" as QUEUE_GUILTY;
    /// A suspect of a failed batch is cleared: the failure is another's, or can no longer be
    /// found among the suspects left.
    QueueAcquitted(QueueAcquitted) = "queue.acquitted" as QUEUE_ACQUITTED;
    /// A leased job went back to the queue (its owner is gone).
    JobReleased(JobReleased) = "job.released" as JOB_RELEASED;
    /// A job needs machine labels no live machine has: it waits for one (said once per job).
    JobUnroutable(JobUnroutable) = "job.unroutable" as JOB_UNROUTABLE;
    /// What recovery found and did when the engine started.
    Recovery(Recovery) = "engine.recovery" as RECOVERY;
    EngineStarted(EngineOwner) = "engine.started" as ENGINE_STARTED;
    EngineStopped(EngineOwner) = "engine.stopped" as ENGINE_STOPPED;
    WorktreeCleaned(WorktreeCleaned) = "worktree.cleaned" as WORKTREE_CLEANED;
    /// A coder's change edits paths outside the task's write scope: with `enforce = "reject"`
    /// it went back to the coder, with `"review"` it goes on and the reviewer is shown the paths.
    ScopeOutside(ScopeOutside) = "scope.outside" as SCOPE_OUTSIDE;
    /// A coder's change added a secret (never the value); its commits were undone and it went
    /// back to the coder.
    SecretRefused(SecretRefused) = "secret.refused" as SECRET_REFUSED;
    /// (on the survey task) Nothing was ready or running: an idle survey started.
    IdleSurvey(IdleSurvey) = "idle.survey" as IDLE_SURVEY;
    /// A best-of task's attempts are over: which was kept, what the others cost.
    BestOfSettled(BestOfSettled) = "best_of.settled" as BEST_OF_SETTLED;
    /// (project) The day's budget is spent: no new task starts.
    BudgetDayStop(BudgetDayStop) = "budget.day_stop" as BUDGET_DAY_STOP;
    /// (project) The day's budget allows runs again.
    BudgetDayResumed(BudgetDayResumed) = "budget.day_resumed" as BUDGET_DAY_RESUMED;
    /// A run a budget held was let go.
    BudgetReleased(BudgetReleased) = "budget.released" as BUDGET_RELEASED;
    /// (project) A person made a worker token for a remote worker (never its secret).
    WorkerTokenCreated(WorkerTokenChanged) = "worker_token.created" as WORKER_TOKEN_CREATED;
    /// (project) A person revoked a worker token: its worker is refused from now on.
    WorkerTokenRevoked(WorkerTokenChanged) = "worker_token.revoked" as WORKER_TOKEN_REVOKED;
}
