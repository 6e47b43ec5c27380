//! What people do to a task: cancel, retry, approve, reject, answer. Through the daemon when it
//! runs (so it acts at once), else directly on the board.

use super::{runtime, task_id};
use crate::context::Context;
use crate::error::CliResult;
use gaffer_core::{Input, Task};

pub fn cancel(ctx: &Context, id: i64, reason: &str) -> CliResult<()> {
    send(
        ctx,
        id,
        "cancel",
        serde_json::json!({ "reason": reason }),
        Input::Cancel {
            reason: reason.to_string(),
        },
    )
}

pub fn simple(ctx: &Context, id: i64, action: &str) -> CliResult<()> {
    let input = match action {
        "retry" => Input::Retry,
        _ => Input::Approve,
    };
    send(ctx, id, action, serde_json::json!({}), input)
}

pub fn reject(ctx: &Context, id: i64, reason: &str, cancel: bool) -> CliResult<()> {
    send(
        ctx,
        id,
        "reject",
        serde_json::json!({ "reason": reason, "cancel": cancel }),
        Input::Reject {
            reason: reason.to_string(),
            cancel,
        },
    )
}

pub fn answer(ctx: &Context, id: i64, text: &str) -> CliResult<()> {
    send(
        ctx,
        id,
        "answer",
        serde_json::json!({ "text": text }),
        Input::Answer {
            text: text.to_string(),
        },
    )
}

fn send(
    ctx: &Context,
    id: i64,
    action: &str,
    body: serde_json::Value,
    input: Input,
) -> CliResult<()> {
    let board = ctx.board()?;
    let task: Task = match ctx.daemon(&board) {
        Some(client) => {
            runtime()?.block_on(client.post(&format!("/api/tasks/{id}/{action}"), &body))?
        }
        None => {
            board.act(task_id(id), input, "cli")?;
            board.task(task_id(id))?
        }
    };
    println!("task {}: {}", task.id, task.status());
    Ok(())
}
