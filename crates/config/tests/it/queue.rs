//! `[queue]`, `[host]` and `project.remote`: defaults, values and errors.

use std::path::Path;

use gaffer_config::{Overrides, QueueStrategy, default_heavy_slots, load, parse_str};

fn parse(text: &str) -> Result<gaffer_config::Settings, gaffer_config::ConfigError> {
    parse_str(text, Path::new("/p/gaffer.toml"))
}

#[test]
fn defaults_are_a_merge_queue_of_eight_and_one_heavy_slot_per_cpu() {
    let settings = parse("").unwrap();
    assert_eq!(settings.queue.strategy, QueueStrategy::Merge);
    assert_eq!(settings.queue.max_candidates, 8);
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
