//! What a wrapped command can still do: write where the policy allows, keep its working
//! directory, environment and exit code, reach the host's network when allowed, and die
//! entirely on timeout.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::TcpListener;
use std::time::Duration;

use common::{Layout, run, script, unique};
use gaffer_proc::{CommandSpec, Termination};
use gaffer_sandbox::{Network, Sandbox, SandboxMode};

#[tokio::test]
async fn worktree_scratch_and_home_are_writable() {
    let Some(sandbox) = common::sandbox() else {
        return;
    };
    let l = Layout::new();
    let body = format!(
        "echo a > wt.txt && echo b > '{}/s.txt' && echo c > \"$HOME/h.txt\" && echo home=$HOME",
        l.scratch.display()
    );
    let spec = sandbox.wrap(
        script("/bin/sh", &body, &l.worktree),
        &l.policy(Network::None),
    );
    let outcome = run(&spec).await;
    assert!(outcome.success(), "{outcome:?}");
    assert!(
        outcome
            .tail
            .contains(&format!("home={}", l.agent_home.display()))
    );
    for (path, text) in [
        (l.worktree.join("wt.txt"), "a\n"),
        (l.scratch.join("s.txt"), "b\n"),
        (l.agent_home.join("h.txt"), "c\n"),
    ] {
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "{path:?}");
    }
}

/// A hard link fails as one across file systems does (the escape suite checks that none is
/// made), so tools that link when they can copy instead; copies and renames still work.
#[tokio::test]
async fn a_hard_link_fails_as_across_file_systems_and_copies_still_work() {
    let Some(sandbox) = common::sandbox() else {
        return;
    };
    assert!(sandbox.refuses_hard_links(), "{sandbox}");
    let l = Layout::new();
    // `ln` makes the link with `linkat`, coreutils' `link` with the older `link`; io_uring,
    // which makes links without either, is absent (`io_uring_setup` fails with ENOSYS).
    let body = "echo a > wt.txt; ln wt.txt second 2>&1; link wt.txt third 2>&1; \
                python3 -c 'import ctypes; c = ctypes.CDLL(None, use_errno=True); \
                r = c.syscall(425, 1, ctypes.create_string_buffer(120)); \
                print(\"io_uring_setup\", r, ctypes.get_errno())'; \
                cp wt.txt copy.txt && mv copy.txt moved.txt && cat moved.txt";
    let spec = sandbox.wrap(
        script("/bin/sh", body, &l.worktree),
        &l.policy(Network::None),
    );
    let outcome = run(&spec).await;
    assert!(outcome.success(), "{outcome:?}");
    assert!(
        outcome.tail.contains("Invalid cross-device link"),
        "{outcome:?}"
    );
    assert_eq!(
        outcome.tail.matches("Invalid cross-device link").count(),
        2,
        "{outcome:?}"
    );
    assert!(
        outcome
            .tail
            .contains(&format!("io_uring_setup -1 {}", libc::ENOSYS)),
        "{outcome:?}"
    );
    assert!(!l.worktree.join("second").exists());
    assert!(!l.worktree.join("third").exists());
    assert_eq!(
        std::fs::read_to_string(l.worktree.join("moved.txt")).unwrap(),
        "a\n"
    );
}

#[tokio::test]
async fn cwd_env_and_exit_code_pass_through() {
    let Some(sandbox) = common::sandbox() else {
        return;
    };
    let l = Layout::new();
    let sub = l.worktree.join("src");
    std::fs::create_dir(&sub).unwrap();
    let body = "echo cwd=$(pwd) a=$A; env; exit 7";
    let policy = l.policy(Network::None);
    let cleared = script("/bin/sh", body, &sub).env("A", "1");
    let outcome = run(&sandbox.wrap(cleared.clone(), &policy)).await;
    assert_eq!(outcome.termination, Termination::Exited(7), "{outcome:?}");
    assert!(outcome.tail.contains(&format!("cwd={} a=1", sub.display())));
    // Cargo gives test processes CARGO_PKG_NAME: inherited only when not cleared.
    assert!(
        !outcome.tail.contains("CARGO_PKG_NAME="),
        "{}",
        outcome.tail
    );
    let inherited = run(&sandbox.wrap(cleared.env_clear(false), &policy)).await;
    assert!(
        inherited.tail.contains("CARGO_PKG_NAME="),
        "{}",
        inherited.tail
    );
}

#[tokio::test]
async fn network_host_reaches_the_host_loopback() {
    let Some(sandbox) = common::sandbox() else {
        return;
    };
    let l = Layout::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let body = format!("exec 3<>/dev/tcp/127.0.0.1/{port} && echo CONNECTED");
    for (network, reached) in [(Network::Host, true), (Network::None, false)] {
        let spec = sandbox.wrap(script("bash", &body, &l.worktree), &l.policy(network));
        let outcome = run(&spec).await;
        assert_eq!(outcome.success(), reached, "{network:?}: {outcome:?}");
        assert_eq!(outcome.tail.contains("CONNECTED"), reached, "{network:?}");
    }
}

#[tokio::test]
async fn a_timeout_kills_everything_inside() {
    let Some(sandbox) = common::sandbox() else {
        return;
    };
    let l = Layout::new();
    let marker = unique("sandboxed-run");
    let spec = script("/bin/sh", "sleep 60 & sleep 60 & wait", &l.worktree)
        .env("GAFFER_SANDBOX_TEST_RUN", &marker)
        .timeout(Duration::from_millis(300));
    let outcome = run(&sandbox.wrap(spec, &l.policy(Network::None))).await;
    assert_eq!(outcome.termination, Termination::TimedOut);
    assert!(outcome.duration < Duration::from_secs(5), "{outcome:?}");
    // Processes die asynchronously once the pid namespace's init is gone.
    wait_for(|| carrying(&marker).is_empty());
    assert!(
        carrying(&marker).is_empty(),
        "still running: {:?}",
        carrying(&marker)
    );
}

/// Without gaffer-proc's clean-up: bwrap itself killed, nothing inside may outlive it.
#[test]
fn killing_bwrap_kills_everything_inside() {
    let Some(sandbox) = common::sandbox() else {
        return;
    };
    let l = Layout::new();
    let marker = unique("sandboxed-run");
    let spec = script("/bin/sh", "sleep 60 & sleep 60 & wait", &l.worktree)
        .env("GAFFER_SANDBOX_TEST_RUN", &marker);
    let spec = sandbox.wrap(spec, &l.policy(Network::None));
    let mut bwrap = std::process::Command::new(&spec.program)
        .args(&spec.args)
        .current_dir(&spec.cwd)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .spawn()
        .unwrap();
    // bwrap, its pid-namespace init, sh and two sleeps.
    wait_for(|| carrying(&marker).len() >= 5);
    bwrap.kill().unwrap();
    bwrap.wait().unwrap();
    wait_for(|| carrying(&marker).is_empty());
    assert!(
        carrying(&marker).is_empty(),
        "still running: {:?}",
        carrying(&marker)
    );
}

/// Polls `done` for up to two seconds.
fn wait_for(done: impl Fn() -> bool) {
    for _ in 0..100 {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Host pids of live (not zombie) processes whose environment holds `marker`.
fn carrying(marker: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter(|e| {
            let dir = e.path();
            let environ = std::fs::read(dir.join("environ")).unwrap_or_default();
            let stat = std::fs::read_to_string(dir.join("stat")).unwrap_or_default();
            String::from_utf8_lossy(&environ).contains(marker) && !stat.contains(") Z ")
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

#[tokio::test]
async fn a_working_directory_the_policy_hides_fails_loudly() {
    let Some(sandbox) = common::sandbox() else {
        return;
    };
    let l = Layout::new();
    let spec = script("/bin/sh", "echo RAN", &l.other_worktree);
    let outcome = run(&sandbox.wrap(spec, &l.policy(Network::None))).await;
    assert!(!outcome.success());
    assert!(!outcome.tail.contains("RAN"));
    assert!(outcome.tail.contains("chdir"), "{}", outcome.tail);
}

#[tokio::test]
async fn auto_uses_bwrap_when_it_works() {
    let Some(_) = common::sandbox() else {
        return;
    };
    let sandbox = Sandbox::detect(SandboxMode::Auto).unwrap();
    assert!(sandbox.is_confined(), "{sandbox}");
    assert_eq!(sandbox.degraded(), None);
    assert!(sandbox.bwrap_path().is_some());
    println!("{sandbox}");
    let l = Layout::new();
    let spec = CommandSpec::new("true", &l.worktree).env_clear(true);
    assert!(
        run(&sandbox.wrap(spec, &l.policy(Network::None)))
            .await
            .success()
    );
}

/// A link inside a hidden directory can show, at its own path, the directory it points to (as
/// a git directory whose `objects` is a link to a shared store is shown to verify).
#[tokio::test]
async fn a_link_shows_what_it_points_to_at_its_own_path() {
    let Some(sandbox) = common::sandbox() else {
        return;
    };
    let l = Layout::new();
    let shared = l.root.join("shared-objects");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::write(shared.join("pack"), "packed\n").unwrap();
    let gitdir = l.state.join("repo.git");
    std::fs::create_dir_all(&gitdir).unwrap();
    std::os::unix::fs::symlink(&shared, gitdir.join("objects")).unwrap();
    let policy = l
        .builder(Network::None)
        .hide(&gitdir)
        .read_only_over(&shared, gitdir.join("objects"))
        .build()
        .unwrap();
    let objects = gitdir.join("objects");
    let spec = script(
        "/bin/sh",
        &format!(
            "cat {o}/pack; test -L {o} && echo LINK; echo x > {o}/new && echo WROTE",
            o = objects.display()
        ),
        &l.worktree,
    );
    let outcome = run(&sandbox.wrap(spec, &policy)).await;
    assert!(outcome.tail.contains("packed"), "{}", outcome.tail);
    assert!(!outcome.tail.contains("LINK"), "{}", outcome.tail);
    assert!(!outcome.tail.contains("WROTE"), "{}", outcome.tail);
    assert!(!shared.join("new").exists());
}
