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

use crate::aws::provider::{Delete, LinkPhase, LinkSync, Scope, Update};
use crate::aws::{AwsContext, AwsError, Created, ErrorKind, Ids, Provider};
use crate::model::{Desired, LiveResource, Mode, Ref, Resource, TAG_STACK};
use crate::plan::diff::compare;
use crate::plan::{Action, PlanOptions};

/// Creates `resource`, trying up to the context's attempts when a failure leaves the
/// outcome unknown, and never making a second one. What the look finds is touched only
/// when it is the stack's (its tags, or a name discovery counts as the stack's), or with
/// `--adopt`; a protected one found half made is not deleted without
/// `--allow-delete-protected`; and when the look itself fails, the outcome stays unknown
/// and the change fails rather than being repeated blindly.
pub async fn create(
    provider: &dyn Provider,
    ctx: &AwsContext,
    resource: &Resource,
    desired: &Desired,
    options: &PlanOptions,
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
        let found = find_settled(provider, ctx, resource, desired, ids)
            .await
            .map_err(|look| unknown_outcome(&err, &look))?;
        match found {
            Some(found) if found.unmanaged && !options.adopt => {
                return Err(err.with_note(format!(
                    "{} exists under this name without the stack's tag, so it is not the \
                     stack's: rename or remove it, or pass --adopt to manage it",
                    found.id
                )));
            }
            Some(found) => {
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
                if resource.address.kind.protectable()
                    && !options.may_delete_protected(&resource.address)
                {
                    return Err(err.with_note(format!(
                        "found {} half made; it is a protected kind, so it is not deleted to \
                         be made again: delete it yourself, or pass --allow-delete-protected",
                        found.id
                    )));
                }
                report(&format!(
                    "found {} half made; deleting it to create it again",
                    found.id
                ));
                provider
                    .delete(
                        ctx,
                        Delete {
                            live: &found,
                            options: &super::delete_options(options),
                            ids,
                        },
                    )
                    .await?;
                ids.remove(&resource.address);
            }
            // Refused as existing, yet nothing the stack may touch is there: a conflict.
            None if !err.is_transient() => return Err(err),
            None => {}
        }
        if attempt >= ctx.max_attempts {
            return Err(err);
        }
        report(&format!("creating it again (attempt {})", attempt + 1));
        tokio::time::sleep(backoff(attempt)).await;
        attempt += 1;
    }
}

/// The create's error when what it made cannot be looked for.
fn unknown_outcome(create: &AwsError, look: &AwsError) -> AwsError {
    create.clone().with_note(format!(
        "its outcome is unknown, and looking for what it may have made failed too ({look}); \
         not repeated, so nothing is made twice: run plan to see where the stack stands"
    ))
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
) -> Result<Option<LiveResource>, AwsError> {
    if let Some(found) = find(provider, ctx, resource, desired, ids).await? {
        return Ok(Some(found));
    }
    tokio::time::sleep(SETTLE).await;
    find(provider, ctx, resource, desired, ids).await
}

/// What is at this address now, as discovery sees it (references mapped to the addresses
/// this apply knows): the stack's, or one found by its unique name (`unmanaged`). Another
/// stack's never counts. A discovery that keeps failing is an error.
async fn find(
    provider: &dyn Provider,
    ctx: &AwsContext,
    resource: &Resource,
    desired: &Desired,
    ids: &Ids,
) -> Result<Option<LiveResource>, AwsError> {
    // The look may meet the same trouble as the create: it gets as many tries.
    let mut attempt = 1;
    let found = loop {
        match provider.discover(&Scope::thorough(ctx, desired)).await {
            Ok(found) => break found,
            Err(e) if e.is_transient() && attempt < ctx.max_attempts => {
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    };
    let Some(mut live) = found.into_iter().find(|r| {
        r.address == resource.address
            && r.tags
                .get(TAG_STACK)
                .is_none_or(|stack| *stack == ctx.stack)
    }) else {
        return Ok(None);
    };
    live.props.map_refs(&|r: &Ref| match r {
        Ref::External(id) => ids.address_of(id).map_or_else(|| r.clone(), Ref::Address),
        other => other.clone(),
    });
    Ok(Some(live))
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
                let update = Update {
                    live: found,
                    desired: resource,
                    diffs: &fields,
                    ids,
                };
                provider.update(ctx, update).await?;
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::aws::error::AwsResult;
    use crate::aws::provider::Service;
    use crate::model::{Address, Kind, Props};
    use crate::testing::{SEED, desired, live_matching};

    /// A provider whose creates always lose their answer, and whose discovery finds
    /// `found` (or fails).
    struct LostAnswers {
        create_error: AwsError,
        found: Option<LiveResource>,
        look_fails: bool,
        creates: AtomicUsize,
        updates: AtomicUsize,
        deletes: AtomicUsize,
    }

    impl LostAnswers {
        fn new(found: Option<LiveResource>) -> LostAnswers {
            LostAnswers {
                create_error: AwsError::new(
                    "lost:Create",
                    ErrorKind::Connection,
                    "connection reset",
                ),
                found,
                look_fails: false,
                creates: AtomicUsize::new(0),
                updates: AtomicUsize::new(0),
                deletes: AtomicUsize::new(0),
            }
        }
    }

    impl Service for LostAnswers {
        fn service(&self) -> &'static str {
            "lost"
        }
    }

    #[async_trait::async_trait]
    impl Provider for LostAnswers {
        fn kinds(&self) -> Vec<Kind> {
            Kind::ALL.to_vec()
        }
        async fn discover(&self, _: &Scope<'_>) -> AwsResult<Vec<LiveResource>> {
            if self.look_fails {
                return Err(AwsError::new(
                    "lost:List",
                    ErrorKind::AccessDenied,
                    "denied",
                ));
            }
            Ok(self.found.clone().into_iter().collect())
        }
        async fn create(&self, _: &AwsContext, _: &Resource, _: &Ids) -> AwsResult<Created> {
            self.creates.fetch_add(1, Ordering::SeqCst);
            Err(self.create_error.clone())
        }
        async fn update(&self, _: &AwsContext, _: Update<'_>) -> AwsResult<()> {
            self.updates.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
        async fn delete(&self, _: &AwsContext, _: Delete<'_>) -> AwsResult<()> {
            self.deletes.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    fn seed_resource(address: &str) -> (Desired, Resource, LiveResource) {
        let desired = desired(SEED);
        let address: Address = address.parse().expect("address");
        let resource = desired.resources[&address].clone();
        let live = live_matching(&desired).resources[&address].clone();
        (desired, resource, live)
    }

    async fn create_with(
        provider: &LostAnswers,
        resource: &Resource,
        desired: &Desired,
        options: &PlanOptions,
    ) -> Result<Created, AwsError> {
        let ctx = AwsContext::unconnected("api-platform");
        create(
            provider,
            &ctx,
            resource,
            desired,
            options,
            &Ids::default(),
            &|_| {},
        )
        .await
    }

    #[tokio::test(start_paused = true)]
    async fn a_resource_found_by_name_without_the_stacks_tag_is_not_taken_over() {
        let (desired, resource, mut live) = seed_resource("log_group.flow-logs");
        live.tags.clear();
        live.unmanaged = true;
        let provider = LostAnswers::new(Some(live));
        let err = create_with(&provider, &resource, &desired, &PlanOptions::default())
            .await
            .expect_err("not the stack's");
        assert!(err.to_string().contains("without the stack's tag"), "{err}");
        assert!(err.to_string().contains("--adopt"), "{err}");
        assert_eq!(provider.creates.load(Ordering::SeqCst), 1);
        assert_eq!(provider.updates.load(Ordering::SeqCst), 0);
        assert_eq!(provider.deletes.load(Ordering::SeqCst), 0);

        let adopt = PlanOptions {
            adopt: true,
            ..PlanOptions::default()
        };
        create_with(&provider, &resource, &desired, &adopt)
            .await
            .expect("taken over with --adopt");
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_look_fails_the_change_instead_of_repeating_the_create() {
        let (desired, resource, _) = seed_resource("vpc.main");
        let mut provider = LostAnswers::new(None);
        provider.look_fails = true;
        let err = create_with(&provider, &resource, &desired, &PlanOptions::default())
            .await
            .expect_err("outcome unknown");
        assert!(err.to_string().contains("its outcome is unknown"), "{err}");
        assert!(err.to_string().contains("run plan"), "{err}");
        assert_eq!(
            provider.creates.load(Ordering::SeqCst),
            1,
            "never repeated blindly"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_protected_resource_found_half_made_is_not_deleted_without_the_flag() {
        let (desired, resource, mut live) = seed_resource("kms_key.secrets");
        if let Props::KmsKey(p) = &mut live.props {
            p.key_spec = "RSA_2048".into();
        }
        let provider = LostAnswers::new(Some(live));
        let err = create_with(&provider, &resource, &desired, &PlanOptions::default())
            .await
            .expect_err("held");
        assert!(
            err.to_string().contains("--allow-delete-protected"),
            "{err}"
        );
        assert_eq!(provider.deletes.load(Ordering::SeqCst), 0);

        let allow = PlanOptions {
            allow_delete_protected: true,
            ..PlanOptions::default()
        };
        let _ = create_with(&provider, &resource, &desired, &allow).await;
        assert_eq!(provider.deletes.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_that_times_out_fails_the_change() {
        let (desired, resource, live) = seed_resource("db_instance.main");
        let mut provider = LostAnswers::new(Some(live));
        provider.create_error = AwsError::new(
            "rds:wait DBInstanceAvailable",
            ErrorKind::StillWaiting,
            "still not done after 3600 s",
        );
        let err = create_with(&provider, &resource, &desired, &PlanOptions::default())
            .await
            .expect_err("not done");
        assert!(err.is(ErrorKind::StillWaiting), "{err}");
        assert_eq!(provider.creates.load(Ordering::SeqCst), 1);
        assert_eq!(provider.updates.load(Ordering::SeqCst), 0);
    }
}
