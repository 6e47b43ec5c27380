//! Small builders shared by the checks.

use super::{MakeStore, START_MS};
use crate::{Commit, JobCompletion, JobFilter, JobOutcome, NewProject, Result, Store, TaskUpdate};
use gaffer_core::{
    FixedClock, Flow, Job, JobSpec, NewJob, NewTask, ProcessRecord, Project, ProjectId,
    RecordedIdentity, Risk, Status, Task, TaskId, TaskState,
};
use std::fmt::Debug;
use std::sync::Arc;

/// The value of `r`, or a panic naming `what` and the error.
#[track_caller]
pub(super) fn must<T, E: std::fmt::Display>(r: std::result::Result<T, E>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what}: unexpected error: {e}"),
    }
}

/// The error of `r`, or a panic naming `what` and the value it unexpectedly returned.
#[track_caller]
pub(super) fn must_fail<T: Debug>(r: Result<T>, what: &str) -> crate::StoreError {
    match r {
        Ok(v) => panic!("{what}: expected an error, got {v:?}"),
        Err(e) => e,
    }
}

/// A fresh store and the clock it reads, set to [`START_MS`].
pub(super) fn fresh(make: &MakeStore) -> (Arc<FixedClock>, Box<dyn Store>) {
    let clock = Arc::new(FixedClock::new(START_MS));
    let store = make(clock.clone());
    (clock, store)
}

pub(super) fn project(store: &dyn Store, name: &str) -> Project {
    must(
        store.upsert_project(&NewProject {
            name: name.to_string(),
            root: format!("/srv/{name}"),
            target: "main".to_string(),
        }),
        "upsert_project",
    )
}

pub(super) fn backlog() -> TaskState {
    TaskState::new(Flow::default(), Risk::Low, 0)
}

pub(super) fn with_status(status: Status) -> TaskState {
    let mut s = backlog();
    s.status = status;
    s
}

pub(super) fn new_task(title: &str) -> NewTask {
    NewTask {
        title: title.to_string(),
        body: format!("body of {title}"),
        ..NewTask::default()
    }
}

pub(super) fn task(store: &dyn Store, project: ProjectId, title: &str) -> Task {
    must(
        store.create_task(project, &new_task(title), &backlog()),
        "create_task",
    )
}

pub(super) fn cleanup_job(project: ProjectId, task: Option<TaskId>, priority: i32) -> NewJob {
    NewJob {
        project,
        task,
        spec: JobSpec::Cleanup {
            delete_branch: false,
        },
        priority,
        max_attempts: 3,
        needs: vec![],
    }
}

pub(super) fn prepare_job(project: ProjectId, task: Option<TaskId>, priority: i32) -> NewJob {
    NewJob {
        spec: JobSpec::PrepareCandidate,
        ..cleanup_job(project, task, priority)
    }
}

/// Enqueues `jobs` in one commit and returns them as stored (they are the newest jobs).
pub(super) fn enqueue(store: &dyn Store, jobs: Vec<NewJob>) -> Vec<Job> {
    let n = jobs.len();
    must(
        store.commit(&Commit {
            enqueue: jobs,
            ..Commit::default()
        }),
        "commit enqueueing jobs",
    );
    let all = must(store.jobs(&JobFilter::default()), "jobs");
    all[all.len() - n..].to_vec()
}

/// A recorded process with this pid (its own group leader).
pub(super) fn process(pid: i32) -> ProcessRecord {
    ProcessRecord {
        identity: RecordedIdentity {
            pid,
            pgid: pid,
            start_time: 99,
            token: None,
        },
        boot_id: Some("boot".to_string()),
    }
}

pub(super) fn completion(job: &Job, owner: &str) -> JobCompletion {
    JobCompletion {
        job: job.id,
        owner: owner.to_string(),
        outcome: JobOutcome::Done,
        error: None,
    }
}

/// Completes `job` as `owner` in a commit that changes nothing else.
pub(super) fn complete(
    store: &dyn Store,
    job: &Job,
    owner: &str,
) -> Result<Vec<gaffer_core::Event>> {
    store.commit(&Commit {
        complete_job: Some(completion(job, owner)),
        ..Commit::default()
    })
}

/// A state update of `task` from its current version to `status`.
pub(super) fn moved(task: &Task, status: Status) -> TaskUpdate {
    let mut state = task.state.clone();
    state.status = status;
    TaskUpdate {
        task: task.id,
        expected_version: task.version,
        state,
        plan: None,
        branch: None,
    }
}

/// `Option::expect` without the lint: these are test assertions.
pub(super) trait ExpectSome<T> {
    fn expect_some(self, what: &str) -> T;
}

impl<T> ExpectSome<T> for Option<T> {
    #[track_caller]
    fn expect_some(self, what: &str) -> T {
        match self {
            Some(v) => v,
            None => panic!("expected {what}, found none"),
        }
    }
}
