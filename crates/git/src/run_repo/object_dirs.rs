//! The object directories a repository reads from: its own and its alternates.

use std::path::{Path, PathBuf};

/// How deep git follows alternates of alternates.
const MAX_DEPTH: usize = 5;

/// `objects` (a trusted repository's object directory) followed by every directory its
/// `info/alternates` names, recursively as git does, without duplicates. Relative entries are
/// relative to the directory listing them; entries that do not exist are skipped, as git
/// skips them.
pub(super) fn object_dirs(objects: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![resolved(objects)];
    let mut queue = vec![(dirs[0].clone(), 0)];
    while let Some((dir, depth)) = queue.pop() {
        if depth == MAX_DEPTH {
            continue;
        }
        for alternate in alternates_of(&dir).iter().filter(|a| a.is_dir()) {
            let alternate = resolved(alternate);
            if !dirs.contains(&alternate) {
                dirs.push(alternate.clone());
                queue.push((alternate, depth + 1));
            }
        }
    }
    dirs
}

/// The directories `objects/info/alternates` lists, made absolute.
fn alternates_of(objects: &Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(objects.join("info/alternates")) else {
        return Vec::new();
    };
    text.lines()
        .map(str::trim_end)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| objects.join(line))
        .collect()
}

fn resolved(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_alternates_relative_and_chained_once_each() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let [a, b, c] = ["a", "b", "c"].map(|n| root.join(n).join("objects"));
        for dir in [&a, &b, &c] {
            std::fs::create_dir_all(dir.join("info")).unwrap();
        }
        std::fs::write(
            a.join("info/alternates"),
            "../../b/objects\n# note\n/gone\n",
        )
        .unwrap();
        std::fs::write(b.join("info/alternates"), format!("{}\n", c.display())).unwrap();
        std::fs::write(c.join("info/alternates"), format!("{}\n", a.display())).unwrap();
        assert_eq!(object_dirs(&a), [a.clone(), b, c]);
    }
}
