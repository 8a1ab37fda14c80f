//! `secinfra force-unlock BLUEPRINT LOCK_ID`: remove the stack's lock left by a run that
//! is gone. Only the lock with that id is removed, so a run that took the lock since is
//! never cut off.

use super::{Exit, Failure, Session, load, print};
use crate::aws::AwsContext;
use crate::aws::lock::{LockPlace, force_unlock};
use crate::cli::ForceUnlockArgs;

pub async fn run(session: &Session, args: &ForceUnlockArgs) -> Result<Exit, Failure> {
    let loaded = load(session, &args.blueprint)?;
    let region = loaded.blueprint.region.as_ref().map(|r| r.value.clone());
    let ctx = AwsContext::connect(
        &session.connect_options(),
        &loaded.blueprint.stack.value,
        region.as_deref(),
    )
    .await?;
    let place = LockPlace::new(&ctx, args.lock_bucket.as_deref());
    let removed = force_unlock(&ctx, &place, &args.lock_id).await?;
    print(&format!(
        "Removed the lock of stack {} held by {}.\n",
        ctx.stack,
        removed.describe()
    ))?;
    Ok(Exit::Success)
}
