//! Executing one leased job. Each kind lives in its own file; all of them return what the
//! machine should hear ([`JobResult::Input`]), or that nothing needs to be said.

mod agent;
mod attempt;
pub(crate) mod cleanup;
pub(crate) mod merge;
mod resolve;
mod verify;
mod worktree;

use crate::apply::Extra;
use crate::board::Board;
use crate::error::{EngineError, Result};
use gaffer_agents::Registry;
use gaffer_core::{Input, Job, JobSpec, NewEvent};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub(crate) use worktree::{
    checkout_named, ensure_named, ensure_worktree, forget_setup, worktree_name,
};

/// What executing a job produced.
// One value per finished job, moved once: its size does not matter.
#[allow(clippy::large_enum_variant)]
pub(crate) enum JobResult {
    /// An input for the job's task, applied together with the job's completion.
    Input { input: Input, extra: Extra },
    /// Done; nothing for the machine (cleanup).
    Done { events: Vec<NewEvent> },
    /// Stopped before finishing (shutdown or lost lease): the job goes back to the queue.
    Interrupted {
        finish_run: Option<gaffer_store::RunFinish>,
    },
}

/// Everything a job needs.
pub(crate) struct JobContext {
    pub board: Arc<Board>,
    pub agents: Arc<Registry>,
    pub job: Job,
    pub owner: String,
    pub cancel: CancellationToken,
}

impl JobContext {
    /// Records the process running this job, so that a restarted daemon can kill it.
    pub fn record_process(&self, id: &gaffer_proc::ProcessIdentity) {
        let record = crate::process_record::record(id);
        if let Err(e) = self
            .board
            .store
            .set_job_process(self.job.id, &self.owner, &record)
        {
            tracing::warn!(job = %self.job.id, "could not record the job's process: {e}");
        }
    }
}

/// Executes the job; on a shared board, between bringing its branches down from the remote and
/// pushing back what it moved (`remote_sync.rs`).
pub(crate) async fn execute(ctx: &JobContext) -> Result<JobResult> {
    let fetched = crate::remote_sync::before(ctx).await?;
    let result = execute_here(ctx).await;
    crate::remote_sync::after(ctx, fetched, result).await
}

async fn execute_here(ctx: &JobContext) -> Result<JobResult> {
    match &ctx.job.spec {
        JobSpec::Run {
            role,
            tier,
            session,
            reason,
            feedback,
        } => {
            let run = agent::Planned {
                role: *role,
                tier: *tier,
                session: *session,
                reason: *reason,
                feedback: feedback.as_deref(),
                slot: None,
            };
            agent::run(ctx, run).await
        }
        JobSpec::Attempt { slot, tier } => {
            let run = agent::Planned {
                role: gaffer_core::Role::Coder,
                tier: *tier,
                session: gaffer_core::SessionMode::Fresh,
                reason: gaffer_core::RunReason::Start,
                feedback: None,
                slot: Some(*slot),
            };
            agent::run(ctx, run).await
        }
        JobSpec::VerifyAttempt { slot, commit } => attempt::verify(ctx, *slot, commit).await,
        JobSpec::SettleAttempts { slots, kept } => attempt::settle(ctx, *slots, *kept).await,
        JobSpec::Verify { commit, purpose } => verify::run(ctx, commit, *purpose).await,
        // No longer created: the merge queue builds candidates itself.
        JobSpec::PrepareCandidate => Ok(JobResult::Done { events: vec![] }),
        JobSpec::Land { commit, tree, onto } => merge::land(ctx, commit, tree, onto).await,
        JobSpec::Cleanup { delete_branch } => cleanup::run(ctx, *delete_branch).await,
    }
}

/// Runs blocking work (git, files) off the async workers.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T>
where
    F: FnOnce() -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| EngineError::Join(e.to_string()))?
}

/// A git object id from the core's representation.
pub(crate) fn oid(id: &gaffer_core::ObjectId) -> Result<gaffer_git::Oid> {
    id.as_str()
        .parse()
        .map_err(|_| EngineError::Invalid(format!("`{id}` is not a git object id")))
}

/// The core's representation of a git object id.
pub(crate) fn object_id(oid: &gaffer_git::Oid) -> gaffer_core::ObjectId {
    gaffer_core::ObjectId::new(oid.as_str())
}
