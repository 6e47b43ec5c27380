//! Branch-safe slugs from task titles.

/// Lowercase ASCII letters and digits joined by single dashes, at most `max` characters,
/// never empty ("task" when nothing usable is left).
pub fn slugify(title: &str, max: usize) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c.to_ascii_lowercase());
            if out.len() >= max {
                break;
            }
        } else {
            dash = true;
        }
    }
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() {
        "task".to_string()
    } else {
        trimmed.to_string()
    }
}

/// The branch a task's work lives on: `gaffer/<id>-<slug>`.
pub fn task_branch(id: crate::TaskId, title: &str) -> String {
    format!("gaffer/{}-{}", id.0, slugify(title, 40))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_branch_safe() {
        assert_eq!(
            slugify("Add a /health endpoint!", 40),
            "add-a-health-endpoint"
        );
        assert_eq!(slugify("  ", 40), "task");
        assert_eq!(slugify("Ünïcode ok", 40), "n-code-ok");
        assert_eq!(slugify("abcdef", 3), "abc");
        assert_eq!(task_branch(crate::TaskId(7), "Fix bug"), "gaffer/7-fix-bug");
    }
}
