//! Running the API on a listener until it is told to stop.

use crate::routes;
use crate::state::{AppState, Ctx};
use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Without a token the API must not be reachable from other machines.
    #[error(
        "refusing to serve the API on {0} without a token: without one it must listen on a loopback address"
    )]
    NotLoopback(SocketAddr),
    #[error("the HTTP server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves [`crate::router`] on `listener` until `shutdown` completes or `state.shutdown` is
/// cancelled (`POST /api/shutdown`), then stops gracefully: it stops accepting connections, ends
/// the event streams, and returns once the requests in flight are answered.
///
/// The caller binds the listener, on a loopback address (`127.0.0.1:<port>`, port 0 for any
/// free one); any other address is refused with [`ServeError::NotLoopback`] unless
/// `state.token` is set, and then every request must carry the token (see [`crate::access`]).
/// `shutdown` does not cancel `state.shutdown`: the caller decides whether stopping the server
/// also stops the rest of the daemon.
pub async fn serve<F>(listener: TcpListener, state: AppState, shutdown: F) -> Result<(), ServeError>
where
    F: Future<Output = ()> + Send + 'static,
{
    let addr = listener.local_addr()?;
    if !addr.ip().is_loopback() && state.token.is_none() {
        return Err(ServeError::NotLoopback(addr));
    }
    let closing = state.shutdown.child_token();
    let app = routes::build(Ctx::new(state, closing.clone()));
    let stop = async move {
        tokio::select! {
            () = shutdown => {}
            () = closing.cancelled() => {}
        }
        // Ends the event streams, which would otherwise keep the graceful shutdown waiting.
        closing.cancel();
    };
    tracing::info!(%addr, "serving the API");
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await?;
    Ok(())
}
