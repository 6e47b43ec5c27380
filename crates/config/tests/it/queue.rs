//! `[queue]`, `[host]` and `project.remote`: defaults, values and errors.

use std::path::Path;

use gaffer_config::{
    Overrides, QueueBatch, QueueStrategy, RecentOutcomes, default_heavy_slots, load, parse_str,
};

fn parse(text: &str) -> Result<gaffer_config::Settings, gaffer_config::ConfigError> {
    parse_str(text, Path::new("/p/gaffer.toml"))
}

#[test]
fn defaults_are_a_merge_queue_of_eight_batching_when_it_pays_and_one_heavy_slot_per_cpu() {
    let settings = parse("").unwrap();
    assert_eq!(settings.queue.strategy, QueueStrategy::Merge);
    assert_eq!(settings.queue.max_candidates, 8);
    assert_eq!(settings.queue.batch, QueueBatch::Auto);
    assert_eq!(settings.host.heavy_slots, default_heavy_slots());
    assert!(settings.host.heavy_slots >= 1);
    assert_eq!(settings.host.max_load, None);
    assert_eq!(settings.host.min_free_memory, None);
    assert_eq!(settings.project.remote, None);
}

#[test]
fn values_are_read_in_every_form() {
    let settings = parse(
        "[project]\nremote = \"upstream\"\n[queue]\nstrategy = \"rebase\"\nmax_candidates = 1\n\
         [host]\nheavy_slots = 2\nmax_load = 3\nmin_free_memory = 1048576\n",
    )
    .unwrap();
    assert_eq!(settings.project.remote.as_deref(), Some("upstream"));
    assert_eq!(settings.queue.strategy, QueueStrategy::Rebase);
    assert_eq!(settings.queue.max_candidates, 1);
    assert_eq!(settings.host.heavy_slots, 2);
    assert_eq!(settings.host.max_load, Some(3.0));
    assert_eq!(settings.host.min_free_memory, Some(1 << 20));

    let mut flags = Overrides::new();
    flags.push("host.heavy_slots", "3");
    flags.push("host.min_free_memory", "512MiB");
    flags.push("queue.strategy", "merge");
    let settings = load(None, &Overrides::new(), &flags).unwrap();
    assert_eq!(settings.host.heavy_slots, 3);
    assert_eq!(settings.host.min_free_memory, Some(512 << 20));
}

#[test]
fn bad_values_name_the_key_and_the_line() {
    for (text, key, words) in [
        (
            "[queue]\nstrategy = \"squash\"\n",
            "queue.strategy",
            "not a strategy",
        ),
        (
            "[queue]\nbatch = \"lots\"\n",
            "queue.batch",
            "not a batch size",
        ),
        ("[queue]\nbatch = 0\n", "queue.batch", "between 1 and 64"),
        (
            "[queue]\nmax_candidates = 0\n",
            "queue.max_candidates",
            "between 1 and 64",
        ),
        (
            "[host]\nheavy_slots = 0\n",
            "host.heavy_slots",
            "between 1 and 1024",
        ),
        ("[host]\nmax_load = -1\n", "host.max_load", "above zero"),
        (
            "[host]\nmin_free_memory = \"lots\"\n",
            "host.min_free_memory",
            "not an amount",
        ),
        (
            "[project]\nremote = \"a b\"\n",
            "project.remote",
            "not a remote name",
        ),
    ] {
        let error = parse(text).unwrap_err().to_string();
        assert!(
            error.contains(key) && error.contains(words) && error.contains("gaffer.toml:2"),
            "{text:?} gave: {error}"
        );
    }
}

#[test]
fn batch_is_a_number_or_auto_in_every_form() {
    let settings = parse("[queue]\nbatch = 4\n").unwrap();
    assert_eq!(settings.queue.batch, QueueBatch::Fixed(4));
    let settings = parse("[queue]\nbatch = \"auto\"\n").unwrap();
    assert_eq!(settings.queue.batch, QueueBatch::Auto);
    let mut flags = Overrides::new();
    flags.push("queue.batch", "1");
    let settings = load(None, &Overrides::new(), &flags).unwrap();
    assert_eq!(settings.queue.batch, QueueBatch::Fixed(1));
}

/// Shown (`gaffer config`, the API) as it is written: `batch = 4`, `batch = "auto"`.
#[test]
fn batch_shows_as_it_is_written() {
    assert_eq!(
        serde_json::to_value(QueueBatch::Fixed(4)).unwrap(),
        serde_json::json!(4)
    );
    assert_eq!(
        serde_json::to_value(QueueBatch::Auto).unwrap(),
        serde_json::json!("auto")
    );
    let settings = parse("[queue]\nbatch = 4\n").unwrap();
    let shown = serde_json::to_value(&settings.queue).unwrap();
    assert_eq!(shown["batch"], serde_json::json!(4));
}

/// `auto` batches only while more branches wait than the heavy slots can test one by one, and
/// less as more branches fail; a fixed size is what it says.
#[test]
fn auto_batches_by_slots_queue_and_failures() {
    let auto = QueueBatch::Auto;
    let ended = |ended, failed| RecentOutcomes { ended, failed };
    let clean = ended(24, 0);
    // Enough slots for every branch: one branch per candidate, as a plain train.
    assert_eq!(auto.size(2, 2, clean), 1);
    assert_eq!(auto.size(4, 8, clean), 1);
    // More branches than slots: the queue spread over the slots, at most 16.
    assert_eq!(auto.size(24, 1, clean), 16);
    assert_eq!(auto.size(24, 3, clean), 8);
    assert_eq!(auto.size(5, 2, clean), 3);
    // Failures make batches smaller; a third failing or more, none (one slot: by the estimate,
    // 2/20, 8/32 and 8/20 here).
    assert_eq!(auto.size(24, 1, ended(12, 1)), 10);
    assert_eq!(auto.size(24, 1, ended(24, 7)), 4);
    assert_eq!(auto.size(24, 1, ended(12, 7)), 1);
    // Several slots: by a cautious bound, so no history means the train.
    assert_eq!(auto.size(24, 2, RecentOutcomes::default()), 1);
    assert_eq!(auto.size(24, 2, clean), 8);
    assert_eq!(QueueBatch::Fixed(4).size(1, 8, ended(10, 9)), 4);
    assert_eq!(QueueBatch::Fixed(1).size(24, 1, clean), 1);
}
