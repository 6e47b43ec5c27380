//! `gaffer demo --serve`: once the crew is done, the demo's board stays up as a daemon does
//! (`gaffer up`'s own serving: the engine, the API and the dashboard, `daemon.json`), on
//! 127.0.0.1, so that a newcomer can click through what just happened, or ask the CLI
//! (`gaffer -C <repo> log 3`), until Ctrl-C or SIGTERM.

use super::crew::Crew;
use crate::commands::up;
use crate::daemon::{Running, StateLock, api_token};
use crate::error::{CliError, CliResult, Kind};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

/// Serves the crew's board on `port` (0, or none: a free one) until Ctrl-C or SIGTERM. The
/// dashboard's link goes to standard output, or to standard error under `--json`, whose
/// output is one document.
pub fn serve(
    rt: &tokio::runtime::Runtime,
    crew: &Crew,
    repo: &Path,
    port: Option<u16>,
    json: bool,
) -> CliResult<()> {
    let board = &crew.board;
    let _lock = StateLock::acquire(board.paths())?;
    let settings = board.settings().server.clone();
    let token = api_token(&settings, board.paths())?;
    // As `gaffer up` does: the token is never stored or shown, but to whoever started us.
    board.secrets().add("GAFFER_API_TOKEN", token.reveal());
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port.unwrap_or(0)));
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            CliError::new(Kind::Daemon, format!("cannot listen on {addr}: {e}")).hint(
                "choose another port with `gaffer demo --serve --port N` (0 picks a free one)",
            )
        })?;
        up::serve(
            Arc::clone(board),
            crew.agents.clone(),
            listener,
            token,
            |info| {
                let lines = [
                    String::new(),
                    format!(
                        "serving the demo's board (pid {}); Ctrl-C stops it",
                        info.pid
                    ),
                    format!("dashboard: {}", info.dashboard_link(&settings)),
                    format!(
                        "or ask the CLI, which finds this daemon: gaffer -C {} status",
                        repo.display()
                    ),
                ];
                for line in lines {
                    if json {
                        errln!("{line}");
                    } else {
                        outln!("{line}")?;
                    }
                }
                Ok(())
            },
        )
        .await
    })?;
    if !json {
        outln!("stopped serving the demo's board")?;
    }
    Ok(())
}
