//! The scripted model server over real HTTP: every API streaming and not, selection, turn
//! progression, failures, the request log and the script format.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod anthropic;
mod common;
mod failures;
mod log;
mod openai_chat;
mod responses;
mod script_format;
mod selection;
