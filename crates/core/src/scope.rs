//! Write-scope overlap, decided before any agent starts (DESIGN §4: "ready" means no in-flight
//! task holds an overlapping write scope).
//!
//! Scopes are path globs. Deciding whether two arbitrary globs can match a common path is costly
//! and rarely needed, so this is a conservative test on their literal prefixes: two patterns
//! overlap when the literal directory part of one is a prefix of the other's. It may report an
//! overlap that a precise test would not (costing parallelism), never the reverse (costing a
//! conflict). An empty scope means the task declared none and reserves nothing; the merge queue's
//! conflict check still protects the target.

/// The part of a glob before its first wildcard, cut back to a whole path segment.
fn literal_prefix(glob: &str) -> &str {
    let glob = glob.trim_start_matches("./");
    let end = glob.find(['*', '?', '[', '{']).unwrap_or(glob.len());
    if end == glob.len() {
        return glob;
    }
    match glob[..end].rfind('/') {
        Some(slash) => &glob[..slash],
        None => "",
    }
}

fn segments_prefix(a: &str, b: &str) -> bool {
    if a.is_empty() || b.is_empty() {
        return true;
    }
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    long == short || long.starts_with(&format!("{}/", short.trim_end_matches('/')))
}

/// True when some pattern of `a` may match a path that some pattern of `b` matches.
pub fn scopes_overlap(a: &[String], b: &[String]) -> bool {
    a.iter().any(|x| {
        b.iter()
            .any(|y| segments_prefix(literal_prefix(x), literal_prefix(y)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn disjoint_directories_do_not_overlap() {
        assert!(!scopes_overlap(&v(&["src/a/**"]), &v(&["src/b/**"])));
        assert!(!scopes_overlap(&v(&["docs/x.md"]), &v(&["docs/y.md"])));
        assert!(!scopes_overlap(&v(&[]), &v(&["src/**"])));
    }

    #[test]
    fn nested_or_wild_scopes_overlap() {
        assert!(scopes_overlap(&v(&["src/**"]), &v(&["src/a/b.rs"])));
        assert!(scopes_overlap(&v(&["**/*.rs"]), &v(&["docs/x.md"])));
        assert!(scopes_overlap(&v(&["src/a.rs"]), &v(&["./src/a.rs"])));
        assert!(!scopes_overlap(&v(&["src/ab/**"]), &v(&["src/a/**"])));
    }
}
