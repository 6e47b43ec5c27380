//! Server-sent events, parsed incrementally from the bytes of a streaming response.
//!
//! Lines end with `\n` (a preceding `\r` is dropped). `event:` names the event, `data:` lines
//! are joined with `\n`, a blank line dispatches the event, and lines starting with `:` are
//! comments. `id:` and `retry:` are accepted and ignored. Any other line is reported as
//! malformed: both APIs spoken here send nothing else, so such a line means a broken stream.

use crate::http::error::{HttpError, shorten};

/// The longest line accepted (a single streamed JSON chunk is far smaller).
const MAX_LINE: usize = 16 * 1024 * 1024;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, when there was one.
    pub event: Option<String>,
    pub data: String,
}

/// Incremental parser: feed it chunks, get whole events.
#[derive(Debug, Default)]
pub struct SseParser {
    buffer: Vec<u8>,
    event: Option<String>,
    data: Option<String>,
}

impl SseParser {
    pub fn new() -> SseParser {
        SseParser::default()
    }

    /// Parses the complete lines of `chunk` (with what was left of earlier chunks).
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<SseEvent>, HttpError> {
        self.buffer.extend_from_slice(chunk);
        let mut events = Vec::new();
        let mut start = 0;
        while let Some(end) = self.buffer[start..].iter().position(|&b| b == b'\n') {
            let line = &self.buffer[start..start + end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let line = std::str::from_utf8(line)
                .map_err(|_| HttpError::Malformed("a stream line is not UTF-8".into()))?
                .to_string();
            start += end + 1;
            if let Some(event) = self.line(&line)? {
                events.push(event);
            }
        }
        self.buffer.drain(..start);
        if self.buffer.len() > MAX_LINE {
            return Err(HttpError::Malformed(format!(
                "a stream line is longer than {MAX_LINE} bytes"
            )));
        }
        Ok(events)
    }

    /// Ends the stream: a last line without a newline, and an event without its blank line, are
    /// still parsed.
    pub fn finish(&mut self) -> Result<Vec<SseEvent>, HttpError> {
        let mut events = if self.buffer.is_empty() {
            Vec::new()
        } else {
            self.push(b"\n")?
        };
        if let Some(event) = self.dispatch() {
            events.push(event);
        }
        Ok(events)
    }

    fn line(&mut self, line: &str) -> Result<Option<SseEvent>, HttpError> {
        if line.is_empty() {
            return Ok(self.dispatch());
        }
        if line.starts_with(':') {
            return Ok(None);
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = Some(value.to_string()),
            "data" => match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_string()),
            },
            "id" | "retry" => {}
            _ => {
                return Err(HttpError::Malformed(format!(
                    "unexpected line in the event stream: `{}`",
                    shorten(line, 200)
                )));
            }
        }
        Ok(None)
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = self.event.take();
        let data = self.data.take()?;
        Some(SseEvent { event, data })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(chunks: &[&str]) -> Result<Vec<SseEvent>, HttpError> {
        let mut parser = SseParser::new();
        let mut out = Vec::new();
        for chunk in chunks {
            out.extend(parser.push(chunk.as_bytes())?);
        }
        out.extend(parser.finish()?);
        Ok(out)
    }

    fn ev(event: Option<&str>, data: &str) -> SseEvent {
        SseEvent {
            event: event.map(str::to_string),
            data: data.to_string(),
        }
    }

    #[test]
    fn events_split_across_chunks() {
        let got = all(&[
            "event: message_start\nda",
            "ta: {\"a\":1}\n\n: keep-alive\n\ndata: x\r\n",
            "data: y\r\n\r\ndata: [DONE]\n\n",
        ])
        .unwrap();
        assert_eq!(
            got,
            vec![
                ev(Some("message_start"), "{\"a\":1}"),
                ev(None, "x\ny"),
                ev(None, "[DONE]")
            ]
        );
    }

    #[test]
    fn a_last_event_without_blank_line_is_kept() {
        assert_eq!(all(&["data: tail"]).unwrap(), vec![ev(None, "tail")]);
        assert_eq!(all(&["event: ping\n\n"]).unwrap(), vec![]);
    }

    #[test]
    fn garbage_lines_are_errors_not_panics() {
        let err = all(&["data: ok\n\nthis is not sse\n\n"]).unwrap_err();
        assert!(err.to_string().contains("this is not sse"), "{err}");
        assert!(err.is_retryable());
        assert!(all(&["data: \u{0}\n\n"]).is_ok());
        let mut parser = SseParser::new();
        assert!(
            parser
                .push(&[b'd', b'a', b't', b'a', b':', 0xff, b'\n'])
                .is_err()
        );
    }
}
