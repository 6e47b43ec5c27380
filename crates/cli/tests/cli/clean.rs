//! `gaffer clean` and `gaffer down --clean`: idle worktrees (the pool, those of tasks that ended
//! or of no task) and dead `gaffer/` branches go; what a live task works with stays.

use crate::common::{GAFFER_TOML, Project, pid_alive, stderr_of, stdout_of, wait_until};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

/// The project's repository with a pool of two reusable worktrees.
fn pooled_project() -> Project {
    let project = Project::new();
    let toml = GAFFER_TOML.replace("worktree_pool = 0", "worktree_pool = 2");
    project.repo.write("gaffer.toml", &toml);
    project.repo.commit_all("a worktree pool");
    project
}

fn worktrees_root(project: &Project) -> PathBuf {
    project.state_dir().join("worktrees")
}

/// `git worktree list --porcelain`'s paths.
fn worktree_paths(project: &Project) -> Vec<String> {
    project
        .repo
        .git(&["worktree", "list", "--porcelain"])
        .lines()
        .filter_map(|l| l.strip_prefix("worktree "))
        .map(str::to_string)
        .collect()
}

fn gaffer_branches(project: &Project) -> Vec<String> {
    project
        .repo
        .git(&["branch", "--list", "gaffer/*", "--format=%(refname:short)"])
        .lines()
        .map(str::to_string)
        .collect()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// A leftover a crash would leave: `branch` with a worktree of its name under gaffer's root.
fn leave_worktree(project: &Project, branch: &str) -> PathBuf {
    let path = worktrees_root(project).join(branch.trim_start_matches("gaffer/"));
    let path_text = path.to_str().unwrap();
    if gaffer_branches(project).iter().any(|b| b == branch) {
        project
            .repo
            .git(&["worktree", "add", "-q", path_text, branch]);
    } else {
        project
            .repo
            .git(&["worktree", "add", "-q", "-b", branch, path_text, "main"]);
    }
    path
}

#[test]
fn clean_removes_idle_worktrees_and_dead_branches_and_keeps_live_work() {
    let project = pooled_project();
    let daemon = project.start_daemon();
    let merged = project.add_task("Write the notes", &[]);
    let failed = project.add_task("A broken change", &[]);
    let merged_task = project.wait_for_status(merged, "merged")["task"].clone();
    let failed_task = project.wait_for_status(failed, "failed")["task"].clone();
    let live = project.add_task("A slow change", &[]);
    let live_task = project.wait_for_status(live, "coding")["task"].clone();
    let branch = |task: &Value| task["branch"].as_str().unwrap().to_string();
    let live_worktree =
        worktrees_root(&project).join(branch(&live_task).trim_start_matches("gaffer/"));
    wait_until("the live task's worktree", Duration::from_secs(60), || {
        live_worktree.exists().then_some(())
    });
    // The ended tasks' worktrees went back to the pool.
    wait_until("pooled worktrees", Duration::from_secs(60), || {
        let pool = worktrees_root(&project).join(".pool");
        (std::fs::read_dir(pool).ok()?.count() > 0).then_some(())
    });
    // What a crash leaves: the merged task's worktree and branch, and a branch and worktree
    // of no task.
    let leftover = leave_worktree(&project, &branch(&merged_task));
    let orphan = leave_worktree(&project, "gaffer/t-99-nobody");

    // Through the daemon.
    let report = project.json(&["clean", "--json"]);
    let removed = strings(&report["worktrees_removed"]);
    assert!(
        removed.contains(&leftover.display().to_string())
            && removed.contains(&orphan.display().to_string()),
        "{report:#}"
    );
    assert!(!strings(&report["pool_removed"]).is_empty(), "{report:#}");
    let deleted = strings(&report["branches_deleted"]);
    assert!(
        deleted.contains(&branch(&merged_task)) && deleted.contains(&"gaffer/t-99-nobody".into()),
        "{report:#}"
    );
    let listed = worktree_paths(&project);
    assert_eq!(
        listed,
        vec![
            project.path().display().to_string(),
            live_worktree.display().to_string()
        ],
        "only the main worktree and the live task's are left"
    );
    let branches = gaffer_branches(&project);
    assert!(branches.contains(&branch(&live_task)), "{branches:?}");
    // A failed task keeps its branch: a retry goes on from it.
    assert!(branches.contains(&branch(&failed_task)), "{branches:?}");
    assert!(!branches.contains(&branch(&merged_task)), "{branches:?}");
    assert!(!branches.contains(&"gaffer/t-99-nobody".to_string()));
    assert_eq!(project.status_of(live), "coding", "the live task works on");

    // Nothing left: said so.
    let out = project.gaffer().arg("clean").output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(stdout_of(&out).trim(), "nothing to clean");

    // `down --clean`: the daemon stops, then the leftovers of the next crash go.
    let orphan = leave_worktree(&project, "gaffer/t-98-nobody");
    let out = project.gaffer().args(["down", "--clean"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let said = stdout_of(&out);
    assert!(said.contains("gaffer is down"), "{said}");
    assert!(
        said.contains(&format!("removed worktree {}", orphan.display()))
            && said.contains("deleted branch gaffer/t-98-nobody"),
        "{said}"
    );
    assert!(!pid_alive(daemon.pid));
    assert!(!orphan.exists());
    assert!(
        live_worktree.exists(),
        "the live task resumes on the next start"
    );
    assert!(gaffer_branches(&project).contains(&branch(&live_task)));

    // Without a daemon, `gaffer clean` does it itself.
    leave_worktree(&project, "gaffer/t-97-nobody");
    let out = project.gaffer().arg("clean").output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("deleted branch gaffer/t-97-nobody"),
        "{}",
        stdout_of(&out)
    );
    assert_eq!(worktree_paths(&project).len(), 2);
}
