//! Machine labels (`gpu`, `gtk`): what a machine has (`[host] labels`) and what an agent needs
//! to run (`[agents.<name>] needs`). One rule for both, the store's for a job's needs
//! (`gaffer_store::rules::input::needs`, which this leaf crate cannot use): 1 to 64 bytes, no
//! whitespace, no commas (a comma separates labels in `--label gpu,gtk` and in the environment).

/// The longest label, in bytes.
const MAX_LEN: usize = 64;

/// What a label may be, for hints.
pub(crate) const LABEL_FORM: &str = "1 to 64 characters without spaces or commas";

/// Whether `label` (already trimmed) is a machine label.
pub(crate) fn is_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= MAX_LEN
        && !label.chars().any(|c| c.is_whitespace() || c == ',')
}

/// `labels` trimmed, sorted and without repeats, as the store keeps them; `Err` holds the first
/// one that is not a label (trimmed) and its index.
pub(crate) fn labels<'a>(
    labels: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<String>, (usize, String)> {
    let mut out = Vec::new();
    for (index, label) in labels.into_iter().enumerate() {
        let label = label.trim();
        if !is_label(label) {
            return Err((index, label.to_string()));
        }
        out.push(label.to_string());
    }
    out.sort();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{is_label, labels};

    #[test]
    fn labels_are_single_words() {
        assert!(is_label("gpu"));
        assert!(is_label("cuda-12.4"));
        assert!(is_label(&"x".repeat(64)));
        for bad in ["", "two words", "gpu,gtk", "tab\there", &"x".repeat(65)] {
            assert!(!is_label(bad), "{bad:?}");
        }
    }

    #[test]
    fn labels_are_trimmed_sorted_and_deduplicated() {
        assert_eq!(
            labels([" gtk", "gpu", "gtk "]),
            Ok(vec!["gpu".to_string(), "gtk".to_string()])
        );
        assert_eq!(labels(["gpu", "no pe"]), Err((1, "no pe".to_string())));
        assert_eq!(labels(["gpu", " "]), Err((1, String::new())));
    }
}
