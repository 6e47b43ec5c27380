//! The JSON each event is served as on the event streams, made once per event rather than once
//! per stream: every stream of the daemon sends the same new event at about the same moment.

use gaffer_api::ReadableEvent;
use gaffer_core::{Event, Seq};
use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

/// Recent events' JSON kept for other streams.
const KEPT: usize = 1024;

#[derive(Default)]
pub(crate) struct Rendered {
    recent: Mutex<Recent>,
}

#[derive(Default)]
struct Recent {
    by_seq: HashMap<Seq, Arc<str>>,
    order: VecDeque<Seq>,
}

impl Rendered {
    /// `event` as a `ReadableEvent` in JSON (one line: JSON text has no raw line breaks).
    /// `head` is the last event the daemon's feed read: only events near it are kept, so that
    /// a stream replaying the old log (`?after=0`) does not push the live events out.
    pub fn json(&self, event: &Event, head: Option<Seq>) -> Arc<str> {
        if let Some(json) = self.locked().by_seq.get(&event.seq) {
            return Arc::clone(json);
        }
        let json: Arc<str> = render(event).into();
        let oldest_kept = head.map_or(i64::MIN, |head| {
            head.0
                .saturating_sub(i64::try_from(KEPT).unwrap_or(i64::MAX))
        });
        if event.seq.0 <= oldest_kept {
            return json;
        }
        let mut recent = self.locked();
        let Recent { by_seq, order } = &mut *recent;
        if let Entry::Vacant(slot) = by_seq.entry(event.seq) {
            slot.insert(Arc::clone(&json));
            order.push_back(event.seq);
            while order.len() > KEPT {
                if let Some(old) = order.pop_front() {
                    by_seq.remove(&old);
                }
            }
        }
        json
    }

    fn locked(&self) -> MutexGuard<'_, Recent> {
        // The cache stays valid whatever panicked while it was held.
        self.recent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn render(event: &Event) -> String {
    serde_json::to_string(&ReadableEvent::from(event.clone())).unwrap_or_else(|e| {
        serde_json::json!({ "seq": event.seq, "kind": event.kind, "error": e.to_string() })
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: i64) -> Event {
        Event {
            seq: Seq(seq),
            at_ms: 0,
            project: None,
            task: None,
            run: None,
            kind: "x".into(),
            data: serde_json::json!({ "n": seq }),
        }
    }

    #[test]
    fn each_event_is_rendered_once_and_the_cache_stays_bounded() {
        let rendered = Rendered::default();
        let first = rendered.json(&event(1), Some(Seq(1)));
        assert!(Arc::ptr_eq(&first, &rendered.json(&event(1), Some(Seq(1)))));
        assert!(first.contains("\"seq\":1"), "{first}");
        for seq in 2..=(KEPT as i64 + 10) {
            rendered.json(&event(seq), Some(Seq(seq)));
        }
        let recent = rendered.locked();
        assert_eq!(recent.by_seq.len(), KEPT);
        assert_eq!(recent.order.len(), KEPT);
        assert!(!recent.by_seq.contains_key(&Seq(1)));
    }

    #[test]
    fn a_replay_of_old_events_does_not_push_out_the_live_ones() {
        let rendered = Rendered::default();
        let head = KEPT as i64 * 10;
        let live: Vec<Arc<str>> = (head - 100..=head)
            .map(|seq| rendered.json(&event(seq), Some(Seq(head))))
            .collect();
        // A stream replaying the log from the start.
        for seq in 1..=(KEPT as i64 * 2) {
            let json = rendered.json(&event(seq), Some(Seq(head)));
            assert!(json.contains(&format!("\"seq\":{seq}")));
        }
        for (seq, json) in (head - 100..=head).zip(&live) {
            assert!(Arc::ptr_eq(
                json,
                &rendered.json(&event(seq), Some(Seq(head)))
            ));
        }
        assert_eq!(rendered.locked().by_seq.len(), 101);
    }
}
