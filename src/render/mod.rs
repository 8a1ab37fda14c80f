//! Views of plans and apply results. Renderers only render: they never compute a plan.

pub mod attribution;
pub mod audit;
pub mod human;
pub mod json;
pub mod markdown;
pub mod progress;
pub mod style;
pub mod summary;
#[cfg(test)]
mod tests;

pub use style::Styles;
