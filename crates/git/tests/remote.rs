//! The target on a remote: fetch, and push with a lease that refuses when someone else pushed.

mod common;

use common::{oid, setup};
use gaffer_git::PushOutcome;

#[test]
fn pushing_with_a_lease_refuses_a_remote_that_moved_and_never_forces() {
    let (repo, git) = setup();
    let bare = repo.scratch("remote.git");
    repo.git(&["init", "-q", "--bare", "-b", "main", bare.to_str().unwrap()]);
    repo.git(&["remote", "add", "origin", bare.to_str().unwrap()]);
    let base = oid(&repo.head());

    // The remote has no main yet: a lease on "absent" pushes.
    assert_eq!(git.fetch_branch("origin", "main").unwrap(), None);
    assert_eq!(
        git.push_with_lease("origin", &base, "main", None).unwrap(),
        PushOutcome::Pushed
    );
    assert_eq!(
        git.fetch_branch("origin", "main").unwrap(),
        Some(base.clone())
    );

    // Ours, one commit ahead.
    repo.write("ours.txt", "ours\n");
    let ours = oid(&repo.commit_all("ours"));
    // Someone else pushes first, from another clone.
    let other = repo.scratch("other");
    repo.git(&[
        "clone",
        "-q",
        bare.to_str().unwrap(),
        other.to_str().unwrap(),
    ]);
    std::fs::write(other.join("theirs.txt"), "theirs\n").unwrap();
    repo.git_in(&other, &["add", "-A"]);
    repo.git_in(&other, &["commit", "-q", "-m", "theirs"]);
    repo.git_in(&other, &["push", "-q", "origin", "main"]);
    let theirs = oid(&repo.git_in(&other, &["rev-parse", "HEAD"]));

    let refused = git
        .push_with_lease("origin", &ours, "main", Some(&base))
        .unwrap();
    assert!(
        matches!(refused, PushOutcome::Rejected { .. }),
        "{refused:?}"
    );
    assert_eq!(
        git.fetch_branch("origin", "main").unwrap(),
        Some(theirs.clone()),
        "their commit is still there"
    );
    // Pushing again as an already-landed value is fine.
    assert_eq!(
        git.push_with_lease("origin", &theirs, "main", Some(&theirs))
            .unwrap(),
        PushOutcome::Pushed
    );
}

#[test]
fn refs_beyond_the_target_move_by_lease_and_come_down_by_glob() {
    let (repo, git) = setup();
    let bare = repo.scratch("remote.git");
    repo.git(&["init", "-q", "--bare", "-b", "main", bare.to_str().unwrap()]);
    repo.git(&["remote", "add", "origin", bare.to_str().unwrap()]);
    let base = oid(&repo.head());
    repo.write("later.txt", "later\n");
    let later = oid(&repo.commit_all("later"));
    let candidate = "refs/gaffer/candidates/7";
    for (refname, new) in [("refs/heads/gaffer/7-x", &base), (candidate, &base)] {
        assert_eq!(
            git.push_ref_with_lease("origin", Some(new), refname, None)
                .unwrap(),
            PushOutcome::Pushed
        );
    }
    // A lease on "absent" refuses a ref that exists (at another value).
    assert!(matches!(
        git.push_ref_with_lease("origin", Some(&later), candidate, None)
            .unwrap(),
        PushOutcome::Rejected { .. }
    ));
    let specs = [
        "+refs/heads/gaffer/*:refs/remotes/origin/gaffer/*".to_string(),
        "+refs/gaffer/candidates/*:refs/remotes/origin/gaffer-candidates/*".to_string(),
    ];
    git.fetch_refspecs("origin", &specs, true).unwrap();
    assert_eq!(
        git.rev_parse("refs/remotes/origin/gaffer/7-x").unwrap(),
        Some(base.clone())
    );
    assert_eq!(
        git.rev_parse("refs/remotes/origin/gaffer-candidates/7")
            .unwrap(),
        Some(base.clone())
    );
    // Deleting takes the lease too; the next fetch prunes what went.
    assert!(matches!(
        git.push_ref_with_lease("origin", None, candidate, Some(&oid(&"1".repeat(40))))
            .unwrap(),
        PushOutcome::Rejected { .. }
    ));
    assert_eq!(
        git.push_ref_with_lease("origin", None, candidate, Some(&base))
            .unwrap(),
        PushOutcome::Pushed
    );
    git.fetch_refspecs("origin", &specs, true).unwrap();
    assert_eq!(
        git.rev_parse("refs/remotes/origin/gaffer-candidates/7")
            .unwrap(),
        None
    );
    // A worktree reset hard onto another commit: files and index follow.
    std::fs::write(repo.path().join("later.txt"), "scribbled\n").unwrap();
    gaffer_git::reset_hard(repo.path(), &base, &repo.env()).unwrap();
    assert!(!repo.path().join("later.txt").exists());
    gaffer_git::reset_hard(repo.path(), &later, &repo.env()).unwrap();
    assert_eq!(
        std::fs::read_to_string(repo.path().join("later.txt")).unwrap(),
        "later\n"
    );
}
