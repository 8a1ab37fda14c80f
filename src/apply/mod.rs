//! Executing a plan: its changes expanded into ordered steps (`ops`), run with bounded
//! parallelism (`executor`), reported through `events`.

pub mod events;
pub mod executor;
#[cfg(test)]
pub mod fake;
#[cfg(test)]
mod hazards;
pub mod ops;
#[cfg(test)]
mod properties;
mod recover;

pub use events::{Outcome, Reporter, Silent};
pub use executor::{ApplyOptions, ApplyReport, ChangeStatus, execute};
