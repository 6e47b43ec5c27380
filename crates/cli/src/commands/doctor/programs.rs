//! Which programs a shell command line starts, and whether they are installed: `doctor` checks
//! the verify and setup commands and `command` agents with it, before a task finds out.

use std::path::{Path, PathBuf};

/// Words that start no program: shell keywords and builtins.
const BUILTINS: &[&str] = &[
    "!", ".", ":", "[", "[[", "{", "}", "alias", "break", "case", "cd", "command", "continue",
    "do", "done", "echo", "elif", "else", "esac", "eval", "exit", "export", "false", "fi", "for",
    "function", "if", "in", "local", "printf", "pwd", "read", "readonly", "return", "set", "shift",
    "source", "test", "then", "trap", "true", "type", "ulimit", "umask", "unset", "until", "wait",
    "while",
];

/// Words that run the program after them (with their own options first).
const WRAPPERS: &[&str] = &[
    "env", "exec", "nice", "nohup", "time", "timeout", "xvfb-run",
];

/// The programs `command` starts: the first word of each simple command (after variable
/// assignments and wrappers such as `env` or `timeout 60`). Words the shell computes (`$X`,
/// `$(…)`) are left out: what they name is known only when the command runs.
pub fn programs(command: &str) -> Vec<String> {
    let mut found = Vec::new();
    let separated = command.replace("&&", "\n").replace("||", "\n");
    for segment in separated.split(['\n', ';', '|', '&', '(', ')']) {
        let mut words = segment.split_whitespace().map(unquote);
        let mut after_wrapper = false;
        for word in words.by_ref() {
            if is_assignment(&word)
                || (after_wrapper && (word.starts_with('-') || is_number(&word)))
            {
                continue;
            }
            if WRAPPERS.contains(&word.as_str()) {
                after_wrapper = true;
                continue;
            }
            if !BUILTINS.contains(&word.as_str())
                && !word.starts_with('$')
                && !word.starts_with('`')
                && !word.starts_with('#')
                && !found.contains(&word)
            {
                found.push(word);
            }
            break;
        }
    }
    found
}

/// Where `program` is: a path (relative to `dir`) when it has a `/`, else the first match on
/// `path` (a `PATH` value). `None` when it is not there or not executable.
pub fn locate(program: &str, dir: &Path, path: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    if program.contains('/') {
        let candidate = dir.join(program);
        return is_executable(&candidate).then_some(candidate);
    }
    std::env::split_paths(path?)
        .map(|d| d.join(program))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn unquote(word: &str) -> String {
    word.trim_matches(['"', '\'']).to_string()
}

fn is_number(word: &str) -> bool {
    word.trim_end_matches(['s', 'm', 'h'])
        .parse::<f64>()
        .is_ok()
}

fn is_assignment(word: &str) -> bool {
    match word.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::programs;

    #[test]
    fn the_programs_of_common_verify_commands() {
        assert_eq!(programs("cargo test --workspace"), ["cargo"]);
        assert_eq!(programs("pytest -q"), ["pytest"]);
        assert_eq!(
            programs("cd web && CI=1 npm test -- --run; make lint"),
            ["npm", "make"]
        );
        assert_eq!(
            programs("env RUST_LOG=off timeout 600 cargo nextest run"),
            ["cargo"]
        );
        assert_eq!(
            programs("./scripts/check.sh | tee out.log"),
            ["./scripts/check.sh", "tee"]
        );
        assert_eq!(programs("\"python3\" -m pytest || true"), ["python3"]);
        assert_eq!(programs("$TEST_CMD; test -f x"), Vec::<String>::new());
        assert_eq!(programs("(cd sub && go test ./...)"), ["go"]);
        assert_eq!(programs("true"), Vec::<String>::new());
    }
}
