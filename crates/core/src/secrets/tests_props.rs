//! Properties: no known value survives, redacting twice changes nothing, clean text is borrowed,
//! and every secret a random diff adds is found at its line.

use std::borrow::Cow;

use proptest::prelude::*;

use super::{Redactor, SecretHit};

/// Values of characters no marker is made of around a name (`[`, `]`, `:`, space), multibyte
/// ones included.
fn value() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_é€-]{8,20}".prop_filter("a marker's own word", |v| v != "redacted")
}

/// Some values and, when the last one overlaps the first (its tail followed by more), the two
/// glued where they overlap.
fn values() -> impl Strategy<Value = (Vec<String>, Option<String>)> {
    (prop::collection::vec(value(), 1..4), any::<bool>(), value()).prop_map(
        |(mut values, overlap, tail)| {
            if !overlap {
                return (values, None);
            }
            let first = values[0].clone();
            let cut = first.char_indices().nth(first.chars().count() / 2);
            let start = cut.map_or(0, |(i, _)| i);
            values.push(format!("{}{tail}", &first[start..]));
            (values, Some(format!("{first}{tail}")))
        },
    )
}

#[derive(Clone, Debug)]
enum Piece {
    Noise(String),
    Value(usize),
    /// A value without its last character: must not make what follows look like a value.
    Prefix(usize),
    /// The overlapping values glued, if any.
    Glued,
}

fn text(n_values: usize) -> impl Strategy<Value = Vec<Piece>> {
    let piece = prop_oneof![
        "\\PC{0,12}".prop_map(Piece::Noise),
        (0..n_values).prop_map(Piece::Value),
        (0..n_values).prop_map(Piece::Prefix),
        Just(Piece::Glued),
    ];
    prop::collection::vec(piece, 0..12)
}

fn render(pieces: &[Piece], values: &[String], glued: Option<&str>) -> String {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Noise(s) => s.clone(),
            Piece::Value(i) => values[*i].clone(),
            Piece::Prefix(i) => {
                let v = &values[*i];
                v[..v.char_indices().last().map_or(0, |(i, _)| i)].to_owned()
            }
            Piece::Glued => glued.unwrap_or_default().to_owned(),
        })
        .collect()
}

fn redactor(values: &[String]) -> Redactor {
    Redactor::new(values.iter().enumerate().map(|(i, v)| (format!("K{i}"), v))).expect("builds")
}

proptest! {
    #[test]
    fn no_known_value_survives_and_redacting_twice_changes_nothing(
        ((values, glued), pieces) in values().prop_flat_map(|v| { let n = v.0.len(); (Just(v), text(n)) })
    ) {
        let r = redactor(&values);
        let text = render(&pieces, &values, glued.as_deref());
        let once = r.redact(&text).into_owned();
        for v in &values {
            prop_assert!(!once.contains(v.as_str()), "{v:?} survives in {once:?}");
        }
        prop_assert_eq!(r.redact(&once), once.as_str());
    }

    #[test]
    fn text_without_secrets_comes_back_borrowed(
        values in prop::collection::vec("[A-Z0-9]{8,16}", 0..4),
        text in "[a-zé日 ,.\n-]{0,200}",
    ) {
        let r = redactor(&values);
        prop_assert!(matches!(r.redact(&text), Cow::Borrowed(t) if t == text));
    }
}

const KEY: &str = "kv_7Hq2Lm9Xp4Rt";

#[derive(Clone, Copy, Debug)]
enum Op {
    Context,
    Add,
    Remove,
}

/// Lines kept, added or removed; those with `true` hold the key.
type Hunk = Vec<(Op, bool)>;

/// Files, each a list of hunks, each after a gap of unchanged lines.
fn files() -> impl Strategy<Value = Vec<Vec<(u32, Hunk)>>> {
    let op = prop_oneof![Just(Op::Context), Just(Op::Add), Just(Op::Remove)];
    let hunk = (0u32..5, prop::collection::vec((op, any::<bool>()), 1..8));
    prop::collection::vec(prop::collection::vec(hunk, 1..4), 1..4)
}

/// The diff of `files` and the hits it must give.
fn diff_of(files: &[Vec<(u32, Hunk)>]) -> (String, Vec<SecretHit>) {
    let mut diff = String::new();
    let mut hits = Vec::new();
    for (f, hunks) in files.iter().enumerate() {
        let path = format!("dir/file {f}.txt");
        diff.push_str(&format!(
            "diff --git a/{path} b/{path}\nindex 1111111..2222222 100644\n--- a/{path}\n+++ b/{path}\t\n"
        ));
        let (mut old, mut new) = (1u32, 1u32);
        for (gap, ops) in hunks {
            old += gap;
            new += gap;
            let old_len = ops.iter().filter(|(o, _)| !matches!(o, Op::Add)).count();
            let new_len = ops.iter().filter(|(o, _)| !matches!(o, Op::Remove)).count();
            diff.push_str(&format!(
                "@@ -{old},{old_len} +{new},{new_len} @@ fn x() {{\n"
            ));
            for (op, secret) in ops {
                let content = if *secret {
                    format!("k = {KEY};")
                } else {
                    format!("line {new}")
                };
                match op {
                    Op::Context => {
                        diff.push_str(&format!(" {content}\n"));
                        old += 1;
                        new += 1;
                    }
                    Op::Remove => {
                        diff.push_str(&format!("-{content}\n"));
                        old += 1;
                    }
                    Op::Add => {
                        diff.push_str(&format!("+{content}\n"));
                        if *secret {
                            hits.push(SecretHit {
                                path: path.clone(),
                                line: new,
                                what: "DEPLOY_KEY".to_owned(),
                            });
                        }
                        new += 1;
                    }
                }
            }
        }
    }
    (diff, hits)
}

proptest! {
    #[test]
    fn every_added_secret_is_found_at_its_line(files in files()) {
        let (diff, expected) = diff_of(&files);
        let r = Redactor::new([("DEPLOY_KEY", KEY)]).expect("builds");
        prop_assert_eq!(r.find_added_secrets(&diff), expected, "{}", diff);
    }
}
