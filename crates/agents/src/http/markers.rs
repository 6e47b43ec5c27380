//! The question in a model's text: everything from the first `QUESTION:` line on. (Single
//! `STATUS:`/`QUESTION:` lines are classified by `crate::lines`.)

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
    fn finds_the_question() {
        let text = "Looking.\nSTATUS: reading the code\nnot QUESTION: this";
        assert_eq!(question(text), None);
        let text = "I need to know.\nQUESTION: Which database?\nPostgres or SQLite.";
        assert_eq!(
            question(text).as_deref(),
            Some("Which database?\nPostgres or SQLite.")
        );
        assert_eq!(question("QUESTION:   "), None);
    }
}
