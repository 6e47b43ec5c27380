//! `gaffer agent run`: one configured agent, once, outside the pipeline, streaming its normalized
//! events — how a user tries a backend before trusting it with work.

use super::runtime;
use crate::cli::AgentRunArgs;
use crate::context::Context;
use crate::error::{CliError, CliResult, Kind};
use crate::output;
use gaffer_agents::{AgentEvent, RunRequest};
use gaffer_core::Role;
use std::path::PathBuf;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub fn run(ctx: &Context, args: &AgentRunArgs) -> CliResult<()> {
    let dir = match &args.workdir {
        Some(d) if d.is_absolute() => d.clone(),
        Some(d) => ctx.dir().join(d),
        None => ctx.dir().to_path_buf(),
    };
    let dir = dir
        .canonicalize()
        .map_err(|e| CliError::new(Kind::NotFound, format!("{}: {e}", dir.display())))?;
    // Inside a project its gaffer.toml applies; anywhere else, backend defaults.
    let (settings, root, data_dir) = match ctx.board() {
        Ok(board) => {
            let data = board.paths().agent_dir(&args.agent);
            let root = board.git().top_level().to_path_buf();
            (board.settings().clone(), root, data)
        }
        Err(_) => (
            gaffer_config::default_settings(),
            dir.clone(),
            user_data_dir(&args.agent),
        ),
    };
    let agent = gaffer_engine::agent_by_name(&settings, &root, &args.agent, args.model.as_deref())?;
    std::fs::create_dir_all(&data_dir)?;
    // This run's own files (prompt files, raw logs), removed when the command ends.
    let run_dir = tempfile::Builder::new()
        .prefix("gaffer-agent-run-")
        .tempdir()?;
    let request = RunRequest {
        role: Role::Coder,
        prompt: args.prompt.clone(),
        system_prompt: String::new(),
        worktree: dir.clone(),
        model: agent.run_model(),
        resume_session: args.resume.clone(),
        env: Vec::new(),
        max_wall: Duration::from_secs(args.timeout),
        script_key: args.prompt.clone(),
        attempt: 0,
        data_dir,
        run_dir: run_dir.path().to_path_buf(),
        confine: Default::default(),
    };
    let json = args.json;
    let model = agent.model.clone();
    let rt = runtime()?;
    let success = rt.block_on(async move {
        let cancel = CancellationToken::new();
        let stop = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.cancel();
            }
        });
        let mut handle = agent.backend.start(request, cancel)?;
        let mut success = false;
        while let Some(mut event) = handle.events.recv().await {
            if let AgentEvent::Finished { outcome } = &mut event {
                outcome.usage = gaffer_engine::priced(&settings, &model, outcome.usage);
                success = outcome.success;
            }
            if json {
                let line = serde_json::to_string(&event)
                    .map_err(|e| CliError::new(Kind::Internal, e.to_string()))?;
                output::line(&line)?;
            } else {
                output::line(&describe(&event))?;
            }
        }
        Ok::<bool, CliError>(success)
    })?;
    if !success {
        return Err(CliError::new(Kind::Unfinished, "the agent's run failed"));
    }
    Ok(())
}

/// Where a one-off agent keeps its data outside any project.
fn user_data_dir(agent: &str) -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("gaffer").join("agents").join(agent)
}

fn describe(event: &AgentEvent) -> String {
    match event {
        AgentEvent::Started { model, session_id } => format!(
            "started: model {model}{}",
            session_id
                .as_deref()
                .map(|s| format!(", session {s}"))
                .unwrap_or_default()
        ),
        AgentEvent::Text { text } => text.clone(),
        AgentEvent::ToolCall { name, summary } => format!("→ {name}: {summary}"),
        AgentEvent::ToolResult { summary, is_error } => {
            format!("{} {summary}", if *is_error { "✗" } else { "←" })
        }
        AgentEvent::Status { text } => format!("STATUS: {text}"),
        AgentEvent::Question { text } => format!("QUESTION: {text}"),
        AgentEvent::Stuck { text } => format!("STUCK: {text}"),
        AgentEvent::Refused { tool, reason } => format!("✗ refused {tool}: {reason}"),
        AgentEvent::Heard { text } => format!("heard: {}", text.lines().next().unwrap_or("")),
        AgentEvent::Usage { usage } => format!(
            "usage: {} in, {} cached, {} out",
            usage.input_tokens, usage.cached_tokens, usage.output_tokens
        ),
        AgentEvent::Finished { outcome } => format!(
            "finished: {} after {} turn(s); {} in + {} cached + {} out tokens, ${:.4}{}",
            if outcome.success {
                "success"
            } else {
                "failure"
            },
            outcome.turns,
            outcome.usage.input_tokens,
            outcome.usage.cached_tokens,
            outcome.usage.output_tokens,
            outcome.usage.cost_usd,
            outcome
                .error
                .as_deref()
                .map(|e| format!(" — {e}"))
                .unwrap_or_default()
        ),
    }
}
