//! Running the server: [`MockServer`] for tests and in-process use, [`serve_forever`] for the
//! standalone command.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::error::ServerError;
use crate::handler;
use crate::log::{RequestLog, RequestRecord};
use crate::script::Script;
use crate::state::Shared;

/// How long [`MockServer::shutdown`] waits for open connections before cutting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Where to listen and where to log.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// Address to bind; `127.0.0.1:0` (a free port on loopback) when absent.
    pub addr: Option<SocketAddr>,
    /// A file every request record is appended to, one JSON object per line.
    pub log_path: Option<PathBuf>,
}

/// A running scripted model server. Dropping it stops it (without waiting); call
/// [`shutdown`](Self::shutdown) to wait until it has stopped.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl MockServer {
    /// Starts serving `script` on a free port of 127.0.0.1.
    pub async fn start(script: Script) -> Result<Self, ServerError> {
        Self::start_with(script, ServerOptions::default()).await
    }

    /// Starts serving `script` on `addr`.
    pub async fn start_on(addr: SocketAddr, script: Script) -> Result<Self, ServerError> {
        Self::start_with(
            script,
            ServerOptions {
                addr: Some(addr),
                log_path: None,
            },
        )
        .await
    }

    /// Starts serving `script` as `options` say.
    pub async fn start_with(script: Script, options: ServerOptions) -> Result<Self, ServerError> {
        script.validate()?;
        let log = match &options.log_path {
            Some(path) => RequestLog::with_file(path)?,
            None => RequestLog::default(),
        };
        let wanted = options
            .addr
            .unwrap_or(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
        let listener = TcpListener::bind(wanted)
            .await
            .map_err(|source| ServerError::Bind {
                addr: wanted,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| ServerError::Bind {
            addr: wanted,
            source,
        })?;
        let shared = Arc::new(Shared::new(script, log));
        let app = router(Arc::clone(&shared));
        let stop = shared.shutdown.clone().cancelled_owned();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await
        });
        tracing::debug!(%addr, "mock model server listening");
        Ok(Self {
            addr,
            shared,
            task: Some(task),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT`: what `ANTHROPIC_BASE_URL` takes (clients add `/v1/messages`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://HOST:PORT/v1`: what OpenAI clients take as their base URL (`OPENAI_BASE_URL`,
    /// a Codex provider's `base_url`); they add `/chat/completions` or `/responses`.
    pub fn openai_base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The script it answers from.
    pub fn script(&self) -> &Script {
        &self.shared.script
    }

    /// Every request so far, in order of arrival.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.log.snapshot()
    }

    /// Forgets the requests kept in memory (a log file keeps them).
    pub fn clear_requests(&self) {
        self.shared.log.clear();
    }

    /// Forgets how many attempts each turn has had, so scripted errors happen again.
    pub fn reset_attempts(&self) {
        self.shared.reset_attempts();
    }

    /// Stops accepting requests, ends stalled answers, and waits (a few seconds at most) for
    /// open connections to close.
    pub async fn shutdown(mut self) -> Result<(), ServerError> {
        self.shared.shutdown.cancel();
        self.join().await
    }

    /// Serves until Ctrl-C, then shuts down.
    pub async fn run_until_ctrl_c(mut self) -> Result<(), ServerError> {
        let Some(mut task) = self.task.take() else {
            return Ok(());
        };
        tokio::select! {
            signal = tokio::signal::ctrl_c() => {
                self.shared.shutdown.cancel();
                self.task = Some(task);
                let stopped = self.join().await;
                signal.map_err(ServerError::Signal)?;
                stopped
            }
            served = &mut task => flatten(served),
        }
    }

    async fn join(&mut self) -> Result<(), ServerError> {
        let Some(mut task) = self.task.take() else {
            return Ok(());
        };
        match tokio::time::timeout(SHUTDOWN_GRACE, &mut task).await {
            Ok(served) => flatten(served),
            Err(_) => {
                task.abort();
                Ok(())
            }
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.shared.shutdown.cancel();
    }
}

/// Serves `script` on `addr` until Ctrl-C, appending every request to `log_path` if given.
/// This is the standalone `gaffer mock-llm` command; it logs its URL through `tracing`. To
/// learn the port of `addr` `127.0.0.1:0` before serving, use [`MockServer::start_with`] and
/// [`MockServer::run_until_ctrl_c`] instead.
pub async fn serve_forever(
    addr: SocketAddr,
    script: Script,
    log_path: Option<PathBuf>,
) -> Result<(), ServerError> {
    let server = MockServer::start_with(
        script,
        ServerOptions {
            addr: Some(addr),
            log_path,
        },
    )
    .await?;
    tracing::info!(url = %server.base_url(), "mock model server listening");
    server.run_until_ctrl_c().await
}

/// The routes, each also without the `/v1` prefix for clients configured without it.
fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(handler::chat_completions))
        .route("/chat/completions", post(handler::chat_completions))
        .route("/v1/messages", post(handler::messages))
        .route("/messages", post(handler::messages))
        .route("/v1/messages/count_tokens", post(handler::count_tokens))
        .route("/messages/count_tokens", post(handler::count_tokens))
        .route("/v1/responses", post(handler::responses))
        .route("/responses", post(handler::responses))
        .route("/v1/models", get(handler::models))
        .route("/models", get(handler::models))
        .route("/healthz", get(handler::health))
        .fallback(handler::not_found)
        .with_state(shared)
}

fn flatten(served: Result<std::io::Result<()>, tokio::task::JoinError>) -> Result<(), ServerError> {
    match served {
        Ok(result) => result.map_err(ServerError::Serve),
        Err(join) if join.is_cancelled() => Ok(()),
        Err(join) => Err(ServerError::Serve(std::io::Error::other(join))),
    }
}
