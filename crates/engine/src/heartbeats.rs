//! The engine's heartbeat: one loop renews the leases of every job this engine is running, in
//! one store call per beat ([`gaffer_store::Store::heartbeat_jobs`], one transaction), rather
//! than one loop and one transaction per job. A lease the store says was lost stops its job
//! alone: the job's cancellation token is cancelled, as the per-job loop did.
//!
//! A job is renewed from the beat after it is [`Heartbeats::hold`]ed until its [`Beating`] guard
//! is dropped. Beats come every `engine.heartbeat`, shorter than `engine.lease` (the settings
//! insist), so a new job's claim lease is renewed before it runs out, as before.

use gaffer_core::JobId;
use gaffer_store::{HeldLease, Store};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// A job whose lease is kept alive, and how to stop it when the lease is lost.
struct Held {
    lease: HeldLease,
    cancel: CancellationToken,
}

/// The leases one engine holds, renewed together.
#[derive(Default)]
pub(crate) struct Heartbeats {
    /// By registration: the same job may be held twice for a moment (a lease lost and claimed
    /// again under a new owner name), and each holder's guard removes its own entry.
    held: Mutex<HashMap<u64, Held>>,
    next: AtomicU64,
}

/// Keeps a lease in the beats while it lives.
pub(crate) struct Beating {
    heartbeats: Arc<Heartbeats>,
    key: u64,
}

impl Drop for Beating {
    fn drop(&mut self) {
        self.heartbeats.entries().remove(&self.key);
    }
}

impl Heartbeats {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Held>> {
        // Nothing is left half-done under this lock: a poisoned map is still the map.
        self.held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Renews `job`'s lease (claimed as `owner`) at every beat until the guard is dropped; the
    /// beat that finds it lost cancels `cancel`.
    pub(crate) fn hold(
        self: &Arc<Self>,
        job: JobId,
        owner: String,
        cancel: CancellationToken,
    ) -> Beating {
        let key = self.next.fetch_add(1, Ordering::Relaxed);
        self.entries().insert(
            key,
            Held {
                lease: HeldLease { job, owner },
                cancel,
            },
        );
        Beating {
            heartbeats: Arc::clone(self),
            key,
        }
    }

    /// The leases held now.
    fn leases(&self) -> Vec<HeldLease> {
        self.entries().values().map(|h| h.lease.clone()).collect()
    }

    /// One beat: renews every lease held in one store call and stops each job whose lease was
    /// lost (unless it ended meanwhile). Returns the leases found lost.
    pub(crate) fn beat(&self, store: &dyn Store, lease_ms: i64) -> Vec<HeldLease> {
        let leases = self.leases();
        if leases.is_empty() {
            return Vec::new();
        }
        let lost = match store.heartbeat_jobs(&leases, lease_ms) {
            Ok(lost) => lost,
            Err(e) => {
                tracing::warn!(jobs = leases.len(), "heartbeat failed: {e}");
                return Vec::new();
            }
        };
        let mut entries = self.entries();
        for lease in &lost {
            // Only the holder that was asked about: one registered since holds another lease.
            entries.retain(|_, held| {
                if held.lease != *lease {
                    return true;
                }
                tracing::warn!(job = %lease.job, "lease lost; stopping the job");
                held.cancel.cancel();
                false
            });
        }
        lost
    }

    /// Starts beating every `every` on a task of its own, until the returned [`BeatTask`] is
    /// stopped or dropped: the task is tied to its owner (an engine's run whose future is
    /// dropped must not leave it beating forever, holding the store).
    pub(crate) fn spawn(
        self: Arc<Self>,
        store: Arc<dyn Store>,
        every: Duration,
        lease_ms: i64,
    ) -> BeatTask {
        let stop = CancellationToken::new();
        let task = tokio::spawn(self.run(store, every, lease_ms, stop.clone()));
        BeatTask {
            task,
            stop: stop.drop_guard(),
        }
    }

    /// Beats every `every` until `stop` is cancelled. The store is called off the async
    /// workers (a remote worker's store is the network).
    async fn run(
        self: Arc<Self>,
        store: Arc<dyn Store>,
        every: Duration,
        lease_ms: i64,
        stop: CancellationToken,
    ) {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.cancelled() => return,
            }
            let (beats, store) = (Arc::clone(&self), Arc::clone(&store));
            let beat = tokio::task::spawn_blocking(move || {
                beats.beat(store.as_ref(), lease_ms);
            });
            if let Err(e) = beat.await {
                tracing::warn!("heartbeat failed: {e}");
            }
        }
    }
}

/// The beating task of [`Heartbeats::spawn`]: stops it when dropped.
pub(crate) struct BeatTask {
    task: tokio::task::JoinHandle<()>,
    stop: tokio_util::sync::DropGuard,
}

impl BeatTask {
    /// Stops the beats and waits for the last one to end.
    pub(crate) async fn stop(self) {
        let BeatTask { task, stop } = self;
        drop(stop);
        let _ = task.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gaffer_core::{FixedClock, JobSpec, NewJob};
    use gaffer_store::{Commit, NewProject, SqliteStore};

    fn store_with_jobs(n: usize) -> (tempfile::TempDir, Arc<FixedClock>, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(FixedClock::new(1_000_000));
        let store = SqliteStore::open(&dir.path().join("db"), clock.clone()).unwrap();
        let p = store
            .upsert_project(&NewProject {
                name: "p".into(),
                root: "/srv/p".into(),
                target: "main".into(),
            })
            .unwrap();
        let jobs = (0..n)
            .map(|_| NewJob {
                project: p.id,
                task: None,
                spec: JobSpec::Cleanup {
                    delete_branch: false,
                },
                priority: 0,
                max_attempts: 3,
                needs: vec![],
            })
            .collect();
        store
            .commit(&Commit {
                enqueue: jobs,
                ..Commit::default()
            })
            .unwrap();
        (dir, clock, store)
    }

    #[test]
    fn one_beat_renews_every_held_lease_and_stops_only_the_lost_ones() {
        let (_dir, clock, store) = store_with_jobs(4);
        let beats = Arc::new(Heartbeats::default());
        let claim = |owner: &str| store.claim_job(owner, &[], 1_000).unwrap().unwrap();
        let (a, b, c) = (claim("e/1"), claim("e/2"), claim("e/3"));
        // d's lease is longer: still held when the others have run out.
        let d = store.claim_job("e/4", &[], 5_000).unwrap().unwrap();
        let tokens: Vec<CancellationToken> = (0..4).map(|_| CancellationToken::new()).collect();
        let _a = beats.hold(a.id, "e/1".into(), tokens[0].clone());
        let _b = beats.hold(b.id, "e/2".into(), tokens[1].clone());
        let ended = beats.hold(c.id, "e/3".into(), tokens[2].clone());
        let _d = beats.hold(d.id, "e/4".into(), tokens[3].clone());
        // Every lease runs out; another claimer takes the first job.
        clock.advance(1_001);
        let taken = store.claim_job("other", &[], 1_000).unwrap().unwrap();
        assert_eq!(taken.id, a.id.min(b.id).min(c.id));
        drop(ended);
        let lost = beats.beat(&store, 1_000);
        // a (taken) and b (run out) are lost and stopped; c ended, so it is not asked about.
        assert_eq!(lost.len(), 2, "{lost:?}");
        assert!(tokens[0].is_cancelled() && tokens[1].is_cancelled());
        assert!(!tokens[2].is_cancelled(), "an ended job is left alone");
        assert!(
            !tokens[3].is_cancelled(),
            "a lease still held, renewed in the same beat, is not stopped"
        );
        assert_eq!(
            beats.leases(),
            vec![HeldLease {
                job: d.id,
                owner: "e/4".into()
            }],
            "lost leases are not renewed again; the held one is"
        );
        assert_eq!(
            store.job(d.id).unwrap().lease_expires_ms,
            Some(1_000_000 + 1_001 + 1_000),
            "renewed by the beat"
        );
    }

    #[test]
    fn leases_held_are_kept_alive_beat_after_beat() {
        let (_dir, clock, store) = store_with_jobs(2);
        let beats = Arc::new(Heartbeats::default());
        let a = store.claim_job("e/1", &[], 1_000).unwrap().unwrap();
        let b = store.claim_job("e/2", &[], 1_000).unwrap().unwrap();
        let token = CancellationToken::new();
        let _a = beats.hold(a.id, "e/1".into(), token.clone());
        let _b = beats.hold(b.id, "e/2".into(), token.clone());
        for _ in 0..5 {
            clock.advance(600);
            assert!(beats.beat(&store, 1_000).is_empty());
        }
        assert!(!token.is_cancelled());
        assert!(store.claim_job("other", &[], 1_000).unwrap().is_none());
        assert_eq!(
            store.job(a.id).unwrap().lease_expires_ms,
            Some(1_000_000 + 3_000 + 1_000)
        );
    }

    #[tokio::test]
    async fn the_beats_end_when_their_task_is_dropped() {
        let (_dir, _clock, store) = store_with_jobs(0);
        let store: Arc<dyn Store> = Arc::new(store);
        let beats = Arc::new(Heartbeats::default());
        let task = Arc::clone(&beats).spawn(Arc::clone(&store), Duration::from_millis(5), 1_000);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(Arc::strong_count(&store) > 1, "the beats hold the store");
        // As when an engine's run is dropped mid-flight (a crash in the tests' harness).
        drop(task);
        for _ in 0..200 {
            if Arc::strong_count(&store) == 1 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("the beats went on after their task was dropped");
    }

    #[tokio::test]
    async fn stopping_the_beats_waits_for_them_to_end() {
        let (_dir, _clock, store) = store_with_jobs(0);
        let store: Arc<dyn Store> = Arc::new(store);
        let beats = Arc::new(Heartbeats::default());
        let task = Arc::clone(&beats).spawn(Arc::clone(&store), Duration::from_millis(5), 1_000);
        task.stop().await;
        assert_eq!(Arc::strong_count(&store), 1);
    }
}
