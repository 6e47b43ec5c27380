//! The protocol every surface of gaffer speaks: what a person can do to a task ([`Action`]) and
//! change about a waiting one ([`TaskChanges`]),
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
mod edit;
mod event;
pub mod paths;
mod worker_token;

pub use action::{
    Action, AnswerBody, BudgetBody, CancelBody, DEFAULT_CANCEL_REASON, DeclineBody, Place,
    RejectBody, RetryBody, RevertBody, SayBody, parse_budget, present,
};
pub use attach::{Attached, Resume};
pub use clean::CleanReport;
pub use client::{API_URL_ENV, Api, ApiError, CLIENT_HEADER, Endpoint, RUN_TOKEN_ENV};
pub use daemon_file::{DaemonFileError, DaemonInfo, Secret};
pub use edit::TaskChanges;
pub use event::{ReadableEvent, readable};
/// The task ids the protocol's bodies carry (`Place`, `TaskChanges`), for clients that know no
/// other part of the core.
pub use gaffer_core::TaskId;
pub use worker_token::{CreatedWorkerToken, NewWorkerTokenBody, Revoked};
