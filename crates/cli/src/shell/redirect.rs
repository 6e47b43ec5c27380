//! The shell's commands that redirect waiting work: `/edit N` (dependencies, scopes, priority,
//! labels of a task that has not started) and `/move N` (a place in the merge queue's waiting
//! line). Parsing only: pure, unit-tested below; `exec` sends what they make through the same
//! API and `Board` methods as `gaffer task edit` and `gaffer queue move`.

use super::command::parse_id;
use gaffer_api::{Place, TaskChanges};
use gaffer_core::TaskId;

/// The options `/edit` takes, with whether each takes a value.
pub const EDIT_OPTIONS: &[(&str, bool)] = &[
    ("--dep", true),
    ("--no-dep", true),
    ("--scope", true),
    ("--no-scope", false),
    ("--read-scope", true),
    ("--no-read-scope", false),
    ("--priority", true),
    ("--label", true),
];

/// `/edit N`'s options as the changes they ask for.
pub fn parse_edit(args: &str) -> Result<TaskChanges, String> {
    let words: Vec<&str> = args.split_whitespace().collect();
    let mut changes = TaskChanges::default();
    let (mut scope, mut read_scope, mut labels) = (None::<Vec<String>>, None, None);
    let mut i = 0;
    while i < words.len() {
        let option = words[i];
        let Some(&(_, takes_value)) = EDIT_OPTIONS.iter().find(|(o, _)| *o == option) else {
            return Err(format!(
                "unknown option `{option}` for /edit; options: {}",
                EDIT_OPTIONS
                    .iter()
                    .map(|(o, _)| *o)
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
        };
        let value = if takes_value {
            let Some(value) = words.get(i + 1) else {
                return Err(format!("{option} needs a value"));
            };
            i += 2;
            *value
        } else {
            i += 1;
            ""
        };
        let id = || {
            parse_id(value)
                .map(TaskId)
                .ok_or_else(|| format!("{option} takes a task id, not `{value}`"))
        };
        match option {
            "--dep" => changes.add_deps.push(id()?),
            "--no-dep" => changes.remove_deps.push(id()?),
            "--scope" => scope.get_or_insert_with(Vec::new).push(value.to_string()),
            "--no-scope" => scope = Some(Vec::new()),
            "--read-scope" => read_scope
                .get_or_insert_with(Vec::new)
                .push(value.to_string()),
            "--no-read-scope" => read_scope = Some(Vec::new()),
            "--label" => labels.get_or_insert_with(Vec::new).push(value.to_string()),
            _ => {
                changes.priority = Some(
                    value
                        .parse()
                        .map_err(|_| format!("--priority takes a number, not `{value}`"))?,
                );
            }
        }
    }
    changes.write_scope = scope;
    changes.read_scope = read_scope;
    changes.labels = labels;
    if changes.is_empty() {
        return Err(format!(
            "usage: /edit N {}: say what changes",
            EDIT_OPTIONS
                .iter()
                .map(|(o, v)| if *v {
                    format!("[{o} X]")
                } else {
                    format!("[{o}]")
                })
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    Ok(changes)
}

/// `/move N`'s place: `--to P`, `--before M` or `--after M`.
pub fn parse_move(args: &str) -> Result<Place, String> {
    let usage = "usage: /move N --to PLACE | --before M | --after M";
    let words: Vec<&str> = args.split_whitespace().collect();
    let [option, value] = words.as_slice() else {
        return Err(usage.into());
    };
    match *option {
        "--to" => value
            .parse::<u32>()
            .ok()
            .filter(|p| *p > 0)
            .map(Place::To)
            .ok_or_else(|| format!("--to takes a place from 1, not `{value}`")),
        "--before" | "--after" => {
            let id = parse_id(value)
                .map(TaskId)
                .ok_or_else(|| format!("{option} takes a task id, not `{value}`"))?;
            Ok(if *option == "--before" {
                Place::Before(id)
            } else {
                Place::After(id)
            })
        }
        _ => Err(usage.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_add_and_remove_dependencies_and_set_scopes() {
        let changes =
            parse_edit("--dep 3 --dep #4 --no-dep 2 --scope src/** --priority -1").unwrap();
        assert_eq!(changes.add_deps, [TaskId(3), TaskId(4)]);
        assert_eq!(changes.remove_deps, [TaskId(2)]);
        assert_eq!(changes.write_scope, Some(vec!["src/**".to_string()]));
        assert_eq!(changes.read_scope, None);
        assert_eq!(changes.priority, Some(-1));
        let cleared = parse_edit("--no-scope --no-read-scope").unwrap();
        assert_eq!(cleared.write_scope, Some(vec![]));
        assert_eq!(cleared.read_scope, Some(vec![]));
        assert_eq!(
            parse_edit("--label ui --label db").unwrap().labels,
            Some(vec!["ui".to_string(), "db".to_string()])
        );
    }

    #[test]
    fn edit_errors_say_what_to_type() {
        assert!(parse_edit("").unwrap_err().contains("usage: /edit N"));
        assert!(parse_edit("--dep").unwrap_err().contains("needs a value"));
        assert!(parse_edit("--dep x").unwrap_err().contains("task id"));
        assert!(
            parse_edit("--priority high")
                .unwrap_err()
                .contains("number")
        );
        assert!(
            parse_edit("--deps 3")
                .unwrap_err()
                .contains("unknown option")
        );
    }

    #[test]
    fn a_move_names_one_place() {
        assert_eq!(parse_move("--to 1").unwrap(), Place::To(1));
        assert_eq!(parse_move("--before #7").unwrap(), Place::Before(TaskId(7)));
        assert_eq!(parse_move("--after 7").unwrap(), Place::After(TaskId(7)));
        assert!(parse_move("--to 0").unwrap_err().contains("from 1"));
        assert!(parse_move("").unwrap_err().contains("usage"));
        assert!(
            parse_move("--to 1 --before 2")
                .unwrap_err()
                .contains("usage")
        );
    }
}
