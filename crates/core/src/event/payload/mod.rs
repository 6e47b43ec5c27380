//! The payload of each event kind: the fields its `data` object carries, typed. The JSON they
//! serialize to is the stored and served format; change it only compatibly (new fields optional),
//! since databases and clients hold today's.

mod engine;
mod queue;
mod run;
mod task;

pub use engine::*;
pub use queue::*;
pub use run::*;
pub use task::*;

/// Reads a field that may be absent (unchanged), `null` (cleared) or a value (set): `None`,
/// `Some(None)`, `Some(Some(v))`.
pub(crate) fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}
