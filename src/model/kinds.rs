//! The one table of resource kinds: each declared once, with its props type, its name in
//! addresses and plans, and its compared fields with how each one changes. The `Kind`
//! enum, `Kind::ALL`, `Kind::as_str`, `Kind::fields`, the `Props` enum and its kind, JSON
//! and back are all generated from it; the rest of what a kind needs (ordering,
//! protection) is in `kind.rs`, and talking to AWS in its provider.

use super::kind::{
    CreateOnly, Field, ForceNew, Keyed, Link, Map, Scalar, Set, Update, field, sensitive,
};
use super::props::*;

/// Declares every kind: `Variant(PropsType) = "name" [fields]`, in planning order.
macro_rules! kinds {
    ($( $variant:ident ( $props:ty ) = $name:literal [ $($field:expr),* $(,)? ] ),* $(,)?) => {
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

            /// The fields of this kind's properties, in display order, and how each one
            /// changes (`every_property_of_every_kind_is_in_its_field_table` ties them to
            /// the props).
            pub fn fields(self) -> &'static [Field] {
                match self { $(Kind::$variant => const { &[$($field),*] }),* }
            }
        }

        /// Properties of one resource, by kind.
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub enum Props { $($variant($props)),* }

        impl Props {
            pub fn kind(&self) -> Kind {
                match self { $(Props::$variant(_) => Kind::$variant),* }
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
    Vpc(VpcProps) = "vpc" [
        field("cidr", ForceNew, Scalar),
        field("dns_support", Update, Scalar),
        field("dns_hostnames", Update, Scalar),
        field("default_security_group_rules", Update, Set),
    ],
    Subnet(SubnetProps) = "subnet" [
        field("vpc", ForceNew, Scalar),
        field("cidr", ForceNew, Scalar),
        field("availability_zone", ForceNew, Scalar),
        field("map_public_ip_on_launch", Update, Scalar),
    ],
    InternetGateway(InternetGatewayProps) = "internet_gateway" [
        field("vpc", ForceNew, Scalar),
    ],
    ElasticIp(ElasticIpProps) = "elastic_ip" [
        field("domain", ForceNew, Scalar),
    ],
    NatGateway(NatGatewayProps) = "nat_gateway" [
        field("subnet", ForceNew, Scalar),
        field("elastic_ip", ForceNew, Scalar),
        field("connectivity_type", ForceNew, Scalar),
    ],
    RouteTable(RouteTableProps) = "route_table" [
        field("vpc", ForceNew, Scalar),
        field("routes", Link, Map),
        field("subnets", Link, Set),
    ],
    SecurityGroup(SecurityGroupProps) = "security_group" [
        field("vpc", ForceNew, Scalar),
        field("group_name", ForceNew, Scalar),
        field("description", ForceNew, Scalar),
        field("ingress", Link, Set),
        field("egress", Link, Set),
    ],
    LogGroup(LogGroupProps) = "log_group" [
        field("name", ForceNew, Scalar),
        field("retention_days", Update, Scalar),
        field("kms_key", Update, Scalar),
    ],
    IamRole(IamRoleProps) = "iam_role" [
        field("name", ForceNew, Scalar),
        field("path", ForceNew, Scalar),
        field("assume_role_policy", Update, Scalar),
        field("policy", Update, Scalar),
    ],
    FlowLog(FlowLogProps) = "flow_log" [
        field("vpc", ForceNew, Scalar),
        field("traffic_type", ForceNew, Scalar),
        field("log_group", ForceNew, Scalar),
        field("deliver_logs_role", ForceNew, Scalar),
        field("max_aggregation_interval", ForceNew, Scalar),
    ],
    KmsKey(KmsKeyProps) = "kms_key" [
        field("description", Update, Scalar),
        field("key_usage", ForceNew, Scalar),
        field("key_spec", ForceNew, Scalar),
        field("state", Update, Scalar),
        field("rotation_enabled", Update, Scalar),
        field("rotation_period_days", Update, Scalar),
        field("policy", Update, Scalar),
        field("aliases", Update, Set),
    ],
    Secret(SecretProps) = "secret" [
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
    ],
    IpSet(IpSetProps) = "ip_set" [
        field("name", ForceNew, Scalar),
        field("scope", ForceNew, Scalar),
        field("ip_version", ForceNew, Scalar),
        field("addresses", Update, Set),
    ],
    WebAcl(WebAclProps) = "web_acl" [
        field("name", ForceNew, Scalar),
        field("scope", ForceNew, Scalar),
        field("description", Update, Scalar),
        field("default_action", Update, Scalar),
        field("rules", Update, Keyed("name")),
        field("logging", Update, Scalar),
        field("associations", Update, Set),
    ],
    DbSubnetGroup(SubnetGroupProps) = "db_subnet_group" [
        field("name", ForceNew, Scalar),
        field("description", Update, Scalar),
        field("subnets", Update, Set),
    ],
    DbParameterGroup(DbParameterGroupProps) = "db_parameter_group" [
        field("name", ForceNew, Scalar),
        field("family", ForceNew, Scalar),
        field("description", ForceNew, Scalar),
        field("parameters", Update, Map),
    ],
    DbInstance(DbInstanceProps) = "db_instance" [
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
    ],
    CacheSubnetGroup(SubnetGroupProps) = "cache_subnet_group" [
        field("name", ForceNew, Scalar),
        field("description", Update, Scalar),
        field("subnets", Update, Set),
    ],
    CacheReplicationGroup(CacheReplicationGroupProps) = "cache_replication_group" [
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
    ],
    S3Bucket(BucketProps) = "s3_bucket" [
        field("name", ForceNew, Scalar),
        field("kms_key", Update, Scalar),
        field("block_public_acls", Update, Scalar),
        field("ignore_public_acls", Update, Scalar),
        field("block_public_policy", Update, Scalar),
        field("restrict_public_buckets", Update, Scalar),
        field("versioning", Update, Scalar),
        field("policy", Update, Scalar),
        field("expire_days", Update, Scalar),
    ],
    Trail(TrailProps) = "trail" [
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
    ],
    GuarddutyDetector(DetectorProps) = "guardduty_detector" [
        field("enabled", Update, Scalar),
        field("finding_frequency", Update, Scalar),
        field("features", Update, Map),
    ],
    SecurityHub(SecurityHubProps) = "security_hub" [
        field("standards", Update, Set),
        field("auto_enable_controls", Update, Scalar),
        field("consolidated_control_findings", Update, Scalar),
    ],
    MetricFilter(MetricFilterProps) = "metric_filter" [
        field("name", ForceNew, Scalar),
        field("log_group", ForceNew, Scalar),
        field("pattern", Update, Scalar),
        field("metric_namespace", Update, Scalar),
        field("metric_name", Update, Scalar),
    ],
    Alarm(AlarmProps) = "alarm" [
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
    ],
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
}
