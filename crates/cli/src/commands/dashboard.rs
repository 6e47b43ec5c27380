//! `gaffer dashboard`: the running daemon's dashboard link, with its token, for a browser on
//! this machine. `gaffer up` prints it when it starts; this prints it again.

use crate::context::Context;
use crate::daemon::{self, Running};
use crate::error::{CliError, CliResult, Kind};
use crate::output;

pub fn run(ctx: &Context) -> CliResult<()> {
    let board = ctx.board()?;
    let Some(info) = daemon::read(board.paths()).filter(|d| d.is_alive()) else {
        return Err(
            CliError::new(Kind::Daemon, "gaffer is not running for this repository")
                .hint("`gaffer up` starts it and prints the dashboard's link"),
        );
    };
    let server = &board.settings().server;
    if info.token_for(server).is_none() {
        errln!(
            "note: the daemon's token is configured in {}, which is not set here; \
             add ?token=<its value> to the link once",
            server.token_env
        );
    }
    output::line(&info.dashboard_link(server))
}
