//! SSE fan-out: figures, not a timed test.
//!
//! `cargo bench -p gaffer-server --bench fanout` serves the API in this process on a real board
//! (a temporary git repository, no engine), connects 200 clients to
//! `GET /api/events/stream?after=<last seq>`, then appends 50 events per second for 20 seconds
//! straight to the store (as the engine's workers and the CLI do, so no write signal reaches the
//! streams: they find the events on their poll). Each event carries its send time; each client
//! records receive time minus send time for every event it gets. It prints the events sent and
//! delivered (with any missing or repeated), the delivery latency (median, p90, p99, max) and
//! the process's resident memory (VmRSS, and its peak VmHWM) before the clients connect, with
//! them connected, and at the end. The clients run in the same process, so the memory figures
//! include their side of the 200 connections too.
//!
//! Environment: `FANOUT_CLIENTS` (200), `FANOUT_RATE` (events per second, 50), `FANOUT_SECS`
//! (20).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::StreamExt;
use gaffer_core::NewEvent;
use gaffer_engine::{Board, BoardOptions};
use gaffer_server::{ApiToken, AppState, serve};
use gaffer_test_support::TestRepo;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The shared clock: send and receive times are nanoseconds since this instant.
static EPOCH: OnceLock<Instant> = OnceLock::new();

fn now_ns() -> u64 {
    u64::try_from(EPOCH.get_or_init(Instant::now).elapsed().as_nanos()).unwrap()
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// VmRSS and VmHWM of this process, in MiB.
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn print_memory(when: &str) {
    let (rss, hwm) = memory();
    println!("  memory {when:<22} VmRSS {rss:7.1} MiB   VmHWM {hwm:7.1} MiB");
}

/// What one client received: (seq, latency in ns) per event, in arrival order.
type Received = Vec<(i64, u64)>;

/// One SSE client: reads frames until it has `expected` events or `stop` is cancelled.
async fn client(
    http: reqwest::Client,
    url: String,
    expected: usize,
    connected: Arc<AtomicUsize>,
    stop: CancellationToken,
) -> Received {
    let response = http.get(&url).send().await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    connected.fetch_add(1, Ordering::SeqCst);
    let mut body = response.bytes_stream();
    let mut buf: Vec<u8> = Vec::new();
    let mut got = Received::with_capacity(expected);
    while got.len() < expected {
        let chunk = tokio::select! {
            () = stop.cancelled() => break,
            chunk = body.next() => match chunk {
                Some(Ok(chunk)) => chunk,
                Some(Err(e)) => panic!("stream failed: {e}"),
                None => break,
            },
        };
        let received = now_ns();
        buf.extend_from_slice(&chunk);
        // Complete frames end with a blank line.
        while let Some(end) = buf.windows(2).position(|w| w == b"\n\n") {
            let frame: Vec<u8> = buf.drain(..end + 2).collect();
            let frame = String::from_utf8_lossy(&frame);
            let mut seq = None;
            let mut sent = None;
            for line in frame.lines() {
                if let Some(id) = line.strip_prefix("id:") {
                    seq = id.trim().parse::<i64>().ok();
                } else if let Some(data) = line.strip_prefix("data:") {
                    let event: serde_json::Value = serde_json::from_str(data.trim()).unwrap();
                    sent = event["data"]["sent_ns"].as_u64();
                }
            }
            // Comments (keep-alives) have neither.
            if let (Some(seq), Some(sent)) = (seq, sent) {
                got.push((seq, received.saturating_sub(sent)));
            }
        }
    }
    got
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    // Nearest rank.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    let i = rank.clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1e6
}

fn main() {
    let clients = usize::try_from(env_or("FANOUT_CLIENTS", 200)).unwrap();
    let rate = env_or("FANOUT_RATE", 50);
    let secs = env_or("FANOUT_SECS", 20);
    let total = usize::try_from(rate * secs).unwrap();
    EPOCH.get_or_init(Instant::now);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(clients, rate, total));
}

async fn run(clients: usize, rate: u64, total: usize) {
    println!("SSE fan-out: {clients} clients, {rate} events/s, {total} events");

    let repo = TestRepo::new();
    let mut settings = gaffer_config::default_settings();
    settings.verify.command = Some("true".into());
    let board = Arc::new(
        Board::open(
            repo.path(),
            settings,
            BoardOptions {
                git_env: repo.env(),
                clock: None,
                ..BoardOptions::default()
            },
        )
        .unwrap(),
    );
    let after = board.last_seq().unwrap();

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let token = ApiToken::generate().unwrap();
    let bearer = format!("Bearer {}", token.reveal());
    let state = AppState::new(Arc::clone(&board), None, token);
    let server_stop = CancellationToken::new();
    let server = tokio::spawn({
        let stop = server_stop.clone();
        async move { serve(listener, state, async move { stop.cancelled().await }).await }
    });
    print_memory("before clients");

    // Clients: all connected (response headers received) before the first event is sent.
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        reqwest::header::HeaderValue::from_str(&bearer).unwrap(),
    );
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .default_headers(headers)
        .build()
        .unwrap();
    let url = format!("http://{addr}/api/events/stream?after={}", after.0);
    let connected = Arc::new(AtomicUsize::new(0));
    let stop = CancellationToken::new();
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            tokio::spawn(client(
                http.clone(),
                url.clone(),
                total,
                Arc::clone(&connected),
                stop.clone(),
            ))
        })
        .collect();
    let connecting = Instant::now();
    while connected.load(Ordering::SeqCst) < clients {
        assert!(
            connecting.elapsed() < Duration::from_secs(30),
            "only {} of {clients} clients connected",
            connected.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    println!(
        "  {clients} clients connected in {:.0} ms",
        connecting.elapsed().as_secs_f64() * 1e3
    );
    // Let the streams settle into their idle poll.
    tokio::time::sleep(Duration::from_secs(1)).await;
    print_memory("with clients connected");

    // The writer: one event per tick, each appended (and its send time taken) on the blocking
    // pool, as a store write from outside the server.
    let mut tick = tokio::time::interval(Duration::from_nanos(1_000_000_000 / rate));
    let mut sent_seqs = Vec::with_capacity(total);
    let sending = Instant::now();
    for i in 0..total {
        tick.tick().await;
        let board = Arc::clone(&board);
        let events = tokio::task::spawn_blocking(move || {
            let event = NewEvent::new(
                "bench.fanout",
                serde_json::json!({ "i": i, "sent_ns": now_ns() }),
            );
            board.store().append_events(&[event]).unwrap()
        })
        .await
        .unwrap();
        sent_seqs.extend(events.iter().map(|e| e.seq.0));
    }
    let send_secs = sending.elapsed().as_secs_f64();

    // Delivery: wait for every client to have everything, for at most 10 seconds.
    let deadline = tokio::time::sleep(Duration::from_secs(10));
    tokio::pin!(deadline);
    let all = futures::future::join_all(handles);
    tokio::pin!(all);
    let results = tokio::select! {
        results = &mut all => results,
        () = &mut deadline => {
            println!("  delivery incomplete after 10 s: stopping the clients");
            stop.cancel();
            all.await
        }
    };
    print_memory("at the end");

    server_stop.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;

    // Tally.
    let sent_index: HashMap<i64, usize> = sent_seqs
        .iter()
        .enumerate()
        .map(|(i, seq)| (*seq, i))
        .collect();
    let mut latencies: Vec<u64> = Vec::with_capacity(clients * total);
    let (mut delivered, mut missing, mut repeated, mut unexpected, mut out_of_order) =
        (0usize, 0usize, 0usize, 0usize, 0usize);
    for result in results {
        let got = result.unwrap();
        let mut seen = vec![0u32; sent_seqs.len()];
        let mut last = i64::MIN;
        for (seq, latency) in got {
            if seq <= last {
                out_of_order += 1;
            }
            last = last.max(seq);
            match sent_index.get(&seq) {
                Some(&i) => {
                    seen[i] += 1;
                    if seen[i] == 1 {
                        delivered += 1;
                        latencies.push(latency);
                    } else {
                        repeated += 1;
                    }
                }
                None => unexpected += 1,
            }
        }
        missing += seen.iter().filter(|n| **n == 0).count();
    }
    latencies.sort_unstable();

    println!();
    println!("  clients                {clients}");
    println!(
        "  events sent            {} in {send_secs:.1} s ({:.1}/s)",
        sent_seqs.len(),
        sent_seqs.len() as f64 / send_secs
    );
    println!(
        "  events delivered       {delivered} of {} expected ({clients} x {})",
        clients * sent_seqs.len(),
        sent_seqs.len()
    );
    println!(
        "  missing {missing}, repeated {repeated}, unexpected {unexpected}, out of order {out_of_order}"
    );
    println!("  delivery latency (ms)");
    println!(
        "    median               {:8.2}",
        percentile(&latencies, 50.0)
    );
    println!(
        "    p90                  {:8.2}",
        percentile(&latencies, 90.0)
    );
    println!(
        "    p99                  {:8.2}",
        percentile(&latencies, 99.0)
    );
    println!(
        "    max                  {:8.2}",
        latencies.last().map_or(f64::NAN, |l| *l as f64 / 1e6)
    );
}
