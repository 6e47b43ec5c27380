//! The agent runs going on in this process that take a person's message at their next turn
//! (their backend gave the run an [`Inbox`]: Claude Code, scripted agents that listen).
//!
//! When a person says something to a task (`task.said`), the engine hands the message to such a
//! run instead of stopping it ([`Listening::deliver`]); a run without an inbox, or whose inbox is
//! closed (its last turn ended), is stopped and resumed with the message as before
//! (`crate::said`). The backend tells when the agent took the message into its conversation:
//! that is recorded as `run.heard` ([`Listening::heard`]), and the task's next run does not
//! carry it again. A message handed over and never heard (the run ended first) was not
//! delivered: the run ends as stopped, so that the next run resumes its session with it
//! ([`Listening::unheard`]).

use crate::board::Board;
use crate::error::Result;
use crate::said::Message;
use gaffer_agents::Inbox;
use gaffer_core::{JobId, Seq, TaskId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The runs that take messages, by job.
#[derive(Debug, Default)]
pub(crate) struct Listening {
    runs: Mutex<HashMap<JobId, Listener>>,
}

#[derive(Debug)]
struct Listener {
    task: TaskId,
    inbox: Inbox,
    /// Messages said after this were handed over (or are to be).
    since: Seq,
    sent: Vec<Sent>,
}

/// A message handed to a run.
#[derive(Debug, Clone)]
struct Sent {
    /// The `task.said` event.
    seq: Seq,
    /// As the person wrote it.
    said: String,
    /// As the run was given it (the backend's `Heard` names it so).
    given: String,
    heard: bool,
}

/// A message a run's agent heard.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HeardMessage {
    pub seq: Seq,
    pub text: String,
}

/// Keeps a run in [`Listening`] while it lives; dropping it takes the run out.
pub(crate) struct Listen {
    listening: Arc<Listening>,
    job: JobId,
}

impl Listen {
    /// The run ended: takes it out, and says how many messages it was handed and did not hear
    /// (in one step, so that no message is handed to it in between).
    pub(crate) fn finish(self) -> usize {
        self.listening
            .runs
            .lock()
            .ok()
            .and_then(|mut runs| runs.remove(&self.job))
            .map_or(0, |l| l.sent.iter().filter(|s| !s.heard).count())
    }
}

impl Drop for Listen {
    fn drop(&mut self) {
        if let Ok(mut runs) = self.listening.runs.lock() {
            runs.remove(&self.job);
        }
    }
}

impl Listening {
    /// Job `job`'s run of `task` takes messages through `inbox`; what people said after `since`
    /// (where the run started: what came before is in its prompt) is handed to it.
    pub(crate) fn listen(
        self: &Arc<Self>,
        job: JobId,
        task: TaskId,
        inbox: Inbox,
        since: Seq,
    ) -> Listen {
        if let Ok(mut runs) = self.runs.lock() {
            runs.insert(
                job,
                Listener {
                    task,
                    inbox,
                    since,
                    sent: Vec::new(),
                },
            );
        }
        Listen {
            listening: Arc::clone(self),
            job,
        }
    }

    /// Hands what people said to `task` and no run of it was given yet to its runs that take
    /// messages. Returns the jobs whose run took every such message: the others (no inbox, or
    /// a closed one) must be stopped to hear them.
    pub(crate) fn deliver(&self, board: &Board, task: TaskId) -> Result<Vec<JobId>> {
        let Ok(mut runs) = self.runs.lock() else {
            return Ok(Vec::new());
        };
        if !runs.values().any(|l| l.task == task) {
            return Ok(Vec::new());
        }
        // Read under the lock: two deliveries at once must not hand a message twice.
        let said = crate::said::said_to(board, task)?;
        Ok(hand_over(&mut runs, task, &said))
    }

    /// Job `job`'s agent heard `given` (as the run was given it): the message, the first
    /// time; `None` for anything else (the run's own prompt, a message heard already).
    pub(crate) fn heard(&self, job: JobId, given: &str) -> Option<HeardMessage> {
        let mut runs = self.runs.lock().ok()?;
        let sent = runs
            .get_mut(&job)?
            .sent
            .iter_mut()
            .find(|s| !s.heard && s.given == given)?;
        sent.heard = true;
        Some(HeardMessage {
            seq: sent.seq,
            text: sent.said.clone(),
        })
    }
}

/// Hands `said` (what people said to `task`, oldest first) to the task's listening runs, each
/// from where it was given up to; the jobs whose run took every message it was due.
fn hand_over(runs: &mut HashMap<JobId, Listener>, task: TaskId, said: &[Message]) -> Vec<JobId> {
    let mut took = Vec::new();
    for (job, listener) in runs.iter_mut().filter(|(_, l)| l.task == task) {
        let mut all = true;
        let since = listener.since;
        for message in said.iter().filter(|m| m.seq > since) {
            let given = crate::prompts::said_now(&message.text);
            if listener.inbox.send(&given).is_err() {
                all = false;
                break;
            }
            listener.since = message.seq;
            listener.sent.push(Sent {
                seq: message.seq,
                said: message.text.clone(),
                given,
                heard: false,
            });
        }
        if all {
            took.push(*job);
        }
    }
    took
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(seq: i64, text: &str) -> Message {
        Message {
            seq: Seq(seq),
            text: text.to_string(),
        }
    }

    fn received(rx: &mut tokio::sync::mpsc::UnboundedReceiver<String>) -> Vec<String> {
        std::iter::from_fn(|| rx.try_recv().ok()).collect()
    }

    #[test]
    fn each_message_is_handed_once_from_where_the_run_started() {
        let listening = Arc::new(Listening::default());
        let (inbox, mut rx) = Inbox::channel();
        let _listen = listening.listen(JobId(1), TaskId(7), inbox, Seq(10));
        let (other, mut other_rx) = Inbox::channel();
        let _other = listening.listen(JobId(2), TaskId(8), other, Seq(0));
        let mut said = vec![message(5, "in the prompt already"), message(12, "one")];
        {
            let mut runs = listening.runs.lock().unwrap();
            assert_eq!(hand_over(&mut runs, TaskId(7), &said), [JobId(1)]);
            said.push(message(15, "two"));
            // A second delivery (another message said) hands only what is new.
            assert_eq!(hand_over(&mut runs, TaskId(7), &said), [JobId(1)]);
        }
        assert_eq!(
            received(&mut rx),
            [
                crate::prompts::said_now("one"),
                crate::prompts::said_now("two")
            ]
        );
        // Another task's run hears nothing of it.
        assert!(received(&mut other_rx).is_empty());
    }

    #[test]
    fn a_run_whose_inbox_is_closed_did_not_take_it() {
        let listening = Arc::new(Listening::default());
        let (inbox, rx) = Inbox::channel();
        let listen = listening.listen(JobId(1), TaskId(7), inbox, Seq(0));
        drop(rx);
        let mut runs = listening.runs.lock().unwrap();
        assert!(hand_over(&mut runs, TaskId(7), &[message(3, "late")]).is_empty());
        drop(runs);
        // Nothing was handed, so nothing is owed.
        assert_eq!(listen.finish(), 0);
    }

    #[test]
    fn each_message_heard_is_matched_once_and_the_rest_are_owed() {
        let listening = Arc::new(Listening::default());
        let (inbox, _rx) = Inbox::channel();
        let listen = listening.listen(JobId(1), TaskId(7), inbox, Seq(0));
        let said = [
            message(3, "again"),
            message(4, "again"),
            message(5, "never heard"),
        ];
        {
            let mut runs = listening.runs.lock().unwrap();
            assert_eq!(hand_over(&mut runs, TaskId(7), &said), [JobId(1)]);
        }
        let given = crate::prompts::said_now("again");
        let heard = |text: &str| listening.heard(JobId(1), text).map(|h| h.seq);
        // Two messages with the same words: each replay takes the oldest not yet heard.
        assert_eq!(heard(&given), Some(Seq(3)));
        assert_eq!(heard(&given), Some(Seq(4)));
        assert_eq!(heard(&given), None);
        // The run's own prompt, replayed, is no message.
        assert_eq!(heard("Write the notes."), None);
        assert_eq!(
            listening.heard(JobId(1), &crate::prompts::said_now("again")),
            None
        );
        assert_eq!(listen.finish(), 1);
        assert!(listening.runs.lock().unwrap().is_empty());
        // Once the run ended, what it hears is not matched.
        assert_eq!(heard(&crate::prompts::said_now("never heard")), None);
    }
}
