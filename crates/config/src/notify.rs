//! `[notify]`: who hears about the board when no one is watching it.
//!
//! ```toml
//! [notify]
//! batch = "5s"                    # collect events this long, then send one message per hook
//!
//! [[notify.webhook]]
//! url = "https://ntfy.sh/my-team-gaffer"
//! kind = "ntfy"                   # "json" (default), "ntfy" or "slack"
//! events = ["needs_input", "needs_approval", "failed"]
//!
//! [[notify.command]]
//! command = "./scripts/gaffer-report.sh"   # gets the batch as JSON on standard input
//! events = ["merged", "failed"]
//! ```

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::file::{At, RawDuration};
use crate::privacy::url_host;
use crate::resolve::Check;

/// `[notify]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotifySettings {
    /// How long events are collected before each hook gets one message summarising them (a
    /// fleet of agents must not flood anyone). `0s` sends what each poll finds. Default: 5s.
    #[serde(serialize_with = "crate::settings::as_duration_text")]
    pub batch: Duration,
    /// `[[notify.webhook]]`, in file order.
    pub webhooks: Vec<WebhookSettings>,
    /// `[[notify.command]]`, in file order.
    pub commands: Vec<CommandHookSettings>,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            batch: DEFAULT_BATCH,
            webhooks: Vec::new(),
            commands: Vec::new(),
        }
    }
}

impl NotifySettings {
    /// Whether any hook is configured.
    pub fn is_enabled(&self) -> bool {
        !self.webhooks.is_empty() || !self.commands.is_empty()
    }
}

/// The default `notify.batch`.
pub const DEFAULT_BATCH: Duration = Duration::from_secs(5);

/// The default `timeout` of a `[[notify.command]]`.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// `[[notify.webhook]]`: an HTTP endpoint that gets a POST per batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookSettings {
    /// Where to POST (`http://` or `https://`).
    pub url: String,
    /// The shape of the message. Default: `json`.
    pub kind: WebhookKind,
    /// What it hears about. Default: [`NotifyEvent::DEFAULT`].
    pub events: Vec<NotifyEvent>,
    /// An environment variable holding a token sent as `Authorization: Bearer <token>` (for a
    /// protected ntfy topic, say); the token itself never goes in the file. Default: none.
    pub token_env: Option<String>,
}

/// `[[notify.command]]`: a local command that gets each batch as JSON on standard input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandHookSettings {
    /// Run by `/bin/sh -c` in the repository root.
    pub command: String,
    /// What it hears about. Default: [`NotifyEvent::DEFAULT`].
    pub events: Vec<NotifyEvent>,
    /// How long it may run before it is stopped (and counts as failed). Default: 60s.
    #[serde(serialize_with = "crate::settings::as_duration_text")]
    pub timeout: Duration,
}

/// The shape of a webhook's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookKind {
    /// `{"source": "gaffer", "project", "summary", "count", "events": [...]}` as JSON.
    Json,
    /// An ntfy topic URL: the summary as the text body, with `Title`, `Priority` and `Tags`
    /// headers.
    Ntfy,
    /// A Slack incoming webhook (or anything compatible: Mattermost, Discord's `/slack`
    /// endpoint, ...): `{"text": ...}`.
    Slack,
}

impl WebhookKind {
    pub const ALL: [WebhookKind; 3] = [WebhookKind::Json, WebhookKind::Ntfy, WebhookKind::Slack];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookKind::Json => "json",
            WebhookKind::Ntfy => "ntfy",
            WebhookKind::Slack => "slack",
        }
    }

    pub fn from_name(name: &str) -> Option<WebhookKind> {
        WebhookKind::ALL
            .into_iter()
            .find(|k| k.as_str() == name.trim())
    }
}

impl fmt::Display for WebhookKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a hook hears about: the notices of the board's tasks (`task.notice` events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum NotifyEvent {
    /// A task's agent asked a question.
    #[serde(rename = "needs_input")]
    NeedsInput,
    /// A task waits at the approval gate.
    #[serde(rename = "needs_approval")]
    NeedsApproval,
    /// A task's change landed.
    #[serde(rename = "merged")]
    Merged,
    /// A task failed (its retries ran out).
    #[serde(rename = "failed")]
    Failed,
    /// A task was cancelled.
    #[serde(rename = "cancelled")]
    Cancelled,
    /// A task moved up the coder ladder after repeated failures.
    #[serde(rename = "escalated")]
    Escalated,
    /// A budget stopped work (any notice whose name mentions a budget).
    #[serde(rename = "budget")]
    Budget,
    /// Every notice, including kinds this version does not know.
    #[serde(rename = "*")]
    Any,
}

impl NotifyEvent {
    pub const ALL: [NotifyEvent; 8] = [
        NotifyEvent::NeedsInput,
        NotifyEvent::NeedsApproval,
        NotifyEvent::Merged,
        NotifyEvent::Failed,
        NotifyEvent::Cancelled,
        NotifyEvent::Escalated,
        NotifyEvent::Budget,
        NotifyEvent::Any,
    ];

    /// What a hook hears about when it does not say: a person is needed, work landed or
    /// failed, a budget stopped work.
    pub const DEFAULT: [NotifyEvent; 5] = [
        NotifyEvent::NeedsInput,
        NotifyEvent::NeedsApproval,
        NotifyEvent::Merged,
        NotifyEvent::Failed,
        NotifyEvent::Budget,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotifyEvent::NeedsInput => "needs_input",
            NotifyEvent::NeedsApproval => "needs_approval",
            NotifyEvent::Merged => "merged",
            NotifyEvent::Failed => "failed",
            NotifyEvent::Cancelled => "cancelled",
            NotifyEvent::Escalated => "escalated",
            NotifyEvent::Budget => "budget",
            NotifyEvent::Any => "*",
        }
    }

    pub fn from_name(name: &str) -> Option<NotifyEvent> {
        NotifyEvent::ALL
            .into_iter()
            .find(|e| e.as_str() == name.trim())
    }

    /// Whether a notice named `notice` (the `notice` field of a `task.notice` event, e.g.
    /// `needs_input`) is one of these.
    pub fn matches(self, notice: &str) -> bool {
        match self {
            NotifyEvent::Any => true,
            NotifyEvent::Budget => notice.contains("budget"),
            other => other.as_str() == notice,
        }
    }
}

impl fmt::Display for NotifyEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `[notify]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNotify {
    pub batch: Option<At<RawDuration>>,
    #[serde(default)]
    pub webhook: Vec<At<RawWebhook>>,
    #[serde(default)]
    pub command: Vec<At<RawCommandHook>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWebhook {
    pub url: At<String>,
    pub kind: Option<At<String>>,
    pub events: Option<At<Vec<At<String>>>>,
    pub token_env: Option<At<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCommandHook {
    pub command: At<String>,
    pub events: Option<At<Vec<At<String>>>>,
    pub timeout: Option<At<RawDuration>>,
}

/// Checks `[notify]`.
pub(crate) fn resolve(check: &Check<'_>, raw: &RawNotify) -> Result<NotifySettings, ConfigError> {
    let batch = check.duration(&raw.batch, "notify.batch", DEFAULT_BATCH, true)?;
    let mut webhooks = Vec::new();
    for at in &raw.webhook {
        let hook = at.get_ref();
        let url = hook.url.get_ref().trim().to_string();
        if url_host(&url).is_none() {
            return Err(check.error(
                &hook.url,
                "notify.webhook.url",
                format!(
                    "notify.webhook.url = {} is not an http(s) URL with a host",
                    check.written(&hook.url)
                ),
                "write the full URL, e.g. url = \"https://ntfy.sh/my-topic\"".to_string(),
            ));
        }
        let kind = match &hook.kind {
            Some(at) => WebhookKind::from_name(at.get_ref()).ok_or_else(|| {
                check.error(
                    at,
                    "notify.webhook.kind",
                    format!(
                        "notify.webhook.kind = {} is not a kind of webhook",
                        check.written(at)
                    ),
                    "use \"json\", \"ntfy\" or \"slack\"".to_string(),
                )
            })?,
            None => WebhookKind::Json,
        };
        let token_env = check.text(&hook.token_env, "notify.webhook.token_env")?;
        webhooks.push(WebhookSettings {
            url,
            kind,
            events: events(check, &hook.events, "notify.webhook.events")?,
            token_env: token_env.map(|t| t.trim().to_string()),
        });
    }
    let mut commands = Vec::new();
    for at in &raw.command {
        let hook = at.get_ref();
        let Some(command) = check.text(&Some(hook.command.clone()), "notify.command.command")?
        else {
            continue;
        };
        commands.push(CommandHookSettings {
            command,
            events: events(check, &hook.events, "notify.command.events")?,
            timeout: check.duration(
                &hook.timeout,
                "notify.command.timeout",
                DEFAULT_COMMAND_TIMEOUT,
                false,
            )?,
        });
    }
    Ok(NotifySettings {
        batch,
        webhooks,
        commands,
    })
}

/// A list of event names: known, at least one, no repeats.
fn events(
    check: &Check<'_>,
    raw: &Option<At<Vec<At<String>>>>,
    key: &str,
) -> Result<Vec<NotifyEvent>, ConfigError> {
    let Some(list) = raw else {
        return Ok(NotifyEvent::DEFAULT.to_vec());
    };
    let known = || {
        let names: Vec<String> = NotifyEvent::ALL
            .iter()
            .map(|e| format!("\"{e}\""))
            .collect();
        format!("use any of {}", names.join(", "))
    };
    if list.get_ref().is_empty() {
        return Err(check.error(
            list,
            key,
            format!("{key} is empty, so the hook would never hear anything"),
            format!("{}; or remove the line for the default", known()),
        ));
    }
    let mut out = Vec::new();
    for at in list.get_ref() {
        let event = NotifyEvent::from_name(at.get_ref()).ok_or_else(|| {
            check.error(
                at,
                key,
                format!(
                    "{key}: {} is not an event gaffer notifies",
                    check.written(at)
                ),
                known(),
            )
        })?;
        if !out.contains(&event) {
            out.push(event);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_match_notices() {
        assert!(NotifyEvent::NeedsInput.matches("needs_input"));
        assert!(!NotifyEvent::NeedsInput.matches("needs_approval"));
        assert!(NotifyEvent::Budget.matches("budget_exceeded"));
        assert!(NotifyEvent::Any.matches("something_new"));
    }

    #[test]
    fn names_round_trip() {
        for event in NotifyEvent::ALL {
            assert_eq!(NotifyEvent::from_name(event.as_str()), Some(event));
        }
        for kind in WebhookKind::ALL {
            assert_eq!(WebhookKind::from_name(kind.as_str()), Some(kind));
        }
    }
}
