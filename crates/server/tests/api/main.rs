//! The API tested in process (`tower::ServiceExt::oneshot` on the router, no port) on a real
//! board over a temporary git repository, plus one test that binds a real port.
//!
//! One test binary; every file of this directory is a module of it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod agent;
mod clean;
mod dashboard;
mod events;
mod guard;
mod harness;
mod metrics;
mod openapi;
mod queue;
mod serve;
mod stream;
mod tasks;
mod undo;
mod worker_tokens;
mod workers;

/// A file added to this directory but not declared above would silently never run.
#[test]
fn every_test_file_is_a_module() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api");
    let main = std::fs::read_to_string(dir.join("main.rs")).unwrap();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(module) = name.strip_suffix(".rs")
            && module != "main"
        {
            assert!(
                main.contains(&format!("mod {module};")),
                "tests/api/{name} is not declared in tests/api/main.rs"
            );
        }
    }
}
