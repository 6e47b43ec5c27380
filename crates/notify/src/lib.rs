//! Notifications: webhooks (generic JSON, ntfy, Slack-compatible) and local command hooks, told
//! when a person is needed, when a task merges or fails, and when a budget stops work.
//!
//! The notifier is a task of its own beside the engine (`gaffer up` starts it when
//! `[notify]` has a hook). It never talks to the engine: it follows the event log by sequence
//! number through the daemon's event feed (`gaffer_feed`: a notice reaches it the moment it is
//! committed), taking the `task.notice` events the state machine writes, so however slow or
//! broken a receiver is, the engine does not wait on it.
//!
//! - **Batched.** The first notice after a quiet spell opens a window of `notify.batch`
//!   (default 5 s); when it closes, each hook gets **one** message summarising every notice of
//!   the window it listens to (`events`). A fleet finishing twenty tasks at once sends one
//!   message, not twenty.
//! - **Retried.** Each hook delivers in its own task, retrying failures with doubling pauses
//!   ([`RetryPolicy`]); `Retry-After` is honoured. While a hook is retried, newer batches for it
//!   join the same message. A receiver that refuses the message outright (a 4xx other than
//!   408, 425 or 429) is not retried.
//! - **Remembered.** Each hook's position in the log is saved in a JSON file in the state
//!   directory after every delivery, so a restart sends neither a delivered batch again nor
//!   loses one that was not delivered yet (it is read again and sent). On the very first start,
//!   the notifier begins at the end of the log: no history.
//!
//! Command hooks run `/bin/sh -c <command>` in the repository root with the batch (the JSON
//! document of [`Message::json`]) on standard input, and `GAFFER_NOTIFY_SUMMARY` and
//! `GAFFER_NOTIFY_COUNT` in the environment; exit status 0 is success.

mod cursor;
mod deliver;
mod message;

pub use deliver::RetryPolicy;
pub use message::{Message, Notification};

use cursor::Cursor;
use deliver::{Batch, Hook, Shared};
use gaffer_config::NotifySettings;
use gaffer_core::{Event, ProjectId, Seq, TaskId, event_kind};
use gaffer_feed::EventFeed;
use gaffer_store::{EventFilter, Store};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How long to wait after the store failed before reading it again.
const STORE_BACKOFF: Duration = Duration::from_secs(2);

/// Everything the notifier needs besides the store.
#[derive(Debug, Clone)]
pub struct NotifierConfig {
    /// The project whose notices are sent.
    pub project: ProjectId,
    /// Its name, for the messages.
    pub project_name: String,
    pub settings: NotifySettings,
    /// The file holding the hooks' positions in the log (`<state dir>/notify.json`).
    pub state_file: PathBuf,
    /// Where command hooks run (the repository root).
    pub workdir: PathBuf,
    /// Where people can look, added to every message (the dashboard's URL).
    pub link: Option<String>,
    pub retry: RetryPolicy,
}

impl NotifierConfig {
    /// The defaults for `project`: retry for about six minutes.
    pub fn new(
        project: ProjectId,
        project_name: impl Into<String>,
        settings: NotifySettings,
        state_file: PathBuf,
        workdir: PathBuf,
    ) -> NotifierConfig {
        NotifierConfig {
            project,
            project_name: project_name.into(),
            settings,
            state_file,
            workdir,
            link: None,
            retry: RetryPolicy::default(),
        }
    }
}

/// Starts the notifier on the current tokio runtime; `None` when no hook is configured. It
/// reads the notices from `feed` (the daemon's one follower of the event log: a notice reaches
/// it the moment it is committed) and stops when `shutdown` is cancelled or the feed is closed
/// (a batch still collecting is read again after a restart).
pub fn spawn(
    feed: &EventFeed,
    config: NotifierConfig,
    shutdown: CancellationToken,
) -> Option<JoinHandle<()>> {
    if !config.settings.is_enabled() {
        return None;
    }
    Some(tokio::spawn(run(feed.clone(), config, shutdown)))
}

/// One hook's channel, what it listens to, and where it was when the notifier started.
struct Route {
    hook: Hook,
    sender: mpsc::UnboundedSender<Batch>,
    /// Events up to here were handled before this start.
    skip_through: Seq,
}

async fn run(feed: EventFeed, config: NotifierConfig, shutdown: CancellationToken) {
    let store = Arc::clone(feed.store());
    let Some((cursor, routes)) = start_routes(&store, &config, &shutdown).await else {
        return;
    };
    let filter = EventFilter {
        project: Some(config.project),
        kind_prefix: Some(event_kind::TASK_NOTICE.to_string()),
        ..EventFilter::default()
    };
    let mut after = cursor.start();
    let mut flushed = after;
    let mut notices = feed.subscribe(filter, after);
    let mut pending: Vec<Notification> = Vec::new();
    let mut deadline: Option<Instant> = None;
    loop {
        // The next notice, or the end of the batching window, whichever comes first.
        let first = tokio::select! {
            () = shutdown.cancelled() => return,
            () = sleep_until(deadline), if deadline.is_some() => None,
            event = notices.next() => match event {
                Some(event) => Some(event),
                // The feed was closed: the daemon is stopping.
                None => return,
            },
        };
        // With what else is at hand: one pass per burst, not per notice.
        for event in first
            .into_iter()
            .chain(std::iter::from_fn(|| notices.try_next()))
        {
            after = event.seq;
            if let Some(n) = wanted(&event, &routes) {
                pending.push(n);
                deadline.get_or_insert_with(|| Instant::now() + config.settings.batch);
            }
        }
        let due = match deadline {
            Some(at) => Instant::now() >= at,
            None => after > flushed,
        };
        if due {
            let notifications = with_titles(&store, std::mem::take(&mut pending)).await;
            dispatch(&routes, &notifications, after);
            cursor.read(after);
            flushed = after;
            deadline = None;
        }
    }
}

/// Waits until `deadline` (forever without one).
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Starts a delivery worker per hook, each resuming where its cursor says it stopped; `None`
/// when shut down before the event log could be read.
async fn start_routes(
    store: &Arc<dyn Store>,
    config: &NotifierConfig,
    shutdown: &CancellationToken,
) -> Option<(Arc<Cursor>, Vec<Route>)> {
    let hooks: Vec<Hook> = config
        .settings
        .webhooks
        .iter()
        .cloned()
        .map(Hook::Webhook)
        .chain(config.settings.commands.iter().cloned().map(Hook::Command))
        .collect();
    let ids: Vec<String> = hooks.iter().map(Hook::id).collect();
    let now = loop {
        match blocking(store, |s| s.last_seq()).await {
            Ok(seq) => break seq,
            Err(e) => {
                tracing::warn!("the notifier cannot read the event log yet: {e}");
                tokio::select! {
                    () = shutdown.cancelled() => return None,
                    () = tokio::time::sleep(STORE_BACKOFF) => {}
                }
            }
        }
    };
    let cursor = Arc::new(Cursor::load(&config.state_file, &ids, now));
    let shared = Arc::new(Shared {
        project: config.project_name.clone(),
        link: config.link.clone(),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .unwrap_or_default(),
        workdir: config.workdir.clone(),
        retry: config.retry,
        cursor: Arc::clone(&cursor),
    });
    let mut routes = Vec::new();
    for hook in hooks {
        let (sender, receiver) = mpsc::unbounded_channel();
        let skip_through = cursor.of(&hook.id());
        tokio::spawn(deliver::worker(
            hook.clone(),
            receiver,
            Arc::clone(&shared),
            shutdown.child_token(),
        ));
        routes.push(Route {
            hook,
            sender,
            skip_through,
        });
    }

    Some((cursor, routes))
}

/// Hands each hook the notifications it listens to and has not had, through `after`.
fn dispatch(routes: &[Route], notifications: &[Notification], after: Seq) {
    for route in routes {
        let batch = Batch {
            notifications: notifications
                .iter()
                .filter(|n| n.seq > route.skip_through && n.matches(route.hook.events()))
                .cloned()
                .collect(),
            through: after,
        };
        let _ = route.sender.send(batch);
    }
}

/// The notification for `event` if some hook that has not had it yet listens to it.
fn wanted(event: &Event, routes: &[Route]) -> Option<Notification> {
    let n = Notification::from_event(event)?;
    routes
        .iter()
        .any(|r| n.seq > r.skip_through && n.matches(r.hook.events()))
        .then_some(n)
}

/// Fills in the tasks' titles.
async fn with_titles(
    store: &Arc<dyn Store>,
    mut notifications: Vec<Notification>,
) -> Vec<Notification> {
    let ids: Vec<i64> = notifications.iter().filter_map(|n| n.task).collect();
    let titles: BTreeMap<i64, String> = blocking(store, move |s| {
        Ok(ids
            .iter()
            .filter_map(|id| s.task(TaskId(*id)).ok().map(|t| (*id, t.title)))
            .collect())
    })
    .await
    .unwrap_or_default();
    for n in &mut notifications {
        n.title = n.task.and_then(|id| titles.get(&id).cloned());
    }
    notifications
}

/// Runs a store call on the blocking pool.
async fn blocking<T, F>(store: &Arc<dyn Store>, work: F) -> Result<T, String>
where
    F: FnOnce(&dyn Store) -> gaffer_store::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || work(store.as_ref()))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}
