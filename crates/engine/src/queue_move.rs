//! A person reorders the merge queue's waiting line (`gaffer queue move N --to 1`, `--before
//! M`, `--after M`). Only tasks waiting to join (`queued`) move: the train's order is fixed
//! once it forms, because each candidate is built on the one ahead of it and may be under test;
//! moving one would throw away the verify runs of every candidate behind it.
//!
//! The order is kept as places on the tasks' states (`Input::Place`, only while queued):
//! placed tasks join before the others, by place; the rest by priority, then arrival. A move
//! gives places to every task from the head of the line down to the moved one (and renumbers
//! placed tasks behind it), so the line reads exactly as asked; tasks queued later wait behind
//! the placed ones. Each place is one machine input; the moved task's carries the
//! `queue.moved` event with the line as it is now.

use crate::apply::{Extra, apply};
use crate::board::Board;
use crate::error::{EngineError, Result};
use gaffer_api::Place;
use gaffer_core::payload::QueueMoved;
use gaffer_core::queue::{Entry, waiting};
use gaffer_core::{Input, NewEvent, Payload, Status, Task, TaskId};

impl Board {
    /// Puts waiting task `id` at `to` in the merge queue's waiting line, for `who`; answers the
    /// task. Refused, with a hint, for a task in the train or not in the queue, and for a place
    /// beside a task that does not wait.
    pub fn move_in_queue(&self, id: TaskId, to: Place, who: &str) -> Result<Task> {
        let task = self.task(id)?;
        match task.status() {
            Status::Queued => {}
            Status::Merging => {
                return Err(EngineError::Refused {
                    message: format!(
                        "task {id} is in the merge train already: the train's order is fixed, \
                         each candidate is built on the one ahead of it"
                    ),
                    hint: "only tasks waiting to join move; `gaffer queue` shows which wait".into(),
                });
            }
            status => {
                return Err(EngineError::Refused {
                    message: format!(
                        "task {id} is not waiting in the merge queue (it is {status})"
                    ),
                    hint: "a task joins the queue once it passed verify (and review); `gaffer \
                           queue` shows the waiting tasks"
                        .into(),
                });
            }
        }
        let (view, _) = crate::queue::view(self)?;
        let line: Vec<&Entry> = waiting(&view);
        let mut order: Vec<&Entry> = line.iter().copied().filter(|e| e.task != id).collect();
        let moved = line
            .iter()
            .copied()
            .find(|e| e.task == id)
            .ok_or(EngineError::Contention(id))?;
        let index = match to {
            Place::To(place) => (place.max(1) as usize - 1).min(order.len()),
            Place::Before(other) | Place::After(other) => {
                let at = neighbour(&order, id, other)?;
                if matches!(to, Place::After(_)) {
                    at + 1
                } else {
                    at
                }
            }
        };
        order.insert(index, moved);
        // Places for the head of the line down to the moved task, and for the placed tasks
        // behind it (renumbered after it); the others keep none and wait behind them all.
        let mut writes: Vec<(TaskId, u32, i64)> = Vec::new();
        let mut rank = 0;
        for (i, entry) in order.iter().enumerate() {
            if i > index && entry.place.is_none() {
                continue;
            }
            rank += 1;
            if entry.task != id && entry.place != Some(rank) {
                writes.push((entry.task, rank, entry.arrival));
            }
        }
        for (task, rank, since_ms) in writes {
            let input = Input::Place { rank, since_ms };
            match apply(self, task, &input, Extra::default()) {
                // It joined the train (or left) meanwhile: the line goes on without it.
                Ok(_) | Err(EngineError::Transition { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let place = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let event = NewEvent::of(Payload::QueueMoved(QueueMoved {
            place,
            order: order.iter().map(|e| e.task).collect(),
            by: who.to_string(),
        }));
        let input = Input::Place {
            rank: place,
            since_ms: moved.arrival,
        };
        apply(
            self,
            id,
            &input,
            Extra {
                events: vec![event],
                ..Extra::default()
            },
        )?;
        self.task(id)
    }
}

/// Where waiting task `other` is in `order` (the line without `moving`).
fn neighbour(order: &[&Entry], moving: TaskId, other: TaskId) -> Result<usize> {
    if other == moving {
        return Err(EngineError::InvalidInput {
            message: format!("task {moving} cannot move beside itself"),
            hint: "name another waiting task, or a place: --to 1".into(),
        });
    }
    order
        .iter()
        .position(|e| e.task == other)
        .ok_or_else(|| EngineError::Refused {
            message: format!("task {other} is not waiting in the merge queue"),
            hint: "only a waiting task's place is a place in the line; `gaffer queue` shows them"
                .into(),
        })
}
