//! `gaffer mcp`: the board as tools for any MCP client, over stdio.
//!
//! A person's own agent session (Claude Code, Codex, any MCP client) can act as gaffer's planner
//! and operator: list, show, add and update tasks, hand a goal to the planner, answer questions,
//! approve or reject, and look at the merge queue and the usage. An agent that gaffer itself
//! runs can report progress, ask a person and propose an idea (`report_progress`, `ask_person`,
//! `propose`; the task comes from `GAFFER_TASK`, which gaffer sets for every agent process).
//!
//! The server holds no state and never opens gaffer's store: every tool is a call of the
//! daemon's HTTP API ([`Api`]), found through `daemon.json` in the state directory at each call
//! (address and token; or a fixed `--server` URL), so it works whether the daemon started
//! before or after it. Inside an agent's run, gaffer sets `GAFFER_API_URL` and
//! `GAFFER_RUN_TOKEN` instead, and they take precedence: a sandboxed agent sees no
//! `daemon.json`, and its run's token lets it report on its own task and do nothing else.

mod tools;

pub use gaffer_api::{API_URL_ENV, Api, ApiError, Endpoint, RUN_TOKEN_ENV};
pub use tools::{AgentContext, GafferMcp, RUN_ENV, TASK_ENV};

use rmcp::ServiceExt;

/// Why the MCP server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum McpError {
    #[error("the MCP session could not start: {0}")]
    Start(String),
    #[error("the MCP session ended with an error: {0}")]
    Session(String),
}

/// Serves the tools on standard input and output until the client closes the connection.
pub async fn serve_stdio(api: Api, agent: AgentContext) -> Result<(), McpError> {
    let service = GafferMcp::new(api, agent)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| McpError::Start(e.to_string()))?;
    service
        .waiting()
        .await
        .map_err(|e| McpError::Session(e.to_string()))?;
    Ok(())
}
