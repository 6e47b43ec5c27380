//! The output as a terminal would show it, line by line, and the small text helpers every
//! runner's reading shares.

use super::MAX_INPUT;

/// Lines longer than this are cut before any runner reads them: no runner's marker is that far
/// into a line, and it keeps the work per line bounded.
const MAX_READ_LINE: usize = 1000;

/// The last [`MAX_INPUT`] bytes of `output`, split into lines, each as a terminal shows it:
/// ANSI escape sequences removed, a carriage return inside a line keeping only what was
/// written after it, other control characters (but tabs) dropped, and cut at
/// [`MAX_READ_LINE`] bytes.
pub(crate) fn clean(output: &str) -> Vec<String> {
    let mut start = output.len().saturating_sub(MAX_INPUT);
    while !output.is_char_boundary(start) {
        start += 1;
    }
    let mut text = &output[start..];
    if start > 0 {
        // The first line is only the end of one: skip it, unless it is all there is.
        text = text.split_once('\n').map_or(text, |(_, rest)| rest);
    }
    text.split('\n')
        .map(|line| clean_line(line, MAX_READ_LINE))
        .collect()
}

/// `output` as a terminal would show it, without its escape sequences and control characters
/// (tabs and newlines stay): safe to print to a person's terminal, whatever the command wrote.
pub fn plain(output: &str) -> String {
    output
        .split('\n')
        .map(|line| clean_line(line, usize::MAX))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One line without its escape sequences and control characters, cut at `max` bytes.
fn clean_line(raw: &str, max: usize) -> String {
    let raw = raw.strip_suffix('\r').unwrap_or(raw);
    let mut out = String::with_capacity(raw.len().min(max));
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                // CSI: parameters and intermediates, then one final byte.
                Some('[') => {
                    for c in chars.by_ref() {
                        if ('\u{40}'..='\u{7e}').contains(&c) {
                            break;
                        }
                    }
                }
                // OSC and the other strings: up to BEL or ESC \.
                Some(']' | 'P' | 'X' | '^' | '_') => {
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' {
                            break;
                        }
                        if c == '\u{1b}' {
                            chars.next();
                            break;
                        }
                    }
                }
                // A two-character sequence (or a lone ESC at the end).
                _ => {}
            },
            '\u{9b}' => {
                for c in chars.by_ref() {
                    if ('\u{40}'..='\u{7e}').contains(&c) {
                        break;
                    }
                }
            }
            // A progress line rewritten in place: what stays is what came last.
            '\r' => out.clear(),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
        if out.len() >= max {
            break;
        }
    }
    out
}

/// `text` cut to at most `max` bytes (at a character boundary, ending with `…` when cut).
pub fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// How many columns `line` is indented by (a tab counts as eight).
pub(crate) fn indent(line: &str) -> usize {
    let mut n = 0;
    for c in line.chars() {
        match c {
            ' ' => n += 1,
            '\t' => n += 8,
            _ => break,
        }
    }
    n
}

/// The number before `word` in a list such as `3 failed, 9 passed in 0.42s` or
/// `failures=1, errors=2` (`word=` form): `Some(3)` for `failed`.
pub(crate) fn count_of(text: &str, word: &str) -> Option<u32> {
    for part in text.split([',', '|', ';', '(', ')']) {
        let part = part.trim();
        // `… 3 failed`: the number is the last word before it.
        if let Some(before) = part.strip_suffix(word)
            && let Some(n) = before.split_whitespace().next_back()
            && let Ok(n) = n.parse::<u32>()
        {
            return Some(n);
        }
        if let Some(n) = part
            .strip_prefix(word)
            .and_then(|rest| rest.strip_prefix('='))
            .and_then(|n| n.trim().parse::<u32>().ok())
        {
            return Some(n);
        }
        // `3 failed in 0.4s`: the count is the first word, the rest follows.
        let mut words = part.split_whitespace();
        if let (Some(n), Some(w)) = (words.next(), words.next())
            && w == word
            && let Ok(n) = n.parse::<u32>()
        {
            return Some(n);
        }
    }
    None
}

/// A line of a source excerpt that runners print under an assertion (`  12 |     code`,
/// `> 14 |`, `     |   ^`, vitest's `14|`): no detail worth keeping.
pub(crate) fn is_code_frame(line: &str) -> bool {
    let t = line.trim_start();
    let t = t.strip_prefix('>').map_or(t, str::trim_start);
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    t[digits..].trim_start().starts_with('|')
}

/// A line of a JavaScript stack trace (`at Object.<anonymous> (src/x.test.js:3:5)`).
pub(crate) fn is_stack_line(line: &str) -> bool {
    line.trim_start().starts_with("at ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_control_characters_go() {
        let lines = clean(
            "\u{1b}[1m\u{1b}[31mFAILED\u{1b}[0m x\r\nok\u{7}\u{1b}]8;;http://x\u{1b}\\link\u{1b}]8;;\u{1b}\\\n10%\r55%\r100%",
        );
        assert_eq!(lines, ["FAILED x", "oklink", "100%"]);
    }

    #[test]
    fn only_the_end_of_a_huge_output_is_read() {
        let mut big = "x".repeat(MAX_INPUT);
        big.push_str("\nlast line");
        let lines = clean(&big);
        assert_eq!(lines, ["last line"]);
        let one = clean(&"y".repeat(2 * MAX_INPUT));
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].len(), MAX_READ_LINE);
        let long = clean(&"é".repeat(5000));
        assert!(long[0].len() <= MAX_READ_LINE + 4);
    }

    #[test]
    fn counts_are_read_from_summaries() {
        assert_eq!(count_of("3 failed, 9 passed in 0.42s", "failed"), Some(3));
        assert_eq!(count_of("1 failed, 1 error in 0.1s", "error"), Some(1));
        assert_eq!(count_of("FAILED (failures=1, errors=2)", "errors"), Some(2));
        assert_eq!(
            count_of("Tests  1 failed | 4 passed (5)", "failed"),
            Some(1)
        );
        assert_eq!(count_of("9 passed in 0.1s", "failed"), None);
    }

    #[test]
    fn plain_text_keeps_every_line_and_tab() {
        assert_eq!(
            plain("\u{1b}[31mFAILED\u{1b}[0m\ta\r\n\u{1b}[2Jnext\n"),
            "FAILED\ta\nnext\n"
        );
    }

    #[test]
    fn clipping_keeps_characters_whole() {
        assert_eq!(clip("short", 10), "short");
        let cut = clip(&"é".repeat(10), 9);
        assert!(cut.len() <= 9 && cut.ends_with('…'), "{cut}");
    }
}
