//! Creates that fail in a way that leaves their outcome unknown.
//!
//! A create whose answer was lost (a broken connection, a timeout, a 5xx) may have taken
//! effect; one refused as already existing may have been made by the SDK's own retry of
//! a call whose first answer was lost. Retrying blindly could make a twin, so before
//! trying again the resource is looked for, by the stack's tags or its unique name, with
//! its provider's discovery. If it is there, it is finished (brought to the desired
//! properties with the provider's update) rather than created again. Creates guarded by
//! a unique name the endpoint enforces let the SDK retry (a repeat is refused as existing
//! and then found here); the others are sent once (`send_once!`) and retried only here.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::aws::provider::{LinkPhase, LinkSync, Scope};
use crate::aws::{AwsContext, AwsError, Created, ErrorKind, Ids, Provider};
use crate::model::{Desired, LiveResource, Mode, Ref, Resource, TAG_STACK};
use crate::plan::diff::compare;
use crate::plan::{Action, PlanOptions};

/// Creates `resource`, trying up to the context's attempts when a failure leaves the
/// outcome unknown, and never making a second one.
pub async fn create(
    provider: &dyn Provider,
    ctx: &AwsContext,
    resource: &Resource,
    desired: &Desired,
    ids: &Ids,
    report: &(dyn Fn(&str) + Sync),
) -> Result<Created, AwsError> {
    let mut attempt = 1;
    loop {
        let err = match provider.create(ctx, resource, ids).await {
            Ok(created) => return Ok(created),
            Err(err) if err.is_transient() || err.is(ErrorKind::Conflict) => err,
            Err(err) => return Err(err),
        };
        report(&format!(
            "{} ({}); looking for what it may have made",
            err.operation,
            err.code.as_deref().unwrap_or(&err.message)
        ));
        if let Some(found) = find_settled(provider, ctx, resource, desired, ids).await {
            let finished = finish(provider, ctx, &found, resource, ids)
                .await
                .map_err(|e| e.at(&resource.address))?;
            if let Some(created) = finished {
                report(&format!(
                    "found {}, finished it instead of creating another",
                    found.id
                ));
                return Ok(created);
            }
            // Half made, and what is missing cannot be added in place (an internet
            // gateway never attached): it goes, and the create runs again.
            report(&format!(
                "found {} half made; deleting it to create it again",
                found.id
            ));
            provider
                .delete(ctx, &found, &PlanOptions::default(), ids)
                .await?;
            ids.remove(&resource.address);
        } else if !err.is_transient() {
            // Refused as existing, yet not the stack's: a real conflict.
            return Err(err);
        }
        if attempt >= ctx.max_attempts {
            return Err(err);
        }
        report(&format!("creating it again (attempt {})", attempt + 1));
        tokio::time::sleep(backoff(attempt)).await;
        attempt += 1;
    }
}

/// How long a resource just made may stay out of describe filters and the tagging index.
/// AWS gives no bound for its eventual consistency ("typically seconds",
/// https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html): absence is
/// believed only when seen twice this far apart.
const SETTLE: Duration = Duration::from_secs(5);

/// `find`, and when that finds nothing, `find` once more after `SETTLE`.
async fn find_settled(
    provider: &dyn Provider,
    ctx: &AwsContext,
    resource: &Resource,
    desired: &Desired,
    ids: &Ids,
) -> Option<LiveResource> {
    if let Some(found) = find(provider, ctx, resource, desired, ids).await {
        return Some(found);
    }
    tokio::time::sleep(SETTLE).await;
    find(provider, ctx, resource, desired, ids).await
}

/// The stack's resource at this address, as discovery sees it now (references mapped to
/// the addresses this apply knows). A discovery that keeps failing finds nothing, and the
/// create's own error is reported.
async fn find(
    provider: &dyn Provider,
    ctx: &AwsContext,
    resource: &Resource,
    desired: &Desired,
    ids: &Ids,
) -> Option<LiveResource> {
    // The look may meet the same trouble as the create: it gets as many tries.
    let mut attempt = 1;
    let found = loop {
        match provider.discover(&Scope::thorough(ctx, desired)).await {
            Ok(found) => break found,
            Err(e) if e.is_transient() && attempt < ctx.max_attempts => {
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
            }
            Err(_) => return None,
        }
    };
    // The plan found nothing here, so a resource by this unique name without any stack's
    // tag is the one the failed call made before tagging it; another stack's never is.
    let mut live = found.into_iter().find(|r| {
        r.address == resource.address
            && r.tags
                .get(TAG_STACK)
                .is_none_or(|stack| *stack == ctx.stack)
    })?;
    live.props.map_refs(&|r: &Ref| match r {
        Ref::External(id) => ids.address_of(id).map_or_else(|| r.clone(), Ref::Address),
        other => other.clone(),
    });
    Some(live)
}

/// Brings a resource found after an uncertain create to the desired properties; `None`
/// when a field that cannot change in place differs.
async fn finish(
    provider: &dyn Provider,
    ctx: &AwsContext,
    found: &LiveResource,
    resource: &Resource,
    ids: &Ids,
) -> Result<Option<Created>, AwsError> {
    let created = Created {
        id: found.id.clone(),
        arn: found.arn.clone(),
    };
    let change = compare(resource, found);
    match change.action {
        Action::Noop => {}
        Action::Update => {
            // References to this resource resolve from here on, as after a create.
            ids.insert(resource.address.clone(), created.clone());
            let kind = resource.address.kind;
            let (links, fields): (Vec<_>, Vec<_>) = change
                .diffs
                .iter()
                .cloned()
                .partition(|d| d.mode(kind) == Mode::Link);
            if !fields.is_empty() {
                provider.update(ctx, found, resource, &fields, ids).await?;
            }
            // The create's own link step adds what is missing; what the found resource
            // has beyond the blueprint (AWS's default egress rule) is released here.
            if !links.is_empty() {
                let request = LinkSync {
                    address: &resource.address,
                    id: &found.id,
                    before: Some(&found.props),
                    after: Some(&resource.props),
                    phase: LinkPhase::Release,
                    going: &BTreeSet::new(),
                };
                provider.sync_links(ctx, request, ids).await?;
            }
        }
        _ => return Ok(None),
    }
    Ok(Some(created))
}

/// 0.2 s, 0.4 s, 0.8 s ... at most 5 s, with jitter so parallel retries spread out.
fn backoff(attempt: u32) -> Duration {
    let base = 200u64.saturating_mul(1 << attempt.min(5)).min(5_000);
    let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0]) * base / 512;
    Duration::from_millis(base / 2 + jitter)
}
