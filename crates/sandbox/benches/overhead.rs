//! What does the sandbox cost per process? Times `true` and `sh -c 'echo hi'` run through
//! `gaffer_proc::run` bare and wrapped (with `Network::None`, `Network::Host` and
//! `Network::Private` with one relayed port: a network namespace has its own price, and a
//! private one made by gaffer-proc a user namespace more), and prints the median wall time of
//! each. Never asserts.
//!
//! Run with `cargo bench -p gaffer-sandbox --bench overhead`; `GAFFER_BENCH_RUNS` (default 50).

use std::error::Error;
use std::time::{Duration, Instant};

use gaffer_proc::{CommandSpec, PrivateNet};
use gaffer_sandbox::{Network, Policy, Sandbox, SandboxMode};
use tokio_util::sync::CancellationToken;

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

async fn time(spec: &CommandSpec, runs: usize) -> Result<Duration, Box<dyn Error>> {
    let cancel = CancellationToken::new();
    let mut samples = Vec::with_capacity(runs);
    // One unmeasured run first, to warm caches.
    for i in 0..=runs {
        let start = Instant::now();
        let outcome = gaffer_proc::run(spec, &cancel, |_| {}).await?;
        let elapsed = start.elapsed();
        if !outcome.success() {
            return Err(format!("{spec:?} failed: {}", outcome.tail).into());
        }
        if i > 0 {
            samples.push(elapsed);
        }
    }
    Ok(median(&mut samples))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let runs = std::env::var("GAFFER_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let sandbox = Sandbox::detect(SandboxMode::Bwrap)?;
    let dir = tempfile::tempdir()?;
    let (worktree, home, state) = (
        dir.path().join("wt"),
        dir.path().join("home"),
        dir.path().join("state"),
    );
    for d in [&worktree, &home, &state] {
        std::fs::create_dir(d)?;
    }
    let policy = |network| {
        Policy::builder(&worktree)
            .home(&home)
            .hide(&state)
            .network(network)
            .build()
    };
    let (none, host, private) = (
        policy(Network::None)?,
        policy(Network::Host)?,
        policy(Network::Private)?,
    );
    println!("{sandbox}\nmedian wall time of {runs} runs through gaffer_proc::run:");
    println!(
        "{:<20} {:>10} {:>14} {:>14} {:>16}",
        "command", "bare", "bwrap (net)", "bwrap (no net)", "bwrap (private)"
    );
    for (name, spec) in [
        ("true", CommandSpec::new("true", &worktree)),
        ("sh -c 'echo hi'", CommandSpec::shell("echo hi", &worktree)),
    ] {
        let bare = time(&spec, runs).await?;
        let with_host = time(&sandbox.wrap(spec.clone(), &host), runs).await?;
        let with_none = time(&sandbox.wrap(spec.clone(), &none), runs).await?;
        let relayed = spec.private_net(PrivateNet::ports([443]));
        let with_private = time(&sandbox.wrap(relayed, &private), runs).await?;
        println!(
            "{name:<20} {bare:>10.2?} {with_host:>14.2?} {with_none:>14.2?} {with_private:>16.2?}"
        );
    }
    Ok(())
}
