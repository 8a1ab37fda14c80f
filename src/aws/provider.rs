//! The one trait every service module implements, and the id map apply threads through
//! calls so references resolve to the AWS ids of resources created moments ago.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use super::AwsContext;
use super::error::{AwsError, AwsResult, ErrorKind};
use super::tags::{address_for, is_stack_tagged};
use crate::model::{
    Address, Desired, Diff, Kind, LiveResource, Props, Ref, Resource, TAG_STACK, Tags,
};

/// Where a newly created resource can be found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    pub id: String,
    pub arn: Option<String>,
}

/// One resource to create, as a kind's create function takes it: its props, the tags it
/// is created with, and the ids of what it references.
#[derive(Clone, Copy)]
pub struct New<'a, P> {
    pub props: &'a P,
    pub tags: &'a Tags,
    pub ids: &'a Ids,
}

/// Which half of a link synchronisation to run (see `Kind::has_links`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkPhase {
    /// Remove links that are no longer wanted or point at resources being replaced or
    /// deleted. Runs before those resources are deleted.
    Release,
    /// Add the wanted links that are missing (or point at replaced resources).
    Establish,
}

/// A link synchronisation request for one resource.
#[derive(Clone, Copy, Debug)]
pub struct LinkSync<'a> {
    pub address: &'a Address,
    pub id: &'a str,
    /// Links as discovered (`None` when the resource is new).
    pub before: Option<&'a Props>,
    /// Links wanted (`None` when the resource is being deleted).
    pub after: Option<&'a Props>,
    pub phase: LinkPhase,
    /// Resources this apply replaces or deletes: links to them are released/re-made.
    pub going: &'a BTreeSet<Address>,
}

impl LinkSync<'_> {
    /// The links this phase changes, given the link sets before and after:
    /// Release removes what is no longer wanted or points at a resource going away;
    /// Establish adds what is missing or pointed at a resource that was re-created.
    pub fn delta<T: Ord + Clone>(
        &self,
        before: &BTreeSet<T>,
        after: &BTreeSet<T>,
        target: impl Fn(&T) -> Option<&Address>,
    ) -> BTreeSet<T> {
        let going = |link: &T| target(link).is_some_and(|a| self.going.contains(a));
        let (from, other) = match self.phase {
            LinkPhase::Release => (before, after),
            LinkPhase::Establish => (after, before),
        };
        from.iter()
            .filter(|link| !other.contains(link) || going(link))
            .cloned()
            .collect()
    }
}

/// An update of one live resource to its desired state.
#[derive(Clone, Copy)]
pub struct Update<'a> {
    pub live: &'a LiveResource,
    pub desired: &'a Resource,
    /// What differs, field by field (never `Link` fields).
    pub diffs: &'a [Diff],
    pub ids: &'a Ids,
}

/// A deletion of one live resource.
#[derive(Clone, Copy)]
pub struct Delete<'a> {
    pub live: &'a LiveResource,
    pub options: &'a DeleteOptions,
    pub ids: &'a Ids,
}

/// How a provider deletes, chosen by the user for the whole run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeleteOptions {
    /// Delete secrets at once instead of leaving them recoverable for their window.
    pub without_recovery: bool,
}

/// Every method's error names the AWS operation; the executor adds the resource's
/// address (`AwsError::at`).
/// The AWS service a provider speaks for; `provider!` declares it with the provider.
pub trait Service {
    /// The service, as in IAM action prefixes (`ec2`, `logs`, `iam`).
    fn service(&self) -> &'static str;
}

/// Declares a provider, the service it speaks for and, when given, the SDK client it
/// talks through (`provider!(Sns, "sns", sns: aws_sdk_sns)` also declares `ctx.sns()`,
/// see `sdk_client!`), beside its `impl Provider`.
#[macro_export]
macro_rules! provider {
    ($name:ident, $service:literal $(, $client:ident : $krate:ident)?) => {
        $($crate::sdk_client!($client: $krate);)?

        pub struct $name;

        impl $crate::aws::provider::Service for $name {
            fn service(&self) -> &'static str {
                $service
            }
        }
    };
}

#[async_trait::async_trait]
pub trait Provider: Service + Send + Sync {
    /// The kinds this provider manages: those the kind table assigns to its service.
    fn kinds(&self) -> Vec<Kind> {
        Kind::ALL
            .into_iter()
            .filter(|kind| kind.service() == self.service())
            .collect()
    }

    /// Every live resource of the stack for this provider's kinds, with references as AWS
    /// ids (`Ref::External`); discovery maps them to addresses afterwards.
    async fn discover(&self, scope: &Scope<'_>) -> AwsResult<Vec<LiveResource>>;

    async fn create(&self, ctx: &AwsContext, resource: &Resource, ids: &Ids) -> AwsResult<Created>;

    /// Applies the diffs of fields that change in place (never `Link` fields).
    async fn update(&self, ctx: &AwsContext, change: Update<'_>) -> AwsResult<()>;

    async fn delete(&self, ctx: &AwsContext, gone: Delete<'_>) -> AwsResult<()>;

    /// Synchronises `Link` fields. Only kinds with link fields are asked.
    async fn sync_links(&self, _: &AwsContext, request: LinkSync<'_>, _: &Ids) -> AwsResult<()> {
        Err(AwsError::new(
            "sync_links",
            ErrorKind::Other,
            format!("{} has no links to synchronise", request.address),
        ))
    }
}

/// What one discovery shares between providers: the context, the blueprint's resources
/// (for names to look up), and the stack's entry in the tagging index, fetched once.
pub struct Scope<'a> {
    pub ctx: &'a AwsContext,
    pub desired: &'a Desired,
    /// Look with each service's own list calls where discovery otherwise trusts the tagging
    /// index: for a resource made moments ago, which the index may not list yet (it is
    /// eventually consistent). Costlier; used when looking for what a create whose answer
    /// was lost may have made.
    pub thorough: bool,
    tagged: tokio::sync::OnceCell<Vec<(String, Tags)>>,
}

impl<'a> Scope<'a> {
    pub fn new(ctx: &'a AwsContext, desired: &'a Desired) -> Scope<'a> {
        Scope {
            ctx,
            desired,
            thorough: false,
            tagged: tokio::sync::OnceCell::new(),
        }
    }

    /// A scope that does not trust the tagging index alone (see `thorough`).
    pub fn thorough(ctx: &'a AwsContext, desired: &'a Desired) -> Scope<'a> {
        Scope {
            thorough: true,
            ..Scope::new(ctx, desired)
        }
    }

    /// ARN and tags of every resource tagged with the stack (one paginated call, made by
    /// whichever provider asks first).
    pub async fn tagged(&self) -> Result<&[(String, Tags)], AwsError> {
        self.tagged
            .get_or_try_init(|| super::tags::stack_tagged_resources(self.ctx))
            .await
            .map(Vec::as_slice)
    }

    /// The tagging index's entries for one service (`rds`, `elasticache`), by ARN.
    pub async fn tagged_in(&self, service: &str) -> Result<BTreeMap<String, Tags>, AwsError> {
        let marker = format!(":{service}:");
        Ok(self
            .tagged()
            .await?
            .iter()
            .filter(|(arn, _)| arn.contains(&marker))
            .cloned()
            .collect())
    }

    /// Where a region singleton (a GuardDuty detector, the Security Hub) belongs: the
    /// address its stack tags name when it is the stack's; the blueprint's address when
    /// the blueprint declares one and it is not the stack's (adopted as it is, untagged,
    /// or refused when another stack's tag marks it, `unmanaged`); `None` otherwise.
    pub fn singleton_address(&self, kind: Kind, tags: &Tags, id: &str) -> Option<(Address, bool)> {
        if is_stack_tagged(tags, &self.ctx.stack) {
            return Some((address_for(kind, tags, id), false));
        }
        let declared = self.desired.resources.keys().find(|a| a.kind == kind)?;
        Some((declared.clone(), tags.contains_key(TAG_STACK)))
    }

    /// Tags of a resource found by name: from the tagging index when it lists the ARN;
    /// asked for with `ask` when the name is the stack's (`<stack>-...`) but the index does
    /// not list it (yet: the index is eventually consistent, and not every service is in
    /// it); `None`, without a call, for anything else.
    pub async fn tags_of_named<F, Fut>(
        &self,
        indexed: &BTreeMap<String, Tags>,
        name: &str,
        arn: &str,
        ask: F,
    ) -> Result<Option<Tags>, AwsError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Tags, AwsError>>,
    {
        if let Some(tags) = indexed.get(arn) {
            return Ok(Some(tags.clone()));
        }
        if !name.starts_with(&format!("{}-", self.ctx.stack)) {
            return Ok(None);
        }
        ask().await.map(Some)
    }
}

/// AWS ids (and ARNs) of the stack's resources during one apply: seeded from discovery,
/// extended by each create, shrunk by each delete.
#[derive(Debug, Default)]
pub struct Ids {
    map: Mutex<BTreeMap<Address, Created>>,
}

impl Ids {
    pub fn from_live<'a>(live: impl IntoIterator<Item = &'a LiveResource>) -> Ids {
        let map = live
            .into_iter()
            .map(|r| {
                (
                    r.address.clone(),
                    Created {
                        id: r.id.clone(),
                        arn: r.arn.clone(),
                    },
                )
            })
            .collect();
        Ids {
            map: Mutex::new(map),
        }
    }

    pub fn insert(&self, address: Address, created: Created) {
        if let Ok(mut map) = self.map.lock() {
            map.insert(address, created);
        }
    }

    pub fn remove(&self, address: &Address) {
        if let Ok(mut map) = self.map.lock() {
            map.remove(address);
        }
    }

    /// The address of the resource with this AWS id or ARN, if this apply knows it.
    pub fn address_of(&self, id_or_arn: &str) -> Option<Address> {
        let map = self.map.lock().ok()?;
        map.iter()
            .find(|(_, c)| c.id == id_or_arn || c.arn.as_deref() == Some(id_or_arn))
            .map(|(address, _)| address.clone())
    }

    fn lookup(&self, address: &Address) -> Option<Created> {
        self.map.lock().ok()?.get(address).cloned()
    }

    /// The AWS id a reference stands for.
    pub fn id(&self, reference: &Ref) -> Result<String, AwsError> {
        match reference {
            Ref::External(id) => Ok(id.clone()),
            Ref::Address(address) => self
                .lookup(address)
                .map(|c| c.id)
                .ok_or_else(|| missing(address)),
        }
    }

    /// The ARN a reference stands for, or its id for a resource known without one (what
    /// APIs that take either, like a KMS key or secret parameter, are given).
    pub fn arn_or_id(&self, reference: &Ref) -> Result<String, AwsError> {
        self.arn(reference).or_else(|_| self.id(reference))
    }

    /// The name at the end of the ARN a reference stands for (`...:pg:<name>`,
    /// `...:subnetgroup:<name>`), or its id as is: what RDS and ElastiCache take where
    /// they name a group.
    pub fn name(&self, reference: &Ref) -> Result<String, AwsError> {
        let arn = self.arn_or_id(reference)?;
        Ok(arn.rsplit(':').next().unwrap_or(&arn).to_string())
    }

    /// The ids of a subnet group's subnets.
    pub fn subnet_ids(
        &self,
        group: &crate::model::SubnetGroupProps,
    ) -> Result<Vec<String>, AwsError> {
        group.subnets.iter().map(|s| self.id(s)).collect()
    }

    /// The ARN a reference stands for.
    pub fn arn(&self, reference: &Ref) -> Result<String, AwsError> {
        match reference {
            Ref::External(arn) => Ok(arn.clone()),
            Ref::Address(address) => self
                .lookup(address)
                .and_then(|c| c.arn)
                .ok_or_else(|| missing(address)),
        }
    }
}

fn missing(address: &Address) -> AwsError {
    AwsError::new(
        "resolve",
        ErrorKind::NotFound,
        format!("{address} does not exist (its creation failed or was skipped)"),
    )
}
