//! `gaffer up` starts the notifier of `[notify]`: a task that merges is announced to a local
//! webhook once, batched, and a restarted daemon does not announce it again.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "cli/common.rs"]
#[allow(dead_code)]
mod common;

use common::{GAFFER_TOML, Project, wait_until};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A webhook receiver on 127.0.0.1 answering 200 to everything; returns the bodies it got and
/// its URL.
fn receiver() -> (Arc<Mutex<Vec<Value>>>, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::new()));
    let bodies = Arc::clone(&got);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            bodies
                .lock()
                .unwrap()
                .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (got, url)
}

#[test]
fn a_merge_is_announced_once_through_a_restart() {
    let (got, url) = receiver();
    let project = Project::new();
    let config = format!(
        "{GAFFER_TOML}\n[notify]\nbatch = \"1s\"\n\n[[notify.webhook]]\nurl = \"{url}\"\nevents = [\"merged\", \"failed\"]\n"
    );
    project.repo.write("gaffer.toml", &config);
    project.repo.commit_all("notify a local webhook");

    let daemon = project.start_daemon();
    let id = project.add_task("Write the notes", &["--scope", "notes.txt"]);
    project.wait_for_status(id, "merged");
    let message = wait_until("the webhook's message", Duration::from_secs(30), || {
        got.lock().unwrap().first().cloned()
    });
    assert_eq!(message["source"], "gaffer");
    assert_eq!(message["project"], "fixture");
    assert_eq!(message["summary"], "1 merged");
    assert_eq!(message["events"][0]["event"], "merged");
    assert_eq!(message["events"][0]["task"], id);
    assert_eq!(message["events"][0]["title"], "Write the notes");
    assert_eq!(
        message["link"],
        format!("http://127.0.0.1:{}", daemon.port),
        "{message:#}"
    );
    assert!(project.state_dir().join("notify.json").is_file());

    // Restarted, the daemon does not announce the merge again.
    drop(daemon);
    let daemon = project.start_daemon();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(got.lock().unwrap().len(), 1, "{:#?}", got.lock().unwrap());
    drop(daemon);
}
