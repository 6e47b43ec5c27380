//! The one test that binds a real port.

use crate::harness::Api;
use gaffer_server::{AppState, ServeError, serve};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Sends one raw HTTP/1.1 request and reads the whole response.
async fn raw(addr: std::net::SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
        .await
        .expect("no response within 10 s")
        .unwrap();
    String::from_utf8(response).unwrap()
}

#[tokio::test]
async fn the_server_answers_on_a_real_port_and_stops_on_request() {
    let api = Api::new();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(serve(listener, api.state.clone(), std::future::pending()));
    let token = api.state.token.reveal().to_string();

    let health = raw(
        addr,
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(health.starts_with("HTTP/1.1 200 OK\r\n"), "{health}");
    assert!(health.contains("\"ok\":true"), "{health}");
    assert!(
        health.contains(&format!("\"pid\":{}", std::process::id())),
        "{health}"
    );
    // Agents are told where the API is once it listens.
    assert_eq!(
        api.board().run_access().api_url(),
        Some(format!("http://{addr}"))
    );

    // Nobody gave this daemon a token, so it made one, and wants it.
    let tasks = raw(
        addr,
        "GET /api/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(
        tasks.starts_with("HTTP/1.1 401 Unauthorized\r\n"),
        "{tasks}"
    );
    assert!(!tasks.contains(&token), "the 401 gives the token away");
    let tasks = raw(
        addr,
        &format!(
            "GET /api/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        ),
    )
    .await;
    assert!(tasks.starts_with("HTTP/1.1 200 OK\r\n"), "{tasks}");

    // An open event stream must not keep the server from stopping.
    let mut watcher = TcpStream::connect(addr).await.unwrap();
    watcher
        .write_all(
            format!("GET /api/events/stream?after=0 HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    let mut head = [0u8; 64];
    let n = watcher.read(&mut head).await.unwrap();
    assert!(
        head[..n].starts_with(b"HTTP/1.1 200 OK"),
        "{:?}",
        String::from_utf8_lossy(&head[..n])
    );

    let bye = raw(
        addr,
        &format!("POST /api/shutdown HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Gaffer: 1\r\nAuthorization: Bearer {token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
    )
    .await;
    assert!(bye.starts_with("HTTP/1.1 202 Accepted\r\n"), "{bye}");
    assert!(api.state.shutdown.is_cancelled());

    let stopped = tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server did not stop within 10 s");
    stopped.unwrap().unwrap();
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), watcher.read_to_end(&mut rest))
        .await
        .expect("the event stream was not closed")
        .unwrap();
}

#[tokio::test]
async fn the_callers_shutdown_future_stops_the_server_too() {
    let api = Api::new();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, api.state.clone(), async move {
        let _ = stopped.await;
    }));
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server did not stop")
        .unwrap()
        .unwrap();
    // Stopping the server is not stopping the daemon.
    assert!(!api.state.shutdown.is_cancelled());
}

#[tokio::test]
async fn the_server_refuses_to_listen_beyond_loopback() {
    let api = Api::new();
    let listener = TcpListener::bind("0.0.0.0:0").await.unwrap();
    let state: AppState = api.state.clone();
    let result = serve(listener, state, std::future::pending()).await;
    assert!(
        matches!(result, Err(ServeError::NotLoopback(_))),
        "{result:?}"
    );
}
