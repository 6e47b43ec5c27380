//! Keeping the view live: the event log followed through the daemon's SSE stream when a daemon
//! runs, else by polling the store every 300 ms; the board re-read when events arrive. The
//! daemon is looked for every second, so the shell notices `gaffer up` and `gaffer down`.

use super::app::{App, Detail};
use super::exec::{Session, describe};
use super::report;
use crate::client::Client;
use crate::error::{CliError, CliResult, Kind};
use futures::StreamExt;
use gaffer_core::{Event, Seq};
use gaffer_store::EventFilter;
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::time::{Duration, Instant};

/// How often the store is read for new events when no daemon streams them.
pub const POLL: Duration = Duration::from_millis(300);
/// How often to look for a daemon that started or stopped.
const DAEMON_CHECK: Duration = Duration::from_secs(1);
/// The board is re-read at least this often, events or not.
const REFRESH: Duration = Duration::from_secs(2);
/// And at most this often when events arrive.
const THROTTLE: Duration = Duration::from_millis(200);
/// Events shown when the shell opens.
const BACKLOG: i64 = 200;
/// Events of the selected task in the detail panel.
const RECENT: usize = 12;

enum Streamed {
    Event(Box<Event>),
    /// The stream ended: the daemon closed it (`None`) or it failed (why).
    Ended(Option<String>),
}

pub struct Live {
    tx: Sender<Streamed>,
    rx: Receiver<Streamed>,
    stream: Option<tokio::task::JoinHandle<()>>,
    next_poll: Instant,
    next_daemon_check: Instant,
    next_refresh: Instant,
    /// Events arrived that the board has not been re-read for.
    stale: bool,
    /// The last reason the stream failed, shown once rather than at every reconnection.
    last_failure: Option<String>,
}

impl Live {
    pub fn new() -> Live {
        let (tx, rx) = channel();
        let now = Instant::now();
        Live {
            tx,
            rx,
            stream: None,
            next_poll: now,
            next_daemon_check: now,
            next_refresh: now,
            stale: false,
            last_failure: None,
        }
    }

    /// Loads the recent events and the board.
    pub fn start(&mut self, s: &Session<'_>, app: &mut App) -> CliResult<()> {
        let last = s.board.last_seq()?;
        app.last_seq = Seq((last.0 - BACKLOG).max(0));
        let events = s
            .board
            .events_after(app.last_seq, 1000, &EventFilter::default())?;
        app.push_events(events);
        refresh(s, app)?;
        self.tick(s, app);
        Ok(())
    }

    /// Does whatever is due. Returns whether anything on screen may have changed.
    pub fn tick(&mut self, s: &Session<'_>, app: &mut App) -> bool {
        let now = Instant::now();
        let mut changed = false;
        if now >= self.next_daemon_check {
            self.next_daemon_check = now + DAEMON_CHECK;
            changed |= self.check_daemon(s, app);
        }
        let mut streamed = Vec::new();
        loop {
            match self.rx.try_recv() {
                Ok(Streamed::Event(e)) => streamed.push(*e),
                Ok(Streamed::Ended(failure)) => {
                    self.stop();
                    app.streaming = false;
                    changed = true;
                    if let Some(reason) = &failure {
                        tracing::warn!("the daemon's event stream failed: {reason}");
                        if self.last_failure.as_ref() != Some(reason) {
                            app.error(format!(
                                "the daemon's event stream failed ({reason}); following the store meanwhile"
                            ));
                        }
                    }
                    self.last_failure = failure;
                    // Look again soon: the daemon may have stopped, or only the stream.
                    self.next_daemon_check = now + DAEMON_CHECK;
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        if app.push_events(streamed) > 0 {
            self.stale = true;
        }
        if self.stream.is_none() && now >= self.next_poll {
            self.next_poll = now + POLL;
            match s
                .board
                .events_after(app.last_seq, 1000, &EventFilter::default())
            {
                Ok(events) => self.stale |= app.push_events(events) > 0,
                Err(e) => app.error(format!("cannot read the event log: {e}")),
            }
        }
        // Re-read the board when events arrived, but not more often than THROTTLE (a busy
        // fleet streams many events a second), and every REFRESH regardless.
        let due = self.next_refresh.checked_sub(REFRESH - THROTTLE);
        if (self.stale && due.is_none_or(|d| now >= d)) || now >= self.next_refresh {
            self.next_refresh = now + REFRESH;
            self.stale = false;
            if let Err(e) = refresh(s, app) {
                app.error(describe(&e));
            }
            changed = true;
        }
        changed
    }

    /// Notices a daemon that started or stopped; streams from the one that runs.
    fn check_daemon(&mut self, s: &Session<'_>, app: &mut App) -> bool {
        let client = s.daemon();
        let url = client.as_ref().map(|c| c.url(""));
        let changed = url != app.daemon;
        if changed {
            // Another daemon (or none): whatever streams is from the old one.
            self.stop();
            app.streaming = false;
            app.daemon = url;
        }
        if let Some(client) = client
            && self.stream.is_none()
        {
            let tx = self.tx.clone();
            let after = app.last_seq;
            self.stream = Some(s.rt.spawn(async move {
                let failure = follow(client, after, &tx).await.err();
                let _ = tx.send(Streamed::Ended(failure.map(|e| describe(&e))));
            }));
            app.streaming = true;
            return true;
        }
        changed
    }

    pub fn stop(&mut self) {
        if let Some(handle) = self.stream.take() {
            handle.abort();
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Re-reads the board and the selected task's detail.
pub fn refresh(s: &Session<'_>, app: &mut App) -> CliResult<()> {
    app.set_tasks(s.board.tasks(&[])?);
    refresh_detail(s, app)
}

/// Re-reads the selected task's runs and recent events.
pub fn refresh_detail(s: &Session<'_>, app: &mut App) -> CliResult<()> {
    let Some(task) = app.selected_task().cloned() else {
        app.detail = None;
        return Ok(());
    };
    let (runs, events) = report::detail_parts(&s.board, task.id, RECENT)?;
    app.detail = Some(Detail { task, runs, events });
    Ok(())
}

/// Streams events after `after` from the daemon into `tx` until the stream or the receiver ends.
async fn follow(client: Client, after: Seq, tx: &Sender<Streamed>) -> CliResult<()> {
    let response = client
        .get_stream(&gaffer_api::paths::event_stream(after.0))
        .await?;
    if !response.status().is_success() {
        return Err(CliError::new(
            Kind::Daemon,
            format!("the daemon's event stream answered {}", response.status()),
        ));
    }
    let mut body = response.bytes_stream();
    let mut parser = SseParser::default();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| CliError::new(Kind::Daemon, e.to_string()))?;
        for data in parser.push(&chunk) {
            if let Ok(event) = serde_json::from_str::<Event>(&data)
                && tx.send(Streamed::Event(Box::new(event))).is_err()
            {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// Splits a Server-Sent Events byte stream into the `data` of each event.
#[derive(Debug, Default)]
pub struct SseParser {
    buffer: Vec<u8>,
}

impl SseParser {
    /// Adds bytes; returns the data of every event they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.buffer.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
            let frame: Vec<u8> = self.buffer.drain(..end + 2).collect();
            let frame = String::from_utf8_lossy(&frame);
            let data: Vec<&str> = frame
                .lines()
                .filter_map(|l| l.trim_end_matches('\r').strip_prefix("data:"))
                .map(|d| d.strip_prefix(' ').unwrap_or(d))
                .collect();
            if !data.is_empty() {
                out.push(data.join("\n"));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_frames_across_chunks() {
        let mut p = SseParser::default();
        assert!(
            p.push(b"id: 1\nevent: task.created\ndata: {\"a\"")
                .is_empty()
        );
        assert_eq!(
            p.push(b":1}\n\n: keep-alive\n\nid: 2\ndata: x\n"),
            vec!["{\"a\":1}"]
        );
        assert_eq!(p.push(b"\nid: 3\ndata: caf\xc3"), vec!["x"]);
        assert_eq!(p.push(b"\xa9\ndata: two\n\n"), vec!["café\ntwo"]);
    }
}
