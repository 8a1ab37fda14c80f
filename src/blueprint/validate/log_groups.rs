//! The incident log's group, and KMS encryption of the log groups the network, WAF and
//! incident log sections declare (the trail's
//! group takes the trail's key, in `monitoring.rs`): the group gets the key, and a
//! blueprint key's policy lets CloudWatch Logs use it for that group only.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::Checker;
use super::kms::KeyFacts;
use crate::blueprint::schema;
use crate::blueprint::span::Spanned;
use crate::blueprint::types::Blueprint;
use crate::model::{Address, Kind, LogGroupProps, Props, Ref, incident::INCIDENT_LOG};
use crate::naming;
use schemars::JsonSchema;
use serde::Deserialize;

/// Where `secinfra respond` writes its audit lines.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentLog {
    /// Log group name (created and managed by secinfra).
    #[schemars(transform = schema::log_group)]
    pub log_group: Spanned<String>,
    /// Days to keep the lines; one of CloudWatch Logs' retention values. Omit to keep forever.
    #[serde(default)]
    #[schemars(transform = schema::log_retention)]
    pub retention_days: Option<Spanned<i64>>,
    /// KMS key encrypting the group (`kms_key.logs`, an alias or an ARN); a blueprint key's
    /// policy gets the grant CloudWatch Logs needs, for this group only.
    #[serde(default)]
    pub kms_key: Option<Spanned<String>>,
    /// Deleting or replacing the group (and the record in it) is held unless this is false
    /// or the command gets --allow-delete-protected (default true).
    #[serde(default)]
    pub protect: Option<Spanned<bool>>,
}

impl Checker<'_> {
    pub(super) fn encrypt_log_groups(&mut self, bp: &Blueprint, keys: &BTreeMap<String, KeyFacts>) {
        let flow_logs_key = bp
            .network
            .as_ref()
            .and_then(|n| n.flow_logs.as_ref())
            .and_then(|f| f.kms_key.as_ref());
        if let Some(key) = flow_logs_key {
            self.encrypt_log_group(
                &Address::new(Kind::LogGroup, "flow-logs"),
                key,
                keys,
                "network.flow_logs.kms_key",
                "CloudWatchLogsEncryptFlowLogs",
            );
        }
        if let Some(key) = bp.incident_log.as_ref().and_then(|l| l.kms_key.as_ref()) {
            self.encrypt_log_group(
                &Address::new(Kind::LogGroup, INCIDENT_LOG),
                key,
                keys,
                "incident_log.kms_key",
                "CloudWatchLogsEncryptIncidentLog",
            );
        }
        for (acl, spec) in &bp.waf {
            let Some(key) = spec.logging.as_ref().and_then(|l| l.kms_key.as_ref()) else {
                continue;
            };
            let sid: String = format!("CloudWatchLogsEncryptWafLogs-{}", acl.value)
                .split(|c: char| !c.is_ascii_alphanumeric())
                .map(capitalized)
                .collect();
            self.encrypt_log_group(
                &Address::new(Kind::LogGroup, format!("waf-{}", acl.value)),
                key,
                keys,
                &format!("waf.{}.logging.kms_key", acl.value),
                &sid,
            );
        }
    }

    /// The group `secinfra respond` writes its audit lines to.
    pub(super) fn incident_log(&mut self, log: &IncidentLog) {
        let group = &log.log_group;
        if let Err(problem) = naming::check_log_group_name(&group.value) {
            self.error(
                group.span,
                "incident_log.log_group",
                format!("invalid log group name `{}`: {problem}", group.value),
            );
            return;
        }
        let retention = log
            .retention_days
            .as_ref()
            .and_then(|d| self.retention(d, "incident_log.retention_days"));
        self.add(
            group.span,
            Address::new(Kind::LogGroup, INCIDENT_LOG),
            Props::LogGroup(LogGroupProps {
                name: group.value.clone(),
                retention_days: retention,
                kms_key: None,
            }),
            super::protection_tags(log.protect.as_ref()),
        );
    }

    fn encrypt_log_group(
        &mut self,
        group: &Address,
        key: &Spanned<String>,
        keys: &BTreeMap<String, KeyFacts>,
        path: &str,
        sid: &str,
    ) {
        let Some(key_ref) = self.kms_key_ref(key, keys, path, "CloudWatch Logs") else {
            return;
        };
        // Absent when the group's own declaration had errors (already reported).
        let Some(Props::LogGroup(props)) = self.resources.get_mut(group).map(|r| &mut r.props)
        else {
            return;
        };
        props.kms_key = Some(key_ref.clone());
        let name = props.name.clone();
        if let Ref::Address(key) = key_ref {
            let region = self.region.clone().unwrap_or_else(|| "*".into());
            let account = self.account.clone().unwrap_or_else(|| "*".into());
            let statement = log_group_key_statement(sid, &region, &account, &name);
            self.grant_key(&key, vec![statement]);
        }
    }
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// What a key's policy must allow for CloudWatch Logs to encrypt the log group named
/// `group` with it, and nothing else.
pub(super) fn log_group_key_statement(
    sid: &str,
    region: &str,
    account: &str,
    group: &str,
) -> Value {
    let partition = naming::partition(region);
    json!({
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": format!("logs.{region}.amazonaws.com")},
        "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        "Resource": "*",
        "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": format!("arn:{partition}:logs:{region}:{account}:log-group:{group}")}},
    })
}

#[cfg(test)]
mod tests {
    use crate::model::{Kind, Props, Ref};
    use crate::testing::desired;

    #[test]
    fn declared_keys_encrypt_flow_and_waf_log_groups_and_are_granted_for_them_only() {
        let desired = desired(
            "version: 1\nstack: shop\nregion: us-east-1\n\
             network:\n  vpc: { cidr: 10.0.0.0/16 }\n  subnets: { a: { cidr: 10.0.1.0/24, az: a, tier: isolated } }\n  \
             flow_logs: { log_group: /shop/flow, kms_key: kms_key.logs }\n\
             kms:\n  keys:\n    logs: { description: logs }\n\
             waf:\n  edge-api:\n    rules: [ { managed: AWSManagedRulesCommonRuleSet } ]\n    \
             logging: { log_group: aws-waf-logs-shop, kms_key: alias/shared-logs }\n",
        );
        let group = |name: &str| match &desired.resources
            [&format!("log_group.{name}").parse().unwrap()]
            .props
        {
            Props::LogGroup(p) => p.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            group("flow-logs").kms_key,
            Some(Ref::Address(crate::model::Address::new(
                Kind::KmsKey,
                "logs"
            )))
        );
        assert_eq!(
            group("waf-edge-api").kms_key,
            Some(Ref::External("alias/shared-logs".into()))
        );
        let Props::KmsKey(key) = &desired.resources[&"kms_key.logs".parse().unwrap()].props else {
            panic!("a key");
        };
        let policy = key.policy.to_string();
        assert!(policy.contains("CloudWatchLogsEncryptFlowLogs"), "{policy}");
        assert!(
            policy.contains("arn:aws:logs:us-east-1:123456789012:log-group:/shop/flow"),
            "{policy}"
        );
        // A key given by alias is not the blueprint's: its policy is not changed.
        assert!(!policy.contains("WafLogs"), "{policy}");
    }
}
