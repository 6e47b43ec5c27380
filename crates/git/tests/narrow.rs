//! The narrow operations (only the paths the tree watch says changed) leave every worktree and
//! every commit exactly as the whole passes do, whatever an agent or a verify run did in it:
//! the same random work is done in two task worktrees of one repository, one managed with the
//! watch and one without, and after each step of a task's cycle (the commit after the agent,
//! the candidate's checkout, the release and the next take of the slot) the two are compared
//! byte for byte, mode bits, symlinks, untracked and ignored files included.

#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use common::{chmod, oid, open, snapshot};
use gaffer_git::{Oid, Worktrees};
use gaffer_test_support::TestRepo;

const AGENT: &str = "Agent <agent@example.com>";

/// A small deterministic generator (xorshift), so that a failing seed can be run again.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn repo_with_history() -> (TestRepo, Oid, Oid) {
    let repo = TestRepo::new();
    repo.write(".gitignore", "build/\n*.log\n");
    for d in 0..4 {
        for f in 0..5 {
            repo.write(&format!("src/d{d}/f{f}.txt"), format!("{d} {f}\n"));
        }
    }
    repo.write("src/d0/deep/er/x.txt", "deep\n");
    repo.write("run.sh", "#!/bin/sh\necho hi\n");
    chmod(&repo.path().join("run.sh"), 0o755);
    symlink("src/d0/f0.txt", repo.path().join("link")).unwrap();
    // Tracked though ignored: an agent's `git rm --cached` leaves it behind as ignored.
    repo.write("src/d3/gen.log", "generated\n");
    repo.git(&["add", "-f", "src/d3/gen.log"]);
    let first = oid(&repo.commit_all("first"));
    repo.write("src/d1/f1.txt", "changed on main\n");
    repo.write("src/d9/new.txt", "a new directory on main\n");
    fs::remove_file(repo.path().join("src/d2/f2.txt")).unwrap();
    let second = oid(&repo.commit_all("second"));
    (repo, first, second)
}

/// The files of a worktree, `.git`, build outputs and such aside, sorted.
fn files(dir: &Path) -> Vec<String> {
    snapshot(dir)
        .into_iter()
        .filter(|(_, kind)| kind.starts_with("file"))
        .map(|(path, _)| path)
        .collect()
}

/// One random change, done the same way in each of `dirs` (identical before). Returns whether
/// it was one of the kinds the watch cannot follow narrowly (gaffer then makes the whole pass).
/// `links_refused`: no second name of a file is ever made (the sandbox refuses hard links).
fn change(
    repo: &TestRepo,
    rng: &mut Rng,
    dirs: &[&Path],
    step: usize,
    agent: bool,
    links_refused: bool,
) -> bool {
    let listed = files(dirs[0]);
    let pick = |rng: &mut Rng| listed[rng.below(listed.len())].clone();
    // Kinds 14 to 18 (a directory renamed, the agent's own git work) are ones the watch
    // cannot follow narrowly; they come one time in eight, the rest is plain file work.
    let kind = match rng.below(46) {
        // Writing through a second name is reported under that name only: an agent can hide
        // its own change from its commit so (the candidate's whole checkout puts it right),
        // not a verify's from the next task. Under the sandbox no second name can be made.
        21 if agent || links_refused => 0,
        k if k < 23 => k,
        k => k % 14,
    };
    let text = format!("step {step} kind {kind}\n");
    let mut foreign = false;
    // The path of each choice is drawn once, before the loop over the worktrees.
    let path = pick(rng);
    let dir_of = path
        .rsplit_once('/')
        .map_or(String::new(), |(d, _)| d.to_owned());
    let fresh = format!("new{}/n{step}/file.txt", rng.below(3));
    for dir in dirs {
        let at = |p: &str| dir.join(p);
        match kind {
            0..=3 => fs::write(at(&path), &text).unwrap(),
            4 | 5 => {
                fs::create_dir_all(at(&fresh).parent().unwrap()).unwrap();
                fs::write(at(&fresh), &text).unwrap();
            }
            6 => {
                let _ = fs::remove_file(at(&path));
            }
            7 if !dir_of.is_empty() => {
                let _ = fs::remove_dir_all(at(&dir_of));
            }
            8 => chmod(&at(&path), 0o755),
            9 => {
                fs::create_dir_all(at("build/out")).unwrap();
                fs::write(at("build/out/obj.o"), &text).unwrap();
                let log = if dir_of.is_empty() {
                    "trace.log".to_owned()
                } else {
                    format!("{dir_of}/trace.log")
                };
                fs::write(at(&log), &text).unwrap();
            }
            10 => {
                // A file replaced by a directory.
                fs::remove_file(at(&path)).unwrap();
                fs::create_dir(at(&path)).unwrap();
                fs::write(at(&format!("{path}/inner.txt")), &text).unwrap();
            }
            11 => {
                let _ = fs::remove_file(at("link"));
                symlink(&path, at("link")).unwrap();
            }
            12 => fs::rename(at(&path), at(&format!("{path}.moved"))).unwrap(),
            13 => {
                // A temporary file made and deleted.
                fs::write(at("tmp.txt"), &text).unwrap();
                fs::remove_file(at("tmp.txt")).unwrap();
            }
            14 if !dir_of.is_empty() => {
                // A directory renamed: the watch loses track.
                let _ = fs::rename(at(&dir_of), at(&format!("{dir_of}-renamed")));
                foreign = true;
            }
            15 => {
                // The agent's own staging.
                fs::write(at(&path), &text).unwrap();
                repo.git_in(dir, &["add", "-A"]);
                foreign = true;
            }
            16 => {
                // Index entries that change without a file changing.
                if repo.git_in(dir, &["ls-files", "--", &path]).is_empty() {
                    continue;
                }
                repo.git_in(dir, &["rm", "-q", "--cached", "--", &path]);
                foreign = true;
            }
            17 => {
                if repo.git_in(dir, &["ls-files", "--", &path]).is_empty() {
                    continue;
                }
                repo.git_in(dir, &["update-index", "--skip-worktree", "--", &path]);
                fs::write(at(&path), &text).unwrap();
                foreign = true;
            }
            18 => {
                // The agent commits: HEAD moves.
                fs::write(at(&path), &text).unwrap();
                repo.git_in(dir, &["add", "-A"]);
                repo.git_in(dir, &["commit", "-q", "-m", "agent's own", "--allow-empty"]);
                foreign = true;
            }
            19 => {
                // `git status` rewrites the index (its stat data) without changing it.
                repo.git_in(dir, &["status", "--porcelain"]);
            }
            20 if !dir_of.is_empty() => {
                // Every file of a directory deleted: the directory is left empty.
                for entry in fs::read_dir(at(&dir_of)).unwrap() {
                    let entry = entry.unwrap();
                    if entry.file_type().unwrap().is_file() {
                        fs::remove_file(entry.path()).unwrap();
                    }
                }
            }
            21 => {
                // A file written through a second name made and removed at once.
                fs::hard_link(at(&path), at("second-name")).unwrap();
                let mut f = fs::OpenOptions::new()
                    .append(true)
                    .open(at("second-name"))
                    .unwrap();
                std::io::Write::write_all(&mut f, text.as_bytes()).unwrap();
                drop(f);
                fs::remove_file(at("second-name")).unwrap();
            }
            22 => fs::write(at(":(glob)magic"), &text).unwrap(),
            _ => {}
        }
    }
    foreign
}

fn same(a: &Path, b: &Path, what: &str, seed: u64) {
    assert_eq!(
        snapshot(a),
        snapshot(b),
        "{what}, seed {seed}: the files differ"
    );
}

/// `git status` without its optional write of the index, which would look to the watch like
/// someone else's (and send every later step down the whole pass).
fn status(repo: &TestRepo, dir: &Path) -> String {
    repo.git_in(
        dir,
        &[
            "--no-optional-locks",
            "status",
            "--porcelain",
            "--ignored",
            "-uall",
        ],
    )
}

fn tree_of(repo: &TestRepo, dir: &Path) -> String {
    repo.git_in(dir, &["rev-parse", "HEAD^{tree}"])
}

#[test]
fn narrow_operations_leave_what_the_whole_passes_leave() {
    narrow_and_whole_agree(false);
}

/// The same with hard links refused, as under gaffer's sandbox: the candidate's tracked files
/// and a released slot's are then never looked at one by one.
#[test]
fn with_links_refused_narrow_operations_leave_what_the_whole_passes_leave() {
    narrow_and_whole_agree(true);
}

fn narrow_and_whole_agree(links_refused: bool) {
    let (repo, first, second) = repo_with_history();
    let watched = Worktrees::new(open(&repo), repo.scratch("watched"), 2);
    watched.set_links_refused(links_refused);
    let whole = Worktrees::new(open(&repo), repo.scratch("whole"), 2).without_watch();
    assert!(
        watched.watch().is_active(),
        "inotify must work on this machine"
    );
    let mut clean_cycles = 0;
    for seed in 1..=40u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let name = format!("t{seed}");
        let start = if seed % 2 == 0 { &first } else { &second };
        let a = watched
            .checkout(&name, &format!("a/{name}"), start)
            .unwrap();
        let b = whole.checkout(&name, &format!("b/{name}"), start).unwrap();
        same(&a, &b, "after the checkout", seed);
        let mut foreign = false;

        // The agent, then the engine's commit.
        for step in 0..1 + rng.below(6) {
            foreign |= change(&repo, &mut rng, &[&a, &b], step, true, links_refused);
        }
        let ca = watched.commit_all(&a, "work", AGENT).unwrap();
        let cb = whole.commit_all(&b, "work", AGENT).unwrap();
        assert_eq!(ca.is_some(), cb.is_some(), "seed {seed}: one committed");
        assert_eq!(tree_of(&repo, &a), tree_of(&repo, &b), "seed {seed}: trees");
        assert_eq!(
            status(&repo, &a),
            status(&repo, &b),
            "seed {seed}: status after commit"
        );
        same(&a, &b, "after the commit", seed);

        // The branch's verify, then the candidate's checkout.
        for step in 10..10 + rng.below(5) {
            foreign |= change(&repo, &mut rng, &[&a, &b], step, false, links_refused);
        }
        let candidate = if seed % 3 == 0 { &first } else { &second };
        let ra = watched.checkout_detached(&a, candidate);
        let rb = whole.checkout_detached(&b, candidate);
        // A `skip-worktree` entry the agent changed makes git refuse either way.
        assert_eq!(ra.is_ok(), rb.is_ok(), "seed {seed}: {ra:?} / {rb:?}");
        if ra.is_ok() {
            assert_eq!(
                status(&repo, &a),
                status(&repo, &b),
                "seed {seed}: status at the candidate"
            );
            same(&a, &b, "at the candidate", seed);
            assert_eq!(
                tree_of(&repo, &a),
                repo.git(&["rev-parse", &format!("{}^{{tree}}", candidate.as_str())]),
                "seed {seed}"
            );
        }

        // The candidate's verify, then the release and the next take of the slot.
        for step in 20..20 + rng.below(5) {
            foreign |= change(&repo, &mut rng, &[&a, &b], step, false, links_refused);
        }
        watched.release(&name, &format!("a/{name}"), true).unwrap();
        whole.release(&name, &format!("b/{name}"), true).unwrap();
        let next = format!("n{seed}");
        let na = watched
            .checkout(&next, &format!("a/{next}"), start)
            .unwrap();
        let nb = whole.checkout(&next, &format!("b/{next}"), start).unwrap();
        same(&na, &nb, "the next task's worktree", seed);
        assert_eq!(
            status(&repo, &na),
            "",
            "seed {seed}: a reused slot is clean"
        );
        watched.release(&next, &format!("a/{next}"), true).unwrap();
        whole.release(&next, &format!("b/{next}"), true).unwrap();
        if !foreign {
            clean_cycles += 1;
        }
    }
    let narrow = watched.watch().counts();
    eprintln!("watched: {narrow:?}; cycles the watch could follow: {clean_cycles}");
    assert_eq!(whole.watch().counts().narrow, 0);
    // Cycles without an agent's own git work are done narrowly, after the slots' first.
    assert!(
        narrow.narrow >= clean_cycles,
        "{narrow:?} for {clean_cycles} cycles the watch could follow"
    );
}
