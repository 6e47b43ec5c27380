//! What a hook is told: the notices of a burst, summarised, in the shape its kind wants.

use gaffer_config::{NotifyEvent, WebhookKind};
use gaffer_core::event::describe;
use gaffer_core::failures::split_evidence;
use gaffer_core::payload::TaskNotice;
use gaffer_core::{Event, Payload, Seq};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// One notice, as hooks see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    /// The event's place in the log.
    pub seq: Seq,
    pub at_ms: i64,
    /// The notice: `needs_input`, `needs_approval`, `merged`, `failed`, `cancelled`,
    /// `escalated`, or any other kind the engine writes (a budget stop, ...).
    pub event: String,
    pub task: Option<i64>,
    /// The task's title, when the task could be read.
    pub title: Option<String>,
    /// The question, reason or other detail of the notice. A failed verify's evidence comes
    /// without its output: its headline, the command and the failing tests with their first
    /// lines (the output is on the dashboard and in `gaffer task show N --full`).
    pub text: Option<String>,
}

impl Notification {
    /// The notification for a `task.notice` event, if it is a machine notice (events that
    /// record what a person did, or a result the engine ignored, are not notices for people).
    pub fn from_event(event: &Event) -> Option<Notification> {
        let (name, text) = match event.payload() {
            Ok(Payload::TaskNotice(notice)) => match notice {
                TaskNotice::Notice(notice) => (notice.name().to_string(), notice.detail()),
                TaskNotice::JobFailed { .. } => ("notice".to_string(), Some(describe(event))),
                // A person's action and an ignored result tell no one anything new.
                TaskNotice::Person { .. } | TaskNotice::Ignored { .. } => return None,
            },
            _ => Self::untyped(event)?,
        };
        let text = text.map(|t| split_evidence(&t).0.trim_end().to_string());
        Some(Notification {
            seq: event.seq,
            at_ms: event.at_ms,
            event: name,
            task: event.task.map(|t| t.0),
            title: None,
            text,
        })
    }

    /// The name and detail of a notice whose shape this version does not know (one a newer
    /// gaffer wrote): its `notice` tag and its text, else its other fields.
    fn untyped(event: &Event) -> Option<(String, Option<String>)> {
        let data = event.data.as_object()?;
        let name = match data.get("notice").and_then(Value::as_str) {
            Some(name) => name.to_string(),
            // A person's action (`by`) and an ignored result (`ignored`) tell no one anything new.
            None if data.contains_key("by") || data.contains_key("ignored") => return None,
            None => "notice".to_string(),
        };
        let text = ["question", "reason", "message", "text"]
            .iter()
            .find_map(|key| data.get(*key).and_then(Value::as_str))
            .map(str::to_string)
            .or_else(|| {
                let rest: serde_json::Map<String, Value> = data
                    .iter()
                    .filter(|(k, _)| k.as_str() != "notice")
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                (!rest.is_empty()).then(|| Value::Object(rest).to_string())
            });
        Some((name, text))
    }

    /// Whether a hook listening to `events` hears it.
    pub fn matches(&self, events: &[NotifyEvent]) -> bool {
        events.iter().any(|e| e.matches(&self.event))
    }

    /// Whether a person has to do something about it.
    pub fn needs_person(&self) -> bool {
        matches!(self.event.as_str(), "needs_input" | "needs_approval")
    }

    /// One line for people: `#3 Fix the login page: needs an answer: Which provider?`.
    pub fn line(&self) -> String {
        let task = match (self.task, &self.title) {
            (Some(id), Some(title)) => format!("#{id} {title}"),
            (Some(id), None) => format!("#{id}"),
            (None, _) => "gaffer".to_string(),
        };
        let what = match self.event.as_str() {
            "needs_input" => "needs an answer",
            "needs_approval" => "waits for approval",
            "merged" => "merged",
            "failed" => "failed",
            "cancelled" => "was cancelled",
            "escalated" => "moved up the coder ladder",
            other => other,
        };
        match &self.text {
            Some(text) if !text.trim().is_empty() => {
                format!("{task}: {what}: {}", first_line(text, 300))
            }
            _ => format!("{task}: {what}"),
        }
    }
}

/// What one hook is sent for one burst.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub project: String,
    pub notifications: Vec<Notification>,
    /// Where people can look (the dashboard), when known.
    pub link: Option<String>,
}

impl Message {
    /// `2 tasks need a person, 1 merged, 1 failed`.
    pub fn summary(&self) -> String {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        let mut person = 0;
        for n in &self.notifications {
            if n.needs_person() {
                person += 1;
            } else {
                *counts.entry(n.event.as_str()).or_default() += 1;
            }
        }
        let mut parts = Vec::new();
        if person > 0 {
            parts.push(format!(
                "{person} {} a person",
                if person == 1 {
                    "task needs"
                } else {
                    "tasks need"
                }
            ));
        }
        for (event, n) in counts {
            parts.push(format!("{n} {event}"));
        }
        if parts.is_empty() {
            "nothing new".into()
        } else {
            parts.join(", ")
        }
    }

    /// The summary and a line per notice.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for n in &self.notifications {
            out.push_str(&n.line());
            out.push('\n');
        }
        if let Some(link) = &self.link {
            out.push_str(link);
            out.push('\n');
        }
        out.trim_end().to_string()
    }

    /// The generic JSON document (also what command hooks read on standard input).
    pub fn json(&self) -> Value {
        json!({
            "source": "gaffer",
            "project": self.project,
            "summary": self.summary(),
            "count": self.notifications.len(),
            "text": self.text(),
            "link": self.link,
            "events": self.notifications,
        })
    }

    /// What a webhook of `kind` is sent: the body, its content type and extra headers.
    pub fn for_webhook(&self, kind: WebhookKind) -> (Vec<u8>, &'static str, Vec<(String, String)>) {
        match kind {
            WebhookKind::Json => (
                self.json().to_string().into_bytes(),
                "application/json",
                Vec::new(),
            ),
            WebhookKind::Slack => {
                let text = format!(
                    "*gaffer · {}*: {}\n{}",
                    self.project,
                    self.summary(),
                    self.text()
                );
                (
                    json!({ "text": text }).to_string().into_bytes(),
                    "application/json",
                    Vec::new(),
                )
            }
            WebhookKind::Ntfy => {
                // Header values must be plain ASCII; the body carries everything else.
                let title = ascii(&format!("gaffer {}: {}", self.project, self.summary()));
                let urgent = self
                    .notifications
                    .iter()
                    .any(|n| n.needs_person() || n.event == "failed" || n.event.contains("budget"));
                let mut headers = vec![
                    ("Title".to_string(), title),
                    (
                        "Priority".to_string(),
                        if urgent { "high" } else { "default" }.to_string(),
                    ),
                    (
                        "Tags".to_string(),
                        if urgent {
                            "warning"
                        } else {
                            "white_check_mark"
                        }
                        .to_string(),
                    ),
                ];
                if let Some(link) = &self.link {
                    headers.push(("Click".to_string(), ascii(link)));
                }
                (
                    self.text().into_bytes(),
                    "text/plain; charset=utf-8",
                    headers,
                )
            }
        }
    }
}

/// The first line of `text`, at most `max` characters.
fn first_line(text: &str, max: usize) -> String {
    let line = text.trim().lines().next().unwrap_or_default();
    if line.chars().count() <= max {
        return line.to_string();
    }
    let cut: String = line.chars().take(max.saturating_sub(1)).collect();
    format!("{cut}…")
}

/// `text` with everything but printable ASCII replaced, for a header value.
fn ascii(text: &str) -> String {
    text.chars()
        .map(|c| if (' '..='~').contains(&c) { c } else { '?' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use gaffer_core::TaskId;

    fn event(data: Value) -> Event {
        Event {
            seq: Seq(7),
            at_ms: 1,
            project: None,
            task: Some(TaskId(3)),
            run: None,
            kind: "task.notice".into(),
            data,
        }
    }

    #[test]
    fn notices_become_notifications_and_actions_do_not() {
        let n = Notification::from_event(&event(
            json!({"notice": "needs_input", "question": "Which one?"}),
        ))
        .unwrap();
        assert_eq!(n.event, "needs_input");
        assert_eq!(n.text.as_deref(), Some("Which one?"));
        assert!(n.needs_person());
        assert!(
            Notification::from_event(&event(json!({"by": "api", "action": "approve"}))).is_none()
        );
        assert!(Notification::from_event(&event(json!({"ignored": "land", "why": "x"}))).is_none());
        let budget = Notification::from_event(&event(
            json!({"notice": "budget_exceeded", "spent_usd": 5.5}),
        ))
        .unwrap();
        assert_eq!(budget.text.as_deref(), Some("{\"spent_usd\":5.5}"));
        assert!(budget.matches(&[NotifyEvent::Budget]));
        assert!(!budget.matches(&[NotifyEvent::Merged]));
    }

    #[test]
    fn a_message_summarises_the_burst() {
        let mut a =
            Notification::from_event(&event(json!({"notice": "needs_input", "question": "Q?"})))
                .unwrap();
        a.title = Some("Fix it".into());
        let b = Notification::from_event(&event(json!({"notice": "merged"}))).unwrap();
        let c = Notification::from_event(&event(json!({"notice": "merged"}))).unwrap();
        let message = Message {
            project: "demo".into(),
            notifications: vec![a, b, c],
            link: None,
        };
        assert_eq!(message.summary(), "1 task needs a person, 2 merged");
        assert_eq!(
            message.text(),
            "#3 Fix it: needs an answer: Q?\n#3: merged\n#3: merged"
        );
        let (body, _, headers) = message.for_webhook(WebhookKind::Ntfy);
        assert_eq!(String::from_utf8(body).unwrap(), message.text());
        assert!(headers.contains(&("Priority".into(), "high".into())));
        let (body, _, _) = message.for_webhook(WebhookKind::Slack);
        let slack: Value = serde_json::from_slice(&body).unwrap();
        assert!(
            slack["text"]
                .as_str()
                .unwrap()
                .starts_with("*gaffer · demo*: 1 task needs a person")
        );
    }

    #[test]
    fn a_failed_verify_is_told_by_its_failing_tests_without_the_output() {
        let output = "FAILED tests/test_auth.py::test_login - assert 401 == 200\n\
                      FAILED tests/test_auth.py::test_logout - KeyError: 'user_id'\n\
                      2 failed, 3 passed in 0.31s\n";
        let reason =
            gaffer_core::failures::summarize(output).evidence("`pytest` exit code 1", output);
        let mut n = Notification::from_event(&event(json!({"notice": "failed", "reason": reason})))
            .unwrap();
        n.title = Some("Fix the login".into());
        assert_eq!(
            n.line(),
            "#3 Fix the login: failed: 2 tests failed: test_login, test_logout"
        );
        let text = n.text.unwrap();
        assert!(
            text.starts_with("2 tests failed: test_login, test_logout\n`pytest` exit code 1\n"),
            "{text}"
        );
        assert!(
            text.contains("tests/test_auth.py::test_logout\n      KeyError: 'user_id'"),
            "{text}"
        );
        assert!(!text.contains("2 failed, 3 passed"), "no output: {text}");
    }

    #[test]
    fn header_values_are_ascii() {
        assert_eq!(ascii("a·b"), "a?b");
    }
}
