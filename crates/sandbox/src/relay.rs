//! Relaying a port of a private network to a service outside it.

use std::io;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How long to pause after a failed `accept` (out of descriptors, say) before trying again.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// Relays every connection accepted on `listener` (one of the listeners gaffer-proc returns
/// for a [`gaffer_proc::PrivateNet`]) to a new connection to `target` (`host:port`, resolved
/// for each connection, from gaffer's own network), both ways, until `cancel` fires; then
/// closes the listener and every connection. Spawn it as a task beside the process, and
/// cancel it when the process has ended.
///
/// Bytes pass through untouched: TLS runs end to end between the process and `target`, so
/// the process must reach it under `target`'s name (see [`crate::PolicyBuilder::hosts`]).
/// Errors only if `listener` cannot be used with Tokio; a connection that fails is dropped
/// (the process sees it closed) and the relay goes on.
pub async fn relay(
    listener: std::net::TcpListener,
    target: String,
    cancel: CancellationToken,
) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let listener = TcpListener::from_std(listener)?;
    // Dropped on return, which aborts the connections still open.
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            () = cancel.cancelled() => return Ok(()),
            accepted = listener.accept() => accepted,
        };
        while connections.try_join_next().is_some() {}
        match accepted {
            Ok((inside, _)) => {
                connections.spawn(join(inside, target.clone()));
            }
            Err(err) => {
                tracing::warn!(%target, %err, "relay: cannot accept a connection");
                tokio::time::sleep(ACCEPT_RETRY).await;
            }
        }
    }
}

/// Connects to `target` and copies both ways until both sides are done.
async fn join(mut inside: TcpStream, target: String) {
    let mut outside = match TcpStream::connect(&target).await {
        Ok(outside) => outside,
        Err(err) => {
            tracing::debug!(%target, %err, "relay: cannot connect");
            return;
        }
    };
    // Streamed answers (server-sent events) come in small writes: pass each on at once.
    let _ = inside.set_nodelay(true);
    let _ = outside.set_nodelay(true);
    if let Err(err) = tokio::io::copy_bidirectional(&mut inside, &mut outside).await {
        tracing::debug!(%target, %err, "relay: connection ended with an error");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Echoes every connection back.
    async fn echo_server() -> u16 {
        let server = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = server.local_addr().unwrap().port();
        tokio::spawn(async move {
            loop {
                let (mut stream, _) = server.accept().await.unwrap();
                tokio::spawn(async move {
                    let (mut r, mut w) = stream.split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                });
            }
        });
        port
    }

    #[tokio::test]
    async fn relays_both_ways_until_cancelled() {
        let echo = echo_server().await;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let cancel = CancellationToken::new();
        let relaying = tokio::spawn(relay(listener, format!("127.0.0.1:{echo}"), cancel.clone()));

        let mut client = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        client.write_all(b"ping").await.unwrap();
        let mut reply = [0u8; 4];
        client.read_exact(&mut reply).await.unwrap();
        assert_eq!(&reply, b"ping");

        cancel.cancel();
        relaying.await.unwrap().unwrap();
        // The open connection is closed, and the port refuses new ones.
        let mut rest = Vec::new();
        assert_eq!(client.read_to_end(&mut rest).await.unwrap_or(0), 0);
        assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
    }

    #[tokio::test]
    async fn an_unreachable_target_closes_the_connection_and_the_relay_goes_on() {
        // A port nothing listens on: bound, then closed.
        let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let target = gone.local_addr().unwrap().to_string();
        drop(gone);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let cancel = CancellationToken::new();
        let relaying = tokio::spawn(relay(listener, target, cancel.clone()));
        for _ in 0..2 {
            let mut client = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            let mut rest = Vec::new();
            assert_eq!(client.read_to_end(&mut rest).await.unwrap_or(0), 0);
        }
        cancel.cancel();
        relaying.await.unwrap().unwrap();
    }
}
