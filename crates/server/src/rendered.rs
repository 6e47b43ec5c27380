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
    pub fn json(&self, event: &Event) -> Arc<str> {
        if let Some(json) = self.locked().by_seq.get(&event.seq) {
            return Arc::clone(json);
        }
        let json: Arc<str> = render(event).into();
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
        let first = rendered.json(&event(1));
        assert!(Arc::ptr_eq(&first, &rendered.json(&event(1))));
        assert!(first.contains("\"seq\":1"), "{first}");
        for seq in 2..=(KEPT as i64 + 10) {
            rendered.json(&event(seq));
        }
        let recent = rendered.locked();
        assert_eq!(recent.by_seq.len(), KEPT);
        assert_eq!(recent.order.len(), KEPT);
        assert!(!recent.by_seq.contains_key(&Seq(1)));
    }
}
