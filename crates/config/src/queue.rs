//! `[queue]` (how the merge queue builds and tests candidates) and `[host]` (how much heavy work,
//! such as verify runs, this machine takes on at once).
//!
//! ```toml
//! [queue]
//! strategy = "merge"          # or "rebase": each branch lands as one commit on top
//! max_candidates = 8          # candidates tested at once, each on top of those ahead; 1 = serial
//! batch = "auto"              # the default; branches tested together as one candidate: "auto"
//!                             # (from the heavy slots, the queue's length and its recent
//!                             # failures) or a number (1 = one candidate per branch)
//!
//! [host]
//! heavy_slots = 4             # verify runs at once (queue and coders together); default: CPUs
//! max_load = 6.0              # hold heavy work (and new agent runs) back while the 1-minute
//!                             # load average is above
//! min_free_memory = "2GiB"    # ... or while less memory than this is available
//! ```

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::file::At;
use crate::resolve::Check;

/// How a queued branch is applied on the target and the branches ahead of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueStrategy {
    /// A merge commit (first parent: what it lands on; second: the branch), never a
    /// fast-forward: the target's first-parent history is exactly the trees that passed verify.
    #[default]
    Merge,
    /// One new commit on top of what it lands on, holding the branch's whole change (its commits
    /// squashed): a linear history in which every commit passed verify.
    Rebase,
}

impl QueueStrategy {
    /// Every strategy, in documentation order.
    pub const ALL: [QueueStrategy; 2] = [QueueStrategy::Merge, QueueStrategy::Rebase];

    /// The name used in `gaffer.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            QueueStrategy::Merge => "merge",
            QueueStrategy::Rebase => "rebase",
        }
    }

    /// The strategy with this name, if any.
    pub fn from_name(name: &str) -> Option<QueueStrategy> {
        QueueStrategy::ALL
            .into_iter()
            .find(|s| s.as_str() == name.trim())
    }
}

impl fmt::Display for QueueStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `[queue]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueSettings {
    /// How branches are applied. Default: merge.
    pub strategy: QueueStrategy,
    /// Candidates in the merge train at once, each tested on top of the ones ahead of it,
    /// `1..=64`; 1 is a serial queue. Default: 8.
    pub max_candidates: usize,
    /// How many branches may be tested together as one candidate (a batch, bisected when it
    /// fails). Default: `"auto"`, which batches only when it pays (one branch per candidate
    /// while the queue holds no more branches than the heavy slots).
    pub batch: QueueBatch,
}

/// `queue.batch`: how many branches the merge queue tests as one candidate.
///
/// A batch is one commit holding several branches, verified once; when it passes, all of them
/// land at once (one commit on the target, whose tree is the one verified); when it fails, the
/// queue finds the guilty branch by bisection (halves, tested on top of each other where the
/// heavy slots allow). Batching pays when verify is the bottleneck: fewer heavy slots than
/// branches waiting, and few branches that fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueBatch {
    /// The default. Batch only while more branches wait than the heavy slots can test one by
    /// one: up to the branches in the queue per heavy slot, at most [`AUTO_BATCH_MAX`], at most
    /// 1/p for a share p of recent branches failing ([`RecentOutcomes`]: with one heavy slot
    /// its estimate, with several a cautious upper bound), none from a third up; one per
    /// candidate otherwise (exactly the train of `batch = 1`).
    Auto,
    /// At most this many branches per candidate, `1..=64`; 1: one candidate per branch.
    Fixed(usize),
}

impl Default for QueueBatch {
    /// Batches when they pay, the train of one branch per candidate otherwise.
    fn default() -> Self {
        QueueBatch::Auto
    }
}

/// The largest batch `batch = "auto"` makes.
pub const AUTO_BATCH_MAX: usize = 16;

/// Bounds of a fixed `queue.batch`.
pub const BATCH_RANGE: std::ops::RangeInclusive<i64> = 1..=64;

/// How the merge queue's recent branches ended: of the last `ended` that left it (landed, or
/// ejected because their verify failed), `failed` were ejected. The engine reads it from the
/// event log; `batch = "auto"` sizes batches by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecentOutcomes {
    /// Branches that left the queue, landed or ejected for a failing verify.
    pub ended: usize,
    /// Of those, the ones ejected for a failing verify.
    pub failed: usize,
}

impl RecentOutcomes {
    /// The share of branches that fail, estimated with a prior of one in eight (as if eight more
    /// had ended, one of them failing: the mean of a Beta(1 + failed, 7 + landed) posterior), so
    /// that a queue without history batches by eight rather than by as many as it can, and one
    /// bad batch does not swing it.
    pub fn failure_rate(self) -> f64 {
        let failed = self.failed.min(self.ended) as f64;
        (failed + 1.0) / (self.ended as f64 + 8.0)
    }

    /// A cautious bound on that share: the estimate plus three standard deviations of the same
    /// posterior (`m(1 - m)/(n + 1)` for a mean m over n = ended + 8 outcomes, prior included).
    /// Without history it is near one in two (0.46), after four branches landed below a third,
    /// and with two dozen landed and none failing, one in eight; with a quarter failing it stays
    /// above a third.
    pub fn failure_bound(self) -> f64 {
        let mean = self.failure_rate();
        let n = self.ended as f64 + 8.0;
        mean + 3.0 * (mean * (1.0 - mean) / (n + 1.0)).sqrt()
    }
}

impl QueueBatch {
    /// The most branches per candidate now: `waiting` branches in the queue (train and waiting
    /// line), `heavy_slots` verify runs at once on this host, and `recent` how the queue's
    /// recent branches ended.
    pub fn size(self, waiting: usize, heavy_slots: usize, recent: RecentOutcomes) -> usize {
        match self {
            QueueBatch::Fixed(n) => n.max(1),
            QueueBatch::Auto => {
                let slots = heavy_slots.max(1);
                if waiting <= slots {
                    // Every branch can have a slot of its own: a train of one branch per
                    // candidate is as fast and never pays for a bisection.
                    return 1;
                }
                // What batching is measured against. With one slot, the train is the serial
                // queue: every verify run waits for the one before, and a batch that passes
                // saves a run per branch in it, so even a guess (the estimate, with its prior)
                // pays. With several, the train already verifies that many branches at once
                // and loses only a recheck and the candidates behind a failing one, while a
                // failing batch is bisected in rounds the slots mostly wait on: batch only
                // when the failure rate is known to be low, sized for its upper bound. A queue
                // without history so starts as the train and batches as branches land.
                let p = if slots == 1 {
                    recent.failure_rate()
                } else {
                    recent.failure_bound()
                };
                // Group testing: with a share p of guilty branches, a batch of about 1/p
                // branches fails about once in two; bisection costs a few runs per failure,
                // more than batches save from about a third failing up (group testing's limit
                // is 1 - 3^(-1/3), 0.31).
                let by_failures = if p >= 1.0 / 3.0 {
                    1
                } else {
                    ((1.0 / p).floor() as usize).clamp(1, AUTO_BATCH_MAX)
                };
                waiting
                    .div_ceil(slots)
                    .min(by_failures)
                    .clamp(1, AUTO_BATCH_MAX)
            }
        }
    }
}

/// As it is written in `gaffer.toml`: the number itself, or `"auto"`.
impl Serialize for QueueBatch {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            QueueBatch::Auto => serializer.serialize_str("auto"),
            QueueBatch::Fixed(n) => serializer.serialize_u64(*n as u64),
        }
    }
}

impl fmt::Display for QueueBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueueBatch::Auto => f.write_str("auto"),
            QueueBatch::Fixed(n) => write!(f, "{n}"),
        }
    }
}

/// Bounds of `queue.max_candidates`.
pub const MAX_CANDIDATES_RANGE: std::ops::RangeInclusive<i64> = 1..=64;

impl Default for QueueSettings {
    fn default() -> Self {
        QueueSettings {
            strategy: QueueStrategy::Merge,
            max_candidates: 8,
            batch: QueueBatch::Auto,
        }
    }
}

/// `[host]`: this machine's budget for heavy commands (verify runs), shared by the merge queue
/// and the coders' verify gate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostSettings {
    /// Heavy commands at once, `1..=1024`. Default: the number of CPUs.
    pub heavy_slots: usize,
    /// Hold heavy work back while the 1-minute load average is above this. Default: none.
    pub max_load: Option<f64>,
    /// Hold heavy work back while less memory than this many bytes is available. Default: none.
    pub min_free_memory: Option<u64>,
    /// What this machine has (`gpu`, `gtk`): jobs of tasks that need a label, and runs of agents
    /// that need one (`[agents.<name>] needs`), go only to machines with it. Set per machine (`GAFFER_HOST__LABELS=gpu,gtk` or `gaffer up --label`),
    /// since gaffer.toml is shared. Default: none (it takes only jobs that need nothing).
    pub labels: Vec<String>,
}

/// Bounds of `host.heavy_slots`.
pub const HEAVY_SLOTS_RANGE: std::ops::RangeInclusive<i64> = 1..=1024;

impl Default for HostSettings {
    fn default() -> Self {
        HostSettings {
            heavy_slots: default_heavy_slots(),
            max_load: None,
            min_free_memory: None,
            labels: Vec::new(),
        }
    }
}

/// The number of CPUs this process may use, at least 1.
pub fn default_heavy_slots() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().max(1))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawQueue {
    pub strategy: Option<At<String>>,
    pub max_candidates: Option<At<i64>>,
    pub batch: Option<At<RawBatch>>,
}

/// `queue.batch` as written: a number, or text (`"auto"`, or a number given as text by an
/// override).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawBatch {
    Number(i64),
    Text(String),
}

impl<'de> Deserialize<'de> for RawBatch {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BatchVisitor;
        impl Visitor<'_> for BatchVisitor {
            type Value = RawBatch;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number of branches, or \"auto\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawBatch, E> {
                Ok(RawBatch::Number(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawBatch, E> {
                Ok(RawBatch::Number(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawBatch, E> {
                Ok(RawBatch::Text(v.to_string()))
            }
        }
        deserializer.deserialize_any(BatchVisitor)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHost {
    pub heavy_slots: Option<At<i64>>,
    pub max_load: Option<At<RawNumber>>,
    pub min_free_memory: Option<At<RawSize>>,
    pub labels: Option<At<Vec<String>>>,
}

/// A number written as an integer or a float.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RawNumber(f64);

impl RawNumber {
    pub(crate) fn value(self) -> f64 {
        self.0
    }
}

impl<'de> Deserialize<'de> for RawNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NumberVisitor;
        impl Visitor<'_> for NumberVisitor {
            type Value = RawNumber;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number, such as 4 or 6.5")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawNumber, E> {
                Ok(RawNumber(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawNumber, E> {
                Ok(RawNumber(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawNumber, E> {
                Ok(RawNumber(v))
            }
        }
        deserializer.deserialize_any(NumberVisitor)
    }
}

/// An amount of memory as written: bytes, or text such as `"2GiB"` or `"512M"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawSize {
    Bytes(i64),
    Text(String),
}

impl<'de> Deserialize<'de> for RawSize {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SizeVisitor;
        impl Visitor<'_> for SizeVisitor {
            type Value = RawSize;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(SIZE_FORMS)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawSize, E> {
                Ok(RawSize::Bytes(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawSize, E> {
                Ok(RawSize::Bytes(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawSize, E> {
                Ok(RawSize::Text(v.to_string()))
            }
        }
        deserializer.deserialize_any(SizeVisitor)
    }
}

const SIZE_FORMS: &str =
    "an amount of memory such as \"2GiB\", \"512MiB\", \"1.5G\" or a number of bytes";

/// Parses `"2GiB"`, `"2G"`, `"2GB"`, `"512 MiB"`, `"1.5g"`, `"4096"` (units are powers of
/// 1024). `None` when the text is not an amount of memory.
pub(crate) fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let unit = unit.trim().to_ascii_lowercase();
    let unit = unit.trim_end_matches("ib").trim_end_matches('b');
    let scale: f64 = match unit {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let bytes = number * scale;
    (bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64).then(|| bytes.round() as u64)
}

pub(crate) fn resolve_queue(
    check: &Check<'_>,
    raw: &RawQueue,
) -> Result<QueueSettings, ConfigError> {
    let defaults = QueueSettings::default();
    let strategy = match &raw.strategy {
        None => defaults.strategy,
        Some(at) => QueueStrategy::from_name(at.get_ref()).ok_or_else(|| {
            check.error(
                at,
                "queue.strategy",
                format!("queue.strategy = {} is not a strategy", check.written(at)),
                "use \"merge\" (a merge commit per branch) or \"rebase\" (one commit per branch \
                 on top of the target)"
                    .to_string(),
            )
        })?,
    };
    let max_candidates = match &raw.max_candidates {
        None => defaults.max_candidates,
        Some(at) => check.number(at, "queue.max_candidates", &MAX_CANDIDATES_RANGE)? as usize,
    };
    let batch = match &raw.batch {
        None => defaults.batch,
        Some(at) => {
            let number = match at.get_ref() {
                RawBatch::Number(n) => Some(*n),
                RawBatch::Text(text) if text.trim() == "auto" => None,
                RawBatch::Text(text) => Some(text.trim().parse::<i64>().map_err(|_| {
                    check.error(
                        at,
                        "queue.batch",
                        format!("queue.batch = {} is not a batch size", check.written(at)),
                        "write a number of branches tested together (1 tests each branch \
                         alone) or \"auto\""
                            .to_string(),
                    )
                })?),
            };
            match number {
                None => QueueBatch::Auto,
                Some(n) => {
                    let n = check.number(
                        &toml::Spanned::new(at.span(), n),
                        "queue.batch",
                        &BATCH_RANGE,
                    )?;
                    QueueBatch::Fixed(n as usize)
                }
            }
        }
    };
    Ok(QueueSettings {
        strategy,
        max_candidates,
        batch,
    })
}

pub(crate) fn resolve_host(check: &Check<'_>, raw: &RawHost) -> Result<HostSettings, ConfigError> {
    let heavy_slots = match &raw.heavy_slots {
        None => default_heavy_slots(),
        Some(at) => check.number(at, "host.heavy_slots", &HEAVY_SLOTS_RANGE)? as usize,
    };
    let max_load = match &raw.max_load {
        None => None,
        Some(at) => {
            let value = at.get_ref().0;
            if !(value.is_finite() && value > 0.0) {
                return Err(check.error(
                    at,
                    "host.max_load",
                    format!(
                        "host.max_load = {} must be a load average above zero",
                        check.written(at)
                    ),
                    "write the 1-minute load average above which heavy work waits, e.g. \
                     max_load = 6.0, or remove the line"
                        .to_string(),
                ));
            }
            Some(value)
        }
    };
    let min_free_memory = match &raw.min_free_memory {
        None => None,
        Some(at) => {
            let parsed = match at.get_ref() {
                RawSize::Bytes(n) => u64::try_from(*n).ok(),
                RawSize::Text(text) => parse_size(text),
            };
            Some(parsed.ok_or_else(|| {
                check.error(
                    at,
                    "host.min_free_memory",
                    format!(
                        "host.min_free_memory = {} is not an amount of memory",
                        check.written(at)
                    ),
                    format!("write {SIZE_FORMS}"),
                )
            })?)
        }
    };
    let labels = match &raw.labels {
        None => Vec::new(),
        Some(at) => crate::labels::labels(at.get_ref().iter().map(String::as_str)).map_err(
            |(_, label)| {
                check.error(
                    at,
                    "host.labels",
                    format!("host.labels: `{label}` is not a machine label"),
                    format!(
                        "write labels of {}, e.g. labels = [\"gpu\", \"gtk\"]",
                        crate::labels::LABEL_FORM
                    ),
                )
            },
        )?,
    };
    Ok(HostSettings {
        heavy_slots,
        max_load,
        min_free_memory,
        labels,
    })
}

#[cfg(test)]
mod tests {
    use super::{QueueBatch, RecentOutcomes, parse_size};

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("2GiB"), Some(2 << 30));
        assert_eq!(parse_size("2G"), Some(2 << 30));
        assert_eq!(parse_size("512 MiB"), Some(512 << 20));
        assert_eq!(parse_size("1.5g"), Some(3 << 29));
        assert_eq!(parse_size("2kb"), Some(2048));
        for bad in ["", "lots", "2 parsecs", "-1G", "1..2G"] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
    }

    /// `auto` with one heavy slot: the estimate with its prior of one in eight; with several, a
    /// cautious upper bound, so that a queue without history starts as the train (the rule
    /// before batched by eight there, and bisected most of them at a quarter failing).
    #[test]
    fn auto_sizes_by_the_failure_estimate_or_its_bound() {
        let auto = QueueBatch::Auto;
        let ended = |ended, failed| RecentOutcomes { ended, failed };
        let (none, clean, quarter) = (RecentOutcomes::default(), ended(24, 0), ended(24, 6));
        // One slot: the serial queue is the alternative, so the estimate (1/8, 1/32, 7/32).
        assert_eq!(auto.size(24, 1, none), 8);
        assert_eq!(auto.size(24, 1, clean), 16);
        assert_eq!(auto.size(24, 1, quarter), 4);
        // Two slots and no history, or a quarter failing: the train, which verifies two
        // branches at once and never bisects.
        assert_eq!(auto.size(24, 2, none), 1);
        assert_eq!(auto.size(24, 2, quarter), 1);
        assert_eq!(auto.size(24, 2, ended(3, 0)), 1);
        // Batches once branches landed, sized for the bound (4 landed: 0.31; 24: 0.12).
        assert_eq!(auto.size(24, 2, ended(4, 0)), 3);
        assert_eq!(auto.size(24, 2, clean), 8);
        assert_eq!(auto.size(12, 2, clean), 6);
        assert_eq!(auto.size(24, 2, ended(24, 2)), 4);
        // Enough slots for every branch: the train, whatever the history.
        assert_eq!(auto.size(4, 4, clean), 1);
    }

    #[test]
    fn failure_estimates() {
        let none = RecentOutcomes::default();
        assert!((none.failure_rate() - 0.125).abs() < 1e-9);
        assert!((none.failure_bound() - 0.4556).abs() < 1e-3);
        let quarter = RecentOutcomes {
            ended: 24,
            failed: 6,
        };
        assert!((quarter.failure_rate() - 7.0 / 32.0).abs() < 1e-9);
        assert!(quarter.failure_bound() > 1.0 / 3.0);
        // More failures than ended (a caller's slip) count as all of them.
        let odd = RecentOutcomes {
            ended: 2,
            failed: 5,
        };
        assert!((odd.failure_rate() - 0.3).abs() < 1e-9);
    }
}
