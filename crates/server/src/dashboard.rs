//! The web dashboard: plain HTML, CSS and JavaScript modules under `crates/server/assets/`,
//! embedded in the binary at build time (`cargo build` alone makes it; there is no other build
//! step), served at `/` and `/assets/…`.
//!
//! The files hold no data: the page reads everything through the JSON API and the event stream,
//! so they are served without the token (see [`crate::access`]). Opening `/?token=T` with the
//! daemon's token stores it in an `HttpOnly`, `SameSite=Strict` cookie (`gaffer_token_<port>`)
//! and redirects to `/`, so the token leaves the address bar and the page's scripts never see it.
//!
//! Every answer here forbids framing (no clickjacking of the approve button) and carries a
//! content security policy that allows only the daemon's own scripts, styles and connections.

use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::state::Ctx;
use crate::token::cookie_name;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, REFERRER_POLICY, SET_COOKIE,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

/// One embedded file.
struct Asset {
    /// Its path under `assets/`.
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! assets {
    ($($path:literal => $type:expr),* $(,)?) => {
        &[$(Asset {
            path: $path,
            content_type: $type,
            body: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/", $path)),
        }),*]
    };
}

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const SVG: &str = "image/svg+xml";

/// Every file of the dashboard (a test checks that this list and the directory agree).
static ASSETS: &[Asset] = assets! {
    "index.html" => HTML,
    "style.css" => CSS,
    "favicon.svg" => SVG,
    "js/app.js" => JS,
    "js/api.js" => JS,
    "js/live.js" => JS,
    "js/dom.js" => JS,
    "js/model.js" => JS,
    "js/diff.js" => JS,
    "js/transcript.js" => JS,
    "js/chart.js" => JS,
    "js/ansi.js" => JS,
    "js/failure.js" => JS,
    "js/pages/board.js" => JS,
    "js/pages/feed.js" => JS,
    "js/pages/task.js" => JS,
    "js/pages/people.js" => JS,
    "js/pages/usage.js" => JS,
    "js/pages/queue.js" => JS,
    "js/pages/redirect.js" => JS,
};

/// Scripts, styles, images and connections from the daemon itself only; no inline script; no
/// framing.
const POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

/// How long the token cookie lives: 30 days.
const COOKIE_MAX_AGE_SECS: u32 = 30 * 24 * 60 * 60;

/// `GET /` and `GET /assets/{*path}`.
pub(crate) fn routes() -> Router<Ctx> {
    Router::new()
        .route("/", get(index))
        .route("/assets/{*path}", get(asset))
}

/// `GET /` parameters.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct IndexQuery {
    token: Option<String>,
}

async fn index(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<IndexQuery>,
) -> Response {
    let Some(given) = q.token else {
        return serve("index.html");
    };
    // Take the token out of the address bar (and the history) whatever happens.
    let token = &ctx.app.token;
    if !token.matches(&given) {
        return redirect("./#token-refused", None);
    }
    let cookie = format!(
        "{}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={COOKIE_MAX_AGE_SECS}",
        cookie_name(&headers),
        token.cookie_value()
    );
    redirect("./", Some(cookie))
}

async fn asset(Path(path): Path<String>) -> Response {
    serve(&path)
}

fn serve(path: &str) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.path == path) else {
        return ApiError::not_found(format!("no dashboard file {path}")).into_response();
    };
    let mut response = (StatusCode::OK, asset.body).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    // The files change with the binary; a reload after an upgrade must not run stale modules.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    protect(&mut response);
    response
}

fn redirect(location: &'static str, cookie: Option<String>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    headers.insert(LOCATION, HeaderValue::from_static(location));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(cookie) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        headers.insert(SET_COOKIE, cookie);
    }
    protect(&mut response);
    response
}

fn protect(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn files_under(dir: &Path, prefix: &str, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
            if entry.file_type().unwrap().is_dir() {
                files_under(&entry.path(), &format!("{name}/"), out);
            } else {
                out.push(name);
            }
        }
    }

    #[test]
    fn every_file_under_assets_is_embedded_and_nothing_else() {
        let mut on_disk = Vec::new();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
        files_under(&root, "", &mut on_disk);
        on_disk.sort();
        let mut embedded: Vec<String> = ASSETS.iter().map(|a| a.path.to_string()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded, "update ASSETS in dashboard.rs");
    }

    #[test]
    fn every_module_the_page_imports_is_embedded() {
        let names: Vec<&str> = ASSETS.iter().map(|a| a.path).collect();
        for asset in ASSETS.iter().filter(|a| a.path.ends_with(".js")) {
            let text = std::str::from_utf8(asset.body).unwrap();
            let dir = asset.path.rsplit_once('/').map_or("", |(d, _)| d);
            for line in text.lines().filter(|l| l.starts_with("import ")) {
                let spec = line.rsplit(['\'', '"']).nth(1).unwrap();
                let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
                for part in spec.split('/') {
                    match part {
                        "." => {}
                        ".." => {
                            parts.pop();
                        }
                        p => parts.push(p),
                    }
                }
                let target = parts.join("/");
                assert!(
                    names.contains(&target.as_str()),
                    "{} imports {spec} ({target}), which is not embedded",
                    asset.path
                );
            }
        }
    }
}
