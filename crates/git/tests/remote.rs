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
