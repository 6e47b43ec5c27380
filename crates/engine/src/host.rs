//! The host's budget for heavy work (DESIGN §8): verify runs, whoever asks for them (the merge
//! queue's candidates or the coders' verify gate), share `host.heavy_slots`, and none starts
//! while the load average or the free memory is past its configured threshold.
//!
//! The engine asks for a permit before it claims a verify job and holds it while the job runs;
//! jobs are claimed oldest first, so permits go out in the order the work was asked for. Agent
//! runs have slots of their own (`engine.concurrency`) but wait on the same load and memory
//! thresholds ([`HostBudget::agent_held_back`]). The
//! budget is this daemon's: several daemons on one machine each have their own, and the load and
//! memory thresholds are what keeps them from overloading it together.

use gaffer_config::HostSettings;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What the host looks like now; `None` where it cannot be read (not Linux, say).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct HostLoad {
    /// The 1-minute load average.
    pub load1: Option<f64>,
    /// Memory available for new work, in bytes (`MemAvailable`).
    pub available_memory: Option<u64>,
}

impl HostLoad {
    /// Reads `/proc/loadavg` and `/proc/meminfo`.
    pub fn read() -> HostLoad {
        let load1 = std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|text| text.split_whitespace().next()?.parse().ok());
        let available_memory = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|text| {
                let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
                let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
                kib.checked_mul(1024)
            });
        HostLoad {
            load1,
            available_memory,
        }
    }
}

/// Why no permit was given.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum HeldBack {
    /// Every slot is taken.
    Full { slots: usize },
    /// The load average is above `host.max_load`.
    Load { load: f64, max: f64 },
    /// Less memory than `host.min_free_memory` is available.
    Memory { available: u64, min: u64 },
}

impl std::fmt::Display for HeldBack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeldBack::Full { slots } => write!(f, "all {slots} heavy slots are in use"),
            HeldBack::Load { load, max } => {
                write!(f, "the load average {load:.2} is above host.max_load {max}")
            }
            HeldBack::Memory { available, min } => write!(
                f,
                "{} MiB of memory is available, less than host.min_free_memory ({} MiB)",
                available >> 20,
                min >> 20
            ),
        }
    }
}

type Probe = Box<dyn Fn() -> HostLoad + Send + Sync>;

/// The budget. Cheap to share; permits give their slot back when dropped.
pub struct HostBudget {
    slots: usize,
    max_load: Option<f64>,
    min_free_memory: Option<u64>,
    in_use: Arc<AtomicUsize>,
    probe: Probe,
}

/// A slot of the budget, held while one heavy command runs.
#[derive(Debug)]
pub struct HeavyPermit {
    in_use: Arc<AtomicUsize>,
}

impl Drop for HeavyPermit {
    fn drop(&mut self) {
        self.in_use.fetch_sub(1, Ordering::SeqCst);
    }
}

impl HostBudget {
    /// The budget `[host]` configures, reading the real load and memory.
    pub fn new(settings: &HostSettings) -> HostBudget {
        HostBudget::with_probe(settings, Box::new(HostLoad::read))
    }

    /// The budget with another way of reading the host (tests).
    pub fn with_probe(settings: &HostSettings, probe: Probe) -> HostBudget {
        HostBudget {
            slots: settings.heavy_slots.max(1),
            max_load: settings.max_load,
            min_free_memory: settings.min_free_memory,
            in_use: Arc::new(AtomicUsize::new(0)),
            probe,
        }
    }

    pub fn slots(&self) -> usize {
        self.slots
    }

    pub fn in_use(&self) -> usize {
        self.in_use.load(Ordering::SeqCst)
    }

    /// Why a heavy command may not start now, if it may not.
    pub fn held_back(&self) -> Option<HeldBack> {
        if self.in_use() >= self.slots {
            return Some(HeldBack::Full { slots: self.slots });
        }
        thresholds(self.max_load, self.min_free_memory, (self.probe)())
    }

    /// Why no new agent run may start on this host now, if none may: agents have their own
    /// slots (`engine.concurrency`), but the load and memory thresholds hold them back too, so
    /// that a machine (a daemon's or a remote worker's) claims no work it cannot carry.
    pub fn agent_held_back(&self) -> Option<HeldBack> {
        if self.max_load.is_none() && self.min_free_memory.is_none() {
            return None;
        }
        thresholds(self.max_load, self.min_free_memory, (self.probe)())
    }

    /// A slot, unless every slot is taken or the host is past a threshold.
    pub fn try_acquire(&self) -> Result<HeavyPermit, HeldBack> {
        let watched = self.max_load.is_some() || self.min_free_memory.is_some();
        if watched
            && let Some(held) = thresholds(self.max_load, self.min_free_memory, (self.probe)())
        {
            return Err(held);
        }
        let mut current = self.in_use.load(Ordering::SeqCst);
        loop {
            if current >= self.slots {
                return Err(HeldBack::Full { slots: self.slots });
            }
            match self.in_use.compare_exchange(
                current,
                current + 1,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => {
                    return Ok(HeavyPermit {
                        in_use: Arc::clone(&self.in_use),
                    });
                }
                Err(now) => current = now,
            }
        }
    }
}

/// Whether `load` crosses the configured thresholds. A value the host does not report holds
/// nothing back.
pub fn thresholds(
    max_load: Option<f64>,
    min_free_memory: Option<u64>,
    load: HostLoad,
) -> Option<HeldBack> {
    if let (Some(max), Some(now)) = (max_load, load.load1)
        && now > max
    {
        return Some(HeldBack::Load { load: now, max });
    }
    if let (Some(min), Some(available)) = (min_free_memory, load.available_memory)
        && available < min
    {
        return Some(HeldBack::Memory { available, min });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn settings(slots: usize, max_load: Option<f64>, min_free: Option<u64>) -> HostSettings {
        HostSettings {
            labels: Vec::new(),
            heavy_slots: slots,
            max_load,
            min_free_memory: min_free,
        }
    }

    #[test]
    fn agents_wait_on_the_thresholds_but_not_on_the_heavy_slots() {
        let budget = HostBudget::with_probe(&settings(1, None, None), Box::new(HostLoad::default));
        let _permit = budget.try_acquire().unwrap();
        assert_eq!(
            budget.agent_held_back(),
            None,
            "heavy slots are not agents'"
        );
        let busy = HostBudget::with_probe(
            &settings(1, Some(2.0), Some(1 << 30)),
            Box::new(|| HostLoad {
                load1: Some(1.0),
                available_memory: Some(1 << 20),
            }),
        );
        assert_eq!(
            busy.agent_held_back(),
            Some(HeldBack::Memory {
                available: 1 << 20,
                min: 1 << 30
            })
        );
    }

    #[test]
    fn slots_are_bounded_and_come_back_when_dropped() {
        let budget = HostBudget::with_probe(&settings(2, None, None), Box::new(HostLoad::default));
        let a = budget.try_acquire().unwrap();
        let _b = budget.try_acquire().unwrap();
        assert_eq!(
            budget.try_acquire().unwrap_err(),
            HeldBack::Full { slots: 2 }
        );
        drop(a);
        assert_eq!(budget.in_use(), 1);
        assert!(budget.try_acquire().is_ok());
    }

    #[test]
    fn load_and_memory_hold_work_back_until_they_recover() {
        let now = Arc::new(Mutex::new(HostLoad {
            load1: Some(9.0),
            available_memory: Some(4 << 30),
        }));
        let probe = {
            let now = Arc::clone(&now);
            Box::new(move || *now.lock().unwrap())
        };
        let budget = HostBudget::with_probe(&settings(4, Some(6.0), Some(1 << 30)), probe);
        assert_eq!(
            budget.try_acquire().unwrap_err(),
            HeldBack::Load {
                load: 9.0,
                max: 6.0
            }
        );
        *now.lock().unwrap() = HostLoad {
            load1: Some(1.0),
            available_memory: Some(512 << 20),
        };
        assert!(matches!(
            budget.try_acquire().unwrap_err(),
            HeldBack::Memory { .. }
        ));
        *now.lock().unwrap() = HostLoad {
            load1: Some(1.0),
            available_memory: Some(2 << 30),
        };
        assert!(budget.try_acquire().is_ok());
        // A host that reports nothing holds nothing back.
        *now.lock().unwrap() = HostLoad::default();
        assert!(budget.try_acquire().is_ok());
    }

    #[test]
    fn this_host_can_be_read() {
        let load = HostLoad::read();
        if cfg!(target_os = "linux") {
            assert!(
                load.load1.is_some() && load.available_memory.is_some(),
                "{load:?}"
            );
        }
    }
}
