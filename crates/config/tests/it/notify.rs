//! `[notify]`: webhooks and command hooks, with their defaults and the errors of a bad value.

use std::time::Duration;

use gaffer_config::{NotifyEvent, WebhookKind, default_settings};

use crate::{parse, parse_err};

#[test]
fn nothing_is_notified_by_default() {
    let notify = default_settings().notify;
    assert!(!notify.is_enabled());
    assert_eq!(notify.batch, Duration::from_secs(5));
    assert_eq!(parse("").notify, notify);
}

#[test]
fn a_webhook_gets_the_default_events_and_kind() {
    let settings = parse(
        "[notify]\nbatch = \"250ms\"\n\n[[notify.webhook]]\nurl = \"http://127.0.0.1:9/hook\"\n\n\
         [[notify.command]]\ncommand = \"cat > batch.json\"\n",
    );
    let notify = settings.notify;
    assert!(notify.is_enabled());
    assert_eq!(notify.batch, Duration::from_millis(250));
    assert_eq!(notify.webhooks[0].url, "http://127.0.0.1:9/hook");
    assert_eq!(notify.webhooks[0].kind, WebhookKind::Json);
    assert_eq!(notify.webhooks[0].events, NotifyEvent::DEFAULT);
    assert_eq!(notify.webhooks[0].token_env, None);
    assert_eq!(notify.commands[0].events, NotifyEvent::DEFAULT);
    assert_eq!(notify.commands[0].timeout, Duration::from_secs(60));
}

#[test]
fn zero_batch_sends_at_once() {
    let settings = parse("[notify]\nbatch = \"0s\"\n");
    assert_eq!(settings.notify.batch, Duration::ZERO);
}

#[test]
fn bad_values_name_their_line_and_key() {
    let cases = [
        (
            "[[notify.webhook]]\nurl = \"ntfy.sh/topic\"\n",
            "gaffer.toml:2: notify.webhook.url = \"ntfy.sh/topic\" is not an http(s) URL with a host",
        ),
        (
            "[[notify.webhook]]\nurl = \"https://x.test\"\nkind = \"discord\"\n",
            "gaffer.toml:3: notify.webhook.kind = \"discord\" is not a kind of webhook",
        ),
        (
            "[[notify.webhook]]\nurl = \"https://x.test\"\nevents = [\"merged\", \"landed\"]\n",
            "gaffer.toml:3: notify.webhook.events: \"landed\" is not an event gaffer notifies",
        ),
        (
            "[[notify.command]]\ncommand = \"x\"\nevents = []\n",
            "gaffer.toml:3: notify.command.events is empty",
        ),
        (
            "[[notify.command]]\ncommand = \" \"\n",
            "gaffer.toml:2: notify.command.command is empty",
        ),
        (
            "[notify]\nbatch = \"soon\"\n",
            "gaffer.toml:2: notify.batch = \"soon\" is not a duration",
        ),
        (
            "[[notify.webhook]]\nurl = \"https://x.test\"\nheaders = {}\n",
            "headers",
        ),
    ];
    for (text, expected) in cases {
        let message = parse_err(text).to_string();
        assert!(
            message.contains(expected),
            "for\n{text}\nexpected `{expected}` in:\n{message}"
        );
    }
}

#[test]
fn repeated_events_count_once() {
    let settings = parse(
        "[[notify.webhook]]\nurl = \"https://x.test\"\nevents = [\"*\", \"failed\", \"*\"]\n",
    );
    assert_eq!(
        settings.notify.webhooks[0].events,
        [NotifyEvent::Any, NotifyEvent::Failed]
    );
}
