//! The conformance suite: what every [`Store`] implementation must do, as executable checks.
//! Compiled only with the crate's `conformance` feature (tests and other stores' crates turn it
//! on; the binary does not carry it).
//!
//! Each check in [`CHECKS`] is a `pub fn(&MakeStore)`: it asks the factory for a fresh, empty
//! store whose time comes from a [`FixedClock`] the check owns (so leases can expire on demand),
//! exercises one part of the contract, and panics with a message naming what broke. Two more
//! checks need more than one fresh store: the lease model
//! ([`no_two_owners_hold_a_job_and_none_completes_twice`], a property test over many fresh
//! stores), the concurrency checks ([`eight_connections_drain_ten_thousand_jobs_exactly_once`],
//! [`claimers_sharing_a_handle_and_not_drain_every_job_once`], [`handles_race_for_a_lease`]:
//! several handles on one database, made by a [`Connect`]
//! factory) and [`changes_reach_other_handles`] (a write through one handle wakes a listener on
//! another).
//!
//! To run the whole suite against an implementation, invoke
//! [`conformance_tests!`](crate::conformance_tests) in an integration test of a crate that
//! enables the feature (one named test per check):
//!
//! ```text
//! fn factory() -> impl Fn(Arc<FixedClock>) -> Box<dyn Store> {
//!     let dir = tempfile::tempdir().unwrap();
//!     let n = std::sync::atomic::AtomicUsize::new(0);
//!     move |clock| {
//!         let i = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
//!         Box::new(SqliteStore::open(&dir.path().join(format!("{i}.db")), clock).unwrap())
//!     }
//! }
//! fn connect() -> impl Fn() -> Box<dyn Store> + Sync {
//!     let dir = tempfile::tempdir().unwrap();
//!     move || Box::new(SqliteStore::open_default(&dir.path().join("shared.db")).unwrap())
//! }
//! gaffer_store::conformance_tests!(factory(), shared: connect());
//! ```
//!
//! `conformance_tests!(factory())` alone defines the [`CHECKS`] tests; [`run_all`] runs those in
//! one go (a quick smoke test of a new backend).

mod board_copy;
mod board_rich;
mod branch;
mod changes;
mod commits;
mod concurrency;
mod edit_deps;
mod edit_status;
mod events;
mod fixtures;
mod heartbeats;
mod jobs;
mod lease_model;
mod leases;
mod named_leases;
mod routing;
mod runs;
mod taken_over;
mod tasks;
mod usage;
mod worker_tokens;

use crate::Store;
use gaffer_core::FixedClock;
use std::sync::Arc;

pub use board_copy::{board_is_copied_without_loss, imports_are_checked};
pub use branch::task_branch_moves_with_a_commit;
pub use changes::{changes_reach_other_handles, changes_wake_listeners};
pub use commits::{
    cancel_jobs_of_task, children_are_created, commit_is_all_or_nothing, versions_and_conflicts,
};
pub use concurrency::{
    claimers_sharing_a_handle_and_not_drain_every_job_once,
    eight_connections_drain_ten_thousand_jobs_exactly_once,
};
pub use edit_deps::dependencies_and_scopes_are_edited;
pub use edit_status::edits_never_change_the_status;
pub use events::events_are_ordered_and_filtered;
pub use heartbeats::heartbeats_renew_only_held_leases;
pub use jobs::{claim_order_and_kinds, job_process_is_recorded, jobs_lookup_and_filters};
pub use lease_model::no_two_owners_hold_a_job_and_none_completes_twice;
pub use leases::{
    dead_owner_release, heartbeat_and_expiry, max_attempts_exhaustion, release_returns_job_to_queue,
};
pub use named_leases::{handles_race_for_a_lease, named_leases};
pub use routing::{
    hosts_are_announced_and_read_back, labelled_jobs_go_to_machines_with_the_labels,
};
pub use runs::{runs_lifecycle, runs_lost, usage_totals};
pub use taken_over::runs_of_a_taken_over_job_are_lost;
pub use tasks::{
    invalid_input_is_refused, projects_upsert_and_read, tasks_are_edited, tasks_create_and_read,
};
pub use usage::{usage_breakdown, usage_since};
pub use worker_tokens::{
    worker_token_use_is_recorded, worker_tokens_are_created_listed_and_revoked,
};

/// Builds a fresh, empty store whose clock is the given one.
pub type MakeStore = dyn Fn(Arc<FixedClock>) -> Box<dyn Store>;

/// Opens another handle on one shared database, fresh and empty at the first call (for SQLite: a
/// new connection to the same file, as a second process would have).
pub type Connect = dyn Fn() -> Box<dyn Store> + Sync;

/// One check of the suite.
pub type Check = fn(&MakeStore);

/// The time every check's clock starts at (2023-11-14, an arbitrary fixed instant).
pub const START_MS: i64 = 1_700_000_000_000;

/// Calls `$crate::$callback! { [$args] check_1 check_2 ... }` with the single list of checks.
#[doc(hidden)]
#[macro_export]
macro_rules! __with_conformance_checks {
    ($callback:ident; $($args:tt)*) => {
        $crate::$callback! {
            [$($args)*]
            projects_upsert_and_read
            tasks_create_and_read
            tasks_are_edited
            edits_never_change_the_status
            dependencies_and_scopes_are_edited
            invalid_input_is_refused
            versions_and_conflicts
            task_branch_moves_with_a_commit
            commit_is_all_or_nothing
            cancel_jobs_of_task
            children_are_created
            events_are_ordered_and_filtered
            claim_order_and_kinds
            labelled_jobs_go_to_machines_with_the_labels
            hosts_are_announced_and_read_back
            worker_tokens_are_created_listed_and_revoked
            worker_token_use_is_recorded
            jobs_lookup_and_filters
            job_process_is_recorded
            heartbeat_and_expiry
            heartbeats_renew_only_held_leases
            release_returns_job_to_queue
            max_attempts_exhaustion
            dead_owner_release
            named_leases
            runs_lifecycle
            runs_lost
            runs_of_a_taken_over_job_are_lost
            usage_totals
            usage_breakdown
            usage_since
            board_is_copied_without_loss
            imports_are_checked
            changes_wake_listeners
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_table {
    ([] $($name:ident)*) => {
        /// Every check, by name, in the order [`run_all`] runs them.
        pub const CHECKS: &[(&str, Check)] = &[$((stringify!($name), $name)),*];
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_test_fns {
    ([$make:expr] $($name:ident)*) => {
        $(
            #[test]
            fn $name() {
                let make = $make;
                $crate::conformance::$name(&make);
            }
        )*
    };
}

/// Defines one `#[test]` per conformance check, each building its factory with `$make` (an
/// expression evaluating to something callable as `Fn(Arc<FixedClock>) -> Box<dyn Store>`; it
/// is evaluated once per test, so it may own a temporary directory).
///
/// With `shared: $connect` (an expression evaluating to something callable as
/// `Fn() -> Box<dyn Store> + Sync`, see [`Connect`]; evaluated once per test) it also defines the
/// lease model, the concurrency check and the check that changes reach other handles: the whole
/// suite.
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::__with_conformance_checks!(__conformance_test_fns; $make);
    };
    ($make:expr, shared: $connect:expr) => {
        $crate::conformance_tests!($make);

        #[test]
        fn no_two_owners_hold_a_job_and_none_completes_twice() {
            let make = $make;
            $crate::conformance::no_two_owners_hold_a_job_and_none_completes_twice(&make);
        }

        #[test]
        fn changes_reach_other_handles() {
            let connect = $connect;
            $crate::conformance::changes_reach_other_handles(&connect);
        }

        #[test]
        fn eight_connections_drain_ten_thousand_jobs_exactly_once() {
            let connect = $connect;
            $crate::conformance::eight_connections_drain_ten_thousand_jobs_exactly_once(&connect);
        }

        #[test]
        fn claimers_sharing_a_handle_and_not_drain_every_job_once() {
            let connect = $connect;
            $crate::conformance::claimers_sharing_a_handle_and_not_drain_every_job_once(
                &connect,
            );
        }

        #[test]
        fn handles_race_for_a_lease() {
            let connect = $connect;
            $crate::conformance::handles_race_for_a_lease(&connect);
        }
    };
}

__with_conformance_checks!(__conformance_table;);

/// Runs every check against stores made by `make`, panicking at the first failure.
pub fn run_all(make: &MakeStore) {
    for (name, check) in CHECKS {
        tracing::info!(check = name, "store conformance");
        check(make);
    }
}
