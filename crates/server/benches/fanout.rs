//! SSE fan-out: figures, not a timed test.
//!
//! `cargo bench -p gaffer-server --bench fanout` serves the API in this process on a real board
//! (a temporary git repository, SQLite, no engine) and runs two phases with the same writers:
//!
//! 1. **push** (the daemon as built): 200 clients on `GET /api/events/stream?after=<last seq>`,
//!    each a subscription to the daemon's one follower of the event log.
//! 2. **poll baseline** (the old path): 200 clients that each read the store every 100 ms
//!    themselves (`events_after` from their own position, on the blocking pool), as every
//!    stream did before the follower: one query per client per tick. They skip HTTP, so the
//!    figures are, if anything, better than the old path's.
//!
//! In each phase 50 events per second are written for 20 seconds, alternately by two writers:
//! **in-process**, through the board's store as the engine writes (`append_events`: a commit
//! the store announces to the follower), and **other process**, a child process (this bench
//! again) with its own connection to the same SQLite file, as `gaffer task add` writes while
//! the daemon runs (nothing announces those: the follower finds them on its tick). Each event
//! carries its send time (the system clock, which both processes share); each client records
//! receive time minus send time per event. Printed per phase and per writer: events sent and
//! delivered, missing, repeated, unexpected and out of order, the delivery latency (median,
//! p90, p99, max), and the process's resident memory (VmRSS, and its peak VmHWM) before the
//! clients connect, with them connected, and at the end. The clients run in this process, so
//! the memory includes their side of the connections too.
//!
//! Environment: `FANOUT_CLIENTS` (200), `FANOUT_RATE` (events per second, both writers
//! together, 50), `FANOUT_SECS` (20), `FANOUT_POLL_MS` (the baseline's poll, 100).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::StreamExt;
use gaffer_core::{NewEvent, Seq};
use gaffer_engine::{Board, BoardOptions};
use gaffer_server::{ApiToken, AppState, serve};
use gaffer_store::{EventFilter, SqliteStore, Store};
use gaffer_test_support::TestRepo;
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Set in the child process: the database it writes to.
const WRITER_DB: &str = "FANOUT_WRITER_DB";
/// Set in the child process: how many events it writes, and every how many nanoseconds.
const WRITER_COUNT: &str = "FANOUT_WRITER_COUNT";
const WRITER_PERIOD_NS: &str = "FANOUT_WRITER_PERIOD_NS";

/// The two writers, as recorded in each event's `from`.
const IN_PROCESS: u64 = 0;
const OTHER_PROCESS: u64 = 1;
const WRITERS: [&str; 2] = ["in-process (announced)", "other process (SQLite)"];

/// Nanoseconds since the Unix epoch: a clock both processes read.
fn now_ns() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since.as_nanos()).unwrap()
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

/// What one client received: (seq, latency in ns, writer) per event, in arrival order.
type Received = Vec<(i64, u64, u64)>;

/// The send time and writer an event carries.
fn stamp(data: &serde_json::Value) -> Option<(u64, u64)> {
    Some((data["sent_ns"].as_u64()?, data["from"].as_u64()?))
}

/// One SSE client: reads frames until it has `expected` events or `stop` is cancelled.
async fn sse_client(
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
                    sent = stamp(&event["data"]);
                }
            }
            // Comments (keep-alives) have neither.
            if let (Some(seq), Some((sent, from))) = (seq, sent) {
                got.push((seq, received.saturating_sub(sent), from));
            }
        }
    }
    got
}

/// One client of the old kind: reads the store itself every `poll`.
async fn polling_client(
    store: Arc<dyn Store>,
    after: Seq,
    poll: Duration,
    expected: usize,
    stop: CancellationToken,
) -> Received {
    let mut last = after;
    let mut got = Received::with_capacity(expected);
    while got.len() < expected && !stop.is_cancelled() {
        let store = Arc::clone(&store);
        let events = tokio::task::spawn_blocking(move || {
            store.events_after(last, 1000, &EventFilter::default())
        })
        .await
        .unwrap()
        .unwrap();
        let received = now_ns();
        for event in &events {
            last = event.seq;
            if let Some((sent, from)) = stamp(&event.data) {
                got.push((event.seq.0, received.saturating_sub(sent), from));
            }
        }
        if events.is_empty() {
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep(poll) => {}
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
    if let Some(db) = std::env::var_os(WRITER_DB) {
        other_process_writer(Path::new(&db));
        return;
    }
    let clients = usize::try_from(env_or("FANOUT_CLIENTS", 200)).unwrap();
    let rate = env_or("FANOUT_RATE", 50);
    let secs = env_or("FANOUT_SECS", 20);
    let poll = Duration::from_millis(env_or("FANOUT_POLL_MS", 100));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(clients, rate, secs, poll));
}

/// The child process: waits for a line on standard input, then appends its events at its
/// pace through a store handle of its own, and prints their seqs.
fn other_process_writer(db: &Path) {
    let count = env_or(WRITER_COUNT, 0);
    let period = Duration::from_nanos(env_or(WRITER_PERIOD_NS, 40_000_000));
    let store = SqliteStore::open_default(db).unwrap();
    // The daemon's streams carry its project's events only, as the engine writes them.
    let project = store.projects().unwrap()[0].id;
    let mut go = String::new();
    std::io::stdin().lock().read_line(&mut go).unwrap();
    let start = Instant::now();
    let mut seqs = Vec::new();
    for i in 0..count {
        let at = start + period * u32::try_from(i).unwrap();
        std::thread::sleep(at.saturating_duration_since(Instant::now()));
        let event = NewEvent::new(
            "bench.fanout",
            serde_json::json!({ "i": i, "sent_ns": now_ns(), "from": OTHER_PROCESS }),
        )
        .project(project);
        seqs.extend(
            store
                .append_events(&[event])
                .unwrap()
                .iter()
                .map(|e| e.seq.0),
        );
    }
    let mut out = std::io::stdout().lock();
    for seq in seqs {
        writeln!(out, "{seq}").unwrap();
    }
}

/// The child writer, started and waiting.
fn start_other_writer(db: &Path, count: usize, period: Duration) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .env(WRITER_DB, db)
        .env(WRITER_COUNT, count.to_string())
        .env(WRITER_PERIOD_NS, period.as_nanos().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

async fn run(clients: usize, rate: u64, secs: u64, poll: Duration) {
    let total = usize::try_from(rate * secs).unwrap();
    println!(
        "SSE fan-out: {clients} clients, {rate} events/s for {secs} s ({total} events), \
         written alternately in this process and by another process"
    );
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

    println!();
    println!("push: SSE clients of the daemon's one follower");
    print_memory("before clients");
    let after = board.last_seq().unwrap();
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
            tokio::spawn(sse_client(
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
    tokio::time::sleep(Duration::from_secs(1)).await;
    print_memory("with clients connected");
    let sent = write(&board, rate, total).await;
    let results = collect(handles, &stop).await;
    print_memory("at the end");
    report(clients, &sent, results);

    println!();
    println!(
        "poll baseline (the old path): each client reads the store every {} ms itself",
        poll.as_millis()
    );
    print_memory("before clients");
    let after = board.last_seq().unwrap();
    let stop = CancellationToken::new();
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            tokio::spawn(polling_client(
                Arc::clone(board.store()),
                after,
                poll,
                total,
                stop.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    print_memory("with clients connected");
    let sent = write(&board, rate, total).await;
    let results = collect(handles, &stop).await;
    print_memory("at the end");
    report(clients, &sent, results);

    server_stop.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
}

/// Writes `total` events at `rate`, every other one in this process (through the board's
/// store, on the blocking pool) and the others from the child process, interleaved; returns
/// the seqs written.
async fn write(board: &Arc<Board>, rate: u64, total: usize) -> Vec<(i64, u64)> {
    let period = Duration::from_nanos(1_000_000_000 / rate);
    let theirs = total / 2;
    let ours = total - theirs;
    let mut child = start_other_writer(&board.paths().database(), theirs, period * 2);
    let mut go = child.stdin.take().unwrap();
    let sending = Instant::now();
    writeln!(go, "go").unwrap();
    drop(go);
    // Ours half a period after theirs.
    tokio::time::sleep(period).await;
    let mut tick = tokio::time::interval(period * 2);
    let mut sent = Vec::with_capacity(total);
    for i in 0..ours {
        tick.tick().await;
        let board = Arc::clone(board);
        let events = tokio::task::spawn_blocking(move || {
            let event = NewEvent::new(
                "bench.fanout",
                serde_json::json!({ "i": i, "sent_ns": now_ns(), "from": IN_PROCESS }),
            )
            .project(board.project().id);
            board.store().append_events(&[event]).unwrap()
        })
        .await
        .unwrap();
        sent.extend(events.iter().map(|e| (e.seq.0, IN_PROCESS)));
    }
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(output.status.success(), "the other process failed");
    let send_secs = sending.elapsed().as_secs_f64();
    for line in output.stdout.as_slice().lines() {
        sent.push((line.unwrap().trim().parse().unwrap(), OTHER_PROCESS));
    }
    sent.sort_unstable();
    println!(
        "  events sent            {} in {send_secs:.1} s ({:.1}/s): {ours} in-process, {theirs} by the other process",
        sent.len(),
        sent.len() as f64 / send_secs
    );
    sent
}

/// Waits for every client to have everything, for at most 10 seconds after the writing.
async fn collect(
    handles: Vec<tokio::task::JoinHandle<Received>>,
    stop: &CancellationToken,
) -> Vec<Received> {
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
    results.into_iter().map(Result::unwrap).collect()
}

fn report(clients: usize, sent: &[(i64, u64)], results: Vec<Received>) {
    let sent_index: HashMap<i64, usize> = sent
        .iter()
        .enumerate()
        .map(|(i, (seq, _))| (*seq, i))
        .collect();
    let mut latencies: [Vec<u64>; 2] = [Vec::new(), Vec::new()];
    let (mut delivered, mut missing, mut repeated, mut unexpected, mut out_of_order) =
        (0usize, 0usize, 0usize, 0usize, 0usize);
    for got in results {
        let mut seen = vec![0u32; sent.len()];
        let mut last = i64::MIN;
        for (seq, latency, from) in got {
            if seq <= last {
                out_of_order += 1;
            }
            last = last.max(seq);
            match sent_index.get(&seq) {
                Some(&i) => {
                    seen[i] += 1;
                    if seen[i] == 1 {
                        delivered += 1;
                        latencies[usize::from(from == OTHER_PROCESS)].push(latency);
                    } else {
                        repeated += 1;
                    }
                }
                None => unexpected += 1,
            }
        }
        missing += seen.iter().filter(|n| **n == 0).count();
    }
    println!("  clients                {clients}");
    println!(
        "  events delivered       {delivered} of {} expected ({clients} x {})",
        clients * sent.len(),
        sent.len()
    );
    println!(
        "  missing {missing}, repeated {repeated}, unexpected {unexpected}, out of order {out_of_order}"
    );
    let mut all: Vec<u64> = latencies.iter().flatten().copied().collect();
    all.sort_unstable();
    println!("  delivery latency (ms)    median      p90      p99      max");
    let line = |name: &str, sorted: &[u64]| {
        println!(
            "    {name:<22} {:8.2} {:8.2} {:8.2} {:8.2}",
            percentile(sorted, 50.0),
            percentile(sorted, 90.0),
            percentile(sorted, 99.0),
            sorted.last().map_or(f64::NAN, |l| *l as f64 / 1e6)
        );
    };
    line("all", &all);
    for (name, mut of) in WRITERS.iter().zip(latencies) {
        of.sort_unstable();
        line(name, &of);
    }
}
