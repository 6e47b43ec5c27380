//! Sending a rendered answer: all at once, or piece by piece with delays, a malformed line, or
//! a stall partway through.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;

use crate::script::Stall;

/// A rendered answer and how to send it.
#[derive(Debug)]
pub(crate) struct Delivery {
    /// `Content-Type` of the answer.
    pub content_type: &'static str,
    /// The pieces of the body, in order: SSE events, or one JSON document.
    pub pieces: Vec<String>,
    /// Pause between pieces.
    pub piece_delay: Duration,
    /// Stop partway ([`Stall::MidStream`] or [`Stall::CloseMidStream`]; a
    /// [`Stall::NoResponse`] never gets this far).
    pub stall: Option<Stall>,
}

impl Delivery {
    /// A delivery of `pieces` with nothing unusual.
    pub fn new(content_type: &'static str, pieces: Vec<String>) -> Self {
        Self {
            content_type,
            pieces,
            piece_delay: Duration::ZERO,
            stall: None,
        }
    }

    /// Puts a raw malformed line in: after `after` pieces of a stream, or instead of the whole
    /// body of a non-streaming answer.
    pub fn with_malformed_line(mut self, line: &str, after: usize, streaming: bool) -> Self {
        if streaming {
            let at = after.min(self.pieces.len());
            self.pieces.insert(at, crate::sse::raw(line));
        } else {
            self.pieces = vec![line.to_string()];
        }
        self
    }

    /// Builds the response. Its body ends when the pieces are sent, or — for a mid-stream
    /// stall — never, until the client goes away or `shutdown` is cancelled.
    pub fn into_response(self, shutdown: CancellationToken) -> Response {
        let content_type = HeaderValue::from_static(self.content_type);
        let plain = self.piece_delay.is_zero() && self.stall.is_none();
        let body = if plain {
            Body::from(self.pieces.concat())
        } else {
            streamed_body(self, shutdown)
        };
        let mut response = (StatusCode::OK, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, content_type);
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        response
    }
}

fn streamed_body(delivery: Delivery, shutdown: CancellationToken) -> Body {
    let Delivery {
        pieces,
        piece_delay,
        stall,
        ..
    } = delivery;
    let pieces = match stall {
        Some(Stall::MidStream | Stall::CloseMidStream) => first_half(pieces),
        _ => pieces,
    };
    let (sender, receiver) = mpsc::channel::<Bytes>(4);
    tokio::spawn(async move {
        for (index, piece) in pieces.into_iter().enumerate() {
            if index > 0 && !piece_delay.is_zero() {
                tokio::select! {
                    () = tokio::time::sleep(piece_delay) => {}
                    () = shutdown.cancelled() => return,
                }
            }
            if sender.send(Bytes::from(piece)).await.is_err() {
                return;
            }
        }
        if stall == Some(Stall::MidStream) {
            // Hold the stream open without a word until the client leaves or we shut down.
            tokio::select! {
                () = sender.closed() => {}
                () = shutdown.cancelled() => {}
            }
        }
    });
    Body::from_stream(ReceiverStream::new(receiver).map(Ok::<Bytes, Infallible>))
}

/// The first half of the pieces; a single piece is cut in half at a character boundary.
fn first_half(mut pieces: Vec<String>) -> Vec<String> {
    if pieces.len() == 1 {
        let piece = &pieces[0];
        let mut cut = piece.len() / 2;
        while !piece.is_char_boundary(cut) {
            cut -= 1;
        }
        return vec![piece[..cut].to_string()];
    }
    let keep = pieces.len() / 2;
    pieces.truncate(keep);
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_of_a_stream_or_a_document() {
        let pieces: Vec<String> = (0..5).map(|i| i.to_string()).collect();
        assert_eq!(first_half(pieces), vec!["0", "1"]);
        assert_eq!(first_half(vec!["{\"ab\":1}".to_string()]), vec!["{\"ab"]);
        assert_eq!(first_half(vec!["é".to_string()]), vec![""]);
    }

    #[test]
    fn a_malformed_line_goes_where_asked() {
        let delivery = Delivery::new("text/event-stream", vec!["a\n\n".into(), "b\n\n".into()])
            .with_malformed_line("data: {oops", 1, true);
        assert_eq!(delivery.pieces, vec!["a\n\n", "data: {oops\n\n", "b\n\n"]);
        let delivery = Delivery::new("application/json", vec!["{}".into()])
            .with_malformed_line("{oops", 1, false);
        assert_eq!(delivery.pieces, vec!["{oops"]);
    }
}
