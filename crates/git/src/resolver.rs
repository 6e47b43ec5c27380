//! Revisions resolved by one long-lived `git cat-file --batch-check` per repository instead of
//! a `git rev-parse` process each: the engine resolves its target and landing branches on every
//! scheduling round, and a process costs milliseconds of CPU where the lookup costs
//! microseconds.
//!
//! cat-file reads refs afresh for every line (loose refs from their files, `packed-refs`
//! again when it changed) and looks for objects written after it started (loose objects on
//! disk, new packs on a miss), so it answers as a new `rev-parse` would. It differs in one
//! way: a full object id that names no object does not resolve (rev-parse `--verify` takes it
//! without looking); every caller peels or needs the object anyway.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout};
use std::sync::Mutex;

use crate::cmd::GitCommand;
use crate::repo::rev_parse_in;
use crate::{Oid, Result};

/// Resolves revisions at the top level of one repository, with one environment.
#[derive(Debug)]
pub(crate) struct Resolver {
    dir: PathBuf,
    env: Vec<(String, String)>,
    batch: Mutex<Option<Batch>>,
}

/// The running `cat-file`.
#[derive(Debug)]
struct Batch {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Drop for Batch {
    fn drop(&mut self) {
        // Its stdin closes with it and it would exit by itself; do not leave it behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Resolver {
    pub(crate) fn new(dir: PathBuf, env: Vec<(String, String)>) -> Resolver {
        Resolver {
            dir,
            env,
            batch: Mutex::new(None),
        }
    }

    /// The object `rev` names, or `None` when it does not resolve. A revision cat-file cannot
    /// take on one line, or a cat-file that cannot be started or dies twice in a row, goes to
    /// `git rev-parse` instead.
    pub(crate) fn resolve(&self, rev: &str) -> Result<Option<Oid>> {
        if rev.contains(['\n', '\r', '\0']) || rev.trim() != rev || rev.is_empty() {
            return rev_parse_in(&self.dir, &self.env, rev);
        }
        let Ok(mut batch) = self.batch.lock() else {
            return rev_parse_in(&self.dir, &self.env, rev);
        };
        for _ in 0..2 {
            if batch.is_none() {
                match self.start() {
                    Ok(started) => *batch = Some(started),
                    Err(e) => {
                        tracing::debug!(target: "gaffer_git", error = %e, "cannot start git cat-file; resolving with rev-parse");
                        break;
                    }
                }
            }
            let Some(running) = batch.as_mut() else {
                break;
            };
            match ask(running, rev) {
                Some(answer) => return answer,
                // It died (or said something unexpected): start another once.
                None => *batch = None,
            }
        }
        drop(batch);
        rev_parse_in(&self.dir, &self.env, rev)
    }

    fn start(&self) -> Result<Batch> {
        let mut child = GitCommand::new(&self.dir, &self.env)
            .args(["cat-file", "--batch-check"])
            .spawn_batch()?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(crate::GitError::Parse(
                "git cat-file started without pipes".into(),
            ));
        };
        Ok(Batch {
            child,
            stdin,
            stdout: BufReader::new(stdout),
        })
    }
}

/// One question to a running cat-file; `None` when it did not answer as expected.
fn ask(batch: &mut Batch, rev: &str) -> Option<Result<Option<Oid>>> {
    batch.stdin.write_all(rev.as_bytes()).ok()?;
    batch.stdin.write_all(b"\n").ok()?;
    batch.stdin.flush().ok()?;
    let mut line = String::new();
    if batch.stdout.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let line = line.trim_end_matches('\n');
    // `<rev> missing` (or `ambiguous`): the revision names nothing (one thing).
    if line.ends_with(" missing") || line.ends_with(" ambiguous") {
        return Some(Ok(None));
    }
    // `<oid> <type> <size>`.
    let mut fields = line.split(' ');
    let (Some(oid), Some(_kind), Some(size), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return None;
    };
    size.parse::<u64>().ok()?;
    Some(oid.parse().map(Some))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gaffer_test_support::TestRepo;

    /// A cat-file that died (killed, or gone with its pipes) is started again for the next
    /// question, which gets the right answer.
    #[test]
    fn a_dead_cat_file_is_started_again() {
        let repo = TestRepo::new();
        let head: Oid = repo.head().parse().unwrap();
        let resolver = Resolver::new(repo.path().to_path_buf(), repo.env());
        assert_eq!(
            resolver.resolve("refs/heads/main").unwrap(),
            Some(head.clone())
        );
        let first = {
            let mut batch = resolver.batch.lock().unwrap();
            let running = batch.as_mut().unwrap();
            running.child.kill().unwrap();
            running.child.wait().unwrap();
            running.child.id()
        };
        assert_eq!(
            resolver.resolve("refs/heads/main").unwrap(),
            Some(head.clone())
        );
        assert_eq!(resolver.resolve("refs/heads/nope").unwrap(), None);
        let second = resolver.batch.lock().unwrap().as_ref().unwrap().child.id();
        assert_ne!(first, second, "a new cat-file answers");
    }
}
