//! Splitting text into the pieces a stream sends.

/// Splits `text` into pieces of at most `size` characters (never splitting a character).
/// Empty text gives no pieces.
pub(crate) fn split(text: &str, size: usize) -> Vec<String> {
    let size = size.max(1);
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut count = 0;
    for ch in text.chars() {
        current.push(ch);
        count += 1;
        if count == size {
            pieces.push(std::mem::take(&mut current));
            count = 0;
        }
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_join_back_to_the_text() {
        let text = "héllo wörld, ünïcode ✓";
        for size in 1..30 {
            let pieces = split(text, size);
            assert_eq!(pieces.concat(), text);
            assert!(pieces.iter().all(|p| p.chars().count() <= size));
        }
        assert!(split("", 4).is_empty());
        assert_eq!(split("abc", 0), vec!["a", "b", "c"]);
    }
}
