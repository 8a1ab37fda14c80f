//! The steps every command shares, in order: load the blueprint, connect, take the
//! stack's lock (commands that change it), discover, plan; and after apply, verify. Commands
//! are thin: they parse their arguments, run these, and render.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use super::{Failure, Session, print, report_calls};
use crate::aws::discover::{discover, providers};
use crate::aws::lock::{LockPlace, StackLock};
use crate::aws::references::MissingReference;
use crate::aws::{AwsContext, Provider};
use crate::blueprint::declared::declarations;
use crate::blueprint::{self, Loaded, Target};
use crate::cli::LockArgs;
use crate::model::{Address, Desired, Live};
use crate::plan::{self as planner, BlueprintRef, Plan, PlanOptions};

/// Everything a command needs after planning.
pub struct Prepared {
    pub ctx: AwsContext,
    pub providers: Vec<Box<dyn Provider>>,
    pub desired: Desired,
    pub plan: Plan,
    /// `file:line:column` where the blueprint declares each address of the plan, for
    /// errors about it.
    pub declared: BTreeMap<Address, String>,
    /// The stack's lock, for commands that change it.
    pub lock: Option<StackLock>,
    /// What the blueprint names but the account lacks (a rotation Lambda).
    pub missing: Vec<MissingReference>,
}

impl Prepared {
    /// Missing references as warnings, for commands that only look (plan, drift).
    pub fn warn_missing(&self, session: &Session) {
        for line in missing_lines(&self.missing, &self.declared, &self.ctx) {
            session.warn(&line);
        }
    }

    /// Refuses to change the stack when a change depends on something missing: it would
    /// fail half way through.
    pub fn refuse_missing(&self) -> Result<(), Failure> {
        let changing: Vec<MissingReference> = self
            .missing
            .iter()
            .filter(|m| self.plan.actionable().any(|c| c.address == m.address))
            .cloned()
            .collect();
        if changing.is_empty() {
            return Ok(());
        }
        Err(Failure::Refused(format!(
            "nothing was changed: {}",
            missing_lines(&changing, &self.declared, &self.ctx).join("; ")
        )))
    }

    /// Gives the stack's lock up.
    pub async fn release(self, session: &Session) {
        release_lock(session, &self.ctx, self.lock).await;
    }
}

fn missing_lines(
    missing: &[MissingReference],
    declared: &BTreeMap<Address, String>,
    ctx: &AwsContext,
) -> Vec<String> {
    missing
        .iter()
        .map(|m| {
            let at = declared
                .get(&m.address)
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            format!(
                "{}{at}: {} `{}` does not exist in account {}, {} (lambda:GetFunctionConfiguration); \
                 applying it would fail. {}",
                m.address, m.what, m.target, ctx.account, ctx.region, m.hint
            )
        })
        .collect()
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

/// Loads and validates the blueprint, connects, and resolves it for the account.
pub async fn connect_validated(
    session: &Session,
    path: &Path,
) -> Result<(Loaded, AwsContext, Desired), Failure> {
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
    Ok((loaded, ctx, validated.desired))
}

/// Loads the blueprint, connects, discovers and plans.
pub async fn prepare(
    session: &Session,
    path: &Path,
    goal: Goal,
    options: PlanOptions,
    lock: Option<(&LockArgs, &str)>,
) -> Result<Prepared, Failure> {
    let (loaded, ctx, mut desired) = connect_validated(session, path).await?;

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
    let missing = match goal {
        Goal::Blueprint => crate::aws::references::missing(&ctx, &desired).await,
        Goal::Destroy => Vec::new(),
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
            declared: declarations(&loaded, plan.changes.iter().map(|c| &c.address)),
            ctx,
            providers,
            desired,
            plan,
            lock,
            missing,
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
    session.note(&format!(
        "Discovering stack {} in {} (account {})...",
        ctx.stack, ctx.region, ctx.account
    ));
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

/// After apply: discover again and plan; the plan must be empty. AWS's reads are
/// eventually consistent (a describe filter or the tagging index may not show what was
/// made or changed moments ago: https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html),
/// so a difference is looked at again a few times, over about half a minute, before it
/// counts. Returns the stack as found when it matches.
pub async fn verify(session: &Session, prepared: &Prepared) -> Result<Option<Live>, Failure> {
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
        // Held changes stay held (the user releases them); verification is about the rest.
        if again.actionable().next().is_none() {
            // What AWS applies later (a reboot pending) is said once the apply is done.
            let mut notes = String::new();
            if crate::render::human::pending_notes(&mut notes, &again, &session.out) {
                print(&notes)?;
            }
            return Ok(Some(live));
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
        return Ok(None);
    }
}
