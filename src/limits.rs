//! Constraints AWS applies to values the blueprint sends: lengths and patterns from each
//! service's published API model, so `validate` refuses at file:line:column what AWS would
//! refuse mid-apply. Each limit names the request member it comes from
//! (`wafv2:CreateWebACL.Description`); a test of the integration suite checks every one
//! against AWS's published models (botocore's `service-2.json`, pinned with the emulator),
//! so the table cannot drift from them unnoticed.
//!
//! This file holds the `Limit` type, the tag rules of each service, and the limits on names
//! secinfra derives or several sections share; a limit on a value only one blueprint
//! section writes lives in that section's file (`validate/<section>.rs`), listed in its
//! `LIMITS`, and `all` gathers them.
//!
//! A pattern is matched against the whole value, as AWS does. Where a model's pattern uses
//! a look-ahead (`(?!aws:)`, which the `regex` crate does not have), `pattern` holds it
//! without, and the reserved `aws:` prefix is refused separately (every tag key starting
//! with `aws:` is, by the blueprint validator).

use std::sync::OnceLock;

use regex::Regex;

use crate::model::Kind;

/// A constraint on one request member.
#[derive(Debug)]
pub struct Limit {
    /// `service:Operation.Member.Path`, as in the API model.
    pub member: &'static str,
    /// What the value is, for messages ("a web ACL description").
    pub what: &'static str,
    /// Length in characters (bytes for blobs).
    pub min: usize,
    pub max: usize,
    /// The pattern as the model writes it (`None`: any characters).
    pub model_pattern: Option<&'static str>,
    /// The pattern checked here, when it differs from the model's (see the module docs).
    pub pattern: Option<&'static str>,
    /// The characters the pattern allows, in words.
    pub allowed: &'static str,
    /// Where AWS documents a constraint its model does not carry (EC2 has no patterns).
    pub documented: Option<&'static str>,
    compiled: OnceLock<Option<Regex>>,
}

impl Limit {
    pub(crate) const fn new(
        member: &'static str,
        what: &'static str,
        min: usize,
        max: usize,
    ) -> Limit {
        Limit {
            member,
            what,
            min,
            max,
            model_pattern: None,
            pattern: None,
            allowed: "",
            documented: None,
            compiled: OnceLock::new(),
        }
    }

    pub(crate) const fn pattern(mut self, pattern: &'static str, allowed: &'static str) -> Limit {
        self.model_pattern = Some(pattern);
        self.allowed = allowed;
        self
    }

    /// A model pattern the `regex` crate cannot compile, and what is checked instead.
    pub(crate) const fn checked_as(mut self, pattern: &'static str) -> Limit {
        self.pattern = Some(pattern);
        self
    }

    pub(crate) const fn documented(mut self, page: &'static str) -> Limit {
        self.documented = Some(page);
        self
    }

    fn regex(&self) -> Option<&Regex> {
        self.compiled
            .get_or_init(|| {
                let pattern = self.pattern.or(self.model_pattern)?;
                // The patterns are constants of this file; a test compiles every one.
                Regex::new(&format!("^(?:{pattern})$")).ok()
            })
            .as_ref()
    }

    /// Why `value` breaks this limit, in a sentence that ends with what AWS allows.
    pub fn check(&self, value: &str) -> Result<(), String> {
        let length = value.chars().count();
        if length < self.min || length > self.max {
            let range = if self.min == 0 {
                format!("at most {}", self.max)
            } else if self.min == self.max {
                format!("exactly {}", self.max)
            } else {
                format!("{}-{}", self.min, self.max)
            };
            return Err(format!(
                "{} is {length} characters long; AWS accepts {range} ({})",
                self.what, self.member
            ));
        }
        if let Some(regex) = self.regex()
            && !regex.is_match(value)
        {
            // Characters the pattern refuses on their own, when it accepts others: a
            // pattern with a shape (first and last characters) names none.
            let bad: Vec<char> = value
                .chars()
                .filter(|c| !regex.is_match(&c.to_string()))
                .collect();
            let detail = if bad.is_empty() || bad.len() == length {
                String::new()
            } else {
                let mut shown: Vec<char> = bad;
                shown.dedup();
                let shown: String = shown.into_iter().take(5).collect();
                format!(" (`{shown}` is not allowed)")
            };
            return Err(format!(
                "{} does not match the pattern AWS requires{detail}: {} ({})",
                self.what, self.allowed, self.member
            ));
        }
        Ok(())
    }
}

const TAG_CHARACTERS: &str = "letters, digits, spaces and _ . : / = + - @";
const GUARDDUTY_TAG_KEY: &str = "ASCII letters, digits and _ . : / = + - , ; <";

pub static WAF_NAME: Limit = Limit::new("wafv2:CreateWebACL.Name", "a web ACL name", 1, 128)
    .pattern(r"^[\w\-]+$", "letters, digits, _ and -");
pub static WAF_METRIC_NAME: Limit = Limit::new(
    "wafv2:CreateWebACL.VisibilityConfig.MetricName",
    "a WAF metric name",
    1,
    255,
)
.pattern(r"^[\w#:\.\-/]+$", "letters, digits and _ # : . - /");
pub static KMS_ALIAS: Limit = Limit::new("kms:CreateAlias.AliasName", "a key alias", 1, 256)
    .pattern(r"^[a-zA-Z0-9:/_-]+$", "ASCII letters, digits and : / _ -");
pub static SECRET_NAME: Limit =
    Limit::new("secretsmanager:CreateSecret.Name", "a secret name", 1, 512);
pub static LOG_GROUP_NAME: Limit = Limit::new(
    "logs:CreateLogGroup.logGroupName",
    "a log group name",
    1,
    512,
)
.pattern(
    r"[\.\-_/#A-Za-z0-9]+",
    "ASCII letters, digits and . - _ / #",
);
pub static METRIC_FILTER_NAME: Limit = Limit::new(
    "logs:PutMetricFilter.filterName",
    "a metric filter name",
    1,
    512,
)
.pattern("[^:*]*", "any characters but : and *");
pub static METRIC_NAME: Limit = Limit::new(
    "logs:PutMetricFilter.metricTransformations.metricName",
    "a metric name",
    0,
    255,
)
.pattern(r"[^:*$]*", "any characters but : * and $");
pub static METRIC_NAMESPACE: Limit = Limit::new(
    "logs:PutMetricFilter.metricTransformations.metricNamespace",
    "a metric namespace",
    0,
    255,
)
.pattern(r"[^:*$]*", "any characters but : * and $");
pub static ALARM_NAME: Limit = Limit::new(
    "cloudwatch:PutMetricAlarm.AlarmName",
    "an alarm name",
    1,
    255,
);
pub static IAM_ROLE_NAME: Limit = Limit::new("iam:CreateRole.RoleName", "a role name", 1, 64)
    .pattern(r"[\w+=,.@-]+", "letters, digits and + = , . @ _ -");
pub static IAM_PATH: Limit = Limit::new("iam:CreateRole.Path", "a role path", 1, 512).pattern(
    r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)",
    "/ alone, or printable ASCII between a leading and a trailing /",
);
/// What EC2 accepts in a security group's name and description (VPC groups).
const SECURITY_GROUP_TEXT: &str = r"[a-zA-Z0-9. _\-:/()#,@\[\]+=&;{}!$*]*";
const SECURITY_GROUP_TEXT_ALLOWED: &str =
    "ASCII letters, digits, spaces and . _ - : / ( ) # , @ [ ] + = & ; { } ! $ *";
pub static SECURITY_GROUP_DESCRIPTION: Limit = Limit::new(
    "ec2:CreateSecurityGroup.Description",
    "a security group description",
    0,
    255,
)
.pattern(SECURITY_GROUP_TEXT, SECURITY_GROUP_TEXT_ALLOWED)
.documented("https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html");

pub static SECURITY_GROUP_NAME: Limit = Limit::new(
    "ec2:CreateSecurityGroup.GroupName",
    "a security group name",
    1,
    255,
)
.pattern(SECURITY_GROUP_TEXT, SECURITY_GROUP_TEXT_ALLOWED)
.documented("https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html");
pub static DB_PARAMETER_GROUP_NAME: Limit = Limit::new(
    "rds:CreateDBParameterGroup.DBParameterGroupName",
    "a DB parameter group name",
    1,
    255,
)
.pattern(
    "[a-zA-Z](-?[a-zA-Z0-9])*",
    "letters, digits and single hyphens, starting with a letter and not ending with a hyphen",
)
.documented(
    "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBParameterGroup.html",
);

/// Tag limits of one service.
#[derive(Debug)]
pub struct TagRules {
    pub service: &'static str,
    pub key: Limit,
    pub value: Limit,
}

const fn tag_rules(service: &'static str, key: Limit, value: Limit) -> TagRules {
    TagRules {
        service,
        key,
        value,
    }
}

pub static EC2_TAGS: TagRules = tag_rules(
    "EC2",
    Limit::new("ec2:CreateTags.Tags.Key", "a tag key", 1, 128)
        .pattern(r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*", TAG_CHARACTERS)
        .documented(
            "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html#tag-restrictions",
        ),
    Limit::new("ec2:CreateTags.Tags.Value", "a tag value", 0, 256)
        .pattern(r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*", TAG_CHARACTERS)
        .documented(
            "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html#tag-restrictions",
        ),
);
pub static WAF_TAGS: TagRules = tag_rules(
    "WAF",
    Limit::new("wafv2:CreateWebACL.Tags.Key", "a tag key", 1, 128)
        .pattern(r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$", TAG_CHARACTERS),
    Limit::new("wafv2:CreateWebACL.Tags.Value", "a tag value", 0, 256)
        .pattern(r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$", TAG_CHARACTERS),
);
pub static LOGS_TAGS: TagRules = tag_rules(
    "CloudWatch Logs",
    Limit::new("logs:CreateLogGroup.tags.key", "a tag key", 1, 128)
        .pattern(r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$", TAG_CHARACTERS),
    Limit::new("logs:CreateLogGroup.tags.value", "a tag value", 0, 256)
        .pattern(r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$", TAG_CHARACTERS),
);
pub static IAM_TAGS: TagRules = tag_rules(
    "IAM",
    Limit::new("iam:CreateRole.Tags.Key", "a tag key", 1, 128)
        .pattern(r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+", TAG_CHARACTERS),
    Limit::new("iam:CreateRole.Tags.Value", "a tag value", 0, 256)
        .pattern(r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*", TAG_CHARACTERS),
);
pub static KMS_TAGS: TagRules = tag_rules(
    "KMS",
    Limit::new("kms:CreateKey.Tags.TagKey", "a tag key", 1, 128),
    Limit::new("kms:CreateKey.Tags.TagValue", "a tag value", 0, 256),
);
pub static SECRETS_TAGS: TagRules = tag_rules(
    "Secrets Manager",
    Limit::new("secretsmanager:CreateSecret.Tags.Key", "a tag key", 1, 128),
    Limit::new(
        "secretsmanager:CreateSecret.Tags.Value",
        "a tag value",
        0,
        256,
    ),
);
pub static CLOUDTRAIL_TAGS: TagRules = tag_rules(
    "CloudTrail",
    Limit::new("cloudtrail:CreateTrail.TagsList.Key", "a tag key", 1, 128),
    Limit::new(
        "cloudtrail:CreateTrail.TagsList.Value",
        "a tag value",
        1,
        256,
    ),
);
pub static GUARDDUTY_TAGS: TagRules = tag_rules(
    "GuardDuty",
    Limit::new("guardduty:CreateDetector.Tags.key", "a tag key", 1, 128)
        .pattern("(?!aws:)[a-zA-Z+-=._:/]+", GUARDDUTY_TAG_KEY)
        .checked_as("[a-zA-Z+-=._:/]+"),
    Limit::new("guardduty:CreateDetector.Tags.value", "a tag value", 0, 256),
);
pub static SECURITY_HUB_TAGS: TagRules = tag_rules(
    "Security Hub",
    Limit::new(
        "securityhub:EnableSecurityHub.Tags.key",
        "a tag key",
        1,
        128,
    )
    .pattern("^(?!aws:)[a-zA-Z+-=._:/]+$", GUARDDUTY_TAG_KEY)
    .checked_as("^[a-zA-Z+-=._:/]+$"),
    Limit::new(
        "securityhub:EnableSecurityHub.Tags.value",
        "a tag value",
        0,
        256,
    ),
);
/// RDS, ElastiCache, S3, SNS and CloudWatch: lengths only in their models.
pub static PLAIN_TAGS: TagRules = tag_rules(
    "RDS, ElastiCache, S3, SNS and CloudWatch",
    Limit::new("rds:AddTagsToResource.Tags.Key", "a tag key", 1, 128)
        .documented("https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Tagging.html"),
    Limit::new("rds:AddTagsToResource.Tags.Value", "a tag value", 0, 256)
        .documented("https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Tagging.html"),
);

/// The tag rules of the service a kind of resource is tagged through (the kind table's
/// `via`). Services whose models state tag lengths only (RDS, ElastiCache, S3, SNS,
/// CloudWatch) share `PLAIN_TAGS`; a service with patterns of its own is listed here.
pub fn tag_rules_for(kind: Kind) -> &'static TagRules {
    match kind.service() {
        "ec2" => &EC2_TAGS,
        "logs" => &LOGS_TAGS,
        "iam" => &IAM_TAGS,
        "kms" => &KMS_TAGS,
        "secretsmanager" => &SECRETS_TAGS,
        "wafv2" => &WAF_TAGS,
        "cloudtrail" => &CLOUDTRAIL_TAGS,
        "guardduty" => &GUARDDUTY_TAGS,
        "securityhub" => &SECURITY_HUB_TAGS,
        _ => &PLAIN_TAGS,
    }
}

/// Every limit, for the check against AWS's models.
pub fn all() -> Vec<&'static Limit> {
    let mut all: Vec<&'static Limit> = vec![
        &WAF_NAME,
        &WAF_METRIC_NAME,
        &KMS_ALIAS,
        &SECRET_NAME,
        &LOG_GROUP_NAME,
        &METRIC_FILTER_NAME,
        &METRIC_NAME,
        &METRIC_NAMESPACE,
        &ALARM_NAME,
        &IAM_ROLE_NAME,
        &IAM_PATH,
        &SECURITY_GROUP_DESCRIPTION,
        &SECURITY_GROUP_NAME,
        &DB_PARAMETER_GROUP_NAME,
    ];
    for section in [
        crate::blueprint::validate::waf::LIMITS,
        crate::blueprint::validate::kms::LIMITS,
        crate::blueprint::validate::secrets::LIMITS,
        crate::blueprint::validate::monitoring::LIMITS,
    ] {
        all.extend(section);
    }
    for rules in [
        &EC2_TAGS,
        &WAF_TAGS,
        &LOGS_TAGS,
        &IAM_TAGS,
        &KMS_TAGS,
        &SECRETS_TAGS,
        &CLOUDTRAIL_TAGS,
        &GUARDDUTY_TAGS,
        &SECURITY_HUB_TAGS,
        &PLAIN_TAGS,
    ] {
        all.push(&rules.key);
        all.push(&rules.value);
    }
    all
}

/// The limits as JSON, for the check against AWS's models (`scripts/conformance.py`).
pub fn to_json() -> serde_json::Value {
    serde_json::Value::Array(
        all()
            .into_iter()
            .map(|l| {
                serde_json::json!({
                    "member": l.member,
                    "min": l.min,
                    "max": l.max,
                    "pattern": l.model_pattern,
                    "documented": l.documented,
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blueprint::validate::kms::KMS_DESCRIPTION;
    use crate::blueprint::validate::secrets::ROTATION_SCHEDULE;
    use crate::blueprint::validate::waf::WAF_DESCRIPTION;

    #[test]
    fn every_pattern_compiles() {
        for limit in all() {
            if limit.model_pattern.is_some() {
                assert!(limit.regex().is_some(), "{}", limit.member);
            }
        }
    }

    #[test]
    fn the_seeds_old_waf_description_is_refused_and_a_plain_one_passes() {
        let refused = WAF_DESCRIPTION
            .check("API protection (SQL injection, XSS, geo-blocking, rate limits)")
            .expect_err("parentheses");
        assert!(refused.contains("no parentheses"), "{refused}");
        assert!(
            refused.contains("wafv2:CreateWebACL.Description"),
            "{refused}"
        );
        WAF_DESCRIPTION
            .check("API protection - SQL injection, XSS, geo-blocking, rate limits")
            .expect("plain description");
        assert!(WAF_DESCRIPTION.check(" leading space").is_err());
        assert!(WAF_DESCRIPTION.check("").is_err());
    }

    #[test]
    fn lengths_count_characters() {
        assert!(KMS_DESCRIPTION.check(&"é".repeat(8192)).is_ok());
        let long = KMS_DESCRIPTION
            .check(&"x".repeat(8193))
            .expect_err("too long");
        assert!(
            long.contains("8193 characters long; AWS accepts at most 8192"),
            "{long}"
        );
        assert!(
            CLOUDTRAIL_TAGS.value.check("").is_err(),
            "CloudTrail wants a value"
        );
        assert!(KMS_TAGS.value.check("").is_ok());
    }

    #[test]
    fn tag_patterns_differ_by_service() {
        assert!(EC2_TAGS.key.check("team@example").is_ok());
        assert!(WAF_TAGS.value.check("Ünïcode and spaces").is_ok());
        let hub = SECURITY_HUB_TAGS
            .key
            .check("team@example")
            .expect_err("no @");
        assert!(hub.contains("`@` is not allowed"), "{hub}");
        assert!(GUARDDUTY_TAGS.key.check("cost-centre").is_ok());
        assert!(WAF_TAGS.value.check("a (b)").is_err());
    }

    #[test]
    fn role_paths_and_schedules() {
        assert!(IAM_PATH.check("/secinfra/us-east-1/api/").is_ok());
        assert!(IAM_PATH.check("secinfra").is_err());
        assert!(ROTATION_SCHEDULE.check("rate(30 days)").is_ok());
        assert!(ROTATION_SCHEDULE.check("rate(30 days);").is_err());
    }
}
