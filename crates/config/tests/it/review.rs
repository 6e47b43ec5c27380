//! `[review]` beyond enabled and cross-family: checklists, per-path checklists, extra reviewers;
//! and `engine.stall_after`.

use std::time::Duration;

use gaffer_config::{ExtraReviewer, default_settings};

use crate::{parse, parse_err};

const CREW: &str = r#"
[agents.writer]
backend = "scripted"
script = "s.toml"
[agents.critic]
backend = "scripted"
script = "s.toml"
[agents.guard]
backend = "scripted"
script = "s.toml"
[roles]
coder = ["writer"]
reviewer = ["critic"]
"#;

#[test]
fn checklists_and_extra_reviewers_resolve() {
    let settings = parse(&format!(
        r#"{CREW}
[review]
checklist = ["tests for new code", " no debug prints "]
[[review.paths]]
glob = "migrations/**"
checklist = ["reversible"]
[[review.paths]]
glob = "**/*.sql"
checklist = ["reversible", "indexes named"]
[[review.extra]]
agent = "guard"
focus = "security"
"#
    ));
    let review = &settings.review;
    assert_eq!(review.checklist, ["tests for new code", "no debug prints"]);
    assert_eq!(review.paths.len(), 2);
    assert_eq!(
        review.extra,
        [ExtraReviewer {
            agent: "guard".into(),
            focus: "security".into()
        }]
    );
    assert_eq!(
        review.checklist_for(&["src/lib.rs".into()]),
        ["tests for new code", "no debug prints"]
    );
    assert_eq!(
        review.checklist_for(&["migrations/001.sql".into()]),
        [
            "tests for new code",
            "no debug prints",
            "reversible",
            "indexes named"
        ]
    );
}

#[test]
fn review_defaults_are_empty_and_stall_after_is_ten_minutes() {
    let settings = default_settings();
    assert!(settings.review.checklist.is_empty());
    assert!(settings.review.paths.is_empty() && settings.review.extra.is_empty());
    assert_eq!(settings.engine.stall_after, Duration::from_secs(600));
    let settings = parse("[engine]\nstall_after = \"90s\"\n");
    assert_eq!(settings.engine.stall_after, Duration::from_secs(90));
}

#[test]
fn bad_review_keys_are_errors_with_their_line() {
    let cases = [
        (
            "[review]\nchecklist = [\"ok\", \"  \"]\n",
            "review.checklist has an empty item",
        ),
        (
            "[[review.paths]]\nglob = \"a/[\"\nchecklist = [\"x\"]\n",
            "review.paths[0].glob = \"a/[\" is not a valid glob",
        ),
        (
            "[[review.paths]]\nglob = \"a/**\"\nchecklist = []\n",
            "review.paths[0].checklist is empty",
        ),
        (
            "[[review.extra]]\nagent = \"gaurd\"\nfocus = \"security\"\n",
            "review.extra[0].agent names `gaurd`, which is not an agent",
        ),
        (
            "[[review.extra]]\nagent = \"guard\"\nfocus = \" \"\n",
            "review.extra[0].focus is empty",
        ),
        (
            "[[review.extra]]\nagent = \"guard\"\nfocus = \"security\"\nsevere = true\n",
            "severe",
        ),
    ];
    for (tail, want) in cases {
        let text = format!("{CREW}{tail}");
        let error = parse_err(&text).to_string();
        assert!(error.contains(want), "{tail}\n→ {error}");
        assert!(error.contains("gaffer.toml:"), "no line in: {error}");
    }
    let error = parse_err("[engine]\nstall_after = \"0s\"\n").to_string();
    assert!(error.contains("engine.stall_after"), "{error}");
}

#[test]
fn extra_reviewers_need_review() {
    let text = format!(
        "{CREW}[review]\nenabled = false\n[[review.extra]]\nagent = \"guard\"\nfocus = \"security\"\n"
    );
    let error = parse_err(&text).to_string();
    assert!(error.contains("review is off"), "{error}");
    assert!(error.contains("hint:"), "{error}");
}
