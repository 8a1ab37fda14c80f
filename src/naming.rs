//! How secinfra names things in AWS, and the format rules AWS imposes on names.
//! Kept in one place so validation and providers agree.

use crate::model::{Address, Kind};

/// Stack names appear in tags, IAM role names and (later) bucket and DB identifiers,
/// so they follow the strictest of those rules.
pub fn check_stack_name(name: &str) -> Result<(), String> {
    check_identifier(name, 32)
}

/// RDS instance identifiers (63) and ElastiCache replication group ids (40): lowercase
/// letters, digits and single hyphens, starting with a letter.
pub fn check_identifier(name: &str, max: usize) -> Result<(), String> {
    if name.is_empty() || name.len() > max {
        return Err(format!("{} characters (1-{max} allowed)", name.len()));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("must start with a lowercase letter".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!("`{c}` is not allowed"));
    }
    if name.ends_with('-') || name.contains("--") {
        return Err("hyphens must separate words (no trailing or double hyphen)".into());
    }
    Ok(())
}

/// Names of blueprint resources (subnets, security groups, ...).
pub fn check_resource_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 40 {
        return Err(format!("{} characters (1-40 allowed)", name.len()));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!("`{c}` is not allowed"));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Err("must not start or end with a hyphen".into());
    }
    Ok(())
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `ap-southeast-5`, ...
pub fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let (Some(first), Some(last)) = (parts.first(), parts.last()) else {
        return false;
    };
    (3..=4).contains(&parts.len())
        && first.len() == 2
        && first.chars().all(|c| c.is_ascii_lowercase())
        && !last.is_empty()
        && last.chars().all(|c| c.is_ascii_digit())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
}

/// The region of a full availability zone name (`us-east-1a` → `us-east-1`).
pub fn region_of_az(az: &str) -> Option<&str> {
    let region = az.strip_suffix(|c: char| c.is_ascii_lowercase())?;
    is_region(region).then_some(region)
}

/// The AWS partition of a region, for ARNs.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// IAM roles are global, so their names and paths carry the region as well as the stack:
/// the same stack name in two regions must not share (or delete) each other's roles.
pub fn role_name(stack: &str, region: &str, purpose: &str) -> String {
    format!("{stack}-{region}-{purpose}")
}

/// Every role of one stack in one region lives under this path; discovery lists it.
pub fn role_path(stack: &str, region: &str) -> String {
    format!("/secinfra/{region}/{stack}/")
}

pub fn is_role_arn(s: &str) -> bool {
    iam_resource(s).is_some_and(|r| r.len() > 5 && r.starts_with("role/"))
}

/// The resource part of an IAM ARN of a 12-digit account (`role/app` of
/// `arn:aws:iam::123456789012:role/app`), or `None` when `s` is no such ARN.
fn iam_resource(s: &str) -> Option<&str> {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let well_formed = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "iam"
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit());
    well_formed.then(|| parts[5])
}

/// S3 bucket naming rules (general purpose buckets).
pub fn check_bucket_name(name: &str) -> Result<(), String> {
    if !(3..=63).contains(&name.len()) {
        return Err(format!("{} characters (3-63 allowed)", name.len()));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.')))
    {
        return Err(format!("`{c}` is not allowed"));
    }
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !edge_ok(name.chars().next()) || !edge_ok(name.chars().last()) {
        return Err("it must start and end with a letter or digit".into());
    }
    if name.contains("..") || name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err("no two dots in a row, and not an IP address".into());
    }
    Ok(())
}

pub fn check_log_group_name(name: &str) -> Result<(), String> {
    crate::limits::LOG_GROUP_NAME.check(name)?;
    if name.starts_with("aws/") {
        return Err("names starting with aws/ are reserved for AWS services".into());
    }
    Ok(())
}

/// EC2 security group descriptions: up to 255 characters of a restricted set.
pub fn check_group_description(description: &str) -> Result<(), String> {
    crate::limits::SECURITY_GROUP_DESCRIPTION.check(description)
}

/// Each key's alias: `alias/<stack>/<name>`.
pub fn kms_alias(stack: &str, name: &str) -> String {
    format!("alias/{stack}/{name}")
}

/// IAM principals a key policy may name: the account root, users and roles.
pub fn is_principal_arn(s: &str) -> bool {
    iam_resource(s).is_some_and(|r| r == "root" || r.starts_with("role/") || r.starts_with("user/"))
}

/// Secrets Manager names: 1-512 of letters, digits and `/_+=.@-`.
pub fn check_secret_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 512 {
        return Err(format!("{} characters (1-512 allowed)", name.len()));
    }
    match name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "/_+=.@-".contains(*c)))
    {
        Some(c) => Err(format!("`{c}` is not allowed")),
        None => Ok(()),
    }
}

/// `rate(30 days)` / `rate(1 day)` as a number of days: the same schedule as
/// `every_days`, so both spellings compare equal.
pub fn rate_in_days(expression: &str) -> Option<i64> {
    let inner = expression.trim().strip_prefix("rate(")?.strip_suffix(')')?;
    let (n, unit) = inner.trim().split_once(' ')?;
    matches!(unit.trim(), "day" | "days").then_some(())?;
    n.trim().parse().ok()
}

/// Secrets Manager schedule expressions: `rate(N hours|days)` or `cron(...)`.
pub fn is_schedule_expression(expression: &str) -> bool {
    let e = expression.trim();
    (e.starts_with("rate(") || e.starts_with("cron(")) && e.ends_with(')') && e.len() > 7
}

pub fn is_lambda_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    parts.len() >= 7
        && parts[0] == "arn"
        && parts[2] == "lambda"
        && parts[5] == "function"
        && is_function_name(parts[6])
}

pub fn is_function_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Resources a regional web ACL can protect: application load balancers, API Gateway
/// REST API stages, AppSync APIs, Cognito user pools, App Runner services, Verified Access.
pub fn is_waf_protectable_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" || !parts[1].starts_with("aws") {
        return false;
    }
    match parts[2] {
        "elasticloadbalancing" => parts[5].starts_with("loadbalancer/app/"),
        "apigateway" => parts[5].starts_with("/restapis/") && parts[5].contains("/stages/"),
        "appsync" => parts[5].starts_with("apis/"),
        "cognito-idp" => parts[5].starts_with("userpool/"),
        "apprunner" => parts[5].starts_with("service/"),
        "ec2" => parts[5].starts_with("verified-access-instance/"),
        _ => false,
    }
}

/// Kinds that show a `Name` tag in the EC2 console (the EC2 kinds, which have no name of
/// their own).
pub fn has_name_tag(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Vpc
            | Kind::Subnet
            | Kind::InternetGateway
            | Kind::ElasticIp
            | Kind::NatGateway
            | Kind::RouteTable
            | Kind::SecurityGroup
            | Kind::FlowLog
    )
}

pub fn name_tag(stack: &str, address: &Address) -> String {
    match (address.kind, address.name.as_str()) {
        (Kind::Vpc | Kind::InternetGateway | Kind::FlowLog, _) => stack.to_string(),
        (Kind::ElasticIp, name) => format!("{stack}-nat-{name}"),
        (_, name) => format!("{stack}-{name}"),
    }
}

/// A Security Hub standard's ARN in `region`, from the part every region shares
/// (`standards/...` ARNs are regional; CIS 1.2.0's `ruleset/...` is not).
pub fn security_hub_standard_arn(partition: &str, region: &str, id: &str) -> String {
    if id.starts_with("ruleset/") {
        format!("arn:{partition}:securityhub:::{id}")
    } else {
        format!("arn:{partition}:securityhub:{region}::{id}")
    }
}

/// The part of a Security Hub standard's ARN every region shares.
pub fn security_hub_standard_id(arn: &str) -> &str {
    arn.splitn(6, ':').nth(5).unwrap_or(arn)
}

/// The trail's bucket unless the blueprint names one (bucket names are global).
pub fn trail_bucket_name(stack: &str, account: &str) -> String {
    format!("{stack}-cloudtrail-{account}")
}

/// The prefix of every metric filter and alarm name of a stack. `/` cannot appear in a
/// stack name, so no stack's prefix is another's (`api/` vs `api-platform/`).
pub fn monitoring_prefix(stack: &str) -> String {
    format!("secinfra/{stack}/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions() {
        for ok in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "ap-southeast-5",
        ] {
            assert!(is_region(ok), "{ok}");
        }
        for bad in ["us-east", "useast1", "US-EAST-1", "us--1", "a-b-1"] {
            assert!(!is_region(bad), "{bad}");
        }
        assert_eq!(region_of_az("us-east-1a"), Some("us-east-1"));
        assert_eq!(region_of_az("us-east-1"), None);
    }

    #[test]
    fn stack_names() {
        assert!(check_stack_name("api-platform").is_ok());
        for bad in [
            "Api",
            "1api",
            "api-",
            "api--x",
            "api_x",
            "",
            &"a".repeat(33),
        ] {
            assert!(check_stack_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn role_arns() {
        assert!(is_role_arn("arn:aws:iam::123456789012:role/flow-logs"));
        assert!(is_role_arn("arn:aws:iam::123456789012:role/path/x"));
        assert!(!is_role_arn("arn:aws:iam::123456789012:user/x"));
        assert!(!is_role_arn("arn:aws:iam::1234:role/x"));
        assert!(!is_role_arn("arn:aws:iam::123456789012:role/"));
        assert!(!is_role_arn("arn:aws:s3::123456789012:role/x"));
    }

    #[test]
    fn principal_arns() {
        for ok in ["root", "role/app", "user/ops"] {
            let arn = format!("arn:aws-us-gov:iam::123456789012:{ok}");
            assert!(is_principal_arn(&arn), "{arn}");
        }
        for bad in [
            "arn:aws:iam::123456789012:group/admins",
            "arn:aws:iam::12345678901x:root",
            "arn:aws:kms::123456789012:root",
            "123456789012",
        ] {
            assert!(!is_principal_arn(bad), "{bad}");
        }
    }
}
