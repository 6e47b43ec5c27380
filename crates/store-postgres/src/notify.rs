//! The NOTIFY side of waking listeners: which channels a store notifies, and when.
//!
//! A transaction that appended events notifies `<base>_events` with the last seq it wrote (as
//! decimal text); one that enqueued jobs or put leased jobs back in the queue notifies
//! `<base>_jobs` with an empty payload. Both are sent inside the transaction, just before its
//! COMMIT, so PostgreSQL delivers them only if it commits (and never for a rolled-back attempt).
//! A listener wakes, then reads the store: a notification carries no data to trust, only a hint
//! that there is something new (notifications of one transaction may be folded together, and a
//! listener that was not connected misses them).
//!
//! The base is `gaffer_<schema>`: two stores in two schemas of one database never wake each
//! other (and notifications never cross databases). The names are this module's only: a
//! LISTEN side takes them from [`crate::PgStore::events_channel`] and
//! [`crate::PgStore::jobs_channel`].

/// The channel names of one store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Channels {
    pub(crate) events: String,
    pub(crate) jobs: String,
}

impl Channels {
    /// The channels of the store in `schema` (a name [`crate::settings::check_schema`] accepted,
    /// so the channel names are plain lowercase identifiers of at most 63 bytes).
    pub(crate) fn for_schema(schema: &str) -> Channels {
        let base = format!("gaffer_{schema}");
        Channels {
            events: format!("{base}_events"),
            jobs: format!("{base}_jobs"),
        }
    }
}

/// What a transaction did that listeners should hear about once it commits.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Pending {
    /// The seq of the last event it appended.
    pub(crate) last_seq: Option<i64>,
    /// It enqueued jobs or made leased ones claimable again.
    pub(crate) jobs: bool,
}

/// The statement that sends one notification.
pub(crate) const NOTIFY: &str = "SELECT pg_notify($1, $2)";

impl Pending {
    /// The (channel, payload) pairs to send for this transaction.
    pub(crate) fn notifications(&self, channels: &Channels) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(seq) = self.last_seq {
            out.push((channels.events.clone(), seq.to_string()));
        }
        if self.jobs {
            out.push((channels.jobs.clone(), String::new()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_are_named_after_the_schema() {
        let c = Channels::for_schema("public");
        assert_eq!(c.events, "gaffer_public_events");
        assert_eq!(c.jobs, "gaffer_public_jobs");
        let longest = Channels::for_schema(&"s".repeat(49));
        assert_eq!(longest.events.len(), 63);
    }

    #[test]
    fn only_what_happened_is_notified() {
        let c = Channels::for_schema("b");
        assert!(Pending::default().notifications(&c).is_empty());
        let p = Pending {
            last_seq: Some(42),
            jobs: true,
        };
        assert_eq!(
            p.notifications(&c),
            vec![
                ("gaffer_b_events".to_string(), "42".to_string()),
                ("gaffer_b_jobs".to_string(), String::new())
            ]
        );
    }
}
