//! What the landings-per-hour benches share: their knobs and the scripted coder they run.

use gaffer_core::{Status, TaskId, event_kind};
use gaffer_test_support::{Agent, Daemons};
use std::time::{Duration, Instant};

/// The number in the environment variable `name`, else `default`.
pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A coder that writes `fNN.txt` for a task titled `task NN`, taking `delay_ms`.
pub fn coder(tasks: u64, delay_ms: u64) -> Agent {
    let mut script = String::new();
    for i in 0..tasks {
        script.push_str(&format!(
            "[[task]]\nmatch = \"task {i:02}\"\n[[task.attempt]]\ndelay_ms = {delay_ms}\n\
             actions = [{{ write = \"f{i:02}.txt\", content = \"{i}\\n\" }}]\n\n"
        ));
    }
    Agent::scripted(&script)
}

/// Waits until every task merged, stops every engine, checks each landed exactly once, and
/// returns the wall time since `start`.
pub async fn landed_once_each(d: &mut Daemons, ids: &[TaskId], start: Instant) -> Duration {
    d.daemon(0)
        .wait_until("every task to merge", |h| {
            ids.iter()
                .all(|id| h.task(*id).status() == Status::Merged)
                .then_some(())
        })
        .await;
    let wall = start.elapsed();
    d.stop_all().await;
    for id in ids {
        let landed = d.daemon(0).events_of(*id, event_kind::QUEUE_LANDED).len();
        assert_eq!(landed, 1, "task {id} landed {landed} times");
    }
    wall
}
