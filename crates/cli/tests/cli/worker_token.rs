//! `gaffer worker token create|list|revoke`, with the real binary: through a running daemon and
//! on the board directly. The secret is printed once, by `create`, and never again: not by
//! `list`, not in the daemon's log.

use crate::common::{Project, stderr_of, stdout_of};
use serde_json::Value;

/// The `gfw_…` secret `create` printed.
fn secret_in(stdout: &str) -> String {
    stdout
        .split_whitespace()
        .find(|w| w.starts_with("gfw_"))
        .unwrap_or_else(|| panic!("no secret in: {stdout}"))
        .to_string()
}

fn run(project: &Project, args: &[&str]) -> std::process::Output {
    project.gaffer().args(args).output().unwrap()
}

fn ok(project: &Project, args: &[&str]) -> String {
    let out = run(project, args);
    assert!(out.status.success(), "gaffer {args:?}: {}", stderr_of(&out));
    stdout_of(&out)
}

#[test]
fn tokens_are_made_listed_and_revoked_through_the_daemon() {
    let project = Project::new();
    let daemon = project.start_daemon();

    let made = ok(
        &project,
        &[
            "worker",
            "token",
            "create",
            "--label",
            "gpu, linux",
            "--label",
            "big",
            "--name",
            "box",
        ],
    );
    let secret = secret_in(&made);
    assert_eq!(secret.len(), 68, "{secret}");
    assert!(
        made.starts_with("made worker token 1 (box), for a worker labelled big, gpu, linux"),
        "{made}"
    );
    assert!(made.contains("shown this once"), "{made}");
    assert!(
        made.contains(&format!(
            "GAFFER_WORKER_TOKEN={secret} gaffer worker --server http://"
        )) && made.contains(&format!(":{}", daemon.port))
            && made.contains("gaffer worker --server http://"),
        "{made}"
    );
    assert!(made.contains("listens on 127.0.0.1 only"), "{made}");

    let json = project.json(&["worker", "token", "create", "--json"]);
    let other = json["secret"].as_str().unwrap().to_string();
    assert_eq!(json["token"]["name"], "worker");
    assert_eq!(json["token"]["id"], 2);

    let table = ok(&project, &["worker", "token", "list"]);
    assert!(
        table.contains("box") && table.contains("big,gpu,linux"),
        "{table}"
    );
    assert!(table.contains("never"), "unused tokens: {table}");
    let listed = ok(&project, &["worker", "token", "list", "--json"]);
    for shown in [&table, &listed] {
        assert!(!shown.contains("gfw_"), "a secret is listed: {shown}");
        assert!(!shown.contains(&secret[4..]) && !shown.contains(&other[4..]));
    }
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert_eq!(
        listed[0]["labels"],
        serde_json::json!(["big", "gpu", "linux"])
    );

    let revoked = ok(&project, &["worker", "token", "revoke", "1"]);
    assert!(revoked.contains("revoked worker token 1"), "{revoked}");
    let again = ok(&project, &["worker", "token", "revoke", "1"]);
    assert!(again.contains("was revoked already"), "{again}");
    let listed = project.json(&["worker", "token", "list", "--json"]);
    assert!(listed[0]["revoked_ms"].is_i64() && listed[1]["revoked_ms"].is_null());

    let missing = run(&project, &["worker", "token", "revoke", "99"]);
    assert_eq!(missing.status.code(), Some(4), "{}", stderr_of(&missing));
    let err = stderr_of(&missing);
    assert!(err.contains("no worker token 99"), "{err}");
    assert!(err.contains("gaffer worker token list"), "{err}");

    let feed = ok(&project, &["feed"]);
    assert!(feed.contains("worker token 1 (box) revoked"), "{feed}");
    for secret in [&secret, &other] {
        assert!(!feed.contains(&secret[4..]), "{feed}");
        assert!(
            !project.daemon_log().contains(&secret[4..]),
            "the secret is logged"
        );
    }
}

#[test]
fn without_a_daemon_tokens_are_made_on_the_board() {
    let project = Project::new();
    let made = ok(&project, &["worker", "token", "create", "--label", "gpu"]);
    let secret = secret_in(&made);
    assert!(
        made.starts_with("made worker token 1 (worker-gpu)"),
        "{made}"
    );
    assert!(
        made.contains(&format!("GAFFER_WORKER_TOKEN={secret}")),
        "{made}"
    );
    let listed = project.json(&["worker", "token", "list", "--json"]);
    assert_eq!(listed[0]["name"], "worker-gpu");
    assert!(!listed.to_string().contains(&secret[4..]));
    let revoked = ok(&project, &["worker", "token", "revoke", "1"]);
    assert!(revoked.contains("revoked worker token 1"), "{revoked}");
    let missing = run(&project, &["worker", "token", "revoke", "7"]);
    assert_eq!(missing.status.code(), Some(4), "{}", stderr_of(&missing));
    assert!(stderr_of(&missing).contains("gaffer worker token list"));
    let empty = Project::new();
    assert!(ok(&empty, &["worker", "token", "list"]).contains("no worker tokens yet"));
}

#[test]
fn bad_usage_is_refused_with_a_hint() {
    let project = Project::new();
    let bare = run(&project, &["worker"]);
    assert_eq!(bare.status.code(), Some(2), "{}", stderr_of(&bare));
    let err = stderr_of(&bare);
    assert!(
        err.contains("`gaffer worker` needs the daemon to work for"),
        "{err}"
    );
    assert!(err.contains("`gaffer worker token create"), "{err}");

    for labels in ["two words", "a,,b", "x/y z"] {
        let out = run(&project, &["worker", "token", "create", "--label", labels]);
        assert_eq!(out.status.code(), Some(2), "{labels}: {}", stderr_of(&out));
        assert!(
            stderr_of(&out).contains("hint:"),
            "{labels}: {}",
            stderr_of(&out)
        );
    }
    let out = run(&project, &["worker", "token", "revoke"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(project.json(&["worker", "token", "list", "--json"]) == serde_json::json!([]));
}
