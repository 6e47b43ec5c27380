//! A run repository inside real bubblewrap (gaffer-sandbox, run through gaffer-proc): the
//! run commits, tries every way to move refs of the main repository, and only its commit on
//! the task branch comes back. The same attempts are made once in a plain linked worktree
//! without a sandbox, where they must get through: a probe that cannot see an escape would
//! pass for the wrong reason.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod run_repo_support;

use std::time::Duration;

use gaffer_git::{BranchChange, IgnoredRef, RunRepo};
use gaffer_proc::{CommandSpec, ProcessOutcome};
use gaffer_sandbox::{Policy, Sandbox, SandboxMode};
use run_repo_support::{OTHER, Task, exists};
use tokio_util::sync::CancellationToken;

const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Each attempt prints its marker only if git or the shell said it worked.
const ATTEMPTS: &str = r#"
git status --porcelain >/dev/null && echo STATUS-OK
echo agent > agent.txt
git add agent.txt && git commit -q -m agent && echo COMMIT-OK
git update-ref refs/heads/main HEAD && echo UPDATE-REF-RAN
git branch -f "$OTHER" HEAD && echo BRANCH-F-RAN
git --git-dir="$COMMON" update-ref refs/heads/main HEAD 2>/dev/null && echo DIRECT-UPDATE-RAN
(git rev-parse HEAD > "$COMMON/refs/heads/main") 2>/dev/null && echo WROTE-MAIN-REF
git push -q "$CHECKOUT/.git" HEAD:refs/heads/main 2>/dev/null && echo PUSHED
(echo "gitdir: /nowhere" > .git) 2>/dev/null && echo REWROTE-GITFILE
mv .git moved-gitfile 2>/dev/null && echo MOVED-GITFILE
rm -f .git 2>/dev/null && echo REMOVED-GITFILE
echo DONE
"#;

/// Markers of attempts on the main repository; none may appear inside the sandbox.
const ESCAPES: &[&str] = &[
    "DIRECT-UPDATE-RAN",
    "WROTE-MAIN-REF",
    "PUSHED",
    "REWROTE-GITFILE",
    "MOVED-GITFILE",
    "REMOVED-GITFILE",
];

/// A working bwrap, or `None` (loudly) where there is none; with `CI` set, a panic.
fn sandbox() -> Option<Sandbox> {
    match Sandbox::detect(SandboxMode::Bwrap) {
        Ok(sandbox) => Some(sandbox),
        Err(err) if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) => {
            panic!("CI is set, so the sandbox test may not be skipped, but: {err}")
        }
        Err(err) => {
            eprintln!("\n!!!!!!!! SKIPPED: {err}. The sandbox test did NOT run. !!!!!!!!\n");
            None
        }
    }
}

fn attempts(task: &Task) -> CommandSpec {
    CommandSpec::new("/bin/sh", &task.worktree)
        .args(["-c", ATTEMPTS])
        .env_clear(true)
        .env("PATH", PATH)
        .envs(task.repo.env())
        .env("OTHER", OTHER)
        .env("COMMON", task.git.common_dir().to_str().unwrap())
        .env("CHECKOUT", task.repo.path().to_str().unwrap())
        .timeout(Duration::from_secs(30))
}

async fn run(spec: &CommandSpec) -> ProcessOutcome {
    let outcome = gaffer_proc::run(spec, &CancellationToken::new(), |_| {})
        .await
        .unwrap();
    assert!(outcome.tail.contains("DONE"), "{}", outcome.tail);
    outcome
}

/// `spec` inside `sandbox` with the run repository's mounts. gaffer-sandbox's `Policy` cannot
/// yet bind one file over another, so that one bind is added to bwrap's options here.
fn confined(sandbox: &Sandbox, task: &Task, run: &RunRepo, spec: CommandSpec) -> CommandSpec {
    let mounts = run.mounts();
    let mut policy = Policy::builder(&task.worktree)
        .writable(&task.scratch)
        .home(task.repo.home())
        .hide(task.repo.path());
    for path in mounts.writable {
        policy = policy.writable(path);
    }
    for path in mounts.read_only {
        policy = policy.read_only(path);
    }
    for path in mounts.hidden {
        policy = policy.hide(path);
    }
    let mut wrapped = sandbox.wrap(spec, &policy.build().unwrap());
    let end_of_options = wrapped.args.iter().position(|a| a == "--").unwrap();
    let (source, target) = mounts.gitfile_over;
    wrapped.args.splice(
        end_of_options..end_of_options,
        [
            "--ro-bind".to_owned(),
            source.to_str().unwrap().to_owned(),
            target.to_str().unwrap().to_owned(),
        ],
    );
    wrapped
}

#[tokio::test]
async fn inside_bwrap_a_run_moves_its_branch_and_nothing_else() {
    let Some(sandbox) = sandbox() else {
        return;
    };
    let task = Task::new();
    let gitfile = task.gitfile();
    let run = task.prepare();

    let outcome = run_confined(&sandbox, &task, &run).await;
    for expected in ["STATUS-OK", "COMMIT-OK", "UPDATE-REF-RAN", "BRANCH-F-RAN"] {
        assert!(
            outcome.tail.contains(expected),
            "{expected}: {}",
            outcome.tail
        );
    }
    for escape in ESCAPES {
        assert!(!outcome.tail.contains(escape), "{escape}: {}", outcome.tail);
    }

    // Judged from outside, before and after bringing the run back.
    let check_untouched = || {
        assert_eq!(task.main(), task.start);
        assert_eq!(
            task.main_ref(&format!("refs/heads/{OTHER}")),
            Some(task.other.clone())
        );
        assert_eq!(task.gitfile(), gitfile);
        assert!(!exists(&task.worktree.join("moved-gitfile")));
    };
    check_untouched();
    assert_eq!(task.branch_tip(), task.start);
    let back = run.bring_back().unwrap();
    check_untouched();
    let BranchChange::Moved {
        to, fast_forward, ..
    } = back.branch
    else {
        panic!("the branch did not move: {back:?}");
    };
    assert!(fast_forward);
    assert_eq!(task.branch_tip(), to);
    assert_eq!(
        task.repo.git(&["show", &format!("{to}:agent.txt")]),
        "agent"
    );
    let ignored: Vec<&str> = back.ignored.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(ignored, ["refs/heads/gaffer/t2", "refs/heads/main"]);
    assert!(back.ignored.contains(&IgnoredRef {
        name: "refs/heads/main".into(),
        before: Some(task.start.clone()),
        after: Some(to.clone()),
    }));
}

async fn run_confined(sandbox: &Sandbox, task: &Task, run_repo: &RunRepo) -> ProcessOutcome {
    run(&confined(sandbox, task, run_repo, attempts(task))).await
}

#[tokio::test]
async fn without_a_run_repo_the_same_attempts_move_the_main_repositorys_refs() {
    let task = Task::new();
    let outcome = run(&attempts(&task)).await;
    for expected in [
        "COMMIT-OK",
        "UPDATE-REF-RAN",
        "BRANCH-F-RAN",
        "WROTE-MAIN-REF",
    ] {
        assert!(
            outcome.tail.contains(expected),
            "{expected}: {}",
            outcome.tail
        );
    }
    let agent = task.branch_tip();
    assert_ne!(agent, task.start);
    assert_eq!(task.main(), agent);
    assert_eq!(task.main_ref(&format!("refs/heads/{OTHER}")), Some(agent));
    assert!(outcome.tail.contains("REWROTE-GITFILE"), "{}", outcome.tail);
}
