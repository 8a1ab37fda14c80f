//! An in-memory AWS account for executor and planner tests: a small state machine with the
//! refusals that decide whether an apply is safe. A reference to something that does not
//! exist is `NotFound`; a unique name in use is `AlreadyExists`; a resource another one
//! references (a database's security group, a subnet group's subnet, a rule's peer group)
//! cannot be deleted (`DependencyViolation`). After every call it checks the hazard that
//! takes a service down while the apply still "works": a database or cache whose security
//! groups had ingress rules and now have none. Tests can make a step refuse a few times
//! first (`failing`) and count the steps asked for (`tries`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::ops::Step;
use crate::aws::error::AwsResult;
use crate::aws::provider::{Delete, LinkPhase, LinkSync, Provider, Scope, Service, Update};
use crate::aws::{AwsContext, AwsError, Created, ErrorKind, Ids};
use crate::model::{Address, Kind, Live, LiveResource, Mode, Props, Ref, Resource, Tags};

#[derive(Clone, Debug)]
struct Stored {
    address: Address,
    /// Every reference an AWS id (`Ref::External`), as a real account holds them.
    props: Props,
    tags: Tags,
}

impl Stored {
    /// As discovery reports it, with `props` (references as ids or as addresses).
    fn found(&self, id: &str, props: Props) -> LiveResource {
        LiveResource {
            address: self.address.clone(),
            id: id.to_string(),
            arn: None,
            props,
            tags: self.tags.clone(),
            unmanaged: false,
            unobserved: Default::default(),
            pending: Vec::new(),
        }
    }
}

#[derive(Default)]
struct State {
    next: u64,
    resources: BTreeMap<String, Stored>,
    /// Databases and caches whose security groups have had ingress rules.
    reachable: BTreeSet<String>,
    violations: Vec<String>,
    /// Every this-many-th create acts but its answer is lost (0: never).
    lose_every: u64,
    creates: u64,
    /// Refusals still to give before a step is let through: how many, and the error.
    failures: BTreeMap<(Address, Step), (usize, AwsError)>,
    /// Every step asked for, in order.
    calls: Vec<(Address, Step)>,
}

/// The account; clones share it (one goes to the executor, the test keeps one).
#[derive(Clone, Default)]
pub struct FakeAws {
    state: Arc<Mutex<State>>,
}

fn refused(operation: &str, kind: ErrorKind, code: &str, message: String) -> AwsError {
    AwsError::new(operation, kind, message).with_code(Some(code))
}

fn not_found(operation: &str, what: &str) -> AwsError {
    refused(
        operation,
        ErrorKind::NotFound,
        "NotFound",
        format!("{what} does not exist"),
    )
}

/// The props of `props` with each reference to one of the stack's resources replaced by
/// its id in `ids`; those `ids` does not know stay addresses. Also returns the ids that
/// came from addresses (they must exist in the account).
fn resolved(props: &Props, ids: &Ids) -> (Props, BTreeSet<String>) {
    let from_addresses = Mutex::new(BTreeSet::new());
    let mut out = props.clone();
    out.map_refs(&|r| match r {
        Ref::Address(_) => match ids.id(r) {
            Ok(id) => {
                if let Ok(mut seen) = from_addresses.lock() {
                    seen.insert(id.clone());
                }
                Ref::External(id)
            }
            Err(_) => r.clone(),
        },
        Ref::External(_) => r.clone(),
    });
    (out, from_addresses.into_inner().unwrap_or_default())
}

/// The elements of a link field's value: array items, map entries, or the value itself.
fn elements(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| Value::Array(vec![Value::String(k.clone()), v.clone()]))
            .collect(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

/// A link field's value made of `items`, in the shape of `like`.
fn rebuilt(like: &Value, items: Vec<Value>) -> Value {
    match like {
        Value::Array(_) => Value::Array(items),
        Value::Object(_) => Value::Object(
            items
                .into_iter()
                .filter_map(|item| match item {
                    Value::Array(pair) if pair.len() == 2 => {
                        Some((pair[0].as_str()?.to_string(), pair[1].clone()))
                    }
                    _ => None,
                })
                .collect(),
        ),
        _ => items.into_iter().next().unwrap_or(Value::Null),
    }
}

fn mentions(item: &Value, id: &str) -> bool {
    item.to_string().contains(id)
}

fn link_fields(kind: Kind) -> impl Iterator<Item = &'static str> {
    kind.fields()
        .iter()
        .filter(|f| f.mode == Mode::Link)
        .map(|f| f.name)
}

impl FakeAws {
    /// An account holding `live` (as discovery would have found it), under its ids.
    pub fn holding(live: &Live) -> FakeAws {
        let ids = Ids::from_live(live.resources.values());
        let fake = FakeAws::default();
        {
            let mut state = fake.lock();
            for resource in live.resources.values() {
                let (props, _) = resolved(&resource.props, &ids);
                state.resources.insert(
                    resource.id.clone(),
                    Stored {
                        address: resource.address.clone(),
                        props,
                        tags: resource.tags.clone(),
                    },
                );
            }
            state.check("the start");
        }
        fake
    }

    /// The account, with the answer to every `every`-th create lost after it acted (a
    /// connection reset): what apply's recovery must find rather than repeat.
    pub fn losing_create_answers(self, every: u64) -> FakeAws {
        self.lock().lose_every = every;
        self
    }

    /// The account, refusing `step` of `address` with `error` the first `times` it is
    /// asked (a group in use, a role not propagated yet), then acting normally.
    pub fn failing(self, address: &str, step: Step, times: usize, error: AwsError) -> FakeAws {
        let address = address.parse().expect("address");
        self.lock().failures.insert((address, step), (times, error));
        self
    }

    /// How many times `step` of `address` was asked for.
    pub fn tries(&self, address: &str, step: Step) -> usize {
        let address: Address = address.parse().expect("address");
        self.lock()
            .calls
            .iter()
            .filter(|(a, s)| *a == address && *s == step)
            .count()
    }

    /// How many resources the account holds at each address (more than one is a twin).
    pub fn count_at(&self, address: &str) -> usize {
        self.lock()
            .resources
            .values()
            .filter(|s| s.address.to_string() == address)
            .count()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What discovery would find now, references mapped back to addresses.
    pub fn live(&self) -> Live {
        let state = self.lock();
        let address_of: BTreeMap<&String, &Address> = state
            .resources
            .iter()
            .map(|(id, s)| (id, &s.address))
            .collect();
        let resources = state
            .resources
            .iter()
            .map(|(id, stored)| {
                let mut props = stored.props.clone();
                props.map_refs(&|r| match r {
                    Ref::External(id) => address_of
                        .get(id)
                        .map_or_else(|| r.clone(), |a| Ref::Address((*a).clone())),
                    Ref::Address(_) => r.clone(),
                });
                (stored.address.clone(), stored.found(id, props))
            })
            .collect();
        Live { resources }
    }

    /// Whether a resource with this AWS id exists.
    pub fn has(&self, id: &str) -> bool {
        self.lock().resources.contains_key(id)
    }

    /// The AWS id of the resource at `address`, if one exists.
    pub fn id_of(&self, address: &str) -> Option<String> {
        self.lock()
            .resources
            .iter()
            .find(|(_, s)| s.address.to_string() == address)
            .map(|(id, _)| id.clone())
    }

    /// Every moment a database or cache was left without an ingress rule.
    pub fn violations(&self) -> Vec<String> {
        self.lock().violations.clone()
    }
}

impl State {
    /// Records that `step` of `address` was asked for; an injected refusal, if one is due.
    fn asked(&mut self, address: &Address, step: Step) -> Result<(), AwsError> {
        self.calls.push((address.clone(), step));
        match self.failures.get_mut(&(address.clone(), step)) {
            Some((left, err)) if *left > 0 => {
                *left -= 1;
                Err(err.clone().at(address))
            }
            _ => Ok(()),
        }
    }

    fn users_of(&self, id: &str) -> Vec<&Address> {
        self.resources
            .iter()
            .filter(|(other, _)| other.as_str() != id)
            .filter(|(_, s)| {
                s.props
                    .refs()
                    .iter()
                    .any(|(_, r)| matches!(r, Ref::External(x) if x == id))
            })
            .map(|(_, s)| &s.address)
            .collect()
    }

    fn ingress_rules(&self, group: &str) -> usize {
        match self.resources.get(group).map(|s| &s.props) {
            Some(Props::SecurityGroup(g)) => g.ingress.len(),
            _ => 0,
        }
    }

    /// Records a database or cache whose groups lost their last ingress rule.
    fn check(&mut self, during: &str) {
        let mut lost = Vec::new();
        for (id, stored) in &self.resources {
            let groups = match &stored.props {
                Props::DbInstance(p) => &p.security_groups,
                Props::CacheReplicationGroup(p) => &p.security_groups,
                _ => continue,
            };
            let rules: usize = groups
                .iter()
                .map(|g| self.ingress_rules(&g.to_string()))
                .sum();
            if rules > 0 {
                lost.push((id.clone(), None));
            } else if self.reachable.contains(id) {
                lost.push((
                    id.clone(),
                    Some(format!(
                        "after {during}: {} has no ingress rule left in its security groups",
                        stored.address
                    )),
                ));
            }
        }
        for (id, violation) in lost {
            match violation {
                None => {
                    self.reachable.insert(id);
                }
                Some(v) => {
                    // Once: until it has rules again.
                    self.reachable.remove(&id);
                    self.violations.push(v);
                }
            }
        }
    }

    /// `props` resolved against `ids`, every reference to the stack's resources existing.
    fn existing(&self, props: &Props, ids: &Ids, operation: &str) -> Result<Props, AwsError> {
        let (props, from_addresses) = resolved(props, ids);
        if let Some((_, missing)) = props
            .refs()
            .into_iter()
            .find(|(_, r)| r.address().is_some())
        {
            return Err(not_found(operation, &missing.to_string()));
        }
        if let Some(missing) = from_addresses
            .iter()
            .find(|id| !self.resources.contains_key(*id))
        {
            return Err(not_found(operation, missing));
        }
        Ok(props)
    }
}

/// `props` with its link fields set to what `links` has in them.
fn with_links(props: &Props, links: &Props) -> Props {
    let kind = props.kind();
    let mut value = props.to_value();
    let from = links.to_value();
    for field in link_fields(kind) {
        value[field] = from.get(field).cloned().unwrap_or(Value::Null);
    }
    Props::from_value(kind, value).unwrap_or_else(|_| props.clone())
}

/// `props` with its link fields empty (a new resource's links come with Establish).
fn without_links(props: &Props) -> Props {
    let kind = props.kind();
    let mut value = props.to_value();
    for field in link_fields(kind) {
        if let Some(v) = value.get_mut(field) {
            *v = rebuilt(v, Vec::new());
        }
    }
    Props::from_value(kind, value).unwrap_or_else(|_| props.clone())
}

impl Service for FakeAws {
    fn service(&self) -> &'static str {
        "fake"
    }
}

#[async_trait::async_trait]
impl Provider for FakeAws {
    fn kinds(&self) -> Vec<Kind> {
        Kind::ALL.to_vec()
    }

    async fn discover(&self, _: &Scope<'_>) -> AwsResult<Vec<LiveResource>> {
        let state = self.lock();
        Ok(state
            .resources
            .iter()
            .map(|(id, s)| s.found(id, s.props.clone()))
            .collect())
    }

    async fn create(&self, _: &AwsContext, resource: &Resource, ids: &Ids) -> AwsResult<Created> {
        let operation = format!("fake:Create {}", resource.address.kind);
        let mut state = self.lock();
        state.asked(&resource.address, Step::Create)?;
        let props = state.existing(&without_links(&resource.props), ids, &operation)?;
        let kind = resource.address.kind;
        if let Some(name) = props.aws_name() {
            let taken = state
                .resources
                .values()
                .any(|s| s.address.kind == kind && s.props.aws_name() == Some(name));
            if Props::unique_name_field(kind).is_some() && taken {
                return Err(refused(
                    &operation,
                    ErrorKind::Conflict,
                    "AlreadyExists",
                    format!("{name} already exists"),
                ));
            }
        }
        state.next += 1;
        let id = format!("fake-{}-{kind}", state.next);
        state.resources.insert(
            id.clone(),
            Stored {
                address: resource.address.clone(),
                props,
                tags: resource.tags.clone(),
            },
        );
        state.check(&format!("creating {}", resource.address));
        state.creates += 1;
        if state.lose_every > 0 && state.creates.is_multiple_of(state.lose_every) {
            return Err(refused(
                &operation,
                ErrorKind::Connection,
                "ConnectionReset",
                "connection reset before the answer arrived".into(),
            ));
        }
        Ok(Created { id, arn: None })
    }

    async fn update(&self, _: &AwsContext, change: Update<'_>) -> AwsResult<()> {
        let Update {
            live,
            desired,
            diffs: _,
            ids,
        } = change;
        let operation = format!("fake:Update {}", live.address.kind);
        let mut state = self.lock();
        state.asked(&live.address, Step::Update)?;
        let Some(current) = state.resources.get(&live.id).cloned() else {
            return Err(not_found(&operation, &live.id));
        };
        let wanted =
            state.existing(&with_links(&desired.props, &current.props), ids, &operation)?;
        let stored = Stored {
            props: wanted,
            tags: desired.tags.clone(),
            ..current
        };
        state.resources.insert(live.id.clone(), stored);
        state.check(&format!("updating {}", live.address));
        Ok(())
    }

    async fn delete(&self, _: &AwsContext, gone: Delete<'_>) -> AwsResult<()> {
        let live = gone.live;
        let operation = format!("fake:Delete {}", live.address.kind);
        let mut state = self.lock();
        state.asked(&live.address, Step::Delete)?;
        let users = state.users_of(&live.id);
        if !users.is_empty() {
            let users: Vec<String> = users.iter().map(|a| a.to_string()).collect();
            return Err(refused(
                &operation,
                ErrorKind::Conflict,
                "DependencyViolation",
                format!("{} is in use by {}", live.address, users.join(", ")),
            ));
        }
        state.resources.remove(&live.id);
        state.check(&format!("deleting {}", live.address));
        Ok(())
    }

    async fn sync_links(&self, _: &AwsContext, request: LinkSync<'_>, ids: &Ids) -> AwsResult<()> {
        let kind = request.address.kind;
        let operation = format!("fake:SyncLinks {kind}");
        let mut state = self.lock();
        let step = match request.phase {
            LinkPhase::Release => Step::Release,
            LinkPhase::Establish => Step::Establish,
        };
        state.asked(request.address, step)?;
        let Some(current) = state.resources.get(request.id).cloned() else {
            return Err(not_found(&operation, request.id));
        };
        let going: Vec<String> = request
            .going
            .iter()
            .filter_map(|a| ids.id(&a.clone().into()).ok())
            .filter(|id| id != request.id)
            .collect();
        // Links to be made must point at what exists; those being let go may not.
        let before = request
            .before
            .map_or(Value::Null, |p| resolved(p, ids).0.to_value());
        let after = match (request.after, request.phase) {
            (None, _) => Value::Null,
            (Some(p), LinkPhase::Release) => resolved(p, ids).0.to_value(),
            (Some(p), LinkPhase::Establish) => state.existing(p, ids, &operation)?.to_value(),
        };
        let mut value = current.props.to_value();
        for field in link_fields(kind) {
            let have = value.get(field).cloned().unwrap_or(Value::Null);
            let was = elements(before.get(field).unwrap_or(&Value::Null));
            let want = elements(after.get(field).unwrap_or(&Value::Null));
            let mut items = elements(&have);
            match request.phase {
                LinkPhase::Release => items.retain(|item| {
                    let unwanted = was.contains(item) && !want.contains(item);
                    !(unwanted || going.iter().any(|id| mentions(item, id)))
                }),
                LinkPhase::Establish => {
                    for item in want {
                        if !items.contains(&item) {
                            items.push(item);
                        }
                    }
                }
            }
            value[field] = rebuilt(&have, items);
        }
        let props = Props::from_value(kind, value)
            .map_err(|e| refused(&operation, ErrorKind::Other, "Invalid", e.to_string()))?;
        if let Some(stored) = state.resources.get_mut(request.id) {
            stored.props = props;
        }
        let step = match request.phase {
            LinkPhase::Release => "releasing the links of",
            LinkPhase::Establish => "establishing the links of",
        };
        state.check(&format!("{step} {}", request.address));
        Ok(())
    }
}
