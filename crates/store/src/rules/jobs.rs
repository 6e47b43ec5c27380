//! The job lifecycle's outcomes that every store records the same way.

use crate::JobOutcome;
use gaffer_core::JobStatus;

/// The reason `job.released` gives when a holder gives its job back.
pub const RELEASED_BY_HOLDER: &str = "released by its holder";

/// The reason `job.released` gives when a dead owner's jobs go back to the queue.
pub const OWNER_GONE: &str = "its owner is gone";

/// The error recorded on a job failed for running out of attempts.
pub fn exhausted_error(attempts: i64) -> String {
    format!("gave up after {attempts} attempts; last holder lost its lease")
}

/// The status a job gets when its holder completes it with `outcome`.
pub fn completed_status(outcome: JobOutcome) -> JobStatus {
    match outcome {
        JobOutcome::Done => JobStatus::Done,
        JobOutcome::Failed => JobStatus::Failed,
    }
}
