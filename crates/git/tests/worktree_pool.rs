//! The worktree pool's promise: a slot handed to a task is byte for byte what a fresh checkout
//! of its start would be, whatever the previous task left (modified, deleted, renamed and
//! mode-changed files, untracked and ignored files, staged changes, an operation in progress),
//! and a slot interrupted between two steps is never handed out.

// Helpers outside #[test] functions panic too; clippy only exempts the test functions.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use common::{chmod, oid, open, snapshot};
use gaffer_git::{Oid, Worktrees, commit_all, head_of};
use gaffer_test_support::TestRepo;

const AGENT: &str = "Agent <agent@example.com>";

fn manager(repo: &TestRepo, root: &str, pool_size: usize) -> Worktrees {
    Worktrees::new(open(repo), repo.scratch(root), pool_size)
}

/// A repository with an executable, a symlink, nested directories and an ignore rule.
fn rich_repo() -> TestRepo {
    let repo = TestRepo::new();
    repo.write(".gitignore", "build/\n*.log\n");
    repo.write("src/lib.rs", "pub fn lib() {}\n");
    repo.write("src/deep/a/b/c.txt", "deep\n");
    repo.write("run.sh", "#!/bin/sh\necho hi\n");
    chmod(&repo.path().join("run.sh"), 0o755);
    repo.write("plain.sh", "echo plain\n");
    repo.write("gone/soon.txt", "soon gone\n");
    repo.write("renamed-from.txt", "moving\n");
    repo.write("dir-becomes-file/inner.txt", "inner\n");
    symlink("src/lib.rs", repo.path().join("link")).unwrap();
    repo.commit_all("rich");
    repo
}

/// Moves `main` on with every kind of change: deletions, a rename, mode changes both ways, a
/// directory replaced by a file, a new nested directory, a changed symlink.
fn move_main_on(repo: &TestRepo) -> Oid {
    let root = repo.path();
    fs::remove_dir_all(root.join("gone")).unwrap();
    fs::rename(root.join("renamed-from.txt"), root.join("renamed-to.txt")).unwrap();
    chmod(&root.join("run.sh"), 0o644);
    chmod(&root.join("plain.sh"), 0o755);
    fs::remove_dir_all(root.join("dir-becomes-file")).unwrap();
    repo.write("dir-becomes-file", "now a file\n");
    repo.write("new/nested/dir/file.txt", "new\n");
    repo.write("src/lib.rs", "pub fn lib() { /* changed */ }\n");
    fs::remove_file(root.join("link")).unwrap();
    symlink("run.sh", root.join("link")).unwrap();
    oid(&repo.commit_all("main moves on"))
}

/// What a careless task leaves behind in its worktree: commits of its own, then uncommitted
/// edits of every kind, untracked and ignored files, a staged change, a nested repository and a
/// rebase in progress.
fn leave_a_mess(repo: &TestRepo, wt: &Path) {
    fs::write(wt.join("src/lib.rs"), "committed by the task\n").unwrap();
    fs::write(wt.join("task-file.txt"), "committed\n").unwrap();
    commit_all(wt, "task work", AGENT, &repo.env()).unwrap();
    fs::write(wt.join("src/deep/a/b/c.txt"), "edited, not committed\n").unwrap();
    fs::remove_file(wt.join("renamed-from.txt")).unwrap();
    chmod(&wt.join("plain.sh"), 0o700);
    fs::write(wt.join("untracked.txt"), "untracked\n").unwrap();
    fs::create_dir_all(wt.join("build/cache")).unwrap();
    fs::write(wt.join("build/cache/obj.o"), "ignored build output\n").unwrap();
    fs::write(wt.join("debug.log"), "ignored log\n").unwrap();
    fs::create_dir_all(wt.join("new")).unwrap();
    fs::write(
        wt.join("new/clash.txt"),
        "untracked where main adds a directory\n",
    )
    .unwrap();
    fs::write(wt.join("staged.txt"), "staged\n").unwrap();
    repo.git_in(wt, &["add", "staged.txt"]);
    fs::create_dir_all(wt.join("nested")).unwrap();
    repo.git_in(&wt.join("nested"), &["init", "-q"]);
    let admin = repo.git_in(wt, &["rev-parse", "--absolute-git-dir"]);
    fs::create_dir_all(Path::new(&admin).join("rebase-merge")).unwrap();
}

fn gitdir_of(path: &Path) -> String {
    fs::read_to_string(path.join(".git")).unwrap()
}

fn ready_mark(wts: &Worktrees, n: u32) -> PathBuf {
    wts.root().join(".pool-ready").join(n.to_string())
}

#[test]
fn a_reused_slot_equals_a_fresh_checkout_byte_for_byte() {
    let repo = rich_repo();
    let first = oid(&repo.head());
    let wts = manager(&repo, "pooled", 1);
    let t1 = wts.checkout("t1", "gaffer/t1", &first).unwrap();
    let admin = gitdir_of(&t1);
    leave_a_mess(&repo, &t1);
    wts.release("t1", "gaffer/t1", true).unwrap();
    assert!(
        ready_mark(&wts, 0).exists(),
        "the slot was reset and marked ready"
    );

    let second = move_main_on(&repo);
    let reused = wts.checkout("t2", "gaffer/t2", &second).unwrap();
    assert_eq!(gitdir_of(&reused), admin, "the pooled worktree was reused");
    assert!(!ready_mark(&wts, 0).exists(), "a slot in use is not ready");

    let fresh = manager(&repo, "fresh", 0)
        .checkout("t3", "gaffer/t3", &second)
        .unwrap();
    assert_eq!(snapshot(&reused), snapshot(&fresh));
    assert_eq!(head_of(&reused, &repo.env()).unwrap(), second);
    assert_eq!(
        repo.git_in(&reused, &["symbolic-ref", "--short", "HEAD"]),
        "gaffer/t2"
    );
    // Nothing staged, modified, untracked or ignored; no operation in progress; the index
    // agrees with the files without a refresh.
    assert_eq!(
        repo.git_in(&reused, &["status", "--porcelain", "--ignored", "-uall"]),
        ""
    );
    let admin = repo.git_in(&reused, &["rev-parse", "--absolute-git-dir"]);
    assert!(!Path::new(&admin).join("rebase-merge").exists());
    assert_eq!(
        repo.git_in(&reused, &["ls-files", "--stage"]),
        repo.git_in(&fresh, &["ls-files", "--stage"])
    );
}

#[test]
fn a_slot_whose_reset_was_cut_off_is_never_handed_out_and_is_reset_by_reconcile() {
    let repo = rich_repo();
    let start = oid(&repo.head());
    let wts = manager(&repo, "pooled", 1);
    let t1 = wts.checkout("t1", "gaffer/t1", &start).unwrap();
    let admin = gitdir_of(&t1);
    wts.release("t1", "gaffer/t1", true).unwrap();
    // A crash after the slot was parked and before its reset ended: no mark, files dirty.
    fs::remove_file(ready_mark(&wts, 0)).unwrap();
    let slot = wts.root().join(".pool/0");
    fs::write(slot.join("src/lib.rs"), "half reset\n").unwrap();
    fs::write(slot.join("left.txt"), "left\n").unwrap();

    let t2 = wts.checkout("t2", "gaffer/t2", &start).unwrap();
    assert_ne!(gitdir_of(&t2), admin, "the unready slot was not used");
    assert!(slot.exists());
    assert_eq!(
        repo.git_in(&t2, &["status", "--porcelain", "--ignored"]),
        ""
    );

    // Recovery resets it; then it is handed out, clean.
    wts.reconcile(&["t2".to_owned()]).unwrap();
    assert!(ready_mark(&wts, 0).exists());
    let t3 = wts.checkout("t3", "gaffer/t3", &start).unwrap();
    assert_eq!(gitdir_of(&t3), admin);
    assert_eq!(
        repo.git_in(&t3, &["status", "--porcelain", "--ignored"]),
        ""
    );
    assert_eq!(
        fs::read_to_string(t3.join("src/lib.rs")).unwrap(),
        "pub fn lib() {}\n"
    );
}

#[test]
fn a_mark_that_names_another_commit_is_not_trusted() {
    let repo = rich_repo();
    let start = oid(&repo.head());
    let wts = manager(&repo, "pooled", 1);
    let t1 = wts.checkout("t1", "gaffer/t1", &start).unwrap();
    let admin = gitdir_of(&t1);
    wts.release("t1", "gaffer/t1", true).unwrap();
    // Something moved the slot's HEAD after it was marked.
    let other = move_main_on(&repo);
    let slot = wts.root().join(".pool/0");
    repo.git_in(&slot, &["update-ref", "--no-deref", "HEAD", other.as_str()]);
    let t2 = wts.checkout("t2", "gaffer/t2", &other).unwrap();
    assert_ne!(gitdir_of(&t2), admin);
    assert_eq!(
        repo.git_in(&t2, &["status", "--porcelain", "--ignored"]),
        ""
    );
}

#[test]
fn a_slot_dirtied_behind_its_mark_is_made_right_in_full() {
    // The mark says clean, but someone wrote into the slot since: the two-tree move refuses
    // to overwrite the change and the checkout falls back to a full one.
    let repo = rich_repo();
    let start = oid(&repo.head());
    let wts = manager(&repo, "pooled", 1);
    wts.checkout("t1", "gaffer/t1", &start).unwrap();
    wts.release("t1", "gaffer/t1", true).unwrap();
    let slot = wts.root().join(".pool/0");
    fs::write(slot.join("src/lib.rs"), "tampered\n").unwrap();
    let next = move_main_on(&repo);
    let t2 = wts.checkout("t2", "gaffer/t2", &next).unwrap();
    let fresh = manager(&repo, "fresh", 0)
        .checkout("t3", "gaffer/t3", &next)
        .unwrap();
    assert_eq!(snapshot(&t2), snapshot(&fresh));
    assert_eq!(
        repo.git_in(&t2, &["status", "--porcelain", "--ignored"]),
        ""
    );
}

#[test]
fn a_take_cut_off_between_the_move_and_the_branch_is_completed() {
    // The slot was moved to the task's path and moved to its start, then the process died
    // before the branch was made.
    let repo = rich_repo();
    let first = oid(&repo.head());
    let wts = manager(&repo, "pooled", 1);
    wts.checkout("t1", "gaffer/t1", &first).unwrap();
    wts.release("t1", "gaffer/t1", true).unwrap();
    let second = move_main_on(&repo);
    let path = wts.path_of("t2");
    let slot = wts.root().join(".pool/0");
    fs::remove_file(ready_mark(&wts, 0)).unwrap();
    repo.git(&[
        "worktree",
        "move",
        slot.to_str().unwrap(),
        path.to_str().unwrap(),
    ]);
    repo.git_in(
        &path,
        &["read-tree", "-m", "-u", first.as_str(), second.as_str()],
    );
    let t2 = wts.checkout("t2", "gaffer/t2", &second).unwrap();
    assert_eq!(t2, path);
    assert_eq!(
        repo.git_in(&t2, &["symbolic-ref", "--short", "HEAD"]),
        "gaffer/t2"
    );
    assert_eq!(head_of(&t2, &repo.env()).unwrap(), second);
    let fresh = manager(&repo, "fresh", 0)
        .checkout("t3", "gaffer/t3", &second)
        .unwrap();
    assert_eq!(snapshot(&t2), snapshot(&fresh));
}

#[test]
fn a_worktree_the_pool_has_no_room_for_is_deleted_through_the_trash() {
    let repo = rich_repo();
    let start = oid(&repo.head());
    let wts = manager(&repo, "pooled", 0);
    let t1 = wts.checkout("t1", "gaffer/t1", &start).unwrap();
    fs::write(t1.join("untracked.txt"), "x").unwrap();
    wts.release("t1", "gaffer/t1", true).unwrap();
    assert!(!t1.exists());
    // Deleted after the rename; nothing at all is left under the root.
    assert_eq!(fs::read_dir(wts.root()).unwrap().count(), 0);
    assert_eq!(open(&repo).worktrees().unwrap().len(), 1);
    // Leftovers of a deletion cut off by a crash go at the next reconcile.
    fs::create_dir_all(wts.root().join(".trash/t9-1-1/src")).unwrap();
    wts.reconcile(&[]).unwrap();
    assert_eq!(fs::read_dir(wts.root()).unwrap().count(), 0);
}

#[test]
fn a_checkout_waits_for_a_slot_being_reset_rather_than_making_a_fresh_one() {
    let repo = TestRepo::with_files(2_000);
    let start = oid(&repo.head());
    let wts = manager(&repo, "pooled", 1);
    let t1 = wts.checkout("t1", "gaffer/t1", &start).unwrap();
    std::thread::scope(|scope| {
        let releasing = scope.spawn(|| wts.release("t1", "gaffer/t1", true).unwrap());
        // Once the worktree has left its path it is parked (under the lock, which the release
        // holds until the slot counts as being reset): the checkout waits for it.
        while t1.exists() {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let t2 = wts.checkout("t2", "gaffer/t2", &start).unwrap();
        releasing.join().unwrap();
        assert_eq!(
            repo.git_in(&t2, &["status", "--porcelain", "--ignored"]),
            ""
        );
    });
    assert_eq!(wts.checkout_counts().reused, 1);
}

#[test]
fn a_new_slot_cut_off_while_it_filled_is_filled_by_reconcile_and_reused() {
    // A fresh checkout registers a slot without files, then fills it outside the lock; the
    // process died in between.
    let repo = rich_repo();
    let start = oid(&repo.head());
    let wts = manager(&repo, "pooled", 1);
    let slot = wts.root().join(".pool/0");
    fs::create_dir_all(wts.root().join(".pool")).unwrap();
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "--no-checkout",
        "--detach",
        slot.to_str().unwrap(),
        start.as_str(),
    ]);
    let admin = gitdir_of(&slot);
    // Never handed out as it is.
    let t1 = wts.checkout("t1", "gaffer/t1", &start).unwrap();
    assert_ne!(gitdir_of(&t1), admin);
    wts.release("t1", "gaffer/t1", true).unwrap();
    wts.reconcile(&[]).unwrap();
    assert!(
        ready_mark(&wts, 0).exists(),
        "filled and marked by reconcile"
    );
    let t2 = wts.checkout("t2", "gaffer/t2", &start).unwrap();
    assert_eq!(gitdir_of(&t2), admin);
    let fresh = manager(&repo, "fresh", 0)
        .checkout("t3", "gaffer/t3", &start)
        .unwrap();
    assert_eq!(snapshot(&t2), snapshot(&fresh));
    assert_eq!(
        repo.git_in(&t2, &["status", "--porcelain", "--ignored"]),
        ""
    );
    assert_eq!(
        wts.checkout_counts(),
        gaffer_git::CheckoutCounts {
            fresh: 1,
            reused: 1,
            given_up: 0,
            advanced: 0,
        }
    );
}

#[test]
fn a_changed_gitattributes_rewrites_files_whose_blob_did_not_change() {
    let repo = rich_repo();
    repo.write("text.txt", "one\ntwo\n");
    let first = oid(&repo.commit_all("text"));
    let wts = manager(&repo, "pooled", 1);
    wts.checkout("t1", "gaffer/t1", &first).unwrap();
    wts.release("t1", "gaffer/t1", true).unwrap();
    repo.write(".gitattributes", "text.txt text eol=crlf\n");
    let second = oid(&repo.commit_all("crlf"));
    let t2 = wts.checkout("t2", "gaffer/t2", &second).unwrap();
    assert_eq!(wts.checkout_counts().reused, 1);
    let fresh = manager(&repo, "fresh", 0)
        .checkout("t3", "gaffer/t3", &second)
        .unwrap();
    assert_eq!(fs::read(t2.join("text.txt")).unwrap(), b"one\r\ntwo\r\n");
    assert_eq!(snapshot(&t2), snapshot(&fresh));
    assert_eq!(
        repo.git_in(&t2, &["status", "--porcelain", "--ignored"]),
        ""
    );
}

#[test]
fn two_checkouts_of_the_same_task_at_once_make_one_worktree() {
    // Both fill a fresh slot with the lock let go; the second must not move its slot into
    // the worktree the first made.
    let repo = TestRepo::with_files(2_000);
    let start = oid(&repo.head());
    let wts = manager(&repo, "pooled", 1);
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| wts.checkout("t1", "gaffer/t1", &start));
        let b = scope.spawn(|| wts.checkout("t1", "gaffer/t1", &start));
        (a.join().unwrap().unwrap(), b.join().unwrap().unwrap())
    });
    assert_eq!(a, b);
    assert_eq!(repo.git_in(&a, &["status", "--porcelain", "--ignored"]), "");
    let on_branch = open(&repo)
        .worktrees()
        .unwrap()
        .into_iter()
        .filter(|wt| wt.branch.as_deref() == Some("gaffer/t1"))
        .count();
    assert_eq!(on_branch, 1);
}

#[test]
fn skip_worktree_and_assume_unchanged_entries_do_not_survive_the_pool() {
    let repo = rich_repo();
    let start = oid(&repo.head());
    let wts = manager(&repo, "pooled", 1);
    let t1 = wts.checkout("t1", "gaffer/t1", &start).unwrap();
    repo.git_in(&t1, &["update-index", "--skip-worktree", "src/lib.rs"]);
    fs::write(t1.join("src/lib.rs"), "hidden by skip-worktree\n").unwrap();
    repo.git_in(&t1, &["update-index", "--assume-unchanged", "run.sh"]);
    fs::write(t1.join("run.sh"), "hidden by assume-unchanged\n").unwrap();
    wts.release("t1", "gaffer/t1", true).unwrap();
    let t2 = wts.checkout("t2", "gaffer/t2", &start).unwrap();
    assert_eq!(wts.checkout_counts().reused, 1);
    let fresh = manager(&repo, "fresh", 0)
        .checkout("t3", "gaffer/t3", &start)
        .unwrap();
    assert_eq!(snapshot(&t2), snapshot(&fresh));
    assert_eq!(
        repo.git_in(&t2, &["ls-files", "-v"]),
        repo.git_in(&fresh, &["ls-files", "-v"])
    );
}

#[test]
fn a_submodule_directory_is_emptied_in_the_pool() {
    let repo = rich_repo();
    let target = repo.head();
    repo.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{target},sub"),
    ]);
    repo.git(&["commit", "-qm", "gitlink"]);
    let start = oid(&repo.head());
    let wts = manager(&repo, "pooled", 1);
    let t1 = wts.checkout("t1", "gaffer/t1", &start).unwrap();
    // Files in a submodule's directory (a populated submodule, with its `.git`, cannot be
    // moved by `git worktree move` at all: such a worktree is never pooled).
    fs::write(t1.join("sub/inner.txt"), "from the previous task\n").unwrap();
    wts.release("t1", "gaffer/t1", true).unwrap();
    let t2 = wts.checkout("t2", "gaffer/t2", &start).unwrap();
    assert_eq!(wts.checkout_counts().reused, 1);
    let fresh = manager(&repo, "fresh", 0)
        .checkout("t3", "gaffer/t3", &start)
        .unwrap();
    assert_eq!(snapshot(&t2), snapshot(&fresh));
}

#[cfg(target_os = "linux")]
#[test]
fn a_worktree_a_process_still_runs_in_is_not_pooled() {
    let repo = rich_repo();
    let start = oid(&repo.head());
    let wts = manager(&repo, "pooled", 1);
    let t1 = wts.checkout("t1", "gaffer/t1", &start).unwrap();
    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .current_dir(&t1)
        .spawn()
        .unwrap();
    let released = wts.release("t1", "gaffer/t1", true);
    let _ = child.kill();
    let _ = child.wait();
    released.unwrap();
    assert!(!ready_mark(&wts, 0).exists());
    wts.checkout("t2", "gaffer/t2", &start).unwrap();
    assert_eq!(wts.checkout_counts().reused, 0, "the slot was not kept");
}

#[cfg(target_os = "linux")]
#[test]
fn a_mark_from_another_boot_is_not_trusted() {
    // After a power loss the slot's files may not be what the mark says.
    let repo = rich_repo();
    let start = oid(&repo.head());
    let wts = manager(&repo, "pooled", 1);
    wts.checkout("t1", "gaffer/t1", &start).unwrap();
    wts.release("t1", "gaffer/t1", true).unwrap();
    let mark = fs::read_to_string(ready_mark(&wts, 0)).unwrap();
    let boot = fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    assert!(mark.contains(boot.trim()), "{mark:?}");
    let head = mark.lines().next().unwrap();
    fs::write(
        ready_mark(&wts, 0),
        format!("{head}\n00000000-0000-0000-0000-000000000000\n"),
    )
    .unwrap();
    wts.checkout("t2", "gaffer/t2", &start).unwrap();
    assert_eq!(wts.checkout_counts().reused, 0);
}

/// A repository of `files` files each of which takes a second to write while the returned file
/// exists (a smudge filter), so that a fresh checkout takes seconds; a slot released meanwhile
/// is ready at once (its files are clean, and the take writes only what differs: nothing).
fn slow_repo(files: usize) -> (TestRepo, PathBuf, Oid) {
    let repo = TestRepo::new();
    let slow = repo.scratch("slow");
    repo.git(&[
        "config",
        "filter.slow.smudge",
        &format!("test -e '{}' && sleep 1; cat", slow.display()),
    ]);
    repo.write(".gitattributes", "*.txt filter=slow\n");
    for i in 0..files {
        repo.write(&format!("f{i}.txt"), format!("file {i}\n"));
    }
    let start = oid(&repo.commit_all("slow files"));
    (repo, slow, start)
}

#[test]
fn a_checkout_waits_a_while_for_a_release_before_writing_a_fresh_worktree() {
    let (repo, slow, start) = slow_repo(4);
    let wts = manager(&repo, "pooled", 2);
    fs::write(&slow, "").unwrap();
    // The first fresh checkout takes four seconds: the next waits up to two for a release.
    let t1 = wts.checkout("t1", "gaffer/t1", &start).unwrap();
    let t1_admin = gitdir_of(&t1);
    let (t2, took) = std::thread::scope(|scope| {
        let checkout = scope.spawn(|| {
            let began = std::time::Instant::now();
            let t2 = wts.checkout("t2", "gaffer/t2", &start).unwrap();
            (t2, began.elapsed())
        });
        std::thread::sleep(std::time::Duration::from_millis(300));
        wts.release("t1", "gaffer/t1", true).unwrap();
        checkout.join().unwrap()
    });
    assert_eq!(
        wts.checkout_counts(),
        gaffer_git::CheckoutCounts {
            fresh: 1,
            reused: 1,
            given_up: 0,
            advanced: 0,
        },
        "no fresh checkout was started for t2"
    );
    assert_eq!(gitdir_of(&t2), t1_admin, "t2 got t1's slot");
    // A fresh checkout would have taken four seconds.
    assert!(took < std::time::Duration::from_secs(4), "{took:?}");
    assert_eq!(
        repo.git_in(&t2, &["status", "--porcelain", "--ignored"]),
        ""
    );
}

#[test]
fn a_fresh_checkout_gives_way_to_a_slot_released_while_it_fills() {
    let (repo, slow, start) = slow_repo(8);
    let wts = manager(&repo, "pooled", 2);
    let t1 = wts.checkout("t1", "gaffer/t1", &start).unwrap();
    let t1_admin = gitdir_of(&t1);
    fs::write(&slow, "").unwrap();
    let filling = wts.root().join(".pool/0");
    let (t2, took) = std::thread::scope(|scope| {
        let checkout = scope.spawn(|| {
            let began = std::time::Instant::now();
            let t2 = wts.checkout("t2", "gaffer/t2", &start).unwrap();
            (t2, began.elapsed())
        });
        // No slot is ready or being reset: t2 fills a new one. Release t1 while it does.
        while !filling.exists() {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        wts.release("t1", "gaffer/t1", true).unwrap();
        checkout.join().unwrap()
    });
    assert!(
        took < std::time::Duration::from_secs(5),
        "the checkout waited {took:?} for its fill (8 s) instead of taking the released slot"
    );
    assert_eq!(
        wts.checkout_counts(),
        gaffer_git::CheckoutCounts {
            fresh: 1,
            reused: 1,
            given_up: 1,
            advanced: 0,
        }
    );
    assert_eq!(gitdir_of(&t2), t1_admin, "t2 got t1's slot");
    fs::remove_file(&slow).unwrap();
    let fresh = manager(&repo, "fresh", 0)
        .checkout("t3", "gaffer/t3", &start)
        .unwrap();
    assert_eq!(snapshot(&t2), snapshot(&fresh));
    assert_eq!(
        repo.git_in(&t2, &["status", "--porcelain", "--ignored"]),
        ""
    );
    // The half-written worktree is gone, from the disk and from git's list.
    let mut left: Vec<String> = fs::read_dir(wts.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert!(
        left.iter()
            .all(|name| name == "t2" || name == ".pool-ready"),
        "{left:?}"
    );
    assert_eq!(open(&repo).worktrees().unwrap().len(), 3, "main, t2, t3");
}

/// Checks out `t2` at `start` while `t1` is released, once `t2` waits for a slot (the first
/// fresh checkout of a slow repository took four seconds: `t2` waits up to two).
fn checkout_while_t1_is_released(wts: &Worktrees, start: &Oid) -> PathBuf {
    std::thread::scope(|scope| {
        let checkout = scope.spawn(|| wts.checkout("t2", "gaffer/t2", start).unwrap());
        std::thread::sleep(std::time::Duration::from_millis(300));
        wts.release("t1", "gaffer/t1", true).unwrap();
        checkout.join().unwrap()
    })
}

#[test]
fn a_slot_released_while_a_checkout_waits_is_reset_straight_to_its_start() {
    let (repo, slow, first) = slow_repo(4);
    let wts = manager(&repo, "pooled", 2);
    fs::write(&slow, "").unwrap();
    let t1 = wts.checkout("t1", "gaffer/t1", &first).unwrap();
    leave_a_mess_lightly(&repo, &t1);
    repo.write("new/added.md", "added on main\n");
    fs::remove_file(repo.path().join("f0.txt")).unwrap();
    let second = oid(&repo.commit_all("main moves on"));
    let t2 = checkout_while_t1_is_released(&wts, &second);
    let counts = wts.checkout_counts();
    assert_eq!((counts.fresh, counts.reused), (1, 1));
    assert_eq!(
        counts.advanced, 0,
        "the release reset the slot to t2's start"
    );
    fs::remove_file(&slow).unwrap();
    let fresh = manager(&repo, "fresh", 0)
        .checkout("t3", "gaffer/t3", &second)
        .unwrap();
    assert_eq!(snapshot(&t2), snapshot(&fresh));
    assert_eq!(head_of(&t2, &repo.env()).unwrap(), second);
    assert_eq!(
        repo.git_in(&t2, &["status", "--porcelain", "--ignored"]),
        ""
    );
}

#[test]
fn a_slot_reset_straight_to_a_start_with_other_gitattributes_rewrites_every_file() {
    let (repo, slow, _) = slow_repo(4);
    repo.write("text.md", "one\ntwo\n");
    let first = oid(&repo.commit_all("text"));
    let wts = manager(&repo, "pooled", 2);
    fs::write(&slow, "").unwrap();
    wts.checkout("t1", "gaffer/t1", &first).unwrap();
    repo.write(
        ".gitattributes",
        "*.txt filter=slow\ntext.md text eol=crlf\n",
    );
    let second = oid(&repo.commit_all("crlf"));
    let t2 = checkout_while_t1_is_released(&wts, &second);
    assert_eq!(wts.checkout_counts().advanced, 0);
    assert_eq!(fs::read(t2.join("text.md")).unwrap(), b"one\r\ntwo\r\n");
    fs::remove_file(&slow).unwrap();
    let fresh = manager(&repo, "fresh", 0)
        .checkout("t3", "gaffer/t3", &second)
        .unwrap();
    assert_eq!(snapshot(&t2), snapshot(&fresh));
    assert_eq!(
        repo.git_in(&t2, &["status", "--porcelain", "--ignored"]),
        ""
    );
}

/// What a task leaves in a slow repository: a commit, an edit, a staged and an untracked file.
fn leave_a_mess_lightly(repo: &TestRepo, wt: &Path) {
    fs::write(wt.join("task.md"), "committed by the task\n").unwrap();
    commit_all(wt, "task work", AGENT, &repo.env()).unwrap();
    fs::write(wt.join("task.md"), "edited, not committed\n").unwrap();
    fs::write(wt.join("staged.md"), "staged\n").unwrap();
    repo.git_in(wt, &["add", "staged.md"]);
    fs::write(wt.join("untracked.md"), "untracked\n").unwrap();
}

/// Warming fills the pool with ready slots that are fresh checkouts of the start, at most as
/// many as the pool holds, and a checkout that comes while a slot is being filled waits for it
/// instead of writing a whole tree of its own.
#[test]
fn a_warmed_pool_hands_out_ready_slots_and_a_checkout_waits_for_the_one_filling() {
    let repo = rich_repo();
    let start = oid(&repo.head());
    let wts = manager(&repo, "pooled", 2);
    std::thread::scope(|scope| {
        let warming = scope.spawn(|| wts.warm(&start).unwrap());
        // Once the first fill has begun, a checkout finds nothing ready and must wait for it.
        warming_has_begun(&wts);
        let t1 = wts.checkout("t1", "gaffer/t1", &start).unwrap();
        assert_eq!(
            repo.git_in(&t1, &["status", "--porcelain", "--ignored"]),
            ""
        );
        // As many as the pool holds, though t1 took one: no more whole trees than that.
        assert_eq!(warming.join().unwrap(), 2);
    });
    let counts = wts.checkout_counts();
    assert_eq!((counts.fresh, counts.reused), (2, 1), "{counts:?}");
    // Nothing more: t1's worktree comes back to the pool when its task ends, so its place is
    // not filled with a whole tree meanwhile.
    assert_eq!(wts.warm(&start).unwrap(), 0);
    wts.release("t1", "gaffer/t1", true).unwrap();
    assert_eq!(wts.warm(&start).unwrap(), 0);
    let t2 = wts.checkout("t2", "gaffer/t2", &start).unwrap();
    let fresh = manager(&repo, "fresh", 0)
        .checkout("t3", "gaffer/t3", &start)
        .unwrap();
    assert_eq!(snapshot(&t2), snapshot(&fresh));
    assert_eq!(wts.checkout_counts().reused, 2);
}

/// A warming leaves room for the task worktrees alive (they come back to the pool when their
/// tasks end), and a release while it fills does not overfill the pool.
#[test]
fn a_warming_leaves_room_for_live_tasks_and_a_release_meanwhile_does_not_overfill() {
    let (repo, slow, start) = slow_repo(3);
    let wts = manager(&repo, "pooled", 2);
    wts.checkout("t1", "gaffer/t1", &start).unwrap();
    fs::write(&slow, "").unwrap();
    std::thread::scope(|scope| {
        let warming = scope.spawn(|| wts.warm(&start).unwrap());
        warming_has_begun(&wts);
        std::thread::sleep(std::time::Duration::from_millis(200));
        wts.release("t1", "gaffer/t1", true).unwrap();
        assert_eq!(warming.join().unwrap(), 1);
    });
    let slots = fs::read_dir(wts.root().join(".pool")).unwrap().count();
    assert_eq!(slots, 2);
}

/// Draining the pool stops a warming under way (its fill is stopped and thrown away) instead
/// of waiting for it and then seeing it fill the pool again.
#[test]
fn draining_the_pool_stops_a_warming() {
    let (repo, slow, start) = slow_repo(3);
    let wts = manager(&repo, "pooled", 2);
    fs::write(&slow, "").unwrap();
    std::thread::scope(|scope| {
        let warming = scope.spawn(|| wts.warm(&start).unwrap());
        warming_has_begun(&wts);
        wts.drain_pool().unwrap();
        assert_eq!(warming.join().unwrap(), 0);
    });
    wts.reconcile(&[]).unwrap();
    assert!(!wts.root().join(".pool").exists());
    let counts = wts.checkout_counts();
    assert_eq!((counts.fresh, counts.given_up), (0, 1), "{counts:?}");
}

/// Waits until the warming's first slot exists (its fill has begun).
fn warming_has_begun(wts: &Worktrees) {
    let began = std::time::Instant::now();
    while !wts.root().join(".pool/0").exists() {
        assert!(began.elapsed() < std::time::Duration::from_secs(30));
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}
