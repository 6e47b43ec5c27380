//! `GET /metrics`: parsed as Prometheus parses it, and checked against the board.

use crate::harness::Api;
use axum::http::StatusCode;
use gaffer_core::payload::{VerifyFinished, VerifyOf};
use gaffer_core::{NewEvent, ObjectId, Payload, RunStatus, Usage};
use gaffer_store::{Commit, RunFinish};
use std::collections::BTreeMap;

/// The samples of one scrape, by name and labels (sorted `k=v` pairs).
struct Scrape {
    samples: Vec<prometheus_parse::Sample>,
    text: String,
}

impl Scrape {
    async fn of(api: &Api) -> Scrape {
        let reply = api.get("/metrics").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(
            reply.content_type,
            "text/plain; version=0.0.4; charset=utf-8"
        );
        check_exposition(&reply.text);
        let lines = reply.text.lines().map(|l| Ok(l.to_string()));
        let parsed = prometheus_parse::Scrape::parse(lines).unwrap();
        Scrape {
            samples: parsed.samples,
            text: reply.text,
        }
    }

    /// The value of the sample `name{labels}` (every label given must match; the sample may
    /// have others only if `labels` names them all).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let wanted: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let found: Vec<&prometheus_parse::Sample> = self
            .samples
            .iter()
            .filter(|s| s.metric == name)
            .filter(|s| {
                let have: BTreeMap<String, String> = s
                    .labels
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                have == wanted
            })
            .collect();
        assert_eq!(found.len(), 1, "{name}{labels:?} in:\n{}", self.text);
        match &found[0].value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => *v,
            other => panic!("{name} is not a plain value: {other:?}"),
        }
    }

    fn histogram(&self, name: &str, result: &str) -> (Vec<(f64, f64)>, f64, f64) {
        let sample = self
            .samples
            .iter()
            .find(|s| s.metric == name && s.labels.get("result") == Some(result))
            .unwrap_or_else(|| panic!("no {name}{{result={result}}} in:\n{}", self.text));
        match &sample.value {
            prometheus_parse::Value::Histogram(buckets) => {
                let buckets = buckets.iter().map(|b| (b.less_than, b.count)).collect();
                let sum = self.value(&format!("{name}_sum"), &[("result", result)]);
                let count = self.value(&format!("{name}_count"), &[("result", result)]);
                (buckets, sum, count)
            }
            other => panic!("{name} is not a histogram: {other:?}"),
        }
    }
}

/// A strict reading of the text format, beyond what the parser checks: every sample's family
/// has `# HELP` and `# TYPE` before it, each once; names and label names are valid; values
/// parse; no blank or stray lines.
fn check_exposition(text: &str) {
    let name_ok = |n: &str| {
        let mut chars = n.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    };
    let mut typed: BTreeMap<String, String> = BTreeMap::new();
    let mut helped: Vec<String> = Vec::new();
    assert!(
        text.ends_with('\n'),
        "the exposition must end with a line feed"
    );
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap();
            assert!(!helped.contains(&name.to_string()), "HELP twice for {name}");
            helped.push(name.to_string());
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split(' ');
            let (name, kind) = (parts.next().unwrap(), parts.next().unwrap());
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            assert!(
                typed.insert(name.to_string(), kind.to_string()).is_none(),
                "TYPE twice: {line}"
            );
            continue;
        }
        assert!(
            !line.trim().is_empty() && !line.starts_with('#'),
            "stray line: {line:?}"
        );
        let (series, value) = line.rsplit_once(' ').unwrap();
        assert!(
            value.parse::<f64>().is_ok() || ["+Inf", "-Inf", "NaN"].contains(&value),
            "bad value: {line}"
        );
        let name = series.split('{').next().unwrap();
        assert!(name_ok(name), "bad name: {line}");
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| {
                name.strip_suffix(suffix)
                    .filter(|base| typed.get(*base).is_some_and(|k| k == "histogram"))
            })
            .unwrap_or(name);
        assert!(typed.contains_key(family), "sample before its TYPE: {line}");
        assert!(
            helped.contains(&family.to_string()),
            "sample before its HELP: {line}"
        );
        if let Some(labels) = series.strip_prefix(name).and_then(|l| l.strip_prefix('{')) {
            let labels = labels.strip_suffix('}').unwrap();
            for pair in labels.split("\",") {
                let (key, _) = pair.split_once("=\"").unwrap();
                assert!(name_ok(key) && !key.contains(':'), "bad label name: {line}");
            }
        }
    }
}

#[tokio::test]
async fn metrics_parse_and_match_the_board() {
    let api = Api::new();
    let board = api.board().clone();
    let empty = Scrape::of(&api).await;
    assert_eq!(empty.value("gaffer_tasks", &[("status", "backlog")]), 0.0);
    assert_eq!(empty.value("gaffer_merge_queue_length", &[]), 0.0);

    let a = api.add_task("Fix the login").await;
    let b = api.add_task("Add dark mode").await;
    let _c = api.add_task("Write docs").await;
    let reply = api.post(&format!("/api/tasks/{b}/cancel"), "").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);

    // Two runs of task a: one finished with usage, one still running.
    let first = api.start_run(a);
    board
        .store()
        .commit(&Commit {
            finish_run: Some(RunFinish {
                run: first,
                status: RunStatus::Succeeded,
                outcome: Some("done".into()),
                usage: Usage {
                    input_tokens: 1200,
                    output_tokens: 80,
                    cached_tokens: 300,
                    cost_usd: 0.25,
                },
                session_id: None,
            }),
            ..Commit::default()
        })
        .unwrap();
    api.start_run(a);
    // Verify runs, as the engine records them.
    let verify = |passed: bool, ms: u64| {
        NewEvent::of(Payload::VerifyFinished(VerifyFinished {
            commit: ObjectId::new("c0ffee"),
            tree: ObjectId::new("7ree"),
            purpose: VerifyOf::Branch,
            passed,
            exit_code: Some(if passed { 0 } else { 1 }),
            timed_out: false,
            duration_ms: ms,
            tail: String::new(),
            slot: None,
            failure: None,
        }))
        .project(board.project().id)
        .task(gaffer_core::TaskId(a))
    };
    board
        .store()
        .append_events(&[
            verify(true, 2_500),
            verify(true, 45_000),
            verify(false, 700),
        ])
        .unwrap();

    let scrape = Scrape::of(&api).await;
    let tasks = api.get("/api/tasks").await.json();
    for status in gaffer_core::Status::ALL {
        let n = tasks
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["state"]["status"] == status.as_str())
            .count();
        assert_eq!(
            scrape.value("gaffer_tasks", &[("status", status.as_str())]),
            n as f64,
            "{status}"
        );
    }
    assert_eq!(scrape.value("gaffer_tasks", &[("status", "backlog")]), 2.0);
    assert_eq!(
        scrape.value("gaffer_tasks", &[("status", "cancelled")]),
        1.0
    );
    assert_eq!(
        scrape.value("gaffer_runs", &[("role", "coder"), ("status", "succeeded")]),
        1.0
    );
    assert_eq!(
        scrape.value("gaffer_runs", &[("role", "coder"), ("status", "running")]),
        1.0
    );
    for (kind, n) in [("input", 1200.0), ("output", 80.0), ("cached", 300.0)] {
        assert_eq!(
            scrape.value("gaffer_tokens_total", &[("model", "mock"), ("type", kind)]),
            n
        );
    }
    assert_eq!(
        scrape.value("gaffer_cost_usd_total", &[("model", "mock")]),
        0.25
    );
    let usage = api.get("/api/usage").await.json();
    assert_eq!(usage["usage"]["cost_usd"], 0.25);

    let (buckets, sum, count) = scrape.histogram("gaffer_verify_duration_seconds", "passed");
    assert_eq!(count, 2.0);
    assert!((sum - 47.5).abs() < 1e-9, "{sum}");
    let at = |le: f64| buckets.iter().find(|(b, _)| *b == le).unwrap().1;
    assert_eq!((at(1.0), at(5.0), at(30.0), at(60.0)), (0.0, 1.0, 1.0, 2.0));
    assert_eq!(at(f64::INFINITY), 2.0);
    let (_, _, failed) = scrape.histogram("gaffer_verify_duration_seconds", "failed");
    assert_eq!(failed, 1.0);

    assert_eq!(scrape.value("gaffer_lease_expiries_total", &[]), 0.0);
    assert_eq!(scrape.value("gaffer_jobs_released_total", &[]), 0.0);
    let last = board.last_seq().unwrap();
    assert_eq!(scrape.value("gaffer_events_last_seq", &[]), last.0 as f64);
    assert_eq!(
        scrape.value(
            "gaffer_info",
            &[
                ("project", &board.project().name),
                ("version", env!("CARGO_PKG_VERSION"))
            ]
        ),
        1.0
    );

    // A second scrape counts only what is new: the histogram does not double.
    board.store().append_events(&[verify(true, 10)]).unwrap();
    let again = Scrape::of(&api).await;
    let (_, _, count) = again.histogram("gaffer_verify_duration_seconds", "passed");
    assert_eq!(count, 3.0);
}

#[tokio::test]
async fn the_concurrency_is_reported_when_an_engine_runs() {
    let api = Api::with_engine();
    let scrape = Scrape::of(&api).await;
    assert!(scrape.value("gaffer_concurrency", &[]) >= 1.0);
    let api = Api::new();
    assert!(!Scrape::of(&api).await.text.contains("gaffer_concurrency"));
}
