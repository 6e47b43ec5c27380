//! `gaffer pull`: brings work landed on `gaffer/landed/main` into the user's checkout of `main`,
//! never over their uncommitted changes.

use crate::common::{Project, stderr_of, stdout_of};

/// Runs the task to `merged` with a daemon, then stops the daemon.
fn land(project: &Project, title: &str) -> String {
    let daemon = project.start_daemon();
    let id = project.add_task(title, &[]);
    let shown = project.wait_for_status(id, "merged");
    drop(daemon);
    let landed = shown["task"]["state"]["landed"]["commit"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(project.repo.rev_parse("gaffer/landed/main"), landed);
    landed
}

#[test]
fn pull_refuses_when_an_uncommitted_change_touches_a_landed_file() {
    let project = Project::new();
    let main_before = project.repo.rev_parse("main");
    land(&project, "Retitle the readme");

    let mine = b"# my own title, not committed\r\nwith bytes \xff that are kept\n";
    project.repo.write("README.md", mine);
    let out = project.gaffer().arg("pull").output().unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(7), "{stderr}");
    assert!(
        stderr.contains("README.md"),
        "the file is not named: {stderr}"
    );
    assert!(stderr.contains("hint:"), "{stderr}");
    assert_eq!(
        project.repo.read_bytes("README.md"),
        mine,
        "pull changed the uncommitted file"
    );
    assert_eq!(
        project.repo.rev_parse("main"),
        main_before,
        "main moved anyway"
    );

    // Staged, it is still the user's.
    project.repo.git(&["add", "README.md"]);
    let out = project.gaffer().arg("pull").output().unwrap();
    assert_eq!(out.status.code(), Some(7), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("README.md"), "{}", stderr_of(&out));
    assert_eq!(project.repo.read_bytes("README.md"), mine);
    assert_eq!(project.repo.git(&["status", "--porcelain"]), "M  README.md");
    assert_eq!(project.repo.rev_parse("main"), main_before);
}

#[test]
fn pull_refuses_to_overwrite_an_untracked_file_the_landed_work_adds() {
    let project = Project::new();
    let main_before = project.repo.rev_parse("main");
    land(&project, "Write the notes");
    let mine = b"my own notes, never committed\n";
    project.repo.write("notes.txt", mine);
    let out = project.gaffer().arg("pull").output().unwrap();
    assert_eq!(out.status.code(), Some(7), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("notes.txt"), "{}", stderr_of(&out));
    assert_eq!(project.repo.read_bytes("notes.txt"), mine);
    assert_eq!(project.repo.rev_parse("main"), main_before);
}

#[test]
fn pull_brings_landed_work_in_and_keeps_unrelated_changes() {
    let project = Project::new();
    let landed = land(&project, "Write the notes");

    let dirty = b"unrelated, changed but not committed\n";
    let untracked = b"scratch \x00 binary\n";
    project.repo.write("other.txt", dirty);
    project.repo.write("scratch.bin", untracked);
    let out = project.gaffer().arg("pull").output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("fast-forwarded main"),
        "{}",
        stdout_of(&out)
    );

    assert_eq!(project.repo.rev_parse("main"), landed);
    assert_eq!(project.repo.read("notes.txt"), "landed notes\n");
    assert_eq!(project.repo.read_bytes("other.txt"), dirty);
    assert_eq!(project.repo.read_bytes("scratch.bin"), untracked);
    let status = project.repo.git(&["status", "--porcelain"]);
    assert_eq!(status, " M other.txt\n?? scratch.bin", "{status}");

    let out = project.gaffer().arg("pull").output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("up to date"),
        "{}",
        stdout_of(&out)
    );
}

#[test]
fn pull_merges_when_main_moved_on_locally() {
    let project = Project::new();
    let landed = land(&project, "Write the notes");
    project.repo.write("mine.txt", "committed by the user\n");
    let mine = project.repo.commit_all("the user's own commit");

    let out = project.gaffer().arg("pull").output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("merged landed work into main"),
        "{}",
        stdout_of(&out)
    );
    let parents = project
        .repo
        .git(&["rev-list", "--parents", "-n", "1", "main"]);
    assert_eq!(
        parents.split(' ').skip(1).collect::<Vec<_>>(),
        vec![mine.as_str(), landed.as_str()]
    );
    assert_eq!(project.repo.read("notes.txt"), "landed notes\n");
    assert_eq!(project.repo.git(&["status", "--porcelain"]), "");
}

#[test]
fn pull_with_nothing_landed_says_so() {
    let project = Project::new();
    let out = project.gaffer().arg("pull").output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("nothing has landed yet"),
        "{}",
        stdout_of(&out)
    );
}
