//! Secrets never leave: the pure part of redaction and of refusing diffs that add a secret.
//!
//! A [`Redactor`] knows two kinds of secret:
//!
//! - **Known values**, each with a name: every agent's API key, the server token, the variables of
//!   the `[secrets]` section. A value is trimmed of surrounding whitespace; one shorter than
//!   [`MIN_SECRET_LEN`] characters is ignored, as too likely to be an ordinary word that would be
//!   redacted all over the place. A value is replaced by `[redacted: NAME]`.
//! - **Shapes** of well-known credentials, found by pattern whatever their value: OpenAI keys
//!   (`sk-…`, `sk-proj-…`), Anthropic keys (`sk-ant-…`), GitHub tokens (`ghp_`, `gho_`, `ghs_`,
//!   `ghu_`, `ghr_`, `github_pat_`), AWS access key ids (`AKIA…`, `ASIA…`, except AWS's documented
//!   `…EXAMPLE` ids) and `aws_secret_access_key = …` assignments, Slack tokens (`xox[abprs]-`) and
//!   webhook URLs, Google API keys (`AIza…`), JWTs, `Bearer <token>` and private key PEM blocks
//!   (`-----BEGIN … PRIVATE KEY-----` with the body that follows, up to its END line). A shape is
//!   replaced by `[redacted: github token]` and the like ([`shape_labels`]).
//!
//! What is caught: a known value as it is, JSON-escaped (as `serde_json` writes it, also with `\/`
//! and with non-ASCII as `\uXXXX`) and percent-encoded (upper or lower case hex), anywhere in the
//! text, overlapping another secret or not, in any surrounding text. Where secrets overlap, the
//! whole stretch they cover is one marker.
//!
//! What is not caught: a value transformed any other way (base64, hex, split across lines or
//! strings, reversed, a different case), a value shorter than [`MIN_SECRET_LEN`], credentials of
//! no known shape that gaffer was not told about (passwords in URLs, database strings), and shapes
//! whose random part has no digit where real ones always have (`sk-`, Slack, `Bearer`), which keeps
//! kebab-case words out. Redaction is a last line of defence, not a licence to print secrets.
//!
//! [`Redactor::find_added_secrets`] reads a unified `git diff` and names, by path and new-file line
//! number, each added line that holds a known value or a shape, so that such a diff can be refused.
//! Only the name of the secret is reported, never its value.
//!
//! Markers are never redacted again, so redacting twice gives what redacting once gave.

mod diff;
mod git_path;
mod known;
mod redactor;
mod shapes;
mod spans;

#[cfg(test)]
mod tests_diff;
#[cfg(test)]
mod tests_props;
#[cfg(test)]
mod tests_redact;

pub use diff::SecretHit;
pub use redactor::{Redactor, RedactorError};
pub use shapes::shape_labels;

/// Known values shorter than this many characters are ignored.
pub const MIN_SECRET_LEN: usize = 8;

/// What replaces a secret: names what it was without revealing it.
pub fn marker(label: &str) -> String {
    format!("[redacted: {label}]")
}
