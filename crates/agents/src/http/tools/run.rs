//! `run_command {command, timeout_secs?}`: a shell command in the worktree.
//!
//! Runs `/bin/sh -c <command>` through `gaffer-proc`: in its own process group, with no input,
//! killed (the whole group) on timeout, when the run is cancelled, or when the run's future is
//! dropped. The model sees the exit code and the last 32 KiB of the combined output.
//!
//! The command is not sandboxed: it can read and write anything the gaffer process can.

use super::{ToolContext, ToolError, ToolOutput, args};
use crate::http::error::shorten;
use gaffer_proc::{CommandSpec, Termination};
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;

/// The longest timeout a model may ask for.
const MAX_TIMEOUT: Duration = Duration::from_secs(1800);
/// How much of the output the model sees (the end of it).
const TAIL_BYTES: usize = 32 * 1024;

#[derive(Deserialize)]
struct Args {
    command: String,
    #[serde(default, deserialize_with = "args::lenient_u64")]
    timeout_secs: Option<u64>,
}

pub async fn run(ctx: &ToolContext, input: &Value) -> Result<ToolOutput, ToolError> {
    let args: Args = args::parse("run_command", input)?;
    if args.command.trim().is_empty() {
        return Err(ToolError::InvalidArgs {
            tool: "run_command".into(),
            message: "the command is empty".into(),
        });
    }
    let timeout = args
        .timeout_secs
        .map(Duration::from_secs)
        .unwrap_or(ctx.command_timeout)
        .clamp(Duration::from_secs(1), MAX_TIMEOUT);
    let spec = CommandSpec::shell(&args.command, ctx.worktree.root())
        .envs(ctx.env.iter().cloned())
        .timeout(timeout)
        .tail_bytes(TAIL_BYTES)
        .kill_grace(Duration::from_secs(1));
    let spec = ctx
        .confine
        .apply(spec)
        .map_err(|e| ToolError::Refused(format!("cannot run the command: {e}")))?;
    // The hosts `[sandbox.hosts] tools` allows are relayed while the command runs.
    let mut relays = None;
    let outcome = gaffer_proc::run_with_listeners(&spec, &ctx.cancel, |_, listeners| {
        relays = Some(ctx.confine.start_relays(listeners));
    })
    .await;
    drop(relays);
    let outcome =
        outcome.map_err(|e| ToolError::Refused(format!("cannot run the command: {e}")))?;
    let secs = outcome.duration.as_secs_f64();
    let (status, is_error) = match outcome.termination {
        Termination::Exited(0) => ("exit code 0".to_string(), false),
        Termination::Exited(code) => (format!("exit code {code}"), true),
        Termination::Signaled(signal) => (format!("killed by signal {signal}"), true),
        Termination::TimedOut => (
            format!("timed out after {}s and was killed", timeout.as_secs()),
            true,
        ),
        Termination::Cancelled => ("cancelled".to_string(), true),
    };
    let mut content = status.clone();
    let shown = outcome.tail.len() as u64;
    if outcome.total_bytes > shown {
        content.push_str(&format!(
            "\n[output: {} bytes; only the last {shown} are shown]",
            outcome.total_bytes
        ));
    }
    if !outcome.tail.is_empty() {
        content.push('\n');
        content.push_str(&outcome.tail);
    }
    Ok(ToolOutput {
        content,
        is_error,
        summary: shorten(&format!("{status} in {secs:.1}s"), 200),
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::{context, output};
    use serde_json::json;

    #[tokio::test]
    async fn runs_in_the_worktree_with_the_run_environment() {
        let (_d, ctx) = context();
        let out = output(
            &ctx,
            "run_command",
            json!({"command": "pwd; echo $GAFFER_TEST_VAR; echo err >&2"}),
        )
        .await;
        assert!(!out.is_error, "{}", out.content);
        let root = ctx.worktree.root().display().to_string();
        assert_eq!(out.content, format!("exit code 0\n{root}\nfrom-env\nerr\n"));
        assert!(
            out.summary.starts_with("exit code 0 in "),
            "{}",
            out.summary
        );
    }

    #[tokio::test]
    async fn failures_timeouts_and_big_output() {
        let (_d, ctx) = context();
        let out = output(&ctx, "run_command", json!({"command": "echo no; exit 3"})).await;
        assert!(
            out.is_error && out.content.starts_with("exit code 3\nno"),
            "{}",
            out.content
        );
        let out = output(
            &ctx,
            "run_command",
            json!({"command": "sleep 30", "timeout_secs": "1"}),
        )
        .await;
        assert!(
            out.is_error && out.content.starts_with("timed out after 1s"),
            "{}",
            out.content
        );
        let out = output(
            &ctx,
            "run_command",
            json!({"command": "head -c 100000 /dev/zero | tr '\\0' x"}),
        )
        .await;
        assert!(
            out.content.contains("[output: 100000 bytes; only the last"),
            "{}",
            &out.content[..200]
        );
        assert!(out.content.len() < 40_000);
    }

    #[tokio::test]
    async fn cancel_kills_the_command() {
        let (_d, ctx) = context();
        let cancel = ctx.cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            cancel.cancel();
        });
        let start = std::time::Instant::now();
        let out = output(&ctx, "run_command", json!({"command": "sleep 30"})).await;
        assert!(
            out.is_error && out.content.starts_with("cancelled"),
            "{}",
            out.content
        );
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
    }
}
