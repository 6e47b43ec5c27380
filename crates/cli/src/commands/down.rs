//! `gaffer down`: ask the daemon to stop, wait until it has; with `--clean`, then remove idle
//! worktrees and dead branches (`gaffer clean`).

use super::runtime;
use crate::context::Context;
use crate::daemon::{self, Running, pid_alive};
use crate::error::{CliError, CliResult, Kind};
use gaffer_engine::StatePaths;
use std::time::{Duration, Instant};

pub fn run(ctx: &Context, clean: bool) -> CliResult<()> {
    stop(ctx)?;
    if clean {
        super::clean::run(ctx, false)?;
    }
    Ok(())
}

fn stop(ctx: &Context) -> CliResult<()> {
    // A gaffer.toml broken since the daemon started must not keep it from being stopped: the
    // daemon is looked for where the default settings put it, and the error said only if none
    // is found there (the broken file may name another state directory).
    let git = gaffer_git::Git::open(ctx.dir())?;
    let (settings, broken) = match ctx.settings() {
        Ok(settings) => (settings, None),
        Err(e) => (gaffer_config::default_settings(), Some(e)),
    };
    let paths = StatePaths::resolve(&git, &settings);
    let Some(info) = daemon::read(&paths) else {
        if let Some(e) = broken {
            return Err(e);
        }
        outln!("gaffer is not running")?;
        return Ok(());
    };
    if let Some(e) = &broken {
        errln!("warning: {} — stopping the daemon all the same", e.message);
    }
    if !info.is_alive() {
        daemon::remove(&paths);
        outln!("gaffer is not running (removed a stale daemon.json)")?;
        return Ok(());
    }
    let client = info.client(&settings.server);
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
    if daemon::read(&paths).is_some_and(|d| d.pid == info.pid) {
        daemon::remove(&paths);
    }
    outln!(
        "gaffer is down (pid {}); every task can resume with `gaffer up`",
        info.pid
    )?;
    Ok(())
}
