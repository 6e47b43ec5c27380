//! The store's connection threads. Every database call runs on one of them, never on the
//! caller's thread: the synchronous `postgres` client drives a small Tokio runtime of its own
//! and panics if the calling thread is already driving one, and gaffer's engine calls the store
//! from async code.
//!
//! Each thread owns one connection (opened when it first gets work, reopened after it is lost)
//! and takes calls from one shared channel; the caller blocks on a reply channel until its call
//! is done, as it would on a local database.

use crate::session::Session;
use crate::settings::Settings;
use crossbeam_channel::{Receiver, Sender};
use gaffer_core::Clock;
use gaffer_store::{Result, StoreError};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::thread::JoinHandle;

type Work = Box<dyn FnOnce(&mut Session) + Send>;

pub(crate) struct Pool {
    work: Option<Sender<Work>>,
    threads: Vec<JoinHandle<()>>,
}

impl Pool {
    /// Starts `size` connection threads (at least one).
    pub(crate) fn start(
        settings: Arc<Settings>,
        clock: Arc<dyn Clock>,
        size: usize,
    ) -> Result<Pool> {
        let (work, calls) = crossbeam_channel::unbounded::<Work>();
        let mut pool = Pool {
            work: Some(work),
            threads: Vec::new(),
        };
        for i in 0..size.max(1) {
            let session = Session::new(settings.clone(), clock.clone());
            let calls = calls.clone();
            let thread = std::thread::Builder::new()
                .name(format!("gaffer-pg-{i}"))
                .spawn(move || serve(session, calls))
                .map_err(|e| {
                    StoreError::Database(format!("cannot start a connection thread: {e}"))
                })?;
            pool.threads.push(thread);
        }
        Ok(pool)
    }

    /// Runs `call` on a connection thread and waits for its result.
    pub(crate) fn run<T: Send + 'static>(
        &self,
        call: impl FnOnce(&mut Session) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (reply, answer) = crossbeam_channel::bounded(1);
        let work: Work = Box::new(move |session| {
            // The caller may have gone (it never does: it waits); nothing to do then.
            let _ = reply.send(call(session));
        });
        let sent = self.work.as_ref().map(|w| w.send(work));
        if !matches!(sent, Some(Ok(()))) {
            return Err(StoreError::Database(
                "the store's connection threads are gone".into(),
            ));
        }
        answer.recv().map_err(|_| {
            StoreError::Database("a connection thread failed while running the call".into())
        })?
    }
}

/// A connection thread: runs calls until the store is dropped. A call that panics loses its
/// reply (its caller gets an error) and the connection, whose state is then unknown.
fn serve(mut session: Session, calls: Receiver<Work>) {
    while let Ok(work) = calls.recv() {
        if catch_unwind(AssertUnwindSafe(|| work(&mut session))).is_err() {
            tracing::error!("a store call panicked on its connection thread");
            session.reset();
        }
    }
}

impl Drop for Pool {
    /// Closes the channel and waits for the threads, so that the connections are closed when
    /// the store is gone.
    fn drop(&mut self) {
        self.work = None;
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}
