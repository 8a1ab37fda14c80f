//! Apply progress: spinners and a step counter on a terminal, one plain line per event
//! elsewhere (CI logs), with a heartbeat line for long steps. Both go to stderr.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::style::Styles;
use crate::apply::ops::Op;
use crate::apply::{Outcome, Reporter};

fn past(op: &Op) -> &'static str {
    use crate::apply::ops::Step;
    use crate::model::Kind;
    match op.step {
        Step::Create => "created",
        Step::Update => "updated",
        // KMS never deletes a key at once: it is disabled, and deleted after its window.
        Step::Delete if op.address.kind == Kind::KmsKey => "scheduled for deletion",
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

/// How often a step still running is reported in logs (Terraform's `Still creating...`):
/// CI runners that kill a job after minutes without output then see one line per step.
pub const HEARTBEAT: Duration = Duration::from_secs(30);

/// One line per event, for logs, and a heartbeat line for each step still running.
pub struct PlainReporter {
    styles: Styles,
    out: Arc<Mutex<Box<dyn Write + Send>>>,
    running: Arc<Mutex<BTreeMap<Op, Instant>>>,
    heartbeat: Duration,
    stop: Arc<AtomicBool>,
    ticker: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl PlainReporter {
    pub fn new(styles: Styles) -> PlainReporter {
        PlainReporter::writing_to(styles, Box::new(std::io::stderr()), HEARTBEAT)
    }

    /// A reporter writing to `out`, with a heartbeat every `heartbeat`.
    pub fn writing_to(
        styles: Styles,
        out: Box<dyn Write + Send>,
        heartbeat: Duration,
    ) -> PlainReporter {
        PlainReporter {
            styles,
            out: Arc::new(Mutex::new(out)),
            running: Arc::default(),
            heartbeat,
            stop: Arc::default(),
            ticker: Mutex::new(None),
        }
    }

    fn line(&self, text: &str) {
        write_line(&self.out, text);
    }
}

fn write_line(out: &Mutex<Box<dyn Write + Send>>, text: &str) {
    if let Ok(mut out) = out.lock() {
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }
}

/// `still creating... [1m30s elapsed]` for each step running a whole multiple of
/// `heartbeat` longer than when it was last said.
fn heartbeats(
    out: &Mutex<Box<dyn Write + Send>>,
    running: &Mutex<BTreeMap<Op, Instant>>,
    said: &mut BTreeMap<Op, u64>,
    heartbeat: Duration,
) {
    let Ok(running) = running.lock() else { return };
    said.retain(|op, _| running.contains_key(op));
    for (op, started) in running.iter() {
        let beats = (started.elapsed().as_millis() / heartbeat.as_millis().max(1)) as u64;
        if beats > said.get(op).copied().unwrap_or(0) {
            said.insert(op.clone(), beats);
            let elapsed = started.elapsed().as_secs();
            write_line(
                out,
                &format!(
                    "{}: still {}... [{}m{:02}s elapsed]",
                    op.address,
                    op.step.verb(op.address.kind),
                    elapsed / 60,
                    elapsed % 60
                ),
            );
        }
    }
}

impl Reporter for PlainReporter {
    fn begin(&self, _total: usize) {
        let (out, running, stop) = (
            Arc::clone(&self.out),
            Arc::clone(&self.running),
            Arc::clone(&self.stop),
        );
        let heartbeat = self.heartbeat;
        let tick = (heartbeat / 10).clamp(Duration::from_millis(10), Duration::from_secs(1));
        let ticker = std::thread::spawn(move || {
            let mut said = BTreeMap::new();
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(tick);
                heartbeats(&out, &running, &mut said, heartbeat);
            }
        });
        if let Ok(mut slot) = self.ticker.lock() {
            *slot = Some(ticker);
        }
    }
    fn started(&self, op: &Op) {
        if let Ok(mut running) = self.running.lock() {
            running.insert(op.clone(), Instant::now());
        }
        self.line(&format!(
            "{}: {}...",
            op.address,
            op.step.verb(op.address.kind)
        ));
    }
    fn finished(&self, op: &Op, outcome: &Outcome, elapsed: Duration) {
        if let Ok(mut running) = self.running.lock() {
            running.remove(op);
        }
        self.line(&finished_line(op, outcome, elapsed, &self.styles));
    }
    fn skipped(&self, op: &Op, cause: &str) {
        self.line(&format!(
            "{}: {} skipped ({cause})",
            op.address,
            op.step.verb(op.address.kind)
        ));
    }
    fn recovering(&self, op: &Op, what: &str) {
        self.line(&format!("{}: {what}", op.address));
    }
    fn waiting(&self, op: &Op, what: &str) {
        self.line(&format!("{}: {what}", op.address));
    }
    fn interrupted(&self) {
        self.line(
            "Interrupted: no new changes will start; waiting for running ones to finish \
             (Ctrl-C again to stop at once).",
        );
    }
    fn abandoned(&self) {
        self.line(ABANDONED);
    }
    fn end(&self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(ticker) = self.ticker.lock().ok().and_then(|mut t| t.take()) {
            let _ = ticker.join();
        }
    }
}

impl Drop for PlainReporter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Spinners per running step under a step counter.
pub struct TerminalReporter {
    multi: MultiProgress,
    total: ProgressBar,
    running: Mutex<BTreeMap<Op, ProgressBar>>,
    styles: Styles,
}

impl TerminalReporter {
    /// `verb` names the run in the step counter (`apply`, `destroy`).
    pub fn new(styles: Styles, verb: &str) -> TerminalReporter {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let total = multi.add(ProgressBar::new(0));
        total.set_style(
            ProgressStyle::with_template("{prefix:.bold} [{bar:30}] {pos}/{len} steps, {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        total.set_prefix(verb.to_lowercase());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::ops::Step;

    /// A sink the test reads back.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("sink").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_long_step_says_it_is_still_running_in_logs_until_it_ends() {
        let sink = Sink::default();
        let reporter = PlainReporter::writing_to(
            Styles::new(false),
            Box::new(sink.clone()),
            Duration::from_millis(100),
        );
        let op = Op {
            address: "db_instance.main".parse().expect("address"),
            step: Step::Delete,
        };
        reporter.begin(1);
        reporter.started(&op);
        std::thread::sleep(Duration::from_millis(350));
        reporter.finished(
            &op,
            &Outcome::Done { created_id: None },
            Duration::from_millis(350),
        );
        std::thread::sleep(Duration::from_millis(250));
        reporter.end();
        let text = String::from_utf8(sink.0.lock().expect("sink").clone()).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        let beats = lines
            .iter()
            .filter(|l| l.starts_with("db_instance.main: still deleting... ["))
            .count();
        // At most one per elapsed heartbeat (a busy machine may let the ticker say fewer).
        assert!((1..=3).contains(&beats), "{text}");
        assert!(
            lines
                .last()
                .is_some_and(|l| l.starts_with("db_instance.main: deleted")),
            "no heartbeat after the step ended:\n{text}"
        );
    }

    #[test]
    fn a_key_deletion_reads_as_scheduled() {
        let styles = Styles::new(false);
        let done = Outcome::Done { created_id: None };
        let op = |address: &str| Op {
            address: address.parse().expect("address"),
            step: Step::Delete,
        };
        let key = finished_line(&op("kms_key.s3"), &done, Duration::from_secs(1), &styles);
        assert_eq!(key, "kms_key.s3: scheduled for deletion (1.0 s)");
        let group = finished_line(
            &op("security_group.rds"),
            &done,
            Duration::from_secs(1),
            &styles,
        );
        assert_eq!(group, "security_group.rds: deleted (1.0 s)");
    }
}
