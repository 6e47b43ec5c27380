//! gaffer's memory with 32 concurrent agent runs: gaffer's own agent loop (the `openai` backend)
//! against the scripted model server, each run a few turns with tool calls and short delays.
//!
//! Prints the process's resident memory before, at the peak, and after, and the increase per
//! concurrent run. Run: `cargo bench -p gaffer-agents --bench memory`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use gaffer_agents::http::{HttpAgentOptions, OpenAiBackend};
use gaffer_agents::{AgentBackend, AgentEvent, RunRequest};
use gaffer_mock_llm::{MockServer, Script};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const RUNS: usize = 32;

const SCRIPT: &str = r#"
[[conversations]]
name = "work"
marker = "bench"
[[conversations.turns]]
text = "STATUS: reading"
tool_calls = [{ name = "list_dir", arguments = { path = "." } }]
delay_ms = 200
[[conversations.turns]]
text = "STATUS: writing"
tool_calls = [{ name = "write_file", arguments = { path = "out.txt", content = "some output\n" } }]
delay_ms = 200
[[conversations.turns]]
tool_calls = [{ name = "read_file", arguments = { path = "out.txt" } }]
delay_ms = 200
[[conversations.turns]]
text = "Done: wrote out.txt."
delay_ms = 200
"#;

/// Resident set size and its high-water mark, in KiB.
fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let server = MockServer::start(Script::from_toml_str(SCRIPT).unwrap())
            .await
            .unwrap();
        let root = tempfile::tempdir().unwrap();
        let backend =
            OpenAiBackend::new(HttpAgentOptions::default().with_base_url(server.openai_base_url()))
                .unwrap();
        // One warm-up run so that one-time allocations do not count against the runs.
        run_all(&backend, root.path(), 1).await;
        let (before, _) = rss();
        let started = Instant::now();
        let sampler = tokio::spawn(async {
            let mut peak = 0;
            for _ in 0..200 {
                peak = peak.max(rss().0);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            peak
        });
        let events = run_all(&backend, root.path(), RUNS).await;
        let elapsed = started.elapsed();
        let sampled_peak = sampler.await.unwrap();
        let (after, hwm) = rss();
        let peak = sampled_peak.max(after);
        println!("gaffer memory with {RUNS} concurrent scripted runs (own agent loop, openai API)");
        println!(
            "  runs: {RUNS}, events: {events}, wall time {:.2}s",
            elapsed.as_secs_f64()
        );
        println!("  RSS before     {:>8} KiB", before);
        println!(
            "  RSS peak       {:>8} KiB (high-water mark {hwm} KiB)",
            peak
        );
        println!("  RSS after      {:>8} KiB", after);
        println!(
            "  per run        {:>8.1} KiB at the peak",
            (peak.saturating_sub(before)) as f64 / RUNS as f64
        );
        server.shutdown().await.unwrap();
    });
}

/// Starts `n` runs at once in their own directories; returns how many events they produced.
async fn run_all(backend: &OpenAiBackend, root: &std::path::Path, n: usize) -> usize {
    let mut handles = Vec::new();
    for i in 0..n {
        let dir = root.join(format!("wt-{i}-{}", fastrand_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        let request = RunRequest {
            role: gaffer_core::Role::Coder,
            prompt: format!("bench run {i}"),
            system_prompt: "You are a benchmark.".into(),
            worktree: dir.clone(),
            model: "bench-model".into(),
            resume_session: None,
            env: vec![],
            max_wall: Duration::from_secs(120),
            script_key: String::new(),
            attempt: 0,
            data_dir: dir.join(".data"),
            run_dir: dir.join(".run"),
            confine: Default::default(),
        };
        handles.push(backend.start(request, CancellationToken::new()).unwrap());
    }
    let mut total = 0;
    let mut tasks = Vec::new();
    for mut handle in handles {
        tasks.push(tokio::spawn(async move {
            let mut count = 0;
            let mut ok = false;
            while let Some(event) = handle.events.recv().await {
                count += 1;
                if let AgentEvent::Finished { outcome } = event {
                    ok = outcome.success;
                }
            }
            assert!(ok, "a benchmark run failed");
            count
        }));
    }
    for t in tasks {
        total += t.await.unwrap();
    }
    total
}

fn fastrand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}
