//! Sending a batch to one hook, with retries, in the hook's own task: a hook that is down
//! delays only itself, and while it is retried, newer batches for it are folded into the same
//! message instead of queueing up one message each.

use crate::cursor::Cursor;
use crate::message::{Message, Notification};
use gaffer_config::{CommandHookSettings, NotifyEvent, WebhookSettings};
use gaffer_core::Seq;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// How failed deliveries are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub attempts: u32,
    /// The pause after the first failure; it doubles after each further one.
    pub first_delay: Duration,
    /// The longest pause.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Nine tries over about six minutes: 2 s, 4 s, 8 s, ... up to 2 minutes apart.
    fn default() -> Self {
        RetryPolicy {
            attempts: 9,
            first_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    fn delay(&self, failures: u32) -> Duration {
        let factor = 2u32.saturating_pow(failures.saturating_sub(1));
        self.first_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// Where a batch goes.
#[derive(Debug, Clone)]
pub(crate) enum Hook {
    Webhook(WebhookSettings),
    Command(CommandHookSettings),
}

impl Hook {
    /// A name that stays the same across restarts while the configuration does.
    pub fn id(&self) -> String {
        match self {
            Hook::Webhook(w) => format!("webhook {} {}", w.kind, w.url),
            Hook::Command(c) => format!("command {}", c.command),
        }
    }

    pub fn events(&self) -> &[NotifyEvent] {
        match self {
            Hook::Webhook(w) => &w.events,
            Hook::Command(c) => &c.events,
        }
    }

    /// For logs: the URL or the command.
    fn describe(&self) -> String {
        match self {
            Hook::Webhook(w) => format!("webhook {}", w.url),
            Hook::Command(c) => format!("command `{}`", c.command),
        }
    }
}

/// What a hook's worker is handed after each burst: the notices for it (maybe none) and the
/// last event the burst covered.
#[derive(Debug, Clone)]
pub(crate) struct Batch {
    pub notifications: Vec<Notification>,
    pub through: Seq,
}

impl Batch {
    fn absorb(&mut self, other: Batch) {
        self.notifications.extend(other.notifications);
        self.through = self.through.max(other.through);
    }
}

/// What every worker shares.
pub(crate) struct Shared {
    pub project: String,
    pub link: Option<String>,
    pub http: reqwest::Client,
    /// Where command hooks run.
    pub workdir: PathBuf,
    pub retry: RetryPolicy,
    pub cursor: Arc<Cursor>,
}

/// Why one try failed.
enum Failure {
    /// Worth trying again (after at least the given pause, when the receiver asked for one).
    Transient(String, Option<Duration>),
    /// Trying again will not help (the receiver refused the message).
    Permanent(String),
}

/// Delivers the batches of one hook until the channel closes or `shutdown` is cancelled.
pub(crate) async fn worker(
    hook: Hook,
    mut batches: mpsc::UnboundedReceiver<Batch>,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
) {
    let id = hook.id();
    loop {
        let mut batch = tokio::select! {
            () = shutdown.cancelled() => return,
            next = batches.recv() => match next {
                Some(batch) => batch,
                None => return,
            },
        };
        while let Ok(more) = batches.try_recv() {
            batch.absorb(more);
        }
        if batch.notifications.is_empty() {
            shared.cursor.delivered(&id, batch.through);
            continue;
        }
        let mut failures = 0u32;
        loop {
            let message = Message {
                project: shared.project.clone(),
                notifications: batch.notifications.clone(),
                link: shared.link.clone(),
            };
            let failure = match send(&hook, &message, &shared).await {
                Ok(()) => {
                    tracing::info!(
                        hook = %hook.describe(),
                        notices = message.notifications.len(),
                        "notification sent"
                    );
                    break;
                }
                Err(failure) => failure,
            };
            failures += 1;
            let (reason, wait) = match failure {
                Failure::Permanent(reason) => {
                    tracing::error!(
                        hook = %hook.describe(),
                        "notification refused, not retried: {reason}"
                    );
                    break;
                }
                Failure::Transient(reason, wait) => (reason, wait),
            };
            if failures >= shared.retry.attempts {
                tracing::error!(
                    hook = %hook.describe(),
                    "notification dropped after {failures} tries: {reason}"
                );
                break;
            }
            let pause = wait
                .unwrap_or_default()
                .max(shared.retry.delay(failures))
                .min(shared.retry.max_delay);
            tracing::warn!(
                hook = %hook.describe(),
                "notification failed (try {failures} of {}), retrying in {pause:?}: {reason}",
                shared.retry.attempts
            );
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(pause) => {}
            }
            // What arrived meanwhile goes in the same message.
            while let Ok(more) = batches.try_recv() {
                batch.absorb(more);
            }
        }
        shared.cursor.delivered(&id, batch.through);
    }
}

async fn send(hook: &Hook, message: &Message, shared: &Shared) -> Result<(), Failure> {
    match hook {
        Hook::Webhook(webhook) => post(webhook, message, &shared.http).await,
        Hook::Command(command) => run(command, message, &shared.workdir).await,
    }
}

async fn post(
    webhook: &WebhookSettings,
    message: &Message,
    http: &reqwest::Client,
) -> Result<(), Failure> {
    let (body, content_type, headers) = message.for_webhook(webhook.kind);
    let mut request = http
        .post(&webhook.url)
        .header(reqwest::header::CONTENT_TYPE, content_type)
        .body(body);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    if let Some(token) = webhook
        .token_env
        .as_deref()
        .and_then(|name| std::env::var(name).ok())
        .filter(|t| !t.trim().is_empty())
    {
        request = request.bearer_auth(token.trim());
    }
    let response = request
        .send()
        .await
        .map_err(|e| Failure::Transient(format!("{e}"), None))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let text = response.text().await.unwrap_or_default();
    let reason = format!(
        "{status}: {}",
        text.trim().chars().take(300).collect::<String>()
    );
    // A request the receiver refuses as such will be refused again; timeouts, rate limits and
    // server errors pass.
    if status.is_client_error() && !matches!(status.as_u16(), 408 | 425 | 429) {
        return Err(Failure::Permanent(reason));
    }
    Err(Failure::Transient(reason, retry_after))
}

/// Runs a command hook with the batch as JSON on standard input.
async fn run(
    hook: &CommandHookSettings,
    message: &Message,
    workdir: &std::path::Path,
) -> Result<(), Failure> {
    let input = message.json().to_string();
    let mut command = tokio::process::Command::new("/bin/sh");
    command
        .arg("-c")
        .arg(&hook.command)
        .current_dir(workdir)
        .env("GAFFER_NOTIFY_SUMMARY", message.summary())
        .env(
            "GAFFER_NOTIFY_COUNT",
            message.notifications.len().to_string(),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = command
        .spawn()
        .map_err(|e| Failure::Transient(format!("cannot start it: {e}"), None))?;
    let pgid = child.id();
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its input closes the pipe early; that is its business.
        let _ = stdin.write_all(input.as_bytes()).await;
        drop(stdin);
    }
    match tokio::time::timeout(hook.timeout, child.wait_with_output()).await {
        Ok(Ok(output)) if output.status.success() => Ok(()),
        Ok(Ok(output)) => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            Err(Failure::Transient(
                format!(
                    "it exited with {}: {}",
                    output.status,
                    stderr.trim().chars().take(300).collect::<String>()
                ),
                None,
            ))
        }
        Ok(Err(e)) => Err(Failure::Transient(
            format!("waiting for it failed: {e}"),
            None,
        )),
        Err(_) => {
            if let Some(pgid) = pgid.and_then(|p| i32::try_from(p).ok()) {
                kill_group(pgid);
            }
            Err(Failure::Transient(
                format!("it ran longer than {:?} and was stopped", hook.timeout),
                None,
            ))
        }
    }
}

/// SIGKILL to the process group the hook leads (what it started too).
fn kill_group(pgid: i32) {
    let _ = nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(pgid),
        nix::sys::signal::Signal::SIGKILL,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap() {
        let policy = RetryPolicy {
            attempts: 9,
            first_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(10),
        };
        let delays: Vec<u64> = (1..=5).map(|n| policy.delay(n).as_secs()).collect();
        assert_eq!(delays, [2, 4, 8, 10, 10]);
    }
}
