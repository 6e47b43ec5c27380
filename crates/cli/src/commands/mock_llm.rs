//! `gaffer mock-llm`: the scripted model server on its own, so any client (Claude Code, Codex,
//! an SDK, curl) can be pointed at it.

use super::runtime;
use crate::cli::MockLlmArgs;
use crate::error::{CliError, CliResult, Kind};
use gaffer_mock_llm::{MockServer, Script, ServerOptions};

pub fn run(args: &MockLlmArgs) -> CliResult<()> {
    let script = Script::load(&args.script).map_err(|e| {
        CliError::new(Kind::Config, format!("{}: {e}", args.script.display()))
            .hint("see crates/mock-llm/README.md for the script format")
    })?;
    runtime()?.block_on(async {
        let server = MockServer::start_with(
            script,
            ServerOptions {
                addr: Some(([127, 0, 0, 1], args.port).into()),
                log_path: args.log.clone(),
            },
        )
        .await
        .map_err(|e| CliError::new(Kind::Daemon, format!("cannot start the server: {e}")))?;
        outln!("scripted model server on {}", server.base_url())?;
        outln!(
            "  Anthropic (Claude Code): {}={}",
            gaffer_config::ANTHROPIC.base_url_env,
            server.base_url()
        )?;
        outln!(
            "  OpenAI-compatible:       {}={}",
            gaffer_config::OPENAI.base_url_env,
            server.openai_base_url()
        )?;
        outln!("Ctrl-C stops it.")?;
        server
            .run_until_ctrl_c()
            .await
            .map_err(|e| CliError::new(Kind::Internal, e.to_string()))
    })
}
