//! Resource kinds and what the planner needs to know about each kind's fields.

use std::fmt;
use std::str::FromStr;

pub use super::kinds::Kind;

/// How a field may change on a live resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// AWS cannot change it in place: a difference replaces the resource.
    ForceNew,
    /// Changed in place by the resource's update call.
    Update,
    /// Links to other resources (rules, routes, associations), synchronised as a set
    /// after the resources they point at exist and released before those are deleted.
    Link,
    /// Used only when creating (a secret's generated first value): shown in a create,
    /// never compared afterwards.
    CreateOnly,
}

/// How two values of a field are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Compared whole.
    Scalar,
    /// An unordered set: each element added or removed is one difference.
    Set,
    /// A map: each key added, removed or changed is one difference.
    Map,
    /// A set of records identified by the named field: a record added or removed is one
    /// difference, a record changed shows each of its changed fields.
    Keyed(&'static str),
}

#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub name: &'static str,
    pub mode: Mode,
    pub shape: Shape,
    /// The value is secret material (or describes it): plans mark it sensitive.
    pub sensitive: bool,
}

const fn field(name: &'static str, mode: Mode, shape: Shape) -> Field {
    Field {
        name,
        mode,
        shape,
        sensitive: false,
    }
}

const fn sensitive(name: &'static str) -> Field {
    Field {
        sensitive: true,
        ..field(name, CreateOnly, Scalar)
    }
}

use Mode::{CreateOnly, ForceNew, Link, Update};
use Shape::{Keyed, Map, Scalar, Set};

/// Every managed resource carries tags; they are diffed key by key and updated in place.
pub const TAGS: Field = field("tags", Update, Map);

impl Kind {
    /// The fields of this kind's properties, in display order.
    pub fn fields(self) -> &'static [Field] {
        match self {
            Kind::Vpc => {
                const {
                    &[
                        field("cidr", ForceNew, Scalar),
                        field("dns_support", Update, Scalar),
                        field("dns_hostnames", Update, Scalar),
                        field("default_security_group_rules", Update, Set),
                    ]
                }
            }
            Kind::Subnet => {
                const {
                    &[
                        field("vpc", ForceNew, Scalar),
                        field("cidr", ForceNew, Scalar),
                        field("availability_zone", ForceNew, Scalar),
                        field("map_public_ip_on_launch", Update, Scalar),
                    ]
                }
            }
            Kind::InternetGateway => const { &[field("vpc", ForceNew, Scalar)] },
            Kind::ElasticIp => const { &[field("domain", ForceNew, Scalar)] },
            Kind::NatGateway => {
                const {
                    &[
                        field("subnet", ForceNew, Scalar),
                        field("elastic_ip", ForceNew, Scalar),
                        field("connectivity_type", ForceNew, Scalar),
                    ]
                }
            }
            Kind::RouteTable => {
                const {
                    &[
                        field("vpc", ForceNew, Scalar),
                        field("routes", Link, Map),
                        field("subnets", Link, Set),
                    ]
                }
            }
            Kind::SecurityGroup => {
                const {
                    &[
                        field("vpc", ForceNew, Scalar),
                        field("group_name", ForceNew, Scalar),
                        field("description", ForceNew, Scalar),
                        field("ingress", Link, Set),
                        field("egress", Link, Set),
                    ]
                }
            }
            Kind::LogGroup => {
                const {
                    &[
                        field("name", ForceNew, Scalar),
                        field("retention_days", Update, Scalar),
                        field("kms_key", Update, Scalar),
                    ]
                }
            }
            Kind::IamRole => {
                const {
                    &[
                        field("name", ForceNew, Scalar),
                        field("path", ForceNew, Scalar),
                        field("assume_role_policy", Update, Scalar),
                        field("policy", Update, Scalar),
                    ]
                }
            }
            Kind::FlowLog => {
                const {
                    &[
                        field("vpc", ForceNew, Scalar),
                        field("traffic_type", ForceNew, Scalar),
                        field("log_group", ForceNew, Scalar),
                        field("deliver_logs_role", ForceNew, Scalar),
                        field("max_aggregation_interval", ForceNew, Scalar),
                    ]
                }
            }
            Kind::KmsKey => {
                const {
                    &[
                        field("description", Update, Scalar),
                        field("key_usage", ForceNew, Scalar),
                        field("key_spec", ForceNew, Scalar),
                        field("state", Update, Scalar),
                        field("rotation_enabled", Update, Scalar),
                        field("rotation_period_days", Update, Scalar),
                        field("policy", Update, Scalar),
                        field("aliases", Update, Set),
                    ]
                }
            }
            Kind::Secret => {
                const {
                    &[
                        field("name", ForceNew, Scalar),
                        field("description", Update, Scalar),
                        field("kms_key", Update, Scalar),
                        field("state", Update, Scalar),
                        field("rotation_enabled", Update, Scalar),
                        field("rotation_lambda", Update, Scalar),
                        field("rotation_every_days", Update, Scalar),
                        field("rotation_schedule", Update, Scalar),
                        field("policy", Update, Scalar),
                        sensitive("initial_value"),
                    ]
                }
            }
            Kind::IpSet => {
                const {
                    &[
                        field("name", ForceNew, Scalar),
                        field("scope", ForceNew, Scalar),
                        field("ip_version", ForceNew, Scalar),
                        field("addresses", Update, Set),
                    ]
                }
            }
            Kind::WebAcl => {
                const {
                    &[
                        field("name", ForceNew, Scalar),
                        field("scope", ForceNew, Scalar),
                        field("description", Update, Scalar),
                        field("default_action", Update, Scalar),
                        field("rules", Update, Keyed("name")),
                        field("logging", Update, Scalar),
                        field("associations", Update, Set),
                    ]
                }
            }
            Kind::DbSubnetGroup | Kind::CacheSubnetGroup => {
                const {
                    &[
                        field("name", ForceNew, Scalar),
                        field("description", Update, Scalar),
                        field("subnets", Update, Set),
                    ]
                }
            }
            Kind::DbParameterGroup => {
                const {
                    &[
                        field("name", ForceNew, Scalar),
                        field("family", ForceNew, Scalar),
                        field("description", ForceNew, Scalar),
                        field("parameters", Update, Map),
                    ]
                }
            }
            Kind::DbInstance => {
                const {
                    &[
                        field("identifier", ForceNew, Scalar),
                        field("engine", ForceNew, Scalar),
                        field("engine_version", Update, Scalar),
                        field("instance_class", Update, Scalar),
                        field("storage_gb", Update, Scalar),
                        field("storage_type", Update, Scalar),
                        field("storage_encrypted", ForceNew, Scalar),
                        field("kms_key", ForceNew, Scalar),
                        field("subnet_group", ForceNew, Scalar),
                        field("parameter_group", Update, Scalar),
                        field("security_groups", Update, Set),
                        field("multi_az", Update, Scalar),
                        field("publicly_accessible", Update, Scalar),
                        field("backup_retention_days", Update, Scalar),
                        field("deletion_protection", Update, Scalar),
                        field("copy_tags_to_snapshot", Update, Scalar),
                        field("master_username", ForceNew, Scalar),
                        field("master_password_managed", Update, Scalar),
                        field("master_secret_kms_key", Update, Scalar),
                    ]
                }
            }
            Kind::CacheReplicationGroup => {
                const {
                    &[
                        field("id", ForceNew, Scalar),
                        field("description", Update, Scalar),
                        field("engine", ForceNew, Scalar),
                        field("engine_version", Update, Scalar),
                        field("node_type", Update, Scalar),
                        field("nodes", Update, Scalar),
                        field("port", ForceNew, Scalar),
                        field("subnet_group", ForceNew, Scalar),
                        field("security_groups", Update, Set),
                        field("transit_encryption", ForceNew, Scalar),
                        field("at_rest_encryption", ForceNew, Scalar),
                        field("kms_key", ForceNew, Scalar),
                        field("auth_token_enabled", Update, Scalar),
                        field("auth_token", CreateOnly, Scalar),
                        field("automatic_failover", Update, Scalar),
                        field("multi_az", Update, Scalar),
                        field("snapshot_retention_days", Update, Scalar),
                    ]
                }
            }
            Kind::S3Bucket => {
                const {
                    &[
                        field("name", ForceNew, Scalar),
                        field("kms_key", Update, Scalar),
                        field("block_public_acls", Update, Scalar),
                        field("ignore_public_acls", Update, Scalar),
                        field("block_public_policy", Update, Scalar),
                        field("restrict_public_buckets", Update, Scalar),
                        field("versioning", Update, Scalar),
                        field("policy", Update, Scalar),
                        field("expire_days", Update, Scalar),
                    ]
                }
            }
            Kind::Trail => {
                const {
                    &[
                        field("name", ForceNew, Scalar),
                        field("bucket", Update, Scalar),
                        field("kms_key", Update, Scalar),
                        field("multi_region", Update, Scalar),
                        field("global_service_events", Update, Scalar),
                        field("log_file_validation", Update, Scalar),
                        field("log_group", Update, Scalar),
                        field("cloudwatch_logs_role", Update, Scalar),
                        field("management_events", Update, Scalar),
                        field("logging", Update, Scalar),
                    ]
                }
            }
            Kind::GuarddutyDetector => {
                const {
                    &[
                        field("enabled", Update, Scalar),
                        field("finding_frequency", Update, Scalar),
                        field("features", Update, Map),
                    ]
                }
            }
            Kind::SecurityHub => {
                const {
                    &[
                        field("standards", Update, Set),
                        field("auto_enable_controls", Update, Scalar),
                        field("consolidated_control_findings", Update, Scalar),
                    ]
                }
            }
            Kind::MetricFilter => {
                const {
                    &[
                        field("name", ForceNew, Scalar),
                        field("log_group", ForceNew, Scalar),
                        field("pattern", Update, Scalar),
                        field("metric_namespace", Update, Scalar),
                        field("metric_name", Update, Scalar),
                    ]
                }
            }
            Kind::Alarm => {
                const {
                    &[
                        field("name", ForceNew, Scalar),
                        field("description", Update, Scalar),
                        field("namespace", Update, Scalar),
                        field("metric_name", Update, Scalar),
                        field("dimensions", Update, Map),
                        field("statistic", Update, Scalar),
                        field("period_seconds", Update, Scalar),
                        field("evaluation_periods", Update, Scalar),
                        field("threshold", Update, Scalar),
                        field("comparison", Update, Scalar),
                        field("treat_missing_data", Update, Scalar),
                        field("actions", Update, Set),
                    ]
                }
            }
        }
    }

    /// Whether tags are compared after creation. A GuardDuty detector and a Security Hub
    /// are region-wide singletons: one the stack did not create is adopted as it is,
    /// untagged, because its stack tag is what makes destroy delete (or disable) it. Metric filters have no tags, and
    /// alarms are the stack's by their name (`secinfra/<stack>/...`): their tags are set
    /// at creation, not read back (one call per alarm).
    pub fn tags_compared(self) -> bool {
        !matches!(
            self,
            Kind::GuarddutyDetector | Kind::SecurityHub | Kind::MetricFilter | Kind::Alarm
        )
    }

    /// Kinds whose resources are the stack's by their name (`secinfra/<stack>/...`)
    /// rather than by a stack tag.
    pub fn owned_by_name(self) -> bool {
        matches!(self, Kind::MetricFilter | Kind::Alarm)
    }

    pub fn field(self, name: &str) -> Option<Field> {
        if name == TAGS.name {
            return Some(TAGS);
        }
        self.fields().iter().find(|f| f.name == name).copied()
    }

    /// Kinds whose resources must all exist before one of this kind is created (and be
    /// deleted only after every one of this kind is gone), beyond direct references.
    /// A NAT gateway needs the VPC's internet gateway attached, and an internet gateway
    /// cannot be detached while NAT gateways still map public addresses. A replication
    /// group's subnet group is read from its member clusters, which AWS may not list (then
    /// the reference is unknown), and a subnet group in use cannot be deleted.
    pub fn ordered_after(self) -> &'static [Kind] {
        match self {
            Kind::NatGateway => &[Kind::InternetGateway],
            Kind::CacheReplicationGroup => &[Kind::CacheSubnetGroup],
            _ => &[],
        }
    }

    /// The blueprint section that declares resources of this kind.
    pub fn blueprint_section(self) -> &'static str {
        match self {
            Kind::Vpc
            | Kind::Subnet
            | Kind::InternetGateway
            | Kind::ElasticIp
            | Kind::NatGateway
            | Kind::RouteTable => "network",
            Kind::SecurityGroup => "security_groups",
            Kind::LogGroup | Kind::IamRole | Kind::FlowLog => "network.flow_logs",
            Kind::KmsKey => "kms",
            Kind::Secret => "secrets",
            Kind::IpSet | Kind::WebAcl => "waf",
            Kind::DbSubnetGroup | Kind::DbParameterGroup | Kind::DbInstance => "databases",
            Kind::CacheSubnetGroup | Kind::CacheReplicationGroup => "caches",
            Kind::S3Bucket | Kind::Trail => "monitoring.cloudtrail",
            Kind::GuarddutyDetector => "monitoring.guardduty",
            Kind::SecurityHub => "monitoring.security_hub",
            Kind::MetricFilter | Kind::Alarm => "monitoring.alarms",
        }
    }

    /// Replaced by creating the new resource before deleting the old one, so whatever uses
    /// it moves over without a moment without it: KMS key deletion is only scheduled, so
    /// nothing is freed by deleting first; a database or cache keeps a security group and a
    /// parameter group until it is moved to another (AWS refuses to delete them before), and
    /// revoking the old group's rules first would cut it off. Security and parameter groups
    /// need unique names, so their replacements take a suffixed name
    /// (`Props::rename_for_replacement`).
    pub fn create_before_destroy(self) -> bool {
        matches!(
            self,
            Kind::KmsKey | Kind::SecurityGroup | Kind::DbParameterGroup
        )
    }

    /// Link sets whose new links are added before the old ones are removed: a security
    /// group's rules are independent of each other, so a rule re-pointed at a replaced group
    /// is never missing for a moment. (A route table's routes are keyed by destination:
    /// the old route must go before the new one is added.)
    pub fn adds_links_before_removing(self) -> bool {
        matches!(self, Kind::SecurityGroup)
    }

    /// Kinds that hold data or history, whose deletion (or replacement) is held unless the
    /// user allows it: KMS keys (what they encrypt), Redis caches (their data), the trail's
    /// bucket and the trail's, flow logs' and WAF's log groups (the audit history), unless
    /// marked unprotected (tag `secinfra:protect=false`, from `protect: false`); database
    /// instances while their deletion protection is on. (An adopted resource of any kind
    /// is held too: `TAG_ADOPTED`.)
    pub fn protectable(self) -> bool {
        matches!(
            self,
            Kind::KmsKey
                | Kind::DbInstance
                | Kind::CacheReplicationGroup
                | Kind::S3Bucket
                | Kind::LogGroup
        )
    }

    /// Whether deleting a resource of this kind needs link-holders to release it first.
    /// EC2 refuses to delete a security group another group's rule references; routes
    /// to a deleted NAT gateway merely go blackhole, but releasing first is tidier for all.
    pub fn has_links(self) -> bool {
        self.fields().iter().any(|f| f.mode == Link)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown resource kind `{s}`"))
    }
}
