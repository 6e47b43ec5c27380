#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Worker tokens on a board: made with a secret shown once and kept only as its hash, found by
//! that secret until revoked, said on the board without the secret.

use gaffer_core::Seq;
use gaffer_engine::{Board, BoardOptions, EngineError, WORKER_TOKEN_PREFIX, worker_token_hash};
use gaffer_store::EventFilter;
use gaffer_test_support::TestRepo;

fn board(repo: &TestRepo) -> Board {
    Board::open(
        repo.path(),
        gaffer_config::default_settings(),
        BoardOptions {
            git_env: repo.env(),
            ..BoardOptions::default()
        },
    )
    .unwrap()
}

fn labels(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

#[test]
fn a_token_is_made_found_by_its_secret_and_revoked() {
    let repo = TestRepo::new();
    let board = board(&repo);
    let (token, secret) = board
        .create_worker_token("", &labels(&["linux", "gpu"]))
        .unwrap();
    let hex = secret.strip_prefix(WORKER_TOKEN_PREFIX).unwrap();
    assert_eq!(hex.len(), 64);
    assert!(
        hex.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_eq!(token.name, "worker-gpu-linux", "named after its labels");
    assert_eq!(token.labels, labels(&["gpu", "linux"]));
    assert_eq!(token.project, board.project().id);

    let (other, other_secret) = board.create_worker_token("laptop", &[]).unwrap();
    assert_ne!(secret, other_secret, "every secret is fresh");
    assert_eq!(board.worker_tokens().unwrap().len(), 2);

    let found = board.worker_by_token(&secret).unwrap().unwrap();
    assert_eq!(found.id, token.id);
    assert!(found.last_used_ms.is_some(), "its use is recorded");
    assert!(board.worker_by_token(hex).unwrap().is_none(), "no prefix");
    assert!(
        board
            .worker_by_token(&format!("{WORKER_TOKEN_PREFIX}{}", "0".repeat(64)))
            .unwrap()
            .is_none()
    );
    assert!(board.worker_by_token("").unwrap().is_none());

    assert!(board.revoke_worker_token(token.id).unwrap());
    assert!(!board.revoke_worker_token(token.id).unwrap(), "once");
    assert!(matches!(
        board.revoke_worker_token(999),
        Err(EngineError::NotFound(_))
    ));
    assert!(board.worker_by_token(&secret).unwrap().is_none());
    assert_eq!(
        board.worker_by_token(&other_secret).unwrap().unwrap().id,
        other.id
    );
    let listed = board.worker_tokens().unwrap();
    assert!(listed[0].revoked_ms.is_some() && listed[1].revoked_ms.is_none());

    let events = board
        .store()
        .events_after(
            Seq(0),
            100,
            &EventFilter {
                kind_prefix: Some("worker_token.".into()),
                ..EventFilter::default()
            },
        )
        .unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "worker_token.created",
            "worker_token.created",
            "worker_token.revoked"
        ]
    );
    assert_eq!(events[0].project, Some(board.project().id));
    assert_eq!(events[0].data["name"], "worker-gpu-linux");
}

#[test]
fn the_secret_is_stored_nowhere_only_its_hash() {
    let repo = TestRepo::new();
    let board = board(&repo);
    let (_, secret) = board.create_worker_token("box", &labels(&["gpu"])).unwrap();
    board.worker_by_token(&secret).unwrap();

    let rows = board.store().export_rows().unwrap();
    assert_eq!(rows.worker_tokens[0].hash, worker_token_hash(&secret));
    let log = board
        .store()
        .events_after(Seq(0), 1000, &EventFilter::default())
        .unwrap();
    let hex = &secret[WORKER_TOKEN_PREFIX.len()..];
    assert!(!serde_json::to_string(&log).unwrap().contains(hex));
    assert!(!serde_json::to_string(&rows).unwrap().contains(hex));
    // Nor in the database's files, the write-ahead log included.
    let dir = board.paths().database();
    let dir = dir.parent().unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes.windows(hex.len()).any(|w| w == hex.as_bytes()),
                "{} holds the secret",
                path.display()
            );
        }
    }
}

#[test]
fn bad_labels_and_names_are_refused_with_a_hint() {
    let repo = TestRepo::new();
    let board = board(&repo);
    for (name, bad) in [
        ("w", labels(&["two words"])),
        ("w", labels(&[""])),
        ("w", labels(&["a,b"])),
        ("two\nlines", labels(&[])),
    ] {
        match board.create_worker_token(name, &bad) {
            Err(EngineError::InvalidInput { message, hint }) => {
                assert!(!message.is_empty() && !hint.is_empty());
            }
            other => panic!("{name:?} {bad:?}: {other:?}"),
        }
    }
    assert!(board.worker_tokens().unwrap().is_empty());
}
