//! Running the API on a listener until it is told to stop.

use crate::routes;
use crate::state::{AppState, Ctx};
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use tokio::net::TcpListener;

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Without a configured token the API must not be reachable from other machines.
    #[error(
        "refusing to serve the API on {0} without a configured token: without one it must listen on a loopback address"
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
/// `state.token` was configured rather than generated. Every request but the health check and
/// the dashboard's files must carry the token (see [`crate::access`]).
///
/// Once bound, the server tells the board's [`gaffer_engine::RunAccess`] where it is, so that the
/// engine can tell each agent where to report (`GAFFER_API_URL`).
/// `shutdown` does not cancel `state.shutdown`: the caller decides whether stopping the server
/// also stops the rest of the daemon.
pub async fn serve<F>(listener: TcpListener, state: AppState, shutdown: F) -> Result<(), ServeError>
where
    F: Future<Output = ()> + Send + 'static,
{
    let addr = listener.local_addr()?;
    if !addr.ip().is_loopback() && state.token.is_generated() {
        return Err(ServeError::NotLoopback(addr));
    }
    state.board.run_access().set_api_url(api_url(addr));
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

/// The base URL of a server listening on `addr`, as a process on the same machine reaches it
/// (every interface, `0.0.0.0`, is reached on loopback).
fn api_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_reach_the_api_on_loopback() {
        let url = |s: &str| api_url(s.parse().unwrap());
        assert_eq!(url("127.0.0.1:7420"), "http://127.0.0.1:7420");
        assert_eq!(url("0.0.0.0:7420"), "http://127.0.0.1:7420");
        assert_eq!(url("[::]:9"), "http://[::1]:9");
        assert_eq!(url("192.168.1.5:80"), "http://192.168.1.5:80");
    }
}
