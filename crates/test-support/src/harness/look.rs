//! What a test looks at: events, statuses, runs and their prompts, and what landed.

use gaffer_core::payload::TaskNotice;
use gaffer_core::{Event, Payload, Run, Seq, Status, TaskId, event_kind};
use gaffer_store::EventFilter;

use super::EngineHarness;
use crate::git_cmd;

/// More events than any test makes.
const EVENT_LIMIT: usize = 1_000_000;

impl EngineHarness {
    /// Every event of the project, in order.
    pub fn all_events(&self) -> Vec<Event> {
        self.board
            .events_after(Seq(0), EVENT_LIMIT, &EventFilter::default())
            .unwrap_or_else(|e| panic!("cannot read the events: {e}"))
    }

    /// The events of task `id`, in order.
    pub fn events(&self, id: TaskId) -> Vec<Event> {
        let filter = EventFilter {
            task: Some(id),
            ..EventFilter::default()
        };
        self.board
            .events_after(Seq(0), EVENT_LIMIT, &filter)
            .unwrap_or_else(|e| panic!("cannot read the events of task {id}: {e}"))
    }

    /// The events of task `id` of one `kind`.
    pub fn events_of(&self, id: TaskId, kind: &str) -> Vec<Event> {
        self.events(id)
            .into_iter()
            .filter(|e| e.kind == kind)
            .collect()
    }

    /// The task's `task.notice` events whose `notice` is `notice` (`escalated`, `budget_stop`…).
    pub fn notices(&self, id: TaskId, notice: &str) -> Vec<Event> {
        self.events_of(id, event_kind::TASK_NOTICE)
            .into_iter()
            .filter(|e| {
                matches!(e.payload(), Ok(Payload::TaskNotice(TaskNotice::Notice(n))) if n.name() == notice)
            })
            .collect()
    }

    /// The statuses task `id` went through (from its `task.status` events), repeats folded.
    pub fn statuses(&self, id: TaskId) -> Vec<Status> {
        let mut out: Vec<Status> = Vec::new();
        for event in self.events_of(id, event_kind::TASK_STATUS) {
            let status = match event.payload() {
                Ok(Payload::TaskStatus(change)) => change.to,
                other => panic!("a task.status event without a status: {other:?}"),
            };
            if out.last() != Some(&status) {
                out.push(status);
            }
        }
        out
    }

    /// The runs of task `id`, in the order they started.
    pub fn runs(&self, id: TaskId) -> Vec<Run> {
        self.board
            .runs(id)
            .unwrap_or_else(|e| panic!("cannot read the runs of task {id}: {e}"))
    }

    /// The prompt the run's agent was given (`runs/<id>/prompt.md`).
    pub fn prompt(&self, run: &Run) -> String {
        let path = self.board.paths().run_dir(run.id).join("prompt.md");
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    }

    /// The file at `path` on the branch gaffer lands on (`gaffer/landed/main`: the user's
    /// checkout has `main`), or `None` when it is not there.
    pub fn file_on_target(&self, path: &str) -> Option<String> {
        let landing = self
            .board
            .landing()
            .unwrap_or_else(|e| panic!("cannot resolve the landing branch: {e}"));
        let output = git_cmd(self.repo.path(), &self.repo.env())
            .args(["show", &format!("{}:{path}", landing.refname())])
            .output()
            .unwrap_or_else(|e| panic!("cannot run git show: {e}"));
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// The first-parent history of the landing branch, newest first, as commit subjects.
    pub fn target_history(&self) -> Vec<String> {
        let landing = self
            .board
            .landing()
            .unwrap_or_else(|e| panic!("cannot resolve the landing branch: {e}"));
        self.repo
            .git(&["log", "--first-parent", "--format=%s", &landing.refname()])
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Every task with its status and note, and the last events: what a failure message shows.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for task in self.board.tasks(&[]).unwrap_or_default() {
            out.push_str(&format!(
                "task {} {:?}: {:?} (note: {:?})\n",
                task.id,
                task.title,
                task.status(),
                task.state.note
            ));
        }
        let events = self.all_events();
        for event in events.iter().skip(events.len().saturating_sub(30)) {
            out.push_str(&format!(
                "  #{} task {:?} {} {}\n",
                event.seq.0,
                event.task.map(|t| t.0),
                event.kind,
                event.data
            ));
        }
        out
    }
}
