//! One module per command; each turns its arguments into calls on the library and
//! returns an exit code. Shared steps (load, connect, discover, plan, confirm) live here.

mod apply;
mod destroy;
mod drift;
mod force_unlock;
mod graph;
mod plan;
mod schema;
mod validate;

use std::fmt;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use crate::aws::discover::{discover, providers};
use crate::aws::lock::{LockPlace, StackLock};
use crate::aws::{AwsContext, AwsError, ConnectOptions, Provider};
use crate::blueprint::{self, Diagnostics, Loaded, Target};
use crate::cli::{Cli, Command, GlobalArgs, LockArgs};
use crate::model::{Desired, Live};
use crate::plan::{self as planner, BlueprintRef, Plan, PlanError, PlanOptions};
use crate::render::Styles;

/// Exit codes (DESIGN §3).
pub const EXIT_CHANGES: u8 = 2;

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
        let allowed = !global.no_color && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let out_color = allowed && std::io::stdout().is_terminal();
        let err_color = allowed && std::io::stderr().is_terminal();
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

    fn connect_options(&self) -> ConnectOptions {
        ConnectOptions {
            region: self.global.region.clone(),
            profile: self.global.profile.clone(),
            endpoint_url: self.global.endpoint_url.clone(),
            max_attempts: self.global.max_attempts,
            retry_mode: self.global.retry_mode,
            wait_timeout: self.global.wait_timeout,
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

pub async fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let session = Session::new(cli.global);
    match cli.command {
        Command::Validate(args) => validate::run(&session, &args),
        Command::Plan(args) => plan::run(&session, &args).await,
        Command::Apply(args) => apply::run(&session, &args).await,
        Command::Destroy(args) => destroy::run(&session, &args).await,
        Command::Drift(args) => drift::run(&session, &args).await,
        Command::Graph(args) => graph::run(&session, &args),
        Command::Schema => schema::run(),
        Command::ForceUnlock(args) => force_unlock::run(&session, &args).await,
    }
}

/// Everything a command needs after planning.
pub struct Prepared {
    pub ctx: AwsContext,
    pub providers: Vec<Box<dyn Provider>>,
    pub desired: Desired,
    pub plan: Plan,
    /// The stack's lock, for commands that change it.
    pub lock: Option<StackLock>,
}

impl Prepared {
    /// Gives the stack's lock up.
    pub async fn release(self, session: &Session) {
        release_lock(session, &self.ctx, self.lock).await;
    }
}

/// Gives a lock up; a failure to do so is a warning (the lock expires by itself).
pub async fn release_lock(session: &Session, ctx: &AwsContext, lock: Option<StackLock>) {
    let Some(lock) = lock else { return };
    let id = lock.info().id.clone();
    if let Err(e) = lock.release(ctx).await {
        session.warn(&format!(
            "could not release the stack's lock {id} ({e}); it expires by itself, or run \
             `secinfra force-unlock BLUEPRINT {id}`"
        ));
    }
}

/// Takes the stack's lock for `operation` (apply, destroy).
pub async fn lock_stack(
    session: &Session,
    ctx: &AwsContext,
    args: &LockArgs,
    operation: &str,
) -> Result<StackLock, Failure> {
    let place = LockPlace::new(ctx, args.lock_bucket.as_deref());
    let notify = |text: &str| session.note(text);
    let at = format!("s3://{}/{}", place.bucket, place.key);
    StackLock::acquire(ctx, place, operation, args.lock_timeout, &notify)
        .await
        .map_err(|e| match e.kind {
            // Held by another run: the message names it.
            crate::aws::ErrorKind::Conflict => Failure::Aws(e),
            _ => Failure::Refused(format!(
                "cannot take the stack's lock at {at}: {e}. apply and destroy keep it in S3; \
                 pass --lock-bucket NAME to use a bucket these credentials may read and write"
            )),
        })
}

/// What to plan for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// The blueprint's resources.
    Blueprint,
    /// Nothing: every resource of the stack goes.
    Destroy,
}

pub fn load(session: &Session, path: &Path) -> Result<Loaded, Failure> {
    Ok(blueprint::load(path, session.global.env.as_deref())?)
}

/// Loads the blueprint, connects, discovers and plans.
pub async fn prepare(
    session: &Session,
    path: &Path,
    goal: Goal,
    options: PlanOptions,
    lock: Option<(&LockArgs, &str)>,
) -> Result<Prepared, Failure> {
    let loaded = load(session, path)?;
    if let Some(endpoint) = session
        .global
        .endpoint_url
        .clone()
        .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
        && let Some(warning) = crate::aws::endpoint_warning(&endpoint)
    {
        session.warn(&warning);
    }
    let blueprint_region = loaded.blueprint.region.as_ref().map(|r| r.value.clone());
    // Every blueprint error is reported before any AWS call (a mistyped region would
    // otherwise surface as a connection failure).
    loaded.validate(&Target {
        region: session
            .global
            .region
            .clone()
            .or_else(|| blueprint_region.clone()),
        account: None,
    })?;
    if let (Some(flag), Some(declared)) = (&session.global.region, &blueprint_region)
        && flag != declared
    {
        session.warn(&format!(
            "--region {flag} overrides the blueprint's region {declared}"
        ));
    }
    let ctx = AwsContext::connect(
        &session.connect_options(),
        &loaded.blueprint.stack.value,
        blueprint_region.as_deref(),
    )
    .await?;
    let validated = loaded.validate(&Target {
        region: Some(ctx.region.clone()),
        account: Some(ctx.account.clone()),
    })?;
    for warning in &validated.warnings {
        eprint!("{}", warning.render(session.err_color));
    }
    let mut desired = validated.desired;
    let reference = BlueprintRef {
        path: path.display().to_string(),
        env: loaded.env.clone(),
        hash: planner::fingerprint::desired(&desired),
    };
    if goal == Goal::Destroy {
        desired.resources.clear();
    }
    // Locked before discovery: the plan must describe the account the changes meet.
    let lock = match lock {
        Some((args, operation)) => Some(lock_stack(session, &ctx, args, operation).await?),
        None => None,
    };
    let providers = providers();
    let planned = async {
        let live = discover_reporting(session, &ctx, &desired, &providers).await?;
        Ok::<_, Failure>(planner::diff(
            &desired,
            &live,
            &ctx.region,
            reference,
            &options,
        )?)
    }
    .await;
    match planned {
        Ok(plan) => Ok(Prepared {
            ctx,
            providers,
            desired,
            plan,
            lock,
        }),
        Err(e) => {
            release_lock(session, &ctx, lock).await;
            Err(e)
        }
    }
}

/// Discovers and reports what it cost on stderr.
pub async fn discover_reporting(
    session: &Session,
    ctx: &AwsContext,
    desired: &Desired,
    providers: &[Box<dyn Provider>],
) -> Result<Live, Failure> {
    let before = ctx.calls.total();
    let started = Instant::now();
    let discovery = discover(ctx, desired, providers).await?;
    for note in &discovery.skipped {
        session.note(note);
    }
    if let Some(err) = discovery.unavailable {
        return Err(err.into());
    }
    let live = planner::assemble(discovery.found, desired);
    let after = ctx.calls.total();
    session.note(&format!(
        "Discovered {} resource{} of stack {} in {} in {:.2} s ({} API calls).",
        live.resources.len(),
        if live.resources.len() == 1 { "" } else { "s" },
        ctx.stack,
        ctx.region,
        started.elapsed().as_secs_f64(),
        after.calls - before.calls,
    ));
    if session.verbose() {
        report_calls(session, ctx);
    }
    Ok(live)
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

/// The progress reporter for this terminal (or log).
pub fn reporter(session: &Session) -> Box<dyn crate::apply::Reporter> {
    if std::io::stderr().is_terminal() {
        Box::new(crate::render::progress::TerminalReporter::new(
            session.err.clone(),
        ))
    } else {
        Box::new(crate::render::progress::PlainReporter::new(
            session.err.clone(),
        ))
    }
}

/// After apply: discover again and plan; the plan must be empty. AWS's reads are
/// eventually consistent (a describe filter or the tagging index may not show what was
/// made or changed moments ago: https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html),
/// so a difference is looked at again a few times, over about half a minute, before it
/// counts.
pub async fn verify(session: &Session, prepared: &Prepared) -> Result<bool, Failure> {
    const PAUSES: [u64; 4] = [2, 4, 8, 16];
    let mut pauses = PAUSES.iter();
    loop {
        let live = discover_reporting(
            session,
            &prepared.ctx,
            &prepared.desired,
            &prepared.providers,
        )
        .await?;
        let again = planner::diff(
            &prepared.desired,
            &live,
            &prepared.ctx.region,
            prepared.plan.blueprint.clone(),
            &PlanOptions {
                adopt: true,
                ..prepared.plan.options.clone()
            },
        )?;
        if !again.has_changes() {
            // What AWS applies later (a reboot pending) is said once the apply is done.
            let mut notes = String::new();
            if crate::render::human::pending_notes(&mut notes, &again, &session.out) {
                print(&notes)?;
            }
            return Ok(true);
        }
        if let Some(pause) = pauses.next() {
            let left = again.actionable().count();
            session.note(&format!(
                "The account does not match the blueprint yet ({} change{} left); AWS's reads \
                 are eventually consistent, so looking again in {pause} s.",
                left,
                if left == 1 { "" } else { "s" }
            ));
            tokio::time::sleep(std::time::Duration::from_secs(*pause)).await;
            continue;
        }
        let styles = session.err.clone();
        session.warn("the account does not match yet; a new plan still shows:");
        eprint!("{}", crate::render::human::plan(&again, &styles));
        return Ok(false);
    }
}
