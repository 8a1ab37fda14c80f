//! secinfra: stand up and keep true the AWS security environment an API runs in.
//!
//! The pipeline: `blueprint` (load, validate) → `model` (desired resources) →
//! `aws` (discover live resources) → `plan` (pure diff) → `apply` (execute) → `render`.

pub mod apply;
pub mod audit;
pub mod aws;
pub mod blueprint;
pub mod cli;
pub mod commands;
pub mod limits;
pub mod model;
pub mod naming;
pub mod plan;
pub mod policy;
pub mod render;
pub mod respond;
#[cfg(test)]
pub(crate) mod testing;
