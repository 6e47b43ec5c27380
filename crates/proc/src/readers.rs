//! Tasks that consume a child's output pipes.
//!
//! Both readers take a `stop` token meaning "the process group is gone; stop
//! as soon as the pipe has no data ready". Normally the pipe reaches EOF by
//! itself once every process holding it has exited; `stop` only matters
//! when something that escaped the group still holds the pipe open.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;

use crate::tail::TailBuffer;

/// How long to wait for the pipes to reach EOF after the group is gone.
const DRAIN_LIMIT: Duration = Duration::from_secs(2);

/// A tail buffer shared between its reader task and the supervisor.
pub(crate) type SharedTail = Arc<Mutex<TailBuffer>>;

pub(crate) fn shared_tail(capacity: usize) -> SharedTail {
    Arc::new(Mutex::new(TailBuffer::new(capacity)))
}

/// Renders a shared tail as `(text, total_bytes)`.
pub(crate) fn render_tail(tail: &SharedTail) -> (String, u64) {
    let tail = tail.lock().unwrap_or_else(PoisonError::into_inner);
    (tail.render(), tail.total_bytes())
}

/// Copies everything from `reader` into `tail` until EOF, a read error, or
/// `stop` with no data pending.
pub(crate) async fn copy_into_tail<R>(reader: R, tail: SharedTail, stop: CancellationToken)
where
    R: AsyncRead + Unpin,
{
    let mut reader = reader;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let read = tokio::select! {
            biased;
            read = reader.read(&mut buf) => read,
            () = stop.cancelled() => return,
        };
        match read {
            Ok(0) => return,
            Ok(n) => tail
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(&buf[..n]),
            Err(err) => {
                tracing::debug!(%err, "stopped reading child output");
                return;
            }
        }
    }
}

/// Splits `reader` into lines (without `\n` or `\r\n`) and sends each as
/// lossy UTF-8. Lines longer than `max_line_bytes` are cut to that length;
/// the rest of such a line is read and discarded. A final line without a
/// line break is sent too. If the receiver is gone, output is still read
/// (so the child never blocks on a full pipe) but discarded.
pub(crate) async fn read_lines<R>(
    reader: R,
    max_line_bytes: usize,
    lines: mpsc::Sender<String>,
    stop: CancellationToken,
) where
    R: AsyncRead + Unpin,
{
    let mut reader = BufReader::with_capacity(64 * 1024, reader);
    let mut line = LineBuilder::new(max_line_bytes);
    loop {
        let chunk = tokio::select! {
            biased;
            chunk = reader.fill_buf() => chunk,
            () = stop.cancelled() => break,
        };
        let chunk = match chunk {
            Ok([]) => break,
            Ok(chunk) => chunk,
            Err(err) => {
                tracing::debug!(%err, "stopped reading child stdout");
                break;
            }
        };
        let (used, complete) = match chunk.iter().position(|&b| b == b'\n') {
            Some(nl) => {
                line.extend(&chunk[..nl]);
                (nl + 1, true)
            }
            None => {
                line.extend(chunk);
                (chunk.len(), false)
            }
        };
        reader.consume(used);
        if complete {
            send(&lines, line.take()).await;
        }
    }
    if !line.is_empty() {
        send(&lines, line.take()).await;
    }
}

async fn send(lines: &mpsc::Sender<String>, line: String) {
    if !lines.is_closed() {
        // An error only means the receiver was dropped meanwhile.
        let _ = lines.send(line).await;
    }
}

/// Accumulates one line, keeping at most `max` bytes of it.
struct LineBuilder {
    max: usize,
    bytes: Vec<u8>,
    seen: usize,
}

impl LineBuilder {
    fn new(max: usize) -> Self {
        Self {
            max,
            bytes: Vec::new(),
            seen: 0,
        }
    }

    fn extend(&mut self, chunk: &[u8]) {
        self.seen += chunk.len();
        let room = self.max.saturating_sub(self.bytes.len());
        self.bytes
            .extend_from_slice(&chunk[..chunk.len().min(room)]);
    }

    fn is_empty(&self) -> bool {
        self.seen == 0
    }

    /// Returns the line as text and starts a new one.
    fn take(&mut self) -> String {
        if self.seen > self.max {
            tracing::warn!(
                len = self.seen,
                max = self.max,
                "truncated long output line"
            );
        } else if self.bytes.last() == Some(&b'\r') {
            self.bytes.pop();
        }
        let text = String::from_utf8_lossy(&self.bytes).into_owned();
        self.seen = 0;
        if self.bytes.capacity() > 1024 * 1024 {
            // Do not keep a huge buffer alive after one huge line.
            self.bytes = Vec::new();
        } else {
            self.bytes.clear();
        }
        text
    }
}

/// Waits for reader tasks to finish after the group is gone. If the pipes
/// are not at EOF within [`DRAIN_LIMIT`], fires `stop` so the readers quit
/// once no more data is ready, and waits for that.
pub(crate) async fn drain(tasks: Vec<AbortOnDropHandle<()>>, stop: &CancellationToken) {
    let mut tasks = tasks;
    let all = join_unfinished(&mut tasks);
    if tokio::time::timeout(DRAIN_LIMIT, all).await.is_err() {
        tracing::debug!("output pipes still open after the group exited; stopping readers");
        stop.cancel();
        join_unfinished(&mut tasks).await;
    }
}

/// Awaits every unfinished task in `tasks` (without an extra dependency).
async fn join_unfinished(tasks: &mut [AbortOnDropHandle<()>]) {
    for task in tasks.iter_mut() {
        if !task.is_finished() {
            // A reader never panics on purpose; a JoinError just means done.
            let _ = task.await;
        }
    }
}

/// Spawns `future` on the current runtime, aborting it if the handle is
/// dropped (e.g. when the supervising future is dropped).
pub(crate) fn spawn_reader<F>(future: F) -> AbortOnDropHandle<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let handle: JoinHandle<()> = tokio::spawn(future);
    AbortOnDropHandle::new(handle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_builder_truncates_and_strips_cr() {
        let mut b = LineBuilder::new(4);
        b.extend(b"abc\r");
        assert_eq!(b.take(), "abc");
        b.extend(b"abcdef");
        b.extend(b"gh");
        assert_eq!(b.take(), "abcd");
        assert!(b.is_empty());
    }

    #[tokio::test]
    async fn read_lines_splits_and_keeps_last_partial_line() {
        let input: &[u8] = b"one\r\ntwo\n\nthree";
        let (tx, mut rx) = mpsc::channel(16);
        read_lines(input, 100, tx, CancellationToken::new()).await;
        let mut got = Vec::new();
        while let Some(line) = rx.recv().await {
            got.push(line);
        }
        assert_eq!(got, ["one", "two", "", "three"]);
    }

    #[tokio::test]
    async fn copy_into_tail_counts_everything() {
        let tail = shared_tail(4);
        copy_into_tail(&b"hello world"[..], tail.clone(), CancellationToken::new()).await;
        assert_eq!(render_tail(&tail), ("orld".to_owned(), 11));
    }
}
