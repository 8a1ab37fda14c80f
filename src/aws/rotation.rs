//! The AWS side of eradication: rotating a stack's secrets and keys now, out of their
//! schedule (`secinfra respond rotate-secrets`, `rotate-key`). Only resources carrying the
//! stack's tag are touched; no value is ever read.

use std::collections::BTreeMap;

use aws_smithy_types::date_time::Format;

use super::AwsContext;
use super::error::{AwsError, AwsResult, ErrorKind};
use crate::model::{Address, TAG_STACK};

crate::sdk_client!(lambda: aws_sdk_lambda);

/// A secret as rotation needs to see it.
#[derive(Clone, Debug)]
pub struct SecretState {
    pub arn: String,
    pub stack_tagged: bool,
    pub rotation_enabled: bool,
    /// The rotation function's ARN.
    pub rotation_lambda: Option<String>,
    /// Version id → its staging labels (`AWSCURRENT`, `AWSPENDING`, `AWSPREVIOUS`).
    pub versions: BTreeMap<String, Vec<String>>,
    /// When it last rotated (RFC 3339).
    pub last_rotated: Option<String>,
}

impl SecretState {
    /// Whether `version` has become the current one.
    pub fn is_current(&self, version: &str) -> bool {
        self.versions
            .get(version)
            .is_some_and(|stages| stages.iter().any(|s| s == "AWSCURRENT"))
    }
}

/// The secret named `name`, or `None` when there is none.
pub async fn describe_secret(
    ctx: &AwsContext,
    address: &Address,
    name: &str,
) -> AwsResult<Option<SecretState>> {
    let described = crate::call!(
        ctx.secrets().describe_secret().secret_id(name),
        "secretsmanager:DescribeSecret"
    )
    .map_err(|e| e.at(address));
    let out = match described {
        Ok(out) => out,
        Err(e) if e.is(ErrorKind::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(Some(SecretState {
        arn: out.arn().unwrap_or(name).to_string(),
        stack_tagged: out
            .tags()
            .iter()
            .any(|t| t.key() == Some(TAG_STACK) && t.value() == Some(ctx.stack.as_str())),
        rotation_enabled: out.rotation_enabled().unwrap_or(false),
        rotation_lambda: out.rotation_lambda_arn().map(str::to_string),
        versions: out
            .version_ids_to_stages()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        last_rotated: out
            .last_rotated_date()
            .and_then(|d| d.fmt(Format::DateTime).ok()),
    }))
}

/// Starts a rotation now with the secret's own function and schedule; the id of the
/// version it makes. AWS rotates asynchronously: the version becomes `AWSCURRENT` when
/// the function's last step finishes. The function is named again though AWS keeps the
/// configured one when it is omitted: an endpoint that clears it then (moto 5.2.5) would
/// leave the secret without rotation.
pub async fn rotate_secret(
    ctx: &AwsContext,
    address: &Address,
    secret: &SecretState,
) -> AwsResult<String> {
    let out = crate::call!(
        ctx.secrets()
            .rotate_secret()
            .secret_id(&secret.arn)
            .set_rotation_lambda_arn(secret.rotation_lambda.clone())
            .rotate_immediately(true)
            .client_request_token(uuid::Uuid::new_v4().to_string()),
        "secretsmanager:RotateSecret"
    )
    .map_err(|e| e.at(address))?;
    out.version_id().map(str::to_string).ok_or_else(|| {
        AwsError::new(
            "secretsmanager:RotateSecret",
            ErrorKind::Unreadable,
            "the answer named no new version",
        )
        .at(address)
    })
}

/// A key as on-demand rotation needs to see it.
#[derive(Clone, Debug)]
pub struct KeyState {
    pub id: String,
    pub arn: String,
    pub stack_tagged: bool,
}

/// The key an alias points at, or `None` when the alias does not exist.
pub async fn describe_key(
    ctx: &AwsContext,
    address: &Address,
    alias: &str,
) -> AwsResult<Option<KeyState>> {
    let described = crate::call!(ctx.kms().describe_key().key_id(alias), "kms:DescribeKey")
        .map_err(|e| e.at(address));
    let metadata = match described {
        Ok(out) => match out.key_metadata {
            Some(metadata) => metadata,
            None => return Ok(None),
        },
        Err(e) if e.is(ErrorKind::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    let tags = crate::call!(
        ctx.kms().list_resource_tags().key_id(metadata.key_id()),
        "kms:ListResourceTags"
    )
    .map_err(|e| e.at(address))?;
    Ok(Some(KeyState {
        id: metadata.key_id().to_string(),
        arn: metadata.arn().unwrap_or_default().to_string(),
        stack_tagged: tags
            .tags()
            .iter()
            .any(|t| t.tag_key() == TAG_STACK && t.tag_value() == ctx.stack),
    }))
}

/// Starts an on-demand rotation of the key's material ("RotateKeyOnDemand",
/// https://docs.aws.amazon.com/kms/latest/APIReference/API_RotateKeyOnDemand.html).
pub async fn rotate_key(ctx: &AwsContext, address: &Address, key_id: &str) -> AwsResult<()> {
    crate::call!(
        ctx.kms().rotate_key_on_demand().key_id(key_id),
        "kms:RotateKeyOnDemand"
    )
    .map_err(|e| e.at(address))?;
    Ok(())
}

/// One completed rotation of a key's material.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct KeyRotation {
    /// When (RFC 3339).
    pub date: String,
    /// `AUTOMATIC` or `ON_DEMAND`.
    pub kind: String,
}

/// Every completed rotation of the key, oldest first (ListKeyRotations, paginated).
pub async fn key_rotations(
    ctx: &AwsContext,
    address: &Address,
    key_id: &str,
) -> AwsResult<Vec<KeyRotation>> {
    let mut rotations = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = crate::call!(
            ctx.kms()
                .list_key_rotations()
                .key_id(key_id)
                .set_marker(marker.take()),
            "kms:ListKeyRotations"
        )
        .map_err(|e| e.at(address))?;
        rotations.extend(page.rotations().iter().map(|r| {
            KeyRotation {
                date: r
                    .rotation_date()
                    .and_then(|d| d.fmt(Format::DateTime).ok())
                    .unwrap_or_default(),
                kind: r
                    .rotation_type()
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_default(),
            }
        }));
        match page.next_marker() {
            Some(next) if page.truncated() => marker = Some(next.to_string()),
            _ => break,
        }
    }
    rotations.sort_by(|a, b| a.date.cmp(&b.date));
    Ok(rotations)
}
