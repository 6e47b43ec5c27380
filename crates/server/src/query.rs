//! Query-string parameters shared by several routes, and how their values are checked.

use crate::error::ApiError;
use gaffer_core::{Seq, Status};
use serde::Deserialize;

/// Events listed at once when the client does not say.
pub const DEFAULT_LIMIT: usize = 1000;
/// The most events one request returns; page with `after` for more.
pub const MAX_LIMIT: usize = 10_000;

/// `?after=N&limit=M`: events with a sequence number above `after` (0: from the start), at most
/// `limit` of them (default [`DEFAULT_LIMIT`], at most [`MAX_LIMIT`]).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct Page {
    pub after: Option<i64>,
    pub limit: Option<usize>,
}

impl Page {
    pub fn after(&self) -> Seq {
        Seq(self.after.unwrap_or(0))
    }

    pub fn limit(&self) -> usize {
        self.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT)
    }
}

/// Parses `coding,queued` into statuses; an empty list means all of them.
pub fn statuses(list: Option<&str>) -> Result<Vec<Status>, ApiError> {
    let Some(list) = list else {
        return Ok(Vec::new());
    };
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<Status>().map_err(|message| {
                let known: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
                ApiError::invalid(message).with_hint(format!("use one of: {}", known.join(", ")))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lists() {
        assert_eq!(statuses(None).unwrap(), vec![]);
        assert_eq!(statuses(Some("")).unwrap(), vec![]);
        assert_eq!(
            statuses(Some("coding, queued,")).unwrap(),
            vec![Status::Coding, Status::Queued]
        );
        let e = statuses(Some("coding,done")).unwrap_err();
        assert!(e.message.contains("unknown status `done`"), "{}", e.message);
        assert!(e.hint.is_some_and(|h| h.contains("awaiting_approval")));
    }

    #[test]
    fn page_defaults_and_caps() {
        let page = Page::default();
        assert_eq!(page.after(), Seq(0));
        assert_eq!(page.limit(), DEFAULT_LIMIT);
        let page = Page {
            after: Some(5),
            limit: Some(MAX_LIMIT + 1),
        };
        assert_eq!(page.after(), Seq(5));
        assert_eq!(page.limit(), MAX_LIMIT);
    }
}
