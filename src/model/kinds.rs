//! The one table of resource kinds. Each kind is declared once: its props type with every
//! field and how the field changes, its name in addresses and plans, the blueprint section
//! that declares it, the AWS service that manages it, and the field holding its unique AWS
//! name. The `Kind` enum,
//! `Kind::ALL`, `Kind::as_str`, `Kind::fields`, `Kind::blueprint_section`, the props
//! structs, the `Props` enum with its kind, AWS name, references, JSON and back are all
//! generated from it; behaviour particular to a few kinds (ordering, protection) is in
//! `kind.rs`, and talking to AWS in the kind's provider.
//!
//! A field is written `name: Type => how it changes`; a field without `=>` is a planning
//! choice AWS does not store, never compared. A kind whose props type is declared by
//! another kind (the DB and cache subnet groups) omits the body.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use super::kind::{
    Field, Keyed, Map, Scalar, Set, create_only, force_new, link, sensitive, update,
};
use super::props::{FieldRefs, InitialValue, WafRule};
use super::reference::Ref;
use super::rule::SecurityGroupRule;

/// The AWS name a kind's props hold, if the kind names one.
macro_rules! aws_name {
    ($p:ident . $field:ident) => {
        Some($p.$field.as_str())
    };
    ($p:ident) => {
        None
    };
}

/// A kind's props struct, its field table and its references, when the kind declares them.
macro_rules! props_struct {
    ([$(#[$meta:meta])*] $props:ident) => {};
    (
        [$(#[$meta:meta])*] $props:ident
        { $( [$(#[$fmeta:meta])*] $fname:ident : $ftype:ty $( => $spec:expr )? ; )* }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
        pub struct $props {
            $( $(#[$fmeta])* pub $fname: $ftype, )*
        }

        impl $props {
            /// The compared fields, in display order, and how each one changes.
            pub const FIELDS: &'static [Field] = &[
                $( $( $spec.named(stringify!($fname)), )? )*
            ];

            /// Every reference, with the field holding it.
            fn refs<'a>(&'a self, out: &mut Vec<(&'static str, &'a Ref)>) {
                $( FieldRefs::refs(&self.$fname, stringify!($fname), out); )*
            }

            fn map_refs(&mut self, f: &impl Fn(&Ref) -> Ref) {
                $( FieldRefs::map_refs(&mut self.$fname, f); )*
            }
        }
    };
}

macro_rules! kinds {
    ($(
        $(#[$meta:meta])*
        $variant:ident ( $props:ident ) = $name:literal in $section:literal via $service:literal
            $( named $aws_name:ident )?
            $( {
                $(
                    $(#[$fmeta:meta])*
                    $fname:ident : $ftype:ty $( => $spec:expr )?
                ),* $(,)?
            } )?
    ),* $(,)?) => {
        $(
            props_struct! {
                [$(#[$meta])*] $props
                $( { $( [$(#[$fmeta])*] $fname : $ftype $( => $spec )? ; )* } )?
            }
        )*

        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum Kind { $($variant),* }

        impl Kind {
            /// Every kind, in planning order.
            pub const ALL: [Kind; [$(Kind::$variant),*].len()] = [$(Kind::$variant),*];

            /// The kind's name in addresses (`security_group.rds`) and plans.
            pub fn as_str(self) -> &'static str {
                match self { $(Kind::$variant => $name),* }
            }

            /// The compared fields of this kind's properties, in display order, and how
            /// each one changes.
            pub fn fields(self) -> &'static [Field] {
                match self { $(Kind::$variant => $props::FIELDS),* }
            }

            /// The blueprint section that declares resources of this kind.
            pub fn blueprint_section(self) -> &'static str {
                match self { $(Kind::$variant => $section),* }
            }

            /// The AWS service whose API manages this kind, as in IAM action prefixes
            /// (`ec2`): its provider is the one for that service.
            pub fn service(self) -> &'static str {
                match self { $(Kind::$variant => $service),* }
            }
        }

        /// Properties of one resource, by kind.
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub enum Props { $($variant($props)),* }

        impl Props {
            pub fn kind(&self) -> Kind {
                match self { $(Props::$variant(_) => Kind::$variant),* }
            }

            /// The unique name AWS knows the resource by, for kinds identified by name.
            pub fn aws_name(&self) -> Option<&str> {
                match self {
                    $(Props::$variant(_p) => aws_name!(_p $(. $aws_name)?)),*
                }
            }

            /// Every reference that orders anything (see `Field::orders`), with the field
            /// that holds it.
            pub fn refs(&self) -> Vec<(&'static str, &Ref)> {
                let mut out = Vec::new();
                match self { $(Props::$variant(p) => p.refs(&mut out)),* }
                let kind = self.kind();
                out.retain(|(field, _)| kind.field(field).is_none_or(|f| f.orders));
                out
            }

            /// Rewrites every reference (used to map live AWS ids to addresses).
            pub fn map_refs(&mut self, f: &impl Fn(&Ref) -> Ref) {
                match self { $(Props::$variant(p) => p.map_refs(f)),* }
            }

            /// The properties as a JSON object, in the kind's field order.
            pub fn to_value(&self) -> serde_json::Value {
                let value = match self { $(Props::$variant(p) => serde_json::to_value(p)),* };
                // These types hold only strings, numbers, booleans, sets and string-keyed maps.
                value.unwrap_or(serde_json::Value::Null)
            }

            pub fn from_value(
                kind: Kind,
                value: serde_json::Value,
            ) -> Result<Props, serde_json::Error> {
                Ok(match kind {
                    $(Kind::$variant => Props::$variant(serde_json::from_value(value)?)),*
                })
            }
        }
    };
}

kinds! {
    Vpc(VpcProps) = "vpc" in "network" via "ec2" {
        cidr: Ipv4Net => force_new(Scalar),
        dns_support: bool => update(Scalar),
        dns_hostnames: bool => update(Scalar),
        /// Rules of the VPC's default security group; managed only when the blueprint
        /// restricts it (then the desired set is empty). They are only ever revoked, so
        /// the groups they name order nothing.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default_security_group_rules: Option<BTreeSet<SecurityGroupRule>>
            => update(Set).ordering_nothing(),
    },
    Subnet(SubnetProps) = "subnet" in "network" via "ec2" {
        vpc: Ref => force_new(Scalar),
        cidr: Ipv4Net => force_new(Scalar),
        availability_zone: String => force_new(Scalar),
        map_public_ip_on_launch: bool => update(Scalar),
    },
    InternetGateway(InternetGatewayProps) = "internet_gateway" in "network" via "ec2" {
        /// The VPC it is attached to (`None` when found detached).
        vpc: Option<Ref> => force_new(Scalar),
    },
    ElasticIp(ElasticIpProps) = "elastic_ip" in "network" via "ec2" {
        domain: String => force_new(Scalar),
    },
    NatGateway(NatGatewayProps) = "nat_gateway" in "network" via "ec2" {
        subnet: Ref => force_new(Scalar),
        elastic_ip: Ref => force_new(Scalar),
        connectivity_type: String => force_new(Scalar),
    },
    RouteTable(RouteTableProps) = "route_table" in "network" via "ec2" {
        vpc: Ref => force_new(Scalar),
        /// Destination (a CIDR, or a prefix list id `pl-...`) → target (internet or NAT
        /// gateway, VPC endpoint, peering connection, transit gateway...). The VPC's `local`
        /// route is implicit and never listed.
        routes: BTreeMap<String, Ref> => link(Map),
        /// Subnets associated with this table.
        subnets: BTreeSet<Ref> => link(Set),
        /// Whether the table owns every route in it (`network.exclusive_routes`). Otherwise it
        /// owns only the routes the blueprint declares and the default routes (`0.0.0.0/0`,
        /// `::/0`), which decide whether a tier reaches the internet; routes other teams add
        /// (VPC endpoints, peering, transit gateways) are left alone.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        exclusive_routes: bool,
    },
    SecurityGroup(SecurityGroupProps) = "security_group" in "security_groups" via "ec2" {
        vpc: Ref => force_new(Scalar),
        group_name: String => force_new(Scalar),
        description: String => force_new(Scalar),
        ingress: BTreeSet<SecurityGroupRule> => link(Set),
        egress: BTreeSet<SecurityGroupRule> => link(Set),
    },
    LogGroup(LogGroupProps) = "log_group" in "network.flow_logs" via "logs" named name {
        name: String => force_new(Scalar),
        /// `None` keeps events forever.
        retention_days: Option<i32> => update(Scalar),
        /// Encryption key; `None` is CloudWatch Logs' own encryption.
        #[serde(default)]
        kms_key: Option<Ref> => update(Scalar),
    },
    IamRole(IamRoleProps) = "iam_role" in "network.flow_logs" via "iam" named name {
        name: String => force_new(Scalar),
        path: String => force_new(Scalar),
        /// Trust policy, normalised (see `crate::policy`).
        assume_role_policy: serde_json::Value => update(Scalar),
        /// The role's inline policy named `secinfra`, normalised.
        policy: serde_json::Value => update(Scalar),
    },
    FlowLog(FlowLogProps) = "flow_log" in "network.flow_logs" via "ec2" {
        vpc: Ref => force_new(Scalar),
        traffic_type: String => force_new(Scalar),
        log_group: Ref => force_new(Scalar),
        deliver_logs_role: Ref => force_new(Scalar),
        max_aggregation_interval: i32 => force_new(Scalar),
    },
    KmsKey(KmsKeyProps) = "kms_key" in "kms" via "kms" {
        description: String => update(Scalar),
        /// `ENCRYPT_DECRYPT`, `SIGN_VERIFY`, `GENERATE_VERIFY_MAC`.
        key_usage: String => force_new(Scalar),
        /// `SYMMETRIC_DEFAULT`, `RSA_2048`, `ECC_NIST_P256`, `HMAC_256`, ...
        key_spec: String => force_new(Scalar),
        /// KMS key state; wanted: `Enabled`. A declared key found `PendingDeletion` or
        /// `Disabled` is brought back.
        state: String => update(Scalar),
        rotation_enabled: bool => update(Scalar),
        /// Days between automatic rotations (90-2560) when rotation is on.
        rotation_period_days: Option<i32> => update(Scalar),
        /// Key policy, normalised (see `crate::policy`).
        policy: serde_json::Value => update(Scalar),
        /// Alias names pointing at this key (`alias/<stack>/<name>`).
        aliases: BTreeSet<String> => update(Set),
    },
    Secret(SecretProps) = "secret" in "secrets" via "secretsmanager" named name {
        name: String => force_new(Scalar),
        description: String => update(Scalar),
        /// Encryption key; `None` is Secrets Manager's AWS managed key.
        kms_key: Option<Ref> => update(Scalar),
        /// `active`, or `scheduled for deletion` for a deleted secret still recoverable.
        state: String => update(Scalar),
        rotation_enabled: bool => update(Scalar),
        rotation_lambda: Option<String> => update(Scalar),
        rotation_every_days: Option<i64> => update(Scalar),
        rotation_schedule: Option<String> => update(Scalar),
        /// Resource policy, normalised; managed only when the blueprint declares one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        policy: Option<serde_json::Value> => update(Scalar),
        /// How the first value is generated at create (never the value itself).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        initial_value: Option<InitialValue> => sensitive(),
    },
    IpSet(IpSetProps) = "ip_set" in "waf" via "wafv2" named name {
        name: String => force_new(Scalar),
        /// `REGIONAL` (or `CLOUDFRONT`).
        scope: String => force_new(Scalar),
        /// `IPV4` or `IPV6`.
        ip_version: String => force_new(Scalar),
        /// Compared unless `incident`: then whoever responds owns them (`respond block-ip`).
        addresses: BTreeSet<String> => update(Set),
        /// An incident IP set: its addresses are never planned (see `owned_part`).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        incident: bool,
    },
    WebAcl(WebAclProps) = "web_acl" in "waf" via "wafv2" named name {
        name: String => force_new(Scalar),
        scope: String => force_new(Scalar),
        description: String => update(Scalar),
        /// `allow` or `block`.
        default_action: String => update(Scalar),
        /// Rules, normalised: priorities from blueprint order, defaults filled in.
        rules: BTreeSet<WafRule> => update(Keyed("name")),
        /// Log group receiving the ACL's logs (`None`: logging off).
        logging: Option<Ref> => update(Scalar),
        /// Resources (load balancers, API stages) the ACL protects; managed only when declared.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        associations: Option<BTreeSet<String>> => update(Set),
    },
    /// A DB or cache subnet group: the subnets a database or cache may place nodes in.
    DbSubnetGroup(SubnetGroupProps) = "db_subnet_group" in "databases" via "rds" named name {
        name: String => force_new(Scalar),
        description: String => update(Scalar),
        subnets: BTreeSet<Ref> => update(Set),
    },
    DbParameterGroup(DbParameterGroupProps) = "db_parameter_group" in "databases" via "rds" named name {
        name: String => force_new(Scalar),
        /// e.g. `postgres16`.
        family: String => force_new(Scalar),
        description: String => force_new(Scalar),
        /// Parameters set in the group (those left at the family default are not listed).
        parameters: BTreeMap<String, String> => update(Map),
    },
    DbInstance(DbInstanceProps) = "db_instance" in "databases" via "rds" named identifier {
        identifier: String => force_new(Scalar),
        engine: String => force_new(Scalar),
        /// As precise as the blueprint gives it: `16` matches any 16.x (minor versions are
        /// upgraded by AWS), `16.4` only that release.
        engine_version: String => update(Scalar),
        instance_class: String => update(Scalar),
        storage_gb: i32 => update(Scalar),
        storage_type: String => update(Scalar),
        storage_encrypted: bool => force_new(Scalar),
        kms_key: Option<Ref> => force_new(Scalar),
        subnet_group: Ref => force_new(Scalar),
        parameter_group: Ref => update(Scalar),
        security_groups: BTreeSet<Ref> => update(Set),
        multi_az: bool => update(Scalar),
        publicly_accessible: bool => update(Scalar),
        backup_retention_days: i32 => update(Scalar),
        deletion_protection: bool => update(Scalar),
        copy_tags_to_snapshot: bool => update(Scalar),
        master_username: String => force_new(Scalar),
        /// The master password lives in a Secrets Manager secret RDS creates and rotates.
        master_password_managed: bool => update(Scalar),
        /// The key that secret is encrypted with.
        master_secret_kms_key: Option<Ref> => update(Scalar),
    },
    CacheSubnetGroup(SubnetGroupProps) = "cache_subnet_group" in "caches" via "elasticache" named name,
    CacheReplicationGroup(CacheReplicationGroupProps) = "cache_replication_group" in "caches" via "elasticache" named id {
        id: String => force_new(Scalar),
        description: String => update(Scalar),
        engine: String => force_new(Scalar),
        /// As precise as the blueprint gives it (see `DbInstanceProps::engine_version`).
        engine_version: String => update(Scalar),
        node_type: String => update(Scalar),
        /// Primary plus replicas.
        nodes: i32 => update(Scalar),
        port: i32 => force_new(Scalar),
        subnet_group: Ref => force_new(Scalar),
        security_groups: BTreeSet<Ref> => update(Set),
        transit_encryption: bool => force_new(Scalar),
        at_rest_encryption: bool => force_new(Scalar),
        kms_key: Option<Ref> => force_new(Scalar),
        auth_token_enabled: bool => update(Scalar),
        /// The secret holding the AUTH token, read at creation (AWS never returns the token,
        /// so it is not compared afterwards).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        auth_token: Option<Ref> => create_only(Scalar),
        automatic_failover: bool => update(Scalar),
        multi_az: bool => update(Scalar),
        snapshot_retention_days: i32 => update(Scalar),
    },
    /// An S3 bucket holding audit logs (CloudTrail's).
    S3Bucket(BucketProps) = "s3_bucket" in "monitoring.cloudtrail" via "s3" named name {
        name: String => force_new(Scalar),
        /// Default encryption SSE-KMS with this key (`None`: SSE-S3).
        kms_key: Option<Ref> => update(Scalar),
        block_public_acls: bool => update(Scalar),
        ignore_public_acls: bool => update(Scalar),
        block_public_policy: bool => update(Scalar),
        restrict_public_buckets: bool => update(Scalar),
        versioning: bool => update(Scalar),
        /// Bucket policy, normalised (`null` when there is none).
        policy: serde_json::Value => update(Scalar),
        /// Objects (current and noncurrent versions) expire after this many days.
        expire_days: Option<i32> => update(Scalar),
    },
    /// A CloudTrail trail.
    Trail(TrailProps) = "trail" in "monitoring.cloudtrail" via "cloudtrail" named name {
        name: String => force_new(Scalar),
        bucket: Ref => update(Scalar),
        kms_key: Option<Ref> => update(Scalar),
        multi_region: bool => update(Scalar),
        global_service_events: bool => update(Scalar),
        log_file_validation: bool => update(Scalar),
        log_group: Option<Ref> => update(Scalar),
        cloudwatch_logs_role: Option<Ref> => update(Scalar),
        /// Management events recorded: `All`, `ReadOnly`, `WriteOnly`, or `None`.
        management_events: String => update(Scalar),
        /// Whether the trail is delivering (StartLogging / StopLogging).
        logging: bool => update(Scalar),
    },
    /// The region's GuardDuty detector.
    GuarddutyDetector(DetectorProps) = "guardduty_detector" in "monitoring.guardduty" via "guardduty" {
        enabled: bool => update(Scalar),
        /// `FIFTEEN_MINUTES`, `ONE_HOUR` or `SIX_HOURS`.
        finding_frequency: String => update(Scalar),
        /// Every protection plan GuardDuty has (`S3_DATA_EVENTS`, ...) → enabled.
        features: BTreeMap<String, bool> => update(Map),
    },
    /// The region's Security Hub (CSPM) and the security standards it checks against.
    SecurityHub(SecurityHubProps) = "security_hub" in "monitoring.security_hub" via "securityhub" {
        /// Subscribed standards by the resource part of their ARN, which is the same in
        /// every region (`standards/aws-foundational-security-best-practices/v/1.0.0`,
        /// `ruleset/cis-aws-foundations-benchmark/v/1.2.0`).
        standards: BTreeSet<String> => update(Set),
        /// Controls AWS adds to a subscribed standard later are enabled automatically.
        auto_enable_controls: bool => update(Scalar),
        /// One finding per control across standards (`SECURITY_CONTROL`) rather than one
        /// per standard (`STANDARD_CONTROL`).
        consolidated_control_findings: bool => update(Scalar),
    },
    /// An SNS topic alarms notify.
    SnsTopic(SnsTopicProps) = "sns_topic" in "monitoring.alert_topic" via "sns" named name {
        name: String => force_new(Scalar),
        /// Server-side encryption key (`None`: not encrypted).
        kms_key: Option<Ref> => update(Scalar),
        /// Topic policy, normalised (see `crate::policy`).
        policy: serde_json::Value => update(Scalar),
        /// Who is notified: e-mail addresses and HTTPS URLs (`https://...`); a subscription
        /// of another protocol found live reads `protocol:endpoint`.
        subscriptions: BTreeSet<String> => update(Set),
    },
    /// A CloudWatch Logs metric filter counting matching events into a metric.
    MetricFilter(MetricFilterProps) = "metric_filter" in "monitoring.alarms" via "logs" named name {
        /// `secinfra/<stack>/<name>`.
        name: String => force_new(Scalar),
        log_group: Ref => force_new(Scalar),
        pattern: String => update(Scalar),
        metric_namespace: String => update(Scalar),
        metric_name: String => update(Scalar),
    },
    /// A CloudWatch metric alarm.
    Alarm(AlarmProps) = "alarm" in "monitoring.alarms" via "cloudwatch" named name {
        /// `secinfra/<stack>/<name>`.
        name: String => force_new(Scalar),
        description: String => update(Scalar),
        namespace: String => update(Scalar),
        metric_name: String => update(Scalar),
        dimensions: BTreeMap<String, String> => update(Map),
        /// `Sum`, `Average`, ...
        statistic: String => update(Scalar),
        period_seconds: i32 => update(Scalar),
        evaluation_periods: i32 => update(Scalar),
        /// Whole numbers only, so plans compare exactly.
        threshold: i64 => update(Scalar),
        /// `GreaterThanOrEqualToThreshold`, ...
        comparison: String => update(Scalar),
        /// `notBreaching`, `breaching`, `ignore` or `missing`.
        treat_missing_data: String => update(Scalar),
        /// Notified when the alarm fires: SNS topics (the stack's, or others by ARN).
        actions: BTreeSet<Ref> => update(Set),
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kinds_name_is_its_serialized_name_and_its_props_round_trip() {
        for kind in Kind::ALL {
            assert_eq!(
                serde_json::to_value(kind).expect("kind"),
                serde_json::Value::String(kind.as_str().into())
            );
        }
        let seed = crate::testing::desired(crate::testing::SEED);
        for resource in seed.resources.values() {
            let kind = resource.props.kind();
            assert_eq!(kind, resource.address.kind);
            let back = Props::from_value(kind, resource.props.to_value()).expect("props");
            assert_eq!(back, resource.props, "{}", resource.address);
        }
    }

    #[test]
    fn references_are_found_in_every_field_that_holds_them() {
        use crate::model::{Address, Direction, Peer, Protocol, SecurityGroupRule};
        let seed = crate::testing::desired(crate::testing::SEED);
        let group = |name: &str| Ref::Address(Address::new(Kind::SecurityGroup, name));
        let Some(rds) = seed
            .resources
            .get(&Address::new(Kind::SecurityGroup, "rds"))
            .map(|r| r.props.clone())
        else {
            panic!("the seed declares security_group.rds");
        };
        let fields: BTreeSet<&str> = rds.refs().iter().map(|(field, _)| *field).collect();
        assert_eq!(fields, ["ingress", "vpc"].into());
        assert!(rds.refs().contains(&("ingress", &group("ecs"))));

        // Rules of a VPC's default group are mapped to addresses like any rule, but only
        // ever revoked: they order nothing.
        let mut vpc = Props::Vpc(VpcProps {
            cidr: "10.0.0.0/16".parse().expect("cidr"),
            dns_support: true,
            dns_hostnames: true,
            default_security_group_rules: Some(
                [SecurityGroupRule {
                    direction: Direction::Ingress,
                    protocol: Protocol::Tcp,
                    ports: Some((443, 443)),
                    peer: Peer::Group(Ref::External("sg-1".into())),
                }]
                .into(),
            ),
        });
        assert!(vpc.refs().is_empty());
        vpc.map_refs(&|_| group("app"));
        let Props::Vpc(VpcProps {
            default_security_group_rules: Some(rules),
            ..
        }) = &vpc
        else {
            panic!("a VPC");
        };
        assert!(rules.iter().all(|r| r.peer == Peer::Group(group("app"))));
    }
}
