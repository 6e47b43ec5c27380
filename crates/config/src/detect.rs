//! Guessing a project's build and test commands from the files at its root, for `gaffer init`.
//!
//! Only the given directory is looked at (not its subdirectories), and only the few files that
//! decide the answer are read.

use std::fs;
use std::path::Path;

/// A build system found in a directory, and the commands it suggests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    /// `cargo`, `npm`, `pnpm`, `yarn`, `uv`, `pytest`, `go` or `make`.
    pub kind: &'static str,
    /// The build command, when the project has a separate one.
    pub build: Option<String>,
    /// The test command.
    pub test: String,
    /// The command that prepares a fresh checkout (installs dependencies), when one is needed.
    pub setup: Option<String>,
    /// Why this was chosen, for the person running `gaffer init`, e.g. `found Cargo.toml`.
    pub evidence: String,
}

impl Detected {
    /// The verify command this suggests: the build (when there is one) and then the tests, in
    /// one shell command.
    pub fn verify_command(&self) -> String {
        match &self.build {
            Some(build) => format!("{build} && {}", self.test),
            None => self.test.clone(),
        }
    }
}

/// Every build system found at the root of `dir`, most specific first. Empty when none is found
/// or the directory cannot be read.
pub fn detect(dir: &Path) -> Vec<Detected> {
    let mut found = Vec::new();
    found.extend(cargo(dir));
    found.extend(node(dir));
    found.extend(python(dir));
    found.extend(go(dir));
    found.extend(make(dir));
    found
}

fn cargo(dir: &Path) -> Option<Detected> {
    let manifest = read(dir, "Cargo.toml")?;
    let workspace = manifest.lines().any(|line| line.trim() == "[workspace]");
    let (flag, evidence) = if workspace {
        (" --workspace", "found Cargo.toml (a workspace)")
    } else {
        ("", "found Cargo.toml")
    };
    Some(Detected {
        kind: "cargo",
        build: Some(format!("cargo build{flag}")),
        test: format!("cargo test{flag}"),
        setup: None,
        evidence: evidence.to_string(),
    })
}

fn node(dir: &Path) -> Option<Detected> {
    let manifest = read(dir, "package.json")?;
    let scripts = serde_json::from_str::<serde_json::Value>(&manifest)
        .ok()
        .and_then(|json| json.get("scripts").cloned());
    let has_script = |name: &str| scripts.as_ref().is_some_and(|s| s.get(name).is_some());

    let (kind, lock, setup) = if exists(dir, "pnpm-lock.yaml") {
        (
            "pnpm",
            Some("pnpm-lock.yaml"),
            "pnpm install --frozen-lockfile",
        )
    } else if exists(dir, "yarn.lock") {
        let setup = if exists(dir, ".yarnrc.yml") {
            "yarn install --immutable"
        } else {
            "yarn install --frozen-lockfile"
        };
        ("yarn", Some("yarn.lock"), setup)
    } else if exists(dir, "package-lock.json") {
        ("npm", Some("package-lock.json"), "npm ci")
    } else {
        ("npm", None, "npm install")
    };
    let mut evidence = match lock {
        Some(lock) => format!("found package.json and {lock}"),
        None => "found package.json (no lock file)".to_string(),
    };
    if !has_script("test") {
        evidence.push_str("; package.json has no \"test\" script yet");
    }
    Some(Detected {
        kind,
        build: has_script("build").then(|| format!("{kind} run build")),
        test: format!("{kind} test"),
        setup: Some(setup.to_string()),
        evidence,
    })
}

fn python(dir: &Path) -> Vec<Detected> {
    let mut found = Vec::new();
    let pyproject = exists(dir, "pyproject.toml");
    if pyproject && exists(dir, "uv.lock") {
        found.push(Detected {
            kind: "uv",
            build: None,
            test: "uv run pytest".to_string(),
            setup: Some("uv sync".to_string()),
            evidence: "found pyproject.toml and uv.lock".to_string(),
        });
    }
    let marker = ["pyproject.toml", "setup.cfg", "pytest.ini", "tox.ini"]
        .into_iter()
        .find(|name| exists(dir, name));
    if let Some(marker) = marker {
        found.push(Detected {
            kind: "pytest",
            build: None,
            test: "pytest".to_string(),
            setup: None,
            evidence: format!("found {marker}"),
        });
    }
    found
}

fn go(dir: &Path) -> Option<Detected> {
    exists(dir, "go.mod").then(|| Detected {
        kind: "go",
        build: Some("go build ./...".to_string()),
        test: "go test ./...".to_string(),
        setup: None,
        evidence: "found go.mod".to_string(),
    })
}

fn make(dir: &Path) -> Option<Detected> {
    let (name, makefile) = ["GNUmakefile", "makefile", "Makefile"]
        .into_iter()
        .find_map(|name| read(dir, name).map(|text| (name, text)))?;
    has_make_target(&makefile, "test").then(|| Detected {
        kind: "make",
        build: Some("make".to_string()),
        test: "make test".to_string(),
        setup: None,
        evidence: format!("found {name} with a `test` target"),
    })
}

/// Whether a makefile defines `target` as a rule (`test:` or `test check:`, not `.PHONY: test`
/// and not a variable such as `test := …`).
fn has_make_target(makefile: &str, target: &str) -> bool {
    makefile.lines().any(|line| {
        if line.starts_with(|c: char| c.is_whitespace() || c == '.' || c == '#') {
            return false;
        }
        let Some((targets, rest)) = line.split_once(':') else {
            return false;
        };
        !rest.trim_start_matches(':').starts_with('=')
            && targets.split_whitespace().any(|t| t == target)
    })
}

fn exists(dir: &Path, name: &str) -> bool {
    dir.join(name).is_file()
}

fn read(dir: &Path, name: &str) -> Option<String> {
    fs::read_to_string(dir.join(name)).ok()
}

#[cfg(test)]
mod tests {
    use super::has_make_target;

    #[test]
    fn make_targets() {
        assert!(has_make_target(
            "all:\n\tcc x.c\ntest: all\n\t./x\n",
            "test"
        ));
        assert!(has_make_target("check test:\n\ttrue\n", "test"));
        assert!(!has_make_target(".PHONY: test\n", "test"));
        assert!(!has_make_target("test := 1\n", "test"));
        assert!(!has_make_target("test ::= 1\n", "test"));
        assert!(has_make_target("test::\n\ttrue\n", "test"));
        assert!(!has_make_target("tests:\n\ttrue\n", "test"));
        assert!(!has_make_target("\ttest: x\n", "test"));
    }
}
