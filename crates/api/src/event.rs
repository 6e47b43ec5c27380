//! Events as the HTTP API serves them: the stored event unchanged, plus its sentence.

use gaffer_core::Event;
use serde::{Deserialize, Serialize};

/// An event with `text`, what happened in words ([`gaffer_core::event::describe`]: it names
/// the run, not the task), so that the dashboard shows the sentence the CLI shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadableEvent {
    #[serde(flatten)]
    pub event: Event,
    pub text: String,
}

impl From<Event> for ReadableEvent {
    fn from(event: Event) -> Self {
        let text = gaffer_core::event::describe(&event);
        ReadableEvent { event, text }
    }
}

/// Each of `events` with its sentence.
pub fn readable(events: Vec<Event>) -> Vec<ReadableEvent> {
    events.into_iter().map(ReadableEvent::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use gaffer_core::{Seq, TaskId, event_kind};

    #[test]
    fn the_event_is_served_as_stored_with_its_sentence_beside_it() {
        let event = Event {
            seq: Seq(4),
            at_ms: 10,
            project: None,
            task: Some(TaskId(3)),
            run: None,
            kind: event_kind::QUEUE_JOINED.into(),
            data: serde_json::json!({"position": 2, "priority": 0, "since_ms": 5}),
        };
        let served = serde_json::to_value(ReadableEvent::from(event.clone())).unwrap();
        let mut stored = serde_json::to_value(&event).unwrap();
        stored["text"] = "joined the merge train at position 2".into();
        assert_eq!(served, stored);
        let back: ReadableEvent = serde_json::from_value(served).unwrap();
        assert_eq!(back.event, event);
    }
}
