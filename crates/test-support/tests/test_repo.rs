//! The test repository and hermetic env behave as promised.

use gaffer_test_support::{TestRepo, git_cmd, hermetic_git_env};

#[test]
fn new_repo_has_one_commit_on_main() {
    let repo = TestRepo::new();
    assert_eq!(repo.git(&["rev-list", "--count", "HEAD"]), "1");
    assert_eq!(repo.git(&["symbolic-ref", "--short", "HEAD"]), "main");
    assert_eq!(repo.read("README.md"), "# test repository\n");
    assert_eq!(repo.head().len(), 40);
}

#[test]
fn commits_are_reproducible_and_use_the_fixed_identity() {
    let a = TestRepo::new();
    let b = TestRepo::new();
    assert_eq!(
        a.head(),
        b.head(),
        "fixed dates and identity give identical commits"
    );
    assert_eq!(
        a.git(&["log", "-1", "--format=%an <%ae> %cn <%ce> %aI"]),
        "Test Author <author@example.com> Test Committer <committer@example.com> 2026-01-01T00:00:00Z"
    );
}

#[test]
fn write_commit_and_rev_parse() {
    let repo = TestRepo::new();
    let first = repo.head();
    repo.write("a/b/c.txt", "hello");
    let second = repo.commit_all("add c");
    assert_ne!(first, second);
    assert_eq!(repo.rev_parse("HEAD~1"), first);
    assert_eq!(repo.read("a/b/c.txt"), "hello");
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

#[test]
fn global_config_is_ignored() {
    let repo = TestRepo::new();
    // A config file in the private home must not be read: GIT_CONFIG_GLOBAL is /dev/null.
    std::fs::write(repo.home().join(".gitconfig"), "[user]\n\tname = Leaked\n").unwrap();
    let out = git_cmd(repo.path(), &repo.env())
        .args(["config", "--get", "user.name"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "user.name must be unset");
}

#[test]
fn hermetic_env_pins_locale_and_prompts() {
    let env = hermetic_git_env(std::path::Path::new("/nowhere"));
    let get = |k: &str| {
        env.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("HOME"), Some("/nowhere"));
    assert_eq!(get("LC_ALL"), Some("C"));
    assert_eq!(get("GIT_TERMINAL_PROMPT"), Some("0"));
    assert_eq!(get("GIT_CONFIG_NOSYSTEM"), Some("1"));
}

#[test]
fn with_files_creates_nested_files_in_one_commit() {
    let repo = TestRepo::with_files(250);
    assert_eq!(repo.git(&["rev-list", "--count", "HEAD"]), "1");
    let files = repo.git(&["ls-files"]);
    assert_eq!(files.lines().count(), 251);
    assert_eq!(
        repo.read("src/d0/s2/file249.txt"),
        "file 249\nsome content for line two\n"
    );
}
