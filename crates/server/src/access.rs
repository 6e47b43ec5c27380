//! Who may use the daemon: every request passes [`check`] before it reaches a handler.
//!
//! The daemon always has a token ([`ApiToken`]): the one a person configured (`server.token_env`)
//! or, when none is, one it generated at start and wrote into `daemon.json` (mode 0600, in the
//! state directory, which a sandboxed agent cannot see) for the CLI, the shell and `gaffer mcp`
//! of the same user to find. Four checks, in order:
//!
//! 1. **Where the request comes from.** With a generated token the daemon listens on loopback
//!    only, and the [`crate::guard`] rules apply too: a request from a web page on another site
//!    (`Origin`) or for another host name (`Host`, DNS rebinding) is refused. With a configured
//!    token the `Host` may be anything (the daemon may be reached by a LAN address), and an
//!    `Origin` must be loopback or the daemon's own (`http://<Host>`).
//! 2. **The token.** Every request but `GET /healthz` and the dashboard's static files (`/`,
//!    `/assets/…`, which hold no data) must carry the daemon's token, as
//!    `Authorization: Bearer <token>` or as the `gaffer_token_<port>` cookie that the dashboard
//!    sets when it is opened as `/?token=<token>` (`gaffer dashboard` prints that link).
//!    Otherwise: 401 `unauthorized`.
//! 3. **A run's token** (`GAFFER_RUN_TOKEN`, see [`crate::run_token`]) is the exception: a bearer
//!    token the engine issued to one agent run, valid while the run lasts, which opens only
//!    `POST /api/tasks/{its task}/progress`, `/ask` and `/propose`. Anything else with it: 403
//!    `forbidden`. An agent thus reports on its own work but cannot approve its own change, read
//!    other tasks or follow the event stream. A revoked or unknown token: 401.
//!    A **worker token** (`gfw_…`, made by `gaffer worker token create`, stored hashed in the
//!    board) is the other exception: it opens `POST /api/worker` only, where the engine checks
//!    each call against the token's project, labels and the worker's own leases
//!    ([`gaffer_engine::worker::serve`]). It is looked up in the store on every request, so a
//!    revoked token is refused (401) from the next request on.
//! 4. **Intent.** A request that changes something (any method but `GET`, `HEAD` and `OPTIONS`)
//!    must carry an `X-Gaffer` header (the dashboard sends `X-Gaffer: 1`) or a JSON body
//!    (`Content-Type: application/json`, as the CLI sends). A page on another site can make a
//!    browser send a form post or a `text/plain` fetch without asking, but neither a custom header
//!    nor a JSON content type: those need a CORS preflight, which the daemon never grants.
//!    Otherwise: 403 `forbidden`. The token's cookie is also `SameSite=Strict`, so a browser does
//!    not attach it to another site's requests at all.

use crate::error::{ApiError, ErrorCode};
use crate::guard;
use crate::routes::worker::WorkerCaller;
use crate::run_token::RunCaller;
use crate::state::Ctx;
use crate::token::{ApiToken, cookie_carries};
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, HOST, ORIGIN, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use gaffer_engine::RunAccess;

/// The header that says a request is meant (a cross-site form cannot send it).
pub const INTENT_HEADER: &str = "x-gaffer";

/// Who a request's token says it comes from.
enum Caller {
    /// The daemon's token: everything.
    Daemon,
    /// A running agent: its own task's reports.
    Run(RunCaller),
    /// A remote worker: `POST /api/worker`, nothing else.
    Worker(WorkerCaller),
}

/// The one route a worker token opens.
const WORKER_ROUTE: &str = "/api/worker";

/// Middleware: the four checks of this module.
pub(crate) async fn check(State(ctx): State<Ctx>, mut request: Request, next: Next) -> Response {
    let token = &ctx.app.token;
    let headers = request.headers();
    if let Err(refused) = check_origin(headers, !token.is_generated()) {
        return refused.into_response();
    }
    if needs_token(request.method(), request.uri().path()) {
        let found = match caller(headers, token, ctx.app.board.run_access()) {
            Some(caller) => Some(caller),
            None => match worker_caller(headers, &ctx).await {
                Ok(worker) => worker,
                Err(refused) => return refused.into_response(),
            },
        };
        match found {
            Some(Caller::Daemon) => {}
            Some(Caller::Run(run)) => {
                if let Err(refused) = run.permits(request.method(), request.uri().path()) {
                    return refused.into_response();
                }
                request.extensions_mut().insert(run);
            }
            Some(Caller::Worker(worker)) => {
                if request.method() != Method::POST || request.uri().path() != WORKER_ROUTE {
                    return ApiError::new(
                        ErrorCode::Forbidden,
                        format!(
                            "worker token {} may only call POST {WORKER_ROUTE}, not {} {}",
                            worker.0.token,
                            request.method(),
                            request.uri().path()
                        ),
                    )
                    .with_hint(
                        "a worker token claims and reports jobs; people use the daemon's token",
                    )
                    .into_response();
                }
                request.extensions_mut().insert(worker);
            }
            None => return unauthorized(),
        }
    }
    if changes_state(request.method()) && !shows_intent(request.headers()) {
        return ApiError::new(
            ErrorCode::Forbidden,
            format!(
                "{} requests must carry an X-Gaffer header or a JSON body",
                request.method()
            ),
        )
        .with_hint("send `X-Gaffer: 1` (curl -H 'X-Gaffer: 1'); web pages on other sites cannot")
        .into_response();
    }
    next.run(request).await
}

/// The daemon's token as a bearer token or in the dashboard's cookie, else a run's token as a
/// bearer token (never a cookie: no browser holds one).
fn caller(headers: &HeaderMap, token: &ApiToken, runs: &RunAccess) -> Option<Caller> {
    let bearers = bearers(headers);
    if bearers.iter().any(|b| token.matches(b)) || cookie_carries(headers, token) {
        return Some(Caller::Daemon);
    }
    bearers
        .iter()
        .find_map(|b| runs.check(b))
        .map(|(task, run)| Caller::Run(RunCaller { task, run }))
}

/// A worker token (`gfw_…`) as a bearer token, looked up in the board's store on every request
/// (a revoked token is refused at once): `Ok(None)` when the request carries none that is live.
async fn worker_caller(headers: &HeaderMap, ctx: &Ctx) -> Result<Option<Caller>, ApiError> {
    let Some(secret) = bearers(headers)
        .into_iter()
        .find(|b| b.starts_with(gaffer_engine::WORKER_TOKEN_PREFIX))
        .map(str::to_string)
    else {
        return Ok(None);
    };
    let project = ctx.app.board.project().id;
    let found = ctx
        .blocking(move |board| Ok(board.worker_by_token(&secret)?))
        .await?;
    Ok(found.filter(|t| t.project == project).map(|t| {
        Caller::Worker(WorkerCaller(gaffer_engine::worker::WorkerIdentity {
            token: t.id,
            name: t.name,
            project: t.project,
            labels: t.labels,
        }))
    }))
}

/// The request's bearer tokens.
fn bearers(headers: &HeaderMap) -> Vec<&str> {
    headers
        .get_all(AUTHORIZATION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, value)| value.trim())
        .collect()
}

/// `any_host`: a person configured the token, so the daemon may be reached by any name.
fn check_origin(headers: &HeaderMap, any_host: bool) -> Result<(), ApiError> {
    let host = headers
        .get(HOST)
        .map(|h| h.to_str().unwrap_or_default().to_string());
    if let Some(origin) = headers.get(ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        let own = any_host && host.as_deref().is_some_and(|h| origin_is_host(origin, h));
        if !own && !guard::origin_is_loopback(origin) {
            return Err(guard::refusal(format!(
                "requests from the web page at {origin} are not allowed"
            )));
        }
    }
    if !any_host
        && let Some(host) = host
        && !guard::authority_is_loopback(&host)
    {
        return Err(guard::refusal(format!(
            "requests for host {host} are not allowed"
        )));
    }
    Ok(())
}

/// `http://host:port` or `https://host:port` naming exactly `host`.
fn origin_is_host(origin: &str, host: &str) -> bool {
    origin.split_once("://").is_some_and(|(scheme, authority)| {
        matches!(scheme, "http" | "https") && authority.eq_ignore_ascii_case(host)
    })
}

/// Everything needs the token but the health check and the dashboard's static files.
fn needs_token(method: &Method, path: &str) -> bool {
    let public = path == "/healthz" || path == "/" || path.starts_with("/assets/");
    !(public && (method == Method::GET || method == Method::HEAD))
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn shows_intent(headers: &HeaderMap) -> bool {
    let custom = headers
        .get(INTENT_HEADER)
        .is_some_and(|v| !v.as_bytes().is_empty());
    let json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"));
    custom || json
}

fn unauthorized() -> Response {
    let mut response = ApiError::new(
        ErrorCode::Unauthorized,
        "this gaffer daemon needs its token",
    )
    .with_hint(
        "send `Authorization: Bearer <token>`; `gaffer dashboard` prints the dashboard's link \
         with it. The token is in daemon.json in gaffer's state directory (or, when \
         server.token_env is set, in that variable: GAFFER_TOKEN by default)",
    )
    .into_response();
    response.headers_mut().insert(
        WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"gaffer\""),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_needs_the_token() {
        assert!(!needs_token(&Method::GET, "/healthz"));
        assert!(!needs_token(&Method::GET, "/"));
        assert!(!needs_token(&Method::GET, "/assets/app.js"));
        assert!(needs_token(&Method::POST, "/"));
        assert!(needs_token(&Method::GET, "/api/tasks"));
        assert!(needs_token(&Method::GET, "/metrics"));
    }

    #[test]
    fn intent_is_a_custom_header_or_a_json_body() {
        let mut headers = HeaderMap::new();
        assert!(!shows_intent(&headers));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert!(!shows_intent(&headers));
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        assert!(!shows_intent(&headers));
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("Application/JSON; charset=utf-8"),
        );
        assert!(shows_intent(&headers));
        let mut headers = HeaderMap::new();
        headers.insert(INTENT_HEADER, HeaderValue::from_static("1"));
        assert!(shows_intent(&headers));
    }

    #[test]
    fn own_origins() {
        assert!(origin_is_host(
            "http://192.168.1.5:7420",
            "192.168.1.5:7420"
        ));
        assert!(origin_is_host("https://gaffer.lan", "GAFFER.lan"));
        assert!(!origin_is_host("http://evil.example", "192.168.1.5:7420"));
        assert!(!origin_is_host("null", "192.168.1.5:7420"));
        assert!(!origin_is_host("ftp://gaffer.lan", "gaffer.lan"));
    }
}
