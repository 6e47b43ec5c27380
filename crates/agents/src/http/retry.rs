//! Trying a model request again: exponential backoff with jitter, `retry-after`, and pausing the
//! provider on 429.

use crate::http::error::HttpError;
use crate::http::gate::ProviderGate;
use reqwest::header::HeaderMap;
use std::time::{Duration, SystemTime};

/// The longest `retry-after` honoured; a provider asking for more is retried after this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

/// How often and how patiently a failed request is sent again.
///
/// Retried: HTTP 408, 409, 429 and 5xx, connection errors, timeouts and malformed streams. The
/// delay before retry `n` (0-based) is `base_delay * 2^n`, capped at `max_delay`, of which a
/// random half is kept (jitter), unless the provider's `retry-after` says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0: never retry).
    pub max_retries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 4 retries, 1 s doubling up to 30 s.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The delay before retry number `retry` (0 for the first retry). A `retry_after` from the
    /// provider wins (up to [`MAX_RETRY_AFTER`]).
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(after) = retry_after {
            return after.min(MAX_RETRY_AFTER);
        }
        let factor = 2u32.saturating_pow(retry.min(31));
        let full = self.base_delay.saturating_mul(factor).min(self.max_delay);
        let half = full / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

/// Runs `attempt` until it succeeds, fails for good, or the retries are used up.
///
/// Before every attempt the provider's gate is waited for; `notify` is told when that makes the
/// run wait, and before every retry. A 429 pauses the gate for the retry delay, so other runs on
/// the same provider hold back too. The last error is returned when retries run out.
pub async fn with_retries<T, A, AF, N, NF>(
    policy: &RetryPolicy,
    gate: &ProviderGate,
    mut attempt: A,
    mut notify: N,
) -> Result<T, HttpError>
where
    A: FnMut() -> AF,
    AF: Future<Output = Result<T, HttpError>>,
    N: FnMut(String) -> NF,
    NF: Future<Output = ()>,
{
    let mut retry = 0;
    loop {
        if let Some(paused) = gate.remaining() {
            notify(format!(
                "the provider is rate-limiting; waiting {:.1}s before the next request",
                paused.as_secs_f64()
            ))
            .await;
            gate.wait().await;
        }
        let error = match attempt().await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        if !error.is_retryable() || retry >= policy.max_retries {
            return Err(error);
        }
        let delay = policy.delay(retry, error.retry_after());
        retry += 1;
        if error.is_rate_limit() {
            gate.pause_for(delay);
        }
        notify(format!(
            "{error}; retrying in {:.1}s (retry {retry} of {})",
            delay.as_secs_f64(),
            policy.max_retries
        ))
        .await;
        if !error.is_rate_limit() {
            tokio::time::sleep(delay).await;
        }
    }
}

/// The delay asked for by `retry-after-ms` (milliseconds) or `retry-after` (seconds or an
/// HTTP date).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = text("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        return positive_secs(ms / 1000.0);
    }
    let value = text("retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return positive_secs(secs);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

fn positive_secs(secs: f64) -> Option<Duration> {
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e6)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn policy(ms: u64) -> RetryPolicy {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(ms),
            max_delay: Duration::from_millis(ms * 4),
        }
    }

    #[test]
    fn delays_grow_are_capped_and_jittered() {
        let p = policy(100);
        for _ in 0..50 {
            let d0 = p.delay(0, None);
            assert!(d0 >= Duration::from_millis(50) && d0 <= Duration::from_millis(100));
            let d2 = p.delay(2, None);
            assert!(d2 >= Duration::from_millis(200) && d2 <= Duration::from_millis(400));
            let d9 = p.delay(9, None);
            assert!(d9 <= Duration::from_millis(400), "capped");
        }
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(99_999))),
            MAX_RETRY_AFTER
        );
        assert!(p.delay(u32::MAX, None) <= p.max_delay);
    }

    #[test]
    fn retry_after_headers() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(250)));
        let mut h = HeaderMap::new();
        let soon = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        h.insert("retry-after", HeaderValue::from_str(&soon).unwrap());
        let d = retry_after(&h).unwrap();
        assert!(
            d > Duration::from_secs(25) && d <= Duration::from_secs(30),
            "{d:?}"
        );
        h.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    fn status(code: u16, after_ms: Option<u64>) -> HttpError {
        HttpError::Status {
            status: code,
            message: "m".into(),
            retry_after: after_ms.map(Duration::from_millis),
        }
    }

    #[tokio::test]
    async fn retries_until_success_and_a_429_pauses_the_gate() {
        let gate = ProviderGate::new();
        let calls = AtomicU32::new(0);
        let mut notes = Vec::new();
        let result = with_retries(
            &policy(1),
            &gate,
            || {
                let call = calls.fetch_add(1, Ordering::SeqCst);
                async move {
                    match call {
                        0 => Err(status(429, Some(80))),
                        1 => Err(status(503, None)),
                        _ => Ok("done"),
                    }
                }
            },
            |note| {
                notes.push(note);
                async {}
            },
        )
        .await;
        assert_eq!(result, Ok("done"));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert!(notes.iter().any(|n| n.contains("HTTP 429")), "{notes:?}");
        assert!(
            notes.iter().any(|n| n.contains("rate-limiting")),
            "{notes:?}"
        );
    }

    #[tokio::test]
    async fn gives_up_after_max_retries_and_never_retries_a_client_error() {
        let gate = ProviderGate::new();
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = with_retries(
            &policy(1),
            &gate,
            || {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Err(status(500, None)) }
            },
            |_| async {},
        )
        .await;
        assert_eq!(result, Err(status(500, None)));
        assert_eq!(calls.load(Ordering::SeqCst), 4);

        calls.store(0, Ordering::SeqCst);
        let result: Result<(), _> = with_retries(
            &policy(1),
            &gate,
            || {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Err(status(401, None)) }
            },
            |_| async {},
        )
        .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
