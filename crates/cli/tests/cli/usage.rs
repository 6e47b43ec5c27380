//! `gaffer usage`: totals that match the sum of the runs' recorded usage, in every breakdown.

use crate::common::Project;

#[test]
fn usage_totals_match_the_sum_of_the_runs() {
    let project = Project::new();
    let daemon = project.start_daemon();
    let first = project.add_task("Write the notes", &[]);
    let second = project.add_task("Write the readme", &[]);
    project.wait_for_status(first, "merged");
    project.wait_for_status(second, "merged");
    drop(daemon);

    let mut runs = 0u64;
    let (mut input, mut output) = (0u64, 0u64);
    for id in [first, second] {
        for run in project.show(id)["runs"].as_array().unwrap() {
            runs += 1;
            input += run["usage"]["input_tokens"].as_u64().unwrap();
            output += run["usage"]["output_tokens"].as_u64().unwrap();
        }
    }
    assert!(runs >= 2 && input > 0, "the scripted runs record usage");

    let usage = project.json(&["usage", "--json"]);
    assert_eq!(usage["total"]["runs"].as_u64(), Some(runs));
    assert_eq!(
        usage["total"]["usage"]["input_tokens"].as_u64(),
        Some(input)
    );
    assert_eq!(
        usage["total"]["usage"]["output_tokens"].as_u64(),
        Some(output)
    );
    for by in ["task", "role", "model", "agent", "day"] {
        let rows = usage["by"][by].as_array().unwrap();
        let sum: u64 = rows
            .iter()
            .map(|r| r["usage"]["input_tokens"].as_u64().unwrap())
            .sum();
        let count: u64 = rows.iter().map(|r| r["runs"].as_u64().unwrap()).sum();
        assert_eq!((sum, count), (input, runs), "breakdown by {by}");
    }
    let by_task = project.json(&["usage", "--by", "task", "--json"]);
    assert_eq!(by_task["by"]["task"].as_array().unwrap().len(), 2);

    let out = project
        .gaffer()
        .args(["usage", "--by", "colour"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
