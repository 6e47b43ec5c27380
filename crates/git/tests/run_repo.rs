//! Run repositories without a sandbox: git pointed at the run repository (`GIT_DIR`) as the
//! run's gitfile points it inside one. What a run does there reaches the main repository only
//! through `bring_back`, and only on the task branch.

#![allow(clippy::unwrap_used)]

mod run_repo_support;

use gaffer_git::{BranchChange, IgnoredRef, RunRepo, RunRepoError, commit_all, head_of};
use run_repo_support::{AGENT, BRANCH, OTHER, Task, exists, oid};

#[test]
fn commits_land_on_the_task_branch_and_no_other_ref_moves() {
    let task = Task::new();
    let gitfile = task.gitfile();
    let run = task.prepare();

    task.write("agent.txt", "committed by the agent\n");
    task.run_git(&run, &["add", "agent.txt"]);
    task.run_git(&run, &["commit", "-q", "-m", "agent work"]);
    let agent = oid(&task.run_git(&run, &["rev-parse", "HEAD"]));
    // Everything a run could do to refs, in its own repository.
    task.run_git(&run, &["update-ref", "refs/heads/main", agent.as_str()]);
    task.run_git(&run, &["branch", "-f", OTHER, agent.as_str()]);
    task.run_git(&run, &["branch", "side"]);
    task.run_git(&run, &["tag", "v1"]);
    task.write("left.txt", "left uncommitted\n");
    let refs_before = task.all_refs();

    let back = run.bring_back().unwrap();
    let moved = BranchChange::Moved {
        from: task.start.clone(),
        to: agent.clone(),
        fast_forward: true,
    };
    assert_eq!(back.branch, moved);
    let created = |name: &str| IgnoredRef {
        name: name.to_owned(),
        before: None,
        after: Some(agent.clone()),
    };
    let main_moved = IgnoredRef {
        name: "refs/heads/main".to_owned(),
        before: Some(task.start.clone()),
        after: Some(agent.clone()),
    };
    assert_eq!(
        back.ignored,
        [
            created("refs/heads/gaffer/t2"),
            main_moved,
            created("refs/heads/side"),
            created("refs/tags/v1")
        ]
    );

    // Only the task branch moved in the main repository.
    assert_eq!(task.main(), task.start);
    assert_eq!(
        task.main_ref(&format!("refs/heads/{OTHER}")),
        Some(task.other.clone())
    );
    assert_eq!(task.main_ref("refs/heads/side"), None);
    assert_eq!(task.main_ref("refs/tags/v1"), None);
    assert_eq!(task.branch_tip(), agent);
    let branch_line = |tip: &str| format!("{tip} refs/heads/{BRANCH}");
    assert_eq!(
        task.all_refs(),
        refs_before.replace(
            &branch_line(task.start.as_str()),
            &branch_line(agent.as_str())
        )
    );
    assert_eq!(task.gitfile(), gitfile, "the worktree's .git was touched");

    // The worktree follows the branch; its stale index is what `add -A` fixes.
    assert_eq!(head_of(&task.worktree, &task.repo.env()).unwrap(), agent);
    let rest = commit_all(&task.worktree, "rest", AGENT, &task.repo.env())
        .unwrap()
        .unwrap();
    let parent = task.repo.git(&["rev-parse", &format!("{rest}^")]);
    assert_eq!(parent, agent.as_str());
    let changed = task
        .repo
        .git(&["diff", "--name-only", agent.as_str(), rest.as_str()]);
    assert_eq!(changed, "left.txt");
    let files = task
        .repo
        .git(&["ls-tree", "-r", "--name-only", rest.as_str()]);
    assert_eq!(files, "README.md\nagent.txt\nleft.txt\nsrc/lib.rs");
    assert_eq!(task.status(), "");
    // The objects are the main repository's own now.
    run.remove().unwrap();
    task.repo
        .git(&["fsck", "--connectivity-only", "--no-dangling"]);
    assert_eq!(
        task.repo.git(&["show", &format!("{agent}:agent.txt")]),
        "committed by the agent"
    );
}

#[test]
fn bring_back_can_be_repeated() {
    let task = Task::new();
    let run = task.prepare();
    task.write("a.txt", "a\n");
    task.run_git(&run, &["add", "a.txt"]);
    task.run_git(&run, &["commit", "-q", "-m", "a"]);
    let first = run.bring_back().unwrap();
    let second = run.bring_back().unwrap();
    assert_eq!(first, second);
    assert!(matches!(first.branch, BranchChange::Moved { .. }));
}

#[test]
fn bring_back_refuses_when_the_task_branch_moved_meanwhile() {
    let task = Task::new();
    let run = task.prepare();
    task.write("a.txt", "a\n");
    task.run_git(&run, &["add", "a.txt"]);
    task.run_git(&run, &["commit", "-q", "-m", "a"]);
    let tree = format!("{}^{{tree}}", task.start);
    let elsewhere =
        oid(&task
            .repo
            .git(&["commit-tree", "-p", task.start.as_str(), "-m", "x", &tree]));
    task.repo.git(&[
        "update-ref",
        &format!("refs/heads/{BRANCH}"),
        elsewhere.as_str(),
    ]);

    let err = run.bring_back().unwrap_err();
    assert!(
        matches!(&err, RunRepoError::BranchMoved { expected, actual, .. }
            if *expected == task.start && actual.as_ref() == Some(&elsewhere)),
        "{err}"
    );
    assert_eq!(task.branch_tip(), elsewhere);
}

#[test]
fn a_run_without_commits_changes_nothing() {
    let task = Task::new();
    let refs = task.all_refs();
    let run = task.prepare();
    task.write("draft.txt", "not committed\n");
    let back = run.bring_back().unwrap();
    assert_eq!(back.branch, BranchChange::Unchanged);
    assert!(back.ignored.is_empty(), "{:?}", back.ignored);
    assert_eq!(task.all_refs(), refs);
}

#[test]
fn a_rewritten_branch_is_brought_back_and_flagged() {
    let task = Task::new();
    let run = task.prepare();
    task.run_git(&run, &["reset", "-q", "--soft", "HEAD~1"]);
    task.run_git(&run, &["commit", "-q", "-m", "squashed"]);
    let tip = oid(&task.run_git(&run, &["rev-parse", "HEAD"]));
    let back = run.bring_back().unwrap();
    assert_eq!(
        back.branch,
        BranchChange::Moved {
            from: task.start.clone(),
            to: tip.clone(),
            fast_forward: false
        }
    );
    assert_eq!(task.branch_tip(), tip);
}

#[test]
fn a_deleted_branch_is_an_error_and_changes_nothing() {
    let task = Task::new();
    let run = task.prepare();
    task.run_git(&run, &["checkout", "-q", "-b", "elsewhere"]);
    task.run_git(&run, &["branch", "-D", BRANCH]);
    let err = run.bring_back().unwrap_err();
    assert!(
        matches!(err, RunRepoError::RunBranchUnreadable { .. }),
        "{err}"
    );
    assert_eq!(task.branch_tip(), task.start);
}

#[test]
fn the_run_repo_sees_the_worktree_as_git_does_and_has_no_hooks() {
    let task = Task::new();
    task.write("README.md", "changed before the run\n");
    task.write("new.txt", "untracked\n");
    // A value that needs quoting, in a filter as Git LFS sets one up.
    task.repo
        .git(&["config", "filter.x y.clean", "tr \"a\\b\" ; # x\tz"]);
    task.repo.git(&["config", "core.autocrlf", "input"]);
    let outside = task.status();
    task.repo.git(&["config", "core.hooksPath", "/somewhere"]);
    task.repo.git(&["config", "core.fsmonitor", "/bin/false"]);
    let run = task.prepare();

    let inside = task.run_git(&run, &["status", "--porcelain"]);
    assert_eq!(inside, outside);
    assert_eq!(inside, " M README.md\n?? new.txt");
    let local = |key: &str| {
        let out = task.try_run_git(&run, &["config", "--local", "--get", key]);
        String::from_utf8_lossy(&out.stdout)
            .trim_end_matches('\n')
            .to_owned()
    };
    assert_eq!(local("filter.x y.clean"), "tr \"a\\b\" ; # x\tz");
    assert_eq!(local("core.autocrlf"), "input");
    assert_eq!(local("core.hooksPath"), "");
    assert_eq!(local("core.fsmonitor"), "");
    assert_eq!(
        task.run_git(&run, &["rev-parse", "--show-toplevel"]),
        task.worktree.to_str().unwrap()
    );
    assert_eq!(
        task.run_git(&run, &["rev-parse", "main"]),
        task.start.as_str()
    );
}

#[test]
fn a_leftover_run_with_work_is_kept_until_brought_back() {
    let task = Task::new();
    let run = task.prepare();
    task.write("a.txt", "a\n");
    task.run_git(&run, &["add", "a.txt"]);
    task.run_git(&run, &["commit", "-q", "-m", "a"]);
    let tip = oid(&task.run_git(&run, &["rev-parse", "HEAD"]));

    // The daemon died: preparing again must not throw the run's commit away.
    let err = RunRepo::prepare(&task.git, &task.worktree, BRANCH, &[], &task.scratch).unwrap_err();
    assert!(
        matches!(&err, RunRepoError::LeftoverRun { tip: t, .. } if *t == tip),
        "{err}"
    );

    let reopened = RunRepo::open(
        &task.git,
        &task.worktree,
        BRANCH,
        &task.scratch,
        task.start.clone(),
    )
    .unwrap();
    reopened.bring_back().unwrap();
    assert_eq!(task.branch_tip(), tip);
    task.write("b.txt", "b\n");
    let rest = commit_all(&task.worktree, "rest", AGENT, &task.repo.env())
        .unwrap()
        .unwrap();
    // Brought back (and built on), so it may be replaced now.
    let again = task.prepare();
    assert_eq!(again.start(), &rest);
    again.remove().unwrap();
    assert!(!exists(&task.scratch.join(".gaffer-run.git")));
}

#[test]
fn mounts_name_the_gitfile_the_run_repo_and_the_object_store() {
    let task = Task::new();
    let run = task.prepare();
    let mounts = run.mounts();
    let (source, target) = &mounts.gitfile_over;
    assert_eq!(target, &task.worktree.join(".git"));
    assert_eq!(
        std::fs::read_to_string(source).unwrap(),
        format!("gitdir: {}\n", run.dir().display())
    );
    assert!(run.dir().starts_with(&task.scratch));
    assert_eq!(mounts.writable, [run.dir().to_path_buf()]);
    let common = task.git.common_dir().canonicalize().unwrap();
    assert_eq!(mounts.read_only, [common.join("objects")]);
    assert_eq!(mounts.hidden, [task.git.common_dir().to_path_buf()]);
}

#[test]
fn prepare_refuses_a_worktree_on_another_branch() {
    let task = Task::new();
    let err = RunRepo::prepare(&task.git, &task.worktree, OTHER, &[], &task.scratch).unwrap_err();
    assert!(
        matches!(err, RunRepoError::NotTheTaskWorktree { .. }),
        "{err}"
    );
    let elsewhere = task.repo.scratch("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let err = RunRepo::prepare(&task.git, &elsewhere, BRANCH, &[], &task.scratch).unwrap_err();
    assert!(
        matches!(err, RunRepoError::NotTheTaskWorktree { .. }),
        "{err}"
    );
}
