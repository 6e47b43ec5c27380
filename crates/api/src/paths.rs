//! Where each of the daemon's routes is, for clients: written here once, beside the types they
//! carry, instead of as string literals at every call.

pub const TASKS: &str = "/api/tasks";
pub const STATUS: &str = "/api/status";
pub const USAGE: &str = "/api/usage";
pub const QUEUE: &str = "/api/queue";
pub const SCALE: &str = "/api/scale";
pub const SHUTDOWN: &str = "/api/shutdown";
/// Removes idle worktrees and dead branches (`POST`), under the daemon's own locks.
pub const CLEAN: &str = "/api/clean";
pub const WORKERS: &str = "/api/workers";
/// The project's worker tokens (`GET`), or a new one (`POST`).
pub const WORKER_TOKENS: &str = "/api/worker-tokens";

/// One task, with its runs and events (`GET`), or changed (`PATCH`).
pub fn task(id: i64) -> String {
    format!("{TASKS}/{id}")
}

/// A route of one task: an action (`approve`, …) or an agent's report (`progress`, `ask`,
/// `propose`).
pub fn task_route(id: i64, route: &str) -> String {
    format!("{TASKS}/{id}/{route}")
}

/// The tasks in any of `statuses` (all tasks when empty).
pub fn tasks_in(statuses: &[&str]) -> String {
    if statuses.is_empty() {
        TASKS.to_string()
    } else {
        format!("{TASKS}?status={}", statuses.join(","))
    }
}

/// Revokes worker token `id` (`POST`).
pub fn revoke_worker_token(id: i64) -> String {
    format!("{WORKER_TOKENS}/{id}/revoke")
}

/// The live event stream, from the event after `after`.
pub fn event_stream(after: i64) -> String {
    format!("/api/events/stream?after={after}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_the_servers() {
        assert_eq!(task(3), "/api/tasks/3");
        assert_eq!(task_route(3, "ask"), "/api/tasks/3/ask");
        assert_eq!(tasks_in(&[]), "/api/tasks");
        assert_eq!(
            tasks_in(&["queued", "merging"]),
            "/api/tasks?status=queued,merging"
        );
        assert_eq!(event_stream(12), "/api/events/stream?after=12");
        assert_eq!(revoke_worker_token(4), "/api/worker-tokens/4/revoke");
    }
}
