//! What a running agent may do with its run's token (`GAFFER_RUN_TOKEN`, issued by the engine
//! through [`gaffer_engine::RunAccess`]): report on its own task, and nothing else.
//!
//! Three routes, `POST` only, for the task the token was issued for:
//! `/api/tasks/{task}/progress`, `/api/tasks/{task}/ask` and `/api/tasks/{task}/propose`. No read
//! (not even of its own task), no approve, answer, cancel or retry, no event stream. Anything
//! else is a 403 that says so. [`crate::access::check`] puts the [`RunCaller`] into the request,
//! and the handlers pin the run a report is recorded on to the token's run.

use crate::error::{ApiError, ErrorCode};
use axum::http::Method;
use gaffer_core::{RunId, TaskId};

/// The agent run a request came from, when it carried a run's token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RunCaller {
    pub task: TaskId,
    pub run: RunId,
}

/// The reports an agent may make about its own task.
const REPORTS: [&str; 3] = ["progress", "ask", "propose"];

impl RunCaller {
    /// Whether this run may call `method path`; a 403 that explains it otherwise.
    pub(crate) fn permits(&self, method: &Method, path: &str) -> Result<(), ApiError> {
        let target = (method == Method::POST)
            .then(|| report_target(path))
            .flatten();
        match target {
            Some(task) if task == self.task => Ok(()),
            Some(task) => Err(refused(format!(
                "run {}'s token is for task {}, not task {task}",
                self.run, self.task
            ))),
            None => Err(refused(format!(
                "run {}'s token may not call {method} {path}",
                self.run
            ))),
        }
    }

    /// The run a report is recorded on: the token's own; a body that names another is refused.
    pub(crate) fn run_for(&self, named: Option<RunId>) -> Result<RunId, ApiError> {
        match named {
            Some(run) if run != self.run => Err(refused(format!(
                "run {}'s token cannot report for run {run}",
                self.run
            ))),
            _ => Ok(self.run),
        }
    }
}

/// The task of `/api/tasks/{id}/{progress|ask|propose}`, exactly spelled (no escapes, no
/// trailing slash: anything else is not a report).
fn report_target(path: &str) -> Option<TaskId> {
    let (id, action) = path.strip_prefix("/api/tasks/")?.split_once('/')?;
    if !REPORTS.contains(&action) || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    id.parse().ok().map(TaskId)
}

fn refused(message: String) -> ApiError {
    ApiError::new(ErrorCode::Forbidden, message).with_hint(
        "an agent's run token only reports on its own task: \
         POST /api/tasks/{its task}/progress, /ask or /propose",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const CALLER: RunCaller = RunCaller {
        task: TaskId(4),
        run: RunId(9),
    };

    #[test]
    fn a_run_reports_on_its_own_task_only() {
        for action in ["progress", "ask", "propose"] {
            let path = format!("/api/tasks/4/{action}");
            assert!(CALLER.permits(&Method::POST, &path).is_ok(), "{path}");
            let e = CALLER
                .permits(&Method::POST, &format!("/api/tasks/5/{action}"))
                .unwrap_err();
            assert_eq!(e.status().as_u16(), 403);
            assert!(e.to_string().contains("not task 5"), "{e}");
        }
    }

    #[test]
    fn nothing_else_is_open_to_a_run() {
        for (method, path) in [
            (Method::GET, "/api/tasks/4/progress"),
            (Method::GET, "/api/tasks/4"),
            (Method::GET, "/api/tasks"),
            (Method::GET, "/api/events/stream"),
            (Method::GET, "/metrics"),
            (Method::POST, "/api/tasks/4/approve"),
            (Method::POST, "/api/tasks/4/answer"),
            (Method::POST, "/api/tasks/4/cancel"),
            (Method::POST, "/api/tasks"),
            (Method::POST, "/api/shutdown"),
            (Method::POST, "/api/tasks/4/progress/"),
            (Method::POST, "/api/tasks/%34/progress"),
            (Method::POST, "/api/tasks/+4/progress"),
            (Method::POST, "/api/tasks/4/progress/x"),
            (Method::PATCH, "/api/tasks/4"),
        ] {
            assert!(CALLER.permits(&method, path).is_err(), "{method} {path}");
        }
    }

    #[test]
    fn a_report_is_recorded_on_the_tokens_run() {
        assert_eq!(CALLER.run_for(None).unwrap(), RunId(9));
        assert_eq!(CALLER.run_for(Some(RunId(9))).unwrap(), RunId(9));
        assert!(CALLER.run_for(Some(RunId(8))).is_err());
    }
}
