use std::fs;
use std::path::Path;

use gaffer_config::{Detected, detect};

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn kinds(dir: &Path) -> Vec<&'static str> {
    detect(dir).into_iter().map(|d| d.kind).collect()
}

fn only(files: &[(&str, &str)]) -> Detected {
    let dir = project(files);
    let mut found = detect(dir.path());
    assert_eq!(found.len(), 1, "{found:?}");
    found.remove(0)
}

#[test]
fn nothing_in_an_empty_or_missing_directory() {
    let dir = project(&[]);
    assert!(detect(dir.path()).is_empty());
    assert!(detect(&dir.path().join("missing")).is_empty());
}

#[test]
fn cargo() {
    let found = only(&[("Cargo.toml", "[package]\nname = \"x\"\n")]);
    assert_eq!(
        found,
        Detected {
            kind: "cargo",
            build: Some("cargo build".into()),
            test: "cargo test".into(),
            setup: None,
            evidence: "found Cargo.toml".into(),
        }
    );
    assert_eq!(found.verify_command(), "cargo build && cargo test");

    let workspace = only(&[("Cargo.toml", "[workspace]\nmembers = [\"a\"]\n")]);
    assert_eq!(workspace.test, "cargo test --workspace");
    assert_eq!(workspace.build.as_deref(), Some("cargo build --workspace"));
}

#[test]
fn node_package_managers_by_lock_file() {
    let with_build = r#"{"scripts": {"build": "tsc", "test": "vitest"}}"#;
    let without_build = r#"{"scripts": {"test": "jest"}}"#;

    let pnpm = only(&[("package.json", with_build), ("pnpm-lock.yaml", "")]);
    assert_eq!(pnpm.kind, "pnpm");
    assert_eq!(pnpm.test, "pnpm test");
    assert_eq!(pnpm.build.as_deref(), Some("pnpm run build"));
    assert_eq!(
        pnpm.setup.as_deref(),
        Some("pnpm install --frozen-lockfile")
    );
    assert_eq!(pnpm.evidence, "found package.json and pnpm-lock.yaml");

    let yarn = only(&[("package.json", without_build), ("yarn.lock", "")]);
    assert_eq!(yarn.kind, "yarn");
    assert_eq!(yarn.test, "yarn test");
    assert_eq!(yarn.build, None);

    let npm = only(&[("package.json", with_build), ("package-lock.json", "{}")]);
    assert_eq!(npm.kind, "npm");
    assert_eq!(npm.verify_command(), "npm run build && npm test");
    assert_eq!(npm.setup.as_deref(), Some("npm ci"));

    let bare = only(&[("package.json", "{}")]);
    assert_eq!(bare.kind, "npm");
    assert_eq!(
        bare.evidence,
        "found package.json (no lock file); package.json has no \"test\" script yet"
    );
}

#[test]
fn python() {
    let dir = project(&[("pyproject.toml", "[project]\n"), ("uv.lock", "")]);
    let found = detect(dir.path());
    assert_eq!(
        found
            .iter()
            .map(|d| (d.kind, d.test.as_str()))
            .collect::<Vec<_>>(),
        [("uv", "uv run pytest"), ("pytest", "pytest")]
    );
    for marker in ["pyproject.toml", "setup.cfg", "pytest.ini", "tox.ini"] {
        let found = only(&[(marker, "")]);
        assert_eq!((found.kind, found.test.as_str()), ("pytest", "pytest"));
        assert_eq!(found.evidence, format!("found {marker}"));
    }
}

#[test]
fn go() {
    let found = only(&[("go.mod", "module example.com/x\n")]);
    assert_eq!(found.kind, "go");
    assert_eq!(found.build.as_deref(), Some("go build ./..."));
    assert_eq!(found.test, "go test ./...");
}

#[test]
fn make_only_with_a_test_target() {
    let found = only(&[(
        "Makefile",
        "all:\n\tcc -o x x.c\n\ntest: all\n\t./x --selftest\n",
    )]);
    assert_eq!(found.kind, "make");
    assert_eq!(found.verify_command(), "make && make test");
    assert_eq!(found.evidence, "found Makefile with a `test` target");

    let dir = project(&[("Makefile", "all:\n\tcc -o x x.c\n")]);
    assert!(detect(dir.path()).is_empty());
}

#[test]
fn most_specific_first() {
    let dir = project(&[
        ("Makefile", "test:\n\tcargo test\n"),
        ("Cargo.toml", "[package]\n"),
        ("package.json", "{}"),
        ("go.mod", ""),
        ("tox.ini", ""),
    ]);
    assert_eq!(kinds(dir.path()), ["cargo", "npm", "pytest", "go", "make"]);
}
