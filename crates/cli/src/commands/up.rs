//! `gaffer up`: the engine and the HTTP API on 127.0.0.1, in the foreground or detached.

use super::runtime;
use crate::cli::UpArgs;
use crate::context::Context;
use crate::daemon::{DaemonInfo, StateLock};
use crate::error::{CliError, CliResult, Kind};
use gaffer_engine::{Engine, agents_from_settings};
use gaffer_server::AppState;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

pub fn run(ctx: &Context, args: &UpArgs) -> CliResult<()> {
    if args.detach {
        return detach(ctx, args);
    }
    let board = ctx.board()?;
    let _lock = StateLock::acquire(&board.paths)?;
    let port = args.port.unwrap_or(board.settings.server.port);
    let agents = agents_from_settings(&board.settings, board.git.top_level())?;
    if board.settings.verify.command.is_none() {
        eprintln!(
            "warning: no verify command is configured; tasks cannot pass verify (`gaffer init`)"
        );
    }
    let board = Arc::new(board);
    let rt = runtime()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| {
                CliError::new(Kind::Daemon, format!("cannot listen on 127.0.0.1:{port}: {e}"))
                    .hint("choose another port with `gaffer up --port N` (0 picks a free one)")
            })?;
        let port = listener.local_addr()?.port();
        let shutdown = CancellationToken::new();
        let engine = Engine::new(Arc::clone(&board), agents);
        let state = AppState {
            board: Arc::clone(&board),
            engine: Some(engine.handle()),
            shutdown: shutdown.clone(),
        };
        DaemonInfo {
            pid: std::process::id(),
            port,
            started_ms: now_ms(),
        }
        .write(&board.paths)?;
        println!("gaffer is up: http://127.0.0.1:{port} (pid {})", std::process::id());
        let signals = {
            let shutdown = shutdown.clone();
            tokio::spawn(async move {
                let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
                    _ = shutdown.cancelled() => {}
                }
                shutdown.cancel();
            })
        };
        let server = tokio::spawn(gaffer_server::serve(listener, state, shutdown.clone().cancelled_owned()));
        let result = Arc::clone(&engine).run(shutdown.clone()).await;
        shutdown.cancel();
        let _ = server.await;
        signals.abort();
        DaemonInfo::remove(&board.paths);
        result?;
        println!("gaffer is down; every task can resume with `gaffer up`");
        Ok(())
    })
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Starts `gaffer up` again in its own session, logging to the state directory, and waits until
/// it answers.
fn detach(ctx: &Context, args: &UpArgs) -> CliResult<()> {
    let board = ctx.board()?;
    if let Some(info) = DaemonInfo::read(&board.paths).filter(|d| d.is_alive()) {
        return Err(CliError::new(
            Kind::Daemon,
            format!(
                "gaffer is already running (pid {}, port {})",
                info.pid, info.port
            ),
        )
        .hint("`gaffer down` stops it"));
    }
    DaemonInfo::remove(&board.paths);
    let exe = std::env::current_exe()?;
    let log = std::fs::File::create(board.paths.log_file())?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("-C").arg(ctx.dir()).args(ctx.settings_args());
    if let Some(port) = args.port {
        cmd.arg("up").arg("--port").arg(port.to_string());
    } else {
        cmd.arg("up");
    }
    use std::os::unix::process::CommandExt;
    cmd.process_group(0)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    let child = cmd.spawn()?;
    let deadline = Instant::now() + Duration::from_secs(20);
    let rt = runtime()?;
    while Instant::now() < deadline {
        if let Some(info) = DaemonInfo::read(&board.paths).filter(|d| d.pid == child.id()) {
            let client = crate::client::Client::new(info.port);
            if rt.block_on(client.healthy()) {
                println!(
                    "gaffer is up: http://127.0.0.1:{} (pid {})",
                    info.port, info.pid
                );
                println!("log: {}", board.paths.log_file().display());
                return Ok(());
            }
        }
        if !crate::daemon::pid_alive(child.id()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = std::fs::read_to_string(board.paths.log_file()).unwrap_or_default();
    Err(CliError::new(
        Kind::Daemon,
        format!("the daemon did not start:\n{}", log.trim()),
    )
    .hint(format!("see {}", board.paths.log_file().display())))
}
