//! How soon a reader on another connection sees an event: woken by LISTEN/NOTIFY
//! ([`gaffer_store::Store::subscribe`]) against reading on a poll every 100 ms (what the event
//! streams did before). Figures to compare over time, not a pass/fail test.
//!
//! `cargo bench -p gaffer-store-postgres --bench delivery` appends 200 events, one every 20 ms,
//! through one store and times, for each, from just before the append to the moment a reader
//! on a second store (its own connections, as another daemon would have) has read it. Every
//! event must be read exactly once, in order (checked; a failure is an error, never a timing).

use gaffer_core::NewEvent;
use gaffer_store::{Change, EventFilter, Store, SystemClock};
use gaffer_store_postgres::{PgOptions, PgStore};
use gaffer_test_support::postgres::server;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const EVENTS: usize = 200;
const EVERY: Duration = Duration::from_millis(20);
const POLL: Duration = Duration::from_millis(100);

type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn handle(url: &str, schema: &str) -> BenchResult<PgStore> {
    let options = PgOptions {
        schema: schema.to_string(),
        connections: 2,
        ..PgOptions::default()
    };
    Ok(PgStore::open_with(url, &options, Arc::new(SystemClock))?)
}

/// Runs the writer, and a reader that waits for its next read with `wait`; returns the delay
/// of every event.
fn measure(
    url: &str,
    schema: &str,
    wait: impl Fn(&mpsc::Receiver<()>) + Send + 'static,
    listen: bool,
) -> BenchResult<Vec<Duration>> {
    let writer = handle(url, schema)?;
    let reader = handle(url, schema)?;
    let (wake_tx, wake) = mpsc::channel();
    if listen {
        let wake_tx = Mutex::new(wake_tx);
        reader.subscribe(Arc::new(move |change| {
            if change == Change::Events
                && let Ok(tx) = wake_tx.lock()
            {
                let _ = tx.send(());
            }
        }));
    }
    let sent: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let start = writer.last_seq()?;
    let (done_tx, done) = mpsc::channel();
    let sent_by_reader = Arc::clone(&sent);
    let reading = std::thread::spawn(move || -> BenchResult<Vec<Duration>> {
        let mut after = start;
        let mut delays = Vec::new();
        while delays.len() < EVENTS {
            let events = reader.events_after(after, 1000, &EventFilter::default())?;
            let seen = Instant::now();
            for e in &events {
                if e.seq.0 != after.0 + 1 {
                    return Err(
                        format!("event {} after {}: lost or repeated", e.seq.0, after.0).into(),
                    );
                }
                after = e.seq;
                let n = usize::try_from(e.seq.0 - start.0 - 1)?;
                let at = sent_by_reader.lock().map_err(|e| e.to_string())?[n];
                delays.push(seen.duration_since(at));
            }
            if events.is_empty() {
                wait(&wake);
            }
        }
        let _ = done_tx.send(());
        Ok(delays)
    });
    for i in 0..EVENTS {
        sent.lock().map_err(|e| e.to_string())?.push(Instant::now());
        writer.append_events(&[NewEvent::new("bench.tick", serde_json::json!({ "i": i }))])?;
        std::thread::sleep(EVERY);
    }
    done.recv_timeout(Duration::from_secs(60))?;
    reading.join().map_err(|_| "the reader panicked")?
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(name: &str, mut delays: Vec<Duration>) {
    delays.sort();
    println!(
        "{name:<16} {:>5} events  p50 {:>8.2} ms  p99 {:>8.2} ms  max {:>8.2} ms",
        delays.len(),
        percentile(&delays, 0.5).as_secs_f64() * 1e3,
        percentile(&delays, 0.99).as_secs_f64() * 1e3,
        delays.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
}

fn main() -> BenchResult<()> {
    let Some(server) = server() else {
        return Ok(());
    };
    println!(
        "event delivery to another connection, {EVENTS} events one every {} ms:",
        EVERY.as_millis()
    );
    let listened = measure(
        server.url(),
        &server.fresh_schema(),
        |wake| {
            // The wake, or a slow fallback poll (as the streams keep).
            let _ = wake.recv_timeout(Duration::from_secs(1));
        },
        true,
    )?;
    report("LISTEN/NOTIFY", listened);
    let polled = measure(
        server.url(),
        &server.fresh_schema(),
        |_| std::thread::sleep(POLL),
        false,
    )?;
    report("poll 100 ms", polled);
    Ok(())
}
