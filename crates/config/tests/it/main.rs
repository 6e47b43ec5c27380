//! Integration tests of gaffer-config, in one test binary.

// Helpers here are test code too; a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod agents;
mod defaults;
mod detect;
mod errors;
mod example;
mod notify;
mod overrides;
mod prices;
mod privacy;
mod queue;
mod review;
mod template;

use std::path::Path;

use gaffer_config::{ConfigError, Settings, parse_str};

/// Parses `text` as `gaffer.toml`, failing the test on an error.
pub fn parse(text: &str) -> Settings {
    match parse_str(text, Path::new("/src/myproj/gaffer.toml")) {
        Ok(settings) => settings,
        Err(error) => panic!("expected valid configuration, got:\n{error}"),
    }
}

/// Parses `text` as `gaffer.toml`, failing the test when it is accepted.
pub fn parse_err(text: &str) -> ConfigError {
    match parse_str(text, Path::new("gaffer.toml")) {
        Ok(settings) => panic!("expected an error, got {settings:#?}"),
        Err(error) => error,
    }
}
