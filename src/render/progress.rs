//! Apply progress: spinners and a step counter on a terminal, one plain line per event
//! elsewhere (CI logs). Both go to stderr.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::style::Styles;
use crate::apply::ops::Op;
use crate::apply::{Outcome, Reporter};

fn past(op: &Op) -> &'static str {
    use crate::apply::ops::Step;
    match op.step {
        Step::Create => "created",
        Step::Update => "updated",
        Step::Delete => "deleted",
        Step::Release => "links released",
        Step::Establish => "linked",
    }
}

fn finished_line(op: &Op, outcome: &Outcome, elapsed: Duration, styles: &Styles) -> String {
    let secs = elapsed.as_secs_f64();
    match outcome {
        Outcome::Done {
            created_id: Some(id),
        } => format!("{}: {} {id} ({secs:.1} s)", op.address, past(op)),
        Outcome::Done { created_id: None } => format!("{}: {} ({secs:.1} s)", op.address, past(op)),
        Outcome::Failed(message) => format!(
            "{}: {} after {secs:.1} s: {message}",
            op.address,
            styles.error(&format!("{} FAILED", op.step.verb(op.address.kind)))
        ),
    }
}

const ABANDONED: &str = "Stopped at once: running changes were abandoned and may be half done; \
     run plan to see where the stack stands.";

/// One line per event, for logs.
pub struct PlainReporter {
    styles: Styles,
}

impl PlainReporter {
    pub fn new(styles: Styles) -> PlainReporter {
        PlainReporter { styles }
    }
}

impl Reporter for PlainReporter {
    fn begin(&self, _total: usize) {}
    fn started(&self, op: &Op) {
        eprintln!("{}: {}...", op.address, op.step.verb(op.address.kind));
    }
    fn finished(&self, op: &Op, outcome: &Outcome, elapsed: Duration) {
        eprintln!("{}", finished_line(op, outcome, elapsed, &self.styles));
    }
    fn skipped(&self, op: &Op, cause: &str) {
        eprintln!(
            "{}: {} skipped ({cause})",
            op.address,
            op.step.verb(op.address.kind)
        );
    }
    fn recovering(&self, op: &Op, what: &str) {
        eprintln!("{}: {what}", op.address);
    }
    fn waiting(&self, op: &Op, what: &str) {
        eprintln!("{}: {what}", op.address);
    }
    fn interrupted(&self) {
        eprintln!(
            "Interrupted: no new changes will start; waiting for running ones to finish \
             (Ctrl-C again to stop at once)."
        );
    }
    fn abandoned(&self) {
        eprintln!("{ABANDONED}");
    }
    fn end(&self) {}
}

/// Spinners per running step under a step counter.
pub struct TerminalReporter {
    multi: MultiProgress,
    total: ProgressBar,
    running: Mutex<BTreeMap<Op, ProgressBar>>,
    styles: Styles,
}

impl TerminalReporter {
    pub fn new(styles: Styles) -> TerminalReporter {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let total = multi.add(ProgressBar::new(0));
        total.set_style(
            ProgressStyle::with_template("{prefix:.bold} [{bar:30}] {pos}/{len} steps, {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        total.set_prefix("apply");
        TerminalReporter {
            multi,
            total,
            running: Mutex::new(BTreeMap::new()),
            styles,
        }
    }

    fn stop(&self, op: &Op) {
        if let Some(bar) = self.running.lock().ok().and_then(|mut m| m.remove(op)) {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
    }
}

impl Reporter for TerminalReporter {
    fn begin(&self, total: usize) {
        self.total.set_length(total as u64);
        self.total.enable_steady_tick(Duration::from_millis(200));
    }
    fn started(&self, op: &Op) {
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("  {spinner} {msg} {elapsed:.dim}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(format!("{}: {}", op.address, op.step.verb(op.address.kind)));
        bar.enable_steady_tick(Duration::from_millis(120));
        if let Ok(mut running) = self.running.lock() {
            running.insert(op.clone(), bar);
        }
    }
    fn finished(&self, op: &Op, outcome: &Outcome, elapsed: Duration) {
        self.stop(op);
        self.total.inc(1);
        let _ = self
            .multi
            .println(finished_line(op, outcome, elapsed, &self.styles));
    }
    fn skipped(&self, op: &Op, cause: &str) {
        self.total.inc(1);
        let _ = self.multi.println(format!(
            "{}: {} {}",
            op.address,
            op.step.verb(op.address.kind),
            self.styles.warning(&format!("skipped ({cause})"))
        ));
    }
    fn recovering(&self, op: &Op, what: &str) {
        let _ = self
            .multi
            .println(self.styles.warning(&format!("{}: {what}", op.address)));
    }
    fn waiting(&self, op: &Op, what: &str) {
        if let Some(bar) = self.running.lock().ok().and_then(|m| m.get(op).cloned()) {
            bar.set_message(format!("{}: {what}", op.address));
        }
    }
    fn interrupted(&self) {
        let _ = self.multi.println(self.styles.warning(
            "Interrupted: no new changes will start; waiting for running ones to finish \
             (Ctrl-C again to stop at once).",
        ));
    }
    fn abandoned(&self) {
        let _ = self.multi.println(self.styles.error(ABANDONED));
    }
    fn end(&self) {
        self.total.finish_and_clear();
    }
}
