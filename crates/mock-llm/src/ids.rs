//! Made-up identifiers that carry the turn they were made for.
//!
//! Tool call ids look like `call_mock_t3_0` (turn 3, first call) and Responses ids like
//! `resp_mock_t3_17`. When a client sends the history back, [`turn_tag`] reads the turn out of
//! them, which lets the turn counter tell "one turn with two calls whose results were
//! interleaved" from "two turns".

/// An id for the `index`-th item of turn `turn`, with the given prefix (`call`, `toolu`, `fc`…).
pub(crate) fn item_id(prefix: &str, turn: usize, index: impl std::fmt::Display) -> String {
    format!("{prefix}_mock_t{turn}_{index}")
}

/// The turn encoded in an id made by [`item_id`], if it is one.
pub(crate) fn turn_tag(id: &str) -> Option<usize> {
    let (_, rest) = id.split_once("_mock_t")?;
    let (digits, _) = rest.split_once('_')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_turn_round_trips() {
        assert_eq!(turn_tag(&item_id("call", 7, 2)), Some(7));
        assert_eq!(turn_tag(&item_id("resp", 0, 99)), Some(0));
        assert_eq!(turn_tag("call_abc"), None);
        assert_eq!(turn_tag("call_mock_tx_1"), None);
        assert_eq!(turn_tag("call_mock_t_1"), None);
    }
}
