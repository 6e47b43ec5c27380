//! What a person does to a task, as one type: the engine carries it out
//! (`Board::perform`), the server reads it from its route, and every client sends it the same
//! way (`POST /api/tasks/{id}/{name}` with [`Action::body`]).

use serde::{Deserialize, Serialize};

/// The reason recorded when a cancel gives none.
pub const DEFAULT_CANCEL_REASON: &str = "cancelled by a person";

/// One thing a person does to a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Stops the task for good (its running work too).
    Cancel { reason: Option<String> },
    /// Starts a failed task again: on its branch as it is, or (`fresh`) from scratch on a new
    /// branch from the target, at the bottom of the coder ladder, with a fresh session.
    Retry {
        #[serde(default)]
        fresh: bool,
    },
    /// Lets a change that waits for a person's approval merge.
    Approve,
    /// Sends a change back to the coder with `reason`, or cancels the task.
    Reject { reason: String, cancel: bool },
    /// Answers the task's pending question.
    Answer { text: String },
    /// Makes a proposal a task.
    Accept,
    /// Cancels a proposal.
    Decline { reason: Option<String> },
    /// Sets the task's own budget in US dollars (`None`: the default, `budget.task_usd`).
    Budget { usd: Option<f64> },
    /// Undoes a merged task: a new task carries the revert of its landing through verify and
    /// the merge queue (the answer is that new task).
    Revert,
    /// Puts a task waiting in the merge queue at a place in the waiting line.
    Move { to: Place },
    /// Tells the task's agent something: its run going on in this daemon hears it at its next
    /// turn where its backend can take it then, else stops and resumes its session with the
    /// message; otherwise the task's next run carries it.
    Say { text: String },
    /// A person takes the task over by hand: its running work stops, nothing of the engine
    /// touches it until it is released; its worktree is made if needed.
    Attach,
    /// The person hands the task back: the engine commits what they left in the worktree and
    /// the task goes on to verify, as after a coder's run.
    Release,
}

/// Where a waiting task goes in the merge queue's waiting line: `POST /api/tasks/{id}/move`
/// with `{"to": 1}` (1 is the head of the line), `{"before": 7}` or `{"after": 7}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Place {
    /// At this place, counted from 1.
    To(u32),
    /// Just ahead of this waiting task.
    Before(gaffer_core::TaskId),
    /// Just behind this waiting task.
    After(gaffer_core::TaskId),
}

impl Action {
    /// Every action's name, as in its route.
    pub const NAMES: [&'static str; 13] = [
        "cancel", "retry", "approve", "reject", "answer", "accept", "decline", "budget", "revert",
        "move", "say", "attach", "release",
    ];

    /// The action's name: the last segment of its route, the `action` of its notice.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Cancel { .. } => "cancel",
            Action::Retry { .. } => "retry",
            Action::Approve => "approve",
            Action::Reject { .. } => "reject",
            Action::Answer { .. } => "answer",
            Action::Accept => "accept",
            Action::Decline { .. } => "decline",
            Action::Budget { .. } => "budget",
            Action::Revert => "revert",
            Action::Move { .. } => "move",
            Action::Say { .. } => "say",
            Action::Attach => "attach",
            Action::Release => "release",
        }
    }

    /// Where the action is sent for task `task`.
    pub fn path(&self, task: i64) -> String {
        crate::paths::task_route(task, self.name())
    }

    /// The request body of its route.
    pub fn body(&self) -> serde_json::Value {
        let value = match self {
            Action::Cancel { reason } => serde_json::to_value(CancelBody {
                reason: reason.clone(),
            }),
            Action::Retry { fresh: true } => serde_json::to_value(RetryBody { fresh: true }),
            Action::Retry { fresh: false }
            | Action::Approve
            | Action::Accept
            | Action::Revert
            | Action::Attach
            | Action::Release => Ok(serde_json::json!({})),
            Action::Reject { reason, cancel } => serde_json::to_value(RejectBody {
                reason: reason.clone(),
                cancel: *cancel,
            }),
            Action::Answer { text } => serde_json::to_value(AnswerBody { text: text.clone() }),
            Action::Decline { reason } => serde_json::to_value(DeclineBody {
                reason: reason.clone(),
            }),
            Action::Budget { usd } => serde_json::to_value(BudgetBody { usd: *usd }),
            Action::Move { to } => serde_json::to_value(to),
            Action::Say { text } => serde_json::to_value(SayBody { text: text.clone() }),
        };
        // Plain structs of strings, numbers and booleans always serialize.
        value.unwrap_or_default()
    }
}

/// A budget as a person writes it: `2.50`, `$2.50`, or `none`/`default` for the default
/// (`budget.task_usd`). The error says what is wrong, for a message.
pub fn parse_budget(text: &str) -> Result<Option<f64>, String> {
    match text.trim().trim_start_matches('$') {
        "none" | "default" => Ok(None),
        amount => amount
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .map(Some)
            .ok_or_else(|| format!("`{text}` is not an amount of US dollars")),
    }
}

/// `POST /api/tasks/{id}/cancel` body (optional).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CancelBody {
    pub reason: Option<String>,
}

/// `POST /api/tasks/{id}/retry` body (optional): `{"fresh": true}` starts the task afresh.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryBody {
    pub fresh: bool,
}

/// `POST /api/tasks/{id}/revert` body: empty (`{}`); room for options later.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RevertBody {}

/// `POST /api/tasks/{id}/reject` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    /// What is wrong; handed to the coder when the task goes back to it.
    pub reason: String,
    /// Cancel the task instead of sending it back to the coder.
    #[serde(default)]
    pub cancel: bool,
}

/// `POST /api/tasks/{id}/answer` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// The answer to the task's pending question.
    pub text: String,
}

/// `POST /api/tasks/{id}/decline` body (optional).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeclineBody {
    pub reason: Option<String>,
}

/// `POST /api/tasks/{id}/budget` body: `{"usd": 2.5}`, or `{"usd": null}` for the default.
/// `usd` must be there: a missing one is an error, never a silent return to the default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetBody {
    #[serde(deserialize_with = "present")]
    pub usd: Option<f64>,
}

/// `POST /api/tasks/{id}/say` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SayBody {
    /// The message for the task's agent.
    pub text: String,
}

/// An `Option` field that must be written (`null` allowed): serde reads a missing `Option`
/// as `None` unless told otherwise.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer)
}

impl From<CancelBody> for Action {
    fn from(body: CancelBody) -> Action {
        Action::Cancel {
            reason: body.reason,
        }
    }
}

impl From<RetryBody> for Action {
    fn from(body: RetryBody) -> Action {
        Action::Retry { fresh: body.fresh }
    }
}

impl From<RejectBody> for Action {
    fn from(body: RejectBody) -> Action {
        Action::Reject {
            reason: body.reason,
            cancel: body.cancel,
        }
    }
}

impl From<AnswerBody> for Action {
    fn from(body: AnswerBody) -> Action {
        Action::Answer { text: body.text }
    }
}

impl From<DeclineBody> for Action {
    fn from(body: DeclineBody) -> Action {
        Action::Decline {
            reason: body.reason,
        }
    }
}

impl From<RevertBody> for Action {
    fn from(_: RevertBody) -> Action {
        Action::Revert
    }
}

impl From<Place> for Action {
    fn from(to: Place) -> Action {
        Action::Move { to }
    }
}

impl From<SayBody> for Action {
    fn from(body: SayBody) -> Action {
        Action::Say { text: body.text }
    }
}

impl From<BudgetBody> for Action {
    fn from(body: BudgetBody) -> Action {
        Action::Budget { usd: body.usd }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_action() -> Vec<Action> {
        vec![
            Action::Cancel {
                reason: Some("no".into()),
            },
            Action::Retry { fresh: false },
            Action::Retry { fresh: true },
            Action::Approve,
            Action::Reject {
                reason: "tests".into(),
                cancel: false,
            },
            Action::Answer { text: "yes".into() },
            Action::Accept,
            Action::Decline { reason: None },
            Action::Budget { usd: Some(2.5) },
            Action::Revert,
            Action::Move { to: Place::To(1) },
            Action::Move {
                to: Place::Before(gaffer_core::TaskId(3)),
            },
            Action::Move {
                to: Place::After(gaffer_core::TaskId(4)),
            },
            Action::Say {
                text: "use the new API".into(),
            },
            Action::Attach,
            Action::Release,
        ]
    }

    #[test]
    fn a_retry_body_may_be_empty_and_then_is_a_plain_retry() {
        let read = |text: &str| serde_json::from_str::<RetryBody>(text).map(Action::from);
        assert_eq!(read("{}").unwrap(), Action::Retry { fresh: false });
        assert_eq!(
            read(r#"{"fresh": true}"#).unwrap(),
            Action::Retry { fresh: true }
        );
        assert!(read(r#"{"fresh": "yes"}"#).is_err());
        assert_eq!(Action::Retry { fresh: false }.body(), serde_json::json!({}));
    }

    #[test]
    fn a_budget_body_must_say_its_amount() {
        let read = |text: &str| serde_json::from_str::<BudgetBody>(text);
        assert_eq!(read(r#"{"usd": 2.5}"#).unwrap().usd, Some(2.5));
        assert_eq!(read(r#"{"usd": null}"#).unwrap().usd, None);
        assert!(read("{}").is_err());
        assert!(read(r#"{"amount": 5}"#).is_err());
    }

    #[test]
    fn a_move_says_exactly_one_place() {
        let read = |text: &str| serde_json::from_str::<Place>(text);
        assert_eq!(read(r#"{"to": 2}"#).unwrap(), Place::To(2));
        assert_eq!(
            read(r#"{"before": 7}"#).unwrap(),
            Place::Before(gaffer_core::TaskId(7))
        );
        assert!(read("{}").is_err());
        assert!(read(r#"{"to": 1, "before": 7}"#).is_err());
        assert!(read(r#"{"first": true}"#).is_err());
        assert_eq!(
            Action::Move { to: Place::To(1) }.body(),
            serde_json::json!({"to": 1})
        );
    }

    #[test]
    fn budgets_read_as_people_write_them() {
        assert_eq!(parse_budget("2.50"), Ok(Some(2.5)));
        assert_eq!(parse_budget(" $3 "), Ok(Some(3.0)));
        assert_eq!(parse_budget("none"), Ok(None));
        assert_eq!(parse_budget("default"), Ok(None));
        for bad in ["-1", "NaN", "inf", "lots", ""] {
            assert!(parse_budget(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_action_is_named_once_and_routed_by_its_name() {
        let mut names: Vec<&str> = every_action().iter().map(Action::name).collect();
        names.dedup();
        assert_eq!(names, Action::NAMES);
        assert_eq!(Action::Accept.path(7), "/api/tasks/7/accept");
    }

    #[test]
    fn a_body_reads_back_as_the_same_action() {
        for action in every_action() {
            let body = action.body();
            let back: Action = match action.name() {
                "cancel" => serde_json::from_value::<CancelBody>(body).unwrap().into(),
                "retry" => serde_json::from_value::<RetryBody>(body).unwrap().into(),
                "reject" => serde_json::from_value::<RejectBody>(body).unwrap().into(),
                "answer" => serde_json::from_value::<AnswerBody>(body).unwrap().into(),
                "decline" => serde_json::from_value::<DeclineBody>(body).unwrap().into(),
                "budget" => serde_json::from_value::<BudgetBody>(body).unwrap().into(),
                "revert" => serde_json::from_value::<RevertBody>(body).unwrap().into(),
                "move" => serde_json::from_value::<Place>(body).unwrap().into(),
                "say" => serde_json::from_value::<SayBody>(body).unwrap().into(),
                _ => {
                    assert_eq!(body, serde_json::json!({}));
                    action.clone()
                }
            };
            assert_eq!(back, action);
        }
    }
}
