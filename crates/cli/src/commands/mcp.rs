//! `gaffer mcp`: the board as MCP tools on standard input and output (see `gaffer_mcp`).
//!
//! It finds the daemon through the repository's `daemon.json` at every tool call (so it may be
//! started before `gaffer up`), or talks to `--server URL`. It sends the daemon's token when
//! the variable named by `server.token_env` holds one. Standard output carries the protocol
//! only; gaffer's own log goes to standard error.

use super::runtime;
use crate::cli::McpArgs;
use crate::context::Context;
use crate::error::{CliError, CliResult, Kind};
use gaffer_engine::StatePaths;
use gaffer_mcp::{AgentContext, Api, Endpoint};

pub fn run(ctx: &Context, args: &McpArgs) -> CliResult<()> {
    let (endpoint, settings) = match &args.server {
        Some(url) => {
            // Outside a repository there are no settings; the token variable keeps its default.
            let settings = ctx
                .settings()
                .unwrap_or_else(|_| gaffer_config::default_settings());
            (Endpoint::Url(url.clone()), settings)
        }
        None => {
            let git = gaffer_git::Git::open(ctx.dir()).map_err(|e| {
                CliError::from(e).hint(
                    "run `gaffer mcp` in the repository gaffer works on, or give the daemon's \
                     address with --server http://127.0.0.1:PORT",
                )
            })?;
            let settings = ctx.settings()?;
            let paths = StatePaths::resolve(&git, &settings);
            (Endpoint::DaemonFile(paths.daemon_file()), settings)
        }
    };
    let token = std::env::var(&settings.server.token_env).ok();
    let api = Api::new(endpoint, token.as_deref());
    runtime()?
        .block_on(gaffer_mcp::serve_stdio(api, AgentContext::from_env()))
        .map_err(|e| CliError::new(Kind::Internal, e.to_string()))
}
