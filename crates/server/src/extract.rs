//! Extractors that answer a bad request with an [`ApiError`] instead of axum's plain-text
//! rejections, so every error a client sees has the same JSON shape.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// A JSON request body.
///
/// Lenient where that costs nothing: the `Content-Type` header is not required (so
/// `curl -H 'X-Gaffer: 1' -d '{"title": "x"}'` works; without a JSON type a write needs that
/// header, see `crate::access`), and an empty body reads as `{}` (so `POST .../approve` needs no
/// body at all). Malformed JSON is a 400 with serde's message.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::invalid(e.body_text()).with_status(e.status()))?;
        parse_body(&bytes).map(JsonBody)
    }
}

/// Parses a request body as `T`, reading an empty (or blank) body as `{}`.
pub fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(text).map_err(|e| {
        ApiError::invalid(format!("invalid JSON body: {e}"))
            .with_hint("send a JSON object, e.g. {\"title\": \"Fix the login page\"}")
    })
}

/// Query-string parameters; a value of the wrong type is a 400.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e| ApiError::invalid(e.body_text()))
    }
}

/// Path parameters; an id that is not a number is a 400.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(|e| ApiError::invalid(e.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Answer {
        text: String,
    }

    #[derive(Debug, Deserialize, PartialEq, Default)]
    #[serde(default)]
    struct Cancel {
        reason: Option<String>,
    }

    #[test]
    fn an_empty_body_reads_as_an_empty_object() {
        assert_eq!(parse_body::<Cancel>(b"").unwrap(), Cancel::default());
        assert_eq!(parse_body::<Cancel>(b" \n").unwrap(), Cancel::default());
    }

    #[test]
    fn a_missing_field_names_it() {
        let e = parse_body::<Answer>(b"").unwrap_err();
        assert!(e.message.contains("missing field `text`"), "{}", e.message);
    }

    #[test]
    fn malformed_json_is_invalid() {
        let e = parse_body::<Answer>(b"{\"text\": ").unwrap_err();
        assert_eq!(e.code, crate::error::ErrorCode::Invalid);
        assert!(
            e.message.starts_with("invalid JSON body: "),
            "{}",
            e.message
        );
    }
}

/// Who acted, as the board records it: the surface the request names in
/// [`gaffer_api::CLIENT_HEADER`] when it is one of gaffer's (`cli`, `shell`, `mcp`,
/// `dashboard`), else `api`.
#[derive(Debug, Clone, Copy)]
pub struct Surface(pub &'static str);

impl<S: Send + Sync> FromRequestParts<S> for Surface {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let named = parts
            .headers
            .get(gaffer_api::CLIENT_HEADER)
            .and_then(|v| v.to_str().ok());
        Ok(Surface(match named {
            Some("cli") => "cli",
            Some("shell") => "shell",
            Some("mcp") => "mcp",
            Some("dashboard") => "dashboard",
            _ => super::routes::WHO,
        }))
    }
}
