//! IAM roles secinfra creates for AWS services (the flow-log delivery role now).
//! A stack's roles live under the path `/secinfra/<region>/<stack>/`, so one ListRoles
//! call finds them all; each role's tags and its one inline policy (`secinfra`) are read
//! as its properties. A declared role name that exists elsewhere is reported unmanaged.

use std::collections::BTreeSet;

use crate::aws::pages::bounded;

use super::AwsContext;
use super::error::{AwsError, AwsResult, absent_if_not_found, not_managed};
use super::provider::{Created, Delete, Ids, Provider, Scope, Update};
use super::tags::sdk_tags;
use super::tags::{address_for, from_pairs, is_stack_tagged, sync_tags};
use crate::model::{
    Address, Desired, IamRoleProps, Kind, LiveResource, Props, Resource, Tags, changed,
};
use crate::naming;

/// The inline policy secinfra manages on each of its roles.
const POLICY_NAME: &str = "secinfra";

crate::provider!(Iam, "iam", iam: aws_sdk_iam);

#[async_trait::async_trait]
impl Provider for Iam {
    async fn discover(&self, scope: &Scope<'_>) -> AwsResult<Vec<LiveResource>> {
        let (ctx, desired) = (scope.ctx, scope.desired);
        let path = naming::role_path(&ctx.stack, &ctx.region);
        let roles =
            crate::all_pages!(ctx.iam().list_roles().path_prefix(&path), "iam:ListRoles").await?;
        let mut found: Vec<(String, String, String, String)> = roles
            .iter()
            .filter(|r| r.path() == path)
            .map(|r| {
                (
                    r.role_name().to_string(),
                    r.arn().to_string(),
                    r.path().to_string(),
                    r.assume_role_policy_document()
                        .unwrap_or_default()
                        .to_string(),
                )
            })
            .collect();
        let listed: BTreeSet<String> = found.iter().map(|r| r.0.clone()).collect();
        for resource in desired.resources.values() {
            let Props::IamRole(p) = &resource.props else {
                continue;
            };
            if listed.contains(&p.name) {
                continue;
            }
            let role = absent_if_not_found(crate::call!(
                ctx.iam().get_role().role_name(&p.name),
                "iam:GetRole"
            ))?;
            if let Some(role) = role.as_ref().and_then(|r| r.role()) {
                found.push((
                    role.role_name().to_string(),
                    role.arn().to_string(),
                    role.path().to_string(),
                    role.assume_role_policy_document()
                        .unwrap_or_default()
                        .to_string(),
                ));
            }
        }
        bounded(
            found
                .into_iter()
                .map(|(name, arn, path, trust)| async move {
                    let (tags, policy) =
                        tokio::try_join!(role_tags(ctx, &name), inline_policy(ctx, &name))?;
                    let stack_tagged = is_stack_tagged(&tags, &ctx.stack);
                    let address = if stack_tagged {
                        address_for(Kind::IamRole, &tags, &name)
                    } else {
                        declared_address(desired, &name)
                            .unwrap_or_else(|| address_for(Kind::IamRole, &tags, &name))
                    };
                    Ok::<_, AwsError>(LiveResource {
                        address,
                        id: name.clone(),
                        arn: Some(arn),
                        props: Props::IamRole(IamRoleProps {
                            name,
                            path,
                            assume_role_policy: parse_policy(&trust),
                            policy,
                        }),
                        tags,
                        unmanaged: !stack_tagged,
                        unobserved: Default::default(),
                        pending: Vec::new(),
                    })
                }),
        )
        .await
    }

    async fn create(&self, ctx: &AwsContext, resource: &Resource, _: &Ids) -> AwsResult<Created> {
        let Props::IamRole(props) = &resource.props else {
            return Err(not_managed("iam", &resource.address));
        };
        let out = crate::call!(
            ctx.iam()
                .create_role()
                .role_name(&props.name)
                .path(&props.path)
                .assume_role_policy_document(props.assume_role_policy.to_string())
                .set_tags(Some(sdk_tags!(
                    aws_sdk_iam::types::Tag,
                    resource.tags,
                    "iam"
                )?)),
            "iam:CreateRole"
        )?;
        put_policy(ctx, &props.name, &props.policy).await?;
        Ok(Created {
            id: props.name.clone(),
            arn: out.role().map(|r| r.arn().to_string()),
        })
    }

    async fn update(&self, ctx: &AwsContext, change: Update<'_>) -> AwsResult<()> {
        let (live, desired, diffs) = (change.live, change.desired, change.diffs);
        let Props::IamRole(props) = &desired.props else {
            return Err(not_managed("iam", &desired.address));
        };
        if changed(diffs, "assume_role_policy") {
            crate::call!(
                ctx.iam()
                    .update_assume_role_policy()
                    .role_name(&live.id)
                    .policy_document(props.assume_role_policy.to_string()),
                "iam:UpdateAssumeRolePolicy"
            )?;
        }
        if changed(diffs, "policy") {
            put_policy(ctx, &live.id, &props.policy).await?;
        }
        if changed(diffs, "tags") {
            sync_tags!(
                &live.tags,
                &desired.tags,
                tag(set) => ctx.iam().tag_role().role_name(&live.id).set_tags(Some(sdk_tags!(aws_sdk_iam::types::Tag, set, "iam")?)),
                "iam:TagRole",
                untag(keys) => ctx.iam().untag_role().role_name(&live.id).set_tag_keys(Some(keys)),
                "iam:UntagRole",
            )
            .await?;
        }
        Ok(())
    }

    async fn delete(&self, ctx: &AwsContext, gone: Delete<'_>) -> AwsResult<()> {
        let live = gone.live;
        absent_if_not_found(crate::call!(
            ctx.iam()
                .delete_role_policy()
                .role_name(&live.id)
                .policy_name(POLICY_NAME),
            "iam:DeleteRolePolicy"
        ))?;
        crate::call!(
            ctx.iam().delete_role().role_name(&live.id),
            "iam:DeleteRole"
        )?;
        Ok(())
    }
}

fn declared_address(desired: &Desired, name: &str) -> Option<Address> {
    desired.resources.values().find_map(|r| match &r.props {
        Props::IamRole(p) if p.name == name => Some(r.address.clone()),
        _ => None,
    })
}

fn parse_policy(document: &str) -> serde_json::Value {
    if document.is_empty() {
        return serde_json::Value::Null;
    }
    crate::policy::parse(document)
        .unwrap_or_else(|_| serde_json::Value::String(document.to_string()))
}

async fn role_tags(ctx: &AwsContext, name: &str) -> Result<Tags, AwsError> {
    let tags = crate::all_pages!(
        ctx.iam().list_role_tags().role_name(name),
        "iam:ListRoleTags"
    )
    .await?;
    Ok(from_pairs(
        tags.iter().map(|t| (Some(t.key()), Some(t.value()))),
    ))
}

async fn inline_policy(ctx: &AwsContext, name: &str) -> Result<serde_json::Value, AwsError> {
    let out = absent_if_not_found(crate::call!(
        ctx.iam()
            .get_role_policy()
            .role_name(name)
            .policy_name(POLICY_NAME),
        "iam:GetRolePolicy"
    ))?;
    Ok(out.map_or(serde_json::Value::Null, |o| {
        parse_policy(o.policy_document())
    }))
}

async fn put_policy(
    ctx: &AwsContext,
    role: &str,
    policy: &serde_json::Value,
) -> Result<(), AwsError> {
    if policy.is_null() {
        absent_if_not_found(crate::call!(
            ctx.iam()
                .delete_role_policy()
                .role_name(role)
                .policy_name(POLICY_NAME),
            "iam:DeleteRolePolicy"
        ))?;
        return Ok(());
    }
    crate::call!(
        ctx.iam()
            .put_role_policy()
            .role_name(role)
            .policy_name(POLICY_NAME)
            .policy_document(policy.to_string()),
        "iam:PutRolePolicy"
    )?;
    Ok(())
}
