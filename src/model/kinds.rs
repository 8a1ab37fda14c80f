//! The one table of resource kinds: each declared once, with its props type and its name
//! in addresses and plans. The `Kind` enum, `Kind::ALL`, `Kind::as_str`, the `Props` enum
//! and its kind, JSON and back are all generated from it; what else a kind needs is in
//! `kind.rs` (its fields and how each changes, ordering, protection) and its provider.

use super::props::*;

/// Declares every kind: `Variant(PropsType) = "name"`, in planning order.
macro_rules! kinds {
    ($( $variant:ident ( $props:ty ) = $name:literal ),* $(,)?) => {
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
    Vpc(VpcProps) = "vpc",
    Subnet(SubnetProps) = "subnet",
    InternetGateway(InternetGatewayProps) = "internet_gateway",
    ElasticIp(ElasticIpProps) = "elastic_ip",
    NatGateway(NatGatewayProps) = "nat_gateway",
    RouteTable(RouteTableProps) = "route_table",
    SecurityGroup(SecurityGroupProps) = "security_group",
    LogGroup(LogGroupProps) = "log_group",
    IamRole(IamRoleProps) = "iam_role",
    FlowLog(FlowLogProps) = "flow_log",
    KmsKey(KmsKeyProps) = "kms_key",
    Secret(SecretProps) = "secret",
    IpSet(IpSetProps) = "ip_set",
    WebAcl(WebAclProps) = "web_acl",
    DbSubnetGroup(SubnetGroupProps) = "db_subnet_group",
    DbParameterGroup(DbParameterGroupProps) = "db_parameter_group",
    DbInstance(DbInstanceProps) = "db_instance",
    CacheSubnetGroup(SubnetGroupProps) = "cache_subnet_group",
    CacheReplicationGroup(CacheReplicationGroupProps) = "cache_replication_group",
    S3Bucket(BucketProps) = "s3_bucket",
    Trail(TrailProps) = "trail",
    GuarddutyDetector(DetectorProps) = "guardduty_detector",
    SecurityHub(SecurityHubProps) = "security_hub",
    MetricFilter(MetricFilterProps) = "metric_filter",
    Alarm(AlarmProps) = "alarm",
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
