//! `GET /metrics`: the board in the Prometheus text exposition format (version 0.0.4).
//!
//! | metric | type | labels | what |
//! |---|---|---|---|
//! | `gaffer_info` | gauge | `project`, `version` | always 1 |
//! | `gaffer_tasks` | gauge | `status` | tasks of the project by status (every status, 0 included) |
//! | `gaffer_runs` | gauge | `role`, `status` | agent runs by role and status |
//! | `gaffer_tokens_total` | counter | `model`, `type` (`input`, `output`, `cached`) | tokens of every run |
//! | `gaffer_cost_usd_total` | counter | `model` | cost of every run, US dollars |
//! | `gaffer_merge_queue_length` | gauge | | tasks verified and reviewed, waiting to land or landing |
//! | `gaffer_jobs` | gauge | `kind`, `status` (`queued`, `leased`) | the job queue |
//! | `gaffer_verify_duration_seconds` | histogram | `result` (`passed`, `failed`) | verify runs |
//! | `gaffer_lease_expiries_total` | counter | | times a job was handed out again because its holder's lease expired |
//! | `gaffer_jobs_released_total` | counter | | jobs given back to the queue (`job.released`: a dead daemon's jobs, a worker giving up its lease) |
//! | `gaffer_events_last_seq` | gauge | | the sequence number of the newest event |
//! | `gaffer_concurrency` | gauge | | agents allowed to run at once (when the engine runs in this process) |
//!
//! Counts of tasks, runs, jobs and usage are read from the store at each scrape. The verify
//! histogram and the released jobs come from the event log, which the server follows from
//! where the previous scrape stopped, so a scrape costs only the events since the last one.

use crate::error::ApiError;
use crate::state::Ctx;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use gaffer_core::{JobStatus, Payload, Seq, Status};
use gaffer_engine::Board;
use gaffer_store::{EventFilter, JobFilter, UsageDimension};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// The media type of the text exposition format.
pub const CONTENT_TYPE_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds of the verify duration buckets, in seconds.
const VERIFY_BUCKETS: [f64; 12] = [
    1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1200.0, 1800.0, 3600.0,
];

/// Events read from the store at once while catching up.
const BATCH: usize = 5000;

/// What the server has counted from the event log so far.
#[derive(Default)]
pub(crate) struct Followed {
    state: Mutex<FollowState>,
}

#[derive(Clone)]
struct FollowState {
    last: Seq,
    /// By result (`passed`, `failed`).
    verify: BTreeMap<&'static str, Histogram>,
    released: u64,
}

#[derive(Clone)]
struct Histogram {
    /// Per bucket of [`VERIFY_BUCKETS`] (not cumulative).
    counts: [u64; VERIFY_BUCKETS.len()],
    sum: f64,
    count: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: [0; VERIFY_BUCKETS.len()],
            sum: 0.0,
            count: 0,
        }
    }
}

impl Histogram {
    fn observe(&mut self, value: f64) {
        if let Some(i) = VERIFY_BUCKETS.iter().position(|b| value <= *b) {
            self.counts[i] += 1;
        }
        self.sum += value;
        self.count += 1;
    }
}

impl Default for FollowState {
    fn default() -> Self {
        FollowState {
            last: Seq(0),
            verify: BTreeMap::new(),
            released: 0,
        }
    }
}

impl Followed {
    /// Reads the events after the last one seen and returns the counts as they are now.
    fn catch_up(&self, board: &Board) -> Result<FollowState, ApiError> {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let filter = EventFilter {
            project: Some(board.project().id),
            ..EventFilter::default()
        };
        loop {
            let events = board.events_after(state.last, BATCH, &filter)?;
            let Some(last) = events.last() else { break };
            state.last = last.seq;
            for event in &events {
                match event.payload() {
                    Ok(Payload::VerifyFinished(verify)) => {
                        let result = if verify.passed { "passed" } else { "failed" };
                        let seconds = verify.duration_ms as f64 / 1000.0;
                        state.verify.entry(result).or_default().observe(seconds);
                    }
                    Ok(Payload::JobReleased(_)) => state.released += 1,
                    _ => {}
                }
            }
        }
        Ok(state.clone())
    }
}

/// `GET /metrics`.
pub async fn metrics(State(ctx): State<Ctx>) -> Result<impl IntoResponse, ApiError> {
    let followed = ctx.metrics();
    let concurrency = ctx.app.engine.as_ref().map(|e| e.concurrency());
    let text = ctx
        .blocking(move |board| render(board, &followed, concurrency))
        .await?;
    Ok(([(CONTENT_TYPE, CONTENT_TYPE_TEXT)], text))
}

fn render(
    board: &Board,
    followed: &Followed,
    concurrency: Option<usize>,
) -> Result<String, ApiError> {
    let events = followed.catch_up(board)?;
    let tasks = board.tasks(&[])?;
    let mut out = Exposition::default();

    out.family(
        "gaffer_info",
        "gauge",
        "The project this daemon serves and gaffer's version.",
    );
    out.sample(
        "gaffer_info",
        &[
            ("project", &board.project().name),
            ("version", env!("CARGO_PKG_VERSION")),
        ],
        1.0,
    );

    out.family("gaffer_tasks", "gauge", "Tasks of the project by status.");
    for status in Status::ALL {
        let n = tasks.iter().filter(|t| t.status() == status).count();
        out.sample("gaffer_tasks", &[("status", status.as_str())], n as f64);
    }

    runs_and_usage(&mut out, board, &tasks)?;
    let queued = tasks
        .iter()
        .filter(|t| matches!(t.status(), Status::Queued | Status::Merging))
        .count();
    out.family(
        "gaffer_merge_queue_length",
        "gauge",
        "Tasks verified and reviewed that wait to land or are landing.",
    );
    out.sample("gaffer_merge_queue_length", &[], queued as f64);

    let expiries = jobs(&mut out, board)?;
    out.family(
        "gaffer_verify_duration_seconds",
        "histogram",
        "How long verify runs took, by result.",
    );
    for result in ["passed", "failed"] {
        let histogram = events.verify.get(result).cloned().unwrap_or_default();
        out.histogram(
            "gaffer_verify_duration_seconds",
            &[("result", result)],
            &histogram,
        );
    }

    out.family(
        "gaffer_lease_expiries_total",
        "counter",
        "Times a job was handed out again because its holder's lease expired.",
    );
    out.sample("gaffer_lease_expiries_total", &[], expiries as f64);
    out.family(
        "gaffer_jobs_released_total",
        "counter",
        "Jobs given back to the queue by their holder or after their daemon died.",
    );
    out.sample("gaffer_jobs_released_total", &[], events.released as f64);

    out.family(
        "gaffer_events_last_seq",
        "gauge",
        "The sequence number of the newest event of the project.",
    );
    out.sample("gaffer_events_last_seq", &[], events.last.0 as f64);

    if let Some(n) = concurrency {
        out.family(
            "gaffer_concurrency",
            "gauge",
            "Agents allowed to run at once.",
        );
        out.sample("gaffer_concurrency", &[], n as f64);
    }
    Ok(out.text)
}

/// Agent runs by role and status, and tokens and cost by model.
fn runs_and_usage(
    out: &mut Exposition,
    board: &Board,
    tasks: &[gaffer_core::Task],
) -> Result<(), ApiError> {
    let mut runs: BTreeMap<(&'static str, &'static str), u64> = BTreeMap::new();
    for task in tasks {
        for run in board.runs(task.id)? {
            *runs
                .entry((run.role.as_str(), run.status.as_str()))
                .or_default() += 1;
        }
    }
    out.family("gaffer_runs", "gauge", "Agent runs by role and status.");
    for ((role, status), n) in &runs {
        out.sample(
            "gaffer_runs",
            &[("role", role), ("status", status)],
            *n as f64,
        );
    }

    let by_model = board.usage_breakdown(Some(board.project().id), UsageDimension::Model)?;
    out.family(
        "gaffer_tokens_total",
        "counter",
        "Tokens used by agent runs, by model and type (input not served from a cache, output, cached input).",
    );
    for row in &by_model {
        let usage = &row.usage;
        for (kind, n) in [
            ("input", usage.input_tokens),
            ("output", usage.output_tokens),
            ("cached", usage.cached_tokens),
        ] {
            out.sample(
                "gaffer_tokens_total",
                &[("model", &row.key), ("type", kind)],
                n as f64,
            );
        }
    }
    out.family(
        "gaffer_cost_usd_total",
        "counter",
        "Cost of agent runs in US dollars, by model.",
    );
    for row in &by_model {
        out.sample(
            "gaffer_cost_usd_total",
            &[("model", &row.key)],
            row.usage.cost_usd,
        );
    }

    Ok(())
}

/// Jobs waiting or running by kind; the lease expiries their attempts tell of.
fn jobs(out: &mut Exposition, board: &Board) -> Result<u64, ApiError> {
    let jobs = board.jobs(&JobFilter::default())?;
    let mut open: BTreeMap<(&'static str, &'static str), u64> = BTreeMap::new();
    let mut expiries = 0u64;
    for job in jobs.iter().filter(|j| j.project == board.project().id) {
        // Releasing a job does not count its attempt, so every attempt beyond the first began
        // after a holder's lease expired.
        expiries += u64::from(job.attempts.saturating_sub(1));
        if matches!(job.status, JobStatus::Queued | JobStatus::Leased) {
            *open
                .entry((job.spec.kind().as_str(), job.status.as_str()))
                .or_default() += 1;
        }
    }
    out.family(
        "gaffer_jobs",
        "gauge",
        "Jobs waiting (queued) or running (leased), by kind.",
    );
    for kind in ["run", "verify", "prepare_candidate", "land", "cleanup"] {
        for status in ["queued", "leased"] {
            let n = open.remove(&(kind, status)).unwrap_or(0);
            out.sample(
                "gaffer_jobs",
                &[("kind", kind), ("status", status)],
                n as f64,
            );
        }
    }
    for ((kind, status), n) in open {
        out.sample(
            "gaffer_jobs",
            &[("kind", kind), ("status", status)],
            n as f64,
        );
    }

    Ok(expiries)
}

/// Writes the text exposition format.
#[derive(Default)]
struct Exposition {
    text: String,
}

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.text, "# HELP {name} {help}");
        let _ = writeln!(self.text, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.text.push_str(name);
        if !labels.is_empty() {
            self.text.push('{');
            for (i, (key, value)) in labels.iter().enumerate() {
                if i > 0 {
                    self.text.push(',');
                }
                let _ = write!(self.text, "{key}=\"{}\"", escape_label(value));
            }
            self.text.push('}');
        }
        let _ = writeln!(self.text, " {}", number(value));
    }

    fn histogram(&mut self, name: &str, labels: &[(&str, &str)], h: &Histogram) {
        let bucket = format!("{name}_bucket");
        let mut cumulative = 0u64;
        for (bound, n) in VERIFY_BUCKETS.iter().zip(h.counts) {
            cumulative += n;
            let le = number(*bound);
            let mut with_le = labels.to_vec();
            with_le.push(("le", &le));
            self.sample(&bucket, &with_le, cumulative as f64);
        }
        let mut with_le = labels.to_vec();
        with_le.push(("le", "+Inf"));
        self.sample(&bucket, &with_le, h.count as f64);
        self.sample(&format!("{name}_sum"), labels, h.sum);
        self.sample(&format!("{name}_count"), labels, h.count as f64);
    }
}

/// A label value with `\`, `"` and line feeds escaped.
fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A sample value as Prometheus reads it: whole numbers without a fraction, `+Inf`, `NaN`.
fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped() {
        assert_eq!(escape_label(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escape_label("x\ny"), "x\\ny");
    }

    #[test]
    fn numbers() {
        assert_eq!(number(3.0), "3");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(f64::NAN), "NaN");
    }

    #[test]
    fn a_histogram_is_cumulative() {
        let mut h = Histogram::default();
        h.observe(0.5);
        h.observe(7.0);
        h.observe(10_000.0);
        let mut out = Exposition::default();
        out.histogram("v", &[("result", "passed")], &h);
        assert!(
            out.text
                .contains("v_bucket{result=\"passed\",le=\"1\"} 1\n")
        );
        assert!(
            out.text
                .contains("v_bucket{result=\"passed\",le=\"10\"} 2\n")
        );
        assert!(
            out.text
                .contains("v_bucket{result=\"passed\",le=\"3600\"} 2\n")
        );
        assert!(
            out.text
                .contains("v_bucket{result=\"passed\",le=\"+Inf\"} 3\n")
        );
        assert!(out.text.contains("v_sum{result=\"passed\"} 10007.5\n"));
        assert!(out.text.contains("v_count{result=\"passed\"} 3\n"));
    }
}
