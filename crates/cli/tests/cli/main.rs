//! End-to-end tests of the `gaffer` binary: each runs the real executable in a hermetic
//! environment (see `common`) on its own temporary repositories, so they run in parallel.
//!
//! One test binary; every file of this directory is a module of it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod agents_e2e;

mod by_hand;
mod clean;
mod config;
mod crew;
mod crew_more;
mod daemon;
mod demo;
mod doctor;
mod escape;
mod failures;
mod init;
mod inspect;
mod output;
mod people;
mod pull;
mod queue;
mod schedule;
mod scope;
mod secrets;
mod status;
mod steer;
mod store;
mod task;
mod token;
mod undo;
mod usage;
mod worker;
mod worker_token;

/// A file added to this directory but not declared above would silently never run.
#[test]
fn every_test_file_is_a_module() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli");
    let main = std::fs::read_to_string(dir.join("main.rs")).unwrap();
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(module) = name.strip_suffix(".rs")
            && module != "main"
        {
            seen += 1;
            assert!(
                main.contains(&format!("\nmod {module};")),
                "tests/cli/{name} is not declared in tests/cli/main.rs"
            );
        }
    }
    assert!(
        seen >= 9,
        "only {seen} test modules found in {}",
        dir.display()
    );
}
