//! Paths as `git diff` writes them in `+++` and `diff --git` lines.

/// The path of a `+++ ` line's rest: `None` for `/dev/null`; `b/` stripped; C-quoting undone.
pub(super) fn new_side(rest: &str) -> Option<String> {
    // Git ends a path holding a space with a tab; other diffs put a timestamp after one.
    let raw = rest.split('\t').next().unwrap_or(rest);
    if raw == "/dev/null" {
        return None;
    }
    let path = bare(raw);
    Some(path.strip_prefix("b/").map_or(path.clone(), str::to_owned))
}

/// A path without prefix (`rename to X`), C-quoting undone.
pub(super) fn bare(raw: &str) -> String {
    if raw.starts_with('"') {
        unquote(raw)
    } else {
        raw.to_owned()
    }
}

/// The new path of a `diff --git a/X b/Y` line's rest, when it can be told (a fallback for a
/// file without `+++`, e.g. a pure rename or a binary file).
pub(super) fn from_header(rest: &str) -> Option<String> {
    if let Some(unclosed) = rest.strip_suffix('"') {
        let start = unclosed.rfind(" \"")?;
        return new_side(&rest[start + 1..]);
    }
    // Unquoted `a/X b/X`: both halves are equal unless renamed; split in the middle first.
    let middle = rest.len() / 2;
    if rest.is_char_boundary(middle) && rest.as_bytes().get(middle) == Some(&b' ') {
        return new_side(&rest[middle + 1..]);
    }
    rest.rfind(" b/").and_then(|i| new_side(&rest[i + 1..]))
}

/// Undoes git's C-style quoting: `"a\tb\303\251"` → `a<tab>bé`.
fn unquote(quoted: &str) -> String {
    let inner = quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or(quoted);
    let mut bytes = Vec::with_capacity(inner.len());
    let mut it = inner.bytes().peekable();
    while let Some(b) = it.next() {
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        match it.next() {
            Some(d @ b'0'..=b'7') => {
                let mut n = u32::from(d - b'0');
                for _ in 0..2 {
                    match it.peek() {
                        Some(&d @ b'0'..=b'7') => {
                            n = n * 8 + u32::from(d - b'0');
                            it.next();
                        }
                        _ => break,
                    }
                }
                bytes.push(u8::try_from(n).unwrap_or(b'?'));
            }
            Some(b'a') => bytes.push(0x07),
            Some(b'b') => bytes.push(0x08),
            Some(b't') => bytes.push(b'\t'),
            Some(b'n') => bytes.push(b'\n'),
            Some(b'v') => bytes.push(0x0b),
            Some(b'f') => bytes.push(0x0c),
            Some(b'r') => bytes.push(b'\r'),
            Some(other) => bytes.push(other),
            None => bytes.push(b'\\'),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_quoted_and_null_paths() {
        assert_eq!(new_side("b/src/main.rs").as_deref(), Some("src/main.rs"));
        assert_eq!(new_side("/dev/null"), None);
        assert_eq!(
            new_side("b/with space.txt\t").as_deref(),
            Some("with space.txt")
        );
        assert_eq!(
            new_side(r#""b/caf\303\251 \"x\"\ttab""#).as_deref(),
            Some("café \"x\"\ttab")
        );
    }

    #[test]
    fn header_paths() {
        assert_eq!(from_header("a/x y b/x y").as_deref(), Some("x y"));
        assert_eq!(from_header("a/old b/new/name").as_deref(), Some("new/name"));
        assert_eq!(
            from_header(r#""a/\303\251" "b/\303\251 2""#).as_deref(),
            Some("é 2")
        );
    }
}
