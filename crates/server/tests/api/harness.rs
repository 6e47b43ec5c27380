//! A board on a temporary repository, its router, and helpers to call it.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use gaffer_engine::{Board, BoardOptions, Engine};
use gaffer_server::{ApiToken, AppState, router};
use gaffer_test_support::TestRepo;
use http_body_util::BodyExt;
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

/// A hermetic board and the API over it.
pub struct Api {
    /// Kept so the repository outlives the board.
    pub repo: TestRepo,
    pub state: AppState,
    pub app: Router,
    /// Sent as `Authorization` with every request that carries neither that header nor a
    /// cookie: the daemon's token, unless a test means to send its own (or none).
    auth: Option<String>,
}

/// A whole response, read.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// The `error.code` of an error reply.
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn error_message(&self) -> String {
        self.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

pub fn open_board(repo: &TestRepo) -> Arc<Board> {
    let mut settings = gaffer_config::default_settings();
    settings.verify.command = Some("true".into());
    let options = BoardOptions {
        git_env: repo.env(),
        clock: None,
        ..BoardOptions::default()
    };
    Arc::new(Board::open(repo.path(), settings, options).unwrap())
}

impl Api {
    /// A board without an engine (as when only the API runs).
    pub fn new() -> Api {
        let repo = TestRepo::new();
        let board = open_board(&repo);
        Api::with_state(repo, AppState::new(board, None, generated()))
    }

    /// A board shared with other machines (as on PostgreSQL: `project.remote` set), as remote
    /// workers need, without an engine.
    pub fn shared() -> Api {
        let repo = TestRepo::new();
        let remote = repo.scratch("remote.git");
        repo.git(&["init", "-q", "--bare", remote.to_str().unwrap()]);
        repo.git(&["remote", "add", "origin", remote.to_str().unwrap()]);
        let mut settings = gaffer_config::default_settings();
        settings.verify.command = Some("true".into());
        settings.project.remote = Some("origin".into());
        let options = BoardOptions {
            git_env: repo.env(),
            clock: None,
            ..BoardOptions::default()
        }
        .shared(true);
        let board = Arc::new(Board::open(repo.path(), settings, options).unwrap());
        Api::with_state(repo, AppState::new(board, None, generated()))
    }

    /// A board with an engine handle. The engine is not started: nothing is claimed or run,
    /// but waking, cancelling and scaling go through the real handle.
    pub fn with_engine() -> Api {
        let repo = TestRepo::new();
        let board = open_board(&repo);
        let engine = Engine::new(Arc::clone(&board), gaffer_agents::Registry::new());
        Api::with_state(
            repo,
            AppState::new(board, Some(engine.handle()), generated()),
        )
    }

    /// A board without an engine, whose API requires the configured `token` (as with
    /// `GAFFER_TOKEN`). Requests go without it unless a test adds it.
    pub fn with_token(token: &str) -> Api {
        let repo = TestRepo::new();
        let board = open_board(&repo);
        let state = AppState::new(board, None, ApiToken::new(token).unwrap());
        Api::with_state(repo, state).anonymous()
    }

    /// The same API, its requests sent without the daemon's token (unless a test adds one).
    pub fn anonymous(mut self) -> Api {
        self.auth = None;
        self
    }

    fn with_state(repo: TestRepo, state: AppState) -> Api {
        let app = router(state.clone());
        let auth = Some(format!("Bearer {}", state.token.reveal()));
        Api {
            repo,
            state,
            app,
            auth,
        }
    }

    pub fn board(&self) -> &Arc<Board> {
        &self.state.board
    }

    /// Sends a request and returns the response unread (for streams).
    pub async fn send(&self, mut request: Request<Body>) -> Response {
        let headers = request.headers_mut();
        if let Some(auth) = &self.auth
            && !headers.contains_key(header::AUTHORIZATION)
            && !headers.contains_key(header::COOKIE)
        {
            headers.insert(header::AUTHORIZATION, auth.parse().unwrap());
        }
        self.app.clone().oneshot(request).await.unwrap()
    }

    pub async fn call(&self, request: Request<Body>) -> Reply {
        let response = self.send(request).await;
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            content_type,
            text: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }

    pub async fn get(&self, uri: &str) -> Reply {
        self.call(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    pub async fn post(&self, uri: &str, body: &str) -> Reply {
        let request = Request::post(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        self.call(request).await
    }

    /// Adds a task through the API and returns its id.
    pub async fn add_task(&self, title: &str) -> i64 {
        let reply = self
            .post(
                "/api/tasks",
                &serde_json::json!({ "title": title }).to_string(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        reply.json()["id"].as_i64().unwrap()
    }

    /// The sequence numbers of every stored event, in order.
    pub async fn event_seqs(&self) -> Vec<i64> {
        let reply = self.get("/api/events?limit=10000").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        seqs(&reply.json())
    }
}

/// A token the daemon made itself, as `gaffer up` does when none is configured.
fn generated() -> ApiToken {
    ApiToken::generate().unwrap()
}

/// The `seq` of each event in a JSON array of events.
pub fn seqs(events: &Value) -> Vec<i64> {
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect()
}
