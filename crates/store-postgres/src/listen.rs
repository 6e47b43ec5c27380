//! The LISTEN side of waking waiters ([`gaffer_store::Store::subscribe`]): one thread per
//! store, with a connection of its own, listens on the store's two channels (see
//! [`crate::notify`]) and calls every listener for each notification, whichever process or
//! machine committed the change. A lost connection is made again (after a pause that grows to a
//! few seconds); when it is back, every listener is called once for each kind of change, since
//! notifications sent meanwhile were lost. The thread ends once its store is dropped.

use crate::session;
use crate::settings::Settings;
use gaffer_store::{Change, Listener};
use postgres::fallible_iterator::FallibleIterator;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// How often the thread looks whether its store is gone.
const POLL: Duration = Duration::from_millis(500);
/// How often the listener checks that its connection still answers.
const PING_EVERY: Duration = Duration::from_secs(15);
/// The longest pause before connecting again.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long the first `subscribe` waits for LISTEN to be in place, so that a change committed
/// right after it returns is heard (past that, the thread keeps trying and wakes everyone once
/// it listens).
const READY_WAIT: Duration = Duration::from_secs(10);

/// The listeners of one store, and whether its thread runs.
#[derive(Default)]
pub(crate) struct Listeners {
    list: Mutex<Vec<Listener>>,
    started: Mutex<bool>,
}

impl Listeners {
    /// Adds `listener`, starting the listening thread with the first one.
    pub(crate) fn subscribe(self: &Arc<Self>, settings: &Arc<Settings>, listener: Listener) {
        self.list
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(listener);
        let mut started = self.started.lock().unwrap_or_else(|p| p.into_inner());
        if *started {
            return;
        }
        let (me, settings) = (Arc::downgrade(self), Arc::clone(settings));
        let (ready_tx, ready) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("gaffer-pg-listen".into())
            .spawn(move || listen(&me, &settings, ready_tx));
        match spawned {
            Ok(_) => {
                *started = true;
                if ready.recv_timeout(READY_WAIT).is_err() {
                    tracing::warn!("the store's listener is not connected yet; it keeps trying");
                }
            }
            Err(e) => tracing::error!("cannot start the PostgreSQL listener thread: {e}"),
        }
    }

    fn call(&self, change: Change) {
        let listeners = self.list.lock().unwrap_or_else(|p| p.into_inner()).clone();
        for listener in listeners {
            // A listener that panics must not stop the others or the thread.
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| listener(change))).is_err()
            {
                tracing::error!("a store change listener panicked");
            }
        }
    }
}

fn listen(listeners: &Weak<Listeners>, settings: &Settings, ready: std::sync::mpsc::Sender<()>) {
    let mut backoff = Duration::from_millis(100);
    // Whether `subscribe` heard that LISTEN was in place: until then (and after any gap), the
    // first LISTEN wakes every listener, since what was notified before it was not heard.
    let mut heard_ready = false;
    loop {
        if listeners.strong_count() == 0 {
            return;
        }
        let mut client = match session::connect(settings) {
            Ok(client) => client,
            Err(e) => {
                tracing::warn!("store listener: {e}; trying again in {backoff:?}");
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        let channels = &settings.channels;
        let sql = format!(
            "LISTEN \"{}\"; LISTEN \"{}\"",
            channels.events, channels.jobs
        );
        if let Err(e) = client.batch_execute(&sql) {
            tracing::warn!("store listener: cannot LISTEN: {e}");
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(MAX_BACKOFF);
            continue;
        }
        backoff = Duration::from_millis(100);
        if heard_ready {
            // Whatever was notified while the connection was down is lost: wake everyone.
            if let Some(l) = listeners.upgrade() {
                l.call(Change::Events);
                l.call(Change::Jobs);
            }
        } else if ready.send(()).is_err() {
            // `subscribe` stopped waiting: it may have missed changes meanwhile.
            if let Some(l) = listeners.upgrade() {
                l.call(Change::Events);
                l.call(Change::Jobs);
            }
        }
        heard_ready = true;
        let mut last_ping = std::time::Instant::now();
        loop {
            let Some(l) = listeners.upgrade() else {
                return;
            };
            let mut broken = false;
            let mut notifications = client.notifications();
            let mut arriving = notifications.timeout_iter(POLL);
            loop {
                match arriving.next() {
                    Ok(Some(n)) if n.channel() == channels.events => l.call(Change::Events),
                    Ok(Some(n)) if n.channel() == channels.jobs => l.call(Change::Jobs),
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!("store listener: {e}");
                        broken = true;
                        break;
                    }
                }
            }
            drop(arriving);
            drop(notifications);
            drop(l);
            if broken || client.is_closed() {
                break;
            }
            // A listener only reads: ask something now and then, so that a connection that
            // died quietly is found (and its gap woken for) instead of waited on for ever.
            if last_ping.elapsed() >= PING_EVERY {
                last_ping = std::time::Instant::now();
                if let Err(e) = client.simple_query("SELECT 1") {
                    tracing::warn!("store listener: {e}");
                    break;
                }
            }
        }
    }
}
