//! What apply reports while it runs. The executor calls a `Reporter`; the CLI implements
//! it with progress bars on a terminal and plain lines elsewhere.

use std::time::Duration;

use super::ops::Op;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Done {
        /// The AWS id of a newly created resource.
        created_id: Option<String>,
    },
    Failed(String),
}

pub trait Reporter: Send + Sync {
    /// Apply is about to run `total` steps.
    fn begin(&self, total: usize);
    fn started(&self, op: &Op);
    fn finished(&self, op: &Op, outcome: &Outcome, elapsed: Duration);
    /// A step will not run because `cause`.
    fn skipped(&self, op: &Op, cause: &str);
    /// A create failed without a clear outcome; `what` says what apply does about it.
    fn recovering(&self, op: &Op, what: &str);
    /// A step was refused for something AWS has not caught up with yet and will be tried
    /// again; `what` says what it waits for.
    fn waiting(&self, op: &Op, what: &str);
    /// Ctrl-C: no new steps start; running ones finish.
    fn interrupted(&self);
    /// A second Ctrl-C: running steps are abandoned where they are.
    fn abandoned(&self);
    fn end(&self);
}

/// Discards events (library use and tests).
pub struct Silent;

impl Reporter for Silent {
    fn begin(&self, _: usize) {}
    fn started(&self, _: &Op) {}
    fn finished(&self, _: &Op, _: &Outcome, _: Duration) {}
    fn skipped(&self, _: &Op, _: &str) {}
    fn recovering(&self, _: &Op, _: &str) {}
    fn waiting(&self, _: &Op, _: &str) {}
    fn interrupted(&self) {}
    fn abandoned(&self) {}
    fn end(&self) {}
}
