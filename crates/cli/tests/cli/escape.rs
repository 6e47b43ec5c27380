//! The escape suite: attackers inside gaffer's runs — a `command` agent, gaffer's own agent loop
//! (its `run_command` tool, driven by the scripted model server), the verify command and the
//! setup command — each run `escape/attack.py`, which tries to write outside the worktree, read
//! the user's home, the state database and another task's worktree, read the daemon's token and
//! other agents' keys, move `main` and another task's branch, approve a change through the API,
//! and connect to another loopback port and to a host in a network namespace this test makes.
//! Every attempt must be refused and nothing outside the worktrees may change; the test prints
//! the tally.

use crate::common::{Project, TASK_DEADLINE};
use gaffer_mock_llm::{MockServer, Script};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};

const ATTACK: &str = include_str!("escape/attack.py");
const PY: &str = "/usr/bin/python3";

const LOOPER: &str = r#"
[[conversations]]
name = "looper"
marker = "MOCK:looper"
  [[conversations.turns]]
  text = "Trying things."
    [[conversations.turns.tool_calls]]
    name = "run_command"
    arguments = { command = "/usr/bin/python3 attack.py looper" }
  [[conversations.turns]]
  text = "Done."
"#;

/// A host of its own: a network namespace with a veth pair and an HTTP server on it, torn down
/// when dropped.
struct OtherHost {
    ns: String,
    link: String,
    ip: String,
    port: u16,
    server: Child,
}

impl OtherHost {
    fn start() -> Option<OtherHost> {
        let n = std::process::id() % 200 + 20;
        let (ns, link, peer) = (format!("gfesc{n}"), format!("gfh{n}"), format!("gfn{n}"));
        let (host_ip, ip) = (format!("10.231.{n}.1"), format!("10.231.{n}.2"));
        let ok = |args: &[&str]| {
            Command::new("ip")
                .args(args)
                .status()
                .is_ok_and(|s| s.success())
        };
        let _ = Command::new("ip").args(["netns", "del", &ns]).status();
        let _ = Command::new("ip").args(["link", "del", &link]).status();
        let made = ok(&["netns", "add", &ns])
            && ok(&["link", "add", &link, "type", "veth", "peer", "name", &peer])
            && ok(&["link", "set", &peer, "netns", &ns])
            && ok(&["addr", "add", &format!("{host_ip}/24"), "dev", &link])
            && ok(&["link", "set", &link, "up"])
            && ok(&[
                "netns",
                "exec",
                &ns,
                "ip",
                "addr",
                "add",
                &format!("{ip}/24"),
                "dev",
                &peer,
            ])
            && ok(&["netns", "exec", &ns, "ip", "link", "set", &peer, "up"])
            && ok(&["netns", "exec", &ns, "ip", "link", "set", "lo", "up"]);
        if !made {
            return None;
        }
        let port = 18080;
        let server = Command::new("ip")
            .args([
                "netns",
                "exec",
                &ns,
                PY,
                "-m",
                "http.server",
                &port.to_string(),
            ])
            .args(["--bind", &ip])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let host = OtherHost {
            ns,
            link,
            ip,
            port,
            server,
        };
        // The control: from the host, it answers.
        crate::common::wait_until(
            "the other host's server",
            std::time::Duration::from_secs(10),
            || {
                std::net::TcpStream::connect((host.ip.as_str(), host.port))
                    .ok()
                    .map(|_| ())
            },
        );
        Some(host)
    }
}

impl Drop for OtherHost {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
        let _ = Command::new("ip")
            .args(["link", "del", &self.link])
            .status();
    }
}

fn refs(project: &Project) -> BTreeMap<String, String> {
    project
        .repo
        .git(&["for-each-ref", "--format=%(refname) %(objectname)"])
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(r, o)| (r.to_string(), o.to_string()))
        .collect()
}

fn listing(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_escape_from_every_kind_of_run_is_refused() {
    let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    let Some(other) = OtherHost::start() else {
        assert!(
            !in_ci,
            "the escape suite needs `ip netns` (iproute2, as root) in CI"
        );
        eprintln!("\n!!!!!!!! SKIPPED: cannot make a network namespace here !!!!!!!!\n");
        return;
    };
    // Without bubblewrap gaffer runs everything unconfined (loudly): every attack would land.
    let has_bwrap = std::process::Command::new("bwrap")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_bwrap {
        assert!(!in_ci, "the escape suite needs bubblewrap (`bwrap`) in CI");
        eprintln!("\n!!!!!!!! SKIPPED: bubblewrap (`bwrap`) is not installed !!!!!!!!\n");
        return;
    }
    let server = MockServer::start(Script::from_toml_str(LOOPER).unwrap())
        .await
        .unwrap();
    let loopback = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let loopback_port = loopback.local_addr().unwrap().port();
    // The one host verify is allowed (`[sandbox.hosts] verify`), relayed into its network.
    let allowed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let allowed_port = allowed.local_addr().unwrap().port();
    // A service of the host listening on a unix socket under /run (as D-Bus, docker or an ssh
    // agent do).
    let host_socket =
        std::path::PathBuf::from(format!("/run/gaffer-escape-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&host_socket);
    let unix_listener = std::os::unix::net::UnixListener::bind(&host_socket).unwrap();

    let mut project = Project::bare();
    // The daemon's token, which every command of the test needs and no run may see.
    project.env = vec![(
        "GAFFER_TOKEN".to_string(),
        "the-daemons-token-1234567890".to_string(),
    )];
    let home = project.repo.home().to_path_buf();
    let secret_value = "the-user-s-home-secret-2718";
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(home.join("secret.txt"), secret_value).unwrap();
    let scratch = project.repo.scratch("outside");
    std::fs::create_dir_all(&scratch).unwrap();
    project.repo.write(
        "gaffer.toml",
        format!(
            r#"[project]
name = "escape"
[verify]
# Confined, verify still reads the repository as git does: its history and its status.
command = "{PY} attack.py verify; test -f README.md && git log -1 --oneline && git status --short"
setup = "{PY} attack.py setup > /dev/null"
[engine]
concurrency = 3
worktree_pool = 0
[server]
port = 0
[agents.attacker]
backend = "command"
command = "{PY} attack.py agent {{prompt_file}}"
[agents.looper]
backend = "openai"
model = "mock-model"
base_url = "{openai}"
[agents.victim]
backend = "scripted"
script = "victim.toml"
[agents.other]
backend = "command"
command = "true {{prompt}}"
env = {{ OTHER_AGENT_KEY = "other-agents-key-31415926" }}
[roles]
coder = ["attacker", "looper", "victim"]
[review]
enabled = false
[sandbox.hosts]
verify = ["127.0.0.1:{allowed_port}"]
"#,
            openai = server.openai_base_url()
        ),
    );
    project.repo.write(
        "victim.toml",
        "[[task]]\nmatch = \"victim\"\n[[task.attempt]]\ndelay_ms = 20000\nsummary = \"Slow.\"\n\
         actions = [{ write = \"victim.txt\", content = \"v\\n\" }]\n",
    );
    project.repo.write("attack.py", ATTACK);
    project.repo.commit_all("the attackers");
    // A credential in the repository's config, as a CI token in `http.extraheader` would be.
    let git_credential = "AUTHORIZATION: bearer planted-credential-161803";
    project
        .repo
        .git(&["config", "http.extraheader", git_credential]);
    // The victim is the board's first task; where it works is known before it is added, so
    // that the attack's instructions are committed before any worktree is made from the target
    // (a daemon starts work the moment a task is added).
    let (victim_id, victim_branch) = (1, "gaffer/1-victim-work".to_string());
    let state = project.state_dir();
    let config = serde_json::json!({
        "home": home, "home_secret": home.join("secret.txt"), "home_secret_value": secret_value,
        "repo": project.path(), "state": state, "scratch": scratch,
        "victim_worktree": state.join("worktrees").join(victim_branch.trim_start_matches("gaffer/")),
        "victim_branch": victim_branch, "victim_task": victim_id,
        "daemon_pid": 0, "daemon_port": 1, "loopback_port": loopback_port,
        "netns_host": other.ip, "netns_port": other.port, "host_socket": host_socket, "allowed_port": allowed_port,
        "git_credential": git_credential,
    });
    let daemon =
        project.start_daemon_with_env(&[("GAFFER_ESCAPE_MARKER", "from-gaffers-environment")]);
    let mut config = config;
    config["daemon_pid"] = Value::from(daemon.pid);
    config["daemon_port"] = Value::from(daemon.port);
    project.repo.write("attack.json", config.to_string());
    project.repo.commit_all("where to attack");
    let victim = project.json(&["task", "add", "victim work", "--tier", "2", "--json"]);
    assert_eq!(victim["id"].as_i64(), Some(victim_id), "{victim}");
    assert_eq!(
        victim["branch"].as_str(),
        Some(victim_branch.as_str()),
        "{victim}"
    );
    let refs_before = refs(&project);
    let home_before = listing(&home);
    crate::common::wait_until("the victim's worktree", TASK_DEADLINE, || {
        state
            .join("worktrees")
            .join(victim_branch.trim_start_matches("gaffer/"))
            .exists()
            .then_some(())
    });
    let attacker = project.add_task("Attack as a command agent", &[]);
    let looper = project.add_task("Attack from the loop MOCK:looper", &["--tier", "1"]);

    let attacked = project.wait_for_status(attacker, "merged");
    let looped = project.wait_for_status(looper, "merged");
    project.wait_for_status(victim_id, "merged");
    drop(daemon);

    // Every result line, from every actor: the files they left in their worktrees (landed),
    // and verify's output.
    let mut lines: Vec<String> = Vec::new();
    let landed = project
        .repo
        .git(&["ls-tree", "--name-only", "gaffer/landed/main"]);
    for file in landed.lines().filter(|f| f.starts_with("results-")) {
        let text = project
            .repo
            .git(&["show", &format!("gaffer/landed/main:{file}")]);
        lines.extend(text.lines().map(str::to_string));
    }
    for shown in [&attacked, &looped] {
        for e in shown["events"].as_array().unwrap() {
            if e["kind"] == "verify.finished" {
                let tail = e["data"]["tail"].as_str().unwrap_or("");
                lines.extend(
                    tail.lines()
                        .filter(|l| l.starts_with("RESULT verify"))
                        .map(str::to_string),
                );
            }
        }
    }
    lines.sort();
    lines.dedup();

    // Nothing outside the worktrees changed: the refs (but the tasks' own branches and the
    // landing), the user's home, the checkout, the scratch directory.
    let refs_after = refs(&project);
    for (name, oid) in &refs_before {
        if name == "refs/heads/main" || !name.starts_with("refs/heads/gaffer/") {
            assert_eq!(refs_after.get(name), Some(oid), "{name} moved");
        }
    }
    assert_eq!(listing(&home), home_before, "the home changed");
    assert!(
        listing(&scratch).is_empty(),
        "a file appeared outside: {:?}",
        listing(&scratch)
    );
    for actor in ["agent", "looper", "verify", "setup"] {
        assert!(!project.path().join(format!("escaped-{actor}")).exists());
        assert!(!state.join(format!("escaped-{actor}")).exists());
    }

    let tried = lines
        .iter()
        .filter(|l| !l.contains(" allowed-host "))
        .count();
    // `INSIDE`: git did it in the run's own git directory; the repository's refs, compared
    // above, did not move, so it is refused too.
    let escaped: Vec<&String> = lines.iter().filter(|l| l.contains(" ESCAPED ")).collect();
    let actors: std::collections::BTreeSet<&str> =
        lines.iter().filter_map(|l| l.split(' ').nth(1)).collect();
    println!(
        "escape suite: tried {tried}, refused {}",
        tried - escaped.len()
    );
    for line in &lines {
        println!("  {line}");
    }
    assert_eq!(
        actors.into_iter().collect::<Vec<_>>(),
        ["agent", "looper", "setup", "verify"],
        "every kind of run attacked: {lines:#?}"
    );
    assert!(tried >= 4 * 21, "every attempt ran: {lines:#?}");
    assert!(escaped.is_empty(), "escaped: {escaped:#?}");
    // `[sandbox.hosts]` opens exactly what it names, to exactly whom it names.
    for line in lines.iter().filter(|l| l.contains(" allowed-host ")) {
        let verify = line.starts_with("RESULT verify ");
        assert_eq!(line.contains(" REACHED"), verify, "{line}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("RESULT verify allowed-host REACHED"))
    );
    drop(allowed);
    // The nested repository came back refused and left; its command never ran (the scratch
    // directory, checked above, holds no `pwned-by-fsmonitor`).
    assert!(
        lines
            .iter()
            .any(|l| l.contains("agent nested-repo-refused")),
        "the nested repository was refused: {lines:#?}"
    );
    drop(loopback);
    drop(unix_listener);
    let _ = std::fs::remove_file(&host_socket);
    server.shutdown().await.unwrap();
}
