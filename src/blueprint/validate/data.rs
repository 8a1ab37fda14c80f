//! The `databases:` and `caches:` sections: encrypted RDS PostgreSQL instances and Redis
//! replication groups, each in its own subnet group over a subnet tier (databases also get
//! their own parameter group, which always requires TLS).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;

use super::Checker;
use super::kms::KeyFacts;
use super::network::Tier;
use crate::blueprint::de::suggest;
use crate::blueprint::diagnostic::Diagnostic;
use crate::blueprint::span::Spanned;
use crate::blueprint::types::{Name, TagValue};
use crate::model::{
    Address, CacheReplicationGroupProps, DbInstanceProps, DbParameterGroupProps, InitialValue,
    Kind, Props, Ref, SubnetGroupProps, Tags,
};
use crate::naming;
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;

/// An RDS database instance, its DB subnet group and its parameter group.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Database {
    /// `postgres` (the only engine for now).
    #[schemars(transform = schema::postgres)]
    pub engine: Spanned<String>,
    /// Major version (`16`: AWS applies minor upgrades) or an exact release (`16.4`).
    #[schemars(transform = schema::postgres_version)]
    pub engine_version: Spanned<String>,
    /// Instance class, e.g. `db.t4g.medium`.
    pub instance_class: Spanned<String>,
    /// Allocated storage in GiB (20-65536).
    #[schemars(transform = schema::storage_gb)]
    pub storage_gb: Spanned<i64>,
    /// `gp3` (default), `gp2`, `io1` or `io2`.
    #[serde(default)]
    #[schemars(transform = schema::storage_type)]
    pub storage_type: Option<Spanned<String>>,
    /// Where it runs: a subnet tier (`tier.isolated`) or a list of subnets.
    pub subnets: Spanned<SubnetSelection>,
    /// Security groups by reference (`security_group.rds`).
    pub security_groups: Spanned<Vec<Spanned<String>>>,
    /// The KMS key encrypting storage, snapshots and backups (`kms_key.rds`). Required:
    /// secinfra creates encrypted databases only.
    pub kms_key: Spanned<String>,
    /// Days of automated backups (1-35).
    #[schemars(transform = schema::backup_retention_days)]
    pub backup_retention_days: Spanned<i64>,
    /// Refuse deletion (default true); while on, secinfra holds a delete or replace.
    #[serde(default)]
    pub deletion_protection: Option<Spanned<bool>>,
    /// A standby in a second availability zone (default false).
    #[serde(default)]
    pub multi_az: Option<Spanned<bool>>,
    /// Master user name (default `dbadmin`). Its password is created, stored and rotated
    /// by RDS in Secrets Manager; it never passes through secinfra.
    #[serde(default)]
    pub master_username: Option<Spanned<String>>,
    /// The KMS key encrypting the master password's secret (`kms_key.secrets`). Required:
    /// an AWS managed key could not be told apart from drift, and a dedicated key is the
    /// point.
    pub master_password_kms_key: Spanned<String>,
    /// Parameters for the database's own parameter group; `rds.force_ssl: 1` is always
    /// set (clients must use TLS).
    #[serde(default)]
    #[schemars(transform = schema::db_parameters)]
    pub parameters: BTreeMap<Name, Spanned<TagValue>>,
    #[serde(default)]
    pub tags: BTreeMap<Name, Spanned<TagValue>>,
}

/// An ElastiCache Redis replication group (cluster mode disabled) and its subnet group.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cache {
    /// `redis` (the only engine for now).
    #[schemars(transform = schema::redis)]
    pub engine: Spanned<String>,
    /// Major.minor (`7.1`) or an exact release.
    #[schemars(transform = schema::redis_version)]
    pub engine_version: Spanned<String>,
    /// Node type, e.g. `cache.t4g.small`.
    pub node_type: Spanned<String>,
    /// Nodes: a primary plus replicas (1-6, default 2). With two or more, failover is
    /// automatic and replicas spread over availability zones.
    #[serde(default)]
    #[schemars(transform = schema::cache_nodes)]
    pub nodes: Option<Spanned<i64>>,
    /// A subnet tier (`tier.isolated`) or a list of subnets.
    pub subnets: Spanned<SubnetSelection>,
    /// Security groups by reference (`security_group.redis`).
    pub security_groups: Spanned<Vec<Spanned<String>>>,
    /// TLS between clients and nodes (default true; required with an AUTH token).
    #[serde(default)]
    pub transit_encryption: Option<Spanned<bool>>,
    /// The KMS key encrypting data at rest and backups (`kms_key.rds`). Required.
    pub at_rest_kms_key: Spanned<String>,
    /// The secret whose value is the Redis AUTH token (`secret.redis-auth-token`); read
    /// at creation and never printed.
    #[serde(default)]
    pub auth_token: Option<Spanned<String>>,
    /// Days of daily snapshots kept (0-35, default 7).
    #[serde(default)]
    #[schemars(transform = schema::snapshot_retention_days)]
    pub snapshot_retention_days: Option<Spanned<i64>>,
    /// Port (default 6379).
    #[serde(default)]
    #[schemars(transform = schema::cache_port)]
    pub port: Option<Spanned<i64>>,
    /// Deleting or replacing the cache is held unless this is false or the command gets
    /// --allow-delete-protected (default true); a deletion takes a final snapshot first.
    #[serde(default)]
    pub protect: Option<Spanned<bool>>,
    #[serde(default)]
    pub tags: BTreeMap<Name, Spanned<TagValue>>,
}

/// Subnets by tier (`tier.isolated`) or by reference (`[subnet.data-az1, ...]`).
#[derive(Debug, JsonSchema)]
#[serde(untagged)]
pub enum SubnetSelection {
    Tier(String),
    List(Vec<Spanned<String>>),
}

impl<'de> Deserialize<'de> for SubnetSelection {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SelectionVisitor;
        impl<'de> Visitor<'de> for SelectionVisitor {
            type Value = SubnetSelection;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a subnet tier (`tier.isolated`) or a list of subnets")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SubnetSelection, E> {
                Ok(SubnetSelection::Tier(v.to_string()))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<SubnetSelection, A::Error> {
                Vec::deserialize(de::value::SeqAccessDeserializer::new(seq))
                    .map(SubnetSelection::List)
            }
        }
        deserializer.deserialize_any(SelectionVisitor)
    }
}

/// PostgreSQL major versions RDS offers.
pub(crate) const POSTGRES_MAJORS: RangeInclusive<u32> = 12..=17;
/// Redis OSS versions ElastiCache offers for new replication groups.
pub(crate) const REDIS_VERSIONS: &[&str] = &["6.2", "7.0", "7.1"];
pub(crate) const STORAGE_TYPES: &[&str] = &["gp3", "gp2", "io1", "io2"];
/// Allocated storage in GiB.
pub(crate) const STORAGE_GB: RangeInclusive<i64> = 20..=65536;
/// Days of automated backups (0 turns them off).
pub(crate) const BACKUP_RETENTION_DAYS: RangeInclusive<i64> = 0..=35;
/// Nodes of a replication group: a primary and up to five replicas.
pub(crate) const CACHE_NODES: RangeInclusive<i64> = 1..=6;
pub(crate) const SNAPSHOT_RETENTION_DAYS: RangeInclusive<i64> = 0..=35;
pub(crate) const CACHE_PORTS: RangeInclusive<i64> = 1024..=65535;
/// Punctuation an ElastiCache AUTH token may not contain (only `! & # $ ^ < > -` are allowed).
pub const AUTH_TOKEN_EXCLUDED: &str = "\"%'()*+,./:;=?@[\\]_`{|}~";

/// Where a database or cache runs and what encrypts it, as written.
struct PlacementSpec<'a> {
    subnets: &'a Spanned<SubnetSelection>,
    groups: &'a Spanned<Vec<Spanned<String>>>,
    key: &'a Spanned<String>,
}

/// Fields a database and a cache share, checked the same way.
struct Placement {
    subnets: BTreeSet<Ref>,
    security_groups: BTreeSet<Ref>,
    kms_key: Option<Ref>,
}

impl Checker<'_> {
    pub(super) fn databases(
        &mut self,
        databases: &BTreeMap<Spanned<String>, Database>,
        keys: &BTreeMap<String, KeyFacts>,
    ) {
        for (name, db) in databases {
            let path = format!("databases.{}", name.value);
            self.check_name(name, &path, "database");
            let identifier = self.identifier(name, &path, 63, "RDS instance identifiers");
            self.one_of(
                &db.engine,
                &["postgres"],
                &format!("{path}.engine"),
                "engines",
            );
            let family =
                self.postgres_family(&db.engine_version, &format!("{path}.engine_version"));
            self.class_name(&db.instance_class, "db.", &format!("{path}.instance_class"));
            if !STORAGE_GB.contains(&db.storage_gb.value) {
                self.error(
                    db.storage_gb.span,
                    format!("{path}.storage_gb"),
                    format!("{} GiB is outside 20-65536", db.storage_gb.value),
                );
            }
            let storage_type = match &db.storage_type {
                None => "gp3".to_string(),
                Some(t) => {
                    self.one_of(
                        t,
                        STORAGE_TYPES,
                        &format!("{path}.storage_type"),
                        "storage types",
                    );
                    t.value.clone()
                }
            };
            let placement = self.placement(
                PlacementSpec {
                    subnets: &db.subnets,
                    groups: &db.security_groups,
                    key: &db.kms_key,
                },
                keys,
                &path,
                2,
                "RDS",
            );
            let retention = &db.backup_retention_days;
            if !BACKUP_RETENTION_DAYS.contains(&retention.value) {
                self.error(
                    retention.span,
                    format!("{path}.backup_retention_days"),
                    format!("{} days is outside 0-35", retention.value),
                )
                .help =
                    Some("RDS keeps automated backups for 1 to 35 days (0 turns them off)".into());
            } else if retention.value == 0 {
                self.diagnostics.push(
                    Diagnostic::warning(format!(
                        "database `{}` has automated backups off",
                        name.value
                    ))
                    .with_source(self.source, retention.span, "")
                    .with_path(format!("{path}.backup_retention_days"))
                    .with_help(
                        "without backups there is no point-in-time recovery; keep at least 7 days",
                    ),
                );
            }
            let master_username = self.master_username(db.master_username.as_ref(), &path);
            let master_secret_kms_key = self.kms_key_ref(
                &db.master_password_kms_key,
                keys,
                &format!("{path}.master_password_kms_key"),
                "Secrets Manager",
            );
            let parameters = self.db_parameters(&db.parameters, &path);
            let (Some(identifier), Some(family), Some(placement)) = (identifier, family, placement)
            else {
                continue;
            };
            let description = format!("secinfra {} {}", self.stack, name.value);
            let subnet_group = Address::new(Kind::DbSubnetGroup, &name.value);
            let parameter_group = Address::new(Kind::DbParameterGroup, &name.value);
            self.add(
                name.span,
                subnet_group.clone(),
                Props::DbSubnetGroup(SubnetGroupProps {
                    name: identifier.clone(),
                    description: description.clone(),
                    subnets: placement.subnets,
                }),
                Tags::new(),
            );
            self.add(
                name.span,
                parameter_group.clone(),
                Props::DbParameterGroup(DbParameterGroupProps {
                    name: identifier.clone(),
                    family,
                    description,
                    parameters,
                }),
                Tags::new(),
            );
            let tags = self.user_tags(&db.tags, &format!("{path}.tags"));
            self.add(
                name.span,
                Address::new(Kind::DbInstance, &name.value),
                Props::DbInstance(DbInstanceProps {
                    identifier,
                    engine: db.engine.value.clone(),
                    engine_version: db.engine_version.value.clone(),
                    instance_class: db.instance_class.value.clone(),
                    storage_gb: db.storage_gb.value as i32,
                    storage_type,
                    storage_encrypted: true,
                    kms_key: placement.kms_key,
                    subnet_group: Ref::Address(subnet_group),
                    parameter_group: Ref::Address(parameter_group),
                    security_groups: placement.security_groups,
                    multi_az: db.multi_az.as_ref().is_some_and(|b| b.value),
                    publicly_accessible: false,
                    backup_retention_days: retention.value as i32,
                    deletion_protection: db.deletion_protection.as_ref().is_none_or(|b| b.value),
                    copy_tags_to_snapshot: true,
                    master_username,
                    master_password_managed: true,
                    master_secret_kms_key,
                }),
                tags,
            );
        }
    }

    pub(super) fn caches(
        &mut self,
        caches: &BTreeMap<Spanned<String>, Cache>,
        keys: &BTreeMap<String, KeyFacts>,
    ) {
        for (name, cache) in caches {
            let path = format!("caches.{}", name.value);
            self.check_name(name, &path, "cache");
            let id = self.identifier(name, &path, 40, "ElastiCache replication group ids");
            self.one_of(
                &cache.engine,
                &["redis"],
                &format!("{path}.engine"),
                "engines",
            );
            self.redis_version(&cache.engine_version, &format!("{path}.engine_version"));
            self.class_name(&cache.node_type, "cache.", &format!("{path}.node_type"));
            let nodes = match &cache.nodes {
                None => 2,
                Some(n) if CACHE_NODES.contains(&n.value) => n.value,
                Some(n) => {
                    self.error(
                        n.span,
                        format!("{path}.nodes"),
                        format!("{} nodes is outside 1-6", n.value),
                    )
                    .help = Some("a replication group has one primary and up to 5 replicas".into());
                    2
                }
            };
            let placement = self.placement(
                PlacementSpec {
                    subnets: &cache.subnets,
                    groups: &cache.security_groups,
                    key: &cache.at_rest_kms_key,
                },
                keys,
                &path,
                if nodes >= 2 { 2 } else { 1 },
                "ElastiCache",
            );
            let transit_encryption = cache.transit_encryption.as_ref().is_none_or(|b| b.value);
            let auth_token = cache.auth_token.as_ref().and_then(|secret| {
                if !transit_encryption {
                    self.error(secret.span, format!("{path}.auth_token"), "an AUTH token needs TLS")
                        .help = Some("remove `transit_encryption: false` (Redis AUTH works only over TLS on ElastiCache)".into());
                }
                self.auth_token_secret(secret, &format!("{path}.auth_token"))
            });
            let snapshots = match &cache.snapshot_retention_days {
                None => 7,
                Some(d) if SNAPSHOT_RETENTION_DAYS.contains(&d.value) => d.value,
                Some(d) => {
                    self.error(
                        d.span,
                        format!("{path}.snapshot_retention_days"),
                        format!("{} days is outside 0-35", d.value),
                    );
                    7
                }
            };
            let port = match &cache.port {
                None => 6379,
                Some(p) if CACHE_PORTS.contains(&p.value) => p.value,
                Some(p) => {
                    self.error(
                        p.span,
                        format!("{path}.port"),
                        format!("port {} is outside 1024-65535", p.value),
                    );
                    6379
                }
            };
            let (Some(id), Some(placement)) = (id, placement) else {
                continue;
            };
            let subnet_group = Address::new(Kind::CacheSubnetGroup, &name.value);
            self.add(
                name.span,
                subnet_group.clone(),
                Props::CacheSubnetGroup(SubnetGroupProps {
                    name: id.clone(),
                    description: format!("secinfra {} {}", self.stack, name.value),
                    subnets: placement.subnets,
                }),
                Tags::new(),
            );
            let mut tags = self.user_tags(&cache.tags, &format!("{path}.tags"));
            tags.extend(super::protection_tags(cache.protect.as_ref()));
            self.add(
                name.span,
                Address::new(Kind::CacheReplicationGroup, &name.value),
                Props::CacheReplicationGroup(CacheReplicationGroupProps {
                    id,
                    description: format!("secinfra {} {}", self.stack, name.value),
                    engine: cache.engine.value.clone(),
                    engine_version: cache.engine_version.value.clone(),
                    node_type: cache.node_type.value.clone(),
                    nodes: nodes as i32,
                    port: port as i32,
                    subnet_group: Ref::Address(subnet_group),
                    security_groups: placement.security_groups,
                    transit_encryption,
                    at_rest_encryption: true,
                    kms_key: placement.kms_key,
                    auth_token_enabled: auth_token.is_some(),
                    auth_token,
                    automatic_failover: nodes >= 2,
                    multi_az: nodes >= 2,
                    snapshot_retention_days: snapshots as i32,
                }),
                tags,
            );
        }
    }

    /// `<stack>-<name>`, checked against the service's identifier rules.
    fn identifier(
        &mut self,
        name: &Spanned<String>,
        path: &str,
        max: usize,
        what: &str,
    ) -> Option<String> {
        let id = format!("{}-{}", self.stack, name.value);
        match naming::check_identifier(&id, max) {
            Ok(()) => Some(id),
            Err(problem) => {
                self.error(
                    name.span,
                    path,
                    format!("`{id}` is not a valid identifier: {problem}"),
                )
                .help = Some(format!(
                    "{what} are `<stack>-<name>`: 1-{max} lowercase letters, digits and single hyphens; shorten the name"
                ));
                None
            }
        }
    }

    fn one_of(&mut self, value: &Spanned<String>, allowed: &[&str], path: &str, what: &str) {
        if !allowed.contains(&value.value.as_str()) {
            self.error(
                value.span,
                path,
                format!("`{}` is not supported", value.value),
            )
            .help = Some(suggest(&value.value, allowed, what));
        }
    }

    fn class_name(&mut self, class: &Spanned<String>, prefix: &str, path: &str) {
        let parts: Vec<&str> = class.value.split('.').collect();
        if !class.value.starts_with(prefix)
            || parts.len() != 3
            || parts.iter().any(|p| p.is_empty())
        {
            self.error(
                class.span,
                path,
                format!("`{}` is not an instance type", class.value),
            )
            .help = Some(format!("write a type such as {prefix}t4g.medium"));
        }
    }

    /// `16` or `16.4` → `postgres16`.
    fn postgres_family(&mut self, version: &Spanned<String>, path: &str) -> Option<String> {
        let mut parts = version.value.split('.');
        let major = parts.next().and_then(|m| m.parse::<u32>().ok());
        let minor_ok = parts.all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
        match major {
            Some(major) if minor_ok && POSTGRES_MAJORS.contains(&major) => {
                Some(format!("postgres{major}"))
            }
            _ => {
                self.error(
                    version.span,
                    path,
                    format!("PostgreSQL `{}` is not offered by RDS", version.value),
                )
                .help = Some(format!(
                    "give a major version ({}-{}; AWS applies minor upgrades) or an exact release such as 16.4",
                    POSTGRES_MAJORS.start(),
                    POSTGRES_MAJORS.end()
                ));
                None
            }
        }
    }

    fn redis_version(&mut self, version: &Spanned<String>, path: &str) {
        let major_minor: String = version
            .value
            .split('.')
            .take(2)
            .collect::<Vec<_>>()
            .join(".");
        if !REDIS_VERSIONS.contains(&major_minor.as_str()) {
            self.error(
                version.span,
                path,
                format!("Redis `{}` is not offered by ElastiCache", version.value),
            )
            .help = Some(format!("use one of {}", REDIS_VERSIONS.join(", ")));
        }
    }

    fn master_username(&mut self, name: Option<&Spanned<String>>, path: &str) -> String {
        let Some(name) = name else {
            return "dbadmin".to_string();
        };
        let valid = name.value.len() <= 63
            && name.value.starts_with(|c: char| c.is_ascii_alphabetic())
            && name
                .value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid || name.value == "rdsadmin" {
            self.error(
                name.span,
                format!("{path}.master_username"),
                format!("`{}` cannot be the master user name", name.value),
            )
            .help = Some(
                "use 1-63 letters, digits and underscores, starting with a letter (not `rdsadmin`)"
                    .into(),
            );
        }
        name.value.clone()
    }

    /// The blueprint's parameters plus `rds.force_ssl = 1`, which may not be turned off.
    fn db_parameters(
        &mut self,
        parameters: &BTreeMap<Spanned<String>, Spanned<TagValue>>,
        path: &str,
    ) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, String> = parameters
            .iter()
            .map(|(k, v)| (k.value.clone(), v.value.0.clone()))
            .collect();
        if let Some((key, value)) = parameters.iter().find(|(k, _)| k.value == "rds.force_ssl")
            && value.value.0 != "1"
        {
            self.error(
                value.span,
                format!("{path}.parameters.{}", key.value),
                "clients must use TLS: `rds.force_ssl` stays 1",
            )
            .help =
                Some("remove the line; secinfra sets rds.force_ssl = 1 on every database".into());
        }
        out.insert("rds.force_ssl".into(), "1".into());
        out
    }

    fn placement(
        &mut self,
        spec: PlacementSpec<'_>,
        keys: &BTreeMap<String, KeyFacts>,
        path: &str,
        min_azs: usize,
        service: &str,
    ) -> Option<Placement> {
        let PlacementSpec {
            subnets,
            groups,
            key,
        } = spec;
        let subnets = self.subnet_selection(subnets, &format!("{path}.subnets"), min_azs);
        let security_groups = self.group_refs(groups, &format!("{path}.security_groups"));
        let kms_key = self.kms_key_ref(key, keys, &format!("{path}.kms_key"), service);
        Some(Placement {
            subnets: subnets?,
            security_groups: security_groups?,
            kms_key: Some(kms_key?),
        })
    }

    /// `tier.<name>` or a list of `subnet.<name>`, spanning at least `min_azs` zones.
    fn subnet_selection(
        &mut self,
        selection: &Spanned<SubnetSelection>,
        path: &str,
        min_azs: usize,
    ) -> Option<BTreeSet<Ref>> {
        let chosen: Vec<(String, String)> = match &selection.value {
            SubnetSelection::Tier(tier) => {
                let name = tier.strip_prefix("tier.").unwrap_or(tier);
                let Some(tier) = Tier::ALL.into_iter().find(|t| t.as_str() == name) else {
                    self.error(selection.span, path, format!("`{tier}` is not a subnet tier"))
                        .help = Some("write tier.isolated (or tier.private, tier.public), or list subnets: [subnet.data-az1, ...]".into());
                    return None;
                };
                let members: Vec<(String, String)> = self
                    .subnet_tiers
                    .iter()
                    .filter(|(_, (t, _))| *t == tier)
                    .map(|(n, (_, az))| (n.clone(), az.clone()))
                    .collect();
                if members.is_empty() {
                    self.error(
                        selection.span,
                        path,
                        format!("the network has no {} subnets", tier.as_str()),
                    )
                    .help = Some(format!(
                        "add subnets with `tier: {}` under network.subnets",
                        tier.as_str()
                    ));
                    return None;
                }
                members
            }
            SubnetSelection::List(list) => {
                let mut members = Vec::new();
                for item in list {
                    let name = item.value.strip_prefix("subnet.").unwrap_or(&item.value);
                    match self.subnet_tiers.get(name) {
                        Some((_, az)) => members.push((name.to_string(), az.clone())),
                        None => {
                            let known: Vec<&str> =
                                self.subnet_tiers.keys().map(String::as_str).collect();
                            let help = suggest(name, &known, "subnets");
                            let diagnostic = self.error(
                                item.span,
                                path,
                                format!("`{}` does not exist", item.value),
                            );
                            diagnostic.label = Some("no such subnet".into());
                            diagnostic.help = Some(help);
                        }
                    }
                }
                if members.len() != list.len() {
                    return None;
                }
                members
            }
        };
        let zones: BTreeSet<&String> = chosen.iter().map(|(_, az)| az).collect();
        if zones.len() < min_azs {
            self.error(
                selection.span,
                path,
                format!(
                    "these subnets are in {} availability zone(s); at least {min_azs} are needed",
                    zones.len()
                ),
            )
            .help = Some(
                "AWS places the standby or replicas in another zone: add a subnet in a second zone"
                    .into(),
            );
            return None;
        }
        Some(
            chosen
                .into_iter()
                .map(|(name, _)| Ref::Address(Address::new(Kind::Subnet, name)))
                .collect(),
        )
    }

    fn group_refs(
        &mut self,
        groups: &Spanned<Vec<Spanned<String>>>,
        path: &str,
    ) -> Option<BTreeSet<Ref>> {
        if groups.value.is_empty() {
            self.error(groups.span, path, "no security groups are given")
                .help = Some("name the groups that may connect, e.g. [security_group.rds]".into());
            return None;
        }
        let mut out = BTreeSet::new();
        for group in &groups.value {
            let value = group.value.trim();
            if value.starts_with("sg-") {
                out.insert(Ref::External(value.to_string()));
                continue;
            }
            let name = value.strip_prefix("security_group.").unwrap_or(value);
            let address = Address::new(Kind::SecurityGroup, name);
            if self.resources.contains_key(&address) {
                out.insert(Ref::Address(address));
                continue;
            }
            let known: Vec<String> = self
                .resources
                .keys()
                .filter(|a| a.kind == Kind::SecurityGroup)
                .map(|a| a.name.clone())
                .collect();
            let known: Vec<&str> = known.iter().map(String::as_str).collect();
            let help = suggest(name, &known, "security groups");
            let diagnostic = self.error(group.span, path, format!("`{value}` does not exist"));
            diagnostic.label = Some("no such security group".into());
            diagnostic.help = Some(help);
            return None;
        }
        Some(out)
    }

    /// `secret.<name>`, declared in the blueprint; when secinfra generates its value, the
    /// recipe must produce a valid AUTH token.
    fn auth_token_secret(&mut self, secret: &Spanned<String>, path: &str) -> Option<Ref> {
        let name = secret
            .value
            .strip_prefix("secret.")
            .unwrap_or(&secret.value);
        let address = Address::new(Kind::Secret, name);
        let Some(resource) = self.resources.get(&address) else {
            let known: Vec<String> = self
                .resources
                .keys()
                .filter(|a| a.kind == Kind::Secret)
                .map(|a| a.name.clone())
                .collect();
            let known: Vec<&str> = known.iter().map(String::as_str).collect();
            let help = suggest(name, &known, "secrets");
            let diagnostic = self.error(
                secret.span,
                path,
                format!("`{}` does not exist", secret.value),
            );
            diagnostic.label = Some("no such secret".into());
            diagnostic.help = Some(format!(
                "{help}; declare the token's secret under `secrets:`"
            ));
            return None;
        };
        let Props::Secret(props) = &resource.props else {
            return None;
        };
        let problem = match &props.initial_value {
            None => None,
            Some(InitialValue::Password {
                length,
                username,
                exclude_characters,
            }) => {
                let excluded = exclude_characters.as_deref().unwrap_or_default();
                let missing: String = AUTH_TOKEN_EXCLUDED
                    .chars()
                    .filter(|c| !excluded.contains(*c))
                    .collect();
                if !(16..=128).contains(length) {
                    Some(format!(
                        "its generated password has {length} characters; AUTH tokens have 16-128"
                    ))
                } else if username.is_some() {
                    Some("its generated value is a JSON document (it has a username), not a bare token".into())
                } else if !missing.is_empty() {
                    Some(format!(
                        "its generated password may contain {missing}, which AUTH tokens may not"
                    ))
                } else {
                    None
                }
            }
            Some(_) => Some("its generated value is not a password".into()),
        };
        if let Some(problem) = problem {
            self.error(
                secret.span,
                path,
                format!("`{}` cannot be a Redis AUTH token: {problem}", secret.value),
            )
            .help = Some(format!(
                "generate it with {{ password: {{ length: 64, exclude_characters: {} }} }}",
                serde_json::Value::String(AUTH_TOKEN_EXCLUDED.to_string())
            ));
        }
        Some(Ref::Address(address))
    }
}

/// How the section's fields read in the JSON Schema (`secinfra schema`), beside the
/// shared transforms and helpers.
pub mod schema {
    pub use crate::blueprint::schema::*;
    use schemars::Schema;
    use serde_json::{Value, json};

    pub fn postgres(s: &mut Schema) {
        one_of(s, [json!("postgres")]);
    }

    /// `16`, `"16"` or `"16.4"`, of the majors RDS offers.
    pub fn postgres_version(s: &mut Schema) {
        let (low, high) = super::POSTGRES_MAJORS.into_inner();
        versions(
            s,
            &format!("^({})(\\.[0-9]+)*$", alternatives(low..=high)),
            json!({ "type": "number", "minimum": low, "exclusiveMaximum": high + 1 }),
        );
    }

    pub fn storage_gb(s: &mut Schema) {
        range(s, super::STORAGE_GB);
    }

    pub fn storage_type(s: &mut Schema) {
        one_of(s, super::STORAGE_TYPES.iter().map(|t| json!(t)));
    }

    pub fn backup_retention_days(s: &mut Schema) {
        range(s, super::BACKUP_RETENTION_DAYS);
    }

    /// Parameters keep their written form (`1`, `on`); `rds.force_ssl` can only be on.
    pub fn db_parameters(s: &mut Schema) {
        s.insert(
            "properties".into(),
            json!({ "rds.force_ssl": { "enum": [1, "1", true] } }),
        );
    }

    pub fn redis(s: &mut Schema) {
        one_of(s, [json!("redis")]);
    }

    /// `7.1`, `"7.1"` or an exact release (`"7.1.0"`), of the versions ElastiCache offers.
    pub fn redis_version(s: &mut Schema) {
        let escaped: Vec<String> = super::REDIS_VERSIONS
            .iter()
            .map(|v| v.replace('.', "\\."))
            .collect();
        let numbers: Vec<Value> = super::REDIS_VERSIONS
            .iter()
            .filter_map(|v| v.parse::<f64>().ok())
            .map(Value::from)
            .collect();
        versions(
            s,
            &format!("^({})(\\.[0-9]+)*$", escaped.join("|")),
            json!({ "enum": numbers }),
        );
    }

    pub fn cache_nodes(s: &mut Schema) {
        range(s, super::CACHE_NODES);
    }

    pub fn snapshot_retention_days(s: &mut Schema) {
        range(s, super::SNAPSHOT_RETENTION_DAYS);
    }

    pub fn cache_port(s: &mut Schema) {
        range(s, super::CACHE_PORTS);
    }
}

#[cfg(test)]
mod tests {
    use super::AUTH_TOKEN_EXCLUDED;

    #[test]
    fn auth_token_punctuation_is_all_but_the_allowed_few() {
        let allowed = "!&#$^<>-";
        let punctuation: String = (33u8..127)
            .map(char::from)
            .filter(|c| c.is_ascii_punctuation())
            .collect();
        let expected: String = punctuation
            .chars()
            .filter(|c| !allowed.contains(*c))
            .collect();
        let mut excluded: Vec<char> = AUTH_TOKEN_EXCLUDED.chars().collect();
        excluded.sort_unstable();
        let mut expected: Vec<char> = expected.chars().collect();
        expected.sort_unstable();
        assert_eq!(excluded, expected);
    }
}
