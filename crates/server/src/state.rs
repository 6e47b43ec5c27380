//! What the handlers share: the board, the engine (when one runs in this process), the shutdown
//! token, and the daemon's one follower of the event log, which every event stream reads.

use crate::error::ApiError;
use crate::token::ApiToken;
use gaffer_engine::{Board, EngineHandle};
use gaffer_feed::EventFeed;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// What the daemon hands the server.
#[derive(Clone)]
pub struct AppState {
    /// The project the API serves.
    pub board: Arc<Board>,
    /// The engine running in this process, if any. Without one the API still reads and writes
    /// the board (the changes wait for the next engine to start); `POST /api/scale` is refused.
    pub engine: Option<EngineHandle>,
    /// Cancelled by `POST /api/shutdown`: the daemon watches it to stop cleanly. Event streams
    /// end when it is cancelled, so that a graceful shutdown does not wait on them.
    pub shutdown: CancellationToken,
    /// The token every request must carry (see [`crate::access`]). A generated one keeps the
    /// server on loopback; a configured one lets it listen beyond.
    pub token: ApiToken,
    /// The event log of the board's store, read once for the whole daemon and pushed to every
    /// event stream (see [`gaffer_feed`]). The daemon hands the same feed to its other readers
    /// (the notifier), so that one follower serves them all.
    pub feed: EventFeed,
}

impl AppState {
    /// The API over `board`, open only to requests that carry `token` (and, for their own
    /// task's reports, to running agents with a token from `board.run_access()`).
    pub fn new(board: Arc<Board>, engine: Option<EngineHandle>, token: ApiToken) -> Self {
        let feed = EventFeed::new(Arc::clone(board.store()));
        AppState {
            board,
            engine,
            shutdown: CancellationToken::new(),
            token,
            feed,
        }
    }
}

/// The router's state: the caller's [`AppState`] plus what the server keeps for itself.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub app: AppState,
    /// Cancelled when the server is going away; event streams end on it.
    pub closing: CancellationToken,
    /// What `GET /metrics` has counted from the event log so far.
    metrics: Arc<crate::metrics::Followed>,
    /// Each new event's JSON, made once for every stream that sends it.
    rendered: Arc<crate::rendered::Rendered>,
}

impl Ctx {
    pub fn new(app: AppState, closing: CancellationToken) -> Self {
        Ctx {
            app,
            closing,
            metrics: Arc::default(),
            rendered: Arc::default(),
        }
    }

    pub fn board(&self) -> &Arc<Board> {
        &self.app.board
    }

    /// Tells the event feed (and the engine, if any) that the board changed. The store
    /// announces its own commits to the feed already; this costs one extra read at most.
    pub fn changed(&self) {
        self.app.feed.wake();
        if let Some(engine) = &self.app.engine {
            engine.wake();
        }
    }

    /// The event-log counts behind `GET /metrics`.
    pub(crate) fn metrics(&self) -> Arc<crate::metrics::Followed> {
        Arc::clone(&self.metrics)
    }

    /// The JSON of recent events, shared by the event streams.
    pub(crate) fn rendered(&self) -> Arc<crate::rendered::Rendered> {
        Arc::clone(&self.rendered)
    }

    /// The daemon's event feed.
    pub fn feed(&self) -> &EventFeed {
        &self.app.feed
    }

    /// Runs `work` on the blocking pool: the board talks to SQLite and git synchronously, and
    /// must not stall the async workers that serve other requests and streams.
    pub async fn blocking<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Board) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let board = Arc::clone(&self.app.board);
        tokio::task::spawn_blocking(move || work(&board))
            .await
            .map_err(|e| ApiError::internal(format!("background work failed: {e}")))?
    }
}
