//! Examples of redaction: known values, shapes, encodings, JSON, and what must be left alone.

use std::borrow::Cow;

use serde_json::json;

use super::{Redactor, shape_labels, shapes};

const OPENAI: &str = "sk-proj-Zq3xV9kLm2Pw8RtY6uB1nC4dE7fG0hJ5";

fn redactor() -> Redactor {
    Redactor::new([
        ("OPENAI_API_KEY", OPENAI),
        ("SERVER_TOKEN", "tok_9f8e7d6c5b4a"),
    ])
    .expect("builds")
}

fn shapes_only() -> Redactor {
    Redactor::new(Vec::<(String, String)>::new()).expect("builds")
}

#[test]
fn shapes_compile() {
    shapes::regex().expect("every shape pattern compiles");
}

#[test]
fn a_known_value_is_replaced_by_its_name() {
    let r = redactor();
    assert_eq!(
        r.redact("key=tok_9f8e7d6c5b4a; again tok_9f8e7d6c5b4a."),
        "key=[redacted: SERVER_TOKEN]; again [redacted: SERVER_TOKEN]."
    );
    // A known value that also has a shape is named after the known secret.
    assert_eq!(
        r.redact(&format!("export K={OPENAI}\n")),
        "export K=[redacted: OPENAI_API_KEY]\n"
    );
}

#[test]
fn text_without_secrets_is_borrowed() {
    let text = "nothing to see here: skeleton, task-runner, ask-for-help";
    assert!(matches!(redactor().redact(text), Cow::Borrowed(t) if t == text));
}

#[test]
fn short_values_are_ignored_and_values_trimmed() {
    let r = Redactor::new([("PIN", "1234567"), ("TOKEN", "  abcdefgh12\n")]).expect("builds");
    assert_eq!(
        r.redact("pin 1234567 token abcdefgh12"),
        "pin 1234567 token [redacted: TOKEN]"
    );
    assert!(
        Redactor::new([("PIN", "1234567")])
            .expect("builds")
            .is_empty()
    );
}

#[test]
fn each_shape_is_caught_with_its_label() {
    let cases = [
        (
            "sk-Ab3dEf6hIj9lMn2pQr5tUv8xYz1aBc4dEf7hIj0lMn3p",
            "openai key",
        ),
        ("sk-proj-abcDEF123_ghiJKL456-mnoPQR789stu", "openai key"),
        (
            "sk-ant-api03-abcDEF123ghiJKL456mnoPQR789-xyz",
            "anthropic key",
        ),
        ("ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "github token"),
        ("gho_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "github token"),
        ("ghs_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "github token"),
        ("ghu_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "github token"),
        (
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
            "github token",
        ),
        ("AKIAZ7QW3ERT5YUI9OPA", "aws access key id"),
        ("ASIAZ7QW3ERT5YUI9OPA", "aws access key id"),
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "aws secret key",
        ),
        (
            "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
            "slack token",
        ),
        (
            "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "slack webhook",
        ),
        ("AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", "google api key"),
        ("Bearer 4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c", "bearer token"),
        (
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "jwt",
        ),
    ];
    let r = shapes_only();
    for (secret, label) in cases {
        let text = format!("before {secret} after");
        assert_eq!(
            r.redact(&text),
            format!("before [redacted: {label}] after"),
            "{secret}"
        );
    }
}

#[test]
fn a_private_key_block_is_redacted_whole() {
    let block = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2Bpvbw\nq+/w9W==\n-----END RSA PRIVATE KEY-----";
    let r = shapes_only();
    assert_eq!(
        r.redact(&format!("key:\n{block}\nnext line")),
        "key:\n[redacted: private key]\nnext line"
    );
    let escaped = block.replace('\n', "\\n");
    assert_eq!(
        r.redact(&format!("{{\"k\":\"{escaped}\",\"x\":1}}")),
        "{\"k\":\"[redacted: private key]\",\"x\":1}"
    );
    // A header alone (truncated output, code that looks for it) is still redacted.
    assert_eq!(
        r.redact("if l == \"-----BEGIN OPENSSH PRIVATE KEY-----\" {"),
        "if l == \"[redacted: private key]\" {"
    );
}

#[test]
fn ordinary_text_is_left_alone() {
    let r = shapes_only();
    for text in [
        "commit 3b18e512dba79e4c8300dd08aeb37f8e728b8dad",
        "id 123e4567-e89b-12d3-a456-426614174000",
        "skeleton task-runner-configuration-value-for-testing ask-9-more-questions-later-on",
        "mask-4a8b2c9d1e7f3a5b6c8d9e0f1a2b3c4d",
        "sk-this-is-a-long-kebab-case-identifier",
        "Authorization: Bearer ${TOKEN} or Bearer <token> or bearer authentication_required_here",
        "AKIAIOSFODNN7EXAMPLE is AWS's own example",
        "xoxb-not-a-real-token-at-all",
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----",
        "naïve café 日本語 🚀 ghp_short",
    ] {
        assert!(matches!(r.redact(text), Cow::Borrowed(_)), "{text}");
    }
}

#[test]
fn json_escaped_and_url_encoded_values_are_caught() {
    let r = Redactor::new([("DB_PASSWORD", "p@ss/w\"ord-é12")]).expect("builds");
    for (text, expected) in [
        (
            r#"{"pw":"p@ss/w\"ord-é12"}"#,
            r#"{"pw":"[redacted: DB_PASSWORD]"}"#,
        ),
        (
            r#"{"pw":"p@ss\/w\"ord-\u00e912"}"#,
            r#"{"pw":"[redacted: DB_PASSWORD]"}"#,
        ),
        (
            "?pw=p%40ss%2Fw%22ord-%C3%A912&x",
            "?pw=[redacted: DB_PASSWORD]&x",
        ),
        (
            "?pw=p%40ss%2fw%22ord-%c3%a912&x",
            "?pw=[redacted: DB_PASSWORD]&x",
        ),
    ] {
        assert_eq!(r.redact(text), expected);
    }
}

#[test]
fn base64_or_other_case_of_a_value_is_not_caught() {
    // Documented limits: only the forms in `known::forms` are looked for.
    let r = Redactor::new([("K", "abcdefgh12")]).expect("builds");
    assert!(matches!(
        r.redact("YWJjZGVmZ2gxMg== ABCDEFGH12"),
        Cow::Borrowed(_)
    ));
}

#[test]
fn overlapping_values_are_redacted_as_one_stretch() {
    let r = Redactor::new([("A", "abcdefgh12"), ("B", "gh12345678")]).expect("builds");
    assert_eq!(r.redact("x abcdefgh12345678 y"), "x [redacted: A] y");
}

#[test]
fn redaction_is_idempotent_even_for_a_value_inside_a_marker() {
    let r = Redactor::new([("API_KEY_NAME", "KEY_NAME]")]).expect("builds");
    let once = r.redact("x KEY_NAME] y").into_owned();
    assert_eq!(once, "x [redacted: API_KEY_NAME] y");
    assert!(matches!(r.redact(&once), Cow::Borrowed(_)));
}

#[test]
fn redact_json_walks_strings_and_keys() {
    let r = redactor();
    let mut value = json!({
        "event": "run.output",
        "lines": ["ok", "token tok_9f8e7d6c5b4a", {"nested": OPENAI}],
        "tok_9f8e7d6c5b4a": 3,
        "n": 1, "b": true, "z": null
    });
    r.redact_json(&mut value);
    assert_eq!(
        value,
        json!({
            "event": "run.output",
            "lines": ["ok", "token [redacted: SERVER_TOKEN]", {"nested": "[redacted: OPENAI_API_KEY]"}],
            "[redacted: SERVER_TOKEN]": 3,
            "n": 1, "b": true, "z": null
        })
    );
}

#[test]
fn with_value_adds_a_secret_and_leaves_the_original_alone() {
    let base = shapes_only();
    assert!(base.is_empty());
    let more = base
        .with_value("SERVER TOKEN", "srv-0123456789")
        .expect("builds");
    assert!(!more.is_empty());
    assert_eq!(
        more.redact("t=srv-0123456789"),
        "t=[redacted: SERVER TOKEN]"
    );
    assert!(matches!(base.redact("t=srv-0123456789"), Cow::Borrowed(_)));
    let shared = more.clone();
    assert_eq!(shared.names().collect::<Vec<_>>(), vec!["SERVER TOKEN"]);
}

#[test]
fn names_are_made_fit_for_a_marker() {
    let r = Redactor::new([("bad]name\n", "abcdefgh12"), ("", "ijklmnop34")]).expect("builds");
    assert_eq!(
        r.redact("abcdefgh12 ijklmnop34"),
        "[redacted: bad_name] [redacted: secret]"
    );
}

#[test]
fn debug_never_shows_a_value() {
    let shown = format!("{:?}", redactor());
    assert!(shown.contains("OPENAI_API_KEY"), "{shown}");
    assert!(
        !shown.contains(OPENAI) && !shown.contains("tok_9f8e"),
        "{shown}"
    );
}

#[test]
fn shape_labels_are_listed() {
    let labels: Vec<_> = shape_labels().collect();
    assert!(labels.contains(&"github token") && labels.contains(&"private key"));
}

#[test]
fn a_redactor_can_be_shared_across_threads() {
    fn shareable<T: Send + Sync + Clone>() {}
    shareable::<Redactor>();
}
