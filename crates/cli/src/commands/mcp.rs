//! `gaffer mcp`: the board as MCP tools on standard input and output (see `gaffer_mcp`).
//!
//! Where the daemon is, in order: `--server URL`; `GAFFER_API_URL`, which gaffer sets for every
//! agent it runs (inside a sandbox there is no `daemon.json` to read, and no repository is
//! needed); else the repository's `daemon.json`, read at every tool call (so it may be started
//! before `gaffer up`). Which token it sends: `GAFFER_RUN_TOKEN` (an agent's run token, set with
//! `GAFFER_API_URL`); else the one `daemon.json` names; else the value of the variable named by
//! `server.token_env`. Standard output carries the protocol only; gaffer's own log goes to
//! standard error.

use super::runtime;
use crate::cli::McpArgs;
use crate::context::Context;
use crate::error::{CliError, CliResult, Kind};
use gaffer_engine::StatePaths;
use gaffer_mcp::{API_URL_ENV, AgentContext, Api, Endpoint, RUN_TOKEN_ENV};

pub fn run(ctx: &Context, args: &McpArgs) -> CliResult<()> {
    let api = api(ctx, args)?;
    runtime()?
        .block_on(gaffer_mcp::serve_stdio(api, AgentContext::from_env()))
        .map_err(|e| CliError::new(Kind::Internal, e.to_string()))
}

/// The client of the daemon, from the arguments and the environment.
fn api(ctx: &Context, args: &McpArgs) -> CliResult<Api> {
    let set = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let run_token = set(RUN_TOKEN_ENV);
    let url = args.server.clone().or_else(|| set(API_URL_ENV));
    if let Some(url) = url {
        // Outside a repository (or inside a sandbox) there are no settings; the token variable
        // keeps its default.
        let settings = ctx
            .settings()
            .unwrap_or_else(|_| gaffer_config::default_settings());
        let token = run_token.or_else(|| set(&settings.server.token_env));
        return Ok(Api::new(Endpoint::Url(url), token.as_deref()).sent_by("mcp"));
    }
    let git = gaffer_git::Git::open(ctx.dir()).map_err(|e| {
        CliError::from(e).hint(
            "run `gaffer mcp` in the repository gaffer works on, or give the daemon's \
             address with --server http://127.0.0.1:PORT",
        )
    })?;
    let settings = ctx.settings()?;
    let paths = StatePaths::resolve(&git, &settings);
    let configured = set(&settings.server.token_env);
    Ok(Api::new(
        Endpoint::DaemonFile(paths.daemon_file()),
        run_token.as_deref(),
    )
    .with_configured_token(configured.as_deref())
    .sent_by("mcp"))
}
