//! The protocol every surface of gaffer speaks: what a person can do to a task ([`Action`]),
//! where the daemon is ([`DaemonInfo`], `daemon.json`), events as served, with their sentence
//! ([`ReadableEvent`]), and the one client of its HTTP API
//! ([`Api`]) that the CLI, the interactive shell and the MCP server share.
//!
//! The engine carries actions out (`gaffer_engine::Board::perform`); the server maps each to
//! its route; clients build requests from the same types, so the wire format is written once.

mod action;
mod attach;
mod clean;
mod client;
mod daemon_file;
mod event;
pub mod paths;
mod worker_token;

pub use action::{
    Action, AnswerBody, BudgetBody, CancelBody, DEFAULT_CANCEL_REASON, DeclineBody, RejectBody,
    RetryBody, SayBody, parse_budget, present,
};
pub use attach::{Attached, Resume};
pub use clean::CleanReport;
pub use client::{API_URL_ENV, Api, ApiError, CLIENT_HEADER, Endpoint, RUN_TOKEN_ENV};
pub use daemon_file::{DaemonFileError, DaemonInfo, Secret};
pub use event::{ReadableEvent, readable};
pub use worker_token::{CreatedWorkerToken, NewWorkerTokenBody, Revoked};
