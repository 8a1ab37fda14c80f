//! One module per command; each turns its arguments into calls on the library and
//! returns an exit code. The steps they share (load, connect, lock, discover, plan,
//! verify) are `pipeline`; what they share in talking to the user (the session, errors,
//! confirmation, progress) is here.

mod apply;
mod attribution;
mod audit;
mod destroy;
mod docs;
mod drift;
mod force_unlock;
mod format;
mod graph;
mod pipeline;
mod plan;
mod respond;
mod schema;
mod show;
mod validate;

pub use pipeline::{
    Goal, Prepared, discover_reporting, load, lock_stack, prepare, release_lock, verify,
};

use std::fmt;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use crate::aws::{AwsContext, AwsError, ConnectOptions};
use crate::blueprint::Diagnostics;
use crate::cli::{Cli, Command, GlobalArgs};
use crate::plan::PlanError;
use crate::render::Styles;

/// How a command ended: the one place exit codes are decided (DESIGN §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: done; for `plan --detailed-exitcode` and `drift`, nothing differs.
    Success,
    /// 1: an error, or changes that did not all finish (failed, held, not verified).
    Failure,
    /// 2: changes present (`plan --detailed-exitcode`, `drift`).
    Changes,
    /// 3: policy violations (`audit`; `validate --fail-on`).
    Violations,
    /// 4: the plan widens exposure (`plan --fail-on-widening`).
    Widens,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::Changes => 2,
            Exit::Violations => 3,
            Exit::Widens => 4,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

/// Why a command stopped.
#[derive(Debug)]
pub enum Failure {
    Blueprint(Diagnostics),
    Aws(AwsError),
    Plan(PlanError),
    /// secinfra declined to go on (no confirmation, stale plan, ...).
    Refused(String),
    Other(anyhow::Error),
}

impl From<Diagnostics> for Failure {
    fn from(d: Diagnostics) -> Self {
        Failure::Blueprint(d)
    }
}
impl From<AwsError> for Failure {
    fn from(e: AwsError) -> Self {
        Failure::Aws(e)
    }
}
impl From<PlanError> for Failure {
    fn from(e: PlanError) -> Self {
        Failure::Plan(e)
    }
}
impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Other(e)
    }
}

impl Failure {
    /// Every failure is an error (1); the variants say why, for the message.
    pub fn exit(&self) -> Exit {
        Exit::Failure
    }

    pub fn render(&self, styles: &Styles, color: bool) -> String {
        match self {
            Failure::Blueprint(diagnostics) => {
                let count = diagnostics.error_count();
                format!(
                    "{}{}: blueprint has {count} error{}\n",
                    diagnostics.render(color),
                    styles.error("error"),
                    if count == 1 { "" } else { "s" }
                )
            }
            Failure::Aws(err) => {
                let mut text = format!("{}: {err}\n", styles.error("error"));
                if let Some(hint) = err.hint() {
                    text.push_str(&format!("  hint: {hint}\n"));
                }
                text
            }
            other => format!("{}: {other}\n", styles.error("error")),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Blueprint(d) => d.fmt(f),
            Failure::Aws(e) => e.fmt(f),
            Failure::Plan(e) => e.fmt(f),
            Failure::Refused(message) => f.write_str(message),
            Failure::Other(e) => write!(f, "{e:#}"),
        }
    }
}

/// Output settings shared by every command.
pub struct Session {
    pub global: GlobalArgs,
    /// Colours for stdout and stderr, each on only when that stream is a terminal.
    pub out: Styles,
    pub err: Styles,
    pub err_color: bool,
}

impl Session {
    pub fn new(global: GlobalArgs) -> Session {
        let out_color = global.colors(std::io::stdout().is_terminal());
        let err_color = global.colors(std::io::stderr().is_terminal());
        Session {
            global,
            out: Styles::new(out_color),
            err: Styles::new(err_color),
            err_color,
        }
    }

    pub fn verbose(&self) -> bool {
        self.global.verbose > 0
    }

    /// How much the human view shows: documents of new resources folded unless `-v`.
    pub fn detail(&self) -> crate::render::human::Detail {
        if self.verbose() {
            crate::render::human::Detail::Full
        } else {
            crate::render::human::Detail::Compact
        }
    }

    /// The human view of a plan for stdout.
    pub fn show_plan(&self, plan: &crate::plan::Plan) -> String {
        crate::render::human::plan_in(plan, &self.out, self.detail())
    }

    fn connect_options(&self) -> ConnectOptions {
        ConnectOptions {
            region: self.global.region.clone(),
            profile: self.global.profile.clone(),
            endpoint_url: self.global.endpoint_url.clone(),
            max_attempts: self.global.max_attempts,
            retry_mode: self.global.retry_mode,
            wait_timeout: self.global.wait_timeout,
            connect_timeout: self.global.connect_timeout,
            read_timeout: self.global.read_timeout,
            rate_limit: self.global.max_rps.unwrap_or_default(),
        }
    }

    /// Prints a diagnostic line on stderr.
    pub fn note(&self, text: &str) {
        eprintln!("{text}");
    }

    pub fn warn(&self, text: &str) {
        eprintln!("{}: {text}", self.err.warning("warning"));
    }
}

/// Writes to stdout; a closed pipe (`secinfra plan | head`) is not an error.
pub fn print(text: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|e| Failure::Other(e.into())),
    }
}

pub async fn run(cli: Cli) -> Result<Exit, Failure> {
    let session = Session::new(cli.global);
    match cli.command {
        Command::Validate(args) => validate::run(&session, &args),
        Command::Plan(args) => plan::run(&session, &args).await,
        Command::Apply(args) => apply::run(&session, &args).await,
        Command::Destroy(args) => destroy::run(&session, &args).await,
        Command::Drift(args) => drift::run(&session, &args).await,
        Command::Audit(args) => audit::run(&session, &args).await,
        Command::Respond(verb) => respond::run(&session, &verb).await,
        Command::Graph(args) => graph::run(&session, &args),
        Command::Schema => schema::run(),
        Command::Show(args) => show::run(&session, &args),
        Command::Fmt(args) => format::run(&session, &args),
        Command::Completions(args) => docs::completions(args.shell),
        Command::Man(args) => docs::man(args.command.as_deref()),
        Command::ForceUnlock(args) => force_unlock::run(&session, &args).await,
    }
}

/// Per-operation call counts so far (for -v).
pub fn report_calls(session: &Session, ctx: &AwsContext) {
    for (operation, count) in ctx.calls.snapshot() {
        let retries = count.attempts.saturating_sub(count.calls);
        let retries = if retries > 0 {
            format!(" ({retries} retries)")
        } else {
            String::new()
        };
        session.note(&format!("  {operation}: {}{retries}", count.calls));
    }
    let paced = ctx.limiter.waited();
    if !paced.is_zero() {
        session.note(&format!(
            "  requests waited {:.1} s in all for EC2's request buckets (--max-rps)",
            paced.as_secs_f64()
        ));
    }
}

/// Asks for `yes` on a terminal; refuses without `--auto-approve` elsewhere.
pub fn confirm(session: &Session, question: &str, auto_approve: bool) -> Result<(), Failure> {
    if auto_approve {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::Refused(
            "stdin is not a terminal, so secinfra cannot ask for confirmation; pass --auto-approve to proceed".into(),
        ));
    }
    eprint!(
        "{}\n  Only 'yes' will be accepted: ",
        session.err.bold(question)
    );
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| Failure::Other(e.into()))?;
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(Failure::Refused("cancelled; nothing was changed".into()))
    }
}

/// Resolves when the user presses Ctrl-C (never, if the handler cannot be installed).
pub async fn interrupted() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// The progress reporter for this terminal (or log), for a run named by `verb`.
pub fn reporter(session: &Session, verb: &str) -> Box<dyn crate::apply::Reporter> {
    if std::io::stderr().is_terminal() {
        Box::new(crate::render::progress::TerminalReporter::new(
            session.err.clone(),
            verb,
        ))
    } else {
        Box::new(crate::render::progress::PlainReporter::new(
            session.err.clone(),
        ))
    }
}
