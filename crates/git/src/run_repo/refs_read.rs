//! Reading a run repository's refs as plain files, without running git in it (its config and
//! hooks are the agent's).
//!
//! Only the files ref format is read: loose refs under `refs/` and `packed-refs`; a loose ref
//! wins over a packed one. Anything odd (a symlink, a symbolic ref, a file that is not an
//! object id, a reftable) is skipped, so a ref made that way reads as absent. Sizes and counts
//! are bounded, and nothing read is ever echoed into an error.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::Path;

use crate::Oid;

/// A loose ref is an object id and a newline; anything longer is not one.
const MAX_LOOSE_BYTES: u64 = 256;
/// A run repository's `packed-refs` holds a few refs; beyond this it is not read.
const MAX_PACKED_BYTES: u64 = 16 << 20;
/// Refs listed at most (for the report of what the run did besides its branch).
const MAX_REFS: usize = 10_000;
/// Directories under `refs/` followed at most this deep.
const MAX_DEPTH: usize = 32;

/// The value of `refname` in the run repository at `dir`, or `None` when it has no plain ref
/// by that name.
pub(super) fn read_ref(dir: &Path, refname: &str) -> Option<Oid> {
    if refname
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return None;
    }
    match loose(&dir.join(refname)) {
        Some(oid) => Some(oid),
        None => packed(dir).remove(refname),
    }
}

/// Every plain ref of the run repository at `dir` (at most [`MAX_REFS`]), by full name.
pub(super) fn read_refs(dir: &Path) -> BTreeMap<String, Oid> {
    let mut refs = packed(dir);
    let mut loose_refs = BTreeMap::new();
    walk(&dir.join("refs"), "refs", 0, &mut loose_refs);
    refs.extend(loose_refs);
    refs
}

fn walk(dir: &Path, prefix: &str, depth: usize, out: &mut BTreeMap<String, Oid>) {
    if depth > MAX_DEPTH || !is_real_dir(dir) {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if out.len() >= MAX_REFS {
            return;
        }
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let path = entry.path();
        let refname = format!("{prefix}/{name}");
        if is_real_dir(&path) {
            walk(&path, &refname, depth + 1, out);
        } else if !name.ends_with(".lock")
            && let Some(oid) = loose(&path)
        {
            out.insert(refname, oid);
        }
    }
}

/// A loose ref file's object id: a regular file (not a symlink) holding one.
fn loose(path: &Path) -> Option<Oid> {
    let text = read_regular(path, MAX_LOOSE_BYTES)?;
    text.trim_end().parse().ok()
}

/// The refs of `packed-refs`: `<oid> <refname>` lines; `#` headers and `^` peeled lines
/// skipped.
fn packed(dir: &Path) -> BTreeMap<String, Oid> {
    let Some(text) = read_regular(&dir.join("packed-refs"), MAX_PACKED_BYTES) else {
        return BTreeMap::new();
    };
    text.lines()
        .filter_map(|line| {
            let (oid, name) = line.split_once(' ')?;
            let oid: Oid = oid.parse().ok()?;
            name.starts_with("refs/").then(|| (name.to_owned(), oid))
        })
        .take(MAX_REFS)
        .collect()
}

/// The text of `path` if it is a regular file (symlinks not followed: they could name a FIFO
/// or any file of the user) of at most `max` bytes.
fn read_regular(path: &Path, max: u64) -> Option<String> {
    let meta = path.symlink_metadata().ok()?;
    if !meta.is_file() || meta.len() > max {
        return None;
    }
    let mut text = String::new();
    fs::File::open(path)
        .ok()?
        .take(max)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}

fn is_real_dir(path: &Path) -> bool {
    path.symlink_metadata().is_ok_and(|m| m.is_dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_loose_over_packed_and_skips_anything_odd() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let (a, b, c) = ("a".repeat(40), "b".repeat(40), "c".repeat(40));
        fs::create_dir_all(dir.join("refs/heads/gaffer")).unwrap();
        fs::write(
            dir.join("packed-refs"),
            format!(
                "# pack-refs with: peeled\n{a} refs/heads/main\n^{c}\n{a} refs/heads/gaffer/t\n"
            ),
        )
        .unwrap();
        fs::write(dir.join("refs/heads/gaffer/t"), format!("{b}\n")).unwrap();
        fs::write(dir.join("refs/heads/sym"), "ref: refs/heads/main\n").unwrap();
        fs::write(dir.join("refs/heads/x.lock"), format!("{c}\n")).unwrap();
        std::os::unix::fs::symlink(dir.join("refs/heads/gaffer/t"), dir.join("refs/heads/link"))
            .unwrap();

        assert_eq!(
            read_ref(dir, "refs/heads/gaffer/t"),
            Some(b.parse().unwrap())
        );
        assert_eq!(read_ref(dir, "refs/heads/main"), Some(a.parse().unwrap()));
        for absent in [
            "refs/heads/sym",
            "refs/heads/link",
            "refs/heads/../heads/main",
            "refs/heads/none",
        ] {
            assert_eq!(read_ref(dir, absent), None, "{absent}");
        }
        let all: Vec<(String, String)> = read_refs(dir)
            .into_iter()
            .map(|(name, oid)| (name, oid.to_string()))
            .collect();
        assert_eq!(
            all,
            [
                ("refs/heads/gaffer/t".to_owned(), b),
                ("refs/heads/main".to_owned(), a)
            ]
        );
    }
}
