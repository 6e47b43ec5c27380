//! Private networks: the child reaches gaffer's listeners and nothing else, keeps its ids,
//! and never runs when its network cannot be set up.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{private_net_usable, tmp};
use gaffer_proc::{
    CommandSpec, MAX_PRIVATE_PORTS, NetStep, PrivateNet, ProcError, run, run_with_listeners,
    spawn_lines,
};
use tokio_util::sync::CancellationToken;

const HELPER_ENV: &str = "GAFFER_PROC_NO_USERNS_HELPER";

/// Answers one connection on `listener`: reads a line, writes it back prefixed by `port`.
fn answer_once(port: u16, listener: TcpListener) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut line = String::new();
        BufReader::new(&stream).read_line(&mut line).unwrap();
        writeln!(&stream, "{port}:{}", line.trim()).unwrap();
        line.trim().to_owned()
    })
}

/// A probe: says what it reached and who it is. `$1`: a host loopback port.
const PROBE: &str = r#"
for p in 8080 443; do
  exec 3<>"/dev/tcp/127.0.0.1/$p" && echo "hello-$p" >&3 && read -r reply <&3 && echo "reply=$reply"
done
(exec 4<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && echo HOST-REACHED
echo "ids=$(id -u):$(id -g) owner=$(stat -c %u:%g "$2")"
echo "interfaces=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\n' ,)"
"#;

fn probe(host_port: u16, file: &std::path::Path) -> CommandSpec {
    CommandSpec::new("bash", "/")
        .args(["-c", PROBE, "probe", &host_port.to_string()])
        .arg(file.display().to_string())
        .timeout(Duration::from_secs(20))
}

#[tokio::test]
async fn the_child_reaches_its_listeners_and_nothing_else() {
    if !private_net_usable() {
        return;
    }
    let dir = tmp();
    let file = dir.path().join("mine");
    std::fs::write(&file, "").unwrap();
    let host = TcpListener::bind("127.0.0.1:0").unwrap();
    let host_port = host.local_addr().unwrap().port();

    let spec = probe(host_port, &file).private_net(PrivateNet::ports([8080, 443]));
    let mut process = spawn_lines(&spec, CancellationToken::new()).unwrap();
    let ports: Vec<u16> = process.listeners.iter().map(|(p, _)| *p).collect();
    assert_eq!(ports, [8080, 443]);
    let answers: Vec<_> = std::mem::take(&mut process.listeners)
        .into_iter()
        .map(|(port, listener)| answer_once(port, listener))
        .collect();
    let mut lines = Vec::new();
    while let Some(line) = process.lines.recv().await {
        lines.push(line);
    }
    let outcome = process.wait().await.unwrap();
    let heard: Vec<String> = answers.into_iter().map(|a| a.join().unwrap()).collect();
    assert_eq!(heard, ["hello-8080", "hello-443"]);
    let uid = nix::unistd::geteuid();
    let gid = nix::unistd::getegid();
    assert_eq!(
        lines,
        [
            "reply=8080:hello-8080".to_owned(),
            "reply=443:hello-443".to_owned(),
            format!("ids={uid}:{gid} owner={uid}:{gid}"),
            "interfaces=lo,".to_owned(),
        ],
        "{outcome:?}"
    );
    // Nothing got through to the host's loopback.
    host.set_nonblocking(true).unwrap();
    assert!(host.accept().is_err());
}

/// The same probe with the host's network must reach the host: else it proves nothing.
#[tokio::test]
async fn the_probe_reaches_the_host_without_a_private_net() {
    let dir = tmp();
    let file = dir.path().join("mine");
    std::fs::write(&file, "").unwrap();
    let host = TcpListener::bind("127.0.0.1:0").unwrap();
    let spec = probe(host.local_addr().unwrap().port(), &file);
    let mut process = spawn_lines(&spec, CancellationToken::new()).unwrap();
    assert!(process.listeners.is_empty());
    let mut lines = Vec::new();
    while let Some(line) = process.lines.recv().await {
        lines.push(line);
    }
    process.wait().await.unwrap();
    assert!(lines.iter().any(|l| l == "HOST-REACHED"), "{lines:?}");
    assert!(!lines.iter().any(|l| l == "interfaces=lo,"), "{lines:?}");
}

#[tokio::test]
async fn run_with_listeners_hands_them_to_on_start() {
    if !private_net_usable() {
        return;
    }
    let spec = CommandSpec::new("bash", "/")
        .args([
            "-c",
            "exec 3<>/dev/tcp/127.0.0.1/9000 && echo ping >&3 && read -r r <&3 && echo \"$r\"",
        ])
        .private_net(PrivateNet::ports([9000]))
        .timeout(Duration::from_secs(20));
    let mut answer = None;
    let outcome = run_with_listeners(&spec, &CancellationToken::new(), |_, listeners| {
        let (port, listener) = listeners.into_iter().next().unwrap();
        answer = Some(answer_once(port, listener));
    })
    .await
    .unwrap();
    assert_eq!(answer.unwrap().join().unwrap(), "ping");
    assert!(outcome.success(), "{outcome:?}");
    assert_eq!(outcome.tail, "9000:ping\n");

    // `run` drops them: the port refuses (or, when the child connected in the instant before
    // the listener was closed, resets), and the child still runs in its own network.
    let outcome = run(&spec, &CancellationToken::new(), |_| {}).await.unwrap();
    assert!(!outcome.success());
    assert!(
        outcome.tail.contains("refused") || outcome.tail.contains("reset by peer"),
        "{}",
        outcome.tail
    );
}

#[tokio::test]
async fn a_failed_step_keeps_the_program_from_running() {
    if !private_net_usable() {
        return;
    }
    let dir = tmp();
    let marker = dir.path().join("ran");
    // A duplicate port cannot be bound twice: the child fails after creating the namespace.
    let spec = CommandSpec::new("touch", dir.path())
        .arg(marker.display().to_string())
        .private_net(PrivateNet::ports([7000, 7000]));
    let err = spawn_lines(&spec, CancellationToken::new()).unwrap_err();
    match &err {
        ProcError::PrivateNet { step, source, .. } => {
            assert_eq!(*step, NetStep::Listen(7000));
            assert_eq!(source.raw_os_error(), Some(libc::EADDRINUSE), "{err}");
        }
        other => panic!("not a private network error: {other:?}"),
    }
    assert!(
        err.to_string().contains("listening on 127.0.0.1:7000"),
        "{err}"
    );
    assert!(!marker.exists(), "the program ran");
}

#[tokio::test]
async fn invalid_requests_are_refused_before_spawning() {
    let too_many = (1..=MAX_PRIVATE_PORTS as u16 + 1).collect::<Vec<_>>();
    for ports in [vec![0], vec![80, 0], too_many] {
        let spec = CommandSpec::new("true", "/").private_net(PrivateNet { ports });
        let err = spawn_lines(&spec, CancellationToken::new()).unwrap_err();
        assert!(
            matches!(&err, ProcError::PrivateNet { step: NetStep::Request, source, .. }
                if source.kind() == std::io::ErrorKind::InvalidInput),
            "{err:?}"
        );
    }
}

/// Not a real test: run under `unshare -r` with no user namespace left to create, it tries
/// to start a program in a private network and prints what happened.
#[test]
fn no_userns_helper_process() {
    let Some(marker) = std::env::var_os(HELPER_ENV) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let spec = CommandSpec::new("touch", "/")
        .arg(marker.to_string_lossy())
        .private_net(PrivateNet::default());
    match rt.block_on(async { spawn_lines(&spec, CancellationToken::new()) }) {
        Err(ProcError::PrivateNet { step, source, .. }) => {
            println!("STEP={step:?} ERRNO={:?}", source.raw_os_error())
        }
        Err(other) => println!("OTHER-ERROR={other}"),
        Ok(_) => println!("SPAWNED"),
    }
}

#[test]
fn without_user_namespaces_the_program_does_not_run() {
    if !private_net_usable() {
        return;
    }
    let dir = tmp();
    let marker = dir.path().join("ran");
    // A user namespace whose limit of nested user namespaces is 0, as on a host that
    // disabled them.
    let out = Command::new("unshare")
        .args([
            "-r",
            "sh",
            "-c",
            "echo 0 > /proc/sys/user/max_user_namespaces && exec \"$@\"",
            "sh",
        ])
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", "no_userns_helper_process", "--nocapture"])
        .env(HELPER_ENV, &marker)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("STEP=Unshare ERRNO=Some({})", libc::ENOSPC)),
        "{stdout}"
    );
    assert!(!marker.exists(), "the program ran");
}

/// Prints what a private network costs per spawn; asserts only that every way works. The
/// variants take turns, so a load that changes meanwhile weighs on each alike.
#[tokio::test]
async fn private_net_cost() {
    if !private_net_usable() {
        return;
    }
    const N: usize = 40;
    let bare = CommandSpec::new("/bin/true", "/");
    let variants = [
        ("host network", bare.clone()),
        ("private", bare.clone().private_net(PrivateNet::default())),
        (
            "private, 3 listeners",
            bare.private_net(PrivateNet::ports([80, 443, 8080])),
        ),
    ];
    let mut samples = vec![Vec::new(); variants.len()];
    for round in 0..=N {
        for ((_, spec), samples) in variants.iter().zip(&mut samples) {
            let begin = Instant::now();
            let outcome = run(spec, &CancellationToken::new(), |_| {}).await.unwrap();
            assert!(outcome.success(), "{outcome:?}");
            if round > 0 {
                samples.push(begin.elapsed());
            }
        }
    }
    let medians: Vec<Duration> = samples
        .iter_mut()
        .map(|s| {
            s.sort();
            s[s.len() / 2]
        })
        .collect();
    let report: Vec<String> = variants
        .iter()
        .zip(&medians)
        .map(|((name, _), median)| {
            format!(
                "{name} {median:.2?} (+{:.2?})",
                median.saturating_sub(medians[0])
            )
        })
        .collect();
    println!(
        "private net cost, median of {N} runs of /bin/true through run: {}",
        report.join(", ")
    );
}
