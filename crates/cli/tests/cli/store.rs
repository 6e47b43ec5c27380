//! `gaffer store`: a SQLite board copied to PostgreSQL without loss, the daemon carrying on
//! there; `migrate` on both stores; the refusals that protect a board.

use crate::common::{Project, stderr_of, stdout_of};
use gaffer_test_support::postgres;
use serde_json::Value;

/// A bare remote named `origin` with the project's main, and `project.remote` set.
pub(crate) fn with_remote(project: &Project) -> tempfile::TempDir {
    let remote = tempfile::tempdir().unwrap();
    let bare = remote.path().join("origin.git");
    project
        .repo
        .git(&["init", "-q", "--bare", bare.to_str().unwrap()]);
    project
        .repo
        .git(&["remote", "add", "origin", bare.to_str().unwrap()]);
    let toml = project.repo.read("gaffer.toml");
    project.repo.write(
        "gaffer.toml",
        toml.replace(
            "target = \"main\"",
            "target = \"main\"\nremote = \"origin\"",
        ),
    );
    project.repo.commit_all("the remote");
    project.repo.git(&["push", "-q", "origin", "main"]);
    remote
}

fn tasks(project: &Project) -> Vec<(i64, String, String)> {
    let listed = project.json(&["task", "list", "--json"]);
    let mut out: Vec<(i64, String, String)> = listed
        .as_array()
        .unwrap_or_else(|| listed["tasks"].as_array().unwrap())
        .iter()
        .map(|t| {
            (
                t["id"].as_i64().unwrap(),
                t["title"].as_str().unwrap().to_string(),
                t["state"]["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_sqlite_board_moves_to_postgres_and_the_daemon_carries_on_there() {
    let Some(server) = postgres::server() else {
        return;
    };
    let mut project = Project::new();
    let _remote = with_remote(&project);
    let notes = project.add_task("notes", &[]);
    {
        let _daemon = project.start_daemon();
        project.wait_for_status(notes, "merged");
    }
    let readme = project.add_task("readme", &[]);
    let before = tasks(&project);
    let usage_before: Value = project.json(&["usage", "--json"])["total"].clone();
    let events_before = project.show(notes)["events"].as_array().unwrap().len();

    let url = server.fresh_database();
    let out = project
        .gaffer()
        .args(["store", "copy", "--to", &url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        stdout_of(&out),
        stderr_of(&out)
    );
    let said = stdout_of(&out);
    assert!(said.contains("2 task(s)"), "{said}");

    // The same board, read through PostgreSQL.
    project.env.push(("GAFFER_STORE__URL".into(), url.clone()));
    assert_eq!(tasks(&project), before);
    assert_eq!(project.json(&["usage", "--json"])["total"], usage_before);
    assert_eq!(
        project.show(notes)["events"].as_array().unwrap().len(),
        events_before
    );

    // Copying twice would mix two boards: refused, nothing written.
    let again = project
        .gaffer()
        .args(["store", "copy", "--to", &url])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(5), "{}", stderr_of(&again));
    assert!(
        stderr_of(&again).contains("already holds a board"),
        "{}",
        stderr_of(&again)
    );
    assert_eq!(tasks(&project), before);

    // The daemon carries on on PostgreSQL: the waiting task merges, a new one too.
    let daemon = project.start_daemon();
    project.wait_for_status(readme, "merged");
    let third = project.add_task("leisurely", &[]);
    assert!(third > readme, "ids continue after the copied ones");
    project.wait_for_status(third, "merged");
    drop(daemon);

    // migrate: nothing to do on a board this build wrote.
    let out = project
        .gaffer()
        .args(["store", "migrate"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("nothing to do"),
        "{}",
        stdout_of(&out)
    );
    assert!(!stdout_of(&out).contains("password"));
}

#[test]
fn store_copy_refuses_without_a_remote_a_running_daemon_or_a_bad_url() {
    let project = Project::new();
    project.add_task("notes", &[]);
    let out = project
        .gaffer()
        .args(["store", "copy", "--to", "mysql://root:pw@db/x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(!stderr_of(&out).contains(":pw@"), "{}", stderr_of(&out));

    let out = project
        .gaffer()
        .args([
            "store",
            "copy",
            "--to",
            "postgres://gaffer@127.0.0.1:1/board",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("project.remote"),
        "{}",
        stderr_of(&out)
    );

    let _remote = with_remote(&project);
    let daemon = project.start_daemon();
    let out = project
        .gaffer()
        .args([
            "store",
            "copy",
            "--to",
            "postgres://gaffer@127.0.0.1:1/board",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", stderr_of(&out));
    drop(daemon);

    // No server there: a clear error naming the server (never a password), exit 3.
    let out = project
        .gaffer()
        .args([
            "store",
            "copy",
            "--to",
            "postgres://gaffer:s3cret@127.0.0.1:1/board",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    assert!(!stderr_of(&out).contains("s3cret"), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("127.0.0.1:1"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn store_migrate_on_the_embedded_board_names_its_file() {
    let project = Project::new();
    let out = project
        .gaffer()
        .args(["store", "migrate"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("board.db") || stdout_of(&out).contains(".db"),
        "{}",
        stdout_of(&out)
    );
}
