//! Semantic checks over a parsed blueprint, producing the desired resources.
//!
//! Steps, in order: version and stack name; tags; the network (VPC, subnets, NAT, route
//! tables, flow logs); security groups and their rules; the dependency graph. Every problem
//! is collected with its position before failing, so one run shows all of them.
//!
//! One file per blueprint section holds the section: its types as the YAML writes them,
//! its schema transforms (`schema`), and the checks that turn it into resources, each added
//! with the blueprint position that declares it.

pub mod data;
pub mod kms;
pub mod log_groups;
pub mod monitoring;
pub mod network;
pub mod secrets;
pub mod security_groups;
pub mod waf;

use std::collections::BTreeMap;

use super::diagnostic::{Diagnostic, Diagnostics};
use super::source::Source;
use super::span::{Span, Spanned};
use super::types::{self, Blueprint};
use crate::model::{Address, Desired, Props, Resource, TAG_ADDRESS, TAG_STACK, Tags, graph};
use crate::naming;

/// Facts about the target account that shape the desired resources. Both are optional so
/// `validate` works without AWS access.
#[derive(Clone, Debug, Default)]
pub struct Target {
    pub region: Option<String>,
    pub account: Option<String>,
}

#[derive(Debug)]
pub struct Validated {
    pub desired: Desired,
    pub warnings: Vec<Diagnostic>,
}

/// CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
pub const LOG_RETENTION_DAYS: &[i64] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

pub fn validate(
    bp: &Blueprint,
    source: &Source,
    target: &Target,
) -> Result<Validated, Diagnostics> {
    let v = check(bp, source, target);
    if v.diagnostics.has_errors() {
        return Err(v.diagnostics);
    }
    Ok(Validated {
        desired: Desired {
            stack: v.stack,
            region: v.region,
            resources: v.resources,
        },
        warnings: v.diagnostics.items,
    })
}

/// Where the blueprint declares each resource it makes (see `Checker::declared`), as far
/// as its checks get (a blueprint with errors places what it could make).
pub fn declared(bp: &Blueprint, source: &Source) -> BTreeMap<Address, Span> {
    check(bp, source, &Target::default()).declared
}

fn check<'a>(bp: &Blueprint, source: &'a Source, target: &Target) -> Checker<'a> {
    let mut v = Checker {
        source,
        diagnostics: Diagnostics::default(),
        resources: BTreeMap::new(),
        stack: bp.stack.value.clone(),
        stack_span: bp.stack.span,
        region: None,
        account: target.account.clone(),
        base_tags: Tags::new(),
        subnet_tiers: BTreeMap::new(),
        declared_tags: Vec::new(),
        declared: BTreeMap::new(),
    };
    v.check_version(&bp.version);
    v.check_stack(&bp.stack);
    v.region = v.check_region(bp.region.as_ref(), target.region.as_deref());
    v.base_tags = v.user_tags(&bp.tags, "tags");

    let vpc = bp.network.as_ref().and_then(|network| v.network(network));
    v.security_groups(&bp.security_groups, vpc.as_ref(), bp.network.is_some());
    let keys = v.kms(bp.kms.as_ref());
    v.secrets(&bp.secrets, &keys);
    v.waf(&bp.waf);
    v.databases(&bp.databases, &keys);
    v.caches(&bp.caches, &keys);
    v.monitoring(bp.monitoring.as_ref(), &keys);
    if let Some(log) = &bp.incident_log {
        v.incident_log(log);
    }
    v.encrypt_log_groups(bp, &keys);
    v.check_tags();
    v.check_derived_names();
    v.check_graph();

    v
}

struct Checker<'a> {
    source: &'a Source,
    diagnostics: Diagnostics,
    resources: BTreeMap<Address, Resource>,
    stack: String,
    /// Where the stack is named: names secinfra derives from it are reported there.
    stack_span: Span,
    region: Option<String>,
    account: Option<String>,
    base_tags: Tags,
    /// Each declared subnet's tier and availability zone (for `tier.<name>` selections).
    subnet_tiers: BTreeMap<String, (network::Tier, String)>,
    /// Every tag the blueprint declares, checked once the resources it reaches are known.
    declared_tags: Vec<DeclaredTag>,
    /// Where the blueprint declares each resource: the key of its entry
    /// (`security_groups.rds`), or for what a section implies (the VPC's route tables,
    /// the trail's bucket) a line of that section.
    declared: BTreeMap<Address, Span>,
}

/// A tag as written: where, and its field path (`tags.Owner`, `secrets.x.tags.Team`).
struct DeclaredTag {
    key: Spanned<String>,
    value: Spanned<String>,
    path: String,
}

/// The tag that lifts protection from a protectable resource (`protect: false`); absent,
/// the resource is protected (`Kind::protectable`), so a blueprint that says nothing adds
/// no tag to what it already made.
fn protection_tags(protect: Option<&Spanned<bool>>) -> Tags {
    let mut tags = Tags::new();
    if protect.is_some_and(|p| !p.value) {
        tags.insert(crate::model::TAG_PROTECT.into(), "false".into());
    }
    tags
}

impl Checker<'_> {
    fn error(
        &mut self,
        span: Span,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        let diagnostic = Diagnostic::error(message)
            .with_source(self.source, span, "")
            .with_path(path);
        self.diagnostics.push(diagnostic);
        self.diagnostics.items.last_mut().expect("just pushed")
    }

    /// Checks a value the blueprint sends to AWS against the constraint AWS applies to it.
    fn limit(&mut self, limit: &crate::limits::Limit, value: &Spanned<String>, path: &str) -> bool {
        match limit.check(&value.value) {
            Ok(()) => true,
            Err(problem) => {
                self.error(value.span, path, problem).help = Some(format!(
                    "change it to fit; AWS would refuse it during apply{}",
                    limit
                        .documented
                        .map(|page| format!(" (see {page})"))
                        .unwrap_or_default()
                ));
                false
            }
        }
    }

    /// Checks the tags each resource will carry against the tag rules of the service it is
    /// tagged through, reporting a problem once per declared tag and service, at the tag.
    /// (Tags secinfra sets itself are right by construction and not declared.)
    fn check_tags(&mut self) {
        let declared = std::mem::take(&mut self.declared_tags);
        let mut problems: BTreeMap<(usize, &'static str), (Span, String, String)> = BTreeMap::new();
        for resource in self.resources.values() {
            let rules = crate::limits::tag_rules_for(resource.address.kind);
            for (key, value) in &resource.tags {
                let Some((index, tag)) = declared
                    .iter()
                    .enumerate()
                    .find(|(_, t)| t.key.value == *key && t.value.value == *value)
                else {
                    continue;
                };
                let (problem, span) = match (rules.key.check(key), rules.value.check(value)) {
                    (Err(problem), _) => (problem, tag.key.span),
                    (_, Err(problem)) => (problem, tag.value.span),
                    _ => continue,
                };
                problems.entry((index, rules.service)).or_insert((
                    span,
                    tag.path.clone(),
                    format!("{problem}, for {}", rules.service),
                ));
            }
        }
        for ((_, service), (span, path, message)) in problems {
            self.error(span, path, message).help = Some(format!(
                "this tag goes to {service} resources of this blueprint; change it to fit"
            ));
        }
    }

    /// Checks the names secinfra derives from the stack and resource names (role names and
    /// paths, key aliases, WAF names, metric filter and alarm names) against the limits AWS
    /// applies, reported at the stack's name.
    fn check_derived_names(&mut self) {
        use crate::limits::{
            ALARM_NAME, DB_PARAMETER_GROUP_NAME, IAM_PATH, IAM_ROLE_NAME, KMS_ALIAS, Limit,
            METRIC_FILTER_NAME, METRIC_NAME, METRIC_NAMESPACE, SECURITY_GROUP_NAME, WAF_NAME,
        };
        let mut problems: Vec<(Address, String, String)> = Vec::new();
        for resource in self.resources.values() {
            // A replacement made before its predecessor goes takes a suffixed name.
            let mut replacement = resource.props.clone();
            replacement.rename_for_replacement("");
            let checks: Vec<(&Limit, &str)> = match &replacement {
                Props::SecurityGroup(p) => vec![(&SECURITY_GROUP_NAME, &p.group_name)],
                Props::DbParameterGroup(p) => vec![(&DB_PARAMETER_GROUP_NAME, &p.name)],
                Props::IamRole(p) => vec![(&IAM_ROLE_NAME, &p.name), (&IAM_PATH, &p.path)],
                Props::KmsKey(p) => p.aliases.iter().map(|a| (&KMS_ALIAS, a.as_str())).collect(),
                Props::WebAcl(p) => vec![(&WAF_NAME, &p.name)],
                Props::IpSet(p) => vec![(&WAF_NAME, &p.name)],
                Props::MetricFilter(p) => vec![
                    (&METRIC_FILTER_NAME, &p.name),
                    (&METRIC_NAME, &p.metric_name),
                    (&METRIC_NAMESPACE, &p.metric_namespace),
                ],
                Props::Alarm(p) => vec![(&ALARM_NAME, &p.name)],
                _ => continue,
            };
            for (limit, value) in checks {
                if let Err(problem) = limit.check(value) {
                    problems.push((resource.address.clone(), value.to_string(), problem));
                }
            }
        }
        for (address, value, problem) in problems {
            self.error(
                self.stack_span,
                address.to_string(),
                format!("{address} would be named `{value}`: {problem}"),
            )
            .help = Some(
                "secinfra derives this name from the stack's and the resource's names; \
                 shorten them"
                    .into(),
            );
        }
    }

    /// Adds a desired resource, declared by the blueprint at `at`.
    fn add(&mut self, at: Span, address: Address, props: Props, extra_tags: Tags) {
        let tags = self.tags_for(&address, extra_tags);
        self.declared.insert(address.clone(), at);
        self.resources.insert(
            address.clone(),
            Resource {
                address,
                props,
                tags,
            },
        );
    }

    fn tags_for(&self, address: &Address, extra: Tags) -> Tags {
        let mut tags = self.base_tags.clone();
        if naming::has_name_tag(address.kind) {
            tags.insert("Name".into(), naming::name_tag(&self.stack, address));
        }
        tags.extend(extra);
        tags.insert(TAG_STACK.into(), self.stack.clone());
        tags.insert(TAG_ADDRESS.into(), address.to_string());
        tags
    }

    fn check_version(&mut self, version: &Spanned<u32>) {
        if version.value != 1 {
            self.error(
                version.span,
                "version",
                format!("unsupported blueprint version {}", version.value),
            )
            .help = Some("this secinfra reads `version: 1`".into());
        }
    }

    fn check_stack(&mut self, stack: &Spanned<String>) {
        if let Err(problem) = naming::check_stack_name(&stack.value) {
            self.error(
                stack.span,
                "stack",
                format!("invalid stack name `{}`: {problem}", stack.value),
            )
            .help = Some(
                "use 1-32 lowercase letters, digits and single hyphens, starting with a letter \
                 (it appears in tags and AWS resource names)"
                    .into(),
            );
        }
    }

    fn check_region(
        &mut self,
        declared: Option<&Spanned<String>>,
        target: Option<&str>,
    ) -> Option<String> {
        if let Some(region) = declared
            && !naming::is_region(&region.value)
        {
            self.error(
                region.span,
                "region",
                format!("`{}` is not an AWS region name", region.value),
            )
            .help = Some("write a region such as us-east-1 or eu-west-2".into());
        }
        target
            .map(str::to_string)
            .or_else(|| declared.map(|r| r.value.clone()))
    }

    fn user_tags(
        &mut self,
        tags: &BTreeMap<Spanned<String>, Spanned<types::TagValue>>,
        path: &str,
    ) -> Tags {
        let mut out = Tags::new();
        for (key, value) in tags {
            let key_path = format!("{path}.{}", key.value);
            let lower = key.value.to_ascii_lowercase();
            if lower.starts_with("aws:") || lower.starts_with("secinfra:") {
                self.error(
                    key.span,
                    key_path.clone(),
                    format!("tag key `{}` is reserved", key.value),
                )
                .help = Some(
                    "keys starting with `aws:` belong to AWS and `secinfra:` to secinfra".into(),
                );
            }
            // Lengths and characters depend on the services the tag reaches (`check_tags`).
            self.declared_tags.push(DeclaredTag {
                key: key.clone(),
                value: Spanned::new(value.value.0.clone(), value.span),
                path: key_path,
            });
            out.insert(key.value.clone(), value.value.0.clone());
        }
        out
    }

    fn check_name(&mut self, name: &Spanned<String>, path: &str, what: &str) {
        if let Err(problem) = naming::check_resource_name(&name.value) {
            self.error(name.span, path, format!("invalid {what} name `{}`: {problem}", name.value))
                .help = Some("use 1-40 lowercase letters, digits and hyphens, not starting or ending with a hyphen".into());
        }
    }

    fn retention(&mut self, days: &Spanned<i64>, path: &str) -> Option<i32> {
        if LOG_RETENTION_DAYS.contains(&days.value) {
            return Some(days.value as i32);
        }
        let nearest = LOG_RETENTION_DAYS
            .iter()
            .min_by_key(|d| (*d - days.value).abs())
            .copied()
            .unwrap_or(90);
        self.error(
            days.span,
            path,
            format!("CloudWatch Logs cannot keep logs for {} days", days.value),
        )
        .help = Some(format!(
            "the nearest allowed value is {nearest}; allowed: {}",
            LOG_RETENTION_DAYS
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
        None
    }

    fn check_graph(&mut self) {
        let deps = graph::dependencies(&self.resources);
        if let Err(cycle) = graph::creation_order(&deps) {
            let names: Vec<String> = cycle.iter().map(Address::to_string).collect();
            self.diagnostics.push(
                Diagnostic::error(format!("dependency cycle between {}", names.join(", ")))
                    .with_file(&self.source.name)
                    .with_help("break the cycle: one of these resources must not need the others to exist first"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::blueprint::{Source, Target, load_source};
    use crate::testing::SEED;

    /// The names secinfra derives (roles, aliases, WAF, metric filters, alarms) fit AWS's
    /// limits for the longest stack name the seed's cache identifier allows
    /// (`<stack>-sessions`, at most 40 characters), in the region with the longest name.
    #[test]
    fn derived_names_fit_aws_limits_at_their_longest() {
        let stack = "a".repeat(31);
        let text = SEED.replace("api-platform", &stack);
        let loaded = load_source(Source::from_string("seed.yaml", text), None).expect("loads");
        let validated = loaded.validate(&Target {
            region: Some("ap-southeast-3".into()),
            account: Some("123456789012".into()),
        });
        if let Err(diagnostics) = validated {
            panic!("{}", diagnostics.render(false));
        }
    }
}
