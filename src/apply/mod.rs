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

/// What a provider needs of the user's choices to delete.
pub(crate) fn delete_options(
    options: &crate::plan::PlanOptions,
) -> crate::aws::provider::DeleteOptions {
    crate::aws::provider::DeleteOptions {
        without_recovery: options.delete_without_recovery,
    }
}
