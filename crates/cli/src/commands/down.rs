//! `gaffer down`: ask the daemon to stop, wait until it has.

use super::runtime;
use crate::context::Context;
use crate::daemon::{self, Running, pid_alive};
use crate::error::{CliError, CliResult, Kind};
use std::time::{Duration, Instant};

pub fn run(ctx: &Context) -> CliResult<()> {
    let board = ctx.board()?;
    let Some(info) = daemon::read(board.paths()) else {
        outln!("gaffer is not running")?;
        return Ok(());
    };
    if !info.is_alive() {
        daemon::remove(board.paths());
        outln!("gaffer is not running (removed a stale daemon.json)")?;
        return Ok(());
    }
    let client = info.client(&board.settings().server);
    let asked: CliResult<serde_json::Value> =
        runtime()?.block_on(client.post(gaffer_api::paths::SHUTDOWN, &serde_json::json!({})));
    if asked.is_err() {
        // Not answering over HTTP: fall back to SIGTERM, which it handles the same way.
        let pid = nix::unistd::Pid::from_raw(info.pid as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while pid_alive(info.pid) {
        if Instant::now() > deadline {
            return Err(CliError::new(
                Kind::Daemon,
                format!("gaffer (pid {}) did not stop within a minute", info.pid),
            )
            .hint(format!(
                "`kill {}`; tasks recover on the next `gaffer up`",
                info.pid
            )));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // A daemon that stopped without cleaning up (stopped by SIGTERM before it wrote its state,
    // or killed) leaves its daemon.json; it is stale now.
    if daemon::read(board.paths()).is_some_and(|d| d.pid == info.pid) {
        daemon::remove(board.paths());
    }
    outln!(
        "gaffer is down (pid {}); every task can resume with `gaffer up`",
        info.pid
    )?;
    Ok(())
}
