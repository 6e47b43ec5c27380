//! The dashboard's side of the server: its files, the routes it reads (usage breakdown, recent
//! events, the plain event stream), the token, and the header every write must carry.

use crate::harness::{Api, Reply};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gaffer_core::{NewRun, Role, RunStatus, TaskId, Usage};
use gaffer_server::{AppState, ServeError, serve};
use gaffer_store::{Commit, RunFinish};
use http_body_util::BodyExt;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TOKEN: &str = "s3cret token/with;odd=chars";

fn get(uri: &str) -> axum::http::request::Builder {
    Request::get(uri)
}

async fn send(api: &Api, request: axum::http::request::Builder) -> Reply {
    api.call(request.body(Body::empty()).unwrap()).await
}

/// A finished run of `task` with `usage`, as the engine records one.
fn finished_run(api: &Api, task: i64, role: Role, model: &str, usage: Usage) {
    let store = &api.board().store();
    let run = store
        .start_run(&NewRun {
            task: TaskId(task),
            job: None,
            role,
            tier: 0,
            agent: format!("{}-agent", role.as_str()),
            backend: "scripted".into(),
            model: model.into(),
            worktree: "/tmp/w".into(),
        })
        .unwrap();
    store
        .commit(&Commit {
            finish_run: Some(RunFinish {
                run: run.id,
                status: RunStatus::Succeeded,
                outcome: Some("done".into()),
                usage,
                session_id: None,
            }),
            ..Commit::default()
        })
        .unwrap();
}

fn usage(input: u64, output: u64, cost_usd: f64) -> Usage {
    Usage {
        input_tokens: input,
        output_tokens: output,
        cached_tokens: 0,
        cost_usd,
    }
}

// ---- the files --------------------------------------------------------------------------------

#[tokio::test]
async fn the_dashboard_is_served_at_the_root_and_cannot_be_framed() {
    let api = Api::new();
    let reply = send(&api, get("/")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.content_type, "text/html; charset=utf-8");
    assert!(
        reply
            .text
            .contains(r#"<script type="module" src="assets/js/app.js">"#),
        "{}",
        reply.text
    );
    let response = api.send(get("/").body(Body::empty()).unwrap()).await;
    let headers = response.headers();
    let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
}

#[tokio::test]
async fn every_asset_is_served_with_its_type() {
    let api = Api::new();
    for (path, content_type, needle) in [
        (
            "/assets/js/app.js",
            "text/javascript; charset=utf-8",
            "import",
        ),
        (
            "/assets/js/pages/board.js",
            "text/javascript; charset=utf-8",
            "export function mount",
        ),
        ("/assets/style.css", "text/css; charset=utf-8", ":root"),
        ("/assets/favicon.svg", "image/svg+xml", "<svg"),
    ] {
        let reply = send(&api, get(path)).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(reply.content_type, content_type, "{path}");
        assert!(reply.text.contains(needle), "{path}");
    }
    let reply = send(&api, get("/assets/js/nope.js")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.error_code(), "not_found");
    let reply = send(&api, get("/assets/../Cargo.toml")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

// ---- what the pages read ----------------------------------------------------------------------

#[tokio::test]
async fn usage_breaks_down_by_each_dimension() {
    let api = Api::new();
    let one = api.add_task("One").await;
    let two = api.add_task("Two").await;
    finished_run(&api, one, Role::Coder, "big", usage(1000, 100, 0.5));
    finished_run(&api, one, Role::Reviewer, "small", usage(200, 20, 0.25));
    finished_run(&api, two, Role::Coder, "big", usage(3000, 300, 1.0));

    let reply = api.get("/api/usage/breakdown?by=task").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["by"], "task");
    let rows = body["rows"].as_array().unwrap();
    // Highest cost first.
    assert_eq!(rows[0]["key"], two.to_string());
    assert_eq!(rows[0]["usage"]["cost_usd"], 1.0);
    assert_eq!(rows[1]["key"], one.to_string());
    assert_eq!(rows[1]["runs"], 2);
    assert_eq!(rows[1]["usage"]["input_tokens"], 1200);

    let rows = api.get("/api/usage/breakdown?by=model").await.json()["rows"].clone();
    assert_eq!(rows[0]["key"], "big");
    assert_eq!(rows[0]["usage"]["output_tokens"], 400);
    let rows = api.get("/api/usage/breakdown?by=role").await.json()["rows"].clone();
    assert_eq!(rows[0]["key"], "coder");
    assert_eq!(rows[1]["key"], "reviewer");
    let rows = api.get("/api/usage/breakdown?by=agent").await.json()["rows"].clone();
    assert_eq!(rows[0]["key"], "coder-agent");
    let rows = api.get("/api/usage/breakdown?by=day").await.json()["rows"].clone();
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["runs"], 3);
    assert_eq!(rows[0]["key"].as_str().unwrap().len(), "2026-01-01".len());
}

#[tokio::test]
async fn a_breakdown_needs_a_known_dimension() {
    let api = Api::new();
    for uri in [
        "/api/usage/breakdown",
        "/api/usage/breakdown?by=",
        "/api/usage/breakdown?by=colour",
    ] {
        let reply = api.get(uri).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{uri}");
        let hint = reply.json()["error"]["hint"].as_str().unwrap().to_string();
        assert!(hint.contains("task, role, model, agent, day"), "{hint}");
    }
}

#[tokio::test]
async fn recent_events_end_where_the_stream_goes_on() {
    let api = Api::new();
    let empty = api.get("/api/events/recent").await.json();
    assert_eq!(empty["last_seq"], 0);
    assert_eq!(empty["events"], serde_json::json!([]));
    for title in ["a", "b", "c", "d", "e"] {
        api.add_task(title).await;
    }
    let all = api.event_seqs().await;
    let recent = api.get("/api/events/recent?limit=3").await.json();
    let last = *all.last().unwrap();
    assert_eq!(recent["last_seq"], last);
    let seqs = crate::harness::seqs(&recent["events"]);
    assert_eq!(seqs, all[all.len() - 3..].to_vec());
    // The default is more than there is.
    let recent = api.get("/api/events/recent").await.json();
    assert_eq!(crate::harness::seqs(&recent["events"]), all);
}

#[tokio::test]
async fn a_plain_stream_leaves_out_the_event_names() {
    let api = Api::new();
    api.add_task("Streamed").await;
    for (uri, named) in [
        ("/api/events/stream?after=0&plain=1", false),
        ("/api/events/stream?after=0", true),
    ] {
        let response = api.send(get(uri).body(Body::empty()).unwrap()).await;
        assert_eq!(response.status(), StatusCode::OK);
        let mut body = response.into_body();
        let mut text = String::new();
        while !text.contains("\n\n") {
            let frame = tokio::time::timeout(Duration::from_secs(10), body.frame())
                .await
                .expect("an event within 10 s")
                .unwrap()
                .unwrap();
            if let Ok(data) = frame.into_data() {
                text.push_str(&String::from_utf8_lossy(&data));
            }
        }
        assert!(text.contains("id: 1\n"), "{text}");
        assert!(text.contains("\"kind\":\"task.created\""), "{text}");
        assert_eq!(text.contains("event: task.created\n"), named, "{text}");
    }
}

// ---- the token ----------------------------------------------------------------------------------

#[tokio::test]
async fn with_a_token_the_api_needs_it() {
    let api = Api::with_token(TOKEN);
    let reply = api.get("/api/tasks").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.error_code(), "unauthorized");
    let response = api
        .send(get("/api/tasks").body(Body::empty()).unwrap())
        .await;
    assert_eq!(
        response.headers()[header::WWW_AUTHENTICATE],
        "Bearer realm=\"gaffer\""
    );
    for value in [format!("Bearer {TOKEN}"), format!("bearer {TOKEN}")] {
        let reply = send(&api, get("/api/tasks").header(header::AUTHORIZATION, value)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    }
    for wrong in ["Bearer nope", "Basic czNjcmV0", TOKEN] {
        let reply = send(&api, get("/api/tasks").header(header::AUTHORIZATION, wrong)).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{wrong}");
    }
    // Writes too, and the event stream.
    let reply = api.post("/api/tasks", r#"{"title": "x"}"#).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let reply = send(&api, get("/api/events/stream")).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn with_a_token_health_and_the_dashboards_files_stay_open() {
    let api = Api::with_token(TOKEN);
    for uri in ["/healthz", "/", "/assets/js/app.js"] {
        let reply = send(&api, get(uri)).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}");
    }
}

#[tokio::test]
async fn opening_the_dashboard_with_the_token_sets_its_cookie() {
    let api = Api::with_token(TOKEN);
    let query = "s3cret%20token%2Fwith%3Bodd%3Dchars";
    let response = api
        .send(
            get(&format!("/?token={query}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[header::LOCATION], "./");
    let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with("gaffer_token="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let pair = cookie.split(';').next().unwrap().to_string();
    assert!(!pair.contains(' '), "{pair}");

    // The browser sends it back; other cookies around it do not matter.
    let reply = send(
        &api,
        get("/api/tasks").header(header::COOKIE, format!("theme=dark; {pair}; x=y")),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let reply = send(
        &api,
        get("/api/tasks").header(header::COOKIE, "gaffer_token=nope"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_wrong_token_sets_no_cookie() {
    let api = Api::with_token(TOKEN);
    let response = api
        .send(get("/?token=guess").body(Body::empty()).unwrap())
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[header::LOCATION], "./#token-refused");
    assert!(response.headers().get(header::SET_COOKIE).is_none());
}

#[tokio::test]
async fn with_a_token_other_hosts_are_let_in_and_other_sites_are_not() {
    let api = Api::with_token(TOKEN);
    let bearer = format!("Bearer {TOKEN}");
    let reply = send(
        &api,
        get("/api/tasks")
            .header(header::HOST, "192.168.1.5:7420")
            .header(header::AUTHORIZATION, &bearer),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let reply = send(
        &api,
        get("/api/tasks")
            .header(header::HOST, "192.168.1.5:7420")
            .header(header::ORIGIN, "http://192.168.1.5:7420")
            .header(header::AUTHORIZATION, &bearer),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let reply = send(
        &api,
        get("/api/tasks")
            .header(header::HOST, "192.168.1.5:7420")
            .header(header::ORIGIN, "https://evil.example")
            .header(header::AUTHORIZATION, &bearer),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
}

// ---- writes need the intent header --------------------------------------------------------------

#[tokio::test]
async fn a_write_needs_the_gaffer_header_or_a_json_body() {
    let api = Api::new();
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let request = Request::post("/api/tasks")
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(r#"{"title": "forged"}"#))
            .unwrap();
        let reply = api.call(request).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{content_type}");
        assert!(reply.error_message().contains("X-Gaffer"), "{}", reply.text);
    }
    // No body at all, as a bodiless cross-site fetch would send: refused too.
    let request = Request::post("/api/shutdown").body(Body::empty()).unwrap();
    assert_eq!(api.call(request).await.status, StatusCode::FORBIDDEN);
    assert!(!api.state.shutdown.is_cancelled());
    assert_eq!(
        api.event_seqs().await,
        Vec::<i64>::new(),
        "nothing was written"
    );

    let request = Request::post("/api/tasks")
        .header("x-gaffer", "1")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(r#"{"title": "meant"}"#))
        .unwrap();
    assert_eq!(api.call(request).await.status, StatusCode::CREATED);
    let reply = api.post("/api/tasks", r#"{"title": "json"}"#).await;
    assert_eq!(reply.status, StatusCode::CREATED);
}

// ---- listening beyond loopback ------------------------------------------------------------------

async fn raw(addr: std::net::SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
        .await
        .expect("no response within 10 s")
        .unwrap();
    String::from_utf8(response).unwrap()
}

#[tokio::test]
async fn beyond_loopback_the_server_needs_a_token() {
    let api = Api::new();
    let listener = TcpListener::bind("0.0.0.0:0").await.unwrap();
    let refused = serve(listener, api.state.clone(), std::future::pending()).await;
    assert!(
        matches!(refused, Err(ServeError::NotLoopback(_))),
        "{refused:?}"
    );

    let api = Api::with_token(TOKEN);
    let state: AppState = api.state.clone();
    let listener = TcpListener::bind("0.0.0.0:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let stop = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn(serve(listener, state, stop.clone().cancelled_owned()));
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    let health = raw(
        addr,
        "GET /healthz HTTP/1.1\r\nHost: gaffer.lan\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(health.starts_with("HTTP/1.1 200 OK\r\n"), "{health}");
    let tasks = raw(
        addr,
        "GET /api/tasks HTTP/1.1\r\nHost: gaffer.lan\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(
        tasks.starts_with("HTTP/1.1 401 Unauthorized\r\n"),
        "{tasks}"
    );
    let tasks = raw(
        addr,
        &format!(
            "GET /api/tasks HTTP/1.1\r\nHost: gaffer.lan\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
        ),
    )
    .await;
    assert!(tasks.starts_with("HTTP/1.1 200 OK\r\n"), "{tasks}");
    stop.cancel();
    server.await.unwrap().unwrap();
}
