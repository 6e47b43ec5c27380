//! `gaffer up`: the engine and the HTTP API on 127.0.0.1, in the foreground or detached.
//!
//! The API always wants a token: the one in the variable named by `server.token_env`, or else
//! one gaffer generated for the state directory (see [`api_token`]), written into `daemon.json`
//! (0600) for the clients on this machine, and shown to the person who started the daemon as
//! the dashboard's link. It never goes into the log: a detached daemon (whose output is the log)
//! leaves the link to the `gaffer up --detach` that started it.

use super::runtime;
use crate::cli::UpArgs;
use crate::context::Context;
use crate::daemon::{self, DaemonInfo, Running, Secret, StateLock, api_token};
use crate::error::{CliError, CliResult, Kind};
use gaffer_agents::Registry;
use gaffer_config::ServerSettings;
use gaffer_engine::{Board, Engine, agents_from_settings};
use gaffer_server::{ApiToken, AppState};
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Set by `gaffer up --detach` for the daemon it starts, whose standard output is the log.
const DETACHED_ENV: &str = "GAFFER_UP_DETACHED";

pub fn run(ctx: &Context, args: &UpArgs) -> CliResult<()> {
    let labelled;
    let ctx = if args.labels.is_empty() {
        ctx
    } else {
        labelled = ctx.with_set(format!("host.labels={}", args.labels.join(",")));
        &labelled
    };
    if args.detach {
        return detach(ctx, args);
    }
    let board = ctx.board()?;
    let _lock = StateLock::acquire(board.paths())?;
    let port = args.port.unwrap_or(board.settings().server.port);
    let host = board.settings().server.host;
    let token = api_token(&board.settings().server, board.paths())?;
    // The token is a secret like any other: never stored or shown (but to whoever started us).
    board.secrets().add("GAFFER_API_TOKEN", token.reveal());
    // Runs cannot start without the sandbox the settings ask for, nor a shared board without
    // its remote: say so now, not once the daemon announced itself.
    gaffer_engine::sandbox_for(board.settings())?;
    board.check_shared()?;
    let agents = agents_from_settings(board.settings(), board.git().top_level())?;
    if board.settings().verify.command.is_none() {
        errln!(
            "warning: no verify command is configured; tasks cannot pass verify (`gaffer init`)"
        );
    }
    let board = Arc::new(board);
    let rt = runtime()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind((host, port))
            .await
            .map_err(|e| {
                CliError::new(
                    Kind::Daemon,
                    format!("cannot listen on {}: {e}", SocketAddr::new(host, port)),
                )
                .hint("choose another port with `gaffer up --port N` (0 picks a free one)")
            })?;
        let settings = board.settings().server.clone();
        serve(Arc::clone(&board), agents, listener, token, |info| {
            outln!("gaffer is up: {} (pid {})", info.url(), std::process::id())?;
            if std::env::var_os(DETACHED_ENV).is_none() {
                print_dashboard(info, &settings)?;
                outln!(
                    "sandbox: {}",
                    gaffer_engine::describe_confinement(board.settings())
                )?;
            }
            Ok(())
        })
        .await?;
        outln!("gaffer is down; every task can resume with `gaffer up`")?;
        Ok(())
    })
}

/// A daemon's life on a bound `listener`, until Ctrl-C, SIGTERM or `POST /api/shutdown`: the
/// engine, the API and dashboard, and the notifier, with `daemon.json` naming it meanwhile (so
/// the CLI, the shell and `gaffer dashboard` find it). `announce` is called once the record is
/// written. The caller holds the state directory's lock. `gaffer up` and `gaffer demo --serve`.
pub(crate) async fn serve(
    board: Arc<Board>,
    agents: Registry,
    listener: tokio::net::TcpListener,
    token: ApiToken,
    announce: impl FnOnce(&DaemonInfo) -> CliResult<()>,
) -> CliResult<()> {
    let addr = listener.local_addr()?;
    let shutdown = CancellationToken::new();
    let engine = Engine::new(Arc::clone(&board), agents);
    let info = DaemonInfo {
        pid: std::process::id(),
        port: addr.port(),
        started_ms: now_ms(),
        host: (!addr.ip().is_loopback()).then_some(addr.ip()),
        token: token.is_generated().then(|| Secret::new(token.reveal())),
    };
    let mut state = AppState::new(Arc::clone(&board), Some(engine.handle()), token);
    state.shutdown = shutdown.clone();
    daemon::write(&info, board.paths())?;
    if let Err(e) = announce(&info) {
        daemon::remove(board.paths());
        return Err(e);
    }
    let signals = {
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
                _ = shutdown.cancelled() => {}
            }
            shutdown.cancel();
        })
    };
    // One follower of the event log for the whole daemon: the API's event streams and the
    // notifier read it.
    let feed = state.feed.clone();
    let server = tokio::spawn(gaffer_server::serve(
        listener,
        state,
        shutdown.clone().cancelled_owned(),
    ));
    // Notifications follow the event log in a task of their own: the engine never waits
    // on a webhook.
    let notifier =
        gaffer_notify::spawn(&feed, notifier_config(&board, info.url()), shutdown.clone());
    let result = Arc::clone(&engine).run(shutdown.clone()).await;
    shutdown.cancel();
    let _ = server.await;
    if let Some(notifier) = notifier {
        let _ = tokio::time::timeout(Duration::from_secs(2), notifier).await;
    }
    feed.close();
    signals.abort();
    daemon::remove(board.paths());
    result.map_err(CliError::from)
}

/// The dashboard's link, with the token when the daemon made it (a configured token is the
/// person's own: they open the dashboard once as `/?token=` with it, or run `gaffer dashboard`).
fn print_dashboard(info: &DaemonInfo, server: &ServerSettings) -> CliResult<()> {
    if info.token.is_some() {
        outln!("dashboard: {}", info.dashboard_link(server))
    } else {
        outln!(
            "dashboard: {}/ (open it once as /?token=<{}>, or run `gaffer dashboard`)",
            info.url(),
            server.token_env
        )
    }
}

/// The notifier of `[notify]`, linking its messages to the dashboard at `url`.
fn notifier_config(board: &gaffer_engine::Board, url: String) -> gaffer_notify::NotifierConfig {
    let mut config = gaffer_notify::NotifierConfig::new(
        board.project().id,
        board.project().name.clone(),
        board.settings().notify.clone(),
        board.paths().notify_file(),
        board.git().top_level().to_path_buf(),
    );
    config.link = Some(url);
    config
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
    if let Some(info) = daemon::read(board.paths()).filter(|d| d.is_alive()) {
        return Err(CliError::new(
            Kind::Daemon,
            format!(
                "gaffer is already running (pid {}, port {})",
                info.pid, info.port
            ),
        )
        .hint("`gaffer down` stops it"));
    }
    daemon::remove(board.paths());
    let exe = std::env::current_exe()?;
    let log = std::fs::File::create(board.paths().log_file())?;
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
        .stderr(log)
        .env(DETACHED_ENV, "1");
    let child = cmd.spawn()?;
    let deadline = Instant::now() + Duration::from_secs(20);
    let rt = runtime()?;
    while Instant::now() < deadline {
        if let Some(info) = daemon::read(board.paths()).filter(|d| d.pid == child.id()) {
            let client = info.client(&board.settings().server);
            if rt.block_on(client.healthy()) {
                outln!("gaffer is up: {} (pid {})", info.url(), info.pid)?;
                print_dashboard(&info, &board.settings().server)?;
                outln!(
                    "sandbox: {}",
                    gaffer_engine::describe_confinement(board.settings())
                )?;
                outln!("log: {}", board.paths().log_file().display())?;
                return Ok(());
            }
        }
        if !crate::daemon::pid_alive(child.id()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = std::fs::read_to_string(board.paths().log_file()).unwrap_or_default();
    Err(CliError::new(
        Kind::Daemon,
        format!("the daemon did not start:\n{}", log.trim()),
    )
    .hint(format!("see {}", board.paths().log_file().display())))
}
