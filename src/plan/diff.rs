//! The planner: a pure function from (desired, live) to a `Plan`.
//!
//! 1. Refuse resources found by name without the stack tag, unless adopting.
//! 2. Compare each desired resource with its live match field by field (`field_diffs`);
//!    a difference in a field AWS cannot change in place makes it a replace.
//! 3. Live resources tagged with the stack but absent from the blueprint are deleted.
//! 4. Replacements cascade: a resource that needs a replaced one to exist is replaced
//!    too; one that only links to it (a rule, a route) re-creates that link.
//! 5. Dependencies and the summary are filled in; changes are ordered by kind and name.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};

use super::{Action, BlueprintRef, Change, Diff, FORMAT_VERSION, Plan, Summary};
use crate::model::{
    Address, Desired, Kind, Live, LiveResource, Mode, Props, Resource, Shape, TAG_ADOPTED,
    TAG_PROTECT, TAG_STACK, Tags, graph, kind::TAGS,
};

/// Choices the user makes for one plan; saved with it so apply carries out exactly them.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PlanOptions {
    /// Take over resources found by name without the stack tag.
    #[serde(default)]
    pub adopt: bool,
    /// Delete (or replace) protected resources too.
    #[serde(default)]
    pub allow_delete_protected: bool,
    /// Delete (or replace) these protected resources, and no others.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub allow_delete: BTreeSet<Address>,
    /// Delete secrets at once instead of leaving them recoverable.
    #[serde(default)]
    pub delete_without_recovery: bool,
}

impl PlanOptions {
    /// Whether the user allowed deleting or replacing this resource although it is protected.
    pub fn may_delete_protected(&self, address: &Address) -> bool {
        self.allow_delete_protected || self.allow_delete.contains(address)
    }
}

/// What the planner refuses to plan.
#[derive(Clone, Debug, PartialEq)]
pub enum PlanError {
    /// Resources exist under the blueprint's names but belong to no secinfra stack.
    Unmanaged(Vec<(Address, String)>),
    /// Resources exist under the blueprint's names and belong to another stack:
    /// address, AWS id, the other stack.
    OtherStack(Vec<(Address, String, String)>),
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanError::OtherStack(found) => other_stack_message(f, found),
            PlanError::Unmanaged(found) => {
                writeln!(
                    f,
                    "{} resource(s) the blueprint declares already exist without the {TAG_STACK} tag:",
                    found.len()
                )?;
                for (address, id) in found {
                    writeln!(f, "  {address}: {id}")?;
                }
                write!(
                    f,
                    "secinfra does not take over resources it did not create. Pass --adopt to manage \
                     them from now on, or change their names in the blueprint."
                )
            }
        }
    }
}

impl std::error::Error for PlanError {}

fn other_stack_message(
    f: &mut fmt::Formatter<'_>,
    found: &[(Address, String, String)],
) -> fmt::Result {
    writeln!(
        f,
        "{} resource(s) the blueprint declares belong to another secinfra stack:",
        found.len()
    )?;
    for (address, id, stack) in found {
        writeln!(f, "  {address}: {id} (stack `{stack}`)")?;
    }
    write!(
        f,
        "Two stacks cannot manage one resource, and --adopt does not take one from another \
         stack. Rename these in this blueprint, or remove them from the other stack's \
         blueprint and apply it first."
    )
}

pub fn diff(
    desired: &Desired,
    live: &Live,
    region: &str,
    blueprint: BlueprintRef,
    options: &PlanOptions,
) -> Result<Plan, PlanError> {
    let elsewhere: Vec<(Address, String, String)> = live
        .resources
        .values()
        .filter(|r| r.unmanaged)
        .filter_map(|r| {
            let stack = r.tags.get(TAG_STACK).filter(|s| **s != desired.stack)?;
            Some((r.address.clone(), r.id.clone(), stack.clone()))
        })
        .collect();
    if !elsewhere.is_empty() {
        return Err(PlanError::OtherStack(elsewhere));
    }
    let unmanaged: Vec<(Address, String)> = live
        .resources
        .values()
        .filter(|r| r.unmanaged)
        .map(|r| (r.address.clone(), r.id.clone()))
        .collect();
    if !unmanaged.is_empty() && !options.adopt {
        return Err(PlanError::Unmanaged(unmanaged));
    }

    let mut changes: BTreeMap<Address, Change> = BTreeMap::new();
    for resource in desired.resources.values() {
        let change = match live.resources.get(&resource.address) {
            None => create(resource),
            Some(current) => compare(resource, current),
        };
        changes.insert(resource.address.clone(), change);
    }
    for current in live.resources.values() {
        if !desired.resources.contains_key(&current.address) {
            changes.insert(current.address.clone(), delete(current));
        }
    }

    let mut changes = settle(&changes, desired, options);
    rename_replacements(&mut changes);
    let deps = graph::dependencies(&desired.resources);
    for change in changes.values_mut() {
        change.depends_on = match change.action {
            Action::Delete => dependents_in_live(&change.address, live),
            _ => deps
                .get(&change.address)
                .map(|d| d.iter().cloned().collect())
                .unwrap_or_default(),
        };
    }

    let mut ordered: Vec<Change> = changes.into_values().collect();
    ordered.sort_by(|a, b| {
        (kind_rank(a.kind), &a.address.name).cmp(&(kind_rank(b.kind), &b.address.name))
    });
    Ok(Plan {
        format_version: FORMAT_VERSION,
        stack: desired.stack.clone(),
        region: region.to_string(),
        blueprint,
        live_fingerprint: super::fingerprint::live(live),
        summary: summarize(&ordered),
        options: options.clone(),
        changes: ordered,
        drift: None,
    })
}

fn kind_rank(kind: Kind) -> usize {
    Kind::ALL
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(usize::MAX)
}

fn summarize(changes: &[Change]) -> Summary {
    let count = |action| changes.iter().filter(|c| c.action == action).count();
    Summary {
        add: count(Action::Create),
        change: count(Action::Update),
        replace: count(Action::Replace),
        destroy: count(Action::Delete),
        held: changes.iter().filter(|c| c.held.is_some()).count(),
    }
}

/// Holds, cascades and holds again until nothing more is held. A replacement forced by a
/// replaced dependency (a database whose subnet group is replaced) is held like a direct
/// one; then whatever a held resource stands on is held too, from the change that started
/// the chain (`chain_holds`), and everything is worked out again from there: a chain is
/// carried out whole or not at all.
fn settle(
    compared: &BTreeMap<Address, Change>,
    desired: &Desired,
    options: &PlanOptions,
) -> BTreeMap<Address, Change> {
    let mut chained: BTreeMap<Address, String> = BTreeMap::new();
    loop {
        let mut changes = compared.clone();
        for (address, why) in &chained {
            if let Some(change) = changes.get_mut(address) {
                hold(change, why.clone());
            }
        }
        hold_protected(&mut changes, options);
        cascade_replacements(&mut changes, desired);
        hold_protected(&mut changes, options);
        let known = chained.len();
        for (address, why) in chain_holds(&changes, &chained)
            .into_iter()
            .chain(unmade_foundations(&changes))
        {
            chained.entry(address).or_insert(why);
        }
        if chained.len() == known {
            return changes;
        }
    }
}

fn hold(change: &mut Change, why: String) {
    change.held = Some(why);
    if change.action != Action::Noop {
        change.held_action = Some(change.action);
    }
    change.action = Action::Noop;
}

/// What a change's resource stands on: what it requires and what it links to, as found
/// and as wanted.
fn stands_on(change: &Change) -> BTreeSet<Address> {
    let mut out = BTreeSet::new();
    let props = change
        .before
        .iter()
        .map(|b| &b.props)
        .chain(change.after.iter().map(|a| &a.props));
    for props in props {
        out.extend(props.requires());
        out.extend(props.links());
    }
    out.remove(&change.address);
    out
}

/// A held (kept) resource keeps everything it stands on: deleting or replacing any of it
/// would fail on AWS (a subnet, group or key in use) or leave the kept resource on
/// something gone. From each protected resource held, every delete and replacement it
/// stands on, directly or through others being deleted or replaced, is followed down to
/// the changes that start it (a delete, or a field that cannot change in place); those
/// are held, with the keeper named.
fn chain_holds(
    changes: &BTreeMap<Address, Change>,
    chained: &BTreeMap<Address, String>,
) -> Vec<(Address, String)> {
    let mut out = Vec::new();
    let keepers = changes
        .values()
        .filter(|c| c.held.is_some() && !chained.contains_key(&c.address));
    for keeper in keepers {
        let why = keeper.held.as_deref().unwrap_or_default();
        let mut seen: BTreeSet<Address> = BTreeSet::new();
        let mut stack: Vec<Address> = stands_on(keeper).into_iter().collect();
        while let Some(address) = stack.pop() {
            if !seen.insert(address.clone()) {
                continue;
            }
            let Some(change) = changes.get(&address) else {
                continue;
            };
            let going = matches!(change.action, Action::Delete | Action::Replace);
            if !going && change.held.is_none() {
                continue;
            }
            let starts_it = change.action == Action::Delete
                || change
                    .diffs
                    .iter()
                    .any(|d| d.mode(change.kind) == Mode::ForceNew);
            if going && starts_it {
                let what = if change.action == Action::Delete {
                    "deletion"
                } else {
                    "replacement"
                };
                out.push((
                    address.clone(),
                    format!(
                        "{what} held: {} stands on it and is kept ({why})",
                        keeper.address
                    ),
                ));
            }
            stack.extend(stands_on(change));
        }
    }
    out
}

/// Nothing is made on a foundation that is not made: a resource to be created, or replaced
/// for a field of its own, that requires one whose creation or replacement is held would
/// be made on the old one (a subnet with the new CIDR in the VPC that keeps the old) and
/// fail or be replaced again. It is held with the foundation.
fn unmade_foundations(changes: &BTreeMap<Address, Change>) -> Vec<(Address, String)> {
    let unmade = |c: &Change| {
        c.held.is_some()
            && (c.before.is_none() || c.diffs.iter().any(|d| d.mode(c.kind) == Mode::ForceNew))
    };
    let mut out = Vec::new();
    for change in changes.values() {
        let what = match change.action {
            Action::Create => "creation",
            Action::Replace => "replacement",
            _ => continue,
        };
        let Some(after) = &change.after else {
            continue;
        };
        let foundation = after
            .props
            .requires()
            .into_iter()
            .find_map(|dep| changes.get(&dep).filter(|d| unmade(d)));
        if let Some(foundation) = foundation {
            out.push((
                change.address.clone(),
                format!(
                    "{what} held: it would be made on {}, which is not made ({})",
                    foundation.address,
                    foundation.held.as_deref().unwrap_or_default()
                ),
            ));
        }
    }
    out
}

/// A replacement made before its predecessor is deleted, of a kind whose names AWS keeps
/// unique, is created under a suffixed name (shown as a difference of the name).
fn rename_replacements(changes: &mut BTreeMap<Address, Change>) {
    for change in changes.values_mut() {
        if change.action != Action::Replace || !change.kind.create_before_destroy() {
            continue;
        }
        let (Some(before), Some(after), Some(field)) = (
            &change.before,
            &mut change.after,
            Props::unique_name_field(change.kind),
        ) else {
            continue;
        };
        let Some((_, renamed)) = after.props.rename_for_replacement(&before.id) else {
            continue;
        };
        let live_name = before
            .props
            .to_value()
            .get(field)
            .cloned()
            .unwrap_or(Value::Null);
        change.diffs.retain(|d| d.path != field);
        change.diffs.insert(
            0,
            diff_entry(field.to_string(), live_name, Value::String(renamed)),
        );
    }
}

/// A protected resource is never deleted or replaced unless the user allows it: the
/// change stays in the plan, held, with the way to release it.
fn hold_protected(changes: &mut BTreeMap<Address, Change>, options: &PlanOptions) {
    for change in changes.values_mut() {
        if !matches!(change.action, Action::Delete | Action::Replace)
            || options.may_delete_protected(&change.address)
        {
            continue;
        }
        let what = if change.action == Action::Delete {
            "deletion"
        } else {
            "replacement"
        };
        if change
            .before
            .as_ref()
            .is_some_and(|b| b.unmanaged || b.tags.contains_key(TAG_ADOPTED))
        {
            let held = format!(
                "{what} held: {0} was adopted, not created by secinfra, and whoever made it may \
                 still rely on it (pass --allow-delete {0} to go ahead)",
                change.address
            );
            hold(change, held);
            continue;
        }
        if !change.kind.protectable() {
            continue;
        }
        let held = match change.before.as_ref().map(|b| (&b.props, &b.tags)) {
            Some((Props::DbInstance(db), _)) if db.deletion_protection => Some(format!(
                "{what} held: {0} has deletion protection on (set `deletion_protection: false` \
                 in the blueprint and apply first, or pass --allow-delete {0})",
                change.address
            )),
            Some((Props::DbInstance(_), _)) => None,
            Some((_, tags)) if tags.get(TAG_PROTECT).map(String::as_str) == Some("false") => None,
            _ => Some(format!(
                "{what} held: {0} is protected (set `protect: false` in the blueprint and apply, \
                 or pass --allow-delete {0})",
                change.address
            )),
        };
        if let Some(held) = held {
            hold(change, held);
        }
    }
}

fn create(resource: &Resource) -> Change {
    let diffs = field_diffs(
        resource.address.kind,
        &desired_value(resource),
        &Value::Object(Map::new()),
    );
    Change {
        address: resource.address.clone(),
        kind: resource.address.kind,
        action: Action::Create,
        reason: None,
        held: None,
        held_action: None,
        depends_on: Vec::new(),
        diffs,
        before: None,
        after: Some(resource.clone()),
    }
}

fn delete(current: &LiveResource) -> Change {
    Change {
        address: current.address.clone(),
        kind: current.address.kind,
        action: Action::Delete,
        reason: Some("not in the blueprint".into()),
        held: None,
        held_action: None,
        depends_on: Vec::new(),
        diffs: Vec::new(),
        before: Some(current.clone()),
        after: None,
    }
}

/// One resource's change from what is live to what is desired (references in `current`
/// already mapped to addresses).
pub fn compare(resource: &Resource, current: &LiveResource) -> Change {
    let resource = &marked_if_adopted(resource, current);
    let kind = resource.address.kind;
    let owned = owned_part(resource, current);
    let current = &owned;
    let mut diffs = field_diffs(kind, &desired_value(resource), &live_value(current));
    // What AWS did not report cannot be said to differ (the plan lists it as unobserved).
    diffs.retain(|d| !current.unobserved.contains(d.field()));
    let forcing = diffs.iter().find(|d| d.mode(kind) == Mode::ForceNew);
    let (action, reason) = match forcing {
        Some(d) => (
            Action::Replace,
            Some(format!("{} cannot change in place", d.field())),
        ),
        None if current.unmanaged => (
            Action::Update,
            Some(format!(
                "adopt existing {} (not created by secinfra)",
                current.id
            )),
        ),
        None if diffs.is_empty() => (Action::Noop, None),
        None => (Action::Update, upgrade_in_place(kind, &diffs)),
    };
    Change {
        address: resource.address.clone(),
        kind,
        action,
        reason,
        held: None,
        held_action: None,
        depends_on: Vec::new(),
        diffs,
        before: Some(current.clone()),
        after: Some(resource.clone()),
    }
}

/// A resource adopted now, or before, carries `TAG_ADOPTED` (so it stays protected once it
/// has the stack's tag). Kinds whose tags are not compared are adopted untagged.
fn marked_if_adopted(resource: &Resource, current: &LiveResource) -> Resource {
    let mut marked = resource.clone();
    if resource.address.kind.tags_compared()
        && (current.unmanaged || current.tags.contains_key(TAG_ADOPTED))
    {
        marked.tags.insert(TAG_ADOPTED.into(), "true".into());
    }
    marked
}

/// A database's or cache's engine version changes in place (ModifyDBInstance with
/// AllowMajorVersionUpgrade and a parameter group of the new family; ModifyReplicationGroup),
/// never by a replacement: the plan says so.
fn upgrade_in_place(kind: Kind, diffs: &[Diff]) -> Option<String> {
    if !matches!(kind, Kind::DbInstance | Kind::CacheReplicationGroup) {
        return None;
    }
    let version = diffs.iter().find(|d| d.path == "engine_version")?;
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    Some(format!(
        "upgrade in place: engine {} → {}",
        text(&version.before),
        text(&version.after)
    ))
}

/// What of a live resource the blueprint manages: a route table's routes other teams
/// added are not the stack's to compare, change or remove (`RouteTableProps::owns_route`),
/// nor an incident IP set's addresses.
/// A replacement's suffixed name is the blueprint's name (`Props::accept_replacement_name`).
fn owned_part(resource: &Resource, current: &LiveResource) -> LiveResource {
    let mut owned = current.clone();
    owned.props.accept_replacement_name(&resource.props);
    match (&resource.props, &mut owned.props) {
        (Props::RouteTable(want), Props::RouteTable(have)) => {
            have.routes
                .retain(|destination, _| want.owns_route(destination));
        }
        // An incident IP set's addresses are the responders' (`respond block-ip`).
        (Props::IpSet(want), Props::IpSet(have)) if want.incident => {
            have.addresses = want.addresses.clone();
        }
        _ => {}
    }
    owned
}

fn desired_value(resource: &Resource) -> Value {
    with_tags(resource.props.to_value(), &resource.tags)
}

/// Tags AWS reserves (`aws:*`) are neither managed nor shown.
fn live_value(resource: &LiveResource) -> Value {
    let tags: Tags = resource
        .tags
        .iter()
        .filter(|(k, _)| !k.starts_with("aws:"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    with_tags(resource.props.to_value(), &tags)
}

fn with_tags(mut props: Value, tags: &Tags) -> Value {
    if let Value::Object(map) = &mut props {
        map.insert(
            TAGS.name.into(),
            serde_json::to_value(tags).unwrap_or_default(),
        );
    }
    props
}

/// Differences between a desired and a live value, field by field in the kind's order.
/// A field absent from the desired value is not managed and never differs.
pub fn field_diffs(kind: Kind, desired: &Value, live: &Value) -> Vec<Diff> {
    let mut out = Vec::new();
    for field in kind.fields().iter().chain(std::iter::once(&TAGS)) {
        let Some(want) = desired.get(field.name) else {
            continue;
        };
        let have = live.get(field.name).unwrap_or(&Value::Null);
        let creating = live_is_empty(live);
        if field.name == TAGS.name && !kind.tags_compared() && !creating {
            continue;
        }
        if field.mode == Mode::CreateOnly && !creating {
            continue;
        }

        let first = out.len();
        match field.shape {
            Shape::Scalar => {
                if want != have && !(want.is_null() && live_is_empty(live)) {
                    out.push(diff_entry(
                        field.name.to_string(),
                        have.clone(),
                        want.clone(),
                    ));
                }
            }
            Shape::Set => set_diffs(field.name, want, have, &mut out),
            Shape::Map => map_diffs(field.name, want, have, &mut out),
            Shape::Keyed(key) => keyed_diffs(field.name, key, want, have, &mut out),
        }
        if field.sensitive {
            out[first..].iter_mut().for_each(|d| d.sensitive = true);
        }
    }
    out
}

/// A create lists every field with a value; an unset optional field is not news.
fn live_is_empty(live: &Value) -> bool {
    live.as_object().is_some_and(Map::is_empty)
}

fn diff_entry(path: String, before: Value, after: Value) -> Diff {
    Diff {
        path,
        before,
        after,
        sensitive: false,
    }
}

fn elements(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

fn set_diffs(name: &str, want: &Value, have: &Value, out: &mut Vec<Diff>) {
    let want = elements(want);
    let have = elements(have);
    for removed in have.iter().filter(|v| !want.contains(v)) {
        out.push(diff_entry(
            name.to_string(),
            (*removed).clone(),
            Value::Null,
        ));
    }
    for added in want.iter().filter(|v| !have.contains(v)) {
        out.push(diff_entry(name.to_string(), Value::Null, (*added).clone()));
    }
}

fn keyed_diffs(name: &str, key: &str, want: &Value, have: &Value, out: &mut Vec<Diff>) {
    let by_key = |value: &Value| -> BTreeMap<String, Value> {
        elements(value)
            .into_iter()
            .map(|v| {
                (
                    v.get(key)
                        .map(|k| k.as_str().map_or_else(|| k.to_string(), str::to_string))
                        .unwrap_or_default(),
                    v.clone(),
                )
            })
            .collect()
    };
    let want = by_key(want);
    let have = by_key(have);
    for (k, before) in &have {
        if !want.contains_key(k) {
            out.push(diff_entry(name.to_string(), before.clone(), Value::Null));
        }
    }
    for (k, after) in &want {
        match have.get(k) {
            None => out.push(diff_entry(name.to_string(), Value::Null, after.clone())),
            Some(before) if before != after => {
                let empty = Map::new();
                let (b, a) = (
                    before.as_object().unwrap_or(&empty),
                    after.as_object().unwrap_or(&empty),
                );
                let fields: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
                for f in fields {
                    let (bv, av) = (
                        b.get(f).cloned().unwrap_or(Value::Null),
                        a.get(f).cloned().unwrap_or(Value::Null),
                    );
                    if bv != av {
                        out.push(diff_entry(format!("{}.{f}", map_path(name, k)), bv, av));
                    }
                }
            }
            Some(_) => {}
        }
    }
}

fn map_diffs(name: &str, want: &Value, have: &Value, out: &mut Vec<Diff>) {
    let empty = Map::new();
    let want = want.as_object().unwrap_or(&empty);
    let have = have.as_object().unwrap_or(&empty);
    let keys: BTreeSet<&String> = want.keys().chain(have.keys()).collect();
    for key in keys {
        let before = have.get(key).cloned().unwrap_or(Value::Null);
        let after = want.get(key).cloned().unwrap_or(Value::Null);
        if before != after {
            out.push(diff_entry(map_path(name, key), before, after));
        }
    }
}

/// `tags.Owner`, or `routes["0.0.0.0/0"]` when the key is not a plain word.
pub fn map_path(name: &str, key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        format!("{name}.{key}")
    } else {
        format!("{name}[{}]", Value::String(key.to_string()))
    }
}

/// Replacing a resource gives it a new AWS id. Whatever needs it to exist (a subnet of a
/// replaced VPC) is replaced too; whatever only links to it (a rule naming a replaced group,
/// a route to a replaced NAT gateway) re-creates that link against the new id.
fn cascade_replacements(changes: &mut BTreeMap<Address, Change>, desired: &Desired) {
    loop {
        let replaced: BTreeSet<Address> = changes
            .values()
            .filter(|c| c.action == Action::Replace)
            .map(|c| c.address.clone())
            .collect();
        let mut changed = false;
        for resource in desired.resources.values() {
            let Some(change) = changes.get_mut(&resource.address) else {
                continue;
            };
            if matches!(change.action, Action::Create | Action::Replace) {
                continue;
            }
            for (field, target) in resource.props.refs() {
                let Some(target) = target.address() else {
                    continue;
                };
                if !replaced.contains(target) {
                    continue;
                }
                let mode = resource
                    .address
                    .kind
                    .field(field)
                    .map_or(Mode::Update, |f| f.mode);
                // Re-pointing in place needs the new target to exist while the old one
                // still does: only a target replaced create-before-destroy allows it.
                // Otherwise the update would wait for the new target, whose creation
                // waits for the old one's deletion, which waits for the update.
                let repoint = mode == Mode::Update && target.kind.create_before_destroy();
                match mode {
                    Mode::Link => relink(change, field, target, "re-links"),
                    Mode::Update if repoint => relink(change, field, target, "re-points"),
                    Mode::Update | Mode::ForceNew | Mode::CreateOnly => {
                        change.action = Action::Replace;
                        change.reason = Some(format!("{target} is replaced"));
                        changed = true;
                        break;
                    }
                }
            }
        }
        if !changed {
            return;
        }
    }
}

/// Marks the link entries of `field` that point at `target` as re-created.
fn relink(change: &mut Change, field: &str, target: &Address, verb: &str) {
    let Some(after) = &change.after else { return };
    let value = after.props.to_value();
    let Some(current) = value.get(field) else {
        return;
    };
    let target = target.to_string();
    let points_at_target = |v: &Value| match v {
        Value::String(s) => s == &target || s.ends_with(&format!(" {target}")),
        Value::Object(_) => v.to_string().contains(&format!("\"{target}\"")),
        _ => false,
    };
    let entries: Vec<(String, Value)> = match current {
        Value::Array(items) => items
            .iter()
            .filter(|v| points_at_target(v))
            .map(|v| (field.to_string(), v.clone()))
            .collect(),
        Value::Object(map) => map
            .iter()
            .filter(|(_, v)| points_at_target(v))
            .map(|(k, v)| (map_path(field, k), v.clone()))
            .collect(),
        scalar if points_at_target(scalar) => vec![(field.to_string(), scalar.clone())],
        _ => Vec::new(),
    };
    for (path, value) in entries {
        let entry = diff_entry(path, value.clone(), value);
        if !change.diffs.contains(&entry) {
            change.diffs.push(entry);
        }
    }
    // The reason names the cascade only when the cascade alone makes this an update.
    if change.action == Action::Noop {
        change.action = Action::Update;
        change.reason = Some(format!("{verb} to {target}, which is replaced"));
    }
}

/// Live resources that reference `address` and so must let go of it before it is deleted.
fn dependents_in_live(address: &Address, live: &Live) -> Vec<Address> {
    live.resources
        .values()
        .filter(|r| {
            r.props
                .refs()
                .iter()
                .any(|(_, target)| target.address() == Some(address))
        })
        .map(|r| r.address.clone())
        .filter(|a| a != address)
        .collect()
}
