//! `gaffer worker`: a remote worker. It says hello to the daemon with its worker token, keeps a
//! clone of the project's remote, and runs the engine's job code on a board whose store is the
//! daemon (`gaffer_engine::worker`): claiming agent runs and verify with its labels, heartbeating
//! their leases, recording runs and their events, and reporting each result, over outbound
//! HTTP only. It stops on Ctrl-C or SIGTERM (running jobs go back to the queue), and when the
//! daemon refuses its token (revoked).

mod clone;
mod http;

use crate::context::Context;
use crate::daemon::StateLock;
use crate::error::{CliError, CliResult, Kind};
use gaffer_engine::worker::WorkerStore;
use gaffer_engine::{BoardOptions, Engine, agents_from_settings};
use http::HttpTransport;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What `gaffer worker` was asked to do.
pub struct WorkerRun {
    pub server: String,
    pub token: Option<String>,
    pub labels: Vec<String>,
    pub dir: Option<PathBuf>,
    pub remote: Option<String>,
}

pub fn run(ctx: &Context, args: &WorkerRun) -> CliResult<()> {
    // clap reads GAFFER_WORKER_TOKEN when --token is not given.
    let token = args
        .token
        .clone()
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| {
            CliError::new(Kind::Usage, "a worker needs its worker token").hint(
                "make one on the daemon's machine with `gaffer worker token create`, then pass it \
                 in GAFFER_WORKER_TOKEN (or --token)",
            )
        })?;
    let transport = Arc::new(HttpTransport::new(&args.server, token.trim().to_string()));
    let store = WorkerStore::connect(Arc::clone(&transport) as _).map_err(|e| {
        CliError::new(
            Kind::Daemon,
            format!(
                "the daemon at {} did not take this worker: {e}",
                args.server
            ),
        )
        .hint(
            "check --server (the daemon's http://host:port, listening beyond loopback: \
             [server] host = \"0.0.0.0\" with GAFFER_TOKEN set) and the worker token \
             (`gaffer worker token list` on the daemon's machine)",
        )
    })?;
    let store = Arc::new(store);
    let welcome = store.welcome().clone();
    let labels = if args.labels.is_empty() {
        welcome.worker.labels.clone()
    } else {
        args.labels.clone()
    };
    if let Some(label) = labels.iter().find(|l| !welcome.worker.labels.contains(l)) {
        return Err(CliError::new(
            Kind::Usage,
            format!(
                "worker token {} does not grant the label `{label}`",
                welcome.worker.token
            ),
        )
        .hint(format!(
            "the token grants: {}; make a token with the label (`gaffer worker token create \
             --label {label}`)",
            if welcome.worker.labels.is_empty() {
                "no label".to_string()
            } else {
                welcome.worker.labels.join(", ")
            }
        )));
    }
    let dir = match &args.dir {
        Some(dir) => dir.clone(),
        None => default_dir(welcome.worker.token)?,
    };
    let repo = clone::ensure(&dir, &welcome, args.remote.as_deref())?;
    // The board's lease and heartbeat are the daemon's: a worker renewing on its own
    // settings could lose every lease on a board with shorter ones.
    let ctx = ctx
        .at(repo.clone())
        .with_set(format!("host.labels={}", labels.join(",")))
        .with_set(format!("engine.lease={}ms", welcome.lease_ms))
        .with_set(format!("engine.heartbeat={}ms", welcome.heartbeat_ms));
    let settings = ctx.settings()?;
    let prefix = format!(
        "{}{}",
        welcome.worker.prefix(),
        gaffer_engine::daemon_prefix(&dir)
            .strip_prefix("daemon:")
            .unwrap_or_default()
    );
    let options = BoardOptions {
        owner_prefix: Some(prefix.clone()),
        // The daemon's project, however this clone names its remote (`--remote`).
        project_key: Some(welcome.project.root.clone()),
        remote: Some(Arc::clone(&store) as _),
        ..BoardOptions::default()
    }
    .shared(true);
    let board =
        gaffer_engine::Board::open_with_store(&repo, settings, options, Arc::clone(&store) as _)?;
    let _lock = StateLock::acquire(board.paths())?;
    gaffer_engine::sandbox_for(board.settings())?;
    let agents = agents_from_settings(board.settings(), board.git().top_level())?;
    let me = gaffer_proc::current_identity();
    let owner = format!("{prefix}{}:{}", me.pid, me.start_time);
    let board = Arc::new(board);
    outln!(
        "gaffer worker {} ({}) works for {} at {}; clone: {}",
        welcome.worker.name,
        if labels.is_empty() {
            "no labels".to_string()
        } else {
            format!("labels: {}", labels.join(", "))
        },
        welcome.project.name,
        args.server,
        repo.display()
    )?;
    outln!(
        "sandbox: {}",
        gaffer_engine::describe_confinement(board.settings())
    )?;
    let rt = crate::commands::runtime()?;
    rt.block_on(async move {
        let shutdown = CancellationToken::new();
        let engine = Engine::worker(Arc::clone(&board), agents, owner, store);
        let watch = watch(shutdown.clone(), Arc::clone(&transport));
        let result = engine.run(shutdown.clone()).await;
        shutdown.cancel();
        let _ = watch.await;
        result?;
        if transport.refused() {
            return Err(CliError::new(
                Kind::Daemon,
                "the daemon refused this worker's token: it was revoked",
            )
            .hint("make a new one with `gaffer worker token create` on the daemon's machine"));
        }
        outln!("gaffer worker stopped; its unfinished jobs went back to the board")?;
        Ok(())
    })
}

/// Stops the worker on Ctrl-C, SIGTERM, or when the daemon refuses its token.
fn watch(
    shutdown: CancellationToken,
    transport: Arc<HttpTransport>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let refused = async {
            while !transport.refused() {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
            _ = refused => {}
            _ = shutdown.cancelled() => {}
        }
        shutdown.cancel();
    })
}

/// `$XDG_STATE_HOME/gaffer/worker-<token id>` (or `~/.local/state/…`).
fn default_dir(token: i64) -> CliResult<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .ok_or_else(|| {
            CliError::new(Kind::Usage, "no directory for the worker's clone")
                .hint("pass --dir DIR (HOME is not set)")
        })?;
    Ok(base.join("gaffer").join(format!("worker-{token}")))
}
