//! `STATUS:` and `QUESTION:` lines in the model's text (what the role prompts ask agents to
//! print).

/// The text of every line starting with `STATUS:` (leading spaces allowed).
pub fn status_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.trim_start().strip_prefix("STATUS:"))
        .map(|rest| rest.trim().to_string())
        .filter(|rest| !rest.is_empty())
        .collect()
}

/// The question of the first line starting with `QUESTION:`: the rest of that line and every
/// line after it.
pub fn question(text: &str) -> Option<String> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with("QUESTION:") {
            let start = offset + (line.len() - trimmed.len()) + "QUESTION:".len();
            let question = text[start..].trim();
            return (!question.is_empty()).then(|| question.to_string());
        }
        offset += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_markers() {
        let text = "Looking.\nSTATUS: reading the code\n  STATUS: writing tests\nSTATUS:\nnot STATUS: this";
        assert_eq!(status_lines(text), ["reading the code", "writing tests"]);
        assert_eq!(question(text), None);
        let text = "I need to know.\nQUESTION: Which database?\nPostgres or SQLite.";
        assert_eq!(
            question(text).as_deref(),
            Some("Which database?\nPostgres or SQLite.")
        );
        assert_eq!(question("QUESTION:   "), None);
    }
}
