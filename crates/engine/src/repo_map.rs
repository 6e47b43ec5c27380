//! A compact map of the repository for the planner: its files and their main symbols, within a
//! byte budget, most central files first, so that a plan is made against the code as it is.
//!
//! Symbols come from a cheap line scanner, not a parser: top-level Rust items (`fn`, `struct`,
//! `enum`, `trait`, `impl`, `mod`, `type`), Python `def` and `class`, JavaScript and TypeScript
//! `function`, `class`, `interface`, `type` and `export`s, Go `func` (methods as `Type.Name`) and
//! `type`. Good enough to show where things are; it does not need to be exact.
//!
//! Which files are shown with their symbols when not all fit: those referenced by the most other
//! files (a file is referenced where its stem appears as a word, as in `use crate::board` or
//! `import board`), then the largest. Files that do not fit are listed by name while the budget
//! allows, then counted.

use std::collections::{HashMap, HashSet};
use std::path::Path;

/// About 4,000 tokens.
pub(crate) const DEFAULT_BUDGET: usize = 16 * 1024;
/// Files larger than this are listed but not scanned.
const MAX_SCAN_BYTES: u64 = 512 * 1024;
/// Symbols shown per file at most.
const MAX_SYMBOLS: usize = 24;
/// Files scanned at most (a huge monorepo still gets a map, of its first files).
const MAX_FILES: usize = 20_000;

/// One file of the map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileEntry {
    pub path: String,
    pub size: u64,
    pub symbols: Vec<String>,
    /// Other files that mention this file's stem.
    pub references: usize,
}

/// The map of the repository at `root`, over `files` (repository-relative, as `git ls-files`
/// lists them), in at most about `budget` bytes.
pub(crate) fn build(root: &Path, files: &[String], budget: usize) -> String {
    let mut entries = Vec::new();
    let mut words: Vec<HashSet<String>> = Vec::new();
    let mut seen = HashSet::new();
    for path in files.iter().take(MAX_FILES) {
        if !seen.insert(path.as_str()) {
            continue;
        }
        let full = root.join(path);
        let size = std::fs::metadata(&full).map(|m| m.len()).unwrap_or(0);
        let language = Language::of(path);
        let text = match language {
            Some(_) if size <= MAX_SCAN_BYTES => std::fs::read_to_string(&full).ok(),
            _ => None,
        };
        let symbols = match (language, &text) {
            (Some(language), Some(text)) => symbols(language, text),
            _ => Vec::new(),
        };
        words.push(text.as_deref().map(identifiers).unwrap_or_default());
        entries.push(FileEntry {
            path: path.clone(),
            size,
            symbols,
            references: 0,
        });
    }
    rank(&mut entries, &words);
    render(&entries, budget)
}

/// Counts, for each file, the other files whose identifiers include its stem.
fn rank(entries: &mut [FileEntry], words: &[HashSet<String>]) {
    let mut by_stem: HashMap<String, usize> = HashMap::new();
    for (i, entry) in entries.iter().enumerate() {
        if let Some(stem) = stem(&entry.path) {
            // A stem shared by several files (`mod.rs`, `index.ts`) says nothing.
            by_stem
                .entry(stem)
                .and_modify(|e| *e = usize::MAX)
                .or_insert(i);
        }
    }
    for (stem, index) in by_stem {
        if index == usize::MAX {
            continue;
        }
        let count = words
            .iter()
            .enumerate()
            .filter(|(j, w)| *j != index && w.contains(&stem))
            .count();
        if let Some(entry) = entries.get_mut(index) {
            entry.references = count;
        }
    }
}

/// The file's name without directory and extension, when it makes a useful word.
fn stem(path: &str) -> Option<String> {
    let name = path.rsplit('/').next()?;
    let stem = name.split('.').next()?;
    let generic = [
        "mod", "lib", "main", "index", "__init__", "init", "utils", "util", "test", "tests",
    ];
    (stem.len() >= 3 && !generic.contains(&stem)).then(|| stem.to_string())
}

/// Every identifier-like word of a text.
fn identifiers(text: &str) -> HashSet<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| w.len() >= 3)
        .map(str::to_string)
        .collect()
}

/// The map's text: the chosen files with their symbols in path order, then the other files'
/// names while the budget allows.
pub(crate) fn render(entries: &[FileEntry], budget: usize) -> String {
    let mut order: Vec<&FileEntry> = entries.iter().collect();
    order.sort_by(|a, b| {
        b.references
            .cmp(&a.references)
            .then(b.symbols.is_empty().cmp(&a.symbols.is_empty()).reverse())
            .then(b.size.cmp(&a.size))
            .then(a.path.cmp(&b.path))
    });
    let header_room = 200;
    let mut used = header_room;
    let mut chosen: Vec<(&FileEntry, String)> = Vec::new();
    let mut rest: Vec<&FileEntry> = Vec::new();
    for entry in order {
        let line = line_of(entry);
        if used + line.len() <= budget {
            used += line.len();
            chosen.push((entry, line));
        } else {
            rest.push(entry);
        }
    }
    chosen.sort_by(|a, b| a.0.path.cmp(&b.0.path));
    let mut out = format!(
        "{} files tracked; {} shown with their main symbols (the most referenced and largest \
         first when not all fit).\n\n",
        entries.len(),
        chosen.len()
    );
    for (_, line) in &chosen {
        out.push_str(line);
    }
    if !rest.is_empty() {
        rest.sort_by(|a, b| a.path.cmp(&b.path));
        let mut names = Vec::new();
        for entry in &rest {
            if used + entry.path.len() + 2 > budget {
                break;
            }
            used += entry.path.len() + 2;
            names.push(entry.path.as_str());
        }
        if !names.is_empty() {
            out.push_str(&format!("\nAlso: {}\n", names.join(", ")));
        }
        let left = rest.len() - names.len();
        if left > 0 {
            out.push_str(&format!("\n… and {left} more files not listed.\n"));
        }
    }
    out
}

fn line_of(entry: &FileEntry) -> String {
    let size = human_size(entry.size);
    if entry.symbols.is_empty() {
        return format!("{} ({size})\n", entry.path);
    }
    let mut symbols = entry.symbols.clone();
    let more = symbols.len().saturating_sub(MAX_SYMBOLS);
    symbols.truncate(MAX_SYMBOLS);
    let more = if more > 0 {
        format!(", … {more} more")
    } else {
        String::new()
    };
    format!("{} ({size}): {}{more}\n", entry.path, symbols.join(", "))
}

fn human_size(bytes: u64) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    }
}

/// The languages the scanner knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Language {
    Rust,
    Python,
    Script,
    Go,
}

impl Language {
    fn of(path: &str) -> Option<Language> {
        let ext = path.rsplit_once('.')?.1;
        Some(match ext {
            "rs" => Language::Rust,
            "py" => Language::Python,
            "js" | "jsx" | "mjs" | "cjs" | "ts" | "tsx" | "mts" | "cts" => Language::Script,
            "go" => Language::Go,
            _ => return None,
        })
    }
}

/// The main symbols of a source file, in file order, each once.
pub(crate) fn symbols(language: Language, text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        let symbol = match language {
            Language::Rust => rust(line),
            Language::Python => python(line),
            Language::Script => script(line),
            Language::Go => go(line),
        };
        if let Some(symbol) = symbol
            && !out.contains(&symbol)
        {
            out.push(symbol);
        }
    }
    out
}

/// The identifier at the start of `rest`.
fn ident(rest: &str) -> Option<&str> {
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .unwrap_or(rest.len());
    let name = &rest[..end];
    (!name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit())).then_some(name)
}

/// Strips each of `prefixes` that `text` starts with (in any order, repeatedly).
fn strip_words<'a>(mut text: &'a str, prefixes: &[&str]) -> &'a str {
    loop {
        let before = text;
        for prefix in prefixes {
            if let Some(rest) = text.strip_prefix(prefix) {
                text = rest.trim_start();
            }
        }
        if text == before {
            return text;
        }
    }
}

fn rust(line: &str) -> Option<String> {
    // Top-level items only: methods and nested items are too many for a map.
    if line.starts_with(char::is_whitespace) {
        return None;
    }
    let mut rest = line;
    if rest.starts_with("pub(") {
        rest = rest.split_once(')').map(|(_, r)| r.trim_start())?;
    }
    let rest = strip_words(
        rest,
        &[
            "pub ",
            "async ",
            "const ",
            "unsafe ",
            "extern \"C\" ",
            "default ",
        ],
    );
    for kind in ["fn", "struct", "enum", "trait", "mod", "type", "union"] {
        if let Some(after) = rest.strip_prefix(kind).and_then(|r| r.strip_prefix(' ')) {
            return ident(after.trim_start()).map(|name| format!("{kind} {name}"));
        }
    }
    if rest.starts_with("impl") && matches!(rest.as_bytes().get(4), Some(b' ' | b'<')) {
        let header = rest
            .split(['{', '\n'])
            .next()
            .unwrap_or(rest)
            .split(" where")
            .next()
            .unwrap_or(rest)
            .trim();
        return Some(header.to_string());
    }
    None
}

fn python(line: &str) -> Option<String> {
    if line.starts_with(char::is_whitespace) {
        return None;
    }
    let rest = strip_words(line, &["async "]);
    if let Some(after) = rest.strip_prefix("def ") {
        return ident(after).map(|n| format!("def {n}"));
    }
    if let Some(after) = rest.strip_prefix("class ") {
        return ident(after).map(|n| format!("class {n}"));
    }
    None
}

fn script(line: &str) -> Option<String> {
    if line.starts_with(char::is_whitespace) {
        return None;
    }
    let exported = line.starts_with("export ");
    let rest = strip_words(
        line,
        &["export ", "default ", "async ", "declare ", "abstract "],
    );
    let rest = rest.strip_prefix("function*").map_or(rest, |r| r);
    for kind in ["function", "class", "interface", "type", "enum"] {
        if let Some(after) = rest.strip_prefix(kind).and_then(|r| r.strip_prefix(' ')) {
            let kind = if kind == "function" && rest.starts_with("function*") {
                "function*"
            } else {
                kind
            };
            return ident(after.trim_start()).map(|name| format!("{kind} {name}"));
        }
    }
    if exported {
        for kind in ["const ", "let ", "var "] {
            if let Some(after) = rest.strip_prefix(kind) {
                return ident(after).map(|name| format!("export {name}"));
            }
        }
    }
    None
}

fn go(line: &str) -> Option<String> {
    if let Some(after) = line.strip_prefix("func ") {
        if let Some(receiver) = after.strip_prefix('(') {
            // func (s *Server) Start(…) → Server.Start
            let (recv, rest) = receiver.split_once(')')?;
            let ty = recv
                .split_whitespace()
                .last()?
                .trim_start_matches('*')
                .split('[')
                .next()?;
            return ident(rest.trim_start()).map(|name| format!("func {ty}.{name}"));
        }
        return ident(after).map(|name| format!("func {name}"));
    }
    if let Some(after) = line.strip_prefix("type ") {
        return ident(after).map(|name| format!("type {name}"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_items_at_the_top_level() {
        let text = "\
use std::fmt;
pub struct Board {
    pub(crate) fn inner() {}
}
pub(crate) async fn open(dir: &Path) -> Board {}
impl<T: Clone> Store for Sqlite<T> where T: Send {
impl Board {
pub enum Kind { A }
trait Port {}
pub mod jobs;
const LIMIT: usize = 3;
pub const fn zero() -> u32 { 0 }
fn main() {}
";
        assert_eq!(
            symbols(Language::Rust, text),
            [
                "struct Board",
                "fn open",
                "impl<T: Clone> Store for Sqlite<T>",
                "impl Board",
                "enum Kind",
                "trait Port",
                "mod jobs",
                "fn zero",
                "fn main"
            ]
        );
    }

    #[test]
    fn python_js_ts_and_go() {
        let py = "import os\nclass Store(Base):\n    def method(self):\n        pass\ndef main():\nasync def serve():\n";
        assert_eq!(
            symbols(Language::Python, py),
            ["class Store", "def main", "def serve"]
        );
        let ts = "\
import x from 'y';
export default class App {}
export async function load(id: string) {}
function helper() {}
export const routes = [];
export interface Props { a: number }
export type Id = string;
const local = 1;
  function nested() {}
";
        assert_eq!(
            symbols(Language::Script, ts),
            [
                "class App",
                "function load",
                "function helper",
                "export routes",
                "interface Props",
                "type Id"
            ]
        );
        let go = "package main\nfunc main() {}\nfunc (s *Server) Start(ctx context.Context) error {\ntype Server struct {\nfunc (l List[T]) Len() int {\n";
        assert_eq!(
            symbols(Language::Go, go),
            [
                "func main",
                "func Server.Start",
                "type Server",
                "func List.Len"
            ]
        );
    }

    #[test]
    fn the_most_referenced_files_come_first_within_the_budget() {
        let dir = tempfile::tempdir().unwrap();
        let write = |path: &str, text: &str| {
            let full = dir.path().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, text).unwrap();
        };
        write("src/board.rs", "pub struct Board;\npub fn open() {}\n");
        write("src/engine.rs", "use crate::board;\npub fn run() {}\n");
        write(
            "src/server.rs",
            "use crate::board;\nuse crate::engine;\npub fn serve() {}\n",
        );
        write("README.md", "# readme\n");
        write(
            "src/lonely.rs",
            &format!("pub fn {}() {{}}\n", "x".repeat(400)),
        );
        let files: Vec<String> = [
            "README.md",
            "src/board.rs",
            "src/engine.rs",
            "src/lonely.rs",
            "src/server.rs",
        ]
        .map(String::from)
        .to_vec();

        let full = build(dir.path(), &files, DEFAULT_BUDGET);
        assert!(full.starts_with("5 files tracked; 5 shown"), "{full}");
        assert!(
            full.contains("src/board.rs (35 B): struct Board, fn open\n"),
            "{full}"
        );
        assert!(full.contains("README.md (9 B)\n"), "{full}");

        // A small budget keeps the most referenced (board, then engine) and names the rest.
        let small = build(dir.path(), &files, 330);
        assert!(
            small.contains("src/board.rs (35 B): struct Board"),
            "{small}"
        );
        assert!(small.contains("src/engine.rs"), "{small}");
        assert!(!small.contains("fn xxxx"), "{small}");
        assert!(small.len() <= 330, "{} bytes:\n{small}", small.len());
        assert!(
            small.contains("Also: ") || small.contains("more files"),
            "{small}"
        );
    }

    #[test]
    fn a_tiny_budget_still_says_how_much_is_left_out() {
        let entries: Vec<FileEntry> = (0..50)
            .map(|i| FileEntry {
                path: format!("src/file{i}.rs"),
                size: 100,
                symbols: vec![format!("fn f{i}")],
                references: 0,
            })
            .collect();
        let text = render(&entries, 400);
        assert!(text.contains("more files not listed"), "{text}");
        assert!(text.len() <= 400 + 200, "{text}");
    }
}
