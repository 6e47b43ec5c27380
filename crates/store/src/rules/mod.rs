//! The rules every [`crate::Store`] keeps, whatever it stores in: input checks, how a commit's
//! child tasks refer to each other, and what each write records in the event log.
//!
//! They are plain functions over the values that cross the trait: an implementation calls them
//! inside its transaction and does only the storing itself. What they need from storage (does
//! this project exist, which project is this task in) is passed in. The conformance suite
//! checks the behaviour they give; a new store that calls them gets it the same way.

pub mod children;
pub mod edit;
pub mod events;
pub mod import;
pub mod input;
pub mod jobs;
pub mod worker_tokens;
