//! A job's process as the store records it ([`ProcessRecord`]) and as `gaffer_proc` knows it
//! ([`ProcessIdentity`]): the same fields, kept apart because the core knows no processes.

use gaffer_core::{ProcessRecord, RecordedIdentity};
use gaffer_proc::ProcessIdentity;

/// What to record for a process this gaffer just started, in this boot.
pub(crate) fn record(id: &ProcessIdentity) -> ProcessRecord {
    ProcessRecord {
        identity: RecordedIdentity {
            pid: id.pid,
            pgid: id.pgid,
            start_time: id.start_time,
            token: id.token.clone(),
        },
        // The boot id guards against a pid and start time that repeat after a reboot.
        boot_id: gaffer_proc::boot_id(),
    }
}

/// The process a record names, if it was recorded in this boot (otherwise its pid and start
/// time may name an unrelated process now).
pub(crate) fn in_this_boot(record: &ProcessRecord) -> Option<ProcessIdentity> {
    if record.boot_id != gaffer_proc::boot_id() {
        return None;
    }
    let id = &record.identity;
    Some(ProcessIdentity {
        pid: id.pid,
        pgid: id.pgid,
        start_time: id.start_time,
        token: id.token.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_of_this_boot_gives_the_identity_back_and_keeps_the_stored_shape() {
        let id = ProcessIdentity {
            pid: 42,
            pgid: 42,
            start_time: 7,
            token: Some("t".into()),
        };
        let stored = record(&id);
        assert_eq!(in_this_boot(&stored), Some(id.clone()));
        // The database holds what earlier builds wrote: `{"identity": …, "boot_id": …}`.
        let json = serde_json::to_value(&stored).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({ "identity": id, "boot_id": gaffer_proc::boot_id() })
        );
        let other_boot = ProcessRecord {
            boot_id: Some("another boot".into()),
            ..stored
        };
        assert_eq!(in_this_boot(&other_boot), None);
    }
}
