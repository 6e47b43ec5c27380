//! The API token: the daemon makes one when none is configured (in `daemon.json`, 0600, where
//! every client finds it), refuses to listen beyond loopback without a configured one, requires
//! it always, and the CLI sends it.

use crate::common::{Project, pid_alive, stderr_of, stdout_of, wait_until};
use std::io::{Read, Write};
use std::time::Duration;

const TOKEN: &str = "cli-token-test-0123456789";

/// One raw HTTP request to the daemon on 127.0.0.1; the status line of the answer.
fn status_line(port: u16, request: &str) -> String {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response.lines().next().unwrap_or_default().to_string()
}

#[test]
fn listening_beyond_loopback_needs_a_token() {
    let project = Project::new();
    let out = project
        .gaffer()
        .args(["--set", "server.host=0.0.0.0", "up", "--port", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(
        err.contains("server.host = \"0.0.0.0\" reaches beyond this machine"),
        "{err}"
    );
    assert!(err.contains("GAFFER_TOKEN"), "{err}");
    assert!(!project.daemon_file().exists());
}

#[test]
fn with_a_token_the_daemon_requires_it_and_the_cli_sends_it() {
    let project = Project::new();
    let out = project
        .gaffer()
        .env("GAFFER_TOKEN", TOKEN)
        .args([
            "--set",
            "server.host=0.0.0.0",
            "up",
            "--detach",
            "--port",
            "0",
        ])
        .output()
        .unwrap();
    let info: Option<serde_json::Value> = std::fs::read_to_string(project.daemon_file())
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    // Stop it however this test ends.
    struct Down<'a>(&'a Project, Option<u32>);
    impl Drop for Down<'_> {
        fn drop(&mut self) {
            let _ = self
                .0
                .gaffer()
                .env("GAFFER_TOKEN", TOKEN)
                .arg("down")
                .output();
            if let Some(pid) = self.1.filter(|p| pid_alive(*p)) {
                let group = nix::unistd::Pid::from_raw(pid as i32);
                let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
            }
        }
    }
    let pid = info
        .as_ref()
        .and_then(|i| i["pid"].as_u64())
        .map(|p| p as u32);
    let _down = Down(&project, pid);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let info = info.expect("daemon.json");
    assert_eq!(info["host"], "0.0.0.0", "{info}");
    let port = u16::try_from(info["port"].as_u64().unwrap()).unwrap();
    assert!(
        stdout_of(&out).contains(&format!("http://127.0.0.1:{port}")),
        "{}",
        stdout_of(&out)
    );

    // Over HTTP: health is open, the API is not.
    let open = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    assert!(status_line(port, open).contains("200"));
    let closed = "GET /api/tasks HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    assert!(status_line(port, closed).contains("401"));
    let with = format!(
        "GET /api/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
    );
    assert!(status_line(port, &with).contains("200"));

    // The CLI sends the token it finds in the same variable; without it the daemon says no.
    let out = project
        .gaffer()
        .env("GAFFER_TOKEN", TOKEN)
        .args(["task", "add", "Write the notes", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let out = project
        .gaffer()
        .args(["task", "add", "Without the token"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("needs its token"),
        "{}",
        stderr_of(&out)
    );

    let out = project
        .gaffer()
        .env("GAFFER_TOKEN", TOKEN)
        .arg("down")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    if let Some(pid) = pid {
        wait_until("the daemon to stop", Duration::from_secs(30), || {
            (!pid_alive(pid)).then_some(())
        });
    }
}

/// `GET`/`POST` with plain reqwest, as any program on the machine could: the status.
fn plain_status(url: &str, bearer: Option<&str>) -> u16 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let mut request = http.get(url);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap().status().as_u16()
    })
}

#[test]
fn without_a_configured_token_up_makes_one_and_every_client_finds_it() {
    use std::os::unix::fs::PermissionsExt;
    let project = Project::new();
    let out = project
        .gaffer()
        .args(["up", "--detach", "--port", "0"])
        .output()
        .unwrap();
    let info: Option<serde_json::Value> = std::fs::read_to_string(project.daemon_file())
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let pid = info
        .as_ref()
        .and_then(|i| i["pid"].as_u64())
        .map(|p| p as u32);
    struct Down<'a>(&'a Project, Option<u32>);
    impl Drop for Down<'_> {
        fn drop(&mut self) {
            let _ = self.0.gaffer().arg("down").output();
            if let Some(pid) = self.1.filter(|p| pid_alive(*p)) {
                let group = nix::unistd::Pid::from_raw(pid as i32);
                let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
            }
        }
    }
    let _down = Down(&project, pid);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let info = info.expect("daemon.json");

    // daemon.json holds the token, for this user only (and so does the file that keeps it).
    for file in [project.daemon_file(), project.state_dir().join("api-token")] {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{} is {mode:o}", file.display());
    }
    let token = info["token"].as_str().expect("a token in daemon.json");
    assert!(token.len() >= 32, "{token}");
    let port = info["port"].as_u64().unwrap();
    let base = format!("http://127.0.0.1:{port}");

    // The person who started it is shown the dashboard's link once; the log never has it.
    let link = format!("{base}/?token={token}");
    let stdout = stdout_of(&out);
    assert!(stdout.contains(&format!("dashboard: {link}")), "{stdout}");
    let out = project.gaffer().arg("dashboard").output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(stdout_of(&out).trim(), link);

    // Plain HTTP: health is open, the API wants the token.
    assert_eq!(plain_status(&format!("{base}/healthz"), None), 200);
    assert_eq!(plain_status(&format!("{base}/api/tasks"), None), 401);
    assert_eq!(
        plain_status(&format!("{base}/api/tasks"), Some("guess")),
        401
    );
    assert_eq!(plain_status(&format!("{base}/api/tasks"), Some(token)), 200);

    // The CLI finds it in daemon.json.
    let out = project
        .gaffer()
        .args(["task", "add", "Write the notes", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let status = project.json(&["status", "--json"]);
    assert_eq!(status["daemon"], base, "{status:#}");
    let out = project.gaffer().arg("down").output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    if let Some(pid) = pid {
        wait_until("the daemon to stop", Duration::from_secs(30), || {
            (!pid_alive(pid)).then_some(())
        });
    }
    let log = project.daemon_log();
    assert!(log.contains("gaffer is up"), "{log}");
    assert!(!log.contains(token), "the log has the token:\n{log}");

    // The next start keeps it (an open dashboard stays signed in)...
    let token_of = || -> String {
        let info: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(project.daemon_file()).unwrap()).unwrap();
        info["token"].as_str().unwrap().to_string()
    };
    let daemon = project.start_daemon();
    assert_eq!(token_of(), token);
    drop(daemon);
    // ...until its file is deleted: then the old one opens nothing.
    std::fs::remove_file(project.state_dir().join("api-token")).unwrap();
    let daemon = project.start_daemon();
    let new = token_of();
    assert_ne!(new, token);
    let url = format!("http://127.0.0.1:{}/api/tasks", daemon.port);
    assert_eq!(plain_status(&url, Some(token)), 401);
    assert_eq!(plain_status(&url, Some(&new)), 200);
}

#[test]
fn dashboard_needs_a_running_daemon() {
    let project = Project::new();
    let out = project.gaffer().arg("dashboard").output().unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("gaffer up"), "{}", stderr_of(&out));
}
