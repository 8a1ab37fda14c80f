//! The audit's rules: each requirement of the seed security architecture as an id, a
//! severity, why it matters, the seed control it enforces, the Prowler and Checkov checks
//! that judge the same thing (ids as in Prowler 5.46 and Checkov 3.3), and a check over
//! the model. Ids are stable: suppressions and SARIF consumers refer to them.

use std::collections::BTreeSet;
use std::fmt;

use ipnet::IpNet;

use super::{Inventory, Severity};
use crate::model::{Address, InitialValue, Kind, Peer, Props, Protocol, Ref, WafStatement};

/// A resource (or the stack, `None`) and what is wrong with it.
pub type Hit = (Option<Address>, String);

pub struct Rule {
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    pub rationale: &'static str,
    /// The seed architecture's requirement, in its words.
    pub control: &'static str,
    pub prowler: &'static [&'static str],
    pub checkov: &'static [&'static str],
    pub check: fn(&Inventory<'_>, &mut Vec<Hit>),
}

impl PartialEq for Rule {
    fn eq(&self, other: &Rule) -> bool {
        self.id == other.id
    }
}

impl Eq for Rule {}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id)
    }
}

pub static RULES: &[Rule] = &[
    Rule {
        id: "SI001",
        title: "No ingress from the internet except HTTPS to a load balancer",
        severity: Severity::High,
        rationale: "Only the load balancer faces the internet, and only on 443; every other \
                    tier is reached through the group in front of it. Prowler flags 443 from \
                    0.0.0.0/0 too (ec2_securitygroup_allow_ingress_from_internet_to_any_port); \
                    secinfra accepts it on a load balancer's group (named alb, nlb, elb or lb, \
                    alone or as a hyphenated part) because that is the seed's design.",
        control: "ALB SG: Allow 443 from 0.0.0.0/0; Security groups with least privilege",
        prowler: &[
            "ec2_securitygroup_allow_ingress_from_internet_to_any_port",
            "ec2_securitygroup_allow_ingress_from_internet_to_all_ports",
            "ec2_securitygroup_allow_ingress_from_internet_to_high_risk_tcp_ports",
        ],
        checkov: &["CKV_AWS_24", "CKV_AWS_25", "CKV_AWS_260", "CKV_AWS_277"],
        check: internet_ingress,
    },
    Rule {
        id: "SI002",
        title: "Databases and caches are reached only from application security groups",
        severity: Severity::High,
        rationale: "A data store's groups admit other security groups only (the application \
                    tier), never address ranges, and a database is never publicly accessible.",
        control: "RDS SG: Allow 5432 from ECS SG only; Redis SG: Allow 6379 from ECS SG only",
        prowler: &[
            "rds_instance_no_public_access",
            "ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_postgres_5432",
            "ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_redis_6379",
        ],
        checkov: &["CKV_AWS_17"],
        check: data_store_ingress,
    },
    Rule {
        id: "SI003",
        title: "The default security group allows nothing",
        severity: Severity::Medium,
        rationale: "Anything launched without a group gets the VPC's default group; with its \
                    rules removed it reaches and is reached by nothing (CIS 5.4).",
        control: "Security groups with least privilege",
        prowler: &["ec2_securitygroup_default_restrict_traffic"],
        checkov: &["CKV2_AWS_12"],
        check: default_security_group,
    },
    Rule {
        id: "SI004",
        title: "Every VPC has flow logs",
        severity: Severity::Medium,
        rationale: "Flow logs are the record of who talked to what, needed to investigate.",
        control: "VPC Flow Logs enabled for monitoring",
        prowler: &["vpc_flow_logs_enabled"],
        checkov: &["CKV2_AWS_11"],
        check: flow_logs,
    },
    Rule {
        id: "SI005",
        title: "Every KMS key rotates",
        severity: Severity::Medium,
        rationale: "Automatic rotation limits how much data one key version protects.",
        control: "Secrets encrypted with dedicated KMS key per environment",
        prowler: &["kms_cmk_rotation_enabled"],
        checkov: &["CKV_AWS_7"],
        check: key_rotation,
    },
    Rule {
        id: "SI006",
        title: "Every secret is encrypted with a customer managed key",
        severity: Severity::Medium,
        rationale: "The environment's own key decides who may decrypt a secret; the AWS \
                    managed key lets anyone with secretsmanager access in the account.",
        control: "Secrets encrypted with dedicated KMS key per environment",
        prowler: &[],
        checkov: &["CKV_AWS_149"],
        check: secret_key,
    },
    Rule {
        id: "SI007",
        title: "Database credentials rotate at least every 30 days",
        severity: Severity::High,
        rationale: "A leaked database password is useful to an attacker until it rotates.",
        control: "Automatic rotation: 30-day intervals for DB credentials",
        prowler: &[
            "secretsmanager_automatic_rotation_enabled",
            "secretsmanager_secret_rotated_periodically",
        ],
        checkov: &["CKV2_AWS_57", "CKV_AWS_304"],
        check: database_credentials_rotation,
    },
    Rule {
        id: "SI008",
        title: "Signing keys rotate at least every 90 days",
        severity: Severity::High,
        rationale: "Tokens signed with a stolen key are accepted until the key rotates.",
        control: "Key Rotation: Automatic every 90 days via AWS Secrets Manager",
        prowler: &[
            "secretsmanager_automatic_rotation_enabled",
            "secretsmanager_secret_rotated_periodically",
        ],
        checkov: &["CKV2_AWS_57", "CKV_AWS_304"],
        check: signing_key_rotation,
    },
    Rule {
        id: "SI009",
        title: "Databases are encrypted with a customer managed key",
        severity: Severity::High,
        rationale: "Storage, snapshots and backups are encrypted under a key the stack \
                    controls and can audit.",
        control: "Database (RDS): KMS keys, AES-256; Encryption at rest (RDS, S3)",
        prowler: &["rds_instance_storage_encrypted"],
        checkov: &["CKV_AWS_16"],
        check: database_encryption,
    },
    Rule {
        id: "SI010",
        title: "Database backups are kept at least 30 days",
        severity: Severity::Medium,
        rationale: "Recovery needs backups older than the last undetected incident.",
        control: "Backup: Encrypted snapshots, retained 30 days",
        prowler: &["rds_instance_backup_enabled"],
        checkov: &["CKV_AWS_133"],
        check: database_backups,
    },
    Rule {
        id: "SI011",
        title: "Databases accept TLS connections only",
        severity: Severity::High,
        rationale: "Without rds.force_ssl a client may send credentials and data in clear.",
        control: "All traffic: TLS 1.3 mandatory",
        prowler: &["rds_instance_transport_encrypted"],
        checkov: &["CKV2_AWS_69"],
        check: database_tls,
    },
    Rule {
        id: "SI012",
        title: "Databases have deletion protection",
        severity: Severity::Medium,
        rationale: "One mistaken call must not delete the production database.",
        control: "Recovery: Backup restoration procedure",
        prowler: &["rds_instance_deletion_protection"],
        checkov: &["CKV_AWS_293"],
        check: database_deletion_protection,
    },
    Rule {
        id: "SI013",
        title: "Redis encrypts traffic in transit",
        severity: Severity::High,
        rationale: "Session data and the AUTH token travel in clear without TLS.",
        control: "Redis: TLS encryption in transit (ElastiCache)",
        prowler: &["elasticache_redis_cluster_in_transit_encryption_enabled"],
        checkov: &["CKV_AWS_30"],
        check: cache_tls,
    },
    Rule {
        id: "SI014",
        title: "Redis is encrypted at rest with a customer managed key",
        severity: Severity::High,
        rationale: "Snapshots and swap of the cache hold session data.",
        control: "Encryption at rest",
        prowler: &["elasticache_redis_cluster_rest_encryption_enabled"],
        checkov: &["CKV_AWS_29", "CKV_AWS_191"],
        check: cache_at_rest,
    },
    Rule {
        id: "SI015",
        title: "Web ACLs block SQL injection, XSS, known bad inputs, blocked countries and floods",
        severity: Severity::High,
        rationale: "The AWS managed SQLi, common (XSS) and known-bad-inputs groups, a geo \
                    block and a rate limit, each blocking (not counting), are the seed's WAF.",
        control: "WAF rules: SQL injection, XSS, geo-blocking; API Gateway: WAF with rate limiting",
        prowler: &[
            "wafv2_webacl_with_rules",
            "wafv2_webacl_managed_rule_groups_enabled",
        ],
        checkov: &["CKV_AWS_175", "CKV_AWS_192"],
        check: waf_rules,
    },
    Rule {
        id: "SI016",
        title: "Web ACLs log requests",
        severity: Severity::Medium,
        rationale: "Blocked and allowed requests are evidence in an investigation.",
        control: "Audit logging",
        prowler: &["wafv2_webacl_logging_enabled"],
        checkov: &["CKV2_AWS_31"],
        check: waf_logging,
    },
    Rule {
        id: "SI017",
        title: "A multi-region CloudTrail trail is logging",
        severity: Severity::High,
        rationale: "Every API call in every region is recorded, including in regions the \
                    stack does not use.",
        control: "CloudTrail: All API calls logged",
        prowler: &["cloudtrail_multi_region_enabled"],
        checkov: &["CKV_AWS_67", "CKV_AWS_251"],
        check: trail_multi_region,
    },
    Rule {
        id: "SI018",
        title: "CloudTrail validates its log files",
        severity: Severity::Medium,
        rationale: "Digest files prove the logs were not altered after delivery.",
        control: "Audit logging",
        prowler: &["cloudtrail_log_file_validation_enabled"],
        checkov: &["CKV_AWS_36"],
        check: trail_validation,
    },
    Rule {
        id: "SI019",
        title: "CloudTrail logs are encrypted with a customer managed key",
        severity: Severity::Medium,
        rationale: "Reading the logs then needs the key as well as the bucket.",
        control: "S3 Buckets: Server-side encryption with KMS (SSE-KMS)",
        prowler: &["cloudtrail_kms_encryption_enabled"],
        checkov: &["CKV_AWS_35"],
        check: trail_encryption,
    },
    Rule {
        id: "SI020",
        title: "CloudTrail delivers to CloudWatch Logs",
        severity: Severity::Medium,
        rationale: "Metric filters and alarms on API calls need the events in CloudWatch Logs.",
        control: "Detection: Automated alerts via CloudWatch",
        prowler: &["cloudtrail_cloudwatch_logging_enabled"],
        checkov: &["CKV2_AWS_10"],
        check: trail_cloudwatch,
    },
    Rule {
        id: "SI021",
        title: "GuardDuty is enabled",
        severity: Severity::High,
        rationale: "Threat detection over CloudTrail, VPC flow and DNS logs.",
        control: "GuardDuty: Threat detection enabled",
        prowler: &["guardduty_is_enabled"],
        checkov: &["CKV2_AWS_3", "CKV_AWS_238"],
        check: guardduty,
    },
    Rule {
        id: "SI022",
        title: "Security Hub is enabled",
        severity: Severity::Medium,
        rationale: "Findings from GuardDuty and the standards' checks in one place.",
        control: "Security Hub: Centralized findings",
        prowler: &["securityhub_enabled"],
        checkov: &[],
        check: security_hub,
    },
    Rule {
        id: "SI023",
        title: "Log groups keep events at least 90 days",
        severity: Severity::Medium,
        rationale: "Investigations reach back further than a week or a month.",
        control: "Data retention: 90 days for logs",
        prowler: &["cloudwatch_log_group_retention_policy_specific_days_enabled"],
        checkov: &["CKV_AWS_66"],
        check: log_retention,
    },
    Rule {
        id: "SI024",
        title: "Log groups are encrypted with a customer managed key",
        severity: Severity::Medium,
        rationale: "Logs hold addresses, identities and request details.",
        control: "Encryption at rest",
        prowler: &["cloudwatch_log_group_kms_encryption_enabled"],
        checkov: &["CKV_AWS_158"],
        check: log_encryption,
    },
];

/// The most days between rotations of database credentials and of signing keys.
const DATABASE_CREDENTIALS_DAYS: i64 = 30;
const SIGNING_KEY_DAYS: i64 = 90;
const BACKUP_DAYS: i32 = 30;
const LOG_RETENTION_DAYS: i32 = 90;

fn is_internet(net: &IpNet) -> bool {
    net.prefix_len() == 0
}

/// A load balancer's group, by the name the blueprint gives it (`alb`, `public-lb`).
fn is_load_balancer_group(address: &Address) -> bool {
    address
        .name
        .split(['-', '_'])
        .any(|part| matches!(part, "alb" | "nlb" | "elb" | "lb"))
}

/// Whether `key` names a customer managed key: one of the stack's keys, or a key ARN or
/// id other than an AWS managed alias (`alias/aws/...`).
fn customer_key(key: Option<&Ref>) -> bool {
    match key {
        Some(Ref::Address(a)) => a.kind == Kind::KmsKey,
        Some(Ref::External(id)) => !id.contains("alias/aws/"),
        None => false,
    }
}

fn by_kind<'i, 'a>(
    inventory: &'i Inventory<'a>,
    kind: Kind,
) -> impl Iterator<Item = (&'a Address, &'a Props)> + 'i {
    inventory.all().filter(move |(a, _)| a.kind == kind)
}

fn hit(hits: &mut Vec<Hit>, address: &Address, message: impl Into<String>) {
    hits.push((Some(address.clone()), message.into()));
}

fn internet_ingress(inventory: &Inventory<'_>, hits: &mut Vec<Hit>) {
    for (address, props) in by_kind(inventory, Kind::SecurityGroup) {
        let Props::SecurityGroup(group) = props else {
            continue;
        };
        for rule in &group.ingress {
            let Peer::Cidr(net) = &rule.peer else {
                continue;
            };
            if !is_internet(net) {
                continue;
            }
            let https_only = rule.protocol == Protocol::Tcp && rule.ports == Some((443, 443));
            if https_only && is_load_balancer_group(address) {
                continue;
            }
            let what = if https_only {
                "443 from the internet on a group that is not a load balancer's (name it alb, \
                 nlb, elb or lb, or put the service behind one)"
                    .to_string()
            } else {
                format!(
                    "`{rule}` opens it to the internet; allow only 443 on the load balancer's group and reach the rest through groups"
                )
            };
            hit(hits, address, what);
        }
    }
}

fn data_store_ingress(inventory: &Inventory<'_>, hits: &mut Vec<Hit>) {
    let mut groups = BTreeSet::new();
    for (address, props) in inventory.all() {
        let used = match props {
            Props::DbInstance(db) => {
                if db.publicly_accessible {
                    hit(
                        hits,
                        address,
                        "publicly accessible: set publicly_accessible false (reach it from the application's group)",
                    );
                }
                &db.security_groups
            }
            Props::CacheReplicationGroup(cache) => &cache.security_groups,
            _ => continue,
        };
        groups.extend(used.iter().filter_map(Ref::address).cloned());
    }
    for group in groups {
        let Some(Props::SecurityGroup(props)) = inventory.get(&group) else {
            continue;
        };
        for rule in &props.ingress {
            if !matches!(rule.peer, Peer::Group(_)) {
                hit(
                    hits,
                    &group,
                    format!(
                        "`{rule}` on a database's or cache's group; admit the application's security group instead"
                    ),
                );
            }
        }
    }
}

fn default_security_group(inventory: &Inventory<'_>, hits: &mut Vec<Hit>) {
    for (address, props) in by_kind(inventory, Kind::Vpc) {
        let Props::Vpc(vpc) = props else { continue };
        match &vpc.default_security_group_rules {
            Some(rules) if rules.is_empty() => {}
            Some(rules) => hit(
                hits,
                address,
                format!(
                    "the default security group has {} rule(s); set network.vpc.restrict_default_security_group: true",
                    rules.len()
                ),
            ),
            None => hit(
                hits,
                address,
                "the default security group keeps AWS's rules; set network.vpc.restrict_default_security_group: true",
            ),
        }
    }
}

fn flow_logs(inventory: &Inventory<'_>, hits: &mut Vec<Hit>) {
    let logged: BTreeSet<&Address> = by_kind(inventory, Kind::FlowLog)
        .filter_map(|(_, props)| match props {
            Props::FlowLog(f) => f.vpc.address(),
            _ => None,
        })
        .collect();
    for (address, _) in by_kind(inventory, Kind::Vpc) {
        if !logged.contains(address) {
            hit(
                hits,
                address,
                "no flow log; add network.flow_logs (traffic ALL, a log group with a key)",
            );
        }
    }
}

fn key_rotation(inventory: &Inventory<'_>, hits: &mut Vec<Hit>) {
    for (address, props) in by_kind(inventory, Kind::KmsKey) {
        let Props::KmsKey(key) = props else { continue };
        // Only symmetric encryption keys rotate automatically (KMS EnableKeyRotation).
        if key.key_spec == "SYMMETRIC_DEFAULT" && !key.rotation_enabled {
            hit(
                hits,
                address,
                "automatic rotation is off; set rotation_days (90 to 2560)",
            );
        }
    }
}

fn secret_key(inventory: &Inventory<'_>, hits: &mut Vec<Hit>) {
    for (address, props) in by_kind(inventory, Kind::Secret) {
        let Props::Secret(secret) = props else {
            continue;
        };
        if !customer_key(secret.kms_key.as_ref()) {
            hit(
                hits,
                address,
                "encrypted with the AWS managed key; set kms_key to one of the stack's keys",
            );
        }
    }
}

/// What a secret holds, from the recipe of its first value (only the blueprint knows it)
/// or its name.
fn secret_holds(inventory: &Inventory<'_>, address: &Address, name: &str) -> Option<&'static str> {
    let recipe = match inventory.declared_props(address) {
        Some(Props::Secret(s)) => s.initial_value.clone(),
        _ => None,
    };
    let words: Vec<&str> = name.split(['-', '_', '/', '.']).collect();
    let named = |list: &[&str]| words.iter().any(|w| list.contains(w));
    match recipe {
        Some(InitialValue::Rsa { .. }) => Some("signing key"),
        Some(InitialValue::Password {
            username: Some(_), ..
        }) => Some("database credentials"),
        _ if named(&["jwt", "signing"]) => Some("signing key"),
        _ if named(&["db", "database", "rds", "postgres", "postgresql", "mysql"]) => {
            Some("database credentials")
        }
        _ => None,
    }
}

fn rotation_within(inventory: &Inventory<'_>, hits: &mut Vec<Hit>, holds: &str, most_days: i64) {
    for (address, props) in by_kind(inventory, Kind::Secret) {
        let Props::Secret(secret) = props else {
            continue;
        };
        if secret_holds(inventory, address, &address.name) != Some(holds) {
            continue;
        }
        if !secret.rotation_enabled {
            hit(
                hits,
                address,
                format!(
                    "{holds} that never rotate; set rotation: {{ every_days: {most_days}, lambda: ... }}"
                ),
            );
        } else if let Some(days) = secret.rotation_every_days.filter(|d| *d > most_days) {
            hit(
                hits,
                address,
                format!("{holds} rotate every {days} days; at most every {most_days}"),
            );
        }
    }
}

fn database_credentials_rotation(inventory: &Inventory<'_>, hits: &mut Vec<Hit>) {
    rotation_within(
        inventory,
        hits,
        "database credentials",
        DATABASE_CREDENTIALS_DAYS,
    );
}

fn signing_key_rotation(inventory: &Inventory<'_>, hits: &mut Vec<Hit>) {
    rotation_within(inventory, hits, "signing key", SIGNING_KEY_DAYS);
}

fn databases<'i, 'a>(
    inventory: &'i Inventory<'a>,
) -> impl Iterator<Item = (&'a Address, &'a crate::model::DbInstanceProps)> + 'i {
    by_kind(inventory, Kind::DbInstance).filter_map(|(a, p)| match p {
        Props::DbInstance(db) => Some((a, db)),
        _ => None,
    })
}

fn database_encryption(inventory: &Inventory<'_>, hits: &mut Vec<Hit>) {
    for (address, db) in databases(inventory) {
        if !db.storage_encrypted {
            hit(hits, address, "storage is not encrypted; set kms_key");
        } else if !customer_key(db.kms_key.as_ref()) {
            hit(
                hits,
                address,
                "encrypted with the AWS managed key; set kms_key to one of the stack's keys",
            );
        }
    }
}

fn database_backups(inventory: &Inventory<'_>, hits: &mut Vec<Hit>) {
    for (address, db) in databases(inventory) {
        if db.backup_retention_days < BACKUP_DAYS {
            hit(
                hits,
                address,
                format!(
                    "backups are kept {} days; set backup_retention_days to at least {BACKUP_DAYS}",
                    db.backup_retention_days
                ),
            );
        }
    }
}

fn database_tls(inventory: &Inventory<'_>, hits: &mut Vec<Hit>) {
    for (address, db) in databases(inventory) {
        let forced = db
            .parameter_group
            .address()
            .and_then(|group| inventory.get(group))
            .is_some_and(|props| match props {
                Props::DbParameterGroup(p) => {
                    p.parameters.get("rds.force_ssl").map(String::as_str) == Some("1")
                }
                _ => false,
            });
        if !forced {
            hit(
                hits,
                address,
                "its parameter group does not set rds.force_ssl = 1; use the database's own group",
            );
        }
    }
}

fn database_deletion_protection(inventory: &Inventory<'_>, hits: &mut Vec<Hit>) {
    for (address, db) in databases(inventory) {
        if !db.deletion_protection {
            hit(
                hits,
                address,
                "deletion protection is off; set deletion_protection: true",
            );
        }
    }
}

fn caches<'i, 'a>(
    inventory: &'i Inventory<'a>,
) -> impl Iterator<Item = (&'a Address, &'a crate::model::CacheReplicationGroupProps)> + 'i {
    by_kind(inventory, Kind::CacheReplicationGroup).filter_map(|(a, p)| match p {
        Props::CacheReplicationGroup(c) => Some((a, c)),
        _ => None,
    })
}

fn cache_tls(inventory: &Inventory<'_>, hits: &mut Vec<Hit>) {
    for (address, cache) in caches(inventory) {
        if !cache.transit_encryption {
            hit(
                hits,
                address,
                "traffic is not encrypted; set transit_encryption: true",
            );
        }
    }
}

fn cache_at_rest(inventory: &Inventory<'_>, hits: &mut Vec<Hit>) {
    for (address, cache) in caches(inventory) {
        if !cache.at_rest_encryption {
            hit(
                hits,
                address,
                "data at rest is not encrypted; set at_rest_kms_key",
            );
        } else if !customer_key(cache.kms_key.as_ref()) {
            hit(
                hits,
                address,
                "encrypted at rest with the AWS managed key; set at_rest_kms_key to one of the stack's keys",
            );
        }
    }
}

/// The managed rule groups a web ACL must block with.
const REQUIRED_RULE_GROUPS: &[(&str, &str)] = &[
    ("AWSManagedRulesSQLiRuleSet", "SQL injection"),
    (
        "AWSManagedRulesCommonRuleSet",
        "common attacks including XSS",
    ),
    ("AWSManagedRulesKnownBadInputsRuleSet", "known bad inputs"),
];

fn waf_rules(inventory: &Inventory<'_>, hits: &mut Vec<Hit>) {
    for (address, props) in by_kind(inventory, Kind::WebAcl) {
        let Props::WebAcl(acl) = props else { continue };
        let blocking = |rule: &&crate::model::WafRule| rule.action != "count";
        let mut missing = Vec::new();
        for (group, what) in REQUIRED_RULE_GROUPS {
            let present = acl.rules.iter().filter(blocking).any(|r| {
                // Managed groups are written `vendor/name` (`AWS/AWSManagedRulesSQLiRuleSet`).
                matches!(&r.statement, WafStatement::Managed { rule_group, .. }
                    if rule_group.rsplit('/').next() == Some(group))
            });
            if !present {
                missing.push(format!("{what} ({{ managed: {group} }})"));
            }
        }
        if !acl
            .rules
            .iter()
            .filter(blocking)
            .any(|r| matches!(r.statement, WafStatement::GeoMatch { .. }))
        {
            missing.push("a geo block ({ geo_block: [...] })".to_string());
        }
        if !acl
            .rules
            .iter()
            .filter(blocking)
            .any(|r| matches!(r.statement, WafStatement::RateLimit { .. }))
        {
            missing.push("a rate limit ({ rate_limit: { limit: ... } })".to_string());
        }
        if !missing.is_empty() {
            hit(
                hits,
                address,
                format!("does not block with {}", missing.join(", ")),
            );
        }
    }
}

fn waf_logging(inventory: &Inventory<'_>, hits: &mut Vec<Hit>) {
    for (address, props) in by_kind(inventory, Kind::WebAcl) {
        let Props::WebAcl(acl) = props else { continue };
        if acl.logging.is_none() {
            hit(
                hits,
                address,
                "requests are not logged; add logging: { log_group: aws-waf-logs-..., kms_key: ... }",
            );
        }
    }
}

fn trails<'a>(inventory: &Inventory<'a>) -> Vec<(&'a Address, &'a crate::model::TrailProps)> {
    by_kind(inventory, Kind::Trail)
        .filter_map(|(a, p)| match p {
            Props::Trail(t) => Some((a, t)),
            _ => None,
        })
        .collect()
}

fn trail_multi_region(inventory: &Inventory<'_>, hits: &mut Vec<Hit>) {
    let trails = trails(inventory);
    if trails.is_empty() {
        hits.push((
            None,
            "no CloudTrail trail; add monitoring.cloudtrail (multi_region: true)".to_string(),
        ));
    }
    for (address, trail) in trails {
        if !trail.multi_region {
            hit(
                hits,
                address,
                "records one region only; set multi_region: true",
            );
        }
        if !trail.logging {
            hit(
                hits,
                address,
                "logging is stopped; the next apply starts it",
            );
        }
    }
}

fn trail_validation(inventory: &Inventory<'_>, hits: &mut Vec<Hit>) {
    for (address, trail) in trails(inventory) {
        if !trail.log_file_validation {
            hit(
                hits,
                address,
                "log file validation is off; set log_file_validation: true",
            );
        }
    }
}

fn trail_encryption(inventory: &Inventory<'_>, hits: &mut Vec<Hit>) {
    for (address, trail) in trails(inventory) {
        if !customer_key(trail.kms_key.as_ref()) {
            hit(
                hits,
                address,
                "log files are not encrypted with a KMS key; set kms_key",
            );
        }
    }
}

fn trail_cloudwatch(inventory: &Inventory<'_>, hits: &mut Vec<Hit>) {
    for (address, trail) in trails(inventory) {
        if trail.log_group.is_none() {
            hit(
                hits,
                address,
                "events are not delivered to CloudWatch Logs; add cloudwatch_logs: { retention_days: 90 }",
            );
        }
    }
}

fn guardduty(inventory: &Inventory<'_>, hits: &mut Vec<Hit>) {
    let detectors: Vec<_> = by_kind(inventory, Kind::GuarddutyDetector).collect();
    if detectors.is_empty() {
        hits.push((
            None,
            "no GuardDuty detector; add monitoring.guardduty".to_string(),
        ));
    }
    for (address, props) in detectors {
        if let Props::GuarddutyDetector(d) = props
            && !d.enabled
        {
            hit(
                hits,
                address,
                "the detector is suspended; set enabled: true",
            );
        }
    }
}

fn security_hub(inventory: &Inventory<'_>, hits: &mut Vec<Hit>) {
    if by_kind(inventory, Kind::SecurityHub).next().is_none() {
        hits.push((
            None,
            "Security Hub is not enabled; add monitoring.security_hub".to_string(),
        ));
    }
}

fn log_groups<'i, 'a>(
    inventory: &'i Inventory<'a>,
) -> impl Iterator<Item = (&'a Address, &'a crate::model::LogGroupProps)> + 'i {
    by_kind(inventory, Kind::LogGroup).filter_map(|(a, p)| match p {
        Props::LogGroup(g) => Some((a, g)),
        _ => None,
    })
}

fn log_retention(inventory: &Inventory<'_>, hits: &mut Vec<Hit>) {
    for (address, group) in log_groups(inventory) {
        // No retention policy keeps events for ever.
        if let Some(days) = group.retention_days.filter(|d| *d < LOG_RETENTION_DAYS) {
            hit(
                hits,
                address,
                format!(
                    "keeps events {days} days; set retention_days to at least {LOG_RETENTION_DAYS}"
                ),
            );
        }
    }
}

fn log_encryption(inventory: &Inventory<'_>, hits: &mut Vec<Hit>) {
    for (address, group) in log_groups(inventory) {
        if !customer_key(group.kms_key.as_ref()) {
            hit(hits, address, "not encrypted with a KMS key; set kms_key");
        }
    }
}
