//! Where the blueprint declares each resource, so an error AWS gives about one points back
//! at the line a user edits: the key of its entry (`security_groups.rds`), or for the
//! resources a section implies (the VPC's route tables, the trail's bucket), a line of
//! that section.

use std::collections::BTreeMap;

use super::Loaded;
use super::span::{Span, Spanned};
use super::types::{Blueprint, Name};
use crate::model::{Address, Kind};

/// `file:line:column` of the declaration of every address `loaded` can place.
pub fn declarations<'a>(
    loaded: &Loaded,
    addresses: impl IntoIterator<Item = &'a Address>,
) -> BTreeMap<Address, String> {
    addresses
        .into_iter()
        .filter_map(|address| {
            let span = declared_at(&loaded.blueprint, address)?;
            span.is_known().then(|| {
                (
                    address.clone(),
                    format!("{}:{}:{}", loaded.source.name, span.line, span.column),
                )
            })
        })
        .collect()
}

fn key<T>(entries: &BTreeMap<Name, T>, name: &str) -> Option<Span> {
    entries.keys().find(|k| k.value == name).map(|k| k.span)
}

fn first<T>(spans: impl IntoIterator<Item = Option<Spanned<T>>>) -> Option<Span> {
    spans.into_iter().flatten().map(|s| s.span).next()
}

/// Where `address` is declared, as far as the blueprint says.
pub fn declared_at(bp: &Blueprint, address: &Address) -> Option<Span> {
    let name = address.name.as_str();
    let network = bp.network.as_ref();
    let vpc = network.map(|n| n.vpc.cidr.span);
    let flow_logs = network
        .and_then(|n| n.flow_logs.as_ref())
        .map(|f| f.log_group.span);
    let monitoring = bp.monitoring.as_ref();
    let trail = monitoring
        .and_then(|m| m.cloudtrail.as_ref())
        .map(|t| t.kms_key.span);
    match address.kind {
        Kind::SecurityGroup => key(&bp.security_groups, name),
        Kind::Subnet => key(&network?.subnets, name),
        Kind::ElasticIp | Kind::NatGateway => key(&network?.subnets, name).or(vpc),
        Kind::Vpc | Kind::InternetGateway | Kind::RouteTable => vpc,
        Kind::FlowLog => flow_logs,
        Kind::LogGroup | Kind::IamRole => match name {
            "flow-logs" => flow_logs,
            "cloudtrail" => trail,
            crate::model::incident::INCIDENT_LOG => {
                bp.incident_log.as_ref().map(|l| l.log_group.span)
            }
            _ => {
                let acl = name.strip_prefix("waf-")?;
                let logging = bp
                    .waf
                    .iter()
                    .find(|(k, _)| k.value == acl)?
                    .1
                    .logging
                    .as_ref();
                logging.map(|l| l.log_group.span)
            }
        },
        Kind::KmsKey => key(&bp.kms.as_ref()?.keys, name),
        Kind::Secret => key(&bp.secrets, name),
        Kind::WebAcl => key(&bp.waf, name),
        Kind::IpSet => match crate::model::incident_acl(name) {
            Some(acl) => bp
                .waf
                .iter()
                .find(|(k, _)| k.value == acl)?
                .1
                .incident_block
                .as_ref()
                .map(|b| b.span),
            None => key(&bp.waf, name.strip_suffix("-blocked")?),
        },
        Kind::DbSubnetGroup | Kind::DbParameterGroup | Kind::DbInstance => key(&bp.databases, name),
        Kind::CacheSubnetGroup | Kind::CacheReplicationGroup => key(&bp.caches, name),
        Kind::S3Bucket | Kind::Trail => trail,
        Kind::GuarddutyDetector => {
            let guardduty = monitoring?.guardduty.as_ref()?;
            first([
                guardduty.enabled.clone(),
                guardduty
                    .features
                    .first()
                    .map(|f| Spanned::new(true, f.span)),
            ])
            .or_else(|| first([guardduty.finding_frequency.clone()]))
        }
        Kind::SecurityHub => {
            let hub = monitoring?.security_hub.as_ref()?;
            first([
                hub.enabled.clone(),
                hub.standards.first().map(|s| Spanned::new(true, s.span)),
            ])
        }
        Kind::SnsTopic => Some(monitoring?.alert_topic.as_ref()?.kms_key.span),
        Kind::MetricFilter | Kind::Alarm => {
            let monitoring = monitoring?;
            first([monitoring.alarms.as_ref()?.sns_topic.clone()])
                .or_else(|| monitoring.alert_topic.as_ref().map(|t| t.kms_key.span))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blueprint::{Source, load_source};

    #[test]
    fn every_resource_of_the_seed_points_at_its_declaration() {
        let loaded = load_source(
            Source::from_string("api-platform.yaml", crate::testing::SEED),
            None,
        )
        .expect("seed");
        let desired = crate::testing::desired(crate::testing::SEED);
        let declared = declarations(&loaded, desired.resources.keys());
        let lines: Vec<&str> = crate::testing::SEED.lines().collect();
        let line_of = |address: &str| -> &str {
            let at = &declared[&address.parse::<Address>().expect("address")];
            let line: usize = at.split(':').nth(1).expect("line").parse().expect("number");
            lines[line - 1]
        };
        assert!(
            line_of("security_group.rds")
                .trim_start()
                .starts_with("rds:")
        );
        assert!(
            line_of("db_instance.main")
                .trim_start()
                .starts_with("main:")
        );
        assert!(line_of("subnet.data-az1").contains("data-az1:"));
        assert!(
            line_of("kms_key.secrets")
                .trim_start()
                .starts_with("secrets:")
        );
        assert!(line_of("log_group.flow-logs").contains("log_group:"));
        assert!(
            line_of("ip_set.api-blocked")
                .trim_start()
                .starts_with("api:")
        );
        let unplaced: Vec<String> = desired
            .resources
            .keys()
            .filter(|a| !declared.contains_key(*a))
            .map(|a| a.to_string())
            .collect();
        assert_eq!(unplaced, Vec::<String>::new(), "every resource is placed");
    }
}
