//! The command line: a one-line editor with a cursor and a history. Pure; unit-tested below.

/// How many lines of history are kept (in memory and in the history file).
pub const HISTORY_LIMIT: usize = 500;

#[derive(Debug, Default)]
pub struct LineEditor {
    /// The line as characters, so that the cursor moves by character.
    chars: Vec<char>,
    /// Index into `chars`: the cursor sits before `chars[cursor]`.
    cursor: usize,
    history: Vec<String>,
    /// Where in `history` the line came from while browsing it.
    browsing: Option<usize>,
    /// What was typed before browsing started, given back after the newest entry.
    draft: String,
}

impl LineEditor {
    pub fn with_history(history: Vec<String>) -> LineEditor {
        LineEditor {
            history,
            ..LineEditor::default()
        }
    }

    pub fn text(&self) -> String {
        self.chars.iter().collect()
    }

    /// The text before the cursor.
    pub fn before_cursor(&self) -> String {
        self.chars[..self.cursor].iter().collect()
    }

    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// The cursor, in characters from the start.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    #[cfg(test)]
    pub fn history(&self) -> &[String] {
        &self.history
    }

    /// Replaces the line.
    pub fn set(&mut self, text: &str) {
        self.chars = text.chars().collect();
        self.cursor = self.chars.len();
    }

    /// Replaces the text before the cursor (a completion), keeping what follows.
    pub fn replace_before_cursor(&mut self, text: &str) {
        let after: Vec<char> = self.chars[self.cursor..].to_vec();
        self.chars = text.chars().collect();
        self.cursor = self.chars.len();
        self.chars.extend(after);
    }

    pub fn insert(&mut self, c: char) {
        // Line breaks (from a paste) become spaces: a command is one line.
        let c = if c == '\n' || c == '\r' || c == '\t' {
            ' '
        } else {
            c
        };
        self.chars.insert(self.cursor, c);
        self.cursor += 1;
    }

    pub fn insert_str(&mut self, text: &str) {
        for c in text.chars() {
            self.insert(c);
        }
    }

    pub fn backspace(&mut self) {
        if self.cursor > 0 {
            self.cursor -= 1;
            self.chars.remove(self.cursor);
        }
    }

    pub fn delete(&mut self) {
        if self.cursor < self.chars.len() {
            self.chars.remove(self.cursor);
        }
    }

    pub fn left(&mut self) {
        self.cursor = self.cursor.saturating_sub(1);
    }

    pub fn right(&mut self) {
        self.cursor = (self.cursor + 1).min(self.chars.len());
    }

    pub fn home(&mut self) {
        self.cursor = 0;
    }

    pub fn end(&mut self) {
        self.cursor = self.chars.len();
    }

    /// Ctrl-U: everything before the cursor.
    pub fn kill_to_start(&mut self) {
        self.chars.drain(..self.cursor);
        self.cursor = 0;
    }

    /// Ctrl-K: everything from the cursor on.
    pub fn kill_to_end(&mut self) {
        self.chars.truncate(self.cursor);
    }

    /// Ctrl-W: the word before the cursor (and the spaces after it).
    pub fn kill_word(&mut self) {
        let mut start = self.cursor;
        while start > 0 && self.chars[start - 1].is_whitespace() {
            start -= 1;
        }
        while start > 0 && !self.chars[start - 1].is_whitespace() {
            start -= 1;
        }
        self.chars.drain(start..self.cursor);
        self.cursor = start;
    }

    pub fn clear(&mut self) {
        self.chars.clear();
        self.cursor = 0;
        self.browsing = None;
    }

    /// Enter: the line, now empty, goes into the history (unless it repeats the last entry).
    pub fn submit(&mut self) -> String {
        let line = self.text();
        self.clear();
        self.draft.clear();
        let trimmed = line.trim();
        if !trimmed.is_empty() && self.history.last().map(String::as_str) != Some(trimmed) {
            self.history.push(trimmed.to_string());
            if self.history.len() > HISTORY_LIMIT {
                let excess = self.history.len() - HISTORY_LIMIT;
                self.history.drain(..excess);
            }
        }
        line
    }

    /// Up: the previous history entry. Returns false at the oldest one.
    pub fn history_prev(&mut self) -> bool {
        let next = match self.browsing {
            None if self.history.is_empty() => return false,
            None => {
                self.draft = self.text();
                self.history.len() - 1
            }
            Some(0) => return false,
            Some(i) => i - 1,
        };
        self.browsing = Some(next);
        let entry = self.history[next].clone();
        self.set(&entry);
        true
    }

    /// Down: the next history entry, then what was being typed.
    pub fn history_next(&mut self) -> bool {
        let Some(i) = self.browsing else {
            return false;
        };
        if i + 1 < self.history.len() {
            self.browsing = Some(i + 1);
            let entry = self.history[i + 1].clone();
            self.set(&entry);
        } else {
            self.browsing = None;
            let draft = std::mem::take(&mut self.draft);
            self.set(&draft);
        }
        true
    }

    /// Whether Up/Down currently walk the history.
    pub fn is_browsing(&self) -> bool {
        self.browsing.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(text: &str) -> LineEditor {
        let mut e = LineEditor::default();
        e.insert_str(text);
        e
    }

    #[test]
    fn editing() {
        let mut e = typed("/aprove 1");
        for _ in 0..7 {
            e.left();
        }
        e.insert('p');
        assert_eq!(e.text(), "/approve 1");
        assert_eq!(e.before_cursor(), "/ap");
        e.end();
        e.backspace();
        e.insert('2');
        assert_eq!(e.text(), "/approve 2");
        e.home();
        e.delete();
        assert_eq!(e.text(), "approve 2");
        e.right();
        e.kill_to_end();
        assert_eq!(e.text(), "a");
        e.set("/answer 3 the blue one");
        e.kill_word();
        assert_eq!(e.text(), "/answer 3 the blue ");
        e.kill_word();
        assert_eq!(e.text(), "/answer 3 the ");
        e.left();
        e.left();
        e.kill_to_start();
        assert_eq!(e.text(), "e ");
        assert_eq!(e.cursor(), 0);
        e.insert_str("x\ny");
        assert_eq!(e.text(), "x ye ");
    }

    #[test]
    fn completion_keeps_what_follows_the_cursor() {
        let mut e = typed("/appr 3");
        e.left();
        e.left();
        e.replace_before_cursor("/approve");
        assert_eq!(e.text(), "/approve 3");
        assert_eq!(e.cursor(), 8);
    }

    #[test]
    fn unicode_moves_by_character() {
        let mut e = typed("/task Café");
        e.backspace();
        e.insert('é');
        e.left();
        e.insert('f');
        assert_eq!(e.text(), "/task Caffé");
    }

    #[test]
    fn history_walks_back_and_returns_the_draft() {
        let mut e = LineEditor::with_history(vec!["/status".into()]);
        e.insert_str("/task A");
        assert_eq!(e.submit(), "/task A");
        assert!(e.is_empty());
        e.insert_str("/task A");
        e.submit(); // a repeat is not stored twice
        e.insert_str("/usage");
        e.submit();
        assert_eq!(e.history(), ["/status", "/task A", "/usage"]);
        e.insert_str("/d");
        assert!(e.history_prev());
        assert_eq!(e.text(), "/usage");
        assert!(e.history_prev());
        assert!(e.history_prev());
        assert_eq!(e.text(), "/status");
        assert!(!e.history_prev());
        assert_eq!(e.text(), "/status");
        assert!(e.history_next());
        assert_eq!(e.text(), "/task A");
        assert!(e.history_next());
        assert!(e.history_next());
        assert_eq!(e.text(), "/d");
        assert!(!e.is_browsing());
        assert!(!e.history_next());
        e.clear();
        assert_eq!(e.submit(), "");
        assert_eq!(e.history().len(), 3, "empty lines are not history");
    }

    #[test]
    fn history_is_bounded() {
        let mut e = LineEditor::default();
        for i in 0..HISTORY_LIMIT + 10 {
            e.insert_str(&format!("/show {i}"));
            e.submit();
        }
        assert_eq!(e.history().len(), HISTORY_LIMIT);
        assert_eq!(e.history()[0], "/show 10");
    }
}
