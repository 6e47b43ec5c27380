//! `Network::Private`: a sandboxed process in gaffer-proc's private network reaches the host
//! only through the ports gaffer relays, finds relayed services under their names, and the
//! same holds when gaffer runs as an unprivileged user.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Layout, has_runuser, is_root, script};
use gaffer_proc::{PrivateNet, ProcessOutcome, run_with_listeners};
use gaffer_sandbox::{Network, Sandbox, relay};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const HELPER_ENV: &str = "GAFFER_SANDBOX_PRIVATE_NET_HELPER";
/// Relayed inside; the host's own ports are ephemeral ones, far from these.
const PORTS: [u16; 2] = [8443, 443];
const NAME: &str = "api.example.test";
const PASSED: &str = "SCENARIO-PASSED";

/// A TCP echo server on the host's loopback, counting its connections.
async fn echo_server() -> (u16, Arc<AtomicUsize>) {
    let server = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = server.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = server.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let (mut r, mut w) = stream.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    (port, count)
}

/// Each relayed port answered through the echo server, the echo server and another host
/// loopback port tried directly, the relayed name resolved, and who the process is.
fn probe(echo: u16, other: u16) -> String {
    let ports = PORTS.map(|p| p.to_string()).join(" ");
    format!(
        r#"for p in {ports}; do
  exec 3<>"/dev/tcp/127.0.0.1/$p" && echo "ping-$p" >&3 && read -r r <&3 && echo "via-$p=$r"
  exec 3>&-
done
(exec 4<>/dev/tcp/127.0.0.1/{echo}) 2>/dev/null && echo ECHO-REACHED-DIRECTLY
(exec 4<>/dev/tcp/127.0.0.1/{other}) 2>/dev/null && echo OTHER-REACHED
echo "resolved=$(getent hosts {NAME} | tr -s ' \t' ' ')"
echo "uid=$(id -u)"
"#
    )
}

/// Runs the probe confined with `network`; with `Network::Private`, in a private network
/// whose ports are relayed to the echo server. Returns the outcome and the connections the
/// echo server and the other port got.
async fn try_probe(sandbox: &Sandbox, network: Network) -> (ProcessOutcome, usize, bool) {
    let l = Layout::new();
    let (echo, echoed) = echo_server().await;
    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let other_port = other.local_addr().unwrap().port();
    // In the hidden state directory: bound from the host's view, not writable inside.
    let hosts = vec![(NAME.to_owned(), IpAddr::V4(Ipv4Addr::LOCALHOST))];
    let policy = l
        .builder(network)
        .hosts(l.state.join("hosts"), hosts)
        .build()
        .unwrap();
    let mut spec = script("bash", &probe(echo, other_port), &l.worktree);
    if network == Network::Private {
        spec = spec.private_net(PrivateNet::ports(PORTS));
    }
    let spec = sandbox.wrap(spec, &policy);
    let relays = CancellationToken::new();
    let outcome = run_with_listeners(&spec, &CancellationToken::new(), |_, listeners| {
        for (_, listener) in listeners {
            let target = format!("127.0.0.1:{echo}");
            tokio::spawn(relay(listener, target, relays.clone()));
        }
    })
    .await
    .unwrap();
    relays.cancel();
    other.set_nonblocking(true).unwrap();
    let other_reached = other.accept().is_ok();
    (outcome, echoed.load(Ordering::SeqCst), other_reached)
}

/// The whole scenario; panics on any failure.
async fn scenario(sandbox: &Sandbox) -> ProcessOutcome {
    let (outcome, echoed, other_reached) = try_probe(sandbox, Network::Private).await;
    let tail = &outcome.tail;
    assert!(outcome.success(), "{outcome:?}");
    for port in PORTS {
        assert!(
            tail.contains(&format!("via-{port}=ping-{port}\n")),
            "{tail}"
        );
    }
    assert!(!tail.contains("ECHO-REACHED-DIRECTLY"), "{tail}");
    assert!(!tail.contains("OTHER-REACHED"), "{tail}");
    assert!(!other_reached, "the other host port was reached");
    assert_eq!(echoed, PORTS.len(), "only the relays reach the echo server");
    assert!(
        tail.contains(&format!("resolved=127.0.0.1 {NAME}\n")),
        "{tail}"
    );
    outcome
}

#[tokio::test]
async fn a_private_network_reaches_only_its_relayed_ports() {
    let Some(sandbox) = common::sandbox() else {
        return;
    };
    println!("{}", scenario(&sandbox).await.tail);
}

/// The same probe with the host's network must get through: else it proves nothing.
#[tokio::test]
async fn the_probe_reaches_the_host_loopback_with_the_hosts_network() {
    let Some(sandbox) = common::sandbox() else {
        return;
    };
    let (outcome, echoed, other_reached) = try_probe(&sandbox, Network::Host).await;
    assert!(
        outcome.tail.contains("ECHO-REACHED-DIRECTLY"),
        "{outcome:?}"
    );
    assert!(outcome.tail.contains("OTHER-REACHED"), "{outcome:?}");
    assert!(other_reached);
    assert_eq!(echoed, 1);
    // The hosts file does not depend on the network.
    assert!(
        outcome
            .tail
            .contains(&format!("resolved=127.0.0.1 {NAME}\n"))
    );
}

/// A spec that asked for no private network gets one anyway: never the host's.
#[tokio::test]
async fn a_private_policy_never_gives_the_hosts_network() {
    let Some(sandbox) = common::sandbox() else {
        return;
    };
    let l = Layout::new();
    let host = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let body = format!(
        "(exec 3<>/dev/tcp/127.0.0.1/{}) 2>/dev/null && echo HOST-REACHED; echo DONE",
        host.local_addr().unwrap().port()
    );
    let spec = sandbox.wrap(
        script("bash", &body, &l.worktree),
        &l.policy(Network::Private),
    );
    let outcome = common::run(&spec).await;
    assert!(outcome.tail.contains("DONE"), "{outcome:?}");
    assert!(!outcome.tail.contains("HOST-REACHED"), "{outcome:?}");
}

/// Not a real test: the scenario in a process of its own, which the test below runs as
/// `nobody`. A no-op unless [`HELPER_ENV`] is set.
#[test]
fn private_net_helper_process() {
    if std::env::var_os(HELPER_ENV).is_none() {
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(sandbox) = common::sandbox() else {
        panic!("no sandbox for the helper");
    };
    let outcome = rt.block_on(scenario(&sandbox));
    println!("{}{PASSED}", outcome.tail);
}

#[test]
fn a_private_network_works_for_an_unprivileged_user() {
    let Some(_) = common::sandbox() else {
        return;
    };
    if !is_root() || !has_runuser() {
        eprintln!("SKIPPED: switching to `nobody` needs root and runuser");
        return;
    }
    // The test binary may sit where `nobody` cannot reach it (a target directory under
    // /root): run a copy from a directory anyone may read.
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let exe = dir.path().join("private_net_helper");
    std::fs::copy(std::env::current_exe().unwrap(), &exe).unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = Command::new("runuser")
        .args(["-u", "nobody", "--", "env", "TMPDIR=/tmp"])
        .arg(format!("{HELPER_ENV}=1"))
        .arg(&exe)
        .args(["--exact", "private_net_helper_process", "--nocapture"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(PASSED),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("uid=65534\n"), "{stdout}");
}
