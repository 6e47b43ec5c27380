//! [`EngineHarness`]: the real engine, in process, on a temporary repository, with scripted
//! agents and a verify command — for engine-level tests of every flow.
//!
//! ```text
//! let mut h = EngineHarness::builder()
//!     .agent("writer", Agent::scripted(SCRIPT))
//!     .set("roles.coder", "writer")
//!     .verify("test ! -e BROKEN")
//!     .build();
//! let id = h.add("Write the notes");
//! h.settle().await;                       // until nothing moves without a person
//! assert_eq!(h.task(id).status(), Status::Merged);
//! assert_eq!(h.file_on_target("notes.txt").as_deref(), Some("notes\n"));
//! ```
//!
//! People act between rounds ([`approve`](EngineHarness::approve),
//! [`answer`](EngineHarness::answer), …); for recovery, [`start`](EngineHarness::start) runs
//! the engine in the background, [`crash`](EngineHarness::crash) drops it mid-work and
//! [`restart`](EngineHarness::restart) reopens the board and starts another.

mod daemons;
mod look;
mod run;
mod setup;

use std::sync::Arc;

use gaffer_core::{Input, NewTask, Task, TaskId};
use gaffer_engine::Board;

use crate::TestRepo;
pub use daemons::Daemons;
pub use setup::{Agent, HarnessBuilder};

/// The project, its board, and the engine when one runs in the background.
pub struct EngineHarness {
    repo: TestRepo,
    board: Arc<Board>,
    running: Option<run::Running>,
    /// Engines started so far: each gets an owner of its own.
    instances: u32,
    /// How its board is shared with other daemons (to open it again the same way).
    sharing: setup::Sharing,
}

impl EngineHarness {
    /// A project to describe: agents, files, verify, configuration.
    pub fn builder() -> HarnessBuilder {
        HarnessBuilder::default()
    }

    fn from_parts(repo: TestRepo, board: Arc<Board>, sharing: setup::Sharing) -> EngineHarness {
        EngineHarness {
            repo,
            board,
            running: None,
            instances: 0,
            sharing,
        }
    }

    /// The repository (the user's checkout, on `main`).
    pub fn repo(&self) -> &TestRepo {
        &self.repo
    }

    /// The board the engine works on.
    pub fn board(&self) -> &Arc<Board> {
        &self.board
    }

    /// Adds a task with this title and nothing else.
    pub fn add(&self, title: &str) -> TaskId {
        self.add_task(NewTask {
            title: title.to_string(),
            ..NewTask::default()
        })
    }

    /// Adds a task.
    pub fn add_task(&self, task: NewTask) -> TaskId {
        self.board
            .add_task(task)
            .unwrap_or_else(|e| panic!("cannot add the task: {e}"))
            .id
    }

    /// The task as stored now.
    pub fn task(&self, id: TaskId) -> Task {
        self.board
            .task(id)
            .unwrap_or_else(|e| panic!("no task {id}: {e}"))
    }

    /// Applies a person's `input`; panics if the machine refuses it.
    pub fn act(&self, id: TaskId, input: Input) {
        if let Err(e) = self.try_act(id, input) {
            panic!("task {id}: {e}");
        }
    }

    /// Applies a person's `input`, returning the machine's refusal as text.
    pub fn try_act(&self, id: TaskId, input: Input) -> Result<(), String> {
        self.board
            .act(id, input, "test")
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    pub fn approve(&self, id: TaskId) {
        self.act(id, Input::Approve);
    }

    pub fn answer(&self, id: TaskId, text: &str) {
        self.act(
            id,
            Input::Answer {
                text: text.to_string(),
            },
        );
    }

    pub fn reject(&self, id: TaskId, reason: &str, cancel: bool) {
        self.act(
            id,
            Input::Reject {
                reason: reason.to_string(),
                cancel,
            },
        );
    }

    pub fn retry(&self, id: TaskId) {
        self.act(id, Input::Retry { fresh: false });
    }

    /// Retries a failed task afresh, as `gaffer task retry --fresh` does: a new branch from the
    /// target, the old attempt's worktree given back.
    pub fn retry_fresh(&self, id: TaskId) {
        self.board
            .perform(id, gaffer_engine::Action::Retry { fresh: true }, "test")
            .unwrap_or_else(|e| panic!("cannot retry task {id} afresh: {e}"));
    }

    /// Carries out a person's `action` as the server does: on the board, then, when an engine
    /// runs in the background, stopping the task's work it asks to stop (a cancel's jobs, the
    /// agent runs a message interrupts).
    pub fn perform(
        &self,
        id: TaskId,
        action: gaffer_engine::Action,
    ) -> Result<gaffer_engine::Performed, String> {
        let performed = self
            .board
            .perform(id, action, "test")
            .map_err(|e| e.to_string())?;
        if let Some(running) = &self.running {
            if performed.cancels_jobs {
                running.engine.cancel_task_jobs(id);
            }
            if performed.delivers_said {
                running.engine.deliver_said(id);
            }
        }
        Ok(performed)
    }

    /// Says `text` to task `id`'s agent, as `gaffer say` does; panics if it is refused.
    pub fn say(&self, id: TaskId, text: &str) {
        let action = gaffer_engine::Action::Say {
            text: text.to_string(),
        };
        if let Err(e) = self.perform(id, action) {
            panic!("cannot say it to task {id}: {e}");
        }
    }

    /// Sets the task's own budget, as `gaffer task budget` does.
    pub fn set_budget(&self, id: TaskId, usd: Option<f64>) {
        self.board
            .set_budget(id, usd, "test")
            .unwrap_or_else(|e| panic!("cannot set the budget of task {id}: {e}"));
    }
}
