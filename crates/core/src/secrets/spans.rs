//! Where secrets are in a text: byte ranges with a label, merged so that none overlap.

/// A secret found at `start..end` (byte offsets on char boundaries), named by `label`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Span<'r> {
    pub start: usize,
    pub end: usize,
    pub label: &'r str,
}

/// Drops the secrets lying wholly inside a marker (`keep`, already redacted text), then merges
/// overlapping secrets into one span, named after the one that starts first (the longest of those,
/// and a known value before a shape: the sort is stable).
pub(super) fn merge<'r>(mut secrets: Vec<Span<'r>>, keep: &[(usize, usize)]) -> Vec<Span<'r>> {
    if !keep.is_empty() {
        secrets.retain(|s| !keep.iter().any(|&(a, b)| a <= s.start && s.end <= b));
    }
    secrets.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut merged: Vec<Span<'r>> = Vec::with_capacity(secrets.len());
    for span in secrets {
        match merged.last_mut() {
            Some(last) if span.start < last.end => last.end = last.end.max(span.end),
            _ => merged.push(span),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start: usize, end: usize, label: &str) -> Span<'_> {
        Span { start, end, label }
    }

    #[test]
    fn overlapping_spans_become_one_named_after_the_first() {
        let merged = merge(
            vec![
                span(5, 9, "b"),
                span(0, 6, "a"),
                span(12, 14, "c"),
                span(0, 3, "d"),
            ],
            &[],
        );
        assert_eq!(merged, vec![span(0, 9, "a"), span(12, 14, "c")]);
    }

    #[test]
    fn adjacent_spans_stay_apart() {
        let merged = merge(vec![span(0, 4, "a"), span(4, 8, "b")], &[]);
        assert_eq!(merged, vec![span(0, 4, "a"), span(4, 8, "b")]);
    }

    #[test]
    fn secrets_inside_a_marker_are_dropped_but_straddling_ones_kept() {
        let merged = merge(vec![span(2, 5, "in"), span(8, 12, "across")], &[(0, 10)]);
        assert_eq!(merged, vec![span(8, 12, "across")]);
    }
}
